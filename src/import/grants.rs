//! Grants found by evaluation: for each role and each prefix the live documents name, whether
//! every request of a read (the read actions, listing under the prefix, the KMS call S3 makes)
//! and of a write (the write actions, the ACL action where the bucket honours ACLs, the KMS
//! calls) is allowed through all three layers; then the fewest grants that say it, and the
//! further S3 actions the role is allowed on their objects and on the bucket.
//!
//! [`expressed`] is the other direction: whether the documents crossgrant generates for some
//! grants allow a request, read off what each access level implies (as `lower::access` builds
//! the statements).

use super::arn::RoleArn;
use super::world::{probe_object, Ask, LiveWorld, Target};
use crate::aws::{
    is_acl_action, ResourceType, KMS_READ_ACTIONS, KMS_WRITE_ACTIONS, LEGACY_ACL_ACTION,
    LIST_ACTION, READ_OBJECT_ACTIONS, S3_ACTIONS, WRITE_OBJECT_ACTIONS,
};
use crate::eval::request::Caller;
use crate::model::Access;

/// One grant of the imported scenario.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DerivedGrant {
    pub role: RoleArn,
    /// Empty: the whole bucket.
    pub prefix: String,
    pub access: Access,
    /// S3 actions beyond those the access level implies, in the table's order.
    pub actions: Vec<&'static str>,
}

/// The object actions an access level implies.
fn implied_object_actions(access: Access, acls_enabled: bool) -> Vec<&'static str> {
    let mut actions = Vec::new();
    if access.reads() {
        actions.extend(READ_OBJECT_ACTIONS);
    }
    if access.writes() {
        actions.extend(WRITE_OBJECT_ACTIONS);
        if acls_enabled {
            actions.push(LEGACY_ACL_ACTION);
        }
    }
    actions
}

fn implied_kms_actions(access: Access) -> Vec<&'static str> {
    let mut actions: Vec<&'static str> = Vec::new();
    if access.reads() {
        actions.extend(KMS_READ_ACTIONS);
    }
    if access.writes() {
        actions.extend(KMS_WRITE_ACTIONS);
    }
    actions
}

/// Whether the statements crossgrant generates for `grants` (one role's) allow `ask`. Key use
/// is generated for use through S3 only (`via_s3_only`, the key's default), and with an S3
/// Bucket Key the encryption context names the bucket, not the object.
pub(crate) fn expressed(
    grants: &[&DerivedGrant],
    ask: &Ask,
    target: &Target,
    acls_enabled: bool,
) -> bool {
    grants.iter().any(|grant| match ask {
        Ask::Object { action, key } => {
            key.starts_with(&grant.prefix)
                && (implied_object_actions(grant.access, acls_enabled).contains(action)
                    || grant.actions.contains(action))
        }
        Ask::Bucket {
            action,
            list_prefix,
        } => {
            let lists = *action == LIST_ACTION
                && grant.access.reads()
                && (grant.prefix.is_empty()
                    || list_prefix
                        .as_ref()
                        .is_some_and(|prefix| prefix.starts_with(&grant.prefix)));
            lists || grant.actions.contains(action)
        }
        Ask::Kms {
            action,
            key,
            via_s3,
        } => {
            *via_s3
                && target.customer_key
                && (target.bucket_key || key.starts_with(&grant.prefix))
                && implied_kms_actions(grant.access).contains(action)
        }
    })
}

/// The access level every request of which is allowed under `prefix`.
fn level_at(
    world: &LiveWorld,
    caller: &Caller,
    prefix: &str,
    acls_enabled: bool,
) -> Option<Access> {
    let object = probe_object(prefix);
    let allowed_object = |action| {
        world.allowed(
            caller,
            &Ask::Object {
                action,
                key: object.clone(),
            },
        )
    };
    let allowed_kms = |action| {
        world.allowed(
            caller,
            &Ask::Kms {
                action,
                key: object.clone(),
                via_s3: true,
            },
        )
    };
    let lists = world.allowed(
        caller,
        &Ask::Bucket {
            action: LIST_ACTION,
            list_prefix: (!prefix.is_empty()).then(|| prefix.to_string()),
        },
    );
    let reads = lists
        && READ_OBJECT_ACTIONS.into_iter().all(allowed_object)
        && KMS_READ_ACTIONS.into_iter().all(allowed_kms);
    let writes = WRITE_OBJECT_ACTIONS.into_iter().all(allowed_object)
        && KMS_WRITE_ACTIONS.into_iter().all(allowed_kms)
        && (!acls_enabled || allowed_object(LEGACY_ACL_ACTION));
    match (reads, writes) {
        (true, true) => Some(Access::ReadWrite),
        (true, false) => Some(Access::Read),
        (false, true) => Some(Access::Write),
        (false, false) => None,
    }
}

/// Whether some role may write under some prefix and set object ACLs there: the live bucket
/// then honours ACLs (a bucket with ACLs disabled makes `s3:PutObjectAcl` pointless).
pub(crate) fn writers_set_acls(world: &LiveWorld, roles: &[RoleArn], prefixes: &[String]) -> bool {
    roles.iter().any(|role| {
        let Some(caller) = Caller::role(role.arn.clone()) else {
            return false;
        };
        prefixes.iter().any(|prefix| {
            level_at(world, &caller, prefix, false).is_some_and(Access::writes)
                && world.allowed(
                    &caller,
                    &Ask::Object {
                        action: LEGACY_ACL_ACTION,
                        key: probe_object(prefix),
                    },
                )
        })
    })
}

/// The grants of one role: under each prefix (shortest first), a grant where the role may do
/// more than the grants on shorter prefixes already give it; then the S3 actions beyond those
/// levels it may do on each grant's objects, and on the bucket (given to its first grant).
/// A role allowed every S3 action gets no further actions: a scenario cannot name them all, and
/// the statements that allow them are kept instead.
pub(crate) fn derive(
    world: &LiveWorld,
    role: &RoleArn,
    prefixes: &[String],
    acls_enabled: bool,
) -> Vec<DerivedGrant> {
    let Some(caller) = Caller::role(role.arn.clone()) else {
        return Vec::new();
    };
    let mut grants: Vec<DerivedGrant> = Vec::new();
    for prefix in prefixes {
        let Some(level) = level_at(world, &caller, prefix, acls_enabled) else {
            continue;
        };
        let covered = grants
            .iter()
            .filter(|grant| prefix.starts_with(&grant.prefix))
            .map(|grant| grant.access)
            .reduce(Access::union);
        let adds = covered.is_none_or(|covered| {
            (level.reads() && !covered.reads()) || (level.writes() && !covered.writes())
        });
        if adds {
            grants.push(DerivedGrant {
                role: role.clone(),
                prefix: prefix.clone(),
                access: level,
                actions: Vec::new(),
            });
        }
    }
    if grants.is_empty() {
        return grants;
    }
    let wanted = |action: &str| acls_enabled || !is_acl_action(action);
    for index in 0..grants.len() {
        let object = probe_object(&grants[index].prefix);
        let mut extra = Vec::new();
        for (action, resource_type) in S3_ACTIONS {
            if resource_type != ResourceType::Object || !wanted(action) {
                continue;
            }
            let ask = Ask::Object {
                action,
                key: object.clone(),
            };
            let given: Vec<&DerivedGrant> = grants.iter().collect();
            if world.allowed(&caller, &ask) && !expressed(&given, &ask, world.target, acls_enabled)
            {
                extra.push(action);
            }
        }
        grants[index].actions = extra;
    }
    let mut bucket_extra = Vec::new();
    for (action, resource_type) in S3_ACTIONS {
        if resource_type != ResourceType::Bucket || !wanted(action) {
            continue;
        }
        let ask = Ask::Bucket {
            action,
            list_prefix: None,
        };
        let given: Vec<&DerivedGrant> = grants.iter().collect();
        if world.allowed(&caller, &ask) && !expressed(&given, &ask, world.target, acls_enabled) {
            bucket_extra.push(action);
        }
    }
    grants[0].actions.extend(bucket_extra);
    let given: Vec<&DerivedGrant> = grants.iter().collect();
    let everything =
        S3_ACTIONS
            .iter()
            .filter(|(action, _)| wanted(action))
            .all(|(action, resource_type)| {
                let ask = match resource_type {
                    ResourceType::Object => Ask::Object {
                        action,
                        key: probe_object(&given[0].prefix),
                    },
                    _ => Ask::Bucket {
                        action,
                        list_prefix: None,
                    },
                };
                expressed(&given, &ask, world.target, acls_enabled)
            });
    if everything {
        for grant in &mut grants {
            grant.actions.clear();
        }
    }
    grants
}

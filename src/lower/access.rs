//! What each role may do on each bucket, all of its grants merged, and the S3 statements that
//! say it: the same bodies serve the owner's bucket policy and the consumer's identity policy.

use crate::aws::{
    self, condition_key, KMS_READ_ACTIONS, KMS_WRITE_ACTIONS, LEGACY_ACL_ACTION, LIST_ACTION,
    READ_OBJECT_ACTIONS, WRITE_OBJECT_ACTIONS,
};
use crate::model::{Access, Bucket, Grant, Scenario};
use crate::policy::{Name, Statement, Value};
use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// The S3 and KMS permissions one role holds on one bucket, all of its grants merged.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct BucketAccess {
    /// Object actions by key prefix ("" = the whole bucket).
    pub object_actions: BTreeMap<String, BTreeSet<String>>,
    /// The access level granted under each prefix of `object_actions`.
    pub levels: BTreeMap<String, Access>,
    /// Prefixes `s3:ListBucket` is limited to; `None` when the role may list the whole bucket,
    /// `Some(empty)` when it may not list at all.
    pub list_prefixes: Option<BTreeSet<String>>,
    pub bucket_actions: BTreeSet<String>,
    pub kms_actions: BTreeSet<String>,
    /// The VPC endpoints the role's S3 requests must come through (every grant of the pair
    /// names the same ones); empty for anywhere.
    pub vpc_endpoints: Vec<String>,
}

impl BucketAccess {
    pub fn may_list(&self) -> bool {
        self.list_prefixes
            .as_ref()
            .is_none_or(|prefixes| !prefixes.is_empty())
    }
}

/// The object ARN pattern for a prefix of a bucket.
pub fn object_arn(bucket: &Bucket, prefix: &str) -> String {
    format!("{}/{}*", bucket.arn(), prefix)
}

/// Every (role, bucket) pair with its merged access, in a stable order.
pub fn bucket_access(scenario: &Scenario) -> BTreeMap<(Name, Name), BucketAccess> {
    // Keyed by borrowed names while grants are merged, and actions copied only when new: a
    // pair usually has several grants, and grants repeat the same few actions.
    let mut out: BTreeMap<(&str, &str), BucketAccess> = BTreeMap::new();
    for grant in &scenario.grants {
        let bucket = &scenario.buckets[&grant.bucket];
        let entry = out
            .entry((&grant.role, &grant.bucket))
            .or_insert_with(|| BucketAccess {
                list_prefixes: Some(BTreeSet::new()),
                ..BucketAccess::default()
            });
        if entry.vpc_endpoints != grant.vpc_endpoints {
            entry.vpc_endpoints.clone_from(&grant.vpc_endpoints);
        }
        if !entry.object_actions.contains_key(&grant.prefix) {
            entry
                .object_actions
                .insert(grant.prefix.clone(), BTreeSet::new());
        }
        match entry.levels.get_mut(&grant.prefix) {
            Some(level) => *level = level.union(grant.access),
            None => {
                entry.levels.insert(grant.prefix.clone(), grant.access);
            }
        }
        let objects = entry
            .object_actions
            .get_mut(&grant.prefix)
            .expect("inserted above");
        for action in grant_object_actions(grant, bucket) {
            insert_action(objects, action);
        }
        if grant.access.reads() {
            if grant.prefix.is_empty() {
                entry.list_prefixes = None;
            } else if let Some(prefixes) = &mut entry.list_prefixes {
                insert_action(prefixes, &grant.prefix);
            }
        }
        for action in &grant.extra_actions {
            if aws::is_bucket_level(action) {
                insert_action(&mut entry.bucket_actions, action);
            }
        }
        if bucket.key().is_some() {
            if grant.access.reads() {
                for action in KMS_READ_ACTIONS {
                    insert_action(&mut entry.kms_actions, action);
                }
            }
            if grant.access.writes() {
                for action in KMS_WRITE_ACTIONS {
                    insert_action(&mut entry.kms_actions, action);
                }
            }
        }
    }
    out.into_iter()
        .map(|((role, bucket), mut access)| {
            access
                .object_actions
                .retain(|_, actions| !actions.is_empty());
            ((role.to_string(), bucket.to_string()), access)
        })
        .collect()
}

fn insert_action(actions: &mut BTreeSet<String>, action: &str) {
    if !actions.contains(action) {
        actions.insert(action.to_string());
    }
}

fn grant_object_actions<'a>(grant: &'a Grant, bucket: &Bucket) -> impl Iterator<Item = &'a str> {
    let reads: &[&str] = if grant.access.reads() {
        &READ_OBJECT_ACTIONS
    } else {
        &[]
    };
    let writes: &[&str] = if grant.access.writes() {
        &WRITE_OBJECT_ACTIONS
    } else {
        &[]
    };
    let acl = (grant.access.writes() && bucket.object_ownership.acls_enabled())
        .then_some(LEGACY_ACL_ACTION);
    let extra = grant
        .extra_actions
        .iter()
        .map(String::as_str)
        .filter(|action| !aws::is_bucket_level(action));
    reads.iter().chain(writes).copied().chain(acl).chain(extra)
}

fn prefix_condition(statement: Statement, prefixes: &BTreeSet<String>) -> Statement {
    statement.condition(
        "StringLike",
        condition_key::S3_PREFIX,
        prefixes
            .iter()
            .map(|prefix| Value::lit(format!("{prefix}*"))),
    )
}

/// A statement without a Sid, the Sid to be made of a base (the role or bucket) and this
/// suffix.
pub(super) type SidSuffixed = (Cow<'static, str>, Statement);

/// What a role's S3 statements on a bucket name: the bucket itself, or the access point of
/// the role's account when the bucket has access points.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct S3Target {
    /// The ARN list requests name (the bucket's, or the access point's).
    pub bucket: String,
    /// What object ARNs start with (`<bucket ARN>/`, or `<access point ARN>/object/`).
    pub object_base: String,
}

impl S3Target {
    pub fn of(scenario: &Scenario, bucket: &Bucket, role_account: &str) -> S3Target {
        let owner = &scenario.account(&bucket.account).id;
        match bucket.access_point_arn(owner, role_account) {
            Some(access_point) => S3Target {
                object_base: format!("{access_point}/object/"),
                bucket: access_point,
            },
            None => S3Target {
                object_base: format!("{}/", bucket.arn()),
                bucket: bucket.arn(),
            },
        }
    }

    /// The object ARN pattern for a prefix.
    pub fn objects(&self, prefix: &str) -> String {
        format!("{}{prefix}*", self.object_base)
    }
}

/// The S3 statements one role needs on one bucket, without a principal (identity policy) or
/// before one is added (bucket policy), nor a Sid: the Sids end in `Objects`, `List`, `Bucket`.
fn s3_statements(target: &S3Target, access: &BucketAccess) -> Vec<SidSuffixed> {
    // Every S3 statement of a grant that requires VPC endpoints holds only for requests
    // that came through one of them.
    let unnamed = |statement: Statement| {
        let statement = Statement {
            sid: None,
            ..statement
        };
        if access.vpc_endpoints.is_empty() {
            statement
        } else {
            statement.condition(
                "StringEquals",
                condition_key::SOURCE_VPCE,
                access.vpc_endpoints.iter().map(Value::lit),
            )
        }
    };
    let mut statements = Vec::new();
    let mut by_actions: BTreeMap<&BTreeSet<String>, Vec<Value>> = BTreeMap::new();
    for (prefix, actions) in &access.object_actions {
        by_actions
            .entry(actions)
            .or_default()
            .push(Value::lit(target.objects(prefix)));
    }
    for (index, (actions, resources)) in by_actions.into_iter().enumerate() {
        let suffix = match index {
            0 => Cow::Borrowed("Objects"),
            n => Cow::Owned(format!("Objects{}", n + 1)),
        };
        statements.push((
            suffix,
            unnamed(
                Statement::allow("")
                    .actions(actions.iter().cloned())
                    .resources(resources),
            ),
        ));
    }
    let bucket_arn = Value::lit(target.bucket.clone());
    match &access.list_prefixes {
        None => {
            let actions: BTreeSet<String> = access
                .bucket_actions
                .iter()
                .cloned()
                .chain([LIST_ACTION.to_string()])
                .collect();
            statements.push((
                Cow::Borrowed("List"),
                unnamed(
                    Statement::allow("")
                        .actions(actions)
                        .resources([bucket_arn]),
                ),
            ));
        }
        Some(prefixes) => {
            if !prefixes.is_empty() {
                statements.push((
                    Cow::Borrowed("List"),
                    unnamed(prefix_condition(
                        Statement::allow("")
                            .actions([LIST_ACTION])
                            .resources([bucket_arn.clone()]),
                        prefixes,
                    )),
                ));
            }
            if !access.bucket_actions.is_empty() {
                statements.push((
                    Cow::Borrowed("Bucket"),
                    unnamed(
                        Statement::allow("")
                            .actions(access.bucket_actions.iter().cloned())
                            .resources([bucket_arn]),
                    ),
                ));
            }
        }
    }
    statements
}

/// The S3 statements of every (role, bucket) access, each distinct access to a bucket built
/// once: the roles of a team are usually granted alike.
pub(super) struct S3Statements {
    pub(super) built: Vec<Vec<SidSuffixed>>,
    /// Which of `built` each access holds, in the order of the accesses.
    pub(super) of_access: Vec<usize>,
}

impl S3Statements {
    pub(super) fn of(scenario: &Scenario, access: &BTreeMap<(Name, Name), BucketAccess>) -> Self {
        let mut index: HashMap<(&str, &str, &BucketAccess), usize> = HashMap::new();
        let mut built = Vec::new();
        let of_access = access
            .iter()
            .map(|((role, bucket_name), role_access)| {
                let bucket = &scenario.buckets[bucket_name];
                // Roles of one account share the access point of their account.
                let account = if bucket.access_points.is_empty() {
                    ""
                } else {
                    scenario.roles[role].account.as_str()
                };
                let next = built.len();
                let found = *index
                    .entry((bucket_name.as_str(), account, role_access))
                    .or_insert(next);
                if found == next {
                    let target = S3Target::of(scenario, bucket, &scenario.roles[role].account);
                    built.push(s3_statements(&target, role_access));
                }
                found
            })
            .collect();
        S3Statements { built, of_access }
    }
}

//! `[[grants]]`: a known role and bucket, an access level, a prefix matched literally, extra S3
//! actions that mean something on the bucket, and no AWS-managed key shared across accounts.

use super::{span, Checker, Declared};
use crate::aws::{
    is_acl_action, pattern_syntax, s3, s3_action, s3_actions_matching, split_action, S3_ACTIONS,
};
use crate::policy::Name;
use crate::scenario::diag::{Problem, Span};
use crate::scenario::model::{Access, Bucket, Encryption, Grant, Role, Trust};
use crate::scenario::schema::{RawGrant, RawScenario};
use std::collections::BTreeMap;
use toml::Spanned;

const ACCESS_CHOICES: &[&str] = &["read", "write", "read-write"];

pub(super) fn grants(
    check: &mut Checker,
    raw: &RawScenario,
    declared: &Declared,
    buckets: &BTreeMap<Name, Bucket>,
    roles: &BTreeMap<Name, Role>,
) -> Vec<Grant> {
    let mut grants = Vec::new();
    for grant in &raw.grants {
        let role_ok = check.reference("role", &grant.role, &declared.roles);
        let bucket_ok = check.reference("bucket", &grant.bucket, &declared.buckets);
        let access = match check.choice("access", &grant.access, ACCESS_CHOICES) {
            Some(1) => Access::Write,
            Some(2) => Access::ReadWrite,
            _ => Access::Read,
        };
        let prefix = match &grant.prefix {
            Some(prefix) => {
                if check.literal("prefix", prefix) {
                    if let Some(reason) = prefix_problem(prefix.get_ref()) {
                        check.report(Problem::InvalidPrefix {
                            prefix: prefix.get_ref().clone(),
                            reason,
                            span: span(prefix),
                        });
                    }
                }
                prefix.get_ref().clone()
            }
            None => String::new(),
        };
        let acls_disabled = bucket_ok
            && !buckets[grant.bucket.get_ref()]
                .object_ownership
                .acls_enabled();
        let extra_actions = actions(check, &grant.actions, grant.bucket.get_ref(), acls_disabled);
        let via = via(check, grant);
        let mut vpc_endpoints: Vec<String> = Vec::new();
        for id in &grant.vpc_endpoints {
            if super::guardrails::vpce_id(check, id) && !vpc_endpoints.contains(id.get_ref()) {
                vpc_endpoints.push(id.get_ref().clone());
            }
        }
        vpc_endpoints.sort();
        if role_ok && bucket_ok {
            let role = &roles[grant.role.get_ref()];
            let bucket = &buckets[grant.bucket.get_ref()];
            if let (Some(via_span), true) = (&via, role.account == bucket.account) {
                check.report(Problem::InvalidSetting {
                    field: "via",
                    value: "owner-role".into(),
                    reason: "is for a role of another account; this role is in the bucket's account already",
                    help: "remove `via`: the role's own identity policy grants access in its own account",
                    span: via_span.clone(),
                });
            }
            if via.is_none()
                && bucket.encryption == Encryption::AwsManaged
                && role.account != bucket.account
            {
                check.report(Problem::AwsManagedKeyCrossAccount {
                    bucket: bucket.name.clone(),
                    role: role.name.clone(),
                    owner: bucket.account.clone(),
                    consumer: role.account.clone(),
                    span: span(&grant.bucket),
                });
            }
        }
        grants.push(Grant {
            role: grant.role.get_ref().clone(),
            bucket: grant.bucket.get_ref().clone(),
            access,
            prefix,
            extra_actions,
            via_consumer: via.map(|_| grant.role.get_ref().clone()),
            vpc_endpoints,
        });
    }
    same_endpoints(check, raw, &grants);
    if raw.grants.is_empty() {
        if let Some(first_role) = raw.roles.keys().next() {
            check.report(Problem::NoGrants {
                span: span(first_role),
            });
        }
    }
    grants
}

/// The grants of one role on one bucket name the same VPC endpoints: the bucket policy and the
/// identity policy say once per bucket what the role may do there, and from where.
fn same_endpoints(check: &mut Checker, raw: &RawScenario, grants: &[Grant]) {
    let mut first: BTreeMap<(&str, &str), &Vec<String>> = BTreeMap::new();
    for (grant, written) in grants.iter().zip(&raw.grants) {
        let key = (grant.role.as_str(), grant.bucket.as_str());
        match first.get(&key) {
            Some(endpoints) if **endpoints != grant.vpc_endpoints => {
                check.report(Problem::InvalidSetting {
                    field: "vpc_endpoints",
                    value: grant.vpc_endpoints.join(", "),
                    reason: "differs from the vpc_endpoints another grant of this role on this bucket names",
                    help: "give every grant of a role on one bucket the same vpc_endpoints: the policies say once per bucket where the role's requests may come from",
                    span: written
                        .vpc_endpoints
                        .first()
                        .map_or_else(|| span(&written.role), span),
                });
            }
            Some(_) => {}
            None => {
                first.insert(key, &grant.vpc_endpoints);
            }
        }
    }
}

const VIA_CHOICES: &[&str] = &["owner-role"];

/// Where a grant says it goes through an access role in the bucket's account, if it does;
/// `access_role` and `external_id` belong to such a grant only, and are checked here.
fn via(check: &mut Checker, grant: &RawGrant) -> Option<Span> {
    let via = grant
        .via
        .as_ref()
        .filter(|via| check.choice("via", via, VIA_CHOICES).is_some())
        .map(span);
    for (field, value) in [
        ("access_role", &grant.access_role),
        ("external_id", &grant.external_id),
    ] {
        if let (Some(value), None) = (value, &grant.via) {
            check.report(Problem::InvalidSetting {
                field,
                value: value.get_ref().clone(),
                reason:
                    "names a part of an access role, but the grant has no `via = \"owner-role\"`",
                help: "add via = \"owner-role\" to the grant, or remove the field",
                span: span(value),
            });
        }
    }
    if let Some(name) = &grant.access_role {
        check.role_name("access role name", name);
    }
    if let Some(id) = &grant.external_id {
        let text = id.get_ref();
        let valid = (2..=1224).contains(&text.chars().count())
            && text
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "_+=,.@:/-".contains(c));
        if !valid {
            check.report(Problem::InvalidSetting {
                field: "external_id",
                value: text.clone(),
                reason: "is not an external id STS accepts",
                help: "use 2 to 1,224 characters of letters, digits and `_+=,.@:/-`",
                span: span(id),
            });
        }
    }
    via
}

/// Each grant `via = "owner-role"` turned into a grant of an access role in the bucket's
/// account: the access role (one per consumer role and account, named as the grant says or
/// after the consumer) is added to `roles`, trusting the consumer role, and the grant names it.
pub(super) fn access_roles(
    check: &mut Checker,
    raw: &RawScenario,
    roles: &mut BTreeMap<Name, Role>,
    buckets: &BTreeMap<Name, Bucket>,
    grants: &mut [Grant],
) {
    let mut made: BTreeMap<(Name, Name), (Name, Option<String>)> = BTreeMap::new();
    for (grant, written) in grants.iter_mut().zip(&raw.grants) {
        let Some(consumer) = grant.via_consumer.clone() else {
            continue;
        };
        let (Some(consumer_role), Some(bucket)) =
            (roles.get(&consumer), buckets.get(&grant.bucket))
        else {
            continue;
        };
        let owner = bucket.account.clone();
        let role_name = match &written.access_role {
            Some(name) => name.get_ref().clone(),
            None => {
                let mut base = consumer_role.role_name.clone();
                base.truncate(64 - ACCESS_ROLE_SUFFIX.len());
                format!("{base}{ACCESS_ROLE_SUFFIX}")
            }
        };
        let external_id = written.external_id.as_ref().map(|id| id.get_ref().clone());
        let key = (consumer.clone(), owner.clone());
        let table = format!("{consumer}-access-{owner}");
        let place = written
            .via
            .as_ref()
            .map_or_else(|| span(&written.role), span);
        match made.get(&key) {
            Some((first_name, first_id)) => {
                if *first_name != role_name || *first_id != external_id {
                    check.report(Problem::InvalidSetting {
                        field: "access_role",
                        value: role_name.clone(),
                        reason: "differs from the access role or external id another grant of this role gives it in the same account",
                        help: "a consumer role has one access role per account: give its grants on buckets of that account the same access_role and external_id",
                        span: place,
                    });
                }
            }
            None => {
                let clash = roles.iter().find(|(name, role)| {
                    **name == table
                        || (role.account == owner
                            && role.role_name.eq_ignore_ascii_case(&role_name))
                });
                if let Some((other, _)) = clash {
                    check.report(Problem::Duplicate {
                        what: "access role",
                        value: role_name.clone(),
                        first: other.clone(),
                        span: place,
                    });
                }
                made.insert(key, (role_name.clone(), external_id.clone()));
                roles.insert(
                    table.clone(),
                    Role {
                        name: table.clone(),
                        account: owner,
                        role_name,
                        path: "/".into(),
                        trust: Trust::Role {
                            consumer: consumer.clone(),
                            external_id,
                        },
                        instance_profile: false,
                        managed_policy_arns: Vec::new(),
                        tags: consumer_role.tags.clone(),
                        existing: false,
                        permission_set: None,
                        permissions_boundary: None,
                    },
                );
            }
        }
        grant.role = table;
    }
}

/// What a consumer role's name gets to name its access role, unless the grant names it.
const ACCESS_ROLE_SUFFIX: &str = "-access";

fn prefix_problem(prefix: &str) -> Option<&'static str> {
    if prefix.starts_with('/') {
        Some("starts with `/`, but S3 object keys do not")
    } else if prefix.chars().any(char::is_control) {
        Some("contains a control character")
    } else if prefix.len() > 512 {
        Some("is longer than 512 characters")
    } else if !prefix.ends_with('/') {
        Some("does not end with `/`, so it would also match keys of sibling folders")
    } else {
        None
    }
}

/// The S3 actions a grant names beyond its access level, each one of [`S3_ACTIONS`] in the
/// table's spelling: a pattern is replaced by the actions it matches, so lowering knows the
/// resource type of every one.
fn actions(
    check: &mut Checker,
    named: &[Spanned<String>],
    bucket: &str,
    acls_disabled: bool,
) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut add = |action: &str| {
        if !out.iter().any(|known| known == action) {
            out.push(action.to_string());
        }
    };
    for action in named {
        let text = action.get_ref();
        let invalid = |reason| Problem::InvalidAction {
            action: text.clone(),
            reason,
            span: span(action),
        };
        let Some((s3::SERVICE, name)) = split_action(text) else {
            check.report(invalid("is not an S3 action (it must start with `s3:`)"));
            continue;
        };
        if name.is_empty()
            || !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "*?".contains(c))
        {
            check.report(invalid("is not a well-formed action name"));
            continue;
        }
        if pattern_syntax(text).is_none() {
            match s3_action(text) {
                Some((known, _)) if acls_disabled && is_acl_action(known) => {
                    check.report(Problem::AclsDisabled {
                        bucket: bucket.to_string(),
                        action: text.clone(),
                        span: span(action),
                    });
                }
                Some((known, _)) => add(known),
                None => check.report(Problem::UnknownAction {
                    action: text.clone(),
                    suggestion: closest_action(text),
                    span: span(action),
                }),
            }
            continue;
        }
        let matched: Vec<&str> = s3_actions_matching(text).map(|(known, _)| known).collect();
        if matched.len() == S3_ACTIONS.len() {
            check.report(invalid(
                "would grant every S3 action; name the actions the role needs",
            ));
        } else if matched.is_empty() {
            check.report(invalid("matches no S3 action on a bucket or its objects"));
        } else {
            matched.into_iter().for_each(&mut add);
        }
    }
    out
}

/// The action of [`S3_ACTIONS`] a misspelt one most likely meant.
fn closest_action(action: &str) -> Option<&'static str> {
    let action = action.to_ascii_lowercase();
    S3_ACTIONS
        .iter()
        .map(|(known, _)| {
            (
                strsim::levenshtein(&action, &known.to_ascii_lowercase()),
                *known,
            )
        })
        .filter(|(distance, _)| *distance <= 3)
        .min()
        .map(|(_, known)| known)
}

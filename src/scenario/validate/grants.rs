//! `[[grants]]`: a known role and bucket, an access level, a prefix matched literally, extra S3
//! actions that mean something on the bucket, and no AWS-managed key shared across accounts.

use super::{span, Checker, Declared};
use crate::aws::{
    is_acl_action, pattern_syntax, s3, s3_action, s3_actions_matching, split_action, S3_ACTIONS,
};
use crate::policy::Name;
use crate::scenario::diag::Problem;
use crate::scenario::model::{Access, Bucket, Encryption, Grant, Role};
use crate::scenario::schema::RawScenario;
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
        if role_ok && bucket_ok {
            let role = &roles[grant.role.get_ref()];
            let bucket = &buckets[grant.bucket.get_ref()];
            if bucket.encryption == Encryption::AwsManaged && role.account != bucket.account {
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
        });
    }
    if raw.grants.is_empty() {
        if let Some(first_role) = raw.roles.keys().next() {
            check.report(Problem::NoGrants {
                span: span(first_role),
            });
        }
    }
    grants
}

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

//! `[[grants]]`: a known role and bucket, an access level, a prefix matched literally, extra S3
//! actions that mean something on the bucket, and no AWS-managed key shared across accounts.

use super::{span, Checker, Declared};
use crate::aws::{s3, split_action};
use crate::policy::Name;
use crate::scenario::diag::Problem;
use crate::scenario::model::{Access, Bucket, Encryption, Grant, Role};
use crate::scenario::schema::RawScenario;
use std::collections::BTreeMap;

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
                if let Some(reason) = prefix_problem(prefix.get_ref()) {
                    check.report(Problem::InvalidPrefix {
                        prefix: prefix.get_ref().clone(),
                        reason,
                        span: span(prefix),
                    });
                }
                prefix.get_ref().clone()
            }
            None => String::new(),
        };
        for action in &grant.actions {
            if let Some(reason) = action_problem(action.get_ref()) {
                check.report(Problem::InvalidAction {
                    action: action.get_ref().clone(),
                    reason,
                    span: span(action),
                });
            } else if bucket_ok
                && action.get_ref().contains("Acl")
                && !buckets[grant.bucket.get_ref()]
                    .object_ownership
                    .acls_enabled()
            {
                check.report(Problem::AclsDisabled {
                    bucket: grant.bucket.get_ref().clone(),
                    action: action.get_ref().clone(),
                    span: span(action),
                });
            }
        }
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
            extra_actions: grant.actions.iter().map(|a| a.get_ref().clone()).collect(),
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
    } else if prefix.contains(['*', '?']) {
        Some("contains a wildcard; prefixes are matched literally")
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

fn action_problem(action: &str) -> Option<&'static str> {
    let Some((s3::SERVICE, name)) = split_action(action) else {
        return Some("is not an S3 action (it must start with `s3:`)");
    };
    if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '*') {
        return Some("is not a well-formed action name");
    }
    if name.contains('*') && name.chars().all(|c| c == '*') {
        return Some("would grant every S3 action; name the actions the role needs");
    }
    None
}

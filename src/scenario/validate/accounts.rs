//! `[accounts.*]`: twelve-digit ids used once, CLI profiles, deploy roles, the role paths the
//! scenario declares every role under, and the artifact bucket of large templates.

use super::{in_source_order, span, Checker};
use crate::policy::Name;
use crate::scenario::diag::Problem;
use crate::scenario::model::{Account, DEFAULT_DEPLOY_ROLE};
use crate::scenario::schema::RawScenario;
use std::collections::BTreeMap;

pub(super) fn accounts(
    check: &mut Checker,
    raw: &RawScenario,
    organization_role_paths: &[String],
) -> BTreeMap<Name, Account> {
    let mut accounts = BTreeMap::new();
    let mut ids: BTreeMap<String, String> = BTreeMap::new();
    for (name, account) in in_source_order(&raw.accounts) {
        let id = account.id.get_ref();
        if id.len() != 12 || !id.chars().all(|c| c.is_ascii_digit()) {
            check.report(Problem::InvalidAccountId {
                account: name.get_ref().clone(),
                id: id.clone(),
                span: span(&account.id),
            });
        } else if let Some(first) = ids.insert(id.clone(), name.get_ref().clone()) {
            check.report(Problem::DuplicateAccountId {
                id: id.clone(),
                first,
                span: span(&account.id),
            });
        }
        let profile = match &account.profile {
            Some(profile) => {
                let text = profile.get_ref();
                if text.is_empty()
                    || !text
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c))
                {
                    check.report(Problem::InvalidProfile {
                        value: text.clone(),
                        span: span(profile),
                    });
                }
                text.clone()
            }
            None => name.get_ref().clone(),
        };
        let deploy_role = match &account.deploy_role {
            Some(role) => {
                check.role_name("deploy role", role);
                role.get_ref().clone()
            }
            None => DEFAULT_DEPLOY_ROLE.to_string(),
        };
        let mut role_paths = check.owned_paths(&account.role_paths);
        for path in organization_role_paths {
            if !role_paths.contains(path) {
                role_paths.push(path.clone());
            }
        }
        let artifact_bucket = account.artifact_bucket.as_ref().and_then(|bucket| {
            super::buckets::bucket_name(check, bucket).then(|| bucket.get_ref().clone())
        });
        accounts.insert(
            name.get_ref().clone(),
            Account {
                name: name.get_ref().clone(),
                id: id.clone(),
                profile,
                deploy_role,
                partition: check.partition(),
                role_paths,
                artifact_bucket,
                organization_management: account
                    .organization_management
                    .as_ref()
                    .is_some_and(|flag| *flag.get_ref()),
            },
        );
    }
    accounts
}

//! `[keys.*]`: account and region, an alias unique in both, deletion window, administrators and
//! a description KMS accepts.

use super::{in_source_order, span, Checker, Declared, AWS_MANAGED_KEY};
use crate::policy::Name;
use crate::scenario::diag::{ArnKind, Problem};
use crate::scenario::model::Key;
use crate::scenario::schema::RawScenario;
use std::collections::BTreeMap;

/// KMS refuses longer key descriptions.
const MAX_KEY_DESCRIPTION: usize = 8192;

pub(super) fn keys(
    check: &mut Checker,
    raw: &RawScenario,
    declared: &Declared,
) -> BTreeMap<Name, Key> {
    let mut keys = BTreeMap::new();
    let mut aliases: BTreeMap<(String, String, String), String> = BTreeMap::new();
    for (name, key) in in_source_order(&raw.keys) {
        if name.get_ref() == AWS_MANAGED_KEY {
            check.report(Problem::ReservedKeyName {
                name: name.get_ref().clone(),
                span: span(name),
            });
        }
        check.reference("account", &key.account, &declared.accounts);
        let key_region = match &key.region {
            Some(region) => check.region(region),
            None => declared.region.to_string(),
        };
        let alias = key
            .alias
            .get_ref()
            .strip_prefix("alias/")
            .unwrap_or(key.alias.get_ref())
            .to_string();
        if let Some(reason) = alias_problem(&alias) {
            check.report(Problem::InvalidAlias {
                alias: alias.clone(),
                reason,
                span: span(&key.alias),
            });
        } else if let Some(first) = aliases.insert(
            (
                key.account.get_ref().clone(),
                key_region.clone(),
                alias.clone(),
            ),
            name.get_ref().clone(),
        ) {
            check.report(Problem::Duplicate {
                what: "key alias",
                value: alias.clone(),
                first,
                span: span(&key.alias),
            });
        }
        let deletion_window_days = match &key.deletion_window_days {
            Some(days) if !(7..=30).contains(days.get_ref()) => {
                check.report(Problem::DeletionWindow {
                    days: *days.get_ref(),
                    span: span(days),
                });
                30
            }
            Some(days) => *days.get_ref() as u32,
            None => 30,
        };
        for admin in &key.administrators {
            check.arn(ArnKind::KeyAdministrator, admin);
        }
        if let Some(description) = &key.description {
            if description.get_ref().chars().count() > MAX_KEY_DESCRIPTION {
                check.report(Problem::InvalidSetting {
                    field: "description",
                    value: description.get_ref().clone(),
                    reason: "is longer than the 8192 characters KMS accepts",
                    help: "shorten the key description",
                    span: span(description),
                });
            }
        }
        let tags = check.tags(declared.tags, &key.tags, &[], name);
        keys.insert(
            name.get_ref().clone(),
            Key {
                name: name.get_ref().clone(),
                account: key.account.get_ref().clone(),
                region: key_region,
                alias,
                description: key.description.as_ref().map_or_else(
                    || {
                        format!(
                            "Encrypts the S3 data of scenario {}",
                            declared.scenario_name
                        )
                    },
                    |text| text.get_ref().clone(),
                ),
                rotation: key.rotation.unwrap_or(true),
                deletion_window_days,
                administrators: key
                    .administrators
                    .iter()
                    .map(|a| a.get_ref().clone())
                    .collect(),
                via_s3_only: key.via_s3_only.unwrap_or(true),
                tags,
            },
        );
    }
    keys
}

fn alias_problem(alias: &str) -> Option<&'static str> {
    if alias.is_empty() || alias.len() > 250 {
        return Some("it must be 1 to 250 characters long");
    }
    if alias.starts_with("aws/") {
        return Some("the `aws/` prefix is reserved for AWS-managed keys");
    }
    if !alias
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "/_-".contains(c))
    {
        return Some("only letters, digits, `/`, `_` and `-` are allowed");
    }
    None
}

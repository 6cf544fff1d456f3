//! `[keys.*]`: account and region, an alias unique in both, deletion window, administrators and
//! a description KMS accepts.

use super::{account_id, in_source_order, span, Checker, Declared, AWS_MANAGED_KEY};
use crate::aws::{key_arn_parts, kms};
use crate::eval::matching::glob_ignore_case;
use crate::policy::Name;
use crate::policy::{Clause, Effect, Principal, Statement};
use crate::scenario::diag::{ArnKind, Problem, Span};
use crate::scenario::model::{ExistingKey, Key};
use crate::scenario::schema::{RawKey, RawScenario};
use std::collections::BTreeMap;
use toml::Spanned;

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
        let existing = key.existing.as_ref().is_some_and(|flag| *flag.get_ref());
        if key.alias.is_none() && !existing {
            check.report(Problem::MissingField {
                kind: "key",
                name: name.get_ref().clone(),
                field: "alias",
                help: "name the alias crossgrant gives the key it creates, e.g. alias = \"shared-data\"; or, if the key exists already, mark it `existing = true` and give its `arn`",
                span: span(name),
            });
        }
        let alias = key.alias.as_ref().map_or_else(String::new, |alias| {
            let text = alias.get_ref();
            text.strip_prefix("alias/").unwrap_or(text).to_string()
        });
        if let Some(alias_span) = key.alias.as_ref().map(span) {
            check_alias(
                check,
                &mut aliases,
                key,
                name,
                &key_region,
                &alias,
                alias_span,
            );
        }
        let existing = if existing {
            check.creation_only(
                "key",
                name,
                &[
                    ("rotation", key.rotation.as_ref().map(span)),
                    (
                        "deletion_window_days",
                        key.deletion_window_days.as_ref().map(span),
                    ),
                    ("description", key.description.as_ref().map(span)),
                    ("tags", key.tags.keys().next().map(span)),
                ],
            );
            Some(existing_key(check, raw, declared, name, key, &key_region))
        } else {
            check.needs_existing(
                "key",
                name,
                &[
                    ("arn", key.arn.as_ref().map(span)),
                    ("policy_file", key.policy_file.as_ref().map(span)),
                ],
            );
            None
        };
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
                rotation: key.rotation.as_ref().is_none_or(|flag| *flag.get_ref()),
                deletion_window_days,
                administrators: key
                    .administrators
                    .iter()
                    .map(|a| a.get_ref().clone())
                    .collect(),
                via_s3_only: key.via_s3_only.unwrap_or(true),
                tags,
                existing,
            },
        );
    }
    keys
}

/// An alias KMS accepts, used once per account and region.
fn check_alias(
    check: &mut Checker,
    aliases: &mut BTreeMap<(String, String, String), String>,
    key: &RawKey,
    name: &Spanned<String>,
    region: &str,
    alias: &str,
    alias_span: Span,
) {
    if let Some(reason) = alias_problem(alias) {
        check.report(Problem::InvalidAlias {
            alias: alias.to_string(),
            reason,
            span: alias_span,
        });
    } else if let Some(first) = aliases.insert(
        (
            key.account.get_ref().clone(),
            region.to_string(),
            alias.to_string(),
        ),
        name.get_ref().clone(),
    ) {
        check.report(Problem::Duplicate {
            what: "key alias",
            value: alias.to_string(),
            first,
            span: alias_span,
        });
    }
}

/// How to capture a key policy for `policy_file`.
const KEY_POLICY_CAPTURE: &str = "capture the live key policy with `aws kms get-key-policy --key-id ARN --policy-name default > FILE` and name that file, relative to the scenario";

/// An existing key: its ARN, in the table's account and region, and its live policy, which
/// must keep someone able to manage the key.
fn existing_key(
    check: &mut Checker,
    raw: &RawScenario,
    declared: &Declared,
    name: &Spanned<String>,
    key: &RawKey,
    region: &str,
) -> ExistingKey {
    let arn = match &key.arn {
        None => {
            check.report(Problem::MissingField {
                kind: "key",
                name: name.get_ref().clone(),
                field: "arn",
                help: "give the existing key's ARN, e.g. arn = \"arn:aws:kms:REGION:ACCOUNT:key/KEY-ID\" (`aws kms describe-key --key-id alias/NAME` prints it)",
                span: span(name),
            });
            String::new()
        }
        Some(arn) => {
            if check.literal("key ARN", arn) {
                let account_id = account_id(raw, key.account.get_ref());
                let reason = match key_arn_parts(arn.get_ref()) {
                    Err(reason) => Some(reason.to_string()),
                    Ok((arn_region, _, _)) if arn_region != region => Some(format!(
                        "is in region {arn_region}, but the table's region is {region}"
                    )),
                    Ok((_, arn_account, _)) => {
                        account_id.filter(|id| *id != arn_account).map(|id| {
                            format!(
                                "is in account {arn_account}, but account `{}` is {id}",
                                key.account.get_ref()
                            )
                        })
                    }
                };
                if let Some(reason) = reason {
                    check.report(Problem::InvalidKeyArn {
                        arn: arn.get_ref().clone(),
                        reason,
                        span: span(arn),
                    });
                } else {
                    check.arn_partition("key ARN", arn);
                }
            }
            arn.get_ref().clone()
        }
    };
    let policy = key
        .policy_file
        .as_ref()
        .and_then(|file| check.live_policy(file, declared.base, KEY_POLICY_CAPTURE));
    if let (Some(policy), Some(file)) = (&policy, &key.policy_file) {
        if key.administrators.is_empty() && !policy.kept().any(can_manage_key) {
            check.report(Problem::KeyLockout {
                key: name.get_ref().clone(),
                file: policy.file.clone(),
                span: span(file),
            });
        }
    }
    ExistingKey { arn, policy }
}

/// Whether a key policy statement lets some AWS principal change the key's policy.
fn can_manage_key(statement: &Statement) -> bool {
    let matches = |actions: &Vec<String>| {
        actions
            .iter()
            .any(|action| glob_ignore_case(action, kms::PUT_KEY_POLICY))
    };
    let names_aws = match &statement.principal {
        Some(Clause::Is(Principal::Any)) => true,
        Some(Clause::Is(Principal::Typed(map))) => map.contains_key("AWS"),
        _ => false,
    };
    statement.effect == Effect::Allow
        && names_aws
        && match &statement.action {
            Clause::Is(actions) => matches(actions),
            Clause::Not(actions) => !matches(actions),
        }
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

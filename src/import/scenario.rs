//! The imported scenario as text: names for its tables, the TOML (typed views serialized, as
//! the scenario reference spells the keys), and the policy copies of the statements kept.
//!
//! Names: the bucket's account is `owner`, every other account `account-<id>`; the bucket and
//! its key are named after the bucket (dots become dashes); each role after its IAM name,
//! lowercased, with `-2`, `-3`… where two would look alike. The scenario is named after the
//! bucket too.

use super::error::DocumentKind;
use super::grants::DerivedGrant;
use super::summary::{DocumentReport, GrantLine, Summary};
use super::{Imported, LiveSetup, RoleArn};
use crate::model::{is_owned_sid, ObjectOwnership};
use crate::names::pascal;
use crate::policy::POLICY_VERSION;
use serde::Serialize;
use serde_json::Value as Json;
use std::collections::{BTreeMap, BTreeSet};

/// What [`super::import`] decided, for writing out.
pub(super) struct Decided {
    pub grants: Vec<DerivedGrant>,
    pub object_ownership: Option<ObjectOwnership>,
    pub documents: Vec<DocumentReport>,
    pub ownership_inferred: bool,
    pub unknown_identity: Vec<String>,
    pub without_grants: Vec<String>,
}

/// A policy copy, by its path relative to the scenario file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PolicyFile {
    pub path: String,
    pub text: String,
}

/// The directory, beside the scenario, that holds the policy copies.
pub const LIVE_DIR: &str = "live";

pub const OWNER_ACCOUNT: &str = "owner";

/// What a bucket's `key` says for the `aws/s3` key (the scenario reference's spelling).
const AWS_MANAGED_KEY: &str = "aws-managed";

#[derive(Serialize)]
struct ScenarioView<'a> {
    name: String,
    region: &'a str,
    accounts: BTreeMap<String, AccountView<'a>>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    keys: BTreeMap<String, KeyView<'a>>,
    buckets: BTreeMap<String, BucketView<'a>>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    roles: BTreeMap<String, RoleView<'a>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    grants: Vec<GrantView<'a>>,
}

#[derive(Serialize)]
struct AccountView<'a> {
    id: &'a str,
}

#[derive(Serialize)]
struct KeyView<'a> {
    account: &'a str,
    existing: bool,
    arn: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    policy_file: Option<String>,
}

#[derive(Serialize)]
struct BucketView<'a> {
    account: &'a str,
    name: &'a str,
    key: String,
    existing: bool,
    bucket_key: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    object_ownership: Option<&'static str>,
    /// The live bucket policy's own statements are kept; crossgrant adds no guardrail of its
    /// own to a bucket it imported.
    require_tls: bool,
    enforce_encryption: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    policy_file: Option<String>,
}

#[derive(Serialize)]
struct RoleView<'a> {
    account: String,
    name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    path: Option<&'a str>,
    existing: bool,
}

#[derive(Serialize)]
struct GrantView<'a> {
    role: String,
    bucket: &'a str,
    access: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    prefix: Option<&'a str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    actions: Vec<&'static str>,
}

/// `text` as a scenario table name: lowercase letters, digits, `-` and `_`, starting with a
/// letter, at most 40 characters.
fn table_name(text: &str, lead: &str) -> String {
    let mut name: String = text
        .chars()
        .map(|c| c.to_ascii_lowercase())
        .map(|c| {
            if c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_' {
                c
            } else {
                '-'
            }
        })
        .collect();
    if !name.starts_with(|c: char| c.is_ascii_lowercase()) {
        name = format!("{lead}{name}");
    }
    name.truncate(40);
    name
}

/// The scenario's name: letters, digits and `-`, starting with a letter, at most 64.
fn scenario_name(bucket_name: &str) -> String {
    let mut name = bucket_name.replace('.', "-");
    if !name.starts_with(|c: char| c.is_ascii_alphabetic()) {
        name = format!("s3-{name}");
    }
    name.truncate(64);
    name.trim_end_matches('-').to_string()
}

pub(super) fn account_name(setup: &LiveSetup, id: &str) -> String {
    if id == setup.owner_account {
        OWNER_ACCOUNT.to_string()
    } else {
        format!("account-{id}")
    }
}

/// A table name for each role, distinct once turned into identifiers.
fn role_names(roles: &[&RoleArn]) -> BTreeMap<String, String> {
    let mut taken: BTreeSet<String> = BTreeSet::new();
    let mut names = BTreeMap::new();
    for role in roles {
        let base = table_name(&role.name, "role-");
        let mut name = base.clone();
        let mut number = 2;
        while taken.contains(&pascal(&name)) {
            let suffix = format!("-{number}");
            let mut stem = base.clone();
            stem.truncate(40 - suffix.len());
            name = format!("{stem}{suffix}");
            number += 1;
        }
        taken.insert(pascal(&name));
        names.insert(role.arn.clone(), name);
    }
    names
}

/// Whether a Sid is in crossgrant's namespace: a file statement carrying one is taken for
/// crossgrant's own and replaced, so a statement the import keeps must not carry one.
fn generated_sid(sid: &str) -> bool {
    is_owned_sid(Some(sid))
}

/// The kept statements of a document, verbatim, as a bare policy; Sids crossgrant would
/// replace are renamed. A copy with no statement is written too: it says the live policy was
/// captured and crossgrant's statements replace all of it.
fn copy(statements: &[Json], report: &mut DocumentReport) -> String {
    let mut used: BTreeSet<String> = statements
        .iter()
        .filter_map(|statement| statement.get("Sid")?.as_str().map(str::to_string))
        .collect();
    let mut kept = Vec::new();
    for (statement, reported) in statements.iter().zip(&report.statements) {
        if !reported.fate.is_kept() {
            continue;
        }
        let mut statement = statement.clone();
        if let Some(sid) = statement
            .get("Sid")
            .and_then(Json::as_str)
            .map(str::to_string)
        {
            if generated_sid(&sid) {
                let mut renamed = format!("Live{sid}");
                let mut number = 2;
                while used.contains(&renamed) {
                    renamed = format!("Live{number}{sid}");
                    number += 1;
                }
                used.insert(renamed.clone());
                if let Some(object) = statement.as_object_mut() {
                    object.insert("Sid".to_string(), Json::String(renamed.clone()));
                }
                report.renamed.push((sid, renamed));
            }
        }
        kept.push(statement);
    }
    let mut policy = serde_json::Map::new();
    policy.insert("Version".into(), Json::String(POLICY_VERSION.into()));
    policy.insert("Statement".into(), Json::Array(kept));
    let mut text = serde_json::to_string_pretty(&Json::Object(policy)).unwrap_or_default();
    text.push('\n');
    text
}

pub(super) fn write(setup: &LiveSetup, decided: Decided) -> Imported {
    let Decided {
        grants,
        object_ownership,
        mut documents,
        ownership_inferred,
        unknown_identity,
        without_grants,
    } = decided;
    let bucket_table = table_name(&setup.bucket_name, "bucket-");
    let mut granted: Vec<&RoleArn> = grants.iter().map(|grant| &grant.role).collect();
    granted.dedup();
    let role_tables = role_names(&granted);

    let mut policy_files = Vec::new();
    let mut bucket_policy_file = None;
    let mut key_policy_file = None;
    for document in documents.iter_mut() {
        let (statements, path) = match document.kind {
            DocumentKind::BucketPolicy => (
                &setup.bucket_policy.statements,
                format!("{LIVE_DIR}/{bucket_table}-bucket-policy.json"),
            ),
            DocumentKind::KeyPolicy => match &setup.key {
                Some(key) => (
                    &key.policy.statements,
                    format!("{LIVE_DIR}/{bucket_table}-key-policy.json"),
                ),
                None => continue,
            },
            DocumentKind::IdentityPolicy => continue,
        };
        let text = copy(statements, document);
        document.copy = Some(path.clone());
        match document.kind {
            DocumentKind::BucketPolicy => bucket_policy_file = Some(path.clone()),
            _ => key_policy_file = Some(path.clone()),
        }
        policy_files.push(PolicyFile { path, text });
    }

    let mut accounts = BTreeMap::new();
    accounts.insert(
        OWNER_ACCOUNT.to_string(),
        AccountView {
            id: &setup.owner_account,
        },
    );
    let mut roles = BTreeMap::new();
    for role in &granted {
        let account = account_name(setup, &role.account);
        accounts
            .entry(account.clone())
            .or_insert(AccountView { id: &role.account });
        roles.insert(
            role_tables[&role.arn].clone(),
            RoleView {
                account,
                name: &role.name,
                path: (role.path != "/").then_some(role.path.as_str()),
                existing: true,
            },
        );
    }
    let mut keys = BTreeMap::new();
    if let Some(key) = &setup.key {
        keys.insert(
            bucket_table.clone(),
            KeyView {
                account: OWNER_ACCOUNT,
                existing: true,
                arn: &key.arn.arn,
                policy_file: key_policy_file,
            },
        );
    }
    let mut buckets = BTreeMap::new();
    buckets.insert(
        bucket_table.clone(),
        BucketView {
            account: OWNER_ACCOUNT,
            name: &setup.bucket_name,
            key: match &setup.key {
                Some(_) => bucket_table.clone(),
                None => AWS_MANAGED_KEY.to_string(),
            },
            existing: true,
            bucket_key: setup.bucket_key,
            object_ownership: object_ownership.map(ObjectOwnership::as_str),
            require_tls: false,
            enforce_encryption: crate::model::EncryptionEnforcement::Off.as_str(),
            policy_file: bucket_policy_file,
        },
    );
    let grant_views = grants
        .iter()
        .map(|grant| GrantView {
            role: role_tables[&grant.role.arn].clone(),
            bucket: &bucket_table,
            access: grant.access.as_str(),
            prefix: (!grant.prefix.is_empty()).then_some(grant.prefix.as_str()),
            actions: grant.actions.clone(),
        })
        .collect();
    let view = ScenarioView {
        name: scenario_name(&setup.bucket_name),
        region: &setup.region,
        accounts,
        keys,
        buckets,
        roles,
        grants: grant_views,
    };
    let body = toml::to_string(&view).unwrap_or_default();
    let scenario = format!(
        "# Imported by `crossgrant import` from the live policies of bucket {}.\n\
         # Every table describes a resource that exists; the kept live statements are in {LIVE_DIR}/.\n\n{body}",
        setup.bucket_name
    );
    let summary = Summary {
        grants: grants
            .iter()
            .map(|grant| GrantLine {
                role: role_tables[&grant.role.arn].clone(),
                role_arn: grant.role.arn.clone(),
                bucket_name: setup.bucket_name.clone(),
                prefix: grant.prefix.clone(),
                access: grant.access,
                actions: grant.actions.clone(),
            })
            .collect(),
        documents,
        inferred_ownership: object_ownership.filter(|_| ownership_inferred),
        unknown_identity,
        without_grants,
    };
    Imported {
        scenario,
        policy_files,
        summary,
    }
}

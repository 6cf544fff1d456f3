//! `crossgrant import`: a live setup — the bucket policy, the key policy and the roles'
//! identity policies as the aws CLI prints them — becomes a scenario of existing resources.
//! Accounts come from the ARNs; each role a document names becomes a role of the scenario, and
//! its grants are what crossgrant's evaluator finds the three layers together allow it
//! ([`grants`]). Each bucket and key policy statement is then either re-generated from those
//! grants and left out, or kept, verbatim and in order, in a copy beside the scenario that the
//! scenario's `policy_file` names ([`statements`]); [`summary`] says which, statement by
//! statement. [`roundtrip`] proves an imported scenario gives every caller the S3 access the
//! live documents gave.
//!
//! Nothing here reads files or the command line: the command ([`crate::cli::import`]) reads
//! the documents into a [`LiveSetup`] and writes what [`import`] returns.

pub mod arn;
pub mod error;
mod grants;
pub mod roundtrip;
mod scenario;
mod statements;
pub mod summary;
mod world;

pub use arn::{KeyArn, RoleArn};
pub use error::{DocumentKind, ImportError};
pub use grants::DerivedGrant;
pub use scenario::PolicyFile;
pub use statements::{Fate, Kept, StatementReport};

use crate::eval::document::{parse_live_policy, DocumentProblem};
use crate::eval::probe::admin_policy;
use crate::eval::resolve::{aws_managed_key_arn, aws_managed_s3_key_policy};
use crate::eval::EvalError;
use crate::model::ObjectOwnership;
use crate::policy::{PolicyDocument, Value};
use serde_json::Value as Json;
use statements::{principals, Applied, Classify};
use std::collections::BTreeMap;
use summary::{DocumentReport, Summary};
use world::{Layer, LiveWorld, Target};

/// A live policy document: where it came from, its statements as written (for the copies
/// `import` keeps) and as the evaluator reads them.
#[derive(Clone, Debug, PartialEq)]
pub struct LiveDocument {
    /// The file it was read from, as reports name it.
    pub source: String,
    pub statements: Vec<Json>,
    pub document: PolicyDocument,
}

impl LiveDocument {
    /// Reads a bare policy or the output of the aws CLI command that prints one.
    pub fn parse(source: impl Into<String>, text: &str) -> Result<LiveDocument, DocumentProblem> {
        let source = source.into();
        let (bare, mut document) = parse_live_policy(text, &source)?;
        // The evaluator reads the statements; the copies keep the JSON as written.
        for statement in &mut document.statements {
            statement.verbatim = None;
        }
        let statements = match bare.get("Statement") {
            Some(Json::Array(items)) => items.clone(),
            Some(single) => vec![single.clone()],
            None => Vec::new(),
        };
        Ok(LiveDocument {
            source,
            statements,
            document,
        })
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct LiveKey {
    pub arn: KeyArn,
    pub policy: LiveDocument,
}

#[derive(Clone, Debug, PartialEq)]
pub struct LiveRole {
    pub arn: RoleArn,
    /// Every identity policy given for the role (IAM unites them).
    pub policies: Vec<LiveDocument>,
}

/// What the live account holds, checked: account and region known, ARNs well-formed.
#[derive(Clone, Debug, PartialEq)]
pub struct LiveSetup {
    pub bucket_name: String,
    pub owner_account: String,
    pub region: String,
    /// The customer-managed key that encrypts the bucket; none: the `aws/s3` key.
    pub key: Option<LiveKey>,
    pub bucket_key: bool,
    /// How the live bucket treats ACLs, when stated; otherwise inferred from the policies.
    pub object_ownership: Option<ObjectOwnership>,
    pub bucket_policy: LiveDocument,
    /// Roles whose identity policies were given.
    pub roles: Vec<LiveRole>,
}

impl LiveSetup {
    pub(crate) fn target(&self) -> Target {
        match &self.key {
            Some(key) => Target {
                bucket_name: self.bucket_name.clone(),
                owner: self.owner_account.clone(),
                region: self.region.clone(),
                key_arn: key.arn.arn.clone(),
                key_account: key.arn.account.clone(),
                customer_key: true,
                bucket_key: self.bucket_key,
            },
            None => Target {
                bucket_name: self.bucket_name.clone(),
                owner: self.owner_account.clone(),
                region: self.region.clone(),
                key_arn: aws_managed_key_arn(&self.owner_account, &self.region),
                key_account: self.owner_account.clone(),
                customer_key: false,
                bucket_key: self.bucket_key,
            },
        }
    }

    /// The key policy: the live one, or the fixed one of the `aws/s3` key.
    pub(crate) fn key_policy(&self) -> PolicyDocument {
        match &self.key {
            Some(key) => key.policy.document.clone(),
            None => aws_managed_s3_key_policy(&self.owner_account, &self.region),
        }
    }

    /// The given identity policies of a role; `None` when none were given.
    pub(crate) fn identity_of(&self, arn: &str) -> Option<Vec<&LiveDocument>> {
        let documents: Vec<&LiveDocument> = self
            .roles
            .iter()
            .filter(|role| role.arn.arn == arn)
            .flat_map(|role| &role.policies)
            .collect();
        (!documents.is_empty()).then_some(documents)
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ImportOptions {
    /// Leave out key policy statements for roles whose only use of the key beyond their grants
    /// is use S3 does not make (direct calls, other KMS actions).
    pub narrow_key_use: bool,
}

/// What `import` writes and says.
#[derive(Clone, Debug, PartialEq)]
pub struct Imported {
    /// The scenario's TOML.
    pub scenario: String,
    /// The policy copies, by path relative to the scenario file.
    pub policy_files: Vec<PolicyFile>,
    pub summary: Summary,
}

/// The grant prefixes a live document names: `arn:aws:s3:::<bucket>/<prefix>*` resources and
/// `s3:prefix` values `<prefix>*`, where the prefix is one a grant can have.
fn named_prefixes(bucket_name: &str, documents: &[&PolicyDocument]) -> Vec<String> {
    let object_start = format!("{bucket_name}/");
    let mut prefixes = vec![String::new()];
    let mut add = |pattern: &str| {
        let Some(prefix) = pattern.strip_suffix('*') else {
            return;
        };
        let grantable = prefix.ends_with('/')
            && !prefix.starts_with('/')
            && crate::aws::pattern_syntax(prefix).is_none()
            && !prefix.chars().any(char::is_control)
            && prefix.len() <= 512;
        if grantable && !prefixes.iter().any(|known| known == prefix) {
            prefixes.push(prefix.to_string());
        }
    };
    for statement in documents.iter().flat_map(|document| &document.statements) {
        for value in statement.resource.iter().flat_map(|r| r.inner()) {
            if let Some(rest) = value
                .as_lit()
                .and_then(crate::aws::s3_arn_rest)
                .and_then(|v| v.strip_prefix(&object_start))
            {
                add(rest);
            }
        }
        for keys in statement.condition.values() {
            for (key, values) in keys {
                if key.eq_ignore_ascii_case(crate::aws::condition_key::S3_PREFIX) {
                    values.iter().filter_map(Value::as_lit).for_each(&mut add);
                }
            }
        }
    }
    prefixes.sort_by(|a, b| (a.len(), a).cmp(&(b.len(), b)));
    prefixes
}

/// Every role the documents name (resource policy principals, pinned or not, and the roles
/// identity policies were given for), by ARN.
fn named_roles(setup: &LiveSetup) -> Vec<RoleArn> {
    let mut roles: Vec<RoleArn> = setup.roles.iter().map(|role| role.arn.clone()).collect();
    let resource_documents = std::iter::once(&setup.bucket_policy.document)
        .chain(setup.key.as_ref().map(|key| &key.policy.document));
    for statement in resource_documents.flat_map(|document| &document.statements) {
        roles.extend(principals(statement).0);
    }
    roles.sort();
    roles.dedup_by(|a, b| a.arn == b.arn);
    roles
}

/// The statements of a document the evaluator can read.
fn evaluable(document: &PolicyDocument, applied: &[Result<Applied, EvalError>]) -> PolicyDocument {
    PolicyDocument::new(
        document
            .statements
            .iter()
            .zip(applied)
            .filter(|(_, applied)| applied.is_ok())
            .map(|(statement, _)| statement.clone())
            .collect(),
    )
}

/// Turns a live setup into a scenario of existing resources, the policy copies it names and
/// the report of what became of every statement.
pub fn import(setup: &LiveSetup, options: &ImportOptions) -> Imported {
    let target = setup.target();
    let roles = named_roles(setup);
    let identity_documents: Vec<&PolicyDocument> = setup
        .roles
        .iter()
        .flat_map(|role| &role.policies)
        .map(|document| &document.document)
        .collect();
    let prefix_documents: Vec<&PolicyDocument> = std::iter::once(&setup.bucket_policy.document)
        .chain(identity_documents)
        .collect();
    let prefixes = named_prefixes(&setup.bucket_name, &prefix_documents);
    let universe = target.universe(&prefixes);
    let all_roles: Vec<usize> = (0..roles.len()).collect();
    let mut classify = Classify {
        target: &target,
        universe: &universe,
        roles: &roles,
        grants: &[],
        acls_enabled: false,
        narrow_key_use: options.narrow_key_use,
    };
    let applied_in = |document: &PolicyDocument, layer: Layer, roles: &[usize]| {
        document
            .statements
            .iter()
            .map(|statement| classify.applied(statement, layer, roles))
            .collect::<Vec<_>>()
    };
    let bucket_applied = applied_in(&setup.bucket_policy.document, Layer::Bucket, &all_roles);
    let key_policy = setup.key_policy();
    let key_applied = applied_in(&key_policy, Layer::Key, &all_roles);
    let identity_applied: Vec<Vec<Vec<Result<Applied, EvalError>>>> = setup
        .roles
        .iter()
        .map(|role| {
            let index = roles
                .iter()
                .position(|known| known.arn == role.arn.arn)
                .expect("every role given is named");
            role.policies
                .iter()
                .map(|document| applied_in(&document.document, Layer::Identity, &[index]))
                .collect()
        })
        .collect();

    let mut identity = BTreeMap::new();
    for role in &roles {
        let documents = match setup.identity_of(&role.arn) {
            Some(_) => setup
                .roles
                .iter()
                .zip(&identity_applied)
                .filter(|(given, _)| given.arn.arn == role.arn)
                .flat_map(|(given, applied)| {
                    given
                        .policies
                        .iter()
                        .zip(applied)
                        .map(|(document, applied)| evaluable(&document.document, applied))
                })
                .collect(),
            None => vec![admin_policy()],
        };
        identity.insert(role.arn.clone(), documents);
    }
    let world = LiveWorld {
        target: &target,
        bucket_policy: evaluable(&setup.bucket_policy.document, &bucket_applied),
        key_policy: evaluable(&key_policy, &key_applied),
        identity,
    };
    let ownership_inferred =
        setup.object_ownership.is_none() && grants::writers_set_acls(&world, &roles, &prefixes);
    let object_ownership = setup
        .object_ownership
        .or(ownership_inferred.then_some(ObjectOwnership::BucketOwnerPreferred));
    let acls_enabled = object_ownership.is_some_and(ObjectOwnership::acls_enabled);
    let derived: Vec<DerivedGrant> = roles
        .iter()
        .flat_map(|role| grants::derive(&world, role, &prefixes, acls_enabled))
        .collect();

    classify.grants = &derived;
    classify.acls_enabled = acls_enabled;
    let resource_reports =
        |document: &LiveDocument, layer: Layer, applied: &[Result<Applied, EvalError>]| {
            document
                .document
                .statements
                .iter()
                .zip(applied)
                .enumerate()
                .map(|(index, (statement, applied))| StatementReport {
                    index: index + 1,
                    sid: statement.sid.clone(),
                    fate: classify.resource_fate(statement, layer, applied.as_ref()),
                })
                .collect::<Vec<_>>()
        };
    let mut documents = vec![DocumentReport {
        kind: DocumentKind::BucketPolicy,
        source: setup.bucket_policy.source.clone(),
        role: None,
        statements: resource_reports(&setup.bucket_policy, Layer::Bucket, &bucket_applied),
        copy: None,
        renamed: Vec::new(),
    }];
    if let Some(key) = &setup.key {
        documents.push(DocumentReport {
            kind: DocumentKind::KeyPolicy,
            source: key.policy.source.clone(),
            role: None,
            statements: resource_reports(&key.policy, Layer::Key, &key_applied),
            copy: None,
            renamed: Vec::new(),
        });
    }
    for (role, applied) in setup.roles.iter().zip(&identity_applied) {
        for (document, applied) in role.policies.iter().zip(applied) {
            let statements = document
                .document
                .statements
                .iter()
                .zip(applied)
                .enumerate()
                .map(|(index, (statement, applied))| StatementReport {
                    index: index + 1,
                    sid: statement.sid.clone(),
                    fate: classify.identity_fate(statement, applied.as_ref()),
                })
                .collect();
            documents.push(DocumentReport {
                kind: DocumentKind::IdentityPolicy,
                source: document.source.clone(),
                role: Some(role.arn.arn.clone()),
                statements,
                copy: None,
                renamed: Vec::new(),
            });
        }
    }
    let unknown_identity: Vec<String> = roles
        .iter()
        .filter(|role| setup.identity_of(&role.arn).is_none())
        .filter(|role| derived.iter().any(|grant| grant.role == **role))
        .map(|role| role.arn.clone())
        .collect();
    let without_grants: Vec<String> = roles
        .iter()
        .filter(|role| !derived.iter().any(|grant| grant.role == **role))
        .map(|role| role.arn.clone())
        .collect();
    scenario::write(
        setup,
        scenario::Decided {
            grants: derived,
            object_ownership,
            documents,
            ownership_inferred,
            unknown_identity,
            without_grants,
        },
    )
}

#[cfg(test)]
mod tests;

//! Lowering: the validated scenario becomes deployment units (one per account, region and
//! deploy phase) holding typed resources, and the three policy documents every grant needs —
//! bucket policy and key policy in the owner account, identity policy on the consumer role.
//! This is the only module that knows which AWS actions, principals and conditions make
//! cross-account SSE-KMS access work; renderers print what it decides, and the evaluator
//! judges the very same documents.

use crate::aws::{
    self, condition_key, s3, sts, KEY_ADMIN_ACTIONS, KMS_READ_ACTIONS, KMS_WRITE_ACTIONS,
    LEGACY_ACL_ACTION, LIST_ACTION, READ_OBJECT_ACTIONS, ROOT_KEY_ACTIONS, WRITE_OBJECT_ACTIONS,
};
use crate::consolidate::{fit_all, Fit, RoleLayout};
use crate::limits::Budget;
use crate::model::{Access, Bucket, EncryptionEnforcement, Grant, PrincipalStyle, Scenario};
use crate::names::pascal;
use crate::parallel::{side_by_side, SIDE_BY_SIDE_GRANTS};
use crate::policy::{Effect, Name, PolicyDocument, Principal, Ref, Statement, Value};
use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet, HashMap};

pub const ROOT_KEY_SID: &str = "EnableIamPolicies";
pub const KEY_ADMIN_SID: &str = "KeyAdministrators";

/// The order in which deploy units of one account and region go out.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Phase {
    /// Consumer roles, created first when resource policies name them directly.
    Roles,
    /// Keys, buckets and their resource policies, in the owner account.
    Data,
    /// Consumer identity policies (they need the key ARN) and instances.
    Access,
}

impl Phase {
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Roles => "roles",
            Phase::Data => "data",
            Phase::Access => "access",
        }
    }
}

/// Where a unit deploys: account (scenario name), region, phase.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct UnitId {
    pub account: Name,
    pub region: String,
    pub phase: Phase,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Resource {
    Key {
        key: Name,
        policy: PolicyDocument,
    },
    Alias {
        key: Name,
    },
    Bucket {
        bucket: Name,
    },
    BucketPolicy {
        bucket: Name,
        policy: PolicyDocument,
    },
    Role {
        role: Name,
        trust: PolicyDocument,
    },
    InstanceProfile {
        role: Name,
    },
    RolePolicy {
        role: Name,
        policy: PolicyDocument,
    },
    /// A customer-managed policy attached to the role, holding part of its access when the
    /// inline policy alone would exceed IAM's size limit; `number` counts from 1.
    ManagedPolicy {
        role: Name,
        number: usize,
        policy: PolicyDocument,
    },
    Instance {
        instance: Name,
    },
}

impl Resource {
    /// The documents this resource carries, if any.
    pub fn policy(&self) -> Option<&PolicyDocument> {
        match self {
            Resource::Key { policy, .. }
            | Resource::BucketPolicy { policy, .. }
            | Resource::RolePolicy { policy, .. }
            | Resource::ManagedPolicy { policy, .. } => Some(policy),
            Resource::Role { trust, .. } => Some(trust),
            _ => None,
        }
    }

    /// References this resource makes besides those inside its policy document.
    pub fn direct_refs(&self) -> Vec<Ref> {
        match self {
            Resource::Instance { instance } => vec![Ref::InstanceProfile(instance.clone())],
            _ => Vec::new(),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unit {
    pub id: UnitId,
    pub resources: Vec<Resource>,
}

/// Everything the renderers, the planner and the evaluator need.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Lowered {
    pub scenario: Scenario,
    pub units: Vec<Unit>,
    pub bucket_policies: BTreeMap<Name, PolicyDocument>,
    pub key_policies: BTreeMap<Name, PolicyDocument>,
    /// Every statement crossgrant gives each role (IAM unites all of a role's policies). It
    /// deploys as one inline policy, or, when that would be too large, split between the inline
    /// policy and managed policies: the units hold the parts.
    pub role_policies: BTreeMap<Name, PolicyDocument>,
    pub trust_policies: BTreeMap<Name, PolicyDocument>,
    /// The size of every limited document against its AWS limit.
    pub budget: Budget,
}

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

/// Lowers a scenario, consolidating each document only as far as it needs to stay within its
/// size limit.
pub fn lower(scenario: Scenario) -> Lowered {
    lower_with(scenario, Fit::AsNeeded)
}

pub fn lower_with(scenario: Scenario, fit: Fit) -> Lowered {
    let access = bucket_access(&scenario);
    let roles = RoleNames::of(&scenario);
    let s3 = S3Statements::of(&scenario, &access);
    // The owner's resource policies and the consumers' identity policies do not depend on each
    // other until they are measured, so large scenarios build them side by side.
    let ((bucket_policies, key_policies), role_policies) = side_by_side(
        scenario.grants.len() >= SIDE_BY_SIDE_GRANTS,
        || {
            (
                with_bucket_guardrails(&scenario, bucket_policies(&scenario, &roles, &access, &s3)),
                with_key_use_limits(&scenario, key_policies(&scenario, &roles, &access, &s3)),
            )
        },
        || with_identity_key_limits(&scenario, role_policies(&scenario, &access, &s3)),
    );
    let fitted = fit_all(&scenario, bucket_policies, key_policies, role_policies, fit);
    let role_policies = fitted
        .role_layouts
        .iter()
        .map(|(role, layout)| (role.clone(), PolicyDocument::new(layout.statements())))
        .collect();
    let trust_policies = scenario
        .roles
        .values()
        .map(|role| {
            let trust = PolicyDocument::new(vec![Statement {
                resource: None,
                ..Statement::allow("AssumeByService")
                    .principal(Principal::service(&role.service))
                    .actions([sts::ASSUME_ROLE])
            }]);
            (role.name.clone(), trust)
        })
        .collect();
    let mut lowered = Lowered {
        scenario,
        units: Vec::new(),
        bucket_policies: fitted.bucket_policies,
        key_policies: fitted.key_policies,
        role_policies,
        trust_policies,
        budget: fitted.budget,
    };
    lowered.units = units(&lowered, fitted.role_layouts);
    lowered
}

/// The principal that names a consumer role in the owner's resource policies, and the
/// condition that pins it, per the scenario's principal style.
type ConsumerPrincipal = (Value, Option<Value>);

fn consumer_principal(scenario: &Scenario, role: &str) -> ConsumerPrincipal {
    let account = scenario.account(&scenario.roles[role].account);
    match scenario.principal_style {
        PrincipalStyle::Account => (
            Value::lit(account.root_arn()),
            Some(Value::lit(scenario.role_arn(role))),
        ),
        PrincipalStyle::Role => (Value::Ref(Ref::RoleArn(role.to_string())), None),
    }
}

/// What lowering needs of every role, worked out once: policies name the same roles thousands
/// of times.
struct RoleNames<'a> {
    pascal: HashMap<&'a str, String>,
    principals: HashMap<&'a str, ConsumerPrincipal>,
}

impl<'a> RoleNames<'a> {
    fn of(scenario: &'a Scenario) -> Self {
        RoleNames {
            pascal: scenario
                .roles
                .keys()
                .map(|role| (role.as_str(), pascal(role)))
                .collect(),
            principals: scenario
                .roles
                .keys()
                .map(|role| (role.as_str(), consumer_principal(scenario, role)))
                .collect(),
        }
    }
}

fn with_consumer(statement: Statement, principal: ConsumerPrincipal) -> Statement {
    let (principal, pin) = principal;
    let statement = statement.principal(Principal::aws([principal]));
    match pin {
        Some(role_arn) => {
            statement.condition("ArnEquals", condition_key::PRINCIPAL_ARN, [role_arn])
        }
        None => statement,
    }
}

/// One role's statement in a resource policy before its principal is added: the Sid it would
/// get, the statement without Sid or principal, and the role's principal.
type ConsumerPart<'a> = (String, &'a Statement, &'a ConsumerPrincipal);

/// The consumer statements of a resource policy, merged as [`merge_principals`] merges them
/// once each part is given its Sid and principal (`with_consumer`), without building the
/// statements that merging would fold away: roles granted alike share one statement body.
fn consumer_statements(mut parts: Vec<ConsumerPart>) -> Vec<Statement> {
    parts.sort_by(|a, b| a.0.cmp(&b.0));
    let mut groups: HashMap<&Statement, usize> = HashMap::new();
    let mut members: Vec<Vec<usize>> = Vec::new();
    for (index, (_, body, _)) in parts.iter().enumerate() {
        let next = members.len();
        let group = *groups.entry(*body).or_insert(next);
        if group == next {
            members.push(vec![index]);
        } else {
            members[group].push(index);
        }
    }
    members
        .into_iter()
        .map(|indices| {
            let (sid, body, principal) = &parts[indices[0]];
            let statement = Statement {
                sid: Some(sid.clone()),
                ..(*body).clone()
            };
            if indices.len() == 1 {
                return with_consumer(statement, (*principal).clone());
            }
            let principals: BTreeSet<&Value> =
                indices.iter().map(|&index| &parts[index].2 .0).collect();
            let pins: BTreeSet<&Value> = indices
                .iter()
                .filter_map(|&index| parts[index].2 .1.as_ref())
                .collect();
            let statement = statement.principal(Principal::aws(principals.into_iter().cloned()));
            if pins.is_empty() {
                statement
            } else {
                statement.condition(
                    "ArnEquals",
                    condition_key::PRINCIPAL_ARN,
                    pins.into_iter().cloned(),
                )
            }
        })
        .collect()
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
type SidSuffixed = (Cow<'static, str>, Statement);

/// The S3 statements one role needs on one bucket, without a principal (identity policy) or
/// before one is added (bucket policy), nor a Sid: the Sids end in `Objects`, `List`, `Bucket`.
fn s3_statements(bucket: &Bucket, access: &BucketAccess) -> Vec<SidSuffixed> {
    let unnamed = |statement: Statement| Statement {
        sid: None,
        ..statement
    };
    let mut statements = Vec::new();
    let mut by_actions: BTreeMap<&BTreeSet<String>, Vec<Value>> = BTreeMap::new();
    for (prefix, actions) in &access.object_actions {
        by_actions
            .entry(actions)
            .or_default()
            .push(Value::lit(object_arn(bucket, prefix)));
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
    let bucket_arn = Value::lit(bucket.arn());
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
struct S3Statements {
    built: Vec<Vec<SidSuffixed>>,
    /// Which of `built` each access holds, in the order of the accesses.
    of_access: Vec<usize>,
}

impl S3Statements {
    fn of(scenario: &Scenario, access: &BTreeMap<(Name, Name), BucketAccess>) -> Self {
        let mut index: HashMap<(&str, &BucketAccess), usize> = HashMap::new();
        let mut built = Vec::new();
        let of_access = access
            .iter()
            .map(|((_, bucket_name), role_access)| {
                let next = built.len();
                let found = *index
                    .entry((bucket_name.as_str(), role_access))
                    .or_insert(next);
                if found == next {
                    built.push(s3_statements(&scenario.buckets[bucket_name], role_access));
                }
                found
            })
            .collect();
        S3Statements { built, of_access }
    }
}

fn bucket_policies(
    scenario: &Scenario,
    roles: &RoleNames,
    access: &BTreeMap<(Name, Name), BucketAccess>,
    s3: &S3Statements,
) -> BTreeMap<Name, PolicyDocument> {
    let mut grantees: BTreeMap<&Name, Vec<(&Name, usize)>> = BTreeMap::new();
    for (((role, bucket_name), _), &index) in access.iter().zip(&s3.of_access) {
        let bucket = &scenario.buckets[bucket_name];
        if scenario.roles[role].account == bucket.account {
            // Same account: the role's identity policy alone grants S3 access.
            continue;
        }
        grantees.entry(bucket_name).or_default().push((role, index));
    }
    grantees
        .into_iter()
        .map(|(bucket_name, grantees)| {
            let parts = grantees
                .iter()
                .flat_map(|&(role, index)| {
                    let base = &roles.pascal[role.as_str()];
                    let principal = &roles.principals[role.as_str()];
                    s3.built[index]
                        .iter()
                        .map(move |(suffix, body)| (format!("{base}{suffix}"), body, principal))
                })
                .collect();
            let statements = consumer_statements(parts);
            (bucket_name.clone(), PolicyDocument::new(statements))
        })
        .collect()
}

/// The encryption context S3 sends to KMS for objects under these prefixes: with an S3 Bucket
/// Key the context is the bucket ARN, otherwise the object ARN.
fn encryption_context_values(bucket: &Bucket, prefixes: &BTreeSet<&String>) -> Vec<Value> {
    if bucket.bucket_key {
        vec![Value::lit(bucket.arn())]
    } else {
        prefixes
            .iter()
            .map(|prefix| Value::lit(object_arn(bucket, prefix)))
            .collect()
    }
}

fn key_policies(
    scenario: &Scenario,
    roles: &RoleNames,
    access: &BTreeMap<(Name, Name), BucketAccess>,
    s3: &S3Statements,
) -> BTreeMap<Name, PolicyDocument> {
    // The encryption contexts of each distinct access to a bucket, worked out once.
    let mut contexts: Vec<Option<Vec<Value>>> = vec![None; s3.built.len()];
    for (((_, bucket_name), role_access), &index) in access.iter().zip(&s3.of_access) {
        let bucket = &scenario.buckets[bucket_name];
        if bucket.key().is_some() && contexts[index].is_none() {
            let prefixes: BTreeSet<&String> = role_access.object_actions.keys().collect();
            contexts[index] = Some(encryption_context_values(bucket, &prefixes));
        }
    }
    // Per key and consumer role: KMS actions and the encryption contexts they are used in.
    type KeyUse<'a> = (BTreeSet<&'a str>, BTreeSet<&'a Value>);
    let mut uses: BTreeMap<(&str, &str), KeyUse> = BTreeMap::new();
    for (((role, bucket_name), role_access), &index) in access.iter().zip(&s3.of_access) {
        let bucket = &scenario.buckets[bucket_name];
        let Some(key) = bucket.key() else { continue };
        if scenario.roles[role].account == scenario.keys[key].account
            || role_access.kms_actions.is_empty()
        {
            // Same account: the root statement delegates to the role's identity policy.
            continue;
        }
        let entry = uses.entry((key, role)).or_default();
        entry
            .0
            .extend(role_access.kms_actions.iter().map(String::as_str));
        entry.1.extend(contexts[index].iter().flatten());
    }
    scenario
        .keys
        .values()
        .map(|key| {
            let account = scenario.account(&key.account);
            let mut statements = vec![Statement::allow(ROOT_KEY_SID)
                .principal(Principal::aws([Value::lit(account.root_arn())]))
                .actions(ROOT_KEY_ACTIONS)
                .resources([Value::lit("*")])];
            if !key.administrators.is_empty() {
                statements.push(
                    Statement::allow(KEY_ADMIN_SID)
                        .principal(Principal::aws(
                            key.administrators.iter().cloned().map(Value::Lit),
                        ))
                        .actions(KEY_ADMIN_ACTIONS)
                        .resources([Value::lit("*")]),
                );
            }
            let mut bodies: HashMap<&KeyUse, usize> = HashMap::new();
            let mut built: Vec<Statement> = Vec::new();
            let used: Vec<(&str, usize)> = uses
                .range((key.name.as_str(), "")..)
                .take_while(|((key_name, _), _)| *key_name == key.name)
                .map(|(&(_, role), key_use)| {
                    let next = built.len();
                    let index = *bodies.entry(key_use).or_insert(next);
                    if index == next {
                        let (actions, contexts) = key_use;
                        built.push(Statement {
                            sid: None,
                            ..Statement::allow("")
                                .actions(actions.iter().copied())
                                .resources([Value::lit("*")])
                                .condition(
                                    "StringLike",
                                    condition_key::KMS_S3_ENCRYPTION_CONTEXT,
                                    contexts.iter().map(|&context| context.clone()),
                                )
                        });
                    }
                    (role, index)
                })
                .collect();
            let parts = used
                .iter()
                .map(|&(role, index)| {
                    (
                        format!("{}UseKey", roles.pascal[role]),
                        &built[index],
                        &roles.principals[role],
                    )
                })
                .collect();
            statements.extend(consumer_statements(parts));
            (key.name.clone(), PolicyDocument::new(statements))
        })
        .collect()
}

fn role_policies(
    scenario: &Scenario,
    access: &BTreeMap<(Name, Name), BucketAccess>,
    s3: &S3Statements,
) -> BTreeMap<Name, PolicyDocument> {
    let bucket_pascal: HashMap<&str, String> = scenario
        .buckets
        .keys()
        .map(|bucket| (bucket.as_str(), pascal(bucket)))
        .collect();
    let mut statements: BTreeMap<Name, Vec<Statement>> = BTreeMap::new();
    let mut kms: BTreeMap<(Name, Name), BTreeSet<String>> = BTreeMap::new();
    for (((role, bucket_name), role_access), &index) in access.iter().zip(&s3.of_access) {
        let bucket = &scenario.buckets[bucket_name];
        let base = &bucket_pascal[bucket_name.as_str()];
        statements
            .entry(role.clone())
            .or_default()
            .extend(s3.built[index].iter().map(|(suffix, body)| Statement {
                sid: Some(format!("{base}{suffix}")),
                ..body.clone()
            }));
        if let Some(key) = bucket.key() {
            kms.entry((role.clone(), key.to_string()))
                .or_default()
                .extend(role_access.kms_actions.iter().cloned());
        }
    }
    for ((role, key), actions) in kms {
        if actions.is_empty() {
            continue;
        }
        statements.entry(role).or_default().push(
            Statement::allow(format!("Use{}Key", pascal(&key)))
                .actions(actions)
                .resources([Value::Ref(Ref::KeyArn(key))]),
        );
    }
    statements
        .into_iter()
        .map(|(role, statements)| (role, PolicyDocument::new(statements)))
        .collect()
}

pub const DENY_INSECURE_TRANSPORT_SID: &str = "DenyInsecureTransport";
pub const DENY_OTHER_ENCRYPTION_SID: &str = "DenyOtherEncryption";
pub const DENY_OTHER_KEY_SID: &str = "DenyOtherKmsKey";
pub const DENY_KMS_WITHOUT_KEY_SID: &str = "DenyKmsWithoutKeyArn";
pub const DENY_MISSING_KEY_SID: &str = "DenyMissingKmsKey";
pub const DENY_MISSING_ENCRYPTION_SID: &str = "DenyMissingEncryption";

/// Each bucket's policy with the guardrails the bucket asks for (all of them by default) in
/// front of its grants: no plain-HTTP requests, and no upload encrypted other than with the
/// bucket's key. A bucket without grants gets a policy of its own for them.
fn with_bucket_guardrails(
    scenario: &Scenario,
    mut policies: BTreeMap<Name, PolicyDocument>,
) -> BTreeMap<Name, PolicyDocument> {
    for bucket in scenario.buckets.values() {
        let guardrails = bucket_guardrails(bucket);
        if guardrails.is_empty() {
            continue;
        }
        let policy = policies.entry(bucket.name.clone()).or_default();
        policy.statements.splice(0..0, guardrails);
    }
    policies
}

/// The `Deny` statements a bucket's settings call for. They name every principal, which is
/// what a guardrail must do; they grant nothing.
pub fn bucket_guardrails(bucket: &Bucket) -> Vec<Statement> {
    let objects = Value::lit(object_arn(bucket, ""));
    let deny_put = |sid: &str| {
        Statement::deny(sid)
            .principal(Principal::Any)
            .actions(WRITE_OBJECT_ACTIONS)
            .resources([objects.clone()])
    };
    let mut statements = Vec::new();
    if bucket.require_tls {
        statements.push(
            Statement::deny(DENY_INSECURE_TRANSPORT_SID)
                .principal(Principal::Any)
                .actions([s3::ALL])
                .resources([Value::lit(bucket.arn()), objects.clone()])
                .condition(
                    "Bool",
                    condition_key::SECURE_TRANSPORT,
                    [Value::lit("false")],
                ),
        );
    }
    let enforcement = bucket.enforce_encryption;
    if enforcement == EncryptionEnforcement::Off {
        return statements;
    }
    // A negated operator (and any `…IfExists`) also matches when the header is missing, so
    // "named, and wrong" needs `Null: false` beside it; without it, every upload relying on
    // the default encryption would be denied.
    let wrong = |sid: &str, key: &str, expected: Value| {
        deny_put(sid)
            .condition("StringNotEquals", key, [expected])
            .condition("Null", key, [Value::lit("false")])
    };
    let missing = |sid: &str, key: &str| deny_put(sid).condition("Null", key, [Value::lit("true")]);
    statements.push(wrong(
        DENY_OTHER_ENCRYPTION_SID,
        condition_key::S3_SSE,
        Value::lit(aws::SSE_KMS),
    ));
    match bucket.key() {
        Some(key) => {
            statements.push(wrong(
                DENY_OTHER_KEY_SID,
                condition_key::S3_SSE_KMS_KEY_ID,
                Value::Ref(Ref::KeyArn(key.to_string())),
            ));
            match enforcement {
                // `aws:kms` without a key id makes S3 use the AWS-managed `aws/s3` key, not
                // the bucket's default key.
                EncryptionEnforcement::IfPresent => statements.push(
                    deny_put(DENY_KMS_WITHOUT_KEY_SID)
                        .condition(
                            "StringEquals",
                            condition_key::S3_SSE,
                            [Value::lit(aws::SSE_KMS)],
                        )
                        .condition(
                            "Null",
                            condition_key::S3_SSE_KMS_KEY_ID,
                            [Value::lit("true")],
                        ),
                ),
                _ => {
                    statements.push(missing(DENY_MISSING_ENCRYPTION_SID, condition_key::S3_SSE));
                    statements.push(missing(
                        DENY_MISSING_KEY_SID,
                        condition_key::S3_SSE_KMS_KEY_ID,
                    ));
                }
            }
        }
        None => {
            // The AWS-managed key is what a request gets when it names no key id.
            statements.push(deny_put(DENY_OTHER_KEY_SID).condition(
                "Null",
                condition_key::S3_SSE_KMS_KEY_ID,
                [Value::lit("false")],
            ));
            if enforcement == EncryptionEnforcement::Strict {
                statements.push(missing(DENY_MISSING_ENCRYPTION_SID, condition_key::S3_SSE));
            }
        }
    }
    statements
}

/// Each key policy with the statements for consumers limited, where the key asks for it (the
/// default), to use through S3 in the key's region, from the consumers' own accounts. The
/// administrator statements stay as they are.
fn with_key_use_limits(
    scenario: &Scenario,
    mut policies: BTreeMap<Name, PolicyDocument>,
) -> BTreeMap<Name, PolicyDocument> {
    for (name, policy) in &mut policies {
        let key = &scenario.keys[name];
        if !key.via_s3_only {
            continue;
        }
        for statement in &mut policy.statements {
            let administrative = statement
                .sid
                .as_deref()
                .is_some_and(|sid| sid == ROOT_KEY_SID || sid == KEY_ADMIN_SID);
            if administrative || statement.effect != Effect::Allow {
                continue;
            }
            let accounts = principal_accounts(scenario, statement);
            if accounts.is_empty() {
                continue;
            }
            add_condition(
                statement,
                "StringEquals",
                condition_key::KMS_VIA_SERVICE,
                [Value::lit(aws::s3_service(&key.region))],
            );
            add_condition(
                statement,
                "StringEquals",
                condition_key::KMS_CALLER_ACCOUNT,
                accounts.into_iter().map(Value::Lit),
            );
        }
    }
    policies
}

/// Each role's KMS statements limited, for keys that ask for it, to use through S3 in the
/// key's region. In the key's own account the key policy delegates to IAM through the root
/// statement, so only the identity policy can say this there; elsewhere it repeats the key
/// policy's limit.
fn with_identity_key_limits(
    scenario: &Scenario,
    mut policies: BTreeMap<Name, PolicyDocument>,
) -> BTreeMap<Name, PolicyDocument> {
    for policy in policies.values_mut() {
        for statement in &mut policy.statements {
            let keys: BTreeSet<&Name> = statement
                .resource
                .iter()
                .flat_map(|resource| resource.inner())
                .filter_map(|value| match value {
                    Value::Ref(Ref::KeyArn(key)) => Some(key),
                    _ => None,
                })
                .collect();
            let limited: Vec<&crate::model::Key> = keys
                .iter()
                .filter_map(|key| scenario.keys.get(*key))
                .filter(|key| key.via_s3_only)
                .collect();
            // A statement that also names a key without the limit is left as it is.
            if limited.is_empty() || limited.len() != keys.len() {
                continue;
            }
            let regions: BTreeSet<String> = limited
                .iter()
                .map(|key| aws::s3_service(&key.region))
                .collect();
            add_condition(
                statement,
                "StringEquals",
                condition_key::KMS_VIA_SERVICE,
                regions.into_iter().map(Value::Lit),
            );
        }
    }
    policies
}

fn add_condition(
    statement: &mut Statement,
    operator: &str,
    key: &str,
    values: impl IntoIterator<Item = Value>,
) {
    statement
        .condition
        .entry(operator.to_string())
        .or_default()
        .insert(key.to_string(), values.into_iter().collect());
}

/// The account ids of the AWS principals a statement names.
fn principal_accounts(scenario: &Scenario, statement: &Statement) -> BTreeSet<String> {
    let Some(crate::policy::Clause::Is(Principal::Typed(principals))) = &statement.principal else {
        return BTreeSet::new();
    };
    principals
        .get("AWS")
        .into_iter()
        .flatten()
        .filter_map(|value| match value {
            Value::Lit(arn) => arn.split(':').nth(4).map(str::to_string),
            Value::Ref(Ref::RoleArn(role)) => scenario
                .roles
                .get(role)
                .map(|role| scenario.account(&role.account).id.clone()),
            Value::Ref(_) => None,
        })
        .filter(|id| !id.is_empty())
        .collect()
}

/// Merges statements that differ only in who they name: same effect, actions, resources and
/// conditions other than `aws:PrincipalArn`. Principals and pinned role ARNs are united, which
/// grants exactly the union (a pinned ARN only ever matches a caller from its own account).
/// The merged statement keeps the smallest Sid of its members, so the output is stable.
pub fn merge_principals(mut statements: Vec<Statement>) -> Vec<Statement> {
    statements.sort_by(|a, b| a.sid.cmp(&b.sid));
    // Group by everything but the principals, borrowed: no statement is copied to be compared.
    let mut groups: HashMap<MergeKey, usize> = HashMap::new();
    let group_of: Vec<usize> = statements
        .iter()
        .map(|statement| {
            let next = groups.len();
            *groups.entry(merge_key(statement)).or_insert(next)
        })
        .collect();
    drop(groups);
    let mut merged: Vec<Option<Merging>> = Vec::new();
    for (statement, group) in statements.into_iter().zip(group_of) {
        if group == merged.len() {
            merged.push(Some(Merging {
                statement,
                principals: BTreeMap::new(),
                pins: BTreeMap::new(),
                absorbed: false,
            }));
        } else if let Some(target) = &mut merged[group] {
            target.absorb(statement);
        }
    }
    merged.into_iter().flatten().map(Merging::finish).collect()
}

/// What statements that merge share: everything but Sid, principals and role pins, and which
/// operators pin roles.
type MergeKey<'a> = (
    crate::policy::Effect,
    &'a crate::policy::Clause<Vec<String>>,
    Option<&'a crate::policy::Clause<Vec<Value>>>,
    Vec<(&'a str, Vec<(&'a str, &'a [Value])>)>,
    Vec<&'a str>,
);

fn merge_key(statement: &Statement) -> MergeKey<'_> {
    let conditions = statement
        .condition
        .iter()
        .map(|(operator, keys)| {
            let keys: Vec<(&str, &[Value])> = keys
                .iter()
                .filter(|(key, _)| *key != condition_key::PRINCIPAL_ARN)
                .map(|(key, values)| (key.as_str(), values.as_slice()))
                .collect();
            (operator.as_str(), keys)
        })
        .filter(|(_, keys)| !keys.is_empty())
        .collect();
    let pinned_by = statement
        .condition
        .iter()
        .filter(|(_, keys)| keys.contains_key(condition_key::PRINCIPAL_ARN))
        .map(|(operator, _)| operator.as_str())
        .collect();
    (
        statement.effect,
        &statement.action,
        statement.resource.as_ref(),
        conditions,
        pinned_by,
    )
}

/// A statement and what it has absorbed so far, kept in sets until the end.
struct Merging {
    statement: Statement,
    principals: BTreeMap<String, BTreeSet<Value>>,
    pins: BTreeMap<String, BTreeSet<Value>>,
    absorbed: bool,
}

impl Merging {
    fn absorb(&mut self, other: Statement) {
        use crate::policy::Clause;
        if !self.absorbed {
            self.absorbed = true;
            if let Some(Clause::Is(Principal::Typed(map))) = &self.statement.principal {
                for (kind, values) in map {
                    self.principals
                        .entry(kind.clone())
                        .or_default()
                        .extend(values.iter().cloned());
                }
            }
            for (operator, keys) in &self.statement.condition {
                if let Some(values) = keys.get(condition_key::PRINCIPAL_ARN) {
                    self.pins
                        .entry(operator.clone())
                        .or_default()
                        .extend(values.iter().cloned());
                }
            }
        }
        if let (Some(Clause::Is(Principal::Typed(_))), Some(Clause::Is(Principal::Typed(from)))) =
            (&self.statement.principal, other.principal)
        {
            for (kind, values) in from {
                self.principals.entry(kind).or_default().extend(values);
            }
        }
        for (operator, mut keys) in other.condition {
            if let Some(values) = keys.remove(condition_key::PRINCIPAL_ARN) {
                self.pins.entry(operator).or_default().extend(values);
            }
        }
    }

    fn finish(self) -> Statement {
        use crate::policy::Clause;
        let mut statement = self.statement;
        if !self.absorbed {
            return statement;
        }
        if let Some(Clause::Is(Principal::Typed(map))) = &mut statement.principal {
            for (kind, values) in self.principals {
                map.insert(kind, values.into_iter().collect());
            }
        }
        for (operator, values) in self.pins {
            statement.condition.entry(operator).or_default().insert(
                condition_key::PRINCIPAL_ARN.to_string(),
                values.into_iter().collect(),
            );
        }
        statement
    }
}

/// Where each resource deploys. Roles go out first in their own unit only when resource
/// policies name them directly (principal style `role`).
fn units(lowered: &Lowered, mut role_layouts: BTreeMap<Name, RoleLayout>) -> Vec<Unit> {
    let scenario = &lowered.scenario;
    let role_phase = match scenario.principal_style {
        PrincipalStyle::Role => Phase::Roles,
        PrincipalStyle::Account => Phase::Access,
    };
    let mut units: BTreeMap<UnitId, Vec<Resource>> = BTreeMap::new();
    let mut place = |account: &str, region: &str, phase: Phase, resource: Resource| {
        units
            .entry(UnitId {
                account: account.to_string(),
                region: region.to_string(),
                phase,
            })
            .or_default()
            .push(resource);
    };
    for key in scenario.keys.values() {
        let policy = lowered.key_policies[&key.name].clone();
        place(
            &key.account,
            &key.region,
            Phase::Data,
            Resource::Key {
                key: key.name.clone(),
                policy,
            },
        );
        place(
            &key.account,
            &key.region,
            Phase::Data,
            Resource::Alias {
                key: key.name.clone(),
            },
        );
    }
    for bucket in scenario.buckets.values() {
        place(
            &bucket.account,
            &bucket.region,
            Phase::Data,
            Resource::Bucket {
                bucket: bucket.name.clone(),
            },
        );
        if let Some(policy) = lowered.bucket_policies.get(&bucket.name) {
            place(
                &bucket.account,
                &bucket.region,
                Phase::Data,
                Resource::BucketPolicy {
                    bucket: bucket.name.clone(),
                    policy: policy.clone(),
                },
            );
        }
    }
    for role in scenario.roles.values() {
        // IAM is global: roles deploy with the scenario's home region.
        let region = scenario.region.clone();
        place(
            &role.account,
            &region,
            role_phase,
            Resource::Role {
                role: role.name.clone(),
                trust: lowered.trust_policies[&role.name].clone(),
            },
        );
        if role.instance_profile {
            place(
                &role.account,
                &region,
                role_phase,
                Resource::InstanceProfile {
                    role: role.name.clone(),
                },
            );
        }
        if let Some(layout) = role_layouts.remove(&role.name) {
            if !layout.inline.is_empty() {
                place(
                    &role.account,
                    &region,
                    Phase::Access,
                    Resource::RolePolicy {
                        role: role.name.clone(),
                        policy: PolicyDocument::new(layout.inline),
                    },
                );
            }
            for (index, statements) in layout.managed.into_iter().enumerate() {
                place(
                    &role.account,
                    &region,
                    Phase::Access,
                    Resource::ManagedPolicy {
                        role: role.name.clone(),
                        number: index + 1,
                        policy: PolicyDocument::new(statements),
                    },
                );
            }
        }
    }
    for instance in scenario.instances.values() {
        place(
            &instance.account,
            &instance.region,
            Phase::Access,
            Resource::Instance {
                instance: instance.name.clone(),
            },
        );
    }
    units
        .into_iter()
        .map(|(id, resources)| Unit { id, resources })
        .collect()
}

/// The unit that creates what a reference names.
pub fn producer(lowered: &Lowered, reference: &Ref) -> UnitId {
    let scenario = &lowered.scenario;
    let role_unit = |role: &str| {
        let role = &scenario.roles[role];
        UnitId {
            account: role.account.clone(),
            region: scenario.region.clone(),
            phase: match scenario.principal_style {
                PrincipalStyle::Role => Phase::Roles,
                PrincipalStyle::Account => Phase::Access,
            },
        }
    };
    match reference {
        Ref::KeyArn(key) => {
            let key = &scenario.keys[key];
            UnitId {
                account: key.account.clone(),
                region: key.region.clone(),
                phase: Phase::Data,
            }
        }
        Ref::RoleArn(role) => role_unit(role),
        Ref::InstanceProfile(instance) => role_unit(&scenario.instances[instance].role),
    }
}

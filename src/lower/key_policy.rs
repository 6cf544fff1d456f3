//! Key policies: the account root keeps the key (and delegates same-account use to IAM), named
//! administrators manage it, and consumer roles of other accounts may use it for the objects
//! they were granted, limited where the key asks to use through S3 from their own accounts.

use super::access::{object_arn, BucketAccess, S3Statements};
use super::consumers::{consumer_statements, ConsumerPrincipal, RoleNames};
use crate::aws::{self, condition_key, KEY_ADMIN_ACTIONS, ROOT_KEY_ACTIONS};
use crate::model::{Bucket, Scenario};
use crate::names::pascal;
use crate::policy::{Clause, Effect, Name, PolicyDocument, Principal, Ref, Statement, Value};
use std::collections::{BTreeMap, BTreeSet, HashMap};

pub const ROOT_KEY_SID: &str = "EnableIamPolicies";
pub const KEY_ADMIN_SID: &str = "KeyAdministrators";

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

pub(super) fn key_policies(
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
    // Per key and consumer role: KMS actions and the encryption contexts they are used in. A
    // role that reaches the bucket through an access point is named by its account instead
    // (the `bool`): the access point and identity policies pin the role.
    type KeyUse<'a> = (BTreeSet<&'a str>, BTreeSet<&'a Value>);
    let mut uses: BTreeMap<(&str, &str, bool), KeyUse> = BTreeMap::new();
    for (((role, bucket_name), role_access), &index) in access.iter().zip(&s3.of_access) {
        let bucket = &scenario.buckets[bucket_name];
        let Some(key) = bucket.key() else { continue };
        if scenario.roles[role].account == scenario.keys[key].account
            || role_access.kms_actions.is_empty()
        {
            // Same account: the root statement delegates to the role's identity policy.
            continue;
        }
        // Through access points, the consumers are named by account: one statement per account
        // with everything its roles need.
        let by_account = !bucket.access_points.is_empty();
        let name = if by_account {
            scenario.roles[role].account.as_str()
        } else {
            role.as_str()
        };
        let entry = uses.entry((key, name, by_account)).or_default();
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
            let mut statements = Vec::new();
            // A live key policy keeps its own administrators; crossgrant adds its grants.
            if key.live_policy().is_none() {
                statements.push(
                    Statement::allow(ROOT_KEY_SID)
                        .principal(Principal::aws([Value::lit(account.root_arn())]))
                        .actions(ROOT_KEY_ACTIONS)
                        .resources([Value::lit("*")]),
                );
            }
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
            let mut built: Vec<Statement> = Vec::new();
            let mut bodies: HashMap<(&KeyUse, Option<&str>), usize> = HashMap::new();
            let used: Vec<(&str, bool, usize)> = uses
                .range((key.name.as_str(), "", false)..)
                .take_while(|((key_name, _, _), _)| *key_name == key.name)
                .map(|(&(_, name, by_account), key_use)| {
                    let account = by_account.then_some(name);
                    let next = built.len();
                    let index = *bodies.entry((key_use, account)).or_insert(next);
                    if index == next {
                        let (actions, contexts) = key_use;
                        let mut statement = Statement::allow("")
                            .actions(actions.iter().copied())
                            .resources([Value::lit("*")])
                            .condition(
                                "StringLike",
                                condition_key::KMS_S3_ENCRYPTION_CONTEXT,
                                contexts.iter().map(|&context| context.clone()),
                            );
                        if let Some(account) = account {
                            // Named by its account, the role may use the key only as S3
                            // calls it, for its own account's requests.
                            statement = statement
                                .condition(
                                    "StringEquals",
                                    condition_key::KMS_VIA_SERVICE,
                                    [Value::lit(aws::s3_service(&key.region))],
                                )
                                .condition(
                                    "StringEquals",
                                    condition_key::KMS_CALLER_ACCOUNT,
                                    [Value::lit(scenario.account(account).id.clone())],
                                );
                        }
                        built.push(Statement {
                            sid: None,
                            ..statement
                        });
                    }
                    (name, by_account, index)
                })
                .collect();
            let account_roots: HashMap<&str, ConsumerPrincipal> = used
                .iter()
                .filter(|(_, by_account, _)| *by_account)
                .map(|&(account, _, _)| {
                    (
                        account,
                        (Value::lit(scenario.account(account).root_arn()), Vec::new()),
                    )
                })
                .collect();
            let parts = used
                .iter()
                .map(|&(name, by_account, index)| {
                    if by_account {
                        (
                            format!("UseKeyFromAccount{}", pascal(name)),
                            &built[index],
                            &account_roots[name],
                        )
                    } else {
                        (
                            format!("{}UseKey", roles.pascal[name]),
                            &built[index],
                            &roles.principals[name],
                        )
                    }
                })
                .collect();
            statements.extend(consumer_statements(parts));
            (key.name.clone(), PolicyDocument::new(statements))
        })
        .collect()
}

/// Each key policy with the statements for consumers limited, where the key asks for it (the
/// default), to use through S3 in the key's region, from the consumers' own accounts. The
/// administrator statements stay as they are.
pub(super) fn with_key_use_limits(
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
            statement.add_condition(
                "StringEquals",
                condition_key::KMS_VIA_SERVICE,
                [Value::lit(aws::s3_service(&key.region))],
            );
            statement.add_condition(
                "StringEquals",
                condition_key::KMS_CALLER_ACCOUNT,
                accounts.into_iter().map(Value::Lit),
            );
        }
    }
    policies
}

/// The account ids of the AWS principals a statement names.
fn principal_accounts(scenario: &Scenario, statement: &Statement) -> BTreeSet<String> {
    let Some(Clause::Is(Principal::Typed(principals))) = &statement.principal else {
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

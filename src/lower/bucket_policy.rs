//! Bucket policies: the owner's statements for consumer roles in other accounts, behind the
//! guardrails the bucket asks for (no plain HTTP, no upload encrypted other than with the
//! bucket's key).

use super::access::{object_arn, BucketAccess, S3Statements};
use super::consumers::{consumer_statements, ConsumerPart, RoleNames};
use crate::aws::{self, condition_key, s3, LIST_ACTION, WRITE_OBJECT_ACTIONS};
use crate::model::{Bucket, EncryptionEnforcement, Scenario};
use crate::policy::{Name, PolicyDocument, Principal, Ref, Statement, Value};
use std::collections::{BTreeMap, BTreeSet};

pub(super) fn bucket_policies(
    scenario: &Scenario,
    roles: &RoleNames,
    access: &BTreeMap<(Name, Name), BucketAccess>,
    s3: &S3Statements,
) -> BTreeMap<Name, PolicyDocument> {
    let mut grantees: BTreeMap<&Name, Vec<(&Name, usize)>> = BTreeMap::new();
    let mut delegated: BTreeMap<&Name, BTreeSet<&str>> = BTreeMap::new();
    for (((role, bucket_name), role_access), &index) in access.iter().zip(&s3.of_access) {
        let bucket = &scenario.buckets[bucket_name];
        if !bucket.access_points.is_empty() {
            // The access points' policies name the roles; the bucket delegates to them.
            let actions = delegated.entry(bucket_name).or_default();
            actions.extend(
                role_access
                    .object_actions
                    .values()
                    .flatten()
                    .map(String::as_str),
            );
            actions.extend(role_access.bucket_actions.iter().map(String::as_str));
            if role_access.may_list() {
                actions.insert(LIST_ACTION);
            }
            continue;
        }
        if scenario.roles[role].account == bucket.account {
            // Same account: the role's identity policy alone grants S3 access.
            continue;
        }
        grantees.entry(bucket_name).or_default().push((role, index));
    }
    grantees
        .into_iter()
        .map(|(bucket_name, grantees)| {
            let statements = consumer_statements(consumer_parts(roles, s3, &grantees));
            (bucket_name.clone(), PolicyDocument::new(statements))
        })
        .chain(delegated.into_iter().map(|(bucket_name, actions)| {
            let bucket = &scenario.buckets[bucket_name];
            (
                bucket_name.clone(),
                PolicyDocument::new(vec![delegation(scenario, bucket, actions)]),
            )
        }))
        .collect()
}

/// The policy of each access point, by bucket and consumer account: the account's roles of
/// other accounts than the bucket's with their grants' actions on the access point's ARNs (an
/// access point of the owner's own roles needs none: their identity policies grant).
pub(super) fn access_point_policies(
    scenario: &Scenario,
    roles: &RoleNames,
    access: &BTreeMap<(Name, Name), BucketAccess>,
    s3: &S3Statements,
) -> BTreeMap<(Name, Name), PolicyDocument> {
    let mut grantees: BTreeMap<(&Name, &Name), Vec<(&Name, usize)>> = BTreeMap::new();
    for (((role, bucket_name), _), &index) in access.iter().zip(&s3.of_access) {
        let bucket = &scenario.buckets[bucket_name];
        let account = &scenario.roles[role].account;
        if bucket.access_points.is_empty() || *account == bucket.account {
            continue;
        }
        grantees
            .entry((bucket_name, account))
            .or_default()
            .push((role, index));
    }
    grantees
        .into_iter()
        .map(|((bucket_name, account), grantees)| {
            (
                (bucket_name.clone(), account.clone()),
                PolicyDocument::new(consumer_statements(consumer_parts(roles, s3, &grantees))),
            )
        })
        .collect()
}

/// The statements of each role's S3 access in a resource policy, before their principals are
/// added: a Sid of the role and the statement's suffix, the body, the role's principal.
fn consumer_parts<'a>(
    roles: &'a RoleNames,
    s3: &'a S3Statements,
    grantees: &[(&Name, usize)],
) -> Vec<ConsumerPart<'a>> {
    grantees
        .iter()
        .flat_map(|&(role, index)| {
            let base = &roles.pascal[role.as_str()];
            let principal = &roles.principals[role.as_str()];
            s3.built[index]
                .iter()
                .map(move |(suffix, body)| (format!("{base}{suffix}"), body, principal))
        })
        .collect()
}

pub const DELEGATE_TO_ACCESS_POINTS_SID: &str = "DelegateToAccessPoints";

/// The statement by which a bucket leaves access control to the access points of its own
/// account (S3 User Guide, *Delegating access control to access points*): every principal,
/// for the actions the grants use, but only through an access point the owner's account
/// owns, whose policy names the roles.
fn delegation(scenario: &Scenario, bucket: &Bucket, actions: BTreeSet<&str>) -> Statement {
    Statement::allow(DELEGATE_TO_ACCESS_POINTS_SID)
        .principal(Principal::aws([Value::lit("*")]))
        .actions(actions)
        .resources([Value::lit(bucket.arn()), Value::lit(object_arn(bucket, ""))])
        .condition(
            "StringEquals",
            condition_key::S3_DATA_ACCESS_POINT_ACCOUNT,
            [Value::lit(scenario.account(&bucket.account).id.clone())],
        )
}

const DENY_INSECURE_TRANSPORT_SID: &str = "DenyInsecureTransport";
const DENY_OTHER_ENCRYPTION_SID: &str = "DenyOtherEncryption";
const DENY_OTHER_KEY_SID: &str = "DenyOtherKmsKey";
const DENY_KMS_WITHOUT_KEY_SID: &str = "DenyKmsWithoutKeyArn";
const DENY_MISSING_KEY_SID: &str = "DenyMissingKmsKey";
const DENY_MISSING_ENCRYPTION_SID: &str = "DenyMissingEncryption";

/// Each bucket's policy with the guardrails the bucket asks for (all of them by default) in
/// front of its grants: no plain-HTTP requests, and no upload encrypted other than with the
/// bucket's key. A bucket without grants gets a policy of its own for them.
pub(super) fn with_bucket_guardrails(
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
fn bucket_guardrails(bucket: &Bucket) -> Vec<Statement> {
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

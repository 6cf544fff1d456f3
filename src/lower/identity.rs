//! The consumer side: each role's identity policy (the S3 statements of its accesses and the
//! use of the keys behind them) and the trust policy that lets its service assume it.

use super::access::{BucketAccess, S3Statements};
use super::consumers::{consumer_principal, pin_operator};
use crate::aws::{self, condition_key, sts};
use crate::model::{Key, Scenario, Trust};
use crate::names::pascal;
use crate::policy::{Name, PolicyDocument, Principal, Ref, Statement, Value};
use std::collections::{BTreeMap, BTreeSet, HashMap};

pub(super) fn role_policies(
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
    // A consumer that reaches buckets through access roles may assume exactly those.
    for access_role in scenario.roles.values() {
        if let Some(consumer) = access_role.access_role_of() {
            statements.entry(consumer.clone()).or_default().push(
                Statement::allow(format!("Assume{}", pascal(&access_role.name)))
                    .actions([sts::ASSUME_ROLE])
                    .resources([Value::Ref(Ref::RoleArn(access_role.name.clone()))]),
            );
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

/// Each role's KMS statements limited, for keys that ask for it, to use through S3 in the
/// key's region. In the key's own account the key policy delegates to IAM through the root
/// statement, so only the identity policy can say this there; elsewhere it repeats the key
/// policy's limit.
pub(super) fn with_identity_key_limits(
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
            let limited: Vec<&Key> = keys
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
            statement.add_condition(
                "StringEquals",
                condition_key::KMS_VIA_SERVICE,
                regions.into_iter().map(Value::Lit),
            );
        }
    }
    policies
}

/// Each role's trust policy: its service may assume it (EKS Pod Identity also tags the
/// session), or one Kubernetes service account through the cluster's OIDC provider, for STS.
pub(super) fn trust_policies(scenario: &Scenario) -> BTreeMap<Name, PolicyDocument> {
    scenario
        .roles
        .values()
        .map(|role| {
            let statement = match &role.trust {
                Trust::Role {
                    consumer,
                    external_id,
                } => {
                    let (principal, pins) = consumer_principal(scenario, consumer);
                    let mut statement = Statement::allow("AssumeByConsumer")
                        .principal(Principal::aws([principal]))
                        .actions([sts::ASSUME_ROLE]);
                    if !pins.is_empty() {
                        statement.add_condition(
                            pin_operator(&pins),
                            condition_key::PRINCIPAL_ARN,
                            pins,
                        );
                    }
                    if let Some(id) = external_id {
                        statement.add_condition(
                            "StringEquals",
                            condition_key::STS_EXTERNAL_ID,
                            [Value::lit(id)],
                        );
                    }
                    statement
                }
                Trust::Service(service) => Statement::allow("AssumeByService")
                    .principal(Principal::service(service))
                    .actions(aws::service_trust_actions(service).iter().copied()),
                Trust::WebIdentity {
                    provider_arn,
                    issuer,
                    subject,
                } => Statement::allow("AssumeByServiceAccount")
                    .principal(Principal::Typed(BTreeMap::from([(
                        "Federated".to_string(),
                        vec![Value::lit(provider_arn)],
                    )])))
                    .actions([sts::ASSUME_ROLE_WITH_WEB_IDENTITY])
                    .condition(
                        "StringEquals",
                        &format!("{issuer}:sub"),
                        [Value::lit(subject)],
                    )
                    .condition(
                        "StringEquals",
                        &format!("{issuer}:aud"),
                        [Value::lit(sts::AUDIENCE)],
                    ),
            };
            let trust = PolicyDocument::new(vec![Statement {
                resource: None,
                ..statement
            }]);
            (role.name.clone(), trust)
        })
        .collect()
}

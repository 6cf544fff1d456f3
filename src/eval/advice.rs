//! What to change when a request is denied: for each layer that lacks an allow, the statement
//! that would grant exactly this request; for an explicit deny, the statement to narrow. Used by
//! `explain`, whose readers are debugging a live setup and want something to paste.
//!
//! A suggestion never grants more than the denied request: one action, the request's resource,
//! the caller itself. When the layer already has statements for the caller and the resource,
//! the suggestion keeps their conditions (`kms:ViaService`, `kms:CallerAccount`, an encryption
//! context, `aws:PrincipalArn`, …); and when every such statement fails on a condition the
//! request carries, the advice names that condition instead of offering a statement without it.

use super::condition::{holds, BaseOperator, Operator};
use super::engine::{evaluate, Decision, Layer, NamedPolicy, PolicySet, PrincipalScope, Reason};
use super::error::StatementRef;
use super::request::{Caller, Request};
use crate::aws::condition_key::{
    KMS_CALLER_ACCOUNT, KMS_S3_ENCRYPTION_CONTEXT, PRINCIPAL_ACCOUNT, PRINCIPAL_ARN,
    PRINCIPAL_ORG_ID, PRINCIPAL_TYPE, S3_PREFIX,
};
use crate::aws::s3_arn_rest;
use crate::policy::{Clause, Conditions, Effect, PolicyDocument, Statement};
use serde_json::{json, Map, Value as Json};
use std::fmt;

/// One thing to change in one layer.
#[derive(Clone, Debug, PartialEq)]
pub enum Advice {
    /// Add this statement to the layer's document (creating the document if there is none).
    AddStatement { layer: Layer, statement: Json },
    /// Remove or narrow the statement that denies.
    NarrowDeny { layer: Layer, statement: String },
    /// The key is AWS managed: its policy cannot change, so no statement can fix the request.
    AwsManagedKey { key_account: String },
    /// The request is unsigned: the fix is to sign it, not to open the bucket or key to everyone
    /// (and KMS refuses unsigned requests whatever its key policy says).
    SignTheRequest,
    /// A statement covers the caller and the resource but one of its conditions does not hold
    /// for this request: dropping the condition would widen the statement, so it is named.
    ConditionFails {
        layer: Layer,
        statement: String,
        condition: String,
        actual: Option<Vec<String>>,
    },
    /// A key policy condition expects the bucket ARN as encryption context, which S3 sends
    /// only with an S3 Bucket Key, and the request was stated without one.
    BucketKeyContext {
        statement: String,
        bucket_arn: String,
        object_arn: String,
    },
}

impl fmt::Display for Advice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Advice::AddStatement { layer, statement } => write!(
                f,
                "add to the {layer}:\n{}",
                serde_json::to_string_pretty(statement).unwrap_or_default()
            ),
            Advice::NarrowDeny { layer, statement } => write!(
                f,
                "remove or narrow {statement} in the {layer}: an explicit deny overrides every allow"
            ),
            Advice::AwsManagedKey { key_account } => write!(
                f,
                "the key is the AWS managed aws/s3 key of account {key_account}: its key policy is fixed by AWS and only lets principals of that account use it through S3, so no policy change can grant this. Ways out: re-encrypt the bucket with a customer-managed KMS key whose key policy can name the caller, or have the caller assume a role in account {key_account} and access the bucket from there."
            ),
            Advice::SignTheRequest => f.write_str(
                "the request is unsigned: call with AWS credentials (crossgrant does not suggest opening a bucket or key to everyone, and KMS refuses unsigned requests whatever its key policy says)",
            ),
            Advice::ConditionFails {
                layer,
                statement,
                condition,
                actual,
            } => {
                let actual = match actual {
                    Some(values) => format!("this request has {}", values.join(", ")),
                    None => "this request has no such value".to_string(),
                };
                write!(
                    f,
                    "{statement} in the {layer} covers this caller, but its condition {condition} does not hold ({actual}): check the request you asked about (--region, --bucket-key, --plain-http), or change the condition if it is wrong; crossgrant does not suggest a statement without it"
                )
            }
            Advice::BucketKeyContext {
                statement,
                bucket_arn,
                object_arn,
            } => write!(
                f,
                "{statement} in the key policy expects the encryption context {KMS_S3_ENCRYPTION_CONTEXT} = {bucket_arn}, which is what S3 sends when the bucket uses an S3 Bucket Key; this request was asked without --bucket-key, so S3 sends the object ARN {object_arn}. If the bucket uses a Bucket Key (`aws s3api get-bucket-encryption` shows \"BucketKeyEnabled\": true), re-run with --bucket-key; if it does not, the condition must name the object ARNs S3 sends. crossgrant does not suggest a statement without the condition"
            ),
        }
    }
}

/// The statement granting exactly `request` in `layer`.
pub fn statement_for(layer: Layer, request: &Request) -> Json {
    let sid = format!(
        "Allow{}",
        request.action.split(':').nth(1).unwrap_or(&request.action)
    );
    let principal = match &request.caller {
        Caller::Role { arn, .. } => json!({ "AWS": arn }),
        Caller::Anonymous => json!("*"),
    };
    let mut statement = match layer {
        Layer::Identity | Layer::ServiceControlPolicy | Layer::PermissionsBoundary => json!({
            "Sid": sid,
            "Effect": "Allow",
            "Action": request.action,
            "Resource": request.resource,
        }),
        Layer::BucketPolicy
        | Layer::AccessPointPolicy
        | Layer::ResourceControlPolicy
        | Layer::VpcEndpointPolicy => json!({
            "Sid": sid,
            "Effect": "Allow",
            "Principal": principal,
            "Action": request.action,
            "Resource": request.resource,
        }),
        Layer::KeyPolicy => json!({
            "Sid": sid,
            "Effect": "Allow",
            "Principal": principal,
            "Action": request.action,
            "Resource": "*",
        }),
        // A trust policy names no resource: it is the role's own.
        Layer::TrustPolicy => json!({
            "Sid": sid,
            "Effect": "Allow",
            "Principal": principal,
            "Action": request.action,
        }),
    };
    // A list grant stays limited to the prefix asked for, in whichever layer it is added.
    if let (Layer::BucketPolicy | Layer::AccessPointPolicy | Layer::Identity, Some(prefix)) =
        (layer, request.context.get(S3_PREFIX))
    {
        statement["Condition"] =
            json!({ "StringLike": { (S3_PREFIX): format!("{}*", prefix[0]) } });
    }
    statement
}

/// What to change so that `request`, decided as `decision` against `policies`, would be
/// allowed.
pub fn advise(
    request: &Request,
    decision: &Decision,
    policies: &PolicySet,
    aws_managed_key: bool,
) -> Vec<Advice> {
    if decision.verdict.is_allowed() {
        return Vec::new();
    }
    if request.caller == Caller::Anonymous {
        return vec![Advice::SignTheRequest];
    }
    let mut advice = Vec::new();
    for reason in &decision.reasons {
        match reason {
            Reason::DeniedBy { layer, statement } => advice.push(Advice::NarrowDeny {
                layer: *layer,
                statement: statement.to_string(),
            }),
            Reason::Missing { layer, .. } => {
                if *layer == Layer::KeyPolicy && aws_managed_key {
                    let key_account = request.resource_account.clone();
                    if !advice.contains(&Advice::AwsManagedKey {
                        key_account: key_account.clone(),
                    }) {
                        advice.push(Advice::AwsManagedKey { key_account });
                    }
                    continue;
                }
                advice.extend(advise_layer(*layer, request, policies));
            }
            Reason::AllowedBy { .. } => {}
        }
    }
    advice
}

/// A condition of a statement, with whether it holds for the request.
struct Condition {
    operator: String,
    parsed: Operator,
    key: String,
    values: Vec<String>,
    holds: bool,
}

impl Condition {
    fn describe(&self) -> String {
        format!("{} {} {:?}", self.operator, self.key, self.values)
    }
}

/// An allow statement of a layer that covers the caller and the request's resource (it may
/// list other actions): what the layer already says about this caller there.
struct Related {
    statement: StatementRef,
    scope: PrincipalScope,
    conditions: Vec<Condition>,
}

/// Keys that say who the caller is: a statement whose condition on one of them fails is
/// about someone else, not a near miss for this caller.
const CALLER_KEYS: [&str; 5] = [
    PRINCIPAL_ARN,
    PRINCIPAL_ACCOUNT,
    PRINCIPAL_ORG_ID,
    PRINCIPAL_TYPE,
    KMS_CALLER_ACCOUNT,
];

fn is_caller_key(key: &str) -> bool {
    CALLER_KEYS
        .iter()
        .any(|known| known.eq_ignore_ascii_case(key))
}

fn advise_layer(layer: Layer, request: &Request, policies: &PolicySet) -> Vec<Advice> {
    let related = related_statements(layer, request, policies);
    // Of the statements whose conditions all hold, the one that says the most about the
    // caller: its conditions are the narrowest to keep.
    let holding = related
        .iter()
        .filter(|related| related.conditions.iter().all(|condition| condition.holds))
        .fold(None, |best: Option<&Related>, candidate| match best {
            Some(best) if best.conditions.len() >= candidate.conditions.len() => Some(best),
            _ => Some(candidate),
        });
    if let Some(related) = holding {
        return vec![Advice::AddStatement {
            layer,
            statement: keeping_conditions(layer, request, related),
        }];
    }
    if related.is_empty() {
        return vec![Advice::AddStatement {
            layer,
            statement: statement_for(layer, request),
        }];
    }
    related
        .iter()
        .filter_map(|related| {
            let failing = related
                .conditions
                .iter()
                .find(|condition| !condition.holds)?;
            Some(near_miss(layer, request, related, failing))
        })
        .collect()
}

/// The advice for a statement that would cover the request but for `failing`.
fn near_miss(layer: Layer, request: &Request, related: &Related, failing: &Condition) -> Advice {
    let statement = related.statement.to_string();
    let actual = request.context.get(&failing.key).map(<[String]>::to_vec);
    if failing.key.eq_ignore_ascii_case(KMS_S3_ENCRYPTION_CONTEXT) {
        if let Some(object_arn) = actual.as_ref().and_then(|values| values.first()) {
            if let Some(bucket_arn) = bucket_of_object_arn(object_arn) {
                let mut context = request.context.clone();
                context.set(KMS_S3_ENCRYPTION_CONTEXT, bucket_arn.clone());
                let with_bucket_key =
                    holds(&failing.parsed, &failing.key, &failing.values, &context)
                        .unwrap_or(false);
                if with_bucket_key {
                    return Advice::BucketKeyContext {
                        statement,
                        bucket_arn,
                        object_arn: object_arn.clone(),
                    };
                }
            }
        }
    }
    Advice::ConditionFails {
        layer,
        statement,
        condition: failing.describe(),
        actual,
    }
}

/// `arn:aws:s3:::bucket/key` → `arn:aws:s3:::bucket`; `None` for a bucket ARN.
fn bucket_of_object_arn(arn: &str) -> Option<String> {
    let rest = s3_arn_rest(arn)?;
    let (bucket, _) = rest.split_once('/')?;
    Some(format!("{}{bucket}", &arn[..arn.len() - rest.len()]))
}

/// The statements of `layer` that cover the caller and the resource, whatever their actions,
/// and whose conditions either hold or fail only on what this request carries. A statement
/// that fails on who the caller is, on a key the request lacks (a condition made for another
/// kind of request) or on the list prefix (a scope of its own, like the resource) is not
/// about this request.
fn related_statements(layer: Layer, request: &Request, policies: &PolicySet) -> Vec<Related> {
    let documents: Vec<&NamedPolicy> = policies.documents_of(layer);
    let mut related = Vec::new();
    for policy in documents {
        for (index, statement) in policy.document.statements.iter().enumerate() {
            if statement.effect != Effect::Allow {
                continue;
            }
            let Some(scope) = covers(layer, request, statement) else {
                continue;
            };
            let Some(conditions) = conditions_of(statement, request) else {
                continue;
            };
            let unrelated = conditions.iter().any(|condition| {
                !condition.holds
                    && (is_caller_key(&condition.key)
                        || condition.key.eq_ignore_ascii_case(S3_PREFIX)
                        || request.context.get(&condition.key).is_none())
            });
            if unrelated {
                continue;
            }
            related.push(Related {
                statement: StatementRef {
                    policy: policy.name.to_string(),
                    index: index + 1,
                    sid: statement.sid.clone(),
                    kept_from: None,
                },
                scope,
                conditions,
            });
        }
    }
    related
}

/// Whether `statement`, were it to list the request's action and had it no conditions, would
/// apply to the request: its principal covers the caller and its resource the request's.
fn covers(layer: Layer, request: &Request, statement: &Statement) -> Option<PrincipalScope> {
    let mut probe = statement.clone();
    probe.action = Clause::Is(vec![request.action.clone()]);
    probe.condition = Conditions::new();
    let document = PolicyDocument::new(vec![probe]);
    let named = NamedPolicy {
        name: "probe",
        document: &document,
    };
    let decision = evaluate(request, &PolicySet::only(layer, named)).ok()?;
    let result = decision.result_of(layer)?;
    result.allows.first().map(|applied| applied.scope)
}

/// The statement's conditions, each decided for the request; `None` when one cannot be read
/// (the evaluation of the document itself already reported it).
fn conditions_of(statement: &Statement, request: &Request) -> Option<Vec<Condition>> {
    let mut conditions = Vec::new();
    for (operator, keys) in &statement.condition {
        let parsed = Operator::parse(operator).ok()?;
        for (key, values) in keys {
            let values: Vec<String> = values
                .iter()
                .map(|value| value.as_lit().map(str::to_string))
                .collect::<Option<_>>()?;
            let holds = holds(&parsed, key, &values, &request.context).ok()?;
            conditions.push(Condition {
                operator: operator.clone(),
                parsed,
                key: key.clone(),
                values,
                holds,
            });
        }
    }
    Some(conditions)
}

/// [`statement_for`], with the conditions of `related` kept. A condition that pins the caller
/// by an exact `aws:PrincipalArn` keeps only the caller's ARN, and with it the account-root
/// principal of a statement written that way (the root plus the pin is the caller alone, and
/// survives the role being re-created); otherwise the principal is the caller itself.
fn keeping_conditions(layer: Layer, request: &Request, related: &Related) -> Json {
    let mut statement = statement_for(layer, request);
    let caller_arn = request.caller.arn().unwrap_or_default();
    let mut pinned = false;
    let mut block = match statement.get("Condition") {
        Some(Json::Object(block)) => block.clone(),
        _ => Map::new(),
    };
    for condition in &related.conditions {
        let already = block.values().any(|keys| {
            keys.as_object().is_some_and(|keys| {
                keys.keys()
                    .any(|key| key.eq_ignore_ascii_case(&condition.key))
            })
        });
        if already {
            continue;
        }
        let exact_pin = condition.key.eq_ignore_ascii_case(PRINCIPAL_ARN)
            && condition.parsed.set.is_none()
            && !condition.parsed.if_exists
            && matches!(
                condition.parsed.base,
                BaseOperator::ArnEquals | BaseOperator::StringEquals
            )
            && condition.values.iter().any(|value| value == caller_arn);
        let values = if exact_pin {
            pinned = true;
            json!(caller_arn)
        } else if condition.values.len() == 1 {
            json!(condition.values[0])
        } else {
            json!(condition.values)
        };
        let keys = block
            .entry(condition.operator.clone())
            .or_insert_with(|| Json::Object(Map::new()));
        if let Json::Object(keys) = keys {
            keys.insert(condition.key.clone(), values);
        }
    }
    if !block.is_empty() {
        statement["Condition"] = Json::Object(block);
    }
    if layer != Layer::Identity && pinned && related.scope == PrincipalScope::Account {
        if let Some(account) = request.caller.account() {
            let partition = request
                .caller
                .arn()
                .and_then(crate::aws::Partition::of_arn)
                .unwrap_or_default();
            statement["Principal"] = json!({ "AWS": partition.root_arn(account) });
        }
    }
    statement
}

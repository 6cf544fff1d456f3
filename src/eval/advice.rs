//! What to change when a request is denied: for each layer that lacks an allow, the statement
//! that would grant exactly this request; for an explicit deny, the statement to narrow. Used by
//! `explain`, whose readers are debugging a live setup and want something to paste.

use super::engine::{Decision, Layer, Reason};
use super::request::{Caller, Request};
use crate::aws::condition_key::S3_PREFIX;
use serde_json::{json, Value as Json};
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
        Layer::Identity => json!({
            "Sid": sid,
            "Effect": "Allow",
            "Action": request.action,
            "Resource": request.resource,
        }),
        Layer::BucketPolicy => json!({
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
    };
    // A list grant stays limited to the prefix asked for, in whichever layer it is added.
    if let (Layer::BucketPolicy | Layer::Identity, Some(prefix)) =
        (layer, request.context.get(S3_PREFIX))
    {
        statement["Condition"] =
            json!({ "StringLike": { (S3_PREFIX): format!("{}*", prefix[0]) } });
    }
    statement
}

/// What to change so that `request`, decided as `decision`, would be allowed.
pub fn advise(request: &Request, decision: &Decision, aws_managed_key: bool) -> Vec<Advice> {
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
                advice.push(Advice::AddStatement {
                    layer: *layer,
                    statement: statement_for(*layer, request),
                });
            }
            Reason::AllowedBy { .. } => {}
        }
    }
    advice
}

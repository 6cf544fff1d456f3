//! The guardrail layers a request meets, as AWS Organizations, VPC endpoints and IAM attach
//! them, for `check` and `explain` alike:
//! - the SCPs of the caller's account. AWS attaches `FullAWSAccess` to every account, and most
//!   organizations keep it and add deny lists; when none of the declared SCPs allows anything,
//!   `FullAWSAccess` is taken as attached beside them. Declared SCPs with an `Allow` are taken
//!   as the organization's allow list: what they do not allow is denied;
//! - the RCPs of the resource's account, with `RCPFullAWSAccess`, which AWS attaches to every
//!   account and which cannot be detached (RCPs themselves only deny);
//! - the policy of the VPC endpoint an S3 request came through (a request carries
//!   `aws:SourceVpce` exactly when it came through one);
//! - the caller's permissions boundary.

use super::engine::{GuardrailPolicies, Layer, NamedPolicy};
use crate::policy::{Effect, PolicyDocument, Principal, Statement, Value};
use std::sync::LazyLock;

pub const FULL_AWS_ACCESS: &str = "FullAWSAccess (attached by AWS)";
pub const RCP_FULL_AWS_ACCESS: &str = "RCPFullAWSAccess (attached by AWS)";

/// `FullAWSAccess`, the SCP AWS attaches to every account: everything allowed.
pub static FULL_AWS_ACCESS_POLICY: LazyLock<PolicyDocument> = LazyLock::new(|| {
    PolicyDocument::new(vec![Statement::allow("FullAWSAccess")
        .actions(["*"])
        .resources([Value::lit("*")])])
});

/// `RCPFullAWSAccess`, the RCP AWS attaches to every account: everyone allowed everything.
pub static RCP_FULL_AWS_ACCESS_POLICY: LazyLock<PolicyDocument> = LazyLock::new(|| {
    PolicyDocument::new(vec![Statement::allow("RCPFullAWSAccess")
        .principal(Principal::Any)
        .actions(["*"])
        .resources([Value::lit("*")])])
});

/// The SCP layer of an account whose declared SCPs are `declared`.
pub fn scp_layer<'a>(declared: Vec<NamedPolicy<'a>>) -> GuardrailPolicies<'a> {
    let allows = declared.iter().any(|policy| {
        policy
            .document
            .statements
            .iter()
            .any(|statement| statement.effect == Effect::Allow)
    });
    let mut policies = declared;
    if !allows {
        policies.push(NamedPolicy {
            name: FULL_AWS_ACCESS,
            document: &FULL_AWS_ACCESS_POLICY,
        });
    }
    GuardrailPolicies {
        layer: Layer::ServiceControlPolicy,
        policies,
    }
}

/// The RCP layer of an account whose declared RCPs are `declared`.
pub fn rcp_layer<'a>(declared: Vec<NamedPolicy<'a>>) -> GuardrailPolicies<'a> {
    let mut policies = declared;
    policies.push(NamedPolicy {
        name: RCP_FULL_AWS_ACCESS,
        document: &RCP_FULL_AWS_ACCESS_POLICY,
    });
    GuardrailPolicies {
        layer: Layer::ResourceControlPolicy,
        policies,
    }
}

/// A layer of one policy: an endpoint policy or a permissions boundary.
pub fn single_layer(layer: Layer, policy: NamedPolicy<'_>) -> GuardrailPolicies<'_> {
    GuardrailPolicies {
        layer,
        policies: vec![policy],
    }
}

/// The name a declared guardrail's statements are reported under.
pub fn policy_name(kind: &crate::model::GuardrailKind, file: &str) -> String {
    use crate::model::GuardrailKind;
    match kind {
        GuardrailKind::Scp { .. } => format!("SCP {file}"),
        GuardrailKind::Rcp { .. } => format!("RCP {file}"),
        GuardrailKind::VpcEndpoint { vpce_id, .. } => {
            format!("endpoint policy of {vpce_id} ({file})")
        }
        GuardrailKind::PermissionsBoundary { .. } => format!("permissions boundary {file}"),
    }
}

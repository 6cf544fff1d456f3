//! Lowering: the validated scenario becomes deployment units (one per account, region and
//! deploy phase) holding typed resources, and the three policy documents every grant needs —
//! bucket policy and key policy in the owner account, identity policy on the consumer role —
//! each consolidated as far as its AWS size limit requires. This is the one place that decides
//! which AWS actions, principals and conditions make cross-account SSE-KMS access work;
//! renderers print what it decides, and the evaluator judges the very same documents.
//!
//! Grants merge into each role's access to each bucket ([`access`]); the owner's bucket
//! policies ([`bucket_policy`]) and key policies ([`key_policy`]) name the consumer roles as
//! [`consumers`] says, the consumers get identity and trust policies ([`identity`]); every
//! limited document is measured ([`limits`]) and consolidated ([`consolidate`]), and the
//! resources are placed in deploy units ([`units`]).

mod access;
mod bucket_policy;
pub mod consolidate;
mod consumers;
mod existing;
mod identity;
mod key_policy;
pub mod limits;
pub mod stacks;
mod units;

pub use access::{bucket_access, BucketAccess};
pub use bucket_policy::DELEGATE_TO_ACCESS_POINTS_SID;
pub use key_policy::{KEY_ADMIN_SID, ROOT_KEY_SID};
pub use units::{known, producer, Phase, Resource, Unit, UnitId};

use crate::model::Scenario;
use crate::parallel::{side_by_side, SIDE_BY_SIDE_GRANTS};
use crate::policy::{Name, PolicyDocument, Ref};
use access::S3Statements;
use bucket_policy::{access_point_policies, bucket_policies, with_bucket_guardrails};
use consolidate::{fit_all, Fit, ResourcePolicies};
use consumers::RoleNames;
use identity::{role_policies, trust_policies, with_identity_key_limits};
use key_policy::{key_policies, with_key_use_limits};
use limits::Budget;
use std::collections::BTreeMap;

/// Everything the renderers, the planner and the evaluator need.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Lowered {
    pub scenario: Scenario,
    pub units: Vec<Unit>,
    pub bucket_policies: BTreeMap<Name, PolicyDocument>,
    /// The policy of each access point, by bucket and consumer account (an access point of
    /// the owner's own roles has none).
    pub access_point_policies: BTreeMap<(Name, Name), PolicyDocument>,
    pub key_policies: BTreeMap<Name, PolicyDocument>,
    /// Every statement crossgrant gives each role (IAM unites all of a role's policies). It
    /// deploys as one inline policy, or, when that would be too large, split between the inline
    /// policy and managed policies: the units hold the parts.
    pub role_policies: BTreeMap<Name, PolicyDocument>,
    pub trust_policies: BTreeMap<Name, PolicyDocument>,
    /// The size of every limited document against its AWS limit.
    pub budget: Budget,
    /// The part (from 2) of its account's stacks that creates what a reference names, where a
    /// stack was split to fit CloudFormation's limits (see [`stacks`]); part 1 otherwise.
    pub stack_parts: BTreeMap<Ref, u32>,
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
    let bucket_policies = existing::with_replaced_policies(
        bucket_policies,
        scenario
            .buckets
            .iter()
            .filter_map(|(name, bucket)| Some((name, bucket.live_policy()?))),
    );
    let access_point_policies = access_point_policies(&scenario, &roles, &access, &s3);
    let fitted = fit_all(
        &scenario,
        ResourcePolicies {
            buckets: bucket_policies,
            access_points: access_point_policies,
            keys: key_policies,
        },
        role_policies,
        fit,
    );
    let role_policies = fitted
        .role_layouts
        .iter()
        .map(|(role, layout)| (role.clone(), PolicyDocument::new(layout.statements())))
        .collect();
    let trust_policies = trust_policies(&scenario);
    let mut lowered = Lowered {
        scenario,
        units: Vec::new(),
        bucket_policies: fitted.bucket_policies,
        access_point_policies: fitted.access_point_policies,
        key_policies: fitted.key_policies,
        role_policies,
        trust_policies,
        budget: fitted.budget,
        stack_parts: BTreeMap::new(),
    };
    lowered.units = units::place(&lowered, fitted.role_layouts);
    lowered
}

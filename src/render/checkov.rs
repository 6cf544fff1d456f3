//! Scanner findings that do not apply to the generated code, each with its reason, rendered
//! as checkov skip annotations (a resource's `Metadata` in CloudFormation, a
//! `#checkov:skip=` comment inside the resource block in Terraform). Every check crossgrant
//! can satisfy with a sane default it satisfies instead; what is left is outside a
//! scenario's scope, or a choice the scenario made on purpose.

use crate::aws::condition_key::{PRINCIPAL_ARN, PRINCIPAL_ORG_ID};
use crate::model::Bucket;
use crate::policy::{Effect, PolicyDocument};
use serde::Serialize;

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Skip {
    pub id: &'static str,
    pub comment: &'static str,
}

const fn skip(id: &'static str, comment: &'static str) -> Skip {
    Skip { id, comment }
}

pub const ACCESS_LOGGING: Skip = skip(
    "CKV_AWS_18",
    "Server access logs need a log bucket outside this scenario; set access_log_bucket to enable them",
);
pub const REPLICATION: Skip = skip(
    "CKV_AWS_144",
    "Cross-region replication needs a second bucket and key in another region, outside this scenario",
);
pub const EVENT_NOTIFICATIONS: Skip = skip(
    "CKV2_AWS_62",
    "Nothing in this scenario consumes bucket event notifications",
);
pub const LEGACY_ACLS: Skip = skip(
    "CKV2_AWS_65",
    "The scenario keeps legacy ACLs on purpose (object_ownership is not BucketOwnerEnforced)",
);
pub const EBS_OPTIMIZED: Skip = skip(
    "CKV_AWS_135",
    "Current instance types are EBS-optimized by default; forcing it fails on types without support",
);
pub const DETAILED_MONITORING: Skip = skip(
    "CKV_AWS_126",
    "One-minute metrics are billed per instance; basic monitoring suffices for a bucket consumer",
);

pub const ORGANIZATION_PRINCIPAL: Skip = skip(
    "CKV_AWS_70",
    "Principal AWS * is bounded by aws:PrincipalOrgID and aws:PrincipalArn conditions naming the scenario's organization and roles",
);

pub const PINNED_ACCOUNT_PRINCIPAL: Skip = skip(
    "CKV_AWS_61",
    "The trust policy names the consumer account and pins the one consumer role with an aws:PrincipalArn condition, which the check does not read",
);

/// The checks a role does not meet by design: an access role that names its consumer's
/// account root, pinned to the consumer role by a condition.
pub fn role(trust: &PolicyDocument) -> Vec<Skip> {
    let pinned_root = trust.statements.iter().any(|statement| {
        statement.effect == Effect::Allow
            && statement
                .condition
                .values()
                .any(|keys| keys.contains_key(PRINCIPAL_ARN))
    });
    if pinned_root {
        vec![PINNED_ACCOUNT_PRINCIPAL]
    } else {
        Vec::new()
    }
}

/// The checks a bucket policy does not meet by design: a statement that names the
/// organization (`{"AWS": "*"}` under `aws:PrincipalOrgID`, from consolidation) looks public to
/// checkov's Terraform check, which ignores conditions.
pub fn bucket_policy(policy: &PolicyDocument) -> Vec<Skip> {
    if names_organization(policy) {
        vec![ORGANIZATION_PRINCIPAL]
    } else {
        Vec::new()
    }
}

pub const ORGANIZATION_KEY_PRINCIPAL: Skip = skip(
    "CKV_AWS_33",
    "Principal AWS * is bounded by aws:PrincipalOrgID and aws:PrincipalArn conditions naming the scenario's organization and roles",
);

/// The checks a key policy does not meet by design: the same organization statement, which
/// the key-policy check reads without its conditions.
pub fn key_policy(policy: &PolicyDocument) -> Vec<Skip> {
    if names_organization(policy) {
        vec![ORGANIZATION_KEY_PRINCIPAL]
    } else {
        Vec::new()
    }
}

/// Whether an `Allow` of the policy names the organization (`aws:PrincipalOrgID`).
fn names_organization(policy: &PolicyDocument) -> bool {
    policy.statements.iter().any(|statement| {
        statement.effect == Effect::Allow
            && statement
                .condition
                .values()
                .any(|keys| keys.contains_key(PRINCIPAL_ORG_ID))
    })
}

/// Which renderer a skip list is for: the two scanners' check sets differ.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flavor {
    CloudFormation,
    Terraform,
}

/// The checks a bucket resource does not meet by design.
pub fn bucket(bucket: &Bucket, flavor: Flavor) -> Vec<Skip> {
    let mut skips = Vec::new();
    if bucket.access_logs.is_none() {
        skips.push(ACCESS_LOGGING);
    }
    if flavor == Flavor::Terraform {
        skips.push(REPLICATION);
        skips.push(EVENT_NOTIFICATIONS);
    }
    skips
}

/// The checks a bucket's ownership controls do not meet by design (Terraform only: there
/// they are a resource of their own).
pub fn ownership_controls(bucket: &Bucket) -> Vec<Skip> {
    if bucket.object_ownership.acls_enabled() {
        vec![LEGACY_ACLS]
    } else {
        Vec::new()
    }
}

/// The checks an EC2 instance does not meet by design (Terraform only: checkov's
/// CloudFormation checks do not report them).
pub fn instance(flavor: Flavor) -> Vec<Skip> {
    match flavor {
        Flavor::CloudFormation => Vec::new(),
        Flavor::Terraform => vec![EBS_OPTIMIZED, DETAILED_MONITORING],
    }
}

/// Every skip crossgrant may emit, for documentation and tests.
pub const ALL: [Skip; 9] = [
    ACCESS_LOGGING,
    REPLICATION,
    EVENT_NOTIFICATIONS,
    LEGACY_ACLS,
    EBS_OPTIMIZED,
    DETAILED_MONITORING,
    ORGANIZATION_PRINCIPAL,
    PINNED_ACCOUNT_PRINCIPAL,
    ORGANIZATION_KEY_PRINCIPAL,
];

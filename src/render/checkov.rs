//! Scanner findings that do not apply to the generated code, each with its reason, and the
//! names the scanners give them: a checkov check (rendered as a skip: a resource's `Metadata`
//! in CloudFormation, a `#checkov:skip=` comment inside the resource block in Terraform) and
//! rules of the AWS Guard Rules Registry (rendered in CloudFormation as
//! `Metadata.guard.SuppressedRules`, which the registry's rules read, with the reason beside
//! it). One table serves both scanners, so they skip for the same reasons. Every check
//! crossgrant can satisfy with a sane default it satisfies instead; what is left is outside a
//! scenario's scope, or a choice the scenario made on purpose.

use crate::aws::condition_key::{PRINCIPAL_ARN, PRINCIPAL_ORG_ID};
use crate::model::{Bucket, Instance};
use crate::policy::{Effect, PolicyDocument};
use serde::Serialize;

/// A requirement a resource does not meet by design: why, and what the scanners call it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Exemption {
    /// checkov's check, if checkov has one.
    pub checkov: Option<&'static str>,
    /// Whether CloudFormation templates carry the checkov skip too: some checks checkov runs on
    /// Terraform only, or they pass on CloudFormation.
    pub checkov_cloudformation: bool,
    /// Rules of the AWS Guard Rules Registry (cfn-guard reads CloudFormation only).
    pub guard: &'static [&'static str],
    pub reason: &'static str,
}

/// A checkov skip as the templates render it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Skip {
    pub id: &'static str,
    pub comment: &'static str,
}

/// A cfn-guard rule suppression as the templates render it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Suppression {
    pub rule: &'static str,
    pub reason: &'static str,
}

/// The skips of a CloudFormation resource, for both scanners.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CloudFormationSkips {
    pub checkov_skips: Vec<Skip>,
    pub guard_suppressions: Vec<Suppression>,
}

/// The exemptions of one resource.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Exemptions(pub Vec<Exemption>);

impl Exemptions {
    /// The checkov skips for code of `flavor`.
    pub fn checkov(&self, flavor: Flavor) -> Vec<Skip> {
        self.0
            .iter()
            .filter(|exemption| flavor == Flavor::Terraform || exemption.checkov_cloudformation)
            .filter_map(|exemption| {
                exemption.checkov.map(|id| Skip {
                    id,
                    comment: exemption.reason,
                })
            })
            .collect()
    }

    /// The cfn-guard suppressions (CloudFormation).
    pub fn guard(&self) -> Vec<Suppression> {
        self.0
            .iter()
            .flat_map(|exemption| {
                exemption.guard.iter().map(|rule| Suppression {
                    rule,
                    reason: exemption.reason,
                })
            })
            .collect()
    }

    pub fn cloudformation(&self) -> CloudFormationSkips {
        CloudFormationSkips {
            checkov_skips: self.checkov(Flavor::CloudFormation),
            guard_suppressions: self.guard(),
        }
    }

    fn with(mut self, exemption: Exemption, applies: bool) -> Self {
        if applies {
            self.0.push(exemption);
        }
        self
    }
}

const fn both(
    checkov: &'static str,
    guard: &'static [&'static str],
    reason: &'static str,
) -> Exemption {
    Exemption {
        checkov: Some(checkov),
        checkov_cloudformation: true,
        guard,
        reason,
    }
}

/// A checkov check skipped in Terraform only.
const fn terraform(
    checkov: &'static str,
    guard: &'static [&'static str],
    reason: &'static str,
) -> Exemption {
    Exemption {
        checkov: Some(checkov),
        checkov_cloudformation: false,
        guard,
        reason,
    }
}

const fn guard(guard: &'static [&'static str], reason: &'static str) -> Exemption {
    Exemption {
        checkov: None,
        checkov_cloudformation: false,
        guard,
        reason,
    }
}

pub const ACCESS_LOGGING: Exemption = both(
    "CKV_AWS_18",
    &["S3_BUCKET_LOGGING_ENABLED"],
    "Server access logs need a log bucket outside this scenario; set access_log_bucket to enable them",
);
pub const REPLICATION: Exemption = terraform(
    "CKV_AWS_144",
    &["S3_BUCKET_REPLICATION_ENABLED"],
    "Cross-region replication needs a second bucket and key in another region, outside this scenario",
);
pub const EVENT_NOTIFICATIONS: Exemption = terraform(
    "CKV2_AWS_62",
    &[],
    "Nothing in this scenario consumes bucket event notifications",
);
pub const OBJECT_LOCK: Exemption = guard(
    &["S3_BUCKET_DEFAULT_LOCK_ENABLED"],
    "Object Lock is a retention decision outside this scenario: it refuses every writer's overwrite and delete for the retention period and cannot be switched off once on",
);
pub const LEGACY_ACLS: Exemption = terraform(
    "CKV2_AWS_65",
    &[],
    "The scenario keeps legacy ACLs on purpose (object_ownership is not BucketOwnerEnforced)",
);
pub const EBS_OPTIMIZED: Exemption = terraform(
    "CKV_AWS_135",
    &["EBS_OPTIMIZED_INSTANCE"],
    "Current instance types are EBS-optimized by default; forcing it fails on types without support",
);
pub const DETAILED_MONITORING: Exemption = terraform(
    "CKV_AWS_126",
    &["EC2_INSTANCE_DETAILED_MONITORING_ENABLED"],
    "One-minute metrics are billed per instance; basic monitoring suffices for a bucket consumer",
);
pub const DEFAULT_SUBNET: Exemption = guard(
    &["EC2_INSTANCES_IN_VPC"],
    "Without a subnet the instance starts in the default subnet of the account's default VPC (every instance is in a VPC since EC2-Classic was retired); set subnet to choose one",
);

pub const ORGANIZATION_PRINCIPAL: Exemption = terraform(
    "CKV_AWS_70",
    &[],
    "Principal AWS * is bounded by aws:PrincipalOrgID and aws:PrincipalArn conditions naming the scenario's organization and roles",
);

pub const PINNED_ACCOUNT_PRINCIPAL: Exemption = both(
    "CKV_AWS_61",
    &[],
    "The trust policy names the consumer account and pins the one consumer role with an aws:PrincipalArn condition, which the check does not read",
);

pub const ROLE_NAME: Exemption = guard(
    &["CFN_NO_EXPLICIT_RESOURCE_NAMES"],
    "The scenario names the role: policies in other stacks and accounts name it by its ARN, so CloudFormation must not generate its name",
);

pub const MANAGED_POLICY_NAME: Exemption = guard(
    &["CFN_NO_EXPLICIT_RESOURCE_NAMES"],
    "The name is the one plan and ACCESS.md list (scenario, role and number); a changed document updates the policy in place, never replaces it",
);

pub const ORGANIZATION_KEY_PRINCIPAL: Exemption = both(
    "CKV_AWS_33",
    &[],
    "Principal AWS * is bounded by aws:PrincipalOrgID and aws:PrincipalArn conditions naming the scenario's organization and roles",
);

/// The checks a role does not meet by design: its name is the scenario's, and an access role
/// that names its consumer's account root is pinned to the consumer role by a condition.
pub fn role(trust: &PolicyDocument) -> Exemptions {
    let pinned_root = trust.statements.iter().any(|statement| {
        statement.effect == Effect::Allow
            && statement
                .condition
                .values()
                .any(|keys| keys.contains_key(PRINCIPAL_ARN))
    });
    Exemptions::default()
        .with(PINNED_ACCOUNT_PRINCIPAL, pinned_root)
        .with(ROLE_NAME, true)
}

/// The checks a managed policy does not meet by design (CloudFormation: its name).
pub fn managed_policy() -> Exemptions {
    Exemptions(vec![MANAGED_POLICY_NAME])
}

/// The checks a bucket policy does not meet by design: a statement that names the
/// organization (`{"AWS": "*"}` under `aws:PrincipalOrgID`, from consolidation) looks public to
/// checkov's Terraform check, which ignores conditions.
pub fn bucket_policy(policy: &PolicyDocument) -> Exemptions {
    Exemptions::default().with(ORGANIZATION_PRINCIPAL, names_organization(policy))
}

/// The checks a key policy does not meet by design: the same organization statement, which
/// the key-policy check reads without its conditions.
pub fn key_policy(policy: &PolicyDocument) -> Exemptions {
    Exemptions::default().with(ORGANIZATION_KEY_PRINCIPAL, names_organization(policy))
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
pub fn bucket(bucket: &Bucket) -> Exemptions {
    Exemptions::default()
        .with(ACCESS_LOGGING, bucket.access_logs.is_none())
        .with(REPLICATION, true)
        .with(EVENT_NOTIFICATIONS, true)
        .with(OBJECT_LOCK, true)
}

/// The checks a bucket's ownership controls do not meet by design (Terraform only: there
/// they are a resource of their own).
pub fn ownership_controls(bucket: &Bucket) -> Exemptions {
    Exemptions::default().with(LEGACY_ACLS, bucket.object_ownership.acls_enabled())
}

/// The checks an EC2 instance does not meet by design.
pub fn instance(instance: &Instance) -> Exemptions {
    Exemptions::default()
        .with(EBS_OPTIMIZED, true)
        .with(DETAILED_MONITORING, true)
        .with(DEFAULT_SUBNET, instance.subnet.is_none())
}

/// Every exemption crossgrant may emit, for documentation and tests.
pub const ALL: [Exemption; 13] = [
    ACCESS_LOGGING,
    REPLICATION,
    EVENT_NOTIFICATIONS,
    OBJECT_LOCK,
    LEGACY_ACLS,
    EBS_OPTIMIZED,
    DETAILED_MONITORING,
    DEFAULT_SUBNET,
    ORGANIZATION_PRINCIPAL,
    PINNED_ACCOUNT_PRINCIPAL,
    ROLE_NAME,
    MANAGED_POLICY_NAME,
    ORGANIZATION_KEY_PRINCIPAL,
];

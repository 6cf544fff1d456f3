//! The scenario file as written: serde types that mirror the TOML one table per resource kind,
//! reject unknown fields, and keep the source span of every name and reference so validation
//! can point at the line that caused a problem. Nothing here is checked beyond TOML types.

use serde::Deserialize;
use std::collections::BTreeMap;
use toml::Spanned;

pub type Tags = BTreeMap<Spanned<String>, Spanned<String>>;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawScenario {
    pub name: Spanned<String>,
    pub region: Spanned<String>,
    #[serde(default)]
    pub principal_style: Option<Spanned<String>>,
    #[serde(default)]
    pub organization: Option<Spanned<String>>,
    #[serde(default)]
    pub organization_role_paths: Vec<Spanned<String>>,
    #[serde(default)]
    pub max_managed_policies: Option<Spanned<i64>>,
    pub identity_policy: Option<Spanned<String>>,
    #[serde(default)]
    pub terraform_layout: Option<Spanned<String>>,
    #[serde(default)]
    pub tags: Tags,
    #[serde(default)]
    pub accounts: BTreeMap<Spanned<String>, RawAccount>,
    #[serde(default)]
    pub keys: BTreeMap<Spanned<String>, RawKey>,
    #[serde(default)]
    pub buckets: BTreeMap<Spanned<String>, RawBucket>,
    #[serde(default)]
    pub roles: BTreeMap<Spanned<String>, RawRole>,
    #[serde(default)]
    pub instances: BTreeMap<Spanned<String>, RawInstance>,
    #[serde(default)]
    pub grants: Vec<RawGrant>,
    #[serde(default)]
    pub guardrails: Vec<RawGuardrail>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawGuardrail {
    pub kind: Spanned<String>,
    pub file: Spanned<String>,
    /// `scp`, `rcp`: the accounts it applies to (default: every account).
    #[serde(default)]
    pub accounts: Option<Spanned<Vec<Spanned<String>>>>,
    /// `vpc-endpoint`, `permission-boundary`: the roles it applies to.
    #[serde(default)]
    pub roles: Option<Spanned<Vec<Spanned<String>>>>,
    #[serde(default)]
    pub vpce_id: Option<Spanned<String>>,
    #[serde(default)]
    pub vpc_id: Option<Spanned<String>>,
    #[serde(default)]
    pub arn: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawAccount {
    pub id: Spanned<String>,
    #[serde(default)]
    pub profile: Option<Spanned<String>>,
    #[serde(default)]
    pub deploy_role: Option<Spanned<String>>,
    #[serde(default)]
    pub role_paths: Vec<Spanned<String>>,
    /// The S3 bucket `deploy.sh` uploads this account's templates over 51,200 bytes to.
    #[serde(default)]
    pub artifact_bucket: Option<Spanned<String>>,
    /// The organization's management account: SCPs and RCPs do not apply to it.
    #[serde(default)]
    pub organization_management: Option<Spanned<bool>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawKey {
    pub account: Spanned<String>,
    /// Required for a key crossgrant creates; an existing key may name its alias.
    #[serde(default)]
    pub alias: Option<Spanned<String>>,
    #[serde(default)]
    pub existing: Option<Spanned<bool>>,
    #[serde(default)]
    pub arn: Option<Spanned<String>>,
    #[serde(default)]
    pub policy_file: Option<Spanned<String>>,
    #[serde(default)]
    pub region: Option<Spanned<String>>,
    #[serde(default)]
    pub description: Option<Spanned<String>>,
    #[serde(default)]
    pub rotation: Option<Spanned<bool>>,
    #[serde(default)]
    pub deletion_window_days: Option<Spanned<i64>>,
    #[serde(default)]
    pub administrators: Vec<Spanned<String>>,
    #[serde(default)]
    pub via_s3_only: Option<bool>,
    #[serde(default)]
    pub tags: Tags,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawBucket {
    pub account: Spanned<String>,
    pub name: Spanned<String>,
    pub key: Spanned<String>,
    #[serde(default)]
    pub existing: Option<Spanned<bool>>,
    #[serde(default)]
    pub policy_file: Option<Spanned<String>>,
    #[serde(default)]
    pub bucket_key: Option<bool>,
    #[serde(default)]
    pub region: Option<Spanned<String>>,
    #[serde(default)]
    pub object_ownership: Option<Spanned<String>>,
    #[serde(default)]
    pub require_tls: Option<bool>,
    #[serde(default)]
    pub enforce_encryption: Option<Spanned<String>>,
    #[serde(default)]
    pub block_public_access: Option<Spanned<bool>>,
    #[serde(default)]
    pub versioning: Option<Spanned<bool>>,
    #[serde(default)]
    pub access_log_bucket: Option<Spanned<String>>,
    #[serde(default)]
    pub access_log_prefix: Option<Spanned<String>>,
    #[serde(default)]
    pub abort_incomplete_uploads_days: Option<Spanned<i64>>,
    /// One S3 access point per consumer account, to which the bucket policy delegates.
    #[serde(default)]
    pub access_points: Option<Spanned<bool>>,
    /// Access point names by consumer account, overriding the derived ones.
    #[serde(default)]
    pub access_point_names: BTreeMap<Spanned<String>, Spanned<String>>,
    #[serde(default)]
    pub tags: Tags,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRole {
    pub account: Spanned<String>,
    /// Required, except for the roles of an Identity Center permission set (which Identity
    /// Center names).
    #[serde(default)]
    pub name: Option<Spanned<String>>,
    #[serde(default)]
    pub permission_set: Option<Spanned<String>>,
    #[serde(default)]
    pub existing: Option<Spanned<bool>>,
    #[serde(default)]
    pub path: Option<Spanned<String>>,
    #[serde(default)]
    pub service: Option<Spanned<String>>,
    /// IAM roles for service accounts (EKS): the cluster's OIDC provider and the service
    /// account, instead of `service`.
    #[serde(default)]
    pub oidc: Option<Spanned<RawOidc>>,
    #[serde(default)]
    pub instance_profile: Option<Spanned<bool>>,
    #[serde(default)]
    pub managed_policy_arns: Vec<Spanned<String>>,
    #[serde(default)]
    pub tags: Tags,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawOidc {
    pub provider_arn: Spanned<String>,
    pub subject: Spanned<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawInstance {
    pub account: Spanned<String>,
    pub role: Spanned<String>,
    pub instance_type: Spanned<String>,
    /// The instance profile of an existing role, which crossgrant does not create.
    #[serde(default)]
    pub instance_profile_name: Option<Spanned<String>>,
    #[serde(default)]
    pub image: Option<Spanned<String>>,
    #[serde(default)]
    pub subnet: Option<Spanned<String>>,
    #[serde(default)]
    pub region: Option<Spanned<String>>,
    #[serde(default)]
    pub tags: Tags,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawGrant {
    pub role: Spanned<String>,
    pub bucket: Spanned<String>,
    pub access: Spanned<String>,
    #[serde(default)]
    pub prefix: Option<Spanned<String>>,
    #[serde(default)]
    pub actions: Vec<Spanned<String>>,
    /// `"owner-role"`: the role assumes an access role in the bucket's account.
    #[serde(default)]
    pub via: Option<Spanned<String>>,
    #[serde(default)]
    pub access_role: Option<Spanned<String>>,
    #[serde(default)]
    pub external_id: Option<Spanned<String>>,
    /// The VPC endpoints the grant's S3 requests must come through.
    #[serde(default)]
    pub vpc_endpoints: Vec<Spanned<String>>,
}

/// Parses the text; a syntax or shape error comes back with its span.
pub fn parse(text: &str) -> Result<RawScenario, toml::de::Error> {
    toml::from_str(text)
}

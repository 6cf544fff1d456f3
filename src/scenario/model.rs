//! The validated scenario: every reference resolved, every value checked, defaults applied.
//! Only `validate` builds it; everything after validation reads it and never fails on it.

use crate::aws::Partition;
use crate::policy::Name;
use serde::Serialize;
use std::collections::BTreeMap;

pub const DEFAULT_DEPLOY_ROLE: &str = "OrganizationAccountAccessRole";
/// IAM's default quota of managed policies attached to one role; an account can have it raised
/// to at most [`MAX_MANAGED_POLICIES_QUOTA`].
pub const DEFAULT_MAX_MANAGED_POLICIES: u32 = 10;
pub const MAX_MANAGED_POLICIES_QUOTA: u32 = 20;
/// Public SSM parameter that always names the current Amazon Linux 2023 AMI of the region.
pub const DEFAULT_IMAGE_PARAMETER: &str =
    "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64";

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Scenario {
    pub name: String,
    /// The partition of every region and ARN of the scenario (IAM cannot cross partitions).
    pub partition: Partition,
    pub region: String,
    pub principal_style: PrincipalStyle,
    /// The AWS Organizations id (`o-…`) every account of the scenario belongs to.
    pub organization: Option<String>,
    /// IAM paths under which every role, in every account of the organization, is declared in
    /// this scenario: a grant all of them share may name the path across the organization.
    pub organization_role_paths: Vec<String>,
    /// How many managed policies a role may have attached (the account's IAM quota).
    pub max_managed_policies: u32,
    /// How crossgrant attaches a role's access policy.
    pub identity_policy: IdentityPolicy,
    /// How the Terraform output is laid out (`synth --terraform-layout` overrides it).
    pub terraform_layout: TerraformLayout,
    pub tags: BTreeMap<String, String>,
    pub accounts: BTreeMap<Name, Account>,
    pub keys: BTreeMap<Name, Key>,
    pub buckets: BTreeMap<Name, Bucket>,
    pub roles: BTreeMap<Name, Role>,
    pub instances: BTreeMap<Name, Instance>,
    pub grants: Vec<Grant>,
    /// The organization's and the accounts' guardrails `check` proves the grants under.
    pub guardrails: Vec<Guardrail>,
}

/// A policy that grants nothing but can deny: an SCP, an RCP, a VPC endpoint policy or a
/// permissions boundary, as `[[guardrails]]` declares it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Guardrail {
    pub kind: GuardrailKind,
    /// The file, as the scenario names it (relative to the scenario file).
    pub file: String,
    pub document: crate::policy::PolicyDocument,
}

/// What a guardrail is, and what it applies to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum GuardrailKind {
    /// A service control policy: requests of principals of these accounts.
    Scp { accounts: Vec<Name> },
    /// A resource control policy: requests on S3, KMS and STS resources of these accounts.
    Rcp { accounts: Vec<Name> },
    /// The policy of the VPC endpoint these roles' S3 requests go through.
    VpcEndpoint {
        vpce_id: String,
        /// The endpoint's VPC, sent as `aws:SourceVpc` when given.
        vpc_id: Option<String>,
        roles: Vec<Name>,
    },
    /// The permissions boundary of these roles, and its managed policy ARN.
    PermissionsBoundary { arn: String, roles: Vec<Name> },
}

impl GuardrailKind {
    pub fn as_str(&self) -> &'static str {
        match self {
            GuardrailKind::Scp { .. } => "scp",
            GuardrailKind::Rcp { .. } => "rcp",
            GuardrailKind::VpcEndpoint { .. } => "vpc-endpoint",
            GuardrailKind::PermissionsBoundary { .. } => "permission-boundary",
        }
    }
}

/// How crossgrant attaches the access policy of a role.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum IdentityPolicy {
    /// Customer-managed policies attached to the role (6,144 characters each), as compliance
    /// rules such as AWS Config's `iam-no-inline-policy-check` ask.
    Managed,
    /// The role's inline policy (10,240 characters with every other inline policy of the
    /// role), with managed policies for what does not fit.
    Inline,
}

/// How the Terraform output is laid out.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum TerraformLayout {
    /// One root whose providers assume the deploy role of every account: one state for all.
    #[default]
    Single,
    /// One root per account (and region) under `terraform/accounts/`, each applied with that
    /// account's own credentials and state; `apply.sh` applies them in plan order and hands
    /// the values that cross accounts from one root's outputs to the next roots' variables.
    PerAccount,
}

/// How a resource policy in the owner account names a consumer role.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum PrincipalStyle {
    /// The consumer account root as principal, pinned to the role by an `aws:PrincipalArn`
    /// condition. Not existence-checked, so no deploy-order constraint, and it survives the role
    /// being deleted and re-created.
    Account,
    /// The role ARN as principal. S3 and KMS check that it exists, so the role must be created
    /// before the owner's policies, and a re-created role silently breaks the grant.
    Role,
}

impl PrincipalStyle {
    pub fn as_str(self) -> &'static str {
        match self {
            PrincipalStyle::Account => "account",
            PrincipalStyle::Role => "role",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Account {
    pub name: Name,
    pub id: String,
    pub profile: String,
    pub deploy_role: String,
    /// The partition the account is in: the scenario's.
    pub partition: Partition,
    /// IAM paths under which every role of this account is declared in this scenario: a grant
    /// all of them share may name the path instead of each role. Includes the organization's.
    pub role_paths: Vec<String>,
    /// The S3 bucket `deploy.sh` passes to `aws cloudformation deploy --s3-bucket` for this
    /// account's templates over 51,200 bytes (the environment may name another).
    pub artifact_bucket: Option<String>,
    /// The organization's management account, which service and resource control policies do
    /// not apply to.
    pub organization_management: bool,
}

impl Account {
    pub fn root_arn(&self) -> String {
        self.partition.root_arn(&self.id)
    }

    /// The ARN of a role of the account, by its path and name (`/path/name`).
    pub fn role_arn(&self, path_and_name: &str) -> String {
        self.partition
            .iam_arn(&self.id, &format!("role{path_and_name}"))
    }

    pub fn deploy_role_arn(&self) -> String {
        self.partition
            .iam_arn(&self.id, &format!("role/{}", self.deploy_role))
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Key {
    pub name: Name,
    pub account: Name,
    pub region: String,
    pub alias: String,
    pub description: String,
    pub rotation: bool,
    pub deletion_window_days: u32,
    /// Principals (ARNs) that may administer but not use the key, beside the account root.
    pub administrators: Vec<String>,
    /// Consumers from other accounts may use the key only through S3 in the key's region
    /// (`kms:ViaService`) and only from their own account (`kms:CallerAccount`).
    pub via_s3_only: bool,
    pub tags: BTreeMap<String, String>,
    /// Set when the key exists already: crossgrant only writes its policy.
    pub existing: Option<ExistingKey>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExistingKey {
    pub arn: String,
    /// The key's live policy, when the scenario captured it.
    pub policy: Option<LivePolicy>,
}

/// A resource's policy as it is deployed today, read from the scenario's `policy_file`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LivePolicy {
    /// The file as the scenario names it (relative to the scenario).
    pub file: String,
    /// The policy as the file holds it (the document inside any aws CLI wrapper), for the
    /// deploy script's check that it has not changed since.
    pub document: serde_json::Value,
    /// Every statement of the file, in order, each remembering its JSON.
    pub statements: Vec<crate::policy::Statement>,
}

/// The prefix of every Sid crossgrant writes into the policy of an existing resource: a
/// statement of the live policy whose Sid starts with it is crossgrant's own from an earlier
/// run, and is replaced.
pub const OWNED_SID_PREFIX: &str = "Crossgrant";

impl LivePolicy {
    /// The statements crossgrant keeps: all but its own from an earlier run.
    pub fn kept(&self) -> impl Iterator<Item = &crate::policy::Statement> {
        self.statements
            .iter()
            .filter(|statement| !is_owned_sid(statement.sid.as_deref()))
    }

    /// How many statements of the file crossgrant wrote itself (and replaces).
    pub fn replaced(&self) -> usize {
        self.statements.len() - self.kept().count()
    }
}

pub fn is_owned_sid(sid: Option<&str>) -> bool {
    sid.is_some_and(|sid| sid.starts_with(OWNED_SID_PREFIX))
}

impl Key {
    /// The key's ARN when it is known before deploy (an existing key).
    pub fn known_arn(&self) -> Option<&str> {
        self.existing.as_ref().map(|existing| existing.arn.as_str())
    }

    /// How people know the key: its alias, or an existing key's ARN.
    pub fn label(&self) -> String {
        match (&self.existing, self.alias.is_empty()) {
            (Some(existing), true) => format!("KMS key {}", existing.arn),
            _ => format!("KMS key alias/{}", self.alias),
        }
    }

    pub fn live_policy(&self) -> Option<&LivePolicy> {
        self.existing
            .as_ref()
            .and_then(|existing| existing.policy.as_ref())
    }
}

/// What encrypts a bucket's objects by default.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Encryption {
    /// A customer-managed key of this scenario (by scenario name).
    Kms(Name),
    /// The `aws/s3` key: its policy is fixed to the owning account, so only same-account
    /// grants can ever work.
    AwsManaged,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum ObjectOwnership {
    BucketOwnerEnforced,
    BucketOwnerPreferred,
    ObjectWriter,
}

impl ObjectOwnership {
    pub fn as_str(self) -> &'static str {
        match self {
            ObjectOwnership::BucketOwnerEnforced => "BucketOwnerEnforced",
            ObjectOwnership::BucketOwnerPreferred => "BucketOwnerPreferred",
            ObjectOwnership::ObjectWriter => "ObjectWriter",
        }
    }

    pub fn acls_enabled(self) -> bool {
        self != ObjectOwnership::BucketOwnerEnforced
    }
}

/// What the bucket policy does about the encryption an upload asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum EncryptionEnforcement {
    /// No statement: an upload may name another key or another kind of encryption.
    Off,
    /// Uploads that name an encryption must name SSE-KMS with the bucket's key; uploads that
    /// name none get the bucket's default encryption, which is that key.
    IfPresent,
    /// Every upload must name SSE-KMS with the bucket's key.
    Strict,
}

impl EncryptionEnforcement {
    pub fn as_str(self) -> &'static str {
        match self {
            EncryptionEnforcement::Off => "off",
            EncryptionEnforcement::IfPresent => "if-present",
            EncryptionEnforcement::Strict => "strict",
        }
    }
}

/// Where S3 server access logs of a bucket go: a bucket outside the scenario (usually a
/// central log bucket), in the same account and region.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AccessLogs {
    pub bucket_name: String,
    pub prefix: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Bucket {
    pub name: Name,
    pub bucket_name: String,
    pub account: Name,
    pub region: String,
    pub encryption: Encryption,
    pub bucket_key: bool,
    pub object_ownership: ObjectOwnership,
    /// Deny every request that does not use TLS.
    pub require_tls: bool,
    pub enforce_encryption: EncryptionEnforcement,
    /// All four S3 Block Public Access settings on.
    pub block_public_access: bool,
    pub versioning: bool,
    pub access_logs: Option<AccessLogs>,
    /// Days after which an unfinished multipart upload is removed; `None` keeps them.
    pub abort_incomplete_uploads_days: Option<u32>,
    /// With `access_points = true`: the name of the access point of each account whose roles
    /// are granted the bucket, in the bucket's account and region. Empty: the roles use the
    /// bucket itself.
    pub access_points: BTreeMap<Name, String>,
    pub tags: BTreeMap<String, String>,
    /// Set when the bucket exists already: crossgrant only writes its policy.
    pub existing: Option<ExistingBucket>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExistingBucket {
    /// The bucket's live policy, when the scenario captured it.
    pub policy: Option<LivePolicy>,
}

impl Bucket {
    pub fn arn(&self) -> String {
        crate::aws::bucket_arn(self.partition(), &self.bucket_name)
    }

    /// The partition of the bucket's region, which its ARNs name.
    /// The ARN of the access point of `account`'s roles, when the bucket has access points.
    pub fn access_point_arn(&self, owner_id: &str, account: &str) -> Option<String> {
        let name = self.access_points.get(account)?;
        Some(crate::aws::access_point_arn(
            self.partition(),
            &self.region,
            owner_id,
            name,
        ))
    }

    pub fn partition(&self) -> crate::aws::Partition {
        crate::aws::partition_of(&self.region)
    }

    pub fn live_policy(&self) -> Option<&LivePolicy> {
        self.existing
            .as_ref()
            .and_then(|existing| existing.policy.as_ref())
    }

    pub fn key(&self) -> Option<&str> {
        match &self.encryption {
            Encryption::Kms(key) => Some(key),
            Encryption::AwsManaged => None,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Role {
    pub name: Name,
    pub account: Name,
    pub role_name: String,
    /// IAM path, `/` by default; always starts and ends with `/`.
    pub path: String,
    /// Who may assume the role.
    pub trust: Trust,
    pub instance_profile: bool,
    pub managed_policy_arns: Vec<String>,
    pub tags: BTreeMap<String, String>,
    /// The role exists already: crossgrant attaches its access policy and creates nothing else.
    pub existing: bool,
    /// The IAM Identity Center permission set whose roles this is: `role_name` and `path` are
    /// then a stand-in for the role of one account (Identity Center adds a random suffix),
    /// resource policies match every such role by pattern, and the access policy goes into the
    /// permission set, since no one can attach a policy to these roles.
    pub permission_set: Option<String>,
    /// The managed policy ARN of the role's permissions boundary (a `permission-boundary`
    /// guardrail); crossgrant sets it on the roles it creates.
    pub permissions_boundary: Option<String>,
}

/// Where IAM Identity Center creates the roles of permission sets (below it, a region).
pub const IDENTITY_CENTER_PATH: &str = "/aws-reserved/sso.amazonaws.com/";
/// The suffix of Identity Center role names: 16 characters, random per account.
pub const IDENTITY_CENTER_SUFFIX_LEN: usize = 16;

impl Role {
    /// The `aws:PrincipalArn` patterns that match exactly the roles Identity Center makes for
    /// the role's permission set in `account_id`: with or without a region below the path,
    /// and the random suffix matched character by character, so a set whose name only starts
    /// with this one's is not matched.
    pub fn permission_set_patterns(&self, account: &Account) -> Option<Vec<String>> {
        let set = self.permission_set.as_ref()?;
        let name = format!(
            "AWSReservedSSO_{set}_{}",
            "?".repeat(IDENTITY_CENTER_SUFFIX_LEN)
        );
        Some(vec![
            account.role_arn(&format!("{IDENTITY_CENTER_PATH}{name}")),
            account.role_arn(&format!("{IDENTITY_CENTER_PATH}*/{name}")),
        ])
    }
}

impl Role {
    /// The consumer this role is the access role of, if it is one.
    pub fn access_role_of(&self) -> Option<&Name> {
        match &self.trust {
            Trust::Role { consumer, .. } => Some(consumer),
            _ => None,
        }
    }

    pub fn arn(&self, account: &Account) -> String {
        account.role_arn(&format!("{}{}", self.path, self.role_name))
    }
}

/// Who may assume a role.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Trust {
    /// A service principal (`ec2.amazonaws.com`, `pods.eks.amazonaws.com`, …).
    Service(String),
    /// A consumer role of another account, which assumes this access role in the bucket's
    /// account (`via = "owner-role"`), presenting `external_id` if one is set.
    Role {
        consumer: Name,
        external_id: Option<String>,
    },
    /// One Kubernetes service account through the cluster's IAM OIDC provider (IRSA).
    WebIdentity {
        provider_arn: String,
        /// The provider's issuer, which prefixes its condition keys.
        issuer: String,
        subject: String,
    },
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Image {
    /// A literal AMI id.
    Ami(String),
    /// An SSM parameter path resolved at deploy time.
    SsmParameter(String),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Instance {
    pub name: Name,
    pub account: Name,
    pub region: String,
    pub role: Name,
    pub instance_type: String,
    pub image: Image,
    pub subnet: Option<String>,
    pub tags: BTreeMap<String, String>,
    /// The existing instance profile of an existing role.
    pub instance_profile_name: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Access {
    Read,
    Write,
    ReadWrite,
}

impl Access {
    pub fn reads(self) -> bool {
        matches!(self, Access::Read | Access::ReadWrite)
    }

    pub fn writes(self) -> bool {
        matches!(self, Access::Write | Access::ReadWrite)
    }

    /// The level that allows what either level allows.
    pub fn union(self, other: Access) -> Access {
        match (
            self.reads() || other.reads(),
            self.writes() || other.writes(),
        ) {
            (true, true) => Access::ReadWrite,
            (false, true) => Access::Write,
            _ => Access::Read,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Access::Read => "read",
            Access::Write => "write",
            Access::ReadWrite => "read-write",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Grant {
    pub role: Name,
    pub bucket: Name,
    pub access: Access,
    /// Object key prefix the grant is limited to; empty means the whole bucket.
    pub prefix: String,
    /// Further S3 actions the scenario asks for explicitly, beyond those `access` implies.
    pub extra_actions: Vec<String>,
    /// For a grant `via = "owner-role"`: the consumer role the scenario names, which reaches
    /// the bucket by assuming `role`, the access role crossgrant creates in the bucket's account.
    pub via_consumer: Option<Name>,
    /// The VPC endpoints the grant's S3 requests must come through (`aws:SourceVpce`); empty
    /// for anywhere.
    pub vpc_endpoints: Vec<String>,
}

impl Scenario {
    pub fn account(&self, name: &str) -> &Account {
        &self.accounts[name]
    }

    pub fn role_arn(&self, role: &str) -> String {
        let role = &self.roles[role];
        role.arn(&self.accounts[&role.account])
    }

    /// Whether any existing bucket or key keeps statements of a live policy.
    pub fn has_live_policies(&self) -> bool {
        self.buckets
            .values()
            .any(|bucket| bucket.live_policy().is_some())
            || self.keys.values().any(|key| key.live_policy().is_some())
    }

    /// Whether the grant crosses an account boundary (consumer role and bucket in different
    /// accounts).
    pub fn is_cross_account(&self, grant: &Grant) -> bool {
        self.roles[&grant.role].account != self.buckets[&grant.bucket].account
    }
}

//! The AWS vocabulary: the actions crossgrant writes or asks about, each with the type of
//! resource it applies to, the condition keys it sets or reads, service principals, the
//! partition and its regions, and the size limits of the documents it deploys. Every other
//! module names AWS through these constants, so an action is spelt in one place.

use crate::eval::matching::glob_ignore_case;

/// S3 actions.
pub mod s3 {
    pub const SERVICE: &str = "s3";
    pub const ALL: &str = "s3:*";
    pub const GET_OBJECT: &str = "s3:GetObject";
    pub const GET_OBJECT_VERSION: &str = "s3:GetObjectVersion";
    pub const GET_OBJECT_ACL: &str = "s3:GetObjectAcl";
    pub const PUT_OBJECT: &str = "s3:PutObject";
    pub const PUT_OBJECT_ACL: &str = "s3:PutObjectAcl";
    pub const DELETE_OBJECT: &str = "s3:DeleteObject";
    pub const LIST_BUCKET: &str = "s3:ListBucket";
    pub const LIST_BUCKET_VERSIONS: &str = "s3:ListBucketVersions";
    pub const PUT_BUCKET_POLICY: &str = "s3:PutBucketPolicy";
    pub const DELETE_BUCKET: &str = "s3:DeleteBucket";
}

/// KMS actions.
pub mod kms {
    pub const SERVICE: &str = "kms";
    pub const ALL: &str = "kms:*";
    pub const DECRYPT: &str = "kms:Decrypt";
    pub const ENCRYPT: &str = "kms:Encrypt";
    pub const GENERATE_DATA_KEY: &str = "kms:GenerateDataKey";
    pub const GENERATE_DATA_KEY_ANY: &str = "kms:GenerateDataKey*";
    pub const RE_ENCRYPT_ANY: &str = "kms:ReEncrypt*";
    pub const DESCRIBE_KEY: &str = "kms:DescribeKey";
    pub const PUT_KEY_POLICY: &str = "kms:PutKeyPolicy";
    pub const CANCEL_KEY_DELETION: &str = "kms:CancelKeyDeletion";
    pub const SCHEDULE_KEY_DELETION: &str = "kms:ScheduleKeyDeletion";
    pub const TAG_RESOURCE: &str = "kms:TagResource";
    pub const UNTAG_RESOURCE: &str = "kms:UntagResource";
    pub const CREATE_ANY: &str = "kms:Create*";
    pub const DELETE_ANY: &str = "kms:Delete*";
    pub const DESCRIBE_ANY: &str = "kms:Describe*";
    pub const DISABLE_ANY: &str = "kms:Disable*";
    pub const ENABLE_ANY: &str = "kms:Enable*";
    pub const GET_ANY: &str = "kms:Get*";
    pub const LIST_ANY: &str = "kms:List*";
    pub const PUT_ANY: &str = "kms:Put*";
    pub const REVOKE_ANY: &str = "kms:Revoke*";
    pub const UPDATE_ANY: &str = "kms:Update*";
}

/// STS actions.
pub mod sts {
    pub const SERVICE: &str = "sts";
    pub const ASSUME_ROLE: &str = "sts:AssumeRole";
    pub const ASSUME_ROLE_WITH_WEB_IDENTITY: &str = "sts:AssumeRoleWithWebIdentity";
    pub const TAG_SESSION: &str = "sts:TagSession";
    /// The audience EKS service-account tokens carry for STS.
    pub const AUDIENCE: &str = "sts.amazonaws.com";
}

pub const READ_OBJECT_ACTIONS: [&str; 2] = [s3::GET_OBJECT, s3::GET_OBJECT_VERSION];
pub const WRITE_OBJECT_ACTIONS: [&str; 1] = [s3::PUT_OBJECT];
/// Only meaningful on a bucket whose object ownership still honours ACLs.
pub const LEGACY_ACL_ACTION: &str = s3::PUT_OBJECT_ACL;
pub const LIST_ACTION: &str = s3::LIST_BUCKET;
pub const KMS_READ_ACTIONS: [&str; 1] = [kms::DECRYPT];
/// Writers need Decrypt too: the CLI and SDKs switch to multipart upload for large files, and
/// UploadPart decrypts the data key that CreateMultipartUpload generated.
pub const KMS_WRITE_ACTIONS: [&str; 2] = [kms::DECRYPT, kms::GENERATE_DATA_KEY];
/// What the account root may do on the key: everything. This is the AWS default statement that
/// both keeps an administrator (KMS refuses a policy that locks itself out) and delegates
/// same-account use to IAM policies.
pub const ROOT_KEY_ACTIONS: [&str; 1] = [kms::ALL];
/// What named key administrators may do: manage, never use, the key.
pub const KEY_ADMIN_ACTIONS: [&str; 14] = [
    kms::CANCEL_KEY_DELETION,
    kms::CREATE_ANY,
    kms::DELETE_ANY,
    kms::DESCRIBE_ANY,
    kms::DISABLE_ANY,
    kms::ENABLE_ANY,
    kms::GET_ANY,
    kms::LIST_ANY,
    kms::PUT_ANY,
    kms::REVOKE_ANY,
    kms::SCHEDULE_KEY_DELETION,
    kms::TAG_RESOURCE,
    kms::UNTAG_RESOURCE,
    kms::UPDATE_ANY,
];

/// The service and the name of an action: `s3:GetObject` → `("s3", "GetObject")`.
pub fn split_action(action: &str) -> Option<(&str, &str)> {
    action.split_once(':')
}

/// The type of resource an action applies to, or a resource value names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ResourceType {
    Bucket,
    Object,
    Key,
}

/// Every S3 action that applies to a bucket or to its objects, with the type of resource it
/// applies to, as the Service Authorization Reference for Amazon S3 lists them (actions on
/// access points, jobs, Storage Lens and the like are not for a grant on a bucket). No S3
/// action applies to both a bucket and an object, so each has exactly one type here.
pub const S3_ACTIONS: [(&str, ResourceType); 106] = [
    ("s3:AbortMultipartUpload", ResourceType::Object),
    ("s3:AllowVendedLogDeliveryForResource", ResourceType::Bucket),
    ("s3:BypassGovernanceRetention", ResourceType::Object),
    ("s3:CreateBucket", ResourceType::Bucket),
    (
        "s3:CreateBucketMetadataTableConfiguration",
        ResourceType::Bucket,
    ),
    ("s3:DeleteBucket", ResourceType::Bucket),
    (
        "s3:DeleteBucketMetadataTableConfiguration",
        ResourceType::Bucket,
    ),
    ("s3:DeleteBucketPolicy", ResourceType::Bucket),
    ("s3:DeleteBucketWebsite", ResourceType::Bucket),
    ("s3:DeleteObject", ResourceType::Object),
    ("s3:DeleteObjectAnnotation", ResourceType::Object),
    ("s3:DeleteObjectTagging", ResourceType::Object),
    ("s3:DeleteObjectVersion", ResourceType::Object),
    ("s3:DeleteObjectVersionAnnotation", ResourceType::Object),
    ("s3:DeleteObjectVersionTagging", ResourceType::Object),
    ("s3:GetAccelerateConfiguration", ResourceType::Bucket),
    ("s3:GetAnalyticsConfiguration", ResourceType::Bucket),
    ("s3:GetBucketAbac", ResourceType::Bucket),
    ("s3:GetBucketAcl", ResourceType::Bucket),
    ("s3:GetBucketCORS", ResourceType::Bucket),
    ("s3:GetBucketLocation", ResourceType::Bucket),
    ("s3:GetBucketLogging", ResourceType::Bucket),
    (
        "s3:GetBucketMetadataTableConfiguration",
        ResourceType::Bucket,
    ),
    ("s3:GetBucketNotification", ResourceType::Bucket),
    ("s3:GetBucketObjectLockConfiguration", ResourceType::Bucket),
    ("s3:GetBucketOwnershipControls", ResourceType::Bucket),
    ("s3:GetBucketPolicy", ResourceType::Bucket),
    ("s3:GetBucketPolicyStatus", ResourceType::Bucket),
    ("s3:GetBucketPublicAccessBlock", ResourceType::Bucket),
    ("s3:GetBucketRequestPayment", ResourceType::Bucket),
    ("s3:GetBucketTagging", ResourceType::Bucket),
    ("s3:GetBucketVersioning", ResourceType::Bucket),
    ("s3:GetBucketWebsite", ResourceType::Bucket),
    ("s3:GetEncryptionConfiguration", ResourceType::Bucket),
    (
        "s3:GetIntelligentTieringConfiguration",
        ResourceType::Bucket,
    ),
    ("s3:GetInventoryConfiguration", ResourceType::Bucket),
    ("s3:GetLifecycleConfiguration", ResourceType::Bucket),
    ("s3:GetMetricsConfiguration", ResourceType::Bucket),
    ("s3:GetObject", ResourceType::Object),
    ("s3:GetObjectAcl", ResourceType::Object),
    ("s3:GetObjectAnnotation", ResourceType::Object),
    ("s3:GetObjectAttributes", ResourceType::Object),
    ("s3:GetObjectLegalHold", ResourceType::Object),
    ("s3:GetObjectRetention", ResourceType::Object),
    ("s3:GetObjectTagging", ResourceType::Object),
    ("s3:GetObjectTorrent", ResourceType::Object),
    ("s3:GetObjectVersion", ResourceType::Object),
    ("s3:GetObjectVersionAcl", ResourceType::Object),
    ("s3:GetObjectVersionAnnotation", ResourceType::Object),
    (
        "s3:GetObjectVersionAnnotationForReplication",
        ResourceType::Object,
    ),
    ("s3:GetObjectVersionAttributes", ResourceType::Object),
    ("s3:GetObjectVersionForReplication", ResourceType::Object),
    ("s3:GetObjectVersionTagging", ResourceType::Object),
    ("s3:GetObjectVersionTorrent", ResourceType::Object),
    ("s3:GetReplicationConfiguration", ResourceType::Bucket),
    ("s3:InitiateReplication", ResourceType::Object),
    ("s3:ListBucket", ResourceType::Bucket),
    ("s3:ListBucketMultipartUploads", ResourceType::Bucket),
    ("s3:ListBucketVersions", ResourceType::Bucket),
    ("s3:ListMultipartUploadParts", ResourceType::Object),
    ("s3:ListObjectAnnotations", ResourceType::Object),
    ("s3:ListObjectVersionAnnotations", ResourceType::Object),
    ("s3:ListTagsForResource", ResourceType::Bucket),
    ("s3:ObjectOwnerOverrideToBucketOwner", ResourceType::Object),
    ("s3:PauseReplication", ResourceType::Bucket),
    ("s3:PutAccelerateConfiguration", ResourceType::Bucket),
    ("s3:PutAnalyticsConfiguration", ResourceType::Bucket),
    ("s3:PutBucketAbac", ResourceType::Bucket),
    ("s3:PutBucketAcl", ResourceType::Bucket),
    ("s3:PutBucketCORS", ResourceType::Bucket),
    ("s3:PutBucketLogging", ResourceType::Bucket),
    ("s3:PutBucketNotification", ResourceType::Bucket),
    ("s3:PutBucketObjectLockConfiguration", ResourceType::Bucket),
    ("s3:PutBucketOwnershipControls", ResourceType::Bucket),
    ("s3:PutBucketPolicy", ResourceType::Bucket),
    ("s3:PutBucketPublicAccessBlock", ResourceType::Bucket),
    ("s3:PutBucketRequestPayment", ResourceType::Bucket),
    ("s3:PutBucketTagging", ResourceType::Bucket),
    ("s3:PutBucketVersioning", ResourceType::Bucket),
    ("s3:PutBucketWebsite", ResourceType::Bucket),
    ("s3:PutEncryptionConfiguration", ResourceType::Bucket),
    (
        "s3:PutIntelligentTieringConfiguration",
        ResourceType::Bucket,
    ),
    ("s3:PutInventoryConfiguration", ResourceType::Bucket),
    ("s3:PutLifecycleConfiguration", ResourceType::Bucket),
    ("s3:PutMetricsConfiguration", ResourceType::Bucket),
    ("s3:PutObject", ResourceType::Object),
    ("s3:PutObjectAcl", ResourceType::Object),
    ("s3:PutObjectAnnotation", ResourceType::Object),
    ("s3:PutObjectLegalHold", ResourceType::Object),
    ("s3:PutObjectRetention", ResourceType::Object),
    ("s3:PutObjectTagging", ResourceType::Object),
    ("s3:PutObjectVersionAcl", ResourceType::Object),
    ("s3:PutObjectVersionAnnotation", ResourceType::Object),
    ("s3:PutObjectVersionTagging", ResourceType::Object),
    ("s3:PutReplicationConfiguration", ResourceType::Bucket),
    ("s3:ReplicateDelete", ResourceType::Object),
    ("s3:ReplicateObject", ResourceType::Object),
    ("s3:ReplicateObjectAnnotation", ResourceType::Object),
    ("s3:ReplicateTags", ResourceType::Object),
    ("s3:RestoreObject", ResourceType::Object),
    ("s3:TagResource", ResourceType::Bucket),
    ("s3:UntagResource", ResourceType::Bucket),
    (
        "s3:UpdateBucketMetadataAnnotationTableConfiguration",
        ResourceType::Bucket,
    ),
    (
        "s3:UpdateBucketMetadataInventoryTableConfiguration",
        ResourceType::Bucket,
    ),
    (
        "s3:UpdateBucketMetadataJournalTableConfiguration",
        ResourceType::Bucket,
    ),
    ("s3:UpdateObjectEncryption", ResourceType::Object),
];

/// The S3 action of [`S3_ACTIONS`] that `action` names, compared without case as IAM does, in
/// the table's spelling.
pub fn s3_action(action: &str) -> Option<(&'static str, ResourceType)> {
    S3_ACTIONS
        .iter()
        .find(|(known, _)| known.eq_ignore_ascii_case(action))
        .copied()
}

/// The S3 actions of [`S3_ACTIONS`] an action pattern (`s3:GetObject*`) matches, as IAM
/// matches actions: `*` and `?` are wildcards, case is ignored.
pub fn s3_actions_matching(
    pattern: &str,
) -> impl Iterator<Item = (&'static str, ResourceType)> + '_ {
    S3_ACTIONS
        .iter()
        .filter(move |(known, _)| glob_ignore_case(pattern, known))
        .copied()
}

/// The actions crossgrant emits itself, with the one type of resource each applies to.
/// Consolidation merges statements only across these; the S3 actions a scenario adds are in
/// [`S3_ACTIONS`].
const EMITTED_ACTIONS: [(&str, ResourceType); 7] = [
    (s3::LIST_BUCKET, ResourceType::Bucket),
    (s3::GET_OBJECT, ResourceType::Object),
    (s3::GET_OBJECT_VERSION, ResourceType::Object),
    (s3::PUT_OBJECT, ResourceType::Object),
    (s3::PUT_OBJECT_ACL, ResourceType::Object),
    (kms::DECRYPT, ResourceType::Key),
    (kms::GENERATE_DATA_KEY, ResourceType::Key),
];

/// The type of resource an action crossgrant emits applies to.
pub fn action_resource_type(action: &str) -> Option<ResourceType> {
    EMITTED_ACTIONS
        .iter()
        .find(|(emitted, _)| *emitted == action)
        .map(|(_, resource_type)| *resource_type)
}

/// Whether an S3 action, or every S3 action a pattern matches, applies to the bucket ARN
/// rather than to object ARNs.
pub fn is_bucket_level(action: &str) -> bool {
    let mut matches = s3_actions_matching(action).peekable();
    matches.peek().is_some()
        && matches.all(|(_, resource_type)| resource_type == ResourceType::Bucket)
}

/// The S3 actions that read or write access control lists: with object ownership
/// `BucketOwnerEnforced` a bucket has no ACLs, and they do nothing.
const ACL_ACTIONS: [&str; 6] = [
    "s3:GetBucketAcl",
    "s3:PutBucketAcl",
    s3::GET_OBJECT_ACL,
    s3::PUT_OBJECT_ACL,
    "s3:GetObjectVersionAcl",
    "s3:PutObjectVersionAcl",
];

pub fn is_acl_action(action: &str) -> bool {
    ACL_ACTIONS
        .iter()
        .any(|known| known.eq_ignore_ascii_case(action))
}

/// The KMS call S3 makes on the caller's behalf for each S3 action that makes one.
const KMS_CALLS: [(&str, &str); 3] = [
    (s3::GET_OBJECT, kms::DECRYPT),
    (s3::GET_OBJECT_VERSION, kms::DECRYPT),
    (s3::PUT_OBJECT, kms::GENERATE_DATA_KEY),
];

/// The KMS call S3 makes on the caller's behalf for an S3 action (any case), if it makes one.
pub fn kms_action_for(s3_action: &str) -> Option<&'static str> {
    KMS_CALLS
        .iter()
        .find(|(action, _)| action.eq_ignore_ascii_case(s3_action))
        .map(|(_, kms_action)| *kms_action)
}

/// Condition keys.
pub mod condition_key {
    pub const PRINCIPAL_ARN: &str = "aws:PrincipalArn";
    pub const PRINCIPAL_ACCOUNT: &str = "aws:PrincipalAccount";
    pub const PRINCIPAL_ORG_ID: &str = "aws:PrincipalOrgID";
    pub const PRINCIPAL_TYPE: &str = "aws:PrincipalType";
    pub const SECURE_TRANSPORT: &str = "aws:SecureTransport";
    pub const S3_PREFIX: &str = "s3:prefix";
    pub const S3_DELIMITER: &str = "s3:delimiter";
    pub const S3_MAX_KEYS: &str = "s3:max-keys";
    pub const S3_SSE: &str = "s3:x-amz-server-side-encryption";
    pub const S3_SSE_KMS_KEY_ID: &str = "s3:x-amz-server-side-encryption-aws-kms-key-id";
    pub const KMS_VIA_SERVICE: &str = "kms:ViaService";
    pub const KMS_CALLER_ACCOUNT: &str = "kms:CallerAccount";
    pub const KMS_ENCRYPTION_CONTEXT_KEYS: &str = "kms:EncryptionContextKeys";
    /// The encryption context S3 sends: the object's ARN, or with an S3 Bucket Key the bucket's.
    pub const KMS_S3_ENCRYPTION_CONTEXT: &str = "kms:EncryptionContext:aws:s3:arn";
    /// The context key under which S3 names the object or bucket.
    pub const S3_ENCRYPTION_CONTEXT_KEY: &str = "aws:s3:arn";
    /// Encryption-context keys (`kms:EncryptionContext:<context key>`) are a family, compared
    /// case-insensitively like every condition key.
    pub const KMS_ENCRYPTION_CONTEXT_PREFIX: &str = "kms:encryptioncontext:";
    /// The external id an `sts:AssumeRole` call presents.
    pub const STS_EXTERNAL_ID: &str = "sts:ExternalId";
    /// The account and organization of the resource a request acts on.
    pub const RESOURCE_ACCOUNT: &str = "aws:ResourceAccount";
    pub const RESOURCE_ORG_ID: &str = "aws:ResourceOrgID";
    /// `true` only for a service principal signing with its own credentials.
    pub const PRINCIPAL_IS_AWS_SERVICE: &str = "aws:PrincipalIsAWSService";
    /// `true` when a service makes the request on the caller's behalf (the KMS call S3 makes).
    pub const VIA_AWS_SERVICE: &str = "aws:ViaAWSService";
    /// The region the request is made to.
    pub const REQUESTED_REGION: &str = "aws:RequestedRegion";
    /// The VPC endpoint, and the VPC, a request came through.
    pub const SOURCE_VPCE: &str = "aws:SourceVpce";
    pub const SOURCE_VPC: &str = "aws:SourceVpc";
    /// What S3 knows of a request that came through an access point.
    pub const S3_DATA_ACCESS_POINT_ACCOUNT: &str = "s3:DataAccessPointAccount";
    pub const S3_DATA_ACCESS_POINT_ARN: &str = "s3:DataAccessPointArn";
    pub const S3_ACCESS_POINT_NETWORK_ORIGIN: &str = "s3:AccessPointNetworkOrigin";

    /// Condition keys whose values a request built by crossgrant (or given to `explain`)
    /// carries or deliberately leaves out.
    pub const KNOWN: [&str; 25] = [
        PRINCIPAL_ARN,
        PRINCIPAL_ACCOUNT,
        PRINCIPAL_ORG_ID,
        PRINCIPAL_TYPE,
        SECURE_TRANSPORT,
        S3_PREFIX,
        S3_DELIMITER,
        S3_MAX_KEYS,
        S3_SSE,
        S3_SSE_KMS_KEY_ID,
        KMS_VIA_SERVICE,
        KMS_CALLER_ACCOUNT,
        KMS_ENCRYPTION_CONTEXT_KEYS,
        KMS_S3_ENCRYPTION_CONTEXT,
        STS_EXTERNAL_ID,
        RESOURCE_ACCOUNT,
        RESOURCE_ORG_ID,
        PRINCIPAL_IS_AWS_SERVICE,
        VIA_AWS_SERVICE,
        REQUESTED_REGION,
        SOURCE_VPCE,
        SOURCE_VPC,
        S3_DATA_ACCESS_POINT_ACCOUNT,
        S3_DATA_ACCESS_POINT_ARN,
        S3_ACCESS_POINT_NETWORK_ORIGIN,
    ];
}

/// The `s3:x-amz-server-side-encryption` value of SSE-KMS.
pub const SSE_KMS: &str = "aws:kms";
/// `aws:PrincipalType` of a role session.
pub const ASSUMED_ROLE: &str = "AssumedRole";

/// What every service principal ends in.
pub const SERVICE_PRINCIPAL_SUFFIX: &str = ".amazonaws.com";
pub const EC2_SERVICE: &str = "ec2.amazonaws.com";
pub const LAMBDA_SERVICE: &str = "lambda.amazonaws.com";
pub const ECS_TASKS_SERVICE: &str = "ecs-tasks.amazonaws.com";
/// EKS Pod Identity assumes roles with `sts:AssumeRole` and `sts:TagSession`.
pub const EKS_POD_IDENTITY_SERVICE: &str = "pods.eks.amazonaws.com";

/// The actions a service principal needs in a role's trust policy.
pub fn service_trust_actions(service: &str) -> &'static [&'static str] {
    if service == EKS_POD_IDENTITY_SERVICE {
        &[sts::ASSUME_ROLE, sts::TAG_SESSION]
    } else {
        &[sts::ASSUME_ROLE]
    }
}

/// The issuer of an IAM OIDC provider ARN (`arn:aws:iam::ACCOUNT:oidc-provider/ISSUER`), which
/// prefixes its condition keys (`ISSUER:sub`, `ISSUER:aud`), and the account, or why the ARN is
/// not one.
pub fn oidc_provider_parts(arn: &str) -> Result<(&str, &str), &'static str> {
    let Some(rest) = iam_arn_rest(arn) else {
        return Err("is not an IAM ARN (arn:aws:iam::ACCOUNT:oidc-provider/ISSUER)");
    };
    let Some((account, resource)) = rest.split_once(':') else {
        return Err("is not an IAM ARN (arn:aws:iam::ACCOUNT:oidc-provider/ISSUER)");
    };
    if !is_account_id(account) {
        return Err("has no 12-digit account id");
    }
    let Some(issuer) = resource.strip_prefix("oidc-provider/") else {
        return Err("does not name an OIDC provider (`oidc-provider/ISSUER`)");
    };
    let valid = !issuer.is_empty()
        && !issuer.starts_with('/')
        && issuer
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "./-_".contains(c));
    if !valid {
        return Err("has an issuer that is not a host name and path (`oidc.eks.REGION.amazonaws.com/id/ID`)");
    }
    Ok((account, issuer))
}

/// Why a Kubernetes service-account subject (`system:serviceaccount:NAMESPACE:NAME`) is not one
/// that names exactly one service account, if it is not.
pub fn service_account_subject_problem(subject: &str) -> Option<&'static str> {
    let Some(rest) = subject.strip_prefix("system:serviceaccount:") else {
        return Some("does not start with `system:serviceaccount:`");
    };
    let Some((namespace, name)) = rest.split_once(':') else {
        return Some("names no service account (`system:serviceaccount:NAMESPACE:NAME`)");
    };
    let label = |text: &str, max: usize, dots: bool| {
        !text.is_empty()
            && text.len() <= max
            && text.starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
            && text.ends_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
            && text.chars().all(|c| {
                c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || (dots && c == '.')
            })
    };
    if !label(namespace, 63, false) {
        Some("has a namespace that is not a Kubernetes name (lowercase letters, digits and `-`, at most 63)")
    } else if !label(name, 253, true) {
        Some("has a service account name that is not a Kubernetes name (lowercase letters, digits, `-` and `.`, at most 253)")
    } else {
        None
    }
}

/// The S3 endpoint that calls KMS on a caller's behalf in a region (`kms:ViaService`): the
/// service's endpoint name, which ends in the partition's DNS suffix.
pub fn s3_service(region: &str) -> String {
    let suffix = Partition::of_region(region)
        .unwrap_or_default()
        .dns_suffix();
    format!("s3.{region}.{suffix}")
}

/// An AWS partition: a group of regions with its own accounts, IAM and ARNs. IAM cannot grant
/// across partitions, so every ARN of a scenario is written for the one partition its regions
/// are in.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Partition {
    #[default]
    Aws,
    /// The China regions (Beijing, Ningxia).
    China,
    /// AWS GovCloud (US).
    GovCloud,
}

impl Partition {
    pub const ALL: [Partition; 3] = [Partition::Aws, Partition::China, Partition::GovCloud];

    /// The partition a region is in, if it is a region crossgrant knows.
    pub fn of_region(region: &str) -> Option<Partition> {
        Partition::ALL
            .into_iter()
            .find(|partition| partition.regions().contains(&region))
    }

    /// The partition an ARN names (its second field), if it is one of the three.
    pub fn of_arn(arn: &str) -> Option<Partition> {
        let id = arn.strip_prefix("arn:")?.split(':').next()?;
        Partition::ALL
            .into_iter()
            .find(|partition| partition.id() == id)
    }

    /// The partition's field in ARNs: `aws`, `aws-cn`, `aws-us-gov`.
    pub fn id(self) -> &'static str {
        match self {
            Partition::Aws => "aws",
            Partition::China => "aws-cn",
            Partition::GovCloud => "aws-us-gov",
        }
    }

    /// The DNS suffix of the partition's service endpoints.
    pub fn dns_suffix(self) -> &'static str {
        match self {
            Partition::China => "amazonaws.com.cn",
            Partition::Aws | Partition::GovCloud => "amazonaws.com",
        }
    }

    pub fn regions(self) -> &'static [&'static str] {
        match self {
            Partition::Aws => REGIONS,
            Partition::China => CHINA_REGIONS,
            Partition::GovCloud => GOVCLOUD_REGIONS,
        }
    }

    /// `arn:PARTITION:iam::` — how IAM ARNs of the partition begin.
    pub fn iam_prefix(self) -> String {
        format!("arn:{}:iam::", self.id())
    }

    /// An IAM ARN of the partition: `arn:PARTITION:iam::ACCOUNT:RESOURCE`.
    pub fn iam_arn(self, account: &str, resource: &str) -> String {
        format!("arn:{}:iam::{account}:{resource}", self.id())
    }

    /// The root of an account: `arn:PARTITION:iam::ACCOUNT:root`.
    pub fn root_arn(self, account: &str) -> String {
        self.iam_arn(account, "root")
    }

    /// `arn:PARTITION:s3:::` — how S3 ARNs of the partition begin; they name neither region
    /// nor account.
    pub fn s3_prefix(self) -> String {
        format!("arn:{}:s3:::", self.id())
    }

    /// The ARN of a KMS key of the partition.
    pub fn key_arn(self, region: &str, account: &str, key_id: &str) -> String {
        format!("arn:{}:kms:{region}:{account}:key/{key_id}", self.id())
    }
}

/// The partition of a region, for ARNs built from it (a key's, a bucket's); the `aws`
/// partition for a region crossgrant does not know (validation has refused those).
pub fn partition_of(region: &str) -> Partition {
    Partition::of_region(region).unwrap_or_default()
}

/// Whether `region` is a region of one of the three partitions.
pub fn is_region(region: &str) -> bool {
    Partition::of_region(region).is_some()
}

/// What follows `arn:PARTITION:SERVICE:` in an ARN of any of the three partitions.
pub fn arn_after_service<'a>(arn: &'a str, service: &str) -> Option<&'a str> {
    let partition = Partition::of_arn(arn)?;
    arn.strip_prefix("arn:")?
        .strip_prefix(partition.id())?
        .strip_prefix(':')?
        .strip_prefix(service)?
        .strip_prefix(':')
}

/// What follows `arn:PARTITION:iam::` in an IAM ARN of any partition: `ACCOUNT:RESOURCE`.
pub fn iam_arn_rest(arn: &str) -> Option<&str> {
    arn_after_service(arn, "iam")?.strip_prefix(':')
}

/// The bucket and object path of an S3 ARN of any partition (`arn:PARTITION:s3:::BUCKET/KEY`).
pub fn s3_arn_rest(arn: &str) -> Option<&str> {
    arn_after_service(arn, "s3")?.strip_prefix("::")
}

/// Regions of the `aws` partition.
pub const REGIONS: &[&str] = &[
    "af-south-1",
    "ap-east-1",
    "ap-east-2",
    "ap-northeast-1",
    "ap-northeast-2",
    "ap-northeast-3",
    "ap-south-1",
    "ap-south-2",
    "ap-southeast-1",
    "ap-southeast-2",
    "ap-southeast-3",
    "ap-southeast-4",
    "ap-southeast-5",
    "ap-southeast-6",
    "ap-southeast-7",
    "ca-central-1",
    "ca-west-1",
    "eu-central-1",
    "eu-central-2",
    "eu-north-1",
    "eu-south-1",
    "eu-south-2",
    "eu-west-1",
    "eu-west-2",
    "eu-west-3",
    "il-central-1",
    "me-central-1",
    "me-south-1",
    "mx-central-1",
    "sa-east-1",
    "us-east-1",
    "us-east-2",
    "us-west-1",
    "us-west-2",
];

/// Regions of the `aws-cn` partition.
pub const CHINA_REGIONS: &[&str] = &["cn-north-1", "cn-northwest-1"];

/// Regions of the `aws-us-gov` partition.
pub const GOVCLOUD_REGIONS: &[&str] = &["us-gov-east-1", "us-gov-west-1"];

/// Whether `id` is an AWS account id: twelve digits.
/// Whether `value` is an EC2 resource id: `prefix` (`vpce-`, `vpc-`) followed by 8 to 17
/// lowercase hexadecimal digits.
pub fn is_ec2_resource_id(value: &str, prefix: &str) -> bool {
    value.strip_prefix(prefix).is_some_and(|digits| {
        (8..=17).contains(&digits.len())
            && digits
                .chars()
                .all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c))
    })
}

/// `o-` followed by 10 to 32 lowercase letters or digits.
pub fn is_organization_id(text: &str) -> bool {
    text.strip_prefix("o-").is_some_and(|rest| {
        (10..=32).contains(&rest.len())
            && rest
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
    })
}

pub fn is_account_id(id: &str) -> bool {
    id.len() == 12 && id.bytes().all(|b| b.is_ascii_digit())
}

/// The region, account and key id of a KMS key ARN (`arn:aws:kms:REGION:ACCOUNT:key/ID`), or
/// why it is not one that names exactly one key.
pub fn key_arn_parts(arn: &str) -> Result<(&str, &str, &str), &'static str> {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let [prefix, partition, service, region, account, resource] = parts[..] else {
        return Err("is not an ARN (arn:aws:kms:REGION:ACCOUNT:key/KEY-ID)");
    };
    if prefix != "arn" || Partition::of_arn(arn).is_none() || service != kms::SERVICE {
        return Err("is not a KMS ARN");
    }
    let Some(id) = resource.strip_prefix("key/") else {
        return Err(
            "does not name a key (`key/KEY-ID`; an alias ARN resolves in the caller's account)",
        );
    };
    if !is_account_id(account) {
        return Err("has no 12-digit account id");
    }
    if Partition::of_region(region).map(Partition::id) != Some(partition) {
        return Err("has no AWS region of its partition");
    }
    if id.is_empty() || !id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
        return Err("has a key id that is not letters, digits and `-`");
    }
    Ok((region, account, id))
}

pub fn bucket_arn(partition: Partition, bucket_name: &str) -> String {
    format!("{}{bucket_name}", partition.s3_prefix())
}

/// The ARN of an S3 access point: regional, and in its owner's account.
pub fn access_point_arn(
    partition: Partition,
    region: &str,
    account_id: &str,
    name: &str,
) -> String {
    format!(
        "arn:{}:s3:{region}:{account_id}:accesspoint/{name}",
        partition.id()
    )
}

/// The ARN an S3 request through an access point names: the access point's, or an object's
/// through it (`…:accesspoint/NAME/object/KEY`).
pub fn access_point_request_arn(access_point_arn: &str, object: Option<&str>) -> String {
    match object {
        Some(object) => format!("{access_point_arn}/object/{object}"),
        None => access_point_arn.to_string(),
    }
}

/// Why an access point name breaks S3's rules, if it does: 3 to 50 lowercase letters, digits
/// and hyphens, starting and ending with a letter or digit, without the prefixes and suffix S3
/// reserves.
pub fn access_point_name_problem(name: &str) -> Option<&'static str> {
    if !(3..=50).contains(&name.len()) {
        return Some("must be 3 to 50 characters long");
    }
    if !name
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
    {
        return Some("may hold only lowercase letters, digits and `-`");
    }
    if name.starts_with('-') || name.ends_with('-') {
        return Some("must start and end with a letter or digit");
    }
    if name.starts_with("xn--") || name.ends_with("-s3alias") {
        return Some("uses a prefix or suffix S3 reserves (`xn--`, `-s3alias`)");
    }
    None
}

/// The ARN an S3 request names: the object's, or without one the bucket's.
pub fn s3_arn(partition: Partition, bucket_name: &str, object: Option<&str>) -> String {
    match object {
        Some(object) => format!("{}{bucket_name}/{object}", partition.s3_prefix()),
        None => bucket_arn(partition, bucket_name),
    }
}

/// The encryption context S3 sends KMS for a request on an object: the object's ARN, or with
/// an S3 Bucket Key the bucket's.
pub fn s3_encryption_context(
    partition: Partition,
    bucket_name: &str,
    object: Option<&str>,
    bucket_key: bool,
) -> String {
    s3_arn(partition, bucket_name, object.filter(|_| !bucket_key))
}

/// S3: a bucket policy is at most 20 KB.
/// S3's limit on an access point policy, as on a bucket policy.
pub const ACCESS_POINT_POLICY_BYTES: usize = 20_480;
pub const BUCKET_POLICY_BYTES: usize = 20_480;
/// KMS: a key policy is at most 32 KB.
pub const KEY_POLICY_BYTES: usize = 32_768;
/// IAM: all inline policies of a role together are at most 10,240 characters.
pub const ROLE_INLINE_POLICIES_CHARACTERS: usize = 10_240;
/// IAM: a customer-managed policy is at most 6,144 characters.
pub const MANAGED_POLICY_CHARACTERS: usize = 6_144;

/// CloudFormation: a template body passed in the request (`aws cloudformation deploy` without
/// `--s3-bucket`) is at most 51,200 bytes.
pub const TEMPLATE_BODY_BYTES: usize = 51_200;
/// CloudFormation: a template body read from S3 is at most 1 MB.
pub const TEMPLATE_S3_BYTES: usize = 1_048_576;
/// CloudFormation: a template declares at most 500 resources.
pub const TEMPLATE_RESOURCES: usize = 500;
/// CloudFormation: a template declares at most 200 parameters.
pub const TEMPLATE_PARAMETERS: usize = 200;
/// CloudFormation: a template declares at most 200 outputs.
pub const TEMPLATE_OUTPUTS: usize = 200;

/// What IAM reads as more than literal text where it matches a value against a request: the
/// `Resource` element and the `ArnEquals`, `ArnLike` and `StringLike` operators take `*` and `?`
/// as wildcards, and every policy of version 2012-10-17 substitutes `${…}` policy variables.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PatternSyntax {
    /// `*` (any run of characters) or `?` (any one character).
    Wildcard(char),
    /// `${`, the start of a policy variable.
    PolicyVariable,
}

/// The first piece of pattern syntax in `text`, if any: a text without one names exactly
/// itself wherever crossgrant puts it in a policy.
pub fn pattern_syntax(text: &str) -> Option<PatternSyntax> {
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '*' | '?' => return Some(PatternSyntax::Wildcard(c)),
            '$' if chars.peek() == Some(&'{') => return Some(PatternSyntax::PolicyVariable),
            _ => {}
        }
    }
    None
}

/// IAM: a role or user name, `[\w+=,.@-]{1,64}`.
pub fn is_iam_name(text: &str) -> bool {
    is_iam_name_of(text, 64)
}

/// IAM: a customer-managed policy name, `[\w+=,.@-]{1,128}`.
pub fn is_policy_name(text: &str) -> bool {
    is_iam_name_of(text, 128)
}

fn is_iam_name_of(text: &str, max: usize) -> bool {
    (1..=max).contains(&text.len())
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+=,.@_-".contains(c))
}

/// Why a text is not an IAM path (`/`, or 1 to 512 printable ASCII characters between two
/// `/`), if it is not. Pattern syntax is checked apart, by [`pattern_syntax`].
pub fn iam_path_problem(path: &str) -> Option<&'static str> {
    if !path.starts_with('/') || !path.ends_with('/') {
        Some("must start and end with `/`")
    } else if path.len() > 512 {
        Some("is longer than the 512 characters IAM allows")
    } else if path.contains("//") {
        Some("has an empty segment (`//`)")
    } else if !path.chars().all(|c| c.is_ascii_graphic()) {
        Some("contains a character IAM paths do not allow (only printable ASCII, no spaces)")
    } else {
        None
    }
}

/// The account field of the ARNs of AWS-managed policies.
pub const AWS_MANAGED_POLICY_ACCOUNT: &str = "aws";

/// Why `arn` is not the ARN of an IAM principal a key policy can name (an account root, a
/// role or a user of a 12-digit account), if it is not.
pub fn principal_arn_problem(arn: &str) -> Option<&'static str> {
    let Some(rest) = iam_arn_rest(arn) else {
        return Some("does not start with `arn:aws:iam::` (`arn:aws-cn:iam::`, `arn:aws-us-gov:iam::` in those partitions)");
    };
    let Some((account, resource)) = rest.split_once(':') else {
        return Some("has no account id");
    };
    if !is_account_id(account) {
        return Some("does not name a 12-digit account id");
    }
    if resource == "root" {
        return None;
    }
    let Some(named) = resource
        .strip_prefix("role/")
        .or_else(|| resource.strip_prefix("user/"))
    else {
        return Some("names neither `root`, a `role/` nor a `user/`");
    };
    path_and_name_problem(named, is_iam_name)
}

/// Why `arn` is not the ARN of a managed policy (`arn:aws:iam::aws:policy/…` or
/// `arn:aws:iam::<12 digits>:policy/…`), if it is not.
pub fn policy_arn_problem(arn: &str) -> Option<&'static str> {
    let Some(rest) = iam_arn_rest(arn) else {
        return Some("does not start with `arn:aws:iam::` (`arn:aws-cn:iam::`, `arn:aws-us-gov:iam::` in those partitions)");
    };
    let Some((account, resource)) = rest.split_once(':') else {
        return Some("has no account id");
    };
    if account != AWS_MANAGED_POLICY_ACCOUNT && !is_account_id(account) {
        return Some("names neither `aws` nor a 12-digit account id");
    }
    let Some(named) = resource.strip_prefix("policy/") else {
        return Some("does not name a `policy/`");
    };
    path_and_name_problem(named, is_policy_name)
}

/// `path/name` after the resource type of an IAM ARN: an optional path and a name.
fn path_and_name_problem(named: &str, is_name: fn(&str) -> bool) -> Option<&'static str> {
    let (path, name) = match named.rfind('/') {
        Some(at) => (&named[..=at], &named[at + 1..]),
        None => ("", named),
    };
    if !path.is_empty() && iam_path_problem(&format!("/{path}")).is_some() {
        return Some("has a path IAM does not allow");
    }
    if !is_name(name) {
        return Some("ends in a name IAM does not allow (letters, digits and `+=,.@_-`)");
    }
    None
}

/// The tag EC2 shows as an instance's name; crossgrant adds it to every instance that has none.
pub const NAME_TAG: &str = "Name";

#[cfg(test)]
mod tests {

    #[test]
    fn the_partition_follows_the_region_and_names_arns_and_endpoints() {
        assert_eq!(Partition::of_region("eu-west-1"), Some(Partition::Aws));
        assert_eq!(
            Partition::of_region("cn-northwest-1"),
            Some(Partition::China)
        );
        assert_eq!(
            Partition::of_region("us-gov-east-1"),
            Some(Partition::GovCloud)
        );
        assert_eq!(Partition::of_region("cn-south-9"), None);
        assert_eq!(s3_service("cn-north-1"), "s3.cn-north-1.amazonaws.com.cn");
        assert_eq!(
            s3_service("us-gov-west-1"),
            "s3.us-gov-west-1.amazonaws.com"
        );
        assert_eq!(
            Partition::China.root_arn("111111111111"),
            "arn:aws-cn:iam::111111111111:root"
        );
        assert_eq!(
            bucket_arn(Partition::GovCloud, "b"),
            "arn:aws-us-gov:s3:::b"
        );
        assert_eq!(iam_arn_rest("arn:aws-cn:iam::1:root"), Some("1:root"));
        assert_eq!(iam_arn_rest("arn:aws-cnx:iam::1:root"), None);
        assert_eq!(iam_arn_rest("arn:aws:iamx::1:root"), None);
        assert_eq!(s3_arn_rest("arn:aws-us-gov:s3:::b/k"), Some("b/k"));
        let key = "arn:aws-cn:kms:cn-north-1:111111111111:key/1234abcd-12ab";
        assert_eq!(
            key_arn_parts(key),
            Ok(("cn-north-1", "111111111111", "1234abcd-12ab"))
        );
        assert!(key_arn_parts(&key.replace("aws-cn", "aws")).is_err());
    }
    use super::*;

    #[test]
    fn the_s3_action_table_names_each_action_once_and_agrees_with_what_crossgrant_emits() {
        for (index, (action, _)) in S3_ACTIONS.iter().enumerate() {
            assert!(action.starts_with("s3:") && pattern_syntax(action).is_none());
            assert_eq!(s3_action(action).map(|(known, _)| known), Some(*action));
            assert!(S3_ACTIONS[..index]
                .iter()
                .all(|(other, _)| !other.eq_ignore_ascii_case(action)));
        }
        for (action, resource_type) in EMITTED_ACTIONS {
            if action.starts_with("s3:") {
                assert_eq!(s3_action(action), Some((action, resource_type)));
            }
        }
    }

    #[test]
    fn pattern_syntax_is_wildcards_and_policy_variables() {
        assert_eq!(pattern_syntax("/a*/"), Some(PatternSyntax::Wildcard('*')));
        assert_eq!(pattern_syntax("a?b"), Some(PatternSyntax::Wildcard('?')));
        assert_eq!(
            pattern_syntax("/${aws:username}/"),
            Some(PatternSyntax::PolicyVariable)
        );
        for literal in ["/apps/", "cost$/", "{x}", "$", "a$b{c}"] {
            assert_eq!(pattern_syntax(literal), None, "{literal}");
        }
    }
}

//! The AWS vocabulary: the actions crossgrant writes or asks about, each with the type of
//! resource it applies to, the condition keys it sets or reads, service principals, the
//! partition and its regions, and the size limits of the documents it deploys. Every other
//! module names AWS through these constants, so an action is spelt in one place.

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
    pub const ASSUME_ROLE: &str = "sts:AssumeRole";
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

/// The actions crossgrant emits itself, with the one type of resource each applies to. A
/// scenario's extra actions, or a wildcard, may apply to more than one and have none here.
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

/// Whether an S3 action applies to the bucket ARN rather than to object ARNs.
pub fn is_bucket_level(action: &str) -> bool {
    action.contains("Bucket")
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

    /// Condition keys whose values a request built by crossgrant (or given to `explain`)
    /// carries or deliberately leaves out.
    pub const KNOWN: [&str; 14] = [
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

/// The S3 endpoint that calls KMS on a caller's behalf in a region (`kms:ViaService`).
pub fn s3_service(region: &str) -> String {
    format!("s3.{region}{SERVICE_PRINCIPAL_SUFFIX}")
}

/// Regions of the `aws` partition; the generated ARNs are written for that partition.
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

/// Whether `id` is an AWS account id: twelve digits.
pub fn is_account_id(id: &str) -> bool {
    id.len() == 12 && id.bytes().all(|b| b.is_ascii_digit())
}

/// How S3 ARNs of the `aws` partition begin; they name neither region nor account.
pub const S3_ARN_PREFIX: &str = "arn:aws:s3:::";

pub fn bucket_arn(bucket_name: &str) -> String {
    format!("{S3_ARN_PREFIX}{bucket_name}")
}

/// The ARN an S3 request names: the object's, or without one the bucket's.
pub fn s3_arn(bucket_name: &str, object: Option<&str>) -> String {
    match object {
        Some(object) => format!("{S3_ARN_PREFIX}{bucket_name}/{object}"),
        None => bucket_arn(bucket_name),
    }
}

/// The encryption context S3 sends KMS for a request on an object: the object's ARN, or with
/// an S3 Bucket Key the bucket's.
pub fn s3_encryption_context(bucket_name: &str, object: Option<&str>, bucket_key: bool) -> String {
    s3_arn(bucket_name, object.filter(|_| !bucket_key))
}

/// S3: a bucket policy is at most 20 KB.
pub const BUCKET_POLICY_BYTES: usize = 20_480;
/// KMS: a key policy is at most 32 KB.
pub const KEY_POLICY_BYTES: usize = 32_768;
/// IAM: all inline policies of a role together are at most 10,240 characters.
pub const ROLE_INLINE_POLICIES_CHARACTERS: usize = 10_240;
/// IAM: a customer-managed policy is at most 6,144 characters.
pub const MANAGED_POLICY_CHARACTERS: usize = 6_144;

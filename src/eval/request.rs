//! One request as AWS authorizes it: who calls (a role session, or nobody), which action on
//! which resource in which account, and the request context — the condition keys and values
//! AWS attaches. The evaluator never invents context: whoever builds a request states every key
//! AWS would send, which is what makes a probe faithful.

use crate::aws::condition_key::{
    KMS_CALLER_ACCOUNT, KMS_ENCRYPTION_CONTEXT_KEYS, KMS_S3_ENCRYPTION_CONTEXT, KMS_VIA_SERVICE,
    PRINCIPAL_ACCOUNT, PRINCIPAL_ARN, PRINCIPAL_IS_AWS_SERVICE, PRINCIPAL_TYPE, REQUESTED_REGION,
    RESOURCE_ACCOUNT, RESOURCE_ORG_ID, S3_ENCRYPTION_CONTEXT_KEY, SECURE_TRANSPORT, SOURCE_VPC,
    SOURCE_VPCE, VIA_AWS_SERVICE,
};
use crate::aws::{s3_service, ASSUMED_ROLE};
use std::collections::BTreeMap;
use std::fmt;

/// Who signs the request.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Caller {
    /// A session of an IAM role. `arn` is the role ARN (what `aws:PrincipalArn` holds).
    Role { arn: String, account: String },
    /// An unsigned request.
    Anonymous,
}

impl Caller {
    pub fn role(arn: impl Into<String>) -> Option<Caller> {
        let arn = arn.into();
        let account = account_of_arn(&arn)?.to_string();
        Some(Caller::Role { arn, account })
    }

    pub fn account(&self) -> Option<&str> {
        match self {
            Caller::Role { account, .. } => Some(account),
            Caller::Anonymous => None,
        }
    }

    pub fn arn(&self) -> Option<&str> {
        match self {
            Caller::Role { arn, .. } => Some(arn),
            Caller::Anonymous => None,
        }
    }
}

impl fmt::Display for Caller {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Caller::Role { arn, .. } => f.write_str(arn),
            Caller::Anonymous => f.write_str("anonymous"),
        }
    }
}

/// The account id field of an ARN (`arn:aws:iam::111111111111:role/x` → `111111111111`), if it
/// has twelve digits.
pub fn account_of_arn(arn: &str) -> Option<&str> {
    let account = arn.split(':').nth(4)?;
    crate::aws::is_account_id(account).then_some(account)
}

/// Condition keys and their values. Keys compare case-insensitively, as IAM does; a key is
/// multi-valued when AWS sends it as a list (`kms:EncryptionContextKeys`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Context {
    entries: BTreeMap<String, ContextEntry>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
struct ContextEntry {
    key: String,
    values: Vec<String>,
    multi: bool,
}

impl Context {
    pub fn new() -> Self {
        Context::default()
    }

    /// What AWS attaches to every request of `caller`: whether it came over TLS and, for a role
    /// session, who signed it (a role, not a service principal). Whether a service makes the
    /// request on the caller's behalf is the request's: [`Context::add_resource`] says no,
    /// [`Context::add_s3_call`] yes.
    pub fn of_caller(caller: &Caller, secure_transport: bool) -> Self {
        let mut context = Context::new();
        context.set(SECURE_TRANSPORT, secure_transport.to_string());
        if let Caller::Role { arn, account } = caller {
            context.set(PRINCIPAL_ARN, arn.clone());
            context.set(PRINCIPAL_ACCOUNT, account.clone());
            context.set(PRINCIPAL_TYPE, ASSUMED_ROLE);
            context.set(PRINCIPAL_IS_AWS_SERVICE, "false");
        }
        context
    }

    /// Adds what AWS knows of the resource acted upon: its account, its organization (when
    /// the account is in one) and the region the request is made to (when known); and, unless a service
    /// was said to make it, that the caller made it itself (`aws:ViaAWSService` false).
    pub fn add_resource(
        &mut self,
        account: &str,
        organization: Option<&str>,
        region: Option<&str>,
    ) {
        if self.get(VIA_AWS_SERVICE).is_none() {
            self.set(VIA_AWS_SERVICE, "false");
        }
        self.set(RESOURCE_ACCOUNT, account);
        if let Some(organization) = organization {
            self.set(RESOURCE_ORG_ID, organization);
        }
        if let Some(region) = region {
            self.set(REQUESTED_REGION, region);
        }
    }

    /// Adds what a request that came through a VPC endpoint carries: the endpoint, and the
    /// VPC when it is known.
    pub fn add_vpc_endpoint(&mut self, vpce_id: &str, vpc_id: Option<&str>) {
        self.set(SOURCE_VPCE, vpce_id);
        if let Some(vpc_id) = vpc_id {
            self.set(SOURCE_VPC, vpc_id);
        }
    }

    /// Adds what KMS knows of every signed caller: its account.
    pub fn add_kms_caller(&mut self, caller: &Caller) {
        if let Some(account) = caller.account() {
            self.set(KMS_CALLER_ACCOUNT, account);
        }
    }

    /// Adds what a KMS request carries when S3 sends it on the caller's behalf (a forward
    /// access session, so `aws:ViaAWSService` is true): S3 in the bucket's region as
    /// `kms:ViaService`, and the encryption context S3 chose
    /// ([`crate::aws::s3_encryption_context`]).
    pub fn add_s3_call(&mut self, region: &str, encryption_context: String) {
        self.set(VIA_AWS_SERVICE, "true");
        self.set(KMS_VIA_SERVICE, s3_service(region));
        self.set(KMS_S3_ENCRYPTION_CONTEXT, encryption_context);
        self.set_list(
            KMS_ENCRYPTION_CONTEXT_KEYS,
            vec![S3_ENCRYPTION_CONTEXT_KEY.into()],
        );
    }

    /// Sets a single-valued key.
    pub fn set(&mut self, key: &str, value: impl Into<String>) -> &mut Self {
        self.insert(key, vec![value.into()], false)
    }

    /// Sets a multi-valued key.
    pub fn set_list(&mut self, key: &str, values: Vec<String>) -> &mut Self {
        self.insert(key, values, true)
    }

    pub fn with(mut self, key: &str, value: impl Into<String>) -> Self {
        self.set(key, value);
        self
    }

    fn insert(&mut self, key: &str, values: Vec<String>, multi: bool) -> &mut Self {
        self.entries.insert(
            key.to_ascii_lowercase(),
            ContextEntry {
                key: key.to_string(),
                values,
                multi,
            },
        );
        self
    }

    pub fn remove(&mut self, key: &str) {
        self.entries.remove(&key.to_ascii_lowercase());
    }

    /// The values of a key, `None` when the request does not carry it.
    pub fn get(&self, key: &str) -> Option<&[String]> {
        self.entries
            .get(&key.to_ascii_lowercase())
            .map(|entry| entry.values.as_slice())
    }

    /// Every key as written when set, with its values and whether it is multi-valued.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &[String], bool)> {
        self.entries
            .values()
            .map(|entry| (entry.key.as_str(), entry.values.as_slice(), entry.multi))
    }
}

/// One authorization question.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Request {
    pub caller: Caller,
    /// `service:Action`, e.g. `s3:GetObject`.
    pub action: String,
    /// The ARN of the resource acted upon.
    pub resource: String,
    /// The account that owns the resource (S3 ARNs do not carry it).
    pub resource_account: String,
    pub context: Context,
}

impl Request {
    pub fn service(&self) -> &str {
        self.action.split(':').next().unwrap_or_default()
    }

    /// Whether caller and resource live in different accounts (anonymous callers count as
    /// outside every account).
    pub fn is_cross_account(&self) -> bool {
        self.caller.account() != Some(self.resource_account.as_str())
    }
}

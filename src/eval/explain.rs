//! The domain half of `crossgrant explain`: one request as someone debugging a live setup
//! states it, and the documents they captured, become the S3 request and the KMS request S3
//! makes for it, with the context AWS would attach (the same context probes carry); each is
//! decided, and for each denial comes the statement that would fix it. Reading the documents
//! and printing the answer belong to the command line.

use super::advice::{advise, Advice};
use super::engine::{evaluate, Decision, GuardrailPolicies, Layer, NamedPolicy, PolicySet};
use super::error::EvalError;
use super::guardrail::{rcp_layer, scp_layer, single_layer};
use super::request::{account_of_arn, Caller, Context, Request};
use super::resolve::{aws_managed_s3_key_policy, is_aws_managed_s3_key_policy};
use crate::aws::{condition_key, kms, kms_action_for, s3, s3_arn, s3_encryption_context, sts};
use crate::policy::PolicyDocument;

/// The request to explain, as the caller would send it.
#[derive(Clone, Debug)]
pub struct Question {
    pub caller: Caller,
    /// An S3 or KMS action.
    pub action: String,
    pub bucket: Option<String>,
    /// The object key, for object actions.
    pub object: Option<String>,
    /// The `prefix` parameter of a ListBucket call.
    pub prefix: Option<String>,
    pub bucket_account: Option<String>,
    pub region: Option<String>,
    /// How the bucket encrypts, as far as it was stated.
    pub encryption: BucketEncryption,
    /// The bucket uses an S3 Bucket Key.
    pub bucket_key: bool,
    pub plain_http: bool,
    /// For `sts:AssumeRole`: the role asked for, and the external id presented.
    pub role_arn: Option<String>,
    pub external_id: Option<String>,
    /// The VPC endpoint the S3 request comes through (`aws:SourceVpce`).
    pub source_vpce: Option<String>,
    /// The organizations of the caller's account (`aws:PrincipalOrgID`) and of the
    /// resource's (`aws:ResourceOrgID`).
    pub principal_org_id: Option<String>,
    pub resource_org_id: Option<String>,
}

/// What encrypts the objects, which decides whether S3 calls KMS for an object request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BucketEncryption {
    /// Not stated: the KMS call S3 may make cannot be decided.
    Unknown,
    /// SSE-S3: S3 calls no KMS key.
    S3Managed,
    /// SSE-KMS with this key; `aws_managed` for the `aws/s3` key.
    Kms { key_arn: String, aws_managed: bool },
}

impl BucketEncryption {
    pub fn key_arn(&self) -> Option<&str> {
        match self {
            BucketEncryption::Kms { key_arn, .. } => Some(key_arn),
            BucketEncryption::Unknown | BucketEncryption::S3Managed => None,
        }
    }

    fn aws_managed(&self) -> bool {
        matches!(
            self,
            BucketEncryption::Kms {
                aws_managed: true,
                ..
            }
        )
    }
}

impl Question {
    /// The partition the request is made in: the region's, else the caller's.
    fn partition(&self) -> crate::aws::Partition {
        self.region
            .as_deref()
            .and_then(crate::aws::Partition::of_region)
            .or_else(|| self.caller.arn().and_then(crate::aws::Partition::of_arn))
            .unwrap_or_default()
    }

    /// The context of every request the question implies, made to `resource_account` (in the
    /// question's region, when it names one).
    fn context(&self, secure_transport: bool, resource_account: &str) -> Context {
        let mut context = Context::of_caller(&self.caller, secure_transport);
        if let Some(organization) = &self.principal_org_id {
            context.set(condition_key::PRINCIPAL_ORG_ID, organization.clone());
        }
        context.add_resource(
            resource_account,
            self.resource_org_id.as_deref(),
            self.region.as_deref(),
        );
        context
    }

    fn service(&self) -> String {
        self.action
            .split(':')
            .next()
            .unwrap_or_default()
            .to_ascii_lowercase()
    }
}

/// A document as given, with the name it is reported under.
#[derive(Clone, Debug)]
pub struct GivenPolicy {
    pub name: String,
    pub document: PolicyDocument,
}

impl GivenPolicy {
    fn named(&self) -> NamedPolicy<'_> {
        NamedPolicy {
            name: &self.name,
            document: &self.document,
        }
    }
}

/// A layer's document as stated: not given at all (the layer cannot be decided), stated not
/// to exist (a bucket without a policy, a role without policies), or given.
#[derive(Clone, Debug, Default)]
pub enum Stated<T> {
    #[default]
    NotGiven,
    Nothing,
    Given(T),
}

impl<T> Stated<T> {
    fn is_given(&self) -> bool {
        !matches!(self, Stated::NotGiven)
    }

    fn given(&self) -> Option<&T> {
        match self {
            Stated::Given(value) => Some(value),
            Stated::NotGiven | Stated::Nothing => None,
        }
    }
}

/// The documents of the three layers, as far as they were given. Every key has a policy, so
/// a key policy is given or not; the `aws/s3` key's is known without being given.
#[derive(Clone, Debug, Default)]
pub struct GivenPolicies {
    pub bucket_policy: Stated<GivenPolicy>,
    pub key_policy: Option<GivenPolicy>,
    pub identity_policies: Stated<Vec<GivenPolicy>>,
    /// The trust policy of the role an `sts:AssumeRole` asks for.
    pub trust_policy: Option<GivenPolicy>,
    /// The SCPs of the caller's account and the RCPs of the resource's (empty: none stated).
    pub scps: Vec<GivenPolicy>,
    pub rcps: Vec<GivenPolicy>,
    /// The policy of the VPC endpoint the S3 request comes through.
    pub vpc_endpoint_policy: Option<GivenPolicy>,
    /// The caller's permissions boundary.
    pub boundary: Option<GivenPolicy>,
}

impl GivenPolicies {
    /// The guardrail layers a request meets: SCPs and the boundary for every request of a
    /// signed caller, RCPs for every request, the endpoint policy for the S3 request.
    fn guardrails(&self, caller: &Caller, s3_request: bool) -> Vec<GuardrailPolicies<'_>> {
        let mut layers = Vec::new();
        let signed = *caller != Caller::Anonymous;
        if signed && !self.scps.is_empty() {
            layers.push(scp_layer(
                self.scps.iter().map(GivenPolicy::named).collect(),
            ));
        }
        if !self.rcps.is_empty() {
            layers.push(rcp_layer(
                self.rcps.iter().map(GivenPolicy::named).collect(),
            ));
        }
        if let (true, Some(policy)) = (s3_request, &self.vpc_endpoint_policy) {
            layers.push(single_layer(Layer::VpcEndpointPolicy, policy.named()));
        }
        if let (true, Some(policy)) = (signed, &self.boundary) {
            layers.push(single_layer(Layer::PermissionsBoundary, policy.named()));
        }
        layers
    }
}

/// What a question lacks to be decided: a layer that takes part in the decision, or the key
/// the KMS step is made with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Needed {
    /// An S3 request is decided by the bucket policy as well.
    BucketPolicy,
    /// A role's request is decided by its identity policies as well.
    IdentityPolicy,
    /// An object read or write may make S3 call KMS: whether it does, and with which key.
    Encryption,
    /// A KMS request names its key.
    KeyArn,
    /// A KMS request is decided by the key policy.
    KeyPolicy,
    /// An `sts:AssumeRole` names its role.
    RoleArn,
    /// An `sts:AssumeRole` is decided by the role's trust policy.
    TrustPolicy,
}

/// Why a question cannot be answered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Unanswerable {
    UnknownBucketOwner,
    UnknownRegion,
    /// Documents or facts without which an answer would be a guess; every one is listed.
    Missing(Vec<Needed>),
    Unevaluable(EvalError),
}

/// One request the question implies, and how it was decided.
#[derive(Clone, Debug)]
pub struct DecidedRequest {
    pub request: Request,
    pub decision: Decision,
    /// The KMS call S3 makes for the caller, not the caller's own request.
    pub made_by_s3: bool,
}

/// The answer to a question.
#[derive(Clone, Debug)]
pub struct Explanation {
    pub requests: Vec<DecidedRequest>,
    pub advice: Vec<Advice>,
    /// An upload through a KMS key: large ones go multipart, and UploadPart needs `kms:Decrypt`
    /// as well, which this question did not ask about.
    pub multipart_needs_decrypt: bool,
}

impl Explanation {
    /// Allowed when every request the question implies was decided and allowed.
    pub fn allowed(&self) -> bool {
        !self.requests.is_empty()
            && self
                .requests
                .iter()
                .all(|decided| decided.decision.verdict.is_allowed())
    }
}

/// What `question` lacks in `given` to be decided, in the order the flags are read.
pub fn needed(question: &Question, given: &GivenPolicies) -> Vec<Needed> {
    let service = question.service();
    let mut needed = Vec::new();
    if service == s3::SERVICE && !given.bucket_policy.is_given() {
        needed.push(Needed::BucketPolicy);
    }
    if question.caller != Caller::Anonymous && !given.identity_policies.is_given() {
        needed.push(Needed::IdentityPolicy);
    }
    if service == sts::SERVICE {
        if question.role_arn.is_none() {
            needed.push(Needed::RoleArn);
        }
        if given.trust_policy.is_none() {
            needed.push(Needed::TrustPolicy);
        }
    }
    let kms_step = service == kms::SERVICE || kms_action_for(&question.action).is_some();
    if kms_step {
        match &question.encryption {
            BucketEncryption::Kms { aws_managed, .. } => {
                if !aws_managed && given.key_policy.is_none() {
                    needed.push(Needed::KeyPolicy);
                }
            }
            BucketEncryption::S3Managed if service == s3::SERVICE => {}
            BucketEncryption::Unknown if service == s3::SERVICE && given.key_policy.is_none() => {
                needed.push(Needed::Encryption);
            }
            BucketEncryption::Unknown | BucketEncryption::S3Managed => {
                needed.push(Needed::KeyArn);
            }
        }
    }
    needed
}

/// Decides the requests `question` implies against `given`, or says what is [`needed`] first:
/// no answer rests on a layer that was not given. Without a key policy for an `aws/s3` key,
/// the one AWS fixes for every such key stands in.
pub fn explain(question: &Question, mut given: GivenPolicies) -> Result<Explanation, Unanswerable> {
    if question.service() == s3::SERVICE && question.bucket_account.is_none() {
        return Err(Unanswerable::UnknownBucketOwner);
    }
    let needed = needed(question, &given);
    if !needed.is_empty() {
        return Err(Unanswerable::Missing(needed));
    }
    let aws_managed = question.encryption.aws_managed()
        || given
            .key_policy
            .as_ref()
            .is_some_and(|given| is_aws_managed_s3_key_policy(&given.document));
    if question.encryption.aws_managed() && given.key_policy.is_none() {
        let account = question
            .bucket_account
            .as_deref()
            .ok_or(Unanswerable::UnknownBucketOwner)?;
        let region = question
            .region
            .as_deref()
            .ok_or(Unanswerable::UnknownRegion)?;
        given.key_policy = Some(GivenPolicy {
            name: "the aws/s3 key policy".into(),
            document: aws_managed_s3_key_policy(account, region),
        });
    }
    let identity: Vec<NamedPolicy> = given
        .identity_policies
        .given()
        .into_iter()
        .flatten()
        .map(GivenPolicy::named)
        .collect();
    let service = question.service();
    let mut requests: Vec<(Request, PolicySet, bool)> = Vec::new();
    if service == s3::SERVICE {
        requests.push((
            s3_request(question)?,
            PolicySet {
                identity: identity.clone(),
                resource: given.bucket_policy.given().map(GivenPolicy::named),
                guardrails: given.guardrails(&question.caller, true),
            },
            false,
        ));
    }
    if let (true, Some(role_arn)) = (service == sts::SERVICE, &question.role_arn) {
        requests.push((
            sts_request(question, role_arn),
            PolicySet {
                identity: identity.clone(),
                resource: given.trust_policy.as_ref().map(GivenPolicy::named),
                guardrails: given.guardrails(&question.caller, false),
            },
            false,
        ));
    }
    let kms_action = if service == kms::SERVICE {
        Some(question.action.clone())
    } else {
        kms_action_for(&question.action).map(str::to_string)
    };
    if let (Some(kms_action), Some(key_arn)) = (kms_action, question.encryption.key_arn()) {
        requests.push((
            kms_request(question, kms_action, key_arn),
            PolicySet {
                identity,
                resource: given.key_policy.as_ref().map(GivenPolicy::named),
                guardrails: given.guardrails(&question.caller, false),
            },
            service == s3::SERVICE,
        ));
    }
    let mut decided = Vec::new();
    let mut advice = Vec::new();
    for (request, policies, made_by_s3) in requests {
        let decision = evaluate(&request, &policies).map_err(Unanswerable::Unevaluable)?;
        advice.extend(advise(&request, &decision, &policies, aws_managed));
        decided.push(DecidedRequest {
            request,
            decision,
            made_by_s3,
        });
    }
    Ok(Explanation {
        requests: decided,
        advice,
        multipart_needs_decrypt: question.action.eq_ignore_ascii_case(s3::PUT_OBJECT)
            && question.encryption.key_arn().is_some(),
    })
}

fn s3_request(question: &Question) -> Result<Request, Unanswerable> {
    let bucket_account = question
        .bucket_account
        .clone()
        .ok_or(Unanswerable::UnknownBucketOwner)?;
    let mut context = question.context(!question.plain_http, &bucket_account);
    if let Some(prefix) = &question.prefix {
        context.set(condition_key::S3_PREFIX, prefix.clone());
    }
    if let Some(vpce_id) = &question.source_vpce {
        context.add_vpc_endpoint(vpce_id, None);
    }
    Ok(Request {
        caller: question.caller.clone(),
        action: question.action.clone(),
        resource: s3_arn(
            question.partition(),
            question.bucket.as_deref().unwrap_or_default(),
            question.object.as_deref(),
        ),
        resource_account: bucket_account,
        context,
    })
}

/// The `sts:AssumeRole` request for `role_arn`, presenting the external id the question gives.
fn sts_request(question: &Question, role_arn: &str) -> Request {
    let mut context = question.context(true, account_of_arn(role_arn).unwrap_or_default());
    if let Some(id) = &question.external_id {
        context.set(condition_key::STS_EXTERNAL_ID, id.clone());
    }
    Request {
        caller: question.caller.clone(),
        action: question.action.clone(),
        resource: role_arn.to_string(),
        resource_account: account_of_arn(role_arn).unwrap_or_default().to_string(),
        context,
    }
}

/// The KMS request: the caller's own, or the one S3 sends on its behalf, which always goes
/// over TLS.
fn kms_request(question: &Question, action: String, key_arn: &str) -> Request {
    let mut context = question.context(true, account_of_arn(key_arn).unwrap_or_default());
    context.add_kms_caller(&question.caller);
    if let (Some(region), Some(bucket)) = (&question.region, &question.bucket) {
        context.add_s3_call(
            region,
            s3_encryption_context(
                question.partition(),
                bucket,
                question.object.as_deref(),
                question.bucket_key,
            ),
        );
    }
    Request {
        caller: question.caller.clone(),
        action,
        resource: key_arn.to_string(),
        resource_account: account_of_arn(key_arn).unwrap_or_default().to_string(),
        context,
    }
}

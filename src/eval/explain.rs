//! The domain half of `crossgrant explain`: one request as someone debugging a live setup
//! states it, and the documents they captured, become the S3 request and the KMS request S3
//! makes for it, with the context AWS would attach (the same context probes carry); each is
//! decided, and for each denial comes the statement that would fix it. Reading the documents
//! and printing the answer belong to the command line.

use super::advice::{advise, Advice};
use super::engine::{evaluate, Decision, NamedPolicy, PolicySet};
use super::error::EvalError;
use super::request::{account_of_arn, Caller, Context, Request};
use super::resolve::{aws_managed_s3_key_policy, is_aws_managed_s3_key_policy};
use crate::aws::{condition_key, kms, kms_action_for, s3, s3_arn, s3_encryption_context};
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
    /// The key that encrypts the bucket.
    pub key_arn: Option<String>,
    /// The key is the AWS managed `aws/s3` key.
    pub aws_managed_key: bool,
    /// The bucket uses an S3 Bucket Key.
    pub bucket_key: bool,
    pub plain_http: bool,
}

impl Question {
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

/// The documents of the three layers, as far as they were given.
#[derive(Clone, Debug, Default)]
pub struct GivenPolicies {
    pub bucket_policy: Option<GivenPolicy>,
    pub key_policy: Option<GivenPolicy>,
    pub identity_policies: Vec<GivenPolicy>,
}

/// Why a question cannot be answered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Unanswerable {
    UnknownBucketOwner,
    UnknownRegion,
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
    /// S3 would call KMS for this request, but no key was named, so that call was not decided.
    pub kms_call_unchecked: bool,
    /// An upload through a KMS key: large ones go multipart, and UploadPart needs `kms:Decrypt`
    /// as well, which this question did not ask about.
    pub multipart_needs_decrypt: bool,
}

impl Explanation {
    pub fn allowed(&self) -> bool {
        self.requests
            .iter()
            .all(|decided| decided.decision.verdict.is_allowed())
    }
}

/// Decides the requests `question` implies against `given`. Without a key policy for an
/// `aws/s3` key, the one AWS fixes for every such key stands in.
pub fn explain(question: &Question, mut given: GivenPolicies) -> Result<Explanation, Unanswerable> {
    let aws_managed = question.aws_managed_key
        || given
            .key_policy
            .as_ref()
            .is_some_and(|given| is_aws_managed_s3_key_policy(&given.document));
    if question.aws_managed_key && given.key_policy.is_none() {
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
        .iter()
        .map(GivenPolicy::named)
        .collect();
    let service = question.service();
    let mut requests: Vec<(Request, PolicySet, bool)> = Vec::new();
    if service == s3::SERVICE {
        requests.push((
            s3_request(question)?,
            PolicySet {
                identity: identity.clone(),
                resource: given.bucket_policy.as_ref().map(GivenPolicy::named),
            },
            false,
        ));
    }
    let kms_action = if service == kms::SERVICE {
        Some(question.action.clone())
    } else {
        kms_action_for(&question.action).map(str::to_string)
    };
    if let (Some(kms_action), Some(key_arn)) = (kms_action, &question.key_arn) {
        requests.push((
            kms_request(question, kms_action, key_arn),
            PolicySet {
                identity,
                resource: given.key_policy.as_ref().map(GivenPolicy::named),
            },
            service == s3::SERVICE,
        ));
    }
    let mut decided = Vec::new();
    let mut advice = Vec::new();
    for (request, policies, made_by_s3) in requests {
        let decision = evaluate(&request, &policies).map_err(Unanswerable::Unevaluable)?;
        advice.extend(advise(&request, &decision, aws_managed));
        decided.push(DecidedRequest {
            request,
            decision,
            made_by_s3,
        });
    }
    Ok(Explanation {
        requests: decided,
        advice,
        kms_call_unchecked: service == s3::SERVICE
            && question.key_arn.is_none()
            && kms_action_for(&question.action).is_some(),
        multipart_needs_decrypt: question.action.eq_ignore_ascii_case(s3::PUT_OBJECT)
            && question.key_arn.is_some(),
    })
}

fn s3_request(question: &Question) -> Result<Request, Unanswerable> {
    let bucket_account = question
        .bucket_account
        .clone()
        .ok_or(Unanswerable::UnknownBucketOwner)?;
    let mut context = Context::of_caller(&question.caller, !question.plain_http);
    if let Some(prefix) = &question.prefix {
        context.set(condition_key::S3_PREFIX, prefix.clone());
    }
    Ok(Request {
        caller: question.caller.clone(),
        action: question.action.clone(),
        resource: s3_arn(
            question.bucket.as_deref().unwrap_or_default(),
            question.object.as_deref(),
        ),
        resource_account: bucket_account,
        context,
    })
}

/// The KMS request: the caller's own, or the one S3 sends on its behalf, which always goes
/// over TLS.
fn kms_request(question: &Question, action: String, key_arn: &str) -> Request {
    let mut context = Context::of_caller(&question.caller, true);
    context.add_kms_caller(&question.caller);
    if let (Some(region), Some(bucket)) = (&question.region, &question.bucket) {
        context.add_s3_call(
            region,
            s3_encryption_context(bucket, question.object.as_deref(), question.bucket_key),
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

//! The requests `import` asks of the live documents, and the documents as the evaluator reads
//! them. A request is built the way `check` builds its probes (the context AWS attaches, the
//! KMS call S3 makes on the caller's behalf), so what the live documents are found to allow is
//! what `check` will later find the imported scenario allows.

use crate::aws::condition_key;
use crate::aws::{
    kms, partition_of, s3_arn, s3_encryption_context, ResourceType, LIST_ACTION, S3_ACTIONS,
};
use crate::eval::engine::{evaluate, NamedPolicy, PolicySet};
use crate::eval::probe::{OUTSIDE_PREFIX, PROBE_OBJECT};
use crate::eval::request::{Caller, Context, Request};
use crate::eval::EvalError;
use crate::policy::{PolicyDocument, Statement};

/// The bucket and key the requests are about.
#[derive(Clone, Debug)]
pub(crate) struct Target {
    pub bucket_name: String,
    pub owner: String,
    pub region: String,
    /// The customer-managed key's ARN, or the `aws/s3` key's.
    pub key_arn: String,
    pub key_account: String,
    pub customer_key: bool,
    pub bucket_key: bool,
}

/// One request, by what it does rather than how AWS spells it.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum Ask {
    Object {
        action: &'static str,
        key: String,
    },
    /// `list_prefix` is the `prefix` parameter of a ListBucket call.
    Bucket {
        action: &'static str,
        list_prefix: Option<String>,
    },
    /// The KMS call S3 makes for an object, or (`via_s3` false) the same call made directly.
    Kms {
        action: &'static str,
        key: String,
        via_s3: bool,
    },
}

impl Ask {
    pub fn action(&self) -> &'static str {
        match self {
            Ask::Object { action, .. } | Ask::Bucket { action, .. } | Ask::Kms { action, .. } => {
                action
            }
        }
    }

    pub fn is_kms(&self) -> bool {
        matches!(self, Ask::Kms { .. })
    }
}

/// KMS actions asked about besides those S3 calls: what a key policy commonly hands out.
pub(crate) const KMS_ACTIONS: [&str; 8] = [
    kms::DECRYPT,
    kms::GENERATE_DATA_KEY,
    kms::ENCRYPT,
    kms::DESCRIBE_KEY,
    kms::CANCEL_KEY_DELETION,
    kms::SCHEDULE_KEY_DELETION,
    kms::TAG_RESOURCE,
    kms::UNTAG_RESOURCE,
];

/// The object probed under a prefix.
pub(crate) fn probe_object(prefix: &str) -> String {
    format!("{prefix}{PROBE_OBJECT}")
}

/// The object probed outside every prefix.
pub(crate) fn outside_object() -> String {
    probe_object(OUTSIDE_PREFIX)
}

impl Target {
    /// Every request asked about a caller: each S3 action of the table on an object under each
    /// prefix and on one outside them (or on the bucket, listing with each prefix), and each KMS
    /// action for those objects through S3 and directly.
    pub fn universe(&self, prefixes: &[String]) -> Vec<Ask> {
        let mut objects: Vec<String> = prefixes.iter().map(|p| probe_object(p)).collect();
        objects.push(outside_object());
        objects.dedup();
        let mut asks = Vec::new();
        for (action, resource_type) in S3_ACTIONS {
            match resource_type {
                ResourceType::Object => asks.extend(objects.iter().map(|key| Ask::Object {
                    action,
                    key: key.clone(),
                })),
                _ if action == LIST_ACTION => {
                    asks.push(Ask::Bucket {
                        action,
                        list_prefix: None,
                    });
                    for prefix in prefixes
                        .iter()
                        .filter(|p| !p.is_empty())
                        .map(String::as_str)
                        .chain([OUTSIDE_PREFIX])
                    {
                        asks.push(Ask::Bucket {
                            action,
                            list_prefix: Some(prefix.to_string()),
                        });
                    }
                }
                _ => asks.push(Ask::Bucket {
                    action,
                    list_prefix: None,
                }),
            }
        }
        for action in KMS_ACTIONS {
            for key in &objects {
                for via_s3 in [true, false] {
                    asks.push(Ask::Kms {
                        action,
                        key: key.clone(),
                        via_s3,
                    });
                }
            }
        }
        asks
    }

    /// The request `caller` makes for `ask`, with the context AWS attaches to it.
    pub fn request(&self, caller: &Caller, ask: &Ask) -> Request {
        let mut context = Context::of_caller(caller, true);
        match ask {
            Ask::Object { action, key } => Request {
                caller: caller.clone(),
                action: action.to_string(),
                resource: s3_arn(partition_of(&self.region), &self.bucket_name, Some(key)),
                resource_account: self.owner.clone(),
                context,
            },
            Ask::Bucket {
                action,
                list_prefix,
            } => {
                if let Some(prefix) = list_prefix {
                    context.set(condition_key::S3_PREFIX, prefix.clone());
                }
                Request {
                    caller: caller.clone(),
                    action: action.to_string(),
                    resource: s3_arn(partition_of(&self.region), &self.bucket_name, None),
                    resource_account: self.owner.clone(),
                    context,
                }
            }
            Ask::Kms {
                action,
                key,
                via_s3,
            } => {
                context.add_kms_caller(caller);
                context.add_s3_call(
                    &self.region,
                    s3_encryption_context(
                        partition_of(&self.region),
                        &self.bucket_name,
                        Some(key),
                        self.bucket_key,
                    ),
                );
                if !via_s3 {
                    context.remove(condition_key::KMS_VIA_SERVICE);
                }
                Request {
                    caller: caller.clone(),
                    action: action.to_string(),
                    resource: self.key_arn.clone(),
                    resource_account: self.key_account.clone(),
                    context,
                }
            }
        }
    }
}

/// Which layer a statement is read in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Layer {
    Bucket,
    Key,
    Identity,
}

impl Layer {
    /// Whether the layer takes part in deciding `ask`.
    pub fn decides(self, ask: &Ask) -> bool {
        match self {
            Layer::Bucket => !ask.is_kms(),
            Layer::Key => ask.is_kms(),
            Layer::Identity => true,
        }
    }
}

/// Whether one statement, on its own in its layer, applies to the request (allowing or
/// denying it), or cannot be evaluated.
pub(crate) fn applies(
    statement: &Statement,
    layer: Layer,
    request: &Request,
) -> Result<bool, EvalError> {
    let document = PolicyDocument::new(vec![statement.clone()]);
    let named = NamedPolicy {
        name: "statement",
        document: &document,
    };
    let policies = match layer {
        Layer::Identity => PolicySet {
            identity: vec![named],
            ..PolicySet::default()
        },
        Layer::Bucket | Layer::Key => PolicySet {
            resource: Some(named),
            ..PolicySet::default()
        },
    };
    let decision = evaluate(request, &policies)?;
    let layer = match layer {
        Layer::Identity => &decision.identity,
        Layer::Bucket | Layer::Key => &decision.resource,
    };
    Ok(!layer.allows.is_empty() || !layer.denies.is_empty())
}

/// The live documents as the evaluator decides with them: the statements it cannot evaluate
/// left out (they are kept as they are, and reported).
pub(crate) struct LiveWorld<'a> {
    pub target: &'a Target,
    pub bucket_policy: PolicyDocument,
    pub key_policy: PolicyDocument,
    /// Identity policies by role ARN.
    pub identity: std::collections::BTreeMap<String, Vec<PolicyDocument>>,
}

impl LiveWorld<'_> {
    /// Whether `caller` may do `ask`; a request the evaluator cannot decide is not allowed.
    pub fn allowed(&self, caller: &Caller, ask: &Ask) -> bool {
        let request = self.target.request(caller, ask);
        let identity = caller
            .arn()
            .and_then(|arn| self.identity.get(arn))
            .map(|documents| {
                documents
                    .iter()
                    .map(|document| NamedPolicy {
                        name: "identity policy",
                        document,
                    })
                    .collect()
            })
            .unwrap_or_default();
        let resource = if ask.is_kms() {
            NamedPolicy {
                name: "key policy",
                document: &self.key_policy,
            }
        } else {
            NamedPolicy {
                name: "bucket policy",
                document: &self.bucket_policy,
            }
        };
        evaluate(
            &request,
            &PolicySet {
                identity,
                resource: Some(resource),
                guardrails: Vec::new(),
            },
        )
        .is_ok_and(|decision| decision.verdict.is_allowed())
    }
}

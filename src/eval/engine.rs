//! The authorization decision for one request against the documents that govern it: the
//! caller's identity policies and the resource's policy (bucket policy or KMS key policy).
//!
//! Rules, from the IAM policy evaluation logic and the KMS key policy documentation:
//! - an explicit `Deny` that applies, in any layer, wins;
//! - S3, same account: an `Allow` in the identity policy, or a bucket policy statement naming
//!   the caller itself, is enough (a statement naming only the caller's account root delegates
//!   to IAM and grants nothing on its own);
//! - S3, cross account: both the identity policy and the bucket policy must allow (the bucket
//!   policy may name the caller or its account);
//! - KMS: the key policy is always required. A statement naming the caller grants on its own in
//!   the key's account; a statement naming the account root (`arn:aws:iam::<id>:root` or the
//!   bare id) lets IAM policies of that account grant. Cross account, the caller's identity
//!   policy must allow as well, whichever way the key policy names it;
//! - anonymous callers have no identity policy: only a resource policy allowing `*` helps, and
//!   KMS never serves unsigned requests.

use super::condition::{holds, Operator};
use super::error::{EvalError, EvalProblem, StatementRef};
use super::matching::{glob, glob_ignore_case};
use super::request::{Caller, Request};
use crate::aws::{kms, s3, sts};
use crate::policy::{Clause, Effect, PolicyDocument, Principal, Statement, Value};
use serde::Serialize;
use std::fmt;

/// A policy with the name it is reported under.
#[derive(Clone, Copy, Debug)]
pub struct NamedPolicy<'a> {
    pub name: &'a str,
    pub document: &'a PolicyDocument,
}

/// Every document that takes part in one decision.
#[derive(Clone, Debug, Default)]
pub struct PolicySet<'a> {
    /// Identity policies attached to the caller (empty for anonymous callers).
    pub identity: Vec<NamedPolicy<'a>>,
    /// The bucket policy (S3 requests) or key policy (KMS requests), if the resource has one.
    pub resource: Option<NamedPolicy<'a>>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Layer {
    Identity,
    BucketPolicy,
    KeyPolicy,
    /// A role's trust policy, for `sts:AssumeRole`.
    TrustPolicy,
}

impl Layer {
    pub fn as_str(self) -> &'static str {
        match self {
            Layer::Identity => "identity policy",
            Layer::BucketPolicy => "bucket policy",
            Layer::KeyPolicy => "key policy",
            Layer::TrustPolicy => "trust policy",
        }
    }

    /// The resource-policy layer of a service.
    pub fn resource_layer(service: &str) -> Option<Layer> {
        match service {
            s3::SERVICE => Some(Layer::BucketPolicy),
            kms::SERVICE => Some(Layer::KeyPolicy),
            sts::SERVICE => Some(Layer::TrustPolicy),
            _ => None,
        }
    }
}

impl fmt::Display for Layer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum Verdict {
    Allowed,
    ImplicitlyDenied,
    ExplicitlyDenied,
}

impl Verdict {
    pub fn is_allowed(self) -> bool {
        self == Verdict::Allowed
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Allowed => "Allowed",
            Verdict::ImplicitlyDenied => "ImplicitlyDenied",
            Verdict::ExplicitlyDenied => "ExplicitlyDenied",
        }
    }
}

/// How a resource-policy statement's principal covers the caller.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum PrincipalScope {
    /// The statement names the caller itself, or everyone (`*`). Identity statements always
    /// cover their caller this way.
    Caller,
    /// The statement names the caller's account: it delegates to that account's IAM policies.
    Account,
}

/// A statement that applies to the request.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Applied {
    #[serde(serialize_with = "serialize_display")]
    pub statement: StatementRef,
    pub scope: PrincipalScope,
}

fn serialize_display<T: fmt::Display, S: serde::Serializer>(
    value: &T,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.collect_str(value)
}

/// The statements of one layer that apply to the request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct LayerResult {
    pub layer: Layer,
    /// Whether the layer has a document at all.
    pub present: bool,
    pub allows: Vec<Applied>,
    pub denies: Vec<Applied>,
}

impl LayerResult {
    fn allows_with(&self, scope: PrincipalScope) -> Vec<&Applied> {
        self.allows
            .iter()
            .filter(|applied| applied.scope == scope)
            .collect()
    }
}

/// What a layer lacks when a request is implicitly denied.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Missing {
    /// The layer has no document.
    NoDocument,
    /// No statement of the layer allows the request.
    NoAllow,
    /// The key policy neither names the caller nor lets IAM policies of its account grant.
    NoDelegation,
    /// KMS does not serve anonymous requests.
    Anonymous,
}

/// One reason behind a verdict.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Reason {
    DeniedBy {
        layer: Layer,
        #[serde(serialize_with = "serialize_display")]
        statement: StatementRef,
    },
    AllowedBy {
        layer: Layer,
        #[serde(serialize_with = "serialize_display")]
        statement: StatementRef,
    },
    Missing {
        layer: Layer,
        missing: Missing,
    },
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reason::DeniedBy { layer, statement } => {
                write!(f, "{layer}: denied by {statement}")
            }
            Reason::AllowedBy { layer, statement } => {
                write!(f, "{layer}: allowed by {statement}")
            }
            Reason::Missing { layer, missing } => match missing {
                Missing::NoDocument => write!(f, "{layer}: there is none"),
                Missing::NoAllow => write!(f, "{layer}: no statement allows this request"),
                Missing::NoDelegation => write!(
                    f,
                    "{layer}: names neither the caller nor its account root, so the identity policy cannot grant"
                ),
                Missing::Anonymous => write!(f, "{layer}: KMS refuses unsigned requests"),
            },
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Decision {
    pub verdict: Verdict,
    /// For an explicit deny, every denying statement; for an allow, the statements that make it;
    /// for an implicit deny, what each required layer lacks.
    pub reasons: Vec<Reason>,
    pub identity: LayerResult,
    pub resource: LayerResult,
}

impl Decision {
    /// The layers that decided a denial, in the order reasons were found.
    pub fn deciding_layers(&self) -> Vec<Layer> {
        let mut layers: Vec<Layer> = self
            .reasons
            .iter()
            .filter_map(|reason| match reason {
                Reason::DeniedBy { layer, .. } | Reason::Missing { layer, .. } => Some(*layer),
                Reason::AllowedBy { .. } => None,
            })
            .collect();
        layers.dedup();
        layers
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum PolicyKind {
    Identity,
    Resource,
}

/// Decides `request` against `policies`.
pub fn evaluate(request: &Request, policies: &PolicySet) -> Result<Decision, EvalError> {
    let service = request.service().to_ascii_lowercase();
    let resource_layer = Layer::resource_layer(&service).ok_or_else(|| EvalError {
        statement: None,
        problem: EvalProblem::UnsupportedService {
            action: request.action.clone(),
        },
    })?;
    let mut identity = LayerResult {
        layer: Layer::Identity,
        present: !policies.identity.is_empty(),
        allows: Vec::new(),
        denies: Vec::new(),
    };
    if request.caller != Caller::Anonymous {
        for policy in &policies.identity {
            collect(request, policy, PolicyKind::Identity, &mut identity)?;
        }
    }
    let mut resource = LayerResult {
        layer: resource_layer,
        present: policies.resource.is_some(),
        allows: Vec::new(),
        denies: Vec::new(),
    };
    if let Some(policy) = &policies.resource {
        collect(request, policy, PolicyKind::Resource, &mut resource)?;
    }
    let (verdict, reasons) = decide(request, resource_layer, &identity, &resource);
    Ok(Decision {
        verdict,
        reasons,
        identity,
        resource,
    })
}

fn decide(
    request: &Request,
    resource_layer: Layer,
    identity: &LayerResult,
    resource: &LayerResult,
) -> (Verdict, Vec<Reason>) {
    let denials: Vec<Reason> = identity
        .denies
        .iter()
        .map(|applied| (Layer::Identity, applied))
        .chain(
            resource
                .denies
                .iter()
                .map(|applied| (resource_layer, applied)),
        )
        .map(|(layer, applied)| Reason::DeniedBy {
            layer,
            statement: applied.statement.clone(),
        })
        .collect();
    if !denials.is_empty() {
        return (Verdict::ExplicitlyDenied, denials);
    }
    let allowed_by = |layer: Layer, applied: &[&Applied]| -> Vec<Reason> {
        applied
            .iter()
            .map(|applied| Reason::AllowedBy {
                layer,
                statement: applied.statement.clone(),
            })
            .collect()
    };
    let missing = |layer: Layer, result: &LayerResult| Reason::Missing {
        layer,
        missing: if result.present {
            Missing::NoAllow
        } else {
            Missing::NoDocument
        },
    };
    let identity_allows: Vec<&Applied> = identity.allows.iter().collect();
    let direct = resource.allows_with(PrincipalScope::Caller);
    let account = resource.allows_with(PrincipalScope::Account);
    // A key policy and a trust policy must always allow: IAM policies of the resource's own
    // account count only when it delegates to the account.
    let is_kms = matches!(resource_layer, Layer::KeyPolicy | Layer::TrustPolicy);

    if request.caller == Caller::Anonymous {
        if is_kms {
            return (
                Verdict::ImplicitlyDenied,
                vec![Reason::Missing {
                    layer: resource_layer,
                    missing: Missing::Anonymous,
                }],
            );
        }
        if !direct.is_empty() {
            return (Verdict::Allowed, allowed_by(resource_layer, &direct));
        }
        return (
            Verdict::ImplicitlyDenied,
            vec![missing(resource_layer, resource)],
        );
    }

    if request.is_cross_account() {
        let resource_allows: Vec<&Applied> = direct.iter().chain(&account).copied().collect();
        let mut reasons = Vec::new();
        if identity_allows.is_empty() {
            reasons.push(missing(Layer::Identity, identity));
        }
        if resource_allows.is_empty() {
            reasons.push(missing(resource_layer, resource));
        }
        if reasons.is_empty() {
            let mut reasons = allowed_by(Layer::Identity, &identity_allows);
            reasons.extend(allowed_by(resource_layer, &resource_allows));
            return (Verdict::Allowed, reasons);
        }
        return (Verdict::ImplicitlyDenied, reasons);
    }

    // Same account.
    if !direct.is_empty() {
        return (Verdict::Allowed, allowed_by(resource_layer, &direct));
    }
    if is_kms {
        // IAM policies count only when the key policy delegates to the account.
        return match (identity_allows.is_empty(), account.is_empty()) {
            (false, false) => {
                let mut reasons = allowed_by(resource_layer, &account);
                reasons.extend(allowed_by(Layer::Identity, &identity_allows));
                (Verdict::Allowed, reasons)
            }
            (identity_missing, delegation_missing) => {
                let mut reasons = Vec::new();
                if delegation_missing {
                    reasons.push(Reason::Missing {
                        layer: resource_layer,
                        missing: if resource.present {
                            Missing::NoDelegation
                        } else {
                            Missing::NoDocument
                        },
                    });
                }
                if identity_missing {
                    reasons.push(missing(Layer::Identity, identity));
                }
                (Verdict::ImplicitlyDenied, reasons)
            }
        };
    }
    if !identity_allows.is_empty() {
        return (
            Verdict::Allowed,
            allowed_by(Layer::Identity, &identity_allows),
        );
    }
    (
        Verdict::ImplicitlyDenied,
        vec![missing(Layer::Identity, identity)],
    )
}

fn collect(
    request: &Request,
    policy: &NamedPolicy,
    kind: PolicyKind,
    into: &mut LayerResult,
) -> Result<(), EvalError> {
    for (index, statement) in policy.document.statements.iter().enumerate() {
        let at = StatementRef {
            policy: policy.name.to_string(),
            index: index + 1,
            sid: statement.sid.clone(),
            kept_from: statement.verbatim.clone(),
        };
        let applies = statement_applies(request, statement, kind).map_err(|problem| EvalError {
            statement: Some(at.clone()),
            problem,
        })?;
        if let Some(scope) = applies {
            let applied = Applied {
                statement: at,
                scope,
            };
            match statement.effect {
                Effect::Allow => into.allows.push(applied),
                Effect::Deny => into.denies.push(applied),
            }
        }
    }
    Ok(())
}

fn literal(value: &Value) -> Result<&str, EvalProblem> {
    match value {
        Value::Lit(text) if text.contains("${") => Err(EvalProblem::PolicyVariable {
            value: text.clone(),
        }),
        Value::Lit(text) => Ok(text),
        Value::Ref(reference) => Err(EvalProblem::UnresolvedReference {
            reference: reference.clone(),
        }),
    }
}

/// Whether the statement applies to the request, and how its principal covers the caller.
/// Every condition operator and key of the statement is checked even when another element
/// already rules the statement out, so a typo never hides behind an unrelated request.
fn statement_applies(
    request: &Request,
    statement: &Statement,
    kind: PolicyKind,
) -> Result<Option<PrincipalScope>, EvalProblem> {
    let mut conditions = Vec::new();
    for (operator, keys) in &statement.condition {
        let operator = Operator::parse(operator)?;
        for (key, values) in keys {
            if !super::condition::is_known_key(key) {
                return Err(EvalProblem::UnknownConditionKey { key: key.clone() });
            }
            let values = values
                .iter()
                .map(|value| literal(value).map(str::to_string))
                .collect::<Result<Vec<_>, _>>()?;
            conditions.push((operator, key, values));
        }
    }
    let scope = match (kind, &statement.principal) {
        (PolicyKind::Identity, None) => PrincipalScope::Caller,
        (PolicyKind::Identity, Some(_)) => return Err(EvalProblem::PrincipalInIdentityPolicy),
        (PolicyKind::Resource, None) => return Err(EvalProblem::MissingPrincipal),
        (PolicyKind::Resource, Some(Clause::Not(_))) if statement.effect == Effect::Allow => {
            return Err(EvalProblem::NotPrincipalWithAllow)
        }
        (PolicyKind::Resource, Some(Clause::Is(principal))) => {
            match principal_scope(principal, &request.caller)? {
                Some(scope) => scope,
                None => return Ok(None),
            }
        }
        (PolicyKind::Resource, Some(Clause::Not(principal))) => {
            if not_principal_excludes(principal, &request.caller)? {
                return Ok(None);
            }
            PrincipalScope::Caller
        }
    };
    let action_listed = statement
        .action
        .inner()
        .iter()
        .any(|pattern| glob_ignore_case(pattern, &request.action));
    if action_listed == statement.action.is_negated() {
        return Ok(None);
    }
    // A trust policy is the role's own and names no resource.
    let trust =
        kind == PolicyKind::Resource && request.service().eq_ignore_ascii_case(sts::SERVICE);
    match statement.resource.as_ref() {
        None if trust => {}
        None => return Err(EvalProblem::MissingResource),
        Some(resource) => {
            let mut resource_listed = false;
            for pattern in resource.inner() {
                resource_listed |= glob(literal(pattern)?, &request.resource);
            }
            if resource_listed == resource.is_negated() {
                return Ok(None);
            }
        }
    }
    for (operator, key, values) in &conditions {
        if !holds(operator, key, values, &request.context)? {
            return Ok(None);
        }
    }
    Ok(Some(scope))
}

/// The AWS principal values of a `Principal` element (`"*"` counts as `AWS: "*"`); other
/// principal types (services, federated and canonical users) never cover a role session.
fn aws_principals(principal: &Principal) -> Result<Vec<&str>, EvalProblem> {
    match principal {
        Principal::Any => Ok(vec!["*"]),
        Principal::Typed(map) => map.get("AWS").into_iter().flatten().map(literal).collect(),
    }
}

/// The account id an account principal names: `111111111111` or `arn:aws:iam::111111111111:root`.
fn account_principal(value: &str) -> Option<&str> {
    let id = crate::aws::iam_arn_rest(value)
        .and_then(|rest| rest.strip_suffix(":root"))
        .unwrap_or(value);
    crate::aws::is_account_id(id).then_some(id)
}

pub(crate) fn principal_scope(
    principal: &Principal,
    caller: &Caller,
) -> Result<Option<PrincipalScope>, EvalProblem> {
    let mut scope = None;
    for value in aws_principals(principal)? {
        if value == "*" {
            return Ok(Some(PrincipalScope::Caller));
        }
        let Caller::Role { arn, account } = caller else {
            continue;
        };
        if value == arn {
            return Ok(Some(PrincipalScope::Caller));
        }
        if account_principal(value) == Some(account.as_str()) {
            scope = Some(PrincipalScope::Account);
        }
    }
    Ok(scope)
}

/// Whether a `NotPrincipal` list exempts the caller. AWS checks the account before the role, so
/// a role session is exempt only when its account is listed; listing the role alone still
/// leaves the account — and so the session — denied.
pub(crate) fn not_principal_excludes(
    principal: &Principal,
    caller: &Caller,
) -> Result<bool, EvalProblem> {
    let values = aws_principals(principal)?;
    Ok(match caller {
        Caller::Anonymous => values.contains(&"*"),
        Caller::Role { account, .. } => values
            .iter()
            .any(|value| *value == "*" || account_principal(value) == Some(account.as_str())),
    })
}

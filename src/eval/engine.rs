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
//!   KMS never serves unsigned requests;
//! - guardrails (the SCPs of the caller's account, the RCPs of the resource's account, the
//!   policy of the VPC endpoint the request came through, the caller's permissions boundary)
//!   grant nothing: each layer that applies must allow the request as well, and a deny in any
//!   of them wins. Who they apply to is the caller's business ([`PolicySet::guardrails`]).

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
    /// The guardrails that apply to the request, a layer each: they grant nothing, but each
    /// must allow the request, and a deny in any of them wins.
    pub guardrails: Vec<GuardrailPolicies<'a>>,
}

impl<'a> PolicySet<'a> {
    /// The documents of `layer` in this set.
    pub fn documents_of(&self, layer: Layer) -> Vec<&NamedPolicy<'a>> {
        match layer {
            Layer::Identity => self.identity.iter().collect(),
            Layer::BucketPolicy
            | Layer::AccessPointPolicy
            | Layer::KeyPolicy
            | Layer::TrustPolicy => self.resource.iter().collect(),
            guardrail => self
                .guardrails
                .iter()
                .filter(|policies| policies.layer == guardrail)
                .flat_map(|policies| &policies.policies)
                .collect(),
        }
    }

    /// A set of `policy` alone, in `layer`.
    pub fn only(layer: Layer, policy: NamedPolicy<'a>) -> PolicySet<'a> {
        match layer {
            Layer::Identity => PolicySet {
                identity: vec![policy],
                ..PolicySet::default()
            },
            Layer::BucketPolicy
            | Layer::AccessPointPolicy
            | Layer::KeyPolicy
            | Layer::TrustPolicy => PolicySet {
                resource: Some(policy),
                ..PolicySet::default()
            },
            guardrail => PolicySet {
                guardrails: vec![GuardrailPolicies {
                    layer: guardrail,
                    policies: vec![policy],
                }],
                ..PolicySet::default()
            },
        }
    }
}

/// The policies of one guardrail layer that apply to a request: the SCPs of the caller's
/// account, the RCPs of the resource's, the policy of the VPC endpoint the request came
/// through, or the caller's permissions boundary. The request must be allowed by one of them.
#[derive(Clone, Debug)]
pub struct GuardrailPolicies<'a> {
    pub layer: Layer,
    pub policies: Vec<NamedPolicy<'a>>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Layer {
    Identity,
    BucketPolicy,
    KeyPolicy,
    /// A role's trust policy, for `sts:AssumeRole`.
    TrustPolicy,
    /// The policy of the S3 access point a request names.
    AccessPointPolicy,
    /// The service control policies of the caller's account.
    ServiceControlPolicy,
    /// The resource control policies of the resource's account.
    ResourceControlPolicy,
    /// The policy of the VPC endpoint the request came through.
    VpcEndpointPolicy,
    /// The caller's permissions boundary.
    PermissionsBoundary,
}

impl Layer {
    pub fn as_str(self) -> &'static str {
        match self {
            Layer::Identity => "identity policy",
            Layer::BucketPolicy => "bucket policy",
            Layer::KeyPolicy => "key policy",
            Layer::TrustPolicy => "trust policy",
            Layer::AccessPointPolicy => "access point policy",
            Layer::ServiceControlPolicy => "service control policy",
            Layer::ResourceControlPolicy => "resource control policy",
            Layer::VpcEndpointPolicy => "VPC endpoint policy",
            Layer::PermissionsBoundary => "permissions boundary",
        }
    }

    /// Whether the layer is a guardrail: it grants nothing, it can only let a request through.
    pub fn is_guardrail(self) -> bool {
        matches!(
            self,
            Layer::ServiceControlPolicy
                | Layer::ResourceControlPolicy
                | Layer::VpcEndpointPolicy
                | Layer::PermissionsBoundary
        )
    }

    /// Whether the layer's statements name principals (resource policies and the policies
    /// that act like them) or apply to their own caller (identity policies, SCPs, boundaries).
    fn names_principals(self) -> bool {
        !matches!(
            self,
            Layer::Identity | Layer::ServiceControlPolicy | Layer::PermissionsBoundary
        )
    }

    /// The resource-policy layer of a request: the bucket policy, or the access point policy
    /// when it names an access point; the key policy; the trust policy.
    pub fn of_request(request: &Request) -> Option<Layer> {
        let service = request.service().to_ascii_lowercase();
        if service == s3::SERVICE && is_access_point_arn(&request.resource) {
            return Some(Layer::AccessPointPolicy);
        }
        Layer::resource_layer(&service)
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
    /// The statement names every principal (`"*"`): in its own account it grants to the role
    /// session itself, which a permissions boundary does not limit.
    #[serde(skip)]
    pub everyone: bool,
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
    /// One result per guardrail layer that applies, in the order of the policy set.
    pub guardrails: Vec<LayerResult>,
}

impl Decision {
    /// The statements of `layer` that apply to the request (the resource layer whichever it
    /// is), if the layer took part.
    pub fn result_of(&self, layer: Layer) -> Option<&LayerResult> {
        match layer {
            Layer::Identity => Some(&self.identity),
            Layer::BucketPolicy
            | Layer::AccessPointPolicy
            | Layer::KeyPolicy
            | Layer::TrustPolicy => Some(&self.resource),
            guardrail => self
                .guardrails
                .iter()
                .find(|result| result.layer == guardrail),
        }
    }

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
    let resource_layer = Layer::of_request(request).ok_or_else(|| EvalError {
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
    let mut guardrails = Vec::with_capacity(policies.guardrails.len());
    for layer in &policies.guardrails {
        let mut result = LayerResult {
            layer: layer.layer,
            present: !layer.policies.is_empty(),
            allows: Vec::new(),
            denies: Vec::new(),
        };
        let kind = if layer.layer.names_principals() {
            PolicyKind::Resource
        } else {
            PolicyKind::Identity
        };
        for policy in &layer.policies {
            collect(request, policy, kind, &mut result)?;
        }
        guardrails.push(result);
    }
    let (verdict, mut reasons) = decide(request, resource_layer, &identity, &resource);
    let guardrail_denials: Vec<Reason> = guardrails
        .iter()
        .flat_map(|result| {
            result.denies.iter().map(|applied| Reason::DeniedBy {
                layer: result.layer,
                statement: applied.statement.clone(),
            })
        })
        .collect();
    let verdict = if !guardrail_denials.is_empty() {
        if verdict != Verdict::ExplicitlyDenied {
            reasons.clear();
        }
        reasons.extend(guardrail_denials);
        Verdict::ExplicitlyDenied
    } else if verdict == Verdict::ExplicitlyDenied {
        verdict
    } else {
        // IAM User Guide, permissions boundaries: within an account, a resource policy that
        // grants to the role session itself is not limited by an implicit deny in the
        // boundary; one that names the role ARN is. A statement naming everyone names the
        // session too.
        let session_grant = !request.is_cross_account()
            && resource
                .allows
                .iter()
                .any(|applied| applied.everyone && applied.scope == PrincipalScope::Caller);
        let missing: Vec<Reason> = guardrails
            .iter()
            .filter(|result| result.allows.is_empty())
            .filter(|result| !(session_grant && result.layer == Layer::PermissionsBoundary))
            .map(|result| Reason::Missing {
                layer: result.layer,
                missing: Missing::NoAllow,
            })
            .collect();
        if missing.is_empty() {
            verdict
        } else {
            if verdict == Verdict::Allowed {
                reasons.clear();
            }
            reasons.extend(missing);
            Verdict::ImplicitlyDenied
        }
    };
    Ok(Decision {
        verdict,
        reasons,
        identity,
        resource,
        guardrails,
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
    // A request that came through an access point, at the bucket: the caller's identity policy
    // was asked about the access point; here the bucket policy alone decides (S3 User Guide,
    // *Configuring IAM policies for using access points*: both the access point and the bucket
    // must permit the request).
    if through_access_point(request) && resource_layer == Layer::BucketPolicy {
        let resource_allows: Vec<&Applied> = resource.allows.iter().collect();
        if resource_allows.is_empty() {
            return (
                Verdict::ImplicitlyDenied,
                vec![missing(resource_layer, resource)],
            );
        }
        return (
            Verdict::Allowed,
            allowed_by(resource_layer, &resource_allows),
        );
    }
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
                everyone: kind == PolicyKind::Resource && names_everyone(statement),
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

/// Whether an S3 ARN names an access point (`arn:aws:s3:<region>:<account>:accesspoint/…`).
pub fn is_access_point_arn(arn: &str) -> bool {
    arn.split(':')
        .nth(5)
        .is_some_and(|rest| rest.starts_with("accesspoint/"))
}

/// Whether an S3 request reached the bucket through an access point: S3 then names the access
/// point in `s3:DataAccessPointArn`.
pub fn through_access_point(request: &Request) -> bool {
    !is_access_point_arn(&request.resource)
        && request
            .context
            .get(crate::aws::condition_key::S3_DATA_ACCESS_POINT_ARN)
            .is_some()
}

/// Whether a statement's `Principal` names everyone (`"*"` or `{"AWS": "*"}`).
fn names_everyone(statement: &Statement) -> bool {
    match &statement.principal {
        Some(Clause::Is(principal)) => {
            aws_principals(principal).is_ok_and(|values| values.contains(&"*"))
        }
        _ => false,
    }
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

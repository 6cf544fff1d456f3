//! Which callers the documents of a bucket can tell apart, and which scenario roles they can
//! let in at all.
//!
//! The evaluator allows a request only through an `Allow` statement that applies to it, in the
//! identity policy or in the resource policy (bucket, key or trust policy): with none, every
//! branch of the decision is a denial. So a scenario role that no `Allow` of a bucket's
//! resource policies names (by ARN, by account root and a condition on its ARN, by `*` and its
//! organization) and whose identity policy allows nothing on the resources the bucket's probes
//! touch is denied every probe of that bucket; `check` does not ask it, and the administrator
//! and unprivileged probe roles of its account stand for it. Guardrails (SCPs, RCPs,
//! permission boundaries, endpoint policies) only ever take access away, so they cannot make
//! such a role allowed either.
//!
//! Which statements apply to a caller depends on the caller only through its principal and
//! the context keys its requests carry because of who sent it ([`CallerContexts`]): callers
//! with the same account, the same identity documents and the same [`signature`] over every
//! statement get the same decision on every request, up to the names of their identity
//! policies.

use super::condition::{holds, Operator};
use super::engine::{not_principal_excludes, principal_scope, Layer, NamedPolicy, PrincipalScope};
use super::matching::glob;
use super::probe::{BucketProbes, CallerContexts, Governing, ProbePlan, World};
use super::request::{Caller, Context};
use crate::policy::{Clause, Effect, Name, Statement};
use std::collections::{BTreeMap, BTreeSet};

/// What one statement does for a caller, as far as the caller decides it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Coverage {
    /// The statement cannot apply to the caller: its principal does not cover it, or a
    /// condition on who the caller is fails.
    Never,
    /// It may apply, covering the caller in this scope.
    Covers(PrincipalScope),
    /// It cannot be evaluated for this caller; the evaluator reports why.
    Undecided,
}

/// Whether the conditions of `statement` on keys the caller decides hold in `context` (the
/// context the caller's requests start from). Keys the context does not carry do not depend
/// on the caller and are left to the evaluation.
fn caller_conditions(statement: &Statement, context: &Context) -> Coverage {
    for (operator, keys) in &statement.condition {
        let Ok(operator) = Operator::parse(operator) else {
            return Coverage::Undecided;
        };
        for (key, values) in keys {
            if context.get(key).is_none() {
                continue;
            }
            let Some(values) = values
                .iter()
                .map(|value| value.as_lit().map(str::to_string))
                .collect::<Option<Vec<_>>>()
            else {
                return Coverage::Undecided;
            };
            match holds(&operator, key, &values, context) {
                Ok(true) => {}
                Ok(false) => return Coverage::Never,
                Err(_) => return Coverage::Undecided,
            }
        }
    }
    Coverage::Covers(PrincipalScope::Caller)
}

/// How a resource-policy statement covers `caller`, whose requests start from `context`.
pub fn resource_coverage(statement: &Statement, caller: &Caller, context: &Context) -> Coverage {
    let scope = match &statement.principal {
        Some(Clause::Is(principal)) => match principal_scope(principal, caller) {
            Ok(Some(scope)) => scope,
            Ok(None) => return Coverage::Never,
            Err(_) => return Coverage::Undecided,
        },
        // The evaluator refuses an `Allow` with `NotPrincipal`, whoever asks.
        Some(Clause::Not(_)) if statement.effect == Effect::Allow => return Coverage::Undecided,
        Some(Clause::Not(principal)) => match not_principal_excludes(principal, caller) {
            Ok(true) => return Coverage::Never,
            Ok(false) => PrincipalScope::Caller,
            Err(_) => return Coverage::Undecided,
        },
        // The evaluator refuses a resource statement without a principal, whoever asks.
        None => return Coverage::Undecided,
    };
    match caller_conditions(statement, context) {
        Coverage::Covers(_) => Coverage::Covers(scope),
        other => other,
    }
}

/// How an identity-policy statement covers its caller (identity statements always name it).
pub fn identity_coverage(statement: &Statement, context: &Context) -> Coverage {
    caller_conditions(statement, context)
}

/// The resource policies the probes of a bucket meet, with the resources they ask about:
/// read off the probes of one caller (the resources and documents do not depend on who asks).
pub struct BucketDocuments<'w> {
    /// Each resource policy with the kind of request that meets it.
    pub resource: Vec<(Governing, NamedPolicy<'w>)>,
    /// Every resource a probe of the bucket names.
    pub resources: BTreeSet<String>,
    /// The accounts those resources live in.
    pub accounts: BTreeSet<String>,
}

impl<'w> BucketDocuments<'w> {
    pub fn new(plan: &ProbePlan, world: &'w World, probed: &BucketProbes) -> Self {
        let (kind, caller) = plan
            .callers
            .iter()
            .find(|(kind, _)| matches!(kind, super::probe::CallerKind::Stranger { .. }))
            .expect("every plan has a stranger");
        let mut resource: BTreeMap<String, (Governing, NamedPolicy<'w>)> = BTreeMap::new();
        let mut resources = BTreeSet::new();
        let mut accounts = BTreeSet::new();
        for probe in plan.probes(kind, caller, probed) {
            for step in &probe.steps {
                let policies = world.policies(step);
                if let Some(policy) = policies.resource {
                    resource
                        .entry(policy.name.to_string())
                        .or_insert((step.governing.clone(), policy));
                }
                // The RCPs of the resource's account name principals like a resource policy
                // does, and meet S3, KMS and STS requests alike: each is taken with the kind
                // of request it meets.
                for layer in policies
                    .guardrails
                    .into_iter()
                    .filter(|layer| layer.layer == Layer::ResourceControlPolicy)
                {
                    for policy in layer.policies {
                        let shape = match step.governing {
                            Governing::Key(_) => "key",
                            Governing::Trust(_) => "trust",
                            Governing::Bucket(_) | Governing::AccessPoint(_) => "bucket",
                        };
                        resource
                            .entry(format!("{} ({shape})", policy.name))
                            .or_insert((step.governing.clone(), policy));
                    }
                }
                resources.insert(step.request.resource.clone());
                accounts.insert(step.request.resource_account.clone());
            }
        }
        BucketDocuments {
            resource: resource.into_values().collect(),
            resources,
            accounts,
        }
    }

    /// Every statement of the resource policies with how it covers the caller.
    pub fn coverage<'s>(
        &'s self,
        caller: &'s Caller,
        contexts: &'s CallerContexts,
    ) -> impl Iterator<Item = Coverage> + 's {
        self.resource.iter().flat_map(move |(governing, policy)| {
            let shapes = shapes(governing, contexts);
            policy
                .document
                .statements
                .iter()
                .flat_map(move |statement| {
                    shapes
                        .clone()
                        .into_iter()
                        .map(move |context| resource_coverage(statement, caller, context))
                })
        })
    }

    /// Whether an `Allow` of the resource policies may apply to the caller.
    fn named(&self, caller: &Caller, contexts: &CallerContexts) -> bool {
        self.resource.iter().any(|(governing, policy)| {
            let shapes = shapes(governing, contexts);
            policy.document.statements.iter().any(|statement| {
                statement.effect == Effect::Allow
                    && shapes.iter().any(|context| {
                        resource_coverage(statement, caller, context) != Coverage::Never
                    })
            })
        })
    }

    /// Whether a resource pattern matches a resource of the bucket's probes: only resources
    /// that start with its text up to the first wildcard can.
    fn matches_a_resource(&self, pattern: &str) -> bool {
        let fixed = &pattern[..pattern.find(['*', '?']).unwrap_or(pattern.len())];
        self.resources
            .range::<str, _>((std::ops::Bound::Included(fixed), std::ops::Bound::Unbounded))
            .take_while(|resource| resource.starts_with(fixed))
            .any(|resource| glob(pattern, resource))
    }

    /// Whether an `Allow` of the identity policies may apply to a request of the bucket's.
    fn identity_allows(&self, identity: &[(String, crate::policy::PolicyDocument)]) -> bool {
        identity.iter().any(|(_, document)| {
            document.statements.iter().any(|statement| {
                statement.effect == Effect::Allow
                    && match &statement.resource {
                        Some(Clause::Is(patterns)) => patterns.iter().any(|pattern| {
                            pattern
                                .as_lit()
                                .is_none_or(|pattern| self.matches_a_resource(pattern))
                        }),
                        _ => true,
                    }
            })
        })
    }
}

/// The contexts a request meeting `governing` can start from.
fn shapes<'c>(governing: &Governing, contexts: &'c CallerContexts) -> Vec<&'c Context> {
    match governing {
        Governing::Bucket(_) | Governing::AccessPoint(_) => {
            vec![&contexts.https, &contexts.plain_http]
        }
        Governing::Key(_) => vec![&contexts.kms],
        Governing::Trust(_) => vec![&contexts.https],
    }
}

/// The scenario roles `check` asks about a bucket: every role granted on it, and every role an
/// `Allow` of its resource policies may name or whose identity policy may allow something on
/// a resource its probes touch. No other role can be allowed anything there (see the module
/// documentation).
pub fn reachable_roles<'p>(
    plan: &'p ProbePlan,
    world: &World,
    documents: &BucketDocuments,
    probed: &BucketProbes,
) -> BTreeSet<&'p Name> {
    plan.callers
        .iter()
        .filter_map(|(kind, caller)| match kind {
            super::probe::CallerKind::Role { role } => Some((role, caller)),
            _ => None,
        })
        .filter(|(role, caller)| {
            plan.is_granted(role, &probed.bucket.name)
                || caller
                    .arn()
                    .and_then(|arn| world.identity_policies.get(arn))
                    .is_some_and(|identity| documents.identity_allows(identity))
                || documents.named(caller, &plan.caller_contexts(caller, probed))
        })
        .map(|(role, _)| role)
        .collect()
}

//! `check`'s evaluation: every probe of a lowered scenario decided step by step, and compared
//! with what the grants intend. A probe passes when an intended operation has every step
//! allowed, or an unintended one has at least one step denied; an evaluation error always
//! fails it.
//!
//! Buckets are independent: each is worked out on its own (on every core), and its results go
//! to a [`Sink`] caller by caller before the next is evaluated, so memory does not grow with the
//! number of requests. On a bucket, callers whose documents and coverage are the same
//! ([`super::reach`]) share one evaluation: the first of them is asked, the others get its
//! decisions under their own identity-policy names.

use super::engine::{evaluate, Decision, NamedPolicy, PolicySet, Reason};
use super::error::{EvalError, StatementRef};
use super::probe::{
    BucketProbes, CallerContexts, CallerKind, Governing, Network, Probe, ProbePlan, ProbeStep,
    World,
};
use super::reach::{identity_coverage, reachable_roles, BucketDocuments, Coverage};
use super::request::{Caller, Context, Request};
use crate::lower::Lowered;
use crate::model::Access;
use crate::policy::{Name, PolicyDocument};
use rayon::prelude::*;
use std::collections::HashMap;
use std::io;

/// The decision on one request of a probe.
#[derive(Clone, Debug)]
pub struct StepResult {
    pub action: String,
    pub resource: String,
    pub outcome: Result<Decision, EvalError>,
}

impl StepResult {
    fn allowed(&self) -> bool {
        matches!(&self.outcome, Ok(decision) if decision.verdict.is_allowed())
    }
}

/// What actually happened to an operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    Allowed,
    Denied,
    /// A document could not be evaluated.
    Error,
}

#[derive(Clone, Debug)]
pub struct ProbeResult {
    pub probe: Probe,
    pub steps: Vec<StepResult>,
    /// Allowed, not by the grants, but by statements kept from live policies (it is allowed
    /// with every `Allow` of crossgrant's taken out): access that was there before.
    pub kept: bool,
}

impl ProbeResult {
    pub fn outcome(&self) -> Outcome {
        if self.steps.iter().any(|step| step.outcome.is_err()) {
            Outcome::Error
        } else if self.steps.iter().all(StepResult::allowed) {
            Outcome::Allowed
        } else {
            Outcome::Denied
        }
    }

    pub fn passed(&self) -> bool {
        match self.outcome() {
            Outcome::Allowed => self.probe.intended || self.kept,
            Outcome::Denied => !self.probe.intended,
            Outcome::Error => false,
        }
    }

    /// Allowed by statements kept from live policies.
    pub fn is_kept(&self) -> bool {
        self.kept && self.outcome() == Outcome::Allowed
    }

    /// The first step that was denied, with its decision: what stopped the operation.
    pub fn denied_step(&self) -> Option<(&StepResult, &Decision)> {
        self.steps.iter().find_map(|step| match &step.outcome {
            Ok(decision) if !decision.verdict.is_allowed() => Some((step, decision)),
            _ => None,
        })
    }

    pub fn error(&self) -> Option<&EvalError> {
        self.steps
            .iter()
            .find_map(|step| step.outcome.as_ref().err())
    }
}

/// Every result of a check, kept (for tests and small scenarios; `crossgrant check` streams).
#[derive(Clone, Debug)]
pub struct CheckReport {
    pub scenario: String,
    pub results: Vec<ProbeResult>,
}

impl CheckReport {
    pub fn passed(&self) -> bool {
        self.results.iter().all(ProbeResult::passed)
    }

    pub fn failures(&self) -> impl Iterator<Item = &ProbeResult> {
        self.results.iter().filter(|result| !result.passed())
    }

    pub fn kept(&self) -> impl Iterator<Item = &ProbeResult> {
        self.results.iter().filter(|result| result.is_kept())
    }

    pub fn request_count(&self) -> usize {
        self.results.iter().map(|result| result.steps.len()).sum()
    }
}

/// How many operations and requests a check asks, known before any is evaluated.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Totals {
    pub operations: usize,
    pub requests: usize,
}

/// What a check found, counted as results went by.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    pub operations: usize,
    pub wrong: usize,
    pub kept: usize,
}

impl Summary {
    pub fn passed(&self) -> bool {
        self.wrong == 0
    }
}

/// One caller's decided probes of one bucket.
pub struct CallerResults<'a> {
    pub kind: &'a CallerKind,
    pub caller: &'a Caller,
    pub bucket: &'a Name,
    /// The decided probes of the caller whose evaluation this one shares (itself, if none):
    /// `probe.caller_kind` and the requests' caller are that caller's.
    pub results: &'a [ProbeResult],
    /// The identity-policy names of `results`, each with this caller's own.
    pub renames: &'a [(String, String)],
    /// Where `results` came from, to build this caller's own requests from.
    source: Option<(&'a ProbePlan<'a>, &'a BucketProbes<'a>)>,
}

impl<'a> CallerResults<'a> {
    /// Results kept in a [`CheckReport`], all of one caller on one bucket, as they stand.
    pub fn kept_results(results: &'a [ProbeResult]) -> Self {
        let probe = &results[0].probe;
        CallerResults {
            kind: &probe.caller_kind,
            caller: &probe.steps[0].request.caller,
            bucket: &probe.bucket,
            results,
            renames: &[],
            source: None,
        }
    }

    /// A statement as this caller's documents name it.
    pub fn statement(&self, statement: &StatementRef) -> StatementRef {
        match self
            .renames
            .iter()
            .find(|(shared, _)| *shared == statement.policy)
        {
            Some((_, own)) => StatementRef {
                policy: own.clone(),
                ..statement.clone()
            },
            None => statement.clone(),
        }
    }

    /// A reason as this caller's documents name its statement.
    pub fn reason(&self, reason: &Reason) -> Reason {
        match reason {
            Reason::DeniedBy { layer, statement } => Reason::DeniedBy {
                layer: *layer,
                statement: self.statement(statement),
            },
            Reason::AllowedBy { layer, statement } => Reason::AllowedBy {
                layer: *layer,
                statement: self.statement(statement),
            },
            missing @ Reason::Missing { .. } => missing.clone(),
        }
    }

    /// An evaluation error as this caller's documents name its statement.
    pub fn error(&self, error: &EvalError) -> EvalError {
        EvalError {
            statement: error.statement.as_ref().map(|s| self.statement(s)),
            problem: error.problem.clone(),
        }
    }

    /// Whether the results are this caller's own as they stand (no name differs).
    pub fn is_verbatim(&self) -> bool {
        self.renames.is_empty()
    }

    /// This caller's own results, requests and names included.
    pub fn to_owned_results(&self) -> Vec<ProbeResult> {
        let Some((plan, probed)) = self.source else {
            return self.results.to_vec();
        };
        let probes = plan.probes(self.kind, self.caller, probed);
        probes
            .into_iter()
            .zip(self.results)
            .map(|(probe, shared)| ProbeResult {
                probe,
                steps: shared
                    .steps
                    .iter()
                    .map(|step| StepResult {
                        action: step.action.clone(),
                        resource: step.resource.clone(),
                        outcome: match &step.outcome {
                            Ok(decision) => Ok(self.decision(decision)),
                            Err(error) => Err(self.error(error)),
                        },
                    })
                    .collect(),
                kept: shared.kept,
            })
            .collect()
    }

    fn decision(&self, decision: &Decision) -> Decision {
        if self.is_verbatim() {
            return decision.clone();
        }
        let mut own = decision.clone();
        for reason in &mut own.reasons {
            *reason = self.reason(reason);
        }
        for layer in [&mut own.identity, &mut own.resource] {
            for applied in layer.allows.iter_mut().chain(layer.denies.iter_mut()) {
                applied.statement = self.statement(&applied.statement);
            }
        }
        own
    }
}

/// Where a check's results go: a reporter, or a [`CheckReport`].
pub trait Sink {
    fn begin(&mut self, scenario: &str, totals: Totals) -> io::Result<()>;
    fn caller(&mut self, results: &CallerResults) -> io::Result<()>;
    fn end(&mut self, summary: &Summary) -> io::Result<()>;
}

impl Sink for CheckReport {
    fn begin(&mut self, scenario: &str, _: Totals) -> io::Result<()> {
        self.scenario = scenario.to_string();
        Ok(())
    }

    fn caller(&mut self, results: &CallerResults) -> io::Result<()> {
        self.results.extend(results.to_owned_results());
        Ok(())
    }

    fn end(&mut self, _: &Summary) -> io::Result<()> {
        Ok(())
    }
}

/// Evaluates every probe of the scenario and keeps every result.
pub fn check(lowered: &Lowered) -> CheckReport {
    let mut report = CheckReport {
        scenario: String::new(),
        results: Vec::new(),
    };
    check_into(lowered, Sharing::Shared, &mut report).expect("a report in memory cannot fail");
    report
}

/// Whether callers that the documents cannot tell apart share one evaluation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sharing {
    Shared,
    /// Every caller evaluated on its own (what sharing must agree with).
    Alone,
}

/// Evaluates every probe of the scenario, bucket by bucket, into `sink`.
pub fn check_into(lowered: &Lowered, sharing: Sharing, sink: &mut dyn Sink) -> io::Result<Summary> {
    let world = World::build(lowered);
    let live = lowered.scenario.has_live_policies();
    let kept_world = live.then(|| world.kept_only());
    let plan = ProbePlan::new(lowered);
    let groups: Vec<BucketGroups> = plan
        .buckets
        .par_iter()
        .map(|probed| {
            let groups = BucketGroups::new(&plan, &world, probed, sharing);
            // Sharing rests on every request carrying what its caller put in the context
            // unchanged; where a probe does not, every caller is asked on its own.
            match groups.shareable {
                true => groups,
                false => BucketGroups::new(&plan, &world, probed, Sharing::Alone),
            }
        })
        .collect();
    let totals = groups
        .iter()
        .fold(Totals::default(), |totals, bucket| Totals {
            operations: totals.operations + bucket.totals.operations,
            requests: totals.requests + bucket.totals.requests,
        });
    sink.begin(&lowered.scenario.name, totals)?;
    let evaluator = Evaluator {
        plan: &plan,
        world: &world,
        kept_world: kept_world.as_ref(),
    };
    let mut summary = Summary::default();
    // A few buckets at a time: enough to keep every core busy, few enough to bound memory.
    let window = rayon::current_num_threads().max(1) * 2;
    let buckets: Vec<(&BucketProbes, &BucketGroups)> = plan.buckets.iter().zip(&groups).collect();
    for chunk in buckets.chunks(window) {
        let decided: Vec<Vec<Vec<ProbeResult>>> = chunk
            .par_iter()
            .map(|(probed, groups)| evaluator.bucket(probed, groups))
            .collect();
        for ((probed, groups), decided) in chunk.iter().zip(&decided) {
            for member in &groups.members {
                let (kind, caller) = &plan.callers[member.caller];
                let results = &decided[member.group];
                let failed = results.iter().filter(|result| !result.passed()).count();
                summary.operations += results.len();
                summary.wrong += failed;
                summary.kept += results.iter().filter(|result| result.is_kept()).count();
                sink.caller(&CallerResults {
                    kind,
                    caller,
                    bucket: &probed.bucket.name,
                    results,
                    renames: &member.renames,
                    source: Some((&plan, probed)),
                })?;
            }
        }
    }
    sink.end(&summary)?;
    Ok(summary)
}

/// A caller asked about a bucket, and the evaluation it shares.
struct Member {
    caller: usize,
    group: usize,
    /// The identity-policy names of the group's first caller, with this caller's.
    renames: Vec<(String, String)>,
}

/// The callers asked about one bucket, in caller order, grouped by what the documents can
/// tell apart.
struct BucketGroups {
    members: Vec<Member>,
    /// The first member of each group: the caller evaluated for it.
    firsts: Vec<usize>,
    totals: Totals,
    /// Whether the probes of every group's first caller start from what the caller puts in
    /// their context.
    shareable: bool,
}

/// Everything the documents of a bucket can tell about a caller: equal keys, equal decisions.
#[derive(PartialEq, Eq, Hash)]
struct GroupKey<'w> {
    /// Decides which operations are asked and which are intended.
    class: Class,
    identity: Vec<&'w PolicyDocument>,
    /// Whether the caller is in the account of each resource the bucket's probes name.
    same_account: Vec<bool>,
    coverage: Vec<Coverage>,
    /// Where the caller's requests come from and go through: its VPC endpoint, whether its
    /// grant is also asked from outside it, and the access points it is asked through.
    network: Network,
}

#[derive(PartialEq, Eq, Hash)]
enum Class {
    /// A scenario role, with its grants on the bucket and the access roles it may assume.
    Role {
        grants: Vec<(Access, String, Vec<String>)>,
        assumes: Vec<Name>,
    },
    /// A probe caller the `aws/s3` key of its own account lets in.
    KeyOpen,
    Anonymous,
    Other,
    /// Never shares (evaluated on its own).
    Alone(usize),
}

impl BucketGroups {
    fn new(plan: &ProbePlan, world: &World, probed: &BucketProbes, sharing: Sharing) -> Self {
        let documents = BucketDocuments::new(plan, world, probed);
        let reachable = reachable_roles(plan, world, &documents, probed);
        let accounts: Vec<&str> = documents.accounts.iter().map(String::as_str).collect();
        let mut keys: HashMap<GroupKey, usize> = HashMap::new();
        let mut members = Vec::new();
        let mut firsts = Vec::new();
        let mut sizes: Vec<usize> = Vec::new();
        for (index, (kind, caller)) in plan.callers.iter().enumerate() {
            if !plan.relevant(kind, caller, probed.bucket) {
                continue;
            }
            if let CallerKind::Role { role } = kind {
                if !reachable.contains(role) {
                    continue;
                }
            }
            let identity = caller_documents(world, caller, probed);
            let class = match (sharing, kind) {
                (Sharing::Alone, _) => Class::Alone(index),
                (_, CallerKind::Role { role }) => Class::Role {
                    grants: plan
                        .grants_of(role, &probed.bucket.name)
                        .iter()
                        .map(|grant| {
                            (
                                grant.access,
                                grant.prefix.clone(),
                                grant.extra_actions.clone(),
                            )
                        })
                        .collect(),
                    assumes: probed
                        .access_roles
                        .iter()
                        .filter(|access| {
                            plan.scenario().roles[access.as_str()].access_role_of() == Some(role)
                        })
                        .map(|access| (*access).clone())
                        .collect(),
                },
                (_, CallerKind::Anonymous) => Class::Anonymous,
                (
                    _,
                    CallerKind::Unprivileged { .. }
                    | CallerKind::LookAlike {
                        privileged: false, ..
                    },
                ) => Class::KeyOpen,
                _ => Class::Other,
            };
            let contexts = plan.caller_contexts(caller, probed);
            let mut coverage: Vec<Coverage> = documents.coverage(caller, &contexts).collect();
            for policy in &identity {
                for statement in &policy.document.statements {
                    for context in [&contexts.https, &contexts.plain_http, &contexts.kms] {
                        coverage.push(identity_coverage(statement, context));
                    }
                }
            }
            let network = plan.network(kind, caller, probed.bucket);
            let key = GroupKey {
                network,
                class,
                identity: identity.iter().map(|policy| policy.document).collect(),
                same_account: accounts
                    .iter()
                    .map(|account| caller.account() == Some(account))
                    .collect(),
                coverage,
            };
            let group = *keys.entry(key).or_insert_with(|| {
                firsts.push(index);
                sizes.push(0);
                firsts.len() - 1
            });
            sizes[group] += 1;
            let first_identity = caller_documents(world, &plan.callers[firsts[group]].1, probed);
            let renames = first_identity
                .iter()
                .zip(&identity)
                .filter(|(shared, own)| shared.name != own.name)
                .map(|(shared, own)| (shared.name.to_string(), own.name.to_string()))
                .collect();
            members.push(Member {
                caller: index,
                group,
                renames,
            });
        }
        let mut totals = Totals::default();
        let mut shareable = true;
        for (first, size) in firsts.iter().zip(&sizes) {
            let (kind, caller) = &plan.callers[*first];
            let probes = plan.probes(kind, caller, probed);
            let contexts = plan.caller_contexts(caller, probed);
            shareable &= *size == 1 || probes.iter().all(|probe| starts_from(probe, &contexts));
            totals.operations += probes.len() * size;
            totals.requests += probes.iter().map(|probe| probe.steps.len()).sum::<usize>() * size;
        }
        BucketGroups {
            members,
            firsts,
            totals,
            shareable,
        }
    }
}

/// The documents of a decision that belong to the caller rather than to the resource: what
/// callers sharing an evaluation must have alike (their statements' coverage is compared too).
/// Every layer of [`PolicySet`] is named here, so a layer added to it must be placed: on the
/// caller's side (here), or on the resource's (the same for every caller of a bucket, and
/// covered by [`BucketDocuments`]).
fn caller_documents<'w>(
    world: &'w World,
    caller: &Caller,
    probed: &BucketProbes,
) -> Vec<NamedPolicy<'w>> {
    // What `World::policies` reads of a step: who asks, and which resource policy governs.
    let step = ProbeStep {
        request: Request {
            caller: caller.clone(),
            action: String::new(),
            resource: String::new(),
            resource_account: String::new(),
            context: Context::new(),
        },
        governing: Governing::Bucket(probed.bucket.name.clone()),
    };
    // The guardrails that follow the caller (its account's SCPs, its boundary) are its
    // documents too; the RCPs and endpoint policies a request meets follow the resource and
    // the network, which the group key holds.
    let PolicySet {
        identity,
        resource: _,
        guardrails,
    } = world.policies(&step);
    identity
        .into_iter()
        .chain(guardrails.into_iter().flat_map(|layer| layer.policies))
        .collect()
}

struct Evaluator<'a> {
    plan: &'a ProbePlan<'a>,
    world: &'a World,
    kept_world: Option<&'a World>,
}

impl Evaluator<'_> {
    /// The decided probes of each group's first caller on one bucket.
    fn bucket(&self, probed: &BucketProbes, groups: &BucketGroups) -> Vec<Vec<ProbeResult>> {
        groups
            .firsts
            .par_iter()
            .map(|first| {
                let (kind, caller) = &self.plan.callers[*first];
                self.plan
                    .probes(kind, caller, probed)
                    .into_iter()
                    .map(|probe| self.decide(probe))
                    .collect()
            })
            .collect()
    }

    fn decide(&self, probe: Probe) -> ProbeResult {
        let steps: Vec<StepResult> = probe
            .steps
            .iter()
            .map(|step| StepResult {
                action: step.request.action.clone(),
                resource: step.request.resource.clone(),
                outcome: evaluate(&step.request, &self.world.policies(step)),
            })
            .collect();
        let allowed = steps.iter().all(StepResult::allowed);
        let kept = !probe.intended
            && allowed
            && self.kept_world.is_some_and(|kept_world| {
                probe.steps.iter().all(|step| {
                    evaluate(&step.request, &kept_world.policies(step))
                        .is_ok_and(|decision| decision.verdict.is_allowed())
                })
            });
        ProbeResult { probe, steps, kept }
    }
}

/// Whether every step of the probe carries what its caller put in the context unchanged: the
/// premise of sharing an evaluation between callers (their requests differ only there).
fn starts_from(probe: &Probe, contexts: &CallerContexts) -> bool {
    probe.steps.iter().all(|step| {
        contexts
            .of_step(step)
            .iter()
            .all(|(key, values, _)| step.request.context.get(key) == Some(values))
    })
}

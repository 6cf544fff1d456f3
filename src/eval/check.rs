//! `check`'s evaluation: every probe of a lowered scenario decided step by step, and compared
//! with what the grants intend. A probe passes when an intended operation has every step
//! allowed, or an unintended one has at least one step denied; an evaluation error always
//! fails it.

use super::engine::{evaluate, Decision};
use super::error::EvalError;
use super::probe::{probes, Probe, World};
use crate::lower::Lowered;

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
        self.results
            .iter()
            .filter(|result| result.kept && result.outcome() == Outcome::Allowed)
    }

    pub fn request_count(&self) -> usize {
        self.results.iter().map(|result| result.steps.len()).sum()
    }
}

/// Evaluates every probe of the scenario.
pub fn check(lowered: &Lowered) -> CheckReport {
    let world = World::build(lowered);
    let scenario = &lowered.scenario;
    let live = scenario.has_live_policies();
    let kept_world = live.then(|| world.kept_only());
    let results = probes(lowered)
        .into_iter()
        .map(|probe| {
            let steps: Vec<StepResult> = probe
                .steps
                .iter()
                .map(|step| StepResult {
                    action: step.request.action.clone(),
                    resource: step.request.resource.clone(),
                    outcome: evaluate(&step.request, &world.policies(step)),
                })
                .collect();
            let allowed = steps.iter().all(StepResult::allowed);
            let kept = !probe.intended
                && allowed
                && kept_world.as_ref().is_some_and(|kept_world| {
                    probe.steps.iter().all(|step| {
                        evaluate(&step.request, &kept_world.policies(step))
                            .is_ok_and(|decision| decision.verdict.is_allowed())
                    })
                });
            ProbeResult { probe, steps, kept }
        })
        .collect();
    CheckReport {
        scenario: lowered.scenario.name.clone(),
        results,
    }
}

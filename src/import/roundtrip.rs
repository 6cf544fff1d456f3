//! The round trip of an import: the imported scenario, lowered, must give every caller of
//! `check`'s request matrix exactly the access the live documents gave. Both document sets are
//! decided by the evaluator over the same probes: the live world holds the live bucket, key and
//! identity policies; the synthesized world holds what crossgrant renders (its statements and
//! the kept copies) and, on each imported role, the live identity policies beside crossgrant's
//! own, since `import` leaves those on the role. A role whose identity policies were not given
//! is taken to be allowed everything in both, as `import` took it.
//!
//! KMS called directly (not through S3) is left out of the comparison: it is not S3 access,
//! and `--narrow-key-use` removes it on purpose.

use super::LiveSetup;
use crate::eval::check::Outcome;
use crate::eval::engine::evaluate;
use crate::eval::probe::admin_policy;
use crate::eval::probe::{probes, CallerKind, Operation, Probe, Transport, World};
use crate::eval::resolve::ScenarioArns;
use crate::lower::Lowered;
use std::fmt;

/// A request of the matrix the two document sets decide differently.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Difference {
    pub caller: CallerKind,
    pub operation: Operation,
    pub transport: Transport,
    pub live: Outcome,
    pub synthesized: Outcome,
}

impl fmt::Display for Difference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {} on {} ({:?}): live {:?}, imported {:?}",
            self.caller,
            self.operation.name(),
            self.operation.target(),
            self.transport,
            self.live,
            self.synthesized
        )
    }
}

fn outcome(world: &World, probe: &Probe) -> Outcome {
    let mut allowed = true;
    for step in &probe.steps {
        match evaluate(&step.request, &world.policies(step)) {
            Err(_) => return Outcome::Error,
            Ok(decision) => allowed &= decision.verdict.is_allowed(),
        }
    }
    if allowed {
        Outcome::Allowed
    } else {
        Outcome::Denied
    }
}

/// The live world and the synthesized one, over the probes of `lowered`.
fn worlds(lowered: &Lowered, setup: &LiveSetup) -> (World, World) {
    let scenario = &lowered.scenario;
    let mut synthesized = World::build(lowered);
    let mut live = synthesized.clone();
    let arns = ScenarioArns::new(scenario);
    for bucket in scenario.buckets.values() {
        if bucket.bucket_name != setup.bucket_name {
            continue;
        }
        live.bucket_policies.insert(
            bucket.name.clone(),
            (
                format!("live bucket policy of {}", bucket.bucket_name),
                setup.bucket_policy.document.clone(),
            ),
        );
        live.key_policies.insert(
            arns.bucket_key_arn(bucket),
            ("live key policy".to_string(), setup.key_policy()),
        );
    }
    for role in scenario.roles.keys() {
        let arn = scenario.role_arn(role);
        let given: Vec<(String, crate::policy::PolicyDocument)> = match setup.identity_of(&arn) {
            Some(documents) => documents
                .into_iter()
                .map(|document| (document.source.clone(), document.document.clone()))
                .collect(),
            None => vec![("not given: allowed everything".to_string(), admin_policy())],
        };
        synthesized
            .identity_policies
            .entry(arn.clone())
            .or_default()
            .extend(given.iter().cloned());
        live.identity_policies.insert(arn, given);
    }
    (live, synthesized)
}

/// Every probe of `lowered` (but direct KMS calls) that the live documents of `setup` and the
/// documents crossgrant renders for `lowered` decide differently.
pub fn compare(lowered: &Lowered, setup: &LiveSetup) -> Vec<Difference> {
    let (live, synthesized) = worlds(lowered, setup);
    probes(lowered)
        .into_iter()
        .filter(|probe| !matches!(probe.operation, Operation::KmsDirectDecrypt { .. }))
        .filter_map(|probe| {
            let live_outcome = outcome(&live, &probe);
            let synthesized_outcome = outcome(&synthesized, &probe);
            (live_outcome != synthesized_outcome).then(|| Difference {
                caller: probe.caller_kind.clone(),
                operation: probe.operation.clone(),
                transport: probe.transport,
                live: live_outcome,
                synthesized: synthesized_outcome,
            })
        })
        .collect()
}

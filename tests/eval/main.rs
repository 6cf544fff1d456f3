//! The policy evaluator and `check`: the case files, hand-built and random scenarios, mutations
//! that `check` must catch and blame on the right layer, consolidation that keeps the exact
//! same access, and the differential test against `@cloud-copilot/iam-simulate`.

#[path = "../common/mod.rs"]
mod common;

mod check_mutations;
mod check_scale;
mod check_scenarios;
mod eval_cases;
mod eval_simulator;
mod scale_equivalence;

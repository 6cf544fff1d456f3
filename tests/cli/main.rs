//! The command line end to end, running the real binary: scenario and hardening diagnostics
//! (message, location, exit code), `synth --check` and the ownership of the output directory,
//! output that is never lost, exit codes when the report cannot be written, scenario files
//! that are not UTF-8 or hold huge values, the template registry and its overrides, `check`,
//! `explain` and `diff`.

#[path = "../common/mod.rs"]
mod common;

mod access_points;
mod check_cli;
mod check_flag;
mod consumers;
mod diagnostics;
mod diff;
mod existing;
mod exit_codes;
mod explain_cli;
mod guardrails;
mod harden_diagnostics;
mod identity_policy;
mod import;
mod input_errors;
mod output_names;
mod output_safety;
mod templates;
mod validation_limits;

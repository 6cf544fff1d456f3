//! The command line end to end, running the real binary: scenario and hardening diagnostics
//! (message, location, exit code), `synth --check` and the ownership of the output directory,
//! output that is never lost, template overrides, `check` and `explain`.

#[path = "../common/mod.rs"]
mod common;

mod check_cli;
mod check_flag;
mod diagnostics;
mod explain_cli;
mod harden_diagnostics;
mod output_safety;
mod template_override;

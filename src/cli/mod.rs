//! The command line: parses arguments with clap, runs one subcommand, and maps every outcome
//! to the one set of exit codes: 0 ok, 1 a finding (output out of date, a check failed),
//! 2 bad input or usage, 101 an internal bug. Output goes through the writers it is given,
//! so tests read exactly what a user sees.

pub mod check;
pub mod explain;
pub mod plan;
pub mod synth;

use clap::{Parser, Subcommand};
use std::ffi::OsString;
use std::io::Write;

pub const EXIT_OK: i32 = 0;
pub const EXIT_FINDING: i32 = 1;
pub const EXIT_INPUT: i32 = 2;
pub const EXIT_BUG: i32 = 101;

#[derive(Debug, Parser)]
#[command(
    name = "crossgrant",
    version,
    about = "Cross-account S3 + KMS access, rendered for CloudFormation and Terraform and proved before deploy"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Render every account's CloudFormation stacks and Terraform modules.
    Synth(synth::Args),
    /// Print the deploy order, per account, region and phase.
    Plan(plan::Args),
    /// Prove every grant works and nothing else is granted, with an access matrix.
    Check(check::Args),
    /// Say why a principal is or is not allowed, given the live policy documents.
    Explain(explain::Args),
}

/// Runs crossgrant with `args` (the program name first) and returns the exit code.
pub fn run(
    args: impl IntoIterator<Item = impl Into<OsString> + Clone>,
    stdout: &mut dyn Write,
    stderr: &mut dyn Write,
) -> i32 {
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(error) => {
            let text = error.render().to_string();
            let code = error.exit_code();
            let sink: &mut dyn Write = if code == 0 { stdout } else { stderr };
            let _ = sink.write_all(text.as_bytes());
            return if code == 0 { EXIT_OK } else { EXIT_INPUT };
        }
    };
    match cli.command {
        Command::Synth(args) => synth::run(&args, stdout, stderr),
        Command::Plan(args) => plan::run(&args, stdout, stderr),
        Command::Check(args) => check::run(&args, stdout, stderr),
        Command::Explain(args) => explain::run(&args, stdout, stderr),
    }
}

/// Loads and lowers a scenario, or prints why not and returns the exit code. A document that
/// cannot fit its AWS size limit makes the scenario unusable as written; one near its limit
/// is worth a warning.
pub(crate) fn load(
    path: &std::path::Path,
    stderr: &mut dyn Write,
) -> Result<crate::lower::Lowered, i32> {
    match crate::load_scenario_with_source(path) {
        Ok((scenario, source)) => {
            let lowered = crate::lower::lower(scenario);
            if !lowered.budget.problems.is_empty() {
                let problems = lowered
                    .budget
                    .render_problems_in(&path.display().to_string(), &source);
                let _ = stderr.write_all(problems.as_bytes());
                return Err(EXIT_INPUT);
            }
            let _ = stderr.write_all(lowered.budget.render_warnings().as_bytes());
            Ok(lowered)
        }
        Err(error) => {
            let _ = stderr.write_all(error.render().as_bytes());
            Err(EXIT_INPUT)
        }
    }
}

/// Loads, lowers and plans a scenario, or prints why not and returns the exit code. A cycle
/// is printed as a bug: lowering never creates one.
pub(crate) fn load_planned(
    path: &std::path::Path,
    stderr: &mut dyn Write,
) -> Result<(crate::lower::Lowered, Vec<crate::plan::Step>), i32> {
    let lowered = load(path, stderr)?;
    let steps = crate::plan::plan(&lowered).map_err(|cycle| {
        let _ = writeln!(
            stderr,
            "error: the deploy units depend on each other in a cycle: {}",
            cycle.members.join(" -> ")
        );
        EXIT_BUG
    })?;
    Ok((lowered, steps))
}

//! The command line: parses arguments with clap, runs one subcommand, and hands its result to
//! the one error sink ([`crate::error::finish`]), which prints any error and gives the exit
//! code. Output goes through the writers it is given, so tests read exactly what a user sees.

pub mod check;
pub mod diff;
pub mod explain;
pub mod import;
pub mod plan;
pub mod synth;

use crate::error::{finish, Error, EXIT_INPUT};
use crate::lower::stacks::TemplateSize;
use crate::render::{Format, Templates};
use clap::{Parser, Subcommand};
use std::ffi::OsString;
use std::io::Write;

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
    Synth(synth::SynthArgs),
    /// Print the deploy order, per account, region and phase.
    Plan(plan::PlanArgs),
    /// Prove every grant works and nothing else is granted, with an access matrix.
    Check(check::CheckArgs),
    /// Say why a principal is or is not allowed, given the live policy documents.
    Explain(Box<explain::ExplainArgs>),
    /// Turn a live setup (the policies the aws CLI prints) into a scenario of existing resources.
    Import(import::ImportArgs),
    /// Say who gains and who loses access between two scenarios (or a scenario and its
    /// version at a git revision).
    Diff(diff::DiffArgs),
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
            if error.exit_code() != 0 {
                let _ = stderr.write_all(text.as_bytes());
                return EXIT_INPUT;
            }
            // --help and --version are the command's report.
            let written = crate::error::report(stdout, &text).map(|()| crate::error::Status::Done);
            return finish(written, stdout, stderr);
        }
    };
    let result = match cli.command {
        Command::Synth(args) => synth::run(&args, stdout, stderr),
        Command::Plan(args) => plan::run(&args, stdout, stderr),
        Command::Check(args) => check::run(&args, stdout, stderr),
        Command::Explain(args) => explain::run(&args, stdout),
        Command::Import(args) => import::run(&args, stdout),
        Command::Diff(args) => diff::run(&args, stdout, stderr),
    };
    finish(result, stdout, stderr)
}

/// Loads and lowers a scenario. A document that cannot fit its AWS size limit makes the
/// scenario unusable as written; one near its limit is worth a warning.
pub(crate) fn load(
    path: &std::path::Path,
    stderr: &mut dyn Write,
) -> Result<crate::lower::Lowered, Error> {
    load_named(path, &path.display().to_string(), stderr)
}

/// [`load`], naming the file `display` in diagnostics.
pub(crate) fn load_named(
    path: &std::path::Path,
    display: &str,
    stderr: &mut dyn Write,
) -> Result<crate::lower::Lowered, Error> {
    let (scenario, source) =
        crate::scenario::load_scenario_named(path, display).map_err(Error::Load)?;
    let lowered = crate::lower::lower(scenario);
    if !lowered.budget.problems.is_empty() {
        return Err(Error::TooLarge {
            path: display.to_string(),
            source,
            budget: lowered.budget,
        });
    }
    let _ = stderr.write_all(lowered.budget.render_warnings().as_bytes());
    let _ = stderr.write_all(replaced_policy_warnings(&lowered.scenario).as_bytes());
    Ok(lowered)
}

/// A warning for each existing bucket or key whose live policy the scenario did not capture:
/// deploying replaces it with crossgrant's statements alone.
fn replaced_policy_warnings(scenario: &crate::model::Scenario) -> String {
    let mut out = String::new();
    for key in scenario.keys.values() {
        if key.existing.is_some() && key.live_policy().is_none() {
            out.push_str(&format!(
                "warning: key `{}` exists already and names no policy_file: deploying replaces its live key policy with crossgrant's statements alone; capture it with `aws kms get-key-policy --key-id {} --policy-name default` and name the file with policy_file to keep its statements\n",
                key.name,
                key.known_arn().unwrap_or_default()
            ));
        }
    }
    for bucket in scenario.buckets.values() {
        if bucket.existing.is_some() && bucket.live_policy().is_none() {
            out.push_str(&format!(
                "warning: bucket `{}` exists already and names no policy_file: deploying replaces its live bucket policy with crossgrant's statements alone; capture it with `aws s3api get-bucket-policy --bucket {}` and name the file with policy_file to keep its statements\n",
                bucket.name, bucket.bucket_name
            ));
        }
    }
    out
}

/// A planned scenario: lowered, its stacks split to fit CloudFormation's limits, in deploy
/// order, with the size of every template.
pub(crate) struct Planned {
    pub lowered: crate::lower::Lowered,
    pub steps: Vec<crate::plan::Step>,
    pub template_sizes: std::collections::BTreeMap<crate::lower::UnitId, TemplateSize>,
    /// The templates as they were measured, for synth to write.
    pub rendered: crate::render::cloudformation::RenderedStacks,
}

/// Loads, lowers and plans a scenario, splitting every stack that would exceed one of
/// CloudFormation's limits; the templates are measured as `templates` renders them in
/// `format`.
pub(crate) fn load_planned(
    path: &std::path::Path,
    stderr: &mut dyn Write,
    templates: &Templates,
    format: Format,
) -> Result<Planned, Error> {
    let mut lowered = load(path, stderr)?;
    let mut rendered = crate::render::cloudformation::RenderedStacks::new();
    let template_sizes = crate::lower::stacks::split(
        &mut lowered,
        |lowered, unit| {
            let measured =
                crate::render::cloudformation::measure(templates, lowered, unit, format)?;
            Ok::<_, crate::render::TemplateError>(measured.map(|(size, stack)| {
                rendered.insert(unit.id.clone(), stack);
                size
            }))
        },
        crate::plan::stem,
    )?
    .map_err(Error::StackTooLarge)?;
    let steps = crate::plan::plan(&lowered).map_err(Error::Cycle)?;
    Ok(Planned {
        lowered,
        steps,
        template_sizes,
        rendered,
    })
}

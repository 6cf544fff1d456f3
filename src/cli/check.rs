//! `crossgrant check`: evaluates the lowered policies of a scenario for every grant and for
//! callers that were granted nothing, prints the access matrix, the size of every policy
//! document against its AWS limit and of every CloudFormation template against
//! CloudFormation's, and exits 1 when any request is not decided as the grants
//! intend.

use super::{load_planned, Planned};
use crate::error::{reported, Error, Status};
use crate::eval::report::{write_human, write_json};
use crate::render::{Format, Templates};
use std::io::Write;
use std::path::PathBuf;

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum ReportFormat {
    Human,
    Json,
}

#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    /// The scenario file (TOML).
    pub scenario: PathBuf,
    /// How to print the access matrix.
    #[arg(long, value_enum, default_value = "human")]
    pub format: ReportFormat,
}

/// Every limited document's size against its AWS limit, after the access matrix.
fn document_sizes(budget: &crate::limits::Budget) -> String {
    let mut text = String::from("\nDocument sizes (AWS limits, whitespace not counted):\n");
    for measured in budget.documents.values() {
        text.push_str(&format!("  {}\n", measured.describe()));
    }
    text
}

/// Every CloudFormation template's size and counts against CloudFormation's limits.
fn template_sizes(planned: &Planned) -> String {
    let mut text = String::from("\nCloudFormation templates (CloudFormation limits):\n");
    for step in &planned.steps {
        if let Some(size) = planned.template_sizes.get(&step.id) {
            text.push_str(&format!(
                "  {}: {}\n",
                step.stem,
                super::plan::template_line(size)
            ));
        }
    }
    text
}

pub fn run(
    args: &CheckArgs,
    stdout: &mut dyn Write,
    stderr: &mut dyn Write,
) -> Result<Status, Error> {
    let templates = Templates::load(None)?;
    let planned = load_planned(&args.scenario, stderr, &templates, Format::Yaml)?;
    let lowered = &planned.lowered;
    let report = crate::eval::check(lowered);
    reported(match args.format {
        ReportFormat::Human => write_human(&report, stdout).and_then(|()| {
            stdout
                .write_all((document_sizes(&lowered.budget) + &template_sizes(&planned)).as_bytes())
        }),
        ReportFormat::Json => write_json(&report, stdout),
    })?;
    Ok(Status::finding_if(!report.passed()))
}

//! `crossgrant check`: evaluates the lowered policies of a scenario for every grant and for
//! callers that were granted nothing, prints the access matrix, the size of every policy
//! document against its AWS limit and of every CloudFormation template against
//! CloudFormation's, and exits 1 when any request is not decided as the grants
//! intend.

use super::{load_planned, Planned};
use crate::error::{Error, Status};
use crate::eval::check::{check_into, Sharing};
use crate::eval::report::{HumanReport, JsonReport};
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
    // A reader that goes away (`| head`) does not cut the check short: its exit code still
    // says whether every operation is as intended.
    let mut out = std::io::BufWriter::new(UntilClosed {
        out: stdout,
        closed: false,
    });
    let summary = match args.format {
        ReportFormat::Human => {
            check_into(lowered, Sharing::Shared, &mut HumanReport::new(&mut out)).and_then(
                |summary| {
                    out.write_all(
                        (document_sizes(&lowered.budget) + &template_sizes(&planned)).as_bytes(),
                    )?;
                    Ok(summary)
                },
            )
        }
        ReportFormat::Json => check_into(lowered, Sharing::Shared, &mut JsonReport::new(&mut out)),
    }
    .and_then(|summary| out.flush().map(|()| summary));
    let summary = summary.map_err(Error::Report)?;
    Ok(Status::finding_if(!summary.passed()))
}

/// A writer that takes everything once its reader has closed the pipe.
struct UntilClosed<'w> {
    out: &'w mut dyn Write,
    closed: bool,
}

impl Write for UntilClosed<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.closed {
            return Ok(buf.len());
        }
        match self.out.write(buf) {
            Err(error) if error.kind() == std::io::ErrorKind::BrokenPipe => {
                self.closed = true;
                Ok(buf.len())
            }
            written => written,
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        match self.out.flush() {
            Err(error) if error.kind() == std::io::ErrorKind::BrokenPipe => {
                self.closed = true;
                Ok(())
            }
            _ if self.closed => Ok(()),
            flushed => flushed,
        }
    }
}

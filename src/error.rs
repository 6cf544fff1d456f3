//! The one error type of every command, and the one place where an outcome becomes what the
//! user reads and the exit code: 0 done, 1 a finding (a check failed, output out of date), 2 bad
//! input, usage or an I/O failure, 101 a bug of crossgrant's own.

use crate::cli::diff::DiffError;
use crate::cli::explain::ExplainError;
use crate::import::ImportError;
use crate::limits::Budget;
use crate::output::OutputError;
use crate::plan::Cycle;
use crate::render::TemplateError;
use crate::LoadError;
use std::io::Write;
use std::path::PathBuf;

pub const EXIT_OK: i32 = 0;
pub const EXIT_FINDING: i32 = 1;
pub const EXIT_INPUT: i32 = 2;
pub const EXIT_BUG: i32 = 101;

/// How a command that ran to its end came out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    Done,
    /// What the command reports is a finding: a check failed, the output is out of date, a
    /// request is denied.
    Finding,
}

impl Status {
    pub fn finding_if(finding: bool) -> Status {
        if finding {
            Status::Finding
        } else {
            Status::Done
        }
    }
}

#[derive(Debug)]
pub enum Error {
    /// The scenario could not be read, or does not validate.
    Load(LoadError),
    /// A policy document of the scenario cannot fit its AWS size limit.
    TooLarge {
        path: String,
        source: String,
        budget: Budget,
    },
    /// A CloudFormation stack cannot fit CloudFormation's limits, however it is split.
    StackTooLarge(crate::lower::stacks::StackProblem),
    Templates(TemplateError),
    /// Writing or checking the output directory failed; the previous output is untouched.
    Output {
        out: PathBuf,
        error: OutputError,
    },
    Explain(ExplainError),
    /// `diff --git` could not read the base from the repository.
    Diff(DiffError),
    /// `import` was given documents or arguments it cannot use, or could not write.
    Import(ImportError),
    /// The report could not be written to standard output (a full disk, a closed descriptor).
    Report(std::io::Error),
    /// Lowering produced deploy units that depend on each other: a bug, never the scenario's.
    Cycle(Cycle),
    /// The per-account Terraform roots would need each other's outputs (the directories).
    RootCycle {
        roots: Vec<String>,
    },
}

impl Error {
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Cycle(_) => EXIT_BUG,
            _ => EXIT_INPUT,
        }
    }

    /// What the user reads, ending in a newline.
    pub fn message(&self) -> String {
        match self {
            Error::Load(error) => error.render(),
            Error::TooLarge {
                path,
                source,
                budget,
            } => budget.render_problems_in(path, source),
            Error::StackTooLarge(problem) => format!(
                "error: {problem}\n  = help: {}\nnothing was written\n",
                problem.advice()
            ),
            Error::Templates(error) => format!("error: {error}\n"),
            Error::Output { out, error } => format!(
                "error: {error}\nthe previous output in {} was left as it was\n",
                out.display()
            ),
            Error::Explain(error) => format!("error: {error}\n"),
            Error::Diff(error) => format!("error: {error}\n"),
            Error::Import(error) => format!("error: {error}\n"),
            Error::Report(error) => format!("error: cannot write the report: {error}\n"),
            Error::Cycle(cycle) => format!(
                "error: the deploy units depend on each other in a cycle: {}\n\
                 this is a bug in crossgrant; please report it with the scenario\n",
                cycle.members.join(" -> ")
            ),
            Error::RootCycle { roots } => format!(
                "error: the per-account Terraform roots {} need each other's outputs, so no \
                 order of applies can deploy them (principal_style = \"role\" names each \
                 consumer role in the owner's policies, whose key ARN the consumer needs)\n\
                 use principal_style = \"account\" in the scenario, or the single root \
                 (terraform_layout = \"single\", or --terraform-layout single)\n",
                roots.join(", ")
            ),
        }
    }
}

impl From<TemplateError> for Error {
    fn from(error: TemplateError) -> Self {
        Error::Templates(error)
    }
}

impl From<ImportError> for Error {
    fn from(error: ImportError) -> Self {
        Error::Import(error)
    }
}

impl From<ExplainError> for Error {
    fn from(error: ExplainError) -> Self {
        Error::Explain(error)
    }
}

/// Writes `text` to the report stream.
pub fn report(out: &mut dyn Write, text: &str) -> Result<(), Error> {
    reported(out.write_all(text.as_bytes()))
}

/// The result of writing to the report stream. A reader that stops early (`| head`) is not a
/// failure of the command; any other write error is.
pub fn reported(written: std::io::Result<()>) -> Result<(), Error> {
    match written {
        Err(error) if error.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        result => result.map_err(Error::Report),
    }
}

/// The exit code of a command's result, after printing its error, if any, to `stderr`.
pub fn finish(
    result: Result<Status, Error>,
    stdout: &mut dyn Write,
    stderr: &mut dyn Write,
) -> i32 {
    // Standard output is buffered: a full disk shows only when it is flushed.
    let result = result.and_then(|outcome| reported(stdout.flush()).map(|()| outcome));
    match result {
        Ok(Status::Done) => EXIT_OK,
        Ok(Status::Finding) => EXIT_FINDING,
        Err(error) => {
            let _ = stderr.write_all(error.message().as_bytes());
            error.exit_code()
        }
    }
}

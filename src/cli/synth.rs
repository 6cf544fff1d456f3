//! `crossgrant synth`: render the scenario and write it (or, with `--check`, compare it with
//! what is committed).

use super::{load_planned, EXIT_FINDING, EXIT_INPUT, EXIT_OK};
use crate::output;
use crate::render::{self, Format, Options, Target, Templates};
use clap::ValueEnum;
use std::io::Write;
use std::path::PathBuf;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The scenario file (TOML).
    pub scenario: PathBuf,
    /// Output directory.
    #[arg(long, default_value = "out")]
    pub out: PathBuf,
    /// Which infrastructure code to render.
    #[arg(long, value_enum, default_value_t = TargetArg::All)]
    pub target: TargetArg,
    /// CloudFormation template format.
    #[arg(long, value_enum, default_value_t = FormatArg::Yaml)]
    pub format: FormatArg,
    /// Write nothing; exit 1 listing every file that is missing, changed or stale.
    #[arg(long)]
    pub check: bool,
    /// A directory of template overrides (`<name>.hbs`, same layout as `templates/`).
    #[arg(long)]
    pub templates: Option<PathBuf>,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum TargetArg {
    Cloudformation,
    Terraform,
    All,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum FormatArg {
    Yaml,
    Json,
}

pub fn run(args: &Args, stdout: &mut dyn Write, stderr: &mut dyn Write) -> i32 {
    let options = Options {
        target: match args.target {
            TargetArg::Cloudformation => Target::CloudFormation,
            TargetArg::Terraform => Target::Terraform,
            TargetArg::All => Target::All,
        },
        format: match args.format {
            FormatArg::Yaml => Format::Yaml,
            FormatArg::Json => Format::Json,
        },
    };
    let templates = match Templates::load(args.templates.as_deref()) {
        Ok(templates) => templates,
        Err(error) => {
            let _ = writeln!(stderr, "error: {error}");
            return EXIT_INPUT;
        }
    };
    // The templates compile on a second thread while the scenario loads.
    let rendered = std::thread::scope(|threads| {
        threads.spawn(|| templates.compile_ahead(options.target));
        let (lowered, steps) = load_planned(&args.scenario, stderr)?;
        render::render_all(&templates, &lowered, &steps, options).map_err(|error| {
            let _ = writeln!(stderr, "error: {error}");
            EXIT_INPUT
        })
    });
    let files = match rendered {
        Ok(files) => files,
        Err(code) => return code,
    };
    let out = &args.out;
    if args.check {
        return match output::check(out, &files) {
            Ok(drift) if drift.is_empty() => {
                let _ = writeln!(
                    stdout,
                    "{} is up to date ({} files)",
                    out.display(),
                    files.len()
                );
                EXIT_OK
            }
            Ok(drift) => {
                let _ = writeln!(
                    stderr,
                    "{} is out of date with {}:",
                    out.display(),
                    args.scenario.display()
                );
                for item in &drift {
                    let _ = writeln!(stderr, "  {item}");
                }
                let _ = writeln!(
                    stderr,
                    "run `crossgrant synth {} --out {}` to update it",
                    args.scenario.display(),
                    out.display()
                );
                EXIT_FINDING
            }
            Err(error) => {
                let _ = writeln!(stderr, "error: {error}");
                EXIT_INPUT
            }
        };
    }
    match output::write(out, &files) {
        Ok(written) => {
            for path in &written.updated {
                let _ = writeln!(stdout, "wrote   {}", out.join(path).display());
            }
            for path in &written.removed {
                let _ = writeln!(stdout, "removed {}", out.join(path).display());
            }
            let _ = writeln!(
                stdout,
                "{}: {} files ({} updated, {} unchanged, {} removed)",
                out.display(),
                files.len(),
                written.updated.len(),
                written.unchanged.len(),
                written.removed.len()
            );
            EXIT_OK
        }
        Err(error) => {
            let _ = writeln!(stderr, "error: {error}");
            let _ = writeln!(
                stderr,
                "the previous output in {} was left as it was",
                out.display()
            );
            EXIT_INPUT
        }
    }
}

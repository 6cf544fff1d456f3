//! `crossgrant synth`: render the scenario and write it (or, with `--check`, compare it with
//! what is committed).

use super::load_planned;
use crate::error::{report, Error, Status};
use crate::model::TerraformLayout;
use crate::output;
use crate::render::{self, shell_quote, Format, Options, Target, Templates};
use clap::ValueEnum;
use std::io::Write;
use std::path::PathBuf;

#[derive(Debug, clap::Args)]
pub struct SynthArgs {
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
    /// Terraform layout: one root for every account (`single`, default), or one root per
    /// account with its own credentials and state, applied by `terraform/apply.sh`
    /// (`per-account`). Overrides the scenario's `terraform_layout`.
    #[arg(long, value_enum)]
    pub terraform_layout: Option<LayoutArg>,
    /// Replace files at paths crossgrant writes that its manifest does not list (without it,
    /// such a run is refused and names them). Other files are never touched either way.
    #[arg(long)]
    pub force: bool,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum TargetArg {
    Cloudformation,
    Terraform,
    All,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum LayoutArg {
    Single,
    PerAccount,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum FormatArg {
    Yaml,
    Json,
}

pub fn run(
    args: &SynthArgs,
    stdout: &mut dyn Write,
    stderr: &mut dyn Write,
) -> Result<Status, Error> {
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
    let templates = Templates::load(args.templates.as_deref())?;
    // The templates compile on a second thread while the scenario loads.
    let files = std::thread::scope(|threads| {
        threads.spawn(|| templates.compile_ahead(options.target));
        let mut planned = load_planned(&args.scenario, stderr, &templates, options.format)?;
        if let Some(layout) = args.terraform_layout {
            planned.lowered.scenario.terraform_layout = match layout {
                LayoutArg::Single => TerraformLayout::Single,
                LayoutArg::PerAccount => TerraformLayout::PerAccount,
            };
        }
        if options.target.terraform()
            && planned.lowered.scenario.terraform_layout == TerraformLayout::PerAccount
        {
            if let Some(roots) =
                render::terraform::per_account_cycle(&planned.lowered, &planned.steps)
            {
                return Err(Error::RootCycle { roots });
            }
        }
        Ok::<_, Error>(render::render_all_with(
            &templates,
            &planned.lowered,
            &planned.steps,
            options,
            &planned.rendered,
        )?)
    })?;
    let out = &args.out;
    let output_error = |error| Error::Output {
        out: out.clone(),
        error,
    };
    if args.check {
        let drift = output::check(out, &files).map_err(output_error)?;
        if drift.is_empty() {
            report(
                stdout,
                &format!("{} is up to date ({} files)\n", out.display(), files.len()),
            )?;
            return Ok(Status::Done);
        }
        let mut text = format!(
            "{} is out of date with {}:\n",
            out.display(),
            args.scenario.display()
        );
        for item in &drift {
            text.push_str(&format!("  {item}\n"));
        }
        text.push_str(&format!("run `{}` to update it\n", update_command(args)));
        let _ = stderr.write_all(text.as_bytes());
        return Ok(Status::Finding);
    }
    let options = output::WriteOptions { force: args.force };
    let mut waiting = || {
        let _ = writeln!(
            stderr,
            "waiting for another crossgrant run on {} to finish",
            out.display()
        );
    };
    let written = output::write_with(out, &files, options, &mut waiting).map_err(output_error)?;
    let mut text = String::new();
    for path in &written.cleaned {
        text.push_str(&format!(
            "removed {} (left by an interrupted run)\n",
            path.display()
        ));
    }
    for path in &written.adopted {
        text.push_str(&format!(
            "adopted {} (not written by crossgrant before)\n",
            out.join(path).display()
        ));
    }
    for path in &written.updated {
        text.push_str(&format!("wrote   {}\n", out.join(path).display()));
    }
    for path in &written.removed {
        text.push_str(&format!("removed {}\n", out.join(path).display()));
    }
    text.push_str(&format!(
        "{}: {} files ({} updated, {} unchanged, {} removed)\n",
        out.display(),
        files.len(),
        written.updated.len(),
        written.unchanged.len(),
        written.removed.len()
    ));
    report(stdout, &text)?;
    Ok(Status::Done)
}

/// The `synth` command that brings the output up to date: this one without `--check`, so it
/// keeps the target, the format and the template overrides.
fn update_command(args: &SynthArgs) -> String {
    let mut words = vec![
        "crossgrant".to_string(),
        "synth".into(),
        shell_quote(&args.scenario.display().to_string()),
        "--out".into(),
        shell_quote(&args.out.display().to_string()),
    ];
    if let Some(target) = args
        .target
        .to_possible_value()
        .filter(|_| !matches!(args.target, TargetArg::All))
    {
        words.extend(["--target".into(), target.get_name().to_string()]);
    }
    if let Some(format) = args
        .format
        .to_possible_value()
        .filter(|_| !matches!(args.format, FormatArg::Yaml))
    {
        words.extend(["--format".into(), format.get_name().to_string()]);
    }
    if let Some(layout) = args
        .terraform_layout
        .and_then(|layout| layout.to_possible_value())
    {
        words.extend(["--terraform-layout".into(), layout.get_name().to_string()]);
    }
    if let Some(templates) = &args.templates {
        words.extend([
            "--templates".into(),
            shell_quote(&templates.display().to_string()),
        ]);
    }
    words.join(" ")
}

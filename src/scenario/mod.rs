//! The scenario as input: the TOML as written ([`schema`], with spans), checked into the model
//! every later stage reads ([`validate`], [`model`]), and the located diagnostics a rejected
//! scenario gets ([`diag`]).

pub mod diag;
pub mod model;
pub mod schema;
pub mod validate;

use diag::{Diagnostics, Problem};
use std::path::Path;

/// Why a scenario could not be loaded.
#[derive(Debug)]
pub enum LoadError {
    Read { path: String, error: std::io::Error },
    Invalid(Diagnostics),
}

impl LoadError {
    pub fn render(&self) -> String {
        match self {
            LoadError::Read { path, error } => {
                format!("error: cannot read scenario {path}: {error}\n")
            }
            LoadError::Invalid(diagnostics) => diagnostics.render(),
        }
    }
}

/// Parses and validates scenario text; `path` is only used to name the file in diagnostics.
pub fn parse_scenario(path: &str, source: &str) -> Result<model::Scenario, Diagnostics> {
    parse_scenario_in(path, source, directory_of(Path::new(path)))
}

/// Parses and validates scenario text named `path` in diagnostics, whose `policy_file`s are
/// relative to `base`.
pub fn parse_scenario_in(
    path: &str,
    source: &str,
    base: &Path,
) -> Result<model::Scenario, Diagnostics> {
    let invalid = |problems| Diagnostics {
        path: path.to_string(),
        source: source.to_string(),
        problems,
    };
    let raw = schema::parse(source).map_err(|error| {
        invalid(vec![Problem::Toml {
            message: error.message().to_string(),
            span: error.span(),
        }])
    })?;
    validate::validate_in(raw, base).map_err(invalid)
}

/// The directory a scenario file's relative paths start from.
fn directory_of(path: &Path) -> &Path {
    path.parent()
        .filter(|parent| !parent.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
}

/// Reads, parses and validates a scenario file.
pub fn load_scenario(path: &Path) -> Result<model::Scenario, LoadError> {
    load_scenario_with_source(path).map(|(scenario, _)| scenario)
}

/// Reads, parses and validates a scenario file, and returns its text too, for diagnostics
/// found later (a document too large for AWS points at the table it comes from).
pub fn load_scenario_with_source(path: &Path) -> Result<(model::Scenario, String), LoadError> {
    load_scenario_named(path, &path.display().to_string())
}

/// Reads, parses and validates the scenario file at `path`, naming it `display` in diagnostics
/// (a file checked out from another revision is named by that revision, not by where it was
/// put); its `policy_file`s are relative to `path`.
pub fn load_scenario_named(
    path: &Path,
    display: &str,
) -> Result<(model::Scenario, String), LoadError> {
    let display = display.to_string();
    let bytes = std::fs::read(path).map_err(|error| LoadError::Read {
        path: display.clone(),
        error,
    })?;
    let source = String::from_utf8(bytes).map_err(|error| {
        let at = error.utf8_error().valid_up_to();
        let bytes = error.into_bytes();
        let utf16 = bytes.starts_with(&[0xFF, 0xFE]) || bytes.starts_with(&[0xFE, 0xFF]);
        // The text before the first bad byte is kept as it is, so line and column count right;
        // of UTF-16 text, whose every other byte is zero, only the byte order mark is shown.
        let shown = if utf16 { &bytes[..2] } else { &bytes[..] };
        LoadError::Invalid(Diagnostics {
            path: display.clone(),
            source: String::from_utf8_lossy(shown).into_owned(),
            problems: vec![Problem::NotUtf8 {
                utf16,
                span: at..at + char::REPLACEMENT_CHARACTER.len_utf8(),
            }],
        })
    })?;
    let scenario =
        parse_scenario_in(&display, &source, directory_of(path)).map_err(LoadError::Invalid)?;
    Ok((scenario, source))
}

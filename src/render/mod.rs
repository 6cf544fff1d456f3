//! Rendering: typed, serializable views of the lowered units fed to handlebars templates.
//! Templates are plain files under `templates/`, embedded in the binary and overridable from a
//! directory. Strict mode is on (a misspelled field fails) and HTML escaping is off; values are
//! escaped per target format by the helpers registered here, in one place. Each embedded
//! template also has a compiled-in writer beside its view, which prints the same bytes and is
//! what runs unless the template is overridden.

/// Appends formatted text to a `String` (which cannot fail): the compiled-in template writers.
macro_rules! put {
    ($out:expr, $($format:tt)*) => {{
        use std::fmt::Write as _;
        let _ = write!($out, $($format)*);
    }};
}

pub mod access;
pub mod checkov;
pub mod cloudformation;
pub mod hcl;
pub mod terraform;
pub mod yaml;

use crate::lower::Lowered;
use crate::parallel::{side_by_side, SIDE_BY_SIDE_GRANTS};
use crate::plan::Step;
use handlebars::{
    Context, Handlebars, Helper, HelperDef, HelperResult, Output, RenderContext, RenderErrorReason,
    Template,
};
use serde::Serialize;
use serde_json::Value as Json;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Every template, by name, with its embedded text.
pub const TEMPLATES: &[(&str, &str)] = &[
    (
        "cloudformation/stack.yaml",
        include_str!("../../templates/cloudformation/stack.yaml.hbs"),
    ),
    (
        "cloudformation/deploy.sh",
        include_str!("../../templates/cloudformation/deploy.sh.hbs"),
    ),
    (
        "terraform/module/main.tf",
        include_str!("../../templates/terraform/module/main.tf.hbs"),
    ),
    (
        "terraform/module/variables.tf",
        include_str!("../../templates/terraform/module/variables.tf.hbs"),
    ),
    (
        "terraform/module/outputs.tf",
        include_str!("../../templates/terraform/module/outputs.tf.hbs"),
    ),
    (
        "terraform/versions.tf",
        include_str!("../../templates/terraform/versions.tf.hbs"),
    ),
    (
        "terraform/main.tf",
        include_str!("../../templates/terraform/main.tf.hbs"),
    ),
    ("ACCESS.md", include_str!("../../templates/ACCESS.md.hbs")),
];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    CloudFormation,
    Terraform,
    All,
}

impl Target {
    pub fn cloudformation(self) -> bool {
        matches!(self, Target::CloudFormation | Target::All)
    }

    pub fn terraform(self) -> bool {
        matches!(self, Target::Terraform | Target::All)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Yaml,
    Json,
}

#[derive(Debug)]
pub enum TemplateError {
    /// A template override could not be read.
    Read {
        path: PathBuf,
        error: std::io::Error,
    },
    /// A template does not parse.
    Syntax { name: String, message: String },
    /// A template refers to something its view does not have, or a helper failed.
    Render { name: String, message: String },
    /// The rendered CloudFormation is not valid YAML (a broken template override).
    Yaml { name: String, message: String },
}

impl std::fmt::Display for TemplateError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TemplateError::Read { path, error } => {
                write!(f, "cannot read template {}: {error}", path.display())
            }
            TemplateError::Syntax { name, message } => {
                write!(f, "template {name} does not parse: {message}")
            }
            TemplateError::Render { name, message } => {
                write!(f, "template {name} failed to render: {message}")
            }
            TemplateError::Yaml { name, message } => {
                write!(f, "template {name} rendered invalid YAML: {message}")
            }
        }
    }
}

/// The templates of a run. Each embedded template has a compiled-in writer that prints exactly
/// what handlebars prints from it (`tests/templates.rs` holds them to the same bytes), so a run
/// compiles only the templates a user overrides: compiling is most of a small run's time, and
/// interpreting a view through JSON most of a large one's.
pub struct Templates {
    registry: Handlebars<'static>,
    /// Whether any template came from the override directory rather than the binary.
    overridden: bool,
}

impl Templates {
    /// The embedded templates, each replaced by `<dir>/<name>.hbs` where that file exists.
    pub fn load(overrides: Option<&Path>) -> Result<Self, TemplateError> {
        Self::build(overrides, false)
    }

    /// Every embedded template interpreted by handlebars, as if a directory held a copy of
    /// each: the reference the compiled-in writers are held to.
    pub fn interpreted() -> Result<Self, TemplateError> {
        Self::build(None, true)
    }

    fn build(overrides: Option<&Path>, interpret_embedded: bool) -> Result<Self, TemplateError> {
        let mut registry = Handlebars::new();
        registry.set_strict_mode(true);
        registry.register_escape_fn(handlebars::no_escape);
        registry.register_helper("yaml", escaping_helper(yaml_text));
        registry.register_helper("hcl", escaping_helper(hcl_text));
        registry.register_helper("shell", escaping_helper(shell_text));
        registry.register_helper("mermaid", escaping_helper(mermaid_text));
        registry.register_helper("md", escaping_helper(markdown_text));
        let mut sources = Vec::new();
        let mut overridden = false;
        for (name, embedded) in TEMPLATES {
            match overrides.map(|dir| dir.join(format!("{name}.hbs"))) {
                Some(path) if path.is_file() => {
                    overridden = true;
                    let text = std::fs::read_to_string(&path)
                        .map_err(|error| TemplateError::Read { path, error })?;
                    sources.push((*name, text));
                }
                _ if interpret_embedded => sources.push((*name, embedded.to_string())),
                _ => {}
            }
        }
        // Compiling grows with the square of a template's length, and the templates do not
        // depend on each other: one thread each.
        let compiled: Vec<_> = std::thread::scope(|scope| {
            let workers: Vec<_> = sources
                .iter()
                .map(|(name, text)| {
                    scope.spawn(move || Template::compile_with_name(text, name.to_string()))
                })
                .collect();
            workers
                .into_iter()
                .map(|worker| worker.join().expect("template compilation does not panic"))
                .collect()
        });
        for ((name, _), template) in sources.iter().zip(compiled) {
            let template = template.map_err(|error| TemplateError::Syntax {
                name: name.to_string(),
                message: error.to_string(),
            })?;
            registry.register_template(name, template);
        }
        Ok(Templates {
            registry,
            overridden,
        })
    }

    /// Whether any template was read from the override directory.
    pub fn overridden(&self) -> bool {
        self.overridden
    }

    /// Template `name` applied to `view`: by handlebars when the template was overridden (or
    /// interpreted on purpose), else by `write`, its compiled-in equivalent.
    pub fn render<V: Serialize>(
        &self,
        name: &str,
        view: &V,
        write: fn(&V, &mut String),
    ) -> Result<String, TemplateError> {
        if !self.registry.has_template(name) {
            let mut out = String::new();
            write(view, &mut out);
            return Ok(out);
        }
        self.registry
            .render(name, view)
            .map_err(|error| TemplateError::Render {
                name: name.to_string(),
                message: error.to_string(),
            })
    }
}

/// A helper that prints its first parameter through `escape`; the optional second parameter
/// is an indentation width for block output.
fn escaping_helper(escape: fn(&Json, Option<usize>) -> String) -> Box<dyn HelperDef + Send + Sync> {
    Box::new(
        move |helper: &Helper,
              _: &Handlebars,
              _: &Context,
              _: &mut RenderContext,
              out: &mut dyn Output|
              -> HelperResult {
            let value = helper
                .param(0)
                .map(|param| param.value())
                .ok_or_else(|| RenderErrorReason::ParamNotFoundForIndex("helper", 0))?;
            let indent = helper
                .param(1)
                .and_then(|param| param.value().as_u64())
                .map(|width| width as usize);
            out.write(&escape(value, indent))?;
            Ok(())
        },
    )
}

fn as_text(value: &Json) -> String {
    value
        .as_str()
        .map_or_else(|| value.to_string(), str::to_string)
}

/// `{{yaml value}}` prints a scalar or intrinsic inline; `{{yaml value N}}` prints a block at
/// N spaces (the template puts it on its own line).
fn yaml_text(value: &Json, indent: Option<usize>) -> String {
    match (indent, value) {
        (Some(indent), _) => yaml::block(value, indent),
        // Inline after `key: `, a multi-line string cannot open a block scalar at column 0.
        (None, Json::String(text)) => yaml_str(text),
        (None, _) => yaml::inline(value).unwrap_or_else(|| yaml::block(value, 0)),
    }
}

/// What `{{yaml text}}` prints for a string.
fn yaml_str(text: &str) -> String {
    if text.contains('\n') {
        yaml::quoted(text)
    } else {
        yaml::scalar(text)
    }
}

/// Whether `{{#if value}}` takes its block, as handlebars decides.
fn truthy(value: &Json) -> bool {
    match value {
        Json::Null => false,
        Json::Bool(flag) => *flag,
        Json::Number(number) => number.as_f64().is_some_and(f64::is_normal),
        Json::String(text) => !text.is_empty(),
        Json::Array(items) => !items.is_empty(),
        Json::Object(map) => !map.is_empty(),
    }
}

/// An optional text as `{{#if text}}` sees it: present and not empty.
fn filled(text: &Option<String>) -> Option<&str> {
    text.as_deref().filter(|text| !text.is_empty())
}

/// `{{hcl value N}}`: an HCL expression whose nested lines are indented from N spaces.
fn hcl_text(value: &Json, indent: Option<usize>) -> String {
    hcl::value(value, indent.unwrap_or(0))
}

/// `{{shell value}}`: a single-quoted POSIX shell word.
fn shell_text(value: &Json, _: Option<usize>) -> String {
    shell_quote(&as_text(value))
}

pub fn shell_quote(text: &str) -> String {
    if !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_./:=@+,-".contains(c))
    {
        return text.to_string();
    }
    format!("'{}'", text.replace('\'', "'\\''"))
}

/// `{{mermaid value}}`: text inside a quoted Mermaid label.
fn mermaid_text(value: &Json, _: Option<usize>) -> String {
    mermaid(&as_text(value))
}

fn mermaid(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '"' => escaped.push_str("#quot;"),
            '<' => escaped.push_str("#lt;"),
            '>' => escaped.push_str("#gt;"),
            '#' => escaped.push_str("#35;"),
            '\n' | '\r' => escaped.push(' '),
            c => escaped.push(c),
        }
    }
    escaped
}

/// `{{md value}}`: text inside a Markdown table cell or list item.
fn markdown_text(value: &Json, _: Option<usize>) -> String {
    markdown(&as_text(value))
}

fn markdown(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    write_markdown(text, &mut escaped);
    escaped
}

fn write_markdown(text: &str, out: &mut String) {
    for c in text.chars() {
        match c {
            '|' | '*' | '_' | '`' | '[' | ']' | '<' | '>' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            '\n' | '\r' => out.push(' '),
            c => out.push(c),
        }
    }
}

#[derive(Clone, Copy, Debug)]
pub struct Options {
    pub target: Target,
    pub format: Format,
}

/// Every output file, by path relative to the output directory. The Terraform rendering
/// shares nothing with the others but their input, so a large one runs beside them.
pub fn render_all(
    templates: &Templates,
    lowered: &Lowered,
    steps: &[Step],
    options: Options,
) -> Result<BTreeMap<PathBuf, String>, TemplateError> {
    let ((cloudformation, access), terraform) = side_by_side(
        lowered.scenario.grants.len() >= SIDE_BY_SIDE_GRANTS,
        || {
            let cloudformation = options
                .target
                .cloudformation()
                .then(|| cloudformation::render(templates, lowered, steps, options.format));
            (cloudformation, access::render(templates, lowered, steps))
        },
        || {
            options
                .target
                .terraform()
                .then(|| terraform::render(templates, lowered, steps))
        },
    );
    let mut files = BTreeMap::new();
    for rendered in [cloudformation, terraform].into_iter().flatten() {
        files.extend(rendered?);
    }
    files.insert(PathBuf::from("ACCESS.md"), access?);
    Ok(files)
}

/// A tag list as the view structs carry it.
#[derive(Clone, Debug, Serialize)]
pub struct TagView {
    pub key: String,
    pub value: String,
}

pub fn tag_views(tags: &BTreeMap<String, String>) -> Vec<TagView> {
    tags.iter()
        .map(|(key, value)| TagView {
            key: key.clone(),
            value: value.clone(),
        })
        .collect()
}

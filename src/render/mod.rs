//! Rendering: typed, serializable views of the lowered units fed to handlebars templates.
//! Templates are plain files under `templates/` (repeated blocks as partials under
//! `templates/partials/`), embedded in the binary and overridable from a directory; they are
//! the only source of the output text. Strict mode is on (a misspelled field fails) and HTML
//! escaping is off; values are escaped per target format by the helpers registered here, in
//! one place.

/// Appends formatted text to a `String` (which cannot fail): the value emitters.
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
use std::sync::OnceLock;

/// An embedded template or partial: its name, as templates call it, and its text.
pub struct Embedded {
    pub name: &'static str,
    pub text: &'static str,
    pub partial: bool,
}

impl Embedded {
    /// Where the file lives below `templates/`, and below an override directory.
    pub fn path(&self) -> String {
        if self.partial {
            format!("partials/{}.hbs", self.name)
        } else {
            format!("{}.hbs", self.name)
        }
    }

    fn family(&self) -> Family {
        Family::of(self.name)
    }
}

macro_rules! embedded {
    (template $name:literal) => {
        Embedded {
            name: $name,
            text: include_str!(concat!("../../templates/", $name, ".hbs")),
            partial: false,
        }
    };
    (partial $name:literal) => {
        Embedded {
            name: $name,
            text: include_str!(concat!("../../templates/partials/", $name, ".hbs")),
            partial: true,
        }
    };
}

/// Every template and partial, registered in this one place.
pub const TEMPLATES: &[Embedded] = &[
    embedded!(template "cloudformation/stack.yaml"),
    embedded!(template "cloudformation/deploy.sh"),
    embedded!(template "cloudformation/destroy.sh"),
    embedded!(partial "cloudformation/parameter"),
    embedded!(partial "cloudformation/key"),
    embedded!(partial "cloudformation/bucket"),
    embedded!(partial "cloudformation/bucket-settings"),
    embedded!(partial "cloudformation/role"),
    embedded!(partial "cloudformation/role-policy"),
    embedded!(partial "cloudformation/instance"),
    embedded!(partial "cloudformation/output"),
    embedded!(partial "cloudformation/tags"),
    embedded!(partial "cloudformation/tag-items"),
    embedded!(partial "cloudformation/skips"),
    embedded!(partial "cloudformation/deploy-functions"),
    embedded!(partial "cloudformation/account-check"),
    embedded!(partial "cloudformation/deploy-step"),
    embedded!(partial "cloudformation/bucket-policy"),
    embedded!(partial "cloudformation/access-point"),
    embedded!(template "policy.json"),
    embedded!(template "terraform/module/main.tf"),
    embedded!(template "terraform/module/variables.tf"),
    embedded!(template "terraform/module/outputs.tf"),
    embedded!(template "terraform/versions.tf"),
    embedded!(template "terraform/main.tf"),
    embedded!(template "terraform/account/main.tf"),
    embedded!(template "terraform/account/variables.tf"),
    embedded!(template "terraform/account/backend.tf"),
    embedded!(template "terraform/apply.sh"),
    embedded!(partial "terraform/block"),
    embedded!(partial "terraform/key"),
    embedded!(partial "terraform/bucket"),
    embedded!(partial "terraform/bucket-settings"),
    embedded!(partial "terraform/role"),
    embedded!(partial "terraform/role-policy"),
    embedded!(partial "terraform/managed-policy"),
    embedded!(partial "terraform/instance"),
    embedded!(partial "terraform/existing-policy"),
    embedded!(partial "terraform/access-point"),
    embedded!(partial "terraform/checkov-skips"),
    embedded!(template "ACCESS.md"),
    embedded!(partial "access/step-row"),
    embedded!(partial "access/grant-row"),
    embedded!(template "diff/report.txt"),
    embedded!(template "diff/report.md"),
    embedded!(template "diff/sarif-result.txt"),
    embedded!(template "diff/sarif-rule.txt"),
    embedded!(partial "diff/document"),
];

/// What an output of an access point says it is.
fn access_point_output(what: &str, account: &str, bucket_name: &str) -> String {
    format!("{what} of the access point of account {account} on bucket {bucket_name}")
}

/// The templates that render together: each family compiles on its first use, so a run pays
/// only for the families its target renders.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Family {
    CloudFormation,
    Terraform,
    Access,
    /// `crossgrant diff`'s reports: compiled only when a diff is rendered.
    Diff,
}

impl Family {
    fn of(name: &str) -> Family {
        match name.split('/').next() {
            Some("cloudformation") => Family::CloudFormation,
            Some("terraform") => Family::Terraform,
            Some("diff") => Family::Diff,
            _ => Family::Access,
        }
    }

    fn index(self) -> usize {
        self as usize
    }

    fn rendered_for(self, target: Target) -> bool {
        match self {
            Family::CloudFormation => target.cloudformation(),
            Family::Terraform => target.terraform(),
            Family::Access => true,
            Family::Diff => false,
        }
    }
}

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
    /// The override directory does not exist or is not a directory.
    NoDirectory {
        path: PathBuf,
        error: Option<std::io::Error>,
    },
    /// A file in the override directory names no template: a typo would otherwise be
    /// silently ignored.
    Unknown { path: PathBuf },
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
            TemplateError::NoDirectory { path, error } => {
                write!(f, "template directory {} ", path.display())?;
                match error {
                    Some(error) => write!(f, "cannot be read: {error}"),
                    None => write!(f, "is not a directory"),
                }
            }
            TemplateError::Unknown { path } => write!(
                f,
                "{} names no template; a template directory holds files named like those under \
                 templates/ (for example cloudformation/stack.yaml.hbs or \
                 partials/terraform/bucket.hbs)",
                path.display()
            ),
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

/// The templates of a run: the embedded ones, each replaced by its file in the override
/// directory where there is one. Compiling a template costs time that grows with the square
/// of its length, which is why the templates are split into small partials and why each
/// family compiles only when something of it is rendered.
pub struct Templates {
    /// The override text of each template that has one, by name.
    overrides: BTreeMap<&'static str, String>,
    families: [OnceLock<Result<Handlebars<'static>, (String, String)>>; 4],
}

impl Templates {
    /// The embedded templates, each replaced by `<dir>/<path>` where that file exists. Every
    /// file in the directory must be one of the templates' paths.
    pub fn load(overrides: Option<&Path>) -> Result<Self, TemplateError> {
        let overrides = match overrides {
            Some(dir) => read_overrides(dir)?,
            None => BTreeMap::new(),
        };
        Ok(Templates {
            overrides,
            families: Default::default(),
        })
    }

    /// Whether any template was read from the override directory.
    pub fn overridden(&self) -> bool {
        !self.overrides.is_empty()
    }

    /// The handlebars registry of one family, compiled on first use.
    fn registry(&self, family: Family) -> Result<&Handlebars<'static>, TemplateError> {
        self.families[family.index()]
            .get_or_init(|| self.compile(family))
            .as_ref()
            .map_err(|(name, message)| TemplateError::Syntax {
                name: name.clone(),
                message: message.clone(),
            })
    }

    fn compile(&self, family: Family) -> Result<Handlebars<'static>, (String, String)> {
        let mut registry = Handlebars::new();
        registry.set_strict_mode(true);
        registry.register_escape_fn(handlebars::no_escape);
        registry.register_helper("yaml", escaping_helper(yaml_text));
        registry.register_helper("hcl", escaping_helper(hcl_text));
        registry.register_helper("shell", escaping_helper(shell_text));
        registry.register_helper("mermaid", escaping_helper(mermaid_text));
        registry.register_helper("md", escaping_helper(markdown_text));
        registry.register_helper("json", escaping_helper(json_text));
        for embedded in TEMPLATES
            .iter()
            .filter(|embedded| embedded.family() == family)
        {
            let text = self
                .overrides
                .get(embedded.name)
                .map_or(embedded.text, String::as_str);
            let template = Template::compile_with_name(text, embedded.name.to_string())
                .map_err(|error| (embedded.path(), error.to_string()))?;
            // handlebars looks a partial up among the templates.
            registry.register_template(embedded.name, template);
        }
        Ok(registry)
    }

    /// Template `name` applied to `view`.
    pub fn render<V: Serialize>(&self, name: &str, view: &V) -> Result<String, TemplateError> {
        self.registry(Family::of(name))?
            .render(name, view)
            .map_err(|error| TemplateError::Render {
                name: name.to_string(),
                message: error.to_string(),
            })
    }

    /// Compiles every family that `target` renders and no render has asked for yet, in the
    /// reverse of the order `render_all` uses them. Run on a thread of its own beside the
    /// loading of the scenario, it takes compiling off the path of a small run; a family it
    /// is still compiling when a render needs it is waited for, not compiled twice.
    pub fn compile_ahead(&self, target: Target) {
        for family in [Family::Terraform, Family::Access, Family::CloudFormation] {
            if family.rendered_for(target) {
                let _ = self.registry(family);
            }
        }
    }
}

/// The override files of `dir`, by template name; any other file is an error.
fn read_overrides(dir: &Path) -> Result<BTreeMap<&'static str, String>, TemplateError> {
    let no_directory = |error| TemplateError::NoDirectory {
        path: dir.to_path_buf(),
        error,
    };
    match std::fs::metadata(dir) {
        Ok(metadata) if metadata.is_dir() => {}
        Ok(_) => return Err(no_directory(None)),
        Err(error) => return Err(no_directory(Some(error))),
    }
    let by_path: BTreeMap<String, &Embedded> = TEMPLATES
        .iter()
        .map(|embedded| (embedded.path(), embedded))
        .collect();
    let mut overrides = BTreeMap::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(current) = pending.pop() {
        let entries = std::fs::read_dir(&current).map_err(|error| TemplateError::Read {
            path: current.clone(),
            error,
        })?;
        for entry in entries {
            let entry = entry.map_err(|error| TemplateError::Read {
                path: current.clone(),
                error,
            })?;
            let path = entry.path();
            // Editors and file managers leave dot-files beside what they edit.
            if entry.file_name().to_string_lossy().starts_with('.') {
                continue;
            }
            if path.is_dir() {
                pending.push(path);
                continue;
            }
            let relative = path
                .strip_prefix(dir)
                .unwrap_or(&path)
                .components()
                .map(|part| part.as_os_str().to_string_lossy())
                .collect::<Vec<_>>()
                .join("/");
            let Some(embedded) = by_path.get(&relative) else {
                return Err(TemplateError::Unknown { path });
            };
            let text = std::fs::read_to_string(&path)
                .map_err(|error| TemplateError::Read { path, error })?;
            overrides.insert(embedded.name, text);
        }
    }
    Ok(overrides)
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

/// `{{hcl value N}}`: an HCL expression whose nested lines are indented from N spaces.
fn hcl_text(value: &Json, indent: Option<usize>) -> String {
    hcl::value(value, indent.unwrap_or(0))
}

/// `{{json value}}`: the value as pretty-printed JSON.
fn json_text(value: &Json, _: Option<usize>) -> String {
    serde_json::to_string_pretty(value).unwrap_or_default()
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
    for c in text.chars() {
        match c {
            '|' | '*' | '_' | '`' | '[' | ']' | '<' | '>' | '\\' => {
                escaped.push('\\');
                escaped.push(c);
            }
            '\n' | '\r' => escaped.push(' '),
            c => escaped.push(c),
        }
    }
    escaped
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
    render_all_with(templates, lowered, steps, options, &Default::default())
}

/// [`render_all`], taking the stacks rendered already to be measured from `rendered`.
pub fn render_all_with(
    templates: &Templates,
    lowered: &Lowered,
    steps: &[Step],
    options: Options,
    rendered: &cloudformation::RenderedStacks,
) -> Result<BTreeMap<PathBuf, String>, TemplateError> {
    let ((cloudformation, access), terraform) = side_by_side(
        lowered.scenario.grants.len() >= SIDE_BY_SIDE_GRANTS,
        || {
            let cloudformation = options.target.cloudformation().then(|| {
                cloudformation::render(templates, lowered, steps, options.format, rendered)
            });
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
    files.extend(permission_set_policies(templates, lowered)?);
    Ok(files)
}

/// The access policy of each Identity Center permission set, to be given to the set (no one
/// can attach a policy to the roles Identity Center makes): `identity-center/<set>.json`. A
/// key ARN that exists only once deployed is written as `${KEY_ARN_<KEY>}`, the variable
/// `deploy.sh` keeps it in, for `envsubst`.
pub fn permission_set_policies(
    templates: &Templates,
    lowered: &Lowered,
) -> Result<BTreeMap<PathBuf, String>, TemplateError> {
    let scenario = &lowered.scenario;
    let mut files = BTreeMap::new();
    for role in scenario.roles.values() {
        let (Some(set), Some(policy)) =
            (&role.permission_set, lowered.role_policies.get(&role.name))
        else {
            continue;
        };
        let document = policy.to_typed_json(&|reference| {
            Json::String(crate::lower::known(scenario, reference).unwrap_or_else(
                || match reference {
                    crate::policy::Ref::KeyArn(key) => {
                        format!("${{{}}}", crate::names::key_variable(key))
                    }
                    other => format!("${{{other}}}"),
                },
            ))
        });
        files.insert(
            permission_set_file(set),
            templates.render("policy.json", &serde_json::json!({ "document": document }))?,
        );
    }
    Ok(files)
}

/// Where the access policy of a permission set is written.
pub fn permission_set_file(set: &str) -> PathBuf {
    PathBuf::from(format!("identity-center/{set}.json"))
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

//! `crossgrant diff`: who gains and who loses access between two scenarios, or between a
//! scenario and its version at a git revision (read with the `git` command, together with
//! every `policy_file` it names, at that revision). Prints the changed decisions grouped by
//! principal and bucket, then the policy documents and output files whose text changes; exits
//! 1 when `--fail-on` says the changes are a finding.

use super::load_named;
use crate::error::{report, reported, Error, Status};
use crate::eval::check::Outcome;
use crate::eval::diff::{compare, size_changes, AccessChange, Comparison, DocumentId, SizeChange};
use crate::eval::probe::CallerKind;
use crate::limits::thousands;
use crate::lower::Lowered;
use crate::render::{render_all, Format, Options, Target, Templates};
use crate::scenario::schema::RawScenario;
use serde::Serialize;
use serde_json::{json, Value as Json};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Component, Path, PathBuf};
use std::process::Command;

/// The version of the JSON report's shape; it changes only when a field changes meaning or
/// goes away.
pub const JSON_VERSION: u32 = 1;
const SARIF_SCHEMA: &str =
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json";
const SARIF_RULE: &str = "access-gained";

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum DiffFormat {
    Human,
    /// A pull-request comment: a summary line and tables of gained and lost access.
    Markdown,
    Json,
    /// SARIF 2.1.0: one result per gained access, at the grant in the head scenario.
    Sarif,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum FailOn {
    /// Exit 1 when any access is gained.
    Broadening,
    /// Exit 1 when any access is gained or lost.
    Any,
}

#[derive(Debug, clap::Args)]
pub struct DiffArgs {
    /// The base scenario file (TOML); with --git, the scenario file, which is the head.
    #[arg(value_name = "BASE")]
    pub base: PathBuf,
    /// The head scenario file (TOML); not given with --git.
    #[arg(
        value_name = "HEAD",
        required_unless_present = "git",
        conflicts_with = "git"
    )]
    pub head: Option<PathBuf>,
    /// Compare the scenario file with its version at this git revision (the base), with every
    /// policy_file it names read at the same revision.
    #[arg(long, value_name = "REV")]
    pub git: Option<String>,
    /// How to print the changes.
    #[arg(long, value_enum, default_value = "human")]
    pub format: DiffFormat,
    /// Exit 1 when access is gained (broadening), or gained or lost (any). A change of
    /// policy text that changes no decision never fails.
    #[arg(long, value_enum, value_name = "WHAT")]
    pub fail_on: Option<FailOn>,
}

/// Why the base could not be read from git.
#[derive(Debug)]
pub enum DiffError {
    /// The `git` command could not be run.
    GitUnavailable {
        error: std::io::Error,
    },
    /// The scenario's directory is not in a git work tree.
    NotARepository {
        path: String,
        message: String,
    },
    UnknownRevision {
        rev: String,
    },
    /// The file does not exist at the revision.
    NotAtRevision {
        rev: String,
        path: String,
        scenario: Option<String>,
    },
    /// The temporary copy of the revision's files could not be written.
    Temporary {
        error: std::io::Error,
    },
}

impl std::fmt::Display for DiffError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DiffError::GitUnavailable { error } => write!(
                f,
                "cannot run git: {error}\n--git needs the git command on the PATH; without it, check out the base scenario yourself and run `crossgrant diff BASE HEAD`"
            ),
            DiffError::NotARepository { path, message } => write!(
                f,
                "{path} is not in a git work tree ({message})\n--git reads the base from the repository that holds the scenario; outside one, give both files: `crossgrant diff BASE HEAD`"
            ),
            DiffError::UnknownRevision { rev } => write!(
                f,
                "git revision `{rev}` does not exist\nname a commit, branch or tag of the repository (for a remote branch, fetch it first: `git fetch origin main` for origin/main)"
            ),
            DiffError::NotAtRevision {
                rev,
                path,
                scenario: None,
            } => write!(
                f,
                "{path} does not exist at git revision `{rev}`\nname a revision that has the scenario, or give both files: `crossgrant diff BASE HEAD`"
            ),
            DiffError::NotAtRevision {
                rev,
                path,
                scenario: Some(scenario),
            } => write!(
                f,
                "{path}, the policy_file of {scenario} at git revision `{rev}`, does not exist at that revision\ncommit the file with the scenario, or compare against a revision that has it"
            ),
            DiffError::Temporary { error } => {
                write!(f, "cannot write the base scenario to a temporary directory: {error}")
            }
        }
    }
}

impl From<DiffError> for Error {
    fn from(error: DiffError) -> Self {
        Error::Diff(error)
    }
}

/// One side of the comparison, as loaded.
struct Loaded {
    /// How the report names the file (`REV:path` for a file read from git).
    display: String,
    lowered: Lowered,
    /// Every output file `synth` writes, by its path below the output directory.
    files: BTreeMap<String, String>,
}

pub fn run(
    args: &DiffArgs,
    stdout: &mut dyn Write,
    stderr: &mut dyn Write,
) -> Result<Status, Error> {
    let templates = Templates::load(None)?;
    let (base, head, head_uri) = match (&args.git, &args.head) {
        (Some(rev), _) => {
            let head = load(&templates, &args.base, None, stderr)?;
            let checkout = checkout(rev, &args.base)?;
            let base = load(
                &templates,
                &checkout.scenario,
                Some(&checkout.display),
                stderr,
            )?;
            (base, head, uri(&checkout.repository_path))
        }
        (None, Some(head_path)) => {
            let base = load(&templates, &args.base, None, stderr)?;
            let head = load(&templates, head_path, None, stderr)?;
            (base, head, uri(&head_path.display().to_string()))
        }
        (None, None) => unreachable!("clap requires HEAD without --git"),
    };
    let comparison = compare(&base.lowered, &head.lowered);
    fn sized(files: &BTreeMap<String, String>) -> BTreeMap<String, (&String, usize)> {
        files
            .iter()
            .map(|(path, text)| (path.clone(), (text, text.len())))
            .collect()
    }
    let files = size_changes(sized(&base.files), sized(&head.files));
    let diff = Diff {
        base: &base,
        head: &head,
        comparison: &comparison,
        files: &files,
    };
    match args.format {
        DiffFormat::Human => report(stdout, &templates.render("diff/report.txt", &diff.view())?)?,
        DiffFormat::Markdown => report(stdout, &templates.render("diff/report.md", &diff.view())?)?,
        DiffFormat::Json => write_json(stdout, &diff.json())?,
        DiffFormat::Sarif => {
            let spans = grant_locations(args.head.as_deref().unwrap_or(&args.base));
            write_json(stdout, &diff.sarif(&templates, &head_uri, &spans)?)?
        }
    }
    let gained = comparison.gained().next().is_some();
    let lost = comparison.lost().next().is_some();
    Ok(Status::finding_if(match args.fail_on {
        None => false,
        Some(FailOn::Broadening) => gained,
        Some(FailOn::Any) => gained || lost,
    }))
}

/// Loads and lowers a scenario (named `display` in diagnostics and reports, or by its path),
/// and renders every output file it makes.
fn load(
    templates: &Templates,
    path: &Path,
    display: Option<&str>,
    stderr: &mut dyn Write,
) -> Result<Loaded, Error> {
    let display = display.map_or_else(|| path.display().to_string(), String::from);
    let lowered = load_named(path, &display, stderr)?;
    let steps = crate::plan::plan(&lowered).map_err(Error::Cycle)?;
    let options = Options {
        target: Target::All,
        format: Format::Yaml,
    };
    let files = render_all(templates, &lowered, &steps, options)?
        .into_iter()
        .map(|(path, text)| (slashed(&path), text))
        .collect();
    Ok(Loaded {
        display,
        lowered,
        files,
    })
}

fn slashed(path: &Path) -> String {
    path.components()
        .map(|part| part.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/")
}

fn write_json(stdout: &mut dyn Write, document: &Json) -> Result<(), Error> {
    reported(
        serde_json::to_writer_pretty(&mut *stdout, document)
            .map_err(std::io::Error::from)
            .and_then(|()| writeln!(stdout)),
    )
}

// ---------------------------------------------------------------------------------------------
// The base from git

/// The base scenario and its policy files, checked out into a temporary directory that is
/// removed when this is dropped.
struct Checkout {
    _dir: TemporaryDirectory,
    scenario: PathBuf,
    /// `REV:path/in/repository`, as diagnostics and reports name it.
    display: String,
    /// The scenario's path from the repository's top.
    repository_path: String,
}

struct TemporaryDirectory(PathBuf);

impl TemporaryDirectory {
    fn new() -> std::io::Result<Self> {
        let base = std::env::temp_dir();
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |elapsed| elapsed.subsec_nanos());
        for attempt in 0u32.. {
            let dir = base.join(format!(
                "crossgrant-diff-{}-{nanos}-{attempt}",
                std::process::id()
            ));
            match std::fs::create_dir(&dir) {
                Ok(()) => return Ok(TemporaryDirectory(dir)),
                Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => continue,
                Err(error) => return Err(error),
            }
        }
        unreachable!("some attempt finds a free name")
    }
}

impl Drop for TemporaryDirectory {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Runs git in `dir`; the output on success, git's message on failure.
fn git(dir: &Path, args: &[&str]) -> Result<Result<Vec<u8>, String>, DiffError> {
    let output = Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_TERMINAL_PROMPT", "0")
        .output()
        .map_err(|error| DiffError::GitUnavailable { error })?;
    Ok(if output.status.success() {
        Ok(output.stdout)
    } else {
        Err(String::from_utf8_lossy(&output.stderr).trim().to_string())
    })
}

/// Writes `scenario` as of `rev`, and every policy file it names as of `rev`, into a
/// temporary directory laid out like the repository, so that relative paths resolve.
fn checkout(rev: &str, scenario: &Path) -> Result<Checkout, Error> {
    let dir = scenario
        .parent()
        .filter(|parent| !parent.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let shown = scenario.display().to_string();
    let prefix = git(dir, &["rev-parse", "--show-prefix"])?.map_err(|message| {
        DiffError::NotARepository {
            path: shown.clone(),
            message,
        }
    })?;
    let prefix = String::from_utf8_lossy(&prefix).trim().to_string();
    // A revision that starts with `-` would be read as an option.
    let commit = if rev.starts_with('-') {
        None
    } else {
        git(
            dir,
            &[
                "rev-parse",
                "--verify",
                "--quiet",
                &format!("{rev}^{{commit}}"),
            ],
        )?
        .ok()
    };
    let commit = commit
        .map(|out| String::from_utf8_lossy(&out).trim().to_string())
        .ok_or_else(|| DiffError::UnknownRevision {
            rev: rev.to_string(),
        })?;
    let file_name = scenario
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_default();
    let repository_path = format!("{prefix}{file_name}");
    let read = |path: &str| -> Result<Option<Vec<u8>>, DiffError> {
        Ok(git(dir, &["cat-file", "blob", &format!("{commit}:{path}")])?.ok())
    };
    let source = read(&repository_path)?.ok_or_else(|| DiffError::NotAtRevision {
        rev: rev.to_string(),
        path: repository_path.clone(),
        scenario: None,
    })?;
    let display = format!("{rev}:{repository_path}");
    let temporary = TemporaryDirectory::new().map_err(|error| DiffError::Temporary { error })?;
    let write = |path: &str, bytes: &[u8]| -> Result<PathBuf, DiffError> {
        let target = temporary.0.join(path);
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent).map_err(|error| DiffError::Temporary { error })?;
        }
        std::fs::write(&target, bytes).map_err(|error| DiffError::Temporary { error })?;
        Ok(target)
    };
    let target = write(&repository_path, &source)?;
    // An unparsable scenario names no files; loading it reports what is wrong.
    let raw = std::str::from_utf8(&source)
        .ok()
        .and_then(|text| crate::scenario::schema::parse(text).ok());
    for named in raw.iter().flat_map(policy_files) {
        let Some(path) = inside_repository(&prefix, &named) else {
            continue;
        };
        let bytes = read(&path)?.ok_or_else(|| DiffError::NotAtRevision {
            rev: rev.to_string(),
            path: named.clone(),
            scenario: Some(repository_path.clone()),
        })?;
        write(&path, &bytes)?;
    }
    Ok(Checkout {
        _dir: temporary,
        scenario: target,
        display,
        repository_path,
    })
}

/// Every `policy_file` a scenario names, as written.
fn policy_files(raw: &RawScenario) -> Vec<String> {
    let keys = raw.keys.values().filter_map(|key| key.policy_file.as_ref());
    let buckets = raw
        .buckets
        .values()
        .filter_map(|bucket| bucket.policy_file.as_ref());
    keys.chain(buckets)
        .map(|file| file.get_ref().clone())
        .collect()
}

/// A path relative to the scenario's directory (`prefix`, from the repository's top) as a path
/// from the repository's top; none for an absolute path or one that leaves the repository,
/// which are read from the file system as they are.
fn inside_repository(prefix: &str, relative: &str) -> Option<String> {
    let mut parts: Vec<String> = prefix
        .split('/')
        .filter(|part| !part.is_empty())
        .map(String::from)
        .collect();
    for component in Path::new(relative).components() {
        match component {
            Component::Normal(part) => parts.push(part.to_string_lossy().into_owned()),
            Component::CurDir => {}
            Component::ParentDir => {
                parts.pop()?;
            }
            Component::RootDir | Component::Prefix(_) => return None,
        }
    }
    Some(parts.join("/"))
}

/// A path as a SARIF artifact URI: relative paths stay relative (to the repository's top, or
/// the working directory), absolute ones become `file://` URIs.
fn uri(path: &str) -> String {
    let mut encoded = String::new();
    for byte in path.replace('\\', "/").bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'/' => {
                encoded.push(char::from(byte))
            }
            _ => encoded.push_str(&format!("%{byte:02X}")),
        }
    }
    if encoded.starts_with('/') {
        format!("file://{encoded}")
    } else {
        encoded
    }
}

// ---------------------------------------------------------------------------------------------
// Reports

struct Diff<'a> {
    base: &'a Loaded,
    head: &'a Loaded,
    comparison: &'a Comparison,
    files: &'a [SizeChange<String>],
}

#[derive(Serialize)]
struct ReportView {
    base: SideView,
    head: SideView,
    access_changed: bool,
    gained_count: usize,
    lost_count: usize,
    gained: Vec<GroupView>,
    lost: Vec<GroupView>,
    documents: Vec<SizeView>,
    files: Vec<SizeView>,
    document_count: usize,
    file_count: usize,
    text_changed: bool,
}

#[derive(Serialize)]
struct SideView {
    path: String,
    scenario: String,
}

/// The changes of one principal on one bucket.
#[derive(Serialize)]
struct GroupView {
    principal: String,
    /// Empty for an anonymous caller.
    arn: String,
    bucket: String,
    rows: Vec<RowView>,
}

#[derive(Serialize)]
struct RowView {
    principal: String,
    bucket: String,
    operation: String,
    target: String,
}

#[derive(Serialize)]
struct SizeView {
    /// `bucket-policy`, `key-policy`, `access-policy`, `trust-policy`; empty for a file.
    document_kind: String,
    /// The bucket, key or role a document belongs to, or a file's path.
    name: String,
    added: bool,
    removed: bool,
    base: String,
    head: String,
    /// `+80`, `-12`, `±0`.
    delta: String,
}

/// `GetObject`, or `GetObject over plain HTTP`.
fn operation_label(change: &AccessChange) -> String {
    change
        .key
        .route
        .label(change.key.transport.label(change.key.operation.name()))
}

fn outcome_word(outcome: Outcome) -> &'static str {
    match outcome {
        Outcome::Allowed => "allowed",
        Outcome::Denied => "denied",
        Outcome::Error => "error",
    }
}

fn kebab<T: Serialize>(value: &T) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|value| value.as_str().map(String::from))
        .unwrap_or_default()
}

fn groups<'a>(changes: impl Iterator<Item = &'a AccessChange>) -> Vec<GroupView> {
    let mut groups: Vec<(&CallerKind, &str, GroupView)> = Vec::new();
    for change in changes {
        let row = RowView {
            principal: change.key.caller.to_string(),
            bucket: change.key.bucket.clone(),
            operation: operation_label(change),
            target: change.key.operation.target(),
        };
        match groups.last_mut() {
            Some((caller, bucket, group))
                if **caller == change.key.caller && *bucket == change.key.bucket =>
            {
                // An operation that changes alike on several targets takes one row.
                match group.rows.last_mut() {
                    Some(last) if last.operation == row.operation => {
                        last.target.push_str(", ");
                        last.target.push_str(&row.target);
                    }
                    _ => group.rows.push(row),
                }
            }
            _ => groups.push((
                &change.key.caller,
                &change.key.bucket,
                GroupView {
                    principal: change.key.caller.to_string(),
                    arn: change.caller_arn.clone().unwrap_or_default(),
                    bucket: change.key.bucket.clone(),
                    rows: vec![row],
                },
            )),
        }
    }
    groups.into_iter().map(|(_, _, group)| group).collect()
}

fn size_view(document_kind: String, name: String, change: &SizeChange<impl Clone>) -> SizeView {
    let shown = |size: Option<usize>| size.map(thousands).unwrap_or_default();
    let delta = match (change.base, change.head) {
        (Some(base), Some(head)) if head > base => format!("+{}", thousands(head - base)),
        (Some(base), Some(head)) if head < base => format!("-{}", thousands(base - head)),
        (Some(_), Some(_)) => "±0".to_string(),
        (None, Some(head)) => format!("+{}", thousands(head)),
        (Some(base), None) => format!("-{}", thousands(base)),
        (None, None) => String::new(),
    };
    SizeView {
        document_kind,
        name,
        added: change.base.is_none(),
        removed: change.head.is_none(),
        base: shown(change.base),
        head: shown(change.head),
        delta,
    }
}

/// A document's or file's JSON entry: `entry` with the change and the sizes.
fn sizes<K: Clone>(change: &SizeChange<K>, mut entry: serde_json::Map<String, Json>) -> Json {
    entry.insert("change".into(), json!(change_word(change)));
    entry.insert("base_size".into(), json!(change.base));
    entry.insert("head_size".into(), json!(change.head));
    Json::Object(entry)
}

fn change_word(change: &SizeChange<impl Clone>) -> &'static str {
    match (change.base, change.head) {
        (None, _) => "added",
        (_, None) => "removed",
        _ => "changed",
    }
}

impl Diff<'_> {
    fn side(loaded: &Loaded) -> SideView {
        SideView {
            path: loaded.display.clone(),
            scenario: loaded.lowered.scenario.name.clone(),
        }
    }

    fn view(&self) -> ReportView {
        let documents: Vec<SizeView> = self
            .comparison
            .documents
            .iter()
            .map(|change| size_view(kebab(&change.id.kind), change.id.name.clone(), change))
            .collect();
        let files: Vec<SizeView> = self
            .files
            .iter()
            .map(|change| size_view(String::new(), change.id.clone(), change))
            .collect();
        let gained_count = self.comparison.gained().count();
        let lost_count = self.comparison.lost().count();
        ReportView {
            base: Self::side(self.base),
            head: Self::side(self.head),
            access_changed: gained_count + lost_count > 0,
            gained_count,
            lost_count,
            gained: groups(self.comparison.gained()),
            lost: groups(self.comparison.lost()),
            document_count: documents.len(),
            file_count: files.len(),
            text_changed: !documents.is_empty() || !files.is_empty(),
            documents,
            files,
        }
    }

    fn json(&self) -> Json {
        let access = |changes: Vec<&AccessChange>| -> Vec<Json> {
            changes
                .into_iter()
                .map(|change| {
                    json!({
                        "principal": change.key.caller.to_string(),
                        "caller": change.key.caller,
                        "caller_arn": change.caller_arn,
                        "bucket": change.key.bucket,
                        "operation": change.key.operation.name(),
                        "target": change.key.operation.target(),
                        "transport": change.key.transport,
                        "base": outcome_word(change.base),
                        "head": outcome_word(change.head),
                    })
                })
                .collect()
        };
        let documents: Vec<Json> = self
            .comparison
            .documents
            .iter()
            .map(|change: &SizeChange<DocumentId>| {
                let mut entry = serde_json::Map::new();
                entry.insert("kind".into(), json!(change.id.kind));
                entry.insert("name".into(), json!(change.id.name));
                sizes(change, entry)
            })
            .collect();
        let files: Vec<Json> = self
            .files
            .iter()
            .map(|change| {
                let mut entry = serde_json::Map::new();
                entry.insert("path".into(), json!(change.id));
                sizes(change, entry)
            })
            .collect();
        let gained: Vec<&AccessChange> = self.comparison.gained().collect();
        let lost: Vec<&AccessChange> = self.comparison.lost().collect();
        json!({
            "version": JSON_VERSION,
            "base": Self::side(self.base),
            "head": Self::side(self.head),
            "access_changed": !gained.is_empty() || !lost.is_empty(),
            "gained": access(gained),
            "lost": access(lost),
            "documents": documents,
            "files": files,
        })
    }

    /// The SARIF log: one result per gained access, at the grant of the head scenario that
    /// gives the principal the bucket, or, for a principal no grant names, at the bucket.
    fn sarif(
        &self,
        templates: &Templates,
        head_uri: &str,
        locations: &GrantLocations,
    ) -> Result<Json, Error> {
        let scenario = &self.head.lowered.scenario;
        let mut results = Vec::new();
        for change in self.comparison.gained() {
            let row = RowView {
                principal: change.key.caller.to_string(),
                bucket: change.key.bucket.clone(),
                operation: operation_label(change),
                target: change.key.operation.target(),
            };
            let message = templates.render("diff/sarif-result.txt", &row)?;
            let role = match &change.key.caller {
                CallerKind::Role { role } => Some(role.as_str()),
                _ => None,
            };
            let grant = role.and_then(|role| {
                scenario.grants.iter().position(|grant| {
                    grant.bucket == change.key.bucket
                        && (grant.role == role || grant.via_consumer.as_deref() == Some(role))
                })
            });
            let at = grant
                .and_then(|index| locations.grants.get(index))
                .or_else(|| locations.buckets.get(&change.key.bucket))
                .copied();
            let mut location = json!({
                "physicalLocation": {
                    "artifactLocation": { "uri": head_uri },
                }
            });
            if let Some((line, column)) = at {
                location["physicalLocation"]["region"] =
                    json!({ "startLine": line, "startColumn": column });
            }
            results.push(json!({
                "ruleId": SARIF_RULE,
                "ruleIndex": 0,
                "level": "warning",
                "message": { "text": message.trim_end() },
                "locations": [location],
                "properties": {
                    "principal": change.key.caller.to_string(),
                    "caller": change.key.caller,
                    "callerArn": change.caller_arn,
                    "bucket": change.key.bucket,
                    "operation": operation_label(change),
                    "target": change.key.operation.target(),
                    "transport": change.key.transport,
                },
            }));
        }
        let rule = templates.render("diff/sarif-rule.txt", &Self::side(self.base))?;
        Ok(json!({
            "$schema": SARIF_SCHEMA,
            "version": "2.1.0",
            "runs": [{
                "tool": {
                    "driver": {
                        "name": "crossgrant",
                        "version": env!("CARGO_PKG_VERSION"),
                        "rules": [{
                            "id": SARIF_RULE,
                            "name": "AccessGained",
                            "shortDescription": { "text": rule.trim_end() },
                            "defaultConfiguration": { "level": "warning" },
                        }],
                    }
                },
                "columnKind": "unicodeCodePoints",
                "results": results,
            }],
        }))
    }
}

/// Where the head scenario's grants and buckets are written: 1-based line and column.
#[derive(Default)]
struct GrantLocations {
    /// The first field of each `[[grants]]` entry, in order.
    grants: Vec<(usize, usize)>,
    /// The name of each `[buckets.<name>]` table.
    buckets: BTreeMap<String, (usize, usize)>,
}

fn grant_locations(path: &Path) -> GrantLocations {
    let Ok(source) = std::fs::read_to_string(path) else {
        return GrantLocations::default();
    };
    let Ok(raw) = crate::scenario::schema::parse(&source) else {
        return GrantLocations::default();
    };
    let at = |offset: usize| crate::scenario::diag::line_column(&source, offset);
    GrantLocations {
        grants: raw
            .grants
            .iter()
            .map(|grant| {
                let starts = [
                    Some(grant.role.span().start),
                    Some(grant.bucket.span().start),
                    Some(grant.access.span().start),
                    grant.prefix.as_ref().map(|prefix| prefix.span().start),
                    grant.via.as_ref().map(|via| via.span().start),
                ];
                // The key of the first field: back from its value to the start of its line.
                let first = starts.into_iter().flatten().min().unwrap_or(0);
                let line_start = source[..first.min(source.len())]
                    .rfind('\n')
                    .map_or(0, |newline| newline + 1);
                let indent = source[line_start..]
                    .chars()
                    .take_while(|c| *c == ' ' || *c == '\t')
                    .count();
                at(line_start + indent)
            })
            .collect(),
        buckets: raw
            .buckets
            .keys()
            .map(|name| (name.get_ref().clone(), at(name.span().start)))
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy_files_resolve_from_the_scenario_directory_within_the_repository() {
        assert_eq!(
            inside_repository("scenarios/", "live/bucket.json").as_deref(),
            Some("scenarios/live/bucket.json")
        );
        assert_eq!(
            inside_repository("scenarios/prod/", "../shared/./key.json").as_deref(),
            Some("scenarios/shared/key.json")
        );
        assert_eq!(
            inside_repository("", "policy.json").as_deref(),
            Some("policy.json")
        );
        assert_eq!(inside_repository("scenarios/", "../../outside.json"), None);
        assert_eq!(inside_repository("scenarios/", "/etc/policy.json"), None);
    }

    #[test]
    fn artifact_uris_are_percent_encoded_and_absolute_paths_are_file_uris() {
        assert_eq!(uri("scenarios/s.toml"), "scenarios/s.toml");
        assert_eq!(uri("my scenarios/ü.toml"), "my%20scenarios/%C3%BC.toml");
        assert_eq!(uri("/tmp/x/head.toml"), "file:///tmp/x/head.toml");
    }
}

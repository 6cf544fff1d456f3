//! Validation: the raw scenario becomes the model, or every problem found is returned at once.
//! Each check points at the span of the value that caused it. Rules that follow from AWS
//! (key and bucket share account and region, the AWS-managed key cannot be shared) live here
//! because they reject input; what the generated code looks like is decided in `lower`. One
//! module per kind of table checks its entries; the scenario's own settings come first, since
//! every table defaults to them.

mod accounts;
mod buckets;
mod grants;
mod guardrails;
mod instances;
mod keys;
mod outputs;
mod roles;
mod settings;

use super::diag::{ArnKind, Problem, Span};
use super::model::{LivePolicy, Scenario};
use super::schema::{RawScenario, Tags};
use crate::aws::{
    iam_path_problem, is_iam_name, pattern_syntax, policy_arn_problem, principal_arn_problem,
    Partition,
};
use crate::eval::document::parse_live_policy;
use crate::names::pascal;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use toml::Spanned;

/// How a policy file may be written.
const POLICY_FILE_FORMS: &str = "give the policy as the aws CLI prints it (`{\"Policy\": \"…\"}`) or as a bare policy document (`{\"Version\": \"2012-10-17\", \"Statement\": [...]}`)";

/// What a bucket's `key` names for the AWS-managed `aws/s3` key, so no `[keys]` table may be
/// named so.
const AWS_MANAGED_KEY: &str = "aws-managed";

/// What the checks of one table need from the rest of the scenario: the names each table
/// declares, and the scenario-wide values entries default to.
struct Declared<'a> {
    /// The directory `policy_file`s are relative to: the scenario file's.
    base: &'a Path,
    scenario_name: &'a str,
    region: &'a str,
    tags: &'a BTreeMap<String, String>,
    max_managed_policies: u32,
    accounts: BTreeSet<String>,
    keys: BTreeSet<String>,
    buckets: BTreeSet<String>,
    roles: BTreeSet<String>,
}

/// Builds the model from a parsed scenario, or returns every problem found; `policy_file`s are
/// read relative to the working directory.
pub fn validate(raw: RawScenario) -> Result<Scenario, Vec<Problem>> {
    validate_in(raw, Path::new("."))
}

/// Builds the model from a parsed scenario whose `policy_file`s are relative to `base`.
pub fn validate_in(raw: RawScenario, base: &Path) -> Result<Scenario, Vec<Problem>> {
    let mut check = Checker::default();
    let settings = settings::settings(&mut check, &raw);
    check_names(&mut check, &raw);
    let declared = Declared {
        base,
        scenario_name: &settings.name,
        region: &settings.region,
        tags: &settings.tags,
        max_managed_policies: settings.max_managed_policies,
        accounts: raw.accounts.keys().map(|k| k.get_ref().clone()).collect(),
        keys: raw.keys.keys().map(|k| k.get_ref().clone()).collect(),
        buckets: raw.buckets.keys().map(|k| k.get_ref().clone()).collect(),
        roles: raw.roles.keys().map(|k| k.get_ref().clone()).collect(),
    };
    let accounts = accounts::accounts(&mut check, &raw, &settings.organization_role_paths);
    let keys = keys::keys(&mut check, &raw, &declared);
    let buckets = buckets::buckets(&mut check, &raw, &declared, &keys);
    let roles = roles::roles(&mut check, &raw, &declared);
    let instances = instances::instances(&mut check, &raw, &declared, &roles);
    let mut roles = roles;
    let mut grants = grants::grants(&mut check, &raw, &declared, &buckets, &roles);
    grants::access_roles(&mut check, &raw, &mut roles, &buckets, &mut grants);
    let mut buckets = buckets;
    buckets::access_points(&mut check, &raw, &mut buckets, &roles, &grants);
    let guardrails = guardrails::guardrails(
        &mut check,
        &raw,
        &declared,
        settings.organization.is_some(),
        &accounts,
        &mut roles,
    );
    outputs::output_names(
        &mut check,
        &raw,
        &outputs::Deployed {
            scenario_name: &settings.name,
            home_region: &settings.region,
            keys: &keys,
            buckets: &buckets,
            roles: &roles,
            instances: &instances,
        },
    );

    if !check.problems.is_empty() {
        check
            .problems
            .sort_by_key(|problem| problem.span().map(|span| span.start));
        return Err(check.problems);
    }
    Ok(Scenario {
        name: settings.name,
        partition: check.partition(),
        region: settings.region,
        principal_style: settings.principal_style,
        organization: settings.organization,
        organization_role_paths: settings.organization_role_paths,
        max_managed_policies: settings.max_managed_policies,
        identity_policy: settings.identity_policy,
        terraform_layout: settings.terraform_layout,
        tags: settings.tags,
        accounts,
        keys,
        buckets,
        roles,
        instances,
        grants,
        guardrails,
    })
}

/// Names of every table are well-formed, and stay distinct once turned into identifiers.
fn check_names(check: &mut Checker, raw: &RawScenario) {
    for (kind, names) in [
        ("account", raw.accounts.keys().collect::<Vec<_>>()),
        ("key", raw.keys.keys().collect()),
        ("bucket", raw.buckets.keys().collect()),
        ("role", raw.roles.keys().collect()),
        ("instance", raw.instances.keys().collect()),
    ] {
        for name in &names {
            check.name(kind, name);
        }
        check.collisions(kind, names.into_iter());
    }
}

/// Collects problems while building the model.
#[derive(Default)]
struct Checker {
    problems: Vec<Problem>,
    /// The scenario's region and its partition, once the settings are read: every other
    /// region and ARN must be in that partition.
    home: Option<(String, Partition)>,
}

impl Checker {
    fn report(&mut self, problem: Problem) {
        self.problems.push(problem);
    }

    /// Paths under which the scenario declares every role, checked and deduplicated.
    fn owned_paths(&mut self, paths: &[Spanned<String>]) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for path in paths {
            if !self.literal("role path", path) {
                continue;
            }
            if let Some(reason) = owned_path_problem(path.get_ref()) {
                self.report(Problem::InvalidOwnedRolePath {
                    path: path.get_ref().clone(),
                    reason,
                    span: span(path),
                });
            } else if !out.contains(path.get_ref()) {
                out.push(path.get_ref().clone());
            }
        }
        out
    }

    fn name(&mut self, kind: &'static str, name: &Spanned<String>) {
        let text = name.get_ref();
        let valid = text.len() <= 40
            && text.starts_with(|c: char| c.is_ascii_lowercase())
            && text
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_');
        if !valid {
            self.report(Problem::InvalidName {
                kind,
                name: text.clone(),
                span: span(name),
            });
        }
    }

    /// Names of one kind must stay distinct once turned into identifiers.
    fn collisions<'a>(
        &mut self,
        kind: &'static str,
        names: impl Iterator<Item = &'a Spanned<String>>,
    ) {
        let mut seen: BTreeMap<String, &str> = BTreeMap::new();
        for name in names {
            if let Some(other) = seen.insert(pascal(name.get_ref()), name.get_ref()) {
                self.report(Problem::IdentifierCollision {
                    kind,
                    name: name.get_ref().clone(),
                    other: other.to_string(),
                    span: span(name),
                });
            }
        }
    }

    fn region(&mut self, region: &Spanned<String>) -> String {
        match Partition::of_region(region.get_ref()) {
            None => self.report(Problem::InvalidRegion {
                region: region.get_ref().clone(),
                span: span(region),
            }),
            Some(partition) => self.same_partition("region", region, partition),
        }
        region.get_ref().clone()
    }

    /// The scenario's own region: every other region and ARN must be in its partition.
    fn home_region(&mut self, region: &Spanned<String>) -> String {
        let region = self.region(region);
        if let Some(partition) = Partition::of_region(&region) {
            self.home = Some((region.clone(), partition));
        }
        region
    }

    /// The partition of the scenario, once its region is read (`aws` until then).
    fn partition(&self) -> Partition {
        self.home
            .as_ref()
            .map(|(_, partition)| *partition)
            .unwrap_or_default()
    }

    /// Reports `value` (a region or an ARN) if `partition`, its own, is not the scenario's.
    fn same_partition(
        &mut self,
        what: &'static str,
        value: &Spanned<String>,
        partition: Partition,
    ) {
        if let Some((home_region, home)) = &self.home {
            if *home != partition {
                let problem = Problem::OtherPartition {
                    what,
                    value: value.get_ref().clone(),
                    partition: partition.id(),
                    scenario_region: home_region.clone(),
                    scenario_partition: home.id(),
                    span: span(value),
                };
                self.report(problem);
            }
        }
    }

    /// Reports an ARN of another partition than the scenario's; an ARN of no known
    /// partition is left to the check of its kind.
    fn arn_partition(&mut self, what: &'static str, arn: &Spanned<String>) {
        if let Some(partition) = Partition::of_arn(arn.get_ref()) {
            self.same_partition(what, arn, partition);
        }
    }

    fn reference(
        &mut self,
        kind: &'static str,
        reference: &Spanned<String>,
        known: &BTreeSet<String>,
    ) -> bool {
        if known.contains(reference.get_ref()) {
            return true;
        }
        self.report(Problem::UnknownReference {
            kind,
            name: reference.get_ref().clone(),
            known: known.iter().cloned().collect(),
            span: span(reference),
        });
        false
    }

    fn choice(
        &mut self,
        field: &'static str,
        value: &Spanned<String>,
        choices: &'static [&'static str],
    ) -> Option<usize> {
        let found = choices.iter().position(|choice| choice == value.get_ref());
        if found.is_none() {
            self.report(Problem::InvalidChoice {
                field,
                value: value.get_ref().clone(),
                choices,
                span: span(value),
            });
        }
        found
    }

    /// Whether `value` names only itself where IAM matches patterns; reports it if not.
    fn literal(&mut self, field: &'static str, value: &Spanned<String>) -> bool {
        match pattern_syntax(value.get_ref()) {
            None => true,
            Some(syntax) => {
                self.report(Problem::PatternInValue {
                    field,
                    value: value.get_ref().clone(),
                    syntax,
                    span: span(value),
                });
                false
            }
        }
    }

    /// An IAM role name, literal and in IAM's character set.
    fn role_name(&mut self, field: &'static str, name: &Spanned<String>) -> bool {
        if !self.literal(field, name) {
            return false;
        }
        if !is_iam_name(name.get_ref()) {
            self.report(Problem::InvalidRoleName {
                name: name.get_ref().clone(),
                span: span(name),
            });
            return false;
        }
        true
    }

    /// The tags of one resource: the scenario's, overridden by its own, checked one by one and
    /// counted together with `added` (keys the renderers add unless the scenario sets them).
    /// `table` is where to point when the resource itself names no tag.
    fn tags(
        &mut self,
        base: &BTreeMap<String, String>,
        tags: &Tags,
        added: &[&str],
        table: &Spanned<String>,
    ) -> BTreeMap<String, String> {
        let mut out = base.clone();
        let mut own: Vec<_> = tags.iter().collect();
        own.sort_by_key(|(key, _)| key.span().start);
        let mut over = None;
        for (key, value) in own {
            if let Some(reason) = tag_problem(key.get_ref(), value.get_ref()) {
                self.report(Problem::InvalidTag {
                    key: key.get_ref().clone(),
                    reason,
                    span: span(key),
                });
            }
            out.insert(key.get_ref().clone(), value.get_ref().clone());
            if over.is_none() && tag_count(&out, added) > MAX_TAGS {
                over = Some(span(key));
            }
        }
        let count = tag_count(&out, added);
        // More scenario-wide tags than any resource may have are reported once, there.
        if count > MAX_TAGS && base.len() <= MAX_TAGS {
            self.report(Problem::TooManyTags {
                count,
                scenario_wide: base.len(),
                span: over.unwrap_or_else(|| span(table)),
            });
        }
        out
    }

    /// Reports each field of `fields` that is set (its span given) on a table marked existing:
    /// they configure a resource crossgrant creates.
    fn creation_only(
        &mut self,
        kind: &'static str,
        name: &Spanned<String>,
        fields: &[(&'static str, Option<Span>)],
    ) {
        self.misplaced(fields, |field, span| Problem::CreationOnly {
            kind,
            name: name.get_ref().clone(),
            field,
            span,
        });
    }

    /// Reports each field of `fields` that is set on a table crossgrant creates: they describe
    /// an existing resource.
    fn needs_existing(
        &mut self,
        kind: &'static str,
        name: &Spanned<String>,
        fields: &[(&'static str, Option<Span>)],
    ) {
        self.misplaced(fields, |field, span| Problem::NeedsExisting {
            kind,
            name: name.get_ref().clone(),
            field,
            span,
        });
    }

    /// Reports `problem` for each field of `fields` that is set.
    fn misplaced(
        &mut self,
        fields: &[(&'static str, Option<Span>)],
        problem: impl Fn(&'static str, Span) -> Problem,
    ) {
        for (field, place) in fields {
            if let Some(place) = place {
                self.report(problem(field, place.clone()));
            }
        }
    }

    /// The text of a file the scenario names, read relative to `base`; `problem` makes the
    /// report of a file that cannot be read or is not UTF-8 text.
    fn read_named_file(
        &mut self,
        file: &Spanned<String>,
        base: &Path,
        problem: impl Fn(String) -> Problem,
    ) -> Option<String> {
        let path = base.join(file.get_ref());
        match std::fs::read(&path) {
            Ok(bytes) => match String::from_utf8(bytes) {
                Ok(text) => Some(text),
                Err(_) => {
                    self.report(problem("is not UTF-8 text".into()));
                    None
                }
            },
            Err(error) => {
                self.report(problem(format!(
                    "cannot be read as {}: {error}",
                    path.display()
                )));
                None
            }
        }
    }

    /// The live policy a `policy_file` holds, read relative to `base`; `capture` says how to
    /// get the file.
    fn live_policy(
        &mut self,
        file: &Spanned<String>,
        base: &Path,
        capture: &'static str,
    ) -> Option<LivePolicy> {
        let named = file.get_ref();
        let problem = |problem: String, help: &'static str| Problem::PolicyFile {
            file: named.clone(),
            problem,
            help,
            span: span(file),
        };
        let text = self.read_named_file(file, base, |text| problem(text, capture))?;
        match parse_live_policy(&text, named) {
            Ok((document, policy)) => Some(LivePolicy {
                file: named.clone(),
                document,
                statements: policy.statements,
            }),
            Err(error) => {
                self.report(problem(
                    format!("{} ({})", error, base.join(named).display()),
                    POLICY_FILE_FORMS,
                ));
                None
            }
        }
    }

    /// An ARN of the kind `kind` that names exactly one thing.
    fn arn(&mut self, kind: ArnKind, value: &Spanned<String>) -> bool {
        if !self.literal(kind.field(), value) {
            return false;
        }
        let problem = match kind {
            ArnKind::KeyAdministrator => principal_arn_problem(value.get_ref()),
            ArnKind::ManagedPolicy => policy_arn_problem(value.get_ref()),
        };
        if let Some(reason) = problem {
            self.report(Problem::InvalidArn {
                kind,
                value: value.get_ref().clone(),
                reason,
                span: span(value),
            });
            return false;
        }
        self.arn_partition(kind.field(), value);
        true
    }
}

/// The id the scenario gives an account, if it declares the account.
fn account_id<'a>(raw: &'a RawScenario, account: &str) -> Option<&'a str> {
    raw.accounts
        .iter()
        .find(|(name, _)| name.get_ref() == account)
        .map(|(_, declared)| declared.id.get_ref().as_str())
}

fn span<T>(value: &Spanned<T>) -> Span {
    value.span()
}

/// AWS: at most 50 tags on a resource (tags with the reserved `aws:` prefix, which only AWS
/// sets, do not count).
const MAX_TAGS: usize = 50;
/// Tag keys and values are counted in characters, not bytes.
const MAX_TAG_KEY_CHARS: usize = 128;
const MAX_TAG_VALUE_CHARS: usize = 256;
const RESERVED_TAG_PREFIX: &str = "aws:";

fn tag_count(tags: &BTreeMap<String, String>, added: &[&str]) -> usize {
    tags.len() + added.iter().filter(|key| !tags.contains_key(**key)).count()
}

/// Why a tag breaks the rules S3, KMS, IAM and EC2 share, if it does.
fn tag_problem(key: &str, value: &str) -> Option<&'static str> {
    let key_chars = key.chars().count();
    let reserved = key
        .get(..RESERVED_TAG_PREFIX.len())
        .is_some_and(|start| start.eq_ignore_ascii_case(RESERVED_TAG_PREFIX));
    if key_chars == 0 || key_chars > MAX_TAG_KEY_CHARS {
        Some("has a key of the wrong length (1 to 128 characters)")
    } else if reserved {
        Some("uses the `aws:` prefix, which AWS reserves for its own tags (in any case)")
    } else if value.chars().count() > MAX_TAG_VALUE_CHARS {
        Some("has a value longer than 256 characters")
    } else if !key.chars().all(is_tag_char) {
        Some("has a key with a character AWS does not allow in tags")
    } else if !value.chars().all(is_tag_char) {
        Some("has a value with a character AWS does not allow in tags")
    } else {
        None
    }
}

/// The characters S3, KMS, IAM and EC2 all accept in tag keys and values
/// (`[\p{L}\p{Z}\p{N}_.:/=+\-@]`): letters and digits of any script, separators (spaces) and
/// `_ . : / = + - @`.
fn is_tag_char(c: char) -> bool {
    c.is_alphanumeric() || (c.is_whitespace() && !c.is_control()) || "_.:/=+-@".contains(c)
}

/// Table entries in the order they appear in the file, so a duplicate is reported where it
/// is repeated rather than where it sorts first.
fn in_source_order<T>(map: &BTreeMap<Spanned<String>, T>) -> Vec<(&Spanned<String>, &T)> {
    let mut entries: Vec<_> = map.iter().collect();
    entries.sort_by_key(|(name, _)| name.span().start);
    entries
}

/// Why a path cannot be declared as one under which the scenario declares every role.
fn owned_path_problem(path: &str) -> Option<&'static str> {
    if path == "/" {
        Some("is the root path, which holds roles no scenario declares (the deploy role, for one)")
    } else {
        iam_path_problem(path)
    }
}

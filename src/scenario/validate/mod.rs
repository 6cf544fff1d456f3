//! Validation: the raw scenario becomes the model, or every problem found is returned at once.
//! Each check points at the span of the value that caused it. Rules that follow from AWS
//! (key and bucket share account and region, the AWS-managed key cannot be shared) live here
//! because they reject input; what the generated code looks like is decided in `lower`. One
//! module per kind of table checks its entries; the scenario's own settings come first, since
//! every table defaults to them.

mod accounts;
mod buckets;
mod grants;
mod instances;
mod keys;
mod outputs;
mod roles;
mod settings;

use super::diag::{Problem, Span};
use super::model::Scenario;
use super::schema::{RawScenario, Tags};
use crate::aws::REGIONS;
use crate::names::pascal;
use std::collections::{BTreeMap, BTreeSet};
use toml::Spanned;

/// What the checks of one table need from the rest of the scenario: the names each table
/// declares, and the scenario-wide values entries default to.
struct Declared<'a> {
    scenario_name: &'a str,
    region: &'a str,
    tags: &'a BTreeMap<String, String>,
    accounts: BTreeSet<String>,
    keys: BTreeSet<String>,
    buckets: BTreeSet<String>,
    roles: BTreeSet<String>,
}

/// Builds the model from a parsed scenario, or returns every problem found.
pub fn validate(raw: RawScenario) -> Result<Scenario, Vec<Problem>> {
    let mut check = Checker::default();
    let settings = settings::settings(&mut check, &raw);
    check_names(&mut check, &raw);
    let declared = Declared {
        scenario_name: &settings.name,
        region: &settings.region,
        tags: &settings.tags,
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
    let grants = grants::grants(&mut check, &raw, &declared, &buckets, &roles);
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
        region: settings.region,
        principal_style: settings.principal_style,
        organization: settings.organization,
        organization_role_paths: settings.organization_role_paths,
        max_managed_policies: settings.max_managed_policies,
        tags: settings.tags,
        accounts,
        keys,
        buckets,
        roles,
        instances,
        grants,
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
}

impl Checker {
    fn report(&mut self, problem: Problem) {
        self.problems.push(problem);
    }

    /// Paths under which the scenario declares every role, checked and deduplicated.
    fn owned_paths(&mut self, paths: &[Spanned<String>]) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for path in paths {
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
        if !REGIONS.contains(&region.get_ref().as_str()) {
            self.report(Problem::InvalidRegion {
                region: region.get_ref().clone(),
                span: span(region),
            });
        }
        region.get_ref().clone()
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

    fn tags(&mut self, base: &BTreeMap<String, String>, tags: &Tags) -> BTreeMap<String, String> {
        let mut out = base.clone();
        for (key, value) in tags {
            let reason = if key.get_ref().is_empty() || key.get_ref().len() > 128 {
                Some("has a key of the wrong length")
            } else if key.get_ref().starts_with("aws:") {
                Some("uses the reserved `aws:` prefix")
            } else if value.get_ref().len() > 256 {
                Some("has a value longer than 256 characters")
            } else if !key.get_ref().chars().all(is_tag_char) {
                Some("has a key with a character AWS does not allow in tags")
            } else if !value.get_ref().chars().all(is_tag_char) {
                Some("has a value with a character AWS does not allow in tags")
            } else {
                None
            };
            if let Some(reason) = reason {
                self.report(Problem::InvalidTag {
                    key: key.get_ref().clone(),
                    reason,
                    span: span(key),
                });
            }
            out.insert(key.get_ref().clone(), value.get_ref().clone());
        }
        out
    }

    fn arn(&mut self, what: &'static str, value: &Spanned<String>) {
        let parts: Vec<&str> = value.get_ref().splitn(6, ':').collect();
        let valid = parts.len() == 6
            && parts[0] == "arn"
            && parts[1].starts_with("aws")
            && !parts[2].is_empty()
            && !parts[5].is_empty()
            && !value.get_ref().contains(char::is_whitespace);
        if !valid {
            self.report(Problem::InvalidArn {
                what,
                value: value.get_ref().clone(),
                span: span(value),
            });
        }
    }
}

fn span<T>(value: &Spanned<T>) -> Span {
    value.span()
}

/// The characters S3, KMS and IAM all accept in tag keys and values: letters, digits,
/// separators (spaces) and `_ . : / = + - @`.
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

fn is_role_name(text: &str) -> bool {
    (1..=64).contains(&text.len())
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+=,.@_-".contains(c))
}

/// Why a path cannot be declared as one under which the scenario declares every role.
fn owned_path_problem(path: &str) -> Option<&'static str> {
    if !path.starts_with('/') || !path.ends_with('/') {
        Some("must start and end with `/`")
    } else if path == "/" {
        Some("is the root path, which holds roles no scenario declares (the deploy role, for one)")
    } else if path.contains("//") || path.len() > 512 {
        Some("is not a valid IAM path")
    } else if path.contains(['*', '?']) {
        Some("contains a wildcard; IAM paths are matched literally")
    } else if !path.chars().all(|c| c.is_ascii_graphic()) {
        Some("contains a character IAM paths do not allow")
    } else {
        None
    }
}

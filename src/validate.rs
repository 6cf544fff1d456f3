//! Validation: the raw scenario becomes the model, or every problem found is returned at once.
//! Each check points at the span of the value that caused it. Rules that follow from AWS
//! (key and bucket share account and region, the AWS-managed key cannot be shared) live here
//! because they reject input; what the generated code looks like is decided in `lower`.

use crate::aws::{s3, split_action, EC2_SERVICE, REGIONS, SERVICE_PRINCIPAL_SUFFIX};
use crate::diag::{Problem, Span};
use crate::model::*;
use crate::names::pascal;
use crate::schema::{RawScenario, Tags};
use std::collections::{BTreeMap, BTreeSet};
use toml::Spanned;

pub const AWS_MANAGED_KEY: &str = "aws-managed";
pub const DEFAULT_SERVICE: &str = EC2_SERVICE;

const ACCESS_CHOICES: &[&str] = &["read", "write", "read-write"];
const STYLE_CHOICES: &[&str] = &["account", "role"];
const ENFORCEMENT_CHOICES: &[&str] = &["if-present", "strict", "off"];
/// Unfinished multipart uploads are removed after this many days unless a bucket says
/// otherwise: long enough for any upload still in progress, short enough not to pay for
/// abandoned parts for long.
pub const DEFAULT_ABORT_INCOMPLETE_UPLOADS_DAYS: u32 = 7;
/// KMS refuses longer key descriptions.
const MAX_KEY_DESCRIPTION: usize = 8192;
const OWNERSHIP_CHOICES: &[&str] = &[
    "BucketOwnerEnforced",
    "BucketOwnerPreferred",
    "ObjectWriter",
];

/// Collects problems while building the model.
#[derive(Default)]
struct Checker {
    problems: Vec<Problem>,
}

fn span<T>(value: &Spanned<T>) -> Span {
    value.span()
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

/// The characters S3, KMS and IAM all accept in tag keys and values: letters, digits,
/// separators (spaces) and `_ . : / = + - @`.
fn is_tag_char(c: char) -> bool {
    c.is_alphanumeric() || (c.is_whitespace() && !c.is_control()) || "_.:/=+-@".contains(c)
}

fn log_prefix_problem(prefix: &str) -> Option<&'static str> {
    if prefix.len() > 512 {
        Some("is longer than 512 characters")
    } else if prefix.chars().any(char::is_control) {
        Some("contains a control character")
    } else if prefix.starts_with('/') {
        Some("starts with `/`, but S3 object keys do not")
    } else {
        None
    }
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

/// Why a bucket name breaks the S3 naming rules, if it does.
pub fn bucket_name_problem(name: &str) -> Option<&'static str> {
    let bytes = name.as_bytes();
    if !(3..=63).contains(&name.len()) {
        return Some("it must be 3 to 63 characters long");
    }
    if !name
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '.' || c == '-')
    {
        return Some("only lowercase letters, digits, `.` and `-` are allowed");
    }
    if !bytes[0].is_ascii_alphanumeric() || !bytes[bytes.len() - 1].is_ascii_alphanumeric() {
        return Some("it must start and end with a letter or digit");
    }
    if name.contains("..") || name.contains(".-") || name.contains("-.") {
        return Some("dots must not be adjacent to each other or to a hyphen");
    }
    if name.split('.').count() == 4 && name.split('.').all(|part| part.parse::<u8>().is_ok()) {
        return Some("it must not look like an IP address");
    }
    for prefix in ["xn--", "sthree-", "amzn-s3-demo-"] {
        if name.starts_with(prefix) {
            return Some("it starts with a prefix S3 reserves");
        }
    }
    for suffix in ["-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3"] {
        if name.ends_with(suffix) {
            return Some("it ends with a suffix S3 reserves");
        }
    }
    None
}

fn alias_problem(alias: &str) -> Option<&'static str> {
    if alias.is_empty() || alias.len() > 250 {
        return Some("it must be 1 to 250 characters long");
    }
    if alias.starts_with("aws/") {
        return Some("the `aws/` prefix is reserved for AWS-managed keys");
    }
    if !alias
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "/_-".contains(c))
    {
        return Some("only letters, digits, `/`, `_` and `-` are allowed");
    }
    None
}

fn prefix_problem(prefix: &str) -> Option<&'static str> {
    if prefix.starts_with('/') {
        Some("starts with `/`, but S3 object keys do not")
    } else if prefix.contains(['*', '?']) {
        Some("contains a wildcard; prefixes are matched literally")
    } else if prefix.chars().any(char::is_control) {
        Some("contains a control character")
    } else if prefix.len() > 512 {
        Some("is longer than 512 characters")
    } else if !prefix.ends_with('/') {
        Some("does not end with `/`, so it would also match keys of sibling folders")
    } else {
        None
    }
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

/// `o-` followed by 10 to 32 lowercase letters or digits.
fn is_organization_id(text: &str) -> bool {
    text.strip_prefix("o-").is_some_and(|rest| {
        (10..=32).contains(&rest.len())
            && rest
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
    })
}

fn action_problem(action: &str) -> Option<&'static str> {
    let Some((s3::SERVICE, name)) = split_action(action) else {
        return Some("is not an S3 action (it must start with `s3:`)");
    };
    if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '*') {
        return Some("is not a well-formed action name");
    }
    if name.contains('*') && name.chars().all(|c| c == '*') {
        return Some("would grant every S3 action; name the actions the role needs");
    }
    None
}

/// Where a bucket's server access logs go, if it says.
fn access_logs(check: &mut Checker, bucket: &crate::schema::RawBucket) -> Option<AccessLogs> {
    let Some(target) = &bucket.access_log_bucket else {
        if let Some(prefix) = &bucket.access_log_prefix {
            check.report(Problem::InvalidSetting {
                field: "access_log_prefix",
                value: prefix.get_ref().clone(),
                reason: "is set but access_log_bucket is not",
                help: "name the bucket that receives the logs with access_log_bucket",
                span: span(prefix),
            });
        }
        return None;
    };
    if let Some(reason) = bucket_name_problem(target.get_ref()) {
        check.report(Problem::InvalidBucketName {
            name: target.get_ref().clone(),
            reason,
            span: span(target),
        });
    } else if target.get_ref() == bucket.name.get_ref() {
        check.report(Problem::InvalidSetting {
            field: "access_log_bucket",
            value: target.get_ref().clone(),
            reason: "is the bucket itself; each log delivery would write another log",
            help: "send the logs to a separate log bucket in the same account and region",
            span: span(target),
        });
    }
    let prefix = match &bucket.access_log_prefix {
        Some(prefix) => {
            if let Some(reason) = log_prefix_problem(prefix.get_ref()) {
                check.report(Problem::InvalidPrefix {
                    prefix: prefix.get_ref().clone(),
                    reason,
                    span: span(prefix),
                });
            }
            prefix.get_ref().clone()
        }
        None => format!("{}/", bucket.name.get_ref()),
    };
    Some(AccessLogs {
        bucket_name: target.get_ref().clone(),
        prefix,
    })
}

/// Builds the model from a parsed scenario, or returns every problem found.
pub fn validate(raw: RawScenario) -> Result<Scenario, Vec<Problem>> {
    let mut check = Checker::default();
    let scenario_name = raw.name.get_ref().clone();
    let name_ok = !scenario_name.is_empty()
        && scenario_name.len() <= 64
        && scenario_name.starts_with(|c: char| c.is_ascii_alphabetic())
        && scenario_name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-');
    if !name_ok {
        check.report(Problem::InvalidScenarioName {
            name: scenario_name.clone(),
            span: span(&raw.name),
        });
    }
    let region = check.region(&raw.region);
    let principal_style = match &raw.principal_style {
        None => PrincipalStyle::Account,
        Some(style) => match check.choice("principal_style", style, STYLE_CHOICES) {
            Some(1) => PrincipalStyle::Role,
            _ => PrincipalStyle::Account,
        },
    };
    let scenario_tags = check.tags(&BTreeMap::new(), &raw.tags);
    let organization = raw.organization.as_ref().map(|organization| {
        if !is_organization_id(organization.get_ref()) {
            check.report(Problem::InvalidOrganization {
                value: organization.get_ref().clone(),
                span: span(organization),
            });
        }
        organization.get_ref().clone()
    });
    let organization_role_paths = check.owned_paths(&raw.organization_role_paths);
    if organization.is_none() {
        if let Some(first) = raw.organization_role_paths.first() {
            check.report(Problem::OrganizationPathsWithoutOrganization { span: span(first) });
        }
    }
    let max_managed_policies = match &raw.max_managed_policies {
        None => DEFAULT_MAX_MANAGED_POLICIES,
        Some(value) => match u32::try_from(*value.get_ref()) {
            Ok(count) if count <= MAX_MANAGED_POLICIES_QUOTA => count,
            _ => {
                check.report(Problem::MaxManagedPolicies {
                    value: *value.get_ref(),
                    span: span(value),
                });
                DEFAULT_MAX_MANAGED_POLICIES
            }
        },
    };

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

    let account_names: BTreeSet<String> =
        raw.accounts.keys().map(|k| k.get_ref().clone()).collect();
    let key_names: BTreeSet<String> = raw.keys.keys().map(|k| k.get_ref().clone()).collect();
    let bucket_names: BTreeSet<String> = raw.buckets.keys().map(|k| k.get_ref().clone()).collect();
    let role_names: BTreeSet<String> = raw.roles.keys().map(|k| k.get_ref().clone()).collect();

    let mut accounts = BTreeMap::new();
    let mut ids: BTreeMap<String, String> = BTreeMap::new();
    for (name, account) in in_source_order(&raw.accounts) {
        let id = account.id.get_ref();
        if id.len() != 12 || !id.chars().all(|c| c.is_ascii_digit()) {
            check.report(Problem::InvalidAccountId {
                account: name.get_ref().clone(),
                id: id.clone(),
                span: span(&account.id),
            });
        } else if let Some(first) = ids.insert(id.clone(), name.get_ref().clone()) {
            check.report(Problem::DuplicateAccountId {
                id: id.clone(),
                first,
                span: span(&account.id),
            });
        }
        let profile = match &account.profile {
            Some(profile) => {
                let text = profile.get_ref();
                if text.is_empty()
                    || !text
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c))
                {
                    check.report(Problem::InvalidProfile {
                        value: text.clone(),
                        span: span(profile),
                    });
                }
                text.clone()
            }
            None => name.get_ref().clone(),
        };
        let deploy_role = match &account.deploy_role {
            Some(role) => {
                if !is_role_name(role.get_ref()) {
                    check.report(Problem::InvalidRoleName {
                        name: role.get_ref().clone(),
                        span: span(role),
                    });
                }
                role.get_ref().clone()
            }
            None => DEFAULT_DEPLOY_ROLE.to_string(),
        };
        let mut role_paths = check.owned_paths(&account.role_paths);
        for path in &organization_role_paths {
            if !role_paths.contains(path) {
                role_paths.push(path.clone());
            }
        }
        accounts.insert(
            name.get_ref().clone(),
            Account {
                name: name.get_ref().clone(),
                id: id.clone(),
                profile,
                deploy_role,
                role_paths,
            },
        );
    }

    let mut keys = BTreeMap::new();
    let mut aliases: BTreeMap<(String, String, String), String> = BTreeMap::new();
    for (name, key) in in_source_order(&raw.keys) {
        check.reference("account", &key.account, &account_names);
        let key_region = match &key.region {
            Some(region) => check.region(region),
            None => region.clone(),
        };
        let alias = key
            .alias
            .get_ref()
            .strip_prefix("alias/")
            .unwrap_or(key.alias.get_ref())
            .to_string();
        if let Some(reason) = alias_problem(&alias) {
            check.report(Problem::InvalidAlias {
                alias: alias.clone(),
                reason,
                span: span(&key.alias),
            });
        } else if let Some(first) = aliases.insert(
            (
                key.account.get_ref().clone(),
                key_region.clone(),
                alias.clone(),
            ),
            name.get_ref().clone(),
        ) {
            check.report(Problem::Duplicate {
                what: "key alias",
                value: alias.clone(),
                first,
                span: span(&key.alias),
            });
        }
        let deletion_window_days = match &key.deletion_window_days {
            Some(days) if !(7..=30).contains(days.get_ref()) => {
                check.report(Problem::DeletionWindow {
                    days: *days.get_ref(),
                    span: span(days),
                });
                30
            }
            Some(days) => *days.get_ref() as u32,
            None => 30,
        };
        for admin in &key.administrators {
            check.arn("key administrator ARN", admin);
        }
        if let Some(description) = &key.description {
            if description.get_ref().chars().count() > MAX_KEY_DESCRIPTION {
                check.report(Problem::InvalidSetting {
                    field: "description",
                    value: description.get_ref().clone(),
                    reason: "is longer than the 8192 characters KMS accepts",
                    help: "shorten the key description",
                    span: span(description),
                });
            }
        }
        let tags = check.tags(&scenario_tags, &key.tags);
        keys.insert(
            name.get_ref().clone(),
            Key {
                name: name.get_ref().clone(),
                account: key.account.get_ref().clone(),
                region: key_region,
                alias,
                description: key.description.as_ref().map_or_else(
                    || format!("Encrypts the S3 data of scenario {scenario_name}"),
                    |text| text.get_ref().clone(),
                ),
                rotation: key.rotation.unwrap_or(true),
                deletion_window_days,
                administrators: key
                    .administrators
                    .iter()
                    .map(|a| a.get_ref().clone())
                    .collect(),
                via_s3_only: key.via_s3_only.unwrap_or(true),
                tags,
            },
        );
    }

    let mut buckets = BTreeMap::new();
    let mut physical_buckets: BTreeMap<String, String> = BTreeMap::new();
    for (name, bucket) in in_source_order(&raw.buckets) {
        let account_ok = check.reference("account", &bucket.account, &account_names);
        let bucket_region = match &bucket.region {
            Some(region) => check.region(region),
            None => region.clone(),
        };
        if let Some(reason) = bucket_name_problem(bucket.name.get_ref()) {
            check.report(Problem::InvalidBucketName {
                name: bucket.name.get_ref().clone(),
                reason,
                span: span(&bucket.name),
            });
        } else if let Some(first) =
            physical_buckets.insert(bucket.name.get_ref().clone(), name.get_ref().clone())
        {
            check.report(Problem::Duplicate {
                what: "bucket name",
                value: bucket.name.get_ref().clone(),
                first,
                span: span(&bucket.name),
            });
        }
        let encryption = if bucket.key.get_ref() == AWS_MANAGED_KEY {
            Encryption::AwsManaged
        } else {
            let mut known = key_names.clone();
            known.insert(AWS_MANAGED_KEY.to_string());
            if check.reference("key", &bucket.key, &known) {
                let key = &keys[bucket.key.get_ref()];
                if account_ok && key.account != *bucket.account.get_ref() {
                    check.report(Problem::KeyElsewhere {
                        bucket: name.get_ref().clone(),
                        key: key.name.clone(),
                        what: "account",
                        bucket_has: bucket.account.get_ref().clone(),
                        key_has: key.account.clone(),
                        span: span(&bucket.key),
                    });
                } else if key.region != bucket_region {
                    check.report(Problem::KeyElsewhere {
                        bucket: name.get_ref().clone(),
                        key: key.name.clone(),
                        what: "region",
                        bucket_has: bucket_region.clone(),
                        key_has: key.region.clone(),
                        span: span(&bucket.key),
                    });
                }
            }
            Encryption::Kms(bucket.key.get_ref().clone())
        };
        let object_ownership = match &bucket.object_ownership {
            None => ObjectOwnership::BucketOwnerEnforced,
            Some(value) => match check.choice("object_ownership", value, OWNERSHIP_CHOICES) {
                Some(1) => ObjectOwnership::BucketOwnerPreferred,
                Some(2) => ObjectOwnership::ObjectWriter,
                _ => ObjectOwnership::BucketOwnerEnforced,
            },
        };
        let enforce_encryption = match &bucket.enforce_encryption {
            None => EncryptionEnforcement::IfPresent,
            Some(value) => match check.choice("enforce_encryption", value, ENFORCEMENT_CHOICES) {
                Some(1) => EncryptionEnforcement::Strict,
                Some(2) => EncryptionEnforcement::Off,
                _ => EncryptionEnforcement::IfPresent,
            },
        };
        let access_logs = access_logs(&mut check, bucket);
        let abort_incomplete_uploads_days = match &bucket.abort_incomplete_uploads_days {
            None => Some(DEFAULT_ABORT_INCOMPLETE_UPLOADS_DAYS),
            Some(days) if *days.get_ref() == 0 => None,
            Some(days) if (1..=3650).contains(days.get_ref()) => Some(*days.get_ref() as u32),
            Some(days) => {
                check.report(Problem::InvalidSetting {
                    field: "abort_incomplete_uploads_days",
                    value: days.get_ref().to_string(),
                    reason: "is not a number of days S3 lifecycle rules accept",
                    help: "use 1 to 3650 days, or 0 to keep unfinished multipart uploads",
                    span: span(days),
                });
                None
            }
        };
        let tags = check.tags(&scenario_tags, &bucket.tags);
        buckets.insert(
            name.get_ref().clone(),
            Bucket {
                name: name.get_ref().clone(),
                bucket_name: bucket.name.get_ref().clone(),
                account: bucket.account.get_ref().clone(),
                region: bucket_region,
                encryption,
                bucket_key: bucket.bucket_key.unwrap_or(true),
                object_ownership,
                require_tls: bucket.require_tls.unwrap_or(true),
                enforce_encryption,
                block_public_access: bucket.block_public_access.unwrap_or(true),
                versioning: bucket.versioning.unwrap_or(true),
                access_logs,
                abort_incomplete_uploads_days,
                tags,
            },
        );
    }

    let mut roles = BTreeMap::new();
    let mut role_ids: BTreeMap<(String, String), String> = BTreeMap::new();
    for (name, role) in in_source_order(&raw.roles) {
        check.reference("account", &role.account, &account_names);
        if !is_role_name(role.name.get_ref()) {
            check.report(Problem::InvalidRoleName {
                name: role.name.get_ref().clone(),
                span: span(&role.name),
            });
        } else if let Some(first) = role_ids.insert(
            (
                role.account.get_ref().clone(),
                role.name.get_ref().to_lowercase(),
            ),
            name.get_ref().clone(),
        ) {
            // IAM role names are unique per account regardless of case.
            check.report(Problem::Duplicate {
                what: "role name",
                value: role.name.get_ref().clone(),
                first,
                span: span(&role.name),
            });
        }
        let path = match &role.path {
            Some(path) => {
                let text = path.get_ref();
                let valid = text.starts_with('/')
                    && text.ends_with('/')
                    && text.len() <= 512
                    && !text.contains("//")
                    && text.chars().all(|c| c.is_ascii_graphic());
                if !valid {
                    check.report(Problem::InvalidRolePath {
                        path: text.clone(),
                        span: span(path),
                    });
                }
                text.clone()
            }
            None => "/".to_string(),
        };
        let service = match &role.service {
            Some(service) => {
                let text = service.get_ref();
                let valid = text.ends_with(SERVICE_PRINCIPAL_SUFFIX)
                    && text.len() > SERVICE_PRINCIPAL_SUFFIX.len()
                    && text
                        .chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || ".-".contains(c));
                if !valid {
                    check.report(Problem::InvalidServicePrincipal {
                        service: text.clone(),
                        span: span(service),
                    });
                }
                text.clone()
            }
            None => DEFAULT_SERVICE.to_string(),
        };
        for arn in &role.managed_policy_arns {
            check.arn("managed policy ARN", arn);
        }
        let tags = check.tags(&scenario_tags, &role.tags);
        roles.insert(
            name.get_ref().clone(),
            Role {
                name: name.get_ref().clone(),
                account: role.account.get_ref().clone(),
                role_name: role.name.get_ref().clone(),
                path,
                instance_profile: role.instance_profile.unwrap_or(service == DEFAULT_SERVICE),
                service,
                managed_policy_arns: role
                    .managed_policy_arns
                    .iter()
                    .map(|arn| arn.get_ref().clone())
                    .collect(),
                tags,
            },
        );
    }

    let mut instances = BTreeMap::new();
    for (name, instance) in &raw.instances {
        check.reference("account", &instance.account, &account_names);
        if check.reference("role", &instance.role, &role_names) {
            let role = &roles[instance.role.get_ref()];
            if role.account != *instance.account.get_ref() {
                check.report(Problem::InstanceAccountMismatch {
                    instance: name.get_ref().clone(),
                    role: role.name.clone(),
                    role_account: role.account.clone(),
                    span: span(&instance.role),
                });
            } else if !role.instance_profile {
                check.report(Problem::RoleWithoutInstanceProfile {
                    instance: name.get_ref().clone(),
                    role: role.name.clone(),
                    span: span(&instance.role),
                });
            }
        }
        let instance_type = instance.instance_type.get_ref();
        let type_ok = instance_type.split_once('.').is_some_and(|(family, size)| {
            !family.is_empty()
                && !size.is_empty()
                && instance_type
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || ".-".contains(c))
        });
        if !type_ok {
            check.report(Problem::InvalidInstanceType {
                value: instance_type.clone(),
                span: span(&instance.instance_type),
            });
        }
        let image = match &instance.image {
            None => Image::SsmParameter(DEFAULT_IMAGE_PARAMETER.to_string()),
            Some(image) => {
                let text = image.get_ref();
                let is_ami = text
                    .strip_prefix("ami-")
                    .is_some_and(|id| !id.is_empty() && id.chars().all(|c| c.is_ascii_hexdigit()));
                let is_parameter = text.starts_with('/')
                    && text.len() > 1
                    && text
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || "/_.-".contains(c));
                if is_ami {
                    Image::Ami(text.clone())
                } else {
                    if !is_parameter {
                        check.report(Problem::InvalidImage {
                            value: text.clone(),
                            span: span(image),
                        });
                    }
                    Image::SsmParameter(text.clone())
                }
            }
        };
        let subnet = instance.subnet.as_ref().map(|subnet| {
            let text = subnet.get_ref();
            let valid = text
                .strip_prefix("subnet-")
                .is_some_and(|id| !id.is_empty() && id.chars().all(|c| c.is_ascii_hexdigit()));
            if !valid {
                check.report(Problem::InvalidSubnet {
                    value: text.clone(),
                    span: span(subnet),
                });
            }
            text.clone()
        });
        let instance_region = match &instance.region {
            Some(region) => check.region(region),
            None => region.clone(),
        };
        let tags = check.tags(&scenario_tags, &instance.tags);
        instances.insert(
            name.get_ref().clone(),
            Instance {
                name: name.get_ref().clone(),
                account: instance.account.get_ref().clone(),
                region: instance_region,
                role: instance.role.get_ref().clone(),
                instance_type: instance_type.clone(),
                image,
                subnet,
                tags,
            },
        );
    }

    let mut grants = Vec::new();
    for grant in &raw.grants {
        let role_ok = check.reference("role", &grant.role, &role_names);
        let bucket_ok = check.reference("bucket", &grant.bucket, &bucket_names);
        let access = match check.choice("access", &grant.access, ACCESS_CHOICES) {
            Some(1) => Access::Write,
            Some(2) => Access::ReadWrite,
            _ => Access::Read,
        };
        let prefix = match &grant.prefix {
            Some(prefix) => {
                if let Some(reason) = prefix_problem(prefix.get_ref()) {
                    check.report(Problem::InvalidPrefix {
                        prefix: prefix.get_ref().clone(),
                        reason,
                        span: span(prefix),
                    });
                }
                prefix.get_ref().clone()
            }
            None => String::new(),
        };
        for action in &grant.actions {
            if let Some(reason) = action_problem(action.get_ref()) {
                check.report(Problem::InvalidAction {
                    action: action.get_ref().clone(),
                    reason,
                    span: span(action),
                });
            } else if bucket_ok
                && action.get_ref().contains("Acl")
                && !buckets[grant.bucket.get_ref()]
                    .object_ownership
                    .acls_enabled()
            {
                check.report(Problem::AclsDisabled {
                    bucket: grant.bucket.get_ref().clone(),
                    action: action.get_ref().clone(),
                    span: span(action),
                });
            }
        }
        if role_ok && bucket_ok {
            let role = &roles[grant.role.get_ref()];
            let bucket = &buckets[grant.bucket.get_ref()];
            if bucket.encryption == Encryption::AwsManaged && role.account != bucket.account {
                check.report(Problem::AwsManagedKeyCrossAccount {
                    bucket: bucket.name.clone(),
                    role: role.name.clone(),
                    owner: bucket.account.clone(),
                    consumer: role.account.clone(),
                    span: span(&grant.bucket),
                });
            }
        }
        grants.push(Grant {
            role: grant.role.get_ref().clone(),
            bucket: grant.bucket.get_ref().clone(),
            access,
            prefix,
            extra_actions: grant.actions.iter().map(|a| a.get_ref().clone()).collect(),
        });
    }
    if raw.grants.is_empty() {
        if let Some(first_role) = raw.roles.keys().next() {
            check.report(Problem::NoGrants {
                span: span(first_role),
            });
        }
    }

    if !check.problems.is_empty() {
        check
            .problems
            .sort_by_key(|problem| problem.span().map(|span| span.start));
        return Err(check.problems);
    }
    Ok(Scenario {
        name: scenario_name,
        region,
        principal_style,
        organization,
        organization_role_paths,
        max_managed_policies,
        tags: scenario_tags,
        accounts,
        keys,
        buckets,
        roles,
        instances,
        grants,
    })
}

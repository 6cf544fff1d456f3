//! `[buckets.*]`: S3 naming rules, a name used once, a key of the same account and region (or
//! the AWS-managed one), object ownership, encryption enforcement, access logs and the
//! lifecycle of unfinished uploads.

use super::{in_source_order, span, Checker, Declared, AWS_MANAGED_KEY};
use crate::aws::access_point_name_problem;
use crate::policy::Name;
use crate::scenario::diag::Problem;
use crate::scenario::model::{
    AccessLogs, Bucket, Encryption, EncryptionEnforcement, ExistingBucket, Grant, Key,
    ObjectOwnership, Role,
};
use crate::scenario::schema::{RawBucket, RawScenario};
use std::collections::{BTreeMap, BTreeSet};
use toml::Spanned;

/// Unfinished multipart uploads are removed after this many days unless a bucket says
/// otherwise: long enough for any upload still in progress, short enough not to pay for
/// abandoned parts for long.
const DEFAULT_ABORT_INCOMPLETE_UPLOADS_DAYS: u32 = 7;
/// How to capture a bucket policy for `policy_file`.
const BUCKET_POLICY_CAPTURE: &str = "capture the live bucket policy with `aws s3api get-bucket-policy --bucket NAME > FILE` and name that file, relative to the scenario";
const ENFORCEMENT_CHOICES: &[&str] = &["if-present", "strict", "off"];
const OWNERSHIP_CHOICES: &[&str] = &[
    "BucketOwnerEnforced",
    "BucketOwnerPreferred",
    "ObjectWriter",
];

pub(super) fn buckets(
    check: &mut Checker,
    raw: &RawScenario,
    declared: &Declared,
    keys: &BTreeMap<Name, Key>,
) -> BTreeMap<Name, Bucket> {
    let mut buckets = BTreeMap::new();
    let mut physical_buckets: BTreeMap<String, String> = BTreeMap::new();
    for (name, bucket) in in_source_order(&raw.buckets) {
        let account_ok = check.reference("account", &bucket.account, &declared.accounts);
        let bucket_region = match &bucket.region {
            Some(region) => check.region(region),
            None => declared.region.to_string(),
        };
        let name_ok = bucket_name(check, &bucket.name);
        if let Some(first) = name_ok
            .then(|| physical_buckets.insert(bucket.name.get_ref().clone(), name.get_ref().clone()))
            .flatten()
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
            let mut known = declared.keys.clone();
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
        let existing = if bucket.existing.as_ref().is_some_and(|flag| *flag.get_ref()) {
            check.creation_only(
                "bucket",
                name,
                &[
                    ("versioning", bucket.versioning.as_ref().map(span)),
                    (
                        "block_public_access",
                        bucket.block_public_access.as_ref().map(span),
                    ),
                    (
                        "access_log_bucket",
                        bucket.access_log_bucket.as_ref().map(span),
                    ),
                    (
                        "access_log_prefix",
                        bucket.access_log_prefix.as_ref().map(span),
                    ),
                    (
                        "abort_incomplete_uploads_days",
                        bucket.abort_incomplete_uploads_days.as_ref().map(span),
                    ),
                    ("tags", bucket.tags.keys().next().map(span)),
                ],
            );
            let policy = bucket
                .policy_file
                .as_ref()
                .and_then(|file| check.live_policy(file, declared.base, BUCKET_POLICY_CAPTURE));
            Some(ExistingBucket { policy })
        } else {
            check.needs_existing(
                "bucket",
                name,
                &[("policy_file", bucket.policy_file.as_ref().map(span))],
            );
            None
        };
        let access_logs = access_logs(check, bucket);
        let abort_incomplete_uploads_days = match &bucket.abort_incomplete_uploads_days {
            None if existing.is_some() => None,
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
        let tags = check.tags(declared.tags, &bucket.tags, &[], name);
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
                block_public_access: bucket
                    .block_public_access
                    .as_ref()
                    .is_none_or(|flag| *flag.get_ref()),
                versioning: bucket
                    .versioning
                    .as_ref()
                    .is_none_or(|flag| *flag.get_ref()),
                access_logs,
                abort_incomplete_uploads_days,
                access_points: BTreeMap::new(),
                tags,
                existing,
            },
        );
    }
    buckets
}

/// The access point of every account whose roles a bucket with `access_points = true` is
/// granted to, named `<bucket name>-<account>` unless `access_point_names` says otherwise
/// (shortened, with a hash of both for uniqueness, when that is over S3's 50 characters).
/// Names are unique within the owner's account and region, where every access point lives.
pub(super) fn access_points(
    check: &mut Checker,
    raw: &RawScenario,
    buckets: &mut BTreeMap<Name, Bucket>,
    roles: &BTreeMap<Name, Role>,
    grants: &[Grant],
) {
    let mut taken: BTreeSet<(String, String, String)> = BTreeSet::new();
    for (name, written) in in_source_order(&raw.buckets) {
        let Some(bucket) = buckets.get_mut(name.get_ref()) else {
            continue;
        };
        let enabled = written
            .access_points
            .as_ref()
            .is_some_and(|flag| *flag.get_ref());
        if !enabled {
            if let Some((account, _)) = written.access_point_names.iter().next() {
                check.report(Problem::InvalidSetting {
                    field: "access_point_names",
                    value: account.get_ref().clone(),
                    reason: "names an access point, but the bucket has no `access_points = true`",
                    help: "add access_points = true to the bucket, or remove access_point_names",
                    span: span(account),
                });
            }
            continue;
        }
        let consumers: BTreeSet<&Name> = grants
            .iter()
            .filter(|grant| grant.bucket == bucket.name)
            .filter_map(|grant| roles.get(&grant.role))
            .map(|role| &role.account)
            .collect();
        for account in written.access_point_names.keys() {
            if !consumers.contains(account.get_ref()) {
                check.report(Problem::InvalidSetting {
                    field: "access_point_names",
                    value: account.get_ref().clone(),
                    reason: "is not an account whose roles are granted this bucket",
                    help: "name access points of the accounts the bucket's grants are for",
                    span: span(account),
                });
            }
        }
        for account in consumers {
            let named = written
                .access_point_names
                .iter()
                .find(|(named, _)| named.get_ref() == account);
            let (ap_name, place) = match named {
                Some((_, value)) => {
                    if let Some(reason) = access_point_name_problem(value.get_ref()) {
                        check.report(Problem::InvalidSetting {
                            field: "access point name",
                            value: value.get_ref().clone(),
                            reason,
                            help: "use 3 to 50 lowercase letters, digits and hyphens, starting and ending with a letter or digit",
                            span: span(value),
                        });
                    }
                    (value.get_ref().clone(), span(value))
                }
                None => (
                    derived_access_point_name(&bucket.bucket_name, account),
                    written
                        .access_points
                        .as_ref()
                        .map_or_else(|| span(name), span),
                ),
            };
            let key = (
                bucket.account.clone(),
                bucket.region.clone(),
                ap_name.clone(),
            );
            if !taken.insert(key) {
                check.report(Problem::InvalidSetting {
                    field: "access point name",
                    value: ap_name.clone(),
                    reason: "is the name of another access point in the same account and region",
                    help: "give each access point its own name with access_point_names = { <account> = \"…\" }",
                    span: place,
                });
            }
            bucket.access_points.insert(account.clone(), ap_name);
        }
    }
}

/// `<bucket name>-<account>`, lowercased to S3's alphabet; over 50 characters, cut and ended
/// with a hash of the whole so two long names stay apart.
fn derived_access_point_name(bucket_name: &str, account: &str) -> String {
    let full: String = format!("{bucket_name}-{account}")
        .chars()
        .map(|c| match c {
            'a'..='z' | '0'..='9' | '-' => c,
            'A'..='Z' => c.to_ascii_lowercase(),
            _ => '-',
        })
        .collect();
    if full.len() <= 50 {
        return full.trim_matches('-').to_string();
    }
    let cut = full[..41].trim_end_matches('-');
    format!("{cut}-{:08x}", crate::names::stable_hash(&full) as u32)
}

/// Whether `name` is a bucket name that names one bucket; reports it if not.
pub(super) fn bucket_name(check: &mut Checker, name: &Spanned<String>) -> bool {
    if !check.literal("bucket name", name) {
        return false;
    }
    let Some(reason) = bucket_name_problem(name.get_ref()) else {
        return true;
    };
    check.report(Problem::InvalidBucketName {
        name: name.get_ref().clone(),
        reason,
        span: span(name),
    });
    false
}

/// Why a bucket name breaks the S3 naming rules, if it does.
fn bucket_name_problem(name: &str) -> Option<&'static str> {
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

/// Where a bucket's server access logs go, if it says.
fn access_logs(check: &mut Checker, bucket: &RawBucket) -> Option<AccessLogs> {
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
    if bucket_name(check, target) && target.get_ref() == bucket.name.get_ref() {
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

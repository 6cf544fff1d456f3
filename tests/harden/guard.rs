//! Compliance rule sets: cfn-guard 3 with the AWS Guard Rules Registry's rules for S3, KMS,
//! IAM, EC2 and CloudFormation, and its NIST 800-53 rev5, PCI DSS 3.2.1, CIS level 1 and
//! cfn_nag rule sets, over the CloudFormation (YAML and JSON) of every example, the strict and
//! consolidated scenarios of the checkov test, and large generated scenarios: no rule fails.
//! A rule that does not apply is suppressed on the resource (`Metadata.guard.SuppressedRules`)
//! for the reason crossgrant gives checkov; the few rules that fail on correct templates are
//! excluded below, each with why.
//!
//! cfn-guard is installed into `target/cfn-guard` (or named by `CROSSGRANT_CFN_GUARD`); the
//! registry is read from the copy in `tests/guard-rules` (or `CROSSGRANT_GUARD_RULES`).

use super::common::root;
use super::{run, scanned};
use crossgrant::generate::{scenario as generated, Shape};
use crossgrant::render::checkov;
use serde_json::Value as Json;
use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// The registry's folders of rules for the services crossgrant deploys.
const SERVICES: [&str; 5] = [
    "amazon_s3",
    "aws_kms",
    "iam",
    "amazon_ec2",
    "aws_cloudformation",
];

/// The compliance frameworks, as `mappings/rule_set_<name>.json`.
const RULE_SETS: [&str; 4] = [
    "nist800_53rev5",
    "pci_dss_3_2_1",
    "cis_aws_benchmark_level_1",
    "cfn_nag",
];

/// Rules that fail on correct templates, by rule file, with why (the README names them too).
const BROKEN: [(&str, &str, &str); 1] = [(
    "rules/aws/amazon_s3/s3_bucket_public_rw_acl.guard",
    "S3_BUCKET_NO_PUBLIC_RW_ACL",
    "compares Properties.AccessControl != 'PublicReadWrite' on every bucket, and cfn-guard 3 \
     fails that comparison when the property is absent: it fails every bucket that sets no \
     canned ACL (ACLs disabled, as BucketOwnerEnforced has them); its sibling \
     S3_BUCKET_PUBLIC_READ_ACL filters the buckets that set the ACL first and passes",
)];

fn guard_binary() -> PathBuf {
    let path = std::env::var_os("CROSSGRANT_CFN_GUARD")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("target/cfn-guard/bin/cfn-guard"));
    assert!(
        path.is_file(),
        "cfn-guard is not installed at {}: run `cargo install --locked --root target/cfn-guard \
         cfn-guard --version '^3'` (scripts/test does) or point CROSSGRANT_CFN_GUARD at a \
         cfn-guard 3 binary",
        path.display()
    );
    path
}

fn registry() -> PathBuf {
    let path = std::env::var_os("CROSSGRANT_GUARD_RULES")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("tests/guard-rules"));
    assert!(
        path.join("rules/aws").is_dir() && path.join("mappings").is_dir(),
        "the AWS Guard Rules Registry is not at {}: `git clone \
         https://github.com/aws-cloudformation/aws-guard-rules-registry` (commit 7f7340c) there, \
         or point CROSSGRANT_GUARD_RULES at a copy holding its rules/ and mappings/",
        path.display()
    );
    path
}

/// The rule files of one rule set (relative to the registry), without the ones marked
/// `## SKIP` and the broken ones.
fn rule_files(registry: &Path, set: &RuleSet) -> Vec<PathBuf> {
    let listed: Vec<String> = match set {
        RuleSet::Services => {
            let mut files = Vec::new();
            for service in SERVICES {
                let dir = registry.join("rules/aws").join(service);
                for entry in
                    fs::read_dir(&dir).unwrap_or_else(|error| panic!("{}: {error}", dir.display()))
                {
                    let path = entry.unwrap().path();
                    if path.extension().is_some_and(|ext| ext == "guard") {
                        files.push(format!(
                            "rules/aws/{service}/{}",
                            path.file_name().unwrap().to_str().unwrap()
                        ));
                    }
                }
            }
            files
        }
        RuleSet::Mapping(name) => {
            let path = registry.join(format!("mappings/rule_set_{name}.json"));
            let mapping: Json = serde_json::from_str(
                &fs::read_to_string(&path)
                    .unwrap_or_else(|error| panic!("{}: {error}", path.display())),
            )
            .unwrap();
            mapping["mappings"]
                .as_array()
                .expect("a rule set lists mappings")
                .iter()
                .map(|mapping| mapping["guardFilePath"].as_str().unwrap().to_string())
                .collect()
        }
    };
    let mut files: Vec<PathBuf> = listed
        .into_iter()
        .filter(|file| !BROKEN.iter().any(|(broken, _, _)| broken == file))
        .map(|file| registry.join(file))
        .filter(|path| {
            let text = fs::read_to_string(path)
                .unwrap_or_else(|error| panic!("{}: {error}", path.display()));
            !text.starts_with("## SKIP")
        })
        .collect();
    files.sort();
    files.dedup();
    assert!(
        files.len() >= 10,
        "{set:?}: only {} rule files",
        files.len()
    );
    files
}

#[derive(Debug)]
enum RuleSet {
    Services,
    Mapping(&'static str),
}

fn rule_sets() -> Vec<RuleSet> {
    std::iter::once(RuleSet::Services)
        .chain(RULE_SETS.into_iter().map(RuleSet::Mapping))
        .collect()
}

/// What one cfn-guard run reported, per rule name: the files it failed and passed in.
#[derive(Debug, Default)]
struct Report {
    failed: BTreeMap<String, BTreeSet<String>>,
    passed: BTreeMap<String, BTreeSet<String>>,
    files: BTreeSet<String>,
}

/// `cfn-guard validate` of `templates` against `rules`, its JSON report parsed.
fn validate(templates: &[PathBuf], rules: &[PathBuf]) -> Report {
    let mut command = Command::new(guard_binary());
    command.args([
        "validate",
        "--output-format",
        "json",
        "--show-summary",
        "none",
    ]);
    for template in templates {
        command.arg("--data").arg(template);
    }
    for rule in rules {
        command.arg("--rules").arg(rule);
    }
    let output = command
        .output()
        .unwrap_or_else(|error| panic!("cannot run cfn-guard: {error}"));
    // 0: every rule passed or did not apply; 19: a rule failed. Anything else is an error.
    let code = output.status.code();
    assert!(
        matches!(code, Some(0 | 19)),
        "cfn-guard exited {code:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let mut report = Report::default();
    for document in serde_json::Deserializer::from_slice(&output.stdout).into_iter::<Json>() {
        let document = document.unwrap_or_else(|error| {
            panic!(
                "cfn-guard printed no JSON report ({error}): {}",
                String::from_utf8_lossy(&output.stderr)
            )
        });
        let file = document["name"].as_str().unwrap_or_default().to_string();
        for failure in document["not_compliant"].as_array().into_iter().flatten() {
            let rule = failure["Rule"]["name"]
                .as_str()
                .map(str::to_string)
                .unwrap_or_else(|| failure.to_string());
            report.failed.entry(rule).or_default().insert(file.clone());
        }
        for rule in document["compliant"].as_array().into_iter().flatten() {
            report
                .passed
                .entry(rule.as_str().unwrap_or_default().to_string())
                .or_default()
                .insert(file.clone());
        }
        report.files.insert(file);
    }
    report
}

/// Every CloudFormation template under `dir` (`<case>/cloudformation/*.yaml|json`).
fn templates(dir: &Path) -> Vec<PathBuf> {
    let mut templates = Vec::new();
    for entry in fs::read_dir(dir).unwrap() {
        let stacks = entry.unwrap().path().join("cloudformation");
        if let Ok(files) = fs::read_dir(&stacks) {
            for file in files {
                let path = file.unwrap().path();
                if matches!(
                    path.extension().and_then(|e| e.to_str()),
                    Some("yaml" | "json")
                ) {
                    templates.push(path);
                }
            }
        }
    }
    templates.sort();
    templates
}

/// Large generated scenarios, rendered as JSON (which cfn-guard reads several times faster
/// than YAML): `twelve-buckets/` (one consumer of twelve buckets: an owner template over
/// 51,200 bytes) and `two-hundred/` (200 grants of 40 roles in 8 accounts on 12 buckets of two
/// owners, two buckets per key, roles named by ARN). Larger scenarios add size, not shapes:
/// 2,000 grants added about 20 s.
fn large() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap().keep();
        let shapes = [
            (
                "twelve-buckets",
                Shape {
                    buckets: 12,
                    roles: 1,
                    accounts: 1,
                    grants: 12,
                    ..Shape::default()
                },
            ),
            (
                "two-hundred",
                Shape {
                    seed: 7,
                    buckets: 12,
                    buckets_per_key: 2,
                    owners: 2,
                    accounts: 8,
                    roles: 40,
                    team_size: 5,
                    grants: 200,
                    role_principals: true,
                    ..Shape::default()
                },
            ),
        ];
        for (name, shape) in shapes {
            let scenario = dir.join(format!("{name}.toml"));
            fs::write(&scenario, generated(&shape).0).unwrap();
            super::synth(&scenario, &dir.join(name), &["--target", "cloudformation"]);
            fs::remove_file(&scenario).unwrap();
        }
        dir
    })
}

fn all_templates() -> Vec<PathBuf> {
    let mut all = templates(scanned());
    all.extend(templates(large()));
    all
}

/// The rules a rule file declares (`rule NAME …`).
fn declared_rules(file: &Path) -> Vec<String> {
    fs::read_to_string(file)
        .unwrap()
        .lines()
        .filter_map(|line| line.trim_start().strip_prefix("rule "))
        .filter_map(|rest| rest.split_whitespace().next())
        .map(|name| name.trim_end_matches('{').to_string())
        .collect()
}

/// One cfn-guard run with every rule file of every rule set over every template (but the
/// relaxed scenario's, whose guardrails are off), then each set's result: no failure, and
/// enough passes to show the rules read the templates.
#[test]
fn compliance_rule_sets_report_no_failure() {
    let registry = registry();
    let (_, version) = run(Command::new(guard_binary()).arg("--version"));
    assert!(
        version.trim().starts_with("cfn-guard 3."),
        "cfn-guard 3 expected, found {version:?}"
    );
    let templates: Vec<PathBuf> = all_templates()
        .into_iter()
        .filter(|path| !path.starts_with(scanned().join("relaxed")))
        .filter(|path| !path.starts_with(scanned().join("relaxed-json")))
        .collect();
    assert!(templates.len() >= 60, "found {} templates", templates.len());
    let sets: Vec<(RuleSet, Vec<PathBuf>)> = rule_sets()
        .into_iter()
        .map(|set| {
            let files = rule_files(&registry, &set);
            (set, files)
        })
        .collect();
    let union: BTreeSet<PathBuf> = sets.iter().flat_map(|(_, files)| files.clone()).collect();
    let union: Vec<PathBuf> = union.into_iter().collect();
    let started = std::time::Instant::now();
    let report = validate(&templates, &union);
    eprintln!(
        "cfn-guard: {} rule files, {} templates, {:.1} s",
        union.len(),
        templates.len(),
        started.elapsed().as_secs_f64()
    );
    let names: BTreeSet<String> = templates
        .iter()
        .map(|path| path.to_str().unwrap().to_string())
        .collect();
    assert_eq!(report.files, names, "cfn-guard skipped templates");
    let mut failures = BTreeMap::new();
    for (set, files) in &sets {
        let rules: BTreeSet<String> = files.iter().flat_map(|file| declared_rules(file)).collect();
        let passed = rules
            .iter()
            .filter(|rule| report.passed.contains_key(*rule))
            .count();
        eprintln!(
            "{set:?}: {} rules, {passed} passed on some template",
            rules.len()
        );
        // The rules must have read the templates: many of them pass on crossgrant's resources.
        assert!(
            passed >= 5,
            "{set:?}: too few rules passed to have evaluated anything"
        );
        for rule in &rules {
            if let Some(files) = report.failed.get(rule) {
                failures.insert(format!("{set:?}: {rule}"), files.clone());
            }
        }
    }
    // The rules that matter most for crossgrant's output pass, not merely do not apply.
    for rule in [
        "S3_BUCKET_SSL_REQUESTS_ONLY",
        "S3_BUCKET_SERVER_SIDE_ENCRYPTION_ENABLED",
        "S3_DEFAULT_ENCRYPTION_KMS",
        "S3_BUCKET_PUBLIC_READ_PROHIBITED",
        "S3_BUCKET_PUBLIC_WRITE_PROHIBITED",
        "S3_BUCKET_VERSIONING_ENABLED",
        "S3_BUCKET_POLICY_NO_WILDCARD_PRINCIPAL",
        "CMK_BACKING_KEY_ROTATION_ENABLED",
        "KMS_NO_WILDCARD_PRINCIPAL",
        "IAM_MANAGEDPOLICY_NO_STATEMENTS_WITH_FULL_ACCESS",
    ] {
        assert!(
            report.passed.contains_key(rule),
            "{rule} never passed: {:?}",
            report.passed.keys()
        );
    }
    assert!(
        failures.is_empty() && report.failed.is_empty(),
        "cfn-guard rules failed: {failures:#?} {:#?}",
        report.failed.keys()
    );
}

/// With every guardrail off (the relaxed scenario), the rules for them fail.
#[test]
fn switched_off_guardrails_fail_the_rules() {
    let registry = registry();
    let report = validate(
        &templates(scanned())
            .into_iter()
            .filter(|path| path.starts_with(scanned().join("relaxed")))
            .collect::<Vec<_>>(),
        &rule_files(&registry, &RuleSet::Services),
    );
    for rule in [
        "S3_BUCKET_SSL_REQUESTS_ONLY",
        "S3_BUCKET_VERSIONING_ENABLED",
        "S3_BUCKET_PUBLIC_READ_PROHIBITED",
        "CMK_BACKING_KEY_ROTATION_ENABLED",
    ] {
        assert!(
            report.failed.contains_key(rule),
            "{rule} should fail with the guardrails off: {:?}",
            report.failed.keys()
        );
    }
}

/// A copy of the blog's owner template with a public bucket policy, a key policy open to
/// everyone, an unencrypted bucket and no suppressions: the rules catch each.
#[test]
fn planted_violations_are_caught() {
    let registry = registry();
    let source = scanned().join("blog-json/cloudformation/data-data.json");
    let mut template: Json = serde_json::from_str(&fs::read_to_string(&source).unwrap()).unwrap();
    let resources = template["Resources"].as_object_mut().unwrap();
    let mut planted = 0;
    for resource in resources.values_mut() {
        let resource = resource.as_object_mut().unwrap();
        resource.remove("Metadata");
        let kind = resource["Type"].as_str().unwrap().to_string();
        let properties = resource["Properties"].as_object_mut().unwrap();
        let public = serde_json::json!({
            "Sid": "Public",
            "Effect": "Allow",
            "Principal": "*",
            "Action": "*",
            "Resource": "*"
        });
        match kind.as_str() {
            "AWS::S3::Bucket" => {
                properties.remove("BucketEncryption");
                planted += 1;
            }
            "AWS::S3::BucketPolicy" => {
                properties["PolicyDocument"]["Statement"]
                    .as_array_mut()
                    .unwrap()
                    .push(public);
                planted += 1;
            }
            "AWS::KMS::Key" => {
                properties["KeyPolicy"]["Statement"]
                    .as_array_mut()
                    .unwrap()
                    .push(public);
                planted += 1;
            }
            _ => {}
        }
    }
    assert_eq!(
        planted, 3,
        "the blog's owner template has a bucket, its policy and a key"
    );
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("planted.json");
    fs::write(&path, serde_json::to_string_pretty(&template).unwrap()).unwrap();
    let report = validate(
        std::slice::from_ref(&path),
        &rule_files(&registry, &RuleSet::Services),
    );
    for rule in [
        "S3_BUCKET_SERVER_SIDE_ENCRYPTION_ENABLED",
        "S3_BUCKET_POLICY_NO_WILDCARD_PRINCIPAL",
        "KMS_NO_WILDCARD_PRINCIPAL",
        // Suppressed in the real template: without the suppression it fails.
        "S3_BUCKET_LOGGING_ENABLED",
    ] {
        assert!(
            report.failed.contains_key(rule),
            "{rule} did not catch the planted violation: {:?}",
            report.failed.keys()
        );
    }
}

/// Each broken rule still fails on a correct template; when the registry fixes it, the
/// exclusion (and the README's note) must go.
#[test]
fn excluded_rules_are_still_broken_upstream() {
    let registry = registry();
    let template = scanned().join("blog/cloudformation/data-data.yaml");
    for (file, rule, why) in BROKEN {
        let report = validate(std::slice::from_ref(&template), &[registry.join(file)]);
        assert!(
            report.failed.contains_key(rule),
            "{rule} passes on the blog's owner template now: remove it from BROKEN and from \
             the README (it was excluded because it {why})"
        );
    }
}

/// Every suppression names a rule crossgrant documents, with the reason it gives checkov.
#[test]
fn suppressions_carry_the_documented_reasons() {
    let documented: BTreeMap<&str, BTreeSet<&str>> =
        checkov::ALL
            .iter()
            .fold(BTreeMap::new(), |mut map, exemption| {
                for rule in exemption.guard {
                    map.entry(*rule).or_default().insert(exemption.reason);
                }
                map
            });
    let mut suppressed = BTreeSet::new();
    for path in all_templates() {
        if path.extension().is_some_and(|ext| ext != "json") {
            continue;
        }
        let template: Json = serde_json::from_str(&fs::read_to_string(&path).unwrap()).unwrap();
        for (logical, resource) in template["Resources"].as_object().unwrap() {
            let guard = &resource["Metadata"]["guard"];
            for rule in guard["SuppressedRules"].as_array().into_iter().flatten() {
                let rule = rule.as_str().unwrap();
                let reason = guard["Reasons"][rule].as_str();
                assert!(
                    reason.is_some_and(|reason| documented
                        .get(rule)
                        .is_some_and(|reasons| reasons.contains(reason))),
                    "{}: {logical} suppresses {rule} with a reason crossgrant does not \
                     document: {reason:?}",
                    path.display()
                );
                suppressed.insert(rule.to_string());
            }
        }
    }
    let expected: BTreeSet<String> = documented.keys().map(|rule| rule.to_string()).collect();
    assert_eq!(suppressed, expected, "every documented suppression is used");
}

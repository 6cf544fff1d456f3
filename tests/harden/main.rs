//! Secure defaults: what the owner's bucket and key policies hold by default and how each
//! switch takes a guardrail away, and that the generated code of every example (plus a
//! scenario with every guardrail at its strictest) is clean for the real scanners: checkov
//! reports no failed check, cfn-lint no finding, `terraform fmt -check` and
//! `terraform validate` nothing. One scanner run covers all of them. The compliance rule
//! sets of cfn-guard run over the same output in [`guard`].
//!
//! checkov lives in its own virtual environment, `target/checkov-venv` (or the binary named by
//! `CROSSGRANT_CHECKOV`), installed from `tests/checkov-requirements.txt`.

#[path = "../common/mod.rs"]
mod common;

mod guard;

use common::{root, synth};

use crossgrant::lower::{lower, Lowered};
use crossgrant::policy::{Clause, Effect, PolicyDocument, Principal, Ref, Statement, Value};
use crossgrant::render::checkov;
use serde_json::Value as Json;
use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

const EXAMPLES: [(&str, &str); 7] = [
    ("blog", include_str!("../../examples/blog.toml")),
    ("china", include_str!("../../examples/china.toml")),
    (
        "multi-account",
        include_str!("../../examples/multi-account.toml"),
    ),
    (
        "multi-region",
        include_str!("../../examples/multi-region.toml"),
    ),
    (
        "read-only-prefix",
        include_str!("../../examples/read-only-prefix.toml"),
    ),
    (
        "role-principal",
        include_str!("../../examples/role-principal.toml"),
    ),
    (
        "same-account",
        include_str!("../../examples/same-account.toml"),
    ),
];

fn example(name: &str) -> &'static str {
    EXAMPLES
        .iter()
        .find(|(example, _)| *example == name)
        .map(|(_, text)| *text)
        .unwrap_or_else(|| panic!("no example {name}"))
}

/// Every guardrail at its strictest, access logs on, and a bucket on the AWS-managed key.
const STRICT: &str = r#"
name = "strict"
region = "eu-west-1"

[accounts.data]
id = "111111111111"

[accounts.app]
id = "222222222222"

[keys.data]
account = "data"
alias = "strict-data"

[buckets.shared]
account = "data"
name = "acme-strict-shared"
key = "data"
enforce_encryption = "strict"
access_log_bucket = "acme-central-logs"
access_log_prefix = "s3/acme-strict-shared/"
abort_incomplete_uploads_days = 3

[buckets.local]
account = "data"
name = "acme-strict-local"
key = "aws-managed"
enforce_encryption = "strict"
access_log_bucket = "acme-central-logs"

[roles.app]
account = "app"
name = "strict-app"
service = "lambda.amazonaws.com"

[roles.local]
account = "data"
name = "strict-local"
service = "lambda.amazonaws.com"

[[grants]]
role = "app"
bucket = "shared"
access = "read-write"

[[grants]]
role = "local"
bucket = "local"
access = "read"
"#;

/// Every switch off: what checkov then reports is what switching off costs.
const RELAXED: &str = r#"
name = "relaxed"
region = "eu-west-1"

[accounts.data]
id = "111111111111"

[accounts.app]
id = "222222222222"

[keys.data]
account = "data"
alias = "relaxed-data"
rotation = false
via_s3_only = false

[buckets.shared]
account = "data"
name = "acme-relaxed-shared"
key = "data"
require_tls = false
enforce_encryption = "off"
block_public_access = false
versioning = false
abort_incomplete_uploads_days = 0

[roles.app]
account = "app"
name = "relaxed-app"
service = "lambda.amazonaws.com"

[[grants]]
role = "app"
bucket = "shared"
access = "read-write"
"#;

fn lowered(text: &str) -> Lowered {
    let scenario = crossgrant::parse_scenario("test.toml", text)
        .unwrap_or_else(|diagnostics| panic!("{}", diagnostics.render()));
    lower(scenario)
}

fn blog() -> Lowered {
    lowered(example("blog"))
}

fn statement<'a>(policy: &'a PolicyDocument, sid: &str) -> Option<&'a Statement> {
    policy
        .statements
        .iter()
        .find(|statement| statement.sid.as_deref() == Some(sid))
}

fn condition<'a>(statement: &'a Statement, operator: &str, key: &str) -> Option<&'a [Value]> {
    statement
        .condition
        .get(operator)
        .and_then(|keys| keys.get(key))
        .map(Vec::as_slice)
}

fn lit(text: &str) -> Value {
    Value::lit(text)
}

#[test]
fn every_bucket_denies_requests_without_tls_by_default() {
    for (name, text) in EXAMPLES {
        let lowered = lowered(text);
        for bucket in lowered.scenario.buckets.values() {
            let policy = &lowered.bucket_policies[&bucket.name];
            let deny = statement(policy, "DenyInsecureTransport")
                .unwrap_or_else(|| panic!("{name}: bucket {} has no TLS guardrail", bucket.name));
            assert_eq!(deny.effect, Effect::Deny);
            assert_eq!(deny.principal, Some(Clause::Is(Principal::Any)));
            assert_eq!(deny.action, Clause::Is(vec!["s3:*".to_string()]));
            assert_eq!(
                deny.resource,
                Some(Clause::Is(vec![
                    lit(&bucket.arn()),
                    lit(&format!("{}/*", bucket.arn()))
                ]))
            );
            assert_eq!(
                condition(deny, "Bool", "aws:SecureTransport"),
                Some(&[lit("false")][..])
            );
        }
    }
}

/// A guardrail against a header that is named and wrong: a negated operator alone (or any
/// `…IfExists`) also matches a missing header, so `Null: false` must stand beside it.
fn assert_named_and_wrong(statement: &Statement, key: &str, expected: &Value) {
    assert_eq!(statement.effect, Effect::Deny);
    assert_eq!(statement.action, Clause::Is(vec!["s3:PutObject".into()]));
    assert_eq!(
        condition(statement, "StringNotEquals", key),
        Some(std::slice::from_ref(expected))
    );
    assert_eq!(condition(statement, "Null", key), Some(&[lit("false")][..]));
    assert_eq!(statement.condition.len(), 2, "{statement:?}");
}

const KEY_ID: &str = "s3:x-amz-server-side-encryption-aws-kms-key-id";
const SSE: &str = "s3:x-amz-server-side-encryption";

#[test]
fn uploads_must_use_the_buckets_key_when_they_name_one() {
    let lowered = blog();
    let policy = &lowered.bucket_policies["shared"];
    let key_arn = Value::Ref(Ref::KeyArn("data".into()));
    assert_named_and_wrong(
        statement(policy, "DenyOtherKmsKey").expect("key guardrail"),
        KEY_ID,
        &key_arn,
    );
    assert_named_and_wrong(
        statement(policy, "DenyOtherEncryption").expect("guardrail"),
        SSE,
        &lit("aws:kms"),
    );
    // `aws:kms` without a key id would make S3 use the AWS-managed key.
    let without_key = statement(policy, "DenyKmsWithoutKeyArn").expect("guardrail");
    assert_eq!(
        condition(without_key, "StringEquals", SSE),
        Some(&[lit("aws:kms")][..])
    );
    assert_eq!(
        condition(without_key, "Null", KEY_ID),
        Some(&[lit("true")][..])
    );
    // The default accepts uploads that name no encryption: nothing denies a missing header.
    for statement in &policy.statements {
        for keys in statement.condition.values() {
            for (key, values) in keys {
                if key.starts_with("s3:x-amz-server-side-encryption") {
                    assert!(
                        !(statement.condition.len() == 1 && values == &[lit("true")]),
                        "{statement:?} denies uploads without encryption headers"
                    );
                }
            }
        }
    }
    assert!(statement(policy, "DenyMissingKmsKey").is_none());
}

#[test]
fn strict_enforcement_requires_the_headers() {
    let lowered = lowered(STRICT);
    let shared = &lowered.bucket_policies["shared"];
    for (sid, key) in [
        ("DenyMissingKmsKey", KEY_ID),
        ("DenyMissingEncryption", SSE),
    ] {
        let missing = statement(shared, sid).expect("strict guardrail");
        assert_eq!(condition(missing, "Null", key), Some(&[lit("true")][..]));
    }
    assert!(statement(shared, "DenyKmsWithoutKeyArn").is_none());
    // On the AWS-managed key, naming any key id is refused and the header is required.
    let local = &lowered.bucket_policies["local"];
    let any_key = statement(local, "DenyOtherKmsKey").expect("guardrail");
    assert_eq!(
        condition(any_key, "Null", KEY_ID),
        Some(&[lit("false")][..])
    );
    let missing = statement(local, "DenyMissingEncryption").expect("strict guardrail");
    assert_eq!(condition(missing, "Null", SSE), Some(&[lit("true")][..]));
}

#[test]
fn switching_guardrails_off_removes_them() {
    let lowered = lowered(RELAXED);
    let policy = &lowered.bucket_policies["shared"];
    assert!(policy
        .statements
        .iter()
        .all(|statement| statement.effect == Effect::Allow));
    let key = &lowered.key_policies["data"];
    assert!(key.statements.iter().all(|statement| {
        condition(statement, "StringEquals", "kms:ViaService").is_none()
            && condition(statement, "StringEquals", "kms:CallerAccount").is_none()
    }));
    let bucket = &lowered.scenario.buckets["shared"];
    assert!(!bucket.block_public_access && !bucket.versioning);
    assert_eq!(bucket.abort_incomplete_uploads_days, None);
}

/// Guardrails name every principal in a `Deny`; grants never name every principal.
#[test]
fn only_deny_statements_name_every_principal() {
    for (name, text) in EXAMPLES.iter().copied().chain([("strict", STRICT)]) {
        let lowered = lowered(text);
        for policy in lowered
            .bucket_policies
            .values()
            .chain(lowered.key_policies.values())
        {
            for statement in &policy.statements {
                if statement.principal == Some(Clause::Is(Principal::Any)) {
                    assert_eq!(statement.effect, Effect::Deny, "{name}: {statement:?}");
                }
            }
        }
    }
}

#[test]
fn consumers_use_the_key_only_through_s3_from_their_own_account() {
    let lowered = lowered(example("multi-account"));
    let mut limited = 0;
    for (key_name, policy) in &lowered.key_policies {
        let key = &lowered.scenario.keys[key_name];
        for statement in &policy.statements {
            let sid = statement.sid.as_deref().unwrap_or_default();
            let via = condition(statement, "StringEquals", "kms:ViaService");
            let callers = condition(statement, "StringEquals", "kms:CallerAccount");
            if sid == "EnableIamPolicies" || sid == "KeyAdministrators" {
                assert!(
                    via.is_none() && callers.is_none(),
                    "{sid} must stay as it is"
                );
                continue;
            }
            limited += 1;
            assert_eq!(
                via,
                Some(&[lit(&format!("s3.{}.amazonaws.com", key.region))][..])
            );
            let pinned: BTreeSet<String> = condition(statement, "ArnEquals", "aws:PrincipalArn")
                .unwrap()
                .iter()
                .map(|arn| arn.as_lit().unwrap().split(':').nth(4).unwrap().to_string())
                .collect();
            let callers: BTreeSet<String> = callers
                .unwrap()
                .iter()
                .map(|id| id.as_lit().unwrap().to_string())
                .collect();
            assert_eq!(callers, pinned, "{sid}");
        }
    }
    assert!(limited >= 3, "every consumer statement is limited");
}

/// In the key's own account the key policy delegates to IAM, so the role's identity policy
/// carries the limit; `check` probes a direct `kms:Decrypt` and sees it refused.
#[test]
fn same_account_roles_use_the_key_only_through_s3() {
    let lowered = lowered(example("same-account"));
    let policy = &lowered.role_policies["worker"];
    let use_key = statement(policy, "UseMainKey").expect("key statement");
    assert_eq!(
        condition(use_key, "StringEquals", "kms:ViaService"),
        Some(&[lit("s3.eu-central-1.amazonaws.com")][..])
    );
    let report = crossgrant::eval::check::check(&lowered);
    assert!(report.passed());
    assert!(report.results.iter().any(|result| {
        result.probe.operation.name() == "kms:Decrypt called directly" && !result.probe.intended
    }));
}

#[test]
fn a_role_principal_names_its_account_as_caller() {
    let lowered = lowered(example("role-principal"));
    let policy = &lowered.key_policies["data"];
    let consumer = statement(policy, "AppUseKey").expect("consumer statement");
    assert_eq!(
        condition(consumer, "StringEquals", "kms:CallerAccount"),
        Some(&[lit("222222222222")][..])
    );
}

/// crossgrant's own evaluator proves, for every example, that each grant still works with
/// every guardrail on (uploads with and without encryption headers, multipart uploads, reads)
/// and that plain-HTTP requests and uploads naming another key are refused.
#[test]
fn every_grant_still_works_under_the_guardrails() {
    for (name, text) in EXAMPLES.iter().copied().chain([("relaxed", RELAXED)]) {
        let report = crossgrant::eval::check::check(&lowered(text));
        let failures: Vec<String> = report
            .failures()
            .map(|failure| format!("{failure:?}"))
            .collect();
        assert!(report.passed(), "{name}: {failures:#?}");
    }
}

/// The bucket policy refers to the key ARN; both live in the owner's data unit, so it
/// resolves locally in each target.
#[test]
fn the_key_arn_in_the_bucket_policy_resolves_within_the_stack() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = dir.path().join("blog.toml");
    fs::write(&scenario, example("blog")).unwrap();
    let out = dir.path().join("out");
    synth(&scenario, &out, &[]);
    let stack = fs::read_to_string(out.join("cloudformation/data-data.yaml")).unwrap();
    assert!(stack.contains("s3:x-amz-server-side-encryption-aws-kms-key-id: !GetAtt DataKey.Arn"));
    let module = fs::read_to_string(out.join("terraform/modules/data/main.tf")).unwrap();
    assert!(module
        .contains("\"s3:x-amz-server-side-encryption-aws-kms-key-id\" = aws_kms_key.data.arn"));
}

/// Every example, the strict and the relaxed scenario, rendered once for all scanners:
/// `<case>/` (CloudFormation YAML and Terraform) and `<case>-json/` (CloudFormation JSON).
fn scanned() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap().keep();
        let cases = EXAMPLES
            .iter()
            .copied()
            .chain([("strict", STRICT), ("relaxed", RELAXED)]);
        for (name, text) in cases {
            let scenario = dir.join(format!("{name}.toml"));
            fs::write(&scenario, text).unwrap();
            synth(&scenario, &dir.join(name), &[]);
            synth(
                &scenario,
                &dir.join(format!("{name}-json")),
                &["--target", "cloudformation", "--format", "json"],
            );
            fs::remove_file(&scenario).unwrap();
        }
        // Examples of existing resources read their live policies from beside them.
        for name in [
            "existing-bucket",
            "existing-role",
            "eks",
            "owner-role",
            "identity-center",
        ] {
            let scenario = root().join("examples").join(format!("{name}.toml"));
            synth(&scenario, &dir.join(name), &[]);
            synth(
                &scenario,
                &dir.join(format!("{name}-json")),
                &["--target", "cloudformation", "--format", "json"],
            );
        }
        render_consolidated(&dir);
        dir
    })
}

/// Consolidated output: `split/`, a role whose access needs managed policies beside its
/// inline policy, and `organization/`, policies that name the organization and a role path
/// across it (every consolidation step forced on a small scenario).
fn render_consolidated(dir: &Path) {
    use crossgrant::consolidate::Fit;
    use crossgrant::generate::{scenario as generated, Shape};
    use crossgrant::render::{render_all, Format, Options, Target, Templates};
    let split = dir.join("split.toml");
    let shape = Shape {
        seed: 3,
        buckets: 60,
        roles: 1,
        accounts: 1,
        grants: 60,
        ..Shape::default()
    };
    fs::write(&split, generated(&shape).0).unwrap();
    synth(&split, &dir.join("split"), &[]);
    fs::remove_file(&split).unwrap();
    assert!(
        fs::read_to_string(dir.join("split/cloudformation/consumer-0001-access.yaml"))
            .unwrap()
            .contains("AWS::IAM::ManagedPolicy"),
        "the split scenario deploys managed policies"
    );

    let shape = Shape {
        buckets: 1,
        roles: 8,
        accounts: 4,
        team_size: 2,
        paths: Some(1),
        grants: 8,
        organization: true,
        organization_paths: true,
        ..Shape::default()
    };
    let scenario = crossgrant::parse_scenario("organization.toml", &generated(&shape).0).unwrap();
    let lowered = crossgrant::lower::lower_with(scenario, Fit::Always);
    let steps = crossgrant::plan::plan(&lowered).unwrap();
    let options = Options {
        target: Target::All,
        format: Format::Yaml,
    };
    let files = render_all(&Templates::load(None).unwrap(), &lowered, &steps, options).unwrap();
    crossgrant::output::write(&dir.join("organization"), &files).unwrap();
    assert!(
        files
            .values()
            .any(|text| text.contains("aws:PrincipalOrgID")),
        "the organization scenario names the organization"
    );
}

fn run(command: &mut Command) -> (bool, String) {
    let output = command
        .output()
        .unwrap_or_else(|error| panic!("cannot run {command:?}: {error}"));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.success(), text)
}

fn checkov_binary() -> PathBuf {
    let path = std::env::var_os("CROSSGRANT_CHECKOV")
        .map(PathBuf::from)
        .unwrap_or_else(|| common::root().join("target/checkov-venv/bin/checkov"));
    assert!(
        path.is_file(),
        "checkov is not installed at {}: run `python3 -m venv target/checkov-venv && \
         target/checkov-venv/bin/pip install -r tests/checkov-requirements.txt` \
         (or point CROSSGRANT_CHECKOV at a checkov binary)",
        path.display()
    );
    path
}

fn pinned_checkov_version() -> String {
    let requirements = include_str!("../checkov-requirements.txt");
    requirements
        .lines()
        .find_map(|line| line.trim().strip_prefix("checkov=="))
        .expect("tests/checkov-requirements.txt pins checkov")
        .to_string()
}

/// A finding of one checkov report, by check and the file it is in (relative to the scan).
#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Finding {
    check: String,
    case: String,
    resource: String,
    comment: String,
}

fn findings(report: &Json, kind: &str) -> Vec<Finding> {
    report["results"][kind]
        .as_array()
        .into_iter()
        .flatten()
        .map(|item| Finding {
            check: item["check_id"].as_str().unwrap_or_default().to_string(),
            case: item["file_path"]
                .as_str()
                .unwrap_or_default()
                .trim_start_matches('/')
                .split('/')
                .next()
                .unwrap_or_default()
                .trim_end_matches("-json")
                .to_string(),
            resource: item["resource"].as_str().unwrap_or_default().to_string(),
            comment: item["suppress_comment"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
        })
        .collect()
}

#[test]
fn checkov_reports_no_failed_check() {
    let checkov = checkov_binary();
    let (_, version) = run(Command::new(&checkov).arg("--version"));
    assert_eq!(version.trim(), pinned_checkov_version(), "checkov version");
    let dir = scanned();
    let output = Command::new(&checkov)
        .arg("--directory")
        .arg(dir)
        .args(["--framework", "cloudformation", "terraform"])
        .args(["--output", "json", "--skip-download"])
        .current_dir(dir)
        .output()
        .unwrap();
    let reports: Json = serde_json::from_slice(&output.stdout).unwrap_or_else(|error| {
        panic!(
            "checkov printed no JSON report ({error}): {}",
            String::from_utf8_lossy(&output.stderr)
        )
    });
    let reports = reports.as_array().cloned().unwrap_or_else(|| vec![reports]);
    let mut failed_by_case: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut skipped: BTreeSet<(String, String)> = BTreeSet::new();
    let documented: BTreeMap<&str, &str> = checkov::ALL
        .iter()
        .filter_map(|exemption| exemption.checkov.map(|id| (id, exemption.reason)))
        .collect();
    for report in &reports {
        let kind = report["check_type"].as_str().unwrap_or_default();
        let summary = &report["summary"];
        assert_eq!(summary["parsing_errors"], 0, "{kind}: parsing errors");
        assert!(
            summary["passed"].as_u64().unwrap_or(0) >= 150,
            "{kind}: checkov passed too few checks to have scanned everything: {summary}"
        );
        for finding in findings(report, "failed_checks") {
            failed_by_case
                .entry(finding.case)
                .or_default()
                .insert(finding.check);
        }
        for skip in findings(report, "skipped_checks") {
            skipped.insert((skip.case.clone(), skip.check.clone()));
            // checkov reports no comment for resources inside Terraform modules; the
            // comments themselves are checked in the files below.
            let documented_reason = documented.get(skip.check.as_str());
            assert!(
                documented_reason
                    .is_some_and(|reason| skip.comment.is_empty() || skip.comment == *reason),
                "{kind}: {} skips {} with a reason crossgrant does not document: {:?}",
                skip.resource,
                skip.check,
                skip.comment
            );
        }
    }
    assert_eq!(reports.len(), 2, "one report per framework");
    // Access logging is skipped only where the scenario has no log bucket.
    let logging = |case: &str| skipped.contains(&(case.to_string(), "CKV_AWS_18".to_string()));
    assert!(logging("blog") && !logging("strict"), "{skipped:?}");
    // A bucket policy naming the organization is not public, whatever the Terraform check says.
    assert!(
        skipped.contains(&("organization".to_string(), "CKV_AWS_70".to_string())),
        "{skipped:?}"
    );
    for (path, text) in terraform_files(dir) {
        for line in text.lines().filter(|line| line.contains("checkov:skip")) {
            let (id, reason) = line
                .trim()
                .strip_prefix("#checkov:skip=")
                .and_then(|rest| rest.split_once(':'))
                .unwrap_or_else(|| panic!("{}: malformed skip {line:?}", path.display()));
            assert_eq!(
                documented.get(id),
                Some(&reason),
                "{}: undocumented skip {line:?}",
                path.display()
            );
        }
    }
    let relaxed = failed_by_case.remove("relaxed").unwrap_or_default();
    assert!(
        failed_by_case.is_empty(),
        "checkov failed checks on secure defaults: {failed_by_case:#?}"
    );
    // Switched off, the guardrails are what checkov misses: versioning (CKV_AWS_21), key
    // rotation (CKV_AWS_7), Block Public Access (CKV_AWS_53..56 in CloudFormation).
    for check in ["CKV_AWS_21", "CKV_AWS_7", "CKV_AWS_53", "CKV_AWS_56"] {
        assert!(
            relaxed.contains(check),
            "relaxed scenario should fail {check}: {relaxed:?}"
        );
    }
    eprintln!("relaxed scenario fails: {relaxed:?}");
}

fn terraform_files(dir: &Path) -> Vec<(PathBuf, String)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(next) = stack.pop() {
        for entry in fs::read_dir(&next).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                if !path.ends_with(".terraform") {
                    stack.push(path);
                }
            } else if path.extension().is_some_and(|ext| ext == "tf") {
                let text = fs::read_to_string(&path).unwrap();
                out.push((path, text));
            }
        }
    }
    out
}

#[test]
fn cfn_lint_reports_nothing() {
    let dir = scanned();
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
    assert!(templates.len() >= 30, "found {} templates", templates.len());
    let (ok, text) = run(Command::new("cfn-lint").args(&templates));
    assert!(ok, "cfn-lint findings:\n{text}");
}

/// `terraform fmt -check` over everything, then one `validate` of a root that holds every
/// scenario's root as a module (one provider start instead of one per scenario).
#[test]
fn terraform_formats_and_validates() {
    let dir = scanned();
    let (ok, text) = run(common::terraform()
        .args(["fmt", "-check", "-recursive", "-diff"])
        .arg(dir));
    assert!(ok, "terraform fmt would change:\n{text}");
    let root = tempfile::tempdir().unwrap();
    let mut main = String::new();
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let terraform = path.join("terraform");
        if terraform.is_dir() {
            let name = path
                .file_name()
                .unwrap()
                .to_str()
                .unwrap()
                .replace('-', "_");
            main.push_str(&format!(
                "module \"{name}\" {{\n  source = \"{}\"\n}}\n\n",
                terraform.display()
            ));
        }
    }
    fs::write(root.path().join("main.tf"), main).unwrap();
    let terraform = |args: &[&str]| run(common::terraform().args(args).current_dir(root.path()));
    let (ok, text) = terraform(&[
        "init",
        "-backend=false",
        "-plugin-dir=/opt/tf-plugins",
        "-no-color",
        "-input=false",
    ]);
    assert!(ok, "terraform init:\n{text}");
    let (ok, text) = terraform(&["validate", "-no-color"]);
    assert!(
        ok && !text.contains("Warning"),
        "terraform validate:\n{text}"
    );
}

/// The Terraform aligner emulates `terraform fmt`: a comment line, like a blank line, ends a
/// run of aligned attributes. Checked against `terraform fmt` itself.
#[test]
fn comments_break_alignment_runs_as_terraform_fmt_does() {
    let text = "resource \"x\" \"y\" {\n  a = 1\n  #checkov:skip=CKV_AWS_18:reason here\n  longer = 2\n  bb = 3\n  # plain comment\n  c = 4\n\n  dd = 5\n  e = 6\n}\n";
    let aligned = crossgrant::render::hcl::align(text);
    assert_eq!(
        aligned,
        "resource \"x\" \"y\" {\n  a = 1\n  #checkov:skip=CKV_AWS_18:reason here\n  longer = 2\n  bb     = 3\n  # plain comment\n  c = 4\n\n  dd = 5\n  e  = 6\n}\n"
    );
    let mut fmt = common::terraform()
        .args(["fmt", "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("terraform runs");
    use std::io::Write;
    fmt.stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let output = fmt.wait_with_output().unwrap();
    assert!(output.status.success());
    assert_eq!(String::from_utf8(output.stdout).unwrap(), aligned);
}

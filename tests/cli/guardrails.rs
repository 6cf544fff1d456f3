//! The organization's guardrails end to end: `check` proves `examples/guardrails.toml` under
//! its SCP, RCP, endpoint policy and permissions boundary; each layer, changed to break a
//! grant, makes `check` fail with the row naming the guardrail's file and statement; a grant
//! limited to VPC endpoints is probed from outside them; `explain` takes each layer by flag;
//! and bad guardrails are refused at their line.

use crate::common;
use serde_json::json;
use std::path::{Path, PathBuf};

const EXAMPLE: &str = "examples/guardrails.toml";
const ANALYTICS: &str = "arn:aws:iam::222222222222:role/analytics-s3";

/// A copy of the example and its guardrail files in `dir`, with `edit` applied to the
/// scenario text and `files` written over the guardrail files they name.
fn variant(
    dir: &Path,
    edit: impl Fn(String) -> String,
    files: &[(&str, serde_json::Value)],
) -> PathBuf {
    let root = common::root();
    std::fs::create_dir_all(dir.join("org")).unwrap();
    for entry in std::fs::read_dir(root.join("examples/org")).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), dir.join("org").join(entry.file_name())).unwrap();
    }
    for (name, document) in files {
        std::fs::write(dir.join(name), document.to_string()).unwrap();
    }
    let text = std::fs::read_to_string(root.join(EXAMPLE)).unwrap();
    let scenario = dir.join("scenario.toml");
    std::fs::write(&scenario, edit(text)).unwrap();
    scenario
}

fn check(scenario: &Path) -> (i32, String, String) {
    let output = common::crossgrant(&["check", scenario.to_str().unwrap()]);
    (
        output.status.code().unwrap(),
        common::text(&output.stdout),
        common::text(&output.stderr),
    )
}

/// The rows marked WRONG.
fn wrong_rows(stdout: &str) -> Vec<&str> {
    stdout
        .lines()
        .filter(|line| line.trim_start().starts_with("WRONG"))
        .collect()
}

/// Every file crossgrant wrote below `out`, as text.
fn rendered(out: &Path) -> std::collections::BTreeMap<PathBuf, String> {
    common::tree(out)
        .into_iter()
        .map(|(path, bytes)| (path, common::text(&bytes)))
        .collect()
}

fn document(statements: serde_json::Value) -> serde_json::Value {
    json!({"Version": "2012-10-17", "Statement": statements})
}

#[test]
fn the_example_holds_under_every_guardrail_and_the_report_shows_them_deciding() {
    let output = common::crossgrant(&["check", EXAMPLE]);
    let stdout = common::text(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{stdout}");
    // The RCP stops plain HTTP beside the bucket policy; the boundary stops policy changes;
    // the endpoint-bound grant is refused from outside its endpoint.
    assert!(stdout.contains("resource control policy: denied by RCP org/rcp-organization-only.json statement \"EnforceSecureTransport\""), "{stdout}");
    assert!(stdout.contains("permissions boundary: denied by permissions boundary org/boundary-s3-data.json statement \"NoPolicyChanges\""), "{stdout}");
    assert!(
        stdout.contains("GetObject from outside its VPC endpoints"),
        "{stdout}"
    );
}

#[test]
fn an_scp_that_breaks_a_grant_fails_check_naming_its_file_and_statement() {
    let dir = tempfile::tempdir().unwrap();
    let scp = document(
        json!([{"Sid": "NoPlainReads", "Effect": "Deny", "Action": "s3:GetObject",
        "Resource": "*"}]),
    );
    let scenario = variant(
        dir.path(),
        |text| text,
        &[("org/scp-data-perimeter.json", scp)],
    );
    let (code, stdout, _) = check(&scenario);
    assert_eq!(code, 1, "{stdout}");
    let rows = wrong_rows(&stdout);
    assert!(!rows.is_empty(), "{stdout}");
    assert!(rows.iter().all(|row| row.contains("service control policy: denied by SCP org/scp-data-perimeter.json statement \"NoPlainReads\"")), "{rows:#?}");
    assert!(
        rows[0].contains("the grant cannot work under this service control policy"),
        "{}",
        rows[0]
    );
}

#[test]
fn an_allow_list_scp_without_the_key_calls_denies_implicitly() {
    let dir = tempfile::tempdir().unwrap();
    let scp = document(
        json!([{"Sid": "S3Only", "Effect": "Allow", "Action": ["s3:*", "sts:*"],
        "Resource": "*"}]),
    );
    let scenario = variant(
        dir.path(),
        |text| text,
        &[("org/scp-data-perimeter.json", scp)],
    );
    let (code, stdout, _) = check(&scenario);
    assert_eq!(code, 1, "{stdout}");
    let rows = wrong_rows(&stdout);
    assert!(
        rows.iter().any(|row| row
            .contains("kms:Decrypt: service control policy: no statement allows this request")),
        "{rows:#?}"
    );
}

#[test]
fn an_rcp_that_breaks_a_grant_fails_check_naming_its_file_and_statement() {
    let dir = tempfile::tempdir().unwrap();
    // Keys of the data account used by its own principals only: S3 cannot decrypt for the
    // consumers any more.
    let rcp = document(
        json!([{"Sid": "KeysForOwnAccount", "Effect": "Deny", "Principal": "*",
        "Action": "kms:*", "Resource": "*",
        "Condition": {"StringNotEquals": {"aws:PrincipalAccount": "111111111111"}}}]),
    );
    let scenario = variant(
        dir.path(),
        |text| text,
        &[("org/rcp-organization-only.json", rcp)],
    );
    let (code, stdout, _) = check(&scenario);
    assert_eq!(code, 1, "{stdout}");
    let rows = wrong_rows(&stdout);
    assert!(!rows.is_empty());
    assert!(rows.iter().all(|row| row.contains("resource control policy: denied by RCP org/rcp-organization-only.json statement \"KeysForOwnAccount\"")), "{rows:#?}");
}

#[test]
fn an_endpoint_policy_that_breaks_a_grant_fails_check() {
    let dir = tempfile::tempdir().unwrap();
    let endpoint = document(
        json!([{"Sid": "OtherBucket", "Effect": "Allow", "Principal": "*",
        "Action": "s3:*", "Resource": ["arn:aws:s3:::acme-other", "arn:aws:s3:::acme-other/*"]}]),
    );
    let scenario = variant(
        dir.path(),
        |text| text,
        &[("org/vpce-organization-buckets.json", endpoint)],
    );
    let (code, stdout, _) = check(&scenario);
    assert_eq!(code, 1, "{stdout}");
    let rows = wrong_rows(&stdout);
    assert!(!rows.is_empty());
    assert!(
        rows.iter()
            .all(|row| row.contains("VPC endpoint policy: no statement allows this request")),
        "{rows:#?}"
    );
    // Only the role behind the endpoint is affected.
    let reporting = stdout
        .split("role reporting (")
        .nth(1)
        .unwrap()
        .split("\n\n")
        .next()
        .unwrap();
    assert!(!reporting.contains("WRONG"), "{reporting}");
}

#[test]
fn a_boundary_that_breaks_a_grant_fails_check() {
    let dir = tempfile::tempdir().unwrap();
    let boundary = document(json!([{"Sid": "S3Only", "Effect": "Allow",
        "Action": ["s3:GetObject", "s3:GetObjectVersion", "s3:PutObject", "s3:ListBucket"], "Resource": "*"}]));
    let scenario = variant(
        dir.path(),
        |text| text,
        &[("org/boundary-s3-data.json", boundary)],
    );
    let (code, stdout, _) = check(&scenario);
    assert_eq!(code, 1, "{stdout}");
    let rows = wrong_rows(&stdout);
    assert!(
        rows.iter().any(|row| row.contains(
            "kms:GenerateDataKey: permissions boundary: no statement allows this request"
        )),
        "{rows:#?}"
    );
}

#[test]
fn a_guardrail_denying_only_what_nothing_grants_is_fine() {
    let dir = tempfile::tempdir().unwrap();
    let scp = document(json!([{"Sid": "NoDeletes", "Effect": "Deny",
        "Action": ["s3:DeleteObject", "s3:DeleteBucket"], "Resource": "*"}]));
    let scenario = variant(
        dir.path(),
        |text| text,
        &[("org/scp-data-perimeter.json", scp)],
    );
    let (code, stdout, _) = check(&scenario);
    assert_eq!(code, 0, "{stdout}");
    assert!(
        stdout.contains("denied by SCP org/scp-data-perimeter.json statement \"NoDeletes\""),
        "{stdout}"
    );
}

#[test]
fn a_role_behind_an_endpoint_its_grant_does_not_name_cannot_use_the_grant() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = variant(
        dir.path(),
        |text| {
            text.replace(
                "vpc_endpoints = [\"vpce-0a1b2c3d4e5f60718\"]",
                "vpc_endpoints = [\"vpce-0fedcba987654321f\"]",
            )
        },
        &[],
    );
    let (code, stdout, _) = check(&scenario);
    assert_eq!(code, 1, "{stdout}");
    let rows = wrong_rows(&stdout);
    assert!(
        rows.iter()
            .any(|row| row.contains("bucket policy: no statement allows this request")),
        "{rows:#?}"
    );
}

#[test]
fn the_endpoint_condition_is_what_refuses_requests_from_outside() {
    // Without `vpc_endpoints`, the same role is allowed from anywhere: nothing probes from
    // outside, and the policies carry no aws:SourceVpce.
    let dir = tempfile::tempdir().unwrap();
    let scenario = variant(
        dir.path(),
        |text| text.replace("vpc_endpoints = [\"vpce-0a1b2c3d4e5f60718\"]\n", ""),
        &[],
    );
    let (code, stdout, _) = check(&scenario);
    assert_eq!(code, 0, "{stdout}");
    assert!(!stdout.contains("from outside its VPC endpoints"));
    let out = dir.path().join("out");
    common::synth(&scenario, &out, &[]);
    let files = rendered(&out);
    assert!(files.values().all(|text| !text.contains("aws:SourceVpce")));
    let out = dir.path().join("out-example");
    common::synth(&common::root().join(EXAMPLE), &out, &[]);
    let files = rendered(&out);
    let bucket_policy = files
        .iter()
        .find(|(path, _)| path.to_string_lossy().ends_with("data-data.yaml"))
        .map(|(_, text)| text)
        .expect("the data account's stack");
    assert!(bucket_policy.contains("aws:SourceVpce"), "{bucket_policy}");
}

#[test]
fn created_roles_get_the_permissions_boundary_in_both_formats() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    common::synth(&common::root().join(EXAMPLE), &out, &[]);
    let files = rendered(&out);
    let arn = "arn:aws:iam::222222222222:policy/s3-data-boundary";
    let cloudformation: usize = files
        .iter()
        .filter(|(path, _)| path.starts_with("cloudformation"))
        .map(|(_, text)| text.matches(&format!("PermissionsBoundary: {arn}")).count())
        .sum();
    let terraform: usize = files
        .iter()
        .filter(|(path, _)| path.starts_with("terraform"))
        .map(|(_, text)| {
            text.matches(&format!("permissions_boundary = \"{arn}\""))
                .count()
        })
        .sum();
    assert_eq!((cloudformation, terraform), (2, 2), "{:?}", files.keys());
}

fn explain(dir: &Path, extra: &[&str]) -> (i32, String) {
    let identity = dir.join("identity.json");
    std::fs::write(
        &identity,
        document(json!([{"Effect": "Allow", "Action": "s3:GetObject",
        "Resource": "arn:aws:s3:::acme-org-shared-data/*"}]))
        .to_string(),
    )
    .unwrap();
    let bucket = dir.join("bucket.json");
    std::fs::write(
        &bucket,
        document(json!([{"Sid": "Analytics", "Effect": "Allow",
        "Principal": {"AWS": ANALYTICS}, "Action": "s3:GetObject",
        "Resource": "arn:aws:s3:::acme-org-shared-data/*"}]))
        .to_string(),
    )
    .unwrap();
    let mut args = vec![
        "explain",
        "--principal",
        ANALYTICS,
        "--action",
        "s3:GetObject",
        "--bucket",
        "acme-org-shared-data",
        "--key",
        "reports/a.csv",
        "--bucket-account",
        "111111111111",
        "--region",
        "eu-west-1",
        "--sse-s3",
        "--bucket-policy",
        bucket.to_str().unwrap(),
        "--identity-policy",
        identity.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    let output = common::crossgrant(&args);
    (
        output.status.code().unwrap(),
        common::text(&output.stdout) + &common::text(&output.stderr),
    )
}

#[test]
fn explain_takes_each_guardrail_by_flag() {
    let dir = tempfile::tempdir().unwrap();
    let org = common::root().join("examples/org");
    let file = |name: &str| org.join(name).to_str().unwrap().to_string();
    let (scp, rcp, endpoint, boundary) = (
        file("scp-data-perimeter.json"),
        file("rcp-organization-only.json"),
        file("vpce-organization-buckets.json"),
        file("boundary-s3-data.json"),
    );
    // Inside the organization, through the endpoint: every layer allows.
    let inside = [
        "--scp",
        &scp,
        "--rcp",
        &rcp,
        "--vpce-policy",
        &endpoint,
        "--source-vpce",
        "vpce-0a1b2c3d4e5f60718",
        "--boundary",
        &boundary,
        "--principal-org-id",
        "o-a1b2c3d4e5",
        "--resource-org-id",
        "o-a1b2c3d4e5",
    ];
    let (code, text) = explain(dir.path(), &inside);
    assert_eq!(code, 0, "{text}");
    for layer in [
        "service control policy: allows",
        "resource control policy: allows",
        "VPC endpoint policy: allows",
        "permissions boundary: allows",
    ] {
        assert!(text.contains(layer), "{layer}: {text}");
    }
    // Each layer, on its own, decides when the request leaves what it allows.
    let (code, text) = explain(
        dir.path(),
        &["--scp", &scp, "--resource-org-id", "o-0000000000"],
    );
    assert_eq!(code, 1, "{text}");
    assert!(text.contains("service control policy: DENIES"), "{text}");
    let (code, text) = explain(
        dir.path(),
        &["--rcp", &rcp, "--principal-org-id", "o-0000000000"],
    );
    assert_eq!(code, 1, "{text}");
    assert!(text.contains("resource control policy: DENIES"), "{text}");
    assert!(text.contains("EnforceOrgIdentities"), "{text}");
    let (code, text) = explain(
        dir.path(),
        &[
            "--vpce-policy",
            &endpoint,
            "--source-vpce",
            "vpce-0a1b2c3d4e5f60718",
        ],
    );
    assert_eq!(code, 1, "{text}");
    assert!(
        text.contains("VPC endpoint policy: no statement applies"),
        "{text}"
    );
    let narrow = dir.path().join("narrow-boundary.json");
    std::fs::write(
        &narrow,
        document(json!([{"Effect": "Allow", "Action": "kms:*", "Resource": "*"}])).to_string(),
    )
    .unwrap();
    let (code, text) = explain(dir.path(), &["--boundary", narrow.to_str().unwrap()]);
    assert_eq!(code, 1, "{text}");
    assert!(
        text.contains("permissions boundary: no statement applies"),
        "{text}"
    );
    assert!(text.contains("add to the permissions boundary"), "{text}");
    // Bad values exit 2.
    let (code, text) = explain(dir.path(), &["--vpce-policy", &endpoint]);
    assert_eq!(code, 2, "{text}");
    let (code, text) = explain(dir.path(), &["--source-vpce", "vpc-123"]);
    assert_eq!(code, 2, "{text}");
    assert!(text.contains("is not a VPC endpoint id"), "{text}");
    let (code, text) = explain(dir.path(), &["--principal-org-id", "org"]);
    assert_eq!(code, 2, "{text}");
}

/// A scenario with one guardrail table, checked; the error output.
fn refused(guardrail: &str, files: &[(&str, &str)]) -> String {
    let dir = tempfile::tempdir().unwrap();
    for (name, content) in files {
        std::fs::write(dir.path().join(name), content).unwrap();
    }
    let text = std::fs::read_to_string(common::root().join("examples/blog.toml")).unwrap();
    let scenario = dir.path().join("scenario.toml");
    std::fs::write(
        &scenario,
        format!("organization = \"o-a1b2c3d4e5\"\n{text}\n{guardrail}"),
    )
    .unwrap();
    let output = common::crossgrant(&["check", scenario.to_str().unwrap()]);
    let stderr = common::text(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    stderr
}

const DENY: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"s3:DeleteObject","Resource":"*"}]}"#;

/// A guardrail table, the files it reads, and what the error must say.
type BadGuardrail = (String, Vec<(&'static str, &'static str)>, &'static str);

#[test]
fn bad_guardrails_are_refused_at_their_line() {
    let cases: Vec<BadGuardrail> = vec![
        ("[[guardrails]]\nkind = \"firewall\"\nfile = \"scp.json\"".into(), vec![("scp.json", DENY)], "is not a valid guardrail kind"),
        ("[[guardrails]]\nkind = \"scp\"\nfile = \"missing.json\"".into(), vec![], "guardrail file `missing.json`: cannot be read"),
        ("[[guardrails]]\nkind = \"scp\"\nfile = \"scp.json\"".into(), vec![("scp.json", "{\"Statements\": []}")], "is not a policy"),
        ("[[guardrails]]\nkind = \"scp\"\nfile = \"scp.json\"\naccounts = [\"nowhere\"]".into(), vec![("scp.json", DENY)], "no account named `nowhere`"),
        ("[[guardrails]]\nkind = \"permission-boundary\"\nfile = \"scp.json\"\narn = \"arn:aws:iam::222222222222:policy/B\"\nroles = [\"ghost\"]".into(), vec![("scp.json", DENY)], "no role named `ghost`"),
        ("[[guardrails]]\nkind = \"vpc-endpoint\"\nfile = \"vpce.json\"\nvpce_id = \"vpce-xyz\"\nroles = [\"app\"]".into(), vec![("vpce.json", r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:*","Resource":"*"}]}"#)], "is not a VPC endpoint id"),
        ("[[guardrails]]\nkind = \"rcp\"\nfile = \"rcp.json\"".into(), vec![("rcp.json", r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:*","Resource":"*"}]}"#)], "an RCP can only deny"),
        ("[[guardrails]]\nkind = \"scp\"\nfile = \"scp.json\"".into(), vec![("scp.json", r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"*"}]}"#)], "does not take"),
        ("[[guardrails]]\nkind = \"scp\"\nfile = \"scp.json\"\nvpce_id = \"vpce-0a1b2c3d\"".into(), vec![("scp.json", DENY)], "is not a field of this kind of guardrail"),
        ("[[guardrails]]\nkind = \"vpc-endpoint\"\nfile = \"scp.json\"\nroles = [\"app\"]".into(), vec![("scp.json", DENY)], "vpce_id"),
    ];
    for (guardrail, files, expected) in cases {
        let stderr = refused(&guardrail, &files);
        assert!(
            stderr.contains(expected),
            "{guardrail}: expected {expected:?} in\n{stderr}"
        );
        assert!(stderr.contains("scenario.toml:"), "{stderr}");
    }
}

#[test]
fn a_grant_endpoint_that_is_no_endpoint_id_is_refused_at_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(common::root().join("examples/blog.toml")).unwrap();
    let text = text.replace(
        "access = \"read-write\"",
        "access = \"read-write\"\nvpc_endpoints = [\"vpce-12\"]",
    );
    let scenario = dir.path().join("scenario.toml");
    std::fs::write(&scenario, &text).unwrap();
    let output = common::crossgrant(&["check", scenario.to_str().unwrap()]);
    let stderr = common::text(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    let line = text
        .lines()
        .position(|line| line.starts_with("vpc_endpoints"))
        .unwrap()
        + 1;
    assert!(
        stderr.contains(&format!("scenario.toml:{line}:")),
        "{stderr}"
    );
    assert!(stderr.contains("is not a VPC endpoint id"), "{stderr}");
}

#[test]
fn scps_need_the_organization_and_spare_its_management_account() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("scp.json"), DENY).unwrap();
    let text = std::fs::read_to_string(common::root().join("examples/blog.toml")).unwrap();
    let scenario = dir.path().join("scenario.toml");
    std::fs::write(
        &scenario,
        format!("{text}\n[[guardrails]]\nkind = \"scp\"\nfile = \"scp.json\"\n"),
    )
    .unwrap();
    let output = common::crossgrant(&["check", scenario.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        common::text(&output.stderr).contains("declares none"),
        "{}",
        common::text(&output.stderr)
    );
    let managed = text.replace(
        "[accounts.data]\nid = \"111111111111\"",
        "[accounts.data]\nid = \"111111111111\"\norganization_management = true",
    );
    std::fs::write(&scenario, format!("organization = \"o-a1b2c3d4e5\"\n{managed}\n[[guardrails]]\nkind = \"scp\"\nfile = \"scp.json\"\naccounts = [\"data\"]\n")).unwrap();
    let output = common::crossgrant(&["check", scenario.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        common::text(&output.stderr).contains("management account"),
        "{}",
        common::text(&output.stderr)
    );
}

//! `crossgrant explain` end to end: the real binary reads the documents the aws CLI prints
//! (wrapped or bare, from files or stdin), decides the S3 and KMS requests, names the layer that
//! is missing what with the statement to add, and exits 0 (allowed), 1 (denied) or 2 (bad
//! input, with the file and the problem named, or a deciding layer not given, with the flag
//! that gives it).

use crate::common;
use serde_json::json;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Stdio;

const APP: &str = "arn:aws:iam::222222222222:role/app";
const KEY: &str =
    "arn:aws:kms:ap-northeast-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab";

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn crossgrant(args: &[&str], stdin: Option<&str>) -> Run {
    let mut child = common::command()
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    if let Some(text) = stdin {
        // The binary may refuse its arguments and exit before reading: a closed pipe is fine.
        let _ = input.write_all(text.as_bytes());
    }
    drop(input);
    let output = child.wait_with_output().unwrap();
    Run {
        code: output.status.code().unwrap(),
        stdout: String::from_utf8(output.stdout).unwrap(),
        stderr: String::from_utf8(output.stderr).unwrap(),
    }
}

fn write(dir: &Path, name: &str, content: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, content).unwrap();
    path
}

fn bucket_policy(actions: &[&str]) -> serde_json::Value {
    json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "AppObjects",
            "Effect": "Allow",
            "Principal": {"AWS": "arn:aws:iam::222222222222:root"},
            "Action": actions,
            "Resource": "arn:aws:s3:::acme-shared-data/*",
            "Condition": {"ArnEquals": {"aws:PrincipalArn": APP}}
        }]
    })
}

fn key_policy() -> serde_json::Value {
    json!({
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "EnableIamPolicies", "Effect": "Allow",
             "Principal": {"AWS": "arn:aws:iam::111111111111:root"}, "Action": "kms:*", "Resource": "*"},
            {"Sid": "AppUseKey", "Effect": "Allow",
             "Principal": {"AWS": "arn:aws:iam::222222222222:root"},
             "Action": ["kms:Decrypt", "kms:GenerateDataKey"], "Resource": "*",
             "Condition": {"ArnEquals": {"aws:PrincipalArn": APP},
                           "StringLike": {"kms:EncryptionContext:aws:s3:arn": "arn:aws:s3:::acme-shared-data"}}}
        ]
    })
}

fn identity_policy(kms: bool) -> serde_json::Value {
    let mut statements = vec![json!({
        "Sid": "SharedObjects", "Effect": "Allow",
        "Action": ["s3:GetObject", "s3:PutObject"], "Resource": "arn:aws:s3:::acme-shared-data/*"
    })];
    if kms {
        statements.push(json!({
            "Sid": "UseDataKey", "Effect": "Allow",
            "Action": ["kms:Decrypt", "kms:GenerateDataKey"], "Resource": KEY
        }));
    }
    json!({"Version": "2012-10-17", "Statement": statements})
}

/// The files as the aws CLI prints them: policies of S3 and KMS as a JSON string under
/// `Policy`, an inline role policy under `PolicyDocument`.
fn cli_outputs(dir: &Path, bucket_actions: &[&str], kms_in_identity: bool) -> [PathBuf; 3] {
    [
        write(dir, "bucket-policy.json", &json!({"Policy": bucket_policy(bucket_actions).to_string()}).to_string()),
        write(dir, "key-policy.json", &json!({"Policy": key_policy().to_string(), "PolicyName": "default"}).to_string()),
        write(dir, "role-policy.json", &json!({"RoleName": "app", "PolicyName": "access", "PolicyDocument": identity_policy(kms_in_identity)}).to_string()),
    ]
}

/// The statements `explain` suggests adding to `layer`, parsed from its output.
fn suggested(stdout: &str, layer: &str) -> Vec<serde_json::Value> {
    let header = format!("  - add to the {layer}:");
    let lines: Vec<&str> = stdout.lines().collect();
    let mut statements = Vec::new();
    for (index, line) in lines.iter().enumerate() {
        if *line != header {
            continue;
        }
        let body: Vec<&str> = lines[index + 1..]
            .iter()
            .take_while(|line| line.starts_with("    "))
            .map(|line| &line[4..])
            .collect();
        statements.push(serde_json::from_str(&body.join("\n")).unwrap());
    }
    statements
}

fn explain_args<'a>(files: &'a [PathBuf; 3], action: &'a str) -> Vec<&'a str> {
    vec![
        "explain",
        "--principal",
        APP,
        "--action",
        action,
        "--bucket",
        "acme-shared-data",
        "--key",
        "reports/a.csv",
        "--kms-key-arn",
        KEY,
        "--bucket-key",
        "--bucket-policy",
        files[0].to_str().unwrap(),
        "--key-policy",
        files[1].to_str().unwrap(),
        "--identity-policy",
        files[2].to_str().unwrap(),
    ]
}

#[test]
fn allowed_read_exits_zero_and_names_every_layer() {
    let dir = tempfile::tempdir().unwrap();
    let files = cli_outputs(dir.path(), &["s3:GetObject", "s3:PutObject"], true);
    let run = crossgrant(&explain_args(&files, "s3:GetObject"), None);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains("bucket policy: allows"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("kms:Decrypt on arn:aws:kms"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("\"AppUseKey\""), "{}", run.stdout);
    assert!(run.stdout.contains("Result: ALLOWED"), "{}", run.stdout);
}

#[test]
fn missing_bucket_policy_action_is_named_with_the_statement_to_add() {
    let dir = tempfile::tempdir().unwrap();
    let files = cli_outputs(dir.path(), &["s3:GetObject"], true);
    let run = crossgrant(&explain_args(&files, "s3:PutObject"), None);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout
            .contains("bucket policy: no statement allows this request"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("add to the bucket policy:"),
        "{}",
        run.stdout
    );
    // The bucket policy names the app's account root pinned to the role by aws:PrincipalArn:
    // the suggestion keeps that form, for exactly the one object and action.
    assert_eq!(
        suggested(&run.stdout, "bucket policy"),
        [json!({
            "Sid": "AllowPutObject", "Effect": "Allow",
            "Principal": {"AWS": "arn:aws:iam::222222222222:root"},
            "Action": "s3:PutObject",
            "Resource": "arn:aws:s3:::acme-shared-data/reports/a.csv",
            "Condition": {"ArnEquals": {"aws:PrincipalArn": APP}}
        })],
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("UploadPart needs kms:Decrypt"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("Result: DENIED"), "{}", run.stdout);
}

#[test]
fn missing_identity_kms_statement_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let files = cli_outputs(dir.path(), &["s3:GetObject"], false);
    let run = crossgrant(&explain_args(&files, "s3:GetObject"), None);
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert!(
        run.stdout.contains("add to the identity policy:"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains(&format!("\"Resource\": \"{KEY}\"")),
        "{}",
        run.stdout
    );
    assert!(
        !run.stdout.contains("add to the bucket policy"),
        "{}",
        run.stdout
    );
}

#[test]
fn bare_documents_from_stdin_and_managed_policy_versions_are_accepted() {
    let dir = tempfile::tempdir().unwrap();
    let identity = write(
        dir.path(),
        "managed.json",
        &json!({"PolicyVersion": {"Document": identity_policy(true), "VersionId": "v1", "IsDefaultVersion": true}}).to_string(),
    );
    let key = write(dir.path(), "key.json", &key_policy().to_string());
    let run = crossgrant(
        &[
            "explain",
            "--principal",
            APP,
            "--action",
            "s3:GetObject",
            "--bucket",
            "acme-shared-data",
            "--key",
            "reports/a.csv",
            "--kms-key-arn",
            KEY,
            "--bucket-key",
            "--bucket-policy",
            "-",
            "--key-policy",
            key.to_str().unwrap(),
            "--identity-policy",
            identity.to_str().unwrap(),
        ],
        Some(&bucket_policy(&["s3:GetObject"]).to_string()),
    );
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
}

#[test]
fn object_arn_context_against_a_bucket_key_condition_is_blamed_on_the_key_policy() {
    // Without --bucket-key, S3 sends the object ARN as encryption context; the key policy
    // expects the bucket ARN (written for a bucket with an S3 Bucket Key).
    let dir = tempfile::tempdir().unwrap();
    let files = cli_outputs(dir.path(), &["s3:GetObject"], true);
    let args: Vec<&str> = explain_args(&files, "s3:GetObject")
        .into_iter()
        .filter(|arg| *arg != "--bucket-key")
        .collect();
    let run = crossgrant(&args, None);
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert!(
        run.stdout
            .contains("key policy: no statement allows this request"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("key-policy.json statement \"AppUseKey\" in the key policy expects the encryption context kms:EncryptionContext:aws:s3:arn = arn:aws:s3:::acme-shared-data")
            && run.stdout.contains("re-run with --bucket-key")
            && run.stdout.contains("S3 sends the object ARN arn:aws:s3:::acme-shared-data/reports/a.csv"),
        "{}",
        run.stdout
    );
    assert!(
        suggested(&run.stdout, "key policy").is_empty(),
        "a statement without the condition would widen the key policy: {}",
        run.stdout
    );
}

#[test]
fn key_policy_suggestion_keeps_the_conditions_the_caller_is_named_with() {
    let dir = tempfile::tempdir().unwrap();
    let files = cli_outputs(dir.path(), &["s3:GetObject", "s3:PutObject"], true);
    let key = write(
        dir.path(),
        "conditioned-key-policy.json",
        &json!({"Version": "2012-10-17", "Statement": [
            {"Sid": "EnableIamPolicies", "Effect": "Allow",
             "Principal": {"AWS": "arn:aws:iam::111111111111:root"}, "Action": "kms:*", "Resource": "*"},
            {"Sid": "AppDecrypt", "Effect": "Allow", "Principal": {"AWS": APP},
             "Action": "kms:Decrypt", "Resource": "*",
             "Condition": {"StringEquals": {
                 "kms:ViaService": "s3.ap-northeast-1.amazonaws.com",
                 "kms:CallerAccount": "222222222222"}}}
        ]})
        .to_string(),
    );
    let mut args = explain_args(&files, "s3:PutObject");
    let at = args.iter().position(|arg| *arg == "--key-policy").unwrap();
    args[at + 1] = key.to_str().unwrap();
    let run = crossgrant(&args, None);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert_eq!(
        suggested(&run.stdout, "key policy"),
        [json!({
            "Sid": "AllowGenerateDataKey", "Effect": "Allow",
            "Principal": {"AWS": APP},
            "Action": "kms:GenerateDataKey",
            "Resource": "*",
            "Condition": {"StringEquals": {
                "kms:ViaService": "s3.ap-northeast-1.amazonaws.com",
                "kms:CallerAccount": "222222222222"}}
        })],
        "{}",
        run.stdout
    );
    assert!(
        suggested(&run.stdout, "bucket policy").is_empty(),
        "{}",
        run.stdout
    );

    // With the bucket in another region, the ViaService condition fails: it is named, and no
    // statement without it is offered.
    args.extend(["--region", "eu-west-1"]);
    let run = crossgrant(&args, None);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains("conditioned-key-policy.json statement \"AppDecrypt\" in the key policy covers this caller, but its condition StringEquals kms:ViaService [\"s3.ap-northeast-1.amazonaws.com\"] does not hold (this request has s3.eu-west-1.amazonaws.com)"),
        "{}",
        run.stdout
    );
    assert!(
        suggested(&run.stdout, "key policy").is_empty(),
        "{}",
        run.stdout
    );
}

#[test]
fn a_request_missing_a_deciding_layer_exits_two_naming_the_flag() {
    let dir = tempfile::tempdir().unwrap();
    let files = cli_outputs(dir.path(), &["s3:GetObject", "s3:PutObject"], true);
    let [bucket, key, identity] = files.each_ref().map(|path| path.to_str().unwrap());
    const OWNER: [&str; 2] = ["--bucket-account", "111111111111"];
    // Each case leaves out what one layer needs; everything else is given, and given all, the
    // same request is ALLOWED (checked first).
    let cases: [(&str, Vec<&str>, &str); 7] = [
        ("s3:GetObject", vec!["--key-policy", key, "--identity-policy", identity, "--kms-key-arn", KEY],
         "the bucket policy: pass --bucket-policy FILE (`aws s3api get-bucket-policy --bucket NAME`), or --no-bucket-policy if the bucket has none"),
        ("s3:GetObject", vec!["--bucket-policy", bucket, "--key-policy", key, "--kms-key-arn", KEY],
         "the role's identity policies: pass --identity-policy FILE for each policy of the role"),
        ("s3:PutObject", vec!["--bucket-policy", bucket, "--identity-policy", identity, "--kms-key-arn", KEY],
         "the key policy: pass --key-policy FILE"),
        ("s3:GetObject", [&["--bucket-policy", bucket, "--identity-policy", identity][..], &OWNER].concat(),
         "how the bucket encrypts, for the KMS call S3 makes: pass --kms-key-arn ARN with --key-policy FILE (SSE-KMS), --aws-managed-key (the aws/s3 key), or --sse-s3"),
        ("s3:PutObject", [&["--bucket-policy", bucket, "--key-policy", key, "--identity-policy", identity][..], &OWNER].concat(),
         "the KMS key: pass --kms-key-arn ARN"),
        ("kms:Decrypt", vec!["--key-policy", key, "--identity-policy", identity],
         "the KMS key: pass --kms-key-arn ARN"),
        ("kms:GenerateDataKey", vec!["--identity-policy", identity, "--kms-key-arn", KEY],
         "the key policy: pass --key-policy FILE"),
    ];
    let all = explain_args(&files, "s3:GetObject");
    assert_eq!(crossgrant(&all, None).code, 0);
    for (action, given, message) in cases {
        let mut args = vec![
            "explain",
            "--principal",
            APP,
            "--action",
            action,
            "--bucket",
            "acme-shared-data",
            "--key",
            "reports/a.csv",
            "--bucket-key",
        ];
        args.extend(given);
        let run = crossgrant(&args, None);
        assert_eq!(run.code, 2, "{args:?}: {}{}", run.stdout, run.stderr);
        assert!(
            run.stderr.contains(&format!("cannot decide {action} without every layer that decides it; missing:\n  - {message}")),
            "{args:?}: {}",
            run.stderr
        );
        assert!(run.stdout.is_empty(), "{args:?}: {}", run.stdout);
    }
}

#[test]
fn layers_stated_absent_are_decided_as_having_no_document() {
    let dir = tempfile::tempdir().unwrap();
    let identity = write(
        dir.path(),
        "identity.json",
        &identity_policy(false).to_string(),
    );
    let same_account = "arn:aws:iam::111111111111:role/worker";
    let ask = |principal: &str, identity_flags: &[&str]| {
        let mut args = vec![
            "explain",
            "--principal",
            principal,
            "--action",
            "s3:GetObject",
            "--bucket",
            "acme-shared-data",
            "--key",
            "a.csv",
            "--bucket-account",
            "111111111111",
            "--sse-s3",
            "--no-bucket-policy",
        ];
        args.extend(identity_flags);
        crossgrant(&args, None)
    };
    // Same account, no bucket policy: the identity policy decides.
    let run = ask(
        same_account,
        &["--identity-policy", identity.to_str().unwrap()],
    );
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains("bucket policy: none\n"),
        "{}",
        run.stdout
    );
    assert!(!run.stdout.contains("kms:"), "{}", run.stdout);
    // Cross account, no bucket policy: the bucket policy is what is missing.
    let run = ask(APP, &["--identity-policy", identity.to_str().unwrap()]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert_eq!(
        suggested(&run.stdout, "bucket policy").len(),
        1,
        "{}",
        run.stdout
    );
    // A role without policies.
    let run = ask(same_account, &["--no-identity-policy"]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains("identity policy: none\n"),
        "{}",
        run.stdout
    );
    assert_eq!(
        suggested(&run.stdout, "identity policy"),
        [
            json!({"Sid": "AllowGetObject", "Effect": "Allow", "Action": "s3:GetObject",
                "Resource": "arn:aws:s3:::acme-shared-data/a.csv"})
        ],
        "{}",
        run.stdout
    );
}

#[test]
fn explicit_deny_is_named_with_advice_to_narrow_it() {
    let dir = tempfile::tempdir().unwrap();
    let mut policy = bucket_policy(&["s3:GetObject"]);
    policy["Statement"].as_array_mut().unwrap().push(json!({
        "Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
        "Resource": "arn:aws:s3:::acme-shared-data/*", "Condition": {"Bool": {"aws:SecureTransport": "false"}}
    }));
    let bucket = write(dir.path(), "bucket.json", &policy.to_string());
    let identity = write(
        dir.path(),
        "identity.json",
        &identity_policy(true).to_string(),
    );
    let run = crossgrant(
        &[
            "explain",
            "--principal",
            APP,
            "--action",
            "s3:GetObject",
            "--bucket",
            "acme-shared-data",
            "--key",
            "a.csv",
            "--bucket-account",
            "111111111111",
            "--plain-http",
            "--sse-s3",
            "--bucket-policy",
            bucket.to_str().unwrap(),
            "--identity-policy",
            identity.to_str().unwrap(),
        ],
        None,
    );
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert!(
        run.stdout.contains("bucket policy: DENIES"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("remove or narrow")
            && run
                .stdout
                .contains("bucket.json statement \"DenyInsecureTransport\""),
        "{}",
        run.stdout
    );
    // SSE-S3: S3 makes no KMS call, so none is decided.
    assert!(!run.stdout.contains("kms:"), "{}", run.stdout);
}

#[test]
fn aws_managed_key_cross_account_names_the_ways_out() {
    let dir = tempfile::tempdir().unwrap();
    let files = cli_outputs(dir.path(), &["s3:GetObject"], true);
    let run = crossgrant(
        &[
            "explain",
            "--principal",
            APP,
            "--action",
            "s3:GetObject",
            "--bucket",
            "acme-shared-data",
            "--key",
            "a.csv",
            "--bucket-account",
            "111111111111",
            "--region",
            "ap-northeast-1",
            "--aws-managed-key",
            "--bucket-policy",
            files[0].to_str().unwrap(),
            "--identity-policy",
            files[2].to_str().unwrap(),
        ],
        None,
    );
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains("AWS managed aws/s3 key"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("customer-managed KMS key"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("assume a role in account 111111111111"),
        "{}",
        run.stdout
    );
    assert!(
        !run.stdout.contains("add to the key policy"),
        "{}",
        run.stdout
    );
}

#[test]
fn aws_managed_key_policy_given_as_a_file_is_recognised() {
    let dir = tempfile::tempdir().unwrap();
    let files = cli_outputs(dir.path(), &["s3:GetObject"], true);
    let managed = json!({"Version": "2012-10-17", "Statement": [{
        "Sid": "Allow access through S3 for all principals in the account that are authorized to use S3",
        "Effect": "Allow", "Principal": {"AWS": "*"},
        "Action": ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey"],
        "Resource": "*",
        "Condition": {"StringEquals": {"kms:CallerAccount": "111111111111", "kms:ViaService": "s3.ap-northeast-1.amazonaws.com"}}
    }]});
    let key = write(
        dir.path(),
        "aws-s3-key.json",
        &json!({"Policy": managed.to_string(), "PolicyName": "default"}).to_string(),
    );
    let run = crossgrant(
        &[
            "explain",
            "--principal",
            APP,
            "--action",
            "s3:GetObject",
            "--bucket",
            "acme-shared-data",
            "--key",
            "a.csv",
            "--kms-key-arn",
            KEY,
            "--bucket-policy",
            files[0].to_str().unwrap(),
            "--key-policy",
            key.to_str().unwrap(),
            "--identity-policy",
            files[2].to_str().unwrap(),
        ],
        None,
    );
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert!(
        run.stdout.contains("AWS managed aws/s3 key"),
        "{}",
        run.stdout
    );
}

#[test]
fn malformed_policy_file_is_named_with_the_problem() {
    let dir = tempfile::tempdir().unwrap();
    let broken = write(
        dir.path(),
        "broken.json",
        "{\"Policy\": \"{\\\"Statement\\\": [\"}",
    );
    let run = crossgrant(
        &[
            "explain",
            "--principal",
            APP,
            "--action",
            "s3:GetObject",
            "--bucket",
            "b",
            "--key",
            "k",
            "--bucket-account",
            "111111111111",
            "--bucket-policy",
            broken.to_str().unwrap(),
        ],
        None,
    );
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("broken.json"), "{}", run.stderr);
    assert!(
        run.stderr
            .contains("the `Policy` string is not a JSON policy"),
        "{}",
        run.stderr
    );

    let wrong = write(
        dir.path(),
        "wrong.json",
        &json!({"Statement": [{"Effect": "Permit", "Action": "s3:*", "Resource": "*"}]})
            .to_string(),
    );
    let run = crossgrant(
        &[
            "explain",
            "--principal",
            APP,
            "--action",
            "s3:GetObject",
            "--bucket",
            "b",
            "--key",
            "k",
            "--bucket-account",
            "111111111111",
            "--identity-policy",
            wrong.to_str().unwrap(),
        ],
        None,
    );
    assert_eq!(run.code, 2);
    assert!(
        run.stderr
            .contains("wrong.json: statement #1: Effect must be \"Allow\" or \"Deny\""),
        "{}",
        run.stderr
    );
}

#[test]
fn unknown_condition_operator_is_reported_not_guessed() {
    let dir = tempfile::tempdir().unwrap();
    let typo = write(
        dir.path(),
        "typo.json",
        &json!({"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Action": "s3:GetObject", "Resource": "*",
            "Condition": {"StringEqual": {"aws:PrincipalAccount": "111111111111"}}
        }]})
        .to_string(),
    );
    let run = crossgrant(
        &[
            "explain",
            "--principal",
            "arn:aws:iam::111111111111:role/worker",
            "--action",
            "s3:GetObject",
            "--bucket",
            "b",
            "--key",
            "k",
            "--bucket-account",
            "111111111111",
            "--no-bucket-policy",
            "--sse-s3",
            "--identity-policy",
            typo.to_str().unwrap(),
        ],
        None,
    );
    assert_eq!(run.code, 2);
    assert!(
        run.stderr
            .contains("unknown condition operator `StringEqual`"),
        "{}",
        run.stderr
    );
}

#[test]
fn bad_arguments_exit_two() {
    const SESSION: &str = "arn:aws:sts::222222222222:assumed-role/app/i-0123456789abcdef0";
    const OBJECT: [&str; 2] = ["--key", "k"];
    const OWNER: [&str; 2] = ["--bucket-account", "111111111111"];
    const BAD_REGION_KEY: &str =
        "arn:aws:kms:ap-nowhere-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab";
    let cases: [(&str, Vec<&str>, Option<&str>, &str); 11] = [
        ("app", OBJECT.to_vec(), None, "is not a role ARN"),
        (SESSION, OBJECT.to_vec(), None, "pass its role's ARN"),
        (
            APP,
            OBJECT.to_vec(),
            None,
            "the bucket's account is unknown",
        ),
        (APP, OWNER.to_vec(), None, "pass --key OBJECTKEY"),
        (
            APP,
            [
                &OBJECT[..],
                &OWNER[..],
                &["--bucket-policy", "-", "--identity-policy", "-"],
            ]
            .concat(),
            Some("{}"),
            "only one document can be read from stdin",
        ),
        (
            APP,
            [&OBJECT[..], &OWNER[..], &["--region", "ap-nowhere-1"]].concat(),
            None,
            "--region \"ap-nowhere-1\" is not an AWS region",
        ),
        (
            APP,
            [&OBJECT[..], &OWNER[..], &["--region", "Tokyo"]].concat(),
            None,
            "--region \"Tokyo\" is not an AWS region",
        ),
        (
            APP,
            [&OBJECT[..], &["--bucket-account", "11111111111"]].concat(),
            None,
            "--bucket-account \"11111111111\" is not an AWS account id (12 digits)",
        ),
        (
            APP,
            [&OBJECT[..], &["--bucket-account", "acme-data"]].concat(),
            None,
            "--bucket-account \"acme-data\" is not an AWS account id",
        ),
        (
            APP,
            [&OBJECT[..], &["--kms-key-arn", BAD_REGION_KEY]].concat(),
            None,
            "--kms-key-arn \"arn:aws:kms:ap-nowhere-1:",
        ),
        (
            APP,
            [
                &OBJECT[..],
                &OWNER[..],
                &["--bucket-policy", "-", "--no-bucket-policy"],
            ]
            .concat(),
            Some("{}"),
            "--no-bucket-policy",
        ),
    ];
    for (principal, extra, stdin, message) in cases {
        let mut args = vec![
            "explain",
            "--principal",
            principal,
            "--action",
            "s3:GetObject",
            "--bucket",
            "b",
        ];
        args.extend(extra);
        let run = crossgrant(&args, stdin);
        assert_eq!(run.code, 2, "{args:?}");
        assert!(run.stderr.contains(message), "{args:?}: {}", run.stderr);
    }
}

#[test]
fn anonymous_denial_advises_signing_not_opening_the_bucket() {
    let run = crossgrant(
        &[
            "explain",
            "--principal",
            "anonymous",
            "--action",
            "s3:GetObject",
            "--bucket",
            "acme-shared-data",
            "--key",
            "a.csv",
            "--bucket-account",
            "111111111111",
            "--no-bucket-policy",
            "--sse-s3",
        ],
        None,
    );
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains("the request is unsigned"),
        "{}",
        run.stdout
    );
    assert!(
        !run.stdout.contains("\"Principal\": \"*\""),
        "{}",
        run.stdout
    );
}

//! `crossgrant explain` end to end: the real binary reads the documents the aws CLI prints
//! (wrapped or bare, from files or stdin), decides the S3 and KMS requests, names the layer that
//! is missing what with the statement to add, and exits 0 (allowed), 1 (denied) or 2 (bad
//! input, with the file and the problem named).

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
    assert!(
        run.stdout.contains(&format!("\"AWS\": \"{APP}\"")),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("\"Resource\": \"arn:aws:s3:::acme-shared-data/reports/a.csv\""),
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
    assert!(
        run.stdout
            .contains("the KMS call S3 makes for this request was not checked"),
        "{}",
        run.stdout
    );
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
    let cases: [(&str, Vec<&str>, Option<&str>, &str); 5] = [
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

//! Every user-facing scenario error, end to end through the real binary: the message, the
//! file, line and column it points at, and exit code 2. Each case breaks one line of a
//! valid scenario.

use crate::common::*;

const VALID: &str = r#"name = "shared-data"
region = "ap-northeast-1"

[accounts.data]
id = "111111111111"

[accounts.app]
id = "222222222222"

[keys.data]
account = "data"
alias = "shared-data"

[buckets.shared]
account = "data"
name = "acme-shared-data"
key = "data"

[roles.app]
account = "app"
name = "app-s3-cross-account"

[[grants]]
role = "app"
bucket = "shared"
access = "read-write"
"#;

struct Case {
    what: &'static str,
    /// The line to replace (exact text) and its replacement.
    replace: (&'static str, &'static str),
    /// Text the message must contain.
    message: &'static str,
    /// Where the diagnostic must point: 1-based line and column.
    at: (usize, usize),
}

fn run_case(case: &Case) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("scenario.toml");
    let (from, to) = case.replace;
    assert!(
        VALID.contains(from),
        "{}: the base scenario lacks {from:?}",
        case.what
    );
    std::fs::write(&path, VALID.replacen(from, to, 1)).unwrap();
    let out = dir.path().join("out");
    let output = crossgrant(&[
        "synth",
        path.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    let stderr = text(&output.stderr);
    assert_eq!(
        output.status.code(),
        Some(2),
        "{}: exit code; stderr:\n{stderr}",
        case.what
    );
    assert!(
        stderr.contains(case.message),
        "{}: message should contain {:?}:\n{stderr}",
        case.what,
        case.message
    );
    let location = format!("{}:{}:{}", path.display(), case.at.0, case.at.1);
    assert!(
        stderr.contains(&location),
        "{}: should point at {location}:\n{stderr}",
        case.what
    );
    assert!(
        stderr.contains("help:"),
        "{}: no help line:\n{stderr}",
        case.what
    );
    assert!(
        !out.exists(),
        "{}: an invalid scenario must write nothing",
        case.what
    );
}

macro_rules! cases {
    ($($name:ident: $what:literal, $from:literal => $to:literal, $message:literal at ($line:literal, $col:literal);)*) => {
        $(
            #[test]
            fn $name() {
                run_case(&Case { what: $what, replace: ($from, $to), message: $message, at: ($line, $col) });
            }
        )*
    };
}

cases! {
    toml_syntax: "unterminated string",
        "alias = \"shared-data\"" => "alias = \"shared-data", "invalid basic string" at (12, 21);
    unknown_field: "misspelled field",
        "alias = \"shared-data\"" => "alais = \"shared-data\"", "unknown field `alais`" at (12, 1);
    missing_field: "bucket without key",
        "key = \"data\"" => "", "missing field `key`" at (14, 1);
    account_id_length: "short account id",
        "id = \"222222222222\"" => "id = \"2222\"", "is not 12 digits" at (8, 6);
    account_id_letters: "account id with letters",
        "id = \"222222222222\"" => "id = \"22222222222x\"", "is not 12 digits" at (8, 6);
    duplicate_account_id: "two accounts, one id",
        "id = \"222222222222\"" => "id = \"111111111111\"", "already used by account `data`" at (8, 6);
    duplicate_table: "the same account twice",
        "[accounts.app]" => "[accounts.data]", "duplicate key" at (7, 11);
    unknown_account: "key in an undeclared account",
        "account = \"data\"\nalias" => "account = \"dta\"\nalias", "no account named `dta`" at (11, 11);
    unknown_key: "bucket encrypted with an undeclared key",
        "key = \"data\"" => "key = \"daat\"", "no key named `daat`" at (17, 7);
    unknown_role: "grant to an undeclared role",
        "role = \"app\"" => "role = \"ap\"", "no role named `ap`" at (24, 8);
    unknown_bucket: "grant on an undeclared bucket",
        "bucket = \"shared\"" => "bucket = \"sharde\"", "no bucket named `sharde`" at (25, 10);
    bucket_name_uppercase: "bucket name with capitals",
        "name = \"acme-shared-data\"" => "name = \"Acme-Shared\"", "is not a valid S3 bucket name" at (16, 8);
    bucket_name_short: "bucket name too short",
        "name = \"acme-shared-data\"" => "name = \"ab\"", "3 to 63 characters" at (16, 8);
    artifact_bucket_name: "artifact bucket with capitals",
        "id = \"222222222222\"" => "id = \"222222222222\"\nartifact_bucket = \"Builds\"", "`Builds` is not a valid S3 bucket name" at (9, 19);
    bucket_name_ip: "bucket name like an IP address",
        "name = \"acme-shared-data\"" => "name = \"192.168.1.1\"", "IP address" at (16, 8);
    region: "unknown region",
        "region = \"ap-northeast-1\"" => "region = \"ap-northeast-9\"", "`ap-northeast-9` is not an AWS region" at (2, 10);
    key_other_region: "key in another region than its bucket",
        "alias = \"shared-data\"" => "alias = \"shared-data\"\nregion = \"us-east-1\"", "but its key `data` is in region `us-east-1`" at (18, 7);
    key_other_account: "key in another account than its bucket",
        "account = \"data\"\nalias" => "account = \"app\"\nalias", "but its key `data` is in account `app`" at (17, 7);
    aws_managed_cross_account: "cross-account grant on the AWS-managed key",
        "key = \"data\"" => "key = \"aws-managed\"", "can never use bucket `shared`" at (25, 10);
    no_grants: "roles but no grants",
        "[[grants]]\nrole = \"app\"\nbucket = \"shared\"\naccess = \"read-write\"\n" => "", "declares roles but no [[grants]]" at (19, 8);
    access_value: "unknown access level",
        "access = \"read-write\"" => "access = \"rw\"", "`rw` is not a valid access" at (26, 10);
    prefix_wildcard: "prefix with a wildcard",
        "access = \"read-write\"" => "access = \"read\"\nprefix = \"logs/*\"", "contains a wildcard" at (27, 10);
    prefix_slash: "prefix starting with a slash",
        "access = \"read-write\"" => "access = \"read\"\nprefix = \"/logs/\"", "starts with `/`" at (27, 10);
    invalid_name: "table name with capitals",
        "[roles.app]" => "[roles.App]", "role name `App` is not a valid name" at (19, 8);
    acl_action_without_acls: "ACL action on a bucket with ACLs disabled",
        "access = \"read-write\"" => "access = \"write\"\nactions = [\"s3:PutObjectAcl\"]", "its ACLs are disabled" at (27, 12);
    wildcard_action: "every S3 action",
        "access = \"read-write\"" => "access = \"write\"\nactions = [\"s3:*\"]", "would grant every S3 action" at (27, 12);
    wrong_type: "account id written as a number",
        "id = \"222222222222\"" => "id = 222222222222", "invalid type" at (8, 6);
}

#[test]
fn aws_managed_key_message_names_both_ways_out() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.toml");
    std::fs::write(
        &path,
        VALID.replacen("key = \"data\"", "key = \"aws-managed\"", 1),
    )
    .unwrap();
    let output = crossgrant(&["plan", path.to_str().unwrap()]);
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(2));
    for needle in [
        "customer-managed key",
        "assume a role in account `data`",
        "kms:CallerAccount",
    ] {
        assert!(stderr.contains(needle), "missing {needle:?}:\n{stderr}");
    }
}

#[test]
fn every_problem_of_a_run_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.toml");
    let broken = VALID
        .replacen("id = \"222222222222\"", "id = \"2\"", 1)
        .replacen("region = \"ap-northeast-1\"", "region = \"mars-1\"", 1)
        .replacen("access = \"read-write\"", "access = \"all\"", 1);
    std::fs::write(&path, broken).unwrap();
    let output = crossgrant(&["plan", path.to_str().unwrap()]);
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr.contains("3 problems in"), "{stderr}");
    // In source order.
    let region = stderr.find("mars-1").unwrap();
    let id = stderr.find("`2`").unwrap();
    let access = stderr.find("`all`").unwrap();
    assert!(region < id && id < access, "{stderr}");
}

#[test]
fn a_missing_scenario_file_is_bad_input() {
    let output = crossgrant(&[
        "synth",
        "no/such/scenario.toml",
        "--out",
        "/tmp/never-written",
    ]);
    assert_eq!(output.status.code(), Some(2));
    assert!(text(&output.stderr).contains("cannot read scenario no/such/scenario.toml"));
}

#[test]
fn bad_usage_exits_2() {
    let output = crossgrant(&["synth", "examples/blog.toml", "--target", "pulumi"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(text(&output.stderr).contains("invalid value 'pulumi'"));
}

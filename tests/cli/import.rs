//! `crossgrant import` end to end: the live form of `examples/blog.toml` imports, through the
//! real binary, to one read-write grant on a bucket that honours ACLs; imported scenarios load,
//! pass `check`, and give every caller of the check matrix the S3 access the live documents
//! gave (the blog, and random live setups); bad input exits 2 naming the file and what to do.

use crate::common;
use crossgrant::import::roundtrip::compare;
use crossgrant::import::{
    import, ImportOptions, Imported, KeyArn, LiveDocument, LiveKey, LiveRole, LiveSetup, RoleArn,
};
use proptest::prelude::*;
use serde_json::{json, Value as Json};
use std::path::{Path, PathBuf};

const BUCKET: &str = "acme-shared-data";
const ROLE: &str = "arn:aws:iam::222222222222:role/app-s3-cross-account";
const KEY: &str =
    "arn:aws:kms:ap-northeast-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab";
const OWNER: &str = "111111111111";
const REGION: &str = "ap-northeast-1";

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn crossgrant(args: &[&str]) -> Run {
    let output = common::crossgrant(args);
    Run {
        code: output.status.code().expect("exited, not killed"),
        stdout: common::text(&output.stdout),
        stderr: common::text(&output.stderr),
    }
}

fn fixture(name: &str) -> String {
    common::root()
        .join("tests/fixtures/import/blog")
        .join(name)
        .display()
        .to_string()
}

/// `crossgrant import` of the blog's live documents (the aws CLI's output, in
/// `tests/fixtures/import/blog/`), writing to `out`, with `extra` arguments.
fn import_blog(out: &Path, extra: &[&str]) -> Run {
    let (bucket_policy, key_policy, role_policy) = (
        fixture("bucket-policy.json"),
        fixture("key-policy.json"),
        fixture("role-policy.json"),
    );
    let role = format!("{ROLE}={role_policy}");
    let mut args = vec![
        "import",
        "--bucket",
        BUCKET,
        "--bucket-policy",
        &bucket_policy,
        "--kms-key-arn",
        KEY,
        "--key-policy",
        &key_policy,
        "--bucket-key",
        "--role",
        &role,
        "--out",
        out.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    crossgrant(&args)
}

fn toml_of(path: &Path) -> toml::Table {
    std::fs::read_to_string(path).unwrap().parse().unwrap()
}

#[test]
fn the_blog_setup_imports_to_one_read_write_grant_with_legacy_acls() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("scenario.toml");
    let run = import_blog(&out, &[]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let scenario = toml_of(&out);
    assert_eq!(scenario["name"].as_str(), Some(BUCKET));
    assert_eq!(scenario["region"].as_str(), Some(REGION));
    assert_eq!(scenario["accounts"]["owner"]["id"].as_str(), Some(OWNER));
    assert_eq!(
        scenario["accounts"]["account-222222222222"]["id"].as_str(),
        Some("222222222222")
    );
    let grants = scenario["grants"].as_array().unwrap();
    assert_eq!(grants.len(), 1, "{scenario:#?}");
    let grant = grants[0].as_table().unwrap();
    assert_eq!(grant["access"].as_str(), Some("read-write"));
    assert!(!grant.contains_key("prefix") && !grant.contains_key("actions"));
    let role = &scenario["roles"][grant["role"].as_str().unwrap()];
    assert_eq!(role["name"].as_str(), Some("app-s3-cross-account"));
    assert_eq!(role["account"].as_str(), Some("account-222222222222"));
    assert_eq!(role["existing"].as_bool(), Some(true));
    let bucket = &scenario["buckets"][grant["bucket"].as_str().unwrap()];
    assert_eq!(bucket["name"].as_str(), Some(BUCKET));
    assert_eq!(bucket["existing"].as_bool(), Some(true));
    assert_eq!(bucket["bucket_key"].as_bool(), Some(true));
    assert_eq!(
        bucket["object_ownership"].as_str(),
        Some("BucketOwnerPreferred")
    );
    // Both bucket policy statements are re-generated from the grant: the copy keeps none.
    let copy = dir.path().join(bucket["policy_file"].as_str().unwrap());
    let kept: Json = serde_json::from_str(&std::fs::read_to_string(&copy).unwrap()).unwrap();
    assert_eq!(kept["Statement"], json!([]), "{kept:#}");
    let key = &scenario["keys"][bucket["key"].as_str().unwrap()];
    assert_eq!(key["arn"].as_str(), Some(KEY));
    assert_eq!(key["existing"].as_bool(), Some(true));
    // The key policy keeps its administrator, and the role's statement, which also allows
    // direct use of the key.
    let copy = dir.path().join(key["policy_file"].as_str().unwrap());
    let kept: Json = serde_json::from_str(&std::fs::read_to_string(&copy).unwrap()).unwrap();
    let sids: Vec<&str> = kept["Statement"]
        .as_array()
        .unwrap()
        .iter()
        .map(|statement| statement["Sid"].as_str().unwrap())
        .collect();
    assert_eq!(
        sids,
        ["Enable IAM User Permissions", "Allow use of the key"]
    );
    for line in [
        "#1 role app-s3-cross-account (arn:aws:iam::222222222222:role/app-s3-cross-account): read-write on the whole bucket of acme-shared-data",
        "#1 \"AppObjects\": became grant #1; crossgrant generates it",
        "#2 \"AppList\": became grant #1; crossgrant generates it",
        "#1 \"Enable IAM User Permissions\": kept as is: it lets its principals administer the key",
        "#2 \"Allow use of the key\": kept as is: it allows more than grant #1: kms:Decrypt (called directly, without kms:ViaService)",
        "object_ownership = \"BucketOwnerPreferred\"",
    ] {
        assert!(run.stdout.contains(line), "missing {line:?} in:\n{}", run.stdout);
    }
}

#[test]
fn narrowing_key_use_leaves_out_the_role_statement_and_says_what_it_dropped() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("scenario.toml");
    let run = import_blog(&out, &["--narrow-key-use"]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains("#2 \"Allow use of the key\": narrowed to grant #1 (left out); dropped: kms:Decrypt (called directly, without kms:ViaService), kms:GenerateDataKey (called directly, without kms:ViaService)"),
        "{}",
        run.stdout
    );
    let scenario = toml_of(&out);
    let key = scenario["keys"]
        .as_table()
        .unwrap()
        .values()
        .next()
        .unwrap();
    let copy = dir.path().join(key["policy_file"].as_str().unwrap());
    let kept: Json = serde_json::from_str(&std::fs::read_to_string(copy).unwrap()).unwrap();
    assert_eq!(kept["Statement"].as_array().unwrap().len(), 1, "{kept:#}");
}

#[test]
fn an_existing_scenario_is_replaced_only_with_force() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("scenario.toml");
    std::fs::write(&out, "# mine\n").unwrap();
    let run = import_blog(&out, &[]);
    assert_eq!(run.code, 2, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains("scenario.toml exists; pass --force"),
        "{}",
        run.stderr
    );
    assert_eq!(std::fs::read_to_string(&out).unwrap(), "# mine\n");
    assert!(!dir.path().join("live").exists(), "nothing is written");
    let run = import_blog(&out, &["--force"]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(toml_of(&out).contains_key("grants"));
    let names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        names.iter().all(|name| !name.ends_with(".tmp")),
        "{names:?}"
    );
}

/// The outcome of an import that must be refused: exit 2, and stderr holding every part.
fn refused(args: &[&str], parts: &[&str]) {
    let run = crossgrant(args);
    assert_eq!(run.code, 2, "{args:?}: {}{}", run.stdout, run.stderr);
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
    for part in parts {
        assert!(
            run.stderr.contains(part),
            "{args:?}: missing {part:?} in:\n{}",
            run.stderr
        );
    }
}

#[test]
fn unreadable_or_malformed_documents_are_named_with_the_problem_and_the_command_to_use() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("scenario.toml");
    let out = out.to_str().unwrap();
    let write = |name: &str, text: &str| {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        path.display().to_string()
    };
    let missing = dir.path().join("missing.json").display().to_string();
    refused(
        &[
            "import",
            "--bucket",
            BUCKET,
            "--bucket-policy",
            &missing,
            "--bucket-account",
            OWNER,
            "--region",
            REGION,
            "--out",
            out,
        ],
        &[
            "cannot read the bucket policy",
            &missing,
            "aws s3api get-bucket-policy",
        ],
    );
    let not_json = write("not-json.json", "{\n  \"Policy\": \n  oops\n}\n");
    refused(
        &[
            "import",
            "--bucket",
            BUCKET,
            "--bucket-policy",
            &not_json,
            "--bucket-account",
            OWNER,
            "--region",
            REGION,
            "--out",
            out,
        ],
        &[
            &format!("{not_json}: not valid JSON at line 3, column 3"),
            "aws s3api get-bucket-policy",
        ],
    );
    let not_policy = write("not-policy.json", "{\"KeyId\": \"x\"}");
    let bucket_policy = fixture("bucket-policy.json");
    refused(
        &[
            "import",
            "--bucket",
            BUCKET,
            "--bucket-policy",
            &bucket_policy,
            "--kms-key-arn",
            KEY,
            "--key-policy",
            &not_policy,
            "--out",
            out,
        ],
        &[
            &format!("{not_policy}: no `Statement`"),
            "found: KeyId",
            "aws kms get-key-policy",
        ],
    );
    let role = format!(
        "{ROLE}={}",
        write(
            "embedded.json",
            "{\"PolicyDocument\": \"{\\\"Statement\\\": [}\"}"
        )
    );
    refused(
        &[
            "import",
            "--bucket",
            BUCKET,
            "--bucket-policy",
            &bucket_policy,
            "--kms-key-arn",
            KEY,
            "--key-policy",
            &fixture("key-policy.json"),
            "--role",
            &role,
            "--out",
            out,
        ],
        &[
            "embedded.json: the `PolicyDocument` string is not a JSON policy (line 1, column",
            "aws iam get-role-policy",
        ],
    );
    assert!(!Path::new(out).exists());
}

#[test]
fn bad_arguments_exit_2_saying_what_to_pass() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("scenario.toml");
    let out = out.to_str().unwrap();
    let bucket_policy = fixture("bucket-policy.json");
    let key_policy = fixture("key-policy.json");
    let base = [
        "import",
        "--bucket",
        BUCKET,
        "--bucket-policy",
        &bucket_policy,
        "--out",
        out,
    ];
    let with = |extra: &[&'static str]| -> Vec<String> {
        base.iter()
            .map(|s| s.to_string())
            .chain(extra.iter().map(|s| s.to_string()))
            .collect()
    };
    let run = |args: Vec<String>, parts: &[&str]| {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        refused(&args, parts);
    };
    run(
        with(&["--role", "arn:aws:iam::222222222222:role/app"]),
        &["--role", "expected ROLE_ARN=POLICY_FILE"],
    );
    run(
        with(&["--role", "arn:aws:iam::222222222222:user/app=x.json"]),
        &["does not start with a role ARN"],
    );
    run(
        with(&["--role", "arn:aws:iam::222222222222:role/app="]),
        &["no policy file after"],
    );
    let mut args = with(&["--key-policy"]);
    args.push(key_policy.clone());
    args.extend([
        "--kms-key-arn".to_string(),
        "arn:aws:kms:ap-northeast-1:111111111111:alias/data".to_string(),
    ]);
    run(args, &["not a key ARN", "aws kms describe-key"]);
    let mut args = with(&["--region", "eu-west-1", "--key-policy"]);
    args.push(key_policy.clone());
    args.extend(["--kms-key-arn".to_string(), KEY.to_string()]);
    run(
        args,
        &[
            "--region eu-west-1 is not the region of --kms-key-arn (ap-northeast-1)",
            "pass --region ap-northeast-1",
        ],
    );
    run(
        with(&["--region", REGION]),
        &["the bucket's account is unknown: pass --bucket-account ID, or --kms-key-arn"],
    );
    run(
        with(&["--bucket-account", OWNER]),
        &["the bucket's region is unknown: pass --region"],
    );
    run(
        with(&["--bucket-account", "1111", "--region", REGION]),
        &["not an AWS account id"],
    );
    run(
        with(&["--bucket-account", OWNER, "--region", "mars-1"]),
        &["not an AWS region"],
    );
    let mut args = with(&["--bucket-account", "333333333333", "--key-policy"]);
    args.push(key_policy);
    args.extend(["--kms-key-arn".to_string(), KEY.to_string()]);
    run(
        args,
        &["--bucket-account 333333333333 is not the account of --kms-key-arn (111111111111)"],
    );
    let mut args: Vec<String> = base.iter().map(|s| s.to_string()).collect();
    args[2] = "Not_A_Bucket".to_string();
    args.extend([
        "--bucket-account".to_string(),
        OWNER.to_string(),
        "--region".to_string(),
        REGION.to_string(),
    ]);
    run(
        args,
        &["--bucket \"Not_A_Bucket\" is not an S3 bucket name"],
    );
    assert!(!Path::new(out).exists());
}

/// Writes an import's scenario and policy copies into `dir`, and returns the scenario's path.
fn write_imported(dir: &Path, imported: &Imported) -> PathBuf {
    for file in &imported.policy_files {
        let path = dir.join(&file.path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, &file.text).unwrap();
    }
    let path = dir.join("scenario.toml");
    std::fs::write(&path, &imported.scenario).unwrap();
    path
}

/// The round trip: the imported scenario loads, `check` passes, and the documents crossgrant
/// renders for it decide every request of the check matrix as the live ones do.
fn assert_round_trip(setup: &LiveSetup, options: &ImportOptions) -> Imported {
    let imported = import(setup, options);
    let dir = tempfile::tempdir().unwrap();
    let path = write_imported(dir.path(), &imported);
    let scenario = crossgrant::load_scenario(&path)
        .unwrap_or_else(|error| panic!("{}\n{}", error.render(), imported.scenario));
    let lowered = crossgrant::lower::lower(scenario);
    let differences: Vec<String> = compare(&lowered, setup)
        .iter()
        .map(ToString::to_string)
        .take(8)
        .collect();
    assert!(
        differences.is_empty(),
        "{}\n{}\n{differences:#?}",
        imported.scenario,
        imported.summary.render()
    );
    let report = crossgrant::eval::check(&lowered);
    let failures: Vec<String> = report
        .failures()
        .map(|result| format!("{} {:?}", result.probe.caller_kind, result.probe.operation))
        .take(8)
        .collect();
    assert!(
        report.passed(),
        "{}\n{}\n{failures:#?}",
        imported.scenario,
        imported.summary.render()
    );
    imported
}

fn document(name: &str, policy: Json) -> LiveDocument {
    LiveDocument::parse(name, &policy.to_string()).unwrap()
}

fn blog_setup() -> LiveSetup {
    let read = |name: &str| {
        let path = fixture(name);
        LiveDocument::parse(path.clone(), &std::fs::read_to_string(&path).unwrap()).unwrap()
    };
    LiveSetup {
        bucket_name: BUCKET.into(),
        owner_account: OWNER.into(),
        region: REGION.into(),
        key: Some(LiveKey {
            arn: KeyArn::parse(KEY).unwrap(),
            policy: read("key-policy.json"),
        }),
        bucket_key: true,
        object_ownership: None,
        bucket_policy: read("bucket-policy.json"),
        roles: vec![LiveRole {
            arn: RoleArn::parse(ROLE).unwrap(),
            policies: vec![read("role-policy.json")],
        }],
    }
}

#[test]
fn the_imported_blog_scenario_checks_and_gives_the_live_access() {
    for narrow_key_use in [false, true] {
        assert_round_trip(&blog_setup(), &ImportOptions { narrow_key_use });
    }
}

/// A role of a random live setup: its account, path, the access it is given and where.
#[derive(Clone, Debug)]
struct LiveGrant {
    account: &'static str,
    path: &'static str,
    reads: bool,
    writes: bool,
    prefix: &'static str,
    /// Named in the owner's policies by its account root pinned with `aws:PrincipalArn`.
    pinned: bool,
    /// The key policy limits its use to S3 (`kms:ViaService`).
    via_s3: bool,
}

#[derive(Clone, Debug)]
struct Random {
    grants: Vec<LiveGrant>,
    bucket_key: bool,
    acls: bool,
    /// A statement for a principal that is not a role, which must be kept.
    auditor: bool,
    deny_plain_http: bool,
}

const ACCOUNTS: [&str; 3] = ["222222222222", "333333333333", "444444444444"];
const PREFIXES: [&str; 4] = ["", "incoming/", "reports/", "reports/2024/"];

fn live_grant(accounts: usize) -> impl Strategy<Value = LiveGrant> {
    (
        0..accounts,
        prop::sample::select(vec!["/", "/team/"]),
        prop::sample::select(vec![(true, false), (false, true), (true, true)]),
        prop::sample::select(PREFIXES.to_vec()),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(
            |(account, path, (reads, writes), prefix, pinned, via_s3)| LiveGrant {
                account: ACCOUNTS[account],
                path,
                reads,
                writes,
                prefix,
                pinned,
                via_s3,
            },
        )
}

fn random_setup() -> impl Strategy<Value = Random> {
    (1..=3usize)
        .prop_flat_map(|accounts| prop::collection::vec(live_grant(accounts), 1..=4))
        .prop_flat_map(|grants| {
            (
                Just(grants),
                any::<bool>(),
                any::<bool>(),
                any::<bool>(),
                any::<bool>(),
            )
        })
        .prop_map(
            |(grants, bucket_key, acls, auditor, deny_plain_http)| Random {
                grants,
                bucket_key,
                acls,
                auditor,
                deny_plain_http,
            },
        )
}

fn role_arn(index: usize, grant: &LiveGrant) -> String {
    format!(
        "arn:aws:iam::{}:role{}app-{index}",
        grant.account, grant.path
    )
}

/// The S3 statements of one role, without principal: objects under its prefix, and listing.
fn s3_statements(random: &Random, grant: &LiveGrant) -> Vec<Json> {
    let mut actions = Vec::new();
    if grant.reads {
        actions.extend(["s3:GetObject", "s3:GetObjectVersion"]);
    }
    if grant.writes {
        actions.push("s3:PutObject");
        if random.acls {
            actions.push("s3:PutObjectAcl");
        }
    }
    let mut statements = vec![json!({
        "Effect": "Allow",
        "Action": actions,
        "Resource": format!("arn:aws:s3:::{BUCKET}/{}*", grant.prefix),
    })];
    if grant.reads {
        let mut list = json!({
            "Effect": "Allow",
            "Action": "s3:ListBucket",
            "Resource": format!("arn:aws:s3:::{BUCKET}"),
        });
        if !grant.prefix.is_empty() {
            list["Condition"] = json!({"StringLike": {"s3:prefix": format!("{}*", grant.prefix)}});
        }
        statements.push(list);
    }
    statements
}

fn kms_actions(grant: &LiveGrant) -> Vec<&'static str> {
    if grant.writes {
        vec!["kms:Decrypt", "kms:GenerateDataKey"]
    } else {
        vec!["kms:Decrypt"]
    }
}

/// Names the role in a resource policy statement: by ARN, or by account root pinned.
fn with_principal(mut statement: Json, index: usize, grant: &LiveGrant) -> Json {
    let arn = role_arn(index, grant);
    if grant.pinned {
        statement["Principal"] = json!({"AWS": format!("arn:aws:iam::{}:root", grant.account)});
        let condition = statement
            .as_object_mut()
            .unwrap()
            .entry("Condition")
            .or_insert_with(|| json!({}));
        condition["ArnEquals"] = json!({"aws:PrincipalArn": arn});
    } else {
        statement["Principal"] = json!({"AWS": arn});
    }
    statement
}

fn live(random: &Random) -> LiveSetup {
    let mut bucket = Vec::new();
    if random.deny_plain_http {
        bucket.push(json!({
            "Sid": "DenyPlainHttp", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
            "Resource": [format!("arn:aws:s3:::{BUCKET}"), format!("arn:aws:s3:::{BUCKET}/*")],
            "Condition": {"Bool": {"aws:SecureTransport": "false"}}
        }));
    }
    if random.auditor {
        bucket.push(json!({
            "Sid": "Auditor", "Effect": "Allow",
            "Principal": {"AWS": "arn:aws:iam::555555555555:user/auditor"},
            "Action": "s3:GetObject", "Resource": format!("arn:aws:s3:::{BUCKET}/*")
        }));
        bucket.push(json!({
            "Effect": "Allow", "Principal": {"Service": "logging.s3.amazonaws.com"},
            "Action": "s3:PutObject", "Resource": format!("arn:aws:s3:::{BUCKET}/logs/*")
        }));
    }
    let mut key = vec![json!({
        "Sid": "Enable IAM User Permissions", "Effect": "Allow",
        "Principal": {"AWS": format!("arn:aws:iam::{OWNER}:root")}, "Action": "kms:*", "Resource": "*"
    })];
    let mut roles = Vec::new();
    for (index, grant) in random.grants.iter().enumerate() {
        for statement in s3_statements(random, grant) {
            bucket.push(with_principal(statement, index, grant));
        }
        let mut use_key = json!({
            "Effect": "Allow", "Action": kms_actions(grant), "Resource": "*"
        });
        if grant.via_s3 {
            use_key["Condition"] =
                json!({"StringEquals": {"kms:ViaService": format!("s3.{REGION}.amazonaws.com")}});
        }
        key.push(with_principal(use_key, index, grant));
        let mut identity = s3_statements(random, grant);
        identity.push(json!({"Effect": "Allow", "Action": kms_actions(grant), "Resource": KEY}));
        roles.push(LiveRole {
            arn: RoleArn::parse(&role_arn(index, grant)).unwrap(),
            policies: vec![document(
                &format!("role-{index}.json"),
                json!({"Version": "2012-10-17", "Statement": identity}),
            )],
        });
    }
    LiveSetup {
        bucket_name: BUCKET.into(),
        owner_account: OWNER.into(),
        region: REGION.into(),
        key: Some(LiveKey {
            arn: KeyArn::parse(KEY).unwrap(),
            policy: document(
                "key-policy.json",
                json!({"Version": "2012-10-17", "Statement": key}),
            ),
        }),
        bucket_key: random.bucket_key,
        object_ownership: None,
        bucket_policy: document(
            "bucket-policy.json",
            json!({"Version": "2012-10-17", "Statement": bucket}),
        ),
        roles,
    }
}

/// The grants a random setup gives each role: shortest prefix first, a longer one only where it
/// adds to what a shorter one gives.
fn expected_grants(random: &Random) -> Vec<(String, String, &'static str)> {
    let mut expected = Vec::new();
    for (index, grant) in random.grants.iter().enumerate() {
        let access = match (grant.reads, grant.writes) {
            (true, true) => "read-write",
            (true, false) => "read",
            _ => "write",
        };
        expected.push((role_arn(index, grant), grant.prefix.to_string(), access));
    }
    expected.sort();
    expected
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// Whatever live setup of roles in one to three consumer accounts, the import finds each
    /// role's access level and prefix, keeps the statements of principals that are not roles,
    /// and the round trip holds.
    #[test]
    fn random_live_setups_round_trip(random in random_setup(), narrow_key_use in any::<bool>()) {
        let setup = live(&random);
        let imported = assert_round_trip(&setup, &ImportOptions { narrow_key_use });
        let mut found: Vec<(String, String, &'static str)> = imported
            .summary
            .grants
            .iter()
            .map(|grant| (grant.role_arn.clone(), grant.prefix.clone(), grant.access.as_str()))
            .collect();
        found.sort();
        prop_assert_eq!(found, expected_grants(&random), "{}", imported.summary.render());
        prop_assert!(imported.summary.grants.iter().all(|grant| grant.actions.is_empty()));
        let copy = imported.policy_files.iter().find(|file| file.path.ends_with("bucket-policy.json")).unwrap();
        let kept: Json = serde_json::from_str(&copy.text).unwrap();
        let expected = usize::from(random.deny_plain_http) + 2 * usize::from(random.auditor);
        prop_assert_eq!(kept["Statement"].as_array().unwrap().len(), expected);
    }
}

/// The import itself (without loading the scenario) finds each random role's grant: this part
/// holds before existing resources load.
#[test]
fn random_live_setups_import_to_their_grants() {
    let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig::with_cases(48));
    runner
        .run(&random_setup(), |random| {
            let imported = import(&live(&random), &ImportOptions::default());
            let mut found: Vec<(String, String, &'static str)> = imported
                .summary
                .grants
                .iter()
                .map(|grant| {
                    (
                        grant.role_arn.clone(),
                        grant.prefix.clone(),
                        grant.access.as_str(),
                    )
                })
                .collect();
            found.sort();
            prop_assert_eq!(
                found,
                expected_grants(&random),
                "{}",
                imported.summary.render()
            );
            Ok(())
        })
        .unwrap();
}

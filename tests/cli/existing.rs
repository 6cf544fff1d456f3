//! Existing buckets, keys and roles: the live policies a scenario captures are kept and checked,
//! what crossgrant wrote before is replaced, and every way a live policy or an `existing` table
//! can be wrong is refused with the place to fix it.

use crate::common;
use serde_json::Value as Json;
use std::fs;
use std::path::{Path, PathBuf};

const BUCKET_POLICY: &str = "live/existing-bucket/bucket-policy.json";
const KEY_POLICY: &str = "live/existing-bucket/key-policy.json";

/// A copy of `examples/existing-bucket.toml` and its live policies in a directory of its own,
/// the scenario text changed by `edit`.
fn existing_bucket(edit: impl FnOnce(String) -> String) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let live = dir.path().join("live/existing-bucket");
    fs::create_dir_all(&live).unwrap();
    for file in [BUCKET_POLICY, KEY_POLICY] {
        fs::copy(
            common::root().join("examples").join(file),
            dir.path().join(file),
        )
        .unwrap();
    }
    let text = fs::read_to_string(common::root().join("examples/existing-bucket.toml")).unwrap();
    let path = dir.path().join("scenario.toml");
    fs::write(&path, edit(text)).unwrap();
    (dir, path)
}

fn run(args: &[&str], scenario: &Path) -> (Option<i32>, String, String) {
    let mut all: Vec<&str> = args.to_vec();
    all.insert(1, scenario.to_str().unwrap());
    let output = common::crossgrant(&all);
    (
        output.status.code(),
        common::text(&output.stdout),
        common::text(&output.stderr),
    )
}

/// The policy inside a file as the aws CLI prints it (`{"Policy": "<json>"}`).
fn live_document(path: &Path) -> Json {
    let wrapper: Json = serde_json::from_str(&fs::read_to_string(path).unwrap()).unwrap();
    serde_json::from_str(wrapper["Policy"].as_str().unwrap()).unwrap()
}

fn write_live(path: &Path, document: &Json) {
    let wrapper = serde_json::json!({ "Policy": document.to_string() });
    fs::write(path, serde_json::to_string_pretty(&wrapper).unwrap()).unwrap();
}

/// The bucket policy and key policy crossgrant renders for the existing bucket and key.
fn rendered_policies(scenario: &Path, out: &Path) -> (Json, Json) {
    common::synth(
        scenario,
        out,
        &["--target", "cloudformation", "--format", "json"],
    );
    let stack: Json =
        serde_json::from_slice(&fs::read(out.join("cloudformation/data-data.json")).unwrap())
            .unwrap();
    let bucket = stack["Resources"]["ReportsBucketPolicy"]["Properties"]["PolicyDocument"].clone();
    let key: Json = serde_json::from_slice(
        &fs::read(out.join("cloudformation/key-policies/data.json")).unwrap(),
    )
    .unwrap();
    (bucket, key)
}

#[test]
fn check_lists_the_access_kept_statements_give_and_passes() {
    let (_dir, scenario) = existing_bucket(|text| text);
    let (code, stdout, _) = run(&["check"], &scenario);
    assert_eq!(code, Some(0), "{stdout}");
    let analytics = stdout
        .split("\n\n")
        .find(|group| {
            group.starts_with("arn:aws:iam::333333333333:role/analytics, named by a kept statement")
        })
        .unwrap_or_else(|| panic!("the kept principal is probed:\n{stdout}"));
    for operation in ["GetObject ", "ListBucket ", "kms:Decrypt via S3 "] {
        assert!(
            analytics
                .lines()
                .any(|line| line.trim_start().starts_with(&format!("kept  {operation}"))),
            "{operation}is kept:\n{analytics}"
        );
    }
    assert!(
        !analytics.contains("kept  PutObject"),
        "the live policies never let it write:\n{analytics}"
    );
    assert!(
        stdout.contains("allowed by statements kept from live policies"),
        "{stdout}"
    );

    let (code, json, _) = run(&["check", "--format", "json"], &scenario);
    assert_eq!(code, Some(0));
    let report: Json = serde_json::from_str(&json).unwrap();
    let kept: Vec<&Json> = report["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|result| result["kept"] == Json::Bool(true))
        .collect();
    assert!(!kept.is_empty());
    assert!(kept
        .iter()
        .all(|result| result["passed"] == Json::Bool(true)));
}

#[test]
fn a_kept_statement_that_breaks_a_grant_fails_check_naming_its_file() {
    let (dir, scenario) = existing_bucket(|text| text);
    let file = dir.path().join(BUCKET_POLICY);
    let mut document = live_document(&file);
    document["Statement"]
        .as_array_mut()
        .unwrap()
        .push(serde_json::json!({
            "Sid": "FreezeIncoming",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:PutObject",
            "Resource": "arn:aws:s3:::acme-reports/incoming/*"
        }));
    write_live(&file, &document);
    let (code, stdout, _) = run(&["check"], &scenario);
    assert_eq!(code, Some(1), "{stdout}");
    assert!(stdout.contains("WRONG"), "{stdout}");
    assert!(
        stdout.contains(&format!(
            "statement \"FreezeIncoming\" (kept from {BUCKET_POLICY}, statement #3)"
        )),
        "{stdout}"
    );
}

#[test]
fn a_second_run_on_the_policies_it_deployed_changes_nothing() {
    let (dir, scenario) = existing_bucket(|text| text);
    let first = dir.path().join("first");
    let (bucket, key) = rendered_policies(&scenario, &first);
    // The live policies are now what crossgrant deployed.
    write_live(&dir.path().join(BUCKET_POLICY), &bucket);
    write_live(&dir.path().join(KEY_POLICY), &key);
    let second = dir.path().join("second");
    let (bucket_again, key_again) = rendered_policies(&scenario, &second);
    assert_eq!(bucket, bucket_again);
    assert_eq!(key, key_again);
    let (_, plan, _) = run(&["plan"], &scenario);
    assert!(
        plan.contains("in place of the 5 crossgrant wrote before"),
        "{plan}"
    );
}

#[test]
fn statements_crossgrant_wrote_before_are_replaced_not_kept() {
    let (dir, scenario) = existing_bucket(|text| text);
    let file = dir.path().join(BUCKET_POLICY);
    let mut document = live_document(&file);
    document["Statement"]
        .as_array_mut()
        .unwrap()
        .push(serde_json::json!({
            "Sid": "CrossgrantOldConsumerObjects",
            "Effect": "Allow",
            "Principal": {"AWS": "arn:aws:iam::555555555555:root"},
            "Action": "s3:GetObject",
            "Resource": "arn:aws:s3:::acme-reports/*"
        }));
    write_live(&file, &document);
    let (bucket, _) = rendered_policies(&scenario, &dir.path().join("out"));
    let text = bucket.to_string();
    assert!(!text.contains("555555555555"), "{text}");
    assert!(text.contains("AnalyticsRead"), "{text}");
    let statements = bucket["Statement"].as_array().unwrap();
    assert_eq!(
        statements[0]["Sid"], "AnalyticsRead",
        "kept statements come first"
    );
    assert!(statements[2..]
        .iter()
        .all(|statement| statement["Sid"].as_str().unwrap().starts_with("Crossgrant")));
}

#[test]
fn a_live_policy_that_is_not_captured_is_warned_about_by_every_command() {
    let (_dir, scenario) = existing_bucket(|text| {
        text.lines()
            .filter(|line| !line.starts_with("policy_file"))
            .collect::<Vec<_>>()
            .join("\n")
    });
    for command in ["check", "plan", "synth"] {
        let args: &[&str] = if command == "synth" {
            &["synth", "--target", "terraform", "--out", "/dev/null/x"]
        } else {
            &[command]
        };
        let (_, _, stderr) = run(args, &scenario);
        for what in ["key `data`", "bucket `reports`"] {
            assert!(
                stderr.contains(&format!(
                    "warning: {what} exists already and names no policy_file"
                )),
                "{command}: {stderr}"
            );
        }
    }
}

#[test]
fn a_key_policy_that_would_lock_out_its_administrators_is_refused() {
    let (dir, scenario) = existing_bucket(|text| text);
    let file = dir.path().join(KEY_POLICY);
    let mut document = live_document(&file);
    document["Statement"].as_array_mut().unwrap().remove(0);
    write_live(&file, &document);
    let (code, _, stderr) = run(&["check"], &scenario);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("kms:PutKeyPolicy"), "{stderr}");
    assert!(stderr.contains("scenario.toml:19:15"), "{stderr}");
}

/// Each change to the scenario or its files is refused at `place` with `message`.
#[test]
fn bad_existing_tables_and_policy_files_are_refused_where_they_are_written() {
    type Edit = Box<dyn Fn(&Path, String) -> String>;
    let cases: Vec<(&str, Edit, &str, &str)> = vec![
        (
            "missing policy file",
            Box::new(|dir, text| {
                fs::remove_file(dir.join(BUCKET_POLICY)).unwrap();
                text
            }),
            "scenario.toml:28:15",
            "cannot be read",
        ),
        (
            "not JSON",
            Box::new(|dir, text| {
                fs::write(dir.join(BUCKET_POLICY), "{\n  \"Policy\": oops\n}").unwrap();
                text
            }),
            "scenario.toml:28:15",
            "not valid JSON at line 2, column 13",
        ),
        (
            "not a policy",
            Box::new(|dir, text| {
                fs::write(dir.join(KEY_POLICY), "{\"KeyId\": \"x\"}").unwrap();
                text
            }),
            "scenario.toml:19:15",
            "no `Statement`",
        ),
        (
            "key ARN in another region",
            Box::new(|_, text| text.replace("arn:aws:kms:eu-west-1:", "arn:aws:kms:eu-west-2:")),
            "scenario.toml:18:7",
            "is in region eu-west-2, but the table's region is eu-west-1",
        ),
        (
            "key ARN in another account",
            Box::new(|_, text| {
                text.replace("arn:aws:kms:eu-west-1:111111111111:", "arn:aws:kms:eu-west-1:222222222222:")
            }),
            "scenario.toml:18:7",
            "is in account 222222222222, but account `data` is 111111111111",
        ),
        (
            "an alias ARN",
            Box::new(|_, text| {
                text.replace("key/0b5b9f2e-3c1d-4e8a-9f10-2a6c7d8e9f01", "alias/reports")
            }),
            "scenario.toml:18:7",
            "does not name a key",
        ),
        (
            "existing key without ARN",
            Box::new(|_, text| {
                text.lines()
                    .filter(|line| !line.starts_with("arn = "))
                    .collect::<Vec<_>>()
                    .join("\n")
            }),
            "scenario.toml:15:7",
            "key `data` has no `arn`",
        ),
        (
            "creation-only field on an existing bucket",
            Box::new(|_, text| text.replace("bucket_key = true", "bucket_key = true\nversioning = false")),
            "scenario.toml:28:14",
            "`versioning` configures a bucket crossgrant creates, but bucket `reports` is `existing = true`",
        ),
        (
            "creation-only field on an existing key",
            Box::new(|_, text| text.replace("existing = true\narn", "existing = true\nrotation = false\narn")),
            "scenario.toml:18:12",
            "`rotation` configures a key crossgrant creates",
        ),
        (
            "policy file on a bucket crossgrant creates",
            Box::new(|_, text| text.replace("existing = true\nbucket_key", "bucket_key")),
            "scenario.toml:27:15",
            "`policy_file` describes an existing bucket, but crossgrant creates bucket `reports`",
        ),
    ];
    for (what, edit, place, message) in cases {
        let (dir, scenario) = existing_bucket(|text| text);
        let text = fs::read_to_string(&scenario).unwrap();
        fs::write(&scenario, edit(dir.path(), text)).unwrap();
        let (code, _, stderr) = run(&["check"], &scenario);
        assert_eq!(code, Some(2), "{what}: {stderr}");
        assert!(stderr.contains(place), "{what}: at {place}:\n{stderr}");
        assert!(
            stderr.contains(message),
            "{what}: says {message}:\n{stderr}"
        );
        assert!(!stderr.contains("panicked"), "{what}: {stderr}");
    }
}

#[test]
fn an_existing_role_needs_its_instance_profile_named_and_no_creation_settings() {
    let example = fs::read_to_string(common::root().join("examples/existing-role.toml")).unwrap();
    for (edit, message) in [
        (
            example.replace("instance_profile_name = \"etl-runner-profile\"\n", ""),
            "instance `runner` has no `instance_profile_name`",
        ),
        (
            example.replace(
                "existing = true\n",
                "existing = true\nservice = \"ec2.amazonaws.com\"\n",
            ),
            "`service` configures a role crossgrant creates, but role `etl` is `existing = true`",
        ),
        (
            example.replace("path = \"/etl/\"\nexisting = true\n", "path = \"/etl/\"\n"),
            "`instance_profile_name` describes an existing role, but crossgrant creates role `etl`",
        ),
    ] {
        let stderr = common::check_refuses(&edit);
        assert!(stderr.contains(message), "{message}:\n{stderr}");
    }
}

#[test]
fn a_key_policy_first_replaced_then_captured_keeps_its_administrator() {
    let (dir, scenario) = existing_bucket(|text| {
        text.replace(
            "policy_file = \"live/existing-bucket/key-policy.json\"\n",
            "",
        )
    });
    let (_, key) = rendered_policies(&scenario, &dir.path().join("first"));
    // The policy deployed without a capture is captured afterwards and named.
    write_live(&dir.path().join(KEY_POLICY), &key);
    let text = fs::read_to_string(&scenario).unwrap().replace(
        "arn = \"arn:aws:kms:eu-west-1:111111111111:key/0b5b9f2e-3c1d-4e8a-9f10-2a6c7d8e9f01\"\n",
        "arn = \"arn:aws:kms:eu-west-1:111111111111:key/0b5b9f2e-3c1d-4e8a-9f10-2a6c7d8e9f01\"\npolicy_file = \"live/existing-bucket/key-policy.json\"\n",
    );
    fs::write(&scenario, text).unwrap();
    let (_, key_again) = rendered_policies(&scenario, &dir.path().join("second"));
    assert_eq!(key, key_again);
}

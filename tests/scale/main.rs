//! Scale, end to end with the real binary: generated scenarios with hundreds of roles synthesize
//! into documents that AWS accepts, measured here from the rendered CloudFormation on their own;
//! a scenario that cannot fit exits 2 naming the document, its size, its limit and what to
//! change; documents near their limit are warned about; a role too large for one inline policy
//! deploys with managed policies that cfn-lint and terraform accept.

mod access_points;
#[path = "../common/mod.rs"]
mod common;
mod stacks;

use common::*;
use crossgrant::generate::{scenario, AccessMix, Shape};
use serde_json::Value as Json;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

const BUCKET_POLICY_LIMIT: usize = 20_480;
const KEY_POLICY_LIMIT: usize = 32_768;
const ROLE_INLINE_LIMIT: usize = 10_240;
const MANAGED_POLICY_LIMIT: usize = 6_144;

/// A key ARN as long as a real one: `arn:aws:kms:eu-west-1:<12 digits>:key/<36 characters>`.
const KEY_ARN: &str = "arn:aws:kms:eu-west-1:100000000001:key/1234abcd-12ab-34cd-56ef-1234567890ab";

fn six_hundred_readers() -> Shape {
    Shape {
        buckets: 1,
        roles: 600,
        accounts: 60,
        team_size: 10,
        grants: 600,
        access: AccessMix::Read,
        prefix_percent: 0,
        declare_paths: true,
        ..Shape::default()
    }
}

fn write_scenario(dir: &Path, shape: &Shape) -> PathBuf {
    let path = dir.join("scenario.toml");
    std::fs::write(&path, scenario(shape).0).unwrap();
    path
}

/// Exit code, stdout and stderr of a finished run.
fn outcome(output: std::process::Output) -> (Option<i32>, String, String) {
    (
        output.status.code(),
        text(&output.stdout),
        text(&output.stderr),
    )
}

/// `crossgrant synth SCENARIO --out OUT EXTRA…`, whatever its outcome.
fn try_synth(scenario: &Path, out: &Path, extra: &[&str]) -> (Option<i32>, String, String) {
    outcome(synth_output(scenario, out, extra))
}

fn run(args: &[&str]) -> (Option<i32>, String, String) {
    outcome(crossgrant(args))
}

/// Replaces CloudFormation intrinsics (only key ARNs are referenced from policies) by a literal
/// of the length the reference resolves to.
fn resolve_intrinsics(value: &Json) -> Json {
    match value {
        Json::Object(map)
            if map.len() == 1 && (map.contains_key("Ref") || map.contains_key("Fn::GetAtt")) =>
        {
            Json::String(KEY_ARN.to_string())
        }
        Json::Object(map) => Json::Object(
            map.iter()
                .map(|(key, value)| (key.clone(), resolve_intrinsics(value)))
                .collect(),
        ),
        Json::Array(items) => Json::Array(items.iter().map(resolve_intrinsics).collect()),
        other => other.clone(),
    }
}

/// Minified length: what AWS counts.
fn aws_size(document: &Json) -> usize {
    serde_json::to_string(&resolve_intrinsics(document))
        .unwrap()
        .len()
}

#[derive(Default, Debug)]
struct Documents {
    /// (logical id, size, document)
    bucket_policies: Vec<(String, usize, Json)>,
    key_policies: Vec<(String, usize, Json)>,
    /// Inline size per role, summed over its inline policies.
    inline_by_role: BTreeMap<String, usize>,
    managed: Vec<(String, usize, Json)>,
    /// The roles each managed policy is attached to.
    managed_roles: std::collections::BTreeSet<String>,
}

/// Every policy document of every CloudFormation template (JSON format) under `dir`.
fn documents(dir: &Path) -> Documents {
    let mut found = Documents::default();
    for (path, bytes) in tree(&dir.join("cloudformation")) {
        if path.extension().is_none_or(|ext| ext != "json") {
            continue;
        }
        let template: Json = serde_json::from_slice(&bytes).unwrap();
        let resources = template["Resources"].as_object().unwrap();
        for (logical, resource) in resources {
            let properties = &resource["Properties"];
            match resource["Type"].as_str().unwrap() {
                "AWS::S3::BucketPolicy" => {
                    let document = properties["PolicyDocument"].clone();
                    found
                        .bucket_policies
                        .push((logical.clone(), aws_size(&document), document));
                }
                "AWS::KMS::Key" => {
                    let document = match &properties["KeyPolicy"] {
                        Json::String(text) => serde_json::from_str(text).unwrap(),
                        other => other.clone(),
                    };
                    found
                        .key_policies
                        .push((logical.clone(), aws_size(&document), document));
                }
                "AWS::IAM::Policy" => {
                    let role = properties["Roles"][0].to_string();
                    *found.inline_by_role.entry(role).or_default() +=
                        aws_size(&properties["PolicyDocument"]);
                }
                "AWS::IAM::ManagedPolicy" => {
                    found
                        .managed_roles
                        .insert(properties["Roles"][0].to_string());
                    let document = properties["PolicyDocument"].clone();
                    found
                        .managed
                        .push((logical.clone(), aws_size(&document), document));
                }
                _ => {}
            }
        }
    }
    found
}

fn assert_within_limits(found: &Documents) {
    for (logical, size, _) in &found.bucket_policies {
        assert!(*size <= BUCKET_POLICY_LIMIT, "{logical}: {size} bytes");
    }
    for (logical, size, _) in &found.key_policies {
        assert!(*size <= KEY_POLICY_LIMIT, "{logical}: {size} bytes");
    }
    for (role, size) in &found.inline_by_role {
        assert!(
            *size <= ROLE_INLINE_LIMIT,
            "inline policy of {role}: {size}"
        );
    }
    for (logical, size, _) in &found.managed {
        assert!(
            *size <= MANAGED_POLICY_LIMIT,
            "{logical}: {size} characters"
        );
    }
}

#[test]
fn six_hundred_roles_in_sixty_accounts_reading_one_bucket_fit() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = write_scenario(dir.path(), &six_hundred_readers());
    let out = dir.path().join("out");
    let (code, _, stderr) = try_synth(&scenario, &out, &["--format", "json"]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(!stderr.contains("warning"), "{stderr}");
    let found = documents(&out);
    assert_eq!(found.bucket_policies.len(), 1);
    assert_eq!(found.key_policies.len(), 1);
    let with_access: std::collections::BTreeSet<&String> = found
        .inline_by_role
        .keys()
        .chain(&found.managed_roles)
        .collect();
    assert_eq!(with_access.len(), 600);
    assert_within_limits(&found);
    // One pattern per team rather than 600 role ARNs.
    let (_, size, bucket_policy) = &found.bucket_policies[0];
    let text = bucket_policy.to_string();
    assert_eq!(text.matches("role/team-").count(), 60, "{text}");
    assert!(*size < BUCKET_POLICY_LIMIT / 2, "{size}");
    // The evaluator proves the consolidated documents grant every role and nothing else.
    let (code, report, stderr) = run(&["check", scenario.to_str().unwrap()]);
    assert_eq!(code, Some(0), "{stderr}{report}");
    assert!(
        report.contains("OK: every grant works and nothing else is granted"),
        "{report}"
    );
    assert!(
        report.contains("\nDocument sizes (AWS limits, whitespace not counted):\n  bucket policy of bucket data-0001: "),
        "{report}"
    );
}

#[test]
fn a_bucket_policy_that_cannot_fit_exits_2_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let shape = Shape {
        declare_paths: false,
        ..six_hundred_readers()
    };
    let scenario = write_scenario(dir.path(), &shape);
    let out = dir.path().join("out");
    let (code, stdout, stderr) = try_synth(&scenario, &out, &[]);
    assert_eq!(code, Some(2), "{stdout}{stderr}");
    let headline = stderr
        .lines()
        .find(|line| line.starts_with("error: the bucket policy of bucket data-0001 is "))
        .unwrap_or_else(|| panic!("no headline for the bucket policy:\n{stderr}"));
    let size: usize = headline
        .trim_start_matches("error: the bucket policy of bucket data-0001 is ")
        .split(' ')
        .next()
        .unwrap()
        .replace(',', "")
        .parse()
        .unwrap();
    assert!(size > BUCKET_POLICY_LIMIT, "{headline}");
    // The error points at the bucket's table: file, line and column.
    let source = std::fs::read_to_string(&scenario).unwrap();
    let line = source
        .lines()
        .position(|line| line == "[buckets.data-0001]")
        .unwrap()
        + 1;
    let location = format!("{}:{line}:10", scenario.display());
    assert!(stderr.contains(&location), "no {location} in:\n{stderr}");
    assert!(
        stderr.contains("bucket data-0001 is declared here"),
        "{stderr}"
    );
    assert!(
        headline.contains("over its limit of 20,480 bytes even after merging statements"),
        "{headline}"
    );
    assert!(
        stderr.contains("help: put the consumer roles that share a grant under a common IAM path and declare it on their account (role_paths"),
        "{stderr}"
    );
    assert!(
        stderr.contains("help: declare the organization"),
        "{stderr}"
    );
    assert!(
        stderr.contains("error: the key policy of key key-0001 is "),
        "{stderr}"
    );
    assert!(
        stderr.ends_with("the scenario does not fit AWS size limits (2 problems)\n"),
        "{stderr}"
    );
    assert!(!out.exists(), "nothing may be written");
    // plan and every other command refuse the scenario the same way.
    let (code, _, plan_stderr) = run(&["plan", scenario.to_str().unwrap()]);
    assert_eq!(code, Some(2));
    assert_eq!(plan_stderr, stderr);
}

#[test]
fn a_role_needing_more_managed_policies_than_allowed_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let shape = Shape {
        seed: 3,
        buckets: 150,
        roles: 1,
        accounts: 1,
        grants: 150,
        max_managed_policies: Some(1),
        ..Shape::default()
    };
    let scenario = write_scenario(dir.path(), &shape);
    let (code, _, stderr) = run(&["plan", scenario.to_str().unwrap()]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.starts_with("error: role consumer-00001 needs "),
        "{stderr}"
    );
    assert!(
        stderr.contains(
            "managed access policies besides the 0 it names, but may have 1 attached (max_managed_policies)"
        ),
        "{stderr}"
    );
    assert!(
        stderr.contains("help: raise the IAM quota \"Managed policies per role\" and set max_managed_policies = "),
        "{stderr}"
    );
}

#[test]
fn documents_near_their_limit_are_warned_about_in_synth_and_plan() {
    let dir = tempfile::tempdir().unwrap();
    let shape = Shape {
        roles: 250,
        accounts: 10,
        grants: 250,
        declare_paths: false,
        team_size: 1,
        ..six_hundred_readers()
    };
    let scenario = write_scenario(dir.path(), &shape);
    let out = dir.path().join("out");
    let (code, _, stderr) = try_synth(&scenario, &out, &[]);
    assert_eq!(code, Some(0), "{stderr}");
    let warning = stderr
        .lines()
        .find(|line| line.starts_with("warning: the bucket policy of bucket data-0001 is "))
        .unwrap_or_else(|| panic!("no warning:\n{stderr}"));
    assert!(warning.ends_with("above 80% of its limit"), "{warning}");
    let percent: f64 = warning
        .split('(')
        .nth(1)
        .and_then(|rest| rest.split('%').next())
        .unwrap()
        .parse()
        .unwrap();
    assert!(percent > 80.0 && percent <= 100.0, "{warning}");
    let (code, stdout, _) = run(&["plan", scenario.to_str().unwrap()]);
    assert_eq!(code, Some(0));
    let line = stdout
        .lines()
        .find(|line| line.contains("size:    bucket policy of bucket data-0001: "))
        .unwrap_or_else(|| panic!("no size line:\n{stdout}"));
    assert!(
        line.ends_with("after merging statements — warning: above 80% of the limit"),
        "{line}"
    );
}

#[test]
fn plan_prints_every_document_size_and_share() {
    let (code, stdout, stderr) = run(&["plan", "examples/blog.toml"]);
    assert_eq!(code, Some(0), "{stderr}");
    let sizes: Vec<&str> = stdout
        .lines()
        .filter_map(|line| line.trim_start().strip_prefix("size:    "))
        .collect();
    assert_eq!(sizes.len(), 3, "{stdout}");
    let expect = [
        ("key policy of key data: ", "of 32,768 bytes ("),
        ("bucket policy of bucket shared: ", "of 20,480 bytes ("),
        (
            "managed access policy 1 of role app: ",
            "of 6,144 characters (",
        ),
    ];
    for (start, limit) in expect {
        assert!(
            sizes.iter().any(|line| line.starts_with(start)
                && line.contains(limit)
                && line.ends_with("%)")),
            "no `{start}…{limit}` line in:\n{stdout}"
        );
    }
}

fn one_path_in_four_hundred_accounts(organization_wide: bool) -> Shape {
    Shape {
        buckets: 1,
        roles: 800,
        accounts: 400,
        team_size: 2,
        paths: Some(1),
        grants: 800,
        access: AccessMix::Read,
        prefix_percent: 0,
        declare_paths: !organization_wide,
        organization_paths: organization_wide,
        ..Shape::default()
    }
}

#[test]
fn a_path_declared_for_the_organization_is_named_once_for_every_account() {
    let dir = tempfile::tempdir().unwrap();
    let per_account = write_scenario(dir.path(), &one_path_in_four_hundred_accounts(false));
    let (code, _, stderr) = run(&["plan", per_account.to_str().unwrap()]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.contains("help: declare the path organization-wide (organization_role_paths"),
        "{stderr}"
    );

    let organization_wide = write_scenario(dir.path(), &one_path_in_four_hundred_accounts(true));
    let out = dir.path().join("out");
    let (code, _, stderr) = try_synth(
        &organization_wide,
        &out,
        &["--format", "json", "--target", "cloudformation"],
    );
    assert_eq!(code, Some(0), "{stderr}");
    let found = documents(&out);
    assert_within_limits(&found);
    let (_, size, bucket_policy) = &found.bucket_policies[0];
    let consumers: Vec<&Json> = bucket_policy["Statement"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|statement| statement["Effect"] == "Allow")
        .collect();
    assert_eq!(consumers.len(), 1, "{bucket_policy}");
    assert_eq!(consumers[0]["Principal"], serde_json::json!({ "AWS": "*" }));
    assert_eq!(
        consumers[0]["Condition"]["StringEquals"]["aws:PrincipalOrgID"],
        "o-0000000001"
    );
    assert_eq!(
        consumers[0]["Condition"]["ArnLike"]["aws:PrincipalArn"],
        "arn:aws:iam::*:role/team-0001/*"
    );
    assert!(*size < 4_096, "{size}");
    // The evaluator proves the organization-wide documents grant every role and nothing else,
    // an administrator of another organization account included.
    let (code, report, stderr) = run(&["check", organization_wide.to_str().unwrap()]);
    assert_eq!(code, Some(0), "{stderr}{report}");
    assert!(
        report.contains("admin role in organization account "),
        "{report}"
    );
}

fn split_role_scenario(dir: &Path) -> PathBuf {
    write_scenario(
        dir,
        &Shape {
            seed: 3,
            buckets: 150,
            roles: 1,
            accounts: 1,
            grants: 150,
            ..Shape::default()
        },
    )
}

#[test]
fn a_large_role_deploys_with_managed_policies_cloudformation_accepts() {
    require_tool(
        "cfn-lint",
        &["--version"],
        "pip install -r requirements-test.txt",
    );
    let dir = tempfile::tempdir().unwrap();
    let scenario = split_role_scenario(dir.path());
    let out = dir.path().join("out");
    let (code, _, stderr) = try_synth(
        &scenario,
        &out,
        &["--format", "json", "--target", "cloudformation"],
    );
    assert_eq!(code, Some(0), "{stderr}");
    let found = documents(&out);
    assert!(found.managed.len() >= 2, "{:?}", found.managed.len());
    let (code, report, stderr) = run(&["check", scenario.to_str().unwrap()]);
    assert_eq!(code, Some(0), "{stderr}{report}");
    assert!(
        report.contains("  managed access policy 1 of role consumer-00001: "),
        "{report}"
    );
    assert_within_limits(&found);
    let template = out.join("cloudformation/consumer-0001-access.json");
    let parsed: Json = serde_json::from_slice(&std::fs::read(&template).unwrap()).unwrap();
    let managed: Vec<&Json> = parsed["Resources"]
        .as_object()
        .unwrap()
        .values()
        .filter(|resource| resource["Type"] == "AWS::IAM::ManagedPolicy")
        .collect();
    for policy in &managed {
        assert_eq!(
            policy["Properties"]["Roles"],
            serde_json::json!([{ "Ref": "Consumer00001Role" }])
        );
    }
    let output = Command::new("cfn-lint")
        .arg(&template)
        .output()
        .expect("cfn-lint runs");
    assert!(
        output.status.success() && output.stdout.is_empty(),
        "cfn-lint reported findings:\n{}{}",
        text(&output.stdout),
        text(&output.stderr)
    );
}

#[test]
fn a_large_role_deploys_with_managed_policies_terraform_accepts() {
    require_tool("terraform", &["version"], "install Terraform 1.5 or later");
    let dir = tempfile::tempdir().unwrap();
    let scenario = split_role_scenario(dir.path());
    let out = dir.path().join("out");
    let (code, _, stderr) = try_synth(&scenario, &out, &["--target", "terraform"]);
    assert_eq!(code, Some(0), "{stderr}");
    let module =
        std::fs::read_to_string(out.join("terraform/modules/consumer-0001/main.tf")).unwrap();
    assert!(
        module.contains("resource \"aws_iam_policy\" \"consumer_00001-access-1\""),
        "{module}"
    );
    assert!(
        module.contains("policy_arn = aws_iam_policy.consumer_00001-access-1.arn"),
        "{module}"
    );
    let root = out.join("terraform");
    for args in [
        &["fmt", "-check", "-recursive", "-diff", "-no-color"][..],
        &[
            "init",
            "-backend=false",
            "-input=false",
            "-no-color",
            &format!("-plugin-dir={TF_PLUGINS}"),
        ],
        &["validate", "-no-color"],
    ] {
        let output = common::terraform()
            .args(args)
            .current_dir(&root)
            .output()
            .expect("terraform runs");
        assert!(
            output.status.success(),
            "terraform {} failed:\n{}{}",
            args[0],
            text(&output.stdout),
            text(&output.stderr)
        );
    }
}

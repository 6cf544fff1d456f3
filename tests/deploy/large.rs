//! Large templates in the emulator: a template over 51,200 bytes, more than CloudFormation
//! takes in a request, deploys through the account's artifact bucket (`--s3-bucket`); without
//! one, `deploy.sh` stops before any change and names the account; and a data stack over
//! CloudFormation's 200 outputs is split into numbered parts that deploy in plan order, with
//! `check` still passing.

use super::{args, key_policies_as_strings};
use crate::common::moto::{Moto, Profile, Profiles};
use crate::common::{self, crossgrant, require_tool, text};
use crossgrant::generate::{scenario, Shape};
use std::path::{Path, PathBuf};

const REGION: &str = "eu-west-1";

/// A generated scenario of `buckets` buckets (each with its key) read by one consumer role,
/// named `name`, in accounts `owner` and `consumer`, with `extra` appended to the owner's
/// account table; rendered for CloudFormation into `dir/out`, with the emulator's adaptation.
fn render(
    dir: &Path,
    name: &str,
    buckets: usize,
    (owner, consumer): (&str, &str),
    owner_extra: &str,
) -> (PathBuf, PathBuf) {
    let shape = Shape {
        buckets,
        roles: 1,
        accounts: 1,
        grants: buckets.min(12),
        ..Shape::default()
    };
    let text = scenario(&shape)
        .0
        .replace("gen-1", name)
        .replace(
            "id = \"100000000001\"",
            &format!("id = \"{owner}\"{owner_extra}"),
        )
        .replace("200000000001", consumer);
    let path = dir.join(format!("{name}.toml"));
    std::fs::write(&path, text).unwrap();
    let out = dir.join("out");
    common::synth(&path, &out, &["--target", "cloudformation"]);
    // Emulator gap: its KMS fails on a KeyPolicy mapping; its copy takes the same policy as a
    // JSON string.
    for entry in std::fs::read_dir(out.join("cloudformation")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|ext| ext == "yaml") {
            key_policies_as_strings(&path);
        }
    }
    (path, out)
}

fn profiles(moto: &Moto, owner: &str, consumer: &str) -> Profiles {
    let profile = |name: &str, account_id: &str| Profile {
        name: name.into(),
        account_id: account_id.into(),
        region: REGION.into(),
    };
    Profiles::issue(
        moto,
        &[
            profile("owner-001", owner),
            profile("consumer-0001", consumer),
        ],
    )
}

fn make_bucket(profiles: &Profiles, profile: &str, bucket: &str) {
    profiles
        .json(&[
            "s3api",
            "create-bucket",
            "--bucket",
            bucket,
            "--create-bucket-configuration",
            &format!("LocationConstraint={REGION}"),
            "--profile",
            profile,
            "--region",
            REGION,
        ])
        .expect("artifact bucket created");
}

/// The stacks of the account behind `profile` whose names start with `prefix`, with their
/// status, that are not deleted.
fn stacks(profiles: &Profiles, profile: &str, prefix: &str) -> Vec<(String, String)> {
    let listed = profiles
        .json_all(&[args(&[
            "cloudformation",
            "list-stacks",
            "--profile",
            profile,
            "--region",
            REGION,
        ])])
        .remove(0)
        .expect("list-stacks");
    let mut found: Vec<(String, String)> = listed["StackSummaries"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|stack| stack["StackStatus"] != "DELETE_COMPLETE")
        .filter_map(|stack| {
            Some((
                stack["StackName"].as_str()?.to_string(),
                stack["StackStatus"].as_str()?.to_string(),
            ))
        })
        .filter(|(name, _)| name.starts_with(prefix))
        .collect();
    found.sort();
    found
}

fn objects(profiles: &Profiles, profile: &str, bucket: &str) -> usize {
    let listed = profiles
        .json(&[
            "s3api",
            "list-objects-v2",
            "--bucket",
            bucket,
            "--profile",
            profile,
            "--region",
            REGION,
        ])
        .expect("list-objects-v2");
    listed["Contents"].as_array().map_or(0, Vec::len)
}

fn run_deploy(
    moto: &Moto,
    profiles: &Profiles,
    out: &Path,
    env: &[(&str, &str)],
) -> std::process::Output {
    let mut command = profiles.command("bash");
    // Emulator gap: its CloudFormation reads a template URL of any host but `localhost` as
    // virtual-host style (`http://127.0.0.1:…/bucket/key` names bucket `127`), so the script
    // reaches the same emulator as `localhost`, which the CLI's template URL then names.
    command.env(
        "AWS_ENDPOINT_URL",
        moto.endpoint().replace("127.0.0.1", "localhost"),
    );
    command.arg(out.join("cloudformation/deploy.sh"));
    for (name, value) in env {
        command.env(name, value);
    }
    command.output().expect("bash runs deploy.sh")
}

#[test]
fn a_template_over_51200_bytes_deploys_through_the_artifact_bucket() {
    require_tool("bash", &["--version"], "deploy.sh is a bash script");
    let moto = Moto::shared();
    let (owner, consumer) = ("888888888831", "888888888832");
    let dir = tempfile::tempdir().unwrap();
    let (_, out) = render(
        dir.path(),
        "artifacts",
        12,
        (owner, consumer),
        "\nartifact_bucket = \"artifacts-owner-templates\"",
    );
    let template = std::fs::read(out.join("cloudformation/owner-001-data.yaml")).unwrap();
    let deploy_sh = std::fs::read_to_string(out.join("cloudformation/deploy.sh")).unwrap();
    assert!(
        deploy_sh.contains(
            "deploy --s3-bucket \"$ARTIFACT_BUCKET_OWNER_001\" artifacts-owner-001-data "
        ),
        "{deploy_sh}"
    );
    assert!(
        deploy_sh.contains("\ndeploy artifacts-consumer-0001-access "),
        "the small template goes in the request"
    );
    let profiles = profiles(&moto, owner, consumer);
    make_bucket(&profiles, "owner-001", "artifacts-owner-templates");
    let output = run_deploy(&moto, &profiles, &out, &[]);
    assert!(
        output.status.success(),
        "deploy.sh failed ({} bytes of template):\n{}\n{}\n{}",
        template.len(),
        text(&output.stdout),
        text(&output.stderr),
        moto.log_tail(20)
    );
    assert_eq!(
        stacks(&profiles, "owner-001", "artifacts-"),
        [("artifacts-owner-001-data".into(), "CREATE_COMPLETE".into())]
    );
    assert_eq!(
        stacks(&profiles, "consumer-0001", "artifacts-"),
        [(
            "artifacts-consumer-0001-access".into(),
            "CREATE_COMPLETE".into()
        )]
    );
    assert_eq!(
        objects(&profiles, "owner-001", "artifacts-owner-templates"),
        1,
        "the owner template was uploaded to the artifact bucket"
    );
}

#[test]
fn deploy_sh_without_an_artifact_bucket_stops_before_any_change_naming_the_account() {
    require_tool("bash", &["--version"], "deploy.sh is a bash script");
    let moto = Moto::shared();
    let (owner, consumer) = ("888888888833", "888888888834");
    let dir = tempfile::tempdir().unwrap();
    let (_, out) = render(dir.path(), "noartifacts", 12, (owner, consumer), "");
    let profiles = profiles(&moto, owner, consumer);
    let output = run_deploy(&moto, &profiles, &out, &[]);
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("account owner-001 needs an S3 bucket for its templates over 51,200 bytes (owner-001-data.yaml): set artifact_bucket on [accounts.owner-001] in the scenario, or CROSSGRANT_ARTIFACT_BUCKET_OWNER_001"),
        "{stderr}"
    );
    assert!(stderr.contains("nothing was deployed"), "{stderr}");
    assert!(
        !text(&output.stdout).contains("==> step"),
        "no step started"
    );
    assert!(stacks(&profiles, "owner-001", "noartifacts-").is_empty());
    assert!(stacks(&profiles, "consumer-0001", "noartifacts-").is_empty());
}

#[test]
fn a_data_stack_over_200_outputs_is_split_into_parts_that_deploy_in_plan_order() {
    require_tool("bash", &["--version"], "deploy.sh is a bash script");
    let moto = Moto::shared();
    let (owner, consumer) = ("888888888835", "888888888836");
    let dir = tempfile::tempdir().unwrap();
    // 101 keys and buckets: 202 outputs (each key's ARN and each bucket's) in one stack.
    let (path, out) = render(dir.path(), "parts", 101, (owner, consumer), "");
    let check = crossgrant(&["check", path.to_str().unwrap()]);
    assert_eq!(check.status.code(), Some(0), "{}", text(&check.stderr));
    let report = text(&check.stdout);
    assert!(
        report.contains("  owner-001-data: ") && report.contains("  owner-001-data-2: "),
        "{report}"
    );
    assert!(report.contains("200 of 200 outputs"), "{report}");
    let deploy_sh = std::fs::read_to_string(out.join("cloudformation/deploy.sh")).unwrap();
    let first = deploy_sh.find("parts-owner-001-data ").expect("part 1");
    let second = deploy_sh.find("parts-owner-001-data-2 ").expect("part 2");
    let consumer_step = deploy_sh
        .find("\ndeploy parts-consumer-0001-access ")
        .expect("consumer");
    assert!(first < second && second < consumer_step, "plan order");
    let profiles = profiles(&moto, owner, consumer);
    make_bucket(&profiles, "owner-001", "parts-owner-templates");
    let output = run_deploy(
        &moto,
        &profiles,
        &out,
        &[(
            "CROSSGRANT_ARTIFACT_BUCKET_OWNER_001",
            "parts-owner-templates",
        )],
    );
    let stdout = text(&output.stdout);
    assert!(
        output.status.success(),
        "deploy.sh failed:\n{stdout}\n{}\n{}",
        text(&output.stderr),
        moto.log_tail(20)
    );
    let step = |stack: &str| {
        stdout
            .find(&format!(": {stack}\n"))
            .unwrap_or_else(|| panic!("{stack} deployed:\n{stdout}"))
    };
    assert!(step("parts-owner-001-data") < step("parts-owner-001-data-2"));
    assert!(step("parts-owner-001-data-2") < step("parts-consumer-0001-access"));
    assert_eq!(
        stacks(&profiles, "owner-001", "parts-"),
        [
            ("parts-owner-001-data".into(), "CREATE_COMPLETE".into()),
            ("parts-owner-001-data-2".into(), "CREATE_COMPLETE".into())
        ]
    );
    assert_eq!(
        stacks(&profiles, "consumer-0001", "parts-"),
        [(
            "parts-consumer-0001-access".into(),
            "CREATE_COMPLETE".into()
        )]
    );
}

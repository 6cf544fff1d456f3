//! `deploy.sh` checks, before its first step, that every profile reaches the account the
//! scenario names: a profile pointing at another account stops the script with nothing
//! deployed anywhere, and so does a profile of another partition. `destroy.sh` deletes the stacks in reverse plan order and keeps what they
//! retain.

use super::{args, key_policies_as_strings};
use crate::common::moto::{Moto, Profile, Profiles};
use crate::common::{self, require_tool, text};

const DATA: &str = "888888888801";
const APP: &str = "888888888802";
const REGION: &str = "eu-west-1";

/// A scenario of one owner and one reader, named `name`, in accounts `data` and `app`, rendered
/// for CloudFormation into `dir/out`.
fn render(dir: &std::path::Path, name: &str, data: &str, app: &str) -> std::path::PathBuf {
    render_in(dir, name, data, app, REGION)
}

/// [`render`] with the scenario in `region`.
fn render_in(
    dir: &std::path::Path,
    name: &str,
    data: &str,
    app: &str,
    region: &str,
) -> std::path::PathBuf {
    let scenario = dir.join(format!("{name}.toml"));
    std::fs::write(
        &scenario,
        format!(
            r#"name = "{name}"
region = "{region}"

[accounts.data]
id = "{data}"

[accounts.app]
id = "{app}"

[keys.data]
account = "data"
alias = "{name}-data"

[buckets.shared]
account = "data"
name = "acme-{name}-shared"
key = "data"

[roles.app]
account = "app"
name = "{name}-reader"

[[grants]]
role = "app"
bucket = "shared"
access = "read"
"#
        ),
    )
    .unwrap();
    let out = dir.join("out");
    common::synth(&scenario, &out, &["--target", "cloudformation"]);
    out
}

fn profile(name: &str, account_id: &str) -> Profile {
    Profile {
        name: name.into(),
        account_id: account_id.into(),
        region: REGION.into(),
    }
}

/// The stacks of `account` (by profile) whose names start with `prefix` and are not deleted.
fn live_stacks(profiles: &Profiles, profile: &str, prefix: &str) -> Vec<String> {
    let stacks = profiles
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
    stacks["StackSummaries"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|stack| stack["StackStatus"] != "DELETE_COMPLETE")
        .filter_map(|stack| stack["StackName"].as_str())
        .filter(|name| name.starts_with(prefix))
        .map(str::to_string)
        .collect()
}

#[test]
fn deploy_sh_stops_before_any_change_when_a_profile_reaches_another_account() {
    require_tool("bash", &["--version"], "deploy.sh is a bash script");
    let moto = Moto::shared();
    let dir = tempfile::tempdir().unwrap();
    let out = render(dir.path(), "guard", DATA, APP);
    // Profile `app` holds credentials of the owner account: a copy-paste slip in ~/.aws/config.
    let profiles = Profiles::issue(&moto, &[profile("data", DATA), profile("app", DATA)]);
    let output = profiles
        .command("bash")
        .arg(out.join("cloudformation/deploy.sh"))
        .output()
        .expect("bash runs deploy.sh");
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "profile app reaches account {DATA}, but the scenario deploys account app ({APP}) with it"
        )),
        "{stderr}"
    );
    assert!(stderr.contains("nothing was deployed"), "{stderr}");
    assert!(
        !text(&output.stdout).contains("==> step"),
        "no step started"
    );
    let names = live_stacks(&profiles, "data", "guard-");
    assert!(names.is_empty(), "stacks were created: {names:?}");
}

#[test]
fn deploy_sh_stops_before_any_change_when_a_profile_is_of_another_partition() {
    require_tool("bash", &["--version"], "deploy.sh is a bash script");
    let moto = Moto::shared();
    let (data, app) = ("888888888821", "888888888822");
    let dir = tempfile::tempdir().unwrap();
    // A China scenario; the emulator's credentials are of the `aws` partition, as a profile
    // of a global account would be.
    let out = render_in(dir.path(), "partition", data, app, "cn-north-1");
    let profiles = Profiles::issue(&moto, &[profile("data", data), profile("app", app)]);
    let output = profiles
        .command("bash")
        .arg(out.join("cloudformation/deploy.sh"))
        .output()
        .expect("bash runs deploy.sh");
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("but the scenario deploys account data in the aws-cn partition with it"),
        "{stderr}"
    );
    assert!(stderr.contains("nothing was deployed"), "{stderr}");
    assert!(
        !text(&output.stdout).contains("==> step"),
        "no step started"
    );
}

#[test]
fn destroy_sh_deletes_the_stacks_and_keeps_the_data() {
    require_tool("bash", &["--version"], "destroy.sh is a bash script");
    let moto = Moto::shared();
    let (data, app) = ("888888888811", "888888888812");
    let dir = tempfile::tempdir().unwrap();
    let out = render(dir.path(), "teardown", data, app);
    // Emulator gap: its KMS fails on a KeyPolicy mapping; its copy takes the same policy as a
    // JSON string.
    // Emulator gap: its CloudFormation deletes every resource whose DeletionPolicy is not
    // `Retain` with the stack; its copy keeps the data with `Retain`, as AWS does with
    // `RetainExceptOnCreate` once the first create succeeded.
    for stem in ["data-data", "app-access"] {
        let template = out.join(format!("cloudformation/{stem}.yaml"));
        key_policies_as_strings(&template);
        let text = std::fs::read_to_string(&template).unwrap();
        std::fs::write(
            &template,
            text.replace(
                "DeletionPolicy: RetainExceptOnCreate",
                "DeletionPolicy: Retain",
            ),
        )
        .unwrap();
    }
    let profiles = Profiles::issue(&moto, &[profile("data", data), profile("app", app)]);
    let run = |script: &str| {
        let output = profiles
            .command("bash")
            .arg(out.join("cloudformation").join(script))
            .output()
            .expect("bash runs the script");
        assert!(
            output.status.success(),
            "{script} failed:\n{}\n{}\n{}",
            text(&output.stdout),
            text(&output.stderr),
            moto.log_tail(20)
        );
        text(&output.stdout)
    };
    run("deploy.sh");
    assert_eq!(live_stacks(&profiles, "data", "teardown-").len(), 1);
    assert_eq!(live_stacks(&profiles, "app", "teardown-").len(), 1);
    // Emulator gap: deleting a stack, it deletes the role before the managed policy attached
    // to it (and fails), where CloudFormation deletes the policy first, as it depends on the
    // role. The policy is detached here, which AWS does as part of deleting it.
    detach_managed_policies(&profiles, "app");
    let stdout = run("destroy.sh");
    let app_deleted = stdout
        .find("==> deleting teardown-app-access")
        .expect("app first");
    let data_deleted = stdout
        .find("==> deleting teardown-data-data")
        .expect("then data");
    assert!(app_deleted < data_deleted, "reverse plan order:\n{stdout}");
    assert!(live_stacks(&profiles, "data", "teardown-").is_empty());
    assert!(live_stacks(&profiles, "app", "teardown-").is_empty());
    assert!(
        stdout.contains("S3 bucket acme-teardown-shared (account data)"),
        "{stdout}"
    );
    assert!(
        stdout.contains("KMS key alias/teardown-data (account data)"),
        "{stdout}"
    );
    // What the stacks retain is still there.
    let bucket = profiles
        .json_all(&[args(&[
            "s3api",
            "head-bucket",
            "--bucket",
            "acme-teardown-shared",
            "--profile",
            "data",
            "--region",
            REGION,
        ])])
        .remove(0);
    assert!(bucket.is_ok(), "the bucket is retained: {bucket:?}");
}

/// Detaches every customer-managed policy from the roles of the account of `profile`.
fn detach_managed_policies(profiles: &Profiles, profile: &str) {
    let roles = profiles
        .json_all(&[args(&["iam", "list-roles", "--profile", profile])])
        .remove(0)
        .expect("list-roles");
    for role in roles["Roles"].as_array().into_iter().flatten() {
        let name = role["RoleName"].as_str().expect("a role name");
        let attached = profiles
            .json_all(&[args(&[
                "iam",
                "list-attached-role-policies",
                "--role-name",
                name,
                "--profile",
                profile,
            ])])
            .remove(0)
            .expect("list-attached-role-policies");
        for policy in attached["AttachedPolicies"]
            .as_array()
            .into_iter()
            .flatten()
        {
            let arn = policy["PolicyArn"].as_str().expect("a policy ARN");
            profiles
                .json_all(&[args(&[
                    "iam",
                    "detach-role-policy",
                    "--role-name",
                    name,
                    "--policy-arn",
                    arn,
                    "--profile",
                    profile,
                ])])
                .remove(0)
                .ok();
        }
    }
}

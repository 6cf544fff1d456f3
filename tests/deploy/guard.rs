//! `deploy.sh` checks, before its first step, that every profile reaches the account the
//! scenario names: a profile pointing at another account stops the script with nothing
//! deployed anywhere.

use super::args;
use crate::common::moto::{Moto, Profile, Profiles};
use crate::common::{self, require_tool, text};

const DATA: &str = "888888888801";
const APP: &str = "888888888802";
const REGION: &str = "eu-west-1";

#[test]
fn deploy_sh_stops_before_any_change_when_a_profile_reaches_another_account() {
    require_tool("bash", &["--version"], "deploy.sh is a bash script");
    let moto = Moto::shared();
    let dir = tempfile::tempdir().unwrap();
    let scenario = dir.path().join("guard.toml");
    std::fs::write(
        &scenario,
        format!(
            r#"name = "guard"
region = "{REGION}"

[accounts.data]
id = "{DATA}"

[accounts.app]
id = "{APP}"

[keys.data]
account = "data"
alias = "guard-data"

[buckets.shared]
account = "data"
name = "acme-guard-shared"
key = "data"

[roles.app]
account = "app"
name = "guard-reader"

[[grants]]
role = "app"
bucket = "shared"
access = "read"
"#
        ),
    )
    .unwrap();
    let out = dir.path().join("out");
    common::synth(&scenario, &out, &["--target", "cloudformation"]);
    let profile = |name: &str, account_id: &str| Profile {
        name: name.into(),
        account_id: account_id.into(),
        region: REGION.into(),
    };
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
    let stacks = profiles
        .json_all(&[args(&[
            "cloudformation",
            "list-stacks",
            "--profile",
            "data",
            "--region",
            REGION,
        ])])
        .remove(0)
        .expect("list-stacks");
    let names: Vec<&str> = stacks["StackSummaries"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|stack| stack["StackName"].as_str())
        .filter(|name| name.starts_with("guard-"))
        .collect();
    assert!(names.is_empty(), "stacks were created: {names:?}");
}

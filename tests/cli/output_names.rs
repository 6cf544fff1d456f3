//! Distinct places of a scenario never render to the same name, and every name crossgrant
//! derives is one AWS and Terraform accept: an account and region whose files, stacks, module
//! or provider would be another's is refused naming both; so is an account name or scenario
//! name that would make an invalid stack or session name.

use crate::common::*;
use crossgrant::render::{render_all, Format, Options, Target, Templates};
use proptest::prelude::*;
use std::collections::BTreeSet;

/// A scenario with an owner account holding a bucket (and its key) in `region`, and a consumer
/// account reading it.
fn scenario(name: &str, owner: &str, consumer: &str, region: &str) -> String {
    format!(
        r#"name = "{name}"
region = "us-east-1"

[accounts.{owner}]
id = "111111111111"

[accounts.{consumer}]
id = "222222222222"

[keys.k]
account = "{owner}"
alias = "k"
region = "{region}"

[buckets.b]
account = "{owner}"
name = "acme-names-b"
key = "k"
region = "{region}"

[roles.r]
account = "{consumer}"
name = "reader"
service = "ec2.amazonaws.com"

[[grants]]
role = "r"
bucket = "b"
access = "read"
"#
    )
}

#[test]
fn an_account_in_a_region_and_an_account_named_after_it_are_refused_naming_both() {
    let stderr = check_refuses(scenario("shared-data", "a", "a-us-west-2", "us-west-2"));
    assert!(
        stderr.contains(
            "account `a-us-west-2` and account `a` in us-west-2 would both render as `a-us-west-2`"
        ),
        "{stderr}"
    );
    // Both tables are pointed at: the consumer's where it is declared, the owner's beside it.
    assert!(stderr.contains("scenario.toml:7:11"), "{stderr}");
    assert!(stderr.contains("4 │ [accounts.a]"), "{stderr}");
    assert!(stderr.contains("the other one"), "{stderr}");
}

#[test]
fn an_account_name_that_makes_an_invalid_stack_name_is_refused_at_its_line() {
    let stderr = check_refuses(scenario("shared-data", "data_lake", "app", "us-east-1"));
    assert!(
        stderr.contains("CloudFormation stack name `shared-data-data_lake-"),
        "{stderr}"
    );
    assert!(stderr.contains("scenario.toml:4:11"), "{stderr}");
}

#[test]
fn a_scenario_name_too_long_for_the_session_name_is_refused() {
    let name = format!("s{}", "x".repeat(55));
    let stderr = check_refuses(scenario(&name, "data", "app", "us-east-1"));
    assert!(stderr.contains("session name `crossgrant-s"), "{stderr}");
    assert!(stderr.contains("scenario.toml:1:8"), "{stderr}");
}

fn valid_name() -> impl Strategy<Value = String> {
    "[a-z][a-z0-9_-]{0,12}"
}

fn region() -> impl Strategy<Value = &'static str> {
    prop::sample::select(vec![
        "us-east-1",
        "us-west-2",
        "eu-west-1",
        "ap-northeast-1",
    ])
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Whatever two account names and region a scenario uses, either it is refused, or every
    /// place renders its own files, stacks and modules, with names AWS and Terraform accept.
    #[test]
    fn accepted_scenarios_render_distinct_valid_names(
        owner in valid_name(),
        consumer in valid_name(),
        region in region(),
        suffix in prop::bool::ANY,
    ) {
        // Half the cases name the consumer after the owner in the bucket's region.
        let consumer = if suffix { format!("{owner}-{region}") } else { consumer };
        prop_assume!(owner != consumer);
        let text = scenario("shared-data", &owner, &consumer, region);
        let Ok(scenario) = crossgrant::parse_scenario("scenario.toml", &text) else {
            return Ok(());
        };
        let lowered = crossgrant::lower::lower(scenario);
        let steps = crossgrant::plan::plan(&lowered).unwrap();
        let stems: BTreeSet<&str> = steps.iter().map(|step| step.stem.as_str()).collect();
        prop_assert_eq!(stems.len(), steps.len(), "one file per unit: {:?}", stems);
        for step in &steps {
            let name = &step.stack_name;
            prop_assert!(
                name.len() <= 128
                    && name.starts_with(|c: char| c.is_ascii_alphabetic())
                    && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'),
                "stack name {}", name
            );
        }
        let files = render_all(
            &Templates::load(None).unwrap(),
            &lowered,
            &steps,
            Options { target: Target::All, format: Format::Yaml },
        )
        .unwrap();
        let modules: BTreeSet<String> = files
            .keys()
            .filter_map(|path| path.strip_prefix("terraform/modules").ok()?.iter().next())
            .map(|dir| dir.to_string_lossy().replace('-', "_"))
            .collect();
        let root = &files[std::path::Path::new("terraform/main.tf")];
        prop_assert_eq!(modules.len(), root.matches("\nmodule \"").count());
        for line in root.lines().filter(|line| line.contains("session_name")) {
            let name = line.split('"').nth(1).unwrap();
            prop_assert!(name.len() <= 64, "session name {}", name);
        }
    }
}

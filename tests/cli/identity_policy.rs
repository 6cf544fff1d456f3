//! A role's access policy is a customer-managed policy by default, as compliance rules such as
//! AWS Config's `iam-no-inline-policy-check` ask; `identity_policy = "inline"` keeps it inline.

use crate::common;
use std::path::Path;

/// Every rendered file of the scenario at `path`, concatenated, once `check` passes on it.
fn rendered_at(path: &Path) -> String {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    common::synth(path, &out, &[]);
    let check = common::crossgrant(&["check", path.to_str().unwrap()]);
    let report = common::text(&check.stdout);
    assert_eq!(check.status.code(), Some(0), "{report}");
    common::tree(&out)
        .values()
        .map(|bytes| common::text(bytes))
        .collect()
}

/// [`rendered_at`] for the text of a scenario file.
fn rendered(scenario: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("scenario.toml");
    std::fs::write(&path, scenario).unwrap();
    rendered_at(&path)
}

fn blog() -> String {
    std::fs::read_to_string(common::root().join("examples/blog.toml")).unwrap()
}

#[test]
fn access_policies_are_managed_policies_unless_the_scenario_asks_for_inline_ones() {
    for example in common::examples() {
        let all = rendered_at(&example);
        let name = common::stem(&example);
        assert!(!all.contains("Type: AWS::IAM::Policy\n"), "{name}");
        assert!(!all.contains("resource \"aws_iam_role_policy\" "), "{name}");
    }
    let managed = rendered(&blog());
    assert!(managed.contains("Type: AWS::IAM::ManagedPolicy\n"));
    assert!(managed.contains("resource \"aws_iam_policy\" "));
    assert!(managed.contains("resource \"aws_iam_role_policy_attachment\" "));

    let inline = rendered(&blog().replace(
        "region = \"ap-northeast-1\"\n",
        "region = \"ap-northeast-1\"\nidentity_policy = \"inline\"\n",
    ));
    assert!(inline.contains("Type: AWS::IAM::Policy\n"));
    assert!(inline.contains("resource \"aws_iam_role_policy\" "));
    assert!(!inline.contains("Type: AWS::IAM::ManagedPolicy\n"));
}

#[test]
fn an_unknown_identity_policy_form_is_refused_at_its_line() {
    let stderr = common::check_refuses(blog().replace(
        "region = \"ap-northeast-1\"\n",
        "region = \"ap-northeast-1\"\nidentity_policy = \"attached\"\n",
    ));
    assert!(stderr.contains("scenario.toml:7:19"), "{stderr}");
    assert!(stderr.contains("`attached`"), "{stderr}");
    assert!(stderr.contains("managed"), "{stderr}");
}

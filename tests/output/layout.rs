//! The per-account Terraform layout: chosen by the flag or the scenario, refused with exit 2
//! and what to change when the value is unknown or the roots would need each other's outputs;
//! each root `terraform fmt`-clean, initialised (offline, without its backend) and valid.

use crate::common::*;
use std::path::Path;

fn scenario_with(dir: &Path, line: &str) -> std::path::PathBuf {
    let blog = std::fs::read_to_string(root().join("examples/blog.toml")).unwrap();
    let path = dir.join("scenario.toml");
    std::fs::write(&path, format!("{line}\n{blog}")).unwrap();
    path
}

#[test]
fn the_scenario_setting_chooses_the_layout_and_the_flag_overrides_it() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = scenario_with(dir.path(), "terraform_layout = \"per-account\"");
    let by_setting = dir.path().join("setting");
    synth(&scenario, &by_setting, &["--target", "terraform"]);
    let by_flag = dir.path().join("flag");
    synth(
        &root().join("examples/blog.toml"),
        &by_flag,
        &["--target", "terraform", "--terraform-layout", "per-account"],
    );
    assert_eq!(tree(&by_setting), tree(&by_flag));
    assert!(by_flag.join("terraform/accounts/data/backend.tf").is_file());
    let overridden = dir.path().join("overridden");
    synth(
        &scenario,
        &overridden,
        &["--target", "terraform", "--terraform-layout", "single"],
    );
    let single = dir.path().join("single");
    synth(
        &root().join("examples/blog.toml"),
        &single,
        &["--target", "terraform"],
    );
    assert_eq!(tree(&overridden), tree(&single));
}

#[test]
fn an_unknown_layout_in_the_scenario_is_refused_at_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = scenario_with(dir.path(), "terraform_layout = \"per-region\"");
    let output = synth_output(&scenario, &dir.path().join("out"), &[]);
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("`per-region` is not a valid terraform_layout"),
        "{stderr}"
    );
    assert!(stderr.contains("scenario.toml:1:"), "{stderr}");
    assert!(
        stderr.contains(r#"use one of: "single", "per-account""#),
        "{stderr}"
    );
    assert!(!dir.path().join("out").exists());
}

#[test]
fn an_unknown_layout_flag_is_refused_with_the_choices() {
    let dir = tempfile::tempdir().unwrap();
    let output = synth_output(
        &root().join("examples/blog.toml"),
        &dir.path().join("out"),
        &["--terraform-layout", "per-region"],
    );
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("[possible values: single, per-account]"),
        "{stderr}"
    );
}

#[test]
fn roots_that_need_each_others_outputs_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let output = synth_output(
        &root().join("examples/role-principal.toml"),
        &dir.path().join("out"),
        &["--terraform-layout", "per-account"],
    );
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("Terraform roots app, data need each other's outputs"),
        "{stderr}"
    );
    assert!(
        stderr.contains(r#"use principal_style = "account""#),
        "{stderr}"
    );
    assert!(!dir.path().join("out").exists());
}

#[test]
fn every_per_account_root_is_formatted_and_valid() {
    require_tool("terraform", &["version"], "install Terraform 1.5 or later");
    let out = tempfile::tempdir().unwrap();
    let mut roots = Vec::new();
    for example in ["blog", "multi-account", "china"] {
        let dir = out.path().join(example);
        synth(
            &root().join(format!("examples/{example}.toml")),
            &dir,
            &["--target", "terraform", "--terraform-layout", "per-account"],
        );
        let accounts = dir.join("terraform/accounts");
        let mut found: Vec<_> = std::fs::read_dir(&accounts)
            .unwrap()
            .map(|entry| entry.unwrap().path())
            .collect();
        found.sort();
        assert!(found.len() >= 2, "{example}: {found:?}");
        roots.extend(found);
    }
    let failures: Vec<String> = roots
        .chunks(2)
        .flat_map(|pair| {
            std::thread::scope(|scope| {
                let handles: Vec<_> = pair
                    .iter()
                    .map(|dir| scope.spawn(move || crate::lint::check_terraform_root(dir)))
                    .collect();
                handles
                    .into_iter()
                    .filter_map(|handle| handle.join().unwrap().err())
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

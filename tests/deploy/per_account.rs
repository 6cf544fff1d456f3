//! The per-account Terraform layout deployed as a user deploys it: `terraform/apply.sh` applies
//! the blog's roots in order, each with its account's own profile (no role assumed into the
//! account) and its own state, handing the owner's key ARN to the consumer's root through its
//! `crossgrant.auto.tfvars.json`. Applied twice; afterwards no root plans a change, and the
//! consumer role writes and reads an object in the owner's bucket as in the single layout.

use super::{describe, terraform_plugin_args, write_instance_overrides, Deployed, Example};
use super::{Report, Target};
use crate::common::moto::{Moto, Profiles};
use crate::common::{require_tool, text};
use std::path::{Path, PathBuf};

/// The test-only override of one root: its provider talks to the emulator without checking
/// the dummy credentials (it still asks STS which account they act in, so the generated
/// `allowed_account_ids` is checked), and its state stays local instead of the S3 backend the
/// root leaves for `-backend-config`. Terraform merges `*_override.tf` into the generated
/// blocks, so the generated files stay as they are.
fn write_root_override(root: &Path) {
    std::fs::write(
        root.join("zz_test_override.tf"),
        "# Test only: the emulator (AWS_ENDPOINT_URL) and a local state.\n\
         terraform {\n  backend \"local\" {}\n}\n\n\
         provider \"aws\" {\n  skip_credentials_validation = true\n  \
         skip_metadata_api_check     = true\n  s3_use_path_style           = true\n}\n",
    )
    .expect("override file");
}

fn account_roots(terraform: &Path) -> Vec<PathBuf> {
    let mut roots: Vec<PathBuf> = std::fs::read_dir(terraform.join("accounts"))
        .expect("terraform/accounts")
        .map(|entry| entry.expect("root directory").path())
        .collect();
    roots.sort();
    roots
}

/// `terraform/apply.sh -auto-approve` with the profiles of the scenario's accounts and no
/// other credentials in the environment.
fn apply(profiles: &Profiles, terraform: &Path) -> String {
    let output = profiles
        .command("bash")
        .arg(terraform.join("apply.sh"))
        .arg("-auto-approve")
        .arg("-no-color")
        .env("TF_IN_AUTOMATION", "1")
        .env("TF_INPUT", "0")
        .env("CHECKPOINT_DISABLE", "1")
        .env("TF_CLI_ARGS_init", terraform_plugin_args().join(" "))
        .output()
        .expect("bash runs apply.sh");
    assert!(
        output.status.success(),
        "apply.sh failed\n{}",
        describe(&output)
    );
    text(&output.stdout)
}

#[test]
fn per_account_roots_apply_in_order_and_work() {
    require_tool(
        "terraform",
        &["version"],
        "install Terraform 1.5 or later with the hashicorp/aws provider available offline",
    );
    require_tool("jq", &["--version"], "apply.sh passes outputs on with jq");
    let moto = Moto::start();
    let mut report = Report::default();
    let example = Example::synth_with(
        "blog",
        &["--target", "terraform", "--terraform-layout", "per-account"],
    );
    let profiles = Profiles::issue(&moto, &example.profiles());
    let terraform = example.out.path().join("terraform");
    let roots = account_roots(&terraform);
    assert_eq!(
        roots
            .iter()
            .map(|root| root.file_name().unwrap().to_string_lossy().into_owned())
            .collect::<Vec<_>>(),
        ["app", "data"]
    );
    for root in &roots {
        write_root_override(root);
    }
    write_instance_overrides(&terraform);

    let first = report.time("blog (per-account): apply.sh".into(), |_| {
        apply(&profiles, &terraform)
    });
    // The owner's root applies first; the consumer's takes its key ARN from the file.
    let data_done = first
        .find("==> [1/2] account data")
        .expect("apply.sh announces the owner's root first");
    let app_started = first
        .find("==> [2/2] account app")
        .expect("apply.sh announces the consumer's root second");
    assert!(data_done < app_started, "{first}");
    let handed: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(terraform.join("accounts/app/crossgrant.auto.tfvars.json"))
            .expect("apply.sh wrote the consumer's variables"),
    )
    .expect("the variables file is JSON");
    let key_arn = handed["key_arn_data"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(
        key_arn.starts_with("arn:aws:kms:ap-northeast-1:111111111111:key/"),
        "the consumer's root was handed {handed}"
    );

    let second = report.time("blog (per-account): apply.sh again".into(), |_| {
        apply(&profiles, &terraform)
    });
    assert_eq!(
        second.matches("No changes.").count(),
        roots.len(),
        "a second apply.sh changes something\n{second}"
    );
    for root in &roots {
        let plan = report.time(
            format!("blog (per-account): plan {}", root.display()),
            |_| {
                profiles
                    .command("terraform")
                    .current_dir(root)
                    .args(["plan", "-input=false", "-no-color", "-detailed-exitcode"])
                    .env("TF_IN_AUTOMATION", "1")
                    .env("CHECKPOINT_DISABLE", "1")
                    .output()
                    .expect("terraform runs")
            },
        );
        assert_eq!(
            plan.status.code(),
            Some(0),
            "{}: a plan after apply.sh wants changes\n{}",
            root.display(),
            describe(&plan)
        );
    }

    let mut deployed = Deployed::new(&example, Target::Terraform, profiles, Vec::new());
    assert_eq!(deployed.key_arns["data"], key_arn);
    deployed.verify(&mut report);
}

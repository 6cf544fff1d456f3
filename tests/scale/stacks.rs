//! CloudFormation's limits on generated scenarios (12 buckets read by one consumer; 200, 2,000
//! and 20,000 grants), measured on the written templates themselves: every template is within
//! 1 MB, 500 resources, 200 parameters and 200 outputs (the 20,000-grant data stack only as
//! numbered parts), and `deploy.sh` passes `--s3-bucket` for exactly the templates over 51,200
//! bytes.

use crate::common::{synth, tree};
use crate::write_scenario;
use crossgrant::generate::Shape;
use std::collections::BTreeMap;
use std::path::PathBuf;

const TEMPLATE_BYTES: usize = 1_048_576;
const BODY_BYTES: usize = 51_200;

/// How many entries each top-level section of a YAML template declares: the lines indented by
/// exactly two spaces that open an entry.
fn sections(template: &str) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    let mut section = String::new();
    for line in template.lines() {
        if !line.starts_with(' ') && line.ends_with(':') {
            section = line.trim_end_matches(':').to_string();
        } else if line.starts_with("  ")
            && !line.starts_with("   ")
            && !line.starts_with("  #")
            && line.ends_with(':')
        {
            *counts.entry(section.clone()).or_default() += 1;
        }
    }
    counts
}

fn generated(buckets: usize, roles: usize, accounts: usize, grants: usize, team: usize) -> Shape {
    Shape {
        buckets,
        roles,
        accounts,
        grants,
        team_size: team,
        declare_paths: true,
        ..Shape::default()
    }
}

/// Synthesizes `shape`, checks every template against the limits and `deploy.sh` against the
/// templates' sizes; returns each template's size by file name.
fn within_limits(shape: &Shape) -> BTreeMap<String, usize> {
    let dir = tempfile::tempdir().unwrap();
    let path = write_scenario(dir.path(), shape);
    let out = dir.path().join("out");
    synth(&path, &out, &["--target", "cloudformation"]);
    let files = tree(&out.join("cloudformation"));
    let deploy_sh = String::from_utf8(files[&PathBuf::from("deploy.sh")].clone()).unwrap();
    let mut sizes = BTreeMap::new();
    for (path, bytes) in &files {
        if path.extension().is_none_or(|ext| ext != "yaml") {
            continue;
        }
        let name = path.to_string_lossy().into_owned();
        let counts = sections(std::str::from_utf8(bytes).unwrap());
        let count = |section: &str| counts.get(section).copied().unwrap_or(0);
        assert!(
            bytes.len() <= TEMPLATE_BYTES,
            "{name}: {} bytes",
            bytes.len()
        );
        assert!(count("Resources") <= 500, "{name}: {counts:?}");
        assert!(count("Resources") > 0, "{name}: {counts:?}");
        assert!(count("Parameters") <= 200, "{name}: {counts:?}");
        assert!(count("Outputs") <= 200, "{name}: {counts:?}");
        let line = deploy_sh
            .lines()
            .find(|line| line.starts_with("deploy ") && line.contains(&format!(" {name} ")))
            .unwrap_or_else(|| panic!("deploy.sh deploys {name}"));
        assert_eq!(
            line.starts_with("deploy --s3-bucket \"$ARTIFACT_BUCKET_"),
            bytes.len() > BODY_BYTES,
            "{name} is {} bytes: {line}",
            bytes.len()
        );
        sizes.insert(name, bytes.len());
    }
    assert_eq!(
        deploy_sh
            .lines()
            .filter(|line| line.starts_with("deploy "))
            .count(),
        sizes.len(),
        "one deploy per template"
    );
    sizes
}

#[test]
fn twelve_buckets_for_one_consumer_deploy_the_owner_template_through_s3() {
    let sizes = within_limits(&Shape {
        buckets: 12,
        roles: 1,
        accounts: 1,
        grants: 12,
        ..Shape::default()
    });
    assert!(sizes["owner-001-data.yaml"] > BODY_BYTES, "{sizes:?}");
    assert!(
        sizes["consumer-0001-access.yaml"] <= BODY_BYTES,
        "{sizes:?}"
    );
}

#[test]
fn two_hundred_and_two_thousand_grants_fit_in_one_stack_per_account() {
    for shape in [
        generated(10, 50, 10, 200, 5),
        generated(40, 400, 40, 2_000, 10),
    ] {
        let sizes = within_limits(&shape);
        assert!(
            sizes.keys().all(|name| !name.ends_with("-2.yaml")),
            "{sizes:?}"
        );
    }
}

#[test]
fn twenty_thousand_grants_split_the_data_stack_into_parts_within_1_mb() {
    let sizes = within_limits(&generated(100, 2_000, 100, 20_000, 10));
    let parts: Vec<&String> = sizes
        .keys()
        .filter(|name| name.starts_with("owner-001-data"))
        .collect();
    assert!(parts.len() >= 2, "{parts:?}");
    assert!(sizes.contains_key("owner-001-data.yaml"));
    assert!(sizes.contains_key("owner-001-data-2.yaml"));
}

#[test]
fn a_role_naming_more_keys_than_a_stack_has_parameters_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_scenario(
        dir.path(),
        &Shape {
            buckets: 300,
            roles: 1,
            accounts: 1,
            grants: 300,
            access: crossgrant::generate::AccessMix::Read,
            prefix_percent: 0,
            max_managed_policies: Some(20),
            ..Shape::default()
        },
    );
    let out = dir.path().join("out");
    let output = crate::common::synth_output(&path, &out, &["--target", "cloudformation"]);
    let stderr = crate::common::text(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("error: the CloudFormation stack consumer-0001-access cannot fit CloudFormation's limits even split into parts: role consumer-00001 with its access policies, which must deploy in one stack, needs 273 parameters (limit 200)"),
        "{stderr}"
    );
    assert!(
        stderr.contains("help: let the buckets share keys"),
        "{stderr}"
    );
    assert!(!out.exists(), "nothing was written");
}

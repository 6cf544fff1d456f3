//! The generated code checked by the real tools: `cfn-lint` on every CloudFormation template
//! (YAML and JSON) and `terraform fmt -check`, `init` (offline provider mirror) and
//! `validate` on every Terraform root, for every example.

use crate::common::*;
use std::path::Path;
use std::process::Command;

/// The regions cfn-lint checks an example's templates against: cfn-lint's default for the
/// `aws` partition, every region of the China and GovCloud partitions, where resource types
/// and ARNs differ.
fn lint_regions(example: &Path) -> &'static [&'static str] {
    let scenario: toml::Table = std::fs::read_to_string(example)
        .unwrap()
        .parse()
        .expect("examples are TOML");
    let region = scenario["region"].as_str().expect("examples name a region");
    match crossgrant::aws::partition_of(region) {
        crossgrant::aws::Partition::Aws => &["us-east-1"],
        partition => partition.regions(),
    }
}

#[test]
fn cfn_lint_finds_nothing_in_any_template() {
    require_tool(
        "cfn-lint",
        &["--version"],
        "pip install -r requirements-test.txt",
    );
    let out = tempfile::tempdir().unwrap();
    let mut templates: std::collections::BTreeMap<&[&str], Vec<_>> = Default::default();
    let mut count = 0;
    for example in examples() {
        for format in ["yaml", "json"] {
            let dir = out.path().join(format!("{}-{format}", stem(&example)));
            synth(
                &example,
                &dir,
                &["--target", "cloudformation", "--format", format],
            );
            // Templates sit directly in cloudformation/; key-policies/ holds key policies.
            for path in tree(&dir.join("cloudformation")).keys() {
                if path.extension().is_some_and(|ext| ext == format)
                    && path.parent() == Some(Path::new(""))
                {
                    let template = dir.join("cloudformation").join(path);
                    templates
                        .entry(lint_regions(&example))
                        .or_default()
                        .push(template);
                    count += 1;
                }
            }
        }
    }
    assert!(count >= 2 * examples().len());
    assert!(
        templates.len() >= 2,
        "an example outside the aws partition is linted with its regions"
    );
    for (regions, templates) in templates {
        let output = Command::new("cfn-lint")
            .arg("--regions")
            .args(regions)
            .arg("--")
            .args(&templates)
            .output()
            .expect("cfn-lint runs");
        assert!(
            output.status.success() && output.stdout.is_empty(),
            "cfn-lint ({}) reported findings (exit {:?}):\n{}{}",
            regions.join(", "),
            output.status.code(),
            text(&output.stdout),
            text(&output.stderr)
        );
    }
}

fn terraform(dir: &Path, args: &[&str]) -> std::process::Output {
    crate::common::terraform()
        .args(args)
        .current_dir(dir)
        .output()
        .expect("terraform runs")
}

pub(crate) fn check_terraform_root(dir: &Path) -> Result<(), String> {
    let steps: [&[&str]; 3] = [
        &["fmt", "-check", "-recursive", "-diff", "-no-color"],
        &[
            "init",
            "-backend=false",
            "-input=false",
            "-no-color",
            &format!("-plugin-dir={TF_PLUGINS}"),
        ],
        &["validate", "-no-color"],
    ];
    for args in steps {
        let output = terraform(dir, args);
        if !output.status.success() {
            return Err(format!(
                "terraform {} failed in {}:\n{}{}",
                args[0],
                dir.display(),
                text(&output.stdout),
                text(&output.stderr)
            ));
        }
    }
    Ok(())
}

#[test]
fn terraform_roots_are_formatted_and_valid() {
    require_tool("terraform", &["version"], "install Terraform 1.5 or later");
    assert!(
        Path::new(TF_PLUGINS).is_dir(),
        "the AWS provider mirror {TF_PLUGINS} is missing"
    );
    let out = tempfile::tempdir().unwrap();
    let roots: Vec<_> = examples()
        .iter()
        .map(|example| {
            let dir = out.path().join(stem(example));
            synth(example, &dir, &["--target", "terraform"]);
            dir.join("terraform")
        })
        .collect();
    // Terraform spends most of its time starting the provider; two at a time fits the machine.
    let failures: Vec<String> = roots
        .chunks(2)
        .flat_map(|pair| {
            std::thread::scope(|scope| {
                let handles: Vec<_> = pair
                    .iter()
                    .map(|dir| scope.spawn(move || check_terraform_root(dir)))
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

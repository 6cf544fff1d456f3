//! What scanners and pipelines read in the output: `Bool` condition values as booleans (the
//! AWS Guard Rules Registry's TLS rule and checkov compare them as such), instances on the
//! public AMI parameter left alone when Amazon publishes a new AMI, and a provider constraint
//! with an upper bound.

use crate::common::*;
use serde_json::Value as Json;

/// Every value under a `Bool` condition anywhere in `json`.
fn bool_condition_values(json: &Json, out: &mut Vec<Json>) {
    match json {
        Json::Object(map) => {
            for (key, value) in map {
                if key == "Bool" {
                    if let Json::Object(keys) = value {
                        out.extend(keys.values().cloned());
                    }
                } else {
                    bool_condition_values(value, out);
                }
            }
        }
        Json::Array(items) => items
            .iter()
            .for_each(|item| bool_condition_values(item, out)),
        _ => {}
    }
}

#[test]
fn secure_transport_is_a_boolean_in_every_template() {
    let out = tempfile::tempdir().unwrap();
    synth(
        &root().join("examples/blog.toml"),
        out.path(),
        &["--target", "cloudformation", "--format", "json"],
    );
    let template: Json = serde_json::from_slice(
        &std::fs::read(out.path().join("cloudformation/data-data.json")).unwrap(),
    )
    .unwrap();
    let mut values = Vec::new();
    bool_condition_values(&template, &mut values);
    assert!(!values.is_empty(), "the TLS guardrail is there");
    assert!(
        values.iter().all(|value| value == &Json::Bool(false)),
        "{values:?}"
    );

    let terraform =
        std::fs::read_to_string(root().join("out/terraform/modules/data/main.tf")).unwrap();
    assert!(
        terraform.contains("\"aws:SecureTransport\" = false"),
        "{terraform}"
    );
    assert!(!terraform.contains("\"aws:SecureTransport\" = \"false\""));
}

#[test]
fn terraform_keeps_instances_on_the_ami_parameter_and_bounds_the_provider() {
    let module = std::fs::read_to_string(root().join("out/terraform/modules/app/main.tf")).unwrap();
    assert!(module.contains("ignore_changes = [ami]"), "{module}");
    let versions =
        std::fs::read_to_string(root().join("out/terraform/modules/app/versions.tf")).unwrap();
    assert!(
        versions.contains("version = \">= 5.0, < 6.0\""),
        "{versions}"
    );
}

#[test]
fn the_key_policy_is_a_mapping_scanners_read() {
    let template =
        std::fs::read_to_string(root().join("out/cloudformation/data-data.yaml")).unwrap();
    let yaml: serde_yaml::Value = serde_yaml::from_str(&template).unwrap();
    let policy = &yaml["Resources"]["DataKey"]["Properties"]["KeyPolicy"];
    assert!(policy.is_mapping(), "{policy:?}");
    assert!(policy["Statement"].is_sequence());
}

#[test]
fn keys_and_buckets_outlive_their_stack_except_a_failed_first_create() {
    let out = tempfile::tempdir().unwrap();
    let mut seen = Vec::new();
    for example in examples() {
        let dir = out.path().join(stem(&example));
        synth(
            &example,
            &dir,
            &["--target", "cloudformation", "--format", "json"],
        );
        for (path, bytes) in tree(&dir.join("cloudformation")) {
            if path.extension().is_none_or(|ext| ext != "json")
                || path.parent() != Some("".as_ref())
            {
                continue;
            }
            let template: Json = serde_json::from_slice(&bytes).unwrap();
            for (name, resource) in template["Resources"].as_object().unwrap() {
                let kind = resource["Type"].as_str().unwrap();
                let expected = match kind {
                    // A rolled-back first create deletes them, so a re-run is not blocked by a
                    // bucket name or alias already taken; otherwise they stay.
                    "AWS::KMS::Key" | "AWS::S3::Bucket" => "RetainExceptOnCreate",
                    // The policy of an existing bucket replaced its live one: never deleted.
                    "AWS::S3::BucketPolicy" if resource.get("DeletionPolicy").is_some() => "Retain",
                    _ => continue,
                };
                assert_eq!(
                    (
                        resource["DeletionPolicy"].as_str(),
                        resource["UpdateReplacePolicy"].as_str()
                    ),
                    (Some(expected), Some("Retain")),
                    "{} {name} in {}",
                    kind,
                    path.display()
                );
                seen.push(kind.to_string());
            }
        }
    }
    for kind in ["AWS::KMS::Key", "AWS::S3::Bucket", "AWS::S3::BucketPolicy"] {
        assert!(seen.iter().any(|seen| seen == kind), "no {kind} checked");
    }
}

//! Past one bucket policy: 600 roles in 60 accounts with mixed read, write and read-write
//! grants, no role paths and no organization, do not fit one bucket policy, and the error says
//! `access_points = true`; with it, synth writes a bucket policy that delegates, an access
//! point per account with its own policy, every document within its limit, and `check` proves
//! every grant through its access point and nothing else.

use super::*;

fn six_hundred_mixed(access_points: bool) -> Shape {
    Shape {
        buckets: 1,
        roles: 600,
        accounts: 60,
        team_size: 1,
        grants: 600,
        access: AccessMix::Mixed,
        declare_paths: false,
        access_points,
        ..Shape::default()
    }
}

/// Every access point's policy in the CloudFormation templates (JSON format), by logical id.
fn access_point_policies(out: &Path) -> Vec<(String, usize, Json)> {
    let mut found = Vec::new();
    for (path, bytes) in tree(&out.join("cloudformation")) {
        if path.extension().is_none_or(|ext| ext != "json") {
            continue;
        }
        let template: Json = serde_json::from_slice(&bytes).unwrap();
        for (logical, resource) in template["Resources"].as_object().unwrap() {
            if resource["Type"] == "AWS::S3::AccessPoint" {
                let policy = resource["Properties"]["Policy"].clone();
                found.push((logical.clone(), aws_size(&policy), policy));
            }
        }
    }
    found
}

#[test]
fn six_hundred_roles_with_mixed_grants_fit_through_access_points_and_check_passes() {
    let dir = tempfile::tempdir().unwrap();
    // Without access points, the bucket policy cannot fit, and the error names the way out.
    let scenario = write_scenario(dir.path(), &six_hundred_mixed(false));
    let (code, _, stderr) = try_synth(&scenario, &dir.path().join("refused"), &[]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.contains("access_points = true on [buckets.data-0001]"),
        "{stderr}"
    );
    // With them, everything fits.
    let scenario = write_scenario(dir.path(), &six_hundred_mixed(true));
    let out = dir.path().join("out");
    let (code, _, stderr) = try_synth(&scenario, &out, &["--format", "json"]);
    assert_eq!(code, Some(0), "{stderr}");
    let found = documents(&out);
    assert_within_limits(&found);
    let access_points = access_point_policies(&out);
    assert_eq!(access_points.len(), 60);
    for (logical, size, policy) in &access_points {
        assert!(*size <= BUCKET_POLICY_LIMIT, "{logical}: {size} bytes");
        assert!(policy.to_string().contains(":accesspoint/"), "{logical}");
    }
    // The bucket policy names no consumer role: it delegates to the owner's access points.
    let (_, _, bucket_policy) = &found.bucket_policies[0];
    let text = bucket_policy.to_string();
    assert!(!text.contains(":role/"), "{text}");
    assert!(text.contains("s3:DataAccessPointAccount"), "{text}");
    // The key policy names the 60 consumer accounts, not the 600 roles.
    let (_, _, key_policy) = &found.key_policies[0];
    let text = key_policy.to_string();
    assert!(!text.contains(":role/"), "{text}");
    assert_eq!(text.matches("UseKeyFromAccount").count(), 60, "{text}");
    let (code, report, stderr) = run(&["check", scenario.to_str().unwrap()]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(
        report.contains("OK: every grant works and nothing else is granted"),
        "{}",
        &report[report.len().saturating_sub(2000)..]
    );
}

//! S3 access points end to end: `examples/access-points.toml` passes `check`, whose rows show
//! each role allowed through its account's access point only (directly on the bucket and
//! through another account's access point, denied); a broken delegation or a widened access
//! point policy fails it; the consumer account roots in the key policy let nobody use the key
//! directly; and bad access point settings are refused at their line.

use crate::common;

const EXAMPLE: &str = "examples/access-points.toml";

fn check_text(text: &str) -> (i32, String, String) {
    let dir = tempfile::tempdir().unwrap();
    let scenario = dir.path().join("scenario.toml");
    std::fs::write(&scenario, text).unwrap();
    let output = common::crossgrant(&["check", scenario.to_str().unwrap()]);
    (
        output.status.code().unwrap(),
        common::text(&output.stdout),
        common::text(&output.stderr),
    )
}

/// The rows of one caller's table.
fn table<'a>(report: &'a str, caller: &str) -> &'a str {
    let start = report
        .find(&format!("\n{caller} ("))
        .unwrap_or_else(|| panic!("no table for {caller}"));
    let rest = &report[start + 1..];
    &rest[..rest.find("\n\n").unwrap_or(rest.len())]
}

/// The rows of an operation (one per outcome and reason: targets alike are folded).
fn rows<'a>(table: &'a str, operation: &str) -> Vec<&'a str> {
    table
        .lines()
        .filter(|line| {
            line.trim_start()
                .strip_prefix("ok")
                .or_else(|| line.trim_start().strip_prefix("WRONG"))
                .is_some_and(|rest| rest.trim_start().starts_with(&format!("{operation}  ")))
        })
        .collect()
}

#[test]
fn each_role_is_allowed_through_its_own_access_point_only() {
    let output = common::crossgrant(&["check", EXAMPLE]);
    let report = common::text(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{report}");
    let curator = table(&report, "role curator");
    let own = rows(
        curator,
        "GetObject through access point acme-lake-analytics",
    );
    assert!(
        own.iter()
            .any(|row| row.contains("curated/probe.bin") && row.contains("allow  allowed")),
        "{own:#?}"
    );
    for operation in [
        "GetObject",
        "PutObject",
        "GetObject through access point acme-lake-data",
        "PutObject through access point acme-lake-data",
    ] {
        let denied = rows(curator, operation);
        assert!(!denied.is_empty(), "{operation}: {curator}");
        assert!(
            denied.iter().all(|row| row.contains("deny   denied")),
            "{operation}: {denied:#?}"
        );
    }
    // The owner's own role goes through the owner's access point, which has no policy.
    let auditor = table(&report, "role auditor");
    assert!(
        rows(auditor, "GetObject through access point acme-lake-data")
            .iter()
            .any(|row| row.contains("allow  allowed"))
    );
    // An administrator of a consumer account, whose account root the key policy names, can
    // use the key neither through S3 (no access point lets it in) nor directly.
    assert!(
        report.contains("admin role in analytics (arn:aws:iam::222222222222:role/crossgrant-probe-admin) on bucket lake: all"),
        "{report}"
    );
}

#[test]
fn a_bucket_that_does_not_delegate_fails_every_grant_at_the_bucket() {
    // The same scenario with the access points' policies, but a bucket policy that no longer
    // delegates (the grants go to a second bucket without access points, whose policy then
    // names the roles): here, the first bucket's delegation is what lets the grants in, so
    // the mutation is made on the lowered documents.
    let scenario = crossgrant::load_scenario(&common::root().join(EXAMPLE)).unwrap();
    let mut lowered = crossgrant::lower::lower(scenario);
    assert!(crossgrant::eval::check(&lowered).passed());
    lowered
        .bucket_policies
        .get_mut("lake")
        .unwrap()
        .statements
        .retain(|statement| {
            statement.sid.as_deref() != Some(crossgrant::lower::DELEGATE_TO_ACCESS_POINTS_SID)
        });
    let report = crossgrant::eval::check(&lowered);
    assert!(!report.passed());
    let blamed: std::collections::BTreeSet<_> = report
        .failures()
        .filter(|result| result.probe.intended)
        .filter_map(|result| result.denied_step())
        .flat_map(|(_, decision)| decision.deciding_layers())
        .collect();
    assert_eq!(
        blamed,
        [crossgrant::eval::Layer::BucketPolicy].into(),
        "{blamed:?}"
    );
}

#[test]
fn an_access_point_policy_naming_another_accounts_role_is_caught() {
    let scenario = crossgrant::load_scenario(&common::root().join(EXAMPLE)).unwrap();
    let mut lowered = crossgrant::lower::lower(scenario);
    // The ingest account's access point lets the analytics reader in too.
    let policy = lowered
        .access_point_policies
        .get_mut(&("lake".to_string(), "ingest".to_string()))
        .unwrap();
    let mut widened = policy.statements[0].clone();
    widened.sid = Some("AlsoReader".into());
    widened.principal = Some(crossgrant::policy::Clause::Is(
        crossgrant::policy::Principal::aws([crossgrant::policy::Value::lit(
            "arn:aws:iam::222222222222:role/lake-reader",
        )]),
    ));
    widened.condition = Default::default();
    policy.statements.push(widened);
    // And the reader's identity policy allows the ingest access point (an administrator
    // could write that): only the access point policy stood in the way.
    let role_policy = lowered.role_policies.get_mut("reader").unwrap();
    role_policy.statements.push(
        crossgrant::policy::Statement::allow("IngestAccessPoint")
            .actions(["s3:PutObject"])
            .resources([crossgrant::policy::Value::lit(
                "arn:aws:s3:us-west-2:111111111111:accesspoint/lake-ingest/object/*",
            )]),
    );
    let report = crossgrant::eval::check(&lowered);
    assert!(!report.passed());
    assert!(report.failures().any(|result| {
        !result.probe.intended
            && result
                .probe
                .label()
                .contains("through access point lake-ingest")
    }));
}

fn with_bucket(fields: &str) -> String {
    let text = std::fs::read_to_string(common::root().join(EXAMPLE)).unwrap();
    text.replace(
        "access_points = true\naccess_point_names = { ingest = \"lake-ingest\" }\n",
        fields,
    )
}

#[test]
fn bad_access_point_settings_are_refused_at_their_line() {
    let cases = [
        (
            "access_points = true\naccess_point_names = { ingest = \"Lake_Ingest\" }\n",
            "may hold only lowercase letters, digits and `-`",
        ),
        (
            "access_points = true\naccess_point_names = { ingest = \"ab\" }\n",
            "must be 3 to 50 characters long",
        ),
        (
            "access_points = true\naccess_point_names = { ingest = \"acme-lake-analytics\" }\n",
            "is the name of another access point in the same account and region",
        ),
        (
            "access_points = true\naccess_point_names = { nowhere = \"lake-x\" }\n",
            "is not an account whose roles are granted this bucket",
        ),
        (
            "access_point_names = { ingest = \"lake-ingest\" }\n",
            "the bucket has no `access_points = true`",
        ),
    ];
    for (fields, expected) in cases {
        let text = with_bucket(fields);
        let (code, _, stderr) = check_text(&text);
        assert_eq!(code, 2, "{fields}: {stderr}");
        assert!(
            stderr.contains(expected),
            "{fields}: expected {expected:?} in {stderr}"
        );
        let line = text
            .lines()
            .position(|line| line.starts_with("access_point"))
            .unwrap()
            + 1;
        assert!(stderr.contains("scenario.toml:"), "{stderr}");
        assert!(
            stderr.contains(&format!(":{line}:")) || stderr.contains(&format!(":{}:", line + 1)),
            "{fields}: line {line} in {stderr}"
        );
    }
}

#[test]
fn access_points_on_a_bucket_of_same_account_grants_only_are_allowed() {
    let text = std::fs::read_to_string(common::root().join("examples/same-account.toml")).unwrap();
    let text = text.replacen("key = ", "access_points = true\nkey = ", 1);
    let (code, stdout, stderr) = check_text(&text);
    assert_eq!(code, 0, "{stderr}{stdout}");
    assert!(stdout.contains("through access point"), "{stdout}");
}

#[test]
fn diff_tells_access_points_apart_and_lists_their_policies() {
    let dir = tempfile::tempdir().unwrap();
    let base = common::root().join(EXAMPLE);
    let text = std::fs::read_to_string(&base).unwrap();
    let head = dir.path().join("head.toml");
    std::fs::write(
        &head,
        text.replace(
            "role = \"reader\"\nbucket = \"lake\"\naccess = \"read\"",
            "role = \"reader\"\nbucket = \"lake\"\naccess = \"read-write\"",
        ),
    )
    .unwrap();
    let output = common::crossgrant(&["diff", base.to_str().unwrap(), head.to_str().unwrap()]);
    let report = common::text(&output.stdout);
    assert!(
        report.contains("+ PutObject through access point acme-lake-analytics  curated/probe.bin"),
        "{report}"
    );
    // Only through the reader's own access point: the others still deny it.
    assert!(
        !report.contains("through access point acme-lake-data"),
        "{report}"
    );
    assert!(
        report.contains("policy of the access point of bucket/account lake/analytics:"),
        "{report}"
    );
}

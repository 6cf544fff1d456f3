//! The import's decisions on small live setups: extra actions, statements kept for principals
//! that are not roles and for conditions the evaluator cannot read, Sids crossgrant would
//! replace, and a bucket with the `aws/s3` key.

use super::*;
use serde_json::json;

const BUCKET: &str = "acme-shared-data";
const ROLE: &str = "arn:aws:iam::222222222222:role/app";
const KEY: &str = "arn:aws:kms:ap-northeast-1:111111111111:key/k-1";

fn document(policy: Json) -> LiveDocument {
    LiveDocument::parse("test.json", &policy.to_string()).unwrap()
}

fn setup(bucket: Vec<Json>, key: Option<Vec<Json>>, identity: Vec<Json>) -> LiveSetup {
    LiveSetup {
        bucket_name: BUCKET.into(),
        owner_account: "111111111111".into(),
        region: "ap-northeast-1".into(),
        key: key.map(|statements| LiveKey {
            arn: KeyArn::parse(KEY).unwrap(),
            policy: document(json!({"Version": "2012-10-17", "Statement": statements})),
        }),
        bucket_key: true,
        object_ownership: None,
        bucket_policy: document(json!({"Version": "2012-10-17", "Statement": bucket})),
        roles: vec![LiveRole {
            arn: RoleArn::parse(ROLE).unwrap(),
            policies: vec![document(
                json!({"Version": "2012-10-17", "Statement": identity}),
            )],
        }],
    }
}

fn root_key_statement() -> Json {
    json!({"Sid": "CrossgrantEnableIamPolicies", "Effect": "Allow",
           "Principal": {"AWS": "arn:aws:iam::111111111111:root"}, "Action": "kms:*", "Resource": "*"})
}

fn read_write(principal: Json, extra: &[&str]) -> Vec<Json> {
    let mut actions = vec!["s3:GetObject", "s3:GetObjectVersion", "s3:PutObject"];
    actions.extend_from_slice(extra);
    let mut statements = vec![
        json!({"Sid": "AppObjects", "Effect": "Allow", "Action": actions,
               "Resource": format!("arn:aws:s3:::{BUCKET}/data/*")}),
        json!({"Effect": "Allow", "Action": "s3:ListBucket", "Resource": format!("arn:aws:s3:::{BUCKET}"),
               "Condition": {"StringLike": {"s3:prefix": "data/*"}}}),
    ];
    if !principal.is_null() {
        for statement in &mut statements {
            statement["Principal"] = principal.clone();
        }
    }
    statements
}

fn key_use() -> Json {
    json!({"Effect": "Allow", "Principal": {"AWS": ROLE}, "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
           "Resource": "*", "Condition": {"StringEquals": {"kms:ViaService": "s3.ap-northeast-1.amazonaws.com"}}})
}

fn identity(extra: &[&str]) -> Vec<Json> {
    let mut statements = read_write(Json::Null, extra);
    statements.push(json!({"Effect": "Allow", "Action": ["kms:Decrypt", "kms:GenerateDataKey"], "Resource": KEY}));
    statements
}

#[test]
fn further_s3_actions_the_layers_allow_become_the_grants_actions() {
    let live = setup(
        read_write(json!({"AWS": ROLE}), &["s3:DeleteObject"]),
        Some(vec![root_key_statement(), key_use()]),
        identity(&["s3:DeleteObject"]),
    );
    let imported = import(&live, &ImportOptions::default());
    let grants = &imported.summary.grants;
    assert_eq!(grants.len(), 1, "{}", imported.summary.render());
    assert_eq!(
        (grants[0].prefix.as_str(), grants[0].access),
        ("data/", crate::model::Access::ReadWrite)
    );
    assert_eq!(grants[0].actions, [crate::aws::s3::DELETE_OBJECT]);
    assert!(
        imported
            .scenario
            .contains("actions = [\"s3:DeleteObject\"]"),
        "{}",
        imported.scenario
    );
    assert!(
        imported.scenario.contains("prefix = \"data/\""),
        "{}",
        imported.scenario
    );
    // Everything the bucket policy says is re-generated; the key keeps its administrator, and
    // its Sid, in crossgrant's namespace (an earlier run wrote it), is renamed in the copy.
    assert_eq!(
        imported.policy_files.len(),
        2,
        "{:?}",
        imported.policy_files
    );
    assert!(imported.policy_files[0].text.contains("\"Statement\": []"));
    assert!(imported.policy_files[1]
        .text
        .contains("\"Sid\": \"LiveCrossgrantEnableIamPolicies\""));
    assert!(imported
        .summary
        .render()
        .contains("is named \"LiveCrossgrantEnableIamPolicies\""));
}

#[test]
fn statements_for_other_principals_and_unreadable_ones_are_kept_verbatim_in_order() {
    let mut bucket = read_write(json!({"AWS": ROLE}), &[]);
    bucket.insert(
        0,
        json!({"Sid": "Network", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
        "Resource": format!("arn:aws:s3:::{BUCKET}/*"),
        "Condition": {"NotIpAddress": {"aws:SourceIp": "192.0.2.0/24"}}}),
    );
    bucket.push(json!({"Sid": "Auditor", "Effect": "Allow",
        "Principal": {"AWS": ["arn:aws:iam::555555555555:user/auditor"]},
        "Action": "s3:GetObject", "Resource": format!("arn:aws:s3:::{BUCKET}/*")}));
    let live = setup(
        bucket,
        Some(vec![root_key_statement(), key_use()]),
        identity(&[]),
    );
    let imported = import(&live, &ImportOptions::default());
    assert_eq!(
        imported.summary.grants.len(),
        1,
        "{}",
        imported.summary.render()
    );
    let copy = imported
        .policy_files
        .iter()
        .find(|file| file.path == "live/acme-shared-data-bucket-policy.json")
        .expect("a bucket policy copy");
    let kept: Json = serde_json::from_str(&copy.text).unwrap();
    assert_eq!(kept["Statement"][0]["Sid"], "Network");
    assert_eq!(kept["Statement"][1]["Sid"], "Auditor");
    assert_eq!(
        kept["Statement"][1]["Principal"]["AWS"],
        json!(["arn:aws:iam::555555555555:user/auditor"])
    );
    assert_eq!(kept["Statement"].as_array().unwrap().len(), 2);
    let report = imported.summary.render();
    assert!(
        report.contains("#1 \"Network\": kept as is: crossgrant's evaluator cannot read it"),
        "{report}"
    );
    assert!(
        report.contains(
            "names principals that are not roles (arn:aws:iam::555555555555:user/auditor)"
        ),
        "{report}"
    );
}

#[test]
fn a_role_of_the_owner_account_is_granted_on_a_bucket_with_the_aws_managed_key() {
    let owner_role = "arn:aws:iam::111111111111:role/etl";
    let mut live = setup(Vec::new(), None, Vec::new());
    live.bucket_policy = document(json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": format!("arn:aws:s3:::{BUCKET}/*"),
         "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]}));
    live.roles = vec![LiveRole {
        arn: RoleArn::parse(owner_role).unwrap(),
        policies: vec![document(
            json!({"Version": "2012-10-17", "Statement": read_write(Json::Null, &[])}),
        )],
    }];
    let imported = import(&live, &ImportOptions::default());
    assert_eq!(
        imported.summary.grants.len(),
        1,
        "{}",
        imported.summary.render()
    );
    assert!(
        imported.scenario.contains("key = \"aws-managed\""),
        "{}",
        imported.scenario
    );
    assert!(
        !imported.scenario.contains("[keys"),
        "{}",
        imported.scenario
    );
    assert!(
        imported.scenario.contains("[accounts.owner]"),
        "{}",
        imported.scenario
    );
    assert!(
        !imported.scenario.contains("account-"),
        "{}",
        imported.scenario
    );
}

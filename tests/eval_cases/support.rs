//! Hand-built scenarios for the evaluator's integration tests: the model values validation would
//! produce, so `check` can be exercised without going through TOML.

#![allow(dead_code)]

use crossgrant::model::{
    Access, Account, Bucket, Encryption, Grant, Key, ObjectOwnership, PrincipalStyle, Role,
    Scenario,
};
use std::collections::BTreeMap;

pub const OWNER_ID: &str = "111111111111";
pub const CONSUMER_ID: &str = "222222222222";

pub fn account(name: &str, id: &str) -> Account {
    Account {
        name: name.into(),
        id: id.into(),
        profile: name.into(),
        deploy_role: "OrganizationAccountAccessRole".into(),
    }
}

pub fn key(name: &str, account: &str) -> Key {
    Key {
        name: name.into(),
        account: account.into(),
        region: "ap-northeast-1".into(),
        alias: format!("alias/{name}"),
        description: String::new(),
        rotation: true,
        deletion_window_days: 30,
        administrators: Vec::new(),
        tags: BTreeMap::new(),
    }
}

pub fn bucket(name: &str, account: &str, encryption: Encryption, bucket_key: bool) -> Bucket {
    Bucket {
        name: name.into(),
        bucket_name: format!("acme-{name}"),
        account: account.into(),
        region: "ap-northeast-1".into(),
        encryption,
        bucket_key,
        object_ownership: ObjectOwnership::BucketOwnerEnforced,
        tags: BTreeMap::new(),
    }
}

pub fn role(name: &str, account: &str) -> Role {
    Role {
        name: name.into(),
        account: account.into(),
        role_name: format!("{name}-role"),
        path: "/".into(),
        service: "ec2.amazonaws.com".into(),
        instance_profile: false,
        managed_policy_arns: Vec::new(),
        tags: BTreeMap::new(),
    }
}

pub fn grant(role: &str, bucket: &str, access: Access, prefix: &str) -> Grant {
    Grant {
        role: role.into(),
        bucket: bucket.into(),
        access,
        prefix: prefix.into(),
        extra_actions: Vec::new(),
    }
}

/// The blog scenario and then some: owner account `data` with key `data` and bucket `shared`
/// (S3 Bucket Key on), consumer account `app` with a read-write role `app` and a reader `audit`
/// limited to `reports/`, and a same-account writer `ingest` limited to `incoming/`.
pub fn shared_data(style: PrincipalStyle) -> Scenario {
    let mut scenario = Scenario {
        name: "shared-data".into(),
        region: "ap-northeast-1".into(),
        principal_style: style,
        tags: BTreeMap::new(),
        accounts: BTreeMap::new(),
        keys: BTreeMap::new(),
        buckets: BTreeMap::new(),
        roles: BTreeMap::new(),
        instances: BTreeMap::new(),
        grants: Vec::new(),
    };
    scenario
        .accounts
        .insert("data".into(), account("data", OWNER_ID));
    scenario
        .accounts
        .insert("app".into(), account("app", CONSUMER_ID));
    scenario.keys.insert("data".into(), key("data", "data"));
    scenario.buckets.insert(
        "shared".into(),
        bucket("shared", "data", Encryption::Kms("data".into()), true),
    );
    for (name, account) in [("app", "app"), ("audit", "app"), ("ingest", "data")] {
        scenario.roles.insert(name.into(), role(name, account));
    }
    scenario.grants = vec![
        grant("app", "shared", Access::ReadWrite, ""),
        grant("audit", "shared", Access::Read, "reports/"),
        grant("ingest", "shared", Access::Write, "incoming/"),
    ];
    scenario
}

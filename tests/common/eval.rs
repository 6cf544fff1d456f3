//! Hand-built scenarios for the evaluator's integration tests: the model values validation would
//! produce, so `check` can be exercised without going through TOML.

use crossgrant::lower::Lowered;
use crossgrant::model::{
    Access, Account, Bucket, Encryption, EncryptionEnforcement, Grant, Key, ObjectOwnership,
    PrincipalStyle, Role, Scenario, Trust,
};
use crossgrant::policy::{Clause, Principal, Ref, Statement, Value};
use std::collections::BTreeMap;
use std::path::PathBuf;

/// The evaluator's case files, `tests/eval_cases/*.json`, in name order.
pub fn case_files() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(super::root().join("tests/eval_cases"))
        .expect("tests/eval_cases exists")
        .map(|entry| entry.expect("readable entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
        .collect();
    files.sort();
    files
}

pub const OWNER_ID: &str = "111111111111";
pub const CONSUMER_ID: &str = "222222222222";

pub fn account(name: &str, id: &str) -> Account {
    Account {
        name: name.into(),
        id: id.into(),
        profile: name.into(),
        deploy_role: "OrganizationAccountAccessRole".into(),
        partition: Default::default(),
        role_paths: Vec::new(),
        artifact_bucket: None,
        organization_management: false,
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
        // Hand-built scenarios start without the secure defaults; `harden` adds them.
        via_s3_only: false,
        tags: BTreeMap::new(),
        existing: None,
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
        require_tls: false,
        enforce_encryption: EncryptionEnforcement::Off,
        block_public_access: true,
        versioning: true,
        access_logs: None,
        abort_incomplete_uploads_days: Some(7),
        access_points: BTreeMap::new(),
        tags: BTreeMap::new(),
        existing: None,
    }
}

pub fn role(name: &str, account: &str) -> Role {
    Role {
        name: name.into(),
        account: account.into(),
        role_name: format!("{name}-role"),
        path: "/".into(),
        trust: Trust::Service("ec2.amazonaws.com".into()),
        instance_profile: false,
        managed_policy_arns: Vec::new(),
        tags: BTreeMap::new(),
        existing: false,
        permission_set: None,
        permissions_boundary: None,
    }
}

pub fn grant(role: &str, bucket: &str, access: Access, prefix: &str) -> Grant {
    Grant {
        role: role.into(),
        bucket: bucket.into(),
        access,
        prefix: prefix.into(),
        extra_actions: Vec::new(),
        via_consumer: None,
        vpc_endpoints: Vec::new(),
    }
}

/// The blog scenario and then some: owner account `data` with key `data` and bucket `shared`
/// (S3 Bucket Key on), consumer account `app` with a read-write role `app` and a reader `audit`
/// limited to `reports/`, and a same-account writer `ingest` limited to `incoming/`.
pub fn shared_data(style: PrincipalStyle) -> Scenario {
    let mut scenario = Scenario {
        name: "shared-data".into(),
        partition: Default::default(),
        region: "ap-northeast-1".into(),
        principal_style: style,
        organization: None,
        organization_role_paths: Vec::new(),
        max_managed_policies: crossgrant::model::DEFAULT_MAX_MANAGED_POLICIES,
        identity_policy: crossgrant::model::IdentityPolicy::Inline,
        terraform_layout: Default::default(),
        tags: BTreeMap::new(),
        accounts: BTreeMap::new(),
        keys: BTreeMap::new(),
        buckets: BTreeMap::new(),
        roles: BTreeMap::new(),
        instances: BTreeMap::new(),
        grants: Vec::new(),
        guardrails: Vec::new(),
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

/// Adds the secure defaults by hand to every bucket and key of a lowered scenario: TLS only,
/// SSE-KMS headers may only name the bucket's own key, and key use only through S3.
pub fn harden(lowered: &mut Lowered) {
    let scenario = lowered.scenario.clone();
    for bucket in scenario.buckets.values() {
        let arn = bucket.arn();
        let policy = lowered
            .bucket_policies
            .entry(bucket.name.clone())
            .or_default();
        policy.statements.push(
            Statement::deny("DenyInsecureTransport")
                .principal(Principal::Any)
                .actions(["s3:*"])
                .resources([Value::lit(arn.clone()), Value::lit(format!("{arn}/*"))])
                .condition("Bool", "aws:SecureTransport", [Value::lit("false")]),
        );
        if let Some(key) = bucket.key() {
            policy.statements.push(
                Statement::deny("DenyOtherKeys")
                    .principal(Principal::Any)
                    .actions(["s3:PutObject"])
                    .resources([Value::lit(format!("{arn}/*"))])
                    .condition(
                        "StringNotEquals",
                        "s3:x-amz-server-side-encryption-aws-kms-key-id",
                        [Value::Ref(Ref::KeyArn(key.to_string()))],
                    )
                    // Only when the header is sent: default encryption stays allowed.
                    .condition(
                        "Null",
                        "s3:x-amz-server-side-encryption-aws-kms-key-id",
                        [Value::lit("false")],
                    ),
            );
        }
    }
    let via_s3 = |statement: &mut Statement, region: &str| {
        *statement = statement.clone().condition(
            "StringEquals",
            "kms:ViaService",
            [Value::lit(format!("s3.{region}.amazonaws.com"))],
        );
    };
    for (key, policy) in lowered.key_policies.iter_mut() {
        let region = scenario.keys[key].region.clone();
        for statement in &mut policy.statements {
            if statement.sid.as_deref() != Some(crossgrant::lower::ROOT_KEY_SID) {
                via_s3(statement, &region);
            }
        }
    }
    for policy in lowered.role_policies.values_mut() {
        for statement in &mut policy.statements {
            let uses_keys = matches!(&statement.action, Clause::Is(actions)
                if actions.iter().any(|action| action.starts_with("kms:")));
            if uses_keys {
                via_s3(statement, &scenario.region);
            }
        }
    }
}

/// Random valid scenarios, as validation would accept them: two or three accounts, a key per
/// bucket-owning account, buckets encrypted with that key or with `aws/s3` (then granted only
/// to same-account roles), roles anywhere, one to four grants with any access level, prefix,
/// principal style, Bucket Key setting, ACL mode, upload-encryption mode, TLS guardrail and a
/// few extra actions.
pub mod arbitrary {
    use super::*;
    use proptest::prelude::*;

    const IDS: [&str; 3] = ["111111111111", "222222222222", "333333333333"];
    const PREFIXES: [&str; 4] = ["", "reports/", "incoming/", "reports/2024/"];
    const EXTRA_ACTIONS: [&str; 4] = [
        "s3:GetObjectTagging",
        "s3:DeleteObject",
        "s3:ListBucketVersions",
        "s3:GetBucketLocation",
    ];

    #[derive(Clone, Debug)]
    struct GrantSeed {
        role: usize,
        bucket: usize,
        access: usize,
        prefix: usize,
        extra: Option<usize>,
    }

    pub fn scenario() -> impl Strategy<Value = Scenario> {
        (
            2usize..=3,
            prop::collection::vec(
                (
                    0usize..3,
                    any::<bool>(),
                    any::<bool>(),
                    0usize..3,
                    0usize..6,
                ),
                1..=2,
            ),
            prop::collection::vec(0usize..3, 1..=3),
            prop::collection::vec(
                (
                    0usize..3,
                    0usize..2,
                    0usize..3,
                    0usize..4,
                    prop::option::weighted(0.3, 0usize..4),
                ),
                1..=4,
            ),
            any::<bool>(),
        )
            .prop_map(|(accounts, buckets, roles, grants, role_style)| {
                let grants = grants
                    .into_iter()
                    .map(|(role, bucket, access, prefix, extra)| GrantSeed {
                        role,
                        bucket,
                        access,
                        prefix,
                        extra,
                    })
                    .collect();
                build(accounts, buckets, roles, grants, role_style)
            })
    }

    fn build(
        account_count: usize,
        bucket_seeds: Vec<(usize, bool, bool, usize, usize)>,
        role_seeds: Vec<usize>,
        grant_seeds: Vec<GrantSeed>,
        role_style: bool,
    ) -> Scenario {
        let mut scenario = shared_data(if role_style {
            PrincipalStyle::Role
        } else {
            PrincipalStyle::Account
        });
        scenario.name = "random".into();
        scenario.accounts.clear();
        scenario.keys.clear();
        scenario.buckets.clear();
        scenario.roles.clear();
        scenario.grants.clear();
        let account_name = |index: usize| format!("acct{index}");
        for (index, id) in IDS.iter().enumerate().take(account_count) {
            scenario
                .accounts
                .insert(account_name(index), account(&account_name(index), id));
        }
        for (index, owner) in role_seeds.iter().enumerate() {
            let name = format!("role{index}");
            scenario.roles.insert(
                name.clone(),
                role(&name, &account_name(owner % account_count)),
            );
        }
        for (index, (owner, aws_managed, bucket_key, ownership, guardrails)) in
            bucket_seeds.iter().enumerate()
        {
            let owner = account_name(owner % account_count);
            let name = format!("bucket{index}");
            let encryption = if *aws_managed {
                Encryption::AwsManaged
            } else {
                let key_name = format!("key{index}");
                scenario
                    .keys
                    .insert(key_name.clone(), key(&key_name, &owner));
                Encryption::Kms(key_name)
            };
            let mut made = bucket(&name, &owner, encryption, *bucket_key);
            made.object_ownership = [
                ObjectOwnership::BucketOwnerEnforced,
                ObjectOwnership::BucketOwnerPreferred,
                ObjectOwnership::ObjectWriter,
            ][*ownership];
            made.enforce_encryption = [
                EncryptionEnforcement::Off,
                EncryptionEnforcement::IfPresent,
                EncryptionEnforcement::Strict,
            ][guardrails % 3];
            made.require_tls = *guardrails >= 3;
            scenario.buckets.insert(name, made);
        }
        let bucket_names: Vec<String> = scenario.buckets.keys().cloned().collect();
        let role_names: Vec<String> = scenario.roles.keys().cloned().collect();
        for seed in grant_seeds {
            let bucket = &bucket_names[seed.bucket % bucket_names.len()];
            let role = &role_names[seed.role % role_names.len()];
            let bucket_model = &scenario.buckets[bucket];
            if bucket_model.encryption == Encryption::AwsManaged
                && scenario.roles[role].account != bucket_model.account
            {
                // Validation refuses cross-account grants on aws/s3 buckets.
                continue;
            }
            let access = [Access::Read, Access::Write, Access::ReadWrite][seed.access];
            let mut made = grant(role, bucket, access, PREFIXES[seed.prefix]);
            made.extra_actions = seed
                .extra
                .map(|index| vec![EXTRA_ACTIONS[index].to_string()])
                .unwrap_or_default();
            scenario.grants.push(made);
        }
        if scenario.grants.is_empty() {
            // Every scenario grants something: fall back to a same-account reader.
            let bucket = &bucket_names[0];
            let owner = scenario.buckets[bucket].account.clone();
            scenario
                .roles
                .insert("reader".into(), role("reader", &owner));
            scenario
                .grants
                .push(grant("reader", bucket, Access::Read, ""));
        }
        scenario
    }
}

//! Breaking any one of the three documents must make `check` fail, and the failing requests
//! must be blamed on the document that was broken: a removed statement or a narrowed action
//! in the bucket policy, the key policy or the role's identity policy; and a widened grant must
//! fail too, because nothing beyond the grants may be allowed.

use crate::common::eval;
use crossgrant::eval::check::CheckReport;
use crossgrant::eval::engine::Layer;
use crossgrant::eval::{check, Verdict};
use crossgrant::lower::{lower, Lowered};
use crossgrant::model::PrincipalStyle;
use crossgrant::policy::{Clause, PolicyDocument, Statement};

fn lowered() -> Lowered {
    let lowered = lower(eval::shared_data(PrincipalStyle::Account));
    assert!(check(&lowered).passed(), "the unbroken scenario must pass");
    lowered
}

fn statement<'a>(document: &'a mut PolicyDocument, sid: &str) -> &'a mut Statement {
    document
        .statements
        .iter_mut()
        .find(|statement| statement.sid.as_deref() == Some(sid))
        .unwrap_or_else(|| panic!("no statement {sid}"))
}

fn remove(document: &mut PolicyDocument, sid: &str) {
    let before = document.statements.len();
    document
        .statements
        .retain(|statement| statement.sid.as_deref() != Some(sid));
    assert_eq!(document.statements.len() + 1, before, "no statement {sid}");
}

fn drop_action(document: &mut PolicyDocument, sid: &str, action: &str) {
    let Clause::Is(actions) = &mut statement(document, sid).action else {
        panic!("{sid} uses NotAction");
    };
    let before = actions.len();
    actions.retain(|candidate| candidate != action);
    assert_eq!(actions.len() + 1, before, "{sid} has no {action}");
}

/// The layers blamed for intended operations that were denied.
fn blamed_for_denied_grants(report: &CheckReport) -> Vec<Layer> {
    let mut layers: Vec<Layer> = report
        .failures()
        .filter(|result| result.probe.intended)
        .flat_map(|result| {
            result
                .denied_step()
                .map(|(_, decision)| decision.deciding_layers())
                .unwrap_or_default()
        })
        .collect();
    layers.sort();
    layers.dedup();
    layers
}

fn failing_operations(report: &CheckReport) -> Vec<String> {
    let mut names: Vec<String> = report
        .failures()
        .map(|result| {
            format!(
                "{} {}",
                result.probe.caller_kind,
                result.probe.operation.name()
            )
        })
        .collect();
    names.sort();
    names.dedup();
    names
}

#[test]
fn removed_bucket_policy_statement_is_blamed_on_the_bucket_policy() {
    let mut lowered = lowered();
    remove(
        lowered.bucket_policies.get_mut("shared").unwrap(),
        "AppObjects",
    );
    let report = check(&lowered);
    assert!(!report.passed());
    assert_eq!(blamed_for_denied_grants(&report), [Layer::BucketPolicy]);
    assert!(failing_operations(&report).contains(&"role app GetObject".to_string()));
}

#[test]
fn narrowed_bucket_policy_action_is_blamed_on_the_bucket_policy() {
    let mut lowered = lowered();
    drop_action(
        lowered.bucket_policies.get_mut("shared").unwrap(),
        "AppObjects",
        "s3:PutObject",
    );
    let report = check(&lowered);
    assert_eq!(blamed_for_denied_grants(&report), [Layer::BucketPolicy]);
    let failing = failing_operations(&report);
    assert!(
        failing.contains(&"role app PutObject".to_string()),
        "{failing:?}"
    );
    assert!(
        failing.contains(&"role app UploadPart".to_string()),
        "{failing:?}"
    );
    assert!(
        !failing.contains(&"role app GetObject".to_string()),
        "{failing:?}"
    );
}

#[test]
fn removed_key_policy_statement_is_blamed_on_the_key_policy() {
    let mut lowered = lowered();
    remove(lowered.key_policies.get_mut("data").unwrap(), "AppUseKey");
    let report = check(&lowered);
    assert_eq!(blamed_for_denied_grants(&report), [Layer::KeyPolicy]);
    assert!(failing_operations(&report).contains(&"role app GetObject".to_string()));
}

#[test]
fn narrowed_key_policy_action_is_blamed_on_the_key_policy() {
    let mut lowered = lowered();
    // Writers need Decrypt for multipart uploads: without it UploadPart breaks, PutObject works.
    drop_action(
        lowered.key_policies.get_mut("data").unwrap(),
        "AppUseKey",
        "kms:Decrypt",
    );
    let report = check(&lowered);
    assert_eq!(blamed_for_denied_grants(&report), [Layer::KeyPolicy]);
    let failing = failing_operations(&report);
    assert!(
        failing.contains(&"role app UploadPart".to_string()),
        "{failing:?}"
    );
    assert!(
        !failing.contains(&"role app PutObject".to_string()),
        "{failing:?}"
    );
}

#[test]
fn removed_identity_statement_is_blamed_on_the_identity_policy() {
    let mut lowered = lowered();
    remove(
        lowered.role_policies.get_mut("app").unwrap(),
        "SharedObjects",
    );
    let report = check(&lowered);
    assert_eq!(blamed_for_denied_grants(&report), [Layer::Identity]);
    assert!(failing_operations(&report).contains(&"role app GetObject".to_string()));
}

#[test]
fn narrowed_identity_kms_action_is_blamed_on_the_identity_policy() {
    let mut lowered = lowered();
    drop_action(
        lowered.role_policies.get_mut("app").unwrap(),
        "UseDataKey",
        "kms:GenerateDataKey",
    );
    let report = check(&lowered);
    assert_eq!(blamed_for_denied_grants(&report), [Layer::Identity]);
    let failing = failing_operations(&report);
    assert!(
        failing.contains(&"role app PutObject".to_string()),
        "{failing:?}"
    );
    assert!(
        failing.contains(&"role app CreateMultipartUpload".to_string()),
        "{failing:?}"
    );
    assert!(
        !failing.contains(&"role app UploadPart".to_string()),
        "{failing:?}"
    );
}

#[test]
fn same_account_identity_statement_alone_decides() {
    // ingest lives in the owner account: no bucket or key policy statement names it, so its
    // identity policy is the only layer that can be blamed.
    let mut lowered = lowered();
    remove(
        lowered.role_policies.get_mut("ingest").unwrap(),
        "SharedObjects",
    );
    let report = check(&lowered);
    assert_eq!(blamed_for_denied_grants(&report), [Layer::Identity]);
    assert!(failing_operations(&report).contains(&"role ingest PutObject".to_string()));
}

#[test]
fn widened_grant_is_caught() {
    let mut lowered = lowered();
    let Clause::Is(actions) = &mut statement(
        lowered.bucket_policies.get_mut("shared").unwrap(),
        "AppObjects",
    )
    .action
    else {
        panic!("AppObjects uses NotAction");
    };
    actions.push("s3:DeleteObject".into());
    let Clause::Is(actions) = &mut statement(
        lowered.role_policies.get_mut("app").unwrap(),
        "SharedObjects",
    )
    .action
    else {
        panic!("SharedObjects uses NotAction");
    };
    actions.push("s3:DeleteObject".into());
    let report = check(&lowered);
    let failing = failing_operations(&report);
    assert_eq!(failing, ["role app DeleteObject"], "{failing:?}");
    let result = report.failures().next().unwrap();
    assert!(!result.probe.intended);
    assert!(result
        .steps
        .iter()
        .all(|step| step.outcome.as_ref().unwrap().verdict == Verdict::Allowed));
}

#[test]
fn unpinned_account_principal_lets_other_roles_in() {
    // Without the aws:PrincipalArn pin, naming the consumer account root opens the bucket and
    // the key to every role of that account whose IAM policy allows it.
    let mut lowered = lowered();
    for document in [
        lowered.bucket_policies.get_mut("shared").unwrap(),
        lowered.key_policies.get_mut("data").unwrap(),
    ] {
        for statement in &mut document.statements {
            statement.condition.remove("ArnEquals");
        }
    }
    let report = check(&lowered);
    let failing = failing_operations(&report);
    assert!(
        failing
            .iter()
            .any(|name| name.starts_with("admin role in app GetObject")),
        "{failing:?}"
    );
    assert!(
        failing
            .iter()
            .any(|name| name.starts_with("admin role in app kms:Decrypt")),
        "{failing:?}"
    );
}

use crossgrant::eval::probe::{Operation, Transport};
use crossgrant::policy::{Principal, Ref, Value};

/// The scenario with the secure defaults of the lowering added by hand.
fn hardened() -> Lowered {
    let mut lowered = lowered();
    eval::harden(&mut lowered);
    lowered
}

#[test]
fn secure_defaults_are_probed_and_hold() {
    let report = check(&hardened());
    assert!(report.passed(), "{:?}", failing_operations(&report));
    let probed = |matches: &dyn Fn(&crossgrant::eval::probe::Probe) -> bool| {
        report
            .results
            .iter()
            .filter(|result| matches(&result.probe))
            .count()
    };
    assert!(probed(&|probe| probe.transport == Transport::PlainHttp) > 0);
    assert!(probed(&|probe| matches!(probe.operation, Operation::PutObjectOtherKey { .. })) > 0);
    assert!(probed(&|probe| matches!(probe.operation, Operation::KmsDirectDecrypt { .. })) > 0);
    // Without the hardening none of these are asked.
    let plain = check(&lowered());
    assert!(plain
        .results
        .iter()
        .all(|result| result.probe.transport == Transport::Https
            && !matches!(
                result.probe.operation,
                Operation::PutObjectOtherKey { .. } | Operation::KmsDirectDecrypt { .. }
            )));
}

#[test]
fn tls_deny_that_misses_the_bucket_arn_is_caught() {
    let mut lowered = hardened();
    let bucket = lowered.scenario.buckets["shared"].arn();
    statement(
        lowered.bucket_policies.get_mut("shared").unwrap(),
        "DenyInsecureTransport",
    )
    .resource = Some(Clause::Is(vec![Value::lit(format!("{bucket}/*"))]));
    let report = check(&lowered);
    let failing = failing_operations(&report);
    assert!(
        failing.iter().all(|name| name.ends_with("ListBucket")),
        "{failing:?}"
    );
    assert!(
        failing.contains(&"role app ListBucket".to_string()),
        "{failing:?}"
    );
}

#[test]
fn key_header_deny_with_if_exists_blocks_default_encrypted_uploads() {
    // `StringNotEqualsIfExists` is true when the header is absent, so this Deny also refuses
    // every upload that relies on the bucket's default encryption.
    let mut lowered = hardened();
    let policy = lowered.bucket_policies.get_mut("shared").unwrap();
    let deny = statement(policy, "DenyOtherKeys");
    deny.condition.clear();
    *deny = deny.clone().condition(
        "StringNotEqualsIfExists",
        "s3:x-amz-server-side-encryption-aws-kms-key-id",
        [Value::Ref(Ref::KeyArn("data".into()))],
    );
    let report = check(&lowered);
    let failing = failing_operations(&report);
    assert!(
        failing.contains(&"role app PutObject".to_string()),
        "{failing:?}"
    );
    assert!(
        !failing.contains(&"role app PutObject (SSE-KMS headers)".to_string()),
        "{failing:?}"
    );
    let result = report
        .failures()
        .find(|result| result.probe.operation.name() == "PutObject")
        .unwrap();
    let (_, decision) = result.denied_step().unwrap();
    assert_eq!(decision.verdict, Verdict::ExplicitlyDenied);
    assert_eq!(decision.deciding_layers(), [Layer::BucketPolicy]);
}

#[test]
fn removed_key_header_deny_lets_writers_name_another_key() {
    // The deny lives in the bucket policy, which binds every caller: removing it lets writers
    // name another key. An unrelated statement still mentions the header, so it stays probed.
    let mut lowered = hardened();
    let policy = lowered.bucket_policies.get_mut("shared").unwrap();
    remove(policy, "DenyOtherKeys");
    policy.statements.push(
        Statement::allow("Unrelated")
            .principal(Principal::aws([Value::lit(
                "arn:aws:iam::222222222222:root",
            )]))
            .actions(["s3:GetObjectTagging"])
            .resources([Value::lit("arn:aws:s3:::nowhere/*")])
            .condition(
                "StringEqualsIfExists",
                "s3:x-amz-server-side-encryption-aws-kms-key-id",
                [Value::Ref(Ref::KeyArn("data".into()))],
            ),
    );
    let report = check(&lowered);
    let failing = failing_operations(&report);
    assert!(
        failing.contains(&"role app PutObject (SSE-KMS with another key)".to_string()),
        "{failing:?}"
    );
}

/// A pattern wider than the granted role's ARN in the bucket and key policies (what a wildcard
/// or a policy variable in a scenario value would produce) lets a look-alike in, and `check`
/// catches each kind by itself: the role of the same name under another path, a role whose
/// name extends the granted one, and a role of the same name in another account.
#[test]
fn a_principal_pattern_wider_than_the_role_is_caught_by_its_look_alike() {
    let consumer = eval::CONSUMER_ID;
    let cases = [
        (
            format!("arn:aws:iam::{consumer}:role/*app-role"),
            false,
            "same name, another path",
        ),
        (
            format!("arn:aws:iam::{consumer}:role/app-role*"),
            false,
            "longer name, same path",
        ),
        (
            "arn:aws:iam::*:role/app-role".to_string(),
            true,
            "same name and path, another account",
        ),
    ];
    for (pattern, any_principal, resemblance) in cases {
        let mut lowered = lowered();
        let arn = lowered.scenario.role_arn("app");
        for document in [
            lowered.bucket_policies.get_mut("shared").unwrap(),
            lowered.key_policies.get_mut("data").unwrap(),
        ] {
            for statement in &mut document.statements {
                let Some(keys) = statement.condition.get_mut("ArnEquals") else {
                    continue;
                };
                let Some(values) = keys.get_mut("aws:PrincipalArn") else {
                    continue;
                };
                for value in values.iter_mut() {
                    let names_app = matches!(value, Value::Ref(Ref::RoleArn(role)) if role == "app")
                        || value.as_lit() == Some(arn.as_str());
                    if names_app {
                        *value = Value::lit(pattern.clone());
                    }
                }
                if any_principal {
                    statement.principal = Some(Clause::Is(Principal::Any));
                }
            }
        }
        let report = check(&lowered);
        let failing = failing_operations(&report);
        assert!(
            failing
                .iter()
                .any(|name| name.starts_with(&format!("look-alike of role app ({resemblance}"))),
            "{pattern}: {failing:?}"
        );
    }
}

/// Takes every `aws:SourceVpce` condition out of a document; returns how many there were.
fn without_endpoint_conditions(document: &mut PolicyDocument) -> usize {
    let mut removed = 0;
    for statement in &mut document.statements {
        for keys in statement.condition.values_mut() {
            let before = keys.len();
            keys.retain(|key, _| !key.eq_ignore_ascii_case("aws:SourceVpce"));
            removed += before - keys.len();
        }
        statement.condition.retain(|_, keys| !keys.is_empty());
    }
    removed
}

#[test]
fn an_endpoint_condition_left_out_lets_requests_from_outside_the_endpoint_in() {
    let scenario =
        crossgrant::load_scenario(&crate::common::root().join("examples/guardrails.toml"))
            .unwrap_or_else(|error| panic!("{}", error.render()));
    let mut lowered = lower(scenario);
    assert!(check(&lowered).passed(), "the unbroken scenario must pass");
    let mut removed = 0;
    for policy in lowered.bucket_policies.values_mut() {
        removed += without_endpoint_conditions(policy);
    }
    for policy in lowered.role_policies.values_mut() {
        removed += without_endpoint_conditions(policy);
    }
    assert!(removed > 0, "the example's policies pin the endpoint");
    let report = check(&lowered);
    assert!(!report.passed());
    let outside: Vec<_> = report
        .failures()
        .map(|result| result.probe.transport)
        .collect();
    assert!(
        outside
            .iter()
            .all(|transport| *transport == crossgrant::eval::probe::Transport::OutsideVpcEndpoint),
        "{outside:?}"
    );
}

//! Generated policies grant nothing broader than asked: no wildcard principal and no wildcard
//! action in any Allow statement, except the key administrator statements of key policies (and
//! the statements of live policies, which are kept as their owners wrote them), and the
//! statement by which a bucket with `access_points = true` delegates to the access points of
//! its own account (every principal, but only through those access points).

use crate::common::*;
use crossgrant::aws::condition_key::S3_DATA_ACCESS_POINT_ACCOUNT;
use crossgrant::lower::{DELEGATE_TO_ACCESS_POINTS_SID, KEY_ADMIN_SID, ROOT_KEY_SID};
use crossgrant::policy::{Clause, Effect, PolicyDocument, Principal, Value};

fn wildcard_findings(kind: &str, name: &str, document: &PolicyDocument) -> Vec<String> {
    let mut findings = Vec::new();
    for statement in &document.statements {
        // A statement kept from a live policy is the owner's, printed as it was written.
        if statement.effect != Effect::Allow || statement.verbatim.is_some() {
            continue;
        }
        let sid = statement.sid.as_deref().unwrap_or("");
        let admin = kind == "key policy" && (sid == ROOT_KEY_SID || sid == KEY_ADMIN_SID);
        let delegation = kind == "bucket policy"
            && sid == DELEGATE_TO_ACCESS_POINTS_SID
            && statement.condition.get("StringEquals").is_some_and(|keys| {
                keys.keys()
                    .any(|key| key.eq_ignore_ascii_case(S3_DATA_ACCESS_POINT_ACCOUNT))
            });
        if delegation {
            continue;
        }
        match &statement.principal {
            Some(Clause::Is(Principal::Any)) | Some(Clause::Not(_)) => findings.push(format!(
                "{kind} {name} {sid}: wildcard or negated principal"
            )),
            Some(Clause::Is(Principal::Typed(map)))
                if map
                    .values()
                    .flatten()
                    .any(|value| value == &Value::lit("*")) =>
            {
                findings.push(format!("{kind} {name} {sid}: principal \"*\""));
            }
            Some(Clause::Is(Principal::Typed(_))) | None => {}
        }
        if statement.action.is_negated() {
            findings.push(format!("{kind} {name} {sid}: NotAction in an Allow"));
        }
        if !admin
            && statement
                .action
                .inner()
                .iter()
                .any(|action| action.contains('*'))
        {
            findings.push(format!("{kind} {name} {sid}: wildcard action"));
        }
    }
    findings
}

#[test]
fn no_example_grants_a_wildcard_principal_or_action() {
    let mut findings = Vec::new();
    let mut documents = 0;
    for example in examples() {
        let scenario = crossgrant::load_scenario(&example).expect("examples are valid");
        let lowered = crossgrant::lower::lower(scenario);
        for (kind, docs) in [
            ("bucket policy", &lowered.bucket_policies),
            ("key policy", &lowered.key_policies),
            ("identity policy", &lowered.role_policies),
            ("trust policy", &lowered.trust_policies),
        ] {
            for (name, document) in docs {
                documents += 1;
                findings.extend(wildcard_findings(kind, name, document));
            }
        }
        for ((bucket, account), document) in &lowered.access_point_policies {
            documents += 1;
            findings.extend(wildcard_findings(
                "access point policy",
                &format!("{bucket}/{account}"),
                document,
            ));
        }
    }
    assert!(documents > 10);
    assert!(findings.is_empty(), "{}", findings.join("\n"));
}

#[test]
fn the_check_itself_catches_a_wildcard() {
    let document = PolicyDocument::new(vec![crossgrant::policy::Statement::allow("Broad")
        .principal(Principal::aws([Value::lit("*")]))
        .actions(["s3:*"])
        .resources([Value::lit("arn:aws:s3:::b/*")])]);
    let findings = wildcard_findings("bucket policy", "b", &document);
    assert_eq!(findings.len(), 2, "{findings:?}");
}

//! `check` on hand-built scenarios: every grant works, nothing else is granted, and breaking any
//! of the three documents is caught and blamed on the right layer.

use crate::common::eval;
use crossgrant::eval::check;
use crossgrant::lower::lower;
use crossgrant::model::PrincipalStyle;

#[test]
fn shared_data_passes_in_both_principal_styles() {
    for style in [PrincipalStyle::Account, PrincipalStyle::Role] {
        let report = check(&lower(eval::shared_data(style)));
        let mut text = Vec::new();
        crossgrant::eval::report::write_human(&report, &mut text).unwrap();
        let text = String::from_utf8(text).unwrap();
        assert!(report.passed(), "{style:?}:\n{text}");
        assert!(report.results.iter().any(|r| r.probe.intended));
    }
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]

    /// Every grant is effective and nothing ungranted is allowed, whatever the scenario.
    #[test]
    fn random_scenarios_pass(scenario in eval::arbitrary::scenario()) {
        let report = check(&lower(scenario.clone()));
        let failures: Vec<String> = report
            .failures()
            .map(|result| format!("{:?} {} {:?}", result.probe.caller_kind, result.probe.bucket, result.probe.operation))
            .take(5)
            .collect();
        proptest::prop_assert!(report.passed(), "{scenario:#?}\n{failures:#?}");
    }
}

/// With `enforce_encryption = "strict"`, an upload naming the bucket's key works and one relying
/// on default encryption is refused, multipart included (its parts cannot carry the header).
#[test]
fn strict_encryption_requires_the_headers() {
    use crossgrant::eval::check::Outcome;
    use crossgrant::eval::probe::Operation;
    use crossgrant::model::EncryptionEnforcement;
    let mut scenario = eval::shared_data(PrincipalStyle::Account);
    for bucket in scenario.buckets.values_mut() {
        bucket.enforce_encryption = EncryptionEnforcement::Strict;
        bucket.require_tls = true;
    }
    let report = check(&lower(scenario));
    let mut text = Vec::new();
    crossgrant::eval::report::write_human(&report, &mut text).unwrap();
    let text = String::from_utf8(text).unwrap();
    assert!(report.passed(), "{text}");
    let writer_app = |operation: fn(&Operation) -> bool| {
        report
            .results
            .iter()
            .filter(|r| {
                r.probe.caller_kind.to_string() == "role app" && operation(&r.probe.operation)
            })
            .map(|r| (r.probe.intended, r.outcome() == Outcome::Allowed))
            .collect::<Vec<_>>()
    };
    let with_headers = writer_app(|op| matches!(op, Operation::PutObjectSseKms { .. }));
    assert!(with_headers.contains(&(true, true)), "{with_headers:?}");
    for plain in [
        writer_app(|op| matches!(op, Operation::PutObject { .. })),
        writer_app(|op| matches!(op, Operation::UploadPart { .. })),
    ] {
        assert!(!plain.is_empty());
        assert!(
            plain
                .iter()
                .all(|&(intended, allowed)| !intended && !allowed),
            "{plain:?}"
        );
    }
}

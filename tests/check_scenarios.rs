//! `check` on hand-built scenarios: every grant works, nothing else is granted, and breaking any
//! of the three documents is caught and blamed on the right layer.

#[path = "eval_cases/support.rs"]
mod support;

use crossgrant::eval::check;
use crossgrant::lower::lower;
use crossgrant::model::PrincipalStyle;

#[test]
fn shared_data_passes_in_both_principal_styles() {
    for style in [PrincipalStyle::Account, PrincipalStyle::Role] {
        let report = check(&lower(support::shared_data(style)));
        let mut text = Vec::new();
        crossgrant::eval::report::write_human(&report, &mut text).unwrap();
        let text = String::from_utf8(text).unwrap();
        assert!(report.passed(), "{style:?}:\n{text}");
        assert!(report.results.iter().any(|r| r.probe.intended));
    }
}

#[test]
#[ignore]
fn print_report() {
    let report = check(&lower(support::shared_data(PrincipalStyle::Account)));
    crossgrant::eval::report::write_human(&report, &mut std::io::stdout()).unwrap();
}

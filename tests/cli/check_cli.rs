//! `crossgrant check` end to end on every example: exit 0 with the access matrix, JSON that
//! parses and agrees, and exit 2 with a located message on a broken scenario.

use crate::common::{command, examples};

fn check(args: &[&str]) -> (i32, String, String) {
    let output = command().arg("check").args(args).output().unwrap();
    (
        output.status.code().unwrap(),
        String::from_utf8(output.stdout).unwrap(),
        String::from_utf8(output.stderr).unwrap(),
    )
}

#[test]
fn every_example_passes_check() {
    let examples = examples();
    assert!(!examples.is_empty());
    for example in examples {
        let (code, stdout, stderr) = check(&[example.to_str().unwrap()]);
        assert_eq!(code, 0, "{}:\n{stdout}{stderr}", example.display());
        assert!(
            stdout.contains("OK: every grant works and nothing else is granted"),
            "{stdout}"
        );
        assert!(stdout.contains("GetObject"), "{stdout}");
    }
}

#[test]
fn json_format_reports_every_request() {
    let example = examples().into_iter().next().unwrap();
    let (code, stdout, _) = check(&[example.to_str().unwrap(), "--format", "json"]);
    assert_eq!(code, 0);
    let report: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(report["passed"], true);
    assert_eq!(report["wrong"], 0);
    let results = report["results"].as_array().unwrap();
    assert_eq!(results.len() as u64, report["operations"].as_u64().unwrap());
    let denied = results
        .iter()
        .find(|result| result["outcome"] == "denied")
        .expect("some request is denied");
    let reasons = denied["requests"][0]["reasons"].as_array().unwrap();
    assert!(
        reasons.iter().any(|reason| reason["layer"].is_string()),
        "{denied}"
    );
    assert!(results
        .iter()
        .any(|result| result["outcome"] == "allowed" && result["intended"] == true));
}

#[test]
fn broken_scenario_exits_two() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("broken.toml");
    std::fs::write(&path, "name = \"x\"\nregion = \"nowhere-1\"\n").unwrap();
    let (code, stdout, stderr) = check(&[path.to_str().unwrap()]);
    assert_eq!(code, 2, "{stdout}{stderr}");
    assert!(stderr.contains("broken.toml"), "{stderr}");
}

#[test]
fn unknown_format_is_a_usage_error() {
    let example = examples().into_iter().next().unwrap();
    let (code, _, stderr) = check(&[example.to_str().unwrap(), "--format", "xml"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("xml"), "{stderr}");
}

//! The errors of the hardening settings, end to end: the real binary, every problem of the
//! run reported at once with its line and column, what is wrong and what to do, exit code 2.

use crate::common;

const SCENARIO: &str = r#"name = "bad-hardening"
region = "eu-west-1"

[accounts.data]
id = "111111111111"

[keys.data]
account = "data"
alias = "bad-hardening"
description = "DESCRIPTION"

[buckets.shared]
account = "data"
name = "acme-bad-hardening"
key = "data"
enforce_encryption = "always"
access_log_bucket = "acme-bad-hardening"
abort_incomplete_uploads_days = -1

[buckets.shared.tags]
"cost centre" = "a|b"

[buckets.other]
account = "data"
name = "acme-bad-hardening-other"
key = "data"
access_log_prefix = "logs/"

[roles.app]
account = "data"
name = "bad-hardening-app"

[[grants]]
role = "app"
bucket = "shared"
access = "read"
"#;

#[test]
fn hardening_settings_report_every_problem_with_its_location() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.toml");
    std::fs::write(&path, SCENARIO.replace("DESCRIPTION", &"d".repeat(9_000))).unwrap();
    let output = common::command()
        .arg("synth")
        .arg(&path)
        .arg("--out")
        .arg(dir.path().join("out"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    let file = path.display().to_string();
    for (message, line, column, help) in [
        ("description `dddddd", 10, 15, "shorten the key description"),
        (
            "`always` is not a valid enforce_encryption",
            16,
            22,
            r#"use one of: "if-present", "strict", "off""#,
        ),
        (
            "access_log_bucket `acme-bad-hardening` is the bucket itself",
            17,
            21,
            "send the logs to a separate log bucket",
        ),
        (
            "abort_incomplete_uploads_days `-1` is not a number of days",
            18,
            33,
            "use 1 to 3650 days, or 0 to keep unfinished multipart uploads",
        ),
        (
            "tag `cost centre` has a value with a character AWS does not allow in tags",
            21,
            1,
            "both only letters, digits, spaces and `_ . : / = + - @`",
        ),
        (
            "access_log_prefix `logs/` is set but access_log_bucket is not",
            27,
            21,
            "name the bucket that receives the logs with access_log_bucket",
        ),
    ] {
        let at = stderr
            .find(message)
            .unwrap_or_else(|| panic!("missing {message:?} in:\n{stderr}"));
        let block = &stderr[at..];
        let block = &block[..block.find("\nerror").unwrap_or(block.len())];
        assert!(
            block.contains(&format!("{file}:{line}:{column}")),
            "{message:?} not located at {line}:{column}:\n{block}"
        );
        assert!(
            block.contains(help),
            "{message:?} lacks help {help:?}:\n{block}"
        );
    }
    assert!(stderr.contains("6 problems in"), "{stderr}");
    // The headline quotes the start of the long description, not all of it.
    let headline = stderr
        .lines()
        .find(|line| line.starts_with("error: description"))
        .unwrap();
    assert!(headline.len() < 200, "{headline}");
    assert!(!dir.path().join("out").exists());
}

//! Every command keeps its exit code when its report cannot be written: a full standard output
//! is exit 2 with a message, never 0 (the report lost) nor 101 (reserved for bugs). And the hint
//! `synth --check` prints is a command that brings that output up to date.

use crate::common;

use std::fs::File;
use std::process::{Command, Stdio};

/// Runs crossgrant with standard output on `/dev/full`; returns the exit code and stderr.
fn to_full_disk(args: &[&str]) -> (Option<i32>, String) {
    let full = File::options()
        .write(true)
        .open("/dev/full")
        .expect("/dev/full exists");
    let output = common::command()
        .args(args)
        .stdout(Stdio::from(full))
        .stderr(Stdio::piped())
        .output()
        .expect("the crossgrant binary runs");
    (output.status.code(), common::text(&output.stderr))
}

#[test]
fn every_command_fails_with_exit_2_when_its_report_cannot_be_written() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let out = out.to_str().unwrap();
    let policy = dir.path().join("bucket-policy.json");
    std::fs::write(
        &policy,
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::222222222222:role/app"},"Action":"s3:ListBucket","Resource":"arn:aws:s3:::shared"}]}"#,
    )
    .unwrap();
    let identity = dir.path().join("identity.json");
    std::fs::write(
        &identity,
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:ListBucket","Resource":"arn:aws:s3:::shared"}]}"#,
    )
    .unwrap();
    let explain = [
        "explain",
        "--principal",
        "arn:aws:iam::222222222222:role/app",
        "--action",
        "s3:ListBucket",
        "--bucket",
        "shared",
        "--bucket-account",
        "111111111111",
        "--region",
        "us-east-1",
        "--bucket-policy",
        policy.to_str().unwrap(),
        "--identity-policy",
        identity.to_str().unwrap(),
    ];
    let commands: Vec<Vec<&str>> = vec![
        vec!["synth", "examples/blog.toml", "--out", out],
        vec!["synth", "examples/blog.toml", "--out", out, "--check"],
        vec!["plan", "examples/blog.toml"],
        vec!["check", "examples/blog.toml"],
        vec!["check", "examples/blog.toml", "--format", "json"],
        explain.to_vec(),
        vec!["--version"],
        vec!["--help"],
    ];
    for args in commands {
        let (code, stderr) = to_full_disk(&args);
        assert_eq!(code, Some(2), "{args:?}: {stderr}");
        assert!(
            stderr.contains("cannot write the report") && stderr.contains("No space left"),
            "{args:?}: {stderr}"
        );
    }
}

/// The hint names the same target, format and templates, and running it makes `--check` pass.
#[test]
fn the_out_of_date_hint_is_a_command_that_fixes_it() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out dir");
    let scenario = common::root().join("examples/blog.toml");
    let options = ["--target", "cloudformation", "--format", "json"];
    let check = |extra: &[&str]| {
        let mut args = vec!["--check"];
        args.extend_from_slice(extra);
        common::synth_output(&scenario, &out, &args)
    };
    let output = check(&options);
    assert_eq!(output.status.code(), Some(1));
    let stderr = common::text(&output.stderr);
    let hint = stderr
        .lines()
        .find_map(|line| line.strip_prefix("run `")?.strip_suffix("` to update it"))
        .unwrap_or_else(|| panic!("a hint: {stderr}"));
    assert!(
        hint.contains("--target cloudformation") && hint.contains("--format json"),
        "{hint}"
    );
    let status = Command::new("sh")
        .arg("-c")
        .arg(hint.replacen(
            "crossgrant",
            &common::command().get_program().to_string_lossy(),
            1,
        ))
        .current_dir(common::root())
        .stdout(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success(), "{hint}");
    assert_eq!(
        check(&options).status.code(),
        Some(0),
        "{hint} brought it up to date"
    );
}

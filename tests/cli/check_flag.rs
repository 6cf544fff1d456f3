//! `synth --check` (exit 1 listing missing, changed and stale files; writes nothing) and the
//! ownership rules of the output directory (only files crossgrant wrote are removed).

use crate::common::*;
use std::path::Path;

fn check(out: &Path, scenario: &str) -> (Option<i32>, String) {
    let output = crossgrant(&["synth", scenario, "--out", out.to_str().unwrap(), "--check"]);
    (
        output.status.code(),
        text(&output.stdout) + &text(&output.stderr),
    )
}

#[test]
fn check_passes_on_clean_output_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let (code, report) = check(&out, "examples/blog.toml");
    assert_eq!(code, Some(1), "nothing rendered yet: {report}");
    assert!(report.contains("missing: ACCESS.md"), "{report}");
    assert!(!out.exists(), "--check must write nothing");
    synth(Path::new("examples/blog.toml"), &out, &[]);
    let (code, report) = check(&out, "examples/blog.toml");
    assert_eq!(code, Some(0), "{report}");
}

#[test]
fn check_reports_modified_missing_and_stale_files() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    synth(Path::new("examples/multi-account.toml"), &out, &[]);
    let before = tree(&out);

    std::fs::write(out.join("terraform/main.tf"), "# edited by hand\n").unwrap();
    std::fs::remove_file(out.join("ACCESS.md")).unwrap();
    let (code, report) = check(&out, "examples/multi-account.toml");
    assert_eq!(code, Some(1));
    assert!(report.contains("changed: terraform/main.tf"), "{report}");
    assert!(report.contains("missing: ACCESS.md"), "{report}");

    // A scenario with fewer units makes earlier files stale.
    synth(Path::new("examples/multi-account.toml"), &out, &[]);
    assert_eq!(tree(&out), before, "a second synth restores the output");
    let (code, report) = check(&out, "examples/read-only-prefix.toml");
    assert_eq!(code, Some(1));
    assert!(
        report.contains("stale:   cloudformation/etl-access.yaml"),
        "{report}"
    );
    assert_eq!(tree(&out), before, "--check wrote something");
}

#[test]
fn synth_removes_only_files_it_wrote() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    synth(Path::new("examples/multi-account.toml"), &out, &[]);
    std::fs::write(out.join("README.md"), "mine").unwrap();
    std::fs::write(out.join("cloudformation/notes.txt"), "mine too").unwrap();
    synth(Path::new("examples/read-only-prefix.toml"), &out, &[]);
    assert!(
        !out.join("cloudformation/etl-access.yaml").exists(),
        "stale file kept"
    );
    assert!(
        !out.join("terraform/modules/etl").exists(),
        "emptied module directory kept"
    );
    assert_eq!(
        std::fs::read_to_string(out.join("README.md")).unwrap(),
        "mine"
    );
    assert_eq!(
        std::fs::read_to_string(out.join("cloudformation/notes.txt")).unwrap(),
        "mine too"
    );
    let (code, report) = check(&out, "examples/read-only-prefix.toml");
    assert_eq!(code, Some(0), "{report}");
}

#[test]
fn synth_refuses_to_write_through_a_symlink() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let elsewhere = dir.path().join("elsewhere");
    std::fs::create_dir_all(&out).unwrap();
    std::fs::create_dir_all(&elsewhere).unwrap();
    std::os::unix::fs::symlink(&elsewhere, out.join("terraform")).unwrap();
    let output = crossgrant(&[
        "synth",
        "examples/blog.toml",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        text(&output.stderr).contains("symbolic link"),
        "{}",
        text(&output.stderr)
    );
    assert!(tree(&elsewhere).is_empty(), "wrote through the link");
    assert!(
        !out.join("ACCESS.md").exists(),
        "a refused run must write nothing"
    );
}

#[test]
fn a_failing_run_leaves_previous_output_intact() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    synth(Path::new("examples/blog.toml"), &out, &[]);
    let before = tree(&out);
    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, "name = \"x\"\nregion = \"nowhere\"\n").unwrap();
    let output = crossgrant(&[
        "synth",
        bad.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(tree(&out), before);
}

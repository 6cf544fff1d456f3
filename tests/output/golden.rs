//! Golden outputs: every example renders to exactly the files of its golden directory —
//! `out/` for `examples/blog.toml` (the render the README shows), and
//! `tests/fixtures/<example>/expected/` for the others; the per-account Terraform layout of
//! `examples/multi-account.toml` in `tests/fixtures/per-account/expected/`. A difference fails with a unified diff
//! of the first files that differ. After an intended change, re-bless them (this rewrites
//! `out/` too) with:
//!
//! ```sh
//! CROSSGRANT_BLESS=1 cargo test --release --test output golden::
//! ```

use crate::common::*;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// The one command that re-blesses every golden output, `out/` included.
const BLESS: &str = "CROSSGRANT_BLESS=1 cargo test --release --test output golden::";

/// How many differing files a failure shows as a diff; the rest are only named.
const DIFFS_SHOWN: usize = 3;

/// Held by the tests that read or write `out/`, so a re-bless never races the `--check` run.
static OUT_DIR: Mutex<()> = Mutex::new(());

fn bless() -> bool {
    std::env::var_os("CROSSGRANT_BLESS").is_some()
}

/// Where the golden output of `example` lives: `out/` for the blog example, which the README
/// shows, and `tests/fixtures/<example>/expected/` for the others.
fn golden_dir(example: &Path) -> PathBuf {
    match stem(example).as_str() {
        "blog" => root().join("out"),
        name => root().join("tests/fixtures").join(name).join("expected"),
    }
}

/// What differs between the expected and the rendered files: missing and extra files by name,
/// then a unified diff of each changed file (the first [`DIFFS_SHOWN`], the rest by name).
fn differences(
    example: &str,
    golden_dir: &str,
    expected: &BTreeMap<PathBuf, Vec<u8>>,
    actual: &BTreeMap<PathBuf, Vec<u8>>,
    diffs_left: &mut usize,
) -> Vec<String> {
    let mut found = Vec::new();
    let what = |path: &Path| format!("{example}: {golden_dir}/{}", path.display());
    for path in expected.keys().filter(|path| !actual.contains_key(*path)) {
        found.push(format!("{} is no longer rendered", what(path)));
    }
    for path in actual.keys().filter(|path| !expected.contains_key(*path)) {
        found.push(format!("{} is rendered but not expected", what(path)));
    }
    for (path, bytes) in actual {
        let Some(golden) = expected.get(path) else {
            continue;
        };
        if golden == bytes {
            continue;
        }
        match (std::str::from_utf8(golden), std::str::from_utf8(bytes)) {
            (Ok(golden), Ok(rendered)) if *diffs_left > 0 => {
                *diffs_left -= 1;
                let diff = similar::TextDiff::from_lines(golden, rendered)
                    .unified_diff()
                    .context_radius(3)
                    .header(
                        &format!("{golden_dir}/{} (golden)", path.display()),
                        &format!("{} (rendered from examples/{example}.toml)", path.display()),
                    )
                    .to_string();
                found.push(format!("{} differs:\n{diff}", what(path)));
            }
            _ => found.push(format!("{} differs", what(path))),
        }
    }
    found
}

#[test]
fn every_example_matches_its_golden_output() {
    let _out = OUT_DIR
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let mut failures = Vec::new();
    let mut diffs_left = DIFFS_SHOWN;
    for example in examples() {
        let expected_dir = golden_dir(&example);
        if bless() {
            // Rendered in place, as a user renders: the golden files are exactly what synth
            // writes, file modes included.
            let _ = std::fs::remove_dir_all(&expected_dir);
            synth(&example, &expected_dir, &[]);
            continue;
        }
        let out = tempfile::tempdir().unwrap();
        synth(&example, out.path(), &[]);
        failures.extend(differences(
            &stem(&example),
            &rel(&expected_dir),
            &tree(&expected_dir),
            &tree(out.path()),
            &mut diffs_left,
        ));
    }
    assert!(
        failures.is_empty(),
        "the rendered output differs from the golden files:\n{}\nre-bless intended changes with `{BLESS}`",
        failures.join("\n")
    );
}

/// The per-account Terraform layout (`--terraform-layout per-account`) of the multi-account
/// example: a root per account, `apply.sh`, and the same modules as the single root.
#[test]
fn per_account_layout_matches_its_golden_output() {
    let example = root().join("examples/multi-account.toml");
    let expected_dir = root().join("tests/fixtures/per-account/expected");
    let extra = ["--target", "terraform", "--terraform-layout", "per-account"];
    if bless() {
        let _ = std::fs::remove_dir_all(&expected_dir);
        synth(&example, &expected_dir, &extra);
        return;
    }
    let out = tempfile::tempdir().unwrap();
    synth(&example, out.path(), &extra);
    let rendered = tree(out.path());
    let mut diffs_left = DIFFS_SHOWN;
    let failures = differences(
        "multi-account",
        &rel(&expected_dir),
        &tree(&expected_dir),
        &rendered,
        &mut diffs_left,
    );
    assert!(
        failures.is_empty(),
        "the per-account layout differs from its golden files:\n{}\nre-bless intended changes with `{BLESS}`",
        failures.join("\n")
    );
    // The modules are the single layout's, byte for byte; only the roots differ.
    let single = tempfile::tempdir().unwrap();
    synth(&example, single.path(), &["--target", "terraform"]);
    let modules = |files: &BTreeMap<PathBuf, Vec<u8>>| -> BTreeMap<PathBuf, Vec<u8>> {
        files
            .iter()
            .filter(|(path, _)| path.starts_with("terraform/modules"))
            .map(|(path, bytes)| (path.clone(), bytes.clone()))
            .collect()
    };
    let single = tree(single.path());
    assert_eq!(modules(&rendered), modules(&single));
    assert!(single.contains_key(Path::new("terraform/main.tf")));
    assert!(!rendered.contains_key(Path::new("terraform/main.tf")));
}

/// `path` relative to the package root, for messages.
fn rel(path: &Path) -> String {
    path.strip_prefix(root())
        .unwrap_or(path)
        .display()
        .to_string()
}

#[test]
fn committed_out_directory_is_current() {
    // out/ is what examples/blog.toml renders to (and the blog's golden output); CI fails when
    // someone forgets to re-render. `synth --check` must agree with the golden comparison.
    let _out = OUT_DIR
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if bless() {
        synth(&root().join("examples/blog.toml"), &root().join("out"), &[]);
    }
    let output = crossgrant(&["synth", "examples/blog.toml", "--out", "out", "--check"]);
    assert!(
        output.status.success(),
        "out/ is out of date; re-render it with `cargo run --release -- synth examples/blog.toml \
         --out out` or re-bless every golden output with `{BLESS}`:\n{}",
        text(&output.stderr)
    );
}

#[test]
fn rendering_is_byte_for_byte_deterministic() {
    for example in examples() {
        for format in ["yaml", "json"] {
            let first = tempfile::tempdir().unwrap();
            let second = tempfile::tempdir().unwrap();
            synth(&example, first.path(), &["--format", format]);
            synth(&example, second.path(), &["--format", format]);
            assert_eq!(
                tree(first.path()),
                tree(second.path()),
                "{} renders differently on a second run",
                example.display()
            );
        }
    }
}

#[test]
fn json_templates_say_the_same_as_yaml_templates() {
    for example in examples() {
        let yaml_out = tempfile::tempdir().unwrap();
        let json_out = tempfile::tempdir().unwrap();
        synth(&example, yaml_out.path(), &["--target", "cloudformation"]);
        synth(
            &example,
            json_out.path(),
            &["--target", "cloudformation", "--format", "json"],
        );
        let yaml_files = tree(&yaml_out.path().join("cloudformation"));
        let json_files = tree(&json_out.path().join("cloudformation"));
        let templates = yaml_files
            .keys()
            .filter(|path| path.extension().is_some_and(|e| e == "yaml"));
        let mut compared = 0;
        for path in templates {
            let json_path = path.with_extension("json");
            let from_yaml = crossgrant::render::yaml::to_json(&text(&yaml_files[path])).unwrap();
            let from_json: serde_json::Value =
                serde_json::from_slice(&json_files[&json_path]).unwrap();
            assert_eq!(
                from_yaml,
                from_json,
                "{} and its JSON form differ",
                path.display()
            );
            compared += 1;
        }
        assert!(compared > 0);
        let deploy = text(&json_files[Path::new("deploy.sh")]);
        assert!(
            deploy.contains(".json"),
            "deploy.sh must deploy the JSON templates"
        );
    }
}

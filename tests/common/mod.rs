//! Helpers shared by the integration tests: the real binary, the bundled examples, and
//! reading an output tree.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn examples() -> Vec<PathBuf> {
    let mut examples: Vec<PathBuf> = std::fs::read_dir(root().join("examples"))
        .expect("examples/ exists")
        .map(|entry| entry.expect("readable entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "toml"))
        .collect();
    examples.sort();
    assert!(examples.len() >= 4, "the bundled examples are missing");
    examples
}

pub fn stem(path: &Path) -> String {
    path.file_stem().unwrap().to_string_lossy().into_owned()
}

/// Runs the crossgrant binary.
pub fn crossgrant(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_crossgrant"))
        .args(args)
        .current_dir(root())
        .output()
        .expect("the crossgrant binary runs")
}

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// `crossgrant synth SCENARIO --out OUT EXTRA…`.
pub fn synth_output(scenario: &Path, out: &Path, extra: &[&str]) -> Output {
    let mut args = vec![
        "synth",
        scenario.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    crossgrant(&args)
}

/// `crossgrant synth SCENARIO --out OUT EXTRA…`, asserting success.
pub fn synth(scenario: &Path, out: &Path, extra: &[&str]) {
    let output = synth_output(scenario, out, extra);
    assert!(
        output.status.success(),
        "synth {} failed: {}",
        scenario.display(),
        text(&output.stderr)
    );
}

/// Every file below `dir`, by relative path.
pub fn tree(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut files = BTreeMap::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(current) = pending.pop() {
        for entry in std::fs::read_dir(&current).expect("readable directory") {
            let path = entry.expect("readable entry").path();
            if path.is_dir() {
                pending.push(path);
            } else {
                let bytes = std::fs::read(&path).expect("readable file");
                files.insert(path.strip_prefix(dir).unwrap().to_path_buf(), bytes);
            }
        }
    }
    files
}

/// Whether a tool is on PATH; tests that need one fail with this message when it is not.
pub fn require_tool(name: &str, install: &str) {
    let found = Command::new("sh")
        .args(["-c", &format!("command -v {name}")])
        .output()
        .is_ok_and(|output| output.status.success());
    assert!(found, "`{name}` is not installed: {install}");
}

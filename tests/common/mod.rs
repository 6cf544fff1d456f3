//! Helpers shared by every integration test binary: the real binary, the bundled examples,
//! reading an output tree and the tools a test needs. Each binary includes this module with
//! `#[path = "../common/mod.rs"] mod common;`.
//!
//! - [`moto`]: a local AWS emulator (`moto_server`) and the AWS CLI pointed at it;
//! - [`eval`]: hand-built scenarios for the evaluator's tests, and random ones for proptest.
#![allow(dead_code)]

pub mod eval;
pub mod moto;

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

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

/// The crossgrant binary, run from the package root. Every test that runs the binary starts
/// from this command.
pub fn command() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_crossgrant"));
    command.current_dir(root());
    command
}

/// The offline mirror of the Terraform AWS provider on the test machines.
pub const TF_PLUGINS: &str = "/opt/tf-plugins";

/// `terraform`, reading no CLI configuration (`init` is given `-plugin-dir=` [`TF_PLUGINS`])
/// and never asking for input or checking for updates.
pub fn terraform() -> Command {
    let mut command = Command::new("terraform");
    command
        .env("TF_CLI_CONFIG_FILE", "/dev/null")
        .env("TF_IN_AUTOMATION", "1")
        .env("CHECKPOINT_DISABLE", "1");
    command
}

/// Runs the crossgrant binary with `args` and waits for it.
pub fn crossgrant(args: &[&str]) -> Output {
    command()
        .args(args)
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

/// Fails the test with a message naming what is missing and how to get it, unless `program`
/// runs with `args` (a version query).
pub fn require_tool(program: &str, args: &[&str], install: &str) {
    let found = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success());
    assert!(
        found,
        "`{program}` is needed by this test but does not run (tried `{program} {}`); {install}",
        args.join(" ")
    );
}

/// What a directory holds: a content hash and the mode of every file, every link's target,
/// every directory.
pub fn snapshot(root: &Path) -> BTreeMap<PathBuf, String> {
    let mut out = BTreeMap::new();
    let mut pending = vec![root.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let relative = path.strip_prefix(root).unwrap().to_path_buf();
            let meta = fs::symlink_metadata(&path).unwrap();
            let value = if meta.file_type().is_symlink() {
                format!("link -> {}", fs::read_link(&path).unwrap().display())
            } else if meta.is_dir() {
                pending.push(path);
                "dir".to_string()
            } else {
                let mut hasher = std::hash::DefaultHasher::new();
                std::hash::Hasher::write(&mut hasher, &fs::read(&path).unwrap());
                format!(
                    "file {:016x} mode {:o}",
                    std::hash::Hasher::finish(&hasher),
                    std::os::unix::fs::PermissionsExt::mode(&meta.permissions()) & 0o7777
                )
            };
            out.insert(relative, value);
        }
    }
    out
}

/// Runs `crossgrant check` on a file `scenario.toml` holding `bytes`, asserts that it is refused
/// as bad input (exit 2) and returns what it printed on stderr.
pub fn check_refuses(bytes: impl AsRef<[u8]>) -> String {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("scenario.toml");
    fs::write(&path, bytes).expect("the scenario is written");
    let output = crossgrant(&["check", path.to_str().unwrap()]);
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    stderr
}

//! Golden outputs: every example renders to exactly the files under
//! `tests/fixtures/<example>/expected/`. After an intended change, re-bless them with
//! `CROSSGRANT_BLESS=1 cargo test --release --test golden`.

use crate::common::*;
use std::path::Path;

fn bless() -> bool {
    std::env::var_os("CROSSGRANT_BLESS").is_some()
}

#[test]
fn every_example_matches_its_golden_output() {
    let mut failures = Vec::new();
    for example in examples() {
        let out = tempfile::tempdir().unwrap();
        synth(&example, out.path(), &[]);
        let expected_dir = root()
            .join("tests/fixtures")
            .join(stem(&example))
            .join("expected");
        if bless() {
            let _ = std::fs::remove_dir_all(&expected_dir);
            copy_tree(out.path(), &expected_dir);
            continue;
        }
        let actual = tree(out.path());
        let expected = tree(&expected_dir);
        let names =
            |files: &std::collections::BTreeMap<_, _>| files.keys().cloned().collect::<Vec<_>>();
        if names(&actual) != names(&expected) {
            failures.push(format!(
                "{}: file sets differ\n  rendered: {:?}\n  expected: {:?}",
                stem(&example),
                names(&actual),
                names(&expected)
            ));
            continue;
        }
        for (path, bytes) in &actual {
            if expected[path] != *bytes {
                failures.push(format!("{}: {} differs", stem(&example), path.display()));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{}\nre-bless intended changes with CROSSGRANT_BLESS=1 cargo test --release --test golden",
        failures.join("\n")
    );
}

fn copy_tree(from: &Path, to: &Path) {
    for (path, bytes) in tree(from) {
        let target = to.join(path);
        std::fs::create_dir_all(target.parent().unwrap()).unwrap();
        std::fs::write(target, bytes).unwrap();
    }
}

#[test]
fn committed_out_directory_is_current() {
    // out/ is what examples/blog.toml renders to; CI fails when someone forgets to re-render.
    if bless() {
        synth(&root().join("examples/blog.toml"), &root().join("out"), &[]);
    }
    let output = crossgrant(&["synth", "examples/blog.toml", "--out", "out", "--check"]);
    assert!(
        output.status.success(),
        "out/ is out of date; run `cargo run --release -- synth examples/blog.toml`:\n{}",
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

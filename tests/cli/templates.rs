//! The `.hbs` files under `templates/` are the only source of the output text: every file there
//! is registered (and nothing else is), an override directory replaces a template or a partial
//! file by file, and a directory that is missing or holds a file naming no template is refused.

use crate::common;

use crossgrant::render::TEMPLATES;
use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

#[test]
fn every_template_file_is_registered_with_its_text_and_nothing_else_is() {
    let on_disk: BTreeMap<String, String> = common::tree(&common::root().join("templates"))
        .into_iter()
        .map(|(path, bytes)| {
            let path = path
                .components()
                .map(|part| part.as_os_str().to_string_lossy());
            (path.collect::<Vec<_>>().join("/"), common::text(&bytes))
        })
        .collect();
    let registered: BTreeMap<String, String> = TEMPLATES
        .iter()
        .map(|embedded| (embedded.path(), embedded.text.to_string()))
        .collect();
    assert_eq!(
        on_disk.keys().collect::<Vec<_>>(),
        registered.keys().collect::<Vec<_>>(),
        "templates/ and the registry in src/render/mod.rs list the same files"
    );
    assert_eq!(on_disk, registered, "the binary embeds the files' text");
}

/// The blog example rendered plainly and with `overrides` (path below the override directory
/// → text); returns the files whose bytes differ, and the overridden output.
fn render_with(overrides: &[(&str, String)]) -> (Vec<PathBuf>, BTreeMap<PathBuf, Vec<u8>>) {
    let dir = tempfile::tempdir().unwrap();
    let templates = dir.path().join("templates");
    for (path, text) in overrides {
        let path = templates.join(path);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, text).unwrap();
    }
    let example = common::root().join("examples/blog.toml");
    let (plain, custom) = (dir.path().join("plain"), dir.path().join("custom"));
    common::synth(&example, &plain, &[]);
    common::synth(
        &example,
        &custom,
        &["--templates", templates.to_str().unwrap()],
    );
    let (plain, custom) = (common::tree(&plain), common::tree(&custom));
    let changed = plain
        .keys()
        .filter(|path| plain.get(*path) != custom.get(*path))
        .cloned()
        .collect();
    (changed, custom)
}

fn embedded(path: &str) -> &'static str {
    TEMPLATES
        .iter()
        .find(|embedded| embedded.path() == path)
        .unwrap_or_else(|| panic!("{path} is registered"))
        .text
}

/// A directory overriding one template changes that file and nothing else.
#[test]
fn an_override_replaces_its_template_and_only_it() {
    let banner = "<!-- reviewed by the data platform team -->\n";
    let (changed, custom) = render_with(&[(
        "ACCESS.md.hbs",
        format!("{banner}{}", embedded("ACCESS.md.hbs")),
    )]);
    let access = PathBuf::from("ACCESS.md");
    assert_eq!(
        changed,
        std::slice::from_ref(&access),
        "only the overridden file changes"
    );
    assert!(String::from_utf8_lossy(&custom[&access]).starts_with(banner));
}

/// A partial is a file of its own: overriding it changes every file that uses it, and only
/// those, and the change shows where the partial is used.
#[test]
fn an_overridden_partial_changes_every_file_that_uses_it() {
    let block = embedded("partials/terraform/block.hbs");
    assert!(block.contains(">= 1.5.0"));
    let (changed, custom) = render_with(&[(
        "partials/terraform/block.hbs",
        block.replace(">= 1.5.0", ">= 1.9.0"),
    )]);
    let expected: Vec<PathBuf> = custom
        .keys()
        .filter(|path| path.ends_with("versions.tf") || path.ends_with("terraform/main.tf"))
        .cloned()
        .collect();
    assert!(expected.len() >= 2, "the root and at least one module");
    assert_eq!(changed, expected);
    for path in &changed {
        assert!(String::from_utf8_lossy(&custom[path]).contains("required_version = \">= 1.9.0\""));
    }
}

/// Runs synth on the blog example with `--templates templates` and asserts it is refused
/// with exit 2 before anything is written; returns what it printed.
fn refused(templates: &Path) -> String {
    let out = templates.with_file_name("out");
    let example = common::root().join("examples/blog.toml");
    let output = common::synth_output(
        &example,
        &out,
        &["--templates", templates.to_str().unwrap()],
    );
    let stderr = common::text(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(!out.exists(), "nothing is written");
    stderr
}

#[test]
fn a_template_directory_that_does_not_exist_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let stderr = refused(&dir.path().join("no-such-templates"));
    assert!(stderr.contains("no-such-templates"), "{stderr}");
}

#[test]
fn a_file_that_names_no_template_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let templates = dir.path().join("templates");
    fs::create_dir_all(templates.join("cloudformation")).unwrap();
    // A typo: the template is `stack.yaml.hbs`.
    fs::write(templates.join("cloudformation/stack.yml.hbs"), "x").unwrap();
    let stderr = refused(&templates);
    assert!(stderr.contains("stack.yml.hbs"), "{stderr}");
    assert!(stderr.contains("names no template"), "{stderr}");
}

#[test]
fn a_partial_that_does_not_parse_is_refused_by_its_path() {
    let dir = tempfile::tempdir().unwrap();
    let templates = dir.path().join("templates");
    fs::create_dir_all(templates.join("partials/cloudformation")).unwrap();
    fs::write(
        templates.join("partials/cloudformation/key.hbs"),
        "{{#each keys}}\n",
    )
    .unwrap();
    let stderr = refused(&templates);
    assert!(
        stderr.contains("partials/cloudformation/key.hbs"),
        "{stderr}"
    );
}

//! A directory of template overrides (`synth --templates DIR`) changes the file of the
//! template it overrides and nothing else.

use crate::common;

use std::collections::BTreeMap;
use std::fs;
use std::path::PathBuf;

/// A directory overriding one template changes that file and nothing else.
#[test]
fn an_override_replaces_its_template_and_only_it() {
    let dir = tempfile::tempdir().unwrap();
    let templates = dir.path().join("templates");
    fs::create_dir_all(&templates).unwrap();
    let access = fs::read_to_string(common::root().join("templates/ACCESS.md.hbs")).unwrap();
    fs::write(
        templates.join("ACCESS.md.hbs"),
        format!("<!-- reviewed by the data platform team -->\n{access}"),
    )
    .unwrap();
    let example = common::root().join("examples/blog.toml");
    let (plain, custom) = (dir.path().join("plain"), dir.path().join("custom"));
    common::synth(&example, &plain, &[]);
    common::synth(
        &example,
        &custom,
        &["--templates", templates.to_str().unwrap()],
    );
    let (plain, custom): (BTreeMap<PathBuf, Vec<u8>>, _) =
        (common::tree(&plain), common::tree(&custom));
    let access = PathBuf::from("ACCESS.md");
    let changed: Vec<&PathBuf> = plain
        .keys()
        .filter(|path| plain.get(*path) != custom.get(*path))
        .collect();
    assert_eq!(
        changed,
        [&access],
        "only the overridden template's file changes"
    );
    let custom_access = String::from_utf8(custom[&access].clone()).unwrap();
    assert_eq!(
        custom_access,
        format!(
            "<!-- reviewed by the data platform team -->\n{}",
            String::from_utf8(plain[&access].clone()).unwrap()
        )
    );
}

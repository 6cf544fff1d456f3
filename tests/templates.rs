//! The compiled-in template writers print exactly what handlebars prints from the embedded
//! `.hbs` files, byte for byte: for every example, for generated scenarios with every
//! consolidation forced, and for random scenarios. (`tests/hostile.rs` and `tests/fuzz.rs`
//! hold hostile values to the same.) An override directory still takes precedence, template by
//! template.

#[path = "eval_cases/support.rs"]
mod support;

mod common;

use crossgrant::consolidate::Fit;
use crossgrant::generate::{scenario, Shape};
use crossgrant::model::Scenario;
use crossgrant::render::{render_all, Format, Options, Target, Templates, TEMPLATES};
use std::collections::BTreeMap;
use std::fs;
use std::path::PathBuf;
use std::sync::OnceLock;

fn interpreted() -> &'static Templates {
    static TEMPLATES: OnceLock<Templates> = OnceLock::new();
    TEMPLATES.get_or_init(|| Templates::interpreted().expect("embedded templates compile"))
}

fn compiled() -> &'static Templates {
    static TEMPLATES: OnceLock<Templates> = OnceLock::new();
    TEMPLATES.get_or_init(|| Templates::load(None).expect("embedded templates load"))
}

/// Renders `scenario` both ways in every target and format and asserts the same files.
fn assert_same_output(name: &str, scenario: Scenario, fit: Fit) {
    let lowered = crossgrant::lower::lower_with(scenario, fit);
    let steps = crossgrant::plan::plan(&lowered).expect("no cycle");
    for format in [Format::Yaml, Format::Json] {
        let options = Options {
            target: Target::All,
            format,
        };
        let render = |templates| render_all(templates, &lowered, &steps, options).unwrap();
        let (expected, actual) = (render(interpreted()), render(compiled()));
        assert_eq!(
            expected.keys().collect::<Vec<_>>(),
            actual.keys().collect::<Vec<_>>(),
            "{name} {format:?}: the same files"
        );
        for (path, text) in &expected {
            assert_same_text(
                &format!("{name} {format:?} {}", path.display()),
                text,
                &actual[path],
            );
        }
    }
}

/// Equal texts, or a failure showing the first line where they part.
fn assert_same_text(what: &str, expected: &str, actual: &str) {
    if expected == actual {
        return;
    }
    let line = expected
        .lines()
        .zip(actual.lines())
        .position(|(left, right)| left != right)
        .unwrap_or_else(|| expected.lines().count().min(actual.lines().count()));
    let show = |text: &str| {
        text.lines()
            .skip(line.saturating_sub(2))
            .take(5)
            .collect::<Vec<_>>()
            .join("\n")
    };
    panic!(
        "{what}: the compiled-in writer departs from the template at line {}\n--- handlebars\n{}\n--- compiled in\n{}",
        line + 1,
        show(expected),
        show(actual)
    );
}

#[test]
fn every_example_renders_as_its_templates_do() {
    let examples = common::examples();
    assert!(examples.len() >= 5);
    for path in examples {
        let text = fs::read_to_string(&path).unwrap();
        let scenario = crossgrant::parse_scenario(&path.display().to_string(), &text).unwrap();
        assert_same_output(&common::stem(&path), scenario, Fit::AsNeeded);
    }
}

#[test]
fn consolidated_and_generated_scenarios_render_as_their_templates_do() {
    let shapes = [
        Shape::default(),
        Shape {
            buckets: 3,
            buckets_per_key: 2,
            owners: 2,
            roles: 12,
            accounts: 4,
            team_size: 3,
            grants: 24,
            role_principals: true,
            ..Shape::default()
        },
        Shape {
            buckets: 2,
            roles: 8,
            accounts: 4,
            team_size: 2,
            paths: Some(1),
            grants: 8,
            organization: true,
            organization_paths: true,
            declare_paths: true,
            max_managed_policies: Some(4),
            ..Shape::default()
        },
    ];
    for (index, shape) in shapes.iter().enumerate() {
        let text = scenario(shape).0;
        for fit in [Fit::Never, Fit::Always] {
            let model = crossgrant::parse_scenario("generated.toml", &text).unwrap();
            assert_same_output(&format!("shape {index} {fit:?}"), model, fit);
        }
    }
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]

    #[test]
    fn random_scenarios_render_as_their_templates_do(model in support::arbitrary::scenario()) {
        assert_same_output("random", model, Fit::AsNeeded);
    }
}

/// A directory overriding one template changes that file and nothing else.
#[test]
fn an_override_replaces_its_template_and_only_it() {
    let dir = tempfile::tempdir().unwrap();
    let templates = dir.path().join("templates");
    fs::create_dir_all(&templates).unwrap();
    let (_, access) = TEMPLATES
        .iter()
        .find(|(name, _)| *name == "ACCESS.md")
        .unwrap();
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

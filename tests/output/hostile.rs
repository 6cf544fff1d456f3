//! Hostile values in every free-text field either fail validation with a located message,
//! or render as correctly escaped values: the CloudFormation YAML and JSON still parse and
//! hold the value exactly, the Terraform still parses (`terraform fmt -check`, run once over
//! every case), never interpolates (`terraform validate` of a scenario full of `${…}`), and
//! `deploy.sh` is still valid shell.

use crossgrant::render::{self, hcl, Format, Options, Target, Templates};
use serde_json::Value as Json;
use std::fs;
use std::path::Path;
use std::process::Command;

use crate::common;

/// Quoting, interpolation and template syntax of every target, YAML indicators, Unicode
/// separators, control characters and sheer length.
fn hostile_values() -> Vec<String> {
    let mut values: Vec<String> = [
        "quote\"d",
        "it's",
        "back\\slash",
        "new\nline",
        "cr\r\nlf",
        "tab\there",
        "${var.secret}",
        "$${escaped}",
        "%{ if true }x%{ endif }",
        "{{handlebars}}",
        "{{{triple}}}",
        "#not a comment",
        "key: value",
        "- item",
        "&anchor *alias",
        "!Ref Tagged",
        "| pipe > fold",
        "---",
        "null",
        "yes",
        "2012-10-17",
        "0x1F",
        "日本語の値",
        "emoji 🙂",
        "line\u{2028}separator",
        "\u{feff}bom",
        "nul\u{0}byte",
        " leading and trailing ",
        "`backtick` $(subshell)",
        "<b>html</b>",
        "]] [[grants]]",
    ]
    .iter()
    .map(|value| value.to_string())
    .collect();
    values.push("long-".repeat(2_000));
    values
}

/// A TOML basic string holding `text` exactly.
fn toml_string(text: &str) -> String {
    let mut out = String::from("\"");
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A free-text field, the scenario that carries a value in it, and the text the value
/// becomes in the generated code.
struct Field {
    name: &'static str,
    wrap: fn(&str) -> String,
    scenario: fn(&str) -> String,
}

const BASE: &str = r#"
name = "hostile"
region = "eu-west-1"

[accounts.data]
id = "111111111111"

[accounts.app]
id = "222222222222"

[keys.data]
account = "data"
alias = "hostile-data"
@DESCRIPTION@
@ADMINISTRATORS@

[buckets.shared]
account = "data"
name = "acme-hostile"
key = "data"
bucket_key = false
access_log_bucket = "acme-logs"
@LOG_PREFIX@

[buckets.shared.tags]
@TAG@

[roles.app]
account = "app"
name = "hostile-app"
@PATH@
@MANAGED@

[instances.app]
account = "app"
role = "app"
instance_type = "t3.micro"

[[grants]]
role = "app"
bucket = "shared"
access = "read-write"
@PREFIX@
"#;

fn base(replace: &str, with: String) -> String {
    let mut text = BASE.replace(replace, &with);
    for placeholder in [
        "DESCRIPTION",
        "ADMINISTRATORS",
        "LOG_PREFIX",
        "TAG",
        "PATH",
        "MANAGED",
        "PREFIX",
    ] {
        text = text.replace(&format!("\n@{placeholder}@\n"), "\n");
    }
    text
}

fn fields() -> Vec<Field> {
    vec![
        Field {
            name: "key description",
            wrap: |value| value.to_string(),
            scenario: |value| {
                base(
                    "@DESCRIPTION@",
                    format!("description = {}", toml_string(value)),
                )
            },
        },
        Field {
            name: "grant prefix",
            wrap: |value| format!("{value}/"),
            scenario: |value| base("@PREFIX@", format!("prefix = {}", toml_string(value))),
        },
        Field {
            name: "role path",
            wrap: |value| format!("/{value}/"),
            scenario: |value| base("@PATH@", format!("path = {}", toml_string(value))),
        },
        Field {
            name: "access log prefix",
            wrap: |value| format!("{value}/"),
            scenario: |value| {
                base(
                    "@LOG_PREFIX@",
                    format!("access_log_prefix = {}", toml_string(value)),
                )
            },
        },
        Field {
            name: "tag value",
            wrap: |value| value.to_string(),
            scenario: |value| base("@TAG@", format!("team = {}", toml_string(value))),
        },
        Field {
            name: "tag key",
            wrap: |value| value.to_string(),
            scenario: |value| base("@TAG@", format!("{} = \"x\"", toml_string(value))),
        },
        Field {
            name: "key administrator ARN",
            wrap: |value| format!("arn:aws:iam::111111111111:role/{value}"),
            scenario: |value| {
                base(
                    "@ADMINISTRATORS@",
                    format!("administrators = [{}]", toml_string(value)),
                )
            },
        },
        Field {
            name: "managed policy ARN",
            wrap: |value| format!("arn:aws:iam::111111111111:policy/{value}"),
            scenario: |value| {
                base(
                    "@MANAGED@",
                    format!("managed_policy_arns = [{}]", toml_string(value)),
                )
            },
        },
    ]
}

/// Every string in a document, and inside strings that are JSON documents (the key policy).
fn strings(value: &Json, out: &mut Vec<String>) {
    match value {
        Json::String(text) => {
            if let Ok(inner @ (Json::Object(_) | Json::Array(_))) =
                serde_json::from_str::<Json>(text)
            {
                strings(&inner, out);
            }
            out.push(text.clone());
        }
        Json::Array(items) => items.iter().for_each(|item| strings(item, out)),
        Json::Object(map) => map.iter().for_each(|(key, item)| {
            out.push(key.clone());
            strings(item, out);
        }),
        _ => {}
    }
}

fn yaml_to_json(text: &str) -> Json {
    let value: serde_yaml::Value = serde_yaml::from_str(text).expect("CloudFormation YAML parses");
    serde_json::to_value(strip_tags(value)).unwrap()
}

fn strip_tags(value: serde_yaml::Value) -> serde_yaml::Value {
    use serde_yaml::Value as Y;
    match value {
        Y::Tagged(tagged) => strip_tags(tagged.value),
        Y::Sequence(items) => Y::Sequence(items.into_iter().map(strip_tags).collect()),
        Y::Mapping(map) => Y::Mapping(
            map.into_iter()
                .map(|(key, item)| (strip_tags(key), strip_tags(item)))
                .collect(),
        ),
        other => other,
    }
}

/// The escaped text of a value inside an HCL string literal.
fn hcl_inner(value: &str) -> String {
    let quoted = hcl::string(value);
    quoted[1..quoted.len() - 1].to_string()
}

#[test]
fn hostile_values_are_rejected_with_a_location_or_rendered_exactly() {
    let templates = Templates::load(None).unwrap();
    let terraform_dir = tempfile::tempdir().unwrap();
    let mut accepted_by_field = Vec::new();
    let mut case = 0;
    for field in fields() {
        let mut accepted = 0;
        for raw in hostile_values() {
            case += 1;
            let value = (field.wrap)(&raw);
            let text = (field.scenario)(&value);
            let scenario = match crossgrant::parse_scenario("hostile.toml", &text) {
                Ok(scenario) => scenario,
                Err(diagnostics) => {
                    let rendered = diagnostics.render();
                    assert!(
                        rendered.contains("hostile.toml:") && rendered.contains("help:"),
                        "{}: {value:?} was rejected without a location or help:\n{rendered}",
                        field.name
                    );
                    for problem in &diagnostics.problems {
                        assert!(diagnostics.location(problem).is_some(), "{problem:?}");
                    }
                    continue;
                }
            };
            accepted += 1;
            let lowered = crossgrant::lower::lower(scenario);
            let steps = crossgrant::plan::plan(&lowered).unwrap();
            let render = |target, format| {
                render::render_all(&templates, &lowered, &steps, Options { target, format })
                    .unwrap_or_else(|error| panic!("{}: {value:?}: {error}", field.name))
            };
            let yaml = render(Target::All, Format::Yaml);
            let json = render(Target::CloudFormation, Format::Json);
            let mut found = Vec::new();
            let mut terraform_text = String::new();
            for (path, text) in yaml.iter().chain(json.iter()) {
                let name = path.to_string_lossy();
                if name.ends_with(".yaml") {
                    strings(&yaml_to_json(text), &mut found);
                } else if name.ends_with(".json") {
                    let document: Json = serde_json::from_str(text).unwrap_or_else(|error| {
                        panic!("{}: {value:?}: {name} is not JSON: {error}", field.name)
                    });
                    strings(&document, &mut found);
                } else if name.ends_with(".sh") {
                    let script = terraform_dir.path().join(format!("deploy-{case}.sh"));
                    fs::write(&script, text).unwrap();
                    let check = Command::new("bash")
                        .arg("-n")
                        .arg(&script)
                        .output()
                        .unwrap();
                    assert!(check.status.success(), "{name} is not valid shell");
                } else if name.ends_with(".tf") {
                    terraform_text.push_str(text);
                    let target = terraform_dir.path().join(format!("case-{case}")).join(path);
                    fs::create_dir_all(target.parent().unwrap()).unwrap();
                    fs::write(target, text).unwrap();
                }
            }
            assert!(
                terraform_text.contains(&hcl_inner(&value)),
                "{}: {value:?} is not escaped in the Terraform files",
                field.name
            );
            assert!(
                found.iter().any(|text| text.contains(&value)),
                "{}: {value:?} did not survive into the CloudFormation documents",
                field.name
            );
        }
        accepted_by_field.push((field.name, accepted));
    }
    // Everything AWS accepts must render; the test proves nothing if all is rejected. Role
    // paths and administrator ARNs take fewer: `*`, `?` and `${` would widen a policy, and an
    // administrator ARN ends in an IAM name.
    for (name, minimum) in [
        ("key description", 30),
        ("grant prefix", 20),
        ("role path", 11),
        ("access log prefix", 20),
        ("key administrator ARN", 5),
        ("tag value", 4),
    ] {
        let accepted = accepted_by_field
            .iter()
            .find(|(field, _)| *field == name)
            .map_or(0, |(_, count)| *count);
        assert!(
            accepted >= minimum,
            "{name}: only {accepted} hostile values accepted: {accepted_by_field:?}"
        );
    }
    let fmt = common::terraform()
        .args(["fmt", "-check", "-recursive", "-diff"])
        .arg(terraform_dir.path())
        .output()
        .expect("terraform runs");
    assert!(
        fmt.status.success(),
        "terraform fmt rejects or would change hostile output:\n{}{}",
        String::from_utf8_lossy(&fmt.stdout),
        String::from_utf8_lossy(&fmt.stderr)
    );
}

/// Interpolation sequences in every field at once: were one left unescaped, Terraform would
/// look for `var.secret`, `var.nope` or `local.x` and `validate` would fail. Fields that reach a
/// policy refuse `${`, which IAM reads as a policy variable, so they carry `%{…}` directives.
#[test]
fn terraform_never_interpolates_scenario_text() {
    let text = BASE
        .replace(
            "@DESCRIPTION@",
            r#"description = "${var.secret} %{ if true }x%{ endif }""#,
        )
        .replace("@PATH@", r#"path = "/%{if(var.nope)}x%{endif}/""#)
        .replace("@PREFIX@", r#"prefix = "%{ if local.x }y%{ endif }/""#)
        .replace(
            "@LOG_PREFIX@",
            r#"access_log_prefix = "%{ for x in [] }y%{ endfor }/""#,
        )
        .replace(
            "@ADMINISTRATORS@",
            r#"administrators = ["arn:aws:iam::111111111111:role/%{if(data.x.y)}z%{endif}/Admin"]"#,
        )
        .replace("\n@TAG@\n", "\n")
        .replace("\n@MANAGED@\n", "\n");
    let dir = tempfile::tempdir().unwrap();
    let scenario = dir.path().join("hostile.toml");
    fs::write(&scenario, text).unwrap();
    let out = dir.path().join("out");
    let synth = common::command()
        .args(["synth", "--target", "terraform", "--out"])
        .arg(&out)
        .arg(&scenario)
        .output()
        .unwrap();
    assert!(
        synth.status.success(),
        "{}",
        String::from_utf8_lossy(&synth.stderr)
    );
    let root = out.join("terraform");
    let terraform = |args: &[&str]| {
        common::terraform()
            .args(args)
            .current_dir(&root)
            .output()
            .unwrap()
    };
    let init = terraform(&[
        "init",
        "-backend=false",
        "-plugin-dir=/opt/tf-plugins",
        "-input=false",
    ]);
    assert!(
        init.status.success(),
        "{}",
        String::from_utf8_lossy(&init.stderr)
    );
    let validate = terraform(&["validate", "-no-color"]);
    assert!(
        validate.status.success(),
        "{}{}",
        String::from_utf8_lossy(&validate.stdout),
        String::from_utf8_lossy(&validate.stderr)
    );
    assert!(Path::new(&root).join("modules/data/main.tf").is_file());
}

//! Scenario text never widens access, and every AWS limit on a value that reaches the output is
//! checked before anything is rendered: end to end through the real binary (exit 2, the
//! message, the file, line and column of the offending value), and as properties over values
//! with wildcards and policy variables at random places.

use crate::common::*;
use crossgrant::diag::Problem;
use proptest::prelude::*;
use serde_json::Value as Json;
use std::path::Path;

const BASE: &str = r#"name = "shared-data"
region = "ap-northeast-1"
organization = "o-a1b2c3d4e5"
organization_role_paths = ["/shared/"]

[accounts.data]
id = "111111111111"

[accounts.app]
id = "222222222222"
deploy_role = "Deployer"
role_paths = ["/apps/"]

[keys.data]
account = "data"
alias = "shared-data"
administrators = ["arn:aws:iam::111111111111:role/KeyAdmin"]

[buckets.shared]
account = "data"
name = "acme-shared-data"
key = "data"

[roles.app]
account = "app"
name = "app-s3-cross-account"
path = "/apps/"
managed_policy_arns = ["arn:aws:iam::aws:policy/ReadOnlyAccess"]

[[grants]]
role = "app"
bucket = "shared"
access = "read-write"
prefix = "incoming/"
actions = ["s3:DeleteObject"]
"#;

/// `BASE` with the first `from` replaced by `to`.
fn edited(from: &str, to: &str) -> String {
    assert!(BASE.contains(from), "the base scenario lacks {from:?}");
    BASE.replacen(from, to, 1)
}

/// 1-based line and column of the first `needle` in `text`, at or after byte `after`; a
/// quoted value's span starts at its opening quote.
fn position(text: &str, needle: &str, after: usize) -> (usize, usize) {
    let found = after
        + text[after..]
            .find(needle)
            .unwrap_or_else(|| panic!("{needle:?} is not in the scenario"));
    let at = if text[..found].ends_with('"') {
        found - 1
    } else {
        found
    };
    let line = text[..at].matches('\n').count() + 1;
    let column = text[..at].rsplit('\n').next().unwrap().chars().count() + 1;
    (line, column)
}

struct Refused {
    what: &'static str,
    from: &'static str,
    to: String,
    /// Text the message must contain.
    message: &'static str,
    /// The offending text, where the diagnostic must point.
    at: &'static str,
}

fn refused(what: &'static str, from: &'static str, to: &str, message: &'static str) -> Refused {
    Refused {
        what,
        from,
        to: to.to_string(),
        message,
        at: "",
    }
}

impl Refused {
    fn at(mut self, at: &'static str) -> Self {
        self.at = at;
        self
    }

    fn run(&self) {
        let source = edited(self.from, &self.to);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("scenario.toml");
        std::fs::write(&path, &source).unwrap();
        let out = dir.path().join("out");
        let output = crossgrant(&[
            "synth",
            path.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ]);
        let stderr = text(&output.stderr);
        assert_eq!(
            output.status.code(),
            Some(2),
            "{}: exit code; stderr:\n{stderr}",
            self.what
        );
        let block = stderr
            .split("error: ")
            .find(|block| block.contains(self.message))
            .unwrap_or_else(|| {
                panic!(
                    "{}: no message contains {:?}:\n{stderr}",
                    self.what, self.message
                )
            });
        let needle = if self.at.is_empty() {
            self.to.as_str()
        } else {
            self.at
        };
        let found = BASE.find(self.from).unwrap();
        let start = BASE[..found].rfind('\n').map_or(0, |at| at + 1);
        let (line, column) = position(&source, needle, start);
        let location = format!("{}:{line}:{column}", path.display());
        assert!(
            block.contains(&location),
            "{}: should point at {location}:\n{stderr}",
            self.what
        );
        assert!(block.contains("help:"), "{}: no help:\n{stderr}", self.what);
        assert!(!out.exists(), "{}: nothing may be written", self.what);
    }
}

#[test]
fn values_iam_would_match_as_patterns_are_refused_at_their_line() {
    let cases = [
        refused(
            "role path with a wildcard",
            "path = \"/apps/\"",
            "path = \"/*/\"",
            "role path `/*/` contains a wildcard",
        )
        .at("/*/"),
        refused(
            "role path with a policy variable",
            "path = \"/apps/\"",
            "path = \"/${aws:username}/\"",
            "contains a policy variable (`${`)",
        )
        .at("/${aws:username}/"),
        refused(
            "prefix with a policy variable",
            "prefix = \"incoming/\"",
            "prefix = \"logs/${aws:userid}/\"",
            "prefix `logs/${aws:userid}/` contains a policy variable",
        )
        .at("logs/${aws:userid}/"),
        refused(
            "prefix with `?`",
            "prefix = \"incoming/\"",
            "prefix = \"in?oming/\"",
            "contains a wildcard (`?`)",
        )
        .at("in?oming/"),
        refused(
            "account role path with `?`",
            "role_paths = [\"/apps/\"]",
            "role_paths = [\"/a?/\"]",
            "role path `/a?/` contains a wildcard",
        )
        .at("/a?/"),
        refused(
            "organization role path with a variable",
            "organization_role_paths = [\"/shared/\"]",
            "organization_role_paths = [\"/${aws:PrincipalTag/team}/\"]",
            "contains a policy variable",
        )
        .at("/${aws:PrincipalTag/team}/"),
        refused(
            "role name with a wildcard",
            "name = \"app-s3-cross-account\"",
            "name = \"app-*\"",
            "role name `app-*` contains a wildcard",
        )
        .at("app-*"),
        refused(
            "deploy role with a wildcard",
            "deploy_role = \"Deployer\"",
            "deploy_role = \"Deploy*\"",
            "deploy role `Deploy*` contains a wildcard",
        )
        .at("Deploy*"),
        refused(
            "bucket name with a wildcard",
            "name = \"acme-shared-data\"",
            "name = \"acme-*\"",
            "bucket name `acme-*` contains a wildcard",
        )
        .at("acme-*"),
        refused(
            "key administrator of every role",
            "role/KeyAdmin\"]",
            "role/*\"]",
            "key administrator ARN `arn:aws:iam::111111111111:role/*` contains a wildcard",
        )
        .at("arn:aws:iam::111111111111:role/*"),
        refused(
            "key administrator of every account",
            "arn:aws:iam::111111111111:role/KeyAdmin",
            "arn:aws:iam::*:root",
            "contains a wildcard",
        ),
        refused(
            "managed policy pattern",
            "arn:aws:iam::aws:policy/ReadOnlyAccess",
            "arn:aws:iam::aws:policy/*",
            "managed policy ARN `arn:aws:iam::aws:policy/*` contains a wildcard",
        ),
    ];
    for case in &cases {
        case.run();
    }
}

#[test]
fn key_administrators_are_principal_arns_of_an_account() {
    let admin = "arn:aws:iam::111111111111:role/KeyAdmin";
    for (to, message) in [
        (
            "arn:aws:iam::1111:root",
            "does not name a 12-digit account id",
        ),
        (
            "arn:aws:s3:::acme-shared-data",
            "does not start with `arn:aws:iam::`",
        ),
        (
            "arn:aws:iam::111111111111:group/Admins",
            "names neither `root`, a `role/` nor a `user/`",
        ),
        (
            "arn:aws:iam::111111111111:role/Key Admin",
            "ends in a name IAM does not allow",
        ),
        (
            "arn:aws:iam::111111111111:role//x/Admin",
            "has a path IAM does not allow",
        ),
    ] {
        refused("key administrator", admin, to, message).run();
    }
    // Roots, users and roles under a path are principals.
    for valid in [
        "arn:aws:iam::333333333333:root",
        "arn:aws:iam::111111111111:user/alice",
        "arn:aws:iam::111111111111:role/ops/team/KeyAdmin",
    ] {
        assert!(
            crossgrant::parse_scenario("s.toml", &edited(admin, valid)).is_ok(),
            "{valid} is a key administrator"
        );
    }
}

#[test]
fn managed_policies_are_policy_arns_named_once_within_the_quota() {
    let managed = "managed_policy_arns = [\"arn:aws:iam::aws:policy/ReadOnlyAccess\"]";
    refused(
        "a role ARN as managed policy",
        managed,
        "managed_policy_arns = [\"arn:aws:iam::111111111111:role/Foo\"]",
        "does not name a `policy/`",
    )
    .at("arn:aws:iam::111111111111:role/Foo")
    .run();
    refused(
        "a policy of no account",
        managed,
        "managed_policy_arns = [\"arn:aws:iam::amazon:policy/Foo\"]",
        "names neither `aws` nor a 12-digit account id",
    )
    .at("arn:aws:iam::amazon:policy/Foo")
    .run();
    refused(
        "the same policy twice",
        managed,
        "managed_policy_arns = [\"arn:aws:iam::aws:policy/ReadOnlyAccess\", \"arn:aws:iam::aws:policy/ReadOnlyAccess\"]",
        "role `app` names managed policy `arn:aws:iam::aws:policy/ReadOnlyAccess` twice",
    )
    .at("arn:aws:iam::aws:policy/ReadOnlyAccess\"]")
    .run();
    let two = "managed_policy_arns = [\"arn:aws:iam::aws:policy/ReadOnlyAccess\", \"arn:aws:iam::111111111111:policy/service-role/AppPolicy\"]";
    let source = edited(managed, two).replacen(
        "organization = ",
        "max_managed_policies = 1\norganization = ",
        1,
    );
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.toml");
    std::fs::write(&path, &source).unwrap();
    let output = crossgrant(&["plan", path.to_str().unwrap()]);
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("role `app` names 2 managed policies, more than the 1 IAM attaches"),
        "{stderr}"
    );
    let (line, column) = position(&source, "arn:aws:iam::111111111111:policy/", 0);
    assert!(
        stderr.contains(&format!("{}:{line}:{column}", path.display())),
        "{stderr}"
    );
    // Within the quota, both attach.
    assert!(crossgrant::parse_scenario("s.toml", &edited(managed, two)).is_ok());
}

#[test]
fn grant_actions_are_real_s3_actions() {
    let actions = "actions = [\"s3:DeleteObject\"]";
    refused(
        "a misspelt action",
        actions,
        "actions = [\"s3:GetObjekt\"]",
        "`s3:GetObjekt` is not an S3 action on a bucket or its objects",
    )
    .at("s3:GetObjekt")
    .run();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.toml");
    std::fs::write(&path, edited(actions, "actions = [\"s3:GetObjekt\"]")).unwrap();
    let stderr = text(&crossgrant(&["plan", path.to_str().unwrap()]).stderr);
    assert!(
        stderr.contains("help: did you mean `s3:GetObject`?"),
        "{stderr}"
    );
    refused(
        "an action S3 does not have",
        actions,
        "actions = [\"s3:DeleteEverything\"]",
        "`s3:DeleteEverything` is not an S3 action",
    )
    .at("s3:DeleteEverything")
    .run();
    refused(
        "every S3 action",
        actions,
        "actions = [\"s3:*\"]",
        "would grant every S3 action",
    )
    .at("s3:*")
    .run();
    refused(
        "every S3 action, spelt otherwise",
        actions,
        "actions = [\"s3:?*\"]",
        "would grant every S3 action",
    )
    .at("s3:?*")
    .run();
    refused(
        "a pattern that matches nothing",
        actions,
        "actions = [\"s3:Frobnicate*\"]",
        "matches no S3 action on a bucket or its objects",
    )
    .at("s3:Frobnicate*")
    .run();
    refused(
        "a KMS action",
        actions,
        "actions = [\"kms:Decrypt\"]",
        "is not an S3 action (it must start with `s3:`)",
    )
    .at("kms:Decrypt")
    .run();
}

/// Every statement of the CloudFormation JSON in `dir` (key policies are JSON strings) as
/// its actions and resources.
fn statements(dir: &Path) -> Vec<(Vec<String>, Vec<String>)> {
    fn strings(value: &Json) -> Vec<String> {
        match value {
            Json::String(text) => vec![text.clone()],
            Json::Array(items) => items.iter().flat_map(strings).collect(),
            other => vec![other.to_string()],
        }
    }
    fn walk(value: &Json, out: &mut Vec<(Vec<String>, Vec<String>)>) {
        match value {
            Json::Object(map) => {
                if let (Some(action), Some(resource)) = (map.get("Action"), map.get("Resource")) {
                    out.push((strings(action), strings(resource)));
                }
                map.values().for_each(|value| walk(value, out));
            }
            Json::Array(items) => items.iter().for_each(|value| walk(value, out)),
            Json::String(text) if text.starts_with('{') => {
                if let Ok(inner) = serde_json::from_str::<Json>(text) {
                    walk(&inner, out);
                }
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir.join("cloudformation")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|ext| ext == "json") {
            let document: Json = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
            walk(&document, &mut out);
        }
    }
    out
}

#[test]
fn each_action_goes_on_the_resource_the_table_gives_it() {
    // `GetLifecycleConfiguration` applies to the bucket and `ListMultipartUploadParts` to
    // objects, though neither says so in its name; `GetObject*` is expanded against the table.
    let source = edited(
        "actions = [\"s3:DeleteObject\"]",
        "actions = [\"s3:GetLifecycleConfiguration\", \"s3:listmultipartuploadparts\", \"s3:GetObject*\", \"s3:ListBucket*\"]",
    );
    let dir = tempfile::tempdir().unwrap();
    let scenario = dir.path().join("s.toml");
    std::fs::write(&scenario, &source).unwrap();
    let out = dir.path().join("out");
    let output = synth_output(
        &scenario,
        &out,
        &["--target", "cloudformation", "--format", "json"],
    );
    assert!(output.status.success(), "{}", text(&output.stderr));
    let statements = statements(&out);
    let resources_of = |action: &str| -> Vec<String> {
        statements
            .iter()
            .filter(|(actions, _)| actions.iter().any(|a| a == action))
            .flat_map(|(_, resources)| resources.clone())
            .collect()
    };
    let bucket = "arn:aws:s3:::acme-shared-data";
    for action in [
        "s3:GetLifecycleConfiguration",
        "s3:ListBucketVersions",
        "s3:ListBucketMultipartUploads",
    ] {
        let resources = resources_of(action);
        assert!(!resources.is_empty(), "{action} is not granted");
        assert!(
            resources.iter().all(|resource| resource == bucket),
            "{action} must be on the bucket ARN only: {resources:?}"
        );
    }
    for action in [
        "s3:ListMultipartUploadParts",
        "s3:GetObjectTagging",
        "s3:GetObjectAttributes",
    ] {
        let resources = resources_of(action);
        assert!(!resources.is_empty(), "{action} is not granted");
        assert!(
            resources
                .iter()
                .all(|resource| resource == "arn:aws:s3:::acme-shared-data/incoming/*"),
            "{action} must be on object ARNs only: {resources:?}"
        );
    }
    assert!(
        statements
            .iter()
            .all(|(actions, _)| actions.iter().all(|a| !a.ends_with("Object*"))),
        "a pattern reached the output"
    );
    let check = crossgrant(&["check", scenario.to_str().unwrap()]);
    assert_eq!(check.status.code(), Some(0), "{}", text(&check.stdout));
}

#[test]
fn a_key_cannot_be_named_like_the_aws_managed_key() {
    refused(
        "a key named aws-managed",
        "[keys.data]",
        "[keys.aws-managed]",
        "a key cannot be named `aws-managed`",
    )
    .at("aws-managed]")
    .run();
}

#[test]
fn tag_rules() {
    let bucket_key = "key = \"data\"\n";
    let with_tags = |tags: &str| format!("{bucket_key}\n[buckets.shared.tags]\n{tags}\n");
    refused(
        "reserved prefix in another case",
        bucket_key,
        &with_tags("\"AWS:team\" = \"x\""),
        "tag `AWS:team` uses the `aws:` prefix",
    )
    .at("AWS:team")
    .run();
    let long_key = "キ".repeat(129);
    refused(
        "a key of 129 characters",
        bucket_key,
        &with_tags(&format!("\"{long_key}\" = \"x\"")),
        "has a key of the wrong length",
    )
    .at("キキ")
    .run();
    refused(
        "a value of 257 characters",
        bucket_key,
        &with_tags(&format!("team = \"{}\"", "é".repeat(257))),
        "tag `team` has a value longer than 256 characters",
    )
    .at("team =")
    .run();
    refused(
        "a character tags do not take",
        bucket_key,
        &with_tags("team = \"a*b\""),
        "has a value with a character AWS does not allow in tags",
    )
    .at("team =")
    .run();
}

fn numbered_tags(prefix: &str, count: usize) -> String {
    (0..count)
        .map(|index| format!("{prefix}{index} = \"v\"\n"))
        .collect()
}

#[test]
fn multibyte_tags_are_accepted_and_rendered() {
    let key = "データ".repeat(42) + "デ"; // 127 characters, 381 bytes
    let value = "équipe".repeat(42) + "éq"; // 254 characters
    let source = edited(
        "key = \"data\"\n",
        &format!(
            "key = \"data\"\n\n[buckets.shared.tags]\n\"データ\" = \"équipe\"\n\"{key}\" = \"{value}\"\n\"Ключ\" = \"значение дата\"\n"
        ),
    );
    let dir = tempfile::tempdir().unwrap();
    let scenario = dir.path().join("s.toml");
    std::fs::write(&scenario, &source).unwrap();
    let out = dir.path().join("out");
    let output = synth_output(
        &scenario,
        &out,
        &["--target", "cloudformation", "--format", "json"],
    );
    assert!(output.status.success(), "{}", text(&output.stderr));
    let owner: Json =
        serde_json::from_slice(&std::fs::read(out.join("cloudformation/data-data.json")).unwrap())
            .unwrap();
    let rendered = owner.to_string();
    for (key, value) in [
        ("データ", "équipe"),
        (key.as_str(), value.as_str()),
        ("Ключ", "значение дата"),
    ] {
        let tag = serde_json::json!({"Key": key, "Value": value}).to_string();
        assert!(rendered.contains(&tag), "tag {key:?} is not rendered");
    }
}

/// `source` with `count` scenario-wide tags, `all0` to `all<count - 1>`.
fn with_scenario_tags(source: &str, count: usize) -> String {
    let tables = "\n[accounts.data]\n";
    assert!(source.contains(tables));
    source.replacen(
        tables,
        &format!("\n[tags]\n{}{tables}", numbered_tags("all", count)),
        1,
    )
}

#[test]
fn fifty_tags_after_merging_are_accepted_and_fifty_one_refused() {
    let fifty = with_scenario_tags(
        &edited(
            "key = \"data\"\n",
            &format!(
                "key = \"data\"\n\n[buckets.shared.tags]\n{}",
                numbered_tags("own", 20)
            ),
        ),
        30,
    );
    assert!(
        crossgrant::parse_scenario("s.toml", &fifty).is_ok(),
        "30 scenario-wide and 20 own tags are 50"
    );
    // A resource's own tag of a scenario-wide key replaces it and adds none.
    let replaced = fifty.replacen("own0 = ", "all0 = \"w\"\nown0 = ", 1);
    assert!(crossgrant::parse_scenario("s.toml", &replaced).is_ok());
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.toml");
    let fifty_one = fifty.replacen("own0 = \"v\"\n", "own0 = \"v\"\nextra = \"v\"\n", 1);
    std::fs::write(&path, &fifty_one).unwrap();
    let output = crossgrant(&["plan", path.to_str().unwrap()]);
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("51 tags on one resource, more than the 50 AWS allows"),
        "{stderr}"
    );
    assert!(stderr.contains("the 30 scenario-wide tags"), "{stderr}");
    // The tag that makes 51, in source order: the last of the bucket's own.
    let (line, column) = position(&fifty_one, "own19 =", 0);
    assert!(
        stderr.contains(&format!("{}:{line}:{column}", path.display())),
        "{stderr}"
    );
    assert!(
        stderr.contains("1 problem in"),
        "only the bucket is over: {stderr}"
    );
}

#[test]
fn the_name_tag_of_an_instance_counts() {
    let source = with_scenario_tags(BASE, 50)
        + "\n[instances.app]\naccount = \"app\"\nrole = \"app\"\ninstance_type = \"t3.micro\"\n";
    let diagnostics = crossgrant::parse_scenario("s.toml", &source).unwrap_err();
    let (line, column) = position(&source, "app]\naccount = \"app\"\nrole", 0);
    let found = diagnostics.problems.iter().any(|problem| {
        matches!(problem, Problem::TooManyTags { count: 51, .. })
            && diagnostics.location(problem) == Some((line, column))
    });
    assert!(found, "{}", diagnostics.render());
    assert_eq!(diagnostics.problems.len(), 1, "{}", diagnostics.render());
    // With its own Name tag, the instance has 51 too.
    let named = source + "\n[instances.app.tags]\nName = \"app\"\n";
    assert!(crossgrant::parse_scenario("s.toml", &named).is_err());
}

/// A field of the base scenario whose value reaches a policy: the text to replace, and the
/// part of the value where anything inserted keeps the value's shape.
struct Shaped {
    field: &'static str,
    value: &'static str,
    /// Byte range of `value` inside which text may be inserted.
    inside: (usize, usize),
}

const SHAPED: &[Shaped] = &[
    Shaped {
        field: "role name",
        value: "app-s3-cross-account",
        inside: (0, 20),
    },
    Shaped {
        field: "role path",
        value: "/apps/",
        inside: (1, 5),
    },
    Shaped {
        field: "prefix",
        value: "incoming/",
        inside: (0, 8),
    },
    Shaped {
        field: "role path",
        value: "/shared/",
        inside: (1, 7),
    },
    Shaped {
        field: "bucket name",
        value: "acme-shared-data",
        inside: (1, 15),
    },
    Shaped {
        field: "deploy role",
        value: "Deployer",
        inside: (0, 8),
    },
    Shaped {
        field: "key administrator ARN",
        value: "arn:aws:iam::111111111111:role/KeyAdmin",
        inside: (31, 39),
    },
    Shaped {
        field: "managed policy ARN",
        value: "arn:aws:iam::aws:policy/ReadOnlyAccess",
        inside: (24, 38),
    },
];

/// The base scenario with `inserted` put into the value of `SHAPED[field]` at `at` (a place
/// inside its range), and the 1-based line and column of that value.
fn with_inserted(field: usize, at: usize, inserted: &str) -> (String, (usize, usize)) {
    let shaped = &SHAPED[field];
    let (start, end) = shaped.inside;
    let at = start + at % (end - start + 1);
    let value = format!("{}{inserted}{}", &shaped.value[..at], &shaped.value[at..]);
    let quoted = format!("\"{}\"", shaped.value);
    // `/apps/` is both a role path and an account role path: the role's is meant.
    let from = BASE
        .match_indices(&quoted)
        .map(|(index, _)| index)
        .last()
        .unwrap();
    let source = format!(
        "{}\"{value}\"{}",
        &BASE[..from],
        &BASE[from + quoted.len()..]
    );
    let line = BASE[..from].matches('\n').count() + 1;
    let column = BASE[..from].rsplit('\n').next().unwrap().chars().count() + 1;
    (source, (line, column))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn a_wildcard_or_variable_anywhere_is_refused_at_the_value(
        field in 0..SHAPED.len(),
        at in 0usize..64,
        inserted in prop::sample::select(vec!["*", "?", "${", "${aws:username}", "${*}", "a*b", "?x"]),
    ) {
        let (source, location) = with_inserted(field, at, inserted);
        let diagnostics = crossgrant::parse_scenario("s.toml", &source)
            .expect_err("a pattern in a value must be refused");
        let shaped = &SHAPED[field];
        let refused = diagnostics.problems.iter().find(|problem| {
            matches!(problem, Problem::PatternInValue { field, .. } if *field == shaped.field)
        });
        let refused = refused.unwrap_or_else(|| panic!("{}", diagnostics.render()));
        prop_assert_eq!(diagnostics.location(refused), Some(location));
        prop_assert!(diagnostics.render().contains("help:"));
    }

    #[test]
    fn the_same_values_without_them_are_accepted(
        field in 0..SHAPED.len(),
        at in 0usize..64,
        inserted in prop::sample::select(vec!["x", "0", "ab", ""]),
    ) {
        let (source, _) = with_inserted(field, at, inserted);
        if let Err(diagnostics) = crossgrant::parse_scenario("s.toml", &source) {
            panic!("{}", diagnostics.render());
        }
    }
}

#[test]
fn the_bundled_examples_still_validate() {
    for example in examples() {
        let output = crossgrant(&["plan", example.to_str().unwrap()]);
        assert_eq!(
            output.status.code(),
            Some(0),
            "{}: {}",
            example.display(),
            text(&output.stderr)
        );
    }
}

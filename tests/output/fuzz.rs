//! No input crashes crossgrant. Three harnesses drive the whole pipeline — parse, validate,
//! lower, the policy evaluator (`check`), plan, render (CloudFormation YAML and JSON,
//! Terraform), and the diagnostics of rejected input — with arbitrary text, with byte-level mutations of the examples, and with
//! structure-aware random scenarios whose values come from pools of valid and hostile text.
//!
//! `cargo test --test output fuzz::` runs a few thousand cases. A long run spreads
//! `CROSSGRANT_FUZZ_CASES` cases over the three harnesses:
//! `CROSSGRANT_FUZZ_CASES=1000000 cargo test --release --test output fuzz:: -- --nocapture`.

use crossgrant::render::{self, Format, Options, Target, Templates};
use proptest::prelude::*;
use proptest::test_runner::{Config, FileFailurePersistence};
use std::sync::OnceLock;

const DEFAULT_CASES: u32 = 3_000;
const HARNESSES: u32 = 3;

fn cases() -> u32 {
    let total = std::env::var("CROSSGRANT_FUZZ_CASES")
        .ok()
        .and_then(|text| text.parse::<u32>().ok())
        .unwrap_or(DEFAULT_CASES);
    total.div_ceil(HARNESSES).max(1)
}

fn config() -> Config {
    Config {
        cases: cases(),
        failure_persistence: Some(Box::new(FileFailurePersistence::Off)),
        ..Config::default()
    }
}

fn templates() -> &'static Templates {
    static TEMPLATES: OnceLock<Templates> = OnceLock::new();
    TEMPLATES.get_or_init(|| Templates::load(None).expect("embedded templates load"))
}

/// Everything crossgrant does with a scenario text, short of writing files. Rejected input
/// must come back as diagnostics that render; accepted input must plan and render.
fn pipeline(text: &str) {
    let scenario = match crossgrant::parse_scenario("fuzz.toml", text) {
        Ok(scenario) => scenario,
        Err(diagnostics) => {
            let rendered = diagnostics.render();
            assert!(rendered.contains("fuzz.toml"), "diagnostics name the file");
            for problem in &diagnostics.problems {
                let _ = diagnostics.location(problem);
            }
            return;
        }
    };
    assert_names_only_itself(&scenario);
    let lowered = crossgrant::lower::lower(scenario);
    // The evaluator proves every grant; it must not panic on any scenario that validates.
    let report = crossgrant::eval::check::check(&lowered);
    let _ = (report.passed(), report.failures().count());
    let steps = crossgrant::plan::plan(&lowered)
        .unwrap_or_else(|cycle| panic!("lowering produced a cycle: {:?}", cycle.members));
    for (target, format) in [
        (Target::All, Format::Yaml),
        (Target::CloudFormation, Format::Json),
    ] {
        let files = render::render_all(templates(), &lowered, &steps, Options { target, format })
            .unwrap_or_else(|error| panic!("a valid scenario failed to render: {error}"));
        assert!(!files.is_empty());
    }
}

/// Every value of an accepted scenario that reaches a policy is literal under IAM matching: no
/// `*`, `?` or `${` slipped through validation. Grant actions are names of the S3 table.
fn assert_names_only_itself(scenario: &crossgrant::model::Scenario) {
    use crossgrant::aws::{pattern_syntax, s3_action};
    let mut values: Vec<&str> = Vec::new();
    for account in scenario.accounts.values() {
        values.push(&account.deploy_role);
        values.extend(account.role_paths.iter().map(String::as_str));
    }
    for key in scenario.keys.values() {
        values.extend(key.administrators.iter().map(String::as_str));
    }
    for bucket in scenario.buckets.values() {
        values.push(&bucket.bucket_name);
    }
    for role in scenario.roles.values() {
        values.extend([role.role_name.as_str(), role.path.as_str()]);
        values.extend(role.managed_policy_arns.iter().map(String::as_str));
    }
    for grant in &scenario.grants {
        values.push(&grant.prefix);
        for action in &grant.extra_actions {
            assert_eq!(
                s3_action(action).map(|(known, _)| known),
                Some(action.as_str()),
                "grant action {action:?} is not in the S3 table"
            );
        }
    }
    for value in values {
        assert_eq!(pattern_syntax(value), None, "{value:?} was accepted");
    }
}

fn run(text: &str) {
    if let Err(panic) = std::panic::catch_unwind(|| pipeline(text)) {
        let message = panic
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_default();
        panic!("crossgrant panicked ({message}) on this scenario:\n{text}\n--- (debug) {text:?}");
    }
}

const EXAMPLES: [&str; 6] = [
    include_str!("../../examples/blog.toml"),
    include_str!("../../examples/multi-account.toml"),
    include_str!("../../examples/multi-region.toml"),
    include_str!("../../examples/read-only-prefix.toml"),
    include_str!("../../examples/role-principal.toml"),
    include_str!("../../examples/same-account.toml"),
];

/// Text that has broken generators before: quoting, interpolation and template syntax of
/// every target, YAML indicators, Unicode line separators, BOMs, NULs, long runs.
const HOSTILE: &[&str] = &[
    "\"",
    "'",
    "\\",
    "\n",
    "\r\n",
    "\t",
    "\u{0}",
    "\u{7f}",
    "\u{feff}",
    "\u{2028}",
    "\u{2029}",
    "${var.x}",
    "$${x}",
    "%{ if true }x%{ endif }",
    "{{x}}",
    "{{{x}}}",
    "}}",
    "#",
    ": ",
    "- ",
    "? ",
    "&anchor",
    "*alias",
    "!Ref X",
    "|",
    ">",
    "---",
    "...",
    "~",
    "null",
    "yes",
    "No",
    "0x1F",
    "1e3",
    "2012-10-17",
    "<<",
    "[",
    "]]",
    "\"\"\"",
    "=",
    "@",
    "`",
    "' OR '1'='1",
    "$(rm -rf /)",
    "é",
    "日本語",
    "🙂",
    "\u{202e}",
    "aws:",
    "arn:aws:iam::111111111111:root",
    "*",
    "/",
    "//",
    "../",
];

/// A small, fast deterministic generator: proptest supplies the seed, so a failing case is
/// reported with its seed and the text it produced.
struct Rng {
    state: u64,
    /// Percent of structural values drawn from the hostile pool.
    hostility: u64,
    /// Percent of free-text values with hostile text in them.
    free_hostility: u64,
}

impl Rng {
    fn new(seed: u64) -> Self {
        let mut rng = Rng {
            state: seed | 1,
            hostility: 20,
            free_hostility: 35,
        };
        rng.next();
        rng
    }

    fn next(&mut self) -> u64 {
        self.state ^= self.state << 13;
        self.state ^= self.state >> 7;
        self.state ^= self.state << 17;
        self.state
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }

    fn hostile(&mut self) -> String {
        let mut text = String::new();
        for _ in 0..1 + self.below(4) {
            text.push_str(self.pick(HOSTILE));
            if self.chance(30) {
                text.push_str(self.pick(&["a", "b-c", "x_y", " ", "0"]));
            }
        }
        if self.chance(3) {
            text = text.repeat(1 + self.below(3000));
        }
        text
    }

    /// A value for a structural field: valid most of the time, hostile otherwise.
    fn value(&mut self, valid: &[&str]) -> String {
        if self.chance(self.hostility) {
            self.hostile()
        } else {
            self.pick(valid).to_string()
        }
    }

    /// A value for a free-text field (descriptions, tags, prefixes, paths), which reaches
    /// the renderers when validation lets it through: hostile a third of the time.
    fn free(&mut self, valid: &[&str]) -> String {
        if self.chance(self.free_hostility) {
            let mut text = self.pick(valid).to_string();
            text.push_str(&self.hostile());
            if self.chance(50) {
                text.push_str(self.pick(valid));
            }
            text
        } else {
            self.pick(valid).to_string()
        }
    }
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

/// A TOML key, quoted unless bare.
fn toml_key(text: &str) -> String {
    if !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        text.to_string()
    } else {
        toml_string(text)
    }
}

const NAMES: &[&str] = &["a", "b", "c", "data", "app", "x-1", "y_2"];
const ACCOUNT_IDS: &[&str] = &["111111111111", "222222222222", "333333333333"];
const REGIONS: &[&str] = &["us-east-1", "eu-west-1", "ap-northeast-1"];
const BUCKET_NAMES: &[&str] = &["acme-a", "acme-b", "acme.logs"];
const ALIASES: &[&str] = &["k1", "k2", "alias/k3", "a/b_c-d"];
const ACCESS: &[&str] = &["read", "write", "read-write"];
const PREFIXES: &[&str] = &["in/", "out/deep/", "x/"];
const ACTIONS: &[&str] = &[
    "s3:DeleteObject",
    "s3:GetObjectTagging",
    "s3:ListBucketVersions",
    "s3:GetObjectAttributes",
    "s3:GetLifecycleConfiguration",
    "s3:GetObject*",
    "s3:getobjectretention",
];
const ROLE_NAMES: &[&str] = &["app-role", "Reader+1", "x.y@z"];
const PATHS: &[&str] = &["/", "/team/", "/a/b/"];
const SERVICES: &[&str] = &[
    "ec2.amazonaws.com",
    "lambda.amazonaws.com",
    "ecs-tasks.amazonaws.com",
];
const OWNERSHIP: &[&str] = &[
    "BucketOwnerEnforced",
    "BucketOwnerPreferred",
    "ObjectWriter",
];
const ENFORCEMENT: &[&str] = &["if-present", "strict", "off"];
const ADMIN_ARNS: &[&str] = &[
    "arn:aws:iam::111111111111:role/KeyAdmin",
    "arn:aws:iam::222222222222:root",
];
const POLICY_ARNS: &[&str] = &[
    "arn:aws:iam::aws:policy/ReadOnlyAccess",
    "arn:aws:iam::111111111111:policy/team/App",
];
const IMAGES: &[&str] = &["ami-0123456789abcdef0", "/aws/service/x"];
const SUBNETS: &[&str] = &["subnet-0abc"];
const TYPES: &[&str] = &["t3.micro", "m5.large"];

struct Writer<'r> {
    rng: &'r mut Rng,
    text: String,
}

impl Writer<'_> {
    fn string(&mut self, key: &str, valid: &[&str]) {
        let value = self.rng.value(valid);
        self.text
            .push_str(&format!("{key} = {}\n", toml_string(&value)));
    }

    fn maybe_string(&mut self, percent: u64, key: &str, valid: &[&str]) {
        if self.rng.chance(percent) {
            self.string(key, valid);
        }
    }

    fn literal(&mut self, key: &str, value: &str) {
        self.text
            .push_str(&format!("{key} = {}\n", toml_string(value)));
    }

    fn maybe_free(&mut self, percent: u64, key: &str, valid: &[&str]) {
        if self.rng.chance(percent) {
            let value = self.rng.free(valid);
            self.literal(key, &value);
        }
    }

    fn maybe_bool(&mut self, key: &str) {
        if self.rng.chance(30) && !(key == "instance_profile" && self.rng.hostility == 0) {
            let value = self.rng.chance(50);
            self.text.push_str(&format!("{key} = {value}\n"));
        }
    }

    fn maybe_int(&mut self, key: &str, valid: &[i64]) {
        if self.rng.chance(30) {
            let value = if !self.rng.chance(self.rng.hostility) {
                valid[self.rng.below(valid.len())]
            } else {
                [i64::MIN, -1, 0, i64::MAX, 4_294_967_296, 3651][self.rng.below(6)]
            };
            self.text.push_str(&format!("{key} = {value}\n"));
        }
    }

    fn maybe_list(&mut self, key: &str, valid: &[&str]) {
        if self.rng.chance(25) {
            let items: Vec<String> = (0..self.rng.below(3))
                .map(|_| toml_string(&self.rng.value(valid)))
                .collect();
            self.text
                .push_str(&format!("{key} = [{}]\n", items.join(", ")));
        }
    }

    fn tags(&mut self, table: &str) {
        if self.rng.chance(30) {
            let free_hostility = self.rng.free_hostility;
            // AWS takes few characters in tags: hostile tags are mostly rejected, so they
            // come rarely in scenarios meant to validate.
            self.rng.free_hostility = free_hostility / 3;
            self.text.push_str(&format!("[{table}.tags]\n"));
            let mut seen = std::collections::BTreeSet::new();
            for _ in 0..1 + self.rng.below(3) {
                let key = self.rng.free(&["env", "team", "cost:centre", "Ключ"]);
                if !seen.insert(key.clone()) {
                    continue;
                }
                let value = self.rng.free(&["prod", "a b", "x=y", "@me", "é"]);
                self.text.push_str(&format!(
                    "{} = {}\n",
                    toml_string(&key),
                    toml_string(&value)
                ));
            }
            self.rng.free_hostility = free_hostility;
        }
    }
}

/// A random scenario, mostly well-formed TOML of crossgrant's shape. Most seeds build a
/// coherent scenario (references resolve, ids are distinct) so that validation passes and the
/// hostile free text reaches the renderers; the rest mix in hostile values everywhere.
fn scenario(seed: u64) -> String {
    let mut rng = Rng::new(seed);
    let coherent = rng.chance(70);
    rng.hostility = if coherent { 0 } else { 25 };
    rng.free_hostility = if coherent { 15 } else { 35 };
    let mut w = Writer {
        rng: &mut rng,
        text: String::new(),
    };
    w.string("name", &["demo", "shared-data", "x9"]);
    let home = w.rng.value(REGIONS);
    w.literal("region", &home);
    w.maybe_string(30, "principal_style", &["account", "role"]);
    if w.rng.chance(20) {
        w.text.push_str("[tags]\n");
        let value = w.rng.free(&["demo", "a b"]);
        w.literal("project", &value);
    }
    let account_count = if coherent {
        1 + w.rng.below(3)
    } else {
        w.rng.below(4)
    };
    let accounts: Vec<String> = (0..account_count)
        .map(|index| {
            let name = if coherent {
                ["a", "b", "c"][index].to_string()
            } else {
                w.rng.value(NAMES)
            };
            w.text
                .push_str(&format!("\n[accounts.{}]\n", toml_key(&name)));
            if coherent {
                w.literal(
                    "id",
                    &format!("{}", 111_111_111_111u64 * (index as u64 + 1)),
                );
            } else {
                w.string("id", ACCOUNT_IDS);
            }
            w.maybe_string(20, "profile", &["dev", "a.b-c_d"]);
            w.maybe_string(10, "deploy_role", &["Deployer", "Deploy+Role"]);
            name
        })
        .collect();
    let account = |rng: &mut Rng| -> String {
        if coherent && !accounts.is_empty() {
            accounts[rng.below(accounts.len())].clone()
        } else {
            rng.value(NAMES)
        }
    };
    // Keys and buckets live in the home region in coherent scenarios, one key per account.
    let mut keys: Vec<(String, String)> = Vec::new();
    let key_count = if coherent {
        1 + w.rng.below(2)
    } else {
        w.rng.below(3)
    };
    for index in 0..key_count {
        let name = if coherent {
            format!("k{index}")
        } else {
            w.rng.value(NAMES)
        };
        let owner = account(w.rng);
        w.text.push_str(&format!("\n[keys.{}]\n", toml_key(&name)));
        w.literal("account", &owner);
        if coherent {
            w.literal("alias", &format!("alias-{index}"));
        } else {
            w.string("alias", ALIASES);
            w.maybe_string(20, "region", REGIONS);
        }
        w.maybe_free(30, "description", &["Data key", "Ключ", ""]);
        w.maybe_bool("rotation");
        w.maybe_bool("via_s3_only");
        w.maybe_int("deletion_window_days", &[7, 30, 14]);
        w.maybe_list("administrators", ADMIN_ARNS);
        w.tags(&format!("keys.{}", toml_key(&name)));
        keys.push((name, owner));
    }
    let mut buckets = Vec::new();
    let bucket_count = if coherent {
        1 + w.rng.below(3)
    } else {
        w.rng.below(4)
    };
    for index in 0..bucket_count {
        let name = if coherent {
            format!("b{index}")
        } else {
            w.rng.value(NAMES)
        };
        let table = format!("buckets.{}", toml_key(&name));
        w.text.push_str(&format!("\n[{table}]\n"));
        let (owner, key) = if coherent {
            match (keys.is_empty(), w.rng.chance(95)) {
                (false, true) => {
                    let (key, owner) = keys[w.rng.below(keys.len())].clone();
                    (owner, key)
                }
                _ => (account(w.rng), "aws-managed".to_string()),
            }
        } else {
            (
                w.rng.value(NAMES),
                w.rng.value(&["a", "b", "data", "aws-managed"]),
            )
        };
        w.literal("account", &owner);
        w.literal("key", &key);
        if coherent {
            w.literal("name", &format!("acme-bucket-{index}"));
        } else {
            w.string("name", BUCKET_NAMES);
            w.maybe_string(20, "region", REGIONS);
        }
        w.maybe_bool("bucket_key");
        w.maybe_string(30, "object_ownership", OWNERSHIP);
        w.maybe_bool("require_tls");
        w.maybe_string(30, "enforce_encryption", ENFORCEMENT);
        w.maybe_bool("block_public_access");
        w.maybe_bool("versioning");
        if w.rng.chance(30) {
            w.string("access_log_bucket", &["acme-logs", "acme.central-logs"]);
            w.maybe_free(50, "access_log_prefix", &["logs/", "s3/x/", ""]);
        } else if !coherent {
            w.maybe_free(10, "access_log_prefix", &["logs/"]);
        }
        w.maybe_int("abort_incomplete_uploads_days", &[0, 1, 7, 3650]);
        w.tags(&table);
        buckets.push(name);
    }
    let mut roles = Vec::new();
    let role_count = if coherent {
        1 + w.rng.below(3)
    } else {
        w.rng.below(4)
    };
    for index in 0..role_count {
        let name = if coherent {
            format!("r{index}")
        } else {
            w.rng.value(NAMES)
        };
        let table = format!("roles.{}", toml_key(&name));
        w.text.push_str(&format!("\n[{table}]\n"));
        let owner = account(w.rng);
        w.literal("account", &owner);
        if coherent {
            w.literal("name", &format!("role-{index}"));
        } else {
            w.string("name", ROLE_NAMES);
        }
        w.maybe_free(30, "path", PATHS);
        if !coherent || w.rng.chance(30) {
            w.maybe_string(40, "service", SERVICES);
        }
        w.maybe_bool("instance_profile");
        w.maybe_list("managed_policy_arns", POLICY_ARNS);
        w.tags(&table);
        roles.push((name, owner));
    }
    let instance_count = if coherent && roles.is_empty() {
        0
    } else {
        w.rng.below(3)
    };
    for index in 0..instance_count {
        let name = if coherent {
            format!("i{index}")
        } else {
            w.rng.value(NAMES)
        };
        let table = format!("instances.{}", toml_key(&name));
        w.text.push_str(&format!("\n[{table}]\n"));
        let (role, owner) = if coherent && !roles.is_empty() {
            roles[w.rng.below(roles.len())].clone()
        } else {
            (w.rng.value(NAMES), w.rng.value(NAMES))
        };
        w.literal("account", &owner);
        w.literal("role", &role);
        w.string("instance_type", TYPES);
        w.maybe_string(30, "image", IMAGES);
        w.maybe_string(30, "subnet", SUBNETS);
        w.maybe_string(if coherent { 0 } else { 20 }, "region", REGIONS);
        w.tags(&table);
    }
    let grants = if coherent && !roles.is_empty() && !buckets.is_empty() {
        1 + w.rng.below(5)
    } else {
        w.rng.below(6)
    };
    for index in 0..grants.max(if coherent && !buckets.is_empty() {
        roles.len()
    } else {
        0
    }) {
        w.text.push_str("\n[[grants]]\n");
        if coherent && !roles.is_empty() && !buckets.is_empty() {
            // Every role gets a grant: a role granted nothing is rejected.
            let role = match roles.get(index) {
                Some(role) => role.0.clone(),
                None => roles[w.rng.below(roles.len())].0.clone(),
            };
            let bucket = buckets[w.rng.below(buckets.len())].clone();
            w.literal("role", &role);
            w.literal("bucket", &bucket);
        } else {
            w.string("role", NAMES);
            w.string("bucket", NAMES);
        }
        w.string("access", ACCESS);
        w.maybe_free(40, "prefix", PREFIXES);
        w.maybe_list("actions", ACTIONS);
    }
    if !coherent && w.rng.chance(10) {
        // A field of the wrong type or an unknown field somewhere.
        w.text.push_str(w.rng.pick(&[
            "region = 1\n",
            "surprise = true\n",
            "[buckets]\n",
            "grants = 3\n",
        ]));
    }
    w.text
}

/// An example with a few random edits: bytes replaced, inserted, deleted or duplicated.
fn mutate(seed: u64) -> String {
    let mut rng = Rng::new(seed);
    let mut bytes = EXAMPLES[rng.below(EXAMPLES.len())].as_bytes().to_vec();
    for _ in 0..1 + rng.below(8) {
        let at = rng.below(bytes.len() + 1);
        match rng.below(5) {
            0 if at < bytes.len() => bytes[at] = rng.next() as u8,
            1 => bytes
                .splice(at..at, rng.hostile().into_bytes())
                .for_each(drop),
            2 if at < bytes.len() => {
                let end = (at + rng.below(40)).min(bytes.len());
                bytes.drain(at..end);
            }
            3 => {
                let start = rng.below(bytes.len());
                let end = (start + rng.below(200)).min(bytes.len());
                let copy = bytes[start..end].to_vec();
                bytes.splice(at..at, copy).for_each(drop);
            }
            _ => bytes.insert(at.min(bytes.len()), b"\"'[]{}=#\n.\\"[rng.below(11)]),
        }
    }
    // The CLI reads files as UTF-8 and rejects anything else before parsing.
    String::from_utf8_lossy(&bytes).into_owned()
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn arbitrary_text_never_panics(text in "(?s).{0,400}") {
        run(&text);
    }

    #[test]
    fn mutated_examples_never_panic(seed in any::<u64>()) {
        run(&mutate(seed));
    }

    #[test]
    fn random_scenarios_never_panic(seed in any::<u64>()) {
        run(&scenario(seed));
    }
}

/// The structure-aware generator must reach the renderers, or the harness proves little.
#[test]
fn random_scenarios_reach_the_renderers() {
    let valid = (0..2_000u64)
        .filter(|seed| crossgrant::parse_scenario("s.toml", &scenario(*seed)).is_ok())
        .count();
    eprintln!("{valid} of 2000 random scenarios validate");
    assert!(
        valid >= 400,
        "only {valid} of 2000 random scenarios validate; the fuzzer would rarely reach lowering"
    );
}

#[test]
fn the_examples_run_through_the_pipeline() {
    for example in EXAMPLES {
        assert!(crossgrant::parse_scenario("example.toml", example).is_ok());
        run(example);
    }
}

/// Crashes the harnesses found, kept as they were found.
mod regressions {
    use super::run;

    /// A key description with a line break rendered as a block scalar at column 0 after
    /// `Description:`, which is not YAML.
    #[test]
    fn multi_line_key_description() {
        run(r#"
name = "demo"
region = "ap-northeast-1"

[accounts.a]
id = "111111111111"

[keys.k0]
account = "a"
alias = "alias-0"
description = "Ключ\nx_y1e3"

[buckets.b0]
account = "a"
key = "k0"
name = "acme-bucket-0"

[roles.r0]
account = "a"
name = "role-0"

[[grants]]
role = "r0"
bucket = "b0"
access = "read"
"#);
    }

    /// A prefix with U+2028 LINE SEPARATOR ended up in the key policy's JSON, written as a
    /// YAML literal block, where YAML readers take U+2028 for a line break.
    #[test]
    fn line_separator_in_a_prefix() {
        run(r#"
name = "x9"
region = "ap-northeast-1"

[accounts.a]
id = "111111111111"

[accounts.b]
id = "222222222222"

[keys.k0]
account = "b"
alias = "alias-0"

[buckets.b0]
account = "b"
key = "k0"
name = "acme-bucket-0"
bucket_key = false

[roles.r0]
account = "a"
name = "role-0"

[[grants]]
role = "r0"
bucket = "b0"
access = "write"
prefix = "in/\u2028{{{x}}}in/"
"#);
    }
}

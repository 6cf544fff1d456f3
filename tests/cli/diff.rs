//! `crossgrant diff` end to end: access narrowed, widened, given by a new grant, taken with a
//! removed role or moved with a prefix; policy text that changes while no decision does; the
//! exit codes of `--fail-on`; the JSON shape the README documents; SARIF valid against the
//! 2.1.0 schema and located at the grant; `--git` against a real repository, reading the
//! scenario's policy files at the revision; a markdown golden file; bad input.
//!
//! Re-bless the markdown golden file after an intended change with:
//!
//! ```sh
//! CROSSGRANT_BLESS=1 cargo test --release --test cli diff::
//! ```

use crate::common;
use serde_json::Value;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn example(name: &str) -> String {
    fs::read_to_string(common::root().join("examples").join(format!("{name}.toml"))).unwrap()
}

/// `text` with `from` replaced by `to`, which must occur.
fn edited(text: &str, from: &str, to: &str) -> String {
    assert!(text.contains(from), "the scenario holds {from:?}");
    text.replacen(from, to, 1)
}

/// A temporary directory holding `base.toml` and `head.toml`.
fn pair(base: &str, head: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("base.toml"), base).unwrap();
    fs::write(dir.path().join("head.toml"), head).unwrap();
    dir
}

/// `crossgrant diff ARGS…`, run in `dir`.
fn diff_in(dir: &Path, args: &[&str]) -> Output {
    common::command()
        .current_dir(dir)
        .arg("diff")
        .args(args)
        .output()
        .expect("the crossgrant binary runs")
}

/// `crossgrant diff base.toml head.toml EXTRA…` in `dir`.
fn diff(dir: &Path, extra: &[&str]) -> Output {
    let mut args = vec!["base.toml", "head.toml"];
    args.extend_from_slice(extra);
    diff_in(dir, &args)
}

fn code(output: &Output) -> i32 {
    output.status.code().expect("exited")
}

fn stdout(output: &Output) -> String {
    common::text(&output.stdout)
}

fn stderr(output: &Output) -> String {
    common::text(&output.stderr)
}

fn json(output: &Output) -> Value {
    serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|error| panic!("not JSON ({error}):\n{}", stdout(output)))
}

/// The (principal, bucket, operation, target) of every entry of a JSON report's `gained` or
/// `lost`.
fn rows(report: &Value, which: &str) -> Vec<(String, String, String, String)> {
    report[which]
        .as_array()
        .unwrap_or_else(|| panic!("`{which}` is an array"))
        .iter()
        .map(|entry| {
            let field = |name: &str| entry[name].as_str().unwrap_or_default().to_string();
            (
                field("principal"),
                field("bucket"),
                field("operation"),
                field("target"),
            )
        })
        .collect()
}

/// Whether the human report lists `what` as shrinking from `size` (as `1,716 → 1,683 (-33)`).
fn shrinks(text: &str, what: &str, size: &str) -> bool {
    let from = format!("  {what}: {size} → ");
    text.lines()
        .any(|line| line.starts_with(&from) && line.ends_with(')') && line.contains(" (-"))
}

fn blog_narrowed() -> (String, String) {
    let base = example("blog");
    let head = edited(&base, "access = \"read-write\"", "access = \"read\"");
    (base, head)
}

#[test]
fn narrowing_read_write_to_read_loses_the_writes_and_fails_only_on_any() {
    let (base, head) = blog_narrowed();
    let dir = pair(&base, &head);
    let output = diff(dir.path(), &[]);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let text = stdout(&output);
    assert!(
        text.contains("Access lost (12):\n  role app (arn:aws:iam::222222222222:role/app-s3-cross-account) on bucket shared\n    - PutObject  crossgrant-outside/probe.bin, probe.bin\n"),
        "{text}"
    );
    assert!(!text.contains("Access gained"), "{text}");
    assert!(!text.contains("- GetObject"), "reads stay: {text}");
    // out/ holds what the blog renders to: the base's file, as diff measures it.
    let app_access = std::fs::metadata(common::root().join("out/cloudformation/app-access.yaml"))
        .unwrap()
        .len();
    let app_access = crossgrant::limits::thousands(app_access as usize);
    for (what, size) in [
        ("bucket policy of bucket shared", "1,716"),
        ("cloudformation/app-access.yaml", app_access.as_str()),
    ] {
        assert!(
            shrinks(&text, what, size),
            "{what} shrinks from {size}: {text}"
        );
    }
    assert!(
        text.ends_with("Access changes: 0 gained, 12 lost.\n"),
        "{text}"
    );

    let broadening = diff(dir.path(), &["--fail-on", "broadening"]);
    assert_eq!(code(&broadening), 0, "losing access is no broadening");
    let any = diff(dir.path(), &["--fail-on", "any"]);
    assert_eq!(code(&any), 1, "--fail-on any fails on lost access");
    assert_eq!(stdout(&any), text, "the report is the same whatever fails");
}

#[test]
fn widening_read_to_read_write_gains_the_writes_and_fails_on_broadening() {
    let (wide, narrow) = blog_narrowed();
    let dir = pair(&narrow, &wide);
    let output = diff(dir.path(), &["--fail-on", "broadening", "--format", "json"]);
    assert_eq!(code(&output), 1, "{}", stderr(&output));
    let report = json(&output);
    let gained = rows(&report, "gained");
    assert_eq!(gained.len(), 12, "{gained:?}");
    assert!(gained.contains(&(
        "role app".into(),
        "shared".into(),
        "PutObject".into(),
        "probe.bin".into()
    )));
    assert!(rows(&report, "lost").is_empty());
    assert_eq!(code(&diff(dir.path(), &[])), 0, "no --fail-on: exit 0");
}

#[test]
fn policy_text_that_changes_no_decision_is_no_access_change() {
    // Naming the consumer role instead of its account rewrites the owner's policies and the
    // deploy order, and lets no one in or out.
    let base = example("blog");
    let head = edited(
        &base,
        "region = \"ap-northeast-1\"\n",
        "region = \"ap-northeast-1\"\nprincipal_style = \"role\"\n",
    );
    let dir = pair(&base, &head);
    let output = diff(dir.path(), &["--fail-on", "any"]);
    assert_eq!(code(&output), 0, "{}", stdout(&output));
    let text = stdout(&output);
    assert!(
        shrinks(&text, "bucket policy of bucket shared", "1,716"),
        "{text}"
    );
    assert!(
        text.contains("\n  cloudformation/app-roles.yaml: added ("),
        "the roles deploy first: {text}"
    );
    let summary = text.lines().last().unwrap();
    assert!(
        summary.starts_with("No access change (policy documents that change: 2, output files: "),
        "{text}"
    );
    let report = json(&diff(dir.path(), &["--format", "json"]));
    assert_eq!(report["access_changed"], false);
    assert_eq!(report["documents"].as_array().unwrap().len(), 2);
}

#[test]
fn consolidated_or_reordered_grants_change_no_access() {
    let base = example("multi-account");
    // The same grants in the reverse order.
    let (settings, grants) = base.split_once("[[grants]]").unwrap();
    let mut entries: Vec<String> = grants
        .split("[[grants]]")
        .map(|entry| format!("[[grants]]\n{}\n\n", entry.trim()))
        .collect();
    entries.reverse();
    let reordered = format!("{settings}{}", entries.concat());
    // One read-write grant written as a read and a write grant.
    let split = edited(
        &base,
        "role = \"transform\"\nbucket = \"curated\"\naccess = \"read-write\"\n",
        "role = \"transform\"\nbucket = \"curated\"\naccess = \"read\"\n\n[[grants]]\nrole = \"transform\"\nbucket = \"curated\"\naccess = \"write\"\n",
    );
    for head in [reordered, split] {
        let dir = pair(&base, &head);
        let output = diff(dir.path(), &["--fail-on", "any"]);
        assert_eq!(code(&output), 0, "{}", stdout(&output));
        let text = stdout(&output);
        assert!(text.contains("\nNo access change"), "{text}");
        assert!(!text.contains("Access gained") && !text.contains("Access lost"));
        assert!(!text.contains("Policy documents that change"), "{text}");
    }
    let same = pair(&base, &base);
    let output = diff(same.path(), &["--fail-on", "any"]);
    assert_eq!(code(&output), 0);
    assert!(stdout(&output)
        .ends_with("No access change, and no policy document or output file changes.\n"));
}

#[test]
fn a_new_grant_gains_access_for_its_role_only() {
    let base = example("multi-account");
    let head =
        format!("{base}\n[[grants]]\nrole = \"reader\"\nbucket = \"raw\"\naccess = \"read\"\n");
    let dir = pair(&base, &head);
    let report = json(&diff(dir.path(), &["--format", "json"]));
    let gained = rows(&report, "gained");
    assert!(!gained.is_empty());
    assert!(
        gained
            .iter()
            .all(|(principal, bucket, ..)| principal == "role reader" && bucket == "raw"),
        "{gained:?}"
    );
    for operation in ["GetObject", "GetObjectVersion", "ListBucket"] {
        assert!(
            gained.iter().any(|row| row.2 == operation),
            "{operation} gained: {gained:?}"
        );
    }
    assert!(!gained.iter().any(|row| row.2 == "PutObject"), "{gained:?}");
    assert!(rows(&report, "lost").is_empty());
}

#[test]
fn a_removed_role_loses_everything_it_had() {
    let head = example("multi-account");
    let role = "[roles.reader]\naccount = \"analytics\"\nname = \"analytics-reader\"\nservice = \"lambda.amazonaws.com\"\n";
    let grant = "[[grants]]\nrole = \"reader\"\nbucket = \"curated\"\naccess = \"read\"\nprefix = \"published/\"";
    let base = head.clone();
    let head = edited(&edited(&head, role, ""), grant, "");
    let dir = pair(&base, &head);
    let output = diff(dir.path(), &["--format", "json", "--fail-on", "broadening"]);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let report = json(&output);
    let lost = rows(&report, "lost");
    assert!(lost.contains(&(
        "role reader".into(),
        "curated".into(),
        "GetObject".into(),
        "published/probe.bin".into()
    )));
    assert!(
        lost.iter()
            .all(|(principal, ..)| principal == "role reader"),
        "{lost:?}"
    );
    assert!(rows(&report, "gained").is_empty());
    let documents = report["documents"].as_array().unwrap();
    assert!(
        documents
            .iter()
            .any(|entry| entry["kind"] == "access-policy"
                && entry["name"] == "reader"
                && entry["change"] == "removed"
                && entry["head_size"].is_null()),
        "{documents:?}"
    );
}

#[test]
fn a_moved_prefix_gains_the_new_one_and_loses_the_old_one() {
    let base = example("read-only-prefix");
    let head = edited(&base, "prefix = \"reports/\"", "prefix = \"exports/\"");
    let dir = pair(&base, &head);
    let output = diff(dir.path(), &["--fail-on", "broadening"]);
    assert_eq!(code(&output), 1);
    let text = stdout(&output);
    assert!(
        text.contains("    + GetObject  exports/probe.bin\n"),
        "{text}"
    );
    assert!(
        text.contains("    - GetObject  reports/probe.bin\n"),
        "{text}"
    );
    assert!(
        text.contains("    + ListBucket  prefix exports/\n"),
        "{text}"
    );
    assert!(
        text.contains("    - ListBucket  prefix reports/\n"),
        "{text}"
    );
}

#[test]
fn the_json_report_has_the_documented_shape() {
    let base = example("read-only-prefix");
    let head = edited(&base, "prefix = \"reports/\"", "prefix = \"exports/\"");
    let dir = pair(&base, &head);
    let report = json(&diff(dir.path(), &["--format", "json"]));
    let keys: Vec<&str> = report
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        [
            "version",
            "base",
            "head",
            "access_changed",
            "gained",
            "lost",
            "documents",
            "files"
        ]
    );
    assert_eq!(report["version"], 1);
    assert_eq!(report["base"]["path"], "base.toml");
    assert_eq!(report["head"]["scenario"], "reports");
    assert_eq!(report["access_changed"], true);
    let entry = &report["gained"][0];
    let fields: Vec<&str> = entry
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        fields,
        [
            "principal",
            "caller",
            "caller_arn",
            "bucket",
            "operation",
            "target",
            "transport",
            "base",
            "head"
        ]
    );
    assert_eq!(entry["caller"]["kind"], "role");
    assert_eq!(entry["caller"]["role"], "dashboards");
    assert_eq!(
        entry["caller_arn"],
        "arn:aws:iam::444444444444:role/dashboards-reader"
    );
    assert_eq!(entry["transport"], "https");
    assert_eq!(
        (&entry["base"], &entry["head"]),
        (&"denied".into(), &"allowed".into())
    );
    for file in report["files"].as_array().unwrap() {
        assert!(file["path"].is_string() && file["change"].is_string());
    }
    let paths: Vec<&str> = report["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|file| file["path"].as_str().unwrap())
        .collect();
    let mut sorted = paths.clone();
    sorted.sort();
    assert_eq!(paths, sorted, "files are sorted by path");
    // Runs are byte for byte the same.
    assert_eq!(
        diff(dir.path(), &["--format", "json"]).stdout,
        diff(dir.path(), &["--format", "json"]).stdout
    );
}

/// The 1-based line of the first line of `text` that is `line`, after `after`.
fn line_of(text: &str, after: &str, line: &str) -> usize {
    let start = text.find(after).unwrap();
    let before = text[..start].matches('\n').count();
    before
        + 1
        + text[start..]
            .lines()
            .position(|candidate| candidate == line)
            .unwrap()
}

fn sarif_schema() -> jsonschema::Validator {
    let mut schema: Value = serde_json::from_str(
        &fs::read_to_string(common::root().join("tests/fixtures/sarif/sarif-2.1.0-rtm.5.json"))
            .unwrap(),
    )
    .unwrap();
    // The schema's pattern for a language tag (of `run` and of `toolComponent`) has a `]`
    // outside a character class, literal in ECMAScript regular expressions but refused by the
    // validator's regex checker; escaped, it means the same.
    fn escape_language_patterns(value: &mut Value) -> usize {
        const PATTERN: &str = "^[a-zA-Z]{2}|^[a-zA-Z]{2}-[a-zA-Z]{2}]?$";
        match value {
            Value::Object(members) => members
                .iter_mut()
                .map(|(key, member)| {
                    if key == "pattern" && *member == PATTERN {
                        *member = PATTERN.replace("]?$", "\\]?$").into();
                        1
                    } else {
                        escape_language_patterns(member)
                    }
                })
                .sum(),
            Value::Array(items) => items.iter_mut().map(escape_language_patterns).sum(),
            _ => 0,
        }
    }
    assert_eq!(escape_language_patterns(&mut schema), 2);
    jsonschema::draft4::new(&schema).expect("the SARIF schema compiles")
}

#[test]
fn sarif_is_valid_and_puts_each_gained_access_at_its_grant() {
    let base = example("multi-account");
    let head =
        format!("{base}\n[[grants]]\nrole = \"reader\"\nbucket = \"raw\"\naccess = \"read\"\n");
    let dir = pair(&base, &head);
    let output = diff(
        dir.path(),
        &["--format", "sarif", "--fail-on", "broadening"],
    );
    assert_eq!(code(&output), 1);
    let log = json(&output);
    let validator = sarif_schema();
    let problems: Vec<String> = validator
        .iter_errors(&log)
        .map(|error| format!("{error} at {}", error.instance_path()))
        .collect();
    assert!(problems.is_empty(), "invalid SARIF: {problems:#?}");
    assert_eq!(log["version"], "2.1.0");
    let results = log["runs"][0]["results"].as_array().unwrap();
    let gained = json(&diff(dir.path(), &["--format", "json"]))["gained"]
        .as_array()
        .unwrap()
        .len();
    assert_eq!(results.len(), gained, "one result per gained access");
    let grant_line = line_of(
        &head,
        "role = \"reader\"\nbucket = \"raw\"",
        "role = \"reader\"",
    );
    for result in results {
        assert_eq!(result["ruleId"], "access-gained");
        let location = &result["locations"][0]["physicalLocation"];
        assert_eq!(location["artifactLocation"]["uri"], "head.toml");
        assert_eq!(location["region"]["startLine"], grant_line);
        assert_eq!(location["region"]["startColumn"], 1);
        assert!(result["message"]["text"]
            .as_str()
            .unwrap()
            .starts_with("role reader gains "));
    }
    // A broken log fails the schema: the validation is real.
    let mut broken = log.clone();
    broken["runs"][0]["results"][0]["level"] = "fatal".into();
    assert!(!validator.is_valid(&broken));
}

#[test]
fn sarif_with_nothing_gained_has_no_results_and_is_valid() {
    let (base, head) = blog_narrowed();
    let dir = pair(&base, &head);
    let log = json(&diff(dir.path(), &["--format", "sarif"]));
    assert!(sarif_schema().is_valid(&log));
    assert_eq!(log["runs"][0]["results"], Value::Array(vec![]));
}

fn git(dir: &Path, args: &[&str]) {
    let output = Command::new("git")
        .args([
            "-c",
            "user.name=crossgrant",
            "-c",
            "user.email=test@example.com",
            "-c",
            "commit.gpgsign=false",
            "-c",
            "init.defaultBranch=main",
        ])
        .args(args)
        .current_dir(dir)
        .output()
        .expect("git runs");
    assert!(output.status.success(), "git {args:?}: {}", stderr(&output));
}

/// A repository with the existing-bucket example under `scenarios/` in a first commit, and its
/// live bucket policy without the analytics role's ListBucket statement in a second one.
fn repository() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let scenarios = dir.path().join("scenarios");
    let live = scenarios.join("live/existing-bucket");
    fs::create_dir_all(&live).unwrap();
    fs::write(scenarios.join("s.toml"), example("existing-bucket")).unwrap();
    for file in ["bucket-policy.json", "key-policy.json"] {
        fs::copy(
            common::root()
                .join("examples/live/existing-bucket")
                .join(file),
            live.join(file),
        )
        .unwrap();
    }
    git(dir.path(), &["init", "-q"]);
    git(dir.path(), &["add", "."]);
    git(dir.path(), &["commit", "-q", "-m", "existing bucket"]);
    fs::write(
        live.join("bucket-policy.json"),
        r#"{"Version": "2012-10-17", "Statement": [{"Sid": "AnalyticsRead", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::333333333333:role/analytics"}, "Action": ["s3:GetObject"], "Resource": "arn:aws:s3:::acme-reports/*"}]}"#,
    )
    .unwrap();
    git(
        dir.path(),
        &["commit", "-q", "-a", "-m", "analytics no longer lists"],
    );
    dir
}

#[test]
fn git_reads_the_scenario_and_its_policy_files_at_the_revision() {
    let repo = repository();
    // The working tree is the second commit: only the live policy file differs from the first.
    let output = diff_in(
        repo.path(),
        &[
            "--git",
            "HEAD~1",
            "scenarios/s.toml",
            "--format",
            "json",
            "--fail-on",
            "any",
        ],
    );
    assert_eq!(code(&output), 1, "{}", stderr(&output));
    let report = json(&output);
    assert_eq!(report["base"]["path"], "HEAD~1:scenarios/s.toml");
    assert_eq!(report["head"]["path"], "scenarios/s.toml");
    let lost = rows(&report, "lost");
    assert!(
        lost.iter()
            .any(|(principal, bucket, operation, _)| principal
                == "arn:aws:iam::333333333333:role/analytics, named by a kept statement"
                && bucket == "reports"
                && operation == "ListBucket"),
        "the live policy file is read at HEAD~1: {lost:?}"
    );
    assert!(rows(&report, "gained").is_empty());

    // Against the commit the working tree matches, nothing changes; a change in the working
    // tree shows, and from a subdirectory too.
    let same = diff_in(
        repo.path(),
        &["--git", "HEAD", "scenarios/s.toml", "--fail-on", "any"],
    );
    assert_eq!(code(&same), 0, "{}", stdout(&same));
    assert!(stdout(&same).contains("No access change, and no policy document"));
    let scenario = repo.path().join("scenarios/s.toml");
    let text = fs::read_to_string(&scenario).unwrap();
    fs::write(
        &scenario,
        edited(&text, "access = \"write\"", "access = \"read-write\""),
    )
    .unwrap();
    let widened = diff_in(
        &repo.path().join("scenarios"),
        &[
            "--git",
            "HEAD",
            "s.toml",
            "--format",
            "sarif",
            "--fail-on",
            "broadening",
        ],
    );
    assert_eq!(code(&widened), 1, "{}", stderr(&widened));
    let log = json(&widened);
    assert!(sarif_schema().is_valid(&log));
    let result = &log["runs"][0]["results"][0];
    assert_eq!(
        result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"], "scenarios/s.toml",
        "located from the repository's top"
    );
    let grant_line = line_of(&text, "[[grants]]", "role = \"ingest\"");
    assert_eq!(
        result["locations"][0]["physicalLocation"]["region"]["startLine"],
        grant_line
    );
}

#[test]
fn git_refuses_an_unknown_revision_or_a_path_it_does_not_have() {
    let repo = repository();
    let unknown = diff_in(
        repo.path(),
        &["--git", "no-such-branch", "scenarios/s.toml"],
    );
    assert_eq!(code(&unknown), 2);
    assert!(
        stderr(&unknown).starts_with("error: git revision `no-such-branch` does not exist\n"),
        "{}",
        stderr(&unknown)
    );
    let option = diff_in(repo.path(), &["--git=--all", "scenarios/s.toml"]);
    assert_eq!(code(&option), 2);
    assert!(stderr(&option).contains("git revision `--all` does not exist"));

    fs::copy(
        repo.path().join("scenarios/s.toml"),
        repo.path().join("scenarios/new.toml"),
    )
    .unwrap();
    let missing = diff_in(repo.path(), &["--git", "HEAD", "scenarios/new.toml"]);
    assert_eq!(code(&missing), 2);
    assert!(
        stderr(&missing)
            .starts_with("error: scenarios/new.toml does not exist at git revision `HEAD`\n"),
        "{}",
        stderr(&missing)
    );

    let outside = tempfile::tempdir().unwrap();
    fs::write(outside.path().join("s.toml"), example("blog")).unwrap();
    let no_repository = diff_in(outside.path(), &["--git", "HEAD", "s.toml"]);
    assert_eq!(code(&no_repository), 2);
    assert!(stderr(&no_repository).contains("s.toml is not in a git work tree"));

    let absent = diff_in(repo.path(), &["--git", "HEAD", "scenarios/absent.toml"]);
    assert_eq!(code(&absent), 2);
    assert!(stderr(&absent).contains("cannot read scenario scenarios/absent.toml"));
}

#[test]
fn git_names_the_revision_when_the_base_is_invalid() {
    let repo = repository();
    let scenario = repo.path().join("scenarios/s.toml");
    let text = fs::read_to_string(&scenario).unwrap();
    fs::write(
        &scenario,
        edited(&text, "access = \"write\"", "access = \"wirte\""),
    )
    .unwrap();
    git(repo.path(), &["commit", "-q", "-a", "-m", "a typo"]);
    fs::write(&scenario, &text).unwrap();
    let output = diff_in(repo.path(), &["--git", "HEAD", "scenarios/s.toml"]);
    assert_eq!(code(&output), 2);
    let message = stderr(&output);
    assert!(message.contains("HEAD:scenarios/s.toml:"), "{message}");
    assert!(message.contains("wirte"), "{message}");
}

#[test]
fn an_invalid_scenario_on_either_side_is_bad_input_naming_its_file() {
    let (base, _) = blog_narrowed();
    let invalid = edited(&base, "access = \"read-write\"", "access = \"everything\"");
    for (base, head, named) in [
        (&base, &invalid, "head.toml"),
        (&invalid, &base, "base.toml"),
    ] {
        let dir = pair(base, head);
        let output = diff(dir.path(), &["--fail-on", "any"]);
        assert_eq!(code(&output), 2);
        let message = stderr(&output);
        assert!(message.contains(&format!("{named}:")), "{message}");
        assert!(message.contains("everything"), "{message}");
        assert!(stdout(&output).is_empty());
    }
    let dir = pair(&base, &base);
    let missing = diff_in(dir.path(), &["base.toml", "nowhere.toml"]);
    assert_eq!(code(&missing), 2);
    assert!(stderr(&missing).contains("cannot read scenario nowhere.toml"));
}

#[test]
fn unknown_formats_and_fail_on_values_are_usage_errors() {
    let (base, head) = blog_narrowed();
    let dir = pair(&base, &head);
    for (args, named) in [
        (&["--format", "xml"][..], "--format"),
        (&["--fail-on", "narrowing"][..], "--fail-on"),
    ] {
        let output = diff(dir.path(), args);
        assert_eq!(code(&output), 2);
        assert!(stderr(&output).contains(named), "{}", stderr(&output));
        assert!(stderr(&output).contains("possible values"));
    }
    let one = diff_in(dir.path(), &["base.toml"]);
    assert_eq!(code(&one), 2, "HEAD is needed without --git");
    let both = diff_in(dir.path(), &["--git", "HEAD", "base.toml", "head.toml"]);
    assert_eq!(code(&both), 2, "HEAD is not given with --git");
}

fn golden(name: &str) -> PathBuf {
    common::root().join("tests/fixtures/diff").join(name)
}

#[test]
fn markdown_matches_its_golden_file() {
    let base = example("multi-account");
    let head = edited(
        &format!("{base}\n[[grants]]\nrole = \"reader\"\nbucket = \"raw\"\naccess = \"read\"\nprefix = \"exports/\"\n"),
        "role = \"transform\"\nbucket = \"curated\"\naccess = \"read-write\"",
        "role = \"transform\"\nbucket = \"curated\"\naccess = \"read\"",
    );
    let dir = pair(&base, &head);
    let output = diff(dir.path(), &["--format", "markdown"]);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let rendered = stdout(&output);
    let path = golden("widened-and-narrowed.md");
    if std::env::var_os("CROSSGRANT_BLESS").is_some() {
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(&path, &rendered).unwrap();
    }
    let expected = fs::read_to_string(&path).unwrap_or_default();
    assert!(
        expected == rendered,
        "{} differs from the rendered markdown (re-bless with CROSSGRANT_BLESS=1 cargo test --release --test cli diff::):\n{}",
        path.display(),
        similar::TextDiff::from_lines(&expected, &rendered).unified_diff()
    );
    assert!(rendered.contains("#### Access gained"));
    assert!(rendered.contains("#### Access lost"));
}

//! Deploying on top of resources that exist already. Another team's bucket, key and role are
//! made in the emulator with the aws CLI first: the key with a key policy of its own that lets
//! an analytics role of an unrelated account decrypt through S3, the bucket encrypted with that
//! key by default and with a bucket policy that lets the same role read, and a role under
//! `/etl/` with an instance profile and an inline policy of its own. Their live policies are
//! captured with the aws CLI into the files the scenario names (`policy_file`), the scenario
//! marks them `existing = true` and adds a consumer role of another account, and crossgrant's
//! output is deployed on top with either target.
//!
//! Then the consumers' round trip works as in the other deploy cases, the live policies are the
//! documents crossgrant merged, they hold every captured statement as written, and crossgrant's
//! evaluator, given the live documents, allows the analytics role exactly what the captured ones
//! allowed it. The existing role gets its access policy and nothing else.
//!
//! The tests share one emulator and never reset it: each works in accounts and a bucket of its
//! own.

use super::{
    args, describe, ok, parse_embedded, template_json, terraform, terraform_plugin_args,
    write_provider_override, Deployed, Example, Report, Target, Template,
};
use crate::common::moto::{ApiCall, Moto, Profile, Profiles};
use crate::common::{self, text};
use crossgrant::eval::{
    evaluate, parse_policy_json, Caller, Context, NamedPolicy, PolicySet, Reason, Request, Verdict,
};
use crossgrant::policy::{PolicyDocument, Statement, Value};
use serde_json::{json, Value as Json};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Output;

const REGION: &str = "eu-west-1";
const KEY: &str = "data";
const BUCKET: &str = "reports";
const NEW_ROLE: &str = "ingest";
const EXISTING_ROLE: &str = "etl";
const EXISTING_ROLE_NAME: &str = "etl-runner";
const EXISTING_ROLE_PATH: &str = "/etl/";
const EXISTING_PROFILE: &str = "etl-runner-profile";
const TEAM_POLICY: &str = "etl-team-logs";

/// The accounts and names one test works with; `case` keeps them apart from other tests'.
struct Names {
    scenario: &'static str,
    data: String,
    app: String,
    etl: String,
    /// The unrelated account of the analytics role that the live policies let in.
    analytics: String,
    bucket: String,
}

impl Names {
    fn new(scenario: &'static str, case: u8) -> Names {
        Names {
            scenario,
            data: format!("1111111111{case:02}"),
            app: format!("2222222222{case:02}"),
            etl: format!("4444444444{case:02}"),
            analytics: format!("3333333333{case:02}"),
            bucket: format!("acme-reports-{scenario}"),
        }
    }

    fn profiles(&self) -> Vec<Profile> {
        [("data", &self.data), ("app", &self.app), ("etl", &self.etl)]
            .into_iter()
            .map(|(name, id)| Profile {
                name: name.to_string(),
                account_id: id.clone(),
                region: REGION.to_string(),
            })
            .collect()
    }

    fn analytics_role(&self) -> String {
        format!("arn:aws:iam::{}:role/analytics", self.analytics)
    }

    fn bucket_arn(&self) -> String {
        format!("arn:aws:s3:::{}", self.bucket)
    }

    /// The key policy the other team wrote: the account root, and the analytics role may
    /// decrypt through S3.
    fn key_policy(&self) -> Json {
        json!({
            "Version": "2012-10-17",
            "Id": "key-consolepolicy-3",
            "Statement": [
                {
                    "Sid": "Enable IAM User Permissions",
                    "Effect": "Allow",
                    "Principal": { "AWS": format!("arn:aws:iam::{}:root", self.data) },
                    "Action": "kms:*",
                    "Resource": "*"
                },
                {
                    "Sid": "AnalyticsDecrypt",
                    "Effect": "Allow",
                    "Principal": { "AWS": self.analytics_role() },
                    "Action": "kms:Decrypt",
                    "Resource": "*",
                    "Condition": {
                        "StringEquals": { "kms:ViaService": format!("s3.{REGION}.amazonaws.com") }
                    }
                }
            ]
        })
    }

    /// The bucket policy the other team wrote: the analytics role may read and list.
    fn bucket_policy(&self) -> Json {
        json!({
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "AnalyticsRead",
                    "Effect": "Allow",
                    "Principal": { "AWS": self.analytics_role() },
                    "Action": ["s3:GetObject"],
                    "Resource": format!("{}/*", self.bucket_arn())
                },
                {
                    "Sid": "AnalyticsList",
                    "Effect": "Allow",
                    "Principal": { "AWS": self.analytics_role() },
                    "Action": "s3:ListBucket",
                    "Resource": self.bucket_arn()
                }
            ]
        })
    }

    /// The scenario: the existing key and bucket of account `data`, a new consumer role of
    /// account `app` that reads and writes under `incoming/`, and the existing role of account
    /// `etl` that reads under `curated/`.
    fn scenario(&self, key_arn: &str) -> String {
        format!(
            r#"name = "{scenario}"
region = "{REGION}"

[accounts.data]
id = "{data}"

[accounts.app]
id = "{app}"

[accounts.etl]
id = "{etl}"

[keys.{KEY}]
account = "data"
existing = true
arn = "{key_arn}"
policy_file = "live/key-policy.json"

[buckets.{BUCKET}]
account = "data"
name = "{bucket}"
key = "{KEY}"
existing = true
bucket_key = true
policy_file = "live/bucket-policy.json"

[roles.{NEW_ROLE}]
account = "app"
name = "reports-ingest"

[roles.{EXISTING_ROLE}]
account = "etl"
name = "{EXISTING_ROLE_NAME}"
path = "{EXISTING_ROLE_PATH}"
existing = true

[[grants]]
role = "{NEW_ROLE}"
bucket = "{BUCKET}"
access = "read-write"
prefix = "incoming/"

[[grants]]
role = "{EXISTING_ROLE}"
bucket = "{BUCKET}"
access = "read"
prefix = "curated/"
"#,
            scenario = self.scenario,
            data = self.data,
            app = self.app,
            etl = self.etl,
            bucket = self.bucket,
        )
    }
}

/// What the other team made, and where its live policies were captured.
struct Made {
    names: Names,
    profiles: Profiles,
    key_arn: String,
    /// The scenario file, with `live/` beside it.
    dir: tempfile::TempDir,
    /// The existing role's settings before crossgrant deployed anything.
    role_before: RoleState,
}

impl Made {
    fn scenario_path(&self) -> PathBuf {
        self.dir.path().join("scenario.toml")
    }

    fn captured(&self, file: &str) -> PathBuf {
        self.dir.path().join("live").join(file)
    }

    fn aws(&self, items: &[&str]) -> Json {
        ok(self.profiles.json(items))
    }

    /// The live policies, as the aws CLI prints them, into the files the scenario names.
    fn capture(&self) {
        let live = self.dir.path().join("live");
        std::fs::create_dir_all(&live).expect("live policy directory");
        let bucket = self.names.bucket.as_str();
        let captures: [(&str, Vec<&str>); 2] = [
            (
                "bucket-policy.json",
                vec!["s3api", "get-bucket-policy", "--bucket", bucket],
            ),
            (
                "key-policy.json",
                vec![
                    "kms",
                    "get-key-policy",
                    "--key-id",
                    &self.key_arn,
                    "--policy-name",
                    "default",
                ],
            ),
        ];
        for (file, command) in captures {
            let output = self
                .profiles
                .command("aws")
                .args(&command)
                .args(["--profile", "data", "--region", REGION, "--output", "json"])
                .output()
                .expect("the aws CLI runs");
            assert!(output.status.success(), "{}", describe(&output));
            std::fs::write(live.join(file), &output.stdout).expect("captured policy");
        }
        std::fs::write(self.scenario_path(), self.names.scenario(&self.key_arn))
            .expect("scenario file");
    }

    fn put_key_policy(&self, policy: &Json) {
        self.aws(&[
            "kms",
            "put-key-policy",
            "--key-id",
            &self.key_arn,
            "--policy-name",
            "default",
            "--policy",
            &policy.to_string(),
            "--profile",
            "data",
            "--region",
            REGION,
        ]);
    }

    fn live_key_policy(&self) -> Json {
        let got = self.aws(&[
            "kms",
            "get-key-policy",
            "--key-id",
            &self.key_arn,
            "--policy-name",
            "default",
            "--profile",
            "data",
            "--region",
            REGION,
        ]);
        parse_embedded(&got["Policy"])
    }

    fn live_bucket_policy(&self) -> Json {
        let got = self.aws(&[
            "s3api",
            "get-bucket-policy",
            "--bucket",
            &self.names.bucket,
            "--profile",
            "data",
            "--region",
            REGION,
        ]);
        parse_embedded(&got["Policy"])
    }

    fn role_state(&self) -> RoleState {
        read_role_state(&self.profiles)
    }
}

/// Makes the other team's resources with the aws CLI, captures their policies and writes the
/// scenario.
fn make_existing(moto: &Moto, names: Names) -> Made {
    let profiles = Profiles::issue(moto, &names.profiles());
    let in_data = |items: &[&str]| {
        let mut call = args(items);
        call.extend(args(&["--profile", "data", "--region", REGION]));
        call
    };
    let in_etl = |items: &[&str]| {
        let mut call = args(items);
        call.extend(args(&["--profile", "etl"]));
        call
    };
    let trust = json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": { "Service": "ec2.amazonaws.com" },
            "Action": "sts:AssumeRole"
        }]
    })
    .to_string();
    let first = profiles.json_all(&[
        in_data(&[
            "kms",
            "create-key",
            "--description",
            "another team's key",
            "--policy",
            &names.key_policy().to_string(),
        ]),
        in_data(&[
            "s3api",
            "create-bucket",
            "--bucket",
            &names.bucket,
            "--create-bucket-configuration",
            &format!("LocationConstraint={REGION}"),
        ]),
        in_etl(&[
            "iam",
            "create-role",
            "--role-name",
            EXISTING_ROLE_NAME,
            "--path",
            EXISTING_ROLE_PATH,
            "--assume-role-policy-document",
            &trust,
        ]),
        in_etl(&[
            "iam",
            "create-instance-profile",
            "--instance-profile-name",
            EXISTING_PROFILE,
            "--path",
            EXISTING_ROLE_PATH,
        ]),
    ]);
    let mut first = first.into_iter().map(ok);
    let key = first.next().expect("create-key result");
    let key_arn = key["KeyMetadata"]["Arn"]
        .as_str()
        .expect("create-key returns the key's ARN")
        .to_string();
    let encryption = json!({ "Rules": [{
        "ApplyServerSideEncryptionByDefault": { "SSEAlgorithm": "aws:kms", "KMSMasterKeyID": key_arn },
        "BucketKeyEnabled": true,
    }]})
    .to_string();
    let team_policy = json!({
        "Version": "2012-10-17",
        "Statement": [{ "Effect": "Allow", "Action": "logs:PutLogEvents", "Resource": "*" }]
    })
    .to_string();
    for result in profiles.json_all(&[
        in_data(&[
            "s3api",
            "put-bucket-encryption",
            "--bucket",
            &names.bucket,
            "--server-side-encryption-configuration",
            &encryption,
        ]),
        in_data(&[
            "s3api",
            "put-bucket-policy",
            "--bucket",
            &names.bucket,
            "--policy",
            &names.bucket_policy().to_string(),
        ]),
        in_etl(&[
            "iam",
            "add-role-to-instance-profile",
            "--instance-profile-name",
            EXISTING_PROFILE,
            "--role-name",
            EXISTING_ROLE_NAME,
        ]),
        in_etl(&[
            "iam",
            "put-role-policy",
            "--role-name",
            EXISTING_ROLE_NAME,
            "--policy-name",
            TEAM_POLICY,
            "--policy-document",
            &team_policy,
        ]),
    ]) {
        ok(result);
    }
    let role_before = read_role_state(&profiles);
    assert_eq!(
        role_before.instance_profiles,
        json!([EXISTING_PROFILE]),
        "the existing role's instance profile"
    );
    let made = Made {
        names,
        profiles,
        key_arn,
        dir: tempfile::tempdir().expect("scenario directory"),
        role_before,
    };
    made.capture();
    made
}

/// What IAM says about the existing role, apart from crossgrant's access policy.
#[derive(Clone, Debug, PartialEq)]
struct RoleState {
    arn: Json,
    trust: Json,
    instance_profiles: Json,
    inline_policies: Json,
    managed_policies: Json,
}

fn read_role_state(profiles: &Profiles) -> RoleState {
    let role = ["--role-name", EXISTING_ROLE_NAME, "--profile", "etl"];
    let calls: Vec<Vec<String>> = [
        "get-role",
        "list-instance-profiles-for-role",
        "list-role-policies",
        "list-attached-role-policies",
    ]
    .iter()
    .map(|command| {
        let mut call = args(&["iam", command]);
        call.extend(args(&role));
        call
    })
    .collect();
    let mut results = profiles.json_all(&calls).into_iter().map(ok);
    let mut next = || results.next().expect("one result per call");
    let role = next();
    let profiles = next();
    let inline = next();
    let managed = next();
    RoleState {
        arn: role["Role"]["Arn"].clone(),
        trust: parse_embedded(&role["Role"]["AssumeRolePolicyDocument"]),
        instance_profiles: json!(profiles["InstanceProfiles"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|profile| profile["InstanceProfileName"].clone())
            .collect::<Vec<_>>()),
        // Sorted: the emulator lists them in the order they were put, IAM by name.
        inline_policies: {
            let mut names: Vec<Json> = inline["PolicyNames"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            names.sort_by_key(|name| name.as_str().unwrap_or_default().to_string());
            json!(names)
        },
        managed_policies: {
            let mut names: Vec<Json> = managed["AttachedPolicies"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|policy| policy["PolicyName"].clone())
                .collect();
            names.sort_by_key(|name| name.as_str().unwrap_or_default().to_string());
            json!(names)
        },
    }
}

/// The scenario as the library reads it, rendered for `target` by the real binary.
fn synth(made: &Made, target: &str) -> Example {
    let path = made.scenario_path();
    let scenario = crossgrant::load_scenario(&path)
        .unwrap_or_else(|error| panic!("{}: {}", path.display(), error.render()));
    let lowered = crossgrant::lower::lower(scenario);
    let steps = crossgrant::plan::plan(&lowered)
        .unwrap_or_else(|cycle| panic!("cycle {:?}", cycle.members));
    let out = tempfile::tempdir().expect("output directory");
    resynth(made, out.path(), target);
    Example {
        name: made.names.scenario,
        lowered,
        steps,
        out,
    }
}

fn resynth(made: &Made, out: &Path, target: &str) {
    let output = common::command()
        .arg("synth")
        .arg(made.scenario_path())
        .arg("--out")
        .arg(out)
        .args(["--target", target])
        .output()
        .expect("crossgrant runs");
    assert!(
        output.status.success(),
        "synth failed\n{}",
        describe(&output)
    );
}

fn deploy_sh(made: &Made, example: &Example) -> Output {
    let script = example.out.path().join("cloudformation/deploy.sh");
    made.profiles
        .command("bash")
        .arg(script)
        .output()
        .expect("bash runs deploy.sh")
}

fn deployed<'a>(
    example: &'a Example,
    made: &Made,
    target: Target,
    templates: Vec<Template>,
) -> Deployed<'a> {
    // A second set of the same credentials: the deployed value owns its profiles and adds the
    // consumers' sessions to them.
    let profiles = made.profiles.fork();
    Deployed {
        example,
        target,
        profiles,
        key_arns: BTreeMap::from([(KEY.to_string(), made.key_arn.clone())]),
        templates,
        policies: tempfile::tempdir().expect("policy directory"),
    }
}

// ---------------------------------------------------------------------------------------------
// What must hold after either target deployed

/// Everything both targets must achieve, in the order it can be seen: the live documents first
/// (the emulator's copy of the bucket policy is relaxed afterwards for the round trip).
fn verify(made: &Made, deployed: &mut Deployed, report: &mut Report) {
    let what = format!("{} ({})", made.names.scenario, deployed.target.as_str());
    report.time(format!("{what}: policies fetched with the AWS CLI"), |_| {
        deployed.fetch_policies()
    });
    report.time(format!("{what}: kept statements and kept access"), |_| {
        check_kept(made, deployed)
    });
    report.time(
        format!("{what}: crossgrant explain on the fetched policies"),
        |_| deployed.explain_grants(),
    );
    report.time(format!("{what}: the existing role"), |_| {
        check_existing_role(made, deployed)
    });
    report.time(format!("{what}: emulator guardrail probe"), |report| {
        deployed.relax_guardrails_for_emulator(report)
    });
    report.time(format!("{what}: objects as the consumer roles"), |_| {
        deployed.use_grants()
    });
}

/// The statements of a policy as JSON, in order.
fn statements(document: &Json) -> Vec<Json> {
    match &document["Statement"] {
        Json::Array(items) => items.clone(),
        single => vec![single.clone()],
    }
}

/// The captured policy (the document inside what the aws CLI printed).
fn captured_document(path: &Path) -> Json {
    let printed: Json =
        serde_json::from_str(&std::fs::read_to_string(path).expect("captured policy"))
            .expect("captured policy is JSON");
    parse_embedded(&printed["Policy"])
}

fn policy_document(json: &Json, what: &str) -> PolicyDocument {
    parse_policy_json(&json.to_string()).unwrap_or_else(|problem| panic!("{what}: {problem}"))
}

/// The live bucket and key policies begin with every captured statement exactly as captured,
/// in order, and everything after them is crossgrant's own; and crossgrant's evaluator allows
/// the analytics role, which only the captured statements name, exactly what the captured
/// documents allowed it.
fn check_kept(made: &Made, deployed: &Deployed) {
    let read = |file: String| {
        let text =
            std::fs::read_to_string(deployed.policies.path().join(file)).expect("fetched policy");
        parse_embedded(&serde_json::from_str::<Json>(&text).expect("JSON")["Policy"])
    };
    let live_bucket = read(super::bucket_policy_file(BUCKET));
    let live_key = read(super::key_policy_file(KEY));
    let captured_bucket = captured_document(&made.captured("bucket-policy.json"));
    let captured_key = captured_document(&made.captured("key-policy.json"));
    for (what, live, captured) in [
        ("bucket policy", &live_bucket, &captured_bucket),
        ("key policy", &live_key, &captured_key),
    ] {
        let (live, captured) = (statements(live), statements(captured));
        assert!(
            live.len() > captured.len(),
            "{}: the live {what} has no statement of crossgrant's: {live:#?}",
            deployed.context(what)
        );
        assert_eq!(
            live[..captured.len()],
            captured[..],
            "{}: the live {what} does not begin with the captured statements as written",
            deployed.context(what)
        );
        for statement in &live[captured.len()..] {
            let sid = statement["Sid"].as_str().unwrap_or_default();
            assert!(
                sid.starts_with("Crossgrant"),
                "{}: statement {statement} after the kept ones is not crossgrant's",
                deployed.context(what)
            );
        }
    }

    let names = &made.names;
    let before = Documents {
        bucket: policy_document(&captured_bucket, "captured bucket policy"),
        key: policy_document(&captured_key, "captured key policy"),
    };
    let after = Documents {
        bucket: policy_document(&live_bucket, "live bucket policy"),
        key: policy_document(&live_key, "live key policy"),
    };
    let caller = Caller::role(names.analytics_role()).expect("role ARN");
    let over_tls = kept_requests(names, &made.key_arn, &caller, true);
    let was: BTreeMap<String, Verdict> = before.decide(&over_tls);
    let is: BTreeMap<String, Verdict> = after.decide(&over_tls);
    // Not vacuous: the captured documents do let the role read and list, and nothing else.
    let allowed = |verdicts: &BTreeMap<String, Verdict>| -> BTreeSet<String> {
        verdicts
            .iter()
            .filter(|(_, verdict)| verdict.is_allowed())
            .map(|(label, _)| label.clone())
            .collect()
    };
    assert_eq!(
        allowed(&was),
        BTreeSet::from(
            [
                "GetObject curated/report.csv",
                "GetObject incoming/report.csv",
                "GetObject report.csv",
                "ListBucket (whole bucket)",
                "ListBucket curated/",
                "kms:Decrypt via S3",
            ]
            .map(String::from)
        ),
        "what the captured documents allow the analytics role"
    );
    let changed: Vec<String> = was
        .iter()
        .filter(|(label, verdict)| is[*label].is_allowed() != verdict.is_allowed())
        .map(|(label, verdict)| format!("{label}: {verdict:?} before, {:?} now", is[label]))
        .collect();
    assert!(
        changed.is_empty(),
        "{}: the analytics role's access changed:\n{}",
        deployed.context("kept access"),
        changed.join("\n")
    );
    // Over plain HTTP the role now meets crossgrant's TLS guardrail, and only that.
    for (label, request, layer) in kept_requests(names, &made.key_arn, &caller, false) {
        if layer == Governs::Key {
            continue;
        }
        let decision = after.evaluate(&request, layer, &label);
        let denied_by: Vec<String> = decision
            .reasons
            .iter()
            .filter_map(|reason| match reason {
                Reason::DeniedBy { statement, .. } => statement.sid.clone(),
                _ => None,
            })
            .collect();
        assert!(
            decision.verdict == Verdict::ExplicitlyDenied
                && denied_by == ["CrossgrantDenyInsecureTransport"],
            "{}: {label} over plain HTTP: {:?} by {denied_by:?}",
            deployed.context("kept access"),
            decision.verdict
        );
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Governs {
    Bucket,
    Key,
}

struct Documents {
    bucket: PolicyDocument,
    key: PolicyDocument,
}

impl Documents {
    /// The caller is allowed everything by its own account's IAM, so only these documents
    /// stand in its way.
    fn evaluate(
        &self,
        request: &Request,
        layer: Governs,
        label: &str,
    ) -> crossgrant::eval::Decision {
        let everything = PolicyDocument::new(vec![Statement::allow("Everything")
            .actions(["*"])
            .resources([Value::lit("*")])]);
        let resource = match layer {
            Governs::Bucket => &self.bucket,
            Governs::Key => &self.key,
        };
        let policies = PolicySet {
            identity: vec![NamedPolicy {
                name: "the analytics role's own policy",
                document: &everything,
            }],
            resource: Some(NamedPolicy {
                name: "resource policy",
                document: resource,
            }),
            ..PolicySet::default()
        };
        evaluate(request, &policies).unwrap_or_else(|error| panic!("{label}: {error:?}"))
    }

    fn decide(&self, requests: &[(String, Request, Governs)]) -> BTreeMap<String, Verdict> {
        requests
            .iter()
            .map(|(label, request, layer)| {
                (label.clone(), self.evaluate(request, *layer, label).verdict)
            })
            .collect()
    }
}

/// What the analytics role might try on the bucket, with the context AWS attaches: reading,
/// writing and deleting objects inside and outside the new grants' prefixes, listing, changing
/// the bucket policy, and the KMS calls S3 makes for it (and one made directly).
fn kept_requests(
    names: &Names,
    key_arn: &str,
    caller: &Caller,
    tls: bool,
) -> Vec<(String, Request, Governs)> {
    let s3 = |label: String, action: &str, object: Option<&str>, prefix: Option<&str>| {
        let mut context = Context::of_caller(caller, tls);
        if let Some(prefix) = prefix {
            context.set("s3:prefix", prefix);
        }
        let request = Request {
            caller: caller.clone(),
            action: action.to_string(),
            resource: crossgrant::aws::s3_arn(
                crossgrant::aws::Partition::Aws,
                &names.bucket,
                object,
            ),
            resource_account: names.data.clone(),
            context,
        };
        (label, request, Governs::Bucket)
    };
    let kms = |label: &str, action: &str, via_s3: bool| {
        let mut context = Context::of_caller(caller, true);
        context.add_kms_caller(caller);
        if via_s3 {
            // With an S3 Bucket Key, S3 names the bucket in the encryption context.
            context.add_s3_call(REGION, names.bucket_arn());
        }
        let request = Request {
            caller: caller.clone(),
            action: action.to_string(),
            resource: key_arn.to_string(),
            resource_account: names.data.clone(),
            context,
        };
        (label.to_string(), request, Governs::Key)
    };
    let mut out = Vec::new();
    for object in ["curated/report.csv", "incoming/report.csv", "report.csv"] {
        for action in ["GetObject", "PutObject", "DeleteObject"] {
            out.push(s3(
                format!("{action} {object}"),
                &format!("s3:{action}"),
                Some(object),
                None,
            ));
        }
    }
    out.push(s3(
        "ListBucket (whole bucket)".into(),
        "s3:ListBucket",
        None,
        None,
    ));
    out.push(s3(
        "ListBucket curated/".into(),
        "s3:ListBucket",
        None,
        Some("curated/"),
    ));
    out.push(s3(
        "PutBucketPolicy".into(),
        "s3:PutBucketPolicy",
        None,
        None,
    ));
    if tls {
        out.push(kms("kms:Decrypt via S3", "kms:Decrypt", true));
        out.push(kms(
            "kms:GenerateDataKey via S3",
            "kms:GenerateDataKey",
            true,
        ));
        out.push(kms("kms:Decrypt called directly", "kms:Decrypt", false));
    }
    out
}

/// The existing role has crossgrant's managed access policy attached beside its own, and
/// everything else IAM knows of it is as the other team left it: no instance profile, trust,
/// inline or other managed policy was added or changed.
fn check_existing_role(made: &Made, deployed: &Deployed) {
    let policy_name = crossgrant::names::managed_policy_name(made.names.scenario, EXISTING_ROLE, 1);
    let now = made.role_state();
    let mut expected_managed: Vec<Json> = made
        .role_before
        .managed_policies
        .as_array()
        .cloned()
        .unwrap_or_default();
    expected_managed.push(json!(policy_name));
    expected_managed.sort_by_key(|name| name.as_str().unwrap_or_default().to_string());
    let expected = RoleState {
        managed_policies: json!(expected_managed),
        ..made.role_before.clone()
    };
    assert_eq!(
        now,
        expected,
        "{}",
        deployed.context("the existing role after deploy")
    );
    // fetch_policies compared the access policy with the lowered one; it is the one that was
    // fetched by the role's name.
    assert!(
        deployed
            .policies
            .path()
            .join(&super::access_parts(&deployed.example.lowered, EXISTING_ROLE)[0].file)
            .is_file(),
        "{}",
        deployed.context("the existing role's access policy was not fetched")
    );
}

// ---------------------------------------------------------------------------------------------
// CloudFormation

/// The templates create nothing for what exists already: no key, no bucket, and for the
/// existing role no role or instance profile, only its access policy, attached by name.
fn check_templates_create_nothing_existing(templates: &[Template], names: &Names) {
    for template in templates {
        for kind in ["AWS::KMS::Key", "AWS::S3::Bucket"] {
            assert_eq!(
                template.of_type(kind).count(),
                0,
                "{} creates an {kind}",
                template.stem
            );
        }
        for (name, body) in template.of_type("AWS::IAM::Role") {
            assert_ne!(
                body["Properties"]["RoleName"].as_str(),
                Some(EXISTING_ROLE_NAME),
                "{}: {name} creates the existing role",
                template.stem
            );
        }
        for (name, body) in template.of_type("AWS::IAM::InstanceProfile") {
            let roles = template_json(&body["Properties"]["Roles"], template, &BTreeMap::new());
            assert!(
                !roles.to_string().contains(EXISTING_ROLE_NAME),
                "{}: {name} makes an instance profile for the existing role",
                template.stem
            );
        }
    }
    let etl = templates
        .iter()
        .find(|template| template.stem.starts_with("etl-"))
        .expect("a stack of account etl");
    let kinds: Vec<&str> = etl
        .resources()
        .filter_map(|(_, body)| body["Type"].as_str())
        .collect();
    assert_eq!(
        kinds,
        ["AWS::IAM::ManagedPolicy"],
        "{}: the stack of the existing role's account ({})",
        etl.stem,
        names.etl
    );
    let (_, policy) = etl
        .of_type("AWS::IAM::ManagedPolicy")
        .next()
        .expect("policy");
    assert_eq!(
        template_json(&policy["Properties"]["Roles"], etl, &BTreeMap::new()),
        json!([EXISTING_ROLE_NAME]),
        "{}: the access policy is attached to the existing role by name",
        etl.stem
    );
}

/// The emulator's CloudFormation skips `AWS::S3::BucketPolicy` (it says so only in its log):
/// the live bucket policy is still the captured one. Covered as the other deploy cases cover
/// it: the template's document, which must be the lowered one, is put with the S3 API.
fn cover_bucket_policy(made: &Made, deployed: &Deployed, moto: &Moto, report: &mut Report) {
    let bucket = &deployed.scenario().buckets[BUCKET];
    let expected = deployed.expected(&deployed.example.lowered.bucket_policies[BUCKET]);
    let declared = deployed
        .templates
        .iter()
        .find_map(|template| {
            template
                .of_type("AWS::S3::BucketPolicy")
                .find_map(|(_, body)| {
                    (body["Properties"]["Bucket"].as_str() == Some(bucket.bucket_name.as_str()))
                        .then(|| {
                            template_json(
                                &body["Properties"]["PolicyDocument"],
                                template,
                                &BTreeMap::new(),
                            )
                        })
                })
        })
        .expect("a template declares the existing bucket's policy");
    assert_eq!(
        declared,
        expected,
        "{}",
        deployed.context("the template's bucket policy is the lowered one")
    );
    let live = made.live_bucket_policy();
    if live == expected {
        return;
    }
    assert!(
        live == captured_document(&made.captured("bucket-policy.json"))
            && moto.log_contains("No Moto CloudFormation support"),
        "{}: the live bucket policy is neither crossgrant's nor the captured one: {live:#}",
        deployed.context("bucket policy")
    );
    report.gap(
        "CloudFormation AWS::S3::BucketPolicy is skipped by the emulator; the policy of the \
         existing bucket is put with `aws s3api put-bucket-policy` from the template"
            .to_string(),
    );
    made.aws(&[
        "s3api",
        "put-bucket-policy",
        "--bucket",
        &bucket.bucket_name,
        "--policy",
        &declared.to_string(),
        "--profile",
        "data",
        "--region",
        REGION,
    ]);
}

fn stack_statuses(made: &Made, example: &Example) -> Vec<(String, Result<Json, String>)> {
    let calls: Vec<ApiCall> = example
        .steps
        .iter()
        .map(|step| {
            ApiCall::new(
                example.profile(&step.id.account),
                &step.id.region,
                "cloudformation",
                "describe_stacks",
                json!({ "StackName": step.stack_name }),
            )
        })
        .collect();
    example
        .steps
        .iter()
        .zip(made.profiles.api(&calls))
        .map(|(step, result)| {
            (
                step.stack_name.clone(),
                result
                    .map(|got| got["Stacks"][0]["StackStatus"].clone())
                    .map_err(|error| error.code),
            )
        })
        .collect()
}

/// Existing bucket, key and role with CloudFormation: deploy.sh applies the merged key policy
/// after checking the live one against the capture, deploys the stacks, and a second run
/// changes nothing.
#[test]
fn existing_resources_deploy_with_cloudformation_and_keep_live_access() {
    let moto = Moto::shared();
    let mut report = Report::default();
    let made = report.time(
        "existing (cloudformation): made with the aws CLI".into(),
        |_| make_existing(&moto, Names::new("existing-cfn", 1)),
    );
    let example = synth(&made, "cloudformation");
    let dir = example.out.path().join("cloudformation");
    let templates = super::read_templates(&dir, &example.steps);
    check_templates_create_nothing_existing(&templates, &made.names);

    let first = report.time("existing (cloudformation): deploy.sh".into(), |_| {
        deploy_sh(&made, &example)
    });
    assert!(
        first.status.success(),
        "deploy.sh failed\n{}\n{}",
        describe(&first),
        moto.log_tail(30)
    );
    assert!(
        text(&first.stdout).contains(&format!("key policy of {}: applied", made.key_arn)),
        "deploy.sh did not apply the key policy\n{}",
        describe(&first)
    );
    let second = report.time("existing (cloudformation): deploy.sh again".into(), |_| {
        deploy_sh(&made, &example)
    });
    assert!(
        second.status.success(),
        "the second run of deploy.sh failed\n{}",
        describe(&second)
    );
    let second_out = text(&second.stdout);
    let key_unchanged = format!("key policy of {}: no changes", made.key_arn);
    assert!(
        second_out.contains(&key_unchanged),
        "the second run of deploy.sh does not say `{key_unchanged}`\n{}",
        describe(&second)
    );
    for step in &example.steps {
        // deploy.sh's own line, or the aws CLI's when the emulator reports an empty change set
        // as success.
        let unchanged = [
            format!("{}: no changes", step.stack_name),
            format!("Stack {} is up to date", step.stack_name),
        ];
        assert!(
            unchanged
                .iter()
                .any(|line| second_out.contains(line.as_str())),
            "the second run of deploy.sh changed stack {}\n{}",
            step.stack_name,
            describe(&second)
        );
    }
    for (stack, status) in stack_statuses(&made, &example) {
        assert_eq!(status, Ok(json!("CREATE_COMPLETE")), "stack {stack}");
    }
    let etl_stack = example
        .steps
        .iter()
        .find(|step| step.id.account == "etl")
        .expect("a stack of account etl");
    let resources = made.aws(&[
        "cloudformation",
        "describe-stack-resources",
        "--stack-name",
        &etl_stack.stack_name,
        "--profile",
        "etl",
        "--region",
        REGION,
    ]);
    let types: Vec<Json> = resources["StackResources"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|resource| resource["ResourceType"].clone())
        .collect();
    assert_eq!(
        types,
        [json!("AWS::IAM::ManagedPolicy")],
        "what the stack of the existing role's account holds"
    );

    let mut deployed = deployed(&example, &made, Target::CloudFormation, templates);
    cover_bucket_policy(&made, &deployed, &moto, &mut report);
    verify(&made, &mut deployed, &mut report);
}

/// deploy.sh refuses to overwrite a key policy that changed after it was captured, naming the
/// capture, and leaves the key policy and every stack alone; captured again and synthesized
/// again, the change is kept and the deployment goes through.
#[test]
fn deploy_sh_refuses_a_key_policy_changed_since_capture() {
    let moto = Moto::shared();
    let made = make_existing(&moto, Names::new("existing-drift", 2));
    let example = synth(&made, "cloudformation");

    let mut changed = made.names.key_policy();
    changed["Statement"]
        .as_array_mut()
        .expect("statements")
        .push(json!({
            "Sid": "AuditorsDescribe",
            "Effect": "Allow",
            "Principal": { "AWS": format!("arn:aws:iam::{}:role/auditor", made.names.analytics) },
            "Action": "kms:DescribeKey",
            "Resource": "*"
        }));
    made.put_key_policy(&changed);

    let refused = deploy_sh(&made, &example);
    let stderr = text(&refused.stderr);
    assert!(
        !refused.status.success(),
        "deploy.sh overwrote a changed key policy\n{}",
        describe(&refused)
    );
    assert!(
        stderr.contains("key-policies/data.captured.json")
            && stderr.contains(&made.key_arn)
            && stderr.contains("is no longer the one captured"),
        "deploy.sh's refusal does not name the key and the capture\n{}",
        describe(&refused)
    );
    assert_eq!(made.live_key_policy(), changed, "the changed key policy");
    assert_eq!(
        made.live_bucket_policy(),
        made.names.bucket_policy(),
        "the bucket policy"
    );
    for (stack, status) in stack_statuses(&made, &example) {
        assert!(status.is_err(), "stack {stack} was deployed: {status:?}");
    }

    made.capture();
    resynth(&made, example.out.path(), "cloudformation");
    let accepted = deploy_sh(&made, &example);
    assert!(
        accepted.status.success(),
        "deploy.sh after capturing again failed\n{}",
        describe(&accepted)
    );
    let live = made.live_key_policy();
    let live_statements = statements(&live);
    let changed_statements = statements(&changed);
    assert_eq!(
        live_statements[..changed_statements.len()],
        changed_statements[..],
        "the key policy keeps the change captured again: {live:#}"
    );
    assert!(
        live_statements.len() > changed_statements.len(),
        "the key policy has no statement of crossgrant's: {live:#}"
    );
    let again = deploy_sh(&made, &example);
    assert!(
        again.status.success()
            && text(&again.stdout).contains(&format!("key policy of {}: no changes", made.key_arn)),
        "a second run is not accepted as unchanged\n{}",
        describe(&again)
    );
}

// ---------------------------------------------------------------------------------------------
// Terraform

/// Existing bucket, key and role with Terraform: one apply manages the key policy
/// (`aws_kms_key_policy`), the bucket policy and the existing role's access policy, creates no
/// key, bucket, role or instance profile for them, and a second plan wants no changes.
#[test]
fn existing_resources_apply_with_terraform_and_keep_live_access() {
    common::require_tool(
        "terraform",
        &["version"],
        "install Terraform 1.5 or later with the hashicorp/aws provider available offline",
    );
    let moto = Moto::shared();
    let mut report = Report::default();
    let made = make_existing(&moto, Names::new("existing-tf", 3));
    let example = synth(&made, "terraform");
    let dir = example.out.path().join("terraform");
    write_provider_override(&dir);
    let profiles = &made.profiles;
    let label = |step: &str| format!("existing (terraform): {step}");
    let mut init = args(&["init", "-input=false", "-no-color"]);
    init.extend(terraform_plugin_args());
    report.time(label("init"), |_| terraform(profiles, &dir, &init, &moto));
    report.time(label("apply"), |_| {
        terraform(
            profiles,
            &dir,
            &args(&["apply", "-input=false", "-no-color", "-auto-approve"]),
            &moto,
        )
    });
    let state = terraform(profiles, &dir, &args(&["state", "list"]), &moto);
    let state = text(&state.stdout);
    let types: BTreeSet<(String, String)> = state
        .lines()
        .filter_map(|address| {
            let mut parts = address.split('.');
            let (Some("module"), Some(module), Some(kind), Some(name)) =
                (parts.next(), parts.next(), parts.next(), parts.next())
            else {
                return None;
            };
            Some((module.to_string(), format!("{kind}.{name}")))
        })
        .collect();
    for (module, resource) in [
        ("data", "aws_kms_key_policy.data"),
        ("data", "aws_s3_bucket_policy.reports"),
        ("etl", "aws_iam_policy.etl-access-1"),
        ("etl", "aws_iam_role_policy_attachment.etl-access-1"),
    ] {
        assert!(
            types.contains(&(module.to_string(), resource.to_string())),
            "module.{module}.{resource} is not in the state:\n{state}"
        );
    }
    let created: Vec<&(String, String)> = types
        .iter()
        .filter(|(module, resource)| {
            let kind = resource.split('.').next().unwrap_or_default();
            match module.as_str() {
                "data" => !["aws_kms_key_policy", "aws_s3_bucket_policy"].contains(&kind),
                "etl" => !["aws_iam_policy", "aws_iam_role_policy_attachment"].contains(&kind),
                _ => false,
            }
        })
        .collect();
    assert!(
        created.is_empty(),
        "Terraform manages more than the policies of what exists: {created:?}\n{state}"
    );
    let again = report.time(label("second plan"), |_| {
        terraform(
            profiles,
            &dir,
            &args(&["plan", "-input=false", "-no-color", "-detailed-exitcode"]),
            &moto,
        )
    });
    let mut deployed = deployed(&example, &made, Target::Terraform, Vec::new());
    verify(&made, &mut deployed, &mut report);
    // Asserted last, so that everything above is checked whatever the plan says.
    assert_eq!(
        again.status.code(),
        Some(0),
        "a second terraform plan after apply wants changes\n{}",
        text(&again.stdout)
    );
}

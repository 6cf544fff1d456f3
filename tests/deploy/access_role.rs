//! Access roles (`via = "owner-role"`) deployed: a bucket of account `data` on the AWS-managed
//! `aws/s3` key, which no policy can share with another account, and a consumer role of account
//! `app` granted read-write under `inbox/` through an access role in `data` that asks for an
//! external id. Account `app` also has an administrator role (made with the aws CLI, allowed
//! everything by its own policy) that is not granted.
//!
//! With either target the chain is used as a consumer uses it: the consumer role's session
//! assumes the access role named in ACCESS.md, presenting the external id ACCESS.md gives, and
//! with those credentials writes, reads and lists an object in the `aws/s3`-encrypted bucket.
//!
//! The emulator does not evaluate trust policies on `sts:AssumeRole` (any caller may assume any
//! role, with or without the external id), so the round trip shows the wiring — the role exists
//! under the name ACCESS.md gives and its session reaches the bucket — and not who may take it.
//! That is proved on the documents read back from the emulator: crossgrant's evaluator, given
//! the live trust policy and the live identity policies, lets the consumer assume the access
//! role with the external id and nobody else, and lets the access role's session do exactly
//! what the grant grants.
//!
//! The tests share one emulator and never reset it: each works in accounts and a bucket of its
//! own.

use super::{
    args, describe, managed_access_policy, parse_embedded, read_templates, terraform,
    terraform_plugin_args, write_provider_override, Deployed, Example, Report, Target,
};
use crate::common::moto::{ApiCall, Moto, Profile, Profiles};
use crate::common::{self, require_tool, text};
use crossgrant::aws::condition_key::STS_EXTERNAL_ID;
use crossgrant::eval::{
    evaluate, parse_policy_json, Caller, Context, NamedPolicy, PolicySet, Request, Verdict,
};
use crossgrant::policy::PolicyDocument;
use serde_json::{json, Value as Json};
use std::collections::BTreeMap;
use std::path::PathBuf;

const REGION: &str = "eu-central-1";
const CONSUMER: &str = "writer";
const CONSUMER_NAME: &str = "archive-writer";
const ACCESS_ROLE_NAME: &str = "archive-writer-access";
const EXTERNAL_ID: &str = "acme-archive-writer";
const PREFIX: &str = "inbox/";
/// An administrator of the consumer account, made outside the scenario: its own policy allows
/// everything, so only the access role's trust policy stands in its way.
const ADMIN_NAME: &str = "app-admin";
const ADMIN_POLICY: &str = "administrator";

/// The accounts and names one test works with; `case` keeps them apart from other tests'.
struct Names {
    scenario: &'static str,
    data: String,
    app: String,
    /// An account outside the scenario, for an administrator of an unrelated account.
    unrelated: String,
    bucket: String,
}

impl Names {
    fn new(scenario: &'static str, case: u8) -> Names {
        Names {
            scenario,
            data: format!("5555555555{case:02}"),
            app: format!("6666666666{case:02}"),
            unrelated: format!("7777777777{case:02}"),
            bucket: format!("acme-archive-{scenario}"),
        }
    }

    fn scenario(&self) -> String {
        format!(
            r#"name = "{scenario}"
region = "{REGION}"

[accounts.data]
id = "{data}"

[accounts.app]
id = "{app}"

[buckets.archive]
account = "data"
name = "{bucket}"
key = "aws-managed"

[roles.{CONSUMER}]
account = "app"
name = "{CONSUMER_NAME}"

[[grants]]
role = "{CONSUMER}"
bucket = "archive"
access = "read-write"
prefix = "{PREFIX}"
via = "owner-role"
external_id = "{EXTERNAL_ID}"
"#,
            scenario = self.scenario,
            data = self.data,
            app = self.app,
            bucket = self.bucket,
        )
    }

    fn role_arn(account: &str, name: &str) -> String {
        format!("arn:aws:iam::{account}:role/{name}")
    }

    fn consumer_arn(&self) -> String {
        Names::role_arn(&self.app, CONSUMER_NAME)
    }

    fn access_role_arn(&self) -> String {
        Names::role_arn(&self.data, ACCESS_ROLE_NAME)
    }

    fn admin_arn(&self) -> String {
        Names::role_arn(&self.app, ADMIN_NAME)
    }
}

/// The scenario file and its rendering for `target` by the real binary.
struct Case {
    names: Names,
    example: Example,
    /// Holds the scenario file.
    _dir: tempfile::TempDir,
}

fn synth(names: Names, target: &str) -> Case {
    let dir = tempfile::tempdir().expect("scenario directory");
    let path = dir.path().join("scenario.toml");
    std::fs::write(&path, names.scenario()).expect("scenario file");
    let scenario = crossgrant::load_scenario(&path)
        .unwrap_or_else(|error| panic!("{}: {}", path.display(), error.render()));
    let lowered = crossgrant::lower::lower(scenario);
    let steps = crossgrant::plan::plan(&lowered)
        .unwrap_or_else(|cycle| panic!("cycle {:?}", cycle.members));
    let out = tempfile::tempdir().expect("output directory");
    let output = common::command()
        .arg("synth")
        .arg(&path)
        .arg("--out")
        .arg(out.path())
        .args(["--target", target])
        .output()
        .expect("crossgrant runs");
    assert!(
        output.status.success(),
        "synth failed\n{}",
        describe(&output)
    );
    Case {
        example: Example {
            name: names.scenario,
            lowered,
            steps,
            out,
        },
        names,
        _dir: dir,
    }
}

/// Profiles of both accounts, and the administrator role of `app` with its own inline policy
/// allowing everything.
fn prepare(moto: &Moto, names: &Names) -> Profiles {
    let accounts = [("data", &names.data), ("app", &names.app)];
    let profiles = Profiles::issue(
        moto,
        &accounts.map(|(name, id)| Profile {
            name: name.to_string(),
            account_id: id.clone(),
            region: REGION.to_string(),
        }),
    );
    let trust = json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": { "AWS": format!("arn:aws:iam::{}:root", names.app) },
            "Action": "sts:AssumeRole"
        }]
    });
    let everything = json!({
        "Version": "2012-10-17",
        "Statement": [{ "Effect": "Allow", "Action": "*", "Resource": "*" }]
    });
    let iam = |operation, params| ApiCall::new("app", REGION, "iam", operation, params);
    let made = profiles.api(&[
        iam(
            "create_role",
            json!({ "RoleName": ADMIN_NAME, "AssumeRolePolicyDocument": trust.to_string() }),
        ),
        iam(
            "put_role_policy",
            json!({
                "RoleName": ADMIN_NAME,
                "PolicyName": ADMIN_POLICY,
                "PolicyDocument": everything.to_string(),
            }),
        ),
    ]);
    for result in made {
        result.unwrap_or_else(|error| panic!("making the administrator role: {error:?}"));
    }
    profiles
}

/// The access role's ARN and external id as ACCESS.md tells the consumer to configure them.
fn access_profile(case: &Case) -> (String, String) {
    let path = case.example.out.path().join("ACCESS.md");
    let access = std::fs::read_to_string(&path).expect("ACCESS.md");
    let block = access
        .split(&format!("[profile {ACCESS_ROLE_NAME}]"))
        .nth(1)
        .and_then(|rest| rest.split("```").next())
        .unwrap_or_else(|| panic!("ACCESS.md has no profile {ACCESS_ROLE_NAME}:\n{access}"));
    let setting = |name: &str| {
        block
            .lines()
            .find_map(|line| {
                let (key, value) = line.split_once('=')?;
                (key.trim() == name).then(|| value.trim().to_string())
            })
            .unwrap_or_else(|| panic!("profile {ACCESS_ROLE_NAME} in ACCESS.md has no {name}"))
    };
    let found = (setting("role_arn"), setting("external_id"));
    assert_eq!(
        found,
        (case.names.access_role_arn(), EXTERNAL_ID.to_string()),
        "the access role ACCESS.md names"
    );
    found
}

// ---------------------------------------------------------------------------------------------
// What must hold after either target deployed

/// The documents of the chain, as the emulator holds them.
struct Live {
    access_trust: PolicyDocument,
    access_policy: PolicyDocument,
    consumer_policy: PolicyDocument,
    admin_policy: PolicyDocument,
    bucket_policy: Option<PolicyDocument>,
}

/// Reads the chain's documents back with the aws CLI, as someone debugging a live setup would.
fn read_live(case: &Case, profiles: &Profiles) -> Live {
    let calls: Vec<Vec<String>> = [
        vec![
            "iam",
            "get-role",
            "--role-name",
            ACCESS_ROLE_NAME,
            "--profile",
            "data",
        ],
        vec![
            "iam",
            "get-role-policy",
            "--role-name",
            ADMIN_NAME,
            "--policy-name",
            ADMIN_POLICY,
            "--profile",
            "app",
        ],
        vec![
            "s3api",
            "get-bucket-policy",
            "--bucket",
            &case.names.bucket,
            "--profile",
            "data",
            "--region",
            REGION,
        ],
    ]
    .iter()
    .map(|call| args(call))
    .collect();
    let mut results = profiles.json_all(&calls).into_iter();
    let mut next = |field: &str, what: &str| -> PolicyDocument {
        let got = results
            .next()
            .expect("one result per call")
            .unwrap_or_else(|error| panic!("{what}: {error}"));
        let pointer = format!("/{}", field.replace('.', "/"));
        let document = parse_embedded(got.pointer(&pointer).unwrap_or(&Json::Null));
        parse_policy_json(&document.to_string()).unwrap_or_else(|problem| {
            panic!("{what} is not a policy crossgrant reads ({problem}): {document}")
        })
    };
    let access_trust = next(
        "Role.AssumeRolePolicyDocument",
        "the access role's trust policy",
    );
    let admin_policy = next("PolicyDocument", "the administrator's identity policy");
    let bucket_policy = results
        .next()
        .expect("one result per call")
        .ok()
        .map(|got| {
            let document = parse_embedded(&got["Policy"]);
            parse_policy_json(&document.to_string())
                .unwrap_or_else(|problem| panic!("the bucket policy ({problem}): {document}"))
        });
    let managed = |profile: &str, role_name: &str, what: &str| {
        let document = managed_access_policy(profiles, profile, role_name);
        parse_policy_json(&document.to_string()).unwrap_or_else(|problem| {
            panic!("{what} is not a policy crossgrant reads ({problem}): {document}")
        })
    };
    let access_policy = managed(
        "data",
        ACCESS_ROLE_NAME,
        "the access role's identity policy",
    );
    let consumer_policy = managed("app", CONSUMER_NAME, "the consumer's identity policy");
    Live {
        access_trust,
        access_policy,
        consumer_policy,
        admin_policy,
        bucket_policy,
    }
}

/// One authorization question with what AWS attaches to it, over TLS.
fn request(caller: &str, action: &str, resource: String, account: &str) -> Request {
    let caller = Caller::role(caller).expect("role ARN");
    Request {
        context: Context::of_caller(&caller, true),
        caller,
        action: action.to_string(),
        resource,
        resource_account: account.to_string(),
    }
}

/// Crossgrant's evaluator on the live documents: exactly the consumer, presenting the external
/// id, may assume the access role; the consumer may assume nothing else and reach the bucket
/// only through that role; the access role's session gets exactly the grant's operations.
fn check_chain(case: &Case, live: &Live) {
    let names = &case.names;
    let access_arn = names.access_role_arn();
    let everything = PolicyDocument::new(vec![crossgrant::policy::Statement::allow("Everything")
        .actions(["*"])
        .resources([crossgrant::policy::Value::lit("*")])]);
    // The unrelated account's administrator may assume any role its account trusts.
    let trusting_app = parse_policy_json(
        &json!({
            "Version": "2012-10-17",
            "Statement": [{
                "Effect": "Allow",
                "Principal": { "AWS": format!("arn:aws:iam::{}:root", names.app) },
                "Action": "sts:AssumeRole"
            }]
        })
        .to_string(),
    )
    .expect("a trust policy");
    let decide = |label: &str,
                  request: &Request,
                  identity: &PolicyDocument,
                  resource: Option<&PolicyDocument>|
     -> Verdict {
        let policies = PolicySet {
            identity: vec![NamedPolicy {
                name: "identity policy",
                document: identity,
            }],
            resource: resource.map(|document| NamedPolicy {
                name: "resource policy",
                document,
            }),
            ..PolicySet::default()
        };
        evaluate(request, &policies)
            .unwrap_or_else(|error| panic!("{label}: {error:?}"))
            .verdict
    };
    let assume = |caller: &str, external_id: Option<&str>, role: &str, account: &str| {
        let mut request = request(caller, "sts:AssumeRole", role.to_string(), account);
        if let Some(id) = external_id {
            request.context.set(STS_EXTERNAL_ID, id);
        }
        request
    };
    let unrelated_admin = Names::role_arn(&names.unrelated, "Admin");
    let other_role_of_data = Names::role_arn(&names.data, "OrganizationAccountAccessRole");
    let object = |key: &str| {
        crossgrant::aws::s3_arn(crossgrant::aws::Partition::Aws, &names.bucket, Some(key))
    };
    let inside = format!("{PREFIX}report.csv");
    let list = |prefix: &str| {
        let mut request = request(
            &access_arn,
            "s3:ListBucket",
            crossgrant::aws::s3_arn(crossgrant::aws::Partition::Aws, &names.bucket, None),
            &names.data,
        );
        request.context.set("s3:prefix", prefix);
        request
    };
    let consumer = names.consumer_arn();
    let admin = names.admin_arn();
    let trust = Some(&live.access_trust);
    let bucket = live.bucket_policy.as_ref();
    let cases: Vec<(
        &str,
        Request,
        &PolicyDocument,
        Option<&PolicyDocument>,
        bool,
    )> = vec![
        (
            "the consumer assumes the access role with the external id",
            assume(&consumer, Some(EXTERNAL_ID), &access_arn, &names.data),
            &live.consumer_policy,
            trust,
            true,
        ),
        (
            "the consumer assumes the access role without the external id",
            assume(&consumer, None, &access_arn, &names.data),
            &live.consumer_policy,
            trust,
            false,
        ),
        (
            "the consumer assumes the access role with another external id",
            assume(&consumer, Some("guessed"), &access_arn, &names.data),
            &live.consumer_policy,
            trust,
            false,
        ),
        (
            "the administrator of the consumer account assumes the access role",
            assume(&admin, Some(EXTERNAL_ID), &access_arn, &names.data),
            &live.admin_policy,
            trust,
            false,
        ),
        (
            "an administrator of an unrelated account assumes the access role",
            assume(
                &unrelated_admin,
                Some(EXTERNAL_ID),
                &access_arn,
                &names.data,
            ),
            &everything,
            trust,
            false,
        ),
        (
            "the consumer assumes another role of the bucket's account that trusts its account",
            assume(
                &consumer,
                Some(EXTERNAL_ID),
                &other_role_of_data,
                &names.data,
            ),
            &live.consumer_policy,
            Some(&trusting_app),
            false,
        ),
        (
            "the consumer reads the bucket directly",
            request(&consumer, "s3:GetObject", object(&inside), &names.data),
            &live.consumer_policy,
            bucket,
            false,
        ),
        (
            "the access role writes inside the prefix",
            request(&access_arn, "s3:PutObject", object(&inside), &names.data),
            &live.access_policy,
            bucket,
            true,
        ),
        (
            "the access role reads inside the prefix",
            request(&access_arn, "s3:GetObject", object(&inside), &names.data),
            &live.access_policy,
            bucket,
            true,
        ),
        (
            "the access role lists the prefix",
            list(PREFIX),
            &live.access_policy,
            bucket,
            true,
        ),
        (
            "the access role lists outside the prefix",
            list("outbox/"),
            &live.access_policy,
            bucket,
            false,
        ),
        (
            "the access role writes outside the prefix",
            request(
                &access_arn,
                "s3:PutObject",
                object("outbox/report.csv"),
                &names.data,
            ),
            &live.access_policy,
            bucket,
            false,
        ),
        (
            "the access role deletes inside the prefix",
            request(&access_arn, "s3:DeleteObject", object(&inside), &names.data),
            &live.access_policy,
            bucket,
            false,
        ),
        (
            "the access role changes the bucket policy",
            request(
                &access_arn,
                "s3:PutBucketPolicy",
                crossgrant::aws::s3_arn(crossgrant::aws::Partition::Aws, &names.bucket, None),
                &names.data,
            ),
            &live.access_policy,
            bucket,
            false,
        ),
    ];
    let wrong: Vec<String> = cases
        .iter()
        .filter_map(|(label, request, identity, resource, allowed)| {
            let verdict = decide(label, request, identity, *resource);
            (verdict.is_allowed() != *allowed).then(|| {
                format!(
                    "{label}: {verdict:?}, expected {}",
                    if *allowed { "Allowed" } else { "denied" }
                )
            })
        })
        .collect();
    assert!(
        wrong.is_empty(),
        "{}: the live documents decide wrongly:\n{}",
        names.scenario,
        wrong.join("\n")
    );
}

/// As the consumer role (assumed by the consumer account's deployer, as its workload would be
/// given it), assumes the access role with the external id, and with that session writes an
/// object under the prefix, reads it back and lists the prefix. The emulator does not check
/// trust policies on sts:AssumeRole; it is shown here by assuming the access role as the
/// administrator without the external id, which only AWS refuses.
fn round_trip(case: &Case, deployed: &mut Deployed, report: &mut Report) {
    let names = &case.names;
    let (access_arn, external_id) = access_profile(case);
    let sts = |profile: &str, role: &str, external_id: Option<&str>| {
        let mut params = json!({ "RoleArn": role, "RoleSessionName": "crossgrant-e2e" });
        if let Some(id) = external_id {
            params["ExternalId"] = json!(id);
        }
        ApiCall::new(profile, REGION, "sts", "assume_role", params)
    };
    let mut assumed = deployed.profiles.api(&[
        sts("app", &names.consumer_arn(), None),
        sts("app", &names.admin_arn(), None),
    ]);
    let admin = assumed.pop().expect("two results");
    let consumer = assumed.pop().expect("two results");
    for (profile, result) in [("as-consumer", consumer), ("as-admin", admin)] {
        let got = result.unwrap_or_else(|error| panic!("{profile}: {error:?}"));
        deployed
            .profiles
            .add_assumed(profile, &names.app, REGION, &got["Credentials"]);
    }
    let mut chained = deployed.profiles.api(&[
        sts("as-consumer", &access_arn, Some(&external_id)),
        sts("as-admin", &access_arn, None),
    ]);
    let untrusted = chained.pop().expect("two results");
    let session = chained
        .pop()
        .expect("two results")
        .unwrap_or_else(|error| panic!("the consumer assumes {access_arn}: {error:?}"));
    let identity = session["AssumedRoleUser"]["Arn"]
        .as_str()
        .unwrap_or_default();
    assert_eq!(
        identity,
        format!(
            "arn:aws:sts::{}:assumed-role/{ACCESS_ROLE_NAME}/crossgrant-e2e",
            names.data
        ),
        "the consumer's session of the access role"
    );
    match untrusted {
        Ok(_) => report.gap(
            "the emulator lets any caller assume any role (here the administrator of the \
             consumer account, without the external id): it does not evaluate trust policies; \
             crossgrant's evaluator on the read-back trust policy proves who may"
                .to_string(),
        ),
        Err(error) => assert_eq!(error.code, "AccessDenied", "{error:?}"),
    }
    deployed
        .profiles
        .add_assumed("as-access", &names.data, REGION, &session["Credentials"]);

    let object = format!("{PREFIX}crossgrant-e2e/{}.txt", deployed.target.as_str());
    let content = format!(
        "{} via {access_arn} ({})\n",
        names.consumer_arn(),
        deployed.target.as_str()
    );
    let s3 = |operation, mut params: Json| {
        params["Bucket"] = json!(names.bucket);
        ApiCall::new("as-access", REGION, "s3", operation, params)
    };
    let results = deployed.profiles.api(&[
        ApiCall::new("as-access", REGION, "sts", "get_caller_identity", json!({})),
        s3("put_object", json!({ "Key": object, "Body": content })),
        s3("get_object", json!({ "Key": object })),
        s3("list_objects_v2", json!({ "Prefix": PREFIX })),
    ]);
    let mut results = results.into_iter().zip([
        "get-caller-identity",
        "put-object",
        "get-object",
        "list-objects-v2",
    ]);
    let mut next = || {
        let (result, what) = results.next().expect("one result per call");
        result.unwrap_or_else(|error| {
            panic!(
                "{}: {what} as the access role: {error:?}",
                deployed.context("round trip")
            )
        })
    };
    let caller = next();
    assert_eq!(caller["Account"], json!(names.data), "{caller:#}");
    let written = next();
    let read = next();
    let listed = next();
    assert_eq!(read["Body"], json!(content), "the object read back");
    for response in [&written, &read] {
        // The bucket's default encryption with the AWS-managed key: aws:kms, no key of the
        // scenario's named.
        assert_eq!(
            response["ServerSideEncryption"],
            json!("aws:kms"),
            "{}: {response:#}",
            deployed.context("encrypted with aws/s3")
        );
    }
    let keys: Vec<&Json> = listed["Contents"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|entry| &entry["Key"])
        .collect();
    assert!(
        keys.contains(&&json!(object)),
        "{}: listing {PREFIX} as the access role: {listed:#}",
        deployed.context("round trip")
    );
}

/// Everything both targets must achieve, in the order it can be seen: the deployed settings and
/// the documents first (the emulator's copy of the bucket policy is relaxed afterwards for the
/// round trip).
fn verify(case: &Case, deployed: &mut Deployed, report: &mut Report) {
    let what = format!("{} ({})", case.names.scenario, deployed.target.as_str());
    report.time(format!("{what}: settings read back"), |report| {
        let mut checks = deployed.bucket_checks();
        checks.extend(deployed.role_checks());
        deployed.run_checks(checks, report);
    });
    let live = report.time(format!("{what}: chain documents read back"), |_| {
        read_live(case, &deployed.profiles)
    });
    report.time(format!("{what}: the chain evaluated"), |_| {
        check_chain(case, &live)
    });
    report.time(format!("{what}: emulator guardrail probe"), |report| {
        deployed.relax_guardrails_for_emulator(report)
    });
    report.time(
        format!("{what}: objects through the access role"),
        |report| round_trip(case, deployed, report),
    );
}

fn deployed<'a>(case: &'a Case, profiles: &Profiles, target: Target) -> Deployed<'a> {
    let templates = match target {
        Target::CloudFormation => read_templates(
            &case.example.out.path().join("cloudformation"),
            &case.example.steps,
        ),
        Target::Terraform => Vec::new(),
    };
    Deployed {
        example: &case.example,
        target,
        profiles: profiles.fork(),
        key_arns: BTreeMap::new(),
        templates,
        policies: tempfile::tempdir().expect("policy directory"),
    }
}

// ---------------------------------------------------------------------------------------------
// The tests

/// With CloudFormation: deploy.sh creates the bucket, the access role in the bucket's account
/// and the consumer role, and a second run changes nothing; the consumer then reaches the
/// bucket through the access role.
#[test]
fn access_role_deploys_with_cloudformation_and_carries_the_consumer() {
    require_tool("bash", &["--version"], "deploy.sh is a bash script");
    let moto = Moto::shared();
    let mut report = Report::default();
    let case = synth(Names::new("access-role-cfn", 1), "cloudformation");
    let profiles = prepare(&moto, &case.names);
    let script = case.example.out.path().join("cloudformation/deploy.sh");
    let run = |label: &str, report: &mut Report| {
        report.time(format!("access-role (cloudformation): {label}"), |_| {
            let output = profiles
                .command("bash")
                .arg(&script)
                .output()
                .expect("bash runs deploy.sh");
            assert!(
                output.status.success(),
                "deploy.sh ({label}) failed\n{}\n{}",
                describe(&output),
                moto.log_tail(30)
            );
            text(&output.stdout)
        })
    };
    run("deploy.sh", &mut report);
    let second = run("deploy.sh again", &mut report);
    for step in &case.example.steps {
        let unchanged = [
            format!("{}: no changes", step.stack_name),
            format!("Stack {} is up to date", step.stack_name),
        ];
        assert!(
            unchanged.iter().any(|line| second.contains(line.as_str())),
            "the second run of deploy.sh changed stack {}:\n{second}",
            step.stack_name
        );
    }
    let mut deployed = deployed(&case, &profiles, Target::CloudFormation);
    verify(&case, &mut deployed, &mut report);
}

/// With Terraform: one apply creates the same, the consumer reaches the bucket through the
/// access role, and a second plan wants no changes.
#[test]
fn access_role_applies_with_terraform_and_carries_the_consumer() {
    require_tool(
        "terraform",
        &["version"],
        "install Terraform 1.5 or later with the hashicorp/aws provider available offline",
    );
    let moto = Moto::shared();
    let mut report = Report::default();
    let case = synth(Names::new("access-role-tf", 2), "terraform");
    let profiles = prepare(&moto, &case.names);
    let dir: PathBuf = case.example.out.path().join("terraform");
    write_provider_override(&dir);
    let label = |step: &str| format!("access-role (terraform): {step}");
    let mut init = args(&["init", "-input=false", "-no-color"]);
    init.extend(terraform_plugin_args());
    report.time(label("init"), |_| terraform(&profiles, &dir, &init, &moto));
    report.time(label("apply"), |_| {
        terraform(
            &profiles,
            &dir,
            &args(&["apply", "-input=false", "-no-color", "-auto-approve"]),
            &moto,
        )
    });
    let outputs = terraform(&profiles, &dir, &args(&["output", "-json"]), &moto);
    let outputs: Json = serde_json::from_slice(&outputs.stdout).expect("terraform output -json");
    let access_arn = case.names.access_role_arn();
    assert!(
        outputs
            .as_object()
            .into_iter()
            .flatten()
            .any(|(_, output)| output["value"] == json!(access_arn)),
        "no root output gives the access role's ARN {access_arn}: {outputs:#}"
    );
    let again = report.time(label("second plan"), |_| {
        terraform(
            &profiles,
            &dir,
            &args(&["plan", "-input=false", "-no-color", "-detailed-exitcode"]),
            &moto,
        )
    });
    let mut deployed = deployed(&case, &profiles, Target::Terraform);
    verify(&case, &mut deployed, &mut report);
    // Asserted last, so that everything above is checked whatever the plan says.
    assert_eq!(
        again.status.code(),
        Some(0),
        "a second terraform plan after apply wants changes\n{}",
        text(&again.stdout)
    );
}

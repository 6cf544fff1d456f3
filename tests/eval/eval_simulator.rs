//! Differential test against an independent IAM policy simulator (`@cloud-copilot/iam-simulate`,
//! run as a separate Node process from tests/simulator/): every request `check` evaluates — on
//! every example scenario, on 200 generated ones and on consolidated ones (statements merged,
//! roles named by path, the organization named) — must get the same verdict from both.
//! Known, documented disagreements are listed in the README (Cross-checked against an independent simulator); none arise from these requests.

use crate::common::{self, eval};
use crossgrant::consolidate::Fit;
use crossgrant::eval::engine::{
    evaluate, is_access_point_arn, through_access_point, Layer, Verdict,
};
use crossgrant::eval::guardrail;
use crossgrant::eval::probe::{probes, ProbeStep as Step, World};
use crossgrant::eval::request::Caller;
use crossgrant::generate::Shape;
use crossgrant::limits::Consolidation;
use crossgrant::lower::{lower, lower_with, Lowered};
use crossgrant::policy::PolicyDocument;

use proptest::strategy::{Strategy, ValueTree};
use proptest::test_runner::TestRunner;
use serde_json::Value as Json;
use std::collections::hash_map::DefaultHasher;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::hash::{Hash, Hasher};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

const GENERATED_SCENARIOS: usize = 200;

fn simulator_dir() -> PathBuf {
    common::root().join("tests/simulator")
}

/// Fails at once, saying what to do, when the simulator is not installed.
fn require_simulator() {
    assert!(
        simulator_dir()
            .join("node_modules/@cloud-copilot/iam-simulate")
            .is_dir(),
        "the policy simulator is not installed: run `npm ci --prefix tests/simulator` first"
    );
}

fn policy_json(document: &PolicyDocument) -> Json {
    document.to_json(&|reference| panic!("unresolved reference {reference:?} in a literal world"))
}

/// Simulator processes run side by side; each gets every policy and half of the requests.
const SIMULATORS: usize = 2;

/// The lines sent to the simulator: each policy once, then requests naming policies by number.
#[derive(Default)]
struct Session {
    policy_lines: Vec<String>,
    request_lines: Vec<String>,
    policy_ids: HashMap<(String, &'static str), usize>,
    /// Policy numbers of the current world's documents, by address: serializing a document
    /// once per world instead of once per request keeps the test fast.
    world_policy_ids: HashMap<(usize, &'static str), usize>,
    /// Hashes of the requests already asked (a 64-bit hash over some 10^5 requests: a collision
    /// would only skip one comparison).
    seen_requests: HashSet<u64>,
    cases: Vec<Case>,
    /// Requests compared per guardrail kind, and how many a guardrail decided.
    guardrail_requests: BTreeMap<&'static str, usize>,
    decided_by_guardrail: usize,
    /// Requests on access points compared, and requests at the bucket behind one left out.
    access_point_requests: usize,
    bucket_phase_skipped: usize,
}

/// One question for the simulator, with crossgrant's answer and where it came from.
struct Case {
    request: String,
    ours: Verdict,
    origin: String,
}

/// The kind RCPFullAWSAccess is validated as: an RCP's validation refuses its `Allow`.
const RCP_FULL_ACCESS_KIND: &str = "rcp-full-access";

/// The simulator's policy kind for a guardrail layer.
fn guardrail_kind(layer: Layer) -> &'static str {
    match layer {
        Layer::ServiceControlPolicy => "scp",
        Layer::ResourceControlPolicy => "rcp",
        Layer::VpcEndpointPolicy => "endpoint",
        Layer::PermissionsBoundary => "boundary",
        other => panic!("{other} is no guardrail"),
    }
}

/// The request field the simulator reads a guardrail kind's policies from.
fn guardrail_field(kind: &str) -> &'static str {
    match kind {
        "scp" => "scps",
        "rcp" => "rcps",
        "endpoint" => "endpointPolicies",
        _ => "boundaries",
    }
}

fn quoted(text: &str) -> String {
    serde_json::to_string(text).unwrap()
}

impl Session {
    fn policy(&mut self, document: &PolicyDocument, kind: &'static str) -> usize {
        let address = document as *const PolicyDocument as usize;
        if let Some(id) = self.world_policy_ids.get(&(address, kind)) {
            return *id;
        }
        let text = policy_json(document).to_string();
        let next = self.policy_ids.len();
        let id = *self
            .policy_ids
            .entry((text.clone(), kind))
            .or_insert_with(|| {
                self.policy_lines.push(format!(
                    r#"{{"policy":{next},"kind":"{kind}","document":{text}}}"#
                ));
                next
            });
        self.world_policy_ids.insert((address, kind), id);
        id
    }

    fn request(&mut self, world: &World, step: &Step, origin: impl Fn() -> String) {
        let request = &step.request;
        if through_access_point(request) {
            // At the bucket behind an access point, S3 asks the bucket policy alone: the
            // simulator has no request of that kind (given no identity policy, a cross-account
            // caller is denied). These are proven by the evaluator's own case and check tests;
            // the request on the access point, before it, is compared here.
            self.bucket_phase_skipped += 1;
            return;
        }
        if is_access_point_arn(&request.resource) {
            self.access_point_requests += 1;
        }
        let policies = world.policies(step);
        let identity: Vec<usize> = policies
            .identity
            .iter()
            .map(|policy| self.policy(policy.document, "identity"))
            .collect();
        let resource = policies
            .resource
            .as_ref()
            .map(|policy| self.policy(policy.document, "resource"));
        let mut guardrails: BTreeMap<&'static str, Vec<usize>> = BTreeMap::new();
        for layer in &policies.guardrails {
            let kind = guardrail_kind(layer.layer);
            for policy in &layer.policies {
                let policy_kind = if policy.name == guardrail::RCP_FULL_AWS_ACCESS {
                    RCP_FULL_ACCESS_KIND
                } else {
                    kind
                };
                let id = self.policy(policy.document, policy_kind);
                guardrails.entry(kind).or_default().push(id);
            }
        }
        let mut hasher = DefaultHasher::new();
        (&request.caller, &request.action, &request.resource).hash(&mut hasher);
        (&request.resource_account, &identity, resource, &guardrails).hash(&mut hasher);
        for entry in request.context.iter() {
            entry.hash(&mut hasher);
        }
        if !self.seen_requests.insert(hasher.finish()) {
            return;
        }
        let decision = evaluate(request, &policies)
            .unwrap_or_else(|error| panic!("{}: crossgrant cannot evaluate: {error}", origin()));
        for kind in guardrails.keys() {
            *self.guardrail_requests.entry(kind).or_default() += 1;
        }
        if decision
            .deciding_layers()
            .iter()
            .any(|layer| layer.is_guardrail())
        {
            self.decided_by_guardrail += 1;
        }
        let ours = decision.verdict;
        let context: Vec<String> = request
            .context
            .iter()
            .map(|(key, values, multi)| {
                let value = if multi {
                    serde_json::to_string(values).unwrap()
                } else {
                    quoted(&values[0])
                };
                format!("{}:{value}", quoted(key))
            })
            .collect();
        let id = self.cases.len();
        let principal = match &request.caller {
            Caller::Role { arn, .. } => quoted(arn),
            Caller::Anonymous => "null".to_string(),
        };
        let guardrail_fields: String = guardrails
            .iter()
            .map(|(kind, ids)| format!(r#","{}":{ids:?}"#, guardrail_field(kind)))
            .collect();
        let line = format!(
            r#"{{"id":{id},"principal":{principal},"action":{},"resource":{},"resourceAccount":{},"context":{{{}}},"identityPolicies":{identity:?},"resourcePolicy":{}{guardrail_fields}}}"#,
            quoted(&request.action),
            quoted(&request.resource),
            quoted(&request.resource_account),
            context.join(","),
            resource.map_or("null".to_string(), |id| id.to_string()),
        );
        self.request_lines.push(line.clone());
        self.cases.push(Case {
            request: line,
            ours,
            origin: origin(),
        });
    }

    fn add(&mut self, lowered: &Lowered, origin: &str) {
        let world = World::build(lowered);
        self.world_policy_ids.clear();
        for probe in probes(lowered) {
            for step in &probe.steps {
                self.request(&world, step, || {
                    format!(
                        "{origin}: {} {} on {}",
                        probe.caller_kind,
                        probe.operation.name(),
                        probe.bucket
                    )
                });
            }
        }
    }

    /// Sends every policy to each simulator process and the requests round-robin, and returns
    /// the verdicts by case.
    fn simulate(self) -> (Vec<Case>, Vec<Result<String, String>>) {
        let dir = simulator_dir();
        let policy_lines = std::sync::Arc::new(self.policy_lines);
        let mut shards: Vec<Vec<String>> = vec![Vec::new(); SIMULATORS];
        for (index, line) in self.request_lines.into_iter().enumerate() {
            shards[index % SIMULATORS].push(line);
        }
        let workers: Vec<_> = shards
            .into_iter()
            .map(|requests| {
                let policy_lines = policy_lines.clone();
                let dir = dir.clone();
                std::thread::spawn(move || ask(&dir, &policy_lines, requests))
            })
            .collect();
        let mut answers = vec![Err("no answer".to_string()); self.cases.len()];
        for worker in workers {
            for (id, answer) in worker.join().unwrap() {
                answers[id] = answer;
            }
        }
        (self.cases, answers)
    }
}

/// Runs one simulator process over `requests` and returns its answers by request id.
fn ask(
    dir: &Path,
    policies: &[String],
    requests: Vec<String>,
) -> Vec<(usize, Result<String, String>)> {
    let mut child = Command::new("node")
        .arg(dir.join("serve.mjs"))
        .current_dir(dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("node must be installed to run the simulator (Node 20)");
    let mut stdin = std::io::BufWriter::new(child.stdin.take().unwrap());
    let count = requests.len();
    let lines: Vec<String> = policies.iter().cloned().chain(requests).collect();
    let writer = std::thread::spawn(move || {
        for line in lines {
            writeln!(stdin, "{line}").expect("simulator closed its input");
        }
    });
    let stdout = BufReader::new(child.stdout.take().unwrap());
    let answers = stdout
        .lines()
        .take(count)
        .map(|line| {
            let answer: Json = serde_json::from_str(&line.unwrap()).unwrap();
            let id = answer["id"].as_u64().expect("answers carry their id") as usize;
            let result = match (answer["result"].as_str(), answer["error"].as_str()) {
                (Some(result), _) => Ok(result.to_string()),
                (None, Some(error)) => Err(error.to_string()),
                _ => Err(answer.to_string()),
            };
            (id, result)
        })
        .collect();
    writer.join().unwrap();
    let _ = child.wait();
    answers
}

fn examples() -> Vec<(String, Lowered)> {
    common::examples()
        .into_iter()
        .map(|path| {
            let scenario = crossgrant::load_scenario(&path)
                .unwrap_or_else(|error| panic!("{}", error.render()));
            (path.display().to_string(), lower(scenario))
        })
        .collect()
}

/// The organization the generated scenarios with guardrails belong to.
const ORGANIZATION: &str = "o-exampleorg1";

fn policy_document(statements: Json) -> PolicyDocument {
    crossgrant::eval::parse_policy_json(
        &serde_json::json!({"Version": "2012-10-17", "Statement": statements}).to_string(),
    )
    .unwrap()
}

/// The guardrails organizations use, as a generated scenario's `index` picks them (every
/// pattern in turn, several at once, in most scenarios): deny outside the organization, deny
/// unless TLS, deny KMS use outside the scenario's region (sparing the KMS calls services
/// make), endpoint policies limited to the organization's resources or the scenario's
/// accounts, boundaries that allow S3 and the key calls S3 makes, or only reads.
fn add_guardrails(scenario: &mut crossgrant::model::Scenario, index: usize) {
    use crossgrant::model::{Guardrail, GuardrailKind};
    if index % 4 == 3 {
        return;
    }
    scenario.organization = Some(ORGANIZATION.into());
    let accounts: Vec<String> = scenario.accounts.keys().cloned().collect();
    let ids: Vec<String> = scenario.accounts.values().map(|a| a.id.clone()).collect();
    let roles: Vec<String> = scenario.roles.keys().cloned().collect();
    let region = scenario.region.clone();
    let patterns: Vec<(GuardrailKind, Json)> = vec![
        (
            GuardrailKind::Scp {
                accounts: accounts.clone(),
            },
            serde_json::json!([{"Sid": "DenyOutsideOrgResources", "Effect": "Deny",
                "Action": ["s3:*", "kms:*"], "Resource": "*",
                "Condition": {"StringNotEqualsIfExists": {"aws:ResourceOrgID": ORGANIZATION}}}]),
        ),
        (
            GuardrailKind::Scp {
                accounts: accounts[..1].to_vec(),
            },
            serde_json::json!([{"Sid": "DenyKmsOutsideRegion", "Effect": "Deny",
                "Action": "kms:*", "Resource": "*",
                "Condition": {"StringNotEquals": {"aws:RequestedRegion": region},
                              "Bool": {"aws:ViaAWSService": "false"}}}]),
        ),
        (
            GuardrailKind::Scp {
                accounts: accounts.clone(),
            },
            serde_json::json!([{"Sid": "DenyPlainHttp", "Effect": "Deny", "Action": "s3:*",
                "Resource": "*", "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]),
        ),
        (
            GuardrailKind::Rcp {
                accounts: accounts.clone(),
            },
            serde_json::json!([{"Sid": "EnforceOrgIdentities", "Effect": "Deny", "Principal": "*",
                "Action": ["s3:*", "kms:*", "sts:AssumeRole"], "Resource": "*",
                "Condition": {"StringNotEqualsIfExists": {"aws:PrincipalOrgID": ORGANIZATION},
                              "BoolIfExists": {"aws:PrincipalIsAWSService": "false"}}}]),
        ),
        (
            GuardrailKind::Rcp {
                accounts: accounts[..1].to_vec(),
            },
            serde_json::json!([{"Sid": "EnforceTls", "Effect": "Deny", "Principal": "*",
                "Action": "s3:*", "Resource": "*",
                "Condition": {"BoolIfExists": {"aws:SecureTransport": "false"}}}]),
        ),
        (
            GuardrailKind::VpcEndpoint {
                vpce_id: "vpce-0a1b2c3d4e5f60718".into(),
                vpc_id: Some("vpc-0a1b2c3d".into()),
                roles: roles.iter().step_by(2).cloned().collect(),
            },
            serde_json::json!([{"Sid": "OrgResources", "Effect": "Allow", "Principal": "*",
                "Action": "s3:*", "Resource": "*",
                "Condition": {"StringEquals": {"aws:ResourceOrgID": ORGANIZATION}}}]),
        ),
        (
            GuardrailKind::VpcEndpoint {
                vpce_id: "vpce-0f0e0d0c0b0a09080".into(),
                vpc_id: None,
                roles: roles.iter().skip(1).step_by(2).cloned().collect(),
            },
            serde_json::json!([{"Sid": "ScenarioAccounts", "Effect": "Allow", "Principal": "*",
                "Action": ["s3:GetObject", "s3:PutObject", "s3:ListBucket"], "Resource": "*",
                "Condition": {"StringEquals": {"aws:ResourceAccount": ids[..1].to_vec()}}}]),
        ),
        (
            GuardrailKind::PermissionsBoundary {
                arn: "arn:aws:iam::111111111111:policy/Boundary".into(),
                roles: roles[..1].to_vec(),
            },
            serde_json::json!([{"Sid": "S3AndKeys", "Effect": "Allow",
                "Action": ["s3:*", "kms:Decrypt", "kms:GenerateDataKey", "sts:AssumeRole"],
                "Resource": "*"}]),
        ),
        (
            GuardrailKind::PermissionsBoundary {
                arn: "arn:aws:iam::111111111111:policy/ReadOnly".into(),
                roles: roles[1..].to_vec(),
            },
            serde_json::json!([{"Sid": "ReadOnly", "Effect": "Allow",
                "Action": ["s3:Get*", "s3:List*", "kms:Decrypt"], "Resource": "*"},
                {"Sid": "NoDeletes", "Effect": "Deny", "Action": "s3:DeleteObject", "Resource": "*"}]),
        ),
    ];
    let count = patterns.len();
    for (offset, (kind, statements)) in patterns.into_iter().enumerate() {
        // Each scenario takes every third pattern, starting where its index says.
        if !(offset + index).is_multiple_of(3) || (offset + index / 3) % count == count - 1 {
            continue;
        }
        let taken = match &kind {
            GuardrailKind::VpcEndpoint { roles, .. }
            | GuardrailKind::PermissionsBoundary { roles, .. } => !roles.is_empty(),
            _ => true,
        };
        if taken {
            scenario.guardrails.push(Guardrail {
                kind,
                file: format!("guardrail-{offset}.json"),
                document: policy_document(statements),
            });
        }
    }
}

/// Small generated scenarios whose documents every consolidation step applies to.
fn consolidated_shapes() -> Vec<Shape> {
    let teams = Shape {
        buckets: 2,
        roles: 12,
        accounts: 3,
        team_size: 3,
        grants: 24,
        declare_paths: true,
        ..Shape::default()
    };
    vec![
        teams.clone(),
        Shape {
            role_principals: true,
            ..teams.clone()
        },
        Shape {
            seed: 2,
            accounts: 4,
            team_size: 2,
            paths: Some(2),
            declare_paths: false,
            organization: true,
            organization_paths: true,
            ..teams.clone()
        },
        Shape {
            seed: 3,
            organization: true,
            declare_paths: false,
            ..teams
        },
    ]
}

#[test]
fn simulator_agrees_on_examples_and_generated_scenarios() {
    require_simulator();
    let started = std::time::Instant::now();
    let mut session = Session::default();
    let examples = examples();
    for (name, lowered) in &examples {
        session.add(lowered, name);
    }
    let from_examples = session.cases.len();
    // A fixed seed keeps CI reproducible; the strategy still covers every access level, style,
    // prefix, encryption and ownership combination over 200 scenarios.
    let mut runner = TestRunner::deterministic();
    let strategy = eval::arbitrary::scenario();
    for index in 0..GENERATED_SCENARIOS {
        let mut scenario = strategy.new_tree(&mut runner).unwrap().current();
        add_guardrails(&mut scenario, index);
        let mut lowered = lower(scenario);
        if index % 5 == 0 {
            // A fifth with the secure defaults, so plain-HTTP, SSE-header and direct-KMS
            // requests are compared too.
            eval::harden(&mut lowered);
        }
        session.add(&lowered, &format!("generated scenario #{index}"));
    }
    // Consolidated documents, every step forced whatever the size: merged statements, roles
    // named by path (per account and organization-wide), the organization instead of account
    // roots.
    let mut steps = std::collections::BTreeSet::new();
    for (index, shape) in consolidated_shapes().iter().enumerate() {
        let (text, _) = crossgrant::generate::scenario(shape);
        let scenario = crossgrant::parse_scenario("generated.toml", &text)
            .unwrap_or_else(|diagnostics| panic!("{}", diagnostics.render()));
        let lowered = lower_with(scenario, Fit::Always);
        for measured in lowered.budget.documents.values() {
            steps.extend(measured.consolidations.iter().copied());
        }
        session.add(&lowered, &format!("consolidated scenario #{index}"));
    }
    assert!(
        steps.is_superset(
            &[
                Consolidation::MergeStatements,
                Consolidation::RolePathPatterns,
                Consolidation::Organization
            ]
            .into()
        ),
        "{steps:?}"
    );
    eprintln!("requests built in {:.1?}", started.elapsed());
    eprintln!(
        "requests under guardrails: {:?}, {} decided by one",
        session.guardrail_requests, session.decided_by_guardrail
    );
    for kind in ["scp", "rcp", "endpoint", "boundary"] {
        assert!(
            session
                .guardrail_requests
                .get(kind)
                .is_some_and(|count| *count > 100),
            "too few requests under {kind} guardrails: {:?}",
            session.guardrail_requests
        );
    }
    assert!(session.decided_by_guardrail > 100);
    eprintln!(
        "requests on access points: {} compared; {} at the bucket behind one left out",
        session.access_point_requests, session.bucket_phase_skipped
    );
    assert!(session.access_point_requests > 100);
    let generated = std::time::Instant::now();
    let (cases, answers) = session.simulate();
    eprintln!("simulator answered in {:.1?}", generated.elapsed());
    let mut disagreements = Vec::new();
    for (case, answer) in cases.iter().zip(&answers) {
        match answer {
            Ok(theirs) if theirs == case.ours.as_str() => {}
            Ok(theirs) => disagreements.push(format!(
                "{}: crossgrant {} but simulator {theirs}\n  {}",
                case.origin,
                case.ours.as_str(),
                case.request
            )),
            Err(error) => disagreements.push(format!(
                "{}: simulator error {error}\n  {}",
                case.origin, case.request
            )),
        }
    }
    let allowed = cases.iter().filter(|case| case.ours.is_allowed()).count();
    eprintln!(
        "compared {} distinct requests ({from_examples} from {} examples), {allowed} allowed",
        cases.len(),
        examples.len()
    );
    assert!(allowed > 0 && allowed < cases.len());
    assert!(
        disagreements.is_empty(),
        "{} of {} requests disagree; first ones:\n{}",
        disagreements.len(),
        cases.len(),
        disagreements
            .iter()
            .take(8)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
}

/// Case files where crossgrant follows the AWS documentation and the simulator does not; each
/// is explained, with the documentation that decides it, in the README, section "Cross-checked against an independent simulator".
const DOCUMENTED_DISAGREEMENTS: [(&str, &str); 2] = [
    (
        "explicit_deny.json",
        "NotPrincipal listing only the role still denies it",
    ),
    ("kms_key_policy.json", "KMS refuses anonymous callers"),
];

#[test]
fn simulator_agrees_on_case_files_except_documented_disagreements() {
    require_simulator();
    let files = eval::case_files();
    let mut policies = Vec::new();
    let mut requests = Vec::new();
    let mut expected = Vec::new();
    for path in files {
        let file_name = path.file_name().unwrap().to_string_lossy().to_string();
        let file: Json = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        for case in file["cases"].as_array().unwrap() {
            let verdict = case["expect"]["verdict"].as_str().unwrap();
            if verdict == "Error" {
                // The simulator never matches what crossgrant refuses to evaluate.
                continue;
            }
            let mut define = |document: &Json, kind: &str| {
                let id = policies.len();
                policies.push(format!(
                    r#"{{"policy":{id},"kind":"{kind}","document":{document}}}"#
                ));
                id
            };
            let identity: Vec<usize> = case
                .get("identity")
                .unwrap_or(&file["identity"])
                .as_array()
                .map(|documents| {
                    documents
                        .iter()
                        .map(|document| define(document, "identity"))
                        .collect()
                })
                .unwrap_or_default();
            let resource = match case.get("resource").unwrap_or(&file["resource"]) {
                Json::Null => None,
                document => Some(define(document, "resource")),
            };
            let mut guardrails = serde_json::Map::new();
            let declared = case.get("guardrails").unwrap_or(&file["guardrails"]);
            for (layer, documents) in declared.as_object().into_iter().flatten() {
                let mut documents: Vec<Json> = documents.as_array().unwrap().clone();
                // As crossgrant takes it: FullAWSAccess beside SCPs that allow nothing.
                let allows = documents.iter().any(|document| {
                    document["Statement"]
                        .as_array()
                        .is_some_and(|statements| statements.iter().any(|s| s["Effect"] == "Allow"))
                });
                if layer == "scp" && !allows {
                    documents.push(serde_json::json!({"Version": "2012-10-17", "Statement": [
                        {"Effect": "Allow", "Action": "*", "Resource": "*"}]}));
                }
                // And RCPFullAWSAccess beside every account's RCPs, as AWS attaches it.
                if layer == "rcp" {
                    documents.push(serde_json::json!({"Version": "2012-10-17", "Statement": [
                        {"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}]}));
                }
                let kind = match layer.as_str() {
                    "scp" => "scp",
                    "rcp" => "rcp",
                    "vpc-endpoint" => "endpoint",
                    _ => "boundary",
                };
                let field = guardrail_field(kind);
                let ids: Vec<usize> = documents
                    .iter()
                    .map(|document| {
                        let full_access = document["Statement"][0]["Action"] == "*"
                            && document["Statement"][0]["Effect"] == "Allow";
                        define(
                            document,
                            if kind == "rcp" && full_access {
                                RCP_FULL_ACCESS_KIND
                            } else {
                                kind
                            },
                        )
                    })
                    .collect();
                guardrails.insert(field.to_string(), Json::from(ids));
            }
            let request = &case["request"];
            let caller = request["caller"].as_str().unwrap();
            let mut line = serde_json::json!({
                "id": expected.len(),
                "principal": if caller == "anonymous" { Json::Null } else { Json::from(caller) },
                "action": request["action"],
                "resource": request["resource"],
                "resourceAccount": request["resource_account"],
                "context": request.get("context").cloned().unwrap_or(serde_json::json!({})),
                "identityPolicies": identity,
                "resourcePolicy": resource,
            });
            line.as_object_mut().unwrap().extend(guardrails);
            requests.push(line.to_string());
            expected.push((
                file_name.clone(),
                case["name"].as_str().unwrap().to_string(),
                verdict.to_string(),
            ));
        }
    }
    let answers = ask(&simulator_dir(), &policies, requests);
    assert_eq!(answers.len(), expected.len());
    let mut disagreements: Vec<(String, String)> = Vec::new();
    for (id, answer) in answers {
        let (file, name, verdict) = &expected[id];
        match answer {
            Ok(theirs) if &theirs == verdict => {}
            Ok(_) => disagreements.push((file.clone(), name.clone())),
            Err(error) => panic!("{file} / {name}: simulator error {error}"),
        }
    }
    disagreements.sort();
    let documented: Vec<(String, String)> = DOCUMENTED_DISAGREEMENTS
        .iter()
        .map(|(file, name)| (file.to_string(), name.to_string()))
        .collect();
    assert_eq!(disagreements, documented);
}

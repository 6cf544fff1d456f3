//! `check` on generated scenarios, as it runs at scale: it asks only the roles a bucket's
//! documents can let in, shares one evaluation between callers the documents cannot tell
//! apart, and still catches a statement missing from, or an access added to, any of the three
//! layers (bucket policy, key policy, identity policy). The mutations run here on the
//! 200-grant benchmark scenario; `benches/check.sh` runs them on 2,000 and 20,000 grants
//! (`CROSSGRANT_CHECK_GRANTS=2000 cargo test --release --test eval check_scale::full_size --
//! --ignored`).

use crossgrant::eval::check::{check_into, CallerResults, ProbeResult, Sharing, Sink, Summary};
use crossgrant::eval::engine::{evaluate, Layer};
use crossgrant::eval::probe::{probes, CallerKind, World};
use crossgrant::generate::{scenario, Shape};
use crossgrant::lower::{lower, Lowered};
use crossgrant::policy::{Clause, Effect, PolicyDocument, Principal, Statement, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::io;

/// The shapes of `benches/check.sh` (and `benches/synth.sh`).
fn benchmark_shape(grants: usize) -> Shape {
    let (buckets, roles, accounts, team_size) = match grants {
        200 => (10, 50, 10, 5),
        2000 => (40, 400, 40, 10),
        20000 => (100, 2000, 100, 10),
        other => panic!("no benchmark scenario of {other} grants"),
    };
    Shape {
        seed: 1,
        buckets,
        roles,
        accounts,
        grants,
        team_size,
        declare_paths: true,
        ..Shape::default()
    }
}

/// A role in the buckets' own account, granted one bucket: in its own account an identity
/// policy, or a bucket policy naming the role, is enough on its own.
const OWNER_ROLE: &str = r#"
[roles.owner-reader]
account = "owner-001"
name = "owner-reader"
service = "lambda.amazonaws.com"

[[grants]]
role = "owner-reader"
bucket = "data-0001"
access = "read"
"#;

fn generated(shape: &Shape) -> Lowered {
    let (text, _) = scenario(shape);
    let text = format!("{text}{OWNER_ROLE}");
    lower(crossgrant::parse_scenario("generated.toml", &text).expect("a valid scenario"))
}

/// What a check found, without keeping what passed: the failing results in their caller's own
/// names, who was asked about which bucket, and how many callers took another's evaluation.
#[derive(Default)]
struct Findings {
    summary: Summary,
    failures: Vec<ProbeResult>,
    asked: BTreeSet<(String, String)>,
    shared: usize,
    evaluations: BTreeMap<String, BTreeSet<usize>>,
}

impl Sink for Findings {
    fn begin(&mut self, _: &str, _: crossgrant::eval::check::Totals) -> io::Result<()> {
        Ok(())
    }

    fn caller(&mut self, results: &CallerResults) -> io::Result<()> {
        if results.results.iter().any(|result| !result.passed()) {
            self.failures.extend(
                results
                    .to_owned_results()
                    .into_iter()
                    .filter(|result| !result.passed()),
            );
        }
        self.asked
            .insert((results.kind.to_string(), results.bucket.to_string()));
        let fresh = self
            .evaluations
            .entry(results.bucket.to_string())
            .or_default()
            .insert(results.results.as_ptr() as usize);
        if !fresh {
            self.shared += 1;
        }
        Ok(())
    }

    fn end(&mut self, summary: &Summary) -> io::Result<()> {
        self.summary = *summary;
        Ok(())
    }
}

fn findings(lowered: &Lowered, sharing: Sharing) -> Findings {
    let mut findings = Findings::default();
    check_into(lowered, sharing, &mut findings).unwrap();
    findings
}

impl Findings {
    /// The layers blamed for intended operations that were denied.
    fn blamed(&self) -> Vec<Layer> {
        let mut layers: Vec<Layer> = self
            .failures
            .iter()
            .filter(|result| result.probe.intended)
            .flat_map(|result| {
                result
                    .denied_step()
                    .map(|(_, decision)| decision.deciding_layers())
                    .unwrap_or_default()
            })
            .collect();
        layers.sort();
        layers.dedup();
        layers
    }

    /// `caller on bucket: operation` of every failure.
    fn failing(&self) -> BTreeSet<String> {
        self.failures
            .iter()
            .map(|result| {
                format!(
                    "{} on {}: {}",
                    result.probe.caller_kind,
                    result.probe.bucket,
                    result.probe.operation.name()
                )
            })
            .collect()
    }

    fn assert_failing(&self, wanted: &str) {
        assert!(!self.summary.passed(), "the mutation went unnoticed");
        assert!(
            self.failing()
                .iter()
                .any(|failing| failing.starts_with(wanted)),
            "nothing failing starts with {wanted:?}: {:#?}",
            self.failing()
        );
    }
}

/// Statements that pin a principal by its ARN (`aws:PrincipalArn`): those of the consumers.
fn pins_a_principal(statement: &Statement) -> bool {
    statement.effect == Effect::Allow
        && statement
            .condition
            .values()
            .any(|keys| keys.contains_key("aws:PrincipalArn"))
}

fn remove_first_pinned(document: &mut PolicyDocument) -> Statement {
    let index = document
        .statements
        .iter()
        .position(pins_a_principal)
        .expect("a statement naming a consumer");
    document.statements.remove(index)
}

/// Takes the `aws:PrincipalArn` pins off every statement: the account root alone is named.
fn unpin(document: &mut PolicyDocument) {
    for statement in &mut document.statements {
        for keys in statement.condition.values_mut() {
            keys.remove("aws:PrincipalArn");
        }
        statement.condition.retain(|_, keys| !keys.is_empty());
    }
}

/// Takes out the statement that lets IAM policies of the key's account grant its use.
fn remove_delegation(document: &mut PolicyDocument) {
    let before = document.statements.len();
    document
        .statements
        .retain(|statement| statement.sid.as_deref() != Some("EnableIamPolicies"));
    assert_eq!(
        document.statements.len() + 1,
        before,
        "no EnableIamPolicies"
    );
}

fn bucket_name(lowered: &Lowered, bucket: &str) -> String {
    lowered.scenario.buckets[bucket].bucket_name.clone()
}

type Mutation = (&'static str, fn(&mut Lowered), fn(&Findings));

/// Every mutation with what `check` must say about it; each must fail it.
const MUTATIONS: [Mutation; 6] = [
    (
        "a bucket-policy statement removed",
        |lowered| {
            remove_first_pinned(lowered.bucket_policies.get_mut("data-0001").unwrap());
        },
        |findings| {
            assert_eq!(findings.blamed(), [Layer::BucketPolicy]);
            findings.assert_failing("role consumer-");
        },
    ),
    (
        "a bucket policy that names an owner-account role it does not grant",
        |lowered| {
            // Listing needs no key: the bucket policy alone decides it.
            let arn = lowered.scenario.role_arn("owner-reader");
            let bucket = format!("arn:aws:s3:::{}", bucket_name(lowered, "data-0002"));
            let policy = lowered.bucket_policies.get_mut("data-0002").unwrap();
            policy.statements.push(
                Statement::allow("OverGrant")
                    .principal(Principal::aws([Value::lit(arn)]))
                    .actions(["s3:ListBucket"])
                    .resources([Value::lit(bucket)]),
            );
        },
        |findings| findings.assert_failing("role owner-reader on data-0002: ListBucket"),
    ),
    (
        "a key-policy statement removed",
        |lowered| {
            remove_first_pinned(lowered.key_policies.get_mut("key-0001").unwrap());
        },
        |findings| {
            assert_eq!(findings.blamed(), [Layer::KeyPolicy]);
            findings.assert_failing("role consumer-");
        },
    ),
    (
        "a key policy that names consumer accounts without pinning their roles",
        |lowered| unpin(lowered.key_policies.get_mut("key-0001").unwrap()),
        |findings| findings.assert_failing("admin role in consumer-"),
    ),
    (
        "an identity statement removed from the second role of a team",
        |lowered| {
            let policy = lowered.role_policies.get_mut("consumer-00002").unwrap();
            let index = policy
                .statements
                .iter()
                .position(|statement| {
                    matches!(&statement.action, Clause::Is(actions)
                        if actions.iter().any(|action| action.starts_with("s3:Get")))
                })
                .expect("a statement that reads");
            policy.statements.remove(index);
        },
        |findings| {
            assert_eq!(findings.blamed(), [Layer::Identity]);
            findings.assert_failing("role consumer-00002 on");
            assert!(
                findings
                    .failing()
                    .iter()
                    .all(|failing| failing.starts_with("role consumer-00002 on")),
                "{:#?}",
                findings.failing()
            );
        },
    ),
    (
        "an identity policy that reaches another bucket of its own account",
        |lowered| {
            // Without the key policy's delegation to the account, only the identity policy
            // names data-0002's resources for the role: that alone must get it asked.
            remove_delegation(lowered.key_policies.get_mut("key-0002").unwrap());
            let bucket = format!("arn:aws:s3:::{}", bucket_name(lowered, "data-0002"));
            let policy = lowered.role_policies.get_mut("owner-reader").unwrap();
            policy.statements.push(
                Statement::allow("OverGrant")
                    .actions(["s3:ListBucket"])
                    .resources([Value::lit(bucket)]),
            );
        },
        |findings| findings.assert_failing("role owner-reader on data-0002: ListBucket"),
    ),
];

fn assert_mutations_caught(shape: &Shape) {
    let unbroken = generated(shape);
    let found = findings(&unbroken, Sharing::Shared);
    assert!(found.summary.passed(), "{:#?}", found.failing());
    for (name, mutate, judge) in MUTATIONS {
        let mut lowered = unbroken.clone();
        mutate(&mut lowered);
        let started = std::time::Instant::now();
        let found = findings(&lowered, Sharing::Shared);
        eprintln!(
            "{name}: {} of {} operations wrong ({:.1?})",
            found.summary.wrong,
            found.summary.operations,
            started.elapsed()
        );
        judge(&found);
    }
}

#[test]
fn every_layer_broken_or_widened_is_caught_on_a_generated_scenario() {
    assert_mutations_caught(&benchmark_shape(200));
}

/// The benchmark's full sizes: `CROSSGRANT_CHECK_GRANTS=2000` or `20000`.
#[test]
#[ignore = "minutes at full size; run by benches/check.sh"]
fn full_size() {
    let grants = std::env::var("CROSSGRANT_CHECK_GRANTS")
        .expect("CROSSGRANT_CHECK_GRANTS: 2000 or 20000")
        .parse()
        .expect("a number of grants");
    assert_mutations_caught(&benchmark_shape(grants));
}

/// Everything a result says, in the caller's own names.
fn described(result: &ProbeResult) -> String {
    let steps: Vec<String> = result
        .steps
        .iter()
        .map(|step| match &step.outcome {
            Ok(decision) => format!(
                "{} {:?} {:?}",
                step.action, decision.verdict, decision.reasons
            ),
            Err(error) => format!("{} error {error}", step.action),
        })
        .collect();
    format!(
        "{} ({}) on {}: {} {} {:?} intended={} passed={} kept={} {steps:?}",
        result.probe.caller_kind,
        result.probe.steps[0].request.caller,
        result.probe.bucket,
        result.probe.operation.name(),
        result.probe.operation.target(),
        result.probe.transport,
        result.probe.intended,
        result.passed(),
        result.kept,
    )
}

#[derive(Default)]
struct Everything(Vec<String>, usize);

impl Sink for Everything {
    fn begin(&mut self, _: &str, _: crossgrant::eval::check::Totals) -> io::Result<()> {
        Ok(())
    }

    fn caller(&mut self, results: &CallerResults) -> io::Result<()> {
        self.1 += usize::from(!results.is_verbatim());
        self.0
            .extend(results.to_owned_results().iter().map(described));
        Ok(())
    }

    fn end(&mut self, _: &Summary) -> io::Result<()> {
        Ok(())
    }
}

/// A shared evaluation says, for every caller, exactly what asking it alone says: for teams,
/// look-alikes, probe callers, organizations and role principals, broken documents included.
#[test]
fn sharing_an_evaluation_changes_no_result() {
    let small = Shape {
        buckets: 4,
        roles: 24,
        accounts: 4,
        grants: 48,
        team_size: 4,
        declare_paths: true,
        ..Shape::default()
    };
    let shapes = [
        small.clone(),
        Shape {
            organization: true,
            organization_paths: true,
            paths: Some(2),
            ..small.clone()
        },
        Shape {
            role_principals: true,
            declare_paths: false,
            ..small.clone()
        },
    ];
    for shape in &shapes {
        let unbroken = generated(shape);
        let mut broken = unbroken.clone();
        // One team member's identity policy loses a statement, a bucket policy gets unpinned
        // and a Deny that spares one account.
        broken
            .role_policies
            .get_mut("consumer-00002")
            .unwrap()
            .statements
            .pop();
        unpin(broken.bucket_policies.get_mut("data-0001").unwrap());
        // A Deny for everyone but one consumer account: it tells accounts apart.
        let objects = format!("arn:aws:s3:::{}/*", bucket_name(&broken, "data-0001"));
        let spared = broken.scenario.accounts["consumer-0001"].root_arn();
        broken
            .bucket_policies
            .get_mut("data-0001")
            .unwrap()
            .statements
            .push(Statement {
                principal: Some(Clause::Not(Principal::aws([Value::lit(spared)]))),
                ..Statement::deny("AllButOne")
                    .actions(["s3:GetObject"])
                    .resources([Value::lit(objects)])
            });
        for lowered in [&unbroken, &broken] {
            let mut shared = Everything::default();
            let mut alone = Everything::default();
            check_into(lowered, Sharing::Shared, &mut shared).unwrap();
            check_into(lowered, Sharing::Alone, &mut alone).unwrap();
            assert!(shared.1 > 0, "{shape:?}: no caller shared an evaluation");
            assert_eq!(alone.1, 0);
            assert_eq!(shared.0.len(), alone.0.len(), "{shape:?}");
            for (shared, alone) in shared.0.iter().zip(&alone.0) {
                assert_eq!(shared, alone, "{shape:?}");
            }
        }
    }
}

/// The benchmark scenario shares most evaluations: teams, look-alikes and administrators.
#[test]
fn most_callers_share_an_evaluation_on_the_benchmark_scenario() {
    let found = findings(&generated(&benchmark_shape(200)), Sharing::Shared);
    let evaluated: usize = found.evaluations.values().map(BTreeSet::len).sum();
    assert!(
        found.shared > 2 * evaluated,
        "{} callers shared {evaluated} evaluations",
        found.shared
    );
}

/// A role that `check` does not ask about a bucket is denied every probe of it: asking every
/// role about every bucket, as `probes` does, finds nothing allowed among those left out.
#[test]
fn roles_left_out_are_denied_every_probe() {
    let mut lowered = generated(&benchmark_shape(200));
    // Widen one role's reach, through its identity policy alone, so the set of roles asked
    // must grow with it.
    remove_delegation(lowered.key_policies.get_mut("key-0003").unwrap());
    let objects = format!("arn:aws:s3:::{}/*", bucket_name(&lowered, "data-0003"));
    lowered
        .role_policies
        .get_mut("owner-reader")
        .unwrap()
        .statements
        .push(
            Statement::allow("AlsoData3")
                .actions(["s3:GetObject"])
                .resources([Value::lit(objects)]),
        );
    let found = findings(&lowered, Sharing::Shared);
    assert!(found
        .asked
        .contains(&("role owner-reader".to_string(), "data-0003".to_string())));
    let world = World::build(&lowered);
    let mut left_out = 0;
    for probe in probes(&lowered) {
        let CallerKind::Role { .. } = &probe.caller_kind else {
            continue;
        };
        let pair = (probe.caller_kind.to_string(), probe.bucket.to_string());
        if found.asked.contains(&pair) {
            continue;
        }
        left_out += 1;
        let allowed = probe.steps.iter().all(|step| {
            evaluate(&step.request, &world.policies(step))
                .is_ok_and(|decision| decision.verdict.is_allowed())
        });
        assert!(
            !allowed,
            "{pair:?} was not asked but is allowed {:?}",
            probe.operation
        );
    }
    assert!(left_out > 0, "every role was asked about every bucket");
}

/// Sharing changes no result on any example either — guardrails that follow the caller (SCPs,
/// boundaries), roles behind VPC endpoints and grants bound to them, access points asked per
/// account — nor on a generated scenario under guardrails, where callers do share.
#[test]
fn sharing_an_evaluation_changes_no_result_on_the_examples_and_under_guardrails() {
    for path in crate::common::examples() {
        let scenario =
            crossgrant::load_scenario(&path).unwrap_or_else(|error| panic!("{}", error.render()));
        same_results(&lower(scenario), &path.display().to_string(), false);
    }
    use crossgrant::model::{Guardrail, GuardrailKind};
    let mut lowered = generated(&Shape {
        buckets: 4,
        roles: 24,
        accounts: 4,
        grants: 48,
        team_size: 4,
        declare_paths: true,
        ..Shape::default()
    });
    let document = |statements: serde_json::Value| {
        crossgrant::eval::parse_policy_json(
            &serde_json::json!({"Version": "2012-10-17", "Statement": statements}).to_string(),
        )
        .unwrap()
    };
    let scenario = &mut lowered.scenario;
    scenario.organization = Some("o-exampleorg1".into());
    let accounts: Vec<String> = scenario.accounts.keys().cloned().collect();
    let roles: Vec<String> = scenario.roles.keys().step_by(3).cloned().collect();
    scenario.guardrails = vec![
        Guardrail {
            kind: GuardrailKind::Rcp {
                accounts: accounts.clone(),
            },
            file: "rcp.json".into(),
            document: document(serde_json::json!([{"Effect": "Deny", "Principal": "*",
                "Action": ["s3:*", "kms:*"], "Resource": "*",
                "Condition": {"StringNotEqualsIfExists": {"aws:PrincipalOrgID": "o-exampleorg1"}}}])),
        },
        Guardrail {
            kind: GuardrailKind::Scp {
                accounts: accounts[1..2].to_vec(),
            },
            file: "scp.json".into(),
            document: document(
                serde_json::json!([{"Effect": "Deny", "Action": "s3:PutObject",
                "Resource": "*"}]),
            ),
        },
        Guardrail {
            kind: GuardrailKind::PermissionsBoundary {
                arn: "arn:aws:iam::111111111111:policy/B".into(),
                roles,
            },
            file: "boundary.json".into(),
            document: document(serde_json::json!([{"Effect": "Allow",
                "Action": ["s3:Get*", "s3:List*", "kms:Decrypt"], "Resource": "*"}])),
        },
    ];
    same_results(&lowered, "generated scenario under guardrails", true);
}

/// Asserts that sharing evaluations gives the results of asking each caller alone (and that
/// some callers share, when `must_share`).
fn same_results(lowered: &Lowered, origin: &str, must_share: bool) {
    let mut shared = Everything::default();
    let mut alone = Everything::default();
    check_into(lowered, Sharing::Shared, &mut shared).unwrap();
    check_into(lowered, Sharing::Alone, &mut alone).unwrap();
    assert!(!must_share || shared.1 > 0, "{origin}: no caller shared");
    assert_eq!(shared.0.len(), alone.0.len(), "{origin}");
    if let Some((shared, alone)) = shared.0.iter().zip(&alone.0).find(|(a, b)| a != b) {
        panic!("{origin}: shared\n{shared}\nalone\n{alone}");
    }
}

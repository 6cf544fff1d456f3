//! Consolidation keeps the exact same access. Every Allow statement of the lowered documents is
//! expanded, structurally and independently of the code under test, into the set of
//! (policy, caller, action, resource, remaining conditions) it allows, over a universe of callers:
//! every scenario role, and roles the scenario does not declare — in its accounts (at the root
//! path and under every role path the scenario does not declare it holds), in another account
//! of the organization, and in an account outside it. The sets before consolidation and after
//! must be identical, for generated scenarios of every shape.

use crossgrant::consolidate::Fit;
use crossgrant::generate::{scenario, AccessMix, Shape};
use crossgrant::lower::{lower_with, Lowered, Resource};
use crossgrant::model::Scenario;
use crossgrant::policy::{Clause, Effect, PolicyDocument, Principal, Ref, Statement, Value};
use proptest::prelude::*;
use std::collections::{BTreeMap, BTreeSet};

const ORGANIZATION_MEMBER: &str = "999999999990";
const STRANGER: &str = "999999999991";

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Grant {
    policy: String,
    effect: &'static str,
    caller: String,
    action: String,
    resource: String,
    conditions: String,
}

struct Caller {
    arn: String,
    account: String,
}

/// Callers the policies are judged for.
fn universe(scenario: &Scenario) -> Vec<Caller> {
    let caller = |account: &str, path: &str, name: &str| Caller {
        arn: format!("arn:aws:iam::{account}:role{path}{name}"),
        account: account.to_string(),
    };
    let mut callers: Vec<Caller> = scenario
        .roles
        .values()
        .map(|role| {
            let account = &scenario.account(&role.account).id;
            caller(account, &role.path, &role.role_name)
        })
        .collect();
    let role_paths: BTreeSet<&str> = scenario.roles.values().map(|r| r.path.as_str()).collect();
    for account in scenario.accounts.values() {
        callers.push(caller(&account.id, "/", "outsider"));
        for path in &role_paths {
            if !account
                .role_paths
                .iter()
                .any(|held| path.starts_with(held.as_str()))
            {
                callers.push(caller(&account.id, path, "outsider"));
            }
        }
    }
    for path in role_paths.iter().copied().chain(["/"]) {
        let held_by_organization = scenario
            .organization_role_paths
            .iter()
            .any(|held| path.starts_with(held.as_str()));
        if !held_by_organization {
            callers.push(caller(ORGANIZATION_MEMBER, path, "outsider"));
        }
        callers.push(caller(STRANGER, path, "outsider"));
    }
    callers
}

fn in_organization(scenario: &Scenario, account: &str) -> bool {
    scenario.organization.is_some()
        && (account == ORGANIZATION_MEMBER
            || scenario.accounts.values().any(|known| known.id == account))
}

fn literal(scenario: &Scenario, value: &Value) -> String {
    match value {
        Value::Lit(text) => text.clone(),
        Value::Ref(Ref::KeyArn(key)) => format!("arn:aws:kms:key-of:{key}"),
        Value::Ref(Ref::RoleArn(role)) => scenario.role_arn(role),
        Value::Ref(other) => panic!("no policy refers to {other:?}"),
    }
}

/// `*` matches any run of characters, `?` one character.
fn glob(pattern: &str, text: &str) -> bool {
    if !pattern.contains(['*', '?']) {
        return pattern == text;
    }
    let (p, t) = (pattern.as_bytes(), text.as_bytes());
    let (mut i, mut j) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while j < t.len() {
        if i < p.len() && (p[i] == b'?' || p[i] == t[j]) {
            i += 1;
            j += 1;
        } else if i < p.len() && p[i] == b'*' {
            star = Some((i, j));
            i += 1;
        } else if let Some((star_i, star_j)) = star {
            i = star_i + 1;
            j = star_j + 1;
            star = Some((star_i, star_j + 1));
        } else {
            return false;
        }
    }
    p[i..].iter().all(|&c| c == b'*')
}

#[derive(PartialEq)]
enum Kind {
    Bucket,
    Object,
    Key,
}

fn action_kind(action: &str) -> Option<Kind> {
    if action.contains(['*', '?']) {
        None
    } else if let Some(name) = action.strip_prefix("s3:") {
        Some(if name.contains("Bucket") {
            Kind::Bucket
        } else {
            Kind::Object
        })
    } else if action.starts_with("kms:") {
        Some(Kind::Key)
    } else {
        None
    }
}

fn resource_kind(resource: &str) -> Option<Kind> {
    if let Some(rest) = resource.strip_prefix("arn:aws:s3:::") {
        Some(if rest.contains('/') {
            Kind::Object
        } else {
            Kind::Bucket
        })
    } else if resource.starts_with("arn:aws:kms:") {
        Some(Kind::Key)
    } else {
        None
    }
}

/// A request for `action` can name `resource` unless both kinds are known and differ.
fn applicable(action: &str, resource: &str) -> bool {
    match (action_kind(action), resource_kind(resource)) {
        (Some(a), Some(r)) => a == r,
        _ => true,
    }
}

fn principal_matches(scenario: &Scenario, principal: &Principal, caller: &Caller) -> bool {
    match principal {
        Principal::Any => true,
        Principal::Typed(map) => map.iter().any(|(kind, values)| {
            kind == "AWS"
                && values.iter().any(|value| {
                    let text = literal(scenario, value);
                    text == "*"
                        || text == caller.arn
                        || text == format!("arn:aws:iam::{}:root", caller.account)
                })
        }),
    }
}

fn expand(
    scenario: &Scenario,
    policy: &str,
    document: &PolicyDocument,
    identity_of: Option<&str>,
    callers: &[Caller],
    out: &mut BTreeSet<Grant>,
) {
    for statement in &document.statements {
        expand_statement(scenario, policy, statement, identity_of, callers, out);
    }
}

fn expand_statement(
    scenario: &Scenario,
    policy: &str,
    statement: &Statement,
    identity_of: Option<&str>,
    callers: &[Caller],
    out: &mut BTreeSet<Grant>,
) {
    let Clause::Is(actions) = &statement.action else {
        panic!("crossgrant writes no NotAction")
    };
    let Some(Clause::Is(resources)) = &statement.resource else {
        panic!("crossgrant writes Resource on every access statement")
    };
    let mut residual: BTreeMap<&str, BTreeMap<&str, BTreeSet<String>>> = BTreeMap::new();
    for (operator, keys) in &statement.condition {
        for (key, values) in keys {
            if key != "aws:PrincipalArn" && key != "aws:PrincipalOrgID" {
                residual
                    .entry(operator)
                    .or_default()
                    .insert(key, values.iter().map(|v| literal(scenario, v)).collect());
            }
        }
    }
    let conditions = format!("{residual:?}");
    for caller in callers {
        let admitted = match (identity_of, &statement.principal) {
            (Some(arn), None) => caller.arn == arn,
            (None, Some(Clause::Is(principal))) => principal_matches(scenario, principal, caller),
            other => panic!("unexpected principal element {other:?} in {policy}"),
        };
        if !admitted {
            continue;
        }
        let conditions_hold = statement.condition.iter().all(|(operator, keys)| {
            keys.iter()
                .all(|(key, values)| match (operator.as_str(), key.as_str()) {
                    ("ArnEquals" | "ArnLike", "aws:PrincipalArn") => values
                        .iter()
                        .any(|value| glob(&literal(scenario, value), &caller.arn)),
                    ("StringEquals", "aws:PrincipalOrgID") => {
                        in_organization(scenario, &caller.account)
                            && values
                                .iter()
                                .any(|value| scenario.organization.as_deref() == value.as_lit())
                    }
                    (_, "aws:PrincipalArn" | "aws:PrincipalOrgID") => {
                        panic!("unexpected {operator} on {key}")
                    }
                    _ => true,
                })
        });
        if !conditions_hold {
            continue;
        }
        for action in actions {
            for resource in resources {
                let resource = literal(scenario, resource);
                if applicable(action, &resource) {
                    out.insert(Grant {
                        policy: policy.to_string(),
                        effect: match statement.effect {
                            Effect::Allow => "Allow",
                            Effect::Deny => "Deny",
                        },
                        caller: caller.arn.clone(),
                        action: action.clone(),
                        resource,
                        conditions: conditions.clone(),
                    });
                }
            }
        }
    }
}

/// Everything the resource policies and the identity policies allow. Identity policies are
/// read from the deploy units (inline and managed parts), so a part lost on the way to the
/// renderers would show.
fn grants(lowered: &Lowered) -> BTreeSet<Grant> {
    let scenario = &lowered.scenario;
    let callers = universe(scenario);
    let mut out = BTreeSet::new();
    for (bucket, policy) in &lowered.bucket_policies {
        expand(
            scenario,
            &format!("bucket {bucket}"),
            policy,
            None,
            &callers,
            &mut out,
        );
    }
    for (key, policy) in &lowered.key_policies {
        expand(
            scenario,
            &format!("key {key}"),
            policy,
            None,
            &callers,
            &mut out,
        );
    }
    for unit in &lowered.units {
        for resource in &unit.resources {
            if let Resource::RolePolicy { role, policy }
            | Resource::ManagedPolicy { role, policy, .. } = resource
            {
                let arn = scenario.role_arn(role);
                expand(
                    scenario,
                    &format!("role {role}"),
                    policy,
                    Some(&arn),
                    &callers,
                    &mut out,
                );
            }
        }
    }
    out
}

fn lowered(shape: &Shape, fit: Fit) -> Lowered {
    let (text, _) = scenario(shape);
    let scenario = crossgrant::parse_scenario("generated.toml", &text).expect("valid scenario");
    lower_with(scenario, fit)
}

fn assert_same_access(shape: &Shape) {
    let reference = grants(&lowered(shape, Fit::Never));
    assert!(!reference.is_empty());
    for fit in [Fit::Always, Fit::AsNeeded] {
        let consolidated = lowered(shape, fit);
        let after = grants(&consolidated);
        let gained: Vec<_> = after.difference(&reference).take(3).collect();
        let lost: Vec<_> = reference.difference(&after).take(3).collect();
        assert!(
            gained.is_empty() && lost.is_empty(),
            "{fit:?} changed access of {shape:?}:\ngained {gained:#?}\nlost {lost:#?}"
        );
        // The evaluator reads the united identity policy; it must hold the same statements.
        for (role, union) in &consolidated.role_policies {
            let mut parts: Vec<&Statement> = consolidated
                .units
                .iter()
                .flat_map(|unit| &unit.resources)
                .filter_map(|resource| match resource {
                    Resource::RolePolicy { role: name, policy }
                    | Resource::ManagedPolicy {
                        role: name, policy, ..
                    } if name == role => Some(&policy.statements),
                    _ => None,
                })
                .flatten()
                .collect();
            let mut whole: Vec<&Statement> = union.statements.iter().collect();
            parts.sort();
            whole.sort();
            assert_eq!(
                parts, whole,
                "role {role}: deployed parts differ from its policy"
            );
        }
    }
}

fn shapes() -> impl Strategy<Value = Shape> {
    (
        any::<u64>(),
        (1usize..6, 1usize..3, 1usize..3, 1usize..6),
        (
            1usize..30,
            1usize..6,
            1usize..4,
            proptest::option::of(1usize..4),
        ),
        (0u32..=100, 0usize..4),
        (any::<bool>(), any::<bool>(), any::<bool>(), any::<bool>()),
    )
        .prop_map(
            |(
                seed,
                (buckets, buckets_per_key, owners, accounts),
                (roles, team_size, grants_per_role, paths),
                (prefix_percent, access),
                (declare_paths, role_principals, organization, organization_paths),
            )| Shape {
                seed,
                buckets,
                buckets_per_key,
                owners,
                accounts,
                roles,
                team_size,
                paths,
                grants: roles * grants_per_role,
                access: [
                    AccessMix::Mixed,
                    AccessMix::Read,
                    AccessMix::Write,
                    AccessMix::ReadWrite,
                ][access],
                prefix_percent,
                declare_paths,
                role_principals,
                organization,
                organization_paths,
                max_managed_policies: None,
                access_points: false,
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn consolidation_keeps_the_exact_same_access(shape in shapes()) {
        assert_same_access(&shape);
    }
}

#[test]
fn six_hundred_roles_keep_their_access_through_every_step() {
    let shape = Shape {
        buckets: 1,
        roles: 600,
        accounts: 60,
        team_size: 10,
        grants: 600,
        access: AccessMix::Read,
        prefix_percent: 0,
        declare_paths: true,
        ..Shape::default()
    };
    assert_same_access(&shape);
    assert_same_access(&Shape {
        organization: true,
        organization_paths: true,
        ..shape.clone()
    });
    assert_same_access(&Shape {
        role_principals: true,
        ..shape
    });
}

#[test]
fn one_path_in_four_hundred_accounts_keeps_its_access_when_named_for_the_organization() {
    let shape = Shape {
        buckets: 1,
        roles: 800,
        accounts: 400,
        team_size: 2,
        paths: Some(1),
        grants: 800,
        access: AccessMix::Read,
        prefix_percent: 0,
        organization_paths: true,
        ..Shape::default()
    };
    let consolidated = lowered(&shape, Fit::AsNeeded);
    let text = format!("{:?}", consolidated.bucket_policies);
    assert!(text.contains("arn:aws:iam::*:role/team-0001/*"), "{text}");
    assert!(text.contains("aws:PrincipalOrgID"), "{text}");
    assert_same_access(&shape);
}

#[test]
fn split_roles_keep_their_access() {
    let shape = Shape {
        seed: 3,
        buckets: 150,
        roles: 2,
        accounts: 1,
        grants: 300,
        ..Shape::default()
    };
    let consolidated = lowered(&shape, Fit::AsNeeded);
    let managed = consolidated
        .units
        .iter()
        .flat_map(|unit| &unit.resources)
        .filter(|resource| matches!(resource, Resource::ManagedPolicy { .. }))
        .count();
    assert!(
        managed >= 2,
        "expected the roles to be split, got {managed} managed policies"
    );
    assert_same_access(&shape);
}

/// The comparison has teeth: one more pinned role, or one pattern too wide, shows.
#[test]
fn a_widened_grant_is_detected() {
    let shape = Shape {
        buckets: 1,
        roles: 40,
        accounts: 4,
        team_size: 5,
        grants: 40,
        access: AccessMix::Read,
        prefix_percent: 0,
        declare_paths: true,
        ..Shape::default()
    };
    let reference = grants(&lowered(&shape, Fit::Never));
    let mut widened = lowered(&shape, Fit::Always);
    let policy = widened.bucket_policies.values_mut().next().unwrap();
    let pins = policy
        .statements
        .iter_mut()
        .find_map(|statement| {
            statement
                .condition
                .get_mut("ArnLike")
                .and_then(|keys| keys.get_mut("aws:PrincipalArn"))
        })
        .expect("a consolidated statement names paths by pattern");
    let first = pins[0].as_lit().unwrap().to_string();
    let account = first.split(':').nth(4).unwrap().to_string();
    pins.push(Value::lit(format!("arn:aws:iam::{account}:role/*")));
    assert_ne!(grants(&widened), reference);
}

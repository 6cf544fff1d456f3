//! How the owner's resource policies name consumer roles: by account root pinned to the role
//! with `aws:PrincipalArn`, or by role ARN, per the scenario's principal style; and the
//! consumer statements of one policy, roles granted alike sharing one statement.

use crate::aws::condition_key::PRINCIPAL_ARN;
use crate::model::{PrincipalStyle, Scenario};
use crate::names::pascal;
use crate::policy::{Principal, Ref, Statement, Value};
use std::collections::{BTreeSet, HashMap};

/// The principal that names a consumer role in the owner's resource policies, and the
/// `aws:PrincipalArn` values that pin it, per the scenario's principal style.
pub(super) type ConsumerPrincipal = (Value, Vec<Value>);

pub(super) fn consumer_principal(scenario: &Scenario, role: &str) -> ConsumerPrincipal {
    let consumer = &scenario.roles[role];
    let account = scenario.account(&consumer.account);
    // The roles of a permission set have no ARN known in advance: they are pinned by pattern,
    // whatever the principal style.
    if let Some(patterns) = consumer.permission_set_patterns(account) {
        return (
            Value::lit(account.root_arn()),
            patterns.into_iter().map(Value::Lit).collect(),
        );
    }
    match scenario.principal_style {
        PrincipalStyle::Account => (
            Value::lit(account.root_arn()),
            vec![Value::lit(scenario.role_arn(role))],
        ),
        PrincipalStyle::Role => (Value::Ref(Ref::RoleArn(role.to_string())), Vec::new()),
    }
}

/// The condition operator that matches these pins: `ArnLike` as soon as one is a pattern.
pub(super) fn pin_operator<'a>(pins: impl IntoIterator<Item = &'a Value>) -> &'static str {
    let patterned = pins
        .into_iter()
        .any(|pin| pin.as_lit().is_some_and(|text| text.contains(['*', '?'])));
    if patterned {
        "ArnLike"
    } else {
        "ArnEquals"
    }
}

/// What lowering needs of every role, worked out once: policies name the same roles thousands
/// of times.
pub(super) struct RoleNames<'a> {
    pub(super) pascal: HashMap<&'a str, String>,
    pub(super) principals: HashMap<&'a str, ConsumerPrincipal>,
}

impl<'a> RoleNames<'a> {
    pub(super) fn of(scenario: &'a Scenario) -> Self {
        RoleNames {
            pascal: scenario
                .roles
                .keys()
                .map(|role| (role.as_str(), pascal(role)))
                .collect(),
            principals: scenario
                .roles
                .keys()
                .map(|role| (role.as_str(), consumer_principal(scenario, role)))
                .collect(),
        }
    }
}

fn with_consumer(statement: Statement, principal: ConsumerPrincipal) -> Statement {
    let (principal, pins) = principal;
    let statement = statement.principal(Principal::aws([principal]));
    if pins.is_empty() {
        statement
    } else {
        statement.condition(pin_operator(&pins), PRINCIPAL_ARN, pins)
    }
}

/// One role's statement in a resource policy before its principal is added: the Sid it would
/// get, the statement without Sid or principal, and the role's principal.
pub(super) type ConsumerPart<'a> = (String, &'a Statement, &'a ConsumerPrincipal);

/// The consumer statements of a resource policy, merged as
/// [`merge_principals`](super::consolidate::merge_principals) merges them once each part is
/// given its Sid and principal (`with_consumer`), without building the statements that merging
/// would fold away: roles granted alike share one statement body.
pub(super) fn consumer_statements(mut parts: Vec<ConsumerPart>) -> Vec<Statement> {
    parts.sort_by(|a, b| a.0.cmp(&b.0));
    let mut groups: HashMap<&Statement, usize> = HashMap::new();
    let mut members: Vec<Vec<usize>> = Vec::new();
    for (index, (_, body, _)) in parts.iter().enumerate() {
        let next = members.len();
        let group = *groups.entry(*body).or_insert(next);
        if group == next {
            members.push(vec![index]);
        } else {
            members[group].push(index);
        }
    }
    members
        .into_iter()
        .map(|indices| {
            let (sid, body, principal) = &parts[indices[0]];
            let statement = Statement {
                sid: Some(sid.clone()),
                ..(*body).clone()
            };
            if indices.len() == 1 {
                return with_consumer(statement, (*principal).clone());
            }
            let principals: BTreeSet<&Value> =
                indices.iter().map(|&index| &parts[index].2 .0).collect();
            let pins: BTreeSet<&Value> = indices
                .iter()
                .flat_map(|&index| &parts[index].2 .1)
                .collect();
            let statement = statement.principal(Principal::aws(principals.into_iter().cloned()));
            if pins.is_empty() {
                statement
            } else {
                let operator = pin_operator(pins.iter().copied());
                statement.condition(operator, PRINCIPAL_ARN, pins.into_iter().cloned())
            }
        })
        .collect()
}

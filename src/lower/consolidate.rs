//! Lossless consolidation: documents that grew too large for their AWS size limit are rewritten,
//! one step at a time and only while they stay above the warning threshold, into documents that
//! allow exactly the same requests.
//!
//! 1. Merge statements that name the same principals under the same conditions: same actions →
//!    one resource list; same resources → one action list; and an S3 object statement with a
//!    bucket statement, because `s3:GetObject` never applies to a bucket ARN nor `s3:ListBucket`
//!    to an object ARN (only actions crossgrant itself emits are paired so).
//! 2. Name roles by path: when the scenario declares that it holds every role under a path of
//!    an account (`role_paths`), a statement that grants all of them names the path with one
//!    `ArnLike aws:PrincipalArn` pattern instead of each role.
//! 3. Name the organization: with `organization` declared, pinned statements name
//!    `{"AWS": "*"}` under `aws:PrincipalOrgID` instead of every account root (the pinned role
//!    ARNs already name the accounts), and a path declared organization-wide
//!    (`organization_role_paths`) becomes one pattern over every account.
//! 4. Split a role's identity policy into customer-managed policies (each 6,144 characters),
//!    which IAM attaches beside the inline policy (10,240 characters in total).
//!
//! Only statements crossgrant wrote for consumers are touched; any other statement (the key's
//! administrators, a deny added for hardening) is left as it is, where it is.

use super::limits::{
    Budget, Consolidation, Document, FitAdvice, Limit, LimitProblem, Measured, Sizer,
};
use crate::aws::condition_key::{PRINCIPAL_ARN, PRINCIPAL_ORG_ID};
use crate::aws::{action_resource_type, iam_arn_rest, s3_arn_rest, Partition, ResourceType};
use crate::model::{IdentityPolicy, Scenario};
use crate::policy::{
    Clause, Conditions, Effect, Name, PolicyDocument, Principal, Ref, Statement, Value,
};
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// How far lowering consolidates.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fit {
    /// Documents as lowered, whatever their size: the reference consolidation is judged by.
    Never,
    /// Each step in turn, only while a document is above the warning threshold.
    AsNeeded,
    /// Every statement-level step on every document, whatever its size (to test equivalence
    /// on small scenarios); roles are still split only when they must be.
    Always,
}

/// What the scenario declares about roles beyond those it lists.
#[derive(Clone, Debug, Default)]
pub struct Scope {
    /// Declared paths with the scenario roles under them, broadest paths first.
    paths: Vec<OwnedPath>,
    organization: Option<String>,
    organization_paths: Vec<OrganizationPath>,
    /// Role ARN by scenario role name.
    role_arns: BTreeMap<Name, String>,
    /// Which of `paths` have each role ARN as their first member.
    paths_by_first_member: HashMap<String, Vec<usize>>,
}

#[derive(Clone, Debug)]
struct OwnedPath {
    path: String,
    pattern: String,
    /// ARNs of the scenario roles under the path, in this path's account.
    members: Vec<String>,
}

#[derive(Clone, Debug)]
struct OrganizationPath {
    path: String,
    pattern: String,
    /// The per-account patterns of this path, one for every account that has roles under it.
    account_patterns: Vec<String>,
}

impl Scope {
    pub fn of(scenario: &Scenario) -> Scope {
        let mut roles_by_account: BTreeMap<&str, Vec<&crate::model::Role>> = BTreeMap::new();
        for role in scenario.roles.values() {
            roles_by_account
                .entry(&role.account)
                .or_default()
                .push(role);
        }
        let mut paths = Vec::new();
        for account in scenario.accounts.values() {
            let roles = roles_by_account
                .get(account.name.as_str())
                .map_or(&[][..], Vec::as_slice);
            for path in &account.role_paths {
                let mut members: Vec<String> = roles
                    .iter()
                    .filter(|role| role.path.starts_with(path.as_str()))
                    .map(|role| role.arn(account))
                    .collect();
                members.sort();
                if !members.is_empty() {
                    paths.push(OwnedPath {
                        path: path.clone(),
                        pattern: account.role_arn(&format!("{path}*")),
                        members,
                    });
                }
            }
        }
        paths.sort_by(|a, b| {
            (a.path.len(), &a.path, &a.pattern).cmp(&(b.path.len(), &b.path, &b.pattern))
        });
        let organization_paths = match &scenario.organization {
            None => Vec::new(),
            Some(_) => scenario
                .organization_role_paths
                .iter()
                .map(|path| OrganizationPath {
                    path: path.clone(),
                    pattern: scenario.partition.iam_arn("*", &format!("role{path}*")),
                    account_patterns: paths
                        .iter()
                        .filter(|owned| owned.path == *path)
                        .map(|owned| owned.pattern.clone())
                        .collect(),
                })
                .filter(|organization_path| !organization_path.account_patterns.is_empty())
                .collect(),
        };
        let mut paths_by_first_member: HashMap<String, Vec<usize>> = HashMap::new();
        for (index, owned) in paths.iter().enumerate() {
            paths_by_first_member
                .entry(owned.members[0].clone())
                .or_default()
                .push(index);
        }
        Scope {
            paths,
            paths_by_first_member,
            organization: scenario.organization.clone(),
            organization_paths,
            role_arns: scenario
                .roles
                .keys()
                .map(|role| (role.clone(), scenario.role_arn(role)))
                .collect(),
        }
    }
}

/// The `aws:PrincipalArn` values that pin a statement to roles, under `ArnEquals` or `ArnLike`.
fn pins(statement: &Statement) -> Vec<&Value> {
    ["ArnEquals", "ArnLike"]
        .iter()
        .filter_map(|operator| statement.condition.get(*operator)?.get(PRINCIPAL_ARN))
        .flatten()
        .collect()
}

fn aws_principals(statement: &Statement) -> Option<&Vec<Value>> {
    match &statement.principal {
        Some(Clause::Is(Principal::Typed(map))) if map.len() == 1 => map.get("AWS"),
        _ => None,
    }
}

/// A statement crossgrant wrote to let consumer roles in: an Allow that names roles, either by
/// ARN or by account root pinned with `aws:PrincipalArn`.
fn is_consumer(statement: &Statement) -> bool {
    let Some(principals) = aws_principals(statement) else {
        return false;
    };
    statement.effect == Effect::Allow
        && !principals.is_empty()
        && (!pins(statement).is_empty()
            || principals
                .iter()
                .all(|value| matches!(value, Value::Ref(Ref::RoleArn(_)))))
}

/// Identity statements (no principal) and consumer statements may be merged with their like.
fn mergeable(statement: &Statement) -> bool {
    statement.effect == Effect::Allow
        && !statement.action.is_negated()
        && matches!(statement.resource, Some(Clause::Is(_)))
        && (statement.principal.is_none() || is_consumer(statement))
}

/// The type of resource a resource value names, when that is certain.
fn resource_type(resource: &Value) -> Option<ResourceType> {
    match resource {
        Value::Ref(Ref::KeyArn(_)) => Some(ResourceType::Key),
        Value::Ref(_) => None,
        Value::Lit(text) => {
            if let Some(rest) = s3_arn_rest(text) {
                if rest.is_empty() || (rest.contains(['*', '?']) && !rest.contains('/')) {
                    None
                } else if rest.contains('/') {
                    Some(ResourceType::Object)
                } else {
                    Some(ResourceType::Bucket)
                }
            } else if crate::aws::arn_after_service(text, "kms").is_some()
                && !text.contains(['*', '?'])
            {
                Some(ResourceType::Key)
            } else {
                None
            }
        }
    }
}

/// Whether a request for `action` can ever name `resource`.
fn applicable(action: &str, resource: &Value) -> bool {
    match (action_resource_type(action), resource_type(resource)) {
        (Some(a), Some(r)) => a == r,
        _ => true,
    }
}

fn actions_of(statement: &Statement) -> &Vec<String> {
    statement.action.inner()
}

fn resources_of(statement: &Statement) -> &[Value] {
    statement
        .resource
        .as_ref()
        .map_or(&[][..], |resource| resource.inner().as_slice())
}

/// Whether the statement allowing both action lists on both resource lists allows nothing more
/// than the two statements do.
fn unite_losslessly(a: &Statement, b: &Statement) -> bool {
    let (actions_a, actions_b) = (actions_of(a), actions_of(b));
    let (resources_a, resources_b) = (resources_of(a), resources_of(b));
    if actions_a == actions_b || resources_a == resources_b {
        return true;
    }
    let new_pairs = |actions: &[String], own: &[String], resources: &[Value], other: &[Value]| {
        actions
            .iter()
            .filter(|action| !own.contains(action))
            .all(|action| {
                resources
                    .iter()
                    .filter(|resource| !other.contains(resource))
                    .all(|resource| !applicable(action, resource))
            })
    };
    new_pairs(actions_a, actions_b, resources_b, resources_a)
        && new_pairs(actions_b, actions_a, resources_a, resources_b)
}

fn unite(into: &mut Statement, other: Statement) {
    let mut actions: BTreeSet<String> = actions_of(into).iter().cloned().collect();
    actions.extend(actions_of(&other).iter().cloned());
    into.action = Clause::Is(actions.into_iter().collect());
    let mut resources: BTreeSet<Value> = resources_of(into).iter().cloned().collect();
    resources.extend(resources_of(&other).iter().cloned());
    into.resource = Some(Clause::Is(resources.into_iter().collect()));
}

type GroupKey<'a> = (&'a Option<Clause<Principal>>, &'a Conditions);

/// Step 1: statements with the same principals and conditions, united wherever that grants
/// nothing new; the survivor keeps the first statement's place and Sid.
pub fn merge_statements(statements: Vec<Statement>) -> Vec<Statement> {
    let has_principals = statements
        .iter()
        .any(|statement| statement.principal.is_some());
    let mut groups: BTreeMap<GroupKey, Vec<usize>> = BTreeMap::new();
    for (index, statement) in statements.iter().enumerate() {
        if mergeable(statement) {
            groups
                .entry((&statement.principal, &statement.condition))
                .or_default()
                .push(index);
        }
    }
    let groups: Vec<Vec<usize>> = groups.into_values().collect();
    let mut slots: Vec<Option<Statement>> = statements.into_iter().map(Some).collect();
    for members in &groups {
        merge_group(&mut slots, members);
    }
    let merged: Vec<Statement> = slots.into_iter().flatten().collect();
    if !has_principals {
        return merged;
    }
    // United resources may leave statements that now differ only in their principals.
    let (consumers, others): (Vec<Statement>, Vec<Statement>) =
        merged.into_iter().partition(is_consumer);
    others
        .into_iter()
        .chain(merge_principals(consumers))
        .collect()
}

fn merge_group(slots: &mut [Option<Statement>], members: &[usize]) {
    loop {
        // Same actions, then same resources: one pass each, keyed.
        let mut changed = unite_by(slots, members, |statement| actions_of(statement).clone());
        changed |= unite_by(slots, members, |statement| resources_of(statement).to_vec());
        // Then statements on different kinds of resource, pair by pair.
        let alive: Vec<usize> = members
            .iter()
            .copied()
            .filter(|&index| slots[index].is_some())
            .collect();
        for (position, &target) in alive.iter().enumerate() {
            for &index in &alive[position + 1..] {
                let (Some(a), Some(b)) = (&slots[target], &slots[index]) else {
                    continue;
                };
                if unite_losslessly(a, b) {
                    let other = slots[index].take().expect("checked above");
                    unite(slots[target].as_mut().expect("checked above"), other);
                    changed = true;
                }
            }
        }
        if !changed {
            return;
        }
    }
}

/// Unites every statement into the first one with the same key; whether any was.
fn unite_by<K: Ord>(
    slots: &mut [Option<Statement>],
    members: &[usize],
    key: impl Fn(&Statement) -> K,
) -> bool {
    let mut first: BTreeMap<K, usize> = BTreeMap::new();
    let mut changed = false;
    for &index in members {
        let Some(statement) = &slots[index] else {
            continue;
        };
        let key = key(statement);
        match first.get(&key) {
            Some(&target) => {
                let other = slots[index].take().expect("checked above");
                unite(slots[target].as_mut().expect("targets stay"), other);
                changed = true;
            }
            None => {
                first.insert(key, index);
            }
        }
    }
    changed
}

/// The account id of an IAM ARN (`arn:aws:iam::<id>:…`).
fn arn_account(arn: &str) -> Option<&str> {
    iam_arn_rest(arn)?.split(':').next()
}

/// The root of the account of an IAM ARN, in the ARN's partition.
fn arn_root(arn: &str) -> Option<String> {
    Some(Partition::of_arn(arn)?.root_arn(arn_account(arn)?))
}

/// Replaces each complete set of a declared path's roles by the path's pattern.
fn apply_patterns(values: &mut BTreeSet<String>, scope: &Scope) -> bool {
    // Only a path whose first member is named can apply; the paths are still taken in their
    // order, as applying one removes roles another may need.
    let mut candidates: Vec<usize> = values
        .iter()
        .filter_map(|value| scope.paths_by_first_member.get(value))
        .flatten()
        .copied()
        .collect();
    candidates.sort_unstable();
    let mut changed = false;
    for owned in candidates.into_iter().map(|index| &scope.paths[index]) {
        if owned.members.iter().all(|member| values.contains(member)) {
            for member in &owned.members {
                values.remove(member);
            }
            values.insert(owned.pattern.clone());
            changed = true;
        }
    }
    changed
}

/// Sets the statement's role pin to `values`, under `ArnLike` when any is a pattern.
fn set_pins(statement: &mut Statement, values: BTreeSet<String>) {
    for operator in ["ArnEquals", "ArnLike"] {
        if let Some(keys) = statement.condition.get_mut(operator) {
            keys.remove(PRINCIPAL_ARN);
            if keys.is_empty() {
                statement.condition.remove(operator);
            }
        }
    }
    let operator = if values.iter().any(|value| value.contains(['*', '?'])) {
        "ArnLike"
    } else {
        "ArnEquals"
    };
    statement
        .condition
        .entry(operator.to_string())
        .or_default()
        .insert(
            PRINCIPAL_ARN.to_string(),
            values.into_iter().map(Value::Lit).collect(),
        );
}

/// The pins as text, when they are all literal and under one operator (two operators on the
/// same key would have to hold together, which no consolidation here writes or reads).
fn literal_pins(statement: &Statement) -> Option<BTreeSet<String>> {
    let operators = ["ArnEquals", "ArnLike"]
        .iter()
        .filter(|operator| {
            statement
                .condition
                .get(**operator)
                .is_some_and(|keys| keys.contains_key(PRINCIPAL_ARN))
        })
        .count();
    if operators != 1 {
        return None;
    }
    pins(statement)
        .into_iter()
        .map(|value| value.as_lit().map(str::to_string))
        .collect()
}

/// Step 2: roles of a declared path named by one pattern. A statement naming role ARNs as
/// principals (principal style `role`) is regrouped under the account roots, pinned with
/// `aws:PrincipalArn`, when a pattern applies to it.
pub fn role_path_patterns(statements: Vec<Statement>, scope: &Scope) -> Vec<Statement> {
    statements
        .into_iter()
        .map(|mut statement| {
            if !is_consumer(&statement) {
                return statement;
            }
            if !pins(&statement).is_empty() {
                let Some(mut values) = literal_pins(&statement) else {
                    return statement;
                };
                if apply_patterns(&mut values, scope) {
                    set_pins(&mut statement, values);
                }
                return statement;
            }
            let roles: Option<BTreeSet<String>> = aws_principals(&statement)
                .into_iter()
                .flatten()
                .map(|value| match value {
                    Value::Ref(Ref::RoleArn(role)) => scope.role_arns.get(role).cloned(),
                    _ => None,
                })
                .collect();
            let Some(roles) = roles else {
                return statement;
            };
            let mut values = roles.clone();
            if apply_patterns(&mut values, scope) {
                let roots: BTreeSet<String> =
                    roles.iter().filter_map(|arn| arn_root(arn)).collect();
                statement.principal = Some(Clause::Is(Principal::aws(
                    roots.into_iter().map(Value::Lit),
                )));
                set_pins(&mut statement, values);
            }
            statement
        })
        .collect()
}

/// Whether a pin names a role under `path` (an ARN or a per-account pattern of that path).
fn under_path(value: &str, path: &str) -> bool {
    iam_arn_rest(value)
        .and_then(|rest| rest.split_once(':'))
        .is_some_and(|(_, resource)| {
            resource
                .strip_prefix("role")
                .is_some_and(|role_path| role_path.starts_with(path))
        })
}

/// Step 3: pinned statements name the organization instead of each account root, and a path
/// declared organization-wide is named once for every account.
pub fn organization(statements: Vec<Statement>, scope: &Scope) -> Vec<Statement> {
    let Some(organization) = &scope.organization else {
        return statements;
    };
    statements
        .into_iter()
        .map(|mut statement| {
            if !is_consumer(&statement) || pins(&statement).is_empty() {
                return statement;
            }
            let Some(mut values) = literal_pins(&statement) else {
                return statement;
            };
            let roots_only = aws_principals(&statement).is_some_and(|principals| {
                principals.iter().all(|value| {
                    value
                        .as_lit()
                        .is_some_and(|text| iam_arn_rest(text).is_some() && text.ends_with(":root"))
                })
            });
            if !roots_only {
                return statement;
            }
            for path in &scope.organization_paths {
                if path
                    .account_patterns
                    .iter()
                    .all(|pattern| values.contains(pattern))
                {
                    values.retain(|value| !under_path(value, &path.path));
                    values.insert(path.pattern.clone());
                }
            }
            statement.principal = Some(Clause::Is(Principal::aws([Value::lit("*")])));
            statement
                .condition
                .entry("StringEquals".to_string())
                .or_default()
                .insert(
                    PRINCIPAL_ORG_ID.to_string(),
                    vec![Value::lit(organization.clone())],
                );
            set_pins(&mut statement, values);
            statement
        })
        .collect()
}

/// One statement-level consolidation step.
type Rewrite<'a> = dyn Fn(Vec<Statement>) -> Vec<Statement> + 'a;

/// A resource policy taken through the steps it needs.
pub fn fit_resource_policy(
    document: PolicyDocument,
    limit: Limit,
    sizer: &Sizer,
    scope: &Scope,
    fit: Fit,
) -> (PolicyDocument, usize, Vec<Consolidation>) {
    let mut statements = document.statements;
    let mut size = sizer.statements(&statements);
    let mut applied = Vec::new();
    let steps: [(Consolidation, &Rewrite); 3] = [
        (Consolidation::MergeStatements, &merge_statements),
        (Consolidation::RolePathPatterns, &|statements| {
            role_path_patterns(statements, scope)
        }),
        (Consolidation::Organization, &|statements| {
            organization(statements, scope)
        }),
    ];
    for (step, apply) in steps {
        let needed = match fit {
            Fit::Never => false,
            Fit::AsNeeded => size > limit.target(),
            Fit::Always => true,
        };
        if !needed {
            break;
        }
        let next = apply(statements.clone());
        if next == statements {
            continue;
        }
        // A step can cost more than it saves on a small statement (the organization condition
        // is longer than one account root); as needed, such a step is not taken.
        let next_size = sizer.statements(&next);
        if fit == Fit::Always || next_size < size {
            statements = next;
            size = next_size;
            applied.push(step);
        }
    }
    (PolicyDocument::new(statements), size, applied)
}

/// Where a role's access statements deploy.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RoleLayout {
    /// The inline access policy; empty when everything moved to managed policies.
    pub inline: Vec<Statement>,
    /// Customer-managed policies attached to the role, in order.
    pub managed: Vec<Vec<Statement>>,
}

impl RoleLayout {
    /// Every statement, inline first: IAM unites all policies of a role.
    pub fn statements(&self) -> Vec<Statement> {
        self.inline
            .iter()
            .chain(self.managed.iter().flatten())
            .cloned()
            .collect()
    }
}

/// Splits a statement into parts of at most `capacity` (as a whole document) by halving its
/// resources, then its actions; parts get Sids `<Sid>Part1`, `<Sid>Part2`, …
fn chunks(statement: Statement, sizer: &Sizer, capacity: usize) -> Vec<Statement> {
    fn halve(statement: Statement, sizer: &Sizer, capacity: usize, out: &mut Vec<Statement>) {
        if Sizer::assemble([sizer.statement(&statement)]) <= capacity {
            out.push(statement);
            return;
        }
        let resources = resources_of(&statement).to_vec();
        let actions = actions_of(&statement).clone();
        let (first, second) = if resources.len() > 1 {
            let (a, b) = resources.split_at(resources.len() / 2);
            let mut first = statement.clone();
            first.resource = Some(Clause::Is(a.to_vec()));
            let mut second = statement;
            second.resource = Some(Clause::Is(b.to_vec()));
            (first, second)
        } else if actions.len() > 1 {
            let (a, b) = actions.split_at(actions.len() / 2);
            let mut first = statement.clone();
            first.action = Clause::Is(a.to_vec());
            let mut second = statement;
            second.action = Clause::Is(b.to_vec());
            (first, second)
        } else {
            out.push(statement);
            return;
        };
        halve(first, sizer, capacity, out);
        halve(second, sizer, capacity, out);
    }
    let sid = statement.sid.clone();
    let mut parts = Vec::new();
    halve(statement, sizer, capacity, &mut parts);
    if parts.len() > 1 {
        for (index, part) in parts.iter_mut().enumerate() {
            part.sid = sid.as_ref().map(|sid| format!("{sid}Part{}", index + 1));
        }
    }
    parts
}

/// First-fit packing of statements into the inline policy, then managed policies; a statement
/// too large for a managed policy of its own is cut into parts first.
fn pack(
    statements: &[Statement],
    sizer: &Sizer,
    inline_capacity: usize,
    managed_capacity: usize,
) -> RoleLayout {
    // Bin 0 is the inline policy; every other bin a managed policy.
    let mut bins: Vec<(Vec<Statement>, Vec<usize>)> = vec![(Vec::new(), Vec::new())];
    let capacity = |bin: usize| {
        if bin == 0 {
            inline_capacity
        } else {
            managed_capacity
        }
    };
    let fitting = |bins: &[(Vec<Statement>, Vec<usize>)], size: usize| {
        (0..bins.len()).find(|&bin| {
            Sizer::assemble(bins[bin].1.iter().copied().chain([size])) <= capacity(bin)
        })
    };
    for statement in statements {
        let size = sizer.statement(statement);
        let pieces = if fitting(&bins, size).is_none() && Sizer::assemble([size]) > managed_capacity
        {
            chunks(statement.clone(), sizer, managed_capacity)
        } else {
            vec![statement.clone()]
        };
        for piece in pieces {
            let size = sizer.statement(&piece);
            let bin = fitting(&bins, size).unwrap_or_else(|| {
                bins.push((Vec::new(), Vec::new()));
                bins.len() - 1
            });
            bins[bin].0.push(piece);
            bins[bin].1.push(size);
        }
    }
    let mut bins = bins.into_iter().map(|(statements, _)| statements);
    RoleLayout {
        inline: bins.next().unwrap_or_default(),
        managed: bins.collect(),
    }
}

/// A role's identity statements taken through the steps they need.
pub struct RoleFit {
    pub layout: RoleLayout,
    pub consolidations: Vec<Consolidation>,
    /// How many managed policies the layout needs beyond what the role may have attached.
    pub managed_needed: Option<usize>,
}

/// A role's access statements laid out in the form the scenario asks for: customer-managed
/// policies (split over as many as they need, within the role's free slots), or the inline
/// policy with managed policies for what does not fit. Without a free slot, or when the
/// managed policies would need more slots than the role has, they stay in the inline form.
pub fn fit_role(
    statements: Vec<Statement>,
    sizer: &Sizer,
    fit: Fit,
    available: usize,
    form: IdentityPolicy,
) -> RoleFit {
    if form == IdentityPolicy::Managed && available > 0 && !statements.is_empty() {
        if let Some(fitted) = fit_managed(statements.clone(), sizer, fit, available) {
            return fitted;
        }
    }
    fit_inline(statements, sizer, fit, available)
}

/// Every statement in managed policies, if they fit in the role's `available` slots.
fn fit_managed(
    statements: Vec<Statement>,
    sizer: &Sizer,
    fit: Fit,
    available: usize,
) -> Option<RoleFit> {
    let managed = Limit::ManagedPolicy;
    if fit == Fit::Never {
        return Some(RoleFit {
            layout: RoleLayout {
                inline: Vec::new(),
                managed: vec![statements],
            },
            consolidations: Vec::new(),
            managed_needed: None,
        });
    }
    let mut statements = statements;
    let mut consolidations = Vec::new();
    if fit == Fit::Always || sizer.statements(&statements) > managed.target() {
        let merged = merge_statements(statements.clone());
        if merged != statements {
            statements = merged;
            consolidations.push(Consolidation::MergeStatements);
        }
    }
    let roomy = pack(&statements, sizer, 0, managed.target());
    let layout = if roomy.managed.len() <= available {
        roomy
    } else {
        let tight = pack(&statements, sizer, 0, managed.size());
        if tight.managed.len() > available {
            return None;
        }
        tight
    };
    if layout.managed.len() > 1 {
        consolidations.push(Consolidation::ManagedPolicies);
    }
    Some(RoleFit {
        layout,
        consolidations,
        managed_needed: None,
    })
}

/// The inline policy first, managed policies for what it cannot hold.
fn fit_inline(statements: Vec<Statement>, sizer: &Sizer, fit: Fit, available: usize) -> RoleFit {
    let mut statements = statements;
    let mut size = sizer.statements(&statements);
    let mut consolidations = Vec::new();
    let inline = Limit::RoleInline;
    let merge = match fit {
        Fit::Never => false,
        Fit::AsNeeded => size > inline.target(),
        Fit::Always => true,
    };
    if merge {
        let merged = merge_statements(statements.clone());
        if merged != statements {
            statements = merged;
            size = sizer.statements(&statements);
            consolidations.push(Consolidation::MergeStatements);
        }
    }
    let keep_inline = |statements: Vec<Statement>, consolidations| RoleFit {
        layout: RoleLayout {
            inline: statements,
            managed: Vec::new(),
        },
        consolidations,
        managed_needed: None,
    };
    if fit == Fit::Never || size <= inline.target() || available == 0 {
        return keep_inline(statements, consolidations);
    }
    let managed = Limit::ManagedPolicy;
    let roomy = pack(&statements, sizer, inline.target(), managed.target());
    let layout = if roomy.managed.len() <= available {
        roomy
    } else {
        let tight = pack(&statements, sizer, inline.size(), managed.size());
        if tight.managed.len() > available && size <= inline.size() {
            return keep_inline(statements, consolidations);
        }
        tight
    };
    consolidations.push(Consolidation::ManagedPolicies);
    let managed_needed = (layout.managed.len() > available).then_some(layout.managed.len());
    RoleFit {
        layout,
        consolidations,
        managed_needed,
    }
}

/// Every limited document of a scenario, consolidated as far as `fit` allows, with its budget.
pub struct Fitted {
    pub bucket_policies: BTreeMap<Name, PolicyDocument>,
    pub access_point_policies: BTreeMap<(Name, Name), PolicyDocument>,
    pub key_policies: BTreeMap<Name, PolicyDocument>,
    pub role_layouts: BTreeMap<Name, RoleLayout>,
    pub budget: Budget,
}

/// The owner's resource policies, by kind, before they are fitted.
pub struct ResourcePolicies {
    pub buckets: BTreeMap<Name, PolicyDocument>,
    /// By bucket and consumer account.
    pub access_points: BTreeMap<(Name, Name), PolicyDocument>,
    pub keys: BTreeMap<Name, PolicyDocument>,
}

pub fn fit_all(
    scenario: &Scenario,
    resources: ResourcePolicies,
    role_policies: BTreeMap<Name, PolicyDocument>,
    fit: Fit,
) -> Fitted {
    let sizer = Sizer::new(scenario);
    let scope = Scope::of(scenario);
    let mut budget = Budget::default();
    let mut measure = |document: Document, size: usize, consolidations: Vec<Consolidation>| {
        budget.documents.insert(
            document.clone(),
            Measured {
                document,
                size,
                consolidations,
            },
        );
    };
    let ResourcePolicies {
        buckets: bucket_policies,
        access_points: access_point_policies,
        keys: key_policies,
    } = resources;
    let access_point_policies: BTreeMap<(Name, Name), PolicyDocument> = access_point_policies
        .into_iter()
        .map(|((bucket, account), policy)| {
            let (policy, _, steps) =
                fit_resource_policy(policy, Limit::AccessPointPolicy, &sizer, &scope, fit);
            measure(
                Document::AccessPointPolicy {
                    bucket: bucket.clone(),
                    account: account.clone(),
                },
                sizer.document(&policy),
                steps,
            );
            ((bucket, account), policy)
        })
        .collect();
    // The policy of an existing resource keeps its live statements, which are not crossgrant's
    // to consolidate: they are added once crossgrant's own fit, and counted with them.
    let mut fit_resources =
        |policies: BTreeMap<Name, PolicyDocument>,
         limit: Limit,
         document: fn(Name) -> Document,
         merge: fn(&Scenario, &str, PolicyDocument) -> PolicyDocument| {
            policies
                .into_iter()
                .map(|(name, policy)| {
                    let (policy, _, steps) =
                        fit_resource_policy(policy, limit, &sizer, &scope, fit);
                    let policy = merge(scenario, &name, policy);
                    measure(document(name.clone()), sizer.document(&policy), steps);
                    (name, policy)
                })
                .collect::<BTreeMap<_, _>>()
        };
    let bucket_policies = fit_resources(
        bucket_policies,
        Limit::BucketPolicy,
        Document::BucketPolicy,
        super::existing::merge_bucket,
    );
    let key_policies = fit_resources(
        key_policies,
        Limit::KeyPolicy,
        Document::KeyPolicy,
        super::existing::merge_key,
    );
    let mut too_many = Vec::new();
    let mut role_layouts = BTreeMap::new();
    for (role, policy) in role_policies {
        let attached = scenario.roles[&role].managed_policy_arns.len();
        let available = (scenario.max_managed_policies as usize).saturating_sub(attached);
        let fitted = fit_role(
            policy.statements,
            &sizer,
            fit,
            available,
            scenario.identity_policy,
        );
        let layout = fitted.layout;
        if !layout.inline.is_empty() {
            let size = sizer.statements(&layout.inline);
            measure(
                Document::RoleInline(role.clone()),
                size,
                fitted.consolidations.clone(),
            );
        }
        for (index, statements) in layout.managed.iter().enumerate() {
            let size = sizer.statements(statements);
            measure(
                Document::ManagedPolicy {
                    role: role.clone(),
                    number: index + 1,
                },
                size,
                fitted.consolidations.clone(),
            );
        }
        if let Some(needed) = fitted.managed_needed {
            too_many.push(LimitProblem::TooManyManagedPolicies {
                role: role.clone(),
                needed,
                attached,
                max: scenario.max_managed_policies,
                advice: role_advice(attached + needed),
            });
        }
        role_layouts.insert(role, layout);
    }
    let resources = [&bucket_policies, &key_policies];
    budget.problems = budget
        .documents
        .values()
        .filter(|measured| measured.over_limit())
        .map(|measured| LimitProblem::TooLarge {
            measured: measured.clone(),
            advice: match &measured.document {
                Document::BucketPolicy(name) => {
                    let mut advice = resource_advice(scenario, &resources[0][name]);
                    if scenario.buckets[name].access_points.is_empty() {
                        advice.push(FitAdvice::AccessPoints {
                            bucket: name.clone(),
                        });
                    }
                    advice
                }
                Document::AccessPointPolicy { bucket, account } => resource_advice(
                    scenario,
                    &access_point_policies[&(bucket.clone(), account.clone())],
                ),
                Document::KeyPolicy(name) => resource_advice(scenario, &resources[1][name]),
                Document::RoleInline(role) | Document::ManagedPolicy { role, .. } => {
                    let attached = scenario.roles[role].managed_policy_arns.len();
                    role_advice(attached + role_layouts[role].managed.len() + 1)
                }
            },
        })
        .chain(too_many)
        .collect();
    Fitted {
        bucket_policies,
        access_point_policies,
        key_policies,
        role_layouts,
        budget,
    }
}

/// What could still shrink a resource policy, judged from what it names.
fn resource_advice(scenario: &Scenario, policy: &PolicyDocument) -> Vec<FitAdvice> {
    let mut advice = Vec::new();
    let consumers: Vec<&Statement> = policy
        .statements
        .iter()
        .filter(|s| is_consumer(s))
        .collect();
    let mut named_accounts: BTreeSet<String> = BTreeSet::new();
    let mut patterns = false;
    for statement in &consumers {
        for value in pins(statement) {
            let Some(text) = value.as_lit() else { continue };
            if text.contains(['*', '?']) {
                patterns = true;
            } else if let Some(id) = arn_account(text) {
                named_accounts.insert(id.to_string());
            }
        }
        for value in aws_principals(statement).into_iter().flatten() {
            if let Value::Ref(Ref::RoleArn(role)) = value {
                named_accounts.insert(scenario.account(&scenario.roles[role].account).id.clone());
            }
        }
    }
    if !named_accounts.is_empty() {
        let accounts: Vec<Name> = scenario
            .accounts
            .values()
            .filter(|account| named_accounts.contains(&account.id))
            .map(|account| account.name.clone())
            .collect();
        advice.push(FitAdvice::DeclareRolePaths { accounts });
    }
    let accounts_named = consumers
        .iter()
        .flat_map(|statement| aws_principals(statement).into_iter().flatten())
        .filter(|value| value.as_lit().is_some_and(|text| text.ends_with(":root")))
        .count();
    if scenario.organization.is_none() && accounts_named > 1 {
        advice.push(FitAdvice::DeclareOrganization);
    }
    if patterns && scenario.organization_role_paths.is_empty() {
        advice.push(FitAdvice::DeclareOrganizationRolePaths);
    }
    advice.push(FitAdvice::SpreadGrants);
    advice
}

fn role_advice(needed: usize) -> Vec<FitAdvice> {
    let mut advice = Vec::new();
    if needed <= crate::model::MAX_MANAGED_POLICIES_QUOTA as usize {
        advice.push(FitAdvice::RaiseManagedPolicies { needed });
    }
    advice.push(FitAdvice::SplitRole);
    advice
}

/// Merges statements that differ only in who they name: same effect, actions, resources and
/// conditions other than `aws:PrincipalArn`. Principals and pinned role ARNs are united, which
/// grants exactly the union (a pinned ARN only ever matches a caller from its own account).
/// The merged statement keeps the smallest Sid of its members, so the output is stable.
pub fn merge_principals(mut statements: Vec<Statement>) -> Vec<Statement> {
    statements.sort_by(|a, b| a.sid.cmp(&b.sid));
    // Group by everything but the principals, borrowed: no statement is copied to be compared.
    let mut groups: HashMap<MergeKey, usize> = HashMap::new();
    let group_of: Vec<usize> = statements
        .iter()
        .map(|statement| {
            let next = groups.len();
            *groups.entry(merge_key(statement)).or_insert(next)
        })
        .collect();
    drop(groups);
    let mut merged: Vec<Option<Merging>> = Vec::new();
    for (statement, group) in statements.into_iter().zip(group_of) {
        if group == merged.len() {
            merged.push(Some(Merging {
                statement,
                principals: BTreeMap::new(),
                pins: BTreeMap::new(),
                absorbed: false,
            }));
        } else if let Some(target) = &mut merged[group] {
            target.absorb(statement);
        }
    }
    merged.into_iter().flatten().map(Merging::finish).collect()
}

/// What statements that merge share: everything but Sid, principals and role pins, and which
/// operators pin roles.
type MergeKey<'a> = (
    Effect,
    &'a Clause<Vec<String>>,
    Option<&'a Clause<Vec<Value>>>,
    Vec<(&'a str, Vec<(&'a str, &'a [Value])>)>,
    Vec<&'a str>,
);

fn merge_key(statement: &Statement) -> MergeKey<'_> {
    let conditions = statement
        .condition
        .iter()
        .map(|(operator, keys)| {
            let keys: Vec<(&str, &[Value])> = keys
                .iter()
                .filter(|(key, _)| *key != PRINCIPAL_ARN)
                .map(|(key, values)| (key.as_str(), values.as_slice()))
                .collect();
            (operator.as_str(), keys)
        })
        .filter(|(_, keys)| !keys.is_empty())
        .collect();
    let pinned_by = statement
        .condition
        .iter()
        .filter(|(_, keys)| keys.contains_key(PRINCIPAL_ARN))
        .map(|(operator, _)| operator.as_str())
        .collect();
    (
        statement.effect,
        &statement.action,
        statement.resource.as_ref(),
        conditions,
        pinned_by,
    )
}

/// A statement and what it has absorbed so far, kept in sets until the end.
struct Merging {
    statement: Statement,
    principals: BTreeMap<String, BTreeSet<Value>>,
    pins: BTreeMap<String, BTreeSet<Value>>,
    absorbed: bool,
}

impl Merging {
    fn absorb(&mut self, other: Statement) {
        if !self.absorbed {
            self.absorbed = true;
            if let Some(Clause::Is(Principal::Typed(map))) = &self.statement.principal {
                for (kind, values) in map {
                    self.principals
                        .entry(kind.clone())
                        .or_default()
                        .extend(values.iter().cloned());
                }
            }
            for (operator, keys) in &self.statement.condition {
                if let Some(values) = keys.get(PRINCIPAL_ARN) {
                    self.pins
                        .entry(operator.clone())
                        .or_default()
                        .extend(values.iter().cloned());
                }
            }
        }
        if let (Some(Clause::Is(Principal::Typed(_))), Some(Clause::Is(Principal::Typed(from)))) =
            (&self.statement.principal, other.principal)
        {
            for (kind, values) in from {
                self.principals.entry(kind).or_default().extend(values);
            }
        }
        for (operator, mut keys) in other.condition {
            if let Some(values) = keys.remove(PRINCIPAL_ARN) {
                self.pins.entry(operator).or_default().extend(values);
            }
        }
    }

    fn finish(self) -> Statement {
        let mut statement = self.statement;
        if !self.absorbed {
            return statement;
        }
        if let Some(Clause::Is(Principal::Typed(map))) = &mut statement.principal {
            for (kind, values) in self.principals {
                map.insert(kind, values.into_iter().collect());
            }
        }
        for (operator, values) in self.pins {
            statement
                .condition
                .entry(operator)
                .or_default()
                .insert(PRINCIPAL_ARN.to_string(), values.into_iter().collect());
        }
        statement
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aws::condition_key::S3_PREFIX;
    use crate::aws::{kms, s3, LIST_ACTION, READ_OBJECT_ACTIONS, WRITE_OBJECT_ACTIONS};

    const SCENARIO: &str = r#"
name = "unit"
region = "eu-west-1"
organization = "o-a1b2c3d4e5"

[accounts.data]
id = "111111111111"

[accounts.team]
id = "222222222222"
role_paths = ["/analytics/"]

[accounts.other]
id = "333333333333"

[keys.data]
account = "data"
alias = "data"

[buckets.shared]
account = "data"
name = "acme-unit-shared"
key = "data"

[roles.a]
account = "team"
name = "a"
path = "/analytics/"

[roles.b]
account = "team"
name = "b"
path = "/analytics/deep/"

[roles.c]
account = "other"
name = "c"

[[grants]]
role = "a"
bucket = "shared"
access = "read"
"#;

    fn scenario() -> Scenario {
        crate::parse_scenario("unit.toml", SCENARIO).expect("valid")
    }

    const A: &str = "arn:aws:iam::222222222222:role/analytics/a";
    const B: &str = "arn:aws:iam::222222222222:role/analytics/deep/b";
    const C: &str = "arn:aws:iam::333333333333:role/c";
    const TEAM_ROOT: &str = "arn:aws:iam::222222222222:root";
    const OTHER_ROOT: &str = "arn:aws:iam::333333333333:root";

    fn pinned(sid: &str, roots: &[&str], roles: &[&str]) -> Statement {
        Statement::allow(sid)
            .principal(Principal::aws(roots.iter().map(|root| Value::lit(*root))))
            .condition(
                "ArnEquals",
                PRINCIPAL_ARN,
                roles.iter().map(|role| Value::lit(*role)),
            )
    }

    #[test]
    fn object_and_bucket_statements_of_the_same_principals_become_one() {
        let objects = pinned("AObjects", &[TEAM_ROOT], &[A])
            .actions(READ_OBJECT_ACTIONS)
            .resources([Value::lit("arn:aws:s3:::acme-unit-shared/*")]);
        let list = pinned("AList", &[TEAM_ROOT], &[A])
            .actions([LIST_ACTION])
            .resources([Value::lit("arn:aws:s3:::acme-unit-shared")]);
        let merged = merge_statements(vec![objects, list]);
        assert_eq!(merged.len(), 1);
        assert_eq!(merged[0].sid.as_deref(), Some("AObjects"));
        assert_eq!(
            actions_of(&merged[0]),
            &[s3::GET_OBJECT, s3::GET_OBJECT_VERSION, s3::LIST_BUCKET]
        );
        assert_eq!(resources_of(&merged[0]).len(), 2);
    }

    #[test]
    fn statements_whose_union_would_grant_more_stay_apart() {
        // Reading one bucket and writing another: united, the reader could write both.
        let read = Statement::allow("ReadOne")
            .actions(READ_OBJECT_ACTIONS)
            .resources([Value::lit("arn:aws:s3:::one/*")]);
        let write = Statement::allow("WriteTwo")
            .actions(WRITE_OBJECT_ACTIONS)
            .resources([Value::lit("arn:aws:s3:::two/*")]);
        assert_eq!(
            merge_statements(vec![read.clone(), write.clone()]),
            vec![read, write]
        );
        // An action the scenario asked for may apply to more than one kind of resource.
        let extra = Statement::allow("Extra")
            .actions([s3::DELETE_OBJECT])
            .resources([Value::lit("arn:aws:s3:::one/*")]);
        let list = Statement::allow("List")
            .actions([LIST_ACTION])
            .resources([Value::lit("arn:aws:s3:::two")]);
        assert_eq!(merge_statements(vec![extra, list]).len(), 2);
        // Different conditions never merge.
        let prefixed = Statement::allow("ListPrefix")
            .actions([LIST_ACTION])
            .resources([Value::lit("arn:aws:s3:::one")])
            .condition("StringLike", S3_PREFIX, [Value::lit("raw/*")]);
        let whole = Statement::allow("ListWhole")
            .actions([LIST_ACTION])
            .resources([Value::lit("arn:aws:s3:::two")]);
        assert_eq!(merge_statements(vec![prefixed, whole]).len(), 2);
    }

    #[test]
    fn same_actions_unite_resources_and_same_resources_unite_actions() {
        let one = Statement::allow("One")
            .actions(READ_OBJECT_ACTIONS)
            .resources([Value::lit("arn:aws:s3:::one/*")]);
        let two = Statement::allow("Two")
            .actions(READ_OBJECT_ACTIONS)
            .resources([Value::lit("arn:aws:s3:::two/*")]);
        let key = Statement::allow("Key")
            .actions([kms::DECRYPT])
            .resources([Value::Ref(Ref::KeyArn("data".into()))]);
        let merged = merge_statements(vec![one, two, key]);
        // Objects of both buckets in one statement, and the key with them: a KMS action never
        // applies to an S3 ARN, nor an S3 action to a key.
        assert_eq!(merged.len(), 1);
        assert_eq!(resources_of(&merged[0]).len(), 3);
    }

    #[test]
    fn a_declared_path_replaces_its_roles_only_when_all_of_them_are_named() {
        let scope = Scope::of(&scenario());
        let all = pinned("Both", &[TEAM_ROOT, OTHER_ROOT], &[A, B, C])
            .actions(READ_OBJECT_ACTIONS)
            .resources([Value::lit("arn:aws:s3:::acme-unit-shared/*")]);
        let patterned = role_path_patterns(vec![all], &scope);
        let expected: Vec<Value> = [
            "arn:aws:iam::222222222222:role/analytics/*",
            "arn:aws:iam::333333333333:role/c",
        ]
        .map(Value::lit)
        .to_vec();
        assert_eq!(patterned[0].condition["ArnLike"][PRINCIPAL_ARN], expected);
        assert!(!patterned[0].condition.contains_key("ArnEquals"));
        let partial = pinned("OnlyA", &[TEAM_ROOT], &[A])
            .actions(READ_OBJECT_ACTIONS)
            .resources([Value::lit("arn:aws:s3:::acme-unit-shared/*")]);
        assert_eq!(
            role_path_patterns(vec![partial.clone()], &scope),
            vec![partial]
        );
    }

    #[test]
    fn role_principals_are_regrouped_under_their_accounts_when_a_pattern_applies() {
        let scope = Scope::of(&scenario());
        let statement = Statement::allow("Roles")
            .principal(Principal::aws(
                ["a", "b", "c"].map(|role| Value::Ref(Ref::RoleArn(role.into()))),
            ))
            .actions(READ_OBJECT_ACTIONS)
            .resources([Value::lit("arn:aws:s3:::acme-unit-shared/*")]);
        let regrouped = role_path_patterns(vec![statement], &scope).remove(0);
        assert_eq!(
            regrouped.principal,
            Some(Clause::Is(Principal::aws(
                [TEAM_ROOT, OTHER_ROOT].map(Value::lit)
            )))
        );
        assert_eq!(regrouped.condition["ArnLike"][PRINCIPAL_ARN].len(), 2);
    }

    #[test]
    fn the_organization_replaces_account_roots_of_pinned_statements_only() {
        let scope = Scope::of(&scenario());
        let consumer = pinned("Pinned", &[TEAM_ROOT], &[A])
            .actions(READ_OBJECT_ACTIONS)
            .resources([Value::lit("arn:aws:s3:::acme-unit-shared/*")]);
        let root = Statement::allow("EnableIamPolicies")
            .principal(Principal::aws([Value::lit(
                "arn:aws:iam::111111111111:root",
            )]))
            .actions([kms::ALL])
            .resources([Value::lit("*")]);
        let out = organization(vec![root.clone(), consumer], &scope);
        assert_eq!(out[0], root);
        assert_eq!(
            out[1].principal,
            Some(Clause::Is(Principal::aws([Value::lit("*")])))
        );
        assert_eq!(
            out[1].condition["StringEquals"][PRINCIPAL_ORG_ID],
            vec![Value::lit("o-a1b2c3d4e5")]
        );
        assert_eq!(
            out[1].condition["ArnEquals"][PRINCIPAL_ARN],
            vec![Value::lit(A)]
        );
    }

    #[test]
    fn a_large_role_policy_splits_into_managed_policies_within_their_limits() {
        let scenario = scenario();
        let sizer = Sizer::new(&scenario);
        // 120 buckets, each with its own statement that nothing can merge: different
        // extra actions.
        let statements: Vec<Statement> = (0..120)
            .map(|index| {
                Statement::allow(format!("Bucket{index}"))
                    .actions([format!("{}{index}", s3::DELETE_OBJECT)])
                    .resources([Value::lit(format!(
                        "arn:aws:s3:::acme-a-rather-long-bucket-name-{index:04}/some/prefix/*"
                    ))])
            })
            .collect();
        let before = sizer.statements(&statements);
        assert!(before > Limit::RoleInline.size());
        let fitted = fit_role(
            statements.clone(),
            &sizer,
            Fit::AsNeeded,
            10,
            IdentityPolicy::Inline,
        );
        assert_eq!(fitted.managed_needed, None);
        assert!(fitted
            .consolidations
            .contains(&Consolidation::ManagedPolicies));
        let layout = &fitted.layout;
        assert!(!layout.managed.is_empty());
        let inline = sizer.statements(&layout.inline);
        assert!(inline <= Limit::RoleInline.target());
        for part in &layout.managed {
            assert!(sizer.statements(part) <= Limit::ManagedPolicy.target());
        }
        let mut all = layout.statements();
        all.sort();
        let mut expected = statements;
        expected.sort();
        assert_eq!(all, expected);
        // With no managed policy allowed, the role keeps one inline policy, over its limit.
        let stuck = fit_role(
            expected.clone(),
            &sizer,
            Fit::AsNeeded,
            0,
            IdentityPolicy::Inline,
        );
        assert!(stuck.layout.managed.is_empty());
        // With too few, the layout says how many it needs.
        let short = fit_role(expected, &sizer, Fit::AsNeeded, 1, IdentityPolicy::Inline);
        assert!(short.managed_needed.is_some_and(|needed| needed > 1));
    }

    #[test]
    fn access_policies_are_managed_policies_unless_the_role_has_no_slot_left() {
        let scenario = scenario();
        let sizer = Sizer::new(&scenario);
        let statement = |index: usize| {
            Statement::allow(format!("Bucket{index}"))
                .actions([format!("{}{index}", s3::DELETE_OBJECT)])
                .resources([Value::lit(format!(
                    "arn:aws:s3:::acme-a-rather-long-bucket-name-{index:04}/some/prefix/*"
                ))])
        };
        let small: Vec<Statement> = (0..3).map(statement).collect();
        let fitted = fit_role(
            small.clone(),
            &sizer,
            Fit::AsNeeded,
            10,
            IdentityPolicy::Managed,
        );
        assert!(fitted.layout.inline.is_empty());
        assert_eq!(fitted.layout.managed, vec![small.clone()]);
        assert!(fitted.consolidations.is_empty());
        // Without a free slot the policy stays inline.
        let full = fit_role(
            small.clone(),
            &sizer,
            Fit::AsNeeded,
            0,
            IdentityPolicy::Managed,
        );
        assert_eq!(full.layout.inline, small);
        // A large one splits over managed policies, each within its limit, and nothing inline.
        let large: Vec<Statement> = (0..120).map(statement).collect();
        let fitted = fit_role(
            large.clone(),
            &sizer,
            Fit::AsNeeded,
            10,
            IdentityPolicy::Managed,
        );
        assert!(fitted.layout.inline.is_empty());
        assert!(fitted.layout.managed.len() > 1);
        assert!(fitted
            .consolidations
            .contains(&Consolidation::ManagedPolicies));
        for part in &fitted.layout.managed {
            assert!(sizer.statements(part) <= Limit::ManagedPolicy.target());
        }
        let mut all = fitted.layout.statements();
        all.sort();
        let mut expected = large;
        expected.sort();
        assert_eq!(all, expected);
    }

    #[test]
    fn a_statement_too_large_for_any_policy_is_cut_by_resources() {
        let scenario = scenario();
        let sizer = Sizer::new(&scenario);
        let resources: Vec<Value> = (0..300)
            .map(|index| Value::lit(format!("arn:aws:s3:::acme-bucket-{index:04}/*")))
            .collect();
        let statement = Statement::allow("Huge")
            .actions(READ_OBJECT_ACTIONS)
            .resources(resources.clone());
        let fitted = fit_role(
            vec![statement],
            &sizer,
            Fit::AsNeeded,
            10,
            IdentityPolicy::Inline,
        );
        let parts = fitted.layout.statements();
        assert!(parts.len() > 1);
        assert!(parts.iter().all(|part| part
            .sid
            .as_deref()
            .is_some_and(|sid| sid.starts_with("HugePart"))));
        let mut united: Vec<Value> = parts
            .iter()
            .flat_map(|part| resources_of(part).to_vec())
            .collect();
        united.sort();
        let mut expected = resources;
        expected.sort();
        assert_eq!(united, expected);
        for part in &fitted.layout.managed {
            assert!(sizer.statements(part) <= Limit::ManagedPolicy.size());
        }
    }
}

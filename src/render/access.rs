//! `ACCESS.md`: the deploy plan, a table of who may do what on which bucket and prefix, and a
//! Mermaid diagram of accounts, resources and grants, for reviewers of the generated code.

use super::{TemplateError, Templates};
use crate::aws::LIST_ACTION;
use crate::aws::{EC2_SERVICE, ECS_TASKS_SERVICE};
use crate::eval::probe::CallerKind;
use crate::lower::{bucket_access, Lowered, Resource};
use crate::model::LivePolicy;
use crate::model::{Encryption, GuardrailKind, PrincipalStyle, Scenario, Trust};
use crate::names::snake;
use crate::plan::{stem, Step};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

#[derive(Serialize)]
struct AccessView<'a> {
    scenario: String,
    principal_style: &'static str,
    principal_style_note: &'static str,
    steps: Vec<StepView>,
    grants: Vec<GrantView<'a>>,
    accounts: Vec<AccountView>,
    edges: Vec<EdgeView>,
    existing: Vec<ExistingView>,
    kept: Vec<KeptView>,
    access_roles: Vec<AccessRoleView>,
    permission_sets: Vec<PermissionSetView>,
    guardrails: Vec<GuardrailView>,
    endpoint_grants: Vec<EndpointGrantView>,
    access_points: Vec<AccessPointView>,
}

/// The access point the roles of one account reach a bucket through.
#[derive(Serialize)]
struct AccessPointView {
    bucket_name: String,
    account: String,
    roles: Vec<String>,
    name: String,
    arn: String,
    /// The outputs that give the alias, which S3 makes of the name and a random suffix: the
    /// CloudFormation stack's and the Terraform module's.
    alias_output: String,
    alias_terraform_output: String,
    example_key: String,
    /// Whether the example reads (else it writes: the first grant is write-only).
    reads: bool,
}

/// A guardrail `check` proved the grants under.
#[derive(Serialize)]
struct GuardrailView {
    kind: &'static str,
    file: String,
    applies_to: String,
}

/// A role whose requests to a bucket must come through VPC endpoints.
#[derive(Serialize)]
struct EndpointGrantView {
    role_name: String,
    bucket_name: String,
    endpoints: Vec<String>,
}

/// A permission set whose roles crossgrant grants access to.
#[derive(Serialize)]
struct PermissionSetView {
    set: String,
    account: String,
    file: String,
}

/// How a consumer uses the access role crossgrant made for it in a bucket's account.
#[derive(Serialize)]
struct AccessRoleView {
    consumer: String,
    consumer_account: String,
    role_arn: String,
    account: String,
    profile: String,
    credential_source: &'static str,
    external_id: Option<String>,
    session_name: String,
}

/// A resource that exists already, and what crossgrant does to it.
#[derive(Serialize)]
struct ExistingView {
    resource: String,
    account: String,
    /// A role: crossgrant only attaches its access policy.
    role: bool,
    /// The live policy whose statements are kept, and how many; none when it is replaced.
    live_file: Option<String>,
    kept: usize,
}

/// Access that statements kept from live policies give.
#[derive(Serialize)]
struct KeptView {
    principal: String,
    bucket_name: String,
    operations: Vec<String>,
}

#[derive(Serialize)]
struct StepView {
    number: usize,
    stack_name: String,
    account: String,
    account_id: String,
    region: String,
    creates: String,
    needs: Vec<String>,
}

#[derive(Serialize)]
struct GrantView<'a> {
    role_name: &'a str,
    account: &'a str,
    account_id: &'a str,
    bucket_name: &'a str,
    owner: &'a str,
    prefix: &'a str,
    access: &'static str,
    s3_actions: Vec<&'a str>,
    kms_actions: Vec<&'a str>,
}

#[derive(Serialize)]
struct AccountView {
    id: String,
    label: String,
    nodes: Vec<NodeView>,
}

#[derive(Serialize)]
struct NodeView {
    id: String,
    label: String,
}

#[derive(Serialize)]
struct EdgeView {
    from: String,
    arrow: String,
    to: String,
}

fn creates(scenario: &Scenario, resource: &Resource) -> Option<String> {
    Some(match resource {
        Resource::BucketPolicy { bucket, .. } if scenario.buckets[bucket].existing.is_some() => {
            format!("policy of existing bucket {bucket}")
        }
        Resource::RolePolicy { role, .. } if scenario.roles[role].existing => {
            format!("access policy of existing role {role}")
        }
        Resource::Key { key, .. } => format!("KMS key {key}"),
        Resource::KeyPolicy { key, .. } => format!("policy of existing key {key}"),
        Resource::Bucket { bucket } => format!("bucket {bucket}"),
        Resource::BucketPolicy { bucket, .. } => format!("bucket policy {bucket}"),
        Resource::AccessPoint {
            bucket, account, ..
        } => format!("access point of {account} on {bucket}"),
        Resource::Role { role, .. } => format!("role {role}"),
        Resource::RolePolicy { role, .. } => format!("access policy of {role}"),
        Resource::ManagedPolicy { role, number, .. } => {
            format!("managed access policy {number} of {role}")
        }
        Resource::Instance { instance } => format!("instance {instance}"),
        Resource::Alias { .. } | Resource::InstanceProfile { .. } => return None,
    })
}

pub fn render(
    templates: &Templates,
    lowered: &Lowered,
    steps: &[Step],
) -> Result<String, TemplateError> {
    let scenario = &lowered.scenario;
    let access = bucket_access(scenario);
    let steps = steps
        .iter()
        .enumerate()
        .map(|(index, step)| {
            let account = scenario.account(&step.id.account);
            StepView {
                number: index + 1,
                stack_name: step.stack_name.clone(),
                account: account.name.clone(),
                account_id: account.id.clone(),
                region: step.id.region.clone(),
                creates: lowered.units[step.unit]
                    .resources
                    .iter()
                    .filter_map(|resource| creates(scenario, resource))
                    .collect::<Vec<_>>()
                    .join(", "),
                needs: step.needs.keys().map(|id| stem(lowered, id)).collect(),
            }
        })
        .collect();
    let mut grants = Vec::new();
    for ((role_name, bucket_name), role_access) in &access {
        let role = &scenario.roles[role_name];
        let bucket = &scenario.buckets[bucket_name];
        let account = scenario.account(&role.account);
        let prefixes: BTreeSet<&String> = role_access.object_actions.keys().collect();
        for prefix in prefixes {
            let objects = &role_access.object_actions[prefix];
            let mut s3_actions: BTreeSet<&str> = objects.iter().map(String::as_str).collect();
            let lists_here = match &role_access.list_prefixes {
                None => true,
                Some(list) => list.contains(prefix),
            };
            if lists_here {
                s3_actions.insert(LIST_ACTION);
            }
            s3_actions.extend(role_access.bucket_actions.iter().map(String::as_str));
            grants.push(GrantView {
                role_name: &role.role_name,
                account: &account.name,
                account_id: &account.id,
                bucket_name: &bucket.bucket_name,
                owner: &bucket.account,
                prefix,
                access: role_access.levels[prefix].as_str(),
                s3_actions: s3_actions.into_iter().collect(),
                kms_actions: role_access.kms_actions.iter().map(String::as_str).collect(),
            });
        }
    }
    let mut accounts = Vec::new();
    for account in scenario.accounts.values() {
        let mut nodes = Vec::new();
        for key in scenario
            .keys
            .values()
            .filter(|key| key.account == account.name)
        {
            nodes.push(NodeView {
                id: format!("key_{}", snake(&key.name)),
                label: key.label(),
            });
        }
        for bucket in scenario
            .buckets
            .values()
            .filter(|b| b.account == account.name)
        {
            nodes.push(NodeView {
                id: format!("bucket_{}", snake(&bucket.name)),
                label: format!("S3 {}", bucket.bucket_name),
            });
        }
        for role in scenario
            .roles
            .values()
            .filter(|r| r.account == account.name)
        {
            nodes.push(NodeView {
                id: format!("role_{}", snake(&role.name)),
                label: format!("IAM role {}", role.role_name),
            });
        }
        for instance in scenario
            .instances
            .values()
            .filter(|i| i.account == account.name)
        {
            nodes.push(NodeView {
                id: format!("instance_{}", snake(&instance.name)),
                label: format!("EC2 {} ({})", instance.name, instance.instance_type),
            });
        }
        accounts.push(AccountView {
            id: format!("account_{}", snake(&account.name)),
            label: format!("{} ({})", account.name, account.id),
            nodes,
        });
    }
    let mut edges = Vec::new();
    for bucket in scenario.buckets.values() {
        if let Encryption::Kms(key) = &bucket.encryption {
            edges.push(EdgeView {
                from: format!("bucket_{}", snake(&bucket.name)),
                arrow: "-. encrypted by .->".into(),
                to: format!("key_{}", snake(key)),
            });
        }
    }
    for grant in &scenario.grants {
        let label = if grant.prefix.is_empty() {
            grant.access.as_str().to_string()
        } else {
            format!("{} {}", grant.access.as_str(), grant.prefix)
        };
        let label: String = label
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || "/-_. ".contains(c) {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        edges.push(EdgeView {
            from: format!("role_{}", snake(&grant.role)),
            arrow: format!("-- \"{label}\" -->"),
            to: format!("bucket_{}", snake(&grant.bucket)),
        });
    }
    for instance in scenario.instances.values() {
        edges.push(EdgeView {
            from: format!("instance_{}", snake(&instance.name)),
            arrow: "-- uses -->".into(),
            to: format!("role_{}", snake(&instance.role)),
        });
    }
    let view = AccessView {
        scenario: scenario.name.clone(),
        principal_style: scenario.principal_style.as_str(),
        principal_style_note: match scenario.principal_style {
            PrincipalStyle::Account => "the owner's policies name each consumer account's root and pin the role with an `aws:PrincipalArn` condition, so they deploy before the roles exist and survive a role being re-created.",
            PrincipalStyle::Role => "the owner's policies name each consumer role's ARN, which S3 and KMS check exists: the roles are created first.",
        },
        steps,
        grants,
        accounts,
        edges,
        existing: existing_views(lowered),
        kept: kept_views(lowered),
        access_roles: access_role_views(scenario),
        permission_sets: scenario
            .roles
            .values()
            .filter_map(|role| {
                let set = role.permission_set.as_ref()?;
                Some(PermissionSetView {
                    set: set.clone(),
                    account: role.account.clone(),
                    file: super::permission_set_file(set).display().to_string(),
                })
            })
            .collect(),
        guardrails: guardrail_views(scenario),
        endpoint_grants: endpoint_grant_views(scenario),
        access_points: access_point_views(scenario),
    };
    templates.render("ACCESS.md", &view)
}

fn access_point_views(scenario: &Scenario) -> Vec<AccessPointView> {
    let mut views = Vec::new();
    for bucket in scenario.buckets.values() {
        let owner = &scenario.account(&bucket.account).id;
        for (account, name) in &bucket.access_points {
            let grants: Vec<&crate::model::Grant> = scenario
                .grants
                .iter()
                .filter(|grant| {
                    grant.bucket == bucket.name && scenario.roles[&grant.role].account == *account
                })
                .collect();
            let roles: Vec<String> = grants
                .iter()
                .map(|grant| format!("`{}`", scenario.roles[&grant.role].role_name))
                .collect::<std::collections::BTreeSet<_>>()
                .into_iter()
                .collect();
            let first = grants.first();
            views.push(AccessPointView {
                bucket_name: bucket.bucket_name.clone(),
                account: account.clone(),
                roles,
                name: name.clone(),
                arn: bucket.access_point_arn(owner, account).unwrap_or_default(),
                alias_output: format!(
                    "{}{}AccessPointAlias",
                    crate::names::pascal(&bucket.name),
                    crate::names::pascal(account)
                ),
                alias_terraform_output: format!(
                    "access_point_alias_{}_{}",
                    crate::names::snake(&bucket.name),
                    crate::names::snake(account)
                ),
                example_key: format!(
                    "{}example.csv",
                    first.map(|grant| grant.prefix.as_str()).unwrap_or("")
                ),
                reads: first.is_none_or(|grant| grant.access.reads()),
            });
        }
    }
    views
}

fn guardrail_views(scenario: &Scenario) -> Vec<GuardrailView> {
    scenario
        .guardrails
        .iter()
        .map(|guardrail| {
            let (kind, applies_to) = match &guardrail.kind {
                GuardrailKind::Scp { accounts } => ("service control policy", accounts.join(", ")),
                GuardrailKind::Rcp { accounts } => ("resource control policy", accounts.join(", ")),
                GuardrailKind::VpcEndpoint { vpce_id, roles, .. } => (
                    "VPC endpoint policy",
                    format!("{vpce_id}: {}", roles.join(", ")),
                ),
                GuardrailKind::PermissionsBoundary { arn, roles } => (
                    "permissions boundary",
                    format!("{arn}: {}", roles.join(", ")),
                ),
            };
            GuardrailView {
                kind,
                file: guardrail.file.clone(),
                applies_to,
            }
        })
        .collect()
}

fn endpoint_grant_views(scenario: &Scenario) -> Vec<EndpointGrantView> {
    let mut views: Vec<EndpointGrantView> = Vec::new();
    for grant in scenario
        .grants
        .iter()
        .filter(|grant| !grant.vpc_endpoints.is_empty())
    {
        let role_name = scenario.roles[&grant.role].role_name.clone();
        let bucket_name = scenario.buckets[&grant.bucket].bucket_name.clone();
        if !views
            .iter()
            .any(|view| view.role_name == role_name && view.bucket_name == bucket_name)
        {
            views.push(EndpointGrantView {
                role_name,
                bucket_name,
                endpoints: grant.vpc_endpoints.clone(),
            });
        }
    }
    views
}

/// Every resource of the scenario that exists already.
fn existing_views(lowered: &Lowered) -> Vec<ExistingView> {
    let scenario = &lowered.scenario;
    let view =
        |resource: String, account: &str, role: bool, live: Option<&LivePolicy>| ExistingView {
            resource,
            account: account.to_string(),
            role,
            live_file: live.map(|live| live.file.clone()),
            kept: live.map_or(0, |live| live.kept().count()),
        };
    let keys = scenario
        .keys
        .values()
        .filter(|key| key.existing.is_some())
        .map(|key| view(key.label(), &key.account, false, key.live_policy()));
    let buckets = scenario
        .buckets
        .values()
        .filter(|bucket| bucket.existing.is_some())
        .map(|bucket| {
            let label = format!("S3 bucket {}", bucket.bucket_name);
            view(label, &bucket.account, false, bucket.live_policy())
        });
    let roles = scenario
        .roles
        .values()
        .filter(|role| role.existing)
        .map(|role| {
            view(
                format!("IAM role {}", role.role_name),
                &role.account,
                true,
                None,
            )
        });
    keys.chain(buckets).chain(roles).collect()
}

/// What statements kept from live policies let each principal do, bucket by bucket, as
/// `check` finds it.
fn kept_views(lowered: &Lowered) -> Vec<KeptView> {
    let scenario = &lowered.scenario;
    let live = scenario.has_live_policies();
    if !live {
        return Vec::new();
    }
    let report = crate::eval::check(lowered);
    let mut kept: BTreeMap<(String, String), BTreeSet<String>> = BTreeMap::new();
    for result in report.kept() {
        let principal = match &result.probe.caller_kind {
            CallerKind::Kept { principal } => principal.clone(),
            other => other.to_string(),
        };
        kept.entry((
            principal,
            scenario.buckets[&result.probe.bucket].bucket_name.clone(),
        ))
        .or_default()
        .insert(result.probe.operation.name());
    }
    kept.into_iter()
        .map(|((principal, bucket_name), operations)| KeptView {
            principal,
            bucket_name,
            operations: operations.into_iter().collect(),
        })
        .collect()
}

/// Every access role, with the AWS CLI profile its consumer assumes it with.
fn access_role_views(scenario: &Scenario) -> Vec<AccessRoleView> {
    scenario
        .roles
        .values()
        .filter_map(|role| {
            let Trust::Role {
                consumer,
                external_id,
            } = &role.trust
            else {
                return None;
            };
            let consumer_role = &scenario.roles[consumer];
            Some(AccessRoleView {
                consumer: consumer_role.role_name.clone(),
                consumer_account: consumer_role.account.clone(),
                role_arn: scenario.role_arn(&role.name),
                account: role.account.clone(),
                profile: role.role_name.clone(),
                credential_source: credential_source(&consumer_role.trust),
                external_id: external_id.clone(),
                session_name: consumer_role.role_name.clone(),
            })
        })
        .collect()
}

/// Where the AWS CLI and SDKs of a consumer find the credentials of its own role, to assume
/// the access role with.
fn credential_source(trust: &Trust) -> &'static str {
    match trust {
        Trust::Service(service) if service == EC2_SERVICE => "Ec2InstanceMetadata",
        Trust::Service(service) if service == ECS_TASKS_SERVICE => "EcsContainer",
        _ => "Environment",
    }
}

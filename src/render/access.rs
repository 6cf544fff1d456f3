//! `ACCESS.md`: the deploy plan, a table of who may do what on which bucket and prefix, and a
//! Mermaid diagram of accounts, resources and grants, for reviewers of the generated code.

use super::{TemplateError, Templates};
use crate::aws::LIST_ACTION;
use crate::lower::{bucket_access, Lowered, Resource};
use crate::model::{Encryption, PrincipalStyle};
use crate::names::snake;
use crate::plan::{stem, Step};
use serde::Serialize;
use std::collections::BTreeSet;

#[derive(Serialize)]
struct AccessView<'a> {
    scenario: String,
    principal_style: &'static str,
    principal_style_note: &'static str,
    steps: Vec<StepView>,
    grants: Vec<GrantView<'a>>,
    accounts: Vec<AccountView>,
    edges: Vec<EdgeView>,
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

fn creates(resource: &Resource) -> Option<String> {
    Some(match resource {
        Resource::Key { key, .. } => format!("KMS key {key}"),
        Resource::Bucket { bucket } => format!("bucket {bucket}"),
        Resource::BucketPolicy { bucket, .. } => format!("bucket policy {bucket}"),
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
                    .filter_map(creates)
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
                label: format!("KMS key alias/{}", key.alias),
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
    };
    templates.render("ACCESS.md", &view)
}

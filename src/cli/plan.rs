//! `crossgrant plan`: the deploy order, per account, region and phase, with what each step
//! creates, the size of each policy document against its AWS limit, the size and counts of its
//! CloudFormation template against CloudFormation's, and which earlier steps it needs.

use super::load_planned;
use crate::error::{report, Error, Status};
use crate::limits::{thousands, Budget, Document};
use crate::lower::stacks::TemplateSize;
use crate::lower::Resource;
use crate::model::{LivePolicy, Scenario};
use crate::plan::stem;
use crate::policy::PolicyDocument;
use crate::render::{Format, Templates};
use std::io::Write;
use std::path::PathBuf;

#[derive(Debug, clap::Args)]
pub struct PlanArgs {
    /// The scenario file (TOML).
    pub scenario: PathBuf,
}

pub fn run(
    args: &PlanArgs,
    stdout: &mut dyn Write,
    stderr: &mut dyn Write,
) -> Result<Status, Error> {
    let templates = Templates::load(None)?;
    let planned = load_planned(&args.scenario, stderr, &templates, Format::Yaml)?;
    let (lowered, steps) = (&planned.lowered, &planned.steps);
    let scenario = &lowered.scenario;
    let mut text = format!(
        "Deploy plan for {} (principal style: {})\n",
        scenario.name,
        scenario.principal_style.as_str()
    );
    for (index, step) in steps.iter().enumerate() {
        let account = scenario.account(&step.id.account);
        text.push_str(&format!(
            "{:>3}. {}  account {} ({}), {}, profile {}\n",
            index + 1,
            step.stack_name,
            account.name,
            account.id,
            step.id.region,
            account.profile
        ));
        let creates: Vec<String> = lowered.units[step.unit]
            .resources
            .iter()
            .map(|resource| describe(scenario, resource))
            .collect();
        text.push_str(&format!("       creates: {}\n", creates.join(", ")));
        for resource in &lowered.units[step.unit].resources {
            if let Some(line) = size_line(&lowered.budget, resource) {
                text.push_str(&format!("       size:    {line}\n"));
            }
        }
        if let Some(size) = planned.template_sizes.get(&step.id) {
            text.push_str(&format!("       stack:   {}\n", template_line(size)));
        }
        for (id, references) in &step.needs {
            let what: Vec<String> = references.iter().map(ToString::to_string).collect();
            text.push_str(&format!(
                "       after:   {} (needs {})\n",
                stem(lowered, id),
                what.join(", ")
            ));
        }
    }
    for role in scenario.roles.values() {
        if let Some(set) = &role.permission_set {
            text.push_str(&format!(
                "  IAM Identity Center: give permission set {set} the inline policy {} (the roles of role {} take no policy of their own; fill in ${{KEY_ARN_…}} with envsubst once the keys exist)\n",
                crate::render::permission_set_file(set).display(),
                role.name
            ));
        }
    }
    report(stdout, &text)?;
    Ok(Status::Done)
}

/// A template's size and counts against CloudFormation's limits, and how it deploys.
pub(crate) fn template_line(size: &TemplateSize) -> String {
    let mut line = size.describe();
    if size.needs_s3() {
        line.push_str(&format!(
            "; over {} bytes: deploy.sh passes it through the account's artifact bucket (--s3-bucket)",
            thousands(crate::aws::TEMPLATE_BODY_BYTES)
        ));
    }
    line
}

/// The size line of a resource's policy document, if it has one with a limit.
fn size_line(budget: &Budget, resource: &Resource) -> Option<String> {
    let document = match resource {
        Resource::Key { key, .. } | Resource::KeyPolicy { key, .. } => {
            Document::KeyPolicy(key.clone())
        }
        Resource::BucketPolicy { bucket, .. } => Document::BucketPolicy(bucket.clone()),
        Resource::RolePolicy { role, .. } => Document::RoleInline(role.clone()),
        Resource::ManagedPolicy { role, number, .. } => Document::ManagedPolicy {
            role: role.clone(),
            number: *number,
        },
        _ => return None,
    };
    Some(budget.get(&document)?.describe())
}

fn describe(scenario: &Scenario, resource: &Resource) -> String {
    match resource {
        Resource::Key { key, .. } => format!("KMS key {key}"),
        Resource::Alias { key } => format!("alias of key {key}"),
        Resource::KeyPolicy { key, policy } => format!(
            "policy of existing key {key} ({})",
            changes(scenario.keys[key].live_policy(), policy)
        ),
        Resource::Bucket { bucket } => format!("bucket {bucket}"),
        Resource::BucketPolicy { bucket, policy } => match &scenario.buckets[bucket].existing {
            Some(existing) => format!(
                "policy of existing bucket {bucket} ({})",
                changes(existing.policy.as_ref(), policy)
            ),
            None => format!("bucket policy of {bucket}"),
        },
        Resource::AccessPoint {
            bucket, account, ..
        } => {
            format!("access point of {account} on bucket {bucket}")
        }
        Resource::Role { role, .. } => format!("role {role}"),
        Resource::InstanceProfile { role } => format!("instance profile of {role}"),
        Resource::RolePolicy { role, .. } if scenario.roles[role].existing => {
            format!("access policy of existing role {role}")
        }
        Resource::RolePolicy { role, .. } => format!("access policy of {role}"),
        Resource::ManagedPolicy { role, number, .. } => {
            format!("managed access policy {number} of {role}")
        }
        Resource::Instance { instance } => format!("instance {instance}"),
    }
}

/// What changes on the policy of an existing resource.
fn changes(live: Option<&LivePolicy>, policy: &PolicyDocument) -> String {
    let own = policy
        .statements
        .iter()
        .filter(|statement| statement.verbatim.is_none())
        .count();
    match live {
        None => format!("replaces the live policy with {own} statements of crossgrant's"),
        Some(live) => {
            let kept = live.kept().count();
            let mut text = format!("keeps {kept} statements of {}, adds {own}", live.file);
            if live.replaced() > 0 {
                text.push_str(&format!(
                    " in place of the {} crossgrant wrote before",
                    live.replaced()
                ));
            }
            text
        }
    }
}

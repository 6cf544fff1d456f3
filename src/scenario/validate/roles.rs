//! `[roles.*]`: IAM role names unique per account, paths, the service that assumes the role,
//! and the managed policies it already has.

use super::{in_source_order, span, Checker, Declared};
use crate::aws::{iam_path_problem, EC2_SERVICE, SERVICE_PRINCIPAL_SUFFIX};
use crate::policy::Name;
use crate::scenario::diag::ArnKind;
use crate::scenario::diag::Problem;
use crate::scenario::model::Role;
use crate::scenario::schema::RawRole;
use crate::scenario::schema::RawScenario;
use std::collections::BTreeMap;
use toml::Spanned;

const DEFAULT_SERVICE: &str = EC2_SERVICE;

pub(super) fn roles(
    check: &mut Checker,
    raw: &RawScenario,
    declared: &Declared,
) -> BTreeMap<Name, Role> {
    let mut roles = BTreeMap::new();
    let mut role_ids: BTreeMap<(String, String), String> = BTreeMap::new();
    for (name, role) in in_source_order(&raw.roles) {
        check.reference("account", &role.account, &declared.accounts);
        // IAM role names are unique per account regardless of case.
        let role_id = (
            role.account.get_ref().clone(),
            role.name.get_ref().to_lowercase(),
        );
        if check.role_name("role name", &role.name) {
            if let Some(first) = role_ids.insert(role_id, name.get_ref().clone()) {
                check.report(Problem::Duplicate {
                    what: "role name",
                    value: role.name.get_ref().clone(),
                    first,
                    span: span(&role.name),
                });
            }
        }
        let path = match &role.path {
            Some(path) => {
                if check.literal("role path", path) {
                    if let Some(reason) = iam_path_problem(path.get_ref()) {
                        check.report(Problem::InvalidRolePath {
                            path: path.get_ref().clone(),
                            reason,
                            span: span(path),
                        });
                    }
                }
                path.get_ref().clone()
            }
            None => "/".to_string(),
        };
        let service = match &role.service {
            Some(service) => {
                let text = service.get_ref();
                let valid = text.ends_with(SERVICE_PRINCIPAL_SUFFIX)
                    && text.len() > SERVICE_PRINCIPAL_SUFFIX.len()
                    && text
                        .chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || ".-".contains(c));
                if !valid {
                    check.report(Problem::InvalidServicePrincipal {
                        service: text.clone(),
                        span: span(service),
                    });
                }
                text.clone()
            }
            None => DEFAULT_SERVICE.to_string(),
        };
        let existing = role.existing.as_ref().is_some_and(|flag| *flag.get_ref());
        if existing {
            check.creation_only(
                "role",
                name,
                &[
                    ("service", role.service.as_ref().map(span)),
                    ("instance_profile", role.instance_profile.as_ref().map(span)),
                    (
                        "managed_policy_arns",
                        role.managed_policy_arns.first().map(span),
                    ),
                    ("tags", role.tags.keys().next().map(span)),
                ],
            );
        }
        managed_policies(check, name, role, declared.max_managed_policies);
        let tags = check.tags(declared.tags, &role.tags, &[], name);
        roles.insert(
            name.get_ref().clone(),
            Role {
                name: name.get_ref().clone(),
                account: role.account.get_ref().clone(),
                role_name: role.name.get_ref().clone(),
                path,
                instance_profile: !existing
                    && role
                        .instance_profile
                        .as_ref()
                        .map_or(service == DEFAULT_SERVICE, |flag| *flag.get_ref()),
                service,
                managed_policy_arns: role
                    .managed_policy_arns
                    .iter()
                    .map(|arn| arn.get_ref().clone())
                    .collect(),
                tags,
                existing,
            },
        );
    }
    roles
}

/// The managed policies a role names: policy ARNs, each once, no more than IAM attaches.
fn managed_policies(check: &mut Checker, name: &Spanned<String>, role: &RawRole, max: u32) {
    let mut seen: Vec<&str> = Vec::new();
    for arn in &role.managed_policy_arns {
        if !check.arn(ArnKind::ManagedPolicy, arn) {
            continue;
        }
        if seen.contains(&arn.get_ref().as_str()) {
            check.report(Problem::DuplicateManagedPolicy {
                role: name.get_ref().clone(),
                arn: arn.get_ref().clone(),
                span: span(arn),
            });
        } else {
            seen.push(arn.get_ref());
        }
    }
    if let Some(over) = role.managed_policy_arns.get(max as usize) {
        check.report(Problem::TooManyManagedPolicies {
            role: name.get_ref().clone(),
            count: role.managed_policy_arns.len(),
            max,
            span: span(over),
        });
    }
}

//! `[roles.*]`: IAM role names unique per account, paths, the service that assumes the role,
//! and the managed policies it already has.

use super::{in_source_order, is_role_name, span, Checker, Declared};
use crate::aws::{EC2_SERVICE, SERVICE_PRINCIPAL_SUFFIX};
use crate::policy::Name;
use crate::scenario::diag::Problem;
use crate::scenario::model::Role;
use crate::scenario::schema::RawScenario;
use std::collections::BTreeMap;

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
        if !is_role_name(role.name.get_ref()) {
            check.report(Problem::InvalidRoleName {
                name: role.name.get_ref().clone(),
                span: span(&role.name),
            });
        } else if let Some(first) = role_ids.insert(
            (
                role.account.get_ref().clone(),
                role.name.get_ref().to_lowercase(),
            ),
            name.get_ref().clone(),
        ) {
            // IAM role names are unique per account regardless of case.
            check.report(Problem::Duplicate {
                what: "role name",
                value: role.name.get_ref().clone(),
                first,
                span: span(&role.name),
            });
        }
        let path = match &role.path {
            Some(path) => {
                let text = path.get_ref();
                let valid = text.starts_with('/')
                    && text.ends_with('/')
                    && text.len() <= 512
                    && !text.contains("//")
                    && text.chars().all(|c| c.is_ascii_graphic());
                if !valid {
                    check.report(Problem::InvalidRolePath {
                        path: text.clone(),
                        span: span(path),
                    });
                }
                text.clone()
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
        for arn in &role.managed_policy_arns {
            check.arn("managed policy ARN", arn);
        }
        let tags = check.tags(declared.tags, &role.tags);
        roles.insert(
            name.get_ref().clone(),
            Role {
                name: name.get_ref().clone(),
                account: role.account.get_ref().clone(),
                role_name: role.name.get_ref().clone(),
                path,
                instance_profile: role.instance_profile.unwrap_or(service == DEFAULT_SERVICE),
                service,
                managed_policy_arns: role
                    .managed_policy_arns
                    .iter()
                    .map(|arn| arn.get_ref().clone())
                    .collect(),
                tags,
            },
        );
    }
    roles
}

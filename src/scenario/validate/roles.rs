//! `[roles.*]`: IAM role names unique per account, paths, the service that assumes the role,
//! and the managed policies it already has.

use super::{account_id, in_source_order, span, Checker, Declared};
use crate::aws::{
    iam_path_problem, oidc_provider_parts, service_account_subject_problem, EC2_SERVICE,
    SERVICE_PRINCIPAL_SUFFIX,
};
use crate::policy::Name;
use crate::scenario::diag::ArnKind;
use crate::scenario::diag::Problem;
use crate::scenario::model::{Role, Trust, IDENTITY_CENTER_PATH, IDENTITY_CENTER_SUFFIX_LEN};
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
        let permission_set = role
            .permission_set
            .as_ref()
            .map(|set| permission_set(check, name, role, set));
        let (role_name, path) = match (&permission_set, &role.name) {
            (Some(set), _) => (
                format!(
                    "AWSReservedSSO_{set}_{}",
                    "0".repeat(IDENTITY_CENTER_SUFFIX_LEN)
                ),
                IDENTITY_CENTER_PATH.to_string(),
            ),
            (None, None) => {
                check.report(Problem::MissingField {
                    kind: "role",
                    name: name.get_ref().clone(),
                    field: "name",
                    help: "give the role's IAM name, e.g. name = \"app-s3-reader\" (or, for the roles of an IAM Identity Center permission set, permission_set = \"NAME\")",
                    span: span(name),
                });
                (String::new(), "/".to_string())
            }
            (None, Some(role_name)) => {
                // IAM role names are unique per account regardless of case.
                let role_id = (
                    role.account.get_ref().clone(),
                    role_name.get_ref().to_lowercase(),
                );
                if check.role_name("role name", role_name) {
                    if let Some(first) = role_ids.insert(role_id, name.get_ref().clone()) {
                        check.report(Problem::Duplicate {
                            what: "role name",
                            value: role_name.get_ref().clone(),
                            first,
                            span: span(role_name),
                        });
                    }
                }
                (role_name.get_ref().clone(), role_path(check, role))
            }
        };
        let trust = trust(check, name, role, account_id(raw, role.account.get_ref()));
        let is_ec2 = trust == Trust::Service(EC2_SERVICE.to_string());
        if let Some(flag) = role
            .instance_profile
            .as_ref()
            .filter(|flag| *flag.get_ref())
        {
            if !is_ec2 {
                check.report(Problem::InvalidSetting {
                    field: "instance_profile",
                    value: "true".into(),
                    reason: "is only for roles EC2 assumes (service = \"ec2.amazonaws.com\")",
                    help: "remove `instance_profile`: only EC2 instances use instance profiles",
                    span: span(flag),
                });
            }
        }
        let existing = role.existing.as_ref().is_some_and(|flag| *flag.get_ref());
        if existing {
            check.creation_only(
                "role",
                name,
                &[
                    ("service", role.service.as_ref().map(span)),
                    ("oidc", role.oidc.as_ref().map(span)),
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
                role_name,
                path,
                instance_profile: !existing
                    && is_ec2
                    && role
                        .instance_profile
                        .as_ref()
                        .is_none_or(|flag| *flag.get_ref()),
                trust,
                managed_policy_arns: role
                    .managed_policy_arns
                    .iter()
                    .map(|arn| arn.get_ref().clone())
                    .collect(),
                tags,
                existing,
                permission_set,
                permissions_boundary: None,
            },
        );
    }
    roles
}

/// A role's IAM path: `/` unless it says.
fn role_path(check: &mut Checker, role: &RawRole) -> String {
    let Some(path) = &role.path else {
        return "/".to_string();
    };
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

/// The permission set an Identity Center role belongs to: a name Identity Center accepts, on a
/// role marked existing (Identity Center makes the roles), which names neither `name` nor
/// `path` (Identity Center chooses them).
fn permission_set(
    check: &mut Checker,
    name: &Spanned<String>,
    role: &RawRole,
    set: &Spanned<String>,
) -> String {
    let text = set.get_ref();
    check.literal("permission set", set);
    let valid = (1..=32).contains(&text.len())
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_+=,.@-".contains(c));
    if !valid {
        check.report(Problem::InvalidSetting {
            field: "permission_set",
            value: text.clone(),
            reason: "is not a permission set name IAM Identity Center accepts",
            help: "use 1 to 32 letters, digits and `_+=,.@-`, as the permission set is named",
            span: span(set),
        });
    }
    if !role.existing.as_ref().is_some_and(|flag| *flag.get_ref()) {
        check.report(Problem::InvalidSetting {
            field: "permission_set",
            value: text.clone(),
            reason: "names roles IAM Identity Center makes, so the role must be `existing = true`",
            help: "add existing = true: crossgrant never creates the roles of a permission set",
            span: span(set),
        });
    }
    for (field, place) in [
        ("name", role.name.as_ref().map(span)),
        ("path", role.path.as_ref().map(span)),
    ] {
        if let Some(place) = place {
            check.report(Problem::InvalidSetting {
                field,
                value: name.get_ref().clone(),
                reason: "is chosen by IAM Identity Center for the roles of a permission set",
                help: "remove it: the roles of a permission set are matched by the set's name",
                span: place,
            });
        }
    }
    text.clone()
}

/// Who may assume the role: its service (EC2 unless it says), or one Kubernetes service
/// account through an OIDC provider of the role's account.
fn trust(
    check: &mut Checker,
    name: &Spanned<String>,
    role: &RawRole,
    account_id: Option<&str>,
) -> Trust {
    if let (Some(_), Some(oidc)) = (&role.service, &role.oidc) {
        check.report(Problem::InvalidSetting {
            field: "oidc",
            value: name.get_ref().clone(),
            reason: "is set beside `service`; a role has one kind of trust",
            help: "keep `service` for a role a service assumes, or `oidc` for an EKS service account (IRSA), not both",
            span: span(oidc),
        });
    }
    if let Some(oidc) = &role.oidc {
        let oidc = oidc.get_ref();
        let issuer = match oidc_provider_parts(oidc.provider_arn.get_ref()) {
            Ok((account, issuer)) => {
                if account_id.is_some_and(|own| own != account) {
                    check.report(Problem::InvalidSetting {
                        field: "oidc.provider_arn",
                        value: oidc.provider_arn.get_ref().clone(),
                        reason: "is in another account than the role; IAM trusts only an OIDC provider of the role's own account",
                        help: "create the cluster's IAM OIDC provider in the role's account (eksctl utils associate-iam-oidc-provider) and name that ARN",
                        span: span(&oidc.provider_arn),
                    });
                }
                check.arn_partition("OIDC provider ARN", &oidc.provider_arn);
                issuer.to_string()
            }
            Err(reason) => {
                check.report(Problem::InvalidSetting {
                    field: "oidc.provider_arn",
                    value: oidc.provider_arn.get_ref().clone(),
                    reason,
                    help: "name the cluster's IAM OIDC provider, e.g. arn:aws:iam::222222222222:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE (aws iam list-open-id-connect-providers)",
                    span: span(&oidc.provider_arn),
                });
                String::new()
            }
        };
        check.literal("oidc.subject", &oidc.subject);
        if let Some(reason) = service_account_subject_problem(oidc.subject.get_ref()) {
            check.report(Problem::InvalidSetting {
                field: "oidc.subject",
                value: oidc.subject.get_ref().clone(),
                reason,
                help: "name one service account: system:serviceaccount:NAMESPACE:NAME",
                span: span(&oidc.subject),
            });
        }
        return Trust::WebIdentity {
            provider_arn: oidc.provider_arn.get_ref().clone(),
            issuer,
            subject: oidc.subject.get_ref().clone(),
        };
    }
    match &role.service {
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
            Trust::Service(text.clone())
        }
        None => Trust::Service(DEFAULT_SERVICE.to_string()),
    }
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

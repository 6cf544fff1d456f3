//! `[[guardrails]]`: service and resource control policies of the organization, VPC endpoint
//! policies and permissions boundaries, each a policy file that `check` proves the grants
//! under; and the `vpce-…` ids grants and endpoints name.

use super::{span, Checker, Declared};
use crate::aws::is_ec2_resource_id;
use crate::eval::document::parse_policy_json;
use crate::policy::{Effect, Name, PolicyDocument};
use crate::scenario::diag::{ArnKind, Problem};
use crate::scenario::model::{Account, Guardrail, GuardrailKind, Role};
use crate::scenario::schema::{RawGuardrail, RawScenario};
use std::collections::{BTreeMap, BTreeSet};
use toml::Spanned;

const KIND_CHOICES: &[&str] = &["scp", "rcp", "vpc-endpoint", "permission-boundary"];

pub(super) fn guardrails(
    check: &mut Checker,
    raw: &RawScenario,
    declared: &Declared,
    organization: bool,
    accounts: &BTreeMap<Name, Account>,
    roles: &mut BTreeMap<Name, Role>,
) -> Vec<Guardrail> {
    let mut guardrails = Vec::new();
    let mut endpoints: BTreeSet<String> = BTreeSet::new();
    for guardrail in &raw.guardrails {
        let Some(kind) = check.choice("guardrail kind", &guardrail.kind, KIND_CHOICES) else {
            continue;
        };
        let document = policy(check, guardrail, declared);
        let kind = match kind {
            0 | 1 => {
                not_for(check, guardrail, &["roles", "vpce_id", "vpc_id", "arn"]);
                if !organization {
                    check.report(Problem::InvalidSetting {
                        field: "guardrail kind",
                        value: guardrail.kind.get_ref().clone(),
                        reason: "is a policy of an AWS Organization, and the scenario declares none",
                        help: "declare the organization the accounts belong to: organization = \"o-…\"",
                        span: span(&guardrail.kind),
                    });
                }
                let accounts = applied_accounts(check, guardrail, declared, accounts);
                if kind == 0 {
                    GuardrailKind::Scp { accounts }
                } else {
                    GuardrailKind::Rcp { accounts }
                }
            }
            2 => {
                not_for(check, guardrail, &["accounts", "arn"]);
                let roles = applied_roles(check, guardrail, declared);
                let vpce_id = match &guardrail.vpce_id {
                    Some(id) => {
                        if vpce_id(check, id) && !endpoints.insert(id.get_ref().clone()) {
                            check.report(Problem::InvalidSetting {
                                    field: "vpce_id",
                                    value: id.get_ref().clone(),
                                    reason: "is declared by another vpc-endpoint guardrail too",
                                    help: "an endpoint has one policy: declare each endpoint once, listing every role behind it",
                                    span: span(id),
                                });
                        }
                        id.get_ref().clone()
                    }
                    None => {
                        missing(
                            check,
                            guardrail,
                            "vpce_id",
                            "name the endpoint: vpce_id = \"vpce-0123456789abcdef0\"",
                        );
                        String::new()
                    }
                };
                let vpc_id = guardrail.vpc_id.as_ref().map(|id| {
                    if !is_ec2_resource_id(id.get_ref(), "vpc-") {
                        check.report(Problem::InvalidSetting {
                            field: "vpc_id",
                            value: id.get_ref().clone(),
                            reason: "is not a VPC id",
                            help: "write `vpc-` followed by 8 to 17 hexadecimal digits, e.g. vpc_id = \"vpc-0123456789abcdef0\"",
                            span: span(id),
                        });
                    }
                    id.get_ref().clone()
                });
                GuardrailKind::VpcEndpoint {
                    vpce_id,
                    vpc_id,
                    roles,
                }
            }
            _ => {
                not_for(check, guardrail, &["accounts", "vpce_id", "vpc_id"]);
                let roles_named = applied_roles(check, guardrail, declared);
                let arn = match &guardrail.arn {
                    Some(arn) => {
                        check.arn(ArnKind::ManagedPolicy, arn);
                        arn.get_ref().clone()
                    }
                    None => {
                        missing(check, guardrail, "arn", "name the boundary's managed policy: arn = \"arn:aws:iam::111111111111:policy/Boundary\"");
                        String::new()
                    }
                };
                for role in &roles_named {
                    let Some(model) = roles.get_mut(role) else {
                        continue;
                    };
                    if model.permissions_boundary.is_some() {
                        let at = guardrail
                            .roles
                            .as_ref()
                            .and_then(|named| named.get_ref().iter().find(|n| n.get_ref() == role))
                            .map_or_else(|| span(&guardrail.kind), span);
                        check.report(Problem::InvalidSetting {
                            field: "roles",
                            value: role.clone(),
                            reason: "has a permissions boundary from another guardrail already",
                            help: "a role has one permissions boundary: name the role in one permission-boundary guardrail",
                            span: at,
                        });
                    }
                    model.permissions_boundary = Some(arn.clone());
                }
                GuardrailKind::PermissionsBoundary {
                    arn,
                    roles: roles_named,
                }
            }
        };
        if let Some(document) = document {
            shape(check, guardrail, &kind, &document);
            guardrails.push(Guardrail {
                kind,
                file: guardrail.file.get_ref().clone(),
                document,
            });
        }
    }
    guardrails
}

/// The guardrail's policy document, or `None` (reported) when it cannot be read.
fn policy(
    check: &mut Checker,
    guardrail: &RawGuardrail,
    declared: &Declared,
) -> Option<PolicyDocument> {
    let file = &guardrail.file;
    let problem = |problem: String| Problem::GuardrailFile {
        file: file.get_ref().clone(),
        problem,
        span: span(file),
    };
    let text = check.read_named_file(file, declared.base, problem)?;
    match parse_policy_json(&text) {
        Ok(document) => Some(document),
        Err(error) => {
            check.report(problem(format!("is not a policy: {error}")));
            None
        }
    }
}

/// Each statement takes the elements its kind of policy has: SCPs and boundaries name no
/// principal; RCPs and endpoint policies do; RCPs only deny (AWS keeps `Allow` for the
/// `RCPFullAWSAccess` it attaches itself).
fn shape(
    check: &mut Checker,
    guardrail: &RawGuardrail,
    kind: &GuardrailKind,
    document: &PolicyDocument,
) {
    let principal_wanted = matches!(
        kind,
        GuardrailKind::Rcp { .. } | GuardrailKind::VpcEndpoint { .. }
    );
    for (index, statement) in document.statements.iter().enumerate() {
        let reason = if statement.principal.is_some() && !principal_wanted {
            Some("has a statement with a Principal, which this kind of policy does not take")
        } else if statement.principal.is_none() && principal_wanted {
            Some("has a statement without a Principal, which this kind of policy requires")
        } else if statement.effect == Effect::Allow && matches!(kind, GuardrailKind::Rcp { .. }) {
            Some("has an Allow statement; an RCP can only deny (AWS attaches RCPFullAWSAccess itself)")
        } else {
            None
        };
        if let Some(reason) = reason {
            check.report(Problem::GuardrailFile {
                file: guardrail.file.get_ref().clone(),
                problem: format!(
                    "statement #{}{} {reason}",
                    index + 1,
                    statement
                        .sid
                        .as_ref()
                        .map(|sid| format!(" \"{sid}\""))
                        .unwrap_or_default()
                ),
                span: span(&guardrail.file),
            });
        }
    }
}

/// Fields set that the guardrail's kind does not take.
fn not_for(check: &mut Checker, guardrail: &RawGuardrail, fields: &[&'static str]) {
    for field in fields {
        let set = match *field {
            "accounts" => guardrail.accounts.as_ref().map(Spanned::span),
            "roles" => guardrail.roles.as_ref().map(Spanned::span),
            "vpce_id" => guardrail.vpce_id.as_ref().map(Spanned::span),
            "vpc_id" => guardrail.vpc_id.as_ref().map(Spanned::span),
            _ => guardrail.arn.as_ref().map(Spanned::span),
        };
        if let Some(at) = set {
            check.report(Problem::InvalidSetting {
                field,
                value: guardrail.kind.get_ref().clone(),
                reason: "is not a field of this kind of guardrail",
                help: "scp and rcp take `accounts`; vpc-endpoint takes `vpce_id`, `vpc_id` and `roles`; permission-boundary takes `arn` and `roles`",
                span: at,
            });
        }
    }
}

fn missing(check: &mut Checker, guardrail: &RawGuardrail, field: &'static str, help: &'static str) {
    check.report(Problem::MissingField {
        kind: "guardrail",
        name: guardrail.kind.get_ref().clone(),
        field,
        help,
        span: span(&guardrail.kind),
    });
}

/// The accounts an SCP or RCP applies to: those named, or every account but the
/// organization's management account, which these policies never apply to.
fn applied_accounts(
    check: &mut Checker,
    guardrail: &RawGuardrail,
    declared: &Declared,
    accounts: &BTreeMap<Name, Account>,
) -> Vec<Name> {
    let Some(named) = &guardrail.accounts else {
        return accounts
            .values()
            .filter(|account| !account.organization_management)
            .map(|account| account.name.clone())
            .collect();
    };
    let mut out: Vec<Name> = Vec::new();
    for account in named.get_ref() {
        if !check.reference("account", account, &declared.accounts) {
            continue;
        }
        if accounts
            .get(account.get_ref())
            .is_some_and(|account| account.organization_management)
        {
            check.report(Problem::InvalidSetting {
                field: "accounts",
                value: account.get_ref().clone(),
                reason: "is the organization's management account, which SCPs and RCPs do not apply to",
                help: "remove it from `accounts`: AWS exempts the management account from service and resource control policies",
                span: span(account),
            });
        } else if !out.contains(account.get_ref()) {
            out.push(account.get_ref().clone());
        }
    }
    out
}

fn applied_roles(check: &mut Checker, guardrail: &RawGuardrail, declared: &Declared) -> Vec<Name> {
    let Some(named) = &guardrail.roles else {
        missing(
            check,
            guardrail,
            "roles",
            "name the scenario roles it applies to: roles = [\"app\"]",
        );
        return Vec::new();
    };
    let mut out: Vec<Name> = Vec::new();
    for role in named.get_ref() {
        if check.reference("role", role, &declared.roles) && !out.contains(role.get_ref()) {
            out.push(role.get_ref().clone());
        }
    }
    out
}

/// A VPC endpoint id, `vpce-` followed by 8 to 17 hexadecimal digits; reports it if not.
pub(super) fn vpce_id(check: &mut Checker, value: &Spanned<String>) -> bool {
    if is_ec2_resource_id(value.get_ref(), "vpce-") {
        return true;
    }
    check.report(Problem::InvalidSetting {
        field: "VPC endpoint id",
        value: value.get_ref().clone(),
        reason: "is not a VPC endpoint id",
        help:
            "write `vpce-` followed by 8 to 17 hexadecimal digits, e.g. \"vpce-0123456789abcdef0\"",
        span: span(value),
    });
    false
}

//! The scenario's own settings: its name, home region, principal style, tags, organization and
//! the managed-policy quota of its roles and the form of their access policies.

use super::{span, Checker};
use crate::aws::is_organization_id;
use crate::scenario::diag::Problem;
use crate::scenario::model::{
    IdentityPolicy, PrincipalStyle, TerraformLayout, DEFAULT_MAX_MANAGED_POLICIES,
    MAX_MANAGED_POLICIES_QUOTA,
};
use crate::scenario::schema::RawScenario;
use std::collections::BTreeMap;

const STYLE_CHOICES: &[&str] = &["account", "role"];
const IDENTITY_POLICY_CHOICES: &[&str] = &["managed", "inline"];
const TERRAFORM_LAYOUT_CHOICES: &[&str] = &["single", "per-account"];

/// The top-level settings, checked.
pub(super) struct Settings {
    pub(super) name: String,
    pub(super) region: String,
    pub(super) principal_style: PrincipalStyle,
    pub(super) tags: BTreeMap<String, String>,
    pub(super) organization: Option<String>,
    pub(super) organization_role_paths: Vec<String>,
    pub(super) max_managed_policies: u32,
    pub(super) identity_policy: IdentityPolicy,
    pub(super) terraform_layout: TerraformLayout,
}

pub(super) fn settings(check: &mut Checker, raw: &RawScenario) -> Settings {
    let name = raw.name.get_ref().clone();
    let name_ok = !name.is_empty()
        && name.len() <= 64
        && name.starts_with(|c: char| c.is_ascii_alphabetic())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    if !name_ok {
        check.report(Problem::InvalidScenarioName {
            name: name.clone(),
            span: span(&raw.name),
        });
    }
    let region = check.home_region(&raw.region);
    let principal_style = match &raw.principal_style {
        None => PrincipalStyle::Account,
        Some(style) => match check.choice("principal_style", style, STYLE_CHOICES) {
            Some(1) => PrincipalStyle::Role,
            _ => PrincipalStyle::Account,
        },
    };
    let scenario_tags = check.tags(&BTreeMap::new(), &raw.tags, &[], &raw.name);
    let organization = raw.organization.as_ref().map(|organization| {
        if !is_organization_id(organization.get_ref()) {
            check.report(Problem::InvalidOrganization {
                value: organization.get_ref().clone(),
                span: span(organization),
            });
        }
        organization.get_ref().clone()
    });
    let organization_role_paths = check.owned_paths(&raw.organization_role_paths);
    if organization.is_none() {
        if let Some(first) = raw.organization_role_paths.first() {
            check.report(Problem::OrganizationPathsWithoutOrganization { span: span(first) });
        }
    }
    let max_managed_policies = match &raw.max_managed_policies {
        None => DEFAULT_MAX_MANAGED_POLICIES,
        Some(value) => match u32::try_from(*value.get_ref()) {
            Ok(count) if count <= MAX_MANAGED_POLICIES_QUOTA => count,
            _ => {
                check.report(Problem::MaxManagedPolicies {
                    value: *value.get_ref(),
                    span: span(value),
                });
                DEFAULT_MAX_MANAGED_POLICIES
            }
        },
    };
    let identity_policy = match &raw.identity_policy {
        None => IdentityPolicy::Managed,
        Some(form) => match check.choice("identity_policy", form, IDENTITY_POLICY_CHOICES) {
            Some(1) => IdentityPolicy::Inline,
            _ => IdentityPolicy::Managed,
        },
    };
    let terraform_layout = match &raw.terraform_layout {
        None => TerraformLayout::Single,
        Some(layout) => match check.choice("terraform_layout", layout, TERRAFORM_LAYOUT_CHOICES) {
            Some(1) => TerraformLayout::PerAccount,
            _ => TerraformLayout::Single,
        },
    };
    Settings {
        name,
        region,
        principal_style,
        tags: scenario_tags,
        organization,
        organization_role_paths,
        max_managed_policies,
        identity_policy,
        terraform_layout,
    }
}

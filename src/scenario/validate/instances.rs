//! `[instances.*]`: a role of the same account with an instance profile, an instance type, an
//! image (AMI or SSM parameter) and a subnet.

use super::{span, Checker, Declared};
use crate::aws::NAME_TAG;
use crate::policy::Name;
use crate::scenario::diag::Problem;
use crate::scenario::model::{Image, Instance, Role, DEFAULT_IMAGE_PARAMETER};
use crate::scenario::schema::RawScenario;
use std::collections::BTreeMap;

pub(super) fn instances(
    check: &mut Checker,
    raw: &RawScenario,
    declared: &Declared,
    roles: &BTreeMap<Name, Role>,
) -> BTreeMap<Name, Instance> {
    let mut instances = BTreeMap::new();
    for (name, instance) in &raw.instances {
        check.reference("account", &instance.account, &declared.accounts);
        if check.reference("role", &instance.role, &declared.roles) {
            let role = &roles[instance.role.get_ref()];
            if role.existing {
                if let Some(profile) = &instance.instance_profile_name {
                    check.role_name("instance profile name", profile);
                } else {
                    check.report(Problem::MissingField {
                        kind: "instance",
                        name: name.get_ref().clone(),
                        field: "instance_profile_name",
                        help: "an existing role keeps its own instance profile: name it, e.g. instance_profile_name = \"app-profile\" (`aws iam list-instance-profiles-for-role --role-name NAME` lists them)",
                        span: span(name),
                    });
                }
            } else {
                check.needs_existing(
                    "role",
                    &instance.role,
                    &[(
                        "instance_profile_name",
                        instance.instance_profile_name.as_ref().map(span),
                    )],
                );
            }
            if role.account != *instance.account.get_ref() {
                check.report(Problem::InstanceAccountMismatch {
                    instance: name.get_ref().clone(),
                    role: role.name.clone(),
                    role_account: role.account.clone(),
                    span: span(&instance.role),
                });
            } else if !role.instance_profile && !role.existing {
                check.report(Problem::RoleWithoutInstanceProfile {
                    instance: name.get_ref().clone(),
                    role: role.name.clone(),
                    span: span(&instance.role),
                });
            }
        }
        let instance_type = instance.instance_type.get_ref();
        let type_ok = instance_type.split_once('.').is_some_and(|(family, size)| {
            !family.is_empty()
                && !size.is_empty()
                && instance_type
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || ".-".contains(c))
        });
        if !type_ok {
            check.report(Problem::InvalidInstanceType {
                value: instance_type.clone(),
                span: span(&instance.instance_type),
            });
        }
        let image = match &instance.image {
            None => Image::SsmParameter(DEFAULT_IMAGE_PARAMETER.to_string()),
            Some(image) => {
                let text = image.get_ref();
                let is_ami = text
                    .strip_prefix("ami-")
                    .is_some_and(|id| !id.is_empty() && id.chars().all(|c| c.is_ascii_hexdigit()));
                let is_parameter = text.starts_with('/')
                    && text.len() > 1
                    && text
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || "/_.-".contains(c));
                if is_ami {
                    Image::Ami(text.clone())
                } else {
                    if !is_parameter {
                        check.report(Problem::InvalidImage {
                            value: text.clone(),
                            span: span(image),
                        });
                    }
                    Image::SsmParameter(text.clone())
                }
            }
        };
        let subnet = instance.subnet.as_ref().map(|subnet| {
            let text = subnet.get_ref();
            let valid = text
                .strip_prefix("subnet-")
                .is_some_and(|id| !id.is_empty() && id.chars().all(|c| c.is_ascii_hexdigit()));
            if !valid {
                check.report(Problem::InvalidSubnet {
                    value: text.clone(),
                    span: span(subnet),
                });
            }
            text.clone()
        });
        let instance_region = match &instance.region {
            Some(region) => check.region(region),
            None => declared.region.to_string(),
        };
        let tags = check.tags(declared.tags, &instance.tags, &[NAME_TAG], name);
        instances.insert(
            name.get_ref().clone(),
            Instance {
                name: name.get_ref().clone(),
                account: instance.account.get_ref().clone(),
                region: instance_region,
                role: instance.role.get_ref().clone(),
                instance_type: instance_type.clone(),
                image,
                subnet,
                tags,
                instance_profile_name: instance
                    .instance_profile_name
                    .as_ref()
                    .map(|profile| profile.get_ref().clone()),
            },
        );
    }
    instances
}

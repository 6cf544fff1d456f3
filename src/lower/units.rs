//! Deploy units: where each lowered resource deploys (account, region, phase), and which unit
//! produces what a reference names, which is what the deploy plan orders units by.

use super::consolidate::RoleLayout;
use super::Lowered;
use crate::model::{PrincipalStyle, Scenario};
use crate::policy::{Name, PolicyDocument, Ref};
use std::collections::BTreeMap;

/// The order in which deploy units of one account and region go out.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Phase {
    /// Consumer roles, created first when resource policies name them directly.
    Roles,
    /// Keys, buckets and their resource policies, in the owner account.
    Data,
    /// Consumer identity policies (they need the key ARN) and instances.
    Access,
}

impl Phase {
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Roles => "roles",
            Phase::Data => "data",
            Phase::Access => "access",
        }
    }
}

/// Where a unit deploys: account (scenario name), region, phase, and which part of them
/// (from 1): a stack too large for CloudFormation's limits is split into numbered parts.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct UnitId {
    pub account: Name,
    pub region: String,
    pub phase: Phase,
    pub part: u32,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Resource {
    Key {
        key: Name,
        policy: PolicyDocument,
    },
    Alias {
        key: Name,
    },
    /// The policy of a key that exists already (crossgrant does not create it).
    KeyPolicy {
        key: Name,
        policy: PolicyDocument,
    },
    Bucket {
        bucket: Name,
    },
    BucketPolicy {
        bucket: Name,
        policy: PolicyDocument,
    },
    /// The access point of one consumer account on a bucket, with its policy (none for the
    /// owner's own roles, whose identity policies grant).
    AccessPoint {
        bucket: Name,
        account: Name,
        policy: Option<PolicyDocument>,
    },
    Role {
        role: Name,
        trust: PolicyDocument,
    },
    InstanceProfile {
        role: Name,
    },
    RolePolicy {
        role: Name,
        policy: PolicyDocument,
    },
    /// A customer-managed policy attached to the role, holding part of its access when the
    /// inline policy alone would exceed IAM's size limit; `number` counts from 1.
    ManagedPolicy {
        role: Name,
        number: usize,
        policy: PolicyDocument,
    },
    Instance {
        instance: Name,
    },
}

impl Resource {
    /// The documents this resource carries, if any.
    pub fn policy(&self) -> Option<&PolicyDocument> {
        match self {
            Resource::Key { policy, .. }
            | Resource::KeyPolicy { policy, .. }
            | Resource::BucketPolicy { policy, .. }
            | Resource::RolePolicy { policy, .. }
            | Resource::ManagedPolicy { policy, .. } => Some(policy),
            Resource::Role { trust, .. } => Some(trust),
            Resource::AccessPoint { policy, .. } => policy.as_ref(),
            _ => None,
        }
    }

    /// References this resource makes besides those inside its policy document.
    pub fn direct_refs(&self) -> Vec<Ref> {
        match self {
            Resource::Instance { instance } => vec![Ref::InstanceProfile(instance.clone())],
            _ => Vec::new(),
        }
    }

    /// Every reference this resource makes: those inside its policy document, its direct ones,
    /// and the key a bucket is encrypted with (which the stack of the bucket names through a
    /// parameter when the key is in another part of its account's stacks).
    pub fn refs_in(&self, scenario: &Scenario) -> Vec<Ref> {
        let mut refs: Vec<Ref> = self
            .policy()
            .map(|policy| policy.refs().into_iter().cloned().collect())
            .unwrap_or_default();
        refs.extend(self.direct_refs());
        if let Resource::Bucket { bucket } = self {
            if let Some(key) = scenario.buckets[bucket].key() {
                refs.push(Ref::KeyArn(key.to_string()));
            }
        }
        refs
    }

    /// What this resource creates that a reference can name.
    pub fn produces(&self, scenario: &Scenario) -> Vec<Ref> {
        match self {
            Resource::Key { key, .. } => vec![Ref::KeyArn(key.clone())],
            Resource::Role { role, .. } => vec![Ref::RoleArn(role.clone())],
            Resource::InstanceProfile { role } => scenario
                .instances
                .values()
                .filter(|instance| instance.role == *role)
                .map(|instance| Ref::InstanceProfile(instance.name.clone()))
                .collect(),
            _ => Vec::new(),
        }
    }

    /// The scenario table this resource belongs to, as `(kind, name)`.
    pub fn table(&self) -> (&'static str, &Name) {
        match self {
            Resource::Key { key, .. }
            | Resource::Alias { key }
            | Resource::KeyPolicy { key, .. } => ("key", key),
            Resource::Bucket { bucket }
            | Resource::BucketPolicy { bucket, .. }
            | Resource::AccessPoint { bucket, .. } => ("bucket", bucket),
            Resource::Role { role, .. }
            | Resource::InstanceProfile { role }
            | Resource::RolePolicy { role, .. }
            | Resource::ManagedPolicy { role, .. } => ("role", role),
            Resource::Instance { instance } => ("instance", instance),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unit {
    pub id: UnitId,
    pub resources: Vec<Resource>,
}

/// Where each resource deploys. Roles go out first in their own unit only when resource
/// policies name them directly (principal style `role`).
pub(super) fn place(lowered: &Lowered, mut role_layouts: BTreeMap<Name, RoleLayout>) -> Vec<Unit> {
    let scenario = &lowered.scenario;
    let role_phase = match scenario.principal_style {
        PrincipalStyle::Role => Phase::Roles,
        PrincipalStyle::Account => Phase::Access,
    };
    let mut units: BTreeMap<UnitId, Vec<Resource>> = BTreeMap::new();
    let mut place = |account: &str, region: &str, phase: Phase, resource: Resource| {
        units
            .entry(UnitId {
                account: account.to_string(),
                region: region.to_string(),
                phase,
                part: 1,
            })
            .or_default()
            .push(resource);
    };
    for key in scenario.keys.values() {
        let policy = lowered.key_policies[&key.name].clone();
        if key.existing.is_some() {
            place(
                &key.account,
                &key.region,
                Phase::Data,
                Resource::KeyPolicy {
                    key: key.name.clone(),
                    policy,
                },
            );
            continue;
        }
        place(
            &key.account,
            &key.region,
            Phase::Data,
            Resource::Key {
                key: key.name.clone(),
                policy,
            },
        );
        place(
            &key.account,
            &key.region,
            Phase::Data,
            Resource::Alias {
                key: key.name.clone(),
            },
        );
    }
    for bucket in scenario.buckets.values() {
        if bucket.existing.is_none() {
            place(
                &bucket.account,
                &bucket.region,
                Phase::Data,
                Resource::Bucket {
                    bucket: bucket.name.clone(),
                },
            );
        }
        if let Some(policy) = lowered.bucket_policies.get(&bucket.name) {
            place(
                &bucket.account,
                &bucket.region,
                Phase::Data,
                Resource::BucketPolicy {
                    bucket: bucket.name.clone(),
                    policy: policy.clone(),
                },
            );
        }
        for account in bucket.access_points.keys() {
            place(
                &bucket.account,
                &bucket.region,
                Phase::Data,
                Resource::AccessPoint {
                    bucket: bucket.name.clone(),
                    account: account.clone(),
                    policy: lowered
                        .access_point_policies
                        .get(&(bucket.name.clone(), account.clone()))
                        .cloned(),
                },
            );
        }
    }
    for role in scenario.roles.values() {
        // IAM is global: roles deploy with the scenario's home region.
        let region = scenario.region.clone();
        if !role.existing {
            place(
                &role.account,
                &region,
                role_phase,
                Resource::Role {
                    role: role.name.clone(),
                    trust: lowered.trust_policies[&role.name].clone(),
                },
            );
        }
        if role.instance_profile {
            place(
                &role.account,
                &region,
                role_phase,
                Resource::InstanceProfile {
                    role: role.name.clone(),
                },
            );
        }
        // The roles of a permission set take no policy: it goes into the set (see render).
        if role.permission_set.is_some() {
            continue;
        }
        if let Some(layout) = role_layouts.remove(&role.name) {
            if !layout.inline.is_empty() {
                place(
                    &role.account,
                    &region,
                    Phase::Access,
                    Resource::RolePolicy {
                        role: role.name.clone(),
                        policy: PolicyDocument::new(layout.inline),
                    },
                );
            }
            for (index, statements) in layout.managed.into_iter().enumerate() {
                place(
                    &role.account,
                    &region,
                    Phase::Access,
                    Resource::ManagedPolicy {
                        role: role.name.clone(),
                        number: index + 1,
                        policy: PolicyDocument::new(statements),
                    },
                );
            }
        }
    }
    for instance in scenario.instances.values() {
        place(
            &instance.account,
            &instance.region,
            Phase::Access,
            Resource::Instance {
                instance: instance.name.clone(),
            },
        );
    }
    units
        .into_iter()
        .map(|(id, resources)| Unit { id, resources })
        .collect()
}

/// The text of a reference that names something which exists already (an existing key's ARN,
/// an existing role's ARN, an existing role's instance profile name): known before deploy, so
/// every target writes it as a literal and nothing waits for it.
pub fn known(scenario: &Scenario, reference: &Ref) -> Option<String> {
    match reference {
        Ref::KeyArn(key) => scenario.keys[key].known_arn().map(str::to_string),
        Ref::RoleArn(role) => scenario.roles[role]
            .existing
            .then(|| scenario.role_arn(role)),
        Ref::InstanceProfile(instance) => {
            scenario.instances[instance].instance_profile_name.clone()
        }
    }
}

/// The unit that creates what a reference names; none for what exists already.
pub fn producer(lowered: &Lowered, reference: &Ref) -> Option<UnitId> {
    let scenario = &lowered.scenario;
    if known(scenario, reference).is_some() {
        return None;
    }
    let part = lowered.stack_parts.get(reference).copied().unwrap_or(1);
    let role_unit = |role: &str| {
        let role = &scenario.roles[role];
        UnitId {
            account: role.account.clone(),
            region: scenario.region.clone(),
            phase: match scenario.principal_style {
                PrincipalStyle::Role => Phase::Roles,
                PrincipalStyle::Account => Phase::Access,
            },
            part,
        }
    };
    Some(match reference {
        Ref::KeyArn(key) => {
            let key = &scenario.keys[key];
            UnitId {
                account: key.account.clone(),
                region: key.region.clone(),
                phase: Phase::Data,
                part,
            }
        }
        Ref::RoleArn(role) => role_unit(role),
        Ref::InstanceProfile(instance) => role_unit(&scenario.instances[instance].role),
    })
}

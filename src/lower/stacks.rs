//! CloudFormation's limits on one template (its body size, and how many resources, parameters
//! and outputs it declares), and the split of a deploy unit that would exceed one into
//! numbered parts of the same account, region and phase. What must deploy together stays
//! together: a key with its alias and the buckets it encrypts, a bucket with its policy, a role
//! with its instance profile, its access policies and the instances that use it. A part that
//! needs what another part creates names it through a parameter, as stacks of different
//! accounts do, and the plan orders the parts by those references.
//!
//! Sizes come from the renderer: the caller measures a unit by rendering its template, so what
//! is budgeted is what is written.

use super::{Lowered, Resource, Unit, UnitId};
use crate::aws;
use crate::limits::thousands;
use crate::policy::Ref;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

/// One of CloudFormation's limits on a template.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum TemplateLimit {
    /// The body, read from S3 (`--s3-bucket`): 1 MB.
    Bytes,
    Resources,
    Parameters,
    Outputs,
}

impl TemplateLimit {
    pub const ALL: [TemplateLimit; 4] = [
        TemplateLimit::Bytes,
        TemplateLimit::Resources,
        TemplateLimit::Parameters,
        TemplateLimit::Outputs,
    ];

    pub fn max(self) -> usize {
        match self {
            TemplateLimit::Bytes => aws::TEMPLATE_S3_BYTES,
            TemplateLimit::Resources => aws::TEMPLATE_RESOURCES,
            TemplateLimit::Parameters => aws::TEMPLATE_PARAMETERS,
            TemplateLimit::Outputs => aws::TEMPLATE_OUTPUTS,
        }
    }

    pub fn unit(self) -> &'static str {
        match self {
            TemplateLimit::Bytes => "bytes",
            TemplateLimit::Resources => "resources",
            TemplateLimit::Parameters => "parameters",
            TemplateLimit::Outputs => "outputs",
        }
    }
}

/// A rendered template's size and counts.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TemplateSize {
    pub bytes: usize,
    pub resources: usize,
    /// The names of its parameters: parts that share a parameter declare it once.
    pub parameters: BTreeSet<String>,
    pub outputs: usize,
}

impl TemplateSize {
    pub fn get(&self, limit: TemplateLimit) -> usize {
        match limit {
            TemplateLimit::Bytes => self.bytes,
            TemplateLimit::Resources => self.resources,
            TemplateLimit::Parameters => self.parameters.len(),
            TemplateLimit::Outputs => self.outputs,
        }
    }

    /// The limits it exceeds.
    pub fn over(&self) -> Vec<TemplateLimit> {
        TemplateLimit::ALL
            .into_iter()
            .filter(|limit| self.get(*limit) > TemplateLimit::max(*limit))
            .collect()
    }

    pub fn fits(&self) -> bool {
        self.over().is_empty()
    }

    /// Whether `aws cloudformation deploy` needs `--s3-bucket` for it.
    pub fn needs_s3(&self) -> bool {
        self.bytes > aws::TEMPLATE_BODY_BYTES
    }

    /// `57,031 of 1,048,576 bytes (5.5%), 48 of 500 resources, 0 of 200 parameters, 24 of 200
    /// outputs`.
    pub fn describe(&self) -> String {
        TemplateLimit::ALL
            .into_iter()
            .map(|limit| {
                let value = self.get(limit);
                let share = match limit {
                    TemplateLimit::Bytes => {
                        let permille = (value * 1000).div_ceil(limit.max());
                        format!(" ({}.{}%)", permille / 10, permille % 10)
                    }
                    _ => String::new(),
                };
                format!(
                    "{} of {} {}{share}",
                    thousands(value),
                    thousands(limit.max()),
                    limit.unit()
                )
            })
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// The size of a template holding the contents of `self` and `other`, where `empty` is
    /// that of a template with nothing in it (counted once). Never smaller than the template
    /// rendered whole: a parameter both use is counted once, the rest adds up.
    fn joined(&self, other: &TemplateSize, empty: usize) -> TemplateSize {
        TemplateSize {
            bytes: self.bytes + other.bytes.saturating_sub(empty),
            resources: self.resources + other.resources,
            parameters: self.parameters.union(&other.parameters).cloned().collect(),
            outputs: self.outputs + other.outputs,
        }
    }
}

/// A unit whose stack cannot fit CloudFormation's limits however it is split: something that
/// must deploy together exceeds one on its own.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StackProblem {
    /// The file stem of the unit's template (`owner-data`).
    pub stem: String,
    /// What must stay together: `role app with its access policies`.
    pub group: String,
    pub size: TemplateSize,
}

impl StackProblem {
    /// What the user can change.
    pub fn advice(&self) -> &'static str {
        "let the buckets share keys (each key ARN of another stack is a parameter), grant the role fewer buckets, or split its grants over several roles"
    }
}

impl fmt::Display for StackProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let over: Vec<String> = self
            .size
            .over()
            .into_iter()
            .map(|limit| {
                format!(
                    "{} {} (limit {})",
                    thousands(self.size.get(limit)),
                    limit.unit(),
                    thousands(limit.max())
                )
            })
            .collect();
        write!(
            f,
            "the CloudFormation stack {} cannot fit CloudFormation's limits even split into parts: {}, which must deploy in one stack, needs {}",
            self.stem,
            self.group,
            over.join(", ")
        )
    }
}

/// A group of resources that deploys in one stack.
struct Group {
    resources: Vec<Resource>,
    /// `key data`, `bucket shared`, `role app`.
    label: String,
}

/// The groups of a unit, in the order its resources are placed: a key with its alias and the
/// buckets it encrypts (with their policies), a bucket with its policy, a role with everything
/// attached to it and the instances that use it.
fn groups(lowered: &Lowered, unit: &Unit) -> Vec<Group> {
    let scenario = &lowered.scenario;
    let mut order: Vec<String> = Vec::new();
    let mut members: BTreeMap<String, Vec<Resource>> = BTreeMap::new();
    let has_key = |key: &str| {
        unit.resources
            .iter()
            .any(|resource| matches!(resource, Resource::Key { key: k, .. } if k == key))
    };
    for resource in &unit.resources {
        let label = match resource {
            Resource::Bucket { bucket } | Resource::BucketPolicy { bucket, .. } => {
                match scenario.buckets[bucket].key().filter(|key| has_key(key)) {
                    Some(key) => format!("key {key}"),
                    None => format!("bucket {bucket}"),
                }
            }
            Resource::Instance { instance } => {
                format!("role {}", scenario.instances[instance].role)
            }
            other => {
                let (kind, name) = other.table();
                format!("{kind} {name}")
            }
        };
        if !members.contains_key(&label) {
            order.push(label.clone());
        }
        members.entry(label).or_default().push(resource.clone());
    }
    order
        .into_iter()
        .map(|label| Group {
            resources: members.remove(&label).unwrap_or_default(),
            label,
        })
        .collect()
}

/// A group too large for one stack, broken into what must still stay together: a key with its
/// alias, each bucket with its policy; a role with its profile and policies, each instance.
fn smaller(group: Group) -> Vec<Group> {
    let mut pieces: Vec<Group> = Vec::new();
    let mut piece_of = |label: String, resource: Resource| match pieces
        .iter_mut()
        .find(|piece| piece.label == label)
    {
        Some(piece) => piece.resources.push(resource),
        None => pieces.push(Group {
            resources: vec![resource],
            label,
        }),
    };
    for resource in group.resources {
        let label = match &resource {
            Resource::Bucket { bucket } | Resource::BucketPolicy { bucket, .. } => {
                format!("bucket {bucket} with its policy")
            }
            Resource::Key { key, .. } | Resource::Alias { key } => {
                format!("key {key} with its alias")
            }
            Resource::Instance { instance } => format!("instance {instance}"),
            Resource::Role { role, .. }
            | Resource::InstanceProfile { role }
            | Resource::RolePolicy { role, .. }
            | Resource::ManagedPolicy { role, .. } => {
                format!("role {role} with its access policies")
            }
            Resource::KeyPolicy { key, .. } => format!("the policy of key {key}"),
            Resource::AccessPoint { bucket, .. } => format!("the access points of bucket {bucket}"),
        };
        piece_of(label, resource);
    }
    pieces
}

/// Splits every unit whose template would exceed one of CloudFormation's limits into numbered
/// parts, each within them, and records which part creates what. `measure` gives the size of
/// the template of a unit (for a unit that is not deployed as a stack, `None`).
/// Returns the size of every template, by unit.
pub fn split<E>(
    lowered: &mut Lowered,
    mut measure: impl FnMut(&Lowered, &Unit) -> Result<Option<TemplateSize>, E>,
    stem: impl Fn(&Lowered, &UnitId) -> String,
) -> Result<Result<BTreeMap<UnitId, TemplateSize>, StackProblem>, E> {
    let mut units = Vec::with_capacity(lowered.units.len());
    let mut sizes = BTreeMap::new();
    let mut changed = false;
    for unit in std::mem::take(&mut lowered.units) {
        let whole = measure(lowered, &unit)?;
        if whole.as_ref().is_none_or(TemplateSize::fits) {
            if let Some(whole) = whole {
                sizes.insert(unit.id.clone(), whole);
            }
            units.push(unit);
            continue;
        }
        let empty = measure(
            lowered,
            &Unit {
                id: unit.id.clone(),
                resources: Vec::new(),
            },
        )?
        .map_or(0, |size| size.bytes);
        let mut pieces: Vec<(Group, TemplateSize)> = Vec::new();
        for group in groups(lowered, &unit) {
            let size = measured(lowered, &unit.id, &group, &mut measure)?;
            if size.fits() {
                pieces.push((group, size));
                continue;
            }
            for piece in smaller(group) {
                let size = measured(lowered, &unit.id, &piece, &mut measure)?;
                if !size.fits() {
                    return Ok(Err(StackProblem {
                        stem: stem(lowered, &unit.id),
                        group: piece.label,
                        size,
                    }));
                }
                pieces.push((piece, size));
            }
        }
        let mut parts: Vec<(Vec<Resource>, TemplateSize)> = Vec::new();
        for (piece, size) in pieces {
            match parts.last_mut() {
                Some((resources, total)) if total.joined(&size, empty).fits() => {
                    *total = total.joined(&size, empty);
                    resources.extend(piece.resources);
                }
                _ => parts.push((piece.resources, size)),
            }
        }
        changed = true;
        for (index, (resources, _)) in parts.into_iter().enumerate() {
            units.push(Unit {
                id: UnitId {
                    part: index as u32 + 1,
                    ..unit.id.clone()
                },
                resources,
            });
        }
    }
    lowered.units = units;
    if changed {
        let scenario = &lowered.scenario;
        let parts: Vec<(Ref, u32)> = lowered
            .units
            .iter()
            .filter(|unit| unit.id.part > 1)
            .flat_map(|unit| {
                unit.resources
                    .iter()
                    .flat_map(|resource| resource.produces(scenario))
                    .map(|reference| (reference, unit.id.part))
            })
            .collect();
        lowered.stack_parts.extend(parts);
        // The parts as they render, with the parameters through which they reach each other.
        for unit in &lowered.units {
            if sizes.contains_key(&unit.id) {
                continue;
            }
            if let Some(size) = measure(lowered, unit)? {
                if !size.fits() {
                    return Ok(Err(StackProblem {
                        stem: stem(lowered, &unit.id),
                        group: format!("part {} of the stack", unit.id.part),
                        size,
                    }));
                }
                sizes.insert(unit.id.clone(), size);
            }
        }
    }
    Ok(Ok(sizes))
}

fn measured<E>(
    lowered: &Lowered,
    id: &UnitId,
    group: &Group,
    measure: &mut impl FnMut(&Lowered, &Unit) -> Result<Option<TemplateSize>, E>,
) -> Result<TemplateSize, E> {
    let unit = Unit {
        id: id.clone(),
        resources: group.resources.clone(),
    };
    Ok(measure(lowered, &unit)?.unwrap_or_default())
}

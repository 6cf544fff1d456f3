//! Deploy order: units sorted topologically by the references between them (a unit that uses
//! a key ARN goes after the unit that creates the key; with principal style `role`, the owner's
//! policies go after the roles they name). Ties break by phase, account and region, so the
//! order is stable.

use crate::lower::{producer, Lowered, UnitId};
use crate::names::{part_stem, stack_name, unit_dir, unit_stem};
use crate::policy::Ref;
use std::collections::{BTreeMap, BTreeSet};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Step {
    /// Index into `Lowered::units`.
    pub unit: usize,
    pub id: UnitId,
    /// `<account>-<phase>`, or `<account>-<region>-<phase>` outside the scenario's region;
    /// `-<part>` follows for the parts from 2 of a split stack.
    pub stem: String,
    /// The stack name: `<scenario>-<stem>`.
    pub stack_name: String,
    /// Units that must be deployed before this one, with the references that need them.
    pub needs: BTreeMap<UnitId, Vec<Ref>>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cycle {
    pub members: Vec<String>,
}

pub fn stem(lowered: &Lowered, id: &UnitId) -> String {
    let dir = unit_dir(&id.account, &id.region, &lowered.scenario.region);
    part_stem(unit_stem(&dir, id.phase.as_str()), id.part)
}

/// The references each unit makes to things another unit creates.
pub fn dependencies(lowered: &Lowered) -> Vec<BTreeMap<UnitId, Vec<Ref>>> {
    lowered
        .units
        .iter()
        .map(|unit| {
            let mut needs: BTreeMap<UnitId, Vec<Ref>> = BTreeMap::new();
            for resource in &unit.resources {
                for reference in resource.refs_in(&lowered.scenario) {
                    let Some(from) = producer(lowered, &reference) else {
                        continue;
                    };
                    if from != unit.id {
                        let list = needs.entry(from).or_default();
                        if !list.contains(&reference) {
                            list.push(reference);
                        }
                    }
                }
            }
            needs
        })
        .collect()
}

pub fn plan(lowered: &Lowered) -> Result<Vec<Step>, Cycle> {
    let needs = dependencies(lowered);
    let index: BTreeMap<&UnitId, usize> = lowered
        .units
        .iter()
        .enumerate()
        .map(|(i, unit)| (&unit.id, i))
        .collect();
    let mut waiting: Vec<BTreeSet<usize>> = needs
        .iter()
        .map(|map| map.keys().filter_map(|id| index.get(id).copied()).collect())
        .collect();
    let mut ready: BTreeSet<(crate::lower::Phase, &str, &str, usize)> = BTreeSet::new();
    let key = |i: usize| {
        let id = &lowered.units[i].id;
        (id.phase, id.account.as_str(), id.region.as_str(), i)
    };
    for (i, deps) in waiting.iter().enumerate() {
        if deps.is_empty() {
            ready.insert(key(i));
        }
    }
    let mut done = BTreeSet::new();
    let mut steps = Vec::new();
    while let Some(next) = ready.pop_first() {
        let i = next.3;
        done.insert(i);
        let id = lowered.units[i].id.clone();
        let stem = stem(lowered, &id);
        steps.push(Step {
            unit: i,
            stack_name: stack_name(&lowered.scenario.name, &stem),
            stem,
            id,
            needs: needs[i].clone(),
        });
        for (j, deps) in waiting.iter_mut().enumerate() {
            if deps.remove(&i) && deps.is_empty() && !done.contains(&j) {
                ready.insert(key(j));
            }
        }
    }
    if steps.len() < lowered.units.len() {
        let members = (0..lowered.units.len())
            .filter(|i| !done.contains(i))
            .map(|i| stem(lowered, &lowered.units[i].id))
            .collect();
        return Err(Cycle { members });
    }
    Ok(steps)
}

//! `diff`'s comparison: two lowered scenarios decided over one request matrix, the probes of
//! `check` of both, so that a request only one of them asks about (a new prefix, a new
//! bucket, a role that is gone) is decided in the other too. A request gains access when it is
//! denied by the base and allowed by the head, and loses it the other way round. Beside the
//! decisions, the policy documents that change, with their sizes: a document can change while
//! no decision does (a consolidation, a reordering).

use super::check::Outcome;
use super::engine::evaluate;
use super::probe::{probes, CallerKind, Operation, Probe, Route, Transport, World};
use crate::limits::Sizer;
use crate::lower::Lowered;
use crate::policy::{Name, PolicyDocument};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

/// What makes two probes the same request: who asks, on which bucket, what, and how.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct RequestKey {
    pub caller: CallerKind,
    pub bucket: Name,
    pub operation: Operation,
    pub transport: Transport,
    pub route: Route,
}

impl RequestKey {
    fn of(probe: &Probe) -> RequestKey {
        RequestKey {
            caller: probe.caller_kind.clone(),
            bucket: probe.bucket.clone(),
            operation: probe.operation.clone(),
            transport: probe.transport,
            route: probe.route.clone(),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Direction {
    /// Denied by the base, allowed by the head.
    Gained,
    /// Allowed by the base, not by the head.
    Lost,
}

/// A request whose decision changes.
#[derive(Clone, Debug)]
pub struct AccessChange {
    pub key: RequestKey,
    /// The caller's ARN (none for an anonymous caller).
    pub caller_arn: Option<String>,
    pub direction: Direction,
    pub base: Outcome,
    pub head: Outcome,
}

/// Which kind of policy document.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum DocumentKind {
    BucketPolicy,
    /// The policy of a bucket's access point for one account (`bucket/account`).
    AccessPointPolicy,
    KeyPolicy,
    /// Every statement crossgrant gives a role (however it is split for deploy).
    AccessPolicy,
    TrustPolicy,
}

/// A policy document of a bucket, key or role, by the scenario name of what it belongs to.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct DocumentId {
    pub kind: DocumentKind,
    pub name: Name,
}

/// Something whose text changes between base and head, with its size in each (none: it does
/// not exist there).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SizeChange<K> {
    pub id: K,
    pub base: Option<usize>,
    pub head: Option<usize>,
}

#[derive(Clone, Debug)]
pub struct Comparison {
    /// Sorted by caller (scenario roles first, as `check` lists them), bucket, operation and
    /// transport.
    pub changes: Vec<AccessChange>,
    pub documents: Vec<SizeChange<DocumentId>>,
}

impl Comparison {
    pub fn gained(&self) -> impl Iterator<Item = &AccessChange> {
        self.changes
            .iter()
            .filter(|change| change.direction == Direction::Gained)
    }

    pub fn lost(&self) -> impl Iterator<Item = &AccessChange> {
        self.changes
            .iter()
            .filter(|change| change.direction == Direction::Lost)
    }
}

/// One scenario's documents and probes.
struct Side<'a> {
    lowered: &'a Lowered,
    world: World,
    probes: BTreeMap<RequestKey, Probe>,
}

impl<'a> Side<'a> {
    fn new(lowered: &'a Lowered) -> Self {
        Side {
            lowered,
            world: World::build(lowered),
            probes: probes(lowered)
                .into_iter()
                .map(|probe| (RequestKey::of(&probe), probe))
                .collect(),
        }
    }

    /// How this scenario decides `probe` (its own, or the other scenario's where it does not
    /// ask this). A bucket or role it does not have is denied: there is no policy to allow it.
    fn decide(&self, probe: &Probe) -> Outcome {
        let scenario = &self.lowered.scenario;
        let unknown_role = matches!(&probe.caller_kind, CallerKind::Role { role } if !scenario.roles.contains_key(role));
        if !scenario.buckets.contains_key(&probe.bucket) || unknown_role {
            return Outcome::Denied;
        }
        let mut outcome = Outcome::Allowed;
        for step in &probe.steps {
            match evaluate(&step.request, &self.world.policies(step)) {
                Err(_) => return Outcome::Error,
                Ok(decision) if !decision.verdict.is_allowed() => outcome = Outcome::Denied,
                Ok(_) => {}
            }
        }
        outcome
    }
}

/// Compares the access `base` and `head` give, and their policy documents.
pub fn compare(base: &Lowered, head: &Lowered) -> Comparison {
    let (base_side, head_side) = (Side::new(base), Side::new(head));
    let keys: BTreeSet<&RequestKey> = base_side
        .probes
        .keys()
        .chain(head_side.probes.keys())
        .collect();
    let mut changes = Vec::new();
    for key in keys {
        let (own_base, own_head) = (base_side.probes.get(key), head_side.probes.get(key));
        let (Some(base_probe), Some(head_probe)) = (own_base.or(own_head), own_head.or(own_base))
        else {
            continue;
        };
        let before = base_side.decide(base_probe);
        let after = head_side.decide(head_probe);
        let direction = match (before == Outcome::Allowed, after == Outcome::Allowed) {
            (false, true) => Direction::Gained,
            (true, false) => Direction::Lost,
            _ => continue,
        };
        changes.push(AccessChange {
            key: key.clone(),
            caller_arn: head_probe.steps[0].request.caller.arn().map(String::from),
            direction,
            base: before,
            head: after,
        });
    }
    Comparison {
        changes,
        documents: size_changes(documents(base), documents(head)),
    }
}

/// Every policy document of a lowered scenario, with its size as `check` measures it
/// (whitespace not counted, references at their longest).
fn documents(lowered: &Lowered) -> BTreeMap<DocumentId, (&PolicyDocument, usize)> {
    let sizer = Sizer::new(&lowered.scenario);
    [
        (DocumentKind::BucketPolicy, &lowered.bucket_policies),
        (DocumentKind::KeyPolicy, &lowered.key_policies),
        (DocumentKind::AccessPolicy, &lowered.role_policies),
        (DocumentKind::TrustPolicy, &lowered.trust_policies),
    ]
    .into_iter()
    .flat_map(|(kind, documents)| {
        documents.iter().map(move |(name, document)| {
            (
                DocumentId {
                    kind,
                    name: name.clone(),
                },
                document,
            )
        })
    })
    .chain(
        lowered
            .access_point_policies
            .iter()
            .map(|((bucket, account), document)| {
                (
                    DocumentId {
                        kind: DocumentKind::AccessPointPolicy,
                        name: format!("{bucket}/{account}"),
                    },
                    document,
                )
            }),
    )
    .map(|(id, document)| (id, (document, sizer.document(document))))
    .collect()
}

/// What differs between two maps of texts with sizes: added, removed and changed entries, in
/// key order.
pub fn size_changes<K: Ord + Clone, T: PartialEq>(
    base: BTreeMap<K, (T, usize)>,
    head: BTreeMap<K, (T, usize)>,
) -> Vec<SizeChange<K>> {
    let ids: BTreeSet<&K> = base.keys().chain(head.keys()).collect();
    ids.into_iter()
        .filter_map(|id| match (base.get(id), head.get(id)) {
            (Some((before, _)), Some((after, _))) if before == after => None,
            (before, after) => Some(SizeChange {
                id: id.clone(),
                base: before.map(|(_, size)| *size),
                head: after.map(|(_, size)| *size),
            }),
        })
        .collect()
}

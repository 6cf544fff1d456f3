//! The policies of buckets and keys that exist already: the statements of the live policy
//! (the scenario's `policy_file`) are kept as written and in order, and crossgrant's own follow
//! with Sids it owns, so a statement that crossgrant wrote on an earlier run is replaced rather
//! than repeated, and one it no longer writes goes away.

use super::key_policy::ROOT_KEY_SID;
use crate::model::{LivePolicy, Scenario, OWNED_SID_PREFIX};
use crate::policy::{Name, PolicyDocument};
use std::collections::BTreeMap;

/// Every existing resource whose live policy holds statements crossgrant wrote before gets a
/// policy, even when crossgrant has nothing to add now: those statements must go.
pub(super) fn with_replaced_policies<'a>(
    mut policies: BTreeMap<Name, PolicyDocument>,
    live: impl Iterator<Item = (&'a Name, &'a LivePolicy)>,
) -> BTreeMap<Name, PolicyDocument> {
    for (name, policy) in live {
        if policy.replaced() > 0 {
            policies.entry(name.clone()).or_default();
        }
    }
    policies
}

/// The policy an existing resource gets: the kept statements of its live policy, then
/// crossgrant's, each Sid in crossgrant's namespace — except the root statement of a key
/// whose live policy was not captured: that is the key's administrator from then on, which a
/// policy captured later keeps.
pub(super) fn merged(live: Option<&LivePolicy>, policy: PolicyDocument) -> PolicyDocument {
    let kept = live.into_iter().flat_map(LivePolicy::kept).cloned();
    let own = policy
        .statements
        .into_iter()
        .enumerate()
        .map(|(index, mut statement)| {
            statement.sid = Some(match statement.sid.take() {
                Some(sid) if sid == ROOT_KEY_SID => sid,
                Some(sid) => format!("{OWNED_SID_PREFIX}{sid}"),
                None => format!("{OWNED_SID_PREFIX}{}", index + 1),
            });
            statement
        });
    PolicyDocument::new(kept.chain(own).collect())
}

/// The merge for one bucket policy, if the bucket exists already.
pub(super) fn merge_bucket(
    scenario: &Scenario,
    name: &str,
    policy: PolicyDocument,
) -> PolicyDocument {
    let bucket = &scenario.buckets[name];
    match &bucket.existing {
        Some(existing) => merged(existing.policy.as_ref(), policy),
        None => policy,
    }
}

/// The merge for one key policy, if the key exists already.
pub(super) fn merge_key(scenario: &Scenario, name: &str, policy: PolicyDocument) -> PolicyDocument {
    let key = &scenario.keys[name];
    match &key.existing {
        Some(existing) => merged(existing.policy.as_ref(), policy),
        None => policy,
    }
}

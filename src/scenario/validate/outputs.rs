//! The names crossgrant derives for what it writes: every account and region it deploys to
//! renders its own CloudFormation files and stacks and its own Terraform module and provider,
//! so two of them must never derive the same name (an account `a` with a bucket in
//! `us-west-2` and an account named `a-us-west-2` would), and each derived name must be one AWS
//! and Terraform accept.

use super::{span, Checker};
use crate::lower::Phase;
use crate::names::{
    is_session_name, is_stack_name, session_name, snake, stack_name, unit_dir, unit_stem,
};
use crate::scenario::diag::{Problem, Span};
use crate::scenario::model::{Bucket, Instance, Key, Role};
use crate::scenario::schema::RawScenario;
use std::collections::{BTreeMap, BTreeSet};

/// What the scenario deploys, once its tables are validated.
pub(super) struct Deployed<'a> {
    pub scenario_name: &'a str,
    pub home_region: &'a str,
    pub keys: &'a BTreeMap<String, Key>,
    pub buckets: &'a BTreeMap<String, Bucket>,
    pub roles: &'a BTreeMap<String, Role>,
    pub instances: &'a BTreeMap<String, Instance>,
}

/// Every account and region that gets resources; IAM is global, so roles deploy in the home
/// region.
fn places<'a>(deployed: &'a Deployed) -> BTreeSet<(&'a str, &'a str)> {
    let home = deployed.home_region;
    deployed
        .keys
        .values()
        .map(|key| (key.account.as_str(), key.region.as_str()))
        .chain(
            deployed
                .buckets
                .values()
                .map(|bucket| (bucket.account.as_str(), bucket.region.as_str())),
        )
        .chain(
            deployed
                .roles
                .values()
                .map(|role| (role.account.as_str(), home)),
        )
        .chain(
            deployed
                .instances
                .values()
                .map(|instance| (instance.account.as_str(), instance.region.as_str())),
        )
        .collect()
}

pub(super) fn output_names(check: &mut Checker, raw: &RawScenario, deployed: &Deployed) {
    let account_span = |account: &str| -> Span {
        raw.accounts
            .keys()
            .find(|name| name.get_ref() == account)
            .map(span)
            .unwrap_or(0..0)
    };
    let describe = |(account, region): (&str, &str)| {
        if region == deployed.home_region {
            format!("account `{account}`")
        } else {
            format!("account `{account}` in {region}")
        }
    };
    let session = session_name(deployed.scenario_name);
    if !is_session_name(&session) {
        check.report(Problem::InvalidDerivedName {
            what: "Terraform provider's assume-role session name",
            derived: session,
            rule: "STS session names are at most 64 characters",
            help: "shorten the scenario name to at most 53 characters",
            span: span(&raw.name),
        });
    }
    // Each derived name, with the place that first derived it.
    let mut seen: BTreeMap<(&'static str, String), (&str, &str)> = BTreeMap::new();
    for place in places(deployed) {
        let (account, region) = place;
        let dir = unit_dir(account, region, deployed.home_region);
        let stack = stack_name(
            deployed.scenario_name,
            &unit_stem(&dir, Phase::Access.as_str()),
        );
        if !is_stack_name(&stack) {
            check.report(Problem::InvalidDerivedName {
                what: "CloudFormation stack name",
                derived: stack,
                rule: "stack names are a letter followed by letters, digits and `-`, at most 128 characters",
                help: "use `-` rather than `_` in account names, or a shorter scenario or account name",
                span: account_span(account),
            });
        }
        let derived = [
            (
                "the same CloudFormation templates and stack names",
                dir.clone(),
            ),
            ("the same Terraform module and provider", snake(&dir)),
        ];
        // The module's name is the directory's with `_` for `-`: one collision is enough.
        let collision = derived.into_iter().find_map(|(what, output)| {
            match seen.get(&(what, output.clone())) {
                Some(&first) => Some((what, output, first)),
                None => {
                    seen.insert((what, output), place);
                    None
                }
            }
        });
        if let Some((what, output, first)) = collision {
            check.report(Problem::OutputCollision {
                what,
                output,
                place: describe(place),
                other_place: describe(first),
                span: account_span(account),
                other_span: account_span(first.0),
            });
        }
    }
}

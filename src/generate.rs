//! Synthetic scenarios for scale tests and benchmarks: buckets in data-owner accounts, each
//! encrypted with a customer-managed key, and teams of consumer roles spread over consumer
//! accounts, granted mixed access levels on whole buckets and on prefixes. The same shape and
//! seed always give the same text (`cargo run --example gen -- --help` prints the options).
//!
//! A team is a group of roles of one account under one IAM path (`/team-0001/`) holding the
//! same grants, the way platform teams provision consumers; with `declare_paths` each account
//! declares its teams' paths (`role_paths`), which lets crossgrant name a team by pattern.

use crate::aws::LAMBDA_SERVICE;
use std::fmt::Write;

/// Which access levels the grants use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AccessMix {
    /// Read 60%, read-write 25%, write 15%.
    Mixed,
    Read,
    Write,
    ReadWrite,
}

/// What to generate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Shape {
    pub seed: u64,
    pub buckets: usize,
    /// Buckets that share one key (1: a key per bucket).
    pub buckets_per_key: usize,
    /// Data-owner accounts; buckets and keys go round-robin over them.
    pub owners: usize,
    /// Consumer accounts; teams go round-robin over them.
    pub accounts: usize,
    pub roles: usize,
    /// Roles per team (the last team may be smaller).
    pub team_size: usize,
    /// How many distinct team paths there are: `None` gives every team its own path; `Some(n)`
    /// spreads `/team-0001/` … `/team-000n/` over the teams, so one path recurs in many
    /// accounts.
    pub paths: Option<usize>,
    /// Grants in total, spread evenly over the roles; a team's roles get the same grants, so
    /// the count is rounded down to what whole teams can hold.
    pub grants: usize,
    pub access: AccessMix,
    /// Percentage of grants limited to a prefix.
    pub prefix_percent: u32,
    /// Declare each team's path on its account (`role_paths`).
    pub declare_paths: bool,
    /// Name resource-policy principals by role ARN (`principal_style = "role"`).
    pub role_principals: bool,
    /// Declare the organization all accounts belong to.
    pub organization: bool,
    /// Declare every team path organization-wide (`organization_role_paths`): no account of the
    /// organization holds roles under them but those generated here.
    pub organization_paths: bool,
    pub max_managed_policies: Option<u32>,
    /// Give every bucket an access point per consumer account (`access_points = true`).
    pub access_points: bool,
}

impl Default for Shape {
    fn default() -> Self {
        Shape {
            seed: 1,
            buckets: 4,
            buckets_per_key: 1,
            owners: 1,
            accounts: 4,
            roles: 20,
            team_size: 1,
            paths: None,
            grants: 40,
            access: AccessMix::Mixed,
            prefix_percent: 40,
            declare_paths: false,
            role_principals: false,
            organization: false,
            organization_paths: false,
            max_managed_policies: None,
            access_points: false,
        }
    }
}

/// SplitMix64: small, fast and the same on every platform.
struct Random(u64);

impl Random {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, bound: usize) -> usize {
        (self.next() % bound.max(1) as u64) as usize
    }
}

const PREFIXES: [&str; 4] = ["raw/", "curated/", "published/", "exports/"];

struct Team {
    account: usize,
    path: String,
    roles: Vec<usize>,
    grants: Vec<(usize, &'static str, String)>,
}

/// The scenario text, and how many grants it holds.
pub fn scenario(shape: &Shape) -> (String, usize) {
    let mut random = Random(shape.seed);
    let owners = shape.owners.max(1);
    let accounts = shape.accounts.max(1);
    let buckets = shape.buckets.max(1);
    let per_key = shape.buckets_per_key.max(1);
    let keys = buckets.div_ceil(per_key);
    let team_size = shape.team_size.max(1);
    let roles = shape.roles.max(1);

    let mut teams: Vec<Team> = (0..roles.div_ceil(team_size))
        .map(|team| Team {
            account: team % accounts,
            path: format!(
                "/team-{:04}/",
                shape.paths.map_or(team, |paths| team % paths.max(1)) + 1
            ),
            roles: (team * team_size..((team + 1) * team_size).min(roles)).collect(),
            grants: Vec::new(),
        })
        .collect();
    let base = shape.grants / roles;
    let mut extra = shape.grants - base * roles;
    let mut total = 0;
    for team in &mut teams {
        let mut count = base;
        if extra >= team.roles.len() {
            count += 1;
            extra -= team.roles.len();
        }
        let mut taken: Vec<(usize, String)> = Vec::new();
        for _ in 0..count {
            // A few tries for a (bucket, prefix) the team does not hold yet.
            for _ in 0..8 {
                let bucket = random.below(buckets);
                let prefix = if (random.below(100) as u32) < shape.prefix_percent {
                    PREFIXES[random.below(PREFIXES.len())].to_string()
                } else {
                    String::new()
                };
                if taken.contains(&(bucket, prefix.clone())) {
                    continue;
                }
                let access = match shape.access {
                    AccessMix::Read => "read",
                    AccessMix::Write => "write",
                    AccessMix::ReadWrite => "read-write",
                    AccessMix::Mixed => match random.below(100) {
                        0..60 => "read",
                        60..85 => "read-write",
                        _ => "write",
                    },
                };
                taken.push((bucket, prefix.clone()));
                team.grants.push((bucket, access, prefix));
                break;
            }
        }
        total += team.grants.len() * team.roles.len();
    }

    let mut out = String::new();
    let w = &mut out;
    let _ = writeln!(
        w,
        "# Generated by `cargo run --example gen` (seed {}): {} buckets, {} roles in {} accounts, {} grants.",
        shape.seed, buckets, roles, accounts, total
    );
    let _ = writeln!(w, "name = \"gen-{}\"", shape.seed);
    let _ = writeln!(w, "region = \"eu-west-1\"");
    if shape.role_principals {
        let _ = writeln!(w, "principal_style = \"role\"");
    }
    if shape.organization || shape.organization_paths {
        let _ = writeln!(w, "organization = \"o-{:010x}\"", shape.seed);
    }
    if shape.organization_paths {
        let paths: std::collections::BTreeSet<String> = teams
            .iter()
            .map(|team| format!("\"{}\"", team.path))
            .collect();
        let paths: Vec<String> = paths.into_iter().collect();
        let _ = writeln!(w, "organization_role_paths = [{}]", paths.join(", "));
    }
    if let Some(max) = shape.max_managed_policies {
        let _ = writeln!(w, "max_managed_policies = {max}");
    }
    for owner in 0..owners {
        let _ = writeln!(w, "\n[accounts.owner-{:03}]", owner + 1);
        let _ = writeln!(w, "id = \"1{:011}\"", owner + 1);
    }
    for account in 0..accounts {
        let _ = writeln!(w, "\n[accounts.consumer-{:04}]", account + 1);
        let _ = writeln!(w, "id = \"2{:011}\"", account + 1);
        if shape.declare_paths {
            let paths: std::collections::BTreeSet<String> = teams
                .iter()
                .filter(|team| team.account == account)
                .map(|team| format!("\"{}\"", team.path))
                .collect();
            let paths: Vec<String> = paths.into_iter().collect();
            if !paths.is_empty() {
                let _ = writeln!(w, "role_paths = [{}]", paths.join(", "));
            }
        }
    }
    for key in 0..keys {
        let _ = writeln!(w, "\n[keys.key-{:04}]", key + 1);
        let _ = writeln!(w, "account = \"owner-{:03}\"", key % owners + 1);
        let _ = writeln!(w, "alias = \"gen-{}-{:04}\"", shape.seed, key + 1);
    }
    for bucket in 0..buckets {
        let key = bucket / per_key;
        let _ = writeln!(w, "\n[buckets.data-{:04}]", bucket + 1);
        let _ = writeln!(w, "account = \"owner-{:03}\"", key % owners + 1);
        let _ = writeln!(
            w,
            "name = \"acme-gen-{}-data-{:04}\"",
            shape.seed,
            bucket + 1
        );
        let _ = writeln!(w, "key = \"key-{:04}\"", key + 1);
        if shape.access_points {
            let _ = writeln!(w, "access_points = true");
        }
    }
    for team in &teams {
        for &role in &team.roles {
            let _ = writeln!(w, "\n[roles.consumer-{:05}]", role + 1);
            let _ = writeln!(w, "account = \"consumer-{:04}\"", team.account + 1);
            let _ = writeln!(w, "name = \"analytics-consumer-{:05}\"", role + 1);
            let _ = writeln!(w, "path = \"{}\"", team.path);
            let _ = writeln!(w, "service = \"{LAMBDA_SERVICE}\"");
        }
    }
    for team in &teams {
        for &role in &team.roles {
            for (bucket, access, prefix) in &team.grants {
                let _ = writeln!(w, "\n[[grants]]");
                let _ = writeln!(w, "role = \"consumer-{:05}\"", role + 1);
                let _ = writeln!(w, "bucket = \"data-{:04}\"", bucket + 1);
                let _ = writeln!(w, "access = \"{access}\"");
                if !prefix.is_empty() {
                    let _ = writeln!(w, "prefix = \"{prefix}\"");
                }
            }
        }
    }
    (out, total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_text_and_the_text_is_a_valid_scenario() {
        let shape = Shape {
            seed: 7,
            team_size: 3,
            declare_paths: true,
            ..Shape::default()
        };
        let (first, count) = scenario(&shape);
        assert_eq!(scenario(&shape).0, first);
        let other = scenario(&Shape { seed: 8, ..shape }).0;
        assert_ne!(other, first);
        let parsed = crate::parse_scenario("gen.toml", &first).expect("generated text is valid");
        assert_eq!(parsed.grants.len(), count);
        assert_eq!(parsed.roles.len(), 20);
        assert_eq!(parsed.buckets.len(), 4);
    }

    #[test]
    fn grants_come_out_as_asked_when_teams_divide_them() {
        let shape = Shape {
            roles: 100,
            team_size: 10,
            grants: 2_000,
            buckets: 40,
            ..Shape::default()
        };
        let (text, count) = scenario(&shape);
        assert_eq!(count, 2_000);
        assert_eq!(text.matches("[[grants]]").count(), 2_000);
    }
}

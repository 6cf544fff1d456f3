//! Prints a synthetic crossgrant scenario: N buckets × M consumer roles across K accounts, with
//! mixed access levels and prefixes, deterministic from a seed.
//!
//! ```text
//! cargo run --release --example gen -- --buckets 100 --roles 2000 --accounts 100 \
//!     --grants 20000 --team-size 10 --declare-paths > scenario.toml
//! ```

use clap::{Parser, ValueEnum};
use crossgrant::generate::{scenario, AccessMix, Shape};

#[derive(Parser)]
#[command(about = "Print a synthetic crossgrant scenario (deterministic from --seed)")]
struct Args {
    #[arg(long, default_value_t = 1)]
    seed: u64,
    #[arg(long, default_value_t = 4)]
    buckets: usize,
    /// Buckets that share one KMS key.
    #[arg(long, default_value_t = 1)]
    buckets_per_key: usize,
    /// Data-owner accounts.
    #[arg(long, default_value_t = 1)]
    owners: usize,
    /// Consumer accounts.
    #[arg(long, default_value_t = 4)]
    accounts: usize,
    #[arg(long, default_value_t = 20)]
    roles: usize,
    /// Roles per team: one account, one IAM path, the same grants.
    #[arg(long, default_value_t = 1)]
    team_size: usize,
    /// Distinct team paths, shared round-robin by the teams (default: one per team).
    #[arg(long)]
    paths: Option<usize>,
    /// Grants in total (rounded down to what whole teams hold).
    #[arg(long, default_value_t = 40)]
    grants: usize,
    #[arg(long, value_enum, default_value_t = Mix::Mixed)]
    access: Mix,
    /// Percentage of grants limited to a prefix.
    #[arg(long, default_value_t = 40)]
    prefix_percent: u32,
    /// Declare each team's IAM path on its account (role_paths).
    #[arg(long)]
    declare_paths: bool,
    /// Name consumer roles by ARN in resource policies (principal_style = "role").
    #[arg(long)]
    role_principals: bool,
    /// Declare the organization every account belongs to.
    #[arg(long)]
    organization: bool,
    /// Declare every team path organization-wide (organization_role_paths).
    #[arg(long)]
    organization_paths: bool,
    #[arg(long)]
    max_managed_policies: Option<u32>,
    /// Give every bucket an S3 access point per consumer account (access_points = true).
    #[arg(long)]
    access_points: bool,
}

#[derive(Clone, Copy, ValueEnum)]
enum Mix {
    Mixed,
    Read,
    Write,
    ReadWrite,
}

fn main() {
    let args = Args::parse();
    let shape = Shape {
        seed: args.seed,
        buckets: args.buckets,
        buckets_per_key: args.buckets_per_key,
        owners: args.owners,
        accounts: args.accounts,
        roles: args.roles,
        team_size: args.team_size,
        paths: args.paths,
        grants: args.grants,
        access: match args.access {
            Mix::Mixed => AccessMix::Mixed,
            Mix::Read => AccessMix::Read,
            Mix::Write => AccessMix::Write,
            Mix::ReadWrite => AccessMix::ReadWrite,
        },
        prefix_percent: args.prefix_percent,
        declare_paths: args.declare_paths,
        role_principals: args.role_principals,
        organization: args.organization,
        organization_paths: args.organization_paths,
        max_managed_policies: args.max_managed_policies,
        access_points: args.access_points,
    };
    print!("{}", scenario(&shape).0);
}

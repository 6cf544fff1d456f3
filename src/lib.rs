//! crossgrant: renders cross-account S3 + KMS access from a TOML scenario into per-account
//! CloudFormation stacks and Terraform modules, and proves the policies before deploy.
//!
//! Pipeline: [`scenario`] (the TOML as written, validated into the model) → [`lower`] (units
//! and policy documents, within AWS size limits) → [`plan`] (deploy order) → [`render`]
//! (CloudFormation, Terraform, docs) → [`output`] (atomic, manifest-tracked writes). [`eval`]
//! proves the lowered documents; [`aws`] is the vocabulary they are written in, and [`names`]
//! the identifiers derived from scenario names.

pub mod aws;
pub mod cli;
pub mod error;
pub mod eval;
pub mod generate;
pub mod import;
pub mod lower;
pub mod names;
pub mod output;
pub mod parallel;
pub mod plan;
pub mod policy;
pub mod render;
pub mod scenario;

pub use lower::{consolidate, limits};
pub use scenario::{
    diag, load_scenario, load_scenario_with_source, model, parse_scenario, schema, validate,
    LoadError,
};

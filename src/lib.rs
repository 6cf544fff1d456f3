//! crossgrant: renders cross-account S3 + KMS access from a TOML scenario into per-account
//! CloudFormation stacks and Terraform modules, and proves the policies before deploy.

pub mod eval;
pub mod lower;
pub mod model;
pub mod policy;

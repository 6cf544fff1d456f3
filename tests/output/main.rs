//! The generated files: golden outputs (and the committed `out/`), determinism, `cfn-lint` and
//! `terraform validate` on every example, least privilege, hostile values and the fuzz
//! harnesses over the whole pipeline.

#[path = "../common/mod.rs"]
mod common;

mod fuzz;
mod golden;
mod hostile;
mod layout;
mod least_privilege;
mod lint;
mod scanner_shape;

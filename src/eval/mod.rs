//! IAM request evaluation for the documents crossgrant emits and the ones people bring:
//! explicit deny wins, a cross-account request needs both the caller's identity policy and the
//! resource policy, a KMS request always needs the key policy (which may delegate to IAM
//! through the account root). Around the evaluator sit the pieces `check` and `explain` are
//! built from: literal ARNs for deploy-time references, the probe requests a scenario implies
//! with the context AWS would send, reporters, and advice on the statement a layer is missing.

pub mod advice;
pub mod check;
pub mod condition;
pub mod diff;
pub mod document;
pub mod engine;
pub mod error;
pub mod explain;
pub mod guardrail;
pub mod matching;
pub mod probe;
pub mod reach;
pub mod report;
pub mod request;
pub mod resolve;

pub use check::{check, CheckReport};
pub use document::{parse_policy_json, DocumentProblem};
pub use engine::{evaluate, Decision, Layer, NamedPolicy, PolicySet, Reason, Verdict};
pub use error::{EvalError, EvalProblem, StatementRef};
pub use request::{Caller, Context, Request};

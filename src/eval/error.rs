//! What can stop an evaluation or a document from being read, as data. Messages are produced
//! only by the `Display` impls, at the edge; callers match on the variants.

use crate::aws::condition_key;
use crate::policy::Ref;
use std::fmt;

/// Where in which document something went wrong: the policy's name and the statement's
/// position (1-based, as people count) and Sid.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct StatementRef {
    pub policy: String,
    pub index: usize,
    pub sid: Option<String>,
    /// For a statement kept from a live policy: its file and its position there.
    pub kept_from: Option<std::sync::Arc<crate::policy::Verbatim>>,
}

impl fmt::Display for StatementRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.sid {
            Some(sid) => write!(f, "{} statement \"{}\"", self.policy, sid)?,
            None => write!(f, "{} statement #{}", self.policy, self.index)?,
        }
        match &self.kept_from {
            Some(kept) => write!(f, " (kept from {}, statement #{})", kept.file, kept.index),
            None => Ok(()),
        }
    }
}

/// Why a statement cannot be evaluated.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EvalProblem {
    /// Not an IAM condition operator at all (a typo such as `StringEqual`).
    UnknownOperator { operator: String },
    /// A real IAM operator (date, IP address, binary) the evaluator does not model.
    UnsupportedOperator { operator: String },
    /// A condition key whose value the evaluator cannot know.
    UnknownConditionKey { key: String },
    /// A condition value an operator cannot read (`Null` with `maybe`, a non-numeric number).
    InvalidConditionValue { operator: String, value: String },
    /// `${aws:username}` and friends depend on the caller in ways not modelled.
    PolicyVariable { value: String },
    /// A deploy-time reference that was not resolved to a literal before evaluation.
    UnresolvedReference { reference: Ref },
    /// Identity policies name no principal; AWS rejects those that do.
    PrincipalInIdentityPolicy,
    /// Resource policies must name a principal.
    MissingPrincipal,
    /// AWS supports `NotPrincipal` only with `Deny`.
    NotPrincipalWithAllow,
    /// Identity and resource policy statements need `Resource` or `NotResource`.
    MissingResource,
    /// Only S3 and KMS requests are modelled.
    UnsupportedService { action: String },
}

impl fmt::Display for EvalProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EvalProblem::UnknownOperator { operator } => {
                write!(f, "unknown condition operator `{operator}`")
            }
            EvalProblem::UnsupportedOperator { operator } => write!(
                f,
                "condition operator `{operator}` is not modelled by crossgrant's evaluator"
            ),
            EvalProblem::UnknownConditionKey { key } => write!(
                f,
                "condition key `{key}` is not one the evaluator can decide (known: {}, kms:EncryptionContext:<key>)",
                condition_key::KNOWN.join(", ")
            ),
            EvalProblem::InvalidConditionValue { operator, value } => {
                write!(f, "`{value}` is not a valid value for `{operator}`")
            }
            EvalProblem::PolicyVariable { value } => {
                write!(f, "policy variables are not modelled: `{value}`")
            }
            EvalProblem::UnresolvedReference { reference } => {
                write!(f, "unresolved deploy-time reference {reference:?}")
            }
            EvalProblem::PrincipalInIdentityPolicy => {
                f.write_str("an identity policy statement must not name a Principal")
            }
            EvalProblem::MissingPrincipal => {
                f.write_str("a resource policy statement must name a Principal or NotPrincipal")
            }
            EvalProblem::NotPrincipalWithAllow => {
                f.write_str("NotPrincipal is only supported with \"Effect\": \"Deny\"")
            }
            EvalProblem::MissingResource => {
                f.write_str("the statement has neither Resource nor NotResource")
            }
            EvalProblem::UnsupportedService { action } => write!(
                f,
                "`{action}`: only s3: and kms: requests are evaluated"
            ),
        }
    }
}

/// An evaluation problem and the statement it was found in (none for request-level problems).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EvalError {
    pub statement: Option<StatementRef>,
    pub problem: EvalProblem,
}

impl fmt::Display for EvalError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.statement {
            Some(statement) => write!(f, "{statement}: {}", self.problem),
            None => write!(f, "{}", self.problem),
        }
    }
}

impl std::error::Error for EvalError {}

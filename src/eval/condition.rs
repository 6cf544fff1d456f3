//! Condition blocks: parsing operator names (`ForAnyValue:StringLikeIfExists` = set operator,
//! base operator, `IfExists`), knowing which condition keys the evaluator can model, and
//! deciding one operator/key/values triple against a request context.
//!
//! Semantics follow the IAM reference for condition operators: a key missing from the context
//! makes a positive operator false and a negated one (`StringNotEquals`, `ArnNotLike`, …) true;
//! `…IfExists` is true when the key is missing; `Null` tests presence; `ForAllValues` is true on
//! a missing or empty key and `ForAnyValue` false. Several values for one key are alternatives
//! (OR); a negated operator holds when none of them matches.

use super::error::EvalProblem;
use super::matching::{arn_like, glob};
use super::request::Context;
use crate::aws::condition_key;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SetOperator {
    ForAnyValue,
    ForAllValues,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BaseOperator {
    StringEquals,
    StringNotEquals,
    StringEqualsIgnoreCase,
    StringNotEqualsIgnoreCase,
    StringLike,
    StringNotLike,
    ArnEquals,
    ArnLike,
    ArnNotEquals,
    ArnNotLike,
    Bool,
    NumericEquals,
    NumericNotEquals,
    NumericLessThan,
    NumericLessThanEquals,
    NumericGreaterThan,
    NumericGreaterThanEquals,
    Null,
}

const BASE_OPERATORS: [(&str, BaseOperator); 18] = [
    ("StringEquals", BaseOperator::StringEquals),
    ("StringNotEquals", BaseOperator::StringNotEquals),
    (
        "StringEqualsIgnoreCase",
        BaseOperator::StringEqualsIgnoreCase,
    ),
    (
        "StringNotEqualsIgnoreCase",
        BaseOperator::StringNotEqualsIgnoreCase,
    ),
    ("StringLike", BaseOperator::StringLike),
    ("StringNotLike", BaseOperator::StringNotLike),
    ("ArnEquals", BaseOperator::ArnEquals),
    ("ArnLike", BaseOperator::ArnLike),
    ("ArnNotEquals", BaseOperator::ArnNotEquals),
    ("ArnNotLike", BaseOperator::ArnNotLike),
    ("Bool", BaseOperator::Bool),
    ("NumericEquals", BaseOperator::NumericEquals),
    ("NumericNotEquals", BaseOperator::NumericNotEquals),
    ("NumericLessThan", BaseOperator::NumericLessThan),
    ("NumericLessThanEquals", BaseOperator::NumericLessThanEquals),
    ("NumericGreaterThan", BaseOperator::NumericGreaterThan),
    (
        "NumericGreaterThanEquals",
        BaseOperator::NumericGreaterThanEquals,
    ),
    ("Null", BaseOperator::Null),
];

/// Operators AWS has that this evaluator does not model: a policy using them is reported, not
/// guessed at.
const UNMODELLED_OPERATORS: [&str; 10] = [
    "DateEquals",
    "DateNotEquals",
    "DateLessThan",
    "DateLessThanEquals",
    "DateGreaterThan",
    "DateGreaterThanEquals",
    "IpAddress",
    "NotIpAddress",
    "BinaryEquals",
    "ArnNotEqualsIgnoreCase",
];

/// Whether the evaluator can decide a condition on `key`: one of the keys requests carry or
/// deliberately leave out, or an encryption-context key (any context key is known, and a
/// request simply lacks those that S3 does not send). Anything else is reported.
pub fn is_known_key(key: &str) -> bool {
    let lower = key.to_ascii_lowercase();
    condition_key::KNOWN
        .iter()
        .any(|known| known.eq_ignore_ascii_case(key))
        || (lower.starts_with(condition_key::KMS_ENCRYPTION_CONTEXT_PREFIX)
            && lower.len() > condition_key::KMS_ENCRYPTION_CONTEXT_PREFIX.len())
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Operator {
    pub set: Option<SetOperator>,
    pub base: BaseOperator,
    pub if_exists: bool,
}

impl Operator {
    pub fn parse(text: &str) -> Result<Operator, EvalProblem> {
        let (set, rest) = if let Some(rest) = text.strip_prefix("ForAnyValue:") {
            (Some(SetOperator::ForAnyValue), rest)
        } else if let Some(rest) = text.strip_prefix("ForAllValues:") {
            (Some(SetOperator::ForAllValues), rest)
        } else {
            (None, text)
        };
        let (name, if_exists) = match rest.strip_suffix("IfExists") {
            Some(name) => (name, true),
            None => (rest, false),
        };
        let unknown = || EvalProblem::UnknownOperator {
            operator: text.to_string(),
        };
        if UNMODELLED_OPERATORS.contains(&name) {
            return Err(EvalProblem::UnsupportedOperator {
                operator: text.to_string(),
            });
        }
        let base = BASE_OPERATORS
            .iter()
            .find(|(known, _)| *known == name)
            .map(|(_, base)| *base)
            .ok_or_else(unknown)?;
        if base == BaseOperator::Null && (if_exists || set.is_some()) {
            return Err(unknown());
        }
        Ok(Operator {
            set,
            base,
            if_exists,
        })
    }
}

impl BaseOperator {
    fn is_negated(self) -> bool {
        matches!(
            self,
            BaseOperator::StringNotEquals
                | BaseOperator::StringNotEqualsIgnoreCase
                | BaseOperator::StringNotLike
                | BaseOperator::ArnNotEquals
                | BaseOperator::ArnNotLike
                | BaseOperator::NumericNotEquals
        )
    }

    /// Whether one context value matches one policy value, ignoring negation (a negated
    /// operator is the negation of this over all policy values).
    fn matches_one(self, policy: &str, actual: &str) -> Result<bool, EvalProblem> {
        use BaseOperator::*;
        Ok(match self {
            StringEquals | StringNotEquals => policy == actual,
            StringEqualsIgnoreCase | StringNotEqualsIgnoreCase => {
                policy.to_lowercase() == actual.to_lowercase()
            }
            StringLike | StringNotLike => glob(policy, actual),
            ArnEquals | ArnLike | ArnNotEquals | ArnNotLike => arn_like(policy, actual),
            Bool => policy.eq_ignore_ascii_case(actual),
            NumericEquals
            | NumericNotEquals
            | NumericLessThan
            | NumericLessThanEquals
            | NumericGreaterThan
            | NumericGreaterThanEquals => {
                let expected: f64 =
                    policy
                        .trim()
                        .parse()
                        .map_err(|_| EvalProblem::InvalidConditionValue {
                            operator: format!("{self:?}"),
                            value: policy.to_string(),
                        })?;
                let Ok(actual) = actual.trim().parse::<f64>() else {
                    return Ok(false);
                };
                match self {
                    NumericEquals | NumericNotEquals => actual == expected,
                    NumericLessThan => actual < expected,
                    NumericLessThanEquals => actual <= expected,
                    NumericGreaterThan => actual > expected,
                    _ => actual >= expected,
                }
            }
            Null => unreachable!("Null is decided on presence, before any value comparison"),
        })
    }
}

/// Whether `operator` over `key` with the policy's `values` holds for the request context.
pub fn holds(
    operator: &Operator,
    key: &str,
    values: &[String],
    context: &Context,
) -> Result<bool, EvalProblem> {
    if !is_known_key(key) {
        return Err(EvalProblem::UnknownConditionKey {
            key: key.to_string(),
        });
    }
    let actual = context.get(key).filter(|values| !values.is_empty());
    if operator.base == BaseOperator::Null {
        let absent = actual.is_none();
        let mut any = false;
        for value in values {
            let wants_absent = match value.to_ascii_lowercase().as_str() {
                "true" => true,
                "false" => false,
                _ => {
                    return Err(EvalProblem::InvalidConditionValue {
                        operator: "Null".into(),
                        value: value.clone(),
                    })
                }
            };
            any |= wants_absent == absent;
        }
        return Ok(any);
    }
    let Some(actual) = actual else {
        return Ok(operator.if_exists
            || match operator.set {
                Some(SetOperator::ForAllValues) => true,
                Some(SetOperator::ForAnyValue) => false,
                None => operator.base.is_negated(),
            });
    };
    let one = |actual: &str| -> Result<bool, EvalProblem> {
        let mut any = false;
        for value in values {
            any |= operator.base.matches_one(value, actual)?;
        }
        Ok(any != operator.base.is_negated())
    };
    let mut results = Vec::with_capacity(actual.len());
    for value in actual {
        results.push(one(value)?);
    }
    Ok(match operator.set {
        Some(SetOperator::ForAllValues) => results.iter().all(|&held| held),
        // A plain operator on a multi-valued key behaves like ForAnyValue.
        Some(SetOperator::ForAnyValue) | None => results.iter().any(|&held| held),
    })
}

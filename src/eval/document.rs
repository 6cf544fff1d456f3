//! Policy documents from outside: AWS JSON (bare, or inside the wrappers that
//! `aws s3api get-bucket-policy`, `aws kms get-key-policy`, `aws iam get-role-policy` and
//! `aws iam get-policy-version` print) read into the crate's typed [`PolicyDocument`], with
//! every problem named by what and where. Also the inverse direction for the evaluator:
//! crossgrant's own documents with deploy-time references replaced by literal values.

use crate::policy::{Clause, Conditions, Effect, PolicyDocument, Principal, Ref, Statement, Value};
use serde_json::{Map as JsonMap, Value as Json};
use std::collections::BTreeMap;
use std::fmt;

/// What is wrong with a policy document given as JSON. Statement indexes count from 1.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DocumentProblem {
    NotJson {
        line: usize,
        column: usize,
        message: String,
    },
    /// A wrapper field (`Policy`, `PolicyDocument`, `Document`) holds text that is not JSON.
    EmbeddedNotJson {
        field: &'static str,
        line: usize,
        column: usize,
        message: String,
    },
    NotAnObject,
    /// Neither a policy (`Statement`) nor a known wrapper.
    NotAPolicy {
        fields: Vec<String>,
    },
    UnknownTopLevelField {
        field: String,
    },
    UnsupportedVersion {
        version: String,
    },
    StatementNotObject {
        index: usize,
    },
    UnknownField {
        index: usize,
        field: String,
    },
    MissingField {
        index: usize,
        field: &'static str,
    },
    ConflictingFields {
        index: usize,
        first: &'static str,
        second: &'static str,
    },
    InvalidEffect {
        index: usize,
        value: String,
    },
    WrongType {
        index: usize,
        field: String,
        expected: &'static str,
    },
}

impl fmt::Display for DocumentProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use DocumentProblem::*;
        match self {
            NotJson { line, column, message } => {
                write!(f, "not valid JSON at line {line}, column {column}: {message}")
            }
            EmbeddedNotJson { field, line, column, message } => write!(
                f,
                "the `{field}` string is not a JSON policy (line {line}, column {column} inside it): {message}"
            ),
            NotAnObject => f.write_str("expected a JSON object (a policy document or the output of an aws CLI get-*-policy command)"),
            NotAPolicy { fields } => write!(
                f,
                "no `Statement` and no `Policy`, `PolicyDocument` or `PolicyVersion.Document` field (found: {})",
                if fields.is_empty() { "nothing".to_string() } else { fields.join(", ") }
            ),
            UnknownTopLevelField { field } => write!(
                f,
                "unknown top-level field `{field}` (expected Version, Id, Statement)"
            ),
            UnsupportedVersion { version } => write!(
                f,
                "policy Version `{version}` is not supported (use 2012-10-17)"
            ),
            StatementNotObject { index } => write!(f, "statement #{index} is not a JSON object"),
            UnknownField { index, field } => write!(
                f,
                "statement #{index}: unknown field `{field}` (expected Sid, Effect, Principal, NotPrincipal, Action, NotAction, Resource, NotResource, Condition)"
            ),
            MissingField { index, field } => write!(f, "statement #{index}: `{field}` is missing"),
            ConflictingFields { index, first, second } => write!(
                f,
                "statement #{index}: `{first}` and `{second}` cannot both be present"
            ),
            InvalidEffect { index, value } => write!(
                f,
                "statement #{index}: Effect must be \"Allow\" or \"Deny\", not {value:?}"
            ),
            WrongType { index, field, expected } => {
                write!(f, "statement #{index}: `{field}` must be {expected}")
            }
        }
    }
}

impl std::error::Error for DocumentProblem {}

/// Reads a policy document from JSON text: a bare policy, or the output of the aws CLI commands
/// that fetch one.
pub fn parse_policy_json(text: &str) -> Result<PolicyDocument, DocumentProblem> {
    parse_document(&unwrap(read_json(text)?)?)
}

fn read_json(text: &str) -> Result<Json, DocumentProblem> {
    serde_json::from_str(text).map_err(|error| DocumentProblem::NotJson {
        line: error.line(),
        column: error.column(),
        message: strip_position(&error.to_string()),
    })
}

/// Reads a live policy to be kept: like [`parse_policy_json`], and every statement remembers
/// its JSON as written and where it comes from (`file`, as the scenario names it). Also gives
/// the policy itself, unwrapped from any aws CLI output around it.
pub fn parse_live_policy(
    text: &str,
    file: &str,
) -> Result<(Json, PolicyDocument), DocumentProblem> {
    let json: Json = serde_json::from_str(text).map_err(|error| DocumentProblem::NotJson {
        line: error.line(),
        column: error.column(),
        message: strip_position(&error.to_string()),
    })?;
    let document = unwrap(json)?;
    let mut parsed = parse_document(&document)?;
    let raw: Vec<&Json> = match &document["Statement"] {
        Json::Array(items) => items.iter().collect(),
        single => vec![single],
    };
    let file: std::sync::Arc<str> = file.into();
    for (index, (statement, raw)) in parsed.statements.iter_mut().zip(raw).enumerate() {
        statement.verbatim = Some(std::sync::Arc::new(crate::policy::Verbatim {
            file: file.clone(),
            index: index + 1,
            json: raw.to_string().into(),
        }));
    }
    Ok((document, parsed))
}

fn strip_position(message: &str) -> String {
    match message.find(" at line ") {
        Some(at) => message[..at].to_string(),
        None => message.to_string(),
    }
}

/// Unwraps `{"Policy": "<json>"}` (S3, KMS), `{"PolicyDocument": {...}}` (IAM inline) and
/// `{"PolicyVersion": {"Document": {...}}}` (IAM managed), down to the policy itself.
fn unwrap(json: Json) -> Result<Json, DocumentProblem> {
    let Json::Object(object) = json else {
        return Err(DocumentProblem::NotAnObject);
    };
    if object.contains_key("Statement") {
        return Ok(Json::Object(object));
    }
    let embedded = |field: &'static str, value: &Json| -> Result<Json, DocumentProblem> {
        match value {
            Json::String(text) => {
                serde_json::from_str(text).map_err(|error| DocumentProblem::EmbeddedNotJson {
                    field,
                    line: error.line(),
                    column: error.column(),
                    message: strip_position(&error.to_string()),
                })
            }
            other => Ok(other.clone()),
        }
    };
    if let Some(policy) = object.get("Policy") {
        return unwrap(embedded("Policy", policy)?);
    }
    if let Some(policy) = object.get("PolicyDocument") {
        return unwrap(embedded("PolicyDocument", policy)?);
    }
    // `aws organizations describe-policy`: the document is the policy's `Content`.
    if let Some(content) = object.get("Content") {
        return unwrap(embedded("Content", content)?);
    }
    if let Some(Json::Object(version)) = object.get("PolicyVersion") {
        if let Some(document) = version.get("Document") {
            return unwrap(embedded("Document", document)?);
        }
    }
    Err(DocumentProblem::NotAPolicy {
        fields: object.keys().cloned().collect(),
    })
}

fn parse_document(json: &Json) -> Result<PolicyDocument, DocumentProblem> {
    let Json::Object(object) = json else {
        return Err(DocumentProblem::NotAnObject);
    };
    for (field, value) in object {
        match field.as_str() {
            "Statement" | "Id" => {}
            "Version" => {
                if value.as_str() != Some(crate::policy::POLICY_VERSION) {
                    return Err(DocumentProblem::UnsupportedVersion {
                        version: value.to_string().trim_matches('"').to_string(),
                    });
                }
            }
            other => {
                return Err(DocumentProblem::UnknownTopLevelField {
                    field: other.to_string(),
                })
            }
        }
    }
    let statements = match &object["Statement"] {
        Json::Array(items) => items.iter().collect(),
        single => vec![single],
    };
    let statements = statements
        .into_iter()
        .enumerate()
        .map(|(index, statement)| parse_statement(index + 1, statement))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(PolicyDocument::new(statements))
}

fn strings(index: usize, field: &str, value: &Json) -> Result<Vec<String>, DocumentProblem> {
    let wrong = || DocumentProblem::WrongType {
        index,
        field: field.to_string(),
        expected: "a string or a list of strings",
    };
    match value {
        Json::String(text) => Ok(vec![text.clone()]),
        Json::Array(items) => items
            .iter()
            .map(|item| item.as_str().map(str::to_string).ok_or_else(wrong))
            .collect(),
        _ => Err(wrong()),
    }
}

/// Condition values may be written as JSON booleans or numbers (`"aws:SecureTransport": false`);
/// IAM reads them as their text.
fn condition_values(
    index: usize,
    field: &str,
    value: &Json,
) -> Result<Vec<Value>, DocumentProblem> {
    let one = |item: &Json| match item {
        Json::String(text) => Ok(Value::Lit(text.clone())),
        Json::Bool(flag) => Ok(Value::Lit(flag.to_string())),
        Json::Number(number) => Ok(Value::Lit(number.to_string())),
        _ => Err(DocumentProblem::WrongType {
            index,
            field: field.to_string(),
            expected: "a string, boolean or number, or a list of them",
        }),
    };
    match value {
        Json::Array(items) => items.iter().map(one).collect(),
        single => Ok(vec![one(single)?]),
    }
}

fn either<'a>(
    index: usize,
    object: &'a JsonMap<String, Json>,
    positive: &'static str,
    negative: &'static str,
) -> Result<Option<(bool, &'a Json)>, DocumentProblem> {
    match (object.get(positive), object.get(negative)) {
        (Some(_), Some(_)) => Err(DocumentProblem::ConflictingFields {
            index,
            first: positive,
            second: negative,
        }),
        (Some(value), None) => Ok(Some((false, value))),
        (None, Some(value)) => Ok(Some((true, value))),
        (None, None) => Ok(None),
    }
}

fn clause<T>(negated: bool, inner: T) -> Clause<T> {
    if negated {
        Clause::Not(inner)
    } else {
        Clause::Is(inner)
    }
}

fn parse_principal(index: usize, field: &str, value: &Json) -> Result<Principal, DocumentProblem> {
    match value {
        Json::String(text) if text == "*" => Ok(Principal::Any),
        Json::Object(map) => {
            let mut typed = BTreeMap::new();
            for (kind, values) in map {
                let values = strings(index, &format!("{field}.{kind}"), values)?;
                typed.insert(kind.clone(), values.into_iter().map(Value::Lit).collect());
            }
            Ok(Principal::Typed(typed))
        }
        _ => Err(DocumentProblem::WrongType {
            index,
            field: field.to_string(),
            expected: "\"*\" or an object such as {\"AWS\": \"arn:aws:iam::111122223333:root\"}",
        }),
    }
}

fn parse_statement(index: usize, json: &Json) -> Result<Statement, DocumentProblem> {
    let Json::Object(object) = json else {
        return Err(DocumentProblem::StatementNotObject { index });
    };
    const FIELDS: [&str; 9] = [
        "Sid",
        "Effect",
        "Principal",
        "NotPrincipal",
        "Action",
        "NotAction",
        "Resource",
        "NotResource",
        "Condition",
    ];
    if let Some(field) = object
        .keys()
        .find(|field| !FIELDS.contains(&field.as_str()))
    {
        return Err(DocumentProblem::UnknownField {
            index,
            field: field.clone(),
        });
    }
    let sid = match object.get("Sid") {
        None => None,
        Some(Json::String(sid)) => Some(sid.clone()),
        Some(_) => {
            return Err(DocumentProblem::WrongType {
                index,
                field: "Sid".into(),
                expected: "a string",
            })
        }
    };
    let effect = match object.get("Effect") {
        None => {
            return Err(DocumentProblem::MissingField {
                index,
                field: "Effect",
            })
        }
        Some(Json::String(effect)) if effect == "Allow" => Effect::Allow,
        Some(Json::String(effect)) if effect == "Deny" => Effect::Deny,
        Some(other) => {
            return Err(DocumentProblem::InvalidEffect {
                index,
                value: other
                    .as_str()
                    .map(str::to_string)
                    .unwrap_or(other.to_string()),
            })
        }
    };
    let principal = either(index, object, "Principal", "NotPrincipal")?
        .map(|(negated, value)| {
            let field = if negated { "NotPrincipal" } else { "Principal" };
            parse_principal(index, field, value).map(|principal| clause(negated, principal))
        })
        .transpose()?;
    let action = match either(index, object, "Action", "NotAction")? {
        Some((negated, value)) => {
            let field = if negated { "NotAction" } else { "Action" };
            clause(negated, strings(index, field, value)?)
        }
        None => {
            return Err(DocumentProblem::MissingField {
                index,
                field: "Action",
            })
        }
    };
    let resource = either(index, object, "Resource", "NotResource")?
        .map(|(negated, value)| {
            let field = if negated { "NotResource" } else { "Resource" };
            strings(index, field, value)
                .map(|values| clause(negated, values.into_iter().map(Value::Lit).collect()))
        })
        .transpose()?;
    let mut condition = Conditions::new();
    match object.get("Condition") {
        None => {}
        Some(Json::Object(operators)) => {
            for (operator, keys) in operators {
                let Json::Object(keys) = keys else {
                    return Err(DocumentProblem::WrongType {
                        index,
                        field: format!("Condition.{operator}"),
                        expected: "an object of condition keys",
                    });
                };
                let entry = condition.entry(operator.clone()).or_default();
                for (key, values) in keys {
                    let field = format!("Condition.{operator}.{key}");
                    entry.insert(key.clone(), condition_values(index, &field, values)?);
                }
            }
        }
        Some(_) => {
            return Err(DocumentProblem::WrongType {
                index,
                field: "Condition".into(),
                expected: "an object of condition operators",
            })
        }
    }
    Ok(Statement {
        sid,
        effect,
        principal,
        action,
        resource,
        condition,
        verbatim: None,
    })
}

/// A copy of `document` with every reference replaced by the literal `resolve` gives it.
pub fn resolve_refs(document: &PolicyDocument, resolve: &dyn Fn(&Ref) -> String) -> PolicyDocument {
    let value = |value: &Value| match value {
        Value::Ref(reference) => Value::Lit(resolve(reference)),
        literal => literal.clone(),
    };
    let statements = document
        .statements
        .iter()
        .map(|statement| {
            let mut statement = statement.clone();
            if let Some(Clause::Is(Principal::Typed(map)) | Clause::Not(Principal::Typed(map))) =
                &mut statement.principal
            {
                for values in map.values_mut() {
                    *values = values.iter().map(value).collect();
                }
            }
            if let Some(Clause::Is(values) | Clause::Not(values)) = &mut statement.resource {
                *values = values.iter().map(value).collect();
            }
            for keys in statement.condition.values_mut() {
                for values in keys.values_mut() {
                    *values = values.iter().map(value).collect();
                }
            }
            statement
        })
        .collect();
    PolicyDocument::new(statements)
}

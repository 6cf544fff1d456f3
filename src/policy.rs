//! IAM policy documents as typed data: the one shape shared by the lowering step (which builds
//! them), the renderers (which print them per target) and the evaluator (which decides requests
//! against them). Values that are only known at deploy time, such as a KMS key ARN, stay symbolic
//! as [`Ref`]s until a renderer or the evaluator resolves them.

use serde_json::{Map as JsonMap, Value as Json};
use std::collections::BTreeMap;
use std::sync::Arc;

/// A scenario name of a key, role, bucket or account (the table key in the TOML).
pub type Name = String;

/// A value known only once something is deployed, named by what produces it.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Ref {
    /// The ARN of the scenario's KMS key with this name (known after the key is created).
    KeyArn(Name),
    /// The ARN of the scenario's role with this name. Its text is known up front, but referring
    /// to it symbolically lets a target order the policy after the role's creation.
    RoleArn(Name),
    /// The instance profile of the role of the scenario's instance with this name (its text is
    /// known up front; the reference orders the instance after the profile).
    InstanceProfile(Name),
}

impl std::fmt::Display for Ref {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Ref::KeyArn(key) => write!(f, "ARN of key {key}"),
            Ref::RoleArn(role) => write!(f, "ARN of role {role}"),
            Ref::InstanceProfile(instance) => write!(f, "instance profile of instance {instance}"),
        }
    }
}

/// One value inside a policy: literal text or a deploy-time reference.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Value {
    Lit(String),
    Ref(Ref),
}

impl Value {
    pub fn lit(text: impl Into<String>) -> Self {
        Value::Lit(text.into())
    }

    pub fn as_lit(&self) -> Option<&str> {
        match self {
            Value::Lit(text) => Some(text),
            Value::Ref(_) => None,
        }
    }
}

impl From<&str> for Value {
    fn from(text: &str) -> Self {
        Value::lit(text)
    }
}

impl From<String> for Value {
    fn from(text: String) -> Self {
        Value::Lit(text)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Effect {
    Allow,
    Deny,
}

impl Effect {
    pub fn as_str(self) -> &'static str {
        match self {
            Effect::Allow => "Allow",
            Effect::Deny => "Deny",
        }
    }
}

/// `Principal` or `NotPrincipal`, `Action` or `NotAction`, `Resource` or `NotResource`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Clause<T> {
    Is(T),
    Not(T),
}

impl<T> Clause<T> {
    pub fn inner(&self) -> &T {
        match self {
            Clause::Is(inner) | Clause::Not(inner) => inner,
        }
    }

    pub fn is_negated(&self) -> bool {
        matches!(self, Clause::Not(_))
    }
}

/// The principal element: `"*"`, or a map from principal type (`AWS`, `Service`,
/// `Federated`, `CanonicalUser`) to its values.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Principal {
    Any,
    Typed(BTreeMap<String, Vec<Value>>),
}

impl Principal {
    pub fn aws(values: impl IntoIterator<Item = Value>) -> Self {
        Principal::Typed(BTreeMap::from([(
            "AWS".to_string(),
            values.into_iter().collect(),
        )]))
    }

    pub fn service(name: &str) -> Self {
        Principal::Typed(BTreeMap::from([(
            "Service".to_string(),
            vec![Value::lit(name)],
        )]))
    }
}

/// Condition block: operator (`StringEquals`, `ArnLike`, `ForAnyValue:StringLike`, …) → key →
/// values. Ordered maps keep rendering deterministic.
pub type Conditions = BTreeMap<String, BTreeMap<String, Vec<Value>>>;

/// A statement taken from a live policy: where it comes from, and its JSON exactly as written
/// there, which is what every target prints for it.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Verbatim {
    /// The policy file, as the scenario names it.
    pub file: Arc<str>,
    /// The statement's position in the file, counting from 1.
    pub index: usize,
    /// The statement's JSON, minified, keys in the file's order.
    pub json: Arc<str>,
}

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Statement {
    pub sid: Option<String>,
    pub effect: Effect,
    pub principal: Option<Clause<Principal>>,
    pub action: Clause<Vec<String>>,
    /// Absent only in trust policies.
    pub resource: Option<Clause<Vec<Value>>>,
    pub condition: Conditions,
    /// Set on a statement kept from a live policy: it is printed as it was written.
    pub verbatim: Option<Arc<Verbatim>>,
}

impl Statement {
    pub fn allow(sid: impl Into<String>) -> Self {
        Statement {
            sid: Some(sid.into()),
            effect: Effect::Allow,
            principal: None,
            action: Clause::Is(Vec::new()),
            resource: None,
            condition: Conditions::new(),
            verbatim: None,
        }
    }

    pub fn deny(sid: impl Into<String>) -> Self {
        Statement {
            effect: Effect::Deny,
            ..Statement::allow(sid)
        }
    }

    pub fn principal(mut self, principal: Principal) -> Self {
        self.principal = Some(Clause::Is(principal));
        self
    }

    pub fn actions<S: Into<String>>(mut self, actions: impl IntoIterator<Item = S>) -> Self {
        self.action = Clause::Is(actions.into_iter().map(Into::into).collect());
        self
    }

    pub fn resources(mut self, resources: impl IntoIterator<Item = Value>) -> Self {
        self.resource = Some(Clause::Is(resources.into_iter().collect()));
        self
    }

    pub fn condition(
        mut self,
        operator: &str,
        key: &str,
        values: impl IntoIterator<Item = Value>,
    ) -> Self {
        self.add_condition(operator, key, values);
        self
    }

    /// Sets the values of `key` under `operator`, replacing any it had.
    pub fn add_condition(
        &mut self,
        operator: &str,
        key: &str,
        values: impl IntoIterator<Item = Value>,
    ) {
        self.condition
            .entry(operator.to_string())
            .or_default()
            .insert(key.to_string(), values.into_iter().collect());
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct PolicyDocument {
    pub statements: Vec<Statement>,
}

pub const POLICY_VERSION: &str = "2012-10-17";

impl PolicyDocument {
    pub fn new(statements: Vec<Statement>) -> Self {
        PolicyDocument { statements }
    }

    pub fn is_empty(&self) -> bool {
        self.statements.is_empty()
    }

    /// The document as AWS's JSON, with every reference turned into JSON by `resolve`
    /// (a literal ARN for the evaluator, `{"Ref": …}` for CloudFormation, an expression marker
    /// for Terraform). Single-element lists are written as scalars, as AWS itself does.
    pub fn to_json(&self, resolve: &dyn Fn(&Ref) -> Json) -> Json {
        let statements: Vec<Json> = self
            .statements
            .iter()
            .map(|statement| statement.to_json(resolve))
            .collect();
        // Built directly: `json!` would copy every statement through the serializer.
        let mut document = JsonMap::new();
        document.insert("Version".into(), Json::String(POLICY_VERSION.into()));
        document.insert("Statement".into(), Json::Array(statements));
        Json::Object(document)
    }

    /// The document as [`to_json`](Self::to_json) gives it, with the values of `Bool`
    /// conditions (`aws:SecureTransport`, …) as JSON booleans, the type IAM documents them
    /// with and scanners expect, in every statement crossgrant writes (a statement kept from a
    /// live policy stays as written). For the renderers; sizes are measured on the string
    /// form, which is never shorter.
    pub fn to_typed_json(&self, resolve: &dyn Fn(&Ref) -> Json) -> Json {
        let mut document = self.to_json(resolve);
        if let Some(Json::Array(statements)) = document.get_mut("Statement") {
            for (statement, json) in self.statements.iter().zip(statements) {
                if statement.verbatim.is_some() {
                    continue;
                }
                let Some(Json::Object(condition)) = json.get_mut("Condition") else {
                    continue;
                };
                for (operator, keys) in condition.iter_mut() {
                    if !matches!(operator.as_str(), "Bool" | "BoolIfExists") {
                        continue;
                    }
                    let Json::Object(keys) = keys else { continue };
                    for value in keys.values_mut() {
                        typed_bool(value);
                    }
                }
            }
        }
        document
    }

    /// Every reference the document makes, in a stable order.
    pub fn refs(&self) -> Vec<&Ref> {
        let mut refs: Vec<&Ref> = self
            .statements
            .iter()
            .flat_map(Statement::values)
            .filter_map(|value| match value {
                Value::Ref(reference) => Some(reference),
                Value::Lit(_) => None,
            })
            .collect();
        refs.sort();
        refs.dedup();
        refs
    }
}

impl Statement {
    /// Every value the statement holds: principals, resources, condition values.
    pub fn values(&self) -> impl Iterator<Item = &Value> {
        let principals = match &self.principal {
            Some(Clause::Is(Principal::Typed(map)) | Clause::Not(Principal::Typed(map))) => {
                Some(map.values().flatten())
            }
            _ => None,
        };
        let resources = self
            .resource
            .iter()
            .flat_map(|resource| resource.inner().iter());
        let conditions = self
            .condition
            .values()
            .flat_map(|keys| keys.values())
            .flatten();
        principals
            .into_iter()
            .flatten()
            .chain(resources)
            .chain(conditions)
    }
}

impl Statement {
    fn to_json(&self, resolve: &dyn Fn(&Ref) -> Json) -> Json {
        if let Some(verbatim) = &self.verbatim {
            if let Ok(json) = serde_json::from_str(&verbatim.json) {
                return json;
            }
        }
        let values = |values: &[Value]| -> Json {
            let mut items: Vec<Json> = values
                .iter()
                .map(|value| match value {
                    Value::Lit(text) => Json::String(text.clone()),
                    Value::Ref(reference) => resolve(reference),
                })
                .collect();
            if items.len() == 1 {
                items.remove(0)
            } else {
                Json::Array(items)
            }
        };
        let strings = |items: &[String]| -> Json {
            if items.len() == 1 {
                Json::String(items[0].clone())
            } else {
                Json::Array(items.iter().cloned().map(Json::String).collect())
            }
        };
        let mut out = JsonMap::new();
        if let Some(sid) = &self.sid {
            out.insert("Sid".into(), Json::String(sid.clone()));
        }
        out.insert("Effect".into(), Json::String(self.effect.as_str().into()));
        if let Some(principal) = &self.principal {
            let key = if principal.is_negated() {
                "NotPrincipal"
            } else {
                "Principal"
            };
            let body = match principal.inner() {
                Principal::Any => Json::String("*".into()),
                Principal::Typed(map) => Json::Object(
                    map.iter()
                        .map(|(kind, items)| (kind.clone(), values(items)))
                        .collect(),
                ),
            };
            out.insert(key.into(), body);
        }
        let action_key = if self.action.is_negated() {
            "NotAction"
        } else {
            "Action"
        };
        out.insert(action_key.into(), strings(self.action.inner()));
        if let Some(resource) = &self.resource {
            let key = if resource.is_negated() {
                "NotResource"
            } else {
                "Resource"
            };
            out.insert(key.into(), values(resource.inner()));
        }
        if !self.condition.is_empty() {
            let condition: JsonMap<String, Json> = self
                .condition
                .iter()
                .map(|(operator, keys)| {
                    let keys: JsonMap<String, Json> = keys
                        .iter()
                        .map(|(key, items)| (key.clone(), values(items)))
                        .collect();
                    (operator.clone(), Json::Object(keys))
                })
                .collect();
            out.insert("Condition".into(), Json::Object(condition));
        }
        Json::Object(out)
    }
}

/// `"true"` and `"false"` (alone or in a list) as JSON booleans.
fn typed_bool(value: &mut Json) {
    match value {
        Json::String(text) if text == "true" || text == "false" => {
            *value = Json::Bool(text == "true");
        }
        Json::Array(items) => items.iter_mut().for_each(typed_bool),
        _ => {}
    }
}

/// The size AWS counts against policy limits: the minified JSON, whitespace outside strings
/// not counted.
pub fn minified_len(document: &Json) -> usize {
    serde_json::to_string(document)
        .map(|text| text.len())
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aws::{condition_key::PRINCIPAL_ARN, KMS_WRITE_ACTIONS};
    use serde_json::json;

    #[test]
    fn single_values_render_as_scalars_and_refs_resolve() {
        let document = PolicyDocument::new(vec![Statement::allow("Use")
            .principal(Principal::aws([Value::lit(
                "arn:aws:iam::222222222222:root",
            )]))
            .actions(KMS_WRITE_ACTIONS)
            .resources([Value::Ref(Ref::KeyArn("data".into()))])
            .condition(
                "ArnEquals",
                PRINCIPAL_ARN,
                [Value::lit("arn:aws:iam::222222222222:role/app")],
            )]);
        let rendered = document.to_json(&|reference| match reference {
            Ref::KeyArn(name) => json!({ "Ref": format!("{name}KeyArn") }),
            Ref::RoleArn(name) | Ref::InstanceProfile(name) => json!(name),
        });
        assert_eq!(
            rendered,
            json!({
                "Version": "2012-10-17",
                "Statement": [{
                    "Sid": "Use",
                    "Effect": "Allow",
                    "Principal": { "AWS": "arn:aws:iam::222222222222:root" },
                    "Action": KMS_WRITE_ACTIONS,
                    "Resource": { "Ref": "dataKeyArn" },
                    "Condition": { "ArnEquals": { (PRINCIPAL_ARN): "arn:aws:iam::222222222222:role/app" } }
                }]
            })
        );
        assert_eq!(document.refs(), vec![&Ref::KeyArn("data".into())]);
    }
}

//! The evaluator's unit tests, kept as data: every `tests/eval_cases/*.json` file holds policy
//! documents (AWS JSON, read by the same parser `explain` uses), requests and the decision AWS
//! makes on them. A file's documents apply to all its cases unless a case brings its own.
//! The runner also insists that every condition operator the evaluator knows appears in some
//! case, so a new operator cannot land untested.

use crate::common::eval::case_files;
use crossgrant::eval::condition::Operator;
use crossgrant::eval::document::parse_policy_json;
use crossgrant::eval::engine::{
    evaluate, GuardrailPolicies, Layer, NamedPolicy, PolicySet, Reason,
};
use crossgrant::eval::guardrail;
use crossgrant::eval::request::{Caller, Context, Request};
use crossgrant::policy::PolicyDocument;
use serde::Deserialize;
use serde_json::Value as Json;
use std::collections::{BTreeMap, BTreeSet};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CaseFile {
    description: String,
    #[serde(default)]
    identity: Vec<Json>,
    #[serde(default)]
    resource: Option<Json>,
    /// Guardrail policies by layer: `scp`, `rcp`, `vpc-endpoint`, `permissions-boundary`.
    #[serde(default)]
    guardrails: BTreeMap<String, Vec<Json>>,
    cases: Vec<Case>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    name: String,
    #[serde(default)]
    identity: Option<Vec<Json>>,
    /// Absent: the file's resource policy; `null`: no resource policy.
    #[serde(default, deserialize_with = "present")]
    resource: Option<Json>,
    /// Absent: the file's guardrails.
    #[serde(default)]
    guardrails: Option<BTreeMap<String, Vec<Json>>>,
    request: RequestSpec,
    expect: Expect,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RequestSpec {
    /// A role ARN, or `anonymous`.
    caller: String,
    action: String,
    resource: String,
    resource_account: String,
    #[serde(default)]
    context: BTreeMap<String, Json>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Expect {
    /// `Allowed`, `ImplicitlyDenied`, `ExplicitlyDenied`, or `Error`.
    verdict: String,
    /// For denials: the layers that decided (`identity`, `bucket-policy`, `key-policy`).
    #[serde(default)]
    layers: Option<Vec<String>>,
    /// Sids of the statements named by the decision (allowing or denying).
    #[serde(default)]
    sids: Option<Vec<String>>,
    /// For errors: a word the error variant's name must contain.
    #[serde(default)]
    error: Option<String>,
}

/// Tells an explicit `null` (`Some(Null)`) from an absent field (`None`).
fn present<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Option<Json>, D::Error> {
    Json::deserialize(deserializer).map(Some)
}

fn document(origin: &str, json: &Json) -> PolicyDocument {
    parse_policy_json(&json.to_string()).unwrap_or_else(|problem| panic!("{origin}: {problem}"))
}

fn request(spec: &RequestSpec) -> Request {
    let caller = if spec.caller == "anonymous" {
        Caller::Anonymous
    } else {
        Caller::role(spec.caller.clone()).expect("caller is a role ARN")
    };
    let mut context = Context::new();
    for (key, value) in &spec.context {
        match value {
            Json::Array(items) => {
                context.set_list(
                    key,
                    items
                        .iter()
                        .map(|item| item.as_str().unwrap().to_string())
                        .collect(),
                );
            }
            Json::String(text) => {
                context.set(key, text.clone());
            }
            other => {
                context.set(key, other.to_string());
            }
        }
    }
    Request {
        caller,
        action: spec.action.clone(),
        resource: spec.resource.clone(),
        resource_account: spec.resource_account.clone(),
        context,
    }
}

fn operators_in(json: &Json, into: &mut BTreeSet<String>) {
    let statements = match &json["Statement"] {
        Json::Array(items) => items.clone(),
        single => vec![single.clone()],
    };
    for statement in statements {
        if let Some(Json::Object(operators)) = statement.get("Condition") {
            into.extend(operators.keys().cloned());
        }
    }
}

#[test]
fn every_case_file_decides_as_expected() {
    let mut failures = Vec::new();
    let mut count = 0;
    let mut operators_used = BTreeSet::new();
    for path in case_files() {
        let file_name = path.file_name().unwrap().to_string_lossy().to_string();
        let file: CaseFile = serde_json::from_str(&std::fs::read_to_string(&path).unwrap())
            .unwrap_or_else(|error| panic!("{file_name}: {error}"));
        assert!(
            !file.description.is_empty(),
            "{file_name}: describe the file"
        );
        for case in &file.cases {
            count += 1;
            let origin = format!("{file_name} / {}", case.name);
            let identity_json = case.identity.as_ref().unwrap_or(&file.identity);
            let resource_json = case.resource.as_ref().or(file.resource.as_ref());
            for json in identity_json.iter().chain(resource_json) {
                operators_in(json, &mut operators_used);
            }
            let identity: Vec<PolicyDocument> = identity_json
                .iter()
                .map(|json| document(&origin, json))
                .collect();
            let resource = resource_json
                .filter(|json| !json.is_null())
                .map(|json| document(&origin, json));
            let names: Vec<String> = (1..=identity.len())
                .map(|index| format!("identity{index}"))
                .collect();
            let guardrail_json = case.guardrails.as_ref().unwrap_or(&file.guardrails);
            let guardrail_documents: Vec<(String, Vec<PolicyDocument>)> = guardrail_json
                .iter()
                .map(|(layer, documents)| {
                    for json in documents {
                        operators_in(json, &mut operators_used);
                    }
                    let documents = documents
                        .iter()
                        .map(|json| document(&origin, json))
                        .collect();
                    (layer.clone(), documents)
                })
                .collect();
            let guardrail_names: Vec<Vec<String>> = guardrail_documents
                .iter()
                .map(|(layer, documents)| {
                    (1..=documents.len())
                        .map(|index| format!("{layer}{index}"))
                        .collect()
                })
                .collect();
            let guardrails = guardrail_documents
                .iter()
                .zip(&guardrail_names)
                .map(|((layer, documents), names)| {
                    let named: Vec<NamedPolicy> = documents
                        .iter()
                        .zip(names)
                        .map(|(document, name)| NamedPolicy { name, document })
                        .collect();
                    match layer.as_str() {
                        "scp" => guardrail::scp_layer(named),
                        "rcp" => guardrail::rcp_layer(named),
                        "vpc-endpoint" => GuardrailPolicies {
                            layer: Layer::VpcEndpointPolicy,
                            policies: named,
                        },
                        "permissions-boundary" => GuardrailPolicies {
                            layer: Layer::PermissionsBoundary,
                            policies: named,
                        },
                        other => panic!("{origin}: no guardrail layer {other:?}"),
                    }
                })
                .collect();
            let policies = PolicySet {
                identity: identity
                    .iter()
                    .zip(&names)
                    .map(|(document, name)| NamedPolicy { name, document })
                    .collect(),
                resource: resource.as_ref().map(|document| NamedPolicy {
                    name: "resource",
                    document,
                }),
                guardrails,
            };
            let outcome = evaluate(&request(&case.request), &policies);
            let expect = &case.expect;
            match outcome {
                Err(error) => {
                    let variant = format!("{:?}", error.problem);
                    let wanted = expect.error.as_deref().unwrap_or("<none>");
                    if expect.verdict != "Error" || !variant.contains(wanted) {
                        failures.push(format!(
                            "{origin}: expected {} but evaluation failed: {error} ({variant})",
                            expect.verdict
                        ));
                    }
                }
                Ok(decision) => {
                    if decision.verdict.as_str() != expect.verdict {
                        failures.push(format!(
                            "{origin}: expected {}, got {} ({:?})",
                            expect.verdict,
                            decision.verdict.as_str(),
                            decision.reasons
                        ));
                        continue;
                    }
                    if let Some(layers) = &expect.layers {
                        let got: Vec<String> = decision
                            .deciding_layers()
                            .iter()
                            .map(|layer| {
                                serde_json::to_value(layer)
                                    .unwrap()
                                    .as_str()
                                    .unwrap()
                                    .to_string()
                            })
                            .collect();
                        if &got != layers {
                            failures.push(format!(
                                "{origin}: deciding layers {got:?}, expected {layers:?}"
                            ));
                        }
                    }
                    if let Some(sids) = &expect.sids {
                        let got: Vec<String> = decision
                            .reasons
                            .iter()
                            .filter_map(|reason| match reason {
                                Reason::AllowedBy { statement, .. }
                                | Reason::DeniedBy { statement, .. } => statement.sid.clone(),
                                Reason::Missing { .. } => None,
                            })
                            .collect();
                        if &got != sids {
                            failures
                                .push(format!("{origin}: statements {got:?}, expected {sids:?}"));
                        }
                    }
                }
            }
        }
    }
    assert!(count >= 60, "only {count} cases");
    assert!(
        failures.is_empty(),
        "{} of {count} cases failed:\n{}",
        failures.len(),
        failures.join("\n")
    );

    // Every base operator, every IfExists form's family and both set operators are exercised.
    let bases: BTreeSet<String> = operators_used
        .iter()
        .filter_map(|name| Operator::parse(name).ok())
        .map(|operator| format!("{:?}", operator.base))
        .collect();
    for required in [
        "StringEquals",
        "StringNotEquals",
        "StringEqualsIgnoreCase",
        "StringNotEqualsIgnoreCase",
        "StringLike",
        "StringNotLike",
        "ArnEquals",
        "ArnLike",
        "ArnNotEquals",
        "ArnNotLike",
        "Bool",
        "Null",
        "NumericEquals",
        "NumericNotEquals",
        "NumericLessThan",
        "NumericLessThanEquals",
        "NumericGreaterThan",
        "NumericGreaterThanEquals",
    ] {
        assert!(bases.contains(required), "no case uses {required}");
    }
    for prefix in ["ForAnyValue:", "ForAllValues:"] {
        assert!(
            operators_used.iter().any(|name| name.starts_with(prefix)),
            "no case uses {prefix}"
        );
    }
    assert!(
        operators_used.iter().any(|name| name.ends_with("IfExists")),
        "no case uses …IfExists"
    );
}

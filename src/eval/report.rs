//! Reporters for `check`: a human access matrix (one table per caller and bucket; probe callers
//! that were denied everything, as intended, fold into one line) and a JSON document with every
//! request, its verdict and the statements or missing layers behind it.

use super::check::{CheckReport, Outcome, ProbeResult};
use super::engine::{Reason, Verdict};
use super::probe::{CallerKind, Transport};
use serde::Serialize;
use std::collections::BTreeSet;
use std::io::{self, Write};

fn outcome_word(outcome: Outcome) -> &'static str {
    match outcome {
        Outcome::Allowed => "allowed",
        Outcome::Denied => "denied",
        Outcome::Error => "error",
    }
}

fn operation_label(result: &ProbeResult) -> String {
    result.probe.label()
}

/// Why the operation ended as it did, for the last column.
fn decided_by(result: &ProbeResult) -> String {
    if let Some(error) = result.error() {
        return format!("cannot evaluate: {error}");
    }
    match result.denied_step() {
        Some((step, decision)) => {
            let reasons: Vec<String> = decision.reasons.iter().map(Reason::to_string).collect();
            let guardrail = decision
                .deciding_layers()
                .into_iter()
                .find(|layer| layer.is_guardrail());
            let fix = match guardrail {
                Some(layer) if result.probe.intended => format!(
                    " — the grant cannot work under this {layer}: it must allow the request (exempt it from the denying statement), or the grant must change"
                ),
                _ => String::new(),
            };
            format!("{}: {}{fix}", step.action, reasons.join("; "))
        }
        None => String::new(),
    }
}

/// Writes the human access matrix.
pub fn write_human(report: &CheckReport, out: &mut dyn Write) -> io::Result<()> {
    let wrong = report.failures().count();
    writeln!(
        out,
        "crossgrant check: scenario {} — {} operations, {} requests",
        report.scenario,
        report.results.len(),
        report.request_count()
    )?;
    let mut groups: Vec<(&CallerKind, &str, Vec<&ProbeResult>)> = Vec::new();
    for result in &report.results {
        let probe = &result.probe;
        match groups.last_mut() {
            Some((kind, bucket, members))
                if *kind == &probe.caller_kind && *bucket == probe.bucket.as_str() =>
            {
                members.push(result)
            }
            _ => groups.push((&probe.caller_kind, &probe.bucket, vec![result])),
        }
    }
    for (kind, bucket, members) in groups {
        let caller = match members[0].probe.steps[0].request.caller.arn() {
            Some(arn) => format!(" ({arn})"),
            None => String::new(),
        };
        writeln!(out)?;
        let all_passed = members.iter().all(|result| result.passed());
        let any_kept = members
            .iter()
            .any(|result| result.kept && result.outcome() == Outcome::Allowed);
        let probe_caller = !matches!(kind, CallerKind::Role { .. });
        if probe_caller && all_passed && !any_kept {
            let layers: BTreeSet<String> = members
                .iter()
                .filter_map(|result| result.denied_step())
                .flat_map(|(_, decision)| decision.deciding_layers())
                .map(|layer| layer.to_string())
                .collect();
            writeln!(
                out,
                "{kind}{caller} on bucket {bucket}: all {} operations denied, as intended (by: {})",
                members.len(),
                layers.into_iter().collect::<Vec<_>>().join(", ")
            )?;
            continue;
        }
        writeln!(out, "{kind}{caller} on bucket {bucket}")?;
        // Operations that end alike on several targets share one row.
        let mut rows: Vec<[String; 6]> = Vec::new();
        for result in &members {
            let row = [
                if !result.passed() {
                    "WRONG"
                } else if result.kept && result.outcome() == Outcome::Allowed {
                    "kept"
                } else {
                    "ok"
                }
                .to_string(),
                operation_label(result),
                result.probe.operation.target(),
                if result.probe.intended {
                    "allow"
                } else {
                    "deny"
                }
                .to_string(),
                outcome_word(result.outcome()).to_string(),
                decided_by(result),
            ];
            let same = rows.iter_mut().find(|existing| {
                existing[0] == row[0]
                    && existing[1] == row[1]
                    && existing[3] == row[3]
                    && existing[4] == row[4]
                    && existing[5] == row[5]
            });
            match same {
                Some(existing) => {
                    existing[2].push_str(", ");
                    existing[2].push_str(&row[2]);
                }
                None => rows.push(row),
            }
        }
        let header = ["", "OPERATION", "TARGET", "WANT", "GOT", "DECIDED BY"].map(String::from);
        let mut widths = [0usize; 5];
        for row in rows.iter().chain([&header]) {
            for (width, cell) in widths.iter_mut().zip(row.iter()) {
                *width = (*width).max(cell.chars().count());
            }
        }
        for row in [&header].into_iter().chain(rows.iter()) {
            let mut line = String::from("  ");
            for (cell, width) in row.iter().zip(widths) {
                line.push_str(&format!("{cell:<width$}  "));
            }
            line.push_str(&row[5]);
            writeln!(out, "{}", line.trim_end())?;
        }
    }
    writeln!(out)?;
    let kept = report.kept().count();
    if wrong == 0 && kept > 0 {
        writeln!(
            out,
            "OK: every grant works and nothing else is granted ({} operations as intended; {kept} allowed by statements kept from live policies, rows marked kept).",
            report.results.len()
        )
    } else if wrong == 0 {
        writeln!(
            out,
            "OK: every grant works and nothing else is granted ({} operations as intended).",
            report.results.len()
        )
    } else {
        writeln!(
            out,
            "FAILED: {wrong} of {} operations are not as the grants intend (rows marked WRONG).",
            report.results.len()
        )
    }
}

#[derive(Serialize)]
struct JsonReport<'a> {
    scenario: &'a str,
    passed: bool,
    operations: usize,
    requests: usize,
    wrong: usize,
    results: Vec<JsonResult<'a>>,
}

#[derive(Serialize)]
struct JsonResult<'a> {
    caller: &'a CallerKind,
    caller_arn: Option<&'a str>,
    bucket: &'a str,
    operation: String,
    target: String,
    transport: Transport,
    intended: bool,
    outcome: &'static str,
    passed: bool,
    /// Allowed by statements kept from live policies.
    kept: bool,
    requests: Vec<JsonRequest<'a>>,
}

#[derive(Serialize)]
struct JsonRequest<'a> {
    action: &'a str,
    resource: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    verdict: Option<Verdict>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reasons: Option<Vec<JsonReason<'a>>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
}

#[derive(Serialize)]
struct JsonReason<'a> {
    #[serde(flatten)]
    reason: &'a Reason,
    message: String,
}

/// Writes the JSON report (one document, pretty-printed).
pub fn write_json(report: &CheckReport, out: &mut dyn Write) -> io::Result<()> {
    let results = report
        .results
        .iter()
        .map(|result| JsonResult {
            caller: &result.probe.caller_kind,
            caller_arn: result.probe.steps[0].request.caller.arn(),
            bucket: &result.probe.bucket,
            operation: operation_label(result),
            target: result.probe.operation.target(),
            transport: result.probe.transport,
            intended: result.probe.intended,
            outcome: outcome_word(result.outcome()),
            passed: result.passed(),
            kept: result.kept && result.outcome() == Outcome::Allowed,
            requests: result
                .steps
                .iter()
                .map(|step| match &step.outcome {
                    Ok(decision) => JsonRequest {
                        action: &step.action,
                        resource: &step.resource,
                        verdict: Some(decision.verdict),
                        reasons: Some(
                            decision
                                .reasons
                                .iter()
                                .map(|reason| JsonReason {
                                    reason,
                                    message: reason.to_string(),
                                })
                                .collect(),
                        ),
                        error: None,
                    },
                    Err(error) => JsonReport::error_request(step, error),
                })
                .collect(),
        })
        .collect();
    let document = JsonReport {
        scenario: &report.scenario,
        passed: report.passed(),
        operations: report.results.len(),
        requests: report.request_count(),
        wrong: report.failures().count(),
        results,
    };
    serde_json::to_writer_pretty(&mut *out, &document)?;
    writeln!(out)
}

impl JsonReport<'_> {
    fn error_request<'s>(
        step: &'s super::check::StepResult,
        error: &super::error::EvalError,
    ) -> JsonRequest<'s> {
        JsonRequest {
            action: &step.action,
            resource: &step.resource,
            verdict: None,
            reasons: None,
            error: Some(error.to_string()),
        }
    }
}

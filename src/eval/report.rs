//! Reporters for `check`: a human access matrix (one table per caller and bucket; probe callers
//! that were denied everything, as intended, fold into one line) and a JSON document with every
//! request, its verdict and the statements or missing layers behind it. Both are [`Sink`]s: they
//! write each caller's results as the check produces them.

use super::check::{
    CallerResults, CheckReport, Outcome, ProbeResult, Sink, StepResult, Summary, Totals,
};
use super::engine::{Reason, Verdict};
use super::probe::{CallerKind, Transport};
use crate::policy::Name;
use serde::Serialize;
use std::collections::{BTreeSet, HashMap};
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

/// Why the operation ended as it did, for the last column, in the caller's own names.
fn decided_by(result: &ProbeResult, caller: &CallerResults) -> String {
    if let Some(error) = result.error() {
        return format!("cannot evaluate: {}", caller.error(error));
    }
    match result.denied_step() {
        Some((step, decision)) => {
            let reasons: Vec<String> = decision
                .reasons
                .iter()
                .map(|reason| caller.reason(reason).to_string())
                .collect();
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

/// The policies a caller's rows name: where another caller's names would show.
fn named_policies(results: &[ProbeResult]) -> BTreeSet<&str> {
    results
        .iter()
        .flat_map(|result| {
            let error = result
                .error()
                .and_then(|error| error.statement.as_ref())
                .map(|statement| statement.policy.as_str());
            let denied = result
                .denied_step()
                .into_iter()
                .flat_map(|(_, decision)| &decision.reasons)
                .filter_map(|reason| match reason {
                    Reason::DeniedBy { statement, .. } | Reason::AllowedBy { statement, .. } => {
                        Some(statement.policy.as_str())
                    }
                    Reason::Missing { .. } => None,
                });
            error.into_iter().chain(denied)
        })
        .collect()
}

/// What follows a caller's heading: the folded line's ending, or the table.
enum Body {
    Folded(String),
    Table(String),
}

fn body(caller: &CallerResults) -> Body {
    let members = caller.results;
    let all_passed = members.iter().all(ProbeResult::passed);
    let any_kept = members.iter().any(ProbeResult::is_kept);
    let probe_caller = !matches!(caller.kind, CallerKind::Role { .. });
    if probe_caller && all_passed && !any_kept {
        let layers: BTreeSet<String> = members
            .iter()
            .filter_map(|result| result.denied_step())
            .flat_map(|(_, decision)| decision.deciding_layers())
            .map(|layer| layer.to_string())
            .collect();
        return Body::Folded(format!(
            ": all {} operations denied, as intended (by: {})",
            members.len(),
            layers.into_iter().collect::<Vec<_>>().join(", ")
        ));
    }
    // Operations that end alike on several targets share one row.
    let mut rows: Vec<[String; 6]> = Vec::new();
    for result in members {
        let row = [
            if !result.passed() {
                "WRONG"
            } else if result.is_kept() {
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
            decided_by(result, caller),
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
    let mut table = String::new();
    for row in [&header].into_iter().chain(rows.iter()) {
        let mut line = String::from("  ");
        for (cell, width) in row.iter().zip(widths) {
            line.push_str(&format!("{cell:<width$}  "));
        }
        line.push_str(&row[5]);
        table.push_str(line.trim_end());
        table.push('\n');
    }
    Body::Table(table)
}

/// The human access matrix, written caller by caller.
pub struct HumanReport<'w> {
    out: &'w mut dyn Write,
    /// The bodies of the bucket being written, by the results they were made from, with the
    /// policies they name: callers sharing an evaluation mostly share their rows too.
    bodies: HashMap<usize, (Body, BTreeSet<String>)>,
    bucket: Option<Name>,
}

impl<'w> HumanReport<'w> {
    pub fn new(out: &'w mut dyn Write) -> Self {
        HumanReport {
            out,
            bodies: HashMap::new(),
            bucket: None,
        }
    }
}

impl Sink for HumanReport<'_> {
    fn begin(&mut self, scenario: &str, totals: Totals) -> io::Result<()> {
        writeln!(
            self.out,
            "crossgrant check: scenario {scenario} — {} operations, {} requests",
            totals.operations, totals.requests
        )
    }

    fn caller(&mut self, caller: &CallerResults) -> io::Result<()> {
        if self.bucket.as_ref() != Some(caller.bucket) {
            self.bodies.clear();
            self.bucket = Some(caller.bucket.clone());
        }
        let arn = match caller.caller.arn() {
            Some(arn) => format!(" ({arn})"),
            None => String::new(),
        };
        let heading = format!("{}{arn} on bucket {}", caller.kind, caller.bucket);
        let shared = caller.results.as_ptr() as usize;
        let reusable = self.bodies.get(&shared).is_some_and(|(_, named)| {
            caller
                .renames
                .iter()
                .all(|(policy, _)| !named.contains(policy))
        });
        let fresh;
        let body = if reusable {
            &self.bodies[&shared].0
        } else {
            let made = body(caller);
            if caller.is_verbatim() {
                let named = named_policies(caller.results)
                    .into_iter()
                    .map(str::to_string)
                    .collect();
                self.bodies.insert(shared, (made, named));
                &self.bodies[&shared].0
            } else {
                fresh = made;
                &fresh
            }
        };
        match body {
            Body::Folded(ending) => writeln!(self.out, "\n{heading}{ending}"),
            Body::Table(table) => write!(self.out, "\n{heading}\n{table}"),
        }
    }

    fn end(&mut self, summary: &Summary) -> io::Result<()> {
        writeln!(self.out)?;
        let (wrong, kept, operations) = (summary.wrong, summary.kept, summary.operations);
        if wrong == 0 && kept > 0 {
            writeln!(
                self.out,
                "OK: every grant works and nothing else is granted ({operations} operations as intended; {kept} allowed by statements kept from live policies, rows marked kept)."
            )
        } else if wrong == 0 {
            writeln!(
                self.out,
                "OK: every grant works and nothing else is granted ({operations} operations as intended)."
            )
        } else {
            writeln!(
                self.out,
                "FAILED: {wrong} of {operations} operations are not as the grants intend (rows marked WRONG)."
            )
        }
    }
}

/// Feeds a kept report to a sink, caller by caller.
fn replay(report: &CheckReport, sink: &mut dyn Sink) -> io::Result<()> {
    sink.begin(
        &report.scenario,
        Totals {
            operations: report.results.len(),
            requests: report.request_count(),
        },
    )?;
    let mut start = 0;
    while start < report.results.len() {
        let first = &report.results[start].probe;
        let end = report.results[start..]
            .iter()
            .position(|result| {
                result.probe.caller_kind != first.caller_kind || result.probe.bucket != first.bucket
            })
            .map_or(report.results.len(), |offset| start + offset);
        sink.caller(&CallerResults::kept_results(&report.results[start..end]))?;
        start = end;
    }
    sink.end(&Summary {
        operations: report.results.len(),
        wrong: report.failures().count(),
        kept: report.kept().count(),
    })
}

/// Writes the human access matrix of a kept report.
pub fn write_human(report: &CheckReport, out: &mut dyn Write) -> io::Result<()> {
    replay(report, &mut HumanReport::new(out))
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
    reasons: Option<Vec<JsonReason>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
}

#[derive(Serialize)]
struct JsonReason {
    #[serde(flatten)]
    reason: Reason,
    message: String,
}

fn json_request<'a>(step: &'a StepResult, caller: &CallerResults) -> JsonRequest<'a> {
    match &step.outcome {
        Ok(decision) => JsonRequest {
            action: &step.action,
            resource: &step.resource,
            verdict: Some(decision.verdict),
            reasons: Some(
                decision
                    .reasons
                    .iter()
                    .map(|reason| {
                        let reason = caller.reason(reason);
                        JsonReason {
                            message: reason.to_string(),
                            reason,
                        }
                    })
                    .collect(),
            ),
            error: None,
        },
        Err(error) => JsonRequest {
            action: &step.action,
            resource: &step.resource,
            verdict: None,
            reasons: None,
            error: Some(caller.error(error).to_string()),
        },
    }
}

/// The JSON report, one pretty-printed document written result by result: the scenario and
/// the counts known before evaluation first, then `results`, then `passed` and `wrong`.
pub struct JsonReport<'w> {
    out: &'w mut dyn Write,
    written: usize,
}

impl<'w> JsonReport<'w> {
    pub fn new(out: &'w mut dyn Write) -> Self {
        JsonReport { out, written: 0 }
    }
}

impl Sink for JsonReport<'_> {
    fn begin(&mut self, scenario: &str, totals: Totals) -> io::Result<()> {
        write!(
            self.out,
            "{{\n  \"scenario\": {},\n  \"operations\": {},\n  \"requests\": {},\n  \"results\": [",
            serde_json::to_string(scenario)?,
            totals.operations,
            totals.requests
        )
    }

    fn caller(&mut self, caller: &CallerResults) -> io::Result<()> {
        for result in caller.results {
            let document = JsonResult {
                caller: caller.kind,
                caller_arn: caller.caller.arn(),
                bucket: caller.bucket,
                operation: operation_label(result),
                target: result.probe.operation.target(),
                transport: result.probe.transport,
                intended: result.probe.intended,
                outcome: outcome_word(result.outcome()),
                passed: result.passed(),
                kept: result.is_kept(),
                requests: result
                    .steps
                    .iter()
                    .map(|step| json_request(step, caller))
                    .collect(),
            };
            let text = serde_json::to_string_pretty(&document)?;
            self.out
                .write_all(if self.written == 0 { b"\n" } else { b",\n" })?;
            for (index, line) in text.lines().enumerate() {
                if index > 0 {
                    self.out.write_all(b"\n")?;
                }
                self.out.write_all(b"    ")?;
                self.out.write_all(line.as_bytes())?;
            }
            self.written += 1;
        }
        Ok(())
    }

    fn end(&mut self, summary: &Summary) -> io::Result<()> {
        if self.written > 0 {
            self.out.write_all(b"\n  ")?;
        }
        writeln!(
            self.out,
            "],\n  \"passed\": {},\n  \"wrong\": {}\n}}",
            summary.passed(),
            summary.wrong
        )
    }
}

/// Writes the JSON report of a kept report.
pub fn write_json(report: &CheckReport, out: &mut dyn Write) -> io::Result<()> {
    replay(report, &mut JsonReport::new(out))
}

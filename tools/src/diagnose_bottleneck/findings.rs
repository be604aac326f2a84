//! The findings: the thresholds of `monitoring#diagnostic-findings` applied to the metrics
//! given, the reported symptoms turned into their failure modes, each with the evidence that
//! made it fire and fixes fitted to the architecture the caller has.

use knowledge::{Clause, Facts};
use serde_json::{Map, Value};

use super::rules::{DiagnosisRules, FailureMode, FindingRule, Horizon};
use super::{ARCHITECTURE_FIELDS, Evidence, Finding, Observed, Severity, Symptom};
use crate::absent_numbers;

/// Every finding that fires, critical ones first: the threshold rules in table order, then
/// the reported symptoms. A fix that would bring back a component the caller has gives way
/// to the row written for it, and that row joins the finding's sources.
pub(super) fn evaluate(
    rules: &DiagnosisRules,
    symptoms: &[Symptom],
    facts: &dyn Facts,
    arguments: &Map<String, Value>,
) -> Vec<Finding> {
    let mut findings: Vec<Finding> = rules
        .findings
        .iter()
        .filter_map(|rule| threshold_finding(rule, facts, arguments))
        .collect();
    findings.extend(
        rules
            .failure_modes
            .iter()
            .filter(|m| symptoms.contains(&m.symptom))
            .map(symptom_finding),
    );
    findings.sort_by_key(|f| f.severity);
    for finding in &mut findings {
        if fit_fixes(rules, finding, facts) {
            finding.sources.push(rules.overrides_uri.clone());
        }
    }
    findings
}

/// The finding a threshold rule gives, at the worst severity whose condition holds.
fn threshold_finding(
    rule: &FindingRule,
    facts: &dyn Facts,
    arguments: &Map<String, Value>,
) -> Option<Finding> {
    let critical = rule
        .critical
        .as_ref()
        .map(|c| c.evidence(facts))
        .filter(|e| !e.is_empty());
    let (severity, clauses) = match critical {
        Some(clauses) => (Severity::Critical, clauses),
        None => match rule.warning.evidence(facts) {
            clauses if !clauses.is_empty() => (Severity::Warning, clauses),
            _ => return None,
        },
    };
    let summary = match (severity, &rule.critical_summary) {
        (Severity::Critical, Some(critical)) => critical,
        _ => &rule.summary,
    };
    Some(Finding {
        id: rule.id.clone(),
        layer: rule.layer.clone(),
        severity,
        evidence: evidence(clauses, arguments),
        summary: summary.clone(),
        fixes: rule.fixes.clone(),
        sources: rule.sources.clone(),
        months_to_critical: None,
    })
}

/// The finding a reported symptom gives: its failure mode, with the report as evidence.
fn symptom_finding(mode: &FailureMode) -> Finding {
    Finding {
        id: mode.id.clone(),
        layer: mode.layer.clone(),
        severity: mode.severity,
        evidence: vec![Evidence {
            metric: "symptoms".into(),
            value: Observed::Text(mode.symptom.id().to_string()),
            comparison: None,
            threshold: None,
        }],
        summary: mode.summary.clone(),
        fixes: mode.fixes.clone(),
        sources: mode.sources.clone(),
        months_to_critical: None,
    }
}

/// The clauses that made a finding fire, as evidence: a compared number with its threshold,
/// a reported symptom, a list argument with its items, or a need the caller stated. Only what
/// the caller gave: a number the rules assumed (one region) is no evidence, and the
/// architecture a need is tested against is its context, not its evidence.
fn evidence(clauses: Vec<&Clause>, arguments: &Map<String, Value>) -> Vec<Evidence> {
    clauses
        .into_iter()
        .filter_map(|clause| match clause {
            // A list that made a finding fire is its evidence (`shared_across_shards`).
            Clause::Flag { field } => match arguments.get(field) {
                Some(Value::Array(items)) => Some(Evidence {
                    metric: field.clone(),
                    value: Observed::Text(
                        items
                            .iter()
                            .filter_map(Value::as_str)
                            .collect::<Vec<_>>()
                            .join(", "),
                    ),
                    comparison: None,
                    threshold: None,
                }),
                Some(Value::Bool(true)) if !ARCHITECTURE_FIELDS.contains(&field.as_str()) => {
                    Some(Evidence {
                        metric: field.clone(),
                        value: Observed::Text("true".into()),
                        comparison: None,
                        threshold: None,
                    })
                }
                _ => None,
            },
            Clause::Finding { id } if Symptom::ALL.iter().any(|s| s.id() == id) => Some(Evidence {
                metric: "symptoms".into(),
                value: Observed::Text(id.clone()),
                comparison: None,
                threshold: None,
            }),
            Clause::Compare {
                field,
                comparison,
                threshold,
            } => Some(Evidence {
                metric: field.clone(),
                value: Observed::Number(arguments.number(field)?),
                comparison: Some(comparison.symbol().to_string()),
                threshold: Some(*threshold),
            }),
            _ => None,
        })
        .collect()
}

/// Replaces each horizon of `finding`'s fixes by the first row of
/// `monitoring#fixes-for-the-architecture-given` written for it whose condition holds; true when
/// any was replaced.
fn fit_fixes(rules: &DiagnosisRules, finding: &mut Finding, facts: &dyn Facts) -> bool {
    let mut replaced = false;
    for (horizon, text) in [
        (Horizon::Immediate, &mut finding.fixes.immediate),
        (Horizon::ShortTerm, &mut finding.fixes.short_term),
        (Horizon::LongTerm, &mut finding.fixes.long_term),
    ] {
        if let Some(row) = rules
            .overrides
            .iter()
            .find(|o| o.horizon == horizon && *o.id == *finding.id && o.when.holds(facts))
        {
            *text = row.text.clone();
            replaced = true;
        }
    }
    replaced
}

/// The numbers the rules that did not fire would have compared, had they been given, as
/// (argument, finding): what `missing_inputs` lists for the findings.
pub(super) fn untested<'r>(
    rules: &'r DiagnosisRules,
    findings: &[Finding],
    facts: &dyn Facts,
) -> Vec<(&'r str, &'r str)> {
    let mut untested = Vec::new();
    for rule in &rules.findings {
        if findings.iter().any(|f| f.id == rule.id) {
            continue;
        }
        let conditions = std::iter::once(&rule.warning).chain(rule.critical.as_ref());
        for field in absent_numbers(conditions, facts) {
            untested.push((field, rule.id.as_str()));
        }
    }
    untested
}

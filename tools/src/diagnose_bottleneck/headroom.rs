//! With a growth rate: when each load-driven finding turns critical, and how long the
//! load-driven metrics that have not fired have before they warn (the arithmetic of
//! `forecast_growth`, against the same threshold rows).

use knowledge::Facts;
use serde_json::{Map, Value};

use super::rules::DiagnosisRules;
use super::{Finding, Headroom, Observed};

/// Sets each finding's `months_to_critical` at `pct` monthly growth: the soonest any of its
/// load-driven evidence reaches its critical line.
pub(super) fn set_months_to_critical(rules: &DiagnosisRules, findings: &mut [Finding], pct: f64) {
    for finding in findings {
        finding.months_to_critical = finding
            .evidence
            .iter()
            .filter(|e| crate::thresholds::LOAD_DRIVEN.contains(&e.metric.as_str()))
            .filter_map(|e| {
                let Observed::Number(value) = e.value else {
                    return None;
                };
                let lines = rules.thresholds(&e.metric)?;
                crate::growth_models::months_at_growth(
                    value,
                    lines.critical_comparison,
                    lines.critical?,
                    pct,
                )
            })
            .reduce(f64::min);
    }
}

/// The load-driven metrics given whose finding has not fired, with the months until each
/// reaches its warning line at `pct` monthly growth.
pub(super) fn headroom(
    rules: &DiagnosisRules,
    findings: &[Finding],
    arguments: &Map<String, Value>,
    pct: f64,
) -> Vec<Headroom> {
    crate::thresholds::LOAD_DRIVEN
        .iter()
        .filter_map(|metric| {
            let value = arguments.number(metric)?;
            let thresholds = rules.thresholds(metric)?;
            let fired = findings.iter().any(|f| f.id == thresholds.finding);
            (!fired).then(|| Headroom {
                metric: (*metric).to_string(),
                months_to_warning: crate::growth_models::months_at_growth(
                    value,
                    thresholds.comparison,
                    thresholds.warning,
                    pct,
                ),
            })
        })
        .collect()
}

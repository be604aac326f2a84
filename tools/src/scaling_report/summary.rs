//! The report's summary: stage and target, what to add, the worst finding, the datastore and
//! the cost band, in at most 400 characters.

use std::fmt::Write;

use super::Report;
use super::bottlenecks::show_evidence;
use super::components::Role;
use super::cost::{band_text, change_text};
use crate::costs::usd;
use crate::diagnose_bottleneck::finding_counts;

/// "Stage 2 · Caching → stage 3 · Read Replicas: add read_replicas (add_read_replicas, 5
/// phases, 6 weeks). 3 warnings, worst: … Datastore: PostgreSQL. Cost: $10,000–30,000/month."
pub(super) fn summary_of(report: &Report) -> String {
    let mut out = format!(
        "Stage {} · {}",
        report.current_stage.number, report.current_stage.name
    );
    if report.target_stage != report.current_stage {
        let _ = write!(
            out,
            " → stage {} · {}",
            report.target_stage.number, report.target_stage.name
        );
    }
    let added: Vec<String> = report
        .components_to_add
        .iter()
        .filter(|c| c.role == Role::Add)
        .map(|c| {
            match report
                .migrations
                .iter()
                .find(|m| Some(m.kind) == c.migration)
            {
                Some(plan) => format!(
                    "{} ({} weeks of {})",
                    c.component,
                    plan.total_weeks,
                    plan.kind.id()
                ),
                None => c.component.clone(),
            }
        })
        .collect();
    if added.is_empty() {
        out.push_str(": nothing to add.");
    } else {
        let _ = write!(out, ": add {}.", added.join(", "));
    }
    let d = &report.diagnosis;
    if d.healthy {
        out.push_str(" No finding.");
    } else {
        let _ = write!(out, " {}", finding_counts(&d.findings));
        if let Some(worst) = d.findings.first() {
            let _ = write!(out, ", worst: {}", worst.id);
            if let Some(e) = worst.evidence.first() {
                let _ = write!(out, " ({})", show_evidence(e));
            }
        }
        out.push('.');
    }
    if let Some(store) = &report.datastore {
        let _ = write!(out, " Datastore: {}.", store.recommendation.name);
    }
    let _ = write!(out, " Cost: {}", band_text(&report.cost.projected));
    if let (Some(change), Some(today)) =
        (change_text(&report.cost), report.cost.current_monthly_usd)
    {
        let _ = write!(out, ", {change} against today's {}", usd(today));
    }
    out.push('.');
    crate::summary(out)
}

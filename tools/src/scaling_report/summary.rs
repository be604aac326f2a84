//! The report's summary: stage and target, what to add, the worst finding, the datastore and
//! the cost band, in at most 400 characters.

use std::fmt::Write;

use super::Report;
use super::bottlenecks::show_evidence;
use super::components::Role;
use super::cost::{band_text, change_text};
use super::roadmap::{RoadmapStep, step_name};
use super::words::lowercase_first;
use crate::diagnose_bottleneck::finding_counts;
use crate::forecast_growth::Forecast;
use crate::numbers::{self, money};

/// "Stage 2 · Caching → stage 3 · Read Replicas: add read_replicas (add_read_replicas, 5
/// phases, 6 weeks). 3 warnings, worst: … Datastore: PostgreSQL. Cost: $10,000–30,000/month."
pub(super) fn summary_of(report: &Report) -> String {
    let mut out = match (&report.roadmap, &report.forecast) {
        (Some(steps), Some(forecast)) => plan_first(steps, forecast),
        _ => String::new(),
    };
    let _ = write!(
        out,
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
    out.push_str(&what_to_add(report));
    out.push_str(&worst_finding(report));
    if let Some(store) = &report.datastore {
        let _ = write!(out, " Datastore: {}.", store.recommendation.name);
    }
    match &report.forecast {
        Some(f) => {
            let _ = write!(
                out,
                " Cost by month {}: {}",
                f.horizon_months,
                band_text(&report.cost.projected)
            );
        }
        None => {
            let _ = write!(out, " Cost: {}", band_text(&report.cost.projected));
        }
    }
    if let (Some(change), Some(today)) =
        (change_text(&report.cost), report.cost.current_monthly_usd)
    {
        let _ = write!(out, ", {change} against today's {}", money(today));
    }
    out.push('.');
    crate::summary(out)
}

/// Without growth, the components to add and their migrations; with growth (the roadmap leads
/// the summary) only the month the target stage is reached.
fn what_to_add(report: &Report) -> String {
    if let Some(f) = report.roadmap.as_ref().and(report.forecast.as_ref()) {
        return if report.target_stage == report.current_stage {
            ".".to_string()
        } else {
            format!(" by month {}.", f.horizon_months)
        };
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
        ": nothing to add.".to_string()
    } else {
        format!(": add {}.", added.join(", "))
    }
}

/// " No finding." or " 1 critical, 2 warnings, worst: … (evidence)."
fn worst_finding(report: &Report) -> String {
    let d = &report.diagnosis;
    if d.healthy {
        return " No finding.".to_string();
    }
    let mut out = format!(" {}", finding_counts(&d.findings));
    if let Some(worst) = d.findings.first() {
        let _ = write!(out, ", worst: {}", worst.id);
        if let Some(e) = worst.evidence.first() {
            let _ = write!(out, " ({})", show_evidence(e));
        }
    }
    out.push('.');
    out
}

/// With growth, the answer leads with the plan: the first step and its month, then how many.
fn plan_first(steps: &[RoadmapStep], forecast: &Forecast) -> String {
    let rate = format!("{} a month", numbers::percent(forecast.monthly_growth_pct));
    let Some(first) = steps.first() else {
        let recovering: Vec<String> = forecast
            .resources
            .iter()
            .filter_map(|r| {
                let recovery = r.recovery.as_ref()?;
                let (line, month) = r
                    .critical
                    .zip(recovery.months_below_critical)
                    .or(Some(r.warning).zip(recovery.months_below_warning))?;
                Some(format!(
                    "{} is back at {} {}",
                    r.name,
                    numbers::quantity(line),
                    numbers::in_month(month)
                ))
            })
            .collect();
        if !recovering.is_empty() {
            return format!(
                "No step needed: the load falls {} a month and {} without new capacity. ",
                numbers::percent(-forecast.monthly_growth_pct),
                recovering.join(", ")
            );
        }
        return format!(
            "No step needed within {} months at {rate}: nothing crosses a line. ",
            forecast.horizon_months
        );
    };
    let what = if first.adds.is_empty() {
        // The action's first clause: "put a connection pooler", "add more read replicas".
        let action = &first.action;
        let end = [" (", ",", ";", " and "]
            .iter()
            .filter_map(|stop| action.find(stop))
            .min()
            .unwrap_or(action.len());
        lowercase_first(action[..end].trim())
    } else {
        format!("add {}", step_name(first))
    };
    let start = if first.start_month < 0.05 {
        "Start now".to_string()
    } else {
        format!("Start by {}", numbers::month(first.start_month))
    };
    let mut out = format!(
        "{start}: {what}, done by {}",
        numbers::month(first.done_by_month)
    );
    if let Some(crossing) = first.pre_empts.first() {
        let _ = write!(
            out,
            ", {} {} {}",
            if first.late { "late:" } else { "before" },
            crossing.event,
            numbers::in_month(crossing.month)
        );
    }
    let _ = write!(
        out,
        ". Roadmap: {} step{} over {} months at {rate}. ",
        steps.len(),
        if steps.len() == 1 { "" } else { "s" },
        forecast.horizon_months
    );
    out
}

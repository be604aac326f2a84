//! Migration Plan: the migrations of the components added, phase by phase and week by week,
//! and, with growth, by when to start so that the change lands before the first break.

use std::fmt::Write;

use super::components::ComponentToAdd;
use crate::calculator::show;
use crate::forecast_growth::Forecast;
use crate::plan_capacity::CapacityPlan;
use crate::plan_migration::{MigrationKind, MigrationPlan, Phase};

fn weeks_label(start: u64, end: u64) -> String {
    if start == end {
        format!("Week {start}")
    } else {
        format!("Weeks {start}–{end}")
    }
}

/// The phase's steps spread over its weeks, in order: earlier weeks take the extra step when
/// they do not divide evenly; with fewer steps than weeks the last step runs to the end.
fn steps_by_week(phase: &Phase, offset: u64) -> Vec<(u64, u64, Vec<&str>)> {
    let weeks = phase.weeks.max(1) as usize;
    let steps: Vec<&str> = phase.steps.iter().map(String::as_str).collect();
    let first = offset + phase.start_week;
    let last = offset + phase.end_week;
    if steps.len() < weeks {
        return steps
            .iter()
            .enumerate()
            .map(|(i, step)| {
                let start = first + i as u64;
                let end = if i + 1 == steps.len() { last } else { start };
                (start, end, vec![*step])
            })
            .collect();
    }
    let (each, extra) = (steps.len() / weeks, steps.len() % weeks);
    let mut rest = steps.as_slice();
    (0..weeks)
        .map(|w| {
            let take = each + usize::from(w < extra);
            let (now, later) = rest.split_at(take.min(rest.len()));
            rest = later;
            let week = first + w as u64;
            (week, week, now.to_vec())
        })
        .collect()
}

pub(super) fn migration_section(
    migrations: &[MigrationPlan],
    components: &[ComponentToAdd],
    capacity: Option<&CapacityPlan>,
) -> String {
    let mut out = String::new();
    if migrations.is_empty() {
        if components.is_empty() {
            let _ = writeln!(
                out,
                "No migration: the architecture does not change at this point."
            );
        } else {
            let _ = writeln!(
                out,
                "No data migration: the components to add are deployed and switched on as described above."
            );
        }
        return out;
    }
    let total: u64 = migrations.iter().map(|m| m.total_weeks).sum();
    let parts: Vec<String> = migrations
        .iter()
        .map(|m| format!("{} ({} weeks)", m.kind.id(), m.total_weeks))
        .collect();
    let _ = writeln!(
        out,
        "{total} weeks in all, without downtime: {}. Every phase has its rollback, and until the last one backing out loses no data.",
        parts.join(", then ")
    );
    // The caller's own figures size the replicas; without them the plan says which to measure.
    if migrations
        .iter()
        .any(|m| m.kind == MigrationKind::AddReadReplicas)
    {
        let sizing = capacity.and_then(|c| {
            let count = c.read_replicas?;
            let working = c.workings.iter().find(|w| w.quantity == "read_replicas")?;
            Some(format!(
                "Replicas with your figures: {} = {} → {count}.",
                working.formula, working.substituted
            ))
        });
        let _ = writeln!(
            out,
            "\n{}",
            sizing.unwrap_or_else(|| "Replicas: give `capacity.reads_per_sec` and `capacity.replica_read_capacity_per_sec` (measured) to size them.".into())
        );
    }
    let mut number = 0;
    let mut offset = 0;
    for m in migrations {
        for p in &m.phases {
            number += 1;
            let _ = writeln!(
                out,
                "\n### Phase {number}: {} ({}, {})\n\nGoal: {}.\n",
                p.name,
                m.kind.title().to_lowercase(),
                weeks_label(offset + p.start_week, offset + p.end_week),
                p.exit_criteria
            );
            for (start, end, steps) in steps_by_week(p, offset) {
                let _ = writeln!(out, "- {}: {}", weeks_label(start, end), steps.join("; "));
            }
            let _ = writeln!(out, "\nRollback: {}.", p.rollback);
        }
        offset += m.total_weeks;
    }
    out
}

/// What breaks first as load grows, in which month, and when to start, as a sentence.
pub(super) fn first_break_sentence(f: &Forecast) -> Option<String> {
    let first = f.first_to_break.as_ref()?;
    let at = |m: Option<f64>| match m {
        Some(0.0) => "now".to_string(),
        Some(m) => format!("in month {m:.1}"),
        None => "never".to_string(),
    };
    let mut text = format!(
        "At {}% growth a month, `{}` breaks first: warning {}",
        show(f.monthly_growth_pct),
        first.name,
        at(first.months_to_warning)
    );
    if first.months_to_critical.is_some() {
        let _ = write!(text, ", critical {}", at(first.months_to_critical));
    }
    Some(text)
}

/// The Migration Plan's paragraph on growth: by when to start so that the change lands first.
pub(super) fn growth_for_migration(forecast: Option<&Forecast>) -> String {
    let Some(f) = forecast else {
        return String::new();
    };
    match (first_break_sentence(f), f.first_to_break.as_ref()) {
        (Some(sentence), Some(first)) => {
            let start = match first.order_by_month {
                Some(0.0) => "start now".to_string(),
                Some(m) => format!("start by month {m:.1}"),
                None => format!(
                    "start before month {:.1}, its warning month",
                    first.months_to_warning.unwrap_or(0.0)
                ),
            };
            format!(
                "\n**Timing (forecast_growth):** {sentence}. With a lead time of {} months, {start} so that the change is in place before it turns critical.\n",
                show(f.lead_time_months)
            )
        }
        _ => format!(
            "\n**Timing (forecast_growth):** at {}% growth a month nothing reaches a warning line within {} months.\n",
            show(f.monthly_growth_pct),
            f.horizon_months
        ),
    }
}

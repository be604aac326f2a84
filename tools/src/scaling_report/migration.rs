//! Migration Plan: the migrations of the components added, phase by phase and week by week,
//! and, with growth, the roadmap's first structural step in full and when the later ones start.

use std::fmt::Write;

use super::components::ComponentToAdd;
use super::roadmap::{self, Growth, step_name};
use crate::numbers;
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
    growth: Option<&Growth<'_>>,
) -> String {
    match growth {
        Some(g) => roadmap_migrations(migrations, capacity, g),
        None => phases_section(migrations, components, capacity),
    }
}

/// With growth: the roadmap's first structural step phase by phase, then when the later
/// migrations start.
fn roadmap_migrations(
    migrations: &[MigrationPlan],
    capacity: Option<&CapacityPlan>,
    growth: &Growth<'_>,
) -> String {
    let mut out = format!("{}\n\n", roadmap::timing(growth));
    let steps = &growth.roadmap.steps;
    let step_of = |kind| steps.iter().find(|s| s.migration == Some(kind));
    let Some((first, later)) = migrations.split_first() else {
        if steps.is_empty() {
            let _ = writeln!(
                out,
                "The architecture does not change within the horizon, since {}.",
                growth.no_step_reason()
            );
        } else {
            let _ = writeln!(
                out,
                "The roadmap's steps move no data: each is deployed in place or switched on (see the roadmap under Recommended Architecture)."
            );
        }
        return out;
    };
    if let Some(step) = step_of(first.kind) {
        let _ = writeln!(
            out,
            "The roadmap's first structural step, {}: start {}, done by {}{}; {}.\n",
            step_name(step),
            numbers::month(step.start_month),
            numbers::month(step.done_by_month),
            if step.late { " (late)" } else { "" },
            step.because
        );
    }
    out.push_str(&phases_section(std::slice::from_ref(first), &[], capacity));
    if !later.is_empty() {
        let _ = writeln!(out, "\n**Later in the roadmap:**\n");
        for m in later {
            let timing = step_of(m.kind).map_or(String::new(), |s| {
                format!(
                    ": start {}, done by {}",
                    numbers::month(s.start_month),
                    numbers::month(s.done_by_month)
                )
            });
            let _ = writeln!(
                out,
                "- {} ({} weeks, {} phases){timing}; `plan_migration` kind `{}` has its phases.",
                m.kind.title(),
                m.total_weeks,
                m.phases.len(),
                m.kind.id()
            );
        }
    }
    out
}

/// The migrations phase by phase and week by week, one after the other.
fn phases_section(
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
    // The data given in `requirements` sizes each copy.
    for m in migrations {
        if let Some(copy) = &m.copy_time {
            let _ = writeln!(
                out,
                "\n{}: at most {} GB to copy (the data size of `requirements`) at {} GB/h takes up to {}, so its `{}` phase is planned at {} week{}.",
                m.kind.title(),
                numbers::quantity(copy.data_to_copy_gb),
                numbers::quantity(copy.copy_rate_gb_per_hour),
                numbers::hours(copy.copy_hours),
                copy.phase,
                copy.phase_weeks,
                if copy.phase_weeks == 1 { "" } else { "s" }
            );
        }
    }
    // The caller's own figures size the replicas; without them the plan says which to measure.
    if migrations
        .iter()
        .any(|m| m.kind == MigrationKind::AddReadReplicas)
    {
        let sizing = capacity.and_then(|c| {
            let count = c.read_replicas?;
            let working = c.workings.iter().find(|w| w.quantity == "read_replicas")?;
            Some(format!(
                "Replicas with your figures: `{} = {}` → {count}.",
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

//! What gathers the rooms into an answer: the first thing to break (a resource or a model's
//! line, whichever comes first), the summary and the heading that lead with it, the
//! assumptions, and the notes that close the markdown.

use std::fmt::Write;

use super::Forecast;
use super::cache::{self, CacheForecast};
use super::growth::Growth;
use super::latency::{self, LatencyForecast};
use super::queueing;
use super::resources::{FirstToBreak, ResourceForecast, month_order};
use crate::numbers;

/// The first resource, or the latency, to reach its warning line.
pub(super) fn first_to_break(
    resources: &[ResourceForecast],
    latency: Option<&LatencyForecast>,
) -> Option<FirstToBreak> {
    resources
        .iter()
        .filter(|r| r.months_to_warning.is_some())
        .map(|r| FirstToBreak {
            name: r.name.clone(),
            months_to_warning: r.months_to_warning,
            months_to_critical: r.months_to_critical,
            order_by_month: r.order_by_month,
        })
        .chain(
            latency
                .iter()
                .filter(|l| l.months_to_warning.is_some())
                .map(|l| FirstToBreak {
                    name: "p95_latency_ms".into(),
                    months_to_warning: l.months_to_warning,
                    months_to_critical: l.months_to_critical,
                    order_by_month: l.order_by_month,
                }),
        )
        .min_by(|a, b| {
            month_order(a.months_to_warning).total_cmp(&month_order(b.months_to_warning))
        })
}

/// What the forecast assumes: growth first, then each model followed, then the lead time.
pub(super) fn assumptions(
    growth: &Growth,
    cache: Option<&CacheForecast>,
    scalability_notes: Vec<String>,
    latency_followed: bool,
    queueing_followed: bool,
) -> Vec<String> {
    let mut assumptions = vec![growth.assumption()];
    assumptions.extend(cache.map(cache::assumption));
    assumptions.extend(scalability_notes);
    if latency_followed {
        assumptions.push(latency::ASSUMPTION.into());
    }
    if queueing_followed {
        assumptions.push(queueing::ASSUMPTION.into());
    }
    assumptions.push(growth.lead_time_assumption());
    assumptions
}

/// The first line that a model section (latency, queueing, cache, scalability) crosses within
/// the horizon, when it comes before the first resource's warning (`first_to_break`): its
/// month and what crosses. The answer leads with whatever goes first.
fn first_model_crossing(f: &Forecast) -> Option<(f64, String)> {
    let crossings = [
        f.latency.as_ref().and_then(|l| {
            Some((
                l.months_to_warning?,
                format!("p95 latency reaches {} ms", numbers::quantity(l.warning_ms)),
            ))
        }),
        f.queueing.as_ref().and_then(|q| {
            Some((
                q.months_to_target?,
                format!(
                    "queue utilization passes the {}% target",
                    numbers::quantity(q.target_utilization_pct)
                ),
            ))
        }),
        f.cache.as_ref().and_then(|c| {
            Some((
                c.months_below_threshold?,
                format!(
                    "cache hit rate falls below {}",
                    numbers::percent(c.threshold_pct)
                ),
            ))
        }),
        f.scalability.as_ref().and_then(|s| {
            Some((
                s.months_to_ceiling?,
                "load passes the peak throughput of any node count".to_string(),
            ))
        }),
    ];
    let resource = f
        .first_to_break
        .as_ref()
        .and_then(|first| first.months_to_warning);
    crossings
        .into_iter()
        .flatten()
        .filter(|(month, _)| *month <= f64::from(f.horizon_months))
        .min_by(|a, b| a.0.total_cmp(&b.0))
        .filter(|(month, _)| resource.is_none_or(|m| *month < m))
}

fn plural(count: usize, one: &str, many: &str) -> String {
    format!("{count} {}", if count == 1 { one } else { many })
}

/// The first resource to break as a clause: its name, its months, when to act.
fn first_resource_clause(first: &FirstToBreak) -> String {
    let mut s = format!(
        "{} (warning {}",
        first.name,
        numbers::month_or_never(first.months_to_warning)
    );
    if let Some(c) = first.months_to_critical {
        let _ = write!(s, ", critical {}", numbers::month(c));
    }
    if let Some(o) = first.order_by_month {
        let _ = write!(s, "; act by {}", numbers::month(o));
    }
    s.push(')');
    s
}

/// At most 400 characters, the answer first: whatever crosses a line first, resource or model.
pub(super) fn summarize(f: &Forecast) -> String {
    let resource = f.first_to_break.as_ref().map(first_resource_clause);
    let mut text = match (first_model_crossing(f), resource) {
        (Some((month, what)), Some(r)) => {
            format!(
                "First to break: {what} {}; then {r}. ",
                numbers::in_month(month)
            )
        }
        (Some((month, what)), None) => {
            format!("First to break: {what} {}. ", numbers::in_month(month))
        }
        (None, Some(r)) => format!("First to break: {r}. "),
        (None, None) => "Nothing reaches a warning line at this growth. ".into(),
    };
    // A summary says "9.59%", the field keeps 9.587269….
    let _ = write!(
        text,
        "Load grows {}/month",
        numbers::percent(f.monthly_growth_pct)
    );
    if let Some(d) = f.doubling_months {
        let _ = write!(text, " (doubles every {} months)", numbers::quantity(d));
    }
    if let Some(c) = &f.cache {
        let _ = write!(
            text,
            "; cache hit rate {} now, {} in month {}",
            numbers::percent(c.hit_rate_pct),
            numbers::percent(c.hit_rate_at_horizon_pct),
            f.horizon_months
        );
    }
    if !f.resources.is_empty() {
        let crossing = f
            .resources
            .iter()
            .filter(|r| {
                r.months_to_warning
                    .is_some_and(|m| m <= f64::from(f.horizon_months))
            })
            .count();
        let _ = write!(
            text,
            "; {crossing} of {} resources warn within {}",
            f.resources.len(),
            plural(f.horizon_months as usize, "month", "months")
        );
    }
    let _ = write!(
        text,
        "; {} on the timeline.",
        plural(f.timeline.len(), "event", "events")
    );
    if text.len() > 400 {
        let mut cut = 397;
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        text.truncate(cut);
        text.push_str("...");
    }
    text
}

/// The heading: what breaks first and when, and by when to order capacity.
pub(super) fn heading_to_markdown(f: &Forecast, out: &mut String) {
    let model = first_model_crossing(f);
    if let Some((month, what)) = &model {
        let _ = writeln!(out, "## Forecast: {what} {}", numbers::in_month(*month));
    }
    match &f.first_to_break {
        Some(first) => {
            // The heading, or the line under a model's heading that crossed earlier.
            let _ = if model.is_none() {
                write!(out, "## Forecast: `{}` breaks first, warning ", first.name)
            } else {
                write!(out, "\nThen `{}`: warning ", first.name)
            };
            out.push_str(&numbers::month_or_never(first.months_to_warning));
            if first.months_to_critical.is_some() {
                let _ = write!(
                    out,
                    ", critical {}",
                    numbers::month_or_never(first.months_to_critical)
                );
            }
            out.push_str(if model.is_none() { "\n" } else { ".\n" });
            if let Some(o) = first.order_by_month {
                let _ = writeln!(
                    out,
                    "\n**Order capacity by {}** (lead time {} months).",
                    numbers::month(o),
                    numbers::quantity(f.lead_time_months)
                );
            }
        }
        None if model.is_none() => {
            let _ = writeln!(out, "## Forecast: nothing reaches a warning line");
        }
        None => {}
    }
}

/// What closes the answer before its sources: the assumptions, the workings, the defaults
/// applied, the inputs that would add more, and any list cut.
pub(super) fn notes_to_markdown(f: &Forecast, out: &mut String) {
    if !f.assumptions.is_empty() {
        let _ = writeln!(out, "\n### Assumptions\n");
        for a in &f.assumptions {
            let _ = writeln!(out, "- {a}");
        }
    }
    if !f.workings.is_empty() {
        let _ = writeln!(out, "\n### Workings\n");
        for w in &f.workings {
            let _ = writeln!(
                out,
                "- {}: `{}` = {} = **{}**",
                w.quantity,
                w.formula,
                w.substituted,
                w.value.show()
            );
        }
    }
    if !f.defaults_applied.is_empty() {
        let list: Vec<String> = f
            .defaults_applied
            .iter()
            .map(|d| format!("{} {}", d.parameter, d.value.show()))
            .collect();
        let _ = writeln!(out, "\nDefaults applied: {}.", list.join(", "));
    }
    if !f.missing_inputs.is_empty() {
        let list: Vec<String> = f
            .missing_inputs
            .iter()
            .map(|m| format!("`{}` (for {})", m.field, m.enables))
            .collect();
        let _ = writeln!(out, "\nWould add more: {}.", list.join(", "));
    }
    for t in &f.truncated {
        let _ = writeln!(
            out,
            "\n{} cut to {} of {}: {}.",
            t.field, t.shown, t.total, t.how_to_get_more
        );
    }
}

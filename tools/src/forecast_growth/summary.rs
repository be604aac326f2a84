//! What gathers the rooms into an answer: the first thing to break (a resource or a model's
//! line, whichever comes first), the summary and the heading that lead with it, the
//! assumptions, and the notes that close the markdown.

use std::fmt::Write;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::markdown::lowercase_first;
use crate::numbers;

use super::Forecast;
use super::book::Book;
use super::cache::{self, CacheForecast};
use super::growth::Growth;
use super::latency::{self, LatencyForecast};
use super::queueing::{self, QueueingForecast};
use super::resources::{FirstToBreak, Recovery, ResourceForecast, Status, month_order};
use super::tables::GrowthTables;

/// When to order capacity: the earliest order-by month of every governing crossing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct OrderBy {
    /// Months from now; 0 = now.
    pub month: f64,
    /// What it is for: a resource's name, `p95_latency_ms` or `queueing`.
    pub subject: String,
}

/// With both queueing models followed, marks the one whose saturation month does not govern
/// (`growth-models#which-queueing-model-governs`: the M/M/c of the servers given).
pub(super) fn govern_saturation(
    latency: Option<&mut LatencyForecast>,
    queueing: Option<&mut QueueingForecast>,
    tables: &GrowthTables,
    book: &mut Book<'_>,
) {
    let (Some(latency), Some(queueing), Some(rule)) =
        (latency, queueing, tables.saturation_governs.as_ref())
    else {
        return;
    };
    if rule.over == "latency" {
        latency.saturation_governed_by = Some(rule.governs.clone());
    } else {
        queueing.saturation_governed_by = Some(rule.governs.clone());
    }
    book.cite(rule.uri.clone());
}

/// The earliest order-by month among the resources, the p95's critical line and the queue's
/// saturation when it governs: the answer's "order capacity by".
pub(super) fn order_capacity_by(f: &Forecast) -> Option<OrderBy> {
    let resources = f
        .resources
        .iter()
        .filter_map(|r| Some((r.order_by_month?, r.name.clone())));
    let latency = f
        .latency
        .iter()
        .filter_map(|l| Some((l.order_by_month?, "p95_latency_ms".to_string())));
    let queue = f
        .queueing
        .iter()
        .filter(|q| q.saturation_governed_by.is_none())
        .filter_map(|q| Some((q.order_by_month?, "queueing".to_string())));
    resources
        .chain(latency)
        .chain(queue)
        .min_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(month, subject)| OrderBy { month, subject })
}

/// The first resource, or the latency, to reach its warning line; a resource that recovers
/// as its load falls is not breaking.
pub(super) fn first_to_break(
    resources: &[ResourceForecast],
    latency: Option<&LatencyForecast>,
) -> Option<FirstToBreak> {
    resources
        .iter()
        .filter(|r| r.months_to_warning.is_some() && r.recovery.is_none())
        .map(|r| FirstToBreak {
            name: r.name.clone(),
            months_to_warning: r.months_to_warning,
            months_to_critical: r.months_to_critical,
            order_by_month: r.order_by_month,
        })
        .chain(
            latency
                .iter()
                .filter(|l| l.months_to_warning.is_some() && l.recovery.is_none())
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
        // A p95 that recovers as load falls leads as a recovery, not as a crossing.
        f.latency
            .as_ref()
            .filter(|l| l.recovery.is_none())
            .and_then(|l| {
                Some((
                    l.months_to_warning?,
                    format!("p95 latency reaches {} ms", numbers::quantity(l.warning_ms)),
                ))
            }),
        f.queueing.as_ref().and_then(|q| {
            Some((
                q.months_to_target?,
                format!(
                    "queue utilization passes the {} planning target",
                    numbers::percent(q.target_utilization_pct)
                ),
            ))
        }),
        f.cache.as_ref().and_then(|c| {
            let month = c.months_below_threshold?;
            Some((month, cache::below_line_words(c, month)))
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

/// "critical now", or, for a value exactly on a strict critical line that it is not yet past
/// (`> 85` at 85), "at its critical line now".
fn critical_words(f: &Forecast, name: &str, months: f64) -> String {
    let on_the_line = months == 0.0
        && f.resources
            .iter()
            .any(|r| r.name == name && r.status != Status::CriticalNow);
    if on_the_line {
        "at its critical line now, past it with any growth".into()
    } else {
        format!("critical {}", numbers::month(months))
    }
}

/// The first resource to break as a clause: its name, its months, when to act.
fn first_resource_clause(f: &Forecast, first: &FirstToBreak) -> String {
    let mut s = format!(
        "{} (warning {}",
        first.name,
        numbers::month_or_never(first.months_to_warning)
    );
    if let Some(c) = first.months_to_critical {
        let _ = write!(s, ", {}", critical_words(f, &first.name, c));
    }
    if let Some(o) = first.order_by_month {
        let _ = write!(s, "; act by {}", numbers::month(o));
    }
    s.push(')');
    s
}

/// A quantity past a line while its load falls, as the answer names it: a resource or the
/// p95.
struct Recovering<'a> {
    name: &'a str,
    current: f64,
    warning: f64,
    critical: Option<f64>,
    falling_pct: f64,
    recovery: &'a Recovery,
}

/// The resources, then the p95, that come back below their lines as their load falls.
fn recovering(f: &Forecast) -> Vec<Recovering<'_>> {
    let resources = f.resources.iter().filter_map(|r| {
        Some(Recovering {
            name: &r.name,
            current: r.current,
            warning: r.warning,
            critical: r.critical,
            falling_pct: -r.monthly_growth_pct,
            recovery: r.recovery.as_ref()?,
        })
    });
    let latency = f.latency.iter().filter_map(|l| {
        Some(Recovering {
            name: "p95_latency_ms",
            current: l.p95_latency_ms,
            warning: l.warning_ms,
            critical: l.critical_ms,
            falling_pct: -f.monthly_growth_pct,
            recovery: l.recovery.as_ref()?,
        })
    });
    resources.chain(latency).collect()
}

/// What comes back below its lines as its load falls, as a sentence that leads the answer:
/// when each is back, that nothing is ordered for it, and what to do meanwhile.
fn recovery_sentence(f: &Forecast) -> Option<String> {
    let recovering = recovering(f);
    let first = recovering.first()?;
    let clauses: Vec<String> = recovering
        .iter()
        .map(|r| {
            let mut back = Vec::new();
            if let (Some(c), Some(m)) = (r.critical, r.recovery.months_below_critical) {
                back.push(format!(
                    "at {} {}",
                    numbers::quantity(c),
                    numbers::in_month(m)
                ));
            }
            if let Some(m) = r.recovery.months_below_warning {
                back.push(format!(
                    "at {} {}",
                    numbers::quantity(r.warning),
                    numbers::in_month(m)
                ));
            }
            let mut back = if back.is_empty() {
                String::new()
            } else {
                format!("back {}", back.join(", "))
            };
            // A p95 whose service time alone is past its warning line never gets back to it.
            if r.recovery.months_below_warning.is_none() {
                if !back.is_empty() {
                    back.push_str("; ");
                }
                let _ = write!(
                    back,
                    "never at {} by less load alone",
                    numbers::quantity(r.warning)
                );
            }
            format!(
                "{} ({} now) recovers, falling {}/month: {back}",
                r.name,
                numbers::quantity(r.current),
                numbers::percent(r.falling_pct),
            )
        })
        .collect();
    let within = recovering.iter().all(|r| r.recovery.before_lead_time);
    let names: Vec<&str> = recovering.iter().map(|r| r.name).collect();
    let mut text = format!(
        "{}. No capacity to order for {}{}",
        clauses.join("; "),
        names.join(" or "),
        if within {
            format!(
                " (it is back before capacity with a {}-month lead time could arrive)",
                numbers::quantity(f.lead_time_months)
            )
        } else {
            " (the load is falling)".into()
        }
    );
    if let Some(fix) = &first.recovery.meanwhile {
        let _ = write!(text, "; meanwhile: {}", lowercase_first(fix));
    }
    text.push_str(". ");
    Some(text)
}

/// At most 400 characters, the answer first: a recovery when load falls, else whatever
/// crosses a line first, resource or model.
pub(super) fn summarize(f: &Forecast) -> String {
    let resource = f
        .first_to_break
        .as_ref()
        .map(|first| first_resource_clause(f, first));
    let recovery = recovery_sentence(f);
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
        (None, None) if recovery.is_some() => String::new(),
        (None, None) => "Nothing reaches a warning line at this growth. ".into(),
    };
    if let Some(recovery) = recovery {
        text.insert_str(0, &recovery);
    }
    if let Some(order) = &f.order_capacity_by {
        let first = f.first_to_break.as_ref();
        if first.is_none_or(|first| first.name != order.subject) {
            let _ = write!(
                text,
                "Order capacity by {} ({}). ",
                numbers::month(order.month),
                order.subject
            );
        }
    }
    // Three significant digits: a summary says "9.59%", the field keeps 9.587269….
    let (verb, pct) = if f.monthly_growth_pct < 0.0 {
        ("falls", -f.monthly_growth_pct)
    } else {
        ("grows", f.monthly_growth_pct)
    };
    let _ = write!(text, "Load {verb} {}/month", numbers::percent(pct));
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

/// The heading: what recovers as load falls, what breaks first and when, and by when to
/// order capacity (the earliest governing crossing's order-by month).
pub(super) fn heading_to_markdown(f: &Forecast, out: &mut String) {
    let recovery = recovery_sentence(f);
    if let Some(text) = &recovery {
        let names: Vec<String> = recovering(f)
            .iter()
            .map(|r| format!("`{}`", r.name))
            .collect();
        let _ = writeln!(
            out,
            "## Forecast: {} recovers with no new capacity\n\n{}",
            names.join(", "),
            text.trim_end()
        );
    }
    let model = first_model_crossing(f);
    if let Some((month, what)) = &model {
        let _ = writeln!(out, "## Forecast: {what} {}", numbers::in_month(*month));
    }
    match &f.first_to_break {
        Some(first) => {
            // The heading, or the line under a model's heading that crossed earlier.
            let _ = if model.is_none() && recovery.is_none() {
                write!(out, "## Forecast: `{}` breaks first, warning ", first.name)
            } else {
                write!(out, "\nThen `{}`: warning ", first.name)
            };
            out.push_str(&numbers::month_or_never(first.months_to_warning));
            if let Some(c) = first.months_to_critical {
                let _ = write!(out, ", {}", critical_words(f, &first.name, c));
            }
            out.push_str(if model.is_none() && recovery.is_none() {
                "\n"
            } else {
                ".\n"
            });
        }
        None if model.is_none() && recovery.is_none() => {
            let _ = writeln!(out, "## Forecast: nothing reaches a warning line");
        }
        None => {}
    }
    if let Some(order) = &f.order_capacity_by {
        let _ = writeln!(
            out,
            "\n**Order capacity by {}** (for `{}`; lead time {} months).",
            numbers::month(order.month),
            order.subject,
            numbers::quantity(f.lead_time_months)
        );
    }
}

/// Which of two queueing models governs saturation, when both are followed.
pub(super) fn governing_to_markdown(f: &Forecast, out: &mut String) {
    let (Some(l), Some(q)) = (&f.latency, &f.queueing) else {
        return;
    };
    let (governing, other) = if l.saturation_governed_by.is_some() {
        (
            format!("the M/M/c queue of {} servers", q.servers),
            "the M/M/1 of the p95",
        )
    } else if q.saturation_governed_by.is_some() {
        ("the M/M/1 of the p95".to_string(), "the M/M/c queue")
    } else {
        return;
    };
    let _ = writeln!(
        out,
        "\n**Which model governs saturation:** {governing} (M/M/c saturates {}, M/M/1 {}); {other} is shown but does not govern.",
        numbers::month_or_never(q.months_to_saturation),
        numbers::month_or_never(l.months_to_saturation)
    );
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

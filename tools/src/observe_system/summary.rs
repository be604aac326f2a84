//! The answer's first lines: what was read from which source, the load's growth, the first
//! few figures, and what the sources cannot give. One sentence each, in that order; a
//! sentence with nothing to say is left out.

use super::{LOAD, ObservedSystem, Trend};
use crate::numbers;

/// How many figures the summary names.
const SUMMARY_FIGURES: usize = 4;

/// "Read 9 figures (prometheus ok; postgres not_configured; redis not_configured). Load grows
/// 4.1%/month (95% CI 3.2 to 5.0, 90 days). db_cpu_pct 62, …"
pub(super) fn summary_of(system: &ObservedSystem) -> String {
    let mut text = what_was_read(system);
    if let Some(load) = system.trends.iter().find(|t| t.name == LOAD) {
        text.push_str(&load_growth(load));
    }
    text.push_str(&first_figures(system));
    text.push_str(&not_readable(system));
    text
}

/// "Read 9 figures (prometheus ok; …)." or "Nothing read (…)."
fn what_was_read(system: &ObservedSystem) -> String {
    let statuses: Vec<String> = system
        .connections
        .iter()
        .map(|c| format!("{} {}", c.source.as_str(), c.status.as_str()))
        .collect();
    if system.metrics.is_empty() {
        format!("Nothing read ({}).", statuses.join("; "))
    } else {
        format!(
            "Read {} figure{} ({}).",
            system.metrics.len(),
            if system.metrics.len() == 1 { "" } else { "s" },
            statuses.join("; ")
        )
    }
}

/// The load's rate with its interval, or why no rate is passed on.
fn load_growth(load: &Trend) -> String {
    let rate = numbers::quantity(load.monthly_growth_pct);
    let low = numbers::quantity(load.ci95_pct[0]);
    let high = numbers::quantity(load.ci95_pct[1]);
    if load.significant {
        format!(
            " Load grows {rate}%/month (95% CI {low} to {high}, {} daily peaks).",
            load.points
        )
    } else {
        format!(
            " Load growth not significant ({rate}%/month, 95% CI {low} to {high}, {} daily \
             peaks): no rate passed on.",
            load.points
        )
    }
}

/// The first few figures; `arguments` holds them all.
fn first_figures(system: &ObservedSystem) -> String {
    let figures: Vec<String> = system
        .arguments
        .diagnose_bottleneck
        .iter()
        .take(SUMMARY_FIGURES)
        .map(|(name, value)| match value.as_f64() {
            Some(number) => format!("{name} {}", numbers::quantity(number)),
            None => format!("{name} {value}"),
        })
        .collect();
    if figures.is_empty() {
        return String::new();
    }
    let more = system.arguments.diagnose_bottleneck.len() - figures.len();
    format!(" {}{}.", figures.join(", "), and_more(more))
}

/// What the sources cannot give, by argument name, once each.
fn not_readable(system: &ObservedSystem) -> String {
    let mut unreadable: Vec<&str> = Vec::new();
    for m in &system.missing_inputs {
        let name = m.field.rsplit('.').next().unwrap_or(&m.field);
        if !unreadable.contains(&name) {
            unreadable.push(name);
        }
    }
    if unreadable.is_empty() {
        return String::new();
    }
    let shown = &unreadable[..unreadable.len().min(SUMMARY_FIGURES)];
    format!(
        " Not readable from these sources: {}{} (missing_inputs says where to get them).",
        shown.join(", "),
        and_more(unreadable.len() - shown.len())
    )
}

fn and_more(more: usize) -> String {
    if more > 0 {
        format!(" and {more} more")
    } else {
        String::new()
    }
}

//! The answer's first lines: what was read from which source, the load's growth, the first
//! few figures, and what the sources cannot give.

use std::fmt::Write;

use super::{LOAD, ObservedSystem};
use crate::args::format_number;

/// How many figures the summary names.
const SUMMARY_FIGURES: usize = 4;

/// "Read 9 figures (prometheus ok; postgres not_configured; redis not_configured). Load grows
/// 4.1%/month (95% CI 3.2 to 5.0, 90 days). db_cpu_pct 62, …"
pub(super) fn summary_of(system: &ObservedSystem) -> String {
    let statuses: Vec<String> = system
        .connections
        .iter()
        .map(|c| format!("{} {}", c.source.as_str(), c.status.as_str()))
        .collect();
    let mut text = if system.metrics.is_empty() {
        format!("Nothing read ({}).", statuses.join("; "))
    } else {
        format!(
            "Read {} figure{} ({}).",
            system.metrics.len(),
            if system.metrics.len() == 1 { "" } else { "s" },
            statuses.join("; ")
        )
    };
    match system.trends.iter().find(|t| t.name == LOAD) {
        Some(load) if load.significant => {
            let _ = write!(
                text,
                " Load grows {}%/month (95% CI {} to {}, {} daily peaks).",
                format_number(load.monthly_growth_pct),
                format_number(load.ci95_pct[0]),
                format_number(load.ci95_pct[1]),
                load.points
            );
        }
        Some(load) => {
            let _ = write!(
                text,
                " Load growth not significant ({}%/month, 95% CI {} to {}, {} daily peaks): no \
                 rate passed on.",
                format_number(load.monthly_growth_pct),
                format_number(load.ci95_pct[0]),
                format_number(load.ci95_pct[1]),
                load.points
            );
        }
        None => {}
    }
    // The first few figures; `arguments` holds them all.
    let figures: Vec<String> = system
        .arguments
        .diagnose_bottleneck
        .iter()
        .take(SUMMARY_FIGURES)
        .map(|(name, value)| format!("{name} {value}"))
        .collect();
    if !figures.is_empty() {
        let more = system.arguments.diagnose_bottleneck.len() - figures.len();
        let _ = write!(
            text,
            " {}{}.",
            figures.join(", "),
            if more > 0 {
                format!(" and {more} more")
            } else {
                String::new()
            }
        );
    }
    // What the sources cannot give, by argument name, once each.
    let mut unreadable: Vec<&str> = Vec::new();
    for m in &system.missing_inputs {
        let name = m.field.rsplit('.').next().unwrap_or(&m.field);
        if !unreadable.contains(&name) {
            unreadable.push(name);
        }
    }
    if !unreadable.is_empty() {
        let shown = &unreadable[..unreadable.len().min(SUMMARY_FIGURES)];
        let more = unreadable.len() - shown.len();
        let _ = write!(
            text,
            " Not readable from these sources: {}{} (missing_inputs says where to get them).",
            shown.join(", "),
            if more > 0 {
                format!(" and {more} more")
            } else {
                String::new()
            }
        );
    }
    text
}

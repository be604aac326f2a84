//! The answer as markdown: the connections, today's figures, the trends, the arguments to
//! pass on, what no source can give, and the sources.

use std::fmt::Write;

use super::ObservedSystem;
use crate::Tool;
use crate::diagnose_bottleneck::DiagnoseBottleneck;
use crate::forecast_growth::ForecastGrowth;
use crate::markdown::sources;
use crate::numbers;

/// The answer as markdown: the answer, the figures and trends, what to pass on, the sources.
pub fn to_markdown(system: &ObservedSystem) -> String {
    let mut out = String::from("## The live system\n\n");
    out.push_str(&system.summary);
    connections(&mut out, system);
    todays_figures(&mut out, system);
    growth(&mut out, system);
    arguments(&mut out, system);
    not_readable(&mut out, system);
    sources(&mut out, &system.sources);
    out
}

/// Each source's status, configured or not.
fn connections(out: &mut String, system: &ObservedSystem) {
    out.push_str("\n\n| source | url | status | detail |\n|---|---|---|---|\n");
    for c in &system.connections {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} |",
            c.source.as_str(),
            if c.url.is_empty() { "-" } else { &c.url },
            c.status.as_str(),
            c.detail.replace('|', "/")
        );
    }
}

/// Every figure read, with the query that gave it.
fn todays_figures(out: &mut String, system: &ObservedSystem) {
    if system.metrics.is_empty() {
        return;
    }
    out.push_str("\n### Today's figures (the peak of the last 24 hours)\n\n| metric | value | unit | source | at | query |\n|---|---|---|---|---|---|\n");
    for m in &system.metrics {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | `{}` |",
            m.name,
            numbers::quantity(m.value),
            m.unit,
            m.source.as_str(),
            m.at,
            m.query.replace('|', "\\|").replace('`', "'")
        );
    }
}

/// Each trend with its interval, and whether its rate is passed on.
fn growth(out: &mut String, system: &ObservedSystem) {
    if system.trends.is_empty() {
        return;
    }
    out.push_str("\n### Growth (least squares of ln daily peak on time)\n\n| metric | %/month | 95% CI | R² | days | significant |\n|---|---|---|---|---|---|\n");
    for t in &system.trends {
        let _ = writeln!(
            out,
            "| {} | {} | {} to {} | {} | {} of {} | {} |",
            t.name,
            numbers::quantity(t.monthly_growth_pct),
            numbers::quantity(t.ci95_pct[0]),
            numbers::quantity(t.ci95_pct[1]),
            numbers::quantity(t.r_squared),
            t.points,
            t.window_days,
            if t.significant {
                "yes"
            } else {
                "no (not passed on)"
            }
        );
    }
}

/// The arguments to pass on, one line per tool that has any.
fn arguments(out: &mut String, system: &ObservedSystem) {
    for (tool, arguments) in [
        (
            DiagnoseBottleneck::NAME,
            &system.arguments.diagnose_bottleneck,
        ),
        (ForecastGrowth::NAME, &system.arguments.forecast_growth),
    ] {
        if !arguments.is_empty() {
            let _ = writeln!(
                out,
                "\nFor `{tool}`: `{}`",
                serde_json::to_string(arguments).unwrap_or_default()
            );
        }
    }
}

/// What no configured source can give, and where to get it.
fn not_readable(out: &mut String, system: &ObservedSystem) {
    if system.missing_inputs.is_empty() {
        return;
    }
    out.push_str(
        "\n### Not readable from the sources configured\n\n| argument | enables | where to get it |\n|---|---|---|\n",
    );
    for m in &system.missing_inputs {
        let _ = writeln!(
            out,
            "| {} | {} | {} |",
            m.field,
            m.enables.replace('|', "/"),
            m.where_to_get_it
                .as_deref()
                .unwrap_or_default()
                .replace('|', "/")
        );
    }
}

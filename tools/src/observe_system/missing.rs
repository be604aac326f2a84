//! What no configured source can give (and none gave), named as the argument of the tool it
//! would have filled, `diagnose_bottleneck.db_cpu_pct`: the arguments this tool prepares are
//! those tools' own (its selector and window add no figure, and a source not configured is the
//! operator's to add, which its connection says).

use serde_json::Value;

use super::{LiveObservation, ObservationSections, Unobservable};
use crate::diagnose_bottleneck::DiagnoseBottleneck;
use crate::forecast_growth::ForecastGrowth;
use crate::thresholds::LOAD_DRIVEN;
use crate::{Advisor, MissingInput, Tool};

/// The cannot-give rows of the figures no source read, one per field (the first source's).
pub(super) fn unobserved(live: &LiveObservation) -> Vec<Unobservable> {
    let read: Vec<&str> = live.metrics.iter().map(|m| m.name.as_str()).collect();
    let mut unobserved: Vec<Unobservable> = Vec::new();
    for row in &live.unobservable {
        if !read.contains(&row.field.as_str()) && !unobserved.iter().any(|u| u.field == row.field) {
            unobserved.push(row.clone());
        }
    }
    unobserved
}

/// Each unobserved figure as a missing input of every argument it would fill, and the
/// cannot-give tables of the rows listed, to cite.
pub(super) fn missing_inputs(
    advisor: &Advisor,
    sections: Option<&ObservationSections>,
    unobserved: &[Unobservable],
) -> (Vec<MissingInput>, Vec<String>) {
    let mut missing_inputs = Vec::new();
    let mut tables = Vec::new();
    for row in unobserved {
        let slots = arguments_filled_by(advisor, sections, &row.field);
        if slots.is_empty() {
            continue;
        }
        for field in slots {
            missing_inputs.push(MissingInput {
                field,
                enables: row.enables.clone(),
                where_to_get_it: Some(format!(
                    "{} cannot give it: {}",
                    row.source.as_str(),
                    row.where_to_get_it
                )),
            });
        }
        tables.push(row.uri.clone());
    }
    (missing_inputs, tables)
}

/// The arguments a figure would fill: `diagnose_bottleneck`'s own, and `forecast_growth`'s
/// as a load-driven metric or, failing that, as a resource with a line to forecast against.
fn arguments_filled_by(
    advisor: &Advisor,
    sections: Option<&ObservationSections>,
    field: &str,
) -> Vec<String> {
    let takes = |tool: &str| {
        advisor
            .tool(tool)
            .and_then(|t| t.validation_schema.get("properties"))
            .and_then(Value::as_object)
            .is_some_and(|properties| properties.contains_key(field))
    };
    let is_resource = sections.is_some_and(|s| s.limits.iter().any(|l| l.resource == field));
    let mut slots = Vec::new();
    if takes(DiagnoseBottleneck::NAME) {
        slots.push(format!("{}.{field}", DiagnoseBottleneck::NAME));
    }
    if LOAD_DRIVEN.contains(&field) && takes(ForecastGrowth::NAME) {
        slots.push(format!("{}.{field}", ForecastGrowth::NAME));
    } else if is_resource {
        slots.push(format!("{}.resources.{field}", ForecastGrowth::NAME));
    }
    slots
}

//! `observe` on the tools that take metrics (contract §9): the arguments a caller left out are
//! filled from what `observe_system` composed, the caller's own arguments win, and the result
//! says which figures were read and from where (`observed`), which sources failed
//! (`connections`) and, for a forecast, the history its growth rate was fitted on. This sits
//! between the arguments and a tool's `run`, so the tools themselves stay as they were: a
//! filled argument is an argument like any other.

use std::fmt::Write;

use serde_json::{Map, Value};

use crate::ArgError;
pub use crate::Fill;
use crate::numbers;
use crate::observe_system::{
    ConnectionStatus, FittedHistory, ObserveRequest, ObservedField, ObservedSystem,
    SourceConnection, Unobservable,
};

/// The argument that asks for it.
pub const OBSERVE: &str = "observe";

/// How a resource's provenance names it: `resources.disk_used_pct`.
const RESOURCES_PREFIX: &str = "resources.";

/// The growth forms of `forecast_growth`: any one given means the caller chose the growth.
const GROWTH_FORMS: [&str; 3] = ["monthly_growth_pct", "growth_multiple", "over_months"];

/// What `observe` asks for: none for absent or `false`, everything for `true`, a selector and
/// window for an object. Anything else is refused naming the field.
pub(crate) fn request_of(value: Option<&Value>) -> Result<Option<ObserveRequest>, ArgError> {
    let Some(value) = value else {
        return Ok(None);
    };
    match value {
        Value::Bool(false) => Ok(None),
        Value::Bool(true) => Ok(Some(ObserveRequest::everything())),
        Value::Object(fields) => {
            if let Some(unknown) = fields
                .keys()
                .find(|k| !["selector", "window_days"].contains(&k.as_str()))
            {
                return Err(ArgError::new(
                    &format!("{OBSERVE}.{unknown}"),
                    "an unknown field",
                    "`selector` ({label: value}) and `window_days` (7 to 365)",
                ));
            }
            let selector = match fields.get("selector") {
                None => Default::default(),
                Some(Value::Object(labels)) => {
                    let mut selector = std::collections::BTreeMap::new();
                    for (label, value) in labels {
                        let Some(text) = value.as_str() else {
                            return Err(ArgError::value(
                                &format!("{OBSERVE}.selector.{label}"),
                                value,
                                "a string: the label value, matched exactly",
                            ));
                        };
                        selector.insert(label.clone(), text.to_string());
                    }
                    selector
                }
                Some(other) => {
                    return Err(ArgError::value(
                        &format!("{OBSERVE}.selector"),
                        other,
                        "an object of label matchers, {\"instance\": \"db:9187\"}",
                    ));
                }
            };
            let window_days = match fields.get("window_days") {
                None => None,
                Some(value) => match value.as_u64() {
                    Some(days) => Some(u32::try_from(days).unwrap_or(u32::MAX)),
                    None => {
                        return Err(ArgError::value(
                            &format!("{OBSERVE}.window_days"),
                            value,
                            "whole days from 7 to 365",
                        ));
                    }
                },
            };
            ObserveRequest::new(OBSERVE, selector, window_days).map(Some)
        }
        other => Err(ArgError::value(
            OBSERVE,
            other,
            "true, or {selector, window_days}: fill the metrics not given from the live sources",
        )),
    }
}

/// What filling gave: the arguments to run on and what to report beside the result.
pub(crate) struct Filled {
    pub arguments: Map<String, Value>,
    pub observed: Vec<ObservedField>,
    pub connections: Vec<SourceConnection>,
    pub history: Option<FittedHistory>,
    /// The tool's arguments, dotted as its `missing_inputs` names them (`system.db_cpu_pct`),
    /// that no configured source can give and neither a source nor the caller gave.
    pub unobserved: Vec<(String, Unobservable)>,
}

/// Puts each of `fields` the target does not hold into it, and records it in `observed` under
/// its dotted name.
fn fill_into(
    observed: &mut Vec<ObservedField>,
    target: &mut Map<String, Value>,
    prefix: &str,
    fields: &[ObservedField],
) {
    for field in fields {
        if !target.contains_key(&field.field) {
            target.insert(field.field.clone(), field.value.clone());
            observed.push(ObservedField {
                field: format!("{prefix}{}", field.field),
                ..field.clone()
            });
        }
    }
}

/// Fills `arguments` (without `observe`) from `system`: every observed figure the caller did
/// not give, in the tool's own argument names. `takes` says whether a metric is an argument
/// of the tool (of `system` for a report), so that a figure no source can give is listed in
/// its `missing_inputs` only where the tool would have used it.
pub(crate) fn fill(
    fill: Fill,
    mut arguments: Map<String, Value>,
    system: &ObservedSystem,
    takes: &dyn Fn(&str) -> bool,
) -> Filled {
    let mut observed = Vec::new();
    let growth_given =
        |target: &Map<String, Value>| GROWTH_FORMS.iter().any(|f| target.contains_key(*f));
    let (rate, rest): (Vec<ObservedField>, Vec<ObservedField>) = system
        .provenance
        .forecast_growth
        .iter()
        .cloned()
        .partition(|f| f.field == "monthly_growth_pct");
    let (resources, metrics): (Vec<ObservedField>, Vec<ObservedField>) = rest
        .into_iter()
        .partition(|f| f.field.starts_with(RESOURCES_PREFIX));
    match fill {
        Fill::Diagnose => fill_into(
            &mut observed,
            &mut arguments,
            "",
            &system.provenance.diagnose_bottleneck,
        ),
        Fill::Forecast => {
            fill_into(&mut observed, &mut arguments, "", &metrics);
            // A resource the caller lists keeps the caller's figures; the others are added.
            let mut listed = match arguments.remove("resources") {
                Some(Value::Array(listed)) => listed,
                Some(other) => {
                    arguments.insert("resources".into(), other);
                    Vec::new()
                }
                None => Vec::new(),
            };
            if !arguments.contains_key("resources") {
                for resource in &resources {
                    let name = &resource.field[RESOURCES_PREFIX.len()..];
                    if !listed.iter().any(|r| r["name"] == name) {
                        listed.push(resource.value.clone());
                        observed.push(resource.clone());
                    }
                }
                if !listed.is_empty() {
                    arguments.insert("resources".into(), Value::Array(listed));
                }
            }
            if !growth_given(&arguments) {
                fill_into(&mut observed, &mut arguments, "", &rate);
            }
        }
        Fill::Report => {
            let mut system_arguments = match arguments.remove("system") {
                Some(Value::Object(given)) => given,
                // A non-object is the schema's to refuse: keep it as given.
                Some(other) => {
                    arguments.insert("system".into(), other);
                    Map::new()
                }
                None => Map::new(),
            };
            if !arguments.contains_key("system") {
                fill_into(
                    &mut observed,
                    &mut system_arguments,
                    "system.",
                    &system.provenance.diagnose_bottleneck,
                );
                arguments.insert("system".into(), Value::Object(system_arguments));
            }
            match arguments.get_mut("growth") {
                Some(Value::Object(growth)) => {
                    if !growth_given(growth) {
                        fill_into(&mut observed, growth, "growth.", &rate);
                    }
                }
                Some(_) => {}
                None => {
                    if !rate.is_empty() {
                        let mut growth = Map::new();
                        fill_into(&mut observed, &mut growth, "growth.", &rate);
                        arguments.insert("growth".into(), Value::Object(growth));
                    }
                }
            }
        }
    }
    let connections = system
        .connections
        .iter()
        .filter(|c| c.status != ConnectionStatus::Ok)
        .cloned()
        .collect();
    // The history is shown beside a forecast whether or not its rate was used: a rate the
    // caller gave can then be compared with the system's own.
    let history = match fill {
        Fill::Diagnose => None,
        Fill::Forecast | Fill::Report => system.load_history.clone(),
    };
    let (prefix, metrics) = match fill {
        Fill::Report => (
            "system.",
            arguments.get("system").and_then(Value::as_object),
        ),
        Fill::Diagnose | Fill::Forecast => ("", Some(&arguments)),
    };
    let unobserved = system
        .unobserved
        .iter()
        .filter(|u| takes(&u.field) && !metrics.is_some_and(|m| m.contains_key(&u.field)))
        .map(|u| (format!("{prefix}{}", u.field), u.clone()))
        .collect();
    Filled {
        arguments,
        observed,
        connections,
        history,
        unobserved,
    }
}

/// Why `observe` could not fill a figure a tool then refused: the sources that failed, or that
/// none gave it (a growth rate, for one, is passed on only when its fit is significant).
pub(crate) fn why_not_filled(failed: &[SourceConnection]) -> String {
    let failed: Vec<String> = failed
        .iter()
        .map(|c| format!("{} {}", c.source.as_str(), c.status.as_str()))
        .collect();
    if failed.is_empty() {
        " (`observe` read no such figure, or none significant: see observe_system's trends; give it)"
            .to_string()
    } else {
        format!(
            " (`observe` could not fill it: {}; give it)",
            failed.join(", ")
        )
    }
}

/// Adds `observed`, `connections` and the fitted history to a structured result, and the
/// observation's knowledge sections to its `sources`.
pub(crate) fn annotate_structured(structured: &mut Value, filled: &Filled, cited: &[String]) {
    let Value::Object(result) = structured else {
        return;
    };
    result.insert(
        "observed".into(),
        serde_json::to_value(&filled.observed).unwrap_or_default(),
    );
    result.insert(
        "connections".into(),
        serde_json::to_value(&filled.connections).unwrap_or_default(),
    );
    if let Some(history) = &filled.history {
        result.insert(
            "observed_history".into(),
            serde_json::to_value(history).unwrap_or_default(),
        );
    }
    // A figure no configured source can give: listed as the missing argument it is, with
    // where to read it, never estimated (the tool's own entry gains the where).
    if let Some(Value::Array(missing)) = result.get_mut("missing_inputs") {
        for (field, row) in &filled.unobserved {
            let place = format!(
                "{} cannot give it: {}",
                row.source.as_str(),
                row.where_to_get_it
            );
            match missing
                .iter_mut()
                .find(|m| m["field"] == field.as_str())
                .and_then(Value::as_object_mut)
            {
                Some(entry) => {
                    entry.insert("where_to_get_it".into(), Value::from(place));
                }
                None => missing.push(serde_json::json!({
                    "field": field,
                    "enables": row.enables,
                    "where_to_get_it": place,
                })),
            }
        }
    }
    if let Some(Value::Array(sources)) = result.get_mut("sources") {
        for uri in cited {
            let uri = Value::from(uri.as_str());
            if !filled.observed.is_empty() && !sources.contains(&uri) {
                sources.push(uri);
            }
        }
        for (_, row) in &filled.unobserved {
            let uri = Value::from(row.uri.as_str());
            if !sources.contains(&uri) {
                sources.push(uri);
            }
        }
    }
}

/// The markdown of what was read, placed before the closing `Sources:` line: which figures
/// came from where, the history the growth rate was fitted on, and the sources that failed.
pub(crate) fn annotate_markdown(markdown: &mut String, filled: &Filled) {
    let mut section = String::from("\n## Read from the live system\n\n");
    if filled.observed.is_empty() {
        section.push_str("No figure was read: the arguments are the caller's alone.\n");
    } else {
        section.push_str("| argument | value | source | at | query |\n|---|---|---|---|---|\n");
        for field in &filled.observed {
            let value = match &field.value {
                Value::Number(n) => n.as_f64().map_or_else(|| n.to_string(), numbers::quantity),
                other => other.to_string(),
            };
            let _ = writeln!(
                section,
                "| {} | {} | {} | {} | `{}` |",
                field.field,
                value,
                field.source.as_str(),
                field.at,
                field.query.replace('|', "\\|").replace('`', "'")
            );
        }
    }
    if let Some(history) = &filled.history {
        let _ = writeln!(
            section,
            "\nGrowth of `{}` fitted on {} daily peaks from {} since {}: {}%/month (95% CI {} to \
             {}){}. {}",
            history.name,
            history.points.len(),
            history.source.as_str(),
            history.first_at,
            numbers::quantity(history.monthly_growth_pct),
            numbers::quantity(history.ci95_pct[0]),
            numbers::quantity(history.ci95_pct[1]),
            if history.significant {
                ""
            } else {
                ", not significant: not used as the growth rate"
            },
            sparkline(history)
        );
    }
    for (field, row) in &filled.unobserved {
        let _ = writeln!(
            section,
            "\n`{field}` was not read: {} cannot give it; {}.",
            row.source.as_str(),
            row.where_to_get_it.trim_end_matches('.')
        );
    }
    for c in &filled.connections {
        // A source not configured says so in its detail; a failure leads with its status.
        let status = match c.status {
            ConnectionStatus::NotConfigured => String::new(),
            other => format!(" {}", other.as_str()),
        };
        let _ = writeln!(section, "\n{}{status}: {}", c.source.as_str(), c.detail);
    }
    match markdown.rfind("\nSources: ") {
        Some(at) => markdown.insert_str(at, &section),
        None => markdown.push_str(&section),
    }
}

/// The daily peaks as a line of block characters, lowest to highest: the shape of the history
/// in a text answer (the report page draws the points and the fit).
fn sparkline(history: &FittedHistory) -> String {
    const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
    let values: Vec<f64> = history.points.iter().map(|p| p[1]).collect();
    let (low, high) = values
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), &v| {
            (l.min(v), h.max(v))
        });
    if values.is_empty() || !low.is_finite() {
        return String::new();
    }
    let span = (high - low).max(f64::MIN_POSITIVE);
    values
        .iter()
        .map(|v| BARS[(((v - low) / span) * 7.0).round().clamp(0.0, 7.0) as usize])
        .collect()
}

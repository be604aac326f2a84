//! The arguments `observe_system` prepares for `diagnose_bottleneck` and `forecast_growth`:
//! each reading a tool takes, named and bounded by that tool's validation schema; each
//! resource with a line to forecast against; the load's rate when its fit is significant; and
//! where each came from, built beside it so that the two cannot disagree.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::tables::ResourceLimit;
use super::{
    LOAD, LiveObservation, MetricReading, ObservationSections, SourceName, Trend, rounded,
};
use crate::diagnose_bottleneck::DiagnoseBottleneck;
use crate::forecast_growth::ForecastGrowth;
use crate::thresholds::LOAD_DRIVEN;
use crate::{Advisor, Tool};

/// The arguments ready to pass (contract §8): every figure observed, in each tool's names.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ObservedArguments {
    pub diagnose_bottleneck: Map<String, Value>,
    pub forecast_growth: Map<String, Value>,
}

/// Where one argument of [`ObservedArguments`] came from (contract §9 `observed[]`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ObservedField {
    /// The argument filled, dotted for a nested one (`system.db_cpu_pct`).
    pub field: String,
    pub value: Value,
    pub source: SourceName,
    pub query: String,
    pub at: String,
}

/// Where each argument came from, per tool.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Provenance {
    pub diagnose_bottleneck: Vec<ObservedField>,
    pub forecast_growth: Vec<ObservedField>,
}

/// The arguments of both tools and their provenance.
pub(super) struct Prepared {
    pub(super) arguments: ObservedArguments,
    pub(super) provenance: Provenance,
    /// Whether a resource is forecast against `capacity-planning#resource-limits`, to cite it.
    pub(super) forecasts_resources: bool,
}

/// Every figure observed, in each tool's names, in the order the arguments list them: the
/// readings each tool takes, then the resources, then the load's rate.
pub(super) fn prepare(
    advisor: &Advisor,
    sections: Option<&ObservationSections>,
    live: &LiveObservation,
    trends: &[Trend],
) -> Prepared {
    let schema_of = |tool: &str| advisor.tool(tool).map(|t| &t.validation_schema);
    let diagnose = readings_taken(schema_of(DiagnoseBottleneck::NAME), live, |_| true);
    let mut forecast = readings_taken(schema_of(ForecastGrowth::NAME), live, |name| {
        LOAD_DRIVEN.contains(&name)
    });
    let mut arguments = ObservedArguments {
        diagnose_bottleneck: as_arguments(&diagnose),
        forecast_growth: as_arguments(&forecast),
    };
    let limits = sections.map_or(&[][..], |s| s.limits.as_slice());
    let resources = resources_with_lines(limits, live, trends);
    let forecasts_resources = !resources.is_empty();
    if forecasts_resources {
        let entries = resources.iter().map(|r| r.value.clone()).collect();
        arguments
            .forecast_growth
            .insert("resources".into(), Value::Array(entries));
        forecast.extend(resources);
    }
    if let Some(rate) = load_rate(trends, live) {
        arguments
            .forecast_growth
            .insert(rate.field.clone(), rate.value.clone());
        forecast.push(rate);
    }
    Prepared {
        arguments,
        provenance: Provenance {
            diagnose_bottleneck: diagnose,
            forecast_growth: forecast,
        },
        forecasts_resources,
    }
}

fn as_arguments(fields: &[ObservedField]) -> Map<String, Value> {
    fields
        .iter()
        .map(|f| (f.field.clone(), f.value.clone()))
        .collect()
}

/// The readings a tool takes as top-level arguments, one per name. The first reading of a
/// name wins: the sources are read in the order of `SourceName::ALL`, Prometheus (the peaks of
/// a day) before a direct current reading.
fn readings_taken(
    schema: Option<&Map<String, Value>>,
    live: &LiveObservation,
    takes: impl Fn(&str) -> bool,
) -> Vec<ObservedField> {
    let Some(schema) = schema else {
        return Vec::new();
    };
    let mut metrics: Vec<&MetricReading> = live.metrics.iter().collect();
    metrics.sort_by_key(|m| m.source);
    let mut taken: Vec<ObservedField> = Vec::new();
    for metric in metrics {
        if takes(&metric.name)
            && !taken.iter().any(|f| f.field == metric.name)
            && let Some(slot) = number_slot(schema, &metric.name)
            && let Some(value) = fit_to_slot(&slot, metric.value)
        {
            taken.push(observed(metric.name.clone(), value, metric));
        }
    }
    taken
}

/// Each resource with a line to forecast against, as an entry of `forecast_growth`'s
/// `resources`, with its own rate where its history gives a significant one; the first reading
/// of a name wins.
fn resources_with_lines(
    limits: &[ResourceLimit],
    live: &LiveObservation,
    trends: &[Trend],
) -> Vec<ObservedField> {
    let mut resources: Vec<ObservedField> = Vec::new();
    for metric in &live.metrics {
        let Some(limit) = limits.iter().find(|l| l.resource == metric.name) else {
            continue;
        };
        let field = format!("resources.{}", metric.name);
        if resources.iter().any(|r| r.field == field) {
            continue;
        }
        let own_rate = trends
            .iter()
            .find(|t| t.name == metric.name && t.significant)
            .map(|t| t.monthly_growth_pct)
            .filter(|&rate| rate > -100.0);
        resources.push(observed(
            field,
            resource_entry(metric, limit, own_rate),
            metric,
        ));
    }
    resources
}

/// `{name, current, warning, critical, monthly_growth_pct}` as `forecast_growth` takes a
/// resource; a reading below 0 counts as 0.
fn resource_entry(metric: &MetricReading, limit: &ResourceLimit, own_rate: Option<f64>) -> Value {
    let mut resource = Map::new();
    resource.insert("name".into(), Value::from(metric.name.clone()));
    resource.insert(
        "current".into(),
        Value::from(rounded(metric.value.max(0.0))),
    );
    resource.insert("warning".into(), Value::from(limit.warning));
    if let Some(critical) = limit.critical {
        resource.insert("critical".into(), Value::from(critical));
    }
    if let Some(rate) = own_rate {
        resource.insert("monthly_growth_pct".into(), Value::from(rate));
    }
    Value::Object(resource)
}

/// The load's rate as `forecast_growth`'s `monthly_growth_pct`, passed on only when its fit
/// is significant (contract §8).
fn load_rate(trends: &[Trend], live: &LiveObservation) -> Option<ObservedField> {
    let load = trends.iter().find(|t| t.name == LOAD && t.significant)?;
    let history = live.histories.iter().find(|h| h.name == LOAD);
    Some(ObservedField {
        field: "monthly_growth_pct".to_string(),
        value: Value::from(load.monthly_growth_pct),
        source: history.map_or(SourceName::Prometheus, |h| h.source),
        query: history.map(|h| h.query.clone()).unwrap_or_default(),
        at: history
            .and_then(|h| h.daily_peaks.last())
            .map(|p| p.at.clone())
            .unwrap_or_default(),
    })
}

/// A value filled from one reading, with the reading's source, query and time.
fn observed(field: String, value: Value, metric: &MetricReading) -> ObservedField {
    ObservedField {
        field,
        value,
        source: metric.source,
        query: metric.query.clone(),
        at: metric.at.clone(),
    }
}

/// The numeric bounds and integer-ness of a top-level argument in a tool's validation schema,
/// or none when the argument is not a number there.
struct NumberSlot {
    integer: bool,
    min: Option<f64>,
    max: Option<f64>,
}

fn number_slot(schema: &Map<String, Value>, field: &str) -> Option<NumberSlot> {
    let property = schema.get("properties")?.get(field)?.as_object()?;
    let types: Vec<&str> = match property.get("type") {
        Some(Value::String(t)) => vec![t.as_str()],
        Some(Value::Array(list)) => list.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    let integer = types.contains(&"integer");
    if !integer && !types.contains(&"number") {
        return None;
    }
    let bound = |keys: [&str; 2]| keys.iter().find_map(|k| property.get(*k)?.as_f64());
    Some(NumberSlot {
        integer,
        min: bound(["minimum", "exclusiveMinimum"]),
        max: bound(["maximum", "exclusiveMaximum"]),
    })
}

/// A reading as a value the tool's schema accepts: clamped into its range (a CPU sampled at
/// 100.4% is 100) and whole where the argument is an integer.
fn fit_to_slot(slot: &NumberSlot, value: f64) -> Option<Value> {
    if !value.is_finite() {
        return None;
    }
    let mut value = value;
    if let Some(min) = slot.min {
        value = value.max(min);
    }
    if let Some(max) = slot.max {
        value = value.min(max);
    }
    if slot.integer {
        Some(Value::from(value.round() as i64))
    } else {
        Some(Value::from(rounded(value)))
    }
}

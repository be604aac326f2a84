//! `observe_system`: what the live system looks like now and how fast it is growing, in the
//! advisor's own vocabulary (contract §8). The reading happens outside this crate: the server
//! reads the configured sources (crate `observe`, each within its deadline) and hands the
//! result here as a [`LiveObservation`]. This module only composes: each history's growth fit
//! becomes a trend (whose rate is passed on only when significant), each reading an argument
//! of `diagnose_bottleneck` or `forecast_growth`. Pure, so the same observation gives the
//! same bytes, and testable on observations built by hand.

use std::collections::BTreeMap;
use std::fmt::Write;

use knowledge::{Knowledge, KnowledgeError};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::args::format_number;
use crate::diagnose_bottleneck::DiagnoseBottleneck;
use crate::forecast_growth::ForecastGrowth;
use crate::markdown::{push_unique, sources};
use crate::thresholds::LOAD_DRIVEN;
use crate::trend::TrendRules;
use crate::{Advisor, ArgError, Detail, MissingInput, Tool};

/// The trend whose rate is the load's: `forecast_growth` takes it as `monthly_growth_pct`.
pub const LOAD: &str = "load";

/// `window_days` when none is given, and its bounds (contract §8).
const DEFAULT_WINDOW_DAYS: u32 = 90;
const WINDOW_DAYS: std::ops::RangeInclusive<u32> = 7..=365;
/// The longest query a concise answer shows whole.
const CONCISE_QUERY_CHARS: usize = 60;
/// How many figures the summary names.
const SUMMARY_FIGURES: usize = 4;
/// The most label matchers a selector may hold: a selector narrows to a job or an instance.
const MAX_SELECTOR_LABELS: usize = 16;

// What to read. Both fields narrow the Prometheus queries only.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ObserveArgs {
    /// Prometheus label matchers added to every query, exact values:
    /// {"instance": "orders-db:9187"} or {"job": "checkout"}.
    #[serde(default)]
    pub selector: BTreeMap<String, String>,
    /// Days of history the growth fits read, 7 to 365. Default 90.
    #[schemars(range(min = 7, max = 365))]
    pub window_days: Option<u32>,
    /// concise (default) or full.
    #[serde(default)]
    pub detail: Detail,
}

/// What the server is asked to read: a checked selector and window (the same for
/// `observe_system` and for `observe` on the tools that take metrics).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObserveRequest {
    pub selector: BTreeMap<String, String>,
    pub window_days: u32,
}

impl ObserveRequest {
    /// Checks a selector and a window; `path` names the argument for errors (`selector`, or
    /// `observe.selector` on another tool).
    pub fn new(
        path: &str,
        selector: BTreeMap<String, String>,
        window_days: Option<u32>,
    ) -> Result<Self, ArgError> {
        let prefix = |field: &str| {
            if path.is_empty() {
                field.to_string()
            } else {
                format!("{path}.{field}")
            }
        };
        if selector.len() > MAX_SELECTOR_LABELS {
            return Err(ArgError::new(
                &prefix("selector"),
                format!("{} labels", selector.len()),
                format!("at most {MAX_SELECTOR_LABELS} label matchers"),
            ));
        }
        for label in selector.keys() {
            if !is_label_name(label) {
                return Err(ArgError::new(
                    &prefix("selector"),
                    format!("the label name {label:?}"),
                    "Prometheus label names: a letter or _, then letters, digits or _ \
                     ([a-zA-Z_][a-zA-Z0-9_]*), not starting with __",
                ));
            }
        }
        let window_days = window_days.unwrap_or(DEFAULT_WINDOW_DAYS);
        if !WINDOW_DAYS.contains(&window_days) {
            return Err(ArgError::number(
                &prefix("window_days"),
                f64::from(window_days),
                format!(
                    "whole days from {} to {}",
                    WINDOW_DAYS.start(),
                    WINDOW_DAYS.end()
                ),
            ));
        }
        Ok(Self {
            selector,
            window_days,
        })
    }

    /// What `observe: true` reads: every series, over the default window.
    pub fn everything() -> Self {
        Self {
            selector: BTreeMap::new(),
            window_days: DEFAULT_WINDOW_DAYS,
        }
    }
}

/// A Prometheus label name that may be matched (`__name__` and other internal labels are not
/// the caller's to choose).
fn is_label_name(name: &str) -> bool {
    let mut chars = name.chars();
    let first_ok = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_');
    first_ok
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !name.starts_with("__")
}

/// A source, as results name it (contract §7).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum SourceName {
    Prometheus,
    Postgres,
    Redis,
}

impl SourceName {
    pub fn as_str(self) -> &'static str {
        match self {
            SourceName::Prometheus => "prometheus",
            SourceName::Postgres => "postgres",
            SourceName::Redis => "redis",
        }
    }

    /// Every source, in the order results list them.
    pub const ALL: [SourceName; 3] = [
        SourceName::Prometheus,
        SourceName::Postgres,
        SourceName::Redis,
    ];

    /// The option that configures the source, for a reader who wants to add it.
    fn option(self) -> &'static str {
        match self {
            SourceName::Prometheus => "--prometheus, SCALE_ADVISOR_PROMETHEUS_URL",
            SourceName::Postgres => "--postgres, SCALE_ADVISOR_POSTGRES_URL",
            SourceName::Redis => "--redis, SCALE_ADVISOR_REDIS_URL",
        }
    }

    /// The knowledge section that maps the source's figures to the advisor's names.
    fn section(self) -> &'static str {
        match self {
            SourceName::Prometheus => "observation#prometheus-queries",
            SourceName::Postgres => "observation#postgres-views",
            SourceName::Redis => "observation#redis-info",
        }
    }
}

/// How reading a source went (contract §8).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ConnectionStatus {
    Ok,
    NotConfigured,
    Unreachable,
    /// Authentication or permission refused.
    Refused,
    TimedOut,
    Error,
}

impl ConnectionStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ConnectionStatus::Ok => "ok",
            ConnectionStatus::NotConfigured => "not_configured",
            ConnectionStatus::Unreachable => "unreachable",
            ConnectionStatus::Refused => "refused",
            ConnectionStatus::TimedOut => "timed_out",
            ConnectionStatus::Error => "error",
        }
    }
}

/// One source's outcome; `url` is already masked.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct SourceConnection {
    pub source: SourceName,
    /// With any password replaced by ***.
    pub url: String,
    pub status: ConnectionStatus,
    pub detail: String,
}

/// One figure read (contract §8 `metrics[]`): today's peak where history exists.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct MetricReading {
    /// A `diagnose_bottleneck` argument or a `forecast_growth` resource.
    pub name: String,
    pub value: f64,
    pub unit: String,
    pub source: SourceName,
    /// The PromQL, view or INFO field that gave it.
    pub query: String,
    /// RFC 3339, UTC.
    pub at: String,
}

/// One day's peak of a history, `day` counted from the window's first day.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct DailyPeak {
    pub at: String,
    pub day: f64,
    pub value: f64,
}

/// The daily peaks of one metric over the window (Prometheus's `max_over_time` at a one-day
/// step: aggregated by the source, never raw samples).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct History {
    pub name: String,
    pub source: SourceName,
    pub query: String,
    pub daily_peaks: Vec<DailyPeak>,
}

/// A figure a configured source cannot give, and where to get it instead: a row of the
/// `observation` document's "cannot give" tables (read by the `observe` crate, which knows
/// its sources), so that a figure no source gave is listed, never estimated.
#[derive(Debug, Clone, PartialEq)]
pub struct Unobservable {
    pub source: SourceName,
    /// An argument of `diagnose_bottleneck` or `forecast_growth`, or a forecast resource.
    pub field: String,
    /// What the figure would have enabled.
    pub enables: String,
    pub where_to_get_it: String,
    /// The table's `knowledge://` URI, cited when a row is listed.
    pub uri: String,
}

/// Everything read for one call, as the server hands it over: the input of [`compose`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LiveObservation {
    pub connections: Vec<SourceConnection>,
    pub metrics: Vec<MetricReading>,
    pub histories: Vec<History>,
    /// The window the histories cover.
    pub window_days: u32,
    /// What the configured sources cannot give, source by source (empty without sources).
    pub unobservable: Vec<Unobservable>,
}

impl LiveObservation {
    /// What a server with no source configured reads: nothing, and says so per source.
    pub fn nothing_configured(window_days: u32) -> Self {
        Self {
            connections: SourceName::ALL
                .iter()
                .map(|&source| SourceConnection {
                    source,
                    url: String::new(),
                    status: ConnectionStatus::NotConfigured,
                    detail: format!("not configured ({})", source.option()),
                })
                .collect(),
            metrics: Vec::new(),
            histories: Vec::new(),
            window_days,
            unobservable: Vec::new(),
        }
    }
}

/// The growth of one metric fitted from its daily peaks (contract §8 `trends[]`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Trend {
    /// A metric's name, or `load` for the request rate.
    pub name: String,
    /// The fitted growth, %/month: e^(30.4375 · slope per day) − 1.
    pub monthly_growth_pct: f64,
    /// Its 95% confidence interval, %/month (Student's t, n − 2).
    pub ci95_pct: [f64; 2],
    pub r_squared: f64,
    /// Daily peaks fitted.
    pub points: u32,
    pub window_days: u32,
    /// False when the interval holds 0 or fewer than the fit's minimum of daily points exist:
    /// the rate is then not passed on.
    pub significant: bool,
    /// The PromQL of the daily peaks (`detail: full`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub query: Option<String>,
}

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

/// The daily peaks and the fitted line of one trend, for a page to draw.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct FittedHistory {
    pub name: String,
    pub source: SourceName,
    /// [day, value] pairs, day 0 the window's first day.
    pub points: Vec<[f64; 2]>,
    /// The fitted line's value at the first and the last day: [[day, value], [day, value]].
    pub fit: [[f64; 2]; 2],
    pub monthly_growth_pct: f64,
    pub ci95_pct: [f64; 2],
    pub significant: bool,
    /// RFC 3339 of day 0.
    pub first_at: String,
}

/// The answer of `observe_system`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ObservedSystem {
    pub summary: String,
    pub connections: Vec<SourceConnection>,
    pub metrics: Vec<MetricReading>,
    pub trends: Vec<Trend>,
    pub arguments: ObservedArguments,
    pub missing_inputs: Vec<MissingInput>,
    pub sources: Vec<String>,
    /// Where each argument came from, per tool (what `observe` on a tool reports).
    #[serde(skip)]
    #[schemars(skip)]
    pub provenance: Provenance,
    /// The load's history and fit, for the forecast's page.
    #[serde(skip)]
    #[schemars(skip)]
    pub load_history: Option<FittedHistory>,
    /// What the configured sources cannot give and none of them gave, one row per field (the
    /// first source's), for `observe` on a tool to list in its own `missing_inputs`.
    #[serde(skip)]
    #[schemars(skip)]
    pub unobserved: Vec<Unobservable>,
}

/// Where each argument came from, per tool.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Provenance {
    pub diagnose_bottleneck: Vec<ObservedField>,
    pub forecast_growth: Vec<ObservedField>,
}

/// The tool's tables: the growth fit's formulas and parameters, and which sources'
/// mapping sections the knowledge holds, to cite.
pub struct ObservationSections {
    /// Each source's mapping section, when the knowledge holds it.
    cited: Vec<(SourceName, String)>,
    trend: TrendRules,
    /// The lines a resource is forecast against (`capacity-planning#resource-limits`).
    limits: Vec<ResourceLimit>,
    limits_uri: Option<String>,
}

/// A resource's warning and critical line, as `forecast_growth` takes them.
struct ResourceLimit {
    resource: String,
    warning: f64,
    critical: Option<f64>,
}

/// Reads `capacity-planning#resource-limits`: the lines a resource read from the live system
/// is forecast against. A knowledge base without the section forecasts no observed resource.
fn resource_limits(
    knowledge: &Knowledge,
) -> Result<(Vec<ResourceLimit>, Option<String>), KnowledgeError> {
    let Some(uri) = uri_if_present(knowledge, "capacity-planning#resource-limits") else {
        return Ok((Vec::new(), None));
    };
    let table = knowledge.table("capacity-planning", "resource-limits")?;
    table.require_columns(&["resource", "warning", "critical", "source"])?;
    let mut limits = Vec::new();
    for row in table.rows() {
        let warning = row.number("warning")?;
        let critical = row.optional_number("critical")?;
        if !(warning > 0.0 && warning.is_finite()) || critical.is_some_and(|c| c < warning) {
            return Err(row.error(
                "`warning` must be above 0 and `critical`, when given, at least `warning`"
                    .to_string(),
            ));
        }
        limits.push(ResourceLimit {
            resource: row.required("resource")?.to_string(),
            warning,
            critical,
        });
    }
    Ok((limits, Some(uri)))
}

fn uri_if_present(knowledge: &Knowledge, section: &str) -> Option<String> {
    let uri = format!("{}{section}", knowledge::URI_SCHEME);
    knowledge.resolve(&uri).map(|_| uri)
}

impl ObservationSections {
    fn load(knowledge: &Knowledge) -> Result<Self, KnowledgeError> {
        let (limits, limits_uri) = resource_limits(knowledge)?;
        Ok(Self {
            cited: SourceName::ALL
                .iter()
                .filter_map(|&s| uri_if_present(knowledge, s.section()).map(|uri| (s, uri)))
                .collect(),
            trend: TrendRules::load(knowledge)?,
            limits,
            limits_uri,
        })
    }
}

/// A number as JSON, rounded to what a reading can claim (4 significant digits).
fn rounded(value: f64) -> f64 {
    if value == 0.0 || !value.is_finite() {
        return 0.0;
    }
    let digits = 4 - 1 - value.abs().log10().floor() as i32;
    let scale = 10f64.powi(digits.clamp(-12, 12));
    (value * scale).round() / scale
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

/// The fit of one history, or none when it has too few points to fit at all.
fn trend_of(
    rules: &TrendRules,
    history: &History,
    window_days: u32,
    detail: Detail,
) -> Option<(Trend, FittedHistory)> {
    let points: Vec<(f64, f64)> = history
        .daily_peaks
        .iter()
        .filter(|p| p.value.is_finite() && p.value > 0.0 && p.day.is_finite())
        .map(|p| (p.day, p.value))
        .collect();
    let fit = rules.fit(&points)?;
    let trend = Trend {
        name: history.name.clone(),
        monthly_growth_pct: rounded(fit.monthly_growth_pct),
        ci95_pct: [rounded(fit.ci95_pct[0]), rounded(fit.ci95_pct[1])],
        r_squared: rounded(fit.r_squared),
        points: fit.points as u32,
        window_days,
        significant: fit.significant,
        query: detail.is_full().then(|| history.query.clone()),
    };
    let first = points.first().map_or(0.0, |p| p.0);
    let last = points.last().map_or(0.0, |p| p.0);
    let line = |day: f64| rounded(fit.fitted(day));
    let drawn = FittedHistory {
        name: history.name.clone(),
        source: history.source,
        points: points.iter().map(|&(d, v)| [d, rounded(v)]).collect(),
        fit: [[first, line(first)], [last, line(last)]],
        monthly_growth_pct: trend.monthly_growth_pct,
        ci95_pct: trend.ci95_pct,
        significant: trend.significant,
        first_at: history
            .daily_peaks
            .first()
            .map(|p| p.at.clone())
            .unwrap_or_default(),
    };
    Some((trend, drawn))
}

/// Composes the answer from what was read: the pure heart of `observe_system`.
pub fn compose(advisor: &Advisor, live: &LiveObservation, detail: Detail) -> ObservedSystem {
    let window_days = live.window_days;
    let sections = advisor.tables::<ObserveSystem>().ok();
    let mut trends = Vec::new();
    let mut load_history = None;
    for history in &live.histories {
        if let Some((trend, drawn)) =
            sections.and_then(|sections| trend_of(&sections.trend, history, window_days, detail))
        {
            if trend.name == LOAD {
                load_history = Some(drawn);
            }
            trends.push(trend);
        }
    }
    let schema_of = |tool: &str| advisor.tool(tool).map(|t| &t.validation_schema);
    let mut arguments = ObservedArguments::default();
    let mut provenance = Provenance::default();
    // The first reading of a name wins: the sources are read in the order of
    // `SourceName::ALL`, Prometheus (the peaks of a day) before a direct current reading.
    let mut metrics: Vec<&MetricReading> = live.metrics.iter().collect();
    metrics.sort_by_key(|m| m.source);
    for metric in metrics {
        if let Some(slot) =
            schema_of(DiagnoseBottleneck::NAME).and_then(|schema| number_slot(schema, &metric.name))
            && !arguments.diagnose_bottleneck.contains_key(&metric.name)
            && let Some(value) = fit_to_slot(&slot, metric.value)
        {
            provenance.diagnose_bottleneck.push(ObservedField {
                field: metric.name.clone(),
                value: value.clone(),
                source: metric.source,
                query: metric.query.clone(),
                at: metric.at.clone(),
            });
            arguments
                .diagnose_bottleneck
                .insert(metric.name.clone(), value);
        }
        if LOAD_DRIVEN.contains(&metric.name.as_str())
            && !arguments.forecast_growth.contains_key(&metric.name)
            && let Some(slot) =
                schema_of(ForecastGrowth::NAME).and_then(|schema| number_slot(schema, &metric.name))
            && let Some(value) = fit_to_slot(&slot, metric.value)
        {
            provenance.forecast_growth.push(ObservedField {
                field: metric.name.clone(),
                value: value.clone(),
                source: metric.source,
                query: metric.query.clone(),
                at: metric.at.clone(),
            });
            arguments.forecast_growth.insert(metric.name.clone(), value);
        }
    }
    // A resource with a line to forecast against goes to forecast_growth's `resources`, with
    // its own rate where its history gives a significant one.
    let mut resources = Vec::new();
    let mut resources_cited = false;
    for metric in &live.metrics {
        let Some(limit) =
            sections.and_then(|s| s.limits.iter().find(|l| l.resource == metric.name))
        else {
            continue;
        };
        if resources
            .iter()
            .any(|r: &Value| r["name"] == metric.name.as_str())
        {
            continue;
        }
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
        if let Some(own) = trends
            .iter()
            .find(|t| t.name == metric.name && t.significant)
            .filter(|t| t.monthly_growth_pct > -100.0)
        {
            resource.insert(
                "monthly_growth_pct".into(),
                Value::from(own.monthly_growth_pct),
            );
        }
        let resource = Value::Object(resource);
        provenance.forecast_growth.push(ObservedField {
            field: format!("resources.{}", metric.name),
            value: resource.clone(),
            source: metric.source,
            query: metric.query.clone(),
            at: metric.at.clone(),
        });
        resources.push(resource);
        resources_cited = true;
    }
    if !resources.is_empty() {
        arguments
            .forecast_growth
            .insert("resources".into(), Value::Array(resources));
    }
    // The load's rate is passed on only when the fit is significant (contract §8).
    if let Some(load) = trends.iter().find(|t| t.name == LOAD && t.significant) {
        let history = live.histories.iter().find(|h| h.name == LOAD);
        let value = Value::from(load.monthly_growth_pct);
        provenance.forecast_growth.push(ObservedField {
            field: "monthly_growth_pct".to_string(),
            value: value.clone(),
            source: history.map_or(SourceName::Prometheus, |h| h.source),
            query: history.map(|h| h.query.clone()).unwrap_or_default(),
            at: history
                .and_then(|h| h.daily_peaks.last())
                .map(|p| p.at.clone())
                .unwrap_or_default(),
        });
        arguments
            .forecast_growth
            .insert("monthly_growth_pct".to_string(), value);
    }

    let mut cited = Vec::new();
    let read_ok = |source: SourceName| {
        live.connections
            .iter()
            .any(|c| c.source == source && c.status == ConnectionStatus::Ok)
    };
    if let Some(sections) = sections {
        for (source, uri) in &sections.cited {
            if read_ok(*source) {
                push_unique(&mut cited, uri.clone());
            }
        }
        if !trends.is_empty() {
            for uri in sections.trend.sources() {
                push_unique(&mut cited, uri);
            }
        }
        if resources_cited && let Some(uri) = &sections.limits_uri {
            push_unique(&mut cited, uri.clone());
        }
    }
    // What no configured source can give (and none gave), named as the argument of the tool
    // it would have filled, `diagnose_bottleneck.db_cpu_pct`: the arguments this tool prepares
    // are those tools' own (its selector and window add no figure, and a source not
    // configured is the operator's to add, which its connection says).
    let read: Vec<&str> = live.metrics.iter().map(|m| m.name.as_str()).collect();
    let mut unobserved: Vec<Unobservable> = Vec::new();
    for row in &live.unobservable {
        if !read.contains(&row.field.as_str()) && !unobserved.iter().any(|u| u.field == row.field) {
            unobserved.push(row.clone());
        }
    }
    let takes = |tool: &str, field: &str| {
        schema_of(tool)
            .and_then(|schema| schema.get("properties"))
            .and_then(Value::as_object)
            .is_some_and(|properties| properties.contains_key(field))
    };
    let is_resource =
        |field: &str| sections.is_some_and(|s| s.limits.iter().any(|l| l.resource == field));
    let mut missing_inputs = Vec::new();
    for row in &unobserved {
        let mut listed = false;
        let mut slots = Vec::new();
        if takes(DiagnoseBottleneck::NAME, &row.field) {
            slots.push(format!("{}.{}", DiagnoseBottleneck::NAME, row.field));
        }
        if LOAD_DRIVEN.contains(&row.field.as_str()) && takes(ForecastGrowth::NAME, &row.field) {
            slots.push(format!("{}.{}", ForecastGrowth::NAME, row.field));
        } else if is_resource(&row.field) {
            slots.push(format!("{}.resources.{}", ForecastGrowth::NAME, row.field));
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
            listed = true;
        }
        if listed {
            push_unique(&mut cited, row.uri.clone());
        }
    }
    let mut system = ObservedSystem {
        summary: String::new(),
        connections: live.connections.clone(),
        metrics: live
            .metrics
            .iter()
            .map(|m| MetricReading {
                value: rounded(m.value),
                ..m.clone()
            })
            .collect(),
        trends,
        arguments,
        missing_inputs,
        sources: cited,
        provenance,
        load_history,
        unobserved,
    };
    system.summary = crate::summary(summary_of(&system));
    system
}

/// "Read 9 figures (prometheus ok; postgres not_configured; redis not_configured). Load grows
/// 4.1%/month (95% CI 3.2 to 5.0, 90 days). db_cpu_pct 62, …"
fn summary_of(system: &ObservedSystem) -> String {
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

/// The answer as markdown: the answer, the figures and trends, what to pass on, the sources.
pub fn to_markdown(system: &ObservedSystem) -> String {
    let mut out = String::from("## The live system\n\n");
    out.push_str(&system.summary);
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
    if !system.metrics.is_empty() {
        out.push_str("\n### Today's figures (the peak of the last 24 hours)\n\n| metric | value | unit | source | at | query |\n|---|---|---|---|---|---|\n");
        for m in &system.metrics {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} | `{}` |",
                m.name,
                format_number(m.value),
                m.unit,
                m.source.as_str(),
                m.at,
                m.query.replace('|', "\\|").replace('`', "'")
            );
        }
    }
    if !system.trends.is_empty() {
        out.push_str("\n### Growth (least squares of ln daily peak on time)\n\n| metric | %/month | 95% CI | R² | days | significant |\n|---|---|---|---|---|---|\n");
        for t in &system.trends {
            let _ = writeln!(
                out,
                "| {} | {} | {} to {} | {} | {} of {} | {} |",
                t.name,
                format_number(t.monthly_growth_pct),
                format_number(t.ci95_pct[0]),
                format_number(t.ci95_pct[1]),
                format_number(t.r_squared),
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
    if !system.missing_inputs.is_empty() {
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
    sources(&mut out, &system.sources);
    out
}

pub struct ObserveSystem;

impl Tool for ObserveSystem {
    const NAME: &'static str = "observe_system";
    const TITLE: &'static str = "Observe the live system";
    const DESCRIPTION: &'static str = "Read today's DB CPU, p95, cache hit ratio, replica lag, pool, queue from Prometheus, Postgres, Redis; fitted growth rate %/month with 95% CI; arguments for the other tools.";
    type Args = ObserveArgs;
    type Output = ObservedSystem;
    type Tables = ObservationSections;
    const READS_LIVE: bool = true;

    fn load(knowledge: &Knowledge) -> Result<Self::Tables, KnowledgeError> {
        ObservationSections::load(knowledge)
    }

    /// Without a reading handed over, the sources are not configured: what a server without
    /// any source answers.
    fn run(advisor: &Advisor, args: ObserveArgs) -> Result<ObservedSystem, ArgError> {
        let request = ObserveRequest::new("", args.selector, args.window_days)?;
        Ok(compose(
            advisor,
            &LiveObservation::nothing_configured(request.window_days),
            args.detail,
        ))
    }

    fn run_live(
        advisor: &Advisor,
        args: ObserveArgs,
        live: Option<&LiveObservation>,
    ) -> Result<ObservedSystem, ArgError> {
        match live {
            Some(live) => {
                ObserveRequest::new("", args.selector, args.window_days)?;
                Ok(compose(advisor, live, args.detail))
            }
            None => Self::run(advisor, args),
        }
    }

    fn to_markdown(output: &ObservedSystem) -> String {
        to_markdown(output)
    }

    /// Concise names a long PromQL by its row (`knowledge://observation#prometheus-queries`,
    /// the row of the metric's name), so that nine metrics stay within 4,000 bytes (contract
    /// §8); `full` and the markdown give the query itself.
    fn shape(output: &mut ObservedSystem, detail: Detail) {
        if detail.is_full() {
            return;
        }
        for metric in &mut output.metrics {
            if metric.query.len() > CONCISE_QUERY_CHARS {
                metric.query = format!("{}{}", knowledge::URI_SCHEME, metric.source.section());
            }
        }
        // A figure missing from both tools says where to get it once; the second entry points
        // to the first.
        let mut said: Vec<(String, String)> = Vec::new();
        for missing in &mut output.missing_inputs {
            let Some(place) = &missing.where_to_get_it else {
                continue;
            };
            match said.iter().find(|(_, text)| text == place) {
                Some((first, _)) => missing.where_to_get_it = Some(format!("as {first}")),
                None => said.push((missing.field.clone(), place.clone())),
            }
        }
    }
}

//! `forecast_growth`: when does what break as load grows, and by when to act. From a growth
//! rate and today's figures to the month each load-driven metric and resource crosses its
//! warning and critical lines (the rows of `monitoring#diagnostic-findings` that
//! `diagnose_bottleneck` applies), the month to order capacity by, the stages the user count
//! crosses, and, when given, an M/M/1 latency, an M/M/c queue, a Zipf cache and a Universal
//! Scalability Law curve followed month by month. The models, their formulas and the defaults
//! are rows of `growth-models`; the iterative numerics are in `growth_models.rs`.

use std::fmt::Write;

use knowledge::{Comparison, Knowledge, KnowledgeError};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::calculator::{
    DefaultApplied, Figure, Formulas, Working, ceil_whole, read_defaults, show,
};
use crate::diagnose_bottleneck::{DiagnoseBottleneck, DiagnosisRules, MetricThresholds, StageRef};
use crate::growth_models::{Zipf, erlang, fit_usl, usl_nodes_for, usl_throughput};
use crate::markdown::{push_unique, sources};
use crate::plan_capacity::{CostRange, PlanCapacityArgs};
use crate::{Advisor, ArgError, Detail, MissingInput, Tool};

/// The load-driven metrics of `diagnose_bottleneck`, in the contract's order: each grows in
/// proportion to load and is forecast against its row of `monitoring#diagnostic-findings`.
pub const LOAD_DRIVEN: [&str; 5] = [
    "db_cpu_pct",
    "app_cpu_pct",
    "db_read_load_pct",
    "db_write_load_pct",
    "pool_utilization_pct",
];

/// The largest load multiple over the horizon that the forecast follows (e^600, about
/// 3.8e260): beyond it the products of today's figures and the multiple would leave the
/// finite numbers.
const LARGEST_LOG_MULTIPLE: f64 = 600.0;

// Another resource to follow: disk, IOPS, memory, anything with a current value and a limit.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ResourceArgs {
    /// E.g. disk_gb, iops, memory_pct (_pct: a %).
    #[schemars(length(max = 100))]
    pub name: String,
    /// Today's value.
    #[schemars(range(min = 0))]
    pub current: f64,
    /// Warning value.
    #[schemars(extend("exclusiveMinimum" = 0))]
    pub warning: f64,
    /// Critical value (≥ warning).
    #[schemars(extend("exclusiveMinimum" = 0))]
    pub critical: Option<f64>,
    /// Own growth, %/month; default the load's.
    #[schemars(extend("exclusiveMinimum" = -100))]
    pub monthly_growth_pct: Option<f64>,
}

// An M/M/c queue: servers fed from one queue.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct QueueingArgs {
    /// Servers (workers, cores).
    #[schemars(range(min = 1, max = 100000))]
    pub servers: u64,
    /// Arrivals today, requests/s.
    #[schemars(extend("exclusiveMinimum" = 0))]
    pub arrival_rps: f64,
    /// Mean service time, ms.
    #[schemars(extend("exclusiveMinimum" = 0))]
    pub service_time_ms: f64,
}

/// Which items a cache keeps.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum CachePolicy {
    /// Least recently used (Che's approximation).
    #[default]
    Lru,
    /// The most popular items, fixed.
    Static,
}

// A cache over a catalog whose popularity follows a Zipf law.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CacheArgs {
    /// Items the cache holds.
    #[schemars(range(min = 1))]
    pub cache_items: u64,
    /// Distinct items requested.
    #[schemars(range(min = 1, max = 1_000_000_000_000_u64))]
    pub catalog_items: u64,
    /// Zipf exponent (web: 0.6 to 1).
    #[schemars(extend("exclusiveMinimum" = 0), range(max = 3))]
    pub zipf_alpha: f64,
    /// lru (Che) or static (top items).
    pub policy: CachePolicy,
    /// Catalog growth, %/month; default the load's.
    #[schemars(extend("exclusiveMinimum" = -100))]
    pub catalog_monthly_growth_pct: Option<f64>,
}

// One throughput measurement of a load test.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Measurement {
    /// Nodes (or threads) tested.
    #[schemars(range(min = 1))]
    pub nodes: u64,
    /// Requests/s measured.
    #[schemars(extend("exclusiveMinimum" = 0))]
    pub throughput: f64,
}

// The Universal Scalability Law: coefficients, or measurements to fit them from.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ScalabilityArgs {
    /// Contention σ (with kappa, lambda).
    #[schemars(range(min = 0, max = 1))]
    pub sigma: Option<f64>,
    /// Coherency κ.
    #[schemars(range(min = 0, max = 1))]
    pub kappa: Option<f64>,
    /// Requests/s of one node.
    #[schemars(extend("exclusiveMinimum" = 0))]
    pub lambda: Option<f64>,
    /// Or ≥ 3 load-test points, one at nodes = 1.
    pub measurements: Option<Vec<Measurement>>,
    /// Today's load, requests/s.
    #[schemars(extend("exclusiveMinimum" = 0))]
    pub current_rps: f64,
}

// How load grows: `forecast_growth`'s growth arguments, and `scaling_report`'s `growth`
// (applied there to the metrics and users of its `system`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GrowthArgs {
    /// Load growth per month, %. Or growth_multiple, over_months.
    #[schemars(extend("exclusiveMinimum" = -100))]
    pub monthly_growth_pct: Option<f64>,
    /// Load multiple, e.g. 3, in over_months.
    #[schemars(extend("exclusiveMinimum" = 0))]
    pub growth_multiple: Option<f64>,
    /// Months for growth_multiple.
    #[schemars(extend("exclusiveMinimum" = 0))]
    pub over_months: Option<f64>,
    /// Months to forecast. Default 24.
    #[schemars(range(min = 1, max = 120))]
    pub horizon_months: Option<u32>,
    /// Months to add capacity. Default 3.
    #[schemars(range(min = 0, max = 120))]
    pub lead_time_months: Option<f64>,
}

// How load grows and what to follow as it does. Unknown fields are refused by the schema
// (`args::parse` checks it before serde reads the map; serde's `deny_unknown_fields` does not
// combine with `flatten`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct ForecastArgs {
    /// How load grows, as `scaling_report`'s `growth` takes it too.
    #[serde(flatten)]
    pub growth: GrowthArgs,
    /// Database CPU, %.
    #[schemars(range(min = 0, max = 100))]
    pub db_cpu_pct: Option<f64>,
    /// App server CPU, %.
    #[schemars(range(min = 0, max = 100))]
    pub app_cpu_pct: Option<f64>,
    /// DB read load, %.
    #[schemars(range(min = 0, max = 100))]
    pub db_read_load_pct: Option<f64>,
    /// Primary's write load, %.
    #[schemars(range(min = 0, max = 100))]
    pub db_write_load_pct: Option<f64>,
    /// DB pool in use, %.
    #[schemars(range(min = 0, max = 100))]
    pub pool_utilization_pct: Option<f64>,
    /// Other resources (disk, IOPS, memory).
    #[serde(default)]
    pub resources: Vec<ResourceArgs>,
    /// Active users (stages crossed).
    pub users: Option<u64>,
    /// p95 today, ms (with utilization_pct).
    #[schemars(extend("exclusiveMinimum" = 0))]
    pub p95_latency_ms: Option<f64>,
    /// Busy share of what serves requests, %.
    #[schemars(range(min = 0, max = 100))]
    pub utilization_pct: Option<f64>,
    /// An M/M/c queue to follow.
    pub queueing: Option<QueueingArgs>,
    /// A Zipf cache to follow.
    pub cache: Option<CacheArgs>,
    /// A USL scalability curve.
    pub scalability: Option<ScalabilityArgs>,
    /// Cost today, USD/month.
    #[schemars(range(min = 0))]
    pub current_monthly_cost_usd: Option<f64>,
    /// concise (default) or full (adds by_month).
    #[serde(default)]
    pub detail: Detail,
}

/// Where a resource stands today.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Below its warning line, and it will get there.
    Ok,
    WarningNow,
    CriticalNow,
    /// Below its warning line, and it never gets there (flat or shrinking load).
    Never,
}

/// One resource's forecast.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ResourceForecast {
    /// The argument name for the five load-driven metrics, else the name given.
    pub name: String,
    pub current: f64,
    pub warning: f64,
    /// Null when its row has no critical line.
    pub critical: Option<f64>,
    /// The growth it follows, % a month.
    pub monthly_growth_pct: f64,
    /// warning / current: the load multiple it absorbs before warning; null at 0.
    pub break_multiple: Option<f64>,
    /// ln(warning / current) / ln(1 + g); 0 when already there, null when never.
    pub months_to_warning: Option<f64>,
    pub months_to_critical: Option<f64>,
    /// months_to_critical − lead time, at least 0; null without a critical line.
    pub order_by_month: Option<f64>,
    pub status: Status,
    /// The finding whose thresholds apply (load-driven metrics), or null.
    pub finding: Option<String>,
}

/// The first resource to reach its warning line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct FirstToBreak {
    pub name: String,
    pub months_to_warning: Option<f64>,
    pub months_to_critical: Option<f64>,
    pub order_by_month: Option<f64>,
}

/// p95 latency as an M/M/1 response time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct LatencyForecast {
    pub p95_latency_ms: f64,
    pub utilization_pct: f64,
    /// The warning line of high_latency, ms.
    pub warning_ms: f64,
    pub critical_ms: Option<f64>,
    pub months_to_warning: Option<f64>,
    pub months_to_critical: Option<f64>,
    /// When utilization reaches 100% and the queue grows without bound.
    pub months_to_saturation: Option<f64>,
    pub order_by_month: Option<f64>,
    /// Null when saturated by the horizon.
    pub p95_at_horizon_ms: Option<f64>,
}

/// An M/M/c queue's state at one load.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct QueueState {
    pub month: f64,
    pub arrival_rps: f64,
    pub utilization_pct: f64,
    /// Null when saturated.
    pub probability_of_waiting: Option<f64>,
    pub mean_wait_ms: Option<f64>,
    pub mean_response_ms: Option<f64>,
}

/// An M/M/c queue (Erlang C), today and as load grows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct QueueingForecast {
    pub servers: u64,
    pub arrival_rps: f64,
    pub service_time_ms: f64,
    /// ρ = λS/c today, %.
    pub utilization_pct: f64,
    /// Erlang C: the chance a request waits.
    pub probability_of_waiting: f64,
    pub mean_wait_ms: f64,
    pub mean_response_ms: f64,
    /// The document's target utilization, %.
    pub target_utilization_pct: f64,
    /// When ρ passes the target; 0 when already past.
    pub months_to_target: Option<f64>,
    /// When ρ reaches 1.
    pub months_to_saturation: Option<f64>,
    /// Servers keeping ρ at or under the target today.
    pub servers_needed_now: Option<u64>,
    pub servers_needed_at_horizon: Option<u64>,
    /// The queue at each checkpoint with today's servers.
    pub by_checkpoint: Vec<QueueState>,
}

/// A Zipf cache as its catalog grows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct CacheForecast {
    pub policy: CachePolicy,
    pub cache_items: u64,
    pub catalog_items: u64,
    pub zipf_alpha: f64,
    /// The catalog's growth, % a month.
    pub catalog_monthly_growth_pct: f64,
    /// Hit rate today, %.
    pub hit_rate_pct: f64,
    /// Bound on the approximation error of hit_rate_pct, percentage points.
    pub hit_rate_error_bound_pct: f64,
    /// The low_cache_hit_rate line, %.
    pub threshold_pct: f64,
    /// When the hit rate falls below the line; 0 when already below; null when not within the horizon.
    pub months_below_threshold: Option<f64>,
    pub catalog_items_at_horizon: f64,
    pub hit_rate_at_horizon_pct: f64,
    /// Items that keep the hit rate at the line at the horizon.
    pub cache_items_needed_at_horizon: Option<f64>,
}

/// A USL curve against today's and tomorrow's load.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ScalabilityForecast {
    pub sigma: f64,
    pub kappa: f64,
    pub lambda: f64,
    /// True when fitted from measurements.
    pub fitted: bool,
    /// N* = sqrt((1 − σ)/κ); null when κ = 0 (no peak).
    pub peak_nodes: Option<f64>,
    /// The most the curve carries, requests/s; null when unbounded.
    pub max_throughput_rps: Option<f64>,
    pub current_rps: f64,
    /// Fewest whole nodes for today's load; null when none suffices.
    pub nodes_needed: Option<u64>,
    pub nodes_needed_at_horizon: Option<u64>,
    /// When the load passes the peak throughput; 0 when already past.
    pub months_to_ceiling: Option<f64>,
}

/// A stage boundary the user count crosses.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct StageCrossing {
    pub month: f64,
    pub stage: StageRef,
    /// Components that stage adds.
    pub add: Vec<String>,
}

/// The monthly cost scaled with load.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct CostForecast {
    pub current_monthly_cost_usd: f64,
    pub at_horizon_usd: f64,
    /// The cost band of the users at the horizon, with users.
    pub band_at_horizon: Option<CostRange>,
}

/// One crossing, in time order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct TimelineEvent {
    pub month: f64,
    /// What it concerns (a resource, latency, queueing, cache, scalability, users).
    pub subject: String,
    pub event: String,
}

/// One value at a checkpoint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct CheckpointValue {
    pub name: String,
    /// Percentages capped at 100; null when unbounded (a saturated queue).
    pub value: Option<f64>,
    /// True when capped or unbounded.
    pub saturated: bool,
}

/// The load multiple and each value at one month.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Checkpoint {
    pub month: u32,
    pub load_multiple: f64,
    pub values: Vec<CheckpointValue>,
}

/// One line of the chart: a metric by month, with its lines.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ChartSeries {
    pub name: String,
    /// At each of the chart's months, capped at 100.
    pub values: Vec<f64>,
    pub warning: f64,
    pub critical: Option<f64>,
}

/// The load-driven metrics by month against their thresholds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Chart {
    pub months: Vec<u32>,
    pub series: Vec<ChartSeries>,
}

/// A list cut to keep the answer within its size budget (contract §6).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Truncated {
    pub field: String,
    pub shown: usize,
    pub total: usize,
    pub how_to_get_more: String,
}

/// Workings shown in `concise` detail; `full` shows them all.
const CONCISE_WORKINGS: usize = 40;
/// Values (months × followed quantities) that `by_month` holds at most.
const BY_MONTH_VALUES: usize = 2500;

/// The forecast.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Forecast {
    /// The answer: what breaks first, in which month, and by when to start.
    pub summary: String,
    /// Load growth, % a month.
    pub monthly_growth_pct: f64,
    /// ln 2 / ln(1 + g); null when load does not grow.
    pub doubling_months: Option<f64>,
    pub horizon_months: u32,
    pub lead_time_months: f64,
    /// Sorted by months_to_warning, nulls last.
    pub resources: Vec<ResourceForecast>,
    pub first_to_break: Option<FirstToBreak>,
    pub latency: Option<LatencyForecast>,
    pub queueing: Option<QueueingForecast>,
    pub cache: Option<CacheForecast>,
    pub scalability: Option<ScalabilityForecast>,
    /// Stage boundaries crossed within the horizon.
    pub stages: Vec<StageCrossing>,
    pub cost: Option<CostForecast>,
    /// Every crossing within the horizon, in time order.
    pub timeline: Vec<TimelineEvent>,
    /// Months 0, 3, 6, 12, 24 within the horizon, and the horizon.
    pub checkpoints: Vec<Checkpoint>,
    pub chart: Chart,
    /// Every month through the horizon (detail full only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub by_month: Option<Vec<Checkpoint>>,
    /// What the forecast assumes.
    pub assumptions: Vec<String>,
    /// Every figure: formula, numbers substituted, value.
    pub workings: Vec<Working>,
    pub defaults_applied: Vec<DefaultApplied>,
    pub missing_inputs: Vec<MissingInput>,
    /// Lists cut to keep the answer small, and how to get the rest.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub truncated: Vec<Truncated>,
    pub sources: Vec<String>,
}

// ---------------------------------------------------------------------------------------------
// The tables of `growth-models` and the thresholds of `monitoring`.

struct GrowthDefaults {
    lead_time_months: f64,
    horizon_months: u32,
    target_utilization_pct: f64,
}

/// The tables `forecast_growth` applies, read once from the knowledge base.
pub struct GrowthTables {
    defaults: GrowthDefaults,
    defaults_uri: String,
    formulas: Formulas,
    /// The thresholds of each load-driven metric, in `LOAD_DRIVEN` order.
    metrics: Vec<MetricThresholds>,
    latency: MetricThresholds,
    hit_rate: MetricThresholds,
    section_uri: String,
}

/// The quantities of `growth-models#formulas` and the operands of each formula: those
/// `forecast_growth` computes in closed form, then those of the growth fit, which
/// `trend::TrendRules` evaluates from the same table (one table, so one list).
pub(crate) const FORMULAS: [(&str, &[&str]); 19] = [
    ("monthly_growth_pct", &["growth_multiple", "over_months"]),
    ("doubling_months", &["monthly_growth_pct"]),
    ("load_multiple", &["monthly_growth_pct", "month"]),
    (
        "months_to_threshold",
        &["threshold", "current", "monthly_growth_pct"],
    ),
    ("break_multiple", &["warning", "current"]),
    (
        "order_by_month",
        &["months_to_critical", "lead_time_months"],
    ),
    (
        "p95_at_multiple",
        &["p95_latency_ms", "utilization_pct", "load_multiple"],
    ),
    (
        "latency_break_multiple",
        &["p95_latency_ms", "utilization_pct", "threshold"],
    ),
    ("saturation_multiple", &["utilization_pct"]),
    (
        "queue_utilization_pct",
        &["arrival_rps", "service_time_ms", "servers"],
    ),
    (
        "mean_wait_ms",
        &[
            "probability_of_waiting",
            "service_time_ms",
            "servers",
            "arrival_rps",
        ],
    ),
    ("mean_response_ms", &["mean_wait_ms", "service_time_ms"]),
    (
        "servers_needed",
        &[
            "arrival_rps",
            "load_multiple",
            "service_time_ms",
            "target_utilization_pct",
        ],
    ),
    ("usl_throughput", &["lambda", "nodes", "sigma", "kappa"]),
    ("peak_nodes", &["sigma", "kappa"]),
    (
        "cost_at_multiple",
        &["current_monthly_cost_usd", "load_multiple"],
    ),
    (
        "fitted_monthly_growth_pct",
        &["days_per_month", "slope_per_day"],
    ),
    (
        "fitted_ci95_low_pct",
        &[
            "days_per_month",
            "slope_per_day",
            "t_quantile",
            "slope_standard_error",
        ],
    ),
    (
        "fitted_ci95_high_pct",
        &[
            "days_per_month",
            "slope_per_day",
            "t_quantile",
            "slope_standard_error",
        ],
    ),
];

const DEFAULTS: [&str; 3] = [
    "lead_time_months",
    "horizon_months",
    "target_utilization_pct",
];

impl GrowthTables {
    pub(crate) fn load(
        knowledge: &Knowledge,
        diagnose: &DiagnosisRules,
    ) -> Result<Self, KnowledgeError> {
        let table = knowledge.table("growth-models", "defaults")?;
        table.require_columns(&["parameter", "default", "source"])?;
        for row in table.rows() {
            row.required("source")?;
        }
        let values = read_defaults::<ForecastArgs>(&table, &DEFAULTS)?;
        let target = values[2];
        if !(target > 0.0 && target < 100.0) {
            let row = table.rows().find(|r| {
                r.text("parameter")
                    .is_ok_and(|p| p == "target_utilization_pct")
            });
            let message = "the default of `target_utilization_pct` must lie above 0 and below 100";
            return Err(match row {
                Some(row) => row.error(message),
                None => table.error(message),
            });
        }
        let defaults = GrowthDefaults {
            lead_time_months: values[0],
            // `read_defaults` checked a whole number from 1 to 120.
            horizon_months: values[1] as u32,
            target_utilization_pct: target,
        };
        let defaults_uri = table.uri();
        let formulas = Formulas::load(knowledge, "growth-models", "formulas", &FORMULAS)?;
        let findings = knowledge.table("monitoring", "diagnostic-findings")?;
        let threshold = |metric: &str| {
            diagnose.thresholds(metric).ok_or_else(|| {
                findings.error(format!(
                    "no finding has a warning threshold on `{metric}`, which forecast_growth forecasts against"
                ))
            })
        };
        let metrics = LOAD_DRIVEN
            .iter()
            .map(|m| threshold(m))
            .collect::<Result<Vec<_>, _>>()?;
        let latency = threshold("p95_latency_ms")?;
        let hit_rate = threshold("cache_hit_rate_pct")?;
        // The forecast follows growing metrics upwards and the hit rate downwards: a row that
        // compares the other way is not one it can forecast against.
        let rising = [Comparison::Above, Comparison::AtLeast];
        for (metric, t) in LOAD_DRIVEN
            .iter()
            .zip(&metrics)
            .chain([(&"p95_latency_ms", &latency)])
        {
            if !rising.contains(&t.comparison) {
                return Err(findings.error(format!(
                    "the finding `{}` warns on `{metric}` falling ({} {}); forecast_growth needs a rising threshold (> or >=)",
                    t.finding,
                    t.comparison.symbol(),
                    t.warning
                )));
            }
        }
        if rising.contains(&hit_rate.comparison) {
            return Err(findings.error(format!(
                "the finding `{}` warns on `cache_hit_rate_pct` rising; forecast_growth needs a falling threshold (< or <=)",
                hit_rate.finding
            )));
        }
        let section_uri = format!("{}growth-models", knowledge::URI_SCHEME);
        Ok(Self {
            defaults,
            defaults_uri,
            formulas,
            metrics,
            latency,
            hit_rate,
            section_uri,
        })
    }
}

// ---------------------------------------------------------------------------------------------
// The arithmetic.

/// A monthly growth rate as `ln(1 + g)`, the form every month count divides by.
#[derive(Debug, Clone, Copy)]
struct Rate {
    pct: f64,
    log: f64,
}

impl Rate {
    fn from_pct(pct: f64) -> Self {
        Self {
            pct,
            log: (pct / 100.0).ln_1p(),
        }
    }
    fn multiple(self, month: f64) -> f64 {
        (self.log * month).exp()
    }
}

/// Months until `current`, growing `monthly_growth_pct` a month, reaches `threshold` (0 when
/// already there, `None` when never): what `diagnose_bottleneck` reports as headroom.
pub(crate) fn months_at_growth(
    current: f64,
    threshold: f64,
    monthly_growth_pct: f64,
) -> Option<f64> {
    months_to(current, threshold, Rate::from_pct(monthly_growth_pct))
}

/// Months until `current` growing at `rate` reaches `threshold`: 0 when already there, `None`
/// when never (no growth, a zero start, or later than any finite month).
fn months_to(current: f64, threshold: f64, rate: Rate) -> Option<f64> {
    if current >= threshold {
        return Some(0.0);
    }
    if current <= 0.0 || rate.log <= 0.0 {
        return None;
    }
    let months = (threshold.ln() - current.ln()) / rate.log;
    months.is_finite().then_some(months)
}

/// The workings and sources a forecast accumulates.
struct Book<'a> {
    formulas: &'a Formulas,
    workings: Vec<Working>,
    sources: Vec<String>,
}

impl Book<'_> {
    /// The value of `quantity` by its formula in `growth-models#formulas`, evaluated as
    /// written, with its working under `label`.
    fn show(&mut self, label: String, quantity: &str, operands: &[(&str, f64)]) -> f64 {
        let operands: Vec<(&str, Figure)> = operands
            .iter()
            .map(|(n, v)| (*n, Figure::Amount(*v)))
            .collect();
        // `load` checked that each formula names only these operands, all of them given.
        let value = self
            .formulas
            .evaluate(quantity, &operands)
            .unwrap_or(f64::NAN);
        let mut working = self
            .formulas
            .working(quantity, &operands, Figure::Amount(value));
        working.quantity = label;
        self.workings.push(working);
        self.formulas.cite(quantity, &mut self.sources);
        value
    }

    /// A quantity by its formula with its working, or `None` (and no working) when the value
    /// is not a finite number (a warning line over a current value near zero overflows).
    fn show_finite(
        &mut self,
        label: String,
        quantity: &str,
        operands: &[(&str, f64)],
    ) -> Option<f64> {
        let figures: Vec<(&str, Figure)> = operands
            .iter()
            .map(|(n, v)| (*n, Figure::Amount(*v)))
            .collect();
        let value = self.formulas.evaluate(quantity, &figures).ok()?;
        value
            .is_finite()
            .then(|| self.show(label, quantity, operands))
    }

    /// A count by its formula (which rounds up with `ceil`), with its working; `None` when it
    /// does not fit a whole number.
    fn count(&mut self, label: String, quantity: &str, operands: &[(&str, f64)]) -> Option<u64> {
        let figures: Vec<(&str, Figure)> = operands
            .iter()
            .map(|(n, v)| (*n, Figure::Amount(*v)))
            .collect();
        let value = ceil_whole(self.formulas.evaluate(quantity, &figures).ok()?)?;
        let mut working = self
            .formulas
            .working(quantity, &figures, Figure::Count(value));
        working.quantity = label;
        self.workings.push(working);
        self.formulas.cite(quantity, &mut self.sources);
        Some(value)
    }

    /// Months to a threshold, with its working when it is a crossing still to come.
    fn months(&mut self, label: String, current: f64, threshold: f64, rate: Rate) -> Option<f64> {
        // Whether it is reached at all is decided here (0 when already there, never without
        // growth); when it is still to come, the formula gives the month.
        match months_to(current, threshold, rate) {
            Some(m) if m > 0.0 => {
                let m = self.show(
                    label,
                    "months_to_threshold",
                    &[
                        ("threshold", threshold),
                        ("current", current),
                        ("monthly_growth_pct", rate.pct),
                    ],
                );
                m.is_finite().then_some(m)
            }
            other => other,
        }
    }
}

/// A followed quantity before it is sorted into the result.
struct Tracked {
    name: String,
    current: f64,
    warning: f64,
    critical: Option<f64>,
    rate: Rate,
    finding: Option<String>,
    percent: bool,
}

fn growth_refusal(field: &str, value: f64, horizon: u32) -> ArgError {
    let limit = (LARGEST_LOG_MULTIPLE / f64::from(horizon)).exp_m1() * 100.0;
    ArgError::number(
        field,
        value,
        format!(
            "a growth whose load multiple over {horizon} months stays below e^{LARGEST_LOG_MULTIPLE} (at most {}% a month)",
            show(limit)
        ),
    )
}

fn value_at(current: f64, rate: Rate, month: f64, percent: bool) -> (f64, bool) {
    let value = current * rate.multiple(month);
    if percent && value > 100.0 {
        (100.0, true)
    } else {
        (value, false)
    }
}

/// `x` rounded to `digits` significant digits.
fn significant(x: f64, digits: i32) -> f64 {
    if x == 0.0 || !x.is_finite() {
        return x;
    }
    let scale = 10f64.powi(digits - 1 - x.abs().log10().floor() as i32);
    (x * scale).round() / scale
}

fn fmt_months(months: Option<f64>) -> String {
    match months {
        Some(0.0) => "now".into(),
        Some(m) => format!("month {m:.1}"),
        None => "never".into(),
    }
}

/// Forecasts the growth described by `args`.
pub fn run(advisor: &Advisor, args: ForecastArgs) -> Result<Forecast, ArgError> {
    let catalog = advisor.tables::<ForecastGrowth>()?;
    let diagnosis_rules = advisor.tables::<DiagnoseBottleneck>()?;
    let mut book = Book {
        formulas: &catalog.formulas,
        workings: Vec::new(),
        sources: Vec::new(),
    };
    let mut defaults_applied = Vec::new();
    let mut missing_inputs = Vec::new();
    let mut assumptions = Vec::new();

    let horizon = args.growth.horizon_months.unwrap_or_else(|| {
        defaults_applied.push(DefaultApplied {
            parameter: "horizon_months".into(),
            value: Figure::Count(u64::from(catalog.defaults.horizon_months)),
        });
        catalog.defaults.horizon_months
    });
    let lead_time = args.growth.lead_time_months.unwrap_or_else(|| {
        defaults_applied.push(DefaultApplied {
            parameter: "lead_time_months".into(),
            value: Figure::Amount(catalog.defaults.lead_time_months),
        });
        catalog.defaults.lead_time_months
    });
    let horizon_f = f64::from(horizon);

    // Growth: exactly one of the two forms.
    let rate = match (
        args.growth.monthly_growth_pct,
        args.growth.growth_multiple,
        args.growth.over_months,
    ) {
        (Some(_), Some(multiple), _) => {
            return Err(ArgError::number(
                "growth_multiple",
                multiple,
                "no growth_multiple when monthly_growth_pct is given (give exactly one growth form)",
            ));
        }
        (Some(_), None, Some(over)) => {
            return Err(ArgError::number(
                "over_months",
                over,
                "no over_months without growth_multiple (it is the period of growth_multiple)",
            ));
        }
        (None, None, Some(over)) => {
            return Err(ArgError::number(
                "over_months",
                over,
                "over_months only together with growth_multiple (e.g. growth_multiple 10, over_months 12)",
            ));
        }
        (None, Some(multiple), None) => {
            return Err(ArgError::new(
                "over_months",
                "nothing (over_months is missing)",
                format!(
                    "the months over which growth_multiple {} happens, a number above 0",
                    show(multiple)
                ),
            ));
        }
        (None, None, None) => {
            return Err(ArgError::new(
                "monthly_growth_pct",
                "neither monthly_growth_pct nor growth_multiple",
                "exactly one growth form: monthly_growth_pct (10 = 10% a month), or growth_multiple with over_months (10 in 12 = 10x in a year)",
            ));
        }
        (Some(pct), None, None) => {
            let rate = Rate::from_pct(pct);
            if rate.log * horizon_f > LARGEST_LOG_MULTIPLE {
                return Err(growth_refusal("monthly_growth_pct", pct, horizon));
            }
            rate
        }
        (None, Some(multiple), Some(over)) => {
            let log = multiple.ln() / over;
            let pct = log.exp_m1() * 100.0;
            if !log.is_finite() || !pct.is_finite() || log * horizon_f > LARGEST_LOG_MULTIPLE {
                return Err(growth_refusal("growth_multiple", multiple, horizon));
            }
            let pct = book.show(
                "monthly_growth_pct".into(),
                "monthly_growth_pct",
                &[("growth_multiple", multiple), ("over_months", over)],
            );
            Rate { pct, log }
        }
    };
    let doubling_months = (rate.log > 0.0).then(|| {
        book.show(
            "doubling_months".into(),
            "doubling_months",
            &[("monthly_growth_pct", rate.pct)],
        )
    });
    let horizon_multiple = book.show(
        "load_multiple at the horizon".into(),
        "load_multiple",
        &[("monthly_growth_pct", rate.pct), ("month", horizon_f)],
    );

    // What to follow: the five metrics, then the caller's resources.
    let mut tracked = Vec::new();
    let given = [
        args.db_cpu_pct,
        args.app_cpu_pct,
        args.db_read_load_pct,
        args.db_write_load_pct,
        args.pool_utilization_pct,
    ];
    for ((name, value), thresholds) in LOAD_DRIVEN.iter().zip(given).zip(&catalog.metrics) {
        if let Some(current) = value {
            tracked.push(Tracked {
                name: (*name).to_string(),
                current,
                warning: thresholds.warning,
                critical: thresholds.critical,
                rate,
                finding: Some(thresholds.finding.to_string()),
                percent: true,
            });
            push_unique(&mut book.sources, thresholds.uri.to_string());
        }
    }
    if args.resources.len() > 100 {
        return Err(ArgError::new(
            "resources",
            format!("a list of {} resources", args.resources.len()),
            "at most 100 resources",
        ));
    }
    for (i, resource) in args.resources.iter().enumerate() {
        let field = |f: &str| format!("resources[{i}].{f}");
        let name = resource.name.trim();
        if name.chars().count() > 100 {
            return Err(ArgError::new(
                &field("name"),
                format!("a name of {} characters", name.chars().count()),
                "a name of at most 100 characters",
            ));
        }
        if name.is_empty() {
            return Err(ArgError::new(
                &field("name"),
                "an empty name",
                "a name such as disk_gb or iops",
            ));
        }
        if tracked.iter().any(|t: &Tracked| t.name == name) {
            return Err(ArgError::new(
                &field("name"),
                format!("`{name}`, named twice"),
                "a name not used by another resource or a load-driven metric",
            ));
        }
        if let Some(critical) = resource.critical
            && critical < resource.warning
        {
            return Err(ArgError::number(
                &field("critical"),
                critical,
                format!(
                    "a critical value of at least warning ({})",
                    show(resource.warning)
                ),
            ));
        }
        let own = match resource.monthly_growth_pct {
            Some(pct) => {
                let own = Rate::from_pct(pct);
                if own.log * horizon_f > LARGEST_LOG_MULTIPLE {
                    return Err(growth_refusal(&field("monthly_growth_pct"), pct, horizon));
                }
                own
            }
            None => rate,
        };
        if !(resource.current * own.multiple(horizon_f)).is_finite() {
            return Err(ArgError::number(
                &field("current"),
                resource.current,
                "a value whose growth over the horizon stays finite",
            ));
        }
        tracked.push(Tracked {
            name: name.to_string(),
            current: resource.current,
            warning: resource.warning,
            critical: resource.critical,
            rate: own,
            finding: None,
            percent: name.ends_with("_pct"),
        });
    }

    // Refusals of the models' inputs, before any work.
    if let Some(utilization) = args.utilization_pct
        && utilization >= 100.0
    {
        return Err(ArgError::number(
            "utilization_pct",
            utilization,
            "a utilization below 100 (at 100 the queue is saturated and response time unbounded)",
        ));
    }
    if let Some(q) = &args.queueing {
        let offered = q.arrival_rps * q.service_time_ms / 1000.0;
        if offered.is_nan() || offered >= q.servers as f64 {
            return Err(ArgError::number(
                "queueing.arrival_rps",
                q.arrival_rps,
                format!(
                    "an arrival rate below servers / service time = {} per second (at or above it the queue is saturated today)",
                    show(q.servers as f64 * 1000.0 / q.service_time_ms)
                ),
            ));
        }
        if !(q.arrival_rps * horizon_multiple).is_finite() {
            return Err(ArgError::number(
                "queueing.arrival_rps",
                q.arrival_rps,
                "a rate whose growth over the horizon stays finite",
            ));
        }
    }
    if let Some(c) = &args.cache
        && let Some(pct) = c.catalog_monthly_growth_pct
        && Rate::from_pct(pct).log * horizon_f > LARGEST_LOG_MULTIPLE
    {
        // As a resource's own rate: the catalog at the horizon must stay a finite number.
        return Err(growth_refusal(
            "cache.catalog_monthly_growth_pct",
            pct,
            horizon,
        ));
    }
    if let Some(c) = &args.cache
        && c.cache_items > c.catalog_items
    {
        return Err(ArgError::number(
            "cache.cache_items",
            c.cache_items as f64,
            format!("at most catalog_items ({})", c.catalog_items),
        ));
    }
    let usl = match &args.scalability {
        Some(s) => Some(usl_coefficients(s)?),
        None => None,
    };
    if let Some(cost) = args.current_monthly_cost_usd
        && !(cost * horizon_multiple).is_finite()
    {
        return Err(ArgError::number(
            "current_monthly_cost_usd",
            cost,
            "a cost whose growth over the horizon stays finite",
        ));
    }
    let anything = !tracked.is_empty()
        || args.users.is_some()
        || args.p95_latency_ms.is_some()
        || args.queueing.is_some()
        || args.cache.is_some()
        || args.scalability.is_some()
        || args.current_monthly_cost_usd.is_some();
    if !anything {
        return Err(ArgError::new(
            "arguments",
            if args.utilization_pct.is_some() {
                "a growth rate and utilization_pct without p95_latency_ms"
            } else {
                "a growth rate and nothing to forecast"
            },
            "something to forecast besides the growth: a load-driven metric (db_cpu_pct, app_cpu_pct, db_read_load_pct, db_write_load_pct, pool_utilization_pct), resources, users, p95_latency_ms with utilization_pct, queueing, cache, scalability or current_monthly_cost_usd",
        ));
    }

    // Resources: months to each line, the break multiple and the order-by month.
    let mut resources = Vec::new();
    for t in &tracked {
        let label = |what: &str| format!("resources.{}.{what}", t.name);
        let break_multiple = (t.current > 0.0)
            .then(|| {
                book.show_finite(
                    label("break_multiple"),
                    "break_multiple",
                    &[("warning", t.warning), ("current", t.current)],
                )
            })
            .flatten();
        let months_to_warning =
            book.months(label("months_to_warning"), t.current, t.warning, t.rate);
        let months_to_critical = t
            .critical
            .and_then(|c| book.months(label("months_to_critical"), t.current, c, t.rate));
        let order_by_month = order_by(
            &mut book,
            label("order_by_month"),
            months_to_critical,
            lead_time,
        );
        let status = if t.critical.is_some_and(|c| t.current >= c) {
            Status::CriticalNow
        } else if t.current >= t.warning {
            Status::WarningNow
        } else if months_to_warning.is_none() {
            Status::Never
        } else {
            Status::Ok
        };
        resources.push(ResourceForecast {
            name: t.name.clone(),
            current: t.current,
            warning: t.warning,
            critical: t.critical,
            monthly_growth_pct: t.rate.pct,
            break_multiple,
            months_to_warning,
            months_to_critical,
            order_by_month,
            status,
            finding: t.finding.clone(),
        });
    }
    let order = |m: Option<f64>| m.unwrap_or(f64::INFINITY);
    resources.sort_by(|a, b| {
        order(a.months_to_warning)
            .total_cmp(&order(b.months_to_warning))
            .then(order(a.months_to_critical).total_cmp(&order(b.months_to_critical)))
    });

    // p95 latency as an M/M/1 response time.
    let latency = match (args.p95_latency_ms, args.utilization_pct) {
        (Some(p95), Some(utilization)) => Some(latency_forecast(
            &mut book,
            &catalog.latency,
            p95,
            utilization,
            rate,
            lead_time,
            horizon_f,
        )),
        (Some(_), None) => {
            missing_inputs.push(MissingInput {
                field: "utilization_pct".into(),
                enables: "latency".into(),
                where_to_get_it: None,
            });
            None
        }
        (None, Some(_)) => {
            missing_inputs.push(MissingInput {
                field: "p95_latency_ms".into(),
                enables: "latency".into(),
                where_to_get_it: None,
            });
            None
        }
        (None, None) => None,
    };

    let checkpoint_months: Vec<u32> = {
        let mut months: Vec<u32> = [0, 3, 6, 12, 24]
            .into_iter()
            .filter(|m| *m <= horizon)
            .collect();
        if !months.contains(&horizon) {
            months.push(horizon);
        }
        months
    };

    let queueing = args.queueing.as_ref().map(|q| {
        queueing_forecast(
            &mut book,
            q,
            rate,
            horizon_f,
            catalog.defaults.target_utilization_pct,
            &checkpoint_months,
        )
    });
    if queueing.is_some() {
        push_unique(&mut book.sources, catalog.defaults_uri.clone());
    }

    let cache = args.cache.as_ref().map(|c| {
        push_unique(&mut book.sources, catalog.hit_rate.uri.to_string());
        cache_forecast(&mut book, c, rate, horizon_f, &catalog.hit_rate)
    });
    if let Some(c) = &cache {
        push_unique(
            &mut book.sources,
            format!(
                "{}#zipf-popularity-and-cache-hit-rates",
                catalog.section_uri
            ),
        );
        assumptions.push(format!(
            "cache: Zipf popularity with α = {}; {} items summed exactly and the rest by an Euler–Maclaurin tail (error bound {} percentage points)",
            show(c.zipf_alpha),
            crate::growth_models::HEAD_ITEMS,
            show(c.hit_rate_error_bound_pct)
        ));
    }

    let scalability = match (&args.scalability, usl) {
        (Some(s), Some((sigma, kappa, lambda, fitted, notes))) => {
            assumptions.extend(notes);
            push_unique(
                &mut book.sources,
                format!("{}#universal-scalability-law", catalog.section_uri),
            );
            Some(scalability_forecast(
                &mut book,
                sigma,
                kappa,
                lambda,
                fitted,
                s.current_rps,
                rate,
                horizon_f,
            ))
        }
        _ => None,
    };

    // Stages the user count crosses.
    let mut stages = Vec::new();
    match args.users {
        Some(users) => {
            let users = users as f64;
            let now = diagnosis_rules.stages.for_users(users);
            for stage in diagnosis_rules.stages.iter().filter(|s| s.number > now) {
                if let Some(month) = book.months(
                    format!("stages.{}.month", stage.number),
                    users,
                    stage.min_users,
                    rate,
                ) && month <= horizon_f
                {
                    stages.push(StageCrossing {
                        month,
                        stage: StageRef {
                            number: stage.number,
                            name: stage.name.clone(),
                        },
                        add: stage.add.clone(),
                    });
                }
            }
            push_unique(&mut book.sources, diagnosis_rules.stages_uri().to_string());
        }
        None => missing_inputs.push(MissingInput {
            field: "users".into(),
            enables: "stages".into(),
            where_to_get_it: None,
        }),
    }

    // Cost, scaled with load, beside the band of the users at the horizon.
    let cost = match args.current_monthly_cost_usd {
        Some(current) => {
            let at_horizon = book.show(
                "cost.at_horizon_usd".into(),
                "cost_at_multiple",
                &[
                    ("current_monthly_cost_usd", current),
                    ("load_multiple", horizon_multiple),
                ],
            );
            let band_at_horizon = args.users.and_then(|users| {
                let at = (users as f64 * horizon_multiple).min(u64::MAX as f64) as u64;
                let plan = crate::plan_capacity::run(
                    advisor,
                    PlanCapacityArgs {
                        peak_rps: 1.0,
                        users: Some(at),
                        ..Default::default()
                    },
                )
                .ok()?;
                for uri in plan.sources.iter().filter(|u| u.contains("cost")) {
                    push_unique(&mut book.sources, uri.clone());
                }
                plan.monthly_cost_usd
            });
            Some(CostForecast {
                current_monthly_cost_usd: current,
                at_horizon_usd: at_horizon,
                band_at_horizon,
            })
        }
        None => {
            missing_inputs.push(MissingInput {
                field: "current_monthly_cost_usd".into(),
                enables: "cost".into(),
                where_to_get_it: None,
            });
            None
        }
    };

    // The timeline: every crossing within the horizon.
    let mut timeline = Vec::new();
    let mut event = |month: Option<f64>, subject: &str, text: String| {
        if let Some(m) = month.filter(|m| *m <= horizon_f) {
            timeline.push(TimelineEvent {
                month: m,
                subject: subject.to_string(),
                event: text,
            });
        }
    };
    for r in &resources {
        if let Some(order_by) = r.order_by_month
            && r.status != Status::CriticalNow
        {
            event(
                Some(order_by),
                &r.name,
                format!(
                    "start adding capacity for {} (lead time {} months)",
                    r.name,
                    show(lead_time)
                ),
            );
        }
        event(
            r.months_to_warning,
            &r.name,
            format!("{} reaches its warning line ({})", r.name, show(r.warning)),
        );
        if let Some(c) = r.critical {
            event(
                r.months_to_critical,
                &r.name,
                format!("{} reaches its critical line ({})", r.name, show(c)),
            );
        }
    }
    if let Some(l) = &latency {
        event(
            l.months_to_warning,
            "latency",
            format!("p95 latency reaches {} ms (warning)", show(l.warning_ms)),
        );
        if let Some(c) = l.critical_ms {
            event(
                l.months_to_critical,
                "latency",
                format!("p95 latency reaches {} ms (critical)", show(c)),
            );
        }
        event(
            l.months_to_saturation,
            "latency",
            "utilization reaches 100%: response time grows without bound".into(),
        );
    }
    if let Some(q) = &queueing {
        event(
            q.months_to_target,
            "queueing",
            format!(
                "queue utilization passes the {}% target",
                show(q.target_utilization_pct)
            ),
        );
        event(
            q.months_to_saturation,
            "queueing",
            format!("the queue saturates with {} servers", q.servers),
        );
    }
    if let Some(c) = &cache {
        event(
            c.months_below_threshold,
            "cache",
            format!("cache hit rate falls below {}%", show(c.threshold_pct)),
        );
    }
    if let Some(s) = &scalability {
        event(
            s.months_to_ceiling,
            "scalability",
            "load passes the peak throughput of any node count: partition the system".into(),
        );
    }
    for s in &stages {
        event(
            Some(s.month),
            "users",
            format!(
                "users enter stage {} · {}{}",
                s.stage.number,
                s.stage.name,
                if s.add.is_empty() {
                    String::new()
                } else {
                    format!(" (add {})", s.add.join(", "))
                }
            ),
        );
    }
    timeline.sort_by(|a, b| a.month.total_cmp(&b.month));

    // Checkpoints, the chart and (full) every month.
    let snapshot = |month: u32| -> Checkpoint {
        let m = f64::from(month);
        let mut values: Vec<CheckpointValue> = tracked
            .iter()
            .map(|t| {
                let (value, saturated) = value_at(t.current, t.rate, m, t.percent);
                CheckpointValue {
                    name: t.name.clone(),
                    value: Some(value),
                    saturated,
                }
            })
            .collect();
        if let Some(l) = &latency {
            let rho = l.utilization_pct / 100.0 * rate.multiple(m);
            let p95 = (rho < 1.0)
                .then(|| l.p95_latency_ms * (1.0 - l.utilization_pct / 100.0) / (1.0 - rho));
            values.push(CheckpointValue {
                name: "p95_latency_ms".into(),
                value: p95,
                saturated: p95.is_none(),
            });
        }
        if let Some(users) = args.users {
            values.push(CheckpointValue {
                name: "users".into(),
                value: Some(users as f64 * rate.multiple(m)),
                saturated: false,
            });
        }
        if let Some(cost) = args.current_monthly_cost_usd {
            values.push(CheckpointValue {
                name: "monthly_cost_usd".into(),
                value: Some(cost * rate.multiple(m)),
                saturated: false,
            });
        }
        Checkpoint {
            month,
            load_multiple: rate.multiple(m),
            values,
        }
    };
    let mut checkpoints: Vec<Checkpoint> = checkpoint_months.iter().map(|m| snapshot(*m)).collect();
    if let Some(q) = &queueing {
        for (checkpoint, state) in checkpoints.iter_mut().zip(&q.by_checkpoint) {
            checkpoint.values.push(CheckpointValue {
                name: "queueing.utilization_pct".into(),
                value: Some(state.utilization_pct.min(100.0)),
                saturated: state.utilization_pct >= 100.0,
            });
        }
    }
    if let (Some(c), Some(args_cache)) = (&cache, &args.cache) {
        let zipf = Zipf::new(c.zipf_alpha);
        let catalog_rate = Rate::from_pct(c.catalog_monthly_growth_pct);
        for checkpoint in &mut checkpoints {
            let n = (args_cache.catalog_items as f64
                * catalog_rate.multiple(f64::from(checkpoint.month)))
            .max(1.0);
            let hit = hit_rate(&zipf, c.policy, c.cache_items as f64, n).value * 100.0;
            checkpoint.values.push(CheckpointValue {
                name: "cache.hit_rate_pct".into(),
                value: Some(hit),
                saturated: false,
            });
        }
    }
    let step = horizon.div_ceil(12).max(1);
    let mut chart_months: Vec<u32> = (0..=horizon).step_by(step as usize).collect();
    if chart_months.last() != Some(&horizon) {
        chart_months.push(horizon);
    }
    let chart = Chart {
        series: tracked
            .iter()
            .filter(|t| t.finding.is_some())
            .map(|t| ChartSeries {
                name: t.name.clone(),
                values: chart_months
                    .iter()
                    .map(|m| value_at(t.current, t.rate, f64::from(*m), true).0)
                    .collect(),
                warning: t.warning,
                critical: t.critical,
            })
            .collect(),
        months: chart_months,
    };
    let mut truncated = Vec::new();
    let by_month = (args.detail == Detail::Full).then(|| {
        let per_month = checkpoints.first().map_or(1, |c| c.values.len().max(1));
        let months = (horizon as usize + 1).min((BY_MONTH_VALUES / per_month).max(2));
        let total = horizon as usize + 1;
        if months < total {
            let step = horizon.div_ceil(months as u32 - 1).max(1);
            let mut list: Vec<u32> = (0..=horizon).step_by(step as usize).collect();
            if list.last() != Some(&horizon) {
                list.push(horizon);
            }
            truncated.push(Truncated {
                field: "by_month".into(),
                shown: list.len(),
                total,
                how_to_get_more: format!(
                    "every {step} months shown; ask for fewer resources or a shorter horizon_months for every month"
                ),
            });
            list.into_iter().map(snapshot).collect()
        } else {
            (0..=horizon).map(snapshot).collect()
        }
    });

    let first_to_break = resources
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
        .min_by(|a, b| order(a.months_to_warning).total_cmp(&order(b.months_to_warning)));

    assumptions.insert(
        0,
        format!(
            "load grows {}% a month, compounding, for {horizon} months; the load-driven metrics and resources grow in proportion to load unless given their own rate",
            show(rate.pct)
        ),
    );
    if latency.is_some() {
        assumptions.push("latency: one M/M/1 queue in front of what serves the requests; its utilization grows with load and the p95 scales with the mean response time".into());
        push_unique(&mut book.sources, catalog.latency.uri.to_string());
        push_unique(
            &mut book.sources,
            format!("{}#m-m-1-response-time", catalog.section_uri),
        );
    }
    if queueing.is_some() {
        assumptions.push("queueing: M/M/c (Poisson arrivals, exponential service, one queue for all servers); arrivals grow with load, service time stays".into());
    }
    assumptions.push(format!(
        "capacity takes {} months to put in place (lead_time_months): order_by_month is the month the critical line is reached, less the lead time; a resource without a critical line has none",
        show(lead_time)
    ));
    if !defaults_applied.is_empty() {
        push_unique(&mut book.sources, catalog.defaults_uri.clone());
    }
    push_unique(
        &mut book.sources,
        format!("{}#compound-growth", catalog.section_uri),
    );
    push_unique(
        &mut book.sources,
        format!("{}#lead-time-and-ordering", catalog.section_uri),
    );

    let mut workings = book.workings;
    if args.detail == Detail::Concise && workings.len() > CONCISE_WORKINGS {
        truncated.push(Truncated {
            field: "workings".into(),
            shown: CONCISE_WORKINGS,
            total: workings.len(),
            how_to_get_more: "detail: full shows every working".into(),
        });
        workings.truncate(CONCISE_WORKINGS);
    }

    let mut forecast = Forecast {
        monthly_growth_pct: rate.pct,
        doubling_months,
        horizon_months: horizon,
        lead_time_months: lead_time,
        resources,
        first_to_break,
        latency,
        queueing,
        cache,
        scalability,
        stages,
        cost,
        timeline,
        checkpoints,
        chart,
        by_month,
        summary: String::new(),
        assumptions,
        workings,
        defaults_applied,
        missing_inputs,
        truncated,
        sources: book.sources,
    };
    forecast.summary = summarize(&forecast);
    Ok(forecast)
}

fn order_by(
    book: &mut Book<'_>,
    label: String,
    months: Option<f64>,
    lead_time: f64,
) -> Option<f64> {
    let months = months?;
    if months == 0.0 {
        return Some(0.0);
    }
    let order = book.show(
        label,
        "order_by_month",
        &[
            ("months_to_critical", months),
            ("lead_time_months", lead_time),
        ],
    );
    // Not below 0: a month already past means start now.
    Some(order.max(0.0))
}

fn latency_forecast(
    book: &mut Book<'_>,
    thresholds: &MetricThresholds,
    p95: f64,
    utilization: f64,
    rate: Rate,
    lead_time: f64,
    horizon: f64,
) -> LatencyForecast {
    let rho = utilization / 100.0;
    // The load multiple at which p95 reaches `line`, as months.
    let months_to_line = |book: &mut Book<'_>, line: f64, what: &str| -> Option<f64> {
        if p95 >= line {
            return Some(0.0);
        }
        if rho <= 0.0 {
            return None;
        }
        let multiple = book.show(
            format!("latency.{what}_multiple"),
            "latency_break_multiple",
            &[
                ("p95_latency_ms", p95),
                ("utilization_pct", utilization),
                ("threshold", line),
            ],
        );
        book.months(format!("latency.months_to_{what}"), 1.0, multiple, rate)
    };
    let months_to_warning = months_to_line(book, thresholds.warning, "warning");
    let months_to_critical = thresholds
        .critical
        .and_then(|c| months_to_line(book, c, "critical"));
    let months_to_saturation = if rho > 0.0 {
        let multiple = book.show(
            "latency.saturation_multiple".into(),
            "saturation_multiple",
            &[("utilization_pct", utilization)],
        );
        book.months("latency.months_to_saturation".into(), 1.0, multiple, rate)
    } else {
        None
    };
    let order_by_month = order_by(
        book,
        "latency.order_by_month".into(),
        months_to_critical,
        lead_time,
    );
    let multiple = rate.multiple(horizon);
    let p95_at_horizon_ms = (rho * multiple < 1.0).then(|| {
        book.show(
            "latency.p95_at_horizon_ms".into(),
            "p95_at_multiple",
            &[
                ("p95_latency_ms", p95),
                ("utilization_pct", utilization),
                ("load_multiple", multiple),
            ],
        )
    });
    LatencyForecast {
        p95_latency_ms: p95,
        utilization_pct: utilization,
        warning_ms: thresholds.warning,
        critical_ms: thresholds.critical,
        months_to_warning,
        months_to_critical,
        months_to_saturation,
        order_by_month,
        p95_at_horizon_ms,
    }
}

/// The M/M/c queue at `arrival` requests per second.
fn queue_state(q: &QueueingArgs, arrival: f64, month: f64) -> QueueState {
    let service = q.service_time_ms / 1000.0;
    let offered = arrival * service;
    let utilization_pct = offered / q.servers as f64 * 100.0;
    let (probability_of_waiting, mean_wait_ms, mean_response_ms) = match erlang(q.servers, offered)
    {
        Some((_, waiting)) => {
            let wait = waiting * q.service_time_ms / (q.servers as f64 - offered);
            (Some(waiting), Some(wait), Some(wait + q.service_time_ms))
        }
        None => (None, None, None),
    };
    QueueState {
        month,
        arrival_rps: arrival,
        utilization_pct,
        probability_of_waiting,
        mean_wait_ms,
        mean_response_ms,
    }
}

fn queueing_forecast(
    book: &mut Book<'_>,
    q: &QueueingArgs,
    rate: Rate,
    horizon: f64,
    target: f64,
    checkpoints: &[u32],
) -> QueueingForecast {
    let servers = q.servers as f64;
    let now = queue_state(q, q.arrival_rps, 0.0);
    let utilization_pct = book.show(
        "queueing.utilization_pct".into(),
        "queue_utilization_pct",
        &[
            ("arrival_rps", q.arrival_rps),
            ("service_time_ms", q.service_time_ms),
            ("servers", servers),
        ],
    );
    // `run` refused a saturated queue, so Erlang C is defined today.
    let waiting = now.probability_of_waiting.unwrap_or(1.0);
    let mean_wait_ms = book.show(
        "queueing.mean_wait_ms".into(),
        "mean_wait_ms",
        &[
            ("probability_of_waiting", waiting),
            ("service_time_ms", q.service_time_ms),
            ("servers", servers),
            ("arrival_rps", q.arrival_rps),
        ],
    );
    let mean_response_ms = book.show(
        "queueing.mean_response_ms".into(),
        "mean_response_ms",
        &[
            ("mean_wait_ms", mean_wait_ms),
            ("service_time_ms", q.service_time_ms),
        ],
    );
    let months_to_target = book.months(
        "queueing.months_to_target".into(),
        utilization_pct,
        target,
        rate,
    );
    let months_to_saturation = book.months(
        "queueing.months_to_saturation".into(),
        utilization_pct,
        100.0,
        rate,
    );
    let mut needed = |label: &str, multiple: f64| -> Option<u64> {
        let count = book.count(
            format!("queueing.{label}"),
            "servers_needed",
            &[
                ("arrival_rps", q.arrival_rps),
                ("load_multiple", multiple),
                ("service_time_ms", q.service_time_ms),
                ("target_utilization_pct", target),
            ],
        )?;
        Some(count.max(1))
    };
    let servers_needed_now = needed("servers_needed_now", 1.0);
    let servers_needed_at_horizon = needed("servers_needed_at_horizon", rate.multiple(horizon));
    let by_checkpoint = checkpoints
        .iter()
        .map(|m| {
            let month = f64::from(*m);
            queue_state(q, q.arrival_rps * rate.multiple(month), month)
        })
        .collect();
    QueueingForecast {
        servers: q.servers,
        arrival_rps: q.arrival_rps,
        service_time_ms: q.service_time_ms,
        utilization_pct,
        probability_of_waiting: waiting,
        mean_wait_ms,
        mean_response_ms,
        target_utilization_pct: target,
        months_to_target,
        months_to_saturation,
        servers_needed_now,
        servers_needed_at_horizon,
        by_checkpoint,
    }
}

fn hit_rate(
    zipf: &Zipf,
    policy: CachePolicy,
    cache: f64,
    catalog: f64,
) -> crate::growth_models::Bounded {
    match policy {
        CachePolicy::Lru => zipf.lru_hit(cache, catalog),
        CachePolicy::Static => zipf.static_hit(cache, catalog),
    }
}

fn cache_forecast(
    book: &mut Book<'_>,
    c: &CacheArgs,
    rate: Rate,
    horizon: f64,
    threshold: &MetricThresholds,
) -> CacheForecast {
    let zipf = Zipf::new(c.zipf_alpha);
    let catalog_rate = c.catalog_monthly_growth_pct.map_or(rate, Rate::from_pct);
    let cache = c.cache_items as f64;
    let catalog = c.catalog_items as f64;
    let now = hit_rate(&zipf, c.policy, cache, catalog);
    let line = threshold.warning / 100.0;
    let catalog_at_horizon = (catalog * catalog_rate.multiple(horizon)).max(1.0).floor();
    let at_horizon = hit_rate(&zipf, c.policy, cache, catalog_at_horizon);
    let months_below_threshold = if now.value < line {
        Some(0.0)
    } else if catalog_at_horizon <= catalog {
        None
    } else {
        let crossing = match c.policy {
            CachePolicy::Lru => zipf.lru_catalog_below(cache, line, catalog_at_horizon),
            CachePolicy::Static => zipf.static_catalog_below(cache, line, catalog_at_horizon),
        };
        crossing.and_then(|n| {
            book.months(
                "cache.months_below_threshold".into(),
                catalog,
                n.max(catalog),
                catalog_rate,
            )
        })
    };
    let cache_items_needed_at_horizon = Some(match c.policy {
        CachePolicy::Lru => zipf.lru_items_for(line, catalog_at_horizon),
        CachePolicy::Static => zipf.static_items_for(line, catalog_at_horizon),
    });
    CacheForecast {
        policy: c.policy,
        cache_items: c.cache_items,
        catalog_items: c.catalog_items,
        zipf_alpha: c.zipf_alpha,
        catalog_monthly_growth_pct: catalog_rate.pct,
        hit_rate_pct: now.value * 100.0,
        hit_rate_error_bound_pct: now.error_bound * 100.0,
        threshold_pct: threshold.warning,
        months_below_threshold,
        catalog_items_at_horizon: catalog_at_horizon,
        hit_rate_at_horizon_pct: at_horizon.value * 100.0,
        cache_items_needed_at_horizon,
    }
}

/// σ, κ, λ given or fitted, whether fitted, and what the fit had to assume.
type UslCoefficients = (f64, f64, f64, bool, Vec<String>);

fn usl_coefficients(s: &ScalabilityArgs) -> Result<UslCoefficients, ArgError> {
    for (field, value) in [("sigma", s.sigma), ("kappa", s.kappa)] {
        if let Some(v) = value
            && !(0.0..1.0).contains(&v)
        {
            return Err(ArgError::number(
                &format!("scalability.{field}"),
                v,
                "a coefficient from 0 to below 1",
            ));
        }
    }
    match (&s.measurements, s.sigma, s.kappa, s.lambda) {
        (Some(_), Some(_), _, _) | (Some(_), _, Some(_), _) | (Some(_), _, _, Some(_)) => {
            Err(ArgError::new(
                "scalability.measurements",
                "measurements together with coefficients",
                "either sigma, kappa and lambda, or measurements to fit them from, not both",
            ))
        }
        (None, Some(sigma), Some(kappa), Some(lambda)) => Ok((sigma, kappa, lambda, false, vec![])),
        (None, sigma, kappa, lambda) => {
            let missing = [("sigma", sigma), ("kappa", kappa), ("lambda", lambda)]
                .iter()
                .find(|(_, v)| v.is_none())
                .map_or("sigma", |(n, _)| *n);
            Err(ArgError::new(
                &format!("scalability.{missing}"),
                "nothing (the field is missing)",
                "sigma, kappa and lambda together, or measurements: [{nodes, throughput}] with one at nodes = 1",
            ))
        }
        (Some(points), None, None, None) => {
            let shown = format!("{} measurements", points.len());
            if points.len() < 3 || points.len() > 10_000 {
                return Err(ArgError::new(
                    "scalability.measurements",
                    shown,
                    "3 to 10000 measurements, one at nodes = 1",
                ));
            }
            if !points.iter().any(|p| p.nodes == 1) {
                return Err(ArgError::new(
                    "scalability.measurements",
                    format!("{shown}, none at nodes = 1"),
                    "measurements that include one at nodes = 1 (it gives lambda and the fit's scale)",
                ));
            }
            let pairs: Vec<(f64, f64)> = points
                .iter()
                .map(|p| (p.nodes as f64, p.throughput))
                .collect();
            let (sigma, kappa, lambda) = fit_usl(&pairs).ok_or_else(|| {
                ArgError::new(
                    "scalability.measurements",
                    format!("{shown} with fewer than two distinct node counts above 1"),
                    "measurements at two or more distinct node counts above 1 besides the one at nodes = 1",
                )
            })?;
            let mut notes = vec![format!(
                "scalability: σ = {}, κ = {}, λ = {} fitted by least squares on y = N·X(1)/X(N) − 1 = κ(N−1)² + (σ+κ)(N−1)",
                show(sigma),
                show(kappa),
                show(lambda)
            )];
            let clamp = |name: &str, v: f64, notes: &mut Vec<String>| {
                if v < 0.0 {
                    notes.push(format!(
                        "scalability: the fitted {name} {} is negative (noise larger than the effect) and is taken as 0",
                        show(v)
                    ));
                    0.0
                } else if v >= 1.0 {
                    notes.push(format!(
                        "scalability: the fitted {name} {} is at least 1 and is taken as 0.999999",
                        show(v)
                    ));
                    0.999_999
                } else {
                    v
                }
            };
            let sigma = clamp("σ", sigma, &mut notes);
            let kappa = clamp("κ", kappa, &mut notes);
            Ok((sigma, kappa, lambda, true, notes))
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn scalability_forecast(
    book: &mut Book<'_>,
    sigma: f64,
    kappa: f64,
    lambda: f64,
    fitted: bool,
    current_rps: f64,
    rate: Rate,
    horizon: f64,
) -> ScalabilityForecast {
    let peak_nodes = (kappa > 0.0).then(|| {
        book.show(
            "scalability.peak_nodes".into(),
            "peak_nodes",
            &[("sigma", sigma), ("kappa", kappa)],
        )
    });
    let max_throughput_rps = match peak_nodes {
        Some(n) => {
            // The peak over whole node counts: the better of the two around N*.
            let (lo, hi) = (n.floor().max(1.0), n.ceil().max(1.0));
            let best = if usl_throughput(sigma, kappa, lambda, hi)
                > usl_throughput(sigma, kappa, lambda, lo)
            {
                hi
            } else {
                lo
            };
            let x = book.show(
                "scalability.max_throughput_rps".into(),
                "usl_throughput",
                &[
                    ("lambda", lambda),
                    ("nodes", best),
                    ("sigma", sigma),
                    ("kappa", kappa),
                ],
            );
            Some(x)
        }
        // Amdahl's ceiling λ/σ is approached, never reached: no whole count carries it.
        None if sigma > 0.0 => Some(lambda / sigma),
        None => None,
    };
    let whole = |n: Option<f64>| n.and_then(ceil_whole);
    let nodes_needed = whole(usl_nodes_for(sigma, kappa, lambda, current_rps));
    let at_horizon = current_rps * rate.multiple(horizon);
    let nodes_needed_at_horizon = whole(usl_nodes_for(sigma, kappa, lambda, at_horizon));
    let months_to_ceiling = max_throughput_rps.and_then(|max| {
        book.months(
            "scalability.months_to_ceiling".into(),
            current_rps,
            max,
            rate,
        )
    });
    ScalabilityForecast {
        sigma,
        kappa,
        lambda,
        fitted,
        peak_nodes,
        max_throughput_rps,
        current_rps,
        nodes_needed,
        nodes_needed_at_horizon,
        months_to_ceiling,
    }
}

/// The first line that a model section (latency, queueing, cache, scalability) crosses within
/// the horizon, when it comes before the first resource's warning (`first_to_break`): its
/// month and what crosses. The answer leads with whatever goes first.
fn first_model_crossing(f: &Forecast) -> Option<(f64, String)> {
    let crossings = [
        f.latency.as_ref().and_then(|l| {
            Some((
                l.months_to_warning?,
                format!("p95 latency reaches {} ms", show(l.warning_ms)),
            ))
        }),
        f.queueing.as_ref().and_then(|q| {
            Some((
                q.months_to_target?,
                format!(
                    "queue utilization passes the {}% target",
                    show(q.target_utilization_pct)
                ),
            ))
        }),
        f.cache.as_ref().and_then(|c| {
            Some((
                c.months_below_threshold?,
                format!("cache hit rate falls below {}%", show(c.threshold_pct)),
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

/// "now" or "in month 3.1": [`fmt_months`] as the end of a sentence.
fn when(month: f64) -> String {
    let months = fmt_months(Some(month));
    if month == 0.0 {
        months
    } else {
        format!("in {months}")
    }
}

fn plural(count: usize, one: &str, many: &str) -> String {
    format!("{count} {}", if count == 1 { one } else { many })
}

/// At most 400 characters, the answer first: whatever crosses a line first, resource or model.
fn summarize(f: &Forecast) -> String {
    let resource = f.first_to_break.as_ref().map(|first| {
        let mut s = format!(
            "{} (warning {}",
            first.name,
            fmt_months(first.months_to_warning)
        );
        if let Some(c) = first.months_to_critical {
            let _ = write!(s, ", critical {}", fmt_months(Some(c)));
        }
        if let Some(o) = first.order_by_month {
            let _ = write!(s, "; act by {}", fmt_months(Some(o)));
        }
        s.push(')');
        s
    });
    let mut text = match (first_model_crossing(f), resource) {
        (Some((month, what)), Some(r)) => {
            format!("First to break: {what} {}; then {r}. ", when(month))
        }
        (Some((month, what)), None) => format!("First to break: {what} {}. ", when(month)),
        (None, Some(r)) => format!("First to break: {r}. "),
        (None, None) => "Nothing reaches a warning line at this growth. ".into(),
    };
    // Three significant digits: a summary says "9.59%", the field keeps 9.587269….
    let _ = write!(
        text,
        "Load grows {}%/month",
        show(significant(f.monthly_growth_pct, 3))
    );
    if let Some(d) = f.doubling_months {
        let _ = write!(text, " (doubles every {d:.1} months)");
    }
    if let Some(c) = &f.cache {
        let _ = write!(
            text,
            "; cache hit rate {:.1}% now, {:.1}% in month {}",
            c.hit_rate_pct, c.hit_rate_at_horizon_pct, f.horizon_months
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

// ---------------------------------------------------------------------------------------------
// Markdown.

fn cell(x: Option<f64>) -> String {
    x.map_or("—".into(), |v| format!("{v:.1}"))
}

/// The forecast as markdown: what breaks first and when, the resources, the timeline, the
/// models, a chart, the workings, the sources.
pub fn to_markdown(f: &Forecast) -> String {
    let mut out = String::with_capacity(4096);
    let model = first_model_crossing(f);
    if let Some((month, what)) = &model {
        let _ = writeln!(out, "## Forecast: {what} {}", when(*month));
    }
    match &f.first_to_break {
        Some(first) => {
            // The heading, or the line under a model's heading that crossed earlier.
            let _ = if model.is_none() {
                write!(out, "## Forecast: `{}` breaks first, warning ", first.name)
            } else {
                write!(out, "\nThen `{}`: warning ", first.name)
            };
            out.push_str(&fmt_months(first.months_to_warning));
            if first.months_to_critical.is_some() {
                let _ = write!(out, ", critical {}", fmt_months(first.months_to_critical));
            }
            out.push_str(if model.is_none() { "\n" } else { ".\n" });
            if let Some(o) = first.order_by_month {
                let _ = writeln!(
                    out,
                    "\n**Order capacity by {}** (lead time {} months).",
                    fmt_months(Some(o)),
                    show(f.lead_time_months)
                );
            }
        }
        None if model.is_none() => {
            let _ = writeln!(out, "## Forecast: nothing reaches a warning line");
        }
        None => {}
    }
    let _ = write!(out, "\nLoad grows {}% a month", show(f.monthly_growth_pct));
    if let Some(d) = f.doubling_months {
        let _ = write!(out, " (doubles every {d:.1} months)");
    }
    let _ = writeln!(out, "; horizon {} months.", f.horizon_months);

    if !f.resources.is_empty() {
        let _ = writeln!(
            out,
            "\n| resource | now | warning | critical | break × | warning in | critical in | order by | status |\n|---|---|---|---|---|---|---|---|---|"
        );
        for r in &f.resources {
            let status = match r.status {
                Status::Ok => "ok",
                Status::WarningNow => "warning now",
                Status::CriticalNow => "CRITICAL now",
                Status::Never => "never",
            };
            let _ = writeln!(
                out,
                "| `{}` | {} | {} | {} | {} | {} | {} | {} | {status} |",
                r.name,
                show(r.current),
                show(r.warning),
                r.critical.map_or("—".into(), show),
                r.break_multiple.map_or("—".into(), |b| format!("{b:.2}×")),
                cell(r.months_to_warning),
                cell(r.months_to_critical),
                cell(r.order_by_month),
            );
        }
    }
    if let Some(l) = &f.latency {
        let _ = writeln!(
            out,
            "\n**Latency** (M/M/1): p95 {} ms at {}% utilization reaches {} ms {}{}; saturation {}.",
            show(l.p95_latency_ms),
            show(l.utilization_pct),
            show(l.warning_ms),
            fmt_months(l.months_to_warning),
            l.critical_ms
                .map(|c| format!(", {} ms {}", show(c), fmt_months(l.months_to_critical)))
                .unwrap_or_default(),
            fmt_months(l.months_to_saturation)
        );
    }
    if let Some(q) = &f.queueing {
        let _ = writeln!(
            out,
            "\n**Queueing** (M/M/c, {} servers): utilization {}%, P(wait) {}, mean wait {} ms, response {} ms; passes the {}% target {}, saturates {}; servers needed at the horizon: {}.",
            q.servers,
            show(q.utilization_pct),
            show(q.probability_of_waiting),
            show(q.mean_wait_ms),
            show(q.mean_response_ms),
            show(q.target_utilization_pct),
            fmt_months(q.months_to_target),
            fmt_months(q.months_to_saturation),
            q.servers_needed_at_horizon
                .map_or("—".into(), |n| n.to_string())
        );
    }
    if let Some(c) = &f.cache {
        let policy = match c.policy {
            CachePolicy::Lru => "LRU",
            CachePolicy::Static => "static",
        };
        let _ = writeln!(
            out,
            "\n**Cache** ({policy}, {} of {} items, α {}): hit rate {}% (±{}), {}% at the horizon; below {}% {}; items needed at the horizon: {}.",
            c.cache_items,
            c.catalog_items,
            show(c.zipf_alpha),
            show(c.hit_rate_pct),
            show(c.hit_rate_error_bound_pct),
            show(c.hit_rate_at_horizon_pct),
            show(c.threshold_pct),
            fmt_months(c.months_below_threshold),
            c.cache_items_needed_at_horizon.map_or("—".into(), show)
        );
    }
    if let Some(s) = &f.scalability {
        let _ = writeln!(
            out,
            "\n**Scalability** (USL σ {}, κ {}, λ {}{}): peak {} nodes, {} requests/s; today's {} requests/s need {} nodes; the load passes the peak {}.",
            show(s.sigma),
            show(s.kappa),
            show(s.lambda),
            if s.fitted { ", fitted" } else { "" },
            s.peak_nodes.map_or("—".into(), |n| format!("{n:.1}")),
            s.max_throughput_rps.map_or("unbounded".into(), show),
            show(s.current_rps),
            s.nodes_needed
                .map_or("no number of".into(), |n| n.to_string()),
            fmt_months(s.months_to_ceiling)
        );
    }
    if let Some(c) = &f.cost {
        let _ = write!(
            out,
            "\n**Cost**: ${}/month today, ${}/month at the horizon",
            show(c.current_monthly_cost_usd),
            show(c.at_horizon_usd)
        );
        if let Some(band) = &c.band_at_horizon {
            let _ = write!(
                out,
                " (the band for that many users: ${}{})",
                band.low,
                band.high
                    .map(|h| format!(" to ${h}"))
                    .unwrap_or(" and up".into())
            );
        }
        let _ = writeln!(out, ".");
    }
    if !f.timeline.is_empty() {
        let _ = writeln!(out, "\n### Timeline\n");
        for e in &f.timeline {
            let _ = writeln!(out, "- {}: {}", fmt_months(Some(e.month)), e.event);
        }
    }
    if !f.chart.series.is_empty() {
        let _ = writeln!(
            out,
            "\n### Load-driven metrics by month\n\n```mermaid\nxychart-beta\n    title \"Load-driven metrics by month (%)\"\n    x-axis \"month\" [{}]\n    y-axis \"%\" 0 --> 100",
            f.chart
                .months
                .iter()
                .map(u32::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        );
        let mut legend = Vec::new();
        for s in &f.chart.series {
            let values: Vec<String> = s.values.iter().map(|v| format!("{v:.1}")).collect();
            let _ = writeln!(out, "    line [{}]", values.join(", "));
            legend.push(format!("`{}`", s.name));
        }
        let mut lines: Vec<f64> = Vec::new();
        for s in &f.chart.series {
            for v in std::iter::once(s.warning).chain(s.critical) {
                if !lines.contains(&v) {
                    lines.push(v);
                }
            }
        }
        for v in &lines {
            let flat: Vec<String> = f.chart.months.iter().map(|_| format!("{v:.1}")).collect();
            let _ = writeln!(out, "    line [{}]", flat.join(", "));
        }
        let _ = writeln!(
            out,
            "```\n\nLines, in order: {}; then the thresholds {}%.",
            legend.join(", "),
            lines
                .iter()
                .map(|v| show(*v))
                .collect::<Vec<_>>()
                .join("%, ")
        );
    }
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
    sources(&mut out, &f.sources);
    out
}

/// The `forecast_growth` tool.
pub struct ForecastGrowth;

impl Tool for ForecastGrowth {
    const NAME: &'static str = "forecast_growth";
    const TITLE: &'static str = "Forecast growth";
    const DESCRIPTION: &'static str = "Growth forecast: at 3x a year or 10% a month, when do DB CPU, pool, disk, p95, queue (Erlang C), cache hit ratio (Zipf), USL ceiling break.";
    const OBSERVE: Option<crate::observed::Fill> = Some(crate::observed::Fill::Forecast);
    type Args = ForecastArgs;
    type Output = Forecast;
    type Tables = GrowthTables;

    /// The thresholds are `diagnose_bottleneck`'s rows, read and checked here again (a few
    /// microseconds at start-up) so that each tool loads from the knowledge base alone.
    fn load(knowledge: &Knowledge) -> Result<GrowthTables, KnowledgeError> {
        GrowthTables::load(knowledge, &DiagnosisRules::load(knowledge)?)
    }

    fn run(advisor: &Advisor, args: ForecastArgs) -> Result<Forecast, ArgError> {
        run(advisor, args)
    }

    fn to_markdown(output: &Forecast) -> String {
        to_markdown(output)
    }
}

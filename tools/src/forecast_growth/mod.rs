//! `forecast_growth`: when does what break as load grows, and by when to act. From a growth
//! rate and today's figures to the month each load-driven metric and resource crosses its
//! warning and critical lines (the rows of `monitoring#diagnostic-findings` that
//! `diagnose_bottleneck` applies), the month to order capacity by, the stages the user count
//! crosses, and, when given, an M/M/1 latency, an M/M/c queue, a Zipf cache and a Universal
//! Scalability Law curve followed month by month. The models, their formulas and the defaults
//! are rows of `growth-models`; the iterative numerics are in `growth_models.rs`.
//!
//! One room per model, each with its arguments, its result block, its computation and its
//! markdown: `growth` (the two forms of a rate, the horizon), `resources` (the load-driven
//! metrics and the caller's resources against their lines), `latency` (M/M/1), `queueing`
//! (Erlang C), `cache` (Zipf, LRU or static), `scalability` (USL), `stages`, `cost`, and
//! `timeline` and `summary`, which gather them. `book` keeps the workings and sources every
//! room writes into, in the order [`run`] calls them, which is the order a reader sees.

mod book;
mod cache;
mod cost;
mod growth;
mod latency;
mod queueing;
mod resources;
mod scalability;
mod stages;
mod summary;
mod tables;
mod timeline;

use knowledge::{Knowledge, KnowledgeError};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

pub use cache::{CacheArgs, CacheForecast, CachePolicy};
pub use cost::CostForecast;
pub use growth::GrowthArgs;
pub use latency::LatencyForecast;
pub use queueing::{QueueState, QueueingArgs, QueueingForecast};
pub use resources::{FirstToBreak, Recovery, ResourceArgs, ResourceForecast, Status};
pub use scalability::{Measurement, ScalabilityArgs, ScalabilityForecast};
pub use stages::StageCrossing;
pub use summary::OrderBy;
pub(crate) use tables::FORMULAS;
pub use tables::GrowthTables;
pub use timeline::{Chart, ChartSeries, Checkpoint, CheckpointValue, TimelineEvent};

use crate::calculator::{DefaultApplied, Working};
use crate::diagnose_bottleneck::DiagnoseBottleneck;
use crate::markdown::sources;
use crate::{Advisor, ArgError, Detail, MissingInput, Tool};
use book::Book;
use scalability::Usl;
use timeline::Followed;

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

/// A list cut to keep the answer within its size budget (contract §6).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Truncated {
    pub field: String,
    pub shown: usize,
    pub total: usize,
    pub how_to_get_more: String,
}

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
    /// The earliest order-by month of every governing crossing (each resource's, the p95's
    /// critical line, the governing queue's saturation), and what it is for; null when
    /// nothing needs an order (nothing reaches a critical line, or load falls).
    pub order_capacity_by: Option<OrderBy>,
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
    /// The load-driven metrics by month, for a chart (detail full only).
    #[serde(default)]
    pub chart: Chart,
    /// Every month through the horizon (detail full only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub by_month: Option<Vec<Checkpoint>>,
    /// What the forecast assumes.
    pub assumptions: Vec<String>,
    /// Every figure: formula, numbers substituted, value.
    pub workings: Vec<Working>,
    /// The defaults used for arguments not given (concise leaves out an empty list).
    #[serde(default)]
    pub defaults_applied: Vec<DefaultApplied>,
    pub missing_inputs: Vec<MissingInput>,
    /// Lists cut to keep the answer small, and how to get the rest.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub truncated: Vec<Truncated>,
    pub sources: Vec<String>,
}

/// Forecasts the growth described by `args`: every argument refused before any work, then
/// each model in turn (its workings and sources in this order), then what gathers them: the
/// checkpoints and the chart, the assumptions, the timeline and the summary.
pub fn run(advisor: &Advisor, args: ForecastArgs) -> Result<Forecast, ArgError> {
    let tables = advisor.tables::<ForecastGrowth>()?;
    let rules = advisor.tables::<DiagnoseBottleneck>()?;
    let lines = &rules.forecast_lines;
    let mut book = Book::new(&tables.formulas);
    let mut defaults_applied = Vec::new();
    let mut missing_inputs = Vec::new();

    let growth = growth::Growth::from_args(&args.growth, tables, &mut defaults_applied, &mut book)?;
    let tracked = resources::tracked(&args, &lines.load_driven, &growth, &mut book)?;
    let usl = check_models(&args, &growth, &tracked)?;

    let judging = resources::Judging {
        lead_time: growth.lead_time,
        order_rules: &tables.order_rules,
        rules,
    };
    let resources = resources::forecast(&tracked, &judging, &mut book);
    let latency_judging = latency::LatencyJudging {
        orders: tables.order_rules.orders(growth.rate),
        meanwhile: rules.immediate_fix(&lines.latency.finding),
        falling_load_uri: &tables.order_rules.uri,
    };
    let mut latency = latency::forecast(
        &args,
        &lines.latency,
        &growth,
        &latency_judging,
        &mut book,
        &mut missing_inputs,
    );
    let checkpoint_months = timeline::checkpoint_months(growth.horizon);
    let mut queueing = args
        .queueing
        .as_ref()
        .map(|q| queueing::forecast(q, &growth, tables, &checkpoint_months, &mut book));
    summary::govern_saturation(latency.as_mut(), queueing.as_mut(), tables, &mut book);
    let cache = args
        .cache
        .as_ref()
        .map(|c| cache::forecast(c, &growth, &lines.hit_rate, tables, &mut book));
    let scalability = (args.scalability.as_ref().zip(usl.as_ref()))
        .map(|(s, usl)| scalability::forecast(usl, s.current_rps, &growth, tables, &mut book));
    let stages = stages::forecast(args.users, rules, &growth, &mut book, &mut missing_inputs);
    let cost = cost::forecast(
        &args,
        rules,
        &growth,
        tables,
        &mut book,
        &mut missing_inputs,
    );

    let followed = Followed {
        tracked: &tracked,
        latency: latency.as_ref(),
        users: args.users,
        cost: args.current_monthly_cost_usd,
        rate: growth.rate,
    };
    let mut checkpoints = followed.checkpoints(&checkpoint_months);
    queueing::add_to_checkpoints(queueing.as_ref(), &mut checkpoints);
    cache::add_to_checkpoints(cache.as_ref(), &mut checkpoints);
    let chart = followed.chart(growth.horizon);
    let mut truncated = Vec::new();
    let by_month = (args.detail == Detail::Full)
        .then(|| followed.by_month(growth.horizon, &checkpoints, &mut truncated));
    let first_to_break = summary::first_to_break(&resources, latency.as_ref());

    let assumptions = summary::assumptions(
        &growth,
        cache.as_ref(),
        usl.map(|u| u.notes).unwrap_or_default(),
        latency.is_some(),
        queueing.is_some(),
    );
    latency::cite(latency.as_ref(), &lines.latency, tables, &mut book);
    growth.cite(!defaults_applied.is_empty(), tables, &mut book);
    let (workings, sources) = book.close(args.detail, &mut truncated);

    let mut forecast = Forecast {
        order_capacity_by: None,
        monthly_growth_pct: growth.rate.pct,
        doubling_months: growth.doubling_months,
        horizon_months: growth.horizon,
        lead_time_months: growth.lead_time,
        resources,
        first_to_break,
        latency,
        queueing,
        cache,
        scalability,
        stages,
        cost,
        timeline: Vec::new(),
        checkpoints,
        chart,
        by_month,
        summary: String::new(),
        assumptions,
        workings,
        defaults_applied,
        missing_inputs,
        truncated,
        sources,
    };
    forecast.order_capacity_by = summary::order_capacity_by(&forecast);
    forecast.timeline = timeline::of(&forecast);
    forecast.summary = summary::summarize(&forecast);
    Ok(forecast)
}

/// The models' refusals, before any work, in the order the arguments are listed; the USL
/// coefficients when a curve is asked for (a fit can be refused too).
fn check_models(
    args: &ForecastArgs,
    growth: &growth::Growth,
    tracked: &[resources::Tracked],
) -> Result<Option<Usl>, ArgError> {
    latency::check(args.utilization_pct)?;
    queueing::check(args.queueing.as_ref(), growth)?;
    cache::check(args.cache.as_ref(), growth)?;
    let usl = args.scalability.as_ref().map(Usl::from_args).transpose()?;
    cost::check(args.current_monthly_cost_usd, growth)?;
    check_something_to_forecast(args, tracked)?;
    Ok(usl)
}

/// Refuses a growth rate with nothing to follow.
fn check_something_to_forecast(
    args: &ForecastArgs,
    tracked: &[resources::Tracked],
) -> Result<(), ArgError> {
    let anything = !tracked.is_empty()
        || args.users.is_some()
        || args.p95_latency_ms.is_some()
        || args.queueing.is_some()
        || args.cache.is_some()
        || args.scalability.is_some()
        || args.current_monthly_cost_usd.is_some();
    if anything {
        return Ok(());
    }
    Err(ArgError::new(
        "arguments",
        if args.utilization_pct.is_some() {
            "a growth rate and utilization_pct without p95_latency_ms"
        } else {
            "a growth rate and nothing to forecast"
        },
        "something to forecast besides the growth: a load-driven metric (db_cpu_pct, app_cpu_pct, db_read_load_pct, db_write_load_pct, pool_utilization_pct), resources, users, p95_latency_ms with utilization_pct, queueing, cache, scalability or current_monthly_cost_usd",
    ))
}

/// The forecast as markdown: what breaks first and when, the resources, the models, the
/// timeline, a chart, the workings, the sources.
pub fn to_markdown(f: &Forecast) -> String {
    let mut out = String::with_capacity(4096);
    summary::heading_to_markdown(f, &mut out);
    growth::to_markdown(f, &mut out);
    resources::to_markdown(&f.resources, &mut out);
    if let Some(l) = &f.latency {
        latency::to_markdown(l, &mut out);
    }
    if let Some(q) = &f.queueing {
        queueing::to_markdown(q, &mut out);
    }
    summary::governing_to_markdown(f, &mut out);
    if let Some(c) = &f.cache {
        cache::to_markdown(c, &mut out);
    }
    if let Some(s) = &f.scalability {
        scalability::to_markdown(s, &mut out);
    }
    if let Some(c) = &f.cost {
        cost::to_markdown(c, &mut out);
    }
    timeline::to_markdown(&f.timeline, &mut out);
    timeline::chart_to_markdown(&f.chart, &mut out);
    summary::notes_to_markdown(f, &mut out);
    sources(&mut out, &f.sources);
    out
}

/// The `forecast_growth` tool.
pub struct ForecastGrowth;

impl Tool for ForecastGrowth {
    // Concise keeps every figure and leaves out what restates one (issue 26): each working's
    // formula is the cited row of `growth-models#formulas` (its quantity, the numbers
    // substituted and the value stay); the chart samples the same curves as the checkpoints;
    // an event's subject is named in its text; a resource's finding is the diagnosis row its
    // lines come from; a value that is not saturated says so by leaving the flag out.
    // `workings` keeps its formula: contract §5.9 names `workings (formula, numbers substituted,
    // value)` among the forecast's fields.
    const CONCISE_OMITS: &'static [&'static str] = &[
        "chart",
        "timeline[].subject",
        "resources[].finding",
        "checkpoints[].values[].saturated?",
        // Not named by the contract, and saying nothing when empty: no cost given, no default.
        "cost?",
        "defaults_applied?",
    ];
    const NAME: &'static str = "forecast_growth";
    const TITLE: &'static str = "Forecast growth";
    const DESCRIPTION: &'static str = "Growth forecast: at 3x a year or 10% a month, when do DB CPU, pool, disk, p95, queue (Erlang C), cache hit ratio (Zipf), USL ceiling break.";
    const OBSERVE: Option<crate::Fill> = Some(crate::Fill::Forecast);
    type Args = ForecastArgs;
    type Output = Forecast;
    type Tables = GrowthTables;

    /// The thresholds are `diagnose_bottleneck`'s rows, which that tool reads and checks once
    /// (`DiagnosisRules::forecast_lines`); `run` takes them from its tables.
    fn load(knowledge: &Knowledge) -> Result<GrowthTables, KnowledgeError> {
        GrowthTables::load(knowledge)
    }

    fn run(advisor: &Advisor, args: ForecastArgs) -> Result<Forecast, ArgError> {
        run(advisor, args)
    }

    fn to_markdown(output: &Forecast) -> String {
        to_markdown(output)
    }
}

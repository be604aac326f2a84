//! What the forecast reads from `growth-models` at start-up: its defaults and the formulas of
//! its closed forms, and the cost table its cost room prices the horizon's users with. The
//! thresholds it forecasts against are `diagnose_bottleneck`'s, read once by that tool.

use knowledge::{Knowledge, KnowledgeError};

use crate::calculator::{Formulas, read_defaults};
use crate::costs::CostTable;
use crate::growth_models::Rate;

use super::ForecastArgs;

pub(super) struct GrowthDefaults {
    pub lead_time_months: f64,
    pub horizon_months: u32,
    pub target_utilization_pct: f64,
}

/// Which way load moves, as the rows of `growth-models#falling-load` name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum LoadTrend {
    Growing,
    Flat,
    Falling,
}

impl LoadTrend {
    const ALL: [(&'static str, LoadTrend); 3] = [
        ("growing", LoadTrend::Growing),
        ("flat", LoadTrend::Flat),
        ("falling", LoadTrend::Falling),
    ];

    /// The trend of a monthly rate (as its logarithm: above 0 grows).
    pub(super) fn of(rate: Rate) -> Self {
        if rate.log > 0.0 {
            Self::Growing
        } else if rate.log < 0.0 {
            Self::Falling
        } else {
            Self::Flat
        }
    }
}

/// `growth-models#falling-load`: whether a line reached at each trend is met by ordering
/// capacity a lead time before it (`before_critical`) or by nothing new (`none`).
pub(super) struct OrderRules {
    orders: Vec<(LoadTrend, bool)>,
    pub(super) uri: String,
}

impl OrderRules {
    /// True when a critical line reached at `rate` is met by ordering capacity.
    pub(super) fn orders(&self, rate: Rate) -> bool {
        let trend = LoadTrend::of(rate);
        // `load` checked a row for every trend.
        self.orders
            .iter()
            .find(|(t, _)| *t == trend)
            .is_none_or(|(_, orders)| *orders)
    }

    fn load(knowledge: &Knowledge) -> Result<Self, KnowledgeError> {
        let table = knowledge.table("growth-models", "falling-load")?;
        table.require_columns(&["load", "order", "source"])?;
        let mut orders = Vec::new();
        for row in table.rows() {
            row.required("source")?;
            let load = row.one_of("load", &LoadTrend::ALL.map(|(name, _)| name))?;
            // `one_of` accepted only the names of `ALL`.
            let (_, trend) = LoadTrend::ALL
                .into_iter()
                .find(|(name, _)| *name == load)
                .unwrap_or(LoadTrend::ALL[0]);
            if orders.iter().any(|(t, _)| *t == trend) {
                return Err(row.error(format!("the load `{load}` is listed twice")));
            }
            let order = row.one_of("order", &["before_critical", "none"])? == "before_critical";
            orders.push((trend, order));
        }
        if let Some((name, _)) = LoadTrend::ALL
            .iter()
            .find(|(_, t)| !orders.iter().any(|(o, _)| o == t))
        {
            return Err(table.error(format!("a row for the load `{name}` is required")));
        }
        Ok(Self {
            orders,
            uri: table.uri(),
        })
    }
}

/// A row of `growth-models#which-queueing-model-governs`: the model block whose month of a
/// crossing counts when both are followed.
pub(super) struct Governing {
    pub(super) governs: String,
    pub(super) over: String,
    pub(super) uri: String,
}

/// A model block in words: `queueing` is the M/M/c queue, `latency` the M/M/1 of the p95.
pub(super) fn model_words(block: &str) -> String {
    match block {
        "queueing" => "the M/M/c queue (`queueing`)".into(),
        "latency" => "the M/M/1 of the p95 (`latency`)".into(),
        other => format!("`{other}`"),
    }
}

/// The model blocks a governing row may name.
const QUEUEING_MODELS: [&str; 2] = ["queueing", "latency"];

fn load_governing(knowledge: &Knowledge) -> Result<Option<Governing>, KnowledgeError> {
    let table = knowledge.table("growth-models", "which-queueing-model-governs")?;
    table.require_columns(&["crossing", "governs", "over", "source"])?;
    let mut saturation = None;
    for row in table.rows() {
        row.required("source")?;
        row.one_of("crossing", &["saturation"])?;
        let governs = row.one_of("governs", &QUEUEING_MODELS)?;
        let over = row.one_of("over", &QUEUEING_MODELS)?;
        if governs == over {
            return Err(row.error(format!("`{governs}` cannot govern over itself")));
        }
        if saturation.is_some() {
            return Err(row.error("the crossing `saturation` is listed twice"));
        }
        saturation = Some(Governing {
            governs: governs.to_string(),
            over: over.to_string(),
            uri: row.uri(),
        });
    }
    Ok(saturation)
}

/// The tables `forecast_growth` applies, read once from the knowledge base.
pub struct GrowthTables {
    pub(super) defaults: GrowthDefaults,
    pub(super) defaults_uri: String,
    pub(super) formulas: Formulas,
    pub(super) costs: CostTable,
    /// Whether a trend of load orders capacity.
    pub(super) order_rules: OrderRules,
    /// Which model's saturation month counts when both queueing models are followed.
    pub(super) saturation_governs: Option<Governing>,
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
    pub(crate) fn load(knowledge: &Knowledge) -> Result<Self, KnowledgeError> {
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
        Ok(Self {
            defaults,
            defaults_uri: table.uri(),
            formulas: Formulas::load(knowledge, "growth-models", "formulas", &FORMULAS)?,
            costs: CostTable::load(knowledge)?,
            order_rules: OrderRules::load(knowledge)?,
            saturation_governs: load_governing(knowledge)?,
            section_uri: format!("{}growth-models", knowledge::URI_SCHEME),
        })
    }

    /// The URI of a section of `growth-models` that explains a model.
    pub(super) fn section(&self, anchor: &str) -> String {
        format!("{}#{anchor}", self.section_uri)
    }
}

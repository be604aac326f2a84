//! What the forecast reads from `growth-models` at start-up: its defaults and the formulas of
//! its closed forms, and the cost table its cost room prices the horizon's users with. The
//! thresholds it forecasts against are `diagnose_bottleneck`'s, read once by that tool.

use knowledge::{Knowledge, KnowledgeError};

use crate::calculator::{Formulas, read_defaults};
use crate::costs::CostTable;

use super::ForecastArgs;

pub(super) struct GrowthDefaults {
    pub lead_time_months: f64,
    pub horizon_months: u32,
    pub target_utilization_pct: f64,
}

/// The tables `forecast_growth` applies, read once from the knowledge base.
pub struct GrowthTables {
    pub(super) defaults: GrowthDefaults,
    pub(super) defaults_uri: String,
    pub(super) formulas: Formulas,
    pub(super) costs: CostTable,
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
            section_uri: format!("{}growth-models", knowledge::URI_SCHEME),
        })
    }

    /// The URI of a section of `growth-models` that explains a model.
    pub(super) fn section(&self, anchor: &str) -> String {
        format!("{}#{anchor}", self.section_uri)
    }
}

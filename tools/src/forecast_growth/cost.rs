//! Cost: today's monthly cost scaled with load to the horizon, beside the band of
//! `capacity-planning#cost-by-scale` for the users the horizon brings.

use std::fmt::Write;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::costs::CostRange;
use crate::diagnose_bottleneck::DiagnosisRules;
use crate::numbers;
use crate::{ArgError, MissingInput};

use super::ForecastArgs;
use super::book::Book;
use super::growth::Growth;
use super::tables::GrowthTables;

/// The monthly cost scaled with load.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct CostForecast {
    pub current_monthly_cost_usd: f64,
    pub at_horizon_usd: f64,
    /// The cost band of the users at the horizon, with users.
    pub band_at_horizon: Option<CostRange>,
}

/// Refuses a cost whose growth over the horizon leaves the finite numbers.
pub(super) fn check(current: Option<f64>, growth: &Growth) -> Result<(), ArgError> {
    match current {
        Some(cost) if !(cost * growth.horizon_multiple).is_finite() => Err(ArgError::number(
            "current_monthly_cost_usd",
            cost,
            "a cost whose growth over the horizon stays finite",
        )),
        _ => Ok(()),
    }
}

/// The cost at the horizon by its formula and, with users, the band of the users then (at
/// the stage that user count reaches); without a cost, a note that it would add one.
pub(super) fn forecast(
    args: &ForecastArgs,
    rules: &DiagnosisRules,
    growth: &Growth,
    tables: &GrowthTables,
    book: &mut Book<'_>,
    missing_inputs: &mut Vec<MissingInput>,
) -> Option<CostForecast> {
    let Some(current) = args.current_monthly_cost_usd else {
        missing_inputs.push(MissingInput {
            field: "current_monthly_cost_usd".into(),
            enables: "cost".into(),
            where_to_get_it: None,
        });
        return None;
    };
    let at_horizon_usd = book.show(
        "cost.at_horizon_usd".into(),
        "cost_at_multiple",
        &[
            ("current_monthly_cost_usd", current),
            ("load_multiple", growth.horizon_multiple),
        ],
    );
    let band_at_horizon = args.users.map(|users| {
        let at = (users as f64 * growth.horizon_multiple).min(u64::MAX as f64) as u64;
        let stage = rules.stages.for_users(at as f64);
        book.cite(tables.costs.uri.clone());
        tables.costs.band(at, stage)
    });
    Some(CostForecast {
        current_monthly_cost_usd: current,
        at_horizon_usd,
        band_at_horizon,
    })
}

pub(super) fn to_markdown(c: &CostForecast, out: &mut String) {
    let _ = write!(
        out,
        "\n**Cost**: {}/month today, {}/month at the horizon",
        numbers::money(c.current_monthly_cost_usd),
        numbers::money(c.at_horizon_usd)
    );
    if let Some(band) = &c.band_at_horizon {
        let _ = write!(
            out,
            " (the band for that many users: {}{})",
            numbers::money(band.low as f64),
            band.high
                .map(|h| format!(" to {}", numbers::money(h as f64)))
                .unwrap_or(" and up".into())
        );
    }
    let _ = writeln!(out, ".");
}

//! Growth: the rate load grows at (a monthly percentage, or a multiple over some months), the
//! horizon and the lead time, with their defaults, and the bound that keeps every product of
//! today's figures and the load multiple a finite number.

use std::fmt::Write;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::ArgError;
use crate::calculator::{DefaultApplied, Figure, show};
use crate::growth_models::Rate;
use crate::numbers;

use super::Forecast;
use super::book::Book;
use super::tables::GrowthTables;

/// The largest load multiple over the horizon that the forecast follows (e^600, about
/// 3.8e260): beyond it the products of today's figures and the multiple would leave the
/// finite numbers.
const LARGEST_LOG_MULTIPLE: f64 = 600.0;

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

/// The growth every room follows: the rate, the months it is followed for, and the lead time
/// capacity takes.
pub(super) struct Growth {
    pub rate: Rate,
    pub horizon: u32,
    pub lead_time: f64,
    /// ln 2 / ln(1 + g); `None` when load does not grow.
    pub doubling_months: Option<f64>,
    /// The load multiple at the horizon.
    pub horizon_multiple: f64,
}

impl Growth {
    /// The growth the arguments describe, the defaults applied where they say nothing, and
    /// its figures (the monthly rate of a multiple, the doubling time, the multiple at the
    /// horizon) written in the book.
    pub(super) fn from_args(
        args: &GrowthArgs,
        tables: &GrowthTables,
        defaults_applied: &mut Vec<DefaultApplied>,
        book: &mut Book<'_>,
    ) -> Result<Self, ArgError> {
        let defaults = &tables.defaults;
        let horizon = args.horizon_months.unwrap_or_else(|| {
            defaults_applied.push(DefaultApplied {
                parameter: "horizon_months".into(),
                value: Figure::Count(u64::from(defaults.horizon_months)),
            });
            defaults.horizon_months
        });
        let lead_time = args.lead_time_months.unwrap_or_else(|| {
            defaults_applied.push(DefaultApplied {
                parameter: "lead_time_months".into(),
                value: Figure::Amount(defaults.lead_time_months),
            });
            defaults.lead_time_months
        });
        let rate = rate_of(args, horizon, book)?;
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
            &[
                ("monthly_growth_pct", rate.pct),
                ("month", f64::from(horizon)),
            ],
        );
        Ok(Self {
            rate,
            horizon,
            lead_time,
            doubling_months,
            horizon_multiple,
        })
    }

    pub(super) fn horizon_months(&self) -> f64 {
        f64::from(self.horizon)
    }

    /// A quantity's own rate (`field`, % a month), refused when its multiple over the horizon
    /// would pass the largest the forecast follows.
    pub(super) fn own_rate(&self, field: &str, pct: f64) -> Result<Rate, ArgError> {
        let own = Rate::from_pct(pct);
        if own.log * self.horizon_months() > LARGEST_LOG_MULTIPLE {
            return Err(refusal(field, pct, self.horizon));
        }
        Ok(own)
    }

    /// What the forecast assumes of growth, first among its assumptions.
    pub(super) fn assumption(&self) -> String {
        let (verb, pct) = if self.rate.pct < 0.0 {
            ("falls", -self.rate.pct)
        } else {
            ("grows", self.rate.pct)
        };
        format!(
            "load {verb} {}% a month, compounding, for {} months; the load-driven metrics and resources grow in proportion to load unless given their own rate",
            numbers::quantity(pct),
            self.horizon
        )
    }

    /// What the lead time means, last among the assumptions.
    pub(super) fn lead_time_assumption(&self) -> String {
        format!(
            "capacity takes {} months to put in place (lead_time_months): order_by_month is the month the critical line is reached, less the lead time; a resource without a critical line has none",
            numbers::quantity(self.lead_time)
        )
    }

    /// The rows every forecast rests on, cited last: the defaults when one was applied,
    /// compound growth, lead time and ordering.
    pub(super) fn cite(&self, defaults_applied: bool, tables: &GrowthTables, book: &mut Book<'_>) {
        if defaults_applied {
            book.cite(tables.defaults_uri.clone());
        }
        book.cite(tables.section("compound-growth"));
        book.cite(tables.section("lead-time-and-ordering"));
    }
}

/// The rate of exactly one of the two growth forms, refused when the load multiple over the
/// horizon would pass the largest the forecast follows.
fn rate_of(args: &GrowthArgs, horizon: u32, book: &mut Book<'_>) -> Result<Rate, ArgError> {
    let horizon_f = f64::from(horizon);
    match (
        args.monthly_growth_pct,
        args.growth_multiple,
        args.over_months,
    ) {
        (Some(_), Some(multiple), _) => Err(ArgError::number(
            "growth_multiple",
            multiple,
            "no growth_multiple when monthly_growth_pct is given (give exactly one growth form)",
        )),
        (Some(_), None, Some(over)) => Err(ArgError::number(
            "over_months",
            over,
            "no over_months without growth_multiple (it is the period of growth_multiple)",
        )),
        (None, None, Some(over)) => Err(ArgError::number(
            "over_months",
            over,
            "over_months only together with growth_multiple (e.g. growth_multiple 10, over_months 12)",
        )),
        (None, Some(multiple), None) => Err(ArgError::new(
            "over_months",
            "nothing (over_months is missing)",
            format!(
                "the months over which growth_multiple {} happens, a number above 0",
                show(multiple)
            ),
        )),
        (None, None, None) => Err(ArgError::new(
            "monthly_growth_pct",
            "neither monthly_growth_pct nor growth_multiple",
            "exactly one growth form: monthly_growth_pct (10 = 10% a month), or growth_multiple with over_months (10 in 12 = 10x in a year)",
        )),
        (Some(pct), None, None) => {
            let rate = Rate::from_pct(pct);
            if rate.log * horizon_f > LARGEST_LOG_MULTIPLE {
                return Err(refusal("monthly_growth_pct", pct, horizon));
            }
            Ok(rate)
        }
        (None, Some(multiple), Some(over)) => {
            let log = multiple.ln() / over;
            let pct = log.exp_m1() * 100.0;
            if !log.is_finite() || !pct.is_finite() || log * horizon_f > LARGEST_LOG_MULTIPLE {
                return Err(refusal("growth_multiple", multiple, horizon));
            }
            let pct = book.show(
                "monthly_growth_pct".into(),
                "monthly_growth_pct",
                &[("growth_multiple", multiple), ("over_months", over)],
            );
            Ok(Rate { pct, log })
        }
    }
}

fn refusal(field: &str, value: f64, horizon: u32) -> ArgError {
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

/// The line under the heading: the rate, its doubling time, the horizon.
pub(super) fn to_markdown(f: &Forecast, out: &mut String) {
    // A shrinking load falls by a rate, it does not grow by a negative one.
    let (verb, pct) = if f.monthly_growth_pct < 0.0 {
        ("falls", -f.monthly_growth_pct)
    } else {
        ("grows", f.monthly_growth_pct)
    };
    let _ = write!(out, "\nLoad {verb} {} a month", numbers::percent(pct));
    if let Some(d) = f.doubling_months {
        let _ = write!(out, " (doubles every {} months)", numbers::quantity(d));
    }
    let _ = writeln!(out, "; horizon {} months.", f.horizon_months);
}

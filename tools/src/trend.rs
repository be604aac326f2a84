//! A metric's growth from its own history (contract §8 `trends`): the least-squares line
//! through ln(daily peak), turned into a monthly rate with its confidence interval by the
//! formula rows of `growth-models#formulas`, and judged `significant` by the parameters of
//! `growth-models#growth-from-history`. The numerics (the fit, Student's t) are in
//! `growth_models`; what the rate means and when to trust it is data.

use knowledge::{Knowledge, KnowledgeError};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::calculator::{Figure, Formulas, Working, show};
use crate::forecast_growth::FORMULAS;
use crate::growth_models::{LogLinearFit, fit_log_linear, student_t_quantile};

/// The growth fitted to one history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct GrowthFit {
    /// The fitted monthly growth, percent (10 = 10% a month).
    pub monthly_growth_pct: f64,
    /// The confidence interval of `monthly_growth_pct` (95% in the embedded knowledge), percent.
    pub ci95_pct: [f64; 2],
    /// The share of the variance of ln(daily peak) the fitted line explains, 0 to 1.
    pub r_squared: f64,
    /// The daily peaks fitted.
    pub points: usize,
    /// Daily peaks left out: 0, negative or not finite (no logarithm).
    pub dropped_points: usize,
    /// True when enough days were fitted and the interval does not hold 0; only then is the
    /// rate a fact to pass on.
    pub significant: bool,
    /// Why the rate is not significant, when it is not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub why_not_significant: Option<String>,
    /// The fitted line, ln(peak) = intercept + slope_per_day × day: what a chart draws
    /// through the daily peaks.
    pub slope_per_day: f64,
    pub intercept: f64,
    pub slope_standard_error: f64,
    /// Student's t quantile used for the interval (n − 2 degrees of freedom).
    pub t_quantile: f64,
    /// The monthly rate and both ends of its interval, each by its formula row.
    pub workings: Vec<Working>,
}

impl GrowthFit {
    /// The fitted peak on `day` (same axis as the points fitted).
    pub fn fitted(&self, day: f64) -> f64 {
        (self.intercept + self.slope_per_day * day).exp()
    }
}

/// The formulas and parameters of a growth fit, read and checked once at start-up.
pub struct TrendRules {
    formulas: Formulas,
    days_per_month: f64,
    confidence_pct: f64,
    min_daily_points: usize,
    uri: String,
}

const PARAMETERS: [&str; 3] = ["days_per_month", "confidence_pct", "min_daily_points"];

impl TrendRules {
    pub fn load(knowledge: &Knowledge) -> Result<Self, KnowledgeError> {
        let formulas = Formulas::load(knowledge, "growth-models", "formulas", &FORMULAS)?;
        let table = knowledge.table("growth-models", "growth-from-history")?;
        table.require_columns(&["parameter", "value", "source"])?;
        let mut values = [None; 3];
        for row in table.rows() {
            let name = row.required("parameter")?;
            let Some(slot) = PARAMETERS.iter().position(|p| *p == name) else {
                return Err(row.error(format!(
                    "unknown parameter `{name}` (known: {})",
                    PARAMETERS.join(", ")
                )));
            };
            let value = row.number("value")?;
            let accepted = match name {
                "days_per_month" => value > 0.0 && value.is_finite(),
                "confidence_pct" => value > 0.0 && value < 100.0,
                _ => value >= 3.0 && value.fract() == 0.0 && value <= 100_000.0,
            };
            if !accepted {
                return Err(row.error(format!(
                    "`{name}` is {value}; expected {}",
                    match name {
                        "days_per_month" => "a positive number of days",
                        "confidence_pct" => "a percentage above 0 and below 100",
                        _ => "a whole number of days, at least 3",
                    }
                )));
            }
            values[slot] = Some(value);
        }
        let value = |i: usize| {
            values[i]
                .ok_or_else(|| table.error(format!("the table has no row for `{}`", PARAMETERS[i])))
        };
        Ok(TrendRules {
            formulas,
            days_per_month: value(0)?,
            confidence_pct: value(1)?,
            min_daily_points: value(2)? as usize,
            uri: table.uri(),
        })
    }

    /// The fit of `points` `(day, daily peak)`, or `None` when fewer than three peaks are
    /// positive or all fall on one day (no line can be fitted).
    pub fn fit(&self, points: &[(f64, f64)]) -> Option<GrowthFit> {
        let line = fit_log_linear(points)?;
        let probability = 1.0 - (1.0 - self.confidence_pct / 100.0) / 2.0;
        let t = student_t_quantile(probability, line.degrees_of_freedom());
        let operands = self.operands(&line, t);
        let compute = |quantity: &str| {
            let value = self
                .formulas
                .evaluate(quantity, &operands)
                .unwrap_or(f64::NAN);
            (
                value,
                self.formulas
                    .working(quantity, &operands, Figure::Amount(value)),
            )
        };
        let (rate, rate_working) = compute("fitted_monthly_growth_pct");
        let (low, low_working) = compute("fitted_ci95_low_pct");
        let (high, high_working) = compute("fitted_ci95_high_pct");
        let why_not_significant = if line.points < self.min_daily_points {
            Some(format!(
                "only {} daily peaks; at least {} are needed to tell growth from the weekly rhythm",
                line.points, self.min_daily_points
            ))
        } else if !(low.is_finite() && high.is_finite()) {
            Some("the interval is not finite".to_string())
        } else if low <= 0.0 && high >= 0.0 {
            Some(format!(
                "the {}% interval, {}% to {}% a month, holds 0: the history does not tell growth from noise",
                show(self.confidence_pct),
                show(low),
                show(high)
            ))
        } else {
            None
        };
        Some(GrowthFit {
            monthly_growth_pct: rate,
            ci95_pct: [low, high],
            r_squared: line.r_squared,
            points: line.points,
            dropped_points: line.dropped,
            significant: why_not_significant.is_none(),
            why_not_significant,
            slope_per_day: line.slope_per_day,
            intercept: line.intercept,
            slope_standard_error: line.slope_standard_error,
            t_quantile: t,
            workings: vec![rate_working, low_working, high_working],
        })
    }

    fn operands(&self, line: &LogLinearFit, t: f64) -> [(&'static str, Figure); 4] {
        [
            ("days_per_month", Figure::Amount(self.days_per_month)),
            ("slope_per_day", Figure::Amount(line.slope_per_day)),
            ("t_quantile", Figure::Amount(t)),
            (
                "slope_standard_error",
                Figure::Amount(line.slope_standard_error),
            ),
        ]
    }

    /// The fewest daily peaks a significant fit needs.
    pub fn min_daily_points(&self) -> usize {
        self.min_daily_points
    }

    /// The sections a fit cites: the formulas table, the section of the method.
    pub fn sources(&self) -> Vec<String> {
        let mut sources = Vec::new();
        self.formulas
            .cite("fitted_monthly_growth_pct", &mut sources);
        if !sources.contains(&self.uri) {
            sources.push(self.uri.clone());
        }
        sources
    }
}

//! The growth of each history: its daily peaks fitted by `trend.rs` (rows of `growth-models`)
//! become a trend, whose rate is passed on only when significant, and the load's fit is kept
//! whole for the forecast's page to draw.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{History, LOAD, LiveObservation, ObservationSections, SourceName, rounded};
use crate::Detail;
use crate::trend::TrendRules;

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

/// The trend of every history that can be fitted, in the order read, and the load's history
/// with its fitted line. Without the tool's tables nothing is fitted.
pub(super) fn fit_histories(
    sections: Option<&ObservationSections>,
    live: &LiveObservation,
    detail: Detail,
) -> (Vec<Trend>, Option<FittedHistory>) {
    let mut trends = Vec::new();
    let mut load_history = None;
    let Some(sections) = sections else {
        return (trends, load_history);
    };
    for history in &live.histories {
        if let Some((trend, drawn)) = trend_of(&sections.trend, history, live.window_days, detail) {
            if trend.name == LOAD {
                load_history = Some(drawn);
            }
            trends.push(trend);
        }
    }
    (trends, load_history)
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

//! The timeline and the views by month that gather the rooms: every crossing in time order,
//! the values at the checkpoint months, the chart of the load-driven metrics, and (in `full`)
//! every month.

use std::fmt::Write;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::growth_models::Rate;
use crate::numbers;

use super::latency::{self, LatencyForecast};
use super::resources::{self, Tracked};
use super::{Forecast, Truncated, cache, queueing, scalability, stages};

/// Values (months × followed quantities) that `by_month` holds at most.
const BY_MONTH_VALUES: usize = 2500;

/// One crossing, in time order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct TimelineEvent {
    pub month: f64,
    /// What it concerns (a resource, latency, queueing, cache, scalability, users); detail
    /// full only, the event names it.
    #[serde(default)]
    pub subject: String,
    pub event: String,
}

/// One value at a checkpoint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct CheckpointValue {
    pub name: String,
    /// Percentages capped at 100; null when unbounded (a saturated queue).
    pub value: Option<f64>,
    /// True when capped or unbounded (concise leaves it out when false).
    #[serde(default)]
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
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Chart {
    pub months: Vec<u32>,
    pub series: Vec<ChartSeries>,
}

/// Every crossing the rooms of `forecast` know of within its horizon, in time order.
pub(super) fn of(forecast: &Forecast) -> Vec<TimelineEvent> {
    let mut timeline = Timeline::new(forecast.horizon_months);
    resources::events(
        &forecast.resources,
        forecast.lead_time_months,
        &mut timeline,
    );
    latency::events(forecast.latency.as_ref(), &mut timeline);
    queueing::events(forecast.queueing.as_ref(), &mut timeline);
    cache::events(forecast.cache.as_ref(), &mut timeline);
    scalability::events(forecast.scalability.as_ref(), &mut timeline);
    stages::events(&forecast.stages, &mut timeline);
    timeline.into_events()
}

/// The crossings the rooms add, kept when they fall within the horizon.
pub(super) struct Timeline {
    horizon: f64,
    events: Vec<TimelineEvent>,
}

impl Timeline {
    fn new(horizon: u32) -> Self {
        Self {
            horizon: f64::from(horizon),
            events: Vec::new(),
        }
    }

    /// Adds `event` at `month`, when there is one and it is within the horizon.
    pub(super) fn add(&mut self, month: Option<f64>, subject: &str, event: String) {
        if let Some(m) = month.filter(|m| *m <= self.horizon) {
            self.events.push(TimelineEvent {
                month: m,
                subject: subject.to_string(),
                event,
            });
        }
    }

    /// The events in time order (a stable sort: the rooms' order within a month).
    fn into_events(mut self) -> Vec<TimelineEvent> {
        self.events.sort_by(|a, b| a.month.total_cmp(&b.month));
        self.events
    }
}

/// Months 0, 3, 6, 12 and 24 within the horizon, and the horizon.
pub(super) fn checkpoint_months(horizon: u32) -> Vec<u32> {
    let mut months: Vec<u32> = [0, 3, 6, 12, 24]
        .into_iter()
        .filter(|m| *m <= horizon)
        .collect();
    if !months.contains(&horizon) {
        months.push(horizon);
    }
    months
}

/// `value` of a quantity growing at `rate`, `month` months on; a percentage is capped at 100
/// and then said to be saturated.
fn value_at(current: f64, rate: Rate, month: f64, percent: bool) -> (f64, bool) {
    let value = current * rate.multiple(month);
    if percent && value > 100.0 {
        (100.0, true)
    } else {
        (value, false)
    }
}

/// What is followed month by month: the resources, the latency, the users and the cost, all
/// growing with load.
pub(super) struct Followed<'a> {
    pub tracked: &'a [Tracked],
    pub latency: Option<&'a LatencyForecast>,
    pub users: Option<u64>,
    pub cost: Option<f64>,
    pub rate: Rate,
}

impl Followed<'_> {
    /// The load multiple and each followed value at `month`.
    fn at(&self, month: u32) -> Checkpoint {
        let m = f64::from(month);
        let mut values: Vec<CheckpointValue> = self
            .tracked
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
        if let Some(l) = self.latency {
            let p95 = latency::p95_at(l, self.rate, m);
            values.push(CheckpointValue {
                name: "p95_latency_ms".into(),
                value: p95,
                saturated: p95.is_none(),
            });
        }
        if let Some(users) = self.users {
            values.push(CheckpointValue {
                name: "users".into(),
                value: Some(users as f64 * self.rate.multiple(m)),
                saturated: false,
            });
        }
        if let Some(cost) = self.cost {
            values.push(CheckpointValue {
                name: "monthly_cost_usd".into(),
                value: Some(cost * self.rate.multiple(m)),
                saturated: false,
            });
        }
        Checkpoint {
            month,
            load_multiple: self.rate.multiple(m),
            values,
        }
    }

    /// The values at each of `months`.
    pub(super) fn checkpoints(&self, months: &[u32]) -> Vec<Checkpoint> {
        months.iter().map(|m| self.at(*m)).collect()
    }

    /// The load-driven metrics at about a dozen months through the horizon.
    pub(super) fn chart(&self, horizon: u32) -> Chart {
        let step = horizon.div_ceil(12).max(1);
        let mut months: Vec<u32> = (0..=horizon).step_by(step as usize).collect();
        if months.last() != Some(&horizon) {
            months.push(horizon);
        }
        Chart {
            series: self
                .tracked
                .iter()
                .filter(|t| t.finding.is_some())
                .map(|t| ChartSeries {
                    name: t.name.clone(),
                    values: months
                        .iter()
                        .map(|m| value_at(t.current, t.rate, f64::from(*m), true).0)
                        .collect(),
                    warning: t.warning,
                    critical: t.critical,
                })
                .collect(),
            months,
        }
    }

    /// Every month through the horizon, or every few months when that many values would pass
    /// [`BY_MONTH_VALUES`] (as many a month as `checkpoints` hold), with a note in `truncated`.
    pub(super) fn by_month(
        &self,
        horizon: u32,
        checkpoints: &[Checkpoint],
        truncated: &mut Vec<Truncated>,
    ) -> Vec<Checkpoint> {
        let per_month = checkpoints.first().map_or(1, |c| c.values.len().max(1));
        let months = (horizon as usize + 1).min((BY_MONTH_VALUES / per_month).max(2));
        let total = horizon as usize + 1;
        if months >= total {
            return (0..=horizon).map(|m| self.at(m)).collect();
        }
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
        list.into_iter().map(|m| self.at(m)).collect()
    }
}

/// The timeline as a list.
pub(super) fn to_markdown(timeline: &[TimelineEvent], out: &mut String) {
    if timeline.is_empty() {
        return;
    }
    let _ = writeln!(out, "\n### Timeline\n");
    for e in timeline {
        let _ = writeln!(out, "- {}: {}", numbers::month(e.month), e.event);
    }
}

/// The chart as a mermaid xychart: a line per metric, then a flat line per threshold.
pub(super) fn chart_to_markdown(chart: &Chart, out: &mut String) {
    if chart.series.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "\n### Load-driven metrics by month\n\n```mermaid\nxychart-beta\n    title \"Load-driven metrics by month (%)\"\n    x-axis \"month\" [{}]\n    y-axis \"%\" 0 --> 100",
        chart
            .months
            .iter()
            .map(u32::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    );
    let mut legend = Vec::new();
    for s in &chart.series {
        let values: Vec<String> = s.values.iter().map(|v| format!("{v:.1}")).collect();
        let _ = writeln!(out, "    line [{}]", values.join(", "));
        legend.push(format!("`{}`", s.name));
    }
    let mut lines: Vec<f64> = Vec::new();
    for s in &chart.series {
        for v in std::iter::once(s.warning).chain(s.critical) {
            if !lines.contains(&v) {
                lines.push(v);
            }
        }
    }
    for v in &lines {
        let flat: Vec<String> = chart.months.iter().map(|_| format!("{v:.1}")).collect();
        let _ = writeln!(out, "    line [{}]", flat.join(", "));
    }
    let _ = writeln!(
        out,
        "```\n\nLines, in order: {}; then the thresholds {}%.",
        legend.join(", "),
        lines
            .iter()
            .map(|v| numbers::quantity(*v))
            .collect::<Vec<_>>()
            .join("%, ")
    );
}

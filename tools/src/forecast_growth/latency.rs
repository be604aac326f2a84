//! Latency: the p95 as the response time of one M/M/1 queue, R = S / (1 − ρ), whose
//! utilization grows with load; the months to the lines of the high-latency finding and to
//! saturation, when ρ reaches 1.

use knowledge::Comparison;
use std::fmt::Write;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::growth_models::{Rate, left_behind};
use crate::numbers;
use crate::thresholds::MetricThresholds;
use crate::{ArgError, MissingInput};

use super::ForecastArgs;
use super::book::Book;
use super::growth::Growth;
use super::resources::Recovery;
use super::tables::{GrowthTables, LoadTrend, model_words};
use super::timeline::Timeline;

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
    /// The model whose saturation month governs instead of this one's (`queueing`, the
    /// M/M/c of the servers given: growth-models#which-queueing-model-governs); null when
    /// this one's does.
    pub saturation_governed_by: Option<String>,
    /// months_to_critical − lead time, at least 0; null when load falls
    /// (growth-models#falling-load).
    pub order_by_month: Option<f64>,
    /// Null when saturated by the horizon.
    pub p95_at_horizon_ms: Option<f64>,
    /// Past its warning line while load falls: when the p95 is back at each line (the load
    /// multiple of latency_break_multiple, reached at the falling rate), and the high_latency
    /// finding's immediate fix for meanwhile; null otherwise.
    pub recovery: Option<Recovery>,
}

/// What the latency reads besides its arguments: whether its trend orders capacity, and the
/// finding's immediate fix (with the rows it rests on) for while it recovers.
pub(super) struct LatencyJudging<'a> {
    pub orders: bool,
    pub meanwhile: Option<(&'a str, &'a [String])>,
    /// The row of `growth-models#falling-load` a recovery rests on.
    pub falling_load_uri: &'a str,
}

/// Refuses a utilization at which the queue is saturated today.
pub(super) fn check(utilization_pct: Option<f64>) -> Result<(), ArgError> {
    match utilization_pct {
        Some(utilization) if utilization >= 100.0 => Err(ArgError::number(
            "utilization_pct",
            utilization,
            "a utilization below 100 (at 100 the queue is saturated and response time unbounded)",
        )),
        _ => Ok(()),
    }
}

/// The latency forecast when both the p95 and the utilization are given; when only one is,
/// a note that the other would add it.
pub(super) fn forecast(
    args: &ForecastArgs,
    lines: &MetricThresholds,
    growth: &Growth,
    judging: &LatencyJudging<'_>,
    book: &mut Book<'_>,
    missing_inputs: &mut Vec<MissingInput>,
) -> Option<LatencyForecast> {
    let missing = match (args.p95_latency_ms, args.utilization_pct) {
        (Some(p95), Some(utilization)) => {
            return Some(follow(book, lines, p95, utilization, growth, judging));
        }
        (Some(_), None) => "utilization_pct",
        (None, Some(_)) => "p95_latency_ms",
        (None, None) => return None,
    };
    missing_inputs.push(MissingInput {
        field: missing.into(),
        enables: "latency".into(),
        where_to_get_it: None,
    });
    None
}

fn follow(
    book: &mut Book<'_>,
    lines: &MetricThresholds,
    p95: f64,
    utilization: f64,
    growth: &Growth,
    judging: &LatencyJudging<'_>,
) -> LatencyForecast {
    let orders = judging.orders;
    let rho = utilization / 100.0;
    let rate = growth.rate;
    // The load multiple at which p95 reaches `line`, as months.
    // Past a line as its row compares (`> 1000`: at 1000 ms it is not past it yet).
    // The load multiple is compared as the line is: at a multiple of 1 on a strict line, any
    // growth takes it past, and none leaves it there.
    let months_to_line = |book: &mut Book<'_>, comparison: Comparison, line: f64, what: &str| {
        if comparison.holds(p95, line) {
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
        book.months(
            format!("latency.months_to_{what}"),
            1.0,
            comparison,
            multiple,
            rate,
        )
    };
    let months_to_warning = months_to_line(book, lines.comparison, lines.warning, "warning");
    let months_to_critical = lines
        .critical
        .and_then(|c| months_to_line(book, lines.critical_comparison, c, "critical"));
    let months_to_saturation = if rho > 0.0 {
        let multiple = book.show(
            "latency.saturation_multiple".into(),
            "saturation_multiple",
            &[("utilization_pct", utilization)],
        );
        book.months(
            "latency.months_to_saturation".into(),
            1.0,
            Comparison::AtLeast,
            multiple,
            rate,
        )
    } else {
        None
    };
    let order_by_month = orders
        .then(|| {
            book.order_by(
                "latency.order_by_month".into(),
                months_to_critical,
                growth.lead_time,
            )
        })
        .flatten();
    let multiple = rate.multiple(growth.horizon_months());
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
    let recovery = recovery(book, lines, p95, utilization, growth, judging);
    LatencyForecast {
        recovery,
        p95_latency_ms: p95,
        utilization_pct: utilization,
        warning_ms: lines.warning,
        critical_ms: lines.critical,
        months_to_warning,
        months_to_critical,
        months_to_saturation,
        saturation_governed_by: None,
        order_by_month,
        p95_at_horizon_ms,
    }
}

/// A p95 past its warning line while load falls: the months until it is back at each line
/// it is past (the load multiple at which the M/M/1 gives the line, reached at the falling
/// rate), and the finding's immediate fix. `None` when it is not past a line or load does
/// not fall; a month is null when even no load would not bring it back (its service time
/// alone is past the line).
fn recovery(
    book: &mut Book<'_>,
    lines: &MetricThresholds,
    p95: f64,
    utilization: f64,
    growth: &Growth,
    judging: &LatencyJudging<'_>,
) -> Option<Recovery> {
    if LoadTrend::of(growth.rate) != LoadTrend::Falling
        || !lines.comparison.holds(p95, lines.warning)
        || utilization <= 0.0
    {
        return None;
    }
    let mut back = |comparison: Comparison, line: f64, what: &str| {
        let multiple = book.show(
            format!("latency.recovery.{what}_multiple"),
            "latency_break_multiple",
            &[
                ("p95_latency_ms", p95),
                ("utilization_pct", utilization),
                ("threshold", line),
            ],
        );
        book.months(
            format!("latency.recovery.months_below_{what}"),
            1.0,
            left_behind(comparison),
            multiple,
            growth.rate,
        )
    };
    let months_below_critical = match lines.critical {
        Some(c) if lines.critical_comparison.holds(p95, c) => {
            back(lines.critical_comparison, c, "critical")
        }
        _ => None,
    };
    let months_below_warning = back(lines.comparison, lines.warning, "warning");
    let worst = months_below_critical.or(months_below_warning);
    book.cite(judging.falling_load_uri);
    let meanwhile = judging.meanwhile.map(|(fix, sources)| {
        for uri in sources {
            book.cite(uri.clone());
        }
        fix.to_string()
    });
    Some(Recovery {
        months_below_critical,
        months_below_warning,
        before_lead_time: worst.is_some_and(|m| m <= growth.lead_time),
        meanwhile,
    })
}

/// The p95 at `month`, by the same M/M/1 response time; `None` once saturated.
pub(super) fn p95_at(l: &LatencyForecast, rate: Rate, month: f64) -> Option<f64> {
    let rho = l.utilization_pct / 100.0 * rate.multiple(month);
    (rho < 1.0).then(|| l.p95_latency_ms * (1.0 - l.utilization_pct / 100.0) / (1.0 - rho))
}

/// On the timeline: the warning and critical lines, and saturation.
pub(super) fn events(latency: Option<&LatencyForecast>, timeline: &mut Timeline) {
    let Some(l) = latency else { return };
    timeline.add(
        l.months_to_warning,
        "latency",
        format!(
            "p95 latency reaches {} ms (warning)",
            numbers::quantity(l.warning_ms)
        ),
    );
    if let Some(c) = l.critical_ms {
        timeline.add(
            l.months_to_critical,
            "latency",
            format!("p95 latency reaches {} ms (critical)", numbers::quantity(c)),
        );
    }
    let saturates = match &l.saturation_governed_by {
        Some(model) => format!(
            "the M/M/1 of the p95 reaches 100% utilization (not governing: {} governs saturation)",
            model_words(model)
        ),
        None => "utilization reaches 100%: response time grows without bound".into(),
    };
    timeline.add(l.months_to_saturation, "latency", saturates);
    if let Some(recovery) = &l.recovery {
        if let Some(c) = l.critical_ms {
            timeline.add(
                recovery.months_below_critical,
                "latency",
                format!(
                    "p95 latency falls back to {} ms as load falls: no longer critical",
                    numbers::quantity(c)
                ),
            );
        }
        timeline.add(
            recovery.months_below_warning,
            "latency",
            format!(
                "p95 latency falls back to {} ms as load falls: recovered",
                numbers::quantity(l.warning_ms)
            ),
        );
    }
}

/// What the latency model assumes.
pub(super) const ASSUMPTION: &str = "latency: one M/M/1 queue in front of what serves the requests; its utilization grows with load and the p95 scales with the mean response time";

/// The rows a latency forecast rests on: the high-latency finding and the M/M/1 section.
pub(super) fn cite(
    latency: Option<&LatencyForecast>,
    lines: &MetricThresholds,
    tables: &GrowthTables,
    book: &mut Book<'_>,
) {
    if latency.is_some() {
        book.cite(lines.uri.to_string());
        book.cite(tables.section("m-m-1-response-time"));
    }
}

pub(super) fn to_markdown(l: &LatencyForecast, out: &mut String) {
    let _ = writeln!(
        out,
        "\n**Latency** (M/M/1): p95 {} ms at {} utilization reaches {} ms {}{}; saturation {}{}.",
        numbers::quantity(l.p95_latency_ms),
        numbers::percent(l.utilization_pct),
        numbers::quantity(l.warning_ms),
        numbers::month_or_never(l.months_to_warning),
        l.critical_ms
            .map(|c| format!(
                ", {} ms {}",
                numbers::quantity(c),
                numbers::month_or_never(l.months_to_critical)
            ))
            .unwrap_or_default(),
        numbers::month_or_never(l.months_to_saturation),
        l.saturation_governed_by
            .as_ref()
            .map(|m| format!(" (not governing: {} governs saturation)", model_words(m)))
            .unwrap_or_default()
    );
}

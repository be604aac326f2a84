//! Resources: the five load-driven metrics against the lines of their findings, and the
//! caller's own resources (disk, IOPS, memory) against the lines given. For each, the months
//! to its warning and critical lines, the load multiple it absorbs, and the month to order
//! capacity by.

use std::fmt::Write;

use knowledge::Comparison;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::ArgError;
use crate::calculator::show;
use crate::diagnose_bottleneck::DiagnosisRules;
use crate::growth_models::{Rate, left_behind};
use crate::numbers;
use crate::thresholds::{LOAD_DRIVEN, MetricThresholds};

use super::ForecastArgs;
use super::book::Book;
use super::growth::Growth;
use super::tables::{LoadTrend, OrderRules};
use super::timeline::Timeline;

/// The most resources a forecast follows besides the load-driven metrics.
const MOST_RESOURCES: usize = 100;
/// The longest name a resource may have, in characters.
const LONGEST_NAME: usize = 100;

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

/// Where a resource stands today, by its row's comparisons (`db_cpu_pct > 85` is critical
/// above 85: at 85 it is `warning_now`, as `diagnose_bottleneck` says).
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
    /// months_to_critical − lead time, at least 0; null without a critical line, and null
    /// when its load falls (it recovers: see `recovery`, growth-models#falling-load).
    pub order_by_month: Option<f64>,
    pub status: Status,
    /// The finding whose thresholds apply (load-driven metrics), or null.
    pub finding: Option<String>,
    /// Past a line while its load falls: when it is back, and what to do meanwhile; null
    /// otherwise.
    pub recovery: Option<Recovery>,
}

/// A resource past a line while its load falls: it comes back by itself, so no capacity is
/// ordered (`growth-models#falling-load`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Recovery {
    /// Month it is back at its critical line (no longer critical): ln(critical / current) /
    /// ln(1 + g); null when it is not past it now.
    pub months_below_critical: Option<f64>,
    /// Month it is back at its warning line.
    pub months_below_warning: Option<f64>,
    /// True when it is back from its worst line before capacity ordered today could arrive
    /// (within the lead time).
    pub before_lead_time: bool,
    /// What to do until then: the immediate fix of its finding (diagnose_bottleneck's); null
    /// for a resource given without a finding.
    pub meanwhile: Option<String>,
}

/// The first resource to reach its warning line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct FirstToBreak {
    pub name: String,
    pub months_to_warning: Option<f64>,
    pub months_to_critical: Option<f64>,
    pub order_by_month: Option<f64>,
}

/// A followed quantity before it is sorted into the result: a load-driven metric or a
/// resource given, with its lines and the rate it grows at.
pub(super) struct Tracked {
    pub name: String,
    pub current: f64,
    pub warning: f64,
    pub critical: Option<f64>,
    pub rate: Rate,
    pub finding: Option<String>,
    /// How the warning and critical lines are passed: the finding row's comparisons for a
    /// load-driven metric (`>`), reaching the line given (`>=`) for the caller's resources.
    pub comparison: Comparison,
    pub critical_comparison: Comparison,
    /// A percentage, capped at 100 where it is shown by month.
    pub percent: bool,
}

impl Tracked {
    fn past_warning(&self) -> bool {
        self.comparison.holds(self.current, self.warning)
    }

    fn past_critical(&self) -> bool {
        self.critical
            .is_some_and(|c| self.critical_comparison.holds(self.current, c))
    }
}

/// A month for ordering: never comes after every month.
pub(super) fn month_order(months: Option<f64>) -> f64 {
    months.unwrap_or(f64::INFINITY)
}

/// What the forecast follows: the load-driven metrics given (each against `lines`, in
/// `LOAD_DRIVEN` order), then the caller's resources, each checked.
pub(super) fn tracked(
    args: &ForecastArgs,
    lines: &[MetricThresholds],
    growth: &Growth,
    book: &mut Book<'_>,
) -> Result<Vec<Tracked>, ArgError> {
    let given = [
        args.db_cpu_pct,
        args.app_cpu_pct,
        args.db_read_load_pct,
        args.db_write_load_pct,
        args.pool_utilization_pct,
    ];
    let mut tracked = Vec::new();
    for ((name, value), thresholds) in LOAD_DRIVEN.iter().zip(given).zip(lines) {
        if let Some(current) = value {
            tracked.push(Tracked {
                name: (*name).to_string(),
                current,
                warning: thresholds.warning,
                critical: thresholds.critical,
                rate: growth.rate,
                finding: Some(thresholds.finding.to_string()),
                comparison: thresholds.comparison,
                critical_comparison: thresholds.critical_comparison,
                percent: true,
            });
            book.cite(thresholds.uri.to_string());
        }
    }
    if args.resources.len() > MOST_RESOURCES {
        return Err(ArgError::new(
            "resources",
            format!("a list of {} resources", args.resources.len()),
            "at most 100 resources",
        ));
    }
    for (i, resource) in args.resources.iter().enumerate() {
        let followed = given_resource(i, resource, &tracked, growth)?;
        tracked.push(followed);
    }
    Ok(tracked)
}

/// The caller's resource number `i`, refused when its name is empty, too long or taken, its
/// critical line below its warning line, or its growth past what the forecast follows.
fn given_resource(
    i: usize,
    resource: &ResourceArgs,
    tracked: &[Tracked],
    growth: &Growth,
) -> Result<Tracked, ArgError> {
    let field = |f: &str| format!("resources[{i}].{f}");
    let name = resource.name.trim();
    if name.chars().count() > LONGEST_NAME {
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
    if tracked.iter().any(|t| t.name == name) {
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
    let rate = match resource.monthly_growth_pct {
        Some(pct) => growth.own_rate(&field("monthly_growth_pct"), pct)?,
        None => growth.rate,
    };
    if !(resource.current * rate.multiple(growth.horizon_months())).is_finite() {
        return Err(ArgError::number(
            &field("current"),
            resource.current,
            "a value whose growth over the horizon stays finite",
        ));
    }
    Ok(Tracked {
        name: name.to_string(),
        current: resource.current,
        warning: resource.warning,
        critical: resource.critical,
        rate,
        finding: None,
        comparison: Comparison::AtLeast,
        critical_comparison: Comparison::AtLeast,
        percent: name.ends_with("_pct"),
    })
}

/// What a resource's forecast reads besides the resource: the lead time, whether its trend
/// orders capacity, and the diagnosis' fixes for what to do while it recovers.
pub(super) struct Judging<'a> {
    pub lead_time: f64,
    pub order_rules: &'a OrderRules,
    pub rules: &'a DiagnosisRules,
}

/// Each followed quantity's months to its lines, break multiple and order-by month, sorted by
/// the month it warns (then the month it turns critical), never last.
pub(super) fn forecast(
    tracked: &[Tracked],
    judging: &Judging<'_>,
    book: &mut Book<'_>,
) -> Vec<ResourceForecast> {
    let mut resources: Vec<ResourceForecast> = tracked
        .iter()
        .map(|t| forecast_one(t, judging, book))
        .collect();
    resources.sort_by(|a, b| {
        month_order(a.months_to_warning)
            .total_cmp(&month_order(b.months_to_warning))
            .then(month_order(a.months_to_critical).total_cmp(&month_order(b.months_to_critical)))
    });
    resources
}

fn forecast_one(t: &Tracked, judging: &Judging<'_>, book: &mut Book<'_>) -> ResourceForecast {
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
    let months_to_warning = book.months(
        label("months_to_warning"),
        t.current,
        t.comparison,
        t.warning,
        t.rate,
    );
    let months_to_critical = t.critical.and_then(|c| {
        book.months(
            label("months_to_critical"),
            t.current,
            t.critical_comparison,
            c,
            t.rate,
        )
    });
    let orders = judging.order_rules.orders(t.rate);
    if !orders && months_to_critical.is_some() {
        book.cite(judging.order_rules.uri.clone());
    }
    let order_by_month = orders
        .then(|| {
            book.order_by(
                label("order_by_month"),
                months_to_critical,
                judging.lead_time,
            )
        })
        .flatten();
    let status = if t.past_critical() {
        Status::CriticalNow
    } else if t.past_warning() {
        Status::WarningNow
    } else if months_to_warning.is_none() {
        Status::Never
    } else {
        Status::Ok
    };
    let recovery = recovery(t, judging, book);
    ResourceForecast {
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
        recovery,
    }
}

/// A resource past its warning line while its own load falls: the months until it is back at
/// each line it is past (the compounding formula, a negative rate), and the finding's
/// immediate fix for meanwhile. `None` when it is not past a line or its load does not fall.
fn recovery(t: &Tracked, judging: &Judging<'_>, book: &mut Book<'_>) -> Option<Recovery> {
    if LoadTrend::of(t.rate) != LoadTrend::Falling || !t.past_warning() {
        return None;
    }
    let label = |what: &str| format!("resources.{}.recovery.{what}", t.name);
    let months_below_critical = match t.critical {
        Some(c) if t.past_critical() => book.months(
            label("months_below_critical"),
            t.current,
            left_behind(t.critical_comparison),
            c,
            t.rate,
        ),
        _ => None,
    };
    let months_below_warning = book.months(
        label("months_below_warning"),
        t.current,
        left_behind(t.comparison),
        t.warning,
        t.rate,
    );
    let worst = months_below_critical.or(months_below_warning);
    let meanwhile = t
        .finding
        .as_deref()
        .and_then(|f| judging.rules.immediate_fix(f))
        .map(|(fix, sources)| {
            for uri in sources {
                book.cite(uri.clone());
            }
            fix.to_string()
        });
    book.cite(judging.order_rules.uri.clone());
    Some(Recovery {
        months_below_critical,
        months_below_warning,
        before_lead_time: worst.is_some_and(|m| m <= judging.lead_time),
        meanwhile,
    })
}

/// On the timeline: when to start adding capacity (unless already critical), each line
/// crossed, and, for a resource that recovers, each line it comes back to.
pub(super) fn events(resources: &[ResourceForecast], lead_time: f64, timeline: &mut Timeline) {
    for r in resources {
        if let Some(order_by) = r.order_by_month
            && r.status != Status::CriticalNow
        {
            timeline.add(
                Some(order_by),
                &r.name,
                format!(
                    "start adding capacity for {} (lead time {} months)",
                    r.name,
                    numbers::quantity(lead_time)
                ),
            );
        }
        let past_warning = matches!(r.status, Status::WarningNow | Status::CriticalNow);
        let verb = |past: bool| if past { "is past" } else { "reaches" };
        timeline.add(
            r.months_to_warning,
            &r.name,
            format!(
                "{} {} its warning line ({})",
                r.name,
                verb(past_warning),
                numbers::quantity(r.warning)
            ),
        );
        if let Some(c) = r.critical {
            timeline.add(
                r.months_to_critical,
                &r.name,
                format!(
                    "{} {} its critical line ({})",
                    r.name,
                    verb(r.status == Status::CriticalNow),
                    numbers::quantity(c)
                ),
            );
        }
        if let Some(recovery) = &r.recovery {
            if let Some(c) = r.critical {
                timeline.add(
                    recovery.months_below_critical,
                    &r.name,
                    format!(
                        "{} falls back to its critical line ({}) as load falls: no longer critical",
                        r.name,
                        numbers::quantity(c)
                    ),
                );
            }
            timeline.add(
                recovery.months_below_warning,
                &r.name,
                format!(
                    "{} falls back to its warning line ({}) as load falls: recovered",
                    r.name,
                    numbers::quantity(r.warning)
                ),
            );
        }
    }
}

fn cell(x: Option<f64>) -> String {
    x.map_or("—".into(), numbers::month)
}

/// The resources as a table, in the order they warn.
pub(super) fn to_markdown(resources: &[ResourceForecast], out: &mut String) {
    if resources.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "\n| resource | now | warning | critical | break × | warning in | critical in | order by | status |\n|---|---|---|---|---|---|---|---|---|"
    );
    for r in resources {
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
            numbers::quantity(r.current),
            numbers::quantity(r.warning),
            r.critical.map_or("—".into(), numbers::quantity),
            r.break_multiple
                .map_or("—".into(), |b| format!("{}×", numbers::quantity(b))),
            cell(r.months_to_warning),
            cell(r.months_to_critical),
            cell(r.order_by_month),
        );
    }
}

//! The finding thresholds two tools share: `diagnose_bottleneck` fires on the rows of
//! `monitoring#diagnostic-findings`, and `forecast_growth` forecasts the load-driven metrics,
//! the p95 and the cache hit rate against the same rows. The diagnosis reads and checks them
//! once, at start-up ([`ForecastLines`] in its tables); the forecast takes them from there.

use knowledge::{Comparison, KnowledgeError, TableRef};

/// The load-driven metrics of `diagnose_bottleneck`, in the contract's order: each grows in
/// proportion to load and is forecast against its row of `monitoring#diagnostic-findings`.
pub const LOAD_DRIVEN: [&str; 5] = [
    "db_cpu_pct",
    "app_cpu_pct",
    "db_read_load_pct",
    "db_write_load_pct",
    "pool_utilization_pct",
];

/// The warning and critical thresholds a finding applies to one metric (`db_cpu_pct > 60`,
/// `> 85`), with the finding and the row they come from. Every tool that judges the metric
/// compares by `comparison` and `critical_comparison`, the row's own (never a `>=` of its
/// own), so that 85% database CPU is a warning in the diagnosis and in the forecast alike
/// (critical only above 85).
#[derive(Debug, Clone)]
pub(crate) struct MetricThresholds {
    pub finding: String,
    /// The warning cell's comparison.
    pub comparison: Comparison,
    pub warning: f64,
    /// The critical cell's comparison (the warning's when the row has no critical cell).
    pub critical_comparison: Comparison,
    pub critical: Option<f64>,
    pub uri: String,
}

impl MetricThresholds {
    /// True when `value` fires the finding at warning or worse.
    pub(crate) fn warns(&self, value: f64) -> bool {
        self.comparison.holds(value, self.warning)
    }
}

/// The lines `forecast_growth` follows a growing system towards: each load-driven metric's,
/// the p95's and the cache hit rate's, checked to run the way the forecast follows them
/// (the metrics and the p95 upwards, the hit rate downwards).
#[derive(Debug, Clone)]
pub(crate) struct ForecastLines {
    /// In [`LOAD_DRIVEN`] order.
    pub load_driven: Vec<MetricThresholds>,
    pub latency: MetricThresholds,
    pub hit_rate: MetricThresholds,
}

impl ForecastLines {
    /// The lines, each from `thresholds` (the first finding whose warning compares the
    /// metric); a missing line, or one that runs the other way, is an error at `findings`.
    pub(crate) fn read(
        thresholds: impl Fn(&str) -> Option<MetricThresholds>,
        findings: &TableRef<'_>,
    ) -> Result<Self, KnowledgeError> {
        let threshold = |metric: &str| {
            thresholds(metric).ok_or_else(|| {
                findings.error(format!(
                    "no finding has a warning threshold on `{metric}`, which forecast_growth forecasts against"
                ))
            })
        };
        let load_driven = LOAD_DRIVEN
            .iter()
            .map(|m| threshold(m))
            .collect::<Result<Vec<_>, _>>()?;
        let latency = threshold("p95_latency_ms")?;
        let hit_rate = threshold("cache_hit_rate_pct")?;
        // The forecast follows growing metrics upwards and the hit rate downwards: a row that
        // compares the other way is not one it can forecast against.
        let rising = [Comparison::Above, Comparison::AtLeast];
        for (metric, t) in LOAD_DRIVEN
            .iter()
            .zip(&load_driven)
            .chain([(&"p95_latency_ms", &latency)])
        {
            if !rising.contains(&t.comparison) {
                return Err(findings.error(format!(
                    "the finding `{}` warns on `{metric}` falling ({} {}); forecast_growth needs a rising threshold (> or >=)",
                    t.finding,
                    t.comparison.symbol(),
                    t.warning
                )));
            }
        }
        if rising.contains(&hit_rate.comparison) {
            return Err(findings.error(format!(
                "the finding `{}` warns on `cache_hit_rate_pct` rising; forecast_growth needs a falling threshold (< or <=)",
                hit_rate.finding
            )));
        }
        Ok(Self {
            load_driven,
            latency,
            hit_rate,
        })
    }
}

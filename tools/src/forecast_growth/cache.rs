//! Cache: a cache of fixed size over a catalog whose popularity follows a Zipf law, kept by
//! LRU (Che's approximation) or as the fixed top items (static). As the catalog grows the hit
//! rate falls: when it passes below the line of the low-hit-rate finding, and the items that
//! would keep it there at the horizon. The sums themselves are in `growth_models.rs`.

use knowledge::Comparison;
use std::fmt::Write;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::ArgError;
use crate::growth_models::{Bounded, HEAD_ITEMS, Rate, Zipf};
use crate::numbers;
use crate::thresholds::MetricThresholds;

use super::book::Book;
use super::growth::Growth;
use super::tables::GrowthTables;
use super::timeline::{Checkpoint, CheckpointValue, Timeline};

/// Which items a cache keeps.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum CachePolicy {
    /// Least recently used (Che's approximation).
    #[default]
    Lru,
    /// The most popular items, fixed.
    Static,
}

// A cache over a catalog whose popularity follows a Zipf law.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CacheArgs {
    /// Items the cache holds.
    #[schemars(range(min = 1))]
    pub cache_items: u64,
    /// Distinct items requested.
    #[schemars(range(min = 1, max = 1_000_000_000_000_u64))]
    pub catalog_items: u64,
    /// Zipf exponent (web: 0.6 to 1).
    #[schemars(extend("exclusiveMinimum" = 0), range(max = 3))]
    pub zipf_alpha: f64,
    /// lru (Che) or static (top items).
    pub policy: CachePolicy,
    /// Catalog growth, %/month; default the load's.
    #[schemars(extend("exclusiveMinimum" = -100))]
    pub catalog_monthly_growth_pct: Option<f64>,
}

/// A Zipf cache as its catalog grows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct CacheForecast {
    pub policy: CachePolicy,
    pub cache_items: u64,
    pub catalog_items: u64,
    pub zipf_alpha: f64,
    /// The catalog's growth, % a month.
    pub catalog_monthly_growth_pct: f64,
    /// Hit rate today, %.
    pub hit_rate_pct: f64,
    /// Bound on the approximation error of hit_rate_pct, percentage points.
    pub hit_rate_error_bound_pct: f64,
    /// The line the hit rate is compared with, %: the diagnosis' line (the warning of
    /// `threshold_finding`), not a target of the caller's.
    pub threshold_pct: f64,
    /// The diagnose_bottleneck finding whose line `threshold_pct` is (low_cache_hit_rate).
    pub threshold_finding: String,
    /// When the hit rate falls below the line; 0 when already below; null when not within the horizon.
    pub months_below_threshold: Option<f64>,
    pub catalog_items_at_horizon: f64,
    pub hit_rate_at_horizon_pct: f64,
    /// Items that keep the hit rate at the line at the horizon.
    pub cache_items_needed_at_horizon: Option<f64>,
}

/// Refuses a catalog growth past what the forecast follows, and a cache larger than its
/// catalog.
pub(super) fn check(cache: Option<&CacheArgs>, growth: &Growth) -> Result<(), ArgError> {
    let Some(c) = cache else { return Ok(()) };
    if let Some(pct) = c.catalog_monthly_growth_pct {
        // As a resource's own rate: the catalog at the horizon must stay a finite number.
        growth.own_rate("cache.catalog_monthly_growth_pct", pct)?;
    }
    if c.cache_items > c.catalog_items {
        return Err(ArgError::number(
            "cache.cache_items",
            c.cache_items as f64,
            format!("at most catalog_items ({})", c.catalog_items),
        ));
    }
    Ok(())
}

fn hit_rate(zipf: &Zipf, policy: CachePolicy, cache: f64, catalog: f64) -> Bounded {
    match policy {
        CachePolicy::Lru => zipf.lru_hit(cache, catalog),
        CachePolicy::Static => zipf.static_hit(cache, catalog),
    }
}

/// The hit rate today and at the horizon, the month it falls below the line, and the items
/// that would hold it there at the horizon.
pub(super) fn forecast(
    c: &CacheArgs,
    growth: &Growth,
    line: &MetricThresholds,
    tables: &GrowthTables,
    book: &mut Book<'_>,
) -> CacheForecast {
    book.cite(line.uri.to_string());
    let zipf = Zipf::new(c.zipf_alpha);
    let catalog_rate = c
        .catalog_monthly_growth_pct
        .map_or(growth.rate, Rate::from_pct);
    let cache = c.cache_items as f64;
    let catalog = c.catalog_items as f64;
    let now = hit_rate(&zipf, c.policy, cache, catalog);
    let threshold = line.warning / 100.0;
    let catalog_at_horizon = (catalog * catalog_rate.multiple(growth.horizon_months()))
        .max(1.0)
        .floor();
    let at_horizon = hit_rate(&zipf, c.policy, cache, catalog_at_horizon);
    // Below as the finding compares (`< 80`: at 80% it is not below).
    let months_below_threshold = if line.warns(now.value * 100.0) {
        Some(0.0)
    } else if catalog_at_horizon <= catalog {
        None
    } else {
        let crossing = match c.policy {
            CachePolicy::Lru => zipf.lru_catalog_below(cache, threshold, catalog_at_horizon),
            CachePolicy::Static => zipf.static_catalog_below(cache, threshold, catalog_at_horizon),
        };
        crossing.and_then(|n| {
            book.months(
                "cache.months_below_threshold".into(),
                catalog,
                Comparison::AtLeast,
                n.max(catalog),
                catalog_rate,
            )
        })
    };
    let cache_items_needed_at_horizon = Some(match c.policy {
        CachePolicy::Lru => zipf.lru_items_for(threshold, catalog_at_horizon),
        CachePolicy::Static => zipf.static_items_for(threshold, catalog_at_horizon),
    });
    book.cite(tables.section("zipf-popularity-and-cache-hit-rates"));
    CacheForecast {
        policy: c.policy,
        cache_items: c.cache_items,
        catalog_items: c.catalog_items,
        zipf_alpha: c.zipf_alpha,
        catalog_monthly_growth_pct: catalog_rate.pct,
        hit_rate_pct: now.value * 100.0,
        hit_rate_error_bound_pct: now.error_bound * 100.0,
        threshold_pct: line.warning,
        threshold_finding: line.finding.clone(),
        months_below_threshold,
        catalog_items_at_horizon: catalog_at_horizon,
        hit_rate_at_horizon_pct: at_horizon.value * 100.0,
        cache_items_needed_at_horizon,
    }
}

/// What the cache model assumes, with the bound of its approximation.
pub(super) fn assumption(c: &CacheForecast) -> String {
    format!(
        "cache: Zipf popularity with α = {}; {} items summed exactly and the rest by an Euler–Maclaurin tail (error bound {} percentage points)",
        numbers::quantity(c.zipf_alpha),
        numbers::count(HEAD_ITEMS as u64),
        numbers::quantity(c.hit_rate_error_bound_pct)
    )
}

/// The hit rate against the diagnosis' line at `month`: already below it now (a state, not
/// an event to come), or falling below it later.
pub(super) fn below_line_words(c: &CacheForecast, month: f64) -> String {
    if month == 0.0 {
        format!(
            "cache hit rate is already below {} (the {} line of diagnose_bottleneck)",
            numbers::percent(c.threshold_pct),
            c.threshold_finding
        )
    } else {
        format!(
            "cache hit rate falls below {} (the {} line of diagnose_bottleneck)",
            numbers::percent(c.threshold_pct),
            c.threshold_finding
        )
    }
}

/// On the timeline: the hit rate falling below its line, or below it already.
pub(super) fn events(cache: Option<&CacheForecast>, timeline: &mut Timeline) {
    let Some(c) = cache else { return };
    if let Some(month) = c.months_below_threshold {
        timeline.add(Some(month), "cache", below_line_words(c, month));
    }
}

/// The hit rate at each checkpoint, the catalog grown to that month.
pub(super) fn add_to_checkpoints(cache: Option<&CacheForecast>, checkpoints: &mut [Checkpoint]) {
    let Some(c) = cache else { return };
    let zipf = Zipf::new(c.zipf_alpha);
    let catalog_rate = Rate::from_pct(c.catalog_monthly_growth_pct);
    for checkpoint in checkpoints {
        let n =
            (c.catalog_items as f64 * catalog_rate.multiple(f64::from(checkpoint.month))).max(1.0);
        let hit = hit_rate(&zipf, c.policy, c.cache_items as f64, n).value * 100.0;
        checkpoint.values.push(CheckpointValue {
            name: "cache.hit_rate_pct".into(),
            value: Some(hit),
            saturated: false,
        });
    }
}

pub(super) fn to_markdown(c: &CacheForecast, out: &mut String) {
    let policy = match c.policy {
        CachePolicy::Lru => "LRU",
        CachePolicy::Static => "static",
    };
    let _ = writeln!(
        out,
        "\n**Cache** ({policy}, {} of {} items, α {}): hit rate {} (±{} points), {} at the horizon; {}; items needed at the horizon: {}.",
        numbers::count(c.cache_items),
        numbers::count(c.catalog_items),
        numbers::quantity(c.zipf_alpha),
        numbers::percent(c.hit_rate_pct),
        numbers::quantity(c.hit_rate_error_bound_pct),
        numbers::percent(c.hit_rate_at_horizon_pct),
        match c.months_below_threshold {
            Some(0.0) => format!(
                "already below the {} line ({}) now",
                c.threshold_finding,
                numbers::percent(c.threshold_pct)
            ),
            m => format!(
                "below the {} line ({}) {}",
                c.threshold_finding,
                numbers::percent(c.threshold_pct),
                numbers::month_or_never(m)
            ),
        },
        c.cache_items_needed_at_horizon
            .map_or("—".into(), numbers::quantity)
    );
}

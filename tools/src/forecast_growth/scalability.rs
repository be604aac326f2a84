//! Scalability: the Universal Scalability Law, X(N) = λN / (1 + σ(N − 1) + κN(N − 1)), from
//! coefficients given or fitted to load-test measurements. Its peak, the nodes today's load
//! and the horizon's need, and when the load passes what any node count carries.

use knowledge::Comparison;
use std::fmt::Write;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::ArgError;
use crate::calculator::{ceil_whole, show};
use crate::growth_models::{fit_usl, usl_nodes_for, usl_throughput};
use crate::numbers;

use super::book::Book;
use super::growth::Growth;
use super::tables::GrowthTables;
use super::timeline::Timeline;

// One throughput measurement of a load test.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Measurement {
    /// Nodes (or threads) tested.
    #[schemars(range(min = 1))]
    pub nodes: u64,
    /// Requests/s measured.
    #[schemars(extend("exclusiveMinimum" = 0))]
    pub throughput: f64,
}

// The Universal Scalability Law: coefficients, or measurements to fit them from.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ScalabilityArgs {
    /// Contention σ (with kappa, lambda).
    #[schemars(range(min = 0, max = 1))]
    pub sigma: Option<f64>,
    /// Coherency κ.
    #[schemars(range(min = 0, max = 1))]
    pub kappa: Option<f64>,
    /// Requests/s of one node.
    #[schemars(extend("exclusiveMinimum" = 0))]
    pub lambda: Option<f64>,
    /// Or ≥ 3 load-test points, one at nodes = 1.
    pub measurements: Option<Vec<Measurement>>,
    /// Today's load, requests/s.
    #[schemars(extend("exclusiveMinimum" = 0))]
    pub current_rps: f64,
}

/// A USL curve against today's and tomorrow's load.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ScalabilityForecast {
    pub sigma: f64,
    pub kappa: f64,
    pub lambda: f64,
    /// True when fitted from measurements.
    pub fitted: bool,
    /// N* = sqrt((1 − σ)/κ); null when κ = 0 (no peak).
    pub peak_nodes: Option<f64>,
    /// The most the curve carries, requests/s; null when unbounded.
    pub max_throughput_rps: Option<f64>,
    pub current_rps: f64,
    /// Fewest whole nodes for today's load; null when none suffices.
    pub nodes_needed: Option<u64>,
    pub nodes_needed_at_horizon: Option<u64>,
    /// When the load passes the peak throughput; 0 when already past.
    pub months_to_ceiling: Option<f64>,
}

/// The coefficients of the curve, given or fitted, and what a fit had to assume.
pub(super) struct Usl {
    sigma: f64,
    kappa: f64,
    lambda: f64,
    fitted: bool,
    /// The fit and any coefficient it had to clamp, among the forecast's assumptions.
    pub notes: Vec<String>,
}

impl Usl {
    /// The coefficients given, or fitted from the measurements; refused when both or neither
    /// are given, or when the measurements cannot be fitted.
    pub(super) fn from_args(s: &ScalabilityArgs) -> Result<Self, ArgError> {
        for (field, value) in [("sigma", s.sigma), ("kappa", s.kappa)] {
            if let Some(v) = value
                && !(0.0..1.0).contains(&v)
            {
                return Err(ArgError::number(
                    &format!("scalability.{field}"),
                    v,
                    "a coefficient from 0 to below 1",
                ));
            }
        }
        match (&s.measurements, s.sigma, s.kappa, s.lambda) {
            (Some(_), Some(_), _, _) | (Some(_), _, Some(_), _) | (Some(_), _, _, Some(_)) => {
                Err(ArgError::new(
                    "scalability.measurements",
                    "measurements together with coefficients",
                    "either sigma, kappa and lambda, or measurements to fit them from, not both",
                ))
            }
            (None, Some(sigma), Some(kappa), Some(lambda)) => Ok(Self {
                sigma,
                kappa,
                lambda,
                fitted: false,
                notes: Vec::new(),
            }),
            (None, sigma, kappa, lambda) => {
                let missing = [("sigma", sigma), ("kappa", kappa), ("lambda", lambda)]
                    .iter()
                    .find(|(_, v)| v.is_none())
                    .map_or("sigma", |(n, _)| *n);
                Err(ArgError::new(
                    &format!("scalability.{missing}"),
                    "nothing (the field is missing)",
                    "sigma, kappa and lambda together, or measurements: [{nodes, throughput}] with one at nodes = 1",
                ))
            }
            (Some(points), None, None, None) => Self::fitted(points),
        }
    }

    /// σ, κ and λ fitted by least squares to the measurements (one at nodes = 1); a fitted
    /// coefficient outside [0, 1) is clamped, and the notes say so.
    fn fitted(points: &[Measurement]) -> Result<Self, ArgError> {
        let shown = format!("{} measurements", points.len());
        if points.len() < 3 || points.len() > 10_000 {
            return Err(ArgError::new(
                "scalability.measurements",
                shown,
                "3 to 10000 measurements, one at nodes = 1",
            ));
        }
        if !points.iter().any(|p| p.nodes == 1) {
            return Err(ArgError::new(
                "scalability.measurements",
                format!("{shown}, none at nodes = 1"),
                "measurements that include one at nodes = 1 (it gives lambda and the fit's scale)",
            ));
        }
        let pairs: Vec<(f64, f64)> = points
            .iter()
            .map(|p| (p.nodes as f64, p.throughput))
            .collect();
        let (sigma, kappa, lambda) = fit_usl(&pairs).ok_or_else(|| {
            ArgError::new(
                "scalability.measurements",
                format!("{shown} with fewer than two distinct node counts above 1"),
                "measurements at two or more distinct node counts above 1 besides the one at nodes = 1",
            )
        })?;
        let mut notes = vec![format!(
            "scalability: σ = {}, κ = {}, λ = {} fitted by least squares on y = N·X(1)/X(N) − 1 = κ(N−1)² + (σ+κ)(N−1)",
            numbers::quantity(sigma),
            numbers::quantity(kappa),
            numbers::quantity(lambda)
        )];
        let sigma = clamped("σ", sigma, &mut notes);
        let kappa = clamped("κ", kappa, &mut notes);
        Ok(Self {
            sigma,
            kappa,
            lambda,
            fitted: true,
            notes,
        })
    }
}

/// A fitted coefficient within [0, 1): a negative one is taken as 0, one of 1 or more as
/// 0.999999, with a note.
fn clamped(name: &str, v: f64, notes: &mut Vec<String>) -> f64 {
    if v < 0.0 {
        notes.push(format!(
            "scalability: the fitted {name} {} is negative (noise larger than the effect) and is taken as 0",
            show(v)
        ));
        0.0
    } else if v >= 1.0 {
        notes.push(format!(
            "scalability: the fitted {name} {} is at least 1 and is taken as 0.999999",
            show(v)
        ));
        0.999_999
    } else {
        v
    }
}

/// The curve's peak, the nodes today's load and the horizon's need, and when the load
/// passes the peak.
pub(super) fn forecast(
    usl: &Usl,
    current_rps: f64,
    growth: &Growth,
    tables: &GrowthTables,
    book: &mut Book<'_>,
) -> ScalabilityForecast {
    book.cite(tables.section("universal-scalability-law"));
    let Usl {
        sigma,
        kappa,
        lambda,
        fitted,
        ..
    } = *usl;
    let peak_nodes = (kappa > 0.0).then(|| {
        book.show(
            "scalability.peak_nodes".into(),
            "peak_nodes",
            &[("sigma", sigma), ("kappa", kappa)],
        )
    });
    let max_throughput_rps = match peak_nodes {
        Some(n) => Some(peak_throughput(usl, n, book)),
        // Amdahl's ceiling λ/σ is approached, never reached: no whole count carries it.
        None if sigma > 0.0 => Some(lambda / sigma),
        None => None,
    };
    let whole = |n: Option<f64>| n.and_then(ceil_whole);
    let nodes_needed = whole(usl_nodes_for(sigma, kappa, lambda, current_rps));
    let at_horizon = current_rps * growth.rate.multiple(growth.horizon_months());
    let nodes_needed_at_horizon = whole(usl_nodes_for(sigma, kappa, lambda, at_horizon));
    let months_to_ceiling = max_throughput_rps.and_then(|max| {
        book.months(
            "scalability.months_to_ceiling".into(),
            current_rps,
            Comparison::AtLeast,
            max,
            growth.rate,
        )
    });
    ScalabilityForecast {
        sigma,
        kappa,
        lambda,
        fitted,
        peak_nodes,
        max_throughput_rps,
        current_rps,
        nodes_needed,
        nodes_needed_at_horizon,
        months_to_ceiling,
    }
}

/// The peak over whole node counts: the better of the two around N*, by its formula.
fn peak_throughput(usl: &Usl, peak_nodes: f64, book: &mut Book<'_>) -> f64 {
    let Usl {
        sigma,
        kappa,
        lambda,
        ..
    } = *usl;
    let (lo, hi) = (peak_nodes.floor().max(1.0), peak_nodes.ceil().max(1.0));
    let best =
        if usl_throughput(sigma, kappa, lambda, hi) > usl_throughput(sigma, kappa, lambda, lo) {
            hi
        } else {
            lo
        };
    book.show(
        "scalability.max_throughput_rps".into(),
        "usl_throughput",
        &[
            ("lambda", lambda),
            ("nodes", best),
            ("sigma", sigma),
            ("kappa", kappa),
        ],
    )
}

/// On the timeline: the load passing the peak.
pub(super) fn events(scalability: Option<&ScalabilityForecast>, timeline: &mut Timeline) {
    let Some(s) = scalability else { return };
    timeline.add(
        s.months_to_ceiling,
        "scalability",
        "load passes the peak throughput of any node count: partition the system".into(),
    );
}

pub(super) fn to_markdown(s: &ScalabilityForecast, out: &mut String) {
    let _ = writeln!(
        out,
        "\n**Scalability** (USL σ {}, κ {}, λ {}{}): peak {} nodes, {} requests/s; today's {} requests/s need {} nodes; the load passes the peak {}.",
        numbers::quantity(s.sigma),
        numbers::quantity(s.kappa),
        numbers::quantity(s.lambda),
        if s.fitted { ", fitted" } else { "" },
        s.peak_nodes.map_or("—".into(), numbers::quantity),
        s.max_throughput_rps
            .map_or("unbounded".into(), numbers::quantity),
        numbers::quantity(s.current_rps),
        s.nodes_needed.map_or("no number of".into(), numbers::count),
        numbers::month_or_never(s.months_to_ceiling)
    );
}

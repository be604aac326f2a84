//! Queueing: an M/M/c queue (Erlang C) whose arrivals grow with load while its service time
//! stays; the chance a request waits, the mean wait and response today, when utilization
//! passes the document's target and when it saturates, and the servers that keep it at the
//! target now and at the horizon.

use knowledge::Comparison;
use std::fmt::Write;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::ArgError;
use crate::calculator::show;
use crate::growth_models::erlang;
use crate::numbers;

use super::book::Book;
use super::growth::Growth;
use super::tables::{GrowthTables, model_words};
use super::timeline::{Checkpoint, CheckpointValue, Timeline};

// An M/M/c queue: servers fed from one queue.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct QueueingArgs {
    /// Servers (workers, cores).
    #[schemars(range(min = 1, max = 100000))]
    pub servers: u64,
    /// Arrivals today, requests/s.
    #[schemars(extend("exclusiveMinimum" = 0))]
    pub arrival_rps: f64,
    /// Mean service time, ms.
    #[schemars(extend("exclusiveMinimum" = 0))]
    pub service_time_ms: f64,
}

/// An M/M/c queue's state at one load.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct QueueState {
    pub month: f64,
    pub arrival_rps: f64,
    pub utilization_pct: f64,
    /// Null when saturated.
    pub probability_of_waiting: Option<f64>,
    pub mean_wait_ms: Option<f64>,
    pub mean_response_ms: Option<f64>,
}

/// An M/M/c queue (Erlang C), today and as load grows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct QueueingForecast {
    pub servers: u64,
    pub arrival_rps: f64,
    pub service_time_ms: f64,
    /// ρ = λS/c today, %.
    pub utilization_pct: f64,
    /// Erlang C: the chance a request waits.
    pub probability_of_waiting: f64,
    pub mean_wait_ms: f64,
    pub mean_response_ms: f64,
    /// The document's target utilization, %.
    pub target_utilization_pct: f64,
    /// When ρ passes the target; 0 when already past.
    pub months_to_target: Option<f64>,
    /// When ρ reaches 1.
    pub months_to_saturation: Option<f64>,
    /// The model whose saturation month governs instead of this one's; null when this one's
    /// does (growth-models#which-queueing-model-governs).
    pub saturation_governed_by: Option<String>,
    /// months_to_saturation − lead time, at least 0: when to add servers; null when load
    /// falls (growth-models#falling-load).
    pub order_by_month: Option<f64>,
    /// Servers keeping ρ at or under the target today.
    pub servers_needed_now: Option<u64>,
    pub servers_needed_at_horizon: Option<u64>,
    /// The queue at each checkpoint with today's servers.
    pub by_checkpoint: Vec<QueueState>,
}

/// Refuses a queue saturated today, or one whose arrivals over the horizon leave the finite
/// numbers.
pub(super) fn check(queueing: Option<&QueueingArgs>, growth: &Growth) -> Result<(), ArgError> {
    let Some(q) = queueing else { return Ok(()) };
    let offered = q.arrival_rps * q.service_time_ms / 1000.0;
    if offered.is_nan() || offered >= q.servers as f64 {
        return Err(ArgError::number(
            "queueing.arrival_rps",
            q.arrival_rps,
            format!(
                "an arrival rate below servers / service time = {} per second (at or above it the queue is saturated today)",
                show(q.servers as f64 * 1000.0 / q.service_time_ms)
            ),
        ));
    }
    if !(q.arrival_rps * growth.horizon_multiple).is_finite() {
        return Err(ArgError::number(
            "queueing.arrival_rps",
            q.arrival_rps,
            "a rate whose growth over the horizon stays finite",
        ));
    }
    Ok(())
}

/// The M/M/c queue at `arrival` requests per second.
fn queue_state(q: &QueueingArgs, arrival: f64, month: f64) -> QueueState {
    let service = q.service_time_ms / 1000.0;
    let offered = arrival * service;
    let utilization_pct = offered / q.servers as f64 * 100.0;
    let (probability_of_waiting, mean_wait_ms, mean_response_ms) = match erlang(q.servers, offered)
    {
        Some((_, waiting)) => {
            let wait = waiting * q.service_time_ms / (q.servers as f64 - offered);
            (Some(waiting), Some(wait), Some(wait + q.service_time_ms))
        }
        None => (None, None, None),
    };
    QueueState {
        month,
        arrival_rps: arrival,
        utilization_pct,
        probability_of_waiting,
        mean_wait_ms,
        mean_response_ms,
    }
}

/// The queue today by its formulas, the months to the target and to saturation, the servers
/// needed, and the queue at each checkpoint month with today's servers.
pub(super) fn forecast(
    q: &QueueingArgs,
    growth: &Growth,
    tables: &GrowthTables,
    checkpoint_months: &[u32],
    book: &mut Book<'_>,
) -> QueueingForecast {
    let orders = tables.order_rules.orders(growth.rate);
    let target = tables.defaults.target_utilization_pct;
    let rate = growth.rate;
    let servers = q.servers as f64;
    let now = queue_state(q, q.arrival_rps, 0.0);
    let utilization_pct = book.show(
        "queueing.utilization_pct".into(),
        "queue_utilization_pct",
        &[
            ("arrival_rps", q.arrival_rps),
            ("service_time_ms", q.service_time_ms),
            ("servers", servers),
        ],
    );
    // `check` refused a saturated queue, so Erlang C is defined today.
    let waiting = now.probability_of_waiting.unwrap_or(1.0);
    let mean_wait_ms = book.show(
        "queueing.mean_wait_ms".into(),
        "mean_wait_ms",
        &[
            ("probability_of_waiting", waiting),
            ("service_time_ms", q.service_time_ms),
            ("servers", servers),
            ("arrival_rps", q.arrival_rps),
        ],
    );
    let mean_response_ms = book.show(
        "queueing.mean_response_ms".into(),
        "mean_response_ms",
        &[
            ("mean_wait_ms", mean_wait_ms),
            ("service_time_ms", q.service_time_ms),
        ],
    );
    let months_to_target = book.months(
        "queueing.months_to_target".into(),
        utilization_pct,
        Comparison::Above,
        target,
        rate,
    );
    let months_to_saturation = book.months(
        "queueing.months_to_saturation".into(),
        utilization_pct,
        Comparison::AtLeast,
        100.0,
        rate,
    );
    // Saturation is the queue's critical line: servers must be in place before it.
    let order_by_month = orders
        .then(|| {
            book.order_by(
                "queueing.order_by_month".into(),
                months_to_saturation,
                growth.lead_time,
            )
        })
        .flatten();
    let mut needed = |label: &str, multiple: f64| -> Option<u64> {
        let count = book.count(
            format!("queueing.{label}"),
            "servers_needed",
            &[
                ("arrival_rps", q.arrival_rps),
                ("load_multiple", multiple),
                ("service_time_ms", q.service_time_ms),
                ("target_utilization_pct", target),
            ],
        )?;
        Some(count.max(1))
    };
    let servers_needed_now = needed("servers_needed_now", 1.0);
    let servers_needed_at_horizon = needed(
        "servers_needed_at_horizon",
        rate.multiple(growth.horizon_months()),
    );
    let by_checkpoint = checkpoint_months
        .iter()
        .map(|m| {
            let month = f64::from(*m);
            queue_state(q, q.arrival_rps * rate.multiple(month), month)
        })
        .collect();
    // The target is a default of `growth-models`.
    book.cite(tables.defaults_uri.clone());
    QueueingForecast {
        servers: q.servers,
        arrival_rps: q.arrival_rps,
        service_time_ms: q.service_time_ms,
        utilization_pct,
        probability_of_waiting: waiting,
        mean_wait_ms,
        mean_response_ms,
        target_utilization_pct: target,
        months_to_target,
        months_to_saturation,
        saturation_governed_by: None,
        order_by_month,
        servers_needed_now,
        servers_needed_at_horizon,
        by_checkpoint,
    }
}

/// On the timeline: the target passed and saturation.
pub(super) fn events(queueing: Option<&QueueingForecast>, timeline: &mut Timeline) {
    let Some(q) = queueing else { return };
    timeline.add(
        q.months_to_target,
        "queueing",
        format!(
            "queue utilization passes the {} planning target",
            numbers::percent(q.target_utilization_pct)
        ),
    );
    if let Some(order_by) = q.order_by_month
        && q.saturation_governed_by.is_none()
    {
        timeline.add(
            Some(order_by),
            "queueing",
            format!(
                "start adding servers to the queue of {} (saturates {})",
                numbers::count(q.servers),
                numbers::month_or_never(q.months_to_saturation)
            ),
        );
    }
    let governs = match &q.saturation_governed_by {
        Some(model) => format!(
            " (not governing: {} governs saturation)",
            model_words(model)
        ),
        None => String::new(),
    };
    timeline.add(
        q.months_to_saturation,
        "queueing",
        format!("the queue saturates with {} servers{governs}", q.servers),
    );
}

/// The queue's utilization at each checkpoint, capped at 100.
pub(super) fn add_to_checkpoints(
    queueing: Option<&QueueingForecast>,
    checkpoints: &mut [Checkpoint],
) {
    let Some(q) = queueing else { return };
    for (checkpoint, state) in checkpoints.iter_mut().zip(&q.by_checkpoint) {
        checkpoint.values.push(CheckpointValue {
            name: "queueing.utilization_pct".into(),
            value: Some(state.utilization_pct.min(100.0)),
            saturated: state.utilization_pct >= 100.0,
        });
    }
}

/// What the queueing model assumes.
pub(super) const ASSUMPTION: &str = "queueing: M/M/c (Poisson arrivals, exponential service, one queue for all servers); arrivals grow with load, service time stays";

pub(super) fn to_markdown(q: &QueueingForecast, out: &mut String) {
    let _ = writeln!(
        out,
        "\n**Queueing** (M/M/c, {} servers): utilization {}, P(wait) {}, mean wait {} ms, response {} ms; passes the {} planning target {}, saturates {}{}; servers needed at the horizon: {}.",
        numbers::count(q.servers),
        numbers::percent(q.utilization_pct),
        numbers::probability(q.probability_of_waiting),
        numbers::quantity(q.mean_wait_ms),
        numbers::quantity(q.mean_response_ms),
        numbers::percent(q.target_utilization_pct),
        numbers::month_or_never(q.months_to_target),
        numbers::month_or_never(q.months_to_saturation),
        match (&q.saturation_governed_by, q.order_by_month) {
            (Some(m), _) => format!(" (not governing: {} governs saturation)", model_words(m)),
            (None, Some(o)) => format!(" (add servers by {})", numbers::month(o)),
            (None, None) => String::new(),
        },
        q.servers_needed_at_horizon
            .map_or("—".into(), numbers::count)
    );
}

//! What the server hands over: the sources' connections, today's figures, the daily peaks of
//! each history and what the configured sources cannot give. Read by the `observe` crate,
//! never here; this room only names it.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A source, as results name it (contract §7).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum SourceName {
    Prometheus,
    Postgres,
    Redis,
}

impl SourceName {
    pub fn as_str(self) -> &'static str {
        match self {
            SourceName::Prometheus => "prometheus",
            SourceName::Postgres => "postgres",
            SourceName::Redis => "redis",
        }
    }

    /// Every source, in the order results list them.
    pub const ALL: [SourceName; 3] = [
        SourceName::Prometheus,
        SourceName::Postgres,
        SourceName::Redis,
    ];

    /// The option that configures the source, for a reader who wants to add it.
    pub(super) fn option(self) -> &'static str {
        match self {
            SourceName::Prometheus => "--prometheus, SCALE_ADVISOR_PROMETHEUS_URL",
            SourceName::Postgres => "--postgres, SCALE_ADVISOR_POSTGRES_URL",
            SourceName::Redis => "--redis, SCALE_ADVISOR_REDIS_URL",
        }
    }

    /// The knowledge section that maps the source's figures to the advisor's names.
    pub(super) fn section(self) -> &'static str {
        match self {
            SourceName::Prometheus => "observation#prometheus-queries",
            SourceName::Postgres => "observation#postgres-views",
            SourceName::Redis => "observation#redis-info",
        }
    }
}

/// How reading a source went (contract §8).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ConnectionStatus {
    Ok,
    NotConfigured,
    Unreachable,
    /// Authentication or permission refused.
    Refused,
    TimedOut,
    Error,
}

impl ConnectionStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ConnectionStatus::Ok => "ok",
            ConnectionStatus::NotConfigured => "not_configured",
            ConnectionStatus::Unreachable => "unreachable",
            ConnectionStatus::Refused => "refused",
            ConnectionStatus::TimedOut => "timed_out",
            ConnectionStatus::Error => "error",
        }
    }
}

/// One source's outcome; `url` is already masked.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct SourceConnection {
    pub source: SourceName,
    /// With any password replaced by ***.
    pub url: String,
    pub status: ConnectionStatus,
    pub detail: String,
}

/// One figure read (contract §8 `metrics[]`): today's peak where history exists.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct MetricReading {
    /// A `diagnose_bottleneck` argument or a `forecast_growth` resource.
    pub name: String,
    pub value: f64,
    pub unit: String,
    pub source: SourceName,
    /// The PromQL, view or INFO field that gave it.
    pub query: String,
    /// RFC 3339, UTC.
    pub at: String,
}

/// One day's peak of a history, `day` counted from the window's first day.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct DailyPeak {
    pub at: String,
    pub day: f64,
    pub value: f64,
}

/// The daily peaks of one metric over the window (Prometheus's `max_over_time` at a one-day
/// step: aggregated by the source, never raw samples).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct History {
    pub name: String,
    pub source: SourceName,
    pub query: String,
    pub daily_peaks: Vec<DailyPeak>,
}

/// A figure a configured source cannot give, and where to get it instead: a row of the
/// `observation` document's "cannot give" tables (read by the `observe` crate, which knows
/// its sources), so that a figure no source gave is listed, never estimated.
#[derive(Debug, Clone, PartialEq)]
pub struct Unobservable {
    pub source: SourceName,
    /// An argument of `diagnose_bottleneck` or `forecast_growth`, or a forecast resource.
    pub field: String,
    /// What the figure would have enabled.
    pub enables: String,
    pub where_to_get_it: String,
    /// The table's `knowledge://` URI, cited when a row is listed.
    pub uri: String,
}

/// Everything read for one call, as the server hands it over: the input of
/// [`compose`](super::compose).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LiveObservation {
    pub connections: Vec<SourceConnection>,
    pub metrics: Vec<MetricReading>,
    pub histories: Vec<History>,
    /// The window the histories cover.
    pub window_days: u32,
    /// What the configured sources cannot give, source by source (empty without sources).
    pub unobservable: Vec<Unobservable>,
}

impl LiveObservation {
    /// What a server with no source configured reads: nothing, and says so per source.
    pub fn nothing_configured(window_days: u32) -> Self {
        Self {
            connections: SourceName::ALL
                .iter()
                .map(|&source| SourceConnection {
                    source,
                    url: String::new(),
                    status: ConnectionStatus::NotConfigured,
                    detail: format!("not configured ({})", source.option()),
                })
                .collect(),
            metrics: Vec::new(),
            histories: Vec::new(),
            window_days,
            unobservable: Vec::new(),
        }
    }
}

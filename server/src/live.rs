//! Reading the live sources for one call: the only place the server waits on the world outside
//! the process. The sources are read through the `observe` crate (each within its own
//! deadline), and what they gave is handed to the pure tools as a
//! [`tools::observe_system::LiveObservation`]; a call that asks for nothing reads nothing.

use std::time::Duration;

use tools::observe_system::{
    ConnectionStatus, DailyPeak, History, LiveObservation, MetricReading, ObserveRequest,
    SourceConnection, SourceName, Unobservable,
};

use crate::sources::{PrometheusSecret, SourceSettings};

/// The configured sources and the queries that read Prometheus, checked at start-up.
pub struct LiveSources {
    sources: observe::Sources,
    queries: observe::PrometheusQueries,
    /// What the configured PostgreSQL and Redis cannot give (the `observation` document's
    /// tables), read once at start-up like the queries.
    unobservable: Vec<Unobservable>,
}

/// Past each source's own deadline, the grace the whole reading gets before the server
/// stops waiting: the readers keep their deadlines, this only guards against one that
/// does not.
const GRACE: Duration = Duration::from_millis(500);

impl LiveSources {
    /// The sources of `settings`, or none when none is configured (then nothing is ever read).
    /// The Prometheus queries of the knowledge base are checked here, so a malformed row of a
    /// `--knowledge-dir` stops start-up.
    pub fn new(
        settings: SourceSettings,
        knowledge: &knowledge::Knowledge,
    ) -> anyhow::Result<Option<Self>> {
        let queries = observe::PrometheusQueries::load(knowledge)?;
        if !settings.any() {
            return Ok(None);
        }
        let prometheus = settings
            .prometheus
            .map(|(url, secret)| observe::PrometheusConfig {
                url,
                auth: secret.map(|secret| match secret {
                    PrometheusSecret::Bearer(token) => observe::PrometheusAuth::Bearer(token),
                    PrometheusSecret::Basic { user, password } => observe::PrometheusAuth::Basic {
                        username: user,
                        password,
                    },
                }),
            });
        let mut unobservable = Vec::new();
        if settings.postgres.is_some() {
            unobservable.extend(
                observe::postgres::cannot_give(knowledge)?
                    .into_iter()
                    .map(|row| handed_row(SourceName::Postgres, row)),
            );
        }
        if settings.redis.is_some() {
            unobservable.extend(
                observe::redis::cannot_give(knowledge)?
                    .into_iter()
                    .map(|row| handed_row(SourceName::Redis, row)),
            );
        }
        Ok(Some(Self {
            sources: observe::Sources {
                prometheus,
                postgres: settings.postgres,
                redis: settings.redis,
                limits: settings.limits,
            },
            queries,
            unobservable,
        }))
    }

    /// Reads every configured source for `request`, within the sources' deadline.
    pub async fn read(&self, request: &ObserveRequest) -> LiveObservation {
        let asked = observe::ObserveRequest {
            selector: request.selector.clone(),
            window_days: request.window_days,
        };
        let deadline = self.sources.limits.total_timeout + GRACE;
        match tokio::time::timeout(
            deadline,
            observe::observe(&self.sources, &self.queries, &asked),
        )
        .await
        {
            Ok(observation) => LiveObservation {
                unobservable: self.unobservable.clone(),
                ..handed_over(observation, request.window_days)
            },
            Err(_) => LiveObservation {
                unobservable: self.unobservable.clone(),
                ..self.timed_out(request.window_days, deadline)
            },
        }
    }

    /// Every configured source timed out (the guard above fired).
    fn timed_out(&self, window_days: u32, deadline: Duration) -> LiveObservation {
        let configured = [
            (
                SourceName::Prometheus,
                self.sources.prometheus.as_ref().map(|p| p.url.masked()),
            ),
            (
                SourceName::Postgres,
                self.sources.postgres.as_ref().map(|u| u.masked()),
            ),
            (
                SourceName::Redis,
                self.sources.redis.as_ref().map(|u| u.masked()),
            ),
        ];
        LiveObservation {
            connections: configured
                .into_iter()
                .map(|(source, url)| match url {
                    Some(url) => SourceConnection {
                        source,
                        url,
                        status: ConnectionStatus::TimedOut,
                        detail: format!("no answer within {} ms", deadline.as_millis()),
                    },
                    None => not_configured(source),
                })
                .collect(),
            metrics: Vec::new(),
            histories: Vec::new(),
            window_days,
            unobservable: Vec::new(),
        }
    }
}

/// A row of what a source cannot give, in the tools' own type.
fn handed_row(source: SourceName, row: observe::postgres::Unobservable) -> Unobservable {
    Unobservable {
        source,
        field: row.field,
        enables: row.enables,
        where_to_get_it: row.where_to_get_it,
        uri: row.uri,
    }
}

fn not_configured(source: SourceName) -> SourceConnection {
    LiveObservation::nothing_configured(0)
        .connections
        .into_iter()
        .find(|c| c.source == source)
        .unwrap_or(SourceConnection {
            source,
            url: String::new(),
            status: ConnectionStatus::NotConfigured,
            detail: "not configured".into(),
        })
}

fn source_name(kind: observe::SourceKind) -> SourceName {
    match kind {
        observe::SourceKind::Prometheus => SourceName::Prometheus,
        observe::SourceKind::Postgres => SourceName::Postgres,
        observe::SourceKind::Redis => SourceName::Redis,
    }
}

fn status(status: observe::Status) -> ConnectionStatus {
    match status {
        observe::Status::Ok => ConnectionStatus::Ok,
        observe::Status::NotConfigured => ConnectionStatus::NotConfigured,
        observe::Status::Unreachable => ConnectionStatus::Unreachable,
        observe::Status::Refused => ConnectionStatus::Refused,
        observe::Status::TimedOut => ConnectionStatus::TimedOut,
        observe::Status::Error => ConnectionStatus::Error,
    }
}

/// The observation in the tools' own types (the tools crate does not know `observe`); the
/// connections in the order of `SourceName::ALL`, whatever order the readers finished in.
fn handed_over(observation: observe::Observation, window_days: u32) -> LiveObservation {
    let mut connections: Vec<SourceConnection> = observation
        .connections
        .into_iter()
        .map(|c| SourceConnection {
            source: source_name(c.source),
            url: c.url,
            status: status(c.status),
            detail: c.detail,
        })
        .collect();
    connections.sort_by_key(|c| c.source);
    LiveObservation {
        connections,
        metrics: observation
            .readings
            .into_iter()
            .map(|r| MetricReading {
                name: r.name,
                value: r.value,
                unit: r.unit,
                source: source_name(r.source),
                query: r.query,
                at: r.at,
            })
            .collect(),
        histories: observation
            .histories
            .into_iter()
            .map(|h| History {
                name: h.name,
                source: source_name(h.source),
                query: h.query,
                daily_peaks: h
                    .daily_peaks
                    .into_iter()
                    .map(|p| DailyPeak {
                        at: p.at,
                        day: p.day,
                        value: p.value,
                    })
                    .collect(),
            })
            .collect(),
        window_days,
        unobservable: Vec::new(),
    }
}

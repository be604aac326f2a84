//! The boundary between scale-advisor and the live systems it advises on (contract Part 3, §7).
//!
//! Everything here reads the world outside the process, so everything here is bounded: each
//! source has a connect and a total timeout and a cap on the bytes it may return, a source that
//! fails becomes a [`Connection`] with its [`Status`] (never an error that ends the call), and a
//! secret never leaves through a URL ([`SourceUrl`] masks it at the edge). The pure tools behind
//! it never read a source: a reading becomes an argument, and the tools stay what they were.

pub mod postgres;
pub mod prometheus;
pub mod redis;
mod sampling;
mod time;
mod tls;

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use serde::Serialize;

pub use prometheus::{PrometheusQueries, PrometheusQuery};

/// The three kinds of source (contract §7), as results name them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SourceKind {
    Prometheus,
    Postgres,
    Redis,
}

impl SourceKind {
    pub fn as_str(self) -> &'static str {
        match self {
            SourceKind::Prometheus => "prometheus",
            SourceKind::Postgres => "postgres",
            SourceKind::Redis => "redis",
        }
    }
}

impl fmt::Display for SourceKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How reading a source went (contract §8 `connections[].status`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Ok,
    NotConfigured,
    Unreachable,
    /// Authentication or permission refused.
    Refused,
    TimedOut,
    Error,
}

/// One source's outcome, as a result shows it: the URL is always the masked one.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Connection {
    pub source: SourceKind,
    pub url: String,
    pub status: Status,
    pub detail: String,
}

/// One figure read from a source, in the advisor's vocabulary (contract §8 `metrics[]`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Reading {
    /// A `diagnose_bottleneck` argument name or a `forecast_growth` resource name.
    pub name: String,
    pub value: f64,
    pub unit: String,
    pub source: SourceKind,
    /// The PromQL, view or `INFO` field that gave the figure, and whether a counter is a rate
    /// between two samples or since its last reset. Never a query text of the system's users.
    pub query: String,
    /// RFC 3339, UTC.
    pub at: String,
}

/// What one source gave: its connection and the figures it could read.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SourceReport {
    pub connection: Connection,
    pub readings: Vec<Reading>,
}

/// The bounds every source is read within (contract §7).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub connect_timeout: Duration,
    /// The whole reading of the source, connection included.
    pub total_timeout: Duration,
    /// The most bytes a source may answer with; past it the answer is refused, not read.
    pub max_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            connect_timeout: Duration::from_secs(5),
            total_timeout: Duration::from_secs(5),
            max_bytes: 16 * 1024 * 1024,
        }
    }
}

/// A refused source configuration: start-up stops with it (an unreachable server does not).
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{option}: {url} is not a URL ({reason}); expected for example {example}")]
    Malformed {
        option: &'static str,
        /// Already masked.
        url: String,
        reason: String,
        example: &'static str,
    },
    #[error("{option}: the scheme {scheme} is not accepted; expected {accepted}")]
    Scheme {
        option: &'static str,
        scheme: String,
        accepted: &'static str,
    },
}

/// Credentials from outside a URL that it cannot take (see [`SourceUrl::with_credentials`]).
#[derive(Debug, thiserror::Error)]
pub enum CredentialError {
    #[error("{url}: the URL holds a {part} and another is given outside it; keep one")]
    Twice {
        part: &'static str,
        /// Already masked.
        url: String,
    },
    #[error("{url}: this URL cannot carry a user or password")]
    CannotCarry {
        /// Already masked.
        url: String,
    },
}

/// A source's URL, which may hold a password: it is shown only through [`SourceUrl::masked`],
/// and `Debug`/`Display` print the masked form too, so a log line cannot leak it by accident.
#[derive(Clone, PartialEq, Eq)]
pub struct SourceUrl {
    url: url::Url,
}

impl SourceUrl {
    /// Parses `text` for the option `option` (for error messages), accepting only `schemes`.
    pub fn parse(
        option: &'static str,
        text: &str,
        schemes: &'static [&'static str],
        example: &'static str,
    ) -> Result<SourceUrl, ConfigError> {
        let url = url::Url::parse(text.trim()).map_err(|e| ConfigError::Malformed {
            option,
            url: mask_text(text),
            reason: e.to_string(),
            example,
        })?;
        if !schemes.contains(&url.scheme()) {
            return Err(ConfigError::Scheme {
                option,
                scheme: url.scheme().to_string(),
                accepted: example,
            });
        }
        if url.host_str().is_none_or(str::is_empty) {
            return Err(ConfigError::Malformed {
                option,
                url: mask_text(text),
                reason: "no host".to_string(),
                example,
            });
        }
        Ok(SourceUrl { url })
    }

    /// The URL with its password (if any) replaced by `***`: the only form that is shown.
    pub fn masked(&self) -> String {
        let mut shown = self.url.clone();
        if shown.password().is_some() {
            // Cannot fail: a URL that has a password can have it replaced.
            let _ = shown.set_password(Some("***"));
        }
        shown.to_string()
    }

    /// The same URL logging in as `user` (when given) with `password` (when given): how
    /// credentials the operator keeps outside the URL (environment variables, files) reach the
    /// readers, which take them from the URL only. A credential the URL already holds is
    /// refused rather than silently replaced; the error names the part, never the secret.
    pub fn with_credentials(
        &self,
        user: Option<&str>,
        password: Option<&str>,
    ) -> Result<SourceUrl, CredentialError> {
        let mut url = self.url.clone();
        if let Some(user) = user {
            if !url.username().is_empty() {
                return Err(CredentialError::Twice {
                    part: "user",
                    url: self.masked(),
                });
            }
            url.set_username(user)
                .map_err(|()| CredentialError::CannotCarry { url: self.masked() })?;
        }
        if let Some(password) = password {
            if url.password().is_some() {
                return Err(CredentialError::Twice {
                    part: "password",
                    url: self.masked(),
                });
            }
            url.set_password(Some(password))
                .map_err(|()| CredentialError::CannotCarry { url: self.masked() })?;
        }
        Ok(SourceUrl { url })
    }

    /// The URL itself, secret included: for the client library only, never for a message.
    pub fn expose(&self) -> &url::Url {
        &self.url
    }
}

impl fmt::Debug for SourceUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SourceUrl({})", self.masked())
    }
}

impl fmt::Display for SourceUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.masked())
    }
}

/// How scale-advisor proves to Prometheus who is asking, when the URL's own `user:password@`
/// is not the way. `Debug` never shows the secret.
#[derive(Clone, PartialEq, Eq)]
pub enum PrometheusAuth {
    /// `Authorization: Bearer <token>`.
    Bearer(String),
    /// `Authorization: Basic`, as a reverse proxy in front of Prometheus asks.
    Basic { username: String, password: String },
}

impl fmt::Debug for PrometheusAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PrometheusAuth::Bearer(_) => f.write_str("Bearer(***)"),
            PrometheusAuth::Basic { username, .. } => {
                write!(f, "Basic {{ username: {username:?}, password: *** }}")
            }
        }
    }
}

/// Where Prometheus (or Thanos, Mimir: anything that speaks its HTTP API) is, and how to log in.
#[derive(Debug, Clone, PartialEq)]
pub struct PrometheusConfig {
    pub url: SourceUrl,
    pub auth: Option<PrometheusAuth>,
}

/// Every source the operator configured (contract §7), and the bounds they are read within.
/// A source left `None` is reported `not_configured`, never guessed.
#[derive(Debug, Clone, Default)]
pub struct Sources {
    pub prometheus: Option<PrometheusConfig>,
    pub postgres: Option<SourceUrl>,
    pub redis: Option<SourceUrl>,
    pub limits: Limits,
}

impl Sources {
    /// Whether any source is configured: the tools that can observe are open-world only then.
    pub fn any(&self) -> bool {
        self.prometheus.is_some() || self.postgres.is_some() || self.redis.is_some()
    }
}

/// What a caller asks to observe (contract §8): label matchers added to every Prometheus query,
/// each matched as an exact string, and how many days of history the growth fits read.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ObserveRequest {
    pub selector: BTreeMap<String, String>,
    pub window_days: u32,
}

/// One day's highest value of a metric, as Prometheus computed it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DailyPeak {
    /// The end of the day it covers (the 24 hours up to this instant), RFC 3339, UTC.
    pub at: String,
    /// Days since the first day the reader asked for: the time axis of a growth fit.
    pub day: f64,
    pub value: f64,
}

/// A metric's daily peaks over the window, the input of its growth fit. Never raw samples.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct History {
    /// The metric's name in the advisor's vocabulary, or `load`.
    pub name: String,
    pub source: SourceKind,
    /// The PromQL that gave the peaks, selector included.
    pub query: String,
    pub daily_peaks: Vec<DailyPeak>,
}

/// Everything one call read: how each source went, today's figures, and the histories.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Observation {
    /// One per source kind, configured or not, in the order Prometheus, PostgreSQL, Redis.
    pub connections: Vec<Connection>,
    pub readings: Vec<Reading>,
    pub histories: Vec<History>,
}

/// Reads every configured source at once, each within its own deadline, and reports each one's
/// status; a source that fails costs only its own figures. The queries are the knowledge
/// base's (`observation#prometheus-queries`), loaded and checked at start-up.
pub async fn observe(
    sources: &Sources,
    queries: &PrometheusQueries,
    request: &ObserveRequest,
) -> Observation {
    let limits = sources.limits;
    let prometheus = async {
        match &sources.prometheus {
            Some(config) => {
                within_deadline(
                    SourceKind::Prometheus,
                    &config.url,
                    limits,
                    prometheus::read(config, queries, request, limits),
                )
                .await
            }
            None => (
                not_configured(SourceKind::Prometheus),
                Vec::new(),
                Vec::new(),
            ),
        }
    };
    let postgres = async {
        match &sources.postgres {
            Some(url) => {
                within_deadline(SourceKind::Postgres, url, limits, async {
                    let report = postgres::read(url, limits).await;
                    (report.connection, report.readings, Vec::new())
                })
                .await
            }
            None => (not_configured(SourceKind::Postgres), Vec::new(), Vec::new()),
        }
    };
    let redis = async {
        match &sources.redis {
            Some(url) => {
                within_deadline(SourceKind::Redis, url, limits, async {
                    let report = redis::read(url, limits).await;
                    (report.connection, report.readings, Vec::new())
                })
                .await
            }
            None => (not_configured(SourceKind::Redis), Vec::new(), Vec::new()),
        }
    };
    let (prometheus, postgres, redis) = tokio::join!(prometheus, postgres, redis);
    let mut observation = Observation {
        connections: Vec::new(),
        readings: Vec::new(),
        histories: Vec::new(),
    };
    for (connection, readings, histories) in [prometheus, postgres, redis] {
        observation.connections.push(connection);
        observation.readings.extend(readings);
        observation.histories.extend(histories);
    }
    observation
}

/// A reader's figures, or `timed_out` once its deadline has passed: each reader keeps its own
/// deadline, and this is the guard that holds the call's even for a reader that does not.
async fn within_deadline(
    source: SourceKind,
    url: &SourceUrl,
    limits: Limits,
    read: impl Future<Output = (Connection, Vec<Reading>, Vec<History>)>,
) -> (Connection, Vec<Reading>, Vec<History>) {
    // A little past the reader's own deadline, so that a reader that keeps it reports its own
    // (more precise) status.
    let guard = limits.total_timeout + Duration::from_millis(250);
    match tokio::time::timeout(guard, read).await {
        Ok(read) => read,
        Err(_) => (
            Connection {
                source,
                url: url.masked(),
                status: Status::TimedOut,
                detail: format!(
                    "no answer within the {} ms deadline",
                    limits.total_timeout.as_millis()
                ),
            },
            Vec::new(),
            Vec::new(),
        ),
    }
}

fn not_configured(source: SourceKind) -> Connection {
    let (option, variable) = match source {
        SourceKind::Prometheus => ("--prometheus", "SCALE_ADVISOR_PROMETHEUS_URL"),
        SourceKind::Postgres => ("--postgres", "SCALE_ADVISOR_POSTGRES_URL"),
        SourceKind::Redis => ("--redis", "SCALE_ADVISOR_REDIS_URL"),
    };
    Connection {
        source,
        url: String::new(),
        status: Status::NotConfigured,
        detail: format!("not configured: start the server with {option} URL or {variable}"),
    }
}

/// Masks the password of text that may not even parse as a URL (`scheme://user:pass@host`):
/// everything between the first `:` after `//` and the last `@` before the host goes.
pub fn mask_text(text: &str) -> String {
    let Some(start) = text.find("://").map(|i| i + 3) else {
        return text.to_string();
    };
    let rest = &text[start..];
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = &rest[..authority_end];
    let Some(at) = authority.rfind('@') else {
        return text.to_string();
    };
    let Some(colon) = authority[..at].find(':') else {
        return text.to_string();
    };
    format!(
        "{}{}:***{}",
        &text[..start],
        &authority[..colon],
        &text[start + at..]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_password_never_shows() {
        let url = SourceUrl::parse(
            "--postgres",
            "postgres://advisor:s3cret@db:5432/app",
            &["postgres", "postgresql"],
            "postgres://user:password@host:5432/db",
        )
        .unwrap();
        assert_eq!(url.masked(), "postgres://advisor:***@db:5432/app");
        assert!(!format!("{url:?} {url}").contains("s3cret"));
        assert_eq!(
            mask_text("redis://:pa:ss@cache:6379 and more"),
            "redis://:***@cache:6379 and more"
        );
        assert_eq!(mask_text("http://host:9090"), "http://host:9090");
    }

    #[test]
    fn credentials_from_outside_reach_the_url_and_are_never_shown() {
        let bare = SourceUrl::parse(
            "--redis",
            "redis://127.0.0.1:6379",
            &["redis"],
            "redis://host:6379",
        )
        .unwrap();
        let url = bare
            .with_credentials(Some("advisor"), Some("p@ss:w/rd"))
            .unwrap();
        assert_eq!(url.expose().username(), "advisor");
        // Percent-encoded in the URL, as both readers decode it.
        assert_eq!(url.expose().password(), Some("p%40ss%3Aw%2Frd"));
        assert_eq!(url.masked(), "redis://advisor:***@127.0.0.1:6379");
        let twice = url
            .with_credentials(None, Some("other"))
            .unwrap_err()
            .to_string();
        assert!(
            twice.contains("password") && !twice.contains("p%40ss"),
            "{twice}"
        );
        let twice = url
            .with_credentials(Some("x"), None)
            .unwrap_err()
            .to_string();
        assert!(twice.contains("user"), "{twice}");
        assert_eq!(bare.with_credentials(None, None).unwrap(), bare);
    }

    #[test]
    fn a_malformed_url_is_named_with_its_secret_masked() {
        let err = SourceUrl::parse(
            "--prometheus",
            "http://u:topsecret@",
            &["http", "https"],
            "http://prometheus:9090",
        )
        .unwrap_err()
        .to_string();
        assert!(err.starts_with("--prometheus:"), "{err}");
        assert!(!err.contains("topsecret"), "{err}");
        let err = SourceUrl::parse(
            "--prometheus",
            "ftp://x",
            &["http", "https"],
            "http://p:9090",
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("ftp"), "{err}");
    }
}

//! Reads Prometheus's HTTP API into the advisor's vocabulary (contract §7–§8): for each row of
//! `observation#prometheus-queries`, one range query that has Prometheus compute the daily
//! peaks, so a 90-day history arrives as 90 numbers and no raw sample ever leaves Prometheus.
//!
//! The client is deliberately small and driven by hand: one HTTP/1.1 connection per query
//! (over rustls for `https`),
//! `POST` of a form to a path from [`Api`] (the only endpoints it can name), a connect timeout,
//! a deadline for the whole reading, and a byte budget for the whole source that refuses an
//! answer announced larger without reading it and stops reading one that grows past it. No
//! redirect is followed and nothing is decompressed, so nothing can grow behind the budget.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use base64::Engine as _;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::header::{ACCEPT, AUTHORIZATION, CONTENT_LENGTH, CONTENT_TYPE, HOST, USER_AGENT};
use hyper::{Request, StatusCode};
use hyper_util::rt::TokioIo;
use knowledge::{Knowledge, KnowledgeError};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, ServerName};
use serde::Deserialize;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio::time::Instant;
use tokio_rustls::TlsConnector;
use tokio_rustls::rustls::{self, RootCertStore};

use crate::time::{now_unix, rfc3339};
use crate::{
    Connection, DailyPeak, History, Limits, ObserveRequest, PrometheusAuth, PrometheusConfig,
    Reading, SourceKind, Status,
};

/// The placeholder a query row writes where the caller's label matchers go.
pub const SELECTOR_PLACEHOLDER: &str = "{{selector}}";

const DAY_SECONDS: f64 = 86_400.0;

/// One row of `observation#prometheus-queries`: a figure and the PromQL that gives it.
#[derive(Debug, Clone, PartialEq)]
pub struct PrometheusQuery {
    /// The advisor's name for the figure (an argument of `diagnose_bottleneck`, a resource of
    /// `forecast_growth`, or `load`).
    pub metric: String,
    /// PromQL with [`SELECTOR_PLACEHOLDER`] where the label matchers go.
    pub query: String,
    pub unit: String,
    /// Multiplies Prometheus's answer into `unit`.
    pub scale: f64,
}

impl PrometheusQuery {
    /// The query with `matchers` (already escaped, see [`selector_matchers`]) in place of the
    /// placeholder; with none, the placeholder goes, and so does the comma before it.
    pub fn with_selector(&self, matchers: &str) -> String {
        if matchers.is_empty() {
            self.query
                .replace(&format!(",{SELECTOR_PLACEHOLDER}"), "")
                .replace(SELECTOR_PLACEHOLDER, "")
        } else {
            self.query.replace(SELECTOR_PLACEHOLDER, matchers)
        }
    }

    /// The query whose value at an instant is the highest value of the query over the day
    /// before it, evaluated every `resolution_s` seconds (a subquery): the daily peak.
    pub fn daily_peak(&self, matchers: &str, resolution_s: u64) -> String {
        format!(
            "max_over_time(({})[1d:{resolution_s}s])",
            self.with_selector(matchers)
        )
    }
}

/// The Prometheus side of the knowledge base, read and checked once at start-up.
#[derive(Debug, Clone, PartialEq)]
pub struct PrometheusQueries {
    pub queries: Vec<PrometheusQuery>,
    /// How often inside each day the daily peak looks (`observation#daily-peaks`).
    pub peak_resolution_s: u64,
    /// `knowledge://observation#prometheus-queries`, for a result's `sources`.
    pub uri: String,
}

impl PrometheusQueries {
    /// Reads `observation#prometheus-queries` and `observation#daily-peaks`; a row without a
    /// metric name, with a name given twice, a query without `{{selector}}` or with unbalanced
    /// brackets, or a scale that is not a finite non-zero number is refused with its line.
    pub fn load(knowledge: &Knowledge) -> Result<Self, KnowledgeError> {
        let table = knowledge.table("observation", "prometheus-queries")?;
        table.require_columns(&["metric", "query", "unit", "scale", "source"])?;
        table.require_rows()?;
        let mut queries: Vec<PrometheusQuery> = Vec::new();
        for row in table.rows() {
            let metric = row.required("metric")?;
            if !is_metric_name(metric) {
                return Err(row.error(format!(
                    "`{metric}` is not a metric name: lower-case letters, digits and `_`, starting with a letter"
                )));
            }
            if queries.iter().any(|q| q.metric == metric) {
                return Err(row.error(format!("the metric `{metric}` is listed twice")));
            }
            let query = row.required("query")?;
            if !query.contains(SELECTOR_PLACEHOLDER) {
                return Err(row.error(format!(
                    "the query of `{metric}` has no {SELECTOR_PLACEHOLDER}: a caller's selector would be ignored; write it inside each selector's braces, after the row's own matchers"
                )));
            }
            if let Some(problem) = unbalanced(query) {
                return Err(row.error(format!("the query of `{metric}`: {problem}")));
            }
            let scale = row.number("scale")?;
            if !scale.is_finite() || scale == 0.0 {
                return Err(row.error(format!(
                    "the scale of `{metric}` is {scale}; expected a finite number other than 0"
                )));
            }
            row.required("source")?;
            queries.push(PrometheusQuery {
                metric: metric.to_string(),
                query: query.to_string(),
                unit: row.required("unit")?.to_string(),
                scale,
            });
        }
        let settings = knowledge.table("observation", "daily-peaks")?;
        settings.require_columns(&["parameter", "value"])?;
        let mut peak_resolution_s = None;
        for row in settings.rows() {
            match row.required("parameter")? {
                "peak_resolution_s" => {
                    let value = row.integer("value")?;
                    if !(1..=86_400).contains(&value) {
                        return Err(row.error(format!(
                            "peak_resolution_s is {value}; expected 1 to 86400 seconds"
                        )));
                    }
                    peak_resolution_s = Some(value);
                }
                other => {
                    return Err(row.error(format!(
                        "unknown parameter `{other}` (known: peak_resolution_s)"
                    )));
                }
            }
        }
        let peak_resolution_s = peak_resolution_s
            .ok_or_else(|| settings.error("the table has no row for `peak_resolution_s`"))?;
        Ok(PrometheusQueries {
            queries,
            peak_resolution_s,
            uri: table.uri(),
        })
    }
}

fn is_metric_name(name: &str) -> bool {
    name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

/// The first bracket that does not close, outside PromQL's quoted strings.
fn unbalanced(query: &str) -> Option<String> {
    let mut open: Vec<char> = Vec::new();
    let mut chars = query.chars();
    let mut quote: Option<char> = None;
    while let Some(c) = chars.next() {
        if let Some(q) = quote {
            match c {
                '\\' => {
                    chars.next();
                }
                _ if c == q => quote = None,
                _ => {}
            }
            continue;
        }
        match c {
            '"' | '\'' | '`' => quote = Some(c),
            '(' | '[' | '{' => open.push(c),
            ')' | ']' | '}' => {
                let expected = match c {
                    ')' => '(',
                    ']' => '[',
                    _ => '{',
                };
                if open.pop() != Some(expected) {
                    return Some(format!("`{c}` closes nothing that is open"));
                }
            }
            _ => {}
        }
    }
    if quote.is_some() {
        return Some("a quoted string is not closed".to_string());
    }
    open.last().map(|c| format!("`{c}` is not closed"))
}

/// A selector that cannot be sent: a label name Prometheus does not accept.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "selector: `{name}` is not a label name a selector may use; expected letters, digits and `_`, not starting with a digit or with `__` (Prometheus's own), for example `instance` or `job`"
)]
pub struct SelectorError {
    pub name: String,
}

/// The caller's `{label: value}` as PromQL matchers, `label="value"` joined by commas: each
/// name checked against Prometheus's label-name syntax, each value a PromQL string with `\`,
/// `"` and control characters escaped, matched with `=` (an exact string, never a regex).
pub fn selector_matchers(selector: &BTreeMap<String, String>) -> Result<String, SelectorError> {
    let mut matchers = Vec::with_capacity(selector.len());
    for (name, value) in selector {
        // `__`-names are Prometheus's own (`__name__` would swap the metric a row reads).
        let valid = name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
            && !name.starts_with("__")
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !valid {
            return Err(SelectorError { name: name.clone() });
        }
        matchers.push(format!("{name}=\"{}\"", escape_string(value)));
    }
    Ok(matchers.join(","))
}

/// `value` as the inside of a double-quoted PromQL string (Go's escapes), so that it is read
/// back as exactly `value`.
fn escape_string(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out
}

/// What reading Prometheus gave: its connection, today's figures and the histories.
#[derive(Debug, Clone, PartialEq)]
pub struct PrometheusReport {
    pub connection: Connection,
    pub readings: Vec<Reading>,
    pub histories: Vec<History>,
}

/// Reads every query of `queries` as of now; see [`read_at`].
pub async fn read(
    config: &PrometheusConfig,
    queries: &PrometheusQueries,
    request: &ObserveRequest,
    limits: Limits,
) -> (Connection, Vec<Reading>, Vec<History>) {
    let report = read_at(config, queries, request, limits, now_unix()).await;
    (report.connection, report.readings, report.histories)
}

/// Reads every query of `queries` as of `now` (Unix seconds): the daily peaks of the
/// `request.window_days` days up to `now` (aligned down to the peak resolution), and today's
/// figure, the last of them. All queries run at once, within one deadline and one byte budget.
pub async fn read_at(
    config: &PrometheusConfig,
    queries: &PrometheusQueries,
    request: &ObserveRequest,
    limits: Limits,
    now: f64,
) -> PrometheusReport {
    let masked = config.url.masked();
    let failed = |status: Status, detail: String| PrometheusReport {
        connection: Connection {
            source: SourceKind::Prometheus,
            url: masked.clone(),
            status,
            detail,
        },
        readings: Vec::new(),
        histories: Vec::new(),
    };
    let matchers = match selector_matchers(&request.selector) {
        Ok(matchers) => matchers,
        Err(error) => return failed(Status::Error, error.to_string()),
    };
    let client = match Client::new(config, limits) {
        Ok(client) => client,
        Err(fault) => return failed(fault.status, fault.detail),
    };
    // Whole seconds: the daily windows end now, so today's peak includes the last minutes.
    let end = now.floor();
    let days = f64::from(request.window_days.max(1));
    let start = end - (days - 1.0) * DAY_SECONDS;
    let asked = queries.queries.iter().map(|row| {
        let promql = row.daily_peak(&matchers, queries.peak_resolution_s);
        let client = &client;
        let matchers = &matchers;
        async move {
            let range = tokio::time::timeout_at(
                client.deadline,
                client.query_range(&promql, start, end, DAY_SECONDS),
            )
            .await
            .unwrap_or_else(|_| Err(Fault::timed_out(limits)));
            // No peak for the last day (a Prometheus younger than one resolution step, or a
            // metric that just appeared): the current value, as the contract's fallback.
            let current = match &range {
                Ok(series) if !has_point_at(series, end) => {
                    let instant = row.with_selector(matchers);
                    let value = tokio::time::timeout_at(
                        client.deadline,
                        client.query_instant(&instant, end),
                    )
                    .await
                    .unwrap_or_else(|_| Err(Fault::timed_out(limits)));
                    Some((instant, value))
                }
                _ => None,
            };
            (row, promql, range, current)
        }
    });
    let answers = futures_util::future::join_all(asked).await;

    let mut readings = Vec::new();
    let mut histories = Vec::new();
    let mut faults: Vec<(&str, Fault)> = Vec::new();
    let mut without_data: Vec<&str> = Vec::new();
    for (row, promql, range, current) in answers {
        let series = match range {
            Ok(series) => series,
            Err(fault) => {
                faults.push((&row.metric, fault));
                continue;
            }
        };
        let peaks = daily_peaks(&series, row.scale, start);
        let reading = |value: f64, query: String| Reading {
            name: row.metric.clone(),
            value,
            unit: row.unit.clone(),
            source: SourceKind::Prometheus,
            query,
            at: rfc3339(end),
        };
        match (series_at(&peaks, end), current) {
            (Some(value), _) => readings.push(reading(value, promql.clone())),
            (None, Some((instant, Ok(Some(value))))) => {
                readings.push(reading(value * row.scale, instant));
            }
            (None, Some((_, Err(fault)))) => faults.push((&row.metric, fault)),
            (None, _) => {}
        }
        if peaks.is_empty() {
            if !readings.iter().any(|r| r.name == row.metric) {
                without_data.push(&row.metric);
            }
            continue;
        }
        histories.push(History {
            name: row.metric.clone(),
            source: SourceKind::Prometheus,
            query: promql,
            daily_peaks: peaks,
        });
    }
    let connection = Connection {
        source: SourceKind::Prometheus,
        url: masked.clone(),
        status: worst(&faults),
        detail: describe(
            queries.queries.len(),
            readings.len(),
            request.window_days.max(1),
            &faults,
            &without_data,
        ),
    };
    PrometheusReport {
        connection,
        readings,
        histories,
    }
}

/// The last daily peak when it is the one ending at `end`: no figure from a metric that
/// stopped reporting more than a day ago.
fn series_at(peaks: &[DailyPeak], end: f64) -> Option<f64> {
    let last = peaks.last()?;
    (last.at == rfc3339(end)).then_some(last.value)
}

fn has_point_at(series: &[Vec<(f64, f64)>], end: f64) -> bool {
    series
        .iter()
        .flatten()
        .any(|(at, value)| at.round() == end.round() && value.is_finite())
}

/// One number per day: a row's query should aggregate to one series, and where it gives
/// several (a team's own query), the day's figure is the highest of them.
fn daily_peaks(series: &[Vec<(f64, f64)>], scale: f64, start: f64) -> Vec<DailyPeak> {
    let mut by_time: BTreeMap<i64, f64> = BTreeMap::new();
    for values in series {
        for &(at, value) in values {
            let value = value * scale;
            if !value.is_finite() {
                continue;
            }
            let slot = by_time.entry(at.round() as i64).or_insert(value);
            *slot = slot.max(value);
        }
    }
    by_time
        .into_iter()
        .map(|(at, value)| DailyPeak {
            at: rfc3339(at as f64),
            day: (at as f64 - start) / DAY_SECONDS,
            value,
        })
        .collect()
}

/// The status the source is reported with: `ok` when every query was answered, else the
/// most telling fault (a refusal says most about what to do, then silence, then absence).
fn worst(faults: &[(&str, Fault)]) -> Status {
    let rank = |status: Status| match status {
        Status::Refused => 0,
        Status::TimedOut => 1,
        Status::Unreachable => 2,
        _ => 3,
    };
    faults
        .iter()
        .map(|(_, fault)| fault.status)
        .min_by_key(|status| rank(*status))
        .unwrap_or(Status::Ok)
}

fn describe(
    asked: usize,
    read: usize,
    window_days: u32,
    faults: &[(&str, Fault)],
    without_data: &[&str],
) -> String {
    let mut detail = match faults.first() {
        Some((_, first))
            if faults.len() == asked && faults.iter().all(|(_, f)| f.detail == first.detail) =>
        {
            format!("every query failed alike: {}", first.detail)
        }
        _ => format!("read {read} of {asked} figures, with up to {window_days} daily peaks each"),
    };
    if !faults.is_empty() && !detail.starts_with("every") {
        // Metrics that failed for the same reason are named together.
        let mut reasons: Vec<(Vec<&str>, &str)> = Vec::new();
        for (metric, fault) in faults {
            match reasons.iter_mut().find(|(_, d)| *d == fault.detail) {
                Some((metrics, _)) => metrics.push(metric),
                None => reasons.push((vec![metric], &fault.detail)),
            }
        }
        let each: Vec<String> = reasons
            .iter()
            .map(|(metrics, reason)| format!("{}: {reason}", metrics.join(", ")))
            .collect();
        detail.push_str(&format!("; failed: {}", each.join("; ")));
    }
    if !without_data.is_empty() {
        detail.push_str(&format!(
            "; no data for {} (no matching series: check the exporter and the selector)",
            without_data.join(", ")
        ));
    }
    detail
}

/// Why a query got no answer, with the status the source is reported with. The detail never
/// holds the URL's secret: it is written from errors that do not carry the URL.
#[derive(Debug, Clone)]
struct Fault {
    status: Status,
    detail: String,
}

impl Fault {
    fn new(status: Status, detail: impl Into<String>) -> Self {
        Fault {
            status,
            detail: detail.into(),
        }
    }

    fn timed_out(limits: Limits) -> Self {
        Fault::new(
            Status::TimedOut,
            format!(
                "no complete answer within the {} ms deadline",
                limits.total_timeout.as_millis()
            ),
        )
    }
}

/// The only endpoints the client can name (contract §7 allows `query`, `query_range`, `series`
/// and `labels`; the reader needs two).
#[derive(Debug, Clone, Copy)]
enum Api {
    Query,
    QueryRange,
}

impl Api {
    fn path(self) -> &'static str {
        match self {
            Api::Query => "/api/v1/query",
            Api::QueryRange => "/api/v1/query_range",
        }
    }
}

/// One source's client for one reading: where to connect, how to log in, the deadline shared
/// by every query and the bytes they have read together.
struct Client {
    /// For `https`: the TLS client and the name the certificate must carry.
    tls: Option<(TlsConnector, ServerName<'static>)>,
    host: HostName,
    port: u16,
    host_header: String,
    base_path: String,
    authorization: Option<String>,
    limits: Limits,
    deadline: Instant,
    read_bytes: AtomicUsize,
}

enum HostName {
    Domain(String),
    Address(std::net::IpAddr),
}

impl Client {
    fn new(config: &PrometheusConfig, limits: Limits) -> Result<Client, Fault> {
        let url = config.url.expose();
        if !matches!(url.scheme(), "http" | "https") {
            return Err(Fault::new(
                Status::Error,
                format!("the scheme {} is not one of http, https", url.scheme()),
            ));
        }
        let host = match url.host() {
            Some(url::Host::Domain(domain)) => HostName::Domain(domain.to_string()),
            Some(url::Host::Ipv4(ip)) => HostName::Address(ip.into()),
            Some(url::Host::Ipv6(ip)) => HostName::Address(ip.into()),
            None => return Err(Fault::new(Status::Error, "the URL has no host")),
        };
        let port = url.port_or_known_default().unwrap_or(80);
        let host_header = match url.port() {
            Some(port) => format!("{}:{port}", url.host_str().unwrap_or_default()),
            None => url.host_str().unwrap_or_default().to_string(),
        };
        let authorization = match &config.auth {
            Some(PrometheusAuth::Bearer(token)) => Some(format!("Bearer {token}")),
            Some(PrometheusAuth::Basic { username, password }) => Some(basic(username, password)),
            None if !url.username().is_empty() => {
                let decode = |text: &str| {
                    url::form_urlencoded::parse(format!("x={text}").as_bytes())
                        .next()
                        .map(|(_, v)| v.into_owned())
                        .unwrap_or_default()
                };
                Some(basic(
                    &decode(url.username()),
                    &decode(url.password().unwrap_or_default()),
                ))
            }
            None => None,
        };
        let tls = if url.scheme() == "https" {
            let name = match &host {
                HostName::Domain(domain) => ServerName::try_from(domain.clone()).map_err(|e| {
                    Fault::new(
                        Status::Error,
                        format!("the host is not a TLS server name: {e}"),
                    )
                })?,
                HostName::Address(ip) => ServerName::IpAddress((*ip).into()),
            };
            Some((TlsConnector::from(tls_config()?), name))
        } else {
            None
        };
        Ok(Client {
            tls,
            host,
            port,
            host_header,
            base_path: url.path().trim_end_matches('/').to_string(),
            authorization,
            limits,
            deadline: Instant::now() + limits.total_timeout,
            read_bytes: AtomicUsize::new(0),
        })
    }

    /// A range query's series, each as `(unix seconds, value)` pairs.
    async fn query_range(
        &self,
        promql: &str,
        start: f64,
        end: f64,
        step: f64,
    ) -> Result<Vec<Vec<(f64, f64)>>, Fault> {
        let form = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("query", promql)
            .append_pair("start", &format!("{start}"))
            .append_pair("end", &format!("{end}"))
            .append_pair("step", &format!("{step}"))
            .finish();
        let data = self.post(Api::QueryRange, form).await?;
        let answer: RangeAnswer = serde_json::from_value(data).map_err(|e| {
            Fault::new(
                Status::Error,
                format!("the answer is not a Prometheus range-query result ({e})"),
            )
        })?;
        if answer.result_type != "matrix" {
            return Err(Fault::new(
                Status::Error,
                format!(
                    "the answer is a {} where a range query gives a matrix",
                    answer.result_type
                ),
            ));
        }
        Ok(answer
            .result
            .into_iter()
            .map(|series| {
                series
                    .values
                    .into_iter()
                    .filter_map(|(at, value)| value.parse::<f64>().ok().map(|v| (at, v)))
                    .collect()
            })
            .collect())
    }

    /// An instant query's value at `at`: the highest of the series it gives (each row should
    /// give one), or `None` when it gives none.
    async fn query_instant(&self, promql: &str, at: f64) -> Result<Option<f64>, Fault> {
        let form = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("query", promql)
            .append_pair("time", &format!("{at}"))
            .finish();
        let data = self.post(Api::Query, form).await?;
        let answer: InstantAnswer = serde_json::from_value(data).map_err(|e| {
            Fault::new(
                Status::Error,
                format!("the answer is not a Prometheus instant-query result ({e})"),
            )
        })?;
        let values: Vec<f64> = match answer {
            InstantAnswer::Vector { result } => result
                .into_iter()
                .filter_map(|sample| sample.value.1.parse::<f64>().ok())
                .collect(),
            InstantAnswer::Scalar { result } => result.1.parse::<f64>().ok().into_iter().collect(),
        };
        Ok(values
            .into_iter()
            .filter(|v| v.is_finite())
            .fold(None, |most: Option<f64>, v| {
                Some(most.map_or(v, |m| m.max(v)))
            }))
    }

    /// `POST`s `form` to `api` and returns the `data` of a successful answer.
    async fn post(&self, api: Api, form: String) -> Result<serde_json::Value, Fault> {
        let tcp = self.connect().await?;
        let stream: Box<dyn Stream> = match &self.tls {
            None => Box::new(tcp),
            Some((connector, name)) => {
                Box::new(connector.connect(name.clone(), tcp).await.map_err(|e| {
                    Fault::new(Status::Error, format!("the TLS handshake failed: {e}"))
                })?)
            }
        };
        let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .map_err(|e| Fault::new(Status::Unreachable, format!("HTTP handshake failed: {e}")))?;
        // The connection is driven on its own task, which ends with this call (or with the
        // deadline, when the future of this call is dropped).
        let driver = AbortOnDrop(tokio::spawn(async move {
            let _ = connection.await;
        }));
        let mut request = Request::post(format!("{}{}", self.base_path, api.path()))
            .header(HOST, &self.host_header)
            .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(ACCEPT, "application/json")
            .header(
                USER_AGENT,
                concat!("scale-advisor/", env!("CARGO_PKG_VERSION")),
            );
        if let Some(authorization) = &self.authorization {
            request = request.header(AUTHORIZATION, authorization);
        }
        let request = request
            .body(Full::new(Bytes::from(form)))
            .map_err(|e| Fault::new(Status::Error, format!("the request cannot be built: {e}")))?;
        let response = sender.send_request(request).await.map_err(|e| {
            Fault::new(
                Status::Unreachable,
                format!("the connection closed before an answer: {e}"),
            )
        })?;
        let status = response.status();
        if status == StatusCode::UNAUTHORIZED || status == StatusCode::FORBIDDEN {
            return Err(Fault::new(
                Status::Refused,
                format!(
                    "Prometheus answered {status}: check the credentials (bearer token, basic auth or the URL's user and password)"
                ),
            ));
        }
        let announced = response
            .headers()
            .get(CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        let budget = self.limits.max_bytes;
        if let Some(length) = announced {
            let left = budget.saturating_sub(self.read_bytes.load(Ordering::Relaxed));
            if length > left as u64 {
                return Err(self.too_large(Some(length)));
            }
        }
        let mut body = Vec::new();
        let mut incoming = response.into_body();
        while let Some(frame) = incoming.frame().await {
            let frame = frame
                .map_err(|e| Fault::new(Status::Error, format!("the answer broke off: {e}")))?;
            if let Ok(chunk) = frame.into_data() {
                let total = self.read_bytes.fetch_add(chunk.len(), Ordering::Relaxed) + chunk.len();
                if total > budget {
                    return Err(self.too_large(None));
                }
                body.extend_from_slice(&chunk);
            }
        }
        drop(driver);
        if !status.is_success() {
            let reason = serde_json::from_slice::<ErrorAnswer>(&body)
                .ok()
                .and_then(|e| e.error.map(|text| (e.error_type, text)))
                .map(|(kind, text)| match kind {
                    Some(kind) => format!("{kind}: {text}"),
                    None => text,
                })
                .unwrap_or_else(|| "no Prometheus error in the answer".to_string());
            return Err(Fault::new(
                Status::Error,
                format!("Prometheus answered {status}: {}", clip(&reason)),
            ));
        }
        let envelope: Envelope = serde_json::from_slice(&body).map_err(|e| {
            Fault::new(
                Status::Error,
                format!("the answer is not Prometheus API JSON ({e})"),
            )
        })?;
        if envelope.status != "success" {
            return Err(Fault::new(
                Status::Error,
                format!(
                    "Prometheus answered {}: {}",
                    envelope.status,
                    clip(envelope.error.as_deref().unwrap_or("no reason given"))
                ),
            ));
        }
        Ok(envelope.data.unwrap_or_default())
    }

    fn too_large(&self, announced: Option<u64>) -> Fault {
        let what = match announced {
            Some(length) => format!("an answer of {length} bytes"),
            None => "an answer".to_string(),
        };
        Fault::new(
            Status::Error,
            format!(
                "refused {what} past the cap of {} bytes for this source, without reading it",
                self.limits.max_bytes
            ),
        )
    }

    /// A TCP connection to the first address that accepts one, within the connect timeout.
    async fn connect(&self) -> Result<TcpStream, Fault> {
        let connect_timeout: Duration = self.limits.connect_timeout;
        let attempt = async {
            let addresses: Vec<SocketAddr> = match &self.host {
                HostName::Address(ip) => vec![SocketAddr::new(*ip, self.port)],
                HostName::Domain(name) => tokio::net::lookup_host((name.as_str(), self.port))
                    .await
                    .map_err(|e| {
                        Fault::new(
                            Status::Unreachable,
                            format!("the host name does not resolve: {e}"),
                        )
                    })?
                    .collect(),
            };
            let mut last = None;
            for address in addresses {
                match TcpStream::connect(address).await {
                    Ok(stream) => return Ok(stream),
                    Err(e) => last = Some(e),
                }
            }
            Err(Fault::new(
                Status::Unreachable,
                match last {
                    Some(e) => format!("cannot connect: {e}"),
                    None => "the host name resolves to no address".to_string(),
                },
            ))
        };
        match tokio::time::timeout(connect_timeout, attempt).await {
            Ok(connected) => connected,
            Err(_) => Err(Fault::new(
                Status::TimedOut,
                format!(
                    "no connection within the {} ms connect timeout",
                    connect_timeout.as_millis()
                ),
            )),
        }
    }
}

/// What a query's HTTP/1.1 connection runs over: TCP, or TLS over TCP.
trait Stream: AsyncRead + AsyncWrite + Unpin + Send {}

impl<T: AsyncRead + AsyncWrite + Unpin + Send> Stream for T {}

/// TLS for `https` sources: rustls on ring, trusting the Mozilla roots and, when the operator
/// sets `SSL_CERT_FILE` (the variable OpenSSL-based tools read), the certificates of that PEM
/// file, for a Prometheus behind the organisation's own CA.
fn tls_config() -> Result<std::sync::Arc<rustls::ClientConfig>, Fault> {
    let mut roots = RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    if let Some(path) = std::env::var_os("SSL_CERT_FILE") {
        let shown = std::path::Path::new(&path).display().to_string();
        let refused =
            |reason: String| Fault::new(Status::Error, format!("SSL_CERT_FILE {shown}: {reason}"));
        let certificates =
            CertificateDer::pem_file_iter(&path).map_err(|e| refused(e.to_string()))?;
        for certificate in certificates {
            let certificate = certificate.map_err(|e| refused(e.to_string()))?;
            roots.add(certificate).map_err(|e| refused(e.to_string()))?;
        }
    }
    // rustls 0.23.48 deprecates ring's provider for lacking post-quantum key exchange, which
    // only aws-lc-rs offers, at the price of a CMake build of a C library; reading metrics
    // over TLS 1.2/1.3 with X25519 does not need it.
    #[allow(deprecated)]
    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| Fault::new(Status::Error, format!("TLS cannot be set up: {e}")))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(std::sync::Arc::new(config))
}

fn basic(username: &str, password: &str) -> String {
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{username}:{password}"))
    )
}

/// A Prometheus message, cut to a length a result can carry.
fn clip(text: &str) -> String {
    const MOST: usize = 300;
    match text.char_indices().nth(MOST) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_string(),
    }
}

struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

#[derive(Deserialize)]
struct Envelope {
    status: String,
    data: Option<serde_json::Value>,
    error: Option<String>,
}

#[derive(Deserialize)]
struct ErrorAnswer {
    #[serde(rename = "errorType")]
    error_type: Option<String>,
    error: Option<String>,
}

#[derive(Deserialize)]
struct RangeAnswer {
    #[serde(rename = "resultType")]
    result_type: String,
    result: Vec<RangeSeries>,
}

#[derive(Deserialize)]
#[serde(tag = "resultType", rename_all = "lowercase")]
enum InstantAnswer {
    Vector { result: Vec<InstantSample> },
    Scalar { result: (f64, String) },
}

#[derive(Deserialize)]
struct InstantSample {
    value: (f64, String),
}

#[derive(Deserialize)]
struct RangeSeries {
    #[serde(default)]
    values: Vec<(f64, String)>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_selector_value_is_an_exact_escaped_string() {
        let selector = BTreeMap::from([
            (
                "instance".to_string(),
                r#"db"}) or vector(1) #\"#.to_string(),
            ),
            ("job".to_string(), "api".to_string()),
        ]);
        assert_eq!(
            selector_matchers(&selector).unwrap(),
            r#"instance="db\"}) or vector(1) #\\",job="api""#
        );
        for bad in ["in stance", "__name__", "9th", ""] {
            let selector = BTreeMap::from([(bad.to_string(), "x".to_string())]);
            assert_eq!(selector_matchers(&selector).unwrap_err().name, bad);
        }
    }

    #[test]
    fn the_placeholder_goes_with_its_comma_when_no_selector_is_given() {
        let row = PrometheusQuery {
            metric: "db_cpu_pct".into(),
            query: r#"sum(rate(x{mode="idle",{{selector}}}[5m])) / sum(y{{{selector}}})"#.into(),
            unit: "%".into(),
            scale: 1.0,
        };
        assert_eq!(
            row.with_selector(""),
            r#"sum(rate(x{mode="idle"}[5m])) / sum(y{})"#
        );
        assert_eq!(
            row.daily_peak(r#"job="a""#, 300),
            r#"max_over_time((sum(rate(x{mode="idle",job="a"}[5m])) / sum(y{job="a"}))[1d:300s])"#
        );
    }

    #[test]
    fn brackets_are_checked_outside_strings() {
        assert_eq!(unbalanced(r#"a{b="(}"}"#), None);
        assert!(unbalanced("sum(a{b=\"c\"}").is_some());
        assert!(unbalanced("a)").is_some());
    }

    #[test]
    fn the_embedded_queries_load() {
        let knowledge = Knowledge::embedded().unwrap();
        let queries = PrometheusQueries::load(&knowledge).unwrap();
        assert!(queries.queries.iter().any(|q| q.metric == "load"));
        assert_eq!(queries.uri, "knowledge://observation#prometheus-queries");
        // The markdown table's escaped pipes are PromQL alternations again.
        let db = queries
            .queries
            .iter()
            .find(|q| q.metric == "db_cpu_pct")
            .unwrap();
        assert!(
            db.query.contains(r#"job=~".*(db|postgres).*""#),
            "{}",
            db.query
        );
    }
}

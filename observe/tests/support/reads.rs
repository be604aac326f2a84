//! The Prometheus reader's arguments as the fault tests give them, and the one check they all
//! make of its answer: written once, so that the binaries kept apart (the memory test and the
//! TLS test each alone in theirs) read a fault the same way.

use std::time::Duration;

use knowledge::Knowledge;
use observe::prometheus::{PrometheusReport, read_at};
use observe::{
    Connection, Limits, ObserveRequest, PrometheusAuth, PrometheusConfig, PrometheusQueries,
    SourceUrl, Status,
};

/// Limits tight enough that a fault must be answered well within a test's patience.
pub fn fault_limits() -> Limits {
    Limits {
        connect_timeout: Duration::from_millis(500),
        total_timeout: Duration::from_millis(1500),
        max_bytes: 1024 * 1024,
    }
}

/// The queries of the knowledge tables, as the server loads them.
pub fn queries() -> PrometheusQueries {
    PrometheusQueries::load(&Knowledge::embedded().unwrap()).unwrap()
}

pub fn config(url: &str, auth: Option<PrometheusAuth>) -> PrometheusConfig {
    PrometheusConfig {
        url: SourceUrl::parse("--prometheus", url, &["http", "https"], "http://p:9090").unwrap(),
        auth,
    }
}

/// A request over the last 30 days for the `(label, value)` pairs of `selector`.
pub fn request(selector: &[(&str, &str)]) -> ObserveRequest {
    ObserveRequest {
        selector: selector
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        window_days: 30,
    }
}

/// Reads `url` with the embedded queries and the fault limits, at `now`.
pub async fn read(
    url: &str,
    auth: Option<PrometheusAuth>,
    selector: &[(&str, &str)],
    now: f64,
) -> PrometheusReport {
    read_at(
        &config(url, auth),
        &queries(),
        &request(selector),
        fault_limits(),
        now,
    )
    .await
}

/// Asserts the status of a connection and a phrase of its detail, showing the connection when
/// either is off.
pub fn assert_connection(connection: &Connection, status: Status, detail: &str) {
    assert_status(connection, status);
    assert!(
        connection.detail.contains(detail),
        "{:?} has no {detail:?}",
        connection.detail
    );
}

/// Asserts the status of a connection, showing the connection when it is off.
pub fn assert_status(connection: &Connection, status: Status) {
    assert_eq!(connection.status, status, "{connection:?}");
}

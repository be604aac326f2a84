//! The Prometheus reader when the source misbehaves (contract §7): each fault is answered
//! within the deadline with the source's status, the other sources still answer, memory stays
//! bounded whatever the source sends, and a secret never shows.

mod support;

use std::time::{Duration, Instant};

use observe::prometheus::read_at;
use observe::{PrometheusAuth, PrometheusQuery, Sources, Status, observe};
use support::fake::{EMPTY_MATRIX, EMPTY_VECTOR, fake, respond};
use support::reads::{
    assert_connection, assert_status, config, fault_limits, queries, read, request,
};
use support::{Prometheus, Series, now_aligned, openmetrics};

fn now() -> f64 {
    now_aligned(300.0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prometheus_down_is_unreachable_and_the_other_sources_still_answer() {
    let port = support::free_port();
    let sources = Sources {
        prometheus: Some(config(
            &format!("http://advisor:hunter2@127.0.0.1:{port}"),
            None,
        )),
        postgres: None,
        redis: None,
        limits: fault_limits(),
    };
    let started = Instant::now();
    let observation = observe(&sources, &queries(), &request(&[])).await;
    assert!(
        started.elapsed() < fault_limits().total_timeout,
        "{:?}",
        started.elapsed()
    );
    let statuses: Vec<Status> = observation.connections.iter().map(|c| c.status).collect();
    assert_eq!(
        statuses,
        [
            Status::Unreachable,
            Status::NotConfigured,
            Status::NotConfigured
        ]
    );
    let prometheus = &observation.connections[0];
    assert_eq!(
        prometheus.url,
        format!("http://advisor:***@127.0.0.1:{port}/")
    );
    assert_connection(prometheus, Status::Unreachable, "cannot connect");
    assert!(observation.connections[1].detail.contains("--postgres"));
    let shown = format!(
        "{observation:?} {}",
        serde_json::to_string(&observation).unwrap()
    );
    assert!(!shown.contains("hunter2"), "{shown}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_listener_that_never_answers_times_out_within_the_deadline() {
    let (port, received) = fake(|stream, _| async move {
        // Holds the connection open and says nothing.
        tokio::time::sleep(Duration::from_secs(30)).await;
        drop(stream);
    })
    .await;
    let started = Instant::now();
    let report = read(&format!("http://127.0.0.1:{port}"), None, &[], now()).await;
    let elapsed = started.elapsed();
    assert!(
        elapsed >= fault_limits().total_timeout
            && elapsed < fault_limits().total_timeout + Duration::from_millis(500),
        "{elapsed:?}"
    );
    assert_connection(&report.connection, Status::TimedOut, "1500 ms");
    assert!(!received.lock().unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_401_is_refused_and_the_credentials_are_sent_but_never_shown() {
    let (port, received) = fake(|stream, request| async move {
        let authorized = request.contains("authorization: Bearer t0ken-s3cret")
            || request.contains("authorization: Basic YWR2aXNvcjpodW50ZXIy");
        let range = request
            .split(' ')
            .nth(1)
            .is_some_and(|path| path.ends_with("/api/v1/query_range"));
        if authorized && range {
            respond(stream, "200 OK", EMPTY_MATRIX).await;
        } else if authorized {
            respond(stream, "200 OK", EMPTY_VECTOR).await;
        } else {
            respond(stream, "401 Unauthorized", "Unauthorized").await;
        }
    })
    .await;
    let url = format!("http://127.0.0.1:{port}");
    // No credentials: refused.
    let report = read(&url, None, &[], now()).await;
    assert_connection(&report.connection, Status::Refused, "401");
    // A bearer token: accepted, and nowhere in what is shown.
    let auth = PrometheusAuth::Bearer("t0ken-s3cret".into());
    let report = read(&url, Some(auth.clone()), &[], now()).await;
    assert_status(&report.connection, Status::Ok);
    assert!(!format!("{report:?} {auth:?}").contains("t0ken-s3cret"));
    // A password in the URL: sent as basic auth (advisor:hunter2), shown masked.
    let with_password = format!("http://advisor:hunter2@127.0.0.1:{port}/");
    let report = read(&with_password, None, &[], now()).await;
    assert_status(&report.connection, Status::Ok);
    assert_eq!(
        report.connection.url,
        format!("http://advisor:***@127.0.0.1:{port}/")
    );
    assert!(!format!("{report:?}").contains("hunter2"));
    // Only POSTs of the query API were sent: a range query for each row's daily peaks, and
    // where it had no peak for today, an instant query for the current value.
    for sent in received.lock().unwrap().iter() {
        assert!(
            sent.starts_with("POST /api/v1/query_range HTTP/1.1\r\n")
                || sent.starts_with("POST /api/v1/query HTTP/1.1\r\n"),
            "{sent}"
        );
    }
    // Behind a path prefix (a proxy, Thanos Query or Mimir under `/prometheus`), the API paths
    // follow it.
    received.lock().unwrap().clear();
    let prefixed = format!("http://127.0.0.1:{port}/prom/");
    let report = read(&prefixed, Some(auth), &[], now()).await;
    assert_status(&report.connection, Status::Ok);
    for sent in received.lock().unwrap().iter() {
        assert!(sent.starts_with("POST /prom/api/v1/query"), "{sent}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_query_error_and_a_selector_of_quotes_and_braces_against_a_real_prometheus() {
    // Two instances whose names differ only by quotes, braces and a backslash: an exact match
    // picks one, and a regex-looking value matches nothing.
    let now = now_aligned(900.0);
    let weird = r#"db"}{x\ or 1=1"#;
    let samples = |value: f64| -> Vec<(f64, f64)> {
        (0..96)
            .map(|i| (now - 86_400.0 + 150.0 + 900.0 * f64::from(i), value))
            .collect()
    };
    let labels_weird = format!(
        r#"instance="{}",job="postgres""#,
        weird.replace('\\', r"\\").replace('"', r#"\""#)
    );
    let text = openmetrics(&[
        Series {
            name: "pg_stat_activity_count",
            labels: &labels_weird,
            samples: samples(70.0),
        },
        Series {
            name: "pg_stat_activity_count",
            labels: r#"instance="db",job="postgres""#,
            samples: samples(10.0),
        },
        Series {
            name: "pg_settings_max_connections",
            labels: &labels_weird,
            samples: samples(100.0),
        },
        Series {
            name: "pg_settings_max_connections",
            labels: r#"instance="db",job="postgres""#,
            samples: samples(100.0),
        },
    ]);
    let prometheus = Prometheus::start(Some(&text), &[]);
    let url = prometheus.url();
    let connections = |report: &observe::prometheus::PrometheusReport| {
        report
            .readings
            .iter()
            .find(|r| r.name == "connections_pct")
            .map(|r| r.value)
    };
    let report = read(&url, None, &[("instance", weird)], now).await;
    assert_status(&report.connection, Status::Ok);
    assert_eq!(connections(&report), Some(70.0), "{:?}", report);
    let report = read(&url, None, &[("instance", "db")], now).await;
    assert_eq!(connections(&report), Some(10.0));
    let report = read(&url, None, &[("instance", ".*")], now).await;
    assert_eq!(connections(&report), None, "a value is never a regex");
    // A label name that is not one is refused before anything is sent.
    let report = read(&url, None, &[("inst\"ance", "x")], now).await;
    assert_connection(
        &report.connection,
        Status::Error,
        "is not a label name a selector may use",
    );

    // A row whose PromQL Prometheus refuses: that row fails with Prometheus's reason, the
    // others still read.
    let mut broken = queries();
    broken.queries.push(PrometheusQuery {
        metric: "broken".into(),
        query: "rate(pg_stat_activity_count{{{selector}}})".into(),
        unit: "%".into(),
        scale: 1.0,
    });
    let report = read_at(
        &config(&url, None),
        &broken,
        &request(&[("instance", "db")]),
        fault_limits(),
        now,
    )
    .await;
    assert_connection(
        &report.connection,
        Status::Error,
        "failed: broken: Prometheus answered 400",
    );
    assert_connection(&report.connection, Status::Error, "bad_data");
    assert_eq!(connections(&report), Some(10.0));
}

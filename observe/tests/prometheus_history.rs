//! The Prometheus reader against a real Prometheus holding a history of known growth, written
//! with `promtool tsdb create-blocks-from openmetrics` (deterministic, no waiting for scrapes):
//! the daily peaks it reads are the ones computed here from the same samples, so the fitted
//! rate, its interval and the month a forecast gives are the ones computed here too; a flat
//! series is not significant; the selector picks one instance of two.

mod support;

use std::collections::BTreeMap;

use knowledge::Knowledge;
use observe::prometheus::{PrometheusReport, read_at};
use observe::{
    Limits, ObserveRequest, PrometheusConfig, PrometheusQueries, SourceKind, SourceUrl, Status,
};
use serde_json::json;
use support::{Prometheus, Series, now_aligned, openmetrics};
use tools::trend::{GrowthFit, TrendRules};

const DAY: f64 = 86_400.0;
/// Samples every 15 minutes, 150 s past the quarter hour: each is seen by exactly one step of
/// the 5-minute subquery (150 s later), never on the edge of a day.
const SAMPLE_EVERY: f64 = 900.0;
const SAMPLE_OFFSET: f64 = 150.0;
const WINDOW_DAYS: u32 = 30;
const MAX_CONNECTIONS: f64 = 100.0;

/// Connections on `db-a` grow 8% a month with a ±4% wobble; on `db-b` they only wobble.
fn connections(instance: &str, start: f64, at: f64, index: usize) -> f64 {
    let days = (at - start) / DAY;
    match instance {
        "db-a:9187" => {
            20.0 * 1.08_f64.powf(days / 30.4375) * (1.0 + 0.04 * (1.3 * index as f64).sin())
        }
        _ => 35.0 * (1.0 + 0.05 * (0.7 * index as f64).sin()),
    }
}

struct History {
    now: f64,
    /// Per instance, the samples of `pg_stat_activity_count`.
    samples: BTreeMap<&'static str, Vec<(f64, f64)>>,
}

fn history() -> (History, String) {
    let now = now_aligned(SAMPLE_EVERY);
    let start = now - f64::from(WINDOW_DAYS + 1) * DAY;
    let times: Vec<f64> = (0..)
        .map(|i| start + SAMPLE_OFFSET + f64::from(i) * SAMPLE_EVERY)
        .take_while(|t| *t <= now)
        .collect();
    let mut samples = BTreeMap::new();
    let mut series = Vec::new();
    for instance in ["db-a:9187", "db-b:9187"] {
        let values: Vec<(f64, f64)> = times
            .iter()
            .enumerate()
            .map(|(i, &t)| (t, connections(instance, start, t, i)))
            .collect();
        samples.insert(instance, values);
    }
    let labels: BTreeMap<&str, String> = ["db-a:9187", "db-b:9187"]
        .into_iter()
        .map(|i| {
            (
                i,
                format!("instance=\"{i}\",job=\"postgres\",server=\"{i}\""),
            )
        })
        .collect();
    for instance in ["db-a:9187", "db-b:9187"] {
        series.push(Series {
            name: "pg_stat_activity_count",
            labels: &labels[instance],
            samples: samples[instance].clone(),
        });
    }
    for instance in ["db-a:9187", "db-b:9187"] {
        series.push(Series {
            name: "pg_settings_max_connections",
            labels: &labels[instance],
            samples: times.iter().map(|&t| (t, MAX_CONNECTIONS)).collect(),
        });
    }
    let text = openmetrics(&series);
    (History { now, samples }, text)
}

/// The daily peaks of `connections_pct` as Prometheus must compute them from the samples of
/// `instances`: for each day ending at `now − k days`, the highest `100 × (n / max)` of the
/// samples seen inside it, and across instances the highest.
fn expected_peaks(history: &History, instances: &[&str]) -> Vec<(f64, f64)> {
    let first_end = history.now - f64::from(WINDOW_DAYS - 1) * DAY;
    (0..WINDOW_DAYS)
        .map(|k| {
            let end = first_end + f64::from(k) * DAY;
            let peak = instances
                .iter()
                .flat_map(|i| history.samples[i].iter())
                .filter(|(t, _)| t + SAMPLE_OFFSET > end - DAY && t + SAMPLE_OFFSET <= end)
                .map(|(_, n)| 100.0 * (n / MAX_CONNECTIONS))
                .fold(f64::NEG_INFINITY, f64::max);
            (f64::from(k), peak)
        })
        .collect()
}

async fn read(
    prometheus: &Prometheus,
    history: &History,
    selector: &[(&str, &str)],
) -> PrometheusReport {
    let knowledge = Knowledge::embedded().unwrap();
    let queries = PrometheusQueries::load(&knowledge).unwrap();
    let config = PrometheusConfig {
        url: SourceUrl::parse(
            "--prometheus",
            &prometheus.url(),
            &["http", "https"],
            "http://p:9090",
        )
        .unwrap(),
        auth: None,
    };
    let request = ObserveRequest {
        selector: selector
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        window_days: WINDOW_DAYS,
    };
    read_at(&config, &queries, &request, Limits::default(), history.now).await
}

fn peaks_of(report: &PrometheusReport, metric: &str) -> Vec<(f64, f64)> {
    report
        .histories
        .iter()
        .find(|h| h.name == metric)
        .unwrap_or_else(|| panic!("no history of {metric}: {:?}", report.connection))
        .daily_peaks
        .iter()
        .map(|p| (p.day, p.value))
        .collect()
}

fn assert_same_peaks(read: &[(f64, f64)], expected: &[(f64, f64)]) {
    assert_eq!(read.len(), expected.len(), "{read:?}");
    for ((day, value), (want_day, want)) in read.iter().zip(expected) {
        assert_eq!(day, want_day);
        assert!(
            (value - want).abs() <= 1e-9 * want.abs(),
            "day {day}: read {value}, computed {want}"
        );
    }
}

fn assert_same_fit(read: &GrowthFit, expected: &GrowthFit) {
    let same = |a: f64, b: f64| (a - b).abs() <= 1e-9 * b.abs().max(1e-9);
    assert!(
        same(read.monthly_growth_pct, expected.monthly_growth_pct),
        "{read:?} vs {expected:?}"
    );
    assert!(
        same(read.ci95_pct[0], expected.ci95_pct[0])
            && same(read.ci95_pct[1], expected.ci95_pct[1])
    );
    assert!(same(read.r_squared, expected.r_squared));
    assert_eq!(
        (read.points, read.significant),
        (expected.points, expected.significant)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backfilled_history_gives_the_fit_computed_here() {
    let (history, text) = history();
    let prometheus = Prometheus::start(Some(&text), &[]);
    let trends = TrendRules::load(&Knowledge::embedded().unwrap()).unwrap();

    // The selector picks db-a, the growing one: its peaks, its fit.
    let report = read(&prometheus, &history, &[("instance", "db-a:9187")]).await;
    assert_eq!(report.connection.source, SourceKind::Prometheus);
    assert_eq!(
        report.connection.status,
        Status::Ok,
        "{:?}",
        report.connection
    );
    let read_a = peaks_of(&report, "connections_pct");
    let expected_a = expected_peaks(&history, &["db-a:9187"]);
    assert_same_peaks(&read_a, &expected_a);
    let fit = trends.fit(&read_a).unwrap();
    assert_same_fit(&fit, &trends.fit(&expected_a).unwrap());
    assert!(fit.significant, "{fit:?}");
    assert!(
        fit.ci95_pct[0] < 8.0 && 8.0 < fit.ci95_pct[1] + 1.0,
        "{fit:?}"
    );
    // The query says what it read, selector included; today's figure is the last day's peak.
    let today = report
        .readings
        .iter()
        .find(|r| r.name == "connections_pct")
        .unwrap();
    assert!(
        today.query.contains(r#"instance="db-a:9187""#),
        "{}",
        today.query
    );
    assert!(
        today.query.starts_with("max_over_time(("),
        "{}",
        today.query
    );
    assert_eq!(today.value, read_a.last().unwrap().1);
    assert_eq!(today.unit, "%");
    // Only the rows with data gave figures; the rest are named.
    assert_eq!(report.readings.len(), 1, "{:?}", report.readings);
    assert!(
        report.connection.detail.contains("no data for"),
        "{}",
        report.connection.detail
    );

    // The month the forecast gives from the fitted rate is the one computed from the same fit.
    let advisor = tools::Advisor::embedded().unwrap();
    let arguments = json!({
        "monthly_growth_pct": fit.monthly_growth_pct,
        "resources": [{"name": "connections_pct", "current": today.value, "warning": 80}],
    });
    let forecast = advisor
        .call("forecast_growth", arguments.as_object().unwrap())
        .unwrap()
        .structured;
    let months = forecast["resources"][0]["months_to_warning"]
        .as_f64()
        .unwrap();
    let expected_fit = trends.fit(&expected_a).unwrap();
    let expected_months = (80.0 / expected_a.last().unwrap().1).ln()
        / (1.0 + expected_fit.monthly_growth_pct / 100.0).ln();
    assert!(
        (months - expected_months).abs() < 1e-6 * expected_months,
        "{months} vs {expected_months}"
    );

    // db-b is flat: its rate is not significant, whatever it comes to.
    let report = read(&prometheus, &history, &[("instance", "db-b:9187")]).await;
    let read_b = peaks_of(&report, "connections_pct");
    assert_same_peaks(&read_b, &expected_peaks(&history, &["db-b:9187"]));
    let flat = trends.fit(&read_b).unwrap();
    assert!(!flat.significant, "{flat:?}");
    assert!(flat.ci95_pct[0] <= 0.0 && flat.ci95_pct[1] >= 0.0);

    // Without a selector the query aggregates both: each day's highest.
    let report = read(&prometheus, &history, &[]).await;
    assert_same_peaks(
        &peaks_of(&report, "connections_pct"),
        &expected_peaks(&history, &["db-a:9187", "db-b:9187"]),
    );

    // A selector that matches nothing reads nothing, and says so.
    let report = read(&prometheus, &history, &[("instance", "db-c:9187")]).await;
    assert!(report.histories.is_empty() && report.readings.is_empty());
    assert_eq!(report.connection.status, Status::Ok);
    assert!(
        report.connection.detail.contains("connections_pct"),
        "{}",
        report.connection.detail
    );
}

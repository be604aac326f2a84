//! `observe_system` and `observe` in process, on observations built by hand (the reading
//! itself is the server's and the `observe` crate's): a history of known growth gives its
//! rate, a flat or short one gives none, readings become each tool's arguments within their
//! ranges, given arguments win, the result says what came from where, and the answer for nine
//! metrics with 90-day histories stays under 4,000 bytes.

#[path = "shared/readable.rs"]
mod readable;

use std::sync::LazyLock;

use serde_json::{Map, Value, json};
use tools::observe_system::{
    ConnectionStatus, DailyPeak, History, LiveObservation, MetricReading, ObservedSystem,
    SourceConnection, SourceName, Unobservable,
};
use tools::{Advisor, CallError};

static ADVISOR: LazyLock<Advisor> =
    LazyLock::new(|| Advisor::embedded().expect("the embedded knowledge base loads"));

fn object(value: Value) -> Map<String, Value> {
    value.as_object().cloned().unwrap_or_default()
}

/// `days` daily peaks growing `monthly_pct` a month from `start`, with a small alternating
/// wobble so that the fit has a residual (a perfect line has a zero-width interval).
fn peaks(start: f64, monthly_pct: f64, days: u32, wobble: f64) -> Vec<DailyPeak> {
    let per_day = (1.0 + monthly_pct / 100.0f64).ln() / 30.4375;
    (0..days)
        .map(|day| {
            let sign = if day % 2 == 0 { 1.0 } else { -1.0 };
            DailyPeak {
                at: format!("2026-09-{:02}T00:00:00Z", day % 28 + 1),
                day: f64::from(day),
                value: start * (per_day * f64::from(day)).exp() * (1.0 + sign * wobble),
            }
        })
        .collect()
}

fn reading(name: &str, value: f64, unit: &str) -> MetricReading {
    MetricReading {
        name: name.to_string(),
        value,
        unit: unit.to_string(),
        source: SourceName::Prometheus,
        query: format!("max_over_time({name}[1d])"),
        at: "2026-12-07T12:00:00Z".to_string(),
    }
}

fn connection(source: SourceName, status: ConnectionStatus) -> SourceConnection {
    SourceConnection {
        source,
        url: match source {
            SourceName::Prometheus => "http://prom:9090/".into(),
            _ => String::new(),
        },
        status,
        detail: String::new(),
    }
}

fn live(load: Vec<DailyPeak>, metrics: Vec<MetricReading>) -> LiveObservation {
    LiveObservation {
        connections: vec![
            connection(SourceName::Prometheus, ConnectionStatus::Ok),
            connection(SourceName::Postgres, ConnectionStatus::NotConfigured),
            connection(SourceName::Redis, ConnectionStatus::TimedOut),
        ],
        metrics,
        histories: vec![History {
            name: "load".into(),
            source: SourceName::Prometheus,
            query: "max_over_time(sum(rate(http_requests_total[5m]))[1d:5m])".into(),
            daily_peaks: load,
        }],
        window_days: 90,
        unobservable: Vec::new(),
    }
}

fn observe(live: &LiveObservation, args: Value) -> ObservedSystem {
    let output = ADVISOR
        .call_live("observe_system", &object(args), Some(live))
        .expect("observe_system answers");
    serde_json::from_value(output.structured).expect("the result reads back")
}

fn call(tool: &str, live: &LiveObservation, args: Value) -> Value {
    ADVISOR
        .call_live(tool, &object(args.clone()), Some(live))
        .unwrap_or_else(|e| panic!("{tool} {args}: {e}"))
        .structured
}

#[test]
fn a_history_of_known_growth_gives_its_rate_and_the_forecast_its_argument() {
    let observed = observe(&live(peaks(1000.0, 5.0, 90, 0.01), vec![]), json!({}));
    let load = observed.trends.iter().find(|t| t.name == "load").unwrap();
    assert!(load.significant, "{load:?}");
    assert!((load.monthly_growth_pct - 5.0).abs() < 0.1, "{load:?}");
    assert!(load.ci95_pct[0] < 5.0 && 5.0 < load.ci95_pct[1], "{load:?}");
    assert_eq!(load.points, 90);
    let rate = observed.arguments.forecast_growth["monthly_growth_pct"]
        .as_f64()
        .unwrap();
    assert_eq!(rate, load.monthly_growth_pct);
    assert!(
        observed.summary.contains("Load grows"),
        "{}",
        observed.summary
    );
}

#[test]
fn a_flat_or_short_history_passes_no_rate_on() {
    // Flat with noise: the interval holds 0.
    let flat = observe(&live(peaks(1000.0, 0.0, 90, 0.05), vec![]), json!({}));
    let load = flat.trends.iter().find(|t| t.name == "load").unwrap();
    assert!(!load.significant, "{load:?}");
    assert!(
        !flat
            .arguments
            .forecast_growth
            .contains_key("monthly_growth_pct")
    );
    assert!(flat.summary.contains("not significant"), "{}", flat.summary);
    // Growing, but fewer than 14 daily points.
    let short = observe(&live(peaks(1000.0, 20.0, 10, 0.001), vec![]), json!({}));
    let load = short.trends.iter().find(|t| t.name == "load").unwrap();
    assert!(!load.significant, "{load:?}");
    assert!(
        !short
            .arguments
            .forecast_growth
            .contains_key("monthly_growth_pct")
    );
}

#[test]
fn readings_become_arguments_within_each_tools_ranges() {
    let observed = observe(
        &live(
            vec![],
            vec![
                reading("db_cpu_pct", 100.4, "%"),
                reading("cache_hit_rate_pct", 91.23456, "%"),
                reading("queue_depth", 12.6, "messages"),
                reading("disk_used_pct", 40.0, "%"),
            ],
        ),
        json!({}),
    );
    let diagnose = &observed.arguments.diagnose_bottleneck;
    assert_eq!(diagnose["db_cpu_pct"], json!(100.0));
    assert_eq!(diagnose["cache_hit_rate_pct"], json!(91.23));
    assert_eq!(diagnose["queue_depth"], json!(13));
    // Not an argument of diagnose_bottleneck: a resource, not filled there.
    assert!(!diagnose.contains_key("disk_used_pct"));
    assert_eq!(
        observed.arguments.forecast_growth["db_cpu_pct"],
        json!(100.0)
    );
    assert!(
        !observed
            .arguments
            .forecast_growth
            .contains_key("cache_hit_rate_pct")
    );
    // A resource goes to the forecast with the lines of `capacity-planning#resource-limits`.
    assert_eq!(
        observed.arguments.forecast_growth["resources"],
        json!([{"name": "disk_used_pct", "current": 40.0, "warning": 95.0, "critical": 97.0}])
    );
    assert!(
        observed
            .sources
            .iter()
            .any(|s| s == "knowledge://capacity-planning#resource-limits"),
        "{:?}",
        observed.sources
    );
    let mut forecast = observed.arguments.forecast_growth.clone();
    forecast.insert("monthly_growth_pct".into(), json!(3));
    ADVISOR
        .call("forecast_growth", &forecast)
        .expect("forecast_growth takes the observed arguments");
    // The arguments pass as they are.
    ADVISOR
        .call(
            "diagnose_bottleneck",
            &observed.arguments.diagnose_bottleneck,
        )
        .expect("diagnose_bottleneck takes the observed arguments");
}

#[test]
fn given_arguments_win_and_the_result_says_what_was_read() {
    let observation = live(
        peaks(500.0, 8.0, 60, 0.01),
        vec![
            reading("db_cpu_pct", 72.0, "%"),
            reading("p95_latency_ms", 340.0, "ms"),
        ],
    );
    let result = call(
        "diagnose_bottleneck",
        &observation,
        json!({"observe": true, "p95_latency_ms": 120}),
    );
    let observed = result["observed"].as_array().unwrap();
    let fields: Vec<&str> = observed
        .iter()
        .map(|o| o["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["db_cpu_pct"]);
    assert_eq!(observed[0]["source"], "prometheus");
    let evidence = result["findings"].to_string();
    assert!(evidence.contains("db_cpu_saturation"), "{evidence}");
    assert!(
        !evidence.contains("high_latency"),
        "the given p95 (120 ms) wins: {evidence}"
    );
    // The failed source is reported, the unconfigured one too; the one that answered is not.
    let connections: Vec<&str> = result["connections"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["status"].as_str().unwrap())
        .collect();
    assert_eq!(connections, ["not_configured", "timed_out"]);
}

#[test]
fn the_forecast_takes_the_observed_rate_unless_a_growth_is_given() {
    let observation = live(
        peaks(500.0, 8.0, 60, 0.01),
        vec![reading("db_cpu_pct", 40.0, "%")],
    );
    let result = call("forecast_growth", &observation, json!({"observe": true}));
    let rate = result["monthly_growth_pct"].as_f64().unwrap();
    assert!((rate - 8.0).abs() < 0.2, "{rate}");
    assert_eq!(
        result["observed_history"]["points"]
            .as_array()
            .unwrap()
            .len(),
        60
    );
    let given = call(
        "forecast_growth",
        &observation,
        json!({"observe": true, "growth_multiple": 2, "over_months": 12}),
    );
    let fields: Vec<&str> = given["observed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["db_cpu_pct"]);
    let markdown = ADVISOR
        .call_live(
            "forecast_growth",
            &object(json!({"observe": true})),
            Some(&observation),
        )
        .unwrap()
        .markdown;
    assert!(
        markdown.contains("## Read from the live system"),
        "{markdown}"
    );
    assert!(
        markdown.contains("60 daily peaks from prometheus"),
        "{markdown}"
    );
}

#[test]
fn the_figures_read_are_written_for_people() {
    // A reading and a history with figures of many digits: the tables and sentences a person
    // reads show them to three significant digits (issue 28, point 9).
    let observation = live(
        peaks(1234.5678, 7.3, 90, 0.013),
        vec![
            reading("db_cpu_pct", 41.2345, "%"),
            reading("p95_latency_ms", 187.654, "ms"),
        ],
    );
    for (tool, args) in [
        ("observe_system", json!({"detail": "full"})),
        (
            "forecast_growth",
            json!({"observe": true, "detail": "full"}),
        ),
        (
            "diagnose_bottleneck",
            json!({"observe": true, "detail": "full"}),
        ),
    ] {
        let output = ADVISOR
            .call_live(tool, &object(args), Some(&observation))
            .unwrap_or_else(|e| panic!("{tool}: {e}"));
        assert!(
            output.markdown.contains("| 41.2 |"),
            "{tool}: {}",
            output.markdown
        );
        let summary = output.structured["summary"].as_str().unwrap_or_default();
        if tool == "observe_system" {
            assert!(summary.contains("db_cpu_pct 41.2,"), "{summary}");
        }
        let found: Vec<String> = std::iter::once(summary)
            .chain(readable::prose_lines(&output.markdown))
            .flat_map(readable::offences)
            .collect();
        assert!(found.is_empty(), "{tool}: {found:?}\n{}", output.markdown);
    }
}

#[test]
fn the_report_fills_its_system_and_growth() {
    let observation = live(
        peaks(500.0, 8.0, 60, 0.01),
        vec![reading("db_cpu_pct", 70.0, "%")],
    );
    let result = call(
        "scaling_report",
        &observation,
        json!({"observe": true, "system": {"users": 50000}}),
    );
    let fields: Vec<&str> = result["observed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["system.db_cpu_pct", "growth.monthly_growth_pct"]);
    assert!(
        result["forecast"].is_object(),
        "the observed growth made a plan"
    );
}

#[test]
fn without_observe_nothing_is_read_or_added() {
    assert_eq!(
        ADVISOR
            .live_request("diagnose_bottleneck", &object(json!({"db_cpu_pct": 70})))
            .unwrap(),
        None
    );
    assert_eq!(
        ADVISOR
            .live_request(
                "diagnose_bottleneck",
                &object(json!({"observe": false, "db_cpu_pct": 70}))
            )
            .unwrap(),
        None
    );
    let request = ADVISOR
        .live_request(
            "forecast_growth",
            &object(json!({"observe": {"selector": {"job": "api"}, "window_days": 30}})),
        )
        .unwrap()
        .unwrap();
    assert_eq!(request.window_days, 30);
    let plain = ADVISOR
        .call("diagnose_bottleneck", &object(json!({"db_cpu_pct": 70})))
        .unwrap();
    assert!(plain.structured.get("observed").is_none());
}

#[test]
fn a_bad_selector_or_window_is_refused_naming_the_field() {
    let refused = |tool: &str, args: Value| match ADVISOR.live_request(tool, &object(args.clone()))
    {
        Err(CallError::Arguments(e)) => (e.field.clone(), e.to_string()),
        other => panic!("{args} was not refused: {other:?}"),
    };
    let (field, text) = refused("observe_system", json!({"selector": {"bad-label": "x"}}));
    assert_eq!(field, "selector");
    assert!(text.contains("bad-label"), "{text}");
    let (field, _) = refused("observe_system", json!({"window_days": 3}));
    assert_eq!(field, "window_days");
    let (field, _) = refused(
        "diagnose_bottleneck",
        json!({"observe": {"window_days": 400}}),
    );
    assert_eq!(field, "observe.window_days");
    let (field, _) = refused("diagnose_bottleneck", json!({"observe": "yes"}));
    assert_eq!(field, "observe");
    let (field, _) = refused("diagnose_bottleneck", json!({"observe": null}));
    assert_eq!(field, "observe");
    // A label value with quotes and braces is a value like any other: matched exactly by the
    // reader, never refused here.
    assert!(
        ADVISOR
            .live_request(
                "observe_system",
                &object(json!({"selector": {"instance": "a\"}b{c"}}))
            )
            .is_ok()
    );
}

#[test]
fn without_sources_every_source_is_not_configured() {
    let output = ADVISOR.call("observe_system", &object(json!({}))).unwrap();
    let observed: ObservedSystem = serde_json::from_value(output.structured).unwrap();
    assert!(
        observed
            .connections
            .iter()
            .all(|c| c.status == ConnectionStatus::NotConfigured)
    );
    assert_eq!(observed.connections.len(), 3);
    assert!(
        observed.summary.starts_with("Nothing read"),
        "{}",
        observed.summary
    );
    assert!(
        observed.missing_inputs.is_empty(),
        "no argument adds a source"
    );
    assert!(observed.connections[1].detail.contains("--postgres"));
}

#[test]
fn nine_metrics_over_ninety_days_stay_under_four_kilobytes() {
    let names = [
        ("db_cpu_pct", "%"),
        ("app_cpu_pct", "%"),
        ("p95_latency_ms", "ms"),
        ("cache_hit_rate_pct", "%"),
        ("replication_lag_ms", "ms"),
        ("pool_utilization_pct", "%"),
        ("read_pct", "%"),
        ("queue_depth", "messages"),
        ("error_rate_pct", "%"),
    ];
    let mut observation = live(peaks(1200.0, 4.0, 90, 0.02), vec![]);
    for (i, (name, unit)) in names.iter().enumerate() {
        observation
            .metrics
            .push(reading(name, 10.0 + i as f64 * 7.3, unit));
        observation.histories.push(History {
            name: name.to_string(),
            source: SourceName::Prometheus,
            query: format!("max_over_time({name}{{job=\"api\"}}[1d])"),
            daily_peaks: peaks(10.0 + i as f64, 2.0, 90, 0.03),
        });
    }
    let output = ADVISOR
        .call_live("observe_system", &Map::new(), Some(&observation))
        .unwrap();
    let bytes = serde_json::to_vec(&output.structured).unwrap().len();
    assert!(bytes <= 4000, "{bytes} bytes");
    let observed: ObservedSystem = serde_json::from_value(output.structured).unwrap();
    assert_eq!(observed.trends.len(), 10);
    assert_eq!(observed.metrics.len(), 9);
}

#[test]
fn a_malformed_resource_line_stops_start_up_with_its_file_and_line() {
    let embedded = knowledge::Knowledge::embedded().unwrap();
    let text = embedded
        .document("capacity-planning")
        .expect("the document is embedded")
        .text()
        .replace("| disk_used_pct | 95 | 97 |", "| disk_used_pct | 95 | 90 |");
    let dir = std::env::temp_dir().join(format!("sa-resource-limits-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("capacity-planning.md"), text).unwrap();
    let error = knowledge::Knowledge::with_dir(&dir)
        .map_err(|e| e.to_string())
        .and_then(|k| Advisor::new(k).map(|_| ()).map_err(|e| e.to_string()))
        .expect_err("a critical line below the warning is refused");
    assert!(error.contains("capacity-planning.md"), "{error}");
    assert!(error.contains("critical"), "{error}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// A row of what a source cannot give, as the server hands the `observation` tables over.
fn cannot_give(source: SourceName, field: &str, enables: &str) -> Unobservable {
    Unobservable {
        source,
        field: field.into(),
        enables: enables.into(),
        where_to_get_it: format!("where to read {field}"),
        uri: "knowledge://observation#what-postgresql-cannot-give".into(),
    }
}

#[test]
fn a_figure_no_source_can_give_is_a_missing_input_with_where_to_get_it() {
    let mut observation = live(Vec::new(), vec![reading("db_cpu_pct", 72.0, "%")]);
    observation.unobservable = vec![
        // Prometheus gave the CPU: not missing.
        cannot_give(SourceName::Postgres, "db_cpu_pct", "`db_cpu_saturation`"),
        cannot_give(SourceName::Postgres, "p95_latency_ms", "`high_latency`"),
        cannot_give(
            SourceName::Postgres,
            "pool_utilization_pct",
            "`pool_exhaustion`",
        ),
        // Named by a second source: listed once, the first source's row.
        cannot_give(SourceName::Redis, "p95_latency_ms", "`high_latency`"),
        cannot_give(SourceName::Postgres, "disk_used_pct", "the disk forecast"),
    ];
    let system = call("observe_system", &observation, json!({}));
    let missing: Vec<(&str, &str)> = system["missing_inputs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["field"].as_str().unwrap(),
                m["where_to_get_it"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        missing,
        [
            (
                "diagnose_bottleneck.p95_latency_ms",
                "postgres cannot give it: where to read p95_latency_ms"
            ),
            (
                "diagnose_bottleneck.pool_utilization_pct",
                "postgres cannot give it: where to read pool_utilization_pct"
            ),
            // Concise says where once.
            (
                "forecast_growth.pool_utilization_pct",
                "as diagnose_bottleneck.pool_utilization_pct"
            ),
            (
                "forecast_growth.resources.disk_used_pct",
                "postgres cannot give it: where to read disk_used_pct"
            ),
        ]
    );
    assert!(
        system["sources"]
            .to_string()
            .contains("observation#what-postgresql-cannot-give")
    );
    let full = call("observe_system", &observation, json!({"detail": "full"}));
    assert_eq!(
        full["missing_inputs"][2]["where_to_get_it"],
        "postgres cannot give it: where to read pool_utilization_pct"
    );

    // `observe` on a tool: its own argument, with where; one the caller gave is not missing.
    let diagnosis = call(
        "diagnose_bottleneck",
        &observation,
        json!({"observe": true, "pool_utilization_pct": 40}),
    );
    let entries = diagnosis["missing_inputs"].as_array().unwrap();
    let p95 = entries
        .iter()
        .find(|m| m["field"] == "p95_latency_ms")
        .unwrap_or_else(|| panic!("p95_latency_ms is missing: {diagnosis}"));
    assert_eq!(
        p95["where_to_get_it"],
        "postgres cannot give it: where to read p95_latency_ms"
    );
    assert!(p95["enables"].as_str().unwrap().contains("high_latency"));
    assert!(
        !entries
            .iter()
            .any(|m| m["field"] == "pool_utilization_pct" || m["field"] == "db_cpu_pct"),
        "{diagnosis}"
    );
    let report = call("scaling_report", &observation, json!({"observe": true}));
    assert!(
        report["missing_inputs"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["field"] == "system.p95_latency_ms"
                && m["where_to_get_it"].as_str().is_some()),
        "{}",
        report["missing_inputs"]
    );
    // Without `observe`, nothing is said about sources.
    let plain = call(
        "diagnose_bottleneck",
        &observation,
        json!({"db_cpu_pct": 50}),
    );
    assert!(
        !plain["missing_inputs"]
            .to_string()
            .contains("where_to_get_it")
    );
}

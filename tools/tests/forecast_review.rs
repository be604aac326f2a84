//! Issue 28, points 4 and 5: the forecast and the diagnosis judge a metric by one comparison
//! (each line's boundary: just below, exactly at, just above), the queueing model that
//! governs saturation counts in the order-by month, a cache already below the diagnosis' line
//! is said to be below it, and a falling load recovers instead of ordering capacity. Each
//! situation with its neighbours: other metrics, other rates, the boundary values.

use std::sync::LazyLock;

use serde_json::{Map, Value, json};
use tools::Advisor;
use tools::forecast_growth::{Forecast, ResourceForecast, Status};

static ADVISOR: LazyLock<Advisor> =
    LazyLock::new(|| Advisor::embedded().expect("the embedded knowledge base loads"));

/// The load-driven metrics both tools judge (contract §5.9).
const METRICS: [&str; 5] = [
    "db_cpu_pct",
    "app_cpu_pct",
    "db_read_load_pct",
    "db_write_load_pct",
    "pool_utilization_pct",
];

fn call(tool: &str, args: &Value) -> (Value, String) {
    let map: Map<String, Value> = args.as_object().cloned().unwrap_or_default();
    let out = ADVISOR
        .call(tool, &map)
        .unwrap_or_else(|e| panic!("{tool}({args}) was refused: {e}"));
    (out.structured, out.markdown)
}

/// The whole forecast (`detail: full`), read back as its type.
fn forecast(mut args: Value) -> (Forecast, String) {
    args["detail"] = Value::from("full");
    let (structured, markdown) = call("forecast_growth", &args);
    let f = serde_json::from_value(structured).expect("the result reads back as a Forecast");
    (f, markdown)
}

fn resource<'a>(f: &'a Forecast, name: &str) -> &'a ResourceForecast {
    f.resources
        .iter()
        .find(|r| r.name == name)
        .unwrap_or_else(|| panic!("no resource {name} in {:?}", f.resources))
}

fn close(got: Option<f64>, want: f64, case: &str) {
    let got = got.unwrap_or_else(|| panic!("{case}: expected {want}, got null"));
    assert!(
        (got - want).abs() <= 1e-9 * want.abs().max(1.0),
        "{case}: got {got}, expected {want}"
    );
}

/// The lines the forecast follows `metric` against (its row of the findings table).
fn lines(metric: &str) -> (f64, Option<f64>) {
    let (f, _) = forecast(json!({"monthly_growth_pct": 10, metric: 1}));
    let r = resource(&f, metric);
    (r.warning, r.critical)
}

/// The diagnosis' severity for the finding on `metric` (`none` when it does not fire), and
/// its months to critical at `rate`.
fn diagnosis(metric: &str, value: f64, rate: f64) -> (String, Option<f64>) {
    let (d, _) = call(
        "diagnose_bottleneck",
        &json!({metric: value, "monthly_growth_pct": rate}),
    );
    let finding = d["findings"].as_array().and_then(|list| {
        list.iter().find(|f| {
            f["evidence"]
                .as_array()
                .is_some_and(|e| e.iter().any(|e| e["metric"] == metric))
        })
    });
    match finding {
        Some(f) => (
            f["severity"].as_str().unwrap_or_default().to_string(),
            f["months_to_critical"].as_f64(),
        ),
        None => ("none".to_string(), None),
    }
}

// ---------------------------------------------------------------- point 4: one comparison

#[test]
fn the_diagnosis_and_the_forecast_judge_every_metric_alike_at_each_boundary() {
    let mut checked = 0;
    for metric in METRICS {
        let (warning, critical) = lines(metric);
        let mut values = vec![warning - 0.01, warning, warning + 0.01];
        if let Some(c) = critical {
            values.extend([c - 0.01, c, c + 0.01]);
        }
        for value in values {
            for rate in [10.0, 0.0, -5.0] {
                let case = format!("{metric} = {value} at {rate}%/month");
                let (severity, diagnosed_months) = diagnosis(metric, value, rate);
                let (f, markdown) = forecast(json!({"monthly_growth_pct": rate, metric: value}));
                let r = resource(&f, metric);
                let expected = match severity.as_str() {
                    "critical" => Status::CriticalNow,
                    "warning" => Status::WarningNow,
                    _ if value > warning => panic!("{case}: the diagnosis did not fire"),
                    _ if rate > 0.0 => Status::Ok,
                    _ => Status::Never,
                };
                assert_eq!(r.status, expected, "{case}: diagnosis says {severity}");
                // Strictly above: exactly on a line is not past it.
                let past_critical = critical.is_some_and(|c| value > c);
                assert_eq!(r.status == Status::CriticalNow, past_critical, "{case}");
                assert_eq!(
                    matches!(r.status, Status::WarningNow | Status::CriticalNow),
                    value > warning,
                    "{case}"
                );
                if !past_critical {
                    assert!(!markdown.contains("CRITICAL now"), "{case}: {markdown}");
                }
                // A firing finding's months to critical are the forecast's, by the same rule.
                if severity != "none" && critical.is_some() {
                    assert_eq!(
                        diagnosed_months.is_some(),
                        r.months_to_critical.is_some(),
                        "{case}"
                    );
                    if let Some(m) = r.months_to_critical {
                        close(diagnosed_months, m, &case);
                    }
                }
                checked += 1;
            }
        }
    }
    // Five metrics, three with a critical line: (3 + 3 × 3 + 2 × 3) values × 3 rates.
    assert_eq!(checked, 72);
}

/// (what it shows, rate, value, months_to_critical)
type OnTheLine = (&'static str, f64, f64, Option<f64>);

#[test]
fn a_value_exactly_on_a_strict_line_crosses_it_only_if_the_load_grows() {
    #[rustfmt::skip]
    let cases: Vec<OnTheLine> = vec![
        ("85 growing: past it at once, order now", 10.0, 85.0, Some(0.0)),
        ("85 flat: never past it", 0.0, 85.0, None),
        ("85 falling: never past it", -5.0, 85.0, None),
        ("just above, falling: past it now", -5.0, 85.01, Some(0.0)),
    ];
    for (case, rate, value, months) in cases {
        let (f, _) = forecast(json!({"monthly_growth_pct": rate, "db_cpu_pct": value}));
        let r = resource(&f, "db_cpu_pct");
        assert_eq!(r.months_to_critical, months, "{case}");
        let (_, diagnosed) = diagnosis("db_cpu_pct", value, rate);
        assert_eq!(diagnosed, months, "{case}: the diagnosis agrees");
    }
    let (f, markdown) = forecast(json!({"monthly_growth_pct": 10, "db_cpu_pct": 85}));
    assert_eq!(resource(&f, "db_cpu_pct").status, Status::WarningNow);
    assert!(
        f.summary.contains("at its critical line now"),
        "{}",
        f.summary
    );
    assert!(!f.summary.contains("critical now"), "{}", f.summary);
    assert!(markdown.contains("**Order capacity by now**"), "{markdown}");
}

#[test]
fn the_p95_lines_are_the_diagnosis_lines_with_its_comparison() {
    // high_latency: critical above 1000 ms; exactly 1000 ms is a warning in the diagnosis.
    let (severity, _) = diagnosis("p95_latency_ms", 1000.0, 0.0);
    assert_eq!(severity, "warning");
    for (case, p95, rate, months) in [
        ("at 1000 ms, falling: never past it", 1000.0, -5.0, None),
        (
            "at 1000 ms, growing: past it at once",
            1000.0,
            10.0,
            Some(0.0),
        ),
        (
            "above 1000 ms, falling: past it now",
            1000.5,
            -5.0,
            Some(0.0),
        ),
    ] {
        let (f, _) = forecast(
            json!({"monthly_growth_pct": rate, "p95_latency_ms": p95, "utilization_pct": 50}),
        );
        let l = f.latency.expect("a latency forecast");
        assert_eq!(l.months_to_critical, months, "{case}");
    }
}

// ------------------------------------------- point 4: which queueing model governs, order-by

/// The case: the M/M/1 of the p95 saturates in month 6.5, the M/M/c queue in 5.1.
fn two_queues() -> Value {
    json!({
        "growth_multiple": 3, "over_months": 12,
        "p95_latency_ms": 180, "utilization_pct": 55,
        "queueing": {"servers": 16, "arrival_rps": 500, "service_time_ms": 20}
    })
}

#[test]
fn the_multi_server_queue_governs_saturation_and_its_crossing_orders_capacity() {
    let (f, markdown) = forecast(two_queues());
    let l = f.latency.as_ref().unwrap();
    let q = f.queueing.as_ref().unwrap();
    assert_eq!(l.saturation_governed_by.as_deref(), Some("queueing"));
    assert_eq!(q.saturation_governed_by, None);
    let saturation = q.months_to_saturation.unwrap();
    // 62.5% today, growing 3^(1/12): ln(100 / 62.5) / ln(3^(1/12)) = 12 ln 1.6 / ln 3.
    close(
        Some(saturation),
        12.0 * 1.6f64.ln() / 3f64.ln(),
        "saturation",
    );
    close(q.order_by_month, saturation - 3.0, "the queue's order-by");
    let order = f.order_capacity_by.as_ref().expect("an order-by month");
    assert_eq!(order.subject, "queueing");
    close(Some(order.month), saturation - 3.0, "the answer's order-by");
    assert!(order.month < l.order_by_month.unwrap(), "2.1 before 2.6");
    assert!(
        markdown.contains("**Order capacity by month 2.1**"),
        "{markdown}"
    );
    assert!(
        markdown.contains("Which model governs saturation"),
        "{markdown}"
    );
    // The 75% the queue is held to is the knowledge base's planning target (the queueing
    // knee), not a target the caller set: the text says whose it is.
    assert!(
        markdown.contains("passes the 75% planning target"),
        "{markdown}"
    );
    assert!(
        f.summary.contains("Order capacity by month 2.1"),
        "{}",
        f.summary
    );
    assert!(
        f.sources
            .iter()
            .any(|s| s == "knowledge://growth-models#which-queueing-model-governs"),
        "{:?}",
        f.sources
    );
}

/// (what it shows, arguments, the subject the answer orders for, or none)
type OrderCase = (&'static str, Value, Option<&'static str>);

#[test]
fn the_order_by_month_is_the_earliest_governing_crossing() {
    let queue = json!({"servers": 16, "arrival_rps": 500, "service_time_ms": 20});
    let big_queue = json!({"servers": 64, "arrival_rps": 500, "service_time_ms": 20});
    #[rustfmt::skip]
    let cases: Vec<OrderCase> = vec![
        ("the queue alone", json!({"monthly_growth_pct": 10, "queueing": queue}), Some("queueing")),
        ("the p95 alone", json!({"monthly_growth_pct": 10, "p95_latency_ms": 180, "utilization_pct": 55}), Some("p95_latency_ms")),
        ("a queue with room: the p95's critical line comes first",
            json!({"monthly_growth_pct": 10, "p95_latency_ms": 180, "utilization_pct": 55, "queueing": big_queue}), Some("p95_latency_ms")),
        ("a CPU that turns critical before either",
            json!({"monthly_growth_pct": 10, "db_cpu_pct": 80, "p95_latency_ms": 180, "utilization_pct": 55, "queueing": queue}), Some("db_cpu_pct")),
        ("a falling load orders nothing, whatever the models",
            json!({"monthly_growth_pct": -5, "db_cpu_pct": 90, "p95_latency_ms": 1500, "utilization_pct": 80, "queueing": queue}), None),
    ];
    for (case, args, subject) in cases {
        let (f, markdown) = forecast(args);
        let order = f.order_capacity_by.as_ref();
        assert_eq!(order.map(|o| o.subject.as_str()), subject, "{case}");
        // The answer's month is the smallest of every order-by month that counts.
        let governing_queue = f
            .queueing
            .iter()
            .filter(|q| q.saturation_governed_by.is_none())
            .filter_map(|q| q.order_by_month);
        let every = f
            .resources
            .iter()
            .filter_map(|r| r.order_by_month)
            .chain(f.latency.iter().filter_map(|l| l.order_by_month))
            .chain(governing_queue)
            .reduce(f64::min);
        assert_eq!(order.map(|o| o.month), every, "{case}");
        assert_eq!(
            markdown.contains("**Order capacity by"),
            order.is_some(),
            "{case}"
        );
    }
}

// ------------------------------------------------ point 4: the cache against the diagnosis line

#[test]
fn a_cache_already_below_the_diagnosis_line_is_said_to_be_below_it_not_to_fall() {
    // (what it shows, cache, already below)
    let cases = [
        (
            "37% today: already below",
            json!({"cache_items": 200000, "catalog_items": 5000000, "zipf_alpha": 0.8, "policy": "lru"}),
            true,
        ),
        (
            "92% today: falls below later, as the catalog grows",
            json!({"cache_items": 300000, "catalog_items": 1000000, "zipf_alpha": 1.0, "policy": "static"}),
            false,
        ),
    ];
    for (case, cache, already) in cases {
        let (f, markdown) = forecast(json!({"monthly_growth_pct": 10, "cache": cache}));
        let c = f.cache.as_ref().unwrap();
        assert_eq!(c.threshold_finding, "low_cache_hit_rate", "{case}");
        assert_eq!(c.hit_rate_pct < c.threshold_pct, already, "{case}");
        let event = f
            .timeline
            .iter()
            .find(|e| e.subject == "cache")
            .unwrap_or_else(|| panic!("{case}: no cache event in {:?}", f.timeline));
        if already {
            assert_eq!(c.months_below_threshold, Some(0.0), "{case}");
            assert!(
                event.event.contains("already below"),
                "{case}: {}",
                event.event
            );
            assert!(!f.summary.contains("falls below"), "{case}: {}", f.summary);
            assert!(!markdown.contains("falls below 80% now"), "{case}");
        } else {
            assert!(c.months_below_threshold.unwrap() > 0.0, "{case}");
            assert!(
                event.event.contains("falls below"),
                "{case}: {}",
                event.event
            );
        }
        assert!(
            event.event.contains("low_cache_hit_rate"),
            "{case}: {}",
            event.event
        );
    }
}

// ------------------------------------------------ point 5: a falling load is not an order

/// (what it shows, monthly rate, db_cpu_pct, status, months back at 85, months back at 60,
/// back before the lead time, order_by_month)
type Recovers = (
    &'static str,
    f64,
    f64,
    Status,
    Option<f64>,
    Option<f64>,
    Option<bool>,
    Option<f64>,
);

#[test]
fn a_shrinking_load_recovers_with_no_order_and_its_neighbours_do_not() {
    let ln = f64::ln;
    #[rustfmt::skip]
    let cases: Vec<Recovers> = vec![
        ("the review's case: back at 85 in 1.1 months, before any capacity",
            -5.0, 90.0, Status::CriticalNow, Some(ln(85.0 / 90.0) / ln(0.95)), Some(ln(60.0 / 90.0) / ln(0.95)), Some(true), None),
        ("back after the lead time: still no order, the load falls",
            -1.0, 90.0, Status::CriticalNow, Some(ln(85.0 / 90.0) / ln(0.99)), Some(ln(60.0 / 90.0) / ln(0.99)), Some(false), None),
        // 3.005 months: just after a 3-month lead time.
        ("past the warning line only", -5.0, 70.0, Status::WarningNow, None, Some(ln(60.0 / 70.0) / ln(0.95)), Some(false), None),
        ("past the warning line only, falling faster", -10.0, 70.0, Status::WarningNow, None, Some(ln(60.0 / 70.0) / ln(0.9)), Some(true), None),
        ("below every line: nothing to do", -5.0, 50.0, Status::Never, None, None, None, None),
        ("flat above critical: no recovery, the order is now", 0.0, 90.0, Status::CriticalNow, None, None, None, Some(0.0)),
        ("flat in the warning band: never critical, no order", 0.0, 70.0, Status::WarningNow, None, None, None, None),
        ("growing above critical: order now", 10.0, 90.0, Status::CriticalNow, None, None, None, Some(0.0)),
    ];
    for (case, rate, value, status, back_critical, back_warning, in_time, order) in cases {
        let (f, markdown) = forecast(json!({"monthly_growth_pct": rate, "db_cpu_pct": value}));
        let r = resource(&f, "db_cpu_pct");
        assert_eq!(r.status, status, "{case}");
        assert_eq!(r.order_by_month, order, "{case}");
        match &r.recovery {
            Some(recovery) => {
                assert_eq!(
                    recovery.months_below_critical.is_some(),
                    back_critical.is_some(),
                    "{case}"
                );
                if let Some(m) = back_critical {
                    close(recovery.months_below_critical, m, case);
                }
                close(recovery.months_below_warning, back_warning.unwrap(), case);
                assert_eq!(Some(recovery.before_lead_time), in_time, "{case}");
                let fix = recovery.meanwhile.as_deref().expect("the finding's fix");
                assert!(fix.contains("indexes"), "{case}: {fix}");
                // It leads the answer, and no order is given.
                let lead = format!("db_cpu_pct ({value} now) recovers");
                assert!(f.summary.starts_with(&lead), "{case}: {}", f.summary);
                assert!(
                    f.summary.contains("No capacity to order"),
                    "{case}: {}",
                    f.summary
                );
                assert!(!markdown.contains("Order capacity"), "{case}");
                assert!(f.order_capacity_by.is_none(), "{case}");
                // The working is the compounding formula, shown.
                let working = f
                    .workings
                    .iter()
                    .find(|w| w.quantity == "resources.db_cpu_pct.recovery.months_below_warning")
                    .unwrap_or_else(|| panic!("{case}: no working"));
                assert!(
                    working.formula.contains("ln(threshold / current)"),
                    "{case}"
                );
                assert!(
                    f.sources
                        .iter()
                        .any(|s| s == "knowledge://growth-models#falling-load"),
                    "{case}"
                );
            }
            None => {
                assert_eq!(back_warning, None, "{case}: a recovery was expected");
                assert!(!f.summary.contains("recovers"), "{case}: {}", f.summary);
                assert_eq!(
                    markdown.contains("**Order capacity by now**"),
                    order == Some(0.0),
                    "{case}"
                );
            }
        }
    }
}

#[test]
fn every_load_driven_metric_and_a_given_resource_recover_alike() {
    for metric in METRICS {
        let (warning, critical) = lines(metric);
        let value = critical.unwrap_or(warning) + 5.0;
        let (f, _) = forecast(json!({"monthly_growth_pct": -5, metric: value}));
        let r = resource(&f, metric);
        let recovery = r.recovery.as_ref().unwrap_or_else(|| panic!("{metric}"));
        close(
            recovery.months_below_warning,
            (warning / value).ln() / 0.95f64.ln(),
            metric,
        );
        assert_eq!(r.order_by_month, None, "{metric}");
        assert!(
            recovery.meanwhile.is_some(),
            "{metric}: the finding's immediate fix"
        );
    }
    // A disk shrinking on its own while the load grows: it recovers, with no finding's fix.
    let (f, _) = forecast(json!({
        "monthly_growth_pct": 10,
        "resources": [{"name": "disk_used_pct", "current": 95, "warning": 80, "critical": 90, "monthly_growth_pct": -5}]
    }));
    let disk = resource(&f, "disk_used_pct");
    assert_eq!(disk.order_by_month, None);
    let recovery = disk.recovery.as_ref().expect("the disk recovers");
    close(
        recovery.months_below_critical,
        (90.0f64 / 95.0).ln() / 0.95f64.ln(),
        "disk",
    );
    assert_eq!(recovery.meanwhile, None);
}

#[test]
fn a_recovering_metric_beside_a_growing_one_orders_for_the_growing_one_only() {
    let (f, markdown) = forecast(json!({
        "monthly_growth_pct": -5, "db_cpu_pct": 90,
        "resources": [{"name": "disk_used_pct", "current": 50, "warning": 80, "critical": 90, "monthly_growth_pct": 4}]
    }));
    assert!(resource(&f, "db_cpu_pct").recovery.is_some());
    let order = f
        .order_capacity_by
        .as_ref()
        .expect("the disk still needs an order");
    assert_eq!(order.subject, "disk_used_pct");
    // ln(90 / 50) / ln 1.04 − 3
    close(
        Some(order.month),
        (90.0f64 / 50.0).ln() / 1.04f64.ln() - 3.0,
        "disk",
    );
    assert_eq!(
        f.first_to_break.as_ref().map(|b| b.name.as_str()),
        Some("disk_used_pct")
    );
    assert!(
        f.summary.starts_with("db_cpu_pct (90 now) recovers"),
        "{}",
        f.summary
    );
    assert!(!markdown.contains("nothing to order"), "{markdown}");
    assert!(
        markdown.contains("**Order capacity by month 12.0** (for `disk_used_pct`"),
        "{markdown}"
    );
    assert!(markdown.contains("Load falls 5% a month"), "{markdown}");
}

/// (what it shows, rate, p95, months back at 1000 ms, months back at 200 ms, order_by_month)
type LatencyRecovers = (&'static str, f64, f64, Option<f64>, Option<f64>, bool);

#[test]
fn a_p95_past_its_line_recovers_as_load_falls_by_the_same_m_m_1() {
    // At 80% utilization the service time is p95 × 0.2; the p95 is back at a line P at the
    // load multiple (1 − p95 × 0.2 / P) / 0.8, reached after ln(multiple) / ln(0.95) months.
    let back = |p95: f64, line: f64| ((1.0 - p95 * 0.2 / line) / 0.8).ln() / 0.95f64.ln();
    #[rustfmt::skip]
    let cases: Vec<LatencyRecovers> = vec![
        ("warning only: back at 200 ms", -5.0, 300.0, None, Some(back(300.0, 200.0)), false),
        ("critical: back at 1000 ms; its 300 ms service time never gets under 200", -5.0, 1500.0, Some(back(1500.0, 1000.0)), None, false),
        ("growing: no recovery, an order", 5.0, 300.0, None, None, true),
    ];
    for (case, rate, p95, critical, warning, order) in cases {
        let (f, _) = forecast(
            json!({"monthly_growth_pct": rate, "p95_latency_ms": p95, "utilization_pct": 80}),
        );
        let l = f.latency.as_ref().unwrap();
        assert_eq!(l.order_by_month.is_some(), order, "{case}");
        if rate > 0.0 {
            assert!(l.recovery.is_none(), "{case}");
            continue;
        }
        let recovery = l.recovery.as_ref().expect("a recovery");
        assert_eq!(
            recovery.months_below_critical.is_some(),
            critical.is_some(),
            "{case}"
        );
        if let Some(m) = critical {
            close(recovery.months_below_critical, m, case);
        }
        assert_eq!(
            recovery.months_below_warning.is_some(),
            warning.is_some(),
            "{case}"
        );
        if let Some(m) = warning {
            close(recovery.months_below_warning, m, case);
        }
        assert!(
            recovery
                .meanwhile
                .as_deref()
                .unwrap()
                .contains("Trace slow requests"),
            "{case}"
        );
        assert!(
            f.summary.starts_with("p95_latency_ms ("),
            "{case}: {}",
            f.summary
        );
        assert!(f.first_to_break.is_none(), "{case}");
        assert!(f.order_capacity_by.is_none(), "{case}");
    }
}

// ------------------------------------------------ point 5: the report's roadmap agrees

#[test]
fn the_roadmap_plans_no_step_for_a_resource_that_recovers() {
    // (what it shows, growth, a step expected)
    let cases = [
        ("falling 5%: back before the lead time", -5.0, false),
        (
            "falling 1%: back after the lead time, still no step",
            -1.0,
            false,
        ),
        ("flat: critical stays, a step", 0.0, true),
        ("growing 5%: a step", 5.0, true),
    ];
    for (case, rate, step) in cases {
        let (r, markdown) = call(
            "scaling_report",
            &json!({"system": {"db_cpu_pct": 90, "users": 5000}, "growth": {"monthly_growth_pct": rate}}),
        );
        let steps = r["roadmap"]
            .as_array()
            .unwrap_or_else(|| panic!("{case}: {r}"));
        assert_eq!(!steps.is_empty(), step, "{case}: {steps:?}");
        if !step {
            assert_eq!(r["target_stage"], r["current_stage"], "{case}");
            assert!(markdown.contains("the load falls"), "{case}");
            assert!(
                r["summary"]
                    .as_str()
                    .unwrap()
                    .starts_with("No step needed: the load falls"),
                "{case}"
            );
        }
    }
}

// ------------------------------------------------ the rules are rows, not Rust

/// A `--knowledge-dir` holding `growth-models.md` as `edit` rewrites the embedded one.
fn with_growth_models(name: &str, edit: impl Fn(&str) -> String) -> Result<Advisor, String> {
    let dir = std::env::temp_dir().join(format!("scale-advisor-fr-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let embedded = knowledge::Knowledge::embedded().unwrap();
    let text = embedded
        .document("growth-models")
        .unwrap()
        .text()
        .to_string();
    std::fs::write(dir.join("growth-models.md"), edit(&text)).unwrap();
    let advisor = knowledge::Knowledge::with_dir(&dir)
        .and_then(Advisor::new)
        .map_err(|e| e.to_string());
    let _ = std::fs::remove_dir_all(&dir);
    advisor
}

#[test]
fn whether_a_falling_load_orders_is_the_falling_load_row() {
    let row = |text: &str| {
        text.lines()
            .find(|l| l.starts_with("| falling | none |"))
            .expect("the falling row")
            .to_string()
    };
    // The row says `before_critical`: the same call now orders, from the data alone.
    let ordering = with_growth_models("orders", |text| {
        text.replace(
            &row(text),
            &row(text).replace("| none |", "| before_critical |"),
        )
    })
    .expect("the edited document loads");
    let args = json!({"monthly_growth_pct": -5, "db_cpu_pct": 90});
    let out = ordering
        .call("forecast_growth", args.as_object().unwrap())
        .unwrap();
    assert_eq!(out.structured["resources"][0]["order_by_month"], json!(0.0));
    let (f, _) = forecast(args);
    assert_eq!(resource(&f, "db_cpu_pct").order_by_month, None);
    // Without the row, start-up refuses the file and says what is missing.
    let error = with_growth_models("missing", |text| text.replace(&(row(text) + "\n"), ""))
        .err()
        .expect("a file without the falling row is refused");
    assert!(error.contains("falling"), "{error}");
}

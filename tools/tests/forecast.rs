//! `forecast_growth` in process: table tests whose expected values are computed by hand from
//! the formulas of `growth-models` (the arithmetic is written beside each), the thresholds
//! read from the same `monitoring` rows as `diagnose_bottleneck`, and invariants over
//! generated inputs (months monotone in growth and threshold, 0 past a threshold, never with
//! shrinking load, finite results, the same answer twice).

use std::sync::LazyLock;

use proptest::prelude::*;
use serde_json::{Map, Value, json};
use tools::forecast_growth::{Forecast, ForecastArgs, ResourceForecast, Status};
use tools::{Advisor, CallError, ToolOutput};

static ADVISOR: LazyLock<Advisor> =
    LazyLock::new(|| Advisor::embedded().expect("the embedded knowledge base loads"));

fn object(value: Value) -> Map<String, Value> {
    value.as_object().cloned().unwrap_or_default()
}

fn call(args: Value) -> Result<ToolOutput, CallError> {
    ADVISOR.call("forecast_growth", &object(args))
}

/// The forecast in `detail: full`, which reads back into its type whole (concise leaves out
/// the fields that restate others: each event's subject, each resource's finding).
fn forecast(mut args: Value) -> Forecast {
    if let Some(map) = args.as_object_mut() {
        map.entry("detail").or_insert(Value::from("full"));
    }
    let output = call(args.clone()).unwrap_or_else(|e| panic!("{args} was refused: {e}"));
    serde_json::from_value(output.structured).expect("the result reads back as a Forecast")
}

fn refusal(args: Value) -> (String, String) {
    match call(args.clone()) {
        Err(CallError::Arguments(e)) => (e.field.clone(), e.to_string()),
        other => panic!("{args} was not refused: {other:?}"),
    }
}

fn resource<'a>(f: &'a Forecast, name: &str) -> &'a ResourceForecast {
    f.resources
        .iter()
        .find(|r| r.name == name)
        .unwrap_or_else(|| panic!("no resource {name} in {:?}", f.resources))
}

fn close(got: Option<f64>, want: f64) {
    let got = got.unwrap_or_else(|| panic!("expected {want}, got null"));
    assert!(
        (got - want).abs() <= 1e-9 * want.abs().max(1.0),
        "got {got}, expected {want}"
    );
}

#[test]
fn compound_growth_by_hand() {
    let f = forecast(json!({
        "monthly_growth_pct": 10, "db_cpu_pct": 40, "app_cpu_pct": 35, "pool_utilization_pct": 50,
        "db_write_load_pct": 95
    }));
    close(Some(f.monthly_growth_pct), 10.0);
    // ln 2 / ln 1.1 = 0.693147 / 0.0953102 = 7.272541
    close(f.doubling_months, 7.272_540_897_341_713);
    assert_eq!(f.horizon_months, 24);
    close(Some(f.lead_time_months), 3.0);
    let cpu = resource(&f, "db_cpu_pct");
    // db_cpu_saturation: warning above 60, critical above 85 (monitoring#diagnostic-findings).
    assert_eq!((cpu.warning, cpu.critical), (60.0, Some(85.0)));
    // 60 / 40 = 1.5; ln 1.5 / ln 1.1 = 0.405465 / 0.0953102 = 4.254164
    close(cpu.break_multiple, 1.5);
    close(cpu.months_to_warning, 4.254_163_709_905_89);
    // ln(85 / 40) / ln 1.1 = 0.753772 / 0.0953102 = 7.908618; minus 3 months of lead time
    close(cpu.months_to_critical, 7.908_617_987_332_513);
    close(cpu.order_by_month, 4.908_617_987_332_513);
    assert_eq!(cpu.status, Status::Ok);
    assert_eq!(cpu.finding.as_deref(), Some("db_cpu_saturation"));
    // app_cpu_saturation: 70 / 85. ln(70 / 35) / ln 1.1 = ln 2 / ln 1.1 = 7.272541
    close(
        resource(&f, "app_cpu_pct").months_to_warning,
        7.272_540_897_341_713,
    );
    // pool_exhaustion has no critical line, so no order-by month: ln 1.6 / ln 1.1 =
    // 0.470004 / 0.0953102 = 4.931306 to the warning line.
    let pool = resource(&f, "pool_utilization_pct");
    assert_eq!(pool.critical, None);
    assert_eq!(pool.months_to_critical, None);
    close(pool.months_to_warning, 4.931_305_661_270_068);
    assert_eq!(pool.order_by_month, None);
    // Already past both lines: 0 months, critical now.
    let writes = resource(&f, "db_write_load_pct");
    assert_eq!(writes.months_to_warning, Some(0.0));
    assert_eq!(writes.months_to_critical, Some(0.0));
    assert_eq!(writes.order_by_month, Some(0.0));
    assert_eq!(writes.status, Status::CriticalNow);
    // Sorted by months_to_warning: the write load (0) first, then db CPU, pool, app CPU.
    let order: Vec<&str> = f.resources.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(
        order,
        [
            "db_write_load_pct",
            "db_cpu_pct",
            "pool_utilization_pct",
            "app_cpu_pct"
        ]
    );
    let first = f.first_to_break.as_ref().expect("something breaks");
    assert_eq!(first.name, "db_write_load_pct");
    // The working shows the formula of growth-models#formulas with the numbers substituted.
    let w = f
        .workings
        .iter()
        .find(|w| w.quantity == "resources.db_cpu_pct.months_to_warning")
        .expect("a working");
    assert_eq!(
        w.formula,
        "months_to_threshold = ln(threshold / current) / ln(1 + monthly_growth_pct / 100)"
    );
    assert_eq!(w.substituted, "ln(60 / 40) / ln(1 + 10 / 100)");
    assert!(f.summary.len() <= 400 && f.summary.starts_with("First to break: db_write_load_pct"));
}

#[test]
fn a_growth_multiple_becomes_a_monthly_rate() {
    // 10× in 12 months: 10^(1/12) − 1 = 0.2115277 → 21.152766% a month.
    let f = forecast(json!({"growth_multiple": 10, "over_months": 12, "db_cpu_pct": 40}));
    close(Some(f.monthly_growth_pct), 21.152_765_862_858_846);
    // ln 1.5 / (ln 10 / 12) = 0.405465 / 0.191882 = 2.113095
    close(
        resource(&f, "db_cpu_pct").months_to_warning,
        2.113_095_108_668_175,
    );
    let w = &f.workings[0];
    assert_eq!(w.quantity, "monthly_growth_pct");
    assert_eq!(w.substituted, "(10 ^ (1 / 12) − 1) × 100");
}

#[test]
fn latency_queueing_stages_and_cost_by_hand() {
    let f = forecast(json!({
        "monthly_growth_pct": 10, "p95_latency_ms": 150, "utilization_pct": 50,
        "queueing": {"servers": 10, "arrival_rps": 80, "service_time_ms": 100},
        "users": 50000, "current_monthly_cost_usd": 2000
    }));
    let l = f.latency.as_ref().expect("latency");
    // high_latency: 200 / 1000 ms. Multiple (1 − 150 × 0.5 / 200) / 0.5 = 1.25, ln 1.25 / ln 1.1
    // = 2.341235; (1 − 75 / 1000) / 0.5 = 1.85, ln 1.85 / ln 1.1 = 6.454564; saturation at the
    // multiple 1 / 0.5 = 2, ln 2 / ln 1.1 = 7.272541.
    assert_eq!((l.warning_ms, l.critical_ms), (200.0, Some(1000.0)));
    close(l.months_to_warning, 2.341_235_236_071_646_4);
    close(l.months_to_critical, 6.454_563_828_892_472);
    close(l.months_to_saturation, 7.272_540_897_341_713);
    assert_eq!(l.p95_at_horizon_ms, None, "saturated before month 24");
    let q = f.queueing.as_ref().expect("queueing");
    // a = 80 × 0.1 = 8 Erlangs on 10 servers: ρ = 80%, B = 0.121661, C = 10 B / (10 − 8 (1 − B))
    // = 0.409180, Wq = 0.409180 × 100 / (10 − 8) = 20.459008 ms, R = 120.459008 ms.
    close(Some(q.utilization_pct), 80.0);
    close(Some(q.probability_of_waiting), 0.409_180_150_796_443_5);
    close(Some(q.mean_wait_ms), 20.459_007_539_822_174);
    close(Some(q.mean_response_ms), 120.459_007_539_822_18);
    // Target 75% (growth-models#defaults) already passed; saturation at ln(100 / 80) / ln 1.1.
    assert_eq!(q.months_to_target, Some(0.0));
    close(q.months_to_saturation, 2.341_235_236_071_646_4);
    // ceil(80 × 0.1 / 0.75) = ceil(10.67) = 11 today; × 1.1^24 = 9.849733: ceil(105.06) = 106.
    assert_eq!(q.servers_needed_now, Some(11));
    assert_eq!(q.servers_needed_at_horizon, Some(106));
    // 50000 users (stage 2) reach 100000 (stage 3) after ln 2 / ln 1.1 = 7.272541 months and
    // 1000000 after ln 20 / ln 1.1 = 31.4 months, beyond the horizon.
    assert_eq!(f.stages.len(), 1);
    assert_eq!(f.stages[0].stage.number, 3);
    close(Some(f.stages[0].month), 7.272_540_897_341_713);
    assert!(f.stages[0].add.contains(&"read_replicas".to_string()));
    // 2000 × 1.1^24 = 2000 × 9.849733 = 19699.47
    let cost = f.cost.as_ref().expect("cost");
    close(Some(cost.at_horizon_usd), 2000.0 * 1.1_f64.powi(24));
    assert!(cost.band_at_horizon.is_some());
    // The timeline is in time order and holds each crossing.
    assert!(f.timeline.windows(2).all(|w| w[0].month <= w[1].month));
    assert!(f.timeline.iter().any(|e| e.subject == "users"));
}

#[test]
fn scalability_given_and_fitted() {
    // σ 0.05, κ 0.001, λ 1000: N* = sqrt(0.95 / 0.001) = 30.822070; X(31) = 31000 / (1 + 1.5 +
    // 0.93) = 9037.900875 (X(30) = 9036.144578). 5500 per second needs 8 nodes; it passes the
    // peak after ln(9037.900875 / 5500) / ln 1.1 = 5.210.
    let f = forecast(json!({"monthly_growth_pct": 10,
        "scalability": {"sigma": 0.05, "kappa": 0.001, "lambda": 1000, "current_rps": 5500}}));
    let s = f.scalability.as_ref().expect("scalability");
    close(s.peak_nodes, 30.822_070_014_844_88);
    close(s.max_throughput_rps, 9_037.900_874_635_568);
    assert_eq!(s.nodes_needed, Some(8));
    close(
        s.months_to_ceiling,
        (9_037.900_874_635_568_f64 / 5500.0).ln() / 1.1_f64.ln(),
    );
    assert_eq!(
        s.nodes_needed_at_horizon, None,
        "beyond the peak by month 24"
    );
    // Points generated from σ 0.1, κ 0.002, λ 200 give back those coefficients.
    let x = |n: f64| 200.0 * n / (1.0 + 0.1 * (n - 1.0) + 0.002 * n * (n - 1.0));
    let measurements: Vec<Value> = [1.0, 4.0, 8.0, 16.0]
        .iter()
        .map(|&n| json!({"nodes": n as u64, "throughput": x(n)}))
        .collect();
    let f = forecast(json!({"monthly_growth_pct": 5,
        "scalability": {"measurements": measurements, "current_rps": 600}}));
    let s = f.scalability.as_ref().expect("scalability");
    assert!(s.fitted);
    close(Some(s.sigma), 0.1);
    close(Some(s.kappa), 0.002);
    close(Some(s.lambda), 200.0);
}

#[test]
fn cache_forecast_falls_below_the_hit_rate_line() {
    let f = forecast(json!({"monthly_growth_pct": 10,
        "cache": {"cache_items": 100000, "catalog_items": 1000000, "zipf_alpha": 0.9, "policy": "lru"}}));
    let c = f.cache.as_ref().expect("cache");
    assert_eq!(c.threshold_pct, 80.0, "low_cache_hit_rate: below 80");
    assert!(c.hit_rate_pct > 0.0 && c.hit_rate_pct < 100.0);
    assert!(c.hit_rate_error_bound_pct < 1e-4);
    assert!(c.hit_rate_at_horizon_pct < c.hit_rate_pct);
    if c.hit_rate_pct >= 80.0 {
        let m = c
            .months_below_threshold
            .expect("the catalog grows 9.85× by month 24");
        assert!(m > 0.0 && m <= 24.0);
    }
    let needed = c.cache_items_needed_at_horizon.expect("a size");
    assert!(needed > 100000.0 * 0.9);
    // Static keeps the most popular items: it always beats LRU at the same size.
    let s = forecast(json!({"monthly_growth_pct": 10,
        "cache": {"cache_items": 100000, "catalog_items": 1000000, "zipf_alpha": 0.9, "policy": "static"}}));
    assert!(s.cache.as_ref().expect("cache").hit_rate_pct > c.hit_rate_pct);
}

#[test]
fn refusals_name_the_field_and_what_is_accepted() {
    let cases = [
        (
            json!({"monthly_growth_pct": 10, "growth_multiple": 3, "over_months": 12, "db_cpu_pct": 50}),
            "growth_multiple",
        ),
        (json!({"db_cpu_pct": 50}), "monthly_growth_pct"),
        (
            json!({"monthly_growth_pct": 10, "over_months": 12, "db_cpu_pct": 50}),
            "over_months",
        ),
        (
            json!({"growth_multiple": 3, "db_cpu_pct": 50}),
            "over_months",
        ),
        (
            json!({"monthly_growth_pct": 10, "p95_latency_ms": 100, "utilization_pct": 100}),
            "utilization_pct",
        ),
        (
            json!({"monthly_growth_pct": 10, "scalability": {"sigma": 1, "kappa": 0.01, "lambda": 10, "current_rps": 5}}),
            "scalability.sigma",
        ),
        (
            json!({"monthly_growth_pct": 10, "scalability": {"sigma": 0.1, "kappa": 1.0, "lambda": 10, "current_rps": 5}}),
            "scalability.kappa",
        ),
        (
            json!({"monthly_growth_pct": 10, "scalability": {"measurements": [{"nodes": 2, "throughput": 10}, {"nodes": 3, "throughput": 14}, {"nodes": 4, "throughput": 17}], "current_rps": 5}}),
            "scalability.measurements",
        ),
        (
            json!({"monthly_growth_pct": 10, "scalability": {"measurements": [{"nodes": 1, "throughput": 10}, {"nodes": 3, "throughput": 14}], "current_rps": 5}}),
            "scalability.measurements",
        ),
        (json!({"monthly_growth_pct": 10}), "arguments"),
        (
            json!({"monthly_growth_pct": 10, "queueing": {"servers": 2, "arrival_rps": 30, "service_time_ms": 100}}),
            "queueing.arrival_rps",
        ),
        (
            json!({"monthly_growth_pct": 10, "resources": [{"name": "disk_gb", "current": 10, "warning": 80, "critical": 50}]}),
            "resources[0].critical",
        ),
        (
            json!({"monthly_growth_pct": 1e6, "db_cpu_pct": 50, "horizon_months": 120}),
            "monthly_growth_pct",
        ),
        (
            json!({"monthly_growth_pct": -100, "db_cpu_pct": 50}),
            "monthly_growth_pct",
        ),
    ];
    for (args, field) in cases {
        let (got, text) = refusal(args.clone());
        assert_eq!(got, field, "{args}: {text}");
        assert!(text.contains("expected"), "{text}");
    }
}

#[test]
fn markdown_answers_first_and_charts_the_metrics() {
    let output = call(
        json!({"monthly_growth_pct": 10, "db_cpu_pct": 40, "app_cpu_pct": 35,
        "resources": [{"name": "disk_gb", "current": 400, "warning": 800, "critical": 950}]}),
    )
    .expect("a forecast");
    let md = &output.markdown;
    assert!(
        md.starts_with("## Forecast: `db_cpu_pct` breaks first"),
        "{md}"
    );
    assert!(md.contains("**Order capacity by month 4.9**"), "{md}");
    assert!(md.contains("| `disk_gb` | 400 | 800 | 950 |"), "{md}");
    assert!(md.contains("### Timeline"));
    assert!(md.contains("```mermaid\nxychart-beta"));
    assert!(md.contains("x-axis \"month\" [0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24]"));
    assert!(
        md.contains("`knowledge://monitoring` #diagnostic-findings"),
        "{md}"
    );
    assert!(md.contains("- resources.db_cpu_pct.months_to_warning: `months_to_threshold = ln(threshold / current) / ln(1 + monthly_growth_pct / 100)` = ln(60 / 40) / ln(1 + 10 / 100) = **4.25416**"), "{md}");
    // Every cited source resolves.
    let f: Forecast = serde_json::from_value(output.structured).expect("reads back");
    for uri in &f.sources {
        assert!(
            ADVISOR.knowledge().resolve(uri).is_some(),
            "{uri} does not resolve"
        );
    }
}

#[test]
fn detail_full_adds_every_month() {
    let concise = forecast(
        json!({"monthly_growth_pct": 5, "db_cpu_pct": 30, "horizon_months": 36, "detail": "concise"}),
    );
    assert!(concise.by_month.is_none());
    let months: Vec<u32> = concise.checkpoints.iter().map(|c| c.month).collect();
    assert_eq!(months, [0, 3, 6, 12, 24, 36]);
    let full = forecast(
        json!({"monthly_growth_pct": 5, "db_cpu_pct": 30, "horizon_months": 36, "detail": "full"}),
    );
    assert_eq!(full.by_month.as_ref().map(Vec::len), Some(37));
}

fn months_to_warning(growth: f64, current: f64, warning: f64) -> Option<f64> {
    let f = forecast(json!({"monthly_growth_pct": growth,
        "resources": [{"name": "disk_gb", "current": current, "warning": warning}]}));
    resource(&f, "disk_gb").months_to_warning
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn months_fall_as_growth_rises(g in 0.1..200.0f64, extra in 0.1..100.0f64, current in 1.0..50.0f64) {
        let slow = months_to_warning(g, current, 80.0).expect("reached");
        let fast = months_to_warning(g + extra, current, 80.0).expect("reached");
        prop_assert!(fast <= slow, "{fast} > {slow}");
    }

    #[test]
    fn months_rise_with_the_threshold(g in 0.1..200.0f64, current in 1.0..50.0f64, t in 51.0..1e6f64, extra in 0.0..1e6f64) {
        let near = months_to_warning(g, current, t).expect("reached");
        let far = months_to_warning(g, current, t + extra).expect("reached");
        prop_assert!(near <= far, "{near} > {far}");
    }

    #[test]
    fn past_the_threshold_is_zero_and_shrinking_is_never(g in -99.0..200.0f64, warning in 1.0..100.0f64, over in 0.0..100.0f64, under in 0.01..0.99f64) {
        prop_assert_eq!(months_to_warning(g, warning + over, warning), Some(0.0));
        if g <= 0.0 {
            let f = forecast(json!({"monthly_growth_pct": g,
                "resources": [{"name": "disk_gb", "current": warning * under, "warning": warning}]}));
            prop_assert_eq!(resource(&f, "disk_gb").months_to_warning, None);
            prop_assert_eq!(resource(&f, "disk_gb").status, Status::Never);
        }
    }

}

proptest! {
    // Each case runs every model, the cache's Zipf sums included: fewer cases in a debug build.
    #![proptest_config(ProptestConfig::with_cases(16))]

    #[test]
    fn every_accepted_input_gives_finite_numbers(
        g in prop_oneof![-99.99..-1.0f64, -1.0..1.0f64, 1.0..1e4f64],
        cpu in 0.0..100.0f64,
        horizon in 1u32..=120,
        p95 in 1e-3..1e6f64,
        utilization in 0.0..99.999f64,
        servers in 1u64..200,
        load in 0.01..0.999f64,
        alpha in 0.05..3.0f64,
        catalog in 1u64..1_000_000,
        share in 0.0..1.0f64,
    ) {
        let cache = ((catalog as f64 * share) as u64).max(1);
        let args = json!({
            "monthly_growth_pct": g, "horizon_months": horizon, "db_cpu_pct": cpu, "users": 12345,
            "p95_latency_ms": p95, "utilization_pct": utilization,
            "queueing": {"servers": servers, "arrival_rps": load * servers as f64 * 10.0, "service_time_ms": 100},
            "cache": {"cache_items": cache, "catalog_items": catalog, "zipf_alpha": alpha, "policy": if share > 0.5 {"lru"} else {"static"}},
            "scalability": {"sigma": 0.03, "kappa": 0.0005, "lambda": 100, "current_rps": 900},
            "current_monthly_cost_usd": 1000
        });
        match call(args.clone()) {
            // The only refusal possible here: a growth too fast for the horizon.
            Err(CallError::Arguments(e)) => prop_assert_eq!(e.field, "monthly_growth_pct"),
            Err(e) => prop_assert!(false, "{e}"),
            Ok(output) => {
                // serde_json writes NaN and infinities as null, so look at the typed result:
                // its Debug form spells them `NaN` and `inf`.
                let typed: ForecastArgs = serde_json::from_value(args.clone()).expect("typed");
                let f = tools::forecast_growth::run(&ADVISOR, typed).expect("accepted");
                let shown = format!("{f:?}");
                for bad in ["NaN", ": inf", "(inf", ": -inf", "(-inf"] {
                    prop_assert!(!shown.contains(bad), "{args}: {bad} in {shown}");
                }
                let again = call(args).expect("accepted twice");
                prop_assert_eq!(again.structured, output.structured);
                prop_assert_eq!(again.markdown, output.markdown);
            }
        }
    }
}

#[test]
fn diagnose_bottleneck_gives_months_to_critical_and_headroom() {
    let out = ADVISOR
        .call(
            "diagnose_bottleneck",
            &object(
                json!({"db_cpu_pct": 70, "app_cpu_pct": 35, "pool_utilization_pct": 90,
                           "monthly_growth_pct": 10}),
            ),
        )
        .expect("a diagnosis");
    let d = &out.structured;
    let finding = |id: &str| {
        d["findings"]
            .as_array()
            .and_then(|f| f.iter().find(|f| f["id"] == id))
            .unwrap_or_else(|| panic!("no {id} in {d}"))
            .clone()
    };
    // db CPU 70 → 85: ln(85 / 70) / ln 1.1 = 0.194156 / 0.0953102 = 2.037101
    let cpu = finding("db_cpu_saturation")["months_to_critical"].as_f64();
    close(cpu, (85.0f64 / 70.0).ln() / 1.1f64.ln());
    // pool_exhaustion has no critical line: no months_to_critical.
    assert!(
        finding("pool_exhaustion")
            .get("months_to_critical")
            .is_none()
    );
    // app CPU has not fired: ln(70 / 35) / ln 1.1 = 7.272541 months of headroom.
    let headroom = d["headroom"].as_array().expect("headroom");
    assert_eq!(headroom.len(), 1, "{headroom:?}");
    assert_eq!(headroom[0]["metric"], "app_cpu_pct");
    close(
        headroom[0]["months_to_warning"].as_f64(),
        7.272_540_897_341_713,
    );
    assert!(
        out.markdown
            .contains("Headroom: `app_cpu_pct` warns in month 7.3")
    );
    // Without a growth rate, neither appears.
    let plain = ADVISOR
        .call("diagnose_bottleneck", &object(json!({"db_cpu_pct": 70})))
        .expect("a diagnosis");
    assert!(plain.structured.get("headroom").is_none());
}

#[test]
fn scaling_report_carries_the_forecast_into_migration_plan_and_cost_impact() {
    let out = ADVISOR
        .call(
            "scaling_report",
            &object(json!({
                "system": {"users": 60000, "has_cache": true, "db_cpu_pct": 52, "pool_utilization_pct": 58, "cache_hit_rate_pct": 88, "p95_latency_ms": 180},
                "growth": {"monthly_growth_pct": 9, "horizon_months": 24},
                "current_monthly_cost_usd": 1800,
                // The nested forecast whole, so that it reads back into its type.
                "detail": "full"
            })),
        )
        .expect("a report");
    let r = &out.structured;
    let f: Forecast = serde_json::from_value(r["forecast"].clone()).expect("a forecast");
    let first = f.first_to_break.as_ref().expect("something breaks");
    // db CPU 52 → 60: ln(60 / 52) / ln 1.09 = 0.143101 / 0.0861777 = 1.660535; pool 58 → 80:
    // ln(80 / 58) / ln 1.09 = 3.73: db CPU first.
    assert_eq!(first.name, "db_cpu_pct");
    close(
        first.months_to_warning,
        (60.0f64 / 52.0).ln() / 1.09f64.ln(),
    );
    let section = |title: &str| {
        r["sections"]
            .as_array()
            .and_then(|s| s.iter().find(|s| s["title"] == title))
            .and_then(|s| s["markdown"].as_str())
            .unwrap_or_default()
            .to_string()
    };
    // The report plans on the first crossing of any line (contract §10): the pool has no
    // critical line, so its warning counts: 58 → 80 at ln(80 / 58) / ln 1.09 = 0.321584 /
    // 0.0861777 = 3.73 months, before db CPU turns critical at ln(85 / 52) / ln 1.09 = 5.70.
    // A step in place takes the 3-month lead time: start at 3.73 − 3 = 0.73.
    for title in ["Migration Plan", "Cost Impact"] {
        let text = section(title);
        assert!(
            text.contains("the first crossing is `pool_utilization_pct` reaches its warning line (80) in month 3.7"),
            "{title}: {text}"
        );
        assert!(
            text.contains("starts month 0.7 and is done by month 3.7"),
            "{title}: {text}"
        );
    }
    // The diagnosis got the same growth rate.
    assert!(r["diagnosis"]["headroom"].is_array());
}

/// Found by `every_accepted_input_gives_finite_numbers`: a catalog grown past 2^53 items made
/// the static cache's size search step by one item forever (`n - 1 == n` in f64).
#[test]
fn a_catalog_grown_past_whole_numbers_still_answers() {
    for policy in ["static", "lru"] {
        let out = call(json!({
            "monthly_growth_pct": 9000, "horizon_months": 40,
            "cache": {"cache_items": 1000, "catalog_items": 999_999, "zipf_alpha": 0.3, "policy": policy}
        }))
        .expect("a forecast");
        let cache = &out.structured["cache"];
        assert!(cache["hit_rate_pct"].is_number(), "{cache}");
    }
}

//! `forecast_growth` through the real binary: every block of contract §5.9 (growth, resources,
//! first_to_break, latency, queueing, cache, scalability, stages, timeline, checkpoints,
//! summary, assumptions, workings, missing_inputs, sources that resolve) and every refusal it
//! lists, each naming the field and what is accepted.

use serde_json::{Value, json};

use crate::harness::Server;

fn number(result: &Value, pointer: &str) -> f64 {
    result
        .pointer(pointer)
        .and_then(Value::as_f64)
        .unwrap_or_else(|| panic!("no number at {pointer} in {result}"))
}

fn close(got: f64, want: f64) {
    assert!(
        (got - want).abs() <= 1e-6 * want.abs().max(1.0),
        "got {got}, expected {want}"
    );
}

#[test]
fn the_tool_is_listed_with_both_schemas() {
    let mut server = Server::start();
    let list = server.request("tools/list", json!({}));
    let tools = list["result"]["tools"].as_array().expect("a tool list");
    let tool = tools
        .iter()
        .find(|t| t["name"] == "forecast_growth")
        .expect("forecast_growth is listed");
    assert!(
        tool["description"]
            .as_str()
            .is_some_and(|d| d.contains("forecast"))
    );
    for field in [
        "monthly_growth_pct",
        "growth_multiple",
        "over_months",
        "db_cpu_pct",
        "cache",
        "scalability",
    ] {
        assert!(
            tool["inputSchema"]["properties"].get(field).is_some(),
            "no {field} in {}",
            tool["inputSchema"]
        );
    }
    for field in [
        "resources",
        "first_to_break",
        "timeline",
        "checkpoints",
        "summary",
        "missing_inputs",
        "workings",
    ] {
        let fields = crate::harness::result_fields("forecast_growth");
        assert!(fields.get(field).is_some(), "no {field} in {fields:?}");
    }
}

#[test]
fn every_block_of_the_forecast() {
    let mut server = Server::start();
    let result = server.call_ok(
        "forecast_growth",
        json!({
            "growth_multiple": 3, "over_months": 12, "horizon_months": 36, "lead_time_months": 2,
            "db_cpu_pct": 45, "app_cpu_pct": 30, "db_read_load_pct": 50, "db_write_load_pct": 20,
            "pool_utilization_pct": 40,
            "resources": [{"name": "disk_gb", "current": 600, "warning": 800, "critical": 950, "monthly_growth_pct": 4}],
            "users": 80000, "p95_latency_ms": 180, "utilization_pct": 40,
            "queueing": {"servers": 16, "arrival_rps": 500, "service_time_ms": 20},
            "cache": {"cache_items": 200000, "catalog_items": 5000000, "zipf_alpha": 0.8, "policy": "lru"},
            "scalability": {"measurements": [{"nodes": 1, "throughput": 1000}, {"nodes": 4, "throughput": 3500}, {"nodes": 8, "throughput": 6000}, {"nodes": 16, "throughput": 8500}], "current_rps": 2500},
            "current_monthly_cost_usd": 5000
        }),
    );
    // 3× in 12 months: 3^(1/12) − 1 = 9.5873% a month; doubling ln 2 / ln 1.095873 = 7.5708.
    let g = 3f64.powf(1.0 / 12.0) - 1.0;
    close(number(&result, "/monthly_growth_pct"), g * 100.0);
    close(number(&result, "/doubling_months"), 2f64.ln() / g.ln_1p());
    assert_eq!(result["horizon_months"], 36);
    // Every load-driven metric under its argument name, plus the caller's resource.
    let names: Vec<&str> = result["resources"]
        .as_array()
        .expect("resources")
        .iter()
        .filter_map(|r| r["name"].as_str())
        .collect();
    for name in [
        "db_cpu_pct",
        "app_cpu_pct",
        "db_read_load_pct",
        "db_write_load_pct",
        "pool_utilization_pct",
        "disk_gb",
    ] {
        assert!(names.contains(&name), "{name} missing from {names:?}");
    }
    // db CPU 45 → 60: ln(60/45) / ln(1 + g); order by ln(85/45)/ln(1+g) − 2.
    let cpu = result["resources"]
        .as_array()
        .and_then(|r| r.iter().find(|r| r["name"] == "db_cpu_pct"))
        .expect("db_cpu_pct")
        .clone();
    close(
        number(&cpu, "/months_to_warning"),
        (60.0f64 / 45.0).ln() / g.ln_1p(),
    );
    close(
        number(&cpu, "/order_by_month"),
        (85.0f64 / 45.0).ln() / g.ln_1p() - 2.0,
    );
    close(number(&cpu, "/break_multiple"), 60.0 / 45.0);
    // The disk follows its own 4%: ln(800/600) / ln 1.04 = 7.3349.
    let disk = result["resources"]
        .as_array()
        .and_then(|r| r.iter().find(|r| r["name"] == "disk_gb"))
        .expect("disk_gb")
        .clone();
    close(
        number(&disk, "/months_to_warning"),
        (800.0f64 / 600.0).ln() / 1.04f64.ln(),
    );
    // Sorted by months_to_warning.
    let months: Vec<f64> = result["resources"]
        .as_array()
        .expect("resources")
        .iter()
        .map(|r| r["months_to_warning"].as_f64().unwrap_or(f64::INFINITY))
        .collect();
    assert!(months.windows(2).all(|w| w[0] <= w[1]), "{months:?}");
    assert!(result["first_to_break"]["name"].is_string());
    for pointer in [
        "/latency/months_to_warning",
        "/queueing/utilization_pct",
        "/queueing/probability_of_waiting",
        "/queueing/mean_wait_ms",
        "/queueing/mean_response_ms",
        "/queueing/months_to_saturation",
        "/queueing/servers_needed_at_horizon",
        "/cache/hit_rate_pct",
        "/cache/cache_items_needed_at_horizon",
        "/scalability/sigma",
        "/scalability/kappa",
        "/scalability/lambda",
        "/scalability/peak_nodes",
        "/scalability/max_throughput_rps",
        "/scalability/nodes_needed",
        "/cost/at_horizon_usd",
    ] {
        number(&result, pointer);
    }
    // The queue: a = 500 × 0.02 = 10 Erlangs on 16 servers, ρ = 62.5%.
    close(number(&result, "/queueing/utilization_pct"), 62.5);
    // Users 80000 reach 100000 (stage 3) and 1M (stage 4) within 36 months.
    let stages = result["stages"].as_array().expect("stages");
    assert_eq!(stages[0]["stage"]["number"], 3);
    close(
        number(&stages[0], "/month"),
        (100000.0f64 / 80000.0).ln() / g.ln_1p(),
    );
    let timeline = result["timeline"].as_array().expect("timeline");
    assert!(!timeline.is_empty());
    let checkpoint_months: Vec<u64> = result["checkpoints"]
        .as_array()
        .expect("checkpoints")
        .iter()
        .filter_map(|c| c["month"].as_u64())
        .collect();
    assert_eq!(checkpoint_months, [0, 3, 6, 12, 24, 36]);
    // Percentages capped at 100 at the horizon.
    let last = &result["checkpoints"][5]["values"];
    let cpu_at_36 = last
        .as_array()
        .and_then(|v| v.iter().find(|v| v["name"] == "db_cpu_pct"))
        .expect("db_cpu_pct at 36");
    assert_eq!(cpu_at_36["value"], json!(100.0));
    assert_eq!(cpu_at_36["saturated"], true);
    let summary = result["summary"].as_str().expect("summary");
    assert!(
        summary.len() <= 400 && summary.starts_with("First to break"),
        "{summary}"
    );
    assert!(
        !result["assumptions"]
            .as_array()
            .expect("assumptions")
            .is_empty()
    );
    assert!(
        result["workings"]
            .as_array()
            .expect("workings")
            .iter()
            .any(|w| w["quantity"] == "monthly_growth_pct"
                && w["substituted"] == "(3 ^ (1 / 12) − 1) × 100")
    );
    assert_eq!(result["missing_inputs"], json!([]));
    for uri in result["sources"].as_array().expect("sources") {
        let uri = uri.as_str().expect("a URI");
        let read = server.read_resource(uri);
        assert!(
            read.get("result").is_some(),
            "{uri} does not resolve: {read}"
        );
    }
}

#[test]
fn missing_inputs_and_the_markdown() {
    let mut server = Server::start();
    let result = server.call_tool(
        "forecast_growth",
        json!({"monthly_growth_pct": 8, "db_cpu_pct": 50, "p95_latency_ms": 300}),
    );
    let structured = &result["structuredContent"];
    let missing: Vec<&str> = structured["missing_inputs"]
        .as_array()
        .expect("missing_inputs")
        .iter()
        .filter_map(|m| m["field"].as_str())
        .collect();
    assert_eq!(
        missing,
        ["utilization_pct", "users", "current_monthly_cost_usd"]
    );
    let text = result["content"][0]["text"].as_str().expect("markdown");
    assert!(
        text.starts_with("## Forecast: `db_cpu_pct` breaks first"),
        "{text}"
    );
    assert!(text.contains("xychart-beta"), "{text}");
}

/// A line crossed by a model section (here the cache, already below its 80% line) is the
/// answer when it comes first: never "nothing reaches a warning line" while a given cache is
/// below its line, and ahead of a resource that warns later. A cache already below is said to
/// be below the diagnosis' line, not to "fall below" it as an event to come (issue 28).
#[test]
fn the_answer_leads_with_whatever_crosses_first_resource_or_model() {
    let mut server = Server::start();
    let cold_cache = json!({"cache_items": 100000, "catalog_items": 10000000, "zipf_alpha": 0.8, "policy": "lru"});
    let lead = |result: &Value| {
        (
            result["structuredContent"]["summary"]
                .as_str()
                .expect("summary")
                .to_string(),
            result["content"][0]["text"]
                .as_str()
                .expect("markdown")
                .to_string(),
        )
    };
    let (summary, text) = lead(&server.call_tool(
        "forecast_growth",
        json!({"monthly_growth_pct": 10, "cache": cold_cache}),
    ));
    assert!(
        summary.starts_with("First to break: cache hit rate is already below 80% (the low_cache_hit_rate line of diagnose_bottleneck) now.")
            && summary.contains("cache hit rate 24.8% now, 13.2% in month 24")
            && summary.contains("1 event on the timeline"),
        "{summary}"
    );
    assert!(
        text.starts_with("## Forecast: cache hit rate is already below 80% (the low_cache_hit_rate line of diagnose_bottleneck) now\n"),
        "{text}"
    );
    let (summary, text) = lead(&server.call_tool(
        "forecast_growth",
        json!({"monthly_growth_pct": 10, "db_cpu_pct": 45, "cache": cold_cache}),
    ));
    assert!(
        summary.starts_with(
            "First to break: cache hit rate is already below 80% (the low_cache_hit_rate line of diagnose_bottleneck) now; then db_cpu_pct (warning month 3.0"
        ),
        "{summary}"
    );
    assert!(
        text.contains("\n\nThen `db_cpu_pct`: warning month 3.0, critical month 6.7.\n"),
        "{text}"
    );
    // A warm cache that falls below its line only near the horizon comes after the CPU.
    let (summary, _) = lead(&server.call_tool(
        "forecast_growth",
        json!({"monthly_growth_pct": 10, "db_cpu_pct": 45,
               "cache": {"cache_items": 5000000, "catalog_items": 10000000, "zipf_alpha": 1.0, "policy": "lru"}}),
    ));
    assert!(
        summary.starts_with("First to break: db_cpu_pct (warning month 3.0")
            && summary.contains("cache hit rate 94.1% now, 78.8% in month 24"),
        "{summary}"
    );
}

#[test]
fn the_growth_models_document_is_a_resource() {
    let mut server = Server::start();
    let read = server.read_resource("knowledge://growth-models#defaults");
    let text = read["result"]["contents"][0]["text"]
        .as_str()
        .expect("text");
    assert!(text.contains("lead_time_months") && text.contains("target_utilization_pct"));
}

#[test]
fn every_refusal_names_the_field_and_what_is_accepted() {
    let mut server = Server::start();
    let cases = [
        (
            json!({"monthly_growth_pct": 10, "growth_multiple": 2, "over_months": 6, "db_cpu_pct": 50}),
            "growth_multiple",
            "exactly one growth form",
        ),
        (
            json!({"db_cpu_pct": 50}),
            "monthly_growth_pct",
            "exactly one growth form",
        ),
        (
            json!({"monthly_growth_pct": 10, "over_months": 6, "db_cpu_pct": 50}),
            "over_months",
            "growth_multiple",
        ),
        (
            json!({"growth_multiple": 2, "db_cpu_pct": 50}),
            "over_months",
            "above 0",
        ),
        (
            json!({"monthly_growth_pct": 10, "p95_latency_ms": 90, "utilization_pct": 100}),
            "utilization_pct",
            "below 100",
        ),
        (
            json!({"monthly_growth_pct": 10, "scalability": {"sigma": 1, "kappa": 0.1, "lambda": 10, "current_rps": 5}}),
            "scalability.sigma",
            "below 1",
        ),
        (
            json!({"monthly_growth_pct": 10, "scalability": {"sigma": 0.1, "kappa": -0.1, "lambda": 10, "current_rps": 5}}),
            "scalability.kappa",
            "0",
        ),
        (
            json!({"monthly_growth_pct": 10, "scalability": {"measurements": [{"nodes": 2, "throughput": 10}, {"nodes": 4, "throughput": 15}, {"nodes": 8, "throughput": 20}], "current_rps": 5}}),
            "scalability.measurements",
            "nodes = 1",
        ),
        (
            json!({"monthly_growth_pct": 10, "scalability": {"measurements": [{"nodes": 1, "throughput": 10}, {"nodes": 4, "throughput": 15}], "current_rps": 5}}),
            "scalability.measurements",
            "3 to 10000",
        ),
        (
            json!({"monthly_growth_pct": 10}),
            "arguments",
            "something to forecast",
        ),
        (
            json!({"monthly_growth_pct": -100, "db_cpu_pct": 50}),
            "monthly_growth_pct",
            "above -100",
        ),
        (
            json!({"monthly_growth_pct": 10, "db_cpu_pct": 50, "horizon_months": 121}),
            "horizon_months",
            "120",
        ),
        // The growth arguments wrapped as scaling_report takes them.
        (
            json!({"growth": {"monthly_growth_pct": 10}, "db_cpu_pct": 50}),
            "growth",
            "(`growth` holds `monthly_growth_pct`, fields of this level: give them without `growth` around them)",
        ),
    ];
    for (arguments, field, accepted) in cases {
        let text = server.call_err("forecast_growth", arguments.clone());
        assert!(
            text.contains(&format!("`{field}`")) && text.contains(accepted),
            "{arguments}: {text}"
        );
    }
}

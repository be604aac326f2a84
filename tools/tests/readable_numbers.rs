//! Numbers for people (issue 28, point 9): the markdown and the `summary` of every example answer
//! write numbers the way a person reads them (three significant digits, thousands separators,
//! "now" for month 0). The workings keep full precision and are not scanned, nor is code
//! (backticks and fenced blocks: formulas, ids, queries).

#[path = "../fixtures/examples.rs"]
mod examples;
#[path = "shared/readable.rs"]
mod readable;

use readable::{offences, prose_lines};
use serde_json::{Map, Value, json};
use tools::{Advisor, REGISTRY};

#[test]
fn the_scanner_finds_what_the_issue_found() {
    for bad in [
        "9.58727% a month",
        "P(wait) 0.00896366",
        "hit rate 38.4041%",
        "208962425 items",
        "$18000/month",
        "σ 0.0440678",
        "7344.07 requests/s",
        "1567.82 reads per second",
        "a NaN here",
    ] {
        assert!(!offences(bad).is_empty(), "{bad}");
    }
    for good in [
        "9.59% a month",
        "P(wait) 0.00896",
        "208,962,425 items",
        "$18,000/month",
        "7,340 requests/s",
        "stage_12345, `ceil(10000 / 3)`, orders-db:19187, month 2.1, 2026",
        "0.0 | 0.0",
    ] {
        assert!(offences(good).is_empty(), "{good}: {:?}", offences(good));
    }
    let markdown =
        "## A\n\n- 1,570 reads\n\n### Workings\n\n- x = 1567.82\n\n## B\n\n```\n123456\n```\n";
    assert_eq!(prose_lines(markdown).join("\n").matches("1567").count(), 0);
    assert!(offences(&prose_lines(markdown).join("\n")).is_empty());
}

/// The offences in the summary and the prose of the answer to `tool` with `arguments`, at both
/// `detail` levels, each named with `name`.
fn offences_in_answer(
    advisor: &Advisor,
    tool: &str,
    name: &str,
    arguments: &Map<String, Value>,
) -> Vec<String> {
    let mut failures = Vec::new();
    for detail in ["concise", "full"] {
        let mut arguments = arguments.clone();
        arguments.insert("detail".into(), Value::from(detail));
        let output = advisor
            .call(tool, &arguments)
            .unwrap_or_else(|e| panic!("{tool} `{name}` is refused: {e}"));
        let summary = output.structured["summary"].as_str().unwrap_or_default();
        let texts = std::iter::once(("summary", summary.to_string())).chain(
            prose_lines(&output.markdown)
                .into_iter()
                .map(|line| ("markdown", line.to_string())),
        );
        for (place, text) in texts {
            for offence in offences(&text) {
                failures.push(format!(
                    "{tool} `{name}` ({detail}) {place}: {offence} in: {text}"
                ));
            }
        }
    }
    failures
}

#[test]
fn every_example_answer_writes_numbers_for_people() {
    let advisor = Advisor::embedded().expect("the embedded knowledge base loads");
    let all = examples::all(REGISTRY.iter().map(|r| r.name));
    assert!(all.len() >= REGISTRY.len(), "{} examples", all.len());
    let mut failures = Vec::new();
    for example in all {
        failures.extend(offences_in_answer(
            &advisor,
            &example.tool,
            &example.name,
            &example.arguments,
        ));
    }
    failures.dedup();
    assert!(
        failures.is_empty(),
        "{} numbers a person should not have to read:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// Figures no example has: the issue's own (a growth of 9.58727% a month, σ 0.0440678, a load
/// of 7344.07 requests/s, $18,123.45 a month), odd sizes, a load that shrinks, and a metric
/// already past its line (a crossing that is now).
#[test]
fn awkward_figures_read_as_well() {
    let advisor = Advisor::embedded().expect("the embedded knowledge base loads");
    let calls = [
        (
            "forecast_growth",
            json!({
                "monthly_growth_pct": 9.58727, "db_cpu_pct": 86.3, "app_cpu_pct": 31.7,
                "users": 12345, "p95_latency_ms": 187.3, "utilization_pct": 41.7,
                "queueing": {"servers": 12, "arrival_rps": 333.3, "service_time_ms": 17.3},
                "cache": {"cache_items": 123457, "catalog_items": 98765432, "zipf_alpha": 0.77, "policy": "lru"},
                "scalability": {"sigma": 0.0440678, "kappa": 0.000123, "lambda": 812.3, "current_rps": 7344.07},
                "current_monthly_cost_usd": 18123.45
            }),
        ),
        (
            "forecast_growth",
            json!({"monthly_growth_pct": -5, "db_cpu_pct": 90, "pool_utilization_pct": 77.7}),
        ),
        (
            "size_cache",
            json!({
                "total_data_gb": 523.7, "hot_fraction": 0.137, "node_memory_gb": 64, "replicas": 1,
                "requests_per_sec": 15678.2, "hit_rate_pct": 89.99
            }),
        ),
        (
            "plan_capacity",
            json!({
                "peak_rps": 1234.5, "growth_factor": 2.7, "per_server_rps": 777, "db_cores": 8,
                "reads_per_sec": 10987.6, "replica_read_capacity_per_sec": 3001,
                "avg_latency_ms": 123.4, "users": 123456
            }),
        ),
        (
            "diagnose_bottleneck",
            json!({"users": 12345, "db_cpu_pct": 61.23, "queue_depth": 12345, "monthly_growth_pct": 9.58727}),
        ),
        (
            "plan_migration",
            json!({"kind": "reshard", "current_shards": 7, "target_shards": 13, "data_size_gb": 12345.6}),
        ),
        (
            "scaling_report",
            json!({
                "system": {"users": 12345, "db_cpu_pct": 71.3, "p95_latency_ms": 230.7},
                "growth": {"monthly_growth_pct": 9.58727, "horizon_months": 24},
                "capacity": {"peak_rps": 1234.5, "per_server_rps": 777},
                "current_monthly_cost_usd": 18123.45
            }),
        ),
    ];
    let mut failures = Vec::new();
    for (i, (tool, arguments)) in calls.iter().enumerate() {
        let Value::Object(arguments) = arguments else {
            unreachable!("the calls above are objects")
        };
        failures.extend(offences_in_answer(
            &advisor,
            tool,
            &format!("awkward #{i}"),
            arguments,
        ));
    }
    failures.dedup();
    assert!(
        failures.is_empty(),
        "{} numbers a person should not have to read:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

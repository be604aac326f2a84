//! `Advisor::call_json` serialises each result from its typed form instead of through a JSON
//! tree; these cases hold it to the same JSON, the same markdown and the same errors as
//! `Advisor::call`, for every tool, valid and refused arguments alike.

use serde_json::{Value, json};
use std::sync::LazyLock;
use tools::Advisor;

static ADVISOR: LazyLock<Advisor> =
    LazyLock::new(|| Advisor::embedded().expect("the embedded knowledge base loads"));

fn cases() -> Vec<(&'static str, Value)> {
    vec![
        (
            "diagnose_bottleneck",
            json!({"users": 50000, "has_cache": true, "p95_latency_ms": 350, "db_cpu_pct": 75, "read_pct": 90, "cache_hit_rate_pct": 65}),
        ),
        (
            "diagnose_bottleneck",
            json!({"users": 900, "symptoms": ["split_brain", "cache_stampede"], "dlq_size": 3}),
        ),
        ("diagnose_bottleneck", json!({"users": 100})),
        ("diagnose_bottleneck", json!({})),
        ("diagnose_bottleneck", json!({"db_cpu_pct": 140})),
        (
            "choose_datastore",
            json!({"needs_acid": true, "multi_region": true}),
        ),
        (
            "choose_datastore",
            json!({"write_heavy": true, "data_size_gb": 4000}),
        ),
        ("choose_message_queue", json!({})),
        (
            "choose_message_queue",
            json!({"needs_replay": true, "messages_per_sec": 200000}),
        ),
        (
            "pick_consistency_model",
            json!({"quorum": {"n": 3, "w": 2, "r": 2}}),
        ),
        (
            "pick_consistency_model",
            json!({"quorum": {"n": 3, "w": 0, "r": 1}}),
        ),
        (
            "size_cache",
            json!({"working_set_gb": 12.5, "node_memory_gb": 16, "replicas": 1, "requests_per_sec": 20000, "hit_rate_pct": 92}),
        ),
        (
            "size_cache",
            json!({"total_data_gb": 100, "hot_fraction": 0.1, "strong_freshness": true}),
        ),
        ("size_cache", json!({})),
        (
            "plan_capacity",
            json!({"peak_rps": 300, "growth_factor": 3, "per_server_rps": 500, "users": 25000}),
        ),
        ("plan_capacity", json!({"peak_rps": 2, "safety_margin": 1})),
        (
            "plan_migration",
            json!({"kind": "database_switch", "from": "MySQL", "to": "PostgreSQL", "data_size_gb": 500}),
        ),
        (
            "plan_migration",
            json!({"kind": "reshard", "current_shards": 4, "target_shards": 6}),
        ),
        ("plan_migration", json!({"kind": "teleport"})),
        (
            "scaling_report",
            json!({
                "system": {"users": 150000, "has_cache": true, "cache_hit_rate_pct": 65, "read_pct": 92},
                "requirements": {"needs_acid": true},
                "capacity": {"peak_rps": 5000, "users": 150000},
                "current_monthly_cost_usd": 2800
            }),
        ),
        (
            "forecast_growth",
            json!({"monthly_growth_pct": 10, "db_cpu_pct": 45, "users": 40000,
                   "cache": {"cache_items": 1000, "catalog_items": 100000, "zipf_alpha": 0.9, "policy": "lru"}}),
        ),
        ("forecast_growth", json!({"monthly_growth_pct": 10})),
        ("no_such_tool", json!({})),
    ]
}

#[test]
fn call_json_gives_what_call_gives() {
    let (mut answered, mut refused) = (0, 0);
    for (tool, args) in cases() {
        let Value::Object(args) = args else {
            unreachable!("every case is an object")
        };
        let mut structured = b"prefix".to_vec();
        let fast = ADVISOR.call_json(tool, &args, &mut structured);
        let slow = ADVISOR.call(tool, &args);
        match (fast, slow) {
            (Ok(markdown), Ok(output)) => {
                assert_eq!(
                    &structured[..6],
                    b"prefix",
                    "{tool}({args:?}): kept what was there"
                );
                let parsed: Value = serde_json::from_slice(&structured[6..])
                    .unwrap_or_else(|e| panic!("{tool}({args:?}): not JSON: {e}"));
                assert_eq!(parsed, output.structured, "{tool}({args:?}): structured");
                assert_eq!(markdown, output.markdown, "{tool}({args:?}): markdown");
                answered += 1;
            }
            (Err(fast), Err(slow)) => {
                assert_eq!(fast, slow, "{tool}({args:?}): error");
                assert_eq!(structured, b"prefix", "{tool}({args:?}): nothing appended");
                refused += 1;
            }
            (fast, slow) => panic!("{tool}({args:?}): call_json {fast:?} but call {slow:?}"),
        }
    }
    assert_eq!(
        (answered, refused),
        (16, 7),
        "the cases answered and refused"
    );
}

#[test]
fn the_cases_cover_every_tool() {
    let covered: Vec<&str> = cases().iter().map(|(tool, _)| *tool).collect();
    for tool in ADVISOR.tools() {
        assert!(covered.contains(&tool.name), "{} has no case", tool.name);
    }
}

/// diagnose_bottleneck reads its facts from the arguments as sent; serialising the typed
/// arguments again (as `scaling_report` does) must give the same diagnosis, nulls included.
#[test]
fn diagnosis_from_the_arguments_as_sent_matches_the_typed_ones() {
    use tools::Tool;
    use tools::diagnose_bottleneck::{DiagnoseArgs, DiagnoseBottleneck, run};
    let cases = [
        json!({"users": 50000, "has_cache": true, "p95_latency_ms": 350, "db_cpu_pct": 75, "read_pct": 90, "cache_hit_rate_pct": 65}),
        json!({"users": 900, "symptoms": ["split_brain"], "dlq_size": 3, "needs_multi_region": false}),
        json!({"users": 2000000, "has_cache": null, "sharded": true, "needs_multi_region": true, "db_write_load_pct": 95}),
        json!({"p99_latency_ms": 900, "replication_lag_ms": 4000, "cache_hit_rate_pct": 50, "regions": 1}),
        json!({"users": null, "queue_depth": 20000}),
    ];
    for case in cases {
        let Value::Object(given) = case.clone() else {
            unreachable!("every case is an object")
        };
        let args: DiagnoseArgs = serde_json::from_value(case.clone()).expect("valid arguments");
        let typed = run(&ADVISOR, args.clone()).expect("diagnosed");
        let as_sent = DiagnoseBottleneck::run_given(&ADVISOR, args, &given).expect("diagnosed");
        assert_eq!(typed, as_sent, "{case}");
    }
}

//! `size_cache` and `plan_capacity` in process: tables of (arguments, expected fields) covering
//! every default and every formula, the refusals, and snapshots of the markdown.

use serde_json::{Map, Value, json};
use tools::{Advisor, CallError, ToolOutput};

fn advisor() -> Advisor {
    Advisor::embedded().expect("the embedded knowledge base loads")
}

fn object(value: Value) -> Map<String, Value> {
    value.as_object().cloned().expect("arguments are an object")
}

/// The arguments with `detail: full` unless they say otherwise: these tests read the
/// explanations too (`tests/e2e/model_reads.rs` covers what concise leaves out).
fn full_detail(args: &Value) -> serde_json::Map<String, Value> {
    let mut map = args.as_object().cloned().unwrap_or_default();
    map.entry("detail").or_insert_with(|| Value::from("full"));
    map
}

fn call(advisor: &Advisor, tool: &str, args: &Value) -> ToolOutput {
    advisor
        .call(tool, &full_detail(args))
        .unwrap_or_else(|e| panic!("{tool}({args}) was refused: {e}"))
}

fn refusal(advisor: &Advisor, tool: &str, args: &Value) -> tools::ArgError {
    match advisor.call(tool, &object(args.clone())) {
        Err(CallError::Arguments(e)) => e,
        Err(e) => panic!("{tool}({args}) failed otherwise: {e}"),
        Ok(out) => panic!("{tool}({args}) was accepted: {}", out.structured),
    }
}

/// A named scenario: (what it shows, arguments, expected (JSON pointer, value) pairs).
type Case = (&'static str, Value, Vec<(&'static str, Value)>);

/// Checks that every field of `expected` (a JSON pointer → value map) holds in `actual`.
fn assert_fields(case: &str, actual: &Value, expected: &[(&str, Value)]) {
    for (pointer, want) in expected {
        let got = actual
            .pointer(pointer)
            .unwrap_or_else(|| panic!("{case}: no field {pointer} in {actual}"));
        let equal = match (got.as_f64(), want.as_f64()) {
            (Some(g), Some(w)) => g == w,
            _ => got == want,
        };
        assert!(equal, "{case}: {pointer} is {got}, expected {want}");
    }
}

/// The working of `quantity`: (formula, substituted, value).
fn working(result: &Value, quantity: &str) -> Option<(String, String, f64)> {
    result["workings"].as_array()?.iter().find_map(|w| {
        (w["quantity"] == quantity).then(|| {
            (
                w["formula"].as_str().unwrap_or_default().to_string(),
                w["substituted"].as_str().unwrap_or_default().to_string(),
                w["value"].as_f64().unwrap_or(f64::NAN),
            )
        })
    })
}

fn defaults(result: &Value) -> Vec<(String, f64)> {
    result["defaults_applied"]
        .as_array()
        .map(|list| {
            list.iter()
                .map(|d| {
                    (
                        d["parameter"].as_str().unwrap_or_default().to_string(),
                        d["value"].as_f64().unwrap_or(f64::NAN),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

// ---------------------------------------------------------------------------------------------
// size_cache

#[test]
fn size_cache_sizing_cases() {
    let advisor = advisor();
    let cases: Vec<Case> = vec![
        (
            "the caching document's example: 10 GB working set",
            json!({"working_set_gb": 10}),
            vec![
                ("/working_set_gb", json!(10)),
                ("/memory_gb", json!(15)),
                ("/nodes", Value::Null),
                ("/total_nodes", Value::Null),
                ("/db_reads_per_sec", Value::Null),
            ],
        ),
        (
            "total data with the default hot fraction",
            json!({"total_data_gb": 500}),
            vec![("/working_set_gb", json!(100)), ("/memory_gb", json!(150))],
        ),
        (
            "total data with a given hot fraction and overhead",
            json!({"total_data_gb": 200, "hot_fraction": 0.1, "overhead_factor": 2}),
            vec![("/working_set_gb", json!(20)), ("/memory_gb", json!(40))],
        ),
        (
            "nodes with the default 75% utilization: 15 / 12 rounds up to 2",
            json!({"working_set_gb": 10, "node_memory_gb": 16}),
            vec![("/nodes", json!(2)), ("/total_nodes", json!(2))],
        ),
        (
            "a working set that fills nodes exactly needs no extra node",
            json!({"working_set_gb": 8, "node_memory_gb": 16}),
            vec![("/memory_gb", json!(12)), ("/nodes", json!(1))],
        ),
        (
            "replicas multiply the nodes",
            json!({"working_set_gb": 10, "node_memory_gb": 16, "replicas": 2}),
            vec![("/nodes", json!(2)), ("/total_nodes", json!(6))],
        ),
        (
            "a lower utilization needs more nodes",
            json!({"working_set_gb": 10, "overhead_factor": 2, "node_memory_gb": 10, "max_memory_utilization_pct": 50}),
            vec![
                ("/memory_gb", json!(20)),
                ("/nodes", json!(4)),
                ("/total_nodes", json!(4)),
            ],
        ),
        (
            "an empty working set needs no node",
            json!({"working_set_gb": 0, "node_memory_gb": 16}),
            vec![("/memory_gb", json!(0)), ("/nodes", json!(0))],
        ),
        (
            "database reads left: 10000 requests at 90% hits",
            json!({"working_set_gb": 1, "requests_per_sec": 10000, "hit_rate_pct": 90}),
            vec![("/db_reads_per_sec", json!(1000))],
        ),
        (
            "no hits: every request reaches the database",
            json!({"working_set_gb": 1, "requests_per_sec": 250, "hit_rate_pct": 0}),
            vec![("/db_reads_per_sec", json!(250))],
        ),
        (
            "a rate without a hit rate gives no database reads",
            json!({"working_set_gb": 1, "requests_per_sec": 250}),
            vec![("/db_reads_per_sec", Value::Null)],
        ),
    ];
    for (case, args, expected) in cases {
        let out = call(&advisor, "size_cache", &args);
        assert_fields(case, &out.structured, &expected);
    }
}

#[test]
fn size_cache_rules_pick_strategy_invalidation_ttl_and_protection() {
    let advisor = advisor();
    // (flags, strategy, invalidation, ttl_seconds, cache_warming recommended)
    let cases = [
        (json!({}), "cache_aside", "ttl", 300, false),
        (
            json!({"strong_freshness": true}),
            "write_through",
            "event_based",
            300,
            false,
        ),
        (
            json!({"strong_freshness": true, "write_heavy": true, "tolerates_data_loss": true}),
            "write_through",
            "version_based",
            300,
            false,
        ),
        (
            json!({"write_heavy": true, "tolerates_data_loss": true}),
            "write_behind",
            "ttl",
            60,
            false,
        ),
        (
            json!({"write_heavy": true}),
            "cache_aside",
            "ttl",
            60,
            false,
        ),
        (
            json!({"tolerates_data_loss": true}),
            "cache_aside",
            "ttl",
            300,
            false,
        ),
        (
            json!({"expensive_misses": true}),
            "refresh_ahead",
            "ttl",
            3600,
            true,
        ),
        (
            json!({"write_heavy": true, "tolerates_data_loss": true, "expensive_misses": true}),
            "write_behind",
            "ttl",
            60,
            true,
        ),
        (
            json!({"strong_freshness": true, "expensive_misses": true}),
            "write_through",
            "event_based",
            300,
            true,
        ),
    ];
    for (flags, strategy, invalidation, ttl, warming) in cases {
        let mut args = object(flags.clone());
        args.insert("working_set_gb".into(), json!(10));
        let out = call(&advisor, "size_cache", &Value::Object(args));
        let r = &out.structured;
        let case = flags.to_string();
        assert_eq!(r["strategy"], strategy, "{case}");
        assert_eq!(r["invalidation"], invalidation, "{case}");
        assert_eq!(r["ttl_seconds"], ttl, "{case}");
        for key in ["how", "pros", "cons", "rule"] {
            assert!(
                r["strategy_details"][key]
                    .as_str()
                    .is_some_and(|t| !t.is_empty()),
                "{case}: strategy_details.{key}"
            );
        }
        for key in ["how", "pros", "cons", "rule", "reason"] {
            assert!(
                r["invalidation_details"][key]
                    .as_str()
                    .is_some_and(|t| !t.is_empty()),
                "{case}: invalidation_details.{key}"
            );
        }
        let names: Vec<&str> = r["stampede_protection"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["name"].as_str().unwrap())
            .collect();
        let mut expected = vec![
            "request_coalescing",
            "probabilistic_early_refresh",
            "ttl_jitter",
        ];
        if warming {
            expected.push("cache_warming");
        }
        assert_eq!(names, expected, "{case}");
        for uri in [
            "knowledge://caching#write-strategies",
            "knowledge://caching#invalidation-strategies",
            "knowledge://caching#ttl-rules",
            "knowledge://caching#what-to-cache",
            "knowledge://caching#stampede-protection",
            "knowledge://failure-modes#cache-stampede",
        ] {
            assert!(
                r["sources"].as_array().unwrap().contains(&json!(uri)),
                "{case}: sources lack {uri}"
            );
        }
    }
}

#[test]
fn size_cache_shows_every_formula_with_its_numbers() {
    let advisor = advisor();
    let out = call(
        &advisor,
        "size_cache",
        &json!({"total_data_gb": 50, "node_memory_gb": 16, "replicas": 1, "requests_per_sec": 10000, "hit_rate_pct": 90}),
    );
    let r = &out.structured;
    let expected = [
        (
            "working_set_gb",
            "working_set_gb = total_data_gb × hot_fraction",
            "50 × 0.2",
            10.0,
        ),
        (
            "memory_gb",
            "memory_gb = working_set_gb × overhead_factor",
            "10 × 1.5",
            15.0,
        ),
        (
            "memory_nodes",
            "memory_nodes = ceil(memory_gb / (node_memory_gb × max_memory_utilization_pct / 100))",
            "ceil(15 / (16 × 75 / 100))",
            2.0,
        ),
        (
            "throughput_nodes",
            "throughput_nodes = ceil(requests_per_sec / node_ops_per_sec)",
            "ceil(10000 / 100000)",
            1.0,
        ),
        (
            "nodes",
            "nodes = max(memory_nodes, throughput_nodes)",
            "max(2, 1)",
            2.0,
        ),
        (
            "total_nodes",
            "total_nodes = nodes × (1 + replicas)",
            "2 × (1 + 1)",
            4.0,
        ),
        (
            "db_reads_per_sec",
            "db_reads_per_sec = requests_per_sec × (100 − hit_rate_pct) / 100",
            "10000 × (100 − 90) / 100",
            1000.0,
        ),
    ];
    let quantities: Vec<&str> = r["workings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["quantity"].as_str().unwrap())
        .collect();
    assert_eq!(quantities, expected.map(|e| e.0));
    for (quantity, formula, substituted, value) in expected {
        let (f, s, v) = working(r, quantity).unwrap();
        assert_eq!(f, formula);
        assert_eq!(s, substituted, "{quantity}");
        assert_eq!(v, value, "{quantity}");
        assert_eq!(r[quantity].as_f64(), Some(value), "{quantity} field");
    }
    assert!(
        r.get("notes")
            .and_then(Value::as_array)
            .is_none_or(Vec::is_empty)
    );
}

#[test]
fn size_cache_workings_read_plainly_and_values_stay_exact() {
    let advisor = advisor();
    let out = call(
        &advisor,
        "size_cache",
        &json!({"total_data_gb": 0.3, "hot_fraction": 0.1}),
    );
    let (_, substituted, value) = working(&out.structured, "working_set_gb").unwrap();
    assert_eq!(substituted, "0.3 × 0.1");
    assert_eq!(value, 0.3 * 0.1);
    let (_, substituted, _) = working(&out.structured, "memory_gb").unwrap();
    assert_eq!(substituted, "0.03 × 1.5");
    assert_eq!(out.structured["working_set_gb"].as_f64(), Some(0.3 * 0.1));
}

#[test]
fn size_cache_applies_every_default_and_names_it() {
    let advisor = advisor();
    let out = call(
        &advisor,
        "size_cache",
        &json!({"total_data_gb": 100, "node_memory_gb": 8}),
    );
    assert_eq!(
        defaults(&out.structured),
        [
            ("hot_fraction".to_string(), 0.2),
            ("overhead_factor".to_string(), 1.5),
            ("max_memory_utilization_pct".to_string(), 75.0),
            ("replicas".to_string(), 0.0),
        ]
    );
    assert!(
        out.structured["sources"]
            .as_array()
            .unwrap()
            .contains(&json!("knowledge://caching#sizing-defaults"))
    );
    // Given values are not defaults.
    let out = call(
        &advisor,
        "size_cache",
        &json!({"total_data_gb": 100, "hot_fraction": 0.5, "overhead_factor": 1, "node_memory_gb": 8, "max_memory_utilization_pct": 100, "replicas": 0}),
    );
    assert!(defaults(&out.structured).is_empty());
    assert_eq!(out.structured["nodes"], 7); // 50 / 8 = 6.25
}

/// The schema descriptions state the defaults; they must be the documents' defaults.
#[test]
fn descriptions_state_the_documents_defaults_and_ranges() {
    let advisor = advisor();
    let checks = [
        ("size_cache", "caching", "sizing-defaults"),
        ("plan_capacity", "capacity-planning", "defaults"),
    ];
    for (tool, slug, anchor) in checks {
        let schema = &advisor.tool(tool).unwrap().input_schema;
        let table = advisor.knowledge().table(slug, anchor).unwrap();
        let mut rows = 0;
        for row in table.rows() {
            rows += 1;
            let parameter = row.required("parameter").unwrap();
            let property = &schema["properties"][parameter];
            let description = property["description"].as_str().unwrap();
            let default = row.required("default").unwrap();
            assert!(
                description.contains(&format!("Default {default}.")),
                "{tool}.{parameter}: `{description}` does not state Default {default}."
            );
            if let Ok(Some(min)) = row.optional_number("min") {
                assert_eq!(property["minimum"].as_f64(), Some(min), "{parameter} min");
            }
            if let Ok(Some(max)) = row.optional_number("max") {
                assert_eq!(property["maximum"].as_f64(), Some(max), "{parameter} max");
            }
        }
        assert!(rows >= 3, "{slug}#{anchor} has its defaults");
    }
}

#[test]
fn every_argument_is_described() {
    let advisor = advisor();
    for tool in ["size_cache", "plan_capacity"] {
        let prepared = advisor.tool(tool).unwrap();
        let properties = prepared.input_schema["properties"].as_object().unwrap();
        for (name, property) in properties {
            assert!(
                property["description"]
                    .as_str()
                    .is_some_and(|d| d.len() > 10),
                "{tool}.{name} has no description"
            );
        }
        assert!(
            prepared.result_fields["properties"]
                .as_object()
                .unwrap()
                .contains_key("workings")
        );
    }
}

#[test]
fn size_cache_refusals() {
    let advisor = advisor();
    // (arguments, refused field, words the message must hold)
    let cases: Vec<(Value, &str, &str)> = vec![
        (json!({}), "working_set_gb", "neither"),
        (
            json!({"overhead_factor": 2}),
            "working_set_gb",
            "exactly one",
        ),
        (
            json!({"working_set_gb": 10, "total_data_gb": 100}),
            "total_data_gb",
            "exactly one",
        ),
        (
            json!({"total_data_gb": 100, "hot_fraction": 1.5}),
            "hot_fraction",
            "from 0 to 1",
        ),
        (
            json!({"total_data_gb": 100, "hot_fraction": -0.1}),
            "hot_fraction",
            "from 0 to 1",
        ),
        (
            json!({"working_set_gb": 10, "hot_fraction": 0.3}),
            "hot_fraction",
            "total_data_gb",
        ),
        (
            json!({"working_set_gb": 10, "overhead_factor": 0.9}),
            "overhead_factor",
            "at least 1",
        ),
        (
            json!({"working_set_gb": -1}),
            "working_set_gb",
            "at least 0",
        ),
        (
            json!({"working_set_gb": 10, "node_memory_gb": 0}),
            "node_memory_gb",
            "above 0",
        ),
        (
            json!({"working_set_gb": 10, "node_memory_gb": 16, "max_memory_utilization_pct": 0}),
            "max_memory_utilization_pct",
            "from 1 to 100",
        ),
        (
            json!({"working_set_gb": 10, "node_memory_gb": 16, "max_memory_utilization_pct": 120}),
            "max_memory_utilization_pct",
            "from 1 to 100",
        ),
        (
            json!({"working_set_gb": 10, "requests_per_sec": 0, "hit_rate_pct": 90}),
            "requests_per_sec",
            "above 0",
        ),
        (
            json!({"working_set_gb": 10, "requests_per_sec": -5, "hit_rate_pct": 90}),
            "requests_per_sec",
            "above 0",
        ),
        (
            json!({"working_set_gb": 10, "requests_per_sec": 5, "hit_rate_pct": 101}),
            "hit_rate_pct",
            "from 0 to 100",
        ),
        (
            json!({"working_set_gb": 10, "replicas": 1.5}),
            "replicas",
            "whole number",
        ),
        (
            json!({"working_set_gb": 1.5e308}),
            "working_set_gb",
            "working_set_gb × overhead_factor stays below 1.8e308",
        ),
        (
            json!({"total_data_gb": 1.5e308, "hot_fraction": 1, "overhead_factor": 2}),
            "total_data_gb",
            "memory_gb = working_set_gb × overhead_factor stays below 1.8e308",
        ),
        (
            json!({"working_set_gb": 1e10, "node_memory_gb": 1e-300}),
            "node_memory_gb",
            "is at most 18446744073709551615",
        ),
        (
            json!({"working_set_gb": 10, "node_memory_gb": 1, "replicas": u64::MAX}),
            "replicas",
            "total_nodes = nodes × (1 + replicas) is at most 18446744073709551615",
        ),
        (json!({"working_set": 10}), "working_set", "unknown field"),
        (
            json!({"working_set_gb": "ten"}),
            "working_set_gb",
            "a string",
        ),
        (
            json!({"working_set_gb": 10, "strong_freshness": "yes"}),
            "strong_freshness",
            "true or false",
        ),
    ];
    for (args, field, words) in cases {
        let error = refusal(&advisor, "size_cache", &args);
        let text = error.to_string();
        assert_eq!(error.field, field, "{args}: {text}");
        assert!(text.contains(words), "{args}: `{text}` lacks `{words}`");
    }
    let error = refusal(&advisor, "size_cache", &json!({"working_set": 10}));
    assert_eq!(error.closest.as_deref(), Some("working_set_gb"));
    let error = refusal(&advisor, "size_cache", &json!({"working_set_gb": 1.5e308}));
    assert_eq!(error.received, "1.5e308");
}

// ---------------------------------------------------------------------------------------------
// plan_capacity

#[test]
fn plan_capacity_cases() {
    let advisor = advisor();
    let cases: Vec<Case> = vec![
        (
            "the capacity document's example: 1000 rps, 3× growth",
            json!({"peak_rps": 1000, "growth_factor": 3}),
            vec![
                ("/required_rps", json!(4500)),
                ("/servers", Value::Null),
                ("/pool_size", Value::Null),
                ("/read_replicas", Value::Null),
                ("/in_flight_requests", Value::Null),
                ("/stage", Value::Null),
                ("/monthly_cost_usd", Value::Null),
            ],
        ),
        (
            "defaults only: growth 1, margin 1.5",
            json!({"peak_rps": 100}),
            vec![("/required_rps", json!(150))],
        ),
        (
            "no margin",
            json!({"peak_rps": 100, "growth_factor": 2, "safety_margin": 1}),
            vec![("/required_rps", json!(200))],
        ),
        (
            "servers: 4500 / 1000 rounds up to 5",
            json!({"peak_rps": 1000, "growth_factor": 3, "per_server_rps": 1000}),
            vec![("/servers", json!(5))],
        ),
        (
            "servers: an exact division needs no extra server",
            json!({"peak_rps": 1000, "safety_margin": 1, "per_server_rps": 250}),
            vec![("/servers", json!(4))],
        ),
        (
            "pool: 8 cores on SSD give 17",
            json!({"peak_rps": 1, "db_cores": 8}),
            vec![("/pool_size", json!(17))],
        ),
        (
            "pool: 4 cores with 4 spindles give 12",
            json!({"peak_rps": 1, "db_cores": 4, "effective_spindles": 4}),
            vec![("/pool_size", json!(12))],
        ),
        (
            "pool: no spindle (all cached) gives cores × 2",
            json!({"peak_rps": 1, "db_cores": 16, "effective_spindles": 0}),
            vec![("/pool_size", json!(32))],
        ),
        (
            "replicas get the servers' 1.5x margin: 10000 × 1.5 / 3000 rounds up to 5",
            json!({"peak_rps": 1, "reads_per_sec": 10000, "replica_read_capacity_per_sec": 3000}),
            vec![("/read_replicas", json!(5))],
        ),
        (
            "replicas: with no margin, 10000 / 3000 rounds up to 4",
            json!({"peak_rps": 1, "safety_margin": 1, "reads_per_sec": 10000, "replica_read_capacity_per_sec": 3000}),
            vec![("/read_replicas", json!(4))],
        ),
        (
            "replicas: 8 at 94% busy without a margin become 12 with it",
            json!({"peak_rps": 1, "reads_per_sec": 7520, "replica_read_capacity_per_sec": 1000}),
            vec![("/read_replicas", json!(12))],
        ),
        (
            "replicas: 6000 × 1.5 / 3000 is exactly 3",
            json!({"peak_rps": 1, "reads_per_sec": 6000, "replica_read_capacity_per_sec": 3000}),
            vec![("/read_replicas", json!(3))],
        ),
        (
            "Little's law: 4500 rps at 200 ms keep 900 in flight",
            json!({"peak_rps": 1000, "growth_factor": 3, "avg_latency_ms": 200}),
            vec![("/in_flight_requests", json!(900))],
        ),
        (
            "users: 5000 are stage 1, 100 to 300 dollars",
            json!({"peak_rps": 1, "users": 5000}),
            vec![
                ("/stage/number", json!(1)),
                ("/stage/name", json!("Prototype")),
                ("/monthly_cost_usd/low", json!(100)),
                ("/monthly_cost_usd/high", json!(300)),
                ("/monthly_cost_usd/architecture", json!("Single server")),
            ],
        ),
        (
            "users: exactly 10K are stage 2 and still cost up to 300",
            json!({"peak_rps": 1, "users": 10000}),
            vec![
                ("/stage/number", json!(2)),
                ("/stage/name", json!("Caching")),
                ("/monthly_cost_usd/low", json!(100)),
                ("/monthly_cost_usd/high", json!(300)),
            ],
        ),
        (
            "users: 50K cost 1000 to 3000, the row of their own stage",
            json!({"peak_rps": 1, "users": 50000}),
            vec![
                ("/stage/number", json!(2)),
                ("/monthly_cost_usd/basis", json!("row")),
                ("/monthly_cost_usd/low", json!(1000)),
                ("/monthly_cost_usd/high", json!(3000)),
            ],
        ),
        (
            "users: 500K are stage 3, whose row up to 1M prices stage 4: between, 1000 to 30000",
            json!({"peak_rps": 1, "users": 500000}),
            vec![
                ("/stage/number", json!(3)),
                ("/stage/name", json!("Read Replicas")),
                ("/monthly_cost_usd/low", json!(1000)),
                ("/monthly_cost_usd/high", json!(30000)),
                ("/monthly_cost_usd/basis", json!("between")),
                (
                    "/monthly_cost_usd/architecture",
                    json!("Load balanced + cache"),
                ),
            ],
        ),
        (
            "users: 999999 are still stage 3, still between",
            json!({"peak_rps": 1, "users": 999999}),
            vec![
                ("/stage/number", json!(3)),
                ("/monthly_cost_usd/basis", json!("between")),
                ("/monthly_cost_usd/low", json!(1000)),
            ],
        ),
        (
            "users: exactly 1M are stage 4, the row's own band",
            json!({"peak_rps": 1, "users": 1000000}),
            vec![
                ("/stage/number", json!(4)),
                ("/monthly_cost_usd/basis", json!("row")),
                ("/monthly_cost_usd/low", json!(10000)),
                ("/monthly_cost_usd/high", json!(30000)),
                (
                    "/monthly_cost_usd/architecture",
                    json!("Microservices + sharding"),
                ),
            ],
        ),
        (
            "users: 2M are stage 4, not yet multi-region: between, 10000 to 100000",
            json!({"peak_rps": 1, "users": 2000000}),
            vec![
                ("/stage/number", json!(4)),
                ("/stage/name", json!("Sharding")),
                ("/monthly_cost_usd/low", json!(10000)),
                ("/monthly_cost_usd/high", json!(100000)),
                ("/monthly_cost_usd/basis", json!("between")),
                (
                    "/monthly_cost_usd/architecture",
                    json!("Microservices + sharding"),
                ),
            ],
        ),
        (
            "users: 20M are stage 5",
            json!({"peak_rps": 1, "users": 20000000}),
            vec![
                ("/stage/number", json!(5)),
                ("/stage/name", json!("Distributed")),
                ("/monthly_cost_usd/architecture", json!("Multi-region")),
                ("/monthly_cost_usd/basis", json!("row")),
                ("/monthly_cost_usd/high", Value::Null),
            ],
        ),
    ];
    for (case, args, expected) in cases {
        let out = call(&advisor, "plan_capacity", &args);
        assert_fields(case, &out.structured, &expected);
    }
}

#[test]
fn plan_capacity_shows_every_formula_with_its_numbers() {
    let advisor = advisor();
    let out = call(
        &advisor,
        "plan_capacity",
        &json!({"peak_rps": 1000, "growth_factor": 3, "per_server_rps": 1000, "db_cores": 8,
                "reads_per_sec": 10000, "replica_read_capacity_per_sec": 3000,
                "avg_latency_ms": 200, "users": 50000}),
    );
    let r = &out.structured;
    let expected = [
        (
            "required_rps",
            "required_rps = peak_rps × growth_factor × safety_margin",
            "1000 × 3 × 1.5",
            4500.0,
        ),
        (
            "servers",
            "servers = ceil(required_rps / per_server_rps)",
            "ceil(4500 / 1000)",
            5.0,
        ),
        (
            "pool_size",
            "pool_size = db_cores × 2 + effective_spindles",
            "8 × 2 + 1",
            17.0,
        ),
        (
            "read_replicas",
            "read_replicas = ceil(reads_per_sec × safety_margin / replica_read_capacity_per_sec)",
            "ceil(10000 × 1.5 / 3000)",
            5.0,
        ),
        (
            "in_flight_requests",
            "in_flight_requests = required_rps × avg_latency_ms / 1000",
            "4500 × 200 / 1000",
            900.0,
        ),
    ];
    let quantities: Vec<&str> = r["workings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["quantity"].as_str().unwrap())
        .collect();
    assert_eq!(quantities, expected.map(|e| e.0));
    for (quantity, formula, substituted, value) in expected {
        let (f, s, v) = working(r, quantity).unwrap();
        assert_eq!(f, formula);
        assert_eq!(s, substituted, "{quantity}");
        assert_eq!(v, value, "{quantity}");
        assert_eq!(r[quantity].as_f64(), Some(value), "{quantity} field");
    }
    assert!(
        r.get("notes")
            .and_then(Value::as_array)
            .is_none_or(Vec::is_empty)
    );
    for uri in [
        "knowledge://capacity-planning#formulas",
        "knowledge://capacity-planning#required-capacity",
        "knowledge://capacity-planning#servers",
        "knowledge://capacity-planning#connection-pool-size",
        "knowledge://capacity-planning#read-replicas",
        "knowledge://capacity-planning#in-flight-requests",
        "knowledge://capacity-planning#defaults",
        "knowledge://capacity-planning#cost-by-scale",
        "knowledge://scaling-stages#stages",
    ] {
        assert!(
            r["sources"].as_array().unwrap().contains(&json!(uri)),
            "sources lack {uri}"
        );
    }
    // Every cited source resolves.
    for uri in r["sources"].as_array().unwrap() {
        assert!(
            advisor.knowledge().resolve(uri.as_str().unwrap()).is_some(),
            "{uri}"
        );
    }
}

#[test]
fn plan_capacity_applies_every_default_and_names_it() {
    let advisor = advisor();
    let out = call(
        &advisor,
        "plan_capacity",
        &json!({"peak_rps": 10, "db_cores": 2}),
    );
    assert_eq!(
        defaults(&out.structured),
        [
            ("growth_factor".to_string(), 1.0),
            ("safety_margin".to_string(), 1.5),
            ("effective_spindles".to_string(), 1.0),
        ]
    );
    let out = call(
        &advisor,
        "plan_capacity",
        &json!({"peak_rps": 10, "growth_factor": 1, "safety_margin": 1.5, "db_cores": 2, "effective_spindles": 1}),
    );
    assert!(defaults(&out.structured).is_empty());
    // Without the inputs of a figure, a note says what it needs.
    let out = call(&advisor, "plan_capacity", &json!({"peak_rps": 10}));
    let notes = out.structured["notes"].to_string();
    for needed in [
        "per_server_rps",
        "db_cores",
        "reads_per_sec",
        "avg_latency_ms",
        "users",
    ] {
        assert!(notes.contains(needed), "{notes} lacks {needed}");
    }
}

#[test]
fn plan_capacity_refusals() {
    let advisor = advisor();
    let cases: Vec<(Value, &str, &str)> = vec![
        (json!({}), "peak_rps", "required"),
        (json!({"growth_factor": 2}), "peak_rps", "required"),
        (json!({"peak_rps": 0}), "peak_rps", "above 0"),
        (json!({"peak_rps": -10}), "peak_rps", "above 0"),
        (
            json!({"peak_rps": 10, "growth_factor": 0}),
            "growth_factor",
            "above 0",
        ),
        (
            json!({"peak_rps": 10, "safety_margin": 0.5}),
            "safety_margin",
            "at least 1",
        ),
        (
            json!({"peak_rps": 10, "per_server_rps": 0}),
            "per_server_rps",
            "above 0",
        ),
        (
            json!({"peak_rps": 10, "reads_per_sec": 0, "replica_read_capacity_per_sec": 10}),
            "reads_per_sec",
            "above 0",
        ),
        (
            json!({"peak_rps": 10, "reads_per_sec": 10, "replica_read_capacity_per_sec": -1}),
            "replica_read_capacity_per_sec",
            "above 0",
        ),
        (
            json!({"peak_rps": 10, "avg_latency_ms": 0}),
            "avg_latency_ms",
            "above 0",
        ),
        (
            json!({"peak_rps": 10, "db_cores": 0}),
            "db_cores",
            "at least 1",
        ),
        (
            json!({"peak_rps": 10, "db_cores": 2.5}),
            "db_cores",
            "whole number",
        ),
        (json!({"peak_rps": 10, "users": -1}), "users", "at least 0"),
        (
            json!({"peak_rps": 1e308, "growth_factor": 3}),
            "peak_rps",
            "peak_rps × growth_factor × safety_margin stays below 1.8e308",
        ),
        (
            json!({"peak_rps": 1e10, "per_server_rps": 1e-300}),
            "per_server_rps",
            "servers = ceil(required_rps / per_server_rps) is at most 18446744073709551615",
        ),
        (
            json!({"peak_rps": 1, "reads_per_sec": 1e300, "replica_read_capacity_per_sec": 1e-300}),
            "replica_read_capacity_per_sec",
            "is at most 18446744073709551615",
        ),
        (
            json!({"peak_rps": 1, "db_cores": u64::MAX}),
            "db_cores",
            "pool_size = db_cores × 2 + effective_spindles is at most",
        ),
        (
            json!({"peak_rps": 1e300, "avg_latency_ms": 1e300}),
            "avg_latency_ms",
            "required_rps × avg_latency_ms / 1000 stays below 1.8e308",
        ),
        (json!({"peak_rps": 10, "peak": 1}), "peak", "unknown field"),
    ];
    for (args, field, words) in cases {
        let error = refusal(&advisor, "plan_capacity", &args);
        let text = error.to_string();
        assert_eq!(error.field, field, "{args}: {text}");
        assert!(text.contains(words), "{args}: `{text}` lacks `{words}`");
    }
    let error = refusal(
        &advisor,
        "plan_capacity",
        &json!({"peak_rps": 1e308, "growth_factor": 3}),
    );
    assert_eq!(error.received, "1e308");
}

// ---------------------------------------------------------------------------------------------
// Markdown snapshots

#[test]
fn markdown_snapshots() {
    let advisor = advisor();
    let cases = [
        (
            "size_cache_full",
            "size_cache",
            json!({"total_data_gb": 50, "node_memory_gb": 16, "replicas": 1, "requests_per_sec": 10000, "hit_rate_pct": 90}),
        ),
        (
            "size_cache_fresh_writes",
            "size_cache",
            json!({"working_set_gb": 10, "strong_freshness": true, "write_heavy": true}),
        ),
        (
            "size_cache_expensive_misses",
            "size_cache",
            json!({"working_set_gb": 2.5, "expensive_misses": true}),
        ),
        (
            "plan_capacity_full",
            "plan_capacity",
            json!({"peak_rps": 1000, "growth_factor": 3, "per_server_rps": 1000, "db_cores": 8,
                   "reads_per_sec": 10000, "replica_read_capacity_per_sec": 3000,
                   "avg_latency_ms": 200, "users": 50000}),
        ),
        (
            "plan_capacity_peak_only",
            "plan_capacity",
            json!({"peak_rps": 120}),
        ),
        (
            "plan_capacity_large",
            "plan_capacity",
            json!({"peak_rps": 250000, "growth_factor": 2, "users": 25000000}),
        ),
    ];
    for (name, tool, args) in cases {
        let out = call(&advisor, tool, &args);
        insta::assert_snapshot!(name, out.markdown);
    }
}

// ---------------------------------------------------------------------------------------------
// Malformed tables are refused at start-up, with the file, the line and the reason.

/// The advisor over the embedded knowledge with one edit to one document, laid over it from a
/// temporary `--knowledge-dir`-style folder; the error text when it is refused.
fn edited(slug: &str, from: &str, to: &str) -> Result<Advisor, String> {
    let original = advisor()
        .knowledge()
        .document(slug)
        .unwrap()
        .text()
        .to_string();
    assert!(original.contains(from), "{slug} holds `{from}`");
    // Tests run in parallel threads: each edit gets a folder of its own.
    static EDITS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!(
        "scale-advisor-calculators-{}-{}",
        std::process::id(),
        EDITS.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    ));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join(format!("{slug}.md")),
        original.replacen(from, to, 1),
    )
    .unwrap();
    let knowledge = knowledge::Knowledge::with_dir(&dir);
    let _ = std::fs::remove_dir_all(&dir);
    let knowledge = knowledge.map_err(|e| e.to_string())?;
    Advisor::new(knowledge).map_err(|e| e.to_string())
}

fn load_with(slug: &str, from: &str, to: &str) -> String {
    match edited(slug, from, to) {
        Ok(_) => panic!("the edit `{from}` → `{to}` of {slug} was accepted"),
        Err(error) => error,
    }
}

#[test]
fn an_edited_formula_changes_the_result_and_its_working() {
    let args = json!({"working_set_gb": 10, "node_memory_gb": 16});
    let before = call(&advisor(), "size_cache", &args);
    assert_eq!(before.structured["memory_gb"], 15.0);
    let advisor = edited(
        "caching",
        "memory_gb = working_set_gb × overhead_factor |",
        "memory_gb = working_set_gb × overhead_factor × 2 + 1 |",
    )
    .unwrap();
    let after = call(&advisor, "size_cache", &args);
    assert_eq!(after.structured["memory_gb"], 31.0);
    // The count that depends on it follows: ceil(31 / (16 × 0.75)) = 3.
    assert_eq!(after.structured["nodes"], 3);
    let (formula, substituted, value) = working(&after.structured, "memory_gb").unwrap();
    assert_eq!(
        formula,
        "memory_gb = working_set_gb × overhead_factor × 2 + 1"
    );
    assert_eq!(substituted, "10 × 1.5 × 2 + 1");
    assert_eq!(value, 31.0);
    assert!(after.markdown.contains("31 GB"), "{}", after.markdown);

    // plan_capacity too: a pool formula of cores × 4 instead of × 2.
    let advisor = edited(
        "capacity-planning",
        "pool_size = db_cores × 2 + effective_spindles",
        "pool_size = db_cores × 4 + effective_spindles",
    )
    .unwrap();
    let plan = call(
        &advisor,
        "plan_capacity",
        &json!({"peak_rps": 100, "db_cores": 8}),
    );
    assert_eq!(plan.structured["pool_size"], 33);
    // A count whose edited formula forgets `ceil` is still rounded up.
    let advisor = edited(
        "capacity-planning",
        "servers = ceil(required_rps / per_server_rps)",
        "servers = required_rps / per_server_rps",
    )
    .unwrap();
    let plan = call(
        &advisor,
        "plan_capacity",
        &json!({"peak_rps": 1000, "per_server_rps": 400}),
    );
    assert_eq!(plan.structured["servers"], 4);

    // The reshard shares of plan_migration: a ring share over the smaller count instead.
    let advisor = edited(
        "sharding",
        "abs(target_shards − current_shards) / max(target_shards, current_shards)",
        "abs(target_shards − current_shards) / min(target_shards, current_shards)",
    )
    .unwrap();
    let args = json!({"kind": "reshard", "current_shards": 4, "target_shards": 5});
    let plan = call(&advisor, "plan_migration", &args);
    let reshard = &plan.structured["reshard"];
    assert_eq!(reshard["consistent_hashing_moved_fraction"], 0.25);
    assert_eq!(
        reshard["consistent_hashing_formula"],
        "abs(5 − 4) / min(5, 4) = 0.25"
    );
}

#[test]
fn malformed_calculator_tables_are_refused_at_start_up() {
    let cases = [
        (
            "caching",
            "memory_gb = working_set_gb × overhead_factor |",
            "memory_gb = working_set_gb × overhead |",
            "in `formula`: unknown quantity `overhead`; did you mean `overhead_factor`?",
        ),
        (
            "caching",
            "memory_gb = working_set_gb × overhead_factor |",
            "memory_gb = working_set_gb × (overhead_factor |",
            "`)` expected to close the `(`",
        ),
        (
            "capacity-planning",
            "servers = ceil(required_rps / per_server_rps)",
            "servers = roundup(required_rps / per_server_rps)",
            "unknown function `roundup`",
        ),
        (
            "capacity-planning",
            "servers = ceil(required_rps / per_server_rps)",
            "nodes = ceil(required_rps / per_server_rps)",
            "must start with `servers =`",
        ),
        (
            "capacity-planning",
            "pool_size = db_cores × 2 + effective_spindles",
            "pool_size = db_cores × 2 + peak_rps",
            "unknown quantity `peak_rps`; known: db_cores, effective_spindles",
        ),
        (
            "caching",
            "| `expensive_misses` | Product record (example) | 3600 |",
            "| `expensive_misses` | Product record (example) | 7200 |",
            "outside the range",
        ),
        (
            "caching",
            "| overhead_factor | 1.5 | 1 | |",
            "| overhead_factor | 0.5 | 1 | |",
            "outside what the argument accepts",
        ),
        (
            "caching",
            "| cache_aside | `otherwise` |",
            "| cache_aside | `expensive_miss` |",
            "expensive_misses",
        ),
        (
            "capacity-planning",
            "| | 5 | Multi-region | 100000 | |",
            "| 10000000 | 5 | Multi-region | 100000 | |",
            "the last band must leave `max_users` empty",
        ),
        (
            "capacity-planning",
            "| 1000000 | 4 | Microservices + sharding |",
            "| 1000000 | 1 | Microservices + sharding |",
            "rows must be listed by growing `stage`",
        ),
        (
            "capacity-planning",
            "| safety_margin | 1.5 |",
            "| safety_margn | 1.5 |",
            "did you mean `safety_margin`",
        ),
    ];
    for (slug, from, to, words) in cases {
        let error = load_with(slug, from, to);
        assert!(error.contains(&format!("{slug}.md")), "{error}");
        assert!(error.contains(words), "`{error}` lacks `{words}`");
    }
}

//! `size_cache` and `plan_capacity` through the real binary: every default and every formula
//! with its working, the rules of the caching document, sources that resolve, and refusals as
//! `isError` results that name the field.

use serde_json::{Value, json};

use crate::harness::Server;

/// (arguments, expected (JSON pointer, value) pairs, workings as (quantity, substituted,
/// value), defaults applied as (parameter, value)).
type Case = (
    Value,
    Vec<(&'static str, Value)>,
    Vec<(&'static str, &'static str, f64)>,
    Vec<(&'static str, f64)>,
);

/// Checks each (JSON pointer, value) of `expected` in `result`; numbers compare as numbers.
fn assert_fields(case: &str, result: &Value, expected: &[(&str, Value)]) {
    for (pointer, want) in expected {
        let got = result
            .pointer(pointer)
            .unwrap_or_else(|| panic!("{case}: no {pointer} in {result}"));
        let equal = match (got.as_f64(), want.as_f64()) {
            (Some(g), Some(w)) => g == w,
            _ => got == want,
        };
        assert!(equal, "{case}: {pointer} is {got}, expected {want}");
    }
}

/// The arguments with `detail: full`: these tests read each working's formula and the figures
/// behind the answer; `model_reads.rs` covers what concise keeps.
fn full(mut args: Value) -> Value {
    if let Some(map) = args.as_object_mut() {
        map.insert("detail".into(), json!("full"));
    }
    args
}

/// The working of `quantity` as (formula, substituted, value).
fn working(result: &Value, quantity: &str) -> (String, String, f64) {
    let w = result["workings"]
        .as_array()
        .and_then(|list| list.iter().find(|w| w["quantity"] == quantity))
        .unwrap_or_else(|| panic!("no working of {quantity} in {result}"));
    (
        w["formula"].as_str().unwrap_or_default().to_string(),
        w["substituted"].as_str().unwrap_or_default().to_string(),
        w["value"].as_f64().unwrap_or(f64::NAN),
    )
}

fn default_applied(result: &Value, parameter: &str) -> Option<f64> {
    result["defaults_applied"]
        .as_array()?
        .iter()
        .find(|d| d["parameter"] == parameter)
        .and_then(|d| d["value"].as_f64())
}

#[test]
fn tools_list_describes_both_calculators() {
    let mut server = Server::start();
    let list = server.request("tools/list", json!({}));
    let tools = list["result"]["tools"].as_array().expect("a tool list");
    for name in ["size_cache", "plan_capacity"] {
        let tool = tools
            .iter()
            .find(|t| t["name"] == name)
            .unwrap_or_else(|| panic!("{name} is listed"));
        let properties = tool["inputSchema"]["properties"]
            .as_object()
            .expect("input properties");
        for (field, property) in properties {
            assert!(
                property["description"]
                    .as_str()
                    .is_some_and(|d| !d.is_empty()),
                "{name}.{field} is described"
            );
        }
        let output = crate::harness::result_fields(name);
        for field in ["workings", "sources", "defaults_applied"] {
            assert!(
                output.contains_key(field),
                "{name} outputSchema has {field}"
            );
        }
    }
    let size = tools.iter().find(|t| t["name"] == "size_cache").unwrap();
    let hot = &size["inputSchema"]["properties"]["hot_fraction"];
    assert!(hot["description"].as_str().unwrap().contains("Default 0.2"));
    assert_eq!(hot["maximum"].as_f64(), Some(1.0));
    let plan = tools.iter().find(|t| t["name"] == "plan_capacity").unwrap();
    assert_eq!(plan["inputSchema"]["required"], json!(["peak_rps"]));
}

#[test]
fn size_cache_figures_defaults_and_workings() {
    let mut server = Server::start();
    let cases: Vec<Case> = vec![
        (
            json!({"working_set_gb": 10}),
            vec![
                ("/working_set_gb", json!(10)),
                ("/memory_gb", json!(15)),
                ("/nodes", Value::Null),
                ("/db_reads_per_sec", Value::Null),
            ],
            vec![("memory_gb", "10 × 1.5", 15.0)],
            vec![("overhead_factor", 1.5)],
        ),
        (
            json!({"total_data_gb": 500}),
            vec![("/working_set_gb", json!(100)), ("/memory_gb", json!(150))],
            vec![
                ("working_set_gb", "500 × 0.2", 100.0),
                ("memory_gb", "100 × 1.5", 150.0),
            ],
            vec![("hot_fraction", 0.2), ("overhead_factor", 1.5)],
        ),
        (
            json!({"total_data_gb": 200, "hot_fraction": 0.1, "overhead_factor": 2}),
            vec![("/working_set_gb", json!(20)), ("/memory_gb", json!(40))],
            vec![
                ("working_set_gb", "200 × 0.1", 20.0),
                ("memory_gb", "20 × 2", 40.0),
            ],
            vec![],
        ),
        (
            json!({"working_set_gb": 10, "node_memory_gb": 16}),
            vec![("/nodes", json!(2)), ("/total_nodes", json!(2))],
            vec![
                ("memory_nodes", "ceil(15 / (16 × 75 / 100))", 2.0),
                ("total_nodes", "2 × (1 + 0)", 2.0),
            ],
            vec![
                ("overhead_factor", 1.5),
                ("max_memory_utilization_pct", 75.0),
                ("replicas", 0.0),
            ],
        ),
        (
            json!({"working_set_gb": 8, "node_memory_gb": 16, "replicas": 2}),
            vec![("/nodes", json!(1)), ("/total_nodes", json!(3))],
            vec![
                ("memory_nodes", "ceil(12 / (16 × 75 / 100))", 1.0),
                ("total_nodes", "1 × (1 + 2)", 3.0),
            ],
            vec![
                ("overhead_factor", 1.5),
                ("max_memory_utilization_pct", 75.0),
            ],
        ),
        (
            json!({"working_set_gb": 10, "overhead_factor": 2, "node_memory_gb": 10, "max_memory_utilization_pct": 50}),
            vec![("/memory_gb", json!(20)), ("/nodes", json!(4))],
            vec![("memory_nodes", "ceil(20 / (10 × 50 / 100))", 4.0)],
            vec![("replicas", 0.0)],
        ),
        (
            json!({"working_set_gb": 1, "requests_per_sec": 10000, "hit_rate_pct": 90}),
            vec![("/db_reads_per_sec", json!(1000))],
            vec![("db_reads_per_sec", "10000 × (100 − 90) / 100", 1000.0)],
            vec![("overhead_factor", 1.5)],
        ),
    ];
    for (args, expected, workings, defaults) in cases {
        let case = args.to_string();
        let result = server.call_ok("size_cache", full(args));
        assert_fields(&case, &result, &expected);
        for (quantity, substituted, value) in workings {
            let (formula, s, v) = working(&result, quantity);
            assert!(
                formula.starts_with(&format!("{quantity} = ")),
                "{case}: {formula}"
            );
            assert_eq!(s, substituted, "{case}: {quantity}");
            assert_eq!(v, value, "{case}: {quantity}");
        }
        let applied = result["defaults_applied"].as_array().unwrap().len();
        assert_eq!(
            applied,
            defaults.len(),
            "{case}: {}",
            result["defaults_applied"]
        );
        for (parameter, value) in defaults {
            assert_eq!(
                default_applied(&result, parameter),
                Some(value),
                "{case}: default {parameter}"
            );
        }
    }
}

#[test]
fn size_cache_formulas_are_the_documents() {
    let mut server = Server::start();
    let result = server.call_ok("size_cache", full(json!({"total_data_gb": 50, "node_memory_gb": 16, "replicas": 1, "requests_per_sec": 10000, "hit_rate_pct": 90}),));
    let formulas = [
        (
            "working_set_gb",
            "working_set_gb = total_data_gb × hot_fraction",
        ),
        ("memory_gb", "memory_gb = working_set_gb × overhead_factor"),
        (
            "memory_nodes",
            "memory_nodes = ceil(memory_gb / (node_memory_gb × max_memory_utilization_pct / 100))",
        ),
        (
            "throughput_nodes",
            "throughput_nodes = ceil(requests_per_sec / node_ops_per_sec)",
        ),
        ("nodes", "nodes = max(memory_nodes, throughput_nodes)"),
        ("total_nodes", "total_nodes = nodes × (1 + replicas)"),
        (
            "db_reads_per_sec",
            "db_reads_per_sec = requests_per_sec × (100 − hit_rate_pct) / 100",
        ),
    ];
    for (quantity, formula) in formulas {
        assert_eq!(working(&result, quantity).0, formula);
    }
    let sizing = server.read_resource("knowledge://caching#sizing-formulas");
    let text = sizing["result"]["contents"][0]["text"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    for (_, formula) in formulas {
        assert!(
            text.contains(formula),
            "the caching document holds `{formula}`"
        );
    }
}

#[test]
fn size_cache_rules_and_sources() {
    let mut server = Server::start();
    // (flags, strategy, invalidation, ttl_seconds, stampede protections)
    let cases = [
        (json!({}), "cache_aside", "ttl", 300, 3),
        (
            json!({"strong_freshness": true}),
            "write_through",
            "event_based",
            300,
            3,
        ),
        (
            json!({"strong_freshness": true, "write_heavy": true}),
            "write_through",
            "version_based",
            300,
            3,
        ),
        (
            json!({"write_heavy": true, "tolerates_data_loss": true}),
            "write_behind",
            "ttl",
            60,
            3,
        ),
        (json!({"write_heavy": true}), "cache_aside", "ttl", 60, 3),
        (
            json!({"expensive_misses": true}),
            "refresh_ahead",
            "ttl",
            3600,
            4,
        ),
    ];
    for (flags, strategy, invalidation, ttl, protections) in cases {
        let mut args = flags.as_object().cloned().unwrap();
        args.insert("working_set_gb".into(), json!(4));
        // The pros and cons of the strategy chosen are an explanation: `detail: full`.
        args.insert("detail".into(), json!("full"));
        let result = server.call_ok("size_cache", Value::Object(args));
        let case = flags.to_string();
        assert_eq!(result["strategy"], strategy, "{case}");
        assert_eq!(result["invalidation"], invalidation, "{case}");
        assert_eq!(result["ttl_seconds"], ttl, "{case}");
        assert!(
            !result["strategy_details"]["pros"]
                .as_str()
                .unwrap()
                .is_empty()
        );
        assert!(
            !result["strategy_details"]["cons"]
                .as_str()
                .unwrap()
                .is_empty()
        );
        assert!(
            !result["invalidation_details"]["reason"]
                .as_str()
                .unwrap()
                .is_empty()
        );
        let names: Vec<&str> = result["stampede_protection"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["name"].as_str().unwrap())
            .collect();
        assert_eq!(names.len(), protections, "{case}: {names:?}");
        assert_eq!(
            &names[..3],
            [
                "request_coalescing",
                "probabilistic_early_refresh",
                "ttl_jitter"
            ]
        );
    }
    let result = server.call_ok(
        "size_cache",
        json!({"working_set_gb": 4, "node_memory_gb": 8}),
    );
    let sources = result["sources"].as_array().unwrap().clone();
    assert!(sources.contains(&json!("knowledge://failure-modes#cache-stampede")));
    for uri in sources {
        let read = server.read_resource(uri.as_str().unwrap());
        assert!(read.get("result").is_some(), "{uri} resolves: {read}");
    }
}

#[test]
fn plan_capacity_figures_defaults_and_workings() {
    let mut server = Server::start();
    let cases: Vec<Case> = vec![
        (
            json!({"peak_rps": 1000, "growth_factor": 3}),
            vec![
                ("/required_rps", json!(4500)),
                ("/servers", Value::Null),
                ("/stage", Value::Null),
            ],
            vec![("required_rps", "1000 × 3 × 1.5", 4500.0)],
            vec![("safety_margin", 1.5)],
        ),
        (
            json!({"peak_rps": 100}),
            vec![("/required_rps", json!(150))],
            vec![("required_rps", "100 × 1 × 1.5", 150.0)],
            vec![("growth_factor", 1.0), ("safety_margin", 1.5)],
        ),
        (
            json!({"peak_rps": 1000, "growth_factor": 3, "safety_margin": 1.5, "per_server_rps": 1000}),
            vec![("/servers", json!(5))],
            vec![("servers", "ceil(4500 / 1000)", 5.0)],
            vec![],
        ),
        (
            json!({"peak_rps": 1000, "safety_margin": 1, "growth_factor": 1, "per_server_rps": 250}),
            vec![("/servers", json!(4))],
            vec![("servers", "ceil(1000 / 250)", 4.0)],
            vec![],
        ),
        (
            json!({"peak_rps": 1, "growth_factor": 1, "safety_margin": 1, "db_cores": 8}),
            vec![("/pool_size", json!(17))],
            vec![("pool_size", "8 × 2 + 1", 17.0)],
            vec![("effective_spindles", 1.0)],
        ),
        (
            json!({"peak_rps": 1, "growth_factor": 1, "safety_margin": 1, "db_cores": 4, "effective_spindles": 4}),
            vec![("/pool_size", json!(12))],
            vec![("pool_size", "4 × 2 + 4", 12.0)],
            vec![],
        ),
        (
            json!({"peak_rps": 1, "growth_factor": 1, "safety_margin": 1, "reads_per_sec": 10000, "replica_read_capacity_per_sec": 3000}),
            vec![("/read_replicas", json!(4))],
            vec![("read_replicas", "ceil(10000 × 1 / 3000)", 4.0)],
            vec![],
        ),
        (
            json!({"peak_rps": 1000, "growth_factor": 3, "avg_latency_ms": 200}),
            vec![("/in_flight_requests", json!(900))],
            vec![("in_flight_requests", "4500 × 200 / 1000", 900.0)],
            vec![("safety_margin", 1.5)],
        ),
    ];
    for (args, expected, workings, defaults) in cases {
        let case = args.to_string();
        let result = server.call_ok("plan_capacity", full(args));
        assert_fields(&case, &result, &expected);
        for (quantity, substituted, value) in workings {
            let (formula, s, v) = working(&result, quantity);
            assert!(
                formula.starts_with(&format!("{quantity} = ")),
                "{case}: {formula}"
            );
            assert_eq!(s, substituted, "{case}: {quantity}");
            assert_eq!(v, value, "{case}: {quantity}");
        }
        assert_eq!(
            result["defaults_applied"].as_array().unwrap().len(),
            defaults.len(),
            "{case}"
        );
        for (parameter, value) in defaults {
            assert_eq!(
                default_applied(&result, parameter),
                Some(value),
                "{case}: default {parameter}"
            );
        }
    }
}

#[test]
fn plan_capacity_formulas_stage_and_cost() {
    let mut server = Server::start();
    let result = server.call_ok("plan_capacity", full(json!({"peak_rps": 1000, "growth_factor": 3, "per_server_rps": 1000, "db_cores": 8,
               "reads_per_sec": 10000, "replica_read_capacity_per_sec": 3000, "avg_latency_ms": 200, "users": 50000}),));
    let formulas = [
        (
            "required_rps",
            "required_rps = peak_rps × growth_factor × safety_margin",
        ),
        ("servers", "servers = ceil(required_rps / per_server_rps)"),
        ("pool_size", "pool_size = db_cores × 2 + effective_spindles"),
        (
            "read_replicas",
            "read_replicas = ceil(reads_per_sec × safety_margin / replica_read_capacity_per_sec)",
        ),
        (
            "in_flight_requests",
            "in_flight_requests = required_rps × avg_latency_ms / 1000",
        ),
    ];
    for (quantity, formula) in formulas {
        assert_eq!(working(&result, quantity).0, formula);
    }
    for uri in result["sources"].as_array().unwrap().clone() {
        let read = server.read_resource(uri.as_str().unwrap());
        assert!(read.get("result").is_some(), "{uri} resolves: {read}");
    }

    // (users, stage number, stage name, low, high)
    // A row that prices a later stage than the user count's gives a band between it and the
    // row before (100001 users are stage 3; the row up to 1M prices stage 4's sharding).
    let bands = [
        (0, 1, "Prototype", 100, Some(300)),
        (9999, 1, "Prototype", 100, Some(300)),
        (10000, 2, "Caching", 100, Some(300)),
        (10001, 2, "Caching", 1000, Some(3000)),
        (100000, 3, "Read Replicas", 1000, Some(3000)),
        (100001, 3, "Read Replicas", 1000, Some(30000)),
        (1000000, 4, "Sharding", 10000, Some(30000)),
        (1000001, 4, "Sharding", 10000, Some(100000)),
        (9999999, 4, "Sharding", 10000, Some(100000)),
        (10000000, 5, "Distributed", 100000, None),
    ];
    for (users, number, name, low, high) in bands {
        let result = server.call_ok(
            "plan_capacity",
            full(json!({"peak_rps": 10, "users": users})),
        );
        assert_eq!(
            result["stage"],
            json!({"number": number, "name": name}),
            "users {users}"
        );
        assert_eq!(result["monthly_cost_usd"]["low"], low, "users {users}");
        assert_eq!(
            result["monthly_cost_usd"]["high"],
            json!(high),
            "users {users}"
        );
    }
}

#[test]
fn calculators_answer_with_markdown_too() {
    let mut server = Server::start();
    let result = server.call_tool(
        "plan_capacity",
        json!({"peak_rps": 1000, "growth_factor": 3, "per_server_rps": 1000}),
    );
    let text = result["content"][0]["text"].as_str().unwrap_or_default();
    assert!(text.contains("4,500 requests per second"), "{text}");
    assert!(text.contains("ceil(4500 / 1000) = **5**"), "{text}");
    let result = server.call_tool("size_cache", json!({"working_set_gb": 10}));
    let text = result["content"][0]["text"].as_str().unwrap_or_default();
    assert!(text.contains("10 × 1.5 = **15**"), "{text}");
}

#[test]
fn calculators_refuse_bad_inputs_as_tool_errors() {
    let mut server = Server::start();
    // (tool, arguments, words the error must hold)
    let cases: Vec<(&str, Value, Vec<&str>)> = vec![
        ("size_cache", json!({}), vec!["working_set_gb", "neither"]),
        (
            "size_cache",
            json!({"working_set_gb": 10, "total_data_gb": 100}),
            vec!["total_data_gb", "exactly one"],
        ),
        (
            "size_cache",
            json!({"total_data_gb": 100, "hot_fraction": 1.2}),
            vec!["hot_fraction", "1.2", "from 0 to 1"],
        ),
        (
            "size_cache",
            json!({"total_data_gb": 100, "hot_fraction": -0.5}),
            vec!["hot_fraction", "from 0 to 1"],
        ),
        (
            "size_cache",
            json!({"working_set_gb": 10, "hot_fraction": 0.3}),
            vec!["hot_fraction", "total_data_gb"],
        ),
        (
            "size_cache",
            json!({"working_set_gb": 10, "overhead_factor": 0.5}),
            vec!["overhead_factor", "at least 1"],
        ),
        (
            "size_cache",
            json!({"working_set_gb": 10, "requests_per_sec": 0, "hit_rate_pct": 50}),
            vec!["requests_per_sec", "above 0"],
        ),
        (
            "size_cache",
            json!({"working_set_gb": 10, "node_memory_gb": -4}),
            vec!["node_memory_gb", "above 0"],
        ),
        (
            "size_cache",
            json!({"working_set_gb": 1.5e308}),
            vec!["working_set_gb", "1.8e308"],
        ),
        (
            "size_cache",
            json!({"working_set_gb": 1e10, "node_memory_gb": 1e-300}),
            vec!["node_memory_gb", "18446744073709551615"],
        ),
        (
            "size_cache",
            json!({"working_set": 10}),
            vec!["working_set", "working_set_gb"],
        ),
        ("plan_capacity", json!({}), vec!["peak_rps", "required"]),
        (
            "plan_capacity",
            json!({"peak_rps": 0}),
            vec!["peak_rps", "above 0"],
        ),
        (
            "plan_capacity",
            json!({"peak_rps": -100}),
            vec!["peak_rps", "above 0"],
        ),
        (
            "plan_capacity",
            json!({"peak_rps": 100, "growth_factor": 0}),
            vec!["growth_factor", "above 0"],
        ),
        (
            "plan_capacity",
            json!({"peak_rps": 100, "safety_margin": 0.9}),
            vec!["safety_margin", "at least 1"],
        ),
        (
            "plan_capacity",
            json!({"peak_rps": 100, "per_server_rps": -1}),
            vec!["per_server_rps", "above 0"],
        ),
        (
            "plan_capacity",
            json!({"peak_rps": 100, "reads_per_sec": 0, "replica_read_capacity_per_sec": 5}),
            vec!["reads_per_sec", "above 0"],
        ),
        (
            "plan_capacity",
            json!({"peak_rps": 100, "avg_latency_ms": 0}),
            vec!["avg_latency_ms", "above 0"],
        ),
        (
            "plan_capacity",
            json!({"peak_rps": 100, "db_cores": 0}),
            vec!["db_cores", "at least 1"],
        ),
        (
            "plan_capacity",
            json!({"peak_rps": 1e308, "growth_factor": 3}),
            vec![
                "peak_rps",
                "1e308",
                "peak_rps × growth_factor × safety_margin",
                "1.8e308",
            ],
        ),
        (
            "plan_capacity",
            json!({"peak_rps": 1e10, "per_server_rps": 1e-300}),
            vec!["per_server_rps", "18446744073709551615"],
        ),
        (
            "plan_capacity",
            json!({"peak_rps": 1, "db_cores": u64::MAX}),
            vec!["db_cores", "18446744073709551615"],
        ),
        (
            "plan_capacity",
            json!({"peak_rps": 1e300, "avg_latency_ms": 1e300}),
            vec!["avg_latency_ms", "1.8e308"],
        ),
    ];
    for (tool, args, words) in cases {
        let text = server.call_err(tool, args.clone());
        for word in words {
            assert!(
                text.contains(word),
                "{tool}({args}): `{text}` lacks `{word}`"
            );
        }
    }
    // The server is still there after the refusals.
    assert_eq!(
        server.call_ok("plan_capacity", json!({"peak_rps": 2, "safety_margin": 1}))["required_rps"],
        json!(2.0)
    );
}

/// A copy of the knowledge base in a temporary `--knowledge-dir`, with `edits` applied to the
/// document `slug` as (text found, text written).
fn knowledge_dir_with(name: &str, slug: &str, edits: &[(&str, &str)]) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("scale-advisor-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let docs = concat!(env!("CARGO_MANIFEST_DIR"), "/../knowledge/docs");
    for entry in std::fs::read_dir(docs).unwrap() {
        let path = entry.unwrap().path();
        std::fs::copy(&path, dir.join(path.file_name().unwrap())).unwrap();
    }
    let path = dir.join(format!("{slug}.md"));
    let mut text = std::fs::read_to_string(&path).unwrap();
    for (from, to) in edits {
        assert!(text.contains(from), "{slug}.md holds `{from}`");
        text = text.replacen(from, to, 1);
    }
    std::fs::write(&path, text).unwrap();
    dir
}

#[test]
fn an_edited_formula_in_a_knowledge_dir_changes_the_result() {
    let args = json!({"working_set_gb": 10, "node_memory_gb": 16});
    let mut server = Server::start();
    let before = server.call_ok("size_cache", full(args.clone()));
    assert_eq!(before["memory_gb"], 15.0);
    drop(server);

    let dir = knowledge_dir_with(
        "formula",
        "caching",
        &[(
            "memory_gb = working_set_gb × overhead_factor |",
            "memory_gb = working_set_gb × overhead_factor × 2 |",
        )],
    );
    let mut server = Server::raw_with(&["--knowledge-dir", dir.to_str().unwrap()]);
    let init = server.request(
        "initialize",
        json!({"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "t", "version": "0"}}),
    );
    assert!(init["result"].is_object());
    let after = server.call_ok("size_cache", full(args));
    assert_eq!(after["memory_gb"], 30.0);
    assert_eq!(after["nodes"], 3);
    let (formula, substituted, value) = working(&after, "memory_gb");
    assert_eq!(formula, "memory_gb = working_set_gb × overhead_factor × 2");
    assert_eq!(substituted, "10 × 1.5 × 2");
    assert_eq!(value, 30.0);
    drop(server);

    // A formula naming an unknown quantity is refused at start-up with the file and line.
    let _ = std::fs::remove_dir_all(&dir);
    let dir = knowledge_dir_with(
        "formula-bad",
        "capacity-planning",
        &[(
            "servers = ceil(required_rps / per_server_rps)",
            "servers = ceil(required_rps / per_server)",
        )],
    );
    let output = std::process::Command::new(crate::harness::BINARY)
        .args(["--knowledge-dir", dir.to_str().unwrap(), "tools"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "{stderr}");
    assert!(
        stderr.contains("capacity-planning.md:")
            && stderr.contains("unknown quantity `per_server`; did you mean `per_server_rps`?"),
        "{stderr}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

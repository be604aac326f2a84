//! `diagnose_bottleneck` through the real binary: every threshold on both sides, every stage and
//! next-stage rule, sources that resolve, refusals that name the field.

use serde_json::{Value, json};

use crate::harness::Server;

fn finding<'a>(result: &'a Value, id: &str) -> Option<&'a Value> {
    result["findings"]
        .as_array()
        .and_then(|f| f.iter().find(|f| f["id"] == id))
}

/// (arguments, finding id, expected severity: None when it must not fire)
fn threshold_cases() -> Vec<(Value, &'static str, Option<&'static str>)> {
    vec![
        (json!({"p95_latency_ms": 200}), "high_latency", None),
        (
            json!({"p95_latency_ms": 201}),
            "high_latency",
            Some("warning"),
        ),
        (
            json!({"p95_latency_ms": 1000}),
            "high_latency",
            Some("warning"),
        ),
        (
            json!({"p95_latency_ms": 1001}),
            "high_latency",
            Some("critical"),
        ),
        (json!({"db_cpu_pct": 60}), "db_cpu_saturation", None),
        (
            json!({"db_cpu_pct": 60.5}),
            "db_cpu_saturation",
            Some("warning"),
        ),
        (
            json!({"db_cpu_pct": 85}),
            "db_cpu_saturation",
            Some("warning"),
        ),
        (
            json!({"db_cpu_pct": 86}),
            "db_cpu_saturation",
            Some("critical"),
        ),
        (json!({"app_cpu_pct": 70}), "app_cpu_saturation", None),
        (
            json!({"app_cpu_pct": 71}),
            "app_cpu_saturation",
            Some("warning"),
        ),
        (
            json!({"app_cpu_pct": 85}),
            "app_cpu_saturation",
            Some("warning"),
        ),
        (
            json!({"app_cpu_pct": 85.1}),
            "app_cpu_saturation",
            Some("critical"),
        ),
        (
            json!({"db_read_load_pct": 70, "read_pct": 80}),
            "db_read_pressure",
            None,
        ),
        (
            json!({"db_read_load_pct": 71}),
            "db_read_pressure",
            Some("warning"),
        ),
        (json!({"read_pct": 81}), "db_read_pressure", Some("warning")),
        (
            json!({"db_read_load_pct": 100, "read_pct": 100}),
            "db_read_pressure",
            Some("warning"),
        ),
        (json!({"db_write_load_pct": 70}), "db_write_pressure", None),
        (
            json!({"db_write_load_pct": 71}),
            "db_write_pressure",
            Some("warning"),
        ),
        (
            json!({"db_write_load_pct": 90}),
            "db_write_pressure",
            Some("warning"),
        ),
        (
            json!({"db_write_load_pct": 91}),
            "db_write_pressure",
            Some("critical"),
        ),
        (
            json!({"cache_hit_rate_pct": 80}),
            "low_cache_hit_rate",
            None,
        ),
        (
            json!({"cache_hit_rate_pct": 79.9}),
            "low_cache_hit_rate",
            Some("warning"),
        ),
        (json!({"replication_lag_ms": 1000}), "replication_lag", None),
        (
            json!({"replication_lag_ms": 1001}),
            "replication_lag",
            Some("warning"),
        ),
        (
            json!({"replication_lag_ms": 10000}),
            "replication_lag",
            Some("warning"),
        ),
        (
            json!({"replication_lag_ms": 10001}),
            "replication_lag",
            Some("critical"),
        ),
        (
            json!({"p99_latency_ms": 501, "replication_lag_ms": 1001, "cache_hit_rate_pct": 79}),
            "tail_latency_from_lag",
            Some("warning"),
        ),
        (
            json!({"p99_latency_ms": 500, "replication_lag_ms": 1001, "cache_hit_rate_pct": 79}),
            "tail_latency_from_lag",
            None,
        ),
        (
            json!({"p99_latency_ms": 501, "replication_lag_ms": 1000, "cache_hit_rate_pct": 79}),
            "tail_latency_from_lag",
            None,
        ),
        (
            json!({"p99_latency_ms": 501, "replication_lag_ms": 1001, "cache_hit_rate_pct": 80}),
            "tail_latency_from_lag",
            None,
        ),
        (
            json!({"p99_latency_ms": 501, "replication_lag_ms": 1001}),
            "tail_latency_from_lag",
            None,
        ),
        (json!({"queue_depth": 10000}), "queue_backlog", None),
        (
            json!({"queue_depth": 10001}),
            "queue_backlog",
            Some("warning"),
        ),
        (json!({"dlq_size": 0}), "dead_letters", None),
        (json!({"dlq_size": 1}), "dead_letters", Some("warning")),
        (json!({"pool_utilization_pct": 80}), "pool_exhaustion", None),
        (
            json!({"pool_utilization_pct": 81}),
            "pool_exhaustion",
            Some("warning"),
        ),
        (json!({"queries_per_request": 20}), "chatty_requests", None),
        (
            json!({"queries_per_request": 21}),
            "chatty_requests",
            Some("warning"),
        ),
        (json!({"slowest_query_ms": 100}), "slow_queries", None),
        (
            json!({"slowest_query_ms": 101}),
            "slow_queries",
            Some("warning"),
        ),
        (
            json!({"symptoms": ["split_brain"]}),
            "split_brain",
            Some("critical"),
        ),
        (
            json!({"symptoms": ["cascade_failure"]}),
            "cascade_failure",
            Some("critical"),
        ),
        (
            json!({"symptoms": ["phantom_lock"]}),
            "phantom_lock",
            Some("critical"),
        ),
        (
            json!({"symptoms": ["read_after_write_inconsistency"]}),
            "read_after_write_inconsistency",
            Some("warning"),
        ),
        (
            json!({"symptoms": ["cache_stampede"]}),
            "cache_stampede",
            Some("warning"),
        ),
    ]
}

#[test]
fn every_threshold_on_both_sides() {
    let mut server = Server::start();
    for (args, id, severity) in threshold_cases() {
        let result = server.call_ok("diagnose_bottleneck", args.clone());
        let found = finding(&result, id);
        match severity {
            None => assert!(found.is_none(), "{id} fired for {args}: {result}"),
            Some(severity) => {
                let found =
                    found.unwrap_or_else(|| panic!("{id} did not fire for {args}: {result}"));
                assert_eq!(found["severity"], severity, "{args}");
                assert!(!found["evidence"].as_array().unwrap().is_empty(), "{args}");
                for horizon in ["immediate", "short_term", "long_term"] {
                    assert!(
                        found["fixes"][horizon]
                            .as_str()
                            .is_some_and(|s| s.len() > 10),
                        "{id} {horizon}"
                    );
                }
                assert!(!found["summary"].as_str().unwrap().is_empty());
                assert!(!found["sources"].as_array().unwrap().is_empty());
            }
        }
        assert_eq!(
            result["healthy"],
            json!(result["findings"].as_array().unwrap().is_empty())
        );
    }
}

#[test]
fn evidence_names_metric_value_and_threshold() {
    let mut server = Server::start();
    let result = server.call_ok("diagnose_bottleneck", json!({"db_cpu_pct": 92}));
    let evidence = &finding(&result, "db_cpu_saturation").unwrap()["evidence"][0];
    assert_eq!(evidence["metric"], "db_cpu_pct");
    assert_eq!(evidence["value"], 92.0);
    assert_eq!(evidence["threshold"], 85.0);
    // The comparison is an explanatory extra that only `full` spells out.
    assert!(evidence.get("comparison").is_none(), "{evidence}");
    let full = server.call_ok(
        "diagnose_bottleneck",
        json!({"db_cpu_pct": 92, "detail": "full"}),
    );
    let evidence = &finding(&full, "db_cpu_saturation").unwrap()["evidence"][0];
    assert_eq!(evidence["comparison"], ">");
    let result = server.call_ok(
        "diagnose_bottleneck",
        json!({"db_read_load_pct": 75, "read_pct": 90}),
    );
    let metrics: Vec<&Value> = finding(&result, "db_read_pressure").unwrap()["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| &e["metric"])
        .collect();
    assert_eq!(metrics, [&json!("db_read_load_pct"), &json!("read_pct")]);
}

#[test]
fn critical_findings_come_first() {
    let mut server = Server::start();
    let result = server.call_ok(
        "diagnose_bottleneck",
        json!({"cache_hit_rate_pct": 50, "db_cpu_pct": 95, "queue_depth": 20000, "symptoms": ["split_brain", "cache_stampede"]}),
    );
    let severities: Vec<&str> = result["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["severity"].as_str().unwrap())
        .collect();
    let first_warning = severities.iter().position(|s| *s == "warning").unwrap();
    assert!(
        severities[..first_warning].iter().all(|s| *s == "critical"),
        "{severities:?}"
    );
    assert!(
        severities[first_warning..].iter().all(|s| *s == "warning"),
        "{severities:?}"
    );
    assert_eq!(severities.len(), 5);
    assert_eq!(result["healthy"], false);
}

/// (arguments, current stage, next stage number or None, components added)
fn stage_cases() -> Vec<(Value, u64, Option<u64>, Vec<&'static str>)> {
    vec![
        (json!({"users": 0}), 1, None, vec![]),
        (json!({"users": 9999}), 1, None, vec![]),
        (json!({"users": 10000}), 2, None, vec![]),
        (json!({"users": 99999}), 2, None, vec![]),
        (json!({"users": 100000}), 3, None, vec![]),
        (json!({"users": 1000000}), 4, None, vec![]),
        (json!({"users": 10000000}), 5, None, vec![]),
        (json!({"p95_latency_ms": 10}), 1, None, vec![]),
        (
            json!({"has_cache": false, "users": 50000}),
            1,
            Some(2),
            vec!["cache"],
        ),
        (
            json!({"has_load_balancer": true, "users": 5000}),
            1,
            None,
            vec![],
        ),
        (json!({"has_cache": true}), 2, None, vec![]),
        (
            json!({"has_cache": true, "has_read_replicas": true}),
            3,
            None,
            vec![],
        ),
        (json!({"has_cache": true, "sharded": true}), 4, None, vec![]),
        (json!({"regions": 1, "sharded": true}), 4, None, vec![]),
        (json!({"regions": 2}), 5, None, vec![]),
        (
            json!({"regions": 3, "needs_multi_region": true, "users": 99000000}),
            5,
            None,
            vec![],
        ),
        // Graduation from stage 1: latency, database CPU, or 10K users.
        (json!({"p95_latency_ms": 250}), 1, Some(2), vec!["cache"]),
        (json!({"db_cpu_pct": 61}), 1, Some(2), vec!["cache"]),
        (
            json!({"users": 10000, "has_cache": false}),
            1,
            Some(2),
            vec!["cache"],
        ),
        (json!({"app_cpu_pct": 90}), 1, None, vec![]),
        // From stage 2: read pressure, low hit rate, or 100K users.
        (
            json!({"has_cache": true, "read_pct": 85}),
            2,
            Some(3),
            vec!["read_replicas"],
        ),
        (
            json!({"has_cache": true, "db_read_load_pct": 75}),
            2,
            Some(3),
            vec!["read_replicas"],
        ),
        (
            json!({"has_cache": true, "cache_hit_rate_pct": 60}),
            2,
            Some(3),
            vec!["read_replicas"],
        ),
        (
            json!({"has_cache": true, "users": 100000}),
            2,
            Some(3),
            vec!["read_replicas"],
        ),
        (
            json!({"has_cache": true, "users": 99999, "db_cpu_pct": 70}),
            2,
            None,
            vec![],
        ),
        // From stage 3: write pressure or 1M users.
        (
            json!({"has_read_replicas": true, "db_write_load_pct": 75}),
            3,
            Some(4),
            vec!["sharding"],
        ),
        (
            json!({"has_read_replicas": true, "users": 1000000}),
            3,
            Some(4),
            vec!["sharding"],
        ),
        (
            json!({"has_read_replicas": true, "read_pct": 95}),
            3,
            None,
            vec![],
        ),
        // From stage 4: multi-region need or 10M users.
        (
            json!({"sharded": true, "needs_multi_region": true}),
            4,
            Some(5),
            vec!["multi_region"],
        ),
        (
            json!({"sharded": true, "users": 10000000}),
            4,
            Some(5),
            vec!["multi_region"],
        ),
        (json!({"sharded": true, "users": 9999999}), 4, None, vec![]),
        // A stated need the architecture does not meet is a finding and its trigger, at any
        // stage (issue 28).
        (
            json!({"needs_multi_region": true}),
            1,
            Some(5),
            vec!["multi_region"],
        ),
        (
            json!({"has_cache": true, "has_read_replicas": true, "needs_multi_region": true}),
            3,
            Some(5),
            vec!["multi_region"],
        ),
    ]
}

#[test]
fn every_stage_and_next_stage_rule() {
    let mut server = Server::start();
    let names = [
        "Prototype",
        "Caching",
        "Read Replicas",
        "Sharding",
        "Distributed",
    ];
    for (args, stage, next, add) in stage_cases() {
        let result = server.call_ok("diagnose_bottleneck", args.clone());
        assert_eq!(result["current_stage"]["number"], stage, "{args}: {result}");
        assert_eq!(
            result["current_stage"]["name"],
            names[stage as usize - 1],
            "{args}"
        );
        match next {
            None => assert!(
                result["next_stage"].is_null(),
                "{args}: {}",
                result["next_stage"]
            ),
            Some(next) => {
                assert_eq!(result["next_stage"]["number"], next, "{args}");
                assert_eq!(
                    result["next_stage"]["name"],
                    names[next as usize - 1],
                    "{args}"
                );
                assert_eq!(result["next_stage"]["add"], json!(add), "{args}");
                assert!(!result["next_stage"]["reason"].as_str().unwrap().is_empty());
            }
        }
    }
}

#[test]
fn every_source_resolves() {
    let mut server = Server::start();
    let result = server.call_ok(
        "diagnose_bottleneck",
        json!({"users": 200000, "has_read_replicas": true, "p95_latency_ms": 1500, "p99_latency_ms": 900, "db_cpu_pct": 90,
               "app_cpu_pct": 90, "db_read_load_pct": 80, "db_write_load_pct": 95, "cache_hit_rate_pct": 40,
               "replication_lag_ms": 20000, "queue_depth": 50000, "dlq_size": 3, "pool_utilization_pct": 95,
               "queries_per_request": 40, "slowest_query_ms": 900,
               "symptoms": ["split_brain", "cascade_failure", "read_after_write_inconsistency", "phantom_lock", "cache_stampede"],
               // Each finding's own URIs; concise cites them by position in `sources`.
               "detail": "full"}),
    );
    assert_eq!(result["findings"].as_array().unwrap().len(), 18);
    let mut uris: Vec<String> = result["sources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap().to_string())
        .collect();
    for f in result["findings"].as_array().unwrap() {
        uris.extend(
            f["sources"]
                .as_array()
                .unwrap()
                .iter()
                .map(|s| s.as_str().unwrap().to_string()),
        );
    }
    uris.sort();
    uris.dedup();
    assert!(uris.len() > 10);
    for uri in uris {
        let response = server.read_resource(&uri);
        let text = response["result"]["contents"][0]["text"]
            .as_str()
            .unwrap_or_else(|| panic!("{uri}: {response}"));
        assert!(text.starts_with('#'), "{uri} does not start with a heading");
    }
}

#[test]
fn markdown_leads_with_the_stage_and_lists_sources() {
    let mut server = Server::start();
    let result = server.call_tool(
        "diagnose_bottleneck",
        json!({"users": 50000, "db_cpu_pct": 90}),
    );
    let text = result["content"][0]["text"].as_str().unwrap();
    assert!(text.starts_with("## Stage 2 · Caching"), "{text}");
    assert!(
        text.contains("| CRITICAL | `db_cpu_saturation` |"),
        "{text}"
    );
    assert!(text.contains("db_cpu_pct 90 > 85"), "{text}");
    assert!(text.contains("Sources: `knowledge://"), "{text}");
    assert_eq!(result["content"].as_array().unwrap().len(), 1);
    assert!(text.lines().count() < 40);
}

#[test]
fn bad_arguments_are_refused_by_name() {
    let mut server = Server::start();
    let cases: Vec<(Value, &[&str])> = vec![
        (json!({}), &["arguments", "at least one"]),
        (
            json!({"db_cpu_pct": 150}),
            &["db_cpu_pct", "150", "from 0 to 100"],
        ),
        (
            json!({"db_cpu_pct": -1}),
            &["db_cpu_pct", "-1", "from 0 to 100"],
        ),
        (
            json!({"db_cpu_pc": 50}),
            &["db_cpu_pc", "Did you mean `db_cpu_pct`"],
        ),
        (
            json!({"p95_latency": 50}),
            &["p95_latency", "Did you mean `p95_latency_ms`"],
        ),
        (
            json!({"db_cpu_pct": "high"}),
            &["db_cpu_pct", "\"high\"", "a string", "number"],
        ),
        (
            json!({"has_cache": "yes"}),
            &["has_cache", "\"yes\"", "true or false"],
        ),
        (json!({"users": 1.5}), &["users", "1.5", "whole number"]),
        (json!({"users": -5}), &["users", "-5"]),
        (json!({"regions": 0}), &["regions", "0", "at least 1"]),
        (
            json!({"symptoms": ["split-brain"]}),
            &["symptoms[0]", "split-brain", "split_brain"],
        ),
        (json!({"symptoms": "split_brain"}), &["symptoms", "a list"]),
        (
            json!({"queue_depth": 1e308}),
            &["queue_depth", "whole number"],
        ),
    ];
    for (args, needles) in cases {
        let text = server.call_err("diagnose_bottleneck", args.clone());
        for needle in needles {
            assert!(
                text.contains(needle),
                "{args}: `{needle}` missing from: {text}"
            );
        }
    }
    // A literal NaN (as Python's json.dumps writes it) is refused by field, not as a parse error.
    let id = server.fresh_id();
    let line = format!(
        r#"{{"jsonrpc":"2.0","id":{id},"method":"tools/call","params":{{"name":"diagnose_bottleneck","arguments":{{"db_cpu_pct":NaN}}}}}}"#
    );
    server.send_line(&server.stamp_line(&line));
    let response = server.response_to(&json!(id));
    assert_eq!(response["result"]["isError"], true, "{response}");
    let text = response["result"]["content"][0]["text"].as_str().unwrap();
    assert!(
        text.contains("db_cpu_pct") && text.contains("NaN"),
        "{text}"
    );
    // Still serving.
    assert!(server.request("ping", json!({}))["result"].is_object());
}

#[test]
fn same_input_same_bytes() {
    let args = json!({"users": 300000, "has_read_replicas": true, "db_write_load_pct": 93, "cache_hit_rate_pct": 70, "symptoms": ["cache_stampede", "split_brain"]});
    let run = || {
        let mut server = Server::start();
        let id = server.fresh_id();
        server.send(&json!({"jsonrpc": "2.0", "id": id, "method": "tools/call", "params": {"name": "diagnose_bottleneck", "arguments": args}}));
        server.response_to(&json!(id)).to_string()
    };
    let first = run();
    assert_eq!(first, run());
    assert!(first.contains("db_write_pressure"));
}

/// Changing a threshold in its cell of `monitoring.md` in a `--knowledge-dir` changes every
/// sentence that states it: the finding's summary and the embedded `scaling-stages` prose.
#[test]
fn a_threshold_changed_in_a_knowledge_dir_is_restated_everywhere() {
    let dir = std::env::temp_dir().join(format!("scale-advisor-threshold-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let monitoring = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../knowledge/docs/monitoring.md"
    ))
    .unwrap();
    assert!(monitoring.contains("`db_cpu_pct > 60`"));
    std::fs::write(
        dir.join("monitoring.md"),
        monitoring.replace("`db_cpu_pct > 60`", "`db_cpu_pct > 65`"),
    )
    .unwrap();
    let mut server = Server::raw_with(&["--knowledge-dir", dir.to_str().unwrap()]);
    let init = server.request(
        "initialize",
        json!({"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "t", "version": "0"}}),
    );
    assert!(init["result"].is_object());
    let result = server.call_ok("diagnose_bottleneck", json!({"db_cpu_pct": 70}));
    let cpu = finding(&result, "db_cpu_saturation").expect("70% is above 65%");
    let summary = cpu["summary"].as_str().unwrap();
    assert!(
        summary.contains("above 65%") && !summary.contains("60%"),
        "{summary}"
    );
    let quiet = server.call_ok("diagnose_bottleneck", json!({"db_cpu_pct": 62}));
    assert!(finding(&quiet, "db_cpu_saturation").is_none());
    for uri in [
        "knowledge://scaling-stages",
        "knowledge://monitoring#threshold-sources",
    ] {
        let read = server.read_resource(uri);
        let text = read["result"]["contents"][0]["text"].as_str().unwrap();
        assert!(
            text.contains("65%") && !text.contains("60%"),
            "{uri}:\n{text}"
        );
    }
    drop(server);
    let _ = std::fs::remove_dir_all(&dir);
}

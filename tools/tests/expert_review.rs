//! The situations of issue 28's expert review that the choosing tools and the calculators
//! answer (points 1, 2, 8 and 10), each with its neighbours: other clouds, other engines, other
//! sizes and the boundary values, so that a rule is not fixed for the example's numbers only.

use serde_json::{Map, Value, json};
use tools::{Advisor, CallError};

fn advisor() -> Advisor {
    Advisor::embedded().expect("the embedded knowledge base loads")
}

fn call(advisor: &Advisor, tool: &str, args: &Value) -> (Value, String) {
    let mut map: Map<String, Value> = args.as_object().cloned().unwrap_or_default();
    map.entry("detail").or_insert_with(|| json!("full"));
    let out = advisor
        .call(tool, &map)
        .unwrap_or_else(|e| panic!("{tool}({args}) was refused: {e}"));
    (out.structured, out.markdown)
}

fn names(list: &Value, key: &str) -> Vec<String> {
    list.as_array()
        .map(|l| {
            l.iter()
                .filter_map(|x| x[key].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

// ------------------------------------------------ point 2: volume inputs change the answer

/// (what it shows, arguments, memory_nodes, throughput_nodes, nodes)
type NodeCase = (&'static str, Value, Option<u64>, Option<u64>, Option<u64>);

#[rustfmt::skip]
fn node_cases() -> Vec<NodeCase> {
    vec![
        ("the review's case: 2M reads/s at 99% fit one node's memory, not its throughput",
            json!({"working_set_gb": 10, "node_memory_gb": 64, "requests_per_sec": 2_000_000, "hit_rate_pct": 99}), Some(1), Some(20), Some(20)),
        ("memcached serves more per node",
            json!({"working_set_gb": 10, "node_memory_gb": 64, "requests_per_sec": 2_000_000, "engine": "memcached"}), Some(1), Some(4), Some(4)),
        ("a measured figure wins over the engine's",
            json!({"working_set_gb": 10, "node_memory_gb": 64, "requests_per_sec": 2_000_000, "node_ops_per_sec": 250_000}), Some(1), Some(8), Some(8)),
        ("exactly one node's operations: one node",
            json!({"working_set_gb": 10, "node_memory_gb": 64, "requests_per_sec": 100_000}), Some(1), Some(1), Some(1)),
        ("one operation past it: two",
            json!({"working_set_gb": 10, "node_memory_gb": 64, "requests_per_sec": 100_001}), Some(1), Some(2), Some(2)),
        ("memory-bound: the memory count stands",
            json!({"working_set_gb": 500, "node_memory_gb": 64, "requests_per_sec": 10_000}), Some(16), Some(1), Some(16)),
        ("no rate: the memory count, and the rate is a missing input",
            json!({"working_set_gb": 500, "node_memory_gb": 64}), Some(16), None, Some(16)),
        ("no node size: the rate's count alone, no node total",
            json!({"working_set_gb": 10, "requests_per_sec": 2_000_000}), None, Some(20), None),
    ]
}

#[test]
fn size_cache_counts_nodes_for_the_request_rate_as_well_as_the_memory() {
    let advisor = advisor();
    for (case, args, memory, throughput, nodes) in node_cases() {
        let (r, _) = call(&advisor, "size_cache", &args);
        assert_eq!(r["memory_nodes"].as_u64(), memory, "{case}");
        assert_eq!(r["throughput_nodes"].as_u64(), throughput, "{case}");
        assert_eq!(r["nodes"].as_u64(), nodes, "{case}");
        if throughput.is_none() {
            let missing = &r["missing_inputs"];
            assert!(
                missing
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|m| m["field"] == "requests_per_sec"
                        && m["enables"].as_str().unwrap().contains("throughput_nodes")),
                "{case}: {missing}"
            );
        } else {
            let cited = json!("knowledge://caching#node-throughput");
            assert!(r["sources"].as_array().unwrap().contains(&cited), "{case}");
        }
    }
    // Replicas multiply the larger count, and the summary says why the count is what it is.
    let args = json!({"working_set_gb": 10, "node_memory_gb": 64, "replicas": 1,
                      "requests_per_sec": 2_000_000, "hit_rate_pct": 99});
    let (r, _) = call(&advisor, "size_cache", &args);
    assert_eq!(r["total_nodes"], json!(40));
    let summary = r["summary"].as_str().unwrap();
    assert!(
        summary.contains("20 nodes for the request rate"),
        "{summary}"
    );
    assert!(summary.contains("memory alone needs 1"), "{summary}");
}

#[test]
fn choose_datastore_asks_for_what_it_was_not_told() {
    let advisor = advisor();
    let fields = |r: &Value| names(&r["missing_inputs"], "field");
    // No argument at all: the default answers by absence, so every need it asks about is listed.
    let (r, _) = call(&advisor, "choose_datastore", &json!({}));
    let missing = fields(&r);
    for need in [
        "needs_acid",
        "multi_region",
        "writes_per_sec",
        "data_size_gb",
        "analytics",
        "flexible_schema",
        "full_text_search",
    ] {
        assert!(missing.contains(&need.to_string()), "{need}: {missing:?}");
    }
    // ACID without volume: the two figures that would move it past one primary.
    let (r, _) = call(&advisor, "choose_datastore", &json!({"needs_acid": true}));
    let missing = fields(&r);
    assert!(
        missing.contains(&"writes_per_sec".to_string()),
        "{missing:?}"
    );
    assert!(missing.contains(&"data_size_gb".to_string()), "{missing:?}");
    assert!(!missing.contains(&"analytics".to_string()), "{missing:?}");
    // Both given: nothing the questions asked is missing.
    let args = json!({"needs_acid": true, "writes_per_sec": 500, "data_size_gb": 100});
    let (r, _) = call(&advisor, "choose_datastore", &args);
    assert!(fields(&r).is_empty(), "{}", r["missing_inputs"]);
    // A stated need other than ACID does not ask for ACID's volume.
    let (r, _) = call(&advisor, "choose_datastore", &json!({"analytics": true}));
    assert!(fields(&r).is_empty(), "{}", r["missing_inputs"]);
}

#[test]
fn choose_datastore_past_one_primary_is_sharded_sql_and_says_so() {
    let advisor = advisor();
    let args = json!({"needs_acid": true, "writes_per_sec": 1_000_000, "data_size_gb": 50_000});
    let (r, md) = call(&advisor, "choose_datastore", &args);
    assert_eq!(r["recommendation"]["name"], json!("Citus"));
    assert_eq!(
        names(&r["alternatives"], "name"),
        ["CockroachDB", "YugabyteDB"]
    );
    assert!(md.starts_with("**Use Citus (distributed_sql)**"), "{md}");
    let past = json!("knowledge://datastores#past-one-primary");
    assert!(r["sources"].as_array().unwrap().contains(&past));
}

#[test]
fn serverless_is_never_offered_an_embedded_library() {
    let advisor = advisor();
    for args in [
        json!({"serverless": true}),
        json!({"serverless": true, "read_heavy": true}),
        json!({"serverless": true, "multi_region": true}),
    ] {
        let (r, md) = call(&advisor, "choose_datastore", &args);
        assert_eq!(r["recommendation"]["name"], json!("DynamoDB"), "{args}");
        assert!(
            !names(&r["alternatives"], "name").contains(&"RocksDB".to_string()),
            "{args}"
        );
        assert_eq!(names(&r["excluded"], "name"), ["RocksDB"], "{args}");
        assert!(md.contains("Ruled out:\n- RocksDB (`serverless`)"), "{md}");
    }
    // Without serverless the library is a fair alternative.
    let (r, _) = call(&advisor, "choose_datastore", &json!({"read_heavy": true}));
    assert_eq!(names(&r["alternatives"], "name"), ["RocksDB"]);
    assert!(names(&r["excluded"], "name").is_empty());
}

// ------------------------------------------------ point 1: a hard constraint decides

#[test]
fn a_message_that_cannot_be_lost_never_goes_to_redis_on_any_cloud() {
    let advisor = advisor();
    for cloud in ["none", "aws", "gcp", "azure"] {
        for extra in [
            json!({}),
            json!({"fan_out": true}),
            json!({"serverless": true}),
            json!({"messages_per_sec": 200}),
        ] {
            let mut args = json!({"cannot_lose_messages": true, "cloud": cloud});
            args.as_object_mut()
                .unwrap()
                .extend(extra.as_object().unwrap().clone());
            let (r, md) = call(&advisor, "choose_message_queue", &args);
            assert_ne!(
                r["recommendation"]["delivery"],
                json!("at_most_once"),
                "{args}"
            );
            assert_eq!(names(&r["excluded"], "name"), ["Redis"], "{args}");
            let alternatives = names(&r["alternatives"], "name");
            assert!(!alternatives.contains(&"Redis".to_string()), "{args}");
            assert!(!md.contains("Losing a message matters here"), "{args}");
        }
    }
    // Payments on AWS with fan-out: SNS to SQS, with a dead-letter queue, at least once.
    let args = json!({"cannot_lose_messages": true, "fan_out": true, "cloud": "aws"});
    let (r, md) = call(&advisor, "choose_message_queue", &args);
    assert_eq!(r["recommendation"]["name"], json!("Amazon SNS to SQS"));
    assert_eq!(r["retry_policy"]["dead_letter_queue"], json!(true));
    assert!(md.contains("consumers must be idempotent"), "{md}");
}

#[test]
fn replay_rules_out_the_brokers_that_delete_what_they_deliver() {
    let advisor = advisor();
    for cloud in ["none", "aws", "gcp"] {
        let args = json!({"needs_replay": true, "cloud": cloud, "serverless": true});
        let (r, _) = call(&advisor, "choose_message_queue", &args);
        assert_eq!(r["recommendation"]["name"], json!("Kafka"), "{args}");
        let mut excluded = names(&r["excluded"], "name");
        excluded.sort();
        assert_eq!(
            excluded,
            ["AWS SQS", "Amazon SNS to SQS", "Redis"],
            "{args}"
        );
    }
}

#[test]
fn the_retry_policy_states_one_dead_letter_number() {
    let advisor = advisor();
    for args in [
        json!({}),
        json!({"cannot_lose_messages": true, "cloud": "aws"}),
    ] {
        let (r, md) = call(&advisor, "choose_message_queue", &args);
        let policy = &r["retry_policy"];
        let retries = policy["max_retries"].as_u64().unwrap();
        assert_eq!(
            policy["dead_letter_after_failures"].as_u64(),
            Some(retries + 1)
        );
        assert_eq!(policy["delays_s"].as_array().unwrap().len() as u64, retries);
        assert!(
            md.contains(&format!("after {} failed attempts", retries + 1)),
            "{md}"
        );
        assert!(!md.contains("after 3 failures"), "{md}");
    }
}

#[test]
fn a_message_rate_past_one_redis_node_goes_to_a_partitioned_log() {
    let advisor = advisor();
    let (r, md) = call(
        &advisor,
        "choose_message_queue",
        &json!({"messages_per_sec": 3_000_000}),
    );
    assert_eq!(r["recommendation"]["name"], json!("Kafka"));
    assert_eq!(r["decided_by"], json!(["messages_per_sec"]));
    // Chosen for its rate, not for exactly-once: the answer says that Kafka's exactly-once
    // needs configuring and that its default is at least once.
    let warned = r["warnings"].as_array().expect("warnings").iter().any(|w| {
        w["message"].as_str().is_some_and(|m| {
            m.contains("only when it is configured") && m.contains("at least once")
        })
    });
    assert!(warned, "{}", r["warnings"]);
    assert!(md.contains("one Redis node executes (100,000)"), "{md}");
    // Below the ceiling the simple queue still answers; the managed queues scale on their own.
    let (r, _) = call(
        &advisor,
        "choose_message_queue",
        &json!({"messages_per_sec": 50_000}),
    );
    assert_eq!(r["recommendation"]["name"], json!("Redis"));
    let args = json!({"messages_per_sec": 3_000_000, "serverless": true, "cloud": "gcp"});
    let (r, _) = call(&advisor, "choose_message_queue", &args);
    assert_eq!(r["recommendation"]["name"], json!("Google Pub/Sub"));
}

// ------------------------------------------------ point 8: one thing, once

#[test]
fn size_cache_states_its_ttl_and_its_nodes_once() {
    let advisor = advisor();
    let flags = [
        "strong_freshness",
        "write_heavy",
        "tolerates_data_loss",
        "expensive_misses",
    ];
    for mask in 0..16u8 {
        let mut args = json!({"working_set_gb": 20, "node_memory_gb": 16});
        for (i, flag) in flags.iter().enumerate() {
            if mask & (1 << i) != 0 {
                args[flag] = json!(true);
            }
        }
        let (r, md) = call(&advisor, "size_cache", &args);
        let ttl = r["ttl_seconds"].as_u64().unwrap();
        // The only TTL the answer states is the one it suggests.
        for other in [60u64, 300, 900, 3600] {
            if other != ttl {
                assert!(!md.contains(&format!("at {other} s")), "{args}: {md}");
                assert!(!md.contains(&format!("TTL {other} s")), "{args}: {md}");
            }
        }
        assert!(!md.contains("always fresh and consistent"), "{args}: {md}");
        assert!(md.contains("- Nodes: 3, no replicas"), "{args}: {md}");
        assert!(!md.contains("with replicas"), "{args}: {md}");
    }
    let (_, md) = call(
        &advisor,
        "size_cache",
        &json!({"working_set_gb": 20, "node_memory_gb": 16, "replicas": 2}),
    );
    assert!(md.contains("- Nodes: 3 primary, 9 with replicas"), "{md}");
    let (r, _) = call(
        &advisor,
        "size_cache",
        &json!({"working_set_gb": 20, "strong_freshness": true}),
    );
    let cons = r["strategy_details"]["cons"].as_str().unwrap();
    assert!(cons.contains("not atomic"), "{cons}");
}

#[test]
fn plan_capacity_gives_replicas_the_margin_it_gives_servers() {
    let advisor = advisor();
    for (margin, reads, capacity) in [
        (1.5, 7520.0, 1000.0),
        (2.0, 7520.0, 1000.0),
        (1.0, 7520.0, 1000.0),
        (1.5, 100.0, 1000.0),
        (1.25, 1_000_000.0, 3000.0),
    ] {
        let args = json!({"peak_rps": 100, "per_server_rps": 50, "safety_margin": margin,
                          "reads_per_sec": reads, "replica_read_capacity_per_sec": capacity});
        let (r, _) = call(&advisor, "plan_capacity", &args);
        let replicas = r["read_replicas"].as_f64().unwrap();
        let servers = r["servers"].as_f64().unwrap();
        // Each fleet runs at most at 1 / margin of its capacity at the planned load.
        let replica_busy = reads / (replicas * capacity);
        let server_busy = 100.0 / (servers * 50.0);
        assert!(
            replica_busy <= 1.0 / margin + 1e-9,
            "{args}: {replica_busy}"
        );
        assert!(server_busy <= 1.0 / margin + 1e-9, "{args}: {server_busy}");
    }
}

// ------------------------------------------------ point 10: absurd input is refused

#[test]
fn plan_capacity_refuses_more_users_than_people() {
    let advisor = advisor();
    for users in [1_000_000_000_000_000_000u64, 8_300_000_001] {
        let args = json!({"peak_rps": 1000, "users": users});
        match advisor.call("plan_capacity", args.as_object().unwrap()) {
            Err(CallError::Arguments(e)) => {
                let text = e.to_string();
                assert!(text.contains("users"), "{text}");
                assert!(text.contains(&users.to_string()), "{text}");
                assert!(text.contains("at most 8,300,000,000"), "{text}");
            }
            other => panic!("{users} users were not refused: {other:?}"),
        }
    }
    let (r, _) = call(
        &advisor,
        "plan_capacity",
        &json!({"peak_rps": 1000, "users": 8_300_000_000u64}),
    );
    assert_eq!(r["stage"]["number"], json!(5));
}

// ------------------------------------------------ hard needs are data

/// The embedded `queues` document with `row` added to its hard-needs table, in a fresh
/// `--knowledge-dir` folder.
fn queues_with_hard_need(name: &str, row: &str) -> (std::path::PathBuf, String) {
    let text = knowledge::Knowledge::embedded()
        .unwrap()
        .document("queues")
        .unwrap()
        .text()
        .to_string();
    let header = "| when | excludes | reason | source |\n|---|---|---|---|\n";
    assert!(text.contains(header), "the hard-needs table");
    let changed = text.replacen(header, &format!("{header}{row}\n"), 1);
    let dir = std::env::temp_dir().join(format!("scale-advisor-hn-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("queues.md"), &changed).unwrap();
    (dir, changed)
}

#[test]
fn needs_no_broker_meets_are_refused_naming_the_need() {
    let row = "| serverless | Kafka; RabbitMQ; AWS SQS; Google Pub/Sub; Amazon SNS to SQS; Redis | a team rule: nothing here runs serverless | seeds |";
    let (dir, _) = queues_with_hard_need("all", row);
    let advisor = Advisor::new(knowledge::Knowledge::with_dir(&dir).unwrap()).unwrap();
    let args = json!({"serverless": true, "cloud": "aws"});
    let refused = advisor.call("choose_message_queue", args.as_object().unwrap());
    let _ = std::fs::remove_dir_all(&dir);
    match refused {
        Err(CallError::Arguments(e)) => {
            let text = e.to_string();
            assert!(text.contains("`serverless`"), "{text}");
            assert!(text.contains("AWS SQS (a team rule"), "{text}");
        }
        other => panic!("accepted: {other:?}"),
    }
}

#[test]
fn a_hard_need_naming_an_unknown_broker_stops_start_up() {
    let row = "| fan_out | Kafak | a typo | seeds |";
    let (dir, _) = queues_with_hard_need("typo", row);
    let loaded = knowledge::Knowledge::with_dir(&dir).and_then(Advisor::new);
    let _ = std::fs::remove_dir_all(&dir);
    let error = loaded
        .err()
        .expect("a typo in `excludes` is refused")
        .to_string();
    assert!(error.contains("queues.md"), "{error}");
    assert!(
        error.contains("`Kafak`") && error.contains("does not list"),
        "{error}"
    );
}

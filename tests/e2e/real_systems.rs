//! Issue 14 through the real binary: each item of "advice that survives real systems" as a
//! client sees it, with both sides of every new threshold, and every new source resolving.

use serde_json::{Value, json};

use crate::harness::Server;

fn finding<'a>(result: &'a Value, id: &str) -> Option<&'a Value> {
    result["findings"]
        .as_array()
        .and_then(|f| f.iter().find(|f| f["id"] == id))
}

fn names(list: &Value) -> Vec<&str> {
    list.as_array()
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default()
}

fn fix_texts(result: &Value) -> String {
    let mut all = String::new();
    for f in result["findings"].as_array().into_iter().flatten() {
        for h in ["immediate", "short_term", "long_term"] {
            all.push_str(f["fixes"][h].as_str().unwrap_or_default());
            all.push('\n');
        }
    }
    all.to_lowercase()
}

#[test]
fn never_proposes_what_exists() {
    let mut server = Server::start();
    let everything = json!({
        "has_cache": true, "has_cdn": true, "has_queue": true, "has_load_balancer": true,
        "has_read_replicas": true, "p95_latency_ms": 400, "db_cpu_pct": 75, "app_cpu_pct": 80,
        "db_read_load_pct": 80, "cache_hit_rate_pct": 60, "pool_utilization_pct": 90,
        "slowest_query_ms": 300
    });
    let d = server.call_ok("diagnose_bottleneck", everything.clone());
    let next = &d["next_stage"];
    for present in [
        "cache",
        "cdn",
        "job_queue",
        "load_balancer",
        "read_replicas",
    ] {
        assert!(!names(&next["add"]).contains(&present), "{next}");
        assert!(!names(&next["also_consider"]).contains(&present), "{next}");
    }
    let texts = fix_texts(&d);
    for words in [
        "put a cache",
        "a cdn",
        "a job queue",
        "a load balancer",
        "read replicas",
    ] {
        assert!(!texts.contains(words), "`{words}` in {texts}");
    }
    assert!(texts.contains("existing"), "{texts}");
    // Without the flags the same metrics do propose them.
    let mut bare = everything.as_object().cloned().unwrap_or_default();
    for flag in [
        "has_cache",
        "has_cdn",
        "has_queue",
        "has_load_balancer",
        "has_read_replicas",
    ] {
        bare.remove(flag);
    }
    let texts = fix_texts(&server.call_ok("diagnose_bottleneck", Value::Object(bare)));
    for words in [
        "put a cache",
        "a cdn",
        "a job queue",
        "a load balancer",
        "read replicas",
    ] {
        assert!(texts.contains(words), "`{words}` not in {texts}");
    }
    let report = server.call_ok("scaling_report", json!({"system": everything}));
    for c in report["components_to_add"].as_array().into_iter().flatten() {
        assert!(
            ![
                "cache",
                "cdn",
                "job_queue",
                "load_balancer",
                "read_replicas"
            ]
            .contains(&c["component"].as_str().unwrap_or_default()),
            "{c}"
        );
    }
}

#[test]
fn urgency_says_what_triggered_the_next_stage() {
    let mut server = Server::start();
    let planned = server.call_ok(
        "diagnose_bottleneck",
        json!({"has_cache": true, "users": 150000}),
    );
    assert_eq!(planned["next_stage"]["urgency"], "planned");
    assert!(
        planned["next_stage"]["reason"]
            .as_str()
            .unwrap_or_default()
            .contains("only the user count")
    );
    let now = server.call_ok(
        "diagnose_bottleneck",
        json!({"has_cache": true, "users": 150000, "cache_hit_rate_pct": 70}),
    );
    assert_eq!(now["next_stage"]["urgency"], "now");
    let need = server.call_ok(
        "diagnose_bottleneck",
        json!({"sharded": true, "needs_multi_region": true}),
    );
    assert_eq!(need["next_stage"]["urgency"], "now");
}

#[test]
fn inside_stage_4_hot_shards_and_resharding() {
    let mut server = Server::start();
    for (ratio, severity) in [(1.1, None), (1.2, Some("warning")), (1.5, Some("critical"))] {
        let d = server.call_ok(
            "diagnose_bottleneck",
            json!({"sharded": true, "shard_skew_ratio": ratio}),
        );
        let got = finding(&d, "hot_shard").map(|f| f["severity"].clone());
        assert_eq!(got, severity.map(|s| json!(s)), "ratio {ratio}");
    }
    let d = server.call_ok(
        "diagnose_bottleneck",
        json!({"sharded": true, "db_write_load_pct": 95, "shard_skew_ratio": 2}),
    );
    let texts = fix_texts(&d);
    assert!(
        texts.contains("reshard") && texts.contains("directory"),
        "{texts}"
    );
    assert!(!texts.contains("shard the data") && !texts.contains("choose a shard key"));
    assert!(d["next_stage"].is_null(), "{}", d["next_stage"]);
    let p = server.call_ok(
        "plan_migration",
        json!({"kind": "shard", "large_tenants": true, "virtual_shards": 2048}),
    );
    assert_eq!(p["shard_strategy"]["strategy"], "directory");
    let text = p.to_string();
    assert!(
        text.contains("2,048 virtual shards") && !text.contains("1024") && !text.contains("1,024"),
        "{text}"
    );
    let refused = server.call_err(
        "diagnose_bottleneck",
        json!({"sharded": false, "shard_skew_ratio": 2}),
    );
    assert!(refused.contains("shard_skew_ratio"), "{refused}");
}

#[test]
fn before_sharding_functional_partitioning() {
    let mut server = Server::start();
    let d = server.call_ok(
        "diagnose_bottleneck",
        json!({"has_cache": true, "db_write_load_pct": 75, "independent_table_groups": true}),
    );
    assert_eq!(names(&d["next_stage"]["add"]), ["functional_partitioning"]);
    assert!(names(&d["next_stage"]["also_consider"]).contains(&"sharding"));
    let p = server.call_ok("plan_migration", json!({"kind": "functional_partition"}));
    assert_eq!(p["phases"].as_array().map(Vec::len), Some(6));
    for phase in p["phases"].as_array().into_iter().flatten() {
        assert!(
            phase["exit_criteria"]
                .as_str()
                .is_some_and(|t| !t.is_empty())
        );
        assert!(phase["rollback"].as_str().is_some_and(|t| !t.is_empty()));
    }
    let report = server.call_ok(
        "scaling_report",
        json!({"system": {"has_cache": true, "db_write_load_pct": 75, "independent_table_groups": true}}),
    );
    assert_eq!(report["migrations"][0]["kind"], "functional_partition");
}

#[test]
fn shared_dependencies_are_found_and_isolated() {
    let mut server = Server::start();
    let warning = server.call_ok(
        "diagnose_bottleneck",
        json!({"sharded": true, "shared_across_shards": ["cache"]}),
    );
    assert_eq!(
        finding(&warning, "shared_dependency").map(|f| f["severity"].clone()),
        Some(json!("warning"))
    );
    let critical = server.call_ok(
        "diagnose_bottleneck",
        json!({"sharded": true, "shared_across_shards": ["cache"], "symptoms": ["cascade_failure"]}),
    );
    assert_eq!(
        finding(&critical, "shared_dependency").map(|f| f["severity"].clone()),
        Some(json!("critical"))
    );
    assert_eq!(names(&critical["next_stage"]["add"]), ["cell_isolation"]);
    let none = server.call_ok(
        "diagnose_bottleneck",
        json!({"sharded": true, "symptoms": ["cascade_failure"]}),
    );
    assert!(finding(&none, "shared_dependency").is_none());
}

#[test]
fn error_rate_is_evaluated() {
    let mut server = Server::start();
    for (rate, severity) in [
        (0.1, None),
        (0.5, Some("warning")),
        (1.44, Some("warning")),
        (2.0, Some("critical")),
        (95.0, Some("critical")),
    ] {
        let result = server.call_tool("diagnose_bottleneck", json!({"error_rate_pct": rate}));
        let d = &result["structuredContent"];
        let got = finding(d, "high_error_rate").map(|f| f["severity"].clone());
        assert_eq!(got, severity.map(|s| json!(s)), "error rate {rate}");
        assert_eq!(d["healthy"], severity.is_none(), "error rate {rate}");
        let text = result["content"][0]["text"].as_str().unwrap_or_default();
        assert_eq!(text.contains("Healthy"), severity.is_none(), "{text}");
    }
}

#[test]
fn the_binding_constraint_decides_the_target() {
    let mut server = Server::start();
    let d = server.call_ok(
        "diagnose_bottleneck",
        json!({"has_cache": true, "db_write_load_pct": 75}),
    );
    assert_eq!(d["next_stage"]["number"], 4);
    assert_eq!(names(&d["next_stage"]["add"]), ["sharding"]);
    let report = server.call_ok(
        "scaling_report",
        json!({"system": {"has_cache": true, "db_write_load_pct": 75}}),
    );
    assert_eq!(report["target_stage"]["number"], 4);
    assert_eq!(report["migrations"][0]["kind"], "shard");
    let text = report.to_string();
    assert!(
        !text.contains("Replicas do not help with write load"),
        "{text}"
    );
    // The report's replica plan uses the caller's figures, never the source's example.
    let replicas = server.call_ok(
        "scaling_report",
        json!({"system": {"has_cache": true, "db_read_load_pct": 80},
               "capacity": {"peak_rps": 100, "reads_per_sec": 9000, "replica_read_capacity_per_sec": 2000}}),
    );
    let text = replicas.to_string();
    assert!(text.contains("ceil(9000 × 1.5 / 2000)"), "{text}");
    assert!(!text.contains("10000 reads per second at 3000"), "{text}");
}

#[test]
fn queue_consistency_and_cost_additions() {
    let mut server = Server::start();
    let q = server.call_ok("choose_message_queue", json!({"exactly_once": true}));
    assert!(
        q["warnings"].to_string().contains("transactional.id"),
        "{q}"
    );
    let c = server.call_ok(
        "pick_consistency_model",
        json!({"quorum": {"n": 3, "w": 2, "r": 2, "sloppy": true}}),
    );
    assert_eq!(c["quorum"]["overlap"], true);
    assert_eq!(c["quorum"]["overlap_guaranteed"], false);
    assert!(c["warnings"].to_string().contains("sloppy"), "{c}");
    let strict = server.call_ok(
        "pick_consistency_model",
        json!({"quorum": {"n": 3, "w": 2, "r": 2}}),
    );
    assert_eq!(strict["quorum"]["overlap_guaranteed"], true);
    let between = server.call_ok("plan_capacity", json!({"peak_rps": 10, "users": 2000000}));
    assert_eq!(between["monthly_cost_usd"]["basis"], "between");
    assert_ne!(between["monthly_cost_usd"]["architecture"], "Multi-region");
    let row = server.call_ok("plan_capacity", json!({"peak_rps": 10, "users": 50000}));
    assert_eq!(row["monthly_cost_usd"]["basis"], "row");
}

#[test]
fn new_sections_resolve() {
    let mut server = Server::start();
    for uri in [
        "knowledge://monitoring#fixes-for-the-architecture-given",
        "knowledge://migrations#functional-partition-phases",
        "knowledge://sharding#before-sharding-functional-partitioning",
    ] {
        let r = server.read_resource(uri);
        let text = r["result"]["contents"][0]["text"]
            .as_str()
            .unwrap_or_default();
        assert!(text.contains("https://"), "{uri}: {r}");
    }
}

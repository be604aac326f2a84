//! Issue 14, advice that fits the system it is given: scenario tables for the findings, the
//! next stage and the plans that the published case studies showed the coarse rules got wrong,
//! both sides of every new threshold, and the invariant that no result proposes a component the
//! caller says is already there, over every combination of the architecture flags.

use serde_json::{Map, Value, json};
use tools::Advisor;

fn advisor() -> Advisor {
    Advisor::embedded().expect("the embedded knowledge base loads")
}

/// The whole advice (every fix, each finding's own sources): `detail: full`, since concise
/// cites sources by position and may leave the last findings' fixes to `full`.
fn call(advisor: &Advisor, tool: &str, args: &Value) -> Value {
    let mut map = args.as_object().expect("arguments are an object").clone();
    map.entry("detail").or_insert(Value::from("full"));
    match advisor.call(tool, &map) {
        Ok(out) => out.structured,
        Err(e) => panic!("{tool} {args}: {e}"),
    }
}

fn refusal(advisor: &Advisor, tool: &str, args: &Value) -> String {
    let map = args.as_object().expect("arguments are an object");
    match advisor.call(tool, map) {
        Ok(out) => panic!("{tool} {args} was accepted: {}", out.structured),
        Err(e) => e.to_string(),
    }
}

fn finding<'a>(d: &'a Value, id: &str) -> Option<&'a Value> {
    d["findings"]
        .as_array()
        .and_then(|f| f.iter().find(|f| f["id"] == id))
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|s| s.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

// ---------------------------------------------------------------------------------------------
// New thresholds, both sides.

#[test]
fn new_thresholds_fire_on_one_side_only() {
    let advisor = advisor();
    // (arguments, finding, severity or None when it must not fire)
    let cases: Vec<(Value, &str, Option<&str>)> = vec![
        (json!({"error_rate_pct": 0}), "high_error_rate", None),
        (json!({"error_rate_pct": 0.1}), "high_error_rate", None),
        (
            json!({"error_rate_pct": 0.11}),
            "high_error_rate",
            Some("warning"),
        ),
        (
            json!({"error_rate_pct": 1.44}),
            "high_error_rate",
            Some("warning"),
        ),
        (
            json!({"error_rate_pct": 1.45}),
            "high_error_rate",
            Some("critical"),
        ),
        (
            json!({"error_rate_pct": 95}),
            "high_error_rate",
            Some("critical"),
        ),
        (
            json!({"sharded": true, "shard_skew_ratio": 1}),
            "hot_shard",
            None,
        ),
        (
            json!({"sharded": true, "shard_skew_ratio": 1.1}),
            "hot_shard",
            None,
        ),
        (
            json!({"sharded": true, "shard_skew_ratio": 1.11}),
            "hot_shard",
            Some("warning"),
        ),
        (
            json!({"sharded": true, "shard_skew_ratio": 1.49}),
            "hot_shard",
            Some("warning"),
        ),
        (
            json!({"sharded": true, "shard_skew_ratio": 1.5}),
            "hot_shard",
            Some("critical"),
        ),
        (
            json!({"sharded": true, "shared_across_shards": []}),
            "shared_dependency",
            None,
        ),
        (
            json!({"sharded": true, "shared_across_shards": ["cache"]}),
            "shared_dependency",
            Some("warning"),
        ),
        (
            json!({"sharded": true, "shared_across_shards": ["cache", "job_queue"], "symptoms": ["cascade_failure"]}),
            "shared_dependency",
            Some("critical"),
        ),
        (
            json!({"sharded": true, "symptoms": ["cascade_failure"]}),
            "shared_dependency",
            None,
        ),
    ];
    for (args, id, expected) in cases {
        let d = call(&advisor, "diagnose_bottleneck", &args);
        let got = finding(&d, id).map(|f| f["severity"].as_str().unwrap_or_default().to_string());
        assert_eq!(got.as_deref(), expected, "{args}: {id}");
        if expected.is_some() {
            assert_eq!(d["healthy"], false, "{args}: a bad metric is never healthy");
            let f = finding(&d, id).expect("fired");
            for horizon in ["immediate", "short_term", "long_term"] {
                assert!(
                    f["fixes"][horizon].as_str().is_some_and(|t| !t.is_empty()),
                    "{args}: {id} has a {horizon} fix"
                );
            }
            assert!(
                strings(&f["sources"])
                    .contains(&"knowledge://monitoring#diagnostic-findings".to_string())
            );
        }
    }
}

#[test]
fn error_rate_is_no_longer_healthy() {
    let advisor = advisor();
    let d = call(
        &advisor,
        "diagnose_bottleneck",
        &json!({"error_rate_pct": 95}),
    );
    assert_eq!(d["healthy"], false);
    let f = finding(&d, "high_error_rate").expect("fires");
    assert_eq!(f["layer"], "application");
    assert_eq!(f["evidence"][0]["metric"], "error_rate_pct");
    assert_eq!(f["evidence"][0]["threshold"], 1.44);
    let markdown = advisor
        .call(
            "diagnose_bottleneck",
            json!({"error_rate_pct": 95})
                .as_object()
                .expect("an object"),
        )
        .expect("accepted")
        .markdown;
    assert!(!markdown.contains("Healthy"), "{markdown}");
}

#[test]
fn shared_dependency_names_the_shared_components_as_evidence() {
    let advisor = advisor();
    let d = call(
        &advisor,
        "diagnose_bottleneck",
        &json!({"sharded": true, "shared_across_shards": ["cache", "job_queue"], "symptoms": ["cascade_failure"]}),
    );
    let f = finding(&d, "shared_dependency").expect("fires");
    let evidence = f["evidence"].as_array().expect("a list");
    assert!(
        evidence
            .iter()
            .any(|e| e["metric"] == "shared_across_shards" && e["value"] == "cache, job_queue")
    );
    assert!(
        evidence
            .iter()
            .any(|e| e["metric"] == "symptoms" && e["value"] == "cascade_failure")
    );
    assert!(
        f["fixes"]["long_term"]
            .as_str()
            .unwrap_or_default()
            .contains("cells")
    );
    // The stage-4 system is told to isolate cells, now.
    let next = &d["next_stage"];
    assert_eq!(next["number"], 4);
    assert_eq!(strings(&next["add"]), ["cell_isolation"]);
    assert_eq!(next["urgency"], "now");
}

#[test]
fn shard_facts_about_an_unsharded_system_are_refused() {
    let advisor = advisor();
    for (args, field) in [
        (
            json!({"sharded": false, "shard_skew_ratio": 2}),
            "shard_skew_ratio",
        ),
        (
            json!({"sharded": false, "shared_across_shards": ["cache"]}),
            "shared_across_shards",
        ),
        (
            json!({"sharded": true, "shared_across_shards": ["cach"]}),
            "shared_across_shards[0]",
        ),
        (
            json!({"sharded": true, "shard_skew_ratio": 0.5}),
            "shard_skew_ratio",
        ),
        // Shard facts come with `sharded: true`.
        (json!({"shard_skew_ratio": 3}), "shard_skew_ratio"),
        (
            json!({"shared_across_shards": ["cache"]}),
            "shared_across_shards",
        ),
    ] {
        let error = refusal(&advisor, "diagnose_bottleneck", &args);
        assert!(error.contains(field), "{args}: `{error}` names {field}");
    }
    let error = refusal(
        &advisor,
        "diagnose_bottleneck",
        &json!({"sharded": true, "shared_across_shards": ["cach"]}),
    );
    assert!(error.contains("Did you mean `cache`?"), "{error}");
}

// ---------------------------------------------------------------------------------------------
// The next stage: what triggered it, and the binding constraint.

#[test]
fn next_stage_scenarios() {
    let advisor = advisor();
    // (arguments, next stage number, add, urgency)
    let cases: Vec<(Value, u64, Vec<&str>, &str)> = vec![
        // Only the user count: a typical point, planned.
        (
            json!({"has_cache": true, "users": 200000}),
            3,
            vec!["read_replicas"],
            "planned",
        ),
        (
            json!({"has_cache": true, "users": 200000, "db_cpu_pct": 10}),
            3,
            vec!["read_replicas"],
            "planned",
        ),
        (
            json!({"has_cache": true, "users": 200000, "db_read_load_pct": 80}),
            3,
            vec!["read_replicas"],
            "now",
        ),
        (
            json!({"users": 5000, "p95_latency_ms": 300}),
            2,
            vec!["cache"],
            "now",
        ),
        (json!({"users": 20000}), 0, vec![], ""),
        // Stage 2 at 75% write load: read replicas add no write capacity, so shard.
        (
            json!({"has_cache": true, "db_write_load_pct": 75}),
            4,
            vec!["sharding"],
            "now",
        ),
        (
            json!({"has_cache": true, "db_write_load_pct": 70}),
            0,
            vec![],
            "",
        ),
        // ... or move table groups to their own databases first.
        (
            json!({"has_cache": true, "db_write_load_pct": 75, "independent_table_groups": true}),
            4,
            vec!["functional_partitioning"],
            "now",
        ),
        (
            json!({"has_cache": true, "has_read_replicas": true, "db_write_load_pct": 95}),
            4,
            vec!["sharding"],
            "now",
        ),
        (
            json!({"has_read_replicas": true, "db_write_load_pct": 95, "independent_table_groups": true}),
            4,
            vec!["functional_partitioning"],
            "now",
        ),
        // Stage 1 with reads and writes both too high: the cache for reads, sharding for writes.
        (
            json!({"db_cpu_pct": 70, "db_write_load_pct": 80}),
            4,
            vec!["cache", "sharding"],
            "now",
        ),
        // Read pressure at stage 2 still goes to replicas.
        (
            json!({"has_cache": true, "db_read_load_pct": 75}),
            3,
            vec!["read_replicas"],
            "now",
        ),
        // A sharded system under write pressure is not told to shard: its fixes reshard.
        (
            json!({"sharded": true, "db_write_load_pct": 95}),
            0,
            vec![],
            "",
        ),
        (
            json!({"sharded": true, "needs_multi_region": true}),
            5,
            vec!["multi_region"],
            "now",
        ),
        (
            json!({"sharded": true, "users": 20000000}),
            5,
            vec!["multi_region"],
            "planned",
        ),
    ];
    for (args, number, add, urgency) in cases {
        let d = call(&advisor, "diagnose_bottleneck", &args);
        let next = &d["next_stage"];
        if number == 0 {
            assert!(next.is_null(), "{args}: no next stage, got {next}");
            continue;
        }
        assert_eq!(next["number"], number, "{args}");
        assert_eq!(strings(&next["add"]), add, "{args}");
        assert_eq!(next["urgency"], urgency, "{args}");
        let summary = d["summary"].as_str().unwrap_or_default();
        assert!(
            summary.contains(&format!("next ({urgency}")),
            "{args}: {summary}"
        );
        let reason = next["reason"].as_str().unwrap_or_default();
        assert_eq!(
            reason.contains("only the user count"),
            urgency == "planned",
            "{args}: {reason}"
        );
    }
}

#[test]
fn functional_partitioning_keeps_sharding_in_view() {
    let advisor = advisor();
    let d = call(
        &advisor,
        "diagnose_bottleneck",
        &json!({"has_cache": true, "db_write_load_pct": 75, "independent_table_groups": true}),
    );
    assert!(strings(&d["next_stage"]["also_consider"]).contains(&"sharding".to_string()));
    let f = finding(&d, "db_write_pressure").expect("fires");
    assert!(
        f["fixes"]["short_term"]
            .as_str()
            .unwrap_or_default()
            .contains("functional_partition"),
        "{f}"
    );
}

#[test]
fn sharded_systems_reshard_instead_of_sharding() {
    let advisor = advisor();
    for metric in [
        json!({"db_cpu_pct": 90}),
        json!({"db_write_load_pct": 95}),
        json!({"shard_skew_ratio": 2}),
    ] {
        let mut args = metric.as_object().cloned().unwrap_or_default();
        args.insert("sharded".into(), Value::Bool(true));
        let d = call(
            &advisor,
            "diagnose_bottleneck",
            &Value::Object(args.clone()),
        );
        let findings = d["findings"].as_array().expect("findings");
        assert!(!findings.is_empty(), "{args:?}");
        let texts: Vec<String> = findings
            .iter()
            .flat_map(|f| {
                ["immediate", "short_term", "long_term"]
                    .map(|h| f["fixes"][h].as_str().unwrap_or_default().to_lowercase())
            })
            .collect();
        assert!(
            texts.iter().any(|t| t.contains("reshard")),
            "{args:?}: {texts:?}"
        );
        for t in &texts {
            assert!(
                !t.contains("shard the data") && !t.contains("choose a shard key"),
                "{args:?}: {t}"
            );
        }
    }
}

#[test]
fn replication_lag_fixes_throttle_writes() {
    let advisor = advisor();
    let d = call(
        &advisor,
        "diagnose_bottleneck",
        &json!({"replication_lag_ms": 2000}),
    );
    let f = finding(&d, "replication_lag").expect("fires");
    let all = format!(
        "{} {} {}",
        f["fixes"]["immediate"], f["fixes"]["short_term"], f["fixes"]["long_term"]
    );
    assert!(all.to_lowercase().contains("throttle"), "{all}");
}

// ---------------------------------------------------------------------------------------------
// Never propose what exists, over every combination of the architecture flags.

/// The flags that say a component is there, with the component and the words that would
/// introduce it again in a text.
const PRESENCE: [(&str, &str, &[&str]); 7] = [
    (
        "has_cache",
        "cache",
        &["put a cache", "add a cache", "with a cache"],
    ),
    ("has_cdn", "cdn", &["a cdn"]),
    ("has_load_balancer", "load_balancer", &["a load balancer"]),
    ("has_read_replicas", "read_replicas", &["read replicas"]),
    ("has_queue", "job_queue", &["a job queue"]),
    (
        "sharded",
        "sharding",
        &[
            "shard the data",
            "shard writes",
            "shard when",
            "shard if",
            "partition horizontally",
            "choose a shard key",
        ],
    ),
    (
        "regions",
        "multi_region",
        &["multi-region", "second region"],
    ),
];

/// Every metric past its critical threshold and every symptom, so that every finding fires.
fn everything_bad() -> Map<String, Value> {
    json!({
        "users": 2000000, "needs_multi_region": true,
        "p95_latency_ms": 2000, "p99_latency_ms": 3000, "db_cpu_pct": 95, "app_cpu_pct": 95,
        "db_read_load_pct": 95, "db_write_load_pct": 95, "read_pct": 95, "cache_hit_rate_pct": 40,
        "replication_lag_ms": 20000, "queue_depth": 50000, "dlq_size": 10,
        "pool_utilization_pct": 95, "queries_per_request": 40, "slowest_query_ms": 900,
        "error_rate_pct": 5,
        "symptoms": ["split_brain", "cascade_failure", "read_after_write_inconsistency", "phantom_lock", "cache_stampede"]
    })
    .as_object()
    .cloned()
    .unwrap_or_default()
}

/// Every text of a diagnosis that proposes something: fixes and the next stage's reason.
fn proposal_texts(d: &Value) -> Vec<String> {
    let mut texts = Vec::new();
    for f in d["findings"].as_array().into_iter().flatten() {
        for h in ["immediate", "short_term", "long_term"] {
            texts.push(f["fixes"][h].as_str().unwrap_or_default().to_lowercase());
        }
    }
    texts.push(
        d["next_stage"]["reason"]
            .as_str()
            .unwrap_or_default()
            .to_lowercase(),
    );
    texts
}

#[test]
fn no_result_proposes_a_component_given_as_present() {
    let advisor = advisor();
    let mut combinations = 0;
    for bits in 0u32..(1 << PRESENCE.len()) {
        for independent in [false, true] {
            let mut args = everything_bad();
            let mut present = Vec::new();
            for (i, (flag, component, _)) in PRESENCE.iter().enumerate() {
                let on = bits & (1 << i) != 0;
                let value = match *flag {
                    "regions" => json!(if on { 2 } else { 1 }),
                    _ => json!(on),
                };
                args.insert(flag.to_string(), value);
                if on {
                    present.push(*component);
                }
            }
            args.insert("independent_table_groups".into(), json!(independent));
            if present.contains(&"sharding") {
                args.insert("shard_skew_ratio".into(), json!(2));
                args.insert("shared_across_shards".into(), json!(["cache"]));
            }
            let system = Value::Object(args.clone());
            let d = call(&advisor, "diagnose_bottleneck", &system);
            let next = &d["next_stage"];
            for component in strings(&next["add"])
                .iter()
                .chain(&strings(&next["also_consider"]))
            {
                assert!(
                    !present.contains(&component.as_str()),
                    "{present:?}: next_stage proposes {component}"
                );
            }
            let texts = proposal_texts(&d);
            for (_, component, words) in PRESENCE.iter().filter(|(_, c, _)| present.contains(c)) {
                for text in &texts {
                    for word in *words {
                        assert!(
                            !text.contains(word),
                            "{present:?}: `{text}` proposes {component} again ({word})"
                        );
                    }
                }
            }
            let report = call(&advisor, "scaling_report", &json!({"system": system}));
            for c in report["components_to_add"].as_array().into_iter().flatten() {
                let name = c["component"].as_str().unwrap_or_default();
                assert!(
                    !present.contains(&name),
                    "{present:?}: the report adds {name}"
                );
            }
            for text in proposal_texts(&report["diagnosis"]) {
                for (_, component, words) in PRESENCE.iter().filter(|(_, c, _)| present.contains(c))
                {
                    for word in *words {
                        assert!(
                            !text.contains(word),
                            "{present:?}: report `{text}` proposes {component}"
                        );
                    }
                }
            }
            combinations += 1;
        }
    }
    assert_eq!(combinations, 256);
}

/// The words the invariant looks for do appear when nothing is present, so the test above can
/// fail: a fix that proposes a component really uses them.
#[test]
fn the_proposal_words_are_used_when_nothing_is_present() {
    let advisor = advisor();
    let mut args = everything_bad();
    args.remove("users");
    args.remove("needs_multi_region");
    let d = call(&advisor, "diagnose_bottleneck", &Value::Object(args));
    let texts = proposal_texts(&d).join(" | ");
    for (flag, _, words) in PRESENCE.iter().filter(|(f, _, _)| *f != "regions") {
        assert!(
            words.iter().any(|w| texts.contains(w)),
            "{flag}: none of {words:?} appear in {texts}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// The other tools.

#[test]
fn kafka_exactly_once_carries_its_requirements() {
    let advisor = advisor();
    let q = call(
        &advisor,
        "choose_message_queue",
        &json!({"exactly_once": true}),
    );
    assert_eq!(q["recommendation"]["name"], "Kafka");
    let warnings = q["warnings"].to_string();
    for word in ["idempot", "transaction", "read_committed", "at least once"] {
        assert!(warnings.contains(word), "{word} missing from {warnings}");
    }
    let replay = call(
        &advisor,
        "choose_message_queue",
        &json!({"needs_replay": true}),
    );
    assert_eq!(replay["recommendation"]["name"], "Kafka");
    // Chosen for replay, Kafka still answers "exactly once" as its delivery: the same warning
    // says what that takes and that its defaults deliver at least once.
    let warnings = replay["warnings"].to_string();
    assert!(
        warnings.contains("only when it is configured")
            && warnings.contains("delivers at least once"),
        "{warnings}"
    );
}

#[test]
fn sloppy_quorums_guarantee_no_overlap() {
    let advisor = advisor();
    // (quorum, overlap, overlap_guaranteed, warned)
    for (quorum, overlap, guaranteed, warned) in [
        (json!({"n": 3, "w": 2, "r": 2}), true, true, false),
        (
            json!({"n": 3, "w": 2, "r": 2, "sloppy": false}),
            true,
            true,
            false,
        ),
        (
            json!({"n": 3, "w": 2, "r": 2, "sloppy": true}),
            true,
            false,
            true,
        ),
        (
            json!({"n": 3, "w": 1, "r": 1, "sloppy": true}),
            false,
            false,
            true,
        ),
        (json!({"n": 3, "w": 1, "r": 1}), false, false, false),
    ] {
        let c = call(
            &advisor,
            "pick_consistency_model",
            &json!({"quorum": quorum}),
        );
        assert_eq!(c["quorum"]["overlap"], overlap, "{quorum}");
        assert_eq!(c["quorum"]["overlap_guaranteed"], guaranteed, "{quorum}");
        let warnings = c["warnings"].to_string();
        assert_eq!(
            warnings.contains("hinted handoff"),
            warned,
            "{quorum}: {warnings}"
        );
    }
}

#[test]
fn directory_sharding_for_large_tenants() {
    let advisor = advisor();
    let p = call(
        &advisor,
        "plan_migration",
        &json!({"kind": "shard", "large_tenants": true, "target_shards": 4, "virtual_shards": 64}),
    );
    assert_eq!(p["shard_strategy"]["strategy"], "directory");
    assert_eq!(p["shard_strategy"]["virtual_shards"], 64);
    assert_eq!(
        p["shard_strategy"]["initial_map"][0]["virtual_ranges"][0],
        "0-15"
    );
    let without = call(
        &advisor,
        "plan_migration",
        &json!({"kind": "shard", "large_tenants": false}),
    );
    assert_eq!(without["shard_strategy"]["strategy"], "hash");
}

// ---------------------------------------------------------------------------------------------
// Every row beyond the seeds names its public source.

#[test]
fn every_sourced_row_names_a_title_and_a_url() {
    let advisor = advisor();
    let knowledge = advisor.knowledge();
    let mut tables = 0;
    let mut new_rows = 0;
    for document in knowledge.documents() {
        for section in document.sections() {
            for table in section.tables() {
                let Some(column) = table.columns().iter().position(|c| c == "source") else {
                    continue;
                };
                tables += 1;
                for row in table.rows() {
                    let cell = row
                        .cells()
                        .get(column)
                        .map(|c| c.trim())
                        .unwrap_or_default();
                    let place = format!("{}.md line {}", document.slug(), row.line());
                    if let Some(problem) = source_problem(cell) {
                        panic!("{place}: {problem}");
                    }
                    if cell != "seeds" {
                        new_rows += 1;
                    }
                }
            }
        }
    }
    // The tables of issue 14 carry the column; an empty folder or a renamed column fails here.
    assert!(tables >= 10, "only {tables} tables have a source column");
    assert!(new_rows >= 40, "only {new_rows} rows name a public source");
}

#[test]
fn shard_skew_is_a_missing_input_of_sharded_systems_only() {
    let advisor = advisor();
    let missing = |args: Value| -> Vec<String> {
        let d = call(&advisor, "diagnose_bottleneck", &args);
        d["missing_inputs"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|m| m["field"].as_str().map(str::to_string))
            .collect()
    };
    let skew = "shard_skew_ratio".to_string();
    assert!(!missing(json!({"db_cpu_pct": 50})).contains(&skew));
    assert!(missing(json!({"sharded": true, "db_cpu_pct": 50})).contains(&skew));
}

/// What is wrong with a `source` cell: empty, or a public source without a title or a URL.
/// `seeds` marks a row taken from the source documents that `knowledge/README.md` maps.
fn source_problem(cell: &str) -> Option<String> {
    if cell.is_empty() {
        return Some("the row has no source".into());
    }
    if cell == "seeds" {
        return None;
    }
    let url = cell.find("https://").map(|i| &cell[i..]);
    if url.is_none_or(|u| u.len() <= "https://x.y".len()) {
        return Some(format!("`{cell}` has no URL"));
    }
    let title = cell.split("https://").next().unwrap_or_default();
    if title.trim_matches(|c: char| !c.is_alphanumeric()).len() < 10 {
        return Some(format!("`{cell}` has no title before its URL"));
    }
    None
}

#[test]
fn the_source_check_refuses_empty_untitled_and_unlinked_sources() {
    for (cell, refused) in [
        ("", true),
        ("seeds", false),
        ("Google SRE Workbook, \"Alerting on SLOs\"", true),
        ("(https://sre.google/workbook/alerting-on-slos/)", true),
        (
            "Google SRE Workbook, \"Alerting on SLOs\" (https://sre.google/workbook/alerting-on-slos/)",
            false,
        ),
    ] {
        assert_eq!(source_problem(cell).is_some(), refused, "`{cell}`");
    }
}

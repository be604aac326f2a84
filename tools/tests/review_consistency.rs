//! Issue 28, point 7 (consistency claims are exact) and point 10's `shared_across_shards`: each
//! claim beside its neighbours (n, w and r at the boundaries, sloppy or strict, one, two, three
//! or an unknown number of regions, every model), so that a rule is not fixed for the
//! example's numbers only.

use serde_json::{Map, Value, json};
use tools::{Advisor, CallError};

fn advisor() -> Advisor {
    Advisor::embedded().expect("the embedded knowledge base loads")
}

fn call(advisor: &Advisor, tool: &str, args: &Value) -> Value {
    let mut map: Map<String, Value> = args.as_object().cloned().unwrap_or_default();
    map.entry("detail").or_insert_with(|| json!("full"));
    match advisor.call(tool, &map) {
        Ok(out) => out.structured,
        Err(e) => panic!("{tool}({args}) was refused: {e}"),
    }
}

fn refusal(advisor: &Advisor, tool: &str, args: &Value) -> (String, String) {
    match advisor.call(tool, args.as_object().expect("arguments are an object")) {
        Err(CallError::Arguments(e)) => (e.field.clone(), e.to_string()),
        Err(other) => panic!("{tool}({args}) failed otherwise: {other}"),
        Ok(out) => panic!("{tool}({args}) was accepted: {}", out.structured),
    }
}

// ------------------------------------------------------------ point 7: consistency claims

/// The claims an answer can make, each known by a phrase of its row in `consistency.md`.
const CLAIMS: [(&str, &str); 6] = [
    // warnings
    (
        "quorum_is_not_linearizable_alone",
        "does not give them alone",
    ),
    ("sloppy_is_not_linearizable", "Linearizability is not given"),
    (
        "two_regions_lose_the_quorum",
        "With fewer than three regions",
    ),
    ("regions_unknown", "Give regions to have"),
    ("active_passive_needs_sync", "replicated synchronously"),
    // failure modes
    (
        "async_failover_loses_writes",
        "Failover loses acknowledged writes",
    ),
];

/// The claims `result` makes, in the order of [`CLAIMS`].
fn claims(result: &Value) -> Vec<&'static str> {
    let said = format!("{}{}", result["warnings"], result["failure_modes"]);
    CLAIMS
        .iter()
        .filter(|(_, phrase)| said.contains(phrase))
        .map(|(name, _)| *name)
        .collect()
}

const LINEARIZABLE: &str =
    r#"{"strong_consistency_required": true, "tolerates_coordination_latency": true}"#;

fn with(base: &str, extra: Value) -> Value {
    let mut args: Map<String, Value> = serde_json::from_str(base).expect("a JSON object");
    for (k, v) in extra.as_object().expect("an object") {
        args.insert(k.clone(), v.clone());
    }
    Value::Object(args)
}

/// (what it shows, model arguments, extra arguments, the claims made)
type ClaimCase = (&'static str, &'static str, Value, &'static [&'static str]);

#[rustfmt::skip]
fn claim_cases() -> Vec<ClaimCase> {
    vec![
        // Linearizable and a quorum: what else it needs, at the boundaries of w + r > n.
        ("w + r = n + 1: overlaps, and more is needed", LINEARIZABLE, json!({"quorum": {"n": 3, "w": 2, "r": 2}}), &["quorum_is_not_linearizable_alone"]),
        ("w + r = n: no overlap, so no such claim (the overlap warning instead)", LINEARIZABLE, json!({"quorum": {"n": 3, "w": 1, "r": 2}}), &[]),
        ("a single replica overlaps itself", LINEARIZABLE, json!({"quorum": {"n": 1, "w": 1, "r": 1}}), &["quorum_is_not_linearizable_alone"]),
        ("n = 5, w = r = 3", LINEARIZABLE, json!({"quorum": {"n": 5, "w": 3, "r": 3}}), &["quorum_is_not_linearizable_alone"]),
        ("n = 5, w = 3, r = 2: w + r = n", LINEARIZABLE, json!({"quorum": {"n": 5, "w": 3, "r": 2}}), &[]),
        ("w = r = n", LINEARIZABLE, json!({"quorum": {"n": 3, "w": 3, "r": 3}}), &["quorum_is_not_linearizable_alone"]),
        ("sloppy and overlapping: linearizability is not given", LINEARIZABLE, json!({"quorum": {"n": 3, "w": 2, "r": 2, "sloppy": true}}), &["sloppy_is_not_linearizable"]),
        ("sloppy and not overlapping", LINEARIZABLE, json!({"quorum": {"n": 3, "w": 1, "r": 1, "sloppy": true}}), &["sloppy_is_not_linearizable"]),
        ("sloppy: false is strict", LINEARIZABLE, json!({"quorum": {"n": 3, "w": 2, "r": 2, "sloppy": false}}), &["quorum_is_not_linearizable_alone"]),
        // The other models promise no linearizability, so they make no such claim; they
        // replicate asynchronously, so a failover loses acknowledged writes.
        ("causal with a quorum", r#"{"needs_causal_ordering": true}"#, json!({"quorum": {"n": 3, "w": 2, "r": 2}}), &["async_failover_loses_writes"]),
        ("read-your-writes with a sloppy quorum", r#"{"read_your_writes_critical": true}"#, json!({"quorum": {"n": 3, "w": 2, "r": 2, "sloppy": true}}), &["async_failover_loses_writes"]),
        ("eventual, no quorum", r#"{}"#, json!({}), &["async_failover_loses_writes"]),
        ("eventual by availability", r#"{"availability_during_partition": true, "app_resolves_conflicts": true}"#, json!({}), &["async_failover_loses_writes"]),
        // Regions: a majority quorum needs three.
        ("multi-region, regions not given", LINEARIZABLE, json!({"multi_region": true, "quorum": {"n": 3, "w": 2, "r": 2}}), &["quorum_is_not_linearizable_alone", "regions_unknown", "active_passive_needs_sync"]),
        ("two regions lose the quorum with either", LINEARIZABLE, json!({"multi_region": true, "regions": 2, "quorum": {"n": 3, "w": 2, "r": 2}}), &["quorum_is_not_linearizable_alone", "two_regions_lose_the_quorum", "active_passive_needs_sync"]),
        ("three regions survive one lost", LINEARIZABLE, json!({"multi_region": true, "regions": 3, "quorum": {"n": 3, "w": 2, "r": 2}}), &["quorum_is_not_linearizable_alone", "active_passive_needs_sync"]),
        ("five regions", LINEARIZABLE, json!({"multi_region": true, "regions": 5, "quorum": {"n": 5, "w": 3, "r": 3}}), &["quorum_is_not_linearizable_alone", "active_passive_needs_sync"]),
        ("two regions, a quorum with no majority (w = r = 1) survives", LINEARIZABLE, json!({"multi_region": true, "regions": 2, "quorum": {"n": 3, "w": 1, "r": 1}}), &["active_passive_needs_sync"]),
        ("two regions, sloppy: it stays available, but is not linearizable", LINEARIZABLE, json!({"multi_region": true, "regions": 2, "quorum": {"n": 3, "w": 2, "r": 2, "sloppy": true}}), &["sloppy_is_not_linearizable", "active_passive_needs_sync"]),
        ("two regions, no quorum: no quorum claim", LINEARIZABLE, json!({"multi_region": true, "regions": 2}), &["active_passive_needs_sync"]),
        ("one region, not multi-region", LINEARIZABLE, json!({"regions": 1, "quorum": {"n": 3, "w": 2, "r": 2}}), &["quorum_is_not_linearizable_alone"]),
        ("eventual across two regions with a majority quorum", r#"{"app_resolves_conflicts": true}"#, json!({"multi_region": true, "regions": 2, "quorum": {"n": 3, "w": 2, "r": 2}}), &["two_regions_lose_the_quorum", "async_failover_loses_writes"]),
        ("eventual across three regions", r#"{"app_resolves_conflicts": true}"#, json!({"multi_region": true, "regions": 3, "quorum": {"n": 3, "w": 2, "r": 2}}), &["async_failover_loses_writes"]),
        ("causal across regions, regions not given", r#"{"needs_causal_ordering": true, "app_resolves_conflicts": true}"#, json!({"multi_region": true, "quorum": {"n": 5, "w": 3, "r": 3}}), &["regions_unknown", "async_failover_loses_writes"]),
    ]
}

#[test]
fn each_consistency_claim_is_made_exactly_where_it_holds() {
    let advisor = advisor();
    let cases = claim_cases();
    assert!(cases.len() >= 20);
    for (shows, model, extra, expected) in cases {
        let args = with(model, extra);
        let result = call(&advisor, "pick_consistency_model", &args);
        assert_eq!(claims(&result), expected, "{shows}: {args}");
        if !expected.is_empty() {
            let warnings = "knowledge://consistency#warnings".to_string();
            let failures = "knowledge://consistency#failure-modes-to-plan-for".to_string();
            let sources = result["sources"].to_string();
            assert!(
                sources.contains(&warnings) || sources.contains(&failures),
                "{shows}: the rows are cited: {sources}"
            );
        }
    }
}

#[test]
fn the_summary_says_what_the_overlap_field_says() {
    let advisor = advisor();
    for model in [
        LINEARIZABLE,
        r#"{"needs_causal_ordering": true}"#,
        r#"{"read_your_writes_critical": true}"#,
        r#"{}"#,
    ] {
        for n in 1..=5u64 {
            for w in 1..=n {
                for r in 1..=n {
                    for sloppy in [false, true] {
                        let args = with(
                            model,
                            json!({"quorum": {"n": n, "w": w, "r": r, "sloppy": sloppy}}),
                        );
                        let result = call(&advisor, "pick_consistency_model", &args);
                        let q = &result["quorum"];
                        let guaranteed = q["overlap_guaranteed"] == json!(true);
                        assert_eq!(guaranteed, w + r > n && !sloppy, "{args}");
                        let summary = result["summary"].as_str().expect("a summary");
                        assert_eq!(
                            summary.contains("overlaps (w + r > n)"),
                            guaranteed,
                            "{args}: {summary}"
                        );
                        assert_eq!(
                            summary.contains("guarantees no overlap"),
                            w + r > n && sloppy,
                            "{args}: {summary}"
                        );
                        assert_eq!(
                            summary.contains("cannot give linearizable reads"),
                            result["model"] == json!("linearizable") && !guaranteed,
                            "{args}: {summary}"
                        );
                        assert!(summary.chars().count() <= 400, "{args}: {summary}");
                    }
                }
            }
        }
    }
}

#[test]
fn active_passive_is_strong_only_when_replicated_synchronously() {
    let advisor = advisor();
    let args = with(LINEARIZABLE, json!({"multi_region": true, "regions": 3}));
    let result = call(&advisor, "pick_consistency_model", &args);
    let patterns = result["multi_region_patterns"]
        .as_array()
        .expect("patterns");
    let active_passive = patterns
        .iter()
        .find(|p| p["pattern"] == json!("Active-passive"))
        .expect("active-passive is offered for linearizable");
    let consistency = active_passive["consistency"].as_str().unwrap();
    assert!(
        consistency.starts_with("strong only with synchronous"),
        "{consistency}"
    );
    assert!(consistency.contains("loses"), "{consistency}");
    // Linearizable replicates synchronously: no asynchronous-failover failure mode.
    assert!(!claims(&result).contains(&"async_failover_loses_writes"));
}

#[test]
fn regions_is_described_checked_and_asked_for() {
    let advisor = advisor();
    let tool = advisor.tool("pick_consistency_model").expect("registered");
    let regions = &tool.input_schema["properties"]["regions"];
    assert!(
        regions["description"]
            .as_str()
            .unwrap_or_default()
            .contains("multi_region"),
        "{regions}"
    );
    assert_eq!(regions["minimum"], json!(1), "{regions}");

    // (arguments, the refused field, phrases the refusal holds)
    for (args, field, phrases) in [
        (
            json!({"multi_region": true, "regions": 1}),
            "regions",
            &["`1`", "2 or more", "multi_region"][..],
        ),
        (
            json!({"regions": 2}),
            "regions",
            &["`2`", "multi_region: true"][..],
        ),
        (
            json!({"multi_region": false, "regions": 3}),
            "regions",
            &["`3`", "multi_region: true"][..],
        ),
        (
            json!({"multi_region": true, "regions": 0}),
            "regions",
            &["`0`", "at least 1"][..],
        ),
        (
            json!({"multi_region": true, "regions": 2.5}),
            "regions",
            &["`2.5`", "whole number"][..],
        ),
    ] {
        let (refused, text) = refusal(&advisor, "pick_consistency_model", &args);
        assert_eq!(refused, field, "{args}: {text}");
        for phrase in phrases {
            assert!(
                text.contains(phrase),
                "{args}: `{phrase}` missing from {text}"
            );
        }
    }

    let missing = |args: Value| -> bool {
        let r = call(&advisor, "pick_consistency_model", &args);
        r["missing_inputs"].to_string().contains("\"regions\"")
    };
    assert!(missing(
        json!({"multi_region": true, "quorum": {"n": 3, "w": 2, "r": 2}})
    ));
    assert!(!missing(
        json!({"multi_region": true, "regions": 2, "quorum": {"n": 3, "w": 2, "r": 2}})
    ));
    assert!(!missing(json!({"multi_region": true})));
    assert!(!missing(json!({"quorum": {"n": 3, "w": 2, "r": 2}})));
}

// ------------------------------------------------------ point 3: the report chooses one path

fn components(report: &Value) -> Vec<(String, String)> {
    report["components_to_add"]
        .as_array()
        .expect("components_to_add")
        .iter()
        .map(|c| {
            (
                c["component"].as_str().unwrap_or_default().to_string(),
                c["role"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

fn migration_kinds(report: &Value) -> Vec<String> {
    report["migrations"]
        .as_array()
        .expect("migrations")
        .iter()
        .filter_map(|m| m["kind"].as_str().map(str::to_string))
        .collect()
}

fn section<'a>(report: &'a Value, title: &str) -> &'a str {
    report["sections"]
        .as_array()
        .and_then(|s| s.iter().find(|s| s["title"] == json!(title)))
        .and_then(|s| s["markdown"].as_str())
        .unwrap_or_else(|| panic!("no section {title}"))
}

/// (what it shows, system, requirements, components to add, migrations)
type ReportCase = (
    &'static str,
    Value,
    Value,
    &'static [(&'static str, &'static str)],
    &'static [&'static str],
);

#[rustfmt::skip]
fn report_cases() -> Vec<ReportCase> {
    let write_bound = json!({"users": 500_000, "has_read_replicas": true, "db_write_load_pct": 80});
    let multi = json!({"users": 500_000, "has_read_replicas": true, "needs_multi_region": true, "db_write_load_pct": 80});
    vec![
        ("ACID across regions: the distributed SQL store replaces the hand-built shards",
            multi.clone(), json!({"needs_acid": true, "multi_region": true}),
            &[("distributed_database", "add"), ("multi_region", "add")], &["database_switch", "multi_region"]),
        ("ACID in one region: PostgreSQL, so sharding stays",
            multi, json!({"needs_acid": true}),
            &[("sharding", "add"), ("multi_region", "add"), ("distributed_database", "consider")], &["shard", "multi_region"]),
        ("multi-region asked only of the datastore is a component and a phase",
            write_bound.clone(), json!({"needs_acid": true, "multi_region": true}),
            &[("distributed_database", "add"), ("multi_region", "add")], &["database_switch", "multi_region"]),
        ("neither asked: only the write pressure's sharding",
            write_bound, json!({"needs_acid": true}),
            &[("sharding", "add")], &["shard"]),
        ("multi-region asked, no write pressure: the recommended distributed SQL store is added, not considered",
            json!({"users": 500_000, "has_read_replicas": true}), json!({"needs_acid": true, "multi_region": true}),
            &[("multi_region", "add"), ("distributed_database", "add")], &["multi_region", "database_switch"]),
        ("already in two regions (stage 5): nothing to add",
            json!({"users": 500_000, "has_read_replicas": true, "regions": 2}), json!({"needs_acid": true, "multi_region": true}),
            &[], &[]),
    ]
}

#[test]
fn the_report_follows_the_datastore_it_recommends() {
    let advisor = advisor();
    for (shows, system, requirements, expected, kinds) in report_cases() {
        let args = json!({"system": system, "requirements": requirements});
        let report = call(&advisor, "scaling_report", &args);
        let expected: Vec<(String, String)> = expected
            .iter()
            .map(|(c, r)| (c.to_string(), r.to_string()))
            .collect();
        assert_eq!(components(&report), expected, "{shows}");
        assert_eq!(migration_kinds(&report), kinds, "{shows}");
        let plan = section(&report, "Migration Plan");
        let distributed_sql =
            report["datastore"]["recommendation"]["category"] == json!("distributed_sql");
        if distributed_sql {
            for hand_built in ["shard router", "saga", "shard key"] {
                assert!(
                    !plan.to_lowercase().contains(hand_built),
                    "{shows}: {hand_built} in {plan}"
                );
            }
        }
        if kinds.contains(&"multi_region") {
            assert!(
                plan.contains("multi-region"),
                "{shows}: no multi-region phase in {plan}"
            );
            let bottlenecks = section(&report, "Bottlenecks Identified");
            assert!(
                bottlenecks.contains("unmet_multi_region"),
                "{shows}: {bottlenecks}"
            );
        }
    }
}

#[test]
fn a_stated_need_for_regions_is_never_healthy() {
    let advisor = advisor();
    // (system, healthy, next stage adds multi_region)
    for (system, healthy, adds) in [
        (
            json!({"users": 500_000, "has_read_replicas": true, "needs_multi_region": true}),
            false,
            true,
        ),
        (
            json!({"users": 500_000, "has_read_replicas": true}),
            true,
            false,
        ),
        (
            json!({"users": 50_000, "needs_multi_region": true}),
            false,
            true,
        ),
        (
            json!({"users": 500_000, "has_read_replicas": true, "needs_multi_region": true, "regions": 2}),
            true,
            false,
        ),
    ] {
        let d = call(&advisor, "diagnose_bottleneck", &system);
        assert_eq!(d["healthy"], json!(healthy), "{system}");
        let next = d["next_stage"]["add"].to_string();
        assert_eq!(next.contains("multi_region"), adds, "{system}: {next}");
        let summary = d["summary"].as_str().unwrap_or_default();
        assert_eq!(summary.contains("healthy"), healthy, "{system}: {summary}");
        // The standby it proposes fails over with the writes of the lag lost, when asynchronous.
        let fixes = d["findings"].to_string();
        assert_eq!(
            fixes.contains("a failover loses the writes"),
            adds,
            "{system}: {fixes}"
        );
    }
}

// ------------------------------------------- point 10: shared_across_shards says what it takes

#[test]
fn shared_across_shards_lists_the_component_names_and_refuses_others() {
    let advisor = advisor();
    let component_names: Vec<Value> = tools::diagnose_bottleneck::COMPONENTS
        .iter()
        .map(|c| json!(c))
        .collect();
    assert!(component_names.contains(&json!("cache")));
    let diagnose = advisor.tool("diagnose_bottleneck").expect("registered");
    let items = &diagnose.input_schema["properties"]["shared_across_shards"]["items"];
    assert_eq!(items["enum"], json!(component_names), "{items}");
    // The map behind the hint is the check's, not the listing's.
    assert_eq!(items.get("x-products"), None, "{items}");

    // (tool, arguments, refused field, phrases the refusal holds)
    let sharded = |list: Value| json!({"sharded": true, "shared_across_shards": list});
    for (tool, args, field, phrases) in [
        (
            "diagnose_bottleneck",
            sharded(json!(["redis-cluster"])),
            "shared_across_shards[0]",
            &[
                "\"redis-cluster\"",
                "one of cache, cdn",
                "distributed_database",
                "Did you mean `cache`?",
            ][..],
        ),
        (
            "diagnose_bottleneck",
            sharded(json!(["cache", "cach"])),
            "shared_across_shards[1]",
            &["\"cach\"", "one of cache", "Did you mean `cache`?"][..],
        ),
        (
            "diagnose_bottleneck",
            sharded(json!(["Cache"])),
            "shared_across_shards[0]",
            &["\"Cache\"", "one of cache"][..],
        ),
        (
            "scaling_report",
            json!({"system": sharded(json!(["redis-cluster"]))}),
            "system.shared_across_shards[0]",
            &["\"redis-cluster\"", "one of cache", "Did you mean `cache`?"][..],
        ),
        (
            "diagnose_bottleneck",
            sharded(json!(["Kafka"])),
            "shared_across_shards[0]",
            &["\"Kafka\"", "Did you mean `job_queue`?"][..],
        ),
        (
            "diagnose_bottleneck",
            sharded(json!(["mongodb"])),
            "shared_across_shards[0]",
            &["\"mongodb\"", "one of cache"][..],
        ),
        (
            "diagnose_bottleneck",
            json!({"symptoms": ["split-brain"]}),
            "symptoms[0]",
            &["\"split-brain\"", "Did you mean `split_brain`?"][..],
        ),
    ] {
        let (refused, text) = refusal(&advisor, tool, &args);
        assert_eq!(refused, field, "{tool}({args}): {text}");
        for phrase in phrases {
            assert!(
                text.contains(phrase),
                "{tool}({args}): `{phrase}` missing from {text}"
            );
        }
    }

    // Every product of the list is answered with the component it goes under.
    for (product, component) in tools::diagnose_bottleneck::COMPONENT_PRODUCTS {
        let named = format!("{product}-prod");
        let (_, text) = refusal(&advisor, "diagnose_bottleneck", &sharded(json!([named])));
        assert!(
            text.contains(&format!("Did you mean `{component}`?")),
            "{product}: {text}"
        );
    }

    // Every name of the list is accepted, and gives the finding on a sharded system.
    for name in tools::diagnose_bottleneck::COMPONENTS {
        let d = call(&advisor, "diagnose_bottleneck", &sharded(json!([name])));
        let ids = d["findings"].to_string();
        assert!(ids.contains("shared_dependency"), "{name}: {ids}");
    }
    let r = call(
        &advisor,
        "scaling_report",
        &json!({"system": sharded(json!(["cache"]))}),
    );
    assert!(
        r["diagnosis"]["findings"]
            .to_string()
            .contains("shared_dependency")
    );
}

#[test]
fn a_long_list_is_refused_in_a_short_text() {
    let advisor = advisor();
    let list: Vec<&str> = vec!["cache"; 10_000];
    let (field, text) = refusal(
        &advisor,
        "diagnose_bottleneck",
        &json!({"users": 10, "shared_across_shards": list}),
    );
    assert_eq!(field, "shared_across_shards", "{text}");
    assert!(text.len() < 600, "{} bytes: {text}", text.len());
    assert!(text.contains("10000 names in all"), "{text}");
    let (_, short) = refusal(
        &advisor,
        "diagnose_bottleneck",
        &json!({"users": 10, "shared_across_shards": ["cache", "cdn"]}),
    );
    assert!(short.contains("[cache, cdn]"), "{short}");
}

//! `scaling_report`: the seven sections in order on a few systems (snapshots of the markdown),
//! what each section must hold, and refusals that keep the nested field path.

use serde_json::{Value, json};
use tools::scaling_report::SECTION_TITLES;
use tools::{Advisor, CallError};

fn advisor() -> Advisor {
    Advisor::embedded().expect("the embedded knowledge base loads")
}

fn report(advisor: &Advisor, args: &Value) -> (Value, String) {
    let out = advisor
        .call("scaling_report", args.as_object().expect("an object"))
        .unwrap_or_else(|e| panic!("refused {args}: {e}"));
    (out.structured, out.markdown)
}

/// A stage-1 system that has outgrown its single database, with every optional input.
fn growing_startup() -> Value {
    json!({
        "system": {"users": 8000, "p95_latency_ms": 450, "db_cpu_pct": 72, "queries_per_request": 25},
        "requirements": {"needs_acid": true, "complex_queries": true},
        "capacity": {"peak_rps": 300, "growth_factor": 3, "per_server_rps": 500, "users": 25000},
        "current_monthly_cost_usd": 250
    })
}

/// A cached system whose reads overwhelm the database.
fn read_heavy() -> Value {
    json!({
        "system": {"users": 150000, "has_cache": true, "has_load_balancer": true, "cache_hit_rate_pct": 65, "read_pct": 92, "db_read_load_pct": 78, "p95_latency_ms": 320},
        "capacity": {"peak_rps": 5000, "reads_per_sec": 12000, "replica_read_capacity_per_sec": 3000, "db_cores": 8, "users": 150000},
        "current_monthly_cost_usd": 2800
    })
}

/// A sharded system that must go multi-region and has seen split brain.
fn going_global() -> Value {
    json!({
        "system": {"users": 12000000, "sharded": true, "has_read_replicas": true, "has_cache": true, "has_load_balancer": true, "has_cdn": true, "needs_multi_region": true, "replication_lag_ms": 12000, "symptoms": ["split_brain"]},
        "requirements": {"needs_acid": true, "multi_region": true}
    })
}

/// A small healthy system with nothing optional.
fn healthy() -> Value {
    json!({"system": {"users": 4000, "p95_latency_ms": 120, "db_cpu_pct": 35}})
}

#[test]
fn snapshot_growing_startup() {
    let (_, markdown) = report(&advisor(), &growing_startup());
    insta::assert_snapshot!("report_growing_startup", markdown);
}

#[test]
fn snapshot_read_heavy() {
    let (_, markdown) = report(&advisor(), &read_heavy());
    insta::assert_snapshot!("report_read_heavy", markdown);
}

#[test]
fn snapshot_going_global() {
    let (_, markdown) = report(&advisor(), &going_global());
    insta::assert_snapshot!("report_going_global", markdown);
}

fn section<'a>(result: &'a Value, title: &str) -> &'a str {
    result["sections"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["title"] == title)
        .and_then(|s| s["markdown"].as_str())
        .unwrap_or_else(|| panic!("no section {title}"))
}

#[test]
fn seven_sections_in_order_in_the_result_and_the_text() {
    let advisor = advisor();
    for args in [growing_startup(), read_heavy(), going_global(), healthy()] {
        let (result, markdown) = report(&advisor, &args);
        let titles: Vec<&str> = result["sections"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["title"].as_str().unwrap())
            .collect();
        assert_eq!(titles, SECTION_TITLES, "{args}");
        let mut at = 0;
        for title in SECTION_TITLES {
            let heading = format!("\n## {title}\n");
            assert_eq!(
                markdown.matches(&heading).count(),
                1,
                "{title} in {markdown}"
            );
            let found = markdown[at..]
                .find(&heading)
                .unwrap_or_else(|| panic!("{title} out of order"));
            at += found + heading.len();
            assert!(
                !section(&result, title).trim().is_empty(),
                "{title} is empty for {args}"
            );
        }
        for uri in result["sources"].as_array().unwrap() {
            let uri = uri.as_str().unwrap();
            assert!(
                advisor.knowledge().resolve(uri).is_some(),
                "{uri} does not resolve"
            );
        }
        // Same input, same output.
        assert_eq!(report(&advisor, &args).1, markdown);
    }
}

#[test]
fn the_tools_it_ran_are_in_the_result() {
    let advisor = advisor();
    let (full, _) = report(&advisor, &growing_startup());
    assert_eq!(full["diagnosis"]["current_stage"]["number"], 1);
    assert_eq!(full["datastore"]["recommendation"]["name"], "PostgreSQL");
    assert_eq!(full["capacity"]["servers"], 3);
    assert_eq!(full["migrations"][0]["kind"], "add_cache");
    let (bare, _) = report(&advisor, &healthy());
    assert_eq!(bare["datastore"], Value::Null);
    assert_eq!(bare["capacity"], Value::Null);
    assert_eq!(bare["migrations"], json!([]));
    assert_eq!(bare["diagnosis"]["healthy"], true);
}

#[test]
fn each_section_holds_what_the_template_asks() {
    let advisor = advisor();
    let (r, md) = report(&advisor, &read_heavy());
    let current = section(&r, "Current Architecture Analysis");
    assert!(
        current.contains("Stage 2 · Caching") && current.contains("150,000"),
        "{current}"
    );
    assert!(
        current.contains("`cache_hit_rate_pct` 65%") && current.contains("`p95_latency_ms` 320 ms"),
        "{current}"
    );
    assert!(
        current.contains("In place: cache, load balancer"),
        "{current}"
    );

    let bottlenecks = section(&r, "Bottlenecks Identified");
    for finding in r["diagnosis"]["findings"].as_array().unwrap() {
        assert!(
            bottlenecks.contains(&format!("`{}`", finding["id"].as_str().unwrap())),
            "{bottlenecks}"
        );
    }
    assert!(
        bottlenecks.contains("cache_hit_rate_pct 65% < 80%"),
        "{bottlenecks}"
    );

    let recommended = section(&r, "Recommended Architecture");
    assert!(
        recommended.contains("Target: stage 3 · Read Replicas"),
        "{recommended}"
    );
    // Concise draws the architecture once, as text; the text block keeps the diagram too.
    assert!(
        !recommended.contains("```mermaid") && recommended.contains("```text\nUsers"),
        "{recommended}"
    );
    assert!(md.contains("```mermaid\nflowchart TD"), "{md}");
    assert!(
        recommended.contains("Read replicas ×6 (new)"),
        "{recommended}"
    );
    assert!(
        recommended.contains("No datastore recommendation"),
        "{recommended}"
    );

    let components = section(&r, "Components to Add");
    assert!(
        components.starts_with("1. **read replicas** (add)"),
        "{components}"
    );
    assert!(
        components.contains("job queue** (consider)"),
        "{components}"
    );
    assert!(
        !components.contains("load balancer"),
        "already in place: {components}"
    );
    // The plan each component needs: in the section, and as a field in full.
    assert!(
        components.contains("Plan: add_read_replicas"),
        "{components}"
    );
    let mut full_args = read_heavy();
    full_args["detail"] = json!("full");
    let (full, _) = report(&advisor, &full_args);
    assert_eq!(
        full["components_to_add"][0]["migration"],
        "add_read_replicas"
    );

    let plan = section(&r, "Migration Plan");
    assert!(
        plan.contains("### Phase 1: Size the replicas (add read replicas, Week 1)"),
        "{plan}"
    );
    assert!(
        plan.contains("- Week 3:") && plan.contains("Rollback:"),
        "{plan}"
    );

    let cost = section(&r, "Cost Impact");
    assert!(cost.contains("Current: $2,800 per month (given)"), "{cost}");
    assert!(
        cost.contains("Projected: $1,000 to $30,000 per month (Load balanced + cache)"),
        "{cost}"
    );
    assert!(
        cost.contains("Change: −$1,800 to +$27,200 per month"),
        "{cost}"
    );
    assert!(cost.contains("Return on investment:"), "{cost}");
    assert_eq!(r["cost"]["change_low_usd"], -1800.0);
    assert_eq!(r["cost"]["projected"]["basis"], "between");

    let risks = section(&r, "Risk Mitigation");
    assert!(
        risks.contains("Read from the primary immediately after a write"),
        "{risks}"
    );
}

#[test]
fn without_a_trigger_the_target_is_the_current_stage() {
    let advisor = advisor();
    let (r, markdown) = report(&advisor, &healthy());
    assert_eq!(r["target_stage"], r["current_stage"]);
    assert!(section(&r, "Bottlenecks Identified").contains("healthy at stage 1 · Prototype"));
    assert!(section(&r, "Components to Add").starts_with("None"));
    assert!(section(&r, "Migration Plan").starts_with("No migration"));
    assert!(section(&r, "Cost Impact").contains("Projected: $100 to $300 per month"));
    assert!(markdown.contains("```mermaid"));
}

#[test]
fn critical_findings_and_multi_region_risks_meet_in_risk_mitigation() {
    let advisor = advisor();
    let (r, _) = report(&advisor, &going_global());
    let risks = section(&r, "Risk Mitigation");
    assert!(
        risks.contains("(multi_region)") && risks.contains("Critical `split_brain`"),
        "{risks}"
    );
    assert!(risks.contains("Critical `replication_lag`"), "{risks}");
    let recommended = section(&r, "Recommended Architecture");
    assert!(
        recommended.contains("Datastore: CockroachDB (distributed_sql)"),
        "{recommended}"
    );
    assert!(recommended.contains("Region 2 (new)"), "{recommended}");
    let cost = section(&r, "Cost Impact");
    assert!(cost.contains("Current: not given"), "{cost}");
    assert!(cost.contains("$100,000 and more per month"), "{cost}");
}

#[test]
fn nested_refusals_keep_the_field_path() {
    let advisor = advisor();
    let cases: Vec<(Value, &str)> = vec![
        (json!({}), "system"),
        (json!({"system": {}}), "system"),
        (json!({"system": {"db_cpu_pct": 120}}), "system.db_cpu_pct"),
        (json!({"system": {"db_cpu": 12}}), "system.db_cpu"),
        (
            json!({"system": {"symptoms": ["gremlins"]}}),
            "system.symptoms[0]",
        ),
        (
            json!({"system": {"users": 10}, "requirements": {"acid": true}}),
            "requirements.acid",
        ),
        (
            json!({"system": {"users": 10}, "capacity": {}}),
            "capacity.peak_rps",
        ),
        (
            json!({"system": {"users": 10}, "capacity": {"peak_rps": 1e308, "growth_factor": 10}}),
            "capacity.peak_rps",
        ),
        (
            json!({"system": {"users": 10}, "current_monthly_cost_usd": -1}),
            "current_monthly_cost_usd",
        ),
        (json!({"system": {"users": 10}, "budget": 5}), "budget"),
    ];
    for (args, field) in cases {
        match advisor.call("scaling_report", args.as_object().unwrap()) {
            Ok(_) => panic!("accepted {args}"),
            Err(CallError::Arguments(e)) => assert_eq!(e.field, field, "{args}: {e}"),
            Err(e) => panic!("{args}: {e}"),
        }
    }
}

/// The title names a move only when there is one: a system that stays at its stage reads "no
/// stage change", not "stage 1 → stage 1".
#[test]
fn the_title_names_a_stage_change_only_when_there_is_one() {
    let advisor = advisor();
    let (result, markdown) = report(&advisor, &healthy());
    assert_eq!(result["current_stage"], result["target_stage"]);
    let title = markdown.lines().next().unwrap_or_default();
    assert!(title.ends_with(", no stage change"), "{title}");
    assert!(!title.contains('→'), "{title}");
    let (result, markdown) = report(&advisor, &growing_startup());
    assert_ne!(result["current_stage"], result["target_stage"]);
    assert!(markdown.lines().next().unwrap_or_default().contains('→'));
}

/// Issue 28, point 3: a report whose requirements recommend a distributed SQL store plans that
/// store, not a primary with replicas beside a distributed database "to consider instead".
/// Neighbours: without the requirements the distributed database stays a suggestion, and a
/// relational recommendation keeps the primary.
#[test]
fn a_recommended_distributed_store_is_the_one_path_of_the_report() {
    let advisor = advisor();
    let system = json!({"users": 500000, "has_cache": true, "has_read_replicas": true,
                        "needs_multi_region": true});
    let role = |result: &Value, component: &str| {
        result["components_to_add"]
            .as_array()
            .and_then(|list| list.iter().find(|c| c["component"] == component))
            .map(|c| c["role"].clone())
    };
    let boxes = |result: &Value| -> Vec<String> {
        result["architecture"]["boxes"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|b| {
                format!(
                    "{}:{}",
                    b["id"].as_str().unwrap_or(""),
                    b["mark"].as_str().unwrap_or("")
                )
            })
            .collect()
    };
    let args = json!({"system": system, "requirements": {"needs_acid": true, "multi_region": true},
                      "detail": "full"});
    let (result, markdown) = report(&advisor, &args);
    assert_eq!(
        result["datastore"]["recommendation"]["name"],
        json!("CockroachDB")
    );
    assert_eq!(
        role(&result, "distributed_database"),
        Some(json!("add")),
        "{markdown}"
    );
    let drawn = boxes(&result);
    assert!(drawn.iter().any(|b| b == "r1_ddb:new"), "{drawn:?}");
    assert!(
        !drawn
            .iter()
            .any(|b| b.contains("primary") || b.contains("replicas")),
        "{drawn:?}"
    );
    assert!(!markdown.contains("or instead"), "{markdown}");

    // Without a datastore chosen, stage 5's distributed database is only worth considering.
    let (result, _) = report(&advisor, &json!({"system": system, "detail": "full"}));
    assert_eq!(
        role(&result, "distributed_database"),
        Some(json!("consider"))
    );
    // ACID in one region recommends PostgreSQL: the primary stays.
    let args = json!({"system": system, "requirements": {"needs_acid": true}, "detail": "full"});
    let (result, _) = report(&advisor, &args);
    assert_eq!(
        result["datastore"]["recommendation"]["name"],
        json!("PostgreSQL")
    );
    assert_ne!(role(&result, "distributed_database"), Some(json!("add")));
}

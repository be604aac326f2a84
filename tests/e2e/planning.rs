//! `plan_migration` and `scaling_report` through the real binary: every migration kind, the
//! reshard map on several (current, target, virtual) triples, the report's seven sections in
//! order, refusals as `isError` results that name the field, and sources that resolve through
//! `resources/read`.

use serde_json::{Value, json};

use crate::harness::Server;

const KINDS: [&str; 6] = [
    "database_switch",
    "shard",
    "reshard",
    "add_cache",
    "add_read_replicas",
    "multi_region",
];

const TITLES: [&str; 7] = [
    "Current Architecture Analysis",
    "Bottlenecks Identified",
    "Recommended Architecture",
    "Components to Add",
    "Migration Plan",
    "Cost Impact",
    "Risk Mitigation",
];

/// The arguments with `detail: full`, for the tests that read a plan's calendar, its
/// shard-key advice and its maps whole; `model_reads.rs` covers what concise keeps.
fn full(mut args: Value) -> Value {
    if let Some(map) = args.as_object_mut() {
        map.insert("detail".into(), json!("full"));
    }
    args
}

fn strings(value: &Value) -> Vec<String> {
    value
        .as_array()
        .unwrap_or_else(|| panic!("not a list: {value}"))
        .iter()
        .map(|v| v.as_str().unwrap_or_default().to_string())
        .collect()
}

/// Every `sources` URI resolves to a section that starts with a heading.
fn assert_sources_resolve(server: &mut Server, result: &Value) {
    let uris = strings(&result["sources"]);
    assert!(!uris.is_empty(), "no sources: {result}");
    for uri in uris {
        let response = server.read_resource(&uri);
        let text = response["result"]["contents"][0]["text"]
            .as_str()
            .unwrap_or_else(|| panic!("{uri}: {response}"));
        assert!(text.starts_with('#'), "{uri} does not start with a heading");
    }
}

#[test]
fn both_tools_are_listed_after_plan_capacity_with_their_schemas() {
    let mut server = Server::start();
    let response = server.request("tools/list", json!({}));
    let tools = response["result"]["tools"].as_array().expect("tools");
    let names: Vec<&str> = tools.iter().map(|t| t["name"].as_str().unwrap()).collect();
    let at = |name: &str| {
        names
            .iter()
            .position(|n| *n == name)
            .unwrap_or_else(|| panic!("{name} not listed: {names:?}"))
    };
    assert_eq!(at("plan_migration"), at("plan_capacity") + 1);
    assert_eq!(at("scaling_report"), at("plan_migration") + 1);
    for (name, fields) in [
        (
            "plan_migration",
            &["phases", "risks", "sources", "shard_strategy", "reshard"][..],
        ),
        (
            "scaling_report",
            &["sections", "diagnosis", "datastore", "capacity", "sources"][..],
        ),
    ] {
        let tool = &tools[at(name)];
        assert_eq!(tool["annotations"]["readOnlyHint"], true, "{name}");
        assert_eq!(tool["inputSchema"]["type"], "object", "{name}");
        let declared = crate::harness::result_fields(name);
        for field in fields {
            assert!(
                declared.get(*field).is_some(),
                "{name} resultFields lacks {field}"
            );
        }
    }
    let input = &tools[at("plan_migration")]["inputSchema"];
    assert_eq!(input["properties"]["zero_downtime"]["default"], true);
    assert_eq!(input["properties"]["virtual_shards"]["default"], 1024);
}

#[test]
fn every_migration_kind_plans_phases_and_risks() {
    let mut server = Server::start();
    for kind in KINDS {
        let args = match kind {
            "reshard" => json!({"kind": kind, "current_shards": 4, "target_shards": 6}),
            _ => json!({"kind": kind}),
        };
        let result = server.call_tool("plan_migration", full(args.clone()));
        assert_ne!(result["isError"], true, "{args}: {result}");
        let text = result["content"][0]["text"].as_str().unwrap_or_default();
        assert!(
            text.contains("### Phases") && text.contains("### Risks"),
            "{kind}: {text}"
        );
        let plan = &result["structuredContent"];
        assert_eq!(plan["kind"], kind);
        let phases = plan["phases"].as_array().expect("phases");
        assert!(!phases.is_empty(), "{kind}");
        let mut week = 1;
        for phase in phases {
            for field in ["id", "name", "exit_criteria", "rollback"] {
                assert!(
                    phase[field].as_str().is_some_and(|s| !s.is_empty()),
                    "{kind} {field}"
                );
            }
            assert!(!strings(&phase["steps"]).is_empty(), "{kind}");
            assert_eq!(phase["start_week"], week, "{kind}");
            week += phase["weeks"].as_u64().expect("weeks");
        }
        assert_eq!(plan["total_weeks"], week - 1, "{kind}");
        let risks = plan["risks"].as_array().expect("risks");
        assert!(!risks.is_empty(), "{kind}");
        assert!(
            risks
                .iter()
                .all(|r| r["risk"].is_string() && r["mitigation"].is_string())
        );
        assert_sources_resolve(&mut server, plan);
    }
}

#[test]
fn database_switch_phases_and_a_maintenance_window() {
    let mut server = Server::start();
    let plan = server.call_ok(
        "plan_migration",
        json!({"kind": "database_switch", "from": "MySQL", "to": "PostgreSQL"}),
    );
    let ids: Vec<&str> = plan["phases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        [
            "dual_write",
            "backfill",
            "verify_reads",
            "cutover",
            "decommission"
        ]
    );
    let window = server.call_ok(
        "plan_migration",
        json!({"kind": "database_switch", "zero_downtime": false}),
    );
    let ids_window: Vec<&str> = window["phases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids_window, ids);
    assert!(window["total_weeks"].as_u64() < plan["total_weeks"].as_u64());
    assert_eq!(window["phases"][0]["adapted_for_downtime"], true);
}

#[test]
fn shard_strategy_by_rule_order() {
    let mut server = Server::start();
    for (args, strategy) in [
        (json!({"kind": "shard"}), "hash"),
        (
            json!({"kind": "shard", "needs_range_queries": true}),
            "range",
        ),
        (
            json!({"kind": "shard", "data_residency": true}),
            "geographic",
        ),
        (
            json!({"kind": "shard", "needs_range_queries": true, "data_residency": true}),
            "range",
        ),
    ] {
        let plan = server.call_ok("plan_migration", full(args.clone()));
        let s = &plan["shard_strategy"];
        assert_eq!(s["strategy"], strategy, "{args}");
        let tradeoffs: Vec<&str> = s["tradeoffs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["strategy"].as_str().unwrap())
            .collect();
        assert_eq!(tradeoffs, ["directory", "hash", "range", "geographic"]);
        assert!(!s["shard_key_advice"].as_array().unwrap().is_empty());
        assert_eq!(s["virtual_shards"], 1024);
        assert!(plan["reshard"].is_null());
    }
    let first = server.call_ok(
        "plan_migration",
        full(json!({"kind": "shard", "target_shards": 4})),
    );
    assert_eq!(
        first["shard_strategy"]["initial_map"][3]["virtual_ranges"],
        json!(["768-1023"])
    );
}

fn parse_range(text: &str) -> (u64, u64) {
    match text.split_once('-') {
        Some((a, b)) => (a.parse().unwrap(), b.parse().unwrap()),
        None => {
            let n = text.parse().unwrap();
            (n, n)
        }
    }
}

#[test]
fn reshard_maps_every_virtual_shard_exactly_once() {
    let mut server = Server::start();
    // (current, target, virtual, moved virtual shards, naive modulo share)
    let cases = [
        (4, 5, 1024, 204, 0.8),
        (4, 8, 1024, 512, 0.5),
        (8, 4, 1024, 512, 0.5),
        (3, 7, 1000, 571, 6.0 / 7.0),
        (5, 3, 16, 6, 0.8),
        (1, 2, 2, 1, 0.5),
    ];
    for (current, target, virtual_shards, moved, naive) in cases {
        let args = json!({"kind": "reshard", "current_shards": current, "target_shards": target, "virtual_shards": virtual_shards});
        let plan = server.call_ok("plan_migration", full(args.clone()));
        let r = &plan["reshard"];
        assert_eq!(r["moved_virtual_shards"], moved, "{args}");
        assert!(
            (r["moved_fraction"].as_f64().unwrap() - moved as f64 / virtual_shards as f64).abs()
                < 1e-12
        );
        assert!(
            (r["naive_modulo_moved_fraction"].as_f64().unwrap() - naive).abs() < 1e-12,
            "{args}"
        );
        let ring = (target as f64 - current as f64).abs() / (current.max(target) as f64);
        assert!((r["consistent_hashing_moved_fraction"].as_f64().unwrap() - ring).abs() < 1e-12);
        let map = r["shard_map"].as_array().unwrap();
        assert_eq!(map.len(), target as usize, "{args}");
        let mut seen = vec![false; virtual_shards as usize];
        let mut counts = Vec::new();
        for (i, shard) in map.iter().enumerate() {
            assert_eq!(shard["shard"], format!("shard_{}", i + 1));
            let mut last_end: Option<u64> = None;
            let mut count = 0;
            for range in strings(&shard["virtual_ranges"]) {
                let (start, end) = parse_range(&range);
                assert!(
                    last_end.is_none_or(|e| start > e),
                    "{args}: ranges overlap or go back"
                );
                last_end = Some(end);
                for v in start..=end {
                    assert!(!seen[v as usize], "{args}: virtual shard {v} mapped twice");
                    seen[v as usize] = true;
                    count += 1;
                }
            }
            assert_eq!(shard["virtual_shard_count"], count);
            counts.push(count);
        }
        assert!(
            seen.iter().all(|s| *s),
            "{args}: a virtual shard is not mapped"
        );
        let (min, max) = (counts.iter().min().unwrap(), counts.iter().max().unwrap());
        assert!(max - min <= 1, "{args}: uneven {counts:?}");
    }
    let shrink = server.call_ok(
        "plan_migration",
        json!({"kind": "reshard", "current_shards": 8, "target_shards": 4}),
    );
    assert_eq!(
        shrink["reshard"]["shard_map"][0]["virtual_ranges"],
        json!(["0-127", "512-639"])
    );
}

#[test]
fn migration_refusals_name_the_field() {
    let mut server = Server::start();
    for (args, field) in [
        (json!({"kind": "reshuffle"}), "kind"),
        (json!({"kind": "reshard"}), "current_shards"),
        (
            json!({"kind": "reshard", "current_shards": 4}),
            "target_shards",
        ),
        (
            json!({"kind": "reshard", "current_shards": 4, "target_shards": 4}),
            "target_shards",
        ),
        (
            json!({"kind": "reshard", "current_shards": 0, "target_shards": 4}),
            "current_shards",
        ),
        (
            json!({"kind": "reshard", "current_shards": 4, "target_shards": 0}),
            "target_shards",
        ),
        (
            json!({"kind": "reshard", "current_shards": 4, "target_shards": 8, "virtual_shards": 0}),
            "virtual_shards",
        ),
        (
            json!({"kind": "reshard", "current_shards": 4, "target_shards": 80, "virtual_shards": 64}),
            "virtual_shards",
        ),
        (
            json!({"kind": "add_cache", "target_shards": 3}),
            "target_shards",
        ),
    ] {
        let text = server.call_err("plan_migration", args.clone());
        assert!(text.contains(&format!("`{field}`")), "{args}: {text}");
        assert!(
            text.contains("received") && text.contains("expected"),
            "{args}: {text}"
        );
    }
    let text = server.call_err("plan_migration", json!({"kind": "reshuffle"}));
    assert!(
        text.contains(
            "database_switch, functional_partition, shard, reshard, add_cache, add_read_replicas, multi_region"
        ),
        "{text}"
    );
    let text = server.call_err(
        "plan_migration",
        json!({"kind": "reshard", "current_shards": 4, "target_shards": 4}),
    );
    assert!(text.contains("different from current_shards"), "{text}");
}

#[test]
fn scaling_report_sections_in_order_with_the_tools_it_ran() {
    let mut server = Server::start();
    let args = json!({
        "system": {"users": 150000, "has_cache": true, "cache_hit_rate_pct": 65, "read_pct": 92, "db_read_load_pct": 78},
        "requirements": {"needs_acid": true},
        "capacity": {"peak_rps": 5000, "reads_per_sec": 12000, "replica_read_capacity_per_sec": 3000, "users": 150000},
        "current_monthly_cost_usd": 2800
    });
    let result = server.call_tool("scaling_report", args);
    assert_ne!(result["isError"], true, "{result}");
    let report = &result["structuredContent"];
    let titles: Vec<&str> = report["sections"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["title"].as_str().unwrap())
        .collect();
    assert_eq!(titles, TITLES);
    let text = result["content"][0]["text"].as_str().unwrap();
    let mut at = 0;
    for title in TITLES {
        let heading = format!("## {title}\n");
        let found = text[at..]
            .find(&heading)
            .unwrap_or_else(|| panic!("{title} missing or out of order in {text}"));
        at += found + heading.len();
    }
    assert!(
        text.contains("```mermaid") && text.contains("```text"),
        "{text}"
    );
    assert_eq!(report["target_stage"]["number"], 3);
    assert_eq!(report["diagnosis"]["current_stage"]["number"], 2);
    assert_eq!(report["datastore"]["recommendation"]["name"], "PostgreSQL");
    // 12,000 reads/s × the 1.5 safety margin / 3,000 per replica.
    assert_eq!(report["capacity"]["read_replicas"], 6);
    assert_eq!(report["migrations"][0]["kind"], "add_read_replicas");
    assert_eq!(report["components_to_add"][0]["component"], "read_replicas");
    // 150K users are stage 3: the band runs up to the 1M row without naming its sharding.
    assert_eq!(report["cost"]["projected"]["low"], 1000);
    assert_eq!(report["cost"]["projected"]["basis"], "between");
    let bottlenecks = report["sections"][1]["markdown"].as_str().unwrap();
    for finding in report["diagnosis"]["findings"].as_array().unwrap() {
        assert!(
            bottlenecks.contains(finding["id"].as_str().unwrap()),
            "{bottlenecks}"
        );
    }
    assert_sources_resolve(&mut server, report);

    let bare = server.call_ok("scaling_report", json!({"system": {"users": 500}}));
    assert!(
        bare["datastore"].is_null() && bare["capacity"].is_null(),
        "{bare}"
    );
    assert_eq!(bare["sections"].as_array().unwrap().len(), 7);
}

#[test]
fn scaling_report_refusals_keep_the_nested_path() {
    let mut server = Server::start();
    for (args, field) in [
        (json!({}), "`system`"),
        (json!({"system": {}}), "`system`"),
        (
            json!({"system": {"db_cpu_pct": 120}}),
            "`system.db_cpu_pct`",
        ),
        (json!({"system": {"db_cpu": 12}}), "`system.db_cpu`"),
        (
            json!({"system": {"users": 10}, "requirements": {"acid": true}}),
            "`requirements.acid`",
        ),
        (
            json!({"system": {"users": 10}, "capacity": {"peak_rps": 0}}),
            "`capacity.peak_rps`",
        ),
        (
            json!({"system": {"users": 10}, "current_monthly_cost_usd": -5}),
            "`current_monthly_cost_usd`",
        ),
    ] {
        let text = server.call_err("scaling_report", args.clone());
        assert!(text.contains(field), "{args}: {text}");
    }
    let text = server.call_err("scaling_report", json!({"system": {"db_cpu": 12}}));
    assert!(text.contains("db_cpu_pct"), "closest field: {text}");
    // A metric given beside `system` instead of in it is pointed to its place; one that two
    // objects take names both.
    let text = server.call_err(
        "scaling_report",
        json!({"system": {"users": 10}, "db_cpu_pct": 40}),
    );
    assert!(
        text.contains("invalid argument `db_cpu_pct`")
            && text.contains("Did you mean `system.db_cpu_pct`?"),
        "{text}"
    );
    let text = server.call_err(
        "scaling_report",
        json!({"system": {"users": 10}, "monthly_growth_pct": 4}),
    );
    assert!(
        text.contains("Did you mean `system.monthly_growth_pct` or `growth.monthly_growth_pct`?"),
        "{text}"
    );
    // The report's own `growth` given inside `system` is pointed to the top level, not told to
    // unwrap its fields into `system`.
    let text = server.call_err(
        "scaling_report",
        json!({"system": {"users": 10, "growth": {"monthly_growth_pct": 4}}}),
    );
    assert!(
        text.contains("invalid argument `system.growth`")
            && text.contains("Did you mean `growth`?")
            && !text.contains("give them without"),
        "{text}"
    );
}

/// Contract §10 through the binary: with `growth` the report carries a roadmap that a model
/// reading only `structuredContent` can act on, its summary leads with the first step, and
/// every section and source follows it.
#[test]
fn scaling_report_with_growth_plans_a_roadmap() {
    let mut server = Server::start();
    let args = json!({
        "system": {"users": 8000, "db_cpu_pct": 45},
        "growth": {"growth_multiple": 10, "over_months": 12},
        "current_monthly_cost_usd": 400
    });
    let result = server.call_tool("scaling_report", args);
    assert_ne!(result["isError"], true, "{result}");
    let report = &result["structuredContent"];
    let steps = report["roadmap"].as_array().expect("a roadmap");
    // 10× a year: stage 2 at ln(10000 / 8000) / (ln 10 / 12) = 1.16 months, stage 3 at 13.16.
    assert_eq!(steps.len(), 2, "{steps:?}");
    assert_eq!(steps[0]["adds"], json!(["cache"]));
    assert_eq!(steps[0]["migration"], "add_cache");
    assert_eq!(steps[1]["adds"], json!(["read_replicas"]));
    for step in steps {
        for field in ["start_month", "done_by_month", "action", "because", "late"] {
            assert!(!step[field].is_null(), "{field} in {step}");
        }
    }
    let summary = report["summary"].as_str().unwrap_or_default();
    assert!(summary.starts_with("Start now: add cache"), "{summary}");
    assert_eq!(report["target_stage"]["number"], 3);
    let text = result["content"][0]["text"].as_str().unwrap_or_default();
    assert!(text.contains("### Roadmap"), "{text}");
    for snapshot in ["nothing to add", "No migration", "nothing to mitigate"] {
        assert!(!text.contains(snapshot), "{snapshot} in {text}");
    }
    assert!(
        text.contains("$40,000 per month by month 24"),
        "today's $400 scaled ×100: {text}"
    );
    assert_sources_resolve(&mut server, report);
}

#[test]
fn an_offline_mysql_to_postgres_switch_is_sized_by_its_data_and_names_its_pair() {
    let mut server = Server::start();
    let plan = server.call_ok(
        "plan_migration",
        json!({"kind": "database_switch", "from": "MySQL", "to": "PostgreSQL",
            "data_size_gb": 800, "zero_downtime": false}),
    );
    // 800 GB at the document's 78 GB/h, then its check: writes pause for hours, not weeks.
    let pause = plan["copy_time"]["write_pause_hours"]
        .as_f64()
        .expect("a write pause");
    assert!((20.0..21.0).contains(&pause), "{pause}");
    assert_eq!(plan["total_weeks"], 3);
    let topics: Vec<&str> = plan["pair_notes"]
        .as_array()
        .expect("pair_notes")
        .iter()
        .filter_map(|n| n["topic"].as_str())
        .collect();
    for topic in ["booleans", "zero dates", "sequences", "upserts"] {
        assert!(topics.contains(&topic), "{topics:?}");
    }
    assert_sources_resolve(&mut server, &plan);

    let online = server.call_ok(
        "plan_migration",
        json!({"kind": "database_switch", "data_size_gb": 500000}),
    );
    assert_eq!(online["copy_time"]["phase_weeks"], 39);
    assert!(online["copy_time"]["write_pause_hours"].is_null());
}

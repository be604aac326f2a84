//! The three decision tools through the real binary: every rule of each ordered table and the
//! precedence between them, quorum arithmetic at its edges, refusals as `isError` results, and
//! sources that resolve through `resources/read`. Scenario tables keep one case per line.

use serde_json::{Value, json};

use crate::harness::Server;

use crate::cases::{Names, model_cases, queue_cases, store_cases};

/// The arguments with `detail: full`: these tests read the explanations too (the deciding
/// arguments, rule numbers, trades, triggers); `model_reads.rs` covers what concise keeps.
fn full(mut args: Value) -> Value {
    if let Some(map) = args.as_object_mut() {
        map.insert("detail".into(), json!("full"));
    }
    args
}

fn list(value: &Value, key: &str) -> Vec<String> {
    value
        .as_array()
        .unwrap_or_else(|| panic!("not a list: {value}"))
        .iter()
        .map(|item| item[key].as_str().unwrap_or_default().to_string())
        .collect()
}

/// The path asks rules 1, 2, … in order; only the last answer is yes.
fn assert_path(result: &Value, asked: usize, context: &Value) {
    let path = result["decision_path"].as_array().expect("decision_path");
    assert_eq!(path.len(), asked, "{context}: {result}");
    for (i, step) in path.iter().enumerate() {
        assert_eq!(step["rule"], json!(i + 1), "{context}");
        let answer = if i + 1 == asked { "yes" } else { "no" };
        assert_eq!(step["answer"], json!(answer), "{context}");
        assert!(
            step["question"].as_str().is_some_and(|q| !q.is_empty()),
            "{context}"
        );
    }
}

#[test]
fn choose_datastore_every_rule_and_its_precedence() {
    let mut server = Server::start();
    for (args, name, category, asked, decided_by, complements, traded) in store_cases() {
        let result = server.call_ok("choose_datastore", full(args.clone()));
        assert_eq!(result["recommendation"]["name"], name, "{args}: {result}");
        assert_eq!(result["recommendation"]["category"], category, "{args}");
        assert_path(&result, asked, &args);
        assert_eq!(result["decided_by"], json!(decided_by), "{args}");
        assert_eq!(list(&result["complements"], "need"), complements, "{args}");
        assert_eq!(list(&result["traded_away"], "need"), traded, "{args}");
        for alternative in result["alternatives"].as_array().unwrap() {
            for field in [
                "name",
                "category",
                "best_for",
                "throughput",
                "consistency",
                "cost",
            ] {
                assert!(alternative.get(field).is_some(), "{args}: no {field}");
            }
        }
    }
}

#[test]
fn choose_datastore_complements_and_warnings() {
    let mut server = Server::start();
    let args = json!({"needs_acid": true, "full_text_search": true, "ultra_low_latency": true,
                      "analytics": true, "flexible_schema": true});
    let result = server.call_ok("choose_datastore", full(args));
    assert_eq!(result["recommendation"]["name"], "PostgreSQL");
    let complements = list(&result["complements"], "name");
    assert_eq!(complements, ["Elasticsearch", "Redis", "ClickHouse"]);
    let needs = list(&result["complements"], "need");
    assert_eq!(
        needs,
        ["full_text_search", "ultra_low_latency", "analytics"]
    );
    assert_eq!(
        result["traded_away"][0]["would_choose"],
        "MongoDB (document)"
    );
    let warnings = result["warnings"].to_string();
    assert!(warnings.contains("flexible schema"), "{warnings}");
    assert_eq!(result["alternatives"][0]["throughput"], "High reads");

    // A store that serves the need itself gets no complement for it.
    let args = json!({"full_text_search": true, "ultra_low_latency": true});
    let result = server.call_ok("choose_datastore", full(args));
    assert_eq!(result["recommendation"]["name"], "Redis");
    assert_eq!(list(&result["complements"], "name"), ["Elasticsearch"]);
}

#[test]
fn choose_message_queue_every_rule_and_its_precedence() {
    let mut server = Server::start();
    for (args, name, delivery, asked, decided_by, traded) in queue_cases() {
        let result = server.call_ok("choose_message_queue", full(args.clone()));
        assert_eq!(result["recommendation"]["name"], name, "{args}: {result}");
        assert_eq!(result["recommendation"]["delivery"], delivery, "{args}");
        assert_path(&result, asked, &args);
        assert_eq!(result["decided_by"], json!(decided_by), "{args}");
        assert_eq!(list(&result["traded_away"], "need"), traded, "{args}");
        let policy = &result["retry_policy"];
        assert_eq!(policy["max_retries"], 5, "{args}");
        assert_eq!(policy["backoff"], "exponential", "{args}");
        assert_eq!(
            policy["delays_s"],
            json!([1.0, 2.0, 4.0, 8.0, 16.0]),
            "{args}"
        );
        assert_eq!(policy["dead_letter_queue"], true, "{args}");
        // Every other broker is an alternative or ruled out by a hard need.
        assert_eq!(
            result["alternatives"].as_array().unwrap().len()
                + result["excluded"].as_array().unwrap().len(),
            5,
            "{args}"
        );
        assert_eq!(
            policy["dead_letter_after_failures"], 6,
            "{args}: one number, the first attempt and every retry"
        );
    }
}

#[test]
fn a_message_that_cannot_be_lost_rules_at_most_once_out() {
    let mut server = Server::start();
    let result = server.call_ok(
        "choose_message_queue",
        full(json!({"cannot_lose_messages": true})),
    );
    assert_eq!(result["recommendation"]["delivery"], "at_least_once");
    let excluded = &result["excluded"][0];
    assert_eq!(excluded["name"], "Redis");
    assert_eq!(excluded["because_of"], json!(["cannot_lose_messages"]));
    assert!(
        excluded["reason"]
            .as_str()
            .unwrap()
            .contains("at most once")
    );
    // Without that need, Redis comes with no such warning.
    let result = server.call_ok("choose_message_queue", full(json!({})));
    assert_eq!(result["warnings"], json!([]));
    assert_eq!(list(&result["patterns"], "pattern"), ["task_queue"]);
    // Fan-out brings the pub/sub pattern.
    let result = server.call_ok(
        "choose_message_queue",
        full(json!({"fan_out": true, "cloud": "gcp"})),
    );
    assert_eq!(
        list(&result["patterns"], "pattern"),
        ["task_queue", "pub_sub"]
    );
}

#[test]
fn pick_consistency_model_every_rule_and_its_precedence() {
    let mut server = Server::start();
    for (args, model, cap, pacelc, asked, decided_by, traded) in model_cases() {
        let result = server.call_ok("pick_consistency_model", full(args.clone()));
        assert_eq!(result["model"], model, "{args}: {result}");
        assert_eq!(result["cap"], cap, "{args}");
        assert_eq!(result["pacelc"], pacelc, "{args}");
        assert_path(&result, asked, &args);
        assert_eq!(result["decided_by"], json!(decided_by), "{args}");
        assert_eq!(list(&result["traded_away"], "need"), traded, "{args}");
        assert!(
            !result["mechanisms"].as_array().unwrap().is_empty(),
            "{args}"
        );
        assert!(
            !result["anomalies_possible"].as_array().unwrap().is_empty(),
            "{args}"
        );
        assert!(result["quorum"].is_null(), "{args}");
    }
}

#[test]
fn linearizable_warnings_and_failure_modes() {
    let mut server = Server::start();
    let strong = json!({"strong_consistency_required": true});
    let result = server.call_ok("pick_consistency_model", full(strong));
    let triggers = &result["warnings"][0]["triggered_by"];
    assert_eq!(triggers, &json!(["strong_consistency_required"]));
    let args = json!({"strong_consistency_required": true, "tolerates_coordination_latency": true,
                      "availability_during_partition": true});
    let result = server.call_ok("pick_consistency_model", full(args));
    assert_eq!(result["warnings"].as_array().unwrap().len(), 1, "{result}");
    let triggers = &result["warnings"][0]["triggered_by"];
    assert_eq!(
        triggers,
        &json!([
            "strong_consistency_required",
            "availability_during_partition"
        ])
    );
    assert_eq!(
        list(&result["traded_away"], "need"),
        ["availability_during_partition"]
    );
    let fixes = result["failure_modes"].to_string();
    for needle in [
        "Split brain",
        "fencing tokens",
        "Phantom lock",
        "compare-and-set",
        "idempotency key",
    ] {
        assert!(fixes.contains(needle), "{needle} missing from {fixes}");
    }
    let args = json!({"strong_consistency_required": true, "tolerates_coordination_latency": true});
    let result = server.call_ok("pick_consistency_model", full(args));
    assert_eq!(result["warnings"], json!([]));
}

#[test]
fn quorum_edge_cases() {
    let mut server = Server::start();
    // (n, w, r, overlap, write fault tolerance, read fault tolerance)
    let cases = [
        (3, 2, 2, true, 1, 1),
        (1, 1, 1, true, 0, 0),
        (3, 3, 1, true, 0, 2),
        (3, 1, 3, true, 2, 0),
        (5, 5, 5, true, 0, 0),
        (3, 1, 1, false, 2, 2),
        (4, 2, 2, false, 2, 2),
        (5, 3, 3, true, 2, 2),
    ];
    for (n, w, r, overlap, wft, rft) in cases {
        let args = json!({"strong_consistency_required": true, "quorum": {"n": n, "w": w, "r": r}});
        let result = server.call_ok("pick_consistency_model", full(args.clone()));
        let q = &result["quorum"];
        assert_eq!(
            (&q["n"], &q["w"], &q["r"]),
            (&json!(n), &json!(w), &json!(r)),
            "{args}"
        );
        assert_eq!(q["overlap"], overlap, "{args}");
        assert_eq!(q["write_fault_tolerance"], wft, "{args}");
        assert_eq!(q["read_fault_tolerance"], rft, "{args}");
        let warnings = result["warnings"].to_string();
        assert_eq!(
            warnings.contains("overlap_replicas < 1"),
            !overlap,
            "{args}: {warnings}"
        );
        assert_eq!(
            warnings.contains("write_fault_tolerance < 1"),
            wft == 0,
            "{args}: {warnings}"
        );
        assert_eq!(
            warnings.contains("read_fault_tolerance < 1"),
            rft == 0,
            "{args}: {warnings}"
        );
    }
}

/// (tool, arguments, phrases the refusal must contain, the field's name first)
type Refusal = (&'static str, Value, Names);

#[rustfmt::skip]
fn refusals() -> Vec<Refusal> {
    vec![
        ("pick_consistency_model", json!({"quorum": {"n": 3, "w": 0, "r": 1}}), &["`quorum.w`", "`0`", "1 to n"]),
        ("pick_consistency_model", json!({"quorum": {"n": 3, "w": 4, "r": 2}}), &["`quorum.w`", "`4`", "1 to n"]),
        ("pick_consistency_model", json!({"quorum": {"n": 2, "w": 1, "r": 3}}), &["`quorum.r`", "`3`", "1 to n"]),
        ("pick_consistency_model", json!({"quorum": {"n": 3, "w": 2, "r": 0}}), &["`quorum.r`", "`0`", "1 to n"]),
        ("pick_consistency_model", json!({"strong_consistency_required": "true"}), &["`strong_consistency_required`", "`\"true\"`", "true or false"]),
        ("choose_message_queue", json!({"cloud": "oracle"}), &["`cloud`", "`\"oracle\"`", "aws, gcp, azure, none"]),
        ("choose_message_queue", json!({"exactly_once": "yes"}), &["`exactly_once`", "`\"yes\"`", "true or false"]),
        ("choose_datastore", json!({"needs_acid": "false"}), &["`needs_acid`", "`\"false\"`", "true or false"]),
        ("choose_datastore", json!({"needs_acids": true}), &["`needs_acids`", "unknown field", "`needs_acid`"]),
        ("choose_datastore", json!({"writes_per_sec": 0}), &["`writes_per_sec`", "`0`", "above 0"]),
    ]
}

#[test]
fn refusals_are_tool_errors_that_name_the_field() {
    let mut server = Server::start();
    for (tool, args, needles) in refusals() {
        let text = server.call_err(tool, args.clone());
        for needle in needles {
            assert!(
                text.contains(needle),
                "{tool}({args}): `{needle}` missing from: {text}"
            );
        }
    }
    // The server keeps serving after refusals.
    let args = json!({"quorum": {"n": 3, "w": 2, "r": 2}});
    let result = server.call_ok("pick_consistency_model", args);
    assert_eq!(result["quorum"]["overlap"], true);
}

#[test]
fn results_carry_markdown_and_sources_that_resolve() {
    let mut server = Server::start();
    let calls = [
        (
            "choose_datastore",
            json!({"needs_acid": true, "multi_region": true, "full_text_search": true}),
        ),
        (
            "choose_message_queue",
            json!({"fan_out": true, "cloud": "gcp"}),
        ),
        (
            "pick_consistency_model",
            json!({"strong_consistency_required": true, "multi_region": true,
                                          "quorum": {"n": 3, "w": 2, "r": 2}}),
        ),
    ];
    let mut uris: Vec<String> = Vec::new();
    for (tool, args) in calls {
        let result = server.call_tool(tool, args);
        assert_ne!(result["isError"], json!(true), "{tool}: {result}");
        let text = result["content"][0]["text"].as_str().unwrap_or_default();
        assert!(
            text.starts_with("**"),
            "{tool}: the answer comes first: {text}"
        );
        assert!(text.contains("Sources:"), "{tool}: {text}");
        for uri in result["structuredContent"]["sources"].as_array().unwrap() {
            uris.push(uri.as_str().unwrap().to_string());
        }
    }
    uris.sort();
    uris.dedup();
    for uri in uris {
        let response = server.read_resource(&uri);
        let text = response["result"]["contents"][0]["text"]
            .as_str()
            .unwrap_or_else(|| panic!("{uri}: {response}"));
        assert!(text.starts_with('#'), "{uri} does not start with a heading");
    }
}

#[test]
fn the_tools_are_listed_with_described_schemas() {
    let mut server = Server::start();
    let response = server.request("tools/list", json!({}));
    let tools = response["result"]["tools"].as_array().expect("tools");
    let names: Vec<&str> = tools.iter().filter_map(|t| t["name"].as_str()).collect();
    let at = |name: &str| {
        names
            .iter()
            .position(|n| *n == name)
            .unwrap_or_else(|| panic!("{name} not listed: {names:?}"))
    };
    assert!(at("diagnose_bottleneck") < at("choose_datastore"));
    assert!(at("choose_datastore") < at("choose_message_queue"));
    assert!(at("choose_message_queue") < at("pick_consistency_model"));
    for name in [
        "choose_datastore",
        "choose_message_queue",
        "pick_consistency_model",
    ] {
        let tool = &tools[at(name)];
        let properties = tool["inputSchema"]["properties"]
            .as_object()
            .unwrap_or_else(|| panic!("{name}: {tool}"));
        for (field, schema) in properties {
            let described = schema["description"]
                .as_str()
                .is_some_and(|d| !d.is_empty());
            assert!(described, "{name}.{field} undescribed");
        }
        assert_eq!(tool["outputSchema"]["type"], "object", "{name}");
    }
    let queue = &tools[at("choose_message_queue")];
    assert_eq!(
        queue["inputSchema"]["properties"]["cloud"]["default"],
        "none"
    );
}

//! The decision tools in process: every rule of each ordered table, the precedence between
//! rules, the needs traded away, the quorum arithmetic at its edges and the refusals. Each
//! scenario is a row of (arguments, expected fields), one per line; the markdown is under
//! snapshot tests.

use serde_json::{Value, json};
use tools::{Advisor, CallError, ToolOutput};

#[path = "shared/decision_cases.rs"]
mod cases;

use cases::{Names, model_cases, queue_cases, store_cases};

fn advisor() -> Advisor {
    Advisor::embedded().expect("the embedded knowledge base loads")
}

/// The arguments with `detail: full` unless they say otherwise: these tests read the
/// explanations too (`tests/e2e/model_reads.rs` covers what concise leaves out).
fn full_detail(args: &Value) -> serde_json::Map<String, Value> {
    let mut map = args.as_object().cloned().unwrap_or_default();
    map.entry("detail").or_insert_with(|| Value::from("full"));
    map
}

fn call(advisor: &Advisor, name: &str, args: &Value) -> ToolOutput {
    let output = advisor
        .call(name, &full_detail(args))
        .unwrap_or_else(|e| panic!("{name}({args}) was refused: {e}"));
    check_invariants(advisor, name, args, &output.structured);
    output
}

fn refuse(advisor: &Advisor, name: &str, args: &Value) -> (String, String) {
    match advisor.call(name, args.as_object().expect("arguments are an object")) {
        Err(CallError::Arguments(e)) => (e.field.clone(), e.to_string()),
        Err(other) => panic!("{name}({args}) failed otherwise: {other}"),
        Ok(out) => panic!("{name}({args}) was accepted: {}", out.structured),
    }
}

/// What holds for every result: the path asks the rules in order and only the last says yes,
/// `decided_by` names arguments of the deciding condition, every source resolves, and the
/// result holds exactly the properties its output schema declares.
fn check_invariants(advisor: &Advisor, name: &str, args: &Value, result: &Value) {
    let path = result["decision_path"].as_array().expect("a decision path");
    assert!(!path.is_empty(), "{name}({args}): empty path");
    for (i, step) in path.iter().enumerate() {
        assert_eq!(
            step["rule"],
            json!(i + 1),
            "{name}({args}): rules out of order"
        );
        let expected = if i + 1 == path.len() { "yes" } else { "no" };
        assert_eq!(step["answer"], json!(expected), "{name}({args}): step {i}");
        assert!(step["question"].as_str().is_some_and(|q| q.ends_with('?')));
    }
    let last = path
        .last()
        .and_then(|s| s["condition"].as_str())
        .unwrap_or_default();
    for field in result["decided_by"].as_array().expect("decided_by") {
        let field = field.as_str().expect("a field name");
        assert!(
            last.contains(field),
            "{name}({args}): `{field}` not in `{last}`"
        );
    }
    let sources = result["sources"].as_array().expect("sources");
    assert!(!sources.is_empty());
    for uri in sources {
        let uri = uri.as_str().expect("a URI");
        assert!(
            advisor.knowledge().resolve(uri).is_some(),
            "{name}({args}): {uri} does not resolve"
        );
    }
    let tool = advisor.tool(name).expect("registered");
    let declared: Vec<&String> = tool.result_fields["properties"]
        .as_object()
        .expect("output properties")
        .keys()
        .collect();
    let given: Vec<&String> = result.as_object().expect("an object").keys().collect();
    assert_eq!(declared, given, "{name}: output schema and result differ");
}

fn names(list: &Value, key: &str) -> Vec<String> {
    list.as_array()
        .expect("a list")
        .iter()
        .map(|item| item[key].as_str().unwrap_or_default().to_string())
        .collect()
}

/// The `triggered_by` of each warning, joined with `and` (`otherwise` when unconditional).
fn warning_triggers(result: &Value) -> Vec<String> {
    result["warnings"]
        .as_array()
        .expect("warnings")
        .iter()
        .map(|w| {
            let clauses: Vec<&str> = w["triggered_by"]
                .as_array()
                .expect("triggered_by")
                .iter()
                .filter_map(Value::as_str)
                .collect();
            if clauses.is_empty() {
                "otherwise".to_string()
            } else {
                clauses.join(" and ")
            }
        })
        .collect()
}

// ---------------------------------------------------------------- choose_datastore

#[test]
fn choose_datastore_reaches_every_rule_in_order() {
    let advisor = advisor();
    for (args, name, category, asked, decided_by, complements, traded) in store_cases() {
        let r = call(&advisor, "choose_datastore", &args).structured;
        assert_eq!(r["recommendation"]["name"], json!(name), "{args}");
        assert_eq!(r["recommendation"]["category"], json!(category), "{args}");
        assert_eq!(
            r["decision_path"].as_array().map(Vec::len),
            Some(asked),
            "{args}"
        );
        assert_eq!(r["decided_by"], json!(decided_by), "{args}");
        assert_eq!(names(&r["complements"], "need"), complements, "{args}");
        assert_eq!(names(&r["traded_away"], "need"), traded, "{args}");
    }
}

#[test]
fn choose_datastore_alternatives_carry_the_comparison() {
    let advisor = advisor();
    let r = call(&advisor, "choose_datastore", &json!({"needs_acid": true})).structured;
    assert_eq!(
        r["recommendation"],
        json!({"name": "PostgreSQL", "category": "relational",
               "best_for": "Transactional workloads, complex queries",
               "throughput": "Medium", "consistency": "Strong", "cost": "Low"})
    );
    assert_eq!(
        r["alternatives"],
        json!([{"name": "MySQL", "category": "relational",
                "best_for": "Read-heavy workloads, replication",
                "throughput": "High reads", "consistency": "Strong", "cost": "Low"}])
    );
    let args = json!({"needs_acid": true, "multi_region": true});
    let r = call(&advisor, "choose_datastore", &args).structured;
    assert_eq!(names(&r["alternatives"], "name"), ["YugabyteDB", "Spanner"]);
    let distributed = json!("knowledge://datastores#stores-for-the-distributed-stage");
    assert!(r["sources"].as_array().unwrap().contains(&distributed));
    let r = call(&advisor, "choose_datastore", &json!({})).structured;
    assert_eq!(r["recommendation"]["cost"], json!("Pay-per-request"));
    assert_eq!(names(&r["alternatives"], "name"), ["RocksDB"]);
}

#[test]
fn choose_datastore_complements_and_trades_say_why() {
    let advisor = advisor();
    let args = json!({"needs_acid": true, "analytics": true, "flexible_schema": true});
    let r = call(&advisor, "choose_datastore", &args).structured;
    assert_eq!(r["complements"][0]["name"], json!("ClickHouse"));
    assert_eq!(r["complements"][0]["category"], json!("columnar"));
    let traded = &r["traded_away"][0];
    assert_eq!(traded["need"], json!("flexible_schema"));
    assert_eq!(traded["rule"], json!(6));
    assert_eq!(traded["would_choose"], json!("MongoDB (document)"));
    assert!(traded["reason"].as_str().unwrap().contains("rule 3"));
}

#[rustfmt::skip]
fn store_warning_cases() -> Vec<(Value, Names)> {
    vec![
        (json!({"needs_acid": true}), &[]),
        (json!({"needs_acid": true, "flexible_schema": true}), &["flexible_schema"]),
        (json!({"needs_acid": true, "read_heavy": true}), &["read_heavy"]),
        (json!({"complex_queries": true, "multi_region": true, "write_heavy": true}), &["multi_region", "write_heavy"]),
        (json!({"needs_acid": true, "multi_region": true}), &["multi_region"]),
        (json!({"time_series": true}), &["time_series", "time_series"]),
        (json!({"ultra_low_latency": true, "data_size_gb": 50}), &["ultra_low_latency", "data_size_gb > 0"]),
        (json!({"multi_region": true}), &["multi_region"]),
        (json!({"flexible_schema": true, "serverless": true}), &["serverless"]),
        (json!({"full_text_search": true}), &["full_text_search"]),
    ]
}

#[test]
fn choose_datastore_warnings_follow_the_table() {
    let advisor = advisor();
    for (args, triggers) in store_warning_cases() {
        let r = call(&advisor, "choose_datastore", &args).structured;
        assert_eq!(warning_triggers(&r), triggers, "{args}");
    }
}

// ---------------------------------------------------------------- choose_message_queue

#[test]
fn choose_message_queue_reaches_every_rule_in_order() {
    let advisor = advisor();
    for (args, name, delivery, asked, decided_by, traded) in queue_cases() {
        let r = call(&advisor, "choose_message_queue", &args).structured;
        assert_eq!(r["recommendation"]["name"], json!(name), "{args}");
        assert_eq!(r["recommendation"]["delivery"], json!(delivery), "{args}");
        assert_eq!(
            r["decision_path"].as_array().map(Vec::len),
            Some(asked),
            "{args}"
        );
        assert_eq!(r["decided_by"], json!(decided_by), "{args}");
        assert_eq!(names(&r["traded_away"], "need"), traded, "{args}");
        // Every other broker is an alternative or ruled out by a hard need, never both.
        let alternatives = names(&r["alternatives"], "name");
        let excluded = names(&r["excluded"], "name");
        assert_eq!(alternatives.len() + excluded.len(), 5, "{args}");
        assert!(!alternatives.contains(&name.to_string()), "{args}");
        assert!(!excluded.contains(&name.to_string()), "{args}");
        assert!(alternatives.iter().all(|a| !excluded.contains(a)), "{args}");
    }
}

#[test]
fn choose_message_queue_trades_name_the_rule_that_would_hold() {
    let advisor = advisor();
    // Pub/Sub's rule holds on GCP, so it, not SQS, is what serverless was traded for.
    let args = json!({"complex_routing": true, "serverless": true, "cloud": "gcp"});
    let r = call(&advisor, "choose_message_queue", &args).structured;
    assert_eq!(
        r["traded_away"][0]["would_choose"],
        json!("Google Pub/Sub (at_least_once)")
    );
    // Off AWS and GCP no rule for serverless holds: the first broker serving it is named.
    let args = json!({"serverless": true, "cloud": "azure"});
    let r = call(&advisor, "choose_message_queue", &args).structured;
    let traded = &r["traded_away"][0];
    assert_eq!(
        traded["would_choose"],
        json!("Amazon SNS to SQS (at_least_once)")
    );
    assert!(traded["reason"].as_str().unwrap().contains("does not hold"));
}

#[test]
fn choose_message_queue_retry_policy_is_the_seeds_with_one_dead_letter_number() {
    let advisor = advisor();
    let r = call(
        &advisor,
        "choose_message_queue",
        &json!({"complex_routing": true}),
    )
    .structured;
    assert_eq!(
        r["retry_policy"],
        json!({"max_retries": 5, "backoff": "exponential", "base_delay_s": 1.0, "multiplier": 2.0,
               "delays_s": [1.0, 2.0, 4.0, 8.0, 16.0], "dead_letter_queue": true,
               "dead_letter_after_failures": 6})
    );
    let retry = json!("knowledge://queues#retry-policy");
    assert!(r["sources"].as_array().unwrap().contains(&retry));
}

#[rustfmt::skip]
fn queue_pattern_cases() -> Vec<(Value, Names, Names)> {
    vec![
        (json!({}), &["task_queue"], &[]),
        (json!({"fan_out": true, "cloud": "gcp"}), &["task_queue", "pub_sub"], &["otherwise"]),
        // Every Kafka answer carries what its exactly-once takes (queues#warnings).
        (json!({"needs_replay": true}), &["task_queue", "pub_sub"], &["otherwise"]),
        (json!({"cannot_lose_messages": true}), &["task_queue"], &["otherwise"]),
        (json!({"fan_out": true, "cannot_lose_messages": true}), &["task_queue", "pub_sub"], &["otherwise"]),
        (json!({"fan_out": true}), &["task_queue", "pub_sub"], &["fan_out"]),
        (json!({"serverless": true, "cloud": "azure"}), &["task_queue"], &["serverless"]),
    ]
}

#[test]
fn choose_message_queue_patterns_and_warnings() {
    let advisor = advisor();
    for (args, patterns, warnings) in queue_pattern_cases() {
        let r = call(&advisor, "choose_message_queue", &args).structured;
        assert_eq!(names(&r["patterns"], "pattern"), patterns, "{args}");
        assert_eq!(warning_triggers(&r), warnings, "{args}");
    }
    // A hard need rules Redis out instead of warning about it after choosing it.
    let args = json!({"cannot_lose_messages": true});
    let r = call(&advisor, "choose_message_queue", &args).structured;
    assert_eq!(r["excluded"][0]["name"], json!("Redis"));
    assert!(
        r["excluded"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("at most once")
    );
}

// ---------------------------------------------------------------- pick_consistency_model

#[test]
fn pick_consistency_model_reaches_every_rule_in_order() {
    let advisor = advisor();
    for (args, model, cap, pacelc, asked, decided_by, traded) in model_cases() {
        let r = call(&advisor, "pick_consistency_model", &args).structured;
        assert_eq!(r["model"], json!(model), "{args}");
        assert_eq!(r["cap"], json!(cap), "{args}");
        assert_eq!(r["pacelc"], json!(pacelc), "{args}");
        assert_eq!(
            r["decision_path"].as_array().map(Vec::len),
            Some(asked),
            "{args}"
        );
        assert_eq!(r["decided_by"], json!(decided_by), "{args}");
        assert_eq!(names(&r["traded_away"], "need"), traded, "{args}");
        assert!(!r["mechanisms"].as_array().unwrap().is_empty(), "{args}");
        assert!(
            !r["anomalies_possible"].as_array().unwrap().is_empty(),
            "{args}"
        );
        assert_eq!(r["quorum"], Value::Null, "{args}");
    }
}

#[test]
fn pick_consistency_model_mechanisms_and_failure_modes() {
    let advisor = advisor();
    let tool = "pick_consistency_model";
    let args = json!({"strong_consistency_required": true, "tolerates_coordination_latency": true});
    let r = call(&advisor, tool, &args).structured;
    let mechanisms = r["mechanisms"].to_string();
    assert!(mechanisms.contains("synchronous replication") && mechanisms.contains("consensus"));
    let failures = names(&r["failure_modes"], "failure");
    assert_eq!(
        failures,
        ["Split brain", "Phantom lock", "Retry applied twice"]
    );
    let fixes = r["failure_modes"].to_string();
    for fix in ["fencing tokens", "compare-and-set", "idempotency key"] {
        assert!(fixes.contains(fix), "{fix} missing from {fixes}");
    }
    assert_eq!(r["warnings"], json!([]));

    let args = json!({"read_your_writes_critical": true, "users_mostly_own_data": true});
    let r = call(&advisor, tool, &args).structured;
    assert!(
        r["mechanisms"]
            .to_string()
            .contains("route a user's reads to the leader")
    );
    assert!(r["mechanisms"].to_string().contains("logical timestamps"));
    let failures = names(&r["failure_modes"], "failure");
    assert_eq!(
        failures,
        [
            "Split brain",
            "Retry applied twice",
            "Failover loses acknowledged writes"
        ]
    );

    let r = call(&advisor, tool, &json!({"needs_causal_ordering": true})).structured;
    let ordering = "logical timestamps to order related operations";
    assert!(r["mechanisms"].to_string().contains(ordering));
    assert_eq!(
        names(&r["failure_modes"], "failure"),
        ["Retry applied twice", "Failover loses acknowledged writes"]
    );

    let args = json!({"availability_during_partition": true, "app_resolves_conflicts": true});
    let r = call(&advisor, tool, &args).structured;
    assert!(r["mechanisms"].to_string().contains("conflict resolution"));
    let failures = names(&r["failure_modes"], "failure");
    assert_eq!(
        failures,
        [
            "Retry applied twice",
            "Read-after-write inconsistency",
            "Failover loses acknowledged writes"
        ]
    );
    assert_eq!(r["warnings"], json!([]));
}

#[rustfmt::skip]
fn model_warning_cases() -> Vec<(Value, Names)> {
    vec![
        (json!({"strong_consistency_required": true}), &["strong_consistency_required"]),
        (json!({"strong_consistency_required": true, "tolerates_coordination_latency": true, "availability_during_partition": true}), &["strong_consistency_required and availability_during_partition"]),
        (json!({"strong_consistency_required": true, "tolerates_coordination_latency": true, "multi_region": true}), &["strong_consistency_required and multi_region"]),
        (json!({"availability_during_partition": true}), &["availability_during_partition"]),
        (json!({}), &["otherwise"]),
        (json!({"app_resolves_conflicts": true}), &[]),
        (json!({"read_your_writes_critical": true}), &["read_your_writes_critical"]),
        (json!({"read_your_writes_critical": true, "users_mostly_own_data": true}), &[]),
        (json!({"multi_region": true, "app_resolves_conflicts": true}), &[]),
        (json!({"multi_region": true, "needs_causal_ordering": true}), &["multi_region"]),
    ]
}

#[test]
fn pick_consistency_model_warnings_follow_the_table() {
    let advisor = advisor();
    for (args, triggers) in model_warning_cases() {
        let r = call(&advisor, "pick_consistency_model", &args).structured;
        assert_eq!(warning_triggers(&r), triggers, "{args}");
    }
    let r = call(
        &advisor,
        "pick_consistency_model",
        &json!({"multi_region": true}),
    )
    .structured;
    let patterns = names(&r["multi_region_patterns"], "pattern");
    assert_eq!(patterns, ["Active-active"]);
    let args = json!({"strong_consistency_required": true, "multi_region": true});
    let r = call(&advisor, "pick_consistency_model", &args).structured;
    let patterns = names(&r["multi_region_patterns"], "pattern");
    assert_eq!(patterns, ["Active-passive", "Follow-the-sun"]);
}

/// ((n, w, r), overlap, write fault tolerance, read fault tolerance, quorum warnings)
type QuorumCase = ((u64, u64, u64), bool, u64, u64, Names);

#[rustfmt::skip]
fn quorum_cases() -> Vec<QuorumCase> {
    vec![
        ((3, 2, 2), true, 1, 1, &["overlap_replicas > 0"]),
        ((1, 1, 1), true, 0, 0, &["write_fault_tolerance < 1", "read_fault_tolerance < 1", "overlap_replicas > 0"]),
        ((3, 3, 1), true, 0, 2, &["write_fault_tolerance < 1", "overlap_replicas > 0"]),
        ((3, 1, 3), true, 2, 0, &["read_fault_tolerance < 1", "overlap_replicas > 0"]),
        ((3, 3, 3), true, 0, 0, &["write_fault_tolerance < 1", "read_fault_tolerance < 1", "overlap_replicas > 0"]),
        ((3, 1, 1), false, 2, 2, &["overlap_replicas < 1"]),
        ((5, 3, 2), false, 2, 3, &["overlap_replicas < 1"]),
        ((5, 3, 3), true, 2, 2, &["overlap_replicas > 0"]),
    ]
}

#[test]
fn quorum_arithmetic_at_its_edges() {
    let advisor = advisor();
    for ((n, w, r), overlap, wft, rft, quorum_warnings) in quorum_cases() {
        let args = json!({"strong_consistency_required": true, "tolerates_coordination_latency": true,
                          "quorum": {"n": n, "w": w, "r": r}});
        let result = call(&advisor, "pick_consistency_model", &args).structured;
        let q = &result["quorum"];
        assert_eq!(
            (&q["n"], &q["w"], &q["r"]),
            (&json!(n), &json!(w), &json!(r))
        );
        assert_eq!(q["overlap"], json!(overlap), "{args}");
        assert_eq!(q["overlap"], json!(w + r > n), "{args}");
        assert_eq!(q["write_fault_tolerance"], json!(wft), "{args}");
        assert_eq!(q["read_fault_tolerance"], json!(rft), "{args}");
        let fired: Vec<String> = warning_triggers(&result)
            .into_iter()
            .map(|t| t.replace("strong_consistency_required and ", ""))
            .collect();
        assert_eq!(fired, quorum_warnings, "{args}");
        let quorums = json!("knowledge://consistency#quorums");
        assert!(result["sources"].as_array().unwrap().contains(&quorums));
    }
    // A quorum that does not overlap only warns a model that promises fresh reads.
    let args = json!({"app_resolves_conflicts": true, "quorum": {"n": 3, "w": 1, "r": 1}});
    let r = call(&advisor, "pick_consistency_model", &args).structured;
    assert_eq!(r["quorum"]["overlap"], json!(false));
    assert_eq!(r["warnings"], json!([]));
}

/// (tool, arguments, the field refused, phrases the refusal must contain)
type Refusal = (&'static str, Value, &'static str, Names);

#[rustfmt::skip]
fn refusals() -> Vec<Refusal> {
    vec![
        ("pick_consistency_model", json!({"quorum": {"n": 3, "w": 0, "r": 1}}), "quorum.w", &["`0`", "1 to n"]),
        ("pick_consistency_model", json!({"quorum": {"n": 3, "w": 4, "r": 1}}), "quorum.w", &["`4`", "1 to n", "1 to 3"]),
        ("pick_consistency_model", json!({"quorum": {"n": 3, "w": 2, "r": 0}}), "quorum.r", &["`0`", "1 to n"]),
        ("pick_consistency_model", json!({"quorum": {"n": 3, "w": 2, "r": 5}}), "quorum.r", &["`5`", "1 to n"]),
        ("pick_consistency_model", json!({"quorum": {"n": 0, "w": 1, "r": 1}}), "quorum.n", &["`0`", "at least 1"]),
        ("pick_consistency_model", json!({"quorum": {"n": 3, "w": 2}}), "quorum.r", &["required"]),
        ("pick_consistency_model", json!({"quorum": {"n": 3, "w": 2, "r": 1.5}}), "quorum.r", &["`1.5`", "whole number"]),
        ("pick_consistency_model", json!({"quorum": {"n": 3, "w": 2, "r": 2, "x": 1}}), "quorum.x", &["unknown field"]),
        ("pick_consistency_model", json!({"quorum": "3/2/2"}), "quorum", &["a string", "an object"]),
        ("pick_consistency_model", json!({"strong_consistency_required": "true"}), "strong_consistency_required", &["`\"true\"`", "a string", "true or false"]),
        ("pick_consistency_model", json!({"strong_consistency": true}), "strong_consistency", &["unknown field", "strong_consistency_required"]),
        ("choose_message_queue", json!({"cloud": "ibm"}), "cloud", &["`\"ibm\"`", "one of aws, gcp, azure, none"]),
        ("choose_message_queue", json!({"cloud": "AWS"}), "cloud", &["`\"AWS\"`", "aws"]),
        ("choose_message_queue", json!({"cloud": null}), "cloud", &["null", "aws"]),
        ("choose_message_queue", json!({"fan_out": "yes"}), "fan_out", &["a string", "true or false"]),
        ("choose_message_queue", json!({"messages_per_sec": 0}), "messages_per_sec", &["`0`", "above 0"]),
        ("choose_datastore", json!({"needs_acid": "true"}), "needs_acid", &["`\"true\"`", "true or false"]),
        ("choose_datastore", json!({"needs_acd": true}), "needs_acd", &["unknown field", "needs_acid"]),
        ("choose_datastore", json!({"reads_per_sec": -5}), "reads_per_sec", &["`-5`", "above 0"]),
        ("choose_datastore", json!({"data_size_gb": -1}), "data_size_gb", &["`-1`", "at least 0"]),
        ("choose_datastore", json!({"multi_region": 1}), "multi_region", &["`1`", "true or false"]),
    ]
}

#[test]
fn refusals_name_the_field_the_value_and_what_is_accepted() {
    let advisor = advisor();
    for (tool, args, field, phrases) in refusals() {
        let (refused, text) = refuse(&advisor, tool, &args);
        assert_eq!(refused, field, "{tool}({args}): {text}");
        for phrase in phrases {
            assert!(
                text.contains(phrase),
                "{tool}({args}): `{phrase}` missing: {text}"
            );
        }
    }
}

#[test]
fn schemas_describe_every_argument() {
    let advisor = advisor();
    for name in [
        "choose_datastore",
        "choose_message_queue",
        "pick_consistency_model",
    ] {
        let tool = advisor.tool(name).expect("registered");
        let properties = tool.input_schema["properties"]
            .as_object()
            .expect("properties");
        for (field, schema) in properties {
            let description = schema["description"].as_str().unwrap_or_default();
            assert!(!description.is_empty(), "{name}.{field} has no description");
            if schema["type"] == json!("boolean") {
                // An absent flag is false; the listing does not say so thirty times.
                assert_eq!(schema.get("default"), None, "{name}.{field}");
            }
        }
        assert_eq!(tool.output_schema["type"], json!("object"), "{name}");
    }
    let tools: Vec<&str> = advisor.tools().iter().map(|t| t.name).collect();
    let at = |n: &str| tools.iter().position(|t| *t == n).expect("listed");
    assert!(at("diagnose_bottleneck") < at("choose_datastore"));
    assert!(at("choose_datastore") < at("choose_message_queue"));
    assert!(at("choose_message_queue") < at("pick_consistency_model"));
    let queue = advisor.tool("choose_message_queue").unwrap();
    assert_eq!(
        queue.input_schema["properties"]["cloud"]["default"],
        json!("none")
    );
}

#[test]
fn same_input_same_output() {
    let advisor = advisor();
    for (name, args) in [
        (
            "choose_datastore",
            json!({"needs_acid": true, "full_text_search": true}),
        ),
        (
            "choose_message_queue",
            json!({"fan_out": true, "cloud": "gcp"}),
        ),
        (
            "pick_consistency_model",
            json!({"quorum": {"n": 5, "w": 3, "r": 3}}),
        ),
    ] {
        let first = call(&advisor, name, &args);
        let again = call(&advisor, name, &args);
        assert_eq!(first, again);
    }
}

// ---------------------------------------------------------------- markdown snapshots

#[rustfmt::skip]
fn snapshot_cases() -> Vec<(&'static str, &'static str, Value)> {
    vec![
        ("datastore_acid_with_search_and_flexible_schema", "choose_datastore", json!({"needs_acid": true, "full_text_search": true, "flexible_schema": true})),
        ("datastore_default_key_value", "choose_datastore", json!({})),
        ("queue_fan_out_on_gcp", "choose_message_queue", json!({"fan_out": true, "cloud": "gcp"})),
        ("queue_that_cannot_lose_messages", "choose_message_queue", json!({"cannot_lose_messages": true})),
        ("consistency_linearizable_with_quorum", "pick_consistency_model", json!({"strong_consistency_required": true, "availability_during_partition": true, "quorum": {"n": 3, "w": 2, "r": 2}})),
        ("consistency_default_eventual", "pick_consistency_model", json!({})),
    ]
}

#[test]
fn markdown_snapshots() {
    let advisor = advisor();
    for (snapshot, name, args) in snapshot_cases() {
        let out = call(&advisor, name, &args);
        let lines = out.markdown.lines().count();
        assert!(lines <= 30, "{snapshot}: {lines} lines");
        assert!(
            out.markdown.starts_with("**"),
            "{snapshot}: the answer comes first"
        );
        insta::assert_snapshot!(snapshot, out.markdown);
    }
}

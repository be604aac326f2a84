//! Free text is bounded: every string argument that is no enumeration states a `maxLength` in
//! the advertised schema, and a longer value is refused by name and limit, without the value
//! echoed back.

use serde_json::{Map, Value, json};
use tools::{Advisor, CallError};

/// Every free-text string node of a schema, by path, with its `maxLength` if any.
fn free_text(node: &Map<String, Value>, path: &str, found: &mut Vec<(String, Option<u64>)>) {
    let is_string = match node.get("type") {
        Some(Value::String(t)) => t == "string",
        Some(Value::Array(ts)) => ts.iter().any(|t| t == "string"),
        _ => false,
    };
    if is_string && !node.contains_key("enum") && !node.contains_key("const") {
        found.push((
            path.to_string(),
            node.get("maxLength").and_then(Value::as_u64),
        ));
    }
    for (key, child) in node {
        match child {
            Value::Object(child) if key == "properties" || key == "$defs" => {
                for (name, field) in child {
                    if let Value::Object(field) = field {
                        free_text(field, &format!("{path}.{name}"), found);
                    }
                }
            }
            Value::Object(child) => free_text(child, &format!("{path}/{key}"), found),
            Value::Array(items) => {
                for item in items.iter().filter_map(Value::as_object) {
                    free_text(item, &format!("{path}/{key}[]"), found);
                }
            }
            _ => {}
        }
    }
}

#[test]
fn every_free_text_argument_states_a_max_length_of_a_few_hundred_characters() {
    let advisor = Advisor::embedded().unwrap();
    let mut found = Vec::new();
    for tool in advisor.tools() {
        free_text(&tool.input_schema, tool.name, &mut found);
    }
    let paths: Vec<&str> = found.iter().map(|(p, _)| p.as_str()).collect();
    for expected in ["plan_migration.from", "plan_migration.to"] {
        assert!(paths.contains(&expected), "{expected} not in {paths:?}");
    }
    for (path, max) in &found {
        assert!(
            max.is_some_and(|m| (16..=1000).contains(&m)),
            "{path} has maxLength {max:?}"
        );
    }
}

fn refusal(advisor: &Advisor, tool: &str, arguments: Value) -> String {
    let Value::Object(arguments) = arguments else {
        panic!("arguments are an object")
    };
    match advisor.call(tool, &arguments) {
        Err(CallError::Arguments(error)) => error.to_string(),
        Ok(output) => panic!("{tool} accepted it: {}", output.markdown.len()),
        Err(other) => panic!("{other}"),
    }
}

#[test]
fn a_ten_megabyte_from_is_refused_by_name_and_limit_without_an_echo() {
    let advisor = Advisor::embedded().unwrap();
    let huge = "x".repeat(10 * 1024 * 1024);
    for field in ["from", "to"] {
        let mut arguments = json!({"kind": "database_switch"});
        arguments[field] = Value::from(huge.clone());
        let text = refusal(&advisor, "plan_migration", arguments);
        assert!(
            text.contains(&format!("`{field}`")) && text.contains("at most 256 characters"),
            "{text}"
        );
        assert!(text.contains("10485760 characters"), "{text}");
        assert!(text.len() < 600, "the refusal is {} bytes", text.len());
    }
    // Characters, not bytes: 256 two-byte characters are within the limit, 257 are not.
    let within = "é".repeat(256);
    let arguments: Map<String, Value> =
        serde_json::from_value(json!({"kind": "database_switch", "from": within})).unwrap();
    assert!(advisor.call("plan_migration", &arguments).is_ok());
    let over = "é".repeat(257);
    let text = refusal(
        &advisor,
        "plan_migration",
        json!({"kind": "database_switch", "from": over}),
    );
    assert!(text.contains("257 characters"), "{text}");
}

fn answer(advisor: &Advisor, tool: &str, arguments: Value) -> Value {
    let Value::Object(arguments) = arguments else {
        panic!("arguments are an object")
    };
    match advisor.call(tool, &arguments) {
        Ok(output) => output.structured,
        Err(error) => panic!("{tool} refused: {error}"),
    }
}

#[test]
fn free_text_at_its_limit_keeps_the_summary_within_400_characters() {
    let advisor = Advisor::embedded().unwrap();
    let long = "é".repeat(256);
    let other = "ü".repeat(256);
    // A resource's name states its own, shorter limit.
    let name = "é".repeat(100);
    let cases = [
        (
            "plan_migration",
            json!({"kind": "database_switch", "from": long, "to": other}),
        ),
        (
            "forecast_growth",
            json!({"monthly_growth_pct": 10, "db_cpu_pct": 40,
                   "resources": [{"name": name, "current": 700, "warning": 800, "critical": 950}]}),
        ),
        (
            "forecast_growth",
            json!({"monthly_growth_pct": 10,
                   "resources": [{"name": name, "current": 700, "warning": 800}]}),
        ),
    ];
    let mut summaries = 0;
    for (tool, arguments) in cases {
        let result = answer(&advisor, tool, arguments.clone());
        // Every tool's result carries a summary once contract §6 reaches it.
        let Some(summary) = result.get("summary").and_then(Value::as_str) else {
            continue;
        };
        summaries += 1;
        assert!(
            !summary.is_empty() && summary.chars().count() <= 400,
            "{tool}: a summary of {} characters: {summary}",
            summary.chars().count()
        );
    }
    assert!(summaries >= 2, "only {summaries} results carry a summary");
    // One past the limit in a nested list: refused by its path.
    let text = refusal(
        &advisor,
        "forecast_growth",
        json!({"monthly_growth_pct": 10,
               "resources": [{"name": "é".repeat(101), "current": 1, "warning": 2}]}),
    );
    assert!(
        text.contains("`resources[0].name`") && text.contains("at most 100 characters"),
        "{text}"
    );
}

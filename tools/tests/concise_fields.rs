//! `concise` keeps every field the contract names (issue 26, contract §5, §6 and Part 3) and
//! is smaller where it has something to leave out: for each of the larger tools, the paths the
//! contract names (`tools/tests/shared/contract_fields.json`, the one list every test and the
//! size bench read), checked on every example of `tools/fixtures/` (and a report planned for
//! growth, whose roadmap the fixtures lack) against the same call in `full`.

#[path = "shared/contract_fields.rs"]
mod contract_fields;
#[path = "../fixtures/examples.rs"]
mod examples;

use std::sync::LazyLock;

use contract_fields::at;
use serde_json::{Map, Value, json};
use tools::{Advisor, REGISTRY};

static ADVISOR: LazyLock<Advisor> =
    LazyLock::new(|| Advisor::embedded().expect("the embedded knowledge base loads"));

/// The tools whose every example's concise answer is at most 0.6 of its full one (issue 26).
/// `diagnose_bottleneck` and `observe_system` are not among them: what their `full` adds
/// (how the stage was read, each comparison's sign; nothing at all for a reading without
/// sources) is already all that concise leaves out, and the rest is named by the contract.
const AT_MOST_SIX_TENTHS: [&str; 2] = ["forecast_growth", "scaling_report"];

fn call(tool: &str, arguments: &Map<String, Value>, detail: &str) -> Value {
    let mut arguments = arguments.clone();
    arguments.insert("detail".into(), json!(detail));
    ADVISOR
        .call(tool, &arguments)
        .unwrap_or_else(|e| panic!("{tool} {arguments:?}: {e}"))
        .structured
}

fn bytes(value: &Value) -> usize {
    serde_json::to_vec(value).expect("serialises").len()
}

/// A nested `sources` of concise read as the URIs it cites (positions in `cited`, from 0).
fn resolved(sources: &Value, cited: &[Value]) -> Value {
    Value::Array(
        sources
            .as_array()
            .into_iter()
            .flatten()
            .map(|s| match s.as_u64() {
                Some(i) => cited.get(i as usize).cloned().unwrap_or(Value::Null),
                None => s.clone(),
            })
            .collect(),
    )
}

/// Every path the contract names holds in `concise` what it holds in `full`, except where a
/// `truncated` note says a field gave way.
fn assert_keeps_contract_fields(tool: &str, what: &str, concise: &Value, full: &Value) {
    let cited = concise["sources"].as_array().cloned().unwrap_or_default();
    for field in contract_fields::every_result() {
        assert_eq!(concise[&field], full[&field], "{what}: {field}");
    }
    let cut = concise["truncated"]["field"].as_str().unwrap_or_default();
    for path in &contract_fields::paths(tool) {
        if !cut.is_empty() && path.starts_with(cut) {
            continue;
        }
        let (c, f) = (at(concise, path), at(full, path));
        assert_eq!(c.len(), f.len(), "{what}: `{path}` is missing in concise");
        for (c, f) in c.into_iter().zip(f) {
            if path.ends_with("sources") {
                assert_eq!(&resolved(c, &cited), f, "{what}: `{path}`");
            } else if path.ends_with("markdown") {
                // A report section in concise draws its architecture once, as text: full's
                // lines, in order, without the mermaid block.
                let (c, f) = (
                    c.as_str().unwrap_or_default(),
                    f.as_str().unwrap_or_default(),
                );
                let mut full_lines = f.lines();
                for line in c.lines() {
                    assert!(
                        full_lines.any(|l| l == line),
                        "{what}: `{line}` not in full"
                    );
                }
                assert!(!c.contains("```mermaid"), "{what}: a diagram in concise");
            } else if !f.is_object() && !f.is_array() {
                assert_eq!(c, f, "{what}: `{path}` differs");
            }
        }
    }
}

/// The report of contract §10: a system of 8,000 users growing 10× a year, with a roadmap.
fn growing_report() -> Map<String, Value> {
    json!({
        "system": {"users": 8000, "db_cpu_pct": 40, "p95_latency_ms": 150},
        "growth": {"growth_multiple": 10, "over_months": 12},
        "current_monthly_cost_usd": 300
    })
    .as_object()
    .cloned()
    .unwrap_or_default()
}

#[test]
fn concise_keeps_every_contract_field_of_the_larger_tools() {
    let mut cases: Vec<(String, String, Map<String, Value>)> = Vec::new();
    // Every tool of the list but those `concise_small_tools.rs` checks, so that a new tool is
    // checked in one of the two.
    let larger: Vec<String> = contract_fields::tools()
        .into_iter()
        .filter(|t| !contract_fields::SINGLE_QUESTION_TOOLS.contains(&t.as_str()))
        .collect();
    assert!(
        AT_MOST_SIX_TENTHS
            .iter()
            .all(|t| larger.iter().any(|l| l == t)),
        "{larger:?}"
    );
    for tool in &larger {
        for example in examples::examples(tool) {
            cases.push((tool.to_string(), example.name, example.arguments));
        }
    }
    cases.push((
        "scaling_report".into(),
        "growing_report".into(),
        growing_report(),
    ));
    for (tool, name, arguments) in cases {
        let what = format!("{tool} {name}");
        let concise = call(&tool, &arguments, "concise");
        let full = call(&tool, &arguments, "full");
        assert_keeps_contract_fields(&tool, &what, &concise, &full);
        let (c, f) = (bytes(&concise), bytes(&full));
        assert!(c <= f, "{what}: concise {c} bytes, full {f}");
        if AT_MOST_SIX_TENTHS.contains(&tool.as_str()) {
            assert!(
                c * 10 <= f * 6,
                "{what}: concise {c} bytes is more than 0.6 of full's {f}"
            );
        }
    }
}

/// The list of contract fields names every registered tool and no other: a new tool is
/// checked from its first day, and a renamed one is not silently dropped.
#[test]
fn the_contract_fields_list_names_exactly_the_registered_tools() {
    let mut listed = contract_fields::tools();
    listed.sort();
    let mut registered: Vec<String> = REGISTRY.iter().map(|r| r.name.to_string()).collect();
    registered.sort();
    assert_eq!(listed, registered, "{}", contract_fields::file().display());
    for tool in &listed {
        for path in contract_fields::paths(tool) {
            assert!(
                path.split('.').all(|part| {
                    let name = part.strip_suffix("[]").unwrap_or(part);
                    !name.is_empty()
                        && name
                            .chars()
                            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
                }),
                "{tool}: `{path}` is not a path"
            );
        }
    }
}

#[test]
fn nested_sources_cite_the_results_own_list_by_position() {
    let every = examples::examples("diagnose_bottleneck")
        .into_iter()
        .next()
        .expect("an example");
    let concise = call("diagnose_bottleneck", &every.arguments, "concise");
    let uris = concise["sources"].as_array().expect("sources");
    assert!(uris.iter().all(Value::is_string), "{uris:?}");
    let findings = concise["findings"].as_array().expect("findings");
    assert!(!findings.is_empty());
    let positions: Vec<u64> = findings
        .iter()
        .flat_map(|f| f["sources"].as_array().cloned().unwrap_or_default())
        .map(|p| p.as_u64().expect("a position"))
        .collect();
    // Counted from 0, every one inside the list, and the finding's URIs in full.
    assert!(positions.iter().all(|&p| (p as usize) < uris.len()));
    let full = call("diagnose_bottleneck", &every.arguments, "full");
    for (c, f) in findings
        .iter()
        .zip(full["findings"].as_array().expect("findings"))
    {
        assert_eq!(resolved(&c["sources"], uris), f["sources"], "{}", c["id"]);
    }
}

#[test]
fn concise_leaves_out_what_restates_a_field_and_full_keeps_it() {
    let example = examples::examples("forecast_growth")
        .into_iter()
        .next()
        .expect("an example");
    let concise = call("forecast_growth", &example.arguments, "concise");
    let full = call("forecast_growth", &example.arguments, "full");
    assert!(full["chart"].is_object() && concise.get("chart").is_none());
    // Contract §5.9 names the workings' formula, substitution and value: all three stay.
    for w in concise["workings"].as_array().expect("workings") {
        assert!(
            w.get("formula").is_some()
                && w.get("substituted").is_some()
                && w.get("value").is_some(),
            "{w}"
        );
    }
    assert!(
        full["workings"]
            .as_array()
            .expect("workings")
            .iter()
            .all(|w| w["formula"].is_string())
    );
    // A value that is not saturated leaves the flag out; one that is keeps it.
    let flags: Vec<&Value> = at(&concise, "checkpoints[].values[].saturated");
    assert!(flags.iter().all(|f| **f == json!(true)), "{flags:?}");
    let saturated_in_full = at(&full, "checkpoints[].values[].saturated")
        .into_iter()
        .filter(|f| **f == json!(true))
        .count();
    assert_eq!(flags.len(), saturated_in_full);
}

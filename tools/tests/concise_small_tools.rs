//! `concise` for the six tools that answer one question each (issue 26): on every fixture it
//! keeps each field the contract names exactly as `full` has it, leaves out nothing else that
//! `full` lacks, and takes at most 0.6 of `full`'s bytes, except where the contract's own
//! fields (and what the lead's rulings keep) pass that share, each such fixture named below
//! with its bound and the reason. `tests/e2e/model_reads.rs` checks the bench scenarios
//! through the binary.

use serde_json::{Map, Value};
use tools::Advisor;

#[path = "shared/contract_fields.rs"]
mod contract_fields;
#[path = "../fixtures/examples.rs"]
mod examples;

/// The tools this file covers. The fields the contract names in their results are read from
/// `tools/tests/shared/contract_fields.json`, beside `summary`, `missing_inputs` and `sources`
/// (§6), which are checked for every tool.
const TOOLS: [&str; 6] = contract_fields::SINGLE_QUESTION_TOOLS;

/// The share of `full` a concise answer may take (issue 26).
const MAX_SHARE: f64 = 0.6;

/// Fixtures whose contract fields alone take more than [`MAX_SHARE`] of `full`: the bound
/// they are held to (a little above what they take) and why they cannot go lower.
const ABOVE_THE_SHARE: &[(&str, &str, f64, &str)] = &[
    (
        "choose_datastore",
        "acid_search_and_read_heavy",
        0.75,
        "the path's questions, every alternative with its grades, the complements' roles and the sources are §5.2's",
    ),
    (
        "choose_datastore",
        "acid_in_several_regions",
        0.85,
        "as above, with two alternatives graded and five sources",
    ),
    (
        "plan_migration",
        "reshard_four_to_six",
        0.8,
        "the phases' steps, exit criteria and rollbacks, the risks and the shard map are §5.7's",
    ),
];

fn advisor() -> Advisor {
    Advisor::embedded().expect("the embedded knowledge base loads")
}

fn answer(advisor: &Advisor, tool: &str, arguments: &Map<String, Value>, detail: &str) -> Value {
    let mut arguments = arguments.clone();
    arguments.insert("detail".into(), Value::from(detail));
    advisor
        .call(tool, &arguments)
        .unwrap_or_else(|e| panic!("{tool} ({detail}) was refused: {e}"))
        .structured
}

fn bytes(value: &Value) -> usize {
    serde_json::to_vec(value).expect("serialises").len()
}

/// Checks that `concise` holds what `full` holds at `parts`: the same value at the end (an
/// object or a list of objects: there, with as many items), and through a list every item (fewer only where `truncated` names that list). A path `full`
/// lacks is not this result's (a shard plan has no `reshard`).
fn keeps(full: &Value, concise: &Value, parts: &[&str], at: &str, cut: &str) -> Vec<String> {
    let Some((first, rest)) = parts.split_first() else {
        // An object's fields, and a list's objects, are paths of their own: here only that it
        // is there (`quorum` null or not, every alternative); anything else is the same value.
        let same = match (full, concise) {
            (Value::Object(_), Value::Object(_)) => true,
            (Value::Array(f), Value::Array(c)) if f.iter().any(Value::is_object) => {
                f.len() == c.len() || at == cut
            }
            _ => full == concise,
        };
        return if same {
            Vec::new()
        } else {
            vec![format!("{at}: {concise} in concise, {full} in full")]
        };
    };
    let (name, every) = match first.strip_suffix("[]") {
        Some(name) => (name, true),
        None => (*first, false),
    };
    // A field `full` lacks, or a null one whose inside is asked for (`shard_strategy.strategy`
    // of a reshard), is not this result's.
    let Some(f) = full.get(name).filter(|f| rest.is_empty() || !f.is_null()) else {
        return Vec::new();
    };
    let here = if at.is_empty() {
        name.to_string()
    } else {
        format!("{at}.{name}")
    };
    let Some(c) = concise.get(name) else {
        return vec![format!("{here} is in full but not in concise")];
    };
    if !every {
        return keeps(f, c, rest, &here, cut);
    }
    let (Some(items), Some(kept)) = (f.as_array(), c.as_array()) else {
        return if f == c {
            Vec::new()
        } else {
            vec![format!("{here}: {c} in concise, {f} in full")]
        };
    };
    let mut wrong = Vec::new();
    if kept.len() != items.len() && here != cut {
        wrong.push(format!(
            "{here}: {} items in concise, {} in full, and `truncated` does not say so",
            kept.len(),
            items.len()
        ));
    }
    for (i, (f, c)) in items.iter().zip(kept).enumerate() {
        wrong.extend(keeps(f, c, rest, &format!("{here}[{i}]"), cut));
    }
    wrong
}

#[test]
fn concise_keeps_every_field_the_contract_names_on_every_fixture() {
    let advisor = advisor();
    let mut checked = 0;
    for tool in TOOLS {
        let fields = contract_fields::every_result()
            .into_iter()
            .chain(contract_fields::paths(tool))
            .collect::<Vec<_>>();
        for example in examples::examples(tool) {
            let concise = answer(&advisor, tool, &example.arguments, "concise");
            let full = answer(&advisor, tool, &example.arguments, "full");
            let cut = concise["truncated"]["field"].as_str().unwrap_or_default();
            let mut wrong = Vec::new();
            for path in &fields {
                let parts: Vec<&str> = path.split('.').collect();
                wrong.extend(keeps(&full, &concise, &parts, "", cut));
            }
            assert!(
                wrong.is_empty(),
                "{tool} `{}`:\n{}",
                example.name,
                wrong.join("\n")
            );
            checked += 1;
        }
    }
    assert!(checked >= TOOLS.len(), "only {checked} fixtures");
}

#[test]
fn concise_takes_at_most_six_tenths_of_full_on_every_fixture() {
    let advisor = advisor();
    let mut over = Vec::new();
    for tool in TOOLS {
        for example in examples::examples(tool) {
            let concise = bytes(&answer(&advisor, tool, &example.arguments, "concise"));
            let full = bytes(&answer(&advisor, tool, &example.arguments, "full"));
            let share = concise as f64 / full as f64;
            let allowed = ABOVE_THE_SHARE
                .iter()
                .find(|(t, name, _, _)| *t == tool && *name == example.name)
                .map_or(MAX_SHARE, |(_, _, bound, _)| *bound);
            if share > allowed {
                over.push(format!(
                    "{tool} `{}`: {concise} of {full} bytes ({share:.2} > {allowed})",
                    example.name
                ));
            }
        }
    }
    assert!(over.is_empty(), "{}", over.join("\n"));
}

/// An exception that no longer needs its room is removed, so the table stays the list of
/// what the contract's fields alone hold above the share.
#[test]
fn every_exception_to_the_share_is_a_fixture_that_needs_it() {
    let advisor = advisor();
    for (tool, name, bound, why) in ABOVE_THE_SHARE {
        let example = examples::examples(tool)
            .into_iter()
            .find(|e| e.name == *name)
            .unwrap_or_else(|| panic!("{tool} has no fixture `{name}`"));
        let concise = bytes(&answer(&advisor, tool, &example.arguments, "concise"));
        let full = bytes(&answer(&advisor, tool, &example.arguments, "full"));
        let share = concise as f64 / full as f64;
        assert!(
            share > MAX_SHARE && share <= *bound,
            "{tool} `{name}` takes {share:.2} of full ({why}): move its bound or remove it"
        );
    }
}

/// The output schema of a result type, as the advisor derives it.
fn output_schema<T: schemars::JsonSchema>() -> Value {
    schemars::generate::SchemaSettings::draft2020_12()
        .for_serialize()
        .into_generator()
        .into_root_schema_for::<T>()
        .to_value()
}

/// The schema of `sources` in the definition `item` of `schema`: it says how concise cites,
/// and accepts a position as well as a URI.
fn assert_cites_by_position(schema: &Value, item: &str) {
    let sources = &schema["$defs"][item]["properties"]["sources"];
    let description = sources["description"].as_str().unwrap_or_default();
    assert!(
        description.contains("position") && description.contains("`sources`"),
        "{item}.sources: {sources}"
    );
    let cited = sources["items"]["$ref"]
        .as_str()
        .and_then(|r| r.strip_prefix("#/$defs/"))
        .map_or(&sources["items"], |name| &schema["$defs"][name]);
    let kinds: Vec<&str> = cited["anyOf"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|branch| branch["type"].as_str())
        .collect();
    assert!(
        kinds.contains(&"string") && kinds.contains(&"integer"),
        "{item}.sources items: {cited}"
    );
}

/// A nested `sources` in concise cites the result's own list by position; the output schema
/// says so and accepts it.
#[test]
fn nested_sources_cite_the_result_list_and_the_schema_accepts_positions() {
    assert_cites_by_position(
        &output_schema::<tools::choose_message_queue::QueueChoice>(),
        "Pattern",
    );
    assert_cites_by_position(
        &output_schema::<tools::pick_consistency_model::ConsistencyChoice>(),
        "FailureModePlan",
    );
    let advisor = advisor();
    for (tool, nested) in [
        ("choose_message_queue", "patterns"),
        ("pick_consistency_model", "failure_modes"),
    ] {
        for example in examples::examples(tool) {
            let concise = answer(&advisor, tool, &example.arguments, "concise");
            let full = answer(&advisor, tool, &example.arguments, "full");
            let cited = concise["sources"].as_array().expect("sources");
            assert!(cited.iter().all(Value::is_string), "{tool}: {cited:?}");
            for (item, whole) in concise[nested]
                .as_array()
                .expect("a list")
                .iter()
                .zip(full[nested].as_array().expect("a list"))
            {
                let uris: Vec<&Value> = item["sources"]
                    .as_array()
                    .expect("sources")
                    .iter()
                    .map(|p| &cited[p.as_u64().expect("a position") as usize])
                    .collect();
                let expected: Vec<&Value> = whole["sources"]
                    .as_array()
                    .expect("sources")
                    .iter()
                    .collect();
                assert_eq!(uris, expected, "{tool} `{}`", example.name);
            }
        }
    }
}

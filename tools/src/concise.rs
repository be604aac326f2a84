//! What `concise` leaves out (contract §6, issue 26), applied to a result's JSON after the tool
//! has shaped it. One pass serves every tool: a tool only names its explanatory fields
//! ([`crate::Tool::CONCISE_OMITS`]) and, if it has one, its answer budget
//! ([`crate::Tool::CONCISE_BUDGET`]); citations, nested results and empty fields are folded
//! the same way everywhere. `full` never passes through here, so it stays byte for byte what
//! the tool built.

use serde_json::{Map, Value};

/// A per-answer budget: while the concise answer is over `max_bytes`, the field `field` of the
/// items of the list `list` is left out, from the last item back (the lists are ordered by
/// importance, so the first items keep it), and `truncated` says how many kept it.
#[derive(Debug, Clone, Copy)]
pub struct Budget {
    pub max_bytes: usize,
    /// The list, as a dotted path of objects in the result (`findings`, `diagnosis.findings`).
    pub list: &'static str,
    /// The field of each item that gives way (`fixes`).
    pub field: &'static str,
}

/// Fits a result in `concise`: leaves out `omits`, cites nested `sources` by position in the
/// result's own list, drops a nested result's `missing_inputs` that the result's own list
/// already names, then keeps the answer within `budget`.
pub(crate) fn compact(result: &mut Value, omits: &[&str], budget: Option<Budget>) {
    for path in omits {
        let parts: Vec<&str> = path.split('.').collect();
        remove_path(result, &parts);
    }
    let Value::Object(root) = result else {
        return;
    };
    let cited: Vec<String> = strings(root.get("sources"));
    let missing: Vec<String> = root
        .get("missing_inputs")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|m| m.get("field").and_then(Value::as_str).map(str::to_string))
        .collect();
    for (key, value) in root.iter_mut() {
        if key != "sources" && key != "missing_inputs" {
            fold(value, &cited, &missing);
        }
    }
    if let Some(budget) = budget {
        keep_within(root, budget);
    }
}

/// Adds `truncated` to a result's derived output schema, for a tool whose result type has no
/// such field but whose budget ([`Budget`]) may add the note.
pub(crate) fn declare_truncated(schema: &mut Map<String, Value>) {
    let note = schemars::generate::SchemaSettings::draft2020_12()
        .for_serialize()
        .into_generator()
        .into_root_schema_for::<crate::Truncated>();
    let Value::Object(mut note) = note.to_value() else {
        return;
    };
    note.remove("$schema");
    note.insert(
        "description".into(),
        Value::from("What concise left out to keep within the answer's budget, when it did."),
    );
    if let Some(Value::Object(properties)) = schema.get_mut("properties") {
        properties.entry("truncated").or_insert(Value::Object(note));
    }
}

/// What a nested `sources` holds, said where the output schema declares it.
pub(crate) const CITED_BY_POSITION: &str =
    "knowledge:// URIs; in concise, their positions in the result's own sources, counted from 0";

/// Writes every nested `sources` of a result's derived output schema that is still declared
/// as URIs only (a finding's, a nested result's: any below the top level) as URIs or
/// positions, and says which it is; a field that declares itself (`lib.rs` `Cited`) is left
/// as it is. The result's own top-level `sources` is always URIs. Returns whether it wrote one.
pub(crate) fn declare_citations(schema: &mut Map<String, Value>) -> bool {
    fn visit(node: &mut Value, found: &mut bool) {
        match node {
            Value::Object(map) => {
                if let Some(Value::Object(properties)) = map.get_mut("properties")
                    && let Some(Value::Object(sources)) = properties.get_mut("sources")
                    && sources.get("items") == Some(&serde_json::json!({"type": "string"}))
                {
                    sources.insert(
                        "items".into(),
                        serde_json::json!({"type": ["string", "integer"]}),
                    );
                    sources.insert("description".into(), Value::from(CITED_BY_POSITION));
                    *found = true;
                }
                for child in map.values_mut() {
                    visit(child, found);
                }
            }
            Value::Array(items) => {
                for item in items {
                    visit(item, found);
                }
            }
            _ => {}
        }
    }
    let mut found = false;
    for (key, child) in schema.iter_mut() {
        if key == "properties" {
            if let Value::Object(properties) = child {
                for (name, property) in properties.iter_mut() {
                    if name != "sources" {
                        visit(property, &mut found);
                    }
                }
            }
        } else {
            visit(child, &mut found);
        }
    }
    found
}

/// Removes the field at `parts` (`["findings[]", "fixes", "short_term"]`), in every item of
/// the lists the path runs through.
fn remove_path(value: &mut Value, parts: &[&str]) {
    let Some((first, rest)) = parts.split_first() else {
        return;
    };
    let Value::Object(map) = value else {
        return;
    };
    let (name, every) = match first.strip_suffix("[]") {
        Some(name) => (name, true),
        None => (*first, false),
    };
    if rest.is_empty() && !every {
        // `field?` leaves the field out only while it holds nothing (null, false, an empty
        // list, object or text): a default that says nothing, where a value would say much.
        match name.strip_suffix('?') {
            Some(name) => {
                if map.get(name).is_some_and(says_nothing) {
                    map.shift_remove(name);
                }
            }
            None => {
                map.shift_remove(name);
            }
        }
        return;
    }
    match map.get_mut(name) {
        Some(Value::Array(items)) if every => {
            for item in items {
                remove_path(item, rest);
            }
        }
        Some(child) if !every => remove_path(child, rest),
        _ => {}
    }
}

/// Whether a value holds nothing a reader could act on: null, false, or empty.
fn says_nothing(value: &Value) -> bool {
    match value {
        Value::Null | Value::Bool(false) => true,
        Value::Array(items) => items.is_empty(),
        Value::Object(map) => map.is_empty(),
        Value::String(text) => text.is_empty(),
        _ => false,
    }
}

fn strings(value: Option<&Value>) -> Vec<String> {
    value
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|v| v.as_str().map(str::to_string))
        .collect()
}

/// Folds what a nested object repeats of the result: its `sources` become positions in the
/// result's `sources` (when every one of them is there), its `missing_inputs` go when the
/// result's list names each of them (as itself or under a nested argument, `system.users`).
/// Null fields stay: the output schemas require them.
fn fold(value: &mut Value, cited: &[String], missing: &[String]) {
    match value {
        Value::Object(map) => {
            if let Some(positions) = positions(map.get("sources"), cited) {
                map.insert("sources".into(), positions);
            }
            if covered(map, missing) {
                map.shift_remove("missing_inputs");
            }
            for (key, child) in map.iter_mut() {
                if key != "sources" {
                    fold(child, cited, missing);
                }
            }
        }
        Value::Array(items) => {
            for item in items {
                fold(item, cited, missing);
            }
        }
        _ => {}
    }
}

/// The positions of `sources`' URIs in `cited`, or `None` when one is not there.
fn positions(sources: Option<&Value>, cited: &[String]) -> Option<Value> {
    let list = sources?.as_array()?;
    list.iter()
        .map(|uri| {
            let uri = uri.as_str()?;
            cited.iter().position(|c| c == uri).map(Value::from)
        })
        .collect::<Option<Vec<Value>>>()
        .map(Value::Array)
}

/// Whether every entry of a nested `missing_inputs` is named by the result's own list.
fn covered(map: &Map<String, Value>, missing: &[String]) -> bool {
    let Some(Value::Array(entries)) = map.get("missing_inputs") else {
        return false;
    };
    entries.iter().all(|entry| {
        entry
            .get("field")
            .and_then(Value::as_str)
            .is_some_and(|field| {
                missing.iter().any(|named| {
                    named == field
                        || named
                            .strip_suffix(field)
                            .is_some_and(|outer| outer.ends_with('.'))
                })
            })
    })
}

/// The list at a dotted path of objects.
fn list<'a>(root: &'a mut Map<String, Value>, path: &str) -> Option<&'a mut Vec<Value>> {
    let mut parts = path.split('.');
    let mut current = root.get_mut(parts.next()?)?;
    for part in parts {
        current = current.get_mut(part)?;
    }
    current.as_array_mut()
}

fn bytes(map: &Map<String, Value>) -> usize {
    serde_json::to_vec(map).map_or(0, |b| b.len())
}

/// Leaves out `budget.field` from the last items of `budget.list` until the answer fits, and
/// says so in `truncated` (contract §6). A result that already cut a list keeps its note and
/// is not thinned further.
fn keep_within(root: &mut Map<String, Value>, budget: Budget) {
    if root.contains_key("truncated") || bytes(root) <= budget.max_bytes {
        return;
    }
    let total = match list(root, budget.list) {
        Some(items) => items.len(),
        None => return,
    };
    let mut shown = total;
    // The note counts against the budget too, so it is written before each measure.
    while shown > 0 && (!root.contains_key("truncated") || bytes(root) > budget.max_bytes) {
        shown -= 1;
        if let Some(Value::Object(item)) =
            list(root, budget.list).and_then(|items| items.get_mut(shown))
        {
            item.shift_remove(budget.field);
        }
        let note = crate::Truncated {
            field: format!("{}[].{}", budget.list, budget.field),
            shown: shown as u64,
            total: total as u64,
            how_to_get_more: "call again with detail: full".to_string(),
        };
        if let Ok(note) = serde_json::to_value(note) {
            root.insert("truncated".into(), note);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn omits_follow_paths_through_lists() {
        let mut v = json!({"a": [{"b": {"c": 1, "d": 2}}, {"b": {"c": 3}}], "e": 4});
        compact(&mut v, &["a[].b.c", "e"], None);
        assert_eq!(v, json!({"a": [{"b": {"d": 2}}, {"b": {}}]}));
    }

    #[test]
    fn a_question_mark_leaves_a_field_out_only_while_it_says_nothing() {
        let mut v = json!({
            "a": [{"flag": false, "notes": []}, {"flag": true, "notes": ["x"]}],
            "gone": null,
            "kept": 0,
            "sources": []
        });
        compact(&mut v, &["a[].flag?", "a[].notes?", "gone?", "kept?"], None);
        assert_eq!(
            v,
            json!({"a": [{}, {"flag": true, "notes": ["x"]}], "kept": 0, "sources": []})
        );
    }

    #[test]
    fn nested_sources_become_positions_only_when_all_are_cited() {
        let mut v = json!({
            "f": [{"sources": ["k://b", "k://a"]}, {"sources": ["k://a", "k://z"]}],
            "sources": ["k://a", "k://b"]
        });
        compact(&mut v, &[], None);
        assert_eq!(v["f"][0]["sources"], json!([1, 0]));
        assert_eq!(v["f"][1]["sources"], json!(["k://a", "k://z"]));
        assert_eq!(v["sources"], json!(["k://a", "k://b"]));
    }

    #[test]
    fn nested_missing_inputs_go_only_when_the_result_names_them() {
        let mut v = json!({
            "d": {"missing_inputs": [{"field": "users", "enables": "stage"}]},
            "c": {"missing_inputs": [{"field": "peak", "enables": "servers"}]},
            "missing_inputs": [{"field": "system.users", "enables": "stage"}],
            "top": null,
            "sources": []
        });
        compact(&mut v, &[], None);
        assert_eq!(v["d"], json!({}));
        assert_eq!(v["c"]["missing_inputs"][0]["field"], "peak");
        assert!(v.as_object().unwrap().contains_key("top"), "nulls stay");
    }

    #[test]
    fn a_budget_thins_the_last_items_first_and_says_so() {
        let text = "x".repeat(100);
        let mut v = json!({
            "findings": [{"id": 1, "fixes": text}, {"id": 2, "fixes": text}, {"id": 3, "fixes": text}],
            "sources": []
        });
        let budget = Budget {
            max_bytes: 350,
            list: "findings",
            field: "fixes",
        };
        compact(&mut v, &[], Some(budget));
        assert!(serde_json::to_vec(&v).unwrap().len() <= 350);
        assert!(v["findings"][0].get("fixes").is_some());
        assert!(v["findings"][2].get("fixes").is_none());
        assert_eq!(v["truncated"]["field"], "findings[].fixes");
        assert_eq!(v["truncated"]["total"], 3);
        let shown = v["truncated"]["shown"].as_u64().unwrap() as usize;
        let kept = (0..3)
            .filter(|i| v["findings"][i].get("fixes").is_some())
            .count();
        assert_eq!(shown, kept);
    }

    #[test]
    fn nested_sources_are_declared_as_uris_or_positions_and_the_top_level_stays() {
        let mut schema = json!({
            "properties": {
                "sources": {"type": "array", "items": {"type": "string"}},
                "findings": {"type": "array", "items": {"$ref": "#/$defs/Finding"}}
            },
            "$defs": {"Finding": {"properties": {
                "sources": {"type": "array", "items": {"type": "string"}}
            }}}
        });
        let Value::Object(map) = &mut schema else {
            unreachable!()
        };
        assert!(declare_citations(map));
        assert_eq!(
            schema["properties"]["sources"]["items"],
            json!({"type": "string"})
        );
        let nested = &schema["$defs"]["Finding"]["properties"]["sources"];
        assert_eq!(nested["items"]["type"], json!(["string", "integer"]));
        assert_eq!(nested["description"], CITED_BY_POSITION);
        let mut flat = serde_json::Map::new();
        flat.insert(
            "properties".into(),
            json!({"sources": {"type": "array", "items": {"type": "string"}}}),
        );
        assert!(!declare_citations(&mut flat));
    }
}

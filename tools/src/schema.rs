//! The schemas a client sees. The full schemas that schemars derives from the argument and
//! result types are what arguments are validated against; what `tools/list` advertises is a
//! compact form of them, because every byte of `tools/list` is read by a model on every
//! session:
//! - input: the same fields, types, ranges, enums and descriptions, without the `title` and
//!   `format` annotations, `null` folded into "omit the field" (the validation schema folds it
//!   too, so what is advertised is what is enforced), and another tool's arguments
//!   (scaling_report's `system`, …) named by reference (`x-tool-arguments`) instead of repeated;
//!   Flags say nothing of their default: an absent boolean is false.
//! - output: the top-level fields with their types (null where the type admits it; a field
//!   that only `detail: full` or a cut list carries, such as `truncated`, may be absent). The
//!   nested shapes are documented by the tools' descriptions and by the results themselves.
//!   A property whose type is a list of words (`detail`, `cloud`) is written in place with
//!   its own description rather than as a `$ref`.

use serde_json::{Map, Value};

/// The longest free-text argument accepted, in characters, unless a field states its own
/// `maxLength`: names of stores, resources and the like are a few words, and a bound keeps a
/// careless or hostile caller from having megabytes echoed back or held.
pub const MAX_FREE_TEXT_CHARS: u64 = 256;

/// Gives every free-text string of a schema (a string that is no enumeration or constant) a
/// `maxLength`, [`MAX_FREE_TEXT_CHARS`] unless it states its own, so that the bound is
/// advertised and enforced alike.
pub(crate) fn bound_free_text(node: &mut Map<String, Value>) {
    let is_string = match node.get("type") {
        Some(Value::String(t)) => t == "string",
        Some(Value::Array(ts)) => ts.iter().any(|t| t == "string"),
        _ => false,
    };
    if is_string
        && !node.contains_key("enum")
        && !node.contains_key("const")
        && !node.contains_key("maxLength")
    {
        node.insert("maxLength".into(), Value::from(MAX_FREE_TEXT_CHARS));
    }
    for (key, child) in node.iter_mut() {
        match (key.as_str(), child) {
            ("properties" | "$defs", Value::Object(children)) => {
                for grandchild in children.values_mut() {
                    if let Value::Object(field) = grandchild {
                        bound_free_text(field);
                    }
                }
            }
            (_, Value::Object(field)) => bound_free_text(field),
            (_, Value::Array(items)) => {
                for item in items {
                    if let Value::Object(field) = item {
                        bound_free_text(field);
                    }
                }
            }
            _ => {}
        }
    }
}

/// The advertised input schema for `full`; `nested` maps a property to the tool whose
/// arguments it carries.
pub(crate) fn advertised_input(
    full: &Map<String, Value>,
    nested: &[(&str, &str)],
) -> Map<String, Value> {
    let mut schema = strip(full);
    drop_false_defaults(&mut schema);
    if let Some(Value::Object(properties)) = schema.get_mut("properties") {
        for (property, tool) in nested {
            if let Some(Value::Object(field)) = properties.get_mut(*property) {
                let description = field
                    .get("description")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string();
                let nullable =
                    field
                        .get("anyOf")
                        .and_then(Value::as_array)
                        .is_some_and(|branches| {
                            branches
                                .iter()
                                .any(|b| b.get("type") == Some(&Value::from("null")))
                        });
                let mut reference = Map::new();
                let kind = if nullable {
                    serde_json::json!(["object", "null"])
                } else {
                    Value::from("object")
                };
                reference.insert("type".into(), kind);
                reference.insert(
                    "description".into(),
                    Value::from(format!("{} Arguments of `{tool}`.", description.trim())),
                );
                // A machine-readable pointer for clients that generate arguments from schemas.
                reference.insert("x-tool-arguments".into(), Value::from(*tool));
                *field = reference;
            }
        }
    }
    inline_word_lists(&mut schema);
    drop_described_defaults(&mut schema);
    prune_definitions(&mut schema);
    schema
}

/// Writes a property whose type is a list of words (`detail`, `cloud`, `kind`) in place,
/// with the property's own description, instead of a `$ref` to a definition that repeats
/// the type's doc comment. The list of words says the type.
fn inline_word_lists(schema: &mut Map<String, Value>) {
    let definitions = schema.get("$defs").and_then(Value::as_object).cloned();
    let Some(definitions) = definitions else {
        return;
    };
    if let Some(Value::Object(properties)) = schema.get_mut("properties") {
        for property in properties.values_mut() {
            let Value::Object(field) = property else {
                continue;
            };
            let Some(words) = field
                .get("$ref")
                .and_then(Value::as_str)
                .and_then(|r| r.strip_prefix("#/$defs/"))
                .and_then(|name| definitions.get(name))
                .filter(|d| d.get("enum").is_some() && d.get("type") == Some(&"string".into()))
            else {
                continue;
            };
            if field.get("description").is_none() {
                continue;
            }
            field.remove("$ref");
            if let Some(values) = words.get("enum") {
                field.insert("enum".into(), values.clone());
            }
        }
    }
}

/// The advertised output schema: the result's top-level fields and their JSON types.
pub(crate) fn advertised_output(full: &Map<String, Value>) -> Map<String, Value> {
    let mut schema = Map::new();
    schema.insert("type".into(), Value::from("object"));
    let mut properties = Map::new();
    if let Some(fields) = full.get("properties").and_then(Value::as_object) {
        for (name, field) in fields {
            let mut shape = Map::new();
            let (mut types, values) = shape_of(full, field);
            // A word from a fixed list is a string here; its words are in the description
            // and the results.
            if let Some(values) = &values {
                types = ["string", "null"]
                    .into_iter()
                    .filter(|t| {
                        values.iter().any(|v| {
                            if *t == "null" {
                                v.is_null()
                            } else {
                                v.is_string()
                            }
                        })
                    })
                    .map(str::to_string)
                    .collect();
            }
            if values
                .as_ref()
                .is_some_and(|v| v.iter().any(|x| !x.is_string() && !x.is_null()))
            {
                if let Some(values) = values {
                    shape.insert("enum".into(), Value::Array(values));
                }
            } else if types == ["array"] {
                // A list that is never null: its plural name says it, and `{}` keeps the
                // listing small (issue 12: nine tools in 18,432 bytes).
            } else if types.len() == 1 {
                shape.insert("type".into(), Value::from(types[0].clone()));
            } else if !types.is_empty() {
                shape.insert(
                    "type".into(),
                    Value::Array(types.into_iter().map(Value::from).collect()),
                );
            }
            properties.insert(name.clone(), Value::Object(shape));
        }
    }
    // No `required`: it would repeat the properties' names in every listing.
    schema.insert("properties".into(), Value::Object(properties));
    schema
}

fn resolve<'a>(root: &'a Map<String, Value>, node: &'a Value) -> &'a Value {
    node.get("$ref")
        .and_then(Value::as_str)
        .and_then(|r| r.strip_prefix("#/$defs/"))
        .and_then(|name| root.get("$defs")?.get(name))
        .unwrap_or(node)
}

/// The JSON types a node admits, or the exact values of an enumeration.
fn shape_of(root: &Map<String, Value>, node: &Value) -> (Vec<String>, Option<Vec<Value>>) {
    let node = resolve(root, node);
    if let Some(branches) = node
        .get("anyOf")
        .or_else(|| node.get("oneOf"))
        .and_then(Value::as_array)
    {
        let mut types = Vec::new();
        let mut values: Option<Vec<Value>> = Some(Vec::new());
        for branch in branches {
            let (branch_types, branch_values) = shape_of(root, branch);
            match (branch_values, &mut values) {
                (Some(v), Some(all)) => all.extend(v),
                (None, Some(_)) if branch_types == ["null"] => {
                    if let Some(all) = values.as_mut() {
                        all.push(Value::Null);
                    }
                }
                _ => values = None,
            }
            for t in branch_types {
                if !types.contains(&t) {
                    types.push(t);
                }
            }
        }
        return (types, values.filter(|v| v.iter().any(|x| !x.is_null())));
    }
    if let Some(value) = node.get("const") {
        return (Vec::new(), Some(vec![value.clone()]));
    }
    if let Some(values) = node.get("enum").and_then(Value::as_array) {
        return (Vec::new(), Some(values.clone()));
    }
    let types = match node.get("type") {
        Some(Value::String(t)) => vec![t.clone()],
        Some(Value::Array(ts)) => ts
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect(),
        _ => Vec::new(),
    };
    (types, None)
}

/// Drops annotations a client does not need and folds `[T, "null"]` into `T`.
pub(crate) fn strip(node: &Map<String, Value>) -> Map<String, Value> {
    let mut out = Map::new();
    for (key, value) in node {
        match key.as_str() {
            "title" | "format" | "$schema" => {}
            "type" => {
                let folded = match value {
                    Value::Array(types)
                        if types.len() == 2 && types.contains(&Value::from("null")) =>
                    {
                        types
                            .iter()
                            .find(|t| *t != "null")
                            .cloned()
                            .unwrap_or(Value::Null)
                    }
                    other => other.clone(),
                };
                out.insert(key.clone(), folded);
            }
            "properties" | "$defs" => {
                let children = value
                    .as_object()
                    .map(|m| m.iter().map(|(k, v)| (k.clone(), strip_value(v))).collect())
                    .unwrap_or_default();
                out.insert(key.clone(), Value::Object(children));
            }
            _ => {
                out.insert(key.clone(), strip_value(value));
            }
        }
    }
    out
}

fn strip_value(value: &Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(strip(map)),
        Value::Array(items) => Value::Array(items.iter().map(strip_value).collect()),
        other => other.clone(),
    }
}

/// Removes a top-level property's `default` when its description names it already
/// (`concise (default) or full.`).
fn drop_described_defaults(schema: &mut Map<String, Value>) {
    if let Some(Value::Object(properties)) = schema.get_mut("properties") {
        for property in properties.values_mut() {
            if let Value::Object(field) = property {
                let described = field
                    .get("description")
                    .and_then(Value::as_str)
                    .is_some_and(|d| d.contains("(default)"));
                if described {
                    field.remove("default");
                }
            }
        }
    }
}

/// Removes `"default": false` from boolean fields: an absent flag is false, so saying so on
/// each of the thirty flags only lengthens the listing.
fn drop_false_defaults(node: &mut Map<String, Value>) {
    if node.get("type") == Some(&Value::from("boolean"))
        && node.get("default") == Some(&Value::Bool(false))
    {
        node.remove("default");
    }
    for (key, child) in node.iter_mut() {
        match (key.as_str(), child) {
            ("properties" | "$defs", Value::Object(children)) => {
                for grandchild in children.values_mut() {
                    if let Value::Object(field) = grandchild {
                        drop_false_defaults(field);
                    }
                }
            }
            (_, Value::Object(field)) => drop_false_defaults(field),
            _ => {}
        }
    }
}

/// Removes `$defs` entries that nothing refers to any more.
fn prune_definitions(schema: &mut Map<String, Value>) {
    loop {
        let Some(Value::Object(defs)) = schema.get("$defs") else {
            return;
        };
        let text = Value::Object(schema.clone()).to_string();
        let unused: Vec<String> = defs
            .keys()
            .filter(|name| !text.contains(&format!("\"#/$defs/{name}\"")))
            .cloned()
            .collect();
        if unused.is_empty() {
            break;
        }
        if let Some(Value::Object(defs)) = schema.get_mut("$defs") {
            for name in unused {
                defs.remove(&name);
            }
        }
    }
    if schema
        .get("$defs")
        .and_then(Value::as_object)
        .is_some_and(Map::is_empty)
    {
        schema.remove("$defs");
    }
}

//! The schemas a client sees. The full schemas that schemars derives from the argument and
//! result types are what arguments are validated against; what `tools/list` advertises is a
//! compact form of them, because every byte of `tools/list` is read by a model on every
//! session:
//! - input: the same fields, types, ranges, enums and descriptions, without the `title` and
//!   `format` annotations, `null` folded into "omit the field" (the validation schema folds it
//!   too, so what is advertised is what is enforced), words written
//!   as an `enum` rather than a `oneOf` of described constants, and another tool's arguments
//!   (scaling_report's `system`, …) named by reference (`x-tool-arguments`) instead of
//!   repeated. Flags and lists say nothing of their default: an absent boolean is false, an
//!   absent list empty.
//! - output: an object that carries `summary`, `missing_inputs` and `sources`; the rest of a
//!   result's shape is documented by the contract, the tool's description and the result.
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
    for_each_node(node, bound_free_text);
}

/// The advertised input schema for `full`; `nested` maps a property to the tool whose
/// arguments it carries, `named` lists properties whose description names their fields.
pub(crate) fn advertised_input(
    full: &Map<String, Value>,
    nested: &[(&str, &str)],
    named: &[&str],
) -> Map<String, Value> {
    let mut schema = strip(full);
    drop_empty_defaults(&mut schema);
    if let Some(Value::Object(properties)) = schema.get_mut("properties") {
        for property in named {
            if let Some(Value::Object(field)) = properties.get_mut(*property) {
                let mut object = Map::new();
                object.insert("type".into(), Value::from("object"));
                if let Some(description) = field.get("description") {
                    object.insert("description".into(), description.clone());
                }
                *field = object;
            }
        }
        for (property, tool) in nested {
            if let Some(Value::Object(field)) = properties.get_mut(*property) {
                let description = field
                    .get("description")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string();
                let mut reference = Map::new();
                reference.insert("type".into(), Value::from("object"));
                let named = description.contains(&format!("`{tool}`"));
                let description = if named {
                    description.trim().to_string()
                } else {
                    format!("{} Arguments of `{tool}`.", description.trim())
                };
                reference.insert("description".into(), Value::from(description));
                // A machine-readable pointer for clients that generate arguments from schemas.
                reference.insert("x-tool-arguments".into(), Value::from(*tool));
                *field = reference;
            }
        }
    }
    fold_optional_objects(&mut schema);
    constants_as_words(&mut schema);
    inline_word_lists(&mut schema);
    drop_described_defaults(&mut schema);
    prune_definitions(&mut schema);
    inline_single_uses(&mut schema);
    open_nested_objects(&mut schema);
    schema
}

/// Writes a property whose type is a list of words (`detail`, `cloud`, `kind`) in place,
/// with the property's own description, instead of a `$ref` to a definition that repeats
/// the type's doc comment. The list of words says the type.
fn inline_word_lists(schema: &mut Map<String, Value>) {
    let definitions = schema.get("$defs").and_then(Value::as_object).cloned();
    if let Some(definitions) = definitions {
        inline_words_in(schema, &definitions);
    }
}

fn inline_words_in(node: &mut Map<String, Value>, definitions: &Map<String, Value>) {
    if let Some(Value::Object(properties)) = node.get_mut("properties") {
        for property in properties.values_mut() {
            let Value::Object(field) = property else {
                continue;
            };
            let words = field
                .get("$ref")
                .and_then(Value::as_str)
                .and_then(|r| r.strip_prefix("#/$defs/"))
                .and_then(|name| definitions.get(name))
                .filter(|d| d.get("enum").is_some() && d.get("type") == Some(&"string".into()))
                .and_then(|d| d.get("enum"))
                .cloned();
            if let Some(words) = words
                && field.get("description").is_some()
            {
                field.remove("$ref");
                field.insert("enum".into(), words);
            }
        }
    }
    for (key, child) in node.iter_mut() {
        match (key.as_str(), child) {
            ("properties" | "$defs", Value::Object(children)) => {
                for grandchild in children.values_mut() {
                    if let Value::Object(field) = grandchild {
                        inline_words_in(field, definitions);
                    }
                }
            }
            ("items", Value::Object(field)) => inline_words_in(field, definitions),
            _ => {}
        }
    }
}

/// The fields every result carries (contract §6 and the cited sources), which the advertised
/// output schema requires of each tool that has them.
const ENVELOPE: [&str; 3] = ["summary", "missing_inputs", "sources"];

/// The advertised output schema: an object that carries the fields of [`ENVELOPE`] that the
/// result type has. The rest of a result's shape is the contract's and the tool
/// description's; listing it here cost 3,100 bytes of `tools/list` (issue 12: nine tools in
/// 18,432 bytes), read on every session by clients that, in the main, hand the model only
/// the input schema.
pub(crate) fn advertised_output(full: &Map<String, Value>) -> Map<String, Value> {
    let mut schema = Map::new();
    schema.insert("type".into(), Value::from("object"));
    let fields = full.get("properties").and_then(Value::as_object);
    let required: Vec<Value> = ENVELOPE
        .into_iter()
        .filter(|name| fields.is_some_and(|f| f.contains_key(*name)))
        .map(Value::from)
        .collect();
    if !required.is_empty() {
        schema.insert("required".into(), Value::Array(required));
    }
    schema
}

/// The result's top-level fields and their JSON types (null where the type admits it; a
/// field that only `detail: full` or a cut list carries, such as `truncated`, may be absent):
/// what `scale-advisor tools --json` prints as `resultFields` and the tests check results
/// against. Not advertised in `tools/list` (see [`advertised_output`]).
pub(crate) fn result_fields(full: &Map<String, Value>) -> Map<String, Value> {
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
                // A list that is never null: its plural name says it.
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

/// The schema arguments are validated against: the derived one without annotations, `null`
/// folded into "omit the field" for plain types and optional objects alike, so that what is
/// advertised is what is enforced.
pub(crate) fn validation(full: &Map<String, Value>) -> Map<String, Value> {
    let mut schema = strip(full);
    fold_optional_objects(&mut schema);
    schema
}

/// Drops annotations a client does not need and folds `[T, "null"]` into `T`.
pub(crate) fn strip(node: &Map<String, Value>) -> Map<String, Value> {
    let mut out = Map::new();
    for (key, value) in node {
        match key.as_str() {
            "title" | "format" | "$schema" => {}
            // A doc comment of several lines is one sentence to a reader.
            "description" if value.is_string() => {
                let text = value.as_str().unwrap_or_default().replace('\n', " ");
                out.insert(key.clone(), Value::from(text));
            }
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

/// Removes `"default": false` from flags and `"default": []` from lists: an absent flag is
/// false and an absent list empty, so saying so on each of them only lengthens the listing.
fn drop_empty_defaults(node: &mut Map<String, Value>) {
    let empty = match node.get("default") {
        Some(Value::Bool(false)) => node.get("type") == Some(&Value::from("boolean")),
        Some(Value::Array(items)) => items.is_empty(),
        _ => false,
    };
    if empty {
        node.remove("default");
    }
    for_each_node(node, drop_empty_defaults);
}

/// Writes an optional object (`anyOf: [{$ref}, {type: null}]`) as the object alone: leaving
/// the field out says "none", as it does for every other optional argument.
fn fold_optional_objects(node: &mut Map<String, Value>) {
    let folded = node
        .get("anyOf")
        .and_then(Value::as_array)
        .filter(|branches| branches.len() == 2)
        .and_then(|branches| {
            let null = Value::from("null");
            let is_null = |b: &Value| {
                b.get("type") == Some(&null) && b.as_object().is_some_and(|m| m.len() == 1)
            };
            match (is_null(&branches[0]), is_null(&branches[1])) {
                (false, true) => branches[0].as_object().cloned(),
                (true, false) => branches[1].as_object().cloned(),
                _ => None,
            }
        });
    if let Some(branch) = folded {
        node.remove("anyOf");
        for (key, value) in branch {
            node.entry(key).or_insert(value);
        }
    }
    for_each_node(node, fold_optional_objects);
}

/// Writes a `oneOf` of string constants (a word list whose words carry doc comments) as an
/// `enum` of its words; the field's own description says what they mean.
fn constants_as_words(node: &mut Map<String, Value>) {
    let words: Option<Vec<Value>> =
        node.get("oneOf")
            .and_then(Value::as_array)
            .and_then(|branches| {
                branches
                    .iter()
                    .map(|b| b.get("const").filter(|c| c.is_string()).cloned())
                    .collect()
            });
    if let Some(words) = words {
        node.remove("oneOf");
        node.insert("type".into(), Value::from("string"));
        node.insert("enum".into(), Value::Array(words));
    }
    for_each_node(node, constants_as_words);
}

/// Applies `visit` to every schema below `node`: properties, definitions, items and branches.
fn for_each_node(node: &mut Map<String, Value>, visit: fn(&mut Map<String, Value>)) {
    for (key, child) in node.iter_mut() {
        match (key.as_str(), child) {
            ("properties" | "$defs", Value::Object(children)) => {
                for grandchild in children.values_mut() {
                    if let Value::Object(field) = grandchild {
                        visit(field);
                    }
                }
            }
            (_, Value::Object(field)) => visit(field),
            (_, Value::Array(items)) => {
                for item in items {
                    if let Value::Object(field) = item {
                        visit(field);
                    }
                }
            }
            _ => {}
        }
    }
}

/// Writes a definition that one place refers to in that place, so that a reader need not
/// look it up; the place's own description is kept over the definition's.
fn inline_single_uses(schema: &mut Map<String, Value>) {
    loop {
        let text = Value::Object(schema.clone()).to_string();
        let single = schema
            .get("$defs")
            .and_then(Value::as_object)
            .and_then(|defs| {
                defs.iter()
                    .find(|(name, _)| text.matches(&format!("\"#/$defs/{name}\"")).count() == 1)
            })
            .map(|(name, definition)| (name.clone(), definition.clone()));
        let Some((name, definition)) = single else {
            break;
        };
        let reference = Value::from(format!("#/$defs/{name}"));
        if let Some(Value::Object(defs)) = schema.get_mut("$defs") {
            defs.remove(&name);
        }
        replace_reference(schema, &reference, &definition);
    }
    if schema
        .get("$defs")
        .and_then(Value::as_object)
        .is_some_and(Map::is_empty)
    {
        schema.remove("$defs");
    }
}

fn replace_reference(node: &mut Map<String, Value>, reference: &Value, definition: &Value) {
    if node.get("$ref") == Some(reference) {
        node.remove("$ref");
        if let Value::Object(fields) = definition {
            for (key, value) in fields {
                node.entry(key.clone()).or_insert_with(|| value.clone());
            }
        }
        return;
    }
    for child in node.values_mut() {
        match child {
            Value::Object(field) => replace_reference(field, reference, definition),
            Value::Array(items) => {
                for item in items {
                    if let Value::Object(field) = item {
                        replace_reference(field, reference, definition);
                    }
                }
            }
            _ => {}
        }
    }
}

/// Removes `additionalProperties: false` below the top level: the top level says the tool
/// takes no other arguments, and a nested object with a field it does not know is refused with
/// that field's name and the accepted ones all the same.
fn open_nested_objects(schema: &mut Map<String, Value>) {
    fn open(node: &mut Map<String, Value>) {
        node.remove("additionalProperties");
        for_each_node(node, open);
    }
    for_each_node(schema, open);
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

/// Gives a tool that takes metrics the `observe` argument of contract §9 (checked by
/// `observed::request_of`, not by the validation schema, since it is taken out of the
/// arguments before they are read) and the fields its result then carries.
pub(crate) fn add_observe(input: &mut Map<String, Value>, result_fields: &mut Map<String, Value>) {
    if let Some(Value::Object(properties)) = input.get_mut("properties") {
        properties.insert(
            crate::observed::OBSERVE.into(),
            serde_json::json!({
                "type": ["boolean", "object"],
                "description": "true, or {selector, window_days}: fill the metrics not given from the live system (observe_system); given ones win.",
            }),
        );
    }
    if let Some(Value::Object(properties)) = result_fields.get_mut("properties") {
        for field in ["observed", "connections"] {
            properties.insert(field.into(), Value::Object(Map::new()));
        }
        properties.insert(
            "observed_history".into(),
            serde_json::json!({"type": ["object", "null"]}),
        );
    }
}

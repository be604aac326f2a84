//! What every tool result must be, whatever the input: valid against the tool's own output
//! schema (types, required and unknown properties, enums), and free of non-finite numbers. JSON
//! has no infinity: `serde_json` turns an `f64` that overflowed into `null`, so a `null` where
//! the schema wants a number is how an overflow shows; in markdown it shows as `inf` or `NaN`.
//!
//! Depends on `serde_json` only, so that the fuzz targets, the regression tests and the
//! end-to-end battery can all include this one file.

use serde_json::{Map, Value};

/// Checks `value` against `schema` (a root schema whose `$ref`s point into its `$defs`).
pub fn conforms(schema: &Map<String, Value>, value: &Value) -> Result<(), String> {
    Walk { root: schema }.check(schema, value, "result")
}

/// Checks that markdown shows no non-finite number as Rust writes one (`inf`, `-inf`, `NaN`),
/// unless the caller's own strings (in `arguments`) hold that word and it is merely repeated.
pub fn finite_text(text: &str, arguments: &Value) -> Result<(), String> {
    let echoed = |word: &str| strings(arguments).iter().any(|s| s.contains(word));
    let bad = text
        .split(|c: char| !c.is_ascii_alphanumeric())
        .find(|word| matches!(*word, "inf" | "NaN") && !echoed(word));
    match bad {
        Some(word) => Err(format!("the markdown shows the non-finite number `{word}`")),
        None => Ok(()),
    }
}

fn strings(value: &Value) -> Vec<&str> {
    match value {
        Value::String(s) => vec![s.as_str()],
        Value::Array(items) => items.iter().flat_map(strings).collect(),
        Value::Object(object) => object
            .iter()
            .flat_map(|(k, v)| std::iter::once(k.as_str()).chain(strings(v)))
            .collect(),
        _ => Vec::new(),
    }
}

struct Walk<'a> {
    root: &'a Map<String, Value>,
}

fn shown(value: &Value) -> String {
    let text = value.to_string();
    if text.len() <= 80 {
        return text;
    }
    let cut = (0..=77)
        .rev()
        .find(|&i| text.is_char_boundary(i))
        .unwrap_or(0);
    format!("{}...", &text[..cut])
}

fn type_matches(kind: &str, value: &Value) -> bool {
    match kind {
        "null" => value.is_null(),
        "boolean" => value.is_boolean(),
        "string" => value.is_string(),
        "array" => value.is_array(),
        "object" => value.is_object(),
        "number" => value.is_number(),
        "integer" => value.is_i64() || value.is_u64(),
        _ => true,
    }
}

impl<'a> Walk<'a> {
    fn resolve(&self, node: &'a Map<String, Value>) -> &'a Map<String, Value> {
        let reference = node.get("$ref").and_then(Value::as_str);
        let target = reference.and_then(|r| {
            let name = r
                .strip_prefix("#/$defs/")
                .or_else(|| r.strip_prefix("#/definitions/"))?;
            self.root
                .get("$defs")
                .or_else(|| self.root.get("definitions"))?
                .get(name)?
                .as_object()
        });
        target.unwrap_or(node)
    }

    fn check(&self, node: &'a Map<String, Value>, value: &Value, path: &str) -> Result<(), String> {
        let node = self.resolve(node);
        if let Some(branches) = node
            .get("anyOf")
            .or_else(|| node.get("oneOf"))
            .and_then(Value::as_array)
        {
            let mut problems = Vec::new();
            for branch in branches.iter().filter_map(Value::as_object) {
                match self.check(branch, value, path) {
                    Ok(()) => return Ok(()),
                    Err(problem) => problems.push(problem),
                }
            }
            return Err(format!(
                "{path}: {} fits none of the alternatives ({})",
                shown(value),
                problems.join("; ")
            ));
        }
        if let Some(all) = node.get("allOf").and_then(Value::as_array) {
            for part in all.iter().filter_map(Value::as_object) {
                self.check(part, value, path)?;
            }
        }
        if let Some(expected) = node.get("const")
            && expected != value
        {
            return Err(format!(
                "{path}: {} is not the constant {expected}",
                shown(value)
            ));
        }
        if let Some(allowed) = node.get("enum").and_then(Value::as_array)
            && !allowed.contains(value)
        {
            return Err(format!(
                "{path}: {} is not one of {}",
                shown(value),
                Value::Array(allowed.clone())
            ));
        }
        let types: Vec<&str> = match node.get("type") {
            Some(Value::String(kind)) => vec![kind.as_str()],
            Some(Value::Array(kinds)) => kinds.iter().filter_map(Value::as_str).collect(),
            _ => Vec::new(),
        };
        if !types.is_empty() && !types.iter().any(|kind| type_matches(kind, value)) {
            let overflow =
                if value.is_null() && types.iter().any(|k| matches!(*k, "number" | "integer")) {
                    " (a number that overflowed to infinity or NaN is written as null)"
                } else {
                    ""
                };
            return Err(format!(
                "{path}: expected {}, found {}{overflow}",
                types.join(" or "),
                shown(value)
            ));
        }
        match value {
            Value::Number(number) if number.as_f64().is_some_and(|x| !x.is_finite()) => {
                return Err(format!("{path}: the number {number} is not finite"));
            }
            Value::Array(items) => {
                if let Some(item) = node.get("items").and_then(Value::as_object) {
                    for (i, element) in items.iter().enumerate() {
                        self.check(item, element, &format!("{path}[{i}]"))?;
                    }
                }
            }
            Value::Object(object) => self.check_object(node, object, path)?,
            _ => {}
        }
        Ok(())
    }

    fn check_object(
        &self,
        node: &'a Map<String, Value>,
        object: &Map<String, Value>,
        path: &str,
    ) -> Result<(), String> {
        let properties = node.get("properties").and_then(Value::as_object);
        for name in node
            .get("required")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
        {
            if !object.contains_key(name) {
                return Err(format!("{path}: the required property `{name}` is missing"));
            }
        }
        let extra = node.get("additionalProperties");
        for (key, element) in object {
            let field = format!("{path}.{key}");
            match properties
                .and_then(|p| p.get(key))
                .and_then(Value::as_object)
            {
                Some(property) => self.check(property, element, &field)?,
                None => match extra {
                    Some(Value::Bool(false)) => {
                        return Err(format!("{field}: a property the schema does not declare"));
                    }
                    Some(Value::Object(schema)) => self.check(schema, element, &field)?,
                    _ => {}
                },
            }
        }
        Ok(())
    }
}

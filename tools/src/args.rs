//! Turning a JSON argument object into a tool's typed arguments, with refusals that a model can
//! act on. The tool's own `inputSchema` is the single source of truth: the same schema that is
//! advertised is enforced here (types, ranges, enums, unknown and missing fields), so the two
//! cannot drift apart. Every refusal names the field, the value received and what is accepted.

use std::fmt;

use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

/// A refused argument: which field, what came, what is accepted, and the field that was
/// probably meant when the name is unknown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArgError {
    pub field: String,
    pub received: String,
    pub expected: String,
    pub closest: Option<String>,
}

impl std::error::Error for ArgError {}

impl fmt::Display for ArgError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "invalid argument `{}`: received {}; expected {}.",
            self.field, self.received, self.expected
        )?;
        if let Some(closest) = &self.closest {
            write!(f, " Did you mean `{closest}`?")?;
        }
        Ok(())
    }
}

impl ArgError {
    /// A refusal of `field`, which holds `received`.
    pub fn new(field: &str, received: impl Into<String>, expected: impl Into<String>) -> Self {
        Self {
            field: field.to_string(),
            received: received.into(),
            expected: expected.into(),
            closest: None,
        }
    }

    /// A refusal of a value, shown as JSON.
    pub fn value(field: &str, value: &Value, expected: impl Into<String>) -> Self {
        Self::new(field, show(value), expected)
    }

    /// A refusal of a number.
    pub fn number(field: &str, value: f64, expected: impl Into<String>) -> Self {
        Self::new(field, format_number(value), expected)
    }

    pub(crate) fn internal(message: &str) -> Self {
        Self::new(
            "(server)",
            "an internal error",
            format!("no error; please report: {message}"),
        )
    }
}

/// A number as a person writes it: no trailing `.0`.
pub fn format_number(value: f64) -> String {
    Number(value).to_string()
}

/// A number as a person reads it (see [`format_number`]), written straight into a formatter.
pub(crate) struct Number(pub f64);

impl std::fmt::Display for Number {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let value = self.0;
        if value.fract() == 0.0 && value.abs() < 1e15 {
            // Exact as an integer below 1e15, and integer formatting is several times faster
            // than `{:.0}`, whose exact float path can fall back to big-number arithmetic.
            let whole = value as i64;
            if whole == 0 && value.is_sign_negative() {
                f.write_str("-0")
            } else {
                write!(f, "{whole}")
            }
        } else {
            write!(f, "{value}")
        }
    }
}

fn show(value: &Value) -> String {
    let kind = match value {
        Value::Null => return "null".into(),
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(s) if matches!(s.as_str(), "NaN" | "Infinity" | "-Infinity") => {
            return format!("{s} (not a finite number)");
        }
        // The transport quotes numbers beyond f64 (`1e400`) so that they reach the field.
        Value::String(s) if looks_numeric(s) && s.parse::<f64>().is_ok_and(f64::is_infinite) => {
            return format!(
                "{} (a number beyond the range of a finite number)",
                clip(s, 60)
            );
        }
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    };
    format!("`{}` ({kind})", clip(&value.to_string(), 60))
}

fn looks_numeric(text: &str) -> bool {
    text.bytes()
        .next()
        .is_some_and(|b| b == b'-' || b.is_ascii_digit())
}

/// `text` cut to at most `limit` bytes at a character boundary: a refusal quotes what it
/// received, but never a whole megabyte of it.
fn clip(text: &str, limit: usize) -> String {
    if text.len() <= limit {
        return text.to_string();
    }
    let cut = (0..=limit.saturating_sub(3))
        .rev()
        .find(|&i| text.is_char_boundary(i))
        .unwrap_or(0);
    format!("{}...", &text[..cut])
}

/// Checks `arguments` against `schema`, then deserializes them.
pub(crate) fn parse<T: DeserializeOwned>(
    schema: &Map<String, Value>,
    arguments: &Map<String, Value>,
) -> Result<T, ArgError> {
    let validator = Validator { root: schema };
    validator.check_object(schema, arguments, "")?;
    // Read straight from the borrowed map: no copy of the arguments per call.
    serde_path_to_error::deserialize::<_, T>(arguments).map_err(|e| {
        let field = e.path().to_string();
        ArgError::new(
            if field == "." { "arguments" } else { &field },
            "a value this tool cannot read",
            clip(&e.inner().to_string(), 300),
        )
    })
}

struct Validator<'a> {
    root: &'a Map<String, Value>,
}

/// An unknown object whose fields all belong where it was given, as when `forecast_growth`'s
/// growth arguments arrive wrapped in `growth` (the way `scaling_report` takes them): says
/// to give them without the wrapper.
fn fields_of_this_level(key: &str, value: &Value, known: &[&str]) -> Option<String> {
    let inner = value.as_object().filter(|inner| !inner.is_empty())?;
    if !inner.keys().all(|field| known.contains(&field.as_str())) {
        return None;
    }
    let fields: Vec<String> = inner
        .keys()
        .map(|field| format!("`{}`", clip(field, 60)))
        .collect();
    Some(format!(
        " (`{}` holds {}, fields of this level: give them without `{}` around them)",
        clip(key, 60),
        fields.join(", "),
        clip(key, 60)
    ))
}

fn join(path: &str, field: &str) -> String {
    if path.is_empty() {
        field.to_string()
    } else {
        format!("{path}.{field}")
    }
}

impl<'a> Validator<'a> {
    fn resolve(&self, node: &'a Map<String, Value>) -> &'a Map<String, Value> {
        let target = node
            .get("$ref")
            .and_then(Value::as_str)
            .and_then(|r| r.strip_prefix("#/$defs/"))
            .and_then(|name| self.root.get("$defs")?.get(name)?.as_object());
        target.unwrap_or(node)
    }

    fn check_object(
        &self,
        node: &'a Map<String, Value>,
        object: &Map<String, Value>,
        path: &str,
    ) -> Result<(), ArgError> {
        let node = self.resolve(node);
        let properties = node.get("properties").and_then(Value::as_object);
        let closed = node.get("additionalProperties") == Some(&Value::Bool(false));
        for (key, value) in object {
            // A top-level field is its own path: no string built per field of every call.
            let field: std::borrow::Cow<'_, str> = if path.is_empty() {
                key.as_str().into()
            } else {
                join(path, key).into()
            };
            match properties
                .and_then(|p| p.get(key))
                .and_then(Value::as_object)
            {
                Some(property) => self.check(property, value, &field)?,
                None if closed => {
                    let known: Vec<&str> = properties
                        .map(|p| p.keys().map(String::as_str).collect())
                        .unwrap_or_default();
                    let mut error = ArgError::new(
                        &clip(&field, 120),
                        format!("an unknown field ({})", show(value)),
                        format!("only the fields {}", known.join(", ")),
                    );
                    error.closest = knowledge::closest(key, known.iter().copied())
                        .map(str::to_string)
                        .or_else(|| self.field_one_level_down(properties?, key))
                        .or_else(|| self.field_of_the_top_level(path, key));
                    if error.closest.is_none()
                        && let Some(hint) = fields_of_this_level(key, value, &known)
                    {
                        error.expected.push_str(&hint);
                    }
                    return Err(error);
                }
                None => {}
            }
        }
        if let Some(required) = node.get("required").and_then(Value::as_array) {
            for name in required.iter().filter_map(Value::as_str) {
                if !object.contains_key(name) {
                    let expected = properties
                        .and_then(|p| p.get(name))
                        .and_then(Value::as_object)
                        .map(|p| self.describe(p))
                        .unwrap_or_else(|| "a value".into());
                    return Err(ArgError::new(
                        &join(path, name),
                        "nothing (the field is required)",
                        expected,
                    ));
                }
            }
        }
        Ok(())
    }

    /// `object.key` when `key` is no field of this level but is one of an object beside it
    /// (`db_cpu_pct` given to `scaling_report`, whose metrics go in `system`); every such
    /// object, joined for the "Did you mean" line.
    fn field_one_level_down(
        &self,
        properties: &'a Map<String, Value>,
        key: &str,
    ) -> Option<String> {
        let places: Vec<String> = properties
            .iter()
            .filter(|(_, property)| {
                property
                    .as_object()
                    .and_then(|property| self.resolve(property).get("properties"))
                    .and_then(Value::as_object)
                    .is_some_and(|inner| inner.contains_key(key))
            })
            .map(|(name, _)| format!("{name}.{}", clip(key, 60)))
            .collect();
        (!places.is_empty()).then(|| places.join("` or `"))
    }

    /// `key`, a path from the top like every field named in a refusal, when the object at
    /// `path` has no such field but the arguments' top level has (`system.growth` given to
    /// `scaling_report`, whose `growth` sits beside `system`).
    fn field_of_the_top_level(&self, path: &str, key: &str) -> Option<String> {
        let top = self.root.get("properties").and_then(Value::as_object)?;
        (!path.is_empty() && top.contains_key(key)).then(|| clip(key, 60))
    }

    fn check(
        &self,
        node: &'a Map<String, Value>,
        value: &Value,
        field: &str,
    ) -> Result<(), ArgError> {
        let node = self.resolve(node);
        if let Some(branches) = node
            .get("anyOf")
            .or_else(|| node.get("oneOf"))
            .and_then(Value::as_array)
        {
            let branches: Vec<&Map<String, Value>> = branches
                .iter()
                .filter_map(Value::as_object)
                .map(|b| self.resolve(b))
                .collect();
            if value.is_null()
                && branches
                    .iter()
                    .any(|b| b.get("type") == Some(&Value::from("null")))
            {
                return Ok(());
            }
            let consts: Vec<&Value> = branches.iter().filter_map(|b| b.get("const")).collect();
            if !consts.is_empty() {
                if consts.contains(&value) {
                    return Ok(());
                }
                return Err(ArgError::value(field, value, self.describe(node)));
            }
            let first = branches
                .into_iter()
                .find(|b| b.get("type") != Some(&Value::from("null")));
            return match first {
                Some(branch) => self.check(branch, value, field),
                None => Ok(()),
            };
        }
        if !type_allows(node.get("type"), value) {
            return Err(ArgError::value(field, value, self.describe(node)));
        }
        if let Some(allowed) = node.get("enum").and_then(Value::as_array)
            && !allowed.contains(value)
        {
            let mut error = ArgError::value(field, value, self.describe(node));
            // A word one slip away from an accepted one (`cach`, `split-brain`) is named, and
            // so is the word a named product goes under (`x-products`: `redis-cluster`).
            error.closest = value.as_str().and_then(|text| {
                knowledge::closest(text, allowed.iter().filter_map(Value::as_str))
                    .map(str::to_string)
                    .or_else(|| product_word(node, text))
            });
            return Err(error);
        }
        match value {
            Value::Number(n) => {
                let x = n.as_f64().unwrap_or(f64::NAN);
                let below = |key| node.get(key).and_then(Value::as_f64).is_some_and(|m| x < m);
                let at_or_below = |key| {
                    node.get(key)
                        .and_then(Value::as_f64)
                        .is_some_and(|m| x <= m)
                };
                let above = |key| node.get(key).and_then(Value::as_f64).is_some_and(|m| x > m);
                let at_or_above = |key| {
                    node.get(key)
                        .and_then(Value::as_f64)
                        .is_some_and(|m| x >= m)
                };
                if !x.is_finite()
                    || below("minimum")
                    || at_or_below("exclusiveMinimum")
                    || above("maximum")
                    || at_or_above("exclusiveMaximum")
                {
                    return Err(ArgError::value(field, value, self.describe(node)));
                }
            }
            Value::Array(items) => {
                if let Some(item) = node.get("items").and_then(Value::as_object) {
                    for (i, element) in items.iter().enumerate() {
                        self.check(item, element, &format!("{field}[{i}]"))?;
                    }
                }
            }
            Value::Object(object) => self.check_object(node, object, field)?,
            Value::String(text) => {
                // A character is at least a byte: a string within the limit in bytes is
                // within it in characters, without counting them.
                if let Some(max) = node.get("maxLength").and_then(Value::as_u64)
                    && text.len() as u64 > max
                {
                    let length = text.chars().count() as u64;
                    if length > max {
                        return Err(ArgError::new(
                            field,
                            format!(
                                "a string of {length} characters, starting `{}`",
                                clip(text, 40)
                            ),
                            self.describe(node),
                        ));
                    }
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// What a schema node accepts, in words, with the field's description.
    fn describe(&self, node: &'a Map<String, Value>) -> String {
        let node = self.resolve(node);
        let mut text = self.accepts(node);
        if let Some(description) = node.get("description").and_then(Value::as_str) {
            let first = description
                .split(". ")
                .next()
                .unwrap_or(description)
                .trim_end_matches('.');
            text.push_str(&format!(" ({first})"));
        }
        text
    }

    fn accepts(&self, node: &'a Map<String, Value>) -> String {
        if let Some(branches) = node
            .get("anyOf")
            .or_else(|| node.get("oneOf"))
            .and_then(Value::as_array)
        {
            let consts: Vec<String> = branches
                .iter()
                .filter_map(|b| b.get("const"))
                .map(|c| c.as_str().map_or(c.to_string(), str::to_string))
                .collect();
            if !consts.is_empty() {
                return format!("one of {}", consts.join(", "));
            }
            let parts: Vec<String> = branches
                .iter()
                .filter_map(Value::as_object)
                .map(|b| self.resolve(b))
                .filter(|b| b.get("type") != Some(&Value::from("null")))
                .map(|b| self.accepts(b))
                .collect();
            return parts.join(" or ");
        }
        if let Some(allowed) = node.get("enum").and_then(Value::as_array) {
            let names: Vec<String> = allowed
                .iter()
                .map(|c| c.as_str().map_or(c.to_string(), str::to_string))
                .collect();
            return format!("one of {}", names.join(", "));
        }
        let types: Vec<&str> = match node.get("type") {
            Some(Value::String(t)) => vec![t.as_str()],
            Some(Value::Array(ts)) => ts
                .iter()
                .filter_map(Value::as_str)
                .filter(|t| *t != "null")
                .collect(),
            _ => vec![],
        };
        match types.first().copied() {
            Some("boolean") => "true or false".into(),
            Some("string") => match node.get("maxLength").and_then(Value::as_u64) {
                Some(max) => format!("a string of at most {max} characters"),
                None => "a string".into(),
            },
            Some("object") => "an object".into(),
            Some("array") => match node.get("items").and_then(Value::as_object) {
                Some(item) => format!("a list of {}", self.accepts(item)),
                None => "a list".into(),
            },
            Some(kind @ ("number" | "integer")) => {
                let noun = if kind == "integer" {
                    "a whole number"
                } else {
                    "a finite number"
                };
                let bound = |key: &str| node.get(key).and_then(Value::as_f64).map(format_number);
                match (
                    bound("minimum"),
                    bound("exclusiveMinimum"),
                    bound("maximum"),
                ) {
                    (Some(min), _, Some(max)) => format!("{noun} from {min} to {max}"),
                    (_, Some(min), Some(max)) => format!("{noun} above {min} and at most {max}"),
                    (Some(min), _, None) => format!("{noun} of at least {min}"),
                    (_, Some(min), None) => format!("{noun} above {min}"),
                    (None, None, Some(max)) => format!("{noun} of at most {max}"),
                    (None, None, None) => noun.into(),
                }
            }
            _ => "a value".into(),
        }
    }
}

/// The word of a word list that a product named in `text` goes under, from the node's
/// `x-products` map (`redis-cluster` holds `redis`, which goes under `cache`).
fn product_word(node: &Map<String, Value>, text: &str) -> Option<String> {
    let products = node.get("x-products")?.as_object()?;
    text.split(|c: char| !c.is_ascii_alphanumeric())
        .map(str::to_ascii_lowercase)
        .find_map(|word| products.get(&word).and_then(Value::as_str))
        .map(str::to_string)
}

fn type_allows(types: Option<&Value>, value: &Value) -> bool {
    let allows = |t: &str| match t {
        "null" => value.is_null(),
        "boolean" => value.is_boolean(),
        "string" => value.is_string(),
        "array" => value.is_array(),
        "object" => value.is_object(),
        "number" => value.is_number(),
        "integer" => value.is_i64() || value.is_u64(),
        _ => true,
    };
    match types {
        None => true,
        Some(Value::String(t)) => allows(t),
        Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).any(allows),
        Some(_) => true,
    }
}

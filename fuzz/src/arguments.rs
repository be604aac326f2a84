//! The `tool_arguments` target: arbitrary bytes become a JSON argument object for a tool, and
//! `Advisor::call` must either refuse it with an error that names the field, or answer with a
//! result that fits the tool's output schema, holds only finite numbers and is the same when
//! asked again.
//!
//! The first byte picks how the rest is read. Even: the rest is JSON text, given to every tool
//! (finds what a parser-level mutation reaches). Odd: the rest drives a generator that walks the
//! chosen tool's own `inputSchema` and picks, field by field, values that matter to arithmetic
//! (zero, the schema's bounds, 1e308, 2^64, subnormals, raw bit patterns), now and then one of
//! the wrong type or an unknown field. Raw JSON rarely spells a valid field name; the generator
//! does, so overflow through arithmetic is found in seconds instead of hours.
//!
//! "Only finite numbers" is checked on the typed result: `serde_json` writes an infinite `f64`
//! as `null` without a word, and the advertised output schemas are shallow (a nullable number
//! may be `null` for good reasons), so the JSON alone cannot tell. Each accepted call is run
//! again through the tool's `Tool::run` and its result serialized with [`FiniteCheck`].

use std::fmt;

use serde::ser::{self, Serialize};
use serde_json::{Map, Value, json};
use tools::{Advisor, CallError, Tool};

use super::oracle;

/// Runs one fuzz input. Panics exactly when a tool breaks a promise.
pub fn check(advisor: &Advisor, data: &[u8]) {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let tools = advisor.tools();
    if tools.is_empty() {
        return;
    }
    if mode.is_multiple_of(2) {
        let Ok(Value::Object(arguments)) = serde_json::from_slice::<Value>(rest) else {
            return;
        };
        for tool in tools {
            call_and_check(advisor, tool.name, &arguments);
        }
    } else {
        let tool = &tools[usize::from(mode / 2) % tools.len()];
        let mut source = Source(rest);
        let arguments = Generator {
            advisor,
            root: &tool.input_schema,
        }
        .object(&tool.input_schema, &mut source, 0);
        call_and_check(advisor, tool.name, &arguments);
    }
}

/// Calls `name` and checks what came back.
pub fn call_and_check(advisor: &Advisor, name: &str, arguments: &Map<String, Value>) {
    let shown = || Value::Object(arguments.clone()).to_string();
    match advisor.call(name, arguments) {
        Ok(output) => {
            let Some(tool) = advisor.tool(name) else {
                panic!("{name} answered but is not listed");
            };
            if let Err(problem) = oracle::conforms(&tool.output_schema, &output.structured) {
                panic!(
                    "{name}({}) broke its output schema: {problem}\nresult: {}",
                    shown(),
                    output.structured
                );
            }
            if let Err(problem) = typed_result_is_finite(advisor, name, arguments) {
                panic!("{name}({}): {problem}", shown());
            }
            if let Err(problem) =
                oracle::finite_text(&output.markdown, &Value::Object(arguments.clone()))
            {
                panic!(
                    "{name}({}): {problem}\nmarkdown: {}",
                    shown(),
                    output.markdown
                );
            }
            match advisor.call(name, arguments) {
                Ok(again) => assert!(
                    again == output,
                    "{name}({}) answered differently the second time",
                    shown()
                ),
                Err(error) => panic!(
                    "{name}({}) answered, then refused the same arguments: {error}",
                    shown()
                ),
            }
        }
        Err(CallError::Arguments(error)) => {
            let text = error.to_string();
            assert!(
                !error.field.is_empty() && !error.received.is_empty() && !error.expected.is_empty(),
                "{name}({}): a refusal that does not say what was wrong: {text}",
                shown()
            );
            assert!(
                error.field != "(server)",
                "{name}({}): an internal error: {text}",
                shown()
            );
            assert!(
                text.len() <= 4096,
                "{name}({}): a refusal of {} bytes",
                shown(),
                text.len()
            );
        }
        Err(error @ CallError::UnknownTool { .. }) => panic!("a listed tool is unknown: {error}"),
    }
}

/// The fuzz input, read a piece at a time; zeros once it runs out.
struct Source<'a>(&'a [u8]);

impl Source<'_> {
    fn byte(&mut self) -> u8 {
        match self.0.split_first() {
            Some((&first, rest)) => {
                self.0 = rest;
                first
            }
            None => 0,
        }
    }

    fn eight(&mut self) -> [u8; 8] {
        std::array::from_fn(|_| self.byte())
    }

    fn pick<'v, T>(&mut self, values: &'v [T]) -> &'v T {
        &values[usize::from(self.byte()) % values.len()]
    }
}

/// Numbers where arithmetic on a field goes wrong: bounds, overflow, underflow, precision.
const NUMBERS: [f64; 30] = [
    0.0,
    -0.0,
    5e-324,
    1e-308,
    1e-9,
    0.5,
    1.0,
    1.5,
    2.0,
    3.0,
    60.0,
    80.0,
    99.999_999,
    100.0,
    100.000_001,
    1000.0,
    1e6,
    1e9,
    1e12,
    1e15,
    9_007_199_254_740_993.0,
    1.8e19,
    1e100,
    1e200,
    1e300,
    1e308,
    f64::MAX,
    -1.0,
    -1e308,
    f64::MIN_POSITIVE,
];

/// Whole numbers at the edges of the integer types.
fn integer_edges() -> [Value; 16] {
    [
        json!(0),
        json!(1),
        json!(2),
        json!(3),
        json!(7),
        json!(100),
        json!(1024),
        json!(10_000),
        json!(u64::from(u32::MAX)),
        json!(1u64 << 53),
        json!((1u64 << 53) + 1),
        json!(i64::MAX),
        json!(1u64 << 63),
        json!(u64::MAX),
        json!(-1),
        json!(i64::MIN),
    ]
}

/// Values of the wrong kind for most fields, including what the stdio transport turns
/// `NaN`, `Infinity` and `1e400` into (strings).
fn strays() -> [Value; 12] {
    [
        Value::Null,
        json!(true),
        json!("x"),
        json!(""),
        json!("NaN"),
        json!("Infinity"),
        json!("1e400"),
        json!([]),
        json!([1, "a"]),
        json!({}),
        json!({"a": {"b": [null]}}),
        json!(1.5),
    ]
}

struct Generator<'a> {
    advisor: &'a Advisor,
    root: &'a Map<String, Value>,
}

impl<'a> Generator<'a> {
    fn resolve(&self, node: &'a Map<String, Value>) -> &'a Map<String, Value> {
        let target = node
            .get("$ref")
            .and_then(Value::as_str)
            .and_then(|r| r.strip_prefix("#/$defs/"))
            .and_then(|name| self.root.get("$defs")?.get(name)?.as_object());
        target.unwrap_or(node)
    }

    fn object(
        &self,
        node: &'a Map<String, Value>,
        source: &mut Source,
        depth: usize,
    ) -> Map<String, Value> {
        let node = self.resolve(node);
        let mut object = Map::new();
        if let Some(properties) = node.get("properties").and_then(Value::as_object) {
            for (name, property) in properties {
                // About half the fields are left out, as a caller would.
                if source.byte().is_multiple_of(2) {
                    continue;
                }
                if let Some(property) = property.as_object() {
                    object.insert(name.clone(), self.value(property, source, depth + 1));
                }
            }
        }
        if source.byte() == 0xff {
            let stray = source.pick(&strays()).clone();
            object.insert("no_such_field".into(), stray);
        }
        object
    }

    fn value(&self, node: &'a Map<String, Value>, source: &mut Source, depth: usize) -> Value {
        let node = self.resolve(node);
        // A property that carries another tool's arguments (scaling_report's `system`) names
        // that tool instead of repeating its schema.
        let nested = node.get("x-tool-arguments").and_then(Value::as_str);
        if let Some(tool) = nested.and_then(|name| self.advisor.tool(name))
            && depth < 6
            && !source.byte().is_multiple_of(16)
        {
            let generator = Generator {
                advisor: self.advisor,
                root: &tool.input_schema,
            };
            return Value::Object(generator.object(&tool.input_schema, source, depth));
        }
        if let Some(branches) = node
            .get("anyOf")
            .or_else(|| node.get("oneOf"))
            .and_then(Value::as_array)
        {
            let branches: Vec<&Map<String, Value>> =
                branches.iter().filter_map(Value::as_object).collect();
            if branches.is_empty() {
                return Value::Null;
            }
            let branch = *source.pick(&branches);
            return self.value(branch, source, depth);
        }
        // One value in sixteen is of the wrong kind.
        if source.byte().is_multiple_of(16) {
            return source.pick(&strays()).clone();
        }
        if let Some(allowed) = node.get("enum").and_then(Value::as_array)
            && !allowed.is_empty()
        {
            return source.pick(allowed).clone();
        }
        let kinds: Vec<&str> = match node.get("type") {
            Some(Value::String(kind)) => vec![kind.as_str()],
            Some(Value::Array(kinds)) => kinds
                .iter()
                .filter_map(Value::as_str)
                .filter(|k| *k != "null")
                .collect(),
            _ => vec!["number"],
        };
        let kind = kinds.first().copied().unwrap_or("null");
        let bound = |key: &str| node.get(key).and_then(Value::as_f64);
        match kind {
            "boolean" => Value::Bool(source.byte() % 2 == 1),
            "integer" => match source.byte() % 4 {
                0 => Value::from(u64::from_le_bytes(source.eight())),
                1 => Value::from(u64::from(source.byte())),
                2 => [bound("minimum"), bound("maximum")]
                    .into_iter()
                    .flatten()
                    .map(|b| json!(b as u64))
                    .next()
                    .unwrap_or(json!(1)),
                _ => source.pick(&integer_edges()).clone(),
            },
            "number" => {
                let number = match source.byte() % 4 {
                    0 => f64::from_le_bytes(source.eight()),
                    1 => {
                        // Somewhere inside the schema's range.
                        let low = bound("minimum")
                            .or(bound("exclusiveMinimum"))
                            .unwrap_or(0.0);
                        let high = bound("maximum")
                            .or(bound("exclusiveMaximum"))
                            .unwrap_or(1e6);
                        low + (high - low) * f64::from(source.byte()) / 255.0
                    }
                    2 => [
                        bound("minimum"),
                        bound("exclusiveMinimum"),
                        bound("maximum"),
                        bound("exclusiveMaximum"),
                    ]
                    .into_iter()
                    .flatten()
                    .nth(usize::from(source.byte() % 2))
                    .unwrap_or(0.0),
                    _ => *source.pick(&NUMBERS),
                };
                // JSON holds only finite numbers; a non-finite one arrives as a string.
                if number.is_finite() {
                    json!(number)
                } else {
                    json!(number.to_string())
                }
            }
            "string" => {
                let picked =
                    *source.pick(&["", "x", "none", "aws", "postgres", "cassandra", "a b"]);
                // Free text at its stated limit (two bytes a character, echoed into results)
                // and one past it; the same pick as before elsewhere, so that kept inputs
                // still read as they did.
                match (picked, node.get("maxLength").and_then(Value::as_u64)) {
                    ("a b", Some(max)) => json!("é".repeat(max.min(4096) as usize)),
                    ("none", Some(max)) => json!("x".repeat(max.min(4096) as usize + 1)),
                    _ => json!(picked),
                }
            }
            "array" => {
                let item = node.get("items").and_then(Value::as_object);
                let length = source.byte() % 4;
                let items = (0..length)
                    .map(|_| match item {
                        Some(item) if depth < 6 => self.value(item, source, depth + 1),
                        _ => source.pick(&strays()).clone(),
                    })
                    .collect();
                Value::Array(items)
            }
            "object" if depth < 6 => Value::Object(self.object(node, source, depth)),
            _ => Value::Null,
        }
    }
}

/// Runs an accepted call again through the tool's typed `run` and serializes the result with
/// [`FiniteCheck`]. The tools are those of the registry (`tools::with_tools!`).
fn typed_result_is_finite(
    advisor: &Advisor,
    name: &str,
    arguments: &Map<String, Value>,
) -> Result<(), String> {
    macro_rules! by_name {
        ($($tool:ty),* $(,)?) => {
            $(
                if <$tool as Tool>::NAME == name {
                    return run_finite::<$tool>(advisor, arguments);
                }
            )*
        };
    }
    tools::with_tools!(by_name);
    Err(format!("the tool `{name}` is not in the registry"))
}

fn run_finite<T: Tool>(advisor: &Advisor, arguments: &Map<String, Value>) -> Result<(), String> {
    // `observe` is answered before a tool's arguments are read (tools::observed), and a call
    // without a live source fills nothing: the typed run takes the rest.
    let mut arguments = arguments.clone();
    arguments.remove(tools::observed::OBSERVE);
    let args: T::Args = serde_json::from_value(Value::Object(arguments))
        .map_err(|e| format!("accepted arguments do not deserialize: {e}"))?;
    let output = T::run(advisor, args).map_err(|e| format!("accepted, then refused: {e}"))?;
    output
        .serialize(FiniteCheck {
            path: "result".into(),
        })
        .map_err(|NonFinite(problem)| format!("a non-finite number in the result: {problem}"))
}

/// A serializer that writes nothing and fails at the first infinite or NaN number, naming
/// where it sits in the result.
struct FiniteCheck {
    path: String,
}

#[derive(Debug)]
struct NonFinite(String);

impl fmt::Display for NonFinite {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for NonFinite {}

impl ser::Error for NonFinite {
    fn custom<T: fmt::Display>(message: T) -> Self {
        Self(message.to_string())
    }
}

impl FiniteCheck {
    fn number(self, value: f64) -> Result<(), NonFinite> {
        if value.is_finite() {
            Ok(())
        } else {
            Err(NonFinite(format!("{} = {value}", self.path)))
        }
    }
    fn compound(self) -> Compound {
        Compound {
            path: self.path,
            index: 0,
        }
    }
}

/// The parts of a sequence, map or struct, each checked under its own path.
struct Compound {
    path: String,
    index: usize,
}

impl Compound {
    fn next<T: ?Sized + Serialize>(&mut self, value: &T) -> Result<(), NonFinite> {
        let path = format!("{}[{}]", self.path, self.index);
        self.index += 1;
        value.serialize(FiniteCheck { path })
    }
    fn field<T: ?Sized + Serialize>(&mut self, key: &str, value: &T) -> Result<(), NonFinite> {
        value.serialize(FiniteCheck {
            path: format!("{}.{key}", self.path),
        })
    }
}

macro_rules! accept {
    ($($method:ident: $kind:ty),* $(,)?) => {
        $(fn $method(self, _: $kind) -> Result<(), NonFinite> { Ok(()) })*
    };
}

impl ser::Serializer for FiniteCheck {
    type Ok = ();
    type Error = NonFinite;
    type SerializeSeq = Compound;
    type SerializeTuple = Compound;
    type SerializeTupleStruct = Compound;
    type SerializeTupleVariant = Compound;
    type SerializeMap = Compound;
    type SerializeStruct = Compound;
    type SerializeStructVariant = Compound;

    accept!(
        serialize_bool: bool, serialize_i8: i8, serialize_i16: i16, serialize_i32: i32,
        serialize_i64: i64, serialize_i128: i128, serialize_u8: u8, serialize_u16: u16,
        serialize_u32: u32, serialize_u64: u64, serialize_u128: u128, serialize_char: char,
        serialize_str: &str, serialize_bytes: &[u8], serialize_unit_struct: &'static str,
    );

    fn serialize_f32(self, value: f32) -> Result<(), NonFinite> {
        self.number(f64::from(value))
    }
    fn serialize_f64(self, value: f64) -> Result<(), NonFinite> {
        self.number(value)
    }
    fn serialize_none(self) -> Result<(), NonFinite> {
        Ok(())
    }
    fn serialize_some<T: ?Sized + Serialize>(self, value: &T) -> Result<(), NonFinite> {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result<(), NonFinite> {
        Ok(())
    }
    fn serialize_unit_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
    ) -> Result<(), NonFinite> {
        Ok(())
    }
    fn serialize_newtype_struct<T: ?Sized + Serialize>(
        self,
        _: &'static str,
        value: &T,
    ) -> Result<(), NonFinite> {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: ?Sized + Serialize>(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<(), NonFinite> {
        let path = format!("{}.{variant}", self.path);
        value.serialize(FiniteCheck { path })
    }
    fn serialize_seq(self, _: Option<usize>) -> Result<Compound, NonFinite> {
        Ok(self.compound())
    }
    fn serialize_tuple(self, _: usize) -> Result<Compound, NonFinite> {
        Ok(self.compound())
    }
    fn serialize_tuple_struct(self, _: &'static str, _: usize) -> Result<Compound, NonFinite> {
        Ok(self.compound())
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Compound, NonFinite> {
        Ok(self.compound())
    }
    fn serialize_map(self, _: Option<usize>) -> Result<Compound, NonFinite> {
        Ok(self.compound())
    }
    fn serialize_struct(self, _: &'static str, _: usize) -> Result<Compound, NonFinite> {
        Ok(self.compound())
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Compound, NonFinite> {
        Ok(self.compound())
    }
}

impl ser::SerializeSeq for Compound {
    type Ok = ();
    type Error = NonFinite;
    fn serialize_element<T: ?Sized + Serialize>(&mut self, value: &T) -> Result<(), NonFinite> {
        self.next(value)
    }
    fn end(self) -> Result<(), NonFinite> {
        Ok(())
    }
}

impl ser::SerializeTuple for Compound {
    type Ok = ();
    type Error = NonFinite;
    fn serialize_element<T: ?Sized + Serialize>(&mut self, value: &T) -> Result<(), NonFinite> {
        self.next(value)
    }
    fn end(self) -> Result<(), NonFinite> {
        Ok(())
    }
}

impl ser::SerializeTupleStruct for Compound {
    type Ok = ();
    type Error = NonFinite;
    fn serialize_field<T: ?Sized + Serialize>(&mut self, value: &T) -> Result<(), NonFinite> {
        self.next(value)
    }
    fn end(self) -> Result<(), NonFinite> {
        Ok(())
    }
}

impl ser::SerializeTupleVariant for Compound {
    type Ok = ();
    type Error = NonFinite;
    fn serialize_field<T: ?Sized + Serialize>(&mut self, value: &T) -> Result<(), NonFinite> {
        self.next(value)
    }
    fn end(self) -> Result<(), NonFinite> {
        Ok(())
    }
}

impl ser::SerializeMap for Compound {
    type Ok = ();
    type Error = NonFinite;
    fn serialize_key<T: ?Sized + Serialize>(&mut self, key: &T) -> Result<(), NonFinite> {
        self.field("<key>", key)
    }
    fn serialize_value<T: ?Sized + Serialize>(&mut self, value: &T) -> Result<(), NonFinite> {
        self.next(value)
    }
    fn end(self) -> Result<(), NonFinite> {
        Ok(())
    }
}

impl ser::SerializeStruct for Compound {
    type Ok = ();
    type Error = NonFinite;
    fn serialize_field<T: ?Sized + Serialize>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), NonFinite> {
        self.field(key, value)
    }
    fn end(self) -> Result<(), NonFinite> {
        Ok(())
    }
}

impl ser::SerializeStructVariant for Compound {
    type Ok = ();
    type Error = NonFinite;
    fn serialize_field<T: ?Sized + Serialize>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), NonFinite> {
        self.field(key, value)
    }
    fn end(self) -> Result<(), NonFinite> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    fn check<T: Serialize>(value: &T) -> Result<(), String> {
        value
            .serialize(FiniteCheck {
                path: "result".into(),
            })
            .map_err(|NonFinite(problem)| problem)
    }

    #[test]
    fn finite_check_finds_what_json_would_hide() {
        assert_eq!(serde_json::to_value(f64::INFINITY).ok(), Some(Value::Null));
        assert!(check(&vec![1.0, 2.5]).is_ok());
        assert_eq!(
            check(&vec![1.0, f64::INFINITY]),
            Err("result[1] = inf".into())
        );
        let mut sizes = BTreeMap::new();
        sizes.insert("memory_gb", Some(f64::NAN));
        assert_eq!(check(&sizes), Err("result[0] = NaN".into()));
        assert!(check(&(Some(1.0f32), "text", 7u64, None::<f64>)).is_ok());
    }
}

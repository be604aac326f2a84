//! Reliability (issue #6): whatever a client sends, however fast it sends it and whatever it
//! does with the pipes, the server answers each message, never crashes, never stalls and writes
//! nothing but JSON-RPC to stdout. After every probe the server must answer a ping; no result
//! may hold a non-finite number; every refusal must name what was wrong.
//!
//! The probes of tool arguments are generated from each tool's own `inputSchema` (as listed by
//! `tools/list`), so a tool is covered the day it is registered. Results are checked by the same
//! oracle as the fuzz targets (`fuzz/src/oracle.rs`).
//!
//! Memory comes from `/proc/<pid>/status` (Linux). `VmHWM` is the peak resident set; of it, the
//! debug binary's own mapped pages (`RssFile`, about 12 MB of a 130 MB executable) are code, not
//! work, so the bounds are on the rest: what the server allocated at its peak.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Map, Value, json};

use crate::harness::{BINARY, Server};

#[path = "../../fuzz/src/oracle.rs"]
mod oracle;

// ---------------------------------------------------------------------------------------------
// Probing: one line, then a ping, and every answer accounted for.

/// What a probe must get back.
#[derive(Clone, Copy, Debug)]
enum Expect {
    /// No answer at all (a blank line, a notification, a client's response).
    Nothing,
    /// A JSON-RPC error with this code.
    Error(i64),
    /// One answer, a result or an error.
    Answer,
}

struct Prober {
    server: Server,
    probes: usize,
    pings: usize,
}

fn short(text: &str) -> String {
    if text.len() <= 160 {
        return text.to_string();
    }
    let cut = (0..=157)
        .rev()
        .find(|&i| text.is_char_boundary(i))
        .unwrap_or(0);
    format!("{}... ({} bytes)", &text[..cut], text.len())
}

impl Prober {
    fn new(server: Server) -> Self {
        Self {
            server,
            probes: 0,
            pings: 0,
        }
    }

    /// Sends `bytes` as one line, then a ping; returns the answer to the line, if any. Fails
    /// unless the ping is answered, the line gets exactly what `expect` says, and every line on
    /// stdout is JSON-RPC 2.0.
    fn probe(&mut self, what: &str, bytes: &[u8], expect: Expect) -> Option<Value> {
        self.probes += 1;
        self.pings += 1;
        let ping = json!(format!("ping-{}", self.pings));
        let mut line = self.server.stamp(bytes);
        line.push(b'\n');
        line.extend_from_slice(
            &self.server.stamp(
                json!({"jsonrpc": "2.0", "id": ping, "method": "ping"})
                    .to_string()
                    .as_bytes(),
            ),
        );
        line.push(b'\n');
        self.server.send_bytes(&line);
        let wanted = usize::from(!matches!(expect, Expect::Nothing));
        let mut answers = Vec::new();
        let mut pinged = false;
        while !pinged || answers.len() < wanted {
            let message = self.server.read();
            assert_eq!(
                message["jsonrpc"], "2.0",
                "{what}: stdout carried a message that is not JSON-RPC 2.0: {message}"
            );
            if message.get("method").is_some() {
                continue; // a notification of the server's own (a log message)
            }
            if message["id"] == ping {
                assert!(
                    message["result"].is_object(),
                    "{what}: the ping after it was refused: {message}"
                );
                pinged = true;
            } else {
                answers.push(message);
                assert!(
                    answers.len() <= wanted,
                    "{what}: answered {} times: {}",
                    answers.len(),
                    short(&format!("{answers:?}"))
                );
            }
        }
        let answer = answers.pop();
        if let Some(answer) = &answer {
            let error = &answer["error"];
            match expect {
                Expect::Error(code) => assert_eq!(
                    error["code"],
                    code,
                    "{what}: {}",
                    short(&answer.to_string())
                ),
                _ => assert!(
                    answer["result"].is_object() || error.is_object(),
                    "{what}: neither result nor error: {answer}"
                ),
            }
            if error.is_object() {
                let message = error["message"].as_str().unwrap_or_default();
                assert!(
                    !message.is_empty(),
                    "{what}: an error without a message: {answer}"
                );
                assert!(
                    message.len() <= 2048,
                    "{what}: an error message of {} bytes",
                    message.len()
                );
            }
        }
        answer
    }

    /// `tools/call`: the `result`, which may be a refusal (`isError`).
    fn call(&mut self, tool: &str, arguments_json: &str) -> Value {
        let id = self.server.fresh_id();
        let line = format!(
            r#"{{"jsonrpc":"2.0","id":{id},"method":"tools/call","params":{{"name":"{tool}","arguments":{arguments_json}}}}}"#
        );
        let what = format!("{tool}({})", short(arguments_json));
        let answer = self
            .probe(&what, line.as_bytes(), Expect::Answer)
            .expect("one answer");
        assert_eq!(answer["id"], json!(id), "{what}: answered with another id");
        match answer.get("result") {
            Some(result) => result.clone(),
            None => panic!(
                "{what}: refused at the JSON-RPC level: {}",
                short(&answer.to_string())
            ),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The tools, as a client sees them, and values generated from their schemas.

struct ToolSchema {
    name: String,
    input: Map<String, Value>,
    output: Map<String, Value>,
}

fn list_tools(server: &mut Server) -> Vec<ToolSchema> {
    let listed = server.request("tools/list", json!({}));
    let tools = listed["result"]["tools"]
        .as_array()
        .expect("tools/list answers")
        .clone();
    assert!(!tools.is_empty());
    let inputs: Map<String, Value> = tools
        .iter()
        .map(|tool| {
            (
                tool["name"].as_str().expect("a name").to_string(),
                tool["inputSchema"].clone(),
            )
        })
        .collect();
    tools
        .into_iter()
        .map(|tool| ToolSchema {
            name: tool["name"].as_str().expect("a name").to_string(),
            input: inline_tool_arguments(
                tool["inputSchema"].as_object().expect("an input schema"),
                &inputs,
            ),
            output: tool["outputSchema"]
                .as_object()
                .expect("an output schema")
                .clone(),
        })
        .collect()
}

/// A property marked `x-tool-arguments: NAME` carries the arguments of the tool NAME: probe it
/// with that tool's own schema (its `$defs` merged into this one).
fn inline_tool_arguments(
    schema: &Map<String, Value>,
    inputs: &Map<String, Value>,
) -> Map<String, Value> {
    let mut schema = schema.clone();
    let mut definitions = schema
        .get("$defs")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    if let Some(Value::Object(properties)) = schema.get_mut("properties") {
        for property in properties.values_mut() {
            let Some(target) = property.get("x-tool-arguments").and_then(Value::as_str) else {
                continue;
            };
            let Some(Value::Object(mut inlined)) = inputs.get(target).cloned() else {
                continue;
            };
            if let Some(Value::Object(defs)) = inlined.remove("$defs") {
                definitions.extend(defs);
            }
            if let Some(description) = property.get("description").cloned() {
                inlined.insert("description".into(), description);
            }
            if let Some(kind) = property.get("type").cloned() {
                inlined.insert("type".into(), kind);
            }
            *property = Value::Object(inlined);
        }
    }
    if !definitions.is_empty() {
        schema.insert("$defs".into(), Value::Object(definitions));
    }
    schema
}

fn resolve<'a>(
    root: &'a Map<String, Value>,
    node: &'a Map<String, Value>,
) -> &'a Map<String, Value> {
    let target = node
        .get("$ref")
        .and_then(Value::as_str)
        .and_then(|r| r.strip_prefix("#/$defs/"))
        .and_then(|name| root.get("$defs")?.get(name)?.as_object());
    target.unwrap_or(node)
}

/// The schema of a property without its `null` alternative, and whether `null` is allowed.
fn non_null<'a>(
    root: &'a Map<String, Value>,
    node: &'a Map<String, Value>,
) -> (&'a Map<String, Value>, bool) {
    let node = resolve(root, node);
    if let Some(branches) = node
        .get("anyOf")
        .or_else(|| node.get("oneOf"))
        .and_then(Value::as_array)
    {
        let nullable = branches.iter().any(|b| b["type"] == "null");
        let branch = branches
            .iter()
            .filter_map(Value::as_object)
            .find(|b| b.get("type") != Some(&json!("null")));
        if let Some(branch) = branch
            && branches.iter().all(|b| b.get("const").is_none())
        {
            return (resolve(root, branch), nullable);
        }
        return (node, nullable);
    }
    let nullable = match node.get("type") {
        Some(Value::Array(kinds)) => kinds.contains(&json!("null")),
        _ => false,
    };
    (node, nullable)
}

/// The declared JSON types of a node, `null` left out; an enum of strings is a string.
fn kinds(node: &Map<String, Value>) -> Vec<String> {
    let mut kinds: Vec<String> = match node.get("type") {
        Some(Value::String(kind)) => vec![kind.clone()],
        Some(Value::Array(kinds)) => kinds
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect(),
        _ => Vec::new(),
    };
    let consts = node
        .get("anyOf")
        .or_else(|| node.get("oneOf"))
        .and_then(Value::as_array)
        .is_some_and(|b| b.iter().any(|b| b.get("const").is_some()));
    if kinds.is_empty() && (node.get("enum").is_some() || consts) {
        kinds.push("string".into());
    }
    kinds.retain(|k| k != "null");
    kinds
}

fn allowed_values(node: &Map<String, Value>) -> Option<Vec<Value>> {
    if let Some(values) = node.get("enum").and_then(Value::as_array) {
        return Some(values.clone());
    }
    let branches = node
        .get("anyOf")
        .or_else(|| node.get("oneOf"))
        .and_then(Value::as_array)?;
    let consts: Vec<Value> = branches
        .iter()
        .filter_map(|b| b.get("const").cloned())
        .collect();
    (!consts.is_empty()).then_some(consts)
}

/// One argument field, at any depth (`quorum.n`, `capacity.peak_rps`).
struct Field<'a> {
    path: Vec<String>,
    node: &'a Map<String, Value>,
    nullable: bool,
}

impl Field<'_> {
    fn dotted(&self) -> String {
        self.path.join(".")
    }
    fn kinds(&self) -> Vec<String> {
        kinds(self.node)
    }
    fn is_numeric(&self) -> bool {
        self.kinds().iter().any(|k| k == "number" || k == "integer")
    }
    fn bound(&self, key: &str) -> Option<f64> {
        self.node.get(key).and_then(Value::as_f64)
    }
    /// Whether the schema accepts this JSON value for the field.
    fn accepts(&self, root: &Map<String, Value>, value: &Value) -> bool {
        if value.is_null() {
            return self.nullable;
        }
        if let Some(allowed) = allowed_values(self.node) {
            return allowed.contains(value);
        }
        let kinds = self.kinds();
        let typed = kinds.iter().any(|k| match k.as_str() {
            "boolean" => value.is_boolean(),
            "string" => value.is_string(),
            "array" => value.is_array(),
            "object" => value.is_object(),
            "number" => value.is_number(),
            "integer" => value.is_i64() || value.is_u64(),
            _ => true,
        });
        if !typed {
            return false;
        }
        if let (Some(text), Some(max)) = (
            value.as_str(),
            self.node.get("maxLength").and_then(Value::as_u64),
        ) {
            // JSON Schema counts characters, not bytes.
            return text.chars().count() as u64 <= max;
        }
        if let Some(x) = value.as_f64() {
            let below = self.bound("minimum").is_some_and(|m| x < m)
                || self.bound("exclusiveMinimum").is_some_and(|m| x <= m);
            let above = self.bound("maximum").is_some_and(|m| x > m)
                || self.bound("exclusiveMaximum").is_some_and(|m| x >= m);
            return !below && !above;
        }
        if let (Some(items), Some(item)) = (
            value.as_array(),
            self.node.get("items").and_then(Value::as_object),
        ) {
            let item = Field {
                path: self.path.clone(),
                node: non_null(root, item).0,
                nullable: non_null(root, item).1,
            };
            return items.iter().all(|element| item.accepts(root, element));
        }
        true
    }
    fn is_integer(&self) -> bool {
        self.kinds().iter().any(|k| k == "integer")
    }
    /// A number as this field's JSON: a whole number for an integer field.
    fn number(&self, x: f64) -> Value {
        if self.is_integer() && x.fract() == 0.0 && x.abs() < 9.0e18 {
            json!(x as i64)
        } else {
            json!(x)
        }
    }
    /// The largest value the schema allows (or the largest a JSON number holds).
    fn huge(&self) -> Value {
        if let Some(max) = self.bound("maximum") {
            return self.number(max);
        }
        if self.is_integer() {
            if self.bound("minimum").is_some_and(|m| m >= 0.0) {
                json!(u64::MAX)
            } else {
                json!(i64::MAX)
            }
        } else {
            json!(f64::MAX)
        }
    }
    /// The smallest value the schema allows (the smallest positive one above an exclusive 0).
    fn tiny(&self) -> Value {
        let integer = self.is_integer();
        match (self.bound("minimum"), self.bound("exclusiveMinimum")) {
            (Some(min), _) => self.number(min),
            (None, Some(min)) if integer => json!(min.floor() as i64 + 1),
            (None, Some(0.0)) => json!(5e-324),
            // The next number above: for a negative bound, toward zero (-100 → -99.99999999999997).
            (None, Some(min)) => json!(min + min.abs() * f64::EPSILON + f64::MIN_POSITIVE),
            (None, None) if integer => json!(0),
            (None, None) => json!(5e-324),
        }
    }
}

fn fields<'a>(
    root: &'a Map<String, Value>,
    node: &'a Map<String, Value>,
    prefix: &[String],
    out: &mut Vec<Field<'a>>,
) {
    let node = resolve(root, node);
    let Some(properties) = node.get("properties").and_then(Value::as_object) else {
        return;
    };
    for (name, property) in properties {
        let Some(property) = property.as_object() else {
            continue;
        };
        let (inner, nullable) = non_null(root, property);
        let mut path = prefix.to_vec();
        path.push(name.clone());
        if kinds(inner).iter().any(|k| k == "object") {
            fields(root, inner, &path, out);
        }
        out.push(Field {
            path,
            node: inner,
            nullable,
        });
    }
}

/// A small value the schema accepts; an object gets its required fields, or its first simple
/// field when nothing is required (a tool may refuse an empty object).
fn valid_value(root: &Map<String, Value>, node: &Map<String, Value>) -> Value {
    let (node, _) = non_null(root, node);
    if let Some(allowed) = allowed_values(node) {
        return allowed[0].clone();
    }
    let field = Field {
        path: Vec::new(),
        node,
        nullable: false,
    };
    match kinds(node).first().map(String::as_str) {
        Some("boolean") => json!(false),
        Some("integer" | "number") => {
            let low = field.tiny();
            if low.as_f64().is_some_and(|x| x > 0.0 && x < 1.0) {
                json!(1)
            } else {
                low
            }
        }
        Some("string") => json!("x"),
        Some("array") => json!([]),
        Some("object") => {
            let mut object = Map::new();
            let properties = node.get("properties").and_then(Value::as_object);
            let required: Vec<&str> = node
                .get("required")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .collect();
            for name in &required {
                if let Some(property) = properties
                    .and_then(|p| p.get(*name))
                    .and_then(Value::as_object)
                {
                    object.insert(name.to_string(), valid_value(root, property));
                }
            }
            if required.is_empty()
                && let Some((name, property)) = properties.into_iter().flatten().find(|(_, p)| {
                    p.as_object().is_some_and(|p| {
                        kinds(non_null(root, p).0)
                            .iter()
                            .any(|k| matches!(k.as_str(), "number" | "integer"))
                    })
                })
            {
                object.insert(
                    name.clone(),
                    valid_value(root, property.as_object().expect("an object")),
                );
            }
            Value::Object(object)
        }
        _ => Value::Null,
    }
}

/// `base` with the field at `path` set to `value`, creating the objects on the way.
fn with_field(
    root: &Map<String, Value>,
    node: &Map<String, Value>,
    base: &Value,
    path: &[String],
    value: Value,
) -> Value {
    let mut object = base.as_object().cloned().unwrap_or_default();
    let node = non_null(root, node).0;
    let (first, rest) = path.split_first().expect("a path");
    if rest.is_empty() {
        object.insert(first.clone(), value);
    } else {
        let child = node
            .get("properties")
            .and_then(|p| p.get(first))
            .and_then(Value::as_object)
            .expect("a declared property");
        let child_base = object
            .get(first)
            .filter(|v| v.is_object())
            .cloned()
            .unwrap_or_else(|| valid_value(root, child));
        object.insert(
            first.clone(),
            with_field(root, child, &child_base, rest, value),
        );
    }
    Value::Object(object)
}

/// Every property name at any depth, for checking that a refusal names one of them.
fn all_names(root: &Map<String, Value>) -> Vec<String> {
    let mut out = Vec::new();
    fields(root, root, &[], &mut out);
    let mut names: Vec<String> = out.iter().flat_map(|f| f.path.clone()).collect();
    names.push("arguments".into());
    names.sort();
    names.dedup();
    names
}

/// Checks a `tools/call` result: a refusal names a field (this one when given), an answer fits
/// the output schema and shows only finite numbers. True when it was an answer.
fn check_result(
    tool: &ToolSchema,
    arguments_json: &str,
    result: &Value,
    must_name: Option<&str>,
) -> bool {
    let what = format!("{}({})", tool.name, short(arguments_json));
    let text = result["content"][0]["text"]
        .as_str()
        .unwrap_or_else(|| panic!("{what}: no text content: {}", short(&result.to_string())));
    if result["isError"] == json!(true) {
        assert!(
            text.len() <= 4096,
            "{what}: a refusal of {} bytes",
            text.len()
        );
        match must_name {
            Some(field) => assert!(
                text.contains(&format!("`{field}")),
                "{what}: the refusal does not name `{field}`: {text}"
            ),
            None => {
                let names = all_names(&tool.input);
                assert!(
                    names.iter().any(|n| text.contains(&format!("`{n}"))),
                    "{what}: the refusal names no field: {text}"
                );
            }
        }
        return false;
    }
    if let Some(field) = must_name {
        panic!("{what}: accepted, but the schema does not allow this value of `{field}`");
    }
    let structured = result
        .get("structuredContent")
        .unwrap_or_else(|| panic!("{what}: no structuredContent"));
    if let Err(problem) = oracle::conforms(&tool.output, structured) {
        panic!("{what}: {problem}\n{}", short(&structured.to_string()));
    }
    let arguments: Value = serde_json::from_str(arguments_json).unwrap_or(Value::Null);
    if let Err(problem) = oracle::finite_text(text, &arguments) {
        panic!("{what}: {problem}");
    }
    true
}

/// The smallest arguments each tool accepts: its required fields, or failing that one more
/// field, found by asking the server.
fn accepted_base(prober: &mut Prober, tool: &ToolSchema) -> Value {
    let root = &tool.input;
    let mut base = valid_value(root, root);
    // valid_value adds a first field only to objects without required fields; start from none.
    if root.get("required").is_none() {
        base = json!({});
    }
    let mut candidates = vec![base.clone()];
    if let Some(properties) = root.get("properties").and_then(Value::as_object) {
        for (name, property) in properties {
            if base.get(name).is_none() {
                candidates.push(with_field(
                    root,
                    root,
                    &base,
                    std::slice::from_ref(name),
                    valid_value(root, property.as_object().expect("a schema")),
                ));
            }
        }
    }
    for candidate in &candidates {
        let text = candidate.to_string();
        let result = prober.call(&tool.name, &text);
        if check_result(tool, &text, &result, None) {
            return candidate.clone();
        }
    }
    // A tool may need two fields where the schema requires none (forecast_growth: a growth
    // rate and something to forecast): one more field on each single-field candidate.
    let properties = root.get("properties").and_then(Value::as_object);
    for one in candidates.iter().skip(1) {
        for (second, property) in properties.into_iter().flatten() {
            if one.get(second).is_some() {
                continue;
            }
            let candidate = with_field(
                root,
                root,
                one,
                std::slice::from_ref(second),
                valid_value(root, property.as_object().expect("a schema")),
            );
            let text = candidate.to_string();
            let result = prober.call(&tool.name, &text);
            if check_result(tool, &text, &result, None) {
                return candidate;
            }
        }
    }
    panic!("{}: no small argument object is accepted", tool.name);
}

/// Raw JSON texts: some are not JSON values at all (`NaN`, `1e400`), as clients send them.
fn probe_values(root: &Map<String, Value>, field: &Field) -> Vec<String> {
    let mut values: Vec<String> = ["null", "\"12\"", "true", "[1]", "{\"v\": 1}", "5"]
        .map(String::from)
        .to_vec();
    if field.is_numeric() {
        values.extend(
            [
                "-1",
                "0",
                "1.5",
                "1e308",
                "-1e308",
                "1.7976931348623157e308",
                "5e-324",
                "18446744073709551615",
                "18446744073709551616",
                "9007199254740993",
                "-9223372036854775809",
                "1e400",
                "-1e400",
                "NaN",
                "Infinity",
                "-Infinity",
            ]
            .map(String::from),
        );
    }
    let kinds = field.kinds();
    if kinds.iter().any(|k| k == "string") {
        values.extend(["\"no_such_value\"", "\"\"", "\" \"", "\"\\u0000\""].map(String::from));
        values.push(json!("é".repeat(5000)).to_string());
        // Free text at its stated limit is accepted; one character more is refused by name.
        if let Some(max) = field.node.get("maxLength").and_then(Value::as_u64) {
            let max = usize::try_from(max).unwrap_or(usize::MAX).min(1 << 20);
            values.push(json!("a".repeat(max)).to_string());
            values.push(json!("é".repeat(max + 1)).to_string());
        }
    }
    if kinds.iter().any(|k| k == "array") {
        values.extend(["[]", "[null]", "[\"no_such_value\"]", "[[]]"].map(String::from));
        let item = field
            .node
            .get("items")
            .and_then(Value::as_object)
            .map(|i| resolve(root, i));
        if let Some(first) = item
            .and_then(allowed_values)
            .and_then(|values| values.first().cloned())
        {
            values.push(json!([first, first]).to_string());
            values.push(Value::Array(vec![first; 10_000]).to_string());
        }
    }
    if kinds.iter().any(|k| k == "object") {
        values.extend(["{}", "{\"no_such_field\": 1}", "[]"].map(String::from));
    }
    values
}

/// Parses a raw probe as the server will read it (non-finite numbers become strings).
fn as_server_reads(raw: &str) -> Value {
    serde_json::from_str(raw).unwrap_or_else(|_| Value::String(raw.to_string()))
}

// ---------------------------------------------------------------------------------------------
// Memory.

#[derive(Debug, Clone, Copy)]
struct Memory {
    /// VmHWM: the peak resident set, kB.
    peak_kb: u64,
    /// VmRSS: the resident set now, kB.
    rss_kb: u64,
    /// RssFile: pages of mapped files (the executable), kB.
    file_kb: u64,
}

impl Memory {
    fn of(pid: u32) -> Self {
        let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
            .expect("/proc/<pid>/status (Linux)");
        let field = |name: &str| {
            status
                .lines()
                .find_map(|l| l.strip_prefix(name))
                .and_then(|rest| {
                    rest.trim()
                        .trim_end_matches("kB")
                        .trim()
                        .parse::<u64>()
                        .ok()
                })
                .unwrap_or(0)
        };
        Self {
            peak_kb: field("VmHWM:"),
            rss_kb: field("VmRSS:"),
            file_kb: field("RssFile:"),
        }
    }
    /// The peak minus the executable's mapped pages: what the server allocated at its peak.
    fn peak_work_kb(&self) -> u64 {
        self.peak_kb.saturating_sub(self.file_kb)
    }
    fn work_kb(&self) -> u64 {
        self.rss_kb.saturating_sub(self.file_kb)
    }
}

const MB: u64 = 1024;

fn call_line(id: &Value, tool: &str, arguments: &Value) -> String {
    json!({"jsonrpc": "2.0", "id": id, "method": "tools/call", "params": {"name": tool, "arguments": arguments}}).to_string()
}

fn initialize_line() -> String {
    json!({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "reliability", "version": "0"}}})
        .to_string()
}

/// A server whose stdout the test reads (or not) itself, unlike the harness, which always drains.
fn spawn_raw() -> Child {
    Command::new(BINARY)
        .arg("serve")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("the binary starts")
}

fn signal(pid: u32, name: &str) {
    let status = Command::new("kill")
        .args([&format!("-{name}"), &pid.to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success(), "kill -{name} {pid} failed");
}

fn wait_exit(child: &mut Child, limit: Duration) -> Option<std::process::ExitStatus> {
    let started = Instant::now();
    while started.elapsed() < limit {
        if let Some(status) = child.try_wait().expect("wait") {
            return Some(status);
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    None
}

// ---------------------------------------------------------------------------------------------
// Malformed messages.

/// (what, the line, what must come back) for lines that are not valid requests.
fn malformed_lines() -> Vec<(&'static str, Vec<u8>, Expect)> {
    let deep_array = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let deep_object = format!("{}1{}", "{\"a\":".repeat(100_000), "}".repeat(100_000));
    let deep_arguments = format!(
        r#"{{"jsonrpc":"2.0","id":40,"method":"tools/call","params":{{"name":"diagnose_bottleneck","arguments":{{"users":{}1{}}}}}}}"#,
        "[".repeat(100_000),
        "]".repeat(100_000)
    );
    let allowed_depth = format!(
        r#"{{"jsonrpc":"2.0","id":41,"method":"tools/call","params":{{"name":"diagnose_bottleneck","arguments":{{"symptoms":{}"split_brain"{}}}}}}}"#,
        "[".repeat(100),
        "]".repeat(100)
    );
    let lines: Vec<(&'static str, String, Expect)> = vec![
        ("truncated JSON", r#"{"jsonrpc":"2.0","id":1,"method":"ping""#.into(), Expect::Error(-32700)),
        ("truncated inside a string", r#"{"jsonrpc":"2.0","id":2,"method":"pi"#.into(), Expect::Error(-32700)),
        ("truncated tools/call", r#"{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"diagnose_bottleneck","arguments":{"users":1}"#.into(), Expect::Error(-32700)),
        ("plain text", "hello, server".into(), Expect::Error(-32700)),
        ("a JSON array (batch)", r#"[{"jsonrpc":"2.0","id":4,"method":"ping"}]"#.into(), Expect::Error(-32600)),
        ("an empty array", "[]".into(), Expect::Error(-32600)),
        ("a number", "42".into(), Expect::Error(-32600)),
        ("a string", r#""ping""#.into(), Expect::Error(-32600)),
        ("null", "null".into(), Expect::Error(-32600)),
        ("an empty object", "{}".into(), Expect::Error(-32600)),
        ("a missing method", r#"{"jsonrpc":"2.0","id":5}"#.into(), Expect::Error(-32600)),
        ("a method that is a number", r#"{"jsonrpc":"2.0","id":6,"method":5}"#.into(), Expect::Error(-32600)),
        ("jsonrpc 1.0", r#"{"jsonrpc":"1.0","id":7,"method":"ping"}"#.into(), Expect::Error(-32600)),
        ("jsonrpc as a number", r#"{"jsonrpc":2.0,"id":8,"method":"ping"}"#.into(), Expect::Error(-32600)),
        ("no jsonrpc member", r#"{"id":9,"method":"ping"}"#.into(), Expect::Error(-32600)),
        ("an id that is null", r#"{"jsonrpc":"2.0","id":null,"method":"ping"}"#.into(), Expect::Error(-32600)),
        ("a fractional id", r#"{"jsonrpc":"2.0","id":1.5,"method":"ping"}"#.into(), Expect::Error(-32600)),
        ("an id that is an object", r#"{"jsonrpc":"2.0","id":{"a":1},"method":"ping"}"#.into(), Expect::Error(-32600)),
        ("an id beyond i64", r#"{"jsonrpc":"2.0","id":123456789012345678901234567890,"method":"ping"}"#.into(), Expect::Error(-32600)),
        ("an id beyond f64", r#"{"jsonrpc":"2.0","id":1e400,"method":"ping"}"#.into(), Expect::Answer),
        ("a 100 KB string id", format!(r#"{{"jsonrpc":"2.0","id":"{}","method":"ping"}}"#, "i".repeat(100_000)), Expect::Answer),
        ("100,000-deep arrays", deep_array, Expect::Error(-32700)),
        ("100,000-deep objects", deep_object, Expect::Error(-32700)),
        ("100,000 unclosed brackets", "[".repeat(100_000), Expect::Error(-32700)),
        ("100,000-deep arguments", deep_arguments, Expect::Error(-32700)),
        ("100-deep arguments (within the parser's limit)", allowed_depth, Expect::Answer),
        ("a lone high surrogate", r#"{"jsonrpc":"2.0","id":10,"method":"ping","params":{"x":"\ud800"}}"#.into(), Expect::Error(-32700)),
        ("a lone low surrogate", r#"{"jsonrpc":"2.0","id":11,"method":"ping","params":{"x":"\udc00"}}"#.into(), Expect::Error(-32700)),
        ("a reversed surrogate pair", r#"{"jsonrpc":"2.0","id":12,"method":"ping","params":{"x":"\udc00\ud800"}}"#.into(), Expect::Error(-32700)),
        ("a surrogate in the method", r#"{"jsonrpc":"2.0","id":13,"method":"\ud83d"}"#.into(), Expect::Error(-32700)),
        ("a bad escape", r#"{"jsonrpc":"2.0","id":14,"method":"ping","params":{"x":"\uZZZZ"}}"#.into(), Expect::Error(-32700)),
        ("a number beyond f64 in params", r#"{"jsonrpc":"2.0","id":15,"method":"ping","params":{"x":1e400}}"#.into(), Expect::Answer),
        ("NaN in params", r#"{"jsonrpc":"2.0","id":16,"method":"ping","params":{"x":NaN}}"#.into(), Expect::Answer),
        ("a 400-digit integer", format!(r#"{{"jsonrpc":"2.0","id":17,"method":"ping","params":{{"x":{}}}}}"#, "9".repeat(400)), Expect::Answer),
        ("params a string", r#"{"jsonrpc":"2.0","id":18,"method":"ping","params":"x"}"#.into(), Expect::Error(-32600)),
        ("params a number", r#"{"jsonrpc":"2.0","id":19,"method":"tools/list","params":5}"#.into(), Expect::Error(-32600)),
        ("params null", r#"{"jsonrpc":"2.0","id":20,"method":"tools/list","params":null}"#.into(), Expect::Error(-32600)),
        ("params an array", r#"{"jsonrpc":"2.0","id":21,"method":"tools/list","params":[1]}"#.into(), Expect::Error(-32602)),
        ("arguments a string", r#"{"jsonrpc":"2.0","id":22,"method":"tools/call","params":{"name":"diagnose_bottleneck","arguments":"users=5"}}"#.into(), Expect::Error(-32602)),
        ("arguments an array", r#"{"jsonrpc":"2.0","id":23,"method":"tools/call","params":{"name":"diagnose_bottleneck","arguments":[{"users":5}]}}"#.into(), Expect::Error(-32602)),
        ("arguments a number", r#"{"jsonrpc":"2.0","id":24,"method":"tools/call","params":{"name":"plan_capacity","arguments":5}}"#.into(), Expect::Error(-32602)),
        ("arguments true", r#"{"jsonrpc":"2.0","id":25,"method":"tools/call","params":{"name":"plan_capacity","arguments":true}}"#.into(), Expect::Error(-32602)),
        ("tools/call without a name", r#"{"jsonrpc":"2.0","id":26,"method":"tools/call","params":{"arguments":{}}}"#.into(), Expect::Error(-32602)),
        ("a tool name that is a number", r#"{"jsonrpc":"2.0","id":27,"method":"tools/call","params":{"name":5}}"#.into(), Expect::Error(-32602)),
        ("an unknown tool", r#"{"jsonrpc":"2.0","id":28,"method":"tools/call","params":{"name":"diagnose","arguments":{}}}"#.into(), Expect::Error(-32602)),
        ("an unknown method", r#"{"jsonrpc":"2.0","id":29,"method":"tools/run"}"#.into(), Expect::Error(-32601)),
        ("resources/read without a uri", r#"{"jsonrpc":"2.0","id":30,"method":"resources/read","params":{}}"#.into(), Expect::Error(-32602)),
        ("a second initialize", initialize_line().replace("\"id\":0", "\"id\":31"), Expect::Answer),
        ("a line ending in CRLF", "{\"jsonrpc\":\"2.0\",\"id\":32,\"method\":\"ping\"}\r".into(), Expect::Answer),
        ("a blank line", "".into(), Expect::Nothing),
        ("spaces and tabs", " \t  ".into(), Expect::Nothing),
        ("a carriage return", "\r".into(), Expect::Nothing),
        ("an unknown notification", r#"{"jsonrpc":"2.0","method":"notifications/whatever","params":{}}"#.into(), Expect::Nothing),
        ("a malformed notification", r#"{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":{}}}"#.into(), Expect::Nothing),
        ("a cancellation of nothing", r#"{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":999}}"#.into(), Expect::Nothing),
        ("a response from the client", r#"{"jsonrpc":"2.0","id":33,"result":{}}"#.into(), Expect::Nothing),
        ("an error from the client", r#"{"jsonrpc":"2.0","id":34,"error":{"code":-1,"message":"no"}}"#.into(), Expect::Nothing),
    ];
    let mut lines: Vec<(&'static str, Vec<u8>, Expect)> = lines
        .into_iter()
        .map(|(what, line, expect)| (what, line.into_bytes(), expect))
        .collect();
    lines.push((
        "binary bytes",
        vec![0xff, 0xfe, 0x00, 0x01, 0x80, 0xc3, 0x28, 0x7f, 0x1b, b'['],
        Expect::Error(-32700),
    ));
    lines.push(("a NUL byte", vec![0], Expect::Error(-32700)));
    lines.push((
        "invalid UTF-8 inside a method",
        [
            &br#"{"jsonrpc":"2.0","id":35,"method":"pi"#[..],
            &[0xff, 0xfe],
            &br#"ng"}"#[..],
        ]
        .concat(),
        Expect::Error(-32601),
    ));
    lines.push(("invalid UTF-8 inside an argument", [&br#"{"jsonrpc":"2.0","id":36,"method":"tools/call","params":{"name":"plan_migration","arguments":{"kind":"sh"#[..], &[0xc0, 0xaf], &br#"ard"}}}"#[..]].concat(), Expect::Answer));
    lines
}

#[test]
fn malformed_messages_are_answered_and_the_server_keeps_serving() {
    let started = Instant::now();
    let mut prober = Prober::new(Server::start());
    for (what, line, expect) in malformed_lines() {
        let answer = prober.probe(what, &line, expect);
        // An id that could be read comes back; one that could not is left out.
        if let (Some(answer), Ok(sent)) = (&answer, serde_json::from_slice::<Value>(&line))
            && let Some(id) = sent.get("id").filter(|id| id.is_string() || id.is_i64())
        {
            assert_eq!(&answer["id"], id, "{what}: answered with another id");
        }
    }
    // The same lines before any handshake: none of them may end the session.
    let mut fresh = Prober::new(Server::raw());
    for (what, line, _) in malformed_lines() {
        let expect = if line.trim_ascii().is_empty() {
            Expect::Nothing
        } else {
            Expect::Answer.before_initialize(&line)
        };
        let _ = fresh.probe(&format!("{what} (before initialize)"), &line, expect);
    }
    let init = fresh.server.request(
        "initialize",
        serde_json::from_str::<Value>(&initialize_line()).unwrap()["params"].clone(),
    );
    assert!(
        init["result"].is_object(),
        "initialize after the probes: {init}"
    );
    eprintln!(
        "malformed messages: {} probes, each followed by an answered ping, in {:?}",
        prober.probes + fresh.probes,
        started.elapsed()
    );
    assert!(
        prober
            .server
            .read_line_within(Duration::from_millis(100))
            .is_none(),
        "an answer nobody asked for"
    );
}

impl Expect {
    /// Before the handshake some lines get no answer (notifications, responses) and requests
    /// may be refused for missing `_meta`: any one answer, or none for a message that is not a
    /// request.
    fn before_initialize(self, line: &[u8]) -> Expect {
        match serde_json::from_slice::<Value>(line) {
            Ok(Value::Object(message))
                if message.contains_key("method") && !message.contains_key("id") =>
            {
                Expect::Nothing
            }
            Ok(Value::Object(message))
                if !message.contains_key("method")
                    && (message.contains_key("result") || message.contains_key("error")) =>
            {
                Expect::Nothing
            }
            _ => self,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Every field of every tool.

#[test]
fn every_field_of_every_tool_refuses_bad_values_by_name() {
    let started = Instant::now();
    let mut prober = Prober::new(Server::start());
    let tools = list_tools(&mut prober.server);
    let mut summary = Vec::new();
    let mut bounded_text = 0;
    for tool in &tools {
        let root = &tool.input;
        let base = accepted_base(&mut prober, tool);
        let mut listed = Vec::new();
        fields(root, root, &[], &mut listed);
        let (before, mut accepted, mut refused) = (prober.probes, 0, 0);
        for field in &listed {
            if field.node.contains_key("maxLength") {
                bounded_text += 1;
            }
            for raw in probe_values(root, field) {
                let read = as_server_reads(&raw);
                let arguments = with_field(root, root, &base, &field.path, json!("__PROBE__"))
                    .to_string()
                    .replacen("\"__PROBE__\"", &raw, 1);
                let result = prober.call(&tool.name, &arguments);
                let must_name = (!field.accepts(root, &read)).then(|| field.dotted());
                if check_result(tool, &arguments, &result, must_name.as_deref()) {
                    accepted += 1;
                } else {
                    refused += 1;
                }
            }
        }
        summary.push(format!(
            "{}: {} fields, {} probes ({accepted} answered, {refused} refused)",
            tool.name,
            listed.len(),
            prober.probes - before
        ));
    }
    eprintln!(
        "field probes in {:?}:\n  {}",
        started.elapsed(),
        summary.join("\n  ")
    );
    // plan_migration's `from` and `to` at least: free text probed at and past its limit.
    assert!(bounded_text >= 2, "{bounded_text} fields state a maxLength");
}

#[test]
fn arithmetic_on_extreme_values_never_yields_a_non_finite_number() {
    let started = Instant::now();
    let mut prober = Prober::new(Server::start());
    let tools = list_tools(&mut prober.server);
    let mut summary = Vec::new();
    for tool in &tools {
        let root = &tool.input;
        let base = accepted_base(&mut prober, tool);
        let mut listed = Vec::new();
        fields(root, root, &[], &mut listed);
        // Each variant of the tool: the base, and the base with each value of a top-level enum
        // (plan_migration's `kind` takes quite different arithmetic paths).
        let mut variants = vec![base.clone()];
        for field in listed.iter().filter(|f| f.path.len() == 1) {
            if let Some(values) = allowed_values(field.node) {
                variants.extend(
                    values
                        .into_iter()
                        .map(|v| with_field(root, root, &base, &field.path, v)),
                );
            }
        }
        let numeric: Vec<&Field> = listed.iter().filter(|f| f.is_numeric()).collect();
        let (before, mut accepted) = (prober.probes, 0);
        for variant in &variants {
            let mut combos: Vec<Value> = Vec::new();
            // Every numeric field at once at its largest, then at its smallest.
            combos.push(numeric.iter().fold(variant.clone(), |args, f| {
                with_field(root, root, &args, &f.path, f.huge())
            }));
            combos.push(numeric.iter().fold(variant.clone(), |args, f| {
                with_field(root, root, &args, &f.path, f.tiny())
            }));
            // Every pair of fields of the same object: products overflow, quotients blow up.
            for (i, a) in numeric.iter().enumerate() {
                for b in &numeric[i + 1..] {
                    if a.path[..a.path.len() - 1] != b.path[..b.path.len() - 1] {
                        continue;
                    }
                    for (x, y) in [
                        (a.huge(), b.huge()),
                        (a.huge(), b.tiny()),
                        (a.tiny(), b.huge()),
                    ] {
                        let args = with_field(root, root, variant, &a.path, x);
                        combos.push(with_field(root, root, &args, &b.path, y));
                    }
                }
            }
            for args in combos {
                let text = args.to_string();
                let result = prober.call(&tool.name, &text);
                accepted += usize::from(check_result(tool, &text, &result, None));
            }
        }
        summary.push(format!(
            "{}: {} variants, {} probes ({accepted} answered)",
            tool.name,
            variants.len(),
            prober.probes - before
        ));
    }
    eprintln!(
        "overflow probes in {:?}:\n  {}",
        started.elapsed(),
        summary.join("\n  ")
    );
}

// ---------------------------------------------------------------------------------------------
// Size: a 10 MB argument, and a line over the limit.

#[test]
fn ten_megabyte_strings_are_refused_promptly_and_briefly() {
    let mut prober = Prober::new(Server::start());
    let tools = list_tools(&mut prober.server);
    let huge = "x".repeat(10 * 1024 * 1024);
    let huge_json = json!(huge).to_string();
    for tool in &tools {
        let mut listed = Vec::new();
        fields(&tool.input, &tool.input, &[], &mut listed);
        let base = accepted_base(&mut prober, tool);
        // As the value of the first field, and as the name of an unknown field.
        let field = &listed[0];
        let arguments = with_field(
            &tool.input,
            &tool.input,
            &base,
            &field.path,
            json!("__PROBE__"),
        )
        .to_string()
        .replacen("\"__PROBE__\"", &huge_json, 1);
        let started = Instant::now();
        let result = prober.call(&tool.name, &arguments);
        let must_name = (!field.accepts(&tool.input, &json!("x"))).then(|| field.dotted());
        check_result(tool, &arguments, &result, must_name.as_deref());
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "{}: {:?} for a 10 MB value",
            tool.name,
            started.elapsed()
        );
        let mut unknown = base.as_object().cloned().unwrap_or_default();
        unknown.insert(huge.clone(), json!(1));
        let arguments = Value::Object(unknown).to_string();
        let started = Instant::now();
        let result = prober.call(&tool.name, &arguments);
        assert_eq!(
            result["isError"], true,
            "{}: a 10 MB unknown field was accepted",
            tool.name
        );
        let text = result["content"][0]["text"].as_str().unwrap_or_default();
        assert!(
            text.contains("`xxxx") && text.contains("unknown") && text.len() < 4096,
            "{}: {}",
            tool.name,
            short(text)
        );
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "{}: {:?} for a 10 MB field name",
            tool.name,
            started.elapsed()
        );
    }
    // A 10 MB tool name, method, resource URI and prompt name: answered at once, briefly.
    let lines = [
        json!({"jsonrpc": "2.0", "id": "tool", "method": "tools/call", "params": {"name": huge, "arguments": {}}}),
        json!({"jsonrpc": "2.0", "id": "method", "method": huge}),
        json!({"jsonrpc": "2.0", "id": "uri", "method": "resources/read", "params": {"uri": format!("knowledge://{huge}")}}),
        json!({"jsonrpc": "2.0", "id": "anchor", "method": "resources/read", "params": {"uri": format!("knowledge://caching#{huge}")}}),
        json!({"jsonrpc": "2.0", "id": "prompt", "method": "prompts/get", "params": {"name": huge}}),
    ];
    for line in lines {
        let started = Instant::now();
        let answer = prober
            .probe(
                &format!("a 10 MB {}", line["id"]),
                line.to_string().as_bytes(),
                Expect::Answer,
            )
            .expect("an answer");
        assert!(
            answer["error"].is_object(),
            "{}",
            short(&answer.to_string())
        );
        assert!(
            answer.to_string().len() < 4096,
            "a {} byte answer to a 10 MB {}",
            answer.to_string().len(),
            line["id"]
        );
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "{:?} for a 10 MB {}",
            started.elapsed(),
            line["id"]
        );
    }
    eprintln!(
        "10 MB strings: {} probes; peak {:?}",
        prober.probes,
        Memory::of(prober.server.pid())
    );
}

#[test]
fn a_line_over_the_limit_is_refused_with_bounded_memory() {
    let mut server = Server::start();
    let pid = server.pid();
    // The baseline is a session that has served a request (a 2026-07-28 session has served
    // none after start).
    assert!(server.request("ping", json!({}))["result"].is_object());
    let before = Memory::of(pid);
    // 17 MiB, over the default limit of 16 MiB, sent in pieces as a pipe delivers it.
    let limit = 16 * 1024 * 1024;
    let mut line = br#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"diagnose_bottleneck","arguments":{"x":""#.to_vec();
    line.resize(limit + 1024 * 1024, b'y');
    line.extend_from_slice(b"\"}}}\n");
    for piece in line.chunks(1024 * 1024) {
        server.send_bytes(piece);
    }
    let answer = server.read();
    assert_eq!(
        answer["error"]["code"],
        -32600,
        "{}",
        short(&answer.to_string())
    );
    let message = answer["error"]["message"].as_str().unwrap_or_default();
    assert!(
        message.contains(&limit.to_string())
            && message.contains(&line.len().saturating_sub(1).to_string()),
        "{message}"
    );
    assert!(
        server.request("ping", json!({}))["result"].is_object(),
        "the next message is served"
    );
    let after = Memory::of(pid);
    eprintln!(
        "a {} byte line, limit {limit}: memory before {before:?}, after {after:?}",
        line.len()
    );
    // A line is buffered until it passes the limit, then skipped: the peak grows by the limit.
    assert!(
        after.peak_kb < before.peak_kb + 16 * MB + 4 * MB,
        "{before:?} -> {after:?}"
    );
    // With a 1 MiB limit, a 48 MiB line costs at most the limit, not the line.
    let mut small = Server::raw_with(&["--max-message-bytes", "1048576"]);
    assert!(small.request("ping", json!({}))["result"].is_object());
    let before = Memory::of(small.pid());
    let piece = vec![b'w'; 1024 * 1024];
    for _ in 0..48 {
        small.send_bytes(&piece);
    }
    small.send_bytes(b"\n");
    assert_eq!(small.read()["error"]["code"], -32600);
    assert!(
        small.request("ping", json!({}))["result"].is_object(),
        "the next message is served"
    );
    let after = Memory::of(small.pid());
    eprintln!("a 48 MiB line, limit 1 MiB: memory before {before:?}, after {after:?}");
    assert!(
        after.peak_kb < before.peak_kb + MB + 4 * MB,
        "the skipped line was buffered: {before:?} -> {after:?}"
    );
    // A smaller limit, and an over-long line cut short by EOF.
    let mut small = Server::raw_with(&["--max-message-bytes", "1000"]);
    small.send_line(&call_line(
        &json!(1),
        "diagnose_bottleneck",
        &json!({"users": 1, "symptoms": vec!["split_brain"; 100]}),
    ));
    assert_eq!(small.read()["error"]["code"], -32600);
    assert!(small.request("ping", json!({}))["result"].is_object());
    small.send_bytes(&vec![b'z'; 5000]);
    drop(small.take_stdin());
    assert_eq!(
        small.read()["error"]["code"],
        -32600,
        "the over-long last line is refused at EOF"
    );
    assert!(
        small
            .wait_exit(Duration::from_secs(5))
            .is_some_and(|s| s.success())
    );
}

// ---------------------------------------------------------------------------------------------
// Load: pipelined requests, bounded memory.

/// `count` pipelined calls across every tool, written by a thread while this one reads.
fn pipelined_calls(count: usize, pings: bool) -> (usize, Memory, Duration) {
    let mut prober = Prober::new(Server::start());
    let tools = list_tools(&mut prober.server);
    let bases: Vec<(String, Value)> = tools
        .iter()
        .map(|t| (t.name.clone(), accepted_base(&mut prober, t)))
        .collect();
    let mut server = prober.server;
    let pid = server.pid();
    let mut lines = String::new();
    let mut expected: HashMap<String, usize> = HashMap::new();
    for i in 0..count {
        let (tool, base) = &bases[i % bases.len()];
        let id = json!(i + 1);
        lines.push_str(&server.stamp_line(&call_line(&id, tool, base)));
        lines.push('\n');
        expected.insert(id.to_string(), 0);
        if pings {
            let ping = json!(format!("ping-{i}"));
            lines.push_str(
                &server.stamp_line(
                    &json!({"jsonrpc": "2.0", "id": ping, "method": "ping"}).to_string(),
                ),
            );
            lines.push('\n');
            expected.insert(ping.to_string(), 0);
        }
    }
    let mut stdin = server.take_stdin();
    let started = Instant::now();
    let writer = std::thread::spawn(move || {
        crate::harness::record_sent(lines.as_bytes());
        stdin.write_all(lines.as_bytes()).expect("write");
        stdin
    });
    let mut answered = 0;
    while answered < expected.len() {
        let message = server.read();
        assert_eq!(message["jsonrpc"], "2.0");
        if message.get("method").is_some() {
            continue;
        }
        let key = message["id"].to_string();
        let seen = expected.get_mut(&key).unwrap_or_else(|| {
            panic!(
                "an answer to an id never sent: {}",
                short(&message.to_string())
            )
        });
        *seen += 1;
        assert_eq!(*seen, 1, "id {key} answered twice");
        assert!(
            message["result"].is_object(),
            "refused under load: {}",
            short(&message.to_string())
        );
        assert_ne!(
            message["result"]["isError"],
            true,
            "a tool refused its base arguments under load: {}",
            short(&message.to_string())
        );
        answered += 1;
    }
    let elapsed = started.elapsed();
    let memory = Memory::of(pid);
    drop(writer.join().expect("the writer finishes"));
    assert!(
        server
            .wait_exit(Duration::from_secs(5))
            .is_some_and(|s| s.success()),
        "exit 0 after EOF"
    );
    assert!(expected.values().all(|&n| n == 1));
    (answered, memory, elapsed)
}

#[test]
fn two_thousand_pipelined_requests_with_pings_are_each_answered_once() {
    let (answered, memory, elapsed) = pipelined_calls(2_000, true);
    assert_eq!(answered, 4_000);
    eprintln!("2,000 calls + 2,000 pings pipelined: all answered once in {elapsed:?}; {memory:?}");
}

#[test]
fn twenty_thousand_pipelined_requests_stay_under_16_mb() {
    let (answered, memory, elapsed) = pipelined_calls(20_000, false);
    assert_eq!(answered, 20_000);
    eprintln!(
        "20,000 calls pipelined in {elapsed:?}: VmHWM {} kB, of which the executable's pages {} kB; peak work {} kB",
        memory.peak_kb,
        memory.file_kb,
        memory.peak_work_kb()
    );
    assert!(memory.peak_work_kb() < 16 * MB, "peak memory {memory:?}");
}

#[test]
fn duplicate_ids_in_flight_are_refused_not_lost() {
    let mut server = Server::start();
    let mut stdin = server.take_stdin();
    let line = format!(
        "{}\n",
        server.stamp_line(&call_line(
            &json!(7),
            "diagnose_bottleneck",
            &json!({"users": 5})
        ))
    );
    let writer = std::thread::spawn(move || {
        crate::harness::record_sent(line.as_bytes());
        stdin.write_all(line.repeat(500).as_bytes()).expect("write");
        stdin
    });
    let (mut results, mut refusals) = (0, 0);
    for _ in 0..500 {
        let message = server.read();
        assert_eq!(message["id"], 7, "{message}");
        if message["result"].is_object() {
            results += 1;
        } else {
            assert_eq!(message["error"]["code"], -32600, "{message}");
            assert!(
                message["error"]["message"]
                    .as_str()
                    .unwrap_or_default()
                    .contains("already used"),
                "{message}"
            );
            refusals += 1;
        }
    }
    drop(writer.join().expect("the writer finishes"));
    assert!(results >= 1 && results + refusals == 500);
    assert!(
        server
            .wait_exit(Duration::from_secs(5))
            .is_some_and(|s| s.success())
    );
}

// ---------------------------------------------------------------------------------------------
// Faults: EOF mid-line, signals, a client that stops reading.

#[test]
fn eof_in_the_middle_of_a_line_exits_zero_promptly() {
    for partial in [
        &br#"{"jsonrpc":"2.0","id":1,"method":"pi"#[..],
        b"{",
        &[0xff, 0xfe],
    ] {
        let mut server = Server::start();
        server.send_bytes(partial);
        let started = Instant::now();
        drop(server.take_stdin());
        let status = server.wait_exit(Duration::from_secs(3));
        assert!(
            status.is_some_and(|s| s.success()),
            "{status:?} after EOF mid-line"
        );
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "{:?} to exit",
            started.elapsed()
        );
        assert_eq!(
            server.read()["error"]["code"],
            -32700,
            "the partial line is answered"
        );
    }
    // Requests still in flight at EOF are answered before the exit.
    let mut server = Server::start();
    for i in 0..100 {
        let line = server.stamp_line(&call_line(
            &json!(i),
            "diagnose_bottleneck",
            &json!({"users": i}),
        ));
        server.send_line(&line);
    }
    server.send_bytes(br#"{"jsonrpc":"2.0","id":"cut","#);
    drop(server.take_stdin());
    let mut answered = 0;
    while answered < 101 {
        let message = server.read();
        answered += usize::from(message.get("id").is_some() || message.get("error").is_some());
    }
    assert!(
        server
            .wait_exit(Duration::from_secs(3))
            .is_some_and(|s| s.success())
    );
}

#[test]
fn sigterm_exits_promptly() {
    let mut server = Server::start();
    assert!(server.request("ping", json!({}))["result"].is_object());
    let started = Instant::now();
    signal(server.pid(), "TERM");
    let status = server.wait_exit(Duration::from_secs(3));
    assert!(
        status.is_some_and(|s| s.success()),
        "{status:?} after SIGTERM"
    );
    eprintln!("SIGTERM while idle: exit 0 after {:?}", started.elapsed());
    // Also while blocked writing to a client that stopped reading.
    let mut child = spawn_raw();
    let mut stdin = child.stdin.take().expect("stdin");
    let writer = std::thread::spawn(move || {
        let mut lines = format!("{}\n", initialize_line());
        for i in 0..5_000 {
            lines.push_str(&call_line(
                &json!(i + 1),
                "diagnose_bottleneck",
                &json!({"users": i, "db_cpu_pct": 90}),
            ));
            lines.push('\n');
        }
        crate::harness::record_sent(lines.as_bytes());
        let _ = stdin.write_all(lines.as_bytes());
    });
    std::thread::sleep(Duration::from_millis(500));
    let started = Instant::now();
    signal(child.id(), "TERM");
    let status = wait_exit(&mut child, Duration::from_secs(3));
    let _ = child.kill();
    assert!(
        status.is_some(),
        "no exit within 3 s of SIGTERM while the client was not reading"
    );
    eprintln!(
        "SIGTERM while blocked on stdout: {status:?} after {:?}",
        started.elapsed()
    );
    drop(child.stdout.take());
    let _ = writer.join();
}

#[test]
fn a_client_that_stops_reading_does_not_grow_the_server() {
    let mut child = spawn_raw();
    let pid = child.id();
    let mut stdin = child.stdin.take().expect("stdin");
    let count = 20_000;
    let writer = std::thread::spawn(move || {
        let mut lines = format!("{}\n", initialize_line());
        for i in 0..count {
            lines.push_str(&call_line(
                &json!(i + 1),
                "diagnose_bottleneck",
                &json!({"users": i, "db_cpu_pct": 90, "p95_latency_ms": 300}),
            ));
            lines.push('\n');
        }
        crate::harness::record_sent(lines.as_bytes());
        stdin.write_all(lines.as_bytes()).expect("write");
        stdin
    });
    // Nobody reads stdout for two seconds: the pipe fills, then the server must stop reading.
    let mut samples = Vec::new();
    for _ in 0..4 {
        std::thread::sleep(Duration::from_millis(500));
        samples.push(Memory::of(pid));
    }
    eprintln!("a client that stopped reading: {samples:?}");
    let (first, last) = (samples[1], samples[3]);
    assert!(last.peak_work_kb() < 16 * MB, "memory grew to {last:?}");
    assert!(
        last.work_kb() <= first.work_kb() + MB,
        "memory keeps growing while nobody reads: {first:?} -> {last:?}"
    );
    // Reading resumes: every request is answered, then the server exits 0 at EOF.
    let reader = BufReader::new(child.stdout.take().expect("stdout"));
    let mut answered = 0;
    for line in reader.lines() {
        let message: Value =
            serde_json::from_str(&line.expect("a line")).expect("stdout carries JSON only");
        assert_eq!(message["jsonrpc"], "2.0");
        answered += 1;
        if answered == count + 1 {
            break;
        }
    }
    assert_eq!(answered, count + 1, "the initialize answer and every call");
    drop(writer.join().expect("the writer finishes"));
    let status = wait_exit(&mut child, Duration::from_secs(5));
    let _ = child.kill();
    assert!(status.is_some_and(|s| s.success()), "{status:?}");
}

#[test]
fn large_answers_to_a_client_that_stops_reading_stay_bounded() {
    // The largest answers come from plan_migration's reshard in `detail: full`: a shard map of
    // 4,096 shards (the most accepted) is 500 KB of JSON (the cap of contract §6) plus its
    // markdown, which is concise (contract Part 1: a few KB, not the shard map again). Reading pauses while answers wait for the client, so twelve of them cost
    // about as much as two, not twelve times one.
    let arguments = json!({"kind": "reshard", "current_shards": 1, "target_shards": 4096, "virtual_shards": 65536, "detail": "full"});
    let mut child = spawn_raw();
    let pid = child.id();
    let mut stdin = child.stdin.take().expect("stdin");
    let count = 12;
    let writer = std::thread::spawn(move || {
        let mut lines = format!("{}\n", initialize_line());
        for i in 0..count {
            lines.push_str(&call_line(&json!(i + 1), "plan_migration", &arguments));
            lines.push('\n');
        }
        crate::harness::record_sent(lines.as_bytes());
        stdin.write_all(lines.as_bytes()).expect("write");
        stdin
    });
    let mut samples = Vec::new();
    for _ in 0..5 {
        std::thread::sleep(Duration::from_millis(500));
        samples.push(Memory::of(pid));
    }
    eprintln!("twelve large answers, nobody reading: {samples:?}");
    let (first, last) = (samples[2], samples[4]);
    assert!(
        last.work_kb() <= first.work_kb() + MB,
        "memory keeps growing while nobody reads: {first:?} -> {last:?}"
    );
    assert!(
        last.peak_work_kb() < 128 * MB,
        "twelve large answers held at once: {last:?}"
    );
    let reader = BufReader::new(child.stdout.take().expect("stdout"));
    let mut sizes = Vec::new();
    for line in reader.lines().take(count + 1) {
        let line = line.expect("a line");
        let message: Value = serde_json::from_str(&line).expect("stdout carries JSON only");
        assert!(message["result"].is_object(), "{}", short(&line));
        sizes.push(line.len());
    }
    assert_eq!(
        sizes.len(),
        count + 1,
        "every call answered once reading resumes"
    );
    assert!(
        sizes[1] > 500_000,
        "the answers are as large as meant: {} bytes",
        sizes[1]
    );
    drop(writer.join().expect("the writer finishes"));
    let status = wait_exit(&mut child, Duration::from_secs(5));
    let _ = child.kill();
    assert!(status.is_some_and(|s| s.success()), "{status:?}");
}

#[test]
fn a_client_that_goes_away_mid_answer_ends_the_server() {
    // The client reads a little, then closes both pipes while megabytes of answers wait.
    let mut child = spawn_raw();
    let mut stdin = child.stdin.take().expect("stdin");
    let mut lines = format!("{}\n", initialize_line());
    for i in 0..6 {
        let arguments = json!({"kind": "reshard", "current_shards": 1, "target_shards": 4096, "virtual_shards": 65536});
        lines.push_str(&call_line(&json!(i + 1), "plan_migration", &arguments));
        lines.push('\n');
    }
    crate::harness::record_sent(lines.as_bytes());
    stdin.write_all(lines.as_bytes()).expect("write");
    let mut stdout = child.stdout.take().expect("stdout");
    let mut some = [0u8; 1000];
    std::io::Read::read_exact(&mut stdout, &mut some).expect("the first answer begins");
    std::thread::sleep(Duration::from_millis(1000));
    drop(stdout);
    drop(stdin);
    let started = Instant::now();
    let status = wait_exit(&mut child, Duration::from_secs(5));
    let _ = child.kill();
    assert!(
        status.is_some_and(|s| s.success()),
        "{status:?}: the server outlived its client"
    );
    eprintln!(
        "a client that went away mid-answer: exit 0 after {:?}",
        started.elapsed()
    );
}

// ---------------------------------------------------------------------------------------------
// The CLI in a pipe: `scale-advisor call … --json | head` ends quietly.

/// Runs the CLI with its stdout a pipe whose reader is already gone, as when `head` has read
/// its lines and left: the first write meets a broken pipe.
fn run_into_a_closed_pipe(args: &[&str]) -> std::process::Output {
    let (reader, writer) = std::io::pipe().expect("a pipe");
    drop(reader);
    Command::new(BINARY)
        .args(args)
        .stdin(Stdio::null())
        .stdout(writer)
        .stderr(Stdio::piped())
        .output()
        .expect("the binary runs")
}

#[test]
fn the_cli_ends_quietly_when_its_reader_goes_away() {
    let reshard = r#"{"kind": "reshard", "current_shards": 4, "target_shards": 64}"#;
    for args in [
        vec!["call", "plan_migration", reshard, "--json"],
        vec!["call", "plan_migration", reshard],
        vec!["tools"],
        vec!["tools", "--json"],
    ] {
        let output = run_into_a_closed_pipe(&args);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(0), "{args:?}: {stderr}");
        assert!(stderr.is_empty(), "{args:?} wrote to stderr: {stderr}");
    }
    // Through a real `head`, which leaves after one line of a long answer.
    let script = format!(
        "set -o pipefail; '{BINARY}' call plan_migration '{reshard}' --json | head -n 1 >/dev/null"
    );
    let output = Command::new("bash")
        .args(["-c", &script])
        .output()
        .expect("bash runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

// ---------------------------------------------------------------------------------------------
// Memory given back: after the largest request and the largest answer, the resident set
// returns to within a few MB of idle within a second.

/// How far above idle the resident set may stay once a request is over.
const GIVEN_BACK_SLACK_KB: u64 = 4 * MB;

/// The resident set (less the executable's pages) once it has settled within the slack of
/// `idle_kb`, polled for up to a second; the last reading if it never did.
fn settled_work_kb(pid: u32, idle_kb: u64) -> (u64, Duration) {
    let started = Instant::now();
    loop {
        let now = Memory::of(pid).work_kb();
        if now <= idle_kb + GIVEN_BACK_SLACK_KB || started.elapsed() >= Duration::from_secs(1) {
            return (now, started.elapsed());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn memory_is_given_back_after_the_largest_line_and_the_largest_answer() {
    let mut server = Server::start();
    let pid = server.pid();
    // Idle: after the handshake and one ordinary call of the kinds used below.
    server.call_ok(
        "plan_migration",
        json!({"kind": "reshard", "current_shards": 2, "target_shards": 3}),
    );
    server.call_err(
        "plan_migration",
        json!({"kind": "database_switch", "from": "x".repeat(300)}),
    );
    std::thread::sleep(Duration::from_millis(300));
    let idle = Memory::of(pid).work_kb();

    let mut report = vec![format!("idle {idle} kB")];
    // A 10 MB `from`, and the largest line the transport accepts (16 MiB less a little).
    for (what, length) in [
        ("a 10 MB line", 10 << 20),
        ("a 16 MiB line", (16 << 20) - 4096),
    ] {
        let arguments = json!({"kind": "database_switch", "from": "é".repeat(length / 2)});
        let line = server.stamp_line(&call_line(&json!(what), "plan_migration", &arguments));
        assert!(line.len() < 16 << 20, "{} bytes", line.len());
        server.send_line(&line);
        let answer = server.response_to(&json!(what));
        assert_eq!(answer["result"]["isError"], true, "{what} was accepted");
        let text = answer["result"]["content"][0]["text"]
            .as_str()
            .unwrap_or_default();
        assert!(
            text.contains("`from`") && text.len() < 1000,
            "{}",
            short(text)
        );
        let peak = Memory::of(pid).peak_work_kb();
        let (after, took) = settled_work_kb(pid, idle);
        report.push(format!("{what}: peak {peak} kB, {after} kB after {took:?}"));
        assert!(
            after <= idle + GIVEN_BACK_SLACK_KB,
            "{what}: {after} kB a second later, idle {idle} kB ({report:?})"
        );
    }
    // The largest reshard plan: 65,536 virtual shards spread from one shard over 4,096.
    // In `detail: full`, the largest answer contract §6 allows (500 KB of structured content)
    // plus its concise markdown.
    let largest = json!({"kind": "reshard", "current_shards": 1, "target_shards": 4096, "virtual_shards": 65536, "detail": "full"});
    let id = json!("largest");
    let line = server.stamp_line(&call_line(&id, "plan_migration", &largest));
    server.send_line(&line);
    let answer = server.response_to(&id);
    let size = answer.to_string().len();
    assert!(size > 500_000, "the largest answer is {size} bytes");
    assert_eq!(
        answer["result"]["structuredContent"]["reshard"]["moved_virtual_shards"]
            .as_u64()
            .map(|moved| moved > 60_000),
        Some(true)
    );
    drop(answer);
    let (after, took) = settled_work_kb(pid, idle);
    report.push(format!("a {size} byte answer: {after} kB after {took:?}"));
    assert!(
        after <= idle + GIVEN_BACK_SLACK_KB,
        "the largest answer: {after} kB a second later, idle {idle} kB ({report:?})"
    );
    assert!(server.request("ping", json!({}))["result"].is_object());
    eprintln!("memory given back: {}", report.join("; "));
}

#[test]
fn prompt_arguments_are_bounded_and_say_so() {
    let mut server = Server::start();
    let listed = server.request("prompts/list", json!({}));
    let arguments = listed["result"]["prompts"][0]["arguments"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert!(!arguments.is_empty(), "{listed}");
    for argument in &arguments {
        let description = argument["description"].as_str().unwrap_or_default();
        assert!(description.contains("At most"), "{argument}");
    }
    let huge = "y".repeat(10 * 1024 * 1024);
    for (name, value) in [("system_description", &huge), ("metrics", &huge)] {
        let mut given = json!({"system_description": "a shop"});
        given[name] = json!(value);
        let answer = server.request(
            "prompts/get",
            json!({"name": "scaling_review", "arguments": given}),
        );
        let message = answer["error"]["message"].as_str().unwrap_or_default();
        assert!(
            message.contains(&format!("`{name}`")) && message.contains("at most"),
            "{}",
            short(&answer.to_string())
        );
        assert!(answer.to_string().len() < 4096);
    }
    let fine = server.request(
        "prompts/get",
        json!({"name": "scaling_review", "arguments": {"system_description": "é".repeat(4000)}}),
    );
    assert!(
        fine["result"]["messages"].is_array(),
        "{}",
        short(&fine.to_string())
    );
}

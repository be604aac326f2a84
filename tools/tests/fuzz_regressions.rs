//! Replays the inputs kept under `fuzz/regressions/tool_arguments/` through the very checks of
//! the `tool_arguments` fuzz target (`fuzz/src/arguments.rs`), and pins the refusals that the
//! reliability battery and the fuzzers found wanting: a huge field name took 27 s to refuse (the
//! edit distance behind "did you mean"), and the refusal repeated all 10 MB of it.

use std::time::{Duration, Instant};

use serde_json::{Map, Value, json};
use tools::{Advisor, CallError};

#[path = "../../fuzz/src/oracle.rs"]
mod oracle;

#[path = "../../fuzz/src/arguments.rs"]
mod arguments;

fn advisor() -> Advisor {
    Advisor::embedded().expect("the embedded knowledge base loads")
}

/// The kept inputs of one target, by file name, in a fixed order; fails when the folder is
/// missing or empty.
fn kept_inputs(target: &str) -> Vec<(String, Vec<u8>)> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fuzz/regressions")
        .join(target);
    let entries = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e} (the kept inputs of `{target}`)", dir.display()));
    let mut inputs: Vec<(String, Vec<u8>)> = entries
        .map(|entry| entry.expect("a readable folder").path())
        .filter(|path| path.is_file())
        .map(|path| {
            (
                path.display().to_string(),
                std::fs::read(&path).expect("a readable input"),
            )
        })
        .collect();
    // A replay of nothing proves nothing: the folder must hold inputs.
    assert!(!inputs.is_empty(), "{}: no kept inputs", dir.display());
    inputs.sort();
    inputs
}

#[test]
fn kept_fuzz_inputs_pass_the_fuzz_checks() {
    let advisor = advisor();
    for (name, input) in kept_inputs("tool_arguments") {
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            arguments::check(&advisor, &input)
        }));
        assert!(outcome.is_ok(), "{name} fails again");
    }
}

fn refusal(advisor: &Advisor, tool: &str, arguments: &Map<String, Value>) -> tools::ArgError {
    match advisor.call(tool, arguments) {
        Err(CallError::Arguments(error)) => error,
        Err(other) => panic!("{tool}: {other}"),
        Ok(output) => panic!("{tool} accepted: {}", output.structured),
    }
}

#[test]
fn a_ten_megabyte_field_name_is_refused_at_once_and_briefly() {
    let advisor = advisor();
    let huge = "x".repeat(10 * 1024 * 1024);
    for tool in advisor.tools() {
        let mut arguments = Map::new();
        arguments.insert(huge.clone(), json!(1));
        let started = Instant::now();
        let error = refusal(&advisor, tool.name, &arguments);
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "{}: {:?}",
            tool.name,
            started.elapsed()
        );
        assert!(
            error.field.starts_with("xxx") && error.field.len() <= 120,
            "{}: field of {} bytes",
            tool.name,
            error.field.len()
        );
        assert!(
            error.to_string().len() < 4096,
            "{}: a refusal of {} bytes",
            tool.name,
            error.to_string().len()
        );
        // A suffix on a real name still gets its suggestion.
        let first = tool.input_schema["properties"]
            .as_object()
            .and_then(|p| p.keys().next().cloned())
            .expect("a field");
        let mut arguments = Map::new();
        arguments.insert(format!("{first}{huge}"), json!(1));
        assert_eq!(
            refusal(&advisor, tool.name, &arguments).closest.as_deref(),
            Some(first.as_str()),
            "{}",
            tool.name
        );
    }
    let started = Instant::now();
    assert!(matches!(
        advisor.call(&huge, &Map::new()),
        Err(CallError::UnknownTool { .. })
    ));
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "an unknown 10 MB tool name: {:?}",
        started.elapsed()
    );
}

#[test]
fn numbers_beyond_f64_are_named_as_such() {
    // The stdio transport quotes `1e400`, `NaN` and `Infinity` so that they reach the field.
    let advisor = advisor();
    for raw in ["1e400", "-1e999", "NaN", "Infinity"] {
        let arguments = json!({"peak_rps": raw});
        let error = refusal(
            &advisor,
            "plan_capacity",
            arguments.as_object().expect("an object"),
        );
        assert_eq!(error.field, "peak_rps");
        assert!(
            error.received.contains(raw) && error.received.contains("finite"),
            "{}",
            error
        );
    }
}

#[test]
fn the_oracle_sees_an_overflow() {
    // What the fuzz target and the battery rely on: an overflowed f64 is `null` in JSON.
    let schema = json!({"type": "object", "properties": {"memory_gb": {"type": "number"}}, "required": ["memory_gb"]});
    let schema = schema.as_object().expect("an object");
    let overflowed = json!({"memory_gb": f64::INFINITY});
    assert_eq!(overflowed["memory_gb"], Value::Null);
    assert!(
        oracle::conforms(schema, &overflowed)
            .unwrap_err()
            .contains("overflowed")
    );
    assert!(oracle::conforms(schema, &json!({"memory_gb": 1e308})).is_ok());
    assert!(oracle::finite_text(&format!("{} GB", f64::INFINITY), &json!({})).is_err());
    assert!(oracle::finite_text("from inf", &json!({"from": "inf"})).is_ok());
}

//! Byte identity: every tool's answer, its `structuredContent` and its markdown (or its
//! refusal), for every example of `tools/fixtures/` and every tool call the e2e suite sends
//! (`answers/e2e_calls.jsonl`), at both `detail` levels, against the golden files
//! `answers/<tool>.golden`, written from the code as it was. A golden line holds a call's
//! fingerprint and its answer's (FNV-1a of the bytes: some 60,000 answers fit in a few
//! megabytes instead of hundreds). A change meant to keep every answer (a refactor) leaves
//! the files as they are; a change meant to alter answers writes them again with
//! `SCALE_ADVISOR_BLESS=1 cargo test -p scale-advisor-tools --test answers`: their diff says
//! which calls' answers changed, and a failing run shows the first changed call and its
//! answer now.
//!
//! The call corpus is recorded by the e2e harness: `SCALE_ADVISOR_RECORD_CALLS=1 cargo test
//! -p scale-advisor --test e2e` adds the calls it sends (see `tests/e2e/harness.rs`).

#[path = "../fixtures/examples.rs"]
mod examples;

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde_json::{Map, Value};
use tools::{Advisor, REGISTRY};

/// Calls to a name no tool has (the e2e suite sends some) are answered in this file.
const UNREGISTERED: &str = "unregistered_tools";

fn folder() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/answers")
}

/// The recorded e2e calls, as (tool, arguments); panics when the corpus is missing or empty,
/// so that the test cannot pass on nothing.
fn recorded_calls() -> Vec<(String, Map<String, Value>)> {
    let path = folder().join("e2e_calls.jsonl");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e} (record it, see tests/e2e/harness.rs)",
            path.display()
        )
    });
    let calls: Vec<(String, Map<String, Value>)> = text
        .lines()
        .map(|line| {
            let call: Value = serde_json::from_str(line)
                .unwrap_or_else(|e| panic!("{}: not JSON ({e}): {line}", path.display()));
            let (Some(tool), Some(Value::Object(arguments))) =
                (call["tool"].as_str(), call.get("arguments"))
            else {
                panic!(
                    "{}: a line without `tool` and object `arguments`: {line}",
                    path.display()
                );
            };
            (tool.to_string(), arguments.clone())
        })
        .collect();
    assert!(!calls.is_empty(), "{}: no calls", path.display());
    calls
}

/// The arguments as asked at each `detail`: concise and full, and the call as sent when it
/// asks for a `detail` that is neither (its refusal is an answer too).
fn at_both_details(arguments: &Map<String, Value>) -> Vec<Map<String, Value>> {
    let mut variants = Vec::new();
    if arguments
        .get("detail")
        .is_some_and(|d| d != "concise" && d != "full")
    {
        variants.push(arguments.clone());
    }
    for detail in ["concise", "full"] {
        let mut asked = arguments.clone();
        asked.insert("detail".into(), Value::from(detail));
        variants.push(asked);
    }
    variants
}

/// FNV-1a, 64 bits: a stable hash of an answer's bytes, so that the golden files hold every
/// answer's fingerprint (a few megabytes) rather than the answers (hundreds).
fn fnv(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(*byte)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// A call to answer: its tool and arguments, and its text, which keys it.
struct Call {
    tool: String,
    arguments: Map<String, Value>,
    text: String,
}

/// The answer to `call`, as a person reads it (to show what changed).
fn answer(advisor: &Advisor, call: &Call) -> String {
    match advisor.call(&call.tool, &call.arguments) {
        Ok(output) => format!(
            "structuredContent: {}\nmarkdown:\n{}",
            serde_json::to_string(&output.structured).expect("a result serializes"),
            output.markdown
        ),
        Err(refusal) => format!("refused: {refusal}"),
    }
}

/// One line of a golden file: the call's fingerprint, then its answer's (the
/// `structuredContent`'s and the markdown's, or the refusal's).
fn golden_line(advisor: &Advisor, call: &Call) -> String {
    let key = fnv(call.text.as_bytes());
    match advisor.call(&call.tool, &call.arguments) {
        Ok(output) => format!(
            "{key:016x} {:016x} {:016x}",
            fnv(serde_json::to_string(&output.structured)
                .expect("a result serializes")
                .as_bytes()),
            fnv(output.markdown.as_bytes())
        ),
        Err(refusal) => format!(
            "{key:016x} refused {:016x}",
            fnv(refusal.to_string().as_bytes())
        ),
    }
}

/// Every call to answer, by golden file, each once, in the order of its text.
fn calls_by_file() -> BTreeMap<String, Vec<Call>> {
    let mut calls: Vec<(String, Map<String, Value>)> =
        examples::all(REGISTRY.iter().map(|r| r.name))
            .into_iter()
            .map(|example| (example.tool, example.arguments))
            .collect();
    calls.extend(recorded_calls());
    let mut by_file: BTreeMap<String, BTreeMap<String, Call>> = BTreeMap::new();
    for (tool, arguments) in calls {
        let file = if REGISTRY.iter().any(|r| r.name == tool) {
            format!("{tool}.golden")
        } else {
            format!("{UNREGISTERED}.golden")
        };
        for asked in at_both_details(&arguments) {
            let text = format!("{tool} {}", Value::Object(asked.clone()));
            by_file.entry(file.clone()).or_default().insert(
                text.clone(),
                Call {
                    tool: tool.clone(),
                    arguments: asked,
                    text,
                },
            );
        }
    }
    by_file
        .into_iter()
        .map(|(file, calls)| (file, calls.into_values().collect()))
        .collect()
}

/// The golden lines of `calls`, answered on every core.
fn golden_text(advisor: &Advisor, calls: &[Call]) -> String {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let chunk = calls.len().div_ceil(threads).max(1);
    let parts: Vec<Vec<String>> = std::thread::scope(|scope| {
        let handles: Vec<_> = calls
            .chunks(chunk)
            .map(|part| scope.spawn(move || part.iter().map(|c| golden_line(advisor, c)).collect()))
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("a thread of answers"))
            .collect()
    });
    let mut text = parts.concat().join("\n");
    text.push('\n');
    text
}

/// Where a golden file and the answers now part: the first call whose line differs, and
/// its answer now.
fn first_difference(advisor: &Advisor, calls: &[Call], golden: &str, now: &str) -> String {
    let changed = golden
        .lines()
        .zip(now.lines())
        .find(|(g, n)| g != n)
        .map(|(_, n)| n.split(' ').next().unwrap_or_default().to_string());
    let call = changed.and_then(|key| {
        calls
            .iter()
            .find(|c| format!("{:016x}", fnv(c.text.as_bytes())) == key)
    });
    match call {
        Some(call) => {
            let mut now = answer(advisor, call);
            if now.len() > 3000 {
                let mut cut = 3000;
                while !now.is_char_boundary(cut) {
                    cut -= 1;
                }
                now.truncate(cut);
                now.push('…');
            }
            format!("first at {}\n--- its answer now ---\n{now}", call.text)
        }
        None => format!(
            "{} lines in the golden file, {} now (calls added or removed)",
            golden.lines().count(),
            now.lines().count()
        ),
    }
}

#[test]
fn every_answer_is_byte_identical_to_its_golden_file() {
    let advisor = Advisor::embedded().expect("the embedded knowledge base loads");
    let calls = calls_by_file();
    assert!(
        calls.len() > REGISTRY.len(),
        "{} golden files: one per tool and one for unregistered names",
        calls.len()
    );
    let now: BTreeMap<&String, String> = calls
        .iter()
        .map(|(file, calls)| (file, golden_text(&advisor, calls)))
        .collect();
    if std::env::var_os("SCALE_ADVISOR_BLESS").is_some_and(|v| v == "1") {
        for entry in std::fs::read_dir(folder()).expect("the answers folder") {
            let path = entry.expect("an entry").path();
            if path.extension().is_some_and(|e| e == "golden") {
                std::fs::remove_file(&path).expect("an old golden file is removed");
            }
        }
        for (file, text) in &now {
            std::fs::write(folder().join(file), text).expect("a golden file is written");
        }
        return;
    }
    let mut changed = Vec::new();
    for (file, text) in &now {
        let golden = std::fs::read_to_string(folder().join(file)).unwrap_or_default();
        if golden != *text {
            let difference = first_difference(&advisor, &calls[*file], &golden, text);
            changed.push(format!("{file}: {difference}"));
        }
    }
    let files = std::fs::read_dir(folder())
        .expect("the answers folder")
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|name| name.ends_with(".golden"));
    for file in files {
        if !now.contains_key(&file) {
            changed.push(format!("{file}: no call answers into it any more"));
        }
    }
    assert!(
        changed.is_empty(),
        "answers changed (if meant, write them again with SCALE_ADVISOR_BLESS=1 and review the diff):\n{}",
        changed.join("\n\n")
    );
}

//! The `logging` capability, honestly: a client that sets a level with `logging/setLevel`
//! hears `notifications/message` at or above it (start-up notes, a refused call, a slow
//! answer) and nothing below it; a client that never sets a level hears nothing.

use std::time::Duration;

use serde_json::{Value, json};

use crate::harness::Server;

/// Starts a server with `args`, completes the handshake, and returns it.
fn start_with(args: &[&str]) -> Server {
    let mut server = Server::raw_with(args);
    let init = server.request(
        "initialize",
        json!({"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "logging", "version": "0"}}),
    );
    assert!(
        init["result"]["capabilities"]["logging"].is_object(),
        "the logging capability is declared: {init}"
    );
    server.notify("notifications/initialized", json!({}));
    server
}

/// Sends a request and collects the `notifications/message` that arrive before its answer.
fn request_hearing(server: &mut Server, method: &str, params: Value) -> (Value, Vec<Value>) {
    let id = server.fresh_id();
    server.send(&json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}));
    let mut heard = Vec::new();
    loop {
        let message = server.read();
        if message.get("id") == Some(&json!(id)) && message.get("method").is_none() {
            return (message, heard);
        }
        if message["method"] == "notifications/message" {
            heard.push(message["params"].clone());
        }
    }
}

/// Whatever else the server writes within a moment (notifications sent after an answer).
fn heard_afterwards(server: &mut Server) -> Vec<Value> {
    let mut heard = Vec::new();
    while let Some(line) = server.read_line_within(Duration::from_millis(300)) {
        let message: Value = serde_json::from_str(&line).expect("JSON");
        if message["method"] == "notifications/message" {
            heard.push(message["params"].clone());
        }
    }
    heard
}

fn set_level(server: &mut Server, level: &str) -> Vec<Value> {
    let (answer, mut heard) = request_hearing(server, "logging/setLevel", json!({"level": level}));
    assert!(answer["result"].is_object(), "{answer}");
    heard.extend(heard_afterwards(server));
    heard
}

fn events(heard: &[Value]) -> Vec<&str> {
    heard
        .iter()
        .map(|p| p["data"]["event"].as_str().unwrap_or_default())
        .collect()
}

const BAD_CALL: (&str, &str) = ("diagnose_bottleneck", r#"{"db_cpu_pct": "high"}"#);

fn bad_call(server: &mut Server) -> Vec<Value> {
    let arguments: Value = serde_json::from_str(BAD_CALL.1).unwrap();
    let (answer, heard) = request_hearing(
        server,
        "tools/call",
        json!({"name": BAD_CALL.0, "arguments": arguments}),
    );
    assert_eq!(answer["result"]["isError"], json!(true), "{answer}");
    heard
}

#[test]
fn a_client_that_sets_warning_hears_a_refused_call_and_error_hears_nothing() {
    let mut server = start_with(&[]);
    // No level set yet: nothing is sent.
    assert!(bad_call(&mut server).is_empty());
    assert!(set_level(&mut server, "warning").is_empty());
    let heard = bad_call(&mut server);
    assert_eq!(events(&heard), ["refused_call"], "{heard:?}");
    assert_eq!(heard[0]["level"], "warning");
    assert_eq!(heard[0]["logger"], "scale-advisor");
    assert_eq!(heard[0]["data"]["tool"], BAD_CALL.0);
    assert!(
        heard[0]["data"]["reason"]
            .as_str()
            .is_some_and(|r| r.contains("db_cpu_pct")),
        "the reason names the field: {heard:?}"
    );
    // An unknown tool is refused too (a protocol error), and heard.
    let (answer, heard) = request_hearing(
        &mut server,
        "tools/call",
        json!({"name": "diagnose_botleneck", "arguments": {}}),
    );
    assert!(answer["error"].is_object(), "{answer}");
    assert_eq!(events(&heard), ["refused_call"], "{heard:?}");
    // A good call is no news.
    let (answer, heard) = request_hearing(
        &mut server,
        "tools/call",
        json!({"name": "diagnose_bottleneck", "arguments": {"db_cpu_pct": 75}}),
    );
    assert!(
        answer["result"]["structuredContent"].is_object(),
        "{answer}"
    );
    assert!(heard.is_empty(), "{heard:?}");
    // Raised to error: warnings are no longer sent.
    assert!(set_level(&mut server, "error").is_empty());
    assert!(bad_call(&mut server).is_empty());
    assert!(heard_afterwards(&mut server).is_empty());
}

#[test]
fn a_slow_answer_is_heard_at_warning() {
    // Every call is "slow" against a threshold of 0 ms.
    let mut server = start_with(&["--slow-call-ms", "0"]);
    assert!(set_level(&mut server, "warning").is_empty());
    let (_, heard) = request_hearing(
        &mut server,
        "tools/call",
        json!({"name": "plan_capacity", "arguments": {"peak_rps": 100}}),
    );
    assert_eq!(events(&heard), ["slow_answer"], "{heard:?}");
    assert_eq!(heard[0]["data"]["tool"], "plan_capacity");
    assert_eq!(heard[0]["data"]["slow_ms"], 0);
    assert!(heard[0]["data"]["elapsed_ms"].is_u64());
    assert!(set_level(&mut server, "error").is_empty());
    let (_, heard) = request_hearing(
        &mut server,
        "tools/call",
        json!({"name": "plan_capacity", "arguments": {"peak_rps": 100}}),
    );
    assert!(heard.is_empty(), "{heard:?}");
}

#[test]
fn start_up_notes_reach_a_client_whose_level_lets_them_through_once() {
    let dir = std::env::temp_dir().join(format!("scale-advisor-logging-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("runbook.md"), "# Runbook\n\nPage the on-call.\n").unwrap();
    let dir_arg = dir.to_str().unwrap();
    let args = ["--knowledge-dir", dir_arg, "--max-in-flight", "0"];

    // At warning: the corrected setting, not the notice about the folder.
    let mut server = start_with(&args);
    let heard = set_level(&mut server, "warning");
    assert_eq!(events(&heard), ["setting_raised"], "{heard:?}");
    assert!(
        heard[0]["data"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("--max-in-flight"))
    );
    // Lowered to notice: now the notice, and the warning is not sent twice.
    let heard = set_level(&mut server, "notice");
    assert_eq!(events(&heard), ["knowledge_dir"], "{heard:?}");
    assert_eq!(heard[0]["level"], "notice");
    assert!(
        heard[0]["data"]["added"][0]
            .as_str()
            .is_some_and(|p| p.ends_with("runbook.md")),
        "{heard:?}"
    );
    assert!(set_level(&mut server, "debug").is_empty());
    drop(server);

    // At error: neither.
    let mut server = start_with(&args);
    assert!(set_level(&mut server, "error").is_empty());
    drop(server);
    let _ = std::fs::remove_dir_all(&dir);
}

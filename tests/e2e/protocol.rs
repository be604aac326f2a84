//! The MCP surface through the real binary: both handshake generations, listings, resources and
//! fragments, the prompt, the skill, JSON-RPC errors, and the process lifecycle.

use std::time::Duration;

use serde_json::{Value, json};

use crate::harness::{BINARY, Server};

const REQUIRED: &[&str] = knowledge::REQUIRED_SLUGS;

fn meta() -> Value {
    json!({"io.modelcontextprotocol/protocolVersion": "2026-07-28", "io.modelcontextprotocol/clientCapabilities": {}})
}

#[test]
fn initialize_answers_in_the_clients_revision() {
    for version in ["2025-06-18", "2025-11-25"] {
        let mut server = Server::raw();
        let response = server.request(
            "initialize",
            json!({"protocolVersion": version, "capabilities": {}, "clientInfo": {"name": "t", "version": "0"}}),
        );
        let result = &response["result"];
        assert_eq!(result["protocolVersion"], version);
        assert_eq!(result["serverInfo"]["name"], "scale-advisor");
        assert_eq!(result["serverInfo"]["version"], env!("CARGO_PKG_VERSION"));
        for capability in ["tools", "resources", "prompts", "logging"] {
            assert!(
                result["capabilities"][capability].is_object(),
                "{capability} missing: {result}"
            );
        }
        assert!(result["capabilities"]["extensions"]["io.modelcontextprotocol/skills"].is_object());
    }
    // A revision the server does not know is answered with the newest it shares.
    let mut server = Server::raw();
    let response = server.request(
        "initialize",
        json!({"protocolVersion": "2024-11-05", "capabilities": {}, "clientInfo": {"name": "t", "version": "0"}}),
    );
    assert_eq!(response["result"]["protocolVersion"], "2025-11-25");
}

#[test]
fn discover_and_handshake_free_requests() {
    let mut server = Server::raw();
    let response = server.request("server/discover", json!({"_meta": meta()}));
    let versions = &response["result"]["supportedVersions"];
    assert_eq!(
        versions,
        &json!(["2025-06-18", "2025-11-25", "2026-07-28"]),
        "{response}"
    );
    let tools = server.request("tools/list", json!({"_meta": meta()}));
    assert!(
        !tools["result"]["tools"].as_array().unwrap().is_empty(),
        "{tools}"
    );
    let call = server.request(
        "tools/call",
        json!({"_meta": meta(), "name": "diagnose_bottleneck", "arguments": {"users": 20000}}),
    );
    assert_eq!(
        call["result"]["structuredContent"]["current_stage"]["number"], 2,
        "{call}"
    );
    let read = server.request(
        "resources/read",
        json!({"_meta": meta(), "uri": "knowledge://caching"}),
    );
    assert!(
        read["result"]["contents"][0]["text"]
            .as_str()
            .unwrap()
            .starts_with("# ")
    );
}

#[test]
fn tools_declare_schemas_and_annotations() {
    let mut server = Server::start();
    let response = server.request("tools/list", json!({}));
    let tools = response["result"]["tools"].as_array().unwrap();
    assert!(tools.iter().any(|t| t["name"] == "diagnose_bottleneck"));
    for tool in tools {
        let name = tool["name"].as_str().unwrap();
        assert_eq!(tool["inputSchema"]["type"], "object", "{name}");
        assert!(tool["outputSchema"]["type"] == "object", "{name}");
        assert!(!tool["description"].as_str().unwrap().is_empty());
        let annotations = &tool["annotations"];
        assert_eq!(annotations["readOnlyHint"], true, "{name}");
        assert_eq!(annotations["idempotentHint"], true, "{name}");
        // Closed-world, but for the tool that reads the live system (contract §8); without a
        // configured source the tools that take `observe` stay closed-world (§9).
        assert_eq!(
            annotations["openWorldHint"],
            name == "observe_system",
            "{name}"
        );
        // Meaningful only when `readOnlyHint` is false, so left out.
        assert_eq!(annotations.get("destructiveHint"), None, "{name}");
        for (field, property) in tool["inputSchema"]["properties"].as_object().unwrap() {
            let described = property
                .get("description")
                .and_then(Value::as_str)
                .is_some_and(|d| d.len() > 5);
            assert!(described, "{name}.{field} has no description");
        }
    }
}

#[test]
fn every_document_and_a_fragment_can_be_read() {
    let mut server = Server::start();
    let response = server.request("resources/list", json!({}));
    let resources = response["result"]["resources"].as_array().unwrap();
    for slug in REQUIRED {
        let uri = format!("knowledge://{slug}");
        let listed = resources
            .iter()
            .find(|r| r["uri"] == uri.as_str())
            .unwrap_or_else(|| panic!("{uri} not listed"));
        assert_eq!(listed["mimeType"], "text/markdown");
        let read = server.read_resource(&uri);
        let content = &read["result"]["contents"][0];
        assert_eq!(content["mimeType"], "text/markdown");
        assert!(content["text"].as_str().unwrap().starts_with("# "), "{uri}");
    }
    let read = server.read_resource("knowledge://scaling-stages#graduation-triggers");
    let text = read["result"]["contents"][0]["text"].as_str().unwrap();
    assert!(text.starts_with("## Graduation triggers"), "{text}");
    assert!(text.contains("| from_stage |"));
    assert!(
        !text.contains("\n## "),
        "a fragment stops at the next section: {text}"
    );
    let whole = server.read_resource("knowledge://scaling-stages");
    assert!(
        whole["result"]["contents"][0]["text"]
            .as_str()
            .unwrap()
            .len()
            > text.len()
    );
}

#[test]
fn unknown_resources_are_not_found_with_a_hint() {
    let mut server = Server::start();
    let response = server.read_resource("knowledge://cachng");
    // Resource not found: -32002 until 2026-07-28, which makes it invalid params (-32602).
    let code = if crate::harness::revision() == crate::harness::HANDSHAKE_FREE {
        -32602
    } else {
        -32002
    };
    assert_eq!(response["error"]["code"], code, "{response}");
    assert!(
        response["error"]["message"]
            .as_str()
            .unwrap()
            .contains("`caching`")
    );
    let response = server.read_resource("knowledge://caching#no-such-section");
    assert_eq!(response["error"]["code"], code, "{response}");
    let response = server.read_resource("https://example.com/");
    assert_eq!(response["error"]["code"], code, "{response}");
}

#[test]
fn the_scaling_review_prompt() {
    let mut server = Server::start();
    let list = server.request("prompts/list", json!({}));
    let prompt = &list["result"]["prompts"][0];
    assert_eq!(prompt["name"], "scaling_review");
    let arguments = prompt["arguments"].as_array().unwrap();
    assert_eq!(arguments[0]["name"], "system_description");
    assert_eq!(arguments[0]["required"], true);
    assert_eq!(arguments[1]["name"], "metrics");
    let got = server.request(
        "prompts/get",
        json!({"name": "scaling_review", "arguments": {"system_description": "A shop on one Postgres", "metrics": "p95 800 ms"}}),
    );
    let text = got["result"]["messages"][0]["content"]["text"]
        .as_str()
        .unwrap();
    for needle in [
        "A shop on one Postgres",
        "p95 800 ms",
        "diagnose_bottleneck",
        "Current Architecture Analysis",
        "Risk Mitigation",
    ] {
        assert!(text.contains(needle), "{needle} missing: {text}");
    }
    let missing = server.request(
        "prompts/get",
        json!({"name": "scaling_review", "arguments": {}}),
    );
    assert_eq!(missing["error"]["code"], -32602, "{missing}");
    assert!(
        missing["error"]["message"]
            .as_str()
            .unwrap()
            .contains("system_description")
    );
    let unknown = server.request("prompts/get", json!({"name": "review"}));
    assert_eq!(unknown["error"]["code"], -32602);
}

#[test]
fn the_skill_is_served() {
    let mut server = Server::start();
    let list = server.request("skills/list", json!({}));
    let skill = &list["result"]["skills"][0];
    assert_eq!(skill["uri"], "skill://scale-advisor/SKILL.md", "{list}");
    assert_eq!(skill["frontmatter"]["name"], "scale-advisor");
    let got = server.request(
        "skills/get",
        json!({"uri": "skill://scale-advisor/SKILL.md"}),
    );
    assert_eq!(
        got["result"]["skill"]["uri"], "skill://scale-advisor/SKILL.md",
        "{got}"
    );
    let read = server.read_resource("skill://scale-advisor/SKILL.md");
    let text = read["result"]["contents"][0]["text"].as_str().unwrap();
    assert!(text.starts_with("---\nname: scale-advisor\n"));
    let size = skill["resources"][0]["size"].as_u64().unwrap();
    assert_eq!(size as usize, text.len());
}

#[test]
fn json_rpc_errors_and_the_server_keeps_serving() {
    let mut server = Server::start();
    let cases: Vec<(String, i64)> = vec![
        ("this is not json".into(), -32700),
        (r#"{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"diagnose_bottleneck","arguments":{"users":1}"#.into(), -32700),
        (r#"[1,2,3]"#.into(), -32600),
        (r#"{"jsonrpc":"1.0","id":8,"method":"ping"}"#.into(), -32600),
        (r#"{"jsonrpc":"2.0","id":9}"#.into(), -32600),
        (r#"{"jsonrpc":"2.0","id":10,"method":"no/such/method"}"#.into(), -32601),
        (r#"{"jsonrpc":"2.0","id":11,"method":"tools/call","params":{"name":"no_such_tool","arguments":{}}}"#.into(), -32602),
        (r#"{"jsonrpc":"2.0","id":12,"method":"tools/call","params":{"name":"diagnose_bottleneck","arguments":"users=5"}}"#.into(), -32602),
        (r#"{"jsonrpc":"2.0","id":13,"method":"tools/call","params":"x"}"#.into(), -32600),
    ];
    for (line, code) in cases {
        server.send_line(&line);
        let response = server.read();
        assert_eq!(response["error"]["code"], code, "{line} -> {response}");
        assert!(!response["error"]["message"].as_str().unwrap().is_empty());
        assert!(
            server.request("ping", json!({}))["result"].is_object(),
            "not serving after {line}"
        );
    }
    // Blank lines are ignored, not answered.
    server.send_line("");
    server.send_line("   ");
    assert!(server.request("ping", json!({}))["result"].is_object());
    // A notification is never answered, even an unknown one.
    server.notify("notifications/nonsense", json!({}));
    assert!(
        server
            .read_line_within(Duration::from_millis(200))
            .is_none()
    );
}

#[test]
fn exits_zero_when_stdin_closes() {
    let server = Server::start();
    assert!(server.close().success());
    // Also before any handshake, and in the middle of a line.
    let server = Server::raw();
    assert!(server.close().success());
    let mut server = Server::raw();
    use std::io::Write;
    let _ = server
        .child()
        .stdin
        .as_mut()
        .map(|s| s.write_all(b"{\"jsonrpc\":\"2.0\",\"id\":1,"));
    assert!(server.close().success());
}

#[test]
fn stdout_carries_only_json_rpc() {
    let output = std::process::Command::new(BINARY)
        .args(["serve", "--log-level", "trace"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            use std::io::Write;
            let mut stdin = child.stdin.take().unwrap();
            let lines = [
                json!({"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"t","version":"0"}}}),
                json!({"jsonrpc":"2.0","method":"notifications/initialized"}),
                json!({"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"diagnose_bottleneck","arguments":{"db_cpu_pct":99}}}),
                json!({"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"diagnose_bottleneck","arguments":{}}}),
            ];
            for line in lines {
                writeln!(stdin, "{line}")?;
            }
            drop(stdin);
            child.wait_with_output()
        })
        .expect("runs");
    assert!(output.status.success());
    let stdout = String::from_utf8(output.stdout).unwrap();
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 3, "{stdout}");
    for line in lines {
        let message: Value = serde_json::from_str(line).unwrap();
        assert_eq!(message["jsonrpc"], "2.0");
    }
    assert!(!output.stderr.is_empty(), "trace logs go to stderr");
}

#[test]
fn cli_tools_and_call() {
    let run = |args: &[&str]| {
        std::process::Command::new(BINARY)
            .args(args)
            .output()
            .expect("runs")
    };
    let tools = run(&["tools"]);
    assert!(tools.status.success());
    assert!(String::from_utf8_lossy(&tools.stdout).contains("diagnose_bottleneck"));
    let call = run(&[
        "call",
        "diagnose_bottleneck",
        r#"{"users": 50000, "db_cpu_pct": 90}"#,
    ]);
    assert!(call.status.success());
    assert!(String::from_utf8_lossy(&call.stdout).starts_with("## Stage 2 · Caching"));
    let json = run(&[
        "call",
        "diagnose_bottleneck",
        r#"{"users": 50000}"#,
        "--json",
    ]);
    let parsed: Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(parsed["current_stage"]["number"], 2);
    let bad = run(&["call", "diagnose_bottleneck", r#"{"db_cpu_pct": 150}"#]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("db_cpu_pct"));
    let unknown = run(&["call", "diagnose", "{}"]);
    assert_eq!(unknown.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("diagnose_bottleneck"));
    let help = run(&["--help"]);
    assert!(String::from_utf8_lossy(&help.stdout).contains("serve"));
}

#[test]
fn knowledge_dir_overrides_and_refuses_malformed_files() {
    let dir = std::env::temp_dir().join(format!("scale-advisor-kd-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let monitoring = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../knowledge/docs/monitoring.md"
    ))
    .unwrap();
    // A team that alerts on database CPU above 50% instead of 60%.
    std::fs::write(
        dir.join("monitoring.md"),
        monitoring.replace("`db_cpu_pct > 60`", "`db_cpu_pct > 50`"),
    )
    .unwrap();
    std::fs::write(
        dir.join("runbook.md"),
        "# Our runbook\n\nPage the on-call.\n",
    )
    .unwrap();
    let dir_arg = dir.to_str().unwrap();
    let mut server = Server::raw_with(&["--knowledge-dir", dir_arg]);
    let init = server.request(
        "initialize",
        json!({"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "t", "version": "0"}}),
    );
    assert!(init["result"].is_object());
    let result = server.call_ok("diagnose_bottleneck", json!({"db_cpu_pct": 55}));
    assert_eq!(result["findings"][0]["id"], "db_cpu_saturation");
    let extra = server.read_resource("knowledge://runbook");
    assert!(
        extra["result"]["contents"][0]["text"]
            .as_str()
            .unwrap()
            .contains("on-call")
    );
    drop(server);

    // A threshold that is not a number is refused at start-up with the file and line.
    std::fs::write(
        dir.join("monitoring.md"),
        monitoring.replace("`db_cpu_pct > 60`", "`db_cpu_pct > sixty`"),
    )
    .unwrap();
    let output = std::process::Command::new(BINARY)
        .args(["--knowledge-dir", dir_arg, "serve"])
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("monitoring.md:") && stderr.contains("sixty"),
        "{stderr}"
    );
    // An unknown metric is refused with the closest known one.
    std::fs::write(
        dir.join("monitoring.md"),
        monitoring.replace("`db_cpu_pct > 60`", "`db_cpu > 60`"),
    )
    .unwrap();
    let output = std::process::Command::new(BINARY)
        .args(["--knowledge-dir", dir_arg, "tools"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        !output.status.success() && stderr.contains("db_cpu_pct"),
        "{stderr}"
    );
    // A missing required table.
    std::fs::write(dir.join("monitoring.md"), "# Monitoring\n\nNothing here.\n").unwrap();
    let output = std::process::Command::new(BINARY)
        .args(["--knowledge-dir", dir_arg, "tools"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        !output.status.success() && stderr.contains("diagnostic-findings"),
        "{stderr}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn completion_offers_slugs_and_anchors() {
    let mut server = Server::start();
    let template = json!({"type": "ref/resource", "uri": "knowledge://{slug}#{anchor}"});
    let slugs = server.request(
        "completion/complete",
        json!({"ref": template, "argument": {"name": "slug", "value": "ca"}}),
    );
    assert_eq!(
        slugs["result"]["completion"]["values"],
        json!(["caching", "capacity-planning"]),
        "{slugs}"
    );
    let anchors = server.request(
        "completion/complete",
        json!({"ref": template, "argument": {"name": "anchor", "value": "write"}, "context": {"arguments": {"slug": "caching"}}}),
    );
    let values = anchors["result"]["completion"]["values"]
        .as_array()
        .unwrap();
    assert!(values.contains(&json!("write-strategies")), "{anchors}");
    let prompt = server.request(
        "completion/complete",
        json!({"ref": {"type": "ref/prompt", "name": "scaling_review"}, "argument": {"name": "metrics", "value": "p"}}),
    );
    assert_eq!(
        prompt["result"]["completion"]["values"],
        json!([]),
        "{prompt}"
    );
}

//! The MCP Apps extension (`io.modelcontextprotocol/ui`) as a host meets it: the capability,
//! the `_meta.ui.resourceUri` of the tools that have the report page, the `ui://` resource
//! through `resources/list` and `resources/read`, and the page that `call --html` writes. The
//! page drawn in a browser is tested by `tests/pages/`.

use std::process::Command;

use serde_json::{Value, json};

use crate::harness::{BINARY, Server};

const EXTENSION: &str = "io.modelcontextprotocol/ui";
const MIME: &str = "text/html;profile=mcp-app";
const PAGE_TOOLS: [&str; 2] = ["scaling_report", "forecast_growth"];

/// A host's handshake: `initialize` declaring that it renders MCP Apps views.
fn host() -> (Server, Value) {
    let mut server = Server::raw();
    let response = server.request(
        "initialize",
        json!({
            "protocolVersion": "2025-11-25",
            "capabilities": {"extensions": {EXTENSION: {"mimeTypes": [MIME]}}},
            "clientInfo": {"name": "apps-host", "version": "0"}
        }),
    );
    server.notify("notifications/initialized", json!({}));
    (server, response["result"].clone())
}

#[test]
fn a_host_finds_the_page_through_the_tools_and_reads_it() {
    let (mut server, init) = host();
    assert_eq!(
        init["capabilities"]["extensions"][EXTENSION]["mimeTypes"],
        json!([MIME]),
        "{init}"
    );

    let tools = server.request("tools/list", json!({}));
    let tools = tools["result"]["tools"].as_array().expect("a tool list");
    let mut linked = Vec::new();
    for tool in tools {
        let name = tool["name"].as_str().unwrap_or_default();
        let uri = &tool["_meta"]["ui"]["resourceUri"];
        if PAGE_TOOLS.contains(&name) {
            assert!(uri.is_string(), "{name} links no view: {tool}");
            linked.push(uri.as_str().unwrap_or_default().to_string());
        } else {
            assert!(uri.is_null(), "{name} should have no view: {tool}");
        }
    }
    assert!(
        !linked.is_empty(),
        "no tool links a view (scaling_report must)"
    );
    linked.dedup();
    assert_eq!(
        linked,
        ["ui://scale-advisor/report.html"],
        "one page for both"
    );
    let uri = &linked[0];

    let listed = server.request("resources/list", json!({}));
    let entry = listed["result"]["resources"]
        .as_array()
        .and_then(|all| all.iter().find(|r| r["uri"] == uri.as_str()).cloned())
        .unwrap_or_else(|| panic!("{uri} not in resources/list: {listed}"));
    assert_eq!(entry["mimeType"], MIME);

    let read = server.read_resource(uri);
    let contents = &read["result"]["contents"][0];
    assert_eq!(contents["uri"], uri.as_str());
    assert_eq!(contents["mimeType"], MIME, "{read}");
    let html = contents["text"].as_str().expect("the page as text");
    assert!(html.starts_with("<!DOCTYPE html>"), "an HTML5 document");
    assert!(
        html.contains("default-src 'none'"),
        "a strict Content-Security-Policy"
    );
    assert!(
        html.contains(r#"id="embedded-result">null</script>"#),
        "the served view carries no result: it waits for ui/notifications/tool-result"
    );
    assert!(html.contains("ui/notifications/tool-result") && html.contains("ui/initialize"));
    // No host-specific network access is asked for.
    assert_eq!(contents["_meta"]["ui"]["csp"], json!({}), "{read}");
    assert_eq!(entry["size"].as_u64(), Some(html.len() as u64));
}

#[test]
fn the_handshake_free_revision_declares_the_extension_too() {
    let mut server = Server::raw();
    let response = server.request(
        "server/discover",
        json!({"_meta": {"io.modelcontextprotocol/protocolVersion": "2026-07-28", "io.modelcontextprotocol/clientCapabilities": {"extensions": {EXTENSION: {"mimeTypes": [MIME]}}}}}),
    );
    assert_eq!(
        response["result"]["capabilities"]["extensions"][EXTENSION]["mimeTypes"],
        json!([MIME]),
        "{response}"
    );
}

#[test]
fn call_html_writes_the_page_with_the_result_embedded() {
    let dir = std::env::temp_dir().join(format!("scale-advisor-page-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a temp dir");
    let page = dir.join("report.html");
    let arguments = json!({"system": {"users": 50000, "db_cpu_pct": 75, "cache_hit_rate_pct": 60}});
    let output = Command::new(BINARY)
        .args(["call", "scaling_report", &arguments.to_string(), "--html"])
        .arg(&page)
        .output()
        .expect("the binary runs");
    assert!(output.status.success(), "{output:?}");
    assert!(
        String::from_utf8_lossy(&output.stdout).contains("## Bottlenecks Identified"),
        "the markdown is still printed"
    );
    let html = std::fs::read_to_string(&page).expect("the page is written");
    let start = html
        .find(r#"id="embedded-result">"#)
        .expect("the result slot")
        + r#"id="embedded-result">"#.len();
    let end = start + html[start..].find("</script>").expect("the slot closes");
    let embedded: Value = serde_json::from_str(&html[start..end]).expect("the slot holds JSON");
    assert_eq!(
        embedded["structuredContent"]["sections"]
            .as_array()
            .map(Vec::len),
        Some(7)
    );
    assert!(
        embedded["structuredContent"]["architecture"]["boxes"]
            .as_array()
            .is_some_and(|b| !b.is_empty())
    );
    assert!(embedded["content"][0]["text"].as_str().is_some());

    // A tool without the page is refused before it runs, naming the tools that have it.
    let refused = Command::new(BINARY)
        .args(["call", "size_cache", "{}", "--html"])
        .arg(dir.join("cache.html"))
        .output()
        .expect("the binary runs");
    assert_eq!(refused.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(
        stderr.contains("scaling_report") && stderr.contains("size_cache"),
        "{stderr}"
    );
    assert!(!dir.join("cache.html").exists());
    let _ = std::fs::remove_dir_all(&dir);
}

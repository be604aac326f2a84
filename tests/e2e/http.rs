//! `serve --http` through real HTTP: a small HTTP/1.1 client over `TcpStream` (no client
//! library between the test and the wire), against the real binary on a loopback port.
//! Both protocol generations, both server modes, and every refusal the issue names: a foreign
//! Origin or Host (403), a missing or wrong token (401), an oversize body (413), a slow body
//! (408), plus 64 concurrent clients without an error and a SIGTERM that drains.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::harness::BINARY;

/// A running `scale-advisor serve --http 127.0.0.1:0 …`.
struct HttpServer {
    child: Child,
    /// `127.0.0.1:PORT`, as announced on stderr.
    authority: String,
    /// Everything the server wrote to stderr after the announcement.
    log: Arc<Mutex<String>>,
}

impl HttpServer {
    fn start(args: &[&str]) -> Self {
        Self::start_with_env(args, &[])
    }

    fn start_with_env(args: &[&str], env: &[(&str, &str)]) -> Self {
        let mut child = Command::new(BINARY)
            .args(["serve", "--http", "127.0.0.1:0"])
            .args(args)
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the binary starts");
        let mut stderr = BufReader::new(child.stderr.take().expect("stderr is piped"));
        let mut announcement = String::new();
        stderr
            .read_line(&mut announcement)
            .expect("the server announces its address");
        let authority = announcement
            .split("http://")
            .nth(1)
            .and_then(|rest| rest.split('/').next())
            .unwrap_or_else(|| panic!("no address in the announcement: {announcement:?}"))
            .to_string();
        let log = Arc::new(Mutex::new(String::new()));
        let sink = log.clone();
        std::thread::spawn(move || {
            for line in stderr.lines().map_while(Result::ok) {
                if let Ok(mut log) = sink.lock() {
                    log.push_str(&line);
                    log.push('\n');
                }
            }
        });
        Self {
            child,
            authority,
            log,
        }
    }

    fn port(&self) -> &str {
        self.authority.rsplit(':').next().unwrap_or_default()
    }

    fn connect(&self) -> Conn {
        Conn::open(&self.authority)
    }

    /// One POST to /mcp on a fresh connection with the usual MCP headers plus `extra`.
    fn post(&self, extra: &[(&str, &str)], body: &Value) -> Reply {
        self.connect().post(extra, body)
    }

    /// Sends SIGTERM and waits (up to 15 s) for the exit status.
    fn terminate(mut self) -> ExitStatus {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(status.success(), "kill -TERM failed");
        wait_exit(&mut self.child, Duration::from_secs(15))
    }
}

impl Drop for HttpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn wait_exit(child: &mut Child, patience: Duration) -> ExitStatus {
    let until = Instant::now() + patience;
    while Instant::now() < until {
        if let Some(status) = child.try_wait().expect("wait") {
            return status;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    panic!("the server did not exit within {patience:?}");
}

/// An HTTP response.
#[derive(Debug)]
struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Reply {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The JSON-RPC message in the body: plain JSON, or the last `data:` event of an SSE body.
    fn message(&self) -> Value {
        let text = self.text();
        if self
            .header("content-type")
            .is_some_and(|t| t.starts_with("text/event-stream"))
        {
            text.lines()
                .rev()
                .filter_map(|line| line.strip_prefix("data:"))
                .filter_map(|data| serde_json::from_str::<Value>(data.trim()).ok())
                .find(|message| message.get("id").is_some())
                .unwrap_or_else(|| panic!("no JSON-RPC response in the event stream: {text}"))
        } else {
            serde_json::from_str(&text)
                .unwrap_or_else(|e| panic!("the body is not JSON ({e}): {text}"))
        }
    }

    /// The `result` of a JSON-RPC response; panics on anything else.
    fn result(&self) -> Value {
        assert_eq!(self.status, 200, "HTTP {}: {}", self.status, self.text());
        let message = self.message();
        message
            .get("result")
            .cloned()
            .unwrap_or_else(|| panic!("no result: {message}"))
    }
}

/// One keep-alive HTTP/1.1 connection.
struct Conn {
    reader: BufReader<TcpStream>,
    authority: String,
}

impl Conn {
    fn open(authority: &str) -> Self {
        let stream = TcpStream::connect(authority).expect("the server accepts a connection");
        stream
            .set_read_timeout(Some(Duration::from_secs(20)))
            .expect("timeout");
        stream.set_nodelay(true).expect("nodelay");
        Self {
            reader: BufReader::new(stream),
            authority: authority.to_string(),
        }
    }

    fn write_all(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        self.reader.get_mut().write_all(bytes)
    }

    /// The request line and headers, `Host` first unless `headers` names one.
    fn head(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        length: Option<usize>,
    ) -> String {
        let mut head = format!("{method} {path} HTTP/1.1\r\n");
        if !headers.iter().any(|(n, _)| n.eq_ignore_ascii_case("host")) {
            head.push_str(&format!("Host: {}\r\n", self.authority));
        }
        for (name, value) in headers {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        if let Some(length) = length {
            head.push_str(&format!("Content-Length: {length}\r\n"));
        }
        head.push_str("\r\n");
        head
    }

    fn request(
        &mut self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> Reply {
        let length = (method != "GET").then_some(body.len());
        crate::harness::record_sent(body);
        let mut bytes = self.head(method, path, headers, length).into_bytes();
        bytes.extend_from_slice(body);
        self.write_all(&bytes).expect("the request is sent");
        self.read_reply().expect("a reply arrives")
    }

    fn post(&mut self, extra: &[(&str, &str)], body: &Value) -> Reply {
        let mut headers = vec![
            ("Content-Type", "application/json"),
            ("Accept", "application/json, text/event-stream"),
        ];
        headers.extend_from_slice(extra);
        self.request("POST", "/mcp", &headers, body.to_string().as_bytes())
    }

    fn read_reply(&mut self) -> std::io::Result<Reply> {
        let mut line = String::new();
        self.reader.read_line(&mut line)?;
        let status = line
            .split_whitespace()
            .nth(1)
            .and_then(|code| code.parse().ok())
            .ok_or_else(|| std::io::Error::other(format!("not an HTTP status line: {line:?}")))?;
        let mut headers = Vec::new();
        loop {
            line.clear();
            self.reader.read_line(&mut line)?;
            let trimmed = line.trim_end();
            if trimmed.is_empty() {
                break;
            }
            if let Some((name, value)) = trimmed.split_once(':') {
                headers.push((name.trim().to_string(), value.trim().to_string()));
            }
        }
        let find = |name: &str| {
            headers
                .iter()
                .find(|(n, _): &&(String, String)| n.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.clone())
        };
        let mut body = Vec::new();
        if let Some(length) = find("content-length").and_then(|v| v.parse::<usize>().ok()) {
            body.resize(length, 0);
            self.reader.read_exact(&mut body)?;
        } else if find("transfer-encoding").is_some_and(|v| v.eq_ignore_ascii_case("chunked")) {
            loop {
                line.clear();
                self.reader.read_line(&mut line)?;
                let size = usize::from_str_radix(line.trim().split(';').next().unwrap_or("0"), 16)
                    .map_err(std::io::Error::other)?;
                if size == 0 {
                    line.clear();
                    self.reader.read_line(&mut line)?;
                    break;
                }
                let start = body.len();
                body.resize(start + size, 0);
                self.reader.read_exact(&mut body[start..])?;
                line.clear();
                self.reader.read_line(&mut line)?;
            }
        } else if status != 204 && status != 304 {
            self.reader.read_to_end(&mut body)?;
        }
        Ok(Reply {
            status,
            headers,
            body,
        })
    }
}

fn initialize(version: &str) -> Value {
    json!({"jsonrpc": "2.0", "id": 1, "method": "initialize",
           "params": {"protocolVersion": version, "capabilities": {}, "clientInfo": {"name": "e2e-http", "version": "0"}}})
}

/// A 2026-07-28 request: its protocol facts travel in `_meta`, and its method in headers.
fn modern(id: i64, method: &str, mut params: Value) -> Value {
    params["_meta"] = json!({
        "io.modelcontextprotocol/protocolVersion": "2026-07-28",
        "io.modelcontextprotocol/clientInfo": {"name": "e2e-http", "version": "0"},
        "io.modelcontextprotocol/clientCapabilities": {},
    });
    json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params})
}

const LEGACY: (&str, &str) = ("MCP-Protocol-Version", "2025-11-25");

fn diagnose(id: i64) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "method": "tools/call",
           "params": {"name": "diagnose_bottleneck", "arguments": {"users": 50000, "db_cpu_pct": 75}}})
}

fn assert_diagnosis(result: &Value) {
    assert_ne!(
        result["isError"],
        json!(true),
        "the call was refused: {result}"
    );
    assert_eq!(
        result["structuredContent"]["current_stage"]["number"],
        json!(2),
        "{result}"
    );
    let text = result["content"][0]["text"].as_str().unwrap_or_default();
    assert!(text.contains("db_cpu_saturation"), "{text}");
}

#[test]
fn stateless_serves_the_handshake_generation_without_sessions() {
    let server = HttpServer::start(&[]);
    let init = server.post(&[], &initialize("2025-11-25"));
    let result = init.result();
    assert_eq!(result["protocolVersion"], json!("2025-11-25"));
    assert_eq!(result["serverInfo"]["name"], json!("scale-advisor"));
    assert!(
        init.header("mcp-session-id").is_none(),
        "a stateless server handed out a session"
    );
    // Any request stands on its own: no session, a fresh connection, the same answer.
    assert_diagnosis(&server.post(&[LEGACY], &diagnose(2)).result());
    let tools = server
        .post(
            &[LEGACY],
            &json!({"jsonrpc": "2.0", "id": 3, "method": "tools/list"}),
        )
        .result();
    assert!(
        tools["tools"]
            .as_array()
            .is_some_and(|t| t.iter().any(|t| t["name"] == "diagnose_bottleneck")),
        "{tools}"
    );
    // An older revision is answered in the newest one shared.
    assert_eq!(
        server.post(&[], &initialize("2025-06-18")).result()["protocolVersion"],
        json!("2025-06-18")
    );
    assert_eq!(server.terminate().code(), Some(0));
}

#[test]
fn stateless_serves_2026_07_28_requests() {
    let server = HttpServer::start(&[]);
    let version = ("MCP-Protocol-Version", "2026-07-28");
    let discover = server.post(
        &[version, ("Mcp-Method", "server/discover")],
        &modern(1, "server/discover", json!({})),
    );
    let result = discover.result();
    assert!(
        result["supportedVersions"]
            .as_array()
            .is_some_and(|v| v.contains(&json!("2026-07-28"))),
        "{result}"
    );
    let call = modern(
        2,
        "tools/call",
        json!({"name": "diagnose_bottleneck", "arguments": {"users": 50000, "db_cpu_pct": 75}}),
    );
    let reply = server.post(
        &[
            version,
            ("Mcp-Method", "tools/call"),
            ("Mcp-Name", "diagnose_bottleneck"),
        ],
        &call,
    );
    assert_diagnosis(&reply.result());
    let read = modern(3, "resources/read", json!({"uri": "knowledge://caching"}));
    let reply = server.post(
        &[
            version,
            ("Mcp-Method", "resources/read"),
            ("Mcp-Name", "knowledge://caching"),
        ],
        &read,
    );
    assert!(
        reply.result()["contents"][0]["text"]
            .as_str()
            .is_some_and(|t| t.starts_with('#'))
    );
}

#[test]
fn stateful_mode_gives_the_handshake_generation_a_session() {
    let server = HttpServer::start(&["--stateful"]);
    let mut conn = server.connect();
    let init = conn.post(&[], &initialize("2025-11-25"));
    assert_eq!(init.result()["protocolVersion"], json!("2025-11-25"));
    let session = init
        .header("mcp-session-id")
        .expect("a session id")
        .to_string();
    let with_session = [LEGACY, ("Mcp-Session-Id", session.as_str())];
    let initialized = json!({"jsonrpc": "2.0", "method": "notifications/initialized"});
    assert_eq!(conn.post(&with_session, &initialized).status, 202);
    assert_diagnosis(&conn.post(&with_session, &diagnose(2)).result());
    // Without the session, a request other than initialize is refused; an unknown one is 404.
    assert!(server.post(&[LEGACY], &diagnose(3)).status >= 400);
    assert_eq!(
        server
            .post(
                &[LEGACY, ("Mcp-Session-Id", "no-such-session")],
                &diagnose(4)
            )
            .status,
        404
    );
    let closed = conn.request("DELETE", "/mcp", &with_session, b"");
    assert!(
        closed.status == 204 || closed.status == 200,
        "DELETE gave {}",
        closed.status
    );
    assert_eq!(
        server.post(&with_session, &diagnose(5)).status,
        404,
        "the session outlived its DELETE"
    );
    assert_eq!(server.terminate().code(), Some(0));
}

#[test]
fn a_foreign_origin_or_host_is_refused() {
    let server = HttpServer::start(&[]);
    let port = server.port().to_string();
    let foreign = server.post(
        &[("Origin", "http://evil.example")],
        &initialize("2025-11-25"),
    );
    assert_eq!(foreign.status, 403, "{}", foreign.text());
    let other_port = server.post(
        &[("Origin", "http://localhost:1")],
        &initialize("2025-11-25"),
    );
    assert_eq!(other_port.status, 403);
    let own = format!("http://localhost:{port}");
    assert_eq!(
        server
            .post(&[("Origin", own.as_str())], &initialize("2025-11-25"))
            .status,
        200
    );
    let rebound = format!("evil.example:{port}");
    assert_eq!(
        server
            .post(&[("Host", rebound.as_str())], &initialize("2025-11-25"))
            .status,
        403
    );

    let named = HttpServer::start(&["--allow-host", "advisor.internal"]);
    let internal = format!("advisor.internal:{}", named.port());
    assert_eq!(
        named
            .post(&[("Host", internal.as_str())], &initialize("2025-11-25"))
            .status,
        200
    );
    assert_eq!(
        named
            .post(&[("Host", rebound.as_str())], &initialize("2025-11-25"))
            .status,
        403
    );
    let any_host = HttpServer::start(&["--allow-host", "*"]);
    assert_eq!(
        any_host
            .post(&[("Host", rebound.as_str())], &initialize("2025-11-25"))
            .status,
        200
    );

    let allowed = HttpServer::start(&["--allow-origin", "https://app.example:443"]);
    assert_eq!(
        allowed
            .post(
                &[("Origin", "https://app.example")],
                &initialize("2025-11-25")
            )
            .status,
        200
    );
    assert_eq!(
        allowed
            .post(
                &[("Origin", "http://evil.example")],
                &initialize("2025-11-25")
            )
            .status,
        403
    );
}

#[test]
fn an_oversize_body_is_refused() {
    let server = HttpServer::start(&["--max-body-bytes", "4096"]);
    let padding = "x".repeat(5000);
    let big = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call",
                     "params": {"name": "diagnose_bottleneck", "arguments": {"note": padding}}});
    // Declared too long: refused on the headers alone, before the body is sent.
    let mut conn = server.connect();
    let head = conn.head(
        "POST",
        "/mcp",
        &[
            ("Content-Type", "application/json"),
            ("Accept", "application/json, text/event-stream"),
        ],
        Some(10_000_000),
    );
    conn.write_all(head.as_bytes()).expect("send");
    let refused = conn.read_reply().expect("a reply before the body");
    assert_eq!(refused.status, 413, "{}", refused.text());
    // Chunked, with no declared length: refused once the limit is passed.
    let mut conn = server.connect();
    let body = big.to_string();
    let head = conn.head(
        "POST",
        "/mcp",
        &[
            ("Content-Type", "application/json"),
            ("Accept", "application/json, text/event-stream"),
            ("Transfer-Encoding", "chunked"),
        ],
        None,
    );
    let mut bytes = head.into_bytes();
    for chunk in body.as_bytes().chunks(1000) {
        bytes.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
        bytes.extend_from_slice(chunk);
        bytes.extend_from_slice(b"\r\n");
    }
    bytes.extend_from_slice(b"0\r\n\r\n");
    conn.write_all(&bytes).expect("send");
    assert_eq!(conn.read_reply().expect("a reply").status, 413);
    // Under the limit, served.
    assert_eq!(server.post(&[], &initialize("2025-11-25")).status, 200);
}

#[test]
fn a_missing_or_wrong_token_is_refused() {
    let server = HttpServer::start_with_env(
        &["--token-env", "E2E_ADVISOR_TOKEN"],
        &[("E2E_ADVISOR_TOKEN", "correct-horse")],
    );
    let missing = server.post(&[], &initialize("2025-11-25"));
    assert_eq!(missing.status, 401);
    assert!(
        missing
            .header("www-authenticate")
            .is_some_and(|v| v.starts_with("Bearer"))
    );
    let wrong = server.post(
        &[("Authorization", "Bearer correct-horsf")],
        &initialize("2025-11-25"),
    );
    assert_eq!(wrong.status, 401);
    assert!(
        wrong
            .header("www-authenticate")
            .is_some_and(|v| v.contains("invalid_token"))
    );
    assert_eq!(
        server
            .post(
                &[("Authorization", "Basic correct-horse")],
                &initialize("2025-11-25")
            )
            .status,
        401
    );
    let right = server.post(
        &[("Authorization", "Bearer correct-horse")],
        &initialize("2025-11-25"),
    );
    assert_eq!(right.result()["serverInfo"]["name"], json!("scale-advisor"));
    // The health check stays open to probes.
    assert_eq!(
        server.connect().request("GET", "/healthz", &[], b"").status,
        200
    );

    let unset = Command::new(BINARY)
        .args([
            "serve",
            "--http",
            "127.0.0.1:0",
            "--token-env",
            "E2E_NO_SUCH_VARIABLE",
        ])
        .output()
        .expect("runs");
    assert!(!unset.status.success());
    assert!(String::from_utf8_lossy(&unset.stderr).contains("E2E_NO_SUCH_VARIABLE"));
}

#[test]
fn bad_json_gets_the_jsonrpc_error_over_http() {
    let server = HttpServer::start(&[]);
    let mut conn = server.connect();
    let headers = [
        ("Content-Type", "application/json"),
        ("Accept", "application/json, text/event-stream"),
    ];
    let reply = conn.request("POST", "/mcp", &headers, b"{not json");
    assert_eq!(reply.status, 400);
    assert_eq!(reply.message()["error"]["code"], json!(-32700));
    let bad_params = json!({"jsonrpc": "2.0", "id": 7, "method": "tools/call", "params": {"name": "diagnose_bottleneck", "arguments": "x"}});
    let reply = server.post(&[LEGACY], &bad_params);
    assert_eq!(
        reply.message()["error"]["code"],
        json!(-32602),
        "{}",
        reply.text()
    );
    assert_eq!(reply.message()["id"], json!(7));
    let refused = server.post(
        &[LEGACY],
        &json!({"jsonrpc": "2.0", "id": 8, "method": "tools/call",
        "params": {"name": "diagnose_bottleneck", "arguments": {"db_cpu_pct": "high"}}}),
    );
    let result = refused.result();
    assert_eq!(result["isError"], json!(true));
    assert!(
        result["content"][0]["text"]
            .as_str()
            .is_some_and(|t| t.contains("db_cpu_pct"))
    );
}

#[test]
fn health_check_and_unknown_paths() {
    let server = HttpServer::start(&[]);
    let mut conn = server.connect();
    let health = conn.request("GET", "/healthz", &[], b"");
    assert_eq!((health.status, health.text().trim()), (200, "ok"));
    assert_eq!(conn.request("GET", "/nowhere", &[], b"").status, 404);
    // Stateless: no standalone event stream to open.
    assert_eq!(
        conn.request("GET", "/mcp", &[("Accept", "text/event-stream")], b"")
            .status,
        405
    );
}

#[test]
fn sixty_four_concurrent_clients_get_no_error() {
    const CLIENTS: usize = 64;
    const CALLS: usize = 25;
    let server = HttpServer::start(&[]);
    let authority = server.authority.clone();
    let start = Arc::new(std::sync::Barrier::new(CLIENTS));
    let clients: Vec<_> = (0..CLIENTS)
        .map(|client| {
            let authority = authority.clone();
            let start = start.clone();
            std::thread::spawn(move || {
                let mut conn = Conn::open(&authority);
                start.wait();
                let init = conn.post(&[], &initialize("2025-11-25"));
                assert_eq!(init.status, 200, "client {client}: {}", init.text());
                for call in 0..CALLS {
                    let id = (client * 1000 + call) as i64;
                    let reply = conn.post(&[LEGACY], &diagnose(id));
                    assert_eq!(
                        reply.message()["id"],
                        json!(id),
                        "client {client} got another's answer"
                    );
                    assert_diagnosis(&reply.result());
                }
            })
        })
        .collect();
    let failures = clients
        .into_iter()
        .map(std::thread::JoinHandle::join)
        .filter(Result::is_err)
        .count();
    assert_eq!(failures, 0, "{failures} of {CLIENTS} clients saw an error");
    assert_eq!(server.terminate().code(), Some(0));
}

#[test]
fn sigterm_finishes_the_request_in_flight_then_exits_0() {
    let server = HttpServer::start(&[]);
    // A request in flight: headers and half the body sent, the rest still to come.
    let body = diagnose(42).to_string();
    let (first, rest) = body.as_bytes().split_at(body.len() / 2);
    let mut conn = server.connect();
    let head = conn.head(
        "POST",
        "/mcp",
        &[
            ("Content-Type", "application/json"),
            ("Accept", "application/json, text/event-stream"),
            LEGACY,
        ],
        Some(body.len()),
    );
    conn.write_all(head.as_bytes()).expect("send");
    conn.write_all(first).expect("send");
    std::thread::sleep(Duration::from_millis(200));

    let pid = server.child.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .expect("kill")
            .success()
    );
    // Draining: the listener closes, so new clients are turned away...
    let until = Instant::now() + Duration::from_secs(10);
    while TcpStream::connect(&server.authority).is_ok() {
        assert!(
            Instant::now() < until,
            "new connections were still accepted 10 s after SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    // ...while the request in flight is finished and answered.
    conn.write_all(rest)
        .expect("the rest of the body is accepted");
    let reply = conn
        .read_reply()
        .expect("the in-flight request is answered");
    assert_eq!(reply.message()["id"], json!(42));
    assert_diagnosis(&reply.result());

    let mut server = server;
    let status = wait_exit(&mut server.child, Duration::from_secs(10));
    assert_eq!(
        status.code(),
        Some(0),
        "log: {}",
        server.log.lock().map(|l| l.clone()).unwrap_or_default()
    );
}

#[test]
fn a_slow_client_times_out() {
    let server = HttpServer::start(&["--request-timeout-secs", "1", "--header-timeout-secs", "1"]);
    // A body that never finishes: 408 once the request timeout passes.
    let mut conn = server.connect();
    let head = conn.head(
        "POST",
        "/mcp",
        &[
            ("Content-Type", "application/json"),
            ("Accept", "application/json, text/event-stream"),
        ],
        Some(100),
    );
    conn.write_all(head.as_bytes()).expect("send");
    conn.write_all(b"{\"jsonrpc\"").expect("send");
    let started = Instant::now();
    assert_eq!(conn.read_reply().expect("a reply").status, 408);
    assert!(started.elapsed() < Duration::from_secs(5));
    // Headers that never finish: the connection is closed once the header timeout passes.
    let mut conn = server.connect();
    conn.write_all(b"POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        .expect("send");
    let started = Instant::now();
    let mut rest = Vec::new();
    let ended = conn.reader.read_to_end(&mut rest);
    let waited = started.elapsed();
    let closed = ended.is_ok()
        || ended
            .as_ref()
            .is_err_and(|e| e.kind() == std::io::ErrorKind::ConnectionReset);
    assert!(
        closed && waited < Duration::from_secs(5),
        "half-sent headers held the connection {waited:?}: {ended:?}"
    );
    assert!(
        waited >= Duration::from_millis(900),
        "closed before the timeout: {waited:?}"
    );
}

#[test]
fn sigterm_ends_a_stateful_event_stream_and_exits_0() {
    let server = HttpServer::start(&["--stateful"]);
    let mut conn = server.connect();
    let init = conn.post(&[], &initialize("2025-11-25"));
    let session = init
        .header("mcp-session-id")
        .expect("a session id")
        .to_string();
    let initialized = json!({"jsonrpc": "2.0", "method": "notifications/initialized"});
    let with_session = [LEGACY, ("Mcp-Session-Id", session.as_str())];
    assert_eq!(conn.post(&with_session, &initialized).status, 202);
    // A standalone event stream: it lasts as long as the session, unless the server drains.
    let authority = server.authority.clone();
    let stream = std::thread::spawn(move || {
        let mut conn = Conn::open(&authority);
        let headers = [
            ("Accept", "text/event-stream"),
            LEGACY,
            ("Mcp-Session-Id", session.as_str()),
        ];
        conn.request("GET", "/mcp", &headers, b"")
    });
    std::thread::sleep(Duration::from_millis(300));
    let started = Instant::now();
    assert_eq!(server.terminate().code(), Some(0));
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "the drain waited {:?} for the stream",
        started.elapsed()
    );
    let reply = stream.join().expect("the stream ends");
    assert_eq!(reply.status, 200);
    assert!(
        reply
            .header("content-type")
            .is_some_and(|t| t.starts_with("text/event-stream"))
    );
}

/// Opens a stateful session on its own connection; the reply to `initialize`.
fn open_session(server: &HttpServer) -> Reply {
    server.post(&[], &initialize("2025-11-25"))
}

#[test]
fn stateful_sessions_past_the_cap_are_refused_until_one_ends() {
    let server = HttpServer::start(&["--stateful", "--max-sessions", "2"]);
    let first = open_session(&server);
    let second = open_session(&server);
    let sessions: Vec<String> = [&first, &second]
        .iter()
        .map(|reply| {
            assert_eq!(reply.result()["protocolVersion"], json!("2025-11-25"));
            reply
                .header("mcp-session-id")
                .expect("a session id")
                .to_string()
        })
        .collect();
    let refused = open_session(&server);
    assert_eq!(refused.status, 503, "{}", refused.text());
    assert!(refused.header("retry-after").is_some());
    let message = refused.message();
    assert_eq!(message["id"], json!(1), "{message}");
    let text = message["error"]["message"].as_str().unwrap_or_default();
    assert!(
        text.contains("Too many sessions") && text.contains("--max-sessions 2"),
        "{text}"
    );
    assert_eq!(message["error"]["data"]["max_sessions"], json!(2));
    // The sessions that were open still answer.
    let with_session = [LEGACY, ("Mcp-Session-Id", sessions[0].as_str())];
    let initialized = json!({"jsonrpc": "2.0", "method": "notifications/initialized"});
    assert_eq!(server.post(&with_session, &initialized).status, 202);
    assert_diagnosis(&server.post(&with_session, &diagnose(2)).result());
    // Ending one makes room for the next.
    let closed = server
        .connect()
        .request("DELETE", "/mcp", &with_session, b"");
    assert!(closed.status < 300, "DELETE gave {}", closed.status);
    let deadline = Instant::now() + Duration::from_secs(10);
    let reopened = loop {
        let reply = open_session(&server);
        if reply.status != 503 || Instant::now() > deadline {
            break reply;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(reopened.status, 200, "{}", reopened.text());
    assert!(reopened.header("mcp-session-id").is_some());
    // The cap is on sessions, not on requests: stateless servers have none.
    let stateless = HttpServer::start(&[]);
    for _ in 0..4 {
        assert_eq!(stateless.post(&[], &initialize("2025-11-25")).status, 200);
    }
}

#[test]
fn cors_answers_the_preflight_and_the_request_for_allowed_origins_only() {
    let server = HttpServer::start(&["--allow-origin", "https://app.example:443"]);
    let preflight = |origin: Option<&str>| {
        let mut headers = vec![
            ("Access-Control-Request-Method", "POST"),
            (
                "Access-Control-Request-Headers",
                "content-type, mcp-protocol-version",
            ),
        ];
        if let Some(origin) = origin {
            headers.push(("Origin", origin));
        }
        server.connect().request("OPTIONS", "/mcp", &headers, b"")
    };
    let allowed = preflight(Some("https://app.example"));
    assert_eq!(allowed.status, 204, "{}", allowed.text());
    assert_eq!(
        allowed.header("access-control-allow-origin"),
        Some("https://app.example")
    );
    let methods = allowed
        .header("access-control-allow-methods")
        .unwrap_or_default();
    assert!(
        methods.contains("POST") && methods.contains("DELETE"),
        "{methods}"
    );
    let headers = allowed
        .header("access-control-allow-headers")
        .unwrap_or_default();
    for needed in [
        "content-type",
        "mcp-protocol-version",
        "mcp-session-id",
        "authorization",
    ] {
        assert!(headers.contains(needed), "{needed} not in {headers}");
    }
    let foreign = preflight(Some("https://evil.example"));
    assert_eq!(foreign.status, 403);
    assert!(foreign.header("access-control-allow-origin").is_none());

    // The request itself: readable by the allowed origin, with the session header exposed.
    let answered = server.post(
        &[("Origin", "https://app.example")],
        &initialize("2025-11-25"),
    );
    assert_eq!(answered.status, 200);
    assert_eq!(
        answered.header("access-control-allow-origin"),
        Some("https://app.example")
    );
    assert!(
        answered
            .header("access-control-expose-headers")
            .is_some_and(|h| h.contains("mcp-session-id"))
    );
    let refused = server.post(
        &[("Origin", "https://evil.example")],
        &initialize("2025-11-25"),
    );
    assert_eq!(refused.status, 403);
    assert!(refused.header("access-control-allow-origin").is_none());
    // A client that is no browser sends no Origin and gets no CORS headers.
    let plain = server.post(&[], &initialize("2025-11-25"));
    assert_eq!(plain.status, 200);
    assert!(plain.header("access-control-allow-origin").is_none());
}

/// A session's standalone event stream (GET /mcp), read a line at a time by a thread: the
/// `data:` messages it carries arrive on the channel.
fn event_stream(server: &HttpServer, session: &str) -> std::sync::mpsc::Receiver<Value> {
    let (sender, messages) = std::sync::mpsc::channel();
    let mut conn = Conn::open(&server.authority);
    let headers = [
        ("Accept", "text/event-stream"),
        LEGACY,
        ("Mcp-Session-Id", session),
    ];
    let head = conn.head("GET", "/mcp", &headers, None);
    conn.write_all(head.as_bytes())
        .expect("the request is sent");
    std::thread::spawn(move || {
        let mut line = String::new();
        while conn.reader.read_line(&mut line).is_ok_and(|n| n > 0) {
            if let Some(data) = line.trim().strip_prefix("data:")
                && let Ok(message) = serde_json::from_str::<Value>(data.trim())
                && sender.send(message).is_err()
            {
                break;
            }
            line.clear();
        }
    });
    messages
}

#[test]
fn a_stateful_session_hears_the_log_messages_at_its_level() {
    let server = HttpServer::start(&["--stateful"]);
    let init = open_session(&server);
    assert!(init.result()["capabilities"]["logging"].is_object());
    let session = init
        .header("mcp-session-id")
        .expect("a session id")
        .to_string();
    let with_session = [LEGACY, ("Mcp-Session-Id", session.as_str())];
    let initialized = json!({"jsonrpc": "2.0", "method": "notifications/initialized"});
    assert_eq!(server.post(&with_session, &initialized).status, 202);
    // rmcp sends a session's notifications on its standalone stream.
    let stream = event_stream(&server, &session);
    std::thread::sleep(Duration::from_millis(200));
    let bad_call = |id: i64| {
        json!({"jsonrpc": "2.0", "id": id, "method": "tools/call",
               "params": {"name": "diagnose_bottleneck", "arguments": {"db_cpu_pct": "high"}}})
    };
    let heard = |within: Duration| -> Vec<Value> {
        let mut notes = Vec::new();
        while let Ok(message) = stream.recv_timeout(within) {
            if message["method"] == "notifications/message" {
                notes.push(message["params"].clone());
            }
        }
        notes
    };
    // Before any level is set: the refusal, and no message.
    assert_eq!(
        server.post(&with_session, &bad_call(2)).result()["isError"],
        json!(true)
    );
    assert!(heard(Duration::from_millis(300)).is_empty());
    let set = |level: &str, id: i64| json!({"jsonrpc": "2.0", "id": id, "method": "logging/setLevel", "params": {"level": level}});
    assert_eq!(server.post(&with_session, &set("warning", 3)).status, 200);
    assert_eq!(
        server.post(&with_session, &bad_call(4)).result()["isError"],
        json!(true)
    );
    let notes = heard(Duration::from_secs(2));
    assert_eq!(notes.len(), 1, "{notes:?}");
    assert_eq!(notes[0]["level"], "warning");
    assert_eq!(notes[0]["data"]["event"], "refused_call");
    assert_eq!(server.post(&with_session, &set("error", 5)).status, 200);
    assert_eq!(
        server.post(&with_session, &bad_call(6)).result()["isError"],
        json!(true)
    );
    assert!(heard(Duration::from_millis(500)).is_empty());
}

/// The raw JSON text of `result.structuredContent` and `result.content` in an answer line, as
/// written: byte for byte, not re-serialised.
fn raw_result(line: &str) -> (String, String) {
    use serde_json::value::RawValue;
    use std::collections::BTreeMap;
    let answer: BTreeMap<String, Box<RawValue>> =
        serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
    let result = answer
        .get("result")
        .unwrap_or_else(|| panic!("no result: {line}"));
    let result: BTreeMap<String, Box<RawValue>> =
        serde_json::from_str(result.get()).unwrap_or_else(|e| panic!("{e}: {line}"));
    let raw = |key: &str| {
        result
            .get(key)
            .unwrap_or_else(|| panic!("no {key}: {line}"))
            .get()
            .to_string()
    };
    (raw("structuredContent"), raw("content"))
}

impl Reply {
    /// The JSON-RPC response as the server wrote it: the body, or the `data:` of its event.
    fn raw_message(&self) -> String {
        let text = self.text();
        if self
            .header("content-type")
            .is_some_and(|t| t.starts_with("text/event-stream"))
        {
            text.lines()
                .filter_map(|line| line.strip_prefix("data:"))
                .map(str::trim)
                .find(|data| data.contains("\"result\""))
                .unwrap_or_else(|| panic!("no response in the event stream: {text}"))
                .to_string()
        } else {
            text
        }
    }
}

/// One path answers every request: the first example of every tool gives the same bytes of
/// `structuredContent` and `content` on every revision served, over stdio and over HTTP.
#[test]
fn the_same_call_gives_the_same_bytes_on_every_revision_and_transport() {
    use crate::harness::{HANDSHAKE_FREE, REVISIONS, Server, handshake_free_meta};
    let http = HttpServer::start(&[]);
    let mut stdio: Vec<(&str, Server)> = REVISIONS
        .iter()
        .map(|revision| (*revision, Server::initialized(revision)))
        .collect();
    for tool in tools::REGISTRY {
        for example in crate::examples::examples(tool.name) {
            let params = json!({"name": tool.name, "arguments": example.arguments});
            let mut answers: Vec<(String, (String, String))> = Vec::new();
            for (revision, server) in &mut stdio {
                let line = server.request_raw("tools/call", params.clone());
                answers.push((format!("stdio {revision}"), raw_result(&line)));
            }
            for revision in REVISIONS {
                let mut body =
                    json!({"jsonrpc": "2.0", "id": 7, "method": "tools/call", "params": params});
                let mut headers = vec![("MCP-Protocol-Version", revision)];
                if revision == HANDSHAKE_FREE {
                    body["params"]["_meta"] = handshake_free_meta();
                    headers.extend([("Mcp-Method", "tools/call"), ("Mcp-Name", tool.name)]);
                }
                let reply = http.post(&headers, &body);
                assert_eq!(reply.status, 200, "{revision}: {}", reply.text());
                answers.push((format!("http {revision}"), raw_result(&reply.raw_message())));
            }
            let (first, expected) = &answers[0];
            assert!(
                !expected.0.is_empty() && expected.0 != "null",
                "{} `{}`: no structured result",
                tool.name,
                example.name
            );
            for (label, answer) in &answers[1..] {
                assert!(
                    answer == expected,
                    "{} `{}`: {label} differs from {first}",
                    tool.name,
                    example.name
                );
            }
        }
    }
}

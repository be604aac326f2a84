//! A minimal MCP client over stdio for the tests: start the binary, send lines, read lines.
//!
//! [`Server::start`] begins each session on the revision named by `SCALE_ADVISOR_E2E_REVISION`
//! (default 2025-11-25): `tests/run.sh` runs the suite once per revision served, so every
//! behaviour test also runs on 2025-06-18 and on the handshake-free 2026-07-28.

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use serde_json::{Value, json};

pub const BINARY: &str = env!("CARGO_BIN_EXE_scale-advisor");

/// How long a test waits for one answer before it fails (never reached when all is well).
const PATIENCE: Duration = Duration::from_secs(20);

/// Every protocol revision the server serves, oldest first.
pub const REVISIONS: [&str; 3] = ["2025-06-18", "2025-11-25", "2026-07-28"];

/// The first revision without the `initialize` handshake: each request carries its protocol
/// facts in `_meta` instead.
pub const HANDSHAKE_FREE: &str = "2026-07-28";

/// The revision [`Server::start`] speaks: `SCALE_ADVISOR_E2E_REVISION`, default 2025-11-25.
pub fn revision() -> String {
    match std::env::var("SCALE_ADVISOR_E2E_REVISION") {
        Ok(revision) => {
            assert!(
                REVISIONS.contains(&revision.as_str()),
                "SCALE_ADVISOR_E2E_REVISION={revision}: the revisions are {REVISIONS:?}"
            );
            revision
        }
        Err(_) => "2025-11-25".to_string(),
    }
}

/// The `_meta` a 2026-07-28 request carries in place of the handshake.
pub fn handshake_free_meta() -> Value {
    json!({
        "io.modelcontextprotocol/protocolVersion": HANDSHAKE_FREE,
        "io.modelcontextprotocol/clientInfo": {"name": "e2e", "version": "0"},
        "io.modelcontextprotocol/clientCapabilities": {},
    })
}

/// 2026-07-28 has no `ping` inside a session (rmcp answers it "method not found"); the
/// tests' liveness check there is this request instead, answered with a result just the same.
const LIVENESS: &str = "server/discover";

pub struct Server {
    child: Child,
    stdin: Option<ChildStdin>,
    lines: mpsc::Receiver<String>,
    next_id: i64,
    /// Added to every request's params that has none of its own (a 2026-07-28 session).
    meta: Option<Value>,
    /// Whether its tool calls are recorded for the byte-identity test (see [`record_sent`]):
    /// not for a server on a `--knowledge-dir` or a live source, whose answers the embedded
    /// advisor does not give.
    recorded: bool,
}

fn spawn_reader(stdout: ChildStdout) -> mpsc::Receiver<String> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

impl Server {
    /// Starts `scale-advisor serve` with extra arguments, without any handshake.
    pub fn raw_with(args: &[&str]) -> Self {
        let mut command = Command::new(BINARY);
        command.arg("serve").args(args).stderr(Stdio::null());
        Self::raw_command(command)
    }

    /// Starts a command of the binary (`serve` and its options, stderr where the caller wants
    /// it) on a session of the revision under test (see [`revision`]).
    pub fn start_command(command: Command) -> Self {
        let mut server = Self::raw_command(command);
        server.handshake(&revision());
        server
    }

    /// Starts a command of the binary, without any handshake.
    pub fn raw_command(mut command: Command) -> Self {
        // Not a server on a `--knowledge-dir` or with a live source: the embedded advisor
        // alone does not give its answers.
        let recorded = !command.get_args().any(|arg| {
            let arg = arg.to_string_lossy();
            ["--knowledge-dir", "--prometheus", "--postgres", "--redis"]
                .iter()
                .any(|option| arg.starts_with(option))
        });
        let mut child = command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("the binary starts");
        let stdout = child.stdout.take().expect("stdout is piped");
        let stdin = child.stdin.take();
        Self {
            child,
            stdin,
            lines: spawn_reader(stdout),
            next_id: 1,
            meta: None,
            recorded,
        }
    }

    /// Starts the server without any handshake.
    pub fn raw() -> Self {
        Self::raw_with(&[])
    }

    /// Starts a session at `version`: the `initialize` handshake, or for 2026-07-28 none, and
    /// then every request carries the revision in `_meta`.
    pub fn initialized(version: &str) -> Self {
        let mut server = Self::raw();
        server.handshake(version);
        server
    }

    /// Begins the session at `version`: the `initialize` handshake, or for 2026-07-28 the
    /// `_meta` every request then carries.
    fn handshake(&mut self, version: &str) {
        if version == HANDSHAKE_FREE {
            self.meta = Some(handshake_free_meta());
            return;
        }
        let response = self.request(
            "initialize",
            json!({"protocolVersion": version, "capabilities": {}, "clientInfo": {"name": "e2e", "version": "0"}}),
        );
        assert!(
            response.get("result").is_some(),
            "initialize failed: {response}"
        );
        self.notify("notifications/initialized", json!({}));
    }

    /// Starts a session on the revision under test (see [`revision`]).
    pub fn start() -> Self {
        Self::initialized(&revision())
    }

    pub fn send_line(&mut self, line: &str) {
        if self.recorded {
            record_sent(line.as_bytes());
        }
        let stdin = self.stdin.as_mut().expect("stdin is open");
        stdin.write_all(line.as_bytes()).expect("write");
        stdin.write_all(b"\n").expect("write");
        stdin.flush().expect("flush");
    }

    /// A request line as a client of the session's revision writes it: in a 2026-07-28
    /// session, the session's `_meta` goes into `params`, and a `ping` becomes [`LIVENESS`] (the text is otherwise kept, so that
    /// malformed or unusual lines stay what they are). Other lines are returned as they are.
    pub fn stamp(&self, line: &[u8]) -> Vec<u8> {
        let Some(meta) = &self.meta else {
            return line.to_vec();
        };
        let text = String::from_utf8_lossy(line);
        if !text.trim_start().starts_with('{')
            || !text.contains("\"method\"")
            || !text.contains("\"id\"")
            || text.contains("\"_meta\"")
        {
            return line.to_vec();
        }
        let text = text
            .replacen(
                "\"method\":\"ping\"",
                &format!("\"method\":\"{LIVENESS}\""),
                1,
            )
            .replacen(
                "\"method\": \"ping\"",
                &format!("\"method\": \"{LIVENESS}\""),
                1,
            );
        let stamped = match text.find("\"params\":{") {
            Some(at) => {
                let at = at + "\"params\":{".len();
                let rest = &text[at..];
                let comma = if rest.trim_start().starts_with('}') {
                    ""
                } else {
                    ","
                };
                format!("{}\"_meta\":{meta}{comma}{rest}", &text[..at])
            }
            None if !text.contains("\"params\"") => {
                let at = text.find('{').unwrap_or(0) + 1;
                format!(
                    "{}\"params\":{{\"_meta\":{meta}}},{}",
                    &text[..at],
                    &text[at..]
                )
            }
            None => return line.to_vec(),
        };
        stamped.into_bytes()
    }

    /// [`Server::stamp`] for a line of text.
    pub fn stamp_line(&self, line: &str) -> String {
        String::from_utf8_lossy(&self.stamp(line.as_bytes())).into_owned()
    }

    /// Sends a message; in a 2026-07-28 session a request without `_meta` of its own gets the
    /// session's, as a client of that revision sends it.
    pub fn send(&mut self, message: &Value) {
        let mut message = message.clone();
        if let Some(meta) = &self.meta
            && message.get("id").is_some()
            && message.get("method").is_some_and(Value::is_string)
        {
            if message["method"] == "ping" {
                message["method"] = json!(LIVENESS);
            }
            let params = message
                .as_object_mut()
                .map(|m| m.entry("params").or_insert_with(|| json!({})));
            if let Some(Value::Object(params)) = params {
                params.entry("_meta").or_insert_with(|| meta.clone());
            }
        }
        self.send_line(&message.to_string());
    }

    /// The next line the server writes, parsed; panics if it is not JSON.
    pub fn read(&mut self) -> Value {
        let line = self
            .lines
            .recv_timeout(PATIENCE)
            .expect("the server answers in time");
        serde_json::from_str(&line)
            .unwrap_or_else(|e| panic!("stdout carried a non-JSON line ({e}): {line}"))
    }

    /// The next raw line, or None if the server wrote nothing within `wait`.
    pub fn read_line_within(&mut self, wait: Duration) -> Option<String> {
        self.lines.recv_timeout(wait).ok()
    }

    /// The response to request `id`, skipping notifications in between.
    pub fn response_to(&mut self, id: &Value) -> Value {
        loop {
            let message = self.read();
            if message.get("id") == Some(id) && message.get("method").is_none() {
                return message;
            }
        }
    }

    pub fn fresh_id(&mut self) -> i64 {
        self.next_id += 1;
        self.next_id
    }

    /// Sends a request and returns the whole response (result or error).
    pub fn request(&mut self, method: &str, params: Value) -> Value {
        let id = self.send_request(method, params);
        self.response_to(&json!(id))
    }

    /// Sends a request (with the session's `_meta`, if any) and returns its id.
    pub fn send_request(&mut self, method: &str, params: Value) -> i64 {
        let id = self.fresh_id();
        self.send(&json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}));
        id
    }

    /// Sends a request and returns the response line exactly as the server wrote it.
    pub fn request_raw(&mut self, method: &str, params: Value) -> String {
        let id = json!(self.send_request(method, params));
        loop {
            let line = self
                .lines
                .recv_timeout(PATIENCE)
                .expect("the server answers in time");
            let message: Value = serde_json::from_str(&line)
                .unwrap_or_else(|e| panic!("stdout carried a non-JSON line ({e}): {line}"));
            if message.get("id") == Some(&id) && message.get("method").is_none() {
                return line;
            }
        }
    }

    pub fn notify(&mut self, method: &str, params: Value) {
        self.send(&json!({"jsonrpc": "2.0", "method": method, "params": params}));
    }

    /// `tools/call`, returning the `result` object (which may carry `isError`).
    pub fn call_tool(&mut self, name: &str, arguments: Value) -> Value {
        let response = self.request("tools/call", json!({"name": name, "arguments": arguments}));
        response
            .get("result")
            .cloned()
            .unwrap_or_else(|| panic!("tools/call {name} failed: {response}"))
    }

    /// `tools/call` that must succeed: returns `structuredContent`.
    pub fn call_ok(&mut self, name: &str, arguments: Value) -> Value {
        let result = self.call_tool(name, arguments.clone());
        assert_ne!(
            result["isError"],
            json!(true),
            "{name}({arguments}) was refused: {result}"
        );
        result["structuredContent"].clone()
    }

    /// `tools/call` that must be refused: returns the error text.
    pub fn call_err(&mut self, name: &str, arguments: Value) -> String {
        let result = self.call_tool(name, arguments.clone());
        assert_eq!(
            result["isError"],
            json!(true),
            "{name}({arguments}) was accepted: {result}"
        );
        result["content"][0]["text"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    /// `resources/read` of one URI: the text of its first content.
    pub fn read_resource(&mut self, uri: &str) -> Value {
        self.request("resources/read", json!({"uri": uri}))
    }

    /// Closes stdin and waits for the exit status.
    pub fn close(mut self) -> std::process::ExitStatus {
        drop(self.stdin.take());
        for _ in 0..200 {
            if let Some(status) = self.child.try_wait().expect("wait") {
                return status;
            }
            std::thread::sleep(Duration::from_millis(25));
        }
        let _ = self.child.kill();
        panic!("the server did not exit within 5 s of stdin closing");
    }

    pub fn child(&mut self) -> &mut Child {
        &mut self.child
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Raw access for the reliability battery: bytes that are not a line of text, a stdin handed
/// to a writer thread, the process id for `/proc` and signals.
impl Server {
    /// Writes `bytes` as they are: no newline added, any bytes at all.
    pub fn send_bytes(&mut self, bytes: &[u8]) {
        if self.recorded {
            record_sent(bytes);
        }
        let stdin = self.stdin.as_mut().expect("stdin is open");
        stdin.write_all(bytes).expect("write");
        stdin.flush().expect("flush");
    }

    /// Hands stdin over (to a writer thread); the server sees EOF when it is dropped.
    pub fn take_stdin(&mut self) -> ChildStdin {
        self.stdin.take().expect("stdin is open")
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Waits up to `limit` for the process to exit, without closing anything.
    pub fn wait_exit(&mut self, limit: Duration) -> Option<std::process::ExitStatus> {
        let started = std::time::Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                return Some(status);
            }
            if started.elapsed() > limit {
                return None;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

/// Each tool's result fields and their JSON types, as `scale-advisor tools --json` prints them
/// (`resultFields`; `tools/list` advertises only the fields every result carries). The
/// listing is read once per test run.
pub fn result_fields(tool: &str) -> serde_json::Map<String, Value> {
    static LISTING: std::sync::OnceLock<Value> = std::sync::OnceLock::new();
    let tools = LISTING.get_or_init(|| {
        let output = Command::new(BINARY)
            .args(["tools", "--json"])
            .output()
            .expect("tools --json runs");
        serde_json::from_slice(&output.stdout).expect("tools --json is JSON")
    });
    tools
        .as_array()
        .and_then(|tools| tools.iter().find(|t| t["name"] == tool))
        .and_then(|t| t["resultFields"]["properties"].as_object())
        .unwrap_or_else(|| panic!("{tool} has resultFields"))
        .clone()
}

/// The corpus of the tool calls this suite sends, which the tools crate's byte-identity test
/// (`tools/tests/answers.rs`) answers besides the fixtures: one `{"tool", "arguments"}` a
/// line, each once, sorted.
const CALL_CORPUS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../tools/tests/answers/e2e_calls.jsonl"
);

/// Arguments longer than this are not recorded: such calls test the transport's limits (the
/// server refuses them before any tool runs), not a tool's answer.
const LARGEST_RECORDED_CALL: usize = 16 * 1024;

/// With `SCALE_ADVISOR_RECORD_CALLS=1`, adds every `tools/call` in `bytes` (one JSON-RPC message
/// or batch a line) to [`CALL_CORPUS`]; otherwise does nothing. Re-record after adding e2e
/// calls: `SCALE_ADVISOR_RECORD_CALLS=1 cargo test -p scale-advisor --test e2e` adds what is
/// new (delete the file first to drop calls no test sends any more), and
/// `SCALE_ADVISOR_BLESS=1 cargo test -p scale-advisor-tools --test answers` writes their answers.
pub fn record_sent(bytes: &[u8]) {
    static CORPUS: std::sync::Mutex<()> = std::sync::Mutex::new(());
    if std::env::var_os("SCALE_ADVISOR_RECORD_CALLS").is_none_or(|v| v != "1") {
        return;
    }
    let calls: Vec<String> = String::from_utf8_lossy(bytes)
        .lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .flat_map(|message| match message {
            Value::Array(batch) => batch,
            single => vec![single],
        })
        .filter(|message| message["method"] == "tools/call")
        .filter_map(|message| {
            let tool = message["params"]["name"].as_str()?.to_string();
            let arguments = match &message["params"]["arguments"] {
                Value::Null => json!({}),
                object @ Value::Object(_) => object.clone(),
                _ => return None,
            };
            let line = json!({"tool": tool, "arguments": arguments}).to_string();
            (tool.len() <= 100 && line.len() <= LARGEST_RECORDED_CALL).then_some(line)
        })
        .collect();
    if calls.is_empty() {
        return;
    }
    // One test thread at a time reads, merges and writes the file.
    let _turn = CORPUS
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let mut corpus: std::collections::BTreeSet<String> = std::fs::read_to_string(CALL_CORPUS)
        .unwrap_or_default()
        .lines()
        .map(str::to_string)
        .collect();
    let before = corpus.len();
    corpus.extend(calls);
    if corpus.len() != before {
        let mut text = corpus.into_iter().collect::<Vec<_>>().join("\n");
        text.push('\n');
        std::fs::write(CALL_CORPUS, text).expect("the call corpus is written");
    }
}

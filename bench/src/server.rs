//! One MCP server under test: a child process spoken to over its stdin and stdout, newline-
//! delimited JSON-RPC, as an MCP client does. The process runs in its own process group so that
//! a watchdog can end it (and anything it started) by id if it stops answering; every run is
//! bounded in time.

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use serde::Deserialize;
use serde::de::IgnoredAny;
use serde_json::{Value, json};

/// How to start a server: the program and its arguments, run without a shell.
#[derive(Debug, Clone)]
pub struct Launch {
    pub command: Vec<String>,
    /// Let the server's stderr through instead of discarding it.
    pub show_stderr: bool,
    /// The longest a server may live; the watchdog kills it then.
    pub lifetime: Duration,
}

impl Launch {
    pub fn display(&self) -> String {
        self.command.join(" ")
    }
}

/// What the client needs from one line the server wrote: enough to tell a response from a
/// notification and a success from a failure, without building the whole JSON tree (the reader
/// shares two cores with the server, so it must stay cheap).
#[derive(Deserialize)]
struct Envelope {
    #[serde(default)]
    id: Option<Value>,
    #[serde(default)]
    method: Option<IgnoredAny>,
    #[serde(default)]
    result: Option<ResultFlags>,
    #[serde(default)]
    error: Option<ErrorBody>,
}

#[derive(Deserialize)]
struct ResultFlags {
    #[serde(rename = "isError", default)]
    is_error: bool,
}

#[derive(Deserialize)]
struct ErrorBody {
    #[serde(default)]
    code: i64,
    #[serde(default)]
    message: String,
}

/// How a request ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Ok,
    /// A tool result with `isError: true`.
    ToolError,
    /// A JSON-RPC error.
    RpcError {
        code: i64,
        message: String,
    },
}

/// One response, stamped when its last byte was read (before it was parsed).
#[derive(Debug, Clone)]
pub struct Reply {
    pub at: Instant,
    pub id: Option<Value>,
    pub outcome: Outcome,
}

/// Ends the server's process group when its lifetime runs out, unless dropped first.
struct Watchdog {
    _disarm: mpsc::Sender<()>,
}

impl Watchdog {
    fn arm(pid: u32, lifetime: Duration) -> Self {
        let (disarm, wait) = mpsc::channel::<()>();
        std::thread::spawn(move || {
            if let Err(mpsc::RecvTimeoutError::Timeout) = wait.recv_timeout(lifetime) {
                eprintln!("mcp-load: server {pid} outlived {lifetime:?}; killing it");
                kill_group(pid);
            }
        });
        Self { _disarm: disarm }
    }
}

fn kill_group(pid: u32) {
    // The server leads its own process group (see `spawn`), so this ends it and only what it
    // started.
    let _ = Command::new("kill")
        .args(["-KILL", "--", &format!("-{pid}")])
        .stderr(Stdio::null())
        .status();
}

pub struct Server {
    child: Child,
    pub stdin: Option<ChildStdin>,
    pub stdout: BufReader<ChildStdout>,
    line: Vec<u8>,
    next_id: u64,
    _watchdog: Watchdog,
}

impl Server {
    /// Starts the server; nothing is sent yet.
    pub fn spawn(launch: &Launch) -> anyhow::Result<Self> {
        use std::os::unix::process::CommandExt;
        let (program, args) = launch
            .command
            .split_first()
            .context("an empty server command")?;
        let mut child = Command::new(program)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(if launch.show_stderr {
                Stdio::inherit()
            } else {
                Stdio::null()
            })
            .process_group(0)
            .spawn()
            .with_context(|| format!("starting `{}`", launch.display()))?;
        let stdout = child.stdout.take().context("stdout is piped")?;
        let stdin = child.stdin.take();
        let watchdog = Watchdog::arm(child.id(), launch.lifetime);
        Ok(Self {
            child,
            stdin,
            stdout: BufReader::with_capacity(256 * 1024, stdout),
            line: Vec::with_capacity(4096),
            next_id: 1,
            _watchdog: watchdog,
        })
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// A request id never used before on this connection.
    pub fn take_id(&mut self) -> u64 {
        let id = self.next_id;
        self.next_id += 1;
        id
    }

    /// Reserves `count` ids in a row and returns the first.
    pub fn take_ids(&mut self, count: u64) -> u64 {
        let first = self.next_id;
        self.next_id += count;
        first
    }

    pub fn send(&mut self, line: &[u8]) -> anyhow::Result<()> {
        let stdin = self.stdin.as_mut().context("stdin is closed")?;
        stdin.write_all(line).context("writing to the server")?;
        Ok(())
    }

    /// Reads lines until a response (or error) arrives; notifications and requests from the
    /// server are skipped.
    pub fn read_reply(&mut self) -> anyhow::Result<Reply> {
        read_reply(&mut self.stdout, &mut self.line)
    }

    /// Reads lines until the response arrives and returns it whole, as JSON.
    fn read_full(&mut self) -> anyhow::Result<(Value, usize)> {
        loop {
            self.line.clear();
            if self.stdout.read_until(b'\n', &mut self.line)? == 0 {
                bail!("the server closed stdout");
            }
            let value: Value = serde_json::from_slice(&self.line).with_context(|| {
                format!(
                    "the server wrote a line that is not JSON: {}",
                    String::from_utf8_lossy(&self.line)
                )
            })?;
            if value.get("method").is_none() {
                return Ok((value, self.line.len()));
            }
        }
    }

    /// Sends a request and returns its `result`, its length in bytes on the wire.
    pub fn request(&mut self, method: &str, params: Value) -> anyhow::Result<(Value, usize)> {
        let id = self.take_id();
        let mut line = serde_json::to_vec(
            &json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}),
        )?;
        line.push(b'\n');
        self.send(&line)?;
        let (mut response, bytes) = self.read_full()?;
        if let Some(error) = response.get("error") {
            bail!("`{method}` failed: {error}");
        }
        match response.get_mut("result") {
            Some(result) => Ok((result.take(), bytes)),
            None => bail!("`{method}` got an answer without a result: {response}"),
        }
    }

    /// The `initialize` request and the `initialized` notification; returns the server's
    /// `serverInfo` as "name version".
    pub fn handshake(&mut self, protocol_version: &str) -> anyhow::Result<String> {
        let (result, _) = self.request("initialize", initialize_params(protocol_version))?;
        self.send(b"{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}\n")?;
        Ok(server_identity(&result))
    }

    /// Closes stdin and gives the server a moment to exit on its own, then ends it.
    pub fn close(mut self) {
        self.end(Duration::from_secs(2));
    }

    /// Ends the server now and reaps it.
    pub fn kill(mut self) {
        self.end(Duration::ZERO);
    }

    fn end(&mut self, grace: Duration) {
        self.stdin = None;
        let deadline = Instant::now() + grace;
        loop {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            if Instant::now() >= deadline {
                break;
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        kill_group(self.child.id());
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.end(Duration::from_secs(2));
    }
}

/// Reads lines from `stdout` until a response arrives.
pub fn read_reply(
    stdout: &mut BufReader<ChildStdout>,
    line: &mut Vec<u8>,
) -> anyhow::Result<Reply> {
    loop {
        line.clear();
        if stdout.read_until(b'\n', line)? == 0 {
            bail!("the server closed stdout");
        }
        let at = Instant::now();
        let envelope: Envelope = serde_json::from_slice(line).with_context(|| {
            format!(
                "the server wrote a line that is not JSON-RPC: {}",
                String::from_utf8_lossy(line)
            )
        })?;
        if envelope.method.is_some() {
            continue;
        }
        let outcome = match (envelope.result, envelope.error) {
            (_, Some(error)) => Outcome::RpcError {
                code: error.code,
                message: error.message,
            },
            (Some(result), None) if result.is_error => Outcome::ToolError,
            _ => Outcome::Ok,
        };
        return Ok(Reply {
            at,
            id: envelope.id,
            outcome,
        });
    }
}

pub fn initialize_params(protocol_version: &str) -> Value {
    json!({
        "protocolVersion": protocol_version,
        "capabilities": {},
        "clientInfo": {"name": "mcp-load", "version": env!("CARGO_PKG_VERSION")},
    })
}

/// The initialize request as one line, with id 0.
pub fn initialize_line(protocol_version: &str) -> Vec<u8> {
    let mut line = serde_json::to_vec(&json!({
        "jsonrpc": "2.0", "id": 0, "method": "initialize", "params": initialize_params(protocol_version),
    }))
    .unwrap_or_default();
    line.push(b'\n');
    line
}

pub fn server_identity(initialize_result: &Value) -> String {
    let info = &initialize_result["serverInfo"];
    let name = info["name"].as_str().unwrap_or("?");
    let version = info["version"].as_str().unwrap_or("?");
    format!("{name} {version}")
}

/// The `params` of a tools/call, serialized once and reused for every request.
pub fn call_params(tool: &str, arguments: &Value) -> String {
    json!({"name": tool, "arguments": arguments}).to_string()
}

/// One tools/call request line.
pub fn call_line(out: &mut Vec<u8>, id: u64, params: &str) {
    // `write!` into a Vec cannot fail.
    let _ = writeln!(
        out,
        "{{\"jsonrpc\":\"2.0\",\"id\":{id},\"method\":\"tools/call\",\"params\":{params}}}"
    );
}

/// Memory of a process and the processes it started, from /proc, in KiB.
#[derive(Debug, Clone, Copy, Default)]
pub struct Memory {
    /// Peak resident set (VmHWM), summed over the process tree.
    pub peak_kib: u64,
    /// Current resident set (VmRSS).
    pub rss_kib: u64,
}

pub fn memory(pid: u32) -> Memory {
    let mut total = Memory::default();
    for member in process_tree(pid) {
        if let Ok(status) = std::fs::read_to_string(format!("/proc/{member}/status")) {
            total.peak_kib += status_field(&status, "VmHWM:");
            total.rss_kib += status_field(&status, "VmRSS:");
        }
    }
    total
}

fn status_field(status: &str, key: &str) -> u64 {
    status
        .lines()
        .find_map(|line| line.strip_prefix(key))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|kib| kib.parse().ok())
        .unwrap_or(0)
}

/// CPU time (user + system, all threads) used so far by the process tree, in seconds.
pub fn cpu_seconds(pid: u32) -> f64 {
    process_tree(pid).into_iter().map(stat_ticks).sum::<u64>() as f64 / clock_ticks_per_second()
}

/// CPU time used so far by this process alone (not the servers it started), in seconds.
pub fn own_cpu_seconds() -> f64 {
    stat_ticks(std::process::id()) as f64 / clock_ticks_per_second()
}

/// utime + stime of one process, in clock ticks.
fn stat_ticks(pid: u32) -> u64 {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return 0;
    };
    // The command name is in parentheses and may hold spaces; utime and stime are the 14th and
    // 15th fields of the line, the 12th and 13th after the name.
    let rest = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let field = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<u64>().ok())
            .unwrap_or(0)
    };
    field(11) + field(12)
}

fn clock_ticks_per_second() -> f64 {
    static TICKS: std::sync::OnceLock<f64> = std::sync::OnceLock::new();
    *TICKS.get_or_init(|| {
        Command::new("getconf")
            .arg("CLK_TCK")
            .output()
            .ok()
            .and_then(|out| String::from_utf8(out.stdout).ok())
            .and_then(|text| text.trim().parse().ok())
            .unwrap_or(100.0)
    })
}

/// `pid` and its descendants that are alive now.
fn process_tree(pid: u32) -> Vec<u32> {
    let mut parents: Vec<(u32, u32)> = Vec::new();
    if let Ok(entries) = std::fs::read_dir("/proc") {
        for entry in entries.flatten() {
            let Some(child) = entry
                .file_name()
                .to_str()
                .and_then(|n| n.parse::<u32>().ok())
            else {
                continue;
            };
            if let Ok(stat) = std::fs::read_to_string(format!("/proc/{child}/stat")) {
                let parent = stat
                    .rsplit_once(')')
                    .and_then(|(_, rest)| rest.split_whitespace().nth(1))
                    .and_then(|p| p.parse::<u32>().ok());
                if let Some(parent) = parent {
                    parents.push((child, parent));
                }
            }
        }
    }
    let mut tree = vec![pid];
    let mut i = 0;
    while i < tree.len() {
        let node = tree[i];
        tree.extend(
            parents
                .iter()
                .filter(|(_, parent)| *parent == node)
                .map(|(child, _)| *child),
        );
        i += 1;
    }
    tree
}

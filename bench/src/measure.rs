//! The measurements, each on fresh processes: cold start (spawn to the answer to `initialize`,
//! over many processes), sequential round trips on one connection (one request on the wire at a
//! time), and pipelined throughput (a writer thread sends every request while the reader counts
//! the answers), with the peak resident memory that load caused.

use std::io::Write;
use std::time::{Duration, Instant};

use anyhow::{Context, anyhow, bail};
use serde_json::{Value, json};

use crate::server::{self, Launch, Memory, Outcome, Server};

/// What each call asks of the server.
#[derive(Debug, Clone)]
pub struct Workload {
    pub tool: String,
    pub arguments: Value,
}

/// Spawn-to-first-answer times, one per fresh process.
pub struct ColdStart {
    pub runs: Vec<Duration>,
}

/// Measures `runs` cold starts. One more run goes first and is not counted: it brings the
/// program's files into the page cache, as for a client that has started the server before.
pub fn cold_start(
    launch: &Launch,
    protocol_version: &str,
    runs: usize,
) -> anyhow::Result<ColdStart> {
    let line = server::initialize_line(protocol_version);
    let mut times = Vec::with_capacity(runs);
    for run in 0..=runs {
        let start = Instant::now();
        let mut server = Server::spawn(launch)?;
        server.send(&line)?;
        let reply = server
            .read_reply()
            .context("waiting for the answer to initialize")?;
        let elapsed = reply.at - start;
        if let Outcome::RpcError { code, message } = reply.outcome {
            bail!("initialize failed: {code} {message}");
        }
        server.kill();
        if run > 0 {
            times.push(elapsed);
        }
    }
    Ok(ColdStart { runs: times })
}

/// What one connection showed: the server's identity, the sizes of what it sends, and the
/// sequential round trips.
pub struct Session {
    pub identity: String,
    pub tool_count: usize,
    pub tools_list_bytes: usize,
    pub call_bytes: usize,
    pub call_text_bytes: usize,
    /// Memory after the handshake, tools/list and one call.
    pub idle: Memory,
    pub latencies: Vec<Duration>,
    pub failures: usize,
}

/// The handshake, `tools/list`, one checked call, then `warmup` + `calls` sequential calls, of
/// which the last `calls` are timed from the write to the last byte of the answer.
pub fn session(
    launch: &Launch,
    protocol_version: &str,
    workload: &Workload,
    warmup: usize,
    calls: usize,
) -> anyhow::Result<Session> {
    let mut server = Server::spawn(launch)?;
    let identity = server.handshake(protocol_version)?;

    let mut tools_list_bytes = 0;
    let mut names: Vec<String> = Vec::new();
    let mut cursor: Option<Value> = None;
    loop {
        let params = match &cursor {
            Some(cursor) => json!({"cursor": cursor}),
            None => json!({}),
        };
        let (page, bytes) = server.request("tools/list", params)?;
        tools_list_bytes += bytes;
        if let Some(tools) = page["tools"].as_array() {
            names.extend(
                tools
                    .iter()
                    .filter_map(|t| t["name"].as_str())
                    .map(str::to_string),
            );
        }
        match page.get("nextCursor") {
            Some(next) if !next.is_null() && names.len() < 10_000 => cursor = Some(next.clone()),
            _ => break,
        }
    }
    if !names.contains(&workload.tool) {
        bail!(
            "the server has no tool `{}`; it has: {}",
            workload.tool,
            names.join(", ")
        );
    }

    let (first, call_bytes) = server.request(
        "tools/call",
        json!({"name": workload.tool, "arguments": workload.arguments}),
    )?;
    let call_text_bytes: usize = first["content"]
        .as_array()
        .map(|blocks| {
            blocks
                .iter()
                .filter_map(|b| b["text"].as_str())
                .map(str::len)
                .sum()
        })
        .unwrap_or(0);
    if first["isError"] == Value::Bool(true) {
        bail!(
            "`{}` refused the arguments: {}",
            workload.tool,
            first["content"]
        );
    }
    let idle = server::memory(server.pid());

    let params = server::call_params(&workload.tool, &workload.arguments);
    let mut line = Vec::with_capacity(params.len() + 64);
    let mut latencies = Vec::with_capacity(calls);
    let mut failures = 0;
    for i in 0..warmup + calls {
        let id = server.take_id();
        line.clear();
        server::call_line(&mut line, id, &params);
        let start = Instant::now();
        server.send(&line)?;
        let reply = server.read_reply()?;
        if i >= warmup {
            latencies.push(reply.at - start);
        }
        if reply.id != Some(Value::from(id)) {
            bail!("asked with id {id}, answered with id {:?}", reply.id);
        }
        if reply.outcome != Outcome::Ok {
            failures += 1;
        }
    }
    server.close();
    Ok(Session {
        identity,
        tool_count: names.len(),
        tools_list_bytes,
        call_bytes,
        call_text_bytes,
        idle,
        latencies,
        failures,
    })
}

/// One pipelined run.
pub struct Pipelined {
    pub calls: usize,
    /// From the first byte written to the last byte of the last answer.
    pub elapsed: Duration,
    /// The process tree's memory after the run; `peak_kib` covers its whole life.
    pub memory: Memory,
    /// CPU the server used during the run (all its threads), in seconds.
    pub cpu_seconds: f64,
    /// CPU this client used during the run (writer and reader), in seconds: on a small
    /// machine it competes with the server for the cores.
    pub client_cpu_seconds: f64,
    /// Answers that were errors, or missing, or repeated.
    pub failures: usize,
}

impl Pipelined {
    pub fn calls_per_second(&self) -> f64 {
        self.calls as f64 / self.elapsed.as_secs_f64()
    }
}

/// Writes `calls` requests as fast as the pipe takes them from one thread while this one reads
/// the answers; the server decides how many it reads ahead.
pub fn pipelined(
    launch: &Launch,
    protocol_version: &str,
    workload: &Workload,
    calls: usize,
) -> anyhow::Result<Pipelined> {
    let mut server = Server::spawn(launch)?;
    server.handshake(protocol_version)?;
    let pid = server.pid();
    let params = server::call_params(&workload.tool, &workload.arguments);
    let first = server.take_ids(calls as u64);
    // Every request is serialized before the clock starts, so the writer only copies bytes.
    let mut batch = Vec::with_capacity(calls * (params.len() + 64));
    for i in 0..calls as u64 {
        server::call_line(&mut batch, first + i, &params);
    }
    let mut stdin = server.stdin.take().context("stdin is open")?;
    let cpu_before = server::cpu_seconds(pid);
    let client_before = server::own_cpu_seconds();
    let start = Instant::now();
    let (last, failures, stdin) = std::thread::scope(|scope| -> anyhow::Result<_> {
        let writer = scope.spawn(move || stdin.write_all(&batch).map(|()| stdin));
        let mut seen = vec![false; calls];
        let mut failures = 0usize;
        let mut last = start;
        let mut line = Vec::with_capacity(8192);
        for _ in 0..calls {
            let reply = server::read_reply(&mut server.stdout, &mut line)?;
            last = reply.at;
            let slot = reply
                .id
                .as_ref()
                .and_then(Value::as_u64)
                .and_then(|id| id.checked_sub(first));
            match slot.and_then(|i| seen.get_mut(i as usize)) {
                Some(seen) if !*seen && reply.outcome == Outcome::Ok => *seen = true,
                _ => failures += 1,
            }
        }
        let stdin = writer
            .join()
            .map_err(|_| anyhow!("the writer thread panicked"))?
            .context("writing the requests")?;
        Ok((last, failures, stdin))
    })?;
    let elapsed = last - start;
    let cpu_seconds = server::cpu_seconds(pid) - cpu_before;
    let client_cpu_seconds = server::own_cpu_seconds() - client_before;
    let memory = server::memory(pid);
    server.stdin = Some(stdin);
    server.close();
    Ok(Pipelined {
        calls,
        elapsed,
        memory,
        cpu_seconds,
        client_cpu_seconds,
        failures,
    })
}

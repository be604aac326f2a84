//! Piped sessions, as a script runs them (`printf … | scale-advisor serve`): the whole session
//! is written at once and stdin closes, often before the first answer is out. Every request
//! read is answered before the process exits, with the `notifications/message` its logging
//! level lets through, whatever the last request is and however soon EOF follows it.

use std::io::{Read, Write};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::examples;
use crate::harness::{BINARY, HANDSHAKE_FREE, handshake_free_meta, revision};

/// What a session's last request is.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Ending {
    /// A call whose arguments the tool refuses: an `isError` result, heard at `warning`.
    RefusedCall,
    /// A call of a tool that does not exist: a JSON-RPC error, heard at `warning`.
    UnknownTool,
    /// A call the tool answers: no news, unless every call is slow.
    GoodCall,
    /// `scaling_report` on its first example, the largest of the common answers.
    Report,
    /// `logging/setLevel` itself, which sends the start-up notes its level lets through.
    SetLevel,
    /// A method no handler takes, refused by the transport before rmcp sees it.
    UnknownMethod,
}

const ENDINGS: [Ending; 6] = [
    Ending::RefusedCall,
    Ending::UnknownTool,
    Ending::GoodCall,
    Ending::Report,
    Ending::SetLevel,
    Ending::UnknownMethod,
];

/// The level a session sets (`None`: logging never turned on); `error` turns it on but lets
/// no warning through.
const LEVELS: [Option<&str>; 4] = [None, Some("debug"), Some("warning"), Some("error")];

/// How the server is started.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Serving {
    /// No options: a refused call is the only news.
    Plain,
    /// `--knowledge-dir` (a start-up notice, heard at `notice`) and `--slow-call-ms 0` (every
    /// call is a slow answer, heard at `warning`): news before the answer of every request.
    Noisy,
}

/// Rounds of the whole table; with the pause before EOF varied each round.
const ROUNDS: usize = 2;

/// Sessions run side by side, so that the server's threads compete for the CPU as they do on a
/// busy machine.
const WORKERS: usize = 4;

/// The longest one session may take, start to exit (under a second when all is well).
const SESSION_LIMIT: Duration = Duration::from_secs(20);

/// One piped session: the server, the level, the last request, the pause before EOF.
#[derive(Debug, Clone)]
struct Session {
    serving: Serving,
    level: Option<&'static str>,
    ending: Ending,
    pause_before_eof: Duration,
}

/// What the session writes and what it must get back.
struct Script {
    lines: Vec<String>,
    /// Every request id written.
    ids: Vec<i64>,
    /// The `data.event` of every `notifications/message` due, sorted.
    events: Vec<String>,
}

const SEVERITIES: [&str; 8] = [
    "debug",
    "info",
    "notice",
    "warning",
    "error",
    "critical",
    "alert",
    "emergency",
];

fn severity(level: &str) -> usize {
    SEVERITIES
        .iter()
        .position(|l| *l == level)
        .unwrap_or_else(|| panic!("unknown level {level}"))
}

impl Session {
    fn hears(&self, level: &str) -> bool {
        self.level
            .is_some_and(|wanted| severity(level) >= severity(wanted))
    }

    /// The requests of the session (its level if it sets one, a good call, and the ending
    /// last) and the news due: what each request sends is heard once the level is set.
    fn script(&self) -> Script {
        let good = json!({"name": "diagnose_bottleneck", "arguments": {"db_cpu_pct": 75}});
        let refused = json!({"name": "diagnose_bottleneck", "arguments": {"db_cpu_pct": "high"}});
        let unknown = json!({"name": "diagnose_botleneck", "arguments": {}});
        let report = examples::first("scaling_report");
        let report = json!({"name": report.tool, "arguments": report.arguments});
        let set_level = |level: &str| ("logging/setLevel", json!({"level": level}));
        let mut steps = Vec::new();
        if let Some(level) = self.level
            && self.ending != Ending::SetLevel
        {
            steps.push(set_level(level));
        }
        steps.push(("tools/call", good.clone()));
        steps.push(match self.ending {
            Ending::RefusedCall => ("tools/call", refused.clone()),
            Ending::UnknownTool => ("tools/call", unknown.clone()),
            Ending::GoodCall => ("tools/call", good),
            Ending::Report => ("tools/call", report),
            Ending::SetLevel => set_level(self.level.unwrap_or("debug")),
            Ending::UnknownMethod => ("no/such/method", json!({})),
        });

        let handshake_free = revision() == HANDSHAKE_FREE;
        let mut lines = Vec::new();
        let mut ids = Vec::new();
        if !handshake_free {
            lines.push(json!({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {"protocolVersion": revision(), "capabilities": {}, "clientInfo": {"name": "piped", "version": "0"}}}).to_string());
            lines
                .push(json!({"jsonrpc": "2.0", "method": "notifications/initialized"}).to_string());
            ids.push(0);
        }
        let mut events = Vec::new();
        let mut level_set = false;
        for (id, (method, mut params)) in (1..).zip(steps) {
            let call = method == "tools/call";
            let news: &[(&str, bool)] = &[
                (
                    "knowledge_dir",
                    method == "logging/setLevel"
                        && self.serving == Serving::Noisy
                        && self.hears("notice"),
                ),
                (
                    "slow_answer",
                    call && self.serving == Serving::Noisy && self.hears("warning"),
                ),
                (
                    "refused_call",
                    (params == refused || params == unknown) && self.hears("warning"),
                ),
            ];
            level_set |= method == "logging/setLevel";
            if level_set {
                events.extend(
                    news.iter()
                        .filter(|(_, due)| *due)
                        .map(|(event, _)| event.to_string()),
                );
            }
            if handshake_free {
                params["_meta"] = handshake_free_meta();
            }
            lines.push(
                json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}).to_string(),
            );
            ids.push(id);
        }
        events.sort();
        Script { lines, ids, events }
    }

    /// Pipes the session into a fresh server and says what went wrong, if anything.
    fn run(&self, knowledge_dir: &str) -> Result<(), String> {
        let script = self.script();
        let mut command = Command::new(BINARY);
        command.arg("serve");
        if self.serving == Serving::Noisy {
            command.args(["--knowledge-dir", knowledge_dir, "--slow-call-ms", "0"]);
        }
        let mut child = command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("the binary does not start: {e}"))?;
        let mut stdout = child.stdout.take().expect("stdout is piped");
        let reader = std::thread::spawn(move || {
            let mut out = String::new();
            let _ = stdout.read_to_string(&mut out);
            out
        });
        let started = Instant::now();
        let mut stdin = child.stdin.take().expect("stdin is piped");
        let text: String = script.lines.iter().map(|l| format!("{l}\n")).collect();
        // A server that exits early closes the pipe; what it answered is checked below.
        let _ = stdin.write_all(text.as_bytes());
        std::thread::sleep(self.pause_before_eof);
        drop(stdin);
        let status = loop {
            if let Some(status) = child.try_wait().map_err(|e| e.to_string())? {
                break status;
            }
            if started.elapsed() > SESSION_LIMIT {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!("no exit within {SESSION_LIMIT:?} of the start"));
            }
            std::thread::sleep(Duration::from_millis(5));
        };
        let out = reader.join().map_err(|_| "the reader panicked")?;
        let mut problems = Vec::new();
        if !status.success() {
            problems.push(format!("exit {status}"));
        }
        let mut answers: Vec<i64> = Vec::new();
        let mut events = Vec::new();
        for line in out.lines() {
            let message: Value = serde_json::from_str(line)
                .map_err(|e| format!("stdout carried a non-JSON line ({e}): {line}"))?;
            if message["method"] == "notifications/message" {
                let event = message["params"]["data"]["event"].as_str();
                events.push(event.unwrap_or("(no event)").to_string());
            } else if let Some(id) = message["id"].as_i64() {
                answers.push(id);
            } else {
                problems.push(format!("an answer without its id: {line}"));
            }
        }
        for id in &script.ids {
            match answers.iter().filter(|a| *a == id).count() {
                1 => {}
                0 => problems.push(format!("request {id} unanswered")),
                n => problems.push(format!("request {id} answered {n} times")),
            }
        }
        events.sort();
        if events != script.events {
            problems.push(format!("heard {events:?}, expected {:?}", script.events));
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(problems.join("; "))
        }
    }
}

/// Every combination of server, level and last request, `ROUNDS` times, each piped into its own
/// server and closed at once or after a pause of up to 3 ms.
fn sessions() -> Vec<Session> {
    let pauses = [0, 1, 3].map(Duration::from_millis);
    let mut sessions = Vec::new();
    for round in 0..ROUNDS {
        for serving in [Serving::Plain, Serving::Noisy] {
            for level in LEVELS {
                for ending in ENDINGS {
                    if ending == Ending::SetLevel && level.is_none() {
                        continue;
                    }
                    sessions.push(Session {
                        serving,
                        level,
                        ending,
                        pause_before_eof: pauses[(round + sessions.len()) % pauses.len()],
                    });
                }
            }
        }
    }
    sessions
}

#[test]
fn every_request_of_a_piped_session_is_answered_before_exit() {
    let dir = std::env::temp_dir().join(format!("scale-advisor-piped-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a scratch knowledge folder");
    std::fs::write(dir.join("runbook.md"), "# Runbook\n\nPage the on-call.\n").expect("write");
    let knowledge_dir = dir.to_string_lossy().into_owned();

    let sessions = Arc::new(sessions());
    assert!(sessions.len() >= 50, "{} runs", sessions.len());
    let next = Arc::new(AtomicUsize::new(0));
    let failures = Arc::new(Mutex::new(Vec::new()));
    let started = Instant::now();
    let workers: Vec<_> = (0..WORKERS)
        .map(|_| {
            let (sessions, next, failures) = (sessions.clone(), next.clone(), failures.clone());
            let knowledge_dir = knowledge_dir.clone();
            std::thread::spawn(move || {
                while let Some(session) = sessions.get(next.fetch_add(1, Ordering::Relaxed)) {
                    if let Err(problem) = session.run(&knowledge_dir) {
                        failures
                            .lock()
                            .unwrap_or_else(|e| e.into_inner())
                            .push(format!("{session:?}: {problem}"));
                    }
                }
            })
        })
        .collect();
    for worker in workers {
        worker.join().expect("a worker panicked");
    }
    let _ = std::fs::remove_dir_all(&dir);
    let failures = failures.lock().unwrap_or_else(|e| e.into_inner());
    eprintln!(
        "{} piped sessions on {} in {:?}, {} failed",
        sessions.len(),
        revision(),
        started.elapsed(),
        failures.len()
    );
    assert!(
        failures.is_empty(),
        "{} of {} piped sessions lost something:\n{}",
        failures.len(),
        sessions.len(),
        failures.join("\n")
    );
}

/// A client that reads slowly after closing stdin gets the last answers too: the server waits
/// for them while bytes keep leaving, and gives up only on a client that stopped reading. The
/// last request is the largest answer (a 4,096-shard reshard plan in `detail: full`, over half a
/// megabyte), read 64 KiB at a time with a pause after each read.
#[test]
fn a_slow_reader_gets_the_last_answer_after_eof() {
    const PAUSE: Duration = Duration::from_millis(250);
    let handshake_free = revision() == HANDSHAKE_FREE;
    let mut lines = Vec::new();
    let mut ids = Vec::new();
    if !handshake_free {
        lines.push(json!({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {"protocolVersion": revision(), "capabilities": {}, "clientInfo": {"name": "slow-reader", "version": "0"}}}));
        lines.push(json!({"jsonrpc": "2.0", "method": "notifications/initialized"}));
        ids.push(0);
    }
    let reshard = json!({"kind": "reshard", "current_shards": 1, "target_shards": 4096, "virtual_shards": 65536, "detail": "full"});
    let calls = [
        json!({"name": "diagnose_bottleneck", "arguments": {"db_cpu_pct": 75}}),
        json!({"name": "plan_migration", "arguments": reshard}),
    ];
    for (id, mut params) in (1..).zip(calls) {
        if handshake_free {
            params["_meta"] = handshake_free_meta();
        }
        lines.push(json!({"jsonrpc": "2.0", "id": id, "method": "tools/call", "params": params}));
        ids.push(id);
    }
    let mut child = Command::new(BINARY)
        .arg("serve")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("the binary starts");
    let mut stdin = child.stdin.take().expect("stdin is piped");
    let text: String = lines.iter().map(|l| format!("{l}\n")).collect();
    stdin.write_all(text.as_bytes()).expect("write");
    drop(stdin);

    let mut stdout = child.stdout.take().expect("stdout is piped");
    let started = Instant::now();
    let mut out = Vec::new();
    let mut piece = vec![0; 64 * 1024];
    let mut reads = 0;
    loop {
        assert!(
            started.elapsed() < SESSION_LIMIT,
            "still reading after {SESSION_LIMIT:?}"
        );
        let read = stdout.read(&mut piece).expect("read stdout");
        if read == 0 {
            break;
        }
        out.extend_from_slice(&piece[..read]);
        reads += 1;
        std::thread::sleep(PAUSE);
    }
    let status = child.wait().expect("the server exits");
    assert!(status.success(), "{status}");
    let text = String::from_utf8(out).expect("UTF-8");
    let answers: Vec<(i64, usize)> = text
        .lines()
        .map(|line| {
            let message: Value = serde_json::from_str(line)
                .unwrap_or_else(|e| panic!("an answer cut short after {} bytes: {e}", line.len()));
            (message["id"].as_i64().unwrap_or(-1), line.len())
        })
        .collect();
    eprintln!(
        "a reader pausing {PAUSE:?} per 64 KiB: {} bytes in {reads} reads over {:?}",
        text.len(),
        started.elapsed()
    );
    assert_eq!(
        answers.iter().map(|(id, _)| *id).collect::<Vec<_>>(),
        ids,
        "every request answered once, in order"
    );
    let last = answers.last().map_or(0, |(_, bytes)| *bytes);
    assert!(last > 500_000, "the last answer is {last} bytes");
}

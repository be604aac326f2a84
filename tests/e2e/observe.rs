//! `observe_system` and `observe` against a real Prometheus (Debian's `prometheus`, started on a
//! free loopback port over a history written with `promtool tsdb create-blocks-from
//! openmetrics`: deterministic, no scrape to wait for), and the faults a live source can have,
//! each answered within its deadline with the source's status, nothing lost for the other
//! tools, and no secret shown anywhere.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};

use crate::harness::{BINARY, Server};

/// Days of history written; the fits read them all.
const DAYS: u32 = 30;
/// Seconds between the written samples: two in every `[5m]` rate window.
const STEP_S: u64 = 120;
/// The growth the first instance's request rate is written with, %/month.
const GROWTH_PCT: f64 = 5.0;
/// The idle shares of the two database hosts: 40% and 90% idle, so 60% and 10% busy.
const IDLE: [(&str, f64); 2] = [("a:1", 0.4), ("b:1", 0.9)];
/// A password that must never be shown.
const SECRET: &str = "s3cret-pw";

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("scale-advisor-e2e-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("a scratch folder");
    dir
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

/// The written history: instance a's request rate grows `GROWTH_PCT` a month, b's stays flat
/// with a wobble; each has one database host's CPU counters.
fn openmetrics(now: u64) -> String {
    let start = now - u64::from(DAYS) * 86_400;
    let per_second = (1.0 + GROWTH_PCT / 100.0f64).ln() / 30.4375 / 86_400.0;
    let mut text = String::from("# TYPE http_request_duration_seconds counter\n");
    let mut flat_count = 0.0;
    let mut t = start;
    let mut lines_a = String::new();
    let mut lines_b = String::new();
    let mut cpu = String::new();
    while t <= now {
        let since = (t - start) as f64;
        // The counter whose rate is 100·e^(k·t): its integral.
        let count_a = 100.0 / per_second * ((per_second * since).exp() - 1.0);
        lines_a.push_str(&format!(
            "http_request_duration_seconds_count{{job=\"api\",instance=\"a:1\"}} {count_a:.4} {t}\n"
        ));
        lines_b.push_str(&format!(
            "http_request_duration_seconds_count{{job=\"api\",instance=\"b:1\"}} {flat_count:.4} {t}\n"
        ));
        let day = since / 86_400.0;
        flat_count += 50.0 * (1.0 + 0.05 * (day * 1.7).sin()) * STEP_S as f64;
        for (instance, idle) in IDLE {
            cpu.push_str(&format!(
                "node_cpu_seconds_total{{job=\"postgres-db\",instance=\"{instance}\",cpu=\"0\",mode=\"idle\"}} {:.3} {t}\n",
                idle * since
            ));
        }
        t += STEP_S;
    }
    text.push_str(&lines_a);
    text.push_str(&lines_b);
    text.push_str("# TYPE node_cpu_seconds_total counter\n");
    text.push_str(&cpu);
    text.push_str("# EOF\n");
    text
}

/// A Prometheus over the written history, stopped by its pid when dropped (also on failure).
struct Prometheus {
    child: Child,
    port: u16,
    dir: PathBuf,
}

impl Prometheus {
    fn start() -> Prometheus {
        let dir = scratch("prometheus");
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .expect("a clock after 1970")
            .as_secs();
        let now = now - now % STEP_S;
        let input = dir.join("history.om");
        std::fs::write(&input, openmetrics(now)).expect("the history is written");
        let data = dir.join("data");
        let status = Command::new("promtool")
            .args(["tsdb", "create-blocks-from", "openmetrics", "-q"])
            .arg(&input)
            .arg(&data)
            .stdout(Stdio::null())
            .status()
            .expect("promtool runs (Debian package `prometheus`)");
        assert!(status.success(), "promtool could not write the blocks");
        std::fs::write(
            dir.join("prometheus.yml"),
            "global:\n  scrape_interval: 1h\n",
        )
        .expect("a configuration");
        let port = free_port();
        let child = Command::new("prometheus")
            .arg(format!(
                "--config.file={}",
                dir.join("prometheus.yml").display()
            ))
            .arg(format!("--storage.tsdb.path={}", data.display()))
            .arg("--storage.tsdb.retention.time=400d")
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("prometheus starts (Debian package `prometheus`)");
        let prometheus = Prometheus { child, port, dir };
        let deadline = Instant::now() + Duration::from_secs(30);
        while !prometheus.ready() {
            assert!(
                Instant::now() < deadline,
                "prometheus was not ready in 30 s"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        prometheus
    }

    fn ready(&self) -> bool {
        let Ok(mut stream) = TcpStream::connect(("127.0.0.1", self.port)) else {
            return false;
        };
        let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
        let request = "GET /-/ready HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";
        if stream.write_all(request.as_bytes()).is_err() {
            return false;
        }
        let mut answer = String::new();
        let _ = stream.read_to_string(&mut answer);
        answer.starts_with("HTTP/1.1 200")
    }

    /// The URL with a password in it, which Prometheus ignores and nothing may show.
    fn url(&self) -> String {
        format!("http://advisor:{SECRET}@127.0.0.1:{}", self.port)
    }
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// `serve` with `options`, its stderr in a file of `dir` (read for secrets afterwards).
fn serve(options: &[String], dir: &Path) -> (Server, PathBuf) {
    let log = dir.join("stderr.log");
    let mut command = Command::new(BINARY);
    command
        .arg("serve")
        .args(options)
        .arg("--log-level=debug")
        .stderr(std::fs::File::create(&log).expect("a log file"));
    (Server::start_command(command), log)
}

fn trend<'a>(observed: &'a Value, name: &str) -> &'a Value {
    observed["trends"]
        .as_array()
        .and_then(|t| t.iter().find(|t| t["name"] == name))
        .unwrap_or_else(|| panic!("no trend {name}: {observed}"))
}

fn metric(observed: &Value, name: &str) -> f64 {
    observed["metrics"]
        .as_array()
        .and_then(|m| m.iter().find(|m| m["name"] == name))
        .and_then(|m| m["value"].as_f64())
        .unwrap_or_else(|| panic!("no metric {name}: {observed}"))
}

#[test]
fn a_real_prometheus_gives_todays_figures_and_the_growth_of_one_instance() {
    let prometheus = Prometheus::start();
    let dir = scratch("observe-real");
    let (mut server, log) = serve(&[format!("--prometheus={}", prometheus.url())], &dir);

    // The instance that grows: its rate, an interval around it, today's CPU of its host.
    let grows = server.call_ok(
        "observe_system",
        json!({"selector": {"instance": "a:1"}, "window_days": DAYS}),
    );
    assert_eq!(grows["connections"][0]["status"], "ok", "{grows}");
    let load = trend(&grows, "load");
    let rate = load["monthly_growth_pct"].as_f64().unwrap();
    let [low, high] = [
        load["ci95_pct"][0].as_f64().unwrap(),
        load["ci95_pct"][1].as_f64().unwrap(),
    ];
    assert_eq!(load["significant"], true, "{load}");
    assert!((rate - GROWTH_PCT).abs() < 0.25, "{load}");
    assert!(low <= rate && rate <= high && low > 0.0, "{load}");
    assert!(load["points"].as_u64().unwrap() >= 14, "{load}");
    assert!((metric(&grows, "db_cpu_pct") - 60.0).abs() < 1.0, "{grows}");
    assert_eq!(
        grows["arguments"]["forecast_growth"]["monthly_growth_pct"],
        load["monthly_growth_pct"]
    );
    let bytes = serde_json::to_vec(&grows).unwrap().len();
    assert!(bytes <= 4000, "{bytes} bytes: {grows}");

    // The forecast on the observed history: the same fit, computed here from the daily peaks
    // it shows, and the same months as the forecast given that rate by hand.
    let forecast = server.call_ok(
        "forecast_growth",
        json!({"observe": {"selector": {"instance": "a:1"}, "window_days": DAYS}}),
    );
    let points: Vec<(f64, f64)> = forecast["observed_history"]["points"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p[0].as_f64().unwrap(), p[1].as_f64().unwrap()))
        .collect();
    let knowledge = knowledge::Knowledge::embedded().expect("the embedded knowledge loads");
    let rules = tools::trend::TrendRules::load(&knowledge).expect("the fit's rows load");
    let refit = rules.fit(&points).expect("the peaks fit");
    assert!(
        (refit.monthly_growth_pct - rate).abs() < 0.01,
        "refit {} against {rate}",
        refit.monthly_growth_pct
    );
    let by_hand = server.call_ok(
        "forecast_growth",
        json!({
            "monthly_growth_pct": forecast["monthly_growth_pct"],
            "db_cpu_pct": forecast["observed"][0]["value"],
        }),
    );
    assert_eq!(forecast["resources"], by_hand["resources"]);
    let observed: Vec<&str> = forecast["observed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["field"].as_str().unwrap())
        .collect();
    assert_eq!(observed, ["db_cpu_pct", "monthly_growth_pct"]);

    // The flat instance: no rate passed on, and its own host's CPU.
    let flat = server.call_ok(
        "observe_system",
        json!({"selector": {"instance": "b:1"}, "window_days": DAYS}),
    );
    assert_eq!(trend(&flat, "load")["significant"], false, "{flat}");
    assert!(
        flat["arguments"]["forecast_growth"]
            .get("monthly_growth_pct")
            .is_none()
    );
    assert!((metric(&flat, "db_cpu_pct") - 10.0).abs() < 1.0, "{flat}");

    // A selector value with quotes and braces is matched literally: it matches nothing.
    let odd = server.call_ok(
        "observe_system",
        json!({"selector": {"instance": "a:1\"} or vector(1) # {"}, "window_days": DAYS}),
    );
    assert!(odd["metrics"].as_array().unwrap().is_empty(), "{odd}");

    // The tools that take metrics are open-world with a source configured.
    let listed = server.request("tools/list", json!({}));
    for tool in [
        "observe_system",
        "diagnose_bottleneck",
        "forecast_growth",
        "scaling_report",
    ] {
        let entry = listed["result"]["tools"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["name"] == tool)
            .unwrap();
        assert_eq!(entry["annotations"]["openWorldHint"], true, "{tool}");
    }
    let everything = format!("{grows}{forecast}{flat}{listed}");
    assert!(
        everything.contains("advisor:***@"),
        "the masked URL is shown"
    );
    assert!(!everything.contains(SECRET));
    drop(server);
    let logged = std::fs::read_to_string(&log).unwrap_or_default();
    assert!(!logged.contains(SECRET), "{logged}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// A loopback server that answers every connection with `answer`, on a thread of its own;
/// it stops when dropped.
struct FakeSource {
    port: u16,
    stop: Arc<AtomicBool>,
}

impl FakeSource {
    fn start(answer: fn(&mut TcpStream)) -> FakeSource {
        let listener = TcpListener::bind("127.0.0.1:0").expect("a loopback port");
        listener.set_nonblocking(true).expect("non-blocking accept");
        let port = listener.local_addr().unwrap().port();
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = stop.clone();
        std::thread::spawn(move || {
            while !stopped.load(Ordering::Relaxed) {
                match listener.accept() {
                    Ok((mut stream, _)) => {
                        let _ = stream.set_nonblocking(false);
                        std::thread::spawn(move || answer(&mut stream));
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(10)),
                }
            }
        });
        FakeSource { port, stop }
    }
}

impl Drop for FakeSource {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

fn read_request(stream: &mut TcpStream) {
    let mut buffer = [0u8; 4096];
    let _ = stream.set_read_timeout(Some(Duration::from_millis(500)));
    let _ = stream.read(&mut buffer);
}

fn unauthorized(stream: &mut TcpStream) {
    read_request(stream);
    let _ = stream.write_all(
        b"HTTP/1.1 401 Unauthorized\r\nContent-Length: 12\r\nConnection: close\r\n\r\nUnauthorized",
    );
}

fn silent(stream: &mut TcpStream) {
    read_request(stream);
    std::thread::sleep(Duration::from_secs(30));
}

/// A 200 MB answer of garbage, sent without a length as fast as it is read.
fn garbage(stream: &mut TcpStream) {
    read_request(stream);
    let _ = stream.write_all(
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n",
    );
    let chunk = vec![b'x'; 64 * 1024];
    for _ in 0..(200 * 16) {
        if stream.write_all(&chunk).is_err() {
            return;
        }
    }
}

fn query_error(stream: &mut TcpStream) {
    read_request(stream);
    let body = r#"{"status":"error","errorType":"bad_data","error":"parse error"}"#;
    let _ = stream.write_all(
        format!(
            "HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
        .as_bytes(),
    );
}

/// The peak resident memory of a process, in kB (Linux).
fn peak_rss_kb(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

#[test]
fn every_fault_is_answered_within_the_deadline_with_its_status() {
    let closed_port = free_port();
    let never = FakeSource::start(silent);
    let refusing = FakeSource::start(unauthorized);
    let flooding = FakeSource::start(garbage);
    let failing = FakeSource::start(query_error);
    let cases = [
        ("down", closed_port, "unreachable"),
        ("silent", never.port, "timed_out"),
        ("401", refusing.port, "refused"),
        ("garbage", flooding.port, "error"),
        ("query error", failing.port, "error"),
    ];
    let timeout_ms = 1500;
    for (case, port, status) in cases {
        let dir = scratch(&format!("fault-{}", case.replace(' ', "-")));
        let (mut server, log) = serve(
            &[
                format!("--prometheus=http://advisor:{SECRET}@127.0.0.1:{port}"),
                format!("--source-timeout-ms={timeout_ms}"),
                "--source-max-bytes=1048576".to_string(),
                format!("--postgres=postgres://advisor:{SECRET}@127.0.0.1:{closed_port}/app"),
            ],
            &dir,
        );
        let started = Instant::now();
        let answer = server.call_ok("observe_system", json!({"window_days": 14}));
        let took = started.elapsed();
        assert!(
            took < Duration::from_millis(timeout_ms + 1500),
            "{case}: {took:?}"
        );
        let prometheus = &answer["connections"][0];
        assert_eq!(prometheus["source"], "prometheus", "{case}: {answer}");
        assert_eq!(prometheus["status"], status, "{case}: {answer}");
        assert_ne!(answer["connections"][1]["status"], "ok", "{case}: {answer}");
        // Nothing lost for the other tools, in the same session.
        let diagnosis = server.call_ok(
            "diagnose_bottleneck",
            json!({"observe": true, "db_cpu_pct": 70}),
        );
        assert!(
            diagnosis["findings"]
                .to_string()
                .contains("db_cpu_saturation")
        );
        assert!(!diagnosis["connections"].as_array().unwrap().is_empty());
        server.call_ok("plan_capacity", json!({"peak_rps": 100}));
        if case == "garbage" {
            let peak = peak_rss_kb(server.pid()).unwrap_or(0);
            assert!(peak < 96 * 1024, "{case}: peak memory {peak} kB");
        }
        let listed = server.request("tools/list", json!({}));
        let shown = format!("{answer}{diagnosis}{listed}");
        assert!(!shown.contains(SECRET), "{case}: {shown}");
        drop(server);
        let logged = std::fs::read_to_string(&log).unwrap_or_default();
        assert!(!logged.contains(SECRET), "{case}: {logged}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}

#[test]
fn a_malformed_url_stops_start_up_and_an_unreachable_one_does_not() {
    let output = Command::new(BINARY)
        .args([
            "--prometheus",
            &format!("http://advisor:{SECRET}@"),
            "tools",
        ])
        .output()
        .expect("the binary runs");
    assert!(!output.status.success());
    let error = String::from_utf8_lossy(&output.stderr);
    assert!(error.contains("--prometheus"), "{error}");
    assert!(!error.contains(SECRET), "{error}");
    let output = Command::new(BINARY)
        .args(["tools"])
        .env("SCALE_ADVISOR_REDIS_URL", "mysql://cache:6379")
        .output()
        .expect("the binary runs");
    assert!(!output.status.success());
    let error = String::from_utf8_lossy(&output.stderr);
    assert!(
        error.contains("--redis") && error.contains("mysql"),
        "{error}"
    );
    let output = Command::new(BINARY)
        .args([
            "--prometheus",
            &format!("http://127.0.0.1:{}", free_port()),
            "call",
            "observe_system",
        ])
        .output()
        .expect("the binary runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(String::from_utf8_lossy(&output.stdout).contains("unreachable"));
}

#[test]
fn without_a_source_nothing_is_read_and_the_tools_stay_closed_world() {
    let mut server = Server::start();
    let listed = server.request("tools/list", json!({}));
    for entry in listed["result"]["tools"].as_array().unwrap() {
        let open = entry["name"] == "observe_system";
        assert_eq!(entry["annotations"]["openWorldHint"], open, "{entry}");
    }
    let answer = server.call_ok("observe_system", json!({}));
    let statuses: Vec<&str> = answer["connections"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["not_configured"; 3]);
}

#[test]
fn config_carries_the_sources_and_names_the_secrets_it_leaves_behind() {
    let home = scratch("config-sources");
    let output = Command::new(BINARY)
        .args([
            "config",
            "claude-desktop",
            "--prometheus",
            "http://prometheus:9090",
            "--postgres",
            "postgres://advisor@db:5432/app",
        ])
        .env("HOME", &home)
        .env("SCALE_ADVISOR_POSTGRES_PASSWORD", SECRET)
        .output()
        .expect("the binary runs");
    assert!(output.status.success());
    let printed = String::from_utf8_lossy(&output.stdout);
    let entry: Value = serde_json::from_str(&printed).expect("the entry is JSON");
    let env = &entry["mcpServers"]["scale-advisor"]["env"];
    assert_eq!(
        env["SCALE_ADVISOR_PROMETHEUS_URL"],
        "http://prometheus:9090"
    );
    assert_eq!(
        env["SCALE_ADVISOR_POSTGRES_URL"],
        "postgres://advisor@db:5432/app"
    );
    let hint = String::from_utf8_lossy(&output.stderr);
    assert!(hint.contains("SCALE_ADVISOR_POSTGRES_PASSWORD"), "{hint}");
    assert!(!printed.contains(SECRET) && !hint.contains(SECRET));
    let code = Command::new(BINARY)
        .args(["config", "claude-code", "--redis", "redis://cache:6379"])
        .env("HOME", &home)
        .output()
        .expect("the binary runs");
    let line = String::from_utf8_lossy(&code.stdout);
    assert!(
        line.contains("-e SCALE_ADVISOR_REDIS_URL=redis://cache:6379 scale-advisor --"),
        "{line}"
    );
    let _ = std::fs::remove_dir_all(&home);
}

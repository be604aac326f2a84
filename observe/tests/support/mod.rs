//! What the tests of `observe` share: scratch directories and child processes that clean up
//! after themselves (also when a test fails), free loopback ports, and a real Prometheus
//! (Debian's `prometheus` package) started on one, with a history backfilled by `promtool`.
#![allow(dead_code)]

pub mod fake;
pub mod reads;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// A directory removed when dropped.
pub struct Scratch {
    pub dir: PathBuf,
}

impl Scratch {
    pub fn new(name: &str) -> Scratch {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "scale-advisor-observe-{name}-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Scratch { dir }
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A child process stopped (by its pid, through the handle) when dropped.
pub struct Child {
    pub name: String,
    child: std::process::Child,
    /// Asked to stop with SIGINT first, for a server (PostgreSQL) that must stop its own
    /// children: killed outright, it would leave them behind.
    graceful: bool,
}

impl Child {
    pub fn spawn(name: &str, command: &mut Command) -> Child {
        let child = command
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!("cannot start {name} ({e}): install it from Debian (see .ci/run)")
            });
        Child {
            name: name.to_string(),
            child,
            graceful: false,
        }
    }

    /// Stops with SIGINT (PostgreSQL's fast shutdown), then SIGKILL after five seconds.
    pub fn graceful(mut self) -> Child {
        self.graceful = true;
        self
    }

    pub fn id(&self) -> u32 {
        self.child.id()
    }

    /// Stops it now (a test of a source that went down).
    pub fn stop(&mut self) {
        if self.graceful && matches!(self.child.try_wait(), Ok(None)) {
            let _ = Command::new("kill")
                .args(["-s", "INT", &self.child.id().to_string()])
                .status();
            let stopped = wait_until(Duration::from_secs(5), || {
                matches!(self.child.try_wait(), Ok(Some(_)))
            });
            if stopped {
                return;
            }
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Child {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A loopback port nothing listens on right now.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The status code of `GET path` on `127.0.0.1:port`, or `None` when nothing answers.
pub fn http_status(port: u16, path: &str) -> Option<u16> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
    write!(stream, "GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").ok()?;
    let mut head = [0u8; 12];
    stream.read_exact(&mut head).ok()?;
    std::str::from_utf8(&head[9..12]).ok()?.parse().ok()
}

/// The body of `GET path` on `127.0.0.1:port`.
pub fn http_body(port: u16, path: &str) -> String {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    write!(stream, "GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    answer
        .split_once("\r\n\r\n")
        .map(|(_, body)| body.to_string())
        .unwrap_or_default()
}

/// Polls `ready` every 50 ms until it holds or `timeout` passes.
pub fn wait_until(timeout: Duration, mut ready: impl FnMut() -> bool) -> bool {
    let until = Instant::now() + timeout;
    while Instant::now() < until {
        if ready() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    false
}

/// A real Prometheus on a free loopback port.
pub struct Prometheus {
    pub port: u16,
    pub process: Child,
    scratch: Scratch,
}

impl Prometheus {
    /// Starts Prometheus on the history in `openmetrics` (backfilled into blocks by `promtool`
    /// first: no waiting for scrapes), scraping `targets` (`(job, host:port)`) every second.
    pub fn start(openmetrics: Option<&str>, targets: &[(&str, String)]) -> Prometheus {
        Prometheus::start_with(openmetrics, targets, None)
    }

    /// Starts Prometheus serving HTTPS with the certificate and key (PEM files) given.
    pub fn start_tls(certificate: &Path, key: &Path) -> Prometheus {
        let web = format!(
            "tls_server_config:\n  cert_file: {}\n  key_file: {}\n",
            certificate.display(),
            key.display()
        );
        Prometheus::start_with(None, &[], Some(&web))
    }

    fn start_with(
        openmetrics: Option<&str>,
        targets: &[(&str, String)],
        web_config: Option<&str>,
    ) -> Prometheus {
        let scratch = Scratch::new("prometheus");
        let data = scratch.path("data");
        std::fs::create_dir_all(&data).unwrap();
        if let Some(history) = openmetrics {
            let input = scratch.path("history.om");
            std::fs::write(&input, history).unwrap();
            backfill(&input, &data);
        }
        let mut config =
            String::from("global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n");
        if !targets.is_empty() {
            config.push_str("scrape_configs:\n");
            for (job, target) in targets {
                config.push_str(&format!(
                    "  - job_name: {job}\n    static_configs:\n      - targets: ['{target}']\n"
                ));
            }
        }
        let config_path = scratch.path("prometheus.yml");
        std::fs::write(&config_path, config).unwrap();
        let port = free_port();
        let mut command = Command::new("prometheus");
        command
            .arg(format!("--config.file={}", config_path.display()))
            .arg(format!("--storage.tsdb.path={}", data.display()))
            .arg("--storage.tsdb.retention.time=3650d")
            .arg(format!("--web.listen-address=127.0.0.1:{port}"));
        if let Some(web) = web_config {
            let path = scratch.path("web.yml");
            std::fs::write(&path, web).unwrap();
            command.arg(format!("--web.config.file={}", path.display()));
        }
        let process = Child::spawn("prometheus", &mut command);
        // Over TLS, a plain request gets Go's "client sent an HTTP request to an HTTPS server"
        // 400: an answer all the same, once Prometheus listens.
        let ready = |status: Option<u16>| match web_config {
            None => status == Some(200),
            Some(_) => status.is_some(),
        };
        assert!(
            wait_until(Duration::from_secs(30), || ready(http_status(
                port, "/-/ready"
            ))),
            "Prometheus did not become ready on port {port}"
        );
        Prometheus {
            port,
            process,
            scratch,
        }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

/// Writes the samples of an OpenMetrics text into TSDB blocks in `data` (`promtool`, from the
/// `prometheus` package). Blocks of up to 100 days, so a long history is a few blocks, not one
/// per two hours.
pub fn backfill(input: &Path, data: &Path) {
    let status = Command::new("promtool")
        .args([
            "tsdb",
            "create-blocks-from",
            "openmetrics",
            "--max-block-duration=2400h",
            "-q",
        ])
        .arg(input)
        .arg(data)
        .stdout(Stdio::null())
        .status()
        .expect("promtool (Debian's prometheus package) is needed");
    assert!(status.success(), "promtool refused the backfill");
}

/// One gauge series of an OpenMetrics backfill: `(unix seconds, value)` samples.
pub struct Series<'a> {
    pub name: &'a str,
    pub labels: &'a str,
    pub samples: Vec<(f64, f64)>,
}

/// An OpenMetrics text of gauges: each family once, its series in time order, then `# EOF`.
pub fn openmetrics(series: &[Series<'_>]) -> String {
    let mut text = String::new();
    let mut families: Vec<&str> = series.iter().map(|s| s.name).collect();
    families.dedup();
    for family in families {
        text.push_str(&format!("# TYPE {family} gauge\n"));
        for s in series.iter().filter(|s| s.name == family) {
            for (at, value) in &s.samples {
                text.push_str(&format!("{family}{{{}}} {value} {at}\n", s.labels));
            }
        }
    }
    text.push_str("# EOF\n");
    text
}

/// Now, in Unix seconds, aligned down to `step`.
pub fn now_aligned(step: f64) -> f64 {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();
    (now / step).floor() * step
}

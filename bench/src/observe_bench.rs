//! `observe-bench`: what reading a live system costs, and what it hands the model, against a
//! local Prometheus (Debian's `prometheus` and `promtool`).
//!
//! It writes a history of the series behind every row of `observation#prometheus-queries`
//! (the exporters' own metric names, one sample every `--scrape` seconds over `--days` days,
//! growing at known rates with a daily rhythm), backfills it with `promtool`, starts Prometheus
//! on a free loopback port, and then measures:
//! - the time of one reading (`observe::prometheus::read_at`: every row's daily peaks), cold and
//!   warm, and of fitting the trends;
//! - the bytes of what the advisor passes on (today's figures and the fitted trends, the shape of
//!   `observe_system`'s result) beside the bytes of the raw range queries that a Prometheus MCP
//!   server hands the model for the same question (the same PromQL over the same days, at the
//!   finest step Prometheus allows for the window and at one hour).

use std::io::{BufWriter, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use clap::Parser;
use knowledge::Knowledge;
use observe::prometheus::read_at;
use observe::{Limits, ObserveRequest, PrometheusConfig, PrometheusQueries, SourceUrl};
use serde_json::json;
use tools::trend::TrendRules;

#[derive(Parser)]
#[command(
    about = "Times observe against a local Prometheus and compares its bytes with raw range queries"
)]
struct Args {
    /// Days of history to write and read.
    #[arg(long, default_value_t = 90)]
    days: u32,
    /// Seconds between two samples of a series (a scrape interval).
    #[arg(long, default_value_t = 120)]
    scrape: u32,
    /// Warm readings to time after the first.
    #[arg(long, default_value_t = 5)]
    repeat: usize,
    /// Seconds between the evaluations inside each day that the daily peak takes the highest
    /// of (default: the knowledge's `observation#daily-peaks`).
    #[arg(long)]
    peak_resolution_s: Option<u64>,
    /// Keep the scratch directory (history, blocks, Prometheus data) for inspection.
    #[arg(long)]
    keep: bool,
}

const DAY: f64 = 86_400.0;
const MONTH_DAYS: f64 = 30.4375;

/// One series of the synthetic system: its name, labels, and its value at an instant (a
/// counter's value is the running sum of its rate).
struct Synthetic {
    name: &'static str,
    labels: &'static str,
    kind: Kind,
}

enum Kind {
    /// A gauge: its value at (days since start, hour of day).
    Gauge(fn(f64, f64) -> f64),
    /// A counter: its rate per second at (days, hour).
    Counter(fn(f64, f64) -> f64),
    /// A counter whose rate follows `load`: so many per second at a load of 1.
    LoadCounter(f64),
}

/// Load: 6% a month, with a daily rhythm peaking mid-afternoon, and from day to day a busier
/// or quieter peak (±8%, a fixed pseudo-random pattern) so that the fits have residuals.
fn load(days: f64, hour: f64) -> f64 {
    let day_noise = 1.0 + 0.08 * (days.floor() * 12.9898).sin() * (days.floor() * 78.233).cos();
    1.06_f64.powf(days / MONTH_DAYS)
        * (1.0 + 0.35 * ((hour - 9.0) / 24.0 * std::f64::consts::TAU).sin())
        * day_noise
}

fn requests(days: f64, hour: f64) -> f64 {
    180.0 * load(days, hour)
}

fn system() -> Vec<Synthetic> {
    use Kind::{Counter, Gauge};
    vec![
        Synthetic {
            name: "node_cpu_seconds_total",
            labels: r#"cpu="0",mode="idle",job="node-db",instance="db:9100""#,
            kind: Counter(|d, h| 1.0 - (0.3 * load(d, h)).min(0.97)),
        },
        Synthetic {
            name: "node_cpu_seconds_total",
            labels: r#"cpu="0",mode="idle",job="node-app",instance="app:9100""#,
            kind: Counter(|d, h| 1.0 - (0.4 * load(d, h)).min(0.97)),
        },
        Synthetic {
            name: "http_request_duration_seconds_bucket",
            labels: r#"le="0.1",code="200",job="api",instance="app:8080""#,
            kind: Counter(|d, h| requests(d, h) * 0.70),
        },
        Synthetic {
            name: "http_request_duration_seconds_bucket",
            labels: r#"le="0.25",code="200",job="api",instance="app:8080""#,
            kind: Counter(|d, h| requests(d, h) * 0.93),
        },
        Synthetic {
            name: "http_request_duration_seconds_bucket",
            labels: r#"le="1",code="200",job="api",instance="app:8080""#,
            kind: Counter(|d, h| requests(d, h) * 0.995),
        },
        Synthetic {
            name: "http_request_duration_seconds_bucket",
            labels: r#"le="+Inf",code="200",job="api",instance="app:8080""#,
            kind: Counter(requests),
        },
        Synthetic {
            name: "http_request_duration_seconds_count",
            labels: r#"code="200",job="api",instance="app:8080""#,
            kind: Counter(requests),
        },
        Synthetic {
            name: "http_request_duration_seconds_count",
            labels: r#"code="503",job="api",instance="app:8080""#,
            kind: Counter(|d, h| requests(d, h) * 0.002),
        },
        Synthetic {
            name: "redis_keyspace_hits_total",
            labels: r#"job="redis",instance="cache:9121""#,
            kind: Counter(|d, h| 900.0 * load(d, h)),
        },
        Synthetic {
            name: "redis_keyspace_misses_total",
            labels: r#"job="redis",instance="cache:9121""#,
            kind: Counter(|d, h| 100.0 * load(d, h) * (1.0 + d / 200.0)),
        },
        Synthetic {
            name: "redis_memory_used_bytes",
            labels: r#"job="redis",instance="cache:9121""#,
            kind: Gauge(|d, _| 2.0e9 * 1.03_f64.powf(d / MONTH_DAYS)),
        },
        Synthetic {
            name: "redis_memory_max_bytes",
            labels: r#"job="redis",instance="cache:9121""#,
            kind: Gauge(|_, _| 8.0e9),
        },
        Synthetic {
            name: "pg_replication_lag",
            labels: r#"job="postgres",instance="db:9187""#,
            kind: Gauge(|d, h| 0.04 * load(d, h)),
        },
        Synthetic {
            name: "pg_stat_activity_count",
            labels: r#"datname="app",state="active",job="postgres",instance="db:9187""#,
            kind: Gauge(|d, h| 30.0 * load(d, h)),
        },
        Synthetic {
            name: "pg_settings_max_connections",
            labels: r#"job="postgres",instance="db:9187""#,
            kind: Gauge(|_, _| 400.0),
        },
        database_tuples("pg_stat_database_tup_fetched", 9000.0),
        database_tuples("pg_stat_database_tup_inserted", 400.0),
        database_tuples("pg_stat_database_tup_updated", 300.0),
        database_tuples("pg_stat_database_tup_deleted", 50.0),
        Synthetic {
            name: "kafka_consumergroup_lag",
            labels: r#"consumergroup="billing",topic="orders",partition="0",job="kafka",instance="kafka:9308""#,
            kind: Gauge(|d, h| 800.0 * load(d, h)),
        },
        Synthetic {
            name: "node_filesystem_avail_bytes",
            labels: r#"fstype="ext4",mountpoint="/data",job="node-db",instance="db:9100""#,
            kind: Gauge(|d, _| 1.0e12 - 4.0e11 * 1.04_f64.powf(d / MONTH_DAYS)),
        },
        Synthetic {
            name: "node_filesystem_size_bytes",
            labels: r#"fstype="ext4",mountpoint="/data",job="node-db",instance="db:9100""#,
            kind: Gauge(|_, _| 1.0e12),
        },
    ]
}

/// One of PostgreSQL's tuple counters of the `app` database, `per_second` at a load of 1.
fn database_tuples(name: &'static str, per_second: f64) -> Synthetic {
    Synthetic {
        name,
        labels: r#"datname="app",job="postgres",instance="db:9187""#,
        kind: Kind::LoadCounter(per_second),
    }
}

/// Writes the OpenMetrics history: each family once, each series in time order. Returns the
/// number of samples.
fn write_history(path: &Path, start: f64, end: f64, scrape: f64) -> anyhow::Result<usize> {
    let mut out = BufWriter::new(std::fs::File::create(path)?);
    let series = system();
    let mut samples = 0;
    let mut families: Vec<&str> = series.iter().map(|s| s.name).collect();
    families.dedup();
    for family in families {
        writeln!(out, "# TYPE {family} unknown")?;
        for s in series.iter().filter(|s| s.name == family) {
            let mut counter = 0.0;
            let mut t = start;
            while t <= end {
                let days = (t - start) / DAY;
                let hour = (t.rem_euclid(DAY)) / 3600.0;
                let value = match s.kind {
                    Kind::Gauge(f) => f(days, hour),
                    Kind::Counter(rate) => {
                        counter += rate(days, hour) * scrape;
                        counter
                    }
                    Kind::LoadCounter(per_second) => {
                        counter += per_second * load(days, hour) * scrape;
                        counter
                    }
                };
                writeln!(out, "{family}{{{}}} {value} {t}", s.labels)?;
                samples += 1;
                t += scrape;
            }
        }
    }
    writeln!(out, "# EOF")?;
    out.flush()?;
    Ok(samples)
}

fn free_port() -> anyhow::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// `GET path` with HTTP/1.0 on `127.0.0.1:port`: the status and body.
fn get(port: u16, path: &str) -> anyhow::Result<(u16, Vec<u8>)> {
    let mut stream = TcpStream::connect(("127.0.0.1", port))?;
    stream.set_read_timeout(Some(Duration::from_secs(120)))?;
    write!(stream, "GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")?;
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer)?;
    let split = answer
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .context("no HTTP header")?;
    let status = std::str::from_utf8(&answer[9..12])?.parse()?;
    Ok((status, answer[split + 4..].to_vec()))
}

struct Scratch(PathBuf, bool);

impl Drop for Scratch {
    fn drop(&mut self) {
        if !self.1 {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

struct Stop(std::process::Child);

impl Drop for Stop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn kib(bytes: usize) -> String {
    if bytes >= 1024 * 1024 {
        format!("{:.2} MiB", bytes as f64 / 1024.0 / 1024.0)
    } else {
        format!("{:.1} KiB", bytes as f64 / 1024.0)
    }
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let scratch = Scratch(
        std::env::temp_dir().join(format!(
            "scale-advisor-observe-bench-{}",
            std::process::id()
        )),
        args.keep,
    );
    std::fs::create_dir_all(scratch.0.join("data"))?;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_secs_f64();
    let scrape = f64::from(args.scrape);
    let end = (now / scrape).floor() * scrape;
    let start = end - f64::from(args.days + 1) * DAY;

    let began = Instant::now();
    let history = scratch.0.join("history.om");
    let samples = write_history(&history, start, end, scrape)?;
    let written = began.elapsed();
    let began = Instant::now();
    let status = Command::new("promtool")
        .args([
            "tsdb",
            "create-blocks-from",
            "openmetrics",
            "--max-block-duration=2400h",
            "-q",
        ])
        .arg(&history)
        .arg(scratch.0.join("data"))
        .stdout(Stdio::null())
        .status()
        .context("promtool (Debian's prometheus package) is needed")?;
    if !status.success() {
        bail!("promtool refused the history");
    }
    let backfilled = began.elapsed();
    std::fs::remove_file(&history)?;

    let config = scratch.0.join("prometheus.yml");
    std::fs::write(&config, "global:\n  scrape_interval: 1m\n")?;
    let port = free_port()?;
    let _prometheus = Stop(
        Command::new("prometheus")
            .arg(format!("--config.file={}", config.display()))
            .arg(format!(
                "--storage.tsdb.path={}",
                scratch.0.join("data").display()
            ))
            .arg("--storage.tsdb.retention.time=3650d")
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .context("prometheus (Debian's package) is needed")?,
    );
    let ready_by = Instant::now() + Duration::from_secs(60);
    while !matches!(get(port, "/-/ready"), Ok((200, _))) {
        if Instant::now() > ready_by {
            bail!("Prometheus did not become ready");
        }
        std::thread::sleep(Duration::from_millis(100));
    }

    let knowledge = Knowledge::embedded().map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut queries = PrometheusQueries::load(&knowledge).map_err(|e| anyhow::anyhow!("{e}"))?;
    if let Some(resolution) = args.peak_resolution_s {
        queries.peak_resolution_s = resolution;
    }
    let trends = TrendRules::load(&knowledge).map_err(|e| anyhow::anyhow!("{e}"))?;
    let source = PrometheusConfig {
        url: SourceUrl::parse(
            "--prometheus",
            &format!("http://127.0.0.1:{port}"),
            &["http"],
            "http://p:9090",
        )?,
        auth: None,
    };
    let request = ObserveRequest {
        selector: Default::default(),
        window_days: args.days,
    };
    let limits = Limits {
        total_timeout: Duration::from_secs(60),
        ..Limits::default()
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let mut times = Vec::new();
    let mut report = None;
    for _ in 0..=args.repeat {
        let began = Instant::now();
        let read = runtime.block_on(read_at(&source, &queries, &request, limits, end));
        times.push(began.elapsed());
        report = Some(read);
    }
    let report = report.context("no reading")?;
    let began = Instant::now();
    let fitted: Vec<_> = report
        .histories
        .iter()
        .filter_map(|h| {
            let points: Vec<(f64, f64)> = h.daily_peaks.iter().map(|p| (p.day, p.value)).collect();
            trends.fit(&points).map(|fit| (h.name.clone(), fit))
        })
        .collect();
    let fit_time = began.elapsed();

    // What the advisor passes on: the shape of observe_system's result (contract §8), without
    // the histories.
    let passed_on = json!({
        "connections": [report.connection],
        "metrics": report.readings,
        "trends": fitted.iter().map(|(name, fit)| json!({
            "name": name,
            "monthly_growth_pct": fit.monthly_growth_pct,
            "ci95_pct": fit.ci95_pct,
            "r_squared": fit.r_squared,
            "points": fit.points,
            "window_days": args.days,
            "significant": fit.significant,
        })).collect::<Vec<_>>(),
    });
    let passed_on_bytes = serde_json::to_vec(&passed_on)?.len();
    let mut without_queries = passed_on.clone();
    if let Some(metrics) = without_queries["metrics"].as_array_mut() {
        for metric in metrics {
            metric.as_object_mut().map(|m| m.remove("query"));
        }
    }
    let without_queries_bytes = serde_json::to_vec(&without_queries)?.len();
    let histories_bytes = serde_json::to_vec(&report.histories)?.len();

    // What a Prometheus MCP server hands the model for the same question: each row's PromQL as
    // a range query over the window. Prometheus refuses more than 11,000 points per series, so
    // the finest step for the window is the window over 11,000, rounded up to a minute.
    let window = f64::from(args.days) * DAY;
    let finest = ((window / 11_000.0) / 60.0).ceil() * 60.0;
    let mut raw = Vec::new();
    for step in [finest, 3600.0] {
        let mut bytes = 0;
        let mut points = 0;
        for row in &queries.queries {
            let promql = row.with_selector("");
            let query: String = url::form_urlencoded::Serializer::new(String::new())
                .append_pair("query", &promql)
                .append_pair("start", &format!("{}", end - window))
                .append_pair("end", &format!("{end}"))
                .append_pair("step", &format!("{step}"))
                .finish();
            let (status, body) = get(port, &format!("/api/v1/query_range?{query}"))?;
            if status != 200 {
                bail!(
                    "{}: Prometheus answered {status}: {}",
                    row.metric,
                    String::from_utf8_lossy(&body)
                );
            }
            let answer: serde_json::Value = serde_json::from_slice(&body)?;
            points += answer["data"]["result"].as_array().map_or(0, |series| {
                series
                    .iter()
                    .map(|s| s["values"].as_array().map_or(0, Vec::len))
                    .sum::<usize>()
            });
            bytes += body.len();
        }
        raw.push((step, bytes, points));
    }

    let mut sorted = times.clone();
    sorted[1..].sort();
    let warm = if sorted.len() > 1 {
        sorted[1 + (sorted.len() - 1) / 2]
    } else {
        sorted[0]
    };
    println!(
        "## observe over {} days of {} metrics (`observe-bench`)\n",
        args.days,
        queries.queries.len()
    );
    println!("| measure | value |\n|---|---|");
    println!(
        "| history written | {samples} samples ({} series, one every {} s), {:.1} s; backfilled by promtool in {:.1} s |",
        system().len(),
        args.scrape,
        written.as_secs_f64(),
        backfilled.as_secs_f64()
    );
    println!(
        "| figures read (today's peak) | {} of {} ({}) |",
        report.readings.len(),
        queries.queries.len(),
        report.connection.detail
    );
    println!(
        "| histories read | {} × up to {} daily peaks |",
        report.histories.len(),
        args.days
    );
    println!("| peak resolution | {} s |", queries.peak_resolution_s);
    println!(
        "| first reading (every row's daily peaks, one query each, at once) | {:.0} ms |",
        times[0].as_secs_f64() * 1000.0
    );
    println!(
        "| warm reading, median of {} | {:.0} ms |",
        args.repeat,
        warm.as_secs_f64() * 1000.0
    );
    println!(
        "| fitting {} trends | {:.2} ms |",
        fitted.len(),
        fit_time.as_secs_f64() * 1000.0
    );
    println!(
        "| passed on: figures + fitted trends (JSON) | {} ({passed_on_bytes} B) |",
        kib(passed_on_bytes)
    );
    println!(
        "| the same without each figure's PromQL | {} ({without_queries_bytes} B) |",
        kib(without_queries_bytes)
    );
    println!(
        "| the daily peaks behind the fits (JSON, not passed on) | {} ({histories_bytes} B) |",
        kib(histories_bytes)
    );
    for (step, bytes, points) in &raw {
        println!(
            "| raw range queries of the same PromQL, step {} s ({} points) | {} ({bytes} B), {:.0}× the figures and trends |",
            step,
            points,
            kib(*bytes),
            *bytes as f64 / passed_on_bytes as f64
        );
    }
    println!();
    for (name, fit) in &fitted {
        println!(
            "- {name}: {:.2}% a month (95% CI {:.2} to {:.2}), R² {:.3}, {} points, significant {}",
            fit.monthly_growth_pct,
            fit.ci95_pct[0],
            fit.ci95_pct[1],
            fit.r_squared,
            fit.points,
            fit.significant
        );
    }
    Ok(())
}

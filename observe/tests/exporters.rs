//! The query rows of `observation#prometheus-queries` against the exporters Debian ships,
//! scraping a real PostgreSQL 15 and Redis 7 into a real Prometheus: today's figures agree with
//! what the servers report about themselves. Everything starts on free loopback ports and stops
//! by its pid when the test ends (also when it fails).

mod support;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use knowledge::Knowledge;
use observe::prometheus::read_at;
use observe::{Limits, ObserveRequest, PrometheusConfig, PrometheusQueries, SourceUrl, Status};
use support::{Child, Prometheus, Scratch, free_port, http_body, http_status, wait_until};

const PG_BIN: &str = "/usr/lib/postgresql/15/bin";
const MAX_CONNECTIONS: f64 = 50.0;
const REDIS_MAXMEMORY: f64 = 64.0 * 1024.0 * 1024.0;

fn running_as_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

/// PostgreSQL refuses to run as root: as root, its commands run as the `postgres` user that
/// Debian's package creates. `setpriv` execs the program in its own process (unlike `runuser`,
/// which forks), so the pid the guard stops is the server's own.
fn as_postgres(program: &str) -> Command {
    if running_as_root() {
        let mut command = Command::new("setpriv");
        command.args([
            "--reuid=postgres",
            "--regid=postgres",
            "--init-groups",
            "--",
            program,
        ]);
        command
    } else {
        Command::new(program)
    }
}

fn chown_postgres(path: &Path) {
    if running_as_root() {
        let status = Command::new("chown")
            .args(["-R", "postgres:postgres"])
            .arg(path)
            .status()
            .unwrap();
        assert!(status.success());
    }
}

fn psql(port: u16, sql: &str) -> String {
    let output = Command::new("psql")
        .args([
            "-h",
            "127.0.0.1",
            "-p",
            &port.to_string(),
            "-U",
            "postgres",
            "-d",
            "postgres",
        ])
        .args(["-At", "-c", sql])
        .output()
        .expect("psql (Debian's postgresql-client-15) is needed");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).trim().to_string()
}

fn redis_cli(port: u16, args: &[&str]) -> String {
    let output = Command::new("redis-cli")
        .args(["-h", "127.0.0.1", "-p", &port.to_string()])
        .args(args)
        .output()
        .expect("redis-cli (Debian's redis-tools) is needed");
    String::from_utf8_lossy(&output.stdout).trim().to_string()
}

fn redis_info(port: u16, field: &str) -> f64 {
    redis_cli(port, &["INFO"])
        .lines()
        .find_map(|l| l.strip_prefix(&format!("{field}:")))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("INFO has no {field}"))
}

/// The value of an instant query on the test's Prometheus, once it has one.
fn prometheus_value(port: u16, promql: &str) -> Option<f64> {
    let query: String = url::form_urlencoded::byte_serialize(promql.as_bytes()).collect();
    let body = http_body(port, &format!("/api/v1/query?query={query}"));
    let answer: serde_json::Value = serde_json::from_str(&body).ok()?;
    answer["data"]["result"][0]["value"][1]
        .as_str()?
        .parse()
        .ok()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn todays_figures_agree_with_what_the_servers_report() {
    let scratch = Scratch::new("exporters");
    chown_postgres(&scratch.dir);

    // PostgreSQL 15, throwaway: no fsync, trust on loopback.
    let data = scratch.path("pgdata");
    let status = as_postgres(&format!("{PG_BIN}/initdb"))
        .args([
            "-D",
            data.to_str().unwrap(),
            "-U",
            "postgres",
            "--auth=trust",
            "--no-sync",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("initdb (Debian's postgresql-15) is needed");
    assert!(status.success(), "initdb failed");
    let pg_port = free_port();
    let _postgres = Child::spawn(
        "postgres",
        as_postgres(&format!("{PG_BIN}/postgres")).args([
            "-D",
            data.to_str().unwrap(),
            "-p",
            &pg_port.to_string(),
            "-k",
            scratch.dir.to_str().unwrap(),
            "-c",
            "listen_addresses=127.0.0.1",
            "-c",
            &format!("max_connections={MAX_CONNECTIONS}"),
            "-c",
            "fsync=off",
        ]),
    )
    .graceful();
    assert!(
        wait_until(Duration::from_secs(30), || Command::new(format!(
            "{PG_BIN}/pg_isready"
        ))
        .args(["-h", "127.0.0.1", "-p", &pg_port.to_string()])
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())),
        "PostgreSQL did not start"
    );

    // Redis 7 with a memory limit, so that its memory is a share of something.
    let redis_port = free_port();
    let _redis = Child::spawn(
        "redis-server",
        Command::new("redis-server").args([
            "--port",
            &redis_port.to_string(),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--maxmemory",
            &format!("{}", REDIS_MAXMEMORY as u64),
        ]),
    );
    assert!(wait_until(Duration::from_secs(10), || redis_cli(
        redis_port,
        &["PING"]
    ) == "PONG"));

    // The three exporters, as Debian ships them.
    let (pg_exporter, redis_exporter, node_exporter) = (free_port(), free_port(), free_port());
    let _pg_exporter = Child::spawn(
        "prometheus-postgres-exporter",
        Command::new("prometheus-postgres-exporter")
            .env(
                "DATA_SOURCE_NAME",
                format!("postgresql://postgres@127.0.0.1:{pg_port}/postgres?sslmode=disable"),
            )
            .arg(format!("--web.listen-address=127.0.0.1:{pg_exporter}"))
            .arg("--extend.query-path=/usr/share/doc/prometheus-postgres-exporter/examples/queries.yaml"),
    );
    let _redis_exporter = Child::spawn(
        "prometheus-redis-exporter",
        Command::new("prometheus-redis-exporter").args([
            "-redis.addr",
            &format!("redis://127.0.0.1:{redis_port}"),
            "-web.listen-address",
            &format!("127.0.0.1:{redis_exporter}"),
        ]),
    );
    let _node_exporter = Child::spawn(
        "prometheus-node-exporter",
        Command::new("prometheus-node-exporter")
            .arg(format!("--web.listen-address=127.0.0.1:{node_exporter}")),
    );
    for port in [pg_exporter, redis_exporter, node_exporter] {
        assert!(
            wait_until(Duration::from_secs(15), || http_status(port, "/metrics")
                == Some(200)),
            "an exporter did not start on {port}"
        );
    }
    let prometheus = Prometheus::start(
        None,
        &[
            ("postgres", format!("127.0.0.1:{pg_exporter}")),
            ("redis", format!("127.0.0.1:{redis_exporter}")),
            ("node-db", format!("127.0.0.1:{node_exporter}")),
        ],
    );
    assert!(
        wait_until(Duration::from_secs(30), || {
            prometheus_value(prometheus.port, "count(up == 1)") == Some(3.0)
                && prometheus_value(prometheus.port, "redis_keyspace_hits_total").is_some()
        }),
        "Prometheus did not scrape the three exporters"
    );

    // The load the figures should show: four sessions busy on PostgreSQL, 30 cache hits and
    // 10 misses and a 2 MB value in Redis.
    let mut sessions: Vec<Child> = (0..4)
        .map(|_| {
            Child::spawn(
                "psql",
                Command::new("psql")
                    .args([
                        "-h",
                        "127.0.0.1",
                        "-p",
                        &pg_port.to_string(),
                        "-U",
                        "postgres",
                    ])
                    .args(["-c", "select pg_sleep(120)"]),
            )
        })
        .collect();
    let big = "x".repeat(2 * 1024 * 1024);
    let mut commands = format!("SET big {big}\nSET key value\n");
    commands.push_str(&"GET key\n".repeat(30));
    commands.push_str(&"GET missing\n".repeat(10));
    let mut cli = Command::new("redis-cli")
        .args(["-h", "127.0.0.1", "-p", &redis_port.to_string()])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    std::io::Write::write_all(cli.stdin.as_mut().unwrap(), commands.as_bytes()).unwrap();
    drop(cli.stdin.take());
    assert!(cli.wait().unwrap().success());
    assert!(
        wait_until(Duration::from_secs(30), || {
            prometheus_value(prometheus.port, "sum(redis_keyspace_misses_total)") == Some(10.0)
                && prometheus_value(
                    prometheus.port,
                    "sum(pg_stat_activity_count{state=\"active\"})",
                )
                .is_some_and(|n| n >= 4.0)
        }),
        "Prometheus did not see the load"
    );
    // One more scrape, so that the rates have two samples after the load.
    std::thread::sleep(Duration::from_millis(2500));

    let queries = PrometheusQueries::load(&Knowledge::embedded().unwrap()).unwrap();
    let config = PrometheusConfig {
        url: SourceUrl::parse(
            "--prometheus",
            &prometheus.url(),
            &["http"],
            "http://p:9090",
        )
        .unwrap(),
        auth: None,
    };
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();
    let request = ObserveRequest {
        selector: Default::default(),
        window_days: 7,
    };
    let report = read_at(&config, &queries, &request, Limits::default(), now).await;
    let figure = |name: &str| {
        report
            .readings
            .iter()
            .find(|r| r.name == name)
            .map(|r| r.value)
            .unwrap_or_else(|| panic!("no {name}: {:?}", report.connection))
    };

    // What the servers say about themselves, now.
    let own_connections: f64 = psql(
        pg_port,
        "select count(*) from pg_stat_activity where datname is not null and state is not null",
    )
    .parse()
    .unwrap();
    let own_hits = redis_info(redis_port, "keyspace_hits");
    let own_misses = redis_info(redis_port, "keyspace_misses");
    let own_memory_pct = 100.0 * redis_info(redis_port, "used_memory") / REDIS_MAXMEMORY;
    let in_recovery = psql(pg_port, "select pg_is_in_recovery()");
    for session in &mut sessions {
        session.stop();
    }

    assert!(
        matches!(report.connection.status, Status::Ok),
        "{:?}",
        report.connection
    );
    // Connections: the exporter counts the sessions by database and state as PostgreSQL does;
    // the two may differ by the observers' own sessions (the exporter's and this psql).
    let connections_pct = figure("connections_pct");
    let own_pct = 100.0 * own_connections / MAX_CONNECTIONS;
    assert!(
        (connections_pct - own_pct).abs() <= 100.0 * 2.0 / MAX_CONNECTIONS,
        "connections_pct {connections_pct} vs PostgreSQL's own {own_pct}"
    );
    assert!(connections_pct >= 100.0 * 4.0 / MAX_CONNECTIONS);
    // The cache hit rate is Redis's own, 30 hits of 40 lookups.
    assert_eq!((own_hits, own_misses), (30.0, 10.0));
    let hit_rate = figure("cache_hit_rate_pct");
    assert!(
        (hit_rate - 75.0).abs() < 0.01,
        "cache_hit_rate_pct {hit_rate}"
    );
    // Memory: the peak of the day is at least what Redis uses now, and close to it.
    let memory_pct = figure("cache_memory_pct");
    assert!(
        (memory_pct - own_memory_pct).abs() < 0.5,
        "cache_memory_pct {memory_pct} vs Redis's own {own_memory_pct}"
    );
    assert!(memory_pct > 100.0 * 2.0 * 1024.0 * 1024.0 / REDIS_MAXMEMORY);
    // A primary has no replication lag.
    assert_eq!(in_recovery, "f");
    assert_eq!(figure("replication_lag_ms"), 0.0);
    // The database host's CPU, from node_exporter on the job `node-db`: a share.
    let cpu = figure("db_cpu_pct");
    assert!((0.0..=100.0).contains(&cpu), "db_cpu_pct {cpu}");
    // Nothing here serves HTTP requests or Kafka: those rows have no data, and say so.
    for absent in ["p95_latency_ms", "load", "queue_depth", "app_cpu_pct"] {
        assert!(
            report.readings.iter().all(|r| r.name != absent),
            "{absent} read from nothing"
        );
        assert!(
            report.connection.detail.contains(absent),
            "{}",
            report.connection.detail
        );
    }
}

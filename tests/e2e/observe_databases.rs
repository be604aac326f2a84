//! PostgreSQL 15 and Redis 7 through the binary (contract §7–§9, issue 25): a real server of
//! each, started on free loopback ports by the readers' own helpers (`observe/tests/services/`),
//! read by `scale-advisor serve --postgres URL --redis URL` as a `pg_monitor` role and an ACL
//! user allowed `INFO` only (its user and password from the environment). The figures agree
//! with what the servers report themselves, each lands on the argument it means and on no
//! other, what neither source can give is listed with where to get it, a password appears in
//! no result, error, log line or `tools/list`, and a wrong password is `refused` while Redis
//! is still read and the other tools still answer.

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::harness::{BINARY, Server};
use crate::services::{Postgres, Process, Redis, Scratch};

const PG_PASSWORD: &str = "pg-advisor-secret-93b";
const WRONG_PG_PASSWORD: &str = "pg-wrong-secret-0d7";
const REDIS_PASSWORD: &str = "redis-acl-secret-5c1";

/// `psql` as the superuser; the answer unaligned, without headers.
fn psql(server: &Postgres, sql: &str) -> String {
    let output = Command::new("psql")
        .args(["-h", "127.0.0.1", "-U", "postgres", "-d", "postgres"])
        .args(["-At", "-v", "ON_ERROR_STOP=1", "-p"])
        .arg(server.port.to_string())
        .args(["-c", sql])
        .env("PGPASSWORD", Postgres::SUPERUSER_PASSWORD)
        .output()
        .expect("psql runs (Debian package postgresql-client)");
    assert!(
        output.status.success(),
        "psql {sql}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).trim().to_string()
}

/// A session that holds one client connection open (a `pg_sleep`), killed by pid when dropped.
fn idle_session(server: &Postgres) -> Process {
    Process(
        Command::new("psql")
            .args(["-h", "127.0.0.1", "-U", "postgres", "-d", "postgres", "-p"])
            .arg(server.port.to_string())
            .args(["-c", "SELECT pg_sleep(120)"])
            .env("PGPASSWORD", Postgres::SUPERUSER_PASSWORD)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("psql starts"),
    )
}

/// The client connections the server itself counts, the asking one left out.
fn clients(server: &Postgres) -> f64 {
    psql(
        server,
        "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend' \
         AND pid <> pg_backend_pid()",
    )
    .parse()
    .expect("a count")
}

/// `serve` reading both databases, with credentials from the environment (`env`), its
/// stderr in a file (read for secrets afterwards).
fn serve(postgres_url: &str, redis: &Redis, env: &[(&str, &str)], log: &PathBuf) -> Server {
    let mut command = Command::new(BINARY);
    command
        .arg("serve")
        .arg(format!("--postgres={postgres_url}"))
        .arg(format!("--redis={}", redis.url()))
        .arg("--source-timeout-ms=3000")
        .arg("--log-level=debug")
        .envs(env.iter().copied())
        .stderr(std::fs::File::create(log).expect("a log file"));
    Server::start_command(command)
}

/// The Redis ACL user and its password, from the environment.
const REDIS_ENV: [(&str, &str); 2] = [
    ("SCALE_ADVISOR_REDIS_USER", "advisor"),
    ("SCALE_ADVISOR_REDIS_PASSWORD", REDIS_PASSWORD),
];

fn metric<'a>(observed: &'a Value, name: &str) -> &'a Value {
    observed["metrics"]
        .as_array()
        .and_then(|m| m.iter().find(|m| m["name"] == name))
        .unwrap_or_else(|| panic!("no metric {name}: {observed}"))
}

fn info_number(info: &str, field: &str) -> f64 {
    info.lines()
        .find_map(|l| l.strip_prefix(&format!("{field}:")))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("INFO has no number {field}"))
}

/// Each `missing_inputs` field of `observe_system` is `tool.argument` of an argument object it
/// prepares: the tool is a key of `arguments`, the argument one of that tool's own (or a
/// forecast resource), and no source gave it.
fn assert_missing_names_arguments(system: &Value, tools: &[Value]) {
    let missing = system["missing_inputs"].as_array().expect("missing_inputs");
    assert!(!missing.is_empty(), "nothing listed: {system}");
    for entry in missing {
        let field = entry["field"].as_str().expect("a field");
        let (tool, argument) = field.split_once('.').expect("tool.argument");
        assert!(
            system["arguments"].get(tool).is_some(),
            "{field}: `{tool}` is not prepared"
        );
        let inputs = tools
            .iter()
            .find(|t| t["name"] == tool)
            .map(|t| &t["inputSchema"]["properties"])
            .unwrap_or_else(|| panic!("{tool} is not listed"));
        let top = argument.split('.').next().unwrap_or(argument);
        assert!(
            inputs.get(top).is_some(),
            "{field}: not an argument of {tool}"
        );
        let name = argument.rsplit('.').next().unwrap_or(argument);
        assert!(
            !system["metrics"]
                .as_array()
                .unwrap()
                .iter()
                .any(|m| m["name"] == name),
            "{field} was read, yet listed as missing"
        );
        assert!(
            !entry["where_to_get_it"].as_str().unwrap_or("").is_empty()
                && !entry["enables"].as_str().unwrap_or("").is_empty(),
            "{entry}"
        );
    }
}

#[test]
fn postgres_and_redis_are_read_through_the_binary_and_land_on_the_arguments_they_mean() {
    let started = Instant::now();
    let postgres = Postgres::start();
    psql(
        &postgres,
        &format!(
            "CREATE EXTENSION pg_stat_statements; \
             CREATE ROLE advisor LOGIN PASSWORD '{PG_PASSWORD}'; GRANT pg_monitor TO advisor"
        ),
    );
    // pgbench load, so that pg_stat_statements holds the statements of a workload.
    for args in [&["-i", "-s", "1", "-q"][..], &["-c", "2", "-T", "2"][..]] {
        let out = postgres.pgbench(args).output().expect("pgbench runs");
        assert!(
            out.status.success(),
            "pgbench {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    // Three client connections held open: 3 of max_connections = 20 is 15%.
    let _sessions: Vec<Process> = (0..3).map(|_| idle_session(&postgres)).collect();
    let until = Instant::now() + Duration::from_secs(10);
    while clients(&postgres) < 3.0 {
        assert!(Instant::now() < until, "the three sessions did not connect");
        std::thread::sleep(Duration::from_millis(50));
    }
    let max_connections: f64 = psql(&postgres, "SHOW max_connections").parse().unwrap();
    let database_gb: f64 = psql(
        &postgres,
        "SELECT sum(pg_database_size(oid)) / 1073741824.0 FROM pg_database",
    )
    .parse()
    .unwrap();

    // Redis: an ACL user allowed INFO only, a memory limit, a known mix of 300 hits and 100
    // misses, then nothing while the reader samples.
    let redis = Redis::start(&["--maxmemory", "64mb"]);
    let mut admin = redis.admin().expect("an admin connection");
    admin.set_user("advisor", REDIS_PASSWORD, &["-@all", "+info"]);
    assert!(admin.call(&["SET", "known", "1"]).starts_with("+OK"));
    for _ in 0..300 {
        admin.call(&["GET", "known"]);
    }
    for n in 0..100 {
        admin.call(&["GET", &format!("absent-{n}")]);
    }
    let setup = started.elapsed();

    let scratch = Scratch::new("e2e-databases");
    let log = scratch.0.join("stderr.log");
    let url = format!(
        "postgres://advisor:{PG_PASSWORD}@127.0.0.1:{}/postgres?sslmode=disable",
        postgres.port
    );
    let mut server = serve(&url, &redis, &REDIS_ENV, &log);
    let read_at = Instant::now();
    let answer = server.call_tool("observe_system", json!({}));
    let took = read_at.elapsed();
    let system = answer["structuredContent"].clone();
    let statuses: Vec<&str> = system["connections"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["not_configured", "ok", "ok"], "{system}");
    assert_eq!(
        system["connections"][1]["url"],
        format!(
            "postgres://advisor:***@127.0.0.1:{}/postgres?sslmode=disable",
            postgres.port
        )
    );
    assert_eq!(
        system["connections"][2]["url"],
        format!("redis://advisor:***@127.0.0.1:{}", redis.port)
    );

    // PostgreSQL's figures, against what the server reports itself.
    let connections = metric(&system, "connections_pct");
    assert_eq!(connections["value"], json!(100.0 * 3.0 / max_connections));
    assert_eq!(connections["source"], "postgres");
    let size = metric(&system, "db_size_gb")["value"].as_f64().unwrap();
    assert!(
        (size - database_gb).abs() < 0.001,
        "{size} GB read, {database_gb} GB reported"
    );
    let buffer_hit = metric(&system, "db_buffer_hit_pct")["value"]
        .as_f64()
        .unwrap();
    assert!((0.0..=100.0).contains(&buffer_hit), "{buffer_hit}");
    assert_eq!(metric(&system, "slowest_query_ms")["source"], "postgres");
    eprintln!(
        "postgres after pgbench: db_rows_read_pct {}, db_buffer_hit_pct {buffer_hit}, \
         slowest_query_ms {}",
        metric(&system, "db_rows_read_pct")["value"],
        metric(&system, "slowest_query_ms")["value"]
    );

    // Redis's figures, against its own INFO.
    let info = admin.call(&["INFO"]);
    let (hits, misses) = (
        info_number(&info, "keyspace_hits"),
        info_number(&info, "keyspace_misses"),
    );
    assert_eq!((hits, misses), (300.0, 100.0));
    let hit_rate = metric(&system, "cache_hit_rate_pct");
    assert_eq!(hit_rate["value"], json!(100.0 * hits / (hits + misses)));
    assert_eq!(hit_rate["source"], "redis");
    let memory = metric(&system, "cache_memory_pct")["value"]
        .as_f64()
        .unwrap();
    let reported = 100.0 * info_number(&info, "used_memory") / info_number(&info, "maxmemory");
    assert!(
        (memory - reported).abs() < 0.5,
        "{memory}% read, {reported}% reported"
    );

    // Each figure on the argument it means: the server's slots are not the application's
    // pool, PostgreSQL's buffer cache is not the application cache.
    let diagnose = &system["arguments"]["diagnose_bottleneck"];
    assert_eq!(diagnose["cache_hit_rate_pct"], json!(75.0));
    assert!(diagnose["slowest_query_ms"].is_number(), "{diagnose}");
    // Nor is a share of rows the share of operations that read.
    for never in [
        "pool_utilization_pct",
        "connections_pct",
        "db_buffer_hit_pct",
        "read_pct",
        "db_rows_read_pct",
    ] {
        assert!(diagnose.get(never).is_none(), "{never} in {diagnose}");
    }
    let resources = system["arguments"]["forecast_growth"]["resources"]
        .as_array()
        .expect("resources for the forecast");
    let slots = resources
        .iter()
        .find(|r| r["name"] == "connections_pct")
        .expect("connections_pct is a forecast resource");
    assert_eq!(slots["current"], connections["value"]);
    assert!(resources.iter().any(|r| r["name"] == "cache_memory_pct"));

    // What neither source can give: listed with where to get it, never estimated.
    let tools = server.request("tools/list", json!({}))["result"]["tools"]
        .as_array()
        .expect("tools/list")
        .clone();
    assert_missing_names_arguments(&system, &tools);
    let missing: Vec<&str> = system["missing_inputs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["field"].as_str().unwrap())
        .collect();
    for field in [
        "diagnose_bottleneck.db_cpu_pct",
        "diagnose_bottleneck.p95_latency_ms",
        "diagnose_bottleneck.pool_utilization_pct",
        "diagnose_bottleneck.read_pct",
    ] {
        assert!(missing.contains(&field), "{field} not in {missing:?}");
    }
    assert!(diagnose.get("db_cpu_pct").is_none() && diagnose.get("p95_latency_ms").is_none());
    let cited = system["sources"].to_string();
    assert!(
        cited.contains("knowledge://observation#what-postgresql-cannot-give"),
        "{cited}"
    );
    assert!(
        system["summary"]
            .as_str()
            .unwrap()
            .contains("Not readable from these sources: db_cpu_pct"),
        "{}",
        system["summary"]
    );
    let text = answer["content"][0]["text"].as_str().unwrap();
    eprintln!("{text}");
    let concise_bytes = serde_json::to_string(&system).unwrap().len();
    let full = server.call_ok("observe_system", json!({"detail": "full"}));
    eprintln!(
        "observe_system structuredContent: {concise_bytes} bytes concise, {} full",
        serde_json::to_string(&full).unwrap().len()
    );
    assert_eq!(
        full["missing_inputs"].as_array().map(Vec::len),
        system["missing_inputs"].as_array().map(Vec::len)
    );
    assert!(
        text.contains("| diagnose_bottleneck.db_cpu_pct |") && text.contains("node_exporter"),
        "{text}"
    );

    // `observe` on the diagnosis: the figures read, the finding they give, what is missing.
    let diagnosis = server.call_tool(
        "diagnose_bottleneck",
        json!({"observe": true, "users": 50000}),
    );
    let d = &diagnosis["structuredContent"];
    let observed: Vec<(&str, &str)> = d["observed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| (o["field"].as_str().unwrap(), o["source"].as_str().unwrap()))
        .collect();
    assert!(
        observed.contains(&("cache_hit_rate_pct", "redis")),
        "{observed:?}"
    );
    assert!(
        observed.contains(&("slowest_query_ms", "postgres")),
        "{observed:?}"
    );
    assert!(
        d["findings"].to_string().contains("low_cache_hit_rate"),
        "{d}"
    );
    let cpu = d["missing_inputs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["field"] == "db_cpu_pct")
        .unwrap_or_else(|| panic!("db_cpu_pct is not missing: {d}"));
    assert!(
        cpu["where_to_get_it"]
            .as_str()
            .is_some_and(|w| w.contains("node_exporter")),
        "{cpu}"
    );
    let listed = server.request("tools/list", json!({}));
    let shown = format!("{answer}{diagnosis}{listed}");
    for secret in [PG_PASSWORD, REDIS_PASSWORD] {
        assert!(!shown.contains(secret), "{secret} shown");
    }
    drop(server);

    // A wrong PostgreSQL password: refused; Redis is still read and the other tools answer.
    let wrong = format!(
        "postgres://advisor:{WRONG_PG_PASSWORD}@127.0.0.1:{}/postgres?sslmode=disable",
        postgres.port
    );
    let wrong_log = scratch.0.join("stderr-wrong.log");
    let mut server = serve(&wrong, &redis, &REDIS_ENV, &wrong_log);
    let answer = server.call_tool("observe_system", json!({}));
    let system = &answer["structuredContent"];
    assert_eq!(system["connections"][1]["status"], "refused", "{system}");
    assert_eq!(system["connections"][2]["status"], "ok", "{system}");
    assert_eq!(metric(system, "cache_hit_rate_pct")["source"], "redis");
    assert!(
        system["metrics"]
            .as_array()
            .unwrap()
            .iter()
            .all(|m| m["source"] == "redis")
    );
    let diagnosis = server.call_tool("diagnose_bottleneck", json!({"observe": true}));
    let d = &diagnosis["structuredContent"];
    assert_eq!(d["connections"][1]["status"], "refused", "{d}");
    assert_eq!(d["observed"][0]["field"], "cache_hit_rate_pct", "{d}");
    server.call_ok("plan_capacity", json!({"peak_rps": 100}));
    let refused = server.call_err("observe_system", json!({"window_days": 3}));
    let listed = server.request("tools/list", json!({}));
    let shown = format!("{answer}{diagnosis}{refused}{listed}");
    for secret in [WRONG_PG_PASSWORD, REDIS_PASSWORD] {
        assert!(!shown.contains(secret), "{secret} shown");
    }
    drop(server);

    // A wrong Redis password: refused; PostgreSQL (its role and password from the
    // environment this time, the URL holding neither) is still read.
    let bare = format!(
        "postgres://127.0.0.1:{}/postgres?sslmode=disable",
        postgres.port
    );
    let wrong_redis_log = scratch.0.join("stderr-wrong-redis.log");
    let mut server = serve(
        &bare,
        &redis,
        &[
            ("SCALE_ADVISOR_POSTGRES_USER", "advisor"),
            ("SCALE_ADVISOR_POSTGRES_PASSWORD", PG_PASSWORD),
            ("SCALE_ADVISOR_REDIS_USER", "advisor"),
            ("SCALE_ADVISOR_REDIS_PASSWORD", WRONG_PG_PASSWORD),
        ],
        &wrong_redis_log,
    );
    let answer = server.call_tool("observe_system", json!({}));
    let system = &answer["structuredContent"];
    assert_eq!(system["connections"][1]["status"], "ok", "{system}");
    assert_eq!(
        system["connections"][1]["url"],
        format!(
            "postgres://advisor:***@127.0.0.1:{}/postgres?sslmode=disable",
            postgres.port
        )
    );
    assert_eq!(system["connections"][2]["status"], "refused", "{system}");
    assert_eq!(metric(system, "connections_pct")["source"], "postgres");
    let diagnosis = server.call_tool("diagnose_bottleneck", json!({"observe": true}));
    assert_eq!(
        diagnosis["structuredContent"]["connections"][1]["status"],
        "refused"
    );
    server.call_ok("choose_datastore", json!({"needs_acid": true}));
    let shown = format!("{answer}{diagnosis}");
    for secret in [PG_PASSWORD, WRONG_PG_PASSWORD] {
        assert!(!shown.contains(secret), "{secret} shown");
    }
    drop(server);

    // A role named without the password the server asks for: refused, saying what to give.
    let no_password_log = scratch.0.join("stderr-no-password.log");
    let mut server = serve(
        &bare,
        &redis,
        &[("SCALE_ADVISOR_POSTGRES_USER", "advisor")],
        &no_password_log,
    );
    let system = server.call_ok("observe_system", json!({}));
    let postgres_connection = &system["connections"][1];
    assert_eq!(postgres_connection["status"], "refused", "{system}");
    assert!(
        postgres_connection["detail"]
            .as_str()
            .unwrap()
            .contains("SCALE_ADVISOR_POSTGRES_PASSWORD"),
        "{postgres_connection}"
    );
    drop(server);

    let logged = [&log, &wrong_log, &wrong_redis_log, &no_password_log]
        .iter()
        .map(|file| std::fs::read_to_string(file).unwrap_or_default())
        .collect::<String>();
    assert!(
        logged.contains("postgres"),
        "the sources are logged: {logged}"
    );
    for secret in [PG_PASSWORD, WRONG_PG_PASSWORD, REDIS_PASSWORD] {
        assert!(!logged.contains(secret), "{secret} logged");
    }
    eprintln!(
        "databases through the binary: servers ready in {setup:?} (initdb + pg_ctl {:?}), \
         observe_system answered in {took:?}",
        postgres.started_in
    );
}

//! The PostgreSQL reader against a real PostgreSQL 15 (`initdb` + `pg_ctl` on a free loopback
//! port, `pg_stat_statements` loaded) under `pgbench` load, read as a role that holds only
//! `pg_monitor`: its figures agree with what the server reports itself, the role wrote nothing
//! and ran nothing but the reader's fixed statements (by the server's own `pg_stat_statements`),
//! a statement with a marker in a comment never appears in a result, and the faults (a wrong
//! password, a listener that never answers, nothing listening, a server that goes away
//! mid-read) are statuses while the other source is still read.

mod services;

use std::time::{Duration, Instant};

use observe::Status;
use services::{Postgres, SilentListener, by_name, free_port, limits, postgres_url, redis_url};
use tokio_postgres::{Client, NoTls};

const ADVISOR_PASSWORD: &str = "advisor-secret-7e5";
const MARKER: &str = "scale-advisor-marker-2f9c";

async fn superuser(server: &Postgres) -> Client {
    let (client, connection) = tokio_postgres::connect(&server.superuser_url(), NoTls)
        .await
        .expect("the superuser connects");
    tokio::spawn(connection);
    client
}

fn advisor_url(server: &Postgres, password: &str) -> observe::SourceUrl {
    postgres_url(&format!(
        "postgres://advisor:{password}@127.0.0.1:{}/postgres?sslmode=disable",
        server.port
    ))
}

/// The server's own counters, summed as the reader sums them, and its clock.
struct Counters {
    epoch: f64,
    blks_hit: f64,
    blks_read: f64,
    rows_read: f64,
    rows_written: f64,
    transactions: f64,
    calls: f64,
}

async fn counters(client: &Client) -> Counters {
    let row = client
        .query_one(
            "SELECT extract(epoch FROM clock_timestamp())::float8, sum(blks_hit)::float8, \
             sum(blks_read)::float8, sum(tup_returned)::float8, \
             sum(tup_inserted + tup_updated + tup_deleted)::float8, \
             sum(xact_commit + xact_rollback)::float8, \
             (SELECT sum(calls)::float8 FROM pg_stat_statements s JOIN pg_roles r ON r.oid = s.userid \
              WHERE r.rolname <> 'advisor') \
             FROM pg_stat_database",
            &[],
        )
        .await
        .expect("the server's counters");
    Counters {
        epoch: row.get(0),
        blks_hit: row.get(1),
        blks_read: row.get(2),
        rows_read: row.get(3),
        rows_written: row.get(4),
        transactions: row.get(5),
        calls: row.get(6),
    }
}

fn pct(part: f64, other: f64) -> f64 {
    100.0 * part / (part + other)
}

/// A statement's text with its whitespace collapsed.
fn squeezed(sql: &str) -> String {
    sql.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Whether `recorded`, a statement as `pg_stat_statements` keeps it (each constant replaced by
/// `$n`: a number, a quoted string, `NULL`, the field of `extract`), is `fixed` with its
/// constants replaced: each `$n` stands for one constant of `fixed`.
fn same_statement(recorded: &str, fixed: &str) -> bool {
    fn constant_char(c: u8) -> bool {
        c.is_ascii_alphanumeric() || c == b'_' || c == b'$' || c == b'.'
    }
    fn matches(r: &[u8], f: &[u8]) -> bool {
        match r.first() {
            None => f.is_empty(),
            Some(b'$') if r.get(1).is_some_and(u8::is_ascii_digit) => {
                let rest = r[1..]
                    .iter()
                    .position(|c| !c.is_ascii_digit())
                    .map_or(&r[r.len()..], |n| &r[1 + n..]);
                // One constant: a quoted string, or a run of word characters.
                if f.first() == Some(&b'\'') {
                    let end = f[1..].iter().position(|&c| c == b'\'');
                    end.is_some_and(|e| matches(rest, &f[e + 2..]))
                } else {
                    (1..=f.len())
                        .take_while(|&n| constant_char(f[n - 1]))
                        .any(|n| matches(rest, &f[n..]))
                }
            }
            Some(c) => f.first() == Some(c) && matches(&r[1..], &f[1..]),
        }
    }
    matches(squeezed(recorded).as_bytes(), squeezed(fixed).as_bytes())
}

#[test]
fn the_statement_matcher_tells_a_fixed_statement_from_another() {
    let fixed =
        "SELECT count(*) FILTER (WHERE backend_type = 'client backend') FROM x WHERE a = 10";
    assert!(same_statement(
        "SELECT count(*) FILTER (WHERE backend_type = $1) FROM x WHERE a = $2",
        fixed
    ));
    assert!(!same_statement(
        "SELECT count(*) FILTER (WHERE backend_type = $1) FROM y WHERE a = $2",
        fixed
    ));
    assert!(!same_statement("UPDATE x SET a = $1", fixed));
    assert!(same_statement("COMMIT", "COMMIT"));
    // A parameter of the reader's keeps its number; constants are numbered after it.
    assert!(same_statement(
        "SELECT set_config($2, $1, $3)",
        "SELECT set_config('statement_timeout', $1, true)"
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn figures_agree_with_what_postgres_reports_itself_and_the_role_writes_nothing() {
    let server = Postgres::start();
    eprintln!("PostgreSQL started in {:?} (pg_ctl -w)", server.started_in);
    let admin = superuser(&server).await;
    admin
        .batch_execute(&format!(
            "CREATE EXTENSION pg_stat_statements; \
             CREATE ROLE advisor LOGIN PASSWORD '{ADVISOR_PASSWORD}' IN ROLE pg_monitor;"
        ))
        .await
        .expect("the advisor role");
    let init = server
        .pgbench(&["-i", "-s", "1", "-q"])
        .output()
        .expect("pgbench -i");
    assert!(
        init.status.success(),
        "{}",
        String::from_utf8_lossy(&init.stderr)
    );

    // The application's statement with a marker: the server keeps its text...
    for _ in 0..5 {
        admin
            .simple_query(&format!(
                "SELECT /* {MARKER} */ count(*) FROM pgbench_branches"
            ))
            .await
            .expect("the marked statement");
    }
    let kept: i64 = admin
        .query_one(
            "SELECT count(*) FROM pg_stat_statements WHERE query LIKE '%' || $1 || '%'",
            &[&MARKER],
        )
        .await
        .expect("pg_stat_statements")
        .get(0);
    assert!(kept > 0, "the marker is in pg_stat_statements");

    // ...under a steady TPC-B load of four clients.
    let clients = 4;
    let load = services::Process(
        server
            .pgbench(&["-c", &clients.to_string(), "-j", "2", "-T", "8", "-n"])
            .spawn()
            .expect("pgbench"),
    );
    let until = Instant::now() + Duration::from_secs(5);
    loop {
        let connected: i64 = admin
            .query_one(
                "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'pgbench'",
                &[],
            )
            .await
            .expect("pg_stat_activity")
            .get(0);
        if connected == clients {
            break;
        }
        assert!(Instant::now() < until, "pgbench did not connect");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;

    let url = advisor_url(&server, ADVISOR_PASSWORD);
    let before = counters(&admin).await;
    let report = observe::postgres::read(&url, limits(5000)).await;
    let after = counters(&admin).await;
    let backends: i64 = admin
        .query_one(
            "SELECT count(*) FROM pg_stat_activity \
             WHERE backend_type = 'client backend' AND usename <> 'advisor'",
            &[],
        )
        .await
        .expect("pg_stat_activity")
        .get(0);
    let max_connections: f64 = admin
        .query_one("SELECT current_setting('max_connections')::float8", &[])
        .await
        .expect("max_connections")
        .get(0);
    let size: f64 = admin
        .query_one(
            "SELECT sum(pg_database_size(oid))::float8 FROM pg_database",
            &[],
        )
        .await
        .expect("database sizes")
        .get(0);
    let slowest_anywhere: f64 = admin
        .query_one(
            "SELECT max(max_exec_time) FROM pg_stat_statements s JOIN pg_roles r ON r.oid = s.userid \
             WHERE r.rolname <> 'advisor'",
            &[],
        )
        .await
        .expect("pg_stat_statements")
        .get(0);

    assert_eq!(report.connection.status, Status::Ok, "{report:?}");
    assert_eq!(
        report.connection.url,
        format!(
            "postgres://advisor:***@127.0.0.1:{}/postgres?sslmode=disable",
            server.port
        )
    );
    let json = serde_json::to_string(&report).expect("a report serialises");
    assert!(!json.contains(ADVISOR_PASSWORD), "{json}");
    assert!(
        !json.contains(MARKER),
        "a query text left the server: {json}"
    );
    assert!(!json.to_lowercase().contains("pgbench_"), "{json}");
    let got = by_name(&report);
    eprintln!(
        "{}",
        serde_json::to_string_pretty(&report.readings).unwrap_or_default()
    );

    // Connections: the four pgbench clients and the superuser's, as the server counts them
    // (the reader's own, which may still be closing, left out as the reader leaves it out).
    assert_eq!(
        got["connections_pct"].value,
        (100.0 * backends as f64 / max_connections * 100.0).round() / 100.0
    );
    // Rates between the reader's samples, against the server's own counters around the read.
    let span = after.epoch - before.epoch;
    let tps = (after.transactions - before.transactions) / span;
    let read_tps = got["db_transactions_per_sec"].value;
    eprintln!("transactions: {read_tps}/s read, {tps:.1}/s around the read");
    assert!(
        read_tps > 0.6 * tps && read_tps < 1.5 * tps,
        "{read_tps} vs {tps}"
    );
    let qps = (after.calls - before.calls) / span;
    let read_qps = got["db_queries_per_sec"].value;
    eprintln!("statements: {read_qps}/s read, {qps:.1}/s around the read");
    assert!(
        read_qps > 0.6 * qps && read_qps < 1.5 * qps,
        "{read_qps} vs {qps}"
    );
    let hit = pct(
        after.blks_hit - before.blks_hit,
        after.blks_read - before.blks_read,
    );
    assert!((got["db_buffer_hit_pct"].value - hit).abs() < 2.0, "{hit}");
    let read_share = pct(
        after.rows_read - before.rows_read,
        after.rows_written - before.rows_written,
    );
    eprintln!(
        "db_rows_read_pct {} read, {read_share:.2} around the read",
        got["db_rows_read_pct"].value
    );
    assert!(
        (got["db_rows_read_pct"].value - read_share).abs() < 10.0,
        "{read_share}"
    );
    for name in [
        "db_buffer_hit_pct",
        "db_rows_read_pct",
        "db_transactions_per_sec",
        "db_queries_per_sec",
        "slowest_query_ms",
    ] {
        assert!(
            got[name].query.contains("between two samples"),
            "{name}: {}",
            got[name].query
        );
    }
    let slowest = got["slowest_query_ms"].value;
    assert!(
        slowest > 0.0 && slowest <= slowest_anywhere + 0.001,
        "{slowest} vs {slowest_anywhere}"
    );
    let size_gb = got["db_size_gb"].value;
    let server_gb = size / 1024f64.powi(3);
    assert!(
        (size_gb - server_gb).abs() <= 0.01 * server_gb + 0.0001,
        "{size_gb} vs {server_gb}"
    );
    // No replica: no lag is invented.
    assert!(!got.contains_key("replication_lag_ms"));
    for reading in &report.readings {
        assert!(
            reading.at.ends_with('Z') && reading.at.len() == 20,
            "{reading:?}"
        );
    }

    // pg_stat_statements past the byte cap: refused row by row, and the rest still read.
    let capped = observe::Limits {
        max_bytes: 100,
        ..limits(5000)
    };
    let report = observe::postgres::read(&url, capped).await;
    assert_eq!(report.connection.status, Status::Ok, "{report:?}");
    assert!(report.connection.detail.contains("byte cap"), "{report:?}");
    let capped = by_name(&report);
    assert!(!capped.contains_key("slowest_query_ms") && capped.contains_key("connections_pct"));
    drop(load);
    let mut emitted: std::collections::BTreeSet<String> = got.keys().cloned().collect();

    // A streaming standby: the primary reports its replay lag, the standby its own.
    let standby = server.start_standby();
    let until = Instant::now() + Duration::from_secs(10);
    loop {
        let streaming: i64 = admin
            .query_one(
                "SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'",
                &[],
            )
            .await
            .expect("pg_stat_replication")
            .get(0);
        if streaming == 1 {
            break;
        }
        assert!(Instant::now() < until, "the standby did not stream");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let primary = observe::postgres::read(&url, limits(5000)).await;
    let server_lag: f64 = admin
        .query_one(
            "SELECT coalesce(max(extract(epoch FROM replay_lag)) * 1000, 0)::float8 \
             FROM pg_stat_replication",
            &[],
        )
        .await
        .expect("replay_lag")
        .get(0);
    assert_eq!(primary.connection.status, Status::Ok, "{primary:?}");
    let lag = &by_name(&primary)["replication_lag_ms"];
    eprintln!(
        "replication lag: {} ms read, {server_lag} ms by the server after",
        lag.value
    );
    assert!(
        lag.query.contains("pg_stat_replication") && lag.query.contains("1 replicas"),
        "{lag:?}"
    );
    assert!(
        lag.value >= 0.0 && (lag.value - server_lag).abs() < 1000.0,
        "{lag:?}"
    );
    let on_standby =
        observe::postgres::read(&advisor_url(&standby, ADVISOR_PASSWORD), limits(5000)).await;
    assert_eq!(on_standby.connection.status, Status::Ok, "{on_standby:?}");
    let standby_lag = &by_name(&on_standby)["replication_lag_ms"];
    assert!(
        standby_lag.query.contains("this standby"),
        "{standby_lag:?}"
    );
    assert!(
        standby_lag.value >= 0.0 && standby_lag.value < 1000.0,
        "{standby_lag:?}"
    );
    emitted.extend(primary.readings.iter().map(|r| r.name.clone()));
    emitted.extend(on_standby.readings.iter().map(|r| r.name.clone()));
    drop(standby);

    // Every figure the reader gives is a row of the mapping table, and every row was given.
    assert_eq!(emitted, services::documented("postgres-views"));

    // The role wrote nothing and ran nothing but the reader's fixed statements, by the
    // server's own record.
    let rows = admin
        .query(
            "SELECT s.query, s.wal_records, s.shared_blks_dirtied, s.shared_blks_written, \
             s.local_blks_written, s.temp_blks_written \
             FROM pg_stat_statements s JOIN pg_roles r ON r.oid = s.userid \
             WHERE r.rolname = 'advisor'",
            &[],
        )
        .await
        .expect("the advisor's statements");
    assert!(rows.len() >= 5, "the advisor's statements are recorded");
    for row in &rows {
        let query: String = row.get(0);
        let writes: [i64; 5] = [row.get(1), row.get(2), row.get(3), row.get(4), row.get(5)];
        assert_eq!(writes, [0; 5], "the advisor wrote: {query}");
        assert!(
            observe::postgres::STATEMENTS
                .iter()
                .any(|fixed| same_statement(&query, fixed)),
            "not one of the reader's statements: {query}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn faults_are_statuses_and_the_other_source_is_still_read() {
    let mut server = Postgres::start();
    let admin = superuser(&server).await;
    admin
        .batch_execute(&format!(
            "CREATE ROLE advisor LOGIN PASSWORD '{ADVISOR_PASSWORD}' IN ROLE pg_monitor;"
        ))
        .await
        .expect("the advisor role");

    // A wrong password: refused, and the password is not repeated.
    let clock = Instant::now();
    let report =
        observe::postgres::read(&advisor_url(&server, "not-the-password"), limits(5000)).await;
    assert_eq!(report.connection.status, Status::Refused, "{report:?}");
    assert!(report.connection.detail.contains("password"), "{report:?}");
    assert!(
        !serde_json::to_string(&report)
            .unwrap_or_default()
            .contains("not-the-password")
    );
    assert!(clock.elapsed() < Duration::from_secs(2));

    // Nothing listening: unreachable.
    let nobody = postgres_url(&format!(
        "postgres://advisor@127.0.0.1:{}/postgres",
        free_port()
    ));
    let report = observe::postgres::read(&nobody, limits(5000)).await;
    assert_eq!(report.connection.status, Status::Unreachable, "{report:?}");

    // TLS asked for (`sslmode=require`): the reader's connection is encrypted, as the server
    // sees it while the reader samples.
    let tls = postgres_url(&format!(
        "postgres://advisor:{ADVISOR_PASSWORD}@127.0.0.1:{}/postgres?sslmode=require",
        server.port
    ));
    let reading = tokio::spawn(async move { observe::postgres::read(&tls, limits(5000)).await });
    tokio::time::sleep(Duration::from_millis(300)).await;
    let encrypted: i64 = admin
        .query_one(
            "SELECT count(*) FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid) \
             WHERE a.usename = 'advisor' AND s.ssl",
            &[],
        )
        .await
        .expect("pg_stat_ssl")
        .get(0);
    let report = reading.await.expect("the TLS read finished");
    assert_eq!(report.connection.status, Status::Ok, "{report:?}");
    assert_eq!(encrypted, 1, "the reader's connection is encrypted");
    assert!(!report.readings.is_empty());

    // A PostgreSQL and a Redis that never answer, beside the working PostgreSQL: each within
    // its own deadline, and the working one read.
    let silent = SilentListener::new();
    let silent_pg = postgres_url(&format!(
        "postgres://advisor@127.0.0.1:{}/postgres",
        silent.port
    ));
    let silent_redis = redis_url(&format!("redis://127.0.0.1:{}", silent.port));
    let working = advisor_url(&server, ADVISOR_PASSWORD);
    let clock = Instant::now();
    let (stuck, stuck_redis, good) = tokio::join!(
        observe::postgres::read(&silent_pg, limits(1000)),
        observe::redis::read(&silent_redis, limits(1000)),
        observe::postgres::read(&working, limits(5000)),
    );
    assert_eq!(stuck.connection.status, Status::TimedOut, "{stuck:?}");
    assert_eq!(
        stuck_redis.connection.status,
        Status::TimedOut,
        "{stuck_redis:?}"
    );
    assert_eq!(good.connection.status, Status::Ok, "{good:?}");
    assert!(clock.elapsed() < Duration::from_millis(5500));
    // Without pg_stat_statements, the rest is read and the detail says what is not.
    assert!(
        good.connection
            .detail
            .contains("pg_stat_statements is not installed"),
        "{good:?}"
    );
    assert!(!by_name(&good).contains_key("slowest_query_ms"));

    // The server goes away between the two samples: an error, within the deadline.
    let clock = Instant::now();
    let reading =
        tokio::spawn(async move { observe::postgres::read(&working, limits(5000)).await });
    tokio::time::sleep(Duration::from_millis(400)).await;
    server.kill();
    let report = reading.await.expect("the read finished");
    assert!(
        matches!(
            report.connection.status,
            Status::Error | Status::Unreachable
        ),
        "{report:?}"
    );
    assert!(report.readings.is_empty());
    assert!(clock.elapsed() < Duration::from_secs(5));
    eprintln!(
        "server gone mid-read: {:?} after {:?}",
        report.connection,
        clock.elapsed()
    );
}

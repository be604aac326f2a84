//! The Redis reader against a real Redis 7 (`redis-server`, started on a free loopback port):
//! its figures agree with what the server reports itself under a known hit/miss mix, it reads
//! `rediss://` over TLS and checks the certificate unless told not to, and its faults (a
//! refused password, `INFO` denied by an ACL, an answer past the byte cap, a listener that
//! never answers, nothing listening, a server that goes away mid-read) are statuses, while the
//! other source is still read.

mod services;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use observe::{SourceReport, Status};
use services::{Redis, SilentListener, by_name, free_port, limits, postgres_url, redis_url};

const ADVISOR_PASSWORD: &str = "advisor-secret-9c2";

fn assert_no_secret(report: &SourceReport, secret: &str) {
    let json = serde_json::to_string(report).expect("a report serialises");
    assert!(!json.contains(secret), "a secret leaked: {json}");
}

/// A user that may run `INFO` (and `AUTH`) and nothing else: the role an operator gives the
/// advisor; and one whose ACL denies `INFO`.
fn create_users(redis: &Redis) {
    let mut admin = redis.admin().expect("admin connection");
    admin.set_user("advisor", ADVISOR_PASSWORD, &["-@all", "+info"]);
    admin.set_user("noinfo", "noinfo-pw", &["~*", "+@all", "-info"]);
}

fn advisor_url(redis: &Redis) -> observe::SourceUrl {
    redis_url(&format!(
        "redis://advisor:{ADVISOR_PASSWORD}@127.0.0.1:{}/0",
        redis.port
    ))
}

/// Looks keys up in a loop, three that exist for one that does not, until told to stop.
fn hit_miss_load(redis: &Redis, stop: Arc<AtomicBool>) -> std::thread::JoinHandle<u64> {
    let mut client = redis.admin().expect("load connection");
    std::thread::spawn(move || {
        let mut rounds = 0u64;
        while !stop.load(Ordering::Relaxed) {
            for key in ["k1", "k2", "k3", "absent"] {
                client.send(&["GET", key]);
            }
            for _ in 0..4 {
                client.reply();
            }
            rounds += 1;
        }
        rounds
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn figures_agree_with_what_redis_reports_itself() {
    let redis = Redis::start(&["--maxmemory", "64mb"]);
    create_users(&redis);
    let mut admin = redis.admin().expect("admin connection");
    for i in 0..100 {
        admin.call(&["SET", &format!("k{i}"), "value"]);
    }
    // A known mix: 300 hits and 100 misses, then nothing while the reader samples.
    for i in 0..300 {
        admin.call(&["GET", &format!("k{}", i % 100)]);
    }
    for i in 0..100 {
        admin.call(&["GET", &format!("missing{i}")]);
    }

    let url = advisor_url(&redis);
    let report = observe::redis::read(&url, limits(5000)).await;
    assert_eq!(report.connection.status, Status::Ok, "{report:?}");
    assert_eq!(
        report.connection.url,
        format!("redis://advisor:***@127.0.0.1:{}/0", redis.port)
    );
    assert_no_secret(&report, ADVISOR_PASSWORD);
    let got = by_name(&report);
    let mut emitted: std::collections::BTreeSet<String> = got.keys().cloned().collect();

    // No lookup between the samples: the hit rate since the reset, and it says so.
    let hits = admin.info_field("keyspace_hits");
    let misses = admin.info_field("keyspace_misses");
    assert_eq!((hits, misses), (300.0, 100.0));
    let hit = &got["cache_hit_rate_pct"];
    assert_eq!(hit.value, 75.0);
    assert!(
        hit.query.contains("since the last restart"),
        "{}",
        hit.query
    );

    let used = admin.info_field("used_memory");
    let max = admin.info_field("maxmemory");
    assert_eq!(max, 64.0 * 1024.0 * 1024.0);
    let memory = got["cache_memory_pct"].value;
    assert!(
        (memory - 100.0 * used / max).abs() < 0.5,
        "{memory} vs {}",
        100.0 * used / max
    );
    // Besides the reader, only the admin connection is open.
    let maxclients = admin.info_field("maxclients");
    assert_eq!(
        got["cache_connections_pct"].value,
        (100.0 * 1.0 / maxclients * 100.0).round() / 100.0
    );
    assert_eq!(got["cache_evictions_per_sec"].value, 0.0);
    assert!(!got.contains_key("cache_replication_lag_bytes"));
    for reading in &report.readings {
        assert!(!reading.unit.is_empty());
        assert!(
            reading.at.ends_with('Z') && reading.at.len() == 20,
            "{reading:?}"
        );
    }

    // Under a 3:1 hit/miss load, the rate between the samples.
    let stop = Arc::new(AtomicBool::new(false));
    let load = hit_miss_load(&redis, stop.clone());
    std::thread::sleep(Duration::from_millis(200));
    let commands_before = admin.info_field("total_commands_processed");
    let clock = Instant::now();
    let report = observe::redis::read(&url, limits(5000)).await;
    let commands_after = admin.info_field("total_commands_processed");
    let bracket_rate = (commands_after - commands_before) / clock.elapsed().as_secs_f64();
    stop.store(true, Ordering::Relaxed);
    assert!(load.join().expect("the load ran") > 100);
    assert_eq!(report.connection.status, Status::Ok, "{report:?}");
    let got = by_name(&report);
    let hit = &got["cache_hit_rate_pct"];
    assert!(hit.query.contains("between two samples"), "{}", hit.query);
    assert!((hit.value - 75.0).abs() < 1.0, "hit rate {}", hit.value);
    let ops = got["cache_ops_per_sec"].value;
    eprintln!(
        "redis under load: hit rate {} %, {ops} ops/s read, {bracket_rate:.0} ops/s around the read, cpu {} %",
        hit.value, got["cache_cpu_pct"].value
    );
    assert!(
        ops > 0.7 * bracket_rate && ops < 1.3 * bracket_rate,
        "{ops} ops/s read, {bracket_rate} around the read"
    );
    assert!(got["cache_cpu_pct"].value > 0.0);

    // Evictions: a small maxmemory and writes during the read.
    assert!(
        admin
            .call(&["CONFIG", "SET", "maxmemory", "2mb"])
            .starts_with("+OK")
    );
    assert!(
        admin
            .call(&["CONFIG", "SET", "maxmemory-policy", "allkeys-lru"])
            .starts_with("+OK")
    );
    let stop = Arc::new(AtomicBool::new(false));
    let writer = {
        let mut client = redis.admin().expect("writer connection");
        let stop = stop.clone();
        std::thread::spawn(move || {
            let value = "x".repeat(1024);
            let mut i = 0u64;
            while !stop.load(Ordering::Relaxed) {
                client.call(&["SET", &format!("big{i}"), &value]);
                i += 1;
            }
        })
    };
    let evicted_before = admin.info_field("evicted_keys");
    let clock = Instant::now();
    let report = observe::redis::read(&url, limits(5000)).await;
    let evicted_rate =
        (admin.info_field("evicted_keys") - evicted_before) / clock.elapsed().as_secs_f64();
    stop.store(true, Ordering::Relaxed);
    writer.join().expect("the writer ran");
    let evictions = by_name(&report)["cache_evictions_per_sec"].value;
    eprintln!("redis evicting: {evictions} evictions/s read, {evicted_rate:.0} around the read");
    assert!(evictions > 0.5 * evicted_rate && evictions < 1.5 * evicted_rate);
    assert!(by_name(&report)["cache_memory_pct"].value > 50.0);

    // A replica: the primary's offset against the replica's, as the primary reports them.
    let replica = Redis::start(&["--replicaof", "127.0.0.1", &redis.port.to_string()]);
    let until = Instant::now() + Duration::from_secs(10);
    while !admin
        .call(&["INFO", "replication"])
        .contains("state=online")
    {
        assert!(Instant::now() < until, "the replica did not come online");
        std::thread::sleep(Duration::from_millis(50));
    }
    let report = observe::redis::read(&url, limits(5000)).await;
    let replication = admin.call(&["INFO", "replication"]);
    let field = |name: &str| -> f64 {
        replication
            .lines()
            .find_map(|l| l.strip_prefix(&format!("{name}:")))
            .and_then(|v| v.trim().parse().ok())
            .expect("INFO replication field")
    };
    let slave_offset: f64 = replication
        .lines()
        .find_map(|l| l.strip_prefix("slave0:"))
        .and_then(|v| v.split(',').find_map(|p| p.strip_prefix("offset=")))
        .and_then(|o| o.parse().ok())
        .expect("slave0 offset");
    let lag = by_name(&report)["cache_replication_lag_bytes"].value;
    assert_eq!(lag, (field("master_repl_offset") - slave_offset).max(0.0));
    drop(replica);
    emitted.extend(report.readings.iter().map(|r| r.name.clone()));

    // Every figure the reader gives is a row of the mapping table, and every row was given.
    assert_eq!(emitted, services::documented("redis-info"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn faults_are_statuses_and_the_other_source_is_still_read() {
    let redis = Redis::start(&[]);
    create_users(&redis);

    // A wrong password: refused, and the password is not repeated.
    let wrong = redis_url(&format!(
        "redis://advisor:not-the-password@127.0.0.1:{}",
        redis.port
    ));
    let report = observe::redis::read(&wrong, limits(5000)).await;
    assert_eq!(report.connection.status, Status::Refused, "{report:?}");
    assert!(report.connection.detail.contains("WRONGPASS"), "{report:?}");
    assert_no_secret(&report, "not-the-password");

    // The advisor user named without its password: refused, never read as the `default`
    // user (which, with no requirepass, would have answered).
    let no_password = redis_url(&format!("redis://advisor@127.0.0.1:{}", redis.port));
    let report = observe::redis::read(&no_password, limits(5000)).await;
    assert_eq!(report.connection.status, Status::Refused, "{report:?}");

    // INFO denied by the ACL: refused.
    let noinfo = redis_url(&format!(
        "redis://noinfo:noinfo-pw@127.0.0.1:{}",
        redis.port
    ));
    let report = observe::redis::read(&noinfo, limits(5000)).await;
    assert_eq!(report.connection.status, Status::Refused, "{report:?}");
    assert!(report.connection.detail.contains("NOPERM"), "{report:?}");

    // An answer past the byte cap: refused unread.
    let capped = observe::Limits {
        max_bytes: 1000,
        ..limits(5000)
    };
    let report = observe::redis::read(&advisor_url(&redis), capped).await;
    assert_eq!(report.connection.status, Status::Error, "{report:?}");
    assert!(
        report.connection.detail.contains("cap of 1000 bytes"),
        "{report:?}"
    );

    // Nothing listening: unreachable.
    let nobody = redis_url(&format!("redis://127.0.0.1:{}", free_port()));
    let report = observe::redis::read(&nobody, limits(5000)).await;
    assert_eq!(report.connection.status, Status::Unreachable, "{report:?}");

    // A Redis that never answers, read beside a PostgreSQL that never answers either, while
    // the working Redis is still read within its own deadline.
    let silent = SilentListener::new();
    let silent_redis = redis_url(&format!("redis://127.0.0.1:{}", silent.port));
    let silent_pg = postgres_url(&format!("postgres://advisor@127.0.0.1:{}/app", silent.port));
    let working = advisor_url(&redis);
    let clock = Instant::now();
    let (stuck, stuck_pg, good) = tokio::join!(
        observe::redis::read(&silent_redis, limits(1000)),
        observe::postgres::read(&silent_pg, limits(1000)),
        observe::redis::read(&working, limits(5000)),
    );
    assert_eq!(stuck.connection.status, Status::TimedOut, "{stuck:?}");
    assert_eq!(stuck_pg.connection.status, Status::TimedOut, "{stuck_pg:?}");
    assert_eq!(good.connection.status, Status::Ok, "{good:?}");
    assert!(clock.elapsed() < Duration::from_millis(5500));

    // A server that goes away mid-read (between the two samples): an error, within the
    // deadline.
    let mut doomed = Redis::start(&[]);
    let doomed_url = redis_url(&doomed.url());
    let clock = Instant::now();
    let reading =
        tokio::spawn(async move { observe::redis::read(&doomed_url, limits(5000)).await });
    tokio::time::sleep(Duration::from_millis(400)).await;
    doomed.kill();
    let report = reading.await.expect("the read finished");
    assert_eq!(report.connection.status, Status::Error, "{report:?}");
    assert!(
        report.connection.detail.contains("lost") || report.connection.detail.contains("closed"),
        "{report:?}"
    );
    assert!(clock.elapsed() < Duration::from_secs(5));
    assert!(report.readings.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rediss_is_read_over_tls_and_its_certificate_is_checked() {
    let (redis, tls_port) = Redis::start_tls();
    create_users(&redis);

    // `#insecure`: encrypted, the self-signed certificate accepted. The TLS port speaks
    // nothing but TLS, so an answer there was read over TLS.
    let insecure = redis_url(&format!(
        "rediss://advisor:{ADVISOR_PASSWORD}@127.0.0.1:{tls_port}/0#insecure"
    ));
    let report = observe::redis::read(&insecure, limits(5000)).await;
    assert_eq!(report.connection.status, Status::Ok, "{report:?}");
    assert!(
        by_name(&report).contains_key("cache_memory_gb"),
        "{report:?}"
    );
    assert_no_secret(&report, ADVISOR_PASSWORD);

    // Without it the certificate is checked, and a self-signed one is refused, saying how to
    // accept it.
    let verified = redis_url(&format!(
        "rediss://advisor:{ADVISOR_PASSWORD}@localhost:{tls_port}/0"
    ));
    let report = observe::redis::read(&verified, limits(5000)).await;
    assert_eq!(report.connection.status, Status::Error, "{report:?}");
    assert!(
        report.connection.detail.contains("TLS handshake"),
        "{report:?}"
    );
    assert!(report.connection.detail.contains("#insecure"), "{report:?}");
    assert!(report.readings.is_empty());
}

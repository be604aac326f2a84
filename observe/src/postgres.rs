//! Reads PostgreSQL's statistics views (fixed read-only queries, in a read-only transaction
//! with a statement and lock timeout) into the advisor's vocabulary (contract §7–§8).
//!
//! Only the statements of [`STATEMENTS`] ever reach the server, each a constant: nothing a
//! caller gives becomes SQL. Each runs inside `BEGIN READ ONLY` with `statement_timeout` and
//! `lock_timeout` set to what is left of the deadline, and none needs more than the
//! `pg_monitor` role. `pg_stat_statements` is read for its numbers only (`queryid`, `calls`,
//! `total_exec_time`): its `query` column, which can hold customers' data, is never selected,
//! and neither is `pg_stat_activity.query`. With `sslmode=require` the connection is TLS
//! (rustls), encrypted without checking the certificate against an authority, as libpq's
//! `require` does; otherwise it is in clear.
//!
//! The views' counters are cumulative since their last reset, so they are sampled twice, in
//! two transactions a third of the total timeout (at most two seconds) apart, and a figure is
//! the rate between the samples; a ratio whose samples saw no activity falls back to its value
//! since the reset, and its `query` says which it is. The mapping, with the PostgreSQL
//! documentation each row relies on, is the table `knowledge://observation#postgres-views`.
//!
//! What the statistics views cannot give, which `observe_system` lists in `missing_inputs`
//! (the table `knowledge://observation#what-postgresql-cannot-give`, read by
//! [`cannot_give`]): `db_cpu_pct` (an operating-system figure: node_exporter on the database
//! host, or the cloud provider's metric), `p95_latency_ms` (`pg_stat_statements` keeps
//! means, not percentiles: the application's request histogram), `read_pct` (the views
//! count rows, not operations: `db_rows_read_pct` is shown instead), `db_read_load_pct` and
//! `db_write_load_pct` (shares of a capacity the views do not know), `pool_utilization_pct`
//! (the application's pool or PgBouncer's `SHOW POOLS`), `disk_used_pct` (the filesystem's
//! size: node_exporter) and `queries_per_request` (the application's request rate).

use std::collections::HashMap;
use std::time::Duration;

use tokio::time::Instant;
use tokio_postgres::config::SslMode;
use tokio_postgres::error::SqlState;
use tokio_postgres::{Client, NoTls};

pub use crate::sampling::Unobservable;
use crate::sampling::{self, Fault, increase, reading, seconds};
use crate::{Limits, Reading, SourceKind, SourceReport, SourceUrl};

const SOURCE: SourceKind = SourceKind::Postgres;

/// Opens each sample: a transaction that cannot write, whatever the role may do.
const BEGIN: &str = "BEGIN READ ONLY";

/// Bounds every statement and lock wait of the sample by what is left of the deadline (the
/// third argument, `true`, makes the settings local to the transaction).
const TIMEOUTS: &str = "SELECT set_config('statement_timeout', $1, true), \
     set_config('lock_timeout', $1, true)";

/// The cumulative counters of every database, summed over the server, and the server's clock.
const DATABASE_COUNTERS: &str = "SELECT \
     extract(epoch FROM clock_timestamp())::float8 AS epoch, \
     sum(blks_hit)::float8 AS blks_hit, \
     sum(blks_read)::float8 AS blks_read, \
     sum(tup_returned)::float8 AS rows_read, \
     sum(tup_inserted + tup_updated + tup_deleted)::float8 AS rows_written, \
     sum(xact_commit + xact_rollback)::float8 AS transactions, \
     extract(epoch FROM min(stats_reset))::float8 AS stats_reset \
     FROM pg_stat_database";

/// Client connections (the reader's own left out) against `max_connections`.
const CONNECTIONS: &str = "SELECT \
     count(*) FILTER (WHERE backend_type = 'client backend' \
     AND pid <> pg_backend_pid())::float8 AS clients, \
     current_setting('max_connections')::float8 AS max_connections \
     FROM pg_stat_activity";

/// On a primary, its replicas and the longest replay lag; on a standby, how far its replay is
/// behind what it received (zero when it has replayed everything it was sent).
const REPLICATION: &str = "SELECT \
     pg_is_in_recovery() AS standby, \
     (SELECT count(*) FROM pg_stat_replication)::float8 AS replicas, \
     (SELECT max(extract(epoch FROM replay_lag)) * 1000 \
     FROM pg_stat_replication)::float8 AS replay_lag_ms, \
     CASE WHEN NOT pg_is_in_recovery() THEN NULL \
          WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0 \
          ELSE extract(epoch FROM clock_timestamp() - pg_last_xact_replay_timestamp()) * 1000 \
     END::float8 AS standby_lag_ms, \
     current_setting('server_version') AS version";

/// The size on disk of every database of the server.
const DATABASE_SIZE: &str = "SELECT sum(pg_database_size(oid))::float8 AS bytes FROM pg_database";

/// Whether `pg_stat_statements` can be read: the view is installed in this database and the
/// module is loaded (querying it otherwise is an error that would end the transaction).
const STATEMENTS_INSTALLED: &str = "SELECT \
     to_regclass('pg_stat_statements') IS NOT NULL \
     AND position('pg_stat_statements' IN current_setting('shared_preload_libraries')) > 0 \
     AS installed";

/// Each statement's counters, by its key: numbers only, never the `query` text. The reader's
/// own role is left out, so its statements do not count as the system's.
const STATEMENT_COUNTERS: &str = "SELECT \
     userid::int8 AS userid, dbid::int8 AS dbid, queryid, toplevel, calls, total_exec_time \
     FROM pg_stat_statements \
     WHERE queryid IS NOT NULL \
     AND userid <> (SELECT oid FROM pg_roles WHERE rolname = current_user)";

/// Closes each sample.
const COMMIT: &str = "COMMIT";
const ROLLBACK: &str = "ROLLBACK";

/// Every statement the reader can send, in the order a sample sends them: the whole of what
/// reaches the server (a test holds the server's own record of the reader's statements to it).
pub const STATEMENTS: &[&str] = &[
    BEGIN,
    TIMEOUTS,
    DATABASE_COUNTERS,
    CONNECTIONS,
    REPLICATION,
    DATABASE_SIZE,
    STATEMENTS_INSTALLED,
    STATEMENT_COUNTERS,
    COMMIT,
    ROLLBACK,
];

/// The bytes one row of [`STATEMENT_COUNTERS`] takes at most on the wire (six 8-byte values
/// and their lengths), so that a server tracking more statements than the byte cap allows is
/// refused row by row instead of read whole.
const STATEMENT_ROW_BYTES: usize = 6 * (8 + 4);

/// What PostgreSQL cannot give, and where to get it: the table
/// `knowledge://observation#what-postgresql-cannot-give`, for `observe_system`'s `missing_inputs`.
pub fn cannot_give(
    knowledge: &knowledge::Knowledge,
) -> Result<Vec<Unobservable>, knowledge::KnowledgeError> {
    sampling::unobservable(knowledge, "what-postgresql-cannot-give")
}

/// Reads the source at `url` within `limits`; a failure is a connection status, never a panic.
pub async fn read(url: &SourceUrl, limits: Limits) -> SourceReport {
    let deadline = Instant::now() + limits.total_timeout;
    let reading = read_views(url, limits, deadline);
    sampling::report_by(SOURCE, url, deadline, limits, "no complete answer", reading).await
}

/// Connects, takes two samples and turns them into readings.
async fn read_views(
    url: &SourceUrl,
    limits: Limits,
    deadline: Instant,
) -> Result<(String, Vec<Reading>), Fault> {
    let mut config: tokio_postgres::Config = url.expose().as_str().parse().map_err(|e| {
        Fault::Error(format!(
            "the URL is not a PostgreSQL connection string: {e}"
        ))
    })?;
    config.connect_timeout(limits.connect_timeout);
    if config.get_application_name().is_none() {
        config.application_name("scale-advisor");
    }
    let (client, connection) =
        match tokio::time::timeout(limits.connect_timeout, connect(&config)).await {
            Err(_) => {
                return Err(Fault::TimedOut(format!(
                    "no answer to the connection within the connect timeout of {} ms",
                    limits.connect_timeout.as_millis()
                )));
            }
            Ok(Err(fault)) => return Err(fault),
            Ok(Ok(pair)) => pair,
        };

    // The connection does the socket's work while the samples are taken; if it ends first,
    // the server went away mid-read.
    tokio::pin!(connection);
    let outcome = tokio::select! {
        outcome = sample_twice(&client, limits, deadline) => outcome,
        ended = &mut connection => Err(Fault::Error(match ended {
            Ok(()) => "the server closed the connection during the read".to_string(),
            Err(e) => format!("the connection was lost during the read: {e}"),
        })),
    };
    // Closing politely (a Terminate message) takes the connection future one more poll; it is
    // polled once and no more, so that a server that stopped answering cannot hold a result
    // that is already read.
    drop(client);
    let _ = futures_util::FutureExt::now_or_never(connection);
    outcome
}

/// The connection, in TLS when the URL asks for it with `sslmode=require`, otherwise in clear
/// (`prefer` with no TLS connector is a clear connection in tokio-postgres, one that libpq's
/// `prefer` also settles for).
async fn connect(
    config: &tokio_postgres::Config,
) -> Result<
    (
        Client,
        impl std::future::Future<Output = Result<(), tokio_postgres::Error>> + use<>,
    ),
    Fault,
> {
    use futures_util::future::Either;
    if config.get_ssl_mode() == SslMode::Require {
        // `sslmode=require` as libpq defines it: encrypted, the certificate not checked
        // against an authority (libpq checks it only for verify-ca and verify-full, which
        // tokio-postgres does not accept), so a managed database's private authority works.
        let tls = crate::tls::encrypt_only()
            .map(tokio_postgres_rustls::MakeRustlsConnect::new)
            .map_err(|e| Fault::Error(format!("TLS could not be set up: {e}")))?;
        let (client, connection) = config.connect(tls).await.map_err(|e| connect_fault(&e))?;
        Ok((client, Either::Left(connection)))
    } else {
        let (client, connection) = config.connect(NoTls).await.map_err(|e| connect_fault(&e))?;
        Ok((client, Either::Right(connection)))
    }
}

/// Two samples, the interval apart, and the readings between them.
async fn sample_twice(
    client: &Client,
    limits: Limits,
    deadline: Instant,
) -> Result<(String, Vec<Reading>), Fault> {
    let mut notes = Vec::new();
    let first = sample(client, deadline, &mut notes, false, limits.max_bytes).await?;
    tokio::time::sleep(sampling::sample_interval(limits)).await;
    let second = sample(client, deadline, &mut notes, true, limits.max_bytes).await?;
    let window = (second.epoch - first.epoch).max(0.0);
    let mut detail = format!(
        "read pg_stat_database, pg_stat_activity, pg_stat_replication{} and the database \
         sizes, twice, {} apart, in read-only transactions (PostgreSQL {}); counters are rates \
         between the two samples",
        if second.statements.is_some() {
            ", pg_stat_statements (figures only)"
        } else {
            ""
        },
        seconds(window),
        second.version
    );
    for note in notes {
        detail.push_str("; ");
        detail.push_str(&note);
    }
    Ok((detail, readings(&first, &second)))
}

/// What one sample read.
struct Sample {
    epoch: f64,
    blks_hit: f64,
    blks_read: f64,
    rows_read: f64,
    rows_written: f64,
    transactions: f64,
    stats_reset: Option<f64>,
    clients: f64,
    max_connections: f64,
    replicas: f64,
    replay_lag_ms: Option<f64>,
    standby_lag_ms: Option<f64>,
    version: String,
    /// Only in the second sample: sizes do not need a rate.
    database_bytes: Option<f64>,
    /// `None` when `pg_stat_statements` cannot be read.
    statements: Option<HashMap<StatementKey, StatementCounters>>,
}

/// `pg_stat_statements`' key: role, database, query id and whether it ran at top level.
type StatementKey = (i64, i64, i64, bool);

#[derive(Clone, Copy)]
struct StatementCounters {
    calls: f64,
    total_exec_time_ms: f64,
}

/// One read-only transaction of the fixed statements.
async fn sample(
    client: &Client,
    deadline: Instant,
    notes: &mut Vec<String>,
    with_sizes: bool,
    max_bytes: usize,
) -> Result<Sample, Fault> {
    client.batch_execute(BEGIN).await.map_err(|e| fault(&e))?;
    let left = deadline
        .saturating_duration_since(Instant::now())
        .max(Duration::from_millis(1));
    let timeout = format!("{}ms", left.as_millis());
    client
        .query_one(TIMEOUTS, &[&timeout])
        .await
        .map_err(|e| fault(&e))?;

    let counters = client
        .query_one(DATABASE_COUNTERS, &[])
        .await
        .map_err(|e| fault(&e))?;
    let connections = client
        .query_one(CONNECTIONS, &[])
        .await
        .map_err(|e| fault(&e))?;
    let replication = client
        .query_one(REPLICATION, &[])
        .await
        .map_err(|e| fault(&e))?;
    let database_bytes = if with_sizes {
        let row = client
            .query_one(DATABASE_SIZE, &[])
            .await
            .map_err(|e| fault(&e))?;
        get::<Option<f64>>(&row, "bytes")?
    } else {
        None
    };
    let installed: bool = get(
        &client
            .query_one(STATEMENTS_INSTALLED, &[])
            .await
            .map_err(|e| fault(&e))?,
        "installed",
    )?;

    let mut sample = Sample {
        epoch: get::<Option<f64>>(&counters, "epoch")?.unwrap_or(0.0),
        blks_hit: get::<Option<f64>>(&counters, "blks_hit")?.unwrap_or(0.0),
        blks_read: get::<Option<f64>>(&counters, "blks_read")?.unwrap_or(0.0),
        rows_read: get::<Option<f64>>(&counters, "rows_read")?.unwrap_or(0.0),
        rows_written: get::<Option<f64>>(&counters, "rows_written")?.unwrap_or(0.0),
        transactions: get::<Option<f64>>(&counters, "transactions")?.unwrap_or(0.0),
        stats_reset: get(&counters, "stats_reset")?,
        clients: get::<Option<f64>>(&connections, "clients")?.unwrap_or(0.0),
        max_connections: get::<Option<f64>>(&connections, "max_connections")?.unwrap_or(0.0),
        replicas: get::<Option<f64>>(&replication, "replicas")?.unwrap_or(0.0),
        replay_lag_ms: get(&replication, "replay_lag_ms")?,
        standby_lag_ms: get(&replication, "standby_lag_ms")?,
        version: get(&replication, "version")?,
        database_bytes,
        statements: None,
    };

    if !installed {
        if with_sizes {
            notes.push(
                "pg_stat_statements is not installed in this database or not in \
                 shared_preload_libraries: slowest_query_ms and db_queries_per_sec are not read"
                    .to_string(),
            );
        }
        client.batch_execute(COMMIT).await.map_err(|e| fault(&e))?;
        return Ok(sample);
    }
    // Last in the transaction: if the view refuses, the figures above are kept and the
    // transaction is rolled back instead of committed.
    match statement_counters(client, max_bytes).await {
        Ok(statements) => {
            sample.statements = Some(statements);
            client.batch_execute(COMMIT).await.map_err(|e| fault(&e))?;
        }
        Err(Fault::Error(reason) | Fault::Refused(reason)) => {
            notes.push(format!("pg_stat_statements could not be read: {reason}"));
            client
                .batch_execute(ROLLBACK)
                .await
                .map_err(|e| fault(&e))?;
        }
        Err(fault) => return Err(fault),
    }
    Ok(sample)
}

/// The counters of every statement, stopping at the byte cap.
async fn statement_counters(
    client: &Client,
    max_bytes: usize,
) -> Result<HashMap<StatementKey, StatementCounters>, Fault> {
    use futures_util::TryStreamExt;
    let rows = client
        .query_raw(STATEMENT_COUNTERS, std::iter::empty::<i32>())
        .await
        .map_err(|e| fault(&e))?;
    futures_util::pin_mut!(rows);
    let mut statements = HashMap::new();
    while let Some(row) = rows.try_next().await.map_err(|e| fault(&e))? {
        if (statements.len() + 1) * STATEMENT_ROW_BYTES > max_bytes {
            return Err(Fault::Error(format!(
                "pg_stat_statements tracks more statements than the byte cap allows ({} bytes); \
                 it was refused past that point",
                max_bytes
            )));
        }
        let key = (
            get(&row, "userid")?,
            get(&row, "dbid")?,
            get(&row, "queryid")?,
            get(&row, "toplevel")?,
        );
        let calls: i64 = get(&row, "calls")?;
        statements.insert(
            key,
            StatementCounters {
                calls: calls as f64,
                total_exec_time_ms: get(&row, "total_exec_time")?,
            },
        );
    }
    Ok(statements)
}

/// A column of a fixed statement's row; a type the statement does not give is a bug of this
/// reader or a server that is not PostgreSQL, reported as an error, never a panic.
fn get<'a, T: tokio_postgres::types::FromSql<'a>>(
    row: &'a tokio_postgres::Row,
    column: &str,
) -> Result<T, Fault> {
    row.try_get(column)
        .map_err(|e| Fault::Error(format!("the server's answer has no readable {column}: {e}")))
}

/// The figures of two samples, each with the view it came from and how.
fn readings(first: &Sample, second: &Sample) -> Vec<Reading> {
    let window = (second.epoch - first.epoch).max(0.0);
    let span = seconds(window);
    let at = sampling::rfc3339_utc(second.epoch);
    let at = at.as_str();
    let since = match first.stats_reset {
        Some(reset) => format!(
            "since the statistics were reset at {}",
            sampling::rfc3339_utc(reset)
        ),
        None => "since the statistics began (no reset recorded)".to_string(),
    };
    let mut out = Vec::new();

    if second.max_connections > 0.0 {
        out.push(reading(
            SOURCE,
            "connections_pct",
            100.0 * second.clients / second.max_connections,
            "pct",
            "pg_stat_activity: client backends (the reader's own left out) / max_connections, \
             at the second sample"
                .to_string(),
            at,
        ));
    }

    // Ratios: between the samples when anything happened, else since the reset.
    let ratio = |name: &str, part: fn(&Sample) -> f64, other: fn(&Sample) -> f64, what: &str| {
        let between =
            increase(part(first), part(second)).zip(increase(other(first), other(second)));
        match between {
            Some((p, o)) if p + o > 0.0 => Some(reading(
                SOURCE,
                name,
                100.0 * p / (p + o),
                "pct",
                format!("pg_stat_database: {what}, rate between two samples {span} apart"),
                at,
            )),
            _ if part(second) + other(second) > 0.0 => Some(reading(
                SOURCE,
                name,
                100.0 * part(second) / (part(second) + other(second)),
                "pct",
                format!(
                    "pg_stat_database: {what}, {since}: nothing was counted between two \
                     samples {span} apart"
                ),
                at,
            )),
            _ => None,
        }
    };
    out.extend(ratio(
        "db_buffer_hit_pct",
        |s| s.blks_hit,
        |s| s.blks_read,
        "blks_hit / (blks_hit + blks_read) over all databases",
    ));
    // A share of rows, not of operations: one scan reads many rows and an update by key reads
    // the row it writes, so it is not `diagnose_bottleneck`'s `read_pct` (reads among the
    // database's operations) and is shown under a name of its own.
    out.extend(ratio(
        "db_rows_read_pct",
        |s| s.rows_read,
        |s| s.rows_written,
        "rows read (tup_returned) / (rows read + rows inserted, updated and deleted) over all \
         databases",
    ));

    if let Some(grew) = increase(first.transactions, second.transactions)
        && window > 0.0
    {
        out.push(reading(
            SOURCE,
            "db_transactions_per_sec",
            grew / window,
            "per_sec",
            format!(
                "pg_stat_database: xact_commit + xact_rollback over all databases, rate between \
                 two samples {span} apart (the reader's own first transaction included)"
            ),
            at,
        ));
    }

    if let Some(bytes) = second.database_bytes {
        out.push(reading(
            SOURCE,
            "db_size_gb",
            bytes / GIB,
            "gb",
            "pg_database_size() summed over all databases (2^30 bytes to the GB), at the second \
             sample"
                .to_string(),
            at,
        ));
    }

    if second.replicas > 0.0 {
        // A replica that has caught up and stays idle shows no lag (NULL): it is not behind.
        out.push(reading(
            SOURCE,
            "replication_lag_ms",
            second.replay_lag_ms.unwrap_or(0.0),
            "ms",
            format!(
                "pg_stat_replication: the longest replay_lag of {} replicas, at the second sample",
                second.replicas
            ),
            at,
        ));
    } else if let Some(lag) = second.standby_lag_ms {
        out.push(reading(
            SOURCE,
            "replication_lag_ms",
            lag,
            "ms",
            "this standby: now − pg_last_xact_replay_timestamp() while replay is behind what \
             was received (0 when it has replayed everything), at the second sample"
                .to_string(),
            at,
        ));
    }

    if let (Some(before), Some(after)) = (&first.statements, &second.statements) {
        out.extend(statement_readings(before, after, window, at));
    }
    out
}

/// `pg_stat_statements`' figures: the calls per second and the slowest statement's mean time,
/// per statement between the samples (a statement first seen in the second sample ran within
/// the window), or since the view's reset when no statement ran between them.
fn statement_readings(
    before: &HashMap<StatementKey, StatementCounters>,
    after: &HashMap<StatementKey, StatementCounters>,
    window: f64,
    at: &str,
) -> Vec<Reading> {
    let span = seconds(window);
    let mut calls = 0.0;
    let mut slowest: Option<f64> = None;
    for (key, now) in after {
        let then = before.get(key).copied().unwrap_or(StatementCounters {
            calls: 0.0,
            total_exec_time_ms: 0.0,
        });
        let (Some(ran), Some(took)) = (
            increase(then.calls, now.calls),
            increase(then.total_exec_time_ms, now.total_exec_time_ms),
        ) else {
            continue;
        };
        if ran > 0.0 {
            calls += ran;
            slowest = Some(slowest.map_or(took / ran, |s| s.max(took / ran)));
        }
    }
    let mut out = Vec::new();
    if window > 0.0 {
        out.push(reading(
            SOURCE,
            "db_queries_per_sec",
            calls / window,
            "per_sec",
            format!(
                "pg_stat_statements: calls of every statement (the reader's role left out), \
                 rate between two samples {span} apart"
            ),
            at,
        ));
    }
    match slowest {
        Some(ms) => out.push(reading(
            SOURCE,
            "slowest_query_ms",
            ms,
            "ms",
            format!(
                "pg_stat_statements: the highest mean execution time of a statement, \
                 Δtotal_exec_time / Δcalls between two samples {span} apart (a mean: \
                 PostgreSQL keeps no percentiles)"
            ),
            at,
        )),
        None => {
            let since_reset = after
                .values()
                .filter(|s| s.calls > 0.0)
                .map(|s| s.total_exec_time_ms / s.calls)
                .reduce(f64::max);
            if let Some(ms) = since_reset {
                out.push(reading(
                    SOURCE,
                    "slowest_query_ms",
                    ms,
                    "ms",
                    format!(
                        "pg_stat_statements: the highest mean_exec_time of a statement since \
                         the view was last reset: no statement ran between two samples {span} \
                         apart (a mean: PostgreSQL keeps no percentiles)"
                    ),
                    at,
                ));
            }
        }
    }
    out
}

const GIB: f64 = 1024.0 * 1024.0 * 1024.0;

/// A failure to connect: a refusal of the role or its password, or nothing to connect to.
fn connect_fault(error: &tokio_postgres::Error) -> Fault {
    let text = error.to_string();
    match error.as_db_error() {
        Some(_) => fault(error),
        // The server asked for a password the URL does not hold: authentication, refused.
        // (tokio-postgres says "invalid configuration", its cause "password missing").
        None if std::error::Error::source(error)
            .is_some_and(|cause| cause.to_string().contains("password missing")) =>
        {
            Fault::Refused(
                "the server asks for a password and none is given: put it in the URL, \
                 SCALE_ADVISOR_POSTGRES_PASSWORD or --postgres-password-file"
                    .to_string(),
            )
        }
        // A server that answers but will not (or cannot) speak TLS is there: not unreachable.
        None if text.contains("TLS") => Fault::Error(format!(
            "{text}{}",
            std::error::Error::source(error)
                .map(|s| format!(": {s}"))
                .unwrap_or_default()
        )),
        None => Fault::Unreachable(text),
    }
}

/// A failure once connected, by the server's SQLSTATE where it gave one.
fn fault(error: &tokio_postgres::Error) -> Fault {
    // The server's own words: tokio-postgres's Display of a server error is only "db error".
    let text = match error.as_db_error() {
        Some(db) => format!(
            "PostgreSQL said: {} (SQLSTATE {})",
            db.message(),
            db.code().code()
        ),
        None => error.to_string(),
    };
    match error.code() {
        Some(code)
            if *code == SqlState::INVALID_PASSWORD
                || *code == SqlState::INVALID_AUTHORIZATION_SPECIFICATION
                || *code == SqlState::INSUFFICIENT_PRIVILEGE =>
        {
            Fault::Refused(text)
        }
        Some(code)
            if *code == SqlState::QUERY_CANCELED || *code == SqlState::LOCK_NOT_AVAILABLE =>
        {
            Fault::TimedOut(text)
        }
        Some(code) if *code == SqlState::CANNOT_CONNECT_NOW => Fault::Unreachable(text),
        _ if error.is_closed() => Fault::Error(format!(
            "the server closed the connection during the read: {text}"
        )),
        _ => Fault::Error(text),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(epoch: f64, hit: f64, read: f64, calls: f64, total_ms: f64) -> Sample {
        Sample {
            epoch,
            blks_hit: hit,
            blks_read: read,
            rows_read: 300.0,
            rows_written: 100.0,
            transactions: 50.0 + epoch,
            stats_reset: None,
            clients: 5.0,
            max_connections: 20.0,
            replicas: 0.0,
            replay_lag_ms: None,
            standby_lag_ms: None,
            version: "15".to_string(),
            database_bytes: Some(GIB / 2.0),
            statements: Some(HashMap::from([(
                (10, 5, 42, true),
                StatementCounters {
                    calls,
                    total_exec_time_ms: total_ms,
                },
            )])),
        }
    }

    fn named<'a>(readings: &'a [Reading], name: &str) -> &'a Reading {
        readings
            .iter()
            .find(|r| r.name == name)
            .unwrap_or_else(|| panic!("no {name} in {readings:?}"))
    }

    #[test]
    fn counters_are_rates_between_the_samples() {
        let first = sample(1000.0, 900.0, 100.0, 10.0, 50.0);
        let second = sample(1002.0, 1890.0, 110.0, 30.0, 150.0);
        let got = readings(&first, &second);
        assert_eq!(named(&got, "connections_pct").value, 25.0);
        assert_eq!(named(&got, "db_buffer_hit_pct").value, 99.0);
        assert_eq!(named(&got, "db_transactions_per_sec").value, 1.0);
        assert_eq!(named(&got, "db_size_gb").value, 0.5);
        assert_eq!(named(&got, "db_queries_per_sec").value, 10.0);
        // 20 calls took 100 ms between the samples: 5 ms each.
        let slowest = named(&got, "slowest_query_ms");
        assert_eq!(slowest.value, 5.0);
        assert!(slowest.query.contains("between two samples 2.0 s apart"));
        assert_eq!(named(&got, "db_size_gb").at, "1970-01-01T00:16:42Z");
        assert!(!got.iter().any(|r| r.name == "replication_lag_ms"));
    }

    #[test]
    fn ratios_with_nothing_between_the_samples_are_since_the_reset_and_say_so() {
        let first = sample(1000.0, 900.0, 100.0, 10.0, 50.0);
        let second = sample(1002.0, 900.0, 100.0, 10.0, 50.0);
        let got = readings(&first, &second);
        let hit = named(&got, "db_buffer_hit_pct");
        assert_eq!(hit.value, 90.0);
        assert!(
            hit.query.contains("since the statistics began"),
            "{}",
            hit.query
        );
        assert_eq!(named(&got, "db_rows_read_pct").value, 75.0);
        assert_eq!(named(&got, "db_queries_per_sec").value, 0.0);
        let slowest = named(&got, "slowest_query_ms");
        assert_eq!(slowest.value, 5.0);
        assert!(slowest.query.contains("since the view was last reset"));
    }

    #[test]
    fn every_statement_is_read_only_by_its_first_word() {
        for statement in STATEMENTS {
            let first = statement.split_whitespace().next().unwrap_or_default();
            assert!(
                ["SELECT", "BEGIN", "COMMIT", "ROLLBACK"].contains(&first),
                "{statement}"
            );
            assert!(!statement.contains("query,") && !statement.contains(" query "));
        }
    }
}

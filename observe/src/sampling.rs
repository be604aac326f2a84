//! What the PostgreSQL and Redis readers share: how a failure becomes a connection status, how
//! far apart a counter's two samples are taken, and how a reading is worded and timed.
//!
//! Both sources expose counters that are cumulative since a reset (a restart, `CONFIG
//! RESETSTAT`, `pg_stat_reset()`), which average over months of nights and weekends. What a DBA
//! trusts is the rate now, so each reader samples its counters twice, [`sample_interval`]
//! apart, and gives the rate between the samples; only a ratio whose two samples saw no
//! activity at all falls back to its value since the reset, and its `query` says so.

use std::time::Duration;

use crate::{Connection, Limits, Reading, SourceKind, SourceReport, SourceUrl, Status};

/// A figure a source cannot give, and where to get it instead: a row of the `observation`
/// document's "cannot give" tables, for `observe_system`'s `missing_inputs`.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Unobservable {
    /// The argument's name in the tools' vocabulary (`db_cpu_pct`).
    pub field: String,
    /// What the figure would have enabled (a finding, a forecast).
    pub enables: String,
    /// Where to read it instead.
    pub where_to_get_it: String,
    /// `knowledge://observation#<anchor>`, for a result's `sources`.
    pub uri: String,
}

/// Reads the table at `observation#anchor` (validated at start-up, like every table: an empty
/// cell stops the server with the file and line).
pub(crate) fn unobservable(
    knowledge: &knowledge::Knowledge,
    anchor: &str,
) -> Result<Vec<Unobservable>, knowledge::KnowledgeError> {
    let table = knowledge.table("observation", anchor)?;
    let uri = format!("{}observation#{anchor}", knowledge::URI_SCHEME);
    table
        .rows()
        .map(|row| {
            Ok(Unobservable {
                field: row.required("field")?.to_string(),
                enables: row.required("enables")?.to_string(),
                where_to_get_it: row.required("where_to_get_it")?.to_string(),
                uri: uri.clone(),
            })
        })
        .collect()
}

/// Why a source gave no answer, as its connection status will say (contract §8).
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Fault {
    /// Nothing answered at the address (refused, no route, no such host).
    Unreachable(String),
    /// Authentication or permission refused.
    Refused(String),
    TimedOut(String),
    /// Anything else: the server went away mid-read, an answer past the byte cap, garbage.
    Error(String),
}

/// The report of a source that could not be read. The detail is masked once more here, so a
/// client library's message that quotes a URL cannot carry its password out.
pub(crate) fn failed(source: SourceKind, url: &SourceUrl, fault: Fault) -> SourceReport {
    let (status, detail) = match fault {
        Fault::Unreachable(d) => (Status::Unreachable, d),
        Fault::Refused(d) => (Status::Refused, d),
        Fault::TimedOut(d) => (Status::TimedOut, d),
        Fault::Error(d) => (Status::Error, d),
    };
    SourceReport {
        connection: Connection {
            source,
            url: url.masked(),
            status,
            detail: crate::mask_text(&detail),
        },
        readings: Vec::new(),
    }
}

/// Runs a source's whole reading against its deadline and turns the outcome into its report:
/// the one place the direct readers (PostgreSQL, Redis) meet their total timeout. `unanswered`
/// opens the detail of a timeout ("no complete answer to INFO").
pub(crate) async fn report_by(
    source: SourceKind,
    url: &SourceUrl,
    deadline: tokio::time::Instant,
    limits: Limits,
    unanswered: &str,
    reading: impl std::future::Future<Output = Result<(String, Vec<Reading>), Fault>>,
) -> SourceReport {
    match tokio::time::timeout_at(deadline, reading).await {
        Ok(Ok((detail, readings))) => read_ok(source, url, detail, readings),
        Ok(Err(fault)) => failed(source, url, fault),
        Err(_) => failed(
            source,
            url,
            Fault::TimedOut(format!(
                "{unanswered} within the total timeout of {} ms",
                limits.total_timeout.as_millis()
            )),
        ),
    }
}

/// The report of a source that was read.
pub(crate) fn read_ok(
    source: SourceKind,
    url: &SourceUrl,
    detail: String,
    readings: Vec<Reading>,
) -> SourceReport {
    SourceReport {
        connection: Connection {
            source,
            url: url.masked(),
            status: Status::Ok,
            detail,
        },
        readings,
    }
}

/// How far apart a counter's two samples are: a third of the total timeout, at most two
/// seconds. PostgreSQL's backends publish their counters about once a second, so a window
/// much shorter than that catches a backend's flush or misses it; a window that took most of
/// the deadline would leave nothing for a slow connection.
pub(crate) fn sample_interval(limits: Limits) -> Duration {
    (limits.total_timeout / 3).min(Duration::from_secs(2))
}

/// A whole-seconds duration as a reading's `query` words it: `1.7 s`.
pub(crate) fn seconds(elapsed: f64) -> String {
    format!("{elapsed:.1} s")
}

/// The increase of a counter between two samples, or `None` when it went down (reset between
/// the samples), in which case no rate between them exists.
pub(crate) fn increase(first: f64, second: f64) -> Option<f64> {
    (second >= first).then_some(second - first)
}

/// Rounds a figure to the precision its unit is read at, so a result does not show a
/// percentage to fifteen digits.
pub(crate) fn rounded(value: f64, unit: &str) -> f64 {
    let decimals = match unit {
        "gb" => 4,
        "ms" => 3,
        _ => 2,
    };
    let scale = 10f64.powi(decimals);
    (value * scale).round() / scale
}

/// Builds a reading, rounded to its unit.
pub(crate) fn reading(
    source: SourceKind,
    name: &str,
    value: f64,
    unit: &str,
    query: String,
    at: &str,
) -> Reading {
    Reading {
        name: name.to_string(),
        value: rounded(value, unit),
        unit: unit.to_string(),
        source,
        query,
        at: at.to_string(),
    }
}

/// RFC 3339 in UTC, to the second, of a time given as seconds since the Unix epoch (the
/// civil-from-days conversion of H. Hinnant's date algorithms, valid for any date after 1970).
pub(crate) fn rfc3339_utc(epoch_seconds: f64) -> String {
    let total = epoch_seconds.max(0.0).floor() as i64;
    let (days, second_of_day) = (total.div_euclid(86_400), total.rem_euclid(86_400));
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z - era * 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_index + 2) / 5 + 1;
    let month = if month_index < 10 {
        month_index + 3
    } else {
        month_index - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        second_of_day / 3600,
        second_of_day % 3600 / 60,
        second_of_day % 60
    )
}

/// Now, as seconds since the Unix epoch, by this machine's clock: used only when a source does
/// not say what time it is.
pub(crate) fn local_epoch_seconds() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn epoch_seconds_become_rfc3339() {
        assert_eq!(rfc3339_utc(0.0), "1970-01-01T00:00:00Z");
        // `date -u -d @951782400` (a leap day) and `@1796652849.76`.
        assert_eq!(rfc3339_utc(951_782_400.0), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339_utc(1_796_652_849.76), "2026-12-07T14:14:09Z");
        assert_eq!(rfc3339_utc(4_107_542_399.0), "2100-02-28T23:59:59Z");
    }

    #[test]
    fn what_each_source_cannot_give_is_read_from_the_document() {
        let knowledge = knowledge::Knowledge::embedded().unwrap();
        let postgres = crate::postgres::cannot_give(&knowledge).unwrap();
        let fields: Vec<&str> = postgres.iter().map(|u| u.field.as_str()).collect();
        assert!(fields.contains(&"db_cpu_pct") && fields.contains(&"p95_latency_ms"));
        assert_eq!(
            postgres[0].uri,
            "knowledge://observation#what-postgresql-cannot-give"
        );
        let redis = crate::redis::cannot_give(&knowledge).unwrap();
        assert!(redis.iter().any(|u| u.field == "p95_latency_ms"));
        assert!(redis.iter().all(|u| !u.where_to_get_it.is_empty()));
    }

    #[test]
    fn a_counter_that_went_down_has_no_rate() {
        assert_eq!(increase(10.0, 25.0), Some(15.0));
        assert_eq!(increase(10.0, 3.0), None);
    }

    #[test]
    fn the_samples_leave_room_for_the_connection() {
        let limits = |s| Limits {
            total_timeout: Duration::from_secs(s),
            ..Limits::default()
        };
        assert_eq!(sample_interval(limits(3)), Duration::from_secs(1));
        assert_eq!(sample_interval(limits(60)), Duration::from_secs(2));
    }
}

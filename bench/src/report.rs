//! The figures of each server and the markdown tables they are printed as. Sizes are in decimal
//! units (1 KB = 1,000 bytes, 1 MB = 10^6 bytes), the targets beside them.

use std::fmt::Write;
use std::time::Duration;

use crate::measure::{ColdStart, Pipelined, Session};

/// Everything measured for one server; a phase that was skipped or failed is `None`/empty.
pub struct Figures {
    pub label: String,
    pub command: String,
    pub workload: String,
    pub cold: Option<ColdStart>,
    pub session: Option<Session>,
    pub pipelined: Vec<Pipelined>,
    pub problems: Vec<String>,
}

/// The value at fraction `p` (0..=1) of sorted samples, by nearest rank.
pub fn percentile(sorted: &[Duration], p: f64) -> Option<Duration> {
    if sorted.is_empty() {
        return None;
    }
    let rank = (p * sorted.len() as f64).ceil() as usize;
    Some(sorted[rank.clamp(1, sorted.len()) - 1])
}

fn micros(d: Duration) -> String {
    let us = d.as_secs_f64() * 1e6;
    if us < 1000.0 {
        format!("{us:.1} µs")
    } else {
        millis(d)
    }
}

fn millis(d: Duration) -> String {
    let ms = d.as_secs_f64() * 1e3;
    if ms < 100.0 {
        format!("{ms:.2} ms")
    } else {
        format!("{ms:.0} ms")
    }
}

/// 1234567 as "1,234,567".
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn megabytes_decimal(bytes: f64) -> String {
    format!("{:.1} MB", bytes / 1e6)
}

pub fn megabytes(kib: u64) -> String {
    format!("{:.1} MB", kib as f64 * 1024.0 / 1e6)
}

fn bytes(n: usize) -> String {
    format!("{} B", thousands(n as u64))
}

pub fn per_call_cpu(run: &Pipelined) -> String {
    micros(Duration::from_secs_f64(run.cpu_seconds / run.calls as f64))
}

pub fn per_call_client_cpu(run: &Pipelined) -> String {
    micros(Duration::from_secs_f64(
        run.client_cpu_seconds / run.calls as f64,
    ))
}

impl Figures {
    fn sorted_latencies(&self) -> Vec<Duration> {
        let mut sorted = self
            .session
            .as_ref()
            .map(|s| s.latencies.clone())
            .unwrap_or_default();
        sorted.sort();
        sorted
    }

    /// The pipelined run with the median throughput.
    pub fn median_run(&self) -> Option<&Pipelined> {
        let mut runs: Vec<&Pipelined> = self.pipelined.iter().collect();
        runs.sort_by(|a, b| a.calls_per_second().total_cmp(&b.calls_per_second()));
        runs.get(runs.len() / 2).copied()
    }

    fn rows(&self) -> Vec<String> {
        let none = || "–".to_string();
        let cold = self.cold.as_ref().map(|c| {
            let mut runs = c.runs.clone();
            runs.sort();
            (runs.clone(), percentile(&runs, 0.5))
        });
        let latencies = self.sorted_latencies();
        let session = self.session.as_ref();
        let median_run = self.median_run();
        let peak = self.pipelined.iter().map(|r| r.memory.peak_kib).max();
        let failures: usize = session.map_or(0, |s| s.failures)
            + self.pipelined.iter().map(|r| r.failures).sum::<usize>();
        vec![
            session.map_or_else(none, |s| format!("`{}`", s.identity)),
            match &cold {
                Some((runs, Some(median))) => format!(
                    "**{}** ({}–{})",
                    millis(*median),
                    millis(runs[0]),
                    millis(percentile(runs, 0.9).unwrap_or(*median))
                ),
                _ => none(),
            },
            percentile(&latencies, 0.5).map_or_else(none, |d| format!("**{}**", micros(d))),
            percentile(&latencies, 0.99).map_or_else(none, |d| format!("**{}**", micros(d))),
            percentile(&latencies, 0.999).map_or_else(none, micros),
            median_run.map_or_else(none, |r| {
                format!("**{}/s**", thousands(r.calls_per_second().round() as u64))
            }),
            match (median_run, session) {
                (Some(run), Some(s)) => {
                    format!(
                        "{}/s",
                        megabytes_decimal(run.calls_per_second() * s.call_bytes as f64)
                    )
                }
                _ => none(),
            },
            median_run.map_or_else(none, per_call_cpu),
            peak.map_or_else(none, |kib| format!("**{}**", megabytes(kib))),
            session.map_or_else(none, |s| megabytes(s.idle.rss_kib)),
            session.map_or_else(none, |s| {
                format!("**{}** ({} tools)", bytes(s.tools_list_bytes), s.tool_count)
            }),
            session.map_or_else(none, |s| {
                format!(
                    "{} (text {})",
                    bytes(s.call_bytes),
                    bytes(s.call_text_bytes)
                )
            }),
            if session.is_some() || !self.pipelined.is_empty() {
                failures.to_string()
            } else {
                none()
            },
        ]
    }
}

/// The names of the rows and the target for each (for scale-advisor).
fn measures(
    cold_runs: usize,
    calls: usize,
    pipelined: usize,
    runs: usize,
) -> Vec<(String, &'static str)> {
    vec![
        ("server (`serverInfo`)".into(), ""),
        (
            format!("cold start: spawn → `initialize` answer, median (min–p90) of {cold_runs}"),
            "≤ 5 ms",
        ),
        (
            format!(
                "tools/call round trip, sequential, p50 of {}",
                thousands(calls as u64)
            ),
            "≤ 60 µs",
        ),
        ("tools/call round trip, sequential, p99".into(), "≤ 150 µs"),
        ("tools/call round trip, sequential, p99.9".into(), ""),
        (
            format!(
                "tools/call pipelined on one connection ({} calls, median of {runs})",
                thousands(pipelined as u64)
            ),
            "≥ 100,000/s",
        ),
        (
            "answer bytes per second, pipelined (calls/s × answer size)".into(),
            "",
        ),
        ("server CPU per pipelined call (all threads)".into(), ""),
        (
            "peak RSS (VmHWM) under the pipelined load".into(),
            "≤ 10 MB",
        ),
        ("RSS after the handshake".into(), ""),
        ("tools/list response".into(), "≤ 16 KB"),
        ("tools/call response".into(), ""),
        ("failed or missing answers".into(), "0"),
    ]
}

/// Settings that name the rows.
#[derive(Debug, Clone, Copy)]
pub struct Counts {
    pub cold_runs: usize,
    pub calls: usize,
    pub pipelined: usize,
    pub pipelined_runs: usize,
}

/// One table: a row per measure, a column per server.
pub fn table(figures: &[Figures], counts: &Counts) -> String {
    let mut out = String::new();
    let _ = write!(out, "| measure | target |");
    for f in figures {
        let _ = write!(out, " {} |", f.label);
    }
    out.push_str("\n|---|---|");
    for _ in figures {
        out.push_str("---|");
    }
    out.push('\n');
    let columns: Vec<Vec<String>> = figures.iter().map(Figures::rows).collect();
    for (i, (name, target)) in measures(
        counts.cold_runs,
        counts.calls,
        counts.pipelined,
        counts.pipelined_runs,
    )
    .into_iter()
    .enumerate()
    {
        let _ = write!(out, "| {name} | {target} |");
        for column in &columns {
            let _ = write!(out, " {} |", column[i]);
        }
        out.push('\n');
    }
    out.push('\n');
    for f in figures {
        let _ = writeln!(
            out,
            "- {}: `{}`, calling {}",
            f.label, f.command, f.workload
        );
        for problem in &f.problems {
            let _ = writeln!(out, "  - not measured: {problem}");
        }
    }
    out
}

/// The machine and the date, for the line above a table.
pub fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines().find_map(|l| {
                l.strip_prefix("model name")
                    .map(|m| m.trim_start_matches([' ', '\t', ':']).to_string())
            })
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map_or(0, usize::from);
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    format!("{cpu}, {cores} cores, Linux {}, {}", kernel.trim(), today())
}

/// CPU time counters of the whole machine from /proc/stat: (busy, total) in clock ticks.
fn machine_ticks() -> (u64, u64) {
    let stat = std::fs::read_to_string("/proc/stat").unwrap_or_default();
    let fields: Vec<u64> = stat
        .lines()
        .next()
        .unwrap_or("")
        .split_whitespace()
        .skip(1)
        .filter_map(|f| f.parse().ok())
        .collect();
    let total: u64 = fields.iter().take(8).sum();
    // idle and iowait are the 4th and 5th.
    let idle = fields.get(3).copied().unwrap_or(0) + fields.get(4).copied().unwrap_or(0);
    (total.saturating_sub(idle), total)
}

/// The share of the machine's CPU in use (0..=1) over `window`.
pub fn machine_busy(window: std::time::Duration) -> f64 {
    let (busy0, total0) = machine_ticks();
    std::thread::sleep(window);
    let (busy1, total1) = machine_ticks();
    let total = total1.saturating_sub(total0);
    if total == 0 {
        0.0
    } else {
        busy1.saturating_sub(busy0) as f64 / total as f64
    }
}

/// Waits, up to `patience`, until other work leaves the machine at least 90% idle, so that a
/// measurement does not share the cores with a build. Returns the last busy share seen.
pub fn wait_until_idle(patience: std::time::Duration) -> f64 {
    let start = std::time::Instant::now();
    let mut said = None;
    loop {
        let busy = machine_busy(std::time::Duration::from_millis(500));
        if busy <= 0.10 || start.elapsed() >= patience {
            return busy;
        }
        let waited = start.elapsed().as_secs() / 10;
        if said != Some(waited) {
            eprintln!(
                "mcp-load: the machine is {:.0}% busy; waiting for it to settle",
                busy * 100.0
            );
            said = Some(waited);
        }
    }
}

/// Today's date (UTC) as YYYY-MM-DD, from the civil-from-days algorithm.
fn today() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let z = (secs / 86_400) as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_by_nearest_rank() {
        let samples: Vec<Duration> = (1..=100).map(Duration::from_micros).collect();
        assert_eq!(percentile(&samples, 0.5), Some(Duration::from_micros(50)));
        assert_eq!(percentile(&samples, 0.99), Some(Duration::from_micros(99)));
        assert_eq!(percentile(&samples, 1.0), Some(Duration::from_micros(100)));
        assert_eq!(percentile(&[], 0.5), None);
    }

    #[test]
    fn groups_thousands() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(1_234_567), "1,234,567");
    }
}

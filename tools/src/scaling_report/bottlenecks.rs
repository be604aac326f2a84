//! Bottlenecks Identified: the findings of `diagnose_bottleneck`, each with its evidence.

use std::fmt::Write;

use super::roadmap::Growth;
use super::words::{capitalized, with_unit};
use crate::diagnose_bottleneck::{Diagnosis, Evidence, Observed, Severity};
use crate::numbers;

pub(super) fn show_evidence(e: &Evidence) -> String {
    match (&e.value, &e.comparison, e.threshold) {
        (Observed::Number(v), Some(op), Some(t)) => format!(
            "{} {} {op} {}",
            e.metric,
            with_unit(&e.metric, *v),
            with_unit(&e.metric, t)
        ),
        (Observed::Number(v), _, _) => format!("{} {}", e.metric, with_unit(&e.metric, *v)),
        (Observed::Text(t), _, _) if e.metric == "symptoms" => format!("`{t}` reported"),
        // A list given (`shared_across_shards`) or a need stated (`needs_multi_region`).
        (Observed::Text(t), _, _) => format!("`{}`: {t}", e.metric),
    }
}

fn severity_word(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical => "Critical",
        Severity::Warning => "Warning",
    }
}

pub(super) fn bottlenecks_section(
    diagnosis: &Diagnosis,
    metrics_given: bool,
    growth: Option<&Growth<'_>>,
) -> String {
    let mut out = findings(diagnosis, metrics_given, growth.is_some());
    if let Some(g) = growth {
        out.push_str(&ahead(g));
    }
    out
}

/// What crosses a line as load grows, after today's findings: a bottleneck of tomorrow is one
/// too, and the roadmap answers it.
fn ahead(growth: &Growth<'_>) -> String {
    let coming: Vec<String> = growth
        .roadmap
        .crossings
        .iter()
        .filter(|c| c.subject != "diagnosis")
        .map(|c| format!("- {} {}", capitalized(&c.event), numbers::in_month(c.month)))
        .collect();
    if coming.is_empty() {
        return format!("\nAhead: {}.\n", growth.no_step_reason());
    }
    format!(
        "\n**Ahead, as load grows {}** (each answered by a step of the roadmap, Recommended Architecture):\n\n{}\n",
        growth.rate_words(),
        coming.join("\n")
    )
}

/// Today's findings, each with its evidence.
fn findings(diagnosis: &Diagnosis, metrics_given: bool, growing: bool) -> String {
    let mut out = String::new();
    if diagnosis.findings.is_empty() {
        let stage = &diagnosis.current_stage;
        if metrics_given {
            let _ = writeln!(
                out,
                "No bottleneck{}: no metric crosses its threshold and no failure mode was reported, so the system is healthy at stage {} · {}{}.",
                if growing { " today" } else { "" },
                stage.number,
                stage.name,
                if growing { " for now" } else { "" }
            );
        } else {
            let _ = writeln!(
                out,
                "No bottleneck can be named without metrics: give p95_latency_ms, db_cpu_pct, db_read_load_pct, db_write_load_pct, cache_hit_rate_pct or replication_lag_ms in `system`."
            );
        }
        return out;
    }
    for f in &diagnosis.findings {
        let evidence: Vec<String> = f.evidence.iter().map(show_evidence).collect();
        let _ = writeln!(
            out,
            "- **{} · `{}`** ({}): {}. Evidence: {}.",
            severity_word(f.severity),
            f.id,
            f.layer,
            f.summary.trim_end_matches('.'),
            evidence.join("; ")
        );
    }
    out
}

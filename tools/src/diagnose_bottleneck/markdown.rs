//! The diagnosis in words: the one-line `summary` and the markdown answer (stage, next step,
//! findings with their evidence and fixes, the months at the given growth, sources).

use std::fmt::Write;

use super::{Diagnosis, Evidence, Finding, NextStage, Observed, Severity, StageBasis, Urgency};
use crate::markdown::sources;
use crate::numbers;

/// "1 critical, 2 warnings": the findings counted by severity, for the summaries.
pub(crate) fn finding_counts(findings: &[Finding]) -> String {
    let critical = findings
        .iter()
        .filter(|f| f.severity == Severity::Critical)
        .count();
    let warnings = findings.len() - critical;
    let mut counts = Vec::new();
    if critical > 0 {
        counts.push(format!("{critical} critical"));
    }
    if warnings > 0 {
        counts.push(format!(
            "{warnings} warning{}",
            if warnings == 1 { "" } else { "s" }
        ));
    }
    counts.join(", ")
}

/// "Stage 2 · Caching; 2 warnings, worst: high_latency (p95_latency_ms 350 > 200); next:
/// stage 3 · Read Replicas, add read_replicas."
pub(super) fn summary_of(d: &Diagnosis) -> String {
    let mut out = format!(
        "Stage {} · {}; ",
        d.current_stage.number, d.current_stage.name
    );
    if d.healthy {
        out.push_str("healthy: no metric crosses a threshold and no failure mode was reported");
    } else {
        out.push_str(&finding_counts(&d.findings));
        if let Some(worst) = d.findings.first() {
            let _ = write!(out, ", worst: {} (", worst.id);
            write_evidence_list(&mut out, &worst.evidence);
            out.push(')');
        }
    }
    match &d.next_stage {
        Some(next) => {
            let when = match next.urgency {
                Urgency::Now => "now",
                Urgency::Planned => "planned, from the user count alone",
            };
            let _ = write!(
                out,
                "; next ({when}): stage {} · {}, add {}.",
                next.number,
                next.name,
                next.add.join(", ")
            );
        }
        None => out.push_str("; no graduation trigger fired."),
    }
    crate::summary(out)
}

fn write_evidence(out: &mut String, evidence: &Evidence) {
    let _ = match (&evidence.value, &evidence.comparison, evidence.threshold) {
        (Observed::Number(v), Some(op), Some(t)) => {
            write!(
                out,
                "{} {} {op} {}",
                evidence.metric,
                numbers::exact(*v),
                numbers::exact(t)
            )
        }
        (Observed::Text(t), _, _) if evidence.metric == "symptoms" => {
            write!(out, "reported `{t}`")
        }
        (Observed::Text(t), _, _) => write!(out, "{}: {t}", evidence.metric),
        (Observed::Number(v), _, _) => {
            write!(out, "{} {}", evidence.metric, numbers::exact(*v))
        }
    };
}

/// The evidence of one finding, comma-separated.
fn write_evidence_list(out: &mut String, evidence: &[Evidence]) {
    for (i, item) in evidence.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        write_evidence(out, item);
    }
}

pub fn to_markdown(d: &Diagnosis) -> String {
    let mut out = String::with_capacity(4096);
    let basis = match d.stage_basis {
        StageBasis::Architecture => "from the architecture",
        StageBasis::Users => "from the user count",
        StageBasis::Default => "no architecture or users given",
    };
    let _ = writeln!(
        out,
        "## Stage {} · {} ({basis})\n",
        d.current_stage.number, d.current_stage.name
    );
    write_next_stage(&mut out, d.next_stage.as_ref());
    if d.healthy {
        let _ = writeln!(
            out,
            "Healthy: no metric crosses a threshold and no failure mode was reported."
        );
    } else {
        write_findings(&mut out, &d.findings);
    }
    write_growth(&mut out, d);
    sources(&mut out, &d.sources);
    out
}

/// "**Next: stage 3 · Read Replicas**, add `read_replicas` (now). Why: …", or that no
/// trigger fired.
fn write_next_stage(out: &mut String, next: Option<&NextStage>) {
    match next {
        Some(next) => {
            let _ = write!(out, "**Next: stage {} · {}**, add ", next.number, next.name);
            for (i, component) in next.add.iter().enumerate() {
                let _ = write!(out, "{}`{component}`", if i > 0 { ", " } else { "" });
            }
            let when = match next.urgency {
                Urgency::Now => "now",
                Urgency::Planned => "planned",
            };
            let _ = writeln!(out, " ({when}). Why: {}.\n", next.reason);
        }
        None => {
            let _ = writeln!(out, "No graduation trigger fired: stay at this stage.\n");
        }
    }
}

/// The findings as a table with their evidence, then what to do about each.
fn write_findings(out: &mut String, findings: &[Finding]) {
    let _ = writeln!(
        out,
        "| severity | finding | layer | evidence |\n|---|---|---|---|"
    );
    for f in findings {
        let severity = match f.severity {
            Severity::Critical => "CRITICAL",
            Severity::Warning => "warning",
        };
        let _ = write!(out, "| {severity} | `{}` | {} | ", f.id, f.layer);
        write_evidence_list(out, &f.evidence);
        out.push_str(" |\n");
    }
    let _ = writeln!(out, "\n### What to do\n");
    for f in findings {
        let _ = writeln!(
            out,
            "- **`{}`**: {}. Now: {}. Next: {}. Later: {}.",
            f.id,
            f.summary.trim_end_matches('.'),
            f.fixes.immediate.trim_end_matches('.'),
            f.fixes.short_term.trim_end_matches('.'),
            f.fixes.long_term.trim_end_matches('.')
        );
    }
}

/// With a growth rate: which findings turn critical when, and the headroom of the rest.
fn write_growth(out: &mut String, d: &Diagnosis) {
    let turning: Vec<String> = d
        .findings
        .iter()
        .filter_map(|f| {
            let m = f.months_to_critical?;
            Some(if m == 0.0 {
                format!("`{}` is critical now", f.id)
            } else {
                format!("`{}` turns critical {}", f.id, numbers::in_month(m))
            })
        })
        .collect();
    if !turning.is_empty() {
        let _ = writeln!(out, "\nAt this growth: {}.", turning.join("; "));
    }
    if let Some(headroom) = d.headroom.as_ref().filter(|h| !h.is_empty()) {
        let list: Vec<String> = headroom
            .iter()
            .map(|h| match h.months_to_warning {
                Some(m) => format!("`{}` warns {}", h.metric, numbers::in_month(m)),
                None => format!("`{}` never warns", h.metric),
            })
            .collect();
        let _ = writeln!(out, "\nHeadroom: {}.", list.join("; "));
    }
}

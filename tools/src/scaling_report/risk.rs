//! Risk Mitigation: each planned migration's risks with their mitigations, and the critical
//! findings with their fixes now, next and later.

use std::fmt::Write;

use super::roadmap::{Growth, step_name};
use super::words::capitalized;
use crate::diagnose_bottleneck::{Diagnosis, Severity};
use crate::numbers;
use crate::plan_migration::MigrationPlan;

pub(super) fn risk_section(
    diagnosis: &Diagnosis,
    migrations: &[MigrationPlan],
    growth: Option<&Growth<'_>>,
) -> String {
    let mut out = growth.map_or(String::new(), crossings);
    for m in migrations {
        for r in &m.risks {
            let _ = writeln!(
                out,
                "- **{}** ({}): {}.",
                r.risk.trim_end_matches('.'),
                m.kind.id(),
                r.mitigation.trim_end_matches('.')
            );
        }
    }
    for f in diagnosis
        .findings
        .iter()
        .filter(|f| f.severity == Severity::Critical)
    {
        let _ = writeln!(
            out,
            "- **Critical `{}`**: {}. Now: {}. Next: {}. Later: {}.",
            f.id,
            f.summary.trim_end_matches('.'),
            f.fixes.immediate.trim_end_matches('.'),
            f.fixes.short_term.trim_end_matches('.'),
            f.fixes.long_term.trim_end_matches('.')
        );
    }
    if let (true, Some(g)) = (out.is_empty(), growth) {
        let _ = writeln!(
            out,
            "No finding is critical, and {}: keep the alerts on the metrics above and run the report again when the growth rate changes.",
            g.no_step_reason()
        );
    }
    if out.is_empty() {
        let _ = writeln!(
            out,
            "No migration is planned and no finding is critical: nothing to mitigate beyond keeping the alerts on the metrics above."
        );
    }
    out
}

/// Every crossing within the horizon with the step that pre-empts it, or what already covers it.
fn crossings(growth: &Growth<'_>) -> String {
    let mut out = String::new();
    for crossing in &growth.roadmap.crossings {
        let when = numbers::in_month(crossing.month);
        let step = growth
            .roadmap
            .steps
            .iter()
            .enumerate()
            .find(|(_, s)| s.pre_empts.contains(crossing));
        let answer = match step {
            Some((i, s)) if s.late => format!(
                "step {}, {}, is late: started now it is done by {}, so hold the line meanwhile as its action says",
                i + 1,
                step_name(s),
                numbers::month(s.done_by_month)
            ),
            Some((i, s)) => format!(
                "step {}, {}, is done by {}, start {}",
                i + 1,
                step_name(s),
                numbers::month(s.done_by_month),
                numbers::month(s.start_month)
            ),
            None => "what it needs is already in place".to_string(),
        };
        let _ = writeln!(
            out,
            "- **{} {when}**: {answer}.",
            capitalized(&crossing.event)
        );
    }
    out
}

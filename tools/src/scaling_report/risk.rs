//! Risk Mitigation: each planned migration's risks with their mitigations, and the critical
//! findings with their fixes now, next and later.

use std::fmt::Write;

use crate::diagnose_bottleneck::{Diagnosis, Severity};
use crate::plan_migration::MigrationPlan;

pub(super) fn risk_section(diagnosis: &Diagnosis, migrations: &[MigrationPlan]) -> String {
    let mut out = String::new();
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
    if out.is_empty() {
        let _ = writeln!(
            out,
            "No migration is planned and no finding is critical: nothing to mitigate beyond keeping the alerts on the metrics above."
        );
    }
    out
}

//! Current Architecture Analysis: the stage and how it was told, the components in place,
//! assumed, absent or not stated, and the metrics and symptoms given.

use std::fmt::Write;

use serde_json::Value;

use super::architecture::Presence;
use super::words::{component_words, list_or_none, with_unit};
use crate::diagnose_bottleneck::{self, DiagnoseArgs, Diagnosis};
use crate::numbers;
use crate::stages::Stages;

pub(super) fn current_section(
    stages: &Stages,
    metrics: &[&str],
    args: &DiagnoseArgs,
    diagnosis: &Diagnosis,
    presences: &[(&'static str, Presence)],
) -> String {
    let mut out = String::new();
    let stage = &diagnosis.current_stage;
    let description = stages
        .iter()
        .find(|s| s.number == stage.number)
        .map(|s| s.architecture.clone())
        .unwrap_or_default();
    let basis = match diagnosis.stage_basis {
        diagnose_bottleneck::StageBasis::Architecture => "from the components in place",
        diagnose_bottleneck::StageBasis::Users => "from the user count",
        diagnose_bottleneck::StageBasis::Default => {
            "no components or users given, so the first stage"
        }
    };
    let _ = writeln!(
        out,
        "**Stage {} · {}** ({basis}): {}.\n",
        stage.number,
        stage.name,
        description.trim_end_matches('.')
    );
    let users = args.users.map_or("not given".to_string(), numbers::count);
    let regions = args.regions.map_or("not given".to_string(), numbers::count);
    let _ = writeln!(out, "- Users: {users}; regions: {regions}");
    let group = |wanted: fn(Presence) -> bool| -> Vec<String> {
        presences
            .iter()
            .filter(|(_, p)| wanted(*p))
            .map(|(c, _)| component_words(c))
            .collect()
    };
    let stated = group(|p| p == Presence::Stated(true));
    let implied = group(|p| p == Presence::Implied);
    let absent = group(|p| p == Presence::Stated(false));
    let unknown = group(|p| p == Presence::Unknown);
    let _ = writeln!(out, "- In place: {}", list_or_none(&stated));
    if !implied.is_empty() {
        let _ = writeln!(
            out,
            "- Assumed from the stage (not stated): {}",
            implied.join(", ")
        );
    }
    if !absent.is_empty() {
        let _ = writeln!(out, "- Not in place: {}", absent.join(", "));
    }
    if !unknown.is_empty() {
        let _ = writeln!(out, "- Not stated: {}", unknown.join(", "));
    }
    if args.needs_multi_region {
        let _ = writeln!(out, "- Needs several regions: yes");
    }
    let given = match serde_json::to_value(args) {
        Ok(Value::Object(map)) => map,
        _ => Default::default(),
    };
    let metrics: Vec<String> = metrics
        .iter()
        .filter_map(|m| {
            let value = given.get(*m)?.as_f64()?;
            Some(format!("`{m}` {}", with_unit(m, value)))
        })
        .collect();
    if metrics.is_empty() {
        let _ = writeln!(
            out,
            "- Metrics: none given (p95_latency_ms, db_cpu_pct, db_read_load_pct, cache_hit_rate_pct and the others of diagnose_bottleneck would show the bottlenecks)"
        );
    } else {
        let _ = writeln!(out, "- Metrics: {}", metrics.join(", "));
    }
    if !args.symptoms.is_empty() {
        let symptoms: Vec<String> = args
            .symptoms
            .iter()
            .map(|s| format!("`{}`", s.id()))
            .collect();
        let _ = writeln!(out, "- Symptoms reported: {}", symptoms.join(", "));
    }
    out
}

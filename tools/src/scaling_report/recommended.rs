//! Recommended Architecture: the target stage and why, its diagram, and the datastore
//! `choose_datastore` picks when requirements are given.

use std::fmt::Write;

use super::architecture::{Node, mermaid, plain_text};
use super::roadmap::{self, Growth};
use crate::choose_datastore::DatastoreChoice;
use crate::diagnose_bottleneck::{Diagnosis, StageRef};
use crate::stages::Stages;

fn datastore_text(choice: &DatastoreChoice) -> String {
    let store = &choice.recommendation;
    let mut text = format!(
        "**Datastore: {} ({})**: {}.",
        store.name,
        store.category.id(),
        store.best_for.trim_end_matches('.')
    );
    if !choice.decided_by.is_empty() {
        let decided: Vec<String> = choice.decided_by.iter().map(|d| format!("`{d}`")).collect();
        let _ = write!(text, " Decided by {}.", decided.join(", "));
    }
    if !choice.alternatives.is_empty() {
        let names: Vec<&str> = choice
            .alternatives
            .iter()
            .map(|a| a.name.as_str())
            .collect();
        let _ = write!(text, " Alternatives: {}.", names.join(", "));
    }
    for c in &choice.complements {
        let _ = write!(text, " Add {} for `{}`: {}.", c.name, c.need, c.role);
    }
    text
}

pub(super) fn recommended_section(
    stages: &Stages,
    diagnosis: &Diagnosis,
    target: &StageRef,
    diagram: &(Node, Vec<(String, String, &'static str)>),
    datastore: Option<&DatastoreChoice>,
    growth: Option<&Growth<'_>>,
) -> String {
    let mut out = String::new();
    let description = stages
        .iter()
        .find(|s| s.number == target.number)
        .map(|s| s.architecture.trim_end_matches('.').to_string())
        .unwrap_or_default();
    match (growth, &diagnosis.next_stage) {
        (Some(g), next) => {
            let _ = write!(
                out,
                "**Target: stage {} · {} by month {}**, the stage at the horizon: {description}.",
                target.number, target.name, g.forecast.horizon_months
            );
            match next {
                Some(next) if g.roadmap.diagnosis_set_aside => {
                    let _ = write!(
                        out,
                        " Today's diagnosis calls for stage {} · {}, but only for metrics that recover as the load falls: no step.",
                        next.number, next.name
                    );
                }
                Some(next) => {
                    let _ = write!(out, " Due today: {}.", next.reason.trim_end_matches('.'));
                }
                None => {}
            }
            let _ = writeln!(out, "\n\n### Roadmap\n\n{}", roadmap::to_markdown(g));
        }
        (None, Some(next)) => {
            let _ = writeln!(
                out,
                "**Target: stage {} · {}**: {description}. Why now: {}.\n",
                target.number,
                target.name,
                next.reason.trim_end_matches('.')
            );
        }
        (None, None) => {
            let _ = writeln!(
                out,
                "**Target: stay at stage {} · {}**: {description}. No graduation trigger fired.\n",
                target.number, target.name
            );
        }
    }
    let (root, extra) = diagram;
    let _ = writeln!(out, "```mermaid\n{}\n```\n", mermaid(root, extra));
    let _ = writeln!(
        out,
        "Plain-text view:\n\n```text\n{}\n```\n",
        plain_text(root, extra)
    );
    let _ = writeln!(
        out,
        "(new) marks what this change adds; (consider) what is worth adding at this stage."
    );
    match datastore {
        Some(choice) => {
            let _ = writeln!(out, "\n{}", datastore_text(choice));
        }
        None => {
            let _ = writeln!(
                out,
                "\nNo datastore recommendation: give `requirements` (the arguments of choose_datastore) to get one."
            );
        }
    }
    out
}

//! Where the system stands and where it goes next: the current stage from the architecture
//! (or the user count), and the next stage from the graduation triggers that fire there.

use knowledge::Facts;
use serde_json::{Map, Value};

use super::rules::{DiagnosisRules, Trigger};
use super::{ARCHITECTURE_FIELDS, DiagnoseArgs, NextStage, StageBasis, Urgency};
use crate::absent_numbers;
use crate::stages::Stage;

/// The current stage and what it was decided from: the architecture when any architecture
/// field is given (the highest matching row), else the user count, else stage 1. The URI of
/// the table that decided it, if any.
pub(super) fn current(
    rules: &DiagnosisRules,
    args: &DiagnoseArgs,
    arguments: &Map<String, Value>,
    facts: &dyn Facts,
) -> (u8, StageBasis, Option<String>) {
    if ARCHITECTURE_FIELDS
        .iter()
        .any(|f| arguments.get(*f).is_some_and(|v| !v.is_null()))
    {
        let stage = rules
            .architecture
            .iter()
            .filter(|r| r.when.holds(facts))
            .map(|r| r.stage)
            .max()
            .unwrap_or(1);
        (
            stage,
            StageBasis::Architecture,
            Some(rules.architecture_uri.clone()),
        )
    } else if let Some(users) = args.users {
        (
            rules.stages.for_users(users as f64),
            StageBasis::Users,
            Some(rules.stages_uri.clone()),
        )
    } else {
        (1, StageBasis::Default, None)
    }
}

/// The graduation triggers of `stage` that fire on these facts (findings included).
pub(super) fn triggered<'r>(
    rules: &'r DiagnosisRules,
    stage: u8,
    facts: &dyn Facts,
) -> Vec<&'r Trigger> {
    rules
        .triggers
        .iter()
        .filter(|t| t.from_stage == stage && t.when.holds(facts))
        .collect()
}

/// The numbers the triggers of `stage` that did not fire compare and `plain` lacks.
pub(super) fn untested<'r>(
    rules: &'r DiagnosisRules,
    stage: u8,
    facts: &dyn Facts,
    plain: &dyn Facts,
) -> Vec<&'r str> {
    let untriggered = rules
        .triggers
        .iter()
        .filter(|t| t.from_stage == stage && !t.when.holds(facts))
        .map(|t| &t.when);
    absent_numbers(untriggered, plain)
}

/// The stage the fired triggers lead to, what it adds beyond what is present, and why; none
/// when no trigger fired.
pub(super) fn next(
    rules: &DiagnosisRules,
    stage: u8,
    triggered: &[&Trigger],
    present: &[&str],
) -> Option<NextStage> {
    if triggered.is_empty() {
        return None;
    }
    // The target is the furthest stage a trigger asks for: the one that relieves the
    // binding constraint (write pressure skips the read-side stages).
    let target = triggered
        .iter()
        .map(|t| t.to_stage)
        .max()
        .unwrap_or(stage + 1);
    let next = rules.stages.get(target);
    let add = components_to_add(rules, triggered, present);
    let also_consider = worth_considering(next, present, &add);
    let urgency = if triggered.iter().any(|t| t.urgency == Urgency::Now) {
        Urgency::Now
    } else {
        Urgency::Planned
    };
    Some(NextStage {
        number: next.number,
        name: next.name.clone(),
        reason: reason(triggered, urgency),
        add,
        triggers: triggered.iter().map(|t| t.when.to_string()).collect(),
        also_consider,
        urgency,
    })
}

/// The components every fired trigger adds (its own, or its target stage's), less those
/// present, in trigger order.
fn components_to_add(
    rules: &DiagnosisRules,
    triggered: &[&Trigger],
    present: &[&str],
) -> Vec<String> {
    let mut add: Vec<String> = Vec::new();
    for trigger in triggered {
        let wanted = trigger
            .add
            .as_ref()
            .unwrap_or(&rules.stages.get(trigger.to_stage).add);
        for component in wanted {
            if !present.contains(&component.as_str()) && !add.contains(component) {
                add.push(component.clone());
            }
        }
    }
    add
}

/// What the target stage brings but a trigger chose not to add stays worth considering.
fn worth_considering(next: &Stage, present: &[&str], add: &[String]) -> Vec<String> {
    let mut also_consider: Vec<String> = Vec::new();
    for component in next.add.iter().chain(&next.also_consider) {
        if !present.contains(&component.as_str())
            && !add.contains(component)
            && !also_consider.contains(component)
        {
            also_consider.push(component.clone());
        }
    }
    also_consider
}

/// The fired triggers' reasons in words; a move only the user count asks for says so.
fn reason(triggered: &[&Trigger], urgency: Urgency) -> String {
    let mut reason = triggered
        .iter()
        .map(|t| t.reason.as_str())
        .collect::<Vec<_>>()
        .join("; ");
    if urgency == Urgency::Planned {
        reason.push_str(
            "; planned, not urgent: only the user count points here, no finding or stated need does",
        );
    }
    reason
}

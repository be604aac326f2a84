//! Stages: the boundaries of `scaling-stages#stages` the user count crosses as it grows with
//! load, each with the components that stage adds.

use knowledge::Comparison;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::MissingInput;
use crate::diagnose_bottleneck::{DiagnosisRules, StageRef};

use super::book::Book;
use super::growth::Growth;
use super::timeline::Timeline;

/// A stage boundary the user count crosses.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct StageCrossing {
    pub month: f64,
    pub stage: StageRef,
    /// Components that stage adds.
    pub add: Vec<String>,
}

/// Each later stage whose first user count is reached within the horizon; without `users`,
/// a note that it would add them.
pub(super) fn forecast(
    users: Option<u64>,
    rules: &DiagnosisRules,
    growth: &Growth,
    book: &mut Book<'_>,
    missing_inputs: &mut Vec<MissingInput>,
) -> Vec<StageCrossing> {
    let Some(users) = users else {
        missing_inputs.push(MissingInput {
            field: "users".into(),
            enables: "stages".into(),
            where_to_get_it: None,
        });
        return Vec::new();
    };
    let stages = &rules.stages;
    let users = users as f64;
    let now = stages.for_users(users);
    let mut crossings = Vec::new();
    for stage in stages.iter().filter(|s| s.number > now) {
        if let Some(month) = book.months(
            format!("stages.{}.month", stage.number),
            users,
            Comparison::AtLeast,
            stage.min_users,
            growth.rate,
        ) && month <= growth.horizon_months()
        {
            crossings.push(StageCrossing {
                month,
                stage: StageRef {
                    number: stage.number,
                    name: stage.name.clone(),
                },
                add: stage.add.clone(),
            });
        }
    }
    book.cite(rules.stages_uri().to_string());
    crossings
}

/// On the timeline: each stage entered, with what it adds.
pub(super) fn events(crossings: &[StageCrossing], timeline: &mut Timeline) {
    for s in crossings {
        timeline.add(
            Some(s.month),
            "users",
            format!(
                "users enter stage {} · {}{}",
                s.stage.number,
                s.stage.name,
                if s.add.is_empty() {
                    String::new()
                } else {
                    format!(" (add {})", s.add.join(", "))
                }
            ),
        );
    }
}

//! The tables `scaling_report` reads itself: the template's section titles, the cost and stage
//! tables, and the components each stage adds.

use knowledge::{Knowledge, KnowledgeError};

use super::SECTION_TITLES;
use super::roadmap::RoadmapRules;
use crate::costs::CostTable;
use crate::diagnose_bottleneck::COMPONENTS;
use crate::stages::Stages;

pub(super) struct Addition {
    pub(super) component: String,
    pub(super) purpose: String,
    pub(super) when_to_add: String,
}

/// The tables `scaling_report` reads itself, once: the sections, the cost table and the stage
/// table (whose bands and ranges it quotes as `plan_capacity` and `diagnose_bottleneck` do), and
/// the components each stage adds.
pub struct ReportTemplate {
    pub(super) titles: Vec<String>,
    pub(super) sections_uri: String,
    pub(super) costs: CostTable,
    pub(super) stages: Stages,
    pub(super) additions: Vec<Addition>,
    pub(super) additions_uri: String,
    pub(super) roadmap: RoadmapRules,
}

impl ReportTemplate {
    pub(crate) fn load(knowledge: &Knowledge) -> Result<Self, KnowledgeError> {
        let table = knowledge.table("report-template", "sections")?;
        table.require_columns(&["order", "title", "contents"])?;
        let mut titles = Vec::new();
        for row in table.rows() {
            let order = row.integer("order")?;
            if order != titles.len() as u64 + 1 {
                return Err(row.error(format!(
                    "sections must be numbered 1 to 7 in order; expected {}",
                    titles.len() + 1
                )));
            }
            titles.push(row.required("title")?.to_string());
        }
        if titles != SECTION_TITLES {
            return Err(table.error(format!(
                "the report has exactly the sections {}",
                SECTION_TITLES.join(", ")
            )));
        }
        let sections_uri = table.uri();

        let costs = CostTable::load(knowledge)?;
        let stages = Stages::load(knowledge)?;

        let table = knowledge.table("scaling-stages", "growth-key-additions")?;
        table.require_columns(&["component", "purpose", "when_to_add"])?;
        let mut additions = Vec::new();
        for row in table.rows() {
            let component = row.required("component")?;
            if !COMPONENTS.contains(&component) {
                return Err(row.error(format!(
                    "unknown component `{component}` (known: {})",
                    COMPONENTS.join(", ")
                )));
            }
            additions.push(Addition {
                component: component.to_string(),
                purpose: row.required("purpose")?.to_string(),
                when_to_add: row.required("when_to_add")?.to_string(),
            });
        }

        Ok(Self {
            titles,
            sections_uri,
            costs,
            stages,
            additions_uri: table.uri(),
            additions,
            roadmap: RoadmapRules::load(knowledge)?,
        })
    }
}

//! The tables `scaling_report` reads itself: the template's section titles, the cost and stage
//! tables, and the components each stage adds.

use knowledge::{Knowledge, KnowledgeError};

use super::SECTION_TITLES;
use super::roadmap::RoadmapRules;
use crate::choose_datastore::Category;
use crate::costs::CostTable;
use crate::stages::{self, Stages};

/// A component the recommended datastore provides itself: with a store of `category`, the
/// report proposes `with` where the next stage would add `replaces` (a row of
/// `report-template#components-the-datastore-provides`).
pub(super) struct ProvidedByStore {
    pub(super) category: String,
    pub(super) replaces: String,
    pub(super) with: String,
    pub(super) reason: String,
}

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
    pub(super) provided_by_store: Vec<ProvidedByStore>,
    pub(super) provided_by_store_uri: String,
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
            let component = stages::component(&row, "component")?;
            additions.push(Addition {
                component: component.to_string(),
                purpose: row.required("purpose")?.to_string(),
                when_to_add: row.required("when_to_add")?.to_string(),
            });
        }

        let additions_uri = table.uri();

        let table = knowledge.table("report-template", "components-the-datastore-provides")?;
        table.require_columns(&["category", "replaces", "with", "reason", "source"])?;
        let mut provided_by_store = Vec::new();
        for row in table.rows() {
            let category = row.one_of("category", &Category::ALL.map(Category::id))?;
            let [replaces, with] =
                ["replaces", "with"].map(|column| stages::component(&row, column));
            let (replaces, with) = (replaces?, with?);
            provided_by_store.push(ProvidedByStore {
                category: category.to_string(),
                replaces: replaces.to_string(),
                with: with.to_string(),
                reason: row.required("reason")?.to_string(),
            });
        }
        let provided_by_store_uri = table.uri();

        Ok(Self {
            titles,
            sections_uri,
            costs,
            stages,
            additions_uri,
            additions,
            roadmap: RoadmapRules::load(knowledge)?,
            provided_by_store,
            provided_by_store_uri,
        })
    }
}

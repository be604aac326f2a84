//! Components to Add: the next stage's components that are not in place yet, then what is worth
//! considering there, each with why, how, and the `plan_migration` run that introduces it.

use std::fmt::Write;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::roadmap::{Growth, RoadmapStep};
use super::template::ReportTemplate;
use super::words::{capitalized, component_words, lowercase_first};
use crate::choose_datastore::DatastoreChoice;
use crate::diagnose_bottleneck::Diagnosis;
use crate::markdown::push_unique;
use crate::numbers;
use crate::plan_migration::{self, MigrationArgs, MigrationKind, MigrationPlan};
use crate::{Advisor, ArgError};

/// Whether a component is part of the next stage or only worth considering there.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Add,
    Consider,
}

/// A component to introduce, with why and how.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ComponentToAdd {
    /// cache, cdn, load_balancer, read_replicas, job_queue, sharding, multi_region or
    /// distributed_database.
    pub component: String,
    /// `add`: the next stage's own component; `consider`: suggested at that stage.
    pub role: Role,
    /// Why, from the stage's triggers and the component's purpose (`detail: full`; the
    /// Components to Add section says it in concise).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub why: String,
    /// How it is introduced (`detail: full`; also in the Components to Add section).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub how: String,
    /// The migration that introduces it, when it moves data.
    pub migration: Option<MigrationKind>,
}

/// The components to add and the migrations that introduce them, in order.
pub(super) struct Components {
    pub(super) to_add: Vec<ComponentToAdd>,
    pub(super) migrations: Vec<MigrationPlan>,
}

/// A component the report proposes, with the reason that opens its `why`.
pub(super) struct Wanted {
    pub(super) component: String,
    pub(super) role: Role,
    pub(super) reason: String,
}

/// Without growth: the components of the next stage, then what to consider there.
pub(super) fn wanted_by_diagnosis(diagnosis: &Diagnosis) -> Vec<Wanted> {
    let Some(next) = &diagnosis.next_stage else {
        return Vec::new();
    };
    let add = next.add.iter().map(|c| Wanted {
        component: c.clone(),
        role: Role::Add,
        reason: format!("{}.", next.reason.trim_end_matches('.')),
    });
    let consider = next.also_consider.iter().map(|c| Wanted {
        component: c.clone(),
        role: Role::Consider,
        reason: format!("suggested at stage {} · {}.", next.number, next.name),
    });
    add.chain(consider).collect()
}

/// With growth: the roadmap's components in the order of its steps, then what the stages it
/// reaches suggest.
pub(super) fn wanted_by_roadmap(
    steps: &[RoadmapStep],
    consider: &[(String, String)],
) -> Vec<Wanted> {
    let add = steps.iter().flat_map(|step| {
        step.adds.iter().map(|c| Wanted {
            component: c.clone(),
            role: Role::Add,
            reason: format!(
                "Start {}, done by {}: {}.",
                numbers::month(step.start_month),
                numbers::month(step.done_by_month),
                step.because
            ),
        })
    });
    let consider = consider.iter().map(|(c, stage)| Wanted {
        component: c.clone(),
        role: Role::Consider,
        reason: format!("suggested at {stage}."),
    });
    add.chain(consider).collect()
}

/// `wanted` fitted to the recommended datastore: a component the store provides itself (a
/// distributed SQL store shards itself) becomes the component that brings the store, with the
/// row's reason, so that the report follows one path.
pub(super) fn fitted_to_datastore(
    wanted: Vec<Wanted>,
    datastore: Option<&DatastoreChoice>,
    catalog: &ReportTemplate,
    sources: &mut Vec<String>,
) -> Vec<Wanted> {
    let Some(datastore) = datastore else {
        return wanted;
    };
    let category = datastore.recommendation.category.id();
    wanted
        .into_iter()
        .map(|w| {
            let provided = catalog
                .provided_by_store
                .iter()
                .find(|p| p.category == category && p.replaces == w.component);
            // The component that brings the recommended store is the chosen path, not an
            // option beside it: a distributed SQL store recommended is a distributed database
            // added, not one to consider "instead" of the primary and its replicas.
            let brings_store = catalog
                .provided_by_store
                .iter()
                .any(|p| p.category == category && p.with == w.component);
            if brings_store && matches!(w.role, Role::Consider) {
                push_unique(sources, catalog.provided_by_store_uri.clone());
                let reason = format!(
                    "The recommended datastore, {}, is a {}: it takes the place of the database the system runs today.",
                    datastore.recommendation.name,
                    component_words(&w.component)
                );
                return Wanted {
                    component: w.component,
                    role: Role::Add,
                    reason,
                };
            }
            match provided {
                Some(p) => {
                    push_unique(sources, catalog.provided_by_store_uri.clone());
                    Wanted {
                        component: p.with.clone(),
                        role: w.role,
                        reason: format!(
                            "{} Instead of {}: {}.",
                            w.reason.trim_end(),
                            component_words(&p.replaces),
                            p.reason.trim_end_matches('.')
                        ),
                    }
                }
                None => w,
            }
        })
        .collect()
}

/// The components `wanted` that are not in place yet (`present` says which are), each once,
/// with why and how; a `plan_migration` run for each added component that moves data.
pub(super) fn components_to_add(
    advisor: &Advisor,
    catalog: &ReportTemplate,
    wanted: Vec<Wanted>,
    present: &dyn Fn(&str) -> bool,
    data_size_gb: Option<f64>,
    sources: &mut Vec<String>,
) -> Result<Components, ArgError> {
    let playbook = advisor.tables::<plan_migration::PlanMigration>()?;
    let mut components_to_add = Vec::new();
    let mut migrations = Vec::new();
    for Wanted {
        component,
        role,
        reason,
    } in wanted
    {
        let component = &component;
        if present(component)
            || components_to_add
                .iter()
                .any(|c: &ComponentToAdd| &c.component == component)
        {
            continue;
        }
        let change = playbook.component(component);
        let addition = catalog.additions.iter().find(|a| &a.component == component);
        let mut why = reason;
        if let Some(a) = addition {
            let _ = write!(
                why,
                " {}; add it when: {}.",
                a.purpose.trim_end_matches('.'),
                lowercase_first(a.when_to_add.trim_end_matches('.'))
            );
            push_unique(sources, catalog.additions_uri.clone());
        }
        let mut how = change.map_or(String::new(), |c| {
            format!("{}.", capitalized(c.how.trim_end_matches('.')))
        });
        let migration = change.and_then(|c| c.kind);
        if let Some(change) = change {
            push_unique(sources, playbook.components_uri.clone());
            for uri in &change.see {
                push_unique(sources, uri.clone());
            }
        }
        if let (Role::Add, Some(kind)) = (role, migration) {
            let plan = plan_migration::run(advisor, MigrationArgs::sized(kind, data_size_gb))?;
            let _ = write!(
                how,
                " Plan: {}, {} phases over {} weeks (Migration Plan below).",
                kind.id(),
                plan.phases.len(),
                plan.total_weeks
            );
            migrations.push(plan);
        }
        components_to_add.push(ComponentToAdd {
            component: component.clone(),
            role,
            why: capitalized(&why),
            how,
            migration,
        });
    }
    Ok(Components {
        to_add: components_to_add,
        migrations,
    })
}

pub(super) fn components_section(
    diagnosis: &Diagnosis,
    components: &[ComponentToAdd],
    growth: Option<&Growth<'_>>,
) -> String {
    let mut out = String::new();
    if let (true, Some(g)) = (components.is_empty(), growth) {
        if g.roadmap.steps.is_empty() {
            let _ = writeln!(
                out,
                "None within the horizon, since {}.",
                g.no_step_reason()
            );
        } else {
            let _ = writeln!(
                out,
                "None: the roadmap's {} step{} work{} with what is in place (Recommended Architecture).",
                g.roadmap.steps.len(),
                if g.roadmap.steps.len() == 1 { "" } else { "s" },
                if g.roadmap.steps.len() == 1 { "s" } else { "" }
            );
        }
        return out;
    }
    if components.is_empty() {
        let stage = &diagnosis.current_stage;
        match &diagnosis.next_stage {
            Some(next) => {
                let _ = writeln!(
                    out,
                    "None: the components of stage {} · {} are already in place.",
                    next.number, next.name
                );
            }
            None => {
                let _ = writeln!(
                    out,
                    "None: no graduation trigger of stage {} · {} fired, so no component is needed yet.",
                    stage.number, stage.name
                );
            }
        }
        if !diagnosis.findings.is_empty() {
            let _ = writeln!(
                out,
                "The findings above are fixed in place; their fixes are under Risk Mitigation and in the diagnosis."
            );
        }
        return out;
    }
    for (i, c) in components.iter().enumerate() {
        let role = match c.role {
            Role::Add => "add",
            Role::Consider => "consider",
        };
        let _ = writeln!(
            out,
            "{}. **{}** ({role})\n   - Why: {}\n   - How: {}",
            i + 1,
            component_words(&c.component),
            c.why,
            c.how
        );
    }
    out
}

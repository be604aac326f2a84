//! `scaling_report`: the seven-section scaling report of `report-template`, filled by running
//! the other advisors in-process: `diagnose_bottleneck` for the stage, the bottlenecks and the
//! next stage, `choose_datastore` and `plan_capacity` when their arguments are given, and
//! `plan_migration` for every component the next stage adds. This module only arranges their
//! results; every fact in the report comes from one of them or from a knowledge table.
//!
//! One room per section, each with its computation and its markdown: `current`,
//! `bottlenecks`, `recommended` (with the diagram of `architecture`), `components`,
//! `migration`, `cost`, `risk`; `advisors` runs the other tools, `summary` writes the answer's
//! first lines, and `run` below reads as the list of sections.

mod advisors;
mod architecture;
mod bottlenecks;
mod components;
mod cost;
mod current;
mod diagrams;
mod migration;
mod recommended;
mod risk;
mod roadmap;
mod summary;
mod template;
mod words;

use std::fmt::Write;

use knowledge::{Knowledge, KnowledgeError};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

pub use architecture::{Architecture, ArchitectureBox, ArchitectureLink, Mark, Shape};
pub use components::{ComponentToAdd, Role};
pub use cost::{CostAfterStep, CostImpact};
pub use roadmap::{Crossing, RoadmapStep};
pub use template::ReportTemplate;

use crate::choose_datastore::{self, DatastoreArgs, DatastoreChoice};
use crate::diagnose_bottleneck::{self, DiagnoseArgs, DiagnoseBottleneck, Diagnosis, StageRef};
use crate::forecast_growth::{Forecast, GrowthArgs};
use crate::markdown::{push_unique, sources};
use crate::plan_capacity::{self, CapacityPlan, PlanCapacityArgs};
use crate::plan_migration::{self, MigrationPlan};
use crate::{Advisor, ArgError, Detail, MissingInput, Tool, needs};

// The system to review and whatever else is known about it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ReportArgs {
    /// The system (`diagnose_bottleneck` arguments).
    pub system: DiagnoseArgs,
    /// Data needs (`choose_datastore` arguments); adds a pick.
    pub requirements: Option<DatastoreArgs>,
    /// Traffic (`plan_capacity` arguments); adds servers, cost.
    pub capacity: Option<PlanCapacityArgs>,
    /// Cost today, USD/month.
    #[schemars(range(min = 0))]
    pub current_monthly_cost_usd: Option<f64>,
    /// Growth as in `forecast_growth`: monthly_growth_pct or growth_multiple, over_months;
    /// horizon_months; lead_time_months.
    pub growth: Option<GrowthArgs>,
    /// concise (default) or full, also nested.
    #[serde(default)]
    pub detail: Detail,
}

/// One section of the report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ReportSection {
    /// One of the seven titles of `report-template#sections`, in order.
    pub title: String,
    /// The section's body as markdown (without its `##` heading); in concise without its
    /// mermaid diagrams, which the plain-text view and `architecture` draw.
    pub markdown: String,
}

/// The report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Report {
    /// The answer in one to three sentences: stage and target, the worst finding, what to add,
    /// the datastore and the cost band; with `growth`, the roadmap's first step and its month
    /// first.
    pub summary: String,
    /// Exactly seven: Current Architecture Analysis, Bottlenecks Identified, Recommended
    /// Architecture, Components to Add, Migration Plan, Cost Impact, Risk Mitigation.
    pub sections: Vec<ReportSection>,
    pub current_stage: StageRef,
    /// The next stage when a graduation trigger fired, else the current stage; with `growth`,
    /// the stage at the horizon when it is later.
    pub target_stage: StageRef,
    pub components_to_add: Vec<ComponentToAdd>,
    pub cost: CostImpact,
    /// With `growth`: the steps that get the system through the horizon, ordered by
    /// `start_month`, each done before the crossings it pre-empts (contract §10).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub roadmap: Option<Vec<RoadmapStep>>,
    /// The result of diagnose_bottleneck on `system`.
    pub diagnosis: Diagnosis,
    /// The result of choose_datastore; null without `requirements`.
    pub datastore: Option<DatastoreChoice>,
    /// The result of plan_capacity; null without `capacity`.
    pub capacity: Option<CapacityPlan>,
    /// The results of plan_migration for the components added, in order.
    pub migrations: Vec<MigrationPlan>,
    /// The result of forecast_growth on system's metrics and users; only with `growth`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub forecast: Option<Forecast>,
    /// The target architecture's boxes and arrows (the diagram of Recommended Architecture).
    pub architecture: Architecture,
    /// Arguments not given that would have added to the report, nested ones dotted
    /// (`system.db_cpu_pct`, `capacity.per_server_rps`).
    pub missing_inputs: Vec<MissingInput>,
    pub sources: Vec<String>,
}

/// The contract's section titles, in order; `report-template#sections` must hold exactly these.
pub const SECTION_TITLES: [&str; 7] = [
    "Current Architecture Analysis",
    "Bottlenecks Identified",
    "Recommended Architecture",
    "Components to Add",
    "Migration Plan",
    "Cost Impact",
    "Risk Mitigation",
];

/// Writes the report for `args`: the advisors' answers, with growth the roadmap, then each
/// section from them.
pub fn run(advisor: &Advisor, mut args: ReportArgs) -> Result<Report, ArgError> {
    let catalog = advisor.tables::<ScalingReport>()?;
    // Several regions asked of the datastore are asked of the architecture too: the diagnosis
    // then finds the need unmet, and the report adds `multi_region` as a component and a phase.
    if args.requirements.as_ref().is_some_and(|r| r.multi_region) {
        args.system.needs_multi_region = true;
    }
    let mut missing_inputs = Vec::new();
    let consulted = advisors::consult(advisor, &args, &mut missing_inputs)?;
    let advisors::Consulted {
        forecast,
        diagnosis,
        datastore,
        capacity,
    } = consulted;

    let current = diagnosis.current_stage.clone();
    let presences = architecture::presences(&catalog.stages, &args.system, current.number);
    let present = |c: &str| {
        presences
            .iter()
            .any(|(n, p)| *n == c && architecture::is_present(*p))
    };
    let mut sources = vec![catalog.sections_uri.clone()];
    for uri in &diagnosis.sources {
        push_unique(&mut sources, uri.to_string());
    }
    let roadmap = match &forecast {
        Some(forecast) => {
            let inputs = roadmap::RoadmapInputs {
                forecast,
                diagnosis: &diagnosis,
                system: &args.system,
                data_size_gb: data_size_gb(&args),
                stages: &catalog.stages,
                present: &present,
            };
            Some(roadmap::plan(
                advisor,
                &catalog.roadmap,
                &inputs,
                &mut sources,
            )?)
        }
        None => None,
    };
    let growth = forecast
        .as_ref()
        .zip(roadmap.as_ref())
        .map(|(forecast, roadmap)| roadmap::Growth { forecast, roadmap });
    let target = target_stage(catalog, &diagnosis, growth.as_ref());
    let target_min_users = catalog.stages.get(target.number).min_users;

    let wanted = match &growth {
        Some(g) => {
            components::wanted_by_roadmap(&g.roadmap.steps, &considered(catalog, &diagnosis, g))
        }
        None => components::wanted_by_diagnosis(&diagnosis),
    };
    let wanted = components::fitted_to_datastore(wanted, datastore.as_ref(), catalog, &mut sources);
    let components::Components {
        to_add: components_to_add,
        migrations,
    } = components::components_to_add(
        advisor,
        catalog,
        wanted,
        &present,
        data_size_gb(&args),
        &mut sources,
    )?;
    let diagram = architecture::diagram(
        &presences,
        &components_to_add,
        datastore.as_ref(),
        capacity.as_ref(),
    );
    cite_the_advisors(
        &mut sources,
        datastore.as_ref(),
        capacity.as_ref(),
        &migrations,
        forecast.as_ref(),
    );

    needs(
        &mut missing_inputs,
        args.current_monthly_cost_usd,
        "current_monthly_cost_usd",
        "cost.change_low_usd, cost.change_high_usd",
    );
    let cost = cost::cost_impact(
        catalog,
        &cost::CostInputs {
            args: &args,
            diagnosis: &diagnosis,
            capacity: capacity.as_ref(),
            target_min_users,
            target: &target,
            components: &components_to_add,
            growth: growth.as_ref(),
        },
        &mut sources,
    );

    let sections = write_sections(
        catalog,
        &Written {
            metrics: &advisor.tables::<DiagnoseBottleneck>()?.metrics(),
            args: &args,
            diagnosis: &diagnosis,
            presences: &presences,
            target: &target,
            diagram: &diagram,
            datastore: datastore.as_ref(),
            capacity: capacity.as_ref(),
            components: &components_to_add,
            migrations: &migrations,
            cost: &cost,
            growth: growth.as_ref(),
        },
    );

    let mut report = Report {
        summary: String::new(),
        sections,
        current_stage: current,
        target_stage: target,
        components_to_add,
        cost,
        roadmap: roadmap.map(|r| r.steps),
        diagnosis,
        datastore,
        capacity,
        migrations,
        forecast,
        architecture: architecture::structured(&diagram.0, &diagram.1),
        missing_inputs,
        sources,
    };
    report.summary = summary::summary_of(&report);
    Ok(report)
}

/// What the sections are written from.
struct Written<'a> {
    metrics: &'a [&'a str],
    args: &'a ReportArgs,
    diagnosis: &'a Diagnosis,
    presences: &'a [(&'static str, architecture::Presence)],
    target: &'a StageRef,
    diagram: &'a (architecture::Node, Vec<(String, String, &'static str)>),
    datastore: Option<&'a DatastoreChoice>,
    capacity: Option<&'a CapacityPlan>,
    components: &'a [ComponentToAdd],
    migrations: &'a [MigrationPlan],
    cost: &'a CostImpact,
    growth: Option<&'a roadmap::Growth<'a>>,
}

/// The seven sections in the template's order, each written by its room.
fn write_sections(catalog: &ReportTemplate, w: &Written<'_>) -> Vec<ReportSection> {
    let system = &w.args.system;
    let bodies = [
        current::current_section(&catalog.stages, w.metrics, system, w.diagnosis, w.presences),
        bottlenecks::bottlenecks_section(w.diagnosis, metrics_given(w.metrics, system), w.growth),
        recommended::recommended_section(
            &catalog.stages,
            w.diagnosis,
            w.target,
            w.diagram,
            w.datastore,
            w.growth,
        ),
        components::components_section(w.diagnosis, w.components, w.growth),
        migration::migration_section(w.migrations, w.components, w.capacity, w.growth),
        cost::cost_section(w.cost, w.growth),
        risk::risk_section(w.diagnosis, w.migrations, w.growth),
    ];
    catalog
        .titles
        .iter()
        .zip(bodies)
        .map(|(title, markdown)| ReportSection {
            title: title.clone(),
            markdown,
        })
        .collect()
}

/// The stage to aim for: the next stage when a graduation trigger fired, else today's; with
/// growth, the stage at the horizon (the last stage the users enter, and the stage that brings
/// each component the roadmap adds), when it is later.
fn target_stage(
    catalog: &ReportTemplate,
    diagnosis: &Diagnosis,
    growth: Option<&roadmap::Growth<'_>>,
) -> StageRef {
    // A next stage that only recovering metrics called for is not aimed at.
    let set_aside = growth.is_some_and(|g| g.roadmap.diagnosis_set_aside);
    let today = diagnosis.next_stage.as_ref().filter(|_| !set_aside).map_or(
        diagnosis.current_stage.clone(),
        |n| StageRef {
            number: n.number,
            name: n.name.clone(),
        },
    );
    let Some(g) = growth else {
        return today;
    };
    let horizon = f64::from(g.forecast.horizon_months);
    let entered = g
        .forecast
        .stages
        .iter()
        .filter(|s| s.month <= horizon)
        .map(|s| s.stage.number);
    let brought = g.roadmap.steps.iter().flat_map(|step| {
        step.adds.iter().filter_map(|c| {
            catalog
                .stages
                .iter()
                .find(|s| s.add.contains(c))
                .map(|s| s.number)
        })
    });
    match entered.chain(brought).max() {
        Some(number) if number > today.number => {
            let stage = catalog.stages.get(number);
            StageRef {
                number: stage.number,
                name: stage.name.clone(),
            }
        }
        _ => today,
    }
}

/// What the stages the roadmap reaches suggest besides their own components, with the stage
/// that suggests each.
fn considered(
    catalog: &ReportTemplate,
    diagnosis: &Diagnosis,
    growth: &roadmap::Growth<'_>,
) -> Vec<(String, String)> {
    let horizon = f64::from(growth.forecast.horizon_months);
    let reached = diagnosis.next_stage.iter().map(|n| n.number).chain(
        growth
            .forecast
            .stages
            .iter()
            .filter(|s| s.month <= horizon)
            .map(|s| s.stage.number),
    );
    let mut out = Vec::new();
    for number in reached {
        let stage = catalog.stages.get(number);
        for c in &stage.also_consider {
            out.push((
                c.clone(),
                format!("stage {} · {}", stage.number, stage.name),
            ));
        }
    }
    out
}

/// The sources of the other advisors' answers, after the report's own.
fn cite_the_advisors(
    sources: &mut Vec<String>,
    datastore: Option<&DatastoreChoice>,
    capacity: Option<&CapacityPlan>,
    migrations: &[MigrationPlan],
    forecast: Option<&Forecast>,
) {
    let cited = datastore
        .map(|d| &d.sources)
        .into_iter()
        .chain(capacity.map(|c| &c.sources))
        .chain(migrations.iter().map(|m| &m.sources))
        .chain(forecast.map(|f| &f.sources));
    for uris in cited {
        for uri in uris {
            push_unique(sources, uri.clone());
        }
    }
}

/// Whether any metric or symptom was given (else the bottlenecks section asks for them).
fn metrics_given(metrics: &[&str], system: &DiagnoseArgs) -> bool {
    let given = match serde_json::to_value(system) {
        Ok(Value::Object(map)) => metrics
            .iter()
            .any(|m| map.get(*m).is_some_and(|v| !v.is_null())),
        _ => false,
    };
    given || !system.symptoms.is_empty()
}

/// The whole report: a title, each section under its `##` heading, then the sources.
pub fn to_markdown(report: &Report) -> String {
    let mut out = String::new();
    let (now, target) = (&report.current_stage, &report.target_stage);
    if now.number == target.number {
        let _ = writeln!(
            out,
            "# Scaling report: stage {} · {}, no stage change",
            now.number, now.name
        );
    } else {
        let _ = writeln!(
            out,
            "# Scaling report: stage {} · {} → stage {} · {}",
            now.number, now.name, target.number, target.name
        );
    }
    for section in &report.sections {
        let _ = write!(
            out,
            "\n## {}\n\n{}",
            section.title,
            section.markdown.trim_end()
        );
        out.push('\n');
    }
    sources(&mut out, &report.sources);
    out
}

/// The `scaling_report` tool.
pub struct ScalingReport;

impl Tool for ScalingReport {
    // The nested results only by what the sections do not already state (issue 26): the
    // summaries, each bottleneck's explanation and evidence, the datastore's reasoning, the
    // capacity's workings and cost band, the migrations' risks and phase texts are in the
    // sections' markdown. What the page draws (boxes, findings by severity) stays.
    const CONCISE_OMITS: &'static [&'static str] = &[
        "diagnosis.summary",
        "diagnosis.stage_basis",
        "diagnosis.findings[].summary",
        "diagnosis.findings[].evidence",
        "diagnosis.findings[].fixes.short_term",
        "diagnosis.findings[].fixes.long_term",
        "diagnosis.next_stage.reason",
        "datastore.summary",
        "datastore.decided_by",
        "datastore.decision_path",
        "datastore.alternatives",
        "datastore.warnings",
        "datastore.traded_away",
        "capacity.summary",
        "capacity.workings",
        "capacity.defaults_applied",
        "capacity.stage",
        "capacity.monthly_cost_usd",
        "migrations[].summary",
        "migrations[].risks",
        "migrations[].shard_strategy.how",
        "migrations[].shard_strategy.tradeoffs",
        "migrations[].shard_strategy.shard_key_advice",
        "migrations[].phases[].steps",
        "migrations[].phases[].exit_criteria",
        "migrations[].phases[].rollback",
        "migrations[].phases[].start_week",
        "migrations[].phases[].end_week",
        "migrations[].phases[].adapted_for_downtime",
        "forecast.summary",
        "forecast.workings",
        // What the forecast's own concise leaves out, and the page does not draw.
        "forecast.chart",
        "forecast.timeline[].subject",
        "forecast.resources[].finding",
        "forecast.checkpoints[].values[].saturated?",
        "forecast.cost?",
        "forecast.defaults_applied?",
        // The datastore's row beyond its name and category, which the section states.
        "datastore.recommendation.best_for",
        "datastore.recommendation.throughput",
        "datastore.recommendation.consistency",
        "datastore.recommendation.cost",
        // Fields that say nothing when empty or null (the page reads them as absent).
        "datastore.excluded?",
        "migrations[].from?",
        "migrations[].to?",
        "migrations[].shard_strategy?",
        "migrations[].reshard?",
        "migrations[].data_to_copy_gb?",
        "migrations[].notes?",
        // Components to Add names each component's plan, and `migrations` holds it.
        "components_to_add[].migration",
        "architecture.boxes[].parent?",
        "architecture.boxes[].edge?",
        // A step's length is its done_by_month less its start_month.
        "roadmap[].duration_months",
        // Cost Impact states where the projection comes from and each step's cost; Migration
        // Plan whether it runs without downtime.
        "cost.projected_basis",
        "cost.after_steps",
        "cost.current_band.architecture",
        "cost.current_band.max_users",
        "cost.projected.architecture",
        "cost.projected.max_users",
        "migrations[].zero_downtime",
        "migrations[].total_weeks",
        "migrations[].phases[].name",
        "migrations[].shard_strategy.initial_map?",
        "migrations[].copy_time?",
        "migrations[].pair_notes?",
    ];
    // The page shows each finding's first fix; past the budget, the last findings' go.
    const CONCISE_BUDGET: Option<crate::Budget> = Some(crate::Budget {
        max_bytes: 12_000,
        list: "diagnosis.findings",
        field: "fixes",
    });
    const NAME: &'static str = "scaling_report";
    const TITLE: &'static str = "Write a scaling report";
    const DESCRIPTION: &'static str = "Write a scaling report: stage, bottlenecks, target architecture, migration plan, cost, risks.";
    const OBSERVE: Option<crate::Fill> = Some(crate::Fill::Report);
    const NESTED: &'static [(&'static str, &'static str)] = &[
        ("system", "diagnose_bottleneck"),
        ("requirements", "choose_datastore"),
        ("capacity", "plan_capacity"),
    ];
    const NAMED_IN_DESCRIPTION: &'static [&'static str] = &["growth"];
    type Args = ReportArgs;
    type Output = Report;
    type Tables = ReportTemplate;

    fn load(knowledge: &Knowledge) -> Result<ReportTemplate, KnowledgeError> {
        ReportTemplate::load(knowledge)
    }

    fn run(advisor: &Advisor, args: ReportArgs) -> Result<Report, ArgError> {
        run(advisor, args)
    }

    fn to_markdown(output: &Report) -> String {
        to_markdown(output)
    }

    /// Each nested result in the report's detail. Concise also leaves out each component's
    /// why and how and the cost's justification: the sections say them.
    fn shape(output: &mut Report, detail: Detail) {
        diagnose_bottleneck::DiagnoseBottleneck::shape(&mut output.diagnosis, detail);
        if let Some(choice) = output.datastore.as_mut() {
            choose_datastore::ChooseDatastore::shape(choice, detail);
        }
        if let Some(plan) = output.capacity.as_mut() {
            plan_capacity::PlanCapacity::shape(plan, detail);
        }
        for plan in &mut output.migrations {
            plan_migration::PlanMigration::shape(plan, detail);
        }
        if !detail.is_full() {
            for component in &mut output.components_to_add {
                component.why.clear();
                component.how.clear();
            }
            output.cost.justification.clear();
            for section in &mut output.sections {
                section.markdown = diagrams::without_diagrams(&section.markdown);
            }
        }
    }
}

/// The data the migrations copy, GB: the size `requirements` give, so that a plan's copy phase
/// follows it.
fn data_size_gb(args: &ReportArgs) -> Option<f64> {
    args.requirements.as_ref().and_then(|r| r.data_size_gb)
}

//! `scaling_report`: the seven-section scaling report of `report-template`, filled by running
//! the other advisors in-process: `diagnose_bottleneck` for the stage, the bottlenecks and the
//! next stage, `choose_datastore` and `plan_capacity` when their arguments are given, and
//! `plan_migration` for every component the next stage adds. This file only arranges their
//! results; every fact in the report comes from one of them or from a knowledge table.

use std::fmt::Write;

use knowledge::{Knowledge, KnowledgeError};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::args::format_number;
use crate::calculator::show;
use crate::choose_datastore::{self, DatastoreArgs, DatastoreChoice};
use crate::costs::{CostBand, CostTable, usd};
use crate::diagnose_bottleneck::{
    self, COMPONENTS, DiagnoseArgs, DiagnoseBottleneck, Diagnosis, Evidence, Observed, Severity,
    StageRef,
};
use crate::forecast_growth::{self, Forecast, ForecastArgs, GrowthArgs};
use crate::markdown::{push_unique, sources};
use crate::plan_capacity::{self, CapacityPlan, CostBasis, CostRange, PlanCapacityArgs};
use crate::plan_migration::{self, MigrationArgs, MigrationKind, MigrationPlan, Phase};
use crate::stages::Stages;
use crate::{Advisor, ArgError, Detail, MissingInput, Tool, missing_input, needs};
use knowledge::grouped;

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
    /// The section's body as markdown (without its `##` heading).
    pub markdown: String,
}

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

/// Current against projected monthly cost.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct CostImpact {
    /// As given, US dollars per month.
    pub current_monthly_usd: Option<f64>,
    /// The cost band of today's user count, when `system.users` is given.
    pub current_band: Option<CostRange>,
    /// The cost band after the change, from `capacity-planning#cost-by-scale`.
    pub projected: CostRange,
    /// What the projection rests on (a user count, or the target stage).
    pub projected_basis: String,
    /// projected.low − current, with a current cost.
    pub change_low_usd: Option<f64>,
    /// projected.high − current, with a current cost and a bounded band.
    pub change_high_usd: Option<f64>,
    /// Why the change is worth its cost (`detail: full`; the Cost Impact section says it too).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub justification: String,
}

/// One box of the architecture diagram.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ArchitectureBox {
    pub id: String,
    pub label: String,
    pub shape: Shape,
    pub mark: Mark,
    /// The box this one hangs under (null for the users, the root).
    pub parent: Option<String>,
    /// The label of the arrow from the parent, if it has one.
    pub edge: Option<String>,
}

/// An arrow outside the tree (reads to the replicas, replication between regions).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ArchitectureLink {
    pub from: String,
    pub to: String,
    pub label: String,
}

/// The target architecture as boxes and arrows: the tree the Mermaid diagram of Recommended
/// Architecture is written from, for a client that draws it itself. Today's architecture is
/// its `existing` boxes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Architecture {
    /// Every box, parents before children, in the diagram's order.
    pub boxes: Vec<ArchitectureBox>,
    pub links: Vec<ArchitectureLink>,
}

/// The report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Report {
    /// The answer in one to three sentences: stage and target, the worst finding, what to add,
    /// the datastore and the cost band.
    pub summary: String,
    /// Exactly seven: Current Architecture Analysis, Bottlenecks Identified, Recommended
    /// Architecture, Components to Add, Migration Plan, Cost Impact, Risk Mitigation.
    pub sections: Vec<ReportSection>,
    pub current_stage: StageRef,
    /// The next stage when a graduation trigger fired, else the current stage.
    pub target_stage: StageRef,
    pub components_to_add: Vec<ComponentToAdd>,
    pub cost: CostImpact,
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

struct Addition {
    component: String,
    purpose: String,
    when_to_add: String,
}

/// The tables `scaling_report` reads itself, once: the sections, the cost table and the stage
/// table (whose bands and ranges it quotes as `plan_capacity` and `diagnose_bottleneck` do), and
/// the components each stage adds.
pub struct ReportTemplate {
    titles: Vec<String>,
    sections_uri: String,
    costs: CostTable,
    stages: Stages,
    additions: Vec<Addition>,
    additions_uri: String,
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
        })
    }
}

/// A nested tool's refusal, with the field path under the report's argument.
fn nested(prefix: &'static str) -> impl Fn(ArgError) -> ArgError {
    move |mut error| {
        if error.field == "arguments" {
            error.field = prefix.to_string();
        } else if !error.field.starts_with('(') {
            error.field = format!("{prefix}.{}", error.field);
        }
        error
    }
}

// ---------------------------------------------------------------------------------------------
// The architecture: what is there, what comes, and the diagram of the target.

/// How a component appears in the target architecture: `existing` boxes are today's
/// architecture, `new` ones what the change adds, `consider` ones worth adding at that stage.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Mark {
    Existing,
    New,
    Consider,
}

/// The flag of `diagnose_bottleneck` that says whether a component is in place.
fn flag_of(args: &DiagnoseArgs, component: &str) -> Option<bool> {
    match component {
        "cache" => args.has_cache,
        "read_replicas" => args.has_read_replicas,
        "sharding" => args.sharded,
        "load_balancer" => args.has_load_balancer,
        "cdn" => args.has_cdn,
        "job_queue" => args.has_queue,
        "multi_region" => args.regions.map(|r| r >= 2),
        _ => None,
    }
}

/// What is known about each component today.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Presence {
    /// Stated by the caller.
    Stated(bool),
    /// Not stated, but the stage implies it.
    Implied,
    /// Not stated and not implied.
    Unknown,
}

fn presence(stages: &Stages, args: &DiagnoseArgs, stage: u8, component: &str) -> Presence {
    if let Some(stated) = flag_of(args, component) {
        return Presence::Stated(stated);
    }
    let implied = stages
        .iter()
        .filter(|s| s.number <= stage)
        .any(|s| s.add.iter().any(|c| c == component));
    if implied {
        Presence::Implied
    } else {
        Presence::Unknown
    }
}

fn is_present(p: Presence) -> bool {
    matches!(p, Presence::Stated(true) | Presence::Implied)
}

/// A box of the diagram and the boxes it leads to.
struct Node {
    id: String,
    label: String,
    shape: Shape,
    mark: Mark,
    children: Vec<(Option<&'static str>, Node)>,
}

/// How a box is drawn: the users, a service, or a store of data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Shape {
    Person,
    Box,
    Store,
}

impl Node {
    fn new(id: &str, label: impl Into<String>, shape: Shape, mark: Mark) -> Self {
        Self {
            id: id.to_string(),
            label: label.into(),
            shape,
            mark,
            children: Vec::new(),
        }
    }
    fn child(mut self, edge: Option<&'static str>, node: Node) -> Self {
        self.children.push((edge, node));
        self
    }
}

/// The target architecture: which components it has and how each is marked.
struct Target<'a> {
    marks: Vec<(&'static str, Mark)>,
    /// The recommended datastore, and whether it is a distributed SQL store (which labels the
    /// distributed database rather than the single-primary stores).
    store_name: Option<&'a str>,
    store_is_distributed: bool,
    servers: Option<u64>,
    replicas: Option<u64>,
}

impl Target<'_> {
    fn mark(&self, component: &str) -> Option<Mark> {
        self.marks
            .iter()
            .find(|(c, _)| *c == component)
            .map(|(_, m)| *m)
    }
    fn has(&self, component: &str) -> bool {
        self.mark(component).is_some()
    }
}

/// Inside a region that is itself new, `inherit` marks everything new but what is only
/// suggested.
fn pick(mark: Mark, inherit: Option<Mark>) -> Mark {
    match (mark, inherit) {
        (Mark::Consider, _) | (_, None) => mark,
        (_, Some(region)) => region,
    }
}

/// One region's stack: load balancer, application, cache, queue and data layer.
fn region_stack(
    target: &Target<'_>,
    prefix: &str,
    inherit: Option<Mark>,
    extra: &mut Vec<(String, String, &'static str)>,
) -> Node {
    let id = |name: &str| format!("{prefix}{name}");
    let store = |label: &str| match target.store_name {
        Some(name) if target.store_is_distributed == (label == "Distributed database") => {
            format!("{label}: {name}")
        }
        _ => label.to_string(),
    };
    let servers = match target.servers {
        Some(n) => format!("Application servers ×{n}"),
        None => "Application servers".to_string(),
    };
    let mut app = Node::new(
        &id("app"),
        servers,
        Shape::Box,
        pick(Mark::Existing, inherit),
    );
    if let Some(mark) = target.mark("cache") {
        app = app.child(
            None,
            Node::new(
                &id("cache"),
                "Cache (Redis or Memcached)",
                Shape::Store,
                pick(mark, inherit),
            ),
        );
    }
    if let Some(mark) = target.mark("job_queue") {
        let queue = Node::new(&id("queue"), "Job queue", Shape::Box, pick(mark, inherit)).child(
            None,
            Node::new(&id("workers"), "Workers", Shape::Box, pick(mark, inherit)),
        );
        app = app.child(Some("background jobs"), queue);
    }
    let replicas_label = match target.replicas {
        Some(n) => format!("Read replicas ×{n}"),
        None => "Read replicas".to_string(),
    };
    let distributed = target.mark("distributed_database");
    let data = if let Some(mark) = distributed.filter(|m| *m != Mark::Consider) {
        Node::new(
            &id("ddb"),
            store("Distributed database"),
            Shape::Store,
            pick(mark, inherit),
        )
    } else if let Some(mark) = target.mark("sharding") {
        let with_replicas = if target.has("read_replicas") {
            " + replicas"
        } else {
            ""
        };
        let mut router = Node::new(
            &id("router"),
            "Shard router (key → virtual shard → shard map)",
            Shape::Box,
            pick(mark, inherit),
        );
        for (n, label) in ["1", "2", "N"].into_iter().enumerate() {
            router = router.child(
                None,
                Node::new(
                    &id(&format!("shard{}", n + 1)),
                    store(&format!("Shard {label}{with_replicas}")),
                    Shape::Store,
                    pick(mark, inherit),
                ),
            );
        }
        router
    } else if let Some(mark) = target.mark("read_replicas") {
        extra.push((id("app"), id("replicas"), "reads"));
        Node::new(
            &id("primary"),
            store("Primary database (all writes)"),
            Shape::Store,
            pick(Mark::Existing, inherit),
        )
        .child(
            Some("replication"),
            Node::new(
                &id("replicas"),
                replicas_label,
                Shape::Store,
                pick(mark, inherit),
            ),
        )
    } else {
        Node::new(
            &id("db"),
            store("Database"),
            Shape::Store,
            pick(Mark::Existing, inherit),
        )
    };
    let edge = if target.has("read_replicas") && !target.has("sharding") {
        Some("writes")
    } else {
        None
    };
    app = app.child(edge, data);
    if let Some(Mark::Consider) = distributed {
        app = app.child(
            Some("or instead"),
            Node::new(
                &id("ddb"),
                store("Distributed database"),
                Shape::Store,
                Mark::Consider,
            ),
        );
    }
    match target.mark("load_balancer") {
        Some(mark) => {
            Node::new(&id("lb"), "Load balancer", Shape::Box, pick(mark, inherit)).child(None, app)
        }
        None => app,
    }
}

/// The target architecture as a tree from the users, plus the edges that are not part of it.
fn architecture(target: &Target<'_>) -> (Node, Vec<(String, String, &'static str)>) {
    let mut extra = Vec::new();
    let mut users = Node::new("users", "Users", Shape::Person, Mark::Existing);
    if let Some(mark) = target.mark("cdn") {
        users = users.child(
            Some("static assets"),
            Node::new("cdn", "CDN (edge caching)", Shape::Box, mark),
        );
    }
    match target.mark("multi_region") {
        Some(mark) => {
            let first = region_stack(target, "r1_", None, &mut extra);
            let second = region_stack(target, "r2_", Some(mark), &mut extra);
            let data_edge = if target
                .mark("distributed_database")
                .is_some_and(|m| m != Mark::Consider)
            {
                ("r1_ddb", "r2_ddb", "consensus replication")
            } else if target.has("sharding") {
                ("r1_router", "r2_router", "cross-region replication")
            } else if target.has("read_replicas") {
                ("r1_primary", "r2_primary", "cross-region replication")
            } else {
                ("r1_db", "r2_db", "cross-region replication")
            };
            extra.push((data_edge.0.into(), data_edge.1.into(), data_edge.2));
            let global = Node::new(
                "glb",
                "Global load balancer (GeoDNS or Anycast)",
                Shape::Box,
                mark,
            )
            .child(
                None,
                Node::new("region1", "Region 1", Shape::Box, Mark::Existing).child(None, first),
            )
            .child(
                None,
                Node::new("region2", "Region 2", Shape::Box, mark).child(None, second),
            );
            users = users.child(None, global);
        }
        None => {
            let stack = region_stack(target, "", None, &mut extra);
            users = users.child(None, stack);
        }
    }
    (users, extra)
}

fn suffix(mark: Mark) -> &'static str {
    match mark {
        Mark::Existing => "",
        Mark::New => " (new)",
        Mark::Consider => " (consider)",
    }
}

fn mermaid_node(node: &Node) -> String {
    let label = format!("{}{}", node.label, suffix(node.mark)).replace('"', "'");
    match node.shape {
        Shape::Person => format!("{}([\"{label}\"])", node.id),
        Shape::Box => format!("{}[\"{label}\"]", node.id),
        Shape::Store => format!("{}[(\"{label}\")]", node.id),
    }
}

fn mermaid_walk(node: &Node, lines: &mut Vec<String>, marked: &mut Vec<(Mark, String)>) {
    if node.mark != Mark::Existing {
        marked.push((node.mark, node.id.clone()));
    }
    for (edge, child) in &node.children {
        let arrow = match (child.mark, edge) {
            (Mark::Consider, Some(label)) => format!("-. {label} .->"),
            (Mark::Consider, None) => "-.->".to_string(),
            (_, Some(label)) => format!("-->|{label}|"),
            (_, None) => "-->".to_string(),
        };
        lines.push(format!("    {} {arrow} {}", node.id, mermaid_node(child)));
        mermaid_walk(child, lines, marked);
    }
}

/// The tree as a Mermaid flowchart, new boxes highlighted and suggested ones dashed.
fn mermaid(root: &Node, extra: &[(String, String, &'static str)]) -> String {
    let mut lines = vec![
        "flowchart TD".to_string(),
        format!("    {}", mermaid_node(root)),
    ];
    let mut marked = Vec::new();
    mermaid_walk(root, &mut lines, &mut marked);
    for (from, to, label) in extra {
        lines.push(format!("    {from} -.->|{label}| {to}"));
    }
    for (mark, class) in [(Mark::New, "new"), (Mark::Consider, "consider")] {
        let ids: Vec<&str> = marked
            .iter()
            .filter(|(m, _)| *m == mark)
            .map(|(_, id)| id.as_str())
            .collect();
        if !ids.is_empty() {
            lines.push(format!("    class {} {class}", ids.join(",")));
        }
    }
    lines.push("    classDef new fill:#e6f4ea,stroke:#1e8e3e,stroke-width:2px".into());
    lines.push("    classDef consider stroke-dasharray:5 5".into());
    lines.join("\n")
}

fn text_walk(node: &Node, prefix: &str, lines: &mut Vec<String>) {
    let count = node.children.len();
    for (i, (edge, child)) in node.children.iter().enumerate() {
        let last = i + 1 == count;
        let branch = if last { "└─ " } else { "├─ " };
        let edge = edge.map(|e| format!("[{e}] ")).unwrap_or_default();
        lines.push(format!(
            "{prefix}{branch}{edge}{}{}",
            child.label,
            suffix(child.mark)
        ));
        let deeper = format!("{prefix}{}", if last { "   " } else { "│  " });
        text_walk(child, &deeper, lines);
    }
}

/// The label of box `id`, with its region when the diagram has several.
fn label_of(node: &Node, id: &str) -> Option<String> {
    if node.id == id {
        return Some(match id.split_once('_') {
            Some((region, _)) if region.starts_with('r') => {
                format!("{} in region {}", node.label, &region[1..])
            }
            _ => node.label.clone(),
        });
    }
    node.children
        .iter()
        .find_map(|(_, child)| label_of(child, id))
}

fn boxes_walk(node: &Node, boxes: &mut Vec<ArchitectureBox>) {
    for (edge, child) in &node.children {
        boxes.push(ArchitectureBox {
            id: child.id.clone(),
            label: child.label.clone(),
            shape: child.shape,
            mark: child.mark,
            parent: Some(node.id.clone()),
            edge: edge.map(str::to_string),
        });
        boxes_walk(child, boxes);
    }
}

/// The tree as a list of boxes and arrows, for the structured result.
fn structured(root: &Node, extra: &[(String, String, &'static str)]) -> Architecture {
    let mut boxes = vec![ArchitectureBox {
        id: root.id.clone(),
        label: root.label.clone(),
        shape: root.shape,
        mark: root.mark,
        parent: None,
        edge: None,
    }];
    boxes_walk(root, &mut boxes);
    let links = extra
        .iter()
        .map(|(from, to, label)| ArchitectureLink {
            from: from.clone(),
            to: to.clone(),
            label: label.to_string(),
        })
        .collect();
    Architecture { boxes, links }
}

/// The tree as indented plain text, for clients that do not draw Mermaid.
fn plain_text(root: &Node, extra: &[(String, String, &'static str)]) -> String {
    let mut lines = vec![root.label.clone()];
    text_walk(root, "", &mut lines);
    for (from, to, label) in extra {
        if let (Some(from), Some(to)) = (label_of(root, from), label_of(root, to)) {
            lines.push(format!("also: {from} ⇢ [{label}] ⇢ {to}"));
        }
    }
    lines.join("\n")
}

// ---------------------------------------------------------------------------------------------
// The sections.

/// A metric's value with its unit, read from the contract's name suffixes.
fn with_unit(metric: &str, value: f64) -> String {
    let number = format_number(value);
    if metric.ends_with("_pct") {
        format!("{number}%")
    } else if metric.ends_with("_ms") {
        format!("{number} ms")
    } else {
        number
    }
}

fn component_words(component: &str) -> String {
    component.replace('_', " ")
}

fn list_or_none(items: &[String]) -> String {
    if items.is_empty() {
        "none".to_string()
    } else {
        items.join(", ")
    }
}

fn current_section(
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
    let users = args.users.map_or("not given".to_string(), grouped);
    let regions = args
        .regions
        .map_or("not given".to_string(), |r| r.to_string());
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

fn show_evidence(e: &Evidence) -> String {
    match (&e.value, &e.comparison, e.threshold) {
        (Observed::Number(v), Some(op), Some(t)) => format!(
            "{} {} {op} {}",
            e.metric,
            with_unit(&e.metric, *v),
            with_unit(&e.metric, t)
        ),
        (Observed::Number(v), _, _) => format!("{} {}", e.metric, with_unit(&e.metric, *v)),
        (Observed::Text(t), _, _) => format!("`{t}` reported"),
    }
}

fn severity_word(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical => "Critical",
        Severity::Warning => "Warning",
    }
}

fn bottlenecks_section(diagnosis: &Diagnosis, metrics_given: bool) -> String {
    let mut out = String::new();
    if diagnosis.findings.is_empty() {
        let stage = &diagnosis.current_stage;
        if metrics_given {
            let _ = writeln!(
                out,
                "No bottleneck: no metric crosses its threshold and no failure mode was reported, so the system is healthy at stage {} · {}.",
                stage.number, stage.name
            );
        } else {
            let _ = writeln!(
                out,
                "No bottleneck can be named without metrics: give p95_latency_ms, db_cpu_pct, db_read_load_pct, db_write_load_pct, cache_hit_rate_pct or replication_lag_ms in `system`."
            );
        }
        return out;
    }
    for f in &diagnosis.findings {
        let evidence: Vec<String> = f.evidence.iter().map(show_evidence).collect();
        let _ = writeln!(
            out,
            "- **{} · `{}`** ({}): {}. Evidence: {}.",
            severity_word(f.severity),
            f.id,
            f.layer,
            f.summary.trim_end_matches('.'),
            evidence.join("; ")
        );
    }
    out
}

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

fn recommended_section(
    stages: &Stages,
    diagnosis: &Diagnosis,
    target: &StageRef,
    diagram: &(Node, Vec<(String, String, &'static str)>),
    datastore: Option<&DatastoreChoice>,
) -> String {
    let mut out = String::new();
    let description = stages
        .iter()
        .find(|s| s.number == target.number)
        .map(|s| s.architecture.trim_end_matches('.').to_string())
        .unwrap_or_default();
    match &diagnosis.next_stage {
        Some(next) => {
            let _ = writeln!(
                out,
                "**Target: stage {} · {}**: {description}. Why now: {}.\n",
                target.number,
                target.name,
                next.reason.trim_end_matches('.')
            );
        }
        None => {
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

fn components_section(diagnosis: &Diagnosis, components: &[ComponentToAdd]) -> String {
    let mut out = String::new();
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

fn weeks_label(start: u64, end: u64) -> String {
    if start == end {
        format!("Week {start}")
    } else {
        format!("Weeks {start}–{end}")
    }
}

/// The phase's steps spread over its weeks, in order: earlier weeks take the extra step when
/// they do not divide evenly; with fewer steps than weeks the last step runs to the end.
fn steps_by_week(phase: &Phase, offset: u64) -> Vec<(u64, u64, Vec<&str>)> {
    let weeks = phase.weeks.max(1) as usize;
    let steps: Vec<&str> = phase.steps.iter().map(String::as_str).collect();
    let first = offset + phase.start_week;
    let last = offset + phase.end_week;
    if steps.len() < weeks {
        return steps
            .iter()
            .enumerate()
            .map(|(i, step)| {
                let start = first + i as u64;
                let end = if i + 1 == steps.len() { last } else { start };
                (start, end, vec![*step])
            })
            .collect();
    }
    let (each, extra) = (steps.len() / weeks, steps.len() % weeks);
    let mut rest = steps.as_slice();
    (0..weeks)
        .map(|w| {
            let take = each + usize::from(w < extra);
            let (now, later) = rest.split_at(take.min(rest.len()));
            rest = later;
            let week = first + w as u64;
            (week, week, now.to_vec())
        })
        .collect()
}

fn migration_section(
    migrations: &[MigrationPlan],
    components: &[ComponentToAdd],
    capacity: Option<&CapacityPlan>,
) -> String {
    let mut out = String::new();
    if migrations.is_empty() {
        if components.is_empty() {
            let _ = writeln!(
                out,
                "No migration: the architecture does not change at this point."
            );
        } else {
            let _ = writeln!(
                out,
                "No data migration: the components to add are deployed and switched on as described above."
            );
        }
        return out;
    }
    let total: u64 = migrations.iter().map(|m| m.total_weeks).sum();
    let parts: Vec<String> = migrations
        .iter()
        .map(|m| format!("{} ({} weeks)", m.kind.id(), m.total_weeks))
        .collect();
    let _ = writeln!(
        out,
        "{total} weeks in all, without downtime: {}. Every phase has its rollback, and until the last one backing out loses no data.",
        parts.join(", then ")
    );
    // The caller's own figures size the replicas; without them the plan says which to measure.
    if migrations
        .iter()
        .any(|m| m.kind == MigrationKind::AddReadReplicas)
    {
        let sizing = capacity.and_then(|c| {
            let count = c.read_replicas?;
            let working = c.workings.iter().find(|w| w.quantity == "read_replicas")?;
            Some(format!(
                "Replicas with your figures: {} = {} → {count}.",
                working.formula, working.substituted
            ))
        });
        let _ = writeln!(
            out,
            "\n{}",
            sizing.unwrap_or_else(|| "Replicas: give `capacity.reads_per_sec` and `capacity.replica_read_capacity_per_sec` (measured) to size them.".into())
        );
    }
    let mut number = 0;
    let mut offset = 0;
    for m in migrations {
        for p in &m.phases {
            number += 1;
            let _ = writeln!(
                out,
                "\n### Phase {number}: {} ({}, {})\n\nGoal: {}.\n",
                p.name,
                m.kind.title().to_lowercase(),
                weeks_label(offset + p.start_week, offset + p.end_week),
                p.exit_criteria
            );
            for (start, end, steps) in steps_by_week(p, offset) {
                let _ = writeln!(out, "- {}: {}", weeks_label(start, end), steps.join("; "));
            }
            let _ = writeln!(out, "\nRollback: {}.", p.rollback);
        }
        offset += m.total_weeks;
    }
    out
}

fn band_text(range: &CostRange) -> String {
    match range.high {
        Some(high) => format!(
            "{} to {} per month ({})",
            usd(range.low as f64),
            usd(high as f64),
            range.architecture
        ),
        None => format!(
            "{} and more per month ({})",
            usd(range.low as f64),
            range.architecture
        ),
    }
}

/// The projected band less today's cost ("−$800 to +$1,200"), when today's cost is given.
fn change_text(cost: &CostImpact) -> Option<String> {
    let low = cost.change_low_usd?;
    Some(match cost.change_high_usd {
        Some(high) => format!("{} to {}", signed(low), signed(high)),
        None => format!("{} or more", signed(low)),
    })
}

fn signed(amount: f64) -> String {
    if amount >= 0.0 {
        format!("+{}", usd(amount))
    } else {
        usd(amount)
    }
}

struct CostInputs<'a> {
    args: &'a ReportArgs,
    diagnosis: &'a Diagnosis,
    capacity: Option<&'a CapacityPlan>,
    target_min_users: f64,
    target: &'a StageRef,
    components: &'a [ComponentToAdd],
}

fn cost_impact(
    catalog: &ReportTemplate,
    input: &CostInputs<'_>,
    sources: &mut Vec<String>,
) -> CostImpact {
    let system_users = input.args.system.users;
    let capacity_users = input.args.capacity.as_ref().and_then(|c| c.users);
    // Bands of a user count come from the cost table's one rule (`CostTable::band`), so this
    // report and plan_capacity quote one band.
    let stage_of = |users: u64| catalog.stages.for_users(users as f64);
    let current_band = system_users.map(|u| catalog.costs.band(u, stage_of(u)));
    let (projected, basis) = match (
        input.capacity.and_then(|c| c.monthly_cost_usd.clone()),
        capacity_users,
    ) {
        (Some(range), Some(users)) => (
            Some(range),
            format!("{} users (from `capacity.users`)", grouped(users)),
        ),
        _ => match system_users {
            Some(users) => (
                Some(catalog.costs.band(users, stage_of(users))),
                format!("{} users (from `system.users`)", grouped(users)),
            ),
            None => (
                catalog
                    .costs
                    .for_stage(input.target_min_users)
                    .map(CostBand::range),
                format!(
                    "a stage {} · {} system (from {} users)",
                    input.target.number,
                    input.target.name,
                    grouped(input.target_min_users as u64)
                ),
            ),
        },
    };
    // `ReportTemplate::load` requires a last band without bound, so every lookup finds one.
    let projected = projected.unwrap_or(CostRange {
        low: 0,
        high: None,
        architecture: String::new(),
        max_users: None,
        basis: CostBasis::Row,
    });
    push_unique(sources, catalog.costs.uri.clone());
    let current = input.args.current_monthly_cost_usd;
    let change_low_usd = current.map(|c| projected.low as f64 - c);
    let change_high_usd = current.and_then(|c| projected.high.map(|h| h as f64 - c));

    let mut reasons: Vec<String> = Vec::new();
    match &input.diagnosis.next_stage {
        Some(next) => {
            let added: Vec<String> = input
                .components
                .iter()
                .filter(|c| c.role == Role::Add)
                .map(|c| component_words(&c.component))
                .collect();
            reasons.push(format!(
                "the move to stage {} · {}{} answers what ended the current stage: {}",
                next.number,
                next.name,
                if added.is_empty() {
                    String::new()
                } else {
                    format!(" (adding {})", added.join(", "))
                },
                next.reason.trim_end_matches('.')
            ));
        }
        None => reasons.push(
            "no architecture change is proposed, so spending follows traffic within today's band"
                .into(),
        ),
    }
    let critical: Vec<String> = input
        .diagnosis
        .findings
        .iter()
        .filter(|f| f.severity == Severity::Critical)
        .map(|f| format!("`{}`", f.id))
        .collect();
    if !critical.is_empty() {
        reasons.push(format!(
            "left alone, the critical findings ({}) cost users and revenue now",
            critical.join(", ")
        ));
    }
    if let Some(plan) = input.capacity {
        let mut headroom = format!(
            "it buys headroom for {} requests per second",
            show(plan.required_rps)
        );
        if let Some(servers) = plan.servers {
            let _ = write!(headroom, " on {servers} application servers");
        }
        reasons.push(headroom);
    }
    let users = capacity_users.or(system_users).filter(|u| *u > 0);
    if let Some(users) = users {
        // Cents are the useful precision for a cost per user.
        let per_user = |amount: u64| match amount as f64 / users as f64 {
            x if x < 0.01 => "under $0.01".to_string(),
            x => usd(x),
        };
        let text = match projected.high {
            Some(high) => format!(
                "about {} to {} per user per month",
                per_user(projected.low),
                per_user(high)
            ),
            None => format!("from {} per user per month", per_user(projected.low)),
        };
        reasons.push(text);
    }
    let mut justification = reasons.join("; ");
    if let Some(first) = justification.get(..1) {
        justification = format!("{}{}", first.to_uppercase(), &justification[1..]);
    }
    CostImpact {
        current_monthly_usd: current,
        current_band,
        projected,
        projected_basis: basis,
        change_low_usd,
        change_high_usd,
        justification,
    }
}

fn cost_section(cost: &CostImpact) -> String {
    let mut out = String::new();
    match (cost.current_monthly_usd, &cost.current_band) {
        (Some(current), _) => {
            let _ = writeln!(out, "- Current: {} per month (given).", usd(current));
        }
        (None, Some(band)) => {
            let _ = writeln!(
                out,
                "- Current: not given (`current_monthly_cost_usd` would fill it); systems of this size typically cost {}.",
                band_text(band)
            );
        }
        (None, None) => {
            let _ = writeln!(
                out,
                "- Current: not given; `current_monthly_cost_usd` (or `system.users`) would fill it."
            );
        }
    }
    let _ = writeln!(
        out,
        "- Projected: {}, for {}.",
        band_text(&cost.projected),
        cost.projected_basis
    );
    if let Some(change) = change_text(cost) {
        let _ = writeln!(out, "- Change: {change} per month.");
    }
    let _ = writeln!(out, "- Return on investment: {}.", cost.justification);
    out
}

fn risk_section(diagnosis: &Diagnosis, migrations: &[MigrationPlan]) -> String {
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

// ---------------------------------------------------------------------------------------------
// Running the tool.

/// Writes the report for `args`.
pub fn run(advisor: &Advisor, args: ReportArgs) -> Result<Report, ArgError> {
    let catalog = advisor.tables::<ScalingReport>()?;
    let playbook = advisor.tables::<plan_migration::PlanMigration>()?;
    let mut missing_inputs = Vec::new();
    // The forecast first: its growth rate also gives the diagnosis its months to critical.
    let forecast = match needs(
        &mut missing_inputs,
        args.growth.as_ref(),
        "growth",
        "forecast",
    ) {
        Some(growth) => {
            let s = &args.system;
            Some(
                forecast_growth::run(
                    advisor,
                    ForecastArgs {
                        growth: growth.clone(),
                        db_cpu_pct: s.db_cpu_pct,
                        app_cpu_pct: s.app_cpu_pct,
                        db_read_load_pct: s.db_read_load_pct,
                        db_write_load_pct: s.db_write_load_pct,
                        pool_utilization_pct: s.pool_utilization_pct,
                        users: s.users,
                        current_monthly_cost_usd: args.current_monthly_cost_usd,
                        detail: args.detail,
                        ..ForecastArgs::default()
                    },
                )
                .map_err(nested("growth"))?,
            )
        }
        None => None,
    };
    // Each nested result in the report's own detail.
    let diagnosis = diagnose_bottleneck::run(
        advisor,
        DiagnoseArgs {
            monthly_growth_pct: args
                .system
                .monthly_growth_pct
                .or(forecast.as_ref().map(|f| f.monthly_growth_pct)),
            ..args.system.clone()
        },
    )
    .map_err(nested("system"))?;
    nest_missing(&mut missing_inputs, "system", &diagnosis.missing_inputs);
    let datastore = match needs(
        &mut missing_inputs,
        args.requirements.as_ref(),
        "requirements",
        "datastore",
    ) {
        Some(requirements) => Some(
            choose_datastore::run(advisor, requirements.clone()).map_err(nested("requirements"))?,
        ),
        None => None,
    };
    let capacity = match needs(
        &mut missing_inputs,
        args.capacity.as_ref(),
        "capacity",
        "capacity (servers, pool size, replicas, cost)",
    ) {
        Some(capacity) => {
            let plan = plan_capacity::run(advisor, capacity.clone()).map_err(nested("capacity"))?;
            nest_missing(&mut missing_inputs, "capacity", &plan.missing_inputs);
            Some(plan)
        }
        None => None,
    };

    let current = diagnosis.current_stage.clone();
    let target = diagnosis
        .next_stage
        .as_ref()
        .map_or(current.clone(), |n| StageRef {
            number: n.number,
            name: n.name.clone(),
        });
    let target_min_users = catalog
        .stages
        .iter()
        .find(|s| s.number == target.number)
        .map_or(0.0, |s| s.min_users);

    // The components a caller can state or a stage brings; the ones the advisor only derives
    // (functional partitioning, cells) are proposed, never asked about.
    let presences: Vec<(&'static str, Presence)> = COMPONENTS
        .iter()
        .filter(|c| {
            flag_of(&args.system, c).is_some()
                || diagnose_bottleneck::PRESENCE_FLAGS
                    .iter()
                    .any(|(_, p)| p == *c)
                || catalog
                    .stages
                    .iter()
                    .any(|s| s.add.iter().chain(&s.also_consider).any(|x| x == *c))
        })
        .map(|c| {
            (
                *c,
                presence(&catalog.stages, &args.system, current.number, c),
            )
        })
        .collect();
    let present = |c: &str| presences.iter().any(|(n, p)| *n == c && is_present(*p));

    let mut sources = vec![catalog.sections_uri.clone()];
    for uri in &diagnosis.sources {
        push_unique(&mut sources, uri.to_string());
    }

    // The components of the next stage that are not in place yet, then what to consider.
    let mut components_to_add = Vec::new();
    let mut migrations = Vec::new();
    if let Some(next) = &diagnosis.next_stage {
        let wanted = next
            .add
            .iter()
            .map(|c| (c, Role::Add))
            .chain(next.also_consider.iter().map(|c| (c, Role::Consider)));
        for (component, role) in wanted {
            if present(component)
                || components_to_add
                    .iter()
                    .any(|c: &ComponentToAdd| &c.component == component)
            {
                continue;
            }
            let change = playbook.component(component);
            let addition = catalog.additions.iter().find(|a| &a.component == component);
            let mut why = match role {
                Role::Add => format!("{}.", next.reason.trim_end_matches('.')),
                Role::Consider => format!("suggested at stage {} · {}.", next.number, next.name),
            };
            if let Some(a) = addition {
                let _ = write!(
                    why,
                    " {}; add it when: {}.",
                    a.purpose.trim_end_matches('.'),
                    lowercase_first(a.when_to_add.trim_end_matches('.'))
                );
                push_unique(&mut sources, catalog.additions_uri.clone());
            }
            let mut how = change.map_or(String::new(), |c| {
                let mut text = c.how.clone();
                if let Some(first) = text.get(..1) {
                    text = format!("{}{}", first.to_uppercase(), &text[1..]);
                }
                format!("{}.", text.trim_end_matches('.'))
            });
            let migration = change.and_then(|c| c.kind);
            if let Some(change) = change {
                push_unique(&mut sources, playbook.components_uri.clone());
                for uri in &change.see {
                    push_unique(&mut sources, uri.clone());
                }
            }
            if let (Role::Add, Some(kind)) = (role, migration) {
                let plan = plan_migration::run(advisor, MigrationArgs::of(kind))?;
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
    }

    // The target: what is there, plus what is added and what to consider.
    let mut marks: Vec<(&'static str, Mark)> = presences
        .iter()
        .filter(|(_, p)| is_present(*p))
        .map(|(c, _)| (*c, Mark::Existing))
        .collect();
    for c in &components_to_add {
        if let Some(name) = COMPONENTS.iter().find(|n| **n == c.component) {
            let mark = match c.role {
                Role::Add => Mark::New,
                Role::Consider => Mark::Consider,
            };
            marks.push((name, mark));
        }
    }
    let diagram_target = Target {
        marks,
        store_name: datastore.as_ref().map(|d| d.recommendation.name.as_str()),
        store_is_distributed: datastore.as_ref().is_some_and(|d| {
            d.recommendation.category == choose_datastore::Category::DistributedSql
        }),
        servers: capacity.as_ref().and_then(|c| c.servers),
        replicas: capacity.as_ref().and_then(|c| c.read_replicas),
    };
    let diagram = architecture(&diagram_target);

    if let Some(choice) = &datastore {
        for uri in &choice.sources {
            push_unique(&mut sources, uri.clone());
        }
    }
    if let Some(plan) = &capacity {
        for uri in &plan.sources {
            push_unique(&mut sources, uri.clone());
        }
    }
    for m in &migrations {
        for uri in &m.sources {
            push_unique(&mut sources, uri.clone());
        }
    }
    if let Some(f) = &forecast {
        for uri in &f.sources {
            push_unique(&mut sources, uri.clone());
        }
    }

    needs(
        &mut missing_inputs,
        args.current_monthly_cost_usd,
        "current_monthly_cost_usd",
        "cost.change_low_usd, cost.change_high_usd",
    );
    let cost = cost_impact(
        catalog,
        &CostInputs {
            args: &args,
            diagnosis: &diagnosis,
            capacity: capacity.as_ref(),
            target_min_users,
            target: &target,
            components: &components_to_add,
        },
        &mut sources,
    );

    let metrics = advisor.tables::<DiagnoseBottleneck>()?.metrics();
    let metrics_given = match serde_json::to_value(&args.system) {
        Ok(Value::Object(map)) => metrics
            .iter()
            .any(|m| map.get(*m).is_some_and(|v| !v.is_null())),
        _ => false,
    } || !args.system.symptoms.is_empty();
    let bodies = [
        current_section(
            &catalog.stages,
            &metrics,
            &args.system,
            &diagnosis,
            &presences,
        ),
        bottlenecks_section(&diagnosis, metrics_given),
        recommended_section(
            &catalog.stages,
            &diagnosis,
            &target,
            &diagram,
            datastore.as_ref(),
        ),
        components_section(&diagnosis, &components_to_add),
        migration_section(&migrations, &components_to_add, capacity.as_ref())
            + &growth_for_migration(forecast.as_ref()),
        cost_section(&cost) + &growth_for_cost(forecast.as_ref()),
        risk_section(&diagnosis, &migrations),
    ];
    let sections = catalog
        .titles
        .iter()
        .zip(bodies)
        .map(|(title, markdown)| ReportSection {
            title: title.clone(),
            markdown,
        })
        .collect();

    let mut report = Report {
        summary: String::new(),
        sections,
        current_stage: current,
        target_stage: target,
        components_to_add,
        cost,
        diagnosis,
        datastore,
        capacity,
        migrations,
        forecast,
        architecture: structured(&diagram.0, &diagram.1),
        missing_inputs,
        sources,
    };
    report.summary = summary_of(&report);
    Ok(report)
}

/// What breaks first as load grows, in which month, and when to start, as a sentence.
fn first_break_sentence(f: &Forecast) -> Option<String> {
    let first = f.first_to_break.as_ref()?;
    let at = |m: Option<f64>| match m {
        Some(0.0) => "now".to_string(),
        Some(m) => format!("in month {m:.1}"),
        None => "never".to_string(),
    };
    let mut text = format!(
        "At {}% growth a month, `{}` breaks first: warning {}",
        crate::calculator::show(f.monthly_growth_pct),
        first.name,
        at(first.months_to_warning)
    );
    if first.months_to_critical.is_some() {
        let _ = write!(text, ", critical {}", at(first.months_to_critical));
    }
    Some(text)
}

/// The Migration Plan's paragraph on growth: by when to start so that the change lands first.
fn growth_for_migration(forecast: Option<&Forecast>) -> String {
    let Some(f) = forecast else {
        return String::new();
    };
    match (first_break_sentence(f), f.first_to_break.as_ref()) {
        (Some(sentence), Some(first)) => {
            let start = match first.order_by_month {
                Some(0.0) => "start now".to_string(),
                Some(m) => format!("start by month {m:.1}"),
                None => format!(
                    "start before month {:.1}, its warning month",
                    first.months_to_warning.unwrap_or(0.0)
                ),
            };
            format!(
                "\n**Timing (forecast_growth):** {sentence}. With a lead time of {} months, {start} so that the change is in place before it turns critical.\n",
                crate::calculator::show(f.lead_time_months)
            )
        }
        _ => format!(
            "\n**Timing (forecast_growth):** at {}% growth a month nothing reaches a warning line within {} months.\n",
            crate::calculator::show(f.monthly_growth_pct),
            f.horizon_months
        ),
    }
}

/// The Cost Impact's paragraph on growth: the cost as load grows, and by when it is needed.
fn growth_for_cost(forecast: Option<&Forecast>) -> String {
    let Some(f) = forecast else {
        return String::new();
    };
    let mut out = String::from("\n**As load grows (forecast_growth):** ");
    if let Some(cost) = &f.cost {
        let _ = write!(
            out,
            "the monthly cost scales from {} to {} by month {}. ",
            usd(cost.current_monthly_cost_usd),
            usd(cost.at_horizon_usd),
            f.horizon_months
        );
    }
    match (first_break_sentence(f), f.first_to_break.as_ref()) {
        (Some(sentence), Some(first)) => {
            let _ = write!(out, "{sentence}");
            if let Some(m) = first.order_by_month {
                let _ = write!(out, "; the spend is needed by month {m:.1}");
            }
            out.push_str(".\n");
        }
        _ => out.push_str("Nothing reaches a warning line within the horizon.\n"),
    }
    out
}

/// A nested tool's missing inputs, under the report's argument that carries them.
fn nest_missing(missing: &mut Vec<MissingInput>, prefix: &str, nested: &[MissingInput]) {
    for m in nested {
        missing_input(missing, &format!("{prefix}.{}", m.field), &m.enables);
    }
}

/// "Stage 2 · Caching → stage 3 · Read Replicas: add read_replicas (add_read_replicas, 5
/// phases, 6 weeks). 3 warnings, worst: … Datastore: PostgreSQL. Cost: $10,000–30,000/month."
fn summary_of(report: &Report) -> String {
    let mut out = format!(
        "Stage {} · {}",
        report.current_stage.number, report.current_stage.name
    );
    if report.target_stage != report.current_stage {
        let _ = write!(
            out,
            " → stage {} · {}",
            report.target_stage.number, report.target_stage.name
        );
    }
    let added: Vec<String> = report
        .components_to_add
        .iter()
        .filter(|c| c.role == Role::Add)
        .map(|c| {
            match report
                .migrations
                .iter()
                .find(|m| Some(m.kind) == c.migration)
            {
                Some(plan) => format!(
                    "{} ({} weeks of {})",
                    c.component,
                    plan.total_weeks,
                    plan.kind.id()
                ),
                None => c.component.clone(),
            }
        })
        .collect();
    if added.is_empty() {
        out.push_str(": nothing to add.");
    } else {
        let _ = write!(out, ": add {}.", added.join(", "));
    }
    let d = &report.diagnosis;
    if d.healthy {
        out.push_str(" No finding.");
    } else {
        let _ = write!(
            out,
            " {}",
            crate::diagnose_bottleneck::finding_counts(&d.findings)
        );
        if let Some(worst) = d.findings.first() {
            let _ = write!(out, ", worst: {}", worst.id);
            if let Some(e) = worst.evidence.first() {
                let _ = write!(out, " ({})", show_evidence(e));
            }
        }
        out.push('.');
    }
    if let Some(store) = &report.datastore {
        let _ = write!(out, " Datastore: {}.", store.recommendation.name);
    }
    let _ = write!(out, " Cost: {}", band_text(&report.cost.projected));
    if let (Some(change), Some(today)) =
        (change_text(&report.cost), report.cost.current_monthly_usd)
    {
        let _ = write!(out, ", {change} against today's {}", usd(today));
    }
    out.push('.');
    crate::summary(out)
}

fn lowercase_first(text: &str) -> String {
    match text.get(..1) {
        Some(first) => format!("{}{}", first.to_lowercase(), &text[1..]),
        None => String::new(),
    }
}

fn capitalized(text: &str) -> String {
    match text.get(..1) {
        Some(first) => format!("{}{}", first.to_uppercase(), &text[1..]),
        None => String::new(),
    }
}

/// The whole report: a title, each section under its `##` heading, then the sources.
pub fn to_markdown(report: &Report) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# Scaling report: stage {} · {} → stage {} · {}",
        report.current_stage.number,
        report.current_stage.name,
        report.target_stage.number,
        report.target_stage.name
    );
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
        }
    }
}

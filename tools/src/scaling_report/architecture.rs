//! The architecture: which components are in place today, and the target as a tree of boxes,
//! drawn three ways from the one tree (Mermaid for the section, plain text beside it, boxes and
//! arrows in the structured result for a client that draws it itself).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::components::{ComponentToAdd, Role};
use crate::choose_datastore::{Category, DatastoreChoice};
use crate::diagnose_bottleneck::{COMPONENTS, DiagnoseArgs, PRESENCE_FLAGS};
use crate::plan_capacity::CapacityPlan;
use crate::stages::Stages;

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
pub(super) enum Presence {
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

pub(super) fn is_present(p: Presence) -> bool {
    matches!(p, Presence::Stated(true) | Presence::Implied)
}

/// A box of the diagram and the boxes it leads to.
pub(super) struct Node {
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
pub(super) fn mermaid(root: &Node, extra: &[(String, String, &'static str)]) -> String {
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
pub(super) fn structured(root: &Node, extra: &[(String, String, &'static str)]) -> Architecture {
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
pub(super) fn plain_text(root: &Node, extra: &[(String, String, &'static str)]) -> String {
    let mut lines = vec![root.label.clone()];
    text_walk(root, "", &mut lines);
    for (from, to, label) in extra {
        if let (Some(from), Some(to)) = (label_of(root, from), label_of(root, to)) {
            lines.push(format!("also: {from} ⇢ [{label}] ⇢ {to}"));
        }
    }
    lines.join("\n")
}

/// The components a caller can state or a stage brings, with what is known of each today; the
/// ones the advisor only derives (functional partitioning, cells) are proposed, never asked
/// about.
pub(super) fn presences(
    stages: &Stages,
    args: &DiagnoseArgs,
    stage: u8,
) -> Vec<(&'static str, Presence)> {
    COMPONENTS
        .iter()
        .filter(|c| {
            flag_of(args, c).is_some()
                || PRESENCE_FLAGS.iter().any(|(_, p)| p == *c)
                || stages
                    .iter()
                    .any(|s| s.add.iter().chain(&s.also_consider).any(|x| x == *c))
        })
        .map(|c| (*c, presence(stages, args, stage, c)))
        .collect()
}

/// The target: what is there, plus what is added and what to consider, with the datastore and
/// the counts the capacity plan sized.
pub(super) fn diagram(
    presences: &[(&'static str, Presence)],
    components: &[ComponentToAdd],
    datastore: Option<&DatastoreChoice>,
    capacity: Option<&CapacityPlan>,
) -> (Node, Vec<(String, String, &'static str)>) {
    let mut marks: Vec<(&'static str, Mark)> = presences
        .iter()
        .filter(|(_, p)| is_present(*p))
        .map(|(c, _)| (*c, Mark::Existing))
        .collect();
    for c in components {
        if let Some(name) = COMPONENTS.iter().find(|n| **n == c.component) {
            let mark = match c.role {
                Role::Add => Mark::New,
                Role::Consider => Mark::Consider,
            };
            marks.push((name, mark));
        }
    }
    let target = Target {
        marks,
        store_name: datastore.map(|d| d.recommendation.name.as_str()),
        store_is_distributed: datastore
            .is_some_and(|d| d.recommendation.category == Category::DistributedSql),
        servers: capacity.and_then(|c| c.servers),
        replicas: capacity.and_then(|c| c.read_replicas),
    };
    architecture(&target)
}

//! The stage table of `scaling-stages#stages`: the five stages with their user ranges and the
//! components each adds, read once and shared by `diagnose_bottleneck` (which stage a system is
//! in, what the next adds), `plan_capacity` (the stage of a user count) and `scaling_report`.
//! The contract's component names live here too, since every stage row is checked against them.

use knowledge::{Knowledge, KnowledgeError, RowRef};

/// The component names of the contract.
pub const COMPONENTS: [&str; 10] = [
    "cache",
    "cdn",
    "load_balancer",
    "read_replicas",
    "job_queue",
    "functional_partitioning",
    "sharding",
    "cell_isolation",
    "multi_region",
    "distributed_database",
];

/// Products a caller may name where a component is asked for, with the component each goes
/// under: the hint of a refused name (`redis-cluster`: did you mean `cache`?).
pub const COMPONENT_PRODUCTS: [(&str, &str); 10] = [
    ("redis", "cache"),
    ("memcached", "cache"),
    ("kafka", "job_queue"),
    ("rabbitmq", "job_queue"),
    ("nginx", "load_balancer"),
    ("haproxy", "load_balancer"),
    ("cloudfront", "cdn"),
    ("cloudflare", "cdn"),
    ("cockroachdb", "distributed_database"),
    ("spanner", "distributed_database"),
];

/// The schema of an argument that lists components: an `enum` of [`COMPONENTS`], so that the
/// names a tool accepts are advertised and enforced from the one list. The item carries
/// [`COMPONENT_PRODUCTS`] as `x-products` for the argument check's hint; the advertised schema
/// leaves that map out (`tools/list` is read on every session).
pub(crate) fn component_list_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    let products: serde_json::Map<String, serde_json::Value> = COMPONENT_PRODUCTS
        .iter()
        .map(|(product, component)| (product.to_string(), (*component).into()))
        .collect();
    schemars::json_schema!({
        "type": "array",
        "items": {"type": "string", "enum": COMPONENTS, "x-products": products},
    })
}

/// A stage row of `scaling-stages#stages`.
#[derive(Debug, Clone)]
pub(crate) struct Stage {
    pub number: u8,
    pub name: String,
    pub min_users: f64,
    pub max_users: Option<f64>,
    pub add: Vec<String>,
    pub also_consider: Vec<String>,
    pub architecture: String,
}

/// The five stages, in order (`load` checks there are exactly stages 1 to 5).
pub(crate) struct Stages {
    list: Vec<Stage>,
    /// `knowledge://scaling-stages#stages`, for the sources of an answer that used a stage.
    pub uri: String,
}

/// The `;`-list of `column`, each a component name of the contract.
pub(crate) fn components(row: &RowRef<'_>, column: &str) -> Result<Vec<String>, KnowledgeError> {
    let list = row.list(column)?;
    for name in &list {
        if !COMPONENTS.contains(&name.as_str()) {
            let hint = knowledge::closest(name, COMPONENTS)
                .map(|c| format!("; did you mean `{c}`?"))
                .unwrap_or_default();
            return Err(row.error(format!(
                "unknown component `{name}` in `{column}`{hint} (known: {})",
                COMPONENTS.join(", ")
            )));
        }
    }
    Ok(list)
}

/// The cell `column`, a component name of the contract.
pub(crate) fn component(row: &RowRef<'_>, column: &str) -> Result<&'static str, KnowledgeError> {
    let name = row.required(column)?;
    COMPONENTS
        .iter()
        .copied()
        .find(|c| *c == name)
        .ok_or_else(|| {
            let hint = knowledge::closest(name, COMPONENTS)
                .map(|c| format!("; did you mean `{c}`?"))
                .unwrap_or_default();
            row.error(format!(
                "unknown component `{name}` in `{column}`{hint} (known: {})",
                COMPONENTS.join(", ")
            ))
        })
}

pub(crate) fn stage_number(row: &RowRef<'_>, column: &str) -> Result<u8, KnowledgeError> {
    let n = row.integer(column)?;
    u8::try_from(n)
        .ok()
        .filter(|n| (1..=5).contains(n))
        .ok_or_else(|| row.error(format!("`{column}` must be a stage from 1 to 5, found {n}")))
}

impl Stages {
    pub(crate) fn load(knowledge: &Knowledge) -> Result<Self, KnowledgeError> {
        let table = knowledge.table("scaling-stages", "stages")?;
        table.require_columns(&[
            "stage",
            "name",
            "min_users",
            "max_users",
            "add",
            "also_consider",
            "architecture",
        ])?;
        let mut stages = Vec::new();
        for row in table.rows() {
            let number = stage_number(&row, "stage")?;
            if number as usize != stages.len() + 1 {
                return Err(row.error(format!(
                    "stages must be listed 1 to 5 in order; expected stage {}",
                    stages.len() + 1
                )));
            }
            stages.push(Stage {
                number,
                name: row.required("name")?.to_string(),
                min_users: row.number("min_users")?,
                max_users: row.optional_number("max_users")?,
                add: components(&row, "add")?,
                also_consider: components(&row, "also_consider")?,
                architecture: row.text("architecture")?.to_string(),
            });
        }
        if stages.len() != 5 {
            return Err(table.error(format!(
                "the stage table needs the 5 stages, found {}",
                stages.len()
            )));
        }
        Ok(Self {
            list: stages,
            uri: table.uri(),
        })
    }

    /// The stages in order, 1 to 5.
    pub(crate) fn iter(&self) -> std::slice::Iter<'_, Stage> {
        self.list.iter()
    }

    /// The stage `number`, clamped to 1 to 5.
    pub(crate) fn get(&self, number: u8) -> &Stage {
        // `load` guarantees stages 1..=5 in order.
        &self.list[usize::from(number.clamp(1, 5)) - 1]
    }

    /// The stage whose user range holds `users`.
    pub(crate) fn for_users(&self, users: f64) -> u8 {
        self.list
            .iter()
            .rev()
            .find(|s| users >= s.min_users && s.max_users.is_none_or(|max| users < max))
            .or_else(|| self.list.iter().rev().find(|s| users >= s.min_users))
            .map_or(1, |s| s.number)
    }
}

//! `plan_migration`: the phased plan for one structural change (switching databases, sharding,
//! resharding, adding a cache or read replicas, going multi-region). Phases, risks, the shard
//! strategies, the shard-key rules, the copy rates and formulas, the notes of each database pair
//! and which plan brings which component are tables of `migrations` and `sharding`. Two things
//! are computed: the reshard map, which spreads virtual shards evenly over the target shards
//! while moving the fewest (a search), and the copy time, which sizes the phase that copies and
//! any maintenance window from the data to copy and a rate (by the document's formulas).

use std::fmt::Write;

use knowledge::{Condition, Facts, Knowledge, KnowledgeError, RowRef, TableRef};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::calculator::{Figure, Formulas, Working, show};
use crate::decision;
use crate::diagnose_bottleneck::COMPONENTS;
use crate::markdown::{push_unique, sources};
use crate::numbers;
use crate::stages;
use crate::{Advisor, ArgError, Detail, MissingInput, Tool, Truncated, missing_input};

/// The virtual shard count when none is given: keys modulo 1024, then a shard map.
pub const DEFAULT_VIRTUAL_SHARDS: u64 = 1024;
/// The most virtual shards a plan computes a map for (2^20).
pub const MAX_VIRTUAL_SHARDS: u64 = 65_536;
/// The most physical shards a plan accepts.
pub const MAX_SHARDS: u64 = 4_096;

/// The change to plan.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum MigrationKind {
    DatabaseSwitch,
    FunctionalPartition,
    Shard,
    Reshard,
    AddCache,
    AddReadReplicas,
    MultiRegion,
}

impl MigrationKind {
    pub const ALL: [MigrationKind; 7] = [
        Self::DatabaseSwitch,
        Self::FunctionalPartition,
        Self::Shard,
        Self::Reshard,
        Self::AddCache,
        Self::AddReadReplicas,
        Self::MultiRegion,
    ];

    /// The contract's name of the kind (`add_read_replicas`).
    pub fn id(self) -> &'static str {
        match self {
            Self::DatabaseSwitch => "database_switch",
            Self::FunctionalPartition => "functional_partition",
            Self::Shard => "shard",
            Self::Reshard => "reshard",
            Self::AddCache => "add_cache",
            Self::AddReadReplicas => "add_read_replicas",
            Self::MultiRegion => "multi_region",
        }
    }

    /// The kind in words, for headings (`Add read replicas`).
    pub fn title(self) -> &'static str {
        match self {
            Self::DatabaseSwitch => "Database switch",
            Self::FunctionalPartition => "Functional partition",
            Self::Shard => "Shard",
            Self::Reshard => "Reshard",
            Self::AddCache => "Add cache",
            Self::AddReadReplicas => "Add read replicas",
            Self::MultiRegion => "Multi-region",
        }
    }

    /// The anchor of the kind's phase table in `migrations` (`add-read-replicas-phases`).
    fn phases_anchor(self) -> String {
        format!("{}-phases", self.id().replace('_', "-"))
    }

    fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.id() == text)
    }
}

fn yes() -> bool {
    true
}

// The change to plan and what is known about it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MigrationArgs {
    /// The change to plan.
    pub kind: MigrationKind,
    /// Current database, e.g. MySQL.
    pub from: Option<String>,
    /// Target database, e.g. PostgreSQL.
    pub to: Option<String>,
    /// No downtime. Default true.
    #[serde(default = "yes")]
    pub zero_downtime: bool,
    /// Data to copy, GB (0 to 10,000,000).
    #[schemars(range(min = 0, max = 10_000_000))]
    pub data_size_gb: Option<f64>,
    /// Your measured bulk-copy rate, GB/hour (0.01 to 100,000); default: the measured rate
    /// of migrations#copy-rates. Sizes the copy phase and any write pause.
    #[schemars(range(min = 0.01, max = 100_000))]
    pub copy_rate_gb_per_hour: Option<f64>,
    /// Shards today; required for reshard, 1 for shard.
    #[schemars(range(min = 1, max = 4096))]
    pub current_shards: Option<u64>,
    /// Shards wanted; required for reshard, 2+ for shard.
    #[schemars(range(min = 1, max = 4096))]
    pub target_shards: Option<u64>,
    /// Virtual shards. Default 1024.
    #[schemars(range(min = 1, max = 65536), extend("default" = 1024))]
    pub virtual_shards: Option<u64>,
    /// Queries scan key ranges (range sharding).
    #[serde(default)]
    pub needs_range_queries: bool,
    /// Data must stay in its region (GDPR).
    #[serde(default)]
    pub data_residency: bool,
    /// A few tenants far larger than others.
    #[serde(default)]
    pub large_tenants: bool,
    /// concise (default) or full.
    #[serde(default)]
    pub detail: Detail,
}

impl MigrationArgs {
    /// The plan of `kind` for `data_size_gb` of data, every other argument at its default
    /// (`scaling_report` passes the size its `requirements` give).
    pub fn sized(kind: MigrationKind, data_size_gb: Option<f64>) -> Self {
        Self {
            data_size_gb,
            ..Self::of(kind)
        }
    }

    /// The plan of `kind` with every other argument at its default.
    pub fn of(kind: MigrationKind) -> Self {
        Self {
            kind,
            from: None,
            to: None,
            zero_downtime: true,
            data_size_gb: None,
            copy_rate_gb_per_hour: None,
            current_shards: None,
            target_shards: None,
            virtual_shards: None,
            needs_range_queries: false,
            data_residency: false,
            large_tenants: false,
            detail: Detail::Concise,
        }
    }
}

/// One phase of a plan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Phase {
    pub id: String,
    pub name: String,
    /// What to do, in order.
    pub steps: Vec<String>,
    /// How to tell the phase is done.
    pub exit_criteria: String,
    /// How to back out of the phase.
    pub rollback: String,
    /// Planning estimate for a small team, weeks; the copy phase as long as the copy at the
    /// copy rate when that is longer; 0 for a phase that runs inside the maintenance window
    /// of the phase before it.
    pub weeks: u64,
    /// The plan's first week of this phase (phases run one after another from week 1; a
    /// 0-week phase shares the last week of the phase before it).
    pub start_week: u64,
    /// The plan's last week of this phase.
    pub end_week: u64,
    /// True when a maintenance window (`zero_downtime: false`) changed the phase.
    pub adapted_for_downtime: bool,
}

/// A risk of the change and how to contain it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Risk {
    pub risk: String,
    pub mitigation: String,
}

/// One sharding strategy with its trade-offs, from `sharding#strategies`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct StrategyTradeoff {
    /// hash, range, geographic or directory.
    pub strategy: String,
    pub how: String,
    pub pros: String,
    pub cons: String,
    /// The condition that picks it, as written (`needs_range_queries`, `otherwise`); absent
    /// when no rule picks it, and in `detail: concise`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chosen_when: Option<String>,
}

/// A rule for choosing the shard key.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ShardKeyAdvice {
    pub advice: String,
    pub why: String,
}

/// The strategy for a first sharding, the alternatives weighed, and the shard-key rules.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ShardStrategy {
    /// `directory` when a few tenants are far larger than the rest, else `range` when range
    /// queries are needed, else `geographic` when data residency is required, else `hash` (on
    /// virtual shards).
    pub strategy: String,
    /// Why this strategy: the arguments that decided it and what it buys.
    pub reason: String,
    /// How keys are assigned under this strategy.
    pub how: String,
    /// Every strategy of the document with its pros and cons, the chosen one included.
    pub tradeoffs: Vec<StrategyTradeoff>,
    pub shard_key_advice: Vec<ShardKeyAdvice>,
    /// Virtual shards to map keys to from the start.
    pub virtual_shards: u64,
    /// With `target_shards` and the hash strategy: the first shard map, the virtual shards
    /// spread evenly in contiguous ranges.
    pub initial_map: Option<Vec<ShardRanges>>,
}

/// The virtual shards one physical shard holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ShardRanges {
    /// `shard_1`, `shard_2`, …
    pub shard: String,
    /// Inclusive ranges of virtual shard numbers, ascending: `0-127`, or `7` for a single one.
    pub virtual_ranges: Vec<String>,
    pub virtual_shard_count: u64,
}

/// Virtual shards that move from one physical shard to another.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ShardMove {
    pub from: String,
    pub to: String,
    pub virtual_ranges: Vec<String>,
    pub virtual_shard_count: u64,
}

/// The new shard map and what it costs to reach it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Reshard {
    pub virtual_shards: u64,
    pub current_shards: u64,
    pub target_shards: u64,
    /// Virtual shards that change physical shard: the least any even spread can move.
    pub moved_virtual_shards: u64,
    /// moved_virtual_shards / virtual_shards: the share of data copied (keys spread evenly).
    pub moved_fraction: f64,
    /// Share of keys that plain `key % shards` would move: 1 − gcd(current, target) /
    /// max(current, target).
    pub naive_modulo_moved_fraction: f64,
    /// The modulo share with the numbers substituted.
    pub naive_modulo_formula: String,
    /// Expected share of keys moved on a consistent-hashing ring going from current to target
    /// nodes: |target − current| / max(target, current).
    pub consistent_hashing_moved_fraction: f64,
    pub consistent_hashing_formula: String,
    /// With `data_size_gb`: data_size_gb × moved_fraction.
    pub moved_data_gb: Option<f64>,
    /// The target map: every virtual shard exactly once, shards `shard_1` to `shard_<target>`.
    pub shard_map: Vec<ShardRanges>,
    /// How many (source, destination) groups `moves` holds.
    pub move_groups: u64,
    /// What moves where, grouped by source and destination shard (`detail: full`; concise
    /// gives only `move_groups` and `moved_virtual_shards`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub moves: Vec<ShardMove>,
}

/// How long the copy takes, from the data to copy and a copy rate (`migrations#copy-time`):
/// it sets the weeks of the phase that copies and, with a maintenance window, how long writes
/// pause.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct CopyTime {
    /// GB copied: the database, or the moved share for shard and reshard.
    pub data_to_copy_gb: f64,
    pub copy_rate_gb_per_hour: f64,
    /// `given`, or the document's measurement the default comes from.
    pub rate_basis: String,
    /// data_to_copy_gb / copy_rate_gb_per_hour, around the clock.
    pub copy_hours: f64,
    /// With a maintenance window: the check of the copy, after it, in the window.
    pub verify_hours: Option<f64>,
    /// With a maintenance window: how long writes pause (copy and check); null when writes
    /// never pause.
    pub write_pause_hours: Option<f64>,
    /// The phase the copy sizes, and its weeks.
    pub phase: String,
    pub phase_weeks: u64,
    /// Each figure's formula with the numbers substituted.
    pub workings: Vec<Working>,
}

/// What one pair of databases needs that the generic plan does not say, from
/// `migrations#pair-notes`; its action is also a step of `phase`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct PairNote {
    pub topic: String,
    pub action: String,
    /// The phase whose steps carry the action.
    pub phase: String,
    /// The public source (title and URL).
    pub source: String,
}

/// The plan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct MigrationPlan {
    /// The answer in one sentence or two: the phases and weeks, and what moves.
    pub summary: String,
    pub kind: MigrationKind,
    pub from: Option<String>,
    pub to: Option<String>,
    pub zero_downtime: bool,
    /// The phases in order; for database_switch exactly dual_write, backfill, verify_reads,
    /// cutover, decommission.
    pub phases: Vec<Phase>,
    /// Sum of the phases' weeks.
    pub total_weeks: u64,
    /// Never empty.
    pub risks: Vec<Risk>,
    /// For shard: the strategy, its trade-offs and the shard-key rules.
    pub shard_strategy: Option<ShardStrategy>,
    /// For reshard: the new map and how much moves.
    pub reshard: Option<Reshard>,
    /// Data copied by the plan, GB, with `data_size_gb` (database_switch, shard with
    /// target_shards, reshard).
    pub data_to_copy_gb: Option<f64>,
    /// With data to copy: the copy's hours, the write pause of a maintenance window, and the
    /// weeks of the phase that copies.
    pub copy_time: Option<CopyTime>,
    /// For database_switch with a known (from, to) pair: what that pair needs, each folded
    /// into its phase's steps; empty for an unknown pair (the plan is generic).
    pub pair_notes: Vec<PairNote>,
    /// What the plan could not give and which argument would give it, in words.
    pub notes: Vec<String>,
    /// Arguments not given that would have added an answer.
    pub missing_inputs: Vec<MissingInput>,
    /// The list cut to keep the answer under its size cap, when one was.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub truncated: Option<Truncated>,
    pub sources: Vec<String>,
}

/// What a phase says: as planned without downtime, or adapted to a maintenance window.
#[derive(Clone)]
struct PhaseText {
    name: String,
    steps: Vec<String>,
    exit_criteria: String,
    rollback: String,
    weeks: u64,
}

struct PhaseRow {
    id: String,
    standard: PhaseText,
    /// The phase with a maintenance window, when a `downtime_*` cell changes it.
    with_window: Option<PhaseText>,
    /// The phase that copies the data (`sized_by` `copy`): its weeks follow the copy time.
    copies_data: bool,
}

struct KindPlan {
    kind: MigrationKind,
    phases: Vec<PhaseRow>,
    uri: String,
}

impl KindPlan {
    /// The phase that copies the data, when the kind copies any.
    fn copy_phase(&self) -> Option<&PhaseRow> {
        self.phases.iter().find(|p| p.copies_data)
    }
}

/// The copy rate a plan uses when the caller gives none: the row of `migrations#copy-rates`
/// marked `default`.
struct DefaultCopyRate {
    method: String,
    measured: String,
    gb_per_hour: f64,
}

/// One row of `migrations#pair-notes`: the names each end goes by, and the note.
struct PairRow {
    from: Vec<String>,
    to: Vec<String>,
    note: PairNote,
}

impl PairRow {
    fn matches(&self, from: &str, to: &str) -> bool {
        let named = |names: &[String], name: &str| {
            names.iter().any(|n| n.eq_ignore_ascii_case(name.trim()))
        };
        named(&self.from, from) && named(&self.to, to)
    }
}

struct StrategyRow {
    name: String,
    how: String,
    pros: String,
    cons: String,
    when: Option<Condition>,
}

/// Which plan brings a component, and how, from `migrations#component-changes`.
pub(crate) struct ComponentChange {
    pub component: String,
    pub kind: Option<MigrationKind>,
    pub how: String,
    pub see: Vec<String>,
}

/// The tables `plan_migration` applies, read once from the knowledge base.
pub struct MigrationPlaybook {
    plans: Vec<KindPlan>,
    risks: Vec<(MigrationKind, Risk)>,
    risks_uri: String,
    strategies: Vec<StrategyRow>,
    strategies_uri: String,
    shard_key: Vec<ShardKeyAdvice>,
    shard_key_uri: String,
    pub(crate) components: Vec<ComponentChange>,
    pub(crate) components_uri: String,
    virtual_shards_uri: String,
    reshard_formulas: Formulas,
    data_moved_uri: String,
    ring_uri: String,
    read_your_writes_uri: String,
    functional_uri: String,
    default_copy_rate: DefaultCopyRate,
    copy_rates_uri: String,
    copy_formulas: Formulas,
    pairs: Vec<PairRow>,
    pairs_uri: String,
}

/// The quantities of the copy time computed by formula (`migrations#copy-formulas`), and the
/// quantities each may name.
const COPY_FORMULAS: [(&str, &[&str]); 5] = [
    ("copy_hours", &["data_to_copy_gb", "copy_rate_gb_per_hour"]),
    (
        "verify_hours",
        &["copy_hours", "data_to_copy_gb", "copy_rate_gb_per_hour"],
    ),
    ("window_hours", &["copy_hours", "verify_hours"]),
    ("copy_weeks", &["floor_weeks", "copy_hours"]),
    ("window_weeks", &["floor_weeks", "window_hours"]),
];

/// The quantities of a reshard computed by formula, and the quantities each may name.
const RESHARD_FORMULAS: [(&str, &[&str]); 4] = [
    (
        "moved_fraction",
        &[
            "moved_virtual_shards",
            "virtual_shards",
            "current_shards",
            "target_shards",
        ],
    ),
    ("moved_data_gb", &["data_size_gb", "moved_fraction"]),
    (
        "naive_modulo_moved_fraction",
        &["current_shards", "target_shards"],
    ),
    (
        "consistent_hashing_moved_fraction",
        &["current_shards", "target_shards"],
    ),
];

/// The contract's phase ids of a database switch, in order.
const DATABASE_SWITCH_PHASES: [&str; 5] = [
    "dual_write",
    "backfill",
    "verify_reads",
    "cutover",
    "decommission",
];

fn section_uri(knowledge: &Knowledge, reference: &str) -> Result<String, KnowledgeError> {
    knowledge.section_uri(reference, "`plan_migration`")
}

fn whole_weeks(row: &RowRef<'_>, column: &str) -> Result<u64, KnowledgeError> {
    let weeks = row.integer(column)?;
    if weeks == 0 {
        return Err(row.error(format!("`{column}` must be at least 1 week")));
    }
    Ok(weeks)
}

fn has_column(table: &TableRef<'_>, column: &str) -> bool {
    table.require_columns(&[column]).is_ok()
}

fn load_phases(knowledge: &Knowledge, kind: MigrationKind) -> Result<KindPlan, KnowledgeError> {
    let anchor = kind.phases_anchor();
    let table = knowledge.table("migrations", &anchor)?;
    table.require_columns(&["id", "name", "steps", "exit_criteria", "rollback", "weeks"])?;
    table.require_rows()?;
    // The `downtime_*` columns are optional: a table without them plans the same either way.
    let window = |column: &str| has_column(&table, &format!("downtime_{column}"));
    let columns = ["name", "steps", "exit_criteria", "rollback", "weeks"].map(window);
    let mut phases: Vec<PhaseRow> = Vec::new();
    for row in table.rows() {
        let id = row.required("id")?.to_string();
        if phases.iter().any(|p| p.id == id) {
            return Err(row.error(format!("the phase `{id}` is listed twice")));
        }
        let steps = row.list("steps")?;
        if steps.is_empty() {
            return Err(row.error("a phase needs at least one step"));
        }
        let standard = PhaseText {
            name: row.required("name")?.to_string(),
            steps,
            exit_criteria: row.required("exit_criteria")?.to_string(),
            rollback: row.required("rollback")?.to_string(),
            weeks: whole_weeks(&row, "weeks")?,
        };
        let text = |i: usize, column: &str| -> Result<Option<String>, KnowledgeError> {
            match columns[i] {
                true => Ok(row.optional(column)?.map(str::to_string)),
                false => Ok(None),
            }
        };
        let name = text(0, "downtime_name")?;
        let window_steps = match columns[1] {
            true => Some(row.list("downtime_steps")?).filter(|s| !s.is_empty()),
            false => None,
        };
        let exit_criteria = text(2, "downtime_exit_criteria")?;
        let rollback = text(3, "downtime_rollback")?;
        // 0 downtime weeks: the phase runs inside the window the copy phase before it holds.
        let weeks = match text(4, "downtime_weeks")? {
            Some(_) => Some(row.integer("downtime_weeks")?),
            None => None,
        };
        let copies_data = match has_column(&table, "sized_by") {
            true => match row.optional("sized_by")? {
                None => false,
                Some("copy") => true,
                Some(other) => {
                    return Err(
                        row.error(format!("`sized_by` is `copy` or empty, found `{other}`"))
                    );
                }
            },
            false => false,
        };
        if weeks == Some(0) && !phases.iter().any(|p| p.copies_data) {
            return Err(row.error(
                "`downtime_weeks` 0 means inside the window of the copy phase, so a phase marked `sized_by` `copy` must come before it",
            ));
        }
        if copies_data && phases.iter().any(|p| p.copies_data) {
            return Err(row.error("only one phase of a plan copies the data (`sized_by` `copy`)"));
        }
        let changed = name.is_some()
            || window_steps.is_some()
            || exit_criteria.is_some()
            || rollback.is_some()
            || weeks.is_some();
        let with_window = changed.then(|| PhaseText {
            name: name.unwrap_or_else(|| standard.name.clone()),
            steps: window_steps.unwrap_or_else(|| standard.steps.clone()),
            exit_criteria: exit_criteria.unwrap_or_else(|| standard.exit_criteria.clone()),
            rollback: rollback.unwrap_or_else(|| standard.rollback.clone()),
            weeks: weeks.unwrap_or(standard.weeks),
        });
        phases.push(PhaseRow {
            id,
            standard,
            with_window,
            copies_data,
        });
    }
    if kind == MigrationKind::DatabaseSwitch {
        let ids: Vec<&str> = phases.iter().map(|p| p.id.as_str()).collect();
        if ids != DATABASE_SWITCH_PHASES {
            return Err(table.error(format!(
                "a database switch has exactly the phases {} in this order (found {})",
                DATABASE_SWITCH_PHASES.join(", "),
                ids.join(", ")
            )));
        }
    }
    Ok(KindPlan {
        kind,
        phases,
        uri: table.uri(),
    })
}

/// Each kind's risks; every kind needs at least one.
fn load_risks(
    knowledge: &Knowledge,
) -> Result<(Vec<(MigrationKind, Risk)>, String), KnowledgeError> {
    let table = knowledge.table("migrations", "risks")?;
    table.require_columns(&["kind", "risk", "mitigation"])?;
    let mut risks = Vec::new();
    for row in table.rows() {
        let text = row.required("kind")?;
        let kind = MigrationKind::parse(text).ok_or_else(|| {
            row.error(format!(
                "unknown migration kind `{text}` (known: {})",
                MigrationKind::ALL.map(MigrationKind::id).join(", ")
            ))
        })?;
        risks.push((
            kind,
            Risk {
                risk: row.required("risk")?.to_string(),
                mitigation: row.required("mitigation")?.to_string(),
            },
        ));
    }
    if let Some(kind) = MigrationKind::ALL
        .into_iter()
        .find(|k| !risks.iter().any(|(r, _)| r == k))
    {
        return Err(table.error(format!(
            "every kind needs at least one risk; `{}` has none",
            kind.id()
        )));
    }
    Ok((risks, table.uri()))
}

/// The shard strategies, one of them chosen `otherwise`.
fn load_strategies(knowledge: &Knowledge) -> Result<(Vec<StrategyRow>, String), KnowledgeError> {
    let vocabulary = decision::vocabulary::<MigrationArgs>();
    let table = knowledge.table("sharding", "strategies")?;
    table.require_columns(&["strategy", "how", "pros", "cons", "choose_when"])?;
    let strategies = table
        .rows()
        .map(|row| {
            Ok(StrategyRow {
                name: row.required("strategy")?.to_string(),
                how: row.required("how")?.to_string(),
                pros: row.required("pros")?.to_string(),
                cons: row.required("cons")?.to_string(),
                when: row.optional_condition("choose_when", &vocabulary)?,
            })
        })
        .collect::<Result<Vec<_>, KnowledgeError>>()?;
    if !strategies
        .iter()
        .any(|s| s.when.as_ref().is_some_and(Condition::is_otherwise))
    {
        return Err(table
            .error("one strategy must be chosen `otherwise`, so that every plan gets a strategy"));
    }
    Ok((strategies, table.uri()))
}

/// The advice on choosing a shard key.
fn load_shard_key(knowledge: &Knowledge) -> Result<(Vec<ShardKeyAdvice>, String), KnowledgeError> {
    let table = knowledge.table("migrations", "shard-key")?;
    table.require_columns(&["advice", "why"])?;
    table.require_rows()?;
    let shard_key = table
        .rows()
        .map(|row| {
            Ok(ShardKeyAdvice {
                advice: row.required("advice")?.to_string(),
                why: row.required("why")?.to_string(),
            })
        })
        .collect::<Result<Vec<_>, KnowledgeError>>()?;
    Ok((shard_key, table.uri()))
}

/// How each contract component is put in place; every component has a row.
fn load_components(
    knowledge: &Knowledge,
) -> Result<(Vec<ComponentChange>, String), KnowledgeError> {
    let table = knowledge.table("migrations", "component-changes")?;
    table.require_columns(&["component", "kind", "how", "see"])?;
    let mut components: Vec<ComponentChange> = Vec::new();
    for row in table.rows() {
        let component = stages::component(&row, "component")?;
        let kind = match row.optional("kind")? {
            None => None,
            Some(text) => Some(MigrationKind::parse(text).ok_or_else(|| {
                row.error(format!(
                    "unknown migration kind `{text}` (known: {})",
                    MigrationKind::ALL.map(MigrationKind::id).join(", ")
                ))
            })?),
        };
        components.push(ComponentChange {
            component: component.to_string(),
            kind,
            how: row.required("how")?.to_string(),
            see: knowledge.references(&row, "see")?,
        });
    }
    if let Some(missing) = COMPONENTS
        .iter()
        .find(|c| !components.iter().any(|r| r.component == **c))
    {
        return Err(table.error(format!("the component `{missing}` has no row")));
    }
    Ok((components, table.uri()))
}

/// The measured copy rates; returns the one marked `default` and the table's URI.
fn load_copy_rates(knowledge: &Knowledge) -> Result<(DefaultCopyRate, String), KnowledgeError> {
    let table = knowledge.table("migrations", "copy-rates")?;
    table.require_columns(&["method", "gb_per_hour", "default", "measured"])?;
    table.require_rows()?;
    let mut default = None;
    for row in table.rows() {
        let gb_per_hour = row.number("gb_per_hour")?;
        if !(gb_per_hour.is_finite() && gb_per_hour > 0.0) {
            return Err(row.error(format!(
                "`gb_per_hour` must be a rate above 0, found {gb_per_hour}"
            )));
        }
        match row.optional("default")? {
            None => {}
            Some("yes") if default.is_none() => {
                default = Some(DefaultCopyRate {
                    method: row.required("method")?.to_string(),
                    measured: row.required("measured")?.to_string(),
                    gb_per_hour,
                });
            }
            Some("yes") => return Err(row.error("only one copy rate is the `default`")),
            Some(other) => {
                return Err(row.error(format!("`default` is `yes` or empty, found `{other}`")));
            }
        }
    }
    let default = default.ok_or_else(|| {
        table.error("one copy rate must be marked `default` `yes`, for plans given no rate")
    })?;
    Ok((default, table.uri()))
}

/// The notes of each pair of databases a switch can join; each names a phase of a database
/// switch.
fn load_pairs(knowledge: &Knowledge) -> Result<(Vec<PairRow>, String), KnowledgeError> {
    let table = knowledge.table("migrations", "pair-notes")?;
    table.require_columns(&["from", "to", "phase", "topic", "action", "source"])?;
    let mut pairs = Vec::new();
    for row in table.rows() {
        let phase = row.required("phase")?;
        if !DATABASE_SWITCH_PHASES.contains(&phase) {
            return Err(row.error(format!(
                "unknown phase `{phase}` (a database switch has {})",
                DATABASE_SWITCH_PHASES.join(", ")
            )));
        }
        let (from, to) = (row.list("from")?, row.list("to")?);
        if from.is_empty() || to.is_empty() {
            return Err(row.error("a pair note names both databases, `from` and `to`"));
        }
        pairs.push(PairRow {
            from,
            to,
            note: PairNote {
                topic: row.required("topic")?.to_string(),
                action: row.required("action")?.to_string(),
                phase: phase.to_string(),
                source: row.required("source")?.to_string(),
            },
        });
    }
    Ok((pairs, table.uri()))
}

impl MigrationPlaybook {
    pub(crate) fn load(knowledge: &Knowledge) -> Result<Self, KnowledgeError> {
        let plans = MigrationKind::ALL
            .into_iter()
            .map(|kind| load_phases(knowledge, kind))
            .collect::<Result<Vec<_>, _>>()?;

        let (risks, risks_uri) = load_risks(knowledge)?;
        let (strategies, strategies_uri) = load_strategies(knowledge)?;
        let (shard_key, shard_key_uri) = load_shard_key(knowledge)?;
        let (components, components_uri) = load_components(knowledge)?;
        let (default_copy_rate, copy_rates_uri) = load_copy_rates(knowledge)?;
        let (pairs, pairs_uri) = load_pairs(knowledge)?;

        Ok(Self {
            plans,
            risks,
            risks_uri,
            strategies,
            strategies_uri,
            shard_key,
            shard_key_uri,
            components,
            components_uri,
            default_copy_rate,
            copy_rates_uri,
            pairs,
            pairs_uri,
            virtual_shards_uri: section_uri(knowledge, "sharding#virtual-shards")?,
            data_moved_uri: section_uri(knowledge, "sharding#how-much-data-moves")?,
            ring_uri: section_uri(knowledge, "sharding#the-ring")?,
            read_your_writes_uri: section_uri(knowledge, "migrations#the-read-your-writes-gotcha")?,
            functional_uri: section_uri(
                knowledge,
                "sharding#before-sharding-functional-partitioning",
            )?,
            // After the sections the tool cites on its own, so a missing one is reported as such
            // rather than through the `see` cell of a formula that cites it too.
            reshard_formulas: Formulas::load(
                knowledge,
                "sharding",
                "reshard-formulas",
                &RESHARD_FORMULAS,
            )?,
            copy_formulas: Formulas::load(
                knowledge,
                "migrations",
                "copy-formulas",
                &COPY_FORMULAS,
            )?,
        })
    }

    /// The row of `component` (every contract component has one; `load` checks).
    pub(crate) fn component(&self, component: &str) -> Option<&ComponentChange> {
        self.components.iter().find(|c| c.component == component)
    }
}

// ---------------------------------------------------------------------------------------------
// The shard map.

/// How many virtual shards each of `shards` physical shards gets in an even spread: the same
/// number each, and one more for the first `virtual_shards % shards`.
pub fn quotas(virtual_shards: u64, shards: u64) -> Vec<u64> {
    let shards = shards.max(1);
    (0..shards)
        .map(|i| virtual_shards / shards + u64::from(i < virtual_shards % shards))
        .collect()
}

/// The owner (0-based) of each virtual shard in the even contiguous map: shard 0 holds the
/// first quota of virtual shards, shard 1 the next, and so on.
pub fn contiguous_map(virtual_shards: u64, shards: u64) -> Vec<usize> {
    let mut owners = Vec::with_capacity(virtual_shards as usize);
    for (shard, quota) in quotas(virtual_shards, shards).into_iter().enumerate() {
        owners.extend(std::iter::repeat_n(shard, quota as usize));
    }
    owners
}

/// The target owner of each virtual shard when going from `current` (an owner per virtual
/// shard) to `target` physical shards: every virtual shard stays on its shard while that shard
/// still exists and is under its target quota; the rest (the surplus) go, in ascending virtual
/// shard order, to the lowest-numbered shard still under quota. Each shard keeps as many as it
/// can (the smaller of what it holds and its quota), so no even spread moves fewer.
pub fn spread(current: &[usize], target: u64) -> Vec<usize> {
    let quota = quotas(current.len() as u64, target);
    let mut held = vec![0u64; quota.len()];
    let mut owners: Vec<Option<usize>> = current
        .iter()
        .map(|&shard| {
            let keep = quota.get(shard).is_some_and(|&q| held[shard] < q);
            keep.then(|| {
                held[shard] += 1;
                shard
            })
        })
        .collect();
    let mut next = 0;
    for owner in owners.iter_mut().filter(|o| o.is_none()) {
        // The quotas add up to the number of virtual shards, so while one is unplaced some
        // shard is under quota and `next` stays in range.
        while next + 1 < quota.len() && held[next] >= quota[next] {
            next += 1;
        }
        held[next] += 1;
        *owner = Some(next);
    }
    owners.into_iter().map(|o| o.unwrap_or(0)).collect()
}

/// `0-127`, or `7` for a single virtual shard.
fn range_text(start: u64, end: u64) -> String {
    if start == end {
        start.to_string()
    } else {
        format!("{start}-{end}")
    }
}

/// Ascending virtual shard numbers as compressed inclusive ranges.
fn compress(numbers: impl IntoIterator<Item = u64>) -> Vec<String> {
    let mut ranges = Vec::new();
    let mut run: Option<(u64, u64)> = None;
    for n in numbers {
        run = match run {
            Some((start, end)) if n == end + 1 => Some((start, n)),
            Some((start, end)) => {
                ranges.push(range_text(start, end));
                Some((n, n))
            }
            None => Some((n, n)),
        };
    }
    if let Some((start, end)) = run {
        ranges.push(range_text(start, end));
    }
    ranges
}

fn shard_name(index: usize) -> String {
    format!("shard_{}", index + 1)
}

/// The map as ranges per physical shard, `shard_1` to `shard_<shards>`.
pub fn shard_map(owners: &[usize], shards: u64) -> Vec<ShardRanges> {
    let mut held: Vec<Vec<u64>> = vec![Vec::new(); shards as usize];
    for (v, owner) in owners.iter().enumerate() {
        if let Some(list) = held.get_mut(*owner) {
            list.push(v as u64);
        }
    }
    held.into_iter()
        .enumerate()
        .map(|(shard, mine)| ShardRanges {
            shard: shard_name(shard),
            virtual_shard_count: mine.len() as u64,
            virtual_ranges: compress(mine),
        })
        .collect()
}

fn moves(current: &[usize], target: &[usize]) -> Vec<ShardMove> {
    // Pairs in order of their first moved virtual shard; the map only finds a pair's slot.
    let mut slots: std::collections::HashMap<(usize, usize), usize> = Default::default();
    let mut pairs: Vec<((usize, usize), Vec<u64>)> = Vec::new();
    for (v, (&from, &to)) in current.iter().zip(target).enumerate() {
        if from == to {
            continue;
        }
        let slot = *slots.entry((from, to)).or_insert_with(|| {
            pairs.push(((from, to), Vec::new()));
            pairs.len() - 1
        });
        pairs[slot].1.push(v as u64);
    }
    pairs
        .into_iter()
        .map(|((from, to), list)| ShardMove {
            from: shard_name(from),
            to: shard_name(to),
            virtual_shard_count: list.len() as u64,
            virtual_ranges: compress(list),
        })
        .collect()
}

/// The reshard from `current` to `target` shards over `virtual_shards`: the new map by moving
/// each shard's surplus (in Rust: a search, not a formula), the shares moved by the formulas of
/// `sharding#reshard-formulas`.
pub fn reshard(
    advisor: &Advisor,
    virtual_shards: u64,
    current: u64,
    target: u64,
) -> Result<Reshard, ArgError> {
    reshard_by(
        &advisor.tables::<PlanMigration>()?.reshard_formulas,
        virtual_shards,
        current,
        target,
    )
}

fn reshard_by(
    formulas: &Formulas,
    virtual_shards: u64,
    current: u64,
    target: u64,
) -> Result<Reshard, ArgError> {
    let before = contiguous_map(virtual_shards, current);
    let after = spread(&before, target);
    let moved = before.iter().zip(&after).filter(|(a, b)| a != b).count() as u64;
    let operands = [
        ("moved_virtual_shards", Figure::Count(moved)),
        ("virtual_shards", Figure::Count(virtual_shards)),
        ("current_shards", Figure::Count(current)),
        ("target_shards", Figure::Count(target)),
    ];
    let share = |quantity: &str| -> Result<(f64, String), ArgError> {
        let value = formulas.evaluate(quantity, &operands)?;
        if !value.is_finite() {
            return Err(ArgError::new(
                "target_shards",
                target.to_string(),
                format!(
                    "shard counts for which `{}` is a number",
                    formulas.text(quantity)
                ),
            ));
        }
        let working = formulas.working(quantity, &operands, Figure::Amount(value));
        Ok((value, format!("{} = {}", working.substituted, show(value))))
    };
    let (moved_fraction, _) = share("moved_fraction")?;
    let (naive, naive_modulo_formula) = share("naive_modulo_moved_fraction")?;
    let (ring, consistent_hashing_formula) = share("consistent_hashing_moved_fraction")?;
    let moves = moves(&before, &after);
    Ok(Reshard {
        virtual_shards,
        current_shards: current,
        target_shards: target,
        moved_virtual_shards: moved,
        moved_fraction,
        naive_modulo_moved_fraction: naive,
        naive_modulo_formula,
        consistent_hashing_moved_fraction: ring,
        consistent_hashing_formula,
        moved_data_gb: None,
        shard_map: shard_map(&after, target),
        move_groups: moves.len() as u64,
        moves,
    })
}

// ---------------------------------------------------------------------------------------------
// Running the tool.

fn refuse_shard_field(kind: MigrationKind, field: &str, value: u64) -> ArgError {
    ArgError::new(
        field,
        value.to_string(),
        format!(
            "no value for kind {}: `{field}` applies only to kind reshard{}",
            kind.id(),
            if field == "current_shards" {
                ""
            } else {
                " and shard"
            }
        ),
    )
}

/// Checks the shard counts against the kind; returns the virtual shard count.
fn check_shards(args: &MigrationArgs) -> Result<u64, ArgError> {
    let virtual_shards = args.virtual_shards.unwrap_or(DEFAULT_VIRTUAL_SHARDS);
    let shown_virtual = match args.virtual_shards {
        Some(v) => v.to_string(),
        None => format!("{DEFAULT_VIRTUAL_SHARDS} (the default)"),
    };
    let enough = |field: &str, count: u64| {
        if virtual_shards < count {
            Err(ArgError::new(
                "virtual_shards",
                shown_virtual.clone(),
                format!(
                    "a whole number of at least {field} ({count}): every physical shard needs at least one virtual shard"
                ),
            ))
        } else {
            Ok(())
        }
    };
    match args.kind {
        MigrationKind::Reshard => {
            let current = args.current_shards.ok_or_else(|| {
                ArgError::new(
                    "current_shards",
                    "nothing",
                    "a whole number from 1 to 4096: kind reshard needs current_shards and target_shards",
                )
            })?;
            let target = args.target_shards.ok_or_else(|| {
                ArgError::new(
                    "target_shards",
                    "nothing",
                    "a whole number from 1 to 4096: kind reshard needs current_shards and target_shards",
                )
            })?;
            if target == current {
                return Err(ArgError::new(
                    "target_shards",
                    format!("{target}, the same as current_shards"),
                    format!("a shard count different from current_shards ({current})"),
                ));
            }
            enough("current_shards", current)?;
            enough("target_shards", target)?;
        }
        MigrationKind::Shard => {
            if let Some(current) = args.current_shards.filter(|c| *c != 1) {
                return Err(ArgError::new(
                    "current_shards",
                    current.to_string(),
                    "1 or nothing for kind shard, which splits one database; to change the number of shards use kind reshard",
                ));
            }
            if let Some(target) = args.target_shards {
                if target < 2 {
                    return Err(ArgError::new(
                        "target_shards",
                        target.to_string(),
                        "a whole number from 2 to 4096 for kind shard: one shard is the database as it is",
                    ));
                }
                enough("target_shards", target)?;
            }
        }
        kind => {
            for (field, value) in [
                ("current_shards", args.current_shards),
                ("target_shards", args.target_shards),
                ("virtual_shards", args.virtual_shards),
            ] {
                if let Some(value) = value {
                    return Err(refuse_shard_field(kind, field, value));
                }
            }
        }
    }
    Ok(virtual_shards)
}

fn check_names(args: &MigrationArgs) -> Result<(), ArgError> {
    for (field, value) in [("from", &args.from), ("to", &args.to)] {
        if let Some(text) = value
            && text.trim().is_empty()
        {
            return Err(ArgError::new(
                field,
                format!("`{text:?}` (an empty string)"),
                "a name, such as MySQL or PostgreSQL, or nothing",
            ));
        }
    }
    if let (Some(from), Some(to)) = (&args.from, &args.to)
        && from.trim().eq_ignore_ascii_case(to.trim())
    {
        return Err(ArgError::new(
            "to",
            format!("`{to:?}`, the same as `from`"),
            format!("something other than `from` ({from}): a migration needs two different ends"),
        ));
    }
    Ok(())
}

struct ArgFacts<'a>(&'a MigrationArgs);

impl Facts for ArgFacts<'_> {
    fn number(&self, _field: &str) -> Option<f64> {
        None
    }
    fn flag(&self, field: &str) -> bool {
        match field {
            "needs_range_queries" => self.0.needs_range_queries,
            "data_residency" => self.0.data_residency,
            "large_tenants" => self.0.large_tenants,
            "zero_downtime" => self.0.zero_downtime,
            _ => false,
        }
    }
    fn word(&self, field: &str) -> Option<&str> {
        (field == "kind").then(|| self.0.kind.id())
    }
    fn finding(&self, _id: &str) -> bool {
        false
    }
}

fn choose_strategy(
    catalog: &MigrationPlaybook,
    args: &MigrationArgs,
    virtual_shards: u64,
    notes: &mut Vec<String>,
) -> Result<ShardStrategy, ArgError> {
    let facts = ArgFacts(args);
    // Conditioned rows in document order, then the `otherwise` row.
    let conditioned = catalog
        .strategies
        .iter()
        .filter(|s| s.when.as_ref().is_some_and(|w| !w.is_otherwise()));
    let fallback = catalog
        .strategies
        .iter()
        .filter(|s| s.when.as_ref().is_some_and(Condition::is_otherwise));
    let mut asked: Vec<String> = Vec::new();
    let mut chosen = None;
    for row in conditioned.chain(fallback) {
        let Some(when) = &row.when else { continue };
        if when.holds(&facts) {
            chosen = Some((row, when));
            break;
        }
        asked.push(format!("`{when}`"));
    }
    let (row, when) =
        chosen.ok_or_else(|| ArgError::internal("no sharding strategy is chosen `otherwise`"))?;
    let why = if when.is_otherwise() {
        match asked.len() {
            0 => "the default".to_string(),
            1 => format!("{} is false", asked[0]),
            _ => format!("{} are false", asked.join(" and ")),
        }
    } else {
        format!("`{when}` is true")
    };
    // Hash keys go to virtual shards; a directory places tenants on virtual shards too, so
    // both start from the even virtual map.
    let on_virtual_shards = when.is_otherwise() || row.name == "directory";
    let initial_map = match args.target_shards {
        Some(target) if on_virtual_shards => {
            Some(shard_map(&contiguous_map(virtual_shards, target), target))
        }
        Some(_) => {
            notes.push(format!(
                "the initial shard map is given for hash and directory sharding; under {} sharding shards own key ranges or regions",
                row.name
            ));
            None
        }
        None => {
            notes.push("target_shards would give the first shard map".into());
            None
        }
    };
    Ok(ShardStrategy {
        strategy: row.name.clone(),
        reason: format!("{why}: {}", row.pros),
        how: with_virtual_shards(&row.how, virtual_shards),
        tradeoffs: catalog
            .strategies
            .iter()
            .map(|s| StrategyTradeoff {
                strategy: s.name.clone(),
                how: s.how.clone(),
                pros: s.pros.clone(),
                cons: s.cons.clone(),
                chosen_when: s.when.as_ref().map(ToString::to_string),
            })
            .collect(),
        shard_key_advice: catalog
            .shard_key
            .iter()
            .map(|a| ShardKeyAdvice {
                advice: with_virtual_shards(&a.advice, virtual_shards),
                why: with_virtual_shards(&a.why, virtual_shards),
            })
            .collect(),
        virtual_shards,
        initial_map,
    })
}

/// A knowledge text with `{virtual_shards}` replaced by the count this plan uses, so that a
/// plan never quotes the document's default when the caller gave another number.
fn with_virtual_shards(text: &str, virtual_shards: u64) -> String {
    text.replace("{virtual_shards}", &numbers::count(virtual_shards))
}

/// Plans the migration described by `args`.
pub fn run(advisor: &Advisor, args: MigrationArgs) -> Result<MigrationPlan, ArgError> {
    plan(advisor.tables::<PlanMigration>()?, args)
}

pub(crate) fn plan(
    catalog: &MigrationPlaybook,
    args: MigrationArgs,
) -> Result<MigrationPlan, ArgError> {
    let virtual_shards = check_shards(&args)?;
    check_names(&args)?;
    let kind_plan = catalog
        .plans
        .iter()
        .find(|p| p.kind == args.kind)
        .ok_or_else(|| ArgError::internal("a migration kind has no phase table"))?;
    check_copy_rate(catalog, kind_plan, &args)?;
    let mut sources = vec![kind_plan.uri.clone(), catalog.risks_uri.clone()];
    let mut notes = Vec::new();
    let mut missing = Vec::new();

    let risks = kind_risks(catalog, args.kind, virtual_shards);
    let details = kind_details(
        catalog,
        &args,
        virtual_shards,
        &mut sources,
        &mut notes,
        &mut missing,
    )?;
    note_missing_size(&args, &mut notes, &mut missing);
    let copy_time = match details.data_to_copy_gb {
        Some(gb) => copy_time(catalog, kind_plan, &args, gb, &mut sources, &mut notes)?,
        None => None,
    };
    let pair_notes = pair_notes(catalog, &args, &mut sources, &mut notes, &mut missing);
    let (phases, total_weeks) = lay_out_phases(
        kind_plan,
        &args,
        copy_time.as_ref(),
        &pair_notes,
        virtual_shards,
    );
    if !args.zero_downtime && !phases.iter().any(|p| p.adapted_for_downtime) {
        notes.push(format!(
            "a maintenance window changes no phase of {}: the plan is the same either way",
            args.kind.id()
        ));
    }

    let mut plan = MigrationPlan {
        summary: String::new(),
        kind: args.kind,
        from: args.from,
        to: args.to,
        zero_downtime: args.zero_downtime,
        phases,
        total_weeks,
        risks,
        shard_strategy: details.shard_strategy,
        reshard: details.reshard,
        data_to_copy_gb: details.data_to_copy_gb,
        copy_time,
        pair_notes,
        notes,
        missing_inputs: missing,
        truncated: None,
        sources,
    };
    plan.summary = summary_of(&plan);
    Ok(plan)
}

/// The risks of `kind`, with the virtual shard count filled in.
fn kind_risks(catalog: &MigrationPlaybook, kind: MigrationKind, virtual_shards: u64) -> Vec<Risk> {
    catalog
        .risks
        .iter()
        .filter(|(k, _)| *k == kind)
        .map(|(_, risk)| Risk {
            risk: with_virtual_shards(&risk.risk, virtual_shards),
            mitigation: with_virtual_shards(&risk.mitigation, virtual_shards),
        })
        .collect()
}

/// What a kind adds beyond its phases: the shard strategy, the reshard map, the data to copy.
#[derive(Default)]
struct KindDetails {
    shard_strategy: Option<ShardStrategy>,
    reshard: Option<Reshard>,
    data_to_copy_gb: Option<f64>,
}

fn kind_details(
    catalog: &MigrationPlaybook,
    args: &MigrationArgs,
    virtual_shards: u64,
    sources: &mut Vec<String>,
    notes: &mut Vec<String>,
    missing: &mut Vec<MissingInput>,
) -> Result<KindDetails, ArgError> {
    let mut details = KindDetails::default();
    match args.kind {
        MigrationKind::DatabaseSwitch => details.data_to_copy_gb = args.data_size_gb,
        MigrationKind::Shard => {
            let strategy = choose_strategy(catalog, args, virtual_shards, notes)?;
            if args.target_shards.is_none() {
                missing_input(missing, "target_shards", "shard_strategy.initial_map");
            } else if strategy.initial_map.is_some() && args.data_size_gb.is_none() {
                missing_input(missing, "data_size_gb", "data_to_copy_gb");
            }
            if let (Some(map), Some(size)) = (&strategy.initial_map, args.data_size_gb) {
                // The database becomes shard_1 and keeps its share; the rest is copied out.
                let kept = map.first().map_or(0, |s| s.virtual_shard_count);
                let moved = (virtual_shards - kept) as f64 / virtual_shards as f64;
                details.data_to_copy_gb = Some(size * moved);
            }
            push_unique(sources, catalog.strategies_uri.clone());
            push_unique(sources, catalog.shard_key_uri.clone());
            push_unique(sources, catalog.virtual_shards_uri.clone());
            details.shard_strategy = Some(strategy);
        }
        MigrationKind::Reshard => {
            let reshard = reshard_details(catalog, args, virtual_shards, sources)?;
            details.data_to_copy_gb = reshard.moved_data_gb;
            details.reshard = Some(reshard);
        }
        MigrationKind::AddReadReplicas => {
            push_unique(sources, catalog.read_your_writes_uri.clone());
        }
        MigrationKind::FunctionalPartition => {
            push_unique(sources, catalog.functional_uri.clone());
            details.data_to_copy_gb = args.data_size_gb;
        }
        MigrationKind::AddCache | MigrationKind::MultiRegion => {}
    }
    Ok(details)
}

/// The reshard map and, with a data size, the data it moves.
fn reshard_details(
    catalog: &MigrationPlaybook,
    args: &MigrationArgs,
    virtual_shards: u64,
    sources: &mut Vec<String>,
) -> Result<Reshard, ArgError> {
    // `check_shards` made both counts present for a reshard.
    let current = args.current_shards.unwrap_or(1);
    let target = args.target_shards.unwrap_or(1);
    let formulas = &catalog.reshard_formulas;
    let mut computed = reshard_by(formulas, virtual_shards, current, target)?;
    if let Some(size) = args.data_size_gb {
        let operands = [
            ("data_size_gb", Figure::Amount(size)),
            ("moved_fraction", Figure::Amount(computed.moved_fraction)),
        ];
        computed.moved_data_gb =
            Some(formulas.amount("moved_data_gb", &operands, "data_size_gb", size)?);
    }
    formulas.cite("moved_fraction", sources);
    push_unique(sources, catalog.virtual_shards_uri.clone());
    push_unique(sources, catalog.data_moved_uri.clone());
    push_unique(sources, catalog.ring_uri.clone());
    Ok(computed)
}

/// Without a data size, the kinds that copy their data say what it would add.
fn note_missing_size(
    args: &MigrationArgs,
    notes: &mut Vec<String>,
    missing: &mut Vec<MissingInput>,
) {
    let copies_all = matches!(
        args.kind,
        MigrationKind::DatabaseSwitch | MigrationKind::FunctionalPartition | MigrationKind::Reshard
    );
    if args.data_size_gb.is_none() && copies_all {
        notes.push(
            "data_size_gb would give the amount of data to copy and how long the copy takes".into(),
        );
        missing_input(missing, "data_size_gb", "data_to_copy_gb, copy_time");
    }
}

/// The phases one after another from week 1, each in its maintenance-window form when there
/// is one and no zero downtime was asked, the copy phase as long as the copy, the pair's steps
/// first in their phase; and the total weeks.
fn lay_out_phases(
    kind_plan: &KindPlan,
    args: &MigrationArgs,
    copy_time: Option<&CopyTime>,
    pair_notes: &[PairNote],
    virtual_shards: u64,
) -> (Vec<Phase>, u64) {
    let mut week = 1;
    let mut phases = Vec::new();
    for row in &kind_plan.phases {
        let (text, adapted) = match (&row.with_window, args.zero_downtime) {
            (Some(window), false) => (window.clone(), true),
            _ => (row.standard.clone(), false),
        };
        let weeks = match copy_time {
            Some(copy) if row.copies_data => copy.phase_weeks,
            _ => text.weeks,
        };
        // A 0-week phase runs inside the window of the phase before it, in its last week.
        let (start_week, end_week) = match weeks {
            0 => ((week - 1).max(1), (week - 1).max(1)),
            _ => (week, week + weeks - 1),
        };
        let fill = |t: &str| with_virtual_shards(t, virtual_shards);
        // The pair's steps come first: they decide how the phase's own steps are done.
        let pair_steps = pair_notes
            .iter()
            .filter(|n| n.phase == row.id)
            .map(|n| pair_step(args, n));
        phases.push(Phase {
            id: row.id.clone(),
            name: fill(&text.name),
            steps: pair_steps
                .chain(text.steps.iter().map(|step| fill(step)))
                .collect(),
            exit_criteria: fill(&text.exit_criteria),
            rollback: fill(&text.rollback),
            weeks,
            start_week,
            end_week,
            adapted_for_downtime: adapted,
        });
        week += weeks;
    }
    (phases, week - 1)
}

/// Refuses a copy rate for a kind whose plan copies no data in bulk.
fn check_copy_rate(
    catalog: &MigrationPlaybook,
    kind_plan: &KindPlan,
    args: &MigrationArgs,
) -> Result<(), ArgError> {
    match args.copy_rate_gb_per_hour {
        Some(rate) if kind_plan.copy_phase().is_none() => {
            let copying: Vec<&str> = catalog
                .plans
                .iter()
                .filter(|p| p.copy_phase().is_some())
                .map(|p| p.kind.id())
                .collect();
            Err(ArgError::new(
                "copy_rate_gb_per_hour",
                show(rate),
                format!(
                    "no value for kind {}, whose plan copies no data in bulk; the rate applies to {}",
                    args.kind.id(),
                    copying.join(", ")
                ),
            ))
        }
        _ => Ok(()),
    }
}

/// The copy's hours at the given or default rate, by the formulas of `migrations#copy-formulas`,
/// and the weeks of the phase that copies: the hours around the clock, or, with a maintenance
/// window, the copy and its check while writes pause. None when the kind copies nothing.
fn copy_time(
    catalog: &MigrationPlaybook,
    kind_plan: &KindPlan,
    args: &MigrationArgs,
    data_gb: f64,
    sources: &mut Vec<String>,
    notes: &mut Vec<String>,
) -> Result<Option<CopyTime>, ArgError> {
    let Some(row) = kind_plan.copy_phase() else {
        return Ok(None);
    };
    let (rate, rate_basis) = match args.copy_rate_gb_per_hour {
        Some(rate) => (rate, "given".to_string()),
        None => {
            let default = &catalog.default_copy_rate;
            push_unique(sources, catalog.copy_rates_uri.clone());
            (
                default.gb_per_hour,
                format!("default: {}, {}", default.method, default.measured),
            )
        }
    };
    let formulas = &catalog.copy_formulas;
    // Every figure follows from data_size_gb (the rate is bounded by the schema), so an
    // overflow is refused naming it.
    let given = ("data_size_gb", args.data_size_gb.unwrap_or(data_gb));
    let mut operands = vec![
        ("data_to_copy_gb", Figure::Amount(data_gb)),
        ("copy_rate_gb_per_hour", Figure::Amount(rate)),
    ];
    let mut workings: Vec<Working> = Vec::new();
    let mut amount = |quantity: &'static str,
                      operands: &mut Vec<(&str, Figure)>,
                      workings: &mut Vec<Working>|
     -> Result<f64, ArgError> {
        let value = formulas.amount(quantity, operands, given.0, given.1)?;
        workings.push(formulas.working(quantity, operands, Figure::Amount(value)));
        formulas.cite(quantity, sources);
        operands.push((quantity, Figure::Amount(value)));
        Ok(value)
    };
    let copy_hours = amount("copy_hours", &mut operands, &mut workings)?;
    let window = match args.zero_downtime {
        false => row.with_window.as_ref(),
        true => None,
    };
    let (verify_hours, write_pause_hours, weeks_quantity, floor) = match window {
        Some(text) => {
            let verify = amount("verify_hours", &mut operands, &mut workings)?;
            let pause = amount("window_hours", &mut operands, &mut workings)?;
            (Some(verify), Some(pause), "window_weeks", text.weeks)
        }
        None => (None, None, "copy_weeks", row.standard.weeks),
    };
    operands.push(("floor_weeks", Figure::Count(floor)));
    let phase_weeks = formulas.count(weeks_quantity, &operands, given.0, show(given.1))?;
    workings.push(formulas.working(weeks_quantity, &operands, Figure::Count(phase_weeks)));
    formulas.cite(weeks_quantity, sources);
    if let Some(pause) = write_pause_hours
        && phase_weeks > floor
    {
        notes.push(format!(
            "writes would pause for {}: few services can stop writing that long; zero_downtime: true keeps writes flowing while the copy runs in the background",
            numbers::hours(pause)
        ));
    }
    Ok(Some(CopyTime {
        data_to_copy_gb: data_gb,
        copy_rate_gb_per_hour: rate,
        rate_basis,
        copy_hours,
        verify_hours,
        write_pause_hours,
        phase: row.id.clone(),
        phase_weeks,
        workings,
    }))
}

/// The notes of the (from, to) pair of a database switch; for an unknown pair a note that the
/// plan is generic, and without both ends the arguments that would give them.
fn pair_notes(
    catalog: &MigrationPlaybook,
    args: &MigrationArgs,
    sources: &mut Vec<String>,
    notes: &mut Vec<String>,
    missing: &mut Vec<MissingInput>,
) -> Vec<PairNote> {
    if args.kind != MigrationKind::DatabaseSwitch {
        return Vec::new();
    }
    let (Some(from), Some(to)) = (&args.from, &args.to) else {
        for (field, value) in [("from", &args.from), ("to", &args.to)] {
            if value.is_none() {
                missing_input(missing, field, "pair_notes");
            }
        }
        return Vec::new();
    };
    let found: Vec<PairNote> = catalog
        .pairs
        .iter()
        .filter(|p| p.matches(from, to))
        .map(|p| p.note.clone())
        .collect();
    if found.is_empty() {
        notes.push(format!(
            "the knowledge base has no notes for {} → {}, so the plan is generic: check by hand the types that do not map one to one, how keys are generated, how text compares and the SQL dialect of the write paths",
            from.trim(),
            to.trim()
        ));
    } else {
        push_unique(sources, catalog.pairs_uri.clone());
    }
    found
}

/// A pair note as a step of its phase (`MySQL → PostgreSQL, zero dates: …`).
fn pair_step(args: &MigrationArgs, note: &PairNote) -> String {
    let end = |name: &Option<String>| name.as_deref().unwrap_or_default().trim().to_string();
    format!(
        "{} → {}, {}: {}",
        end(&args.from),
        end(&args.to),
        note.topic,
        note.action
    )
}

fn weeks_text(start: u64, end: u64) -> String {
    if start == end {
        format!("week {start}")
    } else {
        format!("weeks {start}–{end}")
    }
}

/// The most rows a map or a list of moves shows in the markdown: the text block stays
/// readable (and within what a client passes on) whatever the shard count; the structured
/// result holds the rest.
const MARKDOWN_ROWS: usize = 64;

/// The line that closes a list cut at [`MARKDOWN_ROWS`].
fn write_more(out: &mut String, total: usize, what: &str) {
    if total > MARKDOWN_ROWS {
        let _ = writeln!(
            out,
            "\n… and {} more {what}: the whole list is in the structured result (`detail: full`).",
            numbers::count((total - MARKDOWN_ROWS) as u64)
        );
    }
}

fn write_map(out: &mut String, map: &[ShardRanges]) {
    let _ = writeln!(out, "| shard | virtual shards | count |\n|---|---|---|");
    for s in map.iter().take(MARKDOWN_ROWS) {
        let _ = writeln!(
            out,
            "| {} | {} | {} |",
            s.shard,
            s.virtual_ranges.join(", "),
            numbers::count(s.virtual_shard_count)
        );
    }
    write_more(out, map.len(), "shards");
}

/// How long the copy takes and, with a window, how long writes pause, with the working.
fn write_copy_time(out: &mut String, copy: &CopyTime) {
    let rate = match copy.rate_basis.as_str() {
        "given" => format!(
            "{} GB/h (your rate)",
            numbers::quantity(copy.copy_rate_gb_per_hour)
        ),
        basis => format!(
            "{} GB/h ({basis})",
            numbers::quantity(copy.copy_rate_gb_per_hour)
        ),
    };
    let _ = writeln!(
        out,
        "Copy: {} at {rate}; the `{}` phase takes {} week{}.",
        numbers::hours(copy.copy_hours),
        copy.phase,
        copy.phase_weeks,
        if copy.phase_weeks == 1 { "" } else { "s" }
    );
    match copy.write_pause_hours {
        Some(pause) => {
            let _ = writeln!(
                out,
                "Writes pause for {}: the copy, then its check ({}).",
                numbers::hours(pause),
                numbers::hours(copy.verify_hours.unwrap_or_default())
            );
        }
        None => {
            let _ = writeln!(
                out,
                "Writes keep flowing during the copy, which runs in the background."
            );
        }
    }
    let workings: Vec<String> = copy
        .workings
        .iter()
        .map(|w| format!("`{}` = {} = {}", w.formula, w.substituted, w.value.show()))
        .collect();
    let _ = writeln!(out, "Working: {}.", workings.join("; "));
}

/// The phases as a numbered list with steps, exit criteria and rollback.
pub(crate) fn write_phases(out: &mut String, phases: &[Phase]) {
    for (i, p) in phases.iter().enumerate() {
        let when = match p.weeks {
            0 => format!(
                "inside the same window, {}",
                weeks_text(p.start_week, p.end_week)
            ),
            _ => weeks_text(p.start_week, p.end_week),
        };
        let _ = writeln!(
            out,
            "{}. **{}** (`{}`, {}){}",
            i + 1,
            p.name,
            p.id,
            when,
            if p.adapted_for_downtime {
                ", with a maintenance window"
            } else {
                ""
            }
        );
        for step in &p.steps {
            let _ = writeln!(out, "   - {step}");
        }
        let _ = writeln!(out, "   - Done when: {}", p.exit_criteria);
        let _ = writeln!(out, "   - Rollback: {}", p.rollback);
    }
}

/// The plan as markdown: the headline, the kind's specifics, phases, risks, sources.
pub fn to_markdown(plan: &MigrationPlan) -> String {
    let mut out = String::new();
    let ends = match (&plan.from, &plan.to) {
        (Some(from), Some(to)) => format!(": {from} → {to}"),
        (Some(from), None) => format!(" from {from}"),
        (None, Some(to)) => format!(" to {to}"),
        (None, None) => String::new(),
    };
    let _ = writeln!(
        out,
        "## Migration plan · {}{ends}\n\n{} phases over {} weeks, {}.",
        plan.kind.title(),
        plan.phases.len(),
        plan.total_weeks,
        if plan.zero_downtime {
            "without downtime"
        } else {
            "with a maintenance window"
        }
    );
    if let Some(size) = plan.data_to_copy_gb {
        let _ = writeln!(out, "Data to copy: {} GB.", numbers::quantity(size));
    }
    if let Some(copy) = &plan.copy_time {
        write_copy_time(&mut out, copy);
    }
    if let Some(s) = &plan.shard_strategy {
        let _ = writeln!(
            out,
            "\n**Strategy: {}** on {} virtual shards. Why: {}.\nHow: {}.\n",
            s.strategy,
            numbers::count(s.virtual_shards),
            s.reason,
            s.how
        );
        let _ = writeln!(out, "| strategy | pros | cons |\n|---|---|---|");
        for t in &s.tradeoffs {
            let mark = if t.strategy == s.strategy { " ✔" } else { "" };
            let _ = writeln!(out, "| {}{mark} | {} | {} |", t.strategy, t.pros, t.cons);
        }
        let _ = writeln!(out, "\nShard key:");
        for a in &s.shard_key_advice {
            let _ = writeln!(out, "- {}: {}.", a.advice, a.why);
        }
        if let Some(map) = &s.initial_map {
            let _ = writeln!(out, "\nFirst shard map:\n");
            write_map(&mut out, map);
        }
    }
    if let Some(r) = &plan.reshard {
        let _ = writeln!(
            out,
            "\n**{} → {} shards over {} virtual shards**: {} virtual shards move ({}); plain `key % shards` would move {} (`{}`); a consistent-hashing ring would move about {} (`{}`).",
            numbers::count(r.current_shards),
            numbers::count(r.target_shards),
            numbers::count(r.virtual_shards),
            numbers::count(r.moved_virtual_shards),
            numbers::share(r.moved_fraction),
            numbers::share(r.naive_modulo_moved_fraction),
            r.naive_modulo_formula,
            numbers::share(r.consistent_hashing_moved_fraction),
            r.consistent_hashing_formula
        );
        if let Some(gb) = r.moved_data_gb {
            let _ = writeln!(out, "About {} GB of data moves.", numbers::quantity(gb));
        }
        let _ = writeln!(out, "\nNew shard map:\n");
        write_map(&mut out, &r.shard_map);
        let _ = writeln!(out, "\nMoves:");
        for m in r.moves.iter().take(MARKDOWN_ROWS) {
            let _ = writeln!(
                out,
                "- {} → {}: {} ({})",
                m.from,
                m.to,
                m.virtual_ranges.join(", "),
                numbers::count(m.virtual_shard_count)
            );
        }
        write_more(&mut out, r.moves.len(), "moves");
    }
    if !plan.pair_notes.is_empty() {
        let pair = match (&plan.from, &plan.to) {
            (Some(from), Some(to)) => format!("{} → {}", from.trim(), to.trim()),
            _ => "this pair".to_string(),
        };
        let _ = writeln!(
            out,
            "\n### What {pair} needs\n\nEach is also a step of its phase below.\n"
        );
        for n in &plan.pair_notes {
            let _ = writeln!(
                out,
                "- **{}** (`{}`): {}. Source: {}.",
                n.topic, n.phase, n.action, n.source
            );
        }
    }
    let _ = writeln!(out, "\n### Phases\n");
    write_phases(&mut out, &plan.phases);
    let _ = writeln!(out, "\n### Risks\n");
    for r in &plan.risks {
        let _ = writeln!(out, "- {} → {}", r.risk, r.mitigation);
    }
    if !plan.notes.is_empty() {
        let _ = writeln!(out, "\nNotes: {}.", plan.notes.join("; "));
    }
    sources(&mut out, &plan.sources);
    out
}

/// "reshard: 5 phases over 9 weeks; 4,096 → 4,000 shards over 65,536 virtual shards moves
/// 1,536 virtual shards (2.3%), against 97.7% for key % shards."
fn summary_of(plan: &MigrationPlan) -> String {
    let mut out = format!(
        "{}: {} phases over {} weeks",
        plan.kind.id(),
        plan.phases.len(),
        plan.total_weeks
    );
    if let (Some(from), Some(to)) = (&plan.from, &plan.to) {
        out.push_str(&format!(", {from} to {to}"));
    }
    if let Some(s) = &plan.shard_strategy {
        out.push_str(&format!(
            "; {} sharding on {} virtual shards",
            s.strategy,
            numbers::count(s.virtual_shards)
        ));
    }
    if let Some(r) = &plan.reshard {
        out.push_str(&format!(
            "; {} → {} shards over {} virtual shards moves {} virtual shards ({}), against {} for key % shards",
            numbers::count(r.current_shards),
            numbers::count(r.target_shards),
            numbers::count(r.virtual_shards),
            numbers::count(r.moved_virtual_shards),
            numbers::share(r.moved_fraction),
            numbers::share(r.naive_modulo_moved_fraction)
        ));
    }
    match &plan.copy_time {
        Some(copy) => {
            out.push_str(&format!(
                "; {} GB to copy at {} GB/h: {}",
                numbers::quantity(copy.data_to_copy_gb),
                numbers::quantity(copy.copy_rate_gb_per_hour),
                numbers::hours(copy.copy_hours)
            ));
            if let Some(pause) = copy.write_pause_hours {
                out.push_str(&format!(", writes pause for {}", numbers::hours(pause)));
            }
        }
        None => {
            if let Some(gb) = plan.data_to_copy_gb {
                out.push_str(&format!("; {} GB to copy", numbers::quantity(gb)));
            }
        }
    }
    if !plan.pair_notes.is_empty() {
        out.push_str(&format!("; {} notes for this pair", plan.pair_notes.len()));
    }
    out.push_str(&format!(
        "; {} risk{}.",
        plan.risks.len(),
        if plan.risks.len() == 1 { "" } else { "s" }
    ));
    crate::summary(out)
}

/// Counts the bytes written to it, keeping none.
struct ByteCount(usize);

impl std::io::Write for ByteCount {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0 += bytes.len();
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The compact JSON size of a value, as the client receives it (serde_json writes the answer),
/// counted without building the text: a large answer's size is known without a second copy of
/// it in memory.
fn json_size<T: Serialize>(value: &T) -> usize {
    let mut count = ByteCount(0);
    match serde_json::to_writer(&mut count, value) {
        Ok(()) => count.0,
        Err(_) => usize::MAX,
    }
}

/// Bytes kept free under a cap for the `truncated` note itself.
const NOTE_ROOM: usize = 1024;

/// Cuts `list` from the end so that the answer sheds at least `excess` bytes (which it then
/// lowers by what was shed); returns how many items stay and how many there were, or None
/// when nothing had to go.
fn cut<T: Serialize>(list: &mut Vec<T>, excess: &mut usize) -> Option<(u64, u64)> {
    if *excess == 0 || list.is_empty() {
        return None;
    }
    let total = list.len();
    let mut shed = 0;
    while shed < *excess
        && let Some(item) = list.pop()
    {
        shed += json_size(&item) + 1;
    }
    *excess = excess.saturating_sub(shed);
    Some((list.len() as u64, total as u64))
}

/// The note of a cut list.
fn truncated(field: &str, (shown, total): (u64, u64), how_to_get_more: &str) -> Truncated {
    Truncated {
        field: field.to_string(),
        shown,
        total,
        how_to_get_more: how_to_get_more.to_string(),
    }
}

/// The rows of a first shard map that concise shows: the first blocks show the layout, and
/// the rule (`truncated` states it) gives the rest.
const CONCISE_INITIAL_MAP_ROWS: usize = 2;

/// Concise drops the per-virtual-shard moves (their count stays), the strategies' rule texts
/// and the notes' repetition of `missing_inputs`, and shows the first rows of a first shard
/// map (a list the contract does not name, which its rule spells out); then, in either detail,
/// a list that would pass the cap is cut: the moves first (they follow from the two maps),
/// then the maps.
fn shape_plan(plan: &mut MigrationPlan, detail: Detail) {
    if !detail.is_full() {
        if let Some(r) = plan.reshard.as_mut() {
            r.moves.clear();
        }
        if let Some(s) = plan.shard_strategy.as_mut() {
            for t in &mut s.tradeoffs {
                t.chosen_when = None;
            }
            if let Some(map) = s.initial_map.as_mut()
                && map.len() > CONCISE_INITIAL_MAP_ROWS
            {
                let total = map.len() as u64;
                map.truncate(CONCISE_INITIAL_MAP_ROWS);
                plan.truncated = Some(truncated(
                    "shard_strategy.initial_map",
                    (CONCISE_INITIAL_MAP_ROWS as u64, total),
                    "call again with detail: full; shard_k holds the k-th of the target_shards equal contiguous blocks of the virtual shards",
                ));
            }
        }
    }
    let cap = detail.max_bytes() - NOTE_ROOM;
    let more_in_full = "call again with detail: full for the whole list";
    let mut excess = json_size(&*plan).saturating_sub(cap);
    if let Some(r) = plan.reshard.as_mut()
        && let Some(counts) = cut(&mut r.moves, &mut excess)
    {
        plan.truncated = Some(truncated(
            "reshard.moves",
            counts,
            "the rest follows from the two maps: today the virtual shards are dealt in contiguous blocks from shard_1 on (virtual_shards / current_shards each, one more for the first virtual_shards mod current_shards), and each moves to the shard whose virtual_ranges in shard_map hold it",
        ));
    }
    if let Some(r) = plan.reshard.as_mut()
        && let Some(counts) = cut(&mut r.shard_map, &mut excess)
    {
        let how = if detail.is_full() {
            "fewer virtual_shards give a shorter map"
        } else {
            more_in_full
        };
        plan.truncated = Some(truncated("reshard.shard_map", counts, how));
    }
    if let Some(map) = plan
        .shard_strategy
        .as_mut()
        .and_then(|s| s.initial_map.as_mut())
        && let Some(counts) = cut(map, &mut excess)
    {
        let how = if detail.is_full() {
            "shard_k holds the k-th of target_shards equal contiguous blocks of the virtual shards"
        } else {
            more_in_full
        };
        plan.truncated = Some(truncated("shard_strategy.initial_map", counts, how));
    }
}

/// The `plan_migration` tool.
pub struct PlanMigration;

impl Tool for PlanMigration {
    // What concise leaves out (issue 26): the arguments echoed back when they say nothing,
    // each phase's calendar (`weeks` stays; phases run one after another) and its
    // `adapted_for_downtime` when false, the strategies' pros and cons and the chosen one's
    // `how` (its trade-off row states it), the shard-key advice (the `choose_key` phase and
    // the risks state it), the formulas' texts, counts a map's ranges already give, the copied
    // data stated again (`data_to_copy_gb` stays) and empty notes. Phase texts (`steps`,
    // `exit_criteria`, `rollback`), risks and the other kind's null block are the contract's
    // and stay. A new per-phase or per-plan extra belongs here, as `field?` when its default
    // says nothing.
    const CONCISE_OMITS: &'static [&'static str] = &[
        "from?",
        "to?",
        "phases[].start_week",
        "phases[].end_week",
        "phases[].adapted_for_downtime?",
        "shard_strategy.how",
        "shard_strategy.tradeoffs[].pros",
        "shard_strategy.tradeoffs[].cons",
        "shard_strategy.shard_key_advice",
        "shard_strategy.initial_map[].virtual_shard_count",
        "reshard.naive_modulo_formula",
        "reshard.consistent_hashing_formula",
        "reshard.moved_data_gb",
        "reshard.shard_map[].virtual_shard_count",
        "data_to_copy_gb?",
        "notes?",
        // Each action is also a step of its phase, and each note's public source is named in
        // the row the result's `sources` cite (migrations#pair-notes).
        "pair_notes[].action",
        "pair_notes[].source",
        // copy_hours = data_to_copy_gb / copy_rate_gb_per_hour and the phase's weeks stand
        // beside each other in `copy_time`; the workings spell the same division out.
        "copy_time.workings",
        "copy_time.verify_hours?",
        "copy_time.write_pause_hours?",
    ];
    const NAME: &'static str = "plan_migration";
    const TITLE: &'static str = "Plan a migration";
    // The structured cap of `full`, plus the markdown, whose maps and moves stop at
    // MARKDOWN_ROWS rows.
    const MAX_RESULT_CHARS: Option<usize> = Some(crate::FULL_MAX_BYTES + 64 * 1024);
    const DESCRIPTION: &'static str = "Plan a migration: MySQL to Postgres, shard, reshard, functional partition, cache, replicas, multi-region; phases, rollback, weeks, risks.";
    type Args = MigrationArgs;
    type Output = MigrationPlan;
    type Tables = MigrationPlaybook;

    fn load(knowledge: &Knowledge) -> Result<MigrationPlaybook, KnowledgeError> {
        MigrationPlaybook::load(knowledge)
    }

    fn run(advisor: &Advisor, args: MigrationArgs) -> Result<MigrationPlan, ArgError> {
        run(advisor, args)
    }

    fn to_markdown(output: &MigrationPlan) -> String {
        to_markdown(output)
    }

    fn shape(output: &mut MigrationPlan, detail: Detail) {
        shape_plan(output, detail);
    }
}

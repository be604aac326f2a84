//! `size_cache`: from the data (or its hot part) to cache memory, nodes and the database reads
//! left, plus the write strategy, invalidation, TTL and stampede protection to use. The
//! formulas, defaults and rule tables are those of `caching`; this file does the arithmetic
//! exactly, refuses inputs whose results would not be finite, and shows every working.
//!
//! The workings (`Working`, `Formulas`) live in `calculator`, shared with `plan_capacity`.

use std::fmt::Write;

use knowledge::{Condition, Knowledge, KnowledgeError, TableRef, Vocabulary};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::calculator::{
    DefaultApplied, Figure, Formulas, Ledger, Working, push_workings, read_defaults, show,
};
use crate::markdown::{push_unique, sources};
use crate::numbers;
use crate::{Advisor, ArgError, Detail, MissingInput, Tool};

// The cache to size: the data, optionally the node size and traffic, and what the data needs.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SizeCacheArgs {
    /// Hot data, GB (or total_data_gb).
    #[schemars(range(min = 0))]
    pub working_set_gb: Option<f64>,
    /// All data, GB.
    #[schemars(range(min = 0))]
    pub total_data_gb: Option<f64>,
    /// Hot share of total_data_gb. Default 0.2.
    #[schemars(range(min = 0, max = 1))]
    pub hot_fraction: Option<f64>,
    /// Memory per GB of data. Default 1.5.
    #[schemars(range(min = 1))]
    pub overhead_factor: Option<f64>,
    /// Node memory, GB; gives nodes.
    #[schemars(extend("exclusiveMinimum" = 0))]
    pub node_memory_gb: Option<f64>,
    /// Node memory to fill, %. Default 75.
    #[schemars(range(min = 1, max = 100))]
    pub max_memory_utilization_pct: Option<f64>,
    /// Replicas per primary. Default 0.
    pub replicas: Option<u64>,
    /// Ops/s per node.
    #[serde(default)]
    pub engine: Engine,
    /// Measured ops/s per node.
    #[schemars(extend("exclusiveMinimum" = 0))]
    pub node_ops_per_sec: Option<f64>,
    /// Cache reads/s; gives DB reads.
    #[schemars(extend("exclusiveMinimum" = 0))]
    pub requests_per_sec: Option<f64>,
    /// Hit rate, %; gives DB reads.
    #[schemars(range(min = 0, max = 100))]
    pub hit_rate_pct: Option<f64>,
    /// No stale reads.
    #[serde(default)]
    pub strong_freshness: bool,
    /// Writes are frequent.
    #[serde(default)]
    pub write_heavy: bool,
    /// Losing recent writes is OK.
    #[serde(default)]
    pub tolerates_data_loss: bool,
    /// Misses are expensive.
    #[serde(default)]
    pub expensive_misses: bool,
    /// concise (default) or full.
    #[serde(default)]
    pub detail: Detail,
}

/// The cache engine, whose row of `caching#node-throughput` gives the operations per second one
/// node serves: a node count must carry the request rate as well as hold the memory.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Engine {
    #[default]
    Redis,
    Memcached,
}

impl Engine {
    const ALL: [Engine; 2] = [Self::Redis, Self::Memcached];
    pub fn id(self) -> &'static str {
        match self {
            Self::Redis => "redis",
            Self::Memcached => "memcached",
        }
    }
}

/// How writes reach the cache, as named in `caching#write-strategies`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum WriteStrategy {
    WriteThrough,
    WriteBehind,
    RefreshAhead,
    CacheAside,
}

impl WriteStrategy {
    const ALL: [WriteStrategy; 4] = [
        Self::WriteThrough,
        Self::WriteBehind,
        Self::RefreshAhead,
        Self::CacheAside,
    ];
    pub fn id(self) -> &'static str {
        match self {
            Self::WriteThrough => "write_through",
            Self::WriteBehind => "write_behind",
            Self::RefreshAhead => "refresh_ahead",
            Self::CacheAside => "cache_aside",
        }
    }
}

/// How entries are kept from going stale, as named in `caching#invalidation-strategies`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Invalidation {
    Ttl,
    EventBased,
    VersionBased,
}

impl Invalidation {
    const ALL: [Invalidation; 3] = [Self::Ttl, Self::EventBased, Self::VersionBased];
    pub fn id(self) -> &'static str {
        match self {
            Self::Ttl => "ttl",
            Self::EventBased => "event_based",
            Self::VersionBased => "version_based",
        }
    }
}

/// The write strategy's rule and trade-offs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct StrategyDetails {
    /// The rule of `caching#write-strategies` that matched (first match wins).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub rule: String,
    pub how: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub pros: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub cons: String,
}

/// The invalidation strategy's rule, reason and trade-offs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct InvalidationDetails {
    /// The rule of `caching#invalidation-rules` that matched (first match wins).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub rule: String,
    pub reason: String,
    pub how: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub pros: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub cons: String,
}

/// Where the TTL suggestion comes from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct TtlDetails {
    /// The rule of `caching#ttl-rules` that matched (first match wins).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub rule: String,
    /// The row of `caching#what-to-cache` the TTL is taken from.
    pub like: String,
    pub reason: String,
}

/// One protection against a cache stampede (thundering herd).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Protection {
    /// request_coalescing, probabilistic_early_refresh, ttl_jitter, cache_warming, or a name the knowledge base adds.
    pub name: String,
    pub how: String,
}

/// The cache sizing and how to run the cache.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct CacheSizing {
    /// The answer in one sentence or two: memory, nodes, reads left, strategy and TTL.
    pub summary: String,
    /// The hot data, GB: given, or total_data_gb × hot_fraction.
    pub working_set_gb: f64,
    /// Cache memory, GB: working_set_gb × overhead_factor.
    pub memory_gb: f64,
    /// Primary nodes, with `node_memory_gb`: the larger of memory_nodes and throughput_nodes.
    pub nodes: Option<u64>,
    /// Nodes the memory needs, with `node_memory_gb`: ceil(memory_gb / (node_memory_gb × max_memory_utilization_pct / 100)).
    pub memory_nodes: Option<u64>,
    /// Nodes the request rate needs, with `requests_per_sec`: ceil(requests_per_sec / node_ops_per_sec).
    pub throughput_nodes: Option<u64>,
    /// Operations per second one node serves: given, or the engine's row of `caching#node-throughput`.
    pub node_ops_per_sec: f64,
    /// Nodes with replicas: nodes × (1 + replicas).
    pub total_nodes: Option<u64>,
    /// Reads per second still reaching the database, with `requests_per_sec` and `hit_rate_pct`.
    pub db_reads_per_sec: Option<f64>,
    /// write_through when reads must be fresh, else write_behind when write-heavy and data loss is tolerated, else refresh_ahead when misses are expensive, else cache_aside.
    pub strategy: WriteStrategy,
    pub strategy_details: StrategyDetails,
    pub invalidation: Invalidation,
    pub invalidation_details: InvalidationDetails,
    /// Suggested time to live of an entry, seconds.
    pub ttl_seconds: u64,
    pub ttl_details: TtlDetails,
    /// Protections against a stampede when hot keys expire, fastest to put in place first.
    pub stampede_protection: Vec<Protection>,
    /// Every computed figure: formula, numbers substituted, value.
    pub workings: Vec<Working>,
    /// The defaults used for arguments not given.
    pub defaults_applied: Vec<DefaultApplied>,
    /// Figures left out and what they need.
    /// Figures left out, in words (`detail: full`; `missing_inputs` lists the arguments).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    /// Arguments not given that would have added a figure.
    pub missing_inputs: Vec<MissingInput>,
    pub sources: Vec<String>,
}

// ---------------------------------------------------------------------------------------------
// The tables of `caching`.

struct StrategyRule {
    strategy: WriteStrategy,
    when: Condition,
    how: String,
    pros: String,
    cons: String,
}

struct InvalidationRow {
    strategy: Invalidation,
    how: String,
    pros: String,
    cons: String,
}

struct InvalidationRule {
    when: Condition,
    strategy: Invalidation,
    reason: String,
}

struct TtlRule {
    when: Condition,
    like: String,
    ttl_seconds: u64,
    reason: String,
}

struct ProtectionRow {
    name: String,
    when: Condition,
    how: String,
    sources: Vec<String>,
}

/// The defaults of `caching#sizing-defaults`.
struct SizingDefaults {
    hot_fraction: f64,
    overhead_factor: f64,
    max_memory_utilization_pct: f64,
    replicas: u64,
}

/// The tables `size_cache` applies, read once from the knowledge base.
pub struct CacheSizingTables {
    defaults: SizingDefaults,
    defaults_uri: String,
    formulas: Formulas,
    strategies: Vec<StrategyRule>,
    strategies_uri: String,
    invalidations: Vec<InvalidationRow>,
    invalidations_uri: String,
    invalidation_rules: Vec<InvalidationRule>,
    invalidation_rules_uri: String,
    ttl_rules: Vec<TtlRule>,
    ttl_uris: [String; 2],
    protections: Vec<ProtectionRow>,
    protections_uri: String,
    node_throughput: Vec<(Engine, f64)>,
    node_throughput_uri: String,
}

/// The quantities `size_cache` computes, in order, and the quantities each formula may name
/// (the values the calculator has at that point and substitutes).
const FORMULAS: [(&str, &[&str]); 7] = [
    ("working_set_gb", &["total_data_gb", "hot_fraction"]),
    ("memory_gb", &["working_set_gb", "overhead_factor"]),
    (
        "memory_nodes",
        &["memory_gb", "node_memory_gb", "max_memory_utilization_pct"],
    ),
    (
        "throughput_nodes",
        &["requests_per_sec", "node_ops_per_sec"],
    ),
    ("nodes", &["memory_nodes", "throughput_nodes"]),
    ("total_nodes", &["nodes", "replicas"]),
    ("db_reads_per_sec", &["requests_per_sec", "hit_rate_pct"]),
];

const DEFAULTS: [&str; 4] = [
    "hot_fraction",
    "overhead_factor",
    "max_memory_utilization_pct",
    "replicas",
];

/// The flags and numbers of `size_cache`'s arguments, which its rule tables may use.
pub(crate) fn vocabulary_of<Args: JsonSchema>() -> Vocabulary {
    let schema = schemars::schema_for!(Args);
    let mut vocabulary = Vocabulary::default();
    if let Some(properties) = schema.get("properties").and_then(Value::as_object) {
        for (name, property) in properties {
            let text = property.to_string();
            if text.contains("\"boolean\"") {
                vocabulary.flags.push(name.clone());
            } else if text.contains("\"number\"") || text.contains("\"integer\"") {
                vocabulary.numbers.push(name.clone());
            }
        }
    }
    vocabulary
}

fn ordered_rules<T>(
    table: &TableRef<'_>,
    rules: &[T],
    when: impl Fn(&T) -> &Condition,
) -> Result<(), KnowledgeError> {
    match rules.last() {
        Some(last) if when(last).is_otherwise() => Ok(()),
        _ => Err(table.error("the last rule must be `otherwise`, so that one always matches")),
    }
}

impl CacheSizingTables {
    pub(crate) fn load(knowledge: &Knowledge) -> Result<Self, KnowledgeError> {
        let vocabulary = vocabulary_of::<SizeCacheArgs>();

        let table = knowledge.table("caching", "sizing-defaults")?;
        let values = read_defaults::<SizeCacheArgs>(&table, &DEFAULTS)?;
        let defaults = SizingDefaults {
            hot_fraction: values[0],
            overhead_factor: values[1],
            max_memory_utilization_pct: values[2],
            // `read_defaults` checked it is a whole number of at least 0.
            replicas: values[3] as u64,
        };
        let defaults_uri = table.uri();

        let formulas = Formulas::load(knowledge, "caching", "sizing-formulas", &FORMULAS)?;
        let (strategies, strategies_uri) = write_strategies(knowledge, &vocabulary)?;
        let (invalidations, invalidations_uri) = invalidation_strategies(knowledge)?;
        let (invalidation_rules, invalidation_rules_uri) =
            invalidation_rules(knowledge, &vocabulary, &invalidations)?;
        let (ttl_rules, ttl_uris) = ttl_rules(knowledge, &vocabulary)?;
        let (protections, protections_uri) = stampede_protections(knowledge, &vocabulary)?;
        let (node_throughput, node_throughput_uri) = node_throughput(knowledge)?;

        Ok(Self {
            defaults,
            defaults_uri,
            formulas,
            strategies,
            strategies_uri,
            invalidations,
            invalidations_uri,
            invalidation_rules,
            invalidation_rules_uri,
            ttl_rules,
            ttl_uris,
            protections,
            protections_uri,
            node_throughput,
            node_throughput_uri,
        })
    }
}

/// `caching#write-strategies`: ordered rules, the last `otherwise`.
fn write_strategies(
    knowledge: &Knowledge,
    vocabulary: &Vocabulary,
) -> Result<(Vec<StrategyRule>, String), KnowledgeError> {
    let table = knowledge.table("caching", "write-strategies")?;
    table.require_columns(&["strategy", "when", "how", "pros", "cons"])?;
    let strategies = table
        .rows()
        .map(|row| {
            let name = row.one_of("strategy", &WriteStrategy::ALL.map(WriteStrategy::id))?;
            Ok(StrategyRule {
                strategy: WriteStrategy::ALL
                    .into_iter()
                    .find(|s| s.id() == name)
                    .unwrap_or(WriteStrategy::CacheAside),
                when: row.condition("when", vocabulary)?,
                how: row.required("how")?.to_string(),
                pros: row.required("pros")?.to_string(),
                cons: row.required("cons")?.to_string(),
            })
        })
        .collect::<Result<Vec<_>, KnowledgeError>>()?;
    ordered_rules(&table, &strategies, |r| &r.when)?;
    Ok((strategies, table.uri()))
}

/// `caching#invalidation-strategies`: how each strategy works, with its trade-offs.
fn invalidation_strategies(
    knowledge: &Knowledge,
) -> Result<(Vec<InvalidationRow>, String), KnowledgeError> {
    let table = knowledge.table("caching", "invalidation-strategies")?;
    table.require_columns(&["strategy", "how", "pros", "cons"])?;
    let invalidations = table
        .rows()
        .map(|row| {
            let name = row.one_of("strategy", &Invalidation::ALL.map(Invalidation::id))?;
            Ok(InvalidationRow {
                strategy: Invalidation::ALL
                    .into_iter()
                    .find(|s| s.id() == name)
                    .unwrap_or(Invalidation::Ttl),
                how: row.required("how")?.to_string(),
                pros: row.required("pros")?.to_string(),
                cons: row.required("cons")?.to_string(),
            })
        })
        .collect::<Result<Vec<_>, KnowledgeError>>()?;
    Ok((invalidations, table.uri()))
}

/// `caching#invalidation-rules`: ordered rules, each naming a row of the strategies above.
fn invalidation_rules(
    knowledge: &Knowledge,
    vocabulary: &Vocabulary,
    invalidations: &[InvalidationRow],
) -> Result<(Vec<InvalidationRule>, String), KnowledgeError> {
    let table = knowledge.table("caching", "invalidation-rules")?;
    table.require_columns(&["when", "strategy", "reason"])?;
    let rules = table
        .rows()
        .map(|row| {
            let name = row.one_of("strategy", &Invalidation::ALL.map(Invalidation::id))?;
            let strategy = invalidations
                .iter()
                .find(|i| i.strategy.id() == name)
                .map(|i| i.strategy)
                .ok_or_else(|| {
                    row.error(format!(
                        "`{name}` has no row in `caching#invalidation-strategies`"
                    ))
                })?;
            Ok(InvalidationRule {
                when: row.condition("when", vocabulary)?,
                strategy,
                reason: row.required("reason")?.to_string(),
            })
        })
        .collect::<Result<Vec<_>, KnowledgeError>>()?;
    ordered_rules(&table, &rules, |r| &r.when)?;
    Ok((rules, table.uri()))
}

/// `caching#ttl-rules`: ordered rules, each taking its TTL from a row of
/// `caching#what-to-cache`, inside that row's range.
fn ttl_rules(
    knowledge: &Knowledge,
    vocabulary: &Vocabulary,
) -> Result<(Vec<TtlRule>, [String; 2]), KnowledgeError> {
    let what = knowledge.table("caching", "what-to-cache")?;
    what.require_columns(&["data", "ttl_seconds_min", "ttl_seconds_max"])?;
    let table = knowledge.table("caching", "ttl-rules")?;
    table.require_columns(&["when", "data", "ttl_seconds", "reason"])?;
    let rules = table
        .rows()
        .map(|row| {
            let like = row.required("data")?;
            let ttl_seconds = row.integer("ttl_seconds")?;
            let data = what
                .rows()
                .find(|r| r.text("data").is_ok_and(|d| d == like))
                .ok_or_else(|| {
                    row.error(format!("`{like}` is no row of `caching#what-to-cache`"))
                })?;
            let (min, max) = (
                data.optional_number("ttl_seconds_min")?,
                data.optional_number("ttl_seconds_max")?,
            );
            let ttl = ttl_seconds as f64;
            if min.is_none_or(|m| ttl < m) || max.is_none_or(|m| ttl > m) {
                return Err(row.error(format!(
                    "ttl_seconds {ttl_seconds} lies outside the range of `{like}` in `caching#what-to-cache`"
                )));
            }
            Ok(TtlRule {
                when: row.condition("when", vocabulary)?,
                like: like.to_string(),
                ttl_seconds,
                reason: row.required("reason")?.to_string(),
            })
        })
        .collect::<Result<Vec<_>, KnowledgeError>>()?;
    ordered_rules(&table, &rules, |r| &r.when)?;
    Ok((rules, [table.uri(), what.uri()]))
}

/// `caching#stampede-protection`: every row whose condition holds applies.
fn stampede_protections(
    knowledge: &Knowledge,
    vocabulary: &Vocabulary,
) -> Result<(Vec<ProtectionRow>, String), KnowledgeError> {
    let table = knowledge.table("caching", "stampede-protection")?;
    table.require_columns(&["protection", "when", "how", "see"])?;
    table.require_rows()?;
    let protections = table
        .rows()
        .map(|row| {
            Ok(ProtectionRow {
                name: row.required("protection")?.to_string(),
                when: row.condition("when", vocabulary)?,
                how: row.required("how")?.to_string(),
                sources: knowledge.references(&row, "see")?,
            })
        })
        .collect::<Result<Vec<_>, KnowledgeError>>()?;
    Ok((protections, table.uri()))
}

/// `caching#node-throughput`: the operations per second one node of each engine serves, a row
/// for every engine `size_cache` accepts.
fn node_throughput(knowledge: &Knowledge) -> Result<(Vec<(Engine, f64)>, String), KnowledgeError> {
    let table = knowledge.table("caching", "node-throughput")?;
    table.require_columns(&["engine", "ops_per_sec"])?;
    let mut rows = Vec::new();
    for row in table.rows() {
        let name = row.one_of("engine", &Engine::ALL.map(Engine::id))?;
        let engine = Engine::ALL
            .into_iter()
            .find(|e| e.id() == name)
            .unwrap_or_default();
        let ops = row.number("ops_per_sec")?;
        if !(ops.is_finite() && ops > 0.0) {
            return Err(row.error(format!("ops_per_sec must be above 0, found {ops}")));
        }
        rows.push((engine, ops));
    }
    if let Some(engine) = Engine::ALL
        .into_iter()
        .find(|e| !rows.iter().any(|(r, _)| r == e))
    {
        return Err(table.error(format!("the table needs a row for `{}`", engine.id())));
    }
    Ok((rows, table.uri()))
}

fn first_match<'a, T>(
    rules: &'a [T],
    when: impl Fn(&T) -> &Condition,
    facts: &Map<String, Value>,
) -> Result<&'a T, ArgError> {
    // `load` requires a last rule of `otherwise`, so a rule always matches.
    rules
        .iter()
        .find(|r| when(r).holds(facts))
        .ok_or_else(|| ArgError::internal("no rule matched although the last is `otherwise`"))
}

/// Sizes a cache described by `args`.
pub fn run(advisor: &Advisor, args: SizeCacheArgs) -> Result<CacheSizing, ArgError> {
    size(advisor.tables::<SizeCache>()?, &args)
}

/// The steps of a sizing, in order: the working set, the memory, the nodes, the database
/// reads left, and how to run the cache. Each step adds its figures to one ledger.
fn size(catalog: &CacheSizingTables, args: &SizeCacheArgs) -> Result<CacheSizing, ArgError> {
    let mut ledger = Ledger::default();
    let working_set_gb = working_set(catalog, args, &mut ledger)?;
    let memory_gb = memory(catalog, args, working_set_gb, &mut ledger)?;
    let node_ops_per_sec = node_ops_per_sec(catalog, args);
    let counts = node_counts(catalog, args, memory_gb, node_ops_per_sec, &mut ledger)?;
    if !ledger.defaults_applied.is_empty() {
        ledger.cite(&catalog.defaults_uri);
    }
    let db_reads_per_sec = db_reads(catalog, args, &mut ledger)?;
    let practice = practice(catalog, args, &mut ledger.sources)?;

    let mut sizing = CacheSizing {
        summary: String::new(),
        working_set_gb,
        memory_gb,
        nodes: counts.nodes,
        memory_nodes: counts.memory_nodes,
        throughput_nodes: counts.throughput_nodes,
        node_ops_per_sec,
        total_nodes: counts.total_nodes,
        db_reads_per_sec,
        strategy: practice.strategy,
        strategy_details: practice.strategy_details,
        invalidation: practice.invalidation,
        invalidation_details: practice.invalidation_details,
        ttl_seconds: practice.ttl_seconds,
        ttl_details: practice.ttl_details,
        stampede_protection: practice.stampede_protection,
        workings: ledger.workings,
        defaults_applied: ledger.defaults_applied,
        notes: ledger.notes,
        missing_inputs: ledger.missing,
        sources: ledger.sources,
    };
    sizing.summary = summary_of(&sizing);
    Ok(sizing)
}

/// The working set: given, or the hot part of the total (exactly one of the two).
fn working_set(
    catalog: &CacheSizingTables,
    args: &SizeCacheArgs,
    ledger: &mut Ledger,
) -> Result<f64, ArgError> {
    match (args.working_set_gb, args.total_data_gb) {
        (Some(_), Some(total)) => Err(ArgError::number(
            "total_data_gb",
            total,
            "no total_data_gb when working_set_gb is given (give exactly one of them)",
        )),
        (None, None) => Err(ArgError::new(
            "working_set_gb",
            "neither working_set_gb nor total_data_gb",
            "exactly one of working_set_gb (the hot data, GB) or total_data_gb (all the data, GB, with hot_fraction)",
        )),
        (Some(working_set), None) => match args.hot_fraction {
            Some(hot) => Err(ArgError::number(
                "hot_fraction",
                hot,
                "no hot_fraction when working_set_gb is given (it applies to total_data_gb only)",
            )),
            None => Ok(working_set),
        },
        (None, Some(total)) => {
            let hot = ledger.amount_or_default(
                "hot_fraction",
                args.hot_fraction,
                catalog.defaults.hot_fraction,
            );
            let operands = [
                ("total_data_gb", Figure::Amount(total)),
                ("hot_fraction", Figure::Amount(hot)),
            ];
            ledger.amount(
                &catalog.formulas,
                "working_set_gb",
                &operands,
                ("total_data_gb", total),
            )
        }
    }
}

/// The cache memory: the working set times the overhead of the data structures.
fn memory(
    catalog: &CacheSizingTables,
    args: &SizeCacheArgs,
    working_set_gb: f64,
    ledger: &mut Ledger,
) -> Result<f64, ArgError> {
    let overhead = ledger.amount_or_default(
        "overhead_factor",
        args.overhead_factor,
        catalog.defaults.overhead_factor,
    );
    let operands = [
        ("working_set_gb", Figure::Amount(working_set_gb)),
        ("overhead_factor", Figure::Amount(overhead)),
    ];
    // Too much memory is the fault of the data size the caller gave.
    let blamed = match args.total_data_gb {
        Some(total) => ("total_data_gb", total),
        None => ("working_set_gb", working_set_gb),
    };
    ledger.amount(&catalog.formulas, "memory_gb", &operands, blamed)
}

/// The node counts: what the memory needs (with a node size), what the request rate needs
/// (with a rate), the larger of the two, and that with replicas.
#[derive(Default)]
struct NodeCounts {
    memory_nodes: Option<u64>,
    throughput_nodes: Option<u64>,
    nodes: Option<u64>,
    total_nodes: Option<u64>,
}

/// The node counts; what is missing for each is noted. A node holds memory and serves
/// operations, so the count is the larger of the two needs, never the memory alone.
fn node_counts(
    catalog: &CacheSizingTables,
    args: &SizeCacheArgs,
    memory_gb: f64,
    node_ops_per_sec: f64,
    ledger: &mut Ledger,
) -> Result<NodeCounts, ArgError> {
    let memory_nodes = memory_nodes(catalog, args, memory_gb, ledger)?;
    let throughput_nodes = throughput_nodes(catalog, args, node_ops_per_sec, ledger)?;
    let Some(memory) = memory_nodes else {
        return Ok(NodeCounts {
            throughput_nodes,
            ..NodeCounts::default()
        });
    };
    let nodes = match throughput_nodes {
        Some(throughput) => {
            let operands = [
                ("memory_nodes", Figure::Count(memory)),
                ("throughput_nodes", Figure::Count(throughput)),
            ];
            ledger.count(
                &catalog.formulas,
                "nodes",
                &operands,
                ("requests_per_sec", throughput.to_string()),
            )?
        }
        None => memory,
    };
    let replicas = ledger.count_or_default("replicas", args.replicas, catalog.defaults.replicas);
    let operands = [
        ("nodes", Figure::Count(nodes)),
        ("replicas", Figure::Count(replicas)),
    ];
    let total = ledger.count(
        &catalog.formulas,
        "total_nodes",
        &operands,
        ("replicas", replicas.to_string()),
    )?;
    Ok(NodeCounts {
        memory_nodes,
        throughput_nodes,
        nodes: Some(nodes),
        total_nodes: Some(total),
    })
}

/// The nodes the request rate needs at a node's operations per second: `None` without a
/// rate, which is then noted as missing.
fn throughput_nodes(
    catalog: &CacheSizingTables,
    args: &SizeCacheArgs,
    node_ops_per_sec: f64,
    ledger: &mut Ledger,
) -> Result<Option<u64>, ArgError> {
    let Some(requests) = args.requests_per_sec else {
        ledger.missing("requests_per_sec", "throughput_nodes");
        return Ok(None);
    };
    let operands = [
        ("requests_per_sec", Figure::Amount(requests)),
        ("node_ops_per_sec", Figure::Amount(node_ops_per_sec)),
    ];
    let count = ledger.count(
        &catalog.formulas,
        "throughput_nodes",
        &operands,
        ("requests_per_sec", show(requests)),
    )?;
    ledger.cite(&catalog.node_throughput_uri);
    Ok(Some(count))
}

/// The nodes the memory needs, with headroom: `None` without a node size, which is then
/// noted as missing.
fn memory_nodes(
    catalog: &CacheSizingTables,
    args: &SizeCacheArgs,
    memory_gb: f64,
    ledger: &mut Ledger,
) -> Result<Option<u64>, ArgError> {
    let Some(node_memory_gb) = args.node_memory_gb else {
        ledger.missing("node_memory_gb", "nodes, total_nodes");
        let mut note = "nodes and total_nodes need node_memory_gb".to_string();
        if args.max_memory_utilization_pct.is_some() || args.replicas.is_some() {
            note.push_str(" (max_memory_utilization_pct and replicas apply only with a node size)");
        }
        ledger.notes.push(note);
        return Ok(None);
    };
    let utilization = ledger.amount_or_default(
        "max_memory_utilization_pct",
        args.max_memory_utilization_pct,
        catalog.defaults.max_memory_utilization_pct,
    );
    let operands = [
        ("memory_gb", Figure::Amount(memory_gb)),
        ("node_memory_gb", Figure::Amount(node_memory_gb)),
        ("max_memory_utilization_pct", Figure::Amount(utilization)),
    ];
    let nodes = ledger.count(
        &catalog.formulas,
        "memory_nodes",
        &operands,
        ("node_memory_gb", show(node_memory_gb)),
    )?;
    Ok(Some(nodes))
}

/// The operations per second one node serves: given (measured), or the engine's row of
/// `caching#node-throughput` (which `load` requires for every engine).
fn node_ops_per_sec(catalog: &CacheSizingTables, args: &SizeCacheArgs) -> f64 {
    args.node_ops_per_sec.unwrap_or_else(|| {
        catalog
            .node_throughput
            .iter()
            .find(|(engine, _)| *engine == args.engine)
            .map_or(f64::MAX, |(_, ops)| *ops)
    })
}

/// The reads per second the cache leaves to the database: `None` unless both the request
/// rate and the hit rate are given, and then what is missing is noted.
fn db_reads(
    catalog: &CacheSizingTables,
    args: &SizeCacheArgs,
    ledger: &mut Ledger,
) -> Result<Option<f64>, ArgError> {
    let note = match (args.requests_per_sec, args.hit_rate_pct) {
        (Some(requests), Some(hit_rate)) => {
            let operands = [
                ("requests_per_sec", Figure::Amount(requests)),
                ("hit_rate_pct", Figure::Amount(hit_rate)),
            ];
            let reads = ledger.amount(
                &catalog.formulas,
                "db_reads_per_sec",
                &operands,
                ("requests_per_sec", requests),
            )?;
            return Ok(Some(reads));
        }
        (None, None) => {
            ledger.missing("requests_per_sec", "db_reads_per_sec");
            ledger.missing("hit_rate_pct", "db_reads_per_sec");
            "db_reads_per_sec needs requests_per_sec and hit_rate_pct"
        }
        (Some(_), None) => {
            ledger.missing("hit_rate_pct", "db_reads_per_sec");
            "db_reads_per_sec needs hit_rate_pct as well as requests_per_sec"
        }
        (None, Some(_)) => {
            ledger.missing("requests_per_sec", "db_reads_per_sec");
            "db_reads_per_sec needs requests_per_sec as well as hit_rate_pct"
        }
    };
    ledger.notes.push(note.to_string());
    Ok(None)
}

/// How to run the cache: the write strategy, the invalidation, the TTL and the stampede
/// protections, each from the first matching rule of its table (every protection that holds).
struct Practice {
    strategy: WriteStrategy,
    strategy_details: StrategyDetails,
    invalidation: Invalidation,
    invalidation_details: InvalidationDetails,
    ttl_seconds: u64,
    ttl_details: TtlDetails,
    stampede_protection: Vec<Protection>,
}

fn practice(
    catalog: &CacheSizingTables,
    args: &SizeCacheArgs,
    sources: &mut Vec<String>,
) -> Result<Practice, ArgError> {
    let facts = match serde_json::to_value(args) {
        Ok(Value::Object(map)) => map,
        _ => {
            return Err(ArgError::internal(
                "arguments did not serialize to an object",
            ));
        }
    };
    let strategy = first_match(&catalog.strategies, |r| &r.when, &facts)?;
    push_unique(sources, catalog.strategies_uri.clone());
    let rule = first_match(&catalog.invalidation_rules, |r| &r.when, &facts)?;
    let invalidation = catalog
        .invalidations
        .iter()
        .find(|i| i.strategy == rule.strategy)
        .ok_or_else(|| ArgError::internal("an invalidation rule names no strategy row"))?;
    push_unique(sources, catalog.invalidation_rules_uri.clone());
    push_unique(sources, catalog.invalidations_uri.clone());
    let ttl = first_match(&catalog.ttl_rules, |r| &r.when, &facts)?;
    for uri in &catalog.ttl_uris {
        push_unique(sources, uri.clone());
    }
    push_unique(sources, catalog.protections_uri.clone());
    let mut stampede_protection = Vec::new();
    for protection in catalog.protections.iter().filter(|p| p.when.holds(&facts)) {
        stampede_protection.push(Protection {
            name: protection.name.clone(),
            how: protection.how.clone(),
        });
        for uri in &protection.sources {
            push_unique(sources, uri.clone());
        }
    }
    Ok(Practice {
        strategy: strategy.strategy,
        strategy_details: StrategyDetails {
            rule: strategy.when.to_string(),
            how: strategy.how.clone(),
            pros: strategy.pros.clone(),
            cons: strategy.cons.clone(),
        },
        invalidation: invalidation.strategy,
        invalidation_details: InvalidationDetails {
            rule: rule.when.to_string(),
            reason: rule.reason.clone(),
            how: invalidation.how.clone(),
            pros: invalidation.pros.clone(),
            cons: invalidation.cons.clone(),
        },
        ttl_seconds: ttl.ttl_seconds,
        ttl_details: TtlDetails {
            rule: ttl.when.to_string(),
            like: ttl.like.clone(),
            reason: ttl.reason.clone(),
        },
        stampede_protection,
    })
}

/// "30 GB of memory for a 20 GB working set: 1 node, 2 with replicas; 5,000 DB reads/s
/// left; cache_aside, TTL 300 s."
fn summary_of(s: &CacheSizing) -> String {
    let mut out = format!(
        "{} GB of memory for a {} GB working set",
        numbers::quantity(s.memory_gb),
        numbers::quantity(s.working_set_gb)
    );
    if let (Some(nodes), Some(total)) = (s.nodes, s.total_nodes) {
        out.push_str(&format!(
            ": {} node{}",
            numbers::count(nodes),
            if nodes == 1 { "" } else { "s" }
        ));
        if let (Some(memory), Some(throughput)) = (s.memory_nodes, s.throughput_nodes)
            && throughput > memory
        {
            out.push_str(&format!(
                " for the request rate ({} ops/s each; memory alone needs {})",
                numbers::quantity(s.node_ops_per_sec),
                numbers::count(memory)
            ));
        }
        // Without replicas the total is the same count: no "13 nodes, 13 with replicas".
        if total != nodes {
            out.push_str(&format!(", {} with replicas", numbers::count(total)));
        }
    } else if let Some(throughput) = s.throughput_nodes {
        out.push_str(&format!(
            ": at least {} node{} for the request rate",
            numbers::count(throughput),
            if throughput == 1 { "" } else { "s" }
        ));
    }
    if let Some(reads) = s.db_reads_per_sec {
        out.push_str(&format!("; {} DB reads/s left", numbers::quantity(reads)));
    }
    out.push_str(&format!(
        "; {}, {} invalidation, TTL {} s",
        s.strategy.id(),
        s.invalidation.id(),
        numbers::count(s.ttl_seconds)
    ));
    if !s.stampede_protection.is_empty() {
        let names: Vec<&str> = s
            .stampede_protection
            .iter()
            .map(|p| p.name.as_str())
            .collect();
        out.push_str(&format!("; stampede protection: {}", names.join(", ")));
    }
    out.push('.');
    crate::summary(out)
}

/// The markdown line of the node counts: why the count is what it is, and one count when there
/// are no replicas (never "16 primary, 16 with replicas").
fn nodes_line(s: &CacheSizing) -> Option<String> {
    let Some((nodes, total)) = s.nodes.zip(s.total_nodes) else {
        return s.throughput_nodes.map(|throughput| {
            format!(
                "- Nodes for the request rate: at least {}, at {} operations a second per node (the memory's count needs node_memory_gb)",
                numbers::count(throughput),
                numbers::quantity(s.node_ops_per_sec)
            )
        });
    };
    let needs = match (s.memory_nodes, s.throughput_nodes) {
        (Some(memory), Some(throughput)) => format!(
            " (memory needs {}; the request rate, at {} operations a second per node, needs {})",
            numbers::count(memory),
            numbers::quantity(s.node_ops_per_sec),
            numbers::count(throughput)
        ),
        _ => String::new(),
    };
    Some(if total == nodes {
        format!("- Nodes: {}{needs}, no replicas", numbers::count(nodes))
    } else {
        format!(
            "- Nodes: {} primary{needs}, {} with replicas",
            numbers::count(nodes),
            numbers::count(total)
        )
    })
}

/// The sizing as markdown: the figures, how to run the cache, the workings, the sources.
pub fn to_markdown(s: &CacheSizing) -> String {
    let mut out = String::new();
    let nodes = match s.nodes {
        Some(n) => format!(
            ", {} node{}",
            numbers::count(n),
            if n == 1 { "" } else { "s" }
        ),
        None => String::new(),
    };
    let _ = writeln!(
        out,
        "## Cache: {} GB of memory{nodes}, `{}`\n",
        numbers::quantity(s.memory_gb),
        s.strategy.id()
    );
    let _ = writeln!(
        out,
        "- Working set: {} GB",
        numbers::quantity(s.working_set_gb)
    );
    let _ = writeln!(out, "- Memory: {} GB", numbers::quantity(s.memory_gb));
    if let Some(line) = nodes_line(s) {
        let _ = writeln!(out, "{line}");
    }
    if let Some(reads) = s.db_reads_per_sec {
        let _ = writeln!(
            out,
            "- Database reads left: {} per second",
            numbers::quantity(reads)
        );
    }
    let d = &s.strategy_details;
    let _ = writeln!(
        out,
        "\n**Write strategy `{}`** (rule: {}). {}. Pros: {}. Cons: {}.",
        s.strategy.id(),
        d.rule,
        d.how,
        d.pros,
        d.cons
    );
    let i = &s.invalidation_details;
    let _ = writeln!(
        out,
        "\n**Invalidation `{}`**: {}. {}. Cons: {}.",
        s.invalidation.id(),
        i.reason,
        i.how,
        i.cons
    );
    let _ = writeln!(
        out,
        "\n**TTL {} s** (what-to-cache row: {}): {}.",
        numbers::count(s.ttl_seconds),
        s.ttl_details.like,
        s.ttl_details.reason
    );
    let _ = writeln!(out, "\n**Stampede protection**:");
    for (n, p) in s.stampede_protection.iter().enumerate() {
        let _ = writeln!(out, "{}. `{}`: {}.", n + 1, p.name, p.how);
    }
    push_workings(&mut out, &s.workings, &s.defaults_applied, &s.notes);
    sources(&mut out, &s.sources);
    out
}

/// The `size_cache` tool.
pub struct SizeCache;

impl Tool for SizeCache {
    const NAME: &'static str = "size_cache";
    const TITLE: &'static str = "Size a cache";
    const DESCRIPTION: &'static str = "Size a Redis or Memcached cache: memory, nodes, DB reads at a hit ratio; write strategy, TTL, stampede protection.";
    type Args = SizeCacheArgs;
    type Output = CacheSizing;
    type Tables = CacheSizingTables;

    fn load(knowledge: &Knowledge) -> Result<CacheSizingTables, KnowledgeError> {
        CacheSizingTables::load(knowledge)
    }

    fn run(advisor: &Advisor, args: SizeCacheArgs) -> Result<CacheSizing, ArgError> {
        run(advisor, args)
    }

    fn to_markdown(output: &CacheSizing) -> String {
        to_markdown(output)
    }

    // What concise leaves out (issue 26): the node counts the workings already give
    // (`memory_nodes`, `throughput_nodes` and the node rate in `substituted`), the texts
    // explaining the strategy, invalidation, TTL and each stampede protection (their names
    // stay), and each working's formula, which its cited row holds. Every field §5.5 names
    // stays, nulls included.
    const CONCISE_OMITS: &'static [&'static str] = &[
        "memory_nodes",
        "throughput_nodes",
        "node_ops_per_sec",
        "strategy_details",
        "invalidation_details",
        "ttl_details",
        "stampede_protection[].how",
        "workings[].formula",
        "notes?",
    ];

    /// Concise leaves out the rule texts, the pros and cons of the strategy and invalidation
    /// chosen, and the notes (`missing_inputs` lists the same arguments).
    fn shape(output: &mut CacheSizing, detail: Detail) {
        if !detail.is_full() {
            output.strategy_details.rule.clear();
            output.strategy_details.pros.clear();
            output.strategy_details.cons.clear();
            output.invalidation_details.rule.clear();
            output.invalidation_details.pros.clear();
            output.invalidation_details.cons.clear();
            output.ttl_details.rule.clear();
            output.notes.clear();
        }
    }
}

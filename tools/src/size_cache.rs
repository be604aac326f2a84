//! `size_cache`: from the data (or its hot part) to cache memory, nodes and the database reads
//! left, plus the write strategy, invalidation, TTL and stampede protection to use. The
//! formulas, defaults and rule tables are those of `caching`; this file does the arithmetic
//! exactly, refuses inputs whose results would not be finite, and shows every working.
//!
//! The workings (`Working`, `Formulas`) are shared with `plan_capacity`: both calculators show
//! each figure as its formula from the documents, the same formula with the numbers
//! substituted, and the value.

use std::fmt::Write;

use knowledge::{Condition, Knowledge, KnowledgeError, TableRef, Vocabulary};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::markdown::{push_unique, sources};
use crate::{Advisor, ArgError, Tool};

// The cache to size: the data, optionally the node size and traffic, and what the data needs.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SizeCacheArgs {
    /// Hot data, GB. Or give total_data_gb.
    #[schemars(range(min = 0))]
    pub working_set_gb: Option<f64>,
    /// All data, GB (hot part: × hot_fraction).
    #[schemars(range(min = 0))]
    pub total_data_gb: Option<f64>,
    /// Hot share of total_data_gb. Default 0.2.
    #[schemars(range(min = 0, max = 1))]
    pub hot_fraction: Option<f64>,
    /// Memory per GB of data. Default 1.5.
    #[schemars(range(min = 1))]
    pub overhead_factor: Option<f64>,
    /// Memory per node, GB; gives nodes.
    #[schemars(extend("exclusiveMinimum" = 0))]
    pub node_memory_gb: Option<f64>,
    /// Node memory to fill, %. Default 75.
    #[schemars(range(min = 1, max = 100))]
    pub max_memory_utilization_pct: Option<f64>,
    /// Replicas per primary. Default 0.
    pub replicas: Option<u64>,
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

/// A computed number: a whole count (nodes, servers) or an amount (GB, per second).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum Figure {
    Count(u64),
    Amount(f64),
}

impl Figure {
    /// The figure as a person reads it: counts exactly, amounts to six significant digits.
    pub fn show(self) -> String {
        match self {
            Self::Count(n) => n.to_string(),
            Self::Amount(x) => show(x),
        }
    }
}

/// How one figure was reached.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Working {
    /// The result field this working computes.
    pub quantity: String,
    /// The formula as the knowledge base writes it, e.g. `memory_gb = working_set_gb × overhead_factor`.
    pub formula: String,
    /// The right-hand side with the numbers substituted, e.g. `10 × 1.5`.
    pub substituted: String,
    /// The exact value (the result field holds the same number).
    pub value: Figure,
}

/// A default that was used because the argument was not given.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct DefaultApplied {
    pub parameter: String,
    pub value: Figure,
}

/// The write strategy's rule and trade-offs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct StrategyDetails {
    /// The rule of `caching#write-strategies` that matched (first match wins).
    pub rule: String,
    pub how: String,
    pub pros: String,
    pub cons: String,
}

/// The invalidation strategy's rule, reason and trade-offs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct InvalidationDetails {
    /// The rule of `caching#invalidation-rules` that matched (first match wins).
    pub rule: String,
    pub reason: String,
    pub how: String,
    pub pros: String,
    pub cons: String,
}

/// Where the TTL suggestion comes from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct TtlDetails {
    /// The rule of `caching#ttl-rules` that matched (first match wins).
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
    /// The hot data, GB: given, or total_data_gb × hot_fraction.
    pub working_set_gb: f64,
    /// Cache memory, GB: working_set_gb × overhead_factor.
    pub memory_gb: f64,
    /// Primary nodes, with `node_memory_gb`: ceil(memory_gb / (node_memory_gb × max_memory_utilization_pct / 100)).
    pub nodes: Option<u64>,
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
    pub notes: Vec<String>,
    pub sources: Vec<String>,
}

// ---------------------------------------------------------------------------------------------
// Workings shared with `plan_capacity`.

/// The largest finite number, as refusals quote it.
pub(crate) const FINITE_LIMIT: &str = "1.8e308";

/// A number for a working: whole numbers without a fraction, others to six significant
/// digits, so that `0.1 × 3` reads `0.3` while the result field keeps the exact value.
pub fn show(x: f64) -> String {
    if x == 0.0 || !x.is_finite() {
        return format!("{}", if x == 0.0 { 0.0 } else { x });
    }
    let magnitude = x.abs().log10().floor() as i32;
    if !(-4..15).contains(&magnitude) {
        let text = format!("{x:.5e}");
        let (mantissa, exponent) = text.split_once('e').unwrap_or((&text, "0"));
        return format!("{}e{exponent}", trim_zeros(mantissa));
    }
    let decimals = usize::try_from(5 - magnitude).unwrap_or(0);
    trim_zeros(&format!("{x:.decimals$}")).to_string()
}

fn trim_zeros(text: &str) -> &str {
    if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.')
    } else {
        text
    }
}

/// `ceil` of a quotient, as a whole number. A quotient within floating-point noise of a whole
/// number (4500 / 1000 computed as 4.500000000000001 is not one; 3.0000000000000004 is) counts
/// as that number, so noise never adds a node. `None` when it does not fit in a `u64`.
pub(crate) fn ceil_whole(x: f64) -> Option<u64> {
    if !x.is_finite() || x < 0.0 {
        return None;
    }
    let nearest = x.round();
    let whole = if (x - nearest).abs() <= 1e-9 * nearest.max(1.0) {
        nearest
    } else {
        x.ceil()
    };
    // 2^64 is exactly representable; every f64 below it that is whole fits in a u64.
    (whole < 18_446_744_073_709_551_616.0).then_some(whole as u64)
}

/// One row of a formulas table.
struct Formula {
    quantity: String,
    text: String,
    sources: Vec<String>,
}

/// A formulas table (`| quantity | formula | see |`), checked at load against the operands the
/// calculator substitutes, so a formula that names another input is refused at start-up. The
/// arithmetic stays in Rust (the contract fixes it); the table is what a working shows and cites.
pub(crate) struct Formulas {
    formulas: Vec<Formula>,
    uri: String,
}

/// Where the names of a formula's right-hand side stand, in order (`ceil` is the one
/// function and is no name).
fn name_spans(text: &str) -> Vec<(usize, usize)> {
    let mut spans = Vec::new();
    let mut start = None;
    for (i, c) in text.char_indices().chain([(text.len(), ' ')]) {
        let part = c.is_ascii_lowercase() || c == '_' || (start.is_some() && c.is_ascii_digit());
        match (start, part) {
            (None, true) => start = Some(i),
            (Some(s), false) => {
                if &text[s..i] != "ceil" {
                    spans.push((s, i));
                }
                start = None;
            }
            _ => {}
        }
    }
    spans
}

/// The names a formula's right-hand side uses, in order.
fn identifiers(text: &str) -> Vec<&str> {
    name_spans(text)
        .into_iter()
        .map(|(s, e)| &text[s..e])
        .collect()
}

impl Formulas {
    /// Reads `slug#anchor`; `expected` lists each quantity with the operands its formula uses.
    pub(crate) fn load(
        knowledge: &Knowledge,
        slug: &str,
        anchor: &str,
        expected: &[(&str, &[&str])],
    ) -> Result<Self, KnowledgeError> {
        let table = knowledge.table(slug, anchor)?;
        table.require_columns(&["quantity", "formula", "see"])?;
        let mut formulas = Vec::new();
        for row in table.rows() {
            let quantity = row.required("quantity")?;
            let Some((_, operands)) = expected.iter().find(|(q, _)| *q == quantity) else {
                let known: Vec<&str> = expected.iter().map(|(q, _)| *q).collect();
                return Err(row.error(format!(
                    "unknown quantity `{quantity}` (known: {})",
                    known.join(", ")
                )));
            };
            if formulas.iter().any(|f: &Formula| f.quantity == quantity) {
                return Err(row.error(format!("the quantity `{quantity}` is listed twice")));
            }
            let text = row.required("formula")?;
            let rhs = text
                .strip_prefix(quantity)
                .and_then(|rest| rest.trim_start().strip_prefix('='))
                .ok_or_else(|| row.error(format!("the formula must start with `{quantity} =`")))?;
            let mut used = identifiers(rhs);
            used.sort_unstable();
            used.dedup();
            let mut wanted = operands.to_vec();
            wanted.sort_unstable();
            if used != wanted {
                return Err(row.error(format!(
                    "the formula of `{quantity}` must use exactly {}; it uses {}",
                    wanted.join(", "),
                    used.join(", ")
                )));
            }
            formulas.push(Formula {
                quantity: quantity.to_string(),
                text: text.to_string(),
                sources: knowledge.references(&row, "see")?,
            });
        }
        if let Some((missing, _)) = expected
            .iter()
            .find(|(q, _)| !formulas.iter().any(|f| f.quantity == *q))
        {
            return Err(table.error(format!("the table has no formula for `{missing}`")));
        }
        Ok(Self {
            formulas,
            uri: table.uri(),
        })
    }

    fn formula(&self, quantity: &str) -> Option<&Formula> {
        self.formulas.iter().find(|f| f.quantity == quantity)
    }

    /// The working of `quantity`: its formula with each operand replaced by its value.
    pub(crate) fn working(
        &self,
        quantity: &str,
        operands: &[(&str, Figure)],
        value: Figure,
    ) -> Working {
        // `load` guarantees a formula for every quantity a calculator computes; the fallback
        // only keeps this total.
        let formula = self
            .formula(quantity)
            .map_or_else(|| quantity.to_string(), |f| f.text.clone());
        let rhs = formula
            .split_once('=')
            .map_or(formula.as_str(), |(_, rhs)| rhs)
            .trim();
        let mut substituted = String::new();
        let mut done = 0;
        for (start, end) in name_spans(rhs) {
            substituted.push_str(&rhs[done..start]);
            let name = &rhs[start..end];
            match operands.iter().find(|(n, _)| *n == name) {
                Some((_, figure)) => substituted.push_str(&figure.show()),
                None => substituted.push_str(name),
            }
            done = end;
        }
        substituted.push_str(&rhs[done..]);
        Working {
            quantity: quantity.to_string(),
            formula,
            substituted,
            value,
        }
    }

    /// The sources of a computed quantity: the formulas table and the sections it cites.
    pub(crate) fn cite(&self, quantity: &str, sources: &mut Vec<String>) {
        push_unique(sources, self.uri.clone());
        if let Some(formula) = self.formula(quantity) {
            for uri in &formula.sources {
                push_unique(sources, uri.clone());
            }
        }
    }
}

/// Reads the `default` of each parameter of a defaults table and checks it against the range
/// the tool's own schema accepts, so a document cannot default to a value the tool refuses.
pub(crate) fn read_defaults<Args: JsonSchema>(
    table: &TableRef<'_>,
    parameters: &[&str],
) -> Result<Vec<f64>, KnowledgeError> {
    table.require_columns(&["parameter", "default"])?;
    let schema = schemars::schema_for!(Args);
    let properties = schema.get("properties").and_then(Value::as_object);
    for row in table.rows() {
        let name = row.required("parameter")?;
        if !parameters.contains(&name) {
            let hint = knowledge::closest(name, parameters.iter().copied())
                .map(|c| format!("; did you mean `{c}`?"))
                .unwrap_or_default();
            return Err(row.error(format!(
                "unknown parameter `{name}`{hint} (known: {})",
                parameters.join(", ")
            )));
        }
    }
    parameters
        .iter()
        .map(|name| {
            let row = table
                .rows()
                .find(|r| r.text("parameter").is_ok_and(|p| p == *name))
                .ok_or_else(|| table.error(format!("the table has no default for `{name}`")))?;
            let value = row.number("default")?;
            let property = properties
                .and_then(|p| p.get(*name))
                .map(|p| p.to_string())
                .unwrap_or_default();
            let bound = |key: &str| -> Option<f64> {
                let node: Value = properties?.get(*name)?.clone();
                let node = match node.get("anyOf") {
                    Some(Value::Array(branches)) => branches
                        .iter()
                        .find(|b| b.get("type") != Some(&Value::from("null")))?
                        .clone(),
                    _ => node,
                };
                node.get(key)?.as_f64()
            };
            let whole = property.contains("\"integer\"");
            let fits = (!whole || value.fract() == 0.0)
                && bound("minimum").is_none_or(|m| value >= m)
                && bound("exclusiveMinimum").is_none_or(|m| value > m)
                && bound("maximum").is_none_or(|m| value <= m);
            if fits {
                Ok(value)
            } else {
                Err(row.error(format!(
                    "the default of `{name}` ({value}) is outside what the argument accepts"
                )))
            }
        })
        .collect()
}

/// A refusal of an input whose product leaves the finite numbers.
pub(crate) fn too_large(field: &str, value: f64, product: &str) -> ArgError {
    ArgError::new(
        field,
        show(value),
        format!("a value for which the product {product} stays below {FINITE_LIMIT}"),
    )
}

/// A refusal of an input that makes a count exceed a whole number.
pub(crate) fn too_many(field: &str, value: impl Into<String>, count: &str) -> ArgError {
    ArgError::new(
        field,
        value,
        format!("a value for which {count} is at most {}", u64::MAX),
    )
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
}

/// The quantities `size_cache` computes and the operands of each formula.
const FORMULAS: [(&str, &[&str]); 5] = [
    ("working_set_gb", &["total_data_gb", "hot_fraction"]),
    ("memory_gb", &["working_set_gb", "overhead_factor"]),
    (
        "nodes",
        &["memory_gb", "node_memory_gb", "max_memory_utilization_pct"],
    ),
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
                    when: row.condition("when", &vocabulary)?,
                    how: row.required("how")?.to_string(),
                    pros: row.required("pros")?.to_string(),
                    cons: row.required("cons")?.to_string(),
                })
            })
            .collect::<Result<Vec<_>, KnowledgeError>>()?;
        ordered_rules(&table, &strategies, |r| &r.when)?;
        let strategies_uri = table.uri();

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
        let invalidations_uri = table.uri();

        let table = knowledge.table("caching", "invalidation-rules")?;
        table.require_columns(&["when", "strategy", "reason"])?;
        let invalidation_rules = table
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
                    when: row.condition("when", &vocabulary)?,
                    strategy,
                    reason: row.required("reason")?.to_string(),
                })
            })
            .collect::<Result<Vec<_>, KnowledgeError>>()?;
        ordered_rules(&table, &invalidation_rules, |r| &r.when)?;
        let invalidation_rules_uri = table.uri();

        let what = knowledge.table("caching", "what-to-cache")?;
        what.require_columns(&["data", "ttl_seconds_min", "ttl_seconds_max"])?;
        let table = knowledge.table("caching", "ttl-rules")?;
        table.require_columns(&["when", "data", "ttl_seconds", "reason"])?;
        let ttl_rules = table
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
                    when: row.condition("when", &vocabulary)?,
                    like: like.to_string(),
                    ttl_seconds,
                    reason: row.required("reason")?.to_string(),
                })
            })
            .collect::<Result<Vec<_>, KnowledgeError>>()?;
        ordered_rules(&table, &ttl_rules, |r| &r.when)?;
        let ttl_uris = [table.uri(), what.uri()];

        let table = knowledge.table("caching", "stampede-protection")?;
        table.require_columns(&["protection", "when", "how", "see"])?;
        table.require_rows()?;
        let protections = table
            .rows()
            .map(|row| {
                Ok(ProtectionRow {
                    name: row.required("protection")?.to_string(),
                    when: row.condition("when", &vocabulary)?,
                    how: row.required("how")?.to_string(),
                    sources: knowledge.references(&row, "see")?,
                })
            })
            .collect::<Result<Vec<_>, KnowledgeError>>()?;
        let protections_uri = table.uri();

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
        })
    }
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

fn size(catalog: &CacheSizingTables, args: &SizeCacheArgs) -> Result<CacheSizing, ArgError> {
    let formulas = &catalog.formulas;
    let mut workings = Vec::new();
    let mut defaults_applied = Vec::new();
    let mut notes = Vec::new();
    let mut sources = Vec::new();
    let mut default = |parameter: &str, given: Option<f64>, default: f64| {
        given.unwrap_or_else(|| {
            defaults_applied.push(DefaultApplied {
                parameter: parameter.to_string(),
                value: Figure::Amount(default),
            });
            default
        })
    };

    // The working set: given, or the hot part of the total.
    let working_set_gb = match (args.working_set_gb, args.total_data_gb) {
        (Some(_), Some(total)) => {
            return Err(ArgError::number(
                "total_data_gb",
                total,
                "no total_data_gb when working_set_gb is given (give exactly one of them)",
            ));
        }
        (None, None) => {
            return Err(ArgError::new(
                "working_set_gb",
                "neither working_set_gb nor total_data_gb",
                "exactly one of working_set_gb (the hot data, GB) or total_data_gb (all the data, GB, with hot_fraction)",
            ));
        }
        (Some(working_set), None) => {
            if let Some(hot) = args.hot_fraction {
                return Err(ArgError::number(
                    "hot_fraction",
                    hot,
                    "no hot_fraction when working_set_gb is given (it applies to total_data_gb only)",
                ));
            }
            working_set
        }
        (None, Some(total)) => {
            let hot = default(
                "hot_fraction",
                args.hot_fraction,
                catalog.defaults.hot_fraction,
            );
            let working_set = total * hot;
            workings.push(formulas.working(
                "working_set_gb",
                &[
                    ("total_data_gb", Figure::Amount(total)),
                    ("hot_fraction", Figure::Amount(hot)),
                ],
                Figure::Amount(working_set),
            ));
            formulas.cite("working_set_gb", &mut sources);
            working_set
        }
    };

    let overhead = default(
        "overhead_factor",
        args.overhead_factor,
        catalog.defaults.overhead_factor,
    );
    let memory_gb = working_set_gb * overhead;
    if !memory_gb.is_finite() {
        return Err(match args.total_data_gb {
            Some(total) => too_large(
                "total_data_gb",
                total,
                "total_data_gb × hot_fraction × overhead_factor",
            ),
            None => too_large(
                "working_set_gb",
                working_set_gb,
                "working_set_gb × overhead_factor",
            ),
        });
    }
    workings.push(formulas.working(
        "memory_gb",
        &[
            ("working_set_gb", Figure::Amount(working_set_gb)),
            ("overhead_factor", Figure::Amount(overhead)),
        ],
        Figure::Amount(memory_gb),
    ));
    formulas.cite("memory_gb", &mut sources);

    // Nodes, with headroom, then replicas.
    let (mut nodes, mut total_nodes) = (None, None);
    match args.node_memory_gb {
        Some(node_memory_gb) => {
            let utilization = default(
                "max_memory_utilization_pct",
                args.max_memory_utilization_pct,
                catalog.defaults.max_memory_utilization_pct,
            );
            let count = ceil_whole(memory_gb / (node_memory_gb * utilization / 100.0))
                .ok_or_else(|| {
                    too_many(
                        "node_memory_gb",
                        show(node_memory_gb),
                        "nodes = ceil(memory_gb / (node_memory_gb × max_memory_utilization_pct / 100))",
                    )
                })?;
            workings.push(formulas.working(
                "nodes",
                &[
                    ("memory_gb", Figure::Amount(memory_gb)),
                    ("node_memory_gb", Figure::Amount(node_memory_gb)),
                    ("max_memory_utilization_pct", Figure::Amount(utilization)),
                ],
                Figure::Count(count),
            ));
            formulas.cite("nodes", &mut sources);
            let replicas = args.replicas.unwrap_or_else(|| {
                defaults_applied.push(DefaultApplied {
                    parameter: "replicas".into(),
                    value: Figure::Count(catalog.defaults.replicas),
                });
                catalog.defaults.replicas
            });
            let total = replicas
                .checked_add(1)
                .and_then(|per_primary| count.checked_mul(per_primary))
                .ok_or_else(|| {
                    too_many(
                        "replicas",
                        replicas.to_string(),
                        "total_nodes = nodes × (1 + replicas)",
                    )
                })?;
            workings.push(formulas.working(
                "total_nodes",
                &[
                    ("nodes", Figure::Count(count)),
                    ("replicas", Figure::Count(replicas)),
                ],
                Figure::Count(total),
            ));
            formulas.cite("total_nodes", &mut sources);
            nodes = Some(count);
            total_nodes = Some(total);
        }
        None => {
            let mut note = "nodes and total_nodes need node_memory_gb".to_string();
            if args.max_memory_utilization_pct.is_some() || args.replicas.is_some() {
                note.push_str(
                    " (max_memory_utilization_pct and replicas apply only with a node size)",
                );
            }
            notes.push(note);
        }
    }
    if !defaults_applied.is_empty() {
        push_unique(&mut sources, catalog.defaults_uri.clone());
    }

    // Database reads the cache leaves.
    let db_reads_per_sec = match (args.requests_per_sec, args.hit_rate_pct) {
        (Some(requests), Some(hit_rate)) => {
            // requests × (1 − hit/100), computed as requests × (100 − hit) / 100 so that decimal
            // percentages stay exact (10000 at 90% leaves 1000, not 999.9999999999998).
            // The fallback covers rates so large that × 100 would leave the finite numbers.
            let reads = match requests * (100.0 - hit_rate) / 100.0 {
                x if x.is_finite() => x,
                _ => requests * (1.0 - hit_rate / 100.0),
            };
            workings.push(formulas.working(
                "db_reads_per_sec",
                &[
                    ("requests_per_sec", Figure::Amount(requests)),
                    ("hit_rate_pct", Figure::Amount(hit_rate)),
                ],
                Figure::Amount(reads),
            ));
            formulas.cite("db_reads_per_sec", &mut sources);
            Some(reads)
        }
        (None, None) => {
            notes.push("db_reads_per_sec needs requests_per_sec and hit_rate_pct".into());
            None
        }
        (Some(_), None) => {
            notes.push("db_reads_per_sec needs hit_rate_pct as well as requests_per_sec".into());
            None
        }
        (None, Some(_)) => {
            notes.push("db_reads_per_sec needs requests_per_sec as well as hit_rate_pct".into());
            None
        }
    };

    // How to run it: the first matching rule of each table.
    let facts = match serde_json::to_value(args) {
        Ok(Value::Object(map)) => map,
        _ => {
            return Err(ArgError::internal(
                "arguments did not serialize to an object",
            ));
        }
    };
    let strategy = first_match(&catalog.strategies, |r| &r.when, &facts)?;
    push_unique(&mut sources, catalog.strategies_uri.clone());
    let rule = first_match(&catalog.invalidation_rules, |r| &r.when, &facts)?;
    let invalidation = catalog
        .invalidations
        .iter()
        .find(|i| i.strategy == rule.strategy)
        .ok_or_else(|| ArgError::internal("an invalidation rule names no strategy row"))?;
    push_unique(&mut sources, catalog.invalidation_rules_uri.clone());
    push_unique(&mut sources, catalog.invalidations_uri.clone());
    let ttl = first_match(&catalog.ttl_rules, |r| &r.when, &facts)?;
    for uri in &catalog.ttl_uris {
        push_unique(&mut sources, uri.clone());
    }
    let mut stampede_protection = Vec::new();
    push_unique(&mut sources, catalog.protections_uri.clone());
    for protection in catalog.protections.iter().filter(|p| p.when.holds(&facts)) {
        stampede_protection.push(Protection {
            name: protection.name.clone(),
            how: protection.how.clone(),
        });
        for uri in &protection.sources {
            push_unique(&mut sources, uri.clone());
        }
    }

    Ok(CacheSizing {
        working_set_gb,
        memory_gb,
        nodes,
        total_nodes,
        db_reads_per_sec,
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
        workings,
        defaults_applied,
        notes,
        sources,
    })
}

/// The workings, defaults and notes as the closing part of a calculator's markdown.
pub(crate) fn push_workings(
    out: &mut String,
    workings: &[Working],
    defaults: &[DefaultApplied],
    notes: &[String],
) {
    if !workings.is_empty() {
        let _ = writeln!(out, "\n### Workings\n");
        for w in workings {
            let _ = writeln!(
                out,
                "- `{}` = {} = **{}**",
                w.formula,
                w.substituted,
                w.value.show()
            );
        }
    }
    if !defaults.is_empty() {
        let list: Vec<String> = defaults
            .iter()
            .map(|d| format!("{} {}", d.parameter, d.value.show()))
            .collect();
        let _ = writeln!(out, "\nDefaults applied: {}.", list.join(", "));
    }
    if !notes.is_empty() {
        let _ = writeln!(out, "\nNot computed: {}.", notes.join("; "));
    }
}

/// The sizing as markdown: the figures, how to run the cache, the workings, the sources.
pub fn to_markdown(s: &CacheSizing) -> String {
    let mut out = String::new();
    let nodes = match s.nodes {
        Some(n) => format!(", {n} node{}", if n == 1 { "" } else { "s" }),
        None => String::new(),
    };
    let _ = writeln!(
        out,
        "## Cache: {} GB of memory{nodes}, `{}`\n",
        show(s.memory_gb),
        s.strategy.id()
    );
    let _ = writeln!(out, "- Working set: {} GB", show(s.working_set_gb));
    let _ = writeln!(out, "- Memory: {} GB", show(s.memory_gb));
    if let (Some(nodes), Some(total)) = (s.nodes, s.total_nodes) {
        let _ = writeln!(out, "- Nodes: {nodes} primary, {total} with replicas");
    }
    if let Some(reads) = s.db_reads_per_sec {
        let _ = writeln!(out, "- Database reads left: {} per second", show(reads));
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
        s.ttl_seconds, s.ttl_details.like, s.ttl_details.reason
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
    const DESCRIPTION: &'static str = "Size a cache (memory, nodes, DB reads left) with the formulas, and pick its write strategy, invalidation, TTL and stampede protection.";
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
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shows_numbers_plainly() {
        assert_eq!(show(15.000000001), "15");
        assert_eq!(show(0.1 * 3.0), "0.3");
        assert_eq!(show(1e308), "1e308");
        assert_eq!(show(f64::MAX), "1.79769e308");
        assert_eq!(show(1234567.891), "1234568");
        assert_eq!(show(0.00012345678), "0.000123457");
        assert_eq!(show(-2.5), "-2.5");
        assert_eq!(show(0.0), "0");
    }

    #[test]
    fn ceil_ignores_noise_but_not_fractions() {
        assert_eq!(ceil_whole(3.0000000000000004), Some(3));
        assert_eq!(ceil_whole(4.5), Some(5));
        assert_eq!(ceil_whole(1.25), Some(2));
        assert_eq!(ceil_whole(0.0), Some(0));
        assert_eq!(ceil_whole(f64::INFINITY), None);
        assert_eq!(ceil_whole(2e19), None);
    }

    #[test]
    fn finds_identifiers_but_not_ceil_or_numbers() {
        assert_eq!(
            identifiers(" ceil(memory_gb / (node_memory_gb × max_memory_utilization_pct / 100))"),
            ["memory_gb", "node_memory_gb", "max_memory_utilization_pct"]
        );
        assert_eq!(
            identifiers("requests_per_sec × (1 − hit_rate_pct / 100)"),
            ["requests_per_sec", "hit_rate_pct"]
        );
    }
}

//! `choose_datastore`: from a workload's needs to a store category and a named product. The
//! ordered questions come from `datastores#decision-rules` (first "yes" wins), the grades of
//! every store from `datastores#comparison`, the second stores for unserved needs from
//! `datastores#complements` and the mismatches from `datastores#warnings`; this file only
//! applies them and explains the result.

use std::fmt::Write;

use knowledge::{Condition, Facts, Knowledge, KnowledgeError, RowRef};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::decision::{self, Excluded, Exclusions, RuleTable, Step, TradedAway, Warning};
use crate::markdown::{push_unique, sources};
use crate::{Advisor, ArgError, Detail, MissingInput, Tool, absent_numbers, missing_input};

// What the workload needs. Every field is optional; with none, the plain key-value default
// applies.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DatastoreArgs {
    /// Multi-row ACID transactions.
    #[serde(default)]
    pub needs_acid: bool,
    /// JOINs or aggregations.
    #[serde(default)]
    pub complex_queries: bool,
    /// Records vary in shape.
    #[serde(default)]
    pub flexible_schema: bool,
    /// Writes dominate.
    #[serde(default)]
    pub write_heavy: bool,
    /// Time-series data.
    #[serde(default)]
    pub time_series: bool,
    /// Memory-speed reads.
    #[serde(default)]
    pub ultra_low_latency: bool,
    /// Free-text or log search.
    #[serde(default)]
    pub full_text_search: bool,
    /// OLAP queries.
    #[serde(default)]
    pub analytics: bool,
    /// Multi-region reads and writes.
    #[serde(default)]
    pub multi_region: bool,
    /// Serverless app.
    #[serde(default)]
    pub serverless: bool,
    /// Reads dominate.
    #[serde(default)]
    pub read_heavy: bool,
    /// Peak reads/s.
    #[schemars(extend("exclusiveMinimum" = 0))]
    pub reads_per_sec: Option<f64>,
    /// Peak writes/s.
    #[schemars(extend("exclusiveMinimum" = 0))]
    pub writes_per_sec: Option<f64>,
    /// Data size, GB.
    #[schemars(range(min = 0))]
    pub data_size_gb: Option<f64>,
    /// concise (default) or full.
    #[serde(default)]
    pub detail: Detail,
}

/// A store category of the contract.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    Relational,
    DistributedSql,
    Document,
    WideColumn,
    Columnar,
    InMemory,
    KeyValue,
    Search,
}

impl Category {
    pub(crate) const ALL: [Category; 8] = [
        Self::Relational,
        Self::DistributedSql,
        Self::Document,
        Self::WideColumn,
        Self::Columnar,
        Self::InMemory,
        Self::KeyValue,
        Self::Search,
    ];

    pub fn id(self) -> &'static str {
        match self {
            Self::Relational => "relational",
            Self::DistributedSql => "distributed_sql",
            Self::Document => "document",
            Self::WideColumn => "wide_column",
            Self::Columnar => "columnar",
            Self::InMemory => "in_memory",
            Self::KeyValue => "key_value",
            Self::Search => "search",
        }
    }

    fn parse(row: &RowRef<'_>, column: &str, text: &str) -> Result<Self, KnowledgeError> {
        Self::ALL
            .into_iter()
            .find(|c| c.id() == text)
            .ok_or_else(|| {
                row.error(format!(
                    "`{column}` holds `{text}`, which is no store category (known: {})",
                    Self::ALL.map(Self::id).join(", ")
                ))
            })
    }
}

/// A store with its grades from the comparison table; a grade the sources do not give is null.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Store {
    pub name: String,
    pub category: Category,
    pub best_for: String,
    /// Relative throughput grade (`Medium`, `Very high writes`, …).
    pub throughput: Option<String>,
    /// `Strong`, `Eventual`, `Tunable`, `Strong or eventual`.
    pub consistency: Option<String>,
    /// Relative cost grade (`Low`, `Medium`, `Pay-per-request`, …).
    pub cost: Option<String>,
}

/// A second store for a need the recommendation does not serve.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Complement {
    /// The argument naming the need (`full_text_search`).
    pub need: String,
    pub name: String,
    pub category: Category,
    /// What it does next to the recommended store.
    pub role: String,
}

/// The choice, with the path that led to it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct DatastoreChoice {
    /// The answer in one sentence or two: the store, what decided it, what goes beside it.
    pub summary: String,
    pub recommendation: Store,
    /// The arguments whose values decided the matching rule (empty for the default).
    pub decided_by: Vec<String>,
    /// The questions in the order asked, up to the first `yes`.
    pub decision_path: Vec<Step>,
    /// Other products of the same rule, with their grades (none that a hard need rules out).
    pub alternatives: Vec<Store>,
    /// Stores a hard need rules out (an embedded library for a serverless application).
    pub excluded: Vec<Excluded>,
    /// Stores to add for needs the recommendation does not serve.
    pub complements: Vec<Complement>,
    /// Needs given that neither the recommendation nor a complement serves.
    pub traded_away: Vec<TradedAway>,
    pub warnings: Vec<Warning>,
    /// Arguments not given that a question asked or a warning of the recommended category
    /// tests; with no need given at all, every need the questions ask about.
    pub missing_inputs: Vec<MissingInput>,
    pub sources: Vec<String>,
}

/// The outcome columns of a datastore rule.
struct Choice {
    category: Category,
    recommend: String,
    alternatives: Vec<String>,
}

struct ComplementRule {
    need: String,
    name: String,
    role: String,
}

struct WarningRule {
    when: Condition,
    categories: Vec<Category>,
    message: String,
}

/// The tables `choose_datastore` applies, read once from the knowledge base.
pub struct DatastoreRules {
    rules: RuleTable<Choice>,
    stores: Vec<Store>,
    comparison_uri: String,
    complements: Vec<ComplementRule>,
    complements_uri: String,
    warnings: Vec<WarningRule>,
    warnings_uri: String,
    exclusions: Exclusions,
}

fn grade(row: &RowRef<'_>, column: &str) -> Result<Option<String>, KnowledgeError> {
    Ok(row.optional(column)?.map(str::to_string))
}

impl DatastoreRules {
    pub(crate) fn load(knowledge: &Knowledge) -> Result<Self, KnowledgeError> {
        let vocabulary = decision::vocabulary::<DatastoreArgs>();

        let table = knowledge.table("datastores", "comparison")?;
        table.require_columns(&[
            "name",
            "category",
            "best_for",
            "throughput",
            "consistency",
            "cost",
        ])?;
        table.require_rows()?;
        let mut stores: Vec<Store> = Vec::new();
        for row in table.rows() {
            let name = row.required("name")?.to_string();
            if stores.iter().any(|s| s.name == name) {
                return Err(row.error(format!("the store `{name}` is listed twice")));
            }
            stores.push(Store {
                category: Category::parse(&row, "category", row.required("category")?)?,
                best_for: row.required("best_for")?.to_string(),
                throughput: grade(&row, "throughput")?,
                consistency: grade(&row, "consistency")?,
                cost: grade(&row, "cost")?,
                name,
            });
        }
        let comparison_uri = table.uri();
        let known = |row: &RowRef<'_>, column: &str, name: &str| {
            stores
                .iter()
                .find(|s| s.name == name)
                .map(|s| s.category)
                .ok_or_else(|| {
                    let hint = knowledge::closest(name, stores.iter().map(|s| s.name.as_str()))
                        .map(|c| format!("; did you mean `{c}`?"))
                        .unwrap_or_default();
                    row.error(format!(
                        "`{column}` names `{name}`, which the comparison table does not list{hint}"
                    ))
                })
        };

        let rules = RuleTable::load(
            knowledge,
            ("datastores", "decision-rules"),
            &["category", "recommend", "alternatives"],
            &vocabulary,
            |row| {
                let category = Category::parse(row, "category", row.required("category")?)?;
                let recommend = row.required("recommend")?.to_string();
                if known(row, "recommend", &recommend)? != category {
                    return Err(row.error(format!(
                        "`{recommend}` is not in the category `{}` in the comparison table",
                        category.id()
                    )));
                }
                let alternatives = row.list("alternatives")?;
                for name in &alternatives {
                    known(row, "alternatives", name)?;
                }
                Ok(Choice {
                    category,
                    recommend,
                    alternatives,
                })
            },
        )?;

        let table = knowledge.table("datastores", "complements")?;
        table.require_columns(&["need", "name", "role"])?;
        let mut complements = Vec::new();
        for row in table.rows() {
            let need = decision::flags(&row, "need", &vocabulary)?;
            let [need] = need.as_slice() else {
                return Err(row.error("`need` must name exactly one boolean argument"));
            };
            let name = row.required("name")?.to_string();
            known(&row, "name", &name)?;
            complements.push(ComplementRule {
                need: need.clone(),
                name,
                role: row.required("role")?.to_string(),
            });
        }
        let complements_uri = table.uri();

        let table = knowledge.table("datastores", "warnings")?;
        table.require_columns(&["when", "category", "warning"])?;
        let mut warnings = Vec::new();
        for row in table.rows() {
            let categories = row
                .list("category")?
                .iter()
                .map(|c| Category::parse(&row, "category", c))
                .collect::<Result<Vec<_>, _>>()?;
            if categories.is_empty() {
                return Err(row.error("`category` must name at least one store category"));
            }
            warnings.push(WarningRule {
                when: row.condition("when", &vocabulary)?,
                categories,
                message: row.required("warning")?.to_string(),
            });
        }
        let warnings_uri = table.uri();

        let exclusions = Exclusions::load(
            knowledge,
            ("datastores", "hard-needs"),
            &vocabulary,
            |row, name| known(row, "excludes", name).map(|_| ()),
        )?;

        Ok(Self {
            rules,
            stores,
            comparison_uri,
            complements,
            complements_uri,
            warnings,
            warnings_uri,
            exclusions,
        })
    }

    fn store(&self, name: &str) -> Result<Store, ArgError> {
        // `load` checks that every name a rule or complement uses is in the comparison.
        self.stores
            .iter()
            .find(|s| s.name == name)
            .cloned()
            .ok_or_else(|| ArgError::internal(&format!("the store `{name}` is not compared")))
    }
}

/// Chooses a datastore for the needs in `args`.
pub fn run(advisor: &Advisor, args: DatastoreArgs) -> Result<DatastoreChoice, ArgError> {
    let catalog = advisor.tables::<ChooseDatastore>()?;
    let facts = decision::facts(&args)?;
    let excluded = catalog.exclusions.applying(&facts);
    let decision = catalog.rules.decide_among(&facts, &|c: &Choice| {
        decision::ruled_out(&excluded, &c.recommend).cloned()
    })?;
    let choice = &decision.rule.outcome;
    let recommendation = catalog.store(&choice.recommend)?;
    let alternatives = choice
        .alternatives
        .iter()
        .filter(|name| decision::ruled_out(&excluded, name).is_none())
        .map(|name| catalog.store(name))
        .collect::<Result<Vec<_>, _>>()?;

    let mut complements = Vec::new();
    for rule in &catalog.complements {
        let unserved = !decision.rule.serves.contains(&rule.need);
        if facts.flag(&rule.need)
            && unserved
            && rule.name != recommendation.name
            && !complements.iter().any(|c: &Complement| c.need == rule.need)
        {
            complements.push(Complement {
                need: rule.need.clone(),
                category: catalog.store(&rule.name)?.category,
                name: rule.name.clone(),
                role: rule.role.clone(),
            });
        }
    }
    let traded_away = catalog.rules.traded_away(
        &decision,
        &facts,
        &|need| complements.iter().any(|c| c.need == need),
        &|c: &Choice| format!("{} ({})", c.recommend, c.category.id()),
    );
    let applicable = || {
        catalog
            .warnings
            .iter()
            .filter(|w| w.categories.contains(&recommendation.category))
    };
    let warnings: Vec<Warning> = applicable()
        .filter_map(|w| Warning::if_holds(&w.when, &w.message, &facts))
        .collect();
    let missing_inputs = missing_inputs(catalog, &decision, &facts, applicable());

    let mut cited = vec![catalog.rules.uri.clone()];
    for uri in &decision.rule.see {
        push_unique(&mut cited, uri.clone());
    }
    push_unique(&mut cited, catalog.comparison_uri.clone());
    if !complements.is_empty() {
        push_unique(&mut cited, catalog.complements_uri.clone());
    }
    if !warnings.is_empty() {
        push_unique(&mut cited, catalog.warnings_uri.clone());
    }
    if !excluded.is_empty() {
        push_unique(&mut cited, catalog.exclusions.uri.clone());
    }

    let mut choice = DatastoreChoice {
        summary: String::new(),
        recommendation,
        decided_by: decision.decided_by,
        decision_path: decision.path,
        alternatives,
        excluded,
        complements,
        traded_away,
        warnings,
        missing_inputs,
        sources: cited,
    };
    choice.summary = summary_of(&choice);
    Ok(choice)
}

/// The arguments whose absence left a question or warning untested: the numbers the questions
/// asked (up to the decision) and the warnings compare, and, when no need was given at all,
/// every need the questions ask about, since the default then answers only by absence.
fn missing_inputs<'a>(
    catalog: &DatastoreRules,
    decision: &decision::Decision<'_, Choice>,
    facts: &serde_json::Map<String, serde_json::Value>,
    warnings: impl Iterator<Item = &'a WarningRule>,
) -> Vec<MissingInput> {
    let mut missing = Vec::new();
    let asked = catalog
        .rules
        .rules
        .iter()
        .take_while(|r| r.number <= decision.rule.number);
    for field in absent_numbers(asked.map(|r| &r.when), facts) {
        missing_input(&mut missing, field, "decision");
    }
    for field in absent_numbers(warnings.map(|w| &w.when), facts) {
        missing_input(&mut missing, field, "warnings");
    }
    let nothing_given = facts
        .values()
        .all(|v| v == &serde_json::Value::Bool(false) || v.is_string());
    if nothing_given {
        for rule in &catalog.rules.rules {
            for field in decision::fields(rule.when.clauses()) {
                missing_input(&mut missing, &field, "decision");
            }
        }
    }
    missing
}

/// "PostgreSQL (relational), decided by needs_acid; alternatives MySQL; add Elasticsearch
/// for full_text_search; 1 warning."
fn summary_of(choice: &DatastoreChoice) -> String {
    let store = &choice.recommendation;
    let mut out = format!("{} ({})", store.name, store.category.id());
    if !choice.decided_by.is_empty() {
        out.push_str(&format!(", decided by {}", choice.decided_by.join(" and ")));
    } else if choice
        .missing_inputs
        .iter()
        .any(|m| m.field == "needs_acid")
    {
        out.push_str(
            ", the default when no need is given (missing_inputs lists what would decide)",
        );
    }
    if !choice.alternatives.is_empty() {
        let names: Vec<&str> = choice
            .alternatives
            .iter()
            .map(|a| a.name.as_str())
            .collect();
        out.push_str(&format!("; alternatives: {}", names.join(", ")));
    }
    if !choice.excluded.is_empty() {
        let names: Vec<&str> = choice.excluded.iter().map(|e| e.name.as_str()).collect();
        out.push_str(&format!("; ruled out: {}", names.join(", ")));
    }
    for c in &choice.complements {
        out.push_str(&format!("; add {} for {}", c.name, c.need));
    }
    if !choice.traded_away.is_empty() {
        let needs: Vec<&str> = choice.traded_away.iter().map(|t| t.need.as_str()).collect();
        out.push_str(&format!("; not served: {}", needs.join(", ")));
    }
    if !choice.warnings.is_empty() {
        let n = choice.warnings.len();
        out.push_str(&format!("; {n} warning{}", if n == 1 { "" } else { "s" }));
    }
    out.push('.');
    crate::summary(out)
}

/// The grades the sources give for a store, in words.
fn grades(store: &Store) -> String {
    let parts: Vec<String> = [
        ("throughput", &store.throughput),
        ("consistency", &store.consistency),
        ("cost", &store.cost),
    ]
    .into_iter()
    .filter_map(|(label, value)| value.as_ref().map(|v| format!("{label} {v}")))
    .collect();
    parts.join(", ")
}

/// The choice as markdown: the store first, then the path, then what else to know.
pub fn to_markdown(choice: &DatastoreChoice) -> String {
    let mut out = String::new();
    let store = &choice.recommendation;
    let graded = grades(store);
    let _ = writeln!(
        out,
        "**Use {} ({})**: {}{}.\n",
        store.name,
        store.category.id(),
        store.best_for,
        if graded.is_empty() {
            String::new()
        } else {
            format!("; {graded}")
        }
    );
    decision::write_path(&mut out, &choice.decision_path);
    if !choice.alternatives.is_empty() {
        let list: Vec<String> = choice
            .alternatives
            .iter()
            .map(|s| {
                let graded = grades(s);
                if graded.is_empty() {
                    format!("{} ({}: {})", s.name, s.category.id(), s.best_for)
                } else {
                    format!("{} ({}: {}; {graded})", s.name, s.category.id(), s.best_for)
                }
            })
            .collect();
        let _ = writeln!(out, "\nAlternatives: {}.", list.join("; "));
    }
    if !choice.complements.is_empty() {
        let _ = writeln!(out, "\nComplements:");
        for c in &choice.complements {
            let _ = writeln!(out, "- {} for `{}`: {}", c.name, c.need, c.role);
        }
    }
    decision::write_excluded(&mut out, &choice.excluded);
    decision::write_traded_away(&mut out, &choice.traded_away);
    decision::write_warnings(&mut out, &choice.warnings);
    sources(&mut out, &choice.sources);
    out
}

/// The `choose_datastore` tool.
pub struct ChooseDatastore;

impl Tool for ChooseDatastore {
    const NAME: &'static str = "choose_datastore";
    const TITLE: &'static str = "Choose a datastore";
    const DESCRIPTION: &'static str = "Choose a database: Postgres vs MySQL vs DynamoDB, MongoDB, Cassandra, Redis, ClickHouse, Elasticsearch.";
    type Args = DatastoreArgs;
    type Output = DatastoreChoice;
    type Tables = DatastoreRules;

    fn load(knowledge: &Knowledge) -> Result<DatastoreRules, KnowledgeError> {
        DatastoreRules::load(knowledge)
    }

    fn run(advisor: &Advisor, args: DatastoreArgs) -> Result<DatastoreChoice, ArgError> {
        run(advisor, args)
    }

    fn to_markdown(output: &DatastoreChoice) -> String {
        to_markdown(output)
    }

    // What concise leaves out (issue 26): the recommendation's grades the sources do not
    // give, what the summary already states (the deciding arguments, each complement's need),
    // the rule numbers and the composed sentences of the path's losers, and empty lists the
    // contract does not name. Alternatives and complements keep every field §5.2 names.
    const CONCISE_OMITS: &'static [&'static str] = &[
        "recommendation.throughput?",
        "recommendation.consistency?",
        "recommendation.cost?",
        "decided_by",
        "decision_path[].rule",
        "excluded?",
        "excluded[].reason",
        "complements[].need",
        "complements[].category",
        "traded_away?",
        "traded_away[].reason",
        "warnings?",
        "warnings[].triggered_by",
    ];

    /// Concise leaves out the decision path's condition texts.
    fn shape(output: &mut DatastoreChoice, detail: Detail) {
        if !detail.is_full() {
            decision::concise_path(&mut output.decision_path);
        }
    }
}

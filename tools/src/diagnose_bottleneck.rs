//! `diagnose_bottleneck`: from architecture facts and metrics to the current scaling stage, the
//! findings (each with its evidence, fixes in three horizons and sources) and the next stage.
//! Every threshold comes from `monitoring#diagnostic-findings`, every stage rule from
//! `scaling-stages`, every symptom from `failure-modes`; this file only evaluates them.

use std::fmt::Write;

use knowledge::{Clause, Condition, Facts, Knowledge, KnowledgeError, Vocabulary, anchor};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::markdown::{push_unique, sources};
pub use crate::stages::COMPONENTS;
use crate::stages::{Stages, components, stage_number};
use crate::{Advisor, ArgError, Detail, MissingInput, Tool, absent_numbers, missing_input};

// A failure mode the team has observed, named as in `failure-modes`.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Symptom {
    SplitBrain,
    CascadeFailure,
    ReadAfterWriteInconsistency,
    PhantomLock,
    CacheStampede,
}

impl Symptom {
    pub fn id(self) -> &'static str {
        match self {
            Self::SplitBrain => "split_brain",
            Self::CascadeFailure => "cascade_failure",
            Self::ReadAfterWriteInconsistency => "read_after_write_inconsistency",
            Self::PhantomLock => "phantom_lock",
            Self::CacheStampede => "cache_stampede",
        }
    }
    const ALL: [Symptom; 5] = [
        Self::SplitBrain,
        Self::CascadeFailure,
        Self::ReadAfterWriteInconsistency,
        Self::PhantomLock,
        Self::CacheStampede,
    ];
}

// The system to diagnose: its architecture and whatever metrics are at hand. Every field is
// optional, but at least one must be given.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DiagnoseArgs {
    /// Active users.
    #[schemars(range(min = 0))]
    pub users: Option<u64>,
    /// Has a cache.
    pub has_cache: Option<bool>,
    /// Has read replicas.
    pub has_read_replicas: Option<bool>,
    /// The database is sharded.
    pub sharded: Option<bool>,
    /// Has a load balancer.
    pub has_load_balancer: Option<bool>,
    /// Has a CDN.
    pub has_cdn: Option<bool>,
    /// Has a job queue.
    pub has_queue: Option<bool>,
    /// Regions in use.
    #[schemars(range(min = 1))]
    pub regions: Option<u64>,
    /// Needs several regions.
    #[serde(default)]
    pub needs_multi_region: bool,
    /// p95 response time, ms.
    #[schemars(range(min = 0))]
    pub p95_latency_ms: Option<f64>,
    /// p99 response time, ms.
    #[schemars(range(min = 0))]
    pub p99_latency_ms: Option<f64>,
    /// Database CPU, %.
    #[schemars(range(min = 0, max = 100))]
    pub db_cpu_pct: Option<f64>,
    /// App server CPU, %.
    #[schemars(range(min = 0, max = 100))]
    pub app_cpu_pct: Option<f64>,
    /// DB read load, %.
    #[schemars(range(min = 0, max = 100))]
    pub db_read_load_pct: Option<f64>,
    /// Primary's write load, %.
    #[schemars(range(min = 0, max = 100))]
    pub db_write_load_pct: Option<f64>,
    /// Reads among DB operations, %.
    #[schemars(range(min = 0, max = 100))]
    pub read_pct: Option<f64>,
    /// Cache hit rate, %.
    #[schemars(range(min = 0, max = 100))]
    pub cache_hit_rate_pct: Option<f64>,
    /// Replica lag, ms.
    #[schemars(range(min = 0))]
    pub replication_lag_ms: Option<f64>,
    /// Jobs waiting.
    #[schemars(range(min = 0))]
    pub queue_depth: Option<u64>,
    /// Dead-letter queue size.
    #[schemars(range(min = 0))]
    pub dlq_size: Option<u64>,
    /// DB pool in use, %.
    #[schemars(range(min = 0, max = 100))]
    pub pool_utilization_pct: Option<f64>,
    /// DB queries per request.
    #[schemars(range(min = 0))]
    pub queries_per_request: Option<f64>,
    /// Slowest frequent query, ms.
    #[schemars(range(min = 0))]
    pub slowest_query_ms: Option<f64>,
    /// Failed requests, %.
    #[schemars(range(min = 0, max = 100))]
    pub error_rate_pct: Option<f64>,
    /// Busiest / mean shard load, with sharded.
    #[schemars(range(min = 1))]
    pub shard_skew_ratio: Option<f64>,
    /// Tables fall into groups rarely joined.
    #[serde(default)]
    pub independent_table_groups: bool,
    /// Components all shards use (e.g. cache), with sharded.
    #[serde(default)]
    pub shared_across_shards: Vec<String>,
    /// Failure modes observed.
    #[serde(default)]
    pub symptoms: Vec<Symptom>,
    /// Load growth per month, %; adds months_to_critical.
    #[schemars(extend("exclusiveMinimum" = -100))]
    pub monthly_growth_pct: Option<f64>,
    /// concise (default) or full.
    #[serde(default)]
    pub detail: Detail,
}

/// The arguments that describe the architecture; when any is given, the stage comes from them.
const ARCHITECTURE_FIELDS: [&str; 7] = [
    "has_cache",
    "has_read_replicas",
    "sharded",
    "has_load_balancer",
    "has_cdn",
    "has_queue",
    "regions",
];

/// A scaling stage, by number and name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct StageRef {
    /// 1 Prototype, 2 Caching, 3 Read Replicas, 4 Sharding, 5 Distributed.
    pub number: u8,
    pub name: String,
}

/// What the stage was decided from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum StageBasis {
    Architecture,
    Users,
    Default,
}

/// How soon the next stage is needed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Urgency {
    /// A finding or a stated need triggered it.
    Now,
    /// Only the user count did: a typical point, not a measured problem.
    Planned,
}

/// How bad a finding is.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Critical,
    Warning,
}

/// An observed value: a metric's number, or the name of a reported symptom.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum Observed {
    Number(f64),
    Text(String),
}

/// One measured fact that made a finding fire.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Evidence {
    /// The argument that was compared (`symptoms` for a reported symptom).
    pub metric: String,
    pub value: Observed,
    /// `>`, `>=`, `<` or `<=`; null for a reported symptom.
    pub comparison: Option<String>,
    /// The threshold it crossed; null for a reported symptom.
    pub threshold: Option<f64>,
}

/// Fixes in three horizons, fastest and safest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Fixes {
    pub immediate: String,
    pub short_term: String,
    pub long_term: String,
}

/// One problem the metrics or symptoms show.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Finding {
    pub id: String,
    /// application, database, cache, replication, queue, or the failure mode's layer.
    pub layer: String,
    pub severity: Severity,
    pub evidence: Vec<Evidence>,
    pub summary: String,
    pub fixes: Fixes,
    pub sources: Vec<String>,
    /// With monthly_growth_pct, on a load-driven finding that has a critical line: months
    /// until it turns critical (0 when it is), as `forecast_growth` computes them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub months_to_critical: Option<f64>,
}

/// A load-driven metric that has not fired yet, and how long it has at the given growth.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Headroom {
    pub metric: String,
    /// Months until its warning line; null when load does not grow.
    pub months_to_warning: Option<f64>,
}

/// The stage to move to, what to add, and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct NextStage {
    pub number: u8,
    pub name: String,
    /// Components to add: cache, cdn, load_balancer, read_replicas, job_queue, sharding, multi_region, distributed_database.
    pub add: Vec<String>,
    /// The graduation triggers that fired, in words.
    pub reason: String,
    /// The triggers that fired, as written in the stage table (e.g. `finding high_latency`);
    /// with `detail: full` only.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub triggers: Vec<String>,
    /// Components worth considering at that stage besides `add`.
    pub also_consider: Vec<String>,
    /// `now` when a finding or a stated need triggered the move, `planned` when only the user
    /// count did.
    pub urgency: Urgency,
}

/// The diagnosis.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Diagnosis {
    /// The answer in one to three sentences: stage, findings by severity, the worst, the next
    /// step.
    pub summary: String,
    pub current_stage: StageRef,
    pub stage_basis: StageBasis,
    /// Critical findings first, then warnings.
    pub findings: Vec<Finding>,
    pub next_stage: Option<NextStage>,
    /// True exactly when there are no findings.
    pub healthy: bool,
    /// Arguments not given that would have added a finding or a stage trigger.
    pub missing_inputs: Vec<MissingInput>,
    /// With monthly_growth_pct: the load-driven metrics given that have not fired yet.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub headroom: Option<Vec<Headroom>>,
    pub sources: Vec<String>,
}

struct ArchitectureRule {
    when: Condition,
    stage: u8,
}

struct Trigger {
    from_stage: u8,
    /// The stage it leads to: the next one unless the row names another.
    to_stage: u8,
    /// The components it adds, when the row names them instead of the target stage's.
    add: Option<Vec<String>>,
    when: Condition,
    reason: String,
    urgency: Urgency,
}

/// A fix of `monitoring#fixes-for-the-architecture-given`: the text of one horizon of a
/// finding's fixes when the caller already has what the standard fix would introduce.
struct FixOverride {
    id: String,
    horizon: Horizon,
    when: Condition,
    text: String,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Horizon {
    Immediate,
    ShortTerm,
    LongTerm,
}

struct FindingRule {
    id: String,
    layer: String,
    warning: Condition,
    critical: Option<Condition>,
    summary: String,
    fixes: Fixes,
    sources: Vec<String>,
}

struct FailureMode {
    symptom: Symptom,
    id: String,
    layer: String,
    severity: Severity,
    summary: String,
    fixes: Fixes,
    sources: Vec<String>,
}

/// The warning and critical thresholds a finding applies to one metric (`db_cpu_pct > 60`,
/// `> 85`), with the finding and the row they come from.
#[derive(Debug, Clone)]
pub(crate) struct MetricThresholds {
    pub finding: String,
    pub comparison: knowledge::Comparison,
    pub warning: f64,
    pub critical: Option<f64>,
    pub uri: String,
}

/// The tables `diagnose_bottleneck` applies, read once from the knowledge base.
pub struct DiagnosisRules {
    pub(crate) stages: Stages,
    stages_uri: String,
    architecture: Vec<ArchitectureRule>,
    architecture_uri: String,
    triggers: Vec<Trigger>,
    triggers_uri: String,
    findings: Vec<FindingRule>,
    failure_modes: Vec<FailureMode>,
    overrides: Vec<FixOverride>,
    overrides_uri: String,
}

/// The component each architecture argument says is in place, as (argument, component);
/// `regions` counts from 2.
pub const PRESENCE_FLAGS: [(&str, &str); 7] = [
    ("has_cache", "cache"),
    ("has_cdn", "cdn"),
    ("has_load_balancer", "load_balancer"),
    ("has_read_replicas", "read_replicas"),
    ("has_queue", "job_queue"),
    ("sharded", "sharding"),
    ("regions", "multi_region"),
];

/// The components the caller says are in place.
pub fn present_components(args: &DiagnoseArgs) -> Vec<&'static str> {
    let stated = [
        args.has_cache,
        args.has_cdn,
        args.has_load_balancer,
        args.has_read_replicas,
        args.has_queue,
        args.sharded,
        args.regions.map(|r| r >= 2),
    ];
    PRESENCE_FLAGS
        .iter()
        .zip(stated)
        .filter(|(_, present)| *present == Some(true))
        .map(|((_, component), _)| *component)
        .collect()
}

/// The number, flag and finding names that this tool's conditions may use.
fn vocabulary(findings: Vec<String>) -> Vocabulary {
    let schema = schemars::schema_for!(DiagnoseArgs);
    let mut numbers = Vec::new();
    let mut flags = Vec::new();
    if let Some(properties) = schema.get("properties").and_then(Value::as_object) {
        for (name, property) in properties {
            let text = property.to_string();
            // A list argument tested as a flag is true when it is not empty.
            if text.contains("\"boolean\"") || text.contains("\"array\"") {
                flags.push(name.clone());
            } else if text.contains("\"number\"") || text.contains("\"integer\"") {
                numbers.push(name.clone());
            }
        }
    }
    Vocabulary {
        numbers,
        flags,
        words: Vec::new(),
        findings,
    }
}

impl DiagnosisRules {
    /// The number arguments the findings compare, in the order the findings table first names
    /// them: a system's metrics, as the knowledge base reads them.
    pub(crate) fn metrics(&self) -> Vec<&str> {
        let mut metrics = Vec::new();
        for rule in &self.findings {
            let critical = rule.critical.iter().flat_map(Condition::clauses);
            for clause in rule.warning.clauses().chain(critical) {
                if let Clause::Compare { field, .. } = clause
                    && !metrics.contains(&field.as_str())
                {
                    metrics.push(field.as_str());
                }
            }
        }
        metrics
    }

    pub(crate) fn load(knowledge: &Knowledge) -> Result<Self, KnowledgeError> {
        // Findings first: their ids are the vocabulary of the graduation triggers.
        let table = knowledge.table("monitoring", "diagnostic-findings")?;
        let findings_table = table;
        table.require_columns(&["id", "layer", "warning_when", "critical_when", "summary"])?;
        table.require_rows()?;
        let ids: Vec<String> = table
            .rows()
            .map(|r| r.required("id").map(str::to_string))
            .collect::<Result<_, _>>()?;
        // Reported symptoms are findings too, so a threshold may depend on one.
        let mut finding_ids = ids.clone();
        finding_ids.extend(Symptom::ALL.map(|s| s.id().to_string()));
        let vocabulary = vocabulary(finding_ids);
        let fixes_table = knowledge.table("monitoring", "finding-fixes")?;
        fixes_table.require_columns(&["id", "immediate", "short_term", "long_term", "see"])?;
        let mut findings = Vec::new();
        for row in table.rows() {
            let id = row.required("id")?.to_string();
            if findings.iter().any(|f: &FindingRule| *f.id == *id) {
                return Err(row.error(format!("the finding `{id}` is listed twice")));
            }
            let fix = fixes_table
                .rows()
                .find(|r| r.text("id").is_ok_and(|t| t == id))
                .ok_or_else(|| {
                    fixes_table.error(format!("the finding `{id}` has no row of fixes"))
                })?;
            let mut sources = vec![row.uri(), fix.uri()];
            for uri in knowledge.references(&fix, "see")? {
                push_unique(&mut sources, uri);
            }
            findings.push(FindingRule {
                layer: row.required("layer")?.into(),
                warning: row.condition("warning_when", &vocabulary)?,
                critical: row.optional_condition("critical_when", &vocabulary)?,
                summary: row.required("summary")?.into(),
                fixes: Fixes {
                    immediate: fix.required("immediate")?.into(),
                    short_term: fix.required("short_term")?.into(),
                    long_term: fix.required("long_term")?.into(),
                },
                sources,
                id,
            });
        }

        let table = knowledge.table("failure-modes", "failure-mode-catalogue")?;
        table.require_columns(&[
            "symptom",
            "name",
            "layer",
            "severity",
            "signs",
            "immediate",
            "short_term",
            "long_term",
        ])?;
        let mut failure_modes = Vec::new();
        for row in table.rows() {
            let id = row.required("symptom")?;
            let symptom = Symptom::ALL
                .into_iter()
                .find(|s| s.id() == id)
                .ok_or_else(|| {
                    row.error(format!(
                        "unknown symptom `{id}` (known: {})",
                        Symptom::ALL.map(Symptom::id).join(", ")
                    ))
                })?;
            let name = row.required("name")?;
            let section = format!("failure-modes#{}", anchor(name));
            if !knowledge.check_reference(&section) {
                return Err(row.error(format!(
                    "the failure mode `{name}` needs a section headed `{name}` (anchor `{}`)",
                    anchor(name)
                )));
            }
            let severity = match row.one_of("severity", &["critical", "warning"])? {
                "critical" => Severity::Critical,
                _ => Severity::Warning,
            };
            failure_modes.push(FailureMode {
                symptom,
                id: symptom.id().into(),
                layer: row.required("layer")?.into(),
                severity,
                summary: format!("{name}: {}", row.required("signs")?),
                fixes: Fixes {
                    immediate: row.required("immediate")?.into(),
                    short_term: row.required("short_term")?.into(),
                    long_term: row.required("long_term")?.into(),
                },
                sources: vec![row.uri(), format!("{}{section}", knowledge::URI_SCHEME)],
            });
        }
        if let Some(missing) = Symptom::ALL
            .iter()
            .find(|s| !failure_modes.iter().any(|m| m.symptom == **s))
        {
            return Err(table.error(format!(
                "the catalogue has no row for the symptom `{}`",
                missing.id()
            )));
        }

        let stages = Stages::load(knowledge)?;
        let stages_uri = stages.uri.clone();

        let table = knowledge.table("scaling-stages", "stage-from-architecture")?;
        table.require_columns(&["when", "stage"])?;
        let architecture_uri = table.uri();
        let architecture = table
            .rows()
            .map(|row| {
                Ok(ArchitectureRule {
                    when: row.condition_citing("when", &vocabulary, &findings_table)?,
                    stage: stage_number(&row, "stage")?,
                })
            })
            .collect::<Result<Vec<_>, KnowledgeError>>()?;

        let table = knowledge.table("scaling-stages", "graduation-triggers")?;
        table.require_columns(&["from_stage", "when", "to_stage", "add", "urgency", "reason"])?;
        let triggers_uri = table.uri();
        let triggers = table
            .rows()
            .map(|row| {
                let from_stage = stage_number(&row, "from_stage")?;
                if from_stage == 5 {
                    return Err(
                        row.error("stage 5 is the last stage; it has no graduation trigger")
                    );
                }
                let to_stage = match row.optional("to_stage")? {
                    Some(_) => stage_number(&row, "to_stage")?,
                    None => from_stage + 1,
                };
                if to_stage < from_stage {
                    return Err(row.error(format!(
                        "`to_stage` {to_stage} is below `from_stage` {from_stage}"
                    )));
                }
                let add = Some(components(&row, "add")?).filter(|a| !a.is_empty());
                if to_stage == from_stage && add.is_none() {
                    return Err(row.error(
                        "a row that stays in its stage (`to_stage` = `from_stage`) must name what it adds",
                    ));
                }
                let urgency = match row.one_of("urgency", &["now", "planned"])? {
                    "now" => Urgency::Now,
                    _ => Urgency::Planned,
                };
                Ok(Trigger {
                    from_stage,
                    to_stage,
                    add,
                    when: row.condition_citing("when", &vocabulary, &findings_table)?,
                    reason: row.required("reason")?.to_string(),
                    urgency,
                })
            })
            .collect::<Result<Vec<_>, KnowledgeError>>()?;

        let table = knowledge.table("monitoring", "fixes-for-the-architecture-given")?;
        table.require_columns(&["id", "horizon", "when", "fix"])?;
        let overrides_uri = table.uri();
        let overrides = table
            .rows()
            .map(|row| {
                let id = row.required("id")?;
                if !findings.iter().any(|f| *f.id == *id)
                    && !Symptom::ALL.iter().any(|s| s.id() == id)
                {
                    return Err(row.error(format!("unknown finding `{id}`")));
                }
                let horizon =
                    match row.one_of("horizon", &["immediate", "short_term", "long_term"])? {
                        "immediate" => Horizon::Immediate,
                        "short_term" => Horizon::ShortTerm,
                        _ => Horizon::LongTerm,
                    };
                Ok(FixOverride {
                    id: id.to_string(),
                    horizon,
                    when: row.condition("when", &vocabulary)?,
                    text: row.required("fix")?.into(),
                })
            })
            .collect::<Result<Vec<_>, KnowledgeError>>()?;

        Ok(Self {
            stages,
            stages_uri,
            architecture,
            architecture_uri,
            triggers,
            triggers_uri,
            findings,
            failure_modes,
            overrides,
            overrides_uri,
        })
    }

    /// The URI of the stage table.
    pub(crate) fn stages_uri(&self) -> &str {
        &self.stages_uri
    }

    /// The thresholds the first finding whose warning condition compares `metric` applies to
    /// it: so that `forecast_growth` forecasts against the same rows this tool fires on.
    pub(crate) fn thresholds(&self, metric: &str) -> Option<MetricThresholds> {
        let on_metric = |condition: &Condition| {
            condition.clauses().find_map(|clause| match clause {
                Clause::Compare {
                    field,
                    comparison,
                    threshold,
                } if field == metric => Some((*comparison, *threshold)),
                _ => None,
            })
        };
        self.findings.iter().find_map(|rule| {
            let (comparison, warning) = on_metric(&rule.warning)?;
            Some(MetricThresholds {
                finding: rule.id.clone(),
                comparison,
                warning,
                critical: rule.critical.as_ref().and_then(on_metric).map(|(_, t)| t),
                uri: rule.sources.first().cloned().unwrap_or_default(),
            })
        })
    }
}

/// The arguments as facts, plus the findings that fired (for graduation triggers).
struct DiagnosisFacts<'a> {
    arguments: &'a Map<String, Value>,
    fired: &'a [&'a str],
}

impl Facts for DiagnosisFacts<'_> {
    fn number(&self, field: &str) -> Option<f64> {
        self.arguments.number(field)
    }
    fn flag(&self, field: &str) -> bool {
        match self.arguments.get(field) {
            Some(Value::Array(items)) => !items.is_empty(),
            _ => self.arguments.flag(field),
        }
    }
    fn word(&self, field: &str) -> Option<&str> {
        self.arguments.word(field)
    }
    fn finding(&self, id: &str) -> bool {
        self.fired.contains(&id)
    }
}

fn evidence(
    clauses: Vec<&Clause>,
    facts: &dyn Facts,
    arguments: &Map<String, Value>,
) -> Vec<Evidence> {
    clauses
        .into_iter()
        .filter_map(|clause| match clause {
            // A list that made a finding fire is its evidence (`shared_across_shards`).
            Clause::Flag { field } => match arguments.get(field) {
                Some(Value::Array(items)) => Some(Evidence {
                    metric: field.clone(),
                    value: Observed::Text(
                        items
                            .iter()
                            .filter_map(Value::as_str)
                            .collect::<Vec<_>>()
                            .join(", "),
                    ),
                    comparison: None,
                    threshold: None,
                }),
                _ => None,
            },
            Clause::Finding { id } if Symptom::ALL.iter().any(|s| s.id() == id) => Some(Evidence {
                metric: "symptoms".into(),
                value: Observed::Text(id.clone()),
                comparison: None,
                threshold: None,
            }),
            Clause::Compare {
                field,
                comparison,
                threshold,
            } => Some(Evidence {
                metric: field.clone(),
                value: Observed::Number(facts.number(field)?),
                comparison: Some(comparison.symbol().to_string()),
                threshold: Some(*threshold),
            }),
            _ => None,
        })
        .collect()
}

/// Diagnoses a system described by `args`.
pub fn run(advisor: &Advisor, args: DiagnoseArgs) -> Result<Diagnosis, ArgError> {
    let arguments = match serde_json::to_value(&args) {
        Ok(Value::Object(map)) => map,
        _ => {
            return Err(ArgError::internal(
                "arguments did not serialize to an object",
            ));
        }
    };
    // Rules test facts by field name; absent and null fields are both unknown.
    let given = arguments.iter().any(|(k, v)| match v {
        _ if k == "detail" => false,
        Value::Null => false,
        // A false `needs_multi_region` or `independent_table_groups` is the default, not a
        // fact; a false architecture flag says a component is absent.
        Value::Bool(b) => {
            *b || !matches!(
                k.as_str(),
                "needs_multi_region" | "independent_table_groups"
            )
        }
        Value::Array(items) => !items.is_empty(),
        _ => true,
    });
    if !given {
        return Err(ArgError::new(
            "arguments",
            "`{}` (no field)",
            "at least one architecture field (users, has_cache, ...), metric (p95_latency_ms, db_cpu_pct, ...) or symptom",
        ));
    }
    check_shard_facts(&args)?;
    Ok(diagnose(
        advisor.tables::<DiagnoseBottleneck>()?,
        &args,
        &arguments,
    ))
}

/// Refuses shard facts about a system that says it is not sharded, and unknown component
/// names in `shared_across_shards`.
fn check_shard_facts(args: &DiagnoseArgs) -> Result<(), ArgError> {
    for (i, name) in args.shared_across_shards.iter().enumerate() {
        if !COMPONENTS.contains(&name.as_str()) {
            let hint = knowledge::closest(name, COMPONENTS)
                .map(|c| format!(" (did you mean `{c}`?)"))
                .unwrap_or_default();
            return Err(ArgError::new(
                &format!("shared_across_shards[{i}]"),
                format!("`{name}`"),
                format!("a component name{hint}: {}", COMPONENTS.join(", ")),
            ));
        }
    }
    if args.sharded != Some(true) {
        let stated = match args.sharded {
            Some(false) => "`sharded` is false",
            _ => "`sharded` is not given",
        };
        if let Some(ratio) = args.shard_skew_ratio {
            return Err(ArgError::number(
                "shard_skew_ratio",
                ratio,
                format!(
                    "no value while {stated}: a skew ratio compares the shards of a sharded system, so give `sharded: true` with it"
                ),
            ));
        }
        if !args.shared_across_shards.is_empty() {
            return Err(ArgError::new(
                "shared_across_shards",
                format!("[{}]", args.shared_across_shards.join(", ")),
                format!(
                    "an empty list while {stated}: it names what every shard depends on, so give `sharded: true` with it"
                ),
            ));
        }
    }
    Ok(())
}

pub(crate) fn diagnose(
    catalog: &DiagnosisRules,
    args: &DiagnoseArgs,
    arguments: &Map<String, Value>,
) -> Diagnosis {
    let mut sources = Vec::new();
    let mut symptoms = args.symptoms.clone();
    symptoms.sort();
    symptoms.dedup();
    // Thresholds may depend on a reported symptom (`finding cascade_failure`).
    let reported: Vec<&str> = symptoms.iter().map(|s| s.id()).collect();
    let plain = DiagnosisFacts {
        arguments,
        fired: &reported,
    };

    // The stage: from the architecture when any architecture field is given, else from users.
    let (stage, stage_basis) = if ARCHITECTURE_FIELDS
        .iter()
        .any(|f| arguments.get(*f).is_some_and(|v| !v.is_null()))
    {
        push_unique(&mut sources, catalog.architecture_uri.clone());
        let stage = catalog
            .architecture
            .iter()
            .filter(|r| r.when.holds(&plain))
            .map(|r| r.stage)
            .max()
            .unwrap_or(1);
        (stage, StageBasis::Architecture)
    } else if let Some(users) = args.users {
        push_unique(&mut sources, catalog.stages_uri.clone());
        (catalog.stages.for_users(users as f64), StageBasis::Users)
    } else {
        (1, StageBasis::Default)
    };
    push_unique(&mut sources, catalog.stages_uri.clone());

    // Findings from the thresholds, then from the reported symptoms.
    let mut findings = Vec::new();
    for rule in &catalog.findings {
        let critical = rule
            .critical
            .as_ref()
            .map(|c| c.evidence(&plain))
            .filter(|e| !e.is_empty());
        let (severity, clauses) = match critical {
            Some(clauses) => (Severity::Critical, clauses),
            None => match rule.warning.evidence(&plain) {
                clauses if !clauses.is_empty() => (Severity::Warning, clauses),
                _ => continue,
            },
        };
        findings.push(Finding {
            id: rule.id.clone(),
            layer: rule.layer.clone(),
            severity,
            evidence: evidence(clauses, &plain, arguments),
            summary: rule.summary.clone(),
            fixes: rule.fixes.clone(),
            sources: rule.sources.clone(),
            months_to_critical: None,
        });
    }
    for mode in catalog
        .failure_modes
        .iter()
        .filter(|m| symptoms.contains(&m.symptom))
    {
        findings.push(Finding {
            id: mode.id.clone(),
            layer: mode.layer.clone(),
            severity: mode.severity,
            evidence: vec![Evidence {
                metric: "symptoms".into(),
                value: Observed::Text(mode.symptom.id().to_string()),
                comparison: None,
                threshold: None,
            }],
            summary: mode.summary.clone(),
            fixes: mode.fixes.clone(),
            sources: mode.sources.clone(),
            months_to_critical: None,
        });
    }
    findings.sort_by_key(|f| f.severity);
    // Fixes that would bring back a component the caller has give way to the rows written for it.
    for finding in &mut findings {
        if fit_fixes(catalog, finding, &plain) {
            finding.sources.push(catalog.overrides_uri.clone());
        }
    }
    for finding in &findings {
        for uri in &finding.sources {
            push_unique(&mut sources, uri.clone());
        }
    }

    // What the absent arguments would have let the rules test: every number a finding rule
    // or a trigger of this stage compares, that was not given, for the rules that did not fire.
    let mut missing_inputs = Vec::new();
    if stage_basis == StageBasis::Default {
        missing_input(&mut missing_inputs, "users", "current_stage");
    }
    for rule in &catalog.findings {
        if findings.iter().any(|f| f.id == rule.id) {
            continue;
        }
        let conditions = std::iter::once(&rule.warning).chain(rule.critical.as_ref());
        for field in absent_numbers(conditions, &plain) {
            missing_input(&mut missing_inputs, field, &rule.id);
        }
    }

    // The next stage, when a graduation trigger of the current stage fires.
    let fired: Vec<&str> = findings.iter().map(|f| &*f.id).collect();
    let facts = DiagnosisFacts {
        arguments,
        fired: &fired,
    };
    let triggered: Vec<&Trigger> = catalog
        .triggers
        .iter()
        .filter(|t| t.from_stage == stage && t.when.holds(&facts))
        .collect();
    let present = present_components(args);
    let untriggered = catalog
        .triggers
        .iter()
        .filter(|t| t.from_stage == stage && !t.when.holds(&facts))
        .map(|t| &t.when);
    for field in absent_numbers(untriggered, &plain) {
        missing_input(&mut missing_inputs, field, "next_stage");
    }
    let next_stage = (!triggered.is_empty()).then(|| {
        push_unique(&mut sources, catalog.triggers_uri.clone());
        // The target is the furthest stage a trigger asks for: the one that relieves the
        // binding constraint (write pressure skips the read-side stages).
        let target = triggered
            .iter()
            .map(|t| t.to_stage)
            .max()
            .unwrap_or(stage + 1);
        let next = catalog.stages.get(target);
        let mut add: Vec<String> = Vec::new();
        for trigger in &triggered {
            let wanted = trigger
                .add
                .as_ref()
                .unwrap_or(&catalog.stages.get(trigger.to_stage).add);
            for component in wanted {
                if !present.contains(&component.as_str()) && !add.contains(component) {
                    add.push(component.clone());
                }
            }
        }
        // What the target stage brings but a trigger chose not to add stays worth considering.
        let mut also_consider: Vec<String> = Vec::new();
        for component in next.add.iter().chain(&next.also_consider) {
            if !present.contains(&component.as_str())
                && !add.contains(component)
                && !also_consider.contains(component)
            {
                also_consider.push(component.clone());
            }
        }
        let urgency = if triggered.iter().any(|t| t.urgency == Urgency::Now) {
            Urgency::Now
        } else {
            Urgency::Planned
        };
        let mut reason = triggered
            .iter()
            .map(|t| t.reason.as_str())
            .collect::<Vec<_>>()
            .join("; ");
        if urgency == Urgency::Planned {
            reason.push_str(
                "; planned, not urgent: only the user count points here, no finding or stated need does",
            );
        }
        NextStage {
            number: next.number,
            name: next.name.clone(),
            add,
            reason,
            triggers: triggered.iter().map(|t| t.when.to_string()).collect(),
            also_consider,
            urgency,
        }
    });

    // With a growth rate: when each load-driven finding turns critical, and the headroom of
    // the load-driven metrics that have not fired (the forecast of `forecast_growth`).
    let headroom = args.monthly_growth_pct.map(|pct| {
        for finding in &mut findings {
            finding.months_to_critical = finding
                .evidence
                .iter()
                .filter(|e| crate::forecast_growth::LOAD_DRIVEN.contains(&e.metric.as_str()))
                .filter_map(|e| {
                    let Observed::Number(value) = e.value else {
                        return None;
                    };
                    let critical = catalog.thresholds(&e.metric)?.critical?;
                    crate::forecast_growth::months_at_growth(value, critical, pct)
                })
                .reduce(f64::min);
        }
        crate::forecast_growth::LOAD_DRIVEN
            .iter()
            .filter_map(|metric| {
                let value = arguments.number(metric)?;
                let thresholds = catalog.thresholds(metric)?;
                let fired = findings.iter().any(|f| f.id == thresholds.finding);
                (!fired).then(|| Headroom {
                    metric: (*metric).to_string(),
                    months_to_warning: crate::forecast_growth::months_at_growth(
                        value,
                        thresholds.warning,
                        pct,
                    ),
                })
            })
            .collect()
    });
    let current = catalog.stages.get(stage);
    let mut diagnosis = Diagnosis {
        summary: String::new(),
        current_stage: StageRef {
            number: current.number,
            name: current.name.clone(),
        },
        stage_basis,
        healthy: findings.is_empty(),
        findings,
        next_stage,
        missing_inputs,
        headroom,
        sources,
    };
    diagnosis.summary = summary_of(&diagnosis);
    diagnosis
}

/// "1 critical, 2 warnings": the findings counted by severity, for the summaries.
pub(crate) fn finding_counts(findings: &[Finding]) -> String {
    let critical = findings
        .iter()
        .filter(|f| f.severity == Severity::Critical)
        .count();
    let warnings = findings.len() - critical;
    let mut counts = Vec::new();
    if critical > 0 {
        counts.push(format!("{critical} critical"));
    }
    if warnings > 0 {
        counts.push(format!(
            "{warnings} warning{}",
            if warnings == 1 { "" } else { "s" }
        ));
    }
    counts.join(", ")
}

/// "Stage 2 · Caching; 2 warnings, worst: high_latency (p95_latency_ms 350 > 200); next:
/// stage 3 · Read Replicas, add read_replicas."
fn summary_of(d: &Diagnosis) -> String {
    let mut out = format!(
        "Stage {} · {}; ",
        d.current_stage.number, d.current_stage.name
    );
    if d.healthy {
        out.push_str("healthy: no metric crosses a threshold and no failure mode was reported");
    } else {
        out.push_str(&finding_counts(&d.findings));
        if let Some(worst) = d.findings.first() {
            let _ = write!(out, ", worst: {} (", worst.id);
            for (i, evidence) in worst.evidence.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_evidence(&mut out, evidence);
            }
            out.push(')');
        }
    }
    match &d.next_stage {
        Some(next) => {
            let when = match next.urgency {
                Urgency::Now => "now",
                Urgency::Planned => "planned, from the user count alone",
            };
            let _ = write!(
                out,
                "; next ({when}): stage {} · {}, add {}.",
                next.number,
                next.name,
                next.add.join(", ")
            );
        }
        None => out.push_str("; no graduation trigger fired."),
    }
    crate::summary(out)
}

/// Replaces each horizon of `finding`'s fixes by the first row of
/// `monitoring#fixes-for-the-architecture-given` written for it whose condition holds; true when
/// any was replaced.
fn fit_fixes(catalog: &DiagnosisRules, finding: &mut Finding, facts: &dyn Facts) -> bool {
    let mut replaced = false;
    for (horizon, text) in [
        (Horizon::Immediate, &mut finding.fixes.immediate),
        (Horizon::ShortTerm, &mut finding.fixes.short_term),
        (Horizon::LongTerm, &mut finding.fixes.long_term),
    ] {
        if let Some(row) = catalog
            .overrides
            .iter()
            .find(|o| o.horizon == horizon && *o.id == *finding.id && o.when.holds(facts))
        {
            *text = row.text.clone();
            replaced = true;
        }
    }
    replaced
}

fn write_evidence(out: &mut String, evidence: &Evidence) {
    use crate::args::Number;
    let _ = match (&evidence.value, &evidence.comparison, evidence.threshold) {
        (Observed::Number(v), Some(op), Some(t)) => {
            write!(out, "{} {} {op} {}", evidence.metric, Number(*v), Number(t))
        }
        (Observed::Text(t), _, _) if evidence.metric == "symptoms" => {
            write!(out, "reported `{t}`")
        }
        (Observed::Text(t), _, _) => write!(out, "{}: {t}", evidence.metric),
        (Observed::Number(v), _, _) => write!(out, "{} {}", evidence.metric, Number(*v)),
    };
}

pub fn to_markdown(d: &Diagnosis) -> String {
    let mut out = String::with_capacity(4096);
    let basis = match d.stage_basis {
        StageBasis::Architecture => "from the architecture",
        StageBasis::Users => "from the user count",
        StageBasis::Default => "no architecture or users given",
    };
    let _ = writeln!(
        out,
        "## Stage {} · {} ({basis})\n",
        d.current_stage.number, d.current_stage.name
    );
    match &d.next_stage {
        Some(next) => {
            let _ = write!(out, "**Next: stage {} · {}**, add ", next.number, next.name);
            for (i, component) in next.add.iter().enumerate() {
                let _ = write!(out, "{}`{component}`", if i > 0 { ", " } else { "" });
            }
            let when = match next.urgency {
                Urgency::Now => "now",
                Urgency::Planned => "planned",
            };
            let _ = writeln!(out, " ({when}). Why: {}.\n", next.reason);
        }
        None => {
            let _ = writeln!(out, "No graduation trigger fired: stay at this stage.\n");
        }
    }
    if d.healthy {
        let _ = writeln!(
            out,
            "Healthy: no metric crosses a threshold and no failure mode was reported."
        );
    } else {
        let _ = writeln!(
            out,
            "| severity | finding | layer | evidence |\n|---|---|---|---|"
        );
        for f in &d.findings {
            let severity = match f.severity {
                Severity::Critical => "CRITICAL",
                Severity::Warning => "warning",
            };
            let _ = write!(out, "| {severity} | `{}` | {} | ", f.id, f.layer);
            for (i, evidence) in f.evidence.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_evidence(&mut out, evidence);
            }
            out.push_str(" |\n");
        }
        let _ = writeln!(out, "\n### What to do\n");
        for f in &d.findings {
            let _ = writeln!(
                out,
                "- **`{}`**: {}. Now: {}. Next: {}. Later: {}.",
                f.id,
                f.summary.trim_end_matches('.'),
                f.fixes.immediate.trim_end_matches('.'),
                f.fixes.short_term.trim_end_matches('.'),
                f.fixes.long_term.trim_end_matches('.')
            );
        }
    }
    let turning: Vec<String> = d
        .findings
        .iter()
        .filter_map(|f| {
            let m = f.months_to_critical?;
            Some(if m == 0.0 {
                format!("`{}` is critical now", f.id)
            } else {
                format!("`{}` turns critical in month {m:.1}", f.id)
            })
        })
        .collect();
    if !turning.is_empty() {
        let _ = writeln!(out, "\nAt this growth: {}.", turning.join("; "));
    }
    if let Some(headroom) = d.headroom.as_ref().filter(|h| !h.is_empty()) {
        let list: Vec<String> = headroom
            .iter()
            .map(|h| match h.months_to_warning {
                Some(m) => format!("`{}` warns in month {m:.1}", h.metric),
                None => format!("`{}` never warns", h.metric),
            })
            .collect();
        let _ = writeln!(out, "\nHeadroom: {}.", list.join("; "));
    }
    sources(&mut out, &d.sources);
    out
}

/// The `diagnose_bottleneck` tool.
pub struct DiagnoseBottleneck;

impl Tool for DiagnoseBottleneck {
    // How the stage was read and the comparison each finding's summary states are `full`'s;
    // past the budget, the last findings' fixes give way (critical first), and `truncated`
    // says so.
    const CONCISE_OMITS: &'static [&'static str] =
        &["stage_basis", "findings[].evidence[].comparison"];
    const CONCISE_BUDGET: Option<crate::Budget> = Some(crate::Budget {
        max_bytes: 8_000,
        list: "findings",
        field: "fixes",
    });
    const NAME: &'static str = "diagnose_bottleneck";
    const TITLE: &'static str = "Diagnose a scaling bottleneck";
    const DESCRIPTION: &'static str = "Diagnose a bottleneck from p95 latency, DB/app CPU, cache hit ratio, replica lag, queue depth: scaling stage, fixes, next stage.";
    type Args = DiagnoseArgs;
    type Output = Diagnosis;
    type Tables = DiagnosisRules;

    fn load(knowledge: &Knowledge) -> Result<DiagnosisRules, KnowledgeError> {
        DiagnosisRules::load(knowledge)
    }

    fn run(advisor: &Advisor, args: DiagnoseArgs) -> Result<Diagnosis, ArgError> {
        run(advisor, args)
    }

    fn to_markdown(output: &Diagnosis) -> String {
        to_markdown(output)
    }

    /// Concise leaves out the triggers' condition texts (`reason` says them in words).
    fn shape(output: &mut Diagnosis, detail: Detail) {
        if !detail.is_full()
            && let Some(next) = output.next_stage.as_mut()
        {
            next.triggers.clear();
        }
    }
}

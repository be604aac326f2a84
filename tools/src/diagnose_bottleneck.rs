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
use crate::{Advisor, ArgError, Tool};

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
    /// Active users; gives the stage if no architecture flag is set.
    #[schemars(range(min = 0))]
    pub users: Option<u64>,
    /// A cache fronts the database.
    pub has_cache: Option<bool>,
    /// Read replicas serve reads.
    pub has_read_replicas: Option<bool>,
    /// The database is sharded.
    pub sharded: Option<bool>,
    /// A load balancer spreads traffic.
    pub has_load_balancer: Option<bool>,
    /// A CDN serves static assets.
    pub has_cdn: Option<bool>,
    /// Background jobs use a queue.
    pub has_queue: Option<bool>,
    /// Regions the system runs in.
    #[schemars(range(min = 1))]
    pub regions: Option<u64>,
    /// The product needs several regions.
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
    /// DB capacity used by reads, %.
    #[schemars(range(min = 0, max = 100))]
    pub db_read_load_pct: Option<f64>,
    /// Primary capacity used by writes, %.
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
    /// Jobs waiting in the queue.
    #[schemars(range(min = 0))]
    pub queue_depth: Option<u64>,
    /// Dead-letter queue size.
    #[schemars(range(min = 0))]
    pub dlq_size: Option<u64>,
    /// DB connection pool in use, %.
    #[schemars(range(min = 0, max = 100))]
    pub pool_utilization_pct: Option<f64>,
    /// Average DB queries per request.
    #[schemars(range(min = 0))]
    pub queries_per_request: Option<f64>,
    /// Slowest frequent query, ms.
    #[schemars(range(min = 0))]
    pub slowest_query_ms: Option<f64>,
    /// Failed requests, %.
    #[schemars(range(min = 0, max = 100))]
    pub error_rate_pct: Option<f64>,
    /// Failure modes observed.
    #[serde(default)]
    pub symptoms: Vec<Symptom>,
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
    /// The triggers that fired, as written in the stage table (e.g. `finding high_latency`).
    pub triggers: Vec<String>,
    /// Components worth considering at that stage besides `add`.
    pub also_consider: Vec<String>,
}

/// The diagnosis.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Diagnosis {
    pub current_stage: StageRef,
    pub stage_basis: StageBasis,
    /// Critical findings first, then warnings.
    pub findings: Vec<Finding>,
    pub next_stage: Option<NextStage>,
    /// True exactly when there are no findings.
    pub healthy: bool,
    pub sources: Vec<String>,
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

struct ArchitectureRule {
    when: Condition,
    stage: u8,
}

struct Trigger {
    from_stage: u8,
    when: Condition,
    reason: String,
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

/// The tables `diagnose_bottleneck` applies, read once from the knowledge base.
pub struct DiagnosisRules {
    pub(crate) stages: Vec<Stage>,
    stages_uri: String,
    architecture: Vec<ArchitectureRule>,
    architecture_uri: String,
    triggers: Vec<Trigger>,
    triggers_uri: String,
    findings: Vec<FindingRule>,
    failure_modes: Vec<FailureMode>,
}

/// The component names of the contract.
pub const COMPONENTS: [&str; 8] = [
    "cache",
    "cdn",
    "load_balancer",
    "read_replicas",
    "job_queue",
    "sharding",
    "multi_region",
    "distributed_database",
];

/// The number, flag and finding names that this tool's conditions may use.
fn vocabulary(findings: Vec<String>) -> Vocabulary {
    let schema = schemars::schema_for!(DiagnoseArgs);
    let mut numbers = Vec::new();
    let mut flags = Vec::new();
    if let Some(properties) = schema.get("properties").and_then(Value::as_object) {
        for (name, property) in properties {
            let text = property.to_string();
            if text.contains("\"boolean\"") {
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

fn components(row: &knowledge::RowRef<'_>, column: &str) -> Result<Vec<String>, KnowledgeError> {
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

fn stage_number(row: &knowledge::RowRef<'_>, column: &str) -> Result<u8, KnowledgeError> {
    let n = row.integer(column)?;
    u8::try_from(n)
        .ok()
        .filter(|n| (1..=5).contains(n))
        .ok_or_else(|| row.error(format!("`{column}` must be a stage from 1 to 5, found {n}")))
}

impl DiagnosisRules {
    pub(crate) fn load(knowledge: &Knowledge) -> Result<Self, KnowledgeError> {
        // Findings first: their ids are the vocabulary of the graduation triggers.
        let table = knowledge.table("monitoring", "diagnostic-findings")?;
        table.require_columns(&["id", "layer", "warning_when", "critical_when", "summary"])?;
        table.require_rows()?;
        let ids: Vec<String> = table
            .rows()
            .map(|r| r.required("id").map(str::to_string))
            .collect::<Result<_, _>>()?;
        let vocabulary = vocabulary(ids.clone());
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
                    "the failure mode `{name}` needs a section headed `{name}`"
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
        let stages_uri = table.uri();

        let table = knowledge.table("scaling-stages", "stage-from-architecture")?;
        table.require_columns(&["when", "stage"])?;
        let architecture_uri = table.uri();
        let architecture = table
            .rows()
            .map(|row| {
                Ok(ArchitectureRule {
                    when: row.condition("when", &vocabulary)?,
                    stage: stage_number(&row, "stage")?,
                })
            })
            .collect::<Result<Vec<_>, KnowledgeError>>()?;

        let table = knowledge.table("scaling-stages", "graduation-triggers")?;
        table.require_columns(&["from_stage", "when", "reason"])?;
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
                Ok(Trigger {
                    from_stage,
                    when: row.condition("when", &vocabulary)?,
                    reason: row.required("reason")?.to_string(),
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
        })
    }

    fn stage(&self, number: u8) -> &Stage {
        // `load` guarantees stages 1..=5 in order.
        &self.stages[usize::from(number.clamp(1, 5)) - 1]
    }

    /// The stage whose user range holds `users`.
    pub(crate) fn stage_for_users(&self, users: f64) -> u8 {
        self.stages
            .iter()
            .rev()
            .find(|s| users >= s.min_users && s.max_users.is_none_or(|max| users < max))
            .or_else(|| self.stages.iter().rev().find(|s| users >= s.min_users))
            .map_or(1, |s| s.number)
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
        self.arguments.flag(field)
    }
    fn word(&self, field: &str) -> Option<&str> {
        self.arguments.word(field)
    }
    fn finding(&self, id: &str) -> bool {
        self.fired.contains(&id)
    }
}

fn evidence(clauses: Vec<&Clause>, facts: &dyn Facts) -> Vec<Evidence> {
    clauses
        .into_iter()
        .filter_map(|clause| match clause {
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
        Value::Null => false,
        Value::Bool(b) => *b || k != "needs_multi_region",
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
    Ok(diagnose(
        advisor.tables::<DiagnoseBottleneck>()?,
        &args,
        &arguments,
    ))
}

pub(crate) fn diagnose(
    catalog: &DiagnosisRules,
    args: &DiagnoseArgs,
    arguments: &Map<String, Value>,
) -> Diagnosis {
    let mut sources = Vec::new();
    let no_findings = [];
    let plain = DiagnosisFacts {
        arguments,
        fired: &no_findings,
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
        (catalog.stage_for_users(users as f64), StageBasis::Users)
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
            evidence: evidence(clauses, &plain),
            summary: rule.summary.clone(),
            fixes: rule.fixes.clone(),
            sources: rule.sources.clone(),
        });
    }
    let mut symptoms = args.symptoms.clone();
    symptoms.sort();
    symptoms.dedup();
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
        });
    }
    findings.sort_by_key(|f| f.severity);
    for finding in &findings {
        for uri in &finding.sources {
            push_unique(&mut sources, uri.clone());
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
    let next_stage = (!triggered.is_empty()).then(|| {
        push_unique(&mut sources, catalog.triggers_uri.clone());
        let next = catalog.stage(stage + 1);
        NextStage {
            number: next.number,
            name: next.name.clone(),
            add: next.add.clone(),
            reason: triggered
                .iter()
                .map(|t| t.reason.as_str())
                .collect::<Vec<_>>()
                .join("; "),
            triggers: triggered.iter().map(|t| t.when.to_string()).collect(),
            also_consider: next.also_consider.clone(),
        }
    });

    let current = catalog.stage(stage);
    Diagnosis {
        current_stage: StageRef {
            number: current.number,
            name: current.name.clone(),
        },
        stage_basis,
        healthy: findings.is_empty(),
        findings,
        next_stage,
        sources,
    }
}

fn write_evidence(out: &mut String, evidence: &Evidence) {
    use crate::args::Number;
    let _ = match (&evidence.value, &evidence.comparison, evidence.threshold) {
        (Observed::Number(v), Some(op), Some(t)) => {
            write!(out, "{} {} {op} {}", evidence.metric, Number(*v), Number(t))
        }
        (Observed::Text(t), _, _) => write!(out, "reported `{t}`"),
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
            let _ = writeln!(out, ". Why: {}.\n", next.reason);
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
    sources(&mut out, &d.sources);
    out
}

/// The `diagnose_bottleneck` tool.
pub struct DiagnoseBottleneck;

impl Tool for DiagnoseBottleneck {
    const NAME: &'static str = "diagnose_bottleneck";
    const TITLE: &'static str = "Diagnose a scaling bottleneck";
    const DESCRIPTION: &'static str = "Find a system's scaling stage (1-5), the bottlenecks its metrics show, with evidence and fixes, and the next stage. Give at least one fact, metric or symptom.";
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
}

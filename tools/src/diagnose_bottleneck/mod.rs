//! `diagnose_bottleneck`: from architecture facts and metrics to the current scaling stage, the
//! findings (each with its evidence, fixes in three horizons and sources) and the next stage.
//! Every threshold comes from `monitoring#diagnostic-findings`, every stage rule from
//! `scaling-stages`, every symptom from `failure-modes`; this folder only evaluates them, one
//! room per step: `rules` reads the tables, `stage` places the system and finds its next
//! stage, `findings` applies the thresholds and symptoms, `headroom` the growth rate, and
//! `markdown` writes the answer.

mod findings;
mod headroom;
mod markdown;
mod rules;
mod stage;

use knowledge::{Facts, Knowledge, KnowledgeError};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

pub(crate) use markdown::finding_counts;
pub use markdown::to_markdown;
pub use rules::DiagnosisRules;

use crate::markdown::push_unique;
pub use crate::stages::{COMPONENT_PRODUCTS, COMPONENTS};
use crate::{Advisor, ArgError, Detail, MissingInput, Tool, missing_input};

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
    #[schemars(schema_with = "crate::stages::component_list_schema")]
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
    /// application, database, cache, replication, queue, architecture (a stated need the
    /// system does not meet), or the failure mode's layer.
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

/// The arguments as facts, plus the findings that fired (for graduation triggers).
struct DiagnosisFacts<'a> {
    arguments: &'a Map<String, Value>,
    fired: &'a [&'a str],
}

impl Facts for DiagnosisFacts<'_> {
    fn number(&self, field: &str) -> Option<f64> {
        // A system runs in at least one region: `regions` not given is one, as the stage rules
        // and `present_components` read it, so a stated need for several is tested against it.
        // Evidence shows only what was given (`findings::evidence`).
        self.arguments
            .number(field)
            .or((field == "regions").then_some(1.0))
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
            // The list is shown by its first names: a refusal stays short whatever was sent.
            const SHOWN: usize = 5;
            let list = &args.shared_across_shards;
            let mut shown = list[..list.len().min(SHOWN)].join(", ");
            if list.len() > SHOWN {
                shown.push_str(&format!(", … {} names in all", list.len()));
            }
            return Err(ArgError::new(
                "shared_across_shards",
                format!("[{shown}]"),
                format!(
                    "an empty list while {stated}: it names what every shard depends on, so give `sharded: true` with it"
                ),
            ));
        }
    }
    Ok(())
}

/// The diagnosis, step by step: the symptoms reported, the stage, the findings, what was not
/// given, the next stage and, with a growth rate, the months left.
pub(crate) fn diagnose(
    rules: &DiagnosisRules,
    args: &DiagnoseArgs,
    arguments: &Map<String, Value>,
) -> Diagnosis {
    let mut sources = Vec::new();
    let symptoms = reported_symptoms(args);
    // Thresholds may depend on a reported symptom (`finding cascade_failure`).
    let reported: Vec<&str> = symptoms.iter().map(|s| s.id()).collect();
    let plain = DiagnosisFacts {
        arguments,
        fired: &reported,
    };

    let (stage, stage_basis, decided_by) = stage::current(rules, args, arguments, &plain);
    sources.extend(decided_by);
    push_unique(&mut sources, rules.stages_uri.clone());

    let mut findings = findings::evaluate(rules, &symptoms, &plain, arguments);
    for uri in findings.iter().flat_map(|f| &f.sources) {
        push_unique(&mut sources, uri.clone());
    }

    // What the absent arguments would have let the rules test: every number a finding rule
    // or a trigger of this stage compares, that was not given, for the rules that did not fire.
    let mut missing_inputs = Vec::new();
    if stage_basis == StageBasis::Default {
        missing_input(&mut missing_inputs, "users", "current_stage");
    }
    for (field, finding) in findings::untested(rules, &findings, &plain) {
        missing_input(&mut missing_inputs, field, finding);
    }
    let (next_stage, untested) = next_stage(rules, stage, args, &findings, &plain);
    for field in untested {
        missing_input(&mut missing_inputs, field, "next_stage");
    }
    if next_stage.is_some() {
        push_unique(&mut sources, rules.triggers_uri.clone());
    }

    let headroom = args.monthly_growth_pct.map(|pct| {
        headroom::set_months_to_critical(rules, &mut findings, pct);
        headroom::headroom(rules, &findings, arguments, pct)
    });
    let current = rules.stages.get(stage);
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
    diagnosis.summary = markdown::summary_of(&diagnosis);
    diagnosis
}

/// The symptoms reported, each once, in a fixed order.
fn reported_symptoms(args: &DiagnoseArgs) -> Vec<Symptom> {
    let mut symptoms = args.symptoms.clone();
    symptoms.sort();
    symptoms.dedup();
    symptoms
}

/// The next stage, when a graduation trigger of `stage` fires on the arguments and the
/// findings; with the numbers that the triggers which did not fire compare and `plain` lacks.
fn next_stage<'r>(
    rules: &'r DiagnosisRules,
    stage: u8,
    args: &DiagnoseArgs,
    findings: &[Finding],
    plain: &DiagnosisFacts<'_>,
) -> (Option<NextStage>, Vec<&'r str>) {
    let fired: Vec<&str> = findings.iter().map(|f| &*f.id).collect();
    let facts = DiagnosisFacts {
        arguments: plain.arguments,
        fired: &fired,
    };
    let triggered = stage::triggered(rules, stage, &facts);
    let untested = stage::untested(rules, stage, &facts, plain);
    let next = stage::next(rules, stage, &triggered, &present_components(args));
    (next, untested)
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
    const OBSERVE: Option<crate::Fill> = Some(crate::Fill::Diagnose);
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

//! The roadmap (contract §10): with `growth`, the report plans for the horizon. Every crossing
//! the forecast finds (a stage entered, a resource turning critical) and every graduation
//! trigger the diagnosis finds today gets a step that is done before it: the step's component
//! and migration come from the stage table or from `capacity-planning#roadmap-steps`, its
//! duration from the migration's weeks or the forecast's lead time, and it starts that long
//! before the crossing, or now and `late` when even now is too late.

use std::fmt::Write;

use knowledge::{Condition, Knowledge, KnowledgeError, Vocabulary};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::words::{capitalized, lowercase_first};
use crate::diagnose_bottleneck::{DiagnoseArgs, Diagnosis, PRESENCE_FLAGS};
use crate::forecast_growth::Forecast;
use crate::markdown::push_unique;
use crate::numbers;
use crate::plan_migration::{self, MigrationArgs, MigrationKind};
use crate::stages::{COMPONENTS, Stages};
use crate::thresholds::LOAD_DRIVEN;
use crate::{Advisor, ArgError};

/// A line the forecast (or today's diagnosis) says the system crosses.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Crossing {
    /// Month of the crossing (0 = now).
    pub month: f64,
    /// What crosses: `users` (a stage boundary), a resource (`db_cpu_pct`), or `diagnosis`
    /// (a graduation trigger that fired today).
    pub subject: String,
    /// The crossing in words.
    pub event: String,
}

/// One step of the roadmap.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct RoadmapStep {
    /// Month to start (0 = now).
    pub start_month: f64,
    /// Month it is done: at or before the first crossing it pre-empts, unless `late`.
    pub done_by_month: f64,
    /// Components it adds, in the contract's names; empty for a step in place.
    pub adds: Vec<String>,
    /// The `plan_migration` kind it runs, or null.
    pub migration: Option<MigrationKind>,
    /// What to do.
    pub action: String,
    /// The crossings it pre-empts and their months, in words.
    pub because: String,
    /// True when even starting now it cannot be done before its first crossing.
    pub late: bool,
    /// How long it takes, months: the migration's weeks, or the forecast's lead time.
    pub duration_months: f64,
    /// The crossings it is done before (or, late, answers), in time order.
    pub pre_empts: Vec<Crossing>,
}

/// One row of `capacity-planning#roadmap-steps`.
struct StepRule {
    resource: String,
    when: Condition,
    add: Option<String>,
    migration: Option<MigrationKind>,
    action: String,
}

/// The roadmap's tables: the step each resource crossing needs, and the month in days.
pub struct RoadmapRules {
    rules: Vec<StepRule>,
    rules_uri: String,
    days_per_month: f64,
    timing_uri: String,
}

/// The flags a roadmap row may test: the boolean arguments of `diagnose_bottleneck`.
fn vocabulary() -> Vocabulary {
    let schema = schemars::schema_for!(DiagnoseArgs);
    let flags = schema
        .get("properties")
        .and_then(Value::as_object)
        .map(|properties| {
            properties
                .iter()
                .filter(|(_, p)| p.to_string().contains("\"boolean\""))
                .map(|(name, _)| name.clone())
                .collect()
        })
        .unwrap_or_default();
    Vocabulary {
        numbers: Vec::new(),
        flags,
        words: Vec::new(),
        findings: Vec::new(),
    }
}

impl RoadmapRules {
    pub(super) fn load(knowledge: &Knowledge) -> Result<Self, KnowledgeError> {
        let table = knowledge.table("capacity-planning", "roadmap-steps")?;
        table.require_columns(&["resource", "when", "add", "migration", "action", "source"])?;
        let vocabulary = vocabulary();
        let mut rules = Vec::new();
        for row in table.rows() {
            let resource = row.required("resource")?;
            if !LOAD_DRIVEN.contains(&resource) {
                return Err(row.error(format!(
                    "unknown resource `{resource}` (known: {})",
                    LOAD_DRIVEN.join(", ")
                )));
            }
            let when = row.condition("when", &vocabulary)?;
            let add = row.optional("add")?.map(str::to_string);
            if let Some(component) = add.as_deref().filter(|c| !COMPONENTS.contains(c)) {
                return Err(row.error(format!(
                    "unknown component `{component}` (known: {})",
                    COMPONENTS.join(", ")
                )));
            }
            let migration = match row.optional("migration")? {
                Some(text) => Some(
                    MigrationKind::ALL
                        .into_iter()
                        .find(|k| k.id() == text)
                        .ok_or_else(|| row.error(format!("unknown migration kind `{text}`")))?,
                ),
                None => None,
            };
            rules.push(StepRule {
                resource: resource.to_string(),
                when,
                add,
                migration,
                action: row.required("action")?.to_string(),
            });
        }
        let rules_uri = table.uri();
        let table = knowledge.table("capacity-planning", "roadmap-timing")?;
        table.require_columns(&["parameter", "value", "source"])?;
        let mut days_per_month = None;
        for row in table.rows() {
            if row.required("parameter")? == "days_per_month" {
                let days = row.number("value")?;
                if days <= 0.0 {
                    return Err(row.error("days_per_month must be above 0"));
                }
                days_per_month = Some(days);
            }
        }
        let days_per_month =
            days_per_month.ok_or_else(|| table.error("a row `days_per_month` is required"))?;
        Ok(Self {
            rules,
            rules_uri,
            days_per_month,
            timing_uri: table.uri(),
        })
    }
}

/// What a crossing asks for: the components of a stage or trigger, or a resource's step.
enum Need {
    Components(Vec<String>),
    Resource(String),
}

/// The roadmap and what it needs from the rest of the report.
pub(super) struct Roadmap {
    pub(super) steps: Vec<RoadmapStep>,
    /// Every crossing within the horizon, in time order.
    pub(super) crossings: Vec<Crossing>,
    /// Crossings whose components are already in place: no step needed.
    pub(super) covered: Vec<Crossing>,
    /// Resources past a line while the load falls, in words: they come back by themselves,
    /// so they get no step (`growth-models#falling-load`), and today's diagnosis that only
    /// they fired gets none either.
    pub(super) recovering: Vec<String>,
    /// True when today's diagnosis called for a next stage only because of metrics that
    /// recover as the load falls: the report then aims at today's stage.
    pub(super) diagnosis_set_aside: bool,
}

/// Everything the roadmap reads.
pub(super) struct RoadmapInputs<'a> {
    pub(super) forecast: &'a Forecast,
    pub(super) diagnosis: &'a Diagnosis,
    pub(super) system: &'a DiagnoseArgs,
    pub(super) stages: &'a Stages,
    pub(super) present: &'a dyn Fn(&str) -> bool,
    /// The data a migration copies, GB (from `requirements`), which sets its copy phase.
    pub(super) data_size_gb: Option<f64>,
}

/// The resources that recover as the load falls, each as "`db_cpu_pct` (90) is back at its
/// critical line (85) in month 1.1 and at its warning line (60) in month 7.9".
fn recovering(f: &Forecast) -> Vec<String> {
    f.resources
        .iter()
        .filter_map(|r| {
            let recovery = r.recovery.as_ref()?;
            let mut back = Vec::new();
            if let (Some(c), Some(m)) = (r.critical, recovery.months_below_critical) {
                back.push(format!(
                    "at its critical line ({}) {}",
                    numbers::quantity(c),
                    numbers::in_month(m)
                ));
            }
            if let Some(m) = recovery.months_below_warning {
                back.push(format!(
                    "at its warning line ({}) {}",
                    numbers::quantity(r.warning),
                    numbers::in_month(m)
                ));
            }
            Some(format!(
                "`{}` ({}) is back {}",
                r.name,
                numbers::quantity(r.current),
                back.join(" and ")
            ))
        })
        .collect()
}

/// True when today's diagnosis fired only on metrics that recover as the load falls: its
/// next stage answers a load that is leaving, so the roadmap plans no step for it.
pub(super) fn diagnosis_only_recovering(input: &RoadmapInputs<'_>) -> bool {
    let recovers = |metric: &str| {
        input
            .forecast
            .resources
            .iter()
            .any(|r| r.name == metric && r.recovery.is_some())
    };
    let d = input.diagnosis;
    d.next_stage
        .as_ref()
        .is_some_and(|n| n.urgency == crate::diagnose_bottleneck::Urgency::Now)
        && !d.findings.is_empty()
        && d.findings
            .iter()
            .all(|f| !f.evidence.is_empty() && f.evidence.iter().all(|e| recovers(&e.metric)))
}

/// The crossings within the horizon, in time order, with what each asks for; a resource that
/// recovers as the load falls is no crossing ahead.
fn crossings(input: &RoadmapInputs<'_>) -> Vec<(Crossing, Need)> {
    let f = input.forecast;
    let horizon = f64::from(f.horizon_months);
    let mut found = Vec::new();
    if let Some(next) = input
        .diagnosis
        .next_stage
        .as_ref()
        .filter(|_| !diagnosis_only_recovering(input))
    {
        found.push((
            Crossing {
                month: 0.0,
                subject: "diagnosis".into(),
                event: format!(
                    "today's diagnosis calls for stage {} · {}",
                    next.number, next.name
                ),
            },
            Need::Components(next.add.clone()),
        ));
    }
    for s in f.stages.iter().filter(|s| s.month <= horizon) {
        let users = input.stages.get(s.stage.number).min_users;
        found.push((
            Crossing {
                month: s.month,
                subject: "users".into(),
                event: format!(
                    "users reach {} (stage {} · {})",
                    numbers::quantity(users),
                    s.stage.number,
                    s.stage.name
                ),
            },
            Need::Components(s.add.clone()),
        ));
    }
    for r in f.resources.iter().filter(|r| r.recovery.is_none()) {
        // A resource without a critical line is planned against its warning line.
        let (month, line, value) = match r.critical {
            Some(critical) => (r.months_to_critical, "critical", critical),
            None => (r.months_to_warning, "warning", r.warning),
        };
        let Some(month) = month.filter(|m| *m <= horizon) else {
            continue;
        };
        let verb = if month == 0.0 { "is past" } else { "reaches" };
        found.push((
            Crossing {
                month,
                subject: r.name.clone(),
                event: format!(
                    "`{}` {verb} its {line} line ({})",
                    r.name,
                    numbers::quantity(value)
                ),
            },
            Need::Resource(r.name.clone()),
        ));
    }
    found.sort_by(|a, b| a.0.month.total_cmp(&b.0.month));
    found
}

/// The architecture a roadmap row is tested against: what is in place (stated or implied by
/// the stage), and the flags the caller gave.
fn architecture_facts(input: &RoadmapInputs<'_>) -> Map<String, Value> {
    let mut facts = match serde_json::to_value(input.system) {
        Ok(Value::Object(map)) => map,
        _ => Map::new(),
    };
    for (flag, component) in PRESENCE_FLAGS {
        if flag != "regions" {
            facts.insert(flag.to_string(), Value::Bool((input.present)(component)));
        }
    }
    facts
}

/// A step before timing: what it does and the key that merges the crossings it answers.
struct Draft {
    key: String,
    adds: Vec<String>,
    migration: Option<MigrationKind>,
    action: String,
}

fn drafts(
    advisor: &Advisor,
    rules: &RoadmapRules,
    input: &RoadmapInputs<'_>,
    facts: &Map<String, Value>,
    need: &Need,
    sources: &mut Vec<String>,
) -> Result<Vec<Draft>, ArgError> {
    let playbook = advisor.tables::<plan_migration::PlanMigration>()?;
    let component_draft = |component: &str| {
        let change = playbook.component(component);
        Draft {
            key: component.to_string(),
            adds: vec![component.to_string()],
            migration: change.and_then(|c| c.kind),
            action: change.map_or(format!("add {}", component.replace('_', " ")), |c| {
                c.how.trim_end_matches('.').to_string()
            }),
        }
    };
    match need {
        Need::Components(components) => Ok(components
            .iter()
            .filter(|c| !(input.present)(c))
            .map(|c| component_draft(c))
            .collect()),
        Need::Resource(name) => {
            let Some(rule) = rules
                .rules
                .iter()
                .find(|r| &r.resource == name && r.when.holds(facts))
            else {
                return Ok(Vec::new());
            };
            push_unique(sources, rules.rules_uri.clone());
            let mut draft = match &rule.add {
                Some(component) => {
                    let mut draft = component_draft(component);
                    draft.action = rule.action.clone();
                    draft
                }
                None => Draft {
                    key: format!("{name}: {}", rule.action),
                    adds: Vec::new(),
                    migration: rule.migration,
                    action: rule.action.clone(),
                },
            };
            // While the step is under way, the diagnosis' own fix for that resource.
            let finding = input
                .diagnosis
                .findings
                .iter()
                .find(|f| f.evidence.iter().any(|e| &e.metric == name));
            if let Some(f) = finding {
                draft.action = format!(
                    "{}; meanwhile ({}): {}",
                    draft.action,
                    f.id,
                    lowercase_first(f.fixes.immediate.trim_end_matches('.'))
                );
            }
            Ok(vec![draft])
        }
    }
}

/// How long a step takes, months: its migration's weeks when the kind alone can plan it (a
/// reshard needs shard counts), else the forecast's lead time.
fn duration(
    advisor: &Advisor,
    rules: &RoadmapRules,
    forecast: &Forecast,
    migration: Option<MigrationKind>,
    data_size_gb: Option<f64>,
) -> f64 {
    migration
        .and_then(|kind| {
            plan_migration::run(advisor, MigrationArgs::sized(kind, data_size_gb)).ok()
        })
        .map_or(forecast.lead_time_months, |plan| {
            plan.total_weeks as f64 * 7.0 / rules.days_per_month
        })
}

/// The roadmap for the forecast's horizon.
pub(super) fn plan(
    advisor: &Advisor,
    rules: &RoadmapRules,
    input: &RoadmapInputs<'_>,
    sources: &mut Vec<String>,
) -> Result<Roadmap, ArgError> {
    let facts = architecture_facts(input);
    let mut steps: Vec<(String, RoadmapStep)> = Vec::new();
    let mut all = Vec::new();
    let mut covered = Vec::new();
    for (crossing, need) in crossings(input) {
        all.push(crossing.clone());
        let drafts = drafts(advisor, rules, input, &facts, &need, sources)?;
        if drafts.is_empty() {
            covered.push(crossing);
            continue;
        }
        for draft in drafts {
            // Crossings come in time order: a step met again keeps its earlier deadline.
            if let Some((_, step)) = steps.iter_mut().find(|(key, _)| *key == draft.key) {
                step.pre_empts.push(crossing.clone());
                continue;
            }
            let months = duration(
                advisor,
                rules,
                input.forecast,
                draft.migration,
                input.data_size_gb,
            );
            let start = crossing.month - months;
            let late = start < 0.0;
            let step = RoadmapStep {
                start_month: start.max(0.0),
                done_by_month: if late { months } else { crossing.month },
                adds: draft.adds,
                migration: draft.migration,
                action: capitalized(&draft.action),
                because: String::new(),
                late,
                duration_months: months,
                pre_empts: vec![crossing.clone()],
            };
            steps.push((draft.key, step));
        }
    }
    if !steps.is_empty() {
        push_unique(sources, rules.timing_uri.clone());
    }
    steps.sort_by(|a, b| {
        a.1.start_month
            .total_cmp(&b.1.start_month)
            .then(a.1.done_by_month.total_cmp(&b.1.done_by_month))
    });
    let steps = steps
        .into_iter()
        .map(|(_, mut step)| {
            step.because = because(&step);
            step
        })
        .collect();
    Ok(Roadmap {
        steps,
        crossings: all,
        covered,
        recovering: recovering(input.forecast),
        diagnosis_set_aside: diagnosis_only_recovering(input),
    })
}

/// "before users reach 10,000 (stage 2 · Caching) in month 1.2 and `db_cpu_pct` reaches its
/// critical line (85) in month 3.3"; a late step says what it is late for.
fn because(step: &RoadmapStep) -> String {
    let events: Vec<String> = step
        .pre_empts
        .iter()
        .map(|c| format!("{} {}", c.event, numbers::in_month(c.month)))
        .collect();
    match events.split_first() {
        Some((first, rest)) if step.late => {
            let mut text = format!(
                "late: {first}, and it takes {} months even if started now",
                numbers::quantity(step.duration_months)
            );
            if !rest.is_empty() {
                text = format!("{text}, and it comes before {}", rest.join(" and "));
            }
            text
        }
        _ => format!("before {}", events.join(" and ")),
    }
}

/// The forecast and the roadmap it led to: what the sections that plan for growth read.
pub(super) struct Growth<'a> {
    pub(super) forecast: &'a Forecast,
    pub(super) roadmap: &'a Roadmap,
}

impl Growth<'_> {
    /// The load multiple at `month`: (1 + g)^month.
    pub(super) fn multiple(&self, month: f64) -> f64 {
        (1.0 + self.forecast.monthly_growth_pct / 100.0).powf(month)
    }

    /// "21.2% a month".
    pub(super) fn rate_words(&self) -> String {
        format!(
            "{} a month",
            numbers::percent(self.forecast.monthly_growth_pct)
        )
    }

    /// Why the roadmap has no step, in a sentence without its full stop.
    pub(super) fn no_step_reason(&self) -> String {
        let f = self.forecast;
        let within = format!(
            "within {} months at {}",
            f.horizon_months,
            self.rate_words()
        );
        if self.roadmap.crossings.is_empty() && !self.roadmap.recovering.is_empty() {
            format!(
                "the load falls {} a month: {}, with no new capacity (growth-models#falling-load: a falling load orders none; meanwhile apply the findings' immediate fixes)",
                numbers::percent(-f.monthly_growth_pct),
                self.roadmap.recovering.join("; ")
            )
        } else if self.roadmap.crossings.is_empty() {
            format!(
                "nothing crosses a line {within} (the users stay within their stage and no load-driven metric reaches its critical line)"
            )
        } else {
            let covered: Vec<String> = self
                .roadmap
                .covered
                .iter()
                .map(|c| format!("{} {}", c.event, numbers::in_month(c.month)))
                .collect();
            format!(
                "what crosses a line {within} ({}) needs only components already in place",
                covered.join("; ")
            )
        }
    }
}

/// A table cell: no line breaks, no pipes.
fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}

/// One step's name: its components and migration, or "in place".
pub(super) fn step_name(step: &RoadmapStep) -> String {
    let what = if step.adds.is_empty() {
        // A step in place is named by the resource it acts on.
        let on: Vec<&str> = step
            .pre_empts
            .iter()
            .map(|c| c.subject.as_str())
            .filter(|s| *s != "users" && *s != "diagnosis")
            .collect();
        if on.is_empty() {
            "in place".to_string()
        } else {
            format!("in place on {}", on.join(", "))
        }
    } else {
        step.adds.join(" + ")
    };
    match step.migration {
        Some(kind) => format!("{what} ({})", kind.id()),
        None => what,
    }
}

/// The roadmap as a compact table, or why it has no step.
pub(super) fn to_markdown(growth: &Growth<'_>) -> String {
    let steps = &growth.roadmap.steps;
    if steps.is_empty() {
        return format!("No step is needed, since {}.\n", growth.no_step_reason());
    }
    let mut out = format!(
        "{} step{} at {} over {} months, each timed to be done before the crossings it pre-empts (late when even starting now is too late):\n\n| # | Start | Done by | Step | What to do | Pre-empts |\n|---|---|---|---|---|---|\n",
        steps.len(),
        if steps.len() == 1 { "" } else { "s" },
        growth.rate_words(),
        growth.forecast.horizon_months
    );
    for (i, step) in steps.iter().enumerate() {
        let done = if step.late {
            format!("{} (**late**)", numbers::month(step.done_by_month))
        } else {
            numbers::month(step.done_by_month)
        };
        let pre_empts: Vec<String> = step
            .pre_empts
            .iter()
            .map(|c| format!("{} {}", c.event, numbers::in_month(c.month)))
            .collect();
        out.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} |\n",
            i + 1,
            numbers::month(step.start_month),
            done,
            cell(&step_name(step)),
            cell(&step.action),
            cell(&pre_empts.join("; "))
        ));
    }
    out
}

/// The first crossing within the horizon and the first step, as a sentence: what breaks first,
/// in which month, and by when to start (contract §5.9's promise for Migration Plan and Cost
/// Impact).
pub(super) fn timing(growth: &Growth<'_>) -> String {
    let Some(first) = growth.roadmap.crossings.first() else {
        return format!(
            "**Timing (roadmap):** {}.",
            capitalized(&growth.no_step_reason())
        );
    };
    let mut text = format!(
        "**Timing (roadmap):** at {}, the first crossing is {} {}",
        growth.rate_words(),
        first.event,
        numbers::in_month(first.month)
    );
    if let Some(step) = growth.roadmap.steps.first() {
        let _ = write!(
            text,
            "; step 1, {}, starts {} and is done by {}{}",
            step_name(step),
            numbers::month(step.start_month),
            numbers::month(step.done_by_month),
            if step.late { " (late)" } else { "" }
        );
    }
    text.push('.');
    text
}

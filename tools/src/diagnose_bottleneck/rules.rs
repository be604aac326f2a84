//! The tables `diagnose_bottleneck` applies, read and checked once at start-up: the finding
//! thresholds and their fixes, the failure modes, the stage rules and graduation triggers, and
//! the fixes written for an architecture that already has what a standard fix would add.

use knowledge::{Clause, Condition, Knowledge, KnowledgeError, TableRef, Vocabulary, anchor};
use serde_json::Value;

use super::{ARCHITECTURE_FIELDS, DiagnoseArgs, Fixes, Severity, Symptom, Urgency};
use crate::markdown::push_unique;
use crate::stages::{Stages, components, stage_number};
use crate::thresholds::{ForecastLines, MetricThresholds};

/// A row of `scaling-stages#stage-from-architecture`: what is deployed, and the stage it means.
pub(super) struct ArchitectureRule {
    pub(super) when: Condition,
    pub(super) stage: u8,
}

/// A row of `scaling-stages#graduation-triggers`.
pub(super) struct Trigger {
    pub(super) from_stage: u8,
    /// The stage it leads to: the next one unless the row names another.
    pub(super) to_stage: u8,
    /// The components it adds, when the row names them instead of the target stage's.
    pub(super) add: Option<Vec<String>>,
    pub(super) when: Condition,
    pub(super) reason: String,
    pub(super) urgency: Urgency,
}

/// A fix of `monitoring#fixes-for-the-architecture-given`: the text of one horizon of a
/// finding's fixes when the caller already has what the standard fix would introduce.
pub(super) struct FixOverride {
    pub(super) id: String,
    pub(super) horizon: Horizon,
    pub(super) when: Condition,
    pub(super) text: String,
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Horizon {
    Immediate,
    ShortTerm,
    LongTerm,
}

/// A row of `monitoring#diagnostic-findings` with its row of `monitoring#finding-fixes`.
pub(super) struct FindingRule {
    pub(super) id: String,
    pub(super) layer: String,
    pub(super) warning: Condition,
    pub(super) critical: Option<Condition>,
    pub(super) summary: String,
    /// What the finding means when it fires at critical, where the row says more than
    /// `summary` then (`critical_summary`).
    pub(super) critical_summary: Option<String>,
    pub(super) fixes: Fixes,
    pub(super) sources: Vec<String>,
}

/// A row of `failure-modes#failure-mode-catalogue`: the finding a reported symptom gives.
pub(super) struct FailureMode {
    pub(super) symptom: Symptom,
    pub(super) id: String,
    pub(super) layer: String,
    pub(super) severity: Severity,
    pub(super) summary: String,
    pub(super) fixes: Fixes,
    pub(super) sources: Vec<String>,
}

/// The tables `diagnose_bottleneck` applies, read once from the knowledge base.
pub struct DiagnosisRules {
    pub(crate) stages: Stages,
    pub(super) stages_uri: String,
    pub(super) architecture: Vec<ArchitectureRule>,
    pub(super) architecture_uri: String,
    pub(super) triggers: Vec<Trigger>,
    pub(super) triggers_uri: String,
    pub(super) findings: Vec<FindingRule>,
    pub(super) failure_modes: Vec<FailureMode>,
    pub(super) overrides: Vec<FixOverride>,
    pub(super) overrides_uri: String,
    /// The lines `forecast_growth` follows, read from the findings above once.
    pub(crate) forecast_lines: ForecastLines,
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

/// The vocabulary of every condition this tool reads: the arguments, and as findings the ids
/// of the findings table and the reported symptoms (a threshold may depend on one).
fn vocabulary_of(findings_table: &TableRef<'_>) -> Result<Vocabulary, KnowledgeError> {
    findings_table.require_columns(&["id", "layer", "warning_when", "critical_when", "summary"])?;
    findings_table.require_rows()?;
    let mut finding_ids: Vec<String> = findings_table
        .rows()
        .map(|r| r.required("id").map(str::to_string))
        .collect::<Result<_, _>>()?;
    finding_ids.extend(Symptom::ALL.map(|s| s.id().to_string()));
    Ok(vocabulary(finding_ids))
}

/// The findings table, each row with its row of fixes and the sections those cite.
fn load_findings(
    knowledge: &Knowledge,
    table: &TableRef<'_>,
    vocabulary: &Vocabulary,
) -> Result<Vec<FindingRule>, KnowledgeError> {
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
            .ok_or_else(|| fixes_table.error(format!("the finding `{id}` has no row of fixes")))?;
        let mut sources = vec![row.uri(), fix.uri()];
        for uri in knowledge.references(&fix, "see")? {
            push_unique(&mut sources, uri);
        }
        findings.push(FindingRule {
            layer: row.required("layer")?.into(),
            warning: row.condition("warning_when", vocabulary)?,
            critical: row.optional_condition("critical_when", vocabulary)?,
            summary: row.required("summary")?.into(),
            // An optional column: a table without it (a `--knowledge-dir` copy written before
            // it) has no critical summaries.
            critical_summary: row
                .text("critical_summary")
                .ok()
                .filter(|t| !t.is_empty())
                .map(str::to_string),
            fixes: Fixes {
                immediate: fix.required("immediate")?.into(),
                short_term: fix.required("short_term")?.into(),
                long_term: fix.required("long_term")?.into(),
            },
            sources,
            id,
        });
    }
    Ok(findings)
}

/// The failure-mode catalogue: one row for every symptom a caller may report, each with a
/// section of its own.
fn load_failure_modes(knowledge: &Knowledge) -> Result<Vec<FailureMode>, KnowledgeError> {
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
    Ok(failure_modes)
}

/// `scaling-stages#stage-from-architecture`, with its URI.
fn load_architecture(
    knowledge: &Knowledge,
    vocabulary: &Vocabulary,
    findings_table: &TableRef<'_>,
) -> Result<(Vec<ArchitectureRule>, String), KnowledgeError> {
    let table = knowledge.table("scaling-stages", "stage-from-architecture")?;
    table.require_columns(&["when", "stage"])?;
    let rules = table
        .rows()
        .map(|row| {
            Ok(ArchitectureRule {
                when: row.condition_citing("when", vocabulary, findings_table)?,
                stage: stage_number(&row, "stage")?,
            })
        })
        .collect::<Result<Vec<_>, KnowledgeError>>()?;
    Ok((rules, table.uri()))
}

/// `scaling-stages#graduation-triggers`, with its URI: each row's target stage checked
/// against where it starts, and what it adds when it stays in its stage.
fn load_triggers(
    knowledge: &Knowledge,
    vocabulary: &Vocabulary,
    findings_table: &TableRef<'_>,
) -> Result<(Vec<Trigger>, String), KnowledgeError> {
    let table = knowledge.table("scaling-stages", "graduation-triggers")?;
    table.require_columns(&["from_stage", "when", "to_stage", "add", "urgency", "reason"])?;
    let triggers = table
        .rows()
        .map(|row| {
            let from_stage = stage_number(&row, "from_stage")?;
            if from_stage == 5 {
                return Err(row.error("stage 5 is the last stage; it has no graduation trigger"));
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
                when: row.condition_citing("when", vocabulary, findings_table)?,
                reason: row.required("reason")?.to_string(),
                urgency,
            })
        })
        .collect::<Result<Vec<_>, KnowledgeError>>()?;
    Ok((triggers, table.uri()))
}

/// `monitoring#fixes-for-the-architecture-given`, with its URI: each row names a finding or
/// a symptom this tool knows.
fn load_overrides(
    knowledge: &Knowledge,
    vocabulary: &Vocabulary,
    findings: &[FindingRule],
) -> Result<(Vec<FixOverride>, String), KnowledgeError> {
    let table = knowledge.table("monitoring", "fixes-for-the-architecture-given")?;
    table.require_columns(&["id", "horizon", "when", "fix"])?;
    let overrides = table
        .rows()
        .map(|row| {
            let id = row.required("id")?;
            if !findings.iter().any(|f| *f.id == *id) && !Symptom::ALL.iter().any(|s| s.id() == id)
            {
                return Err(row.error(format!("unknown finding `{id}`")));
            }
            let horizon = match row.one_of("horizon", &["immediate", "short_term", "long_term"])? {
                "immediate" => Horizon::Immediate,
                "short_term" => Horizon::ShortTerm,
                _ => Horizon::LongTerm,
            };
            Ok(FixOverride {
                id: id.to_string(),
                horizon,
                when: row.condition("when", vocabulary)?,
                text: row.required("fix")?.into(),
            })
        })
        .collect::<Result<Vec<_>, KnowledgeError>>()?;
    Ok((overrides, table.uri()))
}

impl DiagnosisRules {
    pub(crate) fn load(knowledge: &Knowledge) -> Result<Self, KnowledgeError> {
        // Findings first: their ids are the vocabulary of the graduation triggers.
        let findings_table = knowledge.table("monitoring", "diagnostic-findings")?;
        let vocabulary = vocabulary_of(&findings_table)?;
        let findings = load_findings(knowledge, &findings_table, &vocabulary)?;
        let failure_modes = load_failure_modes(knowledge)?;
        let stages = Stages::load(knowledge)?;
        let stages_uri = stages.uri.clone();
        let (architecture, architecture_uri) =
            load_architecture(knowledge, &vocabulary, &findings_table)?;
        let (triggers, triggers_uri) = load_triggers(knowledge, &vocabulary, &findings_table)?;
        let (overrides, overrides_uri) = load_overrides(knowledge, &vocabulary, &findings)?;
        let forecast_lines =
            ForecastLines::read(|metric| thresholds_in(&findings, metric), &findings_table)?;
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
            forecast_lines,
        })
    }

    /// The number arguments the findings compare, in the order the findings table first names
    /// them: a system's metrics, as the knowledge base reads them (not `regions`, which a
    /// stated need is compared with: it describes the architecture).
    pub(crate) fn metrics(&self) -> Vec<&str> {
        let mut metrics = Vec::new();
        for rule in &self.findings {
            let critical = rule.critical.iter().flat_map(Condition::clauses);
            for clause in rule.warning.clauses().chain(critical) {
                if let Clause::Compare { field, .. } = clause
                    && !ARCHITECTURE_FIELDS.contains(&field.as_str())
                    && !metrics.contains(&field.as_str())
                {
                    metrics.push(field.as_str());
                }
            }
        }
        metrics
    }

    /// The immediate fix of `finding` (its row of `monitoring#finding-fixes`) with the rows
    /// it rests on: what `forecast_growth` says to do while a metric past its line recovers.
    pub(crate) fn immediate_fix(&self, finding: &str) -> Option<(&str, &[String])> {
        self.findings
            .iter()
            .find(|f| f.id == finding)
            .map(|f| (f.fixes.immediate.as_str(), f.sources.as_slice()))
    }

    /// The URI of the stage table.
    pub(crate) fn stages_uri(&self) -> &str {
        &self.stages_uri
    }

    /// The thresholds the first finding whose warning condition compares `metric` applies to
    /// it: so that `forecast_growth` forecasts against the same rows this tool fires on.
    pub(crate) fn thresholds(&self, metric: &str) -> Option<MetricThresholds> {
        thresholds_in(&self.findings, metric)
    }
}

/// [`DiagnosisRules::thresholds`] in `findings`, before the rules are whole.
fn thresholds_in(findings: &[FindingRule], metric: &str) -> Option<MetricThresholds> {
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
    findings.iter().find_map(|rule| {
        let (comparison, warning) = on_metric(&rule.warning)?;
        let critical = rule.critical.as_ref().and_then(on_metric);
        Some(MetricThresholds {
            finding: rule.id.clone(),
            comparison,
            warning,
            critical_comparison: critical.map_or(comparison, |(c, _)| c),
            critical: critical.map(|(_, t)| t),
            uri: rule.sources.first().cloned().unwrap_or_default(),
        })
    })
}

//! `pick_consistency_model`: from what reads must see and what the system must survive to a
//! consistency model, its CAP and PACELC classes, the mechanisms that implement it, what it
//! still lets through, the failures to plan for and, given a quorum, its arithmetic. The rules
//! and caveats come from `consistency` (decision rules, warnings, anomalies, failure modes,
//! multi-region patterns); only the quorum arithmetic (`w + r > n`, `n - w`, `n - r`) is code.

use std::fmt::Write;

use knowledge::{Condition, Knowledge, KnowledgeError, RowRef};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::decision::{self, RuleTable, Step, TradedAway, Warning};
use crate::markdown::{push_unique, sources};
use crate::{Advisor, ArgError, Detail, MissingInput, Tool, needs};

// A replication quorum: how many replicas hold each item, acknowledge a write, answer a read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Quorum {
    /// Replicas per item.
    #[schemars(range(min = 1))]
    pub n: u64,
    /// Write acks, 1 to n.
    #[schemars(range(min = 1))]
    pub w: u64,
    /// Replicas per read, 1 to n.
    #[schemars(range(min = 1))]
    pub r: u64,
    /// Sloppy quorum (hinted handoff): no overlap.
    #[serde(default)]
    pub sloppy: bool,
}

// What reads must see and what the system must survive. Every field is optional; with none,
// eventual consistency applies.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ConsistencyArgs {
    /// Reads must see the latest write.
    #[serde(default)]
    pub strong_consistency_required: bool,
    /// Strong consistency's latency is OK.
    #[serde(default)]
    pub tolerates_coordination_latency: bool,
    /// Causal order must hold.
    #[serde(default)]
    pub needs_causal_ordering: bool,
    /// Must answer during a partition.
    #[serde(default)]
    pub availability_during_partition: bool,
    /// The app can merge conflicting writes.
    #[serde(default)]
    pub app_resolves_conflicts: bool,
    /// Users must see their own writes.
    #[serde(default)]
    pub read_your_writes_critical: bool,
    /// Users mostly touch their own data.
    #[serde(default)]
    pub users_mostly_own_data: bool,
    /// Replicated across regions.
    #[serde(default)]
    pub multi_region: bool,
    /// Regions spanned, 2+ with multi_region.
    #[schemars(range(min = 1))]
    pub regions: Option<u64>,
    /// Replication quorum to check.
    pub quorum: Option<Quorum>,
    /// concise (default) or full.
    #[serde(default)]
    pub detail: Detail,
}

/// The consistency models the advisor chooses between, strongest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Model {
    Linearizable,
    Causal,
    ReadYourWrites,
    Eventual,
}

impl Model {
    const ALL: [Model; 4] = [
        Self::Linearizable,
        Self::Causal,
        Self::ReadYourWrites,
        Self::Eventual,
    ];

    pub fn id(self) -> &'static str {
        match self {
            Self::Linearizable => "linearizable",
            Self::Causal => "causal",
            Self::ReadYourWrites => "read_your_writes",
            Self::Eventual => "eventual",
        }
    }

    fn title(self) -> &'static str {
        match self {
            Self::Linearizable => "Linearizable",
            Self::Causal => "Causal",
            Self::ReadYourWrites => "Read-your-writes",
            Self::Eventual => "Eventual",
        }
    }

    fn parse(row: &RowRef<'_>, text: &str, column: &str) -> Result<Self, KnowledgeError> {
        Self::ALL
            .into_iter()
            .find(|m| m.id() == text)
            .ok_or_else(|| {
                row.error(format!(
                    "`{column}` holds `{text}`, which is no consistency model (known: {})",
                    Self::ALL.map(Self::id).join(", ")
                ))
            })
    }

    fn list(row: &RowRef<'_>, column: &str) -> Result<Vec<Self>, KnowledgeError> {
        row.list(column)?
            .iter()
            .map(|m| Self::parse(row, m, column))
            .collect()
    }
}

/// What the system gives up under a partition (CAP).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum Cap {
    /// Consistent and partition tolerant: may refuse requests during a partition.
    #[serde(rename = "CP")]
    Cp,
    /// Available and partition tolerant: may answer with stale data.
    #[serde(rename = "AP")]
    Ap,
}

impl Cap {
    fn id(self) -> &'static str {
        match self {
            Self::Cp => "CP",
            Self::Ap => "AP",
        }
    }
}

/// The quorum given, with its arithmetic.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct QuorumCheck {
    pub n: u64,
    pub w: u64,
    pub r: u64,
    /// `w + r > n`: every read quorum shares a replica with every write quorum, so a read reaches the latest acknowledged write.
    pub overlap: bool,
    /// The quorum was given as sloppy (writes taken by whichever nodes are reachable).
    pub sloppy: bool,
    /// `overlap` and not `sloppy`: only a strict quorum makes the overlap a guarantee.
    pub overlap_guaranteed: bool,
    /// `n - w`: replicas that can be down while writes still succeed.
    pub write_fault_tolerance: u64,
    /// `n - r`: replicas that can be down while reads still succeed.
    pub read_fault_tolerance: u64,
    /// The arithmetic in words.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub explanation: String,
}

/// A failure the chosen model must be ready for, and the fix to build in.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct FailureModePlan {
    pub failure: String,
    pub fix: String,
    /// The sections behind the fix: `knowledge://` URIs, or in `concise` their positions in
    /// the result's own `sources` (0 for its first).
    #[schemars(with = "Vec<crate::Cited>")]
    pub sources: Vec<String>,
}

/// A multi-region deployment pattern that keeps the chosen model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct RegionPattern {
    pub pattern: String,
    pub consistency: String,
    pub latency: String,
    pub complexity: String,
}

/// The chosen model, what implements it and what it still lets through.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ConsistencyChoice {
    /// The answer in one sentence or two: the model, CAP and PACELC, the quorum's verdict.
    pub summary: String,
    pub model: Model,
    /// `CP` or `AP`.
    pub cap: Cap,
    /// `PC/EC` or `PA/EL`: the choice under a partition, then in normal operation.
    pub pacelc: String,
    /// What the model promises.
    pub guarantees: String,
    /// The arguments whose values decided the matching rule (empty for the default).
    pub decided_by: Vec<String>,
    /// The questions in the order asked, up to the first `yes`.
    pub decision_path: Vec<Step>,
    /// How to implement the model.
    pub mechanisms: Vec<String>,
    /// What can still go wrong under this model.
    pub anomalies_possible: Vec<String>,
    /// Failures to plan for, with their fixes (fencing tokens, compare-and-set, idempotency keys).
    pub failure_modes: Vec<FailureModePlan>,
    /// With `multi_region`: the deployment patterns that keep this model (`detail: full`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub multi_region_patterns: Option<Vec<RegionPattern>>,
    /// Needs given that the model does not serve.
    pub traded_away: Vec<TradedAway>,
    pub warnings: Vec<Warning>,
    /// The quorum arithmetic, when a quorum was given.
    pub quorum: Option<QuorumCheck>,
    /// Arguments not given that would have added an answer (`quorum` checks n, w, r).
    pub missing_inputs: Vec<MissingInput>,
    pub sources: Vec<String>,
}

/// The outcome columns of a consistency rule.
struct Choice {
    model: Model,
    cap: Cap,
    pacelc: String,
    mechanisms: Vec<String>,
    anomalies: Vec<String>,
}

struct WarningRule {
    when: Condition,
    unless: Vec<String>,
    models: Vec<Model>,
    message: String,
}

struct FailureRule {
    failure: String,
    models: Vec<Model>,
    fix: String,
    sources: Vec<String>,
}

struct PatternRule {
    pattern: RegionPattern,
    models: Vec<Model>,
}

/// The tables `pick_consistency_model` applies, read once from the knowledge base.
pub struct ConsistencyRules {
    rules: RuleTable<Choice>,
    guarantees: Vec<(Model, String)>,
    anomalies_uri: String,
    warnings: Vec<WarningRule>,
    warnings_uri: String,
    failures: Vec<FailureRule>,
    failures_uri: String,
    patterns: Vec<PatternRule>,
    patterns_uri: String,
    quorums_uri: String,
}

/// The flag that conditions may use for a quorum given with `sloppy: true`.
const SLOPPY_QUORUM: &str = "sloppy_quorum";

/// The flag that conditions may use when `regions` was given (a clause on a number not given
/// is false, so a rule for "regions unknown" needs a flag of its own).
const REGIONS_GIVEN: &str = "regions_given";

/// The numbers derived from `quorum` that conditions may use besides the arguments.
const QUORUM_FACTS: [&str; 3] = [
    "write_fault_tolerance",
    "read_fault_tolerance",
    "overlap_replicas",
];

impl ConsistencyRules {
    pub(crate) fn load(knowledge: &Knowledge) -> Result<Self, KnowledgeError> {
        let mut vocabulary = decision::vocabulary::<ConsistencyArgs>();
        vocabulary.numbers.extend(QUORUM_FACTS.map(str::to_string));
        vocabulary.flags.push(SLOPPY_QUORUM.to_string());
        vocabulary.flags.push(REGIONS_GIVEN.to_string());

        let rules = RuleTable::load(
            knowledge,
            ("consistency", "decision-rules"),
            &["model", "cap", "pacelc", "mechanisms", "anomalies"],
            &vocabulary,
            |row| {
                let cap = match row.one_of("cap", &["CP", "AP"])? {
                    "CP" => Cap::Cp,
                    _ => Cap::Ap,
                };
                let mechanisms = row.list("mechanisms")?;
                let anomalies = row.list("anomalies")?;
                if mechanisms.is_empty() || anomalies.is_empty() {
                    return Err(row.error("`mechanisms` and `anomalies` must not be empty"));
                }
                Ok(Choice {
                    model: Model::parse(row, row.required("model")?, "model")?,
                    cap,
                    pacelc: row
                        .one_of("pacelc", &["PC/EC", "PC/EL", "PA/EC", "PA/EL"])?
                        .to_string(),
                    mechanisms,
                    anomalies,
                })
            },
        )?;

        let table = knowledge.table("consistency", "anomalies-each-model-allows")?;
        table.require_columns(&["model", "guarantees", "still_allows"])?;
        let mut guarantees = Vec::new();
        for row in table.rows() {
            let model = Model::parse(&row, row.required("model")?, "model")?;
            guarantees.push((model, row.required("guarantees")?.to_string()));
        }
        for rule in &rules.rules {
            if !guarantees.iter().any(|(m, _)| *m == rule.outcome.model) {
                return Err(table.error(format!(
                    "the model `{}` of rule {} has no row here",
                    rule.outcome.model.id(),
                    rule.number
                )));
            }
        }
        let anomalies_uri = table.uri();

        let table = knowledge.table("consistency", "warnings")?;
        table.require_columns(&["when", "unless", "models", "warning"])?;
        let mut warnings = Vec::new();
        for row in table.rows() {
            warnings.push(WarningRule {
                when: row.condition("when", &vocabulary)?,
                unless: decision::flags(&row, "unless", &vocabulary)?,
                models: Model::list(&row, "models")?,
                message: row.required("warning")?.to_string(),
            });
        }
        let warnings_uri = table.uri();

        let table = knowledge.table("consistency", "failure-modes-to-plan-for")?;
        table.require_columns(&["failure", "models", "fix", "see"])?;
        let mut failures = Vec::new();
        for row in table.rows() {
            let mut cited = vec![table.uri()];
            for uri in knowledge.references(&row, "see")? {
                push_unique(&mut cited, uri);
            }
            failures.push(FailureRule {
                failure: row.required("failure")?.to_string(),
                models: Model::list(&row, "models")?,
                fix: row.required("fix")?.to_string(),
                sources: cited,
            });
        }
        let failures_uri = table.uri();

        let table = knowledge.table("consistency", "multi-region-patterns")?;
        table.require_columns(&["pattern", "consistency", "latency", "complexity", "models"])?;
        let mut patterns = Vec::new();
        for row in table.rows() {
            patterns.push(PatternRule {
                pattern: RegionPattern {
                    pattern: row.required("pattern")?.to_string(),
                    consistency: row.required("consistency")?.to_string(),
                    latency: row.required("latency")?.to_string(),
                    complexity: row.required("complexity")?.to_string(),
                },
                models: Model::list(&row, "models")?,
            });
        }
        let patterns_uri = table.uri();

        let quorums_uri = knowledge.section_uri(
            "consistency#quorums",
            "`pick_consistency_model` (quorum results)",
        )?;

        Ok(Self {
            rules,
            guarantees,
            anomalies_uri,
            warnings,
            warnings_uri,
            failures,
            failures_uri,
            patterns,
            patterns_uri,
            quorums_uri,
        })
    }
}

/// Refuses a read or write quorum outside 1..n.
fn check_quorum(quorum: &Quorum) -> Result<(), ArgError> {
    for (field, value) in [("quorum.w", quorum.w), ("quorum.r", quorum.r)] {
        if value < 1 || value > quorum.n {
            return Err(ArgError::value(
                field,
                &json!(value),
                format!(
                    "a whole number from 1 to n (n = {}, so 1 to {})",
                    quorum.n, quorum.n
                ),
            ));
        }
    }
    Ok(())
}

/// Refuses a region count that contradicts `multi_region`: one region with `multi_region`, or
/// several without it.
fn check_regions(args: &ConsistencyArgs) -> Result<(), ArgError> {
    let Some(regions) = args.regions else {
        return Ok(());
    };
    let expected = match (args.multi_region, regions) {
        (true, 1) => {
            "2 or more while `multi_region` is true (one region is no multi-region deployment), or leave `multi_region` false"
        }
        (false, 2..) => {
            "1 while `multi_region` is false; give `multi_region: true` for replicas in several regions"
        }
        _ => return Ok(()),
    };
    Err(ArgError::value("regions", &json!(regions), expected))
}

fn replicas(count: u64) -> String {
    if count == 1 {
        "1 replica".to_string()
    } else {
        format!("{count} replicas")
    }
}

fn quorum_check(q: &Quorum) -> QuorumCheck {
    // `check_quorum` guarantees 1 <= w, r <= n, so the subtractions cannot underflow; the sum
    // is taken in u128 so that it cannot overflow either.
    let sum = u128::from(q.w) + u128::from(q.r);
    let overlap = sum > u128::from(q.n);
    let write_fault_tolerance = q.n - q.w;
    let read_fault_tolerance = q.n - q.r;
    let reads = if overlap && q.sloppy {
        format!(
            "w + r = {sum} > n = {}, but the quorum is sloppy: a write taken by stand-in nodes can be missed by a read of the home replicas, so the overlap is not guaranteed",
            q.n
        )
    } else if overlap {
        format!(
            "w + r = {sum} > n = {}: every read quorum overlaps the latest write",
            q.n
        )
    } else {
        format!(
            "w + r = {sum} <= n = {}: a read quorum can miss the latest write, so reads can be stale",
            q.n
        )
    };
    QuorumCheck {
        n: q.n,
        w: q.w,
        r: q.r,
        overlap,
        sloppy: q.sloppy,
        overlap_guaranteed: overlap && !q.sloppy,
        write_fault_tolerance,
        read_fault_tolerance,
        explanation: format!(
            "{reads}; writes survive {} down (n - w), reads survive {} down (n - r).",
            replicas(write_fault_tolerance),
            replicas(read_fault_tolerance)
        ),
    }
}

/// Picks a consistency model for the needs in `args`.
pub fn run(advisor: &Advisor, args: ConsistencyArgs) -> Result<ConsistencyChoice, ArgError> {
    let catalog = advisor.tables::<PickConsistencyModel>()?;
    if let Some(quorum) = &args.quorum {
        check_quorum(quorum)?;
    }
    check_regions(&args)?;
    let quorum = args.quorum.as_ref().map(quorum_check);
    let mut facts = decision::facts(&args)?;
    if let Some(q) = &quorum {
        let overlap_replicas = q.w as f64 + q.r as f64 - q.n as f64;
        for (name, value) in QUORUM_FACTS.into_iter().zip([
            q.write_fault_tolerance as f64,
            q.read_fault_tolerance as f64,
            overlap_replicas,
        ]) {
            facts.insert(name.to_string(), Value::from(value));
        }
        facts.insert(SLOPPY_QUORUM.to_string(), Value::Bool(q.sloppy));
    }
    facts.insert(
        REGIONS_GIVEN.to_string(),
        Value::Bool(args.regions.is_some()),
    );

    let decision = catalog.rules.decide(&facts)?;
    let choice = &decision.rule.outcome;
    let model = choice.model;
    let traded_away = catalog
        .rules
        .traded_away(&decision, &facts, &|_| false, &|c: &Choice| {
            format!("{} ({}, {})", c.model.id(), c.cap.id(), c.pacelc)
        });
    let warnings: Vec<Warning> = catalog
        .warnings
        .iter()
        .filter(|w| w.models.is_empty() || w.models.contains(&model))
        .filter(|w| {
            !w.unless
                .iter()
                .any(|flag| facts.get(flag) == Some(&Value::Bool(true)))
        })
        .filter_map(|w| Warning::if_holds(&w.when, &w.message, &facts))
        .collect();
    let failure_modes: Vec<FailureModePlan> = catalog
        .failures
        .iter()
        .filter(|f| f.models.contains(&model))
        .map(|f| FailureModePlan {
            failure: f.failure.clone(),
            fix: f.fix.clone(),
            sources: f.sources.clone(),
        })
        .collect();
    let multi_region_patterns: Vec<RegionPattern> = if args.multi_region {
        catalog
            .patterns
            .iter()
            .filter(|p| p.models.contains(&model))
            .map(|p| p.pattern.clone())
            .collect()
    } else {
        Vec::new()
    };
    let guarantees = catalog
        .guarantees
        .iter()
        .find(|(m, _)| *m == model)
        .map(|(_, g)| g.clone())
        .unwrap_or_default();

    let mut cited = vec![catalog.rules.uri.clone()];
    for uri in &decision.rule.see {
        push_unique(&mut cited, uri.clone());
    }
    push_unique(&mut cited, catalog.anomalies_uri.clone());
    if quorum.is_some() {
        push_unique(&mut cited, catalog.quorums_uri.clone());
    }
    if !failure_modes.is_empty() {
        push_unique(&mut cited, catalog.failures_uri.clone());
    }
    for failure in &failure_modes {
        for uri in &failure.sources {
            push_unique(&mut cited, uri.clone());
        }
    }
    if !multi_region_patterns.is_empty() {
        push_unique(&mut cited, catalog.patterns_uri.clone());
    }
    if !warnings.is_empty() {
        push_unique(&mut cited, catalog.warnings_uri.clone());
    }

    let mut missing_inputs = Vec::new();
    needs(
        &mut missing_inputs,
        args.quorum.as_ref(),
        "quorum",
        "quorum (overlap, fault tolerances)",
    );
    if args.multi_region && args.quorum.is_some() {
        needs(
            &mut missing_inputs,
            args.regions,
            "regions",
            "warnings on losing a region",
        );
    }
    let mut result = ConsistencyChoice {
        summary: String::new(),
        model,
        cap: choice.cap,
        pacelc: choice.pacelc.clone(),
        guarantees,
        decided_by: decision.decided_by,
        decision_path: decision.path,
        mechanisms: choice.mechanisms.clone(),
        anomalies_possible: choice.anomalies.clone(),
        failure_modes,
        multi_region_patterns: Some(multi_region_patterns),
        traded_away,
        warnings,
        quorum,
        missing_inputs,
        sources: cited,
    };
    result.summary = summary_of(&result);
    Ok(result)
}

/// "linearizable (CP, PC/EC), decided by strong_consistency_required; quorum n=5 w=3 r=3
/// overlaps, tolerates 2 write and 2 read failures; 1 warning."
fn summary_of(choice: &ConsistencyChoice) -> String {
    let mut out = format!(
        "{} ({}, {})",
        choice.model.id(),
        choice.cap.id(),
        choice.pacelc
    );
    if !choice.decided_by.is_empty() {
        out.push_str(&format!(", decided by {}", choice.decided_by.join(" and ")));
    }
    if let Some(q) = &choice.quorum {
        // The verdict is `overlap_guaranteed`'s, so that the summary never says more than the
        // field: a sloppy quorum's w + r > n is arithmetic, not a guarantee.
        let verdict = match (q.overlap_guaranteed, q.overlap) {
            (true, _) => "overlaps (w + r > n)",
            (false, true) => "is sloppy, so w + r > n guarantees no overlap",
            (false, false) => "does not overlap (w + r <= n)",
        };
        out.push_str(&format!(
            "; quorum n={} w={} r={} {verdict}{}, tolerates {} write and {} read failures",
            q.n,
            q.w,
            q.r,
            if choice.model == Model::Linearizable && !q.overlap_guaranteed {
                " and cannot give linearizable reads"
            } else {
                ""
            },
            q.write_fault_tolerance,
            q.read_fault_tolerance
        ));
    }
    if !choice.warnings.is_empty() {
        let n = choice.warnings.len();
        out.push_str(&format!("; {n} warning{}", if n == 1 { "" } else { "s" }));
    }
    out.push('.');
    crate::summary(out)
}

/// The choice as markdown: the model first, then the path, how to build it and what to expect.
pub fn to_markdown(choice: &ConsistencyChoice) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "**{} consistency** ({}, {}): {}.\n",
        choice.model.title(),
        choice.cap.id(),
        choice.pacelc,
        choice.guarantees
    );
    decision::write_path(&mut out, &choice.decision_path);
    let _ = writeln!(out, "\nMechanisms: {}.", choice.mechanisms.join("; "));
    let _ = writeln!(
        out,
        "Anomalies still possible: {}.",
        choice.anomalies_possible.join("; ")
    );
    if let Some(q) = &choice.quorum {
        let _ = writeln!(
            out,
            "\nQuorum n = {}, w = {}, r = {}: {}",
            q.n, q.w, q.r, q.explanation
        );
    }
    if !choice.failure_modes.is_empty() {
        let _ = writeln!(out, "\nFailure modes to plan for:");
        for f in &choice.failure_modes {
            let _ = writeln!(out, "- {}: {}", f.failure, f.fix);
        }
    }
    if let Some(patterns) = choice
        .multi_region_patterns
        .as_ref()
        .filter(|p| !p.is_empty())
    {
        let list: Vec<String> = patterns
            .iter()
            .map(|p| {
                format!(
                    "{} ({}; latency {}; complexity {})",
                    p.pattern, p.consistency, p.latency, p.complexity
                )
            })
            .collect();
        let _ = writeln!(out, "\nAcross regions: {}.", list.join("; "));
    }
    decision::write_traded_away(&mut out, &choice.traded_away);
    decision::write_warnings(&mut out, &choice.warnings);
    sources(&mut out, &choice.sources);
    out
}

/// The `pick_consistency_model` tool.
pub struct PickConsistencyModel;

impl Tool for PickConsistencyModel {
    const NAME: &'static str = "pick_consistency_model";
    const TITLE: &'static str = "Pick a consistency model";
    const DESCRIPTION: &'static str = "Pick a consistency model (strong to eventual) with CAP/PACELC, anomalies; checks a quorum n, w, r.";
    type Args = ConsistencyArgs;
    type Output = ConsistencyChoice;
    type Tables = ConsistencyRules;

    fn load(knowledge: &Knowledge) -> Result<ConsistencyRules, KnowledgeError> {
        ConsistencyRules::load(knowledge)
    }

    fn run(advisor: &Advisor, args: ConsistencyArgs) -> Result<ConsistencyChoice, ArgError> {
        run(advisor, args)
    }

    fn to_markdown(output: &ConsistencyChoice) -> String {
        to_markdown(output)
    }

    // What concise leaves out (issue 26): what the summary already states (the deciding
    // arguments), the rule numbers, each failure mode's fix text (the failure and its cited
    // sections stay), the traded-away sentence and which clauses raised a warning. Every
    // field §5.4 names stays, `warnings` and a null `quorum` included.
    const CONCISE_OMITS: &'static [&'static str] = &[
        "decided_by",
        // The summary names what decided the model; the questions asked on the way are the
        // explanation, in full.
        "decision_path",
        // What the model promises is its definition; `model` names it.
        "guarantees",
        "failure_modes[].fix",
        "traded_away?",
        "traded_away[].reason",
        "traded_away[].rule",
        "warnings[].triggered_by",
    ];

    /// Concise leaves out the decision path's condition texts, the quorum's explanation and
    /// the table of multi-region patterns.
    fn shape(output: &mut ConsistencyChoice, detail: Detail) {
        if !detail.is_full() {
            decision::concise_path(&mut output.decision_path);
            if let Some(q) = output.quorum.as_mut() {
                q.explanation.clear();
            }
            output.multi_region_patterns = None;
        }
    }
}

//! Ordered decision tables, shared by the tools that turn requirements into a choice
//! (`choose_datastore`, `choose_message_queue`, `pick_consistency_model`). A table is read once:
//! numbered rules, each a question, a condition over the tool's own arguments, the needs its
//! answer serves, and the tool's own outcome columns. Walking it asks the questions in order
//! until the first "yes", which keeps the document's precedence and lets every result show the
//! path it took, the arguments that decided it, and the needs that precedence traded away.

use std::fmt::Write;

use knowledge::{Clause, Condition, Facts, Knowledge, KnowledgeError, RowRef, Vocabulary};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::ArgError;

/// The answer to one question of the path.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Answer {
    Yes,
    No,
    /// The condition held, but a hard need rules out what the rule would choose, so the
    /// next question is asked.
    Excluded,
}

/// One question of the decision path, as it was asked.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Step {
    /// The rule's number in the document's ordered table.
    pub rule: u64,
    pub question: String,
    /// `yes` for the rule that decided, `no` for every rule asked before it, `excluded` for a
    /// rule that held but whose choice a hard need rules out.
    pub answer: Answer,
    /// The rule's condition as written in the document (`needs_acid and multi_region`);
    /// `detail: full`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub condition: String,
    /// The arguments the condition looked at, with their values (`multi_region = false`);
    /// `detail: full`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub arguments: Vec<String>,
}

/// A decision path without the condition texts and argument values: the question, its
/// answer and its rule number are the path a model reads.
pub(crate) fn concise_path(path: &mut [Step]) {
    for step in path {
        step.condition.clear();
        step.arguments.clear();
    }
}

/// A need that was given but that the choice does not serve, because an earlier question won.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct TradedAway {
    /// The argument naming the need (`flexible_schema`).
    pub need: String,
    /// The first rule whose answer would have served it.
    pub rule: u64,
    /// What that rule would have chosen.
    pub would_choose: String,
    /// Why it was not chosen, in the document's terms.
    pub reason: String,
}

/// A caveat that applies to this choice.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Warning {
    /// The clauses of the warning's condition that held (empty for an unconditional one).
    pub triggered_by: Vec<String>,
    pub message: String,
}

/// A candidate that a hard need of the request rules out before the rules choose.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Excluded {
    /// The candidate ruled out (`Redis`).
    pub name: String,
    /// The clauses of the exclusion's condition that held (`cannot_lose_messages`).
    pub because_of: Vec<String>,
    /// Why the candidate cannot meet the need, in the document's words.
    pub reason: String,
}

/// One row of an exclusions table: when its condition holds, its candidates are out.
#[derive(Debug, Clone)]
struct Exclusion {
    when: Condition,
    names: Vec<String>,
    reason: String,
}

/// A table of hard needs (`| when | excludes | reason | source |`): each row names the
/// candidates that cannot meet a need, so that neither the decision nor the alternatives
/// offer them. Read once, like the rule table it guards.
#[derive(Debug, Clone, Default)]
pub(crate) struct Exclusions {
    rows: Vec<Exclusion>,
    /// `knowledge://slug#anchor` of the table.
    pub uri: String,
}

impl Exclusions {
    /// Reads `slug#anchor`; `known` refuses a candidate name the tool's comparison lacks.
    pub fn load(
        knowledge: &Knowledge,
        (slug, anchor): (&str, &str),
        vocabulary: &Vocabulary,
        known: impl Fn(&RowRef<'_>, &str) -> Result<(), KnowledgeError>,
    ) -> Result<Self, KnowledgeError> {
        let table = knowledge.table(slug, anchor)?;
        table.require_columns(&["when", "excludes", "reason"])?;
        let mut rows = Vec::new();
        for row in table.rows() {
            let exclusion = Exclusion {
                when: row.condition("when", vocabulary)?,
                names: row.list("excludes")?,
                reason: row.required("reason")?.to_string(),
            };
            if exclusion.names.is_empty() {
                return Err(row.error("`excludes` must name at least one candidate"));
            }
            for name in &exclusion.names {
                known(&row, name)?;
            }
            rows.push(exclusion);
        }
        Ok(Self {
            rows,
            uri: table.uri(),
        })
    }

    /// The candidates `facts` rule out, each once, with the first row that rules it out.
    pub fn applying(&self, facts: &dyn Facts) -> Vec<Excluded> {
        let mut out: Vec<Excluded> = Vec::new();
        for row in self.rows.iter().filter(|r| r.when.holds(facts)) {
            for name in &row.names {
                if !out.iter().any(|e| &e.name == name) {
                    out.push(Excluded {
                        name: name.clone(),
                        because_of: triggered_by(&row.when, facts),
                        reason: row.reason.clone(),
                    });
                }
            }
        }
        out
    }
}

/// The exclusion of `name` among `excluded`, if it is ruled out.
pub(crate) fn ruled_out<'a>(excluded: &'a [Excluded], name: &str) -> Option<&'a Excluded> {
    excluded.iter().find(|e| e.name == name)
}

/// One numbered rule of an ordered table, with the tool's own outcome.
#[derive(Debug, Clone)]
pub(crate) struct Rule<T> {
    pub number: u64,
    pub question: String,
    pub when: Condition,
    /// Every need the outcome meets, the rule's own flags included.
    pub serves: Vec<String>,
    /// `knowledge://` URIs of the sections the rule's `see` column names.
    pub see: Vec<String>,
    pub outcome: T,
}

/// An ordered rule table: first match wins, and the last rule is `otherwise`.
#[derive(Debug, Clone)]
pub(crate) struct RuleTable<T> {
    pub rules: Vec<Rule<T>>,
    /// `knowledge://slug#anchor` of the table.
    pub uri: String,
}

/// The result of walking a table.
pub(crate) struct Decision<'a, T> {
    pub rule: &'a Rule<T>,
    pub path: Vec<Step>,
    /// The arguments in the clauses of the matching condition that held.
    pub decided_by: Vec<String>,
}

impl<T> RuleTable<T> {
    /// Reads `slug#anchor`: columns `rule`, `question`, `when`, `serves`, `see`, plus the
    /// `outcome_columns` that `outcome` reads. Rules must be numbered 1, 2, … in order and
    /// end with `otherwise`.
    pub fn load(
        knowledge: &Knowledge,
        (slug, anchor): (&str, &str),
        outcome_columns: &[&str],
        vocabulary: &Vocabulary,
        mut outcome: impl FnMut(&RowRef<'_>) -> Result<T, KnowledgeError>,
    ) -> Result<Self, KnowledgeError> {
        let table = knowledge.table(slug, anchor)?;
        table.require_columns(&["rule", "question", "when", "serves", "see"])?;
        table.require_columns(outcome_columns)?;
        table.require_rows()?;
        let mut rules: Vec<Rule<T>> = Vec::new();
        for row in table.rows() {
            let number = row.integer("rule")?;
            if number != rules.len() as u64 + 1 {
                return Err(row.error(format!(
                    "rules must be numbered 1, 2, 3 … in order; expected rule {}",
                    rules.len() + 1
                )));
            }
            if rules.last().is_some_and(|r| r.when.is_otherwise()) {
                return Err(row.error("no rule can follow `otherwise`: it would never be asked"));
            }
            let when = row.condition("when", vocabulary)?;
            let serves = flags(&row, "serves", vocabulary)?;
            for clause in when.clauses() {
                if let Clause::Flag { field } = clause
                    && !serves.contains(field)
                {
                    return Err(row.error(format!(
                        "`serves` must list `{field}`, which the rule's own condition asks for"
                    )));
                }
            }
            rules.push(Rule {
                number,
                question: row.required("question")?.to_string(),
                serves,
                see: knowledge.references(&row, "see")?,
                outcome: outcome(&row)?,
                when,
            });
        }
        if !rules.last().is_some_and(|r| r.when.is_otherwise()) {
            return Err(table.error(format!(
                "the last rule of `{anchor}` must be `otherwise`, so that every request gets an answer"
            )));
        }
        Ok(Self {
            rules,
            uri: table.uri(),
        })
    }

    /// Asks the questions in order until one holds.
    pub fn decide(&self, facts: &dyn Facts) -> Result<Decision<'_, T>, ArgError> {
        self.decide_among(facts, &|_| None)
    }

    /// Asks the questions in order until one holds whose choice no hard need rules out:
    /// `ruled_out` names the exclusion that removes a rule's outcome, if any. A hard need
    /// (no message may be lost) is not weighed against the order of the questions; it removes
    /// the candidates that cannot meet it before the order picks among the rest.
    pub fn decide_among(
        &self,
        facts: &dyn Facts,
        ruled_out: &dyn Fn(&T) -> Option<Excluded>,
    ) -> Result<Decision<'_, T>, ArgError> {
        let mut path = Vec::new();
        let mut exclusions: Vec<Excluded> = Vec::new();
        for rule in &self.rules {
            let holds = rule.when.holds(facts);
            let excluded = if holds {
                ruled_out(&rule.outcome)
            } else {
                None
            };
            path.push(Step {
                rule: rule.number,
                question: rule.question.clone(),
                answer: match (holds, &excluded) {
                    (true, None) => Answer::Yes,
                    (true, Some(_)) => Answer::Excluded,
                    (false, _) => Answer::No,
                },
                condition: rule.when.to_string(),
                arguments: arguments(rule.when.clauses(), facts),
            });
            if let Some(excluded) = excluded {
                exclusions.push(excluded);
                continue;
            }
            if holds {
                return Ok(Decision {
                    rule,
                    path,
                    decided_by: fields(rule.when.evidence(facts)),
                });
            }
        }
        // `load` guarantees that the last rule is `otherwise`: only exclusions get here.
        match exclusions.first() {
            Some(first) => Err(ArgError::new(
                first.because_of.first().map_or("arguments", String::as_str),
                first.because_of.join(" and "),
                format!(
                    "needs that some candidate can meet together; these rule out every one the rules would choose: {}",
                    exclusions
                        .iter()
                        .map(|e| format!("{} ({})", e.name, e.reason))
                        .collect::<Vec<_>>()
                        .join("; ")
                ),
            )),
            None => Err(ArgError::internal("no rule of the decision table matched")),
        }
    }

    /// The needs that are true in `facts`, that the decision does not serve and that `covered`
    /// (a complement, say) does not answer either, each with the other rule that would serve it:
    /// the first whose condition holds, else the first that serves it at all.
    /// `describe` names a rule's outcome in the result's terms.
    pub fn traded_away(
        &self,
        decision: &Decision<'_, T>,
        facts: &dyn Facts,
        covered: &dyn Fn(&str) -> bool,
        describe: &dyn Fn(&T) -> String,
    ) -> Vec<TradedAway> {
        let mut needs: Vec<&str> = Vec::new();
        for rule in &self.rules {
            for need in &rule.serves {
                if !needs.contains(&need.as_str()) {
                    needs.push(need);
                }
            }
        }
        let chosen = decision.rule;
        needs
            .into_iter()
            .filter(|need| facts.flag(need))
            .filter(|need| !chosen.serves.iter().any(|s| s == need) && !covered(need))
            .filter_map(|need| {
                // Prefer a rule whose own condition holds: it is the one precedence overruled.
                let serving =
                    |r: &&Rule<T>| r.number != chosen.number && r.serves.iter().any(|s| s == need);
                let other = self
                    .rules
                    .iter()
                    .filter(serving)
                    .find(|r| r.when.holds(facts))
                    .or_else(|| self.rules.iter().find(serving))?;
                let order = if other.number > chosen.number {
                    format!(
                        "rule {} (\"{}\") is asked first and decided",
                        chosen.number, chosen.question
                    )
                } else {
                    format!(
                        "rule {} asks for `{}`, which does not hold",
                        other.number, other.when
                    )
                };
                Some(TradedAway {
                    need: need.to_string(),
                    rule: other.number,
                    would_choose: describe(&other.outcome),
                    reason: format!(
                        "{} would serve `{need}`, but {order}",
                        describe(&other.outcome)
                    ),
                })
            })
            .collect()
    }
}

/// The argument names in `clauses`, each once, in order.
pub(crate) fn fields<'a>(clauses: impl IntoIterator<Item = &'a Clause>) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for clause in clauses {
        let name = match clause {
            Clause::Compare { field, .. }
            | Clause::Equals { field, .. }
            | Clause::Flag { field }
            | Clause::Unset { field } => field,
            Clause::Finding { .. } | Clause::Otherwise => continue,
        };
        if !names.contains(name) {
            names.push(name.clone());
        }
    }
    names
}

impl Warning {
    /// The warning `message` when `when` holds for `facts`, with the clauses that made it hold.
    pub(crate) fn if_holds(when: &Condition, message: &str, facts: &dyn Facts) -> Option<Self> {
        when.holds(facts).then(|| Self {
            triggered_by: triggered_by(when, facts),
            message: message.to_string(),
        })
    }
}

/// The clauses of a condition that held, as written (`multi_region`, `cloud = gcp`).
pub(crate) fn triggered_by(condition: &Condition, facts: &dyn Facts) -> Vec<String> {
    let mut held: Vec<String> = Vec::new();
    for clause in condition.evidence(facts) {
        let text = clause.to_string();
        if !matches!(clause, Clause::Otherwise) && !held.contains(&text) {
            held.push(text);
        }
    }
    held
}

/// Each argument a condition looks at, with the value it had.
fn arguments<'a>(clauses: impl Iterator<Item = &'a Clause>, facts: &dyn Facts) -> Vec<String> {
    let mut shown: Vec<String> = Vec::new();
    for clause in clauses {
        let text = match clause {
            Clause::Flag { field } | Clause::Unset { field } => {
                format!("{field} = {}", facts.flag(field))
            }
            Clause::Compare { field, .. } => match facts.number(field) {
                Some(value) => format!("{field} = {}", crate::numbers::exact(value)),
                None => format!("{field} not given"),
            },
            Clause::Equals { field, .. } => match facts.word(field) {
                Some(value) => format!("{field} = {value}"),
                None => format!("{field} not given"),
            },
            Clause::Finding { .. } | Clause::Otherwise => continue,
        };
        if !shown.contains(&text) {
            shown.push(text);
        }
    }
    shown
}

/// The flags, numbers and word fields (with their allowed values) of an argument struct, read
/// from its JSON schema so that a rule table can only name arguments the tool really has.
pub(crate) fn vocabulary<T: JsonSchema>() -> Vocabulary {
    let schema = schemars::schema_for!(T);
    let root = schema.as_value();
    let mut vocabulary = Vocabulary::default();
    let Some(properties) = root.get("properties").and_then(Value::as_object) else {
        return vocabulary;
    };
    for (name, property) in properties {
        let node = resolve(root, property);
        let allowed = words(root, node);
        if !allowed.is_empty() {
            vocabulary.words.push((name.clone(), allowed));
            continue;
        }
        let kinds = types(root, node);
        if kinds.contains(&"boolean") {
            vocabulary.flags.push(name.clone());
        } else if kinds.contains(&"number") || kinds.contains(&"integer") {
            vocabulary.numbers.push(name.clone());
        }
    }
    vocabulary
}

/// The JSON types a schema node admits, looking through `$ref`, `anyOf` and `oneOf`.
fn types<'a>(root: &'a Value, node: &'a Value) -> Vec<&'a str> {
    let node = resolve(root, node);
    let mut kinds: Vec<&str> = match node.get("type") {
        Some(Value::String(t)) => vec![t.as_str()],
        Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    for key in ["anyOf", "oneOf"] {
        for branch in node
            .get(key)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            kinds.extend(types(root, branch));
        }
    }
    kinds
}

fn resolve<'a>(root: &'a Value, node: &'a Value) -> &'a Value {
    node.get("$ref")
        .and_then(Value::as_str)
        .and_then(|r| r.strip_prefix("#/$defs/"))
        .and_then(|name| root.get("$defs")?.get(name))
        .unwrap_or(node)
}

/// The string values a schema node allows, when it is an enumeration.
fn words(root: &Value, node: &Value) -> Vec<String> {
    if let Some(values) = node.get("enum").and_then(Value::as_array) {
        return values
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect();
    }
    node.get("oneOf")
        .and_then(Value::as_array)
        .map(|branches| {
            branches
                .iter()
                .map(|b| resolve(root, b))
                .filter_map(|b| b.get("const").and_then(Value::as_str))
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

/// The cell of `column` as a list of flags of `vocabulary`.
pub(crate) fn flags(
    row: &RowRef<'_>,
    column: &str,
    vocabulary: &Vocabulary,
) -> Result<Vec<String>, KnowledgeError> {
    let list = row.list(column)?;
    for name in &list {
        if !vocabulary.flags.contains(name) {
            let hint = knowledge::closest(name, vocabulary.flags.iter().map(String::as_str))
                .map(|c| format!("; did you mean `{c}`?"))
                .unwrap_or_default();
            return Err(row.error(format!(
                "`{column}` names `{name}`, which is no boolean argument of this tool{hint}"
            )));
        }
    }
    Ok(list)
}

/// A tool's arguments as facts for the conditions: the serialized argument object, absent
/// optional values dropped.
pub(crate) fn facts<A: Serialize>(args: &A) -> Result<Map<String, Value>, ArgError> {
    match serde_json::to_value(args) {
        Ok(Value::Object(map)) => Ok(map.into_iter().filter(|(_, v)| !v.is_null()).collect()),
        _ => Err(ArgError::internal(
            "arguments did not serialize to an object",
        )),
    }
}

/// The decision path as a numbered list, the deciding answer in bold.
pub(crate) fn write_path(out: &mut String, path: &[Step]) {
    let _ = writeln!(out, "Why (questions in order, the first yes decides):");
    for step in path {
        let answer = match step.answer {
            Answer::Yes => "**yes**",
            Answer::No => "no",
            Answer::Excluded => "yes, but ruled out by a hard need",
        };
        let shown = if step.arguments.is_empty() {
            String::new()
        } else {
            format!(" ({})", step.arguments.join(", "))
        };
        let _ = writeln!(out, "{}. {} {answer}{shown}", step.rule, step.question);
    }
}

/// The needs traded away, one line each.
pub(crate) fn write_traded_away(out: &mut String, traded: &[TradedAway]) {
    if traded.is_empty() {
        return;
    }
    let _ = writeln!(out, "\nTraded away:");
    for t in traded {
        let _ = writeln!(out, "- `{}`: {}.", t.need, t.reason);
    }
}

/// The warnings, one line each.
pub(crate) fn write_warnings(out: &mut String, warnings: &[Warning]) {
    if warnings.is_empty() {
        return;
    }
    let _ = writeln!(out, "\nWarnings:");
    for w in warnings {
        let _ = writeln!(out, "- {}", w.message);
    }
}

/// The candidates ruled out, one line each.
pub(crate) fn write_excluded(out: &mut String, excluded: &[Excluded]) {
    if excluded.is_empty() {
        return;
    }
    let _ = writeln!(out, "\nRuled out:");
    for e in excluded {
        let _ = writeln!(
            out,
            "- {} (`{}`): {}.",
            e.name,
            e.because_of.join("`, `"),
            e.reason
        );
    }
}

//! `choose_message_queue`: from messaging needs to a broker and its delivery guarantee, with
//! the retry policy and the usage patterns that go with it. The ordered questions come from
//! `queues#decision-rules`, the brokers' grades from `queues#comparison`, the retries from
//! `queues#retry-policy`, the patterns from `queues#patterns-that-fit` and the caveats from
//! `queues#warnings`; this file only applies them.

use std::fmt::Write;

use knowledge::{Condition, Knowledge, KnowledgeError, RowRef};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::args::format_number;
use crate::decision::{self, Excluded, Exclusions, RuleTable, Step, TradedAway, Warning};
use crate::markdown::{push_unique, sources};
use crate::numbers;
use crate::{Advisor, ArgError, Detail, MissingInput, Tool, absent_numbers, missing_input};

// The cloud the system runs on.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Cloud {
    Aws,
    Gcp,
    Azure,
    #[default]
    None,
}

// What the messaging must do. Every field is optional; with none, the simple fast queue
// applies.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct QueueArgs {
    /// Consumers replay past events.
    #[serde(default)]
    pub needs_replay: bool,
    /// Exactly-once effect.
    #[serde(default)]
    pub exactly_once: bool,
    /// Rule-based routing.
    #[serde(default)]
    pub complex_routing: bool,
    /// Serverless.
    #[serde(default)]
    pub serverless: bool,
    /// Fan-out to consumers.
    #[serde(default)]
    pub fan_out: bool,
    /// No message may be lost.
    #[serde(default)]
    pub cannot_lose_messages: bool,
    /// Cloud in use.
    #[serde(default)]
    pub cloud: Cloud,
    /// Peak messages/s.
    #[schemars(extend("exclusiveMinimum" = 0))]
    pub messages_per_sec: Option<f64>,
    /// concise (default) or full.
    #[serde(default)]
    pub detail: Detail,
}

/// What a broker promises about each message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Delivery {
    AtMostOnce,
    AtLeastOnce,
    ExactlyOnce,
}

impl Delivery {
    const ALL: [Delivery; 3] = [Self::AtMostOnce, Self::AtLeastOnce, Self::ExactlyOnce];

    pub fn id(self) -> &'static str {
        match self {
            Self::AtMostOnce => "at_most_once",
            Self::AtLeastOnce => "at_least_once",
            Self::ExactlyOnce => "exactly_once",
        }
    }

    fn words(self) -> &'static str {
        match self {
            Self::AtMostOnce => "at most once",
            Self::AtLeastOnce => "at least once",
            Self::ExactlyOnce => "exactly once",
        }
    }

    fn parse(row: &RowRef<'_>, column: &str) -> Result<Self, KnowledgeError> {
        let text = row.one_of(column, &Self::ALL.map(Self::id))?;
        // `one_of` only returns one of the ids, so the search always succeeds.
        Ok(Self::ALL
            .into_iter()
            .find(|d| d.id() == text)
            .unwrap_or(Self::AtMostOnce))
    }
}

/// The recommended broker with its grades.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Broker {
    pub name: String,
    pub delivery: Delivery,
    pub best_for: String,
    /// Relative throughput grade (`High`, `Very high`).
    pub throughput: String,
}

/// Another broker of the comparison, and when the rules would pick it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Alternative {
    pub name: String,
    pub delivery: Delivery,
    pub best_for: String,
    pub throughput: String,
    /// The condition of the first rule that recommends it; null if no rule does.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chosen_when: Option<String>,
}

/// How failed jobs are retried.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct RetryPolicy {
    /// Retries after the first attempt.
    pub max_retries: u64,
    /// `exponential`: each delay is the previous one times the multiplier.
    pub backoff: String,
    /// The first delay, seconds.
    pub base_delay_s: f64,
    pub multiplier: f64,
    /// The wait before each retry, seconds.
    pub delays_s: Vec<f64>,
    /// A job that fails its last retry moves to a dead-letter queue instead of being dropped.
    pub dead_letter_queue: bool,
    /// Failed attempts after which a job moves to the dead-letter queue: the first attempt
    /// and every retry (max_retries + 1), so the retries and the dead-letter queue are one
    /// policy.
    pub dead_letter_after_failures: u64,
}

/// A usage pattern that fits the needs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Pattern {
    /// `task_queue` or `pub_sub`.
    pub pattern: String,
    pub name: String,
    /// How to apply it.
    pub how: String,
    /// The clauses of its condition that held (empty when it always fits).
    pub fits_because: Vec<String>,
    /// The sections behind the pattern: `knowledge://` URIs, or in `concise` their positions
    /// in the result's own `sources` (0 for its first).
    #[schemars(with = "Vec<crate::Cited>")]
    pub sources: Vec<String>,
}

/// The choice, with the path that led to it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct QueueChoice {
    /// The answer in one sentence or two: the broker, its delivery, what decided it, retries.
    pub summary: String,
    pub recommendation: Broker,
    /// The arguments whose values decided the matching rule (empty for the default).
    pub decided_by: Vec<String>,
    /// The questions in the order asked, up to the first `yes`.
    pub decision_path: Vec<Step>,
    /// The other brokers of the comparison that no hard need rules out.
    pub alternatives: Vec<Alternative>,
    /// Brokers a hard need rules out (`cannot_lose_messages` rules out an at-most-once
    /// broker), before the rules choose and from the alternatives.
    pub excluded: Vec<Excluded>,
    /// Needs given that the recommendation does not serve.
    pub traded_away: Vec<TradedAway>,
    pub retry_policy: RetryPolicy,
    pub patterns: Vec<Pattern>,
    pub warnings: Vec<Warning>,
    /// Arguments not given that a warning or pattern of this broker tests.
    pub missing_inputs: Vec<MissingInput>,
    pub sources: Vec<String>,
}

/// The outcome columns of a queue rule.
struct Choice {
    recommend: String,
    delivery: Delivery,
}

struct WarningRule {
    when: Condition,
    brokers: Vec<String>,
    message: String,
}

struct PatternRule {
    pattern: String,
    name: String,
    when: Condition,
    how: String,
    sources: Vec<String>,
}

/// The tables `choose_message_queue` applies, read once from the knowledge base.
pub struct QueueRules {
    rules: RuleTable<Choice>,
    brokers: Vec<Broker>,
    comparison_uri: String,
    retry_policy: RetryPolicy,
    retry_uri: String,
    patterns: Vec<PatternRule>,
    warnings: Vec<WarningRule>,
    warnings_uri: String,
    exclusions: Exclusions,
}

fn retry_policy(knowledge: &Knowledge) -> Result<(RetryPolicy, String), KnowledgeError> {
    let table = knowledge.table("queues", "retry-policy")?;
    table.require_columns(&["setting", "value"])?;
    let setting = |name: &str| {
        table
            .rows()
            .find(|r| r.text("setting").is_ok_and(|s| s == name))
            .ok_or_else(|| table.error(format!("the retry policy needs a `{name}` row")))
    };
    let delays_row = setting("delays_s")?;
    let delays_s = delays_row
        .list("value")?
        .iter()
        .map(|d| {
            d.parse::<f64>()
                .ok()
                .filter(|d| d.is_finite() && *d >= 0.0)
                .ok_or_else(|| {
                    delays_row.error(format!("`delays_s` must list seconds, found `{d}`"))
                })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let max_retries = setting("max_retries")?.integer("value")?;
    let policy = RetryPolicy {
        max_retries,
        backoff: setting("backoff")?.required("value")?.to_string(),
        base_delay_s: setting("base_delay_s")?.number("value")?,
        multiplier: setting("multiplier")?.number("value")?,
        dead_letter_queue: setting("dead_letter_queue")?.one_of("value", &["required", "none"])?
            == "required",
        // One number: a job goes to the dead-letter queue when its last retry fails.
        dead_letter_after_failures: max_retries.saturating_add(1),
        delays_s,
    };
    if policy.delays_s.len() as u64 != policy.max_retries {
        return Err(delays_row.error(format!(
            "`delays_s` lists {} delays but `max_retries` is {}",
            policy.delays_s.len(),
            policy.max_retries
        )));
    }
    if policy.backoff == "exponential" {
        let mut expected = policy.base_delay_s;
        for delay in &policy.delays_s {
            if (delay - expected).abs() > 1e-9 {
                return Err(delays_row.error(format!(
                    "exponential backoff from {} s times {} gives {} s here, not {} s",
                    format_number(policy.base_delay_s),
                    format_number(policy.multiplier),
                    format_number(expected),
                    format_number(*delay)
                )));
            }
            expected *= policy.multiplier;
        }
    }
    Ok((policy, table.uri()))
}

impl QueueRules {
    pub(crate) fn load(knowledge: &Knowledge) -> Result<Self, KnowledgeError> {
        let vocabulary = decision::vocabulary::<QueueArgs>();

        let table = knowledge.table("queues", "comparison")?;
        table.require_columns(&["name", "best_for", "delivery", "throughput"])?;
        table.require_rows()?;
        let mut brokers: Vec<Broker> = Vec::new();
        for row in table.rows() {
            let name = row.required("name")?.to_string();
            if brokers.iter().any(|b| b.name == name) {
                return Err(row.error(format!("the broker `{name}` is listed twice")));
            }
            brokers.push(Broker {
                delivery: Delivery::parse(&row, "delivery")?,
                best_for: row.required("best_for")?.to_string(),
                throughput: row.required("throughput")?.to_string(),
                name,
            });
        }
        let comparison_uri = table.uri();
        let known = |row: &RowRef<'_>, column: &str, name: &str| {
            brokers.iter().find(|b| b.name == name).ok_or_else(|| {
                let hint = knowledge::closest(name, brokers.iter().map(|b| b.name.as_str()))
                    .map(|c| format!("; did you mean `{c}`?"))
                    .unwrap_or_default();
                row.error(format!(
                    "`{column}` names `{name}`, which the comparison table does not list{hint}"
                ))
            })
        };

        let rules = RuleTable::load(
            knowledge,
            ("queues", "decision-rules"),
            &["recommend", "delivery"],
            &vocabulary,
            |row| {
                let recommend = row.required("recommend")?.to_string();
                let delivery = Delivery::parse(row, "delivery")?;
                if known(row, "recommend", &recommend)?.delivery != delivery {
                    return Err(row.error(format!(
                        "the comparison gives `{recommend}` another delivery guarantee than `{}`",
                        delivery.id()
                    )));
                }
                Ok(Choice {
                    recommend,
                    delivery,
                })
            },
        )?;

        let (retry_policy, retry_uri) = retry_policy(knowledge)?;

        let table = knowledge.table("queues", "patterns-that-fit")?;
        table.require_columns(&["pattern", "name", "when", "use", "see"])?;
        let mut patterns = Vec::new();
        for row in table.rows() {
            let mut cited = vec![table.uri()];
            for uri in knowledge.references(&row, "see")? {
                push_unique(&mut cited, uri);
            }
            patterns.push(PatternRule {
                pattern: row.required("pattern")?.to_string(),
                name: row.required("name")?.to_string(),
                when: row.condition("when", &vocabulary)?,
                how: row.required("use")?.to_string(),
                sources: cited,
            });
        }

        let table = knowledge.table("queues", "warnings")?;
        table.require_columns(&["when", "recommend", "warning"])?;
        let mut warnings = Vec::new();
        for row in table.rows() {
            let brokers = row.list("recommend")?;
            if brokers.is_empty() {
                return Err(row.error("`recommend` must name at least one broker"));
            }
            for name in &brokers {
                known(&row, "recommend", name)?;
            }
            warnings.push(WarningRule {
                when: row.condition("when", &vocabulary)?,
                brokers,
                message: row.required("warning")?.to_string(),
            });
        }
        let warnings_uri = table.uri();

        let exclusions = Exclusions::load(
            knowledge,
            ("queues", "hard-needs"),
            &vocabulary,
            |row, name| known(row, "excludes", name).map(|_| ()),
        )?;

        Ok(Self {
            rules,
            brokers,
            comparison_uri,
            retry_policy,
            retry_uri,
            patterns,
            warnings,
            warnings_uri,
            exclusions,
        })
    }
}

/// Chooses a broker for the needs in `args`.
pub fn run(advisor: &Advisor, args: QueueArgs) -> Result<QueueChoice, ArgError> {
    let catalog = advisor.tables::<ChooseMessageQueue>()?;
    let facts = decision::facts(&args)?;
    let excluded = catalog.exclusions.applying(&facts);
    let decision = catalog.rules.decide_among(&facts, &|c: &Choice| {
        decision::ruled_out(&excluded, &c.recommend).cloned()
    })?;
    let choice = &decision.rule.outcome;
    // `load` checks that every recommended broker is in the comparison.
    let recommendation = catalog
        .brokers
        .iter()
        .find(|b| b.name == choice.recommend)
        .cloned()
        .ok_or_else(|| ArgError::internal("the recommended broker is not compared"))?;
    let alternatives = catalog
        .brokers
        .iter()
        .filter(|b| b.name != recommendation.name)
        .filter(|b| decision::ruled_out(&excluded, &b.name).is_none())
        .map(|b| Alternative {
            name: b.name.clone(),
            delivery: b.delivery,
            best_for: b.best_for.clone(),
            throughput: b.throughput.clone(),
            chosen_when: catalog
                .rules
                .rules
                .iter()
                .find(|r| r.outcome.recommend == b.name)
                .map(|r| r.when.to_string()),
        })
        .collect();
    let traded_away = catalog
        .rules
        .traded_away(&decision, &facts, &|_| false, &|c: &Choice| {
            format!("{} ({})", c.recommend, c.delivery.id())
        });
    let patterns: Vec<Pattern> = catalog
        .patterns
        .iter()
        .filter(|p| p.when.holds(&facts))
        .map(|p| Pattern {
            pattern: p.pattern.clone(),
            name: p.name.clone(),
            how: p.how.clone(),
            fits_because: decision::triggered_by(&p.when, &facts),
            sources: p.sources.clone(),
        })
        .collect();
    let applicable = || {
        catalog
            .warnings
            .iter()
            .filter(|w| w.brokers.contains(&recommendation.name))
    };
    let warnings: Vec<Warning> = applicable()
        .filter_map(|w| Warning::if_holds(&w.when, &w.message, &facts))
        .collect();
    let mut missing_inputs = Vec::new();
    for field in absent_numbers(applicable().map(|w| &w.when), &facts) {
        missing_input(&mut missing_inputs, field, "warnings");
    }
    for field in absent_numbers(catalog.patterns.iter().map(|p| &p.when), &facts) {
        missing_input(&mut missing_inputs, field, "patterns");
    }

    let mut cited = vec![catalog.rules.uri.clone()];
    for uri in &decision.rule.see {
        push_unique(&mut cited, uri.clone());
    }
    push_unique(&mut cited, catalog.comparison_uri.clone());
    push_unique(&mut cited, catalog.retry_uri.clone());
    for pattern in &patterns {
        for uri in &pattern.sources {
            push_unique(&mut cited, uri.clone());
        }
    }
    if !warnings.is_empty() {
        push_unique(&mut cited, catalog.warnings_uri.clone());
    }
    if !excluded.is_empty() {
        push_unique(&mut cited, catalog.exclusions.uri.clone());
    }

    let mut choice = QueueChoice {
        summary: String::new(),
        recommendation,
        decided_by: decision.decided_by,
        decision_path: decision.path,
        alternatives,
        excluded,
        traded_away,
        retry_policy: catalog.retry_policy.clone(),
        patterns,
        warnings,
        missing_inputs,
        sources: cited,
    };
    choice.summary = summary_of(&choice);
    Ok(choice)
}

/// "Kafka (exactly_once), decided by needs_replay; retries: 5, exponential, then a dead-letter
/// queue; 1 warning."
fn summary_of(choice: &QueueChoice) -> String {
    let broker = &choice.recommendation;
    let mut out = format!("{} ({})", broker.name, broker.delivery.id());
    if !choice.decided_by.is_empty() {
        out.push_str(&format!(", decided by {}", choice.decided_by.join(" and ")));
    }
    if !choice.excluded.is_empty() {
        let names: Vec<&str> = choice.excluded.iter().map(|e| e.name.as_str()).collect();
        out.push_str(&format!("; ruled out: {}", names.join(", ")));
    }
    let retry = &choice.retry_policy;
    out.push_str(&format!(
        "; retries: {} with {} backoff{}",
        retry.max_retries,
        retry.backoff,
        if retry.dead_letter_queue {
            ", then a dead-letter queue"
        } else {
            ""
        }
    ));
    if !choice.patterns.is_empty() {
        let names: Vec<&str> = choice.patterns.iter().map(|p| p.pattern.as_str()).collect();
        out.push_str(&format!("; patterns: {}", names.join(", ")));
    }
    if !choice.warnings.is_empty() {
        let n = choice.warnings.len();
        out.push_str(&format!("; {n} warning{}", if n == 1 { "" } else { "s" }));
    }
    out.push('.');
    crate::summary(out)
}

/// The choice as markdown: the broker first, then the path, retries, patterns and caveats.
pub fn to_markdown(choice: &QueueChoice) -> String {
    let mut out = String::new();
    let broker = &choice.recommendation;
    let _ = writeln!(
        out,
        "**Use {} (delivers {})**: {}; throughput {}.\n",
        broker.name,
        broker.delivery.words(),
        broker.best_for,
        broker.throughput
    );
    decision::write_path(&mut out, &choice.decision_path);
    let policy = &choice.retry_policy;
    let delays: Vec<String> = policy.delays_s.iter().map(|d| numbers::exact(*d)).collect();
    let _ = write!(
        out,
        "\nRetries: {} with {} backoff ({} s)",
        policy.max_retries,
        policy.backoff,
        delays.join(", ")
    );
    if policy.dead_letter_queue {
        let _ = write!(
            out,
            ", then the dead-letter queue after {} failed attempts (the first and every retry), where a person reviews them",
            policy.dead_letter_after_failures
        );
    }
    let _ = writeln!(out, ".");
    if !choice.patterns.is_empty() {
        let _ = writeln!(out, "\nPatterns:");
        for p in &choice.patterns {
            let _ = writeln!(out, "- {}: {}", p.name, p.how);
        }
    }
    let list: Vec<String> = choice
        .alternatives
        .iter()
        .map(|a| match a.chosen_when.as_deref() {
            Some("otherwise") => format!("{} ({}; the default)", a.name, a.delivery.words()),
            Some(when) => format!("{} ({}; when `{when}`)", a.name, a.delivery.words()),
            None => format!("{} ({})", a.name, a.delivery.words()),
        })
        .collect();
    if !list.is_empty() {
        let _ = writeln!(out, "\nAlternatives: {}.", list.join("; "));
    }
    decision::write_excluded(&mut out, &choice.excluded);
    decision::write_traded_away(&mut out, &choice.traded_away);
    decision::write_warnings(&mut out, &choice.warnings);
    sources(&mut out, &choice.sources);
    out
}

/// The `choose_message_queue` tool.
pub struct ChooseMessageQueue;

impl Tool for ChooseMessageQueue {
    const NAME: &'static str = "choose_message_queue";
    const TITLE: &'static str = "Choose a message queue";
    const DESCRIPTION: &'static str = "Choose a message queue: Kafka vs RabbitMQ vs SQS, Pub/Sub, Redis; delivery guarantee, retries, dead-letter queue.";
    type Args = QueueArgs;
    type Output = QueueChoice;
    type Tables = QueueRules;

    fn load(knowledge: &Knowledge) -> Result<QueueRules, KnowledgeError> {
        QueueRules::load(knowledge)
    }

    fn run(advisor: &Advisor, args: QueueArgs) -> Result<QueueChoice, ArgError> {
        run(advisor, args)
    }

    fn to_markdown(output: &QueueChoice) -> String {
        to_markdown(output)
    }

    // What concise leaves out (issue 26): throughput grades, what the summary already states
    // (the deciding arguments), the rule numbers, each exclusion's and trade's sentence (its
    // `because_of` and `would_choose` stay), the retry figures `delays_s` already spells out,
    // the patterns' how-to texts (named, with their sections cited), and empty lists.
    const CONCISE_OMITS: &'static [&'static str] = &[
        "recommendation.throughput",
        "decided_by",
        "decision_path[].rule",
        "alternatives[].throughput",
        "excluded?",
        "excluded[].reason",
        "traded_away?",
        "traded_away[].reason",
        "retry_policy.base_delay_s",
        "retry_policy.multiplier",
        "retry_policy.dead_letter_after_failures",
        "patterns[].name",
        "patterns[].how",
        "patterns[].fits_because",
        "warnings[].triggered_by",
    ];

    /// Concise leaves out the condition texts: the decision path's and each alternative's.
    fn shape(output: &mut QueueChoice, detail: Detail) {
        if !detail.is_full() {
            decision::concise_path(&mut output.decision_path);
            for alternative in &mut output.alternatives {
                alternative.chosen_when = None;
            }
        }
    }
}

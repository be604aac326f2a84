//! The condition language of rule tables (`db_cpu_pct > 60`, `needs_acid and multi_region`,
//! `cloud = aws`, `finding high_latency`, `otherwise`). Conditions are parsed once, at start-up,
//! against the vocabulary of the tool that reads them, so a misspelt field is refused there and
//! never silently evaluates to false.

use std::fmt;

use crate::closest;

/// How a number is compared with its threshold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Comparison {
    Above,
    AtLeast,
    Below,
    AtMost,
}

impl Comparison {
    pub fn symbol(self) -> &'static str {
        match self {
            Self::Above => ">",
            Self::AtLeast => ">=",
            Self::Below => "<",
            Self::AtMost => "<=",
        }
    }
    pub fn holds(self, value: f64, threshold: f64) -> bool {
        match self {
            Self::Above => value > threshold,
            Self::AtLeast => value >= threshold,
            Self::Below => value < threshold,
            Self::AtMost => value <= threshold,
        }
    }
}

/// One test inside a condition.
#[derive(Debug, Clone, PartialEq)]
pub enum Clause {
    /// A number argument compared with a threshold; false when the argument is absent.
    Compare {
        field: String,
        comparison: Comparison,
        threshold: f64,
    },
    /// A word argument equal to a value.
    Equals { field: String, value: String },
    /// A boolean argument that is true.
    Flag { field: String },
    /// A boolean argument that is false or absent: `not independent_table_groups`.
    Unset { field: String },
    /// A finding of `diagnose_bottleneck` that fired.
    Finding { id: String },
    /// Always true: the last rule of an ordered table.
    Otherwise,
}

impl fmt::Display for Clause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Compare {
                field,
                comparison,
                threshold,
            } => {
                write!(f, "{field} {} {threshold}", comparison.symbol())
            }
            Self::Equals { field, value } => write!(f, "{field} = {value}"),
            Self::Flag { field } => f.write_str(field),
            Self::Unset { field } => write!(f, "not {field}"),
            Self::Finding { id } => write!(f, "finding {id}"),
            Self::Otherwise => f.write_str("otherwise"),
        }
    }
}

/// A disjunction of conjunctions of clauses, as written in a rule table's cell.
#[derive(Debug, Clone, PartialEq)]
pub struct Condition {
    alternatives: Vec<Vec<Clause>>,
}

impl fmt::Display for Condition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, alternative) in self.alternatives.iter().enumerate() {
            if i > 0 {
                f.write_str(" or ")?;
            }
            for (j, clause) in alternative.iter().enumerate() {
                if j > 0 {
                    f.write_str(" and ")?;
                }
                write!(f, "{clause}")?;
            }
        }
        Ok(())
    }
}

/// The names a condition may use: number fields, boolean fields, word fields with their allowed
/// values, and finding ids.
#[derive(Debug, Clone, Default)]
pub struct Vocabulary {
    pub numbers: Vec<String>,
    pub flags: Vec<String>,
    pub words: Vec<(String, Vec<String>)>,
    pub findings: Vec<String>,
}

impl Vocabulary {
    fn fields(&self) -> impl Iterator<Item = &str> {
        self.numbers
            .iter()
            .chain(&self.flags)
            .chain(self.words.iter().map(|(w, _)| w))
            .map(String::as_str)
    }

    fn unknown(&self, kind: &str, name: &str, known: &mut dyn Iterator<Item = &str>) -> String {
        let known: Vec<&str> = known.collect();
        match closest(name, known.iter().copied()) {
            Some(near) => format!("unknown {kind} `{name}`; did you mean `{near}`?"),
            None => format!("unknown {kind} `{name}`; known: {}", known.join(", ")),
        }
    }
}

/// The facts a condition is evaluated against: usually a tool's arguments.
pub trait Facts {
    fn number(&self, field: &str) -> Option<f64>;
    fn flag(&self, field: &str) -> bool;
    fn word(&self, field: &str) -> Option<&str>;
    fn finding(&self, _id: &str) -> bool {
        false
    }
}

/// A JSON object (a tool's arguments serialized) is the usual set of facts.
impl Facts for serde_json::Map<String, serde_json::Value> {
    fn number(&self, field: &str) -> Option<f64> {
        self.get(field).and_then(serde_json::Value::as_f64)
    }
    fn flag(&self, field: &str) -> bool {
        self.get(field)
            .and_then(serde_json::Value::as_bool)
            .unwrap_or(false)
    }
    fn word(&self, field: &str) -> Option<&str> {
        self.get(field).and_then(serde_json::Value::as_str)
    }
}

impl Clause {
    pub fn holds(&self, facts: &dyn Facts) -> bool {
        match self {
            Self::Compare {
                field,
                comparison,
                threshold,
            } => facts
                .number(field)
                .is_some_and(|v| comparison.holds(v, *threshold)),
            Self::Equals { field, value } => facts.word(field) == Some(value.as_str()),
            Self::Flag { field } => facts.flag(field),
            Self::Unset { field } => !facts.flag(field),
            Self::Finding { id } => facts.finding(id),
            Self::Otherwise => true,
        }
    }

    fn parse(text: &str, vocabulary: &Vocabulary) -> Result<Self, String> {
        let words: Vec<&str> = text.split_whitespace().collect();
        match words.as_slice() {
            ["otherwise"] => Ok(Self::Otherwise),
            ["not", field] => match Self::parse(field, vocabulary)? {
                Self::Flag { field } => Ok(Self::Unset { field }),
                _ => Err(format!("`not` applies to a flag only, not to `{field}`")),
            },
            ["finding", id] => {
                if vocabulary.findings.iter().any(|f| f == id) {
                    Ok(Self::Finding { id: id.to_string() })
                } else {
                    Err(vocabulary.unknown(
                        "finding",
                        id,
                        &mut vocabulary.findings.iter().map(String::as_str),
                    ))
                }
            }
            [field] => {
                if vocabulary.flags.iter().any(|f| f == field) {
                    Ok(Self::Flag {
                        field: field.to_string(),
                    })
                } else if vocabulary.numbers.iter().any(|f| f == field) {
                    Err(format!(
                        "`{field}` is a number: compare it, like `{field} > 10`"
                    ))
                } else {
                    Err(vocabulary.unknown(
                        "flag",
                        field,
                        &mut vocabulary.flags.iter().map(String::as_str),
                    ))
                }
            }
            [field, "=", value] => {
                let Some((_, allowed)) = vocabulary.words.iter().find(|(w, _)| w == field) else {
                    return Err(vocabulary.unknown("field", field, &mut vocabulary.fields()));
                };
                if allowed.iter().any(|a| a == value) {
                    Ok(Self::Equals {
                        field: field.to_string(),
                        value: value.to_string(),
                    })
                } else {
                    Err(format!(
                        "`{field}` is one of {}, not `{value}`",
                        allowed.join(", ")
                    ))
                }
            }
            [field, op, number] => {
                let comparison = match *op {
                    ">" => Comparison::Above,
                    ">=" => Comparison::AtLeast,
                    "<" => Comparison::Below,
                    "<=" => Comparison::AtMost,
                    other => {
                        return Err(format!("unknown comparison `{other}`; use >, >=, < or <="));
                    }
                };
                if !vocabulary.numbers.iter().any(|f| f == field) {
                    return Err(vocabulary.unknown(
                        "number field",
                        field,
                        &mut vocabulary.numbers.iter().map(String::as_str),
                    ));
                }
                let threshold = crate::table::parse_number(number).ok_or_else(|| {
                    format!("the threshold of `{field}` must be a number, found `{number}`")
                })?;
                Ok(Self::Compare {
                    field: field.to_string(),
                    comparison,
                    threshold,
                })
            }
            _ => Err(format!(
                "cannot read `{text}`; a clause is `field > number`, `field = word`, `flag`, `not flag`, `finding id` or `otherwise`"
            )),
        }
    }
}

/// The finding ids that the clauses of a condition cell name (`finding high_latency`), as
/// written, whether or not the rest of the cell parses.
pub fn cited_findings(text: &str) -> Vec<&str> {
    let words: Vec<&str> = text.split_whitespace().collect();
    words
        .windows(2)
        .filter(|pair| pair[0] == "finding")
        .map(|pair| pair[1])
        .collect()
}

impl Condition {
    /// Parses a condition cell, checking every name against `vocabulary`.
    pub fn parse(text: &str, vocabulary: &Vocabulary) -> Result<Self, String> {
        let text = text.trim();
        if text.is_empty() {
            return Err("the condition is empty".into());
        }
        let alternatives = split_words(text, "or")
            .into_iter()
            .map(|alternative| {
                split_words(&alternative, "and")
                    .iter()
                    .map(|clause| Clause::parse(clause, vocabulary))
                    .collect::<Result<Vec<_>, _>>()
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self { alternatives })
    }

    /// Whether the condition holds for these facts.
    pub fn holds(&self, facts: &dyn Facts) -> bool {
        self.alternatives
            .iter()
            .any(|a| a.iter().all(|c| c.holds(facts)))
    }

    /// The clauses that made the condition hold: every clause of every alternative that holds.
    /// Empty when the condition does not hold.
    pub fn evidence(&self, facts: &dyn Facts) -> Vec<&Clause> {
        self.alternatives
            .iter()
            .filter(|a| a.iter().all(|c| c.holds(facts)))
            .flatten()
            .collect()
    }

    /// The alternatives (joined by `or`), each a list of clauses joined by `and`.
    pub fn alternatives(&self) -> impl Iterator<Item = &[Clause]> {
        self.alternatives.iter().map(Vec::as_slice)
    }

    /// Every clause, in the order written.
    pub fn clauses(&self) -> impl Iterator<Item = &Clause> {
        self.alternatives.iter().flatten()
    }

    /// True for the catch-all `otherwise`.
    pub fn is_otherwise(&self) -> bool {
        self.alternatives.len() == 1 && self.alternatives[0] == [Clause::Otherwise]
    }
}

/// Splits `text` on a keyword that stands as a whole word.
fn split_words(text: &str, keyword: &str) -> Vec<String> {
    let mut parts = vec![Vec::new()];
    for word in text.split_whitespace() {
        if word == keyword {
            parts.push(Vec::new());
        } else if let Some(last) = parts.last_mut() {
            last.push(word);
        }
    }
    parts.into_iter().map(|p| p.join(" ")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn vocabulary() -> Vocabulary {
        Vocabulary {
            numbers: vec!["db_cpu_pct".into(), "read_pct".into(), "users".into()],
            flags: vec!["needs_acid".into(), "multi_region".into()],
            words: vec![("cloud".into(), vec!["aws".into(), "gcp".into()])],
            findings: vec!["high_latency".into()],
        }
    }

    fn facts(value: serde_json::Value) -> serde_json::Map<String, serde_json::Value> {
        value.as_object().cloned().unwrap()
    }

    #[test]
    fn and_binds_tighter_than_or() {
        let c = Condition::parse(
            "needs_acid and multi_region or db_cpu_pct > 60",
            &vocabulary(),
        )
        .unwrap();
        assert!(c.holds(&facts(json!({"needs_acid": true, "multi_region": true}))));
        assert!(!c.holds(&facts(json!({"needs_acid": true}))));
        assert!(c.holds(&facts(json!({"db_cpu_pct": 61}))));
        assert!(!c.holds(&facts(json!({"db_cpu_pct": 60}))));
        assert_eq!(
            c.to_string(),
            "needs_acid and multi_region or db_cpu_pct > 60"
        );
    }

    #[test]
    fn absent_numbers_are_false_and_evidence_names_the_clauses() {
        let c = Condition::parse("db_cpu_pct > 70 or read_pct > 80", &vocabulary()).unwrap();
        let f = facts(json!({"read_pct": 90}));
        let evidence: Vec<String> = c.evidence(&f).iter().map(ToString::to_string).collect();
        assert_eq!(evidence, ["read_pct > 80"]);
        assert!(c.evidence(&facts(json!({}))).is_empty());
    }

    #[test]
    fn words_and_otherwise() {
        let v = vocabulary();
        assert!(
            Condition::parse("cloud = aws", &v)
                .unwrap()
                .holds(&facts(json!({"cloud": "aws"})))
        );
        assert!(Condition::parse("otherwise", &v).unwrap().is_otherwise());
        assert!(
            Condition::parse("users >= 10000", &v)
                .unwrap()
                .holds(&facts(json!({"users": 10000})))
        );
    }

    #[test]
    fn refuses_unknown_names_with_a_suggestion() {
        let v = vocabulary();
        assert!(
            Condition::parse("db_cpu > 60", &v)
                .unwrap_err()
                .contains("did you mean `db_cpu_pct`")
        );
        assert!(
            Condition::parse("db_cpu_pct > sixty", &v)
                .unwrap_err()
                .contains("must be a number")
        );
        assert!(
            Condition::parse("cloud = azure", &v)
                .unwrap_err()
                .contains("aws, gcp")
        );
        assert!(
            Condition::parse("finding hgh_latency", &v)
                .unwrap_err()
                .contains("high_latency")
        );
        assert!(
            Condition::parse("db_cpu_pct", &v)
                .unwrap_err()
                .contains("is a number")
        );
        assert!(
            Condition::parse("db_cpu_pct ~ 3", &v)
                .unwrap_err()
                .contains("comparison")
        );
    }
}

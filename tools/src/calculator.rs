//! What the calculators (`size_cache`, `plan_capacity`) share: a working for every figure
//! (the formula of the document, the same formula with the numbers substituted, the value), the
//! formulas tables those workings come from, the defaults tables checked against each tool's
//! schema, whole counts that floating-point noise cannot push up, and the refusals of inputs
//! whose results would not be finite.

use std::fmt::Write;

use knowledge::{Formula, Knowledge, KnowledgeError, TableRef};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::markdown::push_unique;
use crate::{ArgError, MissingInput};

/// A computed number: a whole count (nodes, servers) or an amount (GB, per second).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum Figure {
    Count(u64),
    Amount(f64),
}

impl Figure {
    /// The figure as a person reads it: counts exactly, amounts to six significant digits.
    pub fn show(self) -> String {
        match self {
            Self::Count(n) => n.to_string(),
            Self::Amount(x) => show(x),
        }
    }

    /// The figure as a number a formula computes with (a count above 2^53 to the nearest
    /// representable number).
    pub fn value(self) -> f64 {
        match self {
            Self::Count(n) => n as f64,
            Self::Amount(x) => x,
        }
    }
}

/// How one figure was reached.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Working {
    /// The result field this working computes.
    pub quantity: String,
    /// The formula as the knowledge base writes it, e.g. `memory_gb = working_set_gb × overhead_factor`
    /// (a tool's concise answer may leave it to the cited row).
    #[serde(default)]
    pub formula: String,
    /// The right-hand side with the numbers substituted, e.g. `10 × 1.5`.
    pub substituted: String,
    /// The exact value (the result field holds the same number).
    pub value: Figure,
}

/// A default that was used because the argument was not given.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct DefaultApplied {
    pub parameter: String,
    pub value: Figure,
}

/// What a calculation has recorded so far: the workings of the figures computed, the defaults
/// used, the figures left out (in words and as the arguments that would add them) and the
/// sections cited. A calculator's steps each add to one ledger, so that the order of the
/// workings and sources is the order of the steps.
#[derive(Debug, Default)]
pub(crate) struct Ledger {
    pub workings: Vec<Working>,
    pub defaults_applied: Vec<DefaultApplied>,
    pub notes: Vec<String>,
    pub missing: Vec<MissingInput>,
    pub sources: Vec<String>,
}

impl Ledger {
    /// `given`, or else `default`, recorded as applied to `parameter`.
    pub(crate) fn amount_or_default(
        &mut self,
        parameter: &str,
        given: Option<f64>,
        default: f64,
    ) -> f64 {
        given.unwrap_or_else(|| {
            self.defaults_applied.push(DefaultApplied {
                parameter: parameter.to_string(),
                value: Figure::Amount(default),
            });
            default
        })
    }

    /// A whole `given`, or else `default`, recorded as applied to `parameter`.
    pub(crate) fn count_or_default(
        &mut self,
        parameter: &str,
        given: Option<u64>,
        default: u64,
    ) -> u64 {
        given.unwrap_or_else(|| {
            self.defaults_applied.push(DefaultApplied {
                parameter: parameter.to_string(),
                value: Figure::Count(default),
            });
            default
        })
    }

    /// The amount `quantity` by its formula ([`Formulas::amount`]), with its working and
    /// sources recorded.
    pub(crate) fn amount(
        &mut self,
        formulas: &Formulas,
        quantity: &str,
        operands: &[(&str, Figure)],
        (field, given): (&str, f64),
    ) -> Result<f64, ArgError> {
        let value = formulas.amount(quantity, operands, field, given)?;
        self.workings
            .push(formulas.working(quantity, operands, Figure::Amount(value)));
        formulas.cite(quantity, &mut self.sources);
        Ok(value)
    }

    /// The count `quantity` by its formula ([`Formulas::count`]), with its working and
    /// sources recorded.
    pub(crate) fn count(
        &mut self,
        formulas: &Formulas,
        quantity: &str,
        operands: &[(&str, Figure)],
        (field, given): (&str, String),
    ) -> Result<u64, ArgError> {
        let value = formulas.count(quantity, operands, field, given)?;
        self.workings
            .push(formulas.working(quantity, operands, Figure::Count(value)));
        formulas.cite(quantity, &mut self.sources);
        Ok(value)
    }

    /// Cites `uri` once.
    pub(crate) fn cite(&mut self, uri: &str) {
        push_unique(&mut self.sources, uri.to_string());
    }

    /// Notes that `field` would have added `enables` ([`crate::missing_input`]).
    pub(crate) fn missing(&mut self, field: &str, enables: &str) {
        crate::missing_input(&mut self.missing, field, enables);
    }
}

/// The largest finite number, as refusals quote it.
pub(crate) const FINITE_LIMIT: &str = "1.8e308";

/// A number for a working: whole numbers without a fraction, others to six significant
/// digits, so that `0.1 × 3` reads `0.3` while the result field keeps the exact value.
pub fn show(x: f64) -> String {
    if x == 0.0 || !x.is_finite() {
        return format!("{}", if x == 0.0 { 0.0 } else { x });
    }
    let magnitude = x.abs().log10().floor() as i32;
    if !(-4..15).contains(&magnitude) {
        let text = format!("{x:.5e}");
        let (mantissa, exponent) = text.split_once('e').unwrap_or((&text, "0"));
        return format!("{}e{exponent}", trim_zeros(mantissa));
    }
    let decimals = usize::try_from(5 - magnitude).unwrap_or(0);
    trim_zeros(&format!("{x:.decimals$}")).to_string()
}

fn trim_zeros(text: &str) -> &str {
    if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.')
    } else {
        text
    }
}

/// `ceil` of a quotient, as a whole number. A quotient within floating-point noise of a whole
/// number (4500 / 1000 computed as 4.500000000000001 is not one; 3.0000000000000004 is) counts
/// as that number, so noise never adds a node. `None` when it does not fit in a `u64`.
pub(crate) fn ceil_whole(x: f64) -> Option<u64> {
    if !x.is_finite() || x < 0.0 {
        return None;
    }
    let nearest = x.round();
    let whole = if (x - nearest).abs() <= 1e-9 * nearest.max(1.0) {
        nearest
    } else {
        x.ceil()
    };
    // 2^64 is exactly representable; every f64 below it that is whole fits in a u64.
    (whole < 18_446_744_073_709_551_616.0).then_some(whole as u64)
}

/// One row of a formulas table: the parsed formula and the sections it cites.
struct FormulaRow {
    formula: Formula,
    sources: Vec<String>,
}

/// A formulas table (`| quantity | formula | see |`). Each formula is parsed at load against
/// the quantities its calculator can supply at that point, so a formula that names anything
/// else, or does not parse, is refused at start-up with its file and line. The calculator then
/// evaluates the formula as written ([`Formulas::evaluate`]) and shows the same text with the
/// numbers substituted ([`Formulas::working`]): what the document says is what is computed.
pub(crate) struct Formulas {
    formulas: Vec<FormulaRow>,
    uri: String,
}

impl Formulas {
    /// Reads `slug#anchor`; `expected` lists each quantity with the quantities its formula may
    /// name (it need not name them all).
    pub(crate) fn load(
        knowledge: &Knowledge,
        slug: &str,
        anchor: &str,
        expected: &[(&str, &[&str])],
    ) -> Result<Self, KnowledgeError> {
        let table = knowledge.table(slug, anchor)?;
        table.require_columns(&["quantity", "formula", "see"])?;
        let mut formulas: Vec<FormulaRow> = Vec::new();
        for row in table.rows() {
            let quantity = row.required("quantity")?;
            let Some((_, operands)) = expected.iter().find(|(q, _)| *q == quantity) else {
                let known: Vec<&str> = expected.iter().map(|(q, _)| *q).collect();
                return Err(row.error(format!(
                    "unknown quantity `{quantity}` (known: {})",
                    known.join(", ")
                )));
            };
            if formulas.iter().any(|f| f.formula.quantity() == quantity) {
                return Err(row.error(format!("the quantity `{quantity}` is listed twice")));
            }
            let formula = row.formula("formula", operands)?;
            if formula.quantity() != quantity {
                return Err(row.error(format!(
                    "the formula must start with `{quantity} =`, found `{} =`",
                    formula.quantity()
                )));
            }
            formulas.push(FormulaRow {
                formula,
                sources: knowledge.references(&row, "see")?,
            });
        }
        if let Some((missing, _)) = expected
            .iter()
            .find(|(q, _)| !formulas.iter().any(|f| f.formula.quantity() == *q))
        {
            return Err(table.error(format!("the table has no formula for `{missing}`")));
        }
        Ok(Self {
            formulas,
            uri: table.uri(),
        })
    }

    fn row(&self, quantity: &str) -> Option<&FormulaRow> {
        self.formulas
            .iter()
            .find(|f| f.formula.quantity() == quantity)
    }

    /// The formula of `quantity` as written, for refusals that quote it.
    pub(crate) fn text<'a>(&'a self, quantity: &'a str) -> &'a str {
        self.row(quantity).map_or(quantity, |f| f.formula.text())
    }

    /// The value of `quantity` by its formula, with `operands` for the quantities it names.
    /// A result that is not finite is returned as it is, for the calculator to refuse with the
    /// argument that caused it.
    pub(crate) fn evaluate(
        &self,
        quantity: &str,
        operands: &[(&str, Figure)],
    ) -> Result<f64, ArgError> {
        let row = self.row(quantity).ok_or_else(|| {
            ArgError::internal(&format!("the formulas table has no `{quantity}`"))
        })?;
        let values: Vec<(&str, f64)> = operands.iter().map(|(n, f)| (*n, f.value())).collect();
        row.formula
            .expression()
            .evaluate(&values)
            .map_err(|missing| ArgError::internal(&missing.to_string()))
    }

    /// An amount by its formula; refused, naming the argument `field` (whose value was
    /// `given`), when it leaves the finite numbers.
    pub(crate) fn amount(
        &self,
        quantity: &str,
        operands: &[(&str, Figure)],
        field: &str,
        given: f64,
    ) -> Result<f64, ArgError> {
        let value = self.evaluate(quantity, operands)?;
        if value.is_finite() {
            Ok(value)
        } else {
            Err(too_large(field, given, self.text(quantity)))
        }
    }

    /// A count by its formula, rounded up to a whole number (a formula that already rounds,
    /// with `ceil`, is unchanged); refused, naming the argument `field` (whose value was
    /// `given`), when it is not a whole number of at most `u64::MAX`.
    pub(crate) fn count(
        &self,
        quantity: &str,
        operands: &[(&str, Figure)],
        field: &str,
        given: String,
    ) -> Result<u64, ArgError> {
        let value = self.evaluate(quantity, operands)?;
        ceil_whole(value).ok_or_else(|| too_many(field, given, self.text(quantity)))
    }

    /// The working of `quantity`: its formula, the formula with each operand replaced by its
    /// value, and the value.
    pub(crate) fn working(
        &self,
        quantity: &str,
        operands: &[(&str, Figure)],
        value: Figure,
    ) -> Working {
        let (formula, substituted) = match self.row(quantity) {
            Some(row) => (
                row.formula.text().to_string(),
                row.formula.expression().substituted(|name| {
                    operands
                        .iter()
                        .find(|(n, _)| *n == name)
                        .map_or_else(|| name.to_string(), |(_, figure)| figure.show())
                }),
            ),
            // `load` guarantees a formula for every quantity a calculator computes.
            None => (quantity.to_string(), value.show()),
        };
        Working {
            quantity: quantity.to_string(),
            formula,
            substituted,
            value,
        }
    }

    /// The sources of a computed quantity: the formulas table and the sections it cites.
    pub(crate) fn cite(&self, quantity: &str, sources: &mut Vec<String>) {
        push_unique(sources, self.uri.clone());
        if let Some(row) = self.row(quantity) {
            for uri in &row.sources {
                push_unique(sources, uri.clone());
            }
        }
    }
}

/// Reads the `default` of each parameter of a defaults table and checks it against the range
/// the tool's own schema accepts, so a document cannot default to a value the tool refuses.
pub(crate) fn read_defaults<Args: JsonSchema>(
    table: &TableRef<'_>,
    parameters: &[&str],
) -> Result<Vec<f64>, KnowledgeError> {
    table.require_columns(&["parameter", "default"])?;
    let schema = schemars::schema_for!(Args);
    let properties = schema.get("properties").and_then(Value::as_object);
    for row in table.rows() {
        let name = row.required("parameter")?;
        if !parameters.contains(&name) {
            let hint = knowledge::closest(name, parameters.iter().copied())
                .map(|c| format!("; did you mean `{c}`?"))
                .unwrap_or_default();
            return Err(row.error(format!(
                "unknown parameter `{name}`{hint} (known: {})",
                parameters.join(", ")
            )));
        }
    }
    parameters
        .iter()
        .map(|name| {
            let row = table
                .rows()
                .find(|r| r.text("parameter").is_ok_and(|p| p == *name))
                .ok_or_else(|| table.error(format!("the table has no default for `{name}`")))?;
            let value = row.number("default")?;
            let property = properties
                .and_then(|p| p.get(*name))
                .map(|p| p.to_string())
                .unwrap_or_default();
            let bound = |key: &str| -> Option<f64> {
                let node: Value = properties?.get(*name)?.clone();
                let node = match node.get("anyOf") {
                    Some(Value::Array(branches)) => branches
                        .iter()
                        .find(|b| b.get("type") != Some(&Value::from("null")))?
                        .clone(),
                    _ => node,
                };
                node.get(key)?.as_f64()
            };
            let whole = property.contains("\"integer\"");
            let fits = (!whole || value.fract() == 0.0)
                && bound("minimum").is_none_or(|m| value >= m)
                && bound("exclusiveMinimum").is_none_or(|m| value > m)
                && bound("maximum").is_none_or(|m| value <= m);
            if fits {
                Ok(value)
            } else {
                Err(row.error(format!(
                    "the default of `{name}` ({value}) is outside what the argument accepts"
                )))
            }
        })
        .collect()
}

/// A refusal of an input whose product leaves the finite numbers.
pub(crate) fn too_large(field: &str, value: f64, product: &str) -> ArgError {
    // `product` is the formula that left the finite numbers, as its document writes it.
    ArgError::new(
        field,
        show(value),
        format!("a value for which {product} stays below {FINITE_LIMIT}"),
    )
}

/// A refusal of an input that makes a count exceed a whole number.
pub(crate) fn too_many(field: &str, value: impl Into<String>, count: &str) -> ArgError {
    ArgError::new(
        field,
        value,
        format!("a value for which {count} is at most {}", u64::MAX),
    )
}

/// The workings, defaults and notes as the closing part of a calculator's markdown.
pub(crate) fn push_workings(
    out: &mut String,
    workings: &[Working],
    defaults: &[DefaultApplied],
    notes: &[String],
) {
    if !workings.is_empty() {
        let _ = writeln!(out, "\n### Workings\n");
        for w in workings {
            let _ = writeln!(
                out,
                "- `{}` = {} = **{}**",
                w.formula,
                w.substituted,
                w.value.show()
            );
        }
    }
    if !defaults.is_empty() {
        let list: Vec<String> = defaults
            .iter()
            .map(|d| format!("{} {}", d.parameter, d.value.show()))
            .collect();
        let _ = writeln!(out, "\nDefaults applied: {}.", list.join(", "));
    }
    if !notes.is_empty() {
        let _ = writeln!(out, "\nNot computed: {}.", notes.join("; "));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shows_numbers_plainly() {
        assert_eq!(show(15.000000001), "15");
        assert_eq!(show(0.1 * 3.0), "0.3");
        assert_eq!(show(1e308), "1e308");
        assert_eq!(show(f64::MAX), "1.79769e308");
        assert_eq!(show(1234567.891), "1234568");
        assert_eq!(show(0.00012345678), "0.000123457");
        assert_eq!(show(-2.5), "-2.5");
        assert_eq!(show(0.0), "0");
    }

    #[test]
    fn ceil_ignores_noise_but_not_fractions() {
        assert_eq!(ceil_whole(3.0000000000000004), Some(3));
        assert_eq!(ceil_whole(4.5), Some(5));
        assert_eq!(ceil_whole(1.25), Some(2));
        assert_eq!(ceil_whole(0.0), Some(0));
        assert_eq!(ceil_whole(f64::INFINITY), None);
        assert_eq!(ceil_whole(2e19), None);
    }
}

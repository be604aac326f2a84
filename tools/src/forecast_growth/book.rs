//! The forecast's ledger: every figure a room computes by a formula of `growth-models#formulas`
//! is written here with its working, and every row it rests on is cited, so that the workings
//! and the sources read in the order the rooms ran.

use crate::Detail;
use crate::calculator::{Figure, Formulas, Working, ceil_whole};
use knowledge::Comparison;

use crate::growth_models::{Rate, months_past};
use crate::markdown::push_unique;

use super::Truncated;

/// Workings shown in `concise` detail; `full` shows them all.
const CONCISE_WORKINGS: usize = 40;

/// The workings and sources a forecast accumulates.
pub(super) struct Book<'a> {
    formulas: &'a Formulas,
    workings: Vec<Working>,
    sources: Vec<String>,
}

fn amounts<'n>(operands: &[(&'n str, f64)]) -> Vec<(&'n str, Figure)> {
    operands
        .iter()
        .map(|(n, v)| (*n, Figure::Amount(*v)))
        .collect()
}

impl<'a> Book<'a> {
    pub(super) fn new(formulas: &'a Formulas) -> Self {
        Self {
            formulas,
            workings: Vec::new(),
            sources: Vec::new(),
        }
    }

    /// Cites `uri` (once, where it is first cited).
    pub(super) fn cite(&mut self, uri: impl Into<String>) {
        push_unique(&mut self.sources, uri.into());
    }

    /// The value of `quantity` by its formula in `growth-models#formulas`, evaluated as
    /// written, with its working under `label`.
    pub(super) fn show(&mut self, label: String, quantity: &str, operands: &[(&str, f64)]) -> f64 {
        let operands = amounts(operands);
        // `load` checked that each formula names only these operands, all of them given.
        let value = self
            .formulas
            .evaluate(quantity, &operands)
            .unwrap_or(f64::NAN);
        let mut working = self
            .formulas
            .working(quantity, &operands, Figure::Amount(value));
        working.quantity = label;
        self.workings.push(working);
        self.formulas.cite(quantity, &mut self.sources);
        value
    }

    /// A quantity by its formula with its working, or `None` (and no working) when the value
    /// is not a finite number (a warning line over a current value near zero overflows).
    pub(super) fn show_finite(
        &mut self,
        label: String,
        quantity: &str,
        operands: &[(&str, f64)],
    ) -> Option<f64> {
        let value = self.formulas.evaluate(quantity, &amounts(operands)).ok()?;
        value
            .is_finite()
            .then(|| self.show(label, quantity, operands))
    }

    /// A count by its formula (which rounds up with `ceil`), with its working; `None` when it
    /// does not fit a whole number.
    pub(super) fn count(
        &mut self,
        label: String,
        quantity: &str,
        operands: &[(&str, f64)],
    ) -> Option<u64> {
        let figures = amounts(operands);
        let value = ceil_whole(self.formulas.evaluate(quantity, &figures).ok()?)?;
        let mut working = self
            .formulas
            .working(quantity, &figures, Figure::Count(value));
        working.quantity = label;
        self.workings.push(working);
        self.formulas.cite(quantity, &mut self.sources);
        Some(value)
    }

    /// Months until `current` is past `threshold` as `comparison` reads it, with its working
    /// when it is a crossing still to come (or a value on a strict line that any growth takes
    /// past it).
    pub(super) fn months(
        &mut self,
        label: String,
        current: f64,
        comparison: Comparison,
        threshold: f64,
        rate: Rate,
    ) -> Option<f64> {
        // Whether it is reached at all is decided here, by the row's own comparison (0 when
        // it holds now, never when the value moves away); when it is still to come, the
        // formula gives the month.
        match months_past(current, comparison, threshold, rate) {
            Some(_) if !comparison.holds(current, threshold) => {
                let m = self.show(
                    label,
                    "months_to_threshold",
                    &[
                        ("threshold", threshold),
                        ("current", current),
                        ("monthly_growth_pct", rate.pct),
                    ],
                );
                m.is_finite().then_some(m)
            }
            other => other,
        }
    }

    /// The month to order capacity by: the critical month less the lead time, not below 0 (a
    /// month already past means start now); `None` without a critical month.
    pub(super) fn order_by(
        &mut self,
        label: String,
        months_to_critical: Option<f64>,
        lead_time: f64,
    ) -> Option<f64> {
        let months = months_to_critical?;
        if months == 0.0 {
            return Some(0.0);
        }
        let order = self.show(
            label,
            "order_by_month",
            &[
                ("months_to_critical", months),
                ("lead_time_months", lead_time),
            ],
        );
        Some(order.max(0.0))
    }

    /// The workings (cut in `concise`, with a note in `truncated`) and the sources.
    pub(super) fn close(
        self,
        detail: Detail,
        truncated: &mut Vec<Truncated>,
    ) -> (Vec<Working>, Vec<String>) {
        let mut workings = self.workings;
        if detail == Detail::Concise && workings.len() > CONCISE_WORKINGS {
            truncated.push(Truncated {
                field: "workings".into(),
                shown: CONCISE_WORKINGS,
                total: workings.len(),
                how_to_get_more: "detail: full shows every working".into(),
            });
            workings.truncate(CONCISE_WORKINGS);
        }
        (workings, self.sources)
    }
}

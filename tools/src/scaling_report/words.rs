//! The small wordings every section shares: a metric with its unit, a component in words, a
//! list or "none", and a sentence's first letter.

use crate::numbers;

/// A metric's value with its unit, read from the contract's name suffixes.
pub(super) fn with_unit(metric: &str, value: f64) -> String {
    let number = numbers::exact(value);
    if metric.ends_with("_pct") {
        format!("{number}%")
    } else if metric.ends_with("_ms") {
        format!("{number} ms")
    } else {
        number
    }
}

pub(super) fn component_words(component: &str) -> String {
    component.replace('_', " ")
}

pub(super) fn list_or_none(items: &[String]) -> String {
    if items.is_empty() {
        "none".to_string()
    } else {
        items.join(", ")
    }
}

pub(super) use crate::markdown::{capitalized, lowercase_first};

//! What a call asks to read: the selector that narrows the Prometheus queries and the window
//! the growth fits cover, checked once for `observe_system` and for `observe` on the tools
//! that take metrics.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::{ArgError, Detail};

/// `window_days` when none is given, and its bounds (contract §8).
const DEFAULT_WINDOW_DAYS: u32 = 90;
const WINDOW_DAYS: std::ops::RangeInclusive<u32> = 7..=365;
/// The most label matchers a selector may hold: a selector narrows to a job or an instance.
const MAX_SELECTOR_LABELS: usize = 16;

// What to read. Both fields narrow the Prometheus queries only.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ObserveArgs {
    /// Prometheus label matchers added to every query, exact values:
    /// {"instance": "orders-db:9187"} or {"job": "checkout"}.
    #[serde(default)]
    pub selector: BTreeMap<String, String>,
    /// Days of history the growth fits read, 7 to 365. Default 90.
    #[schemars(range(min = 7, max = 365))]
    pub window_days: Option<u32>,
    /// concise (default) or full.
    #[serde(default)]
    pub detail: Detail,
}

/// What the server is asked to read: a checked selector and window (the same for
/// `observe_system` and for `observe` on the tools that take metrics).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObserveRequest {
    pub selector: BTreeMap<String, String>,
    pub window_days: u32,
}

impl ObserveRequest {
    /// Checks a selector and a window; `path` names the argument for errors (`selector`, or
    /// `observe.selector` on another tool).
    pub fn new(
        path: &str,
        selector: BTreeMap<String, String>,
        window_days: Option<u32>,
    ) -> Result<Self, ArgError> {
        let prefix = |field: &str| {
            if path.is_empty() {
                field.to_string()
            } else {
                format!("{path}.{field}")
            }
        };
        if selector.len() > MAX_SELECTOR_LABELS {
            return Err(ArgError::new(
                &prefix("selector"),
                format!("{} labels", selector.len()),
                format!("at most {MAX_SELECTOR_LABELS} label matchers"),
            ));
        }
        for label in selector.keys() {
            if !is_label_name(label) {
                return Err(ArgError::new(
                    &prefix("selector"),
                    format!("the label name {label:?}"),
                    "Prometheus label names: a letter or _, then letters, digits or _ \
                     ([a-zA-Z_][a-zA-Z0-9_]*), not starting with __",
                ));
            }
        }
        let window_days = window_days.unwrap_or(DEFAULT_WINDOW_DAYS);
        if !WINDOW_DAYS.contains(&window_days) {
            return Err(ArgError::number(
                &prefix("window_days"),
                f64::from(window_days),
                format!(
                    "whole days from {} to {}",
                    WINDOW_DAYS.start(),
                    WINDOW_DAYS.end()
                ),
            ));
        }
        Ok(Self {
            selector,
            window_days,
        })
    }

    /// What `observe: true` reads: every series, over the default window.
    pub fn everything() -> Self {
        Self {
            selector: BTreeMap::new(),
            window_days: DEFAULT_WINDOW_DAYS,
        }
    }
}

/// A Prometheus label name that may be matched (`__name__` and other internal labels are not
/// the caller's to choose).
fn is_label_name(name: &str) -> bool {
    let mut chars = name.chars();
    let first_ok = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_');
    first_ok
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !name.starts_with("__")
}

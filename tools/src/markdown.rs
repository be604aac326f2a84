//! Small pieces shared by the tools' markdown renderings, so that every result reads alike.

use std::fmt::Write;

/// The closing `Sources:` line, each URI as inline code so clients can copy it.
pub(crate) fn sources(out: &mut String, sources: &[String]) {
    if sources.is_empty() {
        return;
    }
    let list: Vec<String> = sources.iter().map(|s| format!("`{s}`")).collect();
    let _ = writeln!(out, "\nSources: {}", list.join(", "));
}

/// Adds `uri` to `list` unless it is already there, keeping first-seen order.
pub(crate) fn push_unique(list: &mut Vec<String>, uri: String) {
    if !list.contains(&uri) {
        list.push(uri);
    }
}

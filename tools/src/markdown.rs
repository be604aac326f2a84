//! Small pieces shared by the tools' markdown renderings, so that every result reads alike.

use std::fmt::Write;

/// The closing `Sources:` line: each cited document's URI as inline code, then its sections.
pub(crate) fn sources<S: AsRef<str>>(out: &mut String, sources: &[S]) {
    if sources.is_empty() {
        return;
    }
    // Grouped by document, in the order first cited: each document's URI once, then the
    // sections cited in it. The structured `sources` keeps every URI whole.
    let cited: Vec<(&str, Option<&str>)> = sources
        .iter()
        .map(|uri| match uri.as_ref().split_once('#') {
            Some((document, anchor)) => (document, Some(anchor)),
            None => (uri.as_ref(), None),
        })
        .collect();
    out.push_str("\nSources: ");
    for (i, (document, _)) in cited.iter().enumerate() {
        if cited[..i].iter().any(|(earlier, _)| earlier == document) {
            continue;
        }
        if i > 0 {
            out.push_str("; ");
        }
        let _ = write!(out, "`{document}`");
        for (_, anchor) in cited[i..].iter().filter(|(d, _)| d == document) {
            if let Some(anchor) = anchor {
                let _ = write!(out, " #{anchor}");
            }
        }
    }
    out.push('\n');
}

/// Adds `uri` to `list` unless it is already there, keeping first-seen order.
pub(crate) fn push_unique<T: PartialEq>(list: &mut Vec<T>, uri: T) {
    if !list.contains(&uri) {
        list.push(uri);
    }
}

/// `text` with its first letter in lower case, to continue a sentence with it.
pub(crate) fn lowercase_first(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(c) => c.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// `text` with its first letter in upper case, to start a sentence with it.
pub(crate) fn capitalized(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(c) => c.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

//! Small pieces shared by the tools' markdown renderings, so that every result reads alike.

use std::fmt::Write;

/// The closing `Sources:` line: each cited document's URI as inline code, then its sections.
pub(crate) fn sources(out: &mut String, sources: &[String]) {
    if sources.is_empty() {
        return;
    }
    // Grouped by document, in the order first cited: each document's URI once, then the
    // sections cited in it. The structured `sources` keeps every URI whole.
    let mut documents: Vec<(&str, Vec<&str>)> = Vec::new();
    for uri in sources {
        let (document, anchor) = match uri.split_once('#') {
            Some((document, anchor)) => (document, Some(anchor)),
            None => (uri.as_str(), None),
        };
        let at = match documents.iter().position(|(d, _)| *d == document) {
            Some(at) => at,
            None => {
                documents.push((document, Vec::new()));
                documents.len() - 1
            }
        };
        if let Some(anchor) = anchor {
            documents[at].1.push(anchor);
        }
    }
    out.push_str("\nSources: ");
    for (i, (document, anchors)) in documents.iter().enumerate() {
        if i > 0 {
            out.push_str("; ");
        }
        let _ = write!(out, "`{document}`");
        if !anchors.is_empty() {
            let _ = write!(out, " #{}", anchors.join(" #"));
        }
    }
    out.push('\n');
}

/// Adds `uri` to `list` unless it is already there, keeping first-seen order.
pub(crate) fn push_unique(list: &mut Vec<String>, uri: String) {
    if !list.contains(&uri) {
        list.push(uri);
    }
}

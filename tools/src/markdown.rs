//! Small pieces shared by the tools' markdown renderings, so that every result reads alike.

use std::fmt::Write;

/// The closing `Sources:` line: each cited document's URI as inline code, then its sections.
pub(crate) fn sources<'a>(out: &mut String, sources: &'a [String]) {
    if sources.is_empty() {
        return;
    }
    // Grouped by document, in the order first cited: each document's URI once, then the
    // sections cited in it. The structured `sources` keeps every URI whole.
    let document_of = |uri: &'a str| uri.split_once('#').map_or(uri, |(document, _)| document);
    out.push_str("\nSources: ");
    for (i, uri) in sources.iter().enumerate() {
        let document = document_of(uri);
        if sources[..i]
            .iter()
            .any(|earlier| document_of(earlier) == document)
        {
            continue;
        }
        if i > 0 {
            out.push_str("; ");
        }
        let _ = write!(out, "`{document}`");
        for cited in &sources[i..] {
            if let Some((d, anchor)) = cited.split_once('#')
                && d == document
            {
                let _ = write!(out, " #{anchor}");
            }
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

//! The report's diagrams in `concise`: the structured sections draw the architecture once.

/// A section's markdown without its mermaid diagrams: in concise the structured sections
/// draw the architecture once, as the plain-text view beside it and the `architecture`
/// boxes, which is all the report page shows too. The text block keeps the diagrams.
pub(super) fn without_diagrams(markdown: &str) -> String {
    let mut kept = String::with_capacity(markdown.len());
    let mut lines = markdown.split_inclusive('\n').peekable();
    while let Some(line) = lines.next() {
        if line.trim_end() != "```mermaid" {
            kept.push_str(line);
            continue;
        }
        // Skip to the closing fence, then the blank line that separates the block.
        for inner in lines.by_ref() {
            if inner.trim_end() == "```" {
                break;
            }
        }
        if lines.peek().is_some_and(|next| next.trim().is_empty()) {
            lines.next();
        }
    }
    kept
}

#[cfg(test)]
mod tests {
    use super::without_diagrams;

    #[test]
    fn a_mermaid_block_goes_and_the_text_around_it_stays() {
        let markdown =
            "Target.\n\n```mermaid\nflowchart TD\n    a --> b\n```\n\nPlain:\n\n```text\na\n```\n";
        assert_eq!(
            without_diagrams(markdown),
            "Target.\n\nPlain:\n\n```text\na\n```\n"
        );
        assert_eq!(without_diagrams("no diagram\n"), "no diagram\n");
    }
}

//! Turning one markdown file into a [`Document`]: its title, its sections (with the anchors
//! that `knowledge://slug#anchor` URIs use) and the tables inside each section.

use std::ops::Range;

use pulldown_cmark::{Event, HeadingLevel, Options, Parser, Tag, TagEnd};

use crate::{KnowledgeError, Row, Table};

/// One knowledge document, parsed once at start-up and kept for the life of the process.
#[derive(Debug, Clone)]
pub struct Document {
    slug: String,
    path: String,
    title: String,
    text: String,
    sections: Vec<Section>,
    embedded: bool,
}

/// A heading and everything under it up to the next heading of the same or a higher level.
#[derive(Debug, Clone)]
pub struct Section {
    anchor: String,
    heading: String,
    level: usize,
    line: usize,
    span: Range<usize>,
    tables: Vec<Table>,
}

impl Section {
    pub fn anchor(&self) -> &str {
        &self.anchor
    }
    pub fn heading(&self) -> &str {
        &self.heading
    }
    /// 1 for `#`, 2 for `##`, …
    pub fn level(&self) -> usize {
        self.level
    }
    /// The 1-based line of the heading.
    pub fn line(&self) -> usize {
        self.line
    }
    /// The byte range of the section in the document's text.
    pub fn span(&self) -> Range<usize> {
        self.span.clone()
    }
    /// The tables directly in this section (not in its subsections), in document order.
    pub fn tables(&self) -> &[Table] {
        &self.tables
    }
}

/// The anchor of a heading: lower case, every run of non-alphanumeric characters collapsed to
/// one `-`, trimmed at both ends.
pub fn anchor(heading: &str) -> String {
    let mut out = String::with_capacity(heading.len());
    let mut pending_dash = false;
    for c in heading.chars().flat_map(char::to_lowercase) {
        if c.is_alphanumeric() {
            if pending_dash && !out.is_empty() {
                out.push('-');
            }
            pending_dash = false;
            out.push(c);
        } else {
            pending_dash = true;
        }
    }
    out
}

struct LineIndex(Vec<usize>);

impl LineIndex {
    fn new(text: &str) -> Self {
        let mut starts = vec![0];
        starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        Self(starts)
    }
    fn line(&self, offset: usize) -> usize {
        self.0.partition_point(|&start| start <= offset)
    }
}

fn heading_level(level: HeadingLevel) -> usize {
    match level {
        HeadingLevel::H1 => 1,
        HeadingLevel::H2 => 2,
        HeadingLevel::H3 => 3,
        HeadingLevel::H4 => 4,
        HeadingLevel::H5 => 5,
        HeadingLevel::H6 => 6,
    }
}

/// What the parser is in the middle of.
enum Open {
    Nothing,
    Heading {
        level: usize,
        line: usize,
        start: usize,
        text: String,
    },
    Table {
        table: Table,
        in_head: bool,
        row: Vec<String>,
        row_line: usize,
        cell: Option<String>,
    },
}

impl Document {
    /// Parses `text`, the document with this `slug`, read from `path` (used in errors).
    pub fn parse(slug: &str, path: &str, text: &str) -> Result<Self, KnowledgeError> {
        let lines = LineIndex::new(text);
        let err = |line: usize, message: String| KnowledgeError::new(path, line, message);
        let mut sections: Vec<Section> = Vec::new();
        let mut open = Open::Nothing;
        let parser = Parser::new_ext(text, Options::ENABLE_TABLES).into_offset_iter();
        for (event, range) in parser {
            match (&mut open, event) {
                (Open::Nothing, Event::Start(Tag::Heading { level, .. })) => {
                    open = Open::Heading {
                        level: heading_level(level),
                        line: lines.line(range.start),
                        start: range.start,
                        text: String::new(),
                    };
                }
                (
                    Open::Heading {
                        level,
                        line,
                        start,
                        text: heading,
                    },
                    Event::End(TagEnd::Heading(_)),
                ) => {
                    let heading = heading.trim().to_string();
                    let anchor = anchor(&heading);
                    if anchor.is_empty() {
                        return Err(err(
                            *line,
                            "a heading must contain a letter or digit".into(),
                        ));
                    }
                    if let Some(previous) = sections.iter().find(|s| s.anchor == anchor) {
                        return Err(err(
                            *line,
                            format!(
                                "the anchor `{anchor}` is already used by the heading on line {}; anchors must be unique",
                                previous.line
                            ),
                        ));
                    }
                    sections.push(Section {
                        anchor,
                        heading,
                        level: *level,
                        line: *line,
                        span: *start..text.len(),
                        tables: Vec::new(),
                    });
                    open = Open::Nothing;
                }
                (Open::Heading { text, .. }, Event::Text(t) | Event::Code(t)) => text.push_str(&t),
                (Open::Nothing, Event::Start(Tag::Table(_))) => {
                    if sections.is_empty() {
                        return Err(err(
                            lines.line(range.start),
                            "a table must come after a heading".into(),
                        ));
                    }
                    open = Open::Table {
                        table: Table::new(lines.line(range.start)),
                        in_head: false,
                        row: Vec::new(),
                        row_line: 0,
                        cell: None,
                    };
                }
                (
                    Open::Table {
                        in_head,
                        row,
                        row_line,
                        ..
                    },
                    Event::Start(Tag::TableHead),
                ) => {
                    *in_head = true;
                    row.clear();
                    *row_line = lines.line(range.start);
                }
                (Open::Table { row, row_line, .. }, Event::Start(Tag::TableRow)) => {
                    row.clear();
                    *row_line = lines.line(range.start);
                }
                (Open::Table { cell, .. }, Event::Start(Tag::TableCell)) => {
                    *cell = Some(String::new())
                }
                (Open::Table { cell, row, .. }, Event::End(TagEnd::TableCell)) => {
                    row.push(cell.take().unwrap_or_default().trim().to_string());
                }
                (
                    Open::Table {
                        cell: Some(cell), ..
                    },
                    Event::Text(t) | Event::Code(t),
                ) => cell.push_str(&t),
                (
                    Open::Table {
                        cell: Some(cell), ..
                    },
                    Event::SoftBreak | Event::HardBreak,
                ) => cell.push(' '),
                (
                    Open::Table {
                        table,
                        in_head,
                        row,
                        ..
                    },
                    Event::End(TagEnd::TableHead),
                ) => {
                    table.set_columns(std::mem::take(row));
                    *in_head = false;
                }
                (
                    Open::Table {
                        table,
                        row,
                        row_line,
                        ..
                    },
                    Event::End(TagEnd::TableRow),
                ) => {
                    table.push_row(Row::new(*row_line, std::mem::take(row)));
                }
                (Open::Table { .. }, Event::End(TagEnd::Table)) => {
                    if let Open::Table { table, .. } = std::mem::replace(&mut open, Open::Nothing)
                        && let Some(section) = sections.last_mut()
                    {
                        section.tables.push(table);
                    }
                }
                _ => {}
            }
        }
        // A section ends where the next heading of the same or a higher level starts.
        for i in 0..sections.len() {
            let level = sections[i].level;
            if let Some(next) = sections[i + 1..].iter().find(|s| s.level <= level) {
                sections[i].span.end = next.span.start;
            }
        }
        let title = match sections.first() {
            Some(first) if first.level == 1 && first.line == first_content_line(text) => {
                first.heading.clone()
            }
            _ => {
                return Err(err(
                    1,
                    "a document must start with its title as a level-1 heading (`# Title`)".into(),
                ));
            }
        };
        if let Some(second) = sections.iter().skip(1).find(|s| s.level == 1) {
            return Err(err(
                second.line,
                "a document has one level-1 heading, its title; use `##` for sections".into(),
            ));
        }
        Ok(Self {
            slug: slug.to_string(),
            path: path.to_string(),
            title,
            text: text.to_string(),
            sections,
            embedded: false,
        })
    }

    /// Marks the document as one compiled into the binary, which no user edits: a reference
    /// it holds that a user's file breaks is reported as a problem of the user's file.
    pub(crate) fn mark_embedded(mut self) -> Self {
        self.embedded = true;
        self
    }

    /// Whether the document is one compiled into the binary (not a `--knowledge-dir` file).
    pub fn is_embedded(&self) -> bool {
        self.embedded
    }

    pub fn slug(&self) -> &str {
        &self.slug
    }
    /// Where the document came from, as shown in errors.
    pub fn path(&self) -> &str {
        &self.path
    }
    pub fn title(&self) -> &str {
        &self.title
    }
    pub fn text(&self) -> &str {
        &self.text
    }
    pub fn sections(&self) -> &[Section] {
        &self.sections
    }
    pub fn section(&self, anchor: &str) -> Option<&Section> {
        self.sections.iter().find(|s| s.anchor == anchor)
    }
    /// The first paragraph under the title: a one-line description for resource listings.
    pub fn summary(&self) -> String {
        let body = match self.sections.get(1) {
            Some(next) => &self.text[..next.span.start],
            None => &self.text[..],
        };
        body.lines()
            .skip_while(|l| !l.starts_with("# "))
            .skip(1)
            .skip_while(|l| l.trim().is_empty())
            .take_while(|l| !l.trim().is_empty())
            .map(str::trim)
            .collect::<Vec<_>>()
            .join(" ")
    }
}

fn first_content_line(text: &str) -> usize {
    text.lines()
        .position(|l| !l.trim().is_empty())
        .map_or(1, |i| i + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = "# Caching\n\nHow to cache.\n\n## Write strategies\n\n| strategy | when |\n|---|---|\n| write_through | `strong_freshness` |\n| cache_aside | otherwise |\n\n### Details\n\ntext\n\n## Other (part 2)\n\nmore\n";

    #[test]
    fn anchors_collapse_punctuation() {
        assert_eq!(anchor("Stage from architecture"), "stage-from-architecture");
        assert_eq!(
            anchor("  Read-After-Write: Disappearing  Data! "),
            "read-after-write-disappearing-data"
        );
        assert_eq!(
            anchor("L4 vs L7 (transport/application)"),
            "l4-vs-l7-transport-application"
        );
    }

    #[test]
    fn parses_sections_tables_and_lines() {
        let doc = Document::parse("caching", "caching.md", SAMPLE).unwrap();
        assert_eq!(doc.title(), "Caching");
        assert_eq!(doc.summary(), "How to cache.");
        let anchors: Vec<_> = doc.sections().iter().map(Section::anchor).collect();
        assert_eq!(
            anchors,
            ["caching", "write-strategies", "details", "other-part-2"]
        );
        let section = doc.section("write-strategies").unwrap();
        assert_eq!(section.line(), 5);
        let table = &section.tables()[0];
        assert_eq!(table.line(), 7);
        assert_eq!(table.columns(), ["strategy", "when"]);
        assert_eq!(
            table.rows()[0].cells(),
            ["write_through", "strong_freshness"]
        );
        assert_eq!(table.rows()[1].line(), 10);
        let text = &doc.text()[section.span()];
        assert!(text.starts_with("## Write strategies") && text.contains("### Details"));
        assert!(!text.contains("## Other"));
        assert!(doc.text()[doc.section("details").unwrap().span()].ends_with("text\n\n"));
    }

    #[test]
    fn refuses_a_document_without_a_title() {
        let e = Document::parse("x", "x.md", "## Only a section\n").unwrap_err();
        assert_eq!((e.path.as_str(), e.line), ("x.md", 1));
        assert!(e.message.contains("level-1 heading"), "{e}");
    }

    #[test]
    fn refuses_duplicate_anchors_with_both_lines() {
        let e = Document::parse("x", "x.md", "# T\n\n## Rules\n\n## rules!\n").unwrap_err();
        assert_eq!(e.line, 5);
        assert!(e.message.contains("line 3"), "{e}");
    }

    #[test]
    fn refuses_a_second_title() {
        let e = Document::parse("x", "x.md", "# T\n\ntext\n\n# U\n").unwrap_err();
        assert_eq!(e.line, 5);
    }
}

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

/// A heading being read: where it starts, and its text so far.
struct OpenHeading {
    level: usize,
    line: usize,
    start: usize,
    text: String,
}

/// A table being read: its rows so far, the row being read and the cell being read.
struct OpenTable {
    table: Table,
    row: Vec<String>,
    row_line: usize,
    cell: Option<String>,
}

impl OpenTable {
    /// Reads one event inside the table; the table's own end is the caller's.
    fn read(&mut self, event: Event, line: usize) {
        match event {
            Event::Start(Tag::TableHead | Tag::TableRow) => {
                self.row.clear();
                self.row_line = line;
            }
            Event::Start(Tag::TableCell) => self.cell = Some(String::new()),
            Event::End(TagEnd::TableCell) => {
                let cell = self.cell.take().unwrap_or_default();
                self.row.push(cell.trim().to_string());
            }
            Event::Text(t) | Event::Code(t) => {
                if let Some(cell) = &mut self.cell {
                    cell.push_str(&t);
                }
            }
            Event::SoftBreak | Event::HardBreak => {
                if let Some(cell) = &mut self.cell {
                    cell.push(' ');
                }
            }
            Event::End(TagEnd::TableHead) => self.table.set_columns(std::mem::take(&mut self.row)),
            Event::End(TagEnd::TableRow) => {
                let row = Row::new(self.row_line, std::mem::take(&mut self.row));
                self.table.push_row(row);
            }
            _ => {}
        }
    }
}

/// What the parser is in the middle of.
enum Open {
    Nothing,
    Heading(OpenHeading),
    Table(OpenTable),
}

/// The sections of one document as its markdown events arrive: a heading opens a section, a
/// table joins the section it sits in. Only headings and tables matter; the prose between
/// them is kept as the text the sections' spans point into.
struct Outline<'a> {
    path: &'a str,
    text: &'a str,
    lines: LineIndex,
    sections: Vec<Section>,
    open: Open,
}

impl<'a> Outline<'a> {
    fn new(path: &'a str, text: &'a str) -> Self {
        Self {
            path,
            text,
            lines: LineIndex::new(text),
            sections: Vec::new(),
            open: Open::Nothing,
        }
    }

    fn error(&self, line: usize, message: impl Into<String>) -> KnowledgeError {
        KnowledgeError::new(self.path, line, message)
    }

    /// Reads one markdown event, with the byte range it covers.
    fn read(&mut self, event: Event, range: Range<usize>) -> Result<(), KnowledgeError> {
        let line = self.lines.line(range.start);
        match &mut self.open {
            Open::Nothing => match event {
                Event::Start(Tag::Heading { level, .. }) => {
                    self.open = Open::Heading(OpenHeading {
                        level: heading_level(level),
                        line,
                        start: range.start,
                        text: String::new(),
                    });
                }
                Event::Start(Tag::Table(_)) => {
                    if self.sections.is_empty() {
                        return Err(self.error(line, "a table must come after a heading"));
                    }
                    self.open = Open::Table(OpenTable {
                        table: Table::new(line),
                        row: Vec::new(),
                        row_line: 0,
                        cell: None,
                    });
                }
                _ => {}
            },
            Open::Heading(heading) => match event {
                Event::Text(t) | Event::Code(t) => heading.text.push_str(&t),
                Event::End(TagEnd::Heading(_)) => {
                    if let Open::Heading(heading) = std::mem::replace(&mut self.open, Open::Nothing)
                    {
                        self.open_section(heading)?;
                    }
                }
                _ => {}
            },
            Open::Table(table) => match event {
                Event::End(TagEnd::Table) => {
                    if let Open::Table(open) = std::mem::replace(&mut self.open, Open::Nothing)
                        && let Some(section) = self.sections.last_mut()
                    {
                        section.tables.push(open.table);
                    }
                }
                event => table.read(event, line),
            },
        }
        Ok(())
    }

    /// A heading read whole becomes a section, once its anchor is known to be usable and free.
    fn open_section(&mut self, heading: OpenHeading) -> Result<(), KnowledgeError> {
        let title = heading.text.trim().to_string();
        let anchor = anchor(&title);
        if anchor.is_empty() {
            return Err(self.error(heading.line, "a heading must contain a letter or digit"));
        }
        if let Some(previous) = self.sections.iter().find(|s| s.anchor == anchor) {
            return Err(self.error(
                heading.line,
                format!(
                    "the anchor `{anchor}` is already used by the heading on line {}; anchors must be unique",
                    previous.line
                ),
            ));
        }
        self.sections.push(Section {
            anchor,
            heading: title,
            level: heading.level,
            line: heading.line,
            span: heading.start..self.text.len(),
            tables: Vec::new(),
        });
        Ok(())
    }

    /// The sections, each ending where the next heading of the same or a higher level starts.
    fn finish(mut self) -> Vec<Section> {
        for i in 0..self.sections.len() {
            let level = self.sections[i].level;
            if let Some(next) = self.sections[i + 1..].iter().find(|s| s.level <= level) {
                self.sections[i].span.end = next.span.start;
            }
        }
        self.sections
    }
}

/// The document's title: its one level-1 heading, which must open the document.
fn title(sections: &[Section], path: &str, text: &str) -> Result<String, KnowledgeError> {
    let title = match sections.first() {
        Some(first) if first.level == 1 && first.line == first_content_line(text) => {
            first.heading.clone()
        }
        _ => {
            return Err(KnowledgeError::new(
                path,
                1,
                "a document must start with its title as a level-1 heading (`# Title`)",
            ));
        }
    };
    if let Some(second) = sections.iter().skip(1).find(|s| s.level == 1) {
        return Err(KnowledgeError::new(
            path,
            second.line,
            "a document has one level-1 heading, its title; use `##` for sections",
        ));
    }
    Ok(title)
}

impl Document {
    /// Parses `text`, the document with this `slug`, read from `path` (used in errors).
    pub fn parse(slug: &str, path: &str, text: &str) -> Result<Self, KnowledgeError> {
        let mut outline = Outline::new(path, text);
        for (event, range) in Parser::new_ext(text, Options::ENABLE_TABLES).into_offset_iter() {
            outline.read(event, range)?;
        }
        let sections = outline.finish();
        let title = title(&sections, path, text)?;
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

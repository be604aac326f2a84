//! The knowledge base of scale-advisor: markdown documents that hold the thresholds, tables and
//! decision rules the tools apply. This crate knows nothing of MCP or of the tools; it turns
//! markdown into [`Document`]s made of [`Section`]s and [`Table`]s, and offers the small
//! [`Condition`] language that rule tables are written in and the [`Formula`] language that
//! calculator tables are written in.
//!
//! The documents are data, not code: a team changes a threshold by editing one markdown file,
//! and every rule a tool applies can name the `knowledge://slug#anchor` it came from.

mod condition;
mod document;
mod error;
mod formula;
mod names;
mod table;
mod thresholds;

pub use condition::{Clause, Comparison, Condition, Facts, Vocabulary, cited_findings};
pub use document::{Document, Section, anchor};
pub use error::KnowledgeError;
pub use formula::{Expression, FUNCTIONS, Formula, MissingValue};
pub use names::{closest, resembling};
pub use table::{Row, RowRef, Table, TableRef};
pub use thresholds::{LITERAL_PLACEHOLDERS, THRESHOLDS_TABLE, grouped, readable};

use std::path::Path;

/// The documents compiled into the binary, in the order they are listed to clients: one list
/// of slugs, from which both the required slugs and the embedded texts are made.
macro_rules! documents {
    (required: [$($slug:literal),* $(,)?], extra: [$($extra:literal),* $(,)?] $(,)?) => {
        /// The slugs every knowledge base must hold, in the order they are listed to clients.
        pub const REQUIRED_SLUGS: &[&str] = &[$($slug),*];

        /// The documents compiled into the binary, so the advisor needs no files to run: the
        /// required ones, then the extra documents a tool reads.
        const EMBEDDED: &[(&str, &str)] = &[
            $(($slug, include_str!(concat!("../docs/", $slug, ".md"))),)*
            $(($extra, include_str!(concat!("../docs/", $extra, ".md"))),)*
        ];
    };
}

documents!(
    required: [
        "scaling-stages",
        "datastores",
        "caching",
        "queues",
        "consistency",
        "failure-modes",
        "sharding",
        "migrations",
        "capacity-planning",
        "monitoring",
        "load-balancing",
        "pipelines",
        "report-template",
    ],
    // `growth-models`, for `forecast_growth`; `observation`, how the live sources are read.
    extra: ["growth-models", "observation"],
);

/// The URI scheme of every knowledge resource.
pub const URI_SCHEME: &str = "knowledge://";

/// A parsed knowledge base: the required documents first (in [`REQUIRED_SLUGS`] order), then
/// any extra documents a user supplied, by slug.
#[derive(Debug, Clone)]
pub struct Knowledge {
    documents: Vec<Document>,
}

/// What a `knowledge://` URI points at: a whole document or one of its sections.
#[derive(Debug, Clone, Copy)]
pub struct Resolved<'a> {
    pub document: &'a Document,
    pub section: Option<&'a Section>,
}

impl Resolved<'_> {
    /// The markdown the URI names: the whole document, or the section from its heading up to
    /// the next heading of the same or a higher level.
    pub fn markdown(&self) -> &str {
        match self.section {
            Some(section) => &self.document.text()[section.span()],
            None => self.document.text(),
        }
    }
}

impl Knowledge {
    /// The knowledge base compiled into the binary.
    pub fn embedded() -> Result<Self, KnowledgeError> {
        Self::as_written()?.write_thresholds()
    }

    /// The embedded documents as written, placeholders and all.
    fn as_written() -> Result<Self, KnowledgeError> {
        let documents = EMBEDDED
            .iter()
            .map(|(slug, text)| {
                Document::parse(slug, &format!("knowledge/docs/{slug}.md"), text)
                    .map(Document::mark_embedded)
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self { documents })
    }

    /// Replaces every `{{finding.level}}` placeholder in the documents' prose with the number
    /// of that finding's condition cell (see `thresholds`), so a threshold is written once.
    fn write_thresholds(mut self) -> Result<Self, KnowledgeError> {
        if !self.documents.iter().any(|d| d.text().contains("{{")) {
            return Ok(self);
        }
        let thresholds = thresholds::Thresholds::read(&self.documents);
        for document in &mut self.documents {
            if document.text().contains("{{") {
                let text = thresholds::write(thresholds.as_ref(), document)?;
                let written = Document::parse(document.slug(), document.path(), &text)?;
                // Written prose keeps where the document came from, for errors that blame.
                *document = if document.is_embedded() {
                    written.mark_embedded()
                } else {
                    written
                };
            }
        }
        Ok(self)
    }

    /// The embedded knowledge base with every `*.md` file of `dir` laid over it: a file whose
    /// name is a required slug replaces that document, any other adds one.
    pub fn with_dir(dir: &Path) -> Result<Self, KnowledgeError> {
        // Placeholders are written after the overlay, so that an embedded document states the
        // thresholds of the directory's `monitoring.md`.
        let mut knowledge = Self::as_written()?;
        let display = dir.display().to_string();
        let entries = std::fs::read_dir(dir).map_err(|e| {
            KnowledgeError::new(&display, 0, format!("cannot read the directory: {e}"))
        })?;
        let mut files = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|e| {
                KnowledgeError::new(&display, 0, format!("cannot list the directory: {e}"))
            })?;
            let path = entry.path();
            if path.extension().and_then(|e| e.to_str()) == Some("md") && path.is_file() {
                files.push(path);
            }
        }
        if files.is_empty() {
            return Err(KnowledgeError::new(
                &display,
                0,
                "holds no .md knowledge documents",
            ));
        }
        files.sort();
        for path in files {
            let shown = path.display().to_string();
            let slug = path
                .file_stem()
                .and_then(|s| s.to_str())
                .unwrap_or_default();
            if !is_slug(slug) {
                return Err(KnowledgeError::new(
                    &shown,
                    0,
                    "the file name must be a slug: lower-case letters, digits and hyphens, then .md",
                ));
            }
            let text = std::fs::read_to_string(&path).map_err(|e| {
                KnowledgeError::new(&shown, 0, format!("cannot read the file: {e}"))
            })?;
            let document = Document::parse(slug, &shown, &text)?;
            match knowledge.documents.iter_mut().find(|d| d.slug() == slug) {
                Some(existing) => *existing = document,
                None => knowledge.documents.push(document),
            }
        }
        let extras = REQUIRED_SLUGS.len();
        knowledge.documents[extras..].sort_by(|a, b| a.slug().cmp(b.slug()));
        knowledge.write_thresholds()
    }

    /// Every document, required ones first.
    pub fn documents(&self) -> &[Document] {
        &self.documents
    }

    /// The document with this slug.
    pub fn document(&self, slug: &str) -> Option<&Document> {
        self.documents.iter().find(|d| d.slug() == slug)
    }

    /// Resolves `knowledge://slug` or `knowledge://slug#anchor`.
    pub fn resolve(&self, uri: &str) -> Option<Resolved<'_>> {
        let rest = uri.strip_prefix(URI_SCHEME)?;
        let (slug, anchor) = match rest.split_once('#') {
            Some((slug, anchor)) => (slug, Some(anchor)),
            None => (rest, None),
        };
        let document = self.document(slug)?;
        let section = match anchor {
            Some(anchor) => Some(document.section(anchor)?),
            None => None,
        };
        Some(Resolved { document, section })
    }

    /// The first table under `slug#anchor`, or an error naming what is missing and where.
    pub fn table(&self, slug: &str, anchor: &str) -> Result<TableRef<'_>, KnowledgeError> {
        let document = self.document(slug).ok_or_else(|| {
            KnowledgeError::new(&format!("{slug}.md"), 0, "the required document is missing")
        })?;
        let section = document.section(anchor).ok_or_else(|| {
            let (line, hint) = closest_heading(document, anchor);
            KnowledgeError::new(
                document.path(),
                line,
                format!(
                    "the required section `{anchor}` is missing (a heading whose anchor is \
                     `{anchor}`): the tools read their `{slug}#{anchor}` table from it \
                     (knowledge/TABLES.md lists which){hint}"
                ),
            )
        })?;
        let table = section.tables().first().ok_or_else(|| {
            KnowledgeError::new(
                document.path(),
                section.line(),
                format!("the section `{anchor}` must hold a table"),
            )
        })?;
        Ok(TableRef::new(document, section, table))
    }

    /// The `slug#anchor` references of a `see`-like cell as `knowledge://` URIs, each checked
    /// to resolve; a dangling one is an error, reported as [`broken_reference`] says.
    pub fn references(
        &self,
        row: &RowRef<'_>,
        column: &str,
    ) -> Result<Vec<String>, KnowledgeError> {
        row.list(column)?
            .into_iter()
            .map(|reference| {
                if self.check_reference(&reference) {
                    Ok(format!("{URI_SCHEME}{reference}"))
                } else {
                    Err(self.dangling_section(row, column, &reference))
                }
            })
            .collect()
    }

    /// Checks that `slug#anchor` (or a bare slug) names a document section that exists.
    pub fn check_reference(&self, reference: &str) -> bool {
        self.resolve(&format!("{URI_SCHEME}{reference}")).is_some()
    }

    /// The `knowledge://` URI of the section `reference` (`slug#anchor`) that a tool cites
    /// on its own (not through a table cell), or an error in the file that should hold it,
    /// naming `needed_by` (the tool, and what it cites the section for).
    pub fn section_uri(&self, reference: &str, needed_by: &str) -> Result<String, KnowledgeError> {
        if self.check_reference(reference) {
            return Ok(format!("{URI_SCHEME}{reference}"));
        }
        let (slug, anchor) = reference.split_once('#').unwrap_or((reference, ""));
        let Some(document) = self.document(slug) else {
            return Err(KnowledgeError::new(
                &format!("{slug}.md"),
                0,
                format!("the required document `{slug}` is missing; {needed_by} needs it"),
            ));
        };
        let (line, hint) = closest_heading(document, anchor);
        Err(KnowledgeError::new(
            document.path(),
            line,
            format!(
                "the section `{anchor}` is missing (a heading whose anchor is `{anchor}`); \
                 {needed_by} cites it as `{reference}`{hint}"
            ),
        ))
    }

    /// The error for a `slug#anchor` reference in `row` that names no section.
    fn dangling_section(&self, row: &RowRef<'_>, column: &str, reference: &str) -> KnowledgeError {
        let (slug, anchor) = reference.split_once('#').unwrap_or((reference, ""));
        match self.document(slug) {
            Some(target) if !anchor.is_empty() => {
                let (line, hint) = closest_heading(target, anchor);
                broken_reference(
                    row,
                    column,
                    reference,
                    Some((target, line)),
                    &format!("the section `{anchor}` (a heading whose anchor is `{anchor}`)"),
                    &hint,
                )
            }
            _ => broken_reference(
                row,
                column,
                reference,
                None,
                &format!("the document `{slug}`"),
                "",
            ),
        }
    }
}

/// The error for a reference that `row` holds in `column` to something that does not exist:
/// `missing` (a phrase: "the section `x`", "the finding `y`"), which `target` should hold
/// (with the line where the problem shows best, 0 for the whole file).
///
/// Who is told to fix it depends on who wrote what. A `--knowledge-dir` file laid over an
/// embedded document can break a reference that another embedded document holds (a
/// `scaling-stages.md` without the sections that `monitoring.md` cites): the user never
/// touched the embedded document, so the error names the user's file, what it lacks and which
/// document needed it. Any other broken reference is the referring row's to fix.
pub fn broken_reference(
    row: &RowRef<'_>,
    column: &str,
    reference: &str,
    target: Option<(&Document, usize)>,
    missing: &str,
    hint: &str,
) -> KnowledgeError {
    let referrer = row.document();
    match target {
        Some((target, line)) if referrer.is_embedded() && !target.is_embedded() => {
            KnowledgeError::new(
                target.path(),
                line,
                format!(
                    "{missing} is missing, and the built-in document {}:{} needs it: \
                     its `{column}` cell in `{}` names `{reference}`{hint}. Add it back, or \
                     lay your own `{}.md` over the built-in one too",
                    referrer.path(),
                    row.line(),
                    row.uri().trim_start_matches(URI_SCHEME),
                    referrer.slug()
                ),
            )
        }
        Some((target, _)) => row.error(format!(
            "`{column}` names `{reference}`, but {missing} is missing from {}{hint}",
            target.path()
        )),
        None => row.error(format!(
            "`{column}` names `{reference}`, but {missing} does not exist{hint}"
        )),
    }
}

/// The line of the heading closest to `anchor` and a hint naming it, or line 0 (the whole
/// file) and no hint when no heading is close.
fn closest_heading(document: &Document, anchor: &str) -> (usize, String) {
    let anchors = document.sections().iter().skip(1).map(Section::anchor);
    match resembling(anchor, anchors).and_then(|near| document.section(near)) {
        Some(section) => (
            section.line(),
            format!(
                " (the closest heading is `{}` on line {}, anchor `{}`)",
                section.heading(),
                section.line(),
                section.anchor()
            ),
        ),
        None => (0, String::new()),
    }
}

fn is_slug(text: &str) -> bool {
    !text.is_empty()
        && text
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_documents_parse() {
        let knowledge = Knowledge::embedded().unwrap();
        let slugs: Vec<&str> = knowledge.documents().iter().map(Document::slug).collect();
        let embedded: Vec<&str> = EMBEDDED.iter().map(|(slug, _)| *slug).collect();
        // The required documents first, in their order, then the embedded extras.
        assert_eq!(&slugs[..REQUIRED_SLUGS.len()], REQUIRED_SLUGS);
        assert_eq!(slugs, embedded);
        for document in knowledge.documents() {
            assert!(!document.title().is_empty());
            assert!(
                !document.summary().is_empty(),
                "{} has no summary paragraph",
                document.slug()
            );
        }
    }

    #[test]
    fn every_reference_in_the_coverage_map_resolves() {
        let knowledge = Knowledge::embedded().unwrap();
        let map = include_str!("../README.md");
        let mut checked = 0;
        for word in map.split(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '#')) {
            if let Some((slug, anchor)) = word.split_once('#')
                && REQUIRED_SLUGS.contains(&slug)
            {
                assert!(
                    knowledge.check_reference(word),
                    "README.md names `{slug}#{anchor}`, which does not exist"
                );
                checked += 1;
            }
        }
        assert!(checked > 100, "only {checked} references found");
    }

    #[test]
    fn resolve_whole_documents_and_sections() {
        let knowledge = Knowledge::embedded().unwrap();
        let whole = knowledge.resolve("knowledge://caching").unwrap();
        assert!(whole.markdown().starts_with("# "));
        let section = knowledge
            .resolve("knowledge://caching#write-strategies")
            .unwrap();
        assert!(section.markdown().starts_with("## Write strategies"));
        assert!(knowledge.resolve("knowledge://caching#nope").is_none());
        assert!(knowledge.resolve("knowledge://nope").is_none());
        assert!(knowledge.resolve("https://caching").is_none());
    }

    #[test]
    fn tables_report_missing_sections_with_the_file() {
        let knowledge = Knowledge::embedded().unwrap();
        let error = knowledge.table("caching", "no-such-section").unwrap_err();
        assert_eq!(error.path, "knowledge/docs/caching.md");
        assert!(error.message.contains("no-such-section"));
        let table = knowledge.table("scaling-stages", "stages").unwrap();
        let error = table.require_columns(&["stage", "colour"]).unwrap_err();
        assert!(
            error.message.contains("colour") && error.line > 0,
            "{error}"
        );
        let row = table.rows().next().unwrap();
        let error = row.number("name").unwrap_err();
        assert!(error.message.contains("must be a number"), "{error}");
        assert_eq!(error.line, row.line());
    }

    /// The knowledge base with a `--knowledge-dir` holding the embedded document `slug`, its
    /// text `from` (which it must contain) replaced by `to`.
    fn edited(slug: &str, from: &str, to: &str) -> Knowledge {
        let (_, text) = EMBEDDED.iter().find(|(s, _)| *s == slug).unwrap();
        assert!(text.contains(from), "{slug} lacks {from}");
        let dir = std::env::temp_dir().join(format!("knowledge-{slug}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(format!("{slug}.md")), text.replace(from, to)).unwrap();
        let knowledge = Knowledge::with_dir(&dir);
        std::fs::remove_dir_all(&dir).unwrap();
        knowledge.unwrap()
    }

    #[test]
    fn a_threshold_changed_in_its_cell_changes_every_sentence_that_states_it() {
        let embedded = Knowledge::embedded().unwrap();
        let stating = |knowledge: &Knowledge, words: &str| -> Vec<String> {
            knowledge
                .documents()
                .iter()
                .filter(|d| d.text().contains(words))
                .map(|d| d.slug().to_string())
                .collect()
        };
        for document in embedded.documents() {
            let mut text = document.text().to_string();
            for literal in LITERAL_PLACEHOLDERS {
                text = text.replace(&format!("{{{{{literal}}}}}"), "");
            }
            assert!(
                !text.contains("{{"),
                "{} keeps a placeholder",
                document.slug()
            );
        }
        assert_eq!(stating(&embedded, "CPU above 60%"), ["scaling-stages"]);

        let knowledge = edited("monitoring", "`db_cpu_pct > 60`", "`db_cpu_pct > 65`");
        // The embedded scaling-stages states the directory's threshold, and no document states
        // the old one.
        assert_eq!(stating(&knowledge, "CPU above 65%"), ["scaling-stages"]);
        assert!(stating(&knowledge, "Database CPU is above 65%").contains(&"monitoring".into()));
        // (growth-models' worked example starts from a CPU *at* 60%, a value, not the threshold.)
        for old in [
            "CPU above 60%",
            "CPU is above 60%",
            "CPU passes\n  60%",
            "60% database CPU",
        ] {
            assert_eq!(stating(&embedded, old).len(), 1, "{old}");
            assert!(
                stating(&knowledge, old).is_empty(),
                "{old}: {:?}",
                stating(&knowledge, old)
            );
        }
    }

    #[test]
    fn a_user_count_changed_in_its_trigger_changes_the_reason_beside_it() {
        let reasons = |knowledge: &Knowledge| -> Vec<String> {
            let table = knowledge
                .table("scaling-stages", "graduation-triggers")
                .unwrap();
            table
                .rows()
                .filter(|row| row.text("when").unwrap().starts_with("users"))
                .map(|row| row.text("reason").unwrap().to_string())
                .collect()
        };
        let embedded = Knowledge::embedded().unwrap();
        assert!(
            reasons(&embedded).contains(
                &"1,000,000 users is the usual ceiling of one primary with replicas".into()
            ),
            "{:?}",
            reasons(&embedded)
        );
        let reasons = reasons(&edited(
            "scaling-stages",
            "`users >= 1000000`",
            "`users >= 2500000`",
        ));
        assert!(
            reasons.contains(
                &"2,500,000 users is the usual ceiling of one primary with replicas".into()
            ),
            "{reasons:?}"
        );
        assert!(
            !reasons.iter().any(|r| r.contains("1,000,000 ")),
            "{reasons:?}"
        );
    }

    #[test]
    fn a_directory_replaces_and_extends_and_refuses_bad_names() {
        let dir = std::env::temp_dir().join(format!("knowledge-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("caching.md"), "# Our caching\n\nRedis only.\n").unwrap();
        std::fs::write(dir.join("runbook.md"), "# Runbook\n\nPage someone.\n").unwrap();
        let knowledge = Knowledge::with_dir(&dir).unwrap();
        assert_eq!(
            knowledge.document("caching").unwrap().title(),
            "Our caching"
        );
        assert_eq!(knowledge.documents().last().unwrap().slug(), "runbook");
        std::fs::write(dir.join("Bad Name.md"), "# x\n").unwrap();
        let error = Knowledge::with_dir(&dir).unwrap_err();
        assert!(
            error.path.ends_with("Bad Name.md") && error.message.contains("slug"),
            "{error}"
        );
        std::fs::remove_file(dir.join("Bad Name.md")).unwrap();
        std::fs::write(dir.join("broken.md"), "no title here\n").unwrap();
        let error = Knowledge::with_dir(&dir).unwrap_err();
        assert!(
            error.path.ends_with("broken.md") && error.line == 1,
            "{error}"
        );
        std::fs::remove_dir_all(&dir).unwrap();
        assert!(Knowledge::with_dir(&dir).is_err());
    }
}

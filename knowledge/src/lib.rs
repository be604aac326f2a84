//! The knowledge base of scale-advisor: markdown documents that hold the thresholds, tables and
//! decision rules the tools apply. This crate knows nothing of MCP or of the tools; it turns
//! markdown into [`Document`]s made of [`Section`]s and [`Table`]s, and offers the small
//! [`Condition`] language that rule tables are written in.
//!
//! The documents are data, not code: a team changes a threshold by editing one markdown file,
//! and every rule a tool applies can name the `knowledge://slug#anchor` it came from.

mod condition;
mod document;
mod error;
mod names;
mod table;

pub use condition::{Clause, Comparison, Condition, Facts, Vocabulary};
pub use document::{Document, Section, anchor};
pub use error::KnowledgeError;
pub use names::closest;
pub use table::{Row, RowRef, Table, TableRef};

use std::path::Path;

/// The documents compiled into the binary, in the order they are listed to clients: one list
/// of slugs, from which both the required slugs and the embedded texts are made.
macro_rules! documents {
    ($($slug:literal),* $(,)?) => {
        /// The slugs every knowledge base must hold, in the order they are listed to clients.
        pub const REQUIRED_SLUGS: &[&str] = &[$($slug),*];

        /// The documents compiled into the binary, so the advisor needs no files to run.
        const EMBEDDED: &[(&str, &str)] = &[$(($slug, include_str!(concat!("../docs/", $slug, ".md")))),*];
    };
}

documents!(
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
        let documents = EMBEDDED
            .iter()
            .map(|(slug, text)| Document::parse(slug, &format!("knowledge/docs/{slug}.md"), text))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self { documents })
    }

    /// The embedded knowledge base with every `*.md` file of `dir` laid over it: a file whose
    /// name is a required slug replaces that document, any other adds one.
    pub fn with_dir(dir: &Path) -> Result<Self, KnowledgeError> {
        let mut knowledge = Self::embedded()?;
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
        Ok(knowledge)
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
            KnowledgeError::new(
                document.path(),
                0,
                format!("the required section `{anchor}` is missing (a heading whose anchor is `{anchor}`)"),
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
    /// to resolve; a dangling one is an error at the row.
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
                    Err(row.error(format!(
                        "`{column}` names `{reference}`, which is no document section"
                    )))
                }
            })
            .collect()
    }

    /// Checks that `slug#anchor` (or a bare slug) names a document section that exists.
    pub fn check_reference(&self, reference: &str) -> bool {
        self.resolve(&format!("{URI_SCHEME}{reference}")).is_some()
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
        assert_eq!(slugs, REQUIRED_SLUGS);
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

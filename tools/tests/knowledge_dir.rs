//! A `--knowledge-dir` file that breaks a cross-reference is reported as a problem of that
//! file: its path and line, what is missing, and which document needed it. One test per kind
//! of reference: a `see` cell of a built-in document, a `finding` clause of a built-in
//! document, a section a tool cites on its own, a table a tool reads, and the user's own
//! `see` cells (which stay the user's row to fix).

use std::path::{Path, PathBuf};

use knowledge::{Knowledge, KnowledgeError};
use tools::Advisor;

/// A fresh folder for one test's files, removed when dropped.
struct Folder(PathBuf);

impl Folder {
    fn new(name: &str) -> Self {
        let path =
            std::env::temp_dir().join(format!("scale-advisor-kd-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).unwrap();
        Self(path)
    }

    /// Writes `slug.md` and returns its path as the loader shows it.
    fn write(&self, slug: &str, text: &str) -> String {
        let path = self.0.join(format!("{slug}.md"));
        std::fs::write(&path, text).unwrap();
        path.display().to_string()
    }

    fn load(&self) -> Result<Advisor, KnowledgeError> {
        Advisor::new(Knowledge::with_dir(&self.0)?)
    }

    fn error(&self) -> KnowledgeError {
        match self.load() {
            Ok(_) => panic!("the knowledge in {} loaded", self.0.display()),
            Err(error) => error,
        }
    }
}

impl Drop for Folder {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn embedded(slug: &str) -> String {
    Knowledge::embedded()
        .unwrap()
        .document(slug)
        .unwrap()
        .text()
        .to_string()
}

/// The text with the heading on `line` (1-based) renamed, so its anchor no longer matches.
fn rename_heading(text: &str, line: usize) -> String {
    text.lines()
        .enumerate()
        .map(|(i, l)| {
            if i + 1 == line {
                format!("{l} renamed\n")
            } else {
                format!("{l}\n")
            }
        })
        .collect()
}

/// The sections a tool reads a table from, from `knowledge/TABLES.md` (`slug#anchor`).
fn tool_tables() -> Vec<String> {
    let tables = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../knowledge/TABLES.md"),
    )
    .unwrap();
    let listed: Vec<String> = tables
        .lines()
        .filter_map(|l| l.strip_prefix("| `"))
        .filter_map(|l| l.split('`').next())
        .map(str::to_string)
        .collect();
    assert!(listed.len() > 30, "TABLES.md lists {} tables", listed.len());
    listed
}

/// Every `see` reference that one built-in document holds to a section of another:
/// (referring slug, row line, referenced slug, anchor).
fn cross_document_references() -> Vec<(String, usize, String, String)> {
    let knowledge = Knowledge::embedded().unwrap();
    let mut found = Vec::new();
    for document in knowledge.documents() {
        for section in document.sections() {
            for table in section.tables() {
                let Some(column) = table.columns().iter().position(|c| c == "see") else {
                    continue;
                };
                for row in table.rows() {
                    let cell = row.cells().get(column).map_or("", String::as_str);
                    for reference in cell.split(';').map(str::trim) {
                        if let Some((slug, anchor)) = reference.split_once('#')
                            && slug != document.slug()
                        {
                            found.push((
                                document.slug().to_string(),
                                row.line(),
                                slug.to_string(),
                                anchor.to_string(),
                            ));
                        }
                    }
                }
            }
        }
    }
    found
}

#[test]
fn a_users_file_without_a_section_a_built_in_see_cell_cites_is_blamed() {
    let references = cross_document_references();
    assert!(
        references.len() > 40,
        "only {} cross-document references",
        references.len()
    );
    let tool_tables = tool_tables();
    let knowledge = Knowledge::embedded().unwrap();
    let mut targets: Vec<(String, String)> = references
        .iter()
        .map(|(_, _, slug, anchor)| (slug.clone(), anchor.clone()))
        .collect();
    targets.sort();
    targets.dedup();
    let mut blamed_on_the_referrer = 0;
    for (slug, anchor) in &targets {
        let folder = Folder::new("see");
        let section = knowledge.document(slug).unwrap().section(anchor).unwrap();
        let path = folder.write(slug, &rename_heading(&embedded(slug), section.line()));
        let error = folder.error();
        assert_eq!(error.path, path, "{slug}#{anchor}: {error}");
        assert!(error.message.contains(anchor), "{slug}#{anchor}: {error}");
        let written = std::fs::read_to_string(&path).unwrap();
        let shown = written
            .lines()
            .nth(error.line.saturating_sub(1))
            .unwrap_or("");
        if shown.starts_with('|') {
            // The user's copy holds a row of its own that cites the section: that row is
            // theirs to fix, and the error points at it.
            continue;
        }
        // Otherwise the error points at the heading closest to what is missing (usually the
        // renamed one; a shorter heading that starts the same way can be closer).
        assert!(shown.starts_with('#'), "{slug}#{anchor}: {error}");
        if tool_tables.contains(&format!("{slug}#{anchor}"))
            && error.message.contains("required section")
        {
            // A tool read its table before any `see` cell cited the section.
            continue;
        }
        assert!(
            error.message.contains("built-in document knowledge/docs/")
                && error.message.contains("needs it")
                && error.message.contains(&format!("`{slug}#{anchor}`")),
            "{slug}#{anchor}: {error}"
        );
        blamed_on_the_referrer += 1;
    }
    assert!(blamed_on_the_referrer > 20, "{blamed_on_the_referrer}");
}

#[test]
fn the_issue_example_names_the_users_scaling_stages_and_monitoring() {
    // A `scaling-stages.md` without the section `monitoring.md` cites for lagging replicas.
    let folder = Folder::new("issue");
    let text = embedded("scaling-stages");
    let line = text
        .lines()
        .position(|l| l.ends_with("# Replication lag and read-your-writes"))
        .expect("the section exists")
        + 1;
    let path = folder.write("scaling-stages", &rename_heading(&text, line));
    let error = folder.error();
    let shown = error.to_string();
    assert!(
        shown.starts_with(&format!("{path}:{line}: ")),
        "names the user's file and line: {shown}"
    );
    assert!(
        shown.contains("replication-lag-and-read-your-writes")
            && shown.contains("knowledge/docs/monitoring.md:"),
        "names what is missing and which document needed it: {shown}"
    );
}

#[test]
fn a_users_monitoring_without_a_finding_a_graduation_trigger_names_is_blamed() {
    let knowledge = Knowledge::embedded().unwrap();
    let triggers = knowledge
        .table("scaling-stages", "graduation-triggers")
        .unwrap();
    let mut cited = Vec::new();
    for row in triggers.rows() {
        cited.extend(
            knowledge::cited_findings(row.text("when").unwrap())
                .into_iter()
                .map(str::to_string),
        );
    }
    assert!(cited.len() >= 4, "{cited:?}");
    let monitoring = embedded("monitoring");
    let findings_line = knowledge
        .table("monitoring", "diagnostic-findings")
        .unwrap()
        .rows()
        .next()
        .unwrap()
        .line()
        - 2;
    for id in &cited {
        let folder = Folder::new("finding");
        // The team renamed the finding in both of its tables.
        let renamed = monitoring.replace(&format!("| {id} |"), &format!("| our_{id} |"));
        assert_ne!(renamed, monitoring, "{id} is a row of monitoring.md");
        let path = folder.write("monitoring", &renamed);
        let error = folder.error();
        assert_eq!(
            (error.path.as_str(), error.line),
            (path.as_str(), findings_line),
            "{error}"
        );
        assert!(
            error.message.contains(&format!("the finding `{id}`"))
                && error
                    .message
                    .contains("built-in document knowledge/docs/scaling-stages.md:")
                && error.message.contains(&format!("our_{id}")),
            "{error}"
        );
    }
}

#[test]
fn a_section_a_tool_cites_on_its_own_is_asked_of_the_users_file() {
    for (slug, heading, tool) in [
        ("consistency", "## Quorums", "pick_consistency_model"),
        ("sharding", "### The ring", "plan_migration"),
    ] {
        let folder = Folder::new("tool-section");
        let text = embedded(slug);
        let line = text
            .lines()
            .position(|l| l.trim_end() == heading)
            .unwrap_or_else(|| panic!("{slug}.md has `{heading}`"))
            + 1;
        let path = folder.write(slug, &rename_heading(&text, line));
        let error = folder.error();
        assert_eq!((error.path.as_str(), error.line), (path.as_str(), line));
        assert!(
            error.message.contains(&format!("`{tool}`")) && error.message.contains("is missing"),
            "{error}"
        );
    }
}

#[test]
fn a_table_a_tool_reads_is_asked_of_the_users_file_with_the_closest_heading() {
    let folder = Folder::new("table");
    let text = embedded("scaling-stages");
    let line = text.lines().position(|l| l == "## Stages").unwrap() + 1;
    let path = folder.write("scaling-stages", &rename_heading(&text, line));
    let error = folder.error();
    assert_eq!((error.path.as_str(), error.line), (path.as_str(), line));
    assert!(
        error.message.contains("`scaling-stages#stages`")
            && error.message.contains("TABLES.md")
            && error.message.contains("Stages renamed"),
        "{error}"
    );
}

#[test]
fn the_users_own_see_cell_stays_the_users_row_to_fix() {
    let monitoring = embedded("monitoring");
    let row = monitoring
        .lines()
        .position(|l| l.starts_with("| high_latency | Trace slow requests"))
        .unwrap()
        + 1;
    for (broken, expected) in [
        (
            "caching#write-strategies",
            "caching#write-strategys",
            "missing from knowledge/docs/caching.md (the closest heading is `Write strategies`",
        ),
        (
            "caching#write-strategies",
            "runbook#paging",
            "the document `runbook` does not exist",
        ),
    ]
    .map(|(from, to, expected)| (monitoring.replacen(from, to, 1), expected))
    {
        let folder = Folder::new("own-see");
        let path = folder.write("monitoring", &broken);
        let error = folder.error();
        assert_eq!((error.path.as_str(), error.line), (path.as_str(), row));
        assert!(error.message.contains(expected), "{error}");
    }
}

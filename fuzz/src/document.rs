//! The `knowledge_document` target: arbitrary text goes through `Document::parse`. A refusal
//! must point at a line of the text; an accepted document must hand out sections, spans,
//! anchors, tables, cells and conditions without panicking, and a condition must read back the
//! same after being written out.

use std::sync::atomic::{AtomicUsize, Ordering};

use knowledge::{Condition, Document, Knowledge, Vocabulary, anchor};
use serde_json::{Map, Value};

const SLUG: &str = "fuzz-doc";

/// Runs one fuzz input. Panics exactly when the parser or an accessor breaks a promise.
pub fn check(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let last_line = text.lines().count() + 1;
    // Condition cells are plain text too: every line of the input is one.
    let vocabulary = Vocabulary {
        numbers: vec!["db_cpu_pct".into(), "users".into()],
        flags: vec!["needs_acid".into(), "multi_region".into()],
        words: vec![("cloud".into(), vec!["aws".into(), "gcp".into()])],
        findings: vec!["high_latency".into()],
    };
    for line in text.lines().take(64) {
        exercise_condition(line, &vocabulary);
    }
    let document = match Document::parse(SLUG, "fuzz.md", text) {
        Ok(document) => document,
        Err(error) => {
            assert!(!error.message.is_empty(), "a refusal without a reason");
            assert!(
                (1..=last_line).contains(&error.line),
                "a refusal at line {} of {last_line}: {error}",
                error.line
            );
            return;
        }
    };
    assert!(
        !document.title().trim().is_empty(),
        "an accepted document without a title"
    );
    let _ = document.summary();
    for section in document.sections() {
        let span = section.span();
        assert!(
            span.start <= span.end && span.end <= text.len(),
            "section span {span:?} outside the text"
        );
        let _ = &document.text()[span];
        assert_eq!(
            section.anchor(),
            anchor(section.heading()),
            "anchor of {:?}",
            section.heading()
        );
        let found = document.section(section.anchor()).map(|s| s.line());
        assert_eq!(
            found,
            Some(section.line()),
            "section `{}` not found by its anchor",
            section.anchor()
        );
        assert!((1..=last_line).contains(&section.line()));
    }
    // Cells are read through a knowledge base, as the tools read them. Building one around the
    // document costs a millisecond (it parses the embedded documents too), so only one input in
    // eight, chosen by its content and so reproducible, goes through the cell accessors.
    let chosen = data
        .iter()
        .fold(0u8, |sum, &b| sum.wrapping_add(b))
        .is_multiple_of(8);
    if chosen && document.sections().iter().any(|s| !s.tables().is_empty()) {
        exercise_tables(text, &document);
    }
}

fn exercise_condition(text: &str, vocabulary: &Vocabulary) {
    let Ok(condition) = Condition::parse(text, vocabulary) else {
        return;
    };
    let facts: Map<String, Value> = serde_json::from_str(
        r#"{"db_cpu_pct": 61, "users": 5e300, "needs_acid": true, "cloud": "aws"}"#,
    )
    .unwrap_or_default();
    let _ = condition.holds(&facts);
    let _ = condition.evidence(&facts);
    let _ = condition.is_otherwise();
    let _ = condition.clauses().count();
    let written = condition.to_string();
    match Condition::parse(&written, vocabulary) {
        Ok(again) => assert!(
            again == condition,
            "`{text}` reads back from `{written}` as {again:?}, not {condition:?}"
        ),
        Err(error) => {
            panic!("`{text}` was accepted, but its written form `{written}` is refused: {error}")
        }
    }
}

/// Words a rule table can use as names without being read as the condition language's own.
fn usable_name(word: &str) -> bool {
    !word.is_empty()
        && !matches!(
            word,
            "and" | "or" | "otherwise" | "finding" | "=" | ">" | ">=" | "<" | "<="
        )
        && !word.chars().any(char::is_whitespace)
}

fn exercise_tables(text: &str, document: &Document) {
    static RUN: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!(
        "scale-advisor-fuzz-{}-{}",
        std::process::id(),
        RUN.fetch_add(1, Ordering::Relaxed)
    ));
    if std::fs::create_dir_all(&dir).is_err()
        || std::fs::write(dir.join(format!("{SLUG}.md")), text).is_err()
    {
        return;
    }
    let knowledge = Knowledge::with_dir(&dir);
    let _ = std::fs::remove_dir_all(&dir);
    let knowledge = match knowledge {
        Ok(knowledge) => knowledge,
        Err(error) => panic!("parsed alone, refused in a knowledge directory: {error}"),
    };
    let last_line = text.lines().count() + 1;
    for section in document
        .sections()
        .iter()
        .filter(|s| !s.tables().is_empty())
    {
        let uri = format!("{}{SLUG}#{}", knowledge::URI_SCHEME, section.anchor());
        let resolved = knowledge
            .resolve(&uri)
            .unwrap_or_else(|| panic!("{uri} does not resolve"));
        let _ = resolved.markdown();
        let table = match knowledge.table(SLUG, section.anchor()) {
            Ok(table) => table,
            Err(error) => panic!("{uri} holds a table, but it cannot be read: {error}"),
        };
        let raw = &section.tables()[0];
        let columns: Vec<&str> = raw.columns().iter().map(String::as_str).collect();
        let _ = table.require_columns(&columns);
        let _ = table.require_rows();
        let _ = table.uri();
        let mut numbers: Vec<String> = columns
            .iter()
            .filter(|c| usable_name(c))
            .map(|c| c.to_string())
            .collect();
        numbers.dedup();
        let first_cells: Vec<String> = raw
            .rows()
            .iter()
            .filter_map(|r| r.cells().first())
            .filter(|c| usable_name(c))
            .cloned()
            .collect();
        let vocabulary = Vocabulary {
            flags: first_cells
                .iter()
                .filter(|c| !numbers.contains(c))
                .cloned()
                .collect(),
            words: vec![("kind".into(), first_cells.clone())],
            findings: document
                .sections()
                .iter()
                .map(|s| s.anchor().to_string())
                .collect(),
            numbers,
        };
        for row in table.rows() {
            assert!(
                (1..=last_line).contains(&row.line()),
                "row at line {} of {last_line}",
                row.line()
            );
            for column in columns.iter().chain(["no_such_column"].iter()) {
                let located = |result: Result<(), knowledge::KnowledgeError>| {
                    if let Err(error) = result {
                        assert!(
                            (1..=last_line).contains(&error.line),
                            "an error at line {}: {error}",
                            error.line
                        );
                    }
                };
                located(row.text(column).map(drop));
                located(row.required(column).map(drop));
                located(row.optional(column).map(drop));
                located(
                    row.number(column)
                        .map(|n| assert!(n.is_finite(), "cell read as {n}")),
                );
                located(row.optional_number(column).map(drop));
                located(row.integer(column).map(drop));
                located(row.list(column).map(drop));
                located(row.one_of(column, &["a", "b"]).map(drop));
                located(row.optional_condition(column, &vocabulary).map(drop));
                if let Ok(cell) = row.text(column) {
                    exercise_condition(cell, &vocabulary);
                }
            }
        }
    }
}

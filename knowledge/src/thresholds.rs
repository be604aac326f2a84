//! A threshold lives in one cell. Prose that states a finding's threshold ("Database CPU is
//! above 60%") writes it as a placeholder, `{{db_cpu_saturation.warning}}`, which the knowledge
//! base replaces at load with the number written in that finding's condition in
//! `monitoring#diagnostic-findings`. Changing `db_cpu_pct > 60` to 65 there changes every
//! sentence that states it, in every document, including the embedded ones a `--knowledge-dir`
//! does not replace.
//!
//! A placeholder is `{{finding.level}}` or, when the condition compares several numbers,
//! `{{finding.level.field}}`; `level` is `warning` (the `warning_when` cell) or `critical` (the
//! `critical_when` cell). It stands for the number exactly as the cell writes it.
//!
//! Inside a table row, `{{column}}` (one word, a column of that table) stands for the one number
//! that the row's own cell in that column compares: a `reason` that says "{{when}} users is the
//! usual ceiling" beside `users >= 1000000` follows that cell when it changes.

use crate::table::Row;
use crate::{Document, KnowledgeError, closest, resembling};

/// Where the thresholds are written.
pub const THRESHOLDS_TABLE: (&str, &str) = ("monitoring", "diagnostic-findings");

/// The columns a placeholder's `level` names.
const LEVELS: [(&str, &str); 2] = [("warning", "warning_when"), ("critical", "critical_when")];

/// One number of a condition cell: the field compared and the number as written.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Threshold {
    field: String,
    number: String,
}

/// The thresholds of one finding at one level.
#[derive(Debug, Clone)]
struct Cell {
    finding: String,
    level: &'static str,
    thresholds: Vec<Threshold>,
    /// The row, for an error about the cell itself.
    path: String,
    line: usize,
}

/// Why a placeholder could not be written: the placeholder is wrong (reported where it
/// stands), or the cell it names is (reported at the cell).
enum Refusal {
    Placeholder(String),
    Cell(KnowledgeError),
}

/// Every threshold of the findings table, read once.
pub(crate) struct Thresholds {
    cells: Vec<Cell>,
    uri: String,
    /// The document and line of the table, and whether it is built in: a built-in document's
    /// placeholder that a user's table breaks is reported at the user's table.
    path: String,
    line: usize,
    embedded: bool,
}

/// The `field op number` triples of a condition, read without a vocabulary: the tool that
/// applies the condition checks its names; this only needs the numbers (a word where the
/// number should be is kept, and refused where a placeholder uses it).
fn numbers_of(condition: &str) -> Vec<Threshold> {
    let words: Vec<&str> = condition.split_whitespace().collect();
    words
        .windows(3)
        .filter(|w| matches!(w[1], ">" | ">=" | "<" | "<="))
        .map(|w| Threshold {
            field: w[0].to_string(),
            number: w[2].to_string(),
        })
        .collect()
}

impl Thresholds {
    /// Reads the findings table from `documents`; `None` when there is none (then a
    /// placeholder is an error where it stands).
    pub(crate) fn read(documents: &[Document]) -> Option<Self> {
        let (slug, anchor) = THRESHOLDS_TABLE;
        let document = documents.iter().find(|d| d.slug() == slug)?;
        let section = document.section(anchor)?;
        let table = section.tables().first()?;
        let line = table.line();
        let table = crate::TableRef::new(document, section, table);
        let mut cells = Vec::new();
        for row in table.rows() {
            let finding = row.text("id").ok()?;
            for (level, column) in LEVELS {
                if let Ok(condition) = row.text(column) {
                    cells.push(Cell {
                        finding: finding.to_string(),
                        level,
                        thresholds: numbers_of(condition),
                        path: document.path().to_string(),
                        line: row.line(),
                    });
                }
            }
        }
        Some(Self {
            cells,
            uri: format!("{slug}#{anchor}"),
            path: document.path().to_string(),
            line,
            embedded: document.is_embedded(),
        })
    }

    /// The number a placeholder's inside (`finding.level` or `finding.level.field`) names; a
    /// cell whose number is malformed is reported at the cell, where it must be fixed.
    fn resolve(&self, inside: &str, from: &Document, line: usize) -> Result<&str, Refusal> {
        let finding = inside.split('.').next().unwrap_or(inside).trim();
        if from.is_embedded() && !self.embedded && !self.cells.iter().any(|c| c.finding == finding)
        {
            let hint = resembling(finding, self.cells.iter().map(|c| c.finding.as_str()))
                .map(|near| format!(" (the closest id there is `{near}`)"))
                .unwrap_or_default();
            return Err(Refusal::Cell(KnowledgeError::new(
                &self.path,
                self.line,
                format!(
                    "the finding `{finding}` (a row of the `{}` table) is missing, and the built-in \
                     document {}:{line} needs it: it states that finding's threshold as \
                     `{{{{{inside}}}}}`{hint}. Add it back, or lay your own `{}.md` over the \
                     built-in one too",
                    THRESHOLDS_TABLE.1,
                    from.path(),
                    from.slug()
                ),
            )));
        }
        let (cell, number) = self.find(inside).map_err(Refusal::Placeholder)?;
        if crate::table::parse_number(number).is_some() {
            return Ok(number);
        }
        let column = LEVELS
            .iter()
            .find(|(level, _)| *level == cell.level)
            .map_or("warning_when", |(_, column)| column);
        Err(Refusal::Cell(KnowledgeError::new(
            &cell.path,
            cell.line,
            format!(
                "in `{column}` of `{}`: the threshold must be a number, found `{number}`",
                cell.finding
            ),
        )))
    }

    fn find(&self, inside: &str) -> Result<(&Cell, &str), String> {
        let parts: Vec<&str> = inside.split('.').map(str::trim).collect();
        let (finding, level, field) = match parts.as_slice() {
            [finding, level] => (*finding, *level, None),
            [finding, level, field] => (*finding, *level, Some(*field)),
            _ => {
                return Err(format!(
                    "`{{{{{inside}}}}}` is no placeholder: write `{{{{finding.warning}}}}`, `{{{{finding.critical}}}}` or `{{{{finding.warning.field}}}}`"
                ));
            }
        };
        if !self.cells.iter().any(|c| c.finding == finding) {
            let mut ids: Vec<&str> = self.cells.iter().map(|c| c.finding.as_str()).collect();
            ids.dedup();
            let hint = closest(finding, ids.iter().copied())
                .map(|n| format!("; did you mean `{n}`?"))
                .unwrap_or_default();
            return Err(format!(
                "`{{{{{inside}}}}}` names `{finding}`, which is no finding of {}{hint}",
                self.uri
            ));
        }
        let Some(cell) = self
            .cells
            .iter()
            .find(|c| c.finding == finding && c.level == level)
        else {
            return Err(format!(
                "`{{{{{inside}}}}}`: the level must be `warning` or `critical`, found `{level}`"
            ));
        };
        let fields = || {
            cell.thresholds
                .iter()
                .map(|t| t.field.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        };
        match (field, cell.thresholds.as_slice()) {
            (_, []) => Err(format!(
                "`{{{{{inside}}}}}`: the {level} condition of `{finding}` in {} compares no number",
                self.uri
            )),
            (None, [only]) => Ok((cell, &only.number)),
            (None, _) => Err(format!(
                "`{{{{{inside}}}}}`: the {level} condition of `{finding}` compares several numbers; name one: `{{{{{finding}.{level}.field}}}}` with field one of {}",
                fields()
            )),
            (Some(field), thresholds) => thresholds
                .iter()
                .find(|t| t.field == field)
                .map(|t| (cell, t.number.as_str()))
                .ok_or_else(|| {
                    format!(
                        "`{{{{{inside}}}}}`: the {level} condition of `{finding}` compares no `{field}` (it compares {})",
                        fields()
                    )
                }),
        }
    }
}

/// Placeholders that are not numbers of the knowledge base but slots a reader fills at run
/// time, kept as written: `{{selector}}`, the label matchers of `observation#prometheus-queries`
/// (contract §8).
pub const LITERAL_PLACEHOLDERS: &[&str] = &["selector"];

/// The text of `document` with every placeholder replaced by its number; an error names the
/// file and line.
pub(crate) fn write(
    thresholds: Option<&Thresholds>,
    document: &Document,
) -> Result<String, KnowledgeError> {
    let (path, text) = (document.path(), document.text());
    let mut out = String::with_capacity(text.len());
    for (index, line) in text.split_inclusive('\n').enumerate() {
        let at = |message: String| KnowledgeError::new(path, index + 1, message);
        let mut rest = line;
        while let Some(start) = rest.find("{{") {
            // PromQL writes a selector's braces around a placeholder (`metric{{{selector}}}`):
            // a brace before the pair is text.
            if rest[start + 2..].starts_with('{') {
                out.push_str(&rest[..=start]);
                rest = &rest[start + 1..];
                continue;
            }
            out.push_str(&rest[..start]);
            let after = &rest[start + 2..];
            let end = after.find("}}").ok_or_else(|| {
                at("a placeholder opened with `{{` is not closed with `}}` on its line".into())
            })?;
            let inside = &after[..end];
            if LITERAL_PLACEHOLDERS.contains(&inside) {
                out.push_str(&rest[start..start + 2 + end + 2]);
                rest = &after[end + 2..];
                continue;
            }
            if !inside.contains('.') {
                out.push_str(&row_number(inside, row_at(document, index + 1)).map_err(at)?);
                rest = &after[end + 2..];
                continue;
            }
            let thresholds = thresholds.ok_or_else(|| {
                let (slug, anchor) = THRESHOLDS_TABLE;
                at(format!(
                    "`{{{{{inside}}}}}` needs the table {slug}#{anchor}, which the knowledge base lacks"
                ))
            })?;
            let number = thresholds
                .resolve(inside, document, index + 1)
                .map_err(|refusal| match refusal {
                    Refusal::Placeholder(message) => at(message),
                    Refusal::Cell(error) => error,
                })?;
            out.push_str(&readable(number));
            rest = &after[end + 2..];
        }
        out.push_str(rest);
    }
    Ok(out)
}

/// A whole number with thousands separators: `2,000,000`.
pub fn grouped(number: u64) -> String {
    let digits = number.to_string();
    let mut text = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            text.push(',');
        }
        text.push(digit);
    }
    text
}

/// A number for prose: a whole number of four digits or more with thousands separators
/// (`1000` reads `1,000`, as the tools' answers write every number, `tools::numbers`);
/// anything else as written. The placeholders write their numbers through it.
pub fn readable(number: &str) -> String {
    match number.parse::<u64>() {
        Ok(whole) if number.len() >= 4 && number.bytes().all(|b| b.is_ascii_digit()) => {
            grouped(whole)
        }
        _ => number.to_string(),
    }
}

/// The table row that stands on `line` of `document`, with its table's columns.
fn row_at(document: &Document, line: usize) -> Option<(&[String], &Row)> {
    document
        .sections()
        .iter()
        .flat_map(|section| section.tables())
        .find_map(|table| {
            let row = table.rows().iter().find(|row| row.line() == line)?;
            Some((table.columns(), row))
        })
}

/// The number that `row`'s own cell in `column` compares, for a `{{column}}` placeholder.
fn row_number(column: &str, row: Option<(&[String], &Row)>) -> Result<String, String> {
    let column = column.trim();
    let (columns, row) = row.ok_or_else(|| {
        format!(
            "`{{{{{column}}}}}` is no placeholder here: outside a table row write \
             `{{{{finding.warning}}}}`, `{{{{finding.critical}}}}` or `{{{{finding.warning.field}}}}`"
        )
    })?;
    let index = columns
        .iter()
        .position(|name| name == column)
        .ok_or_else(|| {
            format!(
                "`{{{{{column}}}}}` names no column of this table (its columns: {})",
                columns.join(", ")
            )
        })?;
    let cell = row.cells().get(index).map_or("", String::as_str);
    match numbers_of(cell).as_slice() {
        [only] if crate::table::parse_number(&only.number).is_some() => Ok(readable(&only.number)),
        numbers => Err(format!(
            "`{{{{{column}}}}}` stands for the one number this row's `{column}` cell compares, \
             and `{cell}` compares {}",
            if numbers.is_empty() {
                "none".to_string()
            } else {
                numbers
                    .iter()
                    .map(|t| t.number.as_str())
                    .collect::<Vec<_>>()
                    .join(" and ")
            }
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn prose(text: &str) -> Document {
        Document::parse("prose", "x.md", &format!("# Prose\n\n{text}")).unwrap()
    }

    fn documents(findings: &str) -> Vec<Document> {
        let text = format!(
            "# Monitoring\n\nSummary.\n\n## Diagnostic findings\n\n| id | warning_when | critical_when |\n|---|---|---|\n{findings}"
        );
        vec![Document::parse("monitoring", "monitoring.md", &text).unwrap()]
    }

    #[test]
    fn groups_thousands() {
        assert_eq!(grouped(0), "0");
        assert_eq!(grouped(999), "999");
        assert_eq!(grouped(1000), "1,000");
        assert_eq!(grouped(2_000_000), "2,000,000");
        assert_eq!(readable("999"), "999");
        assert_eq!(readable("1000"), "1,000");
        assert_eq!(readable("10000"), "10,000");
        assert_eq!(readable("0.1"), "0.1");
        assert_eq!(readable("12345.5"), "12345.5");
    }

    #[test]
    fn placeholders_take_the_number_as_written_with_separators_from_four_digits() {
        let docs = documents(
            "| db_cpu_saturation | `db_cpu_pct > 60` | `db_cpu_pct > 85` |\n| db_read_pressure | `db_read_load_pct > 70 or read_pct > 80` | |\n| replication_lag | `replication_lag_ms > 1000` | `replication_lag_ms > 10000` |\n| high_error_rate | `error_rate_pct > 0.1` | |\n",
        );
        let thresholds = Thresholds::read(&docs).unwrap();
        let text = "CPU above {{db_cpu_saturation.warning}}%, critical above {{db_cpu_saturation.critical}}%.\nReads over {{db_read_pressure.warning.read_pct}}%.\nLag {{replication_lag.warning}} ms, {{replication_lag.critical}} ms; errors {{high_error_rate.warning}}%.\n";
        assert_eq!(
            write(Some(&thresholds), &prose(text)).unwrap(),
            "# Prose\n\nCPU above 60%, critical above 85%.\nReads over 80%.\nLag 1,000 ms, 10,000 ms; errors 0.1%.\n"
        );
    }

    #[test]
    fn bad_placeholders_are_refused_with_the_line() {
        let docs = documents(
            "| db_cpu_saturation | `db_cpu_pct > 60` | |\n| db_read_pressure | `db_read_load_pct > 70 or read_pct > 80` | |\n",
        );
        let thresholds = Thresholds::read(&docs).unwrap();
        let error = |text: &str| write(Some(&thresholds), &prose(text)).unwrap_err();
        let e = error("fine\n{{db_cpu_saturaton.warning}}\n");
        assert_eq!(
            e.line, 4,
            "the line in the file, after the title and a blank line"
        );
        assert!(
            e.message.contains("did you mean `db_cpu_saturation`"),
            "{e}"
        );
        assert!(
            error("{{db_cpu_saturation.critical}}")
                .message
                .contains("compares no number")
        );
        assert!(
            error("{{db_cpu_saturation.high}}")
                .message
                .contains("`warning` or `critical`")
        );
        assert!(
            error("{{db_read_pressure.warning}}")
                .message
                .contains("db_read_load_pct, read_pct")
        );
        assert!(
            error("{{db_read_pressure.warning.cpu}}")
                .message
                .contains("compares no `cpu`")
        );
        assert!(
            error("{{db_cpu_saturation.warning")
                .message
                .contains("not closed")
        );
        assert!(error("{{x}}").message.contains("no placeholder"));
        assert!(
            write(None, &prose("{{a.warning}}"))
                .unwrap_err()
                .message
                .contains("lacks")
        );
        assert_eq!(
            write(None, &prose("no braces\n")).unwrap(),
            "# Prose\n\nno braces\n"
        );
        let docs = documents("| db_cpu_saturation | `db_cpu_pct > sixty` | |\n");
        let thresholds = Thresholds::read(&docs).unwrap();
        let e = write(Some(&thresholds), &prose("{{db_cpu_saturation.warning}}")).unwrap_err();
        assert_eq!((e.path.as_str(), e.line), ("monitoring.md", 9));
        assert!(e.message.contains("found `sixty`"), "{e}");
    }

    #[test]
    fn a_row_placeholder_takes_the_number_of_its_own_rows_cell() {
        let table = "| when | reason |\n|---|---|\n| `users >= 10000` | {{when}} users is a lot |\n| `users >= 2000000` | past {{when}} users |\n";
        assert_eq!(
            write(None, &prose(table)).unwrap(),
            "# Prose\n\n| when | reason |\n|---|---|\n| `users >= 10000` | 10,000 users is a lot |\n| `users >= 2000000` | past 2,000,000 users |\n"
        );
        let error = |text: &str| write(None, &prose(text)).unwrap_err();
        let e =
            error("| when | reason |\n|---|---|\n| `users >= 1 and regions > 2` | {{when}} |\n");
        assert_eq!(e.line, 5);
        assert!(e.message.contains("compares 1 and 2"), "{e}");
        let e = error("| when | reason |\n|---|---|\n| `has_cache` | {{when}} |\n");
        assert!(e.message.contains("compares none"), "{e}");
        let e = error("| when | reason |\n|---|---|\n| `users >= 1` | {{why}} |\n");
        assert!(
            e.message
                .contains("no column of this table (its columns: when, reason)"),
            "{e}"
        );
        // Outside a table, or after it, a one-word placeholder names nothing.
        let e = error("| when |\n|---|\n| `users >= 1` |\n\nafter {{when}}\n");
        assert!(e.message.contains("outside a table row"), "{e}");
    }
}

//! Data tables: a pipe table whose header cells are `snake_case` column names. Tools read cells
//! by column name through [`RowRef`], whose accessors turn a malformed cell into an error that
//! names the file, the line and the column.

use crate::condition::cited_findings;
use crate::{
    Condition, Document, Formula, KnowledgeError, Section, URI_SCHEME, Vocabulary, resembling,
};

/// A table as written: its header and rows of trimmed cell text.
#[derive(Debug, Clone)]
pub struct Table {
    line: usize,
    columns: Vec<String>,
    rows: Vec<Row>,
}

/// One body row of a table.
#[derive(Debug, Clone)]
pub struct Row {
    line: usize,
    cells: Vec<String>,
}

impl Row {
    pub(crate) fn new(line: usize, cells: Vec<String>) -> Self {
        Self { line, cells }
    }
    pub fn line(&self) -> usize {
        self.line
    }
    pub fn cells(&self) -> &[String] {
        &self.cells
    }
}

impl Table {
    pub(crate) fn new(line: usize) -> Self {
        Self {
            line,
            columns: Vec::new(),
            rows: Vec::new(),
        }
    }
    pub(crate) fn set_columns(&mut self, columns: Vec<String>) {
        self.columns = columns;
    }
    pub(crate) fn push_row(&mut self, row: Row) {
        self.rows.push(row);
    }
    pub fn line(&self) -> usize {
        self.line
    }
    pub fn columns(&self) -> &[String] {
        &self.columns
    }
    pub fn rows(&self) -> &[Row] {
        &self.rows
    }
}

/// A table together with where it lives, so that every value read from it can be traced back.
#[derive(Debug, Clone, Copy)]
pub struct TableRef<'a> {
    document: &'a Document,
    section: &'a Section,
    table: &'a Table,
}

impl<'a> TableRef<'a> {
    pub(crate) fn new(document: &'a Document, section: &'a Section, table: &'a Table) -> Self {
        Self {
            document,
            section,
            table,
        }
    }

    /// `knowledge://slug#anchor` of the section holding the table.
    pub fn uri(&self) -> String {
        format!(
            "{URI_SCHEME}{}#{}",
            self.document.slug(),
            self.section.anchor()
        )
    }

    pub fn document(&self) -> &'a Document {
        self.document
    }

    /// The section holding the table.
    pub fn section(&self) -> &'a Section {
        self.section
    }

    /// An error located at the table's header line.
    pub fn error(&self, message: impl Into<String>) -> KnowledgeError {
        KnowledgeError::new(self.document.path(), self.table.line(), message)
    }

    /// Checks that every named column exists, so a missing column is reported once, at the
    /// header, rather than at each row.
    pub fn require_columns(&self, names: &[&str]) -> Result<(), KnowledgeError> {
        for name in names {
            if !self.table.columns.iter().any(|c| c == name) {
                return Err(self.error(format!(
                    "the table in `{}` needs a column `{name}` (it has: {})",
                    self.section.anchor(),
                    self.table.columns.join(", ")
                )));
            }
        }
        Ok(())
    }

    /// The rows, each able to read its cells by column name.
    pub fn rows(&self) -> impl Iterator<Item = RowRef<'a>> + 'a {
        let table = *self;
        self.table.rows.iter().map(move |row| RowRef { table, row })
    }

    /// Checks that the table has at least one row.
    pub fn require_rows(&self) -> Result<(), KnowledgeError> {
        if self.table.rows.is_empty() {
            return Err(self.error(format!(
                "the table in `{}` has no rows",
                self.section.anchor()
            )));
        }
        Ok(())
    }
}

/// One row of a located table.
#[derive(Debug, Clone, Copy)]
pub struct RowRef<'a> {
    table: TableRef<'a>,
    row: &'a Row,
}

impl<'a> RowRef<'a> {
    pub fn line(&self) -> usize {
        self.row.line
    }

    /// The URI of the section the row sits in.
    pub fn uri(&self) -> String {
        self.table.uri()
    }

    /// The document the row sits in.
    pub fn document(&self) -> &'a Document {
        self.table.document
    }

    /// The table the row sits in.
    pub fn table(&self) -> TableRef<'a> {
        self.table
    }

    /// An error located at this row.
    pub fn error(&self, message: impl Into<String>) -> KnowledgeError {
        KnowledgeError::new(self.table.document.path(), self.row.line, message)
    }

    /// The cell of `column`, as written (possibly empty).
    pub fn text(&self, column: &str) -> Result<&'a str, KnowledgeError> {
        let index = self
            .table
            .table
            .columns
            .iter()
            .position(|c| c == column)
            .ok_or_else(|| self.table.require_columns(&[column]).unwrap_err())?;
        Ok(self.row.cells.get(index).map_or("", String::as_str))
    }

    /// The cell of `column`, which must not be empty.
    pub fn required(&self, column: &str) -> Result<&'a str, KnowledgeError> {
        let text = self.text(column)?;
        if text.is_empty() {
            return Err(self.error(format!("the `{column}` cell must not be empty")));
        }
        Ok(text)
    }

    /// The cell of `column`, or `None` when it is empty.
    pub fn optional(&self, column: &str) -> Result<Option<&'a str>, KnowledgeError> {
        self.text(column).map(|t| (!t.is_empty()).then_some(t))
    }

    /// The cell of `column` as a finite number.
    pub fn number(&self, column: &str) -> Result<f64, KnowledgeError> {
        let text = self.required(column)?;
        parse_number(text).ok_or_else(|| {
            self.error(format!(
                "the `{column}` cell must be a number (like 70 or 0.2), found `{text}`"
            ))
        })
    }

    /// The cell of `column` as a number, or `None` when empty.
    pub fn optional_number(&self, column: &str) -> Result<Option<f64>, KnowledgeError> {
        match self.optional(column)? {
            None => Ok(None),
            Some(_) => self.number(column).map(Some),
        }
    }

    /// The cell of `column` as a whole number.
    pub fn integer(&self, column: &str) -> Result<u64, KnowledgeError> {
        let text = self.required(column)?;
        text.parse::<u64>().map_err(|_| {
            self.error(format!(
                "the `{column}` cell must be a whole number, found `{text}`"
            ))
        })
    }

    /// The cell of `column` split on `;`, trimmed, empty items dropped.
    pub fn list(&self, column: &str) -> Result<Vec<String>, KnowledgeError> {
        Ok(split_list(self.text(column)?))
    }

    /// The cell of `column` parsed as a [`Condition`] over `vocabulary`.
    pub fn condition(
        &self,
        column: &str,
        vocabulary: &Vocabulary,
    ) -> Result<Condition, KnowledgeError> {
        let text = self.required(column)?;
        Condition::parse(text, vocabulary)
            .map_err(|reason| self.error(format!("in `{column}`: {reason}")))
    }

    /// [`RowRef::condition`] for a cell whose `finding` clauses name rows of `findings` (the
    /// table the vocabulary's finding ids were read from). A finding the cell names that the
    /// table lacks is reported as [`crate::broken_reference`] says: in a user's file laid over
    /// the findings' document, that file is at fault, not the row that cites it.
    pub fn condition_citing(
        &self,
        column: &str,
        vocabulary: &Vocabulary,
        findings: &TableRef<'_>,
    ) -> Result<Condition, KnowledgeError> {
        let text = self.required(column)?;
        let known = vocabulary.findings.iter().map(String::as_str);
        if let Some(id) = cited_findings(text)
            .into_iter()
            .find(|id| !vocabulary.findings.iter().any(|f| f == id))
            && self.table.document.is_embedded()
            && !findings.document.is_embedded()
        {
            let hint = resembling(id, known)
                .map(|near| format!(" (the closest id there is `{near}`)"))
                .unwrap_or_default();
            return Err(crate::broken_reference(
                self,
                column,
                &format!("finding {id}"),
                Some((findings.document, findings.table.line())),
                &format!(
                    "the finding `{id}` (a row of the `{}` table)",
                    findings.section.anchor()
                ),
                &hint,
            ));
        }
        self.condition(column, vocabulary)
    }

    /// The cell of `column` parsed as a [`Formula`] (`quantity = expression`) whose
    /// expression may name the quantities `known`; a refusal names the file, the line and why.
    pub fn formula(&self, column: &str, known: &[&str]) -> Result<Formula, KnowledgeError> {
        let text = self.required(column)?;
        Formula::parse(text, known).map_err(|reason| self.error(format!("in `{column}`: {reason}")))
    }

    /// The cell of `column` as a condition, or `None` when empty.
    pub fn optional_condition(
        &self,
        column: &str,
        vocabulary: &Vocabulary,
    ) -> Result<Option<Condition>, KnowledgeError> {
        match self.optional(column)? {
            None => Ok(None),
            Some(_) => self.condition(column, vocabulary).map(Some),
        }
    }

    /// The cell of `column`, which must be one of `allowed`.
    pub fn one_of(
        &self,
        column: &str,
        allowed: &[&'static str],
    ) -> Result<&'static str, KnowledgeError> {
        let text = self.required(column)?;
        allowed.iter().copied().find(|a| *a == text).ok_or_else(|| {
            self.error(format!(
                "the `{column}` cell must be one of {}, found `{text}`",
                allowed.join(", ")
            ))
        })
    }
}

/// Splits a `;`-separated cell.
pub(crate) fn split_list(text: &str) -> Vec<String> {
    text.split(';')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

pub(crate) fn parse_number(text: &str) -> Option<f64> {
    let valid = !text.is_empty()
        && text
            .bytes()
            .all(|b| b.is_ascii_digit() || b == b'.' || b == b'-')
        && text.bytes().any(|b| b.is_ascii_digit());
    valid
        .then(|| text.parse::<f64>().ok())
        .flatten()
        .filter(|n| n.is_finite())
}

//! The one error of this crate: something in a knowledge document is not as the tools need it.

/// A problem in a knowledge document, located by file and line so that its author can fix it.
/// Line 0 means the whole file (shown as `path: message`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{path}{}: {message}", line_suffix(*line))]
pub struct KnowledgeError {
    pub path: String,
    pub line: usize,
    pub message: String,
}

impl KnowledgeError {
    pub fn new(path: &str, line: usize, message: impl Into<String>) -> Self {
        Self {
            path: path.to_string(),
            line,
            message: message.into(),
        }
    }
}

fn line_suffix(line: usize) -> String {
    if line == 0 {
        String::new()
    } else {
        format!(":{line}")
    }
}

//! Reads Redis's `INFO` (the only command sent) into the advisor's vocabulary (contract §7–§8).
//!
//! Placeholder signature shared by the branches that build the reader and wire it: the reader
//! itself replaces this body.

use crate::{Connection, Limits, SourceKind, SourceReport, SourceUrl, Status};

/// Reads the source at `url` within `limits`; a failure is a connection status, never a panic.
pub async fn read(url: &SourceUrl, limits: Limits) -> SourceReport {
    let _ = limits;
    SourceReport {
        connection: Connection {
            source: SourceKind::Redis,
            url: url.masked(),
            status: Status::Error,
            detail: "this build cannot read this source yet".to_string(),
        },
        readings: Vec::new(),
    }
}

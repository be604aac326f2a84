//! What both transports and the handler share about the protocol itself: the revisions served,
//! the methods implemented, and how much of a client's text an error message repeats. A leaf:
//! it depends on no other module of the server.

use std::borrow::Cow;

use rmcp::model::ProtocolVersion;

/// Methods this server implements; a request for one of them whose params do not fit is
/// answered with "invalid params", any other unknown method with "method not found".
pub(crate) const KNOWN_METHODS: [&str; 15] = [
    "initialize",
    "ping",
    "server/discover",
    "tools/list",
    "tools/call",
    "resources/list",
    "resources/read",
    "resources/templates/list",
    "prompts/list",
    "prompts/get",
    "logging/setLevel",
    "completion/complete",
    "skills/list",
    "skills/get",
    "resources/directory/read",
];

/// The protocol revisions served: every one from 2025-06-18 on.
pub(crate) fn supported_versions() -> Vec<ProtocolVersion> {
    ProtocolVersion::KNOWN_VERSIONS
        .iter()
        .filter(|v| v.as_str() >= ProtocolVersion::V_2025_06_18.as_str())
        .cloned()
        .collect()
}

/// `text` cut to at most `limit` bytes at a character boundary, marked when cut.
pub(crate) fn clip(text: &str, limit: usize) -> Cow<'_, str> {
    if text.len() <= limit {
        return text.into();
    }
    let cut = (0..=limit)
        .rev()
        .find(|&i| text.is_char_boundary(i))
        .unwrap_or(0);
    format!("{}… ({} bytes)", &text[..cut], text.len()).into()
}

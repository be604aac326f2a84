//! The report page: one self-contained HTML view of a `scaling_report` or `forecast_growth`
//! result. MCP hosts that implement MCP Apps (the `io.modelcontextprotocol/ui` extension,
//! SEP-1865) read it as the resource `ui://scale-advisor/report.html` and hand it the tool
//! result; `scale-advisor call … --html FILE` writes the same file with the result embedded.

use rmcp::model::{
    ExtensionCapabilities, JsonObject, MetaObject, Resource, ResourceContents, ServerCapabilities,
    Tool,
};
use serde_json::{Value, json};

/// The extension's identifier, the key of its capability.
pub const EXTENSION_ID: &str = "io.modelcontextprotocol/ui";
/// The resource the two tools link to.
pub const URI: &str = "ui://scale-advisor/report.html";
/// The only content type the extension defines for a view.
pub const MIME_TYPE: &str = "text/html;profile=mcp-app";
/// The tools whose results the page draws.
pub const TOOLS: [&str; 2] = ["scaling_report", "forecast_growth"];

const HTML: &str = include_str!("ui/report.html");
/// Where a written page carries its result. The served view keeps `null` there and waits for
/// the host's `ui/notifications/tool-result` instead.
const SLOT: &str = r#"<script type="application/json" id="embedded-result">null</script>"#;

/// Whether `tool` has the page.
pub fn draws(tool: &str) -> bool {
    TOOLS.contains(&tool)
}

/// Links a tool that has the page to it (`_meta.ui.resourceUri`); other tools pass unchanged.
pub fn link(tool: Tool) -> Tool {
    if !draws(&tool.name) {
        return tool;
    }
    let mut meta = tool
        .meta
        .clone()
        .unwrap_or_else(|| MetaObject(JsonObject::new()));
    meta.0.insert(
        "ui".into(),
        // No `visibility`: its default is both the model and the app.
        json!({ "resourceUri": URI }),
    );
    tool.with_meta(meta)
}

/// Declares the extension among the server's capabilities.
pub fn declare(capabilities: &mut ServerCapabilities) {
    let mut settings = JsonObject::new();
    settings.insert("mimeTypes".into(), json!([MIME_TYPE]));
    capabilities
        .extensions
        .get_or_insert_with(ExtensionCapabilities::new)
        .insert(EXTENSION_ID.into(), settings);
}

/// The page as `resources/list` shows it.
pub fn resource() -> Resource {
    Resource::new(URI, "report-page")
        .with_title("scale-advisor report page")
        .with_description(
            "An MCP Apps view of a scaling_report or forecast_growth result: the target architecture as a diagram, the findings by severity, each resource by month against its thresholds.",
        )
        .with_mime_type(MIME_TYPE)
        .with_size(HTML.len() as u64)
}

/// The page as `resources/read` returns it. It asks for nothing outside itself: an empty CSP
/// declaration keeps the host's most restrictive default.
pub fn contents() -> ResourceContents {
    let mut meta = JsonObject::new();
    meta.insert("ui".into(), json!({ "csp": {}, "prefersBorder": true }));
    ResourceContents::text(HTML, URI)
        .with_mime_type(MIME_TYPE)
        .with_meta(MetaObject(meta))
}

/// The page with a result embedded, in the form `tools/call` returns it (`structuredContent`
/// and the markdown as a text block), so that the page reads it as it would the host's
/// notification.
pub fn with_result(structured: &Value, markdown: &str) -> String {
    let result = json!({
        "content": [{ "type": "text", "text": markdown }],
        "structuredContent": structured,
        "isError": false,
    });
    // JSON inside a <script> element: `<` written as \u003c can neither close the element nor
    // open a comment; the others keep the text inert for any HTML reader.
    let embedded = result
        .to_string()
        .replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026");
    HTML.replacen(SLOT, &SLOT.replace(">null<", &format!(">{embedded}<")), 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_has_one_result_slot_and_a_strict_policy() {
        assert_eq!(HTML.matches(SLOT).count(), 1);
        assert!(HTML.contains("Content-Security-Policy"));
        assert!(HTML.contains("default-src 'none'"));
        for outside in ["http://", "https://", "src=\"//"] {
            let found: Vec<&str> = HTML
                .lines()
                .filter(|l| l.contains(outside) && !l.contains("http://www.w3.org/2000/svg"))
                .collect();
            assert!(found.is_empty(), "the page names {outside}: {found:?}");
        }
    }

    #[test]
    fn an_embedded_result_cannot_close_its_script() {
        let page = with_result(
            &json!({"sections": [], "note": "</script><b>&"}),
            "# x </script>",
        );
        assert_eq!(
            page.matches("</script>").count(),
            HTML.matches("</script>").count()
        );
        assert!(page.contains(r#""note":"\u003c/script\u003e\u003cb\u003e\u0026""#));
        assert!(!page.contains(SLOT));
    }

    #[test]
    fn only_the_two_tools_are_linked() {
        let schema = std::sync::Arc::new(JsonObject::new());
        let linked = link(Tool::new("scaling_report", "r", schema.clone()));
        let meta = serde_json::to_value(&linked).unwrap();
        assert_eq!(meta["_meta"]["ui"]["resourceUri"], URI);
        let plain = link(Tool::new("size_cache", "c", schema));
        assert!(plain.meta.is_none());
    }
}

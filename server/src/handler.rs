//! The MCP face of the advisor: tools, resources (the knowledge documents and the skill),
//! prompts, logging and the skills extension, wired to rmcp. No domain logic lives here: tools
//! run in the `tools` crate, documents come from the `knowledge` crate.

// The contract requires the `logging` capability, which SEP-2577 deprecates in the SDK.
#![allow(deprecated)]

use std::borrow::Cow;
use std::sync::{Arc, Mutex};

use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, CompleteRequestParams, CompleteResult,
    CompletionInfo, ContentBlock, GetPromptRequestParams, GetPromptResponse, GetSkillRequestParams,
    GetSkillResult, Implementation, ListPromptsResult, ListResourceTemplatesResult,
    ListResourcesResult, ListSkillsResult, ListToolsResult, LoggingLevel, PaginatedRequestParams,
    ProtocolVersion, ReadResourceRequestParams, ReadResourceResponse, ReadResourceResult,
    Reference, Resource, ResourceContents, ResourceTemplate, ServerCapabilities, ServerConfig,
    SetLevelRequestParams, Tool, ToolAnnotations,
};
use rmcp::service::RequestContext;
use rmcp::{ErrorData as McpError, RoleServer, ServerHandler};
use tools::{Advisor, CallError};

use crate::prompts;
use crate::protocol::{clip, supported_versions};
use crate::skill::SkillFile;

const MARKDOWN: &str = "text/markdown";
/// The resource template of knowledge sections, whose arguments `completion/complete` fills.
const SECTION_TEMPLATE: &str = "knowledge://{slug}#{anchor}";

/// Completions for the section template: document slugs, or the anchors of the chosen document,
/// that start with what was typed (at most 100, in document order).
fn complete_section(
    advisor: &Advisor,
    argument: &str,
    typed: &str,
    slug: Option<&String>,
) -> Vec<String> {
    let knowledge = advisor.knowledge();
    let candidates: Vec<&str> = match argument {
        "slug" => knowledge.documents().iter().map(|d| d.slug()).collect(),
        "anchor" => slug
            .and_then(|s| knowledge.document(s))
            .map(|d| d.sections().iter().map(|s| s.anchor()).collect())
            .unwrap_or_default(),
        _ => Vec::new(),
    };
    candidates
        .into_iter()
        .filter(|c| c.starts_with(typed))
        .take(100)
        .map(str::to_string)
        .collect()
}

/// Everything the server offers (tools, resources, the skill, the instructions), built once at
/// start-up and shared by every request and both transports.
pub struct Offer {
    pub advisor: Advisor,
    tools: Vec<Tool>,
    resources: Vec<Resource>,
    skill: SkillFile,
    instructions: String,
}

impl Offer {
    pub fn new(advisor: Advisor, skill: SkillFile) -> Self {
        let tools = advisor
            .tools()
            .iter()
            .map(|tool| {
                let annotations = ToolAnnotations::from_raw(
                    None,
                    Some(true),
                    // `destructiveHint` means something only when `readOnlyHint` is false.
                    None,
                    Some(true),
                    Some(false),
                );
                Tool::new_with_raw(
                    tool.name,
                    Some(Cow::Borrowed(tool.description)),
                    Arc::new(tool.input_schema.clone()),
                )
                .with_title(tool.title)
                .with_raw_output_schema(Arc::new(tool.output_schema.clone()))
                .with_annotations(annotations)
            })
            .collect();
        let mut resources: Vec<Resource> = advisor
            .knowledge()
            .documents()
            .iter()
            .map(|doc| {
                Resource::new(
                    format!("{}{}", knowledge::URI_SCHEME, doc.slug()),
                    doc.slug(),
                )
                .with_title(doc.title())
                .with_description(doc.summary())
                .with_mime_type(MARKDOWN)
                .with_size(doc.text().len() as u64)
            })
            .collect();
        resources.push(
            Resource::new(skill.uri(), skill.name())
                .with_title("scale-advisor skill")
                .with_description(skill.description())
                .with_mime_type(MARKDOWN)
                .with_size(skill.text().len() as u64),
        );
        Self {
            instructions: instructions(&advisor),
            advisor,
            tools,
            resources,
            skill,
        }
    }
}

/// The rmcp handler; cheap to clone, one per connection.
#[derive(Clone)]
pub struct AdvisorServer {
    offer: Arc<Offer>,
    log_level: Arc<Mutex<LoggingLevel>>,
}

impl AdvisorServer {
    pub fn new(offer: Arc<Offer>) -> Self {
        Self {
            offer,
            log_level: Arc::new(Mutex::new(LoggingLevel::Info)),
        }
    }

    fn call(&self, request: &CallToolRequestParams) -> Result<CallToolResult, McpError> {
        let empty = serde_json::Map::new();
        let arguments = request.arguments.as_ref().unwrap_or(&empty);
        let name = request.name.as_ref();
        // Tools never panic on input (the fuzz targets hold them to it); should one ever do, the
        // client gets an error for that call instead of a request left unanswered forever.
        let called = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            self.offer.advisor.call(name, arguments)
        }));
        match called {
            Ok(Ok(output)) => {
                let mut result = CallToolResult::success(vec![ContentBlock::text(output.markdown)]);
                result.structured_content = Some(output.structured);
                Ok(result)
            }
            Ok(Err(error)) => self.refusal(name, error),
            Err(_) => Err(self.panicked(name)),
        }
    }

    /// The answer to a call the tool refused: an unknown tool is a protocol error naming the
    /// tools there are; arguments it cannot use are a tool error the model can read and fix.
    fn refusal(&self, name: &str, error: CallError) -> Result<CallToolResult, McpError> {
        match error {
            error @ CallError::UnknownTool { .. } => {
                let known: Vec<&str> = self.offer.advisor.tools().iter().map(|t| t.name).collect();
                Err(McpError::invalid_params(
                    format!(
                        "{} (tools: {})",
                        clip(&error.to_string(), 300),
                        known.join(", ")
                    ),
                    Some(serde_json::json!({"tool": clip(name, 120)})),
                ))
            }
            CallError::Arguments(error) => {
                tracing::debug!(tool = %clip(name, 120), %error, "refused arguments");
                Ok(CallToolResult::error(vec![ContentBlock::text(
                    error.to_string(),
                )]))
            }
        }
    }

    fn panicked(&self, name: &str) -> McpError {
        tracing::error!(tool = %clip(name, 120), "the tool panicked");
        McpError::internal_error(
            format!(
                "the tool `{}` failed on these arguments; this is a bug, please report it",
                clip(name, 120)
            ),
            None,
        )
    }
}

impl ServerHandler for AdvisorServer {
    fn get_info(&self) -> ServerConfig {
        let capabilities = ServerCapabilities::builder()
            .enable_tools()
            .enable_resources()
            .enable_prompts()
            .enable_logging()
            .enable_completions()
            .enable_skills()
            .build();
        let mut implementation = Implementation::new("scale-advisor", env!("CARGO_PKG_VERSION"));
        implementation.title = Some("scale-advisor".into());
        implementation.description =
            Some("Deterministic, explainable advice for scaling data infrastructure".into());
        ServerConfig::new(capabilities)
            .with_protocol_version(ProtocolVersion::V_2025_11_25)
            .with_server_info(implementation)
            .with_instructions(self.offer.instructions.clone())
    }

    fn supported_protocol_versions(&self) -> Cow<'static, [ProtocolVersion]> {
        Cow::Owned(supported_versions())
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, McpError> {
        Ok(ListToolsResult::with_all_items(self.offer.tools.clone()))
    }

    fn get_tool(&self, name: &str) -> Option<Tool> {
        self.offer.tools.iter().find(|t| t.name == name).cloned()
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, McpError> {
        self.call(&request).map(Into::into)
    }

    async fn complete(
        &self,
        request: CompleteRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<CompleteResult, McpError> {
        let values = match &request.r#ref {
            Reference::Resource(template) if template.uri == SECTION_TEMPLATE => {
                let chosen = request
                    .context
                    .as_ref()
                    .and_then(|c| c.arguments.as_ref())
                    .and_then(|a| a.get("slug"));
                complete_section(
                    &self.offer.advisor,
                    &request.argument.name,
                    &request.argument.value,
                    chosen,
                )
            }
            // Prompt arguments are free text: nothing to offer.
            _ => Vec::new(),
        };
        let completion = CompletionInfo::with_all_values(values)
            .map_err(|e| McpError::internal_error(e, None))?;
        Ok(CompleteResult::new(completion))
    }

    async fn list_resources(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListResourcesResult, McpError> {
        Ok(ListResourcesResult::with_all_items(
            self.offer.resources.clone(),
        ))
    }

    async fn list_resource_templates(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListResourceTemplatesResult, McpError> {
        let template = ResourceTemplate::new(SECTION_TEMPLATE, "knowledge-section")
            .with_title("One section of a knowledge document")
            .with_description("A section of a knowledge document; the anchor is its heading in lower case with non-alphanumerics collapsed to `-`.")
            .with_mime_type(MARKDOWN);
        Ok(ListResourceTemplatesResult::with_all_items(vec![template]))
    }

    async fn read_resource(
        &self,
        request: ReadResourceRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<ReadResourceResponse, McpError> {
        let uri = request.uri.as_str();
        if uri == self.offer.skill.uri() {
            let contents =
                ResourceContents::text(self.offer.skill.text(), uri).with_mime_type(MARKDOWN);
            return Ok(ReadResourceResult::new(vec![contents]).into());
        }
        match self.offer.advisor.knowledge().resolve(uri) {
            Some(resolved) => {
                let contents =
                    ResourceContents::text(resolved.markdown(), uri).with_mime_type(MARKDOWN);
                Ok(ReadResourceResult::new(vec![contents]).into())
            }
            None => Err(McpError::resource_not_found(
                not_found_message(&self.offer.advisor, uri),
                Some(serde_json::json!({"uri": clip(uri, 300)})),
            )),
        }
    }

    async fn list_prompts(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListPromptsResult, McpError> {
        Ok(ListPromptsResult::with_all_items(prompts::list()))
    }

    async fn get_prompt(
        &self,
        request: GetPromptRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<GetPromptResponse, McpError> {
        prompts::get(&self.offer.advisor, &request).map(Into::into)
    }

    async fn set_level(
        &self,
        request: SetLevelRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<(), McpError> {
        if let Ok(mut level) = self.log_level.lock() {
            *level = request.level;
        }
        tracing::debug!(level = ?request.level, "client set the log level");
        Ok(())
    }

    async fn list_skills(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListSkillsResult, McpError> {
        Ok(ListSkillsResult::with_all_items(vec![
            self.offer.skill.skill(),
        ]))
    }

    async fn get_skill(
        &self,
        request: GetSkillRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<GetSkillResult, McpError> {
        if request.uri == self.offer.skill.uri() {
            Ok(GetSkillResult::new(self.offer.skill.skill()))
        } else {
            Err(McpError::invalid_params(
                format!(
                    "no skill at `{}`; this server serves `{}`",
                    request.uri,
                    self.offer.skill.uri()
                ),
                None,
            ))
        }
    }
}

fn not_found_message(advisor: &Advisor, uri: &str) -> String {
    let knowledge = advisor.knowledge();
    let Some(rest) = uri.strip_prefix(knowledge::URI_SCHEME) else {
        return format!(
            "Resource not found: `{}`; knowledge documents are `knowledge://<slug>`",
            clip(uri, 200)
        );
    };
    let (slug, anchor) = rest.split_once('#').unwrap_or((rest, ""));
    match knowledge.document(slug) {
        None => {
            let slugs: Vec<&str> = knowledge.documents().iter().map(|d| d.slug()).collect();
            let hint = knowledge::closest(slug, slugs.iter().copied())
                .map(|c| format!(" Did you mean `{c}`?"))
                .unwrap_or_default();
            format!(
                "Resource not found: no document `{}` (documents: {}).{hint}",
                clip(slug, 200),
                slugs.join(", ")
            )
        }
        Some(doc) => {
            let anchors = doc.sections().iter().map(|s| s.anchor());
            let hint = knowledge::closest(anchor, anchors)
                .map(|c| format!(" Did you mean `#{c}`?"))
                .unwrap_or_default();
            format!(
                "Resource not found: `{slug}` has no section `#{}`.{hint}",
                clip(anchor, 200)
            )
        }
    }
}

/// The `instructions` of `initialize`: what the server is for, then every tool of the registry
/// by name and title, so that the list cannot fall behind the tools.
fn instructions(advisor: &Advisor) -> String {
    let tools: Vec<String> = advisor
        .tools()
        .iter()
        .map(|t| format!("{} ({})", t.name, t.title.to_lowercase()))
        .collect();
    let first = advisor.tools().first().map_or("", |t| t.name);
    format!(
        "scale-advisor gives deterministic, sourced advice for scaling data infrastructure. \
Start with {first} on whatever metrics and architecture facts you have; its findings say which tool \
to call next. The tools: {}. Every result cites knowledge:// resources you can read for the \
reasoning. The {} prompt runs a full review.",
        tools.join(", "),
        prompts::SCALING_REVIEW
    )
}

//! The MCP face of the advisor: tools, resources (the knowledge documents and the skill),
//! prompts, logging and the skills extension, wired to rmcp. No domain logic lives here: tools
//! run in the `tools` crate, documents come from the `knowledge` crate.

// The contract requires the `logging` capability, which SEP-2577 deprecates in the SDK.
#![allow(deprecated)]

use std::borrow::Cow;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, CompleteRequestParams, CompleteResult,
    CompletionInfo, ContentBlock, GetPromptRequestParams, GetPromptResponse, GetSkillRequestParams,
    GetSkillResult, Implementation, ListPromptsResult, ListResourceTemplatesResult,
    ListResourcesResult, ListSkillsResult, ListToolsResult, LoggingLevel,
    LoggingMessageNotificationParam, PaginatedRequestParams, ProtocolVersion,
    ReadResourceRequestParams, ReadResourceResponse, ReadResourceResult, Reference, Resource,
    ResourceContents, ResourceTemplate, ServerCapabilities, ServerConfig, SetLevelRequestParams,
    Tool, ToolAnnotations,
};
use rmcp::service::{Peer, RequestContext};
use rmcp::{ErrorData as McpError, RoleServer, ServerHandler};
use tools::observe_system::LiveObservation;
use tools::{Advisor, CallError};

use crate::live::LiveSources;
use crate::prompts;
use crate::protocol::{clip, supported_versions};
use crate::report_page;
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

/// Everything the server answers with, built once at start-up and shared by every request.
pub struct Offer {
    pub advisor: Advisor,
    tools: Vec<Tool>,
    resources: Vec<Resource>,
    skill: SkillFile,
    /// What start-up found worth telling a client (`notifications/message`, once the client
    /// sets a level at or below theirs).
    startup_notes: Vec<(LoggingLevel, serde_json::Value)>,
    /// A tool call that takes at least this long is reported as a slow answer.
    slow_call: Duration,
    /// The `instructions` of `initialize`, naming the registry's tools.
    instructions: String,
    /// The live sources the operator configured; none when there are none (then no call
    /// reads anything, and only `observe_system` is open-world).
    live: Option<LiveSources>,
}

/// A tool's annotations: read-only and idempotent always; open-world when it reads the world
/// outside the process (contract §8–§9), closed-world otherwise.
fn annotations(open_world: bool) -> ToolAnnotations {
    ToolAnnotations::from_raw(
        None,
        Some(true),
        // `destructiveHint` means something only when `readOnlyHint` is false.
        None,
        Some(true),
        Some(open_world),
    )
}

impl Offer {
    pub fn new(advisor: Advisor, skill: SkillFile) -> Self {
        let tools = advisor
            .tools()
            .iter()
            .map(|tool| {
                let annotations = annotations(tool.reads_live);
                let listed = report_page::link(
                    Tool::new_with_raw(
                        tool.name,
                        Some(Cow::Borrowed(tool.description)),
                        Arc::new(tool.input_schema.clone()),
                    )
                    // No `title`: a client shows the name, and the nine titles cost 270 bytes
                    // of every listing (issue 12); `scale-advisor tools` prints them.
                    .with_raw_output_schema(Arc::new(tool.output_schema.clone()))
                    .with_annotations(annotations),
                );
                // Clients that cap a tool's result (Claude Code near 25,000 tokens) read this
                // to let a large `detail: full` answer through.
                match tool.max_result_chars {
                    Some(chars) => {
                        let mut meta = listed.meta.clone().unwrap_or_else(|| {
                            rmcp::model::MetaObject(rmcp::model::JsonObject::new())
                        });
                        meta.0
                            .insert("anthropic/maxResultSizeChars".into(), chars.into());
                        listed.with_meta(meta)
                    }
                    None => listed,
                }
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
        resources.push(report_page::resource());
        Self {
            instructions: instructions(&advisor),
            advisor,
            tools,
            resources,
            skill,
            startup_notes: Vec::new(),
            slow_call: DEFAULT_SLOW_CALL,
            live: None,
        }
    }

    /// Serves with the live sources the operator configured: the tools that take `observe`
    /// then announce themselves open-world.
    pub fn with_live(mut self, live: Option<LiveSources>) -> Self {
        let configured = live.is_some();
        for tool in &mut self.tools {
            if self
                .advisor
                .tool(&tool.name)
                .is_some_and(|t| t.takes_observe)
            {
                tool.annotations = Some(annotations(configured));
            }
        }
        self.live = live;
        self
    }

    /// What the call asked to read, read (none when it asks for nothing). A server without a
    /// configured source reads nothing and says so per source.
    pub async fn read_live(
        &self,
        name: &str,
        arguments: &serde_json::Map<String, serde_json::Value>,
    ) -> Result<Option<LiveObservation>, CallError> {
        let Some(request) = self.advisor.live_request(name, arguments)? else {
            return Ok(None);
        };
        Ok(Some(match &self.live {
            Some(live) => live.read(&request).await,
            None => LiveObservation::nothing_configured(request.window_days),
        }))
    }

    /// Adds a problem start-up found (a setting it had to correct) for clients that listen
    /// at `warning` or below.
    pub fn with_startup_warning(mut self, data: serde_json::Value) -> Self {
        self.startup_notes.push((LoggingLevel::Warning, data));
        self
    }

    /// Adds something normal but significant start-up found (documents of a
    /// `--knowledge-dir` in use) for clients that listen at `notice` or below.
    pub fn with_startup_notice(mut self, data: serde_json::Value) -> Self {
        self.startup_notes.push((LoggingLevel::Notice, data));
        self
    }

    /// Sets how long a tool call may take before it is reported as a slow answer.
    pub fn with_slow_call(mut self, slow_call: Duration) -> Self {
        self.slow_call = slow_call;
        self
    }
}

/// How long a tool call may take before a client that listens hears of it: tools answer in
/// well under a millisecond, so a second means the machine is starved or something is wrong.
pub const DEFAULT_SLOW_CALL: Duration = Duration::from_secs(1);

/// The name `notifications/message` carries as `logger`.
const LOGGER: &str = "scale-advisor";

/// The order of the syslog severities that `logging/setLevel` names, least severe first.
fn severity(level: LoggingLevel) -> u8 {
    match level {
        LoggingLevel::Debug => 0,
        LoggingLevel::Info => 1,
        LoggingLevel::Notice => 2,
        LoggingLevel::Warning => 3,
        LoggingLevel::Error => 4,
        LoggingLevel::Critical => 5,
        LoggingLevel::Alert => 6,
        LoggingLevel::Emergency => 7,
    }
}

/// What one session asked to hear: nothing until the client sends `logging/setLevel` (the
/// specification leaves unasked messages to the server; a client that never asked gets none),
/// then every message at or above that level. Start-up notes are sent once each, when a level
/// first lets them through.
#[derive(Debug, Default)]
struct SessionLog {
    level: Option<LoggingLevel>,
    startup_sent: Vec<bool>,
}

/// The rmcp handler; cheap to clone, one per connection.
#[derive(Clone)]
pub struct AdvisorServer {
    offer: Arc<Offer>,
    log: Arc<Mutex<SessionLog>>,
}

impl AdvisorServer {
    pub fn new(offer: Arc<Offer>) -> Self {
        Self {
            offer,
            log: Arc::new(Mutex::new(SessionLog::default())),
        }
    }

    /// Whether this session's client asked to hear messages at `level`.
    fn listening(&self, level: LoggingLevel) -> bool {
        self.log
            .lock()
            .ok()
            .and_then(|log| log.level)
            .is_some_and(|wanted| severity(level) >= severity(wanted))
    }

    /// Sends `notifications/message` when the client listens at `level`; a client gone
    /// away is no error of the request being answered.
    async fn notify(&self, peer: &Peer<RoleServer>, level: LoggingLevel, data: serde_json::Value) {
        if self.listening(level) {
            let message = LoggingMessageNotificationParam::new(level, data).with_logger(LOGGER);
            if let Err(error) = peer.notify_logging_message(message).await {
                tracing::debug!(%error, "could not send a log message to the client");
            }
        }
    }

    /// What a listening client hears of one tool call: its refusal (the text it was also
    /// answered with) and a slow answer, as `notifications/message` data at `warning`.
    fn call_notes(
        &self,
        name: &str,
        answer: &Result<CallToolResult, McpError>,
        elapsed: Duration,
    ) -> Vec<serde_json::Value> {
        if !self.listening(LoggingLevel::Warning) {
            return Vec::new();
        }
        let tool = clip(name, 120);
        let refusal = match answer {
            Ok(result) if result.is_error == Some(true) => Some(
                result
                    .content
                    .iter()
                    .find_map(|block| block.as_text().map(|t| clip(&t.text, 500).to_string()))
                    .unwrap_or_default(),
            ),
            Ok(_) => None,
            Err(error) => Some(clip(&error.message, 500).to_string()),
        };
        let mut notes = Vec::new();
        if let Some(reason) = refusal {
            notes.push(serde_json::json!({
                "event": "refused_call",
                "tool": tool,
                "reason": reason,
            }));
        }
        if elapsed >= self.offer.slow_call {
            notes.push(serde_json::json!({
                "event": "slow_answer",
                "tool": tool,
                "elapsed_ms": elapsed.as_millis() as u64,
                "slow_ms": self.offer.slow_call.as_millis() as u64,
            }));
        }
        notes
    }

    /// The start-up notes that `level` lets through and this session has not been sent yet.
    fn startup_notes_for(&self, level: LoggingLevel) -> Vec<(LoggingLevel, serde_json::Value)> {
        let Ok(mut log) = self.log.lock() else {
            return Vec::new();
        };
        log.level = Some(level);
        let notes = &self.offer.startup_notes;
        log.startup_sent.resize(notes.len(), false);
        let mut due = Vec::new();
        for (sent, (note_level, data)) in log.startup_sent.iter_mut().zip(notes) {
            if !*sent && severity(*note_level) >= severity(level) {
                *sent = true;
                due.push((*note_level, data.clone()));
            }
        }
        due
    }

    async fn call(&self, request: &CallToolRequestParams) -> Result<CallToolResult, McpError> {
        let empty = serde_json::Map::new();
        let arguments = request.arguments.as_ref().unwrap_or(&empty);
        let name = request.name.as_ref();
        let live = match self.offer.read_live(name, arguments).await {
            Ok(live) => live,
            Err(error) => return self.refusal(name, error),
        };
        // Tools never panic on input (the fuzz targets hold them to it); should one ever do, the
        // client gets an error for that call instead of a request left unanswered forever.
        let called = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            self.offer.advisor.call_live(name, arguments, live.as_ref())
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
        let mut capabilities = ServerCapabilities::builder()
            .enable_tools()
            .enable_resources()
            .enable_prompts()
            .enable_logging()
            .enable_completions()
            .enable_skills()
            .build();
        report_page::declare(&mut capabilities);
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
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, McpError> {
        let started = Instant::now();
        let answer = self.call(&request).await;
        for data in self.call_notes(request.name.as_ref(), &answer, started.elapsed()) {
            self.notify(&context.peer, LoggingLevel::Warning, data)
                .await;
        }
        answer.map(Into::into)
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
        if uri == report_page::URI {
            return Ok(ReadResourceResult::new(vec![report_page::contents()]).into());
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
        context: RequestContext<RoleServer>,
    ) -> Result<(), McpError> {
        tracing::debug!(level = ?request.level, "client set the log level");
        for (level, data) in self.startup_notes_for(request.level) {
            self.notify(&context.peer, level, data).await;
        }
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

/// The `instructions` of `initialize`: what the server is for, in the words people type, then
/// every tool of the registry by name and title, so that the list cannot fall behind the tools.
fn instructions(advisor: &Advisor) -> String {
    let tools: Vec<String> = advisor
        .tools()
        .iter()
        .map(|t| format!("{} ({})", t.name, t.title.to_lowercase()))
        .collect();
    let first = advisor.tools().first().map_or("", |t| t.name);
    let observe = <tools::observe_system::ObserveSystem as tools::Tool>::NAME;
    format!(
        "scale-advisor gives deterministic, sourced advice for scaling a system's data \
infrastructure: slow pages, high p95 or p99 latency, database CPU, low cache hit ratio, replica lag, queue \
backlog, which database or message queue to pick (Postgres vs DynamoDB, Kafka vs RabbitMQ), consistency and \
quorums, cache sizing, capacity planning, sharding and resharding, migrations and growth forecasts. \
Start with {first} on whatever metrics and architecture facts are at hand; its findings say which tool \
to call next. Where the operator configured a live source (Prometheus, PostgreSQL, Redis), call \
{observe} first, or pass `observe: true`, before asking for figures: it reads them, read-only. The tools: {}. Each result opens with a one-line `summary`, lists in `missing_inputs` the \
arguments that would add an answer, and takes `detail: full` for the explanations and long lists; its \
sources are knowledge:// resources, which a nested `sources` cites by position, counted from 0. \
The {} prompt runs a full review.",
        tools.join(", "),
        prompts::SCALING_REVIEW
    )
}

//! The advisors of scale-advisor as pure functions. Each tool is one module: its argument
//! struct (whose doc comments are the `inputSchema` descriptions), its result struct (the
//! `outputSchema`), a `run` that applies the knowledge base's tables, and a `to_markdown`.
//! Nothing here does I/O or knows about MCP; the server crate wires these to the protocol.

mod args;
pub mod calculator;
pub mod choose_datastore;
pub mod choose_message_queue;
mod concise;
mod costs;
mod decision;
pub mod diagnose_bottleneck;
pub mod forecast_growth;
pub mod growth_models;
mod markdown;
mod numbers;
pub mod observe_system;
pub mod observed;
pub mod pick_consistency_model;
pub mod plan_capacity;
pub mod plan_migration;
pub mod scaling_report;
mod schema;
pub mod size_cache;
mod stages;
mod thresholds;
pub mod trend;

pub use args::ArgError;
pub use concise::Budget;

use std::any::Any;

use knowledge::{Knowledge, KnowledgeError};
/// How much a result holds: concise (the default) or full.
///
/// Contract §6: `concise` keeps every field the contract names and leaves out explanatory
/// extras; `full` gives everything. Every tool's arguments carry it as `detail`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, serde::Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Detail {
    #[default]
    Concise,
    Full,
}

/// An argument the caller did not give that would have added an answer (contract §6):
/// `{field: "per_server_rps", enables: "servers"}`.
#[derive(
    Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, serde::Deserialize, JsonSchema,
)]
pub struct MissingInput {
    /// The argument's name, as in the tool's input schema (dotted for a nested one).
    pub field: String,
    /// The result field or answer it would have added.
    pub enables: String,
    /// Where to read the figure, when the live sources were asked and none of those configured
    /// can give it (`observe`: a database's CPU is not in PostgreSQL's statistics views).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub where_to_get_it: Option<String>,
}

/// The most characters a `summary` holds (contract §6).
pub const SUMMARY_MAX_CHARS: usize = 400;

/// The most bytes of `structuredContent` an answer holds in `concise` and in `full`
/// (contract §6); a tool whose lists could pass them cuts the lists and says so in
/// [`Truncated`].
pub const CONCISE_MAX_BYTES: usize = 100_000;
pub const FULL_MAX_BYTES: usize = 500_000;

impl Detail {
    /// The byte cap of contract §6 for an answer in this detail.
    pub fn max_bytes(self) -> usize {
        match self {
            Self::Concise => CONCISE_MAX_BYTES,
            Self::Full => FULL_MAX_BYTES,
        }
    }

    pub fn is_full(self) -> bool {
        self == Self::Full
    }
}

/// How a nested item names its sources (the schema of every nested `sources` list): the
/// `knowledge://` URIs in `full`; in `concise`, where every one of them is also in the
/// result's own `sources`, their positions in that list instead (0 for its first URI), so a
/// URI is read once per answer. The result's top-level `sources` is always URIs.
#[derive(JsonSchema)]
#[serde(untagged)]
#[allow(dead_code)] // a schema, never built: `concise.rs` writes the positions
pub(crate) enum Cited {
    /// A `knowledge://` URI.
    Uri(String),
    /// A position in the result's own `sources`, counted from 0.
    Position(u64),
}

/// A list that was cut to keep the answer under its cap (contract §6).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize, JsonSchema)]
pub struct Truncated {
    /// The list that was cut, as a dotted path in the result (`reshard.shard_map`).
    pub field: String,
    /// Items shown (the first ones, in order).
    pub shown: u64,
    /// Items the whole list holds.
    pub total: u64,
    /// How to get the items left out.
    pub how_to_get_more: String,
}

/// A summary cut to [`SUMMARY_MAX_CHARS`] characters, ending in `…` when it was cut.
pub(crate) fn summary(text: String) -> String {
    if text.chars().count() <= SUMMARY_MAX_CHARS {
        return text;
    }
    let mut cut: String = text.chars().take(SUMMARY_MAX_CHARS - 1).collect();
    cut.push('…');
    cut
}

/// `value`, and when it is absent, a note in `missing` that `field` would have added
/// `enables`. Called where each optional figure is computed, so that `missing_inputs` lists
/// exactly the figures a result left out:
/// `let servers = needs(&mut missing, args.per_server_rps, "per_server_rps", "servers")`.
pub(crate) fn needs<T>(
    missing: &mut Vec<MissingInput>,
    value: Option<T>,
    field: &str,
    enables: &str,
) -> Option<T> {
    if value.is_none() {
        missing_input(missing, field, enables);
    }
    value
}

/// The number fields that `conditions` compare and `facts` do not hold, in the order
/// written: the arguments a rule table could not test.
pub(crate) fn absent_numbers<'a>(
    conditions: impl Iterator<Item = &'a knowledge::Condition>,
    facts: &dyn knowledge::Facts,
) -> Vec<&'a str> {
    let mut absent = Vec::new();
    // A number matters only where the rest of its alternative can hold: a shard's skew is no
    // missing input of a system that is not sharded.
    let possible = |clause: &knowledge::Clause| match clause {
        knowledge::Clause::Flag { .. }
        | knowledge::Clause::Unset { .. }
        | knowledge::Clause::Equals { .. } => clause.holds(facts),
        _ => true,
    };
    for clause in conditions
        .flat_map(knowledge::Condition::alternatives)
        .filter(|alternative| alternative.iter().all(possible))
        .flatten()
    {
        if let knowledge::Clause::Compare { field, .. } = clause
            && facts.number(field).is_none()
            && !absent.contains(&field.as_str())
        {
            absent.push(field.as_str());
        }
    }
    absent
}

/// Notes that `field` would have added `enables`; one entry per field, its answers joined.
pub(crate) fn missing_input(missing: &mut Vec<MissingInput>, field: &str, enables: &str) {
    match missing.iter_mut().find(|m| m.field == field) {
        Some(entry) => {
            if !entry.enables.split(", ").any(|e| e == enables) {
                entry.enables.push_str(", ");
                entry.enables.push_str(enables);
            }
        }
        None => missing.push(MissingInput {
            field: field.to_string(),
            enables: enables.to_string(),
            where_to_get_it: None,
        }),
    }
}

use schemars::{JsonSchema, generate::SchemaSettings};
use serde::{Serialize, de::DeserializeOwned};
use serde_json::{Map, Value};

/// How a tool's arguments are filled from an observation (`observed.rs` fills them): here,
/// beside [`Tool`], so that a tool names its own without importing the module that imports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fill {
    /// Top-level metrics, as `diagnose_bottleneck` takes them.
    Diagnose,
    /// The load-driven metrics and the load's growth rate, as `forecast_growth` takes them.
    Forecast,
    /// `system` as diagnose, `growth` as the forecast's growth.
    Report,
}

/// One tool: its public name and descriptions, its argument and result types, the tables it
/// reads from the knowledge base, and the functions that make it useful. A new tool implements
/// this in a file of its own and takes one line in [`with_tools!`].
pub trait Tool: 'static {
    const NAME: &'static str;
    const TITLE: &'static str;
    const DESCRIPTION: &'static str;
    type Args: DeserializeOwned + JsonSchema;
    type Output: Serialize + JsonSchema;
    /// What the tool reads from the knowledge base, once, at start-up; [`Advisor::tables`]
    /// hands it to `run`, and to any other tool that builds on this one.
    type Tables: Send + Sync + 'static;

    /// Reads and validates the tool's tables; a missing or malformed one is an error with the
    /// file and line, which stops start-up.
    fn load(knowledge: &Knowledge) -> Result<Self::Tables, KnowledgeError>;

    /// Properties whose value is another tool's arguments, as (property, tool): the advertised
    /// schema names that tool instead of repeating its fields.
    const NESTED: &'static [(&'static str, &'static str)] = &[];

    /// Properties whose fields are a part of another tool's arguments, which their description
    /// names: the advertised schema gives them as an object (the full shape is still what
    /// arguments are validated against).
    const NAMED_IN_DESCRIPTION: &'static [&'static str] = &[];

    /// For a tool whose `full` answer can pass 50,000 characters: the most it can hold, which
    /// the server announces to clients that cap results (`_meta`
    /// `anthropic/maxResultSizeChars`).
    const MAX_RESULT_CHARS: Option<usize> = None;

    /// Applies the knowledge base to the arguments. Arguments that the schema cannot express as
    /// invalid (contradictions, an empty request) are refused here with an [`ArgError`].
    fn run(advisor: &Advisor, args: Self::Args) -> Result<Self::Output, ArgError>;

    /// For a tool that reads the live system itself (`observe_system`): `run` on what the
    /// server read for this call. Every other tool ignores it.
    fn run_live(
        advisor: &Advisor,
        args: Self::Args,
        _live: Option<&observe_system::LiveObservation>,
    ) -> Result<Self::Output, ArgError> {
        Self::run(advisor, args)
    }

    /// For a tool that takes metrics: how `observe` (contract §9) fills its arguments from
    /// the live system. Such a tool's schema gains the `observe` argument, and its result
    /// `observed` and `connections` when it is used.
    const OBSERVE: Option<Fill> = None;

    /// Whether the tool itself reads the world outside the process (open-world, contract §8).
    const READS_LIVE: bool = false;

    /// The result as concise markdown for a person: the answer first, then the evidence, then
    /// what to do, then the sources.
    fn to_markdown(output: &Self::Output) -> String;

    /// Fits a result to the `detail` asked (contract §6), once its markdown is written: in
    /// `concise` it leaves out explanatory extras and summarises long lists by their counts;
    /// in both it cuts a list that would take the answer past the detail's byte cap, and says
    /// so in a `truncated` note. Most results are small and need neither.
    fn shape(_output: &mut Self::Output, _detail: Detail) {}

    /// Explanatory fields that `concise` leaves out, as paths in the result
    /// (`findings[].fixes.short_term`; `[]` for every item of a list; a last part ending in
    /// `?`, `phases[].adapted_for_downtime?`, only while it is null, false or empty): never a
    /// field the contract names. Applied after [`Tool::shape`], with the folding every result gets
    /// (nested `sources` cited by position in the result's own list, a nested result's
    /// `missing_inputs` that the result's list already names, nested nulls).
    const CONCISE_OMITS: &'static [&'static str] = &[];

    /// The most bytes a concise answer of this tool should take (issue 26), and the field of
    /// a list's items that gives way, from the last item back, when it would not; the cut is
    /// stated in `truncated`.
    const CONCISE_BUDGET: Option<Budget> = None;
}

/// The `detail` the arguments ask for; they were validated against the schema, so anything
/// but `full` is the default.
fn requested_detail(arguments: &Map<String, Value>) -> Detail {
    match arguments.get("detail").and_then(Value::as_str) {
        Some("full") => Detail::Full,
        _ => Detail::Concise,
    }
}

/// What a call returns: the structured result (valid against the output schema) and its
/// markdown rendering.
#[derive(Debug, Clone, PartialEq)]
pub struct ToolOutput {
    pub structured: Value,
    pub markdown: String,
}

/// How a prepared tool is run: on the arguments, what `observe` composed from the reading
/// (for a tool that takes `observe`) and the reading itself (for `observe_system`).
type Invoke = fn(
    &Advisor,
    &Map<String, Value>,
    Option<&observe_system::ObservedSystem>,
    Option<&observe_system::LiveObservation>,
) -> Result<ToolOutput, ArgError>;

/// A tool ready to be listed and called: schemas generated once, at start-up.
pub struct PreparedTool {
    pub name: &'static str,
    pub title: &'static str,
    pub description: &'static str,
    /// The advertised input schema (compact; see `schema.rs`).
    pub input_schema: Map<String, Value>,
    /// The advertised output schema: an object with `summary`, `missing_inputs`, `sources`.
    pub output_schema: Map<String, Value>,
    /// The result's top-level fields and their JSON types (`tools --json`, tests).
    pub result_fields: Map<String, Value>,
    /// See [`Tool::MAX_RESULT_CHARS`].
    pub max_result_chars: Option<usize>,
    /// Whether the tool takes `observe` (see [`Tool::OBSERVE`]).
    pub takes_observe: bool,
    /// See [`Tool::READS_LIVE`].
    pub reads_live: bool,
    /// The full derived input schema that arguments are validated against.
    validation_schema: Map<String, Value>,
    invoke: Invoke,
    /// The tool's [`Tool::Tables`].
    tables: Box<dyn Any + Send + Sync>,
}

fn schema_object(schema: schemars::Schema) -> Map<String, Value> {
    match schema.to_value() {
        Value::Object(mut map) => {
            map.remove("$schema");
            map
        }
        // A derived schema for a struct is always an object; an empty one accepts anything.
        _ => Map::new(),
    }
}

fn prepare<T: Tool>(knowledge: &Knowledge) -> Result<PreparedTool, KnowledgeError> {
    let tables = T::load(knowledge)?;
    let input = SchemaSettings::draft2020_12()
        .into_generator()
        .into_root_schema_for::<T::Args>();
    let mut input = schema_object(input);
    schema::bound_free_text(&mut input);
    let output = SchemaSettings::draft2020_12()
        .for_serialize()
        .into_generator()
        .into_root_schema_for::<T::Output>();
    let mut output = schema_object(output);
    if T::CONCISE_BUDGET.is_some() {
        concise::declare_truncated(&mut output);
    }
    concise::declare_citations(&mut output);
    let mut input_schema = schema::advertised_input(&input, T::NESTED, T::NAMED_IN_DESCRIPTION);
    let mut result_fields = schema::result_fields(&output);
    if T::OBSERVE.is_some() {
        schema::add_observe(&mut input_schema, &mut result_fields);
    }
    Ok(PreparedTool {
        name: T::NAME,
        title: T::TITLE,
        description: T::DESCRIPTION,
        input_schema,
        output_schema: schema::advertised_output(&output),
        result_fields,
        max_result_chars: T::MAX_RESULT_CHARS,
        takes_observe: T::OBSERVE.is_some(),
        reads_live: T::READS_LIVE,
        validation_schema: schema::validation(&input),
        invoke: invoke::<T>,
        tables: Box::new(tables),
    })
}

/// A tool in the registry: its name, and how to make it ready from a knowledge base.
pub struct Registration {
    pub name: &'static str,
    prepare: fn(&Knowledge) -> Result<PreparedTool, KnowledgeError>,
}

const fn register<T: Tool>() -> Registration {
    Registration {
        name: T::NAME,
        prepare: prepare::<T>,
    }
}

/// Calls the macro `$then` with every tool type, in the order `tools/list` gives them: the one
/// list of tools. The registry, the fuzz target's typed checks and anything else that needs
/// each tool's types read it; a new tool is its module and one line here.
#[macro_export]
macro_rules! with_tools {
    ($then:ident) => {
        $then!(
            $crate::diagnose_bottleneck::DiagnoseBottleneck,
            $crate::choose_datastore::ChooseDatastore,
            $crate::choose_message_queue::ChooseMessageQueue,
            $crate::pick_consistency_model::PickConsistencyModel,
            $crate::size_cache::SizeCache,
            $crate::plan_capacity::PlanCapacity,
            $crate::plan_migration::PlanMigration,
            $crate::scaling_report::ScalingReport,
            $crate::forecast_growth::ForecastGrowth,
            $crate::observe_system::ObserveSystem,
        )
    };
}

macro_rules! registry {
    ($($tool:ty),* $(,)?) => {
        &[$(register::<$tool>()),*]
    };
}

/// Every tool, in the order they are listed (see [`with_tools!`]).
pub const REGISTRY: &[Registration] = with_tools!(registry);

/// Validates the arguments against the tool's full schema, then runs it.
fn run_typed<T: Tool>(
    advisor: &Advisor,
    arguments: &Map<String, Value>,
    live: Option<&observe_system::LiveObservation>,
) -> Result<T::Output, ArgError> {
    let prepared = advisor
        .tool(T::NAME)
        .ok_or_else(|| ArgError::internal("the tool is not registered"))?;
    let args: T::Args = args::parse(&prepared.validation_schema, arguments)?;
    T::run_live(advisor, args, live)
}

/// Runs a tool. For a tool that takes `observe`, an `observe` asked for is taken out of the
/// arguments, what was observed (`system`; a server without sources observes nothing) fills
/// the arguments not given, and the result says what came from where.
fn invoke<T: Tool>(
    advisor: &Advisor,
    arguments: &Map<String, Value>,
    system: Option<&observe_system::ObservedSystem>,
    live: Option<&observe_system::LiveObservation>,
) -> Result<ToolOutput, ArgError> {
    let detail = requested_detail(arguments);
    let filled = match T::OBSERVE {
        Some(fill) if arguments.contains_key(observed::OBSERVE) => {
            let request = observed::request_of(arguments.get(observed::OBSERVE))?;
            let mut rest = arguments.clone();
            rest.remove(observed::OBSERVE);
            match request {
                None => Some((rest, None)),
                Some(request) => {
                    let nothing;
                    let system = match system {
                        Some(system) => system,
                        None => {
                            nothing = observe_system::compose(
                                advisor,
                                &observe_system::LiveObservation::nothing_configured(
                                    request.window_days,
                                ),
                                Detail::Concise,
                            );
                            &nothing
                        }
                    };
                    let cited = system.sources.clone();
                    // `system` of a report is diagnose_bottleneck's arguments.
                    let metrics_of = match fill {
                        observed::Fill::Forecast => forecast_growth::ForecastGrowth::NAME,
                        observed::Fill::Diagnose | observed::Fill::Report => {
                            diagnose_bottleneck::DiagnoseBottleneck::NAME
                        }
                    };
                    let properties = advisor
                        .tool(metrics_of)
                        .and_then(|t| t.validation_schema.get("properties"))
                        .and_then(Value::as_object);
                    let takes = |field: &str| properties.is_some_and(|p| p.contains_key(field));
                    let filled = observed::fill(fill, rest, system, &takes);
                    Some((filled.arguments.clone(), Some((filled, cited))))
                }
            }
        }
        _ => None,
    };
    let (arguments, report) = match filled {
        Some((rest, report)) => (std::borrow::Cow::Owned(rest), report),
        None => (std::borrow::Cow::Borrowed(arguments), None),
    };
    let mut output = match run_typed::<T>(advisor, &arguments, live) {
        Ok(output) => output,
        Err(mut error) => {
            // A refusal of a figure `observe` was asked to fill says why it is still missing.
            if let Some((filled, _)) = &report
                && !filled
                    .observed
                    .iter()
                    .any(|o| o.field.ends_with(&error.field))
            {
                error
                    .expected
                    .push_str(&observed::why_not_filled(&filled.connections));
            }
            return Err(error);
        }
    };
    let mut markdown = T::to_markdown(&output);
    T::shape(&mut output, detail);
    let mut structured =
        serde_json::to_value(&output).map_err(|e| ArgError::internal(&e.to_string()))?;
    if let Some((filled, cited)) = report {
        observed::annotate_structured(&mut structured, &filled, &cited);
        observed::annotate_markdown(&mut markdown, &filled);
    }
    if !detail.is_full() {
        concise::compact(&mut structured, T::CONCISE_OMITS, T::CONCISE_BUDGET);
    }
    Ok(ToolOutput {
        structured,
        markdown,
    })
}

/// The knowledge base and every registered tool, made ready once (schemas derived, tables
/// read) and shared by every call.
pub struct Advisor {
    knowledge: Knowledge,
    tools: Vec<PreparedTool>,
}

impl Advisor {
    /// Makes every tool of [`REGISTRY`] ready; any missing or malformed table is an error with
    /// the file and line.
    pub fn new(knowledge: Knowledge) -> Result<Self, KnowledgeError> {
        let tools = REGISTRY
            .iter()
            .map(|registration| (registration.prepare)(&knowledge))
            .collect::<Result<_, _>>()?;
        Ok(Self { knowledge, tools })
    }

    /// The tables of the tool `T`, read at start-up.
    pub fn tables<T: Tool>(&self) -> Result<&T::Tables, ArgError> {
        self.tool(T::NAME)
            .and_then(|tool| tool.tables.downcast_ref::<T::Tables>())
            .ok_or_else(|| ArgError::internal(&format!("the tool `{}` is not registered", T::NAME)))
    }

    /// The advisor on the knowledge base compiled into the binary.
    pub fn embedded() -> Result<Self, KnowledgeError> {
        Self::new(Knowledge::embedded()?)
    }

    pub fn knowledge(&self) -> &Knowledge {
        &self.knowledge
    }

    /// Every tool, in the order they are listed.
    pub fn tools(&self) -> &[PreparedTool] {
        &self.tools
    }

    pub fn tool(&self, name: &str) -> Option<&PreparedTool> {
        self.tools.iter().find(|t| t.name == name)
    }

    /// Runs the tool `name` on JSON arguments, with no live source: `observe_system` then
    /// reports every source not configured, and `observe` fills nothing.
    pub fn call(
        &self,
        name: &str,
        arguments: &Map<String, Value>,
    ) -> Result<ToolOutput, CallError> {
        self.call_live(name, arguments, None)
    }

    /// What the call `name` with `arguments` asks to read from the live sources (contract
    /// §8–§9): none when it reads nothing (then the server reads nothing), else the selector
    /// and window. A malformed `observe`, selector or window is refused here, before anything
    /// is read.
    pub fn live_request(
        &self,
        name: &str,
        arguments: &Map<String, Value>,
    ) -> Result<Option<observe_system::ObserveRequest>, CallError> {
        let tool = self.tool(name).ok_or_else(|| self.unknown_tool(name))?;
        if tool.reads_live {
            let args: observe_system::ObserveArgs =
                args::parse(&tool.validation_schema, arguments).map_err(CallError::Arguments)?;
            return observe_system::ObserveRequest::new("", args.selector, args.window_days)
                .map(Some)
                .map_err(CallError::Arguments);
        }
        if tool.takes_observe {
            return observed::request_of(arguments.get(observed::OBSERVE))
                .map_err(CallError::Arguments);
        }
        Ok(None)
    }

    /// Runs the tool `name` on JSON arguments and on what the server read for this call
    /// (`live`, as [`Advisor::live_request`] asked): the one path of every call.
    pub fn call_live(
        &self,
        name: &str,
        arguments: &Map<String, Value>,
        live: Option<&observe_system::LiveObservation>,
    ) -> Result<ToolOutput, CallError> {
        let tool = self.tool(name).ok_or_else(|| self.unknown_tool(name))?;
        let system = match live {
            Some(live) if tool.takes_observe => {
                Some(observe_system::compose(self, live, Detail::Concise))
            }
            _ => None,
        };
        (tool.invoke)(self, arguments, system.as_ref(), live).map_err(CallError::Arguments)
    }

    fn unknown_tool(&self, name: &str) -> CallError {
        CallError::UnknownTool {
            name: name.to_string(),
            closest: knowledge::closest(name, self.tools.iter().map(|t| t.name))
                .map(str::to_string),
        }
    }
}

/// Why a call produced no result.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CallError {
    #[error("unknown tool `{name}`{}", closest.as_ref().map(|c| format!("; did you mean `{c}`?")).unwrap_or_default())]
    UnknownTool {
        name: String,
        closest: Option<String>,
    },
    #[error("{0}")]
    Arguments(ArgError),
}

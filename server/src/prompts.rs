//! The `scaling_review` prompt: messages that lead an assistant through a full scaling review
//! with the tools, ending in the report template.

use rmcp::ErrorData as McpError;
use rmcp::model::{
    GetPromptRequestParams, GetPromptResult, Prompt, PromptArgument, PromptMessage, Role,
};
use tools::forecast_growth::ForecastGrowth;
use tools::observe_system::ObserveSystem;
use tools::scaling_report::ScalingReport;
use tools::{Advisor, Tool};

pub const SCALING_REVIEW: &str = "scaling_review";

/// The longest text each argument takes, in characters: room for a few paragraphs of a
/// system's description, while a careless or hostile client cannot have megabytes echoed into
/// the prompt. Stated in each argument's description, since prompt arguments have no schema.
const ARGUMENT_LIMITS: [(&str, usize); 2] = [("system_description", 4000), ("metrics", 2000)];

fn limit_of(name: &str) -> usize {
    ARGUMENT_LIMITS
        .iter()
        .find(|(n, _)| *n == name)
        .map_or(0, |(_, limit)| *limit)
}

pub fn list() -> Vec<Prompt> {
    vec![
        Prompt::new(
            SCALING_REVIEW,
            Some("Review a system's scalability: gather the missing facts, run the scale-advisor tools, answer in the standard scaling report template."),
            Some(vec![
                PromptArgument::new("system_description")
                    .with_description(format!("The system in words: what it does, users, architecture (cache, replicas, sharding, regions), datastores, queues. At most {} characters.", limit_of("system_description")))
                    .with_required(true),
                PromptArgument::new("metrics")
                    .with_description(format!("Known metrics, e.g. p95 latency, database CPU, read share, cache hit rate, replication lag, queue depth. At most {} characters.", limit_of("metrics")))
                    .with_required(false),
            ]),
        )
        .with_title("Scaling review"),
    ]
}

pub fn get(
    advisor: &Advisor,
    request: &GetPromptRequestParams,
) -> Result<GetPromptResult, McpError> {
    if request.name != SCALING_REVIEW {
        return Err(McpError::invalid_params(
            format!(
                "unknown prompt `{}`; this server offers `{SCALING_REVIEW}`",
                request.name
            ),
            None,
        ));
    }
    let argument = |name: &str| {
        request
            .arguments
            .as_ref()
            .and_then(|a| a.get(name))
            .and_then(|v| v.as_str())
            .map(str::trim)
            .filter(|s| !s.is_empty())
    };
    for (name, limit) in ARGUMENT_LIMITS {
        if let Some(text) = argument(name)
            && text.len() > limit
            && text.chars().count() > limit
        {
            return Err(McpError::invalid_params(
                format!(
                    "prompt `scaling_review`: the argument `{name}` is {} characters; it takes at most {limit}",
                    text.chars().count()
                ),
                None,
            ));
        }
    }
    let Some(system) = argument("system_description") else {
        return Err(McpError::invalid_params(
            "prompt `scaling_review` needs the argument `system_description` (the system in words)",
            None,
        ));
    };
    let metrics = argument("metrics").unwrap_or("none given yet");
    // The steps name the tools from the registry: the first diagnoses, the report gathers, and
    // each other tool is offered by its title.
    let tools: Vec<String> = advisor
        .tools()
        .iter()
        .map(|t| format!("`{}`", t.name))
        .collect();
    let first = advisor.tools().first().map_or("", |t| t.name);
    let report = ScalingReport::NAME;
    let forecast = ForecastGrowth::NAME;
    let observe = ObserveSystem::NAME;
    let others: Vec<String> = advisor
        .tools()
        .iter()
        .filter(|t| ![first, report, forecast, observe].contains(&t.name))
        .map(|t| format!("`{}` to {}", t.name, lowercase_first(t.title)))
        .collect();
    let others = others.join(", ");
    let text = format!(
        "Review the scalability of this system and answer in the standard scaling report.\n\n\
System: {system}\n\nMetrics: {metrics}\n\n\
Steps:\n\
0. Observe before asking: call `{observe}` (with a `selector` such as {{\"job\": \"checkout\"}} when the system is one job or instance among many). Where a source answers, its `metrics` are today's figures, its `trends` the growth fitted from the system's own history (a rate is a fact only when `significant`), and its `arguments` go straight to `{first}` and `{forecast}`; pass `observe: true` to those tools and to `{report}` to fill what I do not give. Ask me only for what no source could read; if every source is `not_configured`, ask for everything below.\n\
1. List the facts still missing and ask me for them in one short message: active users; whether there is a cache, read replicas, sharding, a load balancer, a CDN, a job queue; the number of regions and whether several are needed; p95 and p99 latency (ms), database and application CPU (%), share of database operations that are reads (%), cache hit rate (%), replication lag (ms), queue depth, connection pool use (%), queries per request, slowest query (ms); observed failures (split brain, cascade failure, read-after-write inconsistency, phantom locks, cache stampedes); peak requests per second and expected growth (a monthly rate or a multiple over a period) and how long it takes to add capacity; current monthly cost. Go on with what is known if I cannot answer.\n\
2. Call `{first}` with the architecture and metrics. Then, as the findings call for them: {others}. Whenever growth is expected (\"we expect 3x next year\", \"when will the database run out?\", a launch, a date to be ready by), call `{forecast}` with today's metrics and the growth (monthly_growth_pct, or growth_multiple with over_months): it gives the first resource to break, the month, and the month to start adding capacity given the lead time; quote that month in Migration Plan and Cost Impact.\n\
3. Call `{report}` with everything gathered, or write the report yourself with exactly these sections in order: Current Architecture Analysis, Bottlenecks Identified, Recommended Architecture, Components to Add, Migration Plan, Cost Impact, Risk Mitigation (see the resource knowledge://report-template).\n\
4. Quote every number as the tools return it, with its formula, and cite the knowledge:// sources.\n\n\
Tools available on this server: {}.",
        tools.join(", ")
    );
    Ok(GetPromptResult::new(vec![PromptMessage::new_text(Role::User, text)])
        .with_description("A scaling review that gathers facts, runs the scale-advisor tools and answers in the report template"))
}

/// "Plan capacity" → "plan capacity".
fn lowercase_first(text: &str) -> String {
    let mut chars = text.chars();
    chars.next().map_or_else(String::new, |first| {
        first.to_lowercase().chain(chars).collect()
    })
}

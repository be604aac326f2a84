//! `scale-advisor`: the binary. It parses the command line, loads the knowledge base (embedded,
//! or laid over with `--knowledge-dir`), and either serves MCP or runs one tool from the shell.

mod handler;
mod http;
mod install;
mod live;
mod memory;
mod prompts;
mod protocol;
mod report_page;
mod shutdown;
mod skill;
mod sources;
mod stdio;

use std::io::Read;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, bail};
use clap::{Parser, Subcommand};
use rmcp::ServiceExt;
use tokio_util::sync::CancellationToken;
use tools::{Advisor, CallError};

use crate::handler::{AdvisorServer, Offer};
use crate::skill::SkillFile;

/// Deterministic, explainable advice for scaling data infrastructure, as an MCP server.
///
/// scale-advisor diagnoses bottlenecks from metrics, chooses datastores, queues and consistency
/// models, sizes caches and capacity, plans migrations and writes scaling reports. Every answer
/// is exact, reproducible and cites the knowledge document (knowledge://...) it came from.
///
/// Register it with an MCP client as the command `scale-advisor serve` (`scale-advisor config
/// claude-desktop` prints the entry with this binary's full path), or try a tool from the shell:
///
///   scale-advisor tools
///   scale-advisor call diagnose_bottleneck '{"users": 50000, "db_cpu_pct": 75}'
#[derive(Parser)]
#[command(name = "scale-advisor", version, verbatim_doc_comment)]
struct Cli {
    /// A folder of markdown knowledge documents (<slug>.md) laid over the embedded ones: a file
    /// named like a built-in document replaces it, any other is added. A malformed file stops
    /// start-up with its path, line and the problem. An empty value is no folder.
    // Parsed as any OsString: the path parser refuses an empty value, which here means none.
    #[arg(
        long,
        global = true,
        value_name = "DIR",
        env = "SCALE_ADVISOR_KNOWLEDGE_DIR",
        value_parser = clap::builder::TypedValueParser::map(
            clap::builder::OsStringValueParser::new(),
            PathBuf::from
        )
    )]
    knowledge_dir: Option<PathBuf>,

    /// Log level for stderr (error, warn, info, debug, trace); RUST_LOG takes precedence.
    #[arg(long, global = true, value_name = "LEVEL", default_value = "warn")]
    log_level: String,

    #[command(flatten)]
    sources: sources::SourceArgs,

    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve MCP over stdio: newline-delimited JSON-RPC on stdin/stdout (logs go to stderr).
    /// With --http ADDR, serve MCP over streamable HTTP at http://ADDR/mcp instead.
    Serve {
        /// The longest message accepted, in bytes; longer lines are refused and skipped.
        #[arg(long, default_value_t = 16 * 1024 * 1024, value_name = "BYTES")]
        max_message_bytes: usize,
        /// Requests read ahead of their answers; bounds memory under pipelined load.
        #[arg(long, default_value_t = 32, value_name = "N")]
        max_in_flight: usize,
        /// A tool call taking at least this long is reported to clients that listen
        /// (`logging/setLevel` warning or below) as a slow answer.
        #[arg(long, default_value_t = handler::DEFAULT_SLOW_CALL.as_millis() as u64, value_name = "MS")]
        slow_call_ms: u64,
        #[command(flatten)]
        http: HttpArgs,
    },
    /// List the tools, one per line with its description.
    Tools {
        /// Print the tools' full definitions (schemas included) as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Run one tool and print its markdown answer.
    Call {
        /// The tool, e.g. diagnose_bottleneck.
        tool: String,
        /// The arguments: inline JSON, @file to read a file, or - to read stdin. Default {}.
        #[arg(default_value = "{}")]
        arguments: String,
        /// Print the structured result as JSON instead of markdown.
        #[arg(long)]
        json: bool,
        /// Also write the result as a self-contained HTML page to FILE (scaling_report and
        /// forecast_growth): diagrams, findings, each resource by month against its thresholds.
        #[arg(long, value_name = "FILE")]
        html: Option<PathBuf>,
    },
    #[command(flatten)]
    Install(install::Command),
}

/// `serve --http`: streamable HTTP, stateless and loopback-only unless told otherwise.
#[derive(clap::Args)]
#[command(next_help_heading = "Streamable HTTP")]
struct HttpArgs {
    /// Serve over streamable HTTP at ADDR (HOST:PORT, e.g. 127.0.0.1:8080; a bare port binds
    /// 127.0.0.1; port 0 picks a free one, announced on stderr). MCP is at /mcp, a health check
    /// at /healthz. A non-loopback address is reachable from other hosts: a warning says so.
    #[arg(long = "http", value_name = "ADDR")]
    addr: Option<String>,
    /// A browser origin allowed to call the server (scheme://host:port, `:*` for any port);
    /// repeatable. Requests from other origins get 403. Default: the loopback origins of the
    /// bound port. Requests without an Origin header (non-browser clients) are not affected.
    #[arg(long = "allow-origin", value_name = "ORIGIN", requires = "addr")]
    allow_origins: Vec<String>,
    /// A host name clients use to reach the server (the Host header), beside localhost,
    /// 127.0.0.1, ::1 and the bound IP; repeatable. Others get 403 (DNS-rebinding protection).
    /// `*` accepts any host, for a proxy that checks Host itself.
    #[arg(long = "allow-host", value_name = "HOST", requires = "addr")]
    allow_hosts: Vec<String>,
    /// Require `Authorization: Bearer <token>` on /mcp, the token being the value of the
    /// environment variable VAR (never a command-line argument, which `ps` shows). Else 401.
    #[arg(long, value_name = "VAR", requires = "addr")]
    token_env: Option<String>,
    /// The largest request body accepted, in bytes; larger ones get 413.
    #[arg(long, default_value_t = 1024 * 1024, value_name = "BYTES", requires = "addr")]
    max_body_bytes: usize,
    /// Keep sessions (Mcp-Session-Id) for clients of the handshake revisions (2025-06-18,
    /// 2025-11-25); replicas then need sticky routing. Default: stateless, any replica answers.
    #[arg(long, requires = "addr")]
    stateful: bool,
    /// The longest a request may take, body upload included; then 408 or 503.
    #[arg(long, default_value_t = 30, value_name = "SECS", requires = "addr")]
    request_timeout_secs: u64,
    /// The longest a client may take to send a request's headers, or stay idle between
    /// requests on a kept-alive connection; then the connection is closed.
    #[arg(long, default_value_t = 30, value_name = "SECS", requires = "addr")]
    header_timeout_secs: u64,
    /// On SIGTERM or SIGINT, how long in-flight requests may take to finish before exit.
    #[arg(long, default_value_t = 30, value_name = "SECS", requires = "addr")]
    shutdown_grace_secs: u64,
    /// Connections served at once; further ones wait in the listen backlog.
    #[arg(long, default_value_t = 1024, value_name = "N", requires = "addr")]
    max_connections: usize,
    /// With --stateful, the live sessions held at once; an `initialize` past it gets 503 and
    /// a JSON-RPC error saying so (idle sessions end after 5 minutes, or on DELETE /mcp).
    #[arg(long, default_value_t = 1024, value_name = "N", requires = "stateful")]
    max_sessions: usize,
}

impl HttpArgs {
    fn options(self, addr: String) -> anyhow::Result<http::HttpOptions> {
        let token = match &self.token_env {
            None => None,
            Some(var) => match std::env::var(var) {
                Ok(token) if !token.trim().is_empty() => Some(token.trim().to_string()),
                Ok(_) => bail!("--token-env {var}: the variable is empty"),
                Err(_) => bail!("--token-env {var}: the variable is not set (or not UTF-8)"),
            },
        };
        Ok(http::HttpOptions {
            addr,
            allowed_origins: self.allow_origins,
            allowed_hosts: self.allow_hosts,
            token,
            max_body_bytes: self.max_body_bytes.max(1),
            stateful: self.stateful,
            request_timeout: std::time::Duration::from_secs(self.request_timeout_secs.max(1)),
            header_timeout: std::time::Duration::from_secs(self.header_timeout_secs.max(1)),
            shutdown_grace: std::time::Duration::from_secs(self.shutdown_grace_secs),
            max_connections: self.max_connections.max(1),
            max_sessions: self.max_sessions.max(1),
        })
    }
}

fn init_logging(level: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .or_else(|_| tracing_subscriber::EnvFilter::try_new(level))
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .init();
}

fn load_advisor(dir: Option<&PathBuf>) -> anyhow::Result<Advisor> {
    let knowledge = match dir {
        Some(dir) => knowledge::Knowledge::with_dir(dir)?,
        None => knowledge::Knowledge::embedded()?,
    };
    Ok(Advisor::new(knowledge)?)
}

/// For clients that listen: which documents of a `--knowledge-dir` the answers follow instead
/// of (or beside) the built-in ones, since thresholds there may differ from the contract's.
fn knowledge_dir_note(advisor: &Advisor) -> Option<serde_json::Value> {
    let (replaced, added): (Vec<_>, Vec<_>) = advisor
        .knowledge()
        .documents()
        .iter()
        .filter(|d| !d.is_embedded())
        .partition(|d| knowledge::REQUIRED_SLUGS.contains(&d.slug()));
    if replaced.is_empty() && added.is_empty() {
        return None;
    }
    let paths = |documents: &[&knowledge::Document]| -> Vec<String> {
        documents.iter().map(|d| d.path().to_string()).collect()
    };
    Some(serde_json::json!({
        "event": "knowledge_dir",
        "message": format!(
            "answers follow {} built-in document(s) replaced and {} added from --knowledge-dir",
            replaced.len(),
            added.len()
        ),
        "replaced": paths(&replaced),
        "added": paths(&added),
    }))
}

fn read_arguments(text: &str) -> anyhow::Result<serde_json::Map<String, serde_json::Value>> {
    let raw = if text == "-" {
        let mut buffer = String::new();
        std::io::stdin()
            .read_to_string(&mut buffer)
            .context("reading the arguments from stdin")?;
        buffer
    } else if let Some(path) = text.strip_prefix('@') {
        std::fs::read_to_string(path)
            .with_context(|| format!("reading the arguments from {path}"))?
    } else {
        text.to_string()
    };
    match serde_json::from_str::<serde_json::Value>(&raw)
        .context("the arguments are not valid JSON")?
    {
        serde_json::Value::Object(map) => Ok(map),
        other => bail!("the arguments must be a JSON object, not {other}"),
    }
}

fn serve_stdio(offer: Arc<Offer>, limits: stdio::Limits) -> anyhow::Result<()> {
    let server = AdvisorServer::new(offer);
    let (transport, finish) = stdio::start(std::io::stdin(), std::io::stdout(), limits)
        .context("starting the stdio threads")?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let cancel = CancellationToken::new();
        let on_signal = cancel.clone();
        tokio::spawn(async move {
            shutdown::requested().await;
            tracing::info!("signal received, shutting down");
            on_signal.cancel();
        });
        match server.serve_with_ct(transport, cancel.clone()).await {
            Ok(service) => {
                tokio::select! {
                    result = service.waiting() => {
                        if let Err(error) = result {
                            tracing::warn!(%error, "the service ended with an error");
                        }
                    }
                    _ = cancel.cancelled() => {}
                }
            }
            // The client left (or never spoke) before the session began: nothing to serve.
            Err(error) => tracing::info!(%error, "the session ended before it began"),
        }
    });
    // Let the last answers reach stdout, but never hang on a client that stopped reading.
    finish.flush(stdio::STALLED_OUTPUT_LIMIT);
    // The stdin thread may be parked on a read; returning from main ends it with the process.
    runtime.shutdown_background();
    Ok(())
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    // An empty value (SCALE_ADVISOR_KNOWLEDGE_DIR="", an unset bundle option) is no folder.
    let knowledge_dir = cli.knowledge_dir.filter(|dir| !dir.as_os_str().is_empty());
    let advisor = load_advisor(knowledge_dir.as_ref())?;
    // A malformed source URL or an unreadable secret stops start-up here, masked; a server
    // that cannot be reached is each call's to report.
    let settings = cli.sources.settings()?;
    for (source, url) in [
        (
            "prometheus",
            settings.prometheus.as_ref().map(|(url, _)| url),
        ),
        ("postgres", settings.postgres.as_ref()),
        ("redis", settings.redis.as_ref()),
    ] {
        if let Some(url) = url {
            // Masked by `SourceUrl`'s Display: a password never reaches a log line.
            tracing::info!(source, %url, "live source configured (read-only)");
        }
    }
    let live = live::LiveSources::new(settings, advisor.knowledge())?;
    match cli.command {
        Command::Serve {
            max_message_bytes,
            max_in_flight,
            slow_call_ms,
            http: mut http_args,
        } => {
            let skill = SkillFile::embedded().map_err(anyhow::Error::msg)?;
            let mut offer = Offer::new(advisor, skill)
                .with_slow_call(std::time::Duration::from_millis(slow_call_ms))
                .with_live(live);
            if max_in_flight == 0 {
                offer = offer.with_startup_warning(serde_json::json!({
                    "event": "setting_raised",
                    "message": "--max-in-flight 0 would read no request; serving with 1",
                }));
            }
            if let Some(note) = knowledge_dir_note(&offer.advisor) {
                offer = offer.with_startup_notice(note);
            }
            let offer = Arc::new(offer);
            if let Some(addr) = http_args.addr.take() {
                http::serve_http(offer, http_args.options(addr)?)?;
                return Ok(ExitCode::SUCCESS);
            }
            let limits = stdio::Limits {
                max_line_bytes: max_message_bytes,
                max_in_flight: max_in_flight.max(1),
            };
            serve_stdio(offer, limits)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Tools { json } => {
            if json {
                let tools: Vec<serde_json::Value> = advisor
                    .tools()
                    .iter()
                    .map(|t| {
                        serde_json::json!({
                            "name": t.name, "title": t.title, "description": t.description,
                            "inputSchema": t.input_schema, "outputSchema": t.output_schema,
                            "resultFields": t.result_fields,
                        })
                    })
                    .collect();
                emit(&format!("{}\n", serde_json::to_string_pretty(&tools)?))?;
            } else {
                let mut listing = String::new();
                for tool in advisor.tools() {
                    listing.push_str(&format!("{:<24} {}\n", tool.name, tool.description));
                }
                emit(&listing)?;
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Call {
            tool,
            arguments,
            json,
            html,
        } => {
            if html.is_some() && !report_page::draws(&tool) {
                eprintln!(
                    "error: --html draws the results of {}, not `{tool}`",
                    report_page::TOOLS.join(" and ")
                );
                return Ok(ExitCode::from(2));
            }
            let arguments = read_arguments(&arguments)?;
            let read = advisor
                .live_request(&tool, &arguments)
                .map(|request| request.map(|request| read_once(live.as_ref(), &request)));
            let called = match read {
                Ok(Some(observation)) => advisor.call_live(&tool, &arguments, Some(&observation?)),
                Ok(None) => advisor.call(&tool, &arguments),
                Err(error) => Err(error),
            };
            match called {
                Ok(output) => {
                    if let Some(path) = &html {
                        let page = report_page::with_result(&output.structured, &output.markdown);
                        std::fs::write(path, page)
                            .with_context(|| format!("writing the page to {}", path.display()))?;
                    }
                    if json {
                        emit(&format!(
                            "{}\n",
                            serde_json::to_string_pretty(&output.structured)?
                        ))?;
                    } else {
                        emit(&output.markdown)?;
                    }
                    Ok(ExitCode::SUCCESS)
                }
                Err(error @ CallError::UnknownTool { .. }) => {
                    let names: Vec<&str> = advisor.tools().iter().map(|t| t.name).collect();
                    eprintln!("error: {error}\ntools: {}", names.join(", "));
                    Ok(ExitCode::from(2))
                }
                Err(CallError::Arguments(error)) => {
                    eprintln!("error: {error}");
                    Ok(ExitCode::from(2))
                }
            }
        }
        Command::Install(command) => {
            install::run(command, knowledge_dir.as_deref(), &cli.sources)?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// `call`'s reading of the live sources: the same reading a served call makes, on a runtime
/// of its own.
fn read_once(
    live: Option<&live::LiveSources>,
    request: &tools::observe_system::ObserveRequest,
) -> anyhow::Result<tools::observe_system::LiveObservation> {
    Ok(match live {
        Some(live) => tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .context("starting the runtime that reads the sources")?
            .block_on(live.read(request)),
        None => tools::observe_system::LiveObservation::nothing_configured(request.window_days),
    })
}

/// Stdout was closed by its reader (`scale-advisor call … --json | head`): not a failure.
#[derive(Debug)]
struct StdoutClosed;

impl std::fmt::Display for StdoutClosed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("stdout was closed")
    }
}

impl std::error::Error for StdoutClosed {}

/// Writes an answer to stdout. A reader that stops early closes the pipe; like other Unix
/// tools, the program then ends quietly (exit 0) instead of reporting the write.
fn emit(text: &str) -> anyhow::Result<()> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Ok(()) => Ok(()),
        Err(error) if error.kind() == std::io::ErrorKind::BrokenPipe => Err(StdoutClosed.into()),
        Err(error) => Err(anyhow::Error::new(error).context("writing the answer to stdout")),
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(&cli.log_level);
    match run(cli) {
        Ok(code) => code,
        Err(error) if error.is::<StdoutClosed>() => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

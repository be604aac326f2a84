//! `mcp-load`: a load generator for MCP servers over stdio. It starts the real server process,
//! speaks newline-delimited JSON-RPC to it as a client does, and measures what a user of an
//! assistant feels: cold start, round-trip latency, pipelined throughput and peak memory. Any
//! stdio server can be measured the same way, so one run can put servers side by side.

mod measure;
mod report;
mod server;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, bail};
use clap::{Parser, ValueEnum};
use serde::Deserialize;
use serde_json::Value;

use crate::measure::Workload;
use crate::report::{Counts, Figures};
use crate::server::Launch;

/// Load generator for stdio MCP servers: cold start, sequential latency, pipelined throughput,
/// peak memory and the size of tools/list, printed as a markdown table.
///
/// Examples:
///
///   mcp-load --release-binary
///   mcp-load --release-binary --sweep-in-flight 1,4,16,32,64,256
///   mcp-load --tool echo --args '{"message":"hi"}' -- node dist/index.js stdio
///   mcp-load --compare bench/servers.json
#[derive(Parser)]
#[command(name = "mcp-load", version, verbatim_doc_comment)]
struct Cli {
    /// Measure scale-advisor's release build (target/release/scale-advisor serve). Words after
    /// `--` are added to `serve`, e.g. `-- --max-in-flight 64`.
    #[arg(long, conflicts_with = "compare")]
    release_binary: bool,

    /// Measure every server listed in this JSON file (see bench/servers.json) and print one
    /// table. Relative paths in it are relative to the current directory.
    #[arg(long, value_name = "FILE")]
    compare: Option<PathBuf>,

    /// With --release-binary: measure pipelined throughput and peak memory for each of these
    /// `--max-in-flight` values.
    #[arg(
        long,
        value_delimiter = ',',
        value_name = "N,N,...",
        requires = "release_binary"
    )]
    sweep_in_flight: Vec<usize>,

    /// The tool to call (default for scale-advisor: diagnose_bottleneck).
    #[arg(long, value_name = "NAME")]
    tool: Option<String>,

    /// The tool's arguments as a JSON object (default for scale-advisor: the first example of
    /// `tools/fixtures/<tool>.json`).
    #[arg(long, value_name = "JSON")]
    args: Option<String>,

    /// The server's name in the table (default: the program's file name).
    #[arg(long)]
    label: Option<String>,

    /// Fresh processes started to time the cold start (one more, not counted, warms the page
    /// cache).
    #[arg(long, default_value_t = 30, value_name = "N")]
    cold_runs: usize,

    /// Sequential calls timed.
    #[arg(long, default_value_t = 20_000, value_name = "N")]
    calls: usize,

    /// Sequential calls made before timing starts.
    #[arg(long, default_value_t = 2_000, value_name = "N")]
    warmup: usize,

    /// Calls written back to back in each pipelined run.
    #[arg(long, default_value_t = 100_000, value_name = "N")]
    pipelined: usize,

    /// Pipelined runs, each in a fresh process; the median throughput and the highest peak
    /// memory are reported.
    #[arg(long, default_value_t = 3, value_name = "N")]
    pipelined_runs: usize,

    /// The measurements to make.
    #[arg(
        long,
        value_enum,
        value_delimiter = ',',
        default_value = "cold,sequential,pipelined"
    )]
    phases: Vec<Phase>,

    /// The protocol revision asked for in `initialize`.
    #[arg(long, default_value = "2025-06-18", value_name = "REVISION")]
    protocol_version: String,

    /// The longest any one server process may live, in seconds; it is killed then.
    #[arg(long, default_value_t = 600, value_name = "SECONDS")]
    timeout: u64,

    /// Before each measurement, wait up to this many seconds for the machine to be at least
    /// 90% idle (0: do not wait). Other work on the cores skews every figure.
    #[arg(long, default_value_t = 120, value_name = "SECONDS")]
    wait_idle: u64,

    /// Show the servers' stderr instead of discarding it.
    #[arg(long)]
    server_stderr: bool,

    /// The server command and its arguments.
    #[arg(last = true, value_name = "CMD")]
    command: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Phase {
    Cold,
    Sequential,
    Pipelined,
}

/// One server in a `--compare` file. The per-server counts, when given, override the command
/// line's (a slow server may need fewer pipelined calls to finish in reasonable time).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    label: String,
    command: Vec<String>,
    tool: String,
    #[serde(default = "empty_object")]
    arguments: Value,
    /// Call the tool with the first example of `tools/fixtures/<tool>.json` (scale-advisor's
    /// own tools) instead of `arguments`.
    #[serde(default)]
    fixture: bool,
    #[serde(default)]
    cold_runs: Option<usize>,
    #[serde(default)]
    calls: Option<usize>,
    #[serde(default)]
    pipelined: Option<usize>,
    #[serde(default)]
    pipelined_runs: Option<usize>,
}

fn empty_object() -> Value {
    Value::Object(serde_json::Map::new())
}

/// What scale-advisor is asked by default: the first example of `diagnose_bottleneck`'s
/// fixture, a mid-sized system with a busy, poorly cached database, which fires several
/// findings (a typical, not a trivial, answer).
const DEFAULT_TOOL: &str = "diagnose_bottleneck";

/// The first example arguments of one of scale-advisor's tools, from `tools/fixtures/`, the
/// one list the tests, benches and fuzz seeds read too.
fn fixture_arguments(tool: &str) -> anyhow::Result<Value> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tools/fixtures")
        .join(format!("{tool}.json"));
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("reading the fixture {}", path.display()))?;
    let examples: Value = serde_json::from_str(&text)
        .with_context(|| format!("reading the fixture {}", path.display()))?;
    match examples.pointer("/0/arguments") {
        Some(arguments) if arguments.is_object() => Ok(arguments.clone()),
        _ => bail!(
            "{}: the first example has no object `arguments`",
            path.display()
        ),
    }
}

/// A server to measure and how.
struct Target {
    label: String,
    launch: Launch,
    workload: Workload,
    counts: Counts,
}

fn release_binary() -> anyhow::Result<PathBuf> {
    let beside_us = std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(|dir| dir.join("scale-advisor")));
    let in_workspace =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/release/scale-advisor");
    for candidate in beside_us.into_iter().chain([in_workspace]) {
        if candidate.is_file() {
            return Ok(candidate);
        }
    }
    bail!(
        "no release build of scale-advisor; build it with `cargo build --release -p scale-advisor`"
    )
}

fn parse_arguments(text: &str) -> anyhow::Result<Value> {
    let value: Value = serde_json::from_str(text).context("--args is not JSON")?;
    if !value.is_object() {
        bail!("--args must be a JSON object");
    }
    Ok(value)
}

fn label_of(command: &[String]) -> String {
    command
        .first()
        .map(|program| {
            Path::new(program)
                .file_name()
                .map_or(program.clone(), |n| n.to_string_lossy().into_owned())
        })
        .unwrap_or_default()
}

fn measure(target: &Target, cli: &Cli) -> Figures {
    let workload = &target.workload;
    let mut figures = Figures {
        label: target.label.clone(),
        command: target.launch.display(),
        workload: format!("`{}` with `{}`", workload.tool, workload.arguments),
        cold: None,
        session: None,
        pipelined: Vec::new(),
        problems: Vec::new(),
    };
    let protocol = &cli.protocol_version;
    let counts = &target.counts;
    let say = |what: &str| eprintln!("mcp-load: {}: {what}", target.label);
    let settle = || {
        if cli.wait_idle > 0 {
            let busy = report::wait_until_idle(Duration::from_secs(cli.wait_idle));
            if busy > 0.10 {
                eprintln!(
                    "mcp-load: measuring anyway with the machine {:.0}% busy",
                    busy * 100.0
                );
            }
        }
    };
    if cli.phases.contains(&Phase::Cold) {
        settle();
        say(&format!("cold start, {} runs", counts.cold_runs));
        match measure::cold_start(&target.launch, protocol, counts.cold_runs) {
            Ok(cold) => figures.cold = Some(cold),
            Err(error) => figures.problems.push(format!("cold start: {error:#}")),
        }
    }
    if cli.phases.contains(&Phase::Sequential) {
        settle();
        say(&format!(
            "{} sequential calls after {} warm-up",
            counts.calls, cli.warmup
        ));
        match measure::session(&target.launch, protocol, workload, cli.warmup, counts.calls) {
            Ok(session) => figures.session = Some(session),
            Err(error) => figures.problems.push(format!("sequential: {error:#}")),
        }
    }
    if cli.phases.contains(&Phase::Pipelined) {
        for run in 1..=counts.pipelined_runs {
            settle();
            say(&format!(
                "pipelined run {run}/{}, {} calls",
                counts.pipelined_runs, counts.pipelined
            ));
            match measure::pipelined(&target.launch, protocol, workload, counts.pipelined) {
                Ok(result) => {
                    eprintln!(
                        "mcp-load:   {}/s, peak RSS {}, CPU per call: server {}, mcp-load {}",
                        report::thousands(result.calls_per_second().round() as u64),
                        report::megabytes(result.memory.peak_kib),
                        report::per_call_cpu(&result),
                        report::per_call_client_cpu(&result),
                    );
                    figures.pipelined.push(result);
                }
                Err(error) => {
                    figures.problems.push(format!("pipelined: {error:#}"));
                    break;
                }
            }
        }
    }
    figures
}

/// Pipelined throughput and memory of scale-advisor for each in-flight limit.
fn sweep(cli: &Cli, binary: &Path, workload: &Workload) -> anyhow::Result<String> {
    let mut out = String::from(
        "| `--max-in-flight` | pipelined calls/s (median) | peak RSS (VmHWM, highest) | server CPU per call |\n|---|---|---|---|\n",
    );
    for &limit in &cli.sweep_in_flight {
        let launch = Launch {
            command: vec![
                binary.display().to_string(),
                "serve".into(),
                "--max-in-flight".into(),
                limit.to_string(),
            ],
            show_stderr: cli.server_stderr,
            lifetime: Duration::from_secs(cli.timeout),
        };
        let mut runs = Vec::new();
        for run in 1..=cli.pipelined_runs {
            if cli.wait_idle > 0 {
                report::wait_until_idle(Duration::from_secs(cli.wait_idle));
            }
            eprintln!(
                "mcp-load: --max-in-flight {limit}: pipelined run {run}/{}",
                cli.pipelined_runs
            );
            runs.push(measure::pipelined(
                &launch,
                &cli.protocol_version,
                workload,
                cli.pipelined,
            )?);
        }
        let figures = Figures {
            label: String::new(),
            command: String::new(),
            workload: String::new(),
            cold: None,
            session: None,
            pipelined: runs,
            problems: Vec::new(),
        };
        let Some(median) = figures.median_run() else {
            continue;
        };
        let peak = figures
            .pipelined
            .iter()
            .map(|r| r.memory.peak_kib)
            .max()
            .unwrap_or(0);
        out.push_str(&format!(
            "| {limit} | {}/s | {} | {} |\n",
            report::thousands(median.calls_per_second().round() as u64),
            report::megabytes(peak),
            report::per_call_cpu(median),
        ));
    }
    Ok(out)
}

fn run(cli: &Cli) -> anyhow::Result<()> {
    let counts = || Counts {
        cold_runs: cli.cold_runs,
        calls: cli.calls,
        pipelined: cli.pipelined,
        pipelined_runs: cli.pipelined_runs,
    };
    let launch = |command: Vec<String>| Launch {
        command,
        show_stderr: cli.server_stderr,
        lifetime: Duration::from_secs(cli.timeout),
    };
    let mut targets = Vec::new();
    if let Some(file) = &cli.compare {
        let text =
            std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
        let entries: Vec<Entry> =
            serde_json::from_str(&text).with_context(|| format!("reading {}", file.display()))?;
        for entry in entries {
            let mut counts = counts();
            counts.cold_runs = entry.cold_runs.unwrap_or(counts.cold_runs);
            counts.calls = entry.calls.unwrap_or(counts.calls);
            counts.pipelined = entry.pipelined.unwrap_or(counts.pipelined);
            counts.pipelined_runs = entry.pipelined_runs.unwrap_or(counts.pipelined_runs);
            targets.push(Target {
                label: entry.label,
                launch: launch(entry.command),
                workload: Workload {
                    arguments: if entry.fixture {
                        fixture_arguments(&entry.tool)?
                    } else {
                        entry.arguments
                    },
                    tool: entry.tool,
                },
                counts,
            });
        }
    } else if cli.release_binary {
        let binary = release_binary()?;
        let tool = cli.tool.clone().unwrap_or_else(|| DEFAULT_TOOL.into());
        let arguments = match cli.args.as_deref() {
            Some(text) => parse_arguments(text)?,
            None => fixture_arguments(&tool)?,
        };
        let workload = Workload { tool, arguments };
        if !cli.sweep_in_flight.is_empty() {
            println!("{}\n", report::machine());
            println!(
                "`{}` with `{}`, {} pipelined calls per run\n",
                workload.tool,
                workload.arguments,
                report::thousands(cli.pipelined as u64)
            );
            println!("{}", sweep(cli, &binary, &workload)?);
            return Ok(());
        }
        let mut command = vec![binary.display().to_string(), "serve".into()];
        command.extend(cli.command.iter().cloned());
        targets.push(Target {
            label: cli.label.clone().unwrap_or_else(|| "scale-advisor".into()),
            launch: launch(command),
            workload,
            counts: counts(),
        });
    } else if !cli.command.is_empty() {
        let Some(tool) = cli.tool.clone() else {
            bail!("say which tool to call with --tool NAME (and --args JSON)")
        };
        targets.push(Target {
            label: cli.label.clone().unwrap_or_else(|| label_of(&cli.command)),
            launch: launch(cli.command.clone()),
            workload: Workload {
                tool,
                arguments: parse_arguments(cli.args.as_deref().unwrap_or("{}"))?,
            },
            counts: counts(),
        });
    } else {
        bail!("say which server to measure: --release-binary, --compare FILE, or -- CMD ARGS...");
    }

    let figures: Vec<Figures> = targets.iter().map(|target| measure(target, cli)).collect();
    // The rows are named after the first server's counts; per-server overrides are listed below.
    let head = targets.first().map_or_else(counts, |t| t.counts);
    println!("{}\n", report::machine());
    println!(
        "cold start over {} fresh processes (+1 warm-up); {} sequential calls after {} warm-up; {} pipelined calls × {} runs; protocol {}\n",
        head.cold_runs,
        report::thousands(head.calls as u64),
        report::thousands(cli.warmup as u64),
        report::thousands(head.pipelined as u64),
        head.pipelined_runs,
        cli.protocol_version,
    );
    print!("{}", report::table(&figures, &head));
    for target in targets.iter().skip(1) {
        let c = &target.counts;
        if (c.cold_runs, c.calls, c.pipelined, c.pipelined_runs)
            != (
                head.cold_runs,
                head.calls,
                head.pipelined,
                head.pipelined_runs,
            )
        {
            println!(
                "- {}: measured with {} cold starts, {} sequential calls, {} pipelined calls × {} runs",
                target.label,
                c.cold_runs,
                report::thousands(c.calls as u64),
                report::thousands(c.pipelined as u64),
                c.pipelined_runs
            );
        }
    }
    if figures.iter().any(|f| !f.problems.is_empty()) {
        bail!("some measurements failed (see the notes under the table)");
    }
    Ok(())
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(&cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("mcp-load: {error:#}");
            ExitCode::FAILURE
        }
    }
}

//! `plan_capacity`: from today's peak to the capacity to plan for, and from there to servers,
//! connections per database instance, read replicas, requests in flight, the stage and the
//! monthly cost band. Formulas, defaults and the cost table are those of `capacity-planning`;
//! every figure comes with its working, and inputs whose results would not be finite or would
//! not fit a whole number are refused.

use std::fmt::Write;

use knowledge::{Knowledge, KnowledgeError};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::calculator::{
    DefaultApplied, Figure, Formulas, Working, push_workings, read_defaults, show,
};
use crate::costs::CostTable;
pub use crate::costs::{CostBasis, CostRange};
use crate::diagnose_bottleneck::{DiagnoseBottleneck, StageRef};
use crate::markdown::{push_unique, sources};
use crate::numbers::{self, money};
use crate::{Advisor, ArgError, Detail, MissingInput, Tool, missing_input, needs};

// Today's peak and whatever else is known about servers, database and users.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PlanCapacityArgs {
    /// Today's peak, requests/s.
    #[schemars(extend("exclusiveMinimum" = 0))]
    pub peak_rps: f64,
    /// Growth multiple (3 = 3x). Default 1.
    #[schemars(extend("exclusiveMinimum" = 0))]
    pub growth_factor: Option<f64>,
    /// Headroom multiplier. Default 1.5.
    #[schemars(range(min = 1))]
    pub safety_margin: Option<f64>,
    /// Requests/s per server; gives servers.
    #[schemars(extend("exclusiveMinimum" = 0))]
    pub per_server_rps: Option<f64>,
    /// Cores per DB; gives pool_size.
    #[schemars(range(min = 1))]
    pub db_cores: Option<u64>,
    /// DB disk spindles, SSD = 1. Default 1.
    pub effective_spindles: Option<u64>,
    /// Reads/s incl. growth; gives replicas.
    #[schemars(extend("exclusiveMinimum" = 0))]
    pub reads_per_sec: Option<f64>,
    /// Reads/s one replica serves.
    #[schemars(extend("exclusiveMinimum" = 0))]
    pub replica_read_capacity_per_sec: Option<f64>,
    /// Mean response time, ms.
    #[schemars(extend("exclusiveMinimum" = 0))]
    pub avg_latency_ms: Option<f64>,
    /// Users; gives stage and cost.
    pub users: Option<u64>,
    /// concise (default) or full.
    #[serde(default)]
    pub detail: Detail,
}

/// The capacity plan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct CapacityPlan {
    /// The answer in one to three sentences: required capacity and each figure computed.
    pub summary: String,
    /// Capacity to plan for, requests per second: peak_rps × growth_factor × safety_margin.
    pub required_rps: f64,
    /// Application servers, with `per_server_rps`: ceil(required_rps / per_server_rps).
    pub servers: Option<u64>,
    /// Connections per database instance, with `db_cores`: db_cores × 2 + effective_spindles.
    pub pool_size: Option<u64>,
    /// Read replicas, with read figures: ceil(reads_per_sec × safety_margin / replica_read_capacity_per_sec), the same headroom as servers.
    pub read_replicas: Option<u64>,
    /// Requests in the system at once (Little's law), with `avg_latency_ms`: required_rps × avg_latency_ms / 1000.
    pub in_flight_requests: Option<f64>,
    /// The scaling stage of `users`: 1 Prototype, 2 Caching, 3 Read Replicas, 4 Sharding, 5 Distributed.
    pub stage: Option<StageRef>,
    /// The cost band of `users`, from `capacity-planning#cost-by-scale`.
    pub monthly_cost_usd: Option<CostRange>,
    /// Every computed figure: formula, numbers substituted, value.
    pub workings: Vec<Working>,
    /// The defaults used for arguments not given.
    pub defaults_applied: Vec<DefaultApplied>,
    /// Figures left out and what they need, in words (`detail: full`; `missing_inputs`
    /// lists the same arguments).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    /// Arguments not given that would have added a figure.
    pub missing_inputs: Vec<MissingInput>,
    pub sources: Vec<String>,
}

/// The defaults of `capacity-planning#defaults`.
struct CapacityDefaults {
    growth_factor: f64,
    safety_margin: f64,
    effective_spindles: u64,
}

/// The tables `plan_capacity` applies, read once from the knowledge base.
pub struct CapacityTables {
    defaults: CapacityDefaults,
    defaults_uri: String,
    formulas: Formulas,
    costs: CostTable,
    stages_uri: String,
    /// The largest user count priced (`capacity-planning#plausible-inputs`), and why.
    max_users: (f64, String),
}

/// The quantities `plan_capacity` computes, in order, and the quantities each formula may name
/// (the values the calculator has at that point and substitutes).
const FORMULAS: [(&str, &[&str]); 5] = [
    (
        "required_rps",
        &["peak_rps", "growth_factor", "safety_margin"],
    ),
    ("servers", &["required_rps", "per_server_rps"]),
    ("pool_size", &["db_cores", "effective_spindles"]),
    (
        "read_replicas",
        &[
            "reads_per_sec",
            "safety_margin",
            "replica_read_capacity_per_sec",
        ],
    ),
    ("in_flight_requests", &["required_rps", "avg_latency_ms"]),
];

const DEFAULTS: [&str; 3] = ["growth_factor", "safety_margin", "effective_spindles"];

impl CapacityTables {
    pub(crate) fn load(knowledge: &Knowledge) -> Result<Self, KnowledgeError> {
        let table = knowledge.table("capacity-planning", "defaults")?;
        let values = read_defaults::<PlanCapacityArgs>(&table, &DEFAULTS)?;
        let defaults = CapacityDefaults {
            growth_factor: values[0],
            safety_margin: values[1],
            // `read_defaults` checked it is a whole number of at least 0.
            effective_spindles: values[2] as u64,
        };
        let defaults_uri = table.uri();

        let formulas = Formulas::load(knowledge, "capacity-planning", "formulas", &FORMULAS)?;

        let costs = CostTable::load(knowledge)?;
        let stages_uri = knowledge.table("scaling-stages", "stages")?.uri();

        let table = knowledge.table("capacity-planning", "plausible-inputs")?;
        table.require_columns(&["argument", "max", "reason"])?;
        let row = table
            .rows()
            .find(|r| r.text("argument").is_ok_and(|a| a == "users"))
            .ok_or_else(|| table.error("the table needs a `users` row"))?;
        let max_users = (row.number("max")?, row.required("reason")?.to_string());

        Ok(Self {
            defaults,
            defaults_uri,
            formulas,
            costs,
            stages_uri,
            max_users,
        })
    }
}

impl CapacityTables {
    /// The monthly cost band of a system with `users` at stage `stage`: the first row whose
    /// `max_users` reaches the count, unless that row prices a later stage than `stage`; then
    /// the band runs from the previous row's low to this row's high and is named by the previous
    /// row, so that a band never describes an architecture the system has not reached.
    pub(crate) fn cost_band(&self, users: u64, stage: u8) -> CostRange {
        self.costs.band(users, stage)
    }
}

/// Plans capacity for `args`: the capacity to plan for, then each figure it gives with the
/// arguments that figure needs, then the stage and cost band of the users.
pub fn run(advisor: &Advisor, args: PlanCapacityArgs) -> Result<CapacityPlan, ArgError> {
    let catalog = advisor.tables::<PlanCapacity>()?;
    let (max_users, why) = &catalog.max_users;
    if let Some(users) = args.users
        && users as f64 > *max_users
    {
        return Err(ArgError::new(
            "users",
            users.to_string(),
            format!("at most {} (beyond it: {why})", numbers::exact(*max_users)),
        ));
    }
    let mut ledger = crate::calculator::Ledger::default();
    let (required_rps, safety) = required_rps(catalog, &args, &mut ledger)?;
    let servers = servers(catalog, &args, required_rps, &mut ledger)?;
    let pool_size = pool_size(catalog, &args, &mut ledger)?;
    if !ledger.defaults_applied.is_empty() {
        push_unique(&mut ledger.sources, catalog.defaults_uri.clone());
    }
    let read_replicas = read_replicas(catalog, &args, safety, &mut ledger)?;
    let in_flight_requests = in_flight_requests(catalog, &args, required_rps, &mut ledger)?;
    let (stage, monthly_cost_usd) = stage_and_cost(advisor, catalog, &args, &mut ledger)?;

    let mut plan = CapacityPlan {
        summary: String::new(),
        required_rps,
        servers,
        pool_size,
        read_replicas,
        in_flight_requests,
        stage,
        monthly_cost_usd,
        workings: ledger.workings,
        defaults_applied: ledger.defaults_applied,
        notes: ledger.notes,
        missing_inputs: ledger.missing,
        sources: ledger.sources,
    };
    plan.summary = summary_of(&plan);
    Ok(plan)
}

/// The capacity to plan for: today's peak times the growth and the safety margin (returned
/// too, for the replicas).
fn required_rps(
    catalog: &CapacityTables,
    args: &PlanCapacityArgs,
    ledger: &mut crate::calculator::Ledger,
) -> Result<(f64, f64), ArgError> {
    let growth = ledger.amount_or_default(
        "growth_factor",
        args.growth_factor,
        catalog.defaults.growth_factor,
    );
    let safety = ledger.amount_or_default(
        "safety_margin",
        args.safety_margin,
        catalog.defaults.safety_margin,
    );
    let operands = [
        ("peak_rps", Figure::Amount(args.peak_rps)),
        ("growth_factor", Figure::Amount(growth)),
        ("safety_margin", Figure::Amount(safety)),
    ];
    let required = ledger.amount(
        &catalog.formulas,
        "required_rps",
        &operands,
        ("peak_rps", args.peak_rps),
    )?;
    Ok((required, safety))
}

/// Application servers for the required capacity, with a server's capacity.
fn servers(
    catalog: &CapacityTables,
    args: &PlanCapacityArgs,
    required_rps: f64,
    ledger: &mut crate::calculator::Ledger,
) -> Result<Option<u64>, ArgError> {
    let Some(per_server) = needs(
        &mut ledger.missing,
        args.per_server_rps,
        "per_server_rps",
        "servers",
    ) else {
        ledger.notes.push("servers needs per_server_rps".into());
        return Ok(None);
    };
    let operands = [
        ("required_rps", Figure::Amount(required_rps)),
        ("per_server_rps", Figure::Amount(per_server)),
    ];
    let servers = ledger.count(
        &catalog.formulas,
        "servers",
        &operands,
        ("per_server_rps", show(per_server)),
    )?;
    Ok(Some(servers))
}

/// Connections per database instance, from its cores and spindles.
fn pool_size(
    catalog: &CapacityTables,
    args: &PlanCapacityArgs,
    ledger: &mut crate::calculator::Ledger,
) -> Result<Option<u64>, ArgError> {
    let Some(cores) = needs(&mut ledger.missing, args.db_cores, "db_cores", "pool_size") else {
        let mut note = "pool_size needs db_cores".to_string();
        if args.effective_spindles.is_some() {
            note.push_str(" (effective_spindles applies only with db_cores)");
        }
        ledger.notes.push(note);
        return Ok(None);
    };
    let spindles = ledger.count_or_default(
        "effective_spindles",
        args.effective_spindles,
        catalog.defaults.effective_spindles,
    );
    let operands = [
        ("db_cores", Figure::Count(cores)),
        ("effective_spindles", Figure::Count(spindles)),
    ];
    let pool = ledger.count(
        &catalog.formulas,
        "pool_size",
        &operands,
        ("db_cores", cores.to_string()),
    )?;
    Ok(Some(pool))
}

/// Read replicas for the reads, with the servers' safety margin, with both the read rate and a
/// replica's capacity; what is missing is noted.
fn read_replicas(
    catalog: &CapacityTables,
    args: &PlanCapacityArgs,
    safety: f64,
    ledger: &mut crate::calculator::Ledger,
) -> Result<Option<u64>, ArgError> {
    let note = match (args.reads_per_sec, args.replica_read_capacity_per_sec) {
        (Some(reads), Some(capacity)) => {
            let operands = [
                ("reads_per_sec", Figure::Amount(reads)),
                ("safety_margin", Figure::Amount(safety)),
                ("replica_read_capacity_per_sec", Figure::Amount(capacity)),
            ];
            let replicas = ledger.count(
                &catalog.formulas,
                "read_replicas",
                &operands,
                ("replica_read_capacity_per_sec", show(capacity)),
            )?;
            return Ok(Some(replicas));
        }
        (None, None) => {
            missing_input(&mut ledger.missing, "reads_per_sec", "read_replicas");
            missing_input(
                &mut ledger.missing,
                "replica_read_capacity_per_sec",
                "read_replicas",
            );
            "read_replicas needs reads_per_sec and replica_read_capacity_per_sec"
        }
        (Some(_), None) => {
            missing_input(
                &mut ledger.missing,
                "replica_read_capacity_per_sec",
                "read_replicas",
            );
            "read_replicas needs replica_read_capacity_per_sec as well"
        }
        (None, Some(_)) => {
            missing_input(&mut ledger.missing, "reads_per_sec", "read_replicas");
            "read_replicas needs reads_per_sec as well"
        }
    };
    ledger.notes.push(note.to_string());
    Ok(None)
}

/// Requests in the system at once (Little's law), with the mean response time.
fn in_flight_requests(
    catalog: &CapacityTables,
    args: &PlanCapacityArgs,
    required_rps: f64,
    ledger: &mut crate::calculator::Ledger,
) -> Result<Option<f64>, ArgError> {
    let Some(latency) = needs(
        &mut ledger.missing,
        args.avg_latency_ms,
        "avg_latency_ms",
        "in_flight_requests",
    ) else {
        ledger
            .notes
            .push("in_flight_requests needs avg_latency_ms".into());
        return Ok(None);
    };
    let operands = [
        ("required_rps", Figure::Amount(required_rps)),
        ("avg_latency_ms", Figure::Amount(latency)),
    ];
    let in_flight = ledger.amount(
        &catalog.formulas,
        "in_flight_requests",
        &operands,
        ("avg_latency_ms", latency),
    )?;
    Ok(Some(in_flight))
}

/// The stage of the users and the monthly cost band of that stage, with the user count.
fn stage_and_cost(
    advisor: &Advisor,
    catalog: &CapacityTables,
    args: &PlanCapacityArgs,
    ledger: &mut crate::calculator::Ledger,
) -> Result<(Option<StageRef>, Option<CostRange>), ArgError> {
    let Some(users) = needs(
        &mut ledger.missing,
        args.users,
        "users",
        "stage, monthly_cost_usd",
    ) else {
        ledger
            .notes
            .push("stage and monthly_cost_usd need users".into());
        return Ok((None, None));
    };
    let stages = &advisor.tables::<DiagnoseBottleneck>()?.stages;
    let number = stages.for_users(users as f64);
    let stage = stages
        .iter()
        .find(|s| s.number == number)
        .map(|s| StageRef {
            number: s.number,
            name: s.name.clone(),
        });
    push_unique(&mut ledger.sources, catalog.stages_uri.clone());
    let cost = Some(catalog.cost_band(users, number));
    push_unique(&mut ledger.sources, catalog.costs.uri.clone());
    Ok((stage, cost))
}

/// "Plan for 36,000 req/s: 45 servers, pool 33 per DB, 4 read replicas, 4,320 in flight;
/// stage 3 · Read Replicas, $10,000–$30,000/month."
fn summary_of(plan: &CapacityPlan) -> String {
    let mut figures = Vec::new();
    if let Some(servers) = plan.servers {
        figures.push(format!(
            "{} server{}",
            numbers::count(servers),
            if servers == 1 { "" } else { "s" }
        ));
    }
    if let Some(pool) = plan.pool_size {
        figures.push(format!(
            "a pool of {} connections per database",
            numbers::count(pool)
        ));
    }
    if let Some(replicas) = plan.read_replicas {
        figures.push(format!(
            "{} read replica{}",
            numbers::count(replicas),
            if replicas == 1 { "" } else { "s" }
        ));
    }
    if let Some(in_flight) = plan.in_flight_requests {
        figures.push(format!(
            "{} requests in flight",
            numbers::quantity(in_flight)
        ));
    }
    let mut out = format!("Plan for {} req/s", numbers::quantity(plan.required_rps));
    if !figures.is_empty() {
        out.push_str(": ");
        out.push_str(&figures.join(", "));
    }
    if let (Some(stage), Some(cost)) = (&plan.stage, &plan.monthly_cost_usd) {
        let _ = std::fmt::Write::write_fmt(
            &mut out,
            format_args!(
                "; stage {} · {}, {}{}/month",
                stage.number,
                stage.name,
                money(cost.low as f64),
                cost.high
                    .map_or("+".to_string(), |h| format!("–{}", money(h as f64)))
            ),
        );
    }
    out.push('.');
    if !plan.missing_inputs.is_empty() {
        let fields: Vec<&str> = plan
            .missing_inputs
            .iter()
            .map(|m| m.field.as_str())
            .collect();
        out.push_str(&format!(" Not computed without {}.", fields.join(", ")));
    }
    crate::summary(out)
}

/// The plan as markdown: the figures, the workings, the sources.
pub fn to_markdown(p: &CapacityPlan) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "## Capacity: plan for {} requests per second",
        numbers::quantity(p.required_rps)
    );
    let mut figures = Vec::new();
    if let Some(servers) = p.servers {
        figures.push(format!("Application servers: {}", numbers::count(servers)));
    }
    if let Some(pool) = p.pool_size {
        figures.push(format!(
            "Connection pool: {} per database instance",
            numbers::count(pool)
        ));
    }
    if let Some(replicas) = p.read_replicas {
        figures.push(format!("Read replicas: {}", numbers::count(replicas)));
    }
    if let Some(in_flight) = p.in_flight_requests {
        figures.push(format!(
            "Requests in flight (Little's law): {}",
            numbers::quantity(in_flight)
        ));
    }
    if let Some(stage) = &p.stage {
        figures.push(format!("Stage {} · {}", stage.number, stage.name));
    }
    if let Some(cost) = &p.monthly_cost_usd {
        let band = match cost.high {
            Some(high) => format!("{} to {}", money(cost.low as f64), money(high as f64)),
            None => format!("{} and up", money(cost.low as f64)),
        };
        let basis = match cost.basis {
            CostBasis::Between => format!(
                "between two rows of the cost table: {} already, the next row's architecture not yet",
                cost.architecture.to_lowercase()
            ),
            CostBasis::Row => cost.architecture.to_lowercase(),
        };
        figures.push(format!("Monthly cost: {band} ({basis})"));
    }
    if !figures.is_empty() {
        out.push('\n');
        for figure in figures {
            let _ = writeln!(out, "- {figure}");
        }
    }
    push_workings(&mut out, &p.workings, &p.defaults_applied, &p.notes);
    sources(&mut out, &p.sources);
    out
}

/// The `plan_capacity` tool.
pub struct PlanCapacity;

impl Tool for PlanCapacity {
    const NAME: &'static str = "plan_capacity";
    const TITLE: &'static str = "Plan capacity";
    const DESCRIPTION: &'static str = "Capacity planning: peak QPS × growth × headroom to servers, DB pool, read replicas (Little's law); stage, cost.";
    type Args = PlanCapacityArgs;
    type Output = CapacityPlan;
    type Tables = CapacityTables;

    fn load(knowledge: &Knowledge) -> Result<CapacityTables, KnowledgeError> {
        CapacityTables::load(knowledge)
    }

    fn run(advisor: &Advisor, args: PlanCapacityArgs) -> Result<CapacityPlan, ArgError> {
        run(advisor, args)
    }

    fn to_markdown(output: &CapacityPlan) -> String {
        to_markdown(output)
    }

    // What concise leaves out (issue 26): each working's formula, which its cited row holds
    // (the quantity, the numbers substituted and the value stay), and the cost band's
    // architecture label. Every field §5.6 names stays, nulls included.
    const CONCISE_OMITS: &'static [&'static str] = &[
        // Each working's value is a result field the summary also states; the substitution is
        // in the text block and in `full`. The defaults assumed (the 1.5 margin) stay.
        "workings",
        "monthly_cost_usd.architecture",
        "notes?",
    ];

    /// Concise leaves out the notes, which say in words what `missing_inputs` lists.
    fn shape(output: &mut CapacityPlan, detail: Detail) {
        if !detail.is_full() {
            output.notes.clear();
        }
    }
}

//! `plan_capacity`: from today's peak to the capacity to plan for, and from there to servers,
//! connections per database instance, read replicas, requests in flight, the stage and the
//! monthly cost band. Formulas, defaults and the cost table are those of `capacity-planning`;
//! every figure comes with its working, and inputs whose results would not be finite or would
//! not fit a whole number are refused.

use std::fmt::Write;

use knowledge::{Knowledge, KnowledgeError};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::diagnose_bottleneck::StageRef;
use crate::markdown::{push_unique, sources};
use crate::size_cache::{
    DefaultApplied, Figure, Formulas, Working, ceil_whole, push_workings, read_defaults, show,
    too_large, too_many,
};
use crate::{Advisor, ArgError, Tool};

// Today's peak and whatever else is known about servers, database and users.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PlanCapacityArgs {
    /// Today's peak, requests/s.
    #[schemars(extend("exclusiveMinimum" = 0))]
    pub peak_rps: f64,
    /// Growth multiplier (3 = triple). Default 1.
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
}

/// Rough monthly infrastructure cost, US dollars.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct CostRange {
    pub low: u64,
    /// Null for the last band, which has no upper cost.
    pub high: Option<u64>,
    /// The architecture that band pays for.
    pub architecture: String,
    /// The band's upper user bound; null for the last band.
    pub max_users: Option<u64>,
}

/// The capacity plan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct CapacityPlan {
    /// Capacity to plan for, requests per second: peak_rps × growth_factor × safety_margin.
    pub required_rps: f64,
    /// Application servers, with `per_server_rps`: ceil(required_rps / per_server_rps).
    pub servers: Option<u64>,
    /// Connections per database instance, with `db_cores`: db_cores × 2 + effective_spindles.
    pub pool_size: Option<u64>,
    /// Read replicas, with read figures: ceil(reads_per_sec / replica_read_capacity_per_sec).
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
    /// Figures left out and what they need.
    pub notes: Vec<String>,
    pub sources: Vec<String>,
}

struct CostBand {
    max_users: Option<u64>,
    architecture: String,
    low: u64,
    high: Option<u64>,
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
    costs: Vec<CostBand>,
    costs_uri: String,
    stages_uri: String,
}

/// The quantities `plan_capacity` computes and the operands of each formula.
const FORMULAS: [(&str, &[&str]); 5] = [
    (
        "required_rps",
        &["peak_rps", "growth_factor", "safety_margin"],
    ),
    ("servers", &["required_rps", "per_server_rps"]),
    ("pool_size", &["db_cores", "effective_spindles"]),
    (
        "read_replicas",
        &["reads_per_sec", "replica_read_capacity_per_sec"],
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

        let table = knowledge.table("capacity-planning", "cost-by-scale")?;
        table.require_columns(&["max_users", "architecture", "low_usd", "high_usd"])?;
        table.require_rows()?;
        let mut costs: Vec<CostBand> = Vec::new();
        for row in table.rows() {
            if costs.last().is_some_and(|c| c.max_users.is_none()) {
                return Err(row.error("only the last band may leave `max_users` empty"));
            }
            let max_users = match row.optional("max_users")? {
                Some(_) => Some(row.integer("max_users")?),
                None => None,
            };
            if let (Some(max), Some(previous)) = (max_users, costs.last().and_then(|c| c.max_users))
                && max <= previous
            {
                return Err(row.error("bands must be listed by growing `max_users`"));
            }
            let low = row.integer("low_usd")?;
            let high = match row.optional("high_usd")? {
                Some(_) => Some(row.integer("high_usd")?),
                None => None,
            };
            if high.is_some_and(|h| h < low) {
                return Err(row.error("`high_usd` must be at least `low_usd`"));
            }
            costs.push(CostBand {
                max_users,
                architecture: row.required("architecture")?.to_string(),
                low,
                high,
            });
        }
        if costs.last().is_some_and(|c| c.max_users.is_some()) {
            return Err(table.error(
                "the last band must leave `max_users` empty, so that every user count has a cost",
            ));
        }
        let costs_uri = table.uri();
        let stages_uri = knowledge.table("scaling-stages", "stages")?.uri();

        Ok(Self {
            defaults,
            defaults_uri,
            formulas,
            costs,
            costs_uri,
            stages_uri,
        })
    }
}

/// Plans capacity for `args`.
pub fn run(advisor: &Advisor, args: PlanCapacityArgs) -> Result<CapacityPlan, ArgError> {
    let catalog = advisor.tables::<PlanCapacity>()?;
    let formulas = &catalog.formulas;
    let mut workings = Vec::new();
    let mut defaults_applied = Vec::new();
    let mut notes = Vec::new();
    let mut sources = Vec::new();

    let growth = args.growth_factor.unwrap_or_else(|| {
        defaults_applied.push(DefaultApplied {
            parameter: "growth_factor".into(),
            value: Figure::Amount(catalog.defaults.growth_factor),
        });
        catalog.defaults.growth_factor
    });
    let safety = args.safety_margin.unwrap_or_else(|| {
        defaults_applied.push(DefaultApplied {
            parameter: "safety_margin".into(),
            value: Figure::Amount(catalog.defaults.safety_margin),
        });
        catalog.defaults.safety_margin
    });
    let required_rps = args.peak_rps * growth * safety;
    if !required_rps.is_finite() {
        return Err(too_large(
            "peak_rps",
            args.peak_rps,
            "peak_rps × growth_factor × safety_margin",
        ));
    }
    workings.push(formulas.working(
        "required_rps",
        &[
            ("peak_rps", Figure::Amount(args.peak_rps)),
            ("growth_factor", Figure::Amount(growth)),
            ("safety_margin", Figure::Amount(safety)),
        ],
        Figure::Amount(required_rps),
    ));
    formulas.cite("required_rps", &mut sources);

    let servers = match args.per_server_rps {
        Some(per_server) => {
            let servers = ceil_whole(required_rps / per_server).ok_or_else(|| {
                too_many(
                    "per_server_rps",
                    show(per_server),
                    "servers = ceil(required_rps / per_server_rps)",
                )
            })?;
            workings.push(formulas.working(
                "servers",
                &[
                    ("required_rps", Figure::Amount(required_rps)),
                    ("per_server_rps", Figure::Amount(per_server)),
                ],
                Figure::Count(servers),
            ));
            formulas.cite("servers", &mut sources);
            Some(servers)
        }
        None => {
            notes.push("servers needs per_server_rps".into());
            None
        }
    };

    let pool_size = match args.db_cores {
        Some(cores) => {
            let spindles = args.effective_spindles.unwrap_or_else(|| {
                defaults_applied.push(DefaultApplied {
                    parameter: "effective_spindles".into(),
                    value: Figure::Count(catalog.defaults.effective_spindles),
                });
                catalog.defaults.effective_spindles
            });
            let pool = cores
                .checked_mul(2)
                .and_then(|c| c.checked_add(spindles))
                .ok_or_else(|| {
                    too_many(
                        "db_cores",
                        cores.to_string(),
                        "pool_size = db_cores × 2 + effective_spindles",
                    )
                })?;
            workings.push(formulas.working(
                "pool_size",
                &[
                    ("db_cores", Figure::Count(cores)),
                    ("effective_spindles", Figure::Count(spindles)),
                ],
                Figure::Count(pool),
            ));
            formulas.cite("pool_size", &mut sources);
            Some(pool)
        }
        None => {
            let mut note = "pool_size needs db_cores".to_string();
            if args.effective_spindles.is_some() {
                note.push_str(" (effective_spindles applies only with db_cores)");
            }
            notes.push(note);
            None
        }
    };
    if !defaults_applied.is_empty() {
        push_unique(&mut sources, catalog.defaults_uri.clone());
    }

    let read_replicas = match (args.reads_per_sec, args.replica_read_capacity_per_sec) {
        (Some(reads), Some(capacity)) => {
            let replicas = ceil_whole(reads / capacity).ok_or_else(|| {
                too_many(
                    "replica_read_capacity_per_sec",
                    show(capacity),
                    "read_replicas = ceil(reads_per_sec / replica_read_capacity_per_sec)",
                )
            })?;
            workings.push(formulas.working(
                "read_replicas",
                &[
                    ("reads_per_sec", Figure::Amount(reads)),
                    ("replica_read_capacity_per_sec", Figure::Amount(capacity)),
                ],
                Figure::Count(replicas),
            ));
            formulas.cite("read_replicas", &mut sources);
            Some(replicas)
        }
        (None, None) => {
            notes
                .push("read_replicas needs reads_per_sec and replica_read_capacity_per_sec".into());
            None
        }
        (Some(_), None) => {
            notes.push("read_replicas needs replica_read_capacity_per_sec as well".into());
            None
        }
        (None, Some(_)) => {
            notes.push("read_replicas needs reads_per_sec as well".into());
            None
        }
    };

    let in_flight_requests = match args.avg_latency_ms {
        Some(latency) => {
            // In the formula's order when that stays finite, else dividing first.
            let in_flight = match required_rps * latency / 1000.0 {
                x if x.is_finite() => x,
                _ => required_rps * (latency / 1000.0),
            };
            if !in_flight.is_finite() {
                return Err(too_large(
                    "avg_latency_ms",
                    latency,
                    "required_rps × avg_latency_ms / 1000",
                ));
            }
            workings.push(formulas.working(
                "in_flight_requests",
                &[
                    ("required_rps", Figure::Amount(required_rps)),
                    ("avg_latency_ms", Figure::Amount(latency)),
                ],
                Figure::Amount(in_flight),
            ));
            formulas.cite("in_flight_requests", &mut sources);
            Some(in_flight)
        }
        None => {
            notes.push("in_flight_requests needs avg_latency_ms".into());
            None
        }
    };

    let (stage, monthly_cost_usd) = match args.users {
        Some(users) => {
            let rules = advisor.tables::<crate::diagnose_bottleneck::DiagnoseBottleneck>()?;
            let number = rules.stage_for_users(users as f64);
            let stage = rules
                .stages
                .iter()
                .find(|s| s.number == number)
                .map(|s| StageRef {
                    number: s.number,
                    name: s.name.clone(),
                });
            push_unique(&mut sources, catalog.stages_uri.clone());
            // `load` requires a last band without a bound, so a band always matches.
            let cost = catalog
                .costs
                .iter()
                .find(|c| c.max_users.is_none_or(|max| users <= max))
                .map(|c| CostRange {
                    low: c.low,
                    high: c.high,
                    architecture: c.architecture.clone(),
                    max_users: c.max_users,
                });
            push_unique(&mut sources, catalog.costs_uri.clone());
            (stage, cost)
        }
        None => {
            notes.push("stage and monthly_cost_usd need users".into());
            (None, None)
        }
    };

    Ok(CapacityPlan {
        required_rps,
        servers,
        pool_size,
        read_replicas,
        in_flight_requests,
        stage,
        monthly_cost_usd,
        workings,
        defaults_applied,
        notes,
        sources,
    })
}

/// The plan as markdown: the figures, the workings, the sources.
pub fn to_markdown(p: &CapacityPlan) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "## Capacity: plan for {} requests per second",
        show(p.required_rps)
    );
    let mut figures = Vec::new();
    if let Some(servers) = p.servers {
        figures.push(format!("Application servers: {servers}"));
    }
    if let Some(pool) = p.pool_size {
        figures.push(format!("Connection pool: {pool} per database instance"));
    }
    if let Some(replicas) = p.read_replicas {
        figures.push(format!("Read replicas: {replicas}"));
    }
    if let Some(in_flight) = p.in_flight_requests {
        figures.push(format!(
            "Requests in flight (Little's law): {}",
            show(in_flight)
        ));
    }
    if let Some(stage) = &p.stage {
        figures.push(format!("Stage {} · {}", stage.number, stage.name));
    }
    if let Some(cost) = &p.monthly_cost_usd {
        let band = match cost.high {
            Some(high) => format!("{} to {}", dollars(cost.low), dollars(high)),
            None => format!("{} and up", dollars(cost.low)),
        };
        figures.push(format!(
            "Monthly cost: {band} ({})",
            cost.architecture.to_lowercase()
        ));
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

/// Whole dollars with thousands separators: `$10,000`.
fn dollars(amount: u64) -> String {
    let digits = amount.to_string();
    let mut grouped = String::new();
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(digit);
    }
    format!("${grouped}")
}

/// The `plan_capacity` tool.
pub struct PlanCapacity;

impl Tool for PlanCapacity {
    const NAME: &'static str = "plan_capacity";
    const TITLE: &'static str = "Plan capacity";
    const DESCRIPTION: &'static str = "Compute capacity (peak × growth × margin), servers, DB pool, replicas and in-flight requests with the formulas; stage and cost from users.";
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
}

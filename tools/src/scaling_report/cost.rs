//! Cost Impact: today's cost against the band the change leads to, the change in dollars, why
//! it is worth it, and, with growth, the cost as load grows.

use std::fmt::Write;

use knowledge::grouped;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::ReportArgs;
use super::components::{ComponentToAdd, Role};
use super::roadmap::{self, Growth, step_name};
use super::template::ReportTemplate;
use super::words::{capitalized, component_words};
use crate::costs::CostBand;
use crate::diagnose_bottleneck::{Diagnosis, Severity, StageRef};
use crate::markdown::push_unique;
use crate::numbers::{self, money};
use crate::plan_capacity::{CapacityPlan, CostBasis, CostRange};

/// Current against projected monthly cost.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct CostImpact {
    /// As given, US dollars per month.
    pub current_monthly_usd: Option<f64>,
    /// The cost band of today's user count, when `system.users` is given.
    pub current_band: Option<CostRange>,
    /// The cost band after the change, from `capacity-planning#cost-by-scale`.
    pub projected: CostRange,
    /// What the projection rests on (a user count, or the target stage); detail full only,
    /// the Cost Impact section states it.
    #[serde(default)]
    pub projected_basis: String,
    /// projected.low − current, with a current cost.
    pub change_low_usd: Option<f64>,
    /// projected.high − current, with a current cost and a bounded band.
    pub change_high_usd: Option<f64>,
    /// Why the change is worth its cost (`detail: full`; the Cost Impact section says it too).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub justification: String,
    /// With `growth`: today's cost scaled by the load multiple at the horizon, US dollars per
    /// month (with `current_monthly_cost_usd`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at_horizon_usd: Option<f64>,
    /// With `growth`: the monthly cost once each roadmap step is done, in the steps' order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub after_steps: Vec<CostAfterStep>,
}

/// The monthly cost when a roadmap step is done: the load then, today's cost scaled by it, and
/// the band of the users then.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct CostAfterStep {
    /// Index of the step in `roadmap`, from 1.
    pub step: usize,
    /// The step's done_by_month.
    pub month: f64,
    /// Load then, as a multiple of today's.
    pub load_multiple: f64,
    /// Users then, with `system.users`.
    pub users: Option<u64>,
    /// Today's cost times the load multiple, with `current_monthly_cost_usd`.
    pub scaled_usd: Option<f64>,
    /// The cost band of the users then, with `system.users`.
    pub band: Option<CostRange>,
}

pub(super) fn band_text(range: &CostRange) -> String {
    match range.high {
        Some(high) => format!(
            "{} to {} per month ({})",
            money(range.low as f64),
            money(high as f64),
            range.architecture
        ),
        None => format!(
            "{} and more per month ({})",
            money(range.low as f64),
            range.architecture
        ),
    }
}

/// The projected band less today's cost ("−$800 to +$1,200"), when today's cost is given.
pub(super) fn change_text(cost: &CostImpact) -> Option<String> {
    let low = cost.change_low_usd?;
    Some(match cost.change_high_usd {
        Some(high) => format!("{} to {}", signed(low), signed(high)),
        None => format!("{} or more", signed(low)),
    })
}

fn signed(amount: f64) -> String {
    if amount >= 0.0 {
        format!("+{}", money(amount))
    } else {
        money(amount)
    }
}

pub(super) struct CostInputs<'a> {
    pub(super) args: &'a ReportArgs,
    pub(super) diagnosis: &'a Diagnosis,
    pub(super) capacity: Option<&'a CapacityPlan>,
    pub(super) target_min_users: f64,
    pub(super) target: &'a StageRef,
    pub(super) components: &'a [ComponentToAdd],
    pub(super) growth: Option<&'a Growth<'a>>,
}

pub(super) fn cost_impact(
    catalog: &ReportTemplate,
    input: &CostInputs<'_>,
    sources: &mut Vec<String>,
) -> CostImpact {
    let system_users = input.args.system.users;
    // Bands of a user count come from the cost table's one rule (`CostTable::band`), so this
    // report and plan_capacity quote one band.
    let current_band =
        system_users.map(|u| catalog.costs.band(u, catalog.stages.for_users(u as f64)));
    let (projected, basis) = match (input.growth, system_users) {
        (Some(g), Some(users)) => {
            let horizon = f64::from(g.forecast.horizon_months);
            let then = (users as f64 * g.multiple(horizon)).round() as u64;
            (
                catalog
                    .costs
                    .band(then, catalog.stages.for_users(then as f64)),
                format!(
                    "{} users at month {} (`system.users` {} growing {})",
                    grouped(then),
                    g.forecast.horizon_months,
                    grouped(users),
                    g.rate_words()
                ),
            )
        }
        _ => projection(catalog, input),
    };
    push_unique(sources, catalog.costs.uri.clone());
    let current = input.args.current_monthly_cost_usd;
    let change_low_usd = current.map(|c| projected.low as f64 - c);
    let change_high_usd = current.and_then(|c| projected.high.map(|h| h as f64 - c));
    let justification = justification(input, &projected);
    CostImpact {
        current_monthly_usd: current,
        current_band,
        projected,
        projected_basis: basis,
        change_low_usd,
        change_high_usd,
        justification,
        at_horizon_usd: input
            .growth
            .zip(current)
            .map(|(g, c)| c * g.multiple(f64::from(g.forecast.horizon_months))),
        after_steps: input.growth.map_or(Vec::new(), |g| {
            after_steps(catalog, g, system_users, current)
        }),
    }
}

/// The cost once each roadmap step is done.
fn after_steps(
    catalog: &ReportTemplate,
    growth: &Growth<'_>,
    users: Option<u64>,
    current: Option<f64>,
) -> Vec<CostAfterStep> {
    growth
        .roadmap
        .steps
        .iter()
        .enumerate()
        .map(|(i, step)| {
            let load_multiple = growth.multiple(step.done_by_month);
            let users = users.map(|u| (u as f64 * load_multiple).round() as u64);
            CostAfterStep {
                step: i + 1,
                month: step.done_by_month,
                load_multiple,
                users,
                scaled_usd: current.map(|c| c * load_multiple),
                band: users.map(|u| catalog.costs.band(u, catalog.stages.for_users(u as f64))),
            }
        })
        .collect()
}

/// The band the change leads to and what it rests on: the capacity plan's users, else the
/// system's, else the target stage's first user count.
fn projection(catalog: &ReportTemplate, input: &CostInputs<'_>) -> (CostRange, String) {
    let system_users = input.args.system.users;
    let capacity_users = input.args.capacity.as_ref().and_then(|c| c.users);
    let stage_of = |users: u64| catalog.stages.for_users(users as f64);
    let (projected, basis) = match (
        input.capacity.and_then(|c| c.monthly_cost_usd.clone()),
        capacity_users,
    ) {
        (Some(range), Some(users)) => (
            Some(range),
            format!("{} users (from `capacity.users`)", grouped(users)),
        ),
        _ => match system_users {
            Some(users) => (
                Some(catalog.costs.band(users, stage_of(users))),
                format!("{} users (from `system.users`)", grouped(users)),
            ),
            None => (
                catalog
                    .costs
                    .for_stage(input.target_min_users)
                    .map(CostBand::range),
                format!(
                    "a stage {} · {} system (from {} users)",
                    input.target.number,
                    input.target.name,
                    grouped(input.target_min_users as u64)
                ),
            ),
        },
    };
    // `ReportTemplate::load` requires a last band without bound, so every lookup finds one.
    let projected = projected.unwrap_or(CostRange {
        low: 0,
        high: None,
        architecture: String::new(),
        max_users: None,
        basis: CostBasis::Row,
    });
    (projected, basis)
}

/// Why the change is worth its cost: what it answers, the critical findings it ends, the
/// headroom it buys, and the cost per user.
fn justification(input: &CostInputs<'_>, projected: &CostRange) -> String {
    let mut reasons: Vec<String> = Vec::new();
    match (input.growth, &input.diagnosis.next_stage) {
        (Some(g), _) if g.roadmap.steps.is_empty() => reasons.push(format!(
            "no step is needed, so spending follows traffic, since {}",
            g.no_step_reason()
        )),
        (Some(g), _) => {
            let horizon = f64::from(g.forecast.horizon_months);
            reasons.push(format!(
                "the roadmap's {} step{} keep{} each crossing from becoming an outage while load grows {}× by month {}",
                g.roadmap.steps.len(),
                if g.roadmap.steps.len() == 1 { "" } else { "s" },
                if g.roadmap.steps.len() == 1 { "s" } else { "" },
                times(g.multiple(horizon)),
                g.forecast.horizon_months
            ));
        }
        (None, Some(next)) => {
            let added: Vec<String> = input
                .components
                .iter()
                .filter(|c| c.role == Role::Add)
                .map(|c| component_words(&c.component))
                .collect();
            reasons.push(format!(
                "the move to stage {} · {}{} answers what ended the current stage: {}",
                next.number,
                next.name,
                if added.is_empty() {
                    String::new()
                } else {
                    format!(" (adding {})", added.join(", "))
                },
                next.reason.trim_end_matches('.')
            ));
        }
        (None, None) => reasons.push(
            "no architecture change is proposed, so spending follows traffic within today's band"
                .into(),
        ),
    }
    let critical: Vec<String> = input
        .diagnosis
        .findings
        .iter()
        .filter(|f| f.severity == Severity::Critical)
        .map(|f| format!("`{}`", f.id))
        .collect();
    if !critical.is_empty() {
        reasons.push(format!(
            "left alone, the critical findings ({}) cost users and revenue now",
            critical.join(", ")
        ));
    }
    if let Some(plan) = input.capacity {
        let mut headroom = format!(
            "it buys headroom for {} requests per second",
            numbers::quantity(plan.required_rps)
        );
        if let Some(servers) = plan.servers {
            let _ = write!(headroom, " on {servers} application servers");
        }
        reasons.push(headroom);
    }
    let capacity_users = input.args.capacity.as_ref().and_then(|c| c.users);
    let users = capacity_users
        .or(input.args.system.users)
        .filter(|u| *u > 0);
    if let Some(users) = users {
        reasons.push(per_user_text(projected, users));
    }
    capitalized(&reasons.join("; "))
}

/// The band per user per month. Cents are the useful precision for a cost per user; an end
/// under a cent says so without "about".
fn per_user_text(projected: &CostRange, users: u64) -> String {
    let cents = |amount: u64| {
        let x = amount as f64 / users as f64;
        (x >= 0.01).then(|| money(x))
    };
    match (cents(projected.low), projected.high.map(cents)) {
        (Some(low), Some(Some(high))) => format!("about {low} to {high} per user per month"),
        (None, Some(Some(high))) => format!("up to {high} per user per month"),
        (_, Some(None)) => "under $0.01 per user per month".to_string(),
        (Some(low), None) => format!("from {low} per user per month"),
        (None, None) => "under $0.01 per user per month at the low end".to_string(),
    }
}

/// A load multiple as a person reads it: "×100", "×2.4".
pub(super) fn times(multiple: f64) -> String {
    if multiple >= 10.0 {
        grouped(multiple.round() as u64)
    } else {
        format!("{multiple:.1}")
    }
}

/// With growth: today's cost scaled to the horizon, and the cost once each step is done.
fn growth_lines(cost: &CostImpact, growth: &Growth<'_>) -> String {
    let mut out = String::new();
    let horizon = growth.forecast.horizon_months;
    if let (Some(now), Some(then)) = (cost.current_monthly_usd, cost.at_horizon_usd) {
        let _ = writeln!(
            out,
            "- Today's cost scaled by load: {} now, {} per month by month {horizon} (load ×{}).",
            money(now),
            money(then),
            times(growth.multiple(f64::from(horizon)))
        );
    }
    if cost.after_steps.is_empty() {
        return out;
    }
    let _ = writeln!(out, "- After each step of the roadmap:");
    for (after, step) in cost.after_steps.iter().zip(&growth.roadmap.steps) {
        let mut parts = vec![format!("load ×{}", times(after.load_multiple))];
        if let Some(scaled) = after.scaled_usd {
            parts.push(format!(
                "{} per month at today's cost per unit of load",
                money(scaled)
            ));
        }
        if let (Some(band), Some(users)) = (&after.band, after.users) {
            parts.push(format!("{} for {} users", band_text(band), grouped(users)));
        }
        let _ = writeln!(
            out,
            "  - Step {}, {}, done by {}: {}.",
            after.step,
            step_name(step),
            numbers::month(after.month),
            parts.join("; ")
        );
    }
    out
}

pub(super) fn cost_section(cost: &CostImpact, growth: Option<&Growth<'_>>) -> String {
    let mut out = String::new();
    match (cost.current_monthly_usd, &cost.current_band) {
        (Some(current), _) => {
            let _ = writeln!(out, "- Current: {} per month (given).", money(current));
        }
        (None, Some(band)) => {
            let _ = writeln!(
                out,
                "- Current: not given (`current_monthly_cost_usd` would fill it); systems of this size typically cost {}.",
                band_text(band)
            );
        }
        (None, None) => {
            let _ = writeln!(
                out,
                "- Current: not given; `current_monthly_cost_usd` (or `system.users`) would fill it."
            );
        }
    }
    let _ = writeln!(
        out,
        "- Projected: {}, for {}.",
        band_text(&cost.projected),
        cost.projected_basis
    );
    if let Some(g) = growth {
        out.push_str(&growth_lines(cost, g));
        let _ = writeln!(out, "- {}", roadmap::timing(g));
    }
    if let Some(change) = change_text(cost) {
        let _ = writeln!(out, "- Change: {change} per month.");
    }
    let _ = writeln!(out, "- Return on investment: {}.", cost.justification);
    out
}

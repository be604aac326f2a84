//! Cost Impact: today's cost against the band the change leads to, the change in dollars, why
//! it is worth it, and, with growth, the cost as load grows.

use std::fmt::Write;

use knowledge::grouped;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::ReportArgs;
use super::components::{ComponentToAdd, Role};
use super::migration::first_break_sentence;
use super::template::ReportTemplate;
use super::words::{capitalized, component_words};
use crate::calculator::show;
use crate::costs::{CostBand, usd};
use crate::diagnose_bottleneck::{Diagnosis, Severity, StageRef};
use crate::forecast_growth::Forecast;
use crate::markdown::push_unique;
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
    /// What the projection rests on (a user count, or the target stage).
    pub projected_basis: String,
    /// projected.low − current, with a current cost.
    pub change_low_usd: Option<f64>,
    /// projected.high − current, with a current cost and a bounded band.
    pub change_high_usd: Option<f64>,
    /// Why the change is worth its cost (`detail: full`; the Cost Impact section says it too).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub justification: String,
}

pub(super) fn band_text(range: &CostRange) -> String {
    match range.high {
        Some(high) => format!(
            "{} to {} per month ({})",
            usd(range.low as f64),
            usd(high as f64),
            range.architecture
        ),
        None => format!(
            "{} and more per month ({})",
            usd(range.low as f64),
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
        format!("+{}", usd(amount))
    } else {
        usd(amount)
    }
}

pub(super) struct CostInputs<'a> {
    pub(super) args: &'a ReportArgs,
    pub(super) diagnosis: &'a Diagnosis,
    pub(super) capacity: Option<&'a CapacityPlan>,
    pub(super) target_min_users: f64,
    pub(super) target: &'a StageRef,
    pub(super) components: &'a [ComponentToAdd],
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
    let (projected, basis) = projection(catalog, input);
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
    }
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
    match &input.diagnosis.next_stage {
        Some(next) => {
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
        None => reasons.push(
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
            show(plan.required_rps)
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

/// The band per user per month. Cents are the useful precision for a cost per user.
fn per_user_text(projected: &CostRange, users: u64) -> String {
    let per_user = |amount: u64| match amount as f64 / users as f64 {
        x if x < 0.01 => "under $0.01".to_string(),
        x => usd(x),
    };
    match projected.high {
        Some(high) => format!(
            "about {} to {} per user per month",
            per_user(projected.low),
            per_user(high)
        ),
        None => format!("from {} per user per month", per_user(projected.low)),
    }
}

pub(super) fn cost_section(cost: &CostImpact) -> String {
    let mut out = String::new();
    match (cost.current_monthly_usd, &cost.current_band) {
        (Some(current), _) => {
            let _ = writeln!(out, "- Current: {} per month (given).", usd(current));
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
    if let Some(change) = change_text(cost) {
        let _ = writeln!(out, "- Change: {change} per month.");
    }
    let _ = writeln!(out, "- Return on investment: {}.", cost.justification);
    out
}

/// The Cost Impact's paragraph on growth: the cost as load grows, and by when it is needed.
pub(super) fn growth_for_cost(forecast: Option<&Forecast>) -> String {
    let Some(f) = forecast else {
        return String::new();
    };
    let mut out = String::from("\n**As load grows (forecast_growth):** ");
    if let Some(cost) = &f.cost {
        let _ = write!(
            out,
            "the monthly cost scales from {} to {} by month {}. ",
            usd(cost.current_monthly_cost_usd),
            usd(cost.at_horizon_usd),
            f.horizon_months
        );
    }
    match (first_break_sentence(f), f.first_to_break.as_ref()) {
        (Some(sentence), Some(first)) => {
            let _ = write!(out, "{sentence}");
            if let Some(m) = first.order_by_month {
                let _ = write!(out, "; the spend is needed by month {m:.1}");
            }
            out.push_str(".\n");
        }
        _ => out.push_str("Nothing reaches a warning line within the horizon.\n"),
    }
    out
}

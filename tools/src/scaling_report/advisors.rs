//! The other advisors the report runs, each in the report's own detail: `forecast_growth` with
//! `growth` (first, since its rate also gives the diagnosis its months to critical),
//! `diagnose_bottleneck` on `system`, `choose_datastore` with `requirements` and
//! `plan_capacity` with `capacity`. A refusal keeps the field path under the report's argument.

use super::ReportArgs;
use crate::choose_datastore::{self, DatastoreChoice};
use crate::diagnose_bottleneck::{self, DiagnoseArgs, Diagnosis};
use crate::forecast_growth::{self, Forecast, ForecastArgs};
use crate::plan_capacity::{self, CapacityPlan};
use crate::{Advisor, ArgError, MissingInput, missing_input, needs};

/// What the advisors answered about the system.
pub(super) struct Consulted {
    pub(super) forecast: Option<Forecast>,
    pub(super) diagnosis: Diagnosis,
    pub(super) datastore: Option<DatastoreChoice>,
    pub(super) capacity: Option<CapacityPlan>,
}

/// Runs the advisors `args` has arguments for, noting in `missing_inputs` what was not given.
pub(super) fn consult(
    advisor: &Advisor,
    args: &ReportArgs,
    missing_inputs: &mut Vec<MissingInput>,
) -> Result<Consulted, ArgError> {
    let forecast = match needs(missing_inputs, args.growth.as_ref(), "growth", "forecast") {
        Some(growth) => {
            let s = &args.system;
            let forecast_args = ForecastArgs {
                growth: growth.clone(),
                db_cpu_pct: s.db_cpu_pct,
                app_cpu_pct: s.app_cpu_pct,
                db_read_load_pct: s.db_read_load_pct,
                db_write_load_pct: s.db_write_load_pct,
                pool_utilization_pct: s.pool_utilization_pct,
                users: s.users,
                current_monthly_cost_usd: args.current_monthly_cost_usd,
                detail: args.detail,
                ..ForecastArgs::default()
            };
            Some(forecast_growth::run(advisor, forecast_args).map_err(nested("growth"))?)
        }
        None => None,
    };
    let diagnosis = diagnose_bottleneck::run(
        advisor,
        DiagnoseArgs {
            monthly_growth_pct: args
                .system
                .monthly_growth_pct
                .or(forecast.as_ref().map(|f| f.monthly_growth_pct)),
            ..args.system.clone()
        },
    )
    .map_err(nested("system"))?;
    nest_missing(missing_inputs, "system", &diagnosis.missing_inputs);
    let datastore = match needs(
        missing_inputs,
        args.requirements.as_ref(),
        "requirements",
        "datastore",
    ) {
        Some(requirements) => Some(
            choose_datastore::run(advisor, requirements.clone()).map_err(nested("requirements"))?,
        ),
        None => None,
    };
    let capacity = match needs(
        missing_inputs,
        args.capacity.as_ref(),
        "capacity",
        "capacity (servers, pool size, replicas, cost)",
    ) {
        Some(capacity) => {
            let plan = plan_capacity::run(advisor, capacity.clone()).map_err(nested("capacity"))?;
            nest_missing(missing_inputs, "capacity", &plan.missing_inputs);
            Some(plan)
        }
        None => None,
    };
    Ok(Consulted {
        forecast,
        diagnosis,
        datastore,
        capacity,
    })
}

/// A nested tool's refusal, with the field path under the report's argument.
fn nested(prefix: &'static str) -> impl Fn(ArgError) -> ArgError {
    move |mut error| {
        if error.field == "arguments" {
            error.field = prefix.to_string();
        } else if !error.field.starts_with('(') {
            error.field = format!("{prefix}.{}", error.field);
        }
        error
    }
}

/// A nested tool's missing inputs, under the report's argument that carries them.
fn nest_missing(missing: &mut Vec<MissingInput>, prefix: &str, nested: &[MissingInput]) {
    for m in nested {
        missing_input(missing, &format!("{prefix}.{}", m.field), &m.enables);
    }
}

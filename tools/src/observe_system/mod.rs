//! `observe_system`: what the live system looks like now and how fast it is growing, in the
//! advisor's own vocabulary (contract §8). The reading happens outside this crate: the server
//! reads the configured sources (crate `observe`, each within its deadline) and hands the
//! result here as a [`LiveObservation`]. This module only composes: each history's growth fit
//! becomes a trend (whose rate is passed on only when significant), each reading an argument
//! of `diagnose_bottleneck` or `forecast_growth`. Pure, so the same observation gives the
//! same bytes, and testable on observations built by hand.
//!
//! One room per step of [`compose`], in the order it calls them: `request` (the selector and
//! window asked for), `reading` (what the server hands over), `tables` (the knowledge read
//! once), `trends` (the fit of each history), `arguments` (each tool's arguments and their
//! provenance), `missing` (what no source can give, as the arguments it would fill),
//! `summary` and `markdown`.

mod arguments;
mod markdown;
mod missing;
mod reading;
mod request;
mod summary;
mod tables;
mod trends;

use knowledge::{Knowledge, KnowledgeError};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

pub use arguments::{ObservedArguments, ObservedField, Provenance};
pub use markdown::to_markdown;
pub use reading::{
    ConnectionStatus, DailyPeak, History, LiveObservation, MetricReading, SourceConnection,
    SourceName, Unobservable,
};
pub use request::{ObserveArgs, ObserveRequest};
pub use tables::ObservationSections;
pub use trends::{FittedHistory, Trend};

use crate::markdown::push_unique;
use crate::{Advisor, ArgError, Detail, MissingInput, Tool};
use arguments::Prepared;

/// The trend whose rate is the load's: `forecast_growth` takes it as `monthly_growth_pct`.
pub const LOAD: &str = "load";

/// The longest query a concise answer shows whole.
const CONCISE_QUERY_CHARS: usize = 60;

/// The answer of `observe_system`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ObservedSystem {
    pub summary: String,
    pub connections: Vec<SourceConnection>,
    pub metrics: Vec<MetricReading>,
    pub trends: Vec<Trend>,
    pub arguments: ObservedArguments,
    pub missing_inputs: Vec<MissingInput>,
    pub sources: Vec<String>,
    /// Where each argument came from, per tool (what `observe` on a tool reports).
    #[serde(skip)]
    #[schemars(skip)]
    pub provenance: Provenance,
    /// The load's history and fit, for the forecast's page.
    #[serde(skip)]
    #[schemars(skip)]
    pub load_history: Option<FittedHistory>,
    /// What the configured sources cannot give and none of them gave, one row per field (the
    /// first source's), for `observe` on a tool to list in its own `missing_inputs`.
    #[serde(skip)]
    #[schemars(skip)]
    pub unobserved: Vec<Unobservable>,
}

/// A number as JSON, rounded to what a reading can claim (4 significant digits).
fn rounded(value: f64) -> f64 {
    if value == 0.0 || !value.is_finite() {
        return 0.0;
    }
    let digits = 4 - 1 - value.abs().log10().floor() as i32;
    let scale = 10f64.powi(digits.clamp(-12, 12));
    (value * scale).round() / scale
}

/// Composes the answer from what was read: the pure heart of `observe_system`.
pub fn compose(advisor: &Advisor, live: &LiveObservation, detail: Detail) -> ObservedSystem {
    let sections = advisor.tables::<ObserveSystem>().ok();
    let (trends, load_history) = trends::fit_histories(sections, live, detail);
    let prepared = arguments::prepare(advisor, sections, live, &trends);
    let unobserved = missing::unobserved(live);
    let (missing_inputs, missing_tables) = missing::missing_inputs(advisor, sections, &unobserved);
    let cited = cited(sections, live, &trends, &prepared, missing_tables);
    let mut system = ObservedSystem {
        summary: String::new(),
        connections: live.connections.clone(),
        metrics: live
            .metrics
            .iter()
            .map(|m| MetricReading {
                value: rounded(m.value),
                ..m.clone()
            })
            .collect(),
        trends,
        arguments: prepared.arguments,
        missing_inputs,
        sources: cited,
        provenance: prepared.provenance,
        load_history,
        unobserved,
    };
    system.summary = crate::summary(summary::summary_of(&system));
    system
}

/// What the answer cites, in the order a reader meets it: the mapping section of each source
/// read, the growth fit's rows when a history was fitted, the resource lines when a resource
/// is forecast, and the cannot-give tables of the inputs listed as missing.
fn cited(
    sections: Option<&ObservationSections>,
    live: &LiveObservation,
    trends: &[Trend],
    prepared: &Prepared,
    missing_tables: Vec<String>,
) -> Vec<String> {
    let mut cited = Vec::new();
    let read_ok = |source: SourceName| {
        live.connections
            .iter()
            .any(|c| c.source == source && c.status == ConnectionStatus::Ok)
    };
    if let Some(sections) = sections {
        for (source, uri) in &sections.cited {
            if read_ok(*source) {
                push_unique(&mut cited, uri.clone());
            }
        }
        if !trends.is_empty() {
            for uri in sections.trend.sources() {
                push_unique(&mut cited, uri);
            }
        }
        if prepared.forecasts_resources
            && let Some(uri) = &sections.limits_uri
        {
            push_unique(&mut cited, uri.clone());
        }
    }
    for uri in missing_tables {
        push_unique(&mut cited, uri);
    }
    cited
}

pub struct ObserveSystem;

impl Tool for ObserveSystem {
    const NAME: &'static str = "observe_system";
    const TITLE: &'static str = "Observe the live system";
    const DESCRIPTION: &'static str = "Read today's DB CPU, p95, cache hit ratio, replica lag, pool, queue from Prometheus, Postgres, Redis; fitted growth rate %/month with 95% CI; arguments for the other tools.";
    type Args = ObserveArgs;
    type Output = ObservedSystem;
    type Tables = ObservationSections;
    const READS_LIVE: bool = true;

    fn load(knowledge: &Knowledge) -> Result<Self::Tables, KnowledgeError> {
        ObservationSections::load(knowledge)
    }

    /// Without a reading handed over, the sources are not configured: what a server without
    /// any source answers.
    fn run(advisor: &Advisor, args: ObserveArgs) -> Result<ObservedSystem, ArgError> {
        let request = ObserveRequest::new("", args.selector, args.window_days)?;
        Ok(compose(
            advisor,
            &LiveObservation::nothing_configured(request.window_days),
            args.detail,
        ))
    }

    fn run_live(
        advisor: &Advisor,
        args: ObserveArgs,
        live: Option<&LiveObservation>,
    ) -> Result<ObservedSystem, ArgError> {
        match live {
            Some(live) => {
                ObserveRequest::new("", args.selector, args.window_days)?;
                Ok(compose(advisor, live, args.detail))
            }
            None => Self::run(advisor, args),
        }
    }

    fn to_markdown(output: &ObservedSystem) -> String {
        to_markdown(output)
    }

    /// Concise names a long PromQL by its row (`knowledge://observation#prometheus-queries`,
    /// the row of the metric's name), so that nine metrics stay within 4,000 bytes (contract
    /// §8); `full` and the markdown give the query itself.
    fn shape(output: &mut ObservedSystem, detail: Detail) {
        if detail.is_full() {
            return;
        }
        for metric in &mut output.metrics {
            if metric.query.len() > CONCISE_QUERY_CHARS {
                metric.query = format!("{}{}", knowledge::URI_SCHEME, metric.source.section());
            }
        }
        // A figure missing from both tools says where to get it once; the second entry points
        // to the first.
        let mut said: Vec<(String, String)> = Vec::new();
        for missing in &mut output.missing_inputs {
            let Some(place) = &missing.where_to_get_it else {
                continue;
            };
            match said.iter().find(|(_, text)| text == place) {
                Some((first, _)) => missing.where_to_get_it = Some(format!("as {first}")),
                None => said.push((missing.field.clone(), place.clone())),
            }
        }
    }
}

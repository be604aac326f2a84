//! The knowledge `observe_system` reads once: the growth fit's rules, which sources' mapping
//! sections exist to cite, and the lines an observed resource is forecast against.

use knowledge::{Knowledge, KnowledgeError};

use super::SourceName;
use crate::trend::TrendRules;

/// The tool's tables: the growth fit's formulas and parameters, and which sources'
/// mapping sections the knowledge holds, to cite.
pub struct ObservationSections {
    /// Each source's mapping section, when the knowledge holds it.
    pub(super) cited: Vec<(SourceName, String)>,
    pub(super) trend: TrendRules,
    /// The lines a resource is forecast against (`capacity-planning#resource-limits`).
    pub(super) limits: Vec<ResourceLimit>,
    pub(super) limits_uri: Option<String>,
}

/// A resource's warning and critical line, as `forecast_growth` takes them.
pub(super) struct ResourceLimit {
    pub(super) resource: String,
    pub(super) warning: f64,
    pub(super) critical: Option<f64>,
}

/// Reads `capacity-planning#resource-limits`: the lines a resource read from the live system
/// is forecast against. A knowledge base without the section forecasts no observed resource.
fn resource_limits(
    knowledge: &Knowledge,
) -> Result<(Vec<ResourceLimit>, Option<String>), KnowledgeError> {
    let Some(uri) = uri_if_present(knowledge, "capacity-planning#resource-limits") else {
        return Ok((Vec::new(), None));
    };
    let table = knowledge.table("capacity-planning", "resource-limits")?;
    table.require_columns(&["resource", "warning", "critical", "source"])?;
    let mut limits = Vec::new();
    for row in table.rows() {
        let warning = row.number("warning")?;
        let critical = row.optional_number("critical")?;
        if !(warning > 0.0 && warning.is_finite()) || critical.is_some_and(|c| c < warning) {
            return Err(row.error(
                "`warning` must be above 0 and `critical`, when given, at least `warning`"
                    .to_string(),
            ));
        }
        limits.push(ResourceLimit {
            resource: row.required("resource")?.to_string(),
            warning,
            critical,
        });
    }
    Ok((limits, Some(uri)))
}

fn uri_if_present(knowledge: &Knowledge, section: &str) -> Option<String> {
    let uri = format!("{}{section}", knowledge::URI_SCHEME);
    knowledge.resolve(&uri).map(|_| uri)
}

impl ObservationSections {
    pub(super) fn load(knowledge: &Knowledge) -> Result<Self, KnowledgeError> {
        let (limits, limits_uri) = resource_limits(knowledge)?;
        Ok(Self {
            cited: SourceName::ALL
                .iter()
                .filter_map(|&s| uri_if_present(knowledge, s.section()).map(|uri| (s, uri)))
                .collect(),
            trend: TrendRules::load(knowledge)?,
            limits,
            limits_uri,
        })
    }
}

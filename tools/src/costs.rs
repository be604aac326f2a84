//! Money: the cost table of `capacity-planning#cost-by-scale`, read and checked in one place for
//! `plan_capacity` and `scaling_report`, and the one way an amount of dollars is written
//! (`$10,000`, `$2,500.50`), rounded to the cent rather than cut.

use knowledge::{Knowledge, KnowledgeError};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

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
    /// `row`: the band of one row of the cost table; `between`: the row of the user count
    /// prices a later stage than the count's own, so the band runs from the previous row's
    /// `low` to that row's `high` and is named by the previous row.
    pub basis: CostBasis,
}

/// Where a cost band comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum CostBasis {
    Row,
    Between,
}

/// One row of the cost table: the users it covers up to, what it pays for, its band.
pub(crate) struct CostBand {
    /// The stage whose architecture the row prices.
    pub stage: u8,
    /// The band's upper user bound; `None` for the last band.
    pub max_users: Option<u64>,
    pub architecture: String,
    pub low: u64,
    /// `None` for the last band, which has no upper cost.
    pub high: Option<u64>,
}

impl CostBand {
    /// The band as a result reports it.
    pub(crate) fn range(&self) -> CostRange {
        CostRange {
            low: self.low,
            high: self.high,
            architecture: self.architecture.clone(),
            max_users: self.max_users,
            basis: CostBasis::Row,
        }
    }
}

/// The cost table, ordered by growing `max_users`, its last band open-ended, so that every user
/// count has a band.
pub(crate) struct CostTable {
    pub bands: Vec<CostBand>,
    pub uri: String,
}

impl CostTable {
    pub(crate) fn load(knowledge: &Knowledge) -> Result<Self, KnowledgeError> {
        let table = knowledge.table("capacity-planning", "cost-by-scale")?;
        table.require_columns(&["max_users", "stage", "architecture", "low_usd", "high_usd"])?;
        table.require_rows()?;
        let mut bands: Vec<CostBand> = Vec::new();
        for row in table.rows() {
            if bands.last().is_some_and(|c| c.max_users.is_none()) {
                return Err(row.error("only the last band may leave `max_users` empty"));
            }
            let max_users = match row.optional("max_users")? {
                Some(_) => Some(row.integer("max_users")?),
                None => None,
            };
            if let (Some(max), Some(previous)) = (max_users, bands.last().and_then(|c| c.max_users))
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
            let stage = u8::try_from(row.integer("stage")?)
                .ok()
                .filter(|n| (1..=5).contains(n))
                .ok_or_else(|| row.error("`stage` must be a stage from 1 to 5"))?;
            if bands.last().is_some_and(|c| c.stage > stage) {
                return Err(row.error("rows must be listed by growing `stage`"));
            }
            bands.push(CostBand {
                stage,
                max_users,
                architecture: row.required("architecture")?.to_string(),
                low,
                high,
            });
        }
        if bands.last().is_some_and(|c| c.max_users.is_some()) {
            return Err(table.error(
                "the last band must leave `max_users` empty, so that every user count has a cost",
            ));
        }
        Ok(Self {
            bands,
            uri: table.uri(),
        })
    }

    /// The band of `users` in a system at `stage`: the row of `users`, unless that row prices a
    /// later stage than `stage` (users between two rows, the architecture not yet grown), when
    /// the band runs from the row below to that row and says so (`basis: between`).
    pub(crate) fn band(&self, users: u64, stage: u8) -> CostRange {
        // `load` requires a last row without a bound, so a row always matches.
        let found = self
            .bands
            .iter()
            .position(|c| c.max_users.is_none_or(|max| users <= max))
            .unwrap_or(self.bands.len().saturating_sub(1));
        match (found.checked_sub(1), self.bands.get(found)) {
            (Some(previous), Some(band)) if band.stage > stage => {
                let lower = &self.bands[previous];
                CostRange {
                    low: lower.low,
                    high: Some(band.high.unwrap_or(band.low)),
                    architecture: lower.architecture.clone(),
                    max_users: band.max_users,
                    basis: CostBasis::Between,
                }
            }
            (_, Some(band)) => band.range(),
            (_, None) => CostRange {
                low: 0,
                high: None,
                architecture: String::new(),
                max_users: None,
                basis: CostBasis::Row,
            },
        }
    }

    /// The band of a stage that starts at `min_users`: the first band reaching above it.
    pub(crate) fn for_stage(&self, min_users: f64) -> Option<&CostBand> {
        self.bands
            .iter()
            .find(|c| c.max_users.is_none_or(|max| max as f64 > min_users))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_user_count_has_a_band() {
        let knowledge = Knowledge::embedded().unwrap();
        let table = CostTable::load(&knowledge).unwrap();
        for users in [0, 1, 10_000, 10_001, 1_000_000, u64::MAX] {
            assert!(!table.band(users, 5).architecture.is_empty(), "{users}");
        }
        assert!(table.band(u64::MAX, 5).max_users.is_none());
        assert!(table.for_stage(0.0).is_some());
    }
}

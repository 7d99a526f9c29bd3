//! Sigma correlation rules (meta rules over the matches of other rules). Parsed and checked
//! here; their streaming evaluation lives with the detect stage.

use std::time::Duration;

use super::{RuleMeta, SourceRef};

/// What a correlation counts or orders.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CorrelationType {
    /// Number of matching events per group.
    EventCount,
    /// Number of distinct values of a field per group.
    ValueCount,
    /// All referenced rules match within the timespan, in any order.
    Temporal,
    /// All referenced rules match within the timespan, in the order listed.
    TemporalOrdered,
    /// Sum of a numeric field per group (Sigma 2.1 metric).
    ValueSum,
    /// Average of a numeric field per group (Sigma 2.1 metric).
    ValueAvg,
    /// Percentile of a numeric field per group (Sigma 2.1 metric).
    ValuePercentile,
    /// Median of a numeric field per group (Sigma 2.1 metric).
    ValueMedian,
}

impl CorrelationType {
    /// Parses the Sigma spelling.
    pub fn from_name(name: &str) -> Option<Self> {
        Some(match name {
            "event_count" => Self::EventCount,
            "value_count" => Self::ValueCount,
            "temporal" => Self::Temporal,
            "temporal_ordered" => Self::TemporalOrdered,
            "value_sum" => Self::ValueSum,
            "value_avg" => Self::ValueAvg,
            "value_percentile" => Self::ValuePercentile,
            "value_median" => Self::ValueMedian,
            _ => return None,
        })
    }

    /// Whether the condition aggregates a `field` (value_count and the metrics).
    pub fn needs_field(self) -> bool {
        !matches!(self, Self::EventCount | Self::Temporal | Self::TemporalOrdered)
    }

    /// Whether a `condition` is mandatory (optional for the temporal types).
    pub fn needs_condition(self) -> bool {
        !matches!(self, Self::Temporal | Self::TemporalOrdered)
    }
}

/// A comparison in a correlation condition.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CmpOp {
    /// `gt`
    Gt,
    /// `gte`
    Gte,
    /// `lt`
    Lt,
    /// `lte`
    Lte,
    /// `eq`
    Eq,
    /// `neq`
    Neq,
}

impl CmpOp {
    /// Parses the Sigma spelling.
    pub fn from_name(name: &str) -> Option<Self> {
        Some(match name {
            "gt" => Self::Gt,
            "gte" => Self::Gte,
            "lt" => Self::Lt,
            "lte" => Self::Lte,
            "eq" => Self::Eq,
            "neq" => Self::Neq,
            _ => return None,
        })
    }

    /// Whether `value OP bound` holds.
    pub fn holds(self, value: f64, bound: f64) -> bool {
        match self {
            Self::Gt => value > bound,
            Self::Gte => value >= bound,
            Self::Lt => value < bound,
            Self::Lte => value <= bound,
            Self::Eq => value == bound,
            Self::Neq => value != bound,
        }
    }
}

/// The condition of a correlation: bounds (linked with AND) and, for value types, the field.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CorrelationCondition {
    /// The field(s) whose values are counted or aggregated.
    pub field: Vec<String>,
    /// The bounds, all of which must hold.
    pub bounds: Vec<(CmpOp, f64)>,
    /// The percentile for `value_percentile` (0–100).
    pub percentile: Option<f64>,
}

impl CorrelationCondition {
    /// Whether a count or aggregate satisfies every bound.
    pub fn holds(&self, value: f64) -> bool {
        self.bounds.iter().all(|(op, bound)| op.holds(value, *bound))
    }
}

/// A field alias: one name for fields that differ between the correlated rules.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Alias {
    /// The alias used in `group-by`.
    pub name: String,
    /// Per referenced rule (by name or id): the field in that rule's events.
    pub fields: Vec<(String, String)>,
}

/// A Sigma correlation rule.
#[derive(Clone, Debug, PartialEq)]
pub struct Correlation {
    /// Title, id, name, level and the rest.
    pub meta: RuleMeta,
    /// The correlation type.
    pub kind: CorrelationType,
    /// The referenced rules or correlations (ids or names as written).
    pub rules: Vec<String>,
    /// Fields (or aliases) whose values must be equal across the correlated events.
    pub group_by: Vec<String>,
    /// The window.
    pub timespan: Duration,
    /// The window as written (`5m`, `1h`).
    pub timespan_text: String,
    /// When the correlation fires (`None` for temporal types without one: all rules must match).
    pub condition: Option<CorrelationCondition>,
    /// Field aliases.
    pub aliases: Vec<Alias>,
    /// Whether the referenced rules also alert on their own.
    pub generate: bool,
    /// Where it was read from.
    pub source: SourceRef,
}

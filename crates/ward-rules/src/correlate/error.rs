//! Why a correlation rule cannot be evaluated, or why a correlator cannot be built.

/// A correlator build error. [`ZeroBudget`](Self::ZeroBudget) stops the build; every other
/// variant rejects one correlation rule, which is listed and left out.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CorrelateError {
    /// A budget limit is 0.
    #[error("budget: `{0}` must be at least 1")]
    ZeroBudget(&'static str),
    /// A `rules:` or `aliases:` entry names no loaded rule or correlation.
    #[error("correlation `{correlation}`: unknown rule `{reference}`")]
    UnknownRule {
        /// The correlation (id, else name, else title).
        correlation: String,
        /// The reference as written.
        reference: String,
    },
    /// Two `rules:` entries resolve to the same rule.
    #[error("correlation `{correlation}`: rule `{reference}` is referenced more than once")]
    DuplicateRule {
        /// The correlation (id, else name, else title).
        correlation: String,
        /// The second reference as written.
        reference: String,
    },
    /// The correlation references itself, directly or through other correlations.
    #[error("correlation `{correlation}`: its references form a cycle")]
    Cycle {
        /// The correlation (id, else name, else title).
        correlation: String,
    },
    /// The correlation references a correlation that was rejected.
    #[error("correlation `{correlation}`: references rejected correlation `{reference}`")]
    RejectedDependency {
        /// The correlation (id, else name, else title).
        correlation: String,
        /// The rejected correlation as referenced.
        reference: String,
    },
    /// A Sigma 2.1 metric type (`value_sum`, …), which the streaming correlator does not evaluate.
    #[error("correlation `{correlation}`: type `{kind}` is not evaluated by the streaming correlator")]
    UnsupportedType {
        /// The correlation (id, else name, else title).
        correlation: String,
        /// The type as written.
        kind: &'static str,
    },
    /// A `temporal_ordered` condition with an upper bound (`lt`, `lte`, `eq`, `neq`).
    #[error("correlation `{correlation}`: temporal_ordered takes only gt and gte conditions")]
    UnsupportedCondition {
        /// The correlation (id, else name, else title).
        correlation: String,
    },
    /// The condition counts further than the budget keeps matches per group.
    #[error(
        "correlation `{correlation}`: the condition counts up to {needed}, the budget keeps {budget} matches per group"
    )]
    BudgetTooSmall {
        /// The correlation (id, else name, else title).
        correlation: String,
        /// How far the condition counts.
        needed: u64,
        /// `max_events_per_group`.
        budget: usize,
    },
}

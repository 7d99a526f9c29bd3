//! Integration tests of the Sigma engine through its public API: one module per concern, each
//! rule checked through both the reference and the compiled evaluator.

mod alerts;
mod alloc;
mod common;
mod conditions;
mod correlate;
mod correlations;
mod escapes;
mod modifiers;
mod pipelines;
mod props;
mod rejections;
mod rulepack;
mod sigmahq;

//! Integration tests of ward-pipeline through its public interface.

// Helpers outside `#[test]` functions unwrap fixtures they control.
#![allow(clippy::unwrap_used)]

mod contract;
mod e2e;
#[cfg(feature = "features")]
mod enriched;
mod grouping;
mod llm;
#[cfg(feature = "store")]
mod store;
mod support;
mod triage;

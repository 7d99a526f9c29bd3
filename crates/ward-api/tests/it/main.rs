//! Router tests: every request goes through `router(state)` with `tower::ServiceExt::oneshot`,
//! over an in-memory log double (and a fault-injecting wrapper around it).

// Test helpers too: a failed unwrap is a test failure with its location.
#![allow(clippy::unwrap_used)]

mod auth;
mod fixtures;
mod ingest;
mod limits;
mod ops;
mod support;

//! Integration tests of the feature stores: the online conformance suite against the
//! in-process adapter and a real Redis, adapter agreement on real Cowrie events, and the
//! offline store against a local directory and a real S3-compatible server.

// Helpers outside `#[test]` functions panic on purpose: a broken fixture is a failed test.
#![allow(clippy::unwrap_used)]

mod offline;
mod online;
mod services;

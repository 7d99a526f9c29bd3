//! Integration tests of the enrichment chain, through its public API, on real data.

// Test helpers too: a failed unwrap is a test failure with its location.
#![allow(clippy::unwrap_used)]

mod assets;
mod attack;
mod common;
mod dedupe;
mod geoip;
mod ioc;
mod online;
mod privacy;
mod session;
mod snapshot;

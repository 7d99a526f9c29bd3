//! ward-respond integration tests: one binary, a module per area.

#![allow(clippy::unwrap_used)]

mod approvals;
mod backends;
mod common;
mod connectors;
mod fusion;
mod guards;
mod local;
mod nftables;
mod playbooks;
mod policy;
mod repo_conformance;
mod store;

//! The `ward` binary's integration tests: one test binary, one module per area. Every test runs
//! the real binary (`CARGO_BIN_EXE_ward`) and talks to it as a user or sensor would.

mod cli;
mod hunt;
mod model;
mod platform;
mod respond;
mod respond_e2e;
mod serve;

//! Integration tests of the log adapters: the shared conformance suite against each adapter
//! and real backend, plus adapter-specific tests.

mod crash;
mod embedded;
mod nats;
mod redis;
mod server;

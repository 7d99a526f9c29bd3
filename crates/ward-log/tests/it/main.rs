//! Integration tests of the log adapters: the shared conformance suite against each adapter
//! and real backend, plus adapter-specific tests.

mod embedded;

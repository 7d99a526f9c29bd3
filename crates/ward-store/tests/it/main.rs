//! Integration tests of the store adapters: the shared conformance suite against SQLite and
//! PostgreSQL, plus adapter-specific behaviour (opening, persistence, schema isolation).

mod parsers;
mod postgres;
mod sqlite;

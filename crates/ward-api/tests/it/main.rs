//! Router tests: every request goes through `router(state)` with `tower::ServiceExt::oneshot`,
//! over an in-memory log double (and a fault-injecting wrapper around it).

// Test helpers too: a failed unwrap is a test failure with its location.
#![allow(clippy::unwrap_used)]

mod api_assets;
mod api_context;
mod api_events;
mod api_incidents;
mod api_login;
mod api_matrix;
mod api_openapi;
mod api_playbooks;
mod api_response;
mod api_stream;
mod api_support;
mod api_tenancy;
mod api_tls;
mod auth;
mod fixtures;
mod ingest;
mod limits;
mod ops;
mod support;

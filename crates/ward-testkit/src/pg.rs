//! Where the test PostgreSQL server is and how tests keep out of each other's way on it: each
//! test opens its store in a schema of its own and drops it afterwards.

use std::sync::atomic::{AtomicU32, Ordering};

/// `WARD_TEST_POSTGRES_URL`, default `postgres://postgres@127.0.0.1:5432/test`.
pub fn url() -> String {
    std::env::var("WARD_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned())
}

/// A schema name starting with `prefix` (`[a-z0-9_]`), unique to this process and call.
pub fn unique_schema(prefix: &str) -> String {
    static N: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!("{prefix}{}_{}_{}", std::process::id(), nanos, N.fetch_add(1, Ordering::Relaxed))
}

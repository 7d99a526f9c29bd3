//! Reaching the local test servers (Redis, the S3-compatible moto server): unreachable is a
//! failure under `CI=true` and a printed skip elsewhere; names unique per test.

use std::sync::atomic::{AtomicU32, Ordering};

/// The Redis URL (`WARD_TEST_REDIS_URL`, default `redis://127.0.0.1:6379`).
pub fn redis_url() -> String {
    std::env::var("WARD_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned())
}

/// The S3 endpoint (`WARD_TEST_S3_ENDPOINT`, default `http://127.0.0.1:5000`, the moto server
/// `.ci/run` starts).
pub fn s3_endpoint() -> String {
    std::env::var("WARD_TEST_S3_ENDPOINT").unwrap_or_else(|_| "http://127.0.0.1:5000".to_owned())
}

/// Whether the server behind `url` accepts connections; under `CI=true` an unreachable server
/// fails the test.
pub async fn reachable(name: &str, url: &str) -> bool {
    let addr = url.split_once("://").map_or(url, |(_, rest)| rest).trim_end_matches('/');
    match tokio::net::TcpStream::connect(addr).await {
        Ok(_) => true,
        Err(e) if std::env::var("CI").as_deref() == Ok("true") => {
            panic!("{name} at {url} not reachable under CI: {e}")
        }
        Err(e) => {
            eprintln!("skipping: {name} at {url} not reachable: {e}");
            false
        }
    }
}

/// A name no other test (or test run) uses: `stem` + process id + clock + counter.
pub fn unique(stem: &str) -> String {
    static N: AtomicU32 = AtomicU32::new(0);
    let nanos =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.subsec_nanos());
    format!("{stem}{}-{nanos:x}-{}", std::process::id(), N.fetch_add(1, Ordering::Relaxed))
}

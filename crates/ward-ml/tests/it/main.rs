//! Integration tests of ward-ml through its public API, on the shared real data.

// Test helpers (not only #[test] fns) may panic on setup failures.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod contract;
mod detector;
mod dga;
mod drift;
mod logparse;
#[cfg(feature = "neural")]
mod neural;
mod registry;
mod sequence;
mod tabular;

/// A temporary directory for a test.
pub fn tmp() -> tempfile::TempDir {
    tempfile::tempdir().expect("tempdir")
}

/// Five well-known and five random-looking labels (`true` = generated): a DGA model trained on
/// them separates the two kinds.
pub fn toy_domains() -> Vec<(String, bool)> {
    [
        ("google", false),
        ("facebook", false),
        ("wikipedia", false),
        ("amazon", false),
        ("microsoft", false),
        ("xkqjzvwpq", true),
        ("qzxjvkwpt", true),
        ("zzqxjkvbw", true),
        ("vkxqzjwpm", true),
        ("jqxzkvwtb", true),
    ]
    .iter()
    .map(|(d, y)| ((*d).to_owned(), *y))
    .collect()
}

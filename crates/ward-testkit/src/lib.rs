//! Test-only helpers shared by every crate's tests: where the third-party data lives, and
//! whether its absence is a failure (under `CI=true`) or a skip.

pub mod netns;
pub mod pg;

use std::path::PathBuf;

/// The shared third-party data folder (`WARD_SHARED_DATA`, default `../shared/data` from the
/// workspace root), or `None` when it is absent outside CI.
///
/// # Panics
/// When the folder is missing and `CI=true`: CI must never silently skip real-data tests.
pub fn shared_data() -> Option<PathBuf> {
    let dir = std::env::var_os("WARD_SHARED_DATA")
        .map_or_else(|| workspace_root().join("../shared/data"), PathBuf::from);
    if dir.is_dir() {
        return Some(dir);
    }
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "shared data folder {} is missing (set WARD_SHARED_DATA)",
        dir.display()
    );
    eprintln!("skipping: shared data folder {} not found", dir.display());
    None
}

/// A path inside the shared data folder, `None` when the folder is absent outside CI.
pub fn shared(rel: &str) -> Option<PathBuf> {
    shared_data().map(|d| d.join(rel))
}

/// The workspace root (for committed fixtures under `testdata/`).
///
/// Read at run time from the `CARGO_MANIFEST_DIR` that cargo sets for the crate under test
/// (every crate sits at `crates/<name>`), not baked in at compile time: the build cache is
/// shared between clones, so a compile-time path could name another checkout.
pub fn workspace_root() -> PathBuf {
    std::env::var_os("CARGO_MANIFEST_DIR")
        .map_or_else(|| PathBuf::from("."), |dir| PathBuf::from(dir).join("../.."))
}

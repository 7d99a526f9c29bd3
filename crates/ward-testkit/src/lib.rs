//! Test-only helpers shared by every crate's tests: where the third-party data lives, and
//! whether its absence is a failure (under `CI=true`) or a skip.

use std::path::PathBuf;

/// The shared third-party data folder (`WARD_SHARED_DATA`, default `../shared/data` from the
/// workspace root), or `None` when it is absent outside CI.
///
/// # Panics
/// When the folder is missing and `CI=true`: CI must never silently skip real-data tests.
pub fn shared_data() -> Option<PathBuf> {
    let dir = std::env::var_os("WARD_SHARED_DATA").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data"),
        PathBuf::from,
    );
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
pub fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

//! Helpers shared by the decoder tests.

use std::path::{Path, PathBuf};

use chrono::{TimeZone, Utc};
use ward_decode::run::{Collect, RunOptions, decode_bytes};
use ward_decode::{DecodeContext, SourceKind, Summary};
use ward_model::TenantId;

/// A fixed context so snapshots do not depend on the clock.
pub fn ctx() -> DecodeContext {
    DecodeContext::new(TenantId::default(), Utc.with_ymd_and_hms(2026, 1, 15, 0, 0, 0).unwrap())
}

/// Decodes an in-memory input with one decoder.
pub fn decode(kind: SourceKind, data: &[u8]) -> Collect {
    let decoder = kind.build(None).expect("decoder builds");
    let mut sink = Collect::default();
    decode_bytes(decoder.as_ref(), "test-input", data, &RunOptions::fixed(kind, ctx()), &mut sink);
    sink
}

/// Decodes files or directories with one decoder.
pub fn decode_paths(kind: SourceKind, paths: &[PathBuf]) -> (Collect, Summary) {
    let paths: Vec<&Path> = paths.iter().map(PathBuf::as_path).collect();
    ward_decode::run::decode_paths_collect(kind, &paths, ctx()).expect("inputs readable")
}

/// A committed fixture under `testdata/`.
pub fn fixture(rel: &str) -> PathBuf {
    ward_testkit::workspace_root().join("testdata").join(rel)
}

/// The events of a decode as pretty JSON values, for snapshots.
pub fn as_json(c: &Collect) -> Vec<serde_json::Value> {
    c.events.iter().map(|e| serde_json::to_value(e).expect("serializable")).collect()
}

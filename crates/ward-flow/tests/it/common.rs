//! Shared helpers: decoding a whole input into records.

use std::io::BufReader;
use std::path::Path;

use ward_flow::netflow::{Session, SessionConfig, Tag};
use ward_flow::offline::netflow_stream;
use ward_flow::{FlowRecord, PacketError};

/// Every record and error of an export capture or payload file, with their tags.
pub struct Decoded {
    pub records: Vec<(Tag, FlowRecord)>,
    pub errors: Vec<(Tag, PacketError)>,
}

pub fn decode_netflow(bytes: &[u8]) -> Decoded {
    let mut out = Decoded { records: Vec::new(), errors: Vec::new() };
    let mut session = Session::new(SessionConfig::default());
    let mut reader = BufReader::new(bytes);
    netflow_stream(&mut reader, &mut session, &mut |tag, r| match r {
        Ok(rec) => out.records.push((tag, rec)),
        Err(e) => out.errors.push((tag, e)),
    })
    .expect("capture readable");
    out
}

pub fn read(path: &Path) -> Vec<u8> {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    if path.extension().is_some_and(|e| e == "gz") {
        let mut out = Vec::new();
        std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&bytes[..]), &mut out).expect("gunzip");
        out
    } else {
        bytes
    }
}

/// Files under `dir` with the given extension, sorted.
pub fn files(dir: &Path, ext: &str) -> Vec<std::path::PathBuf> {
    let mut out: Vec<_> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.to_string_lossy().ends_with(ext))
        .collect();
    out.sort();
    out
}

//! Reading inputs: files, directories (recursive), `-` for stdin, `.gz` files and `.zip`
//! archives (each entry is an input of its own, named `archive.zip:entry`).

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use flate2::read::MultiGzDecoder;

/// A path that cannot be read at all: fatal for the run.
#[derive(Debug, thiserror::Error)]
#[error("cannot read {path}: {source}")]
pub struct InputError {
    /// The path as given.
    pub path: String,
    /// The operating system's reason.
    #[source]
    pub source: io::Error,
}

/// Which files a directory walk picks up. Files named explicitly are always read; in a walk,
/// project paperwork (`LICENSE*`, `README*`, `COPYING*`, `NOTICE*`, `SOURCE`) and hidden files
/// are never taken for telemetry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DirFilter {
    /// JSON telemetry: `.json`, `.jsonl`, `.ndjson`, `.eve`, `.log`, and their `.gz`/`.zip` forms.
    JsonLogs,
    /// Text logs: `.log`, `.txt`, `.syslog`, `.cef`, files without an extension (`messages`,
    /// `secure`) and rotated ones (`auth.log.1`), and their `.gz`/`.zip` forms.
    TextLogs,
    /// Windows event logs: `.evtx` (and in `.zip`).
    Evtx,
    /// Packet captures and raw NetFlow/IPFIX payloads: `.pcap`, `.pcapng`, `.cap`, `.dat`
    /// (and their `.gz`/`.zip` forms).
    Captures,
    /// Everything a decoder could read (used by `--source auto`, which then detects per file).
    Any,
}

const JSON_EXT: &[&str] = &["json", "jsonl", "ndjson", "eve", "log"];
const TEXT_EXT: &[&str] = &["log", "txt", "syslog", "cef"];
const CAPTURE_EXT: &[&str] = &["pcap", "pcapng", "cap", "dat"];
const PAPERWORK: &[&str] = &["license", "readme", "copying", "notice", "source"];

impl DirFilter {
    fn accepts(self, path: &Path) -> bool {
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default();
        let lower = name.to_ascii_lowercase();
        if name.starts_with('.') || PAPERWORK.iter().any(|p| lower.starts_with(p)) {
            return false;
        }
        let inner = lower.strip_suffix(".gz").unwrap_or(&lower);
        let ext = Path::new(inner).extension().and_then(|e| e.to_str());
        // Rotated JSON logs keep their type in the middle: `cowrie.json.2024-01-01`.
        let rotated_json = [".json.", ".jsonl.", ".ndjson."].iter().any(|m| inner.contains(m));
        let json = ext.is_some_and(|e| JSON_EXT.contains(&e)) || rotated_json;
        let plain = ext.is_none_or(|e| e.chars().all(|c| c.is_ascii_digit()));
        let text = ext.is_some_and(|e| TEXT_EXT.contains(&e)) || plain;
        let zip = ext == Some("zip");
        match self {
            Self::JsonLogs => json || zip,
            Self::TextLogs => text || zip,
            Self::Evtx => ext == Some("evtx") || zip,
            Self::Captures => ext.is_some_and(|e| CAPTURE_EXT.contains(&e)) || zip,
            Self::Any => {
                json || zip
                    || ext.is_some_and(|e| TEXT_EXT.contains(&e))
                    || ext == Some("evtx")
                    || ext.is_some_and(|e| e.starts_with("pcap") || e == "cap")
            }
        }
    }
}

/// Expands the paths given on the command line into the list of files to read, in a stable
/// order (directories sorted by name). `-` stands for stdin.
///
/// # Errors
/// The first path that does not exist or cannot be listed.
pub fn expand(paths: &[PathBuf], filter: DirFilter) -> Result<Vec<PathBuf>, InputError> {
    let mut out = Vec::new();
    for p in paths {
        if p.as_os_str() == "-" {
            out.push(p.clone());
            continue;
        }
        let meta =
            std::fs::metadata(p).map_err(|source| InputError { path: p.display().to_string(), source })?;
        if !meta.is_dir() {
            out.push(p.clone());
            continue;
        }
        for entry in walkdir::WalkDir::new(p).follow_links(true).sort_by_file_name() {
            let entry = entry.map_err(|e| InputError {
                path: e.path().unwrap_or(p).display().to_string(),
                source: e.into_io_error().unwrap_or_else(|| io::Error::other("filesystem loop")),
            })?;
            if entry.file_type().is_file() && filter.accepts(entry.path()) {
                out.push(entry.into_path());
            }
        }
    }
    Ok(out)
}

/// Opens one expanded path and calls `f` with each stream in it: the file itself (gunzipped if
/// `.gz`) or each entry of a `.zip`. The callback gets the display name and a reader.
///
/// # Errors
/// [`InputError`] when the file cannot be opened; errors inside streams (a corrupt archive) are
/// passed to `f` as the stream's read errors or returned as `Err` from the archive listing.
pub fn for_each_stream<E: From<InputError>>(
    path: &Path,
    f: &mut dyn FnMut(&str, &mut dyn BufRead) -> Result<(), E>,
) -> Result<(), E> {
    let name = path.display().to_string();
    if path.as_os_str() == "-" {
        let stdin = io::stdin();
        return f("-", &mut stdin.lock());
    }
    let open_err = |source| InputError { path: name.clone(), source };
    let file = File::open(path).map_err(open_err)?;
    let lower = name.to_ascii_lowercase();
    if lower.ends_with(".zip") {
        return for_each_zip_entry(&name, file, f);
    }
    if lower.ends_with(".gz") {
        return f(&name, &mut BufReader::with_capacity(1 << 16, MultiGzDecoder::new(file)));
    }
    f(&name, &mut BufReader::with_capacity(1 << 16, file))
}

fn for_each_zip_entry<E: From<InputError>>(
    name: &str,
    file: File,
    f: &mut dyn FnMut(&str, &mut dyn BufRead) -> Result<(), E>,
) -> Result<(), E> {
    let zip_err =
        |e: zip::result::ZipError| InputError { path: name.to_owned(), source: io::Error::other(e) };
    let mut archive = zip::ZipArchive::new(BufReader::new(file)).map_err(zip_err)?;
    for i in 0..archive.len() {
        let entry = archive.by_index(i).map_err(zip_err)?;
        if entry.is_dir() {
            continue;
        }
        let entry_name = format!("{name}:{}", entry.name().map_err(zip_err)?);
        if entry_name.ends_with(".gz") {
            f(&entry_name, &mut BufReader::new(MultiGzDecoder::new(entry)))?;
        } else {
            f(&entry_name, &mut BufReader::with_capacity(1 << 16, entry))?;
        }
    }
    Ok(())
}

/// Reads a whole stream into memory (for formats that need random access, like EVTX), failing
/// once more than `limit` bytes have been read.
///
/// # Errors
/// I/O errors, or `InvalidData` when the stream is larger than `limit`.
pub fn read_all(reader: &mut dyn BufRead, limit: u64) -> io::Result<Vec<u8>> {
    let mut data = Vec::new();
    reader.take(limit + 1).read_to_end(&mut data)?;
    if data.len() as u64 > limit {
        return Err(io::Error::new(io::ErrorKind::InvalidData, format!("larger than {limit} bytes")));
    }
    Ok(data)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn directory_walks_pick_telemetry_not_paperwork() {
        let cases = [
            ("eve.json", DirFilter::JsonLogs, true),
            ("cowrie.json.2024-01-01.gz", DirFilter::JsonLogs, true),
            ("cowrie.json.gz", DirFilter::JsonLogs, true),
            ("LICENSE.suricata-verify.txt", DirFilter::JsonLogs, false),
            ("notes.txt", DirFilter::JsonLogs, false),
            ("input.pcap", DirFilter::JsonLogs, false),
            ("auth.log.1", DirFilter::TextLogs, true),
            ("messages", DirFilter::TextLogs, true),
            ("SOURCE", DirFilter::TextLogs, false),
            ("README.md", DirFilter::Any, false),
            ("test.yaml", DirFilter::Any, false),
            ("x.evtx", DirFilter::Evtx, true),
            ("x.evtx", DirFilter::Any, true),
            (".hidden.json", DirFilter::Any, false),
            ("export.pcapng", DirFilter::Captures, true),
            ("ipfix_tpl.dat", DirFilter::Captures, true),
            ("eve.json", DirFilter::Captures, false),
            ("input.pcap", DirFilter::Any, true),
        ];
        for (name, filter, want) in cases {
            assert_eq!(filter.accepts(Path::new(name)), want, "{name} with {filter:?}");
        }
    }
}

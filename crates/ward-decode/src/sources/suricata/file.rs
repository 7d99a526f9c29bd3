//! `fileinfo` (one file seen in a transaction) and `files` (the files of an alert's or HTTP
//! record's transaction).

use serde_json::Value;
use ward_model::Event;

use super::value::{object, put_int, put_str, vendor};
use crate::DecodeError;

/// Hash members and their ECS paths.
const HASHES: [(&str, &str); 3] =
    [("md5", "file.hash.md5"), ("sha1", "file.hash.sha1"), ("sha256", "file.hash.sha256")];

/// `fileinfo`: name and path, size, hashes (also `related.hash`) and, when libmagic gave a MIME
/// type, `file.mime_type`; state, storage and transfer details under `suricata.fileinfo.*`.
///
/// # Errors
/// When `fileinfo` is not an object or has a member name that cannot be a path.
pub(super) fn fileinfo(ev: &mut Event, value: &Value) -> Result<(), DecodeError> {
    let obj = object(value, "fileinfo")?;
    for (k, v) in obj {
        let done = match k.as_str() {
            "filename" => file_name(ev, v),
            "size" => put_int(ev, "file.size", v),
            "magic" => mime(ev, v),
            key => match HASHES.iter().find(|(name, _)| *name == key) {
                Some((_, path)) => hash(ev, path, v),
                None => false,
            },
        };
        if !done {
            vendor(ev, "fileinfo", k, v)?;
        }
    }
    Ok(())
}

/// `files`: kept whole under `suricata.files`; their hashes go to `related.hash`.
///
/// # Errors
/// None in practice; the signature matches the other member mappers.
pub(super) fn files(ev: &mut Event, value: &Value) -> Result<(), DecodeError> {
    for file in value.as_array().into_iter().flatten() {
        for (name, _) in HASHES {
            if let Some(h) = file.get(name).and_then(Value::as_str).filter(|h| !h.is_empty()) {
                ev.push("related.hash", h);
            }
        }
    }
    vendor(ev, "", "files", value)
}

/// `filename` (a URL path, SMB or FTP name) → `file.path`, and its last segment → `file.name`
/// and `file.extension`.
fn file_name(ev: &mut Event, value: &Value) -> bool {
    let Some(path) = value.as_str().filter(|p| !p.is_empty()) else {
        return false;
    };
    ev.set("file.path", path);
    let name = path.rsplit(['/', '\\']).next().unwrap_or(path);
    if !name.is_empty() {
        ev.set("file.name", name);
        if let Some((stem, ext)) = name.rsplit_once('.')
            && !stem.is_empty()
            && !ext.is_empty()
        {
            ev.set("file.extension", ext.to_ascii_lowercase());
        }
    }
    true
}

/// A hash → `file.hash.*` and `related.hash`.
fn hash(ev: &mut Event, path: &str, value: &Value) -> bool {
    let done = put_str(ev, path, value);
    if let Some(h) = value.as_str().filter(|_| done) {
        ev.push("related.hash", h);
    }
    done
}

/// `magic` → `file.mime_type` when it is a MIME type (`application/pdf`); libmagic's prose
/// (`PDF document, version 1.5`) is not one and stays under `suricata.fileinfo.magic`.
fn mime(ev: &mut Event, value: &Value) -> bool {
    let is_mime = |m: &&str| {
        m.split_once('/').is_some_and(|(a, b)| !a.is_empty() && !b.is_empty())
            && !m.contains(char::is_whitespace)
    };
    match value.as_str().filter(is_mime) {
        Some(m) => {
            ev.set("file.mime_type", m);
            true
        }
        None => false,
    }
}

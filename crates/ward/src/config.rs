//! Configuration: a pure function of (file, environment map, arguments) that reports every
//! problem at once.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::Deserialize;

/// The whole configuration file. Unknown keys are errors, so typos do not pass silently.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Where embedded state lives.
    pub data_dir: Option<PathBuf>,
    /// Decoder settings.
    pub decode: DecodeConfig,
    /// HTTP server settings (used by `ward serve`).
    pub server: ServerConfig,
}

/// `[decode]`: limits and defaults for decoding.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DecodeConfig {
    /// Largest accepted record, in bytes.
    pub max_record_bytes: usize,
    /// Tenant used when a command names none.
    pub tenant: String,
}

impl Default for DecodeConfig {
    fn default() -> Self {
        Self { max_record_bytes: ward_decode::run::DEFAULT_MAX_RECORD_BYTES, tenant: "default".into() }
    }
}

/// `[server]`: where `ward serve` listens.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerConfig {
    /// Listen address.
    pub listen: String,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self { listen: "127.0.0.1:8080".into() }
    }
}

impl Config {
    /// Loads the file (if any), then applies `WARD_<SECTION>__<KEY>` overrides from `env`.
    ///
    /// # Errors
    /// An unreadable file, invalid TOML, unknown keys or wrongly typed values, all listed.
    pub fn load(file: Option<&Path>, env: &BTreeMap<String, String>) -> Result<Self> {
        let mut doc: toml::Table = match file {
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .with_context(|| format!("reading config {}", path.display()))?;
                toml::from_str(&text).with_context(|| format!("parsing config {}", path.display()))?
            }
            None => toml::Table::new(),
        };
        for (key, value) in env {
            let Some(rest) = key.strip_prefix("WARD_") else { continue };
            if rest == "CONFIG" || rest == "SHARED_DATA" {
                continue;
            }
            let path: Vec<String> = rest.split("__").map(str::to_ascii_lowercase).collect();
            set_path(&mut doc, &path, env_value(value));
        }
        toml::Value::Table(doc).try_into::<Self>().map_err(|e| anyhow::anyhow!("invalid configuration: {e}"))
    }

    /// The data directory: the flag, else the config, else `./ward-data`.
    pub fn data_dir(&self, flag: Option<&Path>) -> PathBuf {
        flag.map(Path::to_path_buf)
            .or_else(|| self.data_dir.clone())
            .unwrap_or_else(|| PathBuf::from("ward-data"))
    }
}

/// Environment values are typed the way TOML would read them, falling back to text.
fn env_value(text: &str) -> toml::Value {
    toml::from_str::<toml::Table>(&format!("v = {text}"))
        .ok()
        .and_then(|mut t| t.remove("v"))
        .unwrap_or_else(|| toml::Value::String(text.to_owned()))
}

fn set_path(doc: &mut toml::Table, path: &[String], value: toml::Value) {
    match path {
        [] => {}
        [last] => {
            doc.insert(last.clone(), value);
        }
        [head, rest @ ..] => {
            let entry = doc.entry(head.clone()).or_insert_with(|| toml::Value::Table(toml::Table::new()));
            if !entry.is_table() {
                *entry = toml::Value::Table(toml::Table::new());
            }
            if let toml::Value::Table(t) = entry {
                set_path(t, rest, value);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    }

    #[test]
    fn environment_overrides_file_values_with_types() {
        let cfg = Config::load(
            None,
            &env(&[("WARD_SERVER__LISTEN", "0.0.0.0:9000"), ("WARD_DECODE__MAX_RECORD_BYTES", "2048")]),
        )
        .unwrap();
        assert_eq!(cfg.server.listen, "0.0.0.0:9000");
        assert_eq!(cfg.decode.max_record_bytes, 2048);
    }

    #[test]
    fn unknown_keys_are_rejected() {
        let err = Config::load(None, &env(&[("WARD_DECODE__MAX_RECORD_BYTE", "1")])).unwrap_err();
        assert!(format!("{err:#}").contains("max_record_byte"), "{err:#}");
    }
}

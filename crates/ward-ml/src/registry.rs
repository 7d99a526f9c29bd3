//! Versioned models on disk: `<root>/<name>/<version>/{model.json,meta.json}` plus
//! `<root>/<name>/active.json` (the active version and the promotion history, so a rollback
//! returns to the previously active version). A version that is not active runs in shadow.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{MlError, Result};
use crate::model::{Metadata, Mode, Model, read_meta, write_meta};

/// One registered model version.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Entry {
    /// Model name.
    pub name: String,
    /// Version number (from 1).
    pub version: u32,
    /// Its directory.
    pub dir: PathBuf,
    /// Its metadata.
    pub meta: Metadata,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
struct Active {
    /// Promotions, oldest first; the last one is active.
    history: Vec<u32>,
}

/// A model registry rooted at a directory (normally `<data-dir>/models`).
#[derive(Clone, Debug)]
pub struct Registry {
    root: PathBuf,
}

impl Registry {
    /// A registry at `root` (created on first registration).
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    /// The root directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    fn check_name(name: &str) -> Result<()> {
        let ok = !name.is_empty()
            && name.len() <= 64
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        if ok {
            Ok(())
        } else {
            Err(MlError::Registry(format!("invalid model name `{name}` (use [A-Za-z0-9_-], ≤ 64)")))
        }
    }

    /// Registers the model in `dir` under `name` as the next version, in shadow mode.
    pub fn register(&self, name: &str, dir: &Path) -> Result<Entry> {
        Self::check_name(name)?;
        let (model, mut meta) = Model::load(dir)?;
        let version = self.versions(name)?.last().copied().unwrap_or(0) + 1;
        let target = self.root.join(name).join(version.to_string());
        meta.version = version;
        meta.mode = Mode::Shadow;
        model.save(&meta, &target)?;
        Ok(Entry { name: name.to_owned(), version, dir: target, meta })
    }

    fn versions(&self, name: &str) -> Result<Vec<u32>> {
        let dir = self.root.join(name);
        if !dir.is_dir() {
            return Ok(Vec::new());
        }
        let mut v: Vec<u32> = std::fs::read_dir(&dir)
            .map_err(|e| MlError::io(&dir, e))?
            .filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
            .collect();
        v.sort_unstable();
        Ok(v)
    }

    /// Every version of every model, by name then version.
    pub fn list(&self) -> Result<Vec<Entry>> {
        if !self.root.is_dir() {
            return Ok(Vec::new());
        }
        let mut names: Vec<String> = std::fs::read_dir(&self.root)
            .map_err(|e| MlError::io(&self.root, e))?
            .filter_map(|e| e.ok().and_then(|e| e.file_name().to_str().map(str::to_owned)))
            .filter(|n| self.root.join(n).is_dir())
            .collect();
        names.sort();
        let mut out = Vec::new();
        for name in names {
            for version in self.versions(&name)? {
                let dir = self.root.join(&name).join(version.to_string());
                out.push(Entry { name: name.clone(), version, meta: read_meta(&dir)?, dir });
            }
        }
        Ok(out)
    }

    /// The active version of `name`, if any.
    pub fn active(&self, name: &str) -> Result<Option<Entry>> {
        let Some(&version) = self.read_active(name)?.history.last() else { return Ok(None) };
        self.entry(name, version).map(Some)
    }

    /// One version's entry.
    pub fn entry(&self, name: &str, version: u32) -> Result<Entry> {
        Self::check_name(name)?;
        let dir = self.root.join(name).join(version.to_string());
        if !dir.is_dir() {
            return Err(MlError::Registry(format!("model `{name}` has no version {version}")));
        }
        Ok(Entry { name: name.to_owned(), version, meta: read_meta(&dir)?, dir })
    }

    /// Makes `version` (default: the newest) of `name` active; the previous one goes to shadow.
    pub fn promote(&self, name: &str, version: Option<u32>) -> Result<Entry> {
        let version = match version {
            Some(v) => v,
            None => *self
                .versions(name)?
                .last()
                .ok_or_else(|| MlError::Registry(format!("no model named `{name}`")))?,
        };
        self.entry(name, version)?;
        let mut active = self.read_active(name)?;
        active.history.push(version);
        self.write_active(name, &active)?;
        self.sync_modes(name, Some(version))?
            .ok_or_else(|| MlError::Registry(format!("model `{name}` has no version {version}")))
    }

    /// Returns `name` to the version active before the current one (or to no active model).
    pub fn rollback(&self, name: &str) -> Result<Option<Entry>> {
        let mut active = self.read_active(name)?;
        let Some(current) = active.history.pop() else {
            return Err(MlError::Registry(format!("model `{name}` has no active version to roll back")));
        };
        while active.history.last() == Some(&current) {
            active.history.pop();
        }
        self.write_active(name, &active)?;
        self.sync_modes(name, active.history.last().copied())
    }

    /// Rewrites each version's mode so exactly `active` is active; returns its entry.
    fn sync_modes(&self, name: &str, active: Option<u32>) -> Result<Option<Entry>> {
        let mut result = None;
        for v in self.versions(name)? {
            let mut e = self.entry(name, v)?;
            let mode = if Some(v) == active { Mode::Active } else { Mode::Shadow };
            if e.meta.mode != mode {
                e.meta.mode = mode;
                write_meta(&e.dir, &e.meta)?;
            }
            if Some(v) == active {
                result = Some(e);
            }
        }
        Ok(result)
    }

    fn read_active(&self, name: &str) -> Result<Active> {
        Self::check_name(name)?;
        let path = self.root.join(name).join("active.json");
        if !path.exists() {
            return Ok(Active::default());
        }
        let text = std::fs::read_to_string(&path).map_err(|e| MlError::io(&path, e))?;
        serde_json::from_str(&text).map_err(|source| MlError::Format { path, source })
    }

    fn write_active(&self, name: &str, active: &Active) -> Result<()> {
        let path = self.root.join(name).join("active.json");
        let json = serde_json::to_string(active).map_err(|e| MlError::Registry(e.to_string()))?;
        std::fs::write(&path, json).map_err(|e| MlError::io(&path, e))
    }
}

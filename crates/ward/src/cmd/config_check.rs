//! `ward config check`: loading already reported every parse and validation problem; this adds
//! the checks that need the filesystem (webhook mapping files) and confirms a good file.

use std::path::Path;

use anyhow::{Result, bail};

use crate::Outcome;
use crate::config::Config;

/// Runs `ward config check`.
///
/// # Errors
/// Every problem found, listed.
pub fn run(file: Option<&Path>, config: &Config) -> Result<Outcome> {
    let mut problems = Vec::new();
    for (name, hook) in &config.webhooks {
        if let Ok(kind) = hook.source_kind(name)
            && let Err(e) = kind.build(hook.mapping.as_deref())
        {
            problems.push(format!("webhooks.{name}.mapping: {e}"));
        }
    }
    if !problems.is_empty() {
        bail!(crate::config::ConfigErrors(problems));
    }
    let shown = file.map_or_else(|| "defaults and environment".to_owned(), |p| p.display().to_string());
    println!("configuration ok: {shown}");
    Ok(Outcome::Success)
}

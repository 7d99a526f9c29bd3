//! Opening the state store the same way in every command: `[store] url` when set, else the
//! embedded SQLite database in the data directory.

use std::path::Path;

use anyhow::{Context, Result};
use ward_store::Store;

use crate::config::Config;

/// The configured store, migrated and ready.
///
/// # Errors
/// The database cannot be opened, reached or migrated.
pub async fn open_store(config: &Config, data_dir: &Path) -> Result<Store> {
    match config.store.url.as_deref() {
        Some(url) => Store::open(url).await.with_context(|| format!("opening the store at {}", redact(url))),
        None => Store::for_data_dir(data_dir)
            .await
            .with_context(|| format!("opening the store in {}", data_dir.join("state").display())),
    }
}

/// A store URL without its password, for messages.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let userinfo = &url[scheme + 3..at];
            let user = userinfo.split(':').next().unwrap_or_default();
            format!("{}{user}:***{}", &url[..scheme + 3], &url[at..])
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::redact;

    #[test]
    fn passwords_never_reach_messages() {
        assert_eq!(redact("postgres://ward:s3cret@db:5432/ward"), "postgres://ward:***@db:5432/ward");
        assert_eq!(redact("sqlite:///var/ward.db"), "sqlite:///var/ward.db");
    }
}

//! `ward audit verify`: recomputes the audit log's hash chain and names the first broken record.

use std::path::Path;

use anyhow::{Result, bail};

use crate::Outcome;
use crate::cli::AuditCommand;
use crate::config::Config;

/// Runs `ward audit …`: prints `audit ok records=N` (exit 0) or the first broken record (exit 1).
///
/// # Errors
/// A broken chain, or a store that cannot be read.
pub fn run(command: &AuditCommand, config: &Config, data_dir: &Path) -> Result<Outcome> {
    let AuditCommand::Verify = command;
    super::runtime()?.block_on(async {
        let store = super::state::open_store(config, data_dir).await?;
        // Signed checkpoints are checked with the key derived from the master key.
        let key = super::serve::master_key(config, data_dir)?;
        let audit_key = super::platform::audit_key(&key);
        match store.verify_audit(Some(&audit_key)).await? {
            Ok(summary) => {
                println!("audit ok records={}", summary.records);
                Ok(Outcome::Success)
            }
            Err(broken) => {
                println!("audit broken seq={} reason={}", broken.seq, broken.reason);
                bail!("audit chain broken at record seq={}: {}", broken.seq, broken.reason)
            }
        }
    })
}

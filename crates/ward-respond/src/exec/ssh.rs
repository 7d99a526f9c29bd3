//! `rotate_ssh_key`: generate a fresh Ed25519 key pair, write the private key (0600) into the
//! configured key folder, and replace the `authorized_keys` line whose comment is the target
//! with the new public key — atomically (temp file, fsync, rename). The old line is kept in
//! the action's state for rollback. Verification: the file has the new line and not the old.

use std::io::Write;
use std::path::{Path, PathBuf};

use async_trait::async_trait;
use ssh_key::private::{Ed25519Keypair, KeypairData};
use ssh_key::{LineEnding, PrivateKey};

use super::{ActionError, ExecContext, Executor};
use crate::config::SshConfig;
use crate::model::{ActionKind, RiskClass};

const KIND: ActionKind = ActionKind::RotateSshKey;

/// The SSH key rotation executor; the target is the comment of the key line to rotate.
pub struct SshKeyRotator {
    config: Option<SshConfig>,
}

impl SshKeyRotator {
    /// From `[respond.ssh]` (`None`: every call fails as unconfigured).
    pub fn new(config: Option<SshConfig>) -> Self {
        Self { config }
    }

    fn config(&self) -> Result<&SshConfig, ActionError> {
        self.config.as_ref().ok_or(ActionError::Unconfigured(KIND))
    }
}

fn fail(message: String) -> ActionError {
    ActionError::failed(KIND, message)
}

fn comment_of(line: &str) -> Option<&str> {
    let mut parts = line.split_whitespace();
    let first = parts.next()?;
    // Lines may start with options; the key type is the field starting with `ssh-` or `ecdsa-`.
    let rest: Vec<&str> =
        if first.starts_with("ssh-") || first.starts_with("ecdsa-") || first.starts_with("sk-") {
            parts.collect()
        } else {
            parts.skip(1).collect()
        };
    rest.get(1).copied()
}

fn read_lines(path: &Path) -> Result<Vec<String>, ActionError> {
    let text = std::fs::read_to_string(path).map_err(|e| fail(format!("reading {}: {e}", path.display())))?;
    Ok(text.lines().map(str::to_owned).collect())
}

/// Writes `lines` to `path` atomically, keeping the file's permissions.
fn write_atomically(path: &Path, lines: &[String]) -> Result<(), ActionError> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let io = |e: std::io::Error| fail(format!("writing {}: {e}", path.display()));
    let perms = std::fs::metadata(path).map_err(io)?.permissions();
    let tmp: PathBuf = dir.join(format!(
        ".{}.ward-tmp",
        path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()
    ));
    let mut file = std::fs::File::create(&tmp).map_err(io)?;
    let mut text = lines.join("\n");
    text.push('\n');
    file.write_all(text.as_bytes()).map_err(io)?;
    file.sync_all().map_err(io)?;
    std::fs::set_permissions(&tmp, perms).map_err(io)?;
    std::fs::rename(&tmp, path).map_err(io)?;
    if let Ok(d) = std::fs::File::open(dir) {
        d.sync_all().map_err(io)?;
    }
    Ok(())
}

fn replace_line(path: &Path, from: &str, to: &str) -> Result<(), ActionError> {
    let mut lines = read_lines(path)?;
    let mut replaced = false;
    for line in &mut lines {
        if line == from {
            *line = to.to_owned();
            replaced = true;
        }
    }
    if replaced { write_atomically(path, &lines) } else { Ok(()) }
}

fn state_line<'a>(state: &'a serde_json::Value, key: &str) -> Result<&'a str, ActionError> {
    state[key].as_str().ok_or_else(|| fail(format!("action state has no {key}")))
}

#[async_trait]
impl Executor for SshKeyRotator {
    fn kind(&self) -> ActionKind {
        KIND
    }
    fn risk(&self) -> RiskClass {
        RiskClass::Medium
    }
    fn inverse(&self) -> Option<ActionKind> {
        None
    }
    fn reversible(&self) -> bool {
        true
    }
    fn validate(&self, target: &str) -> Result<(), ActionError> {
        let ok = !target.is_empty() && target.len() <= 256 && !target.chars().any(char::is_whitespace);
        if ok {
            Ok(())
        } else {
            Err(ActionError::BadTarget {
                kind: KIND,
                target: target.into(),
                reason: "expected a key comment without spaces".into(),
            })
        }
    }
    async fn execute(&self, ctx: &ExecContext) -> Result<serde_json::Value, ActionError> {
        let cfg = self.config()?;
        let lines = read_lines(&cfg.authorized_keys)?;
        let matching: Vec<&String> =
            lines.iter().filter(|l| comment_of(l) == Some(ctx.target.as_str())).collect();
        let old_line = match matching.as_slice() {
            [one] => (*one).clone(),
            [] => {
                return Err(ActionError::BadTarget {
                    kind: KIND,
                    target: ctx.target.clone(),
                    reason: format!("no key with this comment in {}", cfg.authorized_keys.display()),
                });
            }
            many => {
                return Err(ActionError::BadTarget {
                    kind: KIND,
                    target: ctx.target.clone(),
                    reason: format!("{} keys carry this comment; rotate by a unique comment", many.len()),
                });
            }
        };
        let mut seed = [0u8; 32];
        aws_lc_rs::rand::fill(&mut seed).map_err(|_| fail("system random source failed".into()))?;
        let keypair = Ed25519Keypair::from_seed(&seed);
        let private = PrivateKey::new(KeypairData::Ed25519(keypair), ctx.target.clone())
            .map_err(|e| fail(format!("building key: {e}")))?;
        let public =
            private.public_key().to_openssh().map_err(|e| fail(format!("encoding public key: {e}")))?;
        let prefix = old_line.find("ssh-").filter(|&i| i > 0).map(|i| &old_line[..i]).unwrap_or("");
        let new_line = format!("{prefix}{public}");
        std::fs::create_dir_all(&cfg.key_dir)
            .map_err(|e| fail(format!("creating {}: {e}", cfg.key_dir.display())))?;
        let key_path = cfg.key_dir.join(format!("ward-{}", ctx.action_id));
        let encoded =
            private.to_openssh(LineEnding::LF).map_err(|e| fail(format!("encoding private key: {e}")))?;
        write_private_key(&key_path, encoded.as_bytes())?;
        replace_line(&cfg.authorized_keys, &old_line, &new_line)?;
        Ok(serde_json::json!({"old_line": old_line, "new_line": new_line, "private_key": key_path}))
    }
    async fn verify(&self, _ctx: &ExecContext, state: &serde_json::Value) -> Result<bool, ActionError> {
        let lines = read_lines(&self.config()?.authorized_keys)?;
        let (old, new) = (state_line(state, "old_line")?, state_line(state, "new_line")?);
        Ok(lines.iter().any(|l| l == new) && !lines.iter().any(|l| l == old))
    }
    async fn undo(&self, _ctx: &ExecContext, state: &serde_json::Value) -> Result<(), ActionError> {
        let (old, new) = (state_line(state, "old_line")?, state_line(state, "new_line")?);
        replace_line(&self.config()?.authorized_keys, new, old)
    }
    async fn verify_undone(
        &self,
        _ctx: &ExecContext,
        state: &serde_json::Value,
    ) -> Result<bool, ActionError> {
        let lines = read_lines(&self.config()?.authorized_keys)?;
        let (old, new) = (state_line(state, "old_line")?, state_line(state, "new_line")?);
        Ok(lines.iter().any(|l| l == old) && !lines.iter().any(|l| l == new))
    }
}

fn write_private_key(path: &Path, bytes: &[u8]) -> Result<(), ActionError> {
    use std::os::unix::fs::OpenOptionsExt;
    let io = |e: std::io::Error| fail(format!("writing {}: {e}", path.display()));
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .map_err(io)?;
    file.write_all(bytes).map_err(io)?;
    file.sync_all().map_err(io)
}

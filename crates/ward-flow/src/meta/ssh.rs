//! SSH identification strings (`SSH-2.0-OpenSSH_9.6 Ubuntu`, RFC 4253 §4.2).

use super::{Fields, put};

/// The banner's fields, `None` when the payload is not an identification string.
pub(super) fn banner(payload: &[u8], sport: u16, dport: u16) -> Option<Fields> {
    if !payload.starts_with(b"SSH-") {
        return None;
    }
    let end =
        payload.iter().take(255).position(|&b| b == b'\r' || b == b'\n').unwrap_or(payload.len().min(255));
    let line = std::str::from_utf8(&payload[..end]).ok()?;
    let rest = line.strip_prefix("SSH-")?;
    let (proto, software) = rest.split_once('-')?;
    let (software, comment) = software.split_once(' ').map_or((software, None), |(s, c)| (s, Some(c)));
    let mut f = Fields::new();
    put(&mut f, "ssh.banner", line);
    put(&mut f, "ssh.protocol_version", proto);
    put(&mut f, "ssh.software", software);
    if let Some(c) = comment {
        put(&mut f, "ssh.comment", c);
    }
    let role = if sport == 22 || (dport != 22 && sport < dport) { "server" } else { "client" };
    put(&mut f, "ssh.role", role);
    Some(f)
}

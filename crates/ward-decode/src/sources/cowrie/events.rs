//! What each eventid adds to the common fields: its categorization and its own members.
//!
//! Eventids come from Cowrie's catalogue (`cowrie/core/eventids.py`) and from earlier releases;
//! the members each one carries were read from the code that emits it.

use ward_model::Event;

use super::fields::{Record, Text};
use super::plugins;
use crate::DecodeError;
use crate::util;

type Mapped = Result<(), DecodeError>;

/// `event.outcome`.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Outcome {
    /// The attempt worked.
    Success,
    /// The attempt failed.
    Failure,
}

/// Sets `event.kind`, `event.category` and `event.type`.
pub(super) fn categorize(ev: &mut Event, category: &[&str], types: &[&str]) {
    util::categorize(ev, "event", category, types);
}

/// Sets `event.outcome`.
pub(super) fn outcome(ev: &mut Event, outcome: Outcome) {
    ev.set("event.outcome", if outcome == Outcome::Success { "success" } else { "failure" });
}

/// Sets a SHA-256 and adds it to `related.hash`.
pub(super) fn sha256(ev: &mut Event, hash: Option<Text<'_>>) {
    if let Some(hash) = hash {
        ev.push("related.hash", &*hash);
        ev.set("file.hash.sha256", hash);
    }
}

/// Maps the members of one eventid; unknown eventids become generic honeypot events.
pub(super) fn map(ev: &mut Event, rec: &mut Record, eventid: &str) -> Mapped {
    let Some(kind) = eventid.strip_prefix(super::PREFIX) else {
        generic(ev);
        return Ok(());
    };
    let (group, name) = kind.split_once('.').unwrap_or((kind, ""));
    match group {
        "session" => session(ev, rec, name),
        "login" => login(ev, rec, name),
        "command" => command(ev, rec, name),
        "client" => client(ev, rec, name),
        "direct-tcpip" | "tunnelproxy-tcpip" => forward(ev, rec, kind),
        "log" => ttylog(ev, rec, name),
        "telnet" => telnet(ev, rec, name),
        _ => plugins::map(ev, rec, group, name),
    }
}

/// Any honeypot event whose eventid has no mapping of its own.
pub(super) fn generic(ev: &mut Event) {
    categorize(ev, &["intrusion_detection"], &["info"]);
}

fn session(ev: &mut Event, rec: &mut Record, name: &str) -> Mapped {
    match name {
        "connect" => categorize(ev, &["network", "session"], &["connection", "start"]),
        "closed" => {
            categorize(ev, &["network", "session"], &["connection", "end"]);
            duration(ev, rec)?;
        }
        "params" => {
            categorize(ev, &["session"], &["info"]);
            ev.set_opt("cowrie.arch", rec.non_empty("arch")?);
        }
        "file_download" => download(ev, rec, Outcome::Success)?,
        "file_download.failed" => download(ev, rec, Outcome::Failure)?,
        "file_upload" => upload(ev, rec)?,
        "input" => input(ev, rec)?,
        _ => generic(ev),
    }
    Ok(())
}

/// `event.duration` in nanoseconds from `duration_ms` (Cowrie 3) or `duration` in seconds
/// (Cowrie 2).
fn duration(ev: &mut Event, rec: &mut Record) -> Mapped {
    if let Some(ms) = rec.int("duration_ms")? {
        let ns = ms.checked_mul(1_000_000).filter(|ns| *ns >= 0);
        let ns = ns.ok_or_else(|| DecodeError::invalid("duration_ms", format!("{ms} ms is out of range")))?;
        ev.set("event.duration", ns);
    } else if let Some(secs) = rec.seconds("duration")? {
        let ns = secs * 1e9;
        if ns >= i64::MAX as f64 {
            return Err(DecodeError::invalid("duration", format!("{secs} s is out of range")));
        }
        ev.set("event.duration", ns.round() as i64);
    }
    Ok(())
}

/// A file fetched by a command (wget, curl, tftp, ftpget), or stdin or a redirection saved.
fn download(ev: &mut Event, rec: &mut Record, result: Outcome) -> Mapped {
    categorize(ev, &["file"], &["creation"]);
    outcome(ev, result);
    let url = rec.non_empty("url")?;
    let dest = rec.non_empty("destfile")?;
    let name = dest.as_deref().or(url.as_deref().and_then(url_file_name)).and_then(base_name);
    ev.set_opt("file.name", name);
    ev.set_opt("file.path", dest);
    ev.set_opt("url.original", url);
    sha256(ev, rec.non_empty("shasum")?);
    ev.set_opt("file.size", rec.int("size")?);
    ev.set_opt("cowrie.outfile", rec.non_empty("outfile")?);
    ev.set_opt("cowrie.duplicate", rec.flag("duplicate")?);
    ev.set_opt("error.message", rec.non_empty("error")?);
    duration(ev, rec)
}

/// A file uploaded over SCP or SFTP. Cowrie's `url` is the destination path there.
fn upload(ev: &mut Event, rec: &mut Record) -> Mapped {
    categorize(ev, &["file"], &["creation"]);
    outcome(ev, Outcome::Success);
    let mut dest = rec.non_empty("destfile")?;
    match rec.non_empty("url")? {
        Some(url) if url.contains("://") => ev.set("url.original", url),
        Some(path) if dest.is_none() => dest = Some(path),
        Some(path) if dest.as_deref() != Some(&*path) => ev.set("cowrie.url", path),
        _ => {}
    }
    match rec.non_empty("filename")? {
        Some(name) => ev.set("file.name", name),
        None => ev.set_opt("file.name", dest.as_deref().and_then(base_name)),
    }
    ev.set_opt("file.path", dest);
    sha256(ev, rec.non_empty("shasum")?);
    ev.set_opt("file.size", rec.int("size")?);
    ev.set_opt("cowrie.outfile", rec.non_empty("outfile")?);
    ev.set_opt("cowrie.duplicate", rec.flag("duplicate")?);
    Ok(())
}

/// The last path segment of a URL's path, without query or fragment.
fn url_file_name(url: &str) -> Option<&str> {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let path = &rest[rest.find('/')?..];
    path.split(['?', '#']).next()
}

fn base_name(path: &str) -> Option<&str> {
    path.rsplit('/').next().filter(|n| !n.is_empty())
}

/// Lines typed into a running program (`cat`, `passwd`, `scp`…), with the program as realm.
fn input(ev: &mut Event, rec: &mut Record) -> Mapped {
    categorize(ev, &["process"], &["info"]);
    ev.set_opt("cowrie.input.realm", rec.non_empty("realm")?);
    ev.set_opt("cowrie.input.data", rec.text("input")?);
    Ok(())
}

fn login(ev: &mut Event, rec: &mut Record, name: &str) -> Mapped {
    let result = match name {
        "success" => Outcome::Success,
        "failed" => Outcome::Failure,
        _ => {
            generic(ev);
            return Ok(());
        }
    };
    categorize(ev, &["authentication"], &["start"]);
    outcome(ev, result);
    user(ev, "user.name", rec.text("username")?);
    ev.set_opt("cowrie.password", rec.text("password")?);
    pubkey(ev, rec)
}

/// Sets a user name (kept even when empty: an empty login name is an attempt too) and adds
/// non-empty names to `related.user`.
fn user(ev: &mut Event, path: &str, name: Option<Text<'_>>) {
    if let Some(name) = name {
        if !name.is_empty() {
            ev.push("related.user", &*name);
        }
        ev.set(path, name);
    }
}

/// The public key offered for authentication.
fn pubkey(ev: &mut Event, rec: &mut Record) -> Mapped {
    ev.set_opt("cowrie.pubkey.fingerprint", rec.non_empty("fingerprint")?);
    ev.set_opt("cowrie.pubkey.key", rec.non_empty("key")?);
    ev.set_opt("cowrie.pubkey.type", rec.non_empty("type")?);
    Ok(())
}

fn command(ev: &mut Event, rec: &mut Record, name: &str) -> Mapped {
    match name {
        "input" | "failed" => {
            categorize(ev, &["process"], &["start"]);
            if name == "failed" {
                outcome(ev, Outcome::Failure);
            }
            ev.set_opt("process.command_line", rec.text("input")?);
        }
        // With a realm the input was typed into a running program (`passwd`), without one it
        // is a command busybox ran.
        "success" => match rec.non_empty("realm")? {
            Some(realm) => {
                input(ev, rec)?;
                ev.set("cowrie.input.realm", realm);
            }
            None => {
                categorize(ev, &["process"], &["start"]);
                outcome(ev, Outcome::Success);
                ev.set_opt("process.command_line", rec.text("input")?);
            }
        },
        "chpasswd" => {
            categorize(ev, &["iam"], &["user", "change"]);
            user(ev, "user.target.name", rec.text("username")?);
            ev.set_opt("cowrie.input.realm", rec.non_empty("realm")?);
        }
        _ => generic(ev),
    }
    Ok(())
}

fn client(ev: &mut Event, rec: &mut Record, name: &str) -> Mapped {
    match name {
        "version" => {
            categorize(ev, &["network"], &["protocol"]);
            ev.set_opt("user_agent.original", rec.text("version")?);
        }
        "kex" => kex(ev, rec)?,
        "size" => {
            categorize(ev, &["session"], &["info"]);
            ev.set_opt("cowrie.terminal.width", rec.int("width")?);
            ev.set_opt("cowrie.terminal.height", rec.int("height")?);
        }
        "var" => environment(ev, rec, &["session"])?,
        "fingerprint" => {
            categorize(ev, &["authentication"], &["info"]);
            user(ev, "user.name", rec.text("username")?);
            pubkey(ev, rec)?;
        }
        "malformed_packet" => {
            categorize(ev, &["network"], &["protocol", "error"]);
            ev.set_opt("cowrie.packet.message_number", rec.int("messagenum")?);
            ev.set_opt("cowrie.packet.length", rec.int("datalen")?);
            ev.set_opt("cowrie.packet.data", rec.non_empty("data")?);
        }
        _ => generic(ev),
    }
    Ok(())
}

/// The SSH client's key exchange offer and its HASSH fingerprint.
fn kex(ev: &mut Event, rec: &mut Record) -> Mapped {
    categorize(ev, &["network"], &["protocol"]);
    ev.set_opt("cowrie.kex.hassh", rec.non_empty("hassh")?);
    ev.set_opt("cowrie.kex.hassh_algorithms", rec.non_empty("hasshAlgorithms")?);
    for (raw, path) in [
        ("kexAlgs", "cowrie.kex.kex_algs"),
        ("keyAlgs", "cowrie.kex.key_algs"),
        ("encCS", "cowrie.kex.enc_cs"),
        ("macCS", "cowrie.kex.mac_cs"),
        ("compCS", "cowrie.kex.comp_cs"),
        ("langCS", "cowrie.kex.lang_cs"),
    ] {
        ev.set_opt(path, rec.strings(raw)?);
    }
    Ok(())
}

/// An environment variable the client sent (SSH `env` request, Telnet NEW-ENVIRON).
fn environment(ev: &mut Event, rec: &mut Record, category: &[&str]) -> Mapped {
    categorize(ev, category, &["info"]);
    ev.set_opt("cowrie.env.name", rec.text("name")?);
    ev.set_opt("cowrie.env.value", rec.text("value")?);
    Ok(())
}

/// SSH port forwarding (direct-tcpip): `dst_ip`/`dst_port` are the requested target there.
fn forward(ev: &mut Event, rec: &mut Record, kind: &str) -> Mapped {
    match kind {
        "direct-tcpip.request" => categorize(ev, &["network"], &["connection", "start"]),
        "direct-tcpip.data" => {
            categorize(ev, &["network"], &["connection", "denied"]);
            outcome(ev, Outcome::Failure);
        }
        "direct-tcpip.redirect" | "direct-tcpip.tunnel" => {
            categorize(ev, &["network"], &["connection", "allowed"]);
        }
        "direct-tcpip.ja4" | "direct-tcpip.ja4h" => categorize(ev, &["network"], &["protocol"]),
        "tunnelproxy-tcpip.data" => categorize(ev, &["network"], &["connection", "info"]),
        _ => {
            generic(ev);
            return Ok(());
        }
    }
    ev.set_opt("cowrie.forward.orig_ip", rec.text("orig_ip")?);
    ev.set_opt("cowrie.forward.orig_port", rec.port("orig_port")?);
    ev.set_opt("cowrie.forward.new_ip", rec.non_empty("new_ip")?);
    ev.set_opt("cowrie.forward.new_port", rec.port("new_port")?);
    ev.set_opt("cowrie.forward.channel", rec.int("id")?);
    ev.set_opt("cowrie.forward.data", rec.text("data")?);
    ev.set_opt("cowrie.forward.ja4", rec.non_empty("ja4")?);
    ev.set_opt("cowrie.forward.ja4h", rec.non_empty("ja4h")?);
    Ok(())
}

/// The TTY recording of a session (`cowrie.ttylog.shasum` is the recording's hash, not a
/// downloaded file's, so it stays out of `file.hash.*` and `related.hash`).
fn ttylog(ev: &mut Event, rec: &mut Record, name: &str) -> Mapped {
    if name != "open" && name != "closed" {
        generic(ev);
        return Ok(());
    }
    categorize(ev, &["session"], &["info"]);
    ev.set_opt("cowrie.ttylog.file", rec.non_empty("ttylog")?);
    ev.set_opt("cowrie.ttylog.size", rec.int("size")?);
    ev.set_opt("cowrie.ttylog.shasum", rec.non_empty("shasum")?);
    ev.set_opt("cowrie.ttylog.duplicate", rec.flag("duplicate")?);
    duration(ev, rec)
}

fn telnet(ev: &mut Event, rec: &mut Record, name: &str) -> Mapped {
    match name {
        "option" => {
            categorize(ev, &["network"], &["protocol"]);
            ev.set_opt("cowrie.telnet.command", rec.non_empty("command")?);
            ev.set_opt("cowrie.telnet.option", rec.non_empty("option_name")?);
            ev.set_opt("cowrie.telnet.option_code", rec.int("option_byte")?);
        }
        "error" => {
            categorize(ev, &["network"], &["protocol", "error"]);
            outcome(ev, Outcome::Failure);
            ev.set_opt("error.message", rec.non_empty("error")?);
        }
        "exploit_attempt" => {
            environment(ev, rec, &["intrusion_detection"])?;
            ev.set_opt("vulnerability.id", rec.non_empty("cve")?);
        }
        "exploit_success" => {
            categorize(ev, &["intrusion_detection", "authentication"], &["allowed", "start"]);
            outcome(ev, Outcome::Success);
            ev.set_opt("vulnerability.id", rec.non_empty("cve")?);
            user(ev, "user.name", rec.text("username")?);
            ev.set_opt("cowrie.exploit.original_username", rec.text("original_username")?);
            ev.set_opt("cowrie.exploit.attempted_command", rec.text("attempted_command")?);
        }
        _ => generic(ev),
    }
    Ok(())
}

//! Linux-PAM messages, whether prefixed (`pam_unix(sshd:auth): …`, modern) or tagged
//! (`sshd(pam_unix)[pid]: …`, older): authentication failures, unknown users, and sessions.

use std::sync::LazyLock;

use regex::Regex;
use ward_model::Event;

use super::{Outcome, classify, set_source};
use crate::util;

static SESSION: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^session (opened|closed) for user (\S+?)(?:\(uid=\d+\))?(?: by (\S*?)\(uid=(\d+)\))?$")
        .unwrap_or_else(|e| unreachable!("static pattern: {e}"))
});

/// Maps `pam_MODULE(SERVICE:TYPE): BODY`; returns whether the text had that form.
pub(super) fn map_prefixed(ev: &mut Event, text: &str) -> bool {
    let Some((head, body)) = text.split_once("): ") else { return false };
    let Some((module, scope)) = head.split_once('(') else { return false };
    if !module.starts_with("pam_") || module.contains(' ') {
        return false;
    }
    let (service, kind) = scope.split_once(':').unwrap_or((scope, ""));
    ev.set("system.auth.pam.module", module);
    if !service.is_empty() {
        ev.set("system.auth.pam.service", service);
    }
    if !kind.is_empty() {
        ev.set("system.auth.pam.type", kind);
    }
    map_body(ev, body);
    true
}

/// Maps the body of a PAM message (module and service already known).
pub(super) fn map_body(ev: &mut Event, body: &str) {
    if let Some(kv) = body.strip_prefix("authentication failure; ") {
        auth_failure(ev, kv);
    } else if body == "check pass; user unknown" {
        classify(ev, "pam_user_unknown", &["authentication"], &["info"], Some(Outcome::Failure));
    } else if let Some(c) = SESSION.captures(body) {
        let opened = &c[1] == "opened";
        let (action, kind) = if opened { ("session_opened", "start") } else { ("session_closed", "end") };
        classify(ev, action, &["session"], &[kind], None);
        util::set_user(ev, "user.name", &c[2]);
        if let Some(by) = c.get(3).filter(|m| !m.is_empty()) {
            ev.set("system.auth.pam.by_user", by.as_str());
            ev.push("related.user", by.as_str());
        }
        if let Some(uid) = c.get(4).and_then(|m| m.as_str().parse::<i64>().ok()) {
            ev.set("system.auth.pam.by_uid", uid);
        }
    }
}

/// `PAM N more authentication failure[s]; logname=… rhost=… [user=…]`, as sshd writes after
/// several failed attempts on one connection.
pub(super) fn more_failures(ev: &mut Event, text: &str) {
    let Some(rest) = text.strip_prefix("PAM ") else { return };
    let Some((count, rest)) = rest.split_once(' ') else { return };
    let Ok(count) = count.parse::<i64>() else { return };
    let kv = rest
        .strip_prefix("more authentication failures; ")
        .or_else(|| rest.strip_prefix("more authentication failure; "));
    if let Some(kv) = kv {
        auth_failure(ev, kv);
        ev.set("system.auth.pam.more_failures", count);
    }
}

/// `logname= uid=0 euid=0 tty=ssh ruser= rhost=HOST [user=NAME]` after an authentication failure.
fn auth_failure(ev: &mut Event, kv: &str) {
    classify(ev, "pam_auth_failure", &["authentication"], &["info"], Some(Outcome::Failure));
    for (key, value) in kv.split_ascii_whitespace().filter_map(|p| p.split_once('=')) {
        if value.is_empty() {
            continue;
        }
        match key {
            "user" => util::set_user(ev, "user.name", value),
            "rhost" => set_source(ev, value),
            "tty" => ev.set("system.auth.pam.tty", value),
            "ruser" => ev.set("system.auth.pam.ruser", value),
            "logname" => ev.set("system.auth.pam.logname", value),
            _ => {}
        }
    }
}

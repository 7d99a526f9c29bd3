//! OpenSSH `sshd` messages → ECS authentication and network events. Field names under
//! `system.auth.ssh.*` follow Elastic's system/auth module (`method`, `event`, `signature`).

use std::sync::LazyLock;

use regex::{Captures, Regex};
use ward_model::Event;

use super::{Outcome, classify, pam, set_port, set_source};
use crate::util;

fn re(pattern: &str) -> Regex {
    Regex::new(pattern).unwrap_or_else(|e| unreachable!("static pattern {pattern}: {e}"))
}

static LOGIN: LazyLock<Regex> = LazyLock::new(|| {
    re(r"^(Accepted|Failed) (\S+) for (invalid user )?(.*) from (\S+) port (\d+)(?: (ssh\d?))?(?:: (.+))?$")
});
static INVALID: LazyLock<Regex> = LazyLock::new(|| re(r"^Invalid user (.*) from (\S+)(?: port (\d+))?$"));
static USERAUTH: LazyLock<Regex> =
    LazyLock::new(|| re(r"^input_userauth_request: invalid user (.*?)(?: \[preauth\])?$"));
static CLOSED: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"^Connection closed by (?:(?:authenticating|invalid) user (.*?) )?([^\s\[]\S*)(?: port (\d+))?(?: \[preauth\])?$",
    )
});
static DISCONNECTED: LazyLock<Regex> = LazyLock::new(|| {
    re(r"^Disconnected from (?:(?:authenticating |invalid )?user (.*?) )?(\S+) port (\d+)(?: \[preauth\])?$")
});
static RECEIVED: LazyLock<Regex> =
    LazyLock::new(|| re(r"^Received disconnect from (\S+)(?: port (\d+))?: ?(\d+): (.*?)(?: \[preauth\])?$"));
static NO_IDENT: LazyLock<Regex> =
    LazyLock::new(|| re(r"^Did not receive identification string from (\S+)(?: port (\d+))?$"));
static REVERSE: LazyLock<Regex> = LazyLock::new(|| {
    re(r"^reverse mapping checking getaddrinfo for (\S+) \[(\S+)\] failed(?: - POSSIBLE BREAK-IN ATTEMPT!)?$")
});
static MAPS_BACK: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"^Address (\S+) maps to (\S+), but this does not map back to the address(?: - POSSIBLE BREAK-IN ATTEMPT!)?$",
    )
});
static MAX_ATTEMPTS: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"^maximum authentication attempts exceeded for (invalid user )?(.*) from (\S+) port (\d+)(?: ssh\d?)?(?: \[preauth\])?$",
    )
});
static TOO_MANY: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"^Disconnecting(?: (?:authenticating |invalid )?user (.*) (\S+) port (\d+))?: Too many authentication failures(?: for (?:invalid user )?(.*?))?(?: \[preauth\])?$",
    )
});

/// Maps one `sshd` message (after any `message repeated` wrapper was removed).
pub(super) fn map(ev: &mut Event, text: &str) {
    let text = match text.split_once(": ") {
        Some((level @ ("error" | "fatal"), rest)) => {
            ev.set("log.level", level);
            rest
        }
        _ => text,
    };
    let first = text.split(' ').next().unwrap_or_default();
    match first {
        "Accepted" | "Failed" => with(&LOGIN, text, |c| login(ev, c)),
        "Invalid" => with(&INVALID, text, |c| invalid_user(ev, c.get(1), c.get(2), c.get(3))),
        "input_userauth_request:" => with(&USERAUTH, text, |c| invalid_user(ev, c.get(1), None, None)),
        "Connection" => with(&CLOSED, text, |c| closed(ev, "ssh_connection_closed", c, [1, 2, 3])),
        "Disconnected" => with(&DISCONNECTED, text, |c| closed(ev, "ssh_disconnect", c, [1, 2, 3])),
        "Received" => with(&RECEIVED, text, |c| received_disconnect(ev, c)),
        "Did" => with(&NO_IDENT, text, |c| no_identification(ev, c)),
        "reverse" => with(&REVERSE, text, |c| reverse_mapping(ev, &c[1], &c[2])),
        "Address" => with(&MAPS_BACK, text, |c| reverse_mapping(ev, &c[2], &c[1])),
        "maximum" => with(&MAX_ATTEMPTS, text, |c| too_many(ev, c, [2, 3, 4])),
        "Disconnecting" | "Disconnecting:" => with(&TOO_MANY, text, |c| {
            let user = if c.get(4).is_some() { 4 } else { 1 };
            too_many(ev, c, [user, 2, 3]);
        }),
        "PAM" => pam::more_failures(ev, text),
        _ => {}
    }
}

fn with<'t>(re: &Regex, text: &'t str, f: impl FnOnce(&Captures<'t>)) {
    if let Some(c) = re.captures(text) {
        f(&c);
    }
}

fn set_user(ev: &mut Event, name: Option<regex::Match<'_>>) {
    if let Some(m) = name {
        util::set_user(ev, "user.name", m.as_str());
    }
}

/// `Accepted|Failed METHOD for [invalid user ]USER from IP port PORT ssh2[: SIGNATURE]`.
fn login(ev: &mut Event, c: &Captures<'_>) {
    let accepted = &c[1] == "Accepted";
    let outcome = if accepted { Outcome::Success } else { Outcome::Failure };
    classify(ev, "ssh_login", &["authentication"], &["start"], Some(outcome));
    ev.set("system.auth.ssh.event", &c[1]);
    ev.set("system.auth.ssh.method", &c[2]);
    if c.get(3).is_some() {
        ev.set("system.auth.ssh.invalid_user", true);
    }
    set_user(ev, c.get(4));
    set_source(ev, &c[5]);
    set_port(ev, "source.port", c.get(6));
    if c.get(7).is_some() {
        ev.set("network.protocol", "ssh");
    }
    ev.set_opt("system.auth.ssh.signature", c.get(8).map(|m| m.as_str()));
}

/// `Invalid user USER from IP [port PORT]` and its `input_userauth_request` echo.
fn invalid_user(
    ev: &mut Event,
    user: Option<regex::Match<'_>>,
    ip: Option<regex::Match<'_>>,
    port: Option<regex::Match<'_>>,
) {
    classify(ev, "ssh_invalid_user", &["authentication"], &["info"], Some(Outcome::Failure));
    ev.set("system.auth.ssh.event", "Invalid");
    set_user(ev, user);
    if let Some(ip) = ip {
        set_source(ev, ip.as_str());
    }
    set_port(ev, "source.port", port);
}

/// `Connection closed by …` / `Disconnected from …`: groups are [user, address, port].
fn closed(ev: &mut Event, action: &str, c: &Captures<'_>, [user, addr, port]: [usize; 3]) {
    classify(ev, action, &["network"], &["connection", "end"], None);
    set_user(ev, c.get(user));
    set_source(ev, &c[addr]);
    set_port(ev, "source.port", c.get(port));
}

/// `Received disconnect from IP[ port PORT]: CODE: REASON [preauth]`.
fn received_disconnect(ev: &mut Event, c: &Captures<'_>) {
    classify(ev, "ssh_disconnect", &["network"], &["connection", "end"], None);
    set_source(ev, &c[1]);
    set_port(ev, "source.port", c.get(2));
    if let Ok(code) = c[3].parse::<i64>() {
        ev.set("system.auth.ssh.disconnect_code", code);
    }
    if !c[4].is_empty() {
        ev.set("event.reason", &c[4]);
    }
}

/// `Did not receive identification string from IP[ port PORT]`: a connection that never spoke SSH.
fn no_identification(ev: &mut Event, c: &Captures<'_>) {
    classify(ev, "ssh_no_identification", &["network"], &["connection"], Some(Outcome::Failure));
    set_source(ev, &c[1]);
    set_port(ev, "source.port", c.get(2));
}

/// `reverse mapping checking getaddrinfo for HOST [IP] failed - POSSIBLE BREAK-IN ATTEMPT!` and
/// `Address IP maps to HOST, but this does not map back …`.
fn reverse_mapping(ev: &mut Event, host: &str, ip: &str) {
    classify(ev, "ssh_reverse_mapping_failed", &["network"], &["info"], None);
    set_source(ev, ip);
    if !host.is_empty() && ev.get("source.domain").is_none() {
        ev.set("source.domain", host);
    }
}

/// `maximum authentication attempts exceeded …` / `Disconnecting: Too many authentication
/// failures …`: groups are [user, address, port].
fn too_many(ev: &mut Event, c: &Captures<'_>, [user, addr, port]: [usize; 3]) {
    classify(ev, "ssh_max_auth_exceeded", &["authentication"], &["info"], Some(Outcome::Failure));
    set_user(ev, c.get(user));
    if let Some(a) = c.get(addr) {
        set_source(ev, a.as_str());
    }
    set_port(ev, "source.port", c.get(port));
}

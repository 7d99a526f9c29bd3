//! Row-dependent fields of some tables: what no single column gives (`event.action` from a
//! system call, `event.type` from a file action, transport names from protocol numbers).

use ward_model::Event;

use super::list;
use crate::util::{self, Object};

fn col<'a>(cols: &'a Object, name: &str) -> Option<&'a str> {
    util::str_of(cols, name).filter(|s| !s.is_empty())
}

fn set_type(ev: &mut Event, types: &[&str]) {
    ev.set("event.type", list(types));
}

/// `process_events`/`bpf_process_events`: the system call is the action.
pub(super) fn syscall(cols: &Object, ev: &mut Event) {
    ev.set_opt("event.action", col(cols, "syscall"));
}

/// `es_process_events`: `event_type` is `exec`, `fork` or `exit`.
pub(super) fn es_event_type(cols: &Object, ev: &mut Event) {
    let Some(kind) = col(cols, "event_type") else {
        return;
    };
    ev.set("event.action", kind);
    if kind == "exit" {
        set_type(ev, &["end"]);
    }
}

/// `network.transport`/`network.iana_number` from `protocol`, `network.type` from `family`.
pub(super) fn transport(cols: &Object, ev: &mut Event) {
    let number = |name: &str| cols.get(name).and_then(super::integer);
    if let Some(proto) = number("protocol") {
        let name = match proto {
            1 => Some("icmp"),
            6 => Some("tcp"),
            17 => Some("udp"),
            58 => Some("ipv6-icmp"),
            132 => Some("sctp"),
            _ => None,
        };
        ev.set_opt("network.transport", name);
        ev.set("network.iana_number", proto.to_string());
    }
    let family = match number("family") {
        Some(2) => Some("ipv4"),
        // AF_INET6 is 10 on Linux, 23 on Windows, 28 on FreeBSD, 30 on macOS.
        Some(10 | 23 | 28 | 30) => Some("ipv6"),
        _ => None,
    };
    ev.set_opt("network.type", family);
}

/// `socket_events`: `action` (`connect`, `accept`, `bind`…) and `success`.
pub(super) fn socket_action(cols: &Object, ev: &mut Event) {
    transport(cols, ev);
    let action = col(cols, "action").or_else(|| col(cols, "syscall"));
    if let Some(action) = action {
        ev.set("event.action", action);
        if !matches!(action, "connect" | "accept" | "accept4") {
            set_type(ev, &["start"]);
        }
    }
    match col(cols, "success") {
        Some("1") => ev.set("event.outcome", "success"),
        Some("0") => ev.set("event.outcome", "failure"),
        _ => {}
    }
}

/// `last`: utmp type 7 is a login, 8 a logout.
pub(super) fn last_type(cols: &Object, ev: &mut Event) {
    let (action, types): (&str, &[&str]) = match col(cols, "type") {
        Some("7") => ("user-login", &["start"]),
        Some("8") => ("user-logout", &["end"]),
        _ => return,
    };
    ev.set("event.action", action);
    set_type(ev, types);
}

/// `file_events`: the file action decides `event.type`.
pub(super) fn file_action(cols: &Object, ev: &mut Event) {
    let Some(action) = col(cols, "action") else {
        return;
    };
    ev.set("event.action", action.to_ascii_lowercase());
    let kind = match action {
        "CREATED" | "MOVED_TO" => "creation",
        "DELETED" | "MOVED_FROM" => "deletion",
        "ACCESSED" | "OPENED" => "access",
        _ => "change",
    };
    set_type(ev, &[kind]);
}

/// `file`: osquery file types as ECS `file.type`.
pub(super) fn file_type(cols: &Object, ev: &mut Event) {
    let kind = match col(cols, "type") {
        Some("regular") => "file",
        Some("directory") => "dir",
        Some("symlink") => "symlink",
        Some(other) => other,
        None => return,
    };
    ev.set("file.type", kind);
}

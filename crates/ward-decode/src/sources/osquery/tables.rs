//! Which osquery table a query reads, and what its columns mean in ECS.
//!
//! A result log names its query, not its table. The table is inferred once per record from the
//! query name: the longest known table name that ends the query name at a word boundary,
//! ignoring case (`pack_incident-response_shell_history` → `shell_history`,
//! `pack/ir/logged_in_users` → `logged_in_users`, `pack-ir-last` → `last`). When no name
//! matches, a few column signatures identify the table per row (see [`by_columns`]). Rows of
//! unknown tables keep their columns under `osquery.columns.*` only.

use chrono::{SecondsFormat, TimeZone, Utc};
use serde_json::Value;
use ward_model::{Event, FieldValue};

use super::{Action, RowLabel, integer, show};
use crate::DecodeError;
use crate::util::{self, Object};

mod catalog;
mod special;

pub(crate) use catalog::TABLES;

/// What a column becomes.
#[derive(Clone, Copy, Debug)]
pub(crate) enum To {
    /// Text (numbers are written as text) at a path.
    Text(&'static str),
    /// A user name: text plus `related.user`.
    User(&'static str),
    /// An integer.
    Int(&'static str),
    /// A port number; values outside 1..=65535 name no port and are left out.
    Port(&'static str),
    /// Unix seconds as an RFC 3339 date; 0 and negative values mean unknown and are left out.
    Time(&'static str),
    /// A hash: text plus `related.hash`.
    Hash(&'static str),
    /// An endpoint address: `<prefix>.address`, and `<prefix>.ip` plus `related.ip` when it
    /// is an IP address.
    Addr(&'static str),
    /// A peer address, as [`To::Addr`] but left out when unspecified (`0.0.0.0`, `::`), as
    /// osquery reports unconnected sockets.
    Peer(&'static str),
}

/// A table's column mappings.
pub(crate) type Columns = &'static [(&'static str, To)];

/// `event.type` of rows that were added, removed, or part of a snapshot.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Lifecycle {
    /// Types of added rows.
    pub(crate) added: &'static [&'static str],
    /// Types of removed rows.
    pub(crate) removed: &'static [&'static str],
    /// Types of snapshot rows.
    pub(crate) snapshot: &'static [&'static str],
}

impl Lifecycle {
    fn of(&self, action: Action) -> &'static [&'static str] {
        match action {
            Action::Added => self.added,
            Action::Removed => self.removed,
            Action::Snapshot => self.snapshot,
        }
    }
}

/// Rows of tables Ward has no mapping for.
const GENERIC: Lifecycle = Lifecycle { added: &["creation"], removed: &["deletion"], snapshot: &["info"] };

/// One known osquery table.
#[derive(Debug)]
pub(crate) struct Table {
    /// The osquery table name.
    pub(crate) name: &'static str,
    /// `event.category`.
    pub(crate) category: &'static [&'static str],
    /// `event.type` per action, unless the row says better (see `special`).
    pub(crate) lifecycle: Lifecycle,
    /// Whether the row's `time` column is when the event happened (evented tables).
    pub(crate) evented: bool,
    /// Column mappings.
    pub(crate) columns: &'static [Columns],
    /// Fields set on every row.
    pub(crate) constants: &'static [(&'static str, &'static str)],
    /// Row-dependent fields (`event.action`, `event.type`) that no single column gives.
    pub(crate) special: Option<fn(&Object, &mut Event)>,
}

/// The table a query name ends with, if any.
pub(crate) fn by_name(query: &str) -> Option<&'static Table> {
    let q = query.as_bytes();
    TABLES
        .iter()
        .filter(|t| {
            let n = t.name.len();
            q.len() >= n
                && q[q.len() - n..].eq_ignore_ascii_case(t.name.as_bytes())
                && (q.len() == n || !q[q.len() - n - 1].is_ascii_alphanumeric())
        })
        .max_by_key(|t| t.name.len())
}

/// The table a row's columns identify, for query names that do not end in a table name.
pub(crate) fn by_columns(cols: &Object) -> Option<&'static Table> {
    let has = |c: &str| cols.contains_key(c);
    let name = if has("target_path") && has("action") {
        "file_events"
    } else if has("local_address") && has("remote_address") {
        if has("action") { "socket_events" } else { "process_open_sockets" }
    } else if has("pid") && (has("cmdline") || (has("path") && has("name"))) {
        "processes"
    } else if has("port") && has("address") && has("protocol") {
        "listening_ports"
    } else if has("command") && has("minute") && has("hour") {
        "crontab"
    } else if has("command") && has("history_file") {
        "shell_history"
    } else {
        return None;
    };
    TABLES.iter().find(|t| t.name == name)
}

/// Sets categorization and the ECS fields of one row.
///
/// # Errors
/// A column that a mapping needs typed (an integer `pid`, a numeric `port`…) holds something
/// else; the error names the column within its record.
pub(crate) fn apply(
    table: Option<&Table>,
    cols: &Object,
    action: Action,
    label: &RowLabel,
    ev: &mut Event,
) -> Result<(), DecodeError> {
    ev.set("event.action", action.as_str());
    let Some(table) = table else {
        ev.set("event.type", list(GENERIC.of(action)));
        return Ok(());
    };
    ev.set("osquery.table", table.name);
    ev.set("event.category", list(table.category));
    ev.set("event.type", list(table.lifecycle.of(action)));
    for (path, value) in table.constants {
        ev.set(path, *value);
    }
    for (column, to) in table.columns.iter().flat_map(|c| c.iter()) {
        if let Some(value) = cols.get(*column) {
            convert(*to, value, ev).map_err(|why| DecodeError::invalid(label.field(column), why))?;
        }
    }
    if let Some(special) = table.special {
        special(cols, ev);
    }
    if table.evented {
        event_time(cols, label, ev)?;
    }
    derive(ev);
    Ok(())
}

/// Writes one column value as `to` says; `Err` says why the value does not fit.
fn convert(to: To, value: &Value, ev: &mut Event) -> Result<(), String> {
    let Some(text) = text(value)? else {
        return Ok(());
    };
    match to {
        To::Text(path) => ev.set(path, text),
        To::User(path) => util::set_user(ev, path, &text),
        To::Hash(path) => {
            ev.set(path, text.as_str());
            ev.push("related.hash", text);
        }
        To::Int(path) => ev.set(path, int(value)?),
        To::Port(path) => {
            let port = int(value)?;
            if (1..=65535).contains(&port) {
                ev.set(path, port);
            }
        }
        To::Time(path) => {
            if let Some(t) = unix_time(int(value)?) {
                ev.set(path, t.to_rfc3339_opts(SecondsFormat::AutoSi, true));
            }
        }
        To::Addr(prefix) => address(ev, prefix, &text, false),
        To::Peer(prefix) => address(ev, prefix, &text, true),
    }
    Ok(())
}

/// A column value as text: `None` for osquery's empty/NULL values.
fn text(value: &Value) -> Result<Option<String>, String> {
    match value {
        Value::Null => Ok(None),
        Value::String(s) if s.is_empty() => Ok(None),
        Value::String(s) => Ok(Some(s.clone())),
        Value::Number(n) => Ok(Some(n.to_string())),
        Value::Bool(b) => Ok(Some(b.to_string())),
        other => Err(format!("expected a scalar, found {}", show(other))),
    }
}

fn int(value: &Value) -> Result<i64, String> {
    integer(value).ok_or_else(|| format!("expected an integer, found {}", show(value)))
}

fn unix_time(secs: i64) -> Option<chrono::DateTime<Utc>> {
    (secs > 0).then(|| Utc.timestamp_opt(secs, 0).single()).flatten()
}

/// `<prefix>.address` always, `<prefix>.ip` when the text is an IP address.
fn address(ev: &mut Event, prefix: &str, text: &str, skip_unspecified: bool) {
    let ip = text.parse::<std::net::IpAddr>().ok();
    if skip_unspecified && ip.is_some_and(|ip| ip.is_unspecified()) {
        return;
    }
    ev.set(&format!("{prefix}.address"), text);
    if ip.is_some() {
        util::set_ip(ev, &format!("{prefix}.ip"), text);
    }
}

/// For evented tables: the row's `time` becomes `@timestamp` and the log time `event.created`
/// (when the agent read the event).
fn event_time(cols: &Object, label: &RowLabel, ev: &mut Event) -> Result<(), DecodeError> {
    let Some(value) = cols.get("time").filter(|v| !matches!(v, Value::Null) && v.as_str() != Some("")) else {
        return Ok(());
    };
    let secs = int(value).map_err(|why| DecodeError::invalid(label.field("time"), why))?;
    let Some(time) = unix_time(secs) else {
        return Ok(());
    };
    if ev.remove("event.ingested").is_none() {
        ev.set("event.created", ev.timestamp().to_rfc3339_opts(SecondsFormat::AutoSi, true));
    }
    ev.set_timestamp(time);
    Ok(())
}

/// Fields implied by others: `process.name` from `process.executable`, `file.name` and
/// `file.directory` from `file.path`.
fn derive(ev: &mut Event) {
    if ev.get("process.name").is_none()
        && let Some(name) = ev.str("process.executable").and_then(basename).map(str::to_owned)
    {
        ev.set("process.name", name);
    }
    let Some(path) = ev.str("file.path").map(str::to_owned) else {
        return;
    };
    if ev.get("file.name").is_none() {
        ev.set_opt("file.name", basename(&path));
    }
    if ev.get("file.directory").is_none() {
        ev.set_opt("file.directory", dirname(&path));
    }
}

/// The last component of a Unix or Windows path.
fn basename(path: &str) -> Option<&str> {
    path.rsplit(['/', '\\']).next().filter(|s| !s.is_empty())
}

/// Everything before the last separator (`/` for a file in the root).
fn dirname(path: &str) -> Option<&str> {
    let cut = path.rfind(['/', '\\'])?;
    Some(if cut == 0 { &path[..1] } else { &path[..cut] })
}

/// A list field from static strings.
pub(crate) fn list(items: &[&str]) -> FieldValue {
    FieldValue::List(items.iter().map(|s| FieldValue::from(*s)).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name_of(query: &str) -> Option<&'static str> {
        by_name(query).map(|t| t.name)
    }

    #[test]
    fn table_is_the_longest_suffix_at_a_boundary() {
        assert_eq!(name_of("pack_incident-response_shell_history"), Some("shell_history"));
        assert_eq!(name_of("pack/incident_response/logged_in_users"), Some("logged_in_users"));
        assert_eq!(name_of("pack-incident_response-last"), Some("last"));
        assert_eq!(name_of("pack_ir_es_process_events"), Some("es_process_events"));
        assert_eq!(name_of("Process_Events"), Some("process_events"));
        assert_eq!(name_of("pack_x_broadcast"), None);
        assert_eq!(name_of("pack_osx-attacks_Keyboard_Event_Taps"), None);
        assert_eq!(name_of("ünïcode_users"), Some("users"));
    }

    #[test]
    fn every_table_name_is_unique_and_lowercase() {
        let mut names: Vec<&str> = TABLES.iter().map(|t| t.name).collect();
        assert!(names.iter().all(|n| n.bytes().all(|b| b.is_ascii_lowercase() || b == b'_')));
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), TABLES.len());
    }

    #[test]
    fn paths_split_on_both_separators() {
        assert_eq!(basename("/usr/bin/curl"), Some("curl"));
        assert_eq!(basename("C:\\Windows\\cmd.exe"), Some("cmd.exe"));
        assert_eq!(dirname("/etc/crontab"), Some("/etc"));
        assert_eq!(dirname("/crontab"), Some("/"));
        assert_eq!(dirname("crontab"), None);
    }
}

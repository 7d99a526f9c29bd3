//! osquery logs: result logs in all three shapes osquery writes (differential
//! `{"columns","action"}`, batch `{"diffResults":{"added","removed"}}` and snapshot
//! `{"snapshot":[…]}`) and JSON status logs.
//!
//! Every result row becomes one event (`part` = the row's index within the record). Each event
//! keeps the row verbatim under `osquery.columns.*` and the decorations under
//! `osquery.decorations.*`; the table the query reads (inferred from the query name, else from
//! the row's columns, see `osquery/tables.rs`) decides the ECS fields and categorization.
//! `docs/sources/osquery.md` lists every mapping.

mod status;
mod tables;

use chrono::{DateTime, NaiveDateTime, SecondsFormat, TimeZone, Utc};
use serde_json::Value;
use ward_model::Event;

use crate::util::{self, Object};
use crate::{DecodeContext, DecodeError, Decoder, Framing};

/// Top-level keys of a result log that have a dedicated mapping; others go to `osquery.extra`.
const KNOWN_KEYS: [&str; 13] = [
    "name",
    "hostIdentifier",
    "calendarTime",
    "unixTime",
    "epoch",
    "counter",
    "numerics",
    "decorations",
    "columns",
    "action",
    "diffResults",
    "snapshot",
    "log_type",
];

/// Decodes osquery result logs (one event per row) and status logs.
#[derive(Debug, Default, Clone, Copy)]
pub struct OsqueryDecoder;

impl Decoder for OsqueryDecoder {
    fn name(&self) -> &'static str {
        "osquery"
    }

    fn framing(&self) -> Framing {
        Framing::JsonValues
    }

    fn decode(&self, record: &str, ctx: &DecodeContext, out: &mut Vec<Event>) -> Result<(), DecodeError> {
        let obj = util::parse_object(record)?;
        if status::is_status(&obj) {
            out.push(status::decode(&obj, record, ctx)?);
            return Ok(());
        }
        let start = out.len();
        decode_result(&obj, record, ctx, out).inspect_err(|_| out.truncate(start))
    }
}

/// Decodes one result log into one event per row.
fn decode_result(
    obj: &Object,
    record: &str,
    ctx: &DecodeContext,
    out: &mut Vec<Event>,
) -> Result<(), DecodeError> {
    let header = Header::read(obj)?;
    let rows = rows(obj)?;
    let by_name = tables::by_name(header.name);
    for (part, row) in (0u32..).zip(rows) {
        let mut ev = header.event(obj, record, part, row.action, ctx)?;
        ev.set("osquery.action", row.action.as_str());
        copy_object(&mut ev, "osquery.columns", row.columns)?;
        let table = by_name.or_else(|| tables::by_columns(row.columns));
        tables::apply(table, row.columns, row.action, &row.label, &mut ev)?;
        out.push(ev);
    }
    Ok(())
}

/// What happened to a row: osquery's `action`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Action {
    /// The row appeared since the last run.
    Added,
    /// The row disappeared since the last run.
    Removed,
    /// The row is part of a full snapshot.
    Snapshot,
}

impl Action {
    fn as_str(self) -> &'static str {
        match self {
            Self::Added => "added",
            Self::Removed => "removed",
            Self::Snapshot => "snapshot",
        }
    }
}

/// Where a row sits in its record, for error messages (`diffResults.added[3].pid`).
#[derive(Clone, Debug)]
pub(crate) enum RowLabel {
    /// The `columns` object of a differential log.
    Columns,
    /// Element `index` of `diffResults.<list>` or of `snapshot`.
    Item(&'static str, usize),
}

impl RowLabel {
    /// The dotted name of `column` in this row.
    pub(crate) fn field(&self, column: &str) -> String {
        match self {
            Self::Columns => format!("columns.{column}"),
            Self::Item(list, i) => format!("{list}[{i}].{column}"),
        }
    }
}

/// One result row.
struct Row<'a> {
    action: Action,
    label: RowLabel,
    columns: &'a Object,
}

/// The rows of a result log, whatever its shape.
fn rows(obj: &Object) -> Result<Vec<Row<'_>>, DecodeError> {
    if let Some(diff) = obj.get("diffResults") {
        let diff = diff.as_object().ok_or_else(|| expected("diffResults", "an object", diff))?;
        let mut rows = list(diff.get("added"), "diffResults.added", Action::Added)?;
        rows.extend(list(diff.get("removed"), "diffResults.removed", Action::Removed)?);
        return Ok(rows);
    }
    if let Some(snapshot) = obj.get("snapshot") {
        match obj.get("action").and_then(Value::as_str) {
            None | Some("snapshot") => {}
            Some(other) => {
                return Err(DecodeError::invalid("action", format!("{other:?} in a snapshot log")));
            }
        }
        return list(Some(snapshot), "snapshot", Action::Snapshot);
    }
    let Some(value) = obj.get("columns") else {
        return Err(DecodeError::Shape(
            "not an osquery result log: none of `columns`, `diffResults`, `snapshot`".into(),
        ));
    };
    let columns = value.as_object().ok_or_else(|| expected("columns", "an object", value))?;
    let action = match obj.get("action") {
        Some(Value::String(s)) if s == "added" => Action::Added,
        Some(Value::String(s)) if s == "removed" => Action::Removed,
        Some(Value::String(s)) => {
            return Err(DecodeError::invalid(
                "action",
                format!("expected \"added\" or \"removed\", found {s:?}"),
            ));
        }
        Some(other) => return Err(expected("action", "a string", other)),
        None => return Err(DecodeError::missing("action")),
    };
    Ok(vec![Row { action, label: RowLabel::Columns, columns }])
}

/// The rows of one list (`diffResults.added`, `snapshot`); absent or null is empty.
fn list<'a>(
    value: Option<&'a Value>,
    name: &'static str,
    action: Action,
) -> Result<Vec<Row<'a>>, DecodeError> {
    let items = match value {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(items)) => items,
        Some(other) => return Err(expected(name, "an array", other)),
    };
    items
        .iter()
        .enumerate()
        .map(|(i, value)| match value.as_object() {
            Some(columns) => Ok(Row { action, label: RowLabel::Item(name, i), columns }),
            None => Err(expected(&format!("{name}[{i}]"), "an object", value)),
        })
        .collect()
}

/// The fields every row of a result log shares.
struct Header<'a> {
    name: &'a str,
    host: Option<&'a str>,
    time: Option<DateTime<Utc>>,
}

impl<'a> Header<'a> {
    fn read(obj: &'a Object) -> Result<Self, DecodeError> {
        let name = match obj.get("name") {
            Some(Value::String(s)) if !s.is_empty() => s.as_str(),
            Some(Value::String(_)) => return Err(DecodeError::invalid("name", "empty query name")),
            Some(other) => return Err(expected("name", "a string", other)),
            None => return Err(DecodeError::missing("name")),
        };
        Ok(Self { name, host: host_identifier(obj)?, time: log_time(obj)? })
    }

    /// Starts the event of one row with everything the log header says.
    fn event(
        &self,
        obj: &Object,
        record: &str,
        part: u32,
        action: Action,
        ctx: &DecodeContext,
    ) -> Result<Event, DecodeError> {
        let mut ev = Event::new(&ctx.tenant, "osquery", record, part, self.time.unwrap_or(ctx.now));
        if self.time.is_none() {
            ev.set("event.ingested", ctx.now.to_rfc3339_opts(SecondsFormat::AutoSi, true));
        }
        ev.set("event.kind", if action == Action::Snapshot { "state" } else { "event" });
        ev.set("event.module", "osquery");
        ev.set("event.dataset", "osquery.result");
        ev.set("agent.type", "osquery");
        ev.set("osquery.query_name", self.name);
        set_host(&mut ev, self.host);
        set_meta(&mut ev, obj)?;
        Ok(ev)
    }
}

/// `hostIdentifier` as text, when present.
fn host_identifier(obj: &Object) -> Result<Option<&str>, DecodeError> {
    match obj.get("hostIdentifier") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.as_str()).filter(|s| !s.is_empty())),
        Some(other) => Err(expected("hostIdentifier", "a string", other)),
    }
}

/// `host.name` from the host identifier, plus `host.id` when the identifier is a UUID
/// (`--host_identifier=uuid`).
fn set_host(ev: &mut Event, host: Option<&str>) {
    if let Some(host) = host {
        ev.set("host.name", host);
        if is_uuid(host) {
            ev.set("host.id", host);
        }
    }
}

/// The log time: `unixTime` (seconds, number or text), else `calendarTime`.
fn log_time(obj: &Object) -> Result<Option<DateTime<Utc>>, DecodeError> {
    match obj.get("unixTime") {
        None | Some(Value::Null) => {}
        Some(v) => {
            return number(v).and_then(util::epoch).map(Some).ok_or_else(|| {
                DecodeError::invalid("unixTime", format!("expected Unix seconds, found {}", show(v)))
            });
        }
    }
    match obj.get("calendarTime") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => calendar_time(s).map(Some).ok_or_else(|| {
            DecodeError::invalid("calendarTime", format!("unrecognised time {}", show_str(s)))
        }),
        Some(other) => Err(expected("calendarTime", "a string", other)),
    }
}

/// osquery's `calendarTime` (`Tue Sep 11 16:14:21 2018 UTC`, always UTC), or any format
/// [`util::parse_timestamp`] reads.
fn calendar_time(text: &str) -> Option<DateTime<Utc>> {
    let t = text.trim();
    let bare = t.strip_suffix("UTC").map_or(t, str::trim_end);
    NaiveDateTime::parse_from_str(bare, "%a %b %e %H:%M:%S %Y")
        .ok()
        .map(|naive| Utc.from_utc_datetime(&naive))
        .or_else(|| util::parse_timestamp(t))
}

/// `epoch`, `counter`, `numerics`, `log_type`, decorations and unknown top-level keys.
fn set_meta(ev: &mut Event, obj: &Object) -> Result<(), DecodeError> {
    for key in ["epoch", "counter"] {
        if let Some(v) = obj.get(key).filter(|v| !v.is_null()) {
            let n = integer(v).ok_or_else(|| expected(key, "an integer", v))?;
            ev.set(&format!("osquery.{key}"), n);
        }
    }
    match obj.get("numerics") {
        None | Some(Value::Null) => {}
        Some(Value::Bool(b)) => ev.set("osquery.numerics", *b),
        Some(other) => return Err(expected("numerics", "a boolean", other)),
    }
    if let Some(log_type) = obj.get("log_type").and_then(Value::as_str) {
        ev.set("osquery.log_type", log_type);
    }
    set_decorations(ev, obj.get("decorations"))?;
    let extra: Object = obj
        .iter()
        .filter(|(k, _)| !KNOWN_KEYS.contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    copy_object(ev, "osquery.extra", &extra)?;
    Ok(())
}

/// Decorations under `osquery.decorations.*`; the conventional `hostname`, `host_uuid` and
/// `platform` decorations also fill `host.hostname`, `host.id` and `host.os.platform`.
fn set_decorations(ev: &mut Event, value: Option<&Value>) -> Result<(), DecodeError> {
    let decorations = match value {
        None | Some(Value::Null) => return Ok(()),
        Some(Value::Object(map)) => map,
        Some(other) => return Err(expected("decorations", "an object", other)),
    };
    copy_object(ev, "osquery.decorations", decorations)?;
    let text = |key: &str| util::str_of(decorations, key).filter(|s| !s.is_empty());
    ev.set_opt("host.hostname", text("hostname"));
    ev.set_opt("host.os.platform", text("platform"));
    if ev.get("host.id").is_none() {
        ev.set_opt("host.id", text("host_uuid"));
    }
    Ok(())
}

/// Copies an object's fields under `prefix`, one key per path segment: dots in keys become `_`
/// (as the json decoder does), so a column named `p.pid` cannot pose as a nested field and every
/// event reads back from its printed form. Nothing is dropped; `event.original` has the keys
/// as written.
fn copy_object(ev: &mut Event, prefix: &str, obj: &Object) -> Result<(), DecodeError> {
    super::json::tree::copy_unread(obj, None, &mut prefix.to_owned(), ev)
}

/// A number, or a string holding one (osquery writes most numbers as text).
fn number(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// An integer, or a string holding one.
pub(crate) fn integer(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// Whether `s` is a hyphenated UUID (`8-4-4-4-12` hex digits).
fn is_uuid(s: &str) -> bool {
    let groups: Vec<&str> = s.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(g, n)| g.len() == n && g.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// "expected X, found Y" for `field`.
pub(crate) fn expected(field: &str, what: &str, found: &Value) -> DecodeError {
    DecodeError::invalid(field, format!("expected {what}, found {}", show(found)))
}

/// A value for an error message: strings quoted (and cut), other values by type.
pub(crate) fn show(v: &Value) -> String {
    match v {
        Value::String(s) => show_str(s),
        other => util::kind_of(other).to_owned(),
    }
}

fn show_str(s: &str) -> String {
    const MAX: usize = 60;
    match s.char_indices().nth(MAX) {
        Some((cut, _)) => format!("{:?}…", &s[..cut]),
        None => format!("{s:?}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calendar_time_formats_parse() {
        let want = Utc.with_ymd_and_hms(2018, 9, 11, 16, 14, 21).single();
        assert_eq!(calendar_time("Tue Sep 11 16:14:21 2018 UTC"), want);
        assert_eq!(calendar_time("Tue Sep 11 16:14:21 2018"), want);
        let padded = Utc.with_ymd_and_hms(2014, 9, 1, 7, 5, 3).single();
        assert_eq!(calendar_time("Mon Sep  1 07:05:03 2014 UTC"), padded);
        assert!(calendar_time("Mon Sepp 1 2014").is_none());
    }

    #[test]
    fn uuid_host_identifiers_are_recognised() {
        assert!(is_uuid("0ec3540f-1dd9-4462-bd28-0f63b2611621"));
        assert!(is_uuid("37821E12-CC8A-5AA3-A90C-FAB28A5BF8F9"));
        assert!(!is_uuid("MacBook-Pro.local"));
        assert!(!is_uuid("0ec3540f-1dd9-4462-bd28-0f63b261162"));
    }

    #[test]
    fn long_values_are_cut_in_messages() {
        let long = "é".repeat(100);
        let shown = show_str(&long);
        assert!(shown.chars().count() < 70, "{shown}");
    }
}

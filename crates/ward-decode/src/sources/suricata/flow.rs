//! `flow` (bidirectional flow records, also embedded in alerts) and `netflow` (one direction).

use chrono::{DateTime, Utc};
use serde_json::Value;
use ward_model::Event;

use super::Record;
use super::value::{count, iso, object, time, vendor};
use crate::DecodeError;

/// Flow counters, each direction as seen from the flow's client.
#[derive(Default)]
struct Counters {
    bytes_toserver: Option<i64>,
    bytes_toclient: Option<i64>,
    pkts_toserver: Option<i64>,
    pkts_toclient: Option<i64>,
}

/// `flow`: counters to `source.*`/`destination.*` and `network.*` totals, `start`/`end` to
/// `event.start`/`event.end`/`event.duration`, the rest (`age`, `state`, `reason`, `alerted`,
/// the flow's own tuple…) under `suricata.flow.*`.
///
/// The record's source is the flow's client except on `to_client` alerts, whose source is the
/// server: then the to-client counters are the source's.
///
/// # Errors
/// A counter that is not a non-negative integer, or an unparseable `start`/`end`.
pub(super) fn flow(ev: &mut Event, rec: &Record<'_>, value: &Value) -> Result<(), DecodeError> {
    let obj = object(value, "flow")?;
    let mut c = Counters::default();
    let (mut start, mut end) = (None, None);
    for (k, v) in obj {
        match k.as_str() {
            "bytes_toserver" => c.bytes_toserver = Some(count(v, "flow.bytes_toserver")?),
            "bytes_toclient" => c.bytes_toclient = Some(count(v, "flow.bytes_toclient")?),
            "pkts_toserver" => c.pkts_toserver = Some(count(v, "flow.pkts_toserver")?),
            "pkts_toclient" => c.pkts_toclient = Some(count(v, "flow.pkts_toclient")?),
            "start" => start = Some(time(v, "flow.start")?),
            "end" => end = Some(time(v, "flow.end")?),
            _ => vendor(ev, "flow", k, v)?,
        }
    }
    let (bytes, packets) = if rec.to_client {
        ([c.bytes_toclient, c.bytes_toserver], [c.pkts_toclient, c.pkts_toserver])
    } else {
        ([c.bytes_toserver, c.bytes_toclient], [c.pkts_toserver, c.pkts_toclient])
    };
    set_pair(ev, ["source.bytes", "destination.bytes", "network.bytes"], bytes);
    set_pair(ev, ["source.packets", "destination.packets", "network.packets"], packets);
    span(ev, start, end);
    Ok(())
}

/// `netflow`: one direction of a flow, so its counters are the source's and the totals.
///
/// # Errors
/// A counter that is not a non-negative integer, or an unparseable `start`/`end`.
pub(super) fn netflow(ev: &mut Event, value: &Value) -> Result<(), DecodeError> {
    let obj = object(value, "netflow")?;
    let (mut start, mut end) = (None, None);
    for (k, v) in obj {
        match k.as_str() {
            "bytes" => set_one(ev, ["source.bytes", "network.bytes"], count(v, "netflow.bytes")?),
            "pkts" => set_one(ev, ["source.packets", "network.packets"], count(v, "netflow.pkts")?),
            "start" => start = Some(time(v, "netflow.start")?),
            "end" => end = Some(time(v, "netflow.end")?),
            _ => vendor(ev, "netflow", k, v)?,
        }
    }
    span(ev, start, end);
    Ok(())
}

/// Sets the source and destination counts (`paths[0]`, `paths[1]`) and their sum (`paths[2]`).
fn set_pair(ev: &mut Event, paths: [&str; 3], counts: [Option<i64>; 2]) {
    for (path, n) in paths.iter().zip(counts) {
        ev.set_opt(path, n);
    }
    if let [Some(a), Some(b)] = counts {
        ev.set(paths[2], a.saturating_add(b));
    }
}

/// Sets one count on every path.
fn set_one(ev: &mut Event, paths: [&str; 2], n: i64) {
    for path in paths {
        ev.set(path, n);
    }
}

/// `event.start`, `event.end` and `event.duration` (nanoseconds).
fn span(ev: &mut Event, start: Option<DateTime<Utc>>, end: Option<DateTime<Utc>>) {
    if let Some(s) = start {
        ev.set("event.start", iso(s));
    }
    if let Some(e) = end {
        ev.set("event.end", iso(e));
    }
    if let (Some(s), Some(e)) = (start, end)
        && let Some(ns) = (e - s).num_nanoseconds().filter(|ns| *ns >= 0)
    {
        ev.set("event.duration", ns);
    }
}

//! Sessions on event time, and their summaries as events of their own.
//!
//! Each event joins the session of the first configured key it carries (`session.id`,
//! `network.community_id`, the canonical 5-tuple, or `user.name`@`host.name`), scoped by tenant,
//! and is tagged `ward.session.id = <kind>:<value>`. A session closes when
//! - an event of the same key arrives more than `timeout` after the session's last one
//!   (`timeout`), or the watermark (the latest event time seen) passes last + `timeout`
//!   (`timeout`, checked after each batch);
//! - Cowrie says so (`event.action = session.closed`, reason `closed`);
//! - more than `max_sessions` are open (the least recently active one, `evicted`);
//! - the pipeline flushes (`flush`, at shutdown or the end of a replay).
//!
//! A closed session becomes one summary event: `event.kind = session`, `event.action =
//! session-summary`, `event.dataset = ward.session`, with `event.start/end/duration`,
//! `ward.session.{key,key_kind,close_reason,event_count,actions,commands,command_count,
//! bytes,file_bytes,login.success,login.failure,first_event_id}`, and the session's
//! `source.ip`, `destination.ip/port`, `related.user`. Its id is the hash of its own canonical
//! JSON, so a replay yields the same summaries with the same ids.

use std::collections::BTreeMap;
use std::net::IpAddr;

use chrono::{DateTime, SecondsFormat, TimeDelta, Utc};
use rustc_hash::FxHashMap;
use serde::Serialize;
use ward_model::{Event, FieldValue, TenantId};

use crate::config::{SessionKeyKind, SessionizeConfig};

/// Field tagging each event with its session.
pub const SESSION_ID: &str = "ward.session.id";

#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
struct Key {
    tenant: Box<str>,
    kind: SessionKeyKind,
    value: Box<str>,
}

/// Why a session was closed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CloseReason {
    /// Inactive for longer than the timeout.
    Timeout,
    /// The sensor reported the end.
    Closed,
    /// Too many sessions were open.
    Evicted,
    /// The pipeline flushed.
    Flush,
}

/// What is accumulated for one open session.
#[derive(Debug, Serialize)]
struct Session {
    key: String,
    key_kind: &'static str,
    #[serde(skip)]
    tenant: Box<str>,
    source: String,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    event_count: u64,
    actions: BTreeMap<String, u64>,
    commands: Vec<String>,
    command_count: u64,
    bytes: i64,
    file_bytes: i64,
    login_success: u64,
    login_failure: u64,
    source_ip: Option<IpAddr>,
    destination_ip: Option<IpAddr>,
    destination_port: Option<i64>,
    users: Vec<String>,
    first_event_id: String,
    close_reason: Option<CloseReason>,
}

/// Groups events into sessions and emits summaries.
#[derive(Debug)]
pub struct Sessionizer {
    keys: Vec<SessionKeyKind>,
    timeout: TimeDelta,
    max_sessions: usize,
    max_commands: usize,
    open: FxHashMap<Key, Session>,
    watermark: Option<DateTime<Utc>>,
}

impl Sessionizer {
    /// A sessionizer for `cfg`.
    pub fn new(cfg: &SessionizeConfig) -> Self {
        let secs = i64::try_from(cfg.timeout_secs).unwrap_or(i64::MAX / 1000);
        Self {
            keys: cfg.keys.clone(),
            timeout: TimeDelta::try_seconds(secs).unwrap_or(TimeDelta::MAX),
            max_sessions: cfg.max_sessions.max(1),
            max_commands: cfg.max_commands,
            open: FxHashMap::default(),
            watermark: None,
        }
    }

    /// Sessions open now.
    pub fn open_sessions(&self) -> usize {
        self.open.len()
    }

    /// Adds one event to its session, pushing summaries of sessions it closes to `out`;
    /// returns whether the event opened a new session.
    pub fn observe(&mut self, ev: &mut Event, out: &mut Vec<Event>) -> bool {
        let ts = ev.timestamp();
        self.watermark = Some(self.watermark.map_or(ts, |w| w.max(ts)));
        let Some(key) = self.key_of(ev) else { return false };
        ev.set(SESSION_ID, format!("{}:{}", key.kind.as_str(), key.value));
        let stale = self.open.get(&key).is_some_and(|s| ts - s.end > self.timeout);
        if stale && let Some(s) = self.open.remove(&key) {
            out.push(summary(s, CloseReason::Timeout));
        }
        let opened = !self.open.contains_key(&key);
        if opened && self.open.len() >= self.max_sessions {
            self.evict(out);
        }
        let max_commands = self.max_commands;
        let session = self.open.entry(key.clone()).or_insert_with(|| Session::start(&key, ev));
        session.add(ev, max_commands);
        if key.kind == SessionKeyKind::Session
            && ev.str("event.action") == Some("session.closed")
            && let Some(s) = self.open.remove(&key)
        {
            out.push(summary(s, CloseReason::Closed));
        }
        opened
    }

    /// Closes every session inactive for longer than the timeout at the watermark.
    pub fn sweep(&mut self, out: &mut Vec<Event>) {
        let Some(mark) = self.watermark else { return };
        let timeout = self.timeout;
        let mut stale: Vec<Key> =
            self.open.iter().filter(|(_, s)| mark - s.end > timeout).map(|(k, _)| k.clone()).collect();
        stale.sort_by(|a, b| self.open[a].end.cmp(&self.open[b].end).then_with(|| a.cmp(b)));
        for key in stale {
            if let Some(s) = self.open.remove(&key) {
                out.push(summary(s, CloseReason::Timeout));
            }
        }
    }

    /// Closes every open session (shutdown, end of a replay), oldest first.
    pub fn flush(&mut self, out: &mut Vec<Event>) {
        let mut all: Vec<(Key, Session)> = self.open.drain().collect();
        all.sort_by(|(ka, a), (kb, b)| a.start.cmp(&b.start).then_with(|| ka.cmp(kb)));
        out.extend(all.into_iter().map(|(_, s)| summary(s, CloseReason::Flush)));
    }

    fn evict(&mut self, out: &mut Vec<Event>) {
        let oldest = self.open.iter().min_by(|(ka, a), (kb, b)| a.end.cmp(&b.end).then_with(|| ka.cmp(kb)));
        if let Some(key) = oldest.map(|(k, _)| k.clone())
            && let Some(s) = self.open.remove(&key)
        {
            out.push(summary(s, CloseReason::Evicted));
        }
    }

    fn key_of(&self, ev: &Event) -> Option<Key> {
        self.keys.iter().find_map(|kind| {
            let value = match kind {
                SessionKeyKind::Session => ev.str("session.id").map(str::to_owned),
                SessionKeyKind::CommunityId => ev.str("network.community_id").map(str::to_owned),
                SessionKeyKind::FiveTuple => five_tuple(ev),
                SessionKeyKind::UserHost => match (ev.str("user.name"), ev.str("host.name")) {
                    (Some(u), Some(h)) if !u.is_empty() => Some(format!("{u}@{h}")),
                    _ => None,
                },
            }?;
            Some(Key { tenant: ev.tenant().into(), kind: *kind, value: value.into() })
        })
    }
}

/// `transport|a|b` with the two endpoints in sorted order, so both directions meet.
fn five_tuple(ev: &Event) -> Option<String> {
    let transport = ev.str("network.transport")?;
    let end = |side: &str| -> Option<String> {
        let ip = ev.get(&format!("{side}.ip"))?;
        let port = ev.get(&format!("{side}.port")).and_then(FieldValue::as_i64)?;
        Some(format!("{ip}/{port}"))
    };
    let (a, b) = (end("source")?, end("destination")?);
    let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
    Some(format!("{transport}|{lo}|{hi}"))
}

impl Session {
    fn start(key: &Key, ev: &Event) -> Self {
        Self {
            key: format!("{}:{}", key.kind.as_str(), key.value),
            key_kind: key.kind.as_str(),
            tenant: key.tenant.clone(),
            source: ev.source().to_owned(),
            start: ev.timestamp(),
            end: ev.timestamp(),
            event_count: 0,
            actions: BTreeMap::new(),
            commands: Vec::new(),
            command_count: 0,
            bytes: 0,
            file_bytes: 0,
            login_success: 0,
            login_failure: 0,
            source_ip: None,
            destination_ip: None,
            destination_port: None,
            users: Vec::new(),
            first_event_id: ev.id().to_string(),
            close_reason: None,
        }
    }

    fn add(&mut self, ev: &Event, max_commands: usize) {
        let ts = ev.timestamp();
        self.start = self.start.min(ts);
        self.end = self.end.max(ts);
        self.event_count += 1;
        if let Some(action) = ev.str("event.action") {
            *self.actions.entry(action.to_owned()).or_default() += 1;
        }
        if let Some(cmd) = ev.str("process.command_line") {
            self.command_count += 1;
            if self.commands.len() < max_commands {
                self.commands.push(cmd.to_owned());
            }
        }
        let int = |p: &str| ev.get(p).and_then(FieldValue::as_i64);
        // Flow counters are cumulative: the largest total seen is the session's.
        let flow = int("network.bytes").or_else(|| Some(int("source.bytes")? + int("destination.bytes")?));
        if let Some(b) = flow {
            self.bytes = self.bytes.max(b);
        }
        if ev.get("file.hash.sha256").is_some() || ev.str("event.action").is_some_and(|a| a.contains("file_"))
        {
            self.file_bytes += int("file.size").unwrap_or(0);
        }
        if has(ev.get("event.category"), "authentication") {
            match ev.str("event.outcome") {
                Some("success") => self.login_success += 1,
                Some("failure") => self.login_failure += 1,
                _ => {}
            }
        }
        let ip = |p: &str| ev.get(p).and_then(FieldValue::as_ip);
        self.source_ip = self.source_ip.or_else(|| ip("source.ip"));
        self.destination_ip = self.destination_ip.or_else(|| ip("destination.ip"));
        self.destination_port = self.destination_port.or_else(|| int("destination.port"));
        if let Some(user) = ev.str("user.name").filter(|u| !u.is_empty())
            && !self.users.iter().any(|u| u == user)
            && self.users.len() < 64
        {
            self.users.push(user.to_owned());
        }
    }
}

fn has(value: Option<&FieldValue>, wanted: &str) -> bool {
    match value {
        Some(FieldValue::List(items)) => items.iter().any(|i| i.as_str() == Some(wanted)),
        Some(v) => v.as_str() == Some(wanted),
        None => false,
    }
}

fn summary(mut s: Session, reason: CloseReason) -> Event {
    s.close_reason = Some(reason);
    let original = serde_json::to_string(&s).unwrap_or_default();
    let tenant = TenantId::new(&s.tenant).unwrap_or_else(|_| TenantId::default_tenant());
    let mut ev = Event::new(&tenant, &s.source, &original, 0, s.end);
    let ts = |t: DateTime<Utc>| t.to_rfc3339_opts(SecondsFormat::AutoSi, true);
    ev.set("event.kind", "session");
    ev.set("event.category", vec![FieldValue::from("session")]);
    ev.set("event.type", vec![FieldValue::from("end")]);
    ev.set("event.action", "session-summary");
    ev.set("event.dataset", "ward.session");
    ev.set("event.start", ts(s.start));
    ev.set("event.end", ts(s.end));
    ev.set("event.duration", (s.end - s.start).num_nanoseconds().unwrap_or(i64::MAX));
    if s.key_kind == SessionKeyKind::Session.as_str() {
        ev.set("session.id", s.key.split_once(':').map_or(s.key.as_str(), |(_, v)| v));
    }
    ev.set(SESSION_ID, s.key.as_str());
    ev.set("ward.session.key_kind", s.key_kind);
    ev.set(
        "ward.session.close_reason",
        serde_json::to_value(reason).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default(),
    );
    ev.set("ward.session.event_count", i64::try_from(s.event_count).unwrap_or(i64::MAX));
    let actions = s.actions.iter().map(|(k, v)| (k.clone(), serde_json::Value::from(*v))).collect();
    ev.set("ward.session.actions", FieldValue::Json(Box::new(serde_json::Value::Object(actions))));
    if !s.commands.is_empty() {
        ev.set(
            "ward.session.commands",
            s.commands.iter().map(|c| FieldValue::from(c.as_str())).collect::<Vec<_>>(),
        );
    }
    ev.set("ward.session.command_count", i64::try_from(s.command_count).unwrap_or(i64::MAX));
    ev.set("ward.session.bytes", s.bytes);
    ev.set("ward.session.file_bytes", s.file_bytes);
    ev.set("ward.session.login.success", i64::try_from(s.login_success).unwrap_or(i64::MAX));
    ev.set("ward.session.login.failure", i64::try_from(s.login_failure).unwrap_or(i64::MAX));
    ev.set("ward.session.first_event_id", s.first_event_id.as_str());
    ev.set_opt("source.ip", s.source_ip);
    ev.set_opt("destination.ip", s.destination_ip);
    ev.set_opt("destination.port", s.destination_port);
    if !s.users.is_empty() {
        ev.set("related.user", s.users.iter().map(|u| FieldValue::from(u.as_str())).collect::<Vec<_>>());
    }
    ev
}

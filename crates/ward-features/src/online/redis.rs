//! The Redis adapter: one hash per entity, window and bucket, with HyperLogLogs (`PFADD`, and
//! `PFCOUNT` over a window's buckets for the union) and capped frequency hashes beside it.
//!
//! Keys: `<prefix>:<tenant>:<kind>:<value>:last` (newest event time) and
//! `<prefix>:<tenant>:<kind>:<value>:<window>:<bucket>` (+ `:h0`…`:h4` sketches, `:u` user and
//! `:p` password frequencies, by fingerprint — never the text). Each observation is one
//! `EVALSHA` of `update.lua`, which applies the same rules as the in-process adapter
//! atomically; a batch is one pipeline per 256 observations. Bucket keys expire `ttl_secs`
//! after their creation (wall-clock, so replays of old data stay readable for that long).

use std::collections::HashMap;

use async_trait::async_trait;
use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{ErrorKind, RedisError, ServerErrorKind, Value};
use ward_model::TenantId;

use super::{ApplyReport, OnlineStore};
use crate::FeatureError;
use crate::agg::{FREQ_CAP, Freq, Snapshot, Summary, Tallies};
use crate::entity::EntityKey;
use crate::inputs::{LoginOutcome, Observation, SKETCHES};
use crate::window::{BUCKETS, WINDOWS};

const SCRIPT: &str = include_str!("update.lua");

/// Observations per pipeline: bounds one round trip's server time well below the timeout.
const PIPELINE: usize = 256;

/// How long one pipeline may take before the call fails.
const RESPONSE_TIMEOUT: Duration = Duration::from_secs(10);

/// Online store on a Redis server.
#[derive(Clone)]
pub struct RedisStore {
    conn: ConnectionManager,
    prefix: String,
    ttl_secs: u64,
    sha: String,
}

fn err(op: &'static str) -> impl Fn(RedisError) -> FeatureError {
    move |e| FeatureError::Redis { op, message: e.to_string() }
}

impl RedisStore {
    /// Connects to `url` and loads the update script; keys start with `prefix`.
    ///
    /// # Errors
    /// A bad URL or an unreachable server.
    pub async fn connect(url: &str, prefix: &str, ttl_secs: u64) -> Result<Self, FeatureError> {
        let client = redis::Client::open(url).map_err(err("open"))?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(Duration::from_secs(5)))
            .set_response_timeout(Some(RESPONSE_TIMEOUT));
        let mut conn = client.get_connection_manager_with_config(config).await.map_err(err("connect"))?;
        let sha = load(&mut conn).await?;
        Ok(Self { conn, prefix: prefix.to_owned(), ttl_secs, sha })
    }

    fn base(&self, tenant: &TenantId, entity: &EntityKey) -> String {
        format!("{}:{tenant}:{}:{}", self.prefix, entity.kind, entity.value)
    }

    /// Deletes every key under the prefix (for tests and `ward features reset`); returns how many.
    ///
    /// # Errors
    /// Server errors.
    pub async fn delete_keys(&self) -> Result<u64, FeatureError> {
        let mut conn = self.conn.clone();
        let pattern = format!("{}:*", self.prefix);
        let mut cursor = 0u64;
        let mut deleted = 0u64;
        loop {
            let (next, keys): (u64, Vec<String>) = redis::cmd("SCAN")
                .arg(cursor)
                .arg("MATCH")
                .arg(&pattern)
                .arg("COUNT")
                .arg(1000)
                .query_async(&mut conn)
                .await
                .map_err(err("scan"))?;
            if !keys.is_empty() {
                deleted +=
                    redis::cmd("DEL").arg(&keys).query_async::<u64>(&mut conn).await.map_err(err("del"))?;
            }
            if next == 0 {
                return Ok(deleted);
            }
            cursor = next;
        }
    }

    fn update_pipeline(&self, tenant: &TenantId, batch: &[Observation]) -> redis::Pipeline {
        let mut pipe = redis::pipe();
        for obs in batch {
            let i = &obs.inputs;
            let cmd = pipe.cmd("EVALSHA").arg(&self.sha).arg(1).arg(self.base(tenant, &obs.entity));
            cmd.arg(obs.ts_ms)
                .arg(u8::from(i.login == Some(LoginOutcome::Failure)))
                .arg(u8::from(i.login == Some(LoginOutcome::Success)))
                .arg(i.password_char_entropy.map_or_else(String::new, |h| format!("{h:?}")))
                .arg(FREQ_CAP)
                .arg(self.ttl_secs);
            for item in i.items {
                cmd.arg(item.map_or_else(String::new, |h| format!("{h:016x}")));
            }
            for w in WINDOWS {
                cmd.arg(w.name).arg(w.width_ms());
            }
        }
        pipe
    }
}

async fn load(conn: &mut ConnectionManager) -> Result<String, FeatureError> {
    redis::cmd("SCRIPT").arg("LOAD").arg(SCRIPT).query_async(conn).await.map_err(err("script load"))
}

#[async_trait]
impl OnlineStore for RedisStore {
    fn adapter(&self) -> &'static str {
        "redis"
    }

    async fn apply(&self, tenant: &TenantId, batch: &[Observation]) -> Result<ApplyReport, FeatureError> {
        let mut conn = self.conn.clone();
        let mut report = ApplyReport::default();
        for chunk in batch.chunks(PIPELINE) {
            let pipe = self.update_pipeline(tenant, chunk);
            let late: Vec<u64> = match pipe.query_async(&mut conn).await {
                Err(e) if e.kind() == ErrorKind::Server(ServerErrorKind::NoScript) => {
                    // The server lost its scripts (restart, SCRIPT FLUSH), so every EVALSHA of
                    // the pipeline failed: load the script again and retry once.
                    load(&mut conn).await?;
                    pipe.query_async(&mut conn).await.map_err(err("evalsha"))?
                }
                other => other.map_err(err("evalsha"))?,
            };
            report.applied += chunk.len() as u64;
            report.late += late.iter().sum::<u64>();
        }
        Ok(report)
    }

    async fn snapshot(
        &self,
        tenant: &TenantId,
        entity: &EntityKey,
        at_ms: i64,
    ) -> Result<Snapshot, FeatureError> {
        let base = self.base(tenant, entity);
        let mut pipe = redis::pipe();
        pipe.cmd("GET").arg(format!("{base}:last"));
        for w in WINDOWS {
            let keys: Vec<String> = w.buckets_at(at_ms).map(|b| format!("{base}:{}:{b}", w.name)).collect();
            for k in &keys {
                pipe.cmd("HGETALL")
                    .arg(k)
                    .cmd("HGETALL")
                    .arg(format!("{k}:u"))
                    .cmd("HGETALL")
                    .arg(format!("{k}:p"));
            }
            for s in 0..SKETCHES {
                pipe.cmd("PFCOUNT").arg(keys.iter().map(|k| format!("{k}:h{s}")).collect::<Vec<_>>());
            }
        }
        let mut conn = self.conn.clone();
        let replies: Vec<Value> = pipe.query_async(&mut conn).await.map_err(err("read"))?;
        parse_snapshot(replies, at_ms).map_err(|e| FeatureError::Redis { op: "read", message: e })
    }
}

fn parse_snapshot(replies: Vec<Value>, at_ms: i64) -> Result<Snapshot, String> {
    let mut it = replies.into_iter();
    let mut next = || it.next().ok_or_else(|| "short reply".to_owned());
    let last: Option<i64> = redis::from_redis_value(next()?).map_err(|e| e.to_string())?;
    let mut windows = Vec::with_capacity(WINDOWS.len());
    for w in WINDOWS {
        let mut s = Summary::default();
        for b in w.buckets_at(at_ms) {
            let t = hash(next()?)?;
            let mut users = freq(&hash(next()?)?)?;
            users.overflow = num(&t, "uo")?;
            let mut passwords = freq(&hash(next()?)?)?;
            passwords.overflow = num(&t, "po")?;
            // Only buckets the window at the newest event reaches count, as in memory.
            if last.is_some_and(|l| b >= w.bucket(l) - (BUCKETS - 1)) {
                s.tallies.merge(&tallies(&t)?);
                s.users.merge(&users);
                s.passwords.merge(&passwords);
            }
        }
        for d in &mut s.distinct {
            *d = redis::from_redis_value::<u64>(next()?).map_err(|e| e.to_string())? as f64;
        }
        windows.push(s);
    }
    Ok(Snapshot { last_seen_ms: last, windows })
}

fn hash(v: Value) -> Result<HashMap<String, String>, String> {
    redis::from_redis_value(v).map_err(|e| e.to_string())
}

fn num<T: std::str::FromStr + Default>(h: &HashMap<String, String>, field: &str) -> Result<T, String> {
    h.get(field).map_or(Ok(T::default()), |v| v.parse().map_err(|_| format!("field {field}: {v:?}")))
}

/// The tallies of one bucket hash.
fn tallies(h: &HashMap<String, String>) -> Result<Tallies, String> {
    Ok(Tallies {
        events: num(h, "e")?,
        failures: num(h, "f")?,
        successes: num(h, "s")?,
        gap_n: num(h, "gn")?,
        gap_sum: num(h, "gs")?,
        gap_sumsq: num(h, "gq")?,
        gap_min: h.get("gm").map(|v| v.parse().map_err(|_| format!("field gm: {v:?}"))).transpose()?,
        pw_n: num(h, "pn")?,
        pw_entropy_sum: num(h, "pc")?,
    })
}

fn freq(h: &HashMap<String, String>) -> Result<Freq, String> {
    let mut f = Freq::default();
    for (k, v) in h {
        let item = u64::from_str_radix(k, 16).map_err(|_| format!("frequency key {k:?}"))?;
        f.counts.insert(item, v.parse().map_err(|_| format!("frequency count {v:?}"))?);
    }
    Ok(f)
}

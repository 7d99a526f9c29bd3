//! The append-only, hash-chained audit log.
//!
//! Each record's `hash` is SHA-256 over its length-prefixed canonical fields (seq, tenant, time,
//! actor, action, target, canonical details JSON) and the previous record's hash, so changing,
//! removing or reordering any record breaks the chain from there on. Appends are serialized
//! (SQLite: `BEGIN IMMEDIATE`; PostgreSQL: a transaction-scoped advisory lock), so `seq` has no
//! gaps. Every `every`-th record gets a checkpoint: HMAC-SHA256 under a caller-held key over
//! `seq:hash`, so even someone who rewrites the whole chain after a point cannot forge the
//! checkpoints past it. Pruning deletes a prefix of the chain and keeps the last deleted
//! record's seq and hash as a (signed) anchor that verification starts from.

use std::collections::BTreeMap;
use std::fmt;

use aws_lc_rs::hmac;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use ward_model::TenantId;

use crate::db::{self, Param, Pool, Where, WritePool as _, bind_params};
use crate::error::{Result, StoreError};
use crate::identity::tenant_of;
use crate::{Page, Store, TenantStore};

/// The `prev_hash` of the first record.
const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";
/// PostgreSQL advisory lock key serializing audit appends ("WARDAUDT").
const PG_LOCK_KEY: i64 = 0x5741_5244_4155_4454;
/// Records read per batch while verifying.
const VERIFY_BATCH: i64 = 1000;

/// The key and period of signed checkpoints.
#[derive(Clone)]
pub struct AuditSigning {
    key: hmac::Key,
    every: i64,
}

impl fmt::Debug for AuditSigning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuditSigning").field("key", &"<redacted>").field("every", &self.every).finish()
    }
}

impl AuditSigning {
    /// Signs a checkpoint every `every` records with HMAC-SHA256 under `key` (≥ 16 bytes).
    pub fn new(key: &[u8], every: u64) -> Result<Self> {
        if key.len() < 16 {
            return Err(StoreError::invalid("audit key", "must be at least 16 bytes"));
        }
        let every = i64::try_from(every)
            .ok()
            .filter(|e| *e >= 1)
            .ok_or_else(|| StoreError::invalid("checkpoint interval", "must be between 1 and 2^63"))?;
        Ok(Self { key: hmac::Key::new(hmac::HMAC_SHA256, key), every })
    }

    fn sign(&self, kind: &str, seq: i64, hash: &str) -> String {
        db::hex(hmac::sign(&self.key, checkpoint_message(kind, seq, hash).as_bytes()).as_ref())
    }
}

fn checkpoint_message(kind: &str, seq: i64, hash: &str) -> String {
    format!("ward-audit:{kind}:{seq}:{hash}")
}

/// One audit record.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AuditRecord {
    /// Position in the chain, from 1, without gaps.
    pub seq: i64,
    /// The tenant it concerns.
    pub tenant: TenantId,
    /// When.
    pub at: DateTime<Utc>,
    /// Who (user name, key name, `ward`).
    pub actor: String,
    /// What (`login`, `incident.update`, `apikey.create`, …).
    pub action: String,
    /// On what (an id or name).
    pub target: String,
    /// Details.
    pub details: serde_json::Value,
    /// Hash of the previous record.
    pub prev_hash: String,
    /// This record's hash.
    pub hash: String,
}

/// What to append (the store fills in seq, time and hashes).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NewAuditRecord {
    /// Who.
    pub actor: String,
    /// What.
    pub action: String,
    /// On what.
    pub target: String,
    /// Details.
    pub details: serde_json::Value,
}

/// Which audit records to list.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct AuditFilter {
    /// Only by this actor.
    pub actor: Option<String>,
    /// Only this action.
    pub action: Option<String>,
    /// At or after.
    pub from: Option<DateTime<Utc>>,
    /// Before.
    pub to: Option<DateTime<Utc>>,
}

/// An intact chain.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditSummary {
    /// Records checked.
    pub records: u64,
    /// First and last seq present.
    pub first_seq: Option<i64>,
    /// Last seq present.
    pub last_seq: Option<i64>,
    /// Signed checkpoints checked.
    pub checkpoints: u64,
    /// The pruning anchor the chain starts from, if pruned.
    pub anchor_seq: Option<i64>,
    /// Hash of the newest record (or the anchor / genesis).
    pub head_hash: String,
}

/// Where and why the chain is broken.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("audit chain broken at seq {seq}: {reason}")]
pub struct AuditBroken {
    /// The first broken record.
    pub seq: i64,
    /// What is wrong.
    pub reason: String,
}

#[derive(sqlx::FromRow)]
struct AuditRow {
    seq: i64,
    tenant: String,
    at: i64,
    actor: String,
    action: String,
    target: String,
    details: String,
    prev_hash: String,
    hash: String,
}

impl AuditRow {
    fn into_record(self) -> Result<AuditRecord> {
        Ok(AuditRecord {
            tenant: tenant_of(&self.tenant)?,
            details: db::from_json("audit_log.details", &self.details)?,
            seq: self.seq,
            at: db::time(self.at),
            actor: self.actor,
            action: self.action,
            target: self.target,
            prev_hash: self.prev_hash,
            hash: self.hash,
        })
    }

    fn computed_hash(&self) -> String {
        record_hash(
            self.seq,
            &self.tenant,
            self.at,
            &self.actor,
            &self.action,
            &self.target,
            &self.details,
            &self.prev_hash,
        )
    }
}

#[derive(sqlx::FromRow)]
struct CheckpointRow {
    seq: i64,
    kind: String,
    hash: String,
    signature: Option<String>,
}

const AUDIT_COLS: &str = "seq, tenant, at, actor, action, target, details, prev_hash, hash";

/// SHA-256 over the length-prefixed fields of a record.
#[allow(clippy::too_many_arguments)]
fn record_hash(
    seq: i64,
    tenant: &str,
    at: i64,
    actor: &str,
    action: &str,
    target: &str,
    details: &str,
    prev: &str,
) -> String {
    let mut buf = Vec::with_capacity(128 + details.len());
    for field in [&seq.to_string(), tenant, &at.to_string(), actor, action, target, details, prev] {
        buf.extend_from_slice(&(field.len() as u64).to_be_bytes());
        buf.extend_from_slice(field.as_bytes());
    }
    db::sha256_hex(&buf)
}

/// JSON with object keys sorted at every level, so the hashed text does not depend on how a
/// map happened to be ordered.
pub(crate) fn canonical_json(v: &serde_json::Value) -> String {
    fn write(v: &serde_json::Value, out: &mut String) {
        match v {
            serde_json::Value::Object(m) => {
                let sorted: BTreeMap<&String, &serde_json::Value> = m.iter().collect();
                out.push('{');
                for (i, (k, v)) in sorted.into_iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    out.push_str(&serde_json::Value::String(k.clone()).to_string());
                    out.push(':');
                    write(v, out);
                }
                out.push('}');
            }
            serde_json::Value::Array(a) => {
                out.push('[');
                for (i, v) in a.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    write(v, out);
                }
                out.push(']');
            }
            other => out.push_str(&other.to_string()),
        }
    }
    let mut out = String::new();
    write(v, &mut out);
    out
}

/// The body of an append, run inside a transaction that holds the audit lock.
macro_rules! append_locked {
    ($tx:expr, $tenant:expr, $new:expr, $details:expr, $at:expr, $signing:expr) => {{
        let head: Option<(i64, String)> = sqlx::query_as("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1")
            .fetch_optional(&mut *$tx)
            .await?;
        let head = match head {
            Some(h) => Some(h),
            None => sqlx::query_as(
                "SELECT seq, hash FROM audit_checkpoints WHERE kind = 'anchor' ORDER BY seq DESC LIMIT 1",
            )
            .fetch_optional(&mut *$tx)
            .await?,
        };
        let (last_seq, prev) = head.unwrap_or((0, GENESIS.to_owned()));
        let seq = last_seq + 1;
        let hash = record_hash(seq, $tenant, $at, &$new.actor, &$new.action, &$new.target, &$details, &prev);
        sqlx::query(
            "INSERT INTO audit_log (seq, tenant, at, actor, action, target, details, prev_hash, hash) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(seq)
        .bind($tenant)
        .bind($at)
        .bind(&$new.actor)
        .bind(&$new.action)
        .bind(&$new.target)
        .bind(&$details)
        .bind(&prev)
        .bind(&hash)
        .execute(&mut *$tx)
        .await?;
        if let Some(s) = $signing.filter(|s| seq % s.every == 0) {
            sqlx::query("INSERT INTO audit_checkpoints (seq, kind, hash, signature, at) VALUES ($1, 'checkpoint', $2, $3, $4)")
                .bind(seq)
                .bind(&hash)
                .bind(s.sign("checkpoint", seq, &hash))
                .bind($at)
                .execute(&mut *$tx)
                .await?;
        }
        $tx.commit().await?;
        (seq, prev, hash)
    }};
}

fn check_field(field: &str, v: &str, max: usize) -> Result<()> {
    if v.is_empty() || v.len() > max {
        return Err(StoreError::invalid(field, format!("must be 1-{max} bytes")));
    }
    Ok(())
}

impl TenantStore {
    /// Appends a record to the audit chain and returns it.
    pub async fn append_audit(&self, new: &NewAuditRecord) -> Result<AuditRecord> {
        check_field("audit actor", &new.actor, 256)?;
        check_field("audit action", &new.action, 128)?;
        check_field("audit target", &new.target, 1024)?;
        let details = canonical_json(&new.details);
        if details.len() > 64 * 1024 {
            return Err(StoreError::invalid("audit details", "longer than 64 KiB"));
        }
        let at = db::micros(db::now());
        let signing = self.store.signing.as_deref();
        let (seq, prev_hash, hash) = match self.pool() {
            Pool::Sqlite(p) => {
                let mut tx = p.begin_write().await?;
                append_locked!(tx, self.t(), new, details, at, signing)
            }
            Pool::Postgres(p) => {
                let mut tx = p.begin().await?;
                sqlx::query("SELECT pg_advisory_xact_lock($1)").bind(PG_LOCK_KEY).execute(&mut *tx).await?;
                append_locked!(tx, self.t(), new, details, at, signing)
            }
        };
        Ok(AuditRecord {
            seq,
            tenant: self.tenant_id().clone(),
            at: db::time(at),
            actor: new.actor.clone(),
            action: new.action.clone(),
            target: new.target.clone(),
            details: new.details.clone(),
            prev_hash,
            hash,
        })
    }

    /// This tenant's audit records matching `filter`, newest first.
    pub async fn list_audit(
        &self,
        filter: &AuditFilter,
        cursor: Option<&str>,
        limit: u32,
    ) -> Result<Page<AuditRecord>> {
        let mut w = Where::tenant("tenant", self.t());
        if let Some(a) = &filter.actor {
            w.push("actor = {}", Param::Text(a.clone()));
        }
        if let Some(a) = &filter.action {
            w.push("action = {}", Param::Text(a.clone()));
        }
        if let Some(t) = filter.from {
            w.push("at >= {}", Param::I64(db::micros(t)));
        }
        if let Some(t) = filter.to {
            w.push("at < {}", Param::I64(db::micros(t)));
        }
        if let Some(c) = cursor {
            let seq: i64 = db::decode_cursor(c)?;
            w.push("seq < {}", Param::I64(seq));
        }
        let limit = db::clamp_limit(limit);
        let lim = w.next(Param::I64(limit + 1));
        let sql = format!("SELECT {AUDIT_COLS} FROM audit_log {} ORDER BY seq DESC LIMIT {lim}", w.sql());
        let rows: Vec<AuditRow> = db::on_pool!(self.pool(), p => {
            bind_params!(sqlx::query_as(sqlx::AssertSqlSafe(sql)), w.params).fetch_all(p).await?
        });
        let mut items = rows.into_iter().map(AuditRow::into_record).collect::<Result<Vec<_>>>()?;
        let next_cursor = if items.len() as i64 > limit {
            items.truncate(limit as usize);
            items.last().map(|r| db::encode_cursor(&r.seq)).transpose()?
        } else {
            None
        };
        Ok(Page { items, next_cursor })
    }
}

/// Verification state carried across batches.
struct Walk {
    expect_seq: i64,
    prev: String,
    records: u64,
    first: Option<i64>,
    checked_checkpoints: u64,
}

impl Walk {
    fn step(
        &mut self,
        row: &AuditRow,
        checkpoints: &BTreeMap<i64, CheckpointRow>,
        key: Option<&hmac::Key>,
    ) -> Result<(), AuditBroken> {
        let broken = |seq: i64, reason: String| Err(AuditBroken { seq, reason });
        if row.seq != self.expect_seq {
            return broken(
                self.expect_seq,
                format!("record missing (next present record is seq {})", row.seq),
            );
        }
        if row.prev_hash != self.prev {
            return broken(row.seq, format!("prev_hash does not match the hash of record {}", row.seq - 1));
        }
        if row.computed_hash() != row.hash {
            return broken(row.seq, "content does not match its hash (record altered)".to_owned());
        }
        if let Some(cp) = checkpoints.get(&row.seq) {
            if cp.hash != row.hash {
                return broken(row.seq, "hash differs from the signed checkpoint".to_owned());
            }
            if let Some(k) = key {
                check_signature(k, cp).map_err(|reason| AuditBroken { seq: row.seq, reason })?;
                self.checked_checkpoints += 1;
            }
        }
        self.first.get_or_insert(row.seq);
        self.records += 1;
        self.expect_seq += 1;
        self.prev = row.hash.clone();
        Ok(())
    }
}

fn check_signature(key: &hmac::Key, cp: &CheckpointRow) -> Result<(), String> {
    let Some(sig) = &cp.signature else { return Err(format!("{} at seq {} is not signed", cp.kind, cp.seq)) };
    let bytes = unhex(sig).ok_or_else(|| format!("{} signature at seq {} is not hex", cp.kind, cp.seq))?;
    hmac::verify(key, checkpoint_message(&cp.kind, cp.seq, &cp.hash).as_bytes(), &bytes)
        .map_err(|_| format!("{} signature at seq {} is invalid", cp.kind, cp.seq))
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok()).collect()
}

impl Store {
    /// Recomputes the whole audit chain (and, given the key, every checkpoint signature).
    /// The outer error is a database failure; the inner one names the first broken record.
    pub async fn verify_audit(&self, key: Option<&[u8]>) -> Result<Result<AuditSummary, AuditBroken>> {
        let key = key.map(|k| hmac::Key::new(hmac::HMAC_SHA256, k));
        let cps: Vec<CheckpointRow> = db::on_pool!(self.pool(), p => {
            sqlx::query_as("SELECT seq, kind, hash, signature FROM audit_checkpoints ORDER BY seq").fetch_all(p).await?
        });
        let anchor = cps.iter().filter(|c| c.kind == "anchor").max_by_key(|c| c.seq);
        if let (Some(a), Some(k)) = (anchor, &key)
            && a.signature.is_some()
            && let Err(reason) = check_signature(k, a)
        {
            return Ok(Err(AuditBroken { seq: a.seq, reason }));
        }
        let anchor_seq = anchor.map(|a| a.seq);
        let mut walk = Walk {
            expect_seq: anchor.map_or(1, |a| a.seq + 1),
            prev: anchor.map_or_else(|| GENESIS.to_owned(), |a| a.hash.clone()),
            records: 0,
            first: None,
            checked_checkpoints: 0,
        };
        let checkpoints: BTreeMap<i64, CheckpointRow> =
            cps.into_iter().filter(|c| c.kind == "checkpoint").map(|c| (c.seq, c)).collect();
        loop {
            let rows: Vec<AuditRow> = db::on_pool!(self.pool(), p => {
                sqlx::query_as(sqlx::AssertSqlSafe(format!(
                    "SELECT {AUDIT_COLS} FROM audit_log WHERE seq >= $1 ORDER BY seq LIMIT $2")))
                    .bind(walk.expect_seq).bind(VERIFY_BATCH).fetch_all(p).await?
            });
            if rows.is_empty() {
                break;
            }
            for row in &rows {
                if let Err(b) = walk.step(row, &checkpoints, key.as_ref()) {
                    return Ok(Err(b));
                }
            }
        }
        if let Some((&seq, _)) = checkpoints.range(walk.expect_seq..).next() {
            return Ok(Err(AuditBroken {
                seq,
                reason: format!("record missing: a checkpoint exists for seq {seq}"),
            }));
        }
        let stray_before: i64 = db::on_pool!(self.pool(), p => {
            sqlx::query_scalar("SELECT COUNT(*) FROM audit_log WHERE seq <= $1").bind(anchor_seq.unwrap_or(0)).fetch_one(p).await?
        });
        if stray_before > 0 {
            let seq = anchor_seq.unwrap_or(0);
            return Ok(Err(AuditBroken {
                seq,
                reason: "records at or before the pruning anchor".to_owned(),
            }));
        }
        Ok(Ok(AuditSummary {
            records: walk.records,
            first_seq: walk.first,
            last_seq: walk.first.map(|_| walk.expect_seq - 1),
            checkpoints: walk.checked_checkpoints,
            anchor_seq,
            head_hash: walk.prev,
        }))
    }

    /// Deletes the audit records older than `older_than` (a prefix of the chain) and keeps the
    /// last deleted record's seq and hash as the anchor verification starts from (signed when
    /// this store signs checkpoints). Returns how many records were deleted.
    pub async fn prune_audit(&self, older_than: DateTime<Utc>) -> Result<u64> {
        let cutoff = db::micros(older_than);
        let signing = self.signing.as_deref();
        let now = db::micros(db::now());
        macro_rules! prune_locked {
            ($tx:expr) => {{
                let last: Option<(i64, String)> = sqlx::query_as(
                    "SELECT seq, hash FROM audit_log WHERE seq = (SELECT MAX(seq) FROM audit_log WHERE at < $1)",
                )
                .bind(cutoff)
                .fetch_optional(&mut *$tx)
                .await?;
                let Some((seq, hash)) = last else { return Ok(0) };
                let n = sqlx::query("DELETE FROM audit_log WHERE seq <= $1").bind(seq).execute(&mut *$tx).await?.rows_affected();
                sqlx::query("DELETE FROM audit_checkpoints WHERE seq <= $1").bind(seq).execute(&mut *$tx).await?;
                sqlx::query("INSERT INTO audit_checkpoints (seq, kind, hash, signature, at) VALUES ($1, 'anchor', $2, $3, $4)")
                    .bind(seq)
                    .bind(&hash)
                    .bind(signing.map(|s| s.sign("anchor", seq, &hash)))
                    .bind(now)
                    .execute(&mut *$tx)
                    .await?;
                $tx.commit().await?;
                n
            }};
        }
        Ok(match self.pool() {
            Pool::Sqlite(p) => {
                let mut tx = p.begin_write().await?;
                prune_locked!(tx)
            }
            Pool::Postgres(p) => {
                let mut tx = p.begin().await?;
                sqlx::query("SELECT pg_advisory_xact_lock($1)").bind(PG_LOCK_KEY).execute(&mut *tx).await?;
                prune_locked!(tx)
            }
        })
    }
}

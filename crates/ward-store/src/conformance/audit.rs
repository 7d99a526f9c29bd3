//! Checks of the hash-chained audit log: verification, tamper detection through raw SQL, signed
//! checkpoints and pruning.

use chrono::Duration;

use super::tenant;
use crate::{AuditFilter, AuditSigning, NewAuditRecord, RawPool, Store};

const KEY: &[u8] = b"conformance-audit-key-0123456789";

fn record(i: usize) -> NewAuditRecord {
    NewAuditRecord {
        actor: format!("user{}", i % 2),
        action: "incident.update".to_owned(),
        target: format!("inc{i}"),
        details: serde_json::json!({"to": "resolved", "n": i, "nested": {"b": 1, "a": [1, 2]}}),
    }
}

/// Runs one raw statement with an integer and a text parameter on whichever backend.
async fn raw(store: &Store, sql: &'static str, text: &str, seq: i64) {
    let n = match store.raw_pool() {
        RawPool::Sqlite(p) => {
            sqlx::query(sql).bind(text).bind(seq).execute(p).await.expect("raw sql").rows_affected()
        }
        RawPool::Postgres(p) => {
            sqlx::query(sql).bind(text).bind(seq).execute(p).await.expect("raw sql").rows_affected()
        }
    };
    assert_eq!(n, 1, "{sql} touched one row");
}

/// Reads one text column of one audit row on whichever backend.
async fn raw_details(store: &Store, seq: i64) -> String {
    let sql = "SELECT details FROM audit_log WHERE seq = $1";
    match store.raw_pool() {
        RawPool::Sqlite(p) => sqlx::query_scalar(sql).bind(seq).fetch_one(p).await.expect("raw read"),
        RawPool::Postgres(p) => sqlx::query_scalar(sql).bind(seq).fetch_one(p).await.expect("raw read"),
    }
}

/// A chain verifies; changing one row by raw SQL makes verification name that row; a wrong key
/// fails at the first checkpoint; deleting a row names the gap.
pub async fn audit_chain_verifies_and_detects_tampering(store: &Store) {
    let store = store.clone().with_audit_signing(AuditSigning::new(KEY, 4).expect("signing"));
    let (a, b) = (store.tenant(&tenant("audit-a")), store.tenant(&tenant("audit-b")));
    let empty = store.verify_audit(Some(KEY)).await.expect("verify").expect("an empty chain is intact");
    assert_eq!(empty.records, 0);
    for i in 0..10 {
        let ts = if i % 3 == 0 { &b } else { &a };
        let rec = ts.append_audit(&record(i)).await.expect("append");
        assert_eq!(rec.seq, i as i64 + 1, "gap-free sequence");
    }
    let ok = store.verify_audit(Some(KEY)).await.expect("verify").expect("intact");
    assert_eq!((ok.records, ok.checkpoints, ok.first_seq, ok.last_seq), (10, 2, Some(1), Some(10)));
    let page = a.list_audit(&AuditFilter::default(), None, 4).await.expect("list");
    assert!(page.items.iter().all(|r| r.tenant.as_str() == "audit-a"), "a tenant sees only its records");
    let rest = a.list_audit(&AuditFilter::default(), page.next_cursor.as_deref(), 100).await.expect("list");
    assert_eq!(page.items.len() + rest.items.len(), 6);
    let by_actor =
        a.list_audit(&AuditFilter { actor: Some("user1".to_owned()), ..Default::default() }, None, 100).await;
    assert!(by_actor.expect("filter").items.iter().all(|r| r.actor == "user1"));

    let wrong = store.verify_audit(Some(b"another-key-another-key-another")).await.expect("verify");
    assert_eq!(wrong.expect_err("wrong key must fail").seq, 4, "first signed checkpoint");
    assert!(
        store.verify_audit(None).await.expect("verify").is_ok(),
        "without a key only the chain is checked"
    );

    let original = raw_details(&store, 6).await;
    raw(&store, "UPDATE audit_log SET details = $1 WHERE seq = $2", r#"{"to":"false_positive"}"#, 6).await;
    let broken = store.verify_audit(Some(KEY)).await.expect("verify").expect_err("tampered chain must fail");
    assert_eq!(broken.seq, 6, "names the altered record: {broken}");
    raw(&store, "UPDATE audit_log SET details = $1 WHERE seq = $2", &original, 6).await;
    assert!(store.verify_audit(Some(KEY)).await.expect("verify").is_ok(), "restored");

    raw(&store, "UPDATE audit_log SET actor = $1 WHERE seq = $2", "mallory", 2).await;
    assert_eq!(store.verify_audit(None).await.expect("verify").expect_err("altered actor").seq, 2);
    raw(&store, "UPDATE audit_log SET actor = $1 WHERE seq = $2", "user1", 2).await;

    raw(&store, "DELETE FROM audit_log WHERE target = $1 AND seq = $2", "inc2", 3).await;
    let gap = store.verify_audit(Some(KEY)).await.expect("verify").expect_err("deleted row must fail");
    assert_eq!(gap.seq, 3, "names the missing record: {gap}");
}

/// Pruning a prefix keeps the rest verifiable from a signed anchor, and appends continue.
pub async fn audit_prune_keeps_chain_verifiable(store: &Store) {
    let store = store.clone().with_audit_signing(AuditSigning::new(KEY, 2).expect("signing"));
    let ts = store.tenant(&tenant("prune"));
    let mut recs = Vec::new();
    for i in 0..6 {
        recs.push(ts.append_audit(&record(i)).await.expect("append"));
    }
    let cutoff = recs[2].at + Duration::microseconds(1);
    let pruned = store.prune_audit(cutoff).await.expect("prune");
    assert!(pruned >= 3, "at least the first three are older than the cutoff ({pruned})");
    let ok = store.verify_audit(Some(KEY)).await.expect("verify").expect("intact after pruning");
    assert_eq!(ok.anchor_seq, Some(pruned as i64));
    assert_eq!(ok.records, 6 - pruned);
    let next = ts.append_audit(&record(6)).await.expect("append after prune");
    assert_eq!(next.seq, 7);
    assert!(store.verify_audit(Some(KEY)).await.expect("verify").is_ok());
    assert_eq!(store.prune_audit(recs[0].at - Duration::seconds(1)).await.expect("nothing older"), 0);

    let bogus = "f".repeat(64);
    let sql = "UPDATE audit_checkpoints SET hash = $1 WHERE kind = 'anchor' AND seq = $2";
    match store.raw_pool() {
        RawPool::Sqlite(p) => {
            sqlx::query(sql).bind(&bogus).bind(pruned as i64).execute(p).await.expect("tamper");
        }
        RawPool::Postgres(p) => {
            sqlx::query(sql).bind(&bogus).bind(pruned as i64).execute(p).await.expect("tamper");
        }
    }
    let broken = store.verify_audit(Some(KEY)).await.expect("verify").expect_err("forged anchor must fail");
    assert_eq!(broken.seq, pruned as i64, "names the anchor: {broken}");
}

/// Appends from concurrent writers (several pooled connections) form one gap-free chain.
pub async fn audit_appends_serialize_under_concurrency(store: &Store) {
    let mut tasks = Vec::new();
    for w in 0..4 {
        let ts = store.tenant(&tenant(&format!("writer-{w}")));
        tasks.push(tokio::spawn(async move {
            for i in 0..10 {
                let rec = NewAuditRecord {
                    actor: format!("writer{w}"),
                    action: "test".to_owned(),
                    target: format!("{i}"),
                    details: serde_json::json!({"i": i}),
                };
                ts.append_audit(&rec).await.expect("append");
            }
        }));
    }
    for t in tasks {
        t.await.expect("writer task");
    }
    let summary = store.verify_audit(None).await.expect("verify").expect("intact under concurrency");
    assert_eq!((summary.records, summary.first_seq, summary.last_seq), (40, Some(1), Some(40)));
}

//! The pipeline writing to the real SQL store (SQLite in memory), feature `store`.

use std::collections::BTreeMap;
use std::sync::Arc;

use ward_log::Topic;
use ward_model::{TenantId, Verdict};
use ward_pipeline::IncidentSink;
use ward_store::Store;

use super::support::{cowrie, open_log, pipeline};

async fn snapshot(store: &Store) -> BTreeMap<String, (String, u64, usize)> {
    let t = store.tenant(&TenantId::default());
    let page = t.list_incidents(&Default::default(), Default::default(), None, 1000).await.unwrap();
    let mut out = BTreeMap::new();
    for i in page.items {
        let linked = t.incident_alerts(&i.id).await.unwrap().len();
        out.insert(i.id.clone(), (i.group_key.clone(), i.alert_count, linked));
    }
    out
}

#[tokio::test]
async fn cowrie_incidents_land_in_sqlite_and_replay_changes_nothing() {
    let store = Arc::new(Store::open("sqlite::memory:").await.unwrap());
    cowrie_into(store).await;
}

#[tokio::test]
async fn cowrie_incidents_land_in_postgres_and_replay_changes_nothing() {
    let schema = format!("ward_pipeline_{}", std::process::id());
    let url = "postgres://postgres@127.0.0.1:5432/test";
    let store = Arc::new(Store::open_postgres_in_schema(url, &schema).await.unwrap());
    cowrie_into(Arc::clone(&store)).await;
    store.drop_schema().await.unwrap();
}

async fn cowrie_into(store: Arc<Store>) {
    let dir = tempfile::tempdir().unwrap();
    let log = open_log(dir.path()).await;
    log.append(Topic::RawEvents, cowrie()).await.unwrap();
    let sink: Arc<dyn IncidentSink> = store.clone();
    let p = pipeline(Arc::clone(&log), Arc::clone(&sink), Arc::default());
    p.drain().await.unwrap();
    let first = snapshot(&store).await;
    let attacker = first.iter().find(|(_, v)| v.0 == "source.ip=127.0.0.1").expect("incident");
    assert!(attacker.1.1 > 5);
    assert_eq!(attacker.1.1 as usize, attacker.1.2, "alert_count counts linked alerts");
    let inc = store.tenant(&TenantId::default()).incident(attacker.0).await.unwrap();
    assert!(matches!(inc.verdict, Some(Verdict::TruePositive | Verdict::LikelyTruePositive)), "{inc:?}");
    assert!(inc.recommended_actions.iter().any(|a| a == "rotate_ssh_key"));

    p.replay(0).await.unwrap();
    assert_eq!(snapshot(&store).await, first, "replay into the same store duplicates nothing");
}

//! Checks of playbooks, policies, configuration, assets and dead letters.

use super::{assert_not_found, tenant};
use crate::{ConfigTable, Criticality, DeadLetterFilter, NewAsset, Store, StoreError};

/// Playbook CRUD and versioned policies.
pub async fn playbooks_and_policies(store: &Store) {
    let ts = store.tenant(&tenant("books"));
    let pb = ts.create_playbook("contain", "steps: [block_ip]", true).await.expect("create");
    assert!(matches!(ts.create_playbook("contain", "x", true).await, Err(StoreError::Conflict { .. })));
    let pb2 = ts.update_playbook(&pb.id, "steps: [block_ip, notify]", false).await.expect("update");
    assert_eq!((pb2.version, pb2.enabled), (2, false));
    assert_eq!(ts.list_playbooks().await.expect("list").len(), 1);

    let v1 = ts.put_policy("response", "allow if true", "admin").await.expect("v1");
    let v2 = ts.put_policy("response", "deny if true", "admin").await.expect("v2");
    assert_eq!((v1.version, v2.version), (1, 2));
    assert_eq!(ts.policy("response", None).await.expect("latest").body, "deny if true");
    assert_eq!(ts.policy("response", Some(1)).await.expect("v1").body, "allow if true");
    assert_eq!(ts.policy_history("response").await.expect("history").len(), 2);
    assert_eq!(ts.list_policies().await.expect("latest of each").len(), 1);
    assert_not_found(ts.policy("nope", None).await, "policy");

    ts.delete_playbook(&pb.id).await.expect("delete");
    assert_not_found(ts.playbook(&pb.id).await, "deleted playbook");
}

/// Key → JSON tables, assets and dead letters round-trip, list and count.
pub async fn config_assets_and_deadletter(store: &Store) {
    let ts = store.tenant(&tenant("conf"));
    for table in [ConfigTable::Connectors, ConfigTable::Notifications, ConfigTable::Settings] {
        ts.put_config(table, "b", &serde_json::json!({"v": 1})).await.expect("put");
        ts.put_config(table, "a", &serde_json::json!([1, 2])).await.expect("put");
        ts.put_config(table, "b", &serde_json::json!({"v": 2})).await.expect("overwrite");
        let all = ts.list_config(table).await.expect("list");
        assert_eq!(all.iter().map(|e| e.key.as_str()).collect::<Vec<_>>(), ["a", "b"]);
        assert_eq!(
            ts.config(table, "b").await.expect("get").map(|e| e.value),
            Some(serde_json::json!({"v": 2}))
        );
        ts.delete_config(table, "a").await.expect("delete");
        assert!(ts.config(table, "a").await.expect("get").is_none());
        assert_not_found(ts.delete_config(table, "a").await, "deleted key");
    }
    assert_eq!(ts.list_config(ConfigTable::Settings).await.expect("tables are separate").len(), 1);

    let asset = NewAsset {
        name: "db01".to_owned(),
        ip_or_cidr: Some("10.0.0.5".to_owned()),
        owner: Some("dba".to_owned()),
        criticality: Criticality::Critical,
        tags: vec!["pci".to_owned()],
    };
    assert_eq!(ts.put_asset(&asset).await.expect("asset").criticality, Criticality::Critical);
    ts.put_asset(&NewAsset { criticality: Criticality::High, ..asset.clone() }).await.expect("replace");
    assert_eq!(ts.asset("db01").await.expect("get").criticality, Criticality::High);
    assert_eq!(ts.list_assets().await.expect("list").len(), 1);
    ts.delete_asset("db01").await.expect("delete");
    assert_not_found(ts.asset("db01").await, "deleted asset");

    for i in 0..5 {
        let src = if i % 2 == 0 { "decode:cowrie" } else { "respond" };
        ts.add_deadletter(src, "unparseable", &format!("raw_events:0:{i}"), b"{broken")
            .await
            .expect("dead letter");
    }
    let big = vec![b'x'; (1 << 20) + 10];
    let d = ts.add_deadletter("decode:cowrie", "too big", "raw_events:0:9", &big).await.expect("big");
    assert!(d.truncated && d.payload.len() == 1 << 20, "cut at 1 MiB and flagged");
    let cowrie = DeadLetterFilter { source: Some("decode:cowrie".to_owned()), ..Default::default() };
    assert_eq!(ts.count_deadletter(&cowrie).await.expect("count"), 4);
    assert_eq!(ts.count_deadletter(&DeadLetterFilter::default()).await.expect("count"), 6);
    let p1 = ts.list_deadletter(&DeadLetterFilter::default(), None, 4).await.expect("page");
    let p2 =
        ts.list_deadletter(&DeadLetterFilter::default(), p1.next_cursor.as_deref(), 4).await.expect("page");
    assert_eq!((p1.items.len(), p2.items.len(), p2.next_cursor), (4, 2, None));
    assert_eq!(p1.items[0].id, d.id, "newest first");
}

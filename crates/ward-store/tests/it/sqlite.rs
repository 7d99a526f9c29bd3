//! The conformance suite and SQLite-specific behaviour, each test on a fresh database file.

use tempfile::TempDir;
use ward_model::TenantId;
use ward_store::conformance::Harness;
use ward_store::{Backend, Store, StoreError};

/// A store in its own temporary data directory.
struct SqliteHarness {
    store: Store,
    _dir: TempDir,
}

impl Harness for SqliteHarness {
    async fn open() -> Option<Self> {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::for_data_dir(dir.path()).await.expect("open sqlite store");
        Some(Self { store, _dir: dir })
    }

    fn store(&self) -> &Store {
        &self.store
    }

    async fn cleanup(self) {
        self.store.close().await;
    }
}

ward_store::conformance_suite!(SqliteHarness);

#[tokio::test]
async fn data_dir_store_persists_across_reopen() {
    let dir = tempfile::tempdir().expect("tempdir");
    let t = TenantId::new("persist").expect("tenant");
    {
        let store = Store::for_data_dir(dir.path()).await.expect("open");
        assert_eq!(store.backend(), Backend::Sqlite);
        store.ensure_tenant(&t).await.expect("tenant");
        store
            .tenant(&t)
            .put_asset(&ward_store::NewAsset {
                name: "h".into(),
                ip_or_cidr: None,
                owner: None,
                criticality: ward_store::Criticality::Low,
                tags: vec![],
            })
            .await
            .expect("asset");
        store.close().await;
    }
    assert!(dir.path().join("state/ward.db").is_file(), "database at <data-dir>/state/ward.db");
    let store = Store::for_data_dir(dir.path()).await.expect("reopen (migrations already applied)");
    assert_eq!(store.list_tenants().await.expect("tenants").len(), 1);
    assert_eq!(store.tenant(&t).list_assets().await.expect("assets").len(), 1);
    let again = store.ensure_tenant(&t).await.expect("idempotent");
    assert_eq!(again.id, t);
}

#[tokio::test]
async fn urls_open_the_right_backend_or_fail_clearly() {
    let mem = Store::open("sqlite::memory:").await.expect("memory store");
    mem.ensure_tenant(&TenantId::default()).await.expect("write to memory store");
    assert_eq!(mem.list_tenants().await.expect("read back on the same connection").len(), 1);
    let dir = tempfile::tempdir().expect("tempdir");
    let url = format!("sqlite://{}", dir.path().join("nested/x.db").display());
    Store::open(&url).await.expect("file url creates parent directories");
    match Store::open("mysql://root:hunter2@localhost/db").await {
        Err(StoreError::Invalid { reason, .. }) => {
            assert!(!reason.contains("hunter2"), "password redacted: {reason}")
        }
        other => panic!("unsupported scheme must be Invalid, got {other:?}"),
    }
    assert!(matches!(mem.drop_schema().await, Err(StoreError::Invalid { .. })), "no schema to drop");
}

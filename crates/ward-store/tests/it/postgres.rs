//! The conformance suite and PostgreSQL-specific behaviour against the server at
//! `WARD_TEST_POSTGRES_URL` (default `postgres://postgres@127.0.0.1:5432/test`), each test in
//! its own schema, dropped afterwards.
//!
//! When no server answers the tests print "skipping: …" and pass, except under `CI=true`
//! where they fail: CI must start PostgreSQL.

use ward_model::TenantId;
use ward_store::conformance::Harness;
use ward_store::{Backend, Store, StoreError};

use ward_testkit::pg::url;

fn unique_schema() -> String {
    ward_testkit::pg::unique_schema("ward_t")
}

/// Opens a store in a fresh schema; `None` (skip) when unreachable, panics under `CI=true`.
async fn open_fresh() -> Option<Store> {
    match Store::open_postgres_in_schema(&url(), &unique_schema()).await {
        Ok(s) => Some(s),
        Err(StoreError::Backend(e)) if std::env::var("CI").as_deref() != Ok("true") => {
            eprintln!("skipping: PostgreSQL at {} unreachable: {e}", url());
            None
        }
        Err(e) => panic!("PostgreSQL at {} must be reachable (CI=true): {e}", url()),
    }
}

/// A store in its own schema.
struct PostgresHarness {
    store: Store,
}

impl Harness for PostgresHarness {
    async fn open() -> Option<Self> {
        open_fresh().await.map(|store| Self { store })
    }

    fn store(&self) -> &Store {
        &self.store
    }

    async fn cleanup(self) {
        self.store.drop_schema().await.expect("drop test schema");
    }
}

ward_store::conformance_suite!(PostgresHarness);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schemas_isolate_stores_and_are_dropped() {
    let Some(one) = open_fresh().await else { return };
    let Some(two) = open_fresh().await else { return };
    assert_eq!(one.backend(), Backend::Postgres);
    one.ensure_tenant(&TenantId::new("only-in-one").expect("tenant")).await.expect("tenant");
    assert_eq!(one.list_tenants().await.expect("list").len(), 1);
    assert!(two.list_tenants().await.expect("list").is_empty(), "another schema sees nothing");
    one.drop_schema().await.expect("drop");
    two.drop_schema().await.expect("drop");
    assert!(matches!(
        Store::open_postgres_in_schema(&url(), "Bad;Name").await,
        Err(StoreError::Invalid { .. })
    ));
}

//! Every `ResponseRepo` adapter, openable (and re-openable, to simulate a process restart) by
//! the conformance suite and the durability tests: in memory, SQLite in a temporary directory,
//! PostgreSQL in a schema of its own (skipped outside CI when the server is down; CI fails).

use std::sync::Arc;

use ward_respond::{MemoryRepo, ResponseRepo, StoreRepo};
use ward_store::{Store, StoreError};

/// Which adapter.
#[derive(Clone, Copy, Debug)]
pub enum Kind {
    Memory,
    Sqlite,
    Postgres,
}

/// Where one test's response state lives; `reopen` gives a fresh adapter over the same data.
pub struct Backing {
    kind: Kind,
    memory: Arc<MemoryRepo>,
    dir: Option<tempfile::TempDir>,
    schema: Option<String>,
    stores: Vec<Store>,
}

impl Backing {
    /// A fresh, empty backing store, or `None` when PostgreSQL is unreachable outside CI.
    pub async fn new(kind: Kind) -> Option<Self> {
        let mut b =
            Self { kind, memory: Arc::new(MemoryRepo::new()), dir: None, schema: None, stores: vec![] };
        match kind {
            Kind::Memory => {}
            Kind::Sqlite => b.dir = Some(tempfile::tempdir().unwrap()),
            Kind::Postgres => {
                let schema = ward_testkit::pg::unique_schema("ward_respond_t");
                match Store::open_postgres_in_schema(&ward_testkit::pg::url(), &schema).await {
                    Ok(store) => b.stores.push(store),
                    Err(StoreError::Backend(e)) if std::env::var("CI").as_deref() != Ok("true") => {
                        eprintln!("skipping: PostgreSQL unreachable: {e}");
                        return None;
                    }
                    Err(e) => panic!("PostgreSQL must be reachable (CI=true): {e}"),
                }
                b.schema = Some(schema);
            }
        }
        Some(b)
    }

    /// A new adapter over this backing's data: for SQL backends the pools opened before are
    /// closed (a crashed process's connections die with it) and a new one is opened, as a
    /// restarted process does; memory keeps its tables.
    pub async fn open(&mut self) -> Arc<dyn ResponseRepo> {
        let keep = usize::from(self.schema.is_some()); // the pool that drops the schema at the end
        for s in self.stores.iter().skip(keep) {
            s.close().await;
        }
        self.stores.truncate(keep);
        match self.kind {
            Kind::Memory => self.memory.clone(),
            Kind::Sqlite => {
                let dir = self.dir.as_ref().unwrap().path();
                let store = Store::for_data_dir(dir).await.unwrap();
                self.stores.push(store.clone());
                Arc::new(StoreRepo::new(store))
            }
            Kind::Postgres => {
                let schema = self.schema.as_deref().unwrap();
                let store = Store::open_postgres_in_schema(&ward_testkit::pg::url(), schema).await.unwrap();
                self.stores.push(store.clone());
                Arc::new(StoreRepo::new(store))
            }
        }
    }

    /// Closes the pools and drops the PostgreSQL schema.
    pub async fn cleanup(self) {
        for s in self.stores.iter().skip(1) {
            s.close().await;
        }
        if let Some(first) = self.stores.first() {
            if self.schema.is_some() {
                first.drop_schema().await.unwrap();
            } else {
                first.close().await;
            }
        }
    }
}

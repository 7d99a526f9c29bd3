//! The in-process adapter: bucket aggregates in sharded hash maps, bounded in entities.
//!
//! Each entity keeps, per window, only the buckets its newest event's window can reach; when a
//! shard is full, the sixteenth of its entities with the oldest newest-event time is evicted
//! (counted in [`ApplyReport::evicted`]). Nothing is persistent: a restart starts empty, and
//! `ward replay` (or `ward features get`'s log replay) rebuilds it.

use std::collections::{BTreeMap, HashMap};
use std::hash::BuildHasher;
use std::sync::Mutex;

use async_trait::async_trait;
use ward_model::TenantId;

use super::{ApplyReport, OnlineStore};
use crate::FeatureError;
use crate::agg::{Bucket, Snapshot, Summary};
use crate::entity::EntityKey;
use crate::inputs::Observation;
use crate::window::{BUCKETS, WINDOWS};

const SHARDS: usize = 16;

type Key = (TenantId, EntityKey);

#[derive(Default)]
struct EntityState {
    newest_ms: i64,
    windows: [BTreeMap<i64, Bucket>; WINDOWS.len()],
}

impl EntityState {
    /// Applies one observation; returns the number of windows it was too late for.
    fn apply(&mut self, obs: &Observation, fresh: bool) -> u64 {
        let ts = obs.ts_ms;
        let gap = (!fresh && ts >= self.newest_ms).then(|| (ts - self.newest_ms) as f64 / 1000.0);
        if fresh || ts > self.newest_ms {
            self.newest_ms = ts;
        }
        let mut late = 0;
        for (w, buckets) in WINDOWS.iter().zip(&mut self.windows) {
            if w.is_late(ts, self.newest_ms) {
                late += 1;
                continue;
            }
            buckets.entry(w.bucket(ts)).or_default().add(&obs.inputs, gap);
            let oldest = w.bucket(self.newest_ms) - (BUCKETS - 1);
            while buckets.first_key_value().is_some_and(|(k, _)| *k < oldest) {
                buckets.pop_first();
            }
        }
        late
    }
}

/// In-process online store.
pub struct MemoryStore {
    shards: Vec<Mutex<HashMap<Key, EntityState>>>,
    per_shard: usize,
    hasher: std::collections::hash_map::RandomState,
}

impl MemoryStore {
    /// A store keeping at most about `max_entities` entities (all tenants together).
    pub fn new(max_entities: usize) -> Self {
        Self {
            shards: (0..SHARDS).map(|_| Mutex::default()).collect(),
            per_shard: max_entities.div_ceil(SHARDS).max(1),
            hasher: std::collections::hash_map::RandomState::new(),
        }
    }

    /// Every entity kept for `tenant`, sorted.
    pub fn entities(&self, tenant: &TenantId) -> Vec<EntityKey> {
        let mut out: Vec<EntityKey> = self
            .shards
            .iter()
            .flat_map(|s| {
                let map = s.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                map.keys().filter(|(t, _)| t == tenant).map(|(_, e)| e.clone()).collect::<Vec<_>>()
            })
            .collect();
        out.sort();
        out
    }

    fn shard(&self, key: &Key) -> &Mutex<HashMap<Key, EntityState>> {
        &self.shards[(self.hasher.hash_one(key) as usize) % SHARDS]
    }
}

/// Drops the sixteenth of the entities with the oldest newest-event time; returns how many.
fn evict(map: &mut HashMap<Key, EntityState>) -> u64 {
    let mut ages: Vec<(i64, Key)> = map.iter().map(|(k, s)| (s.newest_ms, k.clone())).collect();
    let n = (ages.len() / 16).max(1).min(ages.len());
    ages.select_nth_unstable_by_key(n - 1, |(t, _)| *t);
    ages.iter().take(n).for_each(|(_, k)| {
        map.remove(k);
    });
    n as u64
}

#[async_trait]
impl OnlineStore for MemoryStore {
    fn adapter(&self) -> &'static str {
        "memory"
    }

    async fn apply(&self, tenant: &TenantId, batch: &[Observation]) -> Result<ApplyReport, FeatureError> {
        let mut report = ApplyReport::default();
        for obs in batch {
            let key = (tenant.clone(), obs.entity.clone());
            let mut map = self.shard(&key).lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            let fresh = !map.contains_key(&key);
            if fresh && map.len() >= self.per_shard {
                report.evicted += evict(&mut map);
            }
            report.late += map.entry(key).or_default().apply(obs, fresh);
            report.applied += 1;
        }
        Ok(report)
    }

    async fn snapshot(
        &self,
        tenant: &TenantId,
        entity: &EntityKey,
        at_ms: i64,
    ) -> Result<Snapshot, FeatureError> {
        let key = (tenant.clone(), entity.clone());
        let map = self.shard(&key).lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let Some(state) = map.get(&key) else {
            return Ok(Snapshot { last_seen_ms: None, windows: vec![Summary::default(); WINDOWS.len()] });
        };
        let windows = WINDOWS
            .iter()
            .zip(&state.windows)
            .map(|(w, buckets)| Summary::of(buckets.range(w.buckets_at(at_ms)).map(|(_, b)| b)))
            .collect();
        Ok(Snapshot { last_seen_ms: Some(state.newest_ms), windows })
    }
}

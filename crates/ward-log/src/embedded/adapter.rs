//! [`EmbeddedLog`]: opening, the [`Log`] implementation, and shutdown.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;

use async_trait::async_trait;
use tokio::sync::{Semaphore, mpsc, oneshot};

use super::EmbeddedOptions;
use super::files::{IoContext, index_path, partition_dir, remove_if_exists};
use super::format::frame_len;
use super::fs::{Filesystem, StdFs};
use super::groups::Commits;
use super::partition::{PartitionView, SegmentView, SharedView};
use super::recovery::{Truncation, recover};
use super::segment::read_span;
use super::tail::{WritePartition, WriterConfig};
use super::writer::{Request, Writer};
use crate::{
    Durability, Log, LogError, LogLayout, PartitionStats, Position, Record, StoredRecord, Topic,
    partition_for,
};

/// The embedded log adapter. Dropping it stops its writer thread after the group in progress.
#[derive(Debug)]
pub struct EmbeddedLog {
    shared: Arc<Shared>,
    tx: Option<mpsc::Sender<Request>>,
    writer: Option<JoinHandle<()>>,
    budget: Arc<Semaphore>,
    recovery: Vec<Truncation>,
    /// The lock on `<root>/LOCK`, released (after the writer stopped) when the log is dropped.
    _lock: Box<dyn std::fmt::Debug + Send + Sync>,
}

/// What readers and the adapter share.
#[derive(Debug)]
struct Shared {
    fs: Arc<dyn Filesystem>,
    root: PathBuf,
    layout: LogLayout,
    options: EmbeddedOptions,
    views: HashMap<Topic, Vec<SharedView>>,
    commits: Commits,
}

/// The file locked by the process that has the log open.
const LOCK_FILE: &str = "LOCK";

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Runs blocking file I/O off the async threads.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, LogError> + Send + 'static,
) -> Result<T, LogError> {
    tokio::task::spawn_blocking(f).await.map_err(|_| LogError::Closed)?
}

impl EmbeddedLog {
    /// Opens (or creates) the log stored under `root`, recovering every partition of
    /// `layout`. One process at a time: `<root>/LOCK` is locked while the log is open.
    /// Blocks on file I/O: from async code, call it inside `spawn_blocking`.
    ///
    /// # Errors
    /// [`LogError::Io`]; [`LogError::Corrupt`] for damage recovery must not repair silently.
    pub fn open(root: &Path, layout: LogLayout, options: EmbeddedOptions) -> Result<Self, LogError> {
        Self::open_with(StdFs, root, layout, options)
    }

    /// As [`EmbeddedLog::open`], over any [`Filesystem`] (tests use
    /// [`MemFs`](super::MemFs)).
    ///
    /// # Errors
    /// As [`EmbeddedLog::open`].
    pub fn open_with(
        fs: impl Filesystem + 'static,
        root: &Path,
        layout: LogLayout,
        options: EmbeddedOptions,
    ) -> Result<Self, LogError> {
        let fs: Arc<dyn Filesystem> = Arc::new(fs);
        let options = options.normalized();
        fs.create_dir_all(root).on(root)?;
        let lock_path = root.join(LOCK_FILE);
        let lock = fs.lock(&lock_path).on(&lock_path)?;
        let mut views = HashMap::new();
        let mut parts = HashMap::new();
        let mut recovery = Vec::new();
        for topic in Topic::ALL {
            let (v, w) = open_topic(&*fs, root, &layout, &options, topic, &mut recovery)?;
            views.insert(topic, v);
            parts.insert(topic, w);
        }
        let cfg = WriterConfig {
            segment_bytes: options.segment_bytes,
            index_interval: options.index_interval_bytes,
            max_group_bytes: options.max_group_bytes,
        };
        let (tx, rx) = mpsc::channel(options.queue_capacity);
        let writer = Writer::new(Arc::clone(&fs), cfg, parts).spawn(rx).on(root)?;
        let commits = Commits::new(Arc::clone(&fs), root);
        let budget = Arc::new(Semaphore::new(options.max_pending_bytes));
        let shared = Arc::new(Shared { fs, root: root.to_path_buf(), layout, options, views, commits });
        Ok(Self { shared, tx: Some(tx), writer: Some(writer), budget, recovery, _lock: lock })
    }

    /// Torn data cut off (or never-finished segments removed) while opening.
    pub fn recovery(&self) -> &[Truncation] {
        &self.recovery
    }

    /// The root directory.
    pub fn root(&self) -> &Path {
        &self.shared.root
    }

    fn view(&self, topic: Topic, partition: u32) -> Result<SharedView, LogError> {
        let views = self.shared.views.get(&topic).ok_or_else(|| LogError::UnknownTopic(topic.to_string()))?;
        views.get(partition as usize).cloned().ok_or(LogError::UnknownPartition { topic, partition })
    }

    /// Sends a request to the writer.
    async fn send(&self, req: Request) -> Result<(), LogError> {
        let tx = self.tx.as_ref().ok_or(LogError::Closed)?;
        tx.send(req).await.map_err(|_| LogError::Closed)
    }

    /// Seals the active segment of a partition if it holds records.
    async fn roll(&self, topic: Topic, partition: u32) -> Result<(), LogError> {
        let (reply, rx) = oneshot::channel();
        self.send(Request::Roll { topic, partition, reply }).await?;
        rx.await.map_err(|_| LogError::Closed)?
    }

    /// Removes a partition's expired segments (per the topic's policy as of `now_ms`);
    /// returns how many records went.
    async fn retain_partition(&self, topic: Topic, partition: u32, now_ms: i64) -> Result<u64, LogError> {
        let policy = self.shared.layout.topic(topic).retention;
        let cutoff = policy
            .max_age
            .map(|age| now_ms.saturating_sub(i64::try_from(age.as_millis()).unwrap_or(i64::MAX)));
        let view = self.view(topic, partition)?;
        if cutoff.is_some_and(|c| lock(&view).active_expired(c)) {
            self.roll(topic, partition).await?;
        }
        let gone = lock(&view).take_expired(&policy, cutoff);
        let removed = gone.iter().map(|s| s.meta.next - s.meta.base).sum();
        if !gone.is_empty() {
            let (fs, dir) = (Arc::clone(&self.shared.fs), partition_dir(&self.shared.root, topic, partition));
            blocking(move || delete_segments(&*fs, &dir, &gone)).await?;
        }
        Ok(removed)
    }
}

/// Recovers every partition of `topic`: the read views and the writer's side.
fn open_topic(
    fs: &dyn Filesystem,
    root: &Path,
    layout: &LogLayout,
    options: &EmbeddedOptions,
    topic: Topic,
    recovery: &mut Vec<Truncation>,
) -> Result<(Vec<SharedView>, Vec<WritePartition>), LogError> {
    let mut views = Vec::new();
    let mut parts = Vec::new();
    for partition in 0..layout.topic(topic).partitions {
        let dir = partition_dir(root, topic, partition);
        let mut found = recover(fs, &dir, options.index_interval_bytes)?;
        recovery.append(&mut found.truncations);
        let active = found.segments.last().map(|s| (Arc::clone(&s.file), s.meta.clone()));
        let view = Arc::new(Mutex::new(PartitionView::new(found.segments)));
        let (file, meta) = active.ok_or_else(|| LogError::Corrupt {
            path: dir.display().to_string(),
            offset: 0,
            reason: "recovery produced no segment".to_owned(),
        })?;
        parts.push(WritePartition::new(dir, Arc::clone(&view), file, meta));
        views.push(view);
    }
    Ok((views, parts))
}

/// Deletes detached segments oldest first, syncing the directory after each so a crash
/// leaves a contiguous run.
fn delete_segments(fs: &dyn Filesystem, dir: &Path, gone: &[SegmentView]) -> Result<(), LogError> {
    for s in gone {
        fs.remove(&s.path).on(&s.path)?;
        remove_if_exists(fs, &index_path(dir, s.meta.base))?;
        fs.sync_dir(dir).on(dir)?;
    }
    Ok(())
}

impl Drop for EmbeddedLog {
    fn drop(&mut self) {
        drop(self.tx.take());
        if let Some(writer) = self.writer.take() {
            // The writer ends once the queue is closed and drained; a panic there has
            // already failed the callers it was serving.
            drop(writer.join());
        }
    }
}

#[async_trait]
impl Log for EmbeddedLog {
    fn durability(&self) -> Durability {
        Durability::Fsync
    }

    fn partitions(&self, topic: Topic) -> u32 {
        self.shared.layout.topic(topic).partitions
    }

    async fn append(&self, topic: Topic, batch: Vec<Record>) -> Result<Vec<Position>, LogError> {
        if batch.is_empty() {
            return Ok(Vec::new());
        }
        let limit = self.shared.options.max_record_bytes;
        let mut bytes = 0usize;
        for r in &batch {
            let size = r.key.as_ref().map_or(0, Vec::len) + r.payload.len();
            if size > limit {
                return Err(LogError::TooLarge { size, limit });
            }
            bytes = bytes.saturating_add(frame_len(r));
        }
        let n = self.partitions(topic);
        let partitions = batch.iter().map(|r| partition_for(r.key.as_deref(), n)).collect();
        let permits = bytes.clamp(1, self.shared.options.max_pending_bytes) as u32;
        let _in_flight = self.budget.acquire_many(permits).await.map_err(|_| LogError::Closed)?;
        let (reply, rx) = oneshot::channel();
        self.send(Request::Append { topic, records: batch, partitions, reply }).await?;
        rx.await.map_err(|_| LogError::Closed)?
    }

    async fn read(
        &self,
        topic: Topic,
        partition: u32,
        from: u64,
        max: usize,
    ) -> Result<Vec<StoredRecord>, LogError> {
        let (start, spans) = lock(&*self.view(topic, partition)?).plan(from, max);
        if spans.is_empty() {
            return Ok(Vec::new());
        }
        blocking(move || {
            let mut out = Vec::with_capacity(max.min(4096));
            for span in &spans {
                read_span(span, partition, start, max, &mut out)?;
            }
            Ok(out)
        })
        .await
    }

    async fn ack(&self, group: &str, topic: Topic, partition: u32, next: u64) -> Result<(), LogError> {
        self.view(topic, partition)?;
        let (shared, group) = (Arc::clone(&self.shared), group.to_owned());
        blocking(move || shared.commits.ack(&group, topic, partition, next)).await
    }

    async fn committed(&self, group: &str, topic: Topic, partition: u32) -> Result<u64, LogError> {
        self.view(topic, partition)?;
        let (shared, group) = (Arc::clone(&self.shared), group.to_owned());
        blocking(move || shared.commits.committed(&group, topic, partition)).await
    }

    async fn stats(&self, topic: Topic) -> Result<Vec<PartitionStats>, LogError> {
        let views = self.shared.views.get(&topic).ok_or_else(|| LogError::UnknownTopic(topic.to_string()))?;
        let stats = views.iter().zip(0..).map(|(view, partition)| {
            let v = lock(view);
            PartitionStats {
                topic,
                partition,
                first_offset: v.first(),
                next_offset: v.next(),
                bytes: v.bytes(),
            }
        });
        Ok(stats.collect())
    }

    async fn apply_retention(&self, topic: Topic, now_ms: i64) -> Result<u64, LogError> {
        let mut removed = 0;
        for partition in 0..self.partitions(topic) {
            removed += self.retain_partition(topic, partition, now_ms).await?;
        }
        Ok(removed)
    }
}

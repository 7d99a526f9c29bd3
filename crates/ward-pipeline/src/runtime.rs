//! The stage runtime: one consumer-group reader per input partition that fetches a batch, lets
//! the stage process it, makes every output durable (log appends, dead letters, sink writes)
//! and only then acknowledges the batch. The contract is written in `docs/pipeline.md`.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use async_trait::async_trait;
use tokio::sync::watch;
use ward_log::{Log, LogError, Record, StoredRecord, Topic};

use crate::config::PipelineConfig;
use crate::deadletter::{DeadLetter, DeadLetterError, DeadLetterSink};
use crate::telemetry;

/// Whether a batch is new input or input re-read to rebuild state after a restart.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pass {
    /// First delivery (or redelivery after a crash before the ack): emit everything.
    Live,
    /// Already acknowledged input re-read to rebuild in-memory state: emit only what may not
    /// have been emitted before (outputs are idempotent either way).
    Warmup,
}

/// One batch of records from one partition.
#[derive(Clone, Copy, Debug)]
pub struct Batch<'a> {
    /// Input partition.
    pub partition: u32,
    /// Records in offset order.
    pub records: &'a [StoredRecord],
    /// Live or warm-up.
    pub pass: Pass,
}

/// What a stage produced for a batch; made durable by the runtime before the ack.
#[derive(Debug, Default)]
pub struct Output {
    /// Records to append, per topic, in order.
    pub records: Vec<(Topic, Record)>,
    /// Rejected inputs.
    pub dead: Vec<DeadLetter>,
}

impl Output {
    /// Queues a record for `topic`.
    pub fn emit(&mut self, topic: Topic, record: Record) {
        self.records.push((topic, record));
    }

    /// Queues a dead letter.
    pub fn reject(&mut self, letter: DeadLetter) {
        self.dead.push(letter);
    }

    /// Empties the output for reuse.
    pub fn clear(&mut self) {
        self.records.clear();
        self.dead.clear();
    }
}

/// A failure that stops a batch; the batch is retried after a backoff (nothing was acked).
#[derive(Debug, thiserror::Error)]
pub enum StageError {
    /// The stage's own sink (incident store) failed.
    #[error("stage {stage}: sink failed: {reason}")]
    Sink {
        /// Stage name.
        stage: &'static str,
        /// What failed.
        reason: String,
    },
    /// The log failed.
    #[error("stage log error: {0}")]
    Log(#[from] LogError),
    /// Dead letters could not be stored.
    #[error(transparent)]
    DeadLetters(#[from] DeadLetterError),
}

/// A pipeline stage: consumes batches of one input topic, emits outputs.
#[async_trait]
pub trait Stage: Send {
    /// Stable name (consumer group `ward-pipeline-<name>`, metrics label).
    fn name(&self) -> &'static str;

    /// The topic it consumes.
    fn input(&self) -> Topic;

    /// How many already-acknowledged records before the committed offset to re-read (as
    /// [`Pass::Warmup`]) when starting, to rebuild in-memory state. 0 for stateless stages.
    fn warmup_records(&self) -> u64 {
        0
    }

    /// Processes one batch. Bad records become dead letters in `out`, never errors; an error
    /// means the batch must be retried (e.g. the sink is unavailable).
    ///
    /// # Errors
    /// [`StageError`] for failures of the stage's own outputs.
    async fn process(&mut self, batch: Batch<'_>, out: &mut Output) -> Result<(), StageError>;

    /// Called when the input has nothing new: a stage holding outputs back for more input
    /// (correlation windows waiting for the watermark) may release them. Outputs are made
    /// durable; there is nothing to acknowledge.
    ///
    /// # Errors
    /// As [`Stage::process`].
    async fn idle(&mut self, _partition: u32, _out: &mut Output) -> Result<(), StageError> {
        Ok(())
    }
}

/// Counters of one stage, shared by its partition runners.
#[derive(Debug, Default)]
pub struct StageStats {
    records_in: AtomicU64,
    records_out: AtomicU64,
    rejected: AtomicU64,
    batches: AtomicU64,
    errors: AtomicU64,
}

/// A snapshot of [`StageStats`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct StageSnapshot {
    /// Input records acknowledged.
    pub records_in: u64,
    /// Output records made durable.
    pub records_out: u64,
    /// Input records dead-lettered.
    pub rejected: u64,
    /// Batches acknowledged.
    pub batches: u64,
    /// Batches that failed and were retried.
    pub errors: u64,
}

impl StageStats {
    /// The current counts.
    pub fn snapshot(&self) -> StageSnapshot {
        StageSnapshot {
            records_in: self.records_in.load(Ordering::Relaxed),
            records_out: self.records_out.load(Ordering::Relaxed),
            rejected: self.rejected.load(Ordering::Relaxed),
            batches: self.batches.load(Ordering::Relaxed),
            errors: self.errors.load(Ordering::Relaxed),
        }
    }
}

/// What one step of a runner did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    /// Nothing new to read.
    Idle,
    /// A batch was processed, made durable and acknowledged up to `next`.
    Acked {
        /// Records in the batch.
        records: usize,
        /// The committed position now.
        next: u64,
    },
}

/// A batch whose outputs are durable but which is not acknowledged yet.
#[derive(Debug)]
pub struct Unacked {
    /// Records in the batch.
    pub records: usize,
    /// The position to commit.
    pub next: u64,
}

/// Drives one stage over one partition of its input.
pub struct PartitionRunner {
    log: Arc<dyn Log>,
    stage: Box<dyn Stage>,
    partition: u32,
    group: String,
    dead: Arc<dyn DeadLetterSink>,
    config: PipelineConfig,
    stats: Arc<StageStats>,
    warmed: bool,
    out: Output,
    /// Records and dead letters made durable for the current batch.
    emitted: (u64, u64),
    batches_since_lag: u32,
}

impl PartitionRunner {
    /// A runner of `stage` over `partition` of its input.
    pub fn new(
        log: Arc<dyn Log>,
        stage: Box<dyn Stage>,
        partition: u32,
        dead: Arc<dyn DeadLetterSink>,
        config: PipelineConfig,
        stats: Arc<StageStats>,
    ) -> Self {
        let group = group_name(stage.name());
        Self {
            log,
            stage,
            partition,
            group,
            dead,
            config,
            stats,
            warmed: false,
            out: Output::default(),
            emitted: (0, 0),
            batches_since_lag: 0,
        }
    }

    /// The consumer group this runner commits to.
    pub fn group(&self) -> &str {
        &self.group
    }

    /// Fetches, processes and makes durable one batch and acknowledges it.
    ///
    /// # Errors
    /// [`StageError`] when processing, emitting or acknowledging failed (nothing acked).
    pub async fn step(&mut self) -> Result<Step, StageError> {
        match self.step_unacked().await? {
            None => Ok(Step::Idle),
            Some(batch) => {
                self.ack(&batch).await?;
                Ok(Step::Acked { records: batch.records, next: batch.next })
            }
        }
    }

    /// As [`PartitionRunner::step`] but stops before the acknowledgement (tests use it to
    /// simulate a crash between emitting and acking).
    ///
    /// # Errors
    /// As [`PartitionRunner::step`].
    pub async fn step_unacked(&mut self) -> Result<Option<Unacked>, StageError> {
        if !self.warmed {
            self.warm_up().await?;
            self.warmed = true;
        }
        let (name, input) = (self.stage.name(), self.stage.input());
        let records = self.log.fetch(&self.group, input, self.partition, self.config.batch_size).await?;
        let Some(last) = records.last() else {
            self.out.clear();
            self.stage.idle(self.partition, &mut self.out).await?;
            self.out.dead.clear();
            self.make_durable().await?;
            self.stats.records_out.fetch_add(self.emitted.1, Ordering::Relaxed);
            self.report_lag(0).await;
            return Ok(None);
        };
        let next = last.offset + 1;
        let started = Instant::now();
        self.out.clear();
        let batch = Batch { partition: self.partition, records: &records, pass: Pass::Live };
        if let Err(e) = self.stage.process(batch, &mut self.out).await {
            self.stats.errors.fetch_add(1, Ordering::Relaxed);
            telemetry::stage_error(name);
            return Err(e);
        }
        self.make_durable().await?;
        telemetry::batch(name, records.len(), self.emitted.1 as usize, started.elapsed());
        self.batches_since_lag += 1;
        if self.batches_since_lag >= 64 {
            self.report_lag(next).await;
        }
        Ok(Some(Unacked { records: records.len(), next }))
    }

    /// Commits a batch made durable by [`PartitionRunner::step_unacked`].
    ///
    /// # Errors
    /// [`StageError::Log`] when the commit fails.
    pub async fn ack(&mut self, batch: &Unacked) -> Result<(), StageError> {
        let input = self.stage.input();
        self.log.ack(&self.group, input, self.partition, batch.next).await?;
        let (rejected, out) = self.emitted;
        self.stats.records_in.fetch_add(batch.records as u64, Ordering::Relaxed);
        self.stats.records_out.fetch_add(out, Ordering::Relaxed);
        self.stats.rejected.fetch_add(rejected, Ordering::Relaxed);
        self.stats.batches.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }

    /// Appends every output record and stores the dead letters; on error the outputs are
    /// dropped (the batch is not acked and will be processed again).
    async fn make_durable(&mut self) -> Result<(), StageError> {
        self.emitted = (self.out.dead.len() as u64, self.out.records.len() as u64);
        let mut by_topic: Vec<(Topic, Vec<Record>)> = Vec::new();
        for (topic, record) in self.out.records.drain(..) {
            match by_topic.iter_mut().find(|(t, _)| *t == topic) {
                Some((_, v)) => v.push(record),
                None => by_topic.push((topic, vec![record])),
            }
        }
        for (topic, records) in by_topic {
            self.log.append(topic, records).await?;
        }
        if !self.out.dead.is_empty() {
            self.dead.put(&self.out.dead).await?;
            for d in &self.out.dead {
                telemetry::rejected(self.stage.name(), &d.source);
            }
        }
        Ok(())
    }

    /// Re-reads up to `warmup_records` acknowledged records before the committed position.
    async fn warm_up(&mut self) -> Result<(), StageError> {
        let want = self.stage.warmup_records();
        if want == 0 {
            return Ok(());
        }
        let input = self.stage.input();
        let committed = self.log.committed(&self.group, input, self.partition).await?;
        let mut from = committed.saturating_sub(want);
        while from < committed {
            let max = self.config.batch_size.min(usize::try_from(committed - from).unwrap_or(usize::MAX));
            let records = self.log.read(input, self.partition, from, max).await?;
            let records: Vec<StoredRecord> = records.into_iter().filter(|r| r.offset < committed).collect();
            let Some(last) = records.last() else { break };
            from = last.offset + 1;
            self.out.clear();
            let batch = Batch { partition: self.partition, records: &records, pass: Pass::Warmup };
            self.stage.process(batch, &mut self.out).await?;
            self.out.dead.clear();
            self.make_durable().await?;
            self.stats.records_out.fetch_add(self.emitted.1, Ordering::Relaxed);
        }
        self.out.clear();
        Ok(())
    }

    async fn report_lag(&mut self, next: u64) {
        self.batches_since_lag = 0;
        let input = self.stage.input();
        if let Ok(stats) = self.log.stats(input).await
            && let Some(p) = stats.iter().find(|p| p.partition == self.partition)
        {
            let at = if next == 0 {
                self.log.committed(&self.group, input, self.partition).await.unwrap_or(p.next_offset)
            } else {
                next
            };
            telemetry::lag(self.stage.name(), self.partition, p.next_offset.saturating_sub(at));
        }
    }

    /// Runs until `shutdown` turns true (or its sender is dropped); an in-flight batch is
    /// finished (made durable and acknowledged) before returning. Failed batches are retried after the configured backoff.
    pub async fn run(mut self, mut shutdown: watch::Receiver<bool>) {
        loop {
            if *shutdown.borrow() {
                return;
            }
            let pause = match self.step().await {
                Ok(Step::Acked { .. }) => continue,
                Ok(Step::Idle) => self.config.poll_interval(),
                Err(e) => {
                    tracing::warn!(stage = self.stage.name(), partition = self.partition, error = %e, "batch failed; retrying");
                    self.config.retry_backoff()
                }
            };
            tokio::select! {
                _ = tokio::time::sleep(pause) => {}
                changed = shutdown.changed() => {
                    // The sender is gone: nobody can ask for a shutdown any more, so stop now.
                    if changed.is_err() {
                        return;
                    }
                }
            }
        }
    }

    /// Steps until the input is drained (an idle step); returns the records acknowledged.
    ///
    /// # Errors
    /// The first [`StageError`].
    pub async fn run_until_idle(&mut self) -> Result<u64, StageError> {
        let mut total = 0u64;
        while let Step::Acked { records, .. } = self.step().await? {
            total += records as u64;
        }
        Ok(total)
    }
}

/// The consumer group of a stage.
pub fn group_name(stage: &str) -> String {
    format!("ward-pipeline-{stage}")
}

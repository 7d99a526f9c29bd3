//! The stage contract as an executable check: any [`Stage`] can be run through
//! [`check_stage_contract`], which verifies on an in-memory embedded log that
//! - every input is either turned into durable outputs or dead-lettered (and counted), and the
//!   committed position reaches the end of the input;
//! - a crash after the outputs of any batch are durable but before its ack, followed by a
//!   restart with fresh stage state, yields exactly the outputs of an uninterrupted run;
//! - a shutdown requested while a batch is in flight lets that batch finish: it is made durable
//!   and acknowledged before the runner returns.

use std::sync::Arc;

use async_trait::async_trait;
use tokio::sync::watch;
use ward_log::embedded::{EmbeddedLog, EmbeddedOptions, MemFs};
use ward_log::{Log, LogLayout, Record, Topic};

use crate::config::PipelineConfig;
use crate::deadletter::MemoryDeadLetters;
use crate::runtime::{Batch, Output, PartitionRunner, Stage, StageError, StageStats, group_name};

/// A stage under test together with the state its outputs go to.
#[async_trait]
pub trait Subject: Send + Sync {
    /// A fresh stage instance (fresh in-memory state, same durable sinks).
    fn stage(&self) -> Box<dyn Stage>;

    /// Everything durable the stage produced, canonical (sorted, distinct), read from `log`
    /// and from the subject's own sinks.
    async fn observe(&self, log: &dyn Log) -> Vec<String>;
}

/// A subject whose outputs are log topics.
pub struct TopicSubject<F> {
    make: F,
    outputs: Vec<Topic>,
}

impl<F: Fn() -> Box<dyn Stage> + Send + Sync> TopicSubject<F> {
    /// Stages built by `make`, producing into `outputs`.
    pub fn new(make: F, outputs: &[Topic]) -> Self {
        Self { make, outputs: outputs.to_vec() }
    }
}

#[async_trait]
impl<F: Fn() -> Box<dyn Stage> + Send + Sync> Subject for TopicSubject<F> {
    fn stage(&self) -> Box<dyn Stage> {
        (self.make)()
    }

    async fn observe(&self, log: &dyn Log) -> Vec<String> {
        let mut all = Vec::new();
        for &topic in &self.outputs {
            all.extend(read_topic(log, topic).await.into_iter().map(|p| format!("{topic}:{p}")));
        }
        all.sort();
        all.dedup();
        all
    }
}

/// Every payload of `topic` (all partitions), as text, in partition/offset order.
pub async fn read_topic(log: &dyn Log, topic: Topic) -> Vec<String> {
    let mut out = Vec::new();
    for p in 0..log.partitions(topic) {
        let mut from = 0;
        while let Ok(batch) = log.read(topic, p, from, 1024).await {
            let Some(last) = batch.last() else { break };
            from = last.offset + 1;
            out.extend(batch.iter().map(|r| String::from_utf8_lossy(&r.payload).into_owned()));
        }
    }
    out
}

/// A broken promise of the contract.
#[derive(Debug, thiserror::Error)]
pub enum Violation {
    /// The harness itself failed (log or stage error).
    #[error("harness: {0}")]
    Harness(String),
    /// The good input produced nothing, so the other checks would prove nothing.
    #[error("the good input produced no output")]
    NoOutput,
    /// The bad record was not dead-lettered exactly once, at its offset, by this stage.
    #[error("bad record: {0}")]
    DeadLetter(String),
    /// The committed position is not the end of the input.
    #[error("committed {committed}, expected {expected}")]
    Committed {
        /// Committed position.
        committed: u64,
        /// Records appended.
        expected: u64,
    },
    /// A crash before the ack of batch `batch` changed the outputs.
    #[error("crash before ack of batch {batch}: outputs differ (missing {missing:?}, extra {extra:?})")]
    Replay {
        /// Index of the batch left unacknowledged.
        batch: usize,
        /// Outputs of the clean run that are missing.
        missing: Vec<String>,
        /// Outputs that the clean run does not have.
        extra: Vec<String>,
    },
    /// A shutdown during a batch did not finish and acknowledge it.
    #[error("shutdown did not drain the in-flight batch (committed {0})")]
    Drain(u64),
}

/// What the check saw.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ContractReport {
    /// Distinct outputs of a clean run.
    pub outputs: usize,
    /// Batches of the input (each was crashed before its ack once).
    pub batches: usize,
}

fn harness(e: impl std::fmt::Display) -> Violation {
    Violation::Harness(e.to_string())
}

async fn fresh_log(input: Topic, records: &[Record]) -> Result<Arc<dyn Log>, Violation> {
    let log = EmbeddedLog::open_with(
        MemFs::new(7),
        "/ward-log".as_ref(),
        LogLayout::default(),
        EmbeddedOptions::default(),
    )
    .map_err(harness)?;
    let log: Arc<dyn Log> = Arc::new(log);
    log.append(input, records.to_vec()).await.map_err(harness)?;
    Ok(log)
}

/// Runs the contract checks for the subjects `make` builds (one fresh subject per scenario),
/// feeding `good` records and one `bad` record (appended after the first good one) to the
/// stage's input topic in batches of `batch_size`.
///
/// # Errors
/// The first [`Violation`].
pub async fn check_stage_contract<S: Subject>(
    make: impl Fn() -> S,
    good: Vec<Record>,
    bad: Record,
    batch_size: usize,
) -> Result<ContractReport, Violation> {
    let config = PipelineConfig { batch_size: batch_size.max(1), ..PipelineConfig::default() };
    let mut input = good;
    let bad_offset = u64::from(!input.is_empty());
    input.insert(bad_offset as usize, bad);
    let total = input.len() as u64;
    let topic = make().stage().input();
    let name = make().stage().name();

    // 1. A clean run.
    let subject = make();
    let log = fresh_log(topic, &input).await?;
    let dead = Arc::new(MemoryDeadLetters::default());
    let stats = Arc::new(StageStats::default());
    let mut runner = PartitionRunner::new(
        Arc::clone(&log),
        subject.stage(),
        0,
        dead.clone(),
        config.clone(),
        stats.clone(),
    );
    runner.run_until_idle().await.map_err(harness)?;
    let committed = log.committed(&group_name(name), topic, 0).await.map_err(harness)?;
    if committed != total {
        return Err(Violation::Committed { committed, expected: total });
    }
    check_dead(&dead, name, bad_offset, stats.snapshot().rejected)?;
    let reference = subject.observe(&*log).await;
    if reference.is_empty() {
        return Err(Violation::NoOutput);
    }

    // 2. A crash before the ack of each batch in turn, then a restart with fresh state.
    let batches = input.len().div_ceil(config.batch_size);
    for crash_at in 0..batches {
        let subject = make();
        let log = fresh_log(topic, &input).await?;
        let dead = Arc::new(MemoryDeadLetters::default());
        let stats = Arc::new(StageStats::default());
        let mut first = PartitionRunner::new(
            Arc::clone(&log),
            subject.stage(),
            0,
            dead.clone(),
            config.clone(),
            stats.clone(),
        );
        for _ in 0..crash_at {
            first.step().await.map_err(harness)?;
        }
        first.step_unacked().await.map_err(harness)?;
        drop(first);
        let mut second =
            PartitionRunner::new(Arc::clone(&log), subject.stage(), 0, dead, config.clone(), stats);
        second.run_until_idle().await.map_err(harness)?;
        let got = subject.observe(&*log).await;
        if got != reference {
            let missing = reference.iter().filter(|r| !got.contains(r)).cloned().collect();
            let extra = got.iter().filter(|g| !reference.contains(g)).cloned().collect();
            return Err(Violation::Replay { batch: crash_at, missing, extra });
        }
    }

    // 3. A shutdown requested while the first batch is in flight.
    let subject = make();
    let log = fresh_log(topic, &input).await?;
    let (tx, rx) = watch::channel(false);
    let stage = Box::new(ShutdownDuring { inner: subject.stage(), tx: Some(tx) });
    let dead: Arc<MemoryDeadLetters> = Arc::new(MemoryDeadLetters::default());
    let runner = PartitionRunner::new(Arc::clone(&log), stage, 0, dead, config.clone(), Arc::default());
    runner.run(rx).await;
    let committed = log.committed(&group_name(name), topic, 0).await.map_err(harness)?;
    if committed != (config.batch_size as u64).min(total) {
        return Err(Violation::Drain(committed));
    }
    Ok(ContractReport { outputs: reference.len(), batches })
}

fn check_dead(dead: &MemoryDeadLetters, stage: &str, offset: u64, counted: u64) -> Result<(), Violation> {
    let letters = dead.all();
    let ok = letters.len() == 1 && letters[0].stage == stage && letters[0].offset == offset && counted == 1;
    if ok {
        Ok(())
    } else {
        Err(Violation::DeadLetter(format!("{} letters ({counted} counted): {letters:?}", letters.len())))
    }
}

/// Wraps a stage and requests shutdown from inside its first batch.
struct ShutdownDuring {
    inner: Box<dyn Stage>,
    tx: Option<watch::Sender<bool>>,
}

#[async_trait]
impl Stage for ShutdownDuring {
    fn name(&self) -> &'static str {
        self.inner.name()
    }

    fn input(&self) -> Topic {
        self.inner.input()
    }

    fn warmup_records(&self) -> u64 {
        self.inner.warmup_records()
    }

    async fn process(&mut self, batch: Batch<'_>, out: &mut Output) -> Result<(), StageError> {
        if let Some(tx) = self.tx.take() {
            // The runner holds the receiver; it is alive while this batch runs.
            let _ = tx.send(true);
        }
        self.inner.process(batch, out).await
    }
}

//! The group-commit writer: one thread takes every pending request off a bounded queue,
//! writes all of them, syncs each touched partition once, publishes, and only then answers.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::thread::JoinHandle;

use tokio::sync::{mpsc, oneshot};

use super::format::frame_len;
use super::fs::Filesystem;
use super::tail::{Failure, WritePartition, WriterConfig};
use crate::{LogError, Position, Record, Topic};

/// The answer to an append.
pub(crate) type AppendReply = oneshot::Sender<Result<Vec<Position>, LogError>>;
/// The answer to a roll.
pub(crate) type RollReply = oneshot::Sender<Result<(), LogError>>;

/// Work for the writer.
#[derive(Debug)]
pub(crate) enum Request {
    /// Append `records`, record `i` to partition `partitions[i]`.
    Append {
        /// Topic.
        topic: Topic,
        /// The batch.
        records: Vec<Record>,
        /// Each record's partition.
        partitions: Vec<u32>,
        /// Where to answer.
        reply: AppendReply,
    },
    /// Seal the partition's active segment if it holds records (for retention).
    Roll {
        /// Topic.
        topic: Topic,
        /// Partition.
        partition: u32,
        /// Where to answer.
        reply: RollReply,
    },
}

impl Request {
    fn bytes(&self) -> usize {
        match self {
            Self::Append { records, .. } => records.iter().map(frame_len).sum(),
            Self::Roll { .. } => 0,
        }
    }
}

/// A staged request waiting for its group's sync.
enum Pending {
    Append(AppendReply, Vec<Position>),
    Roll(RollReply),
}

impl Pending {
    fn answer(self, failure: Option<&Failure>) {
        // A caller that stopped waiting (its future was dropped) no longer needs the answer.
        match (self, failure) {
            (Self::Append(tx, positions), None) => drop(tx.send(Ok(positions))),
            (Self::Append(tx, _), Some(f)) => drop(tx.send(Err(f.error()))),
            (Self::Roll(tx), None) => drop(tx.send(Ok(()))),
            (Self::Roll(tx), Some(f)) => drop(tx.send(Err(f.error()))),
        }
    }
}

/// The writer thread's state: every partition's write side.
#[derive(Debug)]
pub(crate) struct Writer {
    fs: Arc<dyn Filesystem>,
    cfg: WriterConfig,
    parts: HashMap<Topic, Vec<WritePartition>>,
}

impl Writer {
    /// A writer over recovered partitions.
    pub(crate) fn new(
        fs: Arc<dyn Filesystem>,
        cfg: WriterConfig,
        parts: HashMap<Topic, Vec<WritePartition>>,
    ) -> Self {
        Self { fs, cfg, parts }
    }

    /// Starts the writer thread; it ends once every sender of `rx` is dropped.
    ///
    /// # Errors
    /// When the thread cannot be started.
    pub(crate) fn spawn(self, rx: mpsc::Receiver<Request>) -> std::io::Result<JoinHandle<()>> {
        std::thread::Builder::new().name("ward-log-writer".into()).spawn(move || self.run(rx))
    }

    fn run(mut self, mut rx: mpsc::Receiver<Request>) {
        while let Some(first) = rx.blocking_recv() {
            let mut bytes = first.bytes();
            let mut group = vec![first];
            while bytes < self.cfg.max_group_bytes {
                let Ok(next) = rx.try_recv() else { break };
                bytes += next.bytes();
                group.push(next);
            }
            self.commit(group);
        }
    }

    /// Stages every request of the group, syncs each touched partition once, then publishes
    /// and answers; if any write or sync failed, every request of the group fails and every
    /// touched partition refuses appends until the log is reopened.
    fn commit(&mut self, group: Vec<Request>) {
        let mut touched = BTreeSet::new();
        let mut pending = Vec::with_capacity(group.len());
        let mut failure = None;
        for req in group {
            match self.stage(req, &mut touched, failure.is_some()) {
                Ok(Some(p)) => pending.push(p),
                Ok(None) => {}
                Err((e, p)) => {
                    failure = Some(Failure::from_error(&e));
                    pending.push(p);
                }
            }
        }
        if failure.is_none() {
            failure = self.sync(&touched).err().map(|e| Failure::from_error(&e));
        }
        for key in &touched {
            if let Some(part) = self.part(*key) {
                match &failure {
                    None => part.publish(),
                    Some(f) => part.fail(f),
                }
            }
        }
        pending.into_iter().for_each(|p| p.answer(failure.as_ref()));
    }

    fn part(&mut self, (topic, partition): (Topic, u32)) -> Option<&mut WritePartition> {
        self.parts.get_mut(&topic)?.get_mut(partition as usize)
    }

    /// Flushes every touched partition, then syncs each.
    fn sync(&mut self, touched: &BTreeSet<(Topic, u32)>) -> Result<(), LogError> {
        for key in touched {
            self.part(*key).map_or(Ok(()), WritePartition::flush)?;
        }
        for key in touched {
            self.part(*key).map_or(Ok(()), WritePartition::sync)?;
        }
        Ok(())
    }

    /// Stages one request. `Ok(None)`: already answered (refused without touching a file).
    /// With `doomed`, the group has already failed and the request is only kept to be failed.
    fn stage(
        &mut self,
        req: Request,
        touched: &mut BTreeSet<(Topic, u32)>,
        doomed: bool,
    ) -> Result<Option<Pending>, (LogError, Pending)> {
        match req {
            Request::Append { reply, .. } if doomed => Ok(Some(Pending::Append(reply, Vec::new()))),
            Request::Roll { reply, .. } if doomed => Ok(Some(Pending::Roll(reply))),
            Request::Append { topic, records, partitions, reply } => {
                self.stage_append(topic, &records, &partitions, reply, touched)
            }
            Request::Roll { topic, partition, reply } => self.stage_roll(topic, partition, reply, touched),
        }
    }

    fn stage_append(
        &mut self,
        topic: Topic,
        records: &[Record],
        partitions: &[u32],
        reply: AppendReply,
        touched: &mut BTreeSet<(Topic, u32)>,
    ) -> Result<Option<Pending>, (LogError, Pending)> {
        let Some(parts) = self.parts.get_mut(&topic) else {
            drop(reply.send(Err(LogError::UnknownTopic(topic.to_string()))));
            return Ok(None);
        };
        let refusal = partitions.iter().find_map(|&p| match parts.get(p as usize) {
            None => Some(LogError::UnknownPartition { topic, partition: p }),
            Some(part) => part.poison_error(),
        });
        if let Some(e) = refusal {
            drop(reply.send(Err(e)));
            return Ok(None);
        }
        // Every partition the request was to write to shares the group's fate, even if a
        // failure stops the group before it reaches that partition.
        touched.extend(partitions.iter().map(|&p| (topic, p)));
        let mut positions = Vec::with_capacity(records.len());
        for (rec, &partition) in records.iter().zip(partitions) {
            let Some(part) = parts.get_mut(partition as usize) else { continue };
            match part.stage(&*self.fs, rec, &self.cfg) {
                Ok(offset) => positions.push(Position { partition, offset }),
                Err(e) => return Err((e, Pending::Append(reply, Vec::new()))),
            }
        }
        Ok(Some(Pending::Append(reply, positions)))
    }

    fn stage_roll(
        &mut self,
        topic: Topic,
        partition: u32,
        reply: RollReply,
        touched: &mut BTreeSet<(Topic, u32)>,
    ) -> Result<Option<Pending>, (LogError, Pending)> {
        let fs = Arc::clone(&self.fs);
        let Some(part) = self.part((topic, partition)) else {
            drop(reply.send(Err(LogError::UnknownPartition { topic, partition })));
            return Ok(None);
        };
        // A partition that refuses appends is not rolled: its sealed segments can still go.
        if part.poison_error().is_some() || !part.has_records() {
            drop(reply.send(Ok(())));
            return Ok(None);
        }
        touched.insert((topic, partition));
        match part.roll(&*fs) {
            Ok(()) => Ok(Some(Pending::Roll(reply))),
            Err(e) => Err((e, Pending::Roll(reply))),
        }
    }
}

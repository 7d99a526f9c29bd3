//! Committed consumer-group positions, kept in one small stream per log.
//!
//! The stream `{prefix}-offsets` (file storage, `max_msgs_per_subject = 1`) holds one subject
//! per (group, topic, partition) whose only message is the committed position in decimal — a
//! key-value store built from JetStream 2.9 primitives, without the KV feature. A commit is a
//! compare-and-set: it reads the current message and publishes the new position with
//! `Nats-Expected-Last-Subject-Sequence` set to that message's sequence, retrying when another
//! writer got there first, so commits never move backwards even under concurrent acks.

use async_nats::jetstream::Context;
use async_nats::jetstream::context::PublishErrorKind;
use async_nats::jetstream::message::PublishMessage;
use async_nats::jetstream::stream::{self, LastRawMessageErrorKind};

use super::server;
use crate::LogError;

/// How often a commit retries after losing a compare-and-set race before giving up.
const MAX_ATTEMPTS: usize = 64;

/// The offsets stream of one log.
#[derive(Clone, Debug)]
pub(super) struct Offsets {
    js: Context,
    stream: String,
}

/// A committed position and the stream sequence of the message that holds it (0: none).
struct Stored {
    next: u64,
    seq: u64,
}

impl Offsets {
    /// Creates the offsets stream if needed.
    pub(super) async fn open(js: Context, stream: String, subjects: String) -> Result<Self, LogError> {
        let config = stream::Config {
            name: stream.clone(),
            subjects: vec![subjects],
            max_messages_per_subject: 1,
            storage: stream::StorageType::File,
            num_replicas: 1,
            ..Default::default()
        };
        js.create_or_update_stream(config)
            .await
            .map_err(|e| server(format!("create stream {stream} (is JetStream enabled?)"), e))?;
        Ok(Self { js, stream })
    }

    /// The committed position at `subject` (0 when never committed).
    pub(super) async fn committed(&self, subject: &str) -> Result<u64, LogError> {
        Ok(self.load(subject).await?.next)
    }

    /// Raises the committed position at `subject` to `next`; a lower or equal `next` is ignored.
    pub(super) async fn commit(&self, subject: &str, next: u64) -> Result<(), LogError> {
        for _ in 0..MAX_ATTEMPTS {
            let current = self.load(subject).await?;
            if next <= current.next {
                return Ok(());
            }
            let publish = PublishMessage::build()
                .payload(next.to_string().into())
                .expected_last_subject_sequence(current.seq);
            let ack = self.js.send_publish(subject.to_owned(), publish).await;
            match ack.map_err(|e| server(format!("commit to {subject}"), e))?.await {
                Ok(_) => return Ok(()),
                Err(e) if e.kind() == PublishErrorKind::WrongLastSequence => continue,
                Err(e) => return Err(server(format!("commit to {subject}"), e)),
            }
        }
        Err(LogError::Server(format!(
            "nats: commit to {subject}: still contended after {MAX_ATTEMPTS} attempts"
        )))
    }

    async fn load(&self, subject: &str) -> Result<Stored, LogError> {
        let stream = self.js.get_stream_no_info(&self.stream).await.map_err(|e| server(&self.stream, e))?;
        match stream.get_last_raw_message_by_subject(subject).await {
            Ok(message) => {
                let text = std::str::from_utf8(&message.payload).unwrap_or_default();
                let next = text.parse().map_err(|_| {
                    LogError::Server(format!("nats: {subject} holds {text:?}, not a committed offset"))
                })?;
                Ok(Stored { next, seq: message.sequence })
            }
            Err(e) if e.kind() == LastRawMessageErrorKind::NoMessageFound => Ok(Stored { next: 0, seq: 0 }),
            Err(e) => Err(server(format!("read {subject}"), e)),
        }
    }
}

//! `ward send`: read sensor files, cut them into records, and send them in signed, gzip'd
//! batches to `POST /ingest/{source}`, retrying on 429/503 (honouring `Retry-After`) and on
//! connection errors. Rejected records are printed to stderr as JSON lines
//! `{"path","line","index","reason"}`; the last stdout line is the summary. Exit 2 when any
//! record was rejected.

use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use secrecy::SecretString;
use serde::Deserialize;
use tokio::sync::mpsc;
use tokio::task::JoinSet;
use ward_decode::frame::{self, Location};
use ward_decode::input::{self, DirFilter};
use ward_decode::{DecodeError, Framing, SourceKind};

use crate::Outcome;
use crate::cli::SendArgs;

/// Uncompressed bytes per request at most (well under the server's default limits).
const MAX_BATCH_BYTES: usize = 4 << 20;
/// Largest record read from a file.
const MAX_RECORD_BYTES: usize = ward_decode::run::DEFAULT_MAX_RECORD_BYTES;
/// Longest wait between attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(60);

/// A batch of records with where each came from.
struct Batch {
    records: Vec<String>,
    origins: Vec<(Arc<str>, u64)>,
    bytes: usize,
}

/// What the server said about one batch.
#[derive(Deserialize)]
struct Answer {
    accepted: u64,
    rejected: u64,
    errors: Vec<ItemError>,
}

#[derive(Deserialize)]
struct ItemError {
    index: usize,
    reason: String,
}

/// Connection facts shared by the sending tasks.
struct Target {
    client: reqwest::Client,
    url: reqwest::Url,
    device_id: String,
    secret: SecretString,
    gzip: bool,
    framing: Framing,
    max_attempts: u32,
}

#[derive(Default)]
struct Totals {
    sent: u64,
    accepted: u64,
    rejected: u64,
    requests: u64,
    retries: u64,
}

/// Runs `ward send`.
///
/// # Errors
/// Unreadable inputs, an unknown source, or a request the server refuses for good (401, 400,
/// 404, 413) or that still fails after every attempt.
pub fn run(args: &SendArgs) -> Result<Outcome> {
    let kind: SourceKind = args.source.parse()?;
    let framing = ward_api::ingest::items::http_framing(kind);
    if framing == Framing::Evtx {
        bail!("evtx files cannot be sent; convert them to winlog JSON first");
    }
    let base = reqwest::Url::parse(&args.url).with_context(|| format!("--url {:?}", args.url))?;
    let url = base.join(&format!("ingest/{kind}")).context("building the ingest URL")?;
    let target = Target {
        client: reqwest::Client::builder().timeout(Duration::from_secs(120)).build()?,
        url,
        device_id: args.device_id.clone(),
        secret: args.secret.clone(),
        gzip: !args.no_gzip,
        framing,
        max_attempts: args.max_attempts.max(1),
    };
    super::runtime()?.block_on(send_all(args, Arc::new(target)))
}

async fn send_all(args: &SendArgs, target: Arc<Target>) -> Result<Outcome> {
    let started = Instant::now();
    let bar = progress(args.no_progress)?;
    let (tx, mut rx) = mpsc::channel::<Batch>(args.concurrency.max(1));
    let (paths, batch_size, framing) = (args.paths.clone(), args.batch.max(1), target.framing);
    let reader = tokio::task::spawn_blocking(move || read_inputs(&paths, framing, batch_size, &tx));
    let mut totals = Totals::default();
    let mut tasks = JoinSet::new();
    while let Some(batch) = rx.recv().await {
        if tasks.len() >= args.concurrency.max(1)
            && let Some(done) = tasks.join_next().await
        {
            tally(&mut totals, done?, &bar)?;
        }
        tasks.spawn(send_batch(Arc::clone(&target), batch));
    }
    while let Some(done) = tasks.join_next().await {
        tally(&mut totals, done?, &bar)?;
    }
    let local_rejects = reader.await??;
    bar.finish_and_clear();
    totals.rejected += local_rejects;
    let t = &totals;
    println!(
        "sent={} accepted={} rejected={} requests={} retries={} elapsed_ms={}",
        t.sent,
        t.accepted,
        t.rejected,
        t.requests,
        t.retries,
        started.elapsed().as_millis()
    );
    Ok(if t.rejected == 0 { Outcome::Success } else { Outcome::Partial })
}

fn progress(hidden: bool) -> Result<ProgressBar> {
    let bar = ProgressBar::new_spinner();
    bar.set_draw_target(if hidden { ProgressDrawTarget::hidden() } else { ProgressDrawTarget::stderr() });
    bar.set_style(ProgressStyle::with_template("{spinner} {elapsed} {pos} records sent ({per_sec}) {msg}")?);
    bar.enable_steady_tick(Duration::from_millis(120));
    Ok(bar)
}

/// Result of one batch: its size, the server's answer, attempts beyond the first.
type BatchResult = Result<(Batch, Answer, u64)>;

fn tally(totals: &mut Totals, result: BatchResult, bar: &ProgressBar) -> Result<()> {
    let (batch, answer, retries) = result?;
    totals.sent += batch.records.len() as u64;
    totals.accepted += answer.accepted;
    totals.rejected += answer.rejected;
    totals.requests += 1 + retries;
    totals.retries += retries;
    bar.inc(batch.records.len() as u64);
    bar.set_message(format!("{} rejected", totals.rejected));
    for e in &answer.errors {
        let (path, line) = batch.origins.get(e.index).map_or(("?", 0), |(p, l)| (p.as_ref(), *l));
        let shown = serde_json::json!({ "path": path, "line": line, "index": e.index, "reason": e.reason });
        bar.suspend(|| eprintln!("{shown}"));
    }
    Ok(())
}

/// Reads every input and hands full batches to the sender; returns records rejected locally.
fn read_inputs(paths: &[PathBuf], framing: Framing, size: usize, tx: &mpsc::Sender<Batch>) -> Result<u64> {
    let filter = if framing == Framing::Lines { DirFilter::TextLogs } else { DirFilter::JsonLogs };
    let mut batch = Batch::new();
    let mut rejected = 0u64;
    // Set when the sending side gave up (its error is reported there): stop reading.
    let mut closed = false;
    for file in input::expand(paths, filter)? {
        if closed {
            break;
        }
        input::for_each_stream::<anyhow::Error>(&file, &mut |name, reader| {
            let name: Arc<str> = Arc::from(name);
            let mut on_record = |loc: Location, record: Result<&str, DecodeError>| match record {
                Ok(_) if closed => {}
                Ok(text) => {
                    batch.push(text, &name, loc.line);
                    if batch.records.len() >= size || batch.bytes >= MAX_BATCH_BYTES {
                        let full = std::mem::replace(&mut batch, Batch::new());
                        closed = tx.blocking_send(full).is_err();
                    }
                }
                Err(e) => {
                    rejected += 1;
                    let shown = serde_json::json!({ "path": &*name, "line": loc.line, "offset": loc.offset, "reason": e.to_string() });
                    eprintln!("{shown}");
                }
            };
            match framing {
                Framing::Lines => frame::for_each_line(reader, MAX_RECORD_BYTES, &mut on_record),
                _ => frame::for_each_json_value(reader, MAX_RECORD_BYTES, &mut on_record),
            }
            .with_context(|| format!("reading {name}"))
        })?;
    }
    if !batch.records.is_empty() && !closed {
        // A closed channel here means the sender already failed and reports why.
        let _ = tx.blocking_send(batch);
    }
    Ok(rejected)
}

impl Batch {
    fn new() -> Self {
        Self { records: Vec::new(), origins: Vec::new(), bytes: 0 }
    }

    fn push(&mut self, record: &str, path: &Arc<str>, line: u64) {
        self.bytes += record.len() + 1;
        self.records.push(record.to_owned());
        self.origins.push((Arc::clone(path), line));
    }

    /// NDJSON (or lines), or a JSON array when a JSON record spans lines.
    fn body(&self, framing: Framing) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.bytes + 2);
        let array = framing == Framing::JsonValues && self.records.iter().any(|r| r.contains('\n'));
        out.extend_from_slice(if array { b"[" } else { b"" });
        for (i, r) in self.records.iter().enumerate() {
            if array && i > 0 {
                out.push(b',');
            }
            out.extend_from_slice(r.as_bytes());
            out.push(b'\n');
        }
        out.extend_from_slice(if array { b"]" } else { b"" });
        out
    }
}

fn gzip(data: &[u8]) -> Result<Vec<u8>> {
    let mut e =
        flate2::write::GzEncoder::new(Vec::with_capacity(data.len() / 4), flate2::Compression::fast());
    e.write_all(data)?;
    Ok(e.finish()?)
}

async fn send_batch(target: Arc<Target>, batch: Batch) -> BatchResult {
    let raw = batch.body(target.framing);
    let body = if target.gzip { gzip(&raw)? } else { raw };
    let (answer, retries) = post_with_retries(&target, body).await?;
    Ok((batch, answer, retries))
}

/// Posts one signed body until it is answered 202, retrying what a retry can fix.
async fn post_with_retries(target: &Target, body: Vec<u8>) -> Result<(Answer, u64)> {
    let mut backoff = Duration::from_millis(250);
    for attempt in 0..target.max_attempts {
        let wait = match post_once(target, &body).await {
            Ok(Attempt::Done(answer)) => return Ok((answer, u64::from(attempt))),
            Ok(Attempt::RetryAfter(wait)) => wait,
            Err(e) if is_transient(&e) => backoff,
            Err(e) => return Err(e),
        };
        tokio::time::sleep(wait.min(MAX_BACKOFF)).await;
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
    bail!("gave up after {} attempts", target.max_attempts)
}

enum Attempt {
    Done(Answer),
    RetryAfter(Duration),
}

async fn post_once(target: &Target, body: &[u8]) -> Result<Attempt> {
    let ts = chrono::Utc::now().timestamp();
    let signed = ward_api::signing::sign_request(
        &target.device_id,
        &target.secret,
        "POST",
        target.url.path(),
        body,
        ts,
    )?;
    let mut request = target.client.post(target.url.clone()).body(body.to_vec());
    for (name, value) in signed.pairs() {
        request = request.header(name, value);
    }
    if target.gzip {
        request = request.header("content-encoding", "gzip");
    }
    let response = request.header("content-type", "application/x-ndjson").send().await?;
    let status = response.status().as_u16();
    let retry_after = response
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
        .map(Duration::from_secs);
    let text = response.text().await?;
    match status {
        202 => Ok(Attempt::Done(serde_json::from_str(&text).context("reading the server's answer")?)),
        429 | 503 => Ok(Attempt::RetryAfter(retry_after.unwrap_or(Duration::from_secs(1)))),
        500..=599 => Ok(Attempt::RetryAfter(Duration::from_secs(1))),
        _ => bail!("server refused the batch: {status} {text}"),
    }
}

fn is_transient(e: &anyhow::Error) -> bool {
    e.downcast_ref::<reqwest::Error>().is_some_and(|e| e.is_connect() || e.is_timeout() || e.is_request())
}

/// Sends in-memory `records` of `kind` to `base_url` as signed, gzip'd batches of at most 500
/// records (used by `ward demo`); returns (accepted, rejected).
///
/// # Errors
/// As [`run`]: a refused request or one that still fails after every attempt.
pub(super) async fn send_records(
    base_url: &reqwest::Url,
    device_id: &str,
    secret: &SecretString,
    kind: SourceKind,
    records: &[&str],
) -> Result<(u64, u64)> {
    let target = Arc::new(Target {
        client: reqwest::Client::builder().timeout(Duration::from_secs(60)).build()?,
        url: base_url.join(&format!("ingest/{kind}")).context("building the ingest URL")?,
        device_id: device_id.to_owned(),
        secret: secret.clone(),
        gzip: true,
        framing: ward_api::ingest::items::http_framing(kind),
        max_attempts: 10,
    });
    let (mut accepted, mut rejected) = (0, 0);
    let origin: Arc<str> = Arc::from("demo");
    for chunk in records.chunks(500) {
        let mut batch = Batch::new();
        for (i, record) in chunk.iter().enumerate() {
            batch.push(record, &origin, i as u64 + 1);
        }
        let (_, answer, _) = send_batch(Arc::clone(&target), batch).await?;
        accepted += answer.accepted;
        rejected += answer.rejected;
    }
    Ok((accepted, rejected))
}

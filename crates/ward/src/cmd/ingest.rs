//! `ward ingest` (local): decode inputs into the data directory with a progress bar, then a
//! per-source summary. Events go to `events.ndjson`, rejections to the dead-letter file
//! `deadletter.ndjson`; both are flushed and fsync'd before the summary is printed.

use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use comfy_table::{Cell, CellAlignment, Table, presets::UTF8_FULL_CONDENSED};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use ward_decode::{Rejection, Sink, SourceKind, Summary, decode_inputs};
use ward_model::Event;

use crate::Outcome;
use crate::cli::IngestArgs;
use crate::config::Config;

/// Appends events and dead letters to files, and keeps the progress bar current.
struct FileSink {
    events: BufWriter<File>,
    deadletter: BufWriter<File>,
    bar: ProgressBar,
    decoded: u64,
    rejected: u64,
    error: Option<std::io::Error>,
}

impl FileSink {
    fn track(&mut self, r: std::io::Result<()>) {
        if let Err(e) = r {
            self.error.get_or_insert(e);
        }
    }

    fn tick(&mut self) {
        if (self.decoded + self.rejected).is_multiple_of(2048) {
            self.bar.set_message(format!("{} events, {} rejected", self.decoded, self.rejected));
        }
    }
}

impl Sink for FileSink {
    fn event(&mut self, event: Event) {
        self.decoded += 1;
        let r = serde_json::to_writer(&mut self.events, &event)
            .map_err(std::io::Error::from)
            .and_then(|()| self.events.write_all(b"\n"));
        self.track(r);
        self.tick();
    }

    fn reject(&mut self, rejection: Rejection) {
        self.rejected += 1;
        let r = serde_json::to_writer(&mut self.deadletter, &rejection)
            .map_err(std::io::Error::from)
            .and_then(|()| self.deadletter.write_all(b"\n"));
        self.track(r);
        self.tick();
    }

    fn detected(&mut self, path: &str, kind: Option<SourceKind>) {
        let line = match kind {
            Some(kind) => format!("{path}: detected {kind}"),
            None => format!("{path}: format not recognised (dead-lettered)"),
        };
        if self.bar.is_hidden() { eprintln!("{line}") } else { self.bar.println(line) }
    }

    fn progress(&mut self, bytes: u64) {
        self.bar.set_position(bytes);
    }
}

fn append(path: &Path) -> Result<BufWriter<File>> {
    let file = OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .with_context(|| format!("opening {}", path.display()))?;
    Ok(BufWriter::with_capacity(1 << 16, file))
}

fn finish(w: BufWriter<File>, name: &str) -> Result<()> {
    let file = w.into_inner().map_err(|e| e.into_error()).with_context(|| format!("writing {name}"))?;
    file.sync_all().with_context(|| format!("syncing {name}"))
}

/// Runs `ward ingest`.
///
/// # Errors
/// Fatal problems: unwritable data directory, unreadable input, bad options.
pub fn run(args: &IngestArgs, config: &Config, data_dir: &Path) -> Result<Outcome> {
    let opts = super::run_options(&args.input, config)?;
    std::fs::create_dir_all(data_dir).with_context(|| format!("creating {}", data_dir.display()))?;
    let bar = if args.no_progress { ProgressBar::hidden() } else { ProgressBar::new_spinner() };
    bar.set_draw_target(if args.no_progress {
        ProgressDrawTarget::hidden()
    } else {
        ProgressDrawTarget::stderr()
    });
    bar.set_style(ProgressStyle::with_template("{spinner} {elapsed} {msg}")?);
    bar.enable_steady_tick(Duration::from_millis(120));
    let mut sink = FileSink {
        events: append(&data_dir.join("events.ndjson"))?,
        deadletter: append(&data_dir.join("deadletter.ndjson"))?,
        bar,
        decoded: 0,
        rejected: 0,
        error: None,
    };
    let started = Instant::now();
    let summary = decode_inputs(&args.input.paths, &opts, &mut sink)?;
    sink.bar.finish_and_clear();
    if let Some(e) = sink.error.take() {
        return Err(anyhow::Error::new(e).context("writing to the data directory"));
    }
    finish(sink.events, "events.ndjson")?;
    finish(sink.deadletter, "deadletter.ndjson")?;
    println!("{}", summary_table(&summary, started.elapsed()));
    println!("events: {}", data_dir.join("events.ndjson").display());
    if summary.rejected() > 0 {
        println!("rejected records: {}", data_dir.join("deadletter.ndjson").display());
    }
    Ok(if summary.rejected() == 0 { Outcome::Success } else { Outcome::Partial })
}

fn rate(n: u64, secs: f64) -> String {
    if secs > 0.0 { format!("{:.0}", n as f64 / secs) } else { "-".into() }
}

/// The per-source summary: decoded, rejected, MB, events/s.
fn summary_table(summary: &Summary, wall: Duration) -> Table {
    let mut t = Table::new();
    t.load_style(UTF8_FULL_CONDENSED).set_header(["source", "decoded", "rejected", "MB", "events/s"]);
    for (kind, s) in &summary.per_source {
        t.add_row(vec![
            Cell::new(kind),
            Cell::new(s.decoded).set_alignment(CellAlignment::Right),
            Cell::new(s.rejected).set_alignment(CellAlignment::Right),
            Cell::new(format!("{:.2}", s.bytes as f64 / 1e6)).set_alignment(CellAlignment::Right),
            Cell::new(rate(s.decoded, s.elapsed.as_secs_f64())).set_alignment(CellAlignment::Right),
        ]);
    }
    if !summary.unrecognised.is_empty() {
        t.add_row(vec![
            Cell::new("(unrecognised files)"),
            Cell::new(0),
            Cell::new(summary.unrecognised.len()),
            Cell::new("-"),
            Cell::new("-"),
        ]);
    }
    t.add_row(vec![
        Cell::new("total"),
        Cell::new(summary.decoded()).set_alignment(CellAlignment::Right),
        Cell::new(summary.rejected()).set_alignment(CellAlignment::Right),
        Cell::new(format!("{:.2}", summary.per_source.values().map(|s| s.bytes).sum::<u64>() as f64 / 1e6))
            .set_alignment(CellAlignment::Right),
        Cell::new(rate(summary.decoded(), wall.as_secs_f64())).set_alignment(CellAlignment::Right),
    ]);
    t
}

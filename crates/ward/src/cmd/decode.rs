//! `ward decode`: events to stdout, rejections to stderr, summary last.

use std::io::{self, BufWriter, StderrLock, StdoutLock, Write};

use anyhow::Result;
use ward_decode::{Rejection, Sink, SourceKind, decode_inputs};
use ward_model::Event;

use crate::Outcome;
use crate::cli::DecodeArgs;
use crate::config::Config;

/// Writes events as JSON lines to stdout and rejections as JSON lines to stderr.
struct StdioSink {
    out: BufWriter<StdoutLock<'static>>,
    err: BufWriter<StderrLock<'static>>,
    pretty: bool,
    failed: Option<io::Error>,
}

impl StdioSink {
    fn write_event(&mut self, event: &Event) -> io::Result<()> {
        if self.pretty {
            serde_json::to_writer_pretty(&mut self.out, event)?;
        } else {
            serde_json::to_writer(&mut self.out, event)?;
        }
        self.out.write_all(b"\n")
    }

    fn note(&mut self, line: &serde_json::Value) {
        let r = serde_json::to_writer(&mut self.err, line)
            .map_err(io::Error::from)
            .and_then(|()| self.err.write_all(b"\n"));
        self.keep_error(r);
    }

    fn keep_error(&mut self, r: io::Result<()>) {
        if let Err(e) = r {
            self.failed.get_or_insert(e);
        }
    }
}

impl Sink for StdioSink {
    fn event(&mut self, event: Event) {
        if self.failed.is_none() {
            let r = self.write_event(&event);
            self.keep_error(r);
        }
    }

    fn reject(&mut self, r: Rejection) {
        self.note(&serde_json::json!({
            "path": r.path, "line": r.line, "offset": r.offset, "reason": r.reason, "source": r.source,
        }));
    }

    fn detected(&mut self, path: &str, kind: Option<SourceKind>) {
        self.note(&serde_json::json!({ "path": path, "detected": kind.map(SourceKind::as_str) }));
    }
}

/// Runs `ward decode`.
///
/// # Errors
/// Fatal problems (unreadable path, unknown source, bad mapping, closed stdout).
pub fn run(args: &DecodeArgs, config: &Config) -> Result<Outcome> {
    let opts = super::run_options(&args.input, config)?;
    let mut sink = StdioSink {
        out: BufWriter::with_capacity(1 << 16, io::stdout().lock()),
        err: BufWriter::new(io::stderr().lock()),
        pretty: args.pretty,
        failed: None,
    };
    let summary = decode_inputs(&args.input.paths, &opts, &mut sink)?;
    sink.out.flush()?;
    if let Some(e) = sink.failed.take() {
        return Err(anyhow::Error::new(e).context("writing output"));
    }
    let (decoded, rejected) = (summary.decoded(), summary.rejected());
    writeln!(sink.err, "decoded={decoded} rejected={rejected}")?;
    sink.err.flush()?;
    Ok(if rejected == 0 { Outcome::Success } else { Outcome::Partial })
}

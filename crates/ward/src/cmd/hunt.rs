//! `ward hunt`: decode inputs, run Sigma rules, correlations and IOC feeds, print the alerts;
//! rejections go to stderr and the summary line comes last.

use std::io::{self, BufWriter, StderrLock, Write};
use std::path::PathBuf;
use std::time::Instant;

use anyhow::Result;
use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Value, json};
use ward_decode::{Rejection, Sink, SourceKind, decode_inputs};
use ward_ioc::{FeedSource, IndicatorSet, Match, MatchFields, confidence_label, load_sources};
use ward_model::Event;
use ward_rules::AlertId;
use ward_rules::correlate::CorrelationAlert;

use self::output::AlertWriter;
use super::rules::Detection;
use crate::Outcome;
use crate::cli::HuntArgs;
use crate::config::Config;

mod output;

/// Runs `ward hunt`.
///
/// # Errors
/// Fatal problems: unreadable inputs or feeds, unknown source, bad pipeline, closed stdout.
pub fn run(args: &HuntArgs, config: &Config) -> Result<Outcome> {
    let started = Instant::now();
    let opts = super::run_options(&args.input, config)?;
    let mut detection = Detection::load(&args.rules, &args.pipelines)?;
    let mut err = BufWriter::new(io::stderr().lock());
    for p in &detection.problems {
        note(&mut err, &p.json())?;
    }
    let (iocs, ioc_rejected) = load_iocs(&args.iocs, &mut err)?;
    let mut sink = HuntSink::new(&mut detection, iocs.as_ref(), AlertWriter::new(args.format), err);
    let summary = decode_inputs(&args.input.paths, &opts, &mut sink)?;
    sink.correlate();
    let (alerts, mut err) = sink.finish()?;
    let (events, rejected) = (summary.decoded(), summary.rejected());
    let (loaded, rules_rejected) = (detection.loaded(), detection.problems.len());
    let elapsed_ms = started.elapsed().as_millis();
    writeln!(
        err,
        "events={events} alerts={alerts} rules_loaded={loaded} rules_rejected={rules_rejected} elapsed_ms={elapsed_ms}"
    )?;
    err.flush()?;
    let clean = rejected == 0 && rules_rejected == 0 && ioc_rejected == 0;
    Ok(if clean { Outcome::Success } else { Outcome::Partial })
}

/// Writes one JSON line to stderr.
fn note(err: &mut impl Write, line: &Value) -> io::Result<()> {
    serde_json::to_writer(&mut *err, line)?;
    err.write_all(b"\n")
}

/// Loads the indicator feeds (none: no set); prints each refused entry; returns how many.
fn load_iocs(paths: &[PathBuf], err: &mut impl Write) -> Result<(Option<IndicatorSet>, usize)> {
    if paths.is_empty() {
        return Ok((None, 0));
    }
    let sources: Vec<FeedSource> = paths.iter().map(|p| FeedSource::from(p.as_path())).collect();
    let (set, report) = load_sources(&sources, MatchFields::default())?;
    for r in report.files.iter().flat_map(|f| &f.rejected) {
        let line =
            json!({ "ioc_file": r.path, "location": r.location.to_string(), "reason": r.reason.to_string() });
        note(err, &line)?;
    }
    Ok((Some(set), report.rejected()))
}

/// The time format of every alert.
fn stamp(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

/// An indicator match as an alert: rule `ioc:<feed>`, level from the feed's confidence.
fn ioc_alert(m: &Match<'_>, event: &Event) -> Value {
    let ind = m.indicator;
    let rule_id = format!("ioc:{}", ind.feed());
    let value = ind.value().to_string();
    let id = AlertId::of(&format!("{rule_id}\0{value}"), &[event.id()]);
    let level = match confidence_label(ind.confidence()) {
        "None" => "informational",
        "Low" => "low",
        "Medium" => "medium",
        _ => "high",
    };
    json!({
        "id": id.to_string(),
        "rule_id": rule_id,
        "rule_title": format!("indicator {value} from feed {}", ind.feed()),
        "level": level,
        "timestamp": stamp(event.timestamp()),
        "event_ids": [event.id().to_string()],
        "tags": ind.tags(),
        "matched": [{ "field": m.field, "path": m.field, "value": m.value }],
        "ioc": m.enrichment(),
    })
}

/// A correlation alert, with its rule's tags added.
fn correlation_alert(alert: &CorrelationAlert) -> Value {
    let mut value = serde_json::to_value(alert).unwrap_or(Value::Null);
    if let Value::Object(map) = &mut value {
        map.insert("tags".into(), json!(alert.rule.tags));
    }
    value
}

/// Matches every decoded event and writes alerts as they come; keeps the events that
/// correlations need, to feed them in event-time order at the end.
struct HuntSink<'a> {
    detection: &'a mut Detection,
    iocs: Option<&'a IndicatorSet>,
    out: AlertWriter,
    err: BufWriter<StderrLock<'static>>,
    correlated: Vec<(Event, Vec<String>)>,
    base: Vec<ward_rules::Alert>,
    failed: Option<io::Error>,
}

impl<'a> HuntSink<'a> {
    fn new(
        detection: &'a mut Detection,
        iocs: Option<&'a IndicatorSet>,
        out: AlertWriter,
        err: BufWriter<StderrLock<'static>>,
    ) -> Self {
        Self { detection, iocs, out, err, correlated: Vec::new(), base: Vec::new(), failed: None }
    }

    fn emit(&mut self, alert: &Value) {
        if self.failed.is_none() {
            let r = self.out.write(alert);
            self.keep_error(r);
        }
    }

    fn keep_error(&mut self, r: io::Result<()>) {
        if let Err(e) = r {
            self.failed.get_or_insert(e);
        }
    }

    /// Runs the rules on one event; returns the ids of matched rules a correlation wants.
    fn detect(&mut self, event: &Event) -> Vec<String> {
        let mut base = std::mem::take(&mut self.base);
        base.clear();
        self.detection.engine.matches(event, &mut base);
        let mut wanted = Vec::new();
        for alert in &base {
            let correlator = &self.detection.correlator;
            if correlator.wants(&alert.rule.id) {
                wanted.push(alert.rule.id.clone());
            }
            if correlator.standalone(&alert.rule.id) {
                let value = serde_json::to_value(alert).unwrap_or(Value::Null);
                self.emit(&value);
            }
        }
        self.base = base;
        wanted
    }

    fn match_iocs(&mut self, event: &Event) {
        let Some(iocs) = self.iocs else { return };
        for m in iocs.matches_event(event) {
            self.emit(&ioc_alert(&m, event));
        }
    }

    /// Feeds the kept matches to a fresh correlator in event-time order and flushes it.
    fn correlate(&mut self) {
        if self.detection.correlator.is_empty() {
            return;
        }
        let correlator = &mut self.detection.correlator;
        let mut kept = std::mem::take(&mut self.correlated);
        kept.sort_by_key(|(event, _)| event.timestamp());
        let mut fired = Vec::new();
        for (event, rules) in &kept {
            for rule in rules {
                correlator.observe(rule, event, &mut fired);
            }
        }
        correlator.flush(&mut fired);
        for alert in &fired {
            self.emit(&correlation_alert(alert));
        }
    }

    /// Finishes the output; the alert count and stderr back.
    fn finish(self) -> Result<(u64, BufWriter<StderrLock<'static>>)> {
        if let Some(e) = self.failed {
            return Err(anyhow::Error::new(e).context("writing alerts"));
        }
        let alerts = self.out.finish()?;
        Ok((alerts, self.err))
    }
}

impl Sink for HuntSink<'_> {
    fn event(&mut self, event: Event) {
        let wanted = self.detect(&event);
        self.match_iocs(&event);
        if !wanted.is_empty() {
            self.correlated.push((event, wanted));
        }
    }

    fn reject(&mut self, r: Rejection) {
        let line = json!({ "path": r.path, "line": r.line, "offset": r.offset, "reason": r.reason, "source": r.source });
        let res = note(&mut self.err, &line);
        self.keep_error(res);
    }

    fn detected(&mut self, path: &str, kind: Option<SourceKind>) {
        let res = note(&mut self.err, &json!({ "path": path, "detected": kind.map(SourceKind::as_str) }));
        self.keep_error(res);
    }
}

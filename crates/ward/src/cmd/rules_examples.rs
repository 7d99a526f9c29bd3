//! The example events a rule carries: `examples/<rule-file-stem>/{positive,negative}.<source>.<ext>`
//! next to the rule file, raw records in the sensor's format, `<source>` naming the decoder.
//! A detection rule must fire on every positive event and on no negative one; a correlation
//! rule must fire on the positive sequence and not on the negative one.

use std::path::{Path, PathBuf};

use chrono::Utc;
use ward_decode::run::decode_paths_collect;
use ward_decode::{DecodeContext, SourceKind};
use ward_model::{Event, TenantId};
use ward_rules::correlate::{Correlator, CorrelatorConfig};
use ward_rules::{Engine, RuleSet, Scratch};

/// One example file's verdict.
pub struct ExampleCase {
    /// Rule id (or title).
    pub rule: String,
    /// The example file.
    pub file: PathBuf,
    /// `Ok` when the rule behaved, else what went wrong.
    pub outcome: Result<(), String>,
}

/// Finds and runs the examples of every rule and correlation in `set`.
pub fn run(set: &RuleSet, engine: &Engine) -> Vec<ExampleCase> {
    let rules = set.rules().iter().map(|r| (id_of(&r.meta.id, &r.meta.title), r.source.file.clone(), false));
    let correlations =
        set.correlations().iter().map(|c| (id_of(&c.meta.id, &c.meta.title), c.source.file.clone(), true));
    let mut cases = Vec::new();
    for (rule, file, correlation) in rules.chain(correlations) {
        for (example, positive) in example_files(Path::new(&*file)) {
            let outcome = check(set, engine, &rule, &example, positive, correlation);
            cases.push(ExampleCase { rule: rule.clone(), file: example, outcome });
        }
    }
    cases
}

fn id_of(id: &Option<String>, title: &str) -> String {
    id.clone().unwrap_or_else(|| title.to_owned())
}

/// `(file, positive?)` for each example next to `rule_file`.
fn example_files(rule_file: &Path) -> Vec<(PathBuf, bool)> {
    let (Some(dir), Some(stem)) = (rule_file.parent(), rule_file.file_stem()) else { return Vec::new() };
    let Ok(entries) = std::fs::read_dir(dir.join("examples").join(stem)) else { return Vec::new() };
    let mut files: Vec<(PathBuf, bool)> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter_map(|p| {
            let name = p.file_name()?.to_str()?.to_owned();
            let positive = name.starts_with("positive.");
            (positive || name.starts_with("negative.")).then_some((p, positive))
        })
        .collect();
    files.sort();
    files
}

fn check(
    set: &RuleSet,
    engine: &Engine,
    rule: &str,
    file: &Path,
    positive: bool,
    correlation: bool,
) -> Result<(), String> {
    let events = decode(file)?;
    if correlation {
        let fired = correlation_fires(set, engine, rule, &events)?;
        return match (positive, fired) {
            (true, false) => Err("the correlation did not fire on the positive sequence".into()),
            (false, true) => Err("the correlation fired on the negative sequence".into()),
            _ => Ok(()),
        };
    }
    let (mut scratch, mut alerts) = (Scratch::default(), Vec::new());
    for (i, event) in events.iter().enumerate() {
        alerts.clear();
        engine.matches_with(event, &mut scratch, &mut alerts);
        let fired = alerts.iter().any(|a| a.rule.id == rule);
        if fired != positive {
            let verb = if positive { "did not fire on" } else { "fired on" };
            return Err(format!("{verb} event {} of {}", i + 1, events.len()));
        }
    }
    Ok(())
}

fn correlation_fires(set: &RuleSet, engine: &Engine, rule: &str, events: &[Event]) -> Result<bool, String> {
    let (mut correlator, _) =
        Correlator::new(set, &CorrelatorConfig::default()).map_err(|e| e.to_string())?;
    let (mut scratch, mut alerts, mut out) = (Scratch::default(), Vec::new(), Vec::new());
    for event in events {
        alerts.clear();
        engine.matches_with(event, &mut scratch, &mut alerts);
        for alert in &alerts {
            correlator.observe_alert(alert, event, &mut out);
        }
    }
    correlator.flush(&mut out);
    Ok(out.iter().any(|a| a.rule.id == rule))
}

/// Decodes an example with the decoder its name says (`positive.cowrie.jsonl`).
fn decode(file: &Path) -> Result<Vec<Event>, String> {
    let name = file.file_name().and_then(|n| n.to_str()).unwrap_or_default();
    let source = name.split('.').nth(1).unwrap_or_default();
    let kind: SourceKind = source.parse().map_err(|e| format!("{e}"))?;
    let ctx = DecodeContext::new(TenantId::default(), Utc::now());
    let (collected, _) = decode_paths_collect(kind, &[file], ctx).map_err(|e| e.to_string())?;
    if let Some(r) = collected.rejections.first() {
        return Err(format!("line {}: {}", r.line, r.reason));
    }
    if collected.events.is_empty() {
        return Err("no events in the example file".into());
    }
    Ok(collected.events)
}

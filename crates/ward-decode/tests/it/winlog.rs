//! Tests of the winlog decoder: every evtx_dump JSON record of the SigmaHQ regression set and
//! every Windows entry of the OTRF Security-Datasets decodes; non-Windows entries are refused;
//! the same event in each JSON form maps to the same fields; bad records get precise reasons.

use std::path::Path;

use proptest::prelude::*;
use serde_json::json;
use ward_decode::input::for_each_stream;
use ward_decode::run::{Collect, RunOptions, decode_bytes};
use ward_decode::{DecodeError, SourceKind};
use ward_model::FieldValue;

use crate::common::{as_json, ctx, decode, decode_paths, fixture};
use crate::evtx::{Rendering, event_data, files, micros, regression_dir, rendering};

/// Whether an OTRF dataset (a path from `index.csv`) holds Windows events: the Windows host
/// datasets, and the Log4Shell Windows Security and Sysmon exports. The others are Linux
/// auditd logs, Linux syslog (auditd, Sysmon for Linux), Azure VM connection records, AWS
/// CloudTrail and S3 logs, and packet captures.
fn is_windows_dataset(file: &str) -> bool {
    (file.starts_with("atomic/windows/") && file.contains("/host/"))
        || file.starts_with("compound/Log4Shell/securityauditing_")
        || file.starts_with("compound/Log4Shell/sysmon_")
}

/// Whether a zip entry holds events (macOS resource forks under `__MACOSX/` do not).
fn is_event_entry(entry: &str) -> bool {
    entry.ends_with(".json") && !entry.contains(":__MACOSX/")
}

/// Each OTRF zip listed in `index.csv`, with whether it is a Windows dataset.
fn otrf_zips(dir: &Path) -> Vec<(String, bool)> {
    let index = std::fs::read_to_string(dir.join("index.csv")).expect("index.csv");
    index
        .lines()
        .skip(1)
        .filter_map(|l| l.split(',').next())
        .filter(|f| !f.is_empty())
        .map(|f| (f.to_owned(), is_windows_dataset(f)))
        .collect()
}

/// Decodes every entry of a zip that `select` picks, one entry at a time; returns, per entry,
/// its name, its number of non-blank lines and what the winlog decoder made of it.
fn decode_zip_entries(zip: &Path, select: impl Fn(&str) -> bool) -> Vec<(String, usize, Collect)> {
    let decoder = SourceKind::Winlog.build(None).expect("decoder builds");
    let opts = RunOptions::fixed(SourceKind::Winlog, ctx());
    let mut out = Vec::new();
    for_each_stream::<ward_decode::input::InputError>(zip, &mut |name, reader| {
        if select(name) {
            let mut bytes = Vec::new();
            reader.read_to_end(&mut bytes).expect("readable entry");
            let lines = bytes.split(|b| *b == b'\n').filter(|l| !l.trim_ascii().is_empty()).count();
            let mut sink = Collect::default();
            decode_bytes(decoder.as_ref(), name, &bytes, &opts, &mut sink);
            out.push((name.to_owned(), lines, sink));
        }
        Ok(())
    })
    .expect("zip readable");
    out
}

#[test]
fn every_regression_json_record_decodes() {
    let Some(dir) = regression_dir() else { return };
    let (c, _) = decode_paths(SourceKind::Winlog, std::slice::from_ref(&dir));
    assert!(c.rejections.is_empty(), "rejected: {:#?}", &c.rejections[..c.rejections.len().min(5)]);
    assert!(c.events.len() >= files(&dir, "json").len());
    for ev in &c.events {
        assert_eq!(ev.source(), "winlog");
        assert!(ev.get("winlog.record_id").is_some() && ev.str("event.code").is_some(), "{}", ev.original());
        assert!(!event_data(ev).is_empty(), "no EventData: {}", ev.original());
    }
    eprintln!("evtx_dump JSON regression corpus: {} events, 0 rejected", c.events.len());
}

#[test]
fn every_windows_otrf_entry_decodes_without_rejections() {
    let Some(dir) = ward_testkit::shared("windows/otrf_security_datasets") else { return };
    let (mut events, mut entries) = (0, 0);
    for (file, _) in otrf_zips(&dir).into_iter().filter(|(_, windows)| *windows) {
        for (name, lines, c) in decode_zip_entries(&dir.join(&file), is_event_entry) {
            assert!(c.rejections.is_empty(), "{name}: {:#?}", &c.rejections[..c.rejections.len().min(3)]);
            assert_eq!(c.events.len(), lines, "{name}: one event per line");
            for ev in &c.events {
                assert!(
                    ev.str("winlog.channel").is_some() && ev.str("host.name").is_some(),
                    "{}",
                    ev.original()
                );
                assert!(!event_data(ev).is_empty() || ev.str("message").is_some(), "{}", ev.original());
            }
            events += c.events.len();
            entries += 1;
        }
    }
    assert!(entries >= 30 && events > 34_000, "{entries} entries, {events} events");
    eprintln!("OTRF Windows entries: {entries} entries, {events} events, 0 rejected");
}

/// The JSON entries of the non-Windows datasets are not Windows events: the decoder must
/// refuse every record of them, with a reason, rather than invent events.
#[test]
fn non_windows_otrf_json_is_refused_record_by_record() {
    let Some(dir) = ward_testkit::shared("windows/otrf_security_datasets") else { return };
    let mut refused = Vec::new();
    for (file, _) in otrf_zips(&dir).into_iter().filter(|(_, windows)| !*windows) {
        for (name, lines, c) in decode_zip_entries(&dir.join(&file), |n| n.ends_with(".json")) {
            assert!(c.events.is_empty(), "{name} decoded as Windows: {}", c.events[0].original());
            assert_eq!(c.rejections.len(), lines, "{name}");
            assert!(
                c.rejections
                    .iter()
                    .all(|r| r.reason.contains("EventID") || r.reason.contains("not a Windows event"))
            );
            refused.push((name.rsplit('/').next().unwrap_or_default().to_owned(), lines));
        }
    }
    assert_eq!(refused.len(), 4, "{refused:?}");
    eprintln!("OTRF non-Windows JSON entries refused: {refused:?}");
}

#[test]
fn known_otrf_records_have_their_fields() {
    let Some(dir) = ward_testkit::shared("windows/otrf_security_datasets") else { return };
    let zip = dir.join("atomic/windows/credential_access/host/cmd_lsass_memory_dumpert_syscalls.zip");
    let (_, _, c) = decode_zip_entries(&zip, is_event_entry).remove(0);
    let dumpert = "C:\\Users\\wardog\\Desktop\\Outflank-Dumpert.exe";
    let created = c
        .events
        .iter()
        .find(|e| e.str("event.code") == Some("1") && e.str("process.executable") == Some(dumpert));
    let ev = created.expect("Sysmon 1 of Outflank-Dumpert.exe");
    assert_eq!(ev.lookup("CommandLine").and_then(FieldValue::as_str), Some("Outflank-Dumpert.exe"));
    assert_eq!(ev.lookup("ProcessId").and_then(FieldValue::as_str), Some("6772"), "text stays text");
    assert_eq!(ev.get("process.pid"), Some(&FieldValue::Int(6772)));
    assert_eq!(ev.str("process.parent.name"), Some("cmd.exe"));
    assert_eq!((ev.str("user.domain"), ev.str("user.name")), (Some("WORKSTATION5"), Some("wardog")));
    assert_eq!(ev.timestamp().to_rfc3339(), "2020-10-18T10:56:14.285+00:00");
    let access = c.events.iter().find(|e| {
        e.str("event.code") == Some("10")
            && e.lookup("TargetImage").and_then(FieldValue::as_str)
                == Some("C:\\windows\\system32\\lsass.exe")
    });
    let ev = access.expect("Sysmon 10 on lsass");
    assert_eq!(ev.str("process.executable"), Some(dumpert));
    assert_eq!(ev.lookup("GrantedAccess").and_then(FieldValue::as_str), Some("0x1fffff"));
    assert_eq!(ev.str("event.action"), Some("process-accessed"));
}

#[test]
fn evtx_dump_fixture_decodes_like_the_evtx_fixture() {
    let json = decode(
        SourceKind::Winlog,
        &std::fs::read(fixture("winlog/evtx_dump_findstr_recon_everyone.json")).unwrap(),
    );
    let evtx =
        decode(SourceKind::Evtx, &std::fs::read(fixture("evtx/sysmon_findstr_recon_everyone.evtx")).unwrap());
    assert!(json.rejections.is_empty() && evtx.rejections.is_empty());
    assert_eq!(json.events.len(), 3);
    for (dumped, native) in json.events.iter().zip(&evtx.events) {
        assert_eq!(micros(dumped), micros(native));
        let paths: std::collections::BTreeSet<&str> =
            dumped.fields().iter().chain(native.fields().iter()).map(|(k, _)| k).collect();
        for path in paths.into_iter().filter(|p| !p.starts_with("ward.") && *p != "event.original") {
            let how = rendering(native.get(path), dumped.get(path));
            assert!(how.is_some(), "{path}: {:?} vs {:?}", native.get(path), dumped.get(path));
            if path.starts_with("winlog.event_data.") && how != Some(Rendering::Same) {
                assert!(path.ends_with("Guid") || path.ends_with("CommandLine"), "{path} {how:?}");
            }
        }
    }
    insta::assert_json_snapshot!("evtx_dump_findstr_recon_everyone", as_json(&json));
}

#[test]
fn otrf_excerpt_snapshot() {
    let c = decode(SourceKind::Winlog, &std::fs::read(fixture("winlog/otrf_excerpt.jsonl")).unwrap());
    assert!(c.rejections.is_empty(), "{:?}", c.rejections);
    assert_eq!(c.events.len(), 10);
    let codes: Vec<_> = c.events.iter().map(|e| e.str("event.code").unwrap().to_owned()).collect();
    assert_eq!(codes, ["1", "4624", "13", "4103", "10", "1102", "3", "4688", "5156", "1"]);
    let logon = &c.events[1];
    assert_eq!(logon.get("winlog.logon.type"), Some(&FieldValue::from("Network")));
    assert_eq!(logon.str("event.outcome"), Some("success"));
    let registry = &c.events[2];
    assert_eq!(registry.str("winlog.collector.EventTypeOrignal"), Some("INFO"));
    let sentinel = &c.events[7];
    assert!(sentinel.lookup("CommandLine").is_some() && sentinel.str("process.executable").is_some());
    let xml = &c.events[8];
    assert_eq!(
        xml.lookup("DestPort").and_then(FieldValue::as_str),
        Some("8080"),
        "EventData read from XML text"
    );
    insta::assert_json_snapshot!("otrf_excerpt", as_json(&c));
}

#[test]
fn winlogbeat_fixture_snapshot() {
    let c = decode(SourceKind::Winlog, &std::fs::read(fixture("winlog/winlogbeat.ndjson")).unwrap());
    assert!(c.rejections.is_empty(), "{:?}", c.rejections);
    assert_eq!(c.events.len(), 3);
    let sysmon = &c.events[0];
    assert_eq!(
        sysmon.get("winlog.event_id"),
        Some(&FieldValue::Int(1)),
        "Winlogbeat 8 keyword becomes a number"
    );
    assert_eq!(sysmon.get("winlog.record_id"), Some(&FieldValue::Int(20)));
    assert_eq!(sysmon.str("winlog.user.name"), Some("SYSTEM"));
    assert_eq!(
        sysmon.get("host.ip"),
        Some(&FieldValue::List(vec![
            FieldValue::Ip("fe80::6d8b:f0a8:7b1b:b4d3".parse().unwrap()),
            FieldValue::Ip("10.0.2.15".parse().unwrap()),
        ]))
    );
    assert_eq!(sysmon.str("process.parent.executable"), Some("C:\\Windows\\explorer.exe"));
    let logon = &c.events[1];
    assert_eq!(logon.get("source.ip"), Some(&FieldValue::Ip("10.0.5.42".parse().unwrap())));
    assert_eq!(
        logon.lookup("LogonProcessName").and_then(FieldValue::as_str),
        Some("NtLmSsp "),
        "values kept as they are"
    );
    let cleared = &c.events[2];
    assert_eq!(cleared.str("user.name"), Some("Administrator"));
    assert_eq!(cleared.str("winlog.user_data.xml_name"), Some("LogFileCleared"));
    insta::assert_json_snapshot!("winlogbeat", as_json(&c));
}

/// One Security 4688 in each of the four JSON forms.
fn process_creation_in_every_form() -> Vec<serde_json::Value> {
    let data = json!({"SubjectUserSid":"S-1-5-18","SubjectUserName":"WS5$","SubjectDomainName":"CORP",
        "SubjectLogonId":"0x3e7","NewProcessId":"0x1a74","NewProcessName":"C:\\Windows\\System32\\cmd.exe",
        "TokenElevationType":"%%1936","ProcessId":"0x2f0","CommandLine":"cmd.exe /c whoami",
        "ParentProcessName":"C:\\Windows\\explorer.exe"});
    let time = "2024-03-01T10:00:00.123Z";
    let mut flat = json!({"EventID":4688,"Channel":"Security","SourceName":"Microsoft-Windows-Security-Auditing",
        "Hostname":"ws5.corp.example","RecordNumber":77,"Keywords":"0x8020000000000000","@timestamp":time,
        "SourceModuleType":"im_msvistalog","port":53997,"host":"wec.corp.example"});
    let fields = data.as_object().expect("an object");
    flat.as_object_mut().expect("an object").extend(fields.clone());
    let xml: String = fields
        .iter()
        .map(|(k, v)| {
            format!("<Data Name=\"{k}\">{}</Data>", v.as_str().expect("text").replace('&', "&amp;"))
        })
        .collect();
    vec![
        json!({"Event":{"System":{"Provider":{"#attributes":{"Name":"Microsoft-Windows-Security-Auditing"}},
            "EventID":4688,"Keywords":"0x8020000000000000","TimeCreated":{"#attributes":{"SystemTime":time}},
            "EventRecordID":77,"Channel":"Security","Computer":"ws5.corp.example"},"EventData":data}}),
        json!({"@timestamp":time,"host":{"name":"ws5","ip":["10.1.2.3"]},"winlog":{"api":"wineventlog","event_id":"4688","channel":"Security","record_id":"77",
            "provider_name":"Microsoft-Windows-Security-Auditing","computer_name":"ws5.corp.example",
            "keywords":["Audit Success"],"event_data":data}}),
        flat,
        json!({"Type":"SecurityEvent","TimeGenerated":time,"EventID":4688,"Channel":"Security","EventRecordId":77,
            "EventSourceName":"Microsoft-Windows-Security-Auditing","Computer":"ws5.corp.example","Keywords":"0x8020000000000000",
            "Account":"CORP\\WS5$","EventData":format!("<EventData xmlns=\"http://schemas.microsoft.com/win/2004/08/events/event\">{xml}</EventData>")}),
    ]
}

#[test]
fn one_event_in_every_json_form_maps_to_the_same_fields() {
    let input: String = process_creation_in_every_form().iter().map(|v| format!("{v}\n")).collect();
    let c = decode(SourceKind::Winlog, input.as_bytes());
    assert!(c.rejections.is_empty(), "{:?}", c.rejections);
    assert_eq!(c.events.len(), 4);
    let shared = [
        "event.action",
        "event.category",
        "event.code",
        "event.dataset",
        "event.kind",
        "event.outcome",
        "event.provider",
        "event.type",
        "host.name",
        "process.command_line",
        "process.executable",
        "process.name",
        "process.parent.executable",
        "process.parent.name",
        "process.parent.pid",
        "process.pid",
        "related.user",
        "user.domain",
        "user.id",
        "user.name",
        "winlog.channel",
        "winlog.computer_name",
        "winlog.event_id",
        "winlog.provider_name",
        "winlog.record_id",
    ];
    let first = &c.events[0];
    assert_eq!(first.get("process.pid"), Some(&FieldValue::Int(0x1a74)));
    assert_eq!(first.str("process.name"), Some("cmd.exe"));
    assert_eq!(first.str("event.outcome"), Some("success"));
    for ev in &c.events[1..] {
        assert_eq!(ev.timestamp(), first.timestamp(), "{}", ev.original());
        assert_eq!(event_data(ev), event_data(first), "{}", ev.original());
        for path in shared {
            assert_eq!(ev.get(path), first.get(path), "{path} of {}", ev.original());
        }
    }
    assert_eq!(c.events[2].str("winlog.collector.SourceModuleType"), Some("im_msvistalog"));
    assert_eq!(c.events[3].str("winlog.collector.Account"), Some("CORP\\WS5$"));
    assert!(c.events[3].lookup("Account").is_none(), "a derived column is not EventData");
}

#[test]
fn event_data_in_all_its_evtx_dump_shapes_is_addressable() {
    let record = json!({"Event":{"System":{"Provider":{"#attributes":{"Name":"Service Control Manager"}},
        "EventID":{"#text":7045,"#attributes":{"Qualifiers":16384}},"TimeCreated":{"#attributes":{"SystemTime":"2024-01-02T03:04:05Z"}},
        "Channel":"System","Computer":"h"},
        "EventData":{"Data":[{"#attributes":{"Name":"ServiceName"},"#text":"evil"},{"#attributes":{"Name":"ImagePath"},"#text":"C:\\e.exe"},
            "unnamed",{"#text":["a","b"]},{"#attributes":{"Name":"Empty"}},{"#attributes":{"Name":"Dotted.Name"},"#text":"x"},
            {"#attributes":{"Name":"Number"},"#text":42}],"Binary":"0A0B"}}});
    let c = decode(SourceKind::Winlog, record.to_string().as_bytes());
    assert!(c.rejections.is_empty(), "{:?}", c.rejections);
    let ev = &c.events[0];
    assert_eq!(ev.get("winlog.event_id"), Some(&FieldValue::Int(7045)));
    for (name, want) in [
        ("ServiceName", "evil"),
        ("ImagePath", "C:\\e.exe"),
        ("param1", "unnamed"),
        ("param2", "a"),
        ("param3", "b"),
        ("Dotted_Name", "x"),
        ("Binary", "0A0B"),
    ] {
        assert_eq!(ev.lookup(name).and_then(FieldValue::as_str), Some(want), "{name}");
    }
    assert_eq!(ev.lookup("Number"), Some(&FieldValue::Int(42)));
    assert!(ev.lookup("Empty").is_none(), "an element without text carries nothing");
    assert_eq!(ev.str("service.name"), Some("evil"));
    assert_eq!(ev.str("event.action"), Some("service-installed"));
}

#[test]
fn bad_records_are_rejected_with_precise_reasons() {
    let cases: &[(&str, &str)] = &[
        ("{\"EventID\": 4688", "invalid JSON"),
        ("\"text\"", "unexpected shape: expected a JSON object, found a string"),
        ("{\"eventID\": \"x\", \"awsRegion\": \"us-east-1\"}", "not a Windows event"),
        ("{\"Event\": []}", "invalid field `Event`: expected an object, found an array"),
        ("{\"Event\": {\"EventData\": {}}}", "missing field `Event.System`"),
        (
            "{\"Event\": {\"System\": {\"EventID\": 1}}}",
            "missing field `Event.System.TimeCreated.#attributes.SystemTime`",
        ),
        (
            "{\"Event\": {\"System\": {\"EventID\": \"one\", \"TimeCreated\": {\"#attributes\": {\"SystemTime\": \"2024-01-01T00:00:00Z\"}}}}}",
            "invalid field `Event.System.EventID`: `one` is not a number",
        ),
        (
            "{\"winlog\": {\"channel\": \"Security\"}, \"@timestamp\": \"2024-01-01T00:00:00Z\"}",
            "missing field `winlog.event_id`",
        ),
        ("{\"winlog\": {\"event_id\": 4624}}", "missing field `@timestamp`"),
        (
            "{\"EventID\": 4624, \"Channel\": \"Security\"}",
            "missing field `@timestamp/TimeCreated/EventTime`",
        ),
        (
            "{\"EventID\": 4624, \"Channel\": \"Security\", \"TimeCreated\": \"yesterday\"}",
            "invalid field `TimeCreated`: `yesterday` is not a timestamp",
        ),
        (
            "{\"EventID\": 70000000000, \"Channel\": \"Security\", \"@timestamp\": \"2024-01-01T00:00:00Z\"}",
            "is not a Windows event identifier",
        ),
        ("{\"EventID\": 4624, \"@timestamp\": \"2024-01-01T00:00:00Z\"}", "missing field `Channel`"),
        (
            "{\"Type\": \"SecurityEvent\", \"TimeGenerated\": \"2024-01-01T00:00:00Z\", \"EventID\": 4688, \"EventData\": \"<EventData><Data Name=\\\"a\\\">x</EventData>\"}",
            "invalid field `EventData`: malformed XML at byte",
        ),
        (
            "{\"Type\": \"WindowsEvent\", \"TimeGenerated\": \"2024-01-01T00:00:00Z\", \"EventID\": 1, \"EventData\": \"{\\\"a\\\": \"}",
            "invalid field `EventData`: neither XML nor JSON",
        ),
    ];
    for (record, want) in cases {
        let c = decode(SourceKind::Winlog, record.as_bytes());
        assert!(c.events.is_empty(), "{record}");
        assert_eq!(c.rejections.len(), 1, "{record}");
        assert!(c.rejections[0].reason.contains(want), "{record}: {}", c.rejections[0].reason);
    }
}

#[test]
fn the_decoder_refuses_what_the_evtx_decoder_would_not_render() {
    let decoder = SourceKind::Evtx.build(None).unwrap();
    let mut out = Vec::new();
    let err = decoder.decode(
        "{\"EventID\": 1, \"Channel\": \"x\", \"@timestamp\": \"2024-01-01T00:00:00Z\"}",
        &ctx(),
        &mut out,
    );
    assert_eq!(err, Err(DecodeError::missing("Event")));
}

fn json_leaf() -> impl Strategy<Value = serde_json::Value> {
    prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::from),
        any::<i64>().prop_map(serde_json::Value::from),
        any::<f64>().prop_filter("finite", |f| f.is_finite()).prop_map(serde_json::Value::from),
        ".{0,12}".prop_map(serde_json::Value::from),
    ]
}

fn json_value() -> impl Strategy<Value = serde_json::Value> {
    json_leaf().prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(serde_json::Value::from),
            proptest::collection::btree_map("[#A-Za-z._ ]{0,8}", inner, 0..4)
                .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    #[test]
    fn arbitrary_text_is_an_event_or_a_reason(text in ".{0,300}") {
        let c = decode(SourceKind::Winlog, text.as_bytes());
        prop_assert!(c.rejections.iter().all(|r| !r.reason.is_empty()));
    }

    #[test]
    fn arbitrary_values_in_any_slot_are_an_event_or_a_reason(
        slot in 0usize..15,
        value in json_value(),
    ) {
        let mut forms = process_creation_in_every_form();
        let slots = [
            (0, "/Event/System/EventID"), (0, "/Event/System/TimeCreated"), (0, "/Event/EventData"),
            (0, "/Event/System"), (0, "/Event/System/Provider"), (1, "/winlog/event_data"),
            (1, "/winlog/event_id"), (1, "/winlog"), (1, "/@timestamp"), (2, "/EventID"), (2, "/Keywords"),
            (3, "/EventData"), (3, "/EventID"), (1, "/winlog/api"), (1, "/host"),
        ];
        let (form, pointer) = slots[slot];
        let form = &mut forms[form];
        *form.pointer_mut(pointer).expect("slot exists") = value;
        let c = decode(SourceKind::Winlog, form.to_string().as_bytes());
        prop_assert_eq!(c.events.len() + c.rejections.len(), 1);
        for ev in &c.events {
            let paths: Vec<&str> = ev.fields().iter().map(|(k, _)| k).collect();
            for pair in paths.windows(2) {
                let parent_is_leaf = pair[1].strip_prefix(pair[0]).is_some_and(|rest| rest.starts_with('.'));
                prop_assert!(!parent_is_leaf, "{} is a leaf and a parent", pair[0]);
            }
        }
    }
}

//! Logsource routing and field mapping through the shipped pipelines, on events from Ward's real
//! decoders (Cowrie, Suricata) and Windows layouts.

use ward_decode::SourceKind;
use ward_model::FieldValue;
use ward_rules::{ErrorKind, Pipeline, RuleSet};

use crate::common::{decode, ecs, fires, matching, pipeline, proc, win};

#[test]
fn shipped_pipelines_parse_and_route_process_creation_twice() {
    let p = pipeline();
    assert!(p.entries().len() > 80);
    for (name, _) in ward_rules::pipeline::BUILTIN {
        assert!(Pipeline::builtin_named(name).unwrap().is_ok(), "{name}");
    }
    let set = crate::common::load(&crate::common::proc_rule("    s:\n        Image: x\n    condition: s"));
    let names: Vec<&str> =
        p.routes(&set.rules()[0].logsource).iter().map(|&i| p.entries()[i].name.as_str()).collect();
    assert_eq!(names, ["sysmon_process_creation", "windows_process_creation_security"]);
}

#[test]
fn process_creation_covers_security_4688_with_renamed_fields() {
    let rule = crate::common::proc_rule(
        "    s:\n        Image|endswith: '\\whoami.exe'\n        ParentImage|endswith: '\\cmd.exe'\n    condition: s",
    );
    let sysmon = proc(&[
        ("Image", "C:\\Windows\\System32\\whoami.exe"),
        ("ParentImage", "C:\\Windows\\System32\\cmd.exe"),
    ]);
    let security = win(
        "Security",
        4688,
        &[
            ("NewProcessName", "C:\\Windows\\System32\\whoami.exe"),
            ("ParentProcessName", "C:\\Windows\\System32\\cmd.exe"),
        ],
    );
    assert!(fires(&rule, &sysmon));
    assert!(fires(&rule, &security));
}

#[test]
fn never_matches_on_event_id_alone() {
    let rule = crate::common::proc_rule("    s:\n        Image|endswith: '\\whoami.exe'\n    condition: s");
    let wrong_channel = win("Microsoft-Windows-PowerShell/Operational", 1, &[("Image", "C:\\whoami.exe")]);
    assert!(!fires(&rule, &wrong_channel));
    let wrong_id = win("Microsoft-Windows-Sysmon/Operational", 2, &[("Image", "C:\\whoami.exe")]);
    assert!(!fires(&rule, &wrong_id));
    let channel_case = win("microsoft-windows-sysmon/operational", 1, &[("Image", "C:\\whoami.exe")]);
    assert!(fires(&rule, &channel_case), "channel names compare case-insensitively");
}

#[test]
fn registry_add_needs_the_event_type() {
    let rule = "title: t\nlogsource:\n    product: windows\n    category: registry_add\ndetection:\n    s:\n        TargetObject|contains: '\\Run\\'\n    condition: s\n";
    let ev = |t: &str| {
        win(
            "Microsoft-Windows-Sysmon/Operational",
            12,
            &[("EventType", t), ("TargetObject", "HKLM\\Software\\Run\\x")],
        )
    };
    assert!(fires(rule, &ev("CreateKey")));
    assert!(!fires(rule, &ev("DeleteKey")));
}

#[test]
fn system_fields_and_unnamed_data_are_mapped() {
    let rule = "title: t\nlogsource:\n    product: windows\n    service: powershell-classic\ndetection:\n    s:\n        Data|contains: 'HostApplication=powershell -enc'\n    condition: s\n";
    let ev = win(
        "Windows PowerShell",
        400,
        &[("param1", "Available"), ("param3", "HostName=ConsoleHost\nHostApplication=powershell -enc AAAA")],
    );
    assert!(fires(rule, &ev));
    let rule = "title: t\nlogsource:\n    product: windows\n    service: system\ndetection:\n    s:\n        Provider_Name: 'Service Control Manager'\n        EventID: 7045\n    condition: s\n";
    let mut ev = win("System", 7045, &[]);
    ev.set("winlog.provider_name", "Service Control Manager");
    assert!(fires(rule, &ev));
}

#[test]
fn honeypot_commands_meet_linux_and_cowrie_rules() {
    let events = decode(SourceKind::Cowrie, include_bytes!("../../../../testdata/cowrie/cowrie.json"));
    let passwd = events
        .iter()
        .find(|e| e.str("process.command_line") == Some("cat /etc/passwd"))
        .expect("fixture has it");
    let linux = "title: t\nlogsource:\n    product: linux\n    category: process_creation\ndetection:\n    s:\n        CommandLine|contains: '/etc/passwd'\n    condition: s\n";
    assert!(fires(linux, passwd));
    let cowrie = "title: t\nlogsource:\n    product: cowrie\n    category: process_creation\ndetection:\n    s:\n        CommandLine|startswith: 'cat '\n        SourceIp|cidr: 127.0.0.0/8\n    condition: s\n";
    assert!(fires(cowrie, passwd));
    let login =
        events.iter().find(|e| e.str("event.action") == Some("login.success")).expect("fixture has a login");
    assert!(!fires(linux, login));
}

#[test]
fn suricata_http_and_dns_meet_proxy_zeek_and_dns_rules() {
    let events =
        decode(SourceKind::Suricata, include_bytes!("../../../../testdata/suricata/eve-sample.json"));
    let http = events.iter().find(|e| e.str("event.dataset") == Some("suricata.http")).expect("http record");
    let proxy = "title: t\nlogsource:\n    category: proxy\ndetection:\n    s:\n        c-uri|contains: '/dns-query'\n        c-uri-stem: '/dns-query'\n        dst_ip|cidr: 8.8.4.0/24\n    condition: s\n";
    assert!(fires(proxy, http), "{:?}", http.fields());
    let dns =
        events.iter().find(|e| e.str("dns.question.name") == Some("test.example.com")).expect("dns record");
    let zeek = "title: t\nlogsource:\n    product: zeek\n    service: dns\ndetection:\n    s:\n        query|endswith: '.example.com'\n    condition: s\n";
    assert!(fires(zeek, dns));
    let generic = "title: t\nlogsource:\n    category: dns\ndetection:\n    s:\n        query: 'test.example.com'\n        id.resp_h|cidr: 198.51.100.0/24\n    condition: s\n";
    assert!(fires(generic, dns));
    assert!(!fires(zeek, http));
}

#[test]
fn unmapped_reject_policy_rejects_with_the_entry_name() {
    let p = Pipeline::from_yaml(
        "strict",
        "name: strict\nunmapped: reject\nfieldmappings:\n  CommandLine: process.command_line\nlogsources:\n  - name: lin\n    product: linux\n    conditions:\n      ward.source: syslog\n",
    )
    .unwrap();
    let ok = "title: t\nlogsource:\n    product: linux\ndetection:\n    s:\n        CommandLine: x\n        process.name: y\n    condition: s\n";
    let bad = "title: t\nid: b\nlogsource:\n    product: linux\ndetection:\n    s:\n        LogonId: x\n    condition: s\n";
    let (set, _) = RuleSet::from_sources([("ok.yml", ok), ("bad.yml", bad)]);
    let (engine, rejections) = ward_rules::Engine::compile(&set, &p);
    assert_eq!(engine.stats().rules, 1);
    assert_eq!(
        rejections[0].kind,
        ErrorKind::UnmappedField { field: "LogonId".into(), logsource: "lin".into() }
    );
    let ev = ecs(
        "syslog",
        &[("process.command_line", FieldValue::from("x")), ("process.name", FieldValue::from("y"))],
    );
    let mut scratch = ward_rules::Scratch::default();
    assert_eq!(engine.matching_rules(&ev, &mut scratch), vec![0]);
}

#[test]
fn pipeline_errors_carry_lines() {
    let err =
        Pipeline::from_yaml("p.yml", "name: p\nlogsources:\n  - name: a\n    product: x\n    bogus: 1\n")
            .unwrap_err();
    assert_eq!(err.line, 5);
    assert!(err.to_string().contains("logsources[].bogus"), "{err}");
    let err =
        Pipeline::from_yaml("p.yml", "name: p\nlogsources:\n  - name: a\n    conditions:\n      x: 1\n")
            .unwrap_err();
    assert!(err.to_string().contains("at least one of product"), "{err}");
}

#[test]
fn a_rule_routed_twice_fires_once() {
    let rule = "title: t\nlogsource:\n    product: linux\n    category: process_creation\ndetection:\n    s:\n        CommandLine|contains: 'passwd'\n    condition: s\n";
    let ev = ecs(
        "cowrie",
        &[
            ("process.command_line", FieldValue::from("cat /etc/passwd")),
            ("event.category", FieldValue::List(vec!["process".into()])),
        ],
    );
    assert_eq!(matching(rule, &ev), vec![0]);
}

//! One test per value modifier, with the examples of the Sigma specification (and pySigma's
//! encodings for the base64 family), each checked through both evaluators.

use ward_model::FieldValue;
use ward_rules::ast::{Pattern, ValueMatch};
use ward_rules::parse::modifiers::base64_offsets;
use ward_rules::{Engine, ErrorKind, RuleSet};

use crate::common::{ecs, fires, pipeline, proc_fires, proc_rule};

fn cl(cmd: &str) -> Vec<(&'static str, String)> {
    vec![("CommandLine", cmd.to_owned())]
}

fn fires_cl(detection: &str, cmd: &str) -> bool {
    let data = cl(cmd);
    let borrowed: Vec<(&str, &str)> = data.iter().map(|(k, v)| (*k, v.as_str())).collect();
    proc_fires(detection, &borrowed)
}

#[test]
fn contains_startswith_endswith_and_plain_equality() {
    let d = "    selection:\n        CommandLine|contains: 'whoami'\n    condition: selection";
    assert!(fires_cl(d, "cmd /c WHOAMI /all"));
    assert!(!fires_cl(d, "cmd /c who ami"));
    let d = "    selection:\n        CommandLine|startswith: 'cmd'\n    condition: selection";
    assert!(fires_cl(d, "CMD.exe /c"));
    assert!(!fires_cl(d, "c:\\cmd.exe"));
    let d = "    selection:\n        CommandLine|endswith: '\\cmd.exe'\n    condition: selection";
    assert!(fires_cl(d, "C:\\Windows\\System32\\cmd.exe"));
    assert!(!fires_cl(d, "C:\\Windows\\System32\\cmd.exe /c"));
    let d = "    selection:\n        CommandLine: 'whoami'\n    condition: selection";
    assert!(fires_cl(d, "WhoAmI"), "plain values match the whole value, case-insensitively");
    assert!(!fires_cl(d, "whoami /all"));
}

#[test]
fn all_links_list_values_with_and() {
    let d = "    selection:\n        CommandLine|contains|all:\n            - ' -syncwithWU '\n            - ' \\\\\\\\'\n    condition: selection";
    assert!(fires_cl(d, "certutil -syncwithWU  \\\\attacker\\share"));
    assert!(!fires_cl(d, "certutil -syncwithWU  c:\\x"));
    let any = "    selection:\n        CommandLine|contains:\n            - 'aaa'\n            - 'bbb'\n    condition: selection";
    assert!(fires_cl(any, "x bbb"));
}

#[test]
fn base64_encodes_the_value() {
    let d = "    selection:\n        CommandLine|base64|contains: '/bin/bash'\n    condition: selection";
    assert!(fires_cl(d, "echo L2Jpbi9iYXNo | base64 -d"));
    assert!(!fires_cl(d, "/bin/bash"));
}

#[test]
fn base64offset_gives_pysigma_s_three_shifts() {
    let v = base64_offsets(b"http://");
    assert_eq!(v, [Some("aHR0cDovL".into()), Some("h0dHA6Ly".into()), Some("odHRwOi8v".into())]);
    let d = "    selection:\n        CommandLine|base64offset|contains: 'http://'\n    condition: selection";
    // "http://" at offsets 0, 1 and 2 of an encoded string
    for encoded in ["aHR0cDovL2V2aWw=", "IGh0dHA6Ly9ldmls", "ICBodHRwOi8vZXZpbA=="] {
        assert!(fires_cl(d, &format!("powershell -enc {encoded}")), "{encoded}");
    }
    assert!(!fires_cl(d, "powershell -enc ZXZpbA=="));
}

#[test]
fn utf16_family_then_base64() {
    let (set, rej) = RuleSet::from_sources([(
        "t.yml",
        proc_rule("    selection:\n        CommandLine|wide|base64offset|contains: 'ping'\n        Image|utf16be|base64: 'cmd'\n        ParentImage|utf16|base64: 'cmd'\n    condition: selection").as_str(),
    )]);
    assert!(rej.is_empty(), "{rej:?}");
    let items = match &set.rules()[0].detection.searches[0].expr {
        ward_rules::ast::SearchExpr::Map(items) => items.clone(),
        other => panic!("{other:?}"),
    };
    let lits = |i: usize| -> Vec<String> {
        items[i]
            .values
            .iter()
            .map(|v| match v {
                ValueMatch::Str { pattern, .. } => pattern.literals().collect::<String>(),
                other => panic!("{other:?}"),
            })
            .collect()
    };
    assert_eq!(lits(0), ["cABpAG4AZw", "AAaQBuAGcA", "wAGkAbgBnA"], "wide = utf16le");
    assert_eq!(lits(1), ["AGMAbQBk"], "utf16be");
    assert_eq!(lits(2), ["//5jAG0AZAA="], "utf16 has a byte-order mark");
    let d =
        "    selection:\n        CommandLine|wide|base64offset|contains: 'ping'\n    condition: selection";
    assert!(fires_cl(d, "powershell -e cABpAG4AZwAgADEALgAxAC4AMQAuADEA"));
}

#[test]
fn windash_accepts_all_five_dashes() {
    let d = "    selection:\n        CommandLine|windash|contains: ' -exec bypass'\n    condition: selection";
    for dash in ["-", "/", "\u{2013}", "\u{2014}", "\u{2015}"] {
        assert!(fires_cl(d, &format!("powershell {dash}exec bypass")), "{dash}");
    }
    assert!(!fires_cl(d, "powershell +exec bypass"));
}

#[test]
fn re_is_case_sensitive_unless_i_and_honours_m_and_s() {
    let d = "    selection:\n        CommandLine|re: 'net\\s+user'\n    condition: selection";
    assert!(fires_cl(d, "cmd /c net  user admin"));
    assert!(!fires_cl(d, "cmd /c NET USER admin"), "re is case-sensitive");
    let d = "    selection:\n        CommandLine|re|i: 'net\\s+user'\n    condition: selection";
    assert!(fires_cl(d, "cmd /c NET USER admin"));
    let d = "    selection:\n        CommandLine|re|m: '^user$'\n    condition: selection";
    assert!(fires_cl(d, "net\nuser\nx"));
    let d = "    selection:\n        CommandLine|re: '^user$'\n    condition: selection";
    assert!(!fires_cl(d, "net\nuser\nx"));
    let d = "    selection:\n        CommandLine|re|s: 'a.b'\n    condition: selection";
    assert!(fires_cl(d, "a\nb"));
    let d = "    selection:\n        CommandLine|re: 'a.b'\n    condition: selection";
    assert!(!fires_cl(d, "a\nb"));
}

#[test]
fn cidr_matches_v4_and_v6_networks() {
    let rule = "title: t\nlogsource:\n    product: windows\n    category: network_connection\ndetection:\n    selection:\n        DestinationIp|cidr:\n            - '10.0.0.0/8'\n            - 'fe80::/10'\n    condition: selection\n";
    let ev =
        |ip: &str| crate::common::win("Microsoft-Windows-Sysmon/Operational", 3, &[("DestinationIp", ip)]);
    assert!(fires(rule, &ev("10.1.2.3")));
    assert!(fires(rule, &ev("fe80::1")));
    assert!(!fires(rule, &ev("11.1.2.3")));
    assert!(!fires(rule, &ev("not an ip")));
}

#[test]
fn exists_tests_presence_only() {
    let d = "    selection:\n        ParentImage|exists: true\n    condition: selection";
    assert!(proc_fires(d, &[("ParentImage", "")]), "an empty value is present");
    assert!(!proc_fires(d, &[("Image", "x")]));
    let d = "    selection:\n        ParentImage|exists: false\n    condition: selection";
    assert!(proc_fires(d, &[("Image", "x")]));
}

#[test]
fn null_means_absent_and_empty_means_empty() {
    let d = "    selection:\n        CommandLine: null\n    condition: selection";
    assert!(proc_fires(d, &[("Image", "x")]));
    assert!(!proc_fires(d, &[("CommandLine", "")]));
    let d = "    selection:\n        CommandLine: ''\n    condition: selection";
    assert!(proc_fires(d, &[("CommandLine", "")]));
    assert!(!proc_fires(d, &[("Image", "x")]));
}

#[test]
fn expand_takes_placeholder_values_from_the_pipeline() {
    let yaml = proc_rule("    selection:\n        User|expand: '%Administrators%'\n    condition: selection");
    let (set, _) = RuleSet::from_sources([("t.yml", yaml.as_str())]);
    let (_, rejections) = Engine::compile(&set, &pipeline());
    assert_eq!(rejections.len(), 1);
    assert_eq!(rejections[0].kind, ErrorKind::MissingPlaceholder("Administrators".into()));
    let mut p = pipeline();
    p.set_placeholder("Administrators", vec!["adm_*".into(), "root".into()]);
    let (engine, rejections) = Engine::compile(&set, &p);
    assert!(rejections.is_empty());
    let mut scratch = ward_rules::Scratch::default();
    let mut hit =
        |user: &str| !engine.matching_rules(&crate::common::proc(&[("User", user)]), &mut scratch).is_empty();
    assert!(hit("ADM_alice"));
    assert!(hit("root"));
    assert!(!hit("alice"));
}

#[test]
fn fieldref_compares_two_fields() {
    let d = "    selection:\n        Image|fieldref: ParentImage\n    condition: selection";
    assert!(proc_fires(d, &[("Image", "C:\\a.exe"), ("ParentImage", "c:\\A.EXE")]));
    assert!(!proc_fires(d, &[("Image", "C:\\a.exe"), ("ParentImage", "C:\\b.exe")]));
    assert!(!proc_fires(d, &[("Image", "C:\\a.exe")]));
    let d = "    selection:\n        CommandLine|fieldref|endswith: Image\n    condition: selection";
    assert!(proc_fires(d, &[("CommandLine", "run C:\\a.exe"), ("Image", "C:\\a.exe")]));
}

#[test]
fn numeric_comparisons() {
    let rule = |op: &str, n: i64| {
        format!(
            "title: t\nlogsource:\n    product: windows\n    category: network_connection\ndetection:\n    selection:\n        DestinationPort|{op}: {n}\n    condition: selection\n"
        )
    };
    let ev = |port: &str| {
        crate::common::win("Microsoft-Windows-Sysmon/Operational", 3, &[("DestinationPort", port)])
    };
    assert!(fires(&rule("gt", 1023), &ev("4444")));
    assert!(!fires(&rule("gt", 4444), &ev("4444")));
    assert!(fires(&rule("gte", 4444), &ev("4444")));
    assert!(fires(&rule("lt", 1024), &ev("443")));
    assert!(fires(&rule("lte", 443), &ev("443")));
    assert!(!fires(&rule("lt", 1024), &ev("not a number")));
}

#[test]
fn cased_is_case_sensitive() {
    let d = "    selection:\n        CommandLine|contains|cased: 'Invoke-Mimikatz'\n    condition: selection";
    assert!(fires_cl(d, "powershell Invoke-Mimikatz"));
    assert!(!fires_cl(d, "powershell invoke-mimikatz"));
}

#[test]
fn neq_requires_a_present_different_value() {
    let d = "    selection:\n        Image|endswith: '\\cmd.exe'\n        User|neq: 'SYSTEM'\n    condition: selection";
    assert!(proc_fires(d, &[("Image", "C:\\cmd.exe"), ("User", "alice")]));
    assert!(!proc_fires(d, &[("Image", "C:\\cmd.exe"), ("User", "system")]));
    assert!(!proc_fires(d, &[("Image", "C:\\cmd.exe")]), "an absent field is not different");
}

#[test]
fn time_parts_read_dates() {
    let rule = "title: t\nlogsource:\n    product: cowrie\ndetection:\n    selection:\n        login_time|hour: 3\n    condition: selection\n";
    let ev = |t: &str| ecs("cowrie", &[("login_time", FieldValue::from(t))]);
    assert!(fires(rule, &ev("2024-05-01T03:15:00Z")));
    assert!(!fires(rule, &ev("2024-05-01T04:15:00Z")));
}

#[test]
fn keyword_searches_look_at_every_text_field() {
    let rule = "title: t\nlogsource:\n    product: windows\n    service: security\ndetection:\n    keywords:\n        - 'event::clear'\n        - 'kerberos::golden'\n    condition: keywords\n";
    let ev = crate::common::win("Security", 4688, &[("CommandLine", "mimikatz KERBEROS::GOLDEN /user:x")]);
    assert!(fires(rule, &ev));
    let quiet = crate::common::win("Security", 4688, &[("CommandLine", "whoami")]);
    assert!(!fires(rule, &quiet));
    let all = "title: t\nlogsource:\n    product: windows\n    service: security\ndetection:\n    keywords:\n        '|all':\n            - 'Remove-MailboxExportRequest'\n            - ' -Confirm \"False\"'\n    condition: keywords\n";
    let ev = crate::common::win(
        "Security",
        1,
        &[("Payload", "Remove-MailboxExportRequest -Identity x"), ("Other", "y -Confirm \"False\"")],
    );
    assert!(fires(all, &ev), "all keywords, possibly in different fields");
    let ev = crate::common::win("Security", 1, &[("Payload", "Remove-MailboxExportRequest -Identity x")]);
    assert!(!fires(all, &ev));
}

#[test]
fn patterns_render_back_in_sigma_notation() {
    assert_eq!(ward_rules::parse::value::parse_pattern("a\\*b*c?").to_string(), "a\\*b*c?");
    assert_eq!(Pattern::literal("x").to_string(), "x");
}

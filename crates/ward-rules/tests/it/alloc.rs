//! Steady-state matching allocates nothing: `allocation-counter`'s per-thread counting allocator
//! watches the compiled engine on events that raise no alert.

use ward_rules::{Engine, RuleSet, Scratch};

use crate::common::{pipeline, proc, win};

#[test]
fn matching_allocates_nothing_once_warm() {
    let rules = [
        "title: a\nid: a\nlogsource: {product: windows, category: process_creation}\ndetection:\n    s:\n        CommandLine|contains|all: [' -enc ', 'bypass']\n        Image|endswith: ['\\powershell.exe', '\\pwsh.exe', '\\x1.exe', '\\x2.exe', '\\x3.exe']\n    f:\n        User|startswith: 'NT AUTHORITY'\n    condition: s and not f\n",
        "title: b\nid: b\nlogsource: {product: windows, service: security}\ndetection:\n    keywords: ['mimikatz', 'sekurlsa::']\n    s:\n        EventID: 4688\n        NewProcessName|re: '(?i)\\\\tmp\\d+\\.exe$'\n    condition: keywords or s\n",
        "title: c\nid: c\nlogsource: {product: windows, category: network_connection}\ndetection:\n    s:\n        DestinationIp|cidr: 10.0.0.0/8\n        DestinationPort|gte: 4444\n        Image: null\n    condition: s\n",
    ];
    let sources: Vec<(String, &str)> =
        rules.iter().enumerate().map(|(i, r)| (format!("{i}.yml"), *r)).collect();
    let (set, rejections) = RuleSet::from_sources(sources.iter().map(|(f, t)| (f.as_str(), *t)));
    assert!(rejections.is_empty(), "{rejections:#?}");
    let (engine, _) = Engine::compile(&set, &pipeline());
    let events = [
        proc(&[
            ("CommandLine", "powershell -enc AAAA -ep Bypass"),
            ("Image", "C:\\x\\POWERSHELL.EXE"),
            ("User", "NT AUTHORITY\\SYSTEM"),
        ]),
        win(
            "Security",
            4688,
            &[("NewProcessName", "C:\\Windows\\notepad.exe"), ("CommandLine", "notepad x.txt")],
        ),
        win(
            "Microsoft-Windows-Sysmon/Operational",
            3,
            &[("DestinationIp", "10.1.1.1"), ("DestinationPort", "80"), ("Image", "x")],
        ),
    ];
    let mut scratch = Scratch::default();
    let mut alerts = Vec::with_capacity(4);
    for e in &events {
        engine.matches_with(e, &mut scratch, &mut alerts);
    }
    assert!(alerts.is_empty(), "the events are near misses: {alerts:#?}");
    let info = allocation_counter::measure(|| {
        for _ in 0..100 {
            for e in &events {
                engine.matches_with(e, &mut scratch, &mut alerts);
            }
        }
    });
    assert_eq!(info.count_total, 0, "matching allocated: {info:?}");
    assert!(scratch.evaluated() > 0, "the rules were really evaluated");
    let hit = proc(&[
        ("CommandLine", "powershell -enc AAAA -ep Bypass"),
        ("Image", "C:\\x\\pwsh.exe"),
        ("User", "alice"),
    ]);
    let info = allocation_counter::measure(|| {
        engine.matches_with(&hit, &mut scratch, &mut alerts);
    });
    assert_eq!(alerts.len(), 1);
    assert!(info.count_total > 0, "the counter sees the alert being built");
}

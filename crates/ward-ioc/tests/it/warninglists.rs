//! MISP warning-lists suppress known-benign indicators, on the real lists and feeds.

use std::path::Path;

use serde_json::json;
use ward_ioc::{
    FeedFormat, FeedSource, HostnameScope, IndicatorKind, Location, MatchFields, Observable, RejectReason,
    WarningListOptions, WarningLists, load_sources, load_warning_list, parse_warning_list,
};

use crate::common::{intel, set_with};

fn lists(names: &[&str]) -> Option<WarningLists> {
    let mut out = WarningLists::default();
    for name in names {
        let path = intel(&format!("misp_warninglists/{name}.json"))?;
        let (list, report) =
            load_warning_list(&path, &WarningListOptions::default()).expect("warning-list loads");
        assert_eq!(report.loaded, list.len());
        out.push(list);
    }
    Some(out)
}

/// A feed listing Google's resolver, a private address, google.com and an empty-file hash next
/// to real indicators: only the real ones stay matchable, and each suppression names its list.
/// A subdomain of a popular host (`evil.github.io`) or a URL on it is not benign.
#[test]
fn known_benign_values_in_a_feed_are_suppressed() {
    let names = ["public-dns-v4", "rfc1918", "empty-hashes", "tranco10k", "eicar.com"];
    let Some(warning) = lists(&names) else { return };
    let feed = "8.8.8.8\n10.20.30.40\n192.168.1.0/24\nd41d8cd98f00b204e9800998ecf8427e\n\
                google.com\n44d88612fea8a8f36de82e1278abb02f\n198.51.100.66\nevil.example\n\
                evil.github.io\nhttps://github.com/evil/tool/releases/x.exe\n";
    let set = set_with(warning, &[("feed.txt", feed)]);
    let kept: Vec<String> = set.iter().map(|i| i.value().to_string()).collect();
    assert_eq!(
        kept,
        ["198.51.100.66", "evil.example", "evil.github.io", "https://github.com/evil/tool/releases/x.exe"]
    );
    let by: Vec<(String, &str, &str)> = set
        .suppressed()
        .iter()
        .map(|s| (s.indicator.value().to_string(), &*s.by.list, &*s.by.entry))
        .collect();
    assert_eq!(
        by,
        [
            ("8.8.8.8".into(), "List of known IPv4 public DNS resolvers", "8.8.8.8"),
            ("10.20.30.40".into(), "List of RFC 1918 CIDR blocks", "10.0.0.0/8"),
            ("192.168.1.0/24".into(), "List of RFC 1918 CIDR blocks", "192.168.0.0/16"),
            (
                "d41d8cd98f00b204e9800998ecf8427e".into(),
                "List of known hashes for empty files",
                "d41d8cd98f00b204e9800998ecf8427e"
            ),
            ("google.com".into(), "Top 10K most-used sites from Tranco", "google.com"),
            (
                "44d88612fea8a8f36de82e1278abb02f".into(),
                "List of hashes for EICAR test virus",
                "44d88612fea8a8f36de82e1278abb02f"
            ),
        ]
    );
    assert!(!set.contains(Observable::Ip("8.8.8.8".parse().expect("ip"))));
    assert!(set.contains(Observable::Ip("198.51.100.66".parse().expect("ip"))));
}

/// Real overlaps: ipsum lists two public DNS resolvers (level 3), maltrail's sinkhole trails
/// list addresses MISP knows as sinkholes.
#[test]
fn real_feeds_overlap_real_warning_lists() {
    let (Some(dns), Some(sinks), Some(ipsum), Some(zinkhole)) = (
        intel("misp_warninglists/public-dns-v4.json"),
        intel("misp_warninglists/sinkholes.json"),
        intel("ipsum/level3.txt"),
        intel("maltrail/malware/sinkhole_zinkhole.txt"),
    ) else {
        return;
    };
    let sources: Vec<FeedSource> =
        [&ipsum, &zinkhole, &dns, &sinks].into_iter().map(|p| p.as_path().into()).collect();
    let (set, report) = load_sources(&sources, MatchFields::default()).expect("loads");
    assert_eq!(report.files[0].suppressed, 2);
    let suppressed: Vec<(String, &str)> =
        set.suppressed().iter().map(|s| (s.indicator.value().to_string(), &*s.by.list)).collect();
    assert!(suppressed.contains(&("50.116.33.209".into(), "List of known IPv4 public DNS resolvers")));
    assert!(suppressed.contains(&("88.205.172.170".into(), "List of known IPv4 public DNS resolvers")));
    assert!(suppressed.contains(&("178.32.140.251".into(), "List of known sinkholes")), "zinkhole line 7");
    let feeds: Vec<_> = report.files.iter().filter(|f| f.format != "misp-warninglist").collect();
    let loaded: usize = feeds.iter().map(|f| f.loaded).sum();
    let duplicates: usize = feeds.iter().map(|f| f.duplicates).sum();
    assert_eq!(
        set.len() + report.suppressed() + duplicates,
        loaded,
        "every indicator read is indexed, merged or suppressed"
    );
}

#[test]
fn real_warning_lists_load_and_refuse_only_malformed_entries() {
    let Some(path) = intel("misp_warninglists/public-dns-hostname.json") else { return };
    let (list, report) = load_warning_list(&path, &WarningListOptions::default()).expect("loads");
    assert_eq!(list.len() + report.rejected.len(), 34_783);
    assert_eq!(report.rejected.len(), 11);
    let first = &report.rejected[0];
    assert_eq!(
        (first.location.clone(), first.entry.as_str()),
        (Location::Index(6917), "252/24.127.188.93.mifril.ru")
    );
    assert!(list.kinds().contains(&IndicatorKind::Url));
    let Some(hashes) = intel("misp_warninglists/common-ioc-false-positive.json") else { return };
    let (_, report) = load_warning_list(&hashes, &WarningListOptions::default()).expect("loads");
    assert_eq!(report.ignored.get("matching attribute sha224"), Some(&1));
}

#[test]
fn substring_regex_and_hostname_semantics() {
    let parse = |doc: serde_json::Value, scope| {
        parse_warning_list(doc, Path::new("wl.json"), &WarningListOptions { hostname_scope: scope })
            .expect("list")
            .0
    };
    let hosts = || json!({"name": "hosts", "type": "hostname", "list": [".corp.example.", "192.0.2.53"]});
    let feed = "x.cdn-edge.example\nUPDATE7.vendor.example\nupdate.vendor.example\nvpn.corp.example\n\
                http://corp.example/login\nhttp://corp.example\ncorp.example\nnotcorp.example\n192.0.2.53\n";
    let kept = |scope| {
        let mut warning = WarningLists::default();
        let subs =
            json!({"name": "subs", "type": "substring", "list": ["CDN-"], "matching_attributes": ["domain"]});
        let re = json!({"name": "re", "type": "regex", "list": ["/^update[0-9]+\\./i"], "matching_attributes": ["hostname"]});
        warning.push(parse(subs, HostnameScope::Exact));
        warning.push(parse(re, HostnameScope::Exact));
        warning.push(parse(hosts(), scope));
        let set = set_with(warning, &[("f.txt", feed)]);
        let lists: Vec<String> = set.suppressed().iter().map(|s| s.by.list.to_string()).collect();
        (set.iter().map(|i| i.value().to_string()).collect::<Vec<_>>(), lists)
    };
    let (exact, lists) = kept(HostnameScope::Exact);
    assert_eq!(
        exact,
        [
            "update.vendor.example",
            "vpn.corp.example",
            "http://corp.example/login",
            "notcorp.example",
            "192.0.2.53"
        ],
        "a hostname entry covers the name and its site root; without matching_attributes not addresses"
    );
    assert_eq!(lists, ["subs", "re", "hosts", "hosts"]);
    let (subdomains, _) = kept(HostnameScope::Subdomains);
    assert_eq!(subdomains, ["update.vendor.example", "notcorp.example", "192.0.2.53"], "MISP's reach");
}

/// With MISP's subdomain matching the Tranco list would hide real maltrail trails (adwind's
/// `*.duckdns.org` C2 names, 775 of them); the default keeps them.
#[test]
fn popular_parent_domains_do_not_hide_real_trails_by_default() {
    let (Some(tranco), Some(trail)) =
        (intel("misp_warninglists/tranco10k.json"), intel("maltrail/malware/adwind.txt"))
    else {
        return;
    };
    let load = |scope| {
        let wl =
            FeedSource::new(&tranco, FeedFormat::WarningList(WarningListOptions { hostname_scope: scope }));
        load_sources(&[wl, trail.as_path().into()], MatchFields::default()).expect("loads")
    };
    let (set, report) = load(HostnameScope::Exact);
    assert_eq!(report.files[1].suppressed, 0);
    assert!(set.contains(Observable::Domain("millzjsocsingwi80gm.duckdns.org")), "adwind.txt line 10");
    let (set, report) = load(HostnameScope::Subdomains);
    assert!(report.files[1].suppressed >= 775, "{}", report.files[1].suppressed);
    assert!(!set.contains(Observable::Domain("millzjsocsingwi80gm.duckdns.org")));
}

#[test]
fn malformed_warning_list_entries_are_rejected_by_index() {
    let doc = json!({"name": "bad", "type": "cidr", "list": ["10.0.0.0/8", "300.1.1.1", 7, ""]});
    let options = WarningListOptions::default();
    let (list, report) = parse_warning_list(doc, Path::new("bad.json"), &options).expect("list");
    assert_eq!(list.len(), 1);
    let got: Vec<(Location, RejectReason)> =
        report.rejected.iter().map(|r| (r.location.clone(), r.reason.clone())).collect();
    assert!(matches!(got[0], (Location::Index(1), RejectReason::InvalidCidr(_))));
    assert_eq!(
        got[1..],
        [(Location::Index(2), RejectReason::Empty), (Location::Index(3), RejectReason::Empty)]
    );
    let regex = json!({"name": "re", "type": "regex", "list": ["(unclosed"]});
    let (_, report) = parse_warning_list(regex, Path::new("re.json"), &options).expect("list");
    assert!(matches!(report.rejected[0].reason, RejectReason::InvalidRegex(_)));
    let unknown = json!({"name": "x", "type": "fuzzy", "list": []});
    let err = parse_warning_list(unknown, Path::new("x.json"), &options).expect_err("unknown type");
    assert_eq!(err.to_string(), "x.json: unknown warning-list type `fuzzy`");
}

//! Every loader on the real third-party feeds of `reference/threat_intel/`: counts, entries
//! read from the files by hand, and rejections that point at the right line.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use ward_ioc::{
    CsvOptions, Entry, IndicatorKind, ListOptions, Loaded, Location, MispOptions, RejectReason, StixOptions,
    load_csv, load_list, load_misp_event, load_stix_bundle,
};

use crate::common::{entry_lines, intel};

fn maltrail_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = ["malware", "malicious", "suspicious"]
        .iter()
        .flat_map(|sub| std::fs::read_dir(dir.join(sub)).expect("maltrail folder readable"))
        .map(|e| e.expect("directory entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "txt"))
        .collect();
    files.sort();
    files
}

fn find(loaded: &Loaded, line: u32) -> &ward_ioc::Indicator {
    loaded
        .indicators
        .iter()
        .find(|i| i.entry() == &Entry::Line(line))
        .unwrap_or_else(|| panic!("no indicator from line {line} of {}", loaded.report.path.display()))
}

#[test]
fn maltrail_trails_load_every_line_or_reject_it_with_its_number() {
    let Some(dir) = intel("maltrail") else { return };
    let files = maltrail_files(&dir);
    assert_eq!(files.len(), 505, "snapshot: 411 malware, 64 malicious, 30 suspicious trail files");
    let (mut loaded, mut rejected) = (0, Vec::new());
    let mut kinds: BTreeMap<IndicatorKind, usize> = BTreeMap::new();
    for path in &files {
        let l = load_list(path, &ListOptions::default()).expect("readable");
        let lines = entry_lines(path);
        assert_eq!(
            l.report.loaded + l.report.rejected.len(),
            lines.len(),
            "{}: a line went missing",
            path.display()
        );
        for r in &l.report.rejected {
            let Location::Line(n) = r.location else { panic!("list rejection without a line: {r}") };
            let (_, text) = lines.iter().find(|(m, _)| *m == n).expect("rejected line is an entry line");
            assert!(text.starts_with(r.entry.trim_end_matches('…')), "{r} does not point at `{text}`");
        }
        for i in &l.indicators {
            *kinds.entry(i.kind()).or_default() += 1;
            assert_eq!(i.feed(), path.file_stem().and_then(|s| s.to_str()).expect("stem"));
        }
        loaded += l.report.loaded;
        rejected.extend(l.report.rejected);
    }
    assert_eq!(loaded, 221_576);
    assert_eq!(rejected.len(), 16, "{rejected:#?}");
    let count = |want: &RejectReason| rejected.iter().filter(|r| &r.reason == want).count();
    assert_eq!(count(&RejectReason::RegexTrail), 5);
    assert_eq!(count(&RejectReason::SingleLabel), 7);
    assert_eq!(kinds[&IndicatorKind::UrlPath], count_lines(&files, |v| v.starts_with('/')));
    assert_eq!(kinds[&IndicatorKind::Ipv4], count_lines(&files, |v| v.parse::<std::net::Ipv4Addr>().is_ok()));
    assert_eq!(kinds[&IndicatorKind::Cidr], 4);
}

/// Entry values (comment removed) satisfying `pred`, over all files, counted independently of
/// the loader.
fn count_lines(files: &[PathBuf], pred: impl Fn(&str) -> bool) -> usize {
    files
        .iter()
        .flat_map(|p| entry_lines(p))
        .map(|(_, l)| l.split(" #").next().map(str::trim).unwrap_or_default().to_owned())
        .filter(|v| pred(v))
        .count()
}

#[test]
fn maltrail_entries_read_by_hand_come_out_normalized() {
    let Some(dir) = intel("maltrail") else { return };
    let load = |rel: &str| load_list(&dir.join(rel), &ListOptions::default()).expect("readable");
    let check = |rel: &str, line: u32, kind: IndicatorKind, value: &str| {
        let l = load(rel);
        let ind = find(&l, line);
        assert_eq!((ind.kind(), ind.value().to_string().as_str()), (kind, value), "{rel}:{line}");
    };
    check("suspicious/domain.txt", 4, IndicatorKind::Domain, "cc");
    check("malicious/c2_panel.txt", 7, IndicatorKind::UrlPath, "/adin/admin.php");
    check("malicious/android_hiddad.txt", 19, IndicatorKind::Url, "tweaktv.cc/apk/");
    check("malicious/hak5cloud_c2.txt", 952, IndicatorKind::IpPort, "[2a01:7e01::f03c:91ff:feac:f30f]:8080");
    check("malicious/365stealer_phishtool.txt", 6, IndicatorKind::Url, "http://52.196.149.49/");
    check("suspicious/android_pua.txt", 6, IndicatorKind::IpPort, "35.198.197.119:8080");
    check("malware/adwind.txt", 691, IndicatorKind::Domain, "unrecom.net");
    check("malware/apt_menupass.txt", 1551, IndicatorKind::Domain, "malware.dsmtp.com");
    check("malware/satana.txt", 8, IndicatorKind::Url, "185.127.26.186/add.php");

    let domains = load("suspicious/domain.txt");
    let free = domains.report.rejected.iter().find(|r| r.location == Location::Line(366)).expect("line 366");
    assert_eq!((free.entry.as_str(), &free.reason), ("free", &RejectReason::SingleLabel));
    let boteam = load("malware/apt_boteam.txt");
    assert_eq!(boteam.report.rejected.len(), 1);
    assert_eq!(boteam.report.rejected[0].location, Location::Line(15));
    assert_eq!(boteam.report.rejected[0].entry, "213.165.60.118:22:443");
}

/// Ipsum level files are cumulative (level 3 holds every address on 3 or more blacklists):
/// loaded as one feed, each address keeps the confidence of its highest level.
#[test]
fn ipsum_levels_keep_the_highest_confidence_per_address() {
    let Some(dir) = intel("ipsum") else { return };
    let mut builder = ward_ioc::IndicatorSet::builder();
    let mut dupes = 0;
    for level in 3u8..=8 {
        let options =
            ListOptions { feed: Some("ipsum".into()), confidence: level * 10, ..ListOptions::default() };
        let l = load_list(&dir.join(format!("level{level}.txt")), &options).expect("readable");
        assert!(l.report.rejected.is_empty(), "{:?}", l.report.rejected);
        assert!(l.indicators.iter().all(|i| i.kind() == IndicatorKind::Ipv4));
        dupes +=
            l.indicators.into_iter().filter(|i| builder.add(i.clone()) == ward_ioc::Added::Duplicate).count();
    }
    let set = builder.build();
    assert_eq!(set.len(), 14_217);
    assert_eq!(dupes, 5_354 + 1_413 + 318 + 70 + 23);
    let conf = |ip: &str| {
        let found = set.lookup(ward_ioc::Observable::Ip(ip.parse().expect("ip")));
        found.iter().map(|i| i.confidence()).collect::<Vec<_>>()
    };
    assert_eq!(conf("77.90.185.20"), [80], "first line of level8.txt");
    assert_eq!(conf("50.116.33.209"), [40], "level3 and level4 line 2324, not level5");
    assert_eq!(conf("88.205.172.170"), [30], "level3 line 8607 only");
}

/// `ipsum.txt` (`ip<TAB>level`) rebuilt from the level files reads back with the same
/// confidences through the CSV loader.
#[test]
fn ipsum_tsv_level_column_becomes_confidence() {
    let Some(dir) = intel("ipsum") else { return };
    let mut levels: BTreeMap<String, u8> = BTreeMap::new();
    for level in 3u8..=8 {
        for (_, ip) in entry_lines(&dir.join(format!("level{level}.txt"))) {
            levels.insert(ip, level);
        }
    }
    let mut text = String::from("# IPsum Threat Intelligence Feed\n# (rebuilt from the level files)\n");
    for (ip, level) in &levels {
        text.push_str(&format!("{ip}\t{level}\n"));
    }
    text.push_str("203.0.113.9\tmany\n");
    let tmp = tempfile::tempdir().expect("tempdir");
    let path = tmp.path().join("ipsum.txt");
    std::fs::write(&path, text).expect("write");
    let l = load_csv(&path, &CsvOptions::ipsum()).expect("readable");
    assert_eq!(l.report.loaded, 14_217);
    assert_eq!(l.report.rejected.len(), 1);
    assert_eq!(l.report.rejected[0].location, Location::Line(14_220));
    assert_eq!(l.report.rejected[0].reason, RejectReason::InvalidConfidence("many".into()));
    for ind in &l.indicators {
        assert_eq!(ind.confidence(), levels[&ind.value().to_string()] * 10);
    }
}

#[test]
fn misp_event_attributes_and_object_attributes_load_with_their_uuids() {
    let Some(path) = intel("misp_events/existing_event.json") else { return };
    let l = load_misp_event(&path, &MispOptions::default()).expect("readable");
    let r = &l.report;
    assert_eq!((r.loaded, r.rejected.len()), (68, 0), "7 domains + 37 sha1 + 12 ip-dst + 12 domain");
    let ignored: Vec<(&str, usize)> = r.ignored.iter().map(|(k, v)| (k.as_str(), *v)).collect();
    assert_eq!(ignored, [("type filename", 15), ("type link", 1), ("type text", 38)]);
    let by_uuid = |uuid: &str| {
        l.indicators.iter().find(|i| i.entry() == &Entry::Record(uuid.into())).expect("attribute loaded")
    };
    let domain = by_uuid("5a3c3045-ab0c-4d38-8efe-459002de0b81");
    assert_eq!(
        (domain.kind(), domain.value().to_string()),
        (IndicatorKind::Domain, "movieultimate.com".into())
    );
    assert!(domain.to_ids());
    assert!(domain.tags().iter().any(|t| &**t == "tlp:white"));
    assert!(domain.tags().iter().any(|t| &**t == "misp-galaxy:threat-actor=\"Sofacy\""));
    let sha1 = by_uuid("5a3cd5b6-78a8-4e47-8333-4c62950d210f");
    assert_eq!(
        (sha1.kind(), sha1.value().to_string()),
        (IndicatorKind::Sha1, "68064fc152e23d56e541714af52651cb4ba81aaf".into())
    );
    let ip = by_uuid("5a3ce58a-fcd8-48d5-8b4a-4fd9950d210f");
    assert_eq!((ip.kind(), ip.value().to_string()), (IndicatorKind::Ipv4, "87.236.211.182".into()));
    assert_eq!(l.indicators.iter().filter(|i| i.kind() == IndicatorKind::Sha1).count(), 37);

    let ids_only =
        load_misp_event(&path, &MispOptions { ids_only: true, ..MispOptions::default() }).expect("readable");
    assert_eq!(ids_only.report.loaded, 68, "every indicator attribute of this event has to_ids set");
    assert_eq!(ids_only.report.ignored.get("to_ids false"), Some(&39), "the link and the 38 text attributes");
}

/// The MISP event repeats `87.236.211.182` and `servicecdp.com` in two domain-ip objects.
#[test]
fn misp_event_repeats_are_indexed_once() {
    let Some(path) = intel("misp_events/existing_event.json") else { return };
    let (set, report) =
        ward_ioc::load_sources(&[path.as_path().into()], ward_ioc::MatchFields::default()).expect("loads");
    assert_eq!(report.files[0].format, "misp-event");
    assert_eq!((report.files[0].duplicates, set.len()), (2, 66));
}

/// ATT&CK for ICS is a real STIX bundle without indicator objects: every object is accounted
/// for as ignored, none is lost.
#[test]
fn stix_bundle_without_indicators_accounts_for_every_object() {
    let Some(path) = ward_testkit::shared("reference/mitre_attack/ics-attack.json") else { return };
    let l = load_stix_bundle(&path, &StixOptions::default()).expect("readable");
    assert_eq!((l.report.loaded, l.report.rejected.len()), (0, 0));
    assert_eq!(l.report.ignored_total(), 1_825);
    assert_eq!(l.report.ignored.get("object relationship"), Some(&1_373));
    assert_eq!(l.report.ignored.get("object attack-pattern"), Some(&95));
}

//! Malformed entries are reported with file, line and text, and never stop the rest of the
//! file from loading; whole-file failures name the file.

use std::path::Path;

use ward_ioc::{
    Column, Confidence, CsvOptions, FeedFormat, FeedSource, IndicatorKind, ListOptions, LoadError, Location,
    MatchFields, RejectReason, load_sources, parse_csv, parse_list,
};

#[test]
fn bad_lines_are_reported_by_number_and_the_rest_loads() {
    let mut text = b"# comment\n\nevil.example\n10.0.0.0/33\n".to_vec();
    text.extend_from_slice(b"bad\xffline.example\n");
    text.extend_from_slice(b"tk\r\n192.0.2.1   # trailing comment\nhttp://[::1/\n");
    let l = parse_list(&text, Path::new("feeds/mixed.txt"), &ListOptions::default());
    let values: Vec<String> = l.indicators.iter().map(|i| i.value().to_string()).collect();
    assert_eq!(values, ["evil.example", "192.0.2.1"]);
    let got: Vec<(Location, &str)> =
        l.report.rejected.iter().map(|r| (r.location.clone(), r.entry.as_str())).collect();
    assert_eq!(
        got,
        [
            (Location::Line(4), "10.0.0.0/33"),
            (Location::Line(5), "bad\u{fffd}line.example"),
            (Location::Line(6), "tk"),
            (Location::Line(8), "http://[::1/"),
        ]
    );
    assert_eq!(l.report.rejected[1].reason, RejectReason::NotUtf8);
    assert_eq!(l.report.rejected[3].reason, RejectReason::InvalidUrl("unclosed `[`"));
    assert_eq!(
        l.report.rejected[2].to_string(),
        "feeds/mixed.txt: line 6: single-label name (write `.tld` or `domain:name` to list a top-level domain): `tk`"
    );
    assert_eq!(l.indicators[1].entry(), &ward_ioc::Entry::Line(7));
    assert_eq!(l.report.feed, "mixed");
}

#[test]
fn a_forced_kind_rejects_values_of_another_kind() {
    let options = ListOptions { kind: Some(IndicatorKind::Sha256), ..ListOptions::default() };
    let l =
        parse_list(format!("{}\nevil.example\n", "A".repeat(64)).as_bytes(), Path::new("h.txt"), &options);
    assert_eq!(l.indicators.len(), 1);
    assert_eq!(l.report.rejected[0].reason, RejectReason::InvalidHash { expected: 64, found: 12 });
}

#[test]
fn maltrail_trails_csv_with_quotes() {
    let text = "evil.example,emotet (malware),(static)\n\"a,b.example\",x,y\n\"quoted.example\",\"info, with comma\",\"say \"\"hi\"\"\"\n\"open,x\n";
    let l = parse_csv(text.as_bytes(), Path::new("trails.csv"), &CsvOptions::maltrail()).expect("parses");
    assert_eq!(l.indicators.len(), 2);
    let tags: Vec<&str> = l.indicators[0].tags().iter().map(|t| &**t).collect();
    assert_eq!(tags, ["emotet (malware)", "(static)"]);
    let tags: Vec<&str> = l.indicators[1].tags().iter().map(|t| &**t).collect();
    assert_eq!(tags, ["info, with comma", "say \"hi\""]);
    let rejected: Vec<(Location, RejectReason)> =
        l.report.rejected.iter().map(|r| (r.location.clone(), r.reason.clone())).collect();
    assert_eq!(
        rejected,
        [
            (Location::Line(2), RejectReason::InvalidDomain("character not allowed in a host name")),
            (Location::Line(4), RejectReason::UnterminatedQuote),
        ]
    );
}

#[test]
fn csv_columns_by_header_name() {
    let options = CsvOptions {
        header: true,
        value: Column::Name("indicator".into()),
        confidence: Confidence::Column { column: Column::Name("score".into()), per_unit: 1 },
        tags: vec![Column::Name("family".into())],
        ..CsvOptions::default()
    };
    let text = "family,indicator,score\nqbot,192.0.2.10,85\nqbot,192.0.2.11,250\nqbot,192.0.2.12\n";
    let l = parse_csv(text.as_bytes(), Path::new("x.csv"), &options).expect("parses");
    let got: Vec<(String, u8)> =
        l.indicators.iter().map(|i| (i.value().to_string(), i.confidence())).collect();
    assert_eq!(got, [("192.0.2.10".into(), 85), ("192.0.2.11".into(), 100)]);
    assert_eq!(l.report.rejected[0].location, Location::Line(4));
    assert_eq!(l.report.rejected[0].reason, RejectReason::MissingColumn("2".into()));

    let missing = CsvOptions { value: Column::Name("ioc".into()), ..options };
    let err = parse_csv(text.as_bytes(), Path::new("x.csv"), &missing).expect_err("no such column");
    assert_eq!(err.to_string(), "x.csv: no column `ioc` in the header");
}

#[test]
fn whole_file_failures_are_all_reported_and_nothing_is_built() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let good = tmp.path().join("good.txt");
    std::fs::write(&good, "evil.example\n").expect("write");
    let bad_json = tmp.path().join("event.json");
    std::fs::write(&bad_json, "{\"Event\": {\"Attribute\": [\n  {\"type\": \"domain\",}\n]}}")
        .expect("write");
    let unknown_json = tmp.path().join("other.json");
    std::fs::write(&unknown_json, "{\"hello\": 1}").expect("write");
    let missing = tmp.path().join("missing.txt");
    let sources: Vec<FeedSource> =
        [&good, &bad_json, &unknown_json, &missing].into_iter().map(|p| p.as_path().into()).collect();
    let errors = load_sources(&sources, MatchFields::default()).expect_err("three files fail").0;
    assert_eq!(errors.len(), 3);
    assert!(
        matches!(&errors[0], LoadError::Json { path, line: 2, .. } if path == &bad_json),
        "{:?}",
        errors[0]
    );
    assert!(matches!(&errors[1], LoadError::Format { path, .. } if path == &unknown_json));
    assert!(matches!(&errors[2], LoadError::Io { path, .. } if path == &missing));
    assert!(errors[2].to_string().starts_with(&format!("{}: cannot read", missing.display())));
}

#[test]
fn sources_detect_their_format() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let write = |name: &str, text: &str| {
        let p = tmp.path().join(name);
        std::fs::write(&p, text).expect("write");
        p
    };
    let ipsum = write("ipsum.txt", "# header\n192.0.2.1\t7\n192.0.2.2\t2\n");
    let trails = write("trails.csv", "evil.example,emotet (malware),(static)\n");
    let plain = write("plain", "evil.example\n");
    let wl = write(
        "wl.json",
        r#"{"name":"mine","type":"string","list":["evil.example"],"description":"","version":1}"#,
    );
    let forced =
        FeedSource::new(write("forced.txt", "evil.example\n"), FeedFormat::List(ListOptions::default()));
    let sources = vec![
        ipsum.as_path().into(),
        trails.as_path().into(),
        plain.as_path().into(),
        wl.as_path().into(),
        forced,
    ];
    let (set, report) = load_sources(&sources, MatchFields::default()).expect("loads");
    let formats: Vec<&str> = report.files.iter().map(|f| f.format).collect();
    assert_eq!(formats, ["csv", "csv", "list", "misp-warninglist", "list"]);
    assert_eq!(report.files[0].loaded, 2);
    assert_eq!(
        report.suppressed(),
        3,
        "evil.example from three feeds, suppressed by the `mine` warning-list"
    );
    assert_eq!(set.len(), 2);
    let conf: Vec<u8> = set.iter().map(|i| i.confidence()).collect();
    assert_eq!(conf, [70, 20]);
}

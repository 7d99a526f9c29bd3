//! The shared suricata-verify corpus (394 `eve.json`, 8,853 records written by Suricata
//! 7.0.10): zero rejections, and every mapped field of every record checked against the raw
//! record parsed on its own.

use std::path::PathBuf;
use std::sync::OnceLock;

use serde_json::{Value, json};
use ward_model::{Event, FieldValue};

use super::{KIND, int, ip, non_empty, one, raw_resolved, text};
use crate::common::{decode, decode_paths};

/// One corpus record: its test folder, the raw record parsed on its own, and the event.
struct Decoded {
    test: String,
    raw: Value,
    event: Event,
}

/// Every `eve.json` of the shared suricata-verify corpus, sorted.
fn corpus_files() -> Option<Vec<PathBuf>> {
    let dir = ward_testkit::shared("network/suricata_verify_eve")?;
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("corpus readable")
        .map(|e| e.expect("entry").path().join("eve.json"))
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    Some(files)
}

/// The whole corpus decoded once, each event paired with its raw line.
fn corpus() -> Option<&'static [Decoded]> {
    static CORPUS: OnceLock<Option<Vec<Decoded>>> = OnceLock::new();
    CORPUS
        .get_or_init(|| {
            let mut out = Vec::new();
            for file in corpus_files()? {
                let test = file
                    .parent()
                    .and_then(|p| p.file_name())
                    .expect("test folder")
                    .to_string_lossy()
                    .into_owned();
                let text = std::fs::read_to_string(&file).expect("eve.json readable");
                let c = decode(KIND, text.as_bytes());
                assert!(c.rejections.is_empty(), "{test}: {:?}", c.rejections);
                let lines = text.lines().filter(|l| !l.trim().is_empty());
                for (line, event) in lines.zip(c.events) {
                    let raw = serde_json::from_str(line).expect("corpus line is JSON");
                    out.push(Decoded { test: test.clone(), raw, event });
                }
            }
            Some(out)
        })
        .as_deref()
}

#[test]
fn decodes_every_line_without_rejection() {
    let Some(files) = corpus_files() else { return };
    assert_eq!(files.len(), 394, "suricata-verify tests with an eve.json");
    let lines: usize = files
        .iter()
        .map(|f| std::fs::read_to_string(f).unwrap().lines().filter(|l| !l.trim().is_empty()).count())
        .sum();
    let (c, summary) = decode_paths(KIND, &files);
    assert!(c.rejections.is_empty(), "{:?}", &c.rejections[..c.rejections.len().min(5)]);
    assert_eq!(summary.rejected(), 0);
    assert_eq!(c.events.len(), lines);
    assert_eq!(summary.decoded(), lines as u64);
    assert_eq!(lines, 8853);
}

#[test]
fn common_members_map_to_ecs() {
    let Some(corpus) = corpus() else { return };
    for d in corpus {
        let (raw, ev) = (&d.raw, &d.event);
        let ctx = format!("{}: {raw}", d.test);
        let ts = ward_decode::util::parse_timestamp(raw["timestamp"].as_str().unwrap()).unwrap();
        assert_eq!(ev.timestamp(), ts, "{ctx}");
        let dataset = format!("suricata.{}", raw["event_type"].as_str().unwrap());
        assert_eq!(ev.str("event.dataset"), Some(dataset.as_str()), "{ctx}");
        assert_eq!(ev.get("source.ip"), raw.get("src_ip").map(|v| ip(v.as_str().unwrap())).as_ref(), "{ctx}");
        assert_eq!(
            ev.get("destination.ip"),
            raw.get("dest_ip").map(|v| ip(v.as_str().unwrap())).as_ref(),
            "{ctx}"
        );
        assert_eq!(ev.get("source.port"), raw.get("src_port").map(int).as_ref(), "{ctx}");
        assert_eq!(ev.get("destination.port"), raw.get("dest_port").map(int).as_ref(), "{ctx}");
        let proto = raw.get("proto").and_then(Value::as_str).map(str::to_ascii_lowercase);
        assert_eq!(ev.str("network.transport"), proto.as_deref(), "{ctx}");
        assert_eq!(ev.get("network.community_id"), raw.get("community_id").map(text).as_ref(), "{ctx}");
        assert_eq!(ev.get("suricata.flow_id"), raw.get("flow_id").map(int).as_ref(), "{ctx}");
        assert_eq!(ev.get("suricata.pcap_cnt"), raw.get("pcap_cnt").map(int).as_ref(), "{ctx}");
        assert_eq!(ev.get("suricata.tx_id"), raw.get("tx_id").map(int).as_ref(), "{ctx}");
        let vlan = raw.get("vlan").map(|v| FieldValue::from(v[0].to_string()));
        assert_eq!(ev.get("network.vlan.id"), vlan.as_ref(), "{ctx}");
        match raw.get("app_proto").and_then(Value::as_str) {
            Some("failed") => assert_eq!(ev.str("suricata.app_proto"), Some("failed"), "{ctx}"),
            p => assert_eq!(ev.str("network.protocol"), p, "{ctx}"),
        }
    }
}

#[test]
fn alerts_keep_rule_severity_and_five_tuple() {
    let Some(corpus) = corpus() else { return };
    let mut alerts = 0;
    for d in corpus.iter().filter(|d| d.raw["event_type"] == "alert") {
        alerts += 1;
        let (a, ev) = (&d.raw["alert"], &d.event);
        let ctx = format!("{}: {}", d.test, d.raw);
        assert_eq!(ev.str("event.kind"), Some("alert"), "{ctx}");
        assert_eq!(ev.str("rule.id"), Some(a["signature_id"].to_string().as_str()), "{ctx}");
        assert_eq!(ev.str("rule.version"), Some(a["rev"].to_string().as_str()), "{ctx}");
        assert_eq!(ev.get("suricata.alert.gid"), Some(&int(&a["gid"])), "{ctx}");
        assert_eq!(ev.get("event.severity"), Some(&int(&a["severity"])), "{ctx}");
        assert_eq!(ev.get("rule.name"), non_empty(a.get("signature")).as_ref(), "{ctx}");
        assert_eq!(ev.get("rule.category"), non_empty(a.get("category")).as_ref(), "{ctx}");
        assert_eq!(ev.str("event.action"), a["action"].as_str(), "{ctx}");
        let want_type = if a["action"] == "allowed" { "allowed" } else { "denied" };
        assert_eq!(ev.get("event.type"), Some(&FieldValue::List(vec![want_type.into()])), "{ctx}");
        let cats = ev.get("event.category").unwrap().to_string();
        assert_eq!(cats, "network,intrusion_detection", "{ctx}");
        if let Some(meta) = a.get("metadata") {
            for (k, v) in meta.as_object().unwrap() {
                assert_eq!(
                    ev.get(&format!("suricata.alert.metadata.{k}")),
                    FieldValue::from_json(v.clone()).as_ref()
                );
            }
        }
        if let Some(ip_text) = d.raw.get("src_ip").and_then(Value::as_str) {
            let related = ev.get("related.ip").unwrap();
            assert!(matches!(related, FieldValue::List(l) if l.contains(&ip(ip_text))), "{ctx}");
        }
    }
    assert_eq!(alerts, 4753);
}

#[test]
fn flow_counters_follow_the_packet_direction() {
    let Some(corpus) = corpus() else { return };
    let mut checked = 0;
    for d in corpus.iter().filter(|d| d.raw.get("flow").is_some()) {
        let (f, ev) = (&d.raw["flow"], &d.event);
        let ctx = format!("{}: {}", d.test, d.raw);
        let swap = d.raw.get("direction").and_then(Value::as_str) == Some("to_client");
        let (src, dst) = if swap { ("toclient", "toserver") } else { ("toserver", "toclient") };
        assert_eq!(ev.get("source.bytes"), Some(&int(&f[format!("bytes_{src}")])), "{ctx}");
        assert_eq!(ev.get("destination.bytes"), Some(&int(&f[format!("bytes_{dst}")])), "{ctx}");
        assert_eq!(ev.get("source.packets"), Some(&int(&f[format!("pkts_{src}")])), "{ctx}");
        assert_eq!(ev.get("destination.packets"), Some(&int(&f[format!("pkts_{dst}")])), "{ctx}");
        let total = f["bytes_toserver"].as_i64().unwrap() + f["bytes_toclient"].as_i64().unwrap();
        assert_eq!(ev.get("network.bytes"), Some(&FieldValue::Int(total)), "{ctx}");
        let start = ward_decode::util::parse_timestamp(f["start"].as_str().unwrap()).unwrap();
        assert_eq!(ev.str("event.start").and_then(ward_decode::util::parse_timestamp), Some(start), "{ctx}");
        if let Some(end) = f.get("end").and_then(Value::as_str) {
            let end = ward_decode::util::parse_timestamp(end).unwrap();
            assert_eq!(ev.str("event.end").and_then(ward_decode::util::parse_timestamp), Some(end), "{ctx}");
            let ns = (end - start).num_nanoseconds().unwrap();
            assert_eq!(ev.get("event.duration"), Some(&FieldValue::Int(ns)), "{ctx}");
            assert_eq!(ev.get("suricata.flow.state"), f.get("state").map(text).as_ref(), "{ctx}");
            assert_eq!(ev.get("suricata.flow.reason"), f.get("reason").map(text).as_ref(), "{ctx}");
            assert_eq!(ev.get("suricata.flow.age"), f.get("age").map(int).as_ref(), "{ctx}");
        }
        if d.raw["event_type"] == "flow" {
            assert_eq!(ev.get("event.type").unwrap().to_string(), "connection,end", "{ctx}");
            if let Some(flags) = d.raw.get("tcp").and_then(|t| t.get("tcp_flags")) {
                assert_eq!(ev.get("suricata.tcp.tcp_flags"), Some(&text(flags)), "{ctx}");
            }
        }
        checked += 1;
    }
    assert_eq!(checked, 5797);
}

#[test]
fn dns_keeps_question_answers_and_addresses() {
    let Some(corpus) = corpus() else { return };
    let mut checked = 0;
    for d in corpus.iter().filter(|d| d.raw["event_type"] == "dns") {
        let (dns, ev) = (&d.raw["dns"], &d.event);
        let ctx = format!("{}: {}", d.test, d.raw);
        assert_eq!(ev.get("dns.question.name"), dns.get("rrname").map(text).as_ref(), "{ctx}");
        assert_eq!(ev.get("dns.question.type"), dns.get("rrtype").map(text).as_ref(), "{ctx}");
        assert_eq!(ev.str("dns.id"), dns.get("id").map(Value::to_string).as_deref(), "{ctx}");
        assert_eq!(ev.get("dns.type"), dns.get("type").map(text).as_ref(), "{ctx}");
        assert_eq!(ev.get("dns.response_code"), dns.get("rcode").map(text).as_ref(), "{ctx}");
        let answers = ev.get("dns.answers").map(|a| serde_json::to_value(a).unwrap());
        let raw_answers = dns.get("answers").and_then(Value::as_array);
        assert_eq!(answers.as_ref().map(|a| a.as_array().unwrap().len()), raw_answers.map(Vec::len), "{ctx}");
        for (ecs, raw) in
            answers.iter().flat_map(|a| a.as_array().unwrap()).zip(raw_answers.into_iter().flatten())
        {
            assert_eq!(ecs["name"], raw["rrname"], "{ctx}");
            assert_eq!(ecs["type"], raw["rrtype"], "{ctx}");
            assert_eq!(ecs["ttl"], raw["ttl"], "{ctx}");
            assert!(ecs["data"].is_string(), "{ctx}");
            if let Some(rdata) = raw.get("rdata") {
                assert_eq!(&ecs["data"], rdata, "{ctx}");
            }
        }
        let resolved = raw_resolved(dns);
        let want = (!resolved.is_empty()).then_some(FieldValue::List(resolved));
        assert_eq!(ev.get("dns.resolved_ip"), want.as_ref(), "{ctx}");
        let outcome = match dns.get("rcode").and_then(Value::as_str) {
            None => None,
            Some("NOERROR") => Some("success"),
            Some(_) => Some("failure"),
        };
        assert_eq!(ev.str("event.outcome"), outcome, "{ctx}");
        checked += 1;
    }
    assert_eq!(checked, 845);
}

#[test]
fn http_tls_and_files_map_to_ecs() {
    let Some(corpus) = corpus() else { return };
    let (mut http, mut tls, mut files) = (0, 0, 0);
    for d in corpus {
        let (raw, ev) = (&d.raw, &d.event);
        let ctx = format!("{}: {raw}", d.test);
        if let Some(h) = raw.get("http") {
            http += 1;
            assert_eq!(ev.get("url.original"), h.get("url").map(text).as_ref(), "{ctx}");
            assert_eq!(ev.get("url.domain"), h.get("hostname").map(text).as_ref(), "{ctx}");
            assert_eq!(ev.get("http.request.method"), h.get("http_method").map(text).as_ref(), "{ctx}");
            assert_eq!(ev.get("http.response.status_code"), h.get("status").map(int).as_ref(), "{ctx}");
            assert_eq!(ev.get("user_agent.original"), h.get("http_user_agent").map(text).as_ref(), "{ctx}");
            assert_eq!(ev.get("http.request.referrer"), h.get("http_refer").map(text).as_ref(), "{ctx}");
            assert_eq!(ev.get("http.response.body.bytes"), h.get("length").map(int).as_ref(), "{ctx}");
            let version = h.get("protocol").and_then(Value::as_str).and_then(|p| p.strip_prefix("HTTP/"));
            assert_eq!(ev.str("http.version"), version.or(h.get("version").and_then(Value::as_str)), "{ctx}");
        }
        if let Some(t) = raw.get("tls") {
            tls += 1;
            assert_eq!(ev.get("tls.server.subject"), non_empty(t.get("subject")).as_ref(), "{ctx}");
            assert_eq!(ev.get("tls.server.issuer"), non_empty(t.get("issuerdn")).as_ref(), "{ctx}");
            assert_eq!(ev.get("tls.client.server_name"), non_empty(t.get("sni")).as_ref(), "{ctx}");
            let sha1 =
                t.get("fingerprint").and_then(Value::as_str).map(|f| f.replace(':', "").to_uppercase());
            assert_eq!(ev.str("tls.server.hash.sha1"), sha1.as_deref(), "{ctx}");
            assert_eq!(ev.get("suricata.tls.version"), t.get("version").map(text).as_ref(), "{ctx}");
            let version = match t.get("version").and_then(Value::as_str) {
                Some("TLSv1") => Some("1.0"),
                Some(v) if v.len() == 7 => v.strip_prefix("TLS "),
                _ => None,
            };
            assert_eq!(ev.str("tls.version"), version, "{ctx}");
            assert_eq!(ev.str("tls.version_protocol"), version.map(|_| "tls"), "{ctx}");
        }
        if let Some(f) = raw.get("fileinfo") {
            files += 1;
            assert_eq!(ev.get("file.path"), f.get("filename").map(text).as_ref(), "{ctx}");
            assert_eq!(ev.get("file.size"), f.get("size").map(int).as_ref(), "{ctx}");
            assert_eq!(ev.get("suricata.fileinfo.state"), f.get("state").map(text).as_ref(), "{ctx}");
            for h in ["md5", "sha1", "sha256"] {
                assert_eq!(ev.get(&format!("file.hash.{h}")), f.get(h).map(text).as_ref(), "{ctx}");
            }
        }
    }
    assert_eq!((http, tls, files), (367, 71, 134));
}

#[test]
fn stats_are_metrics_kept_whole_and_anomalies_events() {
    let Some(corpus) = corpus() else { return };
    for d in corpus {
        match d.raw["event_type"].as_str() {
            Some("stats") => {
                assert_eq!(d.event.str("event.kind"), Some("metric"));
                assert_eq!(
                    d.event.get("suricata.stats"),
                    Some(&FieldValue::Json(Box::new(d.raw["stats"].clone())))
                );
            }
            Some("anomaly") => {
                assert_eq!(d.event.str("event.kind"), Some("event"));
                for (k, v) in d.raw["anomaly"].as_object().unwrap() {
                    assert_eq!(d.event.get(&format!("suricata.anomaly.{k}")), Some(&text(v)), "{}", d.test);
                }
            }
            _ => {}
        }
    }
}

#[test]
fn structured_members_never_become_both_leaf_and_parent() {
    let Some(corpus) = corpus() else { return };
    for d in corpus {
        let paths: Vec<&str> = d.event.fields().iter().map(|(k, _)| k).collect();
        for w in paths.windows(2) {
            let nested = w[1].strip_prefix(w[0]).is_some_and(|rest| rest.starts_with('.'));
            assert!(!nested, "{}: {} is a leaf and a parent", d.test, w[0]);
        }
    }
}

/// Suricata 8 (DNS log v3) writes `type` `request`/`response` and the question in `queries`.
/// The suricata-verify test `dns-udp-eve-log-srv` requires (min-version 8) a response with
/// `dns.queries[0].rrname` `_sip._udp.sip.voice.google.com`, rrtype `SRV`, rcode `NOERROR` and
/// two SRV answers; its Suricata 7 record from the corpus is rewritten to that layout.
#[test]
fn dns_v3_layout_meets_the_suricata_verify_expectations() {
    let Some(dir) = ward_testkit::shared("network/suricata_verify_eve/dns__dns-udp-eve-log-srv") else {
        return;
    };
    let text = std::fs::read_to_string(dir.join("eve.json")).unwrap();
    let v2: Value = serde_json::from_str(text.lines().nth(1).unwrap()).unwrap();
    let mut v3 = v2.clone();
    let dns = v3["dns"].as_object_mut().unwrap();
    let question =
        json!([{ "rrname": dns.remove("rrname").unwrap(), "rrtype": dns.remove("rrtype").unwrap() }]);
    dns.insert("version".into(), json!(3));
    dns.insert("type".into(), json!("response"));
    dns.insert("queries".into(), question);
    let ev = one(&v3.to_string());
    assert_eq!(ev.str("dns.type"), Some("answer"));
    assert_eq!(ev.str("dns.question.name"), Some("_sip._udp.sip.voice.google.com"));
    assert_eq!(ev.str("dns.question.type"), Some("SRV"));
    assert_eq!(ev.str("dns.response_code"), Some("NOERROR"));
    assert_eq!(ev.str("event.outcome"), Some("success"));
    let answers = serde_json::to_value(ev.get("dns.answers").unwrap()).unwrap();
    assert_eq!(answers[0]["data"], "20 1 5060 sip-anycast-2.voice.google.com");
    assert_eq!(answers[1]["data"], "10 1 5060 sip-anycast-1.voice.google.com");
    assert_eq!(answers[1]["srv"]["name"], "sip-anycast-1.voice.google.com");
    let flags = ev.get("dns.header_flags").unwrap().to_string();
    assert!(flags == "RA,RD" || flags == "RD,RA", "{flags}");
    assert_eq!(serde_json::to_value(ev.get("suricata.dns.queries").unwrap()).unwrap(), v3["dns"]["queries"]);
}

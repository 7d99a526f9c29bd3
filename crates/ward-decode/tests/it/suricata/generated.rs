//! Records Suricata 7.0.10 wrote here with drop, netflow, ethernet, sensor-name, JA4 and
//! grouped-DNS logging on (`testdata/suricata/eve-generated.json`), and the DNS v1 layout.

use serde_json::{Value, json};
use ward_model::{Event, FieldValue};

use super::{KIND, int, ip, one, raw_resolved, text};
use crate::common::{decode, fixture};

/// The records Suricata wrote here with drop, netflow, ethernet and sensor-name logging on.
fn generated() -> Vec<(Value, Event)> {
    let text = std::fs::read_to_string(fixture("suricata/eve-generated.json")).expect("fixture readable");
    let c = decode(KIND, text.as_bytes());
    assert!(c.rejections.is_empty(), "{:?}", c.rejections);
    text.lines().map(|l| serde_json::from_str(l).expect("fixture line is JSON")).zip(c.events).collect()
}

#[test]
fn ips_drops_are_denied_and_keep_the_dropping_rule() {
    let all = generated();
    let (raw, drop) = all.iter().find(|(r, _)| r["event_type"] == "drop").unwrap();
    assert_eq!(drop.str("event.kind"), Some("event"));
    assert_eq!(drop.get("event.type").unwrap().to_string(), "connection,denied");
    assert_eq!(drop.str("event.reason"), raw["drop"]["reason"].as_str());
    assert_eq!(drop.str("rule.id"), Some(raw["alert"]["signature_id"].to_string().as_str()));
    assert_eq!(drop.str("event.action"), Some("blocked"));
    assert_eq!(drop.get("suricata.drop.ttl"), Some(&int(&raw["drop"]["ttl"])));
    assert_eq!(drop.str("suricata.verdict.action"), Some("drop"));
    let (raw_alert, alert) = all.iter().find(|(r, _)| r["event_type"] == "alert").unwrap();
    assert_eq!(alert.get("event.type").unwrap().to_string(), "denied");
    assert_eq!(alert.get("suricata.packet"), Some(&text(&raw_alert["packet"])));
    assert_eq!(alert.get("suricata.packet_info.linktype"), Some(&int(&raw_alert["packet_info"]["linktype"])));
}

#[test]
fn netflow_records_count_one_direction_each() {
    let all = generated();
    let netflows: Vec<_> = all.iter().filter(|(r, _)| r["event_type"] == "netflow").collect();
    assert_eq!(netflows.len(), 2);
    for (raw, ev) in &netflows {
        let nf = &raw["netflow"];
        assert_eq!(ev.get("source.bytes"), Some(&int(&nf["bytes"])));
        assert_eq!(ev.get("network.bytes"), Some(&int(&nf["bytes"])));
        assert_eq!(ev.get("source.packets"), Some(&int(&nf["pkts"])));
        assert!(ev.get("destination.bytes").is_none());
        assert_eq!(ev.get("suricata.netflow.max_ttl"), Some(&int(&nf["max_ttl"])));
        assert_eq!(ev.get("event.type").unwrap().to_string(), "connection,end");
    }
    // The two directions of one flow: each one's source is the other's destination.
    assert_eq!(netflows[0].1.get("source.ip"), netflows[1].1.get("destination.ip"));
    let (raw_flow, flow) = all.iter().find(|(r, _)| r["event_type"] == "flow").unwrap();
    let sum: i64 = netflows.iter().map(|(r, _)| r["netflow"]["bytes"].as_i64().unwrap()).sum();
    assert_eq!(flow.get("network.bytes"), Some(&FieldValue::Int(sum)));
    assert_eq!(flow.str("suricata.flow.action"), raw_flow["flow"]["action"].as_str());
}

#[test]
fn sensor_name_and_ethernet_addresses_map_to_ecs() {
    for (raw, ev) in generated() {
        assert_eq!(ev.str("observer.hostname"), Some("ward-sensor-1"));
        let ecs_mac = |m: &Value| FieldValue::from(m.as_str().unwrap().replace(':', "-").to_uppercase());
        let ether = &raw["ether"];
        if let Some(m) = ether.get("src_mac") {
            assert_eq!(ev.get("source.mac"), Some(&ecs_mac(m)));
            assert_eq!(ev.get("destination.mac"), Some(&ecs_mac(&ether["dest_mac"])));
        }
        if let Some(list) = ether.get("src_macs") {
            let want = FieldValue::List(list.as_array().unwrap().iter().map(ecs_mac).collect());
            assert_eq!(ev.get("source.mac"), Some(&want));
        }
        assert_eq!(ev.get("suricata.pcap_filename"), raw.get("pcap_filename").map(text).as_ref());
    }
}

#[test]
fn tls_and_quic_fingerprints_and_certificates_map_to_ecs() {
    let all = generated();
    let mut seen = 0;
    for (raw, ev) in &all {
        let Some(hs) = raw.get("tls").or(raw.get("quic")) else { continue };
        seen += 1;
        assert_eq!(ev.get("tls.client.ja3"), hs.get("ja3").map(|j| text(&j["hash"])).as_ref());
        assert_eq!(ev.get("tls.server.ja3s"), hs.get("ja3s").map(|j| text(&j["hash"])).as_ref());
        assert_eq!(ev.get("tls.client.ja4"), hs.get("ja4").map(text).as_ref());
        assert_eq!(ev.get("tls.client.server_name"), hs.get("sni").map(text).as_ref());
        assert_eq!(ev.get("server.domain"), hs.get("sni").map(text).as_ref());
        assert_eq!(ev.get("tls.server.certificate"), hs.get("certificate").map(text).as_ref());
        let chain =
            hs.get("chain").map(|c| FieldValue::List(c.as_array().unwrap().iter().map(text).collect()));
        assert_eq!(ev.get("tls.server.certificate_chain"), chain.as_ref());
    }
    assert_eq!(seen, 3);
    let cert = all.iter().find(|(r, _)| r["tls"].get("subject").is_some()).map(|(_, e)| e).unwrap();
    assert_eq!(cert.get("tls.server.x509.subject.common_name").unwrap().to_string(), "tls");
    assert_eq!(cert.str("tls.server.x509.not_after"), Some("2019-07-23T18:44:07Z"));
    assert_eq!(cert.str("tls.server.x509.serial_number"), Some("0091BA747BF28A9AE4"));
    assert_eq!((cert.str("tls.version_protocol"), cert.str("tls.version")), (Some("tls"), Some("1.2")));
}

#[test]
fn grouped_only_dns_answers_still_give_resolved_addresses() {
    let all = generated();
    let (raw, ev) = all.iter().find(|(r, _)| r["dns"].get("grouped").is_some()).unwrap();
    assert!(raw["dns"].get("answers").is_none());
    assert!(ev.get("dns.answers").is_none());
    assert_eq!(ev.get("dns.resolved_ip"), Some(&FieldValue::List(raw_resolved(&raw["dns"]))));
    assert_eq!(
        ev.get("suricata.dns.grouped.CNAME").unwrap().to_string(),
        "programme-tv.net.edgesuite.net,a1859.g.akamai.net"
    );
}

/// A real v2 answer from the corpus (test `dns-udp-z-flag-fp`), for the layout tests.
fn real_v2_answer() -> Value {
    let sample = std::fs::read_to_string(fixture("suricata/eve-sample.json")).expect("fixture readable");
    serde_json::from_str(sample.lines().nth(5).expect("line 6")).expect("fixture line is JSON")
}

/// Suricata 4 wrote one record per answer, with `rrname`/`rrtype`/`ttl`/`rdata` at the top of
/// `dns` (the layout of the "old DNS answer" example in the Suricata user guide); here the
/// real v2 answer is split that way.
#[test]
fn dns_v1_answer_records_each_carry_their_answer() {
    let v2 = real_v2_answer();
    let answers = v2["dns"]["answers"].as_array().unwrap().clone();
    assert!(answers.len() >= 2);
    for a in &answers {
        let mut v1 = v2.clone();
        let dns = v1["dns"].as_object_mut().unwrap();
        for k in ["version", "answers", "grouped"] {
            dns.remove(k);
        }
        for k in ["rrname", "rrtype", "ttl", "rdata"] {
            dns.insert(k.into(), a[k].clone());
        }
        let ev = one(&v1.to_string());
        assert_eq!(ev.str("dns.type"), Some("answer"));
        let ecs = json!([{ "name": a["rrname"], "type": a["rrtype"], "ttl": a["ttl"], "data": a["rdata"] }]);
        assert_eq!(serde_json::to_value(ev.get("dns.answers").unwrap()).unwrap(), ecs);
        let resolved = (a["rrtype"] == "A").then(|| FieldValue::List(vec![ip(a["rdata"].as_str().unwrap())]));
        assert_eq!(ev.get("dns.resolved_ip"), resolved.as_ref());
        assert!(ev.get("suricata.dns.ttl").is_none() && ev.get("suricata.dns.rdata").is_none());
    }
}

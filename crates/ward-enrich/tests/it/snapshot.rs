//! A real Cowrie login, fully enriched, as the store will see it.

use std::net::IpAddr;

use crate::common::{cowrie, lit, mmdb};

#[test]
fn enriched_cowrie_login_snapshot() {
    let (Some(city), Some(asn), Some(anon)) = (
        mmdb("GeoIP2-City-Test.mmdb"),
        mmdb("GeoLite2-ASN-Test.mmdb"),
        mmdb("GeoIP2-Anonymous-IP-Test.mmdb"),
    ) else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let feed = tmp.path().join("honeypot-attackers.txt");
    std::fs::write(&feed, "# attackers seen by a partner honeypot\n81.2.69.142\n").unwrap();
    let assets = tmp.path().join("assets.csv");
    std::fs::write(
        &assets,
        "name,ip_or_cidr,owner,criticality,tags\nssh-honeypot,89.160.20.0/24,soc,high,sensor;dmz\n",
    )
    .unwrap();
    let chain = crate::common::chain(&format!(
        "[geoip]\ncity = {}\nasn = {}\nanonymous = {}\n[ioc]\nfiles = [{}]\n[assets]\ncsv = {}\n",
        lit(&city),
        lit(&asn),
        lit(&anon),
        lit(&feed),
        lit(&assets)
    ));
    // The real log was recorded over loopback; its addresses are swapped for test-database
    // addresses (81.2.69.142: London, every anonymizer flag; 89.160.20.128: AS29518).
    let mut login = cowrie().into_iter().find(|e| e.str("event.action") == Some("login.success")).unwrap();
    login.set("source.ip", "81.2.69.142".parse::<IpAddr>().unwrap());
    login.set("destination.ip", "89.160.20.128".parse::<IpAddr>().unwrap());
    let mut batch = vec![login];
    chain.enrich(&mut batch);
    insta::assert_json_snapshot!(batch[0]);
}

//! Properties checked against brute force: whatever is loaded, a value matches exactly the
//! indicators that cover it — addresses inside networks, names under listed domains, exact
//! digests — and nothing else.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::Arc;

use ipnet::IpNet;
use proptest::prelude::*;
use ward_ioc::{Indicator, IndicatorKind, IndicatorSet, Observable};

fn feed() -> Arc<str> {
    Arc::from("prop")
}

fn v4_net() -> impl Strategy<Value = IpNet> {
    (any::<u32>(), 0u8..=32)
        .prop_map(|(a, len)| IpNet::new(Ipv4Addr::from(a).into(), len).expect("len ≤ 32").trunc())
}

fn v6_net() -> impl Strategy<Value = IpNet> {
    (any::<u128>(), 0u8..=128)
        .prop_map(|(a, len)| IpNet::new(Ipv6Addr::from(a).into(), len).expect("len ≤ 128").trunc())
}

fn nets() -> impl Strategy<Value = Vec<IpNet>> {
    prop::collection::vec(prop_oneof![3 => v4_net(), 1 => v6_net()], 1..60)
}

fn set_of_nets(nets: &[IpNet]) -> IndicatorSet {
    let mut b = IndicatorSet::builder();
    for net in nets {
        b.add(Indicator::new(IndicatorKind::Cidr, &net.to_string(), feed()).expect("valid network"));
    }
    b.build()
}

/// An address inside `net`, chosen by `bits`.
fn inside(net: &IpNet, bits: u128) -> IpAddr {
    match net {
        IpNet::V4(n) => {
            let host = u32::try_from(bits & u128::from(u32::MAX)).expect("masked") & u32::from(n.hostmask());
            IpAddr::V4(Ipv4Addr::from(u32::from(n.network()) | host))
        }
        IpNet::V6(n) => {
            IpAddr::V6(Ipv6Addr::from(u128::from(n.network()) | (bits & u128::from(n.hostmask()))))
        }
    }
}

/// The distinct networks containing `ip`, by linear scan.
fn brute(nets: &[IpNet], ip: IpAddr) -> Vec<String> {
    let mut out: Vec<String> = nets.iter().filter(|n| n.contains(&ip)).map(ToString::to_string).collect();
    out.sort();
    out.dedup();
    out
}

fn found(set: &IndicatorSet, ip: IpAddr) -> Vec<String> {
    let mut out: Vec<String> = set.lookup(Observable::Ip(ip)).iter().map(|i| i.value().to_string()).collect();
    out.sort();
    out
}

/// Enough networks of each family that the tries are frozen with their /16 jump tables.
fn many_nets() -> impl Strategy<Value = Vec<IpNet>> {
    let v4 = (any::<u32>(), 8u8..=32)
        .prop_map(|(a, l)| IpNet::new(Ipv4Addr::from(a).into(), l).expect("len").trunc());
    let v6 = (any::<u128>(), 8u8..=64)
        .prop_map(|(a, l)| IpNet::new(Ipv6Addr::from(a).into(), l).expect("len").trunc());
    (prop::collection::vec(v4, 6_000), prop::collection::vec(v6, 6_000)).prop_map(|(mut a, b)| {
        a.extend(b);
        a
    })
}

fn label() -> impl Strategy<Value = String> {
    "[a-z0-9][a-z0-9-]{0,8}[a-z0-9]"
}

/// Two or three labels, the last one alphabetic (a numeric top-level label is refused).
fn domain() -> impl Strategy<Value = String> {
    (prop::collection::vec(label(), 1..3), "[a-z]{2,6}").prop_map(|(l, tld)| format!("{}.{tld}", l.join(".")))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn an_address_inside_any_loaded_network_always_matches(nets in nets(), pick in any::<prop::sample::Index>(), bits in any::<u128>()) {
        let set = set_of_nets(&nets);
        let net = nets[pick.index(nets.len())];
        let ip = inside(&net, bits);
        let hits = found(&set, ip);
        prop_assert!(!hits.is_empty(), "{ip} inside {net} matched nothing");
        prop_assert_eq!(hits, brute(&nets, ip));
    }

    #[test]
    fn any_address_matches_exactly_the_networks_containing_it(nets in nets(), probes in prop::collection::vec(any::<u128>(), 1..40)) {
        let set = set_of_nets(&nets);
        for p in probes {
            for ip in [IpAddr::V6(Ipv6Addr::from(p)), IpAddr::V4(Ipv4Addr::from(u32::try_from(p >> 96).expect("top bits")))] {
                prop_assert_eq!(found(&set, ip), brute(&nets, ip));
            }
        }
    }

    #[test]
    fn names_under_a_listed_domain_always_match(listed in prop::collection::vec(domain(), 1..30), pick in any::<prop::sample::Index>(), prefix in prop::collection::vec(label(), 0..4)) {
        let set = domains(&listed);
        let base = &listed[pick.index(listed.len())];
        let name = prefix.iter().map(String::as_str).chain([base.as_str()]).collect::<Vec<_>>().join(".");
        let hits: Vec<String> = set.lookup(Observable::Domain(&name.to_uppercase())).iter().map(|i| i.value().to_string()).collect();
        prop_assert!(hits.contains(base), "{name} did not match {base}: {hits:?}");
    }

    #[test]
    fn a_name_matches_only_listed_label_suffixes(listed in prop::collection::vec(domain(), 1..30), probes in prop::collection::vec(domain(), 1..30)) {
        let set = domains(&listed);
        for name in probes {
            let mut hits: Vec<String> = set.lookup(Observable::Domain(&name)).iter().map(|i| i.value().to_string()).collect();
            hits.sort();
            let mut want: Vec<String> = listed.iter().filter(|d| name == **d || name.ends_with(&format!(".{d}"))).cloned().collect();
            want.sort();
            want.dedup();
            prop_assert_eq!(hits, want);
        }
    }

    #[test]
    fn digests_match_if_and_only_if_listed(listed in prop::collection::vec("[0-9a-f]{64}", 1..50), probes in prop::collection::vec("[0-9a-fA-F]{64}", 1..50)) {
        let mut b = IndicatorSet::builder();
        for h in &listed {
            b.add(Indicator::new(IndicatorKind::Sha256, h, feed()).expect("digest"));
        }
        let set = b.build();
        for h in listed.iter().chain(probes.iter()) {
            let want = listed.contains(&h.to_ascii_lowercase());
            prop_assert_eq!(set.contains(Observable::Hash(h)), want, "{}", h);
        }
    }

    #[test]
    fn urls_below_a_listed_directory_always_match(host in domain(), dir in prop::collection::vec("[a-zA-Z0-9_.~-]{1,8}", 0..3), rest in prop::collection::vec("[a-zA-Z0-9_~-]{1,8}", 0..4), https in any::<bool>()) {
        let dir_path: String = dir.iter().filter(|s| *s != "." && *s != "..").map(|s| format!("/{s}")).collect();
        let indicator = format!("http://{host}{dir_path}/");
        let mut b = IndicatorSet::builder();
        b.add(Indicator::new(IndicatorKind::Url, &indicator, feed()).expect("url"));
        let set = b.build();
        let scheme = if https { "https" } else { "http" };
        let observed = format!("{scheme}://{}{dir_path}/{}", host.to_uppercase(), rest.join("/"));
        prop_assert!(set.contains(Observable::Url(&observed)), "{observed} not under {indicator}");
        let sibling = format!("http://{host}{dir_path}x/");
        prop_assert!(!set.contains(Observable::Url(&sibling)), "{sibling} matched {indicator}");
    }
}

fn domains(listed: &[String]) -> IndicatorSet {
    let mut b = IndicatorSet::builder();
    for d in listed {
        b.add(Indicator::new(IndicatorKind::Domain, d, feed()).expect("domain"));
    }
    b.build()
}

proptest! {
    // Each case builds two tries of 6,000 networks and their jump tables.
    #![proptest_config(ProptestConfig::with_cases(12))]

    #[test]
    fn large_tries_agree_with_brute_force(nets in many_nets(), picks in prop::collection::vec((any::<prop::sample::Index>(), any::<u128>()), 20)) {
        let set = set_of_nets(&nets);
        for (pick, bits) in picks {
            let net = nets[pick.index(nets.len())];
            let inside_ip = inside(&net, bits);
            prop_assert_eq!(found(&set, inside_ip), brute(&nets, inside_ip));
            let any_ip = IpAddr::V4(Ipv4Addr::from(u32::try_from(bits >> 96).expect("top bits")));
            prop_assert_eq!(found(&set, any_ip), brute(&nets, any_ip));
        }
    }
}

//! Kind detection and canonical forms: table-driven, input → (kind, value) or rejection.

use ward_ioc::{IndicatorKind as K, RejectReason as R, classify};

fn ok(raw: &str) -> (K, String) {
    match classify(raw) {
        Ok((kind, value)) => (kind, value.to_string()),
        Err(e) => panic!("`{raw}` rejected: {e}"),
    }
}

fn err(raw: &str) -> R {
    match classify(raw) {
        Ok((kind, value)) => panic!("`{raw}` accepted as {kind} {value}"),
        Err(e) => e,
    }
}

#[test]
fn addresses_and_networks() {
    let cases = [
        ("192.0.2.1", K::Ipv4, "192.0.2.1"),
        ("2001:DB8::1", K::Ipv6, "2001:db8::1"),
        ("::ffff:192.0.2.1", K::Ipv4, "192.0.2.1"),
        ("10.1.2.3/8", K::Cidr, "10.0.0.0/8"),
        ("192.0.2.7/32", K::Ipv4, "192.0.2.7"),
        ("2001:DB8:0:0::/32", K::Cidr, "2001:db8::/32"),
        ("2001:db8::5/128", K::Ipv6, "2001:db8::5"),
        ("0.0.0.0/0", K::Cidr, "0.0.0.0/0"),
        ("192.0.2.1:8080", K::IpPort, "192.0.2.1:8080"),
        ("[2001:DB8::1]:443", K::IpPort, "[2001:db8::1]:443"),
    ];
    for (raw, kind, value) in cases {
        assert_eq!(ok(raw), (kind, value.to_owned()), "{raw}");
    }
    assert!(matches!(err("10.0.0.0/33"), R::InvalidCidr(_)));
    assert_eq!(err("192.0.2.1:99999"), R::InvalidPort);
    assert_eq!(K::Ipv4.normalize("2001:db8::1"), Err(R::InvalidIp));
    assert_eq!(K::Cidr.normalize("192.0.2.9").map(|v| v.to_string()), Ok("192.0.2.9/32".into()));
}

#[test]
fn domains() {
    let cases = [
        ("Evil.EXAMPLE.", "evil.example"),
        (".cc", "cc"),
        ("_dmarc.evil.example", "_dmarc.evil.example"),
        ("xn--e1afmkfd.xn--p1ai", "xn--e1afmkfd.xn--p1ai"),
        ("  a-b.example  ", "a-b.example"),
    ];
    for (raw, value) in cases {
        assert_eq!(ok(raw), (K::Domain, value.to_owned()), "{raw}");
    }
    assert_eq!(err("tk"), R::SingleLabel);
    assert_eq!(ok("domain:tk"), (K::Domain, "tk".into()), "explicit kind prefix");
    assert_eq!(err("bad..example"), R::InvalidDomain("empty label"));
    assert_eq!(err("пример.рф"), R::NonAscii);
    assert_eq!(err("1.2.3"), R::InvalidDomain("numeric top-level label"));
    assert_eq!(err(&format!("{}.example", "a".repeat(64))), R::InvalidDomain("label longer than 63 bytes"));
    assert_eq!(err("ex ample.com"), R::InvalidDomain("character not allowed in a host name"));
    assert_eq!(err("0ba[0-9]{8,15}\\.win"), R::RegexTrail);
    assert_eq!(err("   "), R::Empty);
}

#[test]
fn urls() {
    let cases = [
        ("HTTP://Evil.Example:80/a/./b/../c?x=1#frag", "http://evil.example/a/c?x=1"),
        ("https://evil.example:443", "https://evil.example/"),
        ("https://evil.example:8443/", "https://evil.example:8443/"),
        ("http://user:pw@evil.example/x", "http://evil.example/x"),
        ("http://evil.example/%7euser/%2f%41?q=%7e%2a", "http://evil.example/~user/%2FA?q=~%2A"),
        ("http://evil.example/a b", "-"),
        ("evil.example/Path/", "evil.example/Path/"),
        ("evil.example:80/x", "evil.example/x"),
        ("evil.example:8080", "evil.example:8080/"),
        ("http://[2001:DB8::1]:80/x", "http://[2001:db8::1]/x"),
        ("http://192.0.2.1/..", "http://192.0.2.1/"),
        ("http://evil.example/a?", "http://evil.example/a"),
        ("http://evil.example/caf\u{e9}", "http://evil.example/caf%C3%A9"),
    ];
    for (raw, value) in cases.iter().filter(|(_, v)| *v != "-") {
        assert_eq!(ok(raw), (K::Url, (*value).to_owned()), "{raw}");
    }
    assert_eq!(err("http://evil.example/a b"), R::InvalidUrl("whitespace or control character"));
    assert_eq!(err("http://evil.example:99999/"), R::InvalidUrl("invalid port"));
    assert_eq!(err("http:///path"), R::InvalidUrl("no host"));
    assert_eq!(err("ht!tp://evil.example/"), R::InvalidUrl("invalid scheme"));
    assert_eq!(ok("/gate.php?id=%7e1#x"), (K::UrlPath, "/gate.php?id=~1".into()));
}

#[test]
fn hashes_emails_fingerprints() {
    let md5 = "D41D8CD98F00B204E9800998ECF8427E";
    assert_eq!(ok(md5), (K::Md5, md5.to_ascii_lowercase()));
    assert_eq!(ok(&"a".repeat(40)).0, K::Sha1);
    assert_eq!(ok(&"B".repeat(64)), (K::Sha256, "b".repeat(64)));
    assert_eq!(ok(&"c".repeat(128)).0, K::Sha512);
    assert_eq!(ok(&format!("ja3:{md5}")), (K::Ja3, md5.to_ascii_lowercase()));
    assert_eq!(
        ok("t13d1516h2_8daaf6152771_B186095E22B6"),
        (K::Ja4, "t13d1516h2_8daaf6152771_b186095e22b6".into())
    );
    assert_eq!(ok("Bad.Guy@Evil.Example"), (K::Email, "bad.guy@evil.example".into()));
    assert_eq!(ok("<x@evil.example>"), (K::Email, "x@evil.example".into()));
    assert_eq!(err("not-an-email@"), R::InvalidEmail);
    assert_eq!(K::Md5.normalize("xyz"), Err(R::InvalidHash { expected: 32, found: 3 }));
    assert_eq!(K::Sha256.normalize(&"g".repeat(64)), Err(R::InvalidHash { expected: 64, found: 64 }));
    assert_eq!(err("sha999:abc"), R::InvalidUrl("invalid port"), "unknown prefix is not a kind");
    assert_eq!("SHA256".parse::<K>(), Ok(K::Sha256));
    assert_eq!("bogus".parse::<K>(), Err(R::UnknownKind("bogus".into())));
}

//! Pseudonymization, masking and sealing of real Cowrie events.

use base64::Engine;
use secrecy::SecretString;
use ward_enrich::{EnrichChain, EnrichConfig, Privacy, PrivacyConfig, SealKey, reveal};
use ward_model::{Event, FieldValue};

use crate::common::cowrie;

fn key(byte: u8) -> String {
    base64::engine::general_purpose::STANDARD.encode([byte; 32])
}

fn chain(seal: bool) -> EnrichChain {
    let seal = if seal { format!("seal_key = \"{}\"\n", key(9)) } else { String::new() };
    let toml = format!(
        "[dedupe]\nenabled = false\n[sessionize]\nenabled = false\n[privacy]\ngdpr = true\nhmac_key = \"{}\"\n{seal}",
        key(7)
    );
    let cfg: EnrichConfig = toml::from_str(&toml).unwrap();
    EnrichChain::from_config(&cfg).unwrap()
}

/// The real Cowrie login events (root/123456 among them). The fixture ran over loopback, so
/// the honeypot's own address (not personal data, kept) is set apart from the client's.
fn logins() -> Vec<Event> {
    let mut events: Vec<Event> =
        cowrie().into_iter().filter(|e| e.str("event.dataset") == Some("cowrie.login")).collect();
    for e in &mut events {
        e.set("destination.ip", "192.0.2.10".parse::<std::net::IpAddr>().unwrap());
    }
    events
}

#[test]
fn gdpr_mode_leaves_no_plain_password_user_or_address_anywhere_in_the_stored_event() {
    let chain = chain(true);
    let mut events = logins();
    let plain: Vec<(Option<String>, String)> = events
        .iter()
        .map(|e| {
            (e.str("cowrie.password").map(str::to_owned), e.str("user.name").unwrap_or_default().to_owned())
        })
        .collect();
    assert!(plain.iter().any(|(p, _)| p.as_deref() == Some("123456")));
    let stats = chain.enrich(&mut events);
    let with_password = plain.iter().filter(|(p, _)| p.is_some()).count();
    assert_eq!(stats.masked as usize, with_password);
    assert!(stats.pseudonymized > 0);
    for (e, (password, user)) in events.iter().zip(&plain) {
        let json = serde_json::to_string(e).unwrap();
        assert!(!json.contains("127.0.0.1"), "address leaked: {json}");
        if !user.is_empty() {
            assert!(!json.contains(&format!("\"{user}\"")), "user leaked: {json}");
        }
        assert!(e.str("source.ip").unwrap().starts_with("ps1:ip:"));
        let Some(password) = password else { continue };
        assert_eq!(e.str("cowrie.password"), Some("[masked]"));
        if password.len() >= 4 {
            assert!(!json.contains(password.as_str()), "password {password} leaked: {json}");
            // (A password equal to the user name is replaced by the user's token instead.)
            if password != user {
                assert!(e.original().contains("[masked]"), "the original record is scrubbed too");
            }
        }
        // The id still identifies the original record.
        assert_eq!(e.str("ward.event_id"), Some(e.id().to_string().as_str()));
    }
}

#[test]
fn tokens_are_stable_and_keyed_and_sealed_originals_need_the_seal_key() {
    let chain = chain(true);
    let mut events = logins();
    chain.enrich(&mut events);
    let a = events[0].str("source.ip").unwrap();
    assert!(events.iter().all(|e| e.str("source.ip") == Some(a)), "one address, one token");
    let related = events[0].get("related.user").unwrap();
    let FieldValue::List(items) = related else { panic!("{related:?}") };
    assert_eq!(items[0].as_str(), events[0].str("user.name"), "same user, same token across fields");

    let sealed = events[0].str("ward.privacy.sealed.cowrie.password").unwrap();
    let right = SealKey::from_base64(&SecretString::from(key(9))).unwrap();
    assert_eq!(
        reveal(&right, sealed).unwrap(),
        serde_json::json!(logins()[0].str("cowrie.password").unwrap())
    );
    let wrong = SealKey::from_base64(&SecretString::from(key(8))).unwrap();
    assert!(reveal(&wrong, sealed).is_err(), "another key recovers nothing");
    let ip = reveal(&right, events[0].str("ward.privacy.sealed.source.ip").unwrap()).unwrap();
    assert_eq!(ip, serde_json::json!("127.0.0.1"));

    // Without a seal key nothing recoverable is stored.
    let mut unsealed = logins();
    self::chain(false).enrich(&mut unsealed);
    assert!(unsealed[0].fields().iter().all(|(p, _)| !p.starts_with("ward.privacy.sealed")));

    // Tokens depend on the key.
    let other = Privacy::new(&PrivacyConfig {
        gdpr: false,
        pseudonymize: vec!["source.ip".into()],
        mask: Vec::new(),
        hmac_key: SecretString::from(key(1)),
        seal_key: None,
    })
    .unwrap();
    assert_ne!(other.token("source.ip", "127.0.0.1"), a);
}

#[test]
fn short_or_missing_keys_are_config_errors_that_do_not_echo_the_key() {
    let cfg: EnrichConfig = toml::from_str("[privacy]\nhmac_key = \"c2hvcnQ=\"\n").unwrap();
    let err = EnrichChain::from_config(&cfg).unwrap_err().to_string();
    assert!(
        err.contains("hmac_key") && err.contains("at least 32 bytes") && !err.contains("c2hvcnQ"),
        "{err}"
    );
    let cfg: EnrichConfig =
        toml::from_str(&format!("[privacy]\nhmac_key = \"{}\"\nseal_key = \"not base64!\"\n", key(1)))
            .unwrap();
    assert!(EnrichChain::from_config(&cfg).unwrap_err().to_string().contains("seal_key"));
}

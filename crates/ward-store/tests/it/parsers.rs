//! Property tests of what the store parses from callers: cursors, presented API keys, session
//! tokens and audit details. Arbitrary input is refused with an error or `None`, never a panic,
//! and arbitrary JSON details keep the audit chain verifiable.

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use ward_model::TenantId;
use ward_store::{AlertFilter, IncidentFilter, IncidentSort, NewAuditRecord, Store, StoreError};

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime")
}

fn runner() -> TestRunner {
    TestRunner::new(Config { cases: 128, failure_persistence: None, ..Config::default() })
}

#[test]
fn arbitrary_cursors_are_refused_as_invalid() {
    let rt = runtime();
    let store = rt.block_on(Store::open("sqlite::memory:")).expect("store");
    let ts = store.tenant(&TenantId::new("p").expect("tenant"));
    runner()
        .run(&"[ -~]{0,120}", |cursor| {
            let alerts = rt.block_on(ts.list_alerts(&AlertFilter::default(), Some(&cursor), 10));
            prop_assert!(matches!(alerts, Err(StoreError::Invalid { .. }) | Ok(_)), "{alerts:?}");
            let inc = rt.block_on(ts.list_incidents(
                &IncidentFilter::default(),
                IncidentSort::default(),
                Some(&cursor),
                10,
            ));
            prop_assert!(matches!(inc, Err(StoreError::Invalid { .. }) | Ok(_)), "{inc:?}");
            Ok(())
        })
        .expect("property holds");
}

#[test]
fn unknown_or_malformed_credentials_never_resolve() {
    let rt = runtime();
    let store = rt.block_on(Store::open("sqlite::memory:")).expect("store");
    let strategy = prop_oneof!["\\PC{0,200}", "wk_[0-9a-f]{16}_[0-9a-f]{64}", "wk_[0-9a-f_]{0,90}"];
    runner()
        .run(&strategy, |s| {
            prop_assert!(rt.block_on(store.resolve_api_key(&s)).expect("resolve").is_none());
            prop_assert!(rt.block_on(store.resolve_session(&s)).expect("resolve").is_none());
            prop_assert!(rt.block_on(store.resolve_device(&s)).expect("resolve").is_none());
            Ok(())
        })
        .expect("property holds");
}

fn json() -> impl Strategy<Value = serde_json::Value> {
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::from),
        any::<i64>().prop_map(serde_json::Value::from),
        "\\PC{0,12}".prop_map(serde_json::Value::from),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(serde_json::Value::from),
            prop::collection::btree_map("\\PC{0,8}", inner, 0..4)
                .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
        ]
    })
}

#[test]
fn arbitrary_audit_details_round_trip_and_verify() {
    let rt = runtime();
    let store = rt.block_on(Store::open("sqlite::memory:")).expect("store");
    let ts = store.tenant(&TenantId::new("p").expect("tenant"));
    runner()
        .run(&(json(), "\\PC{1,20}"), |(details, actor)| {
            let rec = NewAuditRecord { actor, action: "prop".to_owned(), target: "t".to_owned(), details };
            let stored = rt.block_on(ts.append_audit(&rec)).expect("append");
            let page = rt.block_on(ts.list_audit(&Default::default(), None, 1)).expect("list");
            prop_assert_eq!(&page.items[0].details, &rec.details, "details read back unchanged");
            prop_assert_eq!(&page.items[0], &stored);
            let verdict = rt.block_on(store.verify_audit(None)).expect("verify");
            prop_assert!(verdict.is_ok(), "{verdict:?}");
            Ok(())
        })
        .expect("property holds");
}

//! `StoreRepo`: response state survives a reopen of the data directory, and every audit entry
//! lands in the store's hash-chained audit log, which verifies.

use std::sync::Arc;

use ward_respond::{
    ActionKind, ActionRequest, ActionStatus, Mode, Responder, RiskClass, StoreRepo, SystemClock,
};

use crate::common::{Fake, config, executors, policies, tenant};

#[tokio::test]
async fn state_persists_and_audit_goes_into_the_chain() {
    let dir = tempfile::tempdir().unwrap();
    let fake = Fake::new(ActionKind::BlockIp, RiskClass::High);
    let open = || async {
        let store = ward_store::Store::for_data_dir(dir.path()).await.unwrap();
        store.ensure_tenant(&tenant()).await.unwrap();
        let repo = StoreRepo::new(store.clone());
        let responder = Responder::new(
            config(Mode::Autonomous),
            policies(),
            Arc::new(repo),
            executors(std::slice::from_ref(&fake)),
            Arc::new(SystemClock),
        );
        (store, responder)
    };
    let (_, responder) = open().await;
    responder.set_kill_switch(&tenant(), true, "cli:root").await.unwrap();
    let denied = responder
        .request(&ActionRequest::manual(tenant(), ActionKind::BlockIp, "203.0.113.7", "cli:root"))
        .await
        .unwrap();
    assert_eq!(denied.status, ActionStatus::Denied);
    drop(responder);

    let (store, responder) = open().await;
    assert!(responder.kill_switch().await.unwrap(), "the kill switch survives a restart");
    assert_eq!(responder.action(&tenant(), &denied.id).await.unwrap().status, ActionStatus::Denied);
    let summary = store.verify_audit(None).await.unwrap().unwrap();
    assert!(summary.records >= 2, "{summary:?}");
}

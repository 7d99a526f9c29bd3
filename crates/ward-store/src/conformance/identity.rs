//! Checks of users, sessions, API keys and devices.

use chrono::Duration;

use super::{assert_not_found, tenant};
use crate::{AuthMethod, NewApiKey, Role, Store, StoreError};

/// Passwords verify, disabled users and revoked or expired sessions stop working, devices
/// resolve to their tenant.
pub async fn users_sessions_and_devices(store: &Store) {
    let t = tenant("ident");
    let ts = store.tenant(&t);
    let ana = ts.create_user("ana", Role::Analyst, Some("correct horse battery")).await.expect("create user");
    assert!(ana.has_password && !ana.disabled);
    assert!(
        matches!(ts.create_user("ana", Role::Viewer, None).await, Err(StoreError::Conflict { .. })),
        "names unique"
    );
    assert!(matches!(
        ts.create_user("bob", Role::Viewer, Some("short")).await,
        Err(StoreError::Invalid { .. })
    ));
    assert_eq!(
        ts.authenticate("ana", "correct horse battery").await.expect("auth").map(|u| u.id),
        Some(ana.id.clone())
    );
    assert!(ts.authenticate("ana", "wrong password!").await.expect("auth").is_none());
    assert!(ts.authenticate("nobody", "correct horse battery").await.expect("auth").is_none());
    let keyless = ts.create_user("svc", Role::Viewer, None).await.expect("password-less user");
    assert!(!keyless.has_password);
    assert!(ts.authenticate("svc", "anything at all").await.expect("auth").is_none());

    let s = ts.create_session(&ana.id, chrono::Utc::now() + Duration::hours(1)).await.expect("session");
    let p = store.resolve_session(&s.token).await.expect("resolve").expect("valid session");
    assert_eq!((p.tenant.clone(), p.role, p.name.as_str()), (t.clone(), Role::Analyst, "ana"));
    assert_eq!(p.method, AuthMethod::Session { session_id: s.session.id.clone() });
    assert!(store.resolve_session("not-a-token").await.expect("resolve").is_none());
    let expired =
        ts.create_session(&ana.id, chrono::Utc::now() - Duration::seconds(1)).await.expect("session");
    assert!(store.resolve_session(&expired.token).await.expect("resolve").is_none(), "expired");
    ts.set_role(&ana.id, Role::Responder).await.expect("role");
    assert_eq!(store.resolve_session(&s.token).await.expect("resolve").expect("valid").role, Role::Responder);
    ts.set_user_disabled(&ana.id, true).await.expect("disable");
    assert!(store.resolve_session(&s.token).await.expect("resolve").is_none(), "disabled user");
    assert!(ts.authenticate("ana", "correct horse battery").await.expect("auth").is_none(), "disabled user");
    ts.set_user_disabled(&ana.id, false).await.expect("enable");
    ts.revoke_session_token(&s.token).await.expect("logout");
    assert!(store.resolve_session(&s.token).await.expect("resolve").is_none(), "revoked");
    ts.set_password(&ana.id, "another good password").await.expect("password");
    assert!(ts.authenticate("ana", "another good password").await.expect("auth").is_some());
    assert_eq!(ts.list_users().await.expect("users").len(), 2);
    assert_eq!(ts.list_sessions(&ana.id).await.expect("sessions").len(), 2);

    let d = ts.create_device("sensor-1", "honeypot", b"sealed-secret").await.expect("device");
    assert!(matches!(ts.create_device("sensor-1", "again", b"x").await, Err(StoreError::Conflict { .. })));
    let found = store.resolve_device("sensor-1").await.expect("resolve device").expect("known");
    assert_eq!((found.tenant, found.secret), (t.clone(), b"sealed-secret".to_vec()));
    ts.set_device_disabled(&d.id, true).await.expect("disable device");
    assert!(ts.device("sensor-1").await.expect("device").disabled);
    assert_eq!(ts.list_devices().await.expect("devices").len(), 1);
    assert!(store.resolve_device("nope").await.expect("resolve").is_none());
    assert_not_found(ts.device("nope").await, "unknown device");
}

/// Keys resolve to their tenant and role, and stop resolving when revoked, expired, wrong or
/// malformed; the plaintext is never stored.
pub async fn api_keys_resolve_until_revoked_or_expired(store: &Store) {
    let t = tenant("keys");
    let ts = store.tenant(&t);
    let new = NewApiKey {
        name: "ci".to_owned(),
        role: Some(Role::Admin),
        scopes: vec!["ingest".to_owned()],
        ..Default::default()
    };
    let k = ts.create_api_key(&new).await.expect("create key");
    assert!(k.plaintext.starts_with(&format!("wk_{}_", k.key.id)));
    let p = store.resolve_api_key(&k.plaintext).await.expect("resolve").expect("valid key");
    assert_eq!((p.tenant, p.role, p.scopes), (t.clone(), Role::Admin, vec!["ingest".to_owned()]));
    assert_eq!(p.method, AuthMethod::ApiKey { key_id: k.key.id.clone() });
    assert!(ts.api_key(&k.key.id).await.expect("key").last_used_at.is_some(), "use recorded");

    let mut wrong = k.plaintext.clone();
    let last = wrong.pop().expect("non-empty");
    wrong.push(if last == '0' { '1' } else { '0' });
    assert!(store.resolve_api_key(&wrong).await.expect("resolve").is_none(), "wrong secret");
    for bad in ["", "wk_", "wk_zz_zz", "Bearer x", &format!("{}x", k.plaintext)] {
        assert!(store.resolve_api_key(bad).await.expect("resolve").is_none(), "malformed {bad:?}");
    }
    let expired = NewApiKey {
        name: "old".to_owned(),
        expires_at: Some(chrono::Utc::now() - Duration::seconds(1)),
        ..Default::default()
    };
    let e = ts.create_api_key(&expired).await.expect("create");
    assert!(store.resolve_api_key(&e.plaintext).await.expect("resolve").is_none(), "expired");

    let user = ts.create_user("robot", Role::Responder, None).await.expect("user");
    let uk = ts
        .create_api_key(&NewApiKey {
            name: "robot key".to_owned(),
            user_id: Some(user.id.clone()),
            ..Default::default()
        })
        .await
        .expect("user key");
    assert_eq!(store.resolve_api_key(&uk.plaintext).await.expect("resolve").expect("valid").name, "robot");
    ts.set_user_disabled(&user.id, true).await.expect("disable");
    assert!(store.resolve_api_key(&uk.plaintext).await.expect("resolve").is_none(), "disabled user's key");

    ts.revoke_api_key(&k.key.id).await.expect("revoke");
    assert!(store.resolve_api_key(&k.plaintext).await.expect("resolve").is_none(), "revoked");
    assert_eq!(ts.list_api_keys().await.expect("keys").len(), 3);
    assert_not_found(ts.revoke_api_key("0000000000000000").await, "unknown key");
}

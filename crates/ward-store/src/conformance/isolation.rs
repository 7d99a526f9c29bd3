//! The tenancy check: tenant B cannot read, list or modify anything of tenant A, for every
//! kind of record, and A's data is unchanged by B's attempts.

use chrono::{Duration, Utc};
use ward_model::{IncidentStatus, Severity};

use super::{alert, assert_not_found, at, incident, tenant};
use ward_model::response::{ActionStatus, ApprovalStatus, RunStatus, StepState};

use super::{action_record, approval_record, run_record, step_record};
use crate::{
    AlertFilter, AuditFilter, ConfigTable, Criticality, DeadLetterFilter, IncidentFilter, IncidentPatch,
    IncidentSort, NewApiKey, NewAsset, NewAuditRecord, Role, Store, StoreError,
};

/// Everything tenant A created, by id.
struct Created {
    user: String,
    session: String,
    key: String,
    action: String,
    approval: String,
    playbook: String,
    run: String,
}

async fn populate_a(store: &Store) -> Created {
    let t = tenant("tenant-a");
    let a = store.tenant(&t);
    a.insert_alerts(&[
        alert(&t, "aa1", 0, Severity::High, "10.0.0.1"),
        alert(&t, "aa2", 1, Severity::Low, "10.0.0.1"),
    ])
    .await
    .expect("alerts");
    a.upsert_incident(&incident(&t, "ia1", "10.0.0.1", 0, Severity::High, 0.8)).await.expect("incident");
    a.upsert_incident(&incident(&t, "ia2", "10.0.0.2", 0, Severity::High, 0.8)).await.expect("incident");
    a.link_alerts("ia1", &["aa1".to_owned(), "aa2".to_owned()]).await.expect("link");
    a.add_comment("ia1", "ana", "mine").await.expect("comment");
    a.add_label("ia1", "true_positive", "ana").await.expect("label");
    let user = a.create_user("ana", Role::Admin, Some("a long enough password")).await.expect("user");
    let session = a.create_session(&user.id, Utc::now() + Duration::hours(1)).await.expect("session");
    let key = a.create_api_key(&NewApiKey { name: "k".to_owned(), ..Default::default() }).await.expect("key");
    a.create_device("dev-a", "sensor", b"secret").await.expect("device");
    let action = action_record(&t, "act-a", "da", ActionStatus::PendingApproval);
    a.insert_action(&action).await.expect("action");
    let approval = approval_record(&t, &action.id, ApprovalStatus::Pending);
    a.put_approval(&approval).await.expect("approval");
    let playbook = a.create_playbook("pb", "steps: []", true).await.expect("playbook");
    let run = run_record(&t, "run-a", RunStatus::Running);
    a.put_run(&run).await.expect("run");
    a.journal_append(&step_record(&run.id, "s", StepState::Started)).await.expect("step");
    a.put_policy("pol", "allow", "ana").await.expect("policy");
    for table in [ConfigTable::Connectors, ConfigTable::Notifications, ConfigTable::Settings] {
        a.put_config(table, "k", &serde_json::json!(1)).await.expect("config");
    }
    let asset = NewAsset {
        name: "db".to_owned(),
        ip_or_cidr: None,
        owner: None,
        criticality: Criticality::High,
        tags: vec![],
    };
    a.put_asset(&asset).await.expect("asset");
    a.add_deadletter("decode", "bad", "x", b"payload").await.expect("dead letter");
    let audit = NewAuditRecord {
        actor: "ana".into(),
        action: "x".into(),
        target: "y".into(),
        details: serde_json::json!({}),
    };
    a.append_audit(&audit).await.expect("audit");
    Created {
        user: user.id,
        session: session.session.id,
        key: key.key.id,
        action: action.id,
        approval: approval.id,
        playbook: playbook.id,
        run: run.id,
    }
}

/// Tenant B sees none of A's records and cannot change any of them.
pub async fn tenant_b_cannot_touch_tenant_a(store: &Store) {
    let c = populate_a(store).await;
    let b = store.tenant(&tenant("tenant-b"));

    // Reads by id answer NotFound, exactly like a missing record.
    assert_not_found(b.alert("aa1").await, "alert");
    assert_not_found(b.incident("ia1").await, "incident");
    assert_not_found(b.incident_alerts("ia1").await, "incident alerts");
    assert_not_found(b.list_comments("ia1").await, "comments");
    assert_not_found(b.list_timeline("ia1").await, "timeline");
    assert_not_found(b.duplicate_of("ia1").await, "duplicate_of");
    assert_not_found(b.user(&c.user).await, "user");
    assert_not_found(b.api_key(&c.key).await, "api key");
    assert_not_found(b.device("dev-a").await, "device");
    assert!(b.action(&c.action).await.expect("action").is_none());
    assert!(b.approval(&c.approval).await.expect("approval").is_none());
    assert_not_found(b.playbook(&c.playbook).await, "playbook");
    assert!(b.run(&c.run).await.expect("run").is_none());
    assert!(b.journal(&c.run).await.expect("journal").is_empty());
    assert_not_found(b.policy("pol", None).await, "policy");
    assert_not_found(b.asset("db").await, "asset");
    assert!(b.alert_incident("aa1").await.expect("link").is_none());
    assert!(b.user_by_name("ana").await.expect("by name").is_none());
    assert!(
        b.authenticate("ana", "a long enough password").await.expect("auth").is_none(),
        "no cross-tenant login"
    );
    assert!(b.find_open_incident("source.ip=10.0.0.1", at(-10)).await.expect("find").is_none());
    for table in [ConfigTable::Connectors, ConfigTable::Notifications, ConfigTable::Settings] {
        assert!(b.config(table, "k").await.expect("config").is_none(), "{table:?}");
        assert!(b.list_config(table).await.expect("list").is_empty(), "{table:?}");
    }

    // Listings are empty.
    assert!(b.list_alerts(&AlertFilter::default(), None, 100).await.expect("alerts").items.is_empty());
    let by_incident = AlertFilter { incident_id: Some("ia1".to_owned()), ..Default::default() };
    assert!(b.list_alerts(&by_incident, None, 100).await.expect("alerts").items.is_empty());
    let incidents = b.list_incidents(&IncidentFilter::default(), IncidentSort::default(), None, 100).await;
    assert!(incidents.expect("incidents").items.is_empty());
    assert!(b.list_labels(None, 100).await.expect("labels").is_empty());
    assert_eq!(b.count_alerts(&AlertFilter::default()).await.expect("count"), 0);
    assert_eq!(b.count_incidents(&IncidentFilter::default()).await.expect("count"), 0);
    assert!(b.list_users().await.expect("users").is_empty());
    assert!(b.list_sessions(&c.user).await.expect("sessions").is_empty());
    assert!(b.list_api_keys().await.expect("keys").is_empty());
    assert!(b.list_devices().await.expect("devices").is_empty());
    assert!(b.list_actions(&[]).await.expect("actions").is_empty());
    assert!(b.list_approvals(None).await.expect("approvals").is_empty());
    assert!(b.list_playbooks().await.expect("playbooks").is_empty());
    assert!(b.list_policies().await.expect("policies").is_empty());
    assert!(b.policy_history("pol").await.expect("history").is_empty());
    assert!(b.list_assets().await.expect("assets").is_empty());
    assert!(b.list_deadletter(&DeadLetterFilter::default(), None, 100).await.expect("dead").items.is_empty());
    assert_eq!(b.count_deadletter(&DeadLetterFilter::default()).await.expect("count"), 0);
    assert!(b.list_audit(&AuditFilter::default(), None, 100).await.expect("audit").items.is_empty());

    // Every modification fails as NotFound (or finds nothing to change).
    let patch = IncidentPatch { status: Some(IncidentStatus::FalsePositive), ..Default::default() };
    assert_not_found(b.update_incident("ia1", &patch, "eve").await, "update incident");
    assert_not_found(b.link_alerts("ia1", &["aa1".to_owned()]).await, "link");
    assert_not_found(b.add_comment("ia1", "eve", "x").await, "comment");
    assert_not_found(b.add_label("ia1", "false_positive", "eve").await, "label");
    assert_not_found(b.merge_incidents("ia1", &["ia2".to_owned()], "eve").await, "merge");
    assert_not_found(b.split_incident("ia1", &["aa1".to_owned()], "eve").await, "split");
    let triage = ward_model::Triage {
        verdict: ward_model::Verdict::FalsePositive,
        confidence: 1.0,
        reasoning: vec![],
        iocs: Default::default(),
        recommended_actions: vec![],
        triager: "eve".to_owned(),
    };
    assert_not_found(b.set_triage("ia1", &triage).await, "triage");
    assert_not_found(b.set_password(&c.user, "eve's new password").await, "password");
    assert_not_found(b.set_role(&c.user, Role::Viewer).await, "role");
    assert_not_found(b.set_user_disabled(&c.user, true).await, "disable");
    assert_not_found(
        b.create_session(&c.user, Utc::now() + Duration::hours(1)).await,
        "session for A's user",
    );
    assert_not_found(b.revoke_session(&c.session).await, "revoke session");
    assert_not_found(b.revoke_api_key(&c.key).await, "revoke key");
    assert_not_found(b.set_device_disabled("dev-a", true).await, "disable device");
    let t_a = tenant("tenant-a");
    let t_b = tenant("tenant-b");
    let mut hijack = action_record(&t_b, &c.action, "da", ActionStatus::Cancelled);
    assert_not_found(b.update_action(&hijack).await, "update A's action");
    hijack.tenant = t_a.clone();
    assert!(
        matches!(b.update_action(&hijack).await, Err(StoreError::Invalid { .. })),
        "writing A's action through B"
    );
    assert!(matches!(b.insert_action(&hijack).await, Err(StoreError::Invalid { .. })), "writing into A");
    assert_not_found(
        b.put_approval(&approval_record(&t_b, &c.action, ApprovalStatus::Approved)).await,
        "approval for A's action",
    );
    assert!(
        matches!(
            b.put_run(&run_record(&t_a, &c.run, RunStatus::Failed)).await,
            Err(StoreError::Invalid { .. })
        ),
        "writing A's run through B"
    );
    assert_not_found(b.update_playbook(&c.playbook, "x", false).await, "update playbook");
    assert_not_found(b.delete_playbook(&c.playbook).await, "delete playbook");
    for table in [ConfigTable::Connectors, ConfigTable::Notifications, ConfigTable::Settings] {
        assert_not_found(b.delete_config(table, "k").await, "delete config");
    }
    assert_not_found(b.delete_asset("db").await, "delete asset");
    let a_alert = alert(&tenant("tenant-a"), "aa9", 0, Severity::Low, "10.0.0.1");
    assert!(matches!(b.insert_alerts(&[a_alert]).await, Err(StoreError::Invalid { .. })), "writing into A");
    let a_incident = incident(&tenant("tenant-a"), "ia1", "10.0.0.1", 0, Severity::Low, 0.1);
    assert!(
        matches!(b.upsert_incident(&a_incident).await, Err(StoreError::Invalid { .. })),
        "writing into A"
    );

    // B may reuse A's ids and names for its own records without touching A's.
    b.put_run(&run_record(&t_b, &c.run, RunStatus::Failed)).await.expect("same run id in B");
    b.journal_append(&step_record(&c.run, "evil", StepState::Completed)).await.expect("B's journal");
    b.insert_alerts(&[alert(&t_b, "aa1", 0, Severity::Low, "10.9.9.9")]).await.expect("same id in B");
    b.upsert_incident(&incident(&t_b, "ia1", "10.9.9.9", 0, Severity::Low, 0.1)).await.expect("same id in B");
    b.create_user("ana", Role::Viewer, None).await.expect("same name in B");
    b.put_asset(&NewAsset {
        name: "db".to_owned(),
        ip_or_cidr: None,
        owner: None,
        criticality: Criticality::Low,
        tags: vec![],
    })
    .await
    .expect("same asset name in B");
    b.put_config(ConfigTable::Settings, "k", &serde_json::json!(2)).await.expect("same key in B");

    // A's data is exactly as A left it.
    let a = store.tenant(&tenant("tenant-a"));
    let ia1 = a.incident("ia1").await.expect("A's incident");
    assert_eq!((ia1.status, ia1.alert_count, ia1.severity), (IncidentStatus::New, 2, Severity::High));
    assert_eq!(a.alert("aa1").await.expect("A's alert").level, Severity::High);
    assert_eq!(a.list_comments("ia1").await.expect("comments").len(), 1);
    assert_eq!(a.user(&c.user).await.expect("user").role, Role::Admin);
    assert!(!a.device("dev-a").await.expect("device").disabled);
    assert!(a.api_key(&c.key).await.expect("key").revoked_at.is_none());
    let a_action = a.action(&c.action).await.expect("action").expect("A's action");
    assert_eq!(a_action.status, ActionStatus::PendingApproval);
    let a_approval = a.approval(&c.approval).await.expect("approval").expect("A's approval");
    assert_eq!(a_approval.status, ApprovalStatus::Pending);
    assert!(a.playbook(&c.playbook).await.expect("playbook").enabled);
    assert_eq!(a.run(&c.run).await.expect("run").expect("A's run").status, RunStatus::Running);
    assert_eq!(a.journal(&c.run).await.expect("journal").len(), 1);
    assert_eq!(a.asset("db").await.expect("asset").criticality, Criticality::High);
    assert_eq!(
        a.config(ConfigTable::Settings, "k").await.expect("config").map(|e| e.value),
        Some(serde_json::json!(1))
    );
    assert_eq!(a.list_labels(None, 100).await.expect("labels").len(), 1);
    assert_eq!(a.list_audit(&AuditFilter::default(), None, 100).await.expect("audit").items.len(), 1);
    assert_eq!(a.count_deadletter(&DeadLetterFilter::default()).await.expect("dead"), 1);
}

//! The tenancy check: tenant B cannot read, list or modify anything of tenant A, for every
//! kind of record, and A's data is unchanged by B's attempts.

use chrono::{Duration, Utc};
use ward_model::{IncidentStatus, Severity};

use super::{alert, assert_not_found, at, incident, tenant};
use crate::{
    ActionFilter, ActionStatus, AlertFilter, ApprovalDecision, AuditFilter, ConfigTable, Criticality,
    DeadLetterFilter, IncidentFilter, IncidentPatch, IncidentSort, NewAction, NewApiKey, NewAsset,
    NewAuditRecord, NewPlaybookRun, Role, RunStatus, RunStep, StepStatus, Store, StoreError,
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
    let (action, _) = a
        .create_action(&NewAction {
            decision_id: "da".to_owned(),
            incident_id: Some("ia1".to_owned()),
            action: "block_ip".to_owned(),
            target: "10.0.0.1".to_owned(),
            params: serde_json::json!({}),
            status: ActionStatus::AwaitingApproval,
            dry_run: false,
            expires_at: None,
        })
        .await
        .expect("action");
    let approval =
        a.create_approval(&action.id, "policy", Utc::now() + Duration::hours(1)).await.expect("approval");
    let playbook = a.create_playbook("pb", "steps: []", true).await.expect("playbook");
    let run = a
        .create_run(&NewPlaybookRun {
            playbook_id: playbook.id.clone(),
            incident_id: None,
            context: serde_json::json!({}),
        })
        .await
        .expect("run");
    let step = RunStep {
        run_id: run.id.clone(),
        step: 0,
        name: "s".to_owned(),
        status: StepStatus::Running,
        output: serde_json::Value::Null,
        error: None,
        started_at: at(0),
        finished_at: None,
    };
    a.record_step(&step).await.expect("step");
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
    assert_not_found(b.action(&c.action).await, "action");
    assert_not_found(b.approval(&c.approval).await, "approval");
    assert_not_found(b.playbook(&c.playbook).await, "playbook");
    assert_not_found(b.run(&c.run).await, "run");
    assert_not_found(b.list_steps(&c.run).await, "steps");
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
    assert!(b.list_actions(&ActionFilter::default(), None, 100).await.expect("actions").items.is_empty());
    assert!(b.list_approvals(None).await.expect("approvals").is_empty());
    assert!(b.list_playbooks().await.expect("playbooks").is_empty());
    assert!(b.list_runs(None).await.expect("runs").is_empty());
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
    assert_not_found(
        b.update_action(&c.action, ActionStatus::Cancelled, &serde_json::Value::Null, None).await,
        "action",
    );
    assert_not_found(b.create_approval(&c.action, "eve", Utc::now()).await, "approval for A's action");
    assert_not_found(b.decide_approval(&c.approval, ApprovalDecision::Approve, "eve", None).await, "decide");
    assert_not_found(b.update_playbook(&c.playbook, "x", false).await, "update playbook");
    assert_not_found(b.delete_playbook(&c.playbook).await, "delete playbook");
    let run =
        NewPlaybookRun { playbook_id: c.playbook.clone(), incident_id: None, context: serde_json::json!({}) };
    assert_not_found(b.create_run(&run).await, "run of A's playbook");
    assert_not_found(b.update_run(&c.run, RunStatus::Cancelled, &serde_json::json!({})).await, "update run");
    let step = RunStep {
        run_id: c.run.clone(),
        step: 5,
        name: "evil".to_owned(),
        status: StepStatus::Succeeded,
        output: serde_json::Value::Null,
        error: None,
        started_at: at(0),
        finished_at: None,
    };
    assert_not_found(b.record_step(&step).await, "journal of A's run");
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
    let t_b = tenant("tenant-b");
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
    assert_eq!(a.action(&c.action).await.expect("action").status, ActionStatus::AwaitingApproval);
    assert_eq!(a.approval(&c.approval).await.expect("approval").status, crate::ApprovalStatus::Pending);
    assert!(a.playbook(&c.playbook).await.expect("playbook").enabled);
    assert_eq!(a.list_steps(&c.run).await.expect("steps").len(), 1);
    assert_eq!(a.asset("db").await.expect("asset").criticality, Criticality::High);
    assert_eq!(
        a.config(ConfigTable::Settings, "k").await.expect("config").map(|e| e.value),
        Some(serde_json::json!(1))
    );
    assert_eq!(a.list_labels(None, 100).await.expect("labels").len(), 1);
    assert_eq!(a.list_audit(&AuditFilter::default(), None, 100).await.expect("audit").items.len(), 1);
    assert_eq!(a.count_deadletter(&DeadLetterFilter::default()).await.expect("dead"), 1);
}

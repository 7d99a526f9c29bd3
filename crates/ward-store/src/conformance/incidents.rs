//! Checks of alerts and incidents: idempotent writes, lifecycle, merge/split, listing.

use std::collections::HashSet;

use ward_model::{ExtractedIocs, Factor, IncidentStatus, Severity, Triage, Verdict};

use super::{alert, assert_not_found, at, incident, tenant};
use crate::{
    AlertFilter, IncidentFilter, IncidentPatch, IncidentSort, SortField, SortOrder, Store, StoreError,
};

/// Replayed alert batches insert nothing new; listing pages through every alert exactly once.
pub async fn alerts_insert_idempotently_and_paginate(store: &Store) {
    let t = tenant("alerts");
    let ts = store.tenant(&t);
    let alerts: Vec<_> = (0..25)
        .map(|i| {
            alert(
                &t,
                &format!("a{i:02}"),
                i / 2,
                if i % 5 == 0 { Severity::High } else { Severity::Low },
                "10.0.0.1",
            )
        })
        .collect();
    assert_eq!(ts.insert_alerts(&alerts).await.expect("insert"), 25);
    assert_eq!(ts.insert_alerts(&alerts).await.expect("replay"), 0, "a replay inserts nothing");
    assert_eq!(ts.insert_alerts(&alerts[20..]).await.expect("partial replay"), 0);
    assert_eq!(ts.alert("a07").await.expect("get"), alerts[7], "an alert reads back exactly as written");
    assert_not_found(ts.alert("nope").await, "unknown alert");

    let mut seen = Vec::new();
    let mut cursor = None;
    loop {
        let page = ts.list_alerts(&AlertFilter::default(), cursor.as_deref(), 10).await.expect("page");
        assert!(page.items.len() <= 10);
        seen.extend(page.items.iter().map(|a| a.id.clone()));
        match page.next_cursor {
            Some(c) => cursor = Some(c),
            None => break,
        }
    }
    assert_eq!(seen.len(), 25, "every alert listed once");
    assert_eq!(seen.iter().collect::<HashSet<_>>().len(), 25, "no duplicates across pages");
    let times: Vec<_> =
        seen.iter().map(|id| alerts.iter().find(|a| &a.id == id).map(|a| a.timestamp)).collect();
    assert!(times.windows(2).all(|w| w[0] >= w[1]), "newest first");

    let high = ts
        .list_alerts(&AlertFilter { level: Some(Severity::High), ..Default::default() }, None, 100)
        .await
        .expect("f");
    assert_eq!(high.items.len(), 5);
    let window = AlertFilter { from: Some(at(3)), to: Some(at(5)), ..Default::default() };
    let win = ts.list_alerts(&window, None, 100).await.expect("time window");
    assert_eq!(win.items.len(), 4, "alerts at t=3 and t=4 (two each)");
    let by_rule = AlertFilter { rule_id: Some("rule-low".to_owned()), ..Default::default() };
    assert_eq!(ts.list_alerts(&by_rule, None, 100).await.expect("rule").items.len(), 20);
    assert_eq!(ts.count_alerts(&by_rule).await.expect("count"), 20);
    assert_eq!(ts.count_alerts(&AlertFilter::default()).await.expect("count"), 25);

    let other = alert(&tenant("someone-else"), "x1", 0, Severity::Low, "10.0.0.1");
    assert!(
        matches!(ts.insert_alerts(&[other]).await, Err(StoreError::Invalid { .. })),
        "foreign tenant rejected"
    );
    assert!(matches!(
        ts.list_alerts(&AlertFilter::default(), Some("%%garbage"), 10).await,
        Err(StoreError::Invalid { .. })
    ));
}

/// Linking is idempotent and `alert_count` stays exact; the open incident of a group is found.
pub async fn incidents_link_alerts_idempotently(store: &Store) {
    let t = tenant("link");
    let ts = store.tenant(&t);
    let alerts: Vec<_> =
        (0..4).map(|i| alert(&t, &format!("l{i}"), i * 10, Severity::Medium, "203.0.113.7")).collect();
    ts.insert_alerts(&alerts).await.expect("insert");
    let inc = ts
        .upsert_incident(&incident(&t, "inc1", "203.0.113.7", 0, Severity::Medium, 0.5))
        .await
        .expect("upsert");
    assert_eq!(inc.alert_count, 0);
    let ids: Vec<String> = alerts.iter().map(|a| a.id.clone()).collect();
    assert_eq!(ts.link_alerts("inc1", &ids[..3]).await.expect("link"), 3);
    assert_eq!(ts.link_alerts("inc1", &ids).await.expect("relink"), 1, "only the new one counts");
    assert_eq!(ts.link_alerts("inc1", &ids).await.expect("replay"), 0);
    assert_eq!(ts.incident("inc1").await.expect("get").alert_count, 4);
    assert_eq!(ts.alert_incident("l2").await.expect("link of alert"), Some("inc1".to_owned()));
    assert_not_found(ts.link_alerts("inc1", &["missing".to_owned()]).await, "unknown alert");
    assert_not_found(ts.link_alerts("nope", &ids).await, "unknown incident");
    let linked = ts.incident_alerts("inc1").await.expect("alerts of incident");
    assert_eq!(linked.iter().map(|a| a.id.as_str()).collect::<Vec<_>>(), ["l0", "l1", "l2", "l3"]);

    let found = ts.find_open_incident("source.ip=203.0.113.7", at(-60)).await.expect("find");
    assert_eq!(found.map(|i| i.id), Some("inc1".to_owned()));
    assert!(
        ts.find_open_incident("source.ip=203.0.113.7", at(3600)).await.expect("find").is_none(),
        "outside window"
    );
    assert!(
        ts.find_open_incident("source.ip=198.51.100.1", at(-60)).await.expect("find").is_none(),
        "other group"
    );
    ts.update_incident(
        "inc1",
        &IncidentPatch { status: Some(IncidentStatus::Resolved), ..Default::default() },
        "ana",
    )
    .await
    .expect("resolve");
    assert!(
        ts.find_open_incident("source.ip=203.0.113.7", at(-60)).await.expect("find").is_none(),
        "closed is not open"
    );

    let triage = Triage {
        verdict: Verdict::LikelyTruePositive,
        confidence: 0.8,
        reasoning: vec![Factor {
            name: "rule_level".to_owned(),
            weight: 0.4,
            detail: "4 medium alerts".to_owned(),
        }],
        iocs: ExtractedIocs { ips: vec!["203.0.113.7".to_owned()], ..Default::default() },
        recommended_actions: vec!["block_ip 203.0.113.7".to_owned()],
        triager: "builtin".to_owned(),
    };
    let triaged = ts.set_triage("inc1", &triage).await.expect("triage");
    assert_eq!(triaged.verdict, Some(Verdict::LikelyTruePositive));
    assert_eq!(triaged.reasoning, triage.reasoning);
    assert_eq!(triaged.iocs, triage.iocs);
    assert_eq!(triaged.recommended_actions, triage.recommended_actions);
    assert_not_found(ts.set_triage("nope", &triage).await, "triage of unknown incident");
}

/// A pipeline re-upsert widens times and updates the score but keeps analyst changes.
pub async fn upsert_keeps_analyst_changes(store: &Store) {
    let t = tenant("upsert");
    let ts = store.tenant(&t);
    let mut inc = incident(&t, "u1", "10.9.9.9", 100, Severity::Medium, 0.5);
    ts.upsert_incident(&inc).await.expect("create");
    let patch = IncidentPatch {
        status: Some(IncidentStatus::InProgress),
        assignee: Some(Some("ana".to_owned())),
        severity: Some(Severity::Critical),
    };
    ts.update_incident("u1", &patch, "ana").await.expect("patch");
    inc.score = 0.9;
    inc.severity = Severity::Low;
    inc.first_seen = at(50);
    inc.last_seen = at(500);
    inc.status = IncidentStatus::New;
    let got = ts.upsert_incident(&inc).await.expect("re-upsert");
    assert_eq!(got.status, IncidentStatus::InProgress, "status kept");
    assert_eq!(got.assignee.as_deref(), Some("ana"), "assignee kept");
    assert_eq!(got.severity, Severity::Critical, "analyst severity kept");
    assert_eq!(got.score, 0.9, "score updated");
    assert_eq!((got.first_seen, got.last_seen), (at(50), at(500)), "window widened");
    inc.first_seen = at(200);
    inc.last_seen = at(300);
    let got = ts.upsert_incident(&inc).await.expect("narrower upsert");
    assert_eq!((got.first_seen, got.last_seen), (at(50), at(500)), "never narrowed");
}

/// Forbidden transitions fail with the reason; every change lands in the timeline; closing
/// dispositions become labels.
pub async fn lifecycle_is_enforced_with_timeline_and_labels(store: &Store) {
    let t = tenant("life");
    let ts = store.tenant(&t);
    ts.upsert_incident(&incident(&t, "i1", "10.1.1.1", 0, Severity::High, 0.7)).await.expect("create");
    let to = |s| IncidentPatch { status: Some(s), ..Default::default() };
    for s in [
        IncidentStatus::Triaging,
        IncidentStatus::Triaged,
        IncidentStatus::InProgress,
        IncidentStatus::Resolved,
    ] {
        let got = ts.update_incident("i1", &to(s), "ana").await.expect("main line allowed");
        assert_eq!(got.status, s);
    }
    match ts.update_incident("i1", &to(IncidentStatus::Triaged), "ana").await {
        Err(StoreError::InvalidTransition(e)) => {
            assert_eq!((e.from, e.to), (IncidentStatus::Resolved, IncidentStatus::Triaged));
            assert!(e.to_string().contains("in_progress"), "reason names what is allowed: {e}");
        }
        other => panic!("resolved -> triaged must be refused, got {other:?}"),
    }
    assert_eq!(
        ts.incident("i1").await.expect("get").status,
        IncidentStatus::Resolved,
        "refused change not applied"
    );
    ts.update_incident(
        "i1",
        &IncidentPatch { assignee: Some(Some("bob".to_owned())), ..Default::default() },
        "lead",
    )
    .await
    .expect("assign");
    let c = ts.add_comment("i1", "bob", "checked the firewall logs").await.expect("comment");
    assert_eq!(ts.list_comments("i1").await.expect("comments"), vec![c]);
    assert!(matches!(ts.add_comment("i1", "bob", "  ").await, Err(StoreError::Invalid { .. })));

    let kinds: Vec<String> =
        ts.list_timeline("i1").await.expect("timeline").into_iter().map(|e| e.kind).collect();
    let expected = [
        "created",
        "status_changed",
        "status_changed",
        "status_changed",
        "status_changed",
        "assigned",
        "commented",
    ];
    assert_eq!(kinds, expected);
    let tl = ts.list_timeline("i1").await.expect("timeline");
    assert_eq!(tl[1].actor, "ana");
    assert_eq!(tl[1].details["from"], "new");
    assert_eq!(tl[1].details["to"], "triaging");

    ts.add_label("i1", "true_positive", "ana").await.expect("label");
    let labels = ts.list_labels(None, 100).await.expect("labels");
    assert_eq!(labels.iter().map(|l| l.label.as_str()).collect::<Vec<_>>(), ["resolved", "true_positive"]);
    let after = ts.list_labels(Some(labels[0].id), 100).await.expect("incremental");
    assert_eq!(after.len(), 1, "training reads labels after the last id it saw");
    assert_not_found(
        ts.update_incident("nope", &to(IncidentStatus::Triaging), "ana").await,
        "unknown incident",
    );
}

/// Merging moves alerts and marks sources duplicate; splitting moves chosen alerts out.
pub async fn merge_and_split_move_alerts(store: &Store) {
    let t = tenant("merge");
    let ts = store.tenant(&t);
    let alerts: Vec<_> = (0..6)
        .map(|i| {
            alert(
                &t,
                &format!("m{i}"),
                i * 60,
                if i == 5 { Severity::Critical } else { Severity::Low },
                "10.2.2.2",
            )
        })
        .collect();
    ts.insert_alerts(&alerts).await.expect("insert");
    for (id, range) in [("tgt", 0..2), ("src1", 2..4), ("src2", 4..6)] {
        ts.upsert_incident(&incident(&t, id, "10.2.2.2", 0, Severity::Low, 0.3)).await.expect("create");
        let ids: Vec<String> = alerts[range].iter().map(|a| a.id.clone()).collect();
        ts.link_alerts(id, &ids).await.expect("link");
    }
    let merged =
        ts.merge_incidents("tgt", &["src1".to_owned(), "src2".to_owned()], "ana").await.expect("merge");
    assert_eq!(merged.alert_count, 6);
    assert_eq!(merged.severity, Severity::Critical, "severity recomputed from moved alerts");
    assert_eq!(merged.last_seen, at(300));
    for src in ["src1", "src2"] {
        let s = ts.incident(src).await.expect("source");
        assert_eq!((s.status, s.alert_count), (IncidentStatus::Duplicate, 0));
        assert_eq!(ts.duplicate_of(src).await.expect("dup"), Some("tgt".to_owned()));
    }
    assert!(
        matches!(
            ts.merge_incidents("tgt", &["src1".to_owned()], "ana").await,
            Err(StoreError::Conflict { .. })
        ),
        "a duplicate cannot be merged again"
    );
    assert!(matches!(
        ts.merge_incidents("tgt", &["tgt".to_owned()], "ana").await,
        Err(StoreError::Invalid { .. })
    ));

    let new = ts.split_incident("tgt", &["m4".to_owned(), "m5".to_owned()], "ana").await.expect("split");
    assert_eq!(new.alert_count, 2);
    assert_eq!(new.status, IncidentStatus::New);
    assert_eq!(new.severity, Severity::Critical);
    let rest = ts.incident("tgt").await.expect("target");
    assert_eq!(rest.alert_count, 4);
    assert_eq!(rest.severity, Severity::Low, "recomputed without the split-off alerts");
    assert_eq!(ts.alert_incident("m5").await.expect("link"), Some(new.id.clone()));
    let kinds: Vec<String> =
        ts.list_timeline(&new.id).await.expect("timeline").into_iter().map(|e| e.kind).collect();
    assert_eq!(kinds, ["split_from"]);
    assert!(
        matches!(ts.split_incident("tgt", &["m5".to_owned()], "ana").await, Err(StoreError::Invalid { .. })),
        "not linked"
    );
    let all: Vec<String> = (0..4).map(|i| format!("m{i}")).collect();
    assert!(
        matches!(ts.split_incident("tgt", &all, "ana").await, Err(StoreError::Invalid { .. })),
        "cannot empty it"
    );
}

/// Filters narrow, sorts order, and cursors page through any sort without gaps.
pub async fn incident_filters_and_sorting_paginate(store: &Store) {
    let t = tenant("list");
    let ts = store.tenant(&t);
    for i in 0..23i64 {
        let sev = Severity::ALL[(i % 5) as usize];
        let score = ((i * 7) % 10) as f64 / 10.0;
        ts.upsert_incident(&incident(&t, &format!("n{i:02}"), &format!("10.3.0.{i}"), i * 10, sev, score))
            .await
            .expect("create");
    }
    ts.update_incident(
        "n03",
        &IncidentPatch { assignee: Some(Some("zoe".to_owned())), ..Default::default() },
        "lead",
    )
    .await
    .expect("assign");
    for (field, order) in [
        (SortField::Score, SortOrder::Desc),
        (SortField::Severity, SortOrder::Asc),
        (SortField::CreatedAt, SortOrder::Desc),
    ] {
        let sort = IncidentSort { field, order };
        let (mut got, mut cursor) = (Vec::new(), None);
        loop {
            let page = ts
                .list_incidents(&IncidentFilter::default(), sort, cursor.as_deref(), 4)
                .await
                .expect("page");
            got.extend(page.items);
            match page.next_cursor {
                Some(c) => cursor = Some(c),
                None => break,
            }
        }
        assert_eq!(got.len(), 23, "{field:?} {order:?}: all listed");
        assert_eq!(got.iter().map(|i| &i.id).collect::<HashSet<_>>().len(), 23, "no duplicates");
        let keys: Vec<f64> = got
            .iter()
            .map(|i| match field {
                SortField::Score => i.score,
                SortField::Severity => i.severity as u8 as f64,
                _ => i.created_at.timestamp_micros() as f64,
            })
            .collect();
        let sorted =
            keys.windows(2).all(|w| if order == SortOrder::Asc { w[0] <= w[1] } else { w[0] >= w[1] });
        assert!(sorted, "{field:?} {order:?} ordered: {keys:?}");
    }
    let by_score = IncidentSort { field: SortField::Score, order: SortOrder::Desc };
    let first = ts.list_incidents(&IncidentFilter::default(), by_score, None, 5).await.expect("page");
    let other_sort = IncidentSort { field: SortField::UpdatedAt, order: SortOrder::Desc };
    let wrong =
        ts.list_incidents(&IncidentFilter::default(), other_sort, first.next_cursor.as_deref(), 5).await;
    assert!(matches!(wrong, Err(StoreError::Invalid { .. })), "a cursor is bound to its sort");

    let count = |f: IncidentFilter| {
        let ts = ts.clone();
        async move {
            ts.list_incidents(&f, IncidentSort::default(), None, 1000).await.expect("filter").items.len()
        }
    };
    assert_eq!(count(IncidentFilter { severities: vec![Severity::Critical], ..Default::default() }).await, 4);
    let critical = IncidentFilter { severities: vec![Severity::Critical], ..Default::default() };
    assert_eq!(ts.count_incidents(&critical).await.expect("count"), 4);
    assert_eq!(count(IncidentFilter { min_severity: Some(Severity::High), ..Default::default() }).await, 8);
    assert_eq!(count(IncidentFilter { min_score: Some(0.85), ..Default::default() }).await, 2);
    assert_eq!(count(IncidentFilter { assignee: Some("zoe".to_owned()), ..Default::default() }).await, 1);
    assert_eq!(count(IncidentFilter { entity: Some("10.3.0.7".to_owned()), ..Default::default() }).await, 1);
    assert_eq!(
        count(IncidentFilter { entity: Some("10.3.0".to_owned()), ..Default::default() }).await,
        0,
        "whole values only"
    );
    assert_eq!(
        count(IncidentFilter { text: Some("FROM 10.3.0.1".to_owned()), ..Default::default() }).await,
        11
    );
    assert_eq!(
        count(IncidentFilter { text: Some("%".to_owned()), ..Default::default() }).await,
        0,
        "LIKE escaped"
    );
    assert_eq!(count(IncidentFilter { statuses: vec![IncidentStatus::New], ..Default::default() }).await, 23);
    assert_eq!(count(IncidentFilter { from: Some(at(200)), ..Default::default() }).await, 3);
    assert_eq!(count(IncidentFilter { to: Some(at(20)), ..Default::default() }).await, 2);
}

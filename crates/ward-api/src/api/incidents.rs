//! Incident and alert routes: list (filters, sort, cursor), show (with alerts), patch
//! (lifecycle enforced: 409 with the reason), comments, timeline, merge, split, labels.
//! Every change is audited and published to the stream.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::json;
use ward_model::{AlertRecord, Incident, IncidentStatus, Severity};

use super::port::{
    AlertQuery, Comment, Disposition, IncidentPatch, IncidentQuery, IncidentSort, Label, Page, TimelineEntry,
};
use super::{ApiContext, Caller, port_error};
use crate::error::ApiError;
use crate::state::AppState;
use crate::stream::StreamTopic;

/// Longest comment, characters.
const MAX_COMMENT: usize = 16_000;
/// Most incidents merged or alerts split at once.
const MAX_IDS: usize = 1000;

/// Query of `GET /api/incidents`. Lists are comma separated.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct IncidentParams {
    status: Option<String>,
    severity: Option<String>,
    min_score: Option<f64>,
    assignee: Option<String>,
    entity: Option<String>,
    q: Option<String>,
    from: Option<chrono::DateTime<chrono::Utc>>,
    to: Option<chrono::DateTime<chrono::Utc>>,
    sort: Option<IncidentSort>,
    limit: Option<usize>,
    cursor: Option<String>,
}

fn list_of<T: std::str::FromStr>(text: Option<&str>) -> Result<Vec<T>, ApiError>
where
    T::Err: std::fmt::Display,
{
    let Some(text) = text.filter(|t| !t.is_empty()) else { return Ok(Vec::new()) };
    text.split(',').map(|v| v.trim().parse::<T>().map_err(|e| ApiError::BadRequest(e.to_string()))).collect()
}

/// `GET /api/incidents`.
pub(crate) async fn list(
    State(state): State<AppState>,
    caller: Caller,
    params: Result<Query<IncidentParams>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Page<Incident>>, ApiError> {
    let api = state.api()?;
    let Query(p) = params.map_err(|e| ApiError::BadRequest(e.body_text()))?;
    if p.min_score.is_some_and(|s| !(0.0..=1.0).contains(&s)) {
        return Err(ApiError::BadRequest("min_score must be within 0..=1".into()));
    }
    let query = IncidentQuery {
        status: list_of::<IncidentStatus>(p.status.as_deref())?,
        severity: list_of::<Severity>(p.severity.as_deref())?,
        min_score: p.min_score,
        assignee: p.assignee,
        entity: p.entity,
        q: p.q,
        from: p.from,
        to: p.to,
        sort: p.sort.unwrap_or_default(),
        limit: api.page(p.limit),
        cursor: p.cursor,
    };
    let page =
        api.incidents.list_incidents(&caller.tenant, &query).await.map_err(|e| port_error(e, "incidents"))?;
    Ok(Json(page))
}

/// An incident with its alerts.
#[derive(Serialize)]
pub(crate) struct IncidentDetail {
    #[serde(flatten)]
    incident: Incident,
    alerts: Vec<AlertRecord>,
}

async fn existing(api: &ApiContext, caller: &Caller, id: &str) -> Result<Incident, ApiError> {
    api.incidents
        .incident(&caller.tenant, id)
        .await
        .map_err(|e| port_error(e, "incident"))?
        .ok_or_else(|| ApiError::NotFound(format!("incident {id}")))
}

/// `GET /api/incidents/{id}`.
pub(crate) async fn show(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<IncidentDetail>, ApiError> {
    let api = state.api()?;
    let incident = existing(api, &caller, &id).await?;
    let query = AlertQuery { incident: Some(id), limit: api.max_page, ..AlertQuery::default() };
    let alerts =
        api.incidents.list_alerts(&caller.tenant, &query).await.map_err(|e| port_error(e, "alerts"))?;
    Ok(Json(IncidentDetail { incident, alerts: alerts.items }))
}

/// `PATCH /api/incidents/{id}`.
pub(crate) async fn update(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    body: Result<Json<IncidentPatch>, axum::extract::rejection::JsonRejection>,
) -> Result<Json<Incident>, ApiError> {
    let api = state.api()?;
    let Json(patch) = body.map_err(|e| ApiError::BadRequest(e.body_text()))?;
    if patch == IncidentPatch::default() {
        return Err(ApiError::Invalid("nothing to change: give status, assignee or severity".into()));
    }
    if patch.assignee.as_ref().is_some_and(|a| a.chars().count() > 128) {
        return Err(ApiError::Invalid("assignee over 128 characters".into()));
    }
    let before = existing(api, &caller, &id).await?;
    if let Some(to) = patch.status {
        before.status.can_move_to(to)?;
    }
    let after = api
        .incidents
        .patch_incident(&caller.tenant, &id, &patch, caller.actor())
        .await
        .map_err(|e| port_error(e, "incident"))?;
    let detail = json!({
        "status": patch.status.map(|s| [before.status.as_str(), s.as_str()]),
        "assignee": patch.assignee,
        "severity": patch.severity.map(|s| [before.severity.as_str(), s.as_str()]),
    });
    api.audit(&caller.tenant, caller.actor(), "incident.update", format!("incident:{id}"), detail).await?;
    publish(api, &caller, StreamTopic::Status, &after);
    Ok(Json(after))
}

fn publish<T: Serialize>(api: &ApiContext, caller: &Caller, topic: StreamTopic, data: &T) {
    if let Err(e) = api.hub.publish_json(&caller.tenant, topic, data) {
        tracing::warn!(error = %e, "stream message not serializable");
    }
}

/// The body of `POST /api/incidents/{id}/comments`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct NewComment {
    body: String,
}

/// `POST /api/incidents/{id}/comments`.
pub(crate) async fn comment(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    body: Result<Json<NewComment>, axum::extract::rejection::JsonRejection>,
) -> Result<(StatusCode, Json<Comment>), ApiError> {
    let api = state.api()?;
    let Json(c) = body.map_err(|e| ApiError::BadRequest(e.body_text()))?;
    let text = c.body.trim();
    if text.is_empty() || text.chars().count() > MAX_COMMENT {
        return Err(ApiError::Invalid(format!("comment must be 1-{MAX_COMMENT} characters")));
    }
    let stored = api
        .incidents
        .add_comment(&caller.tenant, &id, caller.actor(), text)
        .await
        .map_err(|e| port_error(e, "incident"))?;
    let detail = json!({ "comment_id": stored.id });
    api.audit(&caller.tenant, caller.actor(), "incident.comment", format!("incident:{id}"), detail).await?;
    Ok((StatusCode::CREATED, Json(stored)))
}

/// `GET /api/incidents/{id}/comments`.
pub(crate) async fn comments(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let api = state.api()?;
    existing(api, &caller, &id).await?;
    let items = api.incidents.comments(&caller.tenant, &id).await.map_err(|e| port_error(e, "incident"))?;
    Ok(Json(json!({ "items": items })))
}

/// `GET /api/incidents/{id}/timeline`.
pub(crate) async fn timeline(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let api = state.api()?;
    existing(api, &caller, &id).await?;
    let items: Vec<TimelineEntry> =
        api.incidents.timeline(&caller.tenant, &id).await.map_err(|e| port_error(e, "incident"))?;
    Ok(Json(json!({ "items": items })))
}

/// The body of `POST /api/incidents/{id}/merge`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct MergeRequest {
    incidents: Vec<String>,
}

/// `POST /api/incidents/{id}/merge`: the listed incidents' alerts move into `{id}`; they become
/// `duplicate`.
pub(crate) async fn merge(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    body: Result<Json<MergeRequest>, axum::extract::rejection::JsonRejection>,
) -> Result<Json<Incident>, ApiError> {
    let api = state.api()?;
    let Json(m) = body.map_err(|e| ApiError::BadRequest(e.body_text()))?;
    if m.incidents.is_empty() || m.incidents.len() > MAX_IDS || m.incidents.contains(&id) {
        return Err(ApiError::Invalid(format!(
            "incidents: 1-{MAX_IDS} other incident ids (not the target itself)"
        )));
    }
    existing(api, &caller, &id).await?;
    for other in &m.incidents {
        existing(api, &caller, other).await?;
    }
    let merged = api
        .incidents
        .merge(&caller.tenant, &id, &m.incidents, caller.actor())
        .await
        .map_err(|e| port_error(e, "incident"))?;
    let detail = json!({ "merged": m.incidents });
    api.audit(&caller.tenant, caller.actor(), "incident.merge", format!("incident:{id}"), detail).await?;
    publish(api, &caller, StreamTopic::Incidents, &merged);
    Ok(Json(merged))
}

/// The body of `POST /api/incidents/{id}/split`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SplitRequest {
    alerts: Vec<String>,
}

/// `POST /api/incidents/{id}/split`: the listed alerts move into a new incident (201).
pub(crate) async fn split(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    body: Result<Json<SplitRequest>, axum::extract::rejection::JsonRejection>,
) -> Result<(StatusCode, Json<Incident>), ApiError> {
    let api = state.api()?;
    let Json(s) = body.map_err(|e| ApiError::BadRequest(e.body_text()))?;
    if s.alerts.is_empty() || s.alerts.len() > MAX_IDS {
        return Err(ApiError::Invalid(format!("alerts: 1-{MAX_IDS} alert ids of this incident")));
    }
    existing(api, &caller, &id).await?;
    let new = api
        .incidents
        .split(&caller.tenant, &id, &s.alerts, caller.actor())
        .await
        .map_err(|e| port_error(e, "incident"))?;
    let detail = json!({ "alerts": s.alerts, "new_incident": new.id });
    api.audit(&caller.tenant, caller.actor(), "incident.split", format!("incident:{id}"), detail).await?;
    publish(api, &caller, StreamTopic::Incidents, &new);
    Ok((StatusCode::CREATED, Json(new)))
}

/// `POST /api/incidents/{id}/labels`: an analyst disposition, kept for learning (201).
pub(crate) async fn label(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    body: Result<Json<Disposition>, axum::extract::rejection::JsonRejection>,
) -> Result<(StatusCode, Json<Label>), ApiError> {
    let api = state.api()?;
    let Json(d) = body.map_err(|e| ApiError::BadRequest(e.body_text()))?;
    if d.note.chars().count() > MAX_COMMENT {
        return Err(ApiError::Invalid(format!("note over {MAX_COMMENT} characters")));
    }
    existing(api, &caller, &id).await?;
    let stored = api
        .incidents
        .add_label(&caller.tenant, &id, &d, caller.actor())
        .await
        .map_err(|e| port_error(e, "incident"))?;
    let detail = json!({ "verdict": d.verdict });
    api.audit(&caller.tenant, caller.actor(), "incident.label", format!("incident:{id}"), detail).await?;
    Ok((StatusCode::CREATED, Json(stored)))
}

/// Query of `GET /api/alerts`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct AlertParams {
    incident: Option<String>,
    rule_id: Option<String>,
    min_level: Option<Severity>,
    from: Option<chrono::DateTime<chrono::Utc>>,
    to: Option<chrono::DateTime<chrono::Utc>>,
    limit: Option<usize>,
    cursor: Option<String>,
}

/// `GET /api/alerts`.
pub(crate) async fn alerts(
    State(state): State<AppState>,
    caller: Caller,
    params: Result<Query<AlertParams>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Page<AlertRecord>>, ApiError> {
    let api = state.api()?;
    let Query(p) = params.map_err(|e| ApiError::BadRequest(e.body_text()))?;
    let query = AlertQuery {
        incident: p.incident,
        rule_id: p.rule_id,
        min_level: p.min_level,
        from: p.from,
        to: p.to,
        limit: api.page(p.limit),
        cursor: p.cursor,
    };
    let page =
        api.incidents.list_alerts(&caller.tenant, &query).await.map_err(|e| port_error(e, "alerts"))?;
    Ok(Json(page))
}

/// `GET /api/alerts/{id}`.
pub(crate) async fn alert(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<AlertRecord>, ApiError> {
    let api = state.api()?;
    let found = api.incidents.alert(&caller.tenant, &id).await.map_err(|e| port_error(e, "alert"))?;
    found.map(Json).ok_or_else(|| ApiError::NotFound(format!("alert {id}")))
}

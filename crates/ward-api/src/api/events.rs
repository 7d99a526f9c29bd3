//! `GET /api/events` (a bounded, tenant-filtered scan of the newest `enriched_events` in the
//! durable log) and `GET /api/deadletter` (the tenant's newest rejected records).

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::{Query, State};
use chrono::{DateTime, Utc};
use serde::Serialize;
use ward_log::{Log, Topic};
use ward_model::{Event, TenantId};

use super::{Caller, port_error};
use crate::error::ApiError;
use crate::state::AppState;

/// Query keys with a meaning of their own; every other key is an exact field filter.
const RESERVED: [&str; 4] = ["from", "to", "limit", "q"];
/// Records read from the log per call.
const CHUNK: usize = 1000;

/// The answer of `GET /api/events`.
#[derive(Debug, Serialize)]
pub(crate) struct EventPage {
    /// Matching events, newest first.
    items: Vec<Event>,
    /// Log records looked at.
    scanned: u64,
    /// Records that were not readable events (counted, skipped).
    unreadable: u64,
    /// `false` when older records exist that the scan bound did not reach.
    complete: bool,
}

/// A parsed event search.
struct Search {
    tenant: TenantId,
    from: Option<DateTime<Utc>>,
    to: Option<DateTime<Utc>>,
    q: Option<String>,
    fields: Vec<(String, String)>,
    limit: usize,
}

impl Search {
    fn parse(tenant: TenantId, params: BTreeMap<String, String>, limit: usize) -> Result<Self, ApiError> {
        let time = |k: &str| -> Result<Option<DateTime<Utc>>, ApiError> {
            params
                .get(k)
                .map(|v| {
                    DateTime::parse_from_rfc3339(v)
                        .map(|t| t.with_timezone(&Utc))
                        .map_err(|e| ApiError::BadRequest(format!("{k}: not an RFC 3339 time: {e}")))
                })
                .transpose()
        };
        let fields: Vec<(String, String)> = params
            .iter()
            .filter(|(k, _)| !RESERVED.contains(&k.as_str()))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        if fields.len() > 16 {
            return Err(ApiError::BadRequest("at most 16 field filters".into()));
        }
        Ok(Self {
            tenant,
            from: time("from")?,
            to: time("to")?,
            q: params.get("q").map(|q| q.to_lowercase()),
            fields,
            limit,
        })
    }

    fn matches(&self, e: &Event) -> bool {
        let t = e.timestamp();
        e.tenant() == self.tenant.as_str()
            && self.from.is_none_or(|f| t >= f)
            && self.to.is_none_or(|to| t < to)
            && self.fields.iter().all(|(k, v)| field_is(e, k, v))
            && self.q.as_ref().is_none_or(|q| e.original().to_lowercase().contains(q))
    }
}

fn field_is(e: &Event, field: &str, value: &str) -> bool {
    match e.lookup(field) {
        Some(ward_model::FieldValue::List(items)) => items.iter().any(|v| v.to_string() == value),
        Some(v) => v.to_string() == value,
        None => false,
    }
}

/// `GET /api/events?from=&to=&q=&limit=&<field>=<value>…`.
pub(crate) async fn search(
    State(state): State<AppState>,
    caller: Caller,
    Query(params): Query<BTreeMap<String, String>>,
) -> Result<Json<EventPage>, ApiError> {
    let api = state.api()?;
    let limit = params.get("limit").map(|l| l.parse::<usize>()).transpose();
    let limit = limit.map_err(|e| ApiError::BadRequest(format!("limit: {e}")))?;
    let search = Search::parse(caller.tenant.clone(), params, api.page(limit))?;
    let page = scan(state.log().as_ref(), &search, api.max_event_scan).await?;
    Ok(Json(page))
}

/// Reads the newest `budget` records (split over partitions) and keeps the newest matches.
async fn scan(log: &dyn Log, search: &Search, budget: usize) -> Result<EventPage, ApiError> {
    let topic = Topic::EnrichedEvents;
    let parts = log.stats(topic).await.map_err(|e| ApiError::internal("enriched_events stats", &e))?;
    let per_part = (budget / parts.len().max(1)).max(1) as u64;
    let mut page = EventPage { items: Vec::new(), scanned: 0, unreadable: 0, complete: true };
    for p in parts {
        let start = p.next_offset.saturating_sub(per_part).max(p.first_offset);
        page.complete &= start == p.first_offset;
        let mut at = start;
        while at < p.next_offset {
            let batch = log
                .read(topic, p.partition, at, CHUNK)
                .await
                .map_err(|e| ApiError::internal("reading enriched_events", &e))?;
            let Some(last) = batch.last() else { break };
            at = last.offset + 1;
            for record in batch {
                page.scanned += 1;
                match ward_model::codec::decode_event(&record.payload) {
                    Ok(e) if search.matches(&e) => page.items.push(e),
                    Ok(_) => {}
                    Err(_) => page.unreadable += 1,
                }
            }
        }
    }
    page.items.sort_by_key(|e| std::cmp::Reverse(e.timestamp()));
    page.items.truncate(search.limit);
    Ok(page)
}

/// `GET /api/deadletter?limit=`.
pub(crate) async fn dead_letters(
    State(state): State<AppState>,
    caller: Caller,
    Query(params): Query<BTreeMap<String, String>>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let api = state.api()?;
    let limit = params.get("limit").map(|l| l.parse::<usize>()).transpose();
    let limit = api.page(limit.map_err(|e| ApiError::BadRequest(format!("limit: {e}")))?);
    let items =
        api.dead_letters.recent(&caller.tenant, limit).await.map_err(|e| port_error(e, "dead letters"))?;
    Ok(Json(serde_json::json!({ "items": items })))
}

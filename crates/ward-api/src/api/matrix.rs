//! The authorization matrix: every `/api/*` route with the roles allowed to call it. This table
//! is the single source of truth — the router refuses any route missing from it (403 for
//! everyone), `docs/authorization.md` shows it, and the integration test calls every route as
//! every role and checks the answer against it.

use crate::identity::Role;

/// Who may call a route.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// No credential needed (only login).
    Public,
    /// An authenticated caller with one of these roles.
    Roles(&'static [Role]),
}

impl Access {
    /// Whether `role` may call the route.
    pub fn allows(self, role: Role) -> bool {
        match self {
            Self::Public => true,
            Self::Roles(roles) => roles.contains(&role),
        }
    }
}

/// One route of the API.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RouteSpec {
    /// HTTP method, upper case.
    pub method: &'static str,
    /// Path template as registered in the router (`/api/incidents/{id}`).
    pub path: &'static str,
    /// Who may call it.
    pub access: Access,
    /// OpenAPI tag.
    pub tag: &'static str,
    /// One-line summary (OpenAPI and docs).
    pub summary: &'static str,
}

const ALL: &[Role] = &[Role::Admin, Role::Analyst, Role::Responder, Role::Viewer];
const WORKERS: &[Role] = &[Role::Admin, Role::Analyst, Role::Responder];
const TRIAGE: &[Role] = &[Role::Admin, Role::Analyst];
const ADMIN: &[Role] = &[Role::Admin];
const RESPONDERS: &[Role] = &[Role::Admin, Role::Responder];

const fn r(
    method: &'static str,
    path: &'static str,
    access: Access,
    tag: &'static str,
    summary: &'static str,
) -> RouteSpec {
    RouteSpec { method, path, access, tag, summary }
}

use Access::{Public, Roles};

/// Every `/api/*` route Ward serves (ingest and webhooks are signed separately and are not here).
pub const ROUTES: &[RouteSpec] = &[
    r(
        "POST",
        "/api/auth/login",
        Public,
        "auth",
        "Log in with tenant, name and password; sets the session cookie",
    ),
    r("POST", "/api/auth/logout", Roles(ALL), "auth", "End the current session"),
    r("GET", "/api/auth/me", Roles(ALL), "auth", "The caller: tenant, subject, role"),
    r("GET", "/api/incidents", Roles(ALL), "incidents", "List incidents (filters, sort, cursor)"),
    r("GET", "/api/incidents/{id}", Roles(ALL), "incidents", "One incident with its alerts"),
    r("PATCH", "/api/incidents/{id}", Roles(WORKERS), "incidents", "Change status, assignee or severity"),
    r("GET", "/api/incidents/{id}/comments", Roles(ALL), "incidents", "Comments on an incident"),
    r("POST", "/api/incidents/{id}/comments", Roles(WORKERS), "incidents", "Comment on an incident"),
    r("GET", "/api/incidents/{id}/timeline", Roles(ALL), "incidents", "Every change of an incident"),
    r("POST", "/api/incidents/{id}/merge", Roles(TRIAGE), "incidents", "Merge other incidents into this one"),
    r("POST", "/api/incidents/{id}/split", Roles(TRIAGE), "incidents", "Move alerts into a new incident"),
    r("POST", "/api/incidents/{id}/labels", Roles(TRIAGE), "incidents", "Record an analyst disposition"),
    r("GET", "/api/alerts", Roles(ALL), "alerts", "List alerts"),
    r("GET", "/api/alerts/{id}", Roles(ALL), "alerts", "One alert"),
    r("GET", "/api/events", Roles(WORKERS), "events", "Search recent enriched events"),
    r("GET", "/api/deadletter", Roles(TRIAGE), "telemetry", "Recent rejected records"),
    r("GET", "/api/telemetry/status", Roles(ALL), "telemetry", "Per-tenant telemetry and pipeline status"),
    r("GET", "/api/stream", Roles(ALL), "stream", "WebSocket of new alerts, incidents and status changes"),
    r("GET", "/api/openapi.json", Roles(ALL), "docs", "This API as an OpenAPI 3.1 document"),
    r("GET", "/api/docs", Roles(ALL), "docs", "A page rendering the OpenAPI document"),
    r("GET", "/api/audit", Roles(ADMIN), "admin", "The tenant's audit log"),
    r("GET", "/api/users", Roles(ADMIN), "admin", "List users"),
    r("POST", "/api/users", Roles(ADMIN), "admin", "Create a user"),
    r("GET", "/api/apikeys", Roles(ADMIN), "admin", "List API keys"),
    r("POST", "/api/apikeys", Roles(ADMIN), "admin", "Create an API key"),
    r("DELETE", "/api/apikeys/{id}", Roles(ADMIN), "admin", "Revoke an API key"),
    r("GET", "/api/attack/coverage", Roles(ALL), "context", "MITRE ATT&CK coverage of the loaded rules"),
    r(
        "GET",
        "/api/entities/{kind}/{value}/features",
        Roles(ALL),
        "context",
        "Online features of one entity (latest, or at a time)",
    ),
    r("GET", "/api/assets", Roles(WORKERS), "assets", "The asset inventory"),
    r("PUT", "/api/assets", Roles(ADMIN), "assets", "Replace the asset inventory with JSON records"),
    r("POST", "/api/assets/import", Roles(ADMIN), "assets", "Replace the asset inventory from CSV"),
    r("GET", "/api/actions", Roles(WORKERS), "response", "Response actions, newest first"),
    r("GET", "/api/actions/{id}", Roles(WORKERS), "response", "One response action"),
    r("POST", "/api/actions", Roles(RESPONDERS), "response", "Run an action (guards, policy, approval)"),
    r("POST", "/api/actions/{id}/rollback", Roles(RESPONDERS), "response", "Undo an action"),
    r(
        "POST",
        "/api/incidents/{id}/rollback",
        Roles(RESPONDERS),
        "response",
        "Undo every active action of an incident",
    ),
    r("GET", "/api/approvals", Roles(WORKERS), "response", "Approval requests"),
    r("POST", "/api/approvals/{id}/approve", Roles(RESPONDERS), "response", "Approve and run an action"),
    r("POST", "/api/approvals/{id}/reject", Roles(RESPONDERS), "response", "Reject a pending action"),
    r("POST", "/api/approvals/{id}/cancel", Roles(RESPONDERS), "response", "Withdraw a pending action"),
    r("GET", "/api/killswitch", Roles(WORKERS), "response", "Whether the kill switch is on"),
    r("PUT", "/api/killswitch", Roles(ADMIN), "response", "Turn the kill switch on or off"),
    r("GET", "/api/playbook-runs/{id}", Roles(WORKERS), "response", "A playbook run with its journal"),
    r("GET", "/api/playbooks", Roles(WORKERS), "playbooks", "Stored playbooks, by name"),
    r("GET", "/api/playbooks/{name}", Roles(WORKERS), "playbooks", "One stored playbook"),
    r("PUT", "/api/playbooks/{name}", Roles(ADMIN), "playbooks", "Create or replace a playbook (validated)"),
    r("DELETE", "/api/playbooks/{name}", Roles(ADMIN), "playbooks", "Delete a playbook"),
    r("POST", "/api/incidents/{id}/execute", Roles(RESPONDERS), "playbooks", "Run a playbook on an incident"),
];

/// The matrix entry for a method and route template.
pub fn lookup(method: &str, path: &str) -> Option<&'static RouteSpec> {
    ROUTES.iter().find(|r| r.method == method && r.path == path)
}

/// The matrix as a markdown table (the one in `docs/authorization.md`).
pub fn markdown() -> String {
    let mut out = String::from(
        "| method | route | admin | analyst | responder | viewer |\n|---|---|---|---|---|---|\n",
    );
    for r in ROUTES {
        let cells: Vec<&str> = Role::ALL
            .iter()
            .map(|role| match r.access {
                Access::Public => "public",
                a if a.allows(*role) => "yes",
                _ => "no",
            })
            .collect();
        out.push_str(&format!("| {} | `{}` | {} |\n", r.method, r.path, cells.join(" | ")));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_are_unique_and_admin_may_call_everything() {
        for (i, a) in ROUTES.iter().enumerate() {
            assert!(ROUTES[i + 1..].iter().all(|b| (a.method, a.path) != (b.method, b.path)), "{a:?} twice");
            assert!(a.access.allows(Role::Admin), "{} {}", a.method, a.path);
        }
    }
}

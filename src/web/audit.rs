//! The audit viewer for tenant admins: filter the trail, see each change's before and after,
//! export it, and see whether the hash chain verifies (the same check as `nightmarket audit verify`).

use askama::Template;
use axum::extract::State;
use axum::response::{Html, Response};

use super::layout::{Clock, Page, render};
use crate::app::AppState;
use crate::auth::AuthUser;
use crate::db::audit::FullRow;
use crate::error::AppResult;
use crate::http::extract::Query;
use crate::services::audit::{self, Browse, Filter};

#[derive(Template)]
#[template(path = "admin/audit.html")]
struct AuditPage {
    page: Page,
    section: &'static str,
    f: Filter,
    query: String,
    b: Browse,
    clock: Clock,
}

impl AuditPage {
    fn pretty(&self, v: &Option<serde_json::Value>) -> String {
        v.as_ref()
            .map(|v| serde_json::to_string_pretty(v).unwrap_or_else(|_| v.to_string()))
            .unwrap_or_else(|| "—".to_string())
    }

    fn has_change(&self, r: &FullRow) -> bool {
        r.before.is_some() || r.after.is_some()
    }
}

/// The audit trail, newest first, filtered by actor, action, subject and dates.
pub async fn page(
    State(state): State<AppState>,
    page: Page,
    user: AuthUser,
    Query(f): Query<Filter>,
) -> AppResult<Html<String>> {
    let b = audit::browse(&state, &user, &f).await?;
    render(&AuditPage {
        page,
        section: "audit",
        query: f.to_query(),
        f,
        b,
        clock: Clock {
            tz: user.tenant.timezone,
        },
    })
}

/// The matching records as CSV.
pub async fn export(State(state): State<AppState>, user: AuthUser, Query(f): Query<Filter>) -> AppResult<Response> {
    let body = audit::export(&state, &user, &f).await?;
    Ok(super::layout::csv_attachment(body, "audit"))
}

//! The audit viewer for tenant admins: filter the trail, see each change's before and after,
//! export it, and see whether the hash chain verifies (the same check as `nightmarket audit verify`).

use askama::Template;
use axum::extract::State;
use axum::response::{Html, Response};

use crate::auth::AuthUser;
use crate::error::HttpResult;
use crate::http::extract::Query;
use crate::state::AppState;
use crate::web::layout::{Clock, Page, render};
use nightmarket_services::audit::FullRow;
use nightmarket_services::audit::{self, Browse, Filter};

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
    fn has_change(&self, r: &FullRow) -> bool {
        r.before.is_some() || r.after.is_some()
    }

    /// The action in words (its code where it has no name yet).
    fn action_label(&self, r: &FullRow) -> String {
        named(&self.page, &nightmarket_domain::audit::label_key(&r.action)).unwrap_or_else(|| r.action.clone())
    }

    /// The kind of subject in words.
    fn subject_label(&self, r: &FullRow) -> String {
        named(&self.page, &format!("audit_subject.{}", r.subject_type)).unwrap_or_else(|| r.subject_type.clone())
    }

    /// Where the subject can be looked at, for those kinds that have a page.
    fn subject_link(&self, r: &FullRow) -> Option<String> {
        let base = match r.subject_type.as_str() {
            "application" => "/official/applications",
            "code" => "/official/codes",
            "complaint" => "/official/complaints",
            "campaign" => "/admin/vouchers",
            "market" => "/admin/markets",
            _ => return None,
        };
        uuid::Uuid::parse_str(&r.subject_id)
            .ok()
            .map(|id| format!("{base}/{id}"))
    }

    /// The fields the change touched: (field, before, after), values as compact text.
    fn changes(&self, r: &FullRow) -> Vec<(String, String, String)> {
        let text = |v: &Option<serde_json::Value>| match v {
            None => "—".to_string(),
            Some(serde_json::Value::String(s)) => s.clone(),
            Some(serde_json::Value::Null) => "—".to_string(),
            Some(v) => v.to_string(),
        };
        nightmarket_domain::audit::changed_fields(r.before.as_ref(), r.after.as_ref())
            .into_iter()
            .map(|(k, b, a)| {
                let field = named(&self.page, &format!("audit_field.{k}")).unwrap_or(k);
                (field, text(&b), text(&a))
            })
            .collect()
    }
}

/// The translation of `key`, or None when there is none (the lookup gives the key back).
fn named(page: &Page, key: &str) -> Option<String> {
    let t = page.t(key);
    (t != key).then_some(t)
}

/// The actions whose names (in either language) contain every typed word.
fn actions_named(text: &str) -> Vec<String> {
    let words: Vec<String> = text.split_whitespace().map(str::to_lowercase).collect();
    nightmarket_domain::audit::ACTIONS
        .iter()
        .filter(|a| {
            let key = nightmarket_domain::audit::label_key(a);
            let names = format!(
                "{} {} {a}",
                crate::i18n::Lang::Zh.t(&key),
                crate::i18n::Lang::En.t(&key).to_lowercase()
            );
            words.iter().all(|w| names.contains(w.as_str()))
        })
        .map(|a| a.to_string())
        .collect()
}

/// An action typed as words ("撤销", "void") matches the actions whose names contain them; a code
/// or its beginning ("complaint.") matches as before.
fn words_to_actions(f: &mut Filter) {
    let typed = f.action.trim();
    if !typed.is_empty() && !nightmarket_domain::audit::is_code_prefix(typed) {
        f.actions = Some(actions_named(typed));
    }
}

/// The audit trail, newest first, filtered by actor, action, subject and dates.
pub async fn page(
    State(state): State<AppState>,
    page: Page,
    user: AuthUser,
    Query(mut f): Query<Filter>,
) -> HttpResult<Html<String>> {
    words_to_actions(&mut f);
    let b = audit::browse(&state.ctx, &user, &f).await?;
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
pub async fn export(
    State(state): State<AppState>,
    user: AuthUser,
    Query(mut f): Query<Filter>,
) -> HttpResult<Response> {
    words_to_actions(&mut f);
    let rows = audit::export(&state.ctx, &user, &f).await?;
    let body = crate::exports::audit_csv(&rows, user.tenant.timezone)?;
    Ok(crate::web::layout::csv_attachment(body, "audit"))
}

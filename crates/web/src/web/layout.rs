//! What every page shares: the language, the signed-in person for the header, the language
//! switch, asset URLs, form error messages, and rendering.

use askama::Template;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::response::{Html, IntoResponse, Response};
use std::convert::Infallible;

use crate::auth::SessionHint;
use crate::error::{AppError, AppResult, ErrorReport, FieldError, HttpError, HttpResult};
use crate::http::assets;
use crate::i18n::Lang;
use crate::state::AppState;
use nightmarket_domain::people::Role;

/// The signed-in person, as the page header shows them.
#[derive(Clone, Debug)]
pub struct NavUser {
    pub name: String,
    pub role: Role,
}

impl NavUser {
    /// Admins and officials: their pages carry the live notices.
    pub fn is_staff(&self) -> bool {
        matches!(self.role, Role::Admin | Role::Official)
    }

    pub fn home(&self) -> &'static str {
        match self.role {
            Role::Admin => "/admin",
            Role::Official => "/official",
            Role::Vendor => "/vendor",
        }
    }
}

/// Context every template receives as `page`.
#[derive(Clone, Debug)]
pub struct Page {
    pub lang: Lang,
    /// Path and query of this page, for the language switch and sign-in redirects.
    pub path: String,
    pub user: Option<NavUser>,
}

impl Page {
    pub fn new(lang: Lang, path: impl Into<String>) -> Page {
        Page {
            lang,
            path: path.into(),
            user: None,
        }
    }

    pub fn t(&self, key: &str) -> String {
        self.lang.t(key)
    }

    pub fn tr(&self, key: &str, name: &str, value: impl std::fmt::Display) -> String {
        self.lang.tr(key, &[(name, &value.to_string())])
    }

    pub fn tr2(&self, key: &str, n1: &str, v1: impl std::fmt::Display, n2: &str, v2: impl std::fmt::Display) -> String {
        self.lang.tr(key, &[(n1, &v1.to_string()), (n2, &v2.to_string())])
    }

    pub fn lang_code(&self) -> &'static str {
        self.lang.code()
    }

    pub fn asset(&self, name: &str) -> String {
        assets::url(name)
    }

    /// The link that switches language and comes back here.
    pub fn switch_lang_href(&self) -> String {
        let back: String = url::form_urlencoded::byte_serialize(self.path.as_bytes()).collect();
        format!("/lang/{}?back={back}", self.lang.other().code())
    }

    pub fn other_lang_name(&self) -> &'static str {
        match self.lang {
            Lang::Zh => "English",
            Lang::En => "中文",
        }
    }

    pub fn role_label(&self, role: &Role) -> String {
        self.t(role.label_key())
    }
}

impl FromRequestParts<AppState> for Page {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let lang = crate::i18n::from_headers(&parts.headers);
        let path = parts
            .uri
            .path_and_query()
            .map(|p| p.as_str().to_string())
            .unwrap_or_else(|| "/".into());
        let hint = <SessionHint as axum::extract::OptionalFromRequestParts<AppState>>::from_request_parts(parts, state)
            .await
            .unwrap_or(None);
        Ok(Page {
            lang,
            path,
            user: hint.map(|h| NavUser {
                name: h.name,
                role: h.role,
            }),
        })
    }
}

/// Field messages of a form that did not pass, translated.
#[derive(Clone, Debug, Default)]
pub struct FormErrors {
    messages: Vec<(&'static str, String)>,
}

impl FormErrors {
    pub fn new(lang: Lang, errors: &[FieldError]) -> FormErrors {
        FormErrors {
            messages: errors.iter().map(|e| (e.field, lang.msg(&e.msg))).collect(),
        }
    }

    pub fn from_error(lang: Lang, err: &AppError) -> Option<FormErrors> {
        match err {
            AppError::Validation(fields) => Some(FormErrors::new(lang, fields)),
            AppError::Conflict(msg) | AppError::BadRequest(msg) => Some(FormErrors {
                messages: vec![("form", lang.msg(msg))],
            }),
            _ => None,
        }
    }

    /// The messages of an error about the input, with how to answer the form shown again with
    /// them; any other error passes on as it is. One shape for every form handler:
    /// `let (errors, refused) = FormErrors::of(lang, err)?;` … `Ok(refused.page(html))`.
    pub fn of(lang: Lang, err: AppError) -> HttpResult<(FormErrors, Refused)> {
        match FormErrors::from_error(lang, &err) {
            Some(errors) => Ok((errors, Refused(err))),
            None => Err(err.into()),
        }
    }

    /// The message for one field, if any.
    pub fn get(&self, field: &str) -> Option<&str> {
        self.messages.iter().find(|(f, _)| *f == field).map(|(_, m)| m.as_str())
    }

    pub fn is_empty(&self) -> bool {
        self.messages.is_empty()
    }

    /// Every message, for the summary at the top of the form.
    pub fn all(&self) -> Vec<&str> {
        self.messages.iter().map(|(_, m)| m.as_str()).collect()
    }
}

/// A confirmation that works without script: a form that does what cannot be undone carries a
/// checkbox `confirm` whose label states the consequence; the action runs only when it is ticked
/// (browsers enforce `required`, and this says so to those that do not).
pub fn confirmed(value: Option<&str>) -> AppResult<()> {
    match value {
        Some(v) if !v.trim().is_empty() => Ok(()),
        _ => Err(AppError::field("confirm", "form.confirm_required")),
    }
}

/// A form whose only field is its confirmation checkbox.
#[derive(serde::Deserialize)]
pub struct ConfirmForm {
    #[serde(default)]
    confirm: Option<String>,
}

impl ConfirmForm {
    pub fn confirm(&self) -> Option<&str> {
        self.confirm.as_deref()
    }
}

pub fn render(template: &impl Template) -> HttpResult<Html<String>> {
    template
        .render()
        .map(Html)
        .map_err(|e| HttpError(AppError::Internal(e.into())))
}

/// A refused form's error, kept for the status of the page that shows it again.
pub struct Refused(AppError);

impl Refused {
    /// The form page again, with the refusal's status (422, 409…).
    pub fn page(self, template_result: HttpResult<Html<String>>) -> Response {
        form_failed(template_result, &self.0)
    }
}

/// A form page re-rendered with its errors: 422, or the error itself when it is not about input.
pub fn form_failed(template_result: HttpResult<Html<String>>, err: &AppError) -> Response {
    match template_result {
        Ok(html) => (crate::error::status(err), html).into_response(),
        Err(e) => e.into_response(),
    }
}

#[derive(Template)]
#[template(path = "errors/error.html")]
struct ErrorPage<'a> {
    page: Page,
    status: u16,
    title: String,
    message: String,
    details: Vec<String>,
    report: &'a ErrorReport,
}

/// The friendly error page; shows nothing of an internal error's cause.
pub fn error_page(
    lang: Lang,
    path: &str,
    report: &ErrorReport,
    user: Option<crate::auth::SessionHint>,
) -> Html<String> {
    let title_key = match report.status.as_u16() {
        404 => "error.title_not_found",
        403 => "error.title_forbidden",
        429 => "error.title_rate_limited",
        s if s >= 500 => "error.title_server",
        _ => "error.title_bad_request",
    };
    let page = ErrorPage {
        page: Page {
            user: user.map(|h| NavUser {
                name: h.name,
                role: h.role,
            }),
            ..Page::new(lang, path)
        },
        status: report.status.as_u16(),
        title: lang.t(title_key),
        message: lang.msg(&report.message),
        details: report.fields.iter().skip(1).map(|f| lang.msg(&f.msg)).collect(),
        report,
    };
    match page.render() {
        Ok(html) => Html(html),
        // The error page itself failed: plain text is all that is left.
        Err(_) => Html(format!("<!doctype html><title>{0}</title><p>{0}</p>", report.status)),
    }
}

/// Formats instants in the tenant's time zone.
#[derive(Clone, Copy, Debug)]
pub struct Clock {
    pub tz: chrono_tz::Tz,
}

impl Clock {
    pub fn at(&self, t: &chrono::DateTime<chrono::Utc>) -> String {
        t.with_timezone(&self.tz).format("%Y-%m-%d %H:%M").to_string()
    }

    pub fn time(&self, t: &chrono::DateTime<chrono::Utc>) -> String {
        t.with_timezone(&self.tz).format("%H:%M").to_string()
    }
}

/// A notice as a list shows it, in the reader's language.
#[derive(Clone, Debug)]
pub struct NoticeLine {
    pub text: String,
    pub link: Option<String>,
    pub when: String,
    pub read: bool,
}

impl NoticeLine {
    pub fn from(n: &nightmarket_services::notices::Notification, lang: Lang, clock: &Clock) -> NoticeLine {
        NoticeLine {
            text: nightmarket_services::notices::render(lang, &n.kind, &n.args),
            link: n.link.clone(),
            when: clock.at(&n.created_at),
            read: n.read_at.is_some(),
        }
    }
}

/// The signed-in person's notices as a page shows them (newest first, at most `limit`), and how
/// many are unread: one reading for the vendor's home and inbox and the officials' notices.
pub async fn notice_lines(
    state: &AppState,
    lang: Lang,
    user: &nightmarket_domain::people::Actor,
    limit: i64,
) -> HttpResult<(Vec<NoticeLine>, i64)> {
    let clock = Clock {
        tz: user.tenant.timezone,
    };
    let inbox = nightmarket_services::notices::inbox(&state.ctx, user, limit).await?;
    let lines = inbox
        .notices
        .iter()
        .map(|n| NoticeLine::from(n, lang, &clock))
        .collect();
    Ok((lines, inbox.unread))
}

/// A page's live stream (server-sent events) of this instance's notices: first `ready` (`live`
/// once the instance listens on the notice channel, else `degraded`), then what `pick` makes of
/// each notice (None: not for this reader), `lagged` when the reader fell behind (the page
/// reloads), and keep-alives. One place for every live page (officials' notices, a stall's
/// redemptions).
pub async fn live_stream<F, Fut>(
    live: &nightmarket_services::live::Live,
    mut pick: F,
) -> axum::response::sse::Sse<impl futures::Stream<Item = Result<axum::response::sse::Event, Infallible>> + use<F, Fut>>
where
    F: FnMut(nightmarket_services::live::LiveNotice) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = Option<axum::response::sse::Event>> + Send + 'static,
{
    use axum::response::sse::{Event, KeepAlive, Sse};
    use futures::StreamExt;
    use std::time::Duration;
    // Subscribed before asking whether the instance listens, so nothing after `ready` is missed.
    let notices = tokio_stream::wrappers::BroadcastStream::new(live.subscribe());
    let listening = live.ready(Duration::from_secs(5)).await;
    let ready = futures::stream::once(async move {
        Ok(Event::default()
            .event("ready")
            .data(if listening { "live" } else { "degraded" }))
    });
    let events = notices.filter_map(move |item| {
        let next = item.map(&mut pick);
        async move {
            match next {
                Ok(fut) => fut.await.map(Ok),
                Err(_) => Some(Ok(Event::default().event("lagged").data("reload"))),
            }
        }
    });
    Sse::new(ready.chain(events)).keep_alive(KeepAlive::new().interval(Duration::from_secs(20)))
}

/// Answers with CSV bytes as a download named `<stem>.csv` (the stem keeps only letters, digits,
/// `-` and `_`).
pub fn csv_attachment(body: Vec<u8>, stem: &str) -> axum::response::Response {
    attachment(body, "text/csv; charset=utf-8", stem, "csv")
}

/// A download: `body` as `{stem}.{ext}` (the stem kept to letters, digits, '-' and '_').
pub fn attachment(body: Vec<u8>, content_type: &'static str, stem: &str, ext: &str) -> axum::response::Response {
    use axum::http::{HeaderValue, header};
    use axum::response::IntoResponse;
    let mut res = body.into_response();
    res.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    let stem: String = stem
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect();
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{stem}.{ext}\"")) {
        res.headers_mut().insert(header::CONTENT_DISPOSITION, v);
    }
    res
}

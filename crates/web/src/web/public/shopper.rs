//! What shoppers do from a scan page, with no account and no script: rate the stall, complain
//! about it, and follow the complaint on its tracking page.

use askama::Template;
use axum::extract::{Multipart, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use serde::Deserialize;
use std::sync::Arc;

use crate::error::{AppError, AppResult, HttpResult};
use crate::http::client::ClientIp;
use crate::http::extract::{Form, Path, Query};
use crate::state::AppState;
use crate::web::layout::{Clock, FormErrors, Page, form_failed, render};
use crate::web::public::problem::not_genuine;
use nightmarket_domain::code::Colour;
use nightmarket_domain::complaint::{Category, State as ComplaintState};
use nightmarket_domain::people::Phone;
use nightmarket_domain::rating::Tag;
use nightmarket_services::codes;
use nightmarket_services::complaints::{self, Filing, Source, Tracking};
use nightmarket_services::otp::{self, Purpose};
use nightmarket_services::ratings::{self, Tonight};
use nightmarket_services::scan::{self, ScanData, Scanned};
use nightmarket_services::shopper::{DEVICE_COOKIE, Shopper, is_device_id, new_device_id};

/// The signed query of a code's URL (`?k=…&s=…`).
#[derive(Deserialize)]
pub struct Signed {
    k: Option<String>,
    s: Option<String>,
}

/// The scan data of a genuine, live code, or the page to answer with instead.
pub(crate) async fn genuine(
    state: &AppState,
    page: &Page,
    code: &str,
    q: &Signed,
) -> HttpResult<Result<Arc<ScanData>, Response>> {
    match scan::scan(&state.ctx, code, q.k.as_deref(), q.s.as_deref()).await? {
        Scanned::Genuine(d) => Ok(Ok(d)),
        Scanned::Revoked(_) => Err(AppError::Conflict(crate::error::Msg::new("code.revoked")).into()),
        Scanned::NotGenuine => Ok(Err(not_genuine(page.clone())?)),
    }
}

/// The device id from its cookie, or a new one with the cookie that keeps it (two years).
pub(crate) fn device(jar: &CookieJar, state: &AppState) -> (String, Option<HeaderValue>) {
    if let Some(c) = jar.get(DEVICE_COOKIE).filter(|c| is_device_id(c.value())) {
        return (c.value().to_string(), None);
    }
    let id = new_device_id();
    let cookie = Cookie::build((DEVICE_COOKIE, id.clone()))
        .path("/")
        .http_only(true)
        .secure(state.config.secure_cookies())
        .same_site(SameSite::Lax)
        .max_age(time::Duration::days(730))
        .build();
    (id, HeaderValue::from_str(&cookie.to_string()).ok())
}

pub(crate) fn with_cookie(mut response: Response, cookie: Option<HeaderValue>) -> Response {
    if let Some(c) = cookie {
        response.headers_mut().append(header::SET_COOKIE, c);
    }
    response
}

fn scan_path(data: &ScanData) -> String {
    codes::url_path(&data.code)
}

/// The path of one of the code's shopper pages (`rate`, `complain`), with the signed query.
fn action_path(data: &ScanData, action: &str) -> String {
    scan_path(data).replacen('?', &format!("/{action}?"), 1)
}

// ---------------------------------------------------------------------------------- ratings

#[derive(Template)]
#[template(path = "public/rate.html")]
struct RatePage {
    page: Page,
    data: Arc<ScanData>,
    /// Why the stall cannot be rated now (None: the form is shown).
    closed: Option<String>,
    action: String,
    back: String,
    form: RateForm,
    errors: FormErrors,
}

impl RatePage {
    fn tags(&self) -> Vec<(&'static str, &'static str, bool)> {
        Tag::ALL
            .iter()
            .map(|t| {
                (
                    t.as_str(),
                    t.label_key(),
                    self.form.tags.iter().any(|x| x == t.as_str()),
                )
            })
            .collect()
    }

    fn star_checked(&self, n: &u8) -> bool {
        self.form.stars == n.to_string()
    }
}

#[derive(Clone, Debug, Default, Deserialize)]
pub struct RateForm {
    /// The rating ticket the scan page handed this device.
    #[serde(default)]
    ticket: String,
    #[serde(default)]
    stars: String,
    #[serde(default)]
    tags: Vec<String>,
    #[serde(default)]
    comment: String,
}

/// Why a stall cannot be rated at `now`, if it cannot.
pub(crate) fn rating_closed(data: &ScanData, page: &Page, now: chrono::DateTime<chrono::Utc>) -> Option<String> {
    if data.code.colour == Colour::Red {
        return Some(page.t("rating.red"));
    }
    match data.tonight(now) {
        Tonight::Open => None,
        Tonight::Ready => Some(page.t("rating.not_open_yet")),
        Tonight::Left => Some(page.t("rating.left")),
        Tonight::Absent => Some(page.t("rating.not_checked_in")),
    }
}

pub async fn rate_form(
    State(state): State<AppState>,
    page: Page,
    jar: CookieJar,
    ClientIp(ip): ClientIp,
    Path(code): Path<String>,
    Query(q): Query<Signed>,
) -> HttpResult<Response> {
    let data = match genuine(&state, &page, &code, &q).await? {
        Ok(d) => d,
        Err(r) => return Ok(r),
    };
    // The rating ticket: this device opened this stall's page now (from its code, at the
    // stall), which a rating must show. Handed out here rather than in the scan page, so that
    // the scan page is the same bytes for every phone (kept compressed; see BENCHMARKS.md).
    let now = state.ctx.clock.now();
    let (device, cookie) = device(&jar, &state);
    let ticket = ratings::ticket(&state.ctx.keys, &data.tenant, data.code.id, &device, now);
    // Rated already tonight: the form would only be refused; say so instead of offering it.
    let mut closed = rating_closed(&data, &page, now);
    if closed.is_none() && cookie.is_none() {
        let shopper = Shopper::new(&state.ctx.keys, data.tenant.id, &device, ip);
        if ratings::rated_tonight(&state.ctx, &data.tenant, &data.code, &shopper).await? {
            closed = Some(page.t("rating.once_per_night"));
        }
    }
    let html = render(&RatePage {
        closed,
        action: action_path(&data, "rate"),
        back: scan_path(&data),
        form: RateForm {
            ticket,
            ..RateForm::default()
        },
        errors: FormErrors::default(),
        page,
        data,
    })?;
    Ok(with_cookie(html.into_response(), cookie))
}

pub async fn rate(
    State(state): State<AppState>,
    page: Page,
    jar: CookieJar,
    ClientIp(ip): ClientIp,
    Path(code): Path<String>,
    Query(q): Query<Signed>,
    Form(form): Form<RateForm>,
) -> HttpResult<Response> {
    let data = match genuine(&state, &page, &code, &q).await? {
        Ok(d) => d,
        Err(r) => return Ok(r),
    };
    let (device, cookie) = device(&jar, &state);
    let shopper = Shopper::new(&state.ctx.keys, data.tenant.id, &device, ip);
    let result = ratings::rate(
        &state.ctx,
        &data.tenant,
        &data.code,
        &shopper,
        &device,
        &form.ticket,
        &form.stars,
        &form.tags,
        &form.comment,
    )
    .await;
    match result {
        Ok((_, standing)) => {
            let done = match standing {
                ratings::Standing::Counted => "rated",
                ratings::Standing::Held => "held",
            };
            Ok(with_cookie(
                Redirect::to(&format!("{}&done={done}", scan_path(&data))).into_response(),
                cookie,
            ))
        }
        Err(err) => {
            let (errors, refused) = FormErrors::of(page.lang, err)?;
            let html = render(&RatePage {
                closed: None,
                action: action_path(&data, "rate"),
                back: scan_path(&data),
                form,
                errors,
                page,
                data,
            });
            Ok(with_cookie(refused.page(html), cookie))
        }
    }
}

// ------------------------------------------------------------------------------- complaints

#[derive(Template)]
#[template(path = "public/complain.html")]
struct ComplainPage {
    page: Page,
    data: Arc<ScanData>,
    action: String,
    code_action: String,
    back: String,
    category: String,
    description: String,
    phone: String,
    /// "A code was sent to 138****8000".
    code_sent: Option<String>,
    errors: FormErrors,
}

impl ComplainPage {
    fn categories(&self) -> Vec<(&'static str, &'static str, bool)> {
        Category::ALL
            .iter()
            .map(|c| (c.as_str(), c.label_key(), self.category == c.as_str()))
            .collect()
    }
}

fn complain_page(page: Page, data: Arc<ScanData>) -> ComplainPage {
    ComplainPage {
        action: action_path(&data, "complain"),
        code_action: action_path(&data, "complain/code"),
        back: scan_path(&data),
        category: String::new(),
        description: String::new(),
        phone: String::new(),
        code_sent: None,
        errors: FormErrors::default(),
        page,
        data,
    }
}

pub async fn complain_form(
    State(state): State<AppState>,
    page: Page,
    Path(code): Path<String>,
    Query(q): Query<Signed>,
) -> HttpResult<Response> {
    let data = match genuine(&state, &page, &code, &q).await? {
        Ok(d) => d,
        Err(r) => return Ok(r),
    };
    Ok(render(&complain_page(page, data))?.into_response())
}

#[derive(Deserialize)]
pub struct PhoneForm {
    #[serde(default)]
    phone: String,
}

/// Sends the SMS code that proves the contact number, then shows the form again with it filled in.
pub async fn complain_code(
    State(state): State<AppState>,
    page: Page,
    ClientIp(ip): ClientIp,
    Path(code): Path<String>,
    Query(q): Query<Signed>,
    Form(form): Form<PhoneForm>,
) -> HttpResult<Response> {
    let data = match genuine(&state, &page, &code, &q).await? {
        Ok(d) => d,
        Err(r) => return Ok(r),
    };
    let tenant = data.tenant.clone();
    let sent = match Phone::parse(&form.phone) {
        Some(phone) => otp::send(&state.ctx, &tenant, Purpose::Complaint, &phone, ip)
            .await
            .map(|()| phone),
        None => Err(AppError::field("phone", "phone.invalid")),
    };
    let mut p = complain_page(page.clone(), data);
    p.phone = form.phone.trim().to_string();
    match sent {
        Ok(phone) => {
            p.code_sent = Some(page.tr("complaint.code_sent", "phone", phone.masked()));
            Ok(render(&p)?.into_response())
        }
        Err(AppError::RateLimited { retry_after_secs }) => {
            p.errors = FormErrors::new(
                page.lang,
                &[crate::error::FieldError::with(
                    "phone",
                    crate::error::Msg::new("signup.wait").arg("s", retry_after_secs),
                )],
            );
            Ok((StatusCode::TOO_MANY_REQUESTS, render(&p)?).into_response())
        }
        Err(err) => {
            let (errors, refused) = FormErrors::of(page.lang, err)?;
            p.errors = errors;
            Ok(refused.page(render(&p)))
        }
    }
}

pub async fn complain(
    State(state): State<AppState>,
    page: Page,
    jar: CookieJar,
    ClientIp(ip): ClientIp,
    Path(code): Path<String>,
    Query(q): Query<Signed>,
    multipart: Multipart,
) -> HttpResult<Response> {
    let data = match genuine(&state, &page, &code, &q).await? {
        Ok(d) => d,
        Err(r) => return Ok(r),
    };
    let form = crate::http::files::Form::read(multipart).await?;
    let (device, cookie) = device(&jar, &state);
    let shopper = Shopper::new(&state.ctx.keys, data.tenant.id, &device, ip);
    let filing = Filing {
        category: form.text("category").to_string(),
        description: form.text("description").to_string(),
        phone: form.text("phone").to_string(),
        sms_code: form.text("sms_code").to_string(),
        photos: form.files("photos"),
        source_ref: None,
        voucher_shopper: jar
            .get(crate::auth::shopper::COOKIE)
            .and_then(|c| state.ctx.shopper_keys.verify(c.value()))
            .filter(|c| c.tid == data.tenant.id.0)
            .map(|c| c.sub),
    };
    match complaints::file(
        &state.ctx,
        &data.tenant,
        &data.code,
        Source::Scan,
        Some(&shopper),
        filing,
    )
    .await
    {
        Ok(filed) => Ok(with_cookie(
            Redirect::to(&format!("/complaints/{}?new=1", filed.tracking)).into_response(),
            cookie,
        )),
        Err(err) => {
            let (errors, refused) = FormErrors::of(page.lang, err)?;
            let mut p = complain_page(page, data);
            p.category = form.text("category").to_string();
            p.description = form.text("description").to_string();
            p.phone = form.text("phone").to_string();
            p.errors = errors;
            Ok(with_cookie(refused.page(render(&p)), cookie))
        }
    }
}

// ---------------------------------------------------------------------------------- tracking

#[derive(Template)]
#[template(path = "public/tracking.html")]
struct TrackingPage {
    page: Page,
    t: Tracking,
    clock: Clock,
    new: bool,
    reopened: bool,
    reason: String,
    errors: FormErrors,
}

impl TrackingPage {
    fn state_key(&self) -> &'static str {
        self.t.state.label_key()
    }

    fn event_key(&self, kind: &str) -> String {
        format!("complaint_event.{kind}")
    }

    fn is_closed(&self) -> bool {
        !self.t.state.is_unresolved()
    }

    fn resolved(&self) -> bool {
        self.t.state == ComplaintState::Resolved
    }
}

#[derive(Deserialize)]
pub struct TrackingQuery {
    new: Option<String>,
    reopened: Option<String>,
}

async fn tracking_page(state: &AppState, page: Page, tracking: &str) -> AppResult<TrackingPage> {
    let t = complaints::track(&state.ctx, tracking).await?;
    let tz = match nightmarket_domain::complaint::tenant_of_tracking(tracking) {
        Some(slug) => state
            .ctx
            .tenant_named(slug)
            .await?
            .map(|t| t.timezone)
            .unwrap_or(chrono_tz::Asia::Shanghai),
        None => chrono_tz::Asia::Shanghai,
    };
    Ok(TrackingPage {
        page,
        t,
        clock: Clock { tz },
        new: false,
        reopened: false,
        reason: String::new(),
        errors: FormErrors::default(),
    })
}

#[derive(Template)]
#[template(path = "public/lookup.html")]
struct LookupPage {
    page: Page,
    tracking: String,
    errors: FormErrors,
}

/// `/complaints`: where a shopper who kept only the number types it in.
pub async fn lookup_form(page: Page) -> HttpResult<Response> {
    let mut response = render(&LookupPage {
        page,
        tracking: String::new(),
        errors: FormErrors::default(),
    })?
    .into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

#[derive(Deserialize)]
pub struct LookupForm {
    #[serde(default)]
    tracking: String,
}

/// Goes to the tracking page of a typed-in number (posted, so the number stays out of the query
/// string), or says plainly that there is no such complaint.
pub async fn lookup(State(state): State<AppState>, page: Page, Form(form): Form<LookupForm>) -> HttpResult<Response> {
    // No limit of its own: a number has over 100 random bits, so guessing one is hopeless.
    let tracking = form.tracking.trim().to_lowercase();
    match complaints::track(&state.ctx, &tracking).await {
        Ok(_) => Ok(Redirect::to(&format!("/complaints/{tracking}")).into_response()),
        Err(AppError::NotFound) => {
            let err = AppError::field("tracking", "lookup.not_found");
            let errors = FormErrors::from_error(page.lang, &err).unwrap_or_default();
            let html = render(&LookupPage {
                page,
                tracking: form.tracking,
                errors,
            });
            Ok(form_failed(html, &err))
        }
        Err(e) => Err(e.into()),
    }
}

/// `/complaints/{tracking}`: anyone holding the number may follow the complaint.
pub async fn tracking(
    State(state): State<AppState>,
    page: Page,
    Path(tracking): Path<String>,
    Query(q): Query<TrackingQuery>,
) -> HttpResult<Response> {
    let mut p = tracking_page(&state, page, &tracking).await?;
    p.new = q.new.is_some();
    p.reopened = q.reopened.is_some();
    let mut response = render(&p)?.into_response();
    let h: &mut HeaderMap = response.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    // The number is the key: never let it leak to another site in a Referer. (Not `no-referrer`:
    // browsers then send `Origin: null` with the page's own forms, which the cross-site check
    // rightly refuses.)
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    Ok(response)
}

#[derive(Deserialize)]
pub struct ReopenForm {
    #[serde(default)]
    reason: String,
}

pub async fn reopen(
    State(state): State<AppState>,
    page: Page,
    jar: CookieJar,
    ClientIp(ip): ClientIp,
    Path(tracking): Path<String>,
    Form(form): Form<ReopenForm>,
) -> HttpResult<Response> {
    let tenant = nightmarket_domain::complaint::tenant_of_tracking(&tracking).ok_or(AppError::NotFound)?;
    let tenant = state.ctx.tenant(tenant).await?;
    let (device, cookie) = device(&jar, &state);
    let shopper = Shopper::new(&state.ctx.keys, tenant.id, &device, ip);
    match complaints::reopen(&state.ctx, &tracking, &shopper, &form.reason).await {
        Ok(()) => Ok(with_cookie(
            Redirect::to(&format!("/complaints/{tracking}?reopened=1")).into_response(),
            cookie,
        )),
        Err(err) => {
            let (errors, refused) = FormErrors::of(page.lang, err)?;
            let mut p = tracking_page(&state, page, &tracking).await?;
            p.reason = form.reason;
            p.errors = errors;
            Ok(with_cookie(refused.page(render(&p)), cookie))
        }
    }
}

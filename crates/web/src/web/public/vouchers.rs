//! Shoppers' voucher pages, with no script: signing in with an SMS code, the campaigns and the
//! claim (with a waiting page that asks the browser to come back later instead of hammering the
//! server), "my vouchers", and using a voucher at a stall from its scan page.

use askama::Template;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::cookie::CookieJar;
use serde::Deserialize;
use uuid::Uuid;

use crate::auth::shopper::{self as shopper_auth, COOKIE};
use crate::error::{AppError, AppResult, HttpResult};
use crate::http::client::ClientIp;
use crate::http::extract::{Form, Path, Query};
use crate::state::AppState;
use crate::web::filters;
use crate::web::layout::{Clock, FormErrors, Page, form_failed, render};
use crate::web::public::markets::local_path;
use crate::web::public::shopper::{Signed, genuine};
use nightmarket_domain::tenant::{Tenant, TenantId};
use nightmarket_domain::voucher::{State as CState, yuan};
use nightmarket_services::scan;
use nightmarket_services::secrets::random_base32;
use nightmarket_services::vouchers::{self, Campaign, Claimed, HeldVoucher, Redemption};

/// The shopper signed in for `tenant`, from the cookie: (id, masked number).
fn signed_in(state: &AppState, jar: &CookieJar, tenant: TenantId) -> Option<(Uuid, String)> {
    let claims = state.ctx.shopper_keys.verify(jar.get(COOKIE)?.value())?;
    (claims.tid == tenant.0).then_some((claims.sub, claims.name))
}

// ------------------------------------------------------------------------------------ sign-in

#[derive(Template)]
#[template(path = "public/shopper_signin.html")]
struct SignInPage {
    page: Page,
    tenant: Tenant,
    step: u8,
    phone: String,
    next: String,
    errors: FormErrors,
}

#[derive(Deserialize)]
pub struct NextQuery {
    next: Option<String>,
}

#[derive(Template)]
#[template(path = "public/my_vouchers.html")]
struct MinePage {
    page: Page,
    tenant: Tenant,
    who: String,
    vouchers: Vec<HeldVoucher>,
    clock: Clock,
}

impl MinePage {}

/// `/t/{tenant}/me`: my vouchers, or signing in first.
pub async fn me(
    State(state): State<AppState>,
    page: Page,
    jar: CookieJar,
    Path(slug): Path<String>,
    Query(q): Query<NextQuery>,
) -> HttpResult<Response> {
    let tenant = state.ctx.tenant(&slug).await?;
    let Some((id, who)) = signed_in(&state, &jar, tenant.id) else {
        return Ok(render(&SignInPage {
            page,
            step: 1,
            phone: String::new(),
            next: local_path(q.next.as_deref()),
            errors: FormErrors::default(),
            tenant,
        })?
        .into_response());
    };
    let vouchers = vouchers::mine(&state.ctx, tenant.id, id).await?;
    Ok(render(&MinePage {
        page,
        who,
        vouchers,
        clock: Clock { tz: tenant.timezone },
        tenant,
    })?
    .into_response())
}

#[derive(Deserialize)]
pub struct CodeForm {
    #[serde(default)]
    phone: String,
    #[serde(default)]
    code: String,
    #[serde(default)]
    next: String,
}

pub async fn send_code(
    State(state): State<AppState>,
    page: Page,
    ClientIp(ip): ClientIp,
    Path(slug): Path<String>,
    Form(form): Form<CodeForm>,
) -> HttpResult<Response> {
    let tenant = state.ctx.tenant(&slug).await?;
    let result = vouchers::send_code(&state.ctx, &tenant, &form.phone, ip).await;
    let next = local_path(Some(&form.next));
    match result {
        Ok(phone) => Ok(render(&SignInPage {
            page,
            step: 2,
            phone: phone.as_str().to_string(),
            next,
            errors: FormErrors::default(),
            tenant,
        })?
        .into_response()),
        Err(err) => {
            let errors = match &err {
                AppError::RateLimited { retry_after_secs } => Some(FormErrors::new(
                    page.lang,
                    &[crate::error::FieldError::with(
                        "phone",
                        crate::error::Msg::new("signup.wait").arg("s", retry_after_secs),
                    )],
                )),
                _ => FormErrors::from_error(page.lang, &err),
            };
            let Some(errors) = errors else {
                return Err(err.into());
            };
            let html = render(&SignInPage {
                page,
                step: 1,
                phone: form.phone,
                next,
                errors,
                tenant,
            });
            Ok(form_failed(html, &err))
        }
    }
}

pub async fn sign_in(
    State(state): State<AppState>,
    page: Page,
    Path(slug): Path<String>,
    Form(form): Form<CodeForm>,
) -> HttpResult<Response> {
    let tenant = state.ctx.tenant(&slug).await?;
    let next = local_path(Some(&form.next));
    match vouchers::sign_in(&state.ctx, &tenant, &form.phone, &form.code).await {
        Ok(session) => {
            let cookie = shopper_auth::cookie(&state.config, session.token);
            let mut r = Redirect::to(&next).into_response();
            if let Ok(v) = HeaderValue::from_str(&cookie.to_string()) {
                r.headers_mut().append(header::SET_COOKIE, v);
            }
            Ok(r)
        }
        Err(err) => {
            let (errors, refused) = FormErrors::of(page.lang, err)?;
            let html = render(&SignInPage {
                page,
                step: 2,
                phone: form.phone,
                next,
                errors,
                tenant,
            });
            Ok(refused.page(html))
        }
    }
}

// ---------------------------------------------------------------------------------- campaigns

#[derive(Template)]
#[template(path = "public/campaigns.html")]
struct CampaignsPage {
    page: Page,
    tenant: Tenant,
    campaigns: Vec<Campaign>,
    clock: Clock,
}

impl CampaignsPage {}

pub async fn campaigns(State(state): State<AppState>, page: Page, Path(slug): Path<String>) -> HttpResult<Response> {
    let tenant = state.ctx.tenant(&slug).await?;
    let campaigns = vouchers::list(&state.ctx, tenant.id).await?;
    Ok(render(&CampaignsPage {
        page,
        campaigns,
        clock: Clock { tz: tenant.timezone },
        tenant,
    })?
    .into_response())
}

#[derive(Template)]
#[template(path = "public/campaign.html")]
struct CampaignPage {
    page: Page,
    tenant: Tenant,
    c: Campaign,
    clock: Clock,
    signed_in: Option<String>,
    /// A fresh id for this claim; a resent form reuses it and gets the same answer.
    request_id: String,
    /// After a claim: what came of it.
    outcome: Option<String>,
    /// The seconds after which the page reloads itself (waiting for the opening, or shed load).
    refresh: Option<i64>,
    /// How many of this campaign's vouchers the signed-in shopper holds.
    held_here: i64,
    /// Where its vouchers work: the markets and stall categories, in words.
    where_valid: String,
    /// Whether yellow stalls take vouchers here (the tenant's setting).
    at_yellow: bool,
}

impl CampaignPage {
    /// Whether to offer the claim: running with vouchers left, and the shopper under the limit.
    fn may_claim(&self) -> bool {
        self.c.claimable() && self.held_here < self.c.terms.per_person
    }

    /// When the page reloads itself, in seconds or (past two minutes) in minutes.
    fn waiting(&self, s: &i64) -> String {
        if *s >= 120 {
            self.page.tr("shopper.waiting_minutes", "m", (s + 59) / 60)
        } else {
            self.page.tr("shopper.waiting", "s", s)
        }
    }

    fn sold_out_now(&self) -> bool {
        self.c.state == CState::Running && self.c.sold_out()
    }
}

/// Where a campaign's vouchers work, in words: its markets (every market of the district when it
/// names none) and its stall categories (every category when it names none).
/// Where a campaign's vouchers may be used: its markets (`markets`, their names; the campaign
/// naming none: every market) and stall categories (none: every category).
fn where_valid(c: &vouchers::Campaign, markets: &[String], page: &Page) -> String {
    let markets: Vec<String> = if c.terms.market_ids.is_empty() {
        vec![page.t("shopper.all_markets")]
    } else {
        markets.to_vec()
    };
    let categories: Vec<String> = if c.terms.categories.is_empty() {
        vec![page.t("shopper.all_categories")]
    } else {
        c.terms
            .categories
            .iter()
            .filter_map(|k| nightmarket_domain::market::Category::parse(k))
            .map(|k| page.t(k.label_key()))
            .collect()
    };
    format!("{} · {}", markets.join("、"), categories.join("、"))
}

/// Whole seconds from `now` until `at`, rounded up: coming back a fraction early would find the
/// window still closed (the database keeps microseconds, the clock may have nanoseconds).
fn seconds_until(now: chrono::DateTime<chrono::Utc>, at: chrono::DateTime<chrono::Utc>) -> i64 {
    let micros = (at - now).num_microseconds().unwrap_or(i64::MAX);
    micros.div_euclid(1_000_000) + i64::from(micros.rem_euclid(1_000_000) > 0)
}

/// Seconds until `at`, spread by up to a fifth (at least one), so a crowd that loaded the page at
/// once does not come back at once.
fn spread(seconds: i64) -> i64 {
    let s = seconds.clamp(1, 3600);
    let jitter = i64::from(u16::from_le_bytes(nightmarket_services::secrets::random_bytes::<2>())) % (s / 5 + 1);
    s + jitter
}

async fn campaign_page(
    state: &AppState,
    page: Page,
    jar: &CookieJar,
    tenant: Tenant,
    id: Uuid,
    outcome: Option<String>,
    refresh: Option<i64>,
) -> HttpResult<Response> {
    let who = signed_in(state, jar, tenant.id);
    let seen = vouchers::for_shopper(&state.ctx, tenant.id, id, who.as_ref().map(|(s, _)| *s)).await?;
    let c = seen.campaign;
    let now = state.ctx.clock.now();
    let refresh =
        refresh.or_else(|| (c.state == CState::Scheduled).then(|| spread(seconds_until(now, c.terms.claim_start))));
    let where_valid = where_valid(&c, &seen.markets, &page);
    let held_here = seen.held_here;
    let at_yellow = seen.at_yellow;
    let p = CampaignPage {
        held_here,
        where_valid,
        at_yellow,
        signed_in: who.map(|(_, n)| n),
        page,
        request_id: random_base32(20),
        clock: Clock { tz: tenant.timezone },
        tenant,
        c,
        outcome,
        refresh,
    };
    let mut r = render(&p)?.into_response();
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(r)
}

pub async fn campaign(
    State(state): State<AppState>,
    page: Page,
    jar: CookieJar,
    Path((slug, id)): Path<(String, Uuid)>,
) -> HttpResult<Response> {
    let tenant = state.ctx.tenant(&slug).await?;
    campaign_page(&state, page, &jar, tenant, id, None, None).await
}

#[derive(Deserialize)]
pub struct ClaimForm {
    #[serde(default)]
    request_id: String,
}

pub async fn claim(
    State(state): State<AppState>,
    page: Page,
    jar: CookieJar,
    Path((slug, id)): Path<(String, Uuid)>,
    Form(form): Form<ClaimForm>,
) -> HttpResult<Response> {
    let tenant = state.ctx.tenant(&slug).await?;
    let Some((shopper, _)) = signed_in(&state, &jar, tenant.id) else {
        return Ok(Redirect::to(&format!("/t/{slug}/me?next=/t/{slug}/vouchers/{id}")).into_response());
    };
    let lang = page.lang;
    let (status, outcome, refresh) = match vouchers::claim(&state.ctx, tenant.id, id, shopper, &form.request_id).await {
        Ok(Claimed::Voucher { voucher, .. }) => (
            StatusCode::OK,
            lang.tr("claim.done", &[("seq", &voucher.seq.to_string())]),
            None,
        ),
        Ok(Claimed::Limit) => (StatusCode::CONFLICT, lang.t("claim.limit"), None),
        Ok(Claimed::KeyReused) => (StatusCode::CONFLICT, lang.t("idempotency.key_reused"), None),
        Ok(Claimed::Closed) => (StatusCode::CONFLICT, lang.t("claim.closed"), None),
        Ok(Claimed::SoldOut) => (StatusCode::GONE, lang.t("claim.sold_out"), None),
        Ok(Claimed::NotYet(_)) => (StatusCode::TOO_EARLY, lang.t("claim.not_open"), None),
        Ok(Claimed::Unknown) => return Err(AppError::NotFound.into()),
        Err(AppError::RateLimited { retry_after_secs }) => {
            let wait = spread(retry_after_secs as i64 + 1);
            (
                StatusCode::TOO_MANY_REQUESTS,
                lang.tr("claim.busy", &[("s", &wait.to_string())]),
                Some(wait),
            )
        }
        Err(e) => return Err(e.into()),
    };
    let mut r = campaign_page(&state, page, &jar, tenant, id, Some(outcome), refresh).await?;
    *r.status_mut() = status;
    if let Some(wait) = refresh
        && let Ok(v) = HeaderValue::from_str(&wait.to_string())
    {
        r.headers_mut().insert(header::RETRY_AFTER, v);
    }
    Ok(r)
}

// --------------------------------------------------------------------------------- redemption

#[derive(Template)]
#[template(path = "public/redeem.html")]
struct RedeemPage {
    page: Page,
    stall: String,
    slot: String,
    back: String,
    action: String,
    signin: String,
    signed_in: Option<String>,
    usable: Vec<HeldVoucher>,
    request_id: String,
    bill: String,
    errors: FormErrors,
}

impl RedeemPage {}

#[derive(Template)]
#[template(path = "public/redeemed.html")]
struct RedeemedPage {
    page: Page,
    r: Redemption,
    back: String,
    clock: Clock,
}

impl RedeemedPage {}

async fn redeem_page(
    state: &AppState,
    page: Page,
    jar: &CookieJar,
    data: &scan::ScanData,
    bill: String,
    errors: FormErrors,
) -> AppResult<RedeemPage> {
    let back = nightmarket_services::codes::url_path(&data.code);
    let action = back.replacen('?', "/redeem?", 1);
    let who = signed_in(state, jar, data.tenant.id);
    let usable = match &who {
        Some((id, _)) => vouchers::mine(&state.ctx, data.tenant.id, *id)
            .await?
            .into_iter()
            .filter(|v| v.status == "claimed")
            .collect(),
        None => Vec::new(),
    };
    Ok(RedeemPage {
        page,
        stall: data.code.stall_name.clone(),
        slot: data.code.slot_code.clone(),
        signin: format!("/t/{}/me?next={}", data.tenant.slug, urlencode(&action)),
        signed_in: who.map(|(_, n)| n),
        back,
        action,
        usable,
        request_id: random_base32(20),
        bill,
        errors,
    })
}

fn urlencode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

pub async fn redeem_form(
    State(state): State<AppState>,
    page: Page,
    jar: CookieJar,
    Path(code): Path<String>,
    Query(q): Query<Signed>,
) -> HttpResult<Response> {
    let data = match genuine(&state, &page, &code, &q).await? {
        Ok(d) => d,
        Err(r) => return Ok(r),
    };
    Ok(render(&redeem_page(&state, page, &jar, &data, String::new(), FormErrors::default()).await?)?.into_response())
}

#[derive(Deserialize)]
pub struct RedeemForm {
    #[serde(default)]
    bill: String,
    #[serde(default)]
    request_id: String,
}

pub async fn redeem(
    State(state): State<AppState>,
    page: Page,
    jar: CookieJar,
    Path(code): Path<String>,
    Query(q): Query<Signed>,
    Form(form): Form<RedeemForm>,
) -> HttpResult<Response> {
    let data = match genuine(&state, &page, &code, &q).await? {
        Ok(d) => d,
        Err(r) => return Ok(r),
    };
    let Some((shopper, _)) = signed_in(&state, &jar, data.tenant.id) else {
        let p = redeem_page(&state, page, &jar, &data, form.bill, FormErrors::default()).await?;
        return Ok(Redirect::to(&p.signin).into_response());
    };
    let result = match vouchers::parse_yuan(&form.bill) {
        Some(fen) => vouchers::redeem(&state.ctx, &data.tenant, &data.code, shopper, fen, &form.request_id).await,
        None => Err(AppError::Validation(vec![crate::error::FieldError::with(
            "bill",
            crate::error::Msg::new("redeem.bill").arg("max", yuan(vouchers::MAX_BILL_FEN)),
        )])),
    };
    match result {
        Ok((r, _)) => {
            let back = nightmarket_services::codes::url_path(&data.code);
            Ok(render(&RedeemedPage {
                page,
                r,
                back,
                clock: Clock {
                    tz: data.tenant.timezone,
                },
            })?
            .into_response())
        }
        Err(err) => {
            let (errors, refused) = FormErrors::of(page.lang, err)?;
            let html = render(&redeem_page(&state, page, &jar, &data, form.bill, errors).await?);
            Ok(refused.page(html))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::seconds_until;
    use chrono::{Duration, TimeZone, Utc};

    #[test]
    fn the_wait_is_rounded_up_to_whole_seconds() {
        let now = Utc.with_ymd_and_hms(2026, 11, 21, 19, 0, 0).unwrap() + Duration::nanoseconds(500);
        // An opening stored to the microsecond, a fraction less than 600 s away: come back in 600.
        let at = Utc.with_ymd_and_hms(2026, 11, 21, 19, 10, 0).unwrap();
        assert_eq!(seconds_until(now, at), 600);
        assert_eq!(seconds_until(now, now + Duration::seconds(5)), 5);
        assert_eq!(seconds_until(now, now + Duration::milliseconds(5001)), 6);
        assert_eq!(seconds_until(now, now - Duration::seconds(3)), -3);
    }
}

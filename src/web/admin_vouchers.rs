//! Tenant admin: voucher campaigns (create, schedule, pause, resume, end, with their numbers) and
//! settlement (what to pay each vendor per day, marking it paid, CSV export).

use askama::Template;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use chrono::{NaiveDate, NaiveDateTime, TimeZone, Utc};
use serde::Deserialize;
use uuid::Uuid;

use super::layout::{Clock, FormErrors, Page, form_failed, render};
use crate::app::AppState;
use crate::auth::AuthUser;
use crate::domain::voucher::{Step, Terms, yuan};
use crate::error::{AppError, AppResult, FieldError};
use crate::http::extract::{Form, Path, Query};
use crate::services::vouchers::{self, CampaignStats, VendorDay};

#[derive(Clone, Debug, Default, Deserialize)]
pub struct CampaignForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    value_yuan: String,
    #[serde(default)]
    threshold_yuan: String,
    #[serde(default)]
    total: String,
    #[serde(default)]
    per_person: String,
    /// Local date-times, as `<input type="datetime-local">` sends them.
    #[serde(default)]
    claim_start: String,
    #[serde(default)]
    claim_end: String,
    #[serde(default)]
    use_days: String,
}

impl CampaignForm {
    fn parse(&self, tz: chrono_tz::Tz) -> AppResult<Terms> {
        let mut errors = Vec::new();
        let mut money = |field: &'static str, text: &str| match vouchers::parse_yuan(text) {
            Some(v) => v,
            None => {
                errors.push(FieldError::new(field, "form.not_a_number"));
                0
            }
        };
        let value = money("value_yuan", &self.value_yuan);
        let threshold = money(
            "threshold_yuan",
            if self.threshold_yuan.trim().is_empty() {
                "0"
            } else {
                &self.threshold_yuan
            },
        );
        let mut number = |field: &'static str, text: &str| match text.trim().parse::<i64>() {
            Ok(v) => v,
            Err(_) => {
                errors.push(FieldError::new(field, "form.not_a_number"));
                0
            }
        };
        let total = number("total", &self.total);
        let per_person = number("per_person", &self.per_person);
        let use_days = number("use_days", &self.use_days);
        let mut when = |field: &'static str, text: &str| {
            NaiveDateTime::parse_from_str(text.trim(), "%Y-%m-%dT%H:%M")
                .ok()
                .and_then(|l| tz.from_local_datetime(&l).earliest())
                .map(|t| t.with_timezone(&Utc))
                .unwrap_or_else(|| {
                    errors.push(FieldError::new(field, "campaign.when"));
                    Utc::now()
                })
        };
        let claim_start = when("claim_start", &self.claim_start);
        let claim_end = when("claim_end", &self.claim_end);
        if !errors.is_empty() {
            return Err(AppError::Validation(errors));
        }
        Ok(Terms {
            name: self.name.clone(),
            value_fen: value,
            threshold_fen: threshold,
            total,
            per_person,
            claim_start,
            claim_end,
            use_until: None,
            use_days: Some(use_days as i32),
            ..Terms::default()
        })
    }
}

#[derive(Template)]
#[template(path = "admin/vouchers.html")]
struct CampaignsPage {
    page: Page,
    section: &'static str,
    stats: Vec<CampaignStats>,
    form: CampaignForm,
    errors: FormErrors,
    notice: Option<String>,
    clock: Clock,
}

impl CampaignsPage {
    fn fen(&self, n: &i64) -> String {
        yuan(*n)
    }

    fn fen32(&self, n: &i32) -> String {
        yuan(i64::from(*n))
    }

    /// (field, label key, value, input type) of the new campaign form.
    fn fields(&self) -> Vec<(&'static str, &'static str, &str, &'static str)> {
        let f = &self.form;
        vec![
            ("name", "vouchers_admin.name", &f.name, "text"),
            ("value_yuan", "vouchers_admin.value", &f.value_yuan, "text"),
            ("threshold_yuan", "vouchers_admin.threshold", &f.threshold_yuan, "text"),
            ("total", "vouchers_admin.total", &f.total, "text"),
            ("per_person", "shopper.per_person", &f.per_person, "text"),
            (
                "claim_start",
                "vouchers_admin.claim_start",
                &f.claim_start,
                "datetime-local",
            ),
            ("claim_end", "vouchers_admin.claim_end", &f.claim_end, "datetime-local"),
            ("use_days", "vouchers_admin.use_days", &f.use_days, "text"),
        ]
    }

    fn curve(&self, s: &CampaignStats) -> String {
        s.claim_curve
            .iter()
            .map(|n| n.to_string())
            .collect::<Vec<_>>()
            .join(" ")
    }
}

async fn campaigns_page(
    state: &AppState,
    page: Page,
    admin: &AuthUser,
    form: CampaignForm,
    errors: FormErrors,
    notice: Option<String>,
) -> AppResult<Html<String>> {
    admin.require_admin()?;
    let mut stats = Vec::new();
    for c in vouchers::list(state, admin.tenant_id(), true).await? {
        stats.push(vouchers::stats(state, admin, c.id).await?);
    }
    render(&CampaignsPage {
        page,
        section: "vouchers",
        stats,
        form,
        errors,
        notice,
        clock: Clock {
            tz: admin.tenant.timezone,
        },
    })
}

#[derive(Deserialize)]
pub struct NoticeQuery {
    notice: Option<String>,
}

pub async fn list(
    State(state): State<AppState>,
    page: Page,
    admin: AuthUser,
    Query(q): Query<NoticeQuery>,
) -> AppResult<Html<String>> {
    let notice = q.notice.as_deref().map(|_| page.t("admin.notice_saved"));
    let form = CampaignForm {
        per_person: "1".into(),
        use_days: "7".into(),
        ..CampaignForm::default()
    };
    campaigns_page(&state, page, &admin, form, FormErrors::default(), notice).await
}

pub async fn create(
    State(state): State<AppState>,
    page: Page,
    admin: AuthUser,
    Form(form): Form<CampaignForm>,
) -> AppResult<Response> {
    admin.require_admin()?;
    let result = match form.parse(admin.tenant.timezone) {
        Ok(t) => vouchers::create(&state, &admin, &t).await.map(|_| ()),
        Err(e) => Err(e),
    };
    match result {
        Ok(()) => Ok(Redirect::to("/admin/vouchers?notice=saved").into_response()),
        Err(err) => {
            let Some(errors) = FormErrors::from_error(page.lang, &err) else {
                return Err(err);
            };
            let html = campaigns_page(&state, page, &admin, form, errors, None).await;
            Ok(form_failed(html, &err))
        }
    }
}

#[derive(Deserialize)]
pub struct StepForm {
    step: Step,
}

pub async fn step(
    State(state): State<AppState>,
    page: Page,
    admin: AuthUser,
    Path(id): Path<Uuid>,
    Form(form): Form<StepForm>,
) -> AppResult<Response> {
    match vouchers::step(&state, &admin, id, form.step).await {
        Ok(_) => Ok(Redirect::to("/admin/vouchers?notice=saved").into_response()),
        Err(err) => {
            let Some(errors) = FormErrors::from_error(page.lang, &err) else {
                return Err(err);
            };
            let html = campaigns_page(&state, page, &admin, CampaignForm::default(), errors, None).await;
            Ok(form_failed(html, &err))
        }
    }
}

#[derive(Template)]
#[template(path = "admin/settlement.html")]
struct SettlementPage {
    page: Page,
    section: &'static str,
    days: Vec<VendorDay>,
    from: NaiveDate,
    to: NaiveDate,
    clock: Clock,
}

impl SettlementPage {
    fn fen(&self, n: &i64) -> String {
        yuan(*n)
    }

    /// What was paid when settled, if a reversal since makes it differ from the subsidy now.
    fn paid_differs(&self, d: &VendorDay) -> Option<String> {
        d.settled_subsidy_fen.filter(|p| *p != d.subsidy_fen).map(yuan)
    }

    fn total(&self) -> (i64, i64, i64) {
        self.days.iter().fold((0, 0, 0), |(v, s, c), d| {
            (v + d.vouchers, s + d.subsidy_fen, c + d.consumption_fen)
        })
    }
}

#[derive(Deserialize)]
pub struct RangeQuery {
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
}

fn range(state: &AppState, admin: &AuthUser, q: &RangeQuery) -> (NaiveDate, NaiveDate) {
    let today = crate::services::supervision::local_date(state.config.clock.now(), admin.tenant.timezone);
    (
        q.from.unwrap_or(today - chrono::Duration::days(30)),
        q.to.unwrap_or(today),
    )
}

pub async fn settlement(
    State(state): State<AppState>,
    page: Page,
    admin: AuthUser,
    Query(q): Query<RangeQuery>,
) -> AppResult<Html<String>> {
    let (from, to) = range(&state, &admin, &q);
    let days = vouchers::settlement(&state, &admin, from, to).await?;
    render(&SettlementPage {
        page,
        section: "vouchers",
        days,
        from,
        to,
        clock: Clock {
            tz: admin.tenant.timezone,
        },
    })
}

/// The settlement as CSV, for the finance office.
pub async fn settlement_csv(
    State(state): State<AppState>,
    admin: AuthUser,
    Query(q): Query<RangeQuery>,
) -> AppResult<Response> {
    let (from, to) = range(&state, &admin, &q);
    let days = vouchers::settlement(&state, &admin, from, to).await?;
    let body = vouchers::settlement_csv(&days)?;
    let mut r = body.into_response();
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"settlement-{from}-{to}.csv\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(r)
}

#[derive(Deserialize)]
pub struct SettleForm {
    vendor: Uuid,
    date: NaiveDate,
    from: NaiveDate,
    to: NaiveDate,
}

pub async fn settle(
    State(state): State<AppState>,
    admin: AuthUser,
    Form(form): Form<SettleForm>,
) -> AppResult<Response> {
    vouchers::mark_settled(&state, &admin, form.vendor, form.date).await?;
    Ok(Redirect::to(&format!("/admin/vouchers/settlement?from={}&to={}", form.from, form.to)).into_response())
}

#[derive(Template)]
#[template(path = "official/voucher_flags.html")]
struct FlagsPage {
    page: Page,
    flags: Vec<vouchers::Flag>,
    clock: Clock,
}

impl FlagsPage {
    fn kind_key(&self, kind: &str) -> String {
        format!("voucher_flag.{kind}")
    }

    fn fen(&self, n: &i32) -> String {
        yuan(i64::from(*n))
    }
}

/// `/official/vouchers/flags`: fraud flags with their evidence, for officials.
pub async fn flags(State(state): State<AppState>, page: Page, user: AuthUser) -> AppResult<Html<String>> {
    let flags = vouchers::flags(&state, &user, None).await?;
    render(&FlagsPage {
        page,
        flags,
        clock: Clock {
            tz: user.tenant.timezone,
        },
    })
}

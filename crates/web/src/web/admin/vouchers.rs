//! Tenant admin: voucher campaigns (create, schedule, pause, resume, end, with their numbers) and
//! settlement (what to pay each vendor per day, marking it paid, CSV export).

use askama::Template;
use axum::extract::State;
use axum::response::{Html, IntoResponse, Redirect, Response};
use chrono::{NaiveDate, NaiveDateTime, TimeZone, Utc};
use serde::Deserialize;
use uuid::Uuid;

use crate::auth::AuthUser;
use crate::error::{AppError, AppResult, FieldError, HttpResult};
use crate::http::extract::{Form, Path, Query};
use crate::state::AppState;
use crate::web::filters;
use crate::web::layout::{Clock, FormErrors, Page, render};
use nightmarket_domain::voucher::{Step, Terms, yuan};
use nightmarket_services::vouchers::{self, CampaignStats, VendorDay};

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
    /// Days after each claim, or
    #[serde(default)]
    use_days: String,
    /// a fixed end of the use window (local date-time); one of the two.
    #[serde(default)]
    use_until: String,
    /// Empty: no daily budget.
    #[serde(default)]
    daily_budget_yuan: String,
    /// Ticked markets and categories (none ticked: all).
    #[serde(default)]
    market_ids: Vec<Uuid>,
    #[serde(default)]
    categories: Vec<String>,
}

/// One text field of the campaign form: (name, label key, value, input type, the field its
/// errors come under).
type Field<'a> = (&'static str, &'static str, &'a str, &'static str, &'static str);

const LOCAL: &str = "%Y-%m-%dT%H:%M";

impl CampaignForm {
    /// A new campaign's defaults.
    fn blank() -> CampaignForm {
        CampaignForm {
            per_person: "1".into(),
            use_days: "7".into(),
            ..CampaignForm::default()
        }
    }

    /// The form filled with a campaign's terms, in the tenant's time.
    fn of(c: &vouchers::Campaign, tz: chrono_tz::Tz) -> CampaignForm {
        let local = |t: chrono::DateTime<Utc>| t.with_timezone(&tz).format(LOCAL).to_string();
        CampaignForm {
            name: c.terms.name.clone(),
            value_yuan: yuan(c.terms.value_fen),
            threshold_yuan: yuan(c.terms.threshold_fen),
            total: c.terms.total.to_string(),
            per_person: c.terms.per_person.to_string(),
            claim_start: local(c.terms.claim_start),
            claim_end: local(c.terms.claim_end),
            use_days: c.terms.use_days.map(|d| d.to_string()).unwrap_or_default(),
            use_until: c.terms.use_until.map(local).unwrap_or_default(),
            daily_budget_yuan: c.terms.daily_budget_fen.map(yuan).unwrap_or_default(),
            market_ids: c.terms.market_ids.clone(),
            categories: c.terms.categories.clone(),
        }
    }

    fn fields(&self) -> Vec<Field<'_>> {
        vec![
            ("name", "vouchers_admin.name", &self.name, "text", "name"),
            (
                "value_yuan",
                "vouchers_admin.value",
                &self.value_yuan,
                "text",
                "value_fen",
            ),
            (
                "threshold_yuan",
                "vouchers_admin.threshold",
                &self.threshold_yuan,
                "text",
                "threshold_fen",
            ),
            ("total", "vouchers_admin.total", &self.total, "text", "total"),
            (
                "per_person",
                "shopper.per_person",
                &self.per_person,
                "text",
                "per_person",
            ),
            (
                "claim_start",
                "vouchers_admin.claim_start",
                &self.claim_start,
                "datetime-local",
                "claim_start",
            ),
            (
                "claim_end",
                "vouchers_admin.claim_end",
                &self.claim_end,
                "datetime-local",
                "claim_end",
            ),
            (
                "use_days",
                "vouchers_admin.use_days",
                &self.use_days,
                "text",
                "use_days",
            ),
            (
                "use_until",
                "vouchers_admin.use_until",
                &self.use_until,
                "datetime-local",
                "use_until",
            ),
            (
                "daily_budget_yuan",
                "vouchers_admin.daily_budget",
                &self.daily_budget_yuan,
                "text",
                "daily_budget_fen",
            ),
        ]
    }

    fn has_market(&self, id: &Uuid) -> bool {
        self.market_ids.contains(id)
    }

    fn has_category(&self, c: &str) -> bool {
        self.categories.iter().any(|x| x == c)
    }

    fn parse(&self, tz: chrono_tz::Tz) -> AppResult<Terms> {
        let mut errors = Vec::new();
        let mut money = |field: &'static str, text: &str| match vouchers::parse_yuan(text) {
            Some(v) => v,
            None => {
                errors.push(FieldError::new(field, "form.not_a_number"));
                0
            }
        };
        let value = money("value_fen", &self.value_yuan);
        let threshold = money(
            "threshold_fen",
            if self.threshold_yuan.trim().is_empty() {
                "0"
            } else {
                &self.threshold_yuan
            },
        );
        let budget =
            (!self.daily_budget_yuan.trim().is_empty()).then(|| money("daily_budget_fen", &self.daily_budget_yuan));
        let mut number = |field: &'static str, text: &str| match text.trim().parse::<i64>() {
            Ok(v) => v,
            Err(_) => {
                errors.push(FieldError::new(field, "form.not_a_number"));
                0
            }
        };
        let total = number("total", &self.total);
        let per_person = number("per_person", &self.per_person);
        let use_days = (!self.use_days.trim().is_empty()).then(|| number("use_days", &self.use_days));
        let mut when = |field: &'static str, text: &str| {
            NaiveDateTime::parse_from_str(text.trim(), LOCAL)
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
        let use_until = (!self.use_until.trim().is_empty()).then(|| when("use_until", &self.use_until));
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
            use_until,
            use_days: use_days.map(|d| d.clamp(i64::from(i32::MIN), i64::from(i32::MAX)) as i32),
            market_ids: self.market_ids.clone(),
            categories: self.categories.clone(),
            daily_budget_fen: budget,
        })
    }
}

/// What the campaign form offers to tick.
struct Choices {
    markets: Vec<(Uuid, String)>,
    categories: Vec<(&'static str, &'static str)>,
}

async fn choices(state: &AppState, admin: &AuthUser) -> AppResult<Choices> {
    let markets = nightmarket_services::markets::list(&state.ctx, admin.tenant_id())
        .await?
        .into_iter()
        .map(|m| (m.id, m.name))
        .collect();
    let categories = nightmarket_domain::market::Category::ALL
        .iter()
        .map(|c| (c.as_str(), c.label_key()))
        .collect();
    Ok(Choices { markets, categories })
}

#[derive(Template)]
#[template(path = "admin/vouchers.html")]
struct CampaignsPage {
    page: Page,
    section: &'static str,
    stats: Vec<CampaignStats>,
    form: CampaignForm,
    choices: Choices,
    errors: FormErrors,
    notice: Option<String>,
    clock: Clock,
}

impl CampaignsPage {
    fn action(&self) -> String {
        "/admin/vouchers".into()
    }

    fn submit_key(&self) -> &'static str {
        "vouchers_admin.create"
    }

    fn curve(&self, s: &CampaignStats) -> String {
        curve(s)
    }
}

fn curve(s: &CampaignStats) -> String {
    s.claim_curve
        .iter()
        .map(|n| n.to_string())
        .collect::<Vec<_>>()
        .join(" ")
}

async fn campaigns_page(
    state: &AppState,
    page: Page,
    admin: &AuthUser,
    form: CampaignForm,
    errors: FormErrors,
    notice: Option<String>,
) -> HttpResult<Html<String>> {
    let mut stats = Vec::new();
    for c in vouchers::list_all(&state.ctx, admin).await? {
        stats.push(vouchers::stats(&state.ctx, admin, c.id).await?);
    }
    render(&CampaignsPage {
        page,
        section: "vouchers",
        stats,
        form,
        choices: choices(state, admin).await?,
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
) -> HttpResult<Html<String>> {
    let notice = q.notice.as_deref().map(|_| page.t("admin.notice_saved"));
    campaigns_page(
        &state,
        page,
        &admin,
        CampaignForm::blank(),
        FormErrors::default(),
        notice,
    )
    .await
}

pub async fn create(
    State(state): State<AppState>,
    page: Page,
    admin: AuthUser,
    Form(form): Form<CampaignForm>,
) -> HttpResult<Response> {
    let result = match form.parse(admin.tenant.timezone) {
        Ok(t) => vouchers::create(&state.ctx, &admin, &t).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(c) => Ok(Redirect::to(&format!("/admin/vouchers/{}?notice=saved", c.id)).into_response()),
        Err(err) => {
            let (errors, refused) = FormErrors::of(page.lang, err)?;
            let html = campaigns_page(&state, page, &admin, form, errors, None).await;
            Ok(refused.page(html))
        }
    }
}

/// One campaign: its numbers, its steps, and its terms to change (the face value, threshold,
/// count and limit only until its claim window opens).
#[derive(Template)]
#[template(path = "admin/campaign.html")]
struct CampaignPage {
    page: Page,
    section: &'static str,
    stats: CampaignStats,
    form: CampaignForm,
    choices: Choices,
    errors: FormErrors,
    notice: Option<String>,
    clock: Clock,
}

impl CampaignPage {
    fn action(&self) -> String {
        format!("/admin/vouchers/{}", self.stats.campaign.id)
    }

    fn submit_key(&self) -> &'static str {
        "vouchers_admin.save"
    }

    fn curve(&self, s: &CampaignStats) -> String {
        curve(s)
    }

    /// The claims in each 10 s of the first five minutes, drawn (the numbers stay beside it).
    fn curve_chart(&self) -> String {
        let labels: Vec<String> = (0..self.stats.claim_curve.len())
            .map(|i| self.page.tr("vouchers_admin.curve_tick", "s", i * 10))
            .collect();
        let name = self.page.t("vouchers_admin.curve_series");
        crate::web::charts::line_chart(
            "claim-curve",
            &self.page.t("vouchers_admin.curve"),
            &labels,
            &[crate::web::charts::Series {
                name: &name,
                values: self.stats.claim_curve.clone(),
            }],
        )
    }

    /// Only the steps the campaign's state allows are offered.
    fn steps(&self) -> Vec<Step> {
        nightmarket_domain::voucher::steps_allowed(self.stats.campaign.state)
    }
}

async fn campaign_page(
    state: &AppState,
    page: Page,
    admin: &AuthUser,
    id: Uuid,
    form: Option<CampaignForm>,
    errors: FormErrors,
    notice: Option<String>,
) -> HttpResult<Html<String>> {
    let stats = vouchers::stats(&state.ctx, admin, id).await?;
    let form = form.unwrap_or_else(|| CampaignForm::of(&stats.campaign, admin.tenant.timezone));
    render(&CampaignPage {
        page,
        section: "vouchers",
        stats,
        form,
        choices: choices(state, admin).await?,
        errors,
        notice,
        clock: Clock {
            tz: admin.tenant.timezone,
        },
    })
}

pub async fn show(
    State(state): State<AppState>,
    page: Page,
    admin: AuthUser,
    Path(id): Path<Uuid>,
    Query(q): Query<NoticeQuery>,
) -> HttpResult<Html<String>> {
    // After a step, what was done; after an edit, that it was saved.
    let notice = q.notice.as_deref().map(|n| match Step::parse(n) {
        Some(step) => page.t(step.done_key()),
        None => page.t("admin.notice_saved"),
    });
    campaign_page(&state, page, &admin, id, None, FormErrors::default(), notice).await
}

pub async fn update(
    State(state): State<AppState>,
    page: Page,
    admin: AuthUser,
    Path(id): Path<Uuid>,
    Form(form): Form<CampaignForm>,
) -> HttpResult<Response> {
    let result = match form.parse(admin.tenant.timezone) {
        Ok(t) => vouchers::update(&state.ctx, &admin, id, &t).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(_) => Ok(Redirect::to(&format!("/admin/vouchers/{id}?notice=saved")).into_response()),
        Err(err) => {
            let (errors, refused) = FormErrors::of(page.lang, err)?;
            let html = campaign_page(&state, page, &admin, id, Some(form), errors, None).await;
            Ok(refused.page(html))
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
) -> HttpResult<Response> {
    match vouchers::step(&state.ctx, &admin, id, form.step).await {
        Ok(_) => Ok(Redirect::to(&format!("/admin/vouchers/{id}?notice={}", form.step.as_str())).into_response()),
        Err(err) => {
            let (errors, refused) = FormErrors::of(page.lang, err)?;
            let html = campaign_page(&state, page, &admin, id, None, errors, None).await;
            Ok(refused.page(html))
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
    /// The business night under way or just ended.
    night: NaiveDate,
    revealed: bool,
    clock: Clock,
}

impl SettlementPage {
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
    /// Present to show the payees' full names and accounts (audited).
    reveal: Option<String>,
}

/// The business nights asked for; by default the 30 nights up to the one under way (or just
/// ended), so a use after midnight is in the range it belongs to.
async fn range(state: &AppState, admin: &AuthUser, q: &RangeQuery) -> AppResult<(NaiveDate, NaiveDate, NaiveDate)> {
    let night = nightmarket_services::numbers::lookup_night(&state.ctx, admin).await?;
    Ok((
        q.from.unwrap_or(night - chrono::Duration::days(30)),
        q.to.unwrap_or(night),
        night,
    ))
}

pub async fn settlement(
    State(state): State<AppState>,
    page: Page,
    admin: AuthUser,
    Query(q): Query<RangeQuery>,
) -> HttpResult<Html<String>> {
    let (from, to, night) = range(&state, &admin, &q).await?;
    let revealed = q.reveal.is_some();
    let days = vouchers::settlement(&state.ctx, &admin, from, to, revealed).await?;
    render(&SettlementPage {
        page,
        section: "vouchers",
        days,
        from,
        to,
        night,
        revealed,
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
) -> HttpResult<Response> {
    let (from, to, _) = range(&state, &admin, &q).await?;
    let days = vouchers::settlement(&state.ctx, &admin, from, to, q.reveal.is_some()).await?;
    let body = crate::exports::settlement_csv(&days, admin.tenant.timezone)?;
    Ok(crate::web::layout::csv_attachment(
        body,
        &format!("settlement-{from}-{to}"),
    ))
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
) -> HttpResult<Response> {
    vouchers::mark_settled(&state.ctx, &admin, form.vendor, form.date).await?;
    Ok(Redirect::to(&format!("/admin/vouchers/settlement?from={}&to={}", form.from, form.to)).into_response())
}

#[derive(Template)]
#[template(path = "official/voucher_flags.html")]
struct FlagsPage {
    page: Page,
    flags: Vec<vouchers::Flag>,
    notice: Option<String>,
    errors: FormErrors,
    clock: Clock,
}

impl FlagsPage {
    fn kind_key(&self, kind: &str) -> String {
        format!("voucher_flag.{kind}")
    }
}

/// `/official/vouchers/flags`: fraud flags with their evidence, for officials.
async fn flags_page(
    state: &AppState,
    page: Page,
    user: &AuthUser,
    notice: Option<String>,
    errors: FormErrors,
) -> HttpResult<Html<String>> {
    let flags = vouchers::flags(&state.ctx, user, None).await?;
    render(&FlagsPage {
        page,
        flags,
        notice,
        errors,
        clock: Clock {
            tz: user.tenant.timezone,
        },
    })
}

pub async fn flags(
    State(state): State<AppState>,
    page: Page,
    user: AuthUser,
    Query(q): Query<NoticeQuery>,
) -> HttpResult<Html<String>> {
    let notice = q.notice.as_deref().map(|_| page.t("voucher_flag.done"));
    flags_page(&state, page, &user, notice, FormErrors::default()).await
}

#[derive(Deserialize)]
pub struct DismissForm {
    #[serde(default)]
    key: String,
    #[serde(default)]
    reason: String,
}

/// An official dismisses a flag they checked, with a reason.
pub async fn dismiss_flag(
    State(state): State<AppState>,
    page: Page,
    user: AuthUser,
    Form(form): Form<DismissForm>,
) -> HttpResult<Response> {
    match vouchers::dismiss_flag(&state.ctx, &user, form.key.trim(), &form.reason).await {
        Ok(()) => Ok(Redirect::to("/official/vouchers/flags?notice=dismissed").into_response()),
        Err(err) => {
            let (errors, refused) = FormErrors::of(page.lang, err)?;
            let html = flags_page(&state, page, &user, None, errors).await;
            Ok(refused.page(html))
        }
    }
}

/// `/official/vouchers/redemptions`: a night's voucher uses, searchable by verification number,
/// each live one with a reversal form (reason required).
#[derive(Template)]
#[template(path = "official/redemptions.html")]
struct RedemptionsPage {
    page: Page,
    night: NaiveDate,
    verification: String,
    redemptions: Vec<vouchers::Redemption>,
    notice: Option<String>,
    errors: FormErrors,
    /// The redemption the errors belong to.
    failed: Option<Uuid>,
    reason: String,
    clock: Clock,
    /// The night shown by default (the one under way, or the last).
    default_night: NaiveDate,
}

impl RedemptionsPage {
    fn failed_here(&self, id: &Uuid) -> bool {
        self.failed == Some(*id)
    }
}

#[derive(Deserialize)]
pub struct RedemptionsQuery {
    night: Option<NaiveDate>,
    #[serde(default)]
    verification: String,
    notice: Option<String>,
}

struct RedemptionsView {
    night: NaiveDate,
    verification: String,
    notice: Option<String>,
    errors: FormErrors,
    failed: Option<Uuid>,
    reason: String,
}

async fn redemptions_page(
    state: &AppState,
    page: Page,
    user: &AuthUser,
    v: RedemptionsView,
) -> HttpResult<Html<String>> {
    let redemptions = vouchers::of_night(&state.ctx, user, v.night, Some(&v.verification)).await?;
    let default_night = nightmarket_services::numbers::lookup_night(&state.ctx, user).await?;
    render(&RedemptionsPage {
        default_night,
        page,
        night: v.night,
        verification: v.verification,
        redemptions,
        notice: v.notice,
        errors: v.errors,
        failed: v.failed,
        reason: v.reason,
        clock: Clock {
            tz: user.tenant.timezone,
        },
    })
}

/// A verification number as typed: its digits, at most six (anything else finds nothing anyway).
fn digits(text: &str) -> String {
    text.chars().filter(char::is_ascii_digit).take(6).collect()
}

pub async fn redemptions(
    State(state): State<AppState>,
    page: Page,
    user: AuthUser,
    Query(q): Query<RedemptionsQuery>,
) -> HttpResult<Html<String>> {
    let notice = q.notice.as_deref().map(|_| page.t("redeem.reversal_done"));
    // No date chosen: the night under way (or the last one), not the calendar day, so a use
    // looked up at 03:28 is found on the night it belongs to.
    let night = match q.night {
        Some(n) => n,
        None => nightmarket_services::numbers::lookup_night(&state.ctx, &user).await?,
    };
    let view = RedemptionsView {
        night,
        verification: digits(&q.verification),
        notice,
        errors: FormErrors::default(),
        failed: None,
        reason: String::new(),
    };
    redemptions_page(&state, page, &user, view).await
}

#[derive(Deserialize)]
pub struct ReverseForm {
    #[serde(default)]
    reason: String,
    night: NaiveDate,
    #[serde(default)]
    verification: String,
}

pub async fn reverse(
    State(state): State<AppState>,
    page: Page,
    user: AuthUser,
    Path(id): Path<Uuid>,
    Form(form): Form<ReverseForm>,
) -> HttpResult<Response> {
    match vouchers::reverse(&state.ctx, &user, id, &form.reason).await {
        Ok(_) => Ok(Redirect::to(&format!(
            "/official/vouchers/redemptions?night={}&verification={}&notice=reversed",
            form.night,
            digits(&form.verification)
        ))
        .into_response()),
        Err(err) => {
            let (errors, refused) = FormErrors::of(page.lang, err)?;
            let view = RedemptionsView {
                night: form.night,
                verification: digits(&form.verification),
                notice: None,
                errors,
                failed: Some(id),
                reason: form.reason,
            };
            let html = redemptions_page(&state, page, &user, view).await;
            Ok(refused.page(html))
        }
    }
}

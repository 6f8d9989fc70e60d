//! Credit records on the vendor's pages (choose, issue, download, revoke) and the public check at
//! `/verify/{code}` with the signed JSON and a PDF.

use askama::Template;
use axum::extract::State;
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::Deserialize;
use uuid::Uuid;

use crate::auth::AuthUser;
use crate::error::{AppError, HttpResult};
use crate::http::extract::{Form, Path, Query};
use crate::i18n::Lang;
use crate::state::AppState;
use crate::web::filters;
use crate::web::layout::{Clock, FormErrors, Page, attachment, render};
use crate::web::pdf::{self, Line};
use nightmarket_domain::record::{EXPIRY_DAYS, Payload, SECTIONS, SignedRecord, Standing};
use nightmarket_services::credit::{self, IssueRequest, RecordView, Verification};

/// Labels the record partial needs (templates/public/_record.html).
pub struct Labels {
    lang: Lang,
}

impl Labels {
    pub fn category(&self, key: &str) -> String {
        self.lang.t(&format!("category.{key}"))
    }
    pub fn credential(&self, kind: &nightmarket_domain::credential::Kind) -> String {
        self.lang.t(kind.label_key())
    }
    pub fn status(&self, status: &nightmarket_domain::credential::Status) -> String {
        self.lang.t(status.label_key())
    }
    pub fn score(&self, s: &Option<i32>) -> String {
        s.map(|s| s.to_string()).unwrap_or_else(|| "–".into())
    }
    pub fn date(&self, d: &Option<chrono::NaiveDate>) -> String {
        d.map(|d| d.to_string()).unwrap_or_else(|| "–".into())
    }
}

#[derive(Template)]
#[template(path = "vendor/records.html")]
struct RecordsPage {
    page: Page,
    records: Vec<RecordView>,
    sections: [&'static str; 6],
    days: [i64; 5],
    chosen: Vec<String>,
    chosen_days: i64,
    errors: FormErrors,
    clock: Clock,
}

impl RecordsPage {
    fn section_label(&self, s: &str) -> String {
        self.page.t(&format!("credit.section_{s}"))
    }

    fn state_label(&self, s: &Standing) -> String {
        self.page.t(&format!("credit.state_{}", s.as_str()))
    }

    fn is_chosen(&self, s: &&str) -> bool {
        self.chosen.iter().any(|c| c == *s)
    }
}

#[derive(Deserialize, Default)]
pub struct IssueForm {
    #[serde(default)]
    section: Vec<String>,
    #[serde(default)]
    days: String,
}

async fn records_page(
    state: &AppState,
    page: Page,
    user: &AuthUser,
    form: &IssueForm,
    errors: FormErrors,
) -> HttpResult<Html<String>> {
    let records = credit::list(&state.ctx, user).await?;
    render(&RecordsPage {
        page,
        records,
        sections: SECTIONS,
        days: EXPIRY_DAYS,
        chosen: if form.section.is_empty() && errors.is_empty() {
            SECTIONS.iter().map(|s| s.to_string()).collect()
        } else {
            form.section.clone()
        },
        chosen_days: form.days.parse().unwrap_or(30),
        errors,
        clock: Clock {
            tz: user.tenant.timezone,
        },
    })
}

/// `/vendor/records`: the vendor's records and the form to issue one.
pub async fn list(State(state): State<AppState>, page: Page, user: AuthUser) -> HttpResult<Html<String>> {
    records_page(&state, page, &user, &IssueForm::default(), FormErrors::default()).await
}

/// Issues a record and shows it.
pub async fn issue(
    State(state): State<AppState>,
    page: Page,
    user: AuthUser,
    Form(form): Form<IssueForm>,
) -> HttpResult<Response> {
    let req = IssueRequest {
        sections: form.section.clone(),
        days: form.days.trim().parse().unwrap_or(0),
    };
    match credit::issue(&state.ctx, &user, &req).await {
        Ok(r) => Ok(Redirect::to(&format!("/vendor/records/{}?notice=issued", r.id)).into_response()),
        Err(err) => {
            let (errors, refused) = FormErrors::of(page.lang, err)?;
            let html = records_page(&state, page, &user, &form, errors).await;
            Ok(refused.page(html))
        }
    }
}

#[derive(Template)]
#[template(path = "vendor/record.html")]
struct RecordPage {
    page: Page,
    view: RecordView,
    record: Payload,
    labels: Labels,
    notice: Option<String>,
    clock: Clock,
}

impl RecordPage {
    fn state_label(&self) -> String {
        self.page.t(&format!("credit.state_{}", self.view.standing.as_str()))
    }
}

#[derive(Deserialize)]
pub struct NoticeQuery {
    notice: Option<String>,
}

/// `/vendor/records/{id}`: what the record says, its code and downloads.
pub async fn show(
    State(state): State<AppState>,
    page: Page,
    user: AuthUser,
    Path(id): Path<Uuid>,
    Query(q): Query<NoticeQuery>,
) -> HttpResult<Html<String>> {
    let (view, _, record) = credit::get(&state.ctx, &user, id).await?;
    let notice = match q.notice.as_deref() {
        Some("issued") => Some(page.t("credit.issued")),
        Some("revoked") => Some(page.t("credit.revoked_notice")),
        _ => None,
    };
    render(&RecordPage {
        labels: Labels { lang: page.lang },
        view,
        record,
        notice,
        clock: Clock {
            tz: user.tenant.timezone,
        },
        page,
    })
}

pub async fn revoke(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<Uuid>,
    crate::http::extract::Form(form): crate::http::extract::Form<crate::web::layout::ConfirmForm>,
) -> HttpResult<Response> {
    // A bank holding the record sees it revoked from then on: ticked first.
    crate::web::layout::confirmed(form.confirm())?;
    credit::revoke(&state.ctx, &user, id).await?;
    Ok(Redirect::to(&format!("/vendor/records/{id}?notice=revoked")).into_response())
}

/// The signed JSON of one of the vendor's records.
pub async fn own_json(State(state): State<AppState>, user: AuthUser, Path(id): Path<Uuid>) -> HttpResult<Response> {
    let (view, signed, _) = credit::get(&state.ctx, &user, id).await?;
    json_download(&signed, &view.code)
}

/// One of the vendor's records as a PDF (while it is valid).
pub async fn own_pdf(
    State(state): State<AppState>,
    page: Page,
    user: AuthUser,
    Path(id): Path<Uuid>,
) -> HttpResult<Response> {
    let (view, signed, record) = credit::get(&state.ctx, &user, id).await?;
    if view.standing != Standing::Valid {
        return Err(AppError::Conflict(crate::error::Msg::new("credit.not_valid")).into());
    }
    pdf_download(&state, page.lang, &record, &signed, &view.verify_url)
}

fn json_download(signed: &SignedRecord, code: &str) -> HttpResult<Response> {
    let body = serde_json::to_vec_pretty(signed).map_err(|e| AppError::Internal(e.into()))?;
    Ok(attachment(
        body,
        "application/json",
        &format!("credit-record-{code}"),
        "json",
    ))
}

fn pdf_download(
    state: &AppState,
    lang: Lang,
    record: &Payload,
    signed: &SignedRecord,
    verify_url: &str,
) -> HttpResult<Response> {
    let lines = pdf_lines(lang, record, signed, verify_url);
    let bytes = pdf::document(&state.pdf_font, &lang.t("credit.title"), &lines)?;
    Ok(attachment(
        bytes,
        "application/pdf",
        &format!("credit-record-{}", record.code),
        "pdf",
    ))
}

/// The record as lines of a printed page, in the reader's language.
fn pdf_lines(lang: Lang, r: &Payload, signed: &SignedRecord, verify_url: &str) -> Vec<Line> {
    let labels = Labels { lang };
    let t = |k: &str| lang.t(k);
    let tr = |k: &str, args: &[(&str, &str)]| lang.tr(k, args);
    let yuan = |fen: i64| format!("¥{}.{:02}", fen / 100, fen % 100);
    let mut l = vec![
        Line::Title(format!("{} · {}", t("credit.title"), r.issuer)),
        Line::Text(format!("{}: {}", t("credit.code"), r.code)),
        Line::Text(format!("{}: {}", t("credit.verify_at"), verify_url)),
        Line::Text(format!(
            "{}: {} · {}: {}",
            t("credit.issued_at"),
            r.issued_at.format("%Y-%m-%d %H:%M UTC"),
            t("credit.expires_at"),
            r.expires_at.format("%Y-%m-%d %H:%M UTC")
        )),
        Line::Heading(t("credit.holder")),
        Line::Text(format!("{} · {}", r.vendor.name_masked, r.vendor.id_number_masked)),
    ];
    for s in &r.stalls {
        l.push(Line::Text(tr(
            "credit.stall_line",
            &[
                ("name", &s.name),
                ("category", &labels.category(&s.category)),
                ("market", &s.market),
                ("since", &s.since.to_string()),
            ],
        )));
    }
    if let Some(x) = &r.trading {
        l.push(Line::Heading(t("credit.section_trading")));
        l.push(Line::Text(tr(
            "credit.trading_line",
            &[
                ("first", &x.first_code_on.to_string()),
                ("months", &x.months_trading.to_string()),
                ("nights", &x.nights_checked_in.to_string()),
                ("recent", &x.nights_last_12_months.to_string()),
                ("late", &x.nights_late.to_string()),
            ],
        )));
    }
    if let Some(x) = &r.score {
        l.push(Line::Heading(t("credit.section_score")));
        for s in &x.current {
            l.push(Line::Text(format!(
                "{} · {} {}",
                s.stall,
                t("credit.score_now"),
                labels.score(&s.score)
            )));
        }
        for m in &x.ratings_by_month {
            l.push(Line::Text(tr(
                "credit.month_ratings",
                &[
                    ("month", &m.month),
                    ("n", &m.ratings.to_string()),
                    ("average", &m.average),
                ],
            )));
        }
        for h in &x.history {
            l.push(Line::Text(format!("{} · {} · {}", h.month, h.stall, h.score)));
        }
    }
    if let Some(x) = &r.complaints {
        l.push(Line::Heading(t("credit.section_complaints")));
        l.push(Line::Text(tr(
            "credit.complaints_line",
            &[
                ("received", &x.received.to_string()),
                ("upheld", &x.upheld.to_string()),
                ("not_upheld", &x.not_upheld.to_string()),
                ("open", &x.open.to_string()),
            ],
        )));
    }
    if let Some(x) = &r.inspections {
        l.push(Line::Heading(t("credit.section_inspections")));
        l.push(Line::Text(tr(
            "credit.inspections_line",
            &[
                ("total", &x.total.to_string()),
                ("passed", &x.passed.to_string()),
                ("failed", &x.failed.to_string()),
                ("points", &x.penalty_points.to_string()),
                ("cancelled", &x.points_cancelled_on_appeal.to_string()),
            ],
        )));
    }
    if let Some(x) = &r.credentials {
        l.push(Line::Heading(t("credit.section_credentials")));
        for c in x {
            l.push(Line::Text(format!(
                "{} · {} · {}",
                labels.credential(&c.kind),
                labels.status(&c.status),
                labels.date(&c.expires_on)
            )));
        }
    }
    if let Some(x) = &r.vouchers {
        l.push(Line::Heading(t("credit.section_vouchers")));
        l.push(Line::Text(tr(
            "credit.vouchers_line",
            &[
                ("n", &x.redemptions.to_string()),
                ("consumption", &yuan(x.consumption_fen)),
                ("subsidy", &yuan(x.subsidy_fen)),
            ],
        )));
    }
    l.push(Line::Gap);
    l.push(Line::Small(t("credit.pdf_how_to_check")));
    l.push(Line::Small(format!("kid: {}", signed.kid)));
    l.push(Line::Small(format!("signature: {}", signed.signature)));
    l
}

#[derive(Template)]
#[template(path = "public/verify.html")]
struct VerifyPage {
    page: Page,
    v: Option<Verification>,
    typed: String,
    labels: Labels,
    clock: Clock,
}

#[derive(Deserialize)]
pub struct VerifyQuery {
    #[serde(default)]
    code: String,
}

/// `/verify`: a form for the code; `/verify?code=…` goes to the record.
pub async fn form(State(_state): State<AppState>, page: Page, Query(q): Query<VerifyQuery>) -> HttpResult<Response> {
    let typed = q.code.trim();
    if !typed.is_empty() {
        if let Some((slug, code)) = nightmarket_domain::record::parse_code(typed) {
            let shown = nightmarket_domain::record::display_code(&slug, &code);
            return Ok(Redirect::to(&format!("/verify/{shown}")).into_response());
        }
        let html = render(&VerifyPage {
            labels: Labels { lang: page.lang },
            page,
            v: None,
            typed: typed.to_string(),
            clock: Clock { tz: chrono_tz::UTC },
        })?;
        return Ok((axum::http::StatusCode::NOT_FOUND, html).into_response());
    }
    Ok(render(&VerifyPage {
        labels: Labels { lang: page.lang },
        page,
        v: None,
        typed: String::new(),
        clock: Clock { tz: chrono_tz::UTC },
    })?
    .into_response())
}

/// `/verify/{code}`: where a record stands and, while valid, what it says.
pub async fn verify(State(state): State<AppState>, page: Page, Path(code): Path<String>) -> HttpResult<Response> {
    let v = match credit::verify(&state.ctx, &code).await {
        Ok(v) => v,
        Err(AppError::NotFound) => {
            let html = render(&VerifyPage {
                labels: Labels { lang: page.lang },
                page,
                v: None,
                typed: code,
                clock: Clock { tz: chrono_tz::UTC },
            })?;
            return Ok((axum::http::StatusCode::NOT_FOUND, html).into_response());
        }
        Err(e) => return Err(e.into()),
    };
    let tz = match &v.record {
        Some(r) => state
            .ctx
            .tenant_named(&r.tenant)
            .await?
            .map(|t| t.timezone)
            .unwrap_or(chrono_tz::UTC),
        None => chrono_tz::UTC,
    };
    Ok(render(&VerifyPage {
        labels: Labels { lang: page.lang },
        page,
        typed: v.code.clone(),
        v: Some(v),
        clock: Clock { tz },
    })?
    .into_response())
}

/// The signed JSON behind a valid record, to check offline.
pub async fn verify_json(State(state): State<AppState>, Path(code): Path<String>) -> HttpResult<Response> {
    let v = credit::verify(&state.ctx, &code).await?;
    let signed = v
        .signed
        .ok_or(AppError::Conflict(crate::error::Msg::new("credit.not_valid")))?;
    json_download(&signed, &v.code)
}

/// A valid record as a PDF.
pub async fn verify_pdf(State(state): State<AppState>, page: Page, Path(code): Path<String>) -> HttpResult<Response> {
    let v = credit::verify(&state.ctx, &code).await?;
    let (Some(record), Some(signed)) = (v.record, v.signed) else {
        return Err(AppError::Conflict(crate::error::Msg::new("credit.not_valid")).into());
    };
    pdf_download(
        &state,
        page.lang,
        &record,
        &signed,
        &credit::verify_url(&state.ctx, &v.code),
    )
}

/// The vendor's copy of everything the platform holds about them (PIPL art. 45), as a JSON file.
pub async fn my_data(State(state): State<AppState>, user: AuthUser) -> HttpResult<Response> {
    let copy = nightmarket_services::vendors::export(&state.ctx, &user).await?;
    let body = serde_json::to_vec_pretty(&copy).map_err(|e| AppError::Internal(e.into()))?;
    let day = state.ctx.clock.now().with_timezone(&user.tenant.timezone).date_naive();
    Ok(attachment(
        body,
        "application/json",
        &format!("my-data-{}-{day}", user.tenant.slug),
        "json",
    ))
}

#[derive(Deserialize)]
pub struct ErasureForm {
    #[serde(default)]
    reason: String,
    /// The checkbox saying the vendor understands what erasure means.
    #[serde(default)]
    confirm: String,
}

/// The vendor asks to be forgotten (PIPL art. 47); an admin decides.
pub async fn request_erasure(
    State(state): State<AppState>,
    user: AuthUser,
    Form(form): Form<ErasureForm>,
) -> HttpResult<Response> {
    if form.confirm != "yes" {
        return Err(AppError::field("confirm", "erasure.confirm_needed").into());
    }
    nightmarket_services::erasure::request(&state.ctx, &user, &form.reason).await?;
    Ok(Redirect::to("/vendor?notice=erasure_requested").into_response())
}

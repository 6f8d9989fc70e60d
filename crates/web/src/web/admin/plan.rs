//! The admin's plan of a market: a form of every slot's place (columns, rows, width, height in
//! cells) and the landmarks, which works without script; `static/plan.js` draws the same form as
//! a grid where slots are dragged and resized, and writes back into the form, so there is one way
//! to save.

use askama::Template;
use axum::extract::State;
use axum::response::{Html, IntoResponse, Redirect, Response};
use uuid::Uuid;

use crate::auth::AuthUser;
use crate::error::HttpResult;
use crate::http::extract::{Form, Path, Query};
use crate::state::AppState;
use crate::web::layout::{FormErrors, Page, render};
use nightmarket_domain::market::Category;
use nightmarket_domain::msg::{FieldError, Msg};
use nightmarket_domain::plan::{LandmarkDraft, LandmarkKind, PlanDraft};
use nightmarket_services::plan::{self, Plan};

/// Blank landmark rows offered below the existing ones.
const BLANK_LANDMARKS: usize = 3;

/// A slot's row of the form, as typed.
pub struct SlotRow {
    code: String,
    category: Category,
    x: String,
    y: String,
    w: String,
    h: String,
}

/// A landmark's row of the form, as typed.
#[derive(Default)]
pub struct LandmarkRow {
    kind: String,
    label: String,
    x: String,
    y: String,
}

#[derive(Template)]
#[template(path = "admin/plan.html")]
struct PlanPage {
    page: Page,
    section: &'static str,
    tenant_slug: String,
    market_id: Uuid,
    market_name: String,
    version: i32,
    columns: String,
    rows: String,
    slots: Vec<SlotRow>,
    landmarks: Vec<LandmarkRow>,
    kinds: [LandmarkKind; 7],
    svg: String,
    errors: FormErrors,
    saved: bool,
    has_background: bool,
}

fn text(n: impl ToString) -> String {
    n.to_string()
}

fn rows_of(plan: &Plan) -> (Vec<SlotRow>, Vec<LandmarkRow>) {
    let slots = plan
        .slots
        .iter()
        .map(|s| {
            let p = s.place;
            SlotRow {
                code: s.code.clone(),
                category: s.category,
                x: p.map(|p| text(p.x)).unwrap_or_default(),
                y: p.map(|p| text(p.y)).unwrap_or_default(),
                w: p.map(|p| text(p.w)).unwrap_or_default(),
                h: p.map(|p| text(p.h)).unwrap_or_default(),
            }
        })
        .collect();
    let landmarks = plan
        .landmarks
        .iter()
        .map(|l| LandmarkRow {
            kind: l.kind.as_str().into(),
            label: l.label.clone(),
            x: text(l.x),
            y: text(l.y),
        })
        .chain(std::iter::repeat_with(LandmarkRow::default).take(BLANK_LANDMARKS))
        .collect();
    (slots, landmarks)
}

#[derive(serde::Deserialize)]
pub struct SavedQuery {
    #[serde(default)]
    saved: Option<String>,
}

pub async fn show(
    State(state): State<AppState>,
    page: Page,
    user: AuthUser,
    Path(id): Path<Uuid>,
    Query(q): Query<SavedQuery>,
) -> HttpResult<Html<String>> {
    show_page(&state, page, &user, id, FormErrors::default(), q.saved.is_some()).await
}

/// The plan page as stored, with `errors` (of a refused picture) when there are any.
async fn show_page(
    state: &AppState,
    page: Page,
    user: &AuthUser,
    id: Uuid,
    errors: FormErrors,
    saved: bool,
) -> HttpResult<Html<String>> {
    let detail = nightmarket_services::markets::get(&state.ctx, user.tenant_id(), id).await?;
    let plan = plan::get(&state.ctx, &user.tenant, id).await?;
    let (slots, landmarks) = rows_of(&plan);
    render(&PlanPage {
        has_background: plan.background.is_some(),
        svg: crate::web::plan::editor(&page, &user.tenant.slug, &plan).html()?,
        page,
        section: "markets",
        tenant_slug: user.tenant.slug.clone(),
        market_id: id,
        market_name: detail.market.name,
        version: plan.version,
        columns: text(plan.columns),
        rows: text(plan.rows),
        slots,
        landmarks,
        kinds: LandmarkKind::ALL,
        errors,
        saved,
    })
}

/// A number as typed: None when blank; an error (and None) when it is not a whole number.
fn number(text: &str, errors: &mut Vec<FieldError>, field: &'static str, msg: impl FnOnce() -> Msg) -> Option<i64> {
    let t = text.trim();
    if t.is_empty() {
        return None;
    }
    match t.parse() {
        Ok(n) => Some(n),
        Err(_) => {
            errors.push(FieldError::with(field, msg()));
            None
        }
    }
}

/// Reads the form's fields (`version`, `columns`, `rows`, `slot.<code>.<x|y|w|h>`,
/// `landmark.<n>.<kind|label|x|y>`) into the draft, keeping what was typed for the page again.
fn read(fields: &[(String, String)], base: &Plan) -> (Option<i32>, PlanDraft, PlanPageInput, Vec<FieldError>) {
    let get = |name: &str| {
        fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let mut errors = Vec::new();
    let version = get("version").trim().parse().ok();
    let columns = get("columns");
    let rows = get("rows");
    let mut draft = PlanDraft {
        columns: number(&columns, &mut errors, "columns", || Msg::new("form.not_a_number")),
        rows: number(&rows, &mut errors, "rows", || Msg::new("form.not_a_number")),
        ..Default::default()
    };
    let mut slot_rows = Vec::new();
    for s in &base.slots {
        let typed = |part: &str| get(&format!("slot.{}.{part}", s.code));
        let row = SlotRow {
            code: s.code.clone(),
            category: s.category,
            x: typed("x"),
            y: typed("y"),
            w: typed("w"),
            h: typed("h"),
        };
        let parts = [&row.x, &row.y, &row.w, &row.h];
        let blank = parts.iter().all(|p| p.trim().is_empty());
        if !blank {
            let bad = || Msg::new("plan.slot_size").arg("code", &s.code).arg("max", 20);
            let mut nums = [-1i64; 4];
            let mut readable = true;
            for (n, p) in nums.iter_mut().zip(parts) {
                match number(p, &mut Vec::new(), "slots", bad) {
                    Some(v) => *n = v,
                    None => readable = false,
                }
            }
            if !readable {
                errors.push(FieldError::with("slots", bad()));
            } else {
                draft.slots.push((s.code.clone(), Some(nums)));
            }
        }
        slot_rows.push(row);
    }
    let mut landmark_rows = Vec::new();
    let mut n = 0;
    loop {
        let prefix = format!("landmark.{n}.");
        if !fields.iter().any(|(k, _)| k.starts_with(&prefix)) {
            break;
        }
        let row = LandmarkRow {
            kind: get(&format!("{prefix}kind")),
            label: get(&format!("{prefix}label")),
            x: get(&format!("{prefix}x")),
            y: get(&format!("{prefix}y")),
        };
        n += 1;
        let blank = [&row.kind, &row.label, &row.x, &row.y]
            .iter()
            .all(|p| p.trim().is_empty());
        if !blank {
            let place =
                |p: &str| number(p, &mut Vec::new(), "landmarks", || Msg::new("form.not_a_number")).or(Some(-1));
            draft.landmarks.push(LandmarkDraft {
                kind: row.kind.clone(),
                label: row.label.clone(),
                x: place(&row.x),
                y: place(&row.y),
            });
        }
        landmark_rows.push(row);
    }
    landmark_rows.extend(std::iter::repeat_with(LandmarkRow::default).take(BLANK_LANDMARKS));
    let typed = PlanPageInput {
        columns,
        rows,
        slots: slot_rows,
        landmarks: landmark_rows,
    };
    (version, draft, typed, errors)
}

struct PlanPageInput {
    columns: String,
    rows: String,
    slots: Vec<SlotRow>,
    landmarks: Vec<LandmarkRow>,
}

pub async fn save(
    State(state): State<AppState>,
    page: Page,
    user: AuthUser,
    Path(id): Path<Uuid>,
    Form(fields): Form<Vec<(String, String)>>,
) -> HttpResult<Response> {
    let base = plan::get(&state.ctx, &user.tenant, id).await?;
    let (version, draft, typed, errors) = read(&fields, &base);
    let result = if errors.is_empty() {
        plan::save(&state.ctx, &user, id, version, &draft).await
    } else {
        Err(nightmarket_services::error::AppError::Validation(errors))
    };
    match result {
        Ok(_) => Ok(Redirect::to(&format!("/admin/markets/{id}/plan?saved=1")).into_response()),
        Err(err) => {
            let (errors, refused) = FormErrors::of(page.lang, err)?;
            let detail = nightmarket_services::markets::get(&state.ctx, user.tenant_id(), id).await?;
            let html = render(&PlanPage {
                has_background: base.background.is_some(),
                svg: crate::web::plan::editor(&page, &user.tenant.slug, &base).html()?,
                page,
                section: "markets",
                tenant_slug: user.tenant.slug.clone(),
                market_id: id,
                market_name: detail.market.name,
                version: version.unwrap_or(base.version),
                columns: typed.columns,
                rows: typed.rows,
                slots: typed.slots,
                landmarks: typed.landmarks,
                kinds: LandmarkKind::ALL,
                errors,
                saved: false,
            });
            Ok(refused.page(html))
        }
    }
}

/// Puts a picture under the plan (a multipart form with `file`), or says what was wrong with it.
pub async fn upload_background(
    State(state): State<AppState>,
    page: Page,
    user: AuthUser,
    Path(id): Path<Uuid>,
    multipart: axum::extract::Multipart,
) -> HttpResult<Response> {
    let result = match crate::http::files::read_upload(multipart).await {
        Ok((_, bytes)) => plan::set_background(&state.ctx, &user, id, &bytes).await.map(|_| ()),
        Err(e) => Err(e),
    };
    match result {
        Ok(()) => Ok(Redirect::to(&format!("/admin/markets/{id}/plan?saved=1")).into_response()),
        Err(err) => {
            let (errors, refused) = FormErrors::of(page.lang, err)?;
            let html = show_page(&state, page, &user, id, errors, false).await;
            Ok(refused.page(html))
        }
    }
}

pub async fn remove_background(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<Uuid>,
) -> HttpResult<Response> {
    plan::remove_background(&state.ctx, &user, id).await?;
    Ok(Redirect::to(&format!("/admin/markets/{id}/plan?saved=1")).into_response())
}

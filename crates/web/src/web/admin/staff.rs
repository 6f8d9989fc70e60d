//! Tenant admin pages: the tenant's admins and officials, and what officials may do.

use askama::Template;
use axum::extract::State;
use axum::response::{Html, IntoResponse, Response};
use serde::Deserialize;
use uuid::Uuid;

use crate::auth::AuthUser;
use crate::error::{AppError, HttpResult};
use crate::http::extract::{Form, Path};
use crate::state::AppState;
use crate::web::layout::{FormErrors, Page, form_failed, render};
use nightmarket_domain::people::{Permission, Role};
use nightmarket_services::accounts::{self, NewStaff, StaffMember};

#[derive(Clone, Debug, Default, Deserialize)]
pub struct StaffForm {
    #[serde(default)]
    role: String,
    #[serde(default)]
    login: String,
    #[serde(default)]
    display_name: String,
    #[serde(default)]
    permission: Vec<String>,
}

impl StaffForm {
    fn has(&self, p: &Permission) -> bool {
        self.permission.iter().any(|x| x == p.as_str())
    }

    fn permissions(&self) -> Vec<Permission> {
        Permission::ALL.into_iter().filter(|p| self.has(p)).collect()
    }
}

#[derive(Template)]
#[template(path = "admin/staff.html")]
struct StaffPage {
    page: Page,
    section: &'static str,
    staff: Vec<StaffMember>,
    permissions: [Permission; 3],
    self_id: Uuid,
    form: StaffForm,
    errors: FormErrors,
    /// (login, one-time password) just created, shown once.
    secret: Option<(String, String)>,
}

async fn staff_page(
    state: &AppState,
    page: Page,
    admin: &AuthUser,
    form: StaffForm,
    errors: FormErrors,
    secret: Option<(String, String)>,
) -> HttpResult<Html<String>> {
    let staff = accounts::list_staff(&state.ctx, admin).await?;
    render(&StaffPage {
        page,
        section: "staff",
        staff,
        permissions: Permission::ALL,
        self_id: admin.id,
        form,
        errors,
        secret,
    })
}

fn blank_form() -> StaffForm {
    StaffForm {
        role: "official".into(),
        permission: vec!["review".into()],
        ..Default::default()
    }
}

pub async fn list(State(state): State<AppState>, page: Page, user: AuthUser) -> HttpResult<Html<String>> {
    staff_page(&state, page, &user, blank_form(), FormErrors::default(), None).await
}

pub async fn create(
    State(state): State<AppState>,
    page: Page,
    user: AuthUser,
    Form(form): Form<StaffForm>,
) -> HttpResult<Response> {
    let input = NewStaff {
        role: Role::parse(&form.role).unwrap_or(Role::Vendor), // a vendor role is refused by the service
        login: form.login.clone(),
        display_name: form.display_name.clone(),
        permissions: form.permissions(),
    };
    match accounts::create_staff(&state.ctx, &user, input).await {
        Ok((member, password)) => {
            // Shown on this response only; nothing keeps it.
            let html = staff_page(
                &state,
                page,
                &user,
                blank_form(),
                FormErrors::default(),
                Some((member.login, password)),
            )
            .await?;
            Ok(html.into_response())
        }
        Err(err) => {
            let (errors, refused) = FormErrors::of(page.lang, err)?;
            let html = staff_page(&state, page, &user, form, errors, None).await;
            Ok(refused.page(html))
        }
    }
}

#[derive(Deserialize)]
pub struct PermissionsForm {
    #[serde(default)]
    permission: Vec<String>,
}

pub async fn set_permissions(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<Uuid>,
    Form(form): Form<PermissionsForm>,
) -> HttpResult<Response> {
    let mut permissions = Vec::new();
    for p in &form.permission {
        permissions
            .push(Permission::parse(p).ok_or_else(|| AppError::field("permission", "staff.permission_invalid"))?);
    }
    accounts::set_permissions(&state.ctx, &user, id, permissions).await?;
    Ok(axum::response::Redirect::to("/admin/staff").into_response())
}

pub async fn reset_password(
    State(state): State<AppState>,
    page: Page,
    user: AuthUser,
    Path(id): Path<Uuid>,
) -> HttpResult<Response> {
    let (member, password) = accounts::reset_password(&state.ctx, &user, id).await?;
    let html = staff_page(
        &state,
        page,
        &user,
        blank_form(),
        FormErrors::default(),
        Some((member.login, password)),
    )
    .await?;
    Ok(html.into_response())
}

async fn set_disabled(state: AppState, page: Page, user: AuthUser, id: Uuid, disabled: bool) -> HttpResult<Response> {
    match accounts::set_disabled(&state.ctx, &user, id, disabled).await {
        Ok(_) => Ok(axum::response::Redirect::to("/admin/staff").into_response()),
        Err(err @ AppError::Conflict(_)) => {
            let errors = FormErrors::from_error(page.lang, &err).unwrap_or_default();
            let html = staff_page(&state, page, &user, blank_form(), errors, None).await;
            Ok(form_failed(html, &err))
        }
        Err(err) => Err(err.into()),
    }
}

pub async fn disable(
    State(state): State<AppState>,
    page: Page,
    user: AuthUser,
    Path(id): Path<Uuid>,
) -> HttpResult<Response> {
    set_disabled(state, page, user, id, true).await
}

pub async fn enable(
    State(state): State<AppState>,
    page: Page,
    user: AuthUser,
    Path(id): Path<Uuid>,
) -> HttpResult<Response> {
    set_disabled(state, page, user, id, false).await
}

//! Tenants: creating one (operator), and finding them quickly on every request.

use moka::future::Cache;
use sqlx::PgPool;
use std::time::Duration;

use crate::Ctx;
use crate::access::password;
use crate::audit::{self, Author, Change};
use crate::error::{AppError, AppResult, FieldError, Msg, check};
use crate::secrets::random_password;
use nightmarket_db::{self as db, Db, TenantTx};
use nightmarket_domain::people::{Permission, Role, parse_staff_login};
use nightmarket_domain::tenant::{Tenant, TenantId, parse_slug, parse_timezone};

/// Tenants by slug and by id, cached briefly: every public page and every session resolves one,
/// and tenants change only when the operator creates one. Only hits are cached, so a new tenant
/// is visible at once.
#[derive(Clone)]
pub struct TenantDirectory {
    by_slug: Cache<String, Tenant>,
    by_id: Cache<TenantId, Tenant>,
}

impl Default for TenantDirectory {
    fn default() -> Self {
        TenantDirectory {
            by_slug: Cache::builder()
                .max_capacity(10_000)
                .time_to_live(Duration::from_secs(60))
                .build(),
            by_id: Cache::builder()
                .max_capacity(10_000)
                .time_to_live(Duration::from_secs(60))
                .build(),
        }
    }
}

impl TenantDirectory {
    pub async fn by_slug(&self, db: &Db, slug: &str) -> AppResult<Option<Tenant>> {
        // What cannot be a slug names no tenant; the database is not asked (a NUL byte, say,
        // would be refused by PostgreSQL as an error rather than found missing).
        if parse_slug(slug).as_deref() != Some(slug) {
            return Ok(None);
        }
        if let Some(t) = self.by_slug.get(slug).await {
            return Ok(Some(t));
        }
        let found = db::tenants::by_slug(db.global(), slug).await?;
        if let Some(t) = &found {
            self.by_slug.insert(slug.to_string(), t.clone()).await;
        }
        Ok(found)
    }

    pub async fn by_id(&self, db: &Db, id: TenantId) -> AppResult<Option<Tenant>> {
        if let Some(t) = self.by_id.get(&id).await {
            return Ok(Some(t));
        }
        let found = db::tenants::by_id(db.global(), id).await?;
        if let Some(t) = &found {
            self.by_id.insert(id, t.clone()).await;
        }
        Ok(found)
    }

    /// The tenant named in a public URL, or 404.
    pub async fn require(&self, db: &Db, slug: &str) -> AppResult<Tenant> {
        self.by_slug(db, slug).await?.ok_or(AppError::NotFound)
    }
}

pub struct NewTenant {
    pub slug: String,
    pub name: String,
    pub timezone: String,
    pub admin_login: String,
    pub admin_name: String,
}

pub struct CreatedTenant {
    pub tenant: TenantId,
    pub admin_login: String,
    /// Shown once; the admin must replace it at first sign-in.
    pub admin_password: String,
}

/// Creates a tenant and its first admin (platform operator, owner connection).
/// Every tenant on the platform, for the pages and the API that list them.
pub async fn list(ctx: &Ctx) -> AppResult<Vec<Tenant>> {
    Ok(db::tenants::list(ctx.db.global()).await?)
}

pub async fn create(
    owner: &PgPool,
    actor: &Author,
    input: NewTenant,
    one_time_password: bool,
) -> AppResult<CreatedTenant> {
    let mut errors = Vec::new();
    let slug = parse_slug(&input.slug);
    if slug.is_none() {
        errors.push(FieldError::new("slug", "tenant.slug_invalid"));
    }
    let name = input.name.trim().to_string();
    if name.is_empty() || name.chars().count() > 100 {
        errors.push(FieldError::with(
            "name",
            Msg::new("form.length_between").arg("min", 1).arg("max", 100),
        ));
    }
    if parse_timezone(&input.timezone).is_none() {
        errors.push(FieldError::new("timezone", "tenant.timezone_invalid"));
    }
    let login = parse_staff_login(&input.admin_login);
    if login.is_none() {
        errors.push(FieldError::new("admin_login", "staff.login_invalid"));
    }
    let admin_name = input.admin_name.trim().to_string();
    if admin_name.is_empty() || admin_name.chars().count() > 60 {
        errors.push(FieldError::with(
            "admin_name",
            Msg::new("form.length_between").arg("min", 1).arg("max", 60),
        ));
    }
    check(errors)?;
    let (Some(slug), Some(login)) = (slug, login) else {
        return Err(AppError::Validation(vec![]));
    };

    let admin_password = random_password(16);
    let hash = password::hash(admin_password.clone()).await?;

    // One transaction: a tenant never exists without its first admin. The tenant's own rows go
    // through a tenant scope even on the owner connection, so the same policies apply when the
    // owner is not a superuser.
    let mut global = owner.begin().await?;
    let tenant = db::tenants::insert(&mut *global, &slug, &name, input.timezone.trim()).await?;
    let mut tx = TenantTx::scope(global, tenant).await?;
    let user = db::users::insert(
        &mut tx,
        &db::users::NewUser {
            role: Role::Admin,
            login: &login,
            display_name: &admin_name,
            password_hash: &hash,
            permissions: &Permission::ALL,
            must_change_password: one_time_password,
        },
    )
    .await?;
    audit::record(
        &mut tx,
        actor,
        Change::new("tenant.create", "tenant", tenant)
            .after(&serde_json::json!({ "slug": slug, "name": name, "timezone": input.timezone.trim() })),
    )
    .await?;
    audit::record(
        &mut tx,
        actor,
        Change::new("user.create", "user", user)
            .after(&serde_json::json!({ "role": "admin", "login": login, "display_name": admin_name })),
    )
    .await?;
    tx.commit().await?;
    Ok(CreatedTenant {
        tenant,
        admin_login: login,
        admin_password,
    })
}

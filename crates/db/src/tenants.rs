//! The tenant registry (global table, read by requests, written only by the operator).

use anyhow::anyhow;
use sqlx::PgExecutor;
use uuid::Uuid;

use nightmarket_domain::tenant::{Tenant, TenantId, parse_timezone};

struct Row {
    id: Uuid,
    slug: String,
    name: String,
    timezone: String,
}

impl TryFrom<Row> for Tenant {
    type Error = anyhow::Error;

    fn try_from(r: Row) -> anyhow::Result<Tenant> {
        let timezone =
            parse_timezone(&r.timezone).ok_or_else(|| anyhow!("tenant {} has unknown zone {}", r.slug, r.timezone))?;
        Ok(Tenant {
            id: TenantId(r.id),
            slug: r.slug,
            name: r.name,
            timezone,
        })
    }
}

pub async fn list(db: impl PgExecutor<'_>) -> anyhow::Result<Vec<Tenant>> {
    let rows = sqlx::query_as!(
        Row,
        "select id, slug, name, timezone from tenants order by created_at, slug"
    )
    .fetch_all(db)
    .await?;
    rows.into_iter().map(Tenant::try_from).collect()
}

pub async fn by_slug(db: impl PgExecutor<'_>, slug: &str) -> anyhow::Result<Option<Tenant>> {
    let row = sqlx::query_as!(
        Row,
        "select id, slug, name, timezone from tenants where slug = $1",
        slug
    )
    .fetch_optional(db)
    .await?;
    row.map(Tenant::try_from).transpose()
}

pub async fn by_id(db: impl PgExecutor<'_>, id: TenantId) -> anyhow::Result<Option<Tenant>> {
    let row = sqlx::query_as!(Row, "select id, slug, name, timezone from tenants where id = $1", id.0)
        .fetch_optional(db)
        .await?;
    row.map(Tenant::try_from).transpose()
}

/// Owner connection only: the application role may not insert tenants.
pub async fn insert(db: impl PgExecutor<'_>, slug: &str, name: &str, timezone: &str) -> Result<TenantId, sqlx::Error> {
    let id = sqlx::query_scalar!(
        "insert into tenants (slug, name, timezone) values ($1, $2, $3) returning id",
        slug,
        name,
        timezone
    )
    .fetch_one(db)
    .await?;
    Ok(TenantId(id))
}

pub async fn count(db: impl PgExecutor<'_>) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar!(r#"select count(*) as "n!" from tenants"#)
        .fetch_one(db)
        .await
}

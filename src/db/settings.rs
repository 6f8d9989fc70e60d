//! A tenant's settings; a tenant without a row has the defaults.

use serde::{Deserialize, Serialize};

use super::TenantTx;

#[derive(Clone, Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Settings {
    /// Hours officials have to decide a submitted application.
    pub review_deadline_hours: i32,
    /// Printed on placards and the scan page.
    pub complaint_hotline: String,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            review_deadline_hours: 24,
            complaint_hotline: "12345".into(),
        }
    }
}

pub async fn get(tx: &mut TenantTx) -> Result<Settings, sqlx::Error> {
    let tenant = tx.tenant().0;
    let row = sqlx::query_as!(
        Settings,
        "select review_deadline_hours, complaint_hotline from tenant_settings where tenant_id = $1",
        tenant
    )
    .fetch_optional(tx.conn())
    .await?;
    Ok(row.unwrap_or_default())
}

pub async fn save(tx: &mut TenantTx, s: &Settings) -> Result<(), sqlx::Error> {
    let tenant = tx.tenant().0;
    sqlx::query!(
        "insert into tenant_settings (tenant_id, review_deadline_hours, complaint_hotline) values ($1, $2, $3)
         on conflict (tenant_id) do update
         set review_deadline_hours = excluded.review_deadline_hours,
             complaint_hotline = excluded.complaint_hotline,
             updated_at = now()",
        tenant,
        s.review_deadline_hours,
        s.complaint_hotline
    )
    .execute(tx.conn())
    .await?;
    Ok(())
}

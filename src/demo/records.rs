//! The demo's vendor-facing extras: goods-source declarations of a food stall (one checked at an
//! inspection), and a credit record it issued (its verification code in `samples` as
//! `{slug}_credit_code`).

use chrono::{Duration, Utc};
use sqlx::PgPool;
use uuid::Uuid;

use super::{DemoCredentials, TenantSpec};
use nightmarket_db::{self as db, TenantTx};
use nightmarket_domain::record::{SECTIONS, display_code};
use nightmarket_domain::tenant::{Tenant, TenantId};
use nightmarket_services::audit::{self, Author, Change};
use nightmarket_services::secrets::Keys;

pub(super) async fn seed(
    owner: &PgPool,
    keys: &Keys,
    actor: &Author,
    tenant_id: TenantId,
    spec: &TenantSpec,
    creds: &mut DemoCredentials,
) -> anyhow::Result<()> {
    let tenant: Tenant = db::tenants::by_id(owner, tenant_id)
        .await?
        .ok_or_else(|| anyhow::anyhow!("demo tenant vanished"))?;
    let now = Utc::now();
    let today = now.with_timezone(&tenant.timezone).date_naive();
    let mut tx = TenantTx::begin(owner, tenant.id).await?;
    // The longest-standing green food stall.
    let Some((vendor, inspection, official)): Option<(Uuid, Option<Uuid>, Option<Uuid>)> = sqlx::query_as(
        "select c.vendor_id,
                (select i.id from inspections i where i.tenant_id = c.tenant_id and i.vendor_id = c.vendor_id
                 order by i.inspected_at desc limit 1),
                (select i.official_id from inspections i where i.tenant_id = c.tenant_id and i.vendor_id = c.vendor_id
                 order by i.inspected_at desc limit 1)
         from codes c
         where c.tenant_id = $1 and c.category = 'food' and c.colour = 'green' and c.revoked_at is null
         order by c.created_at limit 1",
    )
    .bind(tenant.id.0)
    .fetch_optional(tx.conn())
    .await?
    else {
        return Ok(());
    };
    let deliveries = [
        ("城南农贸批发市场", "重庆市巴南区", "PC-20261101", 9),
        ("渝鲜冷链配送", "重庆市江津区", "RK-7734", 2),
    ];
    for (n, (supplier, place, batch, days_ago)) in deliveries.iter().enumerate() {
        let id = Uuid::new_v4();
        db::goods::insert(
            &mut tx,
            &db::goods::NewSource {
                id,
                vendor_id: vendor,
                supplier,
                place,
                batch,
                received_on: today - Duration::days(*days_ago),
                photo: None,
                at: now - Duration::days(*days_ago),
            },
        )
        .await?;
        audit::record(
            &mut tx,
            actor,
            Change::new("goods_source.declare", "goods_source", id)
                .after(&serde_json::json!({ "supplier": supplier, "place": place, "batch": batch })),
        )
        .await?;
        // The older delivery was checked at the stall's latest inspection.
        if let (0, Some(inspection), Some(official)) = (n, inspection, official) {
            db::goods::mark_checked(&mut tx, id, vendor, official, inspection, now - Duration::days(1)).await?;
        }
    }
    let sections: Vec<String> = SECTIONS.iter().map(|s| s.to_string()).collect();
    let id = nightmarket_services::credit::issue_in(&mut tx, keys, &tenant, actor, vendor, &sections, 30, now)
        .await
        .map_err(|e| anyhow::anyhow!("demo credit record: {e}"))?;
    let row = db::credit::get(&mut tx, id)
        .await?
        .ok_or_else(|| anyhow::anyhow!("demo credit record vanished"))?;
    tx.commit().await?;
    creds.samples.insert(
        format!("{}_credit_code", spec.slug),
        serde_json::Value::String(display_code(&tenant.slug, &row.code)),
    );
    Ok(())
}

//! The demo's stall lottery: in each district's first market, a round whose entries closed today
//! and whose list is published (its commitment out), waiting for the admin to draw it with a
//! value made in public. Its entries are the market's applications awaiting review.

use chrono::{Duration, Utc};
use sqlx::PgPool;
use std::collections::BTreeMap;
use uuid::Uuid;

use super::TenantSpec;
use nightmarket_db::lottery::{NewEntry, NewRound};
use nightmarket_db::{self as db, TenantTx};
use nightmarket_domain::lottery::{self, Entry, Group, RoundDraft};
use nightmarket_domain::tenant::{Tenant, TenantId};
use nightmarket_services::audit::{self, Author, Change};

pub(super) async fn seed(owner: &PgPool, actor: &Author, tenant_id: TenantId, spec: &TenantSpec) -> anyhow::Result<()> {
    let tenant: Tenant = db::tenants::by_id(owner, tenant_id)
        .await?
        .ok_or_else(|| anyhow::anyhow!("demo tenant vanished"))?;
    let mut tx = TenantTx::begin(owner, tenant.id).await?;
    let Some(market) = db::markets::list(&mut tx).await?.into_iter().next() else {
        return Ok(());
    };
    let admin: Uuid =
        sqlx::query_scalar("select id from users where tenant_id = $1 and role = 'admin' order by created_at limit 1")
            .bind(tenant.id.0)
            .fetch_one(tx.conn())
            .await?;
    let today = Utc::now().with_timezone(&tenant.timezone).date_naive();
    let mut draft = RoundDraft {
        title: format!("{}年{}月摊位摇号", today.format("%Y"), today.format("%-m")),
        entries_from: (today - Duration::days(30)).format("%Y-%m-%d").to_string(),
        entries_until: today.format("%Y-%m-%d").to_string(),
        term_months: Some(6),
        previous_winners_may_enter: true,
        offer: Vec::new(),
        groups: vec![("低收入家庭".into(), Some(30)), ("本区居民".into(), Some(20))],
    };
    // The window as the round will hold it, to find who enters.
    let bounds = RoundDraft {
        offer: vec![("food".into(), Some(1))],
        ..draft.clone()
    }
    .validate(tenant.timezone)
    .map_err(|e| anyhow::anyhow!("demo lottery of {}: {e:?}", spec.slug))?;
    let candidates = db::lottery::candidates(&mut tx, market.id, bounds.entries_from, bounds.entries_until).await?;
    let free = nightmarket_services::applications::free_slots(&mut tx, market.id, None)
        .await
        .map_err(|e| anyhow::anyhow!("demo lottery free slots: {e}"))?;
    // Fewer slots than entrants in each category that has both, so the draw has something to decide.
    let mut offer: BTreeMap<_, u32> = BTreeMap::new();
    for c in &candidates {
        *offer.entry(c.category).or_default() += 1;
    }
    for (category, wanted) in offer.iter_mut() {
        let have = free.iter().filter(|s| s.category == *category).count() as u32;
        *wanted = (*wanted).saturating_sub(1).max(1).min(have);
    }
    offer.retain(|_, n| *n > 0);
    if offer.is_empty() {
        return Ok(());
    }
    draft.offer = offer
        .iter()
        .map(|(c, n)| (c.as_str().to_string(), Some(i64::from(*n))))
        .collect();
    let valid = draft
        .validate(tenant.timezone)
        .map_err(|e| anyhow::anyhow!("demo lottery of {}: {e:?}", spec.slug))?;
    let groups: Vec<Group> = valid.groups.clone();
    let mut bytes = [0u8; 32];
    rand::fill(&mut bytes[..]);
    let tenant_value = hex::encode(bytes);
    let commitment = lottery::commitment(&tenant_value);
    let id = db::lottery::insert_round(
        &mut tx,
        &NewRound {
            market_id: market.id,
            title: &valid.title,
            entries_from: valid.entries_from,
            entries_until: valid.entries_until,
            term_months: valid.term_months,
            previous_winners_may_enter: true,
            offer: serde_json::to_value(&valid.offer)?,
            groups: serde_json::to_value(&groups)?,
            tenant_value: &tenant_value,
            commitment: &commitment,
            created_by: admin,
        },
    )
    .await?;
    audit::record(
        &mut tx,
        actor,
        Change::new("lottery.open", "lottery", id)
            .after(&serde_json::json!({ "title": valid.title, "offer": valid.offer, "commitment": commitment })),
    )
    .await?;
    let entries: Vec<NewEntry> = candidates
        .iter()
        .filter(|c| valid.offer.contains_key(&c.category))
        .enumerate()
        .map(|(i, c)| NewEntry {
            number: i as i32 + 1,
            application_id: c.application_id,
            vendor_id: c.vendor_id,
            category: c.category,
            // The first entrant is in the first priority group.
            group_position: (i == 0).then_some(1),
            name_masked: c.name_masked.clone().unwrap_or_else(|| "**".into()),
        })
        .collect();
    let published: Vec<Entry> = entries
        .iter()
        .map(|e| Entry {
            number: e.number as u32,
            category: e.category,
            group: e.group_position.map(|g| g as u8),
            name_masked: e.name_masked.clone(),
        })
        .collect();
    let list_hash = lottery::list_hash(&published);
    db::lottery::publish(&mut tx, id, &list_hash, &entries, Utc::now()).await?;
    audit::record(
        &mut tx,
        actor,
        Change::new("lottery.publish", "lottery", id)
            .after(&serde_json::json!({ "entries": published, "list_hash": list_hash })),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

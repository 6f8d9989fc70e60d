//! The demo's consumption vouchers: shoppers with verified numbers, a finished round whose
//! vouchers were claimed, and a round that opens a few minutes after the demo starts, so a
//! newcomer can watch the rush.

use chrono::{Duration, Utc};
use sqlx::PgPool;
use uuid::Uuid;

use super::stalls::Dice;
use super::{DemoCredentials, TenantSpec};
use nightmarket_db::{self as db, TenantTx};
use nightmarket_domain::people::Phone;
use nightmarket_domain::tenant::{Tenant, TenantId};
use nightmarket_domain::voucher::Terms;
use nightmarket_services::audit::{self, Author, Change};
use nightmarket_services::pii::Place;
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
    let mut dice = Dice(0xC0FF_EE00_5EED_0001 ^ spec.slug.len() as u64);
    let mut tx = TenantTx::begin(owner, tenant.id).await?;

    // Shoppers: verified numbers, sealed and indexed like every phone.
    let mut shoppers = Vec::new();
    for i in 0..40u32 {
        let phone = Phone::parse(&format!("1391234{:04}", 1000 + i + 100 * spec.slug.len() as u32))
            .ok_or_else(|| anyhow::anyhow!("demo shopper number"))?;
        let id = Uuid::new_v4();
        let sealed = keys.seal_str(
            &Place {
                tenant: tenant.id,
                table: "shoppers",
                column: "phone_enc",
                row: id,
            },
            phone.as_str(),
        );
        let index = keys.blind_index(tenant.id, "phone", phone.as_str());
        let (id, _) = db::vouchers::shopper(&mut tx, &index, id, &sealed, &phone.masked()).await?;
        shoppers.push(id);
    }

    let rounds = [
        // A finished round, three days ago: 满50减10, one per person.
        (
            "夜市消费券 第一轮",
            now - Duration::days(3),
            if spec.slug == "nanan" { 60 } else { 30 },
            true,
        ),
        // The next round opens five minutes after the demo starts.
        ("夜市消费券 第二轮", now + Duration::minutes(5), 500, false),
    ];
    for (name, start, total, claim) in rounds {
        let terms = Terms {
            name: name.into(),
            value_fen: 1000,
            threshold_fen: 5000,
            total,
            per_person: 1,
            claim_start: start,
            claim_end: start + Duration::hours(2),
            use_until: None,
            use_days: Some(7),
            ..Terms::default()
        };
        let id = db::vouchers::insert(&mut tx, &terms).await?;
        db::vouchers::make_vouchers(&mut tx, id, total, 1).await?;
        db::vouchers::set_state(&mut tx, id, nightmarket_domain::voucher::State::Scheduled).await?;
        audit::record(
            &mut tx,
            actor,
            Change::new("campaign.create", "campaign", id)
                .after(&serde_json::json!({ "name": name, "total": total, "state": "scheduled" })),
        )
        .await?;
        creds.samples.insert(
            format!("{}_campaign_{}", spec.slug, if claim { "finished" } else { "next" }),
            serde_json::json!(id),
        );
        if claim {
            // Most shoppers got one within the first two minutes.
            let takes: Vec<db::vouchers::Take> = shoppers
                .iter()
                .take(total as usize)
                .enumerate()
                .map(|(i, s)| db::vouchers::Take {
                    shopper: *s,
                    slot: 1,
                    request_key: format!("{s}:demo-{i}"),
                })
                .collect();
            let at = start + Duration::seconds(5 + dice.below(100) as i64);
            let given = db::vouchers::take(&mut tx, id, 1, &takes, at, terms.expires(at)).await?;
            // Two thirds were used that evening at green stalls, for bills around 50–120 元.
            let green: Vec<db::codes::CodeRow> = db::codes::list(
                &mut tx,
                &db::codes::CodeFilter {
                    live: true,
                    ..Default::default()
                },
            )
            .await?
            .into_iter()
            .filter(|c| c.colour == nightmarket_domain::code::Colour::Green)
            .collect();
            let evening = (start + Duration::hours(7))
                .with_timezone(&tenant.timezone)
                .date_naive();
            // Uses happen while the market trades: from 18:30 local on that evening.
            let trading = chrono::TimeZone::from_local_datetime(
                &tenant.timezone,
                &evening.and_time(chrono::NaiveTime::from_hms_opt(18, 30, 0).unwrap_or_default()),
            )
            .earliest()
            .map(|t| t.with_timezone(&chrono::Utc))
            .unwrap_or(start + Duration::hours(7));
            for (n, (i, v)) in given.iter().enumerate().filter(|(i, _)| i % 3 != 2).enumerate() {
                // The first three at one stall, each bill just over the threshold: the pattern
                // the near-threshold fraud flag is for, so officials see one with its evidence.
                let suspicious = n < 3;
                let pick = if suspicious {
                    0
                } else {
                    dice.below(green.len().max(1) as u64) as usize
                };
                let (Some(shopper), Some(code)) = (v.shopper_id, green.get(pick)) else {
                    continue;
                };
                let bill_fen = if suspicious {
                    5000 + 100 * n as i32
                } else {
                    5000 + 100 * dice.below(70) as i32
                };
                let used = trading + Duration::minutes(dice.below(180) as i64);
                db::vouchers::mark_used(&mut tx, id, v.seq, used).await?;
                db::vouchers::insert_redemption(
                    &mut tx,
                    &db::vouchers::NewRedemption {
                        id: Uuid::new_v4(),
                        campaign_id: id,
                        seq: v.seq,
                        shopper_id: shopper,
                        code_id: code.id,
                        vendor_id: code.vendor_id,
                        market_id: code.market_id,
                        business_date: evening,
                        bill_fen,
                        value_fen: 1000,
                        verification: &format!("{:06}", dice.below(1_000_000)),
                        request_key: &format!("{shopper}:demo-redeem-{i}"),
                        at: used,
                    },
                )
                .await?;
            }
            // The first vendor of that evening has been paid.
            if let Some(day) = db::vouchers::vendor_days(&mut tx, evening, evening, None)
                .await?
                .first()
            {
                let by = super::stalls::official(&mut tx).await?;
                db::vouchers::settle(&mut tx, day, by).await?;
            }
            // And one shopper tried at a stall that had not checked in.
            if let (Some(v), Some(code)) = (given.first(), green.first())
                && let Some(shopper) = v.shopper_id
            {
                db::vouchers::insert_attempt(
                    &mut tx,
                    shopper,
                    code.id,
                    6000,
                    "redeem.not_trading",
                    trading - Duration::minutes(20),
                )
                .await?;
                // An official looked at the refused attempt and dismissed it with a reason.
                let settings = db::settings::get(&mut tx).await?;
                let by = super::stalls::official(&mut tx).await?;
                for f in db::vouchers::flags(&mut tx, &settings, None).await? {
                    if f.kind == "refused_attempts" {
                        let key = nightmarket_services::vouchers::flag_key(&f);
                        db::vouchers::dismiss_flag(
                            &mut tx,
                            &key,
                            "顾客在摊主签到前来用券，已当场说明，属正常",
                            by,
                            trading,
                        )
                        .await?;
                    }
                }
            }
        }
    }
    payees(&mut tx, keys, &mut dice).await?;
    tx.commit().await?;
    Ok(())
}

/// Every vendor paid in vouchers but the last has given a payout account (the settlement page
/// shows one that has not).
async fn payees(tx: &mut TenantTx, keys: &Keys, dice: &mut Dice) -> anyhow::Result<()> {
    const HOLDERS: [&str; 6] = ["王秀英", "李建国", "张丽", "刘洋", "陈静", "马福"];
    let today = Utc::now().date_naive();
    let days = db::vouchers::vendor_days(tx, today - Duration::days(30), today + Duration::days(1), None).await?;
    let mut vendors: Vec<Uuid> = days.iter().map(|d| d.vendor_id).collect();
    vendors.sort();
    vendors.dedup();
    vendors.pop();
    for (i, vendor) in vendors.into_iter().enumerate() {
        let holder = HOLDERS[i % HOLDERS.len()];
        let account = nightmarket_input::bank::AccountNumber::parse(&format!("622848{:013}", dice.below(1 << 40)))
            .map_err(|e| anyhow::anyhow!("demo account: {e:?}"))?;
        let place = |column| Place {
            tenant: tx.tenant(),
            table: "payee_accounts",
            column,
            row: vendor,
        };
        db::payees::put(
            tx,
            &db::payees::PayeeRow {
                vendor_id: vendor,
                holder_enc: keys.seal_str(&place("holder_enc"), holder),
                holder_masked: nightmarket_input::identity::mask_name(holder),
                bank: "中国农业银行兰州城关支行".into(),
                account_enc: keys.seal_str(&place("account_enc"), account.as_str()),
                account_masked: account.masked(),
                updated_at: Utc::now() - Duration::days(20),
            },
        )
        .await?;
    }
    Ok(())
}

//! History a test needs that no request can make now (past nights, many devices): typed rows,
//! written by the superuser as the use cases would have left them.

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::PgPool;
use uuid::Uuid;

/// A stall as the fixtures name it: its tenant, code and vendor (and market, for check-ins).
#[derive(Clone, Copy, Debug)]
pub struct Stall {
    pub tenant: Uuid,
    pub code: Uuid,
    pub vendor: Uuid,
    pub market: Option<Uuid>,
}

/// A shopper's rating of a stall on a night, as the rating page leaves it.
#[derive(Clone, Debug)]
pub struct Rating {
    pub night: NaiveDate,
    pub stars: i16,
    pub tags: Vec<&'static str>,
    /// The device's hash (one rating per device and night); a random one when None.
    pub device: Option<String>,
    /// When it was sent; now when None.
    pub at: Option<DateTime<Utc>>,
    /// Hidden by this official's moderation (as abuse).
    pub hidden_by: Option<Uuid>,
}

impl Rating {
    pub fn new(night: NaiveDate, stars: i16) -> Rating {
        Rating {
            night,
            stars,
            tags: Vec::new(),
            device: None,
            at: None,
            hidden_by: None,
        }
    }

    pub fn tags(mut self, tags: &[&'static str]) -> Rating {
        self.tags = tags.to_vec();
        self
    }

    pub fn device(mut self, device: impl Into<String>) -> Rating {
        self.device = Some(device.into());
        self
    }

    pub fn at(mut self, at: DateTime<Utc>) -> Rating {
        self.at = Some(at);
        self
    }

    pub fn hidden_by(mut self, official: Uuid) -> Rating {
        self.hidden_by = Some(official);
        self
    }

    pub async fn insert(&self, owner: &PgPool, stall: &Stall) {
        sqlx::query(
            "insert into ratings (tenant_id, code_id, vendor_id, business_date, stars, tags, device_hash, created_at,
                                  hidden_at, hidden_by, hidden_reason)
             values ($1, $2, $3, $4, $5, $6, coalesce($7, md5(random()::text)), coalesce($8, now()),
                     case when $9::uuid is not null then now() end, $9, case when $9::uuid is not null then '辱骂' end)",
        )
        .bind(stall.tenant)
        .bind(stall.code)
        .bind(stall.vendor)
        .bind(self.night)
        .bind(self.stars)
        .bind(&self.tags)
        .bind(&self.device)
        .bind(self.at)
        .bind(self.hidden_by)
        .execute(owner)
        .await
        .expect("a rating");
    }
}

/// A vendor's check-in at the stall on a night, inside the area (10 m from the slot).
#[derive(Clone, Copy, Debug)]
pub struct CheckIn {
    pub night: NaiveDate,
    pub at: DateTime<Utc>,
    pub late: bool,
}

impl CheckIn {
    pub async fn insert(&self, owner: &PgPool, stall: &Stall) {
        sqlx::query(
            "insert into check_ins (tenant_id, code_id, vendor_id, market_id, business_date, checked_in_at,
                                    lat, lng, distance_m, late)
             values ($1, $2, $3, $4, $5, $6, 29.53, 106.57, 10, $7)",
        )
        .bind(stall.tenant)
        .bind(stall.code)
        .bind(stall.vendor)
        .bind(stall.market.expect("a check-in is at a market"))
        .bind(self.night)
        .bind(self.at)
        .bind(self.late)
        .execute(owner)
        .await
        .expect("a check-in");
    }
}

/// A shopper signed in with a verified number (the number itself is not needed: it stays sealed).
#[derive(Clone, Debug)]
pub struct Shopper {
    pub id: Uuid,
    /// The number's blind index (one shopper per number).
    pub phone_index: String,
    pub masked: &'static str,
}

impl Shopper {
    pub fn new(phone_index: impl Into<String>, masked: &'static str) -> Shopper {
        Shopper {
            id: Uuid::new_v4(),
            phone_index: phone_index.into(),
            masked,
        }
    }

    pub async fn insert(&self, owner: &PgPool, tenant: Uuid) {
        sqlx::query(
            "insert into shoppers (tenant_id, id, phone_enc, phone_index, phone_masked) values ($1, $2, '\\x00', $3, $4)",
        )
        .bind(tenant)
        .bind(self.id)
        .bind(&self.phone_index)
        .bind(self.masked)
        .execute(owner)
        .await
        .expect("a shopper");
    }
}

/// A voucher used at a stall (¥10 off, verification 123456), as redemption leaves it.
#[derive(Clone, Debug)]
pub struct Redemption {
    pub campaign: Uuid,
    pub seq: i32,
    pub shopper: Uuid,
    pub night: NaiveDate,
    pub bill_fen: i32,
    pub request_key: String,
    /// When it was made; now when None.
    pub at: Option<DateTime<Utc>>,
    /// Reversed by an official (as a mistake).
    pub reversed: bool,
}

impl Redemption {
    pub async fn insert(&self, owner: &PgPool, stall: &Stall) {
        sqlx::query(
            "insert into redemptions (tenant_id, campaign_id, seq, shopper_id, code_id, vendor_id, market_id, business_date,
                                      bill_fen, value_fen, verification, request_key, created_at, reversed_at, reversed_reason)
             values ($1, $2, $3, $4, $5, $6, $7, $8, $9, 1000, '123456', $10, coalesce($11, now()),
                     case when $12 then now() end, case when $12 then '误操作' end)",
        )
        .bind(stall.tenant)
        .bind(self.campaign)
        .bind(self.seq)
        .bind(self.shopper)
        .bind(stall.code)
        .bind(stall.vendor)
        .bind(stall.market.expect("a redemption is at a market"))
        .bind(self.night)
        .bind(self.bill_fen)
        .bind(&self.request_key)
        .bind(self.at)
        .bind(self.reversed)
        .execute(owner)
        .await
        .expect("a redemption");
    }
}

/// A complaint about a stall, filed and handled in the past (for the numbers over a range).
#[derive(Clone, Debug)]
pub struct Complaint {
    pub tracking: String,
    pub category: &'static str,
    /// open, rejected or resolved (a resolved one is upheld, with a resolution).
    pub state: &'static str,
    pub filed: DateTime<Utc>,
    pub resolve_due: DateTime<Utc>,
    pub closed: Option<DateTime<Utc>>,
}

impl Complaint {
    pub async fn insert(&self, owner: &PgPool, stall: &Stall) {
        sqlx::query(
            "insert into complaints (tenant_id, tracking, code_id, vendor_id, market_id, category, description, source, state,
                                     evidence, created_at, ack_due_at, resolve_due_at, closed_at, upheld, resolution)
             values ($1, $2, $3, $4, $5, $6, '分量明显不足，请核实', 'scan', $7, '{}', $8, $8 + interval '2 hours', $9, $10,
                     case when $7 = 'resolved' then true end, case when $7 = 'resolved' then '已责令整改' end)",
        )
        .bind(stall.tenant)
        .bind(&self.tracking)
        .bind(stall.code)
        .bind(stall.vendor)
        .bind(stall.market.expect("a complaint's stall names its market"))
        .bind(self.category)
        .bind(self.state)
        .bind(self.filed)
        .bind(self.resolve_due)
        .bind(self.closed)
        .execute(owner)
        .await
        .expect("a complaint");
    }
}

/// An inspection of a stall in the past; failed ones deduct `points` for not wearing gloves.
#[derive(Clone, Debug)]
pub struct Inspection {
    pub official: Uuid,
    pub at: DateTime<Utc>,
    /// None: passed.
    pub points: Option<i32>,
}

impl Inspection {
    pub async fn insert(&self, owner: &PgPool, stall: &Stall) {
        let id = Uuid::new_v4();
        sqlx::query(
            "insert into inspections (tenant_id, id, code_id, vendor_id, market_id, official_id, inspected_at, passed)
             values ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(stall.tenant)
        .bind(id)
        .bind(stall.code)
        .bind(stall.vendor)
        .bind(stall.market.expect("an inspection's stall names its market"))
        .bind(self.official)
        .bind(self.at)
        .bind(self.points.is_none())
        .execute(owner)
        .await
        .expect("an inspection");
        if let Some(points) = self.points {
            sqlx::query(
                "insert into deductions (tenant_id, inspection_id, vendor_id, problem_code, problem_label, points, month, created_at)
                 values ($1, $2, $3, 'no_gloves', '未戴手套', $4,
                         date_trunc('month', $5 at time zone (select timezone from tenants where id = $1))::date, $5)",
            )
            .bind(stall.tenant)
            .bind(id)
            .bind(stall.vendor)
            .bind(points)
            .bind(self.at)
            .execute(owner)
            .await
            .expect("a deduction");
        }
    }
}

/// A stall suspended by an official at a time in the past: its code red since then.
#[derive(Clone, Debug)]
pub struct Suspension {
    pub official: Uuid,
    pub at: DateTime<Utc>,
}

impl Suspension {
    pub async fn insert(&self, owner: &PgPool, stall: &Stall) {
        sqlx::query(
            "insert into code_causes (tenant_id, code_id, kind, colour, note, created_by, created_at)
             values ($1, $2, 'suspended', 'red', '检查不合格', $3, $4)",
        )
        .bind(stall.tenant)
        .bind(stall.code)
        .bind(self.official)
        .bind(self.at)
        .execute(owner)
        .await
        .expect("a suspension");
        sqlx::query("update codes set colour = 'red' where tenant_id = $1 and id = $2")
            .bind(stall.tenant)
            .bind(stall.code)
            .execute(owner)
            .await
            .expect("a red code");
    }
}

/// A voucher campaign as publishing leaves it (one voucher a person, used within `use_days`),
/// with no vouchers made: [`ClaimedVoucher`] adds the claimed ones.
#[derive(Clone, Debug)]
pub struct Campaign {
    pub id: Uuid,
    pub name: &'static str,
    pub value_fen: i32,
    pub threshold_fen: i32,
    pub total: i32,
    pub claim_start: DateTime<Utc>,
    pub claim_end: DateTime<Utc>,
    pub use_days: i32,
}

impl Campaign {
    pub async fn insert(&self, owner: &PgPool, tenant: Uuid) {
        sqlx::query(
            "insert into campaigns (tenant_id, id, name, value_fen, threshold_fen, total, per_person, claim_start, claim_end,
                                    use_days, state)
             values ($1, $2, $3, $4, $5, $6, 1, $7, $8, $9, 'scheduled')",
        )
        .bind(tenant)
        .bind(self.id)
        .bind(self.name)
        .bind(self.value_fen)
        .bind(self.threshold_fen)
        .bind(self.total)
        .bind(self.claim_start)
        .bind(self.claim_end)
        .bind(self.use_days)
        .execute(owner)
        .await
        .expect("a campaign");
    }
}

/// Voucher `seq` of a campaign, claimed by a shopper at a time (valid for the campaign's days).
#[derive(Clone, Debug)]
pub struct ClaimedVoucher {
    pub seq: i32,
    pub shopper: Uuid,
    pub at: DateTime<Utc>,
}

impl ClaimedVoucher {
    pub async fn insert(&self, owner: &PgPool, tenant: Uuid, campaign: &Campaign) {
        sqlx::query(
            "insert into vouchers (tenant_id, campaign_id, seq, per_person, shopper_id, slot, claimed_at, expires_at)
             values ($1, $2, $3, 1, $4, 1, $5, $5 + make_interval(days => $6))",
        )
        .bind(tenant)
        .bind(campaign.id)
        .bind(self.seq)
        .bind(self.shopper)
        .bind(self.at)
        .bind(campaign.use_days)
        .execute(owner)
        .await
        .expect("a claimed voucher");
    }
}

/// A refused attempt to pay with a voucher at a stall, as the redemption page records it.
#[derive(Clone, Debug)]
pub struct RefusedRedemption {
    pub shopper: Uuid,
    pub bill_fen: i32,
    /// The refusal's message key.
    pub reason: &'static str,
}

impl RefusedRedemption {
    pub async fn insert(&self, owner: &PgPool, stall: &Stall) {
        sqlx::query(
            "insert into redemption_attempts (tenant_id, shopper_id, code_id, bill_fen, reason) values ($1, $2, $3, $4, $5)",
        )
        .bind(stall.tenant)
        .bind(self.shopper)
        .bind(stall.code)
        .bind(self.bill_fen)
        .bind(self.reason)
        .execute(owner)
        .await
        .expect("a refused redemption");
    }
}

/// A night's scan counts of a stall, as the counter flushes them; with its busiest hours.
#[derive(Clone, Debug)]
pub struct ScanNight {
    pub night: NaiveDate,
    pub scans: i64,
    pub visitors: i64,
    /// (hour of the evening, scans in it).
    pub hours: Vec<(i16, i64)>,
}

impl ScanNight {
    pub async fn insert(&self, owner: &PgPool, stall: &Stall) {
        sqlx::query("insert into scan_nights (tenant_id, code_id, night, scans, visitors) values ($1, $2, $3, $4, $5)")
            .bind(stall.tenant)
            .bind(stall.code)
            .bind(self.night)
            .bind(self.scans)
            .bind(self.visitors)
            .execute(owner)
            .await
            .expect("a night's scans");
        for (hour, scans) in &self.hours {
            sqlx::query("insert into scan_hours (tenant_id, code_id, night, hour, scans) values ($1, $2, $3, $4, $5)")
                .bind(stall.tenant)
                .bind(stall.code)
                .bind(self.night)
                .bind(hour)
                .bind(scans)
                .execute(owner)
                .await
                .expect("an hour's scans");
        }
    }
}

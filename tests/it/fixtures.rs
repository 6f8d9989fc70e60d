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

//! Throttling of guessable and anonymous things (sign-in, SMS codes, shoppers' ratings and
//! complaints): attempts are limited per account (or device) and per client address, for the
//! whole deployment however many instances answer.
//!
//! Each limit is a GCRA (generic cell rate algorithm, what `governor` does in memory): a key's
//! "theoretical arrival time" moves on by one period per attempt, and an attempt is refused while
//! it would lie more than `burst` periods ahead of now. The times live in PostgreSQL's unlogged
//! `throttle_slots`, advanced by one atomic upsert per check, on the database's clock, so every
//! instance counts against the same limit. Keys are HMACs, so no login, number or address is
//! stored.

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use sqlx::PgPool;
use std::net::IpAddr;
use std::time::Duration;

use crate::error::AppError;

#[derive(Clone, Debug)]
pub struct ThrottleSettings {
    /// Attempts an account may have in a burst, then one more per `account_period`.
    pub account_burst: u32,
    pub account_period: Duration,
    /// The same per client address (which may be shared, e.g. a district office's NAT).
    pub address_burst: u32,
    pub address_period: Duration,
}

impl Default for ThrottleSettings {
    /// Sign-in: five tries per account, then one a minute; thirty per address, then one every 10 s.
    fn default() -> Self {
        ThrottleSettings {
            account_burst: 5,
            account_period: Duration::from_secs(60),
            address_burst: 30,
            address_period: Duration::from_secs(10),
        }
    }
}

impl ThrottleSettings {
    /// SMS codes: three per number in a burst, then one every two minutes; ten per address, then
    /// one a minute (the database also allows one a minute and ten a day per number).
    pub fn sms_codes() -> ThrottleSettings {
        ThrottleSettings {
            account_burst: 3,
            account_period: Duration::from_secs(120),
            address_burst: 10,
            address_period: Duration::from_secs(60),
        }
    }

    /// Shoppers' ratings and complaints: ten per device in a burst, then one a minute; sixty per
    /// client address (a market's shoppers may share a mobile carrier's address), then one every
    /// five seconds. The database also allows one rating per device, stall and night.
    pub fn shoppers() -> ThrottleSettings {
        ThrottleSettings {
            account_burst: 10,
            account_period: Duration::from_secs(60),
            address_burst: 60,
            address_period: Duration::from_secs(5),
        }
    }
}

/// One limit: a burst, then one more per period.
#[derive(Clone, Copy, Debug)]
struct Limit {
    period_us: i64,
    /// How far ahead of now a key's arrival time may run: burst × period.
    tolerance_us: i64,
}

impl Limit {
    fn new(burst: u32, period: Duration) -> Limit {
        let period_us = i64::try_from(period.as_micros()).unwrap_or(i64::MAX / 1024).max(1);
        Limit {
            period_us,
            tolerance_us: period_us.saturating_mul(i64::from(burst.max(1))),
        }
    }
}

/// The limits of one kind of attempt (sign-in, SMS codes, shoppers).
pub struct Throttle {
    name: &'static str,
    account: Limit,
    address: Limit,
    key: [u8; 32],
}

impl Throttle {
    /// `name` keeps limiters apart in the shared table; `key` (derived from the master key) names
    /// their keys.
    pub fn new(name: &'static str, settings: &ThrottleSettings, key: &[u8; 32]) -> Throttle {
        Throttle {
            name,
            account: Limit::new(settings.account_burst, settings.account_period),
            address: Limit::new(settings.address_burst, settings.address_period),
            key: *key,
        }
    }

    fn slot(&self, kind: &str, what: &str) -> Vec<u8> {
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(&self.key).expect("HMAC accepts any key length");
        for part in [self.name, kind, what] {
            mac.update(part.as_bytes());
            mac.update(&[0]);
        }
        mac.finalize().into_bytes().to_vec()
    }

    /// Counts one attempt; refuses it with 429 and a Retry-After when either limit is spent.
    /// `account` is the tenant and normalised login (or the device), so it names the same
    /// account however typed.
    pub async fn check(&self, db: &PgPool, account: &str, address: IpAddr) -> Result<(), AppError> {
        take(db, &self.slot("address", &address.to_string()), self.address).await?;
        take(db, &self.slot("account", account), self.account).await
    }
}

/// Takes one attempt from a key's allowance, or says how long until the next.
async fn take(db: &PgPool, slot: &[u8], limit: Limit) -> Result<(), AppError> {
    let taken = sqlx::query_scalar!(
        r#"insert into throttle_slots as s (key, tat)
           values ($1, clock_timestamp() + $2 * interval '1 microsecond')
           on conflict (key) do update
               set tat = greatest(s.tat, clock_timestamp()) + $2 * interval '1 microsecond'
               where greatest(s.tat, clock_timestamp()) + $2 * interval '1 microsecond'
                     <= clock_timestamp() + $3 * interval '1 microsecond'
           returning true as "taken!""#,
        slot,
        limit.period_us as f64,
        limit.tolerance_us as f64
    )
    .fetch_optional(db)
    .await?;
    if taken.is_some() {
        return Ok(());
    }
    // Refused: allowed again once the arrival time, one period on, is within the tolerance.
    let wait_secs: f64 = sqlx::query_scalar!(
        r#"select extract(epoch from tat + $2 * interval '1 microsecond'
                                  - $3 * interval '1 microsecond' - clock_timestamp())::float8 as "wait!"
           from throttle_slots where key = $1"#,
        slot,
        limit.period_us as f64,
        limit.tolerance_us as f64
    )
    .fetch_optional(db)
    .await?
    .unwrap_or(1.0);
    Err(AppError::RateLimited {
        retry_after_secs: wait_secs.ceil().max(1.0) as u64,
    })
}

/// Forgets keys whose whole burst is back (their arrival time has passed), so the table stays
/// small; run by one instance per period.
pub async fn prune(db: &PgPool) -> Result<u64, sqlx::Error> {
    Ok(sqlx::query!("delete from throttle_slots where tat < clock_timestamp()")
        .execute(db)
        .await?
        .rows_affected())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_limit_is_its_burst_of_periods() {
        let l = Limit::new(5, Duration::from_secs(60));
        assert_eq!(l.period_us, 60_000_000);
        assert_eq!(l.tolerance_us, 300_000_000);
        assert_eq!(Limit::new(0, Duration::ZERO).tolerance_us, 1, "never zero");
    }

    #[test]
    fn keys_differ_by_limiter_kind_and_value_and_store_no_clear_text() {
        let a = Throttle::new("login", &ThrottleSettings::default(), &[1; 32]);
        let b = Throttle::new("sms", &ThrottleSettings::default(), &[1; 32]);
        let key = a.slot("account", "nanan/13800138000");
        assert_eq!(key.len(), 32);
        assert_ne!(key, b.slot("account", "nanan/13800138000"));
        assert_ne!(key, a.slot("address", "nanan/13800138000"));
        assert_ne!(key, a.slot("account", "nanan/13800138001"));
        assert!(!key.windows(4).any(|w| w == b"1380"));
    }
}

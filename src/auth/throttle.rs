//! Throttling of guessable things (sign-in, SMS codes): attempts are limited per account and per
//! client address, in memory.
//! (Several server instances each keep their own counts; the limits are per instance.)

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use std::net::IpAddr;
use std::num::NonZeroU32;
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
}

impl ThrottleSettings {
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

pub struct Throttle {
    accounts: DefaultKeyedRateLimiter<String>,
    addresses: DefaultKeyedRateLimiter<IpAddr>,
    clock: DefaultClock,
}

fn quota(burst: u32, period: Duration) -> Quota {
    let burst = NonZeroU32::new(burst.max(1)).unwrap_or(NonZeroU32::MIN);
    Quota::with_period(period.max(Duration::from_millis(1)))
        .unwrap_or_else(|| Quota::per_second(NonZeroU32::MIN))
        .allow_burst(burst)
}

impl Throttle {
    pub fn new(settings: &ThrottleSettings) -> Throttle {
        Throttle {
            accounts: RateLimiter::keyed(quota(settings.account_burst, settings.account_period)),
            addresses: RateLimiter::keyed(quota(settings.address_burst, settings.address_period)),
            clock: DefaultClock::default(),
        }
    }

    /// Counts one attempt; refuses it with 429 and a Retry-After when either limit is spent.
    /// `account` is the tenant and normalised login, so it names the same account however typed.
    pub fn check(&self, account: &str, address: IpAddr) -> Result<(), AppError> {
        let now = self.clock.now();
        let wait = |not_until: governor::NotUntil<_>| AppError::RateLimited {
            retry_after_secs: not_until.wait_time_from(now).as_secs().max(1),
        };
        self.addresses.check_key(&address).map_err(wait)?;
        self.accounts.check_key(&account.to_string()).map_err(wait)?;
        Ok(())
    }

    /// Forgets keys that have recovered their full burst, so memory stays bounded.
    pub fn prune(&self) {
        self.accounts.retain_recent();
        self.addresses.retain_recent();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_account_is_limited_whatever_the_address() {
        let t = Throttle::new(&ThrottleSettings {
            account_burst: 3,
            ..Default::default()
        });
        for i in 0..3u8 {
            assert!(t.check("nanan/admin", IpAddr::from([10, 0, 0, i])).is_ok());
        }
        let err = t.check("nanan/admin", IpAddr::from([10, 0, 0, 9])).unwrap_err();
        assert!(matches!(err, AppError::RateLimited { retry_after_secs } if retry_after_secs >= 1));
        assert!(t.check("nanan/official", IpAddr::from([10, 0, 0, 9])).is_ok());
    }

    #[test]
    fn an_address_is_limited_whatever_the_account() {
        let t = Throttle::new(&ThrottleSettings {
            address_burst: 2,
            ..Default::default()
        });
        let ip = IpAddr::from([192, 0, 2, 1]);
        assert!(t.check("a", ip).is_ok());
        assert!(t.check("b", ip).is_ok());
        assert!(t.check("c", ip).is_err());
        assert!(t.check("c", IpAddr::from([192, 0, 2, 2])).is_ok());
    }
}

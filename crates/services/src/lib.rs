//! Use cases that read or change state. Each takes a [`Ctx`] (what it works with) and, where a
//! person acts, the [`Author`](nightmarket_domain::people::Author); it opens its tenant-scoped
//! transaction, checks the actor's permission, applies the domain rules, writes the audit record
//! for every change, and commits. Pages (`web`) and the JSON API (`api`) are thin layers over
//! these functions: they parse, call one use case, and render.

// Every user-facing string is looked up in locales/app.yml through `i18n::Lang`.
rust_i18n::i18n!("../../locales", fallback = "zh-CN");

/// The database handle, its settings and its watch, as the HTTP layer and the binary hold them.
pub use nightmarket_db::{Db, PoolSettings, watch::DbWatch};

pub mod access;
pub mod accounts;
pub mod applications;
pub mod audit;
pub mod checkins;
pub mod clock;
pub mod codes;
pub mod complaints;
pub mod credentials;
pub mod credit;
pub mod disputes;
pub mod erasure;
pub mod error;
pub mod goods;
pub mod health;
pub mod i18n;
pub mod insights;
pub mod inspections;
pub mod jobs;
pub mod listener;
pub mod live;
pub mod lottery;
pub mod markets;
pub mod notices;
pub mod numbers;
pub mod open311;
pub mod otp;
pub mod patrol;
pub mod payees;
pub mod photos;
pub mod pii;
pub mod plan;
pub mod ratings;
pub mod retention;
pub mod review;
pub mod scan;
pub mod scan_counts;
pub mod scores;
pub mod secrets;
pub mod settings;
pub mod shopper;
pub mod sms;
pub mod supervision;
pub mod tenants;
pub mod vendors;
pub mod vouchers;

use std::ops::Deref;
use std::sync::Arc;
use url::Url;

use crate::access::session::SessionKeys;
use crate::access::shopper::ShopperKeys;
use crate::access::throttle::Throttle;
use crate::clock::Clock;
use crate::error::AppResult;
use crate::secrets::Keys;
use nightmarket_domain::tenant::Tenant;

/// What a use case works with: the database, the one clock, the keys, and this instance's shared
/// caches and queues. Nothing of HTTP (sessions, throttles, metrics and admission stay with the
/// web application's `AppState`, which holds a `Ctx`). Cheap to clone: jobs take their own.
#[derive(Clone)]
pub struct Ctx(Arc<CtxParts>);

impl Ctx {
    pub fn new(parts: CtxParts) -> Ctx {
        Ctx(Arc::new(parts))
    }
}

impl Deref for Ctx {
    type Target = CtxParts;

    fn deref(&self) -> &CtxParts {
        &self.0
    }
}

/// What a [`Ctx`] holds.
pub struct CtxParts {
    /// Request-side database access, logged in as `nightmarket_app` (row-level security applies).
    pub db: Db,
    /// The time every use case reads (pinned and moved by tests).
    pub clock: Clock,
    /// Keys derived from the master key (blind indexes, personal-data encryption, signatures).
    pub keys: Keys,
    /// Where the platform is reached, for the links it sends out (SMS, Open311, placards).
    pub public_url: Url,
    /// Tenants by slug and id, briefly cached.
    pub tenants: tenants::TenantDirectory,
    /// Where text messages go.
    pub sms: sms::Gateway,
    /// Live notices for officials' pages (fed by `listener::spawn_listener`).
    pub live: live::Live,
    /// Scan pages' data (`scan`).
    pub scan_cache: scan::ScanCache,
    /// First visits of scan pages, read together (`scan`).
    pub first_visits: scan::FirstVisits,
    /// Scans counted in memory until the next flush (`scan_counts`).
    pub scan_counts: scan_counts::ScanCounter,
    /// The voucher claim workers of this instance.
    pub claims: vouchers::ClaimQueues,
    /// Audit chains verified lately (the audit viewer).
    pub chain_checks: audit::ChainChecks,
    /// Signs and checks session tokens (sign-in issues them).
    pub sessions: SessionKeys,
    /// Signs and checks shoppers' sessions (a voucher sign-in issues them).
    pub shopper_keys: ShopperKeys,
    /// Sign-in attempts per account and per client address, across instances.
    pub login_throttle: Throttle,
    /// SMS codes requested per number and per client address, across instances.
    pub otp_throttle: Throttle,
    /// Ratings and complaints per shopper device and per client address, across instances.
    pub shopper_throttle: Throttle,
}

impl CtxParts {
    /// The tenant a path names (briefly cached); `NotFound` if none.
    pub async fn tenant(&self, slug: &str) -> AppResult<Tenant> {
        self.tenants.require(&self.db, slug).await
    }

    /// The tenant a path names, if any.
    pub async fn tenant_named(&self, slug: &str) -> AppResult<Option<Tenant>> {
        self.tenants.by_slug(&self.db, slug).await
    }

    /// An absolute URL of a path on this platform.
    pub fn absolute_url(&self, path: &str) -> String {
        format!("{}{path}", self.public_url.as_str().trim_end_matches('/'))
    }
}

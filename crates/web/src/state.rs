//! What every request may use: the use cases' `Ctx` and what only HTTP needs. Kept apart from the
//! route table (`app`), so handlers that take the state do not import the table that names them.

use axum::extract::FromRef;
use metrics_exporter_prometheus::PrometheusHandle;
use std::ops::Deref;
use std::sync::Arc;

use crate::config::Config;
use crate::http::admission::Gate;
use crate::http::metrics;
use nightmarket_services::Db;
use nightmarket_services::access::session::SessionKeys;
use nightmarket_services::access::throttle::Throttle;
use nightmarket_services::secrets::Keys;
use nightmarket_services::tenants::TenantDirectory;
use nightmarket_services::{Ctx, CtxParts};

/// Everything a request may need, cheap to clone.
#[derive(Clone)]
pub struct AppState(Arc<Inner>);

pub struct Inner {
    /// What the use cases work with: database, clock, keys, caches (see `services::Ctx`).
    pub ctx: Ctx,
    /// Settings from the command line and environment.
    pub config: Config,
    /// Renders `/metrics`.
    pub metrics: PrometheusHandle,
    /// The font PDFs are set in (loaded at first use).
    pub pdf_font: crate::web::pdf::PdfFont,
    /// Requests in hand and waiting (http::admission).
    pub admission: Arc<crate::http::admission::Admission>,
    /// Whether the database answers (db::watch; pinged by `serve`).
    pub db_watch: nightmarket_services::DbWatch,
    /// The scan pages as last sent, gzipped (web::public::codes::ScanPages).
    pub scan_pages: crate::web::public::codes::ScanPages,
}

impl Deref for AppState {
    type Target = Inner;

    fn deref(&self) -> &Inner {
        &self.0
    }
}

impl AppState {
    pub fn new(db: Db, config: Config, master_key: &[u8; 32]) -> AppState {
        let keys = Keys::derive(master_key);
        let sessions = SessionKeys::new(&keys.session, config.session_ttl);
        let login_throttle = Throttle::new("login", &config.login_throttle, &keys.throttle);
        let otp_throttle = Throttle::new("sms", &config.otp_throttle, &keys.throttle);
        let shopper_throttle = Throttle::new("shopper", &config.shopper_throttle, &keys.throttle);
        let shopper_keys = nightmarket_services::access::shopper::ShopperKeys::new(&keys.session);
        let scan_cache = nightmarket_services::scan::ScanCache::default();
        db.set_commit_hook(scan_cache.commit_hook());
        let ctx = Ctx::new(CtxParts {
            db,
            clock: config.clock.clone(),
            keys,
            public_url: config.public_url.clone(),
            tenants: TenantDirectory::default(),
            sms: config.sms.clone(),
            live: nightmarket_services::live::Live::default(),
            scan_cache,
            scan_counts: nightmarket_services::scan_counts::ScanCounter::default(),
            claims: nightmarket_services::vouchers::ClaimQueues::default(),
            first_visits: nightmarket_services::scan::FirstVisits::default(),
            chain_checks: nightmarket_services::audit::chain_checks(),
            sessions,
            shopper_keys,
            login_throttle,
            otp_throttle,
            shopper_throttle,
        });
        AppState(Arc::new(Inner {
            ctx,
            metrics: metrics::handle(),
            pdf_font: crate::web::pdf::PdfFont::new(config.pdf_font.clone()),
            admission: Arc::new(crate::http::admission::Admission::new(config.admission)),
            db_watch: nightmarket_services::DbWatch::default(),
            scan_pages: Default::default(),
            config,
        }))
    }
}

impl FromRef<AppState> for PrometheusHandle {
    fn from_ref(state: &AppState) -> PrometheusHandle {
        state.metrics.clone()
    }
}

impl FromRef<AppState> for Gate {
    fn from_ref(state: &AppState) -> Gate {
        Gate {
            admission: state.admission.clone(),
            db_watch: state.db_watch.clone(),
        }
    }
}

//! The application: every route in one table, the middleware stack, and
//! `serve`, which runs it on a listener until told to stop (tests bind port 0).

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderName, Request};
use axum::middleware;
use axum::routing::{get, post};
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::net::TcpListener;
use tower::ServiceBuilder;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::compression::CompressionLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::{DefaultOnFailure, DefaultOnResponse, TraceLayer};
use tracing::Level;

use crate::api;
use crate::error::{AppError, HttpError};
use crate::http::{admission, assets, errors, metrics, security};
pub use crate::state::AppState;
use crate::web::{
    account, admin_markets, admin_settings, admin_staff, admin_supervision, admin_vouchers, audit, codes, complaints,
    credit, goods, insights, numbers, oversight, payee, public, review, shopper, signup, stall, vendor, vouchers,
    workspace,
};

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The one router: pages, the JSON API, static files and operations endpoints.
pub fn router(state: AppState) -> Router {
    let (api_routes, openapi) = api::router();
    let openapi = Arc::new(openapi);

    let pages = Router::new()
        // public
        .route("/", get(public::home))
        .route("/t/{tenant}", get(public::tenant))
        .route("/t/{tenant}/m/{market}", get(public::market))
        .route("/t/{tenant}/m/{market}/stats", get(numbers::public_stats))
        .route("/lang/{code}", get(public::switch_lang))
        .route("/t/{tenant}/code-key", get(codes::key_document))
        // what a QR code opens (and /c/{code}.svg, /c/{code}.png)
        .route("/c/{code}", get(codes::scan))
        .route("/c/{code}/print", get(codes::placard))
        .route("/c/{code}/rate", get(shopper::rate_form).post(shopper::rate))
        .route(
            "/c/{code}/complain",
            get(shopper::complain_form)
                .post(shopper::complain)
                .layer(DefaultBodyLimit::max(crate::http::UPLOAD_BODY_LIMIT)),
        )
        .route("/c/{code}/complain/code", post(shopper::complain_code))
        .route("/c/{code}/redeem", get(vouchers::redeem_form).post(vouchers::redeem))
        .route("/t/{tenant}/me", get(vouchers::me))
        .route("/t/{tenant}/me/code", post(vouchers::send_code))
        .route("/t/{tenant}/me/session", post(vouchers::sign_in))
        .route("/t/{tenant}/vouchers", get(vouchers::campaigns))
        .route("/t/{tenant}/vouchers/{id}", get(vouchers::campaign))
        .route("/t/{tenant}/vouchers/{id}/claim", post(vouchers::claim))
        .route("/verify", get(credit::form))
        .route("/verify/{code}", get(credit::verify))
        .route("/verify/{code}/record.json", get(credit::verify_json))
        .route("/verify/{code}/record.pdf", get(credit::verify_pdf))
        .route("/complaints", get(shopper::lookup_form).post(shopper::lookup))
        .route("/complaints/{tracking}", get(shopper::tracking))
        .route("/complaints/{tracking}/reopen", post(shopper::reopen))
        // sessions
        .route("/login", get(account::login_page).post(account::login))
        .route("/logout", post(account::logout))
        .route(
            "/account/password",
            get(account::password_page).post(account::change_password),
        )
        .route("/workspace", get(account::workspace))
        // officials and vendors
        .route("/official", get(workspace::official))
        .route("/official/markets/{id}", get(workspace::official_market))
        .route("/official/review", get(review::queue))
        .route("/official/applications/{id}", get(review::application))
        .route("/official/applications/{id}/claim", post(review::claim))
        .route("/official/applications/{id}/decision", post(review::decide))
        .route("/official/applications/{id}/documents/{doc}", get(review::document))
        .route("/official/codes/{id}", get(review::code))
        .route("/official/codes/{id}/suspend", post(review::suspend))
        .route("/official/codes/{id}/restore", post(review::restore))
        .route("/official/codes/{id}/revoke", post(review::revoke))
        .route(
            "/official/codes/{id}/inspections",
            post(oversight::inspect).layer(DefaultBodyLimit::max(crate::http::UPLOAD_BODY_LIMIT)),
        )
        .route("/official/markets/{id}/night", get(oversight::night))
        .route("/official/appeals", get(oversight::appeals))
        .route("/official/appeals/{id}/decision", post(oversight::decide_appeal))
        .route("/official/renewals", get(oversight::renewals))
        .route("/official/renewals/{id}/decision", post(oversight::decide_renewal))
        .route("/official/renewals/{id}/document", get(oversight::renewal_document))
        .route("/official/disputes/{id}/decision", post(oversight::decide_dispute))
        .route("/official/complaints", get(complaints::queue))
        .route("/official/complaints/{id}", get(complaints::show))
        .route("/official/complaints/{id}/claim", post(complaints::claim))
        .route("/official/complaints/{id}/step", post(complaints::step))
        .route("/complaint-photos/{id}", get(complaints::photo))
        .route("/official/ratings/{id}/moderation", post(complaints::moderate))
        .route("/official/ratings/{id}/decision", post(complaints::decide))
        .route("/official/ratings/held", get(complaints::held))
        .route("/official/vouchers/flags", get(admin_vouchers::flags))
        .route("/official/vouchers/flags/dismiss", post(admin_vouchers::dismiss_flag))
        .route("/official/vouchers/redemptions", get(admin_vouchers::redemptions))
        .route(
            "/official/vouchers/redemptions/{id}/reverse",
            post(admin_vouchers::reverse),
        )
        .route("/official/numbers", get(numbers::dashboard))
        .route("/official/numbers/csv/{name}", get(numbers::export))
        .route("/official/notices", get(oversight::notices_list))
        .route("/official/notices/read", post(oversight::notices_read))
        .route("/official/events", get(oversight::events))
        .route("/inspection-photos/{id}", get(stall::inspection_photo))
        .route("/appeal-photos/{id}", get(stall::appeal_photo))
        // vendors
        .route("/t/{tenant}/signup", get(signup::page).post(signup::send_code))
        .route("/t/{tenant}/signup/verify", post(signup::verify))
        .route("/t/{tenant}/reset", get(signup::reset_page).post(signup::reset_code))
        .route("/t/{tenant}/reset/verify", post(signup::reset_verify))
        .route("/vendor", get(vendor::home))
        .route("/vendor/inbox", get(vendor::inbox))
        .route("/vendor/payee", get(payee::page).post(payee::save))
        .route("/vendor/inbox/read", post(vendor::mark_read))
        .route("/vendor/apply", get(vendor::choose_market))
        .route("/vendor/apply/{market}", get(vendor::apply_form).post(vendor::apply))
        .route("/vendor/applications/{id}", get(vendor::show).post(vendor::update))
        .route(
            "/vendor/applications/{id}/documents",
            post(vendor::upload).layer(DefaultBodyLimit::max(crate::http::UPLOAD_BODY_LIMIT)),
        )
        .route("/vendor/applications/{id}/documents/{doc}", get(vendor::document))
        .route(
            "/vendor/applications/{id}/documents/{doc}/delete",
            post(vendor::delete_document),
        )
        .route("/vendor/applications/{id}/submit", post(vendor::submit))
        .route("/vendor/applications/{id}/withdraw", post(vendor::withdraw))
        .route("/vendor/stalls/{id}", get(stall::show))
        .route("/vendor/stalls/{id}/check-in", post(stall::check_in))
        .route("/vendor/stalls/{id}/redemptions/live", get(stall::redemptions_live))
        .route("/vendor/stalls/{id}/check-out", post(stall::check_out))
        .route(
            "/vendor/stalls/{id}/renewals",
            post(stall::renew).layer(DefaultBodyLimit::max(crate::http::UPLOAD_BODY_LIMIT)),
        )
        .route("/vendor/stalls/{id}/deductions/{deduction}/appeal", post(stall::appeal))
        .route("/vendor/stalls/{id}/insights", get(insights::page))
        .route("/vendor/records", get(credit::list).post(credit::issue))
        .route("/vendor/records/{id}", get(credit::show))
        .route("/vendor/records/{id}/revoke", post(credit::revoke))
        .route("/vendor/records/{id}/record.json", get(credit::own_json))
        .route("/vendor/records/{id}/record.pdf", get(credit::own_pdf))
        .route(
            "/vendor/goods",
            get(goods::page)
                .post(goods::declare)
                .layer(DefaultBodyLimit::max(crate::http::UPLOAD_BODY_LIMIT)),
        )
        .route("/goods-photos/{id}", get(goods::photo))
        .route("/vendor/renewals/{id}/document", get(stall::renewal_document))
        .route("/vendor/stalls/{id}/disputes", post(stall::dispute))
        .route("/vendor/ratings/{id}/reply", post(stall::reply))
        .route("/vendor/complaints/{id}/answer", post(stall::answer))
        // tenant admins
        .route("/admin", get(admin_markets::home))
        .route("/admin/markets", get(admin_markets::list).post(admin_markets::create))
        .route("/admin/markets/new", get(admin_markets::new_form))
        .route(
            "/admin/markets/{id}",
            get(admin_markets::show).post(admin_markets::update),
        )
        .route("/admin/markets/{id}/edit", get(admin_markets::edit_form))
        .route("/admin/markets/{id}/slots", post(admin_markets::add_slot))
        .route("/admin/markets/{id}/slots/range", post(admin_markets::add_range))
        .route(
            "/admin/markets/{id}/slots/{slot}/delete",
            post(admin_markets::delete_slot),
        )
        .route("/admin/audit", get(audit::page))
        .route("/admin/audit/csv", get(audit::export))
        .route("/admin/settings", get(admin_settings::show).post(admin_settings::save))
        .route("/admin/settings/rotate-key", post(admin_settings::rotate_key))
        .route("/admin/complaint-deadlines", post(admin_settings::save_deadlines))
        .route(
            "/admin/vouchers",
            get(admin_vouchers::list).post(admin_vouchers::create),
        )
        .route(
            "/admin/vouchers/{id}",
            get(admin_vouchers::show).post(admin_vouchers::update),
        )
        .route("/admin/vouchers/{id}/step", post(admin_vouchers::step))
        .route(
            "/admin/vouchers/settlement",
            get(admin_vouchers::settlement).post(admin_vouchers::settle),
        )
        .route("/admin/vouchers/settlement.csv", get(admin_vouchers::settlement_csv))
        .route("/admin/staff", get(admin_staff::list).post(admin_staff::create))
        .route(
            "/admin/api-keys",
            get(admin_supervision::keys).post(admin_supervision::create_key),
        )
        .route("/admin/api-keys/{id}/revoke", post(admin_supervision::revoke_key))
        .route(
            "/admin/problems",
            get(admin_supervision::problems).post(admin_supervision::save_problem),
        )
        .route("/admin/staff/{id}/permissions", post(admin_staff::set_permissions))
        .route("/admin/staff/{id}/reset-password", post(admin_staff::reset_password))
        .route("/admin/staff/{id}/disable", post(admin_staff::disable))
        .route("/admin/staff/{id}/enable", post(admin_staff::enable))
        // infrastructure
        .route("/static/{*path}", get(assets::serve))
        .route("/metrics", get(metrics::render))
        .route(
            "/api/openapi.json",
            get(move || async move { axum::Json(openapi.as_ref().clone()) }),
        );

    let timeout = state.config.request_timeout;
    let body_limit = state.config.body_limit;
    let app_layers = ServiceBuilder::new()
        .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(|request: &Request<_>| {
                    let request_id = request
                        .headers()
                        .get(&REQUEST_ID)
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or("-");
                    // The path only: query strings may carry codes and are not needed in logs.
                    tracing::info_span!("request", method = %request.method(), path = %request.uri().path(), request_id)
                })
                .on_response(DefaultOnResponse::new().level(Level::INFO))
                // A 500 is logged once, with its cause, where it happens (error.rs).
                .on_failure(DefaultOnFailure::new().level(Level::DEBUG)),
        )
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(middleware::from_fn_with_state(state.clone(), security::headers))
        // The fastest level: most pages are a few KB, where it compresses nearly as well at a
        // fraction of the CPU (the scan page is served thousands of times a second).
        .layer(CompressionLayer::new().quality(tower_http::CompressionLevel::Fastest))
        .layer(middleware::from_fn_with_state(state.clone(), errors::render))
        // Inside the error renderer (a refusal is a proper page or JSON error), outside all work.
        .layer(middleware::from_fn_with_state(state.clone(), admission::admit))
        .layer(CatchPanicLayer::custom(errors::panic_response))
        .layer(TimeoutLayer::with_status_code(
            axum::http::StatusCode::SERVICE_UNAVAILABLE,
            timeout,
        ))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            security::cross_site_check,
        ));

    pages
        .merge(api_routes)
        .fallback(|| async { HttpError(AppError::NotFound) })
        .layer(DefaultBodyLimit::max(body_limit))
        .layer(middleware::from_fn(metrics::track))
        .layer(app_layers)
        .with_state(state)
}

/// Serves the application on `listener` until `shutdown` completes, then lets requests in
/// flight finish.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let app = router(state.clone());
    let db_watcher = state.db_watch.spawn((*state.ctx.db.global().connect_options()).clone());
    let listener_task = nightmarket_services::live::spawn_listener(
        state.ctx.db.global(),
        state.ctx.live.clone(),
        state.ctx.scan_cache.clone(),
    );
    let pruner = tokio::spawn({
        let state = state.clone();
        async move {
            let every = std::time::Duration::from_secs(60);
            let mut tick = tokio::time::interval(every);
            loop {
                tick.tick().await;
                // The shared limits' spent keys and old job runs, by one instance a minute.
                let db = state.ctx.db.global();
                let pruned =
                    nightmarket_services::jobs::once_per_period(db, "prune", every, chrono::Utc::now(), || async {
                        let slots = nightmarket_services::access::throttle::prune(db).await?;
                        let runs = nightmarket_services::jobs::prune(db).await?;
                        Ok((slots, runs))
                    })
                    .await;
                if let Err(e) = pruned {
                    tracing::warn!(error = format!("{e:#}"), "pruning throttles failed");
                }
            }
        }
    });
    let result = axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>())
        .with_graceful_shutdown(shutdown)
        .await;
    pruner.abort();
    listener_task.abort();
    db_watcher.abort();
    result
}

//! The application: every route in one table, the middleware stack, and
//! `serve`, which runs it on a listener until told to stop (tests bind port 0).

use axum::Router;
use axum::extract::{DefaultBodyLimit, FromRef};
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
use crate::auth::gates;
use crate::error::{AppError, HttpError};
use crate::http::admission::Gate;
use crate::http::{admission, assets, errors, metrics, security};
pub use crate::state::AppState;
use crate::web::account::{session, signup};
use crate::web::{admin, official, public, vendor};

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The one router: pages, the JSON API, static files and operations endpoints.
pub fn router(state: AppState) -> Router {
    let (api_routes, openapi) = api::router();
    let openapi = Arc::new(openapi);

    // Anyone, signed in or not.
    let public = Router::new()
        .route("/", get(public::markets::home))
        .route("/t/{tenant}", get(public::markets::tenant))
        .route("/t/{tenant}/m/{market}", get(public::markets::market))
        .route("/t/{tenant}/m/{market}/stats", get(official::numbers::public_stats))
        .route("/t/{tenant}/m/{market}/map", get(public::markets::map))
        .route(
            "/t/{tenant}/m/{market}/map/background",
            get(public::markets::map_background),
        )
        .route("/t/{tenant}/lotteries/{round}", get(public::lottery::show))
        .route("/lang/{code}", get(public::markets::switch_lang))
        .route("/t/{tenant}/code-key", get(public::codes::key_document))
        .route("/c/{code}", get(public::codes::scan))
        .route("/c/{code}/print", get(public::codes::placard))
        .route(
            "/c/{code}/rate",
            get(public::shopper::rate_form).post(public::shopper::rate),
        )
        .route(
            "/c/{code}/complain",
            get(public::shopper::complain_form)
                .post(public::shopper::complain)
                .layer(DefaultBodyLimit::max(crate::http::UPLOAD_BODY_LIMIT)),
        )
        .route("/c/{code}/complain/code", post(public::shopper::complain_code))
        .route(
            "/c/{code}/redeem",
            get(public::vouchers::redeem_form).post(public::vouchers::redeem),
        )
        .route("/t/{tenant}/me", get(public::vouchers::me))
        .route("/t/{tenant}/me/code", post(public::vouchers::send_code))
        .route("/t/{tenant}/me/session", post(public::vouchers::sign_in))
        .route("/t/{tenant}/vouchers", get(public::vouchers::campaigns))
        .route("/t/{tenant}/vouchers/{id}", get(public::vouchers::campaign))
        .route("/t/{tenant}/vouchers/{id}/claim", post(public::vouchers::claim))
        .route("/verify", get(vendor::records::form))
        .route("/verify/{code}", get(vendor::records::verify))
        .route("/verify/{code}/record.json", get(vendor::records::verify_json))
        .route("/verify/{code}/record.pdf", get(vendor::records::verify_pdf))
        .route(
            "/complaints",
            get(public::shopper::lookup_form).post(public::shopper::lookup),
        )
        .route("/complaints/{tracking}", get(public::shopper::tracking))
        .route("/complaints/{tracking}/reopen", post(public::shopper::reopen));
    // Signing in and out, and the vendor's own sign-up and reset.
    let account = Router::new()
        .route("/login", get(session::login_page).post(session::login))
        .route("/logout", post(session::logout))
        .route(
            "/account/password",
            get(session::password_page).post(session::change_password),
        )
        .route("/workspace", get(session::workspace))
        .route("/t/{tenant}/signup", get(signup::page).post(signup::send_code))
        .route("/t/{tenant}/signup/verify", post(signup::verify))
        .route("/t/{tenant}/reset", get(signup::reset_page).post(signup::reset_code))
        .route("/t/{tenant}/reset/verify", post(signup::reset_verify));
    // Pages of both sides of a case (the vendor and the officials): the use case decides.
    let shared = Router::new()
        // The stall's vendor watches it; officials open it from the code page.
        .route(
            "/vendor/stalls/{id}/redemptions/live",
            get(vendor::stall::redemptions_live),
        )
        .route("/complaint-photos/{id}", get(official::complaints::photo))
        .route("/inspection-photos/{id}", get(vendor::stall::inspection_photo))
        .route("/appeal-photos/{id}", get(vendor::stall::appeal_photo))
        .route("/goods-photos/{id}", get(vendor::goods::photo));
    // Each audience's pages, behind the one check of who may enter them (a person of another role
    // is refused here, whatever the page; what they may do inside is the use case's to decide).
    let official = Router::new()
        .route("/official", get(official::workspace::official))
        .route("/official/markets/{id}", get(official::workspace::official_market))
        .route("/official/review", get(official::review::queue))
        .route("/official/applications/{id}", get(official::review::application))
        .route("/official/applications/{id}/claim", post(official::review::claim))
        .route("/official/applications/{id}/decision", post(official::review::decide))
        .route(
            "/official/applications/{id}/documents/{doc}",
            get(official::review::document),
        )
        .route("/official/codes/{id}", get(official::review::code))
        .route("/official/codes/{id}/suspend", post(official::review::suspend))
        .route("/official/codes/{id}/restore", post(official::review::restore))
        .route("/official/codes/{id}/revoke", post(official::review::revoke))
        .route(
            "/official/codes/{id}/inspections",
            post(official::oversight::inspect).layer(DefaultBodyLimit::max(crate::http::UPLOAD_BODY_LIMIT)),
        )
        .route("/official/markets/{id}/night", get(official::oversight::night))
        .route("/official/markets/{id}/live", get(official::wall::live))
        .route("/official/markets/{id}/live/events", get(official::wall::events))
        .route("/official/appeals", get(official::oversight::appeals))
        .route(
            "/official/appeals/{id}/decision",
            post(official::oversight::decide_appeal),
        )
        .route("/official/renewals", get(official::oversight::renewals))
        .route(
            "/official/renewals/{id}/decision",
            post(official::oversight::decide_renewal),
        )
        .route(
            "/official/renewals/{id}/document",
            get(official::oversight::renewal_document),
        )
        .route(
            "/official/disputes/{id}/decision",
            post(official::oversight::decide_dispute),
        )
        .route("/official/complaints", get(official::complaints::queue))
        .route("/official/complaints/{id}", get(official::complaints::show))
        .route("/official/complaints/{id}/claim", post(official::complaints::claim))
        .route("/official/complaints/{id}/step", post(official::complaints::step))
        .route(
            "/official/complaints/{id}/escalate",
            post(official::complaints::escalate),
        )
        .route(
            "/official/complaints/{id}/follow-up",
            post(official::complaints::follow_up),
        )
        .route(
            "/official/ratings/{id}/moderation",
            post(official::complaints::moderate),
        )
        .route("/official/ratings/{id}/decision", post(official::complaints::decide))
        .route("/official/ratings/held", get(official::complaints::held))
        .route("/official/vouchers/flags", get(admin::vouchers::flags))
        .route("/official/vouchers/flags/dismiss", post(admin::vouchers::dismiss_flag))
        .route("/official/vouchers/redemptions", get(admin::vouchers::redemptions))
        .route(
            "/official/vouchers/redemptions/{id}/reverse",
            post(admin::vouchers::reverse),
        )
        .route("/official/numbers", get(official::numbers::dashboard))
        .route("/official/numbers/csv/{name}", get(official::numbers::export))
        .route("/official/patrol", get(official::patrol::app))
        .route("/official/patrol/manifest.webmanifest", get(official::patrol::manifest))
        .route("/official/patrol/sw.js", get(official::patrol::service_worker))
        .route("/official/notices", get(official::oversight::notices_list))
        .route("/official/notices/read", post(official::oversight::notices_read))
        .route("/official/events", get(official::oversight::events))
        .route_layer(middleware::from_fn_with_state(state.clone(), gates::staff));
    let vendor = Router::new()
        .route("/vendor", get(vendor::applications::home))
        .route("/vendor/inbox", get(vendor::applications::inbox))
        .route("/vendor/payee", get(vendor::payee::page).post(vendor::payee::save))
        .route("/vendor/my-data.json", get(vendor::records::my_data))
        .route("/vendor/erasure", post(vendor::records::request_erasure))
        .route("/vendor/inbox/read", post(vendor::applications::mark_read))
        .route("/vendor/apply", get(vendor::applications::choose_market))
        .route(
            "/vendor/apply/{market}",
            get(vendor::applications::apply_form).post(vendor::applications::apply),
        )
        .route(
            "/vendor/applications/{id}",
            get(vendor::applications::show).post(vendor::applications::update),
        )
        .route(
            "/vendor/applications/{id}/documents",
            post(vendor::applications::upload).layer(DefaultBodyLimit::max(crate::http::UPLOAD_BODY_LIMIT)),
        )
        .route(
            "/vendor/applications/{id}/documents/{doc}",
            get(vendor::applications::document),
        )
        .route(
            "/vendor/applications/{id}/documents/{doc}/delete",
            post(vendor::applications::delete_document),
        )
        .route("/vendor/applications/{id}/submit", post(vendor::applications::submit))
        .route(
            "/vendor/applications/{id}/withdraw",
            post(vendor::applications::withdraw),
        )
        .route("/vendor/stalls/{id}", get(vendor::stall::show))
        .route("/vendor/stalls/{id}/check-in", post(vendor::stall::check_in))
        .route("/vendor/stalls/{id}/check-out", post(vendor::stall::check_out))
        .route(
            "/vendor/stalls/{id}/renewals",
            post(vendor::stall::renew).layer(DefaultBodyLimit::max(crate::http::UPLOAD_BODY_LIMIT)),
        )
        .route(
            "/vendor/stalls/{id}/deductions/{deduction}/appeal",
            post(vendor::stall::appeal),
        )
        .route("/vendor/stalls/{id}/insights", get(vendor::insights::page))
        .route(
            "/vendor/records",
            get(vendor::records::list).post(vendor::records::issue),
        )
        .route("/vendor/records/{id}", get(vendor::records::show))
        .route("/vendor/records/{id}/revoke", post(vendor::records::revoke))
        .route("/vendor/records/{id}/record.json", get(vendor::records::own_json))
        .route("/vendor/records/{id}/record.pdf", get(vendor::records::own_pdf))
        .route(
            "/vendor/goods",
            get(vendor::goods::page)
                .post(vendor::goods::declare)
                .layer(DefaultBodyLimit::max(crate::http::UPLOAD_BODY_LIMIT)),
        )
        .route("/vendor/renewals/{id}/document", get(vendor::stall::renewal_document))
        .route("/vendor/stalls/{id}/disputes", post(vendor::stall::dispute))
        .route("/vendor/ratings/{id}/reply", post(vendor::stall::reply))
        .route("/vendor/complaints/{id}/answer", post(vendor::stall::answer))
        .route_layer(middleware::from_fn_with_state(state.clone(), gates::vendors));
    let admin = Router::new()
        .route("/admin", get(admin::markets::home))
        .route("/admin/markets", get(admin::markets::list).post(admin::markets::create))
        .route("/admin/markets/new", get(admin::markets::new_form))
        .route(
            "/admin/markets/{id}",
            get(admin::markets::show).post(admin::markets::update),
        )
        .route("/admin/markets/{id}/edit", get(admin::markets::edit_form))
        .route(
            "/admin/markets/{id}/plan",
            get(admin::plan::show).post(admin::plan::save),
        )
        .route("/admin/lotteries", get(admin::lottery::list).post(admin::lottery::open))
        .route("/admin/lotteries/{id}", get(admin::lottery::show))
        .route("/admin/lotteries/{id}/publication", post(admin::lottery::publish))
        .route("/admin/lotteries/{id}/draw", post(admin::lottery::draw))
        .route("/admin/markets/{id}/slots", post(admin::markets::add_slot))
        .route("/admin/markets/{id}/slots/range", post(admin::markets::add_range))
        .route(
            "/admin/markets/{id}/slots/{slot}/delete",
            post(admin::markets::delete_slot),
        )
        .route("/admin/audit", get(admin::audit::page))
        .route("/admin/erasure", get(admin::erasure::page))
        .route("/admin/erasure/{id}", post(admin::erasure::decide))
        .route("/admin/audit/csv", get(admin::audit::export))
        .route(
            "/admin/settings",
            get(admin::settings::show).post(admin::settings::save),
        )
        .route("/admin/settings/rotate-key", post(admin::settings::rotate_key))
        .route("/admin/complaint-deadlines", post(admin::settings::save_deadlines))
        .route("/admin/calendar", post(admin::settings::add_calendar_day))
        .route("/admin/calendar/remove", post(admin::settings::remove_calendar_day))
        .route(
            "/admin/vouchers",
            get(admin::vouchers::list).post(admin::vouchers::create),
        )
        .route(
            "/admin/vouchers/{id}",
            get(admin::vouchers::show).post(admin::vouchers::update),
        )
        .route("/admin/vouchers/{id}/step", post(admin::vouchers::step))
        .route(
            "/admin/vouchers/settlement",
            get(admin::vouchers::settlement).post(admin::vouchers::settle),
        )
        .route("/admin/vouchers/settlement.csv", get(admin::vouchers::settlement_csv))
        .route("/admin/staff", get(admin::staff::list).post(admin::staff::create))
        .route(
            "/admin/api-keys",
            get(admin::supervision::keys).post(admin::supervision::create_key),
        )
        .route("/admin/api-keys/{id}/revoke", post(admin::supervision::revoke_key))
        .route(
            "/admin/problems",
            get(admin::supervision::problems).post(admin::supervision::save_problem),
        )
        .route("/admin/staff/{id}/permissions", post(admin::staff::set_permissions))
        .route("/admin/staff/{id}/reset-password", post(admin::staff::reset_password))
        .route("/admin/staff/{id}/disable", post(admin::staff::disable))
        .route("/admin/staff/{id}/enable", post(admin::staff::enable))
        .route_layer(middleware::from_fn_with_state(state.clone(), gates::admins));
    let pages = public
        .merge(account)
        .merge(shared)
        .merge(official)
        .merge(vendor)
        .merge(admin)
        // infrastructure
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
        .layer(middleware::from_fn_with_state(Gate::from_ref(&state), admission::admit))
        .layer(CatchPanicLayer::custom(errors::panic_response))
        .layer(TimeoutLayer::with_status_code(
            axum::http::StatusCode::SERVICE_UNAVAILABLE,
            timeout,
        ))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            security::cross_site_check,
        ));

    // Static files are prepared once (compressed, tagged, their answer's headers made, the
    // security headers among them) and need nothing of the stack but the request id: no
    // session, no body, no database, nothing to log or time out. They are what every page load
    // fetches, so they skip the rest (see BENCHMARKS.md).
    let https = state.config.secure_cookies();
    let assets = Router::new()
        .route(
            "/static/{*path}",
            get(move |q, request| assets::serve(q, request, https)),
        )
        .layer(
            ServiceBuilder::new()
                .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
                .layer(PropagateRequestIdLayer::new(REQUEST_ID)),
        );

    pages
        .merge(api_routes)
        .fallback(|| async { HttpError(AppError::NotFound) })
        .layer(DefaultBodyLimit::max(body_limit))
        .layer(middleware::from_fn(metrics::track))
        .layer(app_layers)
        .merge(assets)
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
    let listener_task = nightmarket_services::listener::spawn_listener(
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

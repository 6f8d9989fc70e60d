//! The JSON API under `/api/v1`, documented by OpenAPI at `/api/openapi.json`.
//!
//! Every route is registered through `utoipa_axum::routes!`, which takes the path from the
//! handler's `#[utoipa::path]`, so a route cannot exist without being in the document.

pub mod applications;
pub mod auth;
pub mod codes;
pub mod lottery;
pub mod markets;
pub mod me;
pub mod numbers;
pub mod open311;
pub mod ops;
pub mod patrol;
pub mod scan;
pub mod staff;
pub mod supervision;
pub mod vendor_tools;
pub mod vendors;
pub mod vouchers;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::{OpenApiRouter, UtoipaMethodRouterExt};
use utoipa_axum::routes;

use crate::error::ErrorBody;
use crate::state::AppState;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "nightmarket API",
        version = "1",
        description = "Digital night markets for city and district governments. Errors always have the shape \
                       `{\"error\": {\"code\", \"message\"}}`; messages follow Accept-Language (zh-CN by default). \
                       Sign in with `POST /api/v1/auth/login` and send the token as `Authorization: Bearer …`."
    ),
    modifiers(&SecurityAddon),
    components(schemas(ErrorBody)),
    tags(
        (name = "auth", description = "Sessions and one's own account"),
        (name = "markets", description = "Tenants, markets and stall slots"),
        (name = "lotteries", description = "Stall lotteries anyone can check: rounds, their published lists, commitments, draws and results"),
        (name = "staff", description = "A tenant's admins, officials and settings"),
        (name = "vendors", description = "Vendors signing up"),
        (name = "applications", description = "Vendors' applications for stalls"),
        (name = "review", description = "Officials deciding applications"),
        (name = "codes", description = "Operating codes (经营码): stalls, colours, keys"),
        (name = "supervision", description = "Check-in, credentials and the external credential feed, inspections, appeals"),
        (name = "scan", description = "Ratings, complaints and their handling, stall scores"),
        (name = "vouchers", description = "Consumption vouchers: campaigns, shoppers, claims"),
        (name = "vendor tools", description = "For vendors: insights, credit records and their public check, goods-source declarations"),
        (name = "numbers", description = "Dashboards' figures, their tables and records, markets' public records"),
        (name = "open311", description = "Open311 GeoReport v2 for 12345 hotline systems"),
        (name = "ops", description = "Health"),
    )
)]
pub struct ApiDoc;

struct SecurityAddon;

impl Modify for SecurityAddon {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
        components.add_security_scheme(
            "shopper",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some(
                        "A shopper token from POST /api/v1/t/{tenant}/shoppers/session (also the nm_shopper cookie)",
                    ))
                    .build(),
            ),
        );
        // External systems sign each request with a tenant API key (see credential-events).
        components.add_security_scheme(
            "api_key",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                "X-Api-Key",
                "Key id of a tenant API key; the request also carries X-Timestamp and X-Signature \
                 (hex HMAC-SHA256 of timestamp + \".\" + body under the key's secret).",
            ))),
        );
    }
}

/// The API routes and the OpenAPI document describing exactly them.
pub fn router() -> (Router<AppState>, utoipa::openapi::OpenApi) {
    let (router, openapi) = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(ops::health))
        .routes(routes!(auth::login))
        .routes(routes!(auth::logout))
        .routes(routes!(auth::me))
        .routes(routes!(auth::change_password))
        .routes(routes!(markets::tenants))
        .routes(routes!(markets::list, markets::create))
        .routes(routes!(markets::get, markets::update))
        .routes(routes!(markets::add_slots))
        .routes(routes!(markets::delete_slot))
        .routes(routes!(markets::plan, markets::save_plan))
        .routes(
            routes!(markets::upload_background, markets::remove_background)
                .layer(DefaultBodyLimit::max(crate::http::UPLOAD_BODY_LIMIT)),
        )
        .routes(routes!(markets::map))
        .routes(routes!(patrol::pack))
        .routes(routes!(patrol::sync).layer(DefaultBodyLimit::max(crate::http::UPLOAD_BODY_LIMIT * 4)))
        .routes(routes!(lottery::list))
        .routes(routes!(lottery::get))
        .routes(routes!(lottery::published))
        .routes(routes!(lottery::open))
        .routes(routes!(lottery::candidates))
        .routes(routes!(lottery::publish))
        .routes(routes!(lottery::draw))
        .routes(routes!(staff::list, staff::create))
        .routes(routes!(staff::set_permissions))
        .routes(routes!(staff::reset_password))
        .routes(routes!(staff::set_disabled))
        .routes(routes!(me::notifications))
        .routes(routes!(me::mark_read))
        .routes(routes!(me::get_payee, me::put_payee))
        .routes(routes!(me::get_settings, me::put_settings))
        .routes(routes!(vendors::request_code))
        .routes(routes!(vendors::sign_up))
        .routes(routes!(applications::mine, applications::create))
        .routes(routes!(applications::get, applications::update))
        .routes(routes!(applications::upload).layer(DefaultBodyLimit::max(crate::http::UPLOAD_BODY_LIMIT)))
        .routes(routes!(applications::document, applications::delete_document))
        .routes(routes!(applications::submit))
        .routes(routes!(applications::withdraw))
        .routes(routes!(applications::queue))
        .routes(routes!(applications::review_one))
        .routes(routes!(applications::claim))
        .routes(routes!(applications::decide))
        .routes(routes!(codes::stalls))
        .routes(routes!(codes::get))
        .routes(routes!(codes::mine))
        .routes(routes!(codes::suspend))
        .routes(routes!(codes::restore))
        .routes(routes!(codes::revoke))
        .routes(routes!(codes::key_document))
        .routes(routes!(supervision::check_in))
        .routes(routes!(supervision::check_out))
        .routes(routes!(supervision::night))
        .routes(routes!(numbers::dashboard))
        .routes(routes!(numbers::table))
        .routes(routes!(numbers::public_stats))
        .routes(routes!(vendor_tools::stall_insights))
        .routes(routes!(vendor_tools::records, vendor_tools::issue))
        .routes(routes!(vendor_tools::record))
        .routes(routes!(vendor_tools::revoke))
        .routes(routes!(vendor_tools::verify))
        .routes(routes!(vendor_tools::goods_sources, vendor_tools::declare))
        .routes(routes!(supervision::credential_event))
        .routes(routes!(supervision::my_credentials))
        .routes(routes!(supervision::vendor_credentials))
        .routes(routes!(supervision::renew).layer(DefaultBodyLimit::max(crate::http::UPLOAD_BODY_LIMIT)))
        .routes(routes!(supervision::renewals))
        .routes(routes!(supervision::decide_renewal))
        .routes(routes!(supervision::problems, supervision::save_problem))
        .routes(routes!(supervision::inspect, supervision::inspections_of))
        .routes(routes!(supervision::my_deductions))
        .routes(routes!(supervision::appeal))
        .routes(routes!(supervision::appeals))
        .routes(routes!(supervision::decide_appeal))
        .routes(routes!(supervision::api_keys, supervision::create_api_key))
        .routes(routes!(supervision::revoke_api_key))
        .routes(routes!(scan::score))
        .routes(routes!(scan::code_ratings))
        .routes(routes!(scan::reply))
        .routes(routes!(scan::moderate))
        .routes(routes!(scan::held_ratings))
        .routes(routes!(scan::decide_rating))
        .routes(routes!(scan::queue))
        .routes(routes!(scan::complaint))
        .routes(routes!(scan::claim))
        .routes(routes!(scan::step))
        .routes(routes!(scan::escalate))
        .routes(routes!(scan::follow_up))
        .routes(routes!(scan::stall_complaints))
        .routes(routes!(scan::answer))
        .routes(routes!(scan::deadlines, scan::set_deadlines))
        .routes(routes!(scan::calendar))
        .routes(routes!(scan::my_data))
        .routes(routes!(scan::ask_erasure))
        .routes(routes!(scan::erasure_requests))
        .routes(routes!(scan::decide_erasure))
        .routes(routes!(scan::set_calendar_day, scan::remove_calendar_day))
        .routes(routes!(open311::services))
        .routes(routes!(open311::services_xml))
        .routes(routes!(open311::service_definition))
        .routes(routes!(open311::post_request, open311::get_requests))
        .routes(routes!(open311::post_request_xml, open311::get_requests_xml))
        .routes(routes!(open311::get_request))
        .routes(routes!(open311::token))
        .routes(routes!(open311::discovery))
        .routes(routes!(open311::discovery_xml))
        .routes(routes!(vouchers::list, vouchers::create))
        .routes(routes!(vouchers::get, vouchers::update))
        .routes(routes!(vouchers::step))
        .routes(routes!(vouchers::public_list))
        .routes(routes!(vouchers::send_code))
        .routes(routes!(vouchers::sign_in))
        .routes(routes!(vouchers::my_vouchers))
        .routes(routes!(vouchers::claim))
        .routes(routes!(vouchers::redeem))
        .routes(routes!(vouchers::stall_redemptions))
        .routes(routes!(vouchers::reverse))
        .routes(routes!(vouchers::stats))
        .routes(routes!(vouchers::figures))
        .routes(routes!(vouchers::settlement))
        .routes(routes!(vouchers::settle))
        .routes(routes!(vouchers::flags))
        .split_for_parts();
    (router, document_common_answers(openapi))
}

/// Answers operations give whatever their handler does, documented once here instead of on each:
/// 401 and 403 on every signed-in operation (no token, a token that is not valid or of another
/// tenant's user; a role or permission that does not allow it) and 400 on every operation with a
/// body or query parameters (missing, or not the declared type).
fn document_common_answers(mut openapi: utoipa::openapi::OpenApi) -> utoipa::openapi::OpenApi {
    use utoipa::openapi::{ContentBuilder, Ref, RefOr, ResponseBuilder};
    let error = |description: &str| {
        RefOr::T(
            ResponseBuilder::new()
                .description(description)
                .content(
                    "application/json",
                    ContentBuilder::new()
                        .schema(Some(Ref::from_schema_name("ErrorBody")))
                        .build(),
                )
                .build(),
        )
    };
    let bad_request = error("The body or a query parameter is missing or not of the declared type (e.g. not JSON)");
    let unauthorized =
        error("Not signed in, or the token is not valid (expired, revoked, or of another tenant's user)");
    let forbidden = error("The signed-in person's role or permissions do not allow this");
    for item in openapi.paths.paths.values_mut() {
        for op in [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.patch,
        ]
        .into_iter()
        .flatten()
        {
            let has_query = op.parameters.as_ref().is_some_and(|ps| {
                ps.iter().any(
                    |p| matches!(p, RefOr::T(p) if matches!(p.parameter_in, utoipa::openapi::path::ParameterIn::Query)),
                )
            });
            if op.request_body.is_some() || has_query {
                op.responses
                    .responses
                    .entry("400".to_string())
                    .or_insert_with(|| bad_request.clone());
            }
            let signed_in = op.security.as_ref().is_some_and(|s| !s.is_empty());
            if signed_in {
                op.responses
                    .responses
                    .entry("401".to_string())
                    .or_insert_with(|| unauthorized.clone());
                op.responses
                    .responses
                    .entry("403".to_string())
                    .or_insert_with(|| forbidden.clone());
            }
        }
    }
    openapi
}

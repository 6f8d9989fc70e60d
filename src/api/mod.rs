//! The JSON API under `/api/v1`, documented by OpenAPI at `/api/openapi.json`.
//!
//! Every route is registered through `utoipa_axum::routes!`, which takes the path from the
//! handler's `#[utoipa::path]`, so a route cannot exist without being in the document.

pub mod auth;
pub mod markets;
pub mod ops;
pub mod staff;

use axum::Router;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::app::AppState;
use crate::error::ErrorBody;

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
        (name = "staff", description = "A tenant's admins and officials"),
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
    }
}

/// The API routes and the OpenAPI document describing exactly them.
pub fn router() -> (Router<AppState>, utoipa::openapi::OpenApi) {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
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
        .routes(routes!(staff::list, staff::create))
        .routes(routes!(staff::set_permissions))
        .routes(routes!(staff::reset_password))
        .routes(routes!(staff::set_disabled))
        .split_for_parts()
}

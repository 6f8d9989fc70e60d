//! The doors of the audiences' pages: who may enter `/official`, `/vendor` and `/admin` at all,
//! checked once for each in the route table instead of at the top of every handler. What a person
//! may do behind the door (review, handle complaints, act on this stall) is the use case's to
//! decide.

use axum::extract::Request;
use axum::middleware::Next;
use axum::response::Response;

use super::AuthUser;
use crate::error::HttpResult;

/// Officials and admins: the official pages.
pub async fn staff(user: AuthUser, request: Request, next: Next) -> HttpResult<Response> {
    user.require_staff()?;
    Ok(next.run(request).await)
}

/// Vendors: their applications, stalls and records.
pub async fn vendors(user: AuthUser, request: Request, next: Next) -> HttpResult<Response> {
    user.require_vendor()?;
    Ok(next.run(request).await)
}

/// Tenant admins: markets, settings, staff, campaigns, the audit log.
pub async fn admins(user: AuthUser, request: Request, next: Next) -> HttpResult<Response> {
    user.require_admin()?;
    Ok(next.run(request).await)
}

//! The scan page's problem pages: a code that is not genuine, or one that cannot be shown.

use askama::Template;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use crate::error::HttpResult;
use crate::web::layout::{Page, render};

#[derive(Template)]
#[template(path = "public/scan_problem.html")]
pub struct ProblemPage {
    pub page: Page,
    pub title: String,
    pub message: String,
    pub stall: Option<String>,
}

/// The page for a code that was not issued here or whose signature does not verify (404).
pub fn not_genuine(page: Page) -> HttpResult<Response> {
    let html = render(&ProblemPage {
        title: page.t("scan.unknown_title"),
        message: page.t("scan.unknown"),
        stall: None,
        page,
    })?;
    Ok((StatusCode::NOT_FOUND, html).into_response())
}

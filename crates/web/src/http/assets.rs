//! Static files (CSS, the few scripts, icons), embedded in the binary at build time so the server
//! needs no files beside it. Lookups go through a compile-time table, so no request can reach the
//! file system (no path traversal).
//!
//! Pages link assets as `/static/app.css?v=<hash>`; a request carrying the current hash is cached
//! for a year, anything else for five minutes, so a new build is picked up at once.

use axum::extract::Path;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use rust_embed::Embed;
use std::collections::HashMap;
use std::sync::LazyLock;

use crate::error::{AppError, HttpError};
use crate::http::extract::Query;

#[derive(Embed)]
#[folder = "../../static/"]
struct Assets;

/// Short content hashes of every asset, computed once.
static VERSIONS: LazyLock<HashMap<String, String>> = LazyLock::new(|| {
    Assets::iter()
        .filter_map(|name| {
            let file = Assets::get(&name)?;
            Some((name.to_string(), hex::encode(&file.metadata.sha256_hash()[..6])))
        })
        .collect()
});

/// The versioned URL of an asset, for templates.
pub fn url(name: &str) -> String {
    match VERSIONS.get(name) {
        Some(v) => format!("/static/{name}?v={v}"),
        None => format!("/static/{name}"),
    }
}

#[derive(serde::Deserialize)]
pub struct VersionQuery {
    v: Option<String>,
}

pub async fn serve(Path(path): Path<String>, Query(q): Query<VersionQuery>, headers: HeaderMap) -> Response {
    let Some(file) = Assets::get(&path) else {
        return HttpError(AppError::NotFound).into_response();
    };
    let etag = format!("\"{}\"", hex::encode(&file.metadata.sha256_hash()[..16]));
    let current = VERSIONS.get(&path);
    let cache = if q.v.is_some() && q.v.as_ref() == current {
        "public, max-age=31536000, immutable"
    } else {
        "public, max-age=300"
    };
    let mut response = if headers.get(header::IF_NONE_MATCH).and_then(|v| v.to_str().ok()) == Some(etag.as_str()) {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        file.data.into_owned().into_response()
    };
    let h = response.headers_mut();
    if let Ok(v) = HeaderValue::from_str(file.metadata.mimetype()) {
        h.insert(header::CONTENT_TYPE, v);
    }
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    if let Ok(v) = HeaderValue::from_str(&etag) {
        h.insert(header::ETAG, v);
    }
    response
}

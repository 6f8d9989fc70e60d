//! Static files (CSS, the few scripts, icons), embedded in the binary at build time so the server
//! needs no files beside it. Lookups go through a compile-time table, so no request can reach the
//! file system (no path traversal).
//!
//! Pages link assets as `/static/app.css?v=<hash>`; a request carrying the current hash is cached
//! for a year, anything else for five minutes, so a new build is picked up at once.

use axum::body::Bytes;
use axum::extract::Path;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use rust_embed::Embed;
use std::collections::HashMap;
use std::io::Write;
use std::sync::LazyLock;

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

/// An asset as it is sent: its bytes (and, for text, gzipped once at start), type and tag.
struct Prepared {
    plain: Bytes,
    gzip: Option<Bytes>,
    mime: HeaderValue,
    /// Each representation its own tag (a cache keeps both, by `Vary`).
    etag: HeaderValue,
    etag_gzip: HeaderValue,
}

/// Every asset, prepared once: a request copies, hashes and compresses nothing.
static PREPARED: LazyLock<HashMap<String, Prepared>> = LazyLock::new(|| {
    Assets::iter()
        .filter_map(|name| {
            let file = Assets::get(&name)?;
            let mime = file.metadata.mimetype().to_string();
            let tag = hex::encode(&file.metadata.sha256_hash()[..16]);
            let plain = Bytes::from(file.data.into_owned());
            let text = mime.starts_with("text/")
                || mime.contains("javascript")
                || mime.contains("svg")
                || mime.contains("json");
            let gzip = text.then(|| gzip(&plain, flate2::Compression::best())).flatten();
            Some((
                name.to_string(),
                Prepared {
                    plain,
                    gzip,
                    mime: HeaderValue::from_str(&mime).ok()?,
                    etag: HeaderValue::from_str(&format!("\"{tag}\"")).ok()?,
                    etag_gzip: HeaderValue::from_str(&format!("\"{tag}-gz\"")).ok()?,
                },
            ))
        })
        .collect()
});

/// `data` gzipped at `level` (None should the encoder fail).
pub fn gzip(data: &[u8], level: flate2::Compression) -> Option<Bytes> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::with_capacity(data.len() / 2), level);
    encoder.write_all(data).ok()?;
    encoder.finish().ok().map(Bytes::from)
}

/// Whether the client takes gzip (`Accept-Encoding: gzip`, not with `q=0`).
pub fn accepts_gzip(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|coding| {
            let mut parts = coding.split(';').map(str::trim);
            let name = parts.next().unwrap_or("");
            let refused = parts.any(|p| {
                p.replace(' ', "")
                    .trim_start_matches("q=")
                    .parse::<f32>()
                    .is_ok_and(|q| q == 0.0)
            });
            (name.eq_ignore_ascii_case("gzip") || name == "*") && !refused
        })
}

pub async fn serve(Path(path): Path<String>, Query(q): Query<VersionQuery>, headers: HeaderMap) -> Response {
    let Some(file) = PREPARED.get(&path) else {
        // Asked for by a page's <link> or <script>, never read by a person: a plain 404.
        return (StatusCode::NOT_FOUND, "Not found").into_response();
    };
    let current = VERSIONS.get(&path);
    let cache = if q.v.is_some() && q.v.as_ref() == current {
        "public, max-age=31536000, immutable"
    } else {
        "public, max-age=300"
    };
    let gzip = file.gzip.as_ref().filter(|_| accepts_gzip(&headers));
    let etag = if gzip.is_some() { &file.etag_gzip } else { &file.etag };
    let mut response = if headers.get(header::IF_NONE_MATCH) == Some(etag) {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        gzip.unwrap_or(&file.plain).clone().into_response()
    };
    let h = response.headers_mut();
    h.insert(header::CONTENT_TYPE, file.mime.clone());
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    h.insert(header::ETAG, etag.clone());
    if file.gzip.is_some() {
        h.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    }
    if gzip.is_some() && response.status() == StatusCode::OK {
        response
            .headers_mut()
            .insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
    }
    response
}

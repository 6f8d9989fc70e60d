//! Static files (CSS, the few scripts, icons), embedded in the binary at build time so the server
//! needs no files beside it. Lookups go through a compile-time table, so no request can reach the
//! file system (no path traversal).
//!
//! Pages link assets as `/static/app.css?v=<hash>`; a request carrying the current hash is cached
//! for a year, anything else for five minutes, so a new build is picked up at once.

use axum::body::Bytes;
use axum::extract::Request;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use rust_embed::Embed;
use std::collections::HashMap;
use std::io::Write;
use std::sync::LazyLock;

use crate::http::extract::Query;
use crate::http::security;

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

/// One representation of an asset (plain or gzipped) as it is sent: its bytes and every header of
/// its answer but the request id, the security headers among them, made once for each scheme
/// (`https`: with HSTS), so that an answer is a clone of a finished map and one replaced value.
struct Representation {
    body: Bytes,
    /// Indexed by `https`.
    headers: [HeaderMap; 2],
}

/// An asset: its plain bytes and, for text, the same gzipped once at start.
struct Prepared {
    plain: Representation,
    gzip: Option<Representation>,
}

impl Representation {
    fn new(body: Bytes, mime: &str, etag: String, encoding: Option<&'static str>, varies: bool) -> Option<Self> {
        let make = |https: bool| -> Option<HeaderMap> {
            // Room for all of it and the request id, so that nothing grows per request.
            let mut h = HeaderMap::with_capacity(20);
            h.insert(header::CONTENT_TYPE, HeaderValue::from_str(mime).ok()?);
            // Replaced by the year-long policy when the request names the current version.
            h.insert(header::CACHE_CONTROL, HeaderValue::from_static(SHORT));
            h.insert(header::ETAG, HeaderValue::from_str(&etag).ok()?);
            if varies {
                h.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
            }
            if let Some(encoding) = encoding {
                h.insert(header::CONTENT_ENCODING, HeaderValue::from_static(encoding));
            }
            for (name, value) in security::headers_for(https) {
                h.insert(name.clone(), value.clone());
            }
            Some(h)
        };
        Some(Representation {
            body,
            headers: [make(false)?, make(true)?],
        })
    }
}

const SHORT: &str = "public, max-age=300";
const IMMUTABLE: &str = "public, max-age=31536000, immutable";

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
            let gzipped = text.then(|| gzip(&plain, flate2::Compression::best())).flatten();
            // Each representation its own tag (a cache keeps both, by `Vary`).
            let varies = gzipped.is_some();
            let gzip = match gzipped {
                Some(body) => Some(Representation::new(
                    body,
                    &mime,
                    format!("\"{tag}-gz\""),
                    Some("gzip"),
                    true,
                )?),
                None => None,
            };
            Some((
                name.to_string(),
                Prepared {
                    plain: Representation::new(plain, &mime, format!("\"{tag}\""), None, varies)?,
                    gzip,
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

/// Serves `/static/{name}`, with the security headers (`https`: HSTS too). The request is read in
/// place (its headers are not copied, its path is the asset's name as linked: names are plain
/// ASCII, nothing to decode) and the answer's headers are a finished map made at start: this is
/// what every page load fetches (BENCHMARKS.md).
pub async fn serve(Query(q): Query<VersionQuery>, request: Request, https: bool) -> Response {
    let path = request.uri().path().strip_prefix("/static/").unwrap_or_default();
    let Some(file) = PREPARED.get(path) else {
        // Asked for by a page's <link> or <script>, never read by a person: a plain 404.
        return security::add_headers((StatusCode::NOT_FOUND, "Not found").into_response(), https);
    };
    let headers = request.headers();
    let chosen = match &file.gzip {
        Some(gzip) if accepts_gzip(headers) => gzip,
        _ => &file.plain,
    };
    let mut answer = chosen.headers[usize::from(https)].clone();
    let etag = answer.get(header::ETAG);
    let status = if etag.is_some() && headers.get(header::IF_NONE_MATCH) == etag {
        StatusCode::NOT_MODIFIED
    } else {
        StatusCode::OK
    };
    if q.v.is_some() && q.v.as_ref() == VERSIONS.get(path) {
        answer.insert(header::CACHE_CONTROL, HeaderValue::from_static(IMMUTABLE));
    }
    let mut response = if status == StatusCode::OK {
        Response::new(axum::body::Body::from(chosen.body.clone()))
    } else {
        // Not modified: no body, and nothing that describes one.
        answer.remove(header::CONTENT_ENCODING);
        let mut r = Response::new(axum::body::Body::empty());
        *r.status_mut() = status;
        r
    };
    *response.headers_mut() = answer;
    response
}

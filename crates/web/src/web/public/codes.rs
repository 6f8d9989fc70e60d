//! What a QR code opens: the scan page `/c/{code}`, the QR images, the placard to print, and the
//! tenant's published public keys. The scan page needs no login and no script.

use askama::Template;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use image::{ImageEncoder, Luma};
use qrcode::render::svg;
use qrcode::{EcLevel, QrCode};
use serde::Deserialize;

use crate::error::{AppError, AppResult, HttpResult};
use crate::http::extract::{Json, Path, Query};
use crate::state::AppState;
use crate::web::layout::{Page, render};
use crate::web::public::problem::{ProblemPage, not_genuine};
use nightmarket_domain::code::{Colour, cause};
use nightmarket_domain::rating::stars_text;
use nightmarket_services::codes::CodeRow;
use nightmarket_services::codes::{self, KeyDocument, Scan};
use nightmarket_services::ratings::Tonight;
use nightmarket_services::scan::{self, ScanData, Scanned};
use std::sync::Arc;

#[derive(Deserialize)]
pub struct Signed {
    k: Option<String>,
    s: Option<String>,
}

#[derive(Template)]
#[template(path = "public/scan.html")]
struct ScanPage {
    page: Page,
    data: Arc<ScanData>,
    colour: Colour,
    causes: Vec<String>,
    facts: Vec<(&'static str, String)>,
    tonight: Tonight,
    /// The signed query of the code's URL, for the links to rate and complain.
    query: String,
    notice: Option<String>,
    /// Why the stall cannot be rated now (the button is shown disabled with it), if it cannot.
    rate_closed: Option<String>,
    /// Why no voucher can be used here now, if none can.
    voucher_closed: Option<String>,
}

impl ScanPage {
    fn category_label(&self) -> &'static str {
        self.data.code.category.label_key()
    }

    /// "★★★★☆ 4.3 · 128 ratings", or that there are none yet.
    fn rating_line(&self) -> String {
        match self
            .data
            .score
            .as_ref()
            .and_then(|s| s.average.map(|a| (a, s.inputs.rating_count)))
        {
            Some((avg, n)) => format!(
                "{} {avg:.1} · {}",
                stars_text(avg.round() as i16),
                self.page.tr("scan.rating_count", "n", n)
            ),
            None => self.page.t("scan.no_ratings"),
        }
    }

    fn stars(&self, n: &i16) -> String {
        stars_text(*n)
    }
}

/// The licence facts as shown: each credential as it is now (masked number, expiry, and its
/// status when it is not valid), then the credit code from the application.
fn facts(data: &ScanData, page: &Page) -> AppResult<Vec<(&'static str, String)>> {
    use nightmarket_domain::credential::Status;
    use nightmarket_domain::identity::mask_licence;
    let mut out = Vec::new();
    for c in &data.credentials {
        let (kind, status) = (c.kind, c.status);
        let mut text = if c.number.is_empty() {
            String::new()
        } else {
            mask_licence(&c.number)
        };
        if let Some(e) = c.expires_on {
            if !text.is_empty() {
                text.push_str(" · ");
            }
            text.push_str(&page.tr("scan.valid_until", "date", e));
        }
        let warning = match status {
            Status::Valid => None,
            Status::Invalid => Some("scan.credential_invalid"),
            Status::Expired => Some("scan.credential_expired"),
        };
        if let Some(key) = warning {
            text.push_str(" · ");
            text.push_str(&page.t(key));
        }
        out.push((kind.label_key(), text));
    }
    if let Some(uscc) = &data.code.licence_facts.uscc {
        out.push(("scan.uscc", uscc.number.clone()));
    }
    Ok(out)
}

#[derive(Deserialize)]
pub struct ScanQuery {
    k: Option<String>,
    s: Option<String>,
    /// A notice after a rating or complaint (`rated`).
    done: Option<String>,
}

/// The scan page as sent: never from a cache in between (a colour can change at any moment).
fn scan_response(body: axum::body::Bytes, gzipped: bool) -> Response {
    let mut response = body.into_response();
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    if gzipped {
        h.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
    }
    response
}

/// The scan pages as last sent to anyone not signed in, gzipped, by code and variant (language
/// and what the clock decides): a crowd scanning one stall costs one render and one compression
/// per change of its data, not one per phone. An entry is used only with the very data it was
/// rendered from, so a change (a new read, a new `Arc`) is never shown stale; the entries go
/// with the scan cache's (same size, same backstop).
#[derive(Clone)]
pub struct ScanPages(moka::sync::Cache<(uuid::Uuid, u64), (Arc<ScanData>, axum::body::Bytes)>);

impl Default for ScanPages {
    fn default() -> Self {
        ScanPages(
            moka::sync::Cache::builder()
                .max_capacity(50_000)
                .time_to_live(std::time::Duration::from_secs(300))
                .build(),
        )
    }
}

impl ScanPages {
    fn variant(
        lang: crate::i18n::Lang,
        tonight: Tonight,
        rate_closed: Option<&str>,
        voucher_closed: Option<&str>,
    ) -> u64 {
        use std::hash::{Hash, Hasher};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        (lang.code(), tonight, rate_closed, voucher_closed).hash(&mut h);
        h.finish()
    }

    fn get(&self, data: &Arc<ScanData>, variant: u64) -> Option<axum::body::Bytes> {
        self.0
            .get(&(data.code.id, variant))
            .filter(|(from, _)| Arc::ptr_eq(from, data))
            .map(|(_, bytes)| bytes)
    }

    /// The page gzipped, kept for the next phones; None (and nothing kept) should compressing
    /// fail, when it is sent as it is.
    fn keep(&self, data: &Arc<ScanData>, variant: u64, html: &[u8]) -> Option<axum::body::Bytes> {
        let gz = crate::http::assets::gzip(html, flate2::Compression::default())?;
        self.0.insert((data.code.id, variant), (data.clone(), gz.clone()));
        Some(gz)
    }
}

/// `/c/{code}`, and `/c/{code}.svg` / `/c/{code}.png` for the QR image of the same signed URL.
pub async fn scan(
    State(state): State<AppState>,
    page: Page,
    headers: axum::http::HeaderMap,
    jar: axum_extra::extract::cookie::CookieJar,
    Path(code): Path<String>,
    Query(q): Query<ScanQuery>,
) -> HttpResult<Response> {
    let signed = Signed { k: q.k, s: q.s };
    if let Some(code) = code.strip_suffix(".svg") {
        return qr(&state, code, &signed, Image::Svg).await;
    }
    if let Some(code) = code.strip_suffix(".png") {
        return qr(&state, code, &signed, Image::Png).await;
    }
    match scan::scan(&state.ctx, &code, signed.k.as_deref(), signed.s.as_deref()).await? {
        Scanned::Genuine(data) => {
            let colour = data.code.colour;
            let now = state.ctx.clock.now();
            let tonight = data.tonight(now);
            // Counted in memory (services::scan_counts); a device once a night as a visitor.
            let (device, cookie) = crate::web::public::shopper::device(&jar, &state);
            let hour = chrono::Timelike::hour(&now.with_timezone(&data.tenant.timezone));
            state
                .ctx
                .scan_counts
                .record(data.tenant.id, data.code.id, data.night_at(now), hour, device);
            let notice = match q.done.as_deref() {
                Some("rated") => Some(page.t("rating.thanks")),
                Some("held") => Some(page.t("rating.held_thanks")),
                _ => None,
            };
            let rate_closed = crate::web::public::shopper::rating_closed(&data, &page, now);
            let voucher_closed = voucher_closed(&data, colour, tonight, &page);
            // What the page shows depends on the code's data (one `Arc` per read: a change is a
            // new one), the language and what the clock decides; at its own URL, for anyone not
            // signed in and without a notice, it is the same bytes, kept gzipped (ScanPages).
            let canonical = page.path == codes::url_path(&data.code);
            let variant = (canonical && page.user.is_none() && notice.is_none())
                .then(|| ScanPages::variant(page.lang, tonight, rate_closed.as_deref(), voucher_closed.as_deref()));
            let gzip = crate::http::assets::accepts_gzip(&headers);
            if let Some(variant) = variant
                && gzip
                && let Some(bytes) = state.scan_pages.get(&data, variant)
            {
                return Ok(crate::web::public::shopper::with_cookie(
                    scan_response(bytes, true),
                    cookie,
                ));
            }
            let causes = data
                .causes
                .iter()
                .filter(|c| c.colour == Colour::Red || colour != Colour::Red)
                .map(|c| page.t(cause::label_key(&c.kind)))
                .collect();
            let facts = facts(&data, &page)?;
            let query = codes::url_path(&data.code)
                .split_once('?')
                .map(|(_, q)| q.to_string())
                .unwrap_or_default();
            let html = render(&ScanPage {
                rate_closed,
                voucher_closed,
                page,
                colour,
                causes,
                facts,
                tonight,
                query,
                notice,
                data: data.clone(),
            })?;
            let kept = variant
                .filter(|_| gzip)
                .and_then(|variant| state.scan_pages.keep(&data, variant, html.0.as_bytes()));
            let response = match kept {
                Some(gz) => scan_response(gz, true),
                None => scan_response(html.0.into(), false),
            };
            Ok(crate::web::public::shopper::with_cookie(response, cookie))
        }
        Scanned::Revoked(data) => {
            let html = render(&ProblemPage {
                title: page.t("scan.revoked_title"),
                message: page.t("scan.revoked"),
                stall: Some(format!("{} · {}", data.code.stall_name, data.code.slot_code)),
                page,
            })?;
            Ok((StatusCode::GONE, html).into_response())
        }
        Scanned::NotGenuine => Ok(not_genuine(page)?),
    }
}

/// Why a voucher cannot be used at this stall now (the colour, the tenant's setting for yellow,
/// or not trading), if it cannot: the redeem form would only refuse it.
fn voucher_closed(data: &ScanData, colour: Colour, tonight: Tonight, page: &Page) -> Option<String> {
    match colour {
        Colour::Red => return Some(page.t("redeem.stall_red")),
        Colour::Yellow if !data.vouchers_at_yellow => return Some(page.t("redeem.stall_not_green")),
        _ => {}
    }
    (tonight != Tonight::Open).then(|| page.t("redeem.not_trading"))
}

enum Image {
    Svg,
    Png,
}

/// The QR image encodes the full signed URL, with error correction level M.
async fn qr(state: &AppState, code: &str, q: &Signed, kind: Image) -> HttpResult<Response> {
    let row = match codes::scan(&state.ctx, code, q.k.as_deref(), q.s.as_deref()).await? {
        Scan::Genuine { code, .. } | Scan::Revoked { code, .. } => code,
        Scan::NotGenuine => return Err(AppError::NotFound.into()),
    };
    let url = state.ctx.absolute_url(&codes::url_path(&row));
    let qr =
        QrCode::with_error_correction_level(url.as_bytes(), EcLevel::M).map_err(|e| AppError::Internal(e.into()))?;
    let (content_type, body) = match kind {
        Image::Svg => {
            let svg = qr
                .render::<svg::Color>()
                .min_dimensions(300, 300)
                .quiet_zone(true)
                .dark_color(svg::Color("#000000"))
                .light_color(svg::Color("#ffffff"))
                .build();
            ("image/svg+xml", svg.into_bytes())
        }
        Image::Png => {
            let img = qr.render::<Luma<u8>>().module_dimensions(8, 8).quiet_zone(true).build();
            let mut png = Vec::new();
            image::codecs::png::PngEncoder::new(&mut png)
                .write_image(img.as_raw(), img.width(), img.height(), image::ExtendedColorType::L8)
                .map_err(|e| AppError::Internal(e.into()))?;
            ("image/png", png)
        }
    };
    let mut response = body.into_response();
    let h = response.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    // The image of a URL never changes.
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=86400"));
    Ok(response)
}

/// The URL as printed: the server's public URL and the code's path.
#[derive(Template)]
#[template(path = "public/placard.html")]
struct Placard {
    page: Page,
    code: CodeRow,
    svg_path: String,
    scan_path: String,
    hotline: String,
    tenant_name: String,
}

/// `/c/{code}/print`: an A6 placard to hang at the stall. Always in Chinese: it is read by the
/// market's shoppers, whatever language the printing browser prefers.
pub async fn placard(
    State(state): State<AppState>,
    page: Page,
    Path(code): Path<String>,
    Query(q): Query<Signed>,
) -> HttpResult<Response> {
    let page = Page {
        lang: crate::i18n::Lang::Zh,
        ..page
    };
    let (tenant, row) = match codes::scan(&state.ctx, &code, q.k.as_deref(), q.s.as_deref()).await? {
        Scan::Genuine { tenant, code, .. } => (tenant, code),
        Scan::Revoked { .. } => return Err(AppError::Conflict(crate::error::Msg::new("code.revoked")).into()),
        Scan::NotGenuine => return Err(AppError::NotFound.into()),
    };
    let scan_path = codes::url_path(&row);
    let svg_path = scan_path.replacen('?', ".svg?", 1);
    let hotline = codes::settings(&state.ctx, &tenant).await?.complaint_hotline;
    Ok(render(&Placard {
        page,
        code: row,
        svg_path,
        scan_path,
        hotline,
        tenant_name: tenant.name,
    })?
    .into_response())
}

/// `/t/{tenant}/code-key`: the tenant's public keys, to check codes offline.
pub async fn key_document(State(state): State<AppState>, Path(slug): Path<String>) -> HttpResult<Json<KeyDocument>> {
    let tenant = state.ctx.tenant(&slug).await?;
    Ok(Json(codes::key_document(&state.ctx, &tenant).await?))
}

//! Files in and out: reading an upload form, and answering with a stored document.

use axum::body::Body;
use axum::extract::Multipart;
use axum::http::{HeaderValue, header};
use axum::response::Response;

use crate::error::{AppError, AppResult, Msg};

/// Reads the upload form: a kind and a file. The file's own name and type are ignored.
pub async fn read_upload(mut multipart: Multipart) -> AppResult<(String, Vec<u8>)> {
    let mut kind = None;
    let mut bytes = None;
    while let Some(field) = multipart.next_field().await.map_err(upload_error)? {
        match field.name() {
            Some("kind") => kind = Some(field.text().await.map_err(upload_error)?),
            Some("file") => bytes = Some(field.bytes().await.map_err(upload_error)?.to_vec()),
            _ => {}
        }
    }
    let bytes = bytes.ok_or_else(|| AppError::field("file", "document.empty"))?;
    Ok((kind.unwrap_or_else(|| "other".into()), bytes))
}

fn upload_error(e: axum::extract::multipart::MultipartError) -> AppError {
    if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
        AppError::PayloadTooLarge
    } else {
        AppError::BadRequest(Msg::with_detail("error.form_invalid", e.body_text()))
    }
}

/// A document's bytes, with its sniffed type; never cached by anything in between.
pub fn document_response(content_type: String, bytes: Vec<u8>) -> Response {
    let mut response = Response::new(Body::from(bytes));
    let h = response.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&content_type) {
        h.insert(header::CONTENT_TYPE, v);
    }
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("private, no-store"));
    h.insert(header::CONTENT_DISPOSITION, HeaderValue::from_static("inline"));
    response
}

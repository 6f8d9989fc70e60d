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

/// A multipart form with text fields (a name may repeat, as with checkboxes) and files. A file
/// part sent empty (a file input left blank) is dropped.
#[derive(Debug, Default)]
pub struct Form {
    pub fields: Vec<(String, String)>,
    pub files: Vec<(String, Vec<u8>)>,
}

impl Form {
    pub async fn read(mut multipart: Multipart) -> AppResult<Form> {
        let mut form = Form::default();
        while let Some(field) = multipart.next_field().await.map_err(upload_error)? {
            let Some(name) = field.name().map(str::to_string) else {
                continue;
            };
            if field.file_name().is_some() {
                let bytes = field.bytes().await.map_err(upload_error)?;
                if !bytes.is_empty() {
                    form.files.push((name, bytes.to_vec()));
                }
            } else {
                form.fields.push((name, field.text().await.map_err(upload_error)?));
            }
        }
        Ok(form)
    }

    /// The first value of a text field, or "".
    pub fn text(&self, name: &str) -> &str {
        self.fields
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
            .unwrap_or("")
    }

    /// Every value of a text field.
    pub fn all(&self, name: &str) -> Vec<String> {
        self.fields
            .iter()
            .filter(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
            .collect()
    }

    /// Every file sent under `name`.
    pub fn files(&self, name: &str) -> Vec<Vec<u8>> {
        self.files
            .iter()
            .filter(|(n, _)| n == name)
            .map(|(_, b)| b.clone())
            .collect()
    }
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

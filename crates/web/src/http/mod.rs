//! Cross-cutting HTTP concerns shared by pages and the API: extractors, error rendering,
//! security headers and the cross-site check, admission control, client addresses, static assets, metrics.

pub mod admission;
pub mod assets;
pub mod client;
pub mod errors;
pub mod extract;
pub mod files;
pub mod metrics;
pub mod security;

/// Uploads of documents: 5 MB a file is refused with a clear message up to here, and beyond this
/// the body is cut off with 413.
pub const UPLOAD_BODY_LIMIT: usize = 8 * 1024 * 1024;

//! Cross-cutting HTTP concerns shared by pages and the API: extractors, error rendering,
//! security headers and the cross-site check, client addresses, static assets, metrics.

pub mod assets;
pub mod client;
pub mod errors;
pub mod extract;
pub mod files;
pub mod metrics;
pub mod security;

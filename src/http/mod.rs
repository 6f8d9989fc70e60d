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

//! HTML pages, one module per audience. Handlers are thin: they read the request, call a
//! service, and render a template from `templates/` (which mirrors this folder).

pub mod account;
pub mod admin_markets;
pub mod admin_staff;
pub mod layout;
pub mod public;
pub mod workspace;

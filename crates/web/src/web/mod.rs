//! HTML pages, one folder per audience as in `templates/`: `public`, `account`, `vendor`,
//! `official`, `admin`; beside them what every page shares (`layout`, `filters`, `charts`,
//! `pdf`). Handlers are thin: they read the request, call a use case, and render a template.
//! Which audience may enter which folder's routes is decided once, in the route table
//! (`app.rs`); what a person may do there is decided by the use case.

pub mod account;
pub mod admin;
pub mod charts;
pub mod filters;
pub mod layout;
pub mod official;
pub mod pdf;
pub mod plan;
pub mod public;
pub mod vendor;

//! HTML pages, one module per audience. Handlers are thin: they read the request, call a
//! service, and render a template from `templates/` (which mirrors this folder).

pub mod account;
pub mod admin_markets;
pub mod admin_settings;
pub mod admin_staff;
pub mod admin_supervision;
pub mod admin_vouchers;
pub mod audit;
pub mod charts;
pub mod codes;
pub mod complaints;
pub mod credit;
pub mod filters;
pub mod goods;
pub mod insights;
pub mod layout;
pub mod numbers;
pub mod oversight;
pub mod payee;
pub mod pdf;
pub mod public;
pub mod review;
pub mod shopper;
pub mod signup;
pub mod stall;
pub mod vendor;
pub mod vouchers;
pub mod workspace;

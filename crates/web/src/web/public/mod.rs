//! Pages anyone may open, signed in or not: the tenant and market pages, the scan page and its placard, rating and complaining, tracking a complaint, vouchers for shoppers.

pub mod codes;
pub mod lottery;
pub mod markets;
pub mod problem;
pub mod shopper;
pub mod vouchers;

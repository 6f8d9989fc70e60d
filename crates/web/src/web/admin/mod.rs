//! A tenant admin's pages: markets and slots, settings and signing keys, staff, API keys and inspection problems, voucher campaigns and settlement, the audit log.

pub mod audit;
pub mod erasure;
pub mod lottery;
pub mod markets;
pub mod plan;
pub mod settings;
pub mod staff;
pub mod supervision;
pub mod vouchers;

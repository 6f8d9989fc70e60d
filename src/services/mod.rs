//! Use cases that read or change state. Each opens its tenant-scoped transaction, applies the
//! domain rules, writes the audit record for every change, and commits. Pages (`web`) and the
//! JSON API (`api`) are thin layers over these functions.

pub mod accounts;
pub mod applications;
pub mod audit;
pub mod checkins;
pub mod codes;
pub mod complaints;
pub mod credentials;
pub mod credit;
pub mod disputes;
pub mod goods;
pub mod insights;
pub mod inspections;
pub mod jobs;
pub mod live;
pub mod markets;
pub mod notices;
pub mod numbers;
pub mod otp;
pub mod payees;
pub mod pdf;
pub mod ratings;
pub mod review;
pub mod scan;
pub mod scan_counts;
pub mod scores;
pub mod settings;
pub mod shopper;
pub mod sms;
pub mod supervision;
pub mod tenants;
pub mod vendors;
pub mod vouchers;

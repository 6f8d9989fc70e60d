//! Use cases that read or change state. Each opens its tenant-scoped transaction, applies the
//! domain rules, writes the audit record for every change, and commits. Pages (`web`) and the
//! JSON API (`api`) are thin layers over these functions.

pub mod accounts;
pub mod audit;
pub mod markets;
pub mod tenants;

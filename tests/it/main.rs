//! Integration tests: the real application over HTTP against a real PostgreSQL.
//! One test binary (one link, one private cluster per run); one module per area.

mod helpers;
mod instances;

mod applications;
mod audit;
mod auth;
mod browser;
mod cli;
mod integrity;
mod isolation;
mod markets;
mod numbers;
mod ops;
mod pages;
mod proxy;
mod scan;
mod security;
mod supervision;
mod vendor_tools;
mod vouchers;

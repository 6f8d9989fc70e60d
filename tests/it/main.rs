//! Integration tests: the real application over HTTP against a real PostgreSQL.
//! One test binary (one link, one private cluster per run); one module per feature.

mod fixtures;
mod helpers;
mod hotline;
mod instances;

mod applications;
mod audit;
mod auth;
mod browser;
mod checkins;
mod cli;
mod codes;
mod complaints;
mod credentials;
mod inspections;
mod integrity;
mod isolation;
mod lottery;
mod markets;
mod numbers;
mod open311;
mod ops;
mod pages;
mod patrol;
mod plans;
mod privacy;
mod proxy;
mod ratings;
mod scan;
mod security;
mod sms;
mod supervision;
mod vendor_tools;
mod vouchers;

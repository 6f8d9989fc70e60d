//! nightmarket: a multi-tenant platform on which city and district governments run digital
//! night markets. See README.md for how to run it and docs/ARCHITECTURE.md for how it is built.
//!
//! The binary (`src/main.rs`) only parses the command line; everything else is here so that the
//! integration tests in `tests/` can start the real application.

pub mod api;
pub mod app;
pub mod auth;
pub mod cli;
pub mod config;
pub mod demo;
pub mod embedded_pg;
pub mod error;
pub mod http;
pub mod i18n;
pub mod startup;
pub mod state;
pub mod telemetry;
pub mod web;

//! nightmarket's HTTP layer: the pages (`web`), the JSON API and Open311 (`api`), what every request
//! passes through (`http`), who is asking (`auth`), the one route table (`app`) and the state
//! handlers share (`state`). Handlers parse, call one use case of `nightmarket-services`, and
//! render; they never run a query. The binary (`nightmarket`) starts it.

pub mod api;
pub mod app;
pub mod auth;
pub mod config;
pub mod error;
pub mod exports;
pub mod http;
pub mod i18n;
pub mod state;
pub mod web;

//! What nightmarket reads from outside, parsed and validated with no I/O: resident ID and unified
//! social credit numbers, mobile numbers, opening hours, positions and geofences, tenant slugs,
//! signed code URLs, credit-record codes, Open311 forms and credential events with their HMAC.
//!
//! The server uses these through its `domain` and `services` modules. They live in a crate of
//! their own so that `fuzz/` can build them, with coverage instrumentation, in a minute rather
//! than instrumenting the whole server; `fuzzing` (built only for tests and cargo-fuzz) holds the
//! checks the fuzz targets run.

#![forbid(unsafe_code)]

pub mod bank;
pub mod code_url;
pub mod credential;
pub mod form;
// The fuzz checks and their reference implementations: built for tests and for cargo-fuzz (which
// passes `--cfg fuzzing`), never into the server.
#[cfg(any(test, fuzzing))]
pub mod fuzzing;
pub mod geo;
pub mod hours;
pub mod identity;
pub mod phone;
pub mod record_code;
pub mod slug;

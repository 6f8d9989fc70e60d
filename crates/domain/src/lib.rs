//! The domain of nightmarket: identifiers, validated values, states and their transitions, and the
//! messages that say why an input is refused. No I/O — no clock, no random source, no database
//! (rows only name the types they are read as) — so everything here is unit-tested beside the
//! code, and every other crate of the workspace may use it while it uses none of them.

pub mod application;
pub mod audit;
pub mod burst;
pub mod calendar;
pub mod case;
pub mod checkin;
pub mod code;
pub mod complaint;
pub mod credential;
pub mod figures;
pub mod insight;
pub mod lottery;
pub mod market;
pub mod msg;
pub mod notice;
pub mod people;
pub mod plan;
pub mod rating;
pub mod record;
pub mod score;
pub mod tenant;
pub mod ticket;
pub mod voucher;

// Parsers and validators of outside input live in their own crate, small enough to fuzz.
pub use nightmarket_input::{geo, hours, identity};

//! Types and rules with no I/O: identifiers, validated values, states and their transitions.
//! Everything here is unit-tested beside the code.

pub mod application;
pub mod audit;
pub mod burst;
pub mod checkin;
pub mod code;
pub mod complaint;
pub mod credential;
pub mod figures;
pub mod insight;
pub mod market;
pub mod notice;
pub mod people;
pub mod rating;
pub mod record;
pub mod score;
pub mod tenant;
pub mod ticket;
pub mod voucher;

// Parsers and validators of outside input live in their own crate, small enough to fuzz.
pub use nightmarket_input::{geo, hours, identity};

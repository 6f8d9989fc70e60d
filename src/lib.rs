//! nightmarket: a multi-tenant platform on which city and district governments run digital
//! night markets. See README.md for how to run it and docs/ARCHITECTURE.md for how it is built.
//!
//! The binary's library: the command line, start-up (data directory, secrets, the database,
//! migrations, operator commands), the private PostgreSQL cluster and the demo seed. The HTTP layer
//! is `nightmarket-web`, the use cases `nightmarket-services`. `src/main.rs` only parses the
//! command line; the integration tests in `tests/` start the real application through here.

pub mod backup;
pub mod cli;
pub mod demo;
pub mod embedded_pg;
pub mod startup;
pub mod telemetry;

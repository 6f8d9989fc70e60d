//! Consumption vouchers (消费券): the campaigns a tenant admin runs, shoppers signing in with a
//! verified number, the claim (batched), redemption at a stall, settlement with the vendors, and
//! the fraud flags. Each is a room of its own; the use cases are all reachable as `vouchers::…`.
mod campaigns;
mod claims;
mod flags;
mod redemption;
mod settlement;
mod shoppers;

pub use campaigns::*;
pub use claims::*;
pub use flags::*;
pub use redemption::*;
pub use settlement::*;
pub use shoppers::*;

use chrono::{DateTime, Utc};
use serde::Serialize;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tokio::sync::{mpsc, oneshot};
use uuid::Uuid;

use crate::Ctx;
use crate::audit::{self, ActorKind, Author, Change};
use crate::error::{AppError, AppResult, Msg};
use crate::otp::{self, Purpose};
use crate::pii::Place;
use nightmarket_db::vouchers::{CampaignRow, Take, VoucherRow};
use nightmarket_db::{self as db, TenantTx};
use nightmarket_domain::code::Colour;
use nightmarket_domain::people::Actor;
use nightmarket_domain::people::Phone;
use nightmarket_domain::tenant::{Tenant, TenantId};
use nightmarket_domain::voucher::{self, State, Step, Terms};

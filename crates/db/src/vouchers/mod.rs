//! Campaigns, shoppers and vouchers: one room per table group (campaigns, shoppers, the vouchers
//! held, redemptions, settlement, figures, flags), all reached as `vouchers::…`.

mod campaigns;
mod figures;
mod flags;
mod held;
mod redemptions;
mod settlement;
mod shoppers;

pub use campaigns::*;
pub use figures::*;
pub use flags::*;
pub use held::*;
pub use redemptions::*;
pub use settlement::*;
pub use shoppers::*;

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::TenantTx;
use nightmarket_domain::voucher::{State, Terms};

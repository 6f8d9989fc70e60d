//! Complaints (投诉): filing from a scan page or a hotline system, the shopper's tracking page,
//! the officials' queue with its deadlines and claims, the vendor's answer, and reopening.
//!
//! Every change is one transaction: the complaint, its public timeline, the audit record, the
//! stall's score and causes (`supervision::sync_vendor`) and the notices commit together.

mod answers;
mod deadlines;
mod evidence;
mod filing;
mod handling;
mod tracking;

pub use answers::*;
pub use deadlines::*;
pub use evidence::*;
pub use filing::*;
pub use handling::*;
pub use tracking::*;

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::Ctx;
use crate::applications::{MAX_DOCUMENT_BYTES, sniff};
use crate::audit::{self, Author, Change};
use crate::error::{AppError, AppResult, FieldError, Msg};
use crate::i18n::Lang;
use crate::otp::{self, Purpose};
use crate::pii::Place;
use crate::ratings::Tonight;
use crate::shopper::Shopper;
use crate::{live, notices, sms, supervision};
use nightmarket_db::codes::CodeRow;
/// A step of a complaint's history.
pub use nightmarket_db::complaints::EventRow;
use nightmarket_db::complaints::{ComplaintFilter, ComplaintRow, NewComplaint};
use nightmarket_db::{self as db, TenantTx};
use nightmarket_domain::burst;
use nightmarket_domain::calendar::{DayKind, WorkCalendar};
use nightmarket_domain::complaint::{
    self, Action, Category, CategoryRules, Deadlines, FollowUp, GbtCode, StageMark, StageTimes, State, Timing,
};
use nightmarket_domain::notice::NoticeKind;
use nightmarket_domain::people::Actor;
use nightmarket_domain::people::{Permission, Phone};
use nightmarket_domain::tenant::{Tenant, TenantId};

/// A GB/T 39666 code as the database holds it (one that does not parse is an error).
fn stored_gbt(s: Option<&str>) -> AppResult<Option<GbtCode>> {
    match s {
        None => Ok(None),
        Some(s) => Ok(Some(GbtCode::parse(s).ok_or_else(|| {
            anyhow::anyhow!("complaint_deadlines.gbt_code {s:?} is not a GB/T 39666 code")
        })?)),
    }
}

/// At most this many photos per complaint.
pub const MAX_PHOTOS: usize = 3;
/// How long a claim keeps other officials off a complaint.
pub const CLAIM_MINUTES: i64 = 30;

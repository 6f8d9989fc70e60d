//! The records behind the figures, exported over a range.

use super::*;

/// The records behind the figures that may be exported over a range.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RecordKind {
    Applications,
    Complaints,
    Inspections,
    /// Each vendor's settled and unsettled voucher days (admins only).
    Settlements,
}

impl RecordKind {
    pub const ALL: [RecordKind; 4] = [
        RecordKind::Applications,
        RecordKind::Complaints,
        RecordKind::Inspections,
        RecordKind::Settlements,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            RecordKind::Applications => "applications",
            RecordKind::Complaints => "complaints",
            RecordKind::Inspections => "inspections",
            RecordKind::Settlements => "settlements",
        }
    }

    pub fn parse(s: &str) -> Option<RecordKind> {
        RecordKind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// The records of one kind over a range, personal data masked.
pub enum Records {
    Applications(Vec<db::numbers::ApplicationRecord>),
    Complaints(Vec<db::numbers::ComplaintRecord>),
    Inspections(Vec<db::numbers::InspectionRecord>),
    Settlements(Vec<crate::vouchers::VendorDay>),
}

/// The records of `kind` over the range of `q`.
pub async fn records(ctx: &Ctx, user: &Actor, kind: RecordKind, q: &RangeQuery) -> AppResult<Records> {
    user.require_staff()?;
    let now = ctx.clock.now();
    let mut tx = ctx.db.tenant(user.tenant_id()).await?;
    let Scope { range, window, .. } = scope(&mut tx, user.tenant.timezone, q, now).await?;
    let records = match kind {
        RecordKind::Applications => Records::Applications(db::numbers::application_records(&mut tx, &window).await?),
        RecordKind::Complaints => Records::Complaints(db::numbers::complaint_records(&mut tx, &window).await?),
        RecordKind::Inspections => Records::Inspections(db::numbers::inspection_records(&mut tx, &window).await?),
        RecordKind::Settlements => {
            tx.commit().await?;
            return Ok(Records::Settlements(
                crate::vouchers::settlement(ctx, user, range.from, range.to, false).await?,
            ));
        }
    };
    tx.commit().await?;
    Ok(records)
}

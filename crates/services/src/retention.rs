//! How long personal data is kept (PIPL art. 19: no longer than its purpose needs), in one place.
//! The sweeper applies the schedule once per period across every instance (`supervision::sweep`,
//! claimed in `job_runs`), per tenant in the tenant's own transaction, and writes one audit
//! record per tenant and pass saying how much of each kind it removed (the removed rows' values are
//! not copied into the trail).
//!
//! | kind | purpose | kept |
//! |---|---|---|
//! | scan visitors' device hashes | counting a night's distinct visitors once | 2 nights after the night |
//! | hourly scan counts | a vendor's insights over recent months | 400 nights |
//! | one-time SMS codes (hashed, with the number's blind index) | checking the code | 1 day after expiry |
//! | text messages sent (number sealed, body) | delivery and a complaint about it | 30 days, then removed whole |
//! | a complainant's contact number | answering, the hotline's follow-up call (回访), a reopening | 180 days after the complaint closed; the complaint stays |
//! | documents of a rejected or withdrawn application | answering a question or an objection | the tenant's `rejected_documents_days` (30–1095, 180 by default) after the decision; the application stays |
//!
//! A departed vendor's data on request (PIPL art. 47) is not a period but a decision:
//! `services::erasure`.

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;

use nightmarket_db::{self as db, Db};

use crate::audit::{self, Author, Change};

/// One kind of data and how long it is kept.
#[derive(Clone, Copy, Debug)]
pub struct Rule {
    pub kind: &'static str,
    pub keep: Duration,
}

/// The schedule, as the module's table says.
pub const SCAN_VISITORS: Rule = Rule {
    kind: "scan_visitors",
    keep: Duration::days(2),
};
pub const SCAN_HOURS: Rule = Rule {
    kind: "scan_hours",
    keep: Duration::days(400),
};
pub const OTP_CODES: Rule = Rule {
    kind: "otp_codes",
    keep: Duration::days(1),
};
pub const SMS: Rule = Rule {
    kind: "sms_outbox",
    keep: Duration::days(30),
};
pub const COMPLAINT_CONTACTS: Rule = Rule {
    kind: "complaint_contacts",
    keep: Duration::days(180),
};
/// The platform's default; each tenant sets its own (`tenant_settings.rejected_documents_days`).
pub const REJECTED_DOCUMENTS: Rule = Rule {
    kind: "rejected_documents",
    keep: Duration::days(180),
};
pub const SCHEDULE: [Rule; 6] = [
    SCAN_VISITORS,
    SCAN_HOURS,
    OTP_CODES,
    SMS,
    COMPLAINT_CONTACTS,
    REJECTED_DOCUMENTS,
];

/// What one pass removed, per kind, over every tenant.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Removed {
    pub scan_visitors: u64,
    pub scan_hours: u64,
    pub otp_codes: u64,
    pub sms_outbox: u64,
    pub complaint_contacts: u64,
    pub rejected_documents: u64,
}

impl Removed {
    fn total(&self) -> u64 {
        self.scan_visitors
            + self.scan_hours
            + self.otp_codes
            + self.sms_outbox
            + self.complaint_contacts
            + self.rejected_documents
    }

    fn add(&mut self, o: &Removed) {
        self.scan_visitors += o.scan_visitors;
        self.scan_hours += o.scan_hours;
        self.otp_codes += o.otp_codes;
        self.sms_outbox += o.sms_outbox;
        self.complaint_contacts += o.complaint_contacts;
        self.rejected_documents += o.rejected_documents;
    }
}

/// Applies the schedule at `now` to every tenant: removes what is due, audits each tenant's
/// removals in aggregate. Running it again removes nothing more.
pub async fn apply(database: &Db, now: DateTime<Utc>) -> anyhow::Result<Removed> {
    let mut all = Removed::default();
    for tenant in db::tenants::list(database.global()).await? {
        let today = now.with_timezone(&tenant.timezone).date_naive();
        let mut tx = database.tenant(tenant.id).await?;
        let documents_days = db::settings::get(&mut tx).await?.rejected_documents_days;
        let removed = Removed {
            scan_visitors: db::retention::scan_visitors_before(&mut tx, today - SCAN_VISITORS.keep).await?,
            scan_hours: db::retention::scan_hours_before(&mut tx, today - SCAN_HOURS.keep).await?,
            otp_codes: db::retention::otp_codes_expired_before(&mut tx, now - OTP_CODES.keep).await?,
            sms_outbox: db::retention::sms_before(&mut tx, now - SMS.keep).await?,
            complaint_contacts: db::retention::complaint_contacts_closed_before(&mut tx, now - COMPLAINT_CONTACTS.keep)
                .await?,
            rejected_documents: db::retention::rejected_documents_before(
                &mut tx,
                now - Duration::days(i64::from(documents_days)),
            )
            .await?,
        };
        if removed.total() > 0 {
            audit::record(
                &mut tx,
                &Author::system("retention"),
                Change::new("retention.apply", "tenant", tenant.id.0).after(&serde_json::json!({
                    "removed": removed,
                    "kept_days": SCHEDULE
                        .iter()
                        .map(|r| (r.kind, if r.kind == REJECTED_DOCUMENTS.kind { i64::from(documents_days) } else { r.keep.num_days() }))
                        .collect::<std::collections::BTreeMap<_, _>>(),
                })),
            )
            .await?;
        }
        tx.commit().await?;
        all.add(&removed);
    }
    Ok(all)
}

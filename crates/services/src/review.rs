//! The officials' side of applications: the review queue, the application page, claiming, and
//! deciding. A decision is made on a version of the application, by one official at a time; the
//! second of two simultaneous decisions finds it already decided and is refused.

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;
use std::collections::BTreeMap;
use uuid::Uuid;

use crate::Ctx;
use crate::applications::{ApplicationView, FreeSlot, deadline_hours, free_slots, with_documents};
use crate::audit::Author;
use crate::audit::{self, Change};
use crate::error::{AppError, AppResult, FieldError, Msg};
use crate::{codes, credentials, notices, supervision};
use nightmarket_db::applications::{self as db_apps, Filter};
use nightmarket_db::{self as db, audit::RecordRow};
use nightmarket_domain::application::{AppState as State, Decision, check_return_notes};
use nightmarket_domain::market::Category;
use nightmarket_domain::notice::NoticeKind;
use nightmarket_domain::people::Actor;
use nightmarket_domain::people::Permission;

/// How long opening an application holds it for the official.
pub const CLAIM_MINUTES: i64 = 15;

/// Which applications the queue shows.
#[derive(Clone, Debug, Default)]
pub struct QueueFilter {
    pub market: Option<Uuid>,
    pub category: Option<Category>,
    /// One state, or (None) those waiting for a decision.
    pub state: Option<State>,
}

#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct QueueCounts {
    /// Submitted or resubmitted, waiting for a decision.
    pub waiting: i64,
    /// Waiting past the tenant's review deadline.
    pub overdue: i64,
    /// Back with vendors for correction.
    pub returned: i64,
    pub approved: i64,
    pub rejected: i64,
    pub review_deadline_hours: i32,
}

#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Queue {
    pub counts: QueueCounts,
    pub items: Vec<ApplicationView>,
}

pub async fn queue(ctx: &Ctx, official: &Actor, filter: &QueueFilter) -> AppResult<Queue> {
    official.require(Permission::Review)?;
    let mut tx = ctx.db.tenant(official.tenant_id()).await?;
    let hours = deadline_hours(&mut tx).await?;
    let now = ctx.clock.now();
    let states: Vec<String> = match filter.state {
        Some(s) => vec![s.as_str().to_string()],
        None => vec![State::Submitted.as_str().into(), State::Resubmitted.as_str().into()],
    };
    let rows = db_apps::list(
        &mut tx,
        &Filter {
            states: Some(states),
            market: filter.market,
            category: filter.category.map(|c| c.as_str().to_string()),
            limit: 500,
            ..Default::default()
        },
    )
    .await?;
    let (by_state, overdue) = db_apps::counts(&mut tx, now - Duration::hours(i64::from(hours))).await?;
    let n = |s: &[State]| {
        by_state
            .iter()
            .filter(|(k, _)| s.iter().any(|x| x.as_str() == k))
            .map(|(_, n)| n)
            .sum()
    };
    Ok(Queue {
        counts: QueueCounts {
            waiting: n(&[State::Submitted, State::Resubmitted]),
            overdue,
            returned: n(&[State::Returned]),
            approved: n(&[State::Approved]),
            rejected: n(&[State::Rejected]),
            review_deadline_hours: hours,
        },
        items: rows
            .iter()
            .map(|r| ApplicationView::from_row(r, hours, now))
            .collect::<AppResult<_>>()?,
    })
}

/// Everything needed to decide.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Review {
    pub application: ApplicationView,
    /// Other applications by the same person (same ID number) in any market of the tenant.
    pub same_person: Vec<ApplicationView>,
    /// Earlier submissions and decisions, newest first.
    pub history: Vec<HistoryEntry>,
    /// Free slots of the market, of the application's category first.
    pub free_slots: Vec<FreeSlot>,
    pub market_radius_m: i32,
}

#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HistoryEntry {
    pub at: DateTime<Utc>,
    pub action: String,
    pub by: String,
    pub details: serde_json::Value,
}

impl From<RecordRow> for HistoryEntry {
    fn from(r: RecordRow) -> HistoryEntry {
        HistoryEntry {
            at: r.at,
            action: r.action,
            by: r.actor_label,
            details: r.after.unwrap_or(serde_json::Value::Null),
        }
    }
}

/// The application page for an official. With `reveal`, personal data is shown in clear, and the
/// viewing is audited.
pub async fn review(ctx: &Ctx, official: &Actor, id: Uuid, reveal: bool) -> AppResult<Review> {
    official.require(Permission::Review)?;
    let mut tx = ctx.db.tenant(official.tenant_id()).await?;
    let row = db_apps::get(&mut tx, id).await?.ok_or(AppError::NotFound)?;
    let hours = deadline_hours(&mut tx).await?;
    let now = ctx.clock.now();
    let mut application = with_documents(&mut tx, ApplicationView::from_row(&row, hours, now)?).await?;
    if reveal {
        application.reveal(&tx, &ctx.keys, &row);
        audit::record(
            &mut tx,
            &Author::of(official),
            Change::new("application.reveal", "application", id),
        )
        .await?;
    }
    let same_person = match &row.id_number_index {
        Some(index) => db_apps::list(
            &mut tx,
            &Filter {
                person: Some(index.clone()),
                except: Some(id),
                ..Default::default()
            },
        )
        .await?
        .iter()
        .map(|r| ApplicationView::from_row(r, hours, now))
        .collect::<AppResult<_>>()?,
        None => Vec::new(),
    };
    let history = db::audit::for_subject(&mut tx, "application", &id.to_string(), 50)
        .await?
        .into_iter()
        .filter(|r| r.action != "application.reveal" && r.action != "application.view_document")
        .map(HistoryEntry::from)
        .collect();
    let market = db::markets::get(&mut tx, row.market_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let free_slots = free_slots(&mut tx, row.market_id, Some(application.category)).await?;
    if reveal {
        tx.commit().await?;
    }
    Ok(Review {
        application,
        same_person,
        history,
        free_slots,
        market_radius_m: market.radius_m,
    })
}

/// Holds an application for this official for a while, so colleagues see it is being worked on.
pub async fn claim(ctx: &Ctx, official: &Actor, id: Uuid) -> AppResult<()> {
    official.require(Permission::Review)?;
    let mut tx = ctx.db.tenant(official.tenant_id()).await?;
    if !db_apps::lock(&mut tx, id).await? {
        return Err(AppError::NotFound);
    }
    let row = db_apps::get(&mut tx, id).await?.ok_or(AppError::NotFound)?;
    if !row.state.awaits_review() {
        return Err(AppError::Conflict(Msg::new("decision.not_waiting")));
    }
    let now = ctx.clock.now();
    if let (Some(by), Some(until)) = (row.claimed_by, row.claimed_until)
        && by != official.id
        && until > now
    {
        return Err(AppError::Conflict(
            Msg::new("decision.claimed").arg("name", row.claimed_by_name.unwrap_or_default()),
        ));
    }
    db_apps::claim(
        &mut tx,
        id,
        Some(official.id),
        Some(now + Duration::minutes(CLAIM_MINUTES)),
    )
    .await?;
    audit::record(
        &mut tx,
        &Author::of(official),
        Change::new("application.claim", "application", id),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// An official's decision as sent.
#[derive(Clone, Debug, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DecisionInput {
    pub decision: Decision,
    /// The version the official saw (from the application); a decision on an older one is refused.
    pub version: i32,
    /// For approval: the slot to give (defaults to the one asked for).
    #[serde(default)]
    pub slot_id: Option<Uuid>,
    /// Required to reject; shown to the vendor.
    #[serde(default)]
    pub reason: String,
    /// For a return: what to correct, per field.
    #[serde(default)]
    pub notes: BTreeMap<String, String>,
    /// For approval into a slot of another category than the application's: why (2–200
    /// characters, audited). Without it such an approval is refused.
    #[serde(default)]
    pub category_override: String,
}

/// Decides an application and, on approval, issues its code: all in one transaction, audited,
/// and the vendor told (inbox and SMS).
pub async fn decide(ctx: &Ctx, official: &Actor, id: Uuid, input: &DecisionInput) -> AppResult<ApplicationView> {
    official.require(Permission::Review)?;
    let reason = input.reason.trim();
    let mut tx = ctx.db.tenant(official.tenant_id()).await?;
    if !db_apps::lock(&mut tx, id).await? {
        return Err(AppError::NotFound);
    }
    let row = db_apps::get(&mut tx, id).await?.ok_or(AppError::NotFound)?;
    let current = row.state;
    if !current.awaits_review() {
        let by = row.decided_by_name.clone().unwrap_or_default();
        return Err(AppError::Conflict(
            Msg::new("decision.already")
                .label("state", current.label_key())
                .arg("name", by),
        ));
    }
    let now = ctx.clock.now();
    if let (Some(by), Some(until)) = (row.claimed_by, row.claimed_until)
        && by != official.id
        && until > now
    {
        return Err(AppError::Conflict(
            Msg::new("decision.claimed").arg("name", row.claimed_by_name.clone().unwrap_or_default()),
        ));
    }
    if row.version != input.version {
        return Err(AppError::Conflict(Msg::new("decision.changed")));
    }

    let mut notes = BTreeMap::new();
    let mut slot = None;
    let mut category_override: Option<String> = None;
    match input.decision {
        Decision::Reject => {
            if reason.chars().count() < 2 || reason.chars().count() > 500 {
                return Err(AppError::Validation(vec![FieldError::new(
                    "reason",
                    "decision.reason_required",
                )]));
            }
        }
        Decision::Return => notes = check_return_notes(&input.notes).map_err(|e| AppError::Validation(vec![e]))?,
        Decision::Approve => {
            let chosen = input
                .slot_id
                .or(row.slot_id)
                .ok_or_else(|| AppError::field("slot_id", "decision.slot_required"))?;
            let s = db::markets::get_slot(&mut tx, row.market_id, chosen)
                .await?
                .ok_or_else(|| AppError::field("slot_id", "application.slot_unknown"))?;
            if db::codes::slot_taken(&mut tx, chosen).await? {
                return Err(AppError::Validation(vec![FieldError::with(
                    "slot_id",
                    Msg::new("slot.taken_named").arg("slot", &s.code),
                )]));
            }
            // A food stall in a games slot: only with a stated reason, kept in the audit record.
            if s.category != row.category {
                let why = input.category_override.trim();
                if !(2..=200).contains(&why.chars().count()) {
                    return Err(AppError::Validation(vec![FieldError::with(
                        "category_override",
                        Msg::new("decision.slot_category")
                            .arg("slot", &s.code)
                            .label("slot_category", s.category.label_key())
                            .label("category", row.category.label_key()),
                    )]));
                }
                category_override = Some(why.to_string());
            }
            slot = Some(chosen);
        }
    }
    let target = input.decision.target();
    let stored_reason = (!reason.is_empty()).then_some(reason);
    if !db_apps::decide(
        &mut tx,
        id,
        input.version,
        target.as_str(),
        Some(official.id),
        stored_reason,
        &serde_json::json!(notes),
        slot,
    )
    .await?
    {
        return Err(AppError::Conflict(Msg::new("decision.changed")));
    }
    let actor = Author::of(official);
    let action = match input.decision {
        Decision::Approve => "application.approve",
        Decision::Reject => "application.reject",
        Decision::Return => "application.return",
    };
    audit::record(
        &mut tx,
        &actor,
        Change::new(action, "application", id)
            .before(&serde_json::json!({ "state": current, "version": row.version }))
            .after(&serde_json::json!({
                "state": target, "reason": stored_reason, "notes": notes, "slot": slot,
                "category_override": category_override
            })),
    )
    .await?;

    let link = format!("/vendor/applications/{id}");
    match input.decision {
        Decision::Approve => issue_approved(&mut tx, ctx, &actor, &official.tenant, id).await?,
        Decision::Reject => {
            notices::notify(
                &mut tx,
                &ctx.keys,
                row.vendor_id,
                NoticeKind::ApplicationRejected,
                &[("market", &row.market_name), ("reason", reason)],
                Some(&link),
            )
            .await?;
        }
        Decision::Return => {
            let count = notes.len().to_string();
            notices::notify(
                &mut tx,
                &ctx.keys,
                row.vendor_id,
                NoticeKind::ApplicationReturned,
                &[("market", &row.market_name), ("count", &count)],
                Some(&link),
            )
            .await?;
        }
    }
    let after = db_apps::get(&mut tx, id).await?.ok_or(AppError::NotFound)?;
    let hours = deadline_hours(&mut tx).await?;
    tx.commit().await?;
    ApplicationView::from_row(&after, hours, ctx.clock.now())
}

/// What an approval does once it is recorded, in the caller's transaction: issues the code into
/// the application's slot, turns the licences it carried into the vendor's credentials, gives the
/// code the colour they (and any penalty points) give, and tells the vendor. An official's
/// decision and a lottery's draw approve alike.
pub(crate) async fn issue_approved(
    tx: &mut db::TenantTx,
    ctx: &Ctx,
    actor: &Author,
    tenant: &nightmarket_domain::tenant::Tenant,
    id: Uuid,
) -> AppResult<()> {
    let decided = db_apps::get(tx, id).await?.ok_or(AppError::NotFound)?;
    let slot_id = decided.slot_id.ok_or(AppError::NotFound)?;
    let facts = licence_facts(&decided);
    let code = codes::issue(
        tx,
        &ctx.keys,
        tenant,
        actor,
        codes::Issue {
            vendor_id: decided.vendor_id,
            application_id: id,
            market_id: decided.market_id,
            slot_id,
            stall_name: &decided.stall_name,
            category: decided.category.as_str(),
            vendor_name_masked: decided.real_name_masked.as_deref().unwrap_or("**"),
            licence_facts: facts,
        },
    )
    .await?;
    credentials::from_application(tx, &decided).await?;
    let settings = db::settings::get(tx).await?;
    supervision::sync_vendor(
        tx,
        &ctx.keys,
        actor,
        decided.vendor_id,
        ctx.clock.now(),
        tenant.timezone,
        &settings,
    )
    .await?;
    notices::notify(
        tx,
        &ctx.keys,
        decided.vendor_id,
        NoticeKind::ApplicationApproved,
        &[
            ("market", &decided.market_name),
            ("slot", &code.slot_code),
            ("stall", &decided.stall_name),
        ],
        Some("/vendor"),
    )
    .await?;
    Ok(())
}

/// What the scan page shows of the licences: masked numbers and expiry dates.
fn licence_facts(row: &db_apps::ApplicationRow) -> nightmarket_domain::code::LicenceFacts {
    use nightmarket_domain::code::{LicenceFact, LicenceFacts, MaskedNumber};
    use nightmarket_domain::identity::{mask_id_number, mask_licence};
    let fact = |number: &Option<String>, expires: Option<chrono::NaiveDate>| match (number, expires) {
        (Some(n), Some(e)) => Some(LicenceFact {
            number: mask_licence(n),
            expires: e,
        }),
        _ => None,
    };
    LicenceFacts {
        food_licence: fact(&row.food_licence_no, row.food_licence_expires),
        health_cert: fact(&row.health_cert_no, row.health_cert_expires),
        uscc: row.uscc.as_ref().map(|u| MaskedNumber {
            number: mask_id_number(u),
        }),
    }
}

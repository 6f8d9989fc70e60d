//! The officials' side: the queue with its deadlines, claiming a complaint, and each step of
//! handling it (acknowledge, assign, resolve, reject), with the SMS that tells the shopper.

use super::*;

/// A complaint as officials see it (the contact masked).
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ComplaintView {
    pub id: Uuid,
    pub tracking: String,
    pub code_id: Uuid,
    pub stall_name: String,
    pub slot_code: String,
    pub market_id: Uuid,
    pub market_name: String,
    pub category: Category,
    pub description: String,
    /// scan or open311.
    pub source: String,
    pub contact_phone_masked: Option<String>,
    pub state: State,
    pub evidence: serde_json::Value,
    pub created_at: DateTime<Utc>,
    pub ack_due_at: DateTime<Utc>,
    pub resolve_due_at: DateTime<Utc>,
    pub timing: Timing,
    pub upheld: Option<bool>,
    pub resolution: Option<String>,
    pub vendor_answer: Option<String>,
    pub reopened: bool,
    pub claimed_by: Option<String>,
    pub claimed_by_id: Option<Uuid>,
    pub claimed_until: Option<DateTime<Utc>>,
    pub photo_ids: Vec<Uuid>,
    pub updated_at: DateTime<Utc>,
    /// Open311's public id of the request.
    pub public_id: String,
    /// Held for screening because it came in a burst (address_burst or stall_burst).
    pub held_reason: Option<String>,
    /// Whether it counts toward the code's colour while unresolved: a number verified by SMS,
    /// the hotline's intake, or accepted by an official.
    pub weighty: bool,
    /// The category's GB/T 39666 class (the 12345 office's), where the tenant set one: six
    /// digits, main, middle and sub class.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, pattern = "^[0-9]{6}$"))]
    pub gbt_code: Option<GbtCode>,
    /// The 12345 hotline's stages, each with when it was reached.
    pub stages: Vec<StageMark>,
    /// The follow-up call's result, once recorded after the latest closing.
    pub follow_up: Option<FollowUp>,
    /// Whether the follow-up call may be recorded now.
    pub may_follow_up: bool,
}

impl ComplaintView {
    pub fn of(c: &ComplaintRow, now: DateTime<Utc>) -> AppResult<ComplaintView> {
        let state = c.state;
        let claimed = c.claimed_until.is_some_and(|u| u > now);
        let times = StageTimes {
            state,
            created_at: c.created_at,
            assigned_at: c.assigned_at,
            acknowledged_at: c.acknowledged_at,
            started_at: c.started_at,
            escalated_at: c.escalated_at,
            closed_at: c.closed_at,
            followed_up_at: c.followed_up_at,
        };
        Ok(ComplaintView {
            id: c.id,
            tracking: c.tracking.clone(),
            code_id: c.code_id,
            stall_name: c.stall_name.clone(),
            slot_code: c.slot_code.clone(),
            market_id: c.market_id,
            market_name: c.market_name.clone(),
            category: c.category,
            description: c.description.clone(),
            source: c.source.clone(),
            contact_phone_masked: c.contact_phone_masked.clone(),
            state,
            evidence: c.evidence.clone(),
            created_at: c.created_at,
            ack_due_at: c.ack_due_at,
            resolve_due_at: c.resolve_due_at,
            timing: complaint::timing(state, c.ack_due_at, c.resolve_due_at, now),
            upheld: c.upheld,
            resolution: c.resolution.clone(),
            vendor_answer: c.vendor_answer.clone(),
            reopened: c.reopen_count > 0,
            claimed_by: if claimed { c.claimed_by_name.clone() } else { None },
            claimed_by_id: if claimed { c.claimed_by } else { None },
            claimed_until: if claimed { c.claimed_until } else { None },
            photo_ids: c.photo_ids.clone(),
            updated_at: c.updated_at,
            public_id: c.public_id.clone(),
            held_reason: c.held_reason.clone(),
            weighty: c.weighty,
            gbt_code: stored_gbt(c.gbt_code.as_deref())?,
            stages: times.stages(now),
            follow_up: if times.may_follow_up() {
                None
            } else {
                match c.follow_up_result.as_deref() {
                    None => None,
                    Some(r) => Some(
                        FollowUp::parse(r)
                            .ok_or_else(|| anyhow::anyhow!("complaints.follow_up_result {r:?} is unknown"))?,
                    ),
                }
            },
            may_follow_up: times.may_follow_up(),
        })
    }

    /// Why it was held for screening, as words.
    pub fn held_label_key(&self) -> Option<&'static str> {
        self.held_reason
            .as_deref()
            .and_then(burst::Held::parse)
            .map(burst::Held::label_key)
    }

    /// What is left until the deadline that applies, as "3 h 20 min" (or overdue by that much).
    pub fn time_left(&self, now: DateTime<Utc>, lang: Lang) -> String {
        let Some(due) = self.timing.due_at else {
            return String::new();
        };
        let d = due - now;
        let m = d.num_minutes().abs();
        let text = if m >= 48 * 60 {
            lang.tr("time.days", &[("n", &(m / (24 * 60)).to_string())])
        } else {
            lang.tr(
                "time.hours_minutes",
                &[("h", &(m / 60).to_string()), ("m", &(m % 60).to_string())],
            )
        };
        if d < Duration::zero() {
            lang.tr("complaint.overdue_by", &[("time", &text)])
        } else {
            lang.tr("complaint.left", &[("time", &text)])
        }
    }
}

/// Which complaints an official lists.
#[derive(Clone, Debug, Default, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
pub struct QueueFilter {
    /// `waiting` (default: open, acknowledged, in progress), `closed`, `all`, or one state.
    #[cfg_attr(
        feature = "openapi",
        param(pattern = "^(waiting|closed|all|open|acknowledged|in_progress|resolved|rejected)?$")
    )]
    pub state: Option<String>,
    #[cfg_attr(
        feature = "openapi",
        param(pattern = "^(food_safety|price_fraud|short_weight|hygiene|service|road_occupation|noise|other)?$")
    )]
    pub category: Option<String>,
    pub market: Option<Uuid>,
    /// Only those past their deadline.
    #[serde(default)]
    pub overdue: bool,
}

/// The complaint queue: oldest first, each with its deadline and claim.
pub async fn queue(ctx: &Ctx, official: &Actor, f: &QueueFilter) -> AppResult<Vec<ComplaintView>> {
    official.require(Permission::Complaints)?;
    let now = ctx.clock.now();
    let states: Vec<String> = match f.state.as_deref().unwrap_or("waiting") {
        "waiting" | "" => vec!["open".into(), "acknowledged".into(), "in_progress".into()],
        "closed" => vec!["resolved".into(), "rejected".into()],
        "all" => vec![],
        one => match State::parse(one) {
            Some(s) => vec![s.as_str().to_string()],
            None => return Err(AppError::field("state", "complaint.state_filter")),
        },
    };
    let category = match f.category.as_deref().filter(|c| !c.is_empty()) {
        Some(c) => Some(
            Category::parse(c)
                .ok_or(AppError::field("category", "complaint.category_invalid"))?
                .as_str()
                .to_string(),
        ),
        None => None,
    };
    let mut tx = ctx.db.tenant(official.tenant_id()).await?;
    let rows = db::complaints::list(
        &mut tx,
        &ComplaintFilter {
            market: f.market,
            category,
            states,
            oldest_first: true,
            ..Default::default()
        },
    )
    .await?;
    let views: Vec<ComplaintView> = rows
        .iter()
        .map(|c| ComplaintView::of(c, now))
        .collect::<AppResult<_>>()?;
    Ok(views.into_iter().filter(|c| !f.overdue || c.timing.overdue).collect())
}

pub(super) async fn load(tx: &mut TenantTx, id: Uuid, now: DateTime<Utc>) -> AppResult<(ComplaintRow, ComplaintView)> {
    let row = db::complaints::list(
        tx,
        &ComplaintFilter {
            id: Some(id),
            ..Default::default()
        },
    )
    .await?
    .into_iter()
    .next()
    .ok_or(AppError::NotFound)?;
    let view = ComplaintView::of(&row, now)?;
    Ok((row, view))
}

/// One complaint with its timeline, for an official.
pub async fn get(ctx: &Ctx, official: &Actor, id: Uuid) -> AppResult<(ComplaintView, Vec<db::complaints::EventRow>)> {
    official.require(Permission::Complaints)?;
    let now = ctx.clock.now();
    let mut tx = ctx.db.tenant(official.tenant_id()).await?;
    let (_, view) = load(&mut tx, id, now).await?;
    let events = db::complaints::events(&mut tx, id).await?;
    Ok((view, events))
}

/// Takes a complaint for [`CLAIM_MINUTES`] so that two officials do not work it at once.
pub async fn claim(ctx: &Ctx, official: &Actor, id: Uuid) -> AppResult<()> {
    official.require(Permission::Complaints)?;
    let now = ctx.clock.now();
    let mut tx = ctx.db.tenant(official.tenant_id()).await?;
    if !db::complaints::lock(&mut tx, id).await? {
        return Err(AppError::NotFound);
    }
    let (_, view) = load(&mut tx, id, now).await?;
    if !view.state.is_unresolved() {
        return Err(AppError::Conflict(Msg::new("complaint.closed")));
    }
    if !db::complaints::claim(&mut tx, id, official.id, now + Duration::minutes(CLAIM_MINUTES), now).await? {
        return Err(AppError::Conflict(
            Msg::new("complaint.claimed_by").arg("name", view.claimed_by.unwrap_or_default()),
        ));
    }
    // The first official to take it: the hotline's 转办.
    if db::complaints::assign(&mut tx, id, now).await? {
        db::complaints::add_event(&mut tx, id, "assigned", "", now).await?;
    }
    audit::record(
        &mut tx,
        &Author::of(official),
        Change::new("complaint.claim", "complaint", id),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Whether `user` may escalate complaints (督办): supervisors, the tenant's admins.
pub fn may_escalate(user: &Actor) -> bool {
    user.require_admin().is_ok()
}

/// A supervisor (an admin) escalates an unresolved complaint (督办), with what is asked of its
/// handlers; the tracking page shows that it was.
pub async fn escalate(ctx: &Ctx, admin: &Actor, id: Uuid, note: &str) -> AppResult<ComplaintView> {
    admin.require_admin()?;
    let note = note.trim();
    if !(5..=500).contains(&note.chars().count()) {
        return Err(AppError::Validation(vec![FieldError::with(
            "note",
            Msg::new("form.length_between").arg("min", 5).arg("max", 500),
        )]));
    }
    let now = ctx.clock.now();
    let mut tx = ctx.db.tenant(admin.tenant_id()).await?;
    if !db::complaints::lock(&mut tx, id).await? {
        return Err(AppError::NotFound);
    }
    let (_, view) = load(&mut tx, id, now).await?;
    if !view.state.is_unresolved() {
        return Err(AppError::Conflict(Msg::new("complaint.closed")));
    }
    db::complaints::escalate(&mut tx, id, now).await?;
    db::complaints::add_event(&mut tx, id, "escalated", note, now).await?;
    audit::record(
        &mut tx,
        &Author::of(admin),
        Change::new("complaint.escalate", "complaint", id).after(&serde_json::json!({ "note": note })),
    )
    .await?;
    let (_, view) = load(&mut tx, id, now).await?;
    tx.commit().await?;
    Ok(view)
}

/// An official records the follow-up call made after closing (回访): its result and a note.
/// Once per closing; a reopened complaint is followed up again when it closes again.
pub async fn follow_up(ctx: &Ctx, official: &Actor, id: Uuid, result: &str, note: &str) -> AppResult<ComplaintView> {
    official.require(Permission::Complaints)?;
    let note = note.trim();
    let mut errors = Vec::new();
    let result = FollowUp::parse(result.trim());
    if result.is_none() {
        errors.push(FieldError::new("result", "follow_up.result_needed"));
    }
    if note.chars().count() > 500 {
        errors.push(FieldError::with("note", Msg::new("form.too_long").arg("max", 500)));
    }
    crate::error::check(errors)?;
    let Some(result) = result else {
        return Err(AppError::field("result", "follow_up.result_needed"));
    };
    let now = ctx.clock.now();
    let mut tx = ctx.db.tenant(official.tenant_id()).await?;
    if !db::complaints::lock(&mut tx, id).await? {
        return Err(AppError::NotFound);
    }
    let (_, view) = load(&mut tx, id, now).await?;
    if !view.may_follow_up {
        return Err(AppError::Conflict(Msg::new("follow_up.not_now")));
    }
    db::complaints::follow_up(&mut tx, id, now, result.as_str()).await?;
    db::complaints::add_event(&mut tx, id, "followed_up", note, now).await?;
    audit::record(
        &mut tx,
        &Author::of(official),
        Change::new("complaint.follow_up", "complaint", id)
            .after(&serde_json::json!({ "result": result, "note": note })),
    )
    .await?;
    let (_, view) = load(&mut tx, id, now).await?;
    tx.commit().await?;
    Ok(view)
}

/// An official's step on a complaint.
#[derive(Clone, Debug, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(as = ComplaintStep))]
pub struct Step {
    pub action: Action,
    /// For resolve: whether the complaint was found true (it then counts against the score).
    #[serde(default)]
    pub upheld: Option<bool>,
    /// The note the shopper reads: required to resolve or reject.
    #[serde(default)]
    pub note: String,
}

/// Acknowledges, starts, resolves or rejects a complaint.
pub async fn act(ctx: &Ctx, official: &Actor, id: Uuid, step: &Step) -> AppResult<ComplaintView> {
    official.require(Permission::Complaints)?;
    let note = step.note.trim();
    let closing = matches!(step.action, Action::Resolve | Action::Reject);
    let mut errors = Vec::new();
    if step.action == Action::Reopen {
        errors.push(FieldError::new("action", "complaint.action"));
    }
    if closing && !(2..=1000).contains(&note.chars().count()) {
        errors.push(FieldError::new("note", "complaint.note_needed"));
    }
    if note.chars().count() > 1000 {
        errors.push(FieldError::with("note", Msg::new("form.too_long").arg("max", 1000)));
    }
    if step.action == Action::Resolve && step.upheld.is_none() {
        errors.push(FieldError::new("upheld", "complaint.upheld_needed"));
    }
    crate::error::check(errors)?;
    let now = ctx.clock.now();
    let mut tx = ctx.db.tenant(official.tenant_id()).await?;
    // Users before complaints: the vendor's lock first (sync_vendor takes it again).
    let vendor = sqlx::query_scalar!(
        "select vendor_id from complaints where tenant_id = $1 and id = $2",
        tx.tenant().0,
        id
    )
    .fetch_optional(tx.conn())
    .await?
    .ok_or(AppError::NotFound)?;
    db::credentials::lock_vendor(&mut tx, vendor).await?;
    db::complaints::lock(&mut tx, id).await?;
    let (row, view) = load(&mut tx, id, now).await?;
    if row
        .claimed_by
        .is_some_and(|h| h != official.id && row.claimed_until.is_some_and(|u| u > now))
    {
        return Err(AppError::Conflict(
            Msg::new("complaint.claimed_by").arg("name", view.claimed_by.clone().unwrap_or_default()),
        ));
    }
    let Some(next) = view.state.after(step.action) else {
        return Err(AppError::Conflict(
            Msg::new("complaint.not_now").label("state", view.state.label_key()),
        ));
    };
    let upheld = match step.action {
        Action::Resolve => step.upheld,
        Action::Reject => Some(false),
        _ => None,
    };
    db::complaints::set_state(
        &mut tx,
        id,
        next.as_str(),
        now,
        closing.then_some((upheld.unwrap_or(false), note, official.id)),
    )
    .await?;
    let kind = match step.action {
        Action::Acknowledge => "acknowledged",
        Action::Start => "started",
        Action::Resolve => "resolved",
        Action::Reject => "rejected",
        Action::Reopen => "reopened",
    };
    db::complaints::add_event(&mut tx, id, kind, note, now).await?;
    audit::record(
        &mut tx,
        &Author::of(official),
        Change::new(&format!("complaint.{kind}"), "complaint", id)
            .before(&serde_json::json!({ "state": view.state }))
            .after(&serde_json::json!({ "state": next, "upheld": upheld, "note": note })),
    )
    .await?;
    let settings = db::settings::get(&mut tx).await?;
    supervision::sync_vendor(
        &mut tx,
        &ctx.keys,
        &Author::of(official),
        row.vendor_id,
        now,
        official.tenant.timezone,
        &settings,
    )
    .await?;
    // A complaint held as part of a burst reaches the vendor once an official accepts it.
    if step.action == Action::Acknowledge && row.held_reason.is_some() {
        let category = row.category;
        notices::notify_args(
            &mut tx,
            &ctx.keys,
            row.vendor_id,
            NoticeKind::ComplaintAboutStall,
            notices::Args::default()
                .text("stall", &row.stall_name)
                .text("slot", &row.slot_code)
                .label("category", category.label_key()),
            Some(&format!("/vendor/stalls/{}#complaints", row.code_id)),
        )
        .await?;
    }
    if closing {
        // The shopper's SMS is in Chinese; the vendor's notice is read in each reader's language.
        let outcome = Lang::Zh.t(next.label_key());
        notices::notify_args(
            &mut tx,
            &ctx.keys,
            row.vendor_id,
            NoticeKind::ComplaintDecided,
            notices::Args::default()
                .text("stall", &row.stall_name)
                .label("outcome", next.label_key())
                .text("note", note),
            Some(&format!("/vendor/stalls/{}#complaints", row.code_id)),
        )
        .await?;
        tell_shopper(&mut tx, ctx, &row, &outcome).await?;
    }
    tx.commit().await?;
    let mut tx = ctx.db.tenant(official.tenant_id()).await?;
    Ok(load(&mut tx, id, now).await?.1)
}

/// Texts the shopper who left a (verified) number that their complaint was decided.
async fn tell_shopper(tx: &mut TenantTx, ctx: &Ctx, row: &ComplaintRow, outcome: &str) -> AppResult<()> {
    let sealed = sqlx::query_scalar!(
        "select contact_phone_enc from complaints where tenant_id = $1 and id = $2",
        tx.tenant().0,
        row.id
    )
    .fetch_one(tx.conn())
    .await?;
    let Some(sealed) = sealed else { return Ok(()) };
    let phone = ctx
        .keys
        .open_str(&phone_place(tx, row.id), &sealed)
        .ok()
        .and_then(|p| Phone::parse(&p));
    if let Some(phone) = phone {
        let text = Lang::Zh.tr(
            "complaint.sms_decided",
            &[("tracking", row.tracking.as_str()), ("outcome", outcome)],
        );
        sms::queue(tx, &ctx.keys, &phone, &text).await?;
    }
    Ok(())
}

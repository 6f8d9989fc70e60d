//! Filing a complaint, from a scan page or a hotline system: the checks, the burst guard, the
//! tracking number, the sealed contact and photos.

use super::*;

/// Where a complaint comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    /// A shopper on the scan page (a phone number, if given, must be verified by SMS).
    Scan,
    /// A 12345 hotline system over Open311 (it answers for the caller).
    Open311,
}

impl Source {
    fn as_str(self) -> &'static str {
        match self {
            Source::Scan => "scan",
            Source::Open311 => "open311",
        }
    }
}

/// A complaint as filed.
#[derive(Debug, Default)]
pub struct Filing {
    pub category: String,
    pub description: String,
    /// Optional contact number.
    pub phone: String,
    /// The SMS code that proves the number (scan page only).
    pub sms_code: String,
    pub photos: Vec<Vec<u8>>,
    /// The hotline's own reference (Open311), kept for the exchange.
    pub source_ref: Option<String>,
    /// The shopper signed in for vouchers on this device, if any.
    pub voucher_shopper: Option<Uuid>,
}

/// What the filer gets back.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Filed {
    /// The shopper's key to `/complaints/{tracking}`: a secret, never in a public feed.
    pub tracking: String,
    /// Open311's service_request_id: public.
    pub public_id: String,
    pub state: State,
    pub ack_due_at: DateTime<Utc>,
    pub resolve_due_at: DateTime<Utc>,
}

pub(super) fn phone_place(tx: &TenantTx, complaint: Uuid) -> Place<'static> {
    Place {
        tenant: tx.tenant(),
        table: "complaints",
        column: "contact_phone_enc",
        row: complaint,
    }
}

/// The tenant's deadlines for a category (its own, or the platform's default).
pub async fn deadlines_for(tx: &mut TenantTx, category: Category) -> AppResult<Deadlines> {
    Ok(rules_for(tx, category).await?.deadlines)
}

/// What the tenant set for a category (its own deadlines and GB/T code, or the platform's
/// deadlines and no code).
pub async fn rules_for(tx: &mut TenantTx, category: Category) -> AppResult<CategoryRules> {
    let rows = db::complaints::deadlines(tx).await?;
    rules_among(&rows, category)
}

/// Every category's rules, in the categories' order, from one read of the tenant's rows.
pub async fn all_rules(tx: &mut TenantTx) -> AppResult<Vec<CategoryRules>> {
    let rows = db::complaints::deadlines(tx).await?;
    Category::ALL.into_iter().map(|c| rules_among(&rows, c)).collect()
}

/// A category's rules among the tenant's rows (none: the platform's deadlines, no code).
fn rules_among(rows: &[db::complaints::DeadlineRow], category: Category) -> AppResult<CategoryRules> {
    let Some(row) = rows.iter().find(|r| r.category == category.as_str()) else {
        return Ok(CategoryRules {
            category,
            deadlines: category.default_deadlines(),
            gbt_code: None,
        });
    };
    Ok(CategoryRules {
        category,
        deadlines: Deadlines {
            ack_hours: row.ack_hours,
            resolve_days: row.resolve_days,
            working_days: row.working_days,
        },
        gbt_code: stored_gbt(row.gbt_code.as_deref())?,
    })
}

/// When a complaint under `deadlines` filed `at` must be resolved: in working days, by the
/// tenant's calendar read from the day of filing on.
pub async fn resolve_due(
    tx: &mut TenantTx,
    tenant: &Tenant,
    deadlines: &Deadlines,
    at: DateTime<Utc>,
) -> AppResult<DateTime<Utc>> {
    let calendar = if deadlines.working_days {
        let (from, to) = WorkCalendar::window(at.with_timezone(&tenant.timezone).date_naive());
        let days = db::calendar::days(tx, from, to).await?;
        let mut listed = Vec::with_capacity(days.len());
        for d in days {
            let kind =
                DayKind::parse(&d.kind).ok_or_else(|| anyhow::anyhow!("work_calendar.kind {:?} is unknown", d.kind))?;
            listed.push((d.day, kind));
        }
        WorkCalendar::new(listed)
    } else {
        WorkCalendar::default()
    };
    deadlines
        .resolve_due(at, &tenant.timezone, &calendar)
        .ok_or(AppError::field("resolve_days", "calendar.no_working_day"))
}

/// A filing that passed its checks: category, trimmed description, contact, photo types.
type Checked = (Category, String, Option<Phone>, Vec<&'static str>);

/// Checks a filing without touching the database: every problem at once.
/// A complaint's description, trimmed, in characters (as the table's check says).
pub const MIN_DESCRIPTION_CHARS: usize = 5;
pub const MAX_DESCRIPTION_CHARS: usize = 1000;

fn check(f: &Filing, source: Source) -> Result<Checked, Vec<FieldError>> {
    let mut errors = Vec::new();
    let category = Category::parse(f.category.trim());
    if category.is_none() {
        errors.push(FieldError::new("category", "complaint.category_invalid"));
    }
    let description = f.description.trim().to_string();
    let n = description.chars().count();
    if !(MIN_DESCRIPTION_CHARS..=MAX_DESCRIPTION_CHARS).contains(&n) {
        errors.push(FieldError::with(
            "description",
            Msg::new("form.length_between")
                .arg("min", MIN_DESCRIPTION_CHARS)
                .arg("max", MAX_DESCRIPTION_CHARS),
        ));
    }
    let phone = if f.phone.trim().is_empty() {
        None
    } else {
        match Phone::parse(&f.phone) {
            Some(p) => Some(p),
            None => {
                errors.push(FieldError::new("phone", "phone.invalid"));
                None
            }
        }
    };
    if phone.is_some() && source == Source::Scan && f.sms_code.trim().is_empty() {
        errors.push(FieldError::new("sms_code", "complaint.sms_code_needed"));
    }
    if f.photos.len() > MAX_PHOTOS {
        errors.push(FieldError::with(
            "photos",
            Msg::new("document.too_many").arg("max", MAX_PHOTOS),
        ));
    }
    let mut types = Vec::new();
    for p in &f.photos {
        match sniff(p) {
            Some(t) if p.len() <= MAX_DOCUMENT_BYTES => types.push(t),
            _ => errors.push(FieldError::new("photos", "document.type_or_size")),
        }
    }
    match category {
        Some(c) if errors.is_empty() => Ok((c, description, phone, types)),
        _ => Err(errors),
    }
}

/// Files a complaint about the stall of a genuine code.
pub async fn file(
    ctx: &Ctx,
    tenant: &Tenant,
    code: &CodeRow,
    source: Source,
    shopper: Option<&Shopper>,
    f: Filing,
) -> AppResult<Filed> {
    if let Some(s) = shopper {
        ctx.shopper_throttle
            .check(ctx.db.global(), &format!("complain/{}", s.device_hash), s.address)
            .await?;
    }
    let (category, description, phone, types) = check(&f, source).map_err(AppError::Validation)?;
    if code.revoked_at.is_some() {
        return Err(AppError::Conflict(Msg::new("code.revoked")));
    }
    if let (Some(p), Source::Scan) = (&phone, source) {
        otp::verify(ctx, tenant, Purpose::Complaint, p, &f.sms_code)
            .await
            .map_err(|e| match e {
                AppError::Validation(mut errors) => {
                    for e in &mut errors {
                        e.field = "sms_code";
                    }
                    AppError::Validation(errors)
                }
                other => other,
            })?;
    }
    let now = ctx.clock.now();
    let mut tx = ctx.db.tenant(tenant.id).await?;
    db::credentials::lock_vendor(&mut tx, code.vendor_id).await?;
    let deadlines = deadlines_for(&mut tx, category).await?;
    let resolve_due_at = resolve_due(&mut tx, tenant, &deadlines, now).await?;
    let (night, tonight) = crate::ratings::tonight(&mut tx, tenant, code, now).await?;
    // Voucher redemptions between this shopper (signed in on this device, or the number given)
    // and the stall that night.
    let mut shoppers: Vec<Uuid> = f.voucher_shopper.into_iter().collect();
    if let Some(p) = &phone {
        let index = ctx.keys.blind_index(tenant.id, "phone", p.as_str());
        let found: Option<Uuid> = sqlx::query_scalar!(
            "select id from shoppers where tenant_id = $1 and phone_index = $2",
            tx.tenant().0,
            index
        )
        .fetch_optional(tx.conn())
        .await?;
        shoppers.extend(found);
    }
    let redemptions: Vec<serde_json::Value> = if shoppers.is_empty() {
        Vec::new()
    } else {
        db::vouchers::redemptions(
            &mut tx,
            &db::vouchers::RedemptionFilter {
                code: Some(code.id),
                date: Some(night),
                ..Default::default()
            },
        )
        .await?
        .into_iter()
        .filter(|r| shoppers.contains(&r.shopper_id))
        .map(|r| {
            serde_json::json!({
                "redemption": r.id, "verification": r.verification, "bill_fen": r.bill_fen,
                "value_fen": r.value_fen, "at": r.created_at, "reversed": r.reversed_at.is_some()
            })
        })
        .collect()
    };
    // What the platform knows at this moment, attached for whoever handles the complaint.
    let evidence = serde_json::json!({
        "night": night,
        // Checked in and still there: a stall that had checked out for the night was not.
        "checked_in": matches!(tonight, Tonight::Open | Tonight::Ready),
        "tonight": tonight,
        "colour": code.colour,
        "redemptions": redemptions,
    });
    // A scripted burst from the scan page is kept but held for an official to screen: it tells
    // nobody and carries no weight until an official accepts it (ratings follow the same rule).
    let (client_hash, held) = match (source, shopper) {
        (Source::Scan, Some(s)) => {
            let client_hash = ctx
                .keys
                .blind_index(tenant.id, "client-address", &s.address.to_string());
            let signals = db::complaints::burst_signals(
                &mut tx,
                code.id,
                night,
                &client_hash,
                now - Duration::hours(12),
                now - Duration::minutes(burst::BURST_MINUTES),
            )
            .await?;
            let held = burst::standing(signals).err();
            (Some(client_hash), held.map(|h| (h, signals.held_tonight == 0)))
        }
        _ => (None, None),
    };
    let id = Uuid::new_v4();
    let tracking = complaint::new_tracking(&tenant.slug, crate::secrets::random_bytes());
    let sealed = phone
        .as_ref()
        .map(|p| ctx.keys.seal_str(&phone_place(&tx, id), p.as_str()));
    let masked = phone.as_ref().map(Phone::masked);
    let index = phone
        .as_ref()
        .map(|p| ctx.keys.blind_index(tenant.id, "phone", p.as_str()));
    let public_id = db::complaints::insert(
        &mut tx,
        &NewComplaint {
            id,
            tracking: &tracking,
            code_id: code.id,
            vendor_id: code.vendor_id,
            market_id: code.market_id,
            category: category.as_str(),
            description: &description,
            source: source.as_str(),
            source_ref: f.source_ref.as_deref(),
            contact_phone_enc: sealed.as_deref(),
            contact_phone_masked: masked.as_deref(),
            contact_phone_index: index.as_deref(),
            device_hash: shopper.map(|s| s.device_hash.as_str()),
            client_hash: client_hash.as_deref(),
            held_reason: held.map(|(h, _)| h.as_str()),
            evidence: evidence.clone(),
            at: now,
            ack_due_at: deadlines.ack_due(now),
            resolve_due_at,
        },
    )
    .await?;
    for (bytes, content_type) in f.photos.iter().zip(types) {
        let photo = Uuid::new_v4();
        let sealed = crate::photos::seal(ctx, &tx, crate::photos::Evidence::Complaint, photo, bytes);
        db::complaints::insert_photo(&mut tx, photo, id, content_type, bytes.len() as i32, &sealed).await?;
    }
    db::complaints::add_event(&mut tx, id, "filed", "", now).await?;
    let actor = match (source, shopper) {
        (Source::Scan, Some(s)) => Author::public(&s.device_hash),
        _ => Author::system("open311"),
    };
    let settings = db::settings::get(&mut tx).await?;
    supervision::sync_vendor(
        &mut tx,
        &ctx.keys,
        &actor,
        code.vendor_id,
        now,
        tenant.timezone,
        &settings,
    )
    .await?;
    let args = notices::Args::default()
        .text("stall", &code.stall_name)
        .text("slot", &code.slot_code)
        .label("category", category.label_key());
    // Of a held burst, officials hear of the first complaint only, and the vendor of none until
    // an official accepts one.
    if held.is_none_or(|(_, first)| first) {
        live::notify_staff_args(
            &mut tx,
            now,
            Some(Permission::Complaints),
            NoticeKind::ComplaintFiled,
            args.clone(),
            Some(&format!("/official/complaints/{id}")),
        )
        .await?;
    }
    if held.is_none() {
        notices::notify_args(
            &mut tx,
            &ctx.keys,
            code.vendor_id,
            NoticeKind::ComplaintAboutStall,
            args,
            Some(&format!("/vendor/stalls/{}#complaints", code.id)),
        )
        .await?;
    }
    // Last before commit: the audit chain's head is held from here to the commit (a colour change
    // the complaint caused is recorded by sync_vendor, before it).
    audit::record(
        &mut tx,
        &actor,
        Change::new("complaint.file", "complaint", id).after(&serde_json::json!({
            "tracking": tracking, "code": code.id, "category": category.as_str(), "source": source.as_str(),
            "contact": masked, "photos": f.photos.len(), "evidence": evidence,
            "held": held.map(|(h, _)| h.as_str())
        })),
    )
    .await?;
    tx.commit().await?;
    Ok(Filed {
        tracking,
        public_id,
        state: State::Open,
        ack_due_at: deadlines.ack_due(now),
        resolve_due_at,
    })
}

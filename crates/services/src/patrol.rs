//! Patrol without a signal (离线巡查): what an inspector's phone downloads for the markets it will
//! walk — the tenant's code keys, every stall with its colour and causes, the problem list with
//! points — and the inspections it recorded offline, applied once each when the signal returns.
//!
//! An upload is applied under the id the phone made, at the time it was recorded, and answered
//! with what changed meanwhile: a code revoked since the download (not applied), a code whose
//! colour changed, a deduction that now passes the month's allowance. Those are shown to the
//! inspector, never merged silently. A replay of another inspector's id, a time in the future or
//! a stall of another tenant is refused with nothing written.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::Ctx;
use crate::codes::{self, KeyDocument};
use crate::error::{AppError, AppResult, Msg};
use crate::i18n::Lang;
use crate::inspections::{self, Offline};
use nightmarket_db::codes::CodeFilter;
use nightmarket_db::{self as db};
use nightmarket_domain::code::{Colour, cause};
use nightmarket_domain::people::{Actor, Permission};

/// How far ahead of the server's clock a phone's time may be (clocks drift).
const FUTURE_SLACK_MINUTES: i64 = 5;
/// How old an offline inspection may be and still be applied.
const OLDEST_DAYS: i64 = 7;

#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PatrolStall {
    pub code_id: Uuid,
    /// The code's public number (as in its QR URL).
    pub code: String,
    pub slot: String,
    pub stall_name: String,
    pub vendor_masked: String,
    pub colour: Colour,
    /// The causes of a yellow or red colour, in words.
    pub causes: Vec<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PatrolProblem {
    pub code: String,
    pub label: String,
    pub points: i32,
}

/// What a phone keeps for one market.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PatrolPack {
    pub market_id: Uuid,
    pub market_name: String,
    pub downloaded_at: DateTime<Utc>,
    /// After this many hours the app says its copy is stale.
    pub stale_after_hours: i32,
    /// Every key the tenant's codes may be signed with, retired ones included.
    pub keys: KeyDocument,
    pub stalls: Vec<PatrolStall>,
    pub problems: Vec<PatrolProblem>,
    /// Penalty points a vendor may lose in a month before the code turns red.
    pub monthly_points: i32,
}

/// A market's stalls, keys and problem list for the phone (inspectors).
pub async fn pack(ctx: &Ctx, official: &Actor, lang: Lang, market_id: Uuid) -> AppResult<PatrolPack> {
    official.require(Permission::Inspect)?;
    let now = ctx.clock.now();
    let keys = codes::key_document(ctx, &official.tenant).await?;
    let mut tx = ctx.db.tenant(official.tenant_id()).await?;
    let market = db::markets::get(&mut tx, market_id).await?.ok_or(AppError::NotFound)?;
    let rows = db::codes::list(
        &mut tx,
        &CodeFilter {
            market: Some(market_id),
            live: true,
            ..Default::default()
        },
    )
    .await?;
    let mut stalls = Vec::with_capacity(rows.len());
    for c in rows {
        let causes = db::codes::open_causes(&mut tx, c.id)
            .await?
            .iter()
            .map(|k| {
                let label = lang.t(cause::label_key(&k.kind));
                if k.note.is_empty() {
                    label
                } else {
                    format!("{label}：{}", k.note)
                }
            })
            .collect();
        stalls.push(PatrolStall {
            code_id: c.id,
            code: c.code,
            slot: c.slot_code,
            stall_name: c.stall_name,
            vendor_masked: c.vendor_name_masked,
            colour: c.colour,
            causes,
        });
    }
    let problems = inspections::problems(&mut tx)
        .await?
        .into_iter()
        .filter(|p| p.active)
        .map(|p| PatrolProblem {
            code: p.code,
            label: p.label,
            points: p.points,
        })
        .collect();
    let settings = db::settings::get(&mut tx).await?;
    Ok(PatrolPack {
        market_id,
        market_name: market.name,
        downloaded_at: now,
        stale_after_hours: settings.patrol_stale_hours,
        keys,
        stalls,
        problems,
        monthly_points: settings.monthly_points,
    })
}

/// An inspection as the phone kept it.
#[derive(Clone, Debug, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OfflineInspection {
    /// Made on the phone; sending it again finds the same inspection.
    pub id: Uuid,
    pub code_id: Uuid,
    /// When it was recorded, on the phone.
    pub recorded_at: DateTime<Utc>,
    /// When the phone had downloaded the stalls.
    pub downloaded_at: DateTime<Utc>,
    /// The code's colour as the phone knew it.
    pub colour_seen: Colour,
    /// Problem codes found (none: passed).
    #[serde(default)]
    pub problems: Vec<String>,
    #[serde(default)]
    pub notes: String,
    /// Up to three photos, JPEG or PNG, base64.
    #[serde(default)]
    pub photos: Vec<String>,
}

/// What became of one upload.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SyncOutcome {
    pub id: Uuid,
    /// applied, already_applied (sent before: nothing new written) or refused (nothing written)
    pub outcome: String,
    /// Why it was refused, in the reader's language.
    pub message: Option<String>,
    /// What changed since the download, for the inspector to see.
    pub conflicts: Vec<String>,
    /// The code's colour now.
    pub colour: Option<Colour>,
    pub points: Option<i64>,
    pub month_total: Option<i64>,
}

fn refused(id: Uuid, lang: Lang, msg: Msg) -> SyncOutcome {
    SyncOutcome {
        id,
        outcome: "refused".into(),
        message: Some(lang.msg(&msg)),
        conflicts: Vec::new(),
        colour: None,
        points: None,
        month_total: None,
    }
}

/// Applies each offline inspection once, in its own transaction, and says what became of it.
pub async fn sync(
    ctx: &Ctx,
    official: &Actor,
    lang: Lang,
    uploads: &[OfflineInspection],
) -> AppResult<Vec<SyncOutcome>> {
    official.require(Permission::Inspect)?;
    if uploads.len() > 100 {
        return Err(AppError::field("inspections", "patrol.too_many"));
    }
    let mut out = Vec::with_capacity(uploads.len());
    for u in uploads {
        out.push(sync_one(ctx, official, lang, u).await?);
    }
    Ok(out)
}

async fn sync_one(ctx: &Ctx, official: &Actor, lang: Lang, u: &OfflineInspection) -> AppResult<SyncOutcome> {
    let now = ctx.clock.now();
    if u.recorded_at > now + Duration::minutes(FUTURE_SLACK_MINUTES)
        || u.downloaded_at > now + Duration::minutes(FUTURE_SLACK_MINUTES)
    {
        return Ok(refused(u.id, lang, Msg::new("patrol.in_future")));
    }
    if u.recorded_at < now - Duration::days(OLDEST_DAYS) {
        return Ok(refused(u.id, lang, Msg::new("patrol.too_old").arg("days", OLDEST_DAYS)));
    }
    let (code, existing) = {
        let mut tx = ctx.db.tenant(official.tenant_id()).await?;
        let code = db::codes::get(&mut tx, u.code_id).await?;
        let existing = db::inspections::recorded_by(&mut tx, u.id).await?;
        (code, existing)
    };
    if let Some((by, code_id, _passed)) = existing {
        if by != official.id || code_id != u.code_id {
            return Ok(refused(u.id, lang, Msg::new("patrol.replayed")));
        }
        return Ok(SyncOutcome {
            id: u.id,
            outcome: "already_applied".into(),
            message: None,
            conflicts: Vec::new(),
            colour: code.map(|c| c.colour),
            points: None,
            month_total: None,
        });
    }
    let Some(code) = code else {
        return Ok(refused(u.id, lang, Msg::new("patrol.not_your_stall")));
    };
    if let Some(revoked) = code.revoked_at {
        let mut o = refused(u.id, lang, Msg::new("patrol.code_revoked"));
        if revoked > u.downloaded_at {
            o.conflicts.push(lang.msg(&Msg::new("patrol.revoked_since")));
        }
        return Ok(o);
    }
    let mut photos = Vec::with_capacity(u.photos.len());
    for p in &u.photos {
        use base64::Engine;
        match base64::engine::general_purpose::STANDARD.decode(p.trim()) {
            Ok(bytes) => photos.push(bytes),
            Err(_) => return Ok(refused(u.id, lang, Msg::new("document.type_or_size"))),
        }
    }
    let offline = Offline {
        id: u.id,
        recorded_at: u.recorded_at,
        downloaded_at: u.downloaded_at,
    };
    let mut conflicts = Vec::new();
    if code.colour != u.colour_seen {
        conflicts.push(
            lang.msg(
                &Msg::new("patrol.colour_changed")
                    .label("was", u.colour_seen.label_key())
                    .label("now", code.colour.label_key()),
            ),
        );
    }
    match inspections::record_as(
        ctx,
        official,
        u.code_id,
        &u.problems,
        &u.notes,
        &photos,
        &[],
        Some(offline),
    )
    .await
    {
        Ok((recorded, changes)) => {
            if recorded.points > 0 && recorded.month_total > i64::from(recorded.allowance) {
                conflicts.push(
                    lang.msg(
                        &Msg::new("patrol.over_allowance")
                            .arg("total", recorded.month_total)
                            .arg("allowance", recorded.allowance),
                    ),
                );
            }
            let colour = changes
                .iter()
                .find(|c| c.code_id == u.code_id)
                .map(|c| c.new)
                .unwrap_or(code.colour);
            Ok(SyncOutcome {
                id: u.id,
                outcome: "applied".into(),
                message: None,
                conflicts,
                colour: Some(colour),
                points: Some(recorded.points),
                month_total: Some(recorded.month_total),
            })
        }
        // Two sendings of the same inspection at once: the second finds the first's row.
        Err(AppError::Conflict(_)) => Ok(SyncOutcome {
            id: u.id,
            outcome: "already_applied".into(),
            message: None,
            conflicts: Vec::new(),
            colour: Some(code.colour),
            points: None,
            month_total: None,
        }),
        Err(AppError::Validation(fields)) => Ok(refused(
            u.id,
            lang,
            fields
                .into_iter()
                .next()
                .map(|f| f.msg)
                .unwrap_or_else(|| Msg::new("patrol.invalid")),
        )),
        Err(AppError::NotFound) => Ok(refused(u.id, lang, Msg::new("patrol.not_your_stall"))),
        Err(e) => Err(e),
    }
}

//! Who did what: the actor of a change and the one way to record it.

use serde::Serialize;
use serde_json::Value;
use uuid::Uuid;

use nightmarket_db::{TenantTx, audit};

use crate::Ctx;
/// An audit record with everything the admin's log shows.
pub use nightmarket_db::audit::FullRow;
use nightmarket_domain::people::Actor;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ActorKind {
    /// A signed-in admin, official or vendor.
    User,
    /// An external system with a tenant API key.
    External,
    /// The platform operator, through the command line.
    Operator,
    /// The platform itself: sweepers, the demo seed.
    System,
    /// An anonymous member of the public (a shopper).
    Public,
}

impl ActorKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ActorKind::User => "user",
            ActorKind::External => "external",
            ActorKind::Operator => "operator",
            ActorKind::System => "system",
            ActorKind::Public => "public",
        }
    }
}

/// Who an audit record names as the author of a change: a person, an external system, the
/// operator at the command line, the platform itself, or a shopper.
#[derive(Clone, Debug)]
pub struct Author {
    pub kind: ActorKind,
    pub id: Option<Uuid>,
    pub label: String,
    pub request_id: Option<String>,
}

impl Author {
    /// A signed-in person, as the use case received them.
    pub fn of(actor: &Actor) -> Author {
        Author::user(actor.id, actor.label(), actor.request_id.clone())
    }

    pub fn user(id: Uuid, label: String, request_id: Option<String>) -> Author {
        Author {
            kind: ActorKind::User,
            id: Some(id),
            label,
            request_id,
        }
    }

    pub fn system(label: &str) -> Author {
        Author {
            kind: ActorKind::System,
            id: None,
            label: label.to_string(),
            request_id: None,
        }
    }

    /// A shopper, known only by a short prefix of their device's keyed hash.
    pub fn public(device_hash: &str) -> Author {
        Author {
            kind: ActorKind::Public,
            id: None,
            label: format!("shopper:{}", device_hash.get(..12).unwrap_or(device_hash)),
            request_id: None,
        }
    }

    /// The operator at the command line, named by the OS account that ran the command.
    pub fn operator() -> Author {
        let who = std::env::var("SUDO_USER")
            .or_else(|_| std::env::var("USER"))
            .unwrap_or_else(|_| "operator".into());
        Author {
            kind: ActorKind::Operator,
            id: None,
            label: format!("cli:{who}"),
            request_id: None,
        }
    }
}

/// What changed, for one audit record.
pub struct Change<'a> {
    pub action: &'a str,
    pub subject_type: &'a str,
    pub subject_id: String,
    pub before: Option<Value>,
    pub after: Option<Value>,
}

impl<'a> Change<'a> {
    pub fn new(action: &'a str, subject_type: &'a str, subject_id: impl ToString) -> Change<'a> {
        Change {
            action,
            subject_type,
            subject_id: subject_id.to_string(),
            before: None,
            after: None,
        }
    }

    pub fn before(mut self, value: &impl Serialize) -> Change<'a> {
        self.before = serde_json::to_value(value).ok();
        self
    }

    pub fn after(mut self, value: &impl Serialize) -> Change<'a> {
        self.after = serde_json::to_value(value).ok();
        self
    }
}

/// Appends the record in the caller's transaction, so it commits or rolls back with the change.
/// Call it last before commit: it holds the tenant's chain lock until then.
pub async fn record(tx: &mut TenantTx, author: &Author, change: Change<'_>) -> Result<(), sqlx::Error> {
    audit::insert(
        tx,
        audit::NewRecord {
            actor_kind: author.kind.as_str(),
            actor_id: author.id,
            actor_label: &author.label,
            action: change.action,
            subject_type: change.subject_type,
            subject_id: &change.subject_id,
            before: change.before,
            after: change.after,
            request_id: author.request_id.as_deref(),
        },
    )
    .await?;
    Ok(())
}

// ------------------------------------------------------------------------------------ the viewer

/// The audit viewer's filter, as the form and the query string carry it.
#[derive(Clone, Debug, Default, serde::Deserialize)]
pub struct Filter {
    #[serde(default)]
    pub actor: String,
    #[serde(default)]
    pub action: String,
    #[serde(default)]
    pub subject: String,
    /// First day, YYYY-MM-DD, in the tenant's zone.
    #[serde(default)]
    pub from: String,
    /// Last day, YYYY-MM-DD, in the tenant's zone.
    #[serde(default)]
    pub to: String,
    /// Older than this record (the "older" link).
    #[serde(default)]
    pub before: Option<i64>,
    /// When the action was typed as words: the actions whose names match them (the page works
    /// this out, since names are words of a language).
    #[serde(skip)]
    pub actions: Option<Vec<String>>,
}

impl Filter {
    /// The query string of this filter without paging (for export and paging links).
    pub fn to_query(&self) -> String {
        url::form_urlencoded::Serializer::new(String::new())
            .append_pair("actor", self.actor.trim())
            .append_pair("action", self.action.trim())
            .append_pair("subject", self.subject.trim())
            .append_pair("from", self.from.trim())
            .append_pair("to", self.to.trim())
            .finish()
    }
}

/// Whether the chain verified, when it was checked.
#[derive(Clone, Debug)]
pub struct ChainStatus {
    pub records: i64,
    pub breaks: Vec<String>,
    pub checked_at: chrono::DateTime<chrono::Utc>,
}

impl ChainStatus {
    pub fn ok(&self) -> bool {
        self.breaks.is_empty()
    }
}

/// Verified chains by tenant and head: the chain only grows, so a check stands until a record is
/// added or a minute passes (an edit of old records shows within the minute).
pub type ChainChecks = moka::future::Cache<(nightmarket_domain::tenant::TenantId, i64), ChainStatus>;

pub fn chain_checks() -> ChainChecks {
    moka::future::Cache::builder()
        .max_capacity(1_000)
        .time_to_live(std::time::Duration::from_secs(60))
        .build()
}

pub struct Browse {
    pub rows: Vec<audit::FullRow>,
    /// The oldest record shown, when more may be older.
    pub older: Option<i64>,
    pub chain: ChainStatus,
}

pub const PAGE: i64 = 50;
pub const EXPORT_LIMIT: i64 = 50_000;

fn day_bound(
    text: &str,
    field: &'static str,
    tz: chrono_tz::Tz,
    next: bool,
) -> crate::error::AppResult<Option<chrono::DateTime<chrono::Utc>>> {
    use chrono::TimeZone;
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    let day = chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .map_err(|_| crate::error::AppError::field(field, "application.date_format"))?;
    let day = if next { day + chrono::Duration::days(1) } else { day };
    Ok(tz
        .from_local_datetime(&day.and_time(chrono::NaiveTime::MIN))
        .earliest()
        .map(|t| t.with_timezone(&chrono::Utc)))
}

async fn rows(
    ctx: &Ctx,
    admin: &Actor,
    f: &Filter,
    limit: i64,
) -> crate::error::AppResult<(TenantTx, Vec<audit::FullRow>)> {
    admin.require_admin()?;
    let tz = admin.tenant.timezone;
    let search = audit::Search {
        actor: f.actor.trim(),
        action: if f.actions.is_some() { "" } else { f.action.trim() },
        actions: f.actions.as_deref(),
        subject: f.subject.trim(),
        from: day_bound(&f.from, "from", tz, false)?,
        until: day_bound(&f.to, "to", tz, true)?,
        before_seq: f.before,
    };
    let mut tx = ctx.db.tenant(admin.tenant_id()).await?;
    let rows = audit::search(&mut tx, &search, limit).await?;
    Ok((tx, rows))
}

/// A page of the audit trail for a tenant admin, newest first, with the chain's state.
pub async fn browse(ctx: &Ctx, admin: &Actor, f: &Filter) -> crate::error::AppResult<Browse> {
    let (mut tx, mut rows) = rows(ctx, admin, f, PAGE + 1).await?;
    let older = if rows.len() as i64 > PAGE {
        rows.truncate(PAGE as usize);
        rows.last().map(|r| r.seq)
    } else {
        None
    };
    let head = audit::head(&mut tx).await?;
    let key = (admin.tenant_id(), head);
    let chain = match ctx.chain_checks.get(&key).await {
        Some(c) => c,
        None => {
            let v = audit::verify(&mut tx).await?;
            let c = ChainStatus {
                records: v.records,
                breaks: v.breaks.iter().map(|b| b.to_string()).collect(),
                checked_at: ctx.clock.now(),
            };
            ctx.chain_checks.insert(key, c.clone()).await;
            c
        }
    };
    tx.commit().await?;
    Ok(Browse { rows, older, chain })
}

/// The matching records for export (newest first, at most EXPORT_LIMIT).
pub async fn export(ctx: &Ctx, admin: &Actor, f: &Filter) -> crate::error::AppResult<Vec<audit::FullRow>> {
    let (tx, rows) = rows(ctx, admin, f, EXPORT_LIMIT).await?;
    tx.commit().await?;
    Ok(rows)
}

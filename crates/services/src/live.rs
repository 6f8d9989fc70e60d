//! Live notices for officials: a notice goes into every staff member's inbox (so it survives a
//! reload) and onto a PostgreSQL channel in the same transaction; NOTIFY is delivered only at
//! commit, to every server instance. Each instance listens once and fans notices out to the
//! server-sent-event streams of the notice's tenant — never another's.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::time::Duration;
use tokio::sync::{broadcast, watch};
use uuid::Uuid;

use crate::notices::Args;
use nightmarket_db::{self as db, TenantTx};
use nightmarket_domain::notice::NoticeKind;
use nightmarket_domain::people::Permission;

pub const CHANNEL: &str = "nightmarket_notices";

/// A notice as it travels to live streams.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct LiveNotice {
    pub tenant: Uuid,
    pub kind: String,
    pub args: Value,
    pub link: Option<String>,
    pub at: DateTime<Utc>,
    /// Only staff holding this permission see it (admins hold all).
    #[serde(default)]
    pub permission: Option<Permission>,
    /// A stall's own event (e.g. a voucher used there): only live views of that operating code
    /// see it, never the staff notice streams.
    #[serde(default)]
    pub code: Option<Uuid>,
}

/// The fan-out to this instance's streams.
#[derive(Clone)]
pub struct Live {
    sender: broadcast::Sender<LiveNotice>,
    /// What a stall shows changed (a check-in, a colour, a cause): (tenant, operating code), from
    /// the scan pages' channel. Apart from the notices, so a night's flood of ratings never makes
    /// an official's notice stream fall behind.
    changes: broadcast::Sender<(Uuid, Uuid)>,
    /// Whether this instance is listening on the channel now.
    pub(crate) listening: watch::Sender<bool>,
}

impl Default for Live {
    fn default() -> Self {
        // A stream that falls this far behind skips ahead (its inbox still has everything).
        Live {
            sender: broadcast::channel(1024).0,
            changes: broadcast::channel(4096).0,
            listening: watch::channel(false).0,
        }
    }
}

impl Live {
    pub fn subscribe(&self) -> broadcast::Receiver<LiveNotice> {
        self.sender.subscribe()
    }

    /// Waits (up to `limit`) until the instance listens on the channel; false if it does not.
    /// A stream tells its page it is live only then, so nothing committed after that is missed.
    pub async fn ready(&self, limit: Duration) -> bool {
        let mut rx = self.listening.subscribe();
        tokio::time::timeout(limit, rx.wait_for(|on| *on))
            .await
            .is_ok_and(|r| r.is_ok())
    }

    /// Stalls' changes as they are committed, on any instance: (tenant, operating code).
    pub fn subscribe_changes(&self) -> broadcast::Receiver<(Uuid, Uuid)> {
        self.changes.subscribe()
    }

    pub(crate) fn publish_change(&self, tenant: Uuid, code: Uuid) {
        let _ = self.changes.send((tenant, code));
    }

    pub(crate) fn publish(&self, notice: LiveNotice) {
        // No stream listening is not an error.
        let _ = self.sender.send(notice);
    }
}

/// Tells every active admin and official of the tenant, in the caller's transaction.
pub async fn notify_staff(
    tx: &mut TenantTx,
    at: DateTime<Utc>,
    kind: NoticeKind,
    args: &[(&str, &str)],
    link: Option<&str>,
) -> Result<(), sqlx::Error> {
    notify_staff_args(tx, at, None, kind, Args::from(args), link).await
}

/// Tells the tenant's active admins and the officials holding `permission` (all when None).
pub async fn notify_staff_with(
    tx: &mut TenantTx,
    at: DateTime<Utc>,
    permission: Option<Permission>,
    kind: NoticeKind,
    args: &[(&str, &str)],
    link: Option<&str>,
) -> Result<(), sqlx::Error> {
    notify_staff_args(tx, at, permission, kind, Args::from(args), link).await
}

/// [`notify_staff_with`] with arguments that may be labels.
pub async fn notify_staff_args(
    tx: &mut TenantTx,
    at: DateTime<Utc>,
    permission: Option<Permission>,
    kind: NoticeKind,
    args: Args,
    link: Option<&str>,
) -> Result<(), sqlx::Error> {
    let args = args.value();
    // One statement for every recipient: a complaint at the night's peak costs the same whether
    // the district has three officials or thirty (BENCHMARKS.md, the night's writes).
    db::notifications::insert_for_staff(tx, permission.map(|p| p.as_str()), kind.as_str(), &args, link).await?;
    let notice = LiveNotice {
        tenant: tx.tenant().0,
        kind: kind.as_str().into(),
        args,
        link: link.map(str::to_string),
        at,
        permission,
        code: None,
    };
    send(tx, &notice).await
}

/// Tells the live views of one stall (its vendor's page) about `kind`, in the caller's
/// transaction: nothing is sent if it rolls back.
pub async fn notify_stall(
    tx: &mut TenantTx,
    at: DateTime<Utc>,
    code: Uuid,
    kind: &str,
    args: Value,
) -> Result<(), sqlx::Error> {
    let notice = LiveNotice {
        tenant: tx.tenant().0,
        kind: kind.into(),
        args,
        link: None,
        at,
        permission: None,
        code: Some(code),
    };
    send(tx, &notice).await
}

async fn send(tx: &mut TenantTx, notice: &LiveNotice) -> Result<(), sqlx::Error> {
    let payload = serde_json::to_string(notice).unwrap_or_default();
    sqlx::query!("select pg_notify($1, $2)", CHANNEL, payload)
        .execute(tx.conn())
        .await?;
    Ok(())
}

//! Who did what: the actor of a change and the one way to record it.

use serde::Serialize;
use serde_json::Value;
use uuid::Uuid;

use crate::db::{TenantTx, audit};

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

#[derive(Clone, Debug)]
pub struct Actor {
    pub kind: ActorKind,
    pub id: Option<Uuid>,
    pub label: String,
    pub request_id: Option<String>,
}

impl Actor {
    pub fn user(id: Uuid, label: String, request_id: Option<String>) -> Actor {
        Actor {
            kind: ActorKind::User,
            id: Some(id),
            label,
            request_id,
        }
    }

    pub fn system(label: &str) -> Actor {
        Actor {
            kind: ActorKind::System,
            id: None,
            label: label.to_string(),
            request_id: None,
        }
    }

    /// A shopper, known only by a short prefix of their device's keyed hash.
    pub fn public(device_hash: &str) -> Actor {
        Actor {
            kind: ActorKind::Public,
            id: None,
            label: format!("shopper:{}", device_hash.get(..12).unwrap_or(device_hash)),
            request_id: None,
        }
    }

    /// The operator at the command line, named by the OS account that ran the command.
    pub fn operator() -> Actor {
        let who = std::env::var("SUDO_USER")
            .or_else(|_| std::env::var("USER"))
            .unwrap_or_else(|_| "operator".into());
        Actor {
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
pub async fn record(tx: &mut TenantTx, actor: &Actor, change: Change<'_>) -> Result<(), sqlx::Error> {
    audit::insert(
        tx,
        audit::NewRecord {
            actor_kind: actor.kind.as_str(),
            actor_id: actor.id,
            actor_label: &actor.label,
            action: change.action,
            subject_type: change.subject_type,
            subject_id: &change.subject_id,
            before: change.before,
            after: change.after,
            request_id: actor.request_id.as_deref(),
        },
    )
    .await?;
    Ok(())
}

//! Text messages. A message is queued in the outbox inside the transaction of the change it
//! reports (so a rolled-back change sends nothing), and a dispatcher inside the server delivers
//! queued messages through the configured gateway: the log (the default, for demos and
//! development; read them with `nightmarket sms outbox`) or an HTTP gateway.

use serde_json::json;
use std::time::Duration;
use uuid::Uuid;

use crate::Ctx;
use crate::pii::Place;
use crate::secrets::Keys;
use nightmarket_db::{self as db, TenantTx};
use nightmarket_domain::people::Phone;

/// Deliveries are retried this many times before a message is marked failed.
const MAX_ATTEMPTS: i32 = 5;

/// Where messages go.
#[derive(Clone, Debug, Default)]
pub enum Gateway {
    /// Nowhere but the log (the number masked) and the outbox.
    #[default]
    Log,
    /// `POST {url}` with `{"to": "13800138000", "text": "…"}` and `Authorization: Bearer {token}`;
    /// any 2xx is a delivery.
    Http {
        url: url::Url,
        token: Option<String>,
        client: reqwest::Client,
    },
}

impl Gateway {
    pub fn http(url: url::Url, token: Option<String>) -> anyhow::Result<Gateway> {
        let client = reqwest::Client::builder().timeout(Duration::from_secs(10)).build()?;
        Ok(Gateway::Http { url, token, client })
    }

    /// Delivers one message; `Ok(status)` is what to record ('sent' or 'logged').
    async fn deliver(&self, to: &Phone, text: &str) -> Result<&'static str, String> {
        match self {
            Gateway::Log => {
                tracing::info!(to = %to.masked(), chars = text.chars().count(), "sms (log gateway)");
                Ok("logged")
            }
            Gateway::Http { url, token, client } => {
                let mut req = client
                    .post(url.clone())
                    .json(&json!({ "to": to.as_str(), "text": text }));
                if let Some(t) = token {
                    req = req.bearer_auth(t);
                }
                match req.send().await {
                    Ok(r) if r.status().is_success() => Ok("sent"),
                    Ok(r) => Err(format!("gateway answered {}", r.status())),
                    Err(e) => Err(format!("gateway unreachable: {e}")),
                }
            }
        }
    }
}

fn place(tx: &TenantTx, id: Uuid) -> Place<'static> {
    Place {
        tenant: tx.tenant(),
        table: "sms_outbox",
        column: "phone_enc",
        row: id,
    }
}

/// Queues a message in the caller's transaction.
pub async fn queue(tx: &mut TenantTx, keys: &Keys, to: &Phone, text: &str) -> Result<(), sqlx::Error> {
    let id = Uuid::new_v4();
    let sealed = keys.seal_str(&place(tx, id), to.as_str());
    db::sms::insert(tx, id, &sealed, &to.masked(), text).await
}

/// Delivers what is queued, tenant by tenant; returns how many messages it handled.
pub async fn dispatch_once(ctx: &Ctx) -> anyhow::Result<usize> {
    dispatch_with(ctx, &ctx.sms).await
}

/// [`dispatch_once`] through `gateway`. Each tenant's batch is taken with `FOR UPDATE SKIP
/// LOCKED` and marked in the same transaction, so dispatchers on several instances never deliver
/// one message twice.
pub async fn dispatch_with(ctx: &Ctx, gateway: &Gateway) -> anyhow::Result<usize> {
    let mut handled = 0;
    for tenant in db::tenants::list(ctx.db.global()).await? {
        let mut tx = ctx.db.tenant(tenant.id).await?;
        let queued = db::sms::take_queued(&mut tx, 50).await?;
        for m in queued {
            let phone = ctx
                .keys
                .open_str(&place(&tx, m.id), &m.phone_enc)
                .ok()
                .and_then(|p| Phone::parse(&p));
            let outcome = match &phone {
                Some(p) => gateway.deliver(p, &m.body).await,
                None => Err("the stored number does not open".to_string()),
            };
            match outcome {
                Ok(status) => db::sms::mark(&mut tx, m.id, status, None).await?,
                Err(e) => {
                    tracing::warn!(to = %m.phone_masked, error = %e, "sms delivery failed");
                    let status = if m.attempts + 1 >= MAX_ATTEMPTS || phone.is_none() {
                        "failed"
                    } else {
                        "queued"
                    };
                    db::sms::mark(&mut tx, m.id, status, Some(&e)).await?;
                }
            }
            handled += 1;
        }
        tx.commit().await?;
    }
    Ok(handled)
}

/// Runs [`dispatch_once`] every second until the server stops.
pub fn spawn_dispatcher(ctx: Ctx) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            if let Err(e) = dispatch_once(&ctx).await {
                tracing::warn!(error = format!("{e:#}"), "sms dispatcher");
            }
        }
    })
}

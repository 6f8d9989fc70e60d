//! Notices to people: an inbox entry, rendered in the reader's language, and for vendors the same
//! text by SMS (in Chinese), both in the transaction of the change they report.

use serde_json::{Map, Value};
use uuid::Uuid;

use crate::Ctx;
use crate::error::AppResult;
use crate::i18n::Lang;
use crate::pii::Place;
use crate::secrets::Keys;
use crate::sms;
use nightmarket_db::{self as db, TenantTx};
use nightmarket_domain::notice::NoticeKind;
use nightmarket_domain::people::Actor;
use nightmarket_domain::people::Phone;

/// A person's inbox: their newest notices, and how many of all are unread.
pub struct Inbox {
    pub notices: Vec<db::notifications::Notification>,
    pub unread: i64,
}

/// The signed-in person's newest `limit` notices (the one inbox of vendors' and staff's pages and
/// of the API).
pub async fn inbox(ctx: &Ctx, user: &Actor, limit: i64) -> AppResult<Inbox> {
    let mut tx = ctx.db.tenant(user.tenant_id()).await?;
    let unread = db::notifications::unread_count(&mut tx, user.id).await?;
    let notices = db::notifications::for_user(&mut tx, user.id, limit).await?;
    Ok(Inbox { notices, unread })
}

/// Marks every notice of the signed-in person read.
pub async fn mark_all_read(ctx: &Ctx, user: &Actor) -> AppResult<()> {
    let mut tx = ctx.db.tenant(user.tenant_id()).await?;
    db::notifications::mark_all_read(&mut tx, user.id).await?;
    tx.commit().await?;
    Ok(())
}

/// The text of a notice in `lang`.
pub fn render(lang: Lang, kind: &str, args: &Value) -> String {
    let Some(kind) = NoticeKind::parse(kind) else {
        return kind.to_string();
    };
    let pairs: Vec<(String, String)> = args
        .as_object()
        .map(|m| {
            m.iter()
                .map(|(k, v)| {
                    (
                        k.clone(),
                        v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string()),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    let refs: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    lang.tr(kind.text_key(), &refs)
}

/// A notice's arguments as stored: a JSON object of strings.
pub fn args_value(args: &[(&str, &str)]) -> Value {
    Value::Object(
        args.iter()
            .map(|(k, v)| (k.to_string(), Value::String(v.to_string())))
            .collect::<Map<_, _>>(),
    )
}

/// Where a user's number is sealed.
pub fn user_phone_place(tx: &TenantTx, user: Uuid) -> Place<'static> {
    Place {
        tenant: tx.tenant(),
        table: "users",
        column: "phone_enc",
        row: user,
    }
}

/// Puts a notice in the user's inbox and, when the user has a number (vendors), sends it by SMS.
pub async fn notify(
    tx: &mut TenantTx,
    keys: &Keys,
    user: Uuid,
    kind: NoticeKind,
    args: &[(&str, &str)],
    link: Option<&str>,
) -> Result<(), sqlx::Error> {
    let args = args_value(args);
    db::notifications::insert(tx, user, kind.as_str(), &args, link).await?;
    let sealed = db::users::by_id(tx, user).await?.and_then(|u| u.phone_enc);
    let phone = sealed
        .and_then(|s| keys.open_str(&user_phone_place(tx, user), &s).ok())
        .and_then(|p| Phone::parse(&p));
    if let Some(phone) = phone {
        let text = format!("{}{}", Lang::Zh.t("sms.prefix"), render(Lang::Zh, kind.as_str(), &args));
        sms::queue(tx, keys, &phone, &text).await?;
    }
    Ok(())
}

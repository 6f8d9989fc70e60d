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
/// A notice in a person's inbox.
pub use nightmarket_db::notifications::Notification;
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

/// The text of a notice in `lang`. An argument stored as `{"label": key}` is a name from
/// locales/app.yml (a colour, a credential, a verdict) and is read in `lang` too; notices stored
/// before there were labels hold their text as it was written.
pub fn render(lang: Lang, kind: &str, args: &Value) -> String {
    let Some(kind) = NoticeKind::parse(kind) else {
        return kind.to_string();
    };
    let pairs: Vec<(String, String)> = args
        .as_object()
        .map(|m| {
            m.iter()
                .map(|(k, v)| {
                    let text = match v {
                        Value::String(s) => s.clone(),
                        Value::Object(o) => match o.get("label").and_then(Value::as_str) {
                            Some(key) => lang.tr(key, &filled(o)),
                            None => listed(lang, o).unwrap_or_else(|| v.to_string()),
                        },
                        other => other.to_string(),
                    };
                    (k.clone(), text)
                })
                .collect()
        })
        .unwrap_or_default();
    let refs: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    lang.tr(kind.text_key(), &refs)
}

/// The values a label's own placeholders take (see [`Args::phrase`]).
fn filled(o: &Map<String, Value>) -> Vec<(&str, &str)> {
    o.get("args")
        .and_then(Value::as_object)
        .map(|a| a.iter().filter_map(|(k, v)| Some((k.as_str(), v.as_str()?))).collect())
        .unwrap_or_default()
}

/// A list of labels as stored by [`Args::labels`], read in `lang`: "原因：甲、乙。", or the text
/// for none ("此前的原因均已解除。", never "原因：无").
fn listed(lang: Lang, o: &Map<String, Value>) -> Option<String> {
    let keys = o.get("labels")?.as_array()?;
    let keys: Vec<&str> = keys.iter().filter_map(Value::as_str).collect();
    if keys.is_empty() {
        return Some(lang.t(o.get("none")?.as_str()?));
    }
    let list = lang.list(&keys);
    Some(lang.tr(o.get("within")?.as_str()?, &[("list", &list)]))
}

/// A notice's arguments as stored: text as given (names, numbers, notes), and labels — keys of
/// locales/app.yml that each reader reads in their own language.
#[derive(Clone, Debug, Default)]
pub struct Args(Map<String, Value>);

impl Args {
    pub fn text(mut self, name: &str, value: &str) -> Args {
        self.0.insert(name.to_string(), Value::String(value.to_string()));
        self
    }

    pub fn label(mut self, name: &str, key: &'static str) -> Args {
        self.0.insert(name.to_string(), serde_json::json!({ "label": key }));
        self
    }

    /// A label with placeholders of its own ("扣 %{points} 分"), filled with `args` as given.
    pub fn phrase(mut self, name: &str, key: &'static str, args: &[(&str, &str)]) -> Args {
        let args: Map<String, Value> = args
            .iter()
            .map(|(k, v)| (k.to_string(), Value::String(v.to_string())))
            .collect();
        self.0
            .insert(name.to_string(), serde_json::json!({ "label": key, "args": args }));
        self
    }

    /// A list of labels, each read in the reader's language and joined as that language
    /// joins a list, inside the text `within` (whose `%{list}` it fills); `none` when empty.
    pub fn labels(mut self, name: &str, keys: &[&'static str], within: &'static str, none: &'static str) -> Args {
        self.0.insert(
            name.to_string(),
            serde_json::json!({ "labels": keys, "within": within, "none": none }),
        );
        self
    }

    pub fn value(self) -> Value {
        Value::Object(self.0)
    }
}

impl From<&[(&str, &str)]> for Args {
    fn from(args: &[(&str, &str)]) -> Args {
        args.iter().fold(Args::default(), |a, (k, v)| a.text(k, v))
    }
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
    notify_args(tx, keys, user, kind, Args::from(args), link).await
}

/// [`notify`] with arguments that may be labels.
pub async fn notify_args(
    tx: &mut TenantTx,
    keys: &Keys,
    user: Uuid,
    kind: NoticeKind,
    args: Args,
    link: Option<&str>,
) -> Result<(), sqlx::Error> {
    let args = args.value();
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_read_in_the_readers_language_and_text_as_written() {
        let args = Args::default()
            .text("slot", "A-01")
            .text("stall", "老王烧烤")
            .label("colour", "colour.red")
            .value();
        let en = render(Lang::En, "code_restored", &args);
        assert!(en.contains("it is now Red") && en.contains("老王烧烤"), "{en}");
        let zh = render(Lang::Zh, "code_restored", &args);
        assert!(zh.contains("当前为红码"), "{zh}");
        // A notice stored before labels: its words stay as they were written.
        let old = serde_json::json!({"slot": "A-01", "stall": "老王烧烤", "colour": "红码"});
        assert!(render(Lang::En, "code_restored", &old).contains("it is now 红码"));
    }

    #[test]
    fn lists_and_phrases_are_read_in_the_readers_language() {
        let causes = |keys: &[&'static str]| {
            Args::default()
                .text("slot", "A-01")
                .text("stall", "老王烧烤")
                .label("colour", "colour.yellow")
                .labels("causes", keys, "cause.listed", "cause.all_cleared")
                .value()
        };
        let two = causes(&["cause.expiring_health", "cause.suspended"]);
        let zh = render(Lang::Zh, "code_colour", &two);
        assert!(zh.contains("原因：") && zh.contains("、"), "{zh}");
        let en = render(Lang::En, "code_colour", &two);
        assert!(
            en.contains("Causes: ") && en.contains(", ") && !en.contains("原因"),
            "{en}"
        );
        let none = render(Lang::En, "code_colour", &causes(&[]));
        assert!(none.contains("Every earlier cause has cleared"), "{none}");
        let result = Args::default()
            .text("stall", "老王烧烤")
            .phrase("result", "inspection.deducted", &[("points", "3")])
            .text("total", "3")
            .text("allowance", "12")
            .value();
        let en = render(Lang::En, "inspection_recorded", &result);
        assert!(en.contains('3') && !en.contains("扣"), "{en}");
        assert!(render(Lang::Zh, "inspection_recorded", &result).contains('3'));
    }
}

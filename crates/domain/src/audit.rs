//! What the audit trail records: every action a person or an external system can take, by the
//! code stored in `audit_log.action`. The audit viewer names each in words (`audit_action.<code>`
//! in locales/app.yml) and matches typed words against those names.

/// Every action written to the audit trail. A test holds this list to what the code writes.
pub const ACTIONS: [&str; 96] = [
    "api_key.create",
    "api_key.revoke",
    "appeal.cancel",
    "appeal.file",
    "appeal.uphold",
    "application.add_document",
    "application.approve",
    "application.claim",
    "application.create",
    "application.reject",
    "application.remove_document",
    "application.resubmit",
    "application.return",
    "application.reveal",
    "application.submit",
    "application.update",
    "application.view_document",
    "application.withdraw",
    "calendar.remove",
    "calendar.set",
    "campaign.create",
    "campaign.step",
    "campaign.update",
    "checkin.check_out",
    "checkin.create",
    "code.colour",
    "code.issue",
    "code.restore",
    "code.revoke",
    "code.suspend",
    "complaint.acknowledged",
    "complaint.answer",
    "complaint.claim",
    "complaint.escalate",
    "complaint.file",
    "complaint.follow_up",
    "complaint.rejected",
    "complaint.reopen",
    "complaint.reopened",
    "complaint.resolved",
    "complaint.started",
    "complaint_deadlines.update",
    "credential.dispute",
    "credential.dispute_reject",
    "credential.dispute_uphold",
    "credential.event",
    "credential.expire",
    "credential.renewal",
    "credential.renewal_accept",
    "credential.renewal_refuse",
    "credential.view_renewal",
    "credit_record.issue",
    "credit_record.revoke",
    "erasure.approve",
    "erasure.refuse",
    "erasure.request",
    "goods_source.declare",
    "inspection.problem",
    "inspection.record",
    "lottery.draw",
    "lottery.open",
    "lottery.publish",
    "lottery.waitlist",
    "market.add_slots",
    "market.create",
    "market.plan",
    "market.plan_background",
    "market.remove_slot",
    "market.update",
    "payee.update",
    "rating.create",
    "rating.hide",
    "rating.release",
    "rating.reply",
    "rating.show",
    "rating.void",
    "settings.update",
    "settlement.reveal",
    "settlement.settle",
    "shopper.create",
    "signing_key.create",
    "tenant.create",
    "user.change_password",
    "user.create",
    "user.disable",
    "user.enable",
    "user.reset_password",
    "user.set_permissions",
    "user.sign_out",
    "vendor.export",
    "vendor.password_reset",
    "vendor.sign_up",
    "voucher.claim",
    "voucher.redeem",
    "voucher.reverse",
    "voucher_flag.dismiss",
];

/// The locale key of an action's name.
pub fn label_key(action: &str) -> String {
    format!("audit_action.{action}")
}

/// Whether typed text names actions by their code (`complaint.` or `rating.void`) rather than
/// by words to match against their names.
pub fn is_code_prefix(text: &str) -> bool {
    !text.is_empty() && text.bytes().all(|b| b.is_ascii_lowercase() || b == b'.' || b == b'_')
}

/// The fields that differ between a change's before and after (top-level keys of two objects),
/// each with its value before and after (None where absent).
pub fn changed_fields(
    before: Option<&serde_json::Value>,
    after: Option<&serde_json::Value>,
) -> Vec<(String, Option<serde_json::Value>, Option<serde_json::Value>)> {
    use serde_json::Value;
    let empty = serde_json::Map::new();
    let obj = |v: Option<&Value>| match v {
        Some(Value::Object(m)) => Some(m.clone()),
        _ => None,
    };
    let (b, a) = (obj(before), obj(after));
    match (&b, &a) {
        (None, None) if before.is_none() && after.is_none() => Vec::new(),
        (None, None) => vec![("—".to_string(), before.cloned(), after.cloned())],
        _ => {
            let (b, a) = (b.unwrap_or_else(|| empty.clone()), a.unwrap_or_else(|| empty.clone()));
            let mut keys: Vec<&String> = b.keys().chain(a.keys()).collect();
            keys.sort();
            keys.dedup();
            keys.into_iter()
                .filter(|k| b.get(*k) != a.get(*k))
                .map(|k| (k.clone(), b.get(k).cloned(), a.get(k).cloned()))
                .collect()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn only_the_fields_that_changed_are_listed() {
        let d = changed_fields(
            Some(&json!({"state": "open", "note": "x", "same": 1})),
            Some(&json!({"state": "resolved", "same": 1, "upheld": true})),
        );
        let keys: Vec<&str> = d.iter().map(|(k, _, _)| k.as_str()).collect();
        assert_eq!(keys, ["note", "state", "upheld"]);
        assert_eq!(d[1].1, Some(json!("open")));
        assert_eq!(d[2].1, None);
        assert!(changed_fields(None, None).is_empty());
        assert_eq!(changed_fields(None, Some(&json!({"a": 1}))).len(), 1);
    }

    #[test]
    fn codes_and_words_are_told_apart() {
        assert!(is_code_prefix("complaint."));
        assert!(is_code_prefix("rating.void"));
        assert!(!is_code_prefix("撤销"));
        assert!(!is_code_prefix("Void"));
        assert!(!is_code_prefix(""));
    }

    #[test]
    fn actions_are_listed_once() {
        let mut a = ACTIONS.to_vec();
        a.sort();
        a.dedup();
        assert_eq!(a.len(), ACTIONS.len());
    }
}

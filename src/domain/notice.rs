//! The kinds of notice a person finds in their inbox (and, for vendors, by SMS).

use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum NoticeKind {
    ApplicationApproved,
    ApplicationRejected,
    ApplicationReturned,
    CodeSuspended,
    CodeRestored,
    CodeRevoked,
}

impl NoticeKind {
    pub const ALL: [NoticeKind; 6] = [
        NoticeKind::ApplicationApproved,
        NoticeKind::ApplicationRejected,
        NoticeKind::ApplicationReturned,
        NoticeKind::CodeSuspended,
        NoticeKind::CodeRestored,
        NoticeKind::CodeRevoked,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            NoticeKind::ApplicationApproved => "application_approved",
            NoticeKind::ApplicationRejected => "application_rejected",
            NoticeKind::ApplicationReturned => "application_returned",
            NoticeKind::CodeSuspended => "code_suspended",
            NoticeKind::CodeRestored => "code_restored",
            NoticeKind::CodeRevoked => "code_revoked",
        }
    }

    pub fn parse(s: &str) -> Option<NoticeKind> {
        NoticeKind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// The locale key of the notice; its text takes the notice's arguments as `%{name}`.
    pub fn text_key(self) -> &'static str {
        match self {
            NoticeKind::ApplicationApproved => "notice.application_approved",
            NoticeKind::ApplicationRejected => "notice.application_rejected",
            NoticeKind::ApplicationReturned => "notice.application_returned",
            NoticeKind::CodeSuspended => "notice.code_suspended",
            NoticeKind::CodeRestored => "notice.code_restored",
            NoticeKind::CodeRevoked => "notice.code_revoked",
        }
    }
}

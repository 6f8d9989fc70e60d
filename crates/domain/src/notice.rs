//! The kinds of notice a person finds in their inbox (and, for vendors, by SMS).

use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum NoticeKind {
    ApplicationApproved,
    ApplicationRejected,
    ApplicationReturned,
    CodeSuspended,
    CodeRestored,
    CodeRevoked,
    /// A code changed colour because of its causes (credentials, points): to the vendor and staff.
    CodeColour,
    /// An external system reported a credential's status: to staff.
    CredentialEvent,
    /// A vendor uploaded a renewal of a credential: to staff.
    RenewalFiled,
    /// An official accepted or refused a renewal: to the vendor.
    RenewalDecided,
    /// An inspection was recorded at the vendor's stall: to the vendor.
    InspectionRecorded,
    /// A vendor appealed a deduction: to staff.
    AppealFiled,
    /// An official decided an appeal: to the vendor.
    AppealDecided,
    /// A shopper or a hotline filed (or reopened) a complaint: to staff who handle complaints.
    ComplaintFiled,
    /// A complaint about the vendor's stall was filed: to the vendor.
    ComplaintAboutStall,
    /// A complaint about the vendor's stall was decided: to the vendor.
    ComplaintDecided,
    /// The week's business insight for a stall: to the vendor.
    WeeklyInsights,
    /// Ratings of a stall came in a burst and are held for an official: to staff.
    RatingsHeld,
    /// A vendor disputed what an external system reported about a credential: to staff.
    CredentialDisputed,
    /// An official decided a vendor's dispute: to the vendor.
    DisputeDecided,
    /// A lottery's list was published with the vendor's application on it: to the vendor.
    LotteryEntered,
    /// A lottery was drawn and the vendor's entry waits for a freed slot: to the vendor.
    LotteryWaitlisted,
}

impl NoticeKind {
    pub const ALL: [NoticeKind; 22] = [
        NoticeKind::ApplicationApproved,
        NoticeKind::ApplicationRejected,
        NoticeKind::ApplicationReturned,
        NoticeKind::CodeSuspended,
        NoticeKind::CodeRestored,
        NoticeKind::CodeRevoked,
        NoticeKind::CodeColour,
        NoticeKind::CredentialEvent,
        NoticeKind::RenewalFiled,
        NoticeKind::RenewalDecided,
        NoticeKind::InspectionRecorded,
        NoticeKind::AppealFiled,
        NoticeKind::AppealDecided,
        NoticeKind::ComplaintFiled,
        NoticeKind::ComplaintAboutStall,
        NoticeKind::ComplaintDecided,
        NoticeKind::WeeklyInsights,
        NoticeKind::RatingsHeld,
        NoticeKind::CredentialDisputed,
        NoticeKind::DisputeDecided,
        NoticeKind::LotteryEntered,
        NoticeKind::LotteryWaitlisted,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            NoticeKind::ApplicationApproved => "application_approved",
            NoticeKind::ApplicationRejected => "application_rejected",
            NoticeKind::ApplicationReturned => "application_returned",
            NoticeKind::CodeSuspended => "code_suspended",
            NoticeKind::CodeRestored => "code_restored",
            NoticeKind::CodeRevoked => "code_revoked",
            NoticeKind::CodeColour => "code_colour",
            NoticeKind::CredentialEvent => "credential_event",
            NoticeKind::RenewalFiled => "renewal_filed",
            NoticeKind::RenewalDecided => "renewal_decided",
            NoticeKind::InspectionRecorded => "inspection_recorded",
            NoticeKind::AppealFiled => "appeal_filed",
            NoticeKind::AppealDecided => "appeal_decided",
            NoticeKind::ComplaintFiled => "complaint_filed",
            NoticeKind::ComplaintAboutStall => "complaint_about_stall",
            NoticeKind::ComplaintDecided => "complaint_decided",
            NoticeKind::WeeklyInsights => "weekly_insights",
            NoticeKind::RatingsHeld => "ratings_held",
            NoticeKind::CredentialDisputed => "credential_disputed",
            NoticeKind::DisputeDecided => "dispute_decided",
            NoticeKind::LotteryEntered => "lottery_entered",
            NoticeKind::LotteryWaitlisted => "lottery_waitlisted",
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
            NoticeKind::CodeColour => "notice.code_colour",
            NoticeKind::CredentialEvent => "notice.credential_event",
            NoticeKind::RenewalFiled => "notice.renewal_filed",
            NoticeKind::RenewalDecided => "notice.renewal_decided",
            NoticeKind::InspectionRecorded => "notice.inspection_recorded",
            NoticeKind::AppealFiled => "notice.appeal_filed",
            NoticeKind::AppealDecided => "notice.appeal_decided",
            NoticeKind::ComplaintFiled => "notice.complaint_filed",
            NoticeKind::ComplaintAboutStall => "notice.complaint_about_stall",
            NoticeKind::ComplaintDecided => "notice.complaint_decided",
            NoticeKind::WeeklyInsights => "notice.weekly_insights",
            NoticeKind::RatingsHeld => "notice.ratings_held",
            NoticeKind::CredentialDisputed => "notice.credential_disputed",
            NoticeKind::DisputeDecided => "notice.dispute_decided",
            NoticeKind::LotteryEntered => "notice.lottery_entered",
            NoticeKind::LotteryWaitlisted => "notice.lottery_waitlisted",
        }
    }
}

//! The states of the cases an official decides for a vendor: a credential's renewal, an appeal
//! against a deduction, a dispute of what the credential feed reported. Stored as text (the
//! tables' checks list the same words); a word the platform does not know fails the read.

use serde::Serialize;

macro_rules! case_state {
    ($(#[$doc:meta])* $name:ident { $($variant:ident => $word:literal, $label:literal;)+ }) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, sqlx::Type)]
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
        #[serde(rename_all = "snake_case")]
        #[sqlx(type_name = "text", rename_all = "snake_case")]
        pub enum $name {
            $($variant,)+
        }

        impl $name {
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $word,)+
                }
            }

            /// Its name in locales/app.yml.
            pub fn label_key(self) -> &'static str {
                match self {
                    $($name::$variant => $label,)+
                }
            }

            pub fn is_pending(self) -> bool {
                matches!(self, $name::Pending)
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

case_state!(
    /// A vendor's renewal of a credential.
    RenewalState {
        Pending => "pending", "credential.renewal_pending";
        Accepted => "accepted", "credential.renewal_accepted";
        Refused => "refused", "credential.renewal_refused";
    }
);

case_state!(
    /// A vendor's appeal against a deduction: the deduction stands (upheld) or is cancelled.
    AppealState {
        Pending => "pending", "appeal.pending";
        Upheld => "upheld", "appeal.verdict_upheld";
        Cancelled => "cancelled", "appeal.verdict_cancelled";
    }
);

case_state!(
    /// A vendor's dispute of a credential event.
    DisputeState {
        Pending => "pending", "dispute.pending";
        Upheld => "upheld", "dispute.verdict_upheld";
        Rejected => "rejected", "dispute.verdict_rejected";
    }
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_words_are_the_tables_words() {
        assert_eq!(RenewalState::Refused.as_str(), "refused");
        assert_eq!(AppealState::Cancelled.to_string(), "cancelled");
        assert!(DisputeState::Pending.is_pending());
        assert!(!DisputeState::Upheld.is_pending());
    }
}

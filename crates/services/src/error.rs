//! The one error type of the use cases: what went wrong, as the reader of an answer needs to know
//! it, without saying how the answer is sent. The HTTP layer maps each kind to a status and
//! renders it (`nightmarket_web::error::HttpError`); the command line prints it.
//!
//! When to use which:
//! * `Validation` — the input is well-formed but breaks a rule (per-field messages);
//! * `BadRequest` — the input could not be read at all;
//! * `Conflict` — the input collides with existing state, usually a unique constraint;
//! * `NotFound` — also for rows of another tenant: they must look exactly like absent rows;
//! * `Internal` — anything unexpected; logged once with its cause, shown to nobody.

pub use nightmarket_domain::msg::{FieldError, Msg};

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("not found")]
    NotFound,
    #[error("authentication required")]
    Unauthorized,
    /// A sign-in with a wrong name or password (or a disabled account: not told apart).
    #[error("invalid credentials")]
    BadCredentials,
    #[error("forbidden")]
    Forbidden,
    /// An external system's request whose API key, timestamp or signature does not hold.
    #[error("api key rejected: {}", .0.key())]
    ApiKey(Msg),
    #[error("cross-site request refused")]
    CrossSite,
    /// Signed in with a one-time password: nothing but choosing a new one is allowed yet.
    #[error("password change required")]
    PasswordChangeRequired,
    #[error("validation failed")]
    Validation(Vec<FieldError>),
    #[error("bad request")]
    BadRequest(Msg),
    #[error("conflict: {}", .0.key())]
    Conflict(Msg),
    #[error("payload too large")]
    PayloadTooLarge,
    #[error("too many requests")]
    RateLimited { retry_after_secs: u64 },
    #[error("service unavailable")]
    Unavailable,
    /// More requests than the server takes on at once (http::admission): 503, retry in a second.
    #[error("overloaded")]
    Overloaded,
    /// Something this installation lacks (a font for PDFs): 503, with what to install.
    #[error("not installed: {}", .0.key())]
    NotInstalled(Msg),
    #[error(transparent)]
    Internal(anyhow::Error),
}

pub type AppResult<T> = Result<T, AppError>;

/// A value the database holds, parsed: one that does not parse is an error (logged, 500), never a
/// default — a colour that failed to parse must not read as green.
pub fn stored<T>(parsed: Option<T>, what: &str, value: &str) -> AppResult<T> {
    parsed.ok_or_else(|| {
        AppError::Internal(anyhow::anyhow!(
            "the database holds {what} {value:?}, which does not parse"
        ))
    })
}

impl From<nightmarket_domain::people::Denied> for AppError {
    fn from(denied: nightmarket_domain::people::Denied) -> AppError {
        match denied {
            nightmarket_domain::people::Denied::Forbidden => AppError::Forbidden,
            nightmarket_domain::people::Denied::NotFound => AppError::NotFound,
        }
    }
}

impl AppError {
    pub fn field(field: &'static str, key: &'static str) -> AppError {
        AppError::Validation(vec![FieldError::new(field, key)])
    }
}

impl From<anyhow::Error> for AppError {
    /// A database error keeps its meaning (503 when the database is away) even when it travelled
    /// inside an `anyhow::Error`.
    fn from(err: anyhow::Error) -> AppError {
        match err.downcast::<sqlx::Error>() {
            Ok(db) => AppError::from(db),
            Err(other) => AppError::Internal(other),
        }
    }
}

impl From<sqlx::Error> for AppError {
    fn from(err: sqlx::Error) -> AppError {
        match &err {
            sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed => AppError::Unavailable,
            sqlx::Error::Io(_) => AppError::Unavailable,
            sqlx::Error::RowNotFound => AppError::NotFound,
            sqlx::Error::Database(db) => {
                if let Some(mapped) = db.constraint().and_then(constraint_error) {
                    return mapped;
                }
                // Text PostgreSQL cannot store (a NUL byte, typed or encoded as %00): the
                // request's fault, not the server's.
                if db.code().as_deref() == Some("22021") {
                    return AppError::BadRequest(Msg::new("error.invalid_text"));
                }
                AppError::Internal(err.into())
            }
            _ => AppError::Internal(err.into()),
        }
    }
}

/// Violations of named constraints that a person can cause with valid-looking input, and what to
/// tell them. Every other violation is a bug and stays a 500.
fn constraint_error(name: &str) -> Option<AppError> {
    Some(match name {
        "slots_market_code_key" => AppError::Conflict(Msg::new("slot.code_taken")),
        "users_login_key" => AppError::Conflict(Msg::new("staff.login_taken")),
        "tenants_slug_key" => AppError::Conflict(Msg::new("tenant.slug_taken")),
        "applications_one_open_per_person" => AppError::Conflict(Msg::new("application.already_open")),
        "codes_one_per_slot" => AppError::Conflict(Msg::new("slot.taken")),
        "codes_slot_fkey" | "applications_slot_fkey" | "lottery_entries_slot_fkey" => {
            AppError::Conflict(Msg::new("slot.in_use"))
        }
        "check_ins_once_per_night" => AppError::Conflict(Msg::new("checkin.already")),
        "appeals_one_per_deduction" => AppError::Conflict(Msg::new("appeal.already")),
        "ratings_ticket_once" => AppError::Conflict(Msg::new("rating.ticket_used")),
        "credential_disputes_one_pending" => AppError::Conflict(Msg::new("dispute.waiting")),
        "ratings_one_per_device_per_night" => AppError::Conflict(Msg::new("rating.once_per_night")),
        _ => return None,
    })
}

/// Helper for services: turns a list of field errors into `Err(Validation)` when not empty.
pub fn check(errors: Vec<FieldError>) -> AppResult<()> {
    if errors.is_empty() {
        Ok(())
    } else {
        Err(AppError::Validation(errors))
    }
}

//! Store errors, mapped to HTTP statuses by the routes.

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    /// A uniqueness rule was broken; the string names what collided (for example
    /// `alias value "db.prod.example"`).
    #[error("{0} already exists")]
    AlreadyExists(String),
    /// The caller's `version` is not the stored one.
    #[error("version mismatch: the resource changed since it was read")]
    VersionMismatch,
    /// A referenced row does not exist or a state rule forbids the change.
    #[error("{0}")]
    Precondition(String),
    #[error("database error: {0}")]
    Database(String),
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        match e {
            sqlx::Error::RowNotFound => StoreError::NotFound,
            other => StoreError::Database(other.to_string()),
        }
    }
}

pub type StoreResult<T> = Result<T, StoreError>;

/// Outcome of binding a tofu token to a session (worker handshake).
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ActivateError {
    #[error("session not found")]
    NotFound,
    /// The session is bound to another tofu token.
    #[error("tofu token not allowed")]
    TofuMismatch,
    /// Not pending and no tofu bound (canceling, terminated, or expired).
    #[error("refusing to activate session")]
    NotActivatable,
    #[error("{0}")]
    Store(String),
}

/// Why a connection was not authorized.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ConnectionRefused {
    #[error("session not found")]
    NotFound,
    #[error("session connection limit reached")]
    LimitReached,
    #[error("session expired")]
    Expired,
    #[error("session is not active")]
    NotActive,
    #[error("{0}")]
    Store(String),
}

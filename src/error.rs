//! One error type for the core, with a stable machine-readable code that the binding
//! hands to JavaScript unchanged.

use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ErrorCode {
    /// A configuration value is missing or out of range.
    InvalidConfig,
    /// OpenChoreo refused our credentials (401/403): retrying will not help.
    Auth,
    /// The requested OpenChoreo path does not exist (404).
    NotFound,
    /// OpenChoreo asked us to slow down (429).
    RateLimited,
    /// A 5xx, a timeout, a reset connection: worth retrying later.
    Transient,
    /// A request that carried a cursor failed in a way an expired cursor would.
    CursorExpired,
    /// The server is not a current, cursor-paginated OpenChoreo API.
    Incompatible,
    /// The server answered with a body we could not understand.
    InvalidResponse,
    /// The state database failed.
    Database,
    /// The catalog (the JavaScript sink) rejected a mutation.
    Sink,
    /// Another process holds the provider's burst lease.
    Locked,
    /// The engine was closed.
    Closed,
}

impl ErrorCode {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::InvalidConfig => "INVALID_CONFIG",
            ErrorCode::Auth => "AUTH",
            ErrorCode::NotFound => "NOT_FOUND",
            ErrorCode::RateLimited => "RATE_LIMITED",
            ErrorCode::Transient => "TRANSIENT",
            ErrorCode::CursorExpired => "CURSOR_EXPIRED",
            ErrorCode::Incompatible => "INCOMPATIBLE_SERVER",
            ErrorCode::InvalidResponse => "INVALID_RESPONSE",
            ErrorCode::Database => "DATABASE",
            ErrorCode::Sink => "SINK",
            ErrorCode::Locked => "LOCKED",
            ErrorCode::Closed => "CLOSED",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Error {
    pub code: ErrorCode,
    pub message: String,
    /// For `RateLimited`: how long the server asked us to wait.
    pub retry_after: Option<std::time::Duration>,
}

impl Error {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Error { code, message: message.into(), retry_after: None }
    }
    pub fn config(message: impl Into<String>) -> Self {
        Error::new(ErrorCode::InvalidConfig, message)
    }
    pub fn db(context: &str, e: impl fmt::Display) -> Self {
        // sqlx errors can quote the connection URL: scrub any credentials.
        Error::new(ErrorCode::Database, format!("{context}: {}", crate::redact::redact_urls(&e.to_string())))
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code.as_str(), self.message)
    }
}

impl std::error::Error for Error {}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// `e`'s message followed by its sources' (`a: b: c`): a library's top-level message can
/// be as vague as "error sending request" while the cause ("invalid peer certificate:
/// UnknownIssuer") sits in the chain. Repeats (a wrapper quoting its source) are skipped.
pub fn with_sources(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let part = s.to_string();
        if !text.contains(&part) {
            text.push_str(": ");
            text.push_str(&part);
        }
        source = s.source();
    }
    text
}

//! The napi layer: the one place where Rust types and errors become JavaScript ones.
//!
//! - `IngestionEngine` wraps `crate::Engine` (one per provider).
//! - Every `crate::Error` reaches JavaScript as an `Error` whose `code` is
//!   `ErrorCode::as_str()` (see `error.rs` for why async methods return `JsResult<T>`).
//! - `setLogger` forwards `tracing` events to a JavaScript callback (`logger.rs`).

mod engine;
mod error;
mod logger;
mod options;
mod types;

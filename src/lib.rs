//! Incremental ingestion of OpenChoreo resources into the Backstage catalog.
//!
//! Everything except `binding` is plain Rust that knows nothing of Node: `cargo test`
//! exercises it directly. `binding` is the one thin napi layer that maps types and
//! errors for JavaScript.

mod auth;
pub mod client;
pub mod config;
pub mod cursor;
pub mod engine;
pub mod error;
pub mod kinds;
pub mod model;
pub mod redact;
pub mod store;
pub mod tls;
pub mod translate;
pub mod walk;

#[cfg(feature = "node")]
mod binding;

pub use config::EngineConfig;
pub use engine::{Engine, Mutation, Sink, TickReport};
pub use error::{Error, ErrorCode};

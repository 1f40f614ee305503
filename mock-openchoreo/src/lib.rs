//! A stand-in OpenChoreo API server for tests, demos and benchmarks.
//!
//! It serves the cursor-paginated `/api/v1` lists (namespaces, projects, components,
//! workloads) of a deterministic synthetic installation generated on demand from an
//! [`InstallationSpec`], accepts edits while running, and injects faults. Use it
//! in-process through [`MockServer`] / [`MockHandle`], or as the `mock-openchoreo`
//! binary with its `/admin` HTTP API.

mod admin;
mod api;
mod cursor;
mod faults;
mod kind;
mod prng;
mod respond;
mod server;
mod stats;
mod store;
mod summary;
mod synthetic;

pub use cursor::cursor_after;
pub use faults::{Faults, DEFAULT_CURSOR_TTL_MS};
pub use kind::Kind;
pub use server::{MockHandle, MockOptions, MockServer};
pub use stats::Stats;
pub use store::MockError;
pub use summary::{Counts, Summary};
pub use synthetic::{InstallationSpec, API_VERSION};

//! A stand-in OpenChoreo API server for tests, demos and benchmarks.
//!
//! It serves the cursor-paginated `/api/v1` lists (namespaces, projects, components,
//! workloads, and every platform list the legacy catalog module reads: environments,
//! planes, pipelines, types, traits, resources, workflows and their cluster variants)
//! of a deterministic synthetic installation generated on demand from an
//! [`InstallationSpec`], accepts edits while running, and injects faults. Use it
//! in-process through [`MockServer`] / [`MockHandle`], or as the `mock-openchoreo`
//! binary with its `/admin` HTTP API.

mod admin;
mod api;
mod cursor;
mod faults;
mod kind;
mod labels;
mod notify;
mod oauth;
mod platform;
mod prng;
mod respond;
mod schema;
mod server;
mod stats;
mod store;
mod summary;
mod synthetic;

pub use cursor::cursor_after;
pub use faults::{Faults, DEFAULT_CURSOR_TTL_MS};
pub use kind::{Kind, KindInfo, Scope, KINDS};
pub use oauth::{OAuthSettings, OAuthStats};
pub use server::{MockHandle, MockOptions, MockServer};
pub use stats::Stats;
pub use store::MockError;
pub use summary::{Counts, Summary};
pub use synthetic::{default_kind_counts, InstallationSpec, API_VERSION};

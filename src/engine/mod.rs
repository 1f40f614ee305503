//! The burst engine: reads the provider's persisted state, runs a burst of pages when
//! one is due, hands each page to a `Sink` and only then commits the page's progress.
//!
//! PUBLIC SURFACE (the binding depends on it): `Engine::open`, `probe`, `tick`, `status`,
//! `reset`, `refresh`, `cancel`, `close`, the `Sink` trait, `Mutation`, `TickReport`.

pub mod status;

use std::future::Future;

use serde::Serialize;

use crate::config::EngineConfig;
use crate::error::Result;
use crate::translate::Entity;
pub use status::ProviderStatus;

/// Where mutations go: the Backstage catalog's `EntityProviderConnection` in production,
/// a collecting or failing sink in tests. An `Err` aborts the burst before the page is
/// committed, so the page is fetched and applied again later.
pub trait Sink: Send + Sync {
    fn apply(&self, mutation: Mutation) -> impl Future<Output = std::result::Result<(), String>> + Send;
}

/// One `delta` mutation: the entities of one page, or refs removed at the end of a cycle.
#[derive(Debug, Clone, Default)]
pub struct Mutation {
    pub added: Vec<Entity>,
    /// Entity refs (`kind:namespace/name`).
    pub removed: Vec<String>,
    /// `provider:<name>`: the location key of every entity of this provider.
    pub location_key: String,
}

impl Mutation {
    /// The exact argument of Backstage's `EntityProviderConnection.applyMutation`.
    pub fn to_backstage_json(&self) -> String {
        #[derive(Serialize)]
        #[serde(rename_all = "camelCase")]
        struct Added<'a> {
            entity: &'a Entity,
            location_key: &'a str,
        }
        #[derive(Serialize)]
        #[serde(rename_all = "camelCase")]
        struct Removed<'a> {
            entity_ref: &'a str,
            location_key: &'a str,
        }
        #[derive(Serialize)]
        struct Delta<'a> {
            #[serde(rename = "type")]
            kind: &'static str,
            added: Vec<Added<'a>>,
            removed: Vec<Removed<'a>>,
        }
        let lk = self.location_key.as_str();
        serde_json::to_string(&Delta {
            kind: "delta",
            added: self.added.iter().map(|entity| Added { entity, location_key: lk }).collect(),
            removed: self.removed.iter().map(|r| Removed { entity_ref: r, location_key: lk }).collect(),
        })
        .expect("entities are JSON values")
    }
}

/// What one `tick` did.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct TickReport {
    /// `burst` (pages were walked), `waiting` (nothing due yet), `locked` (another
    /// process is bursting this provider) or `failed` (the burst failed and backs off).
    pub action: String,
    pub pages: i64,
    pub entities: i64,
    pub cycle_completed: bool,
    pub removed: i64,
    pub next_action_at: i64,
    pub error: Option<String>,
}

pub struct Engine {
    _config: EngineConfig,
}

impl Engine {
    /// Validates the config, opens the state database and applies migrations.
    pub async fn open(config: EngineConfig) -> Result<Engine> {
        config.validate()?;
        todo!()
    }

    /// `GET /api/v1/namespaces?limit=1`: refuses a server that is not a current,
    /// cursor-paginated OpenChoreo API, naming the URL and what came back.
    pub async fn probe(&self) -> Result<()> {
        todo!()
    }

    /// Runs a burst when the provider's next action is due; otherwise returns at once.
    pub async fn tick<S: Sink>(&self, _sink: &S) -> Result<TickReport> {
        todo!()
    }

    pub async fn status(&self) -> Result<ProviderStatus> {
        todo!()
    }

    /// Forgets the current cycle; the next tick starts a new one from the beginning.
    pub async fn reset(&self) -> Result<()> {
        todo!()
    }

    /// Makes the next action due now.
    pub async fn refresh(&self) -> Result<()> {
        todo!()
    }

    /// Stops a running burst after its current page and abandons the cycle (no removals);
    /// the provider rests, then starts a fresh cycle.
    pub async fn cancel(&self) -> Result<()> {
        todo!()
    }

    /// Stops background work and closes the database pool.
    pub async fn close(&self) {
        todo!()
    }
}

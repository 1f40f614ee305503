//! The burst engine: reads the provider's persisted state, runs a burst of pages when
//! one is due, hands each page to a `Sink` and only then commits the page's progress.
//!
//! PUBLIC SURFACE (the binding depends on it): `Engine::open`, `probe`, `tick`, `status`,
//! `adopt`, `owned_count`, `record_inserted`, `forget_removed` (in `immediate.rs`), `reset`,
//! `refresh`, `cancel`, `close`, the consistency check (`consistency.rs`), the `Sink`
//! trait, `Mutation`, `TickReport`.

pub mod consistency;
pub mod events;
pub mod status;

mod burst;
mod lease;
mod immediate;

use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};

use serde::Serialize;
use tokio::sync::Mutex;

use crate::client::Client;
use crate::config::EngineConfig;
use crate::error::{Error, ErrorCode, Result};
use crate::store::{now_ms, Store};
use crate::translate::{json_str, Entity, TranslateContext};
pub use status::ProviderStatus;
use lease::{Heartbeat, Liveness};
use crate::store::FingerprintChange;

/// Pages in the catalog whose commit has not (yet) succeeded, at most: what a crash can
/// make the next burst apply again. A page is always applied before it is recorded, so
/// a crash repeats pages; it never skips one. (Pages commit in groups while the database
/// is the slower side: one group committing, one gathering.)
pub const MAX_UNCOMMITTED_PAGES: usize = 2 * burst::GROUP_PAGES;

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
        // Written by hand around the entities' ready JSON: no tree is built.
        let mut lk = Vec::with_capacity(self.location_key.len() + 2);
        json_str(&mut lk, &self.location_key);
        let lk = String::from_utf8(lk).expect("UTF-8");
        let size = self.added.iter().map(|e| e.json().len() + lk.len() + 28).sum::<usize>()
            + self.removed.iter().map(|r| r.len() + lk.len() + 32).sum::<usize>();
        let mut out = Vec::with_capacity(size + 40);
        out.extend_from_slice(b"{\"type\":\"delta\",\"added\":[");
        for (i, entity) in self.added.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            out.extend_from_slice(b"{\"entity\":");
            out.extend_from_slice(entity.json().as_bytes());
            out.extend_from_slice(b",\"locationKey\":");
            out.extend_from_slice(lk.as_bytes());
            out.push(b'}');
        }
        out.extend_from_slice(b"],\"removed\":[");
        for (i, r) in self.removed.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            out.extend_from_slice(b"{\"entityRef\":");
            json_str(&mut out, r);
            out.extend_from_slice(b",\"locationKey\":");
            out.extend_from_slice(lk.as_bytes());
            out.push(b'}');
        }
        out.extend_from_slice(b"]}");
        String::from_utf8(out).expect("UTF-8")
    }
}

/// Whether this module produces entities of `kind` (a ref's kind, lower-cased): the
/// only ones `Engine::adopt` takes over (every kind of the table in `crate::kinds`).
pub fn owns_kind(kind: &str) -> bool {
    crate::kinds::LISTS.iter().any(|k| k.entity_kinds().iter().any(|e| e == kind))
}

/// `r` as the engine stores refs (`kind:namespace/name`, lower-cased; a ref without a
/// namespace is in `default`), when it is a well-formed ref of a kind [`owns_kind`] accepts.
fn adoptable_ref(r: &str) -> Option<String> {
    let r = r.trim().to_lowercase();
    let (kind, rest) = r.split_once(':')?;
    if !owns_kind(kind) {
        return None;
    }
    let (ns, name) = rest.split_once('/').unwrap_or(("default", rest));
    let valid = |part: &str| !part.is_empty() && !part.contains([':', '/']) && !part.chars().any(char::is_whitespace);
    (valid(ns) && valid(name)).then(|| format!("{kind}:{ns}/{name}"))
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
    /// How long each page of the burst took to read from the API, in milliseconds (the
    /// module's page-latency histogram).
    pub page_fetch_millis: Vec<f64>,
}

pub struct Engine {
    config: EngineConfig,
    client: Client,
    store: Store,
    ctx: TranslateContext,
    /// This engine's identity in the burst lease.
    lease_owner: String,
    /// One burst at a time within this process (the lease covers other processes).
    burst: Mutex<()>,
    cancel: AtomicBool,
    closed: AtomicBool,
    /// Change events waiting or being applied (see `events`).
    events: events::queue::EventQueue,
}

/// Provider statuses, as stored and shown.
pub(crate) mod action {
    pub const IDLE: &str = "idle";
    pub const BURSTING: &str = "bursting";
    /// Shown, never stored: the row says `bursting` but its lease is not renewed.
    pub const STALLED: &str = "stalled";
    pub const INTERSTITIAL: &str = "interstitial";
    pub const RESTING: &str = "resting";
    pub const BACKING_OFF: &str = "backing off";
}

impl Engine {
    /// Validates the config, opens the state database and applies migrations.
    pub async fn open(config: EngineConfig) -> Result<Engine> {
        config.validate()?;
        let client = Client::new(&config)?;
        let store = Store::open(&config.database_url).await?;
        let ctx = TranslateContext {
            location_key: config.location_key(),
            default_owner: config.default_owner.clone(),
            domain_owner_from_annotation: config.domain_owner_from_annotation,
        };
        let lease_owner = lease::holder_name();
        tracing::info!(
            provider = %config.provider_name,
            api = %client.api_root(),
            database = store.dialect().name(),
            lease_holder = %lease_owner,
            lease_ttl_secs = config.lease_ttl.as_secs_f64(),
            "OpenChoreo ingestion engine opened"
        );
        let fingerprint = config.connection_fingerprint();
        match store.record_connection_fingerprint(&config.provider_name, &fingerprint).await? {
            FingerprintChange::Changed { cleared } if cleared > 0 => tracing::info!(
                provider = %config.provider_name,
                failed_attempts = cleared,
                "the connection settings (base URL or credentials) changed since the last start: \
                 the back-off and the last error are cleared; trying now"
            ),
            FingerprintChange::Changed { .. } => tracing::info!(
                provider = %config.provider_name,
                "the connection settings (base URL or credentials) changed since the last start"
            ),
            FingerprintChange::First | FingerprintChange::Unchanged => {}
        }
        Ok(Engine {
            config,
            client,
            store,
            ctx,
            lease_owner,
            burst: Mutex::new(()),
            cancel: AtomicBool::new(false),
            closed: AtomicBool::new(false),
            events: Default::default(),
        })
    }

    pub fn config(&self) -> &EngineConfig {
        &self.config
    }

    fn check_open(&self) -> Result<()> {
        if self.closed.load(Ordering::SeqCst) {
            Err(Error::new(ErrorCode::Closed, "the ingestion engine is closed"))
        } else {
            Ok(())
        }
    }

    /// `GET /api/v1/namespaces?limit=1`: refuses a server that is not a current,
    /// cursor-paginated OpenChoreo API, naming the URL and what came back.
    pub async fn probe(&self) -> Result<()> {
        self.check_open()?;
        self.client.probe().await
    }

    /// Runs a burst when the provider's next action is due; otherwise returns at once.
    pub async fn tick<S: Sink>(&self, sink: &S) -> Result<TickReport> {
        self.check_open()?;
        let Ok(_guard) = self.burst.try_lock() else {
            return Ok(TickReport { action: "locked".into(), ..Default::default() });
        };
        let row = self.store.load_provider(&self.config.provider_name).await?;
        if row.next_action_at > now_ms() {
            return Ok(TickReport { action: "waiting".into(), next_action_at: row.next_action_at, ..Default::default() });
        }
        if !self.store.try_acquire_lease(&row.name, &self.lease_owner, self.config.lease_ttl).await? {
            return Ok(TickReport { action: "locked".into(), next_action_at: row.next_action_at, ..Default::default() });
        }
        // Renewed while the burst runs; dropped (stopped) when the tick ends, however.
        let _heartbeat = Heartbeat::start(
            self.store.clone(),
            row.name.clone(),
            self.lease_owner.clone(),
            self.config.lease_ttl,
            self.config.lease_heartbeat(),
            self.config.lease_hold_limit(),
        );
        self.cancel.store(false, Ordering::SeqCst);
        // Re-read under the lease: another process may have moved on meanwhile.
        let row = self.store.load_provider(&self.config.provider_name).await?;
        let result = if row.next_action_at > now_ms() {
            Ok(TickReport { action: "waiting".into(), next_action_at: row.next_action_at, ..Default::default() })
        } else {
            burst::Burst::new(self, row).run(sink).await
        };
        // A lost lease is someone else's now; otherwise free it for the next tick.
        if let Err(e) = self.store.release_lease(&self.config.provider_name, &self.lease_owner).await {
            tracing::warn!(error = %e, "could not release the burst lease; it expires on its own");
        }
        result
    }

    pub async fn status(&self) -> Result<ProviderStatus> {
        self.check_open()?;
        let name = &self.config.provider_name;
        let row = self.store.load_provider(name).await?;
        let item_errors = self.store.item_errors(name, 100).await?;
        let owned = self.store.count_owned(name).await?;
        let mut next_action = match &row.walk {
            Some(w) if w.phase != crate::cursor::Phase::DONE || row.status == action::BACKING_OFF => "burst",
            Some(_) => "finish cycle",
            None => "start cycle",
        };
        let now = now_ms();
        let liveness = row.lease.as_ref().map(|l| Liveness::of(l, now));
        let (mut current_action, mut current_action_since, mut next_action_at) =
            (row.status.clone(), row.status_since, row.next_action_at);
        // The row says what the last burst wrote; only a renewed lease says it still runs.
        if row.status == action::BURSTING && liveness != Some(Liveness::Held) {
            current_action = action::STALLED.into();
            next_action = "take over the burst";
            match &row.lease {
                // Since its last sign of life; the next tick after the lease expires takes over.
                Some(l) => {
                    current_action_since = l.renewed_at().max(row.status_since);
                    next_action_at = l.until.max(row.next_action_at);
                }
                // Released without recording the burst's end (a failure that could not be
                // written): any tick goes on.
                None => next_action_at = row.next_action_at,
            }
        }
        let lease = row.lease.as_ref().zip(liveness).map(|(l, live)| status::LeaseStatus {
            holder: l.owner.clone(),
            held_here: l.owner == self.lease_owner,
            until: l.until,
            renewed_at: l.renewed_at(),
            state: live.as_str().into(),
        });
        let mut progress = row.progress.clone();
        if let Some(w) = &row.walk {
            progress.phase = w.phase.as_str().to_string();
            progress.namespace_count = w.ns_count;
            progress.namespace_index = if w.phase == crate::cursor::Phase::NAMESPACES { 0 } else { (w.ns_index + 1).min(w.ns_count) };
            progress.current_namespace = w.namespace.clone();
            progress.unserved_lists = w.unserved.clone();
        }
        Ok(ProviderStatus {
            provider: name.clone(),
            cycle: row.cycle,
            current_action,
            current_action_since,
            next_action: next_action.to_string(),
            next_action_at,
            lease,
            attempts: row.attempts,
            last_error: row.last_error.clone(),
            item_error_count: progress.item_errors,
            item_errors,
            progress,
            rejected_removal: row.rejected_removal.clone(),
            last_completed_cycle: row.last_completed.clone(),
            owned_entities: owned,
            consistency: self.store.load_consistency(name).await?,
            heal_pending: self.store.count_heal(name).await?,
            events: self.events.stats(),
        })
    }

    /// Takes over entity refs that another instance of this provider (the legacy
    /// provider: same provider name, same location key) left in the catalog, so that
    /// the next completed cycle removes the ones it does not see, as for any owned ref.
    ///
    /// Each ref of a kind this module produces ([`owns_kind`]) is recorded as owned and
    /// seen in cycle 0; a ref the engine already owns is left as it is; refs of other
    /// kinds (the legacy provider also emitted Environments, Dataplanes, ...) and
    /// malformed ones are ignored, so they are never removed. The guards apply to the
    /// removal as usual. Meant for before the first cycle (the module adopts while the
    /// cycle is 0); idempotent, so an interrupted adoption is simply repeated. Returns
    /// how many refs were new.
    pub async fn adopt(&self, refs: Vec<String>) -> Result<u64> {
        self.check_open()?;
        let offered = refs.len();
        let adoptable: Vec<String> = refs.iter().filter_map(|r| adoptable_ref(r)).collect();
        let adopted = self.store.adopt_refs(&self.config.provider_name, &adoptable).await?;
        tracing::debug!(
            provider = %self.config.provider_name,
            offered,
            ignored = offered - adoptable.len(),
            adopted,
            "adopted entity refs"
        );
        Ok(adopted)
    }

    /// How many entity refs the provider owns (the status' `owned_entities`).
    pub async fn owned_count(&self) -> Result<i64> {
        self.check_open()?;
        self.store.count_owned(&self.config.provider_name).await
    }

    /// Forgets the current cycle; the next tick starts a new one from the beginning.
    /// A burst running anywhere loses its lease and stops at its next page.
    pub async fn reset(&self) -> Result<()> {
        self.check_open()?;
        self.cancel.store(true, Ordering::SeqCst);
        let mut row = self.store.load_provider(&self.config.provider_name).await?;
        let now = now_ms();
        row.walk = None;
        row.status = action::IDLE.into();
        row.status_since = now;
        row.next_action_at = now;
        row.attempts = 0;
        row.last_error = None;
        row.progress = Default::default();
        self.store.save_provider(&row, None).await?;
        tracing::info!(provider = %row.name, "provider reset: the next tick starts a new cycle");
        Ok(())
    }

    /// Makes the next action due now.
    pub async fn refresh(&self) -> Result<()> {
        self.check_open()?;
        // Only the due time changes; a burst running right now keeps its lease.
        self.store.set_next_action_at(&self.config.provider_name, now_ms()).await
    }

    /// Stops a running burst after its current page and abandons the cycle (no
    /// removals); the provider rests, then starts a fresh cycle.
    pub async fn cancel(&self) -> Result<()> {
        self.check_open()?;
        self.cancel.store(true, Ordering::SeqCst);
        let mut row = self.store.load_provider(&self.config.provider_name).await?;
        let now = now_ms();
        row.walk = None;
        row.status = action::RESTING.into();
        row.status_since = now;
        row.next_action_at = now + self.config.rest_length.as_millis() as i64;
        row.attempts = 0;
        row.last_error = Some(format!("cycle {} was canceled by an operator", row.cycle));
        self.store.save_provider(&row, None).await?;
        tracing::info!(provider = %row.name, "cycle canceled: resting, then a new cycle starts");
        Ok(())
    }

    /// Stops background work: a running burst stops after its page; then the pool closes.
    pub async fn close(&self) {
        if self.closed.swap(true, Ordering::SeqCst) {
            return;
        }
        self.events.stop();
        self.cancel.store(true, Ordering::SeqCst);
        // A running burst stops after its page; a catalog that never answers must not
        // hold shutdown forever (the page is then simply repeated by the next process).
        let guard = tokio::time::timeout(std::time::Duration::from_secs(30), self.burst.lock()).await;
        if guard.is_err() {
            tracing::warn!(provider = %self.config.provider_name, "a burst did not stop within 30 s; closing anyway");
        } else if let Err(e) = self.store.release_staging(&self.config.provider_name).await {
            // The next process walks the namespace's workloads again instead.
            tracing::warn!(provider = %self.config.provider_name, error = %e, "could not write the staged workloads held in memory");
        }
        self.store.close().await;
    }

    /// Takes a change event (its payload's JSON, `{kind, name, namespace?, action}`);
    /// applied by the workers [`Engine::start_events`] runs. Never blocks.
    pub fn push_event(&self, payload: &str) -> events::queue::Pushed {
        self.events.push_json(payload)
    }

    /// Starts applying change events through `sink` (until the engine closes).
    pub fn start_events<S: Sink + 'static>(self: &std::sync::Arc<Self>, sink: std::sync::Arc<S>, config: events::queue::EventsConfig) {
        events::queue::EventQueue::start(self.clone(), sink, config);
    }

    /// The change events' counters (also in [`Engine::status`]).
    pub fn event_stats(&self) -> events::EventStats {
        self.events.stats()
    }

    pub(crate) fn canceled(&self) -> bool {
        self.cancel.load(Ordering::SeqCst)
    }
}

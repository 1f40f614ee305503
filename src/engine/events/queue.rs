//! The event queue: one entry per resource (events about a resource that is already
//! waiting coalesce; one that arrives while its resource is being fetched waits for that
//! fetch and runs once more after it), bounded (an event that does not fit makes the next
//! cycle due now, and the status counts it), retried with back-off, and worked by a few
//! tasks that never fetch one resource twice at once.

use std::collections::{BTreeSet, HashMap};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::{ChangeEvent, EventStats, ResourceKey, CLOCK_SKEW_MS, MARK_RETENTION_MS};
use crate::engine::{Engine, Mutation, Sink};
use crate::error::{Error, ErrorCode, Result};
use crate::store::{now_ms, Claim};

/// How events are worked.
#[derive(Debug, Clone)]
pub struct EventsConfig {
    /// Distinct resources waiting, at most.
    pub capacity: usize,
    /// An event waits this long for others about the same resource before its fetch.
    pub coalesce_window: Duration,
    /// Fetches of different resources at once.
    pub workers: usize,
    /// Attempts of one event before it counts as failed (and the next cycle is made due).
    pub max_attempts: u32,
    /// Wait after the first failed attempt; doubles per attempt up to `max_backoff`.
    pub backoff: Duration,
    pub max_backoff: Duration,
    /// How long a claim on a resource lives (a crashed fetcher frees it then).
    pub claim_ttl: Duration,
}

impl Default for EventsConfig {
    fn default() -> Self {
        EventsConfig {
            capacity: 10_000,
            coalesce_window: Duration::from_millis(100),
            // Each event waits mostly on round trips (the API's GET, a dozen state database
            // statements, the catalog): 4 applied 14-29 events/s on a loaded 2-core machine
            // with PostgreSQL state, 16 up to 47/s (bench/README.md, change event latency).
            workers: 16,
            max_attempts: 10,
            backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(30),
            claim_ttl: Duration::from_secs(60),
        }
    }
}

/// What became of a pushed event.
#[derive(Debug, Clone, PartialEq)]
pub enum Pushed {
    Queued,
    Coalesced,
    /// It names nothing this module ingests (why).
    Ignored(String),
    /// The queue was full: the next cycle is made due now instead.
    Overflowed,
}

#[derive(Debug, Clone)]
struct Pending {
    /// The earliest receipt among the events it stands for.
    received_at: i64,
    due: i64,
    attempts: u32,
}

#[derive(Default)]
struct State {
    pending: HashMap<ResourceKey, Pending>,
    order: BTreeSet<(i64, ResourceKey)>,
    /// Resources being fetched, with the earliest receipt of events that came meanwhile.
    in_flight: HashMap<ResourceKey, Option<i64>>,
    stats: EventStats,
    /// A lost event asks for the next cycle now; done by a worker (it needs the database).
    refresh_wanted: bool,
}

impl State {
    fn waiting(&self) -> usize {
        self.pending.len() + self.in_flight.values().filter(|again| again.is_some()).count()
    }

    fn insert(&mut self, key: ResourceKey, p: Pending) {
        if let Some(old) = self.pending.get(&key) {
            self.order.remove(&(old.due, key.clone()));
        }
        self.order.insert((p.due, key.clone()));
        self.pending.insert(key, p);
    }
}

/// The queue of one engine; [`EventQueue::start`] runs its workers.
pub struct EventQueue {
    state: Mutex<State>,
    notify: tokio::sync::Notify,
    stopped: AtomicBool,
    config: Mutex<EventsConfig>,
}

impl Default for EventQueue {
    fn default() -> Self {
        EventQueue {
            state: Mutex::default(),
            notify: tokio::sync::Notify::new(),
            stopped: AtomicBool::new(false),
            config: Mutex::new(EventsConfig::default()),
        }
    }
}

/// The outcome of one attempt.
enum Attempt {
    Applied { follow_up: Option<ResourceKey> },
    /// A fetch of it that started after the event is running elsewhere.
    Covered,
    /// Someone else is fetching it since before the event: try again shortly.
    Busy,
}

impl EventQueue {
    pub fn stats(&self) -> EventStats {
        let s = self.state.lock().unwrap();
        let mut stats = s.stats.clone();
        stats.queued = s.waiting() as i64;
        stats.in_flight = s.in_flight.len() as i64;
        stats
    }

    /// Takes an event (its payload's JSON); never blocks.
    pub fn push_json(&self, payload: &str) -> Pushed {
        match ChangeEvent::parse(payload) {
            Ok(e) => self.push(&e),
            Err(why) => {
                let mut s = self.state.lock().unwrap();
                s.stats.received += 1;
                s.stats.ignored += 1;
                Pushed::Ignored(why)
            }
        }
    }

    pub fn push(&self, event: &ChangeEvent) -> Pushed {
        let key = event.key();
        let mut s = self.state.lock().unwrap();
        s.stats.received += 1;
        let key = match key {
            Ok(k) => k,
            Err(why) => {
                s.stats.ignored += 1;
                return Pushed::Ignored(why);
            }
        };
        let now = now_ms();
        let pushed = self.enqueue(&mut s, key, now);
        drop(s);
        if pushed == Pushed::Queued {
            self.notify.notify_one();
        }
        pushed
    }

    fn enqueue(&self, s: &mut State, key: ResourceKey, received_at: i64) -> Pushed {
        let window = self.config.lock().unwrap().coalesce_window.as_millis() as i64;
        let capacity = self.config.lock().unwrap().capacity;
        if let Some(again) = s.in_flight.get(&key).copied() {
            // Its fetch may have started before this change: fetch once more after it.
            return match again {
                Some(at) => {
                    s.in_flight.insert(key, Some(at.min(received_at)));
                    s.stats.coalesced += 1;
                    Pushed::Coalesced
                }
                None if s.waiting() >= capacity => self.overflow(s),
                None => {
                    s.in_flight.insert(key, Some(received_at));
                    Pushed::Queued
                }
            };
        }
        if let Some(p) = s.pending.get_mut(&key) {
            p.received_at = p.received_at.min(received_at);
            s.stats.coalesced += 1;
            return Pushed::Coalesced;
        }
        if s.waiting() >= capacity {
            return self.overflow(s);
        }
        s.insert(key, Pending { received_at, due: received_at + window, attempts: 0 });
        Pushed::Queued
    }

    fn overflow(&self, s: &mut State) -> Pushed {
        s.stats.overflowed += 1;
        if !s.refresh_wanted {
            tracing::warn!("the change event queue is full; the next cycle is made due now instead");
        }
        s.refresh_wanted = true;
        Pushed::Overflowed
    }

    /// Runs `config.workers` workers applying events through `sink` until
    /// [`EventQueue::stop`] (or the engine closes).
    pub fn start<S: Sink + 'static>(engine: Arc<Engine>, sink: Arc<S>, config: EventsConfig) -> Vec<tokio::task::JoinHandle<()>> {
        let queue = &engine.events;
        *queue.config.lock().unwrap() = config.clone();
        queue.stopped.store(false, Ordering::SeqCst);
        queue.state.lock().unwrap().stats.enabled = true;
        (0..config.workers.max(1))
            .map(|i| {
                let engine = engine.clone();
                let sink = sink.clone();
                tokio::spawn(async move { worker(engine, sink, i).await })
            })
            .collect()
    }

    pub fn stop(&self) {
        self.stopped.store(true, Ordering::SeqCst);
        self.notify.notify_waiters();
    }

    /// The next due resource, marked in flight; or how long until one is due.
    fn take(&self) -> std::result::Result<(ResourceKey, Pending), Option<i64>> {
        let mut s = self.state.lock().unwrap();
        let now = now_ms();
        let Some((due, key)) = s.order.first().cloned() else { return Err(None) };
        if due > now {
            return Err(Some(due - now));
        }
        s.order.remove(&(due, key.clone()));
        let p = s.pending.remove(&key).expect("ordered keys are pending");
        s.in_flight.insert(key.clone(), None);
        Ok((key, p))
    }

    /// Ends a fetch: the event is requeued (`retry_at`) or done; events that came during
    /// the fetch are queued again.
    fn finish(&self, key: &ResourceKey, mut p: Pending, retry_at: Option<i64>) {
        let mut s = self.state.lock().unwrap();
        let again = s.in_flight.remove(key).flatten();
        let window = self.config.lock().unwrap().coalesce_window.as_millis() as i64;
        match (retry_at, again) {
            (Some(at), again) => {
                if let Some(r) = again {
                    p.received_at = p.received_at.min(r);
                }
                p.due = at;
                s.insert(key.clone(), p);
            }
            (None, Some(r)) => s.insert(key.clone(), Pending { received_at: r, due: now_ms() + window, attempts: 0 }),
            (None, None) => {}
        }
        drop(s);
        self.notify.notify_one();
    }
}

async fn worker<S: Sink>(engine: Arc<Engine>, sink: Arc<S>, index: usize) {
    let queue = &engine.events;
    let mut last_prune = 0;
    loop {
        if queue.stopped.load(Ordering::SeqCst) || engine.closed.load(Ordering::SeqCst) {
            return;
        }
        let refresh = std::mem::take(&mut queue.state.lock().unwrap().refresh_wanted);
        if refresh {
            match engine.refresh().await {
                Ok(()) => queue.state.lock().unwrap().stats.refreshes_requested += 1,
                Err(e) => {
                    tracing::warn!(error = %e, "could not make the next cycle due after a lost event; retrying");
                    queue.state.lock().unwrap().refresh_wanted = true;
                }
            }
        }
        if index == 0 && now_ms() - last_prune > 60_000 {
            last_prune = now_ms();
            if let Err(e) = engine.store.prune_marks(&engine.config.provider_name, now_ms() - MARK_RETENTION_MS).await {
                tracing::debug!(error = %e, "could not prune old event marks");
            }
        }
        let (key, mut p) = match queue.take() {
            Ok(next) => next,
            Err(wait) => {
                let wait = Duration::from_millis(wait.unwrap_or(1_000).clamp(1, 1_000) as u64);
                let _ = tokio::time::timeout(wait, queue.notify.notified()).await;
                continue;
            }
        };
        let config = queue.config.lock().unwrap().clone();
        let outcome = engine.apply_event(&key, p.received_at, &*sink, &config).await;
        let now = now_ms();
        match outcome {
            Ok(Attempt::Applied { follow_up }) => {
                {
                    let mut s = queue.state.lock().unwrap();
                    s.stats.applied += 1;
                    s.stats.last_lag_millis = Some(now - p.received_at);
                    s.stats.last_applied_at = Some(now);
                }
                // The follow-up is queued before this one ends: nothing looks settled between.
                if let Some(next) = follow_up {
                    let mut s = queue.state.lock().unwrap();
                    queue.enqueue(&mut s, next, p.received_at);
                }
                queue.finish(&key, p, None);
            }
            Ok(Attempt::Covered) => {
                queue.state.lock().unwrap().stats.coalesced += 1;
                queue.finish(&key, p, None);
            }
            Ok(Attempt::Busy) => queue.finish(&key, p, Some(now + 100)),
            Err(e) => {
                p.attempts += 1;
                let mut s = queue.state.lock().unwrap();
                s.stats.last_error = Some(format!("{key}: {e}"));
                if p.attempts >= config.max_attempts {
                    s.stats.failed += 1;
                    s.refresh_wanted = true;
                    drop(s);
                    tracing::error!(resource = %key, attempts = p.attempts, error = %e, "change event failed for good; the next cycle is made due now");
                    queue.finish(&key, p, None);
                } else {
                    s.stats.retries += 1;
                    drop(s);
                    let wait = config.backoff.saturating_mul(1 << (p.attempts - 1).min(16)).min(config.max_backoff);
                    tracing::warn!(resource = %key, attempts = p.attempts, retry_in_ms = wait.as_millis() as u64, error = %e, "change event failed; retrying");
                    queue.finish(&key, p, Some(now + wait.as_millis() as i64));
                }
            }
        }
    }
}

impl Engine {
    /// One attempt at an event about `key` received at `received_at` (see the module
    /// `events` for the order of the steps).
    async fn apply_event<S: Sink>(&self, key: &ResourceKey, received_at: i64, sink: &S, config: &EventsConfig) -> Result<Attempt> {
        let provider = &self.config.provider_name;
        let id = key.id();
        match self.store.claim_resource(provider, &id, &self.lease_owner, config.claim_ttl).await? {
            Claim::Taken => {}
            Claim::Held { claimed_at } if claimed_at >= received_at + CLOCK_SKEW_MS => return Ok(Attempt::Covered),
            Claim::Held { .. } => return Ok(Attempt::Busy),
        }
        let result = self.apply_claimed(key, sink).await;
        if let Err(e) = self.store.release_resource(provider, &id, &self.lease_owner).await {
            tracing::debug!(resource = %key, error = %e, "could not release an event claim; it expires on its own");
        }
        result
    }

    async fn apply_claimed<S: Sink>(&self, key: &ResourceKey, sink: &S) -> Result<Attempt> {
        let provider = &self.config.provider_name;
        let r = self.resolve(key).await?;
        for e in &r.item_errors {
            tracing::warn!(resource = %key, error = %e, "a changed resource cannot become an entity; an earlier copy stays");
        }
        if let Some(why) = &r.rejected {
            tracing::warn!(resource = %key, "{why}");
            let mut s = self.events.state.lock().unwrap();
            s.stats.rejected_cascades += 1;
            s.stats.last_error = Some(why.clone());
        }
        if !r.added.is_empty() || !r.removed.is_empty() {
            let marks: Vec<(String, Option<String>)> = r
                .added
                .iter()
                .map(|e| (e.entity_ref().to_string(), Some(e.json().to_string())))
                .chain(r.removed.iter().map(|x| (x.clone(), None)))
                .collect();
            self.store.write_marks(provider, &marks, r.fetched_at).await?;
            let present: Vec<String> = r.added.iter().map(|e| e.entity_ref().to_string()).collect();
            let mutation = Mutation { added: r.added, removed: r.removed.clone(), location_key: self.ctx.location_key.clone() };
            sink.apply(mutation)
                .await
                .map_err(|msg| Error::new(ErrorCode::Sink, format!("the catalog did not accept the change of {key}: {msg}")))?;
            self.store.record_event(provider, &present, &r.removed).await?;
            tracing::debug!(resource = %key, added = present.len(), removed = r.removed.len(), "applied a change event");
        }
        Ok(Attempt::Applied { follow_up: r.follow_up })
    }
}

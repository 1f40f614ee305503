//! JavaScript mirrors of the core's report and status types, so `index.d.ts` is precise.
//! Times are Unix epoch milliseconds; absent values are `null`.

use napi_derive::napi;

use crate::engine::status as core;
use crate::engine::TickReport as CoreTickReport;

/// What one `tick()` did.
#[napi(object, use_nullable = true)]
pub struct TickReport {
    /// `burst` (pages were walked), `waiting` (nothing due yet), `locked` (another
    /// process is bursting this provider) or `failed` (the burst failed and backs off).
    pub action: String,
    pub pages: i64,
    pub entities: i64,
    pub cycle_completed: bool,
    /// Entity refs removed at the end of a completed cycle.
    pub removed: i64,
    /// When the next action is due (epoch ms).
    pub next_action_at: i64,
    pub error: Option<String>,
    /// How long each page of the burst took to read from the OpenChoreo API, retries
    /// included (ms), in the order the burst used them.
    pub page_fetch_millis: Vec<f64>,
}

impl From<CoreTickReport> for TickReport {
    fn from(r: CoreTickReport) -> Self {
        let CoreTickReport { action, pages, entities, cycle_completed, removed, next_action_at, error, page_fetch_millis } = r;
        TickReport { action, pages, entities, cycle_completed, removed, next_action_at, error, page_fetch_millis }
    }
}

/// A provider's persisted ingestion state (the status route's body).
#[napi(object, use_nullable = true)]
pub struct ProviderStatus {
    pub provider: String,
    /// Cycle number, 1 for the first cycle ever (0 before any).
    pub cycle: i64,
    /// `idle` | `bursting` | `stalled` | `interstitial` | `resting` | `backing off`.
    /// `bursting` only while a burst's holder renews its lease; `stalled` when the burst
    /// that was running stopped without finishing (its holder stopped renewing), since
    /// its last renewal.
    pub current_action: String,
    pub current_action_since: i64,
    /// `burst` (continue the cycle), `finish cycle`, `start cycle`, or after a stall
    /// `take over the burst` (at `nextActionAt`: when the lease expires).
    pub next_action: String,
    pub next_action_at: i64,
    /// The burst lease, while someone holds one (`null`: free).
    pub lease: Option<LeaseStatus>,
    /// Consecutive failed bursts.
    pub attempts: i64,
    pub last_error: Option<String>,
    pub progress: CycleProgress,
    /// Per-item errors of the current cycle (the newest, at most 100).
    pub item_errors: Vec<ItemError>,
    pub item_error_count: i64,
    /// The last removal a guard refused; cleared when a cycle's removals go through.
    pub rejected_removal: Option<RejectedRemoval>,
    pub last_completed_cycle: Option<CompletedCycle>,
    /// Entity refs this provider currently owns in the catalog.
    pub owned_entities: i64,
    /// The last catalog consistency check, if any ran.
    pub consistency: Option<ConsistencyReport>,
    /// Owned refs waiting to be handed over again with a content change.
    pub heal_pending: i64,
    /// OpenChoreo change events received by this process.
    pub events: EventStats,
}

/// Change events of this process: counters since it started (see `pushEvent`).
#[napi(object, use_nullable = true)]
pub struct EventStats {
    /// Whether events are applied (`openchoreo.events.enabled` and `startEvents` called).
    pub enabled: bool,
    pub received: i64,
    /// Fetched and applied to the catalog.
    pub applied: i64,
    /// Merged into an event about the same resource (fetched once for all).
    pub coalesced: i64,
    /// Not applied after every retry (each made the next cycle due now).
    pub failed: i64,
    pub retries: i64,
    /// Payloads naming nothing this module ingests.
    pub ignored: i64,
    /// Did not fit the queue (each made the next cycle due now).
    pub overflowed: i64,
    /// Times a lost event made the next cycle due now.
    pub refreshes_requested: i64,
    /// Cascading removals a guard refused.
    pub rejected_cascades: i64,
    pub queued: i64,
    pub in_flight: i64,
    /// Receipt to the catalog's acceptance, of the last applied event (ms).
    pub last_lag_millis: Option<i64>,
    pub last_applied_at: Option<i64>,
    pub last_error: Option<String>,
}

impl From<crate::engine::events::EventStats> for EventStats {
    fn from(e: crate::engine::events::EventStats) -> Self {
        let crate::engine::events::EventStats {
            enabled,
            received,
            applied,
            coalesced,
            failed,
            retries,
            ignored,
            overflowed,
            refreshes_requested,
            rejected_cascades,
            queued,
            in_flight,
            last_lag_millis,
            last_applied_at,
            last_error,
        } = e;
        EventStats {
            enabled,
            received,
            applied,
            coalesced,
            failed,
            retries,
            ignored,
            overflowed,
            refreshes_requested,
            rejected_cascades,
            queued,
            in_flight,
            last_lag_millis,
            last_applied_at,
            last_error,
        }
    }
}

/// Who holds the burst lease and until when.
#[napi(object)]
pub struct LeaseStatus {
    /// `host:pid:start` of the holding engine.
    pub holder: String,
    /// Whether the holder is this engine.
    pub held_here: bool,
    /// When it expires unless renewed (epoch ms).
    pub until: i64,
    /// Its last renewal (epoch ms).
    pub renewed_at: i64,
    /// `held` (renewed on time), `overdue` (not renewed for two heartbeats: the holder
    /// has most likely stopped) or `expired` (free for the next tick to take).
    pub state: String,
}

/// How the burst lease is timed (seconds), for the scheduler task that drives the engine.
#[napi(object)]
pub struct LeaseTimings {
    /// A lease lives this long past its last renewal.
    pub lease_ttl_seconds: f64,
    /// A running burst renews it this often.
    pub heartbeat_seconds: f64,
    /// The heartbeat renews a burst's lease for at most this long (`burstLength` + 60 s).
    pub hold_limit_seconds: f64,
}

#[napi(object, use_nullable = true)]
pub struct CycleProgress {
    /// The list being walked (`namespaces`, `environments`, ..., `components`,
    /// `clustercomponenttypes`, ...) or `done`
    pub phase: String,
    /// 1-based index of the namespace being walked, 0 during the namespaces phase.
    pub namespace_index: i64,
    pub namespace_count: i64,
    pub current_namespace: Option<String>,
    pub pages: i64,
    pub entities: i64,
    pub requests: i64,
    /// Lists restarted from their beginning after a cursor failed (expired).
    pub cursor_restarts: i64,
    pub started_at: i64,
    /// Entities per second over the time spent bursting in this cycle.
    pub entities_per_second: f64,
    pub burst_millis: i64,
    /// Items of this cycle that could not become entities.
    pub item_errors: i64,
    /// Bursts spent on this cycle so far.
    pub bursts: i64,
    /// Lists the server does not serve (404 although the namespace exists: an older
    /// OpenChoreo): skipped for the rest of the cycle; their entities are kept.
    pub unserved_lists: Vec<String>,
}

/// An OpenChoreo item that could not become an entity (it is kept out; the rest goes on).
#[napi(object, use_nullable = true)]
pub struct ItemError {
    /// The API path of the list the item came from.
    pub path: String,
    /// The item's name, when it had one.
    pub item: Option<String>,
    pub message: String,
    pub at: i64,
}

/// A removal refused by `rejectRemovalsAbovePercentage` / `rejectEmptySourceCollections`.
#[napi(object)]
pub struct RejectedRemoval {
    pub cycle: i64,
    pub stale: i64,
    pub owned: i64,
    pub reason: String,
    pub at: i64,
}

#[napi(object)]
pub struct CompletedCycle {
    pub cycle: i64,
    pub started_at: i64,
    pub finished_at: i64,
    pub duration_millis: i64,
    pub entities: i64,
    pub added: i64,
    pub removed: i64,
    pub requests: i64,
    pub pages: i64,
}

/// What a catalog consistency check found: the catalog's filtered listing of the
/// provider against the refs the engine owns.
#[napi(object)]
pub struct ConsistencyReport {
    /// The check's id (its start, epoch ms).
    pub check: i64,
    /// Refs the catalog listed for the provider, and how many of them the engine owns.
    pub listed: i64,
    pub listed_owned: i64,
    /// Refs owned when the last cycle completed that the listing lacks.
    pub unlisted: i64,
    /// The first of them (at most 20).
    pub unlisted_sample: Vec<String>,
    /// How many were marked to be handed over again.
    pub heal_marked: i64,
    /// Refs marked by earlier checks that this one found listed again (repaired).
    pub healed: i64,
    /// The last completed cycle when the check ran.
    pub settled_cycle: i64,
    pub finished_at: i64,
}

/// A ref waiting to be handed over again, with the check that asked.
#[napi(object)]
pub struct HealRef {
    pub entity_ref: String,
    pub check: i64,
}

// The conversions destructure the core types exhaustively: a field added in the core is a
// compile error here until the mirror (and so `index.d.ts`) has it too.

impl From<core::ProviderStatus> for ProviderStatus {
    fn from(s: core::ProviderStatus) -> Self {
        let core::ProviderStatus {
            provider,
            cycle,
            current_action,
            current_action_since,
            next_action,
            next_action_at,
            lease,
            attempts,
            last_error,
            progress,
            item_errors,
            item_error_count,
            rejected_removal,
            last_completed_cycle,
            owned_entities,
            consistency,
            heal_pending,
            events,
        } = s;
        ProviderStatus {
            provider,
            cycle,
            current_action,
            current_action_since,
            next_action,
            next_action_at,
            lease: lease.map(Into::into),
            attempts,
            last_error,
            progress: progress.into(),
            item_errors: item_errors.into_iter().map(Into::into).collect(),
            item_error_count,
            rejected_removal: rejected_removal.map(Into::into),
            last_completed_cycle: last_completed_cycle.map(Into::into),
            owned_entities,
            consistency: consistency.map(Into::into),
            heal_pending,
            events: events.into(),
        }
    }
}

impl From<core::LeaseStatus> for LeaseStatus {
    fn from(l: core::LeaseStatus) -> Self {
        let core::LeaseStatus { holder, held_here, until, renewed_at, state } = l;
        LeaseStatus { holder, held_here, until, renewed_at, state }
    }
}

impl From<core::CycleProgress> for CycleProgress {
    fn from(p: core::CycleProgress) -> Self {
        let core::CycleProgress {
            phase,
            namespace_index,
            namespace_count,
            current_namespace,
            pages,
            entities,
            requests,
            cursor_restarts,
            started_at,
            entities_per_second,
            burst_millis,
            item_errors,
            bursts,
            unserved_lists,
        } = p;
        CycleProgress {
            phase,
            namespace_index,
            namespace_count,
            current_namespace,
            pages,
            entities,
            requests,
            cursor_restarts,
            started_at,
            entities_per_second,
            burst_millis,
            item_errors,
            bursts,
            unserved_lists,
        }
    }
}

impl From<core::ItemError> for ItemError {
    fn from(e: core::ItemError) -> Self {
        let core::ItemError { path, item, message, at } = e;
        ItemError { path, item, message, at }
    }
}

impl From<core::RejectedRemoval> for RejectedRemoval {
    fn from(r: core::RejectedRemoval) -> Self {
        let core::RejectedRemoval { cycle, stale, owned, reason, at } = r;
        RejectedRemoval { cycle, stale, owned, reason, at }
    }
}

impl From<core::CompletedCycle> for CompletedCycle {
    fn from(c: core::CompletedCycle) -> Self {
        let core::CompletedCycle { cycle, started_at, finished_at, duration_millis, entities, added, removed, requests, pages } = c;
        CompletedCycle { cycle, started_at, finished_at, duration_millis, entities, added, removed, requests, pages }
    }
}

impl From<core::ConsistencyReport> for ConsistencyReport {
    fn from(r: core::ConsistencyReport) -> Self {
        let core::ConsistencyReport { check, listed, listed_owned, unlisted, unlisted_sample, heal_marked, healed, settled_cycle, finished_at } = r;
        ConsistencyReport { check, listed, listed_owned, unlisted, unlisted_sample, heal_marked, healed, settled_cycle, finished_at }
    }
}

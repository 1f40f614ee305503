//! What an operator sees: the provider's persisted state, shaped for the status route.
//! Times are Unix epoch milliseconds.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
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
    /// `take over the burst` (at `nextActionAt`: when the lease expires; the next tick of
    /// any replica from then on).
    pub next_action: String,
    pub next_action_at: i64,
    /// The burst lease, while someone holds one (`None`: free).
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
    /// The last catalog consistency check (`consistency.rs`), if any ran.
    pub consistency: Option<ConsistencyReport>,
    /// Owned refs waiting to be handed over again with a content change (a check found
    /// them missing from the catalog's listing).
    pub heal_pending: i64,
    /// Change events of this process (see `crate::engine::events`).
    #[serde(default)]
    pub events: super::events::EventStats,
}

/// Who holds the burst lease and until when.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
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

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
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
    pub bursts: i64,
    /// Lists the server does not serve (404 although the namespace exists: an older
    /// OpenChoreo): skipped for the rest of the cycle; their entities are kept.
    #[serde(default)]
    pub unserved_lists: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ItemError {
    /// The API path of the list the item came from.
    pub path: String,
    /// The item's name, when it had one.
    pub item: Option<String>,
    pub message: String,
    pub at: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct RejectedRemoval {
    pub cycle: i64,
    pub stale: i64,
    pub owned: i64,
    pub reason: String,
    pub at: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
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

/// What one check found.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ConsistencyReport {
    pub check: i64,
    /// Refs the catalog listed for the provider, and how many of them the engine owns.
    pub listed: i64,
    pub listed_owned: i64,
    /// Refs the engine owned when its last cycle completed that the listing lacks.
    pub unlisted: i64,
    pub unlisted_sample: Vec<String>,
    /// How many of those were marked to be handed over again.
    pub heal_marked: i64,
    /// Refs marked by earlier checks that this one found listed again (repaired).
    pub healed: i64,
    /// The last completed cycle (refs first seen later are not checked: the catalog
    /// may not have processed them yet).
    pub settled_cycle: i64,
    pub finished_at: i64,
}

//! OpenChoreo change events: a resource re-read seconds after it changed, instead of on
//! the next cycle.
//!
//! An event (`{kind, name, namespace?, action}`, as the portal publishes on topic
//! `openchoreo`) names one resource; the engine re-reads it with `GET <list>/<name>`
//! (404 = gone), translates it as its list's page would ([`resolve`]) and applies a
//! `delta` through the same sink as the walk. The order of the steps is what keeps the
//! walk and the events from undoing each other:
//!
//! 1. claim the resource in the state database (one fetch of it at a time, on any replica);
//! 2. fetch and translate; note when the GET answered (`fetched_at`);
//! 3. write a *mark* per entity ref: the result (entity JSON, or gone) and `fetched_at`;
//! 4. apply the mutation to the catalog;
//! 5. record it in the state: present refs are owned and seen in the current cycle (the
//!    end-of-cycle sweep keeps them), gone refs are forgotten.
//!
//! Ordering is by fetch time: a burst treats every mark fetched at or after its start
//! (less [`CLOCK_SKEW_MS`]) as newer than its own pages, substitutes the mark's result
//! for the page's copy before applying a page, and after applying it repairs the refs
//! whose marks appeared meanwhile ([`fence`]). The API gives no version the walk could
//! compare instead (the stand-in has no `resourceVersion`, and derived entities such as
//! APIs and Templates have none of their own). Preferring the event's result in the
//! ambiguous window is safe: a change after the event's GET raises an event of its own.
//!
//! [`queue`] coalesces, bounds and retries events and keeps the counters the status shows.

pub mod fence;
pub mod queue;
mod resolve;

use serde::{Deserialize, Serialize};

use crate::kinds::{self, Scope, LISTS};

/// Clocks of two replicas may differ by this much; fetch times closer than this are
/// treated as "the event is newer".
pub const CLOCK_SKEW_MS: i64 = 2_000;

/// Marks older than this are pruned: no page is held longer between its fetch and its apply.
pub const MARK_RETENTION_MS: i64 = 60 * 60 * 1000;

/// A change event's payload, as published by the portal (and the legacy event router).
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
pub struct ChangeEvent {
    pub kind: String,
    pub name: String,
    #[serde(default)]
    pub namespace: Option<String>,
    #[serde(default)]
    pub action: Option<String>,
}

/// The resource an event names: a list of the kind table, a namespace (`""` for
/// cluster-scoped lists) and a name. Events about the same resource coalesce.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ResourceKey {
    pub list: usize,
    pub namespace: String,
    pub name: String,
}

impl ResourceKey {
    pub fn kind(&self) -> &'static kinds::ListKind {
        &LISTS[self.list]
    }

    /// `<event kind>:<namespace>/<name>` (the claim's key and what logs show).
    pub fn id(&self) -> String {
        format!("{}:{}/{}", self.kind().event, self.namespace, self.name)
    }
}

impl std::fmt::Display for ResourceKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.id())
    }
}

impl ChangeEvent {
    /// Parses a payload (a JSON object); the error says what is wrong with it.
    pub fn parse(json: &str) -> Result<ChangeEvent, String> {
        let v: serde_json::Value = serde_json::from_str(json).map_err(|e| format!("the event payload is not JSON: {e}"))?;
        if !v.is_object() {
            return Err("the event payload is not a JSON object".into());
        }
        serde_json::from_value(v).map_err(|e| format!("the event payload is not {{kind, name, namespace?, action}}: {e}"))
    }

    /// The resource it names, or why it names none this module ingests. A namespaced
    /// kind without a namespace is in `default` (as the legacy module reads it).
    pub fn key(&self) -> Result<ResourceKey, String> {
        let list = kinds::by_event(&self.kind).ok_or_else(|| format!("unknown event kind {:?}", self.kind))?;
        let name = self.name.trim();
        if name.is_empty() || name.contains('/') {
            return Err(format!("event {:?} names no valid resource (name {:?})", self.kind, self.name));
        }
        let namespace = match LISTS[list].scope {
            Scope::Cluster => String::new(),
            Scope::Namespaced => self.namespace.as_deref().map(str::trim).filter(|n| !n.is_empty()).unwrap_or("default").to_string(),
        };
        if let Some(action) = &self.action {
            if !["created", "updated", "deleted"].contains(&action.to_ascii_lowercase().as_str()) {
                return Err(format!("event {:?} has an unknown action {action:?}", self.kind));
            }
        }
        Ok(ResourceKey { list, namespace, name: name.to_string() })
    }
}

/// What the status shows about events (counters since the process started).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct EventStats {
    /// Whether events are subscribed (`openchoreo.events.enabled`).
    pub enabled: bool,
    pub received: i64,
    /// Events whose resource was fetched and its mutation applied.
    pub applied: i64,
    /// Events merged into one already waiting (or covered by a fetch that started after them).
    pub coalesced: i64,
    /// Events that could not be applied after every retry (each turned into `refresh now`).
    pub failed: i64,
    /// Failed attempts that were retried.
    pub retries: i64,
    /// Payloads that name nothing this module ingests.
    pub ignored: i64,
    /// Events that did not fit the queue (each turned into `refresh now`).
    pub overflowed: i64,
    /// Times a lost event made the next cycle due now.
    pub refreshes_requested: i64,
    /// Removals an event would have cascaded that a guard refused.
    pub rejected_cascades: i64,
    pub queued: i64,
    pub in_flight: i64,
    /// From receipt to the catalog's acceptance, of the last applied event (ms).
    pub last_lag_millis: Option<i64>,
    pub last_applied_at: Option<i64>,
    pub last_error: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payloads_name_resources_of_the_kind_table() {
        let e = ChangeEvent::parse(r#"{"kind":"Component","name":"c1","namespace":"ns","action":"updated"}"#).unwrap();
        let k = e.key().unwrap();
        assert_eq!(k.kind().list, "components");
        assert_eq!(k.id(), "component:ns/c1");
        let e = ChangeEvent::parse(r#"{"kind":"project","name":"p","action":"created"}"#).unwrap();
        assert_eq!(e.key().unwrap().namespace, "default");
        let e = ChangeEvent::parse(r#"{"kind":"clustertrait","name":"t","namespace":"x","action":"deleted"}"#).unwrap();
        assert_eq!(e.key().unwrap().namespace, "");
        assert!(ChangeEvent::parse("[1]").is_err());
        assert!(ChangeEvent::parse(r#"{"kind":"release","name":"r"}"#).unwrap().key().unwrap_err().contains("unknown event kind"));
        assert!(ChangeEvent::parse(r#"{"kind":"component","name":""}"#).unwrap().key().is_err());
        assert!(ChangeEvent::parse(r#"{"kind":"component","name":"a","action":"exploded"}"#).unwrap().key().is_err());
        assert!(ChangeEvent::parse(r#"{"name":"a"}"#).is_err());
    }
}

//! The burst's side of the ordering between pages and events (see the module above):
//! every mark fetched at or after `since` is newer than the burst's pages (all fetched
//! after the burst started), so its result replaces the page's copy of that ref.
//!
//! Before a page is applied, the refs with known marks get the mark's result; after it is
//! applied, the marks that appeared meanwhile (an event on another replica, or one that
//! finished while the page was in flight) are applied again on top. An event writes its
//! marks before its own mutation, so one that the check after the apply does not see
//! applies its mutation after the page: the catalog ends with the newer result either way.

use std::collections::HashMap;

use super::CLOCK_SKEW_MS;
use crate::engine::{Engine, Mutation, Sink};
use crate::error::{Error, ErrorCode, Result};
use crate::store::now_ms;
use crate::translate::Entity;

/// Marks are polled from `last poll - POLL_OVERLAP`: a mark's fetch time precedes its
/// write by the event's translation and a clock's skew.
const POLL_OVERLAP_MS: i64 = 10_000 + CLOCK_SKEW_MS;

pub struct Fence {
    since: i64,
    last_poll: Option<i64>,
    /// Marks known to this burst: ref -> fetched_at.
    known: HashMap<String, i64>,
}

impl Fence {
    /// A fence for pages fetched from `started_at` (epoch ms) on.
    pub fn new(started_at: i64) -> Fence {
        Fence { since: started_at - CLOCK_SKEW_MS, last_poll: None, known: HashMap::new() }
    }

    /// Reads the marks written since the last poll (with an overlap).
    pub async fn poll(&mut self, engine: &Engine) -> Result<()> {
        let now = now_ms();
        let from = self.last_poll.map_or(self.since, |t| (t - POLL_OVERLAP_MS).max(self.since));
        for (r, at) in engine.store.marks_since(&engine.config.provider_name, from).await? {
            let e = self.known.entry(r).or_insert(at);
            *e = (*e).max(at);
        }
        self.last_poll = Some(now);
        Ok(())
    }

    /// Before a page is applied: the events' results replace the page's copies (a gone
    /// mark drops the entity and its seen ref). Returns what was substituted.
    pub async fn substitute(&mut self, engine: &Engine, added: &mut Vec<Entity>, seen: &mut Vec<String>) -> Result<HashMap<String, i64>> {
        let hits: Vec<String> = seen.iter().filter(|r| self.known.contains_key(*r)).cloned().collect();
        if hits.is_empty() {
            return Ok(HashMap::new());
        }
        let marks = engine.store.marks_of(&engine.config.provider_name, &hits).await?;
        let mut done = HashMap::new();
        for (r, mark) in marks {
            if mark.fetched_at < self.since {
                continue;
            }
            match mark.entity {
                Some(json) => {
                    let entity = Entity::from_stored(r.clone(), json);
                    match added.iter_mut().find(|e| e.entity_ref() == r) {
                        Some(slot) => *slot = entity,
                        None => added.push(entity),
                    }
                }
                None => {
                    added.retain(|e| e.entity_ref() != r);
                    seen.retain(|s| *s != r);
                }
            }
            done.insert(r, mark.fetched_at);
        }
        Ok(done)
    }

    /// After a page (or removal) was applied: the marks of its refs that are newer than
    /// what [`Fence::substitute`] used are applied again, so the page cannot stand over
    /// an event's newer result. Gone refs leave `seen`; present ones are returned (a
    /// removal must not forget them).
    pub async fn repair<S: Sink>(
        &mut self,
        engine: &Engine,
        sink: &S,
        refs: &[String],
        used: &HashMap<String, i64>,
        seen: &mut Vec<String>,
    ) -> Result<Vec<String>> {
        self.poll(engine).await?;
        let newer: Vec<String> = refs
            .iter()
            .filter(|r| self.known.get(*r).is_some_and(|at| used.get(*r).is_none_or(|u| at > u)))
            .cloned()
            .collect();
        if newer.is_empty() {
            return Ok(Vec::new());
        }
        let marks = engine.store.marks_of(&engine.config.provider_name, &newer).await?;
        let mut m = Mutation { location_key: engine.ctx.location_key.clone(), ..Default::default() };
        for (r, mark) in marks {
            if mark.fetched_at < self.since || used.get(&r).is_some_and(|u| mark.fetched_at <= *u) {
                continue;
            }
            match mark.entity {
                Some(json) => m.added.push(Entity::from_stored(r, json)),
                None => {
                    seen.retain(|s| *s != r);
                    m.removed.push(r);
                }
            }
        }
        if m.added.is_empty() && m.removed.is_empty() {
            return Ok(Vec::new());
        }
        tracing::debug!(added = m.added.len(), removed = m.removed.len(), "events changed refs of a page while it was applied; applying their results again");
        let present: Vec<String> = m.added.iter().map(|e| e.entity_ref().to_string()).collect();
        sink.apply(m)
            .await
            .map_err(|msg| Error::new(ErrorCode::Sink, format!("the catalog did not accept events' newer results: {msg}")))?;
        Ok(present)
    }

    /// Removals at the end of a cycle: refs that an event found present are kept.
    pub async fn keep_present(&mut self, engine: &Engine, refs: &mut Vec<String>) -> Result<()> {
        self.poll(engine).await?;
        let hits: Vec<String> = refs.iter().filter(|r| self.known.contains_key(*r)).cloned().collect();
        if hits.is_empty() {
            return Ok(());
        }
        let marks = engine.store.marks_of(&engine.config.provider_name, &hits).await?;
        refs.retain(|r| !marks.get(r).is_some_and(|m| m.fetched_at >= self.since && m.entity.is_some()));
        Ok(())
    }
}

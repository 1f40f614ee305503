//! The catalog consistency check. Backstage's catalog can keep an entity whose search
//! rows or stitch a crash interrupted (backstage/backstage#35734): `by-name` finds it,
//! every filtered listing skips it, and processing the unchanged entity again stops
//! before stitching, so no later cycle repairs it. The check compares the refs this
//! provider owns with the catalog's filtered listing of the provider (handed in page by
//! page; nothing is held in memory), and marks the owned refs the listing lacks to be
//! handed over with a content change (the module adds an annotation), which the catalog
//! then processes and stitches in full. The mark stays, and every handover carries the
//! same annotation, until a later check finds the ref listed: a mark cleared at the
//! first handover would let the next cycle hand the old content back before the catalog
//! processed the changed one, and the catalog would skip it again.

use super::status::ConsistencyReport;
use super::{adoptable_ref, Engine};
use crate::error::Result;
use crate::store::now_ms;

/// Unlisted refs a report names (the count covers them all).
const SAMPLE: i64 = 20;

impl Engine {
    /// Starts a check; returns its id (later checks have larger ids).
    pub fn begin_consistency_check(&self) -> Result<i64> {
        self.check_open()?;
        Ok(now_ms())
    }

    /// One page of the catalog's listing of this provider (refs `kind:namespace/name`);
    /// returns how many of them the engine owned. The listed refs it did not own are
    /// adopted: the catalog holds them under this provider, so they are its entities,
    /// handed over by a page whose commit never happened (the process was killed between
    /// the hand-over and the commit, and the item was gone when the page was walked again).
    /// Owned, they leave with the next completed cycle's sweep unless the source has them.
    pub async fn consistency_listed(&self, check: i64, refs: Vec<String>) -> Result<u64> {
        self.check_open()?;
        let name = &self.config.provider_name;
        let refs: Vec<String> = refs.iter().filter_map(|r| adoptable_ref(r)).collect();
        let owned = self.store.mark_listed(name, check, &refs).await?;
        if (owned as usize) < refs.len() {
            let adopted = self.store.adopt_refs(name, &refs).await?;
            self.store.mark_listed(name, check, &refs).await?;
            tracing::warn!(
                provider = %name,
                adopted,
                "the catalog lists entities of this provider that the engine did not own (a hand-over whose commit was lost); \
                 adopted: the next completed cycle removes those the source no longer has"
            );
        }
        Ok(owned)
    }

    /// Ends a check after the whole listing went through [`Self::consistency_listed`]:
    /// counts the owned refs it lacked and, with `heal`, marks them to be handed over again.
    pub async fn finish_consistency_check(&self, check: i64, listed: i64, listed_owned: i64, heal: bool) -> Result<ConsistencyReport> {
        self.check_open()?;
        let name = &self.config.provider_name;
        let row = self.store.load_provider(name).await?;
        let settled_cycle = row.last_completed.as_ref().map_or(0, |c| c.cycle);
        let healed = self.store.clear_listed_heals(name, check).await?;
        let (unlisted, unlisted_sample) = self.store.unlisted(name, check, settled_cycle, SAMPLE).await?;
        let heal_marked = if heal && unlisted > 0 { self.store.mark_heal(name, check, settled_cycle).await? as i64 } else { 0 };
        let report = ConsistencyReport {
            check,
            listed,
            listed_owned,
            unlisted,
            unlisted_sample,
            heal_marked,
            healed: healed as i64,
            settled_cycle,
            finished_at: now_ms(),
        };
        self.store.save_consistency(name, &report).await?;
        Ok(report)
    }

    /// Refs to hand over again with a content change, with the check that asked (at
    /// most `limit`).
    pub async fn heal_refs(&self, limit: i64) -> Result<Vec<(String, i64)>> {
        self.check_open()?;
        self.store.heal_refs(&self.config.provider_name, limit).await
    }
}

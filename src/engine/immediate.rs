//! Single entities handed to the catalog at once, outside a cycle (OpenChoreo's scaffolder
//! actions insert what they have just created, through the `openchoreo.immediate-catalog`
//! service): recorded in the provider's state the way a cycle records what it sees, so
//! that the end-of-cycle sweep and the next cycle agree with the catalog.

use super::{adoptable_ref, Engine};
use crate::error::Result;

impl Engine {
    /// An entity the catalog is getting now. Its ref becomes owned and seen in the current
    /// cycle: this cycle's sweep keeps it even when the walk had passed its namespace
    /// before it was created, and the next cycle removes it only if OpenChoreo no longer
    /// has it. Returns the ref as stored (`kind:namespace/name`, lower-cased), or `None`
    /// (nothing recorded) for a malformed ref or a kind this module does not produce
    /// ([`super::owns_kind`]): no cycle would ever see such an entity, so the next sweep
    /// would remove it.
    pub async fn record_inserted(&self, entity_ref: &str) -> Result<Option<String>> {
        self.check_open()?;
        let Some(r) = adoptable_ref(entity_ref) else { return Ok(None) };
        let name = &self.config.provider_name;
        self.store.load_provider(name).await?;
        let new = self.store.own_immediate(name, &r).await?;
        tracing::debug!(provider = %name, entity_ref = %r, new, "recorded an entity inserted at once");
        Ok(Some(r))
    }

    /// An entity removed from the catalog at once: forgotten, so no sweep removes it
    /// again; a later cycle that still finds it in OpenChoreo adds it back. Returns
    /// whether the provider owned it.
    pub async fn forget_removed(&self, entity_ref: &str) -> Result<bool> {
        self.check_open()?;
        let Some(r) = adoptable_ref(entity_ref) else { return Ok(false) };
        let name = &self.config.provider_name;
        let owned = self.store.forget_immediate(name, &r).await?;
        tracing::debug!(provider = %name, entity_ref = %r, owned, "forgot an entity removed at once");
        Ok(owned)
    }
}

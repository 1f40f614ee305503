//! The state of single entities the catalog got (or lost) at once, outside a cycle:
//! OpenChoreo's scaffolder actions insert what they have just created through the
//! `openchoreo.immediate-catalog` service. Not fenced by the burst lease (like adoption):
//! these writes add to what a burst records and never move its cursor.

use sqlx::Row;

use super::{Store, ENTITY_COLUMNS, ENTITY_CONFLICT};
use crate::error::{Error, Result};

impl Store {
    /// Owns `entity_ref` and records it as seen in the provider's current cycle (one
    /// seen-pages row of one ref), in one transaction that reads the cycle itself, so a
    /// cycle starting meanwhile cannot pair the ref with the wrong cycle: the current
    /// cycle's sweep keeps it, and the next cycle removes it only if OpenChoreo no longer
    /// has it. It also leaves the stale list of a cycle that is settling. Returns whether
    /// the ref was new to the owned set. The provider row must exist.
    pub async fn own_immediate(&self, provider: &str, entity_ref: &str) -> Result<bool> {
        let refs = serde_json::to_string(&[entity_ref]).expect("a string array serializes");
        let mut tx = self.begin().await?;
        let own = self.dialect.insert(
            ENTITY_COLUMNS,
            &self.sql("SELECT name, $1, cycle FROM oc_ingest_providers WHERE name = $2"),
            &ENTITY_CONFLICT,
        );
        let owned = sqlx::query(&own)
        .bind(entity_ref)
        .bind(provider)
        .execute(&mut *tx)
        .await
        .map_err(|e| Error::db("owning an inserted entity ref", e))?;
        sqlx::query(&self.sql(
            "INSERT INTO oc_ingest_seen_pages (provider, cycle, refs) \
             SELECT name, cycle, $1 FROM oc_ingest_providers WHERE name = $2",
        ))
        .bind(refs)
        .bind(provider)
        .execute(&mut *tx)
        .await
        .map_err(|e| Error::db("recording an inserted entity ref as seen", e))?;
        sqlx::query(&self.sql("DELETE FROM oc_ingest_stale WHERE provider = $1 AND entity_ref = $2"))
            .bind(provider)
            .bind(entity_ref)
            .execute(&mut *tx)
            .await
            .map_err(|e| Error::db("keeping an inserted entity ref", e))?;
        tx.commit().await.map_err(|e| Error::db("recording an inserted entity ref", e))?;
        Ok(owned.rows_affected() > 0)
    }

    /// Forgets `entity_ref` (owned and stale) after the catalog removed it at once.
    /// Returns whether it was owned.
    pub async fn forget_immediate(&self, provider: &str, entity_ref: &str) -> Result<bool> {
        let mut tx = self.begin().await?;
        let owned: i64 = sqlx::query(&self.sql("SELECT COUNT(*) FROM oc_ingest_entities WHERE provider = $1 AND entity_ref = $2"))
            .bind(provider)
            .bind(entity_ref)
            .fetch_one(&mut *tx)
            .await
            .map_err(|e| Error::db("reading a removed entity ref", e))?
            .get(0);
        for table in ["oc_ingest_entities", "oc_ingest_stale"] {
            sqlx::query(&self.sql(&format!("DELETE FROM {table} WHERE provider = $1 AND entity_ref = $2")))
                .bind(provider)
                .bind(entity_ref)
                .execute(&mut *tx)
                .await
                .map_err(|e| Error::db("forgetting a removed entity ref", e))?;
        }
        tx.commit().await.map_err(|e| Error::db("forgetting a removed entity ref", e))?;
        Ok(owned > 0)
    }
}

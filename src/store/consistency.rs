//! The consistency check's marks on owned refs (see `engine::consistency`): which refs
//! the catalog's filtered listing returned, and which wait to be handed over again.

use super::{from_json, json, text, Error, Result, Row, Store};
use crate::engine::status::ConsistencyReport;

/// Refs per statement (one bind parameter each).
const CHUNK: usize = 200;

impl Store {
    /// Marks the owned refs among `refs` as listed by check `check` (a later check's mark
    /// stays: two checks at once each see the other's listing as their own). Returns how
    /// many of `refs` are owned.
    pub async fn mark_listed(&self, provider: &str, check: i64, refs: &[String]) -> Result<u64> {
        let mut owned = 0;
        for chunk in refs.chunks(CHUNK) {
            let d = self.dialect;
            let sql = format!(
                "UPDATE oc_ingest_entities SET listed_check = CASE WHEN listed_check < {} THEN {} ELSE listed_check END \
                 WHERE provider = {} AND entity_ref IN ({})",
                d.param(1),
                d.param(2),
                d.param(3),
                d.params(4, chunk.len()).join(","),
            );
            let mut q = sqlx::query(&sql).bind(check).bind(check).bind(provider);
            for r in chunk {
                q = q.bind(r.as_str());
            }
            let done = q.execute(&self.pool).await.map_err(|e| Error::db("marking the refs the catalog lists", e))?;
            owned += done.rows_affected();
        }
        Ok(owned)
    }

    /// Owned refs that check `check` did not see listed, among those first seen up to
    /// `settled_cycle` (later ones may not be processed yet): how many, and the first
    /// `sample` of them.
    pub async fn unlisted(&self, provider: &str, check: i64, settled_cycle: i64, sample: i64) -> Result<(i64, Vec<String>)> {
        const WHERE: &str = "WHERE provider = $1 AND listed_check < $2 AND first_seen_cycle <= $3";
        let count: i64 = sqlx::query(&self.sql(&format!("SELECT COUNT(*) FROM oc_ingest_entities {WHERE}")))
            .bind(provider)
            .bind(check)
            .bind(settled_cycle)
            .fetch_one(&self.pool)
            .await
            .map_err(|e| Error::db("counting the refs the catalog does not list", e))?
            .get(0);
        let refs = sqlx::query(&self.sql(&format!("SELECT entity_ref FROM oc_ingest_entities {WHERE} ORDER BY entity_ref LIMIT $4")))
            .bind(provider)
            .bind(check)
            .bind(settled_cycle)
            .bind(sample)
            .fetch_all(&self.pool)
            .await
            .map_err(|e| Error::db("listing the refs the catalog does not list", e))?
            .iter()
            .map(|r| r.get::<String, _>(0))
            .collect();
        Ok((count, refs))
    }

    /// Asks for every ref `unlisted` counts to be handed over again; returns how many.
    pub async fn mark_heal(&self, provider: &str, check: i64, settled_cycle: i64) -> Result<u64> {
        let done = sqlx::query(&self.sql(
            "UPDATE oc_ingest_entities SET heal = $1 \
             WHERE provider = $2 AND listed_check < $3 AND first_seen_cycle <= $4",
        ))
        .bind(check)
        .bind(provider)
        .bind(check)
        .bind(settled_cycle)
        .execute(&self.pool)
        .await
        .map_err(|e| Error::db("marking refs to hand over again", e))?;
        Ok(done.rows_affected())
    }

    /// Refs waiting to be handed over again, with the check that asked (at most `limit`).
    pub async fn heal_refs(&self, provider: &str, limit: i64) -> Result<Vec<(String, i64)>> {
        let rows = sqlx::query(&self.sql(
            "SELECT entity_ref, heal FROM oc_ingest_entities WHERE provider = $1 AND heal <> 0 ORDER BY entity_ref LIMIT $2",
        ))
        .bind(provider)
        .bind(limit)
        .fetch_all(&self.pool)
        .await
        .map_err(|e| Error::db("reading the refs to hand over again", e))?;
        Ok(rows.iter().map(|r| (r.get::<String, _>(0), r.get::<i64, _>(1))).collect())
    }

    /// How many refs wait to be handed over again.
    pub async fn count_heal(&self, provider: &str) -> Result<i64> {
        self.count("SELECT COUNT(*) FROM oc_ingest_entities WHERE provider = $1 AND heal <> 0", provider, None).await
    }

    /// Ends the heal of refs check `check` saw listed again: from the next handover
    /// they go without the annotation (a change the catalog processes as usual).
    pub async fn clear_listed_heals(&self, provider: &str, check: i64) -> Result<u64> {
        let done = sqlx::query(&self.sql("UPDATE oc_ingest_entities SET heal = 0 WHERE provider = $1 AND heal <> 0 AND listed_check >= $2"))
            .bind(provider)
            .bind(check)
            .execute(&self.pool)
            .await
            .map_err(|e| Error::db("ending the heal of listed refs", e))?;
        Ok(done.rows_affected())
    }
}

impl Store {
    /// Keeps a check's report for the status.
    pub async fn save_consistency(&self, provider: &str, report: &ConsistencyReport) -> Result<()> {
        sqlx::query(&self.sql("UPDATE oc_ingest_providers SET consistency = $1 WHERE name = $2"))
            .bind(json(report))
            .bind(provider)
            .execute(&self.pool)
            .await
            .map_err(|e| Error::db("saving the consistency report", e))?;
        Ok(())
    }

    /// The last check's report, if any.
    pub async fn load_consistency(&self, provider: &str) -> Result<Option<ConsistencyReport>> {
        let row = sqlx::query(&self.sql("SELECT consistency FROM oc_ingest_providers WHERE name = $1"))
            .bind(provider)
            .fetch_optional(&self.pool)
            .await
            .map_err(|e| Error::db("reading the consistency report", e))?;
        Ok(from_json(row.and_then(|r| text(&r, 0))))
    }
}

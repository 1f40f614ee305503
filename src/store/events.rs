//! What change events record (see `crate::events`): per-ref marks of the newest result an
//! event fetched, per-resource claims so one resource is fetched by one event at a time
//! (on any replica), and the owned/seen bookkeeping of an event's mutation.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use sqlx::Row;

use super::{json, now_ms, own_refs_insert, text, Conflict, Dialect, Store, SEEN_PAGE_INSERT};
use crate::error::{Error, Result};

/// The newest result an event fetched for one entity ref.
#[derive(Debug, Clone, PartialEq)]
pub struct Mark {
    /// When the event's GET answered (epoch ms, the fetching process' clock).
    pub fetched_at: i64,
    /// The entity's JSON; `None` when the resource was gone.
    pub entity: Option<String>,
}

/// The outcome of claiming a resource for an event's fetch.
#[derive(Debug, Clone, PartialEq)]
pub enum Claim {
    Taken,
    /// Another process (or task) holds it; its fetch started at `claimed_at`.
    Held { claimed_at: i64 },
}

impl Store {
    /// Claims `resource` for one event fetch until `ttl` from now, unless someone else holds
    /// an unexpired claim: a new claim, or else one that takes over an expired one (two
    /// statements, each atomic: MySQL's upsert has no condition, and counts a row it
    /// leaves unchanged as affected). The owner's own claim is taken again: its queue runs
    /// one fetch of a resource at a time, so that claim is one whose release failed (the
    /// database went away mid-attempt), and waiting out its `ttl` would only delay the retry.
    pub async fn claim_resource(&self, provider: &str, resource: &str, owner: &str, ttl: Duration) -> Result<Claim> {
        let now = now_ms();
        let until = now + ttl.as_millis() as i64;
        let insert = self.dialect.insert(
            "oc_ingest_event_claims (provider, resource, owner, claimed_at, claimed_until)",
            &self.sql("VALUES ($1, $2, $3, $4, $5)"),
            &Conflict { key: "provider, resource", update: &[] },
        );
        let inserted = sqlx::query(&insert)
            .bind(provider)
            .bind(resource)
            .bind(owner)
            .bind(now)
            .bind(until)
            .execute(&self.pool)
            .await
            .map_err(|e| Error::db("claiming a resource for an event", e))?;
        if inserted.rows_affected() == 1 {
            return Ok(Claim::Taken);
        }
        let taken_over = sqlx::query(&self.sql(
            "UPDATE oc_ingest_event_claims SET owner = $1, claimed_at = $2, claimed_until = $3 \
             WHERE provider = $4 AND resource = $5 AND (claimed_until < $6 OR owner = $7)",
        ))
        .bind(owner)
        .bind(now)
        .bind(until)
        .bind(provider)
        .bind(resource)
        .bind(now)
        .bind(owner)
        .execute(&self.pool)
        .await
        .map_err(|e| Error::db("claiming a resource for an event", e))?;
        if taken_over.rows_affected() == 1 {
            return Ok(Claim::Taken);
        }
        let row = sqlx::query(&self.sql("SELECT claimed_at FROM oc_ingest_event_claims WHERE provider = $1 AND resource = $2"))
            .bind(provider)
            .bind(resource)
            .fetch_optional(&self.pool)
            .await
            .map_err(|e| Error::db("reading a resource's event claim", e))?;
        // Released in between: simply try again later.
        Ok(Claim::Held { claimed_at: row.map_or(0, |r| r.get(0)) })
    }

    pub async fn release_resource(&self, provider: &str, resource: &str, owner: &str) -> Result<()> {
        sqlx::query(&self.sql("DELETE FROM oc_ingest_event_claims WHERE provider = $1 AND resource = $2 AND owner = $3"))
            .bind(provider)
            .bind(resource)
            .bind(owner)
            .execute(&self.pool)
            .await
            .map_err(|e| Error::db("releasing a resource's event claim", e))?;
        Ok(())
    }

    /// Records an event's results (ref, entity JSON or `None` for gone), fetched at
    /// `fetched_at`; a ref keeps an existing mark that is newer. A new mark, or else an
    /// update of an older one (MySQL's upsert has no condition).
    pub async fn write_marks(&self, provider: &str, marks: &[(String, Option<String>)], fetched_at: i64) -> Result<()> {
        let insert = self.dialect.insert(
            "oc_ingest_event_marks (provider, entity_ref, fetched_at, entity)",
            &self.sql("VALUES ($1, $2, $3, $4)"),
            &Conflict { key: "provider, entity_ref", update: &[] },
        );
        let update = self.sql(
            "UPDATE oc_ingest_event_marks SET fetched_at = $1, entity = $2 \
             WHERE provider = $3 AND entity_ref = $4 AND fetched_at <= $5",
        );
        let mut tx = self.begin().await?;
        for (entity_ref, entity) in marks {
            let inserted = sqlx::query(&insert)
                .bind(provider)
                .bind(entity_ref)
                .bind(fetched_at)
                .bind(entity.as_deref())
                .execute(&mut *tx)
                .await
                .map_err(|e| Error::db("recording an event's result", e))?;
            if inserted.rows_affected() == 1 {
                continue;
            }
            sqlx::query(&update)
                .bind(fetched_at)
                .bind(entity.as_deref())
                .bind(provider)
                .bind(entity_ref)
                .bind(fetched_at)
                .execute(&mut *tx)
                .await
                .map_err(|e| Error::db("recording an event's result", e))?;
        }
        tx.commit().await.map_err(|e| Error::db("recording an event's result", e))
    }

    /// The refs of marks fetched at or after `since`, with their fetch times (no entity
    /// JSON: the burst polls this after every page).
    pub async fn marks_since(&self, provider: &str, since: i64) -> Result<Vec<(String, i64)>> {
        let rows = sqlx::query(&self.sql("SELECT entity_ref, fetched_at FROM oc_ingest_event_marks WHERE provider = $1 AND fetched_at >= $2"))
            .bind(provider)
            .bind(since)
            .fetch_all(&self.pool)
            .await
            .map_err(|e| Error::db("reading events' results", e))?;
        Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
    }

    /// The marks of these refs.
    pub async fn marks_of(&self, provider: &str, refs: &[String]) -> Result<HashMap<String, Mark>> {
        let mut out = HashMap::new();
        for chunk in refs.chunks(200) {
            let sql = format!(
                "SELECT entity_ref, fetched_at, entity FROM oc_ingest_event_marks WHERE provider = {} AND entity_ref IN ({})",
                self.dialect.param(1),
                self.dialect.params(2, chunk.len()).join(",")
            );
            let mut q = sqlx::query(&sql).bind(provider);
            for r in chunk {
                q = q.bind(r.as_str());
            }
            for r in q.fetch_all(&self.pool).await.map_err(|e| Error::db("reading events' results", e))? {
                out.insert(r.get(0), Mark { fetched_at: r.get(1), entity: text(&r, 2) });
            }
        }
        Ok(out)
    }

    /// Forgets marks fetched before `before` (no page in flight is that old).
    pub async fn prune_marks(&self, provider: &str, before: i64) -> Result<u64> {
        let done = sqlx::query(&self.sql("DELETE FROM oc_ingest_event_marks WHERE provider = $1 AND fetched_at < $2"))
            .bind(provider)
            .bind(before)
            .execute(&self.pool)
            .await
            .map_err(|e| Error::db("pruning events' results", e))?;
        sqlx::query(&self.sql("DELETE FROM oc_ingest_event_claims WHERE provider = $1 AND claimed_until < $2"))
            .bind(provider)
            .bind(before)
            .execute(&self.pool)
            .await
            .map_err(|e| Error::db("pruning expired event claims", e))?;
        Ok(done.rows_affected())
    }

    /// After the catalog applied an event's mutation: `present` refs are owned and seen in
    /// the current cycle (so its sweep keeps them, also when it already listed them as
    /// stale); `gone` refs are no longer owned. One transaction.
    pub async fn record_event(&self, provider: &str, present: &[String], gone: &[String]) -> Result<()> {
        let mut tx = self.begin().await?;
        // The provider row is locked until commit, so a cycle that starts meanwhile waits
        // and the refs count as seen in the cycle they are recorded for. On a server
        // database it is locked first, as a burst's commit does (one order: no deadlock);
        // on SQLite the writes come first: a transaction that reads and then writes fails
        // at once (`SQLITE_BUSY_SNAPSHOT`) when another connection wrote in between, where
        // one that starts by writing waits for the lock (the busy timeout). Measured: 492
        // of 3,492 event attempts failed that way while a 100k cycle ran (bench/README.md,
        // "Change event latency").
        let mut cycle = None;
        if self.dialect != Dialect::Sqlite && !present.is_empty() {
            cycle = Some(self.locked_cycle(&mut tx, provider).await?);
        }
        self.delete_refs(&mut tx, "oc_ingest_stale", provider, present).await?;
        self.delete_refs(&mut tx, "oc_ingest_stale", provider, gone).await?;
        self.delete_refs(&mut tx, "oc_ingest_entities", provider, gone).await?;
        if !present.is_empty() {
            let cycle = match cycle {
                Some(c) => c,
                None => self.locked_cycle(&mut tx, provider).await?,
            };
            let refs = json(&present);
            for sql in [self.sql(SEEN_PAGE_INSERT), own_refs_insert(self.dialect).into()] {
                sqlx::query(&sql)
                    .bind(provider)
                    .bind(cycle)
                    .bind(refs.as_str())
                    .execute(&mut *tx)
                    .await
                    .map_err(|e| Error::db("recording an event's entity refs", e))?;
            }
        }
        tx.commit().await.map_err(|e| Error::db("recording an event's mutation", e))
    }

    /// The provider's cycle, its row locked until the transaction ends (`FOR UPDATE`; on
    /// SQLite the transaction's own lock does it).
    async fn locked_cycle(&self, tx: &mut sqlx::Transaction<'_, sqlx::Any>, provider: &str) -> Result<i64> {
        let select = format!("SELECT cycle FROM oc_ingest_providers WHERE name = $1{}", self.dialect.for_update());
        Ok(sqlx::query(&self.sql(&select))
            .bind(provider)
            .fetch_optional(&mut **tx)
            .await
            .map_err(|e| Error::db("reading the provider's cycle", e))?
            .map_or(0, |r| r.get(0)))
    }

    async fn delete_refs(&self, tx: &mut sqlx::Transaction<'_, sqlx::Any>, table: &str, provider: &str, refs: &[String]) -> Result<()> {
        for chunk in refs.chunks(200) {
            let sql = format!(
                "DELETE FROM {table} WHERE provider = {} AND entity_ref IN ({})",
                self.dialect.param(1),
                self.dialect.params(2, chunk.len()).join(",")
            );
            let mut q = sqlx::query(&sql).bind(provider);
            for r in chunk.iter() {
                q = q.bind(r.as_str());
            }
            q.execute(&mut **tx).await.map_err(|e| Error::db("recording an event's removals", e))?;
        }
        Ok(())
    }

    /// Takes refs off the settled cycle's stale list (they stay owned).
    pub async fn unlist_stale(&self, provider: &str, refs: &[String]) -> Result<()> {
        for chunk in refs.chunks(200) {
            let sql = format!(
                "DELETE FROM oc_ingest_stale WHERE provider = {} AND entity_ref IN ({})",
                self.dialect.param(1),
                self.dialect.params(2, chunk.len()).join(",")
            );
            let mut q = sqlx::query(&sql).bind(provider);
            for r in chunk {
                q = q.bind(r.as_str());
            }
            q.execute(&self.pool).await.map_err(|e| Error::db("keeping refs an event found present", e))?;
        }
        Ok(())
    }

    /// Owned refs from `from` (inclusive) to `to` (exclusive), byte order: e.g. every ref
    /// of one kind and namespace (`api:ns/` .. `api:ns0`).
    pub async fn owned_range(&self, provider: &str, from: &str, to: &str) -> Result<Vec<String>> {
        let rows = sqlx::query(&self.sql(
            "SELECT entity_ref FROM oc_ingest_entities WHERE provider = $1 AND entity_ref >= $2 AND entity_ref < $3 ORDER BY entity_ref",
        ))
        .bind(provider)
        .bind(from)
        .bind(to)
        .fetch_all(&self.pool)
        .await
        .map_err(|e| Error::db("reading owned entity refs", e))?;
        Ok(rows.iter().map(|r| r.get(0)).collect())
    }

    /// Which of `refs` are owned.
    pub async fn owned_among(&self, provider: &str, refs: &[String]) -> Result<HashSet<String>> {
        let mut out = HashSet::new();
        for chunk in refs.chunks(200) {
            let sql = format!(
                "SELECT entity_ref FROM oc_ingest_entities WHERE provider = {} AND entity_ref IN ({})",
                self.dialect.param(1),
                self.dialect.params(2, chunk.len()).join(",")
            );
            let mut q = sqlx::query(&sql).bind(provider);
            for r in chunk {
                q = q.bind(r.as_str());
            }
            for r in q.fetch_all(&self.pool).await.map_err(|e| Error::db("reading owned entity refs", e))? {
                out.insert(r.get(0));
            }
        }
        Ok(out)
    }
}

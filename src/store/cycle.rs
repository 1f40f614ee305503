//! A cycle's start and end: the refs a provider owns, the end-of-cycle diff (stale refs),
//! adoption, removals, and the cycle's item errors.

use super::*;

impl Store {
    /// Starts a new cycle: clears what the previous one staged and writes `row`.
    pub async fn start_cycle(&self, row: &ProviderRow, lease: (&str, Duration)) -> Result<()> {
        self.cache.forget(&row.name);
        let mut tx = self.begin().await?;
        for table in [
            "oc_ingest_cycle_namespaces",
            "oc_ingest_stage_projects",
            "oc_ingest_stage_workloads",
            "oc_ingest_item_errors",
            "oc_ingest_seen_pages",
            "oc_ingest_stale",
        ] {
            sqlx::query(&self.sql(&format!("DELETE FROM {table} WHERE provider = $1")))
                .bind(&row.name)
                .execute(&mut *tx)
                .await
                .map_err(|e| Error::db(&format!("clearing {table}"), e))?;
        }
        write_provider(&mut tx, self.dialect, row, Some(lease)).await?;
        set_staging_holder(&mut tx, self.dialect, &row.name, None).await?;
        tx.commit().await.map_err(|e| Error::db("starting a cycle", e))
    }

    pub async fn count_owned(&self, provider: &str) -> Result<i64> {
        self.count("SELECT COUNT(*) FROM oc_ingest_entities WHERE provider = $1", provider, None).await
    }

    /// Settles a cycle whose walk is complete, in one transaction fenced by the lease: the
    /// owned refs it did not see are listed as stale. Repeatable: a crash before the
    /// removals settles again.
    pub async fn settle_cycle(&self, provider: &str, cycle: i64, lease: (&str, Duration)) -> Result<()> {
        let mut tx = self.begin().await?;
        renew_lease(&mut tx, self.dialect, provider, lease).await?;
        sqlx::query(&self.sql("DELETE FROM oc_ingest_stale WHERE provider = $1"))
            .bind(provider)
            .execute(&mut *tx)
            .await
            .map_err(|e| Error::db("clearing stale entity refs", e))?;
        // The anti-join each database plans best. PostgreSQL: NOT EXISTS plans as a hash
        // anti-join (NOT IN over a set larger than work_mem would rescan it per row);
        // SQLite: NOT IN builds one index of the seen refs (NOT EXISTS would scan them per
        // owned ref); MySQL: see `settle_mysql`.
        let statements: Vec<(String, SettleBinds)> = match self.dialect {
            Dialect::Postgres => vec![(SETTLE_POSTGRES.into(), SettleBinds::ProviderCycle)],
            Dialect::Sqlite => vec![(SETTLE_SQLITE.into(), SettleBinds::ProviderCycle)],
            Dialect::MySql => settle_mysql(),
        };
        for (sql, binds) in &statements {
            let q = sqlx::query(sql);
            let q = match binds {
                SettleBinds::None => q,
                SettleBinds::Provider => q.bind(provider),
                SettleBinds::ProviderCycle => q.bind(provider).bind(cycle),
            };
            q.execute(&mut *tx).await.map_err(|e| Error::db("listing stale entity refs", e))?;
        }
        tx.commit().await.map_err(|e| Error::db("settling the cycle's entity refs", e))
    }

    /// Takes refs of these kinds (lower-case, as in refs) off the settled cycle's stale
    /// list: kinds whose lists the server did not serve this cycle are kept, not removed.
    pub async fn keep_stale_kinds(&self, provider: &str, kinds: &[String]) -> Result<()> {
        for kind in kinds {
            sqlx::query(&self.sql("DELETE FROM oc_ingest_stale WHERE provider = $1 AND entity_ref LIKE $2"))
                .bind(provider)
                .bind(format!("{kind}:%"))
                .execute(&self.pool)
                .await
                .map_err(|e| Error::db("keeping the entities of unserved kinds", e))?;
        }
        Ok(())
    }

    /// Owned refs the settled cycle did not see.
    pub async fn count_stale(&self, provider: &str) -> Result<i64> {
        self.count("SELECT COUNT(*) FROM oc_ingest_stale WHERE provider = $1", provider, None).await
    }

    /// Refs seen for the first time in `cycle` (once it is settled).
    pub async fn count_added(&self, provider: &str, cycle: i64) -> Result<i64> {
        self.count("SELECT COUNT(*) FROM oc_ingest_entities WHERE provider = $1 AND first_seen_cycle = $2", provider, Some(cycle))
            .await
    }

    pub(super) async fn count(&self, sql: &str, provider: &str, cycle: Option<i64>) -> Result<i64> {
        let sql = self.sql(sql);
        let mut q = sqlx::query(&sql).bind(provider);
        if let Some(c) = cycle {
            q = q.bind(c);
        }
        Ok(q.fetch_one(&self.pool).await.map_err(|e| Error::db("counting entity refs", e))?.get(0))
    }

    /// The first `limit` stale refs of the settled cycle.
    pub async fn stale_refs(&self, provider: &str, limit: i64) -> Result<Vec<String>> {
        let rows = sqlx::query(&self.sql("SELECT entity_ref FROM oc_ingest_stale WHERE provider = $1 ORDER BY entity_ref LIMIT $2"))
            .bind(provider)
            .bind(limit)
            .fetch_all(&self.pool)
            .await
            .map_err(|e| Error::db("reading stale entity refs", e))?;
        Ok(rows.iter().map(|r| r.get(0)).collect())
    }

    /// Records refs another instance of this provider (the legacy provider) left in the
    /// catalog as owned, with `first_seen_cycle = 0`: older than any
    /// cycle, so the next completed cycle removes those it does not see. A ref already
    /// owned is left as it is. Returns how many rows were new. Refs are taken as given
    /// (the engine normalizes and filters them).
    pub async fn adopt_refs(&self, provider: &str, refs: &[String]) -> Result<u64> {
        let mut refs: Vec<&String> = refs.iter().collect();
        refs.sort();
        refs.dedup();
        let mut adopted = 0;
        for chunk in refs.chunks(200) {
            let d = self.dialect;
            let sql = multi_row_upsert(d, ENTITY_COLUMNS, chunk.len(), 2, &ENTITY_CONFLICT);
            let mut q = bind_provider_once(d, sqlx::query(&sql), provider);
            for r in chunk {
                q = bind_provider_per_row(d, q, provider).bind(r.as_str()).bind(0_i64);
            }
            let done = q.execute(&self.pool).await.map_err(|e| Error::db("adopting entity refs", e))?;
            adopted += done.rows_affected();
        }
        Ok(adopted)
    }

    /// Forgets refs after the catalog removed them; fenced by the lease.
    pub async fn forget_refs(&self, provider: &str, refs: &[String], lease: (&str, Duration)) -> Result<()> {
        let mut tx = self.begin().await?;
        renew_lease(&mut tx, self.dialect, provider, lease).await?;
        for chunk in refs.chunks(200) {
            let placeholders = self.dialect.params(2, chunk.len());
            for table in ["oc_ingest_entities", "oc_ingest_stale"] {
                let sql = format!(
                    "DELETE FROM {table} WHERE provider = {} AND entity_ref IN ({})",
                    self.dialect.param(1),
                    placeholders.join(",")
                );
                let mut q = sqlx::query(&sql).bind(provider);
                for r in chunk {
                    q = q.bind(r.as_str());
                }
                q.execute(&mut *tx).await.map_err(|e| Error::db("forgetting removed entity refs", e))?;
            }
        }
        tx.commit().await.map_err(|e| Error::db("forgetting removed entity refs", e))
    }

    /// The newest item errors of the provider's current cycle, and their total count.
    pub async fn item_errors(&self, provider: &str, limit: i64) -> Result<Vec<ItemError>> {
        let rows = sqlx::query(&self.sql(
            "SELECT path, item, message, at FROM oc_ingest_item_errors WHERE provider = $1 ORDER BY at DESC LIMIT $2",
        ))
        .bind(provider)
        .bind(limit)
        .fetch_all(&self.pool)
        .await
        .map_err(|e| Error::db("reading item errors", e))?;
        Ok(rows
            .iter()
            .map(|r| ItemError { path: text(r, 0).unwrap_or_default(), item: text(r, 1), message: text(r, 2).unwrap_or_default(), at: r.get(3) })
            .collect())
    }
}

pub(super) const ENTITY_COLUMNS: &str = "oc_ingest_entities (provider, entity_ref, first_seen_cycle)";
/// An owned ref stays as it was first recorded.
pub(super) const ENTITY_CONFLICT: Conflict = Conflict { key: "provider, entity_ref", update: &[] };
/// A page group's refs, as one row (a JSON array): what the end of the cycle diffs
/// against the owned refs. One row instead of an upsert per ref keeps the refs the walk
/// sees again every cycle from costing an index update each.
pub(super) const SEEN_PAGE_INSERT: &str = "INSERT INTO oc_ingest_seen_pages (provider, cycle, refs) VALUES ($1, $2, $3)";

/// Owns the refs of a page group (`$3`, a JSON array) that are new; a known ref costs a
/// look-up, no write. (`WHERE true`: SQLite's parser needs it before `ON CONFLICT`.)
pub(super) fn own_refs_insert(d: Dialect) -> String {
    let rows = format!("SELECT $1, j.value, $2 FROM {} WHERE true", d.json_strings("$3", "j"));
    d.insert(ENTITY_COLUMNS, &d.sql(&rows), &ENTITY_CONFLICT)
}

/// `settle_cycle`'s listing of the owned refs a cycle did not see (`$1` the provider,
/// `$2` the cycle), per database. On PostgreSQL the seen refs compare byte by byte, as
/// the key columns do.
pub(super) const SETTLE_POSTGRES: &str = "INSERT INTO oc_ingest_stale (provider, entity_ref) SELECT e.provider, e.entity_ref \
     FROM oc_ingest_entities e WHERE e.provider = $1 AND NOT EXISTS \
     (SELECT 1 FROM oc_ingest_seen_pages s, \
      LATERAL (SELECT j.value COLLATE \"C\" AS r FROM json_array_elements_text(s.refs::json) AS j) AS seen \
      WHERE s.provider = $1 AND s.cycle = $2 AND r = e.entity_ref)";
/// SQLite compares text byte by byte anyway.
pub(super) const SETTLE_SQLITE: &str = "INSERT INTO oc_ingest_stale (provider, entity_ref) SELECT e.provider, e.entity_ref \
     FROM oc_ingest_entities e WHERE e.provider = $1 AND e.entity_ref NOT IN \
     (SELECT j.value FROM oc_ingest_seen_pages s, json_each(s.refs) AS j WHERE s.provider = $1 AND s.cycle = $2)";
/// What a statement of `settle_cycle` binds.
pub(super) enum SettleBinds {
    None,
    Provider,
    ProviderCycle,
}

/// MySQL: the seen refs go to a temporary table with a key first, then the anti-join
/// (the same join on a derived table of `JSON_TABLE` rows scanned them per owned ref:
/// minutes at 100,000 refs, against 1.5 s this way on a loaded machine). A temporary
/// table is the connection's own, and creating or dropping it commits nothing.
pub(super) fn settle_mysql() -> Vec<(String, SettleBinds)> {
    let seen = dialect::Dialect::MySql.json_strings("s.refs", "j");
    vec![
        ("DROP TEMPORARY TABLE IF EXISTS oc_ingest_seen_refs".into(), SettleBinds::None),
        (
            format!(
                "CREATE TEMPORARY TABLE oc_ingest_seen_refs (r VARCHAR({}) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL \
                 PRIMARY KEY) ENGINE=InnoDB",
                dialect::REF_CHARS
            ),
            SettleBinds::None,
        ),
        (
            format!("INSERT IGNORE INTO oc_ingest_seen_refs (r) SELECT j.value FROM oc_ingest_seen_pages s, {seen} WHERE s.provider = ? AND s.cycle = ?"),
            SettleBinds::ProviderCycle,
        ),
        (
            "INSERT INTO oc_ingest_stale (provider, entity_ref) SELECT e.provider, e.entity_ref FROM oc_ingest_entities e \
             WHERE e.provider = ? AND NOT EXISTS (SELECT 1 FROM oc_ingest_seen_refs t WHERE t.r = e.entity_ref)"
                .into(),
            SettleBinds::Provider,
        ),
        ("DROP TEMPORARY TABLE oc_ingest_seen_refs".into(), SettleBinds::None),
    ]
}

//! State persistence (sqlx; SQLite, PostgreSQL or MySQL/MariaDB chosen by URL). Only `oc_ingest_*`
//! tables, all owned by this module. Every write of a burst is fenced by the burst lease:
//! a process that lost its lease cannot overwrite another's progress.

mod consistency;
mod dialect;
mod events;
mod immediate;
mod migrate;
mod staging_cache;

pub use dialect::Dialect;
pub use events::{Claim, Mark};

use dialect::{text, Conflict};

use staging_cache::Plan;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use sqlx::any::AnyPoolOptions;
use sqlx::{Any, AnyPool, Row, Transaction};

use crate::engine::status::{CompletedCycle, CycleProgress, ItemError, RejectedRemoval};
use crate::error::{Error, ErrorCode, Result};
use crate::translate::{ApiTemplate, WorkloadFacts};
use crate::cursor::{Phase, WalkCursor};

pub fn now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}

/// Item errors kept per cycle; past this only the count grows.
pub const MAX_ITEM_ERRORS: i64 = 1000;

/// The persisted state of one provider.
#[derive(Debug, Clone, Default)]
pub struct ProviderRow {
    pub name: String,
    pub cycle: i64,
    pub status: String,
    pub status_since: i64,
    pub next_action_at: i64,
    pub attempts: i64,
    pub last_error: Option<String>,
    /// `None` when no cycle is in progress.
    pub walk: Option<WalkCursor>,
    pub progress: CycleProgress,
    pub rejected_removal: Option<RejectedRemoval>,
    pub last_completed: Option<CompletedCycle>,
    /// The store holding the current namespace's staged workloads in memory (they are in
    /// no table), as its last page commit recorded; written only by page commits and at
    /// a cycle's start (see `staging_cache`).
    pub staging_holder: Option<String>,
    /// The burst lease as last read; written only by the lease methods, never through
    /// the row (`None`: free).
    pub lease: Option<LeaseRow>,
}

/// Who holds a provider's burst lease, until when, and for how long each renewal extends it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LeaseRow {
    pub owner: String,
    /// Epoch ms; free for anyone to take from then on.
    pub until: i64,
    /// The holder's `leaseTtl` (0 for a lease taken before it was recorded).
    pub ttl_ms: i64,
}

impl LeaseRow {
    /// The holder's last renewal (epoch ms).
    pub fn renewed_at(&self) -> i64 {
        self.until - self.ttl_ms
    }
}

/// What [`Store::record_connection_fingerprint`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FingerprintChange {
    /// The first start that records one (a new provider, or an upgrade from before it).
    First,
    Unchanged,
    /// Other settings than last time; `cleared` is the number of failed attempts whose
    /// back-off was cleared (0 when the provider was not backing off).
    Changed { cleared: i64 },
}

/// Everything one page (or a group of consecutive pages) changes, written in one
/// transaction after the sink succeeded.
#[derive(Debug, Default)]
pub struct PageCommit {
    pub seen_refs: Vec<String>,
    /// Namespaces found on a namespaces page, with their walk order.
    pub namespaces: Vec<(i64, String)>,
    /// (namespace, project, owner annotation)
    pub project_owners: Vec<(String, String, Option<String>)>,
    pub workloads: Vec<StagedWorkload>,
    pub item_errors: Vec<ItemError>,
    /// A namespace whose walk is complete: its staged cross-references can go.
    pub drop_namespace_staging: Option<String>,
    /// A namespace whose staging starts with this commit (its first projects page): from
    /// here the store keeps a copy of what it stages (see `staging_cache`).
    pub begins_namespace: Option<String>,
}

impl PageCommit {
    /// Appends the next page's changes: the group then commits as one. A page that
    /// drops a namespace's staging ends its group (the drop runs after the group's
    /// staging writes, so it must be the group's last page).
    pub fn append(&mut self, next: PageCommit) {
        debug_assert!(self.drop_namespace_staging.is_none(), "a namespace's end closes its group");
        self.seen_refs.extend(next.seen_refs);
        self.namespaces.extend(next.namespaces);
        self.project_owners.extend(next.project_owners);
        self.workloads.extend(next.workloads);
        self.item_errors.extend(next.item_errors);
        if next.drop_namespace_staging.is_some() {
            self.drop_namespace_staging = next.drop_namespace_staging;
        }
        if next.begins_namespace.is_some() {
            self.begins_namespace = next.begins_namespace;
        }
    }

    /// Whether it writes what later pages read back: the namespace order, project
    /// owners or workloads (or starts a namespace's staging).
    pub fn stages(&self) -> bool {
        !self.namespaces.is_empty()
            || !self.project_owners.is_empty()
            || !self.workloads.is_empty()
            || self.begins_namespace.is_some()
    }
}

/// A workload as the components phase needs it.
#[derive(Debug, Clone, Default)]
pub struct StagedWorkload {
    pub namespace: String,
    pub facts: WorkloadFacts,
    /// Its API entities, owner not yet set.
    pub apis: Vec<ApiTemplate>,
}

#[derive(Clone)]
pub struct Store {
    pool: AnyPool,
    dialect: Dialect,
    cache: Arc<staging_cache::StagingCache>,
}

fn json<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_string(v).expect("state is serializable")
}

fn from_json<T: serde::de::DeserializeOwned>(s: Option<String>) -> Option<T> {
    s.and_then(|s| serde_json::from_str(&s).ok())
}

/// Staged API templates as `ref U+001B endpoint U+001D ref U+001B endpoint ...` (nothing
/// for none), each endpoint as the JSON `[name, {...}]`; a template an earlier version
/// staged as its rendered entity reads `ref U+001C entity`. Neither part holds a raw
/// control character: a ref is made of validated names, and serde_json escapes control
/// characters inside strings.
fn apis_text(apis: &[ApiTemplate]) -> String {
    let mut out = String::new();
    for (i, api) in apis.iter().enumerate() {
        if i > 0 {
            out.push(STAGED_APIS);
        }
        match api {
            ApiTemplate::Endpoint { entity_ref, endpoint, ep } => {
                out.push_str(entity_ref);
                out.push(STAGED_API_ENDPOINT);
                out.push_str(&json(&(endpoint, ep)));
            }
            ApiTemplate::Rendered { entity_ref, json } => {
                out.push_str(entity_ref);
                out.push(STAGED_API_PARTS);
                out.push_str(json);
            }
        }
    }
    out
}

fn apis_from_text(text: &str) -> Vec<ApiTemplate> {
    if !text.starts_with('[') {
        return text
            .split(STAGED_APIS)
            .filter_map(|api| {
                if let Some((entity_ref, endpoint)) = api.split_once(STAGED_API_ENDPOINT) {
                    let (endpoint, ep) = serde_json::from_str(endpoint).ok()?;
                    return Some(ApiTemplate::Endpoint { entity_ref: entity_ref.to_string(), endpoint, ep });
                }
                let (entity_ref, json) = api.split_once(STAGED_API_PARTS)?;
                Some(ApiTemplate::Rendered { entity_ref: entity_ref.to_string(), json: json.to_string() })
            })
            .collect();
    }
    // Staged by an earlier version, as JSON: `[{"ref": ..., "entity": {...}}, ...]`, or
    // before that a plain array of entities.
    #[derive(serde::Deserialize)]
    struct Staged<'a> {
        #[serde(rename = "ref", borrow)]
        entity_ref: std::borrow::Cow<'a, str>,
        #[serde(borrow)]
        entity: &'a serde_json::value::RawValue,
    }
    match serde_json::from_str::<Vec<Staged>>(text) {
        Ok(apis) => apis
            .into_iter()
            .map(|a| ApiTemplate::Rendered { entity_ref: a.entity_ref.into_owned(), json: a.entity.get().to_string() })
            .collect(),
        Err(_) => serde_json::from_str::<Vec<serde_json::Value>>(text)
            .unwrap_or_default()
            .into_iter()
            .map(|v| ApiTemplate::Rendered { entity_ref: crate::translate::entity_ref(&v), json: v.to_string() })
            .collect(),
    }
}

fn lease_lost() -> Error {
    Error::new(ErrorCode::Locked, "the burst lease was lost (reset, cancel, or another process took over)")
}

impl Store {
    /// Opens (creating a SQLite file if needed) and migrates the state database.
    pub async fn open(url: &str) -> Result<Store> {
        sqlx::any::install_default_drivers();
        let dialect = Dialect::of_url(url);
        let sqlite = dialect == Dialect::Sqlite;
        let postgres = dialect == Dialect::Postgres;
        let mysql = dialect == Dialect::MySql;
        let memory = sqlite && (url.contains(":memory:") || url.contains("mode=memory"));
        let url = if sqlite && !memory && !url.contains('?') { format!("{url}?mode=rwc") } else { url.to_string() };
        let options = AnyPoolOptions::new().acquire_timeout(Duration::from_secs(10));
        // SQLite: a file gets two connections, so a page's look-ups can read (WAL) while
        // the previous page commits; an in-memory database gets exactly one, as it lives
        // exactly as long as its connection and must never be closed as idle.
        let options = if !sqlite {
            options.max_connections(4).min_connections(0)
        } else if memory {
            options.max_connections(1).min_connections(1).idle_timeout(None).max_lifetime(None)
        } else {
            options.max_connections(2).min_connections(1)
        };
        // SQLite files: page commits need not wait for a disk flush. What a power cut
        // can lose is lost together with the engine's own memory (the database is in the
        // engine's process), so the engine restarts from the last durable page and
        // repeats the rest. (PostgreSQL keeps synchronous commits: an engine that outlives
        // a database crash would otherwise go on past pages whose commits were lost;
        // MySQL's durability is the server's innodb_flush_log_at_trx_commit.)
        // Set on every connection: these settings are per connection.
        let options = options.after_connect(move |conn, _| {
            Box::pin(async move {
                if sqlite && !memory {
                    // WAL lets readers in other processes through while a burst writes;
                    // with it, NORMAL syncs at checkpoints instead of at every commit.
                    sqlx::query("PRAGMA journal_mode=WAL").execute(&mut *conn).await?;
                    sqlx::query("PRAGMA synchronous=NORMAL").execute(&mut *conn).await?;
                    // 1 MiB of page cache a connection instead of SQLite's 2 MiB: the cache
                    // fills as the state grows, so it is memory that grows with the
                    // installation (runner, 10k -> 100k: peak RSS growth 7.4-8.1 -> 5.6-6.0
                    // MB, for 3-5 % more CPU; the operating system caches the file anyway).
                    sqlx::query("PRAGMA cache_size=-1024").execute(&mut *conn).await?;
                }
                if postgres {
                    // Staged workloads (their API entities) are big enough to be compressed
                    // into TOAST; lz4 takes a fraction of the default pglz's CPU (100k
                    // components: server CPU 5.3 -> 4.8 s a cycle). A server built without
                    // lz4, or older than 14, refuses the setting and keeps its default.
                    if let Err(e) = sqlx::query("SET default_toast_compression = 'lz4'").execute(&mut *conn).await {
                        tracing::debug!(error = %e, "PostgreSQL keeps its default TOAST compression");
                    }
                }
                if mysql {
                    // PostgreSQL's isolation: each statement reads what is committed, and
                    // InnoDB takes no gap locks, which under REPEATABLE READ (its default)
                    // make a cycle's clearing deletes and another burst's or an event's
                    // inserts deadlock. The fencing needs no more: every fenced write
                    // updates the provider row first and holds its lock until commit.
                    sqlx::query("SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED").execute(&mut *conn).await?;
                }
                Ok(())
            })
        });
        let pool = options
            .connect(&url)
            .await
            .map_err(|e| Error::db("opening the state database", e))?;
        migrate::run(&pool, dialect).await?;
        Ok(Store { pool, dialect, cache: Arc::default() })
    }

    pub fn dialect(&self) -> Dialect {
        self.dialect
    }

    /// A statement (`$1, $2, ...` in order) for this store's database.
    fn sql<'a>(&self, text: &'a str) -> std::borrow::Cow<'a, str> {
        self.dialect.sql(text)
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// Loads a provider's row, creating it (due now) on first use.
    pub async fn load_provider(&self, name: &str) -> Result<ProviderRow> {
        if let Some(row) = self.read_provider(name).await? {
            return Ok(row);
        }
        let now = now_ms();
        let sql = self.dialect.insert(
            "oc_ingest_providers (name, cycle, status, status_since, next_action_at)",
            &self.dialect.sql("VALUES ($1, 0, 'idle', $2, $3)"),
            &Conflict { key: "name", update: &[] },
        );
        sqlx::query(&sql)
        .bind(name)
        .bind(now)
        .bind(now)
        .execute(&self.pool)
        .await
        .map_err(|e| Error::db("creating the provider row", e))?;
        self.read_provider(name).await?.ok_or_else(|| Error::new(ErrorCode::Database, "the provider row vanished"))
    }

    async fn read_provider(&self, name: &str) -> Result<Option<ProviderRow>> {
        let r = sqlx::query(&self.sql(
            "SELECT cycle, status, status_since, next_action_at, attempts, last_error, walk_cursor, progress, \
             rejected_removal, last_completed, staging_holder, lease_owner, lease_until, lease_ttl_ms \
             FROM oc_ingest_providers WHERE name = $1",
        ))
        .bind(name)
        .fetch_optional(&self.pool)
        .await
        .map_err(|e| Error::db("reading the provider row", e))?;
        Ok(r.map(|r| ProviderRow {
            name: name.to_string(),
            cycle: r.get(0),
            status: r.get(1),
            status_since: r.get(2),
            next_action_at: r.get(3),
            attempts: r.get(4),
            last_error: text(&r, 5),
            walk: from_json(text(&r, 6)),
            progress: from_json(text(&r, 7)).unwrap_or_default(),
            rejected_removal: from_json(text(&r, 8)),
            last_completed: from_json(text(&r, 9)),
            staging_holder: r.get(10),
            lease: r.get::<Option<String>, _>(11).map(|owner| LeaseRow { owner, until: r.get(12), ttl_ms: r.get(13) }),
        }))
    }

    /// Records the connection settings' fingerprint of this start. When it differs from
    /// the one recorded before, a back-off is cleared (attempts, last error) and the next
    /// action is due now: the failures were the old settings'. An unchanged fingerprint
    /// changes nothing, so a crash loop keeps backing off.
    pub async fn record_connection_fingerprint(&self, name: &str, fingerprint: &str) -> Result<FingerprintChange> {
        self.load_provider(name).await?;
        let mut tx = self.begin().await?;
        // Locked: of two processes starting at once with new settings, the second sees the
        // first's fingerprint.
        let select = format!("SELECT settings_fingerprint, attempts FROM oc_ingest_providers WHERE name = $1{}", self.dialect.for_update());
        let (before, attempts): (Option<String>, i64) =
            sqlx::query(&self.sql(&select))
                .bind(name)
                .fetch_one(&mut *tx)
                .await
                .map(|r| (r.get(0), r.get(1)))
                .map_err(|e| Error::db("reading the connection settings' fingerprint", e))?;
        if before.as_deref() == Some(fingerprint) {
            return Ok(FingerprintChange::Unchanged);
        }
        sqlx::query(&self.sql("UPDATE oc_ingest_providers SET settings_fingerprint = $1 WHERE name = $2"))
            .bind(fingerprint)
            .bind(name)
            .execute(&mut *tx)
            .await
            .map_err(|e| Error::db("recording the connection settings' fingerprint", e))?;
        let change = if before.is_none() {
            FingerprintChange::First
        } else {
            // The lease is left alone: a burst that runs with the old settings elsewhere
            // records its own outcome, fenced as always.
            let now = now_ms();
            let backing_off = sqlx::query(&self.sql(
                "UPDATE oc_ingest_providers SET attempts = 0, last_error = NULL, next_action_at = $1, status_since = $2, \
                 status = CASE WHEN walk_cursor IS NULL THEN 'idle' ELSE 'interstitial' END \
                 WHERE name = $3 AND status = 'backing off'",
            ))
            .bind(now)
            .bind(now)
            .bind(name)
            .execute(&mut *tx)
            .await
            .map_err(|e| Error::db("clearing the back-off", e))?
            .rows_affected()
                == 1;
            FingerprintChange::Changed { cleared: if backing_off { attempts } else { 0 } }
        };
        tx.commit().await.map_err(|e| Error::db("recording the connection settings' fingerprint", e))?;
        Ok(change)
    }

    /// Takes (or renews) the burst lease when it is free, expired, or already ours.
    pub async fn try_acquire_lease(&self, name: &str, owner: &str, ttl: Duration) -> Result<bool> {
        let now = now_ms();
        let done = sqlx::query(&self.sql(
            "UPDATE oc_ingest_providers SET lease_owner = $1, lease_until = $2, lease_ttl_ms = $3 \
             WHERE name = $4 AND (lease_owner IS NULL OR lease_owner = $5 OR lease_until < $6)",
        ))
        .bind(owner)
        .bind(now + ttl.as_millis() as i64)
        .bind(ttl.as_millis() as i64)
        .bind(name)
        .bind(owner)
        .bind(now)
        .execute(&self.pool)
        .await
        .map_err(|e| Error::db("taking the burst lease", e))?;
        Ok(done.rows_affected() == 1)
    }

    pub async fn release_lease(&self, name: &str, owner: &str) -> Result<()> {
        sqlx::query(&self.sql("UPDATE oc_ingest_providers SET lease_owner = NULL, lease_until = 0 WHERE name = $1 AND lease_owner = $2"))
            .bind(name)
            .bind(owner)
            .execute(&self.pool)
            .await
            .map_err(|e| Error::db("releasing the burst lease", e))?;
        Ok(())
    }

    /// Writes the provider's state. With `lease = Some(owner)` the write only happens
    /// while `owner` holds the lease (and renews it); `None` writes unconditionally and
    /// revokes any lease (reset and cancel stop a running burst that way).
    pub async fn save_provider(&self, row: &ProviderRow, lease: Option<(&str, Duration)>) -> Result<()> {
        let mut tx = self.begin().await?;
        write_provider(&mut tx, self.dialect, row, lease).await?;
        tx.commit().await.map_err(|e| Error::db("saving the provider state", e))
    }

    /// Extends the burst lease; `LOCKED` when it is no longer ours.
    pub async fn renew_lease(&self, name: &str, lease: (&str, Duration)) -> Result<()> {
        let mut tx = self.begin().await?;
        renew_lease(&mut tx, self.dialect, name, lease).await?;
        tx.commit().await.map_err(|e| Error::db("renewing the burst lease", e))
    }

    pub async fn set_next_action_at(&self, name: &str, at: i64) -> Result<()> {
        self.load_provider(name).await?;
        sqlx::query(&self.sql("UPDATE oc_ingest_providers SET next_action_at = $1 WHERE name = $2"))
            .bind(at)
            .bind(name)
            .execute(&self.pool)
            .await
            .map_err(|e| Error::db("scheduling the next action", e))?;
        Ok(())
    }

    async fn begin(&self) -> Result<Transaction<'static, Any>> {
        self.pool.begin().await.map_err(|e| Error::db("starting a transaction", e))
    }

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

    /// Records one applied page: its entity refs, staged cross-references, per-item
    /// errors and the new cursor, atomically.
    pub async fn commit_page(&self, row: &ProviderRow, page: &PageCommit, lease: (&str, Duration)) -> Result<()> {
        // Each staged workload as its row holds it: kept in memory, or bound to the
        // statement (see `staging_cache`).
        let rows = PageRows::of(page);
        let staged: Vec<StagedRow> = rows.workloads.iter().copied().map(StagedRow::of).collect();
        let plan = self.cache.plan(row, page, staged);
        let result = if self.dialect == Dialect::Postgres && single_statement_fits(page, plan.write.len()) {
            self.commit_page_in_one_statement(row, page, &rows, &plan, lease).await
        } else {
            self.commit_page_in_a_transaction(row, page, &rows, &plan, lease).await
        };
        match &result {
            Ok(()) => self.cache.committed(row, page, plan),
            // It may or may not have been written: the copy cannot tell.
            Err(_) => self.cache.forget(&row.name),
        }
        result
    }

    /// A burst starts at `row`: whether the current namespace's staged workloads were
    /// held in memory by a store that is gone (or by a copy that no longer matches). The
    /// copy stays only if its last commit left the walk where `row` says.
    pub fn staging_lost(&self, row: &ProviderRow) -> bool {
        self.cache.check(row)
    }

    /// On a graceful close: writes the workloads this store holds in memory to the
    /// database, so the next process goes on without walking them again; only while the
    /// provider row still names this store as their holder (nobody went on since).
    pub async fn release_staging(&self, provider: &str) -> Result<()> {
        let Some((token, rows)) = self.cache.resident(provider) else { return Ok(()) };
        let mut tx = self.begin().await?;
        let ours = sqlx::query(&self.sql("UPDATE oc_ingest_providers SET staging_holder = NULL WHERE name = $1 AND staging_holder = $2"))
            .bind(provider)
            .bind(&token)
            .execute(&mut *tx)
            .await
            .map_err(|e| Error::db("releasing the staged workloads", e))?
            .rows_affected()
            == 1;
        if ours {
            write_staged_workloads(&mut tx, self.dialect, provider, &rows).await?;
            tx.commit().await.map_err(|e| Error::db("releasing the staged workloads", e))?;
        }
        self.cache.forget(provider);
        Ok(())
    }

    /// After [`Store::staging_lost`]: the walk goes back to the start of the namespace's
    /// workloads list, which stages them again (in the database: the copy starts only
    /// with a namespace). Its projects' owners are in the database already.
    pub async fn rewind_lost_staging(&self, row: &mut ProviderRow, lease: (&str, Duration)) -> Result<()> {
        self.cache.forget(&row.name);
        let mut namespace = None;
        if let Some(walk) = &mut row.walk {
            if matches!(walk.phase, Phase::WORKLOADS | Phase::COMPONENTS) {
                *walk = walk.next_list(Phase::WORKLOADS);
                namespace = walk.namespace.clone();
            }
        }
        let mut tx = self.begin().await?;
        write_provider(&mut tx, self.dialect, row, Some(lease)).await?;
        set_staging_holder(&mut tx, self.dialect, &row.name, None).await?;
        if let Some(ns) = &namespace {
            sqlx::query(&self.sql("DELETE FROM oc_ingest_stage_workloads WHERE provider = $1 AND namespace = $2"))
                .bind(&row.name)
                .bind(ns)
                .execute(&mut *tx)
                .await
                .map_err(|e| Error::db("clearing oc_ingest_stage_workloads", e))?;
        }
        tx.commit().await.map_err(|e| Error::db("walking a namespace's workloads again", e))?;
        row.staging_holder = None;
        Ok(())
    }

    async fn commit_page_in_a_transaction(
        &self,
        row: &ProviderRow,
        page: &PageCommit,
        rows: &PageRows<'_>,
        plan: &Plan,
        lease: (&str, Duration),
    ) -> Result<()> {
        let staged = &plan.write;
        let p = &row.name;
        let mut tx = self.begin().await?;
        // Fence first: nothing of this page is written by a process that lost the lease.
        let d = self.dialect;
        write_provider(&mut tx, d, row, Some(lease)).await?;
        set_staging_holder(&mut tx, d, p, plan.holder.as_deref()).await?;
        if !page.seen_refs.is_empty() {
            let refs = json(&page.seen_refs);
            for sql in [self.sql(SEEN_PAGE_INSERT), own_refs_insert(d).into()] {
                sqlx::query(&sql)
                    .bind(p)
                    .bind(row.cycle)
                    .bind(refs.as_str())
                    .execute(&mut *tx)
                    .await
                    .map_err(|e| Error::db("recording entity refs", e))?;
            }
        }
        // Staged rows: one multi-row upsert per kind and page, not one statement per row
        // (per row, a workloads page cost 100 statements: 100 round trips on PostgreSQL).
        for chunk in rows.namespaces.chunks(STAGE_CHUNK) {
            let sql = multi_row_upsert(d, NAMESPACES_TABLE, chunk.len(), 2, &NAMESPACES_CONFLICT);
            let mut q = bind_provider_once(d, sqlx::query(&sql), p);
            for (seq, name) in chunk {
                q = bind_provider_per_row(d, q, p).bind(*seq).bind(name.as_str());
            }
            q.execute(&mut *tx).await.map_err(|e| Error::db("staging namespaces", e))?;
        }
        for chunk in rows.owners.chunks(STAGE_CHUNK) {
            let sql = multi_row_upsert(d, PROJECTS_TABLE, chunk.len(), 3, &PROJECTS_CONFLICT);
            let mut q = bind_provider_once(d, sqlx::query(&sql), p);
            for (ns, project, owner) in chunk {
                q = bind_provider_per_row(d, q, p).bind(ns.as_str()).bind(project.as_str()).bind(owner.as_deref());
            }
            q.execute(&mut *tx).await.map_err(|e| Error::db("staging projects", e))?;
        }
        write_staged_workloads(&mut tx, d, p, staged).await?;
        if !page.item_errors.is_empty() {
            let kept: i64 = sqlx::query(&self.sql("SELECT COUNT(*) FROM oc_ingest_item_errors WHERE provider = $1"))
                .bind(p)
                .fetch_one(&mut *tx)
                .await
                .map_err(|e| Error::db("counting item errors", e))?
                .get(0);
            for err in page.item_errors.iter().take((MAX_ITEM_ERRORS - kept).max(0) as usize) {
                sqlx::query(&self.sql(
                    "INSERT INTO oc_ingest_item_errors (provider, cycle, at, path, item, message) VALUES ($1, $2, $3, $4, $5, $6)",
                ))
                .bind(p)
                .bind(row.cycle)
                .bind(err.at)
                .bind(&err.path)
                .bind(err.item.as_deref())
                .bind(&err.message)
                .execute(&mut *tx)
                .await
                .map_err(|e| Error::db("recording item errors", e))?;
            }
        }
        if let Some(ns) = &page.drop_namespace_staging {
            for table in ["oc_ingest_stage_projects", "oc_ingest_stage_workloads"] {
                sqlx::query(&self.sql(&format!("DELETE FROM {table} WHERE provider = $1 AND namespace = $2")))
                    .bind(p)
                    .bind(ns)
                    .execute(&mut *tx)
                    .await
                    .map_err(|e| Error::db(&format!("clearing {table}"), e))?;
            }
        }
        tx.commit().await.map_err(|e| Error::db("committing a page", e))
    }

    /// PostgreSQL: the common page (refs, staged projects or workloads) in one statement
    /// of data-modifying CTEs, atomic without BEGIN and COMMIT: one round trip instead of
    /// four or five. Every insert reads from the lease-fenced provider update, so a
    /// process that lost the lease writes nothing.
    async fn commit_page_in_one_statement(
        &self,
        row: &ProviderRow,
        page: &PageCommit,
        rows: &PageRows<'_>,
        plan: &Plan,
        lease: (&str, Duration),
    ) -> Result<()> {
        let owners = &rows.owners;
        let workloads = &plan.write;

        // The fenced update also records who holds the staged workloads.
        let holder = FENCED_PROVIDER_PARAMS + 1;
        let update = provider_update(true).replace(" WHERE ", &format!(", staging_holder = ${holder} WHERE "));
        let mut sql = format!("WITH fence AS ({update} RETURNING name)");
        let mut n = holder;
        if !page.seen_refs.is_empty() {
            n += 1;
            sql.push_str(&format!(
                ", seen AS (INSERT INTO oc_ingest_seen_pages (provider, cycle, refs) SELECT fence.name, $1, ${n} FROM fence), \
                 owned AS (INSERT INTO {ENTITY_COLUMNS} SELECT fence.name, j.value, $1 FROM fence, json_array_elements_text(${n}::json) AS j \
                 ON CONFLICT DO NOTHING)"
            ));
        }
        let mut values = |rows: usize, cols: usize| -> String {
            let mut v = String::new();
            for r in 0..rows {
                v.push_str(if r == 0 { "(" } else { ", (" });
                for c in 0..cols {
                    n += 1;
                    v.push_str(&format!("{}${n}", if c == 0 { "" } else { ", " }));
                }
                v.push(')');
            }
            v
        };
        let pg = Dialect::Postgres;
        if !owners.is_empty() {
            let rows = format!("SELECT fence.name, v.* FROM fence, (VALUES {}) AS v", values(owners.len(), 3));
            sql.push_str(&format!(", owners AS ({})", pg.insert(PROJECTS_TABLE, &rows, &PROJECTS_CONFLICT)));
        }
        if !workloads.is_empty() {
            let rows = format!("SELECT fence.name, v.* FROM fence, (VALUES {}) AS v", values(workloads.len(), 4));
            sql.push_str(&format!(", workloads AS ({})", pg.insert(WORKLOADS_TABLE, &rows, &WORKLOADS_CONFLICT)));
        }
        sql.push_str(" SELECT COUNT(*) FROM fence");

        let mut q = bind_provider(sqlx::query(&sql), row, Some(lease)).bind(plan.holder.as_deref());
        if !page.seen_refs.is_empty() {
            q = q.bind(json(&page.seen_refs));
        }
        for (ns, project, owner) in owners {
            q = q.bind(ns.as_str()).bind(project.as_str()).bind(owner.as_deref());
        }
        for w in workloads {
            q = q.bind(w.namespace.as_str()).bind(w.wkey.as_str()).bind(&*w.facts).bind(&*w.apis);
        }
        // Not fetch_one: through sqlx's Any driver it returns at the first row, before
        // PostgreSQL has committed (at Sync) and before an error that follows the row (a
        // connection terminated mid-commit) is read: a lost commit would count as done.
        // fetch_all reads on to ReadyForQuery.
        let rows = q.fetch_all(&self.pool).await.map_err(|e| Error::db("committing a page", e))?;
        let fenced: i64 = rows.first().map_or(0, |r| r.get(0));
        if fenced == 1 {
            Ok(())
        } else {
            Err(lease_lost())
        }
    }

    /// The namespace at walk position `seq` of the current cycle.
    pub async fn cycle_namespace(&self, provider: &str, seq: i64) -> Result<Option<String>> {
        let row = sqlx::query(&self.sql("SELECT name FROM oc_ingest_cycle_namespaces WHERE provider = $1 AND seq = $2"))
            .bind(provider)
            .bind(seq)
            .fetch_optional(&self.pool)
            .await
            .map_err(|e| Error::db("reading the cycle's namespaces", e))?;
        Ok(row.map(|r| r.get(0)))
    }

    /// Staged workloads of a namespace by component name (unique in a namespace); their
    /// API entities only when `with_apis` (reading other components' facts needs none).
    ///
    /// Each look-up returns its rows joined into one text (see [`STAGED_ROWS`]): one row
    /// instead of one per workload. sqlx hands SQLite rows over from a worker thread one
    /// at a time, so one per workload meant two thread wake-ups per workload. (MySQL
    /// returns a row per workload: its `GROUP_CONCAT` cuts its result at
    /// `group_concat_max_len`, 1 KiB by default on MySQL.)
    pub async fn staged_workloads(
        &self,
        provider: &str,
        namespace: &str,
        components: &[String],
        with_apis: bool,
    ) -> Result<HashMap<String, StagedWorkload>> {
        if let Some(found) = self.cache.workloads(provider, namespace, components, with_apis) {
            return Ok(found);
        }
        let mut out = HashMap::new();
        let mut wkeys: Vec<&String> = components.iter().collect();
        wkeys.sort();
        wkeys.dedup();
        let apis = if with_apis { "COALESCE(apis, '')" } else { "''" };
        for chunk in wkeys.chunks(200) {
            let placeholders = self.dialect.params(3, chunk.len());
            let sql = if self.dialect == Dialect::Postgres {
                // One look-up by the whole primary key per component, fenced (OFFSET 0) so
                // it is not flattened into a join: planned from statistics of the staging
                // table, which fills and empties within minutes, a `wkey IN (...)` scan
                // could read every staged row of the namespace for each page (30 ms
                // instead of 0.3 ms at 5,000 workloads a namespace). A key look-up needs
                // no statistics, so the table needs no ANALYZE either.
                let keys: Vec<String> = placeholders.iter().map(|p| format!("({p}::text)")).collect();
                format!(
                    "SELECT string_agg(s.facts || chr(31) || s.apis, chr(30)) \
                     FROM (VALUES {}) AS k(wkey) CROSS JOIN LATERAL \
                     (SELECT facts, {apis} AS apis FROM oc_ingest_stage_workloads \
                      WHERE provider = $1 AND namespace = $2 AND wkey = k.wkey OFFSET 0) AS s",
                    keys.join(",")
                )
            } else if self.dialect == Dialect::MySql {
                format!(
                    "SELECT CONCAT(facts, CHAR(31 USING utf8mb4), {apis}) \
                     FROM oc_ingest_stage_workloads WHERE provider = ? AND namespace = ? AND wkey IN ({})",
                    placeholders.join(",")
                )
            } else {
                format!(
                    "SELECT group_concat(facts || char(31) || {apis}, char(30)) \
                     FROM oc_ingest_stage_workloads WHERE provider = ? AND namespace = ? AND wkey IN ({})",
                    placeholders.join(",")
                )
            };
            let mut q = sqlx::query(&sql).bind(provider).bind(namespace);
            for k in chunk {
                q = q.bind(k.as_str());
            }
            let rows = q.fetch_all(&self.pool).await.map_err(|e| Error::db("reading staged workloads", e))?;
            for joined in rows.iter().filter_map(|row| text(row, 0)) {
                for (facts, apis) in joined.split(STAGED_ROWS).filter_map(|row| row.split_once(STAGED_COLUMNS)) {
                    if let Some(w) = StagedRow::read(namespace, facts, apis) {
                        out.insert(w.facts.component.clone(), w);
                    }
                }
            }
        }
        Ok(out)
    }

    /// The staged projects among `projects` (those the namespace's projects list had),
    /// with their owner annotations.
    pub async fn staged_project_owners(
        &self,
        provider: &str,
        namespace: &str,
        projects: &[String],
    ) -> Result<HashMap<String, Option<String>>> {
        if let Some(found) = self.cache.owners(provider, namespace, projects) {
            return Ok(found);
        }
        let mut out = HashMap::new();
        let mut names: Vec<&String> = projects.iter().collect();
        names.sort();
        names.dedup();
        for chunk in names.chunks(200) {
            let d = self.dialect;
            let sql = format!(
                "SELECT project, owner FROM oc_ingest_stage_projects WHERE provider = {} AND namespace = {} \
                 AND project IN ({})",
                d.param(1),
                d.param(2),
                d.params(3, chunk.len()).join(",")
            );
            let mut q = sqlx::query(&sql).bind(provider).bind(namespace);
            for k in chunk {
                q = q.bind(k.as_str());
            }
            for r in q.fetch_all(&self.pool).await.map_err(|e| Error::db("reading staged projects", e))? {
                out.insert(r.get(0), text(&r, 1));
            }
        }
        Ok(out)
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

    async fn count(&self, sql: &str, provider: &str, cycle: Option<i64>) -> Result<i64> {
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

/// Separators of the staged rows a look-up returns as one text: `facts`, U+001F, `apis`,
/// then U+001E before the next row. Both columns hold JSON that serde_json wrote, which
/// escapes every control character inside strings, so neither occurs raw in them.
const STAGED_ROWS: char = '\u{1e}';
const STAGED_COLUMNS: char = '\u{1f}';
/// Separators inside the staged `apis` column (see [`apis_text`]).
const STAGED_APIS: char = '\u{1d}';
const STAGED_API_PARTS: char = '\u{1c}';
const STAGED_API_ENDPOINT: char = '\u{1b}';

/// Rows per multi-row statement (at most 1 + 4 x 200 bind parameters on PostgreSQL, 5 x 200
/// on SQLite, where the provider is bound in every row).
const STAGE_CHUNK: usize = 200;

/// Whether [`Store::commit_page_in_one_statement`] covers a page: most pages (rarer
/// parts, like item errors, the end of a namespace or a namespaces page, take the
/// transaction).
fn single_statement_fits(page: &PageCommit, workloads: usize) -> bool {
    page.namespaces.is_empty()
        && page.item_errors.is_empty()
        && page.drop_namespace_staging.is_none()
        && FENCED_PROVIDER_PARAMS + 2 + 3 * page.project_owners.len() + 4 * workloads <= MAX_STATEMENT_PARAMS
}

/// Bind parameters of one PostgreSQL statement, at most (the protocol allows 65,535).
const MAX_STATEMENT_PARAMS: usize = 16_000;

/// Binds the provider of a multi-row statement where it appears: once, as `$1`, where
/// parameters are numbered ([`bind_provider_once`]); at the start of every row where
/// they are positional ([`bind_provider_per_row`]).
fn bind_provider_once<'q>(d: Dialect, q: AnyQuery<'q>, provider: &'q str) -> AnyQuery<'q> {
    if d.numbered() {
        q.bind(provider)
    } else {
        q
    }
}

fn bind_provider_per_row<'q>(d: Dialect, q: AnyQuery<'q>, provider: &'q str) -> AnyQuery<'q> {
    if d.numbered() {
        q
    } else {
        q.bind(provider)
    }
}

const ENTITY_COLUMNS: &str = "oc_ingest_entities (provider, entity_ref, first_seen_cycle)";
/// An owned ref stays as it was first recorded.
const ENTITY_CONFLICT: Conflict = Conflict { key: "provider, entity_ref", update: &[] };
/// A page group's refs, as one row (a JSON array): what the end of the cycle diffs
/// against the owned refs. One row instead of an upsert per ref keeps the refs the walk
/// sees again every cycle from costing an index update each.
const SEEN_PAGE_INSERT: &str = "INSERT INTO oc_ingest_seen_pages (provider, cycle, refs) VALUES ($1, $2, $3)";

/// Owns the refs of a page group (`$3`, a JSON array) that are new; a known ref costs a
/// look-up, no write. (`WHERE true`: SQLite's parser needs it before `ON CONFLICT`.)
fn own_refs_insert(d: Dialect) -> String {
    let rows = format!("SELECT $1, j.value, $2 FROM {} WHERE true", d.json_strings("$3", "j"));
    d.insert(ENTITY_COLUMNS, &d.sql(&rows), &ENTITY_CONFLICT)
}

/// `settle_cycle`'s listing of the owned refs a cycle did not see (`$1` the provider,
/// `$2` the cycle), per database. On PostgreSQL the seen refs compare byte by byte, as
/// the key columns do.
const SETTLE_POSTGRES: &str = "INSERT INTO oc_ingest_stale (provider, entity_ref) SELECT e.provider, e.entity_ref \
     FROM oc_ingest_entities e WHERE e.provider = $1 AND NOT EXISTS \
     (SELECT 1 FROM oc_ingest_seen_pages s, \
      LATERAL (SELECT j.value COLLATE \"C\" AS r FROM json_array_elements_text(s.refs::json) AS j) AS seen \
      WHERE s.provider = $1 AND s.cycle = $2 AND r = e.entity_ref)";
/// SQLite compares text byte by byte anyway.
const SETTLE_SQLITE: &str = "INSERT INTO oc_ingest_stale (provider, entity_ref) SELECT e.provider, e.entity_ref \
     FROM oc_ingest_entities e WHERE e.provider = $1 AND e.entity_ref NOT IN \
     (SELECT j.value FROM oc_ingest_seen_pages s, json_each(s.refs) AS j WHERE s.provider = $1 AND s.cycle = $2)";
/// What a statement of `settle_cycle` binds.
enum SettleBinds {
    None,
    Provider,
    ProviderCycle,
}

/// MySQL: the seen refs go to a temporary table with a key first, then the anti-join
/// (the same join on a derived table of `JSON_TABLE` rows scanned them per owned ref:
/// minutes at 100,000 refs, against 1.5 s this way on a loaded machine). A temporary
/// table is the connection's own, and creating or dropping it commits nothing.
fn settle_mysql() -> Vec<(String, SettleBinds)> {
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

const NAMESPACES_TABLE: &str = "oc_ingest_cycle_namespaces (provider, seq, name)";
const NAMESPACES_CONFLICT: Conflict = Conflict { key: "provider, seq", update: &["name"] };
const PROJECTS_TABLE: &str = "oc_ingest_stage_projects (provider, namespace, project, owner)";
const PROJECTS_CONFLICT: Conflict = Conflict { key: "provider, namespace, project", update: &["owner"] };
const WORKLOADS_TABLE: &str = "oc_ingest_stage_workloads (provider, namespace, wkey, facts, apis)";
/// A component's first staged workload stays (see `PageRows::of`).
const WORKLOADS_CONFLICT: Conflict = Conflict { key: "provider, namespace, wkey", update: &[] };

/// A staged workload as its row holds it (the `facts` and `apis` columns' text).
pub(crate) struct StagedRow {
    namespace: String,
    wkey: String,
    facts: Box<str>,
    apis: Box<str>,
}

impl StagedRow {
    fn of(w: &StagedWorkload) -> StagedRow {
        StagedRow {
            namespace: w.namespace.clone(),
            wkey: w.facts.component.clone(),
            facts: json(&w.facts).into_boxed_str(),
            apis: apis_text(&w.apis).into_boxed_str(),
        }
    }

    /// The workload a row's columns hold (`None`: facts this version cannot read).
    fn read(namespace: &str, facts: &str, apis: &str) -> Option<StagedWorkload> {
        let facts = serde_json::from_str::<WorkloadFacts>(facts).ok()?;
        Some(StagedWorkload { namespace: namespace.to_string(), facts, apis: apis_from_text(apis) })
    }
}

/// A page's staged rows as one statement may write them: PostgreSQL refuses a statement
/// that touches a row twice, so a repeated staging key keeps its last row, as
/// consecutive upserts would.
struct PageRows<'a> {
    namespaces: Vec<&'a (i64, String)>,
    owners: Vec<&'a (String, String, Option<String>)>,
    workloads: Vec<&'a StagedWorkload>,
}

impl<'a> PageRows<'a> {
    fn of(page: &'a PageCommit) -> Self {
        PageRows {
            namespaces: last_per_key(&page.namespaces, |(seq, _)| *seq),
            owners: last_per_key(&page.project_owners, |(ns, project, _)| (ns.as_str(), project.as_str())),
            // A component's first workload (by name: lists are sorted) is the one, as the
            // legacy module takes `workloads?component=` items[0].
            workloads: first_per_key(&page.workloads, |w| (w.namespace.as_str(), w.facts.component.as_str())),
        }
    }
}

/// `INSERT INTO <table_cols> VALUES ($1, ...), ...` doing `conflict` with existing keys,
/// for `rows` rows of `cols` parameters each after the provider (bound as
/// [`bind_provider_once`] and [`bind_provider_per_row`] say).
fn multi_row_upsert(d: Dialect, table_cols: &str, rows: usize, cols: usize, conflict: &Conflict) -> String {
    let mut values = String::from("VALUES ");
    for r in 0..rows {
        if r > 0 {
            values.push(',');
        }
        // The provider: `$1` where numbered, the row's first `?` elsewhere.
        values.push('(');
        values.push_str(&d.param(1));
        for c in 0..cols {
            values.push_str(&format!(", {}", d.param(2 + r * cols + c)));
        }
        values.push(')');
    }
    d.insert(table_cols, &values, conflict)
}

/// The items in order, keeping only the first one of each key.
fn first_per_key<'a, T, K: std::hash::Hash + Eq>(items: &'a [T], key: impl Fn(&'a T) -> K) -> Vec<&'a T> {
    let mut seen = std::collections::HashSet::with_capacity(items.len());
    items.iter().filter(|item| seen.insert(key(item))).collect()
}

/// The items in order, keeping only the last one of each key.
fn last_per_key<'a, T, K: std::hash::Hash + Eq>(items: &'a [T], key: impl Fn(&'a T) -> K) -> Vec<&'a T> {
    let mut last = HashMap::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        last.insert(key(item), i);
    }
    items.iter().enumerate().filter(|(i, item)| last.get(&key(item)) == Some(i)).map(|(_, item)| item).collect()
}

async fn renew_lease(tx: &mut Transaction<'static, Any>, d: Dialect, provider: &str, (owner, ttl): (&str, Duration)) -> Result<()> {
    let done = sqlx::query(&d.sql("UPDATE oc_ingest_providers SET lease_until = $1 WHERE name = $2 AND lease_owner = $3"))
        .bind(now_ms() + ttl.as_millis() as i64)
        .bind(provider)
        .bind(owner)
        .execute(&mut **tx)
        .await
        .map_err(|e| Error::db("renewing the burst lease", e))?;
    if done.rows_affected() == 1 {
        Ok(())
    } else {
        Err(lease_lost())
    }
}

/// Parameters of the fenced provider update (`$1`..`$13`); a statement built around it
/// numbers its own from the next one.
const FENCED_PROVIDER_PARAMS: usize = 13;

/// The provider row's update, fenced by the lease when one is given (`$1`..`$13`, bound
/// by [`bind_provider`]).
fn provider_update(fenced: bool) -> String {
    let base = "UPDATE oc_ingest_providers SET cycle = $1, status = $2, status_since = $3, next_action_at = $4, \
                attempts = $5, last_error = $6, walk_cursor = $7, progress = $8, rejected_removal = $9, last_completed = $10";
    if fenced {
        format!("{base}, lease_until = $11 WHERE name = $12 AND lease_owner = $13")
    } else {
        format!("{base}, lease_owner = NULL, lease_until = 0 WHERE name = $11")
    }
}

type AnyQuery<'q> = sqlx::query::Query<'q, Any, sqlx::any::AnyArguments<'q>>;

fn bind_provider<'q>(q: AnyQuery<'q>, row: &'q ProviderRow, lease: Option<(&'q str, Duration)>) -> AnyQuery<'q> {
    let q = q
        .bind(row.cycle)
        .bind(row.status.as_str())
        .bind(row.status_since)
        .bind(row.next_action_at)
        .bind(row.attempts)
        .bind(row.last_error.as_deref())
        .bind(row.walk.as_ref().map(json))
        .bind(json(&row.progress))
        .bind(row.rejected_removal.as_ref().map(json))
        .bind(row.last_completed.as_ref().map(json));
    match lease {
        Some((owner, ttl)) => q.bind(now_ms() + ttl.as_millis() as i64).bind(row.name.as_str()).bind(owner),
        None => q.bind(row.name.as_str()),
    }
}

/// Upserts staged workloads, one multi-row statement per [`STAGE_CHUNK`] rows.
async fn write_staged_workloads(tx: &mut Transaction<'static, Any>, d: Dialect, provider: &str, rows: &[StagedRow]) -> Result<()> {
    for chunk in rows.chunks(STAGE_CHUNK) {
        let sql = multi_row_upsert(d, WORKLOADS_TABLE, chunk.len(), 4, &WORKLOADS_CONFLICT);
        let mut q = bind_provider_once(d, sqlx::query(&sql), provider);
        for w in chunk {
            q = bind_provider_per_row(d, q, provider).bind(w.namespace.as_str()).bind(w.wkey.as_str()).bind(&*w.facts).bind(&*w.apis);
        }
        q.execute(&mut **tx).await.map_err(|e| Error::db("staging workloads", e))?;
    }
    Ok(())
}

/// Records who holds the current namespace's staged workloads in memory (`None`: they
/// are all in the database).
async fn set_staging_holder(tx: &mut Transaction<'static, Any>, d: Dialect, provider: &str, holder: Option<&str>) -> Result<()> {
    sqlx::query(&d.sql("UPDATE oc_ingest_providers SET staging_holder = $1 WHERE name = $2"))
        .bind(holder)
        .bind(provider)
        .execute(&mut **tx)
        .await
        .map_err(|e| Error::db("recording the staging holder", e))?;
    Ok(())
}

async fn write_provider(tx: &mut Transaction<'static, Any>, d: Dialect, row: &ProviderRow, lease: Option<(&str, Duration)>) -> Result<()> {
    let sql = provider_update(lease.is_some());
    let done = bind_provider(sqlx::query(&d.sql(&sql)), row, lease)
        .execute(&mut **tx)
        .await
        .map_err(|e| Error::db("saving the provider state", e))?;
    if done.rows_affected() == 1 {
        Ok(())
    } else {
        Err(lease_lost())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The durability the README and docs/reliability.md state: SQLite files commit
    /// without waiting for a disk flush (on every connection), PostgreSQL synchronously
    /// (and with lz4 TOAST compression where the server has it).
    #[tokio::test]
    async fn commit_durability_is_as_documented() {
        let dir = std::env::temp_dir().join(format!("oc-store-sync-{}.db", std::process::id()));
        let store = Store::open(&format!("sqlite://{}", dir.display())).await.unwrap();
        // Both connections of the pool (the setting is per connection).
        let mut a = store.pool.acquire().await.unwrap();
        let mut b = store.pool.acquire().await.unwrap();
        for conn in [&mut a, &mut b] {
            let sync: i64 = sqlx::query("PRAGMA synchronous").fetch_one(&mut **conn).await.unwrap().get(0);
            assert_eq!(sync, 1, "SQLite: synchronous=NORMAL");
        }
        drop((a, b));
        store.close().await;
        let _ = std::fs::remove_file(&dir);

        let url = std::env::var("OC_TEST_POSTGRES_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
        if tokio::net::TcpStream::connect("127.0.0.1:5432").await.is_err() {
            assert!(std::env::var("CI").is_err(), "CI=true but PostgreSQL is not reachable");
            eprintln!("SKIPPED: PostgreSQL not reachable; SQLite only");
            return;
        }
        let store = Store::open(&url).await.unwrap();
        let setting: String = sqlx::query("SHOW synchronous_commit").fetch_one(&store.pool).await.unwrap().get(0);
        assert_eq!(setting, "on", "PostgreSQL: synchronous commits");
        // Staged rows are compressed with lz4 where the server has it.
        let lz4: bool = sqlx::query("SELECT 'lz4' = ANY(enumvals) FROM pg_settings WHERE name = 'default_toast_compression'")
            .fetch_optional(&store.pool)
            .await
            .unwrap()
            .is_some_and(|r| r.get::<Option<bool>, _>(0) == Some(true));
        if lz4 {
            let setting: String = sqlx::query("SHOW default_toast_compression").fetch_one(&store.pool).await.unwrap().get(0);
            assert_eq!(setting, "lz4", "PostgreSQL: lz4 TOAST compression on the engine's connections");
        }
        store.close().await;
    }

    #[test]
    fn staged_api_templates_round_trip_as_raw_text() {
        let rendered = |r: &str, json: &str| ApiTemplate::Rendered { entity_ref: r.into(), json: json.into() };
        let ep: crate::model::WorkloadEndpoint = serde_json::from_value(serde_json::json!({
            "type": "GraphQL", "port": 4000, "visibility": ["namespace", "external"],
            "schema": {"type": "GraphQL", "content": "type Query {\n  a: String\u{1b}\u{1c}\u{1d}\n}"}
        }))
        .unwrap();
        let apis = vec![
            ApiTemplate::Endpoint { entity_ref: "api:acme/p-c-graphql".into(), endpoint: "graph\u{1e}ql".into(), ep },
            rendered("api:acme/a", r#"{"kind":"API","spec":{"owner":null}}"#),
            rendered("api:acme/b\"q", r#"{"kind":"API","spec":{"definition":"x\ny","owner":null}}"#),
        ];
        assert_eq!(apis_from_text(&apis_text(&apis)), apis);
        assert_eq!(apis_from_text(&apis_text(&apis[..1])), apis[..1]);
        assert_eq!(apis_from_text(&apis_text(&apis[1..])), apis[1..]);
        assert_eq!(apis_text(&[]), "");
        assert_eq!(apis_from_text(""), vec![]);
        // Earlier versions staged JSON: `[{"ref": ..., "entity": ...}]`, and before that a
        // plain array of entities.
        let json = r#"[{"ref":"api:acme/b","entity":{"kind":"API","spec":{"owner":null}}}]"#;
        assert_eq!(apis_from_text(json), vec![rendered("api:acme/b", r#"{"kind":"API","spec":{"owner":null}}"#)]);
        assert_eq!(apis_from_text("[]"), vec![]);
        let old = r#"[{"kind":"API","metadata":{"name":"a","namespace":"acme"},"spec":{"owner":"group:default/x"}}]"#;
        assert_eq!(apis_from_text(old)[0].entity_ref(), "api:acme/a");
    }
}

//! The provider row: its persisted state, the burst lease that fences every write of a
//! burst, and the fingerprint of the connection settings.

use super::*;

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

pub(super) fn lease_lost() -> Error {
    Error::new(ErrorCode::Locked, "the burst lease was lost (reset, cancel, or another process took over)")
}

impl Store {
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

    pub(super) async fn read_provider(&self, name: &str) -> Result<Option<ProviderRow>> {
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
}

pub(super) async fn renew_lease(tx: &mut Transaction<'static, Any>, d: Dialect, provider: &str, (owner, ttl): (&str, Duration)) -> Result<()> {
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
pub(super) const FENCED_PROVIDER_PARAMS: usize = 13;

/// The provider row's update, fenced by the lease when one is given (`$1`..`$13`, bound
/// by [`bind_provider`]).
pub(super) fn provider_update(fenced: bool) -> String {
    let base = "UPDATE oc_ingest_providers SET cycle = $1, status = $2, status_since = $3, next_action_at = $4, \
                attempts = $5, last_error = $6, walk_cursor = $7, progress = $8, rejected_removal = $9, last_completed = $10";
    if fenced {
        format!("{base}, lease_until = $11 WHERE name = $12 AND lease_owner = $13")
    } else {
        format!("{base}, lease_owner = NULL, lease_until = 0 WHERE name = $11")
    }
}

pub(super) fn bind_provider<'q>(q: AnyQuery<'q>, row: &'q ProviderRow, lease: Option<(&'q str, Duration)>) -> AnyQuery<'q> {
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

pub(super) async fn write_provider(tx: &mut Transaction<'static, Any>, d: Dialect, row: &ProviderRow, lease: Option<(&str, Duration)>) -> Result<()> {
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

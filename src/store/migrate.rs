//! Applies `migrations/*.sql` when the store opens. Idempotent (every statement is
//! `IF NOT EXISTS` and applied versions are recorded) and safe when two processes open
//! the same database at once (PostgreSQL: an advisory lock; SQLite: the write lock).

use sqlx::{AnyPool, Row};

use crate::error::{Error, Result};

/// Embedded so the addon needs no files at run time: (version, name, PostgreSQL only, SQL).
/// A PostgreSQL-only migration is recorded as applied on SQLite without running.
const MIGRATIONS: &[(i64, &str, bool, &str)] = &[
    (1, "initial", false, include_str!("../../migrations/0001_initial.sql")),
    (2, "staged_workload_apis", false, include_str!("../../migrations/0002_staged_workload_apis.sql")),
    (3, "postgres_c_collation", true, include_str!("../../migrations/0003_postgres_c_collation.sql")),
    (4, "seen_pages", false, include_str!("../../migrations/0004_seen_pages.sql")),
    (5, "staging_holder", false, include_str!("../../migrations/0005_staging_holder.sql")),
    (6, "lease_heartbeat", false, include_str!("../../migrations/0006_lease_heartbeat.sql")),
    (7, "event_marks", false, include_str!("../../migrations/0007_event_marks.sql")),
    (8, "consistency", false, include_str!("../../migrations/0008_consistency.sql")),
];

/// An arbitrary, fixed key for `pg_advisory_xact_lock`.
const PG_LOCK_KEY: i64 = 0x0C_16_E5_7;

pub async fn run(pool: &AnyPool, postgres: bool) -> Result<()> {
    let mut tx = pool.begin().await.map_err(|e| Error::db("starting the migration", e))?;
    if postgres {
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(PG_LOCK_KEY)
            .execute(&mut *tx)
            .await
            .map_err(|e| Error::db("taking the migration lock", e))?;
    }
    sqlx::query(
        "CREATE TABLE IF NOT EXISTS oc_ingest_migrations (version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)",
    )
    .execute(&mut *tx)
    .await
    .map_err(|e| Error::db("creating oc_ingest_migrations", e))?;
    let applied: Vec<i64> = sqlx::query("SELECT version FROM oc_ingest_migrations")
        .fetch_all(&mut *tx)
        .await
        .map_err(|e| Error::db("reading oc_ingest_migrations", e))?
        .iter()
        .map(|r| r.get::<i64, _>(0))
        .collect();
    for (version, name, postgres_only, sql) in MIGRATIONS {
        if applied.contains(version) {
            continue;
        }
        let sql = if *postgres_only && !postgres { "" } else { sql };
        for statement in statements(sql) {
            sqlx::query(&statement)
                .execute(&mut *tx)
                .await
                .map_err(|e| Error::db(&format!("migration {version} ({name})"), e))?;
        }
        sqlx::query("INSERT INTO oc_ingest_migrations (version, name, applied_at) VALUES ($1, $2, $3)")
            .bind(*version)
            .bind(*name)
            .bind(crate::store::now_ms())
            .execute(&mut *tx)
            .await
            .map_err(|e| Error::db("recording a migration", e))?;
        tracing::info!(version, name, "applied state database migration");
    }
    tx.commit().await.map_err(|e| Error::db("committing the migration", e))
}

/// Splits a migration file into statements (the files hold no `;` inside strings).
fn statements(sql: &str) -> Vec<String> {
    let without_comments: String = sql
        .lines()
        .filter(|l| !l.trim_start().starts_with("--"))
        .collect::<Vec<_>>()
        .join("\n");
    without_comments.split(';').map(str::trim).filter(|s| !s.is_empty()).map(String::from).collect()
}

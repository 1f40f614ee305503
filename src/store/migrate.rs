//! Applies `migrations/*.sql` when the store opens. Idempotent (every statement is
//! `IF NOT EXISTS` and applied versions are recorded) and safe when two processes open
//! the same database at once (PostgreSQL: an advisory lock; MySQL: a named lock; SQLite:
//! the write lock).

use sqlx::{AnyConnection, AnyPool, Connection, Row};

use super::Dialect;
use crate::error::{Error, Result};

/// One schema version: what it runs on each database ("": recorded without running).
struct Migration {
    version: i64,
    name: &'static str,
    sqlite: &'static str,
    postgres: &'static str,
    mysql: &'static str,
}

impl Migration {
    fn sql(&self, d: Dialect) -> &'static str {
        match d {
            Dialect::Sqlite => self.sqlite,
            Dialect::Postgres => self.postgres,
            Dialect::MySql => self.mysql,
        }
    }
}

/// The same SQL on SQLite and PostgreSQL; MySQL's version 1 already holds it (MySQL
/// support began at version 8: its version 1 creates the schema as 1 to 8 leave it on
/// the others). From version 9 on, each migration says what it runs on MySQL too.
const fn up_to_8(version: i64, name: &'static str, sql: &'static str) -> Migration {
    Migration { version, name, sqlite: sql, postgres: sql, mysql: "" }
}

/// Embedded so the addon needs no files at run time.
const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "initial",
        sqlite: include_str!("../../migrations/0001_initial.sql"),
        postgres: include_str!("../../migrations/0001_initial.sql"),
        mysql: include_str!("../../migrations/mysql/0001_initial.sql"),
    },
    up_to_8(2, "staged_workload_apis", include_str!("../../migrations/0002_staged_workload_apis.sql")),
    Migration {
        version: 3,
        name: "postgres_c_collation",
        sqlite: "",
        postgres: include_str!("../../migrations/0003_postgres_c_collation.sql"),
        mysql: "",
    },
    up_to_8(4, "seen_pages", include_str!("../../migrations/0004_seen_pages.sql")),
    up_to_8(5, "staging_holder", include_str!("../../migrations/0005_staging_holder.sql")),
    up_to_8(6, "lease_heartbeat", include_str!("../../migrations/0006_lease_heartbeat.sql")),
    up_to_8(7, "event_marks", include_str!("../../migrations/0007_event_marks.sql")),
    up_to_8(8, "consistency", include_str!("../../migrations/0008_consistency.sql")),
];

/// An arbitrary, fixed key for `pg_advisory_xact_lock`.
const PG_LOCK_KEY: i64 = 0x00C1_6E57;
/// Seconds a MySQL migration waits for another process's.
const MYSQL_LOCK_WAIT_SECS: i64 = 120;

pub async fn run(pool: &AnyPool, dialect: Dialect) -> Result<()> {
    let mut conn = pool.acquire().await.map_err(|e| Error::db("starting the migration", e))?;
    if dialect == Dialect::MySql {
        // MySQL commits every DDL statement at once, so a transaction cannot hold the
        // migration together; a named lock (per database: the name is server-wide) keeps
        // a second process out until the first is done, and a migration cut short runs
        // again from its first unrecorded version (its statements are idempotent).
        let got: Option<i64> = sqlx::query("SELECT GET_LOCK(CONCAT('oc_ingest_migrate.', DATABASE()), ?)")
            .bind(MYSQL_LOCK_WAIT_SECS)
            .fetch_one(&mut *conn)
            .await
            .map_err(|e| Error::db("taking the migration lock", e))?
            .get(0);
        if got != Some(1) {
            return Err(Error::db("taking the migration lock", "another process held it too long"));
        }
        let result = apply(&mut conn, dialect).await;
        let released = sqlx::query("SELECT RELEASE_LOCK(CONCAT('oc_ingest_migrate.', DATABASE()))").execute(&mut *conn).await;
        result?;
        return released.map(|_| ()).map_err(|e| Error::db("releasing the migration lock", e));
    }
    let mut tx = conn.begin().await.map_err(|e| Error::db("starting the migration", e))?;
    if dialect == Dialect::Postgres {
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(PG_LOCK_KEY)
            .execute(&mut *tx)
            .await
            .map_err(|e| Error::db("taking the migration lock", e))?;
    }
    apply(&mut tx, dialect).await?;
    tx.commit().await.map_err(|e| Error::db("committing the migration", e))
}

async fn apply(conn: &mut AnyConnection, dialect: Dialect) -> Result<()> {
    sqlx::query(
        "CREATE TABLE IF NOT EXISTS oc_ingest_migrations (version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)",
    )
    .execute(&mut *conn)
    .await
    .map_err(|e| Error::db("creating oc_ingest_migrations", e))?;
    let applied: Vec<i64> = sqlx::query("SELECT version FROM oc_ingest_migrations")
        .fetch_all(&mut *conn)
        .await
        .map_err(|e| Error::db("reading oc_ingest_migrations", e))?
        .iter()
        .map(|r| r.get::<i64, _>(0))
        .collect();
    for m in MIGRATIONS {
        if applied.contains(&m.version) {
            continue;
        }
        for statement in statements(m.sql(dialect)) {
            sqlx::query(&statement)
                .execute(&mut *conn)
                .await
                .map_err(|e| Error::db(&format!("migration {} ({})", m.version, m.name), e))?;
        }
        sqlx::query(&dialect.sql("INSERT INTO oc_ingest_migrations (version, name, applied_at) VALUES ($1, $2, $3)"))
            .bind(m.version)
            .bind(m.name)
            .bind(crate::store::now_ms())
            .execute(&mut *conn)
            .await
            .map_err(|e| Error::db("recording a migration", e))?;
        tracing::info!(version = m.version, name = m.name, dialect = dialect.name(), "applied state database migration");
    }
    Ok(())
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

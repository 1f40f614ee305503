//! State persistence (sqlx; SQLite, PostgreSQL or MySQL/MariaDB chosen by URL). Only `oc_ingest_*`
//! tables, all owned by this module. Every write of a burst is fenced by the burst lease:
//! a process that lost its lease cannot overwrite another's progress.
//!
//! Here: opening (and migrating) the database and what every part shares. The parts:
//! `provider` (the provider row, the lease, the settings fingerprint), `page` (a page's
//! commit), `staging` (cross-references staged while a namespace is walked, with
//! `staging_cache` holding them in memory), `cycle` (owned refs, the end-of-cycle diff,
//! adoption, removals), `events`, `immediate`, `consistency`, `dialect` (SQL that differs
//! per database) and `migrate`. The parts share this module's imports (`use super::*`).

mod consistency;
mod cycle;
mod dialect;
mod events;
mod immediate;
mod migrate;
mod page;
mod provider;
mod staging;
mod staging_cache;

pub use dialect::Dialect;
pub use events::{Claim, Mark};
pub use page::PageCommit;
pub use provider::{FingerprintChange, LeaseRow, ProviderRow};
pub use staging::StagedWorkload;

use cycle::*;
use page::*;
use provider::*;
use staging::*;

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

    async fn begin(&self) -> Result<Transaction<'static, Any>> {
        self.pool.begin().await.map_err(|e| Error::db("starting a transaction", e))
    }
}

type AnyQuery<'q> = sqlx::query::Query<'q, Any, sqlx::any::AnyArguments<'q>>;

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

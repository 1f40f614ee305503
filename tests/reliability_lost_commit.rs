//! Scenario "lost commit": PostgreSQL's connection to the engine is terminated while a
//! page's single-statement commit is committing — after the statement has produced its
//! row, before the implicit transaction has committed at Sync. The transaction rolls
//! back. If the engine took the row as success (sqlx's Any driver returns from
//! `fetch_one` at the first DataRow, before ReadyForQuery), it would advance past a page
//! whose refs were never recorded, and the end of the cycle would remove those entities
//! as stale although they still exist.
//!
//! To land the kill deterministically inside that window, a deferred constraint trigger
//! sleeps at COMMIT for one chosen row; the test waits until the engine's backend is in
//! `pg_sleep` (wait_event `PgSleep`), then terminates it. The test runs in a database of
//! its own; without a PostgreSQL server it is skipped with a message (CI=true fails).

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::db::{postgres_available, unique_provider};
use common::harness::*;
use common::pgtemp::{with_param, TempDatabase};
use mock_openchoreo::Kind;
use openchoreo_incremental::engine::Engine;
use openchoreo_incremental::ErrorCode;
use sqlx::Row;

/// How long the trigger holds the commit: ample time to see the sleep and kill it.
const COMMIT_SLEEP_SECS: u32 = 5;

/// An acknowledged-but-rolled-back page commit must not count as done (no skipped page, no entity loss).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_commit_killed_after_its_row_was_returned_is_not_counted_as_done() {
    if !postgres_available().await {
        return;
    }
    let db = TempDatabase::create("lostcommit").await;
    let app = format!("ocrel_lost_{}", std::process::id());
    let spec = InstallationSpec { namespaces: 2, projects_per_namespace: 3, ..InstallationSpec::small() };
    let mock = start_mock(spec).await;
    let h = mock.handle();
    let provider = unique_provider("db-lost-commit");
    // Zero backoff (the harness default): the burst after a failure runs at once.
    let cfg = config(&mock.url(), &with_param(&db.url, "application_name", &app), &provider);
    let engine = Arc::new(Engine::open(cfg).await.unwrap());
    let catalog = Arc::new(CatalogSink::default());

    // Cycle 1 runs clean; in cycle 2 a skipped page would show as removals of entities
    // that still exist.
    run_cycle(&engine, &catalog).await;
    assert_eq!(catalog.refs(), expected_refs(&h));
    catalog.added_counts.lock().unwrap().clear();

    // The first project of the first namespace: its ref is recorded again (a seen-pages
    // row of cycle 2) by a projects page of cycle 2; that commit sleeps in the trigger.
    let ns = h.namespaces()[0].clone();
    let target = format!("system:{ns}/{}", h.list_names(Kind::Project, &ns).unwrap()[0]).to_lowercase();
    let mut admin = db.connect().await;
    sqlx::query(&format!(
        "CREATE FUNCTION oc_test_slow_commit() RETURNS trigger LANGUAGE plpgsql AS \
         $$ BEGIN PERFORM pg_sleep({COMMIT_SLEEP_SECS}); RETURN NULL; END $$"
    ))
    .execute(&mut admin)
    .await
    .unwrap();
    sqlx::query(&format!(
        "CREATE CONSTRAINT TRIGGER oc_test_slow_commit AFTER INSERT ON oc_ingest_seen_pages \
         DEFERRABLE INITIALLY DEFERRED FOR EACH ROW \
         WHEN (NEW.refs LIKE '%\"{target}\"%' AND NEW.cycle = 2) EXECUTE FUNCTION oc_test_slow_commit()"
    ))
    .execute(&mut admin)
    .await
    .unwrap();

    // Cycle 2: one burst (burst_length is 60 s) that would run the whole cycle.
    let e2 = engine.clone();
    let c2 = catalog.clone();
    let burst = tokio::spawn(async move { e2.tick(c2.as_ref()).await });

    // Wait until the engine's backend sleeps inside the commit, then terminate it.
    let t0 = Instant::now();
    let (sleeping, query): (i32, String) = loop {
        // Read before the poll: a burst that ended before it is one whose commit never
        // slept (with the bug, the burst can end while the backend still sleeps).
        let ended = burst.is_finished();
        let row = sqlx::query(
            "SELECT pid, query FROM pg_stat_activity WHERE application_name = $1 AND wait_event = 'PgSleep'",
        )
        .bind(&app)
        .fetch_optional(&mut admin)
        .await
        .unwrap();
        if let Some(row) = row {
            break (row.get(0), row.get(1));
        }
        assert!(!ended, "the burst ended without its commit reaching the trigger: {:?}", burst.await);
        assert!(t0.elapsed() < Duration::from_secs(30), "the engine's commit never reached the sleeping trigger");
        tokio::time::sleep(Duration::from_millis(10)).await;
    };
    // The path this test guards (a BEGIN ... COMMIT commit fails at COMMIT either way).
    assert!(query.starts_with("WITH fence AS"), "not the single-statement page commit: {query}");
    let killed: bool =
        sqlx::query("SELECT pg_terminate_backend($1)").bind(sleeping).fetch_one(&mut admin).await.unwrap().get(0);
    assert!(killed, "terminated the engine's backend (pid {sleeping}) inside the commit");
    // The trigger has done its job: the repeated page must commit normally.
    sqlx::query("DROP TRIGGER oc_test_slow_commit ON oc_ingest_seen_pages").execute(&mut admin).await.unwrap();

    // The burst whose commit was killed must not report success for that page.
    let result = tokio::time::timeout(Duration::from_secs(30), burst).await.expect("the tick returns").unwrap();
    eprintln!("the burst whose commit was killed: {result:?}");
    let completed_in_one_tick = match result {
        Ok(report) => {
            assert_eq!(report.action, "failed", "the rolled-back commit was counted as done: {report:?}");
            let error = report.error.clone().unwrap_or_default();
            assert!(error.starts_with("DATABASE"), "{report:?}");
            report.cycle_completed
        }
        Err(e) => {
            assert_eq!(e.code, ErrorCode::Database, "{e}");
            false
        }
    };
    assert!(!completed_in_one_tick, "cycle 2 must not complete past the lost page");
    assert!(catalog.removals.lock().unwrap().is_empty(), "nothing is removed by the failed burst");

    // The next bursts repeat the page and finish the cycle: nothing is lost.
    run_cycle(&engine, &catalog).await;
    assert!(catalog.added_counts.lock().unwrap()[&target] >= 2, "the page with {target} is applied again");
    assert_eq!(catalog.refs(), expected_refs(&h), "the catalog equals the source");
    assert!(catalog.removals.lock().unwrap().is_empty(), "nothing that exists is removed: {:?}", catalog.removals);
    let status = engine.status().await.unwrap();
    assert_eq!(status.owned_entities as usize, expected_refs(&h).len(), "every page was committed");
    engine.close().await;
}

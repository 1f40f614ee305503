//! Whole cycles against the OpenChoreo stand-in over a real socket: the entities, the
//! number of requests, removals, guards, and a crash between the catalog and the commit.

mod common;

use std::time::Duration;

use common::db::{database_urls, unique_provider};
use common::harness::*;
use mock_openchoreo::Kind;
use openchoreo_incremental::engine::Engine;

#[tokio::test]
async fn a_cycle_yields_exactly_the_expected_entities_with_the_minimum_requests() {
    for db in database_urls().await {
        let mock = start_mock(InstallationSpec::small()).await;
        let h = mock.handle();
        let provider = unique_provider("cycle");
        let engine = Engine::open(config(&mock.url(), &db, &provider)).await.unwrap();
        let sink = CatalogSink::default();
        h.reset_stats();
        let reports = run_cycle(&engine, &sink).await;

        assert_eq!(sink.refs(), expected_refs(&h), "{db}");
        // Every list was paged with chunkSize 5, and lists of 12 components span pages.
        let summary = h.summary();
        assert!(summary.components > 5);
        let minimum = min_requests(&h, 5);
        assert_eq!(h.stats().requests, minimum, "{db}: requests must equal the sum of ceil(items / page size)");
        let status = engine.status().await.unwrap();
        assert_eq!(status.current_action, "resting");
        let last = status.last_completed_cycle.unwrap();
        assert_eq!(last.entities as usize, sink.refs().len());
        assert_eq!(last.added, last.entities);
        assert_eq!(last.removed, 0);
        assert_eq!(last.requests as u64, minimum);
        assert!(reports.iter().all(|r| r.error.is_none()), "{reports:?}");
        // One read time per page read (the module's page-latency histogram).
        for r in &reports {
            assert_eq!(r.page_fetch_millis.len() as i64, r.pages, "{db}: {r:?}");
            assert!(r.page_fetch_millis.iter().all(|ms| ms.is_finite() && *ms >= 0.0), "{r:?}");
        }
        assert!(reports.iter().any(|r| !r.page_fetch_millis.is_empty()));
        engine.close().await;
    }
}

#[tokio::test]
async fn component_entities_carry_cross_references_resolved_across_pages() {
    let mock = start_mock(InstallationSpec::small()).await;
    let h = mock.handle();
    let engine = Engine::open(config(&mock.url(), "sqlite::memory:", "xref")).await.unwrap();
    let sink = CatalogSink::default();
    run_cycle(&engine, &sink).await;
    let refs = sink.refs();
    let mut provides = 0;
    let mut consumes = 0;
    for ns in h.namespaces() {
        for c in h.list_names(Kind::Component, &ns).unwrap() {
            let e = sink.get(&format!("component:{ns}/{c}")).unwrap();
            assert_eq!(e["metadata"]["annotations"]["openchoreo.io/workload"], format!("{c}-workload"));
            for (field, count) in [("providesApis", &mut provides), ("consumesApis", &mut consumes)] {
                for api in e["spec"][field].as_array().into_iter().flatten() {
                    let r = format!("api:{ns}/{}", api.as_str().unwrap()).to_lowercase();
                    assert!(refs.contains(&r), "{c}.{field} names {r}, which is not an ingested API");
                    *count += 1;
                }
            }
        }
    }
    assert!(provides > 0 && consumes > 0, "the small installation has APIs and dependencies on them");
}

#[tokio::test]
async fn deleted_items_are_removed_at_the_end_of_the_next_cycle() {
    let mock = start_mock(InstallationSpec::small()).await;
    let h = mock.handle();
    let engine = Engine::open(config(&mock.url(), "sqlite::memory:", "removal")).await.unwrap();
    let sink = CatalogSink::default();
    run_cycle(&engine, &sink).await;
    let before = sink.refs();

    let ns = h.namespaces()[0].clone();
    let comp = h.list_names(Kind::Component, &ns).unwrap()[0].clone();
    let workload = format!("{comp}-workload");
    h.delete_item(Kind::Component, &ns, &comp).unwrap();
    h.delete_item(Kind::Workload, &ns, &workload).unwrap();
    let ns2 = h.namespaces()[1].clone();
    h.delete_namespace(&ns2);
    let expected = expected_refs(&h);
    let gone: Vec<String> = before.difference(&expected).cloned().collect();
    assert!(gone.contains(&format!("component:{ns}/{comp}")) && gone.contains(&format!("domain:default/{ns2}")));

    let reports = run_cycle(&engine, &sink).await;
    assert_eq!(sink.refs(), expected);
    let mut removed = sink.removals.lock().unwrap().clone();
    removed.sort();
    assert_eq!(removed, gone, "exactly the deleted items are removed");
    assert_eq!(reports.last().unwrap().removed as usize, gone.len());
    assert_eq!(engine.status().await.unwrap().last_completed_cycle.unwrap().removed as usize, gone.len());
}

#[tokio::test]
async fn an_empty_source_is_refused_and_nothing_is_lost_when_it_recovers() {
    let mock = start_mock(InstallationSpec::small()).await;
    let h = mock.handle();
    let engine = Engine::open(config(&mock.url(), "sqlite::memory:", "empty")).await.unwrap();
    let sink = CatalogSink::default();
    run_cycle(&engine, &sink).await;
    let full = sink.refs();

    h.update_faults(|f| f.empty_lists = true);
    run_cycle(&engine, &sink).await;
    assert_eq!(sink.refs(), full, "an empty source must not wipe the catalog");
    let status = engine.status().await.unwrap();
    let rejected = status.rejected_removal.expect("the removal is recorded as rejected");
    assert!(rejected.reason.contains("rejectEmptySourceCollections"), "{}", rejected.reason);
    assert_eq!(rejected.stale as usize, full.len());
    assert!(status.last_error.unwrap().contains("refused"));

    h.update_faults(|f| f.empty_lists = false);
    run_cycle(&engine, &sink).await;
    assert_eq!(sink.refs(), full);
    let status = engine.status().await.unwrap();
    assert!(status.rejected_removal.is_none() && status.last_error.is_none());
    assert_eq!(status.owned_entities as usize, full.len());
}

#[tokio::test]
async fn a_rejected_removal_goes_through_after_the_threshold_is_raised() {
    let mock = start_mock(InstallationSpec::small()).await;
    let h = mock.handle();
    let dir = std::env::temp_dir().join(unique_provider("threshold"));
    std::fs::create_dir_all(&dir).unwrap();
    let db = format!("sqlite://{}", dir.join("state.sqlite").display());
    let mut cfg = config(&mock.url(), &db, "threshold");
    cfg.reject_removals_above_percentage = Some(20.0);
    let engine = Engine::open(cfg.clone()).await.unwrap();
    let sink = CatalogSink::default();
    run_cycle(&engine, &sink).await;
    let full = sink.refs();

    // The source suddenly shows half its items: the guard keeps every entity.
    h.update_faults(|f| f.drop_share = 0.5);
    run_cycle(&engine, &sink).await;
    assert_eq!(sink.refs(), full);
    let rejected = engine.status().await.unwrap().rejected_removal.unwrap();
    assert!(rejected.reason.contains("rejectRemovalsAbovePercentage = 20"), "{}", rejected.reason);
    // It is retried, and refused again, every cycle while the source stays that way.
    run_cycle(&engine, &sink).await;
    assert_eq!(sink.refs(), full);
    engine.close().await;

    // A genuine mass deletion goes through once the operator raises the threshold.
    cfg.reject_removals_above_percentage = Some(100.0);
    let engine = Engine::open(cfg).await.unwrap();
    engine.refresh().await.unwrap();
    run_cycle(&engine, &sink).await;
    let status = engine.status().await.unwrap();
    assert!(status.rejected_removal.is_none(), "{:?}", status.rejected_removal);
    let last = status.last_completed_cycle.unwrap();
    let left = sink.refs();
    assert!(left.is_subset(&full) && left.len() < full.len(), "{} of {} left", left.len(), full.len());
    assert_eq!(last.entities as usize, left.len());
    assert_eq!(last.removed as usize, full.len() - left.len());
}

#[tokio::test]
async fn a_crash_between_the_catalog_and_the_commit_repeats_the_page_and_loses_nothing() {
    let mock = start_mock(InstallationSpec::small()).await;
    let h = mock.handle();
    let engine = Engine::open(config(&mock.url(), "sqlite::memory:", "crash")).await.unwrap();
    let sink = CatalogSink::default();
    *sink.fail_after_apply_at.lock().unwrap() = Some(4);
    let reports = run_cycle(&engine, &sink).await;
    assert!(reports.iter().any(|r| r.action == "failed"), "the simulated crash fails a burst: {reports:?}");
    assert_eq!(sink.refs(), expected_refs(&h));
    // Exactly one page was applied twice: the one whose commit never happened.
    let twice: Vec<_> = sink.added_counts.lock().unwrap().iter().filter(|(_, n)| **n > 1).map(|(r, _)| r.clone()).collect();
    assert!(!twice.is_empty());
    assert_eq!(twice, *sink.failed_mutation_refs.lock().unwrap(), "exactly the uncommitted page repeats");
    let status = engine.status().await.unwrap();
    assert_eq!(status.attempts, 0, "a completed cycle clears the failure count");
}

#[tokio::test]
async fn bursts_stop_after_burst_length_and_resume_where_they_stopped() {
    let mock = start_mock(InstallationSpec::small()).await;
    let h = mock.handle();
    let mut cfg = config(&mock.url(), "sqlite::memory:", "bursts");
    cfg.burst_length = Duration::from_millis(1);
    let engine = Engine::open(cfg).await.unwrap();
    let sink = CatalogSink::default();
    h.reset_stats();
    let reports = run_cycle(&engine, &sink).await;
    // burstLength is checked between pages: a burst past its time stops after its page,
    // plus the next one when that was requested before the time was up.
    assert!(reports.iter().filter(|r| r.action == "burst").all(|r| r.pages <= 2), "{reports:?}");
    assert!(reports.len() > 10);
    assert_eq!(sink.refs(), expected_refs(&h));
    assert_eq!(h.stats().requests, min_requests(&h, 5), "resuming costs no extra request");
}

#[tokio::test]
async fn the_next_action_waits_for_its_time_and_refresh_makes_it_due() {
    let mock = start_mock(InstallationSpec::small()).await;
    let mut cfg = config(&mock.url(), "sqlite::memory:", "timing");
    cfg.rest_length = Duration::from_secs(3600);
    let engine = Engine::open(cfg).await.unwrap();
    let sink = CatalogSink::default();
    run_cycle(&engine, &sink).await;
    let r = engine.tick(&sink).await.unwrap();
    assert_eq!(r.action, "waiting");
    let status = engine.status().await.unwrap();
    assert_eq!(status.next_action, "start cycle");
    assert!(status.next_action_at > status.current_action_since + 3_000_000);
    engine.refresh().await.unwrap();
    let r = engine.tick(&sink).await.unwrap();
    assert_eq!(r.action, "burst");
    assert_eq!(engine.status().await.unwrap().cycle, 2);
}

/// Holds the page that carries one component until the stand-in has been asked for
/// `awaited` (or a while has passed), and records whether it was.
struct HoldingSink {
    inner: CatalogSink,
    holds: String,
    awaited: String,
    mock: mock_openchoreo::MockHandle,
    seen_while_held: std::sync::atomic::AtomicBool,
}

impl openchoreo_incremental::Sink for HoldingSink {
    async fn apply(&self, m: openchoreo_incremental::Mutation) -> Result<(), String> {
        if m.added.iter().any(|e| e.entity_ref() == self.holds) {
            for _ in 0..200 {
                if self.mock.stats().by_path.contains_key(&self.awaited) {
                    self.seen_while_held.store(true, std::sync::atomic::Ordering::SeqCst);
                    break;
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }
        self.inner.apply(m).await
    }
}

/// The walk does not stop at a namespace's end: the next namespace's first page is
/// requested while the catalog still takes the last components page of the one before
/// (its name read from the cycle's order), so a cycle's namespaces follow each other
/// without a round trip's pause.
#[tokio::test]
async fn the_next_namespace_is_read_ahead_while_the_catalog_takes_the_last_page() {
    for db in database_urls().await {
        let mock = start_mock(InstallationSpec::small()).await;
        let h = mock.handle();
        let namespaces = h.namespaces();
        let last = h.list_names(Kind::Component, &namespaces[0]).unwrap().into_iter().max().unwrap();
        let sink = HoldingSink {
            inner: CatalogSink::default(),
            holds: format!("component:{}/{last}", namespaces[0]).to_lowercase(),
            awaited: format!("/api/v1/namespaces/{}/environments", namespaces[1]),
            mock: h.clone(),
            seen_while_held: Default::default(),
        };
        let engine = Engine::open(config(&mock.url(), &db, &unique_provider("ahead"))).await.unwrap();
        h.reset_stats();
        for _ in 0..10_000 {
            if engine.tick(&sink).await.unwrap().cycle_completed {
                break;
            }
        }
        assert!(sink.seen_while_held.load(std::sync::atomic::Ordering::SeqCst), "{db}: {} not requested ahead", sink.awaited);
        assert_eq!(sink.inner.refs(), expected_refs(&h), "{db}");
        assert_eq!(h.stats().requests, min_requests(&h, 5), "{db}: still the minimum requests");
        engine.close().await;
    }
}

//! Scenarios "flaky API", "expired cursors", "misbehaving source" and "bad input", in
//! the combinations tests/engine_faults.rs and tests/engine_cycle.rs do not cover: every
//! kind of failure mixed in one cycle (time-outs included), removals held back until a
//! cycle completes cleanly, an item of several MB, the same item on two pages, an endless
//! list, and a proxy answering 404 pages in place of the API.
//!
//! An `HttpInterposer` between the engine and the stand-in adds what the stand-in cannot
//! do by itself: stalls past the request time-out, rewritten pages, foreign answers.

mod common;

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use common::db::{database_urls, unique_provider};
use common::faultnet::{stall_share, unit, Action, HttpInterposer};
use common::harness::*;
use mock_openchoreo::{cursor_after, Kind};
use openchoreo_incremental::engine::{Engine, TickReport};
use serde_json::{json, Value};

fn medium() -> InstallationSpec {
    InstallationSpec {
        namespaces: 3,
        projects_per_namespace: 4,
        components_per_project: 6,
        ..InstallationSpec::small()
    }
}

/// Ticks until a cycle completes, tolerating failed bursts (never an `Err`).
async fn run_cycle_tolerant(engine: &Engine, sink: &CatalogSink, max_ticks: usize) -> Vec<TickReport> {
    let mut reports = Vec::new();
    for _ in 0..max_ticks {
        let r = engine.tick(sink).await.expect("a tick never errors on source trouble");
        let done = r.cycle_completed;
        reports.push(r);
        if done {
            return reports;
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    panic!("no cycle completed in {max_ticks} ticks; last: {:?}", reports.last());
}

/// 20% of requests fail, mixing 5xx answers, time-outs (stalls past the client's
/// time-out), cut connections and 429 with Retry-After, all within one cycle: the cycle
/// completes with exactly the source's entities, and nothing is ever removed. Twice.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twenty_percent_mixed_failures_in_one_cycle_complete_without_loss_or_removal() {
    let mock = start_mock(InstallationSpec { components_per_project: 8, ..medium() }).await;
    let h = mock.handle();
    let hop = HttpInterposer::start(&mock.url()).await;
    // 5% stalled here, never reaching the stand-in; of the rest, 16% fail there: 20%.
    hop.on_request(Some(stall_share(11, 0.05, Duration::from_millis(1500))));
    h.update_faults(|f| {
        f.error_rate = 0.08; // 500, 502, 503
        f.cut_rate = 0.04; // before any byte or mid-body
        f.rate_limit_rate = 0.04;
        f.retry_after_secs = 1;
        f.seed = 5;
    });
    let mut cfg = config(&hop.url(), "sqlite::memory:", "mixed");
    cfg.chunk_size = 2; // about a hundred requests per cycle
    cfg.request_timeout = Duration::from_millis(500);
    let engine = Engine::open(cfg).await.unwrap();
    let sink = CatalogSink::default();

    for cycle in 1..=2 {
        h.reset_stats();
        let requests_before = hop.requests();
        let stalled_before = hop.stalled();
        let reports = run_cycle_tolerant(&engine, &sink, 2000).await;
        let stats = h.stats();
        let requests = hop.requests() - requests_before;
        let stalled = hop.stalled() - stalled_before;
        let injected = stalled + stats.faults.values().sum::<u64>();
        let share = injected as f64 / requests as f64;
        let failed = reports.iter().filter(|r| r.action == "failed").count();
        eprintln!(
            "mixed, cycle {cycle}: {requests} requests, {injected} failed ({:.0}%): {stalled} time-outs, {:?}; {failed} failed bursts of {}",
            share * 100.0,
            stats.faults,
            reports.len()
        );
        // Every kind of failure happened within this one cycle.
        assert!(stalled > 0, "time-outs");
        for kind in ["error", "cut", "rateLimit"] {
            assert!(stats.faults[kind] > 0, "cycle {cycle}: no {kind} injected: {:?}", stats.faults);
        }
        assert!((0.12..=0.30).contains(&share), "cycle {cycle}: {share} of requests failed");
        assert_eq!(sink.refs(), expected_refs(&h), "cycle {cycle}: the catalog is the source");
        assert!(sink.removals.lock().unwrap().is_empty(), "cycle {cycle}: a flaky source removed something");
        let status = engine.status().await.unwrap();
        assert_eq!(status.last_completed_cycle.unwrap().entities as usize, expected_refs(&h).len());
        assert_eq!(status.owned_entities as usize, expected_refs(&h).len());
    }
}

/// Items deleted in the source are removed only by a cycle that walked everything:
/// not while bursts fail (cut connections, an unavailable catalog, expiring cursors), not
/// by a canceled cycle, not by a reset one; then exactly the deleted ones, in the tick
/// that completes the cycle.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_removal_before_a_cycle_completes_then_exactly_the_deleted_ones() {
    let mock = start_mock(medium()).await;
    let h = mock.handle();
    let mut cfg = config(&mock.url(), "sqlite::memory:", "no-early-removal");
    cfg.burst_length = Duration::from_millis(1); // one page per burst: many bursts per cycle
    let engine = Engine::open(cfg).await.unwrap();
    let sink = CatalogSink::default();
    run_cycle(&engine, &sink).await;
    let before = sink.refs();
    assert_eq!(before, expected_refs(&h));

    let ns0 = h.namespaces()[0].clone();
    let comp = h.list_names(Kind::Component, &ns0).unwrap()[7].clone();
    h.delete_item(Kind::Component, &ns0, &comp).unwrap();
    h.delete_item(Kind::Workload, &ns0, &format!("{comp}-workload")).unwrap();
    let ns1 = h.namespaces()[1].clone();
    h.delete_item(Kind::Project, &ns1, &h.list_names(Kind::Project, &ns1).unwrap()[2].clone()).unwrap();
    h.delete_namespace(&h.namespaces()[2].clone());
    let deleted: BTreeSet<String> = before.difference(&expected_refs(&h)).cloned().collect();
    assert!(deleted.len() > 20);

    let no_removal = |what: &str| assert!(sink.removals.lock().unwrap().is_empty(), "removed {what}");
    // A cycle that is canceled, and one that is reset, remove nothing.
    for _ in 0..6 {
        engine.tick(&sink).await.unwrap();
    }
    engine.cancel().await.unwrap();
    no_removal("by a canceled cycle");
    engine.refresh().await.unwrap();
    for _ in 0..8 {
        engine.tick(&sink).await.unwrap();
    }
    engine.reset().await.unwrap();
    no_removal("by a reset cycle");

    // A hostile cycle: every third burst fails on cut connections, one on the catalog,
    // and cursors expire between bursts.
    h.set_cursor_ttl(Duration::from_millis(30));
    let mut failed = 0;
    let mut completing = None;
    for tick in 0..3000 {
        let hostile = tick % 3 == 1;
        if hostile {
            h.update_faults(|f| f.cut_rate = 1.0);
        }
        sink.refuse.store(tick == 20, std::sync::atomic::Ordering::SeqCst);
        let r = engine.tick(&sink).await.unwrap();
        if hostile {
            h.update_faults(|f| f.cut_rate = 0.0);
        }
        failed += (r.action == "failed") as usize;
        if r.cycle_completed {
            completing = Some(r);
            break;
        }
        no_removal(&format!("at tick {tick} of an unfinished cycle ({r:?})"));
        tokio::time::sleep(Duration::from_millis(35)).await; // stored cursors expire
    }
    sink.refuse.store(false, std::sync::atomic::Ordering::SeqCst);
    let r = completing.expect("the hostile cycle completes");
    let status = engine.status().await.unwrap();
    assert!(failed > 10 && status.progress.cursor_restarts > 0, "{failed} failed bursts, {:?}", status.progress);
    let mut removed = sink.removals.lock().unwrap().clone();
    removed.sort();
    assert_eq!(removed, deleted.iter().cloned().collect::<Vec<_>>(), "exactly the deleted entities");
    assert_eq!(r.removed as usize, deleted.len());
    assert_eq!(sink.refs(), expected_refs(&h));
}

/// An item of several MB (a 6 MB component description and a 4 MB API schema, staged
/// across pages in the state database) and the same items served on two consecutive
/// pages (every page's last item again first on the next): each entity arrives intact,
/// is counted once, and nothing is removed. SQLite and PostgreSQL.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_several_megabyte_item_and_items_repeated_on_two_pages_are_ingested_once() {
    for db in database_urls().await {
        let mock = start_mock(InstallationSpec::small()).await;
        let h = mock.handle();
        let ns = h.namespaces()[0].clone();
        let comp = h.list_names(Kind::Component, &ns).unwrap()[4].clone(); // first on page 2
        let mut big = h.get_item(Kind::Component, &ns, &comp).unwrap().unwrap();
        let description = "d".repeat(6 * 1024 * 1024);
        big["metadata"]["annotations"]["openchoreo.dev/description"] = json!(description);
        h.put_item(Kind::Component, &ns, big).unwrap();
        let mut workload = h.get_item(Kind::Workload, &ns, &format!("{comp}-workload")).unwrap().unwrap();
        let schema = format!("openapi: 3.0.0\n# {}\n", "s".repeat(4 * 1024 * 1024));
        let endpoints = workload["spec"]["endpoints"].as_object_mut().unwrap();
        let (endpoint, ep) = endpoints.iter_mut().next().unwrap();
        let endpoint = endpoint.clone();
        ep["schema"] = json!({"type": "REST", "content": schema});
        h.put_item(Kind::Workload, &ns, workload).unwrap();

        let hop = HttpInterposer::start(&mock.url()).await;
        // The next page resumes after the second-to-last item: the last one comes twice.
        hop.rewrite(Some(Arc::new(|_path: &str, page: &mut Value| {
            let items = page["items"].as_array().cloned().unwrap_or_default();
            if page["pagination"]["nextCursor"].is_string() && items.len() >= 2 {
                let name = items[items.len() - 2]["metadata"]["name"].as_str().unwrap().to_string();
                page["pagination"]["nextCursor"] = json!(cursor_after(&name));
            }
        })));
        let provider = unique_provider("big-dup");
        let engine = Engine::open(config(&hop.url(), &db, &provider)).await.unwrap();
        let sink = CatalogSink::default();
        for cycle in 1..=2 {
            sink.added_counts.lock().unwrap().clear();
            let reports = run_cycle(&engine, &sink).await;
            assert!(reports.iter().all(|r| r.error.is_none()), "{db}: {reports:?}");
            let expected = expected_refs(&h);
            assert_eq!(sink.refs(), expected, "{db} cycle {cycle}");
            let twice: Vec<String> =
                sink.added_counts.lock().unwrap().iter().filter(|(_, n)| **n > 1).map(|(r, _)| r.clone()).collect();
            assert!(twice.iter().any(|r| r.starts_with("component:")), "{db}: items were served twice: {twice:?}");
            let e = sink.get(&format!("component:{ns}/{comp}")).unwrap();
            assert_eq!(e["metadata"]["description"].as_str().map(str::len), Some(description.len()), "{db}");
            let project = e["spec"]["system"].as_str().unwrap().to_string();
            let api = sink.get(&format!("api:{ns}/{project}-{comp}-{endpoint}").to_lowercase()).expect("the big API");
            assert_eq!(api["spec"]["definition"].as_str().map(str::len), Some(schema.len()), "{db}");
            let status = engine.status().await.unwrap();
            assert_eq!(status.item_error_count, 0, "{db}: {:?}", status.item_errors);
            let last = status.last_completed_cycle.unwrap();
            assert_eq!(last.entities as usize, expected.len(), "{db}: an entity seen twice counts once");
            assert_eq!(status.owned_entities as usize, expected.len());
            assert!(sink.removals.lock().unwrap().is_empty(), "{db}");
        }
        engine.close().await;
    }
}

/// A list that never ends, with a fresh cursor on every page: refused after
/// `max_pages_per_list` pages, retried without re-reading it (each later burst costs one
/// request), nothing removed; once the source behaves again the cycle completes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_endless_list_with_fresh_cursors_is_refused_and_removes_nothing() {
    let mock = start_mock(medium()).await;
    let h = mock.handle();
    let hop = HttpInterposer::start(&mock.url()).await;
    let mut cfg = config(&hop.url(), "sqlite::memory:", "endless-fresh");
    cfg.max_pages_per_list = 40;
    let engine = Engine::open(cfg).await.unwrap();
    let sink = CatalogSink::default();
    run_cycle(&engine, &sink).await;
    let full = sink.refs();

    // ns-001's components never end: after its real pages come empty ones, forever.
    let endless_path = "/api/v1/namespaces/ns-001/components";
    hop.rewrite(Some(Arc::new(move |path: &str, page: &mut Value| {
        if path.starts_with(endless_path) && page["pagination"].get("nextCursor").is_none() {
            page["pagination"]["nextCursor"] = json!("endless-1");
        }
    })));
    hop.on_request(Some(Arc::new(move |_n, path: &str| {
        match path.split("cursor=endless-").nth(1).and_then(|n| n.split('&').next()?.parse::<u64>().ok()) {
            Some(k) if path.starts_with(endless_path) => Action::Respond {
                status: 200,
                content_type: "application/json",
                body: json!({"items": [], "pagination": {"nextCursor": format!("endless-{}", k + 1)}}).to_string(),
            },
            _ => Action::Forward,
        }
    })));
    let r = run_until_error(&engine, &sink).await;
    let e = r.error.clone().unwrap();
    assert!(e.contains("did not end after 40 pages") && e.contains("/namespaces/ns-001/components"), "{e}");
    assert!(hop.answered() >= 30, "the endless pages were read: {}", hop.answered());
    // Later bursts resume at the stored cursor and fail at once: one request each.
    for _ in 0..5 {
        let before = hop.requests();
        let r = engine.tick(&sink).await.unwrap();
        assert_eq!(r.action, "failed", "{r:?}");
        assert_eq!(hop.requests() - before, 1);
    }
    let status = engine.status().await.unwrap();
    assert_eq!(status.current_action, "backing off");
    assert!(status.attempts >= 6);
    assert!(sink.removals.lock().unwrap().is_empty());
    assert_eq!(sink.refs(), full);

    // The source is fixed: the stored cursor is unknown to it (an expired one, to the
    // engine), the list restarts, and the cycle completes with nothing removed.
    hop.rewrite(None);
    hop.on_request(None);
    let reports = run_cycle(&engine, &sink).await;
    assert!(reports.last().unwrap().error.is_none());
    assert_eq!(sink.refs(), expected_refs(&h));
    assert!(sink.removals.lock().unwrap().is_empty());
    assert!(engine.status().await.unwrap().progress.cursor_restarts >= 1);
}

async fn run_until_error(engine: &Engine, sink: &CatalogSink) -> TickReport {
    for _ in 0..1000 {
        let r = engine.tick(sink).await.unwrap();
        assert!(!r.cycle_completed, "an endless list completed a cycle: {r:?}");
        if r.error.is_some() {
            return r;
        }
    }
    panic!("the endless list was never refused");
}

/// Something in front of the API (an ingress, a gateway) answers its own 404 for lists
/// of namespaces that exist: an HTML page, or a gateway's JSON. That is not a deleted
/// namespace, so its entities stay. A namespace really deleted mid-cycle still goes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_proxy_answering_404_does_not_delete_namespaces_but_a_real_deletion_does() {
    let mock = start_mock(medium()).await;
    let h = mock.handle();
    let hop = HttpInterposer::start(&mock.url()).await;
    let mut cfg = config(&hop.url(), "sqlite::memory:", "proxy-404");
    cfg.burst_length = Duration::from_millis(1);
    let engine = Engine::open(cfg).await.unwrap();
    let sink = CatalogSink::default();
    run_cycle(&engine, &sink).await;
    let full = sink.refs();

    let html = "<html><head><title>404 Not Found</title></head><body><center><h1>404 Not Found</h1></center><hr><center>nginx</center></body></html>";
    let gateway = r#"{"message":"no Route matched with those values"}"#;
    // Cycle 2: 30% of all requests get an HTML 404 page (the namespace look-up included);
    // cycle 3: 30% of the requests for namespace sub-lists get a gateway's JSON 404.
    for (cycle, content_type, body) in [(2, "text/html", html), (3, "application/json", gateway)] {
        hop.on_request(Some(Arc::new(move |n, path: &str| {
            let sub_list =
                path.starts_with("/api/v1/namespaces/") && path.split('?').next().unwrap().matches('/').count() == 5;
            if (sub_list || cycle == 2) && unit(cycle, n) < 0.3 {
                Action::Respond { status: 404, content_type, body: body.to_string() }
            } else {
                Action::Forward
            }
        })));
        let answered = hop.answered();
        let reports = run_cycle_tolerant(&engine, &sink, 5000).await;
        assert!(hop.answered() > answered, "cycle {cycle}: 404s were served");
        assert!(reports.iter().any(|r| r.error.as_deref().unwrap_or("").contains("404")), "cycle {cycle}");
        assert!(sink.removals.lock().unwrap().is_empty(), "cycle {cycle}: removed {:?}", sink.removals.lock().unwrap());
        assert_eq!(sink.refs(), full, "cycle {cycle}");
    }

    // A namespace deleted after the namespaces phase: the API's 404 confirmed, removed.
    hop.on_request(None);
    let before = expected_refs(&h);
    loop {
        let r = engine.tick(&sink).await.unwrap();
        assert!(!r.cycle_completed);
        if engine.status().await.unwrap().progress.phase == "workloads" {
            break;
        }
    }
    h.delete_namespace("ns-002");
    let reports = run_cycle(&engine, &sink).await;
    assert!(reports.iter().all(|r| r.error.is_none()), "{reports:?}");
    let gone: BTreeSet<String> = before.difference(&expected_refs(&h)).cloned().collect();
    assert!(gone.iter().any(|r| r.starts_with("component:ns-002/")));
    // Its domain was seen before the deletion, in this cycle's namespaces phase: it goes
    // with the next cycle; everything inside the namespace goes now.
    let removed: BTreeSet<String> = sink.removals.lock().unwrap().iter().cloned().collect();
    let domain = "domain:default/ns-002".to_string();
    assert_eq!(removed, gone.iter().filter(|r| **r != domain).cloned().collect::<BTreeSet<_>>());
    run_cycle(&engine, &sink).await;
    let removed: BTreeSet<String> = sink.removals.lock().unwrap().iter().cloned().collect();
    assert_eq!(removed, gone);
    assert_eq!(sink.refs(), expected_refs(&h));
}

/// Hostile strings from the source stay data: a component named like an SQL injection is
/// refused as an entity name (a per-item error), SQL and script text in a description
/// arrives verbatim, and the state database (queries are parameterized) is unharmed: the
/// next cycle runs and removes nothing. SQLite and PostgreSQL.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_names_and_payloads_stay_data() {
    for db in database_urls().await {
        let mock = start_mock(InstallationSpec::small()).await;
        let h = mock.handle();
        let ns = h.namespaces()[0].clone();
        let comp = h.list_names(Kind::Component, &ns).unwrap()[0].clone();
        let payload = "x'); DROP TABLE oc_ingest_entities; -- <script>alert(1)</script> $1 \\\" ${{ env }}";
        let mut item = h.get_item(Kind::Component, &ns, &comp).unwrap().unwrap();
        item["metadata"]["annotations"]["openchoreo.dev/description"] = json!(payload);
        h.put_item(Kind::Component, &ns, item.clone()).unwrap();
        let evil_name = "evil'); DELETE FROM oc_ingest_providers; --";
        item["metadata"]["name"] = json!(evil_name);
        h.put_item(Kind::Component, &ns, item).unwrap();

        let provider = unique_provider("hostile'; DROP TABLE oc_ingest_entities; --");
        let engine = Engine::open(config(&mock.url(), &db, &provider)).await.unwrap();
        let sink = CatalogSink::default();
        run_cycle(&engine, &sink).await;
        let e = sink.get(&format!("component:{ns}/{comp}")).unwrap();
        assert_eq!(e["metadata"]["description"], payload, "{db}");
        let status = engine.status().await.unwrap();
        assert_eq!(status.item_error_count, 1, "{db}: {:?}", status.item_errors);
        assert_eq!(status.item_errors[0].item.as_deref(), Some(evil_name));
        let valid: BTreeSet<String> = expected_refs(&h).into_iter().filter(|r| !r.contains("evil")).collect();
        assert_eq!(sink.refs(), valid, "{db}");
        // The tables are intact: a second cycle runs, sees everything, removes nothing.
        run_cycle(&engine, &sink).await;
        assert!(sink.removals.lock().unwrap().is_empty(), "{db}");
        assert_eq!(engine.status().await.unwrap().cycle, 2);
        engine.close().await;
    }
}

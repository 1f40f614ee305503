//! The engine against a misbehaving OpenChoreo: expired cursors, flaky answers,
//! rate limits, bad credentials, wrong servers, bad items, and a second process.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::db::unique_provider;
use common::harness::*;
use mock_openchoreo::{Kind, MockOptions, MockServer};
use openchoreo_incremental::engine::{Engine, Mutation, Sink};
use serde_json::json;

#[tokio::test]
async fn cursors_that_expire_between_bursts_restart_only_their_list() {
    let mock = start_mock(InstallationSpec::small()).await;
    let h = mock.handle();
    h.set_cursor_ttl(Duration::from_millis(100));
    let mut cfg = config(&mock.url(), "sqlite::memory:", "expiry");
    cfg.burst_length = Duration::from_millis(1); // one page per burst
    let engine = Engine::open(cfg).await.unwrap();
    let sink = CatalogSink::default();
    h.reset_stats();
    for _ in 0..500 {
        let r = engine.tick(&sink).await.unwrap();
        assert!(r.error.is_none(), "{r:?}");
        if r.cycle_completed {
            break;
        }
        tokio::time::sleep(Duration::from_millis(150)).await; // every stored cursor expires
    }
    let status = engine.status().await.unwrap();
    let last = status.last_completed_cycle.expect("the cycle completes despite expiring cursors");
    assert_eq!(sink.refs(), expected_refs(&h));
    assert!(status.progress.cursor_restarts > 0);
    // Only the affected lists were re-read: never the whole cycle again. Each restart
    // costs the failed request, its retry, and the pages of that one list up to where it was.
    let minimum = min_requests(&h, 5);
    let restarts = status.progress.cursor_restarts as u64;
    let longest_list_pages = 3; // 12 components / 5 per page
    assert!(h.stats().requests <= minimum + restarts * (2 + longest_list_pages), "{} requests", h.stats().requests);
    assert_eq!(last.requests as u64, h.stats().requests);
}

#[tokio::test]
async fn an_expired_cursor_in_the_namespace_list_restages_the_namespace_order() {
    let spec = InstallationSpec { namespaces: 5, projects_per_namespace: 1, components_per_project: 1, ..InstallationSpec::small() };
    let mock = start_mock(spec).await;
    let h = mock.handle();
    h.set_cursor_ttl(Duration::from_millis(100));
    let mut cfg = config(&mock.url(), "sqlite::memory:", "ns-expiry");
    cfg.chunk_size = 2; // three pages of namespaces
    cfg.burst_length = Duration::from_millis(1);
    let engine = Engine::open(cfg).await.unwrap();
    let sink = CatalogSink::default();
    let mut counted = None;
    for _ in 0..200 {
        let r = engine.tick(&sink).await.unwrap();
        let status = engine.status().await.unwrap();
        if status.progress.phase == "projects" && counted.is_none() {
            counted = Some(status.progress.namespace_count);
        }
        if r.cycle_completed {
            break;
        }
        tokio::time::sleep(Duration::from_millis(150)).await;
    }
    assert_eq!(counted, Some(5), "each namespace is counted once despite the restarts");
    let status = engine.status().await.unwrap();
    assert!(status.last_completed_cycle.is_some() && status.progress.cursor_restarts > 0);
    assert_eq!(sink.refs(), expected_refs(&h));
}

#[tokio::test]
async fn a_flaky_api_still_completes_and_never_causes_a_removal() {
    let mock = start_mock(InstallationSpec::small()).await;
    let h = mock.handle();
    h.update_faults(|f| {
        f.error_rate = 0.15;
        f.cut_rate = 0.05;
        f.rate_limit_rate = 0.05;
        f.retry_after_secs = 1;
        f.seed = 7;
    });
    let engine = Engine::open(config(&mock.url(), "sqlite::memory:", "flaky")).await.unwrap();
    let sink = CatalogSink::default();
    let reports = run_cycle(&engine, &sink).await;
    let reports2 = run_cycle(&engine, &sink).await;
    let faults = h.stats().faults;
    assert!(faults.values().sum::<u64>() > 0, "faults were injected: {faults:?}");
    assert_eq!(sink.refs(), expected_refs(&h));
    assert!(sink.removals.lock().unwrap().is_empty(), "a flaky source must never cause a removal");
    let _ = (reports, reports2);
}

#[tokio::test]
async fn retry_after_is_honoured() {
    let mock = start_mock(InstallationSpec::small()).await;
    let h = mock.handle();
    h.update_faults(|f| {
        f.rate_limit_rate = 1.0;
        f.retry_after_secs = 1;
    });
    let mut cfg = config(&mock.url(), "sqlite::memory:", "ratelimit");
    cfg.backoff = vec![Duration::from_secs(3600)];
    let engine = Engine::open(cfg).await.unwrap();
    let sink = CatalogSink::default();
    let t0 = Instant::now();
    let r = engine.tick(&sink).await.unwrap();
    assert_eq!(r.action, "failed");
    assert!(r.error.as_deref().unwrap().contains("429"), "{r:?}");
    // Three attempts, each after the server's Retry-After of one second.
    assert_eq!(h.stats().requests, 3);
    assert!(t0.elapsed() >= Duration::from_secs(2));
    // The next burst is due when the server said, not after the one-hour back-off.
    let status = engine.status().await.unwrap();
    let wait = status.next_action_at - status.current_action_since;
    assert!((900..=1500).contains(&wait), "next action in {wait} ms");
    assert_eq!(status.current_action, "backing off");
}

#[tokio::test]
async fn a_failing_api_backs_off_then_resumes_from_the_last_committed_page() {
    let mock = start_mock(InstallationSpec::small()).await;
    let h = mock.handle();
    let mut cfg = config(&mock.url(), "sqlite::memory:", "backoff");
    cfg.burst_length = Duration::from_millis(1);
    cfg.backoff = vec![Duration::from_secs(60), Duration::from_secs(300)];
    let engine = Engine::open(cfg).await.unwrap();
    let sink = CatalogSink::default();
    for _ in 0..4 {
        engine.tick(&sink).await.unwrap();
    }
    let before = engine.status().await.unwrap();
    // Every connection is cut (a 500 mid-list would look like an expired cursor and
    // restart that list; a cut connection is unambiguous).
    h.update_faults(|f| f.cut_rate = 1.0);
    let r = engine.tick(&sink).await.unwrap();
    assert_eq!(r.action, "failed");
    let status = engine.status().await.unwrap();
    assert_eq!((status.current_action.as_str(), status.attempts), ("backing off", 1));
    assert_eq!(status.next_action_at - status.current_action_since, 60_000);
    assert!(status.last_error.unwrap().contains("TRANSIENT"));
    assert_eq!(engine.tick(&sink).await.unwrap().action, "waiting");
    engine.refresh().await.unwrap();
    engine.tick(&sink).await.unwrap();
    let status = engine.status().await.unwrap();
    assert_eq!(status.attempts, 2);
    assert_eq!(status.next_action_at - status.current_action_since, 300_000, "the schedule's next step");
    assert_eq!(status.progress.pages, before.progress.pages, "no page was lost or skipped");

    h.update_faults(|f| f.cut_rate = 0.0);
    engine.refresh().await.unwrap();
    h.reset_stats();
    run_cycle(&engine, &sink).await;
    assert_eq!(sink.refs(), expected_refs(&h));
    let pages_left = min_requests(&h, 5) - before.progress.pages as u64;
    assert_eq!(h.stats().requests, pages_left, "it resumed where it stopped");
}

#[tokio::test]
async fn bad_credentials_fail_clearly_without_showing_the_token() {
    let mock = MockServer::start(MockOptions {
        port: 0,
        token: Some("right-token-123".into()),
        spec: InstallationSpec::small(),
        faults: Faults::default(),
    })
    .await
    .unwrap();
    let sink = CatalogSink::default();
    for token in [None, Some("wrong-token-456".to_string())] {
        let mut cfg = config(&mock.url(), "sqlite::memory:", &unique_provider("auth"));
        cfg.token = token.clone();
        let engine = Engine::open(cfg).await.unwrap();
        let probe = engine.probe().await.unwrap_err();
        assert_eq!(probe.code.as_str(), "AUTH");
        let r = engine.tick(&sink).await.unwrap();
        let status = engine.status().await.unwrap();
        let shown = format!("{probe} {r:?} {}", serde_json::to_string(&status).unwrap());
        assert!(shown.contains("openchoreo.token") && shown.contains("401"), "{shown}");
        assert!(!shown.contains("wrong-token-456") && !shown.contains("right-token-123"), "{shown}");
    }
    let mut cfg = config(&mock.url(), "sqlite::memory:", "auth-ok");
    cfg.token = Some("right-token-123".into());
    let engine = Engine::open(cfg).await.unwrap();
    engine.probe().await.unwrap();
    run_cycle(&engine, &sink).await;
    assert_eq!(sink.refs(), expected_refs(&mock.handle()));
}

/// A one-route HTTP server that answers every request with `status` and `body`.
async fn fixed_server(status: &'static str, content_type: &'static str, body: &'static str) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        while let Ok((mut socket, _)) = listener.accept().await {
            let mut buf = [0u8; 4096];
            let _ = socket.read(&mut buf).await;
            let reply = format!(
                "HTTP/1.1 {status}\r\ncontent-type: {content_type}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = socket.write_all(reply.as_bytes()).await;
        }
    });
    format!("http://{addr}")
}

#[tokio::test]
async fn the_probe_refuses_an_organization_era_server_or_something_else() {
    let org_era = fixed_server(
        "200 OK",
        "application/json",
        r#"{"success":true,"data":{"items":[],"totalCount":0,"page":0,"pageSize":0}}"#,
    )
    .await;
    let engine = Engine::open(config(&org_era, "sqlite::memory:", "org")).await.unwrap();
    let e = engine.probe().await.unwrap_err();
    assert_eq!(e.code.as_str(), "INCOMPATIBLE_SERVER");
    assert!(e.message.contains(&format!("{org_era}/api/v1/namespaces")) && e.message.contains("organization-era"), "{e}");

    let html = fixed_server("200 OK", "text/html", "<html><body>Welcome to nginx</body></html>").await;
    let engine = Engine::open(config(&html, "sqlite::memory:", "html")).await.unwrap();
    let e = engine.probe().await.unwrap_err();
    assert!(e.message.contains("not valid JSON") && e.message.contains("nginx"), "{e}");
}

#[tokio::test]
async fn bad_items_are_reported_and_everything_valid_is_still_ingested() {
    let mock = start_mock(InstallationSpec::small()).await;
    let h = mock.handle();
    let ns = h.namespaces()[0].clone();
    let engine = Engine::open(config(&mock.url(), "sqlite::memory:", "bad-items")).await.unwrap();
    let sink = CatalogSink::default();
    run_cycle(&engine, &sink).await;

    // An existing component turns malformed (its owner vanished): it must stay.
    let victim = h.list_names(Kind::Component, &ns).unwrap()[0].clone();
    let mut broken = h.get_item(Kind::Component, &ns, &victim).unwrap().unwrap();
    broken["spec"].as_object_mut().unwrap().remove("owner");
    h.put_item(Kind::Component, &ns, broken).unwrap();
    // A name Backstage would reject, and a huge but valid description.
    let mut bad_name = h.get_item(Kind::Component, &ns, &victim).unwrap().unwrap();
    bad_name["metadata"]["name"] = json!("x".repeat(70));
    bad_name["spec"]["owner"] = json!({"projectName": h.list_names(Kind::Project, &ns).unwrap()[0]});
    h.put_item(Kind::Component, &ns, bad_name).unwrap();
    let mut big = h.get_item(Kind::Project, &ns, &h.list_names(Kind::Project, &ns).unwrap()[0]).unwrap().unwrap();
    big["metadata"]["annotations"]["openchoreo.dev/description"] = json!("d".repeat(3 * 1024 * 1024));
    h.put_item(Kind::Project, &ns, big).unwrap();

    run_cycle(&engine, &sink).await;
    let status = engine.status().await.unwrap();
    assert_eq!(status.item_error_count, 2, "{:?}", status.item_errors);
    let path = format!("/namespaces/{ns}/components");
    assert!(status.item_errors.iter().all(|e| e.path == path), "{:?}", status.item_errors);
    assert!(status.item_errors.iter().any(|e| e.item.as_deref() == Some(victim.as_str()) && e.message.contains("owner")));
    assert!(status.item_errors.iter().any(|e| e.item.as_deref() == Some("x".repeat(70).as_str())));
    assert!(sink.get(&format!("component:{ns}/{victim}")).is_some(), "a malformed update keeps the entity");
    assert!(sink.removals.lock().unwrap().is_empty());
    let everything_else = expected_refs(&h);
    let ingested = sink.refs();
    let missing: Vec<_> = everything_else.difference(&ingested).collect();
    assert_eq!(missing, vec![&format!("component:{ns}/{}", "x".repeat(70))]);
}

#[tokio::test]
async fn servers_that_page_forever_are_refused() {
    let mock = start_mock(InstallationSpec::small()).await;
    let h = mock.handle();
    h.update_faults(|f| f.repeat_cursor = true);
    let engine = Engine::open(config(&mock.url(), "sqlite::memory:", "loop")).await.unwrap();
    let sink = CatalogSink::default();
    let r = engine.tick(&sink).await.unwrap();
    assert!(r.error.as_deref().unwrap().contains("refusing to loop"), "{r:?}");

    h.update_faults(|f| f.repeat_cursor = false);
    let mut cfg = config(&mock.url(), "sqlite::memory:", "endless");
    cfg.chunk_size = 1;
    cfg.max_pages_per_list = 3;
    let engine = Engine::open(cfg).await.unwrap();
    let mut last = None;
    for _ in 0..20 {
        let r = engine.tick(&sink).await.unwrap();
        if r.error.is_some() {
            last = r.error;
            break;
        }
    }
    let err = last.expect("an over-long list is refused");
    assert!(err.contains("did not end after 3 pages") && err.contains("/namespaces/"), "{err}");
}

#[tokio::test]
async fn malformed_and_html_answers_are_errors_that_name_the_path() {
    let mock = start_mock(InstallationSpec::small()).await;
    let h = mock.handle();
    let engine = Engine::open(config(&mock.url(), "sqlite::memory:", "malformed")).await.unwrap();
    let sink = CatalogSink::default();
    h.update_faults(|f| f.malformed_rate = 1.0);
    let r = engine.tick(&sink).await.unwrap();
    let e = r.error.unwrap();
    assert!(e.contains("not valid JSON") && e.contains("/api/v1/namespaces"), "{e}");
    h.update_faults(|f| {
        f.malformed_rate = 0.0;
        f.html_rate = 1.0;
    });
    engine.refresh().await.unwrap();
    let e = engine.tick(&sink).await.unwrap().error.unwrap();
    assert!(e.contains("text/html") && e.contains("/api/v1/namespaces"), "{e}");
    assert!(sink.refs().is_empty());
}

/// A sink that holds the first mutation until released: a burst stays in flight.
struct HeldSink {
    inner: CatalogSink,
    entered: tokio::sync::Notify,
    release: tokio::sync::Notify,
}

impl Sink for HeldSink {
    async fn apply(&self, m: Mutation) -> Result<(), String> {
        self.entered.notify_one();
        self.release.notified().await;
        self.inner.apply(m).await
    }
}

#[tokio::test]
async fn two_engines_never_burst_the_same_provider_at_once() {
    let mock = start_mock(InstallationSpec::small()).await;
    let dir = std::env::temp_dir().join(unique_provider("replicas"));
    std::fs::create_dir_all(&dir).unwrap();
    let db = format!("sqlite://{}", dir.join("state.sqlite").display());
    let a = Arc::new(Engine::open(config(&mock.url(), &db, "shared")).await.unwrap());
    let b = Engine::open(config(&mock.url(), &db, "shared")).await.unwrap();
    let held = Arc::new(HeldSink { inner: CatalogSink::default(), entered: Default::default(), release: Default::default() });
    let (a2, held2) = (a.clone(), held.clone());
    let burst = tokio::spawn(async move { a2.tick(held2.as_ref()).await.unwrap() });
    held.entered.notified().await;
    // A's burst is in flight: B must not start one, nor can A start a second.
    let other = CatalogSink::default();
    assert_eq!(b.tick(&other).await.unwrap().action, "locked");
    assert_eq!(a.tick(&other).await.unwrap().action, "locked");
    held.release.notify_one();
    // Let the rest of A's burst through.
    let release_rest = {
        let held = held.clone();
        tokio::spawn(async move {
            loop {
                held.release.notify_one();
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        })
    };
    let r = burst.await.unwrap();
    release_rest.abort();
    assert_eq!(r.action, "burst");
    assert!(other.refs().is_empty());
    // Afterwards B can take over and finish the cycle where A left it.
    run_cycle(&b, &held.inner).await;
    assert_eq!(held.inner.refs(), expected_refs(&mock.handle()));
}

#[tokio::test]
async fn reset_forgets_the_cycle_and_cancel_abandons_it_without_removals() {
    let mock = start_mock(InstallationSpec::small()).await;
    let h = mock.handle();
    let mut cfg = config(&mock.url(), "sqlite::memory:", "reset");
    cfg.burst_length = Duration::from_millis(1);
    let engine = Engine::open(cfg).await.unwrap();
    let sink = CatalogSink::default();
    for _ in 0..3 {
        engine.tick(&sink).await.unwrap();
    }
    assert_eq!(engine.status().await.unwrap().cycle, 1);
    engine.reset().await.unwrap();
    let status = engine.status().await.unwrap();
    assert_eq!((status.current_action.as_str(), status.next_action.as_str()), ("idle", "start cycle"));
    h.reset_stats();
    run_cycle(&engine, &sink).await;
    assert_eq!(engine.status().await.unwrap().cycle, 2);
    assert_eq!(h.stats().requests, min_requests(&h, 5), "the new cycle starts from the beginning");

    engine.refresh().await.unwrap();
    engine.tick(&sink).await.unwrap();
    engine.cancel().await.unwrap();
    let status = engine.status().await.unwrap();
    assert_eq!(status.current_action, "resting");
    assert!(status.last_error.unwrap().contains("canceled"));
    assert!(sink.removals.lock().unwrap().is_empty());
    assert_eq!(sink.refs(), expected_refs(&h));
}

#[tokio::test]
async fn a_workload_that_turns_unreadable_keeps_its_apis() {
    let mock = start_mock(InstallationSpec::small()).await;
    let h = mock.handle();
    let ns = h.namespaces()[0].clone();
    let engine = Engine::open(config(&mock.url(), "sqlite::memory:", "bad-workload")).await.unwrap();
    let sink = CatalogSink::default();
    run_cycle(&engine, &sink).await;
    let before = sink.refs();

    // Pick a workload with an API and break one of its endpoints (no port).
    let (name, mut item) = h
        .list_names(Kind::Workload, &ns)
        .unwrap()
        .into_iter()
        .map(|w| (w.clone(), h.get_item(Kind::Workload, &ns, &w).unwrap().unwrap()))
        .find(|(_, item)| {
            item["spec"]["endpoints"].as_object().unwrap().values().any(|ep| ep["schema"]["content"].is_string())
        })
        .unwrap();
    for ep in item["spec"]["endpoints"].as_object_mut().unwrap().values_mut() {
        ep.as_object_mut().unwrap().remove("port");
    }
    h.put_item(Kind::Workload, &ns, item).unwrap();

    run_cycle(&engine, &sink).await;
    let status = engine.status().await.unwrap();
    assert!(status.item_errors.iter().any(|e| e.item.as_deref() == Some(name.as_str())), "{:?}", status.item_errors);
    assert_eq!(sink.refs(), before, "the broken workload's APIs stay until it is fixed");
    assert!(sink.removals.lock().unwrap().is_empty());
}

/// A namespace's staged workloads live in the engine's memory while they fit. A process
/// that stops without closing (a crash) takes them along: the next one finds them held by
/// a store that is gone and walks that namespace's workloads again, and the catalog still
/// equals the source. One that closes writes them to the database first: the next one
/// goes on where it stopped, without reading them again.
#[tokio::test]
async fn staged_workloads_held_in_memory_are_walked_again_after_a_crash_not_after_a_close() {
    for crash in [true, false] {
        let mock = start_mock(InstallationSpec::small()).await;
        let h = mock.handle();
        let dir = std::env::temp_dir().join(unique_provider("held"));
        std::fs::create_dir_all(&dir).unwrap();
        let db = format!("sqlite://{}", dir.join("state.sqlite").display());
        let mut cfg = config(&mock.url(), &db, "held");
        cfg.burst_length = Duration::from_millis(1);
        cfg.lease_ttl = Duration::from_millis(200);
        let sink = CatalogSink::default();

        let first = Engine::open(cfg.clone()).await.unwrap();
        let ns = h.namespaces()[0].clone();
        for _ in 0..1000 {
            first.tick(&sink).await.unwrap();
            let progress = first.status().await.unwrap().progress;
            if progress.phase == "components" && progress.current_namespace.as_deref() == Some(&ns) {
                break;
            }
        }
        let progress = first.status().await.unwrap().progress;
        assert_eq!((progress.phase.as_str(), progress.current_namespace.as_deref()), ("components", Some(ns.as_str())));
        if crash {
            drop(first);
            tokio::time::sleep(Duration::from_millis(300)).await; // its lease expires
        } else {
            first.close().await;
        }

        h.reset_stats();
        let second = Engine::open(cfg).await.unwrap();
        run_cycle(&second, &sink).await;
        assert_eq!(sink.refs(), expected_refs(&h), "crash: {crash}");
        let workloads_read = h.stats().by_path.get(&format!("/api/v1/namespaces/{ns}/workloads")).copied().unwrap_or(0);
        assert_eq!(workloads_read > 0, crash, "crash: {crash}: {ns}'s workloads read again: {workloads_read} times");
        second.close().await;
    }
}

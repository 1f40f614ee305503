//! Change events against the OpenChoreo stand-in and an in-memory catalog: each event
//! leaves the catalog exactly as a full cycle over the edited installation would, its
//! result survives the cycle's sweep, and a page fetched before an event cannot stand
//! over the event's newer result.

mod common;

use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::db::{database_urls, unique_provider};
use common::harness::*;
use mock_openchoreo::{Kind, MockHandle};
use openchoreo_incremental::engine::events::queue::{EventsConfig, Pushed};
use openchoreo_incremental::engine::{Engine, Mutation, Sink};
use serde_json::{json, Value};

fn fast() -> EventsConfig {
    EventsConfig { coalesce_window: Duration::from_millis(20), backoff: Duration::from_millis(50), ..Default::default() }
}

/// Waits until nothing is queued or in flight (a push queues synchronously).
async fn settle(engine: &Engine) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let s = engine.event_stats();
        if s.queued == 0 && s.in_flight == 0 {
            return;
        }
        assert!(Instant::now() < deadline, "events did not settle: {s:?}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

fn push(engine: &Engine, kind: &str, ns: &str, name: &str, action: &str) {
    let payload = json!({"kind": kind, "name": name, "namespace": ns, "action": action}).to_string();
    assert_eq!(engine.push_event(&payload), Pushed::Queued, "{payload}");
}

fn set_annotation(h: &MockHandle, kind: Kind, ns: &str, name: &str, key: &str, value: &str) {
    let mut item = h.get_item(kind, ns, name).unwrap().unwrap();
    item["metadata"]["annotations"][key] = json!(value);
    h.put_item(kind, ns, item).unwrap();
}

async fn open(mock_url: &str, db: &str, name: &str) -> (Arc<Engine>, Arc<CatalogSink>) {
    let engine = Arc::new(Engine::open(config(mock_url, db, &unique_provider(name))).await.unwrap());
    let sink = Arc::new(CatalogSink::default());
    run_cycle(&engine, &sink).await;
    engine.start_events(sink.clone(), fast());
    (engine, sink)
}

#[tokio::test]
async fn each_event_leaves_the_catalog_as_a_full_cycle_would() {
    for db in database_urls().await {
        let mock = start_mock(InstallationSpec::small()).await;
        let h = mock.handle();
        let (engine, sink) = open(&mock.url(), &db, "ev-apply").await;
        assert_eq!(sink.refs(), expected_refs(&h));
        let ns = h.namespaces()[0].clone();
        let components = h.list_names(Kind::Component, &ns).unwrap();

        // An edit: the component's title changes.
        let c = components[0].clone();
        set_annotation(&h, Kind::Component, &ns, &c, "openchoreo.dev/display-name", "Edited by an event");
        push(&engine, "Component", &ns, &c, "updated");
        settle(&engine).await;
        assert_eq!(sink.get(&format!("component:{ns}/{c}")).unwrap()["metadata"]["title"], "Edited by an event", "{db}");

        // A workload loses an endpoint's schema: its API goes, the others stay.
        let (w, api) = h
            .list_names(Kind::Workload, &ns)
            .unwrap()
            .into_iter()
            .find_map(|w| {
                let item = h.get_item(Kind::Workload, &ns, &w).unwrap().unwrap();
                let p = item["spec"]["owner"]["projectName"].as_str().unwrap().to_string();
                let comp = item["spec"]["owner"]["componentName"].as_str().unwrap().to_string();
                let ep = item["spec"]["endpoints"]
                    .as_object()?
                    .iter()
                    .find(|(_, e)| e["schema"]["content"].as_str().is_some_and(|s| !s.is_empty()))?
                    .0
                    .clone();
                Some((w, (p, comp, ep)))
            })
            .unwrap();
        let api_ref = format!("api:{ns}/{}-{}-{}", api.0, api.1, api.2).to_lowercase();
        assert!(sink.refs().contains(&api_ref));
        let mut item = h.get_item(Kind::Workload, &ns, &w).unwrap().unwrap();
        item["spec"]["endpoints"][&api.2]["schema"] = Value::Null;
        h.put_item(Kind::Workload, &ns, item).unwrap();
        push(&engine, "workload", &ns, &w, "updated");
        settle(&engine).await;
        assert!(!sink.refs().contains(&api_ref), "{db}: the API whose endpoint lost its schema is removed");
        assert_eq!(sink.refs(), expected_refs(&h), "{db}: after the workload's edit");

        // A component deleted: it and its APIs go.
        let gone = components[1].clone();
        h.delete_item(Kind::Component, &ns, &gone).unwrap();
        h.delete_item(Kind::Workload, &ns, &format!("{gone}-workload")).unwrap();
        push(&engine, "component", &ns, &gone, "deleted");
        settle(&engine).await;
        assert_eq!(sink.refs(), expected_refs(&h), "{db}: after a component's deletion");

        // A new environment appears; a platform type disappears with its Template.
        let env = h.list_names(Kind::Environment, &ns).unwrap()[0].clone();
        let mut new_env = h.get_item(Kind::Environment, &ns, &env).unwrap().unwrap();
        new_env["metadata"]["name"] = json!("made-by-event");
        h.put_item(Kind::Environment, &ns, new_env).unwrap();
        push(&engine, "environment", &ns, "made-by-event", "created");
        let ct = h.list_names(Kind::ComponentType, &ns).unwrap()[0].clone();
        h.delete_item(Kind::ComponentType, &ns, &ct).unwrap();
        push(&engine, "componenttype", &ns, &ct, "deleted");
        settle(&engine).await;
        assert_eq!(sink.refs(), expected_refs(&h), "{db}: after an environment's creation and a type's deletion");

        // A project deleted: its System, its components and their APIs go.
        let project = h.list_names(Kind::Project, &ns).unwrap()[0].clone();
        h.delete_item(Kind::Project, &ns, &project).unwrap();
        push(&engine, "project", &ns, &project, "deleted");
        settle(&engine).await;
        assert_eq!(sink.refs(), expected_refs(&h), "{db}: after a project's deletion");

        // A namespace deleted: everything in it.
        let other = h.namespaces()[1].clone();
        assert!(h.delete_namespace(&other));
        push(&engine, "namespace", "", &other, "deleted");
        settle(&engine).await;
        assert_eq!(sink.refs(), expected_refs(&h), "{db}: after a namespace's deletion");

        // What the events applied is the engine's: the next cycle removes nothing and
        // finds nothing to add.
        let before = sink.refs();
        run_cycle(&engine, &sink).await;
        assert_eq!(sink.refs(), before, "{db}");
        let status = engine.status().await.unwrap();
        let last = status.last_completed_cycle.unwrap();
        assert_eq!((last.added, last.removed), (0, 0), "{db}: the events recorded every ref they added and removed");
        assert_eq!(status.owned_entities as usize, before.len(), "{db}");
        assert_eq!(status.events.failed, 0);
        assert!(status.events.last_lag_millis.is_some());
        engine.close().await;
    }
}

/// The ref to hold, the signal that it arrived, and the release.
type Gate = (String, tokio::sync::oneshot::Sender<()>, tokio::sync::oneshot::Receiver<()>);

/// A sink that holds the first mutation naming `gate` until released, so an event can
/// run in between.
struct GatedSink {
    inner: CatalogSink,
    gate: Mutex<Option<Gate>>,
}

impl Sink for GatedSink {
    async fn apply(&self, m: Mutation) -> Result<(), String> {
        let hit = {
            let mut gate = self.gate.lock().unwrap();
            let names = gate.as_ref().is_some_and(|(r, _, _)| m.added.iter().any(|e| e.entity_ref() == r));
            if names {
                gate.take()
            } else {
                None
            }
        };
        if let Some((_, reached, release)) = hit {
            reached.send(()).unwrap();
            release.await.unwrap();
        }
        self.inner.apply(m).await
    }
}

#[tokio::test]
async fn a_page_fetched_before_an_event_cannot_overwrite_its_result() {
    for db in database_urls().await {
        for deleted in [false, true] {
            let mock = start_mock(InstallationSpec::small()).await;
            let h = mock.handle();
            let mut cfg = config(&mock.url(), &db, &unique_provider("ev-race"));
            cfg.rest_length = Duration::ZERO;
            let engine = Arc::new(Engine::open(cfg).await.unwrap());
            let ns = h.namespaces()[0].clone();
            let env = h.list_names(Kind::Environment, &ns).unwrap()[0].clone();
            let env_ref = format!("environment:{ns}/{env}");
            let (reached_tx, reached_rx) = tokio::sync::oneshot::channel();
            let (release_tx, release_rx) = tokio::sync::oneshot::channel();
            let sink = Arc::new(GatedSink { inner: CatalogSink::default(), gate: Mutex::new(Some((env_ref.clone(), reached_tx, release_rx))) });
            engine.start_events(sink.clone(), fast());

            // The burst holds the environments page (fetched with the old item) at the
            // catalog's door while the resource changes and its event is applied.
            let burst = {
                let (engine, sink) = (engine.clone(), sink.clone());
                tokio::spawn(async move {
                    while !engine.tick(&*sink).await.unwrap().cycle_completed {}
                })
            };
            reached_rx.await.unwrap();
            if deleted {
                h.delete_item(Kind::Environment, &ns, &env).unwrap();
            } else {
                set_annotation(&h, Kind::Environment, &ns, &env, "openchoreo.dev/display-name", "newer");
            }
            push(&engine, "environment", &ns, &env, if deleted { "deleted" } else { "updated" });
            settle(&engine).await;
            assert_eq!(engine.event_stats().applied, 1);
            release_tx.send(()).unwrap();
            burst.await.unwrap();

            let got = sink.inner.get(&env_ref);
            if deleted {
                assert!(got.is_none(), "{db}: the page's older copy stands over the event's deletion");
            } else {
                assert_eq!(got.unwrap()["metadata"]["title"], "newer", "{db}: the page's older copy stands over the event's update");
            }
            assert_eq!(sink.inner.refs(), expected_refs(&h), "{db}, deleted: {deleted}");
            // And the next cycle agrees, removing nothing that exists.
            run_cycle(&engine, &sink.inner).await;
            assert_eq!(sink.inner.refs(), expected_refs(&h), "{db}, deleted: {deleted}");
            engine.close().await;
        }
    }
}

#[tokio::test]
async fn an_entity_an_event_adds_during_a_cycle_survives_its_sweep() {
    for db in database_urls().await {
        let mock = start_mock(InstallationSpec::small()).await;
        let h = mock.handle();
        let mut cfg = config(&mock.url(), &db, &unique_provider("ev-sweep"));
        // One page a burst: the cycle is walked in many ticks.
        cfg.burst_length = Duration::from_millis(1);
        let engine = Arc::new(Engine::open(cfg).await.unwrap());
        let sink = Arc::new(CatalogSink::default());
        engine.start_events(sink.clone(), fast());
        let ns = h.namespaces()[0].clone();
        // Walk until past the namespace's environments list.
        loop {
            engine.tick(&*sink).await.unwrap();
            let p = engine.status().await.unwrap().progress;
            if p.phase == "projects" {
                break;
            }
        }
        let env = h.list_names(Kind::Environment, &ns).unwrap()[0].clone();
        let mut item = h.get_item(Kind::Environment, &ns, &env).unwrap().unwrap();
        item["metadata"]["name"] = json!("late-arrival");
        h.put_item(Kind::Environment, &ns, item).unwrap();
        push(&engine, "environment", &ns, "late-arrival", "created");
        settle(&engine).await;
        let late = format!("environment:{ns}/late-arrival");
        assert!(sink.refs().contains(&late));
        run_cycle(&engine, &sink).await;
        assert!(sink.refs().contains(&late), "{db}: the sweep removed what an event added during the cycle");
        assert_eq!(sink.refs(), expected_refs(&h), "{db}");
        assert!(!sink.removals.lock().unwrap().contains(&late));
        engine.close().await;
    }
}

#[tokio::test]
async fn duplicate_and_out_of_order_events_coalesce_and_converge() {
    let mock = start_mock(InstallationSpec::small()).await;
    let h = mock.handle();
    let (engine, sink) = open(&mock.url(), "sqlite::memory:", "ev-dup").await;
    let ns = h.namespaces()[0].clone();
    let c = h.list_names(Kind::Component, &ns).unwrap()[0].clone();
    set_annotation(&h, Kind::Component, &ns, &c, "openchoreo.dev/display-name", "final");
    h.reset_stats();
    // A burst of the same event (and a stale "deleted" among them): one fetch.
    for i in 0..200 {
        let action = if i == 100 { "deleted" } else { "updated" };
        let payload = json!({"kind": "component", "name": c, "namespace": ns, "action": action}).to_string();
        assert_ne!(engine.push_event(&payload), Pushed::Overflowed);
    }
    settle(&engine).await;
    let s = engine.event_stats();
    assert_eq!(s.received, 200);
    assert!(s.applied <= 2, "{s:?}");
    assert!(s.coalesced >= 198, "{s:?}");
    // One component GET per fetch (plus its project and workload reads).
    let gets = h.stats().requests;
    assert!(gets <= 2 * 4, "{gets} requests for one coalesced burst");
    assert_eq!(sink.get(&format!("component:{ns}/{c}")).unwrap()["metadata"]["title"], "final");
    assert_eq!(sink.refs(), expected_refs(&h));
    engine.close().await;
}

#[tokio::test]
async fn a_vanished_resource_a_full_queue_and_a_refusing_catalog_lose_nothing() {
    let mock = start_mock(InstallationSpec::small()).await;
    let h = mock.handle();
    let (engine, sink) = open(&mock.url(), "sqlite::memory:", "ev-faults").await;
    let ns = h.namespaces()[0].clone();

    // The resource is gone before its event's fetch: removed, not an error.
    let env = h.list_names(Kind::Environment, &ns).unwrap()[0].clone();
    h.delete_item(Kind::Environment, &ns, &env).unwrap();
    push(&engine, "environment", &ns, &env, "updated");
    settle(&engine).await;
    assert!(!sink.refs().contains(&format!("environment:{ns}/{env}")));
    assert_eq!(engine.event_stats().failed, 0);

    // The catalog refuses: retried with back-off until it accepts.
    sink.refuse.store(true, Ordering::SeqCst);
    let c = h.list_names(Kind::Component, &ns).unwrap()[0].clone();
    set_annotation(&h, Kind::Component, &ns, &c, "openchoreo.dev/display-name", "after the outage");
    push(&engine, "component", &ns, &c, "updated");
    let deadline = Instant::now() + Duration::from_secs(10);
    while engine.event_stats().retries < 2 {
        assert!(Instant::now() < deadline);
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    sink.refuse.store(false, Ordering::SeqCst);
    settle(&engine).await;
    assert_eq!(sink.get(&format!("component:{ns}/{c}")).unwrap()["metadata"]["title"], "after the outage");
    assert_eq!(sink.refs(), expected_refs(&h));

    // Unknown kinds and malformed payloads are counted, not queued.
    assert!(matches!(engine.push_event(r#"{"kind":"release","name":"r"}"#), Pushed::Ignored(_)));
    assert!(matches!(engine.push_event("not json"), Pushed::Ignored(_)));
    assert_eq!(engine.event_stats().ignored, 2);
    engine.close().await;
}

#[tokio::test]
async fn a_flood_beyond_the_queue_makes_the_next_cycle_due_now() {
    let mock = start_mock(InstallationSpec::small()).await;
    let h = mock.handle();
    let engine = Arc::new(Engine::open(config(&mock.url(), "sqlite::memory:", &unique_provider("ev-flood"))).await.unwrap());
    let sink = Arc::new(CatalogSink::default());
    run_cycle(&engine, &sink).await;
    // Resting for the configured rest (0 in tests): make the next cycle far away first.
    engine.cancel().await.unwrap();
    let before = engine.status().await.unwrap().next_action_at;
    engine.start_events(sink.clone(), EventsConfig { capacity: 50, ..fast() });
    let ns = h.namespaces()[0].clone();
    let started = Instant::now();
    let mut overflowed = 0;
    for i in 0..5_000 {
        let payload = json!({"kind": "component", "name": format!("c-{i}"), "namespace": ns, "action": "updated"}).to_string();
        if engine.push_event(&payload) == Pushed::Overflowed {
            overflowed += 1;
        }
    }
    let elapsed = started.elapsed();
    assert!(elapsed < Duration::from_secs(1), "5000 pushes took {elapsed:?}");
    assert!(overflowed > 0);
    settle(&engine).await;
    let s = engine.event_stats();
    assert_eq!(s.overflowed, overflowed);
    assert!(s.refreshes_requested >= 1, "{s:?}");
    let status = engine.status().await.unwrap();
    assert!(status.next_action_at <= before.max(openchoreo_incremental::store::now_ms()), "the next cycle is due now");
    // The status shows the overflow and the refresh it asked for.
    let shown = serde_json::to_value(&status).unwrap();
    assert_eq!(shown["events"]["overflowed"], json!(overflowed), "{shown}");
    assert!(shown["events"]["refreshesRequested"].as_i64().unwrap() >= 1, "{shown}");
    // Nothing of the catalog was lost to events about components that do not exist.
    assert_eq!(sink.refs(), expected_refs(&h));
    engine.close().await;
}

#[tokio::test]
async fn two_replicas_receiving_the_same_events_agree() {
    for db in database_urls().await {
        let db = if db.contains(":memory:") {
            let path = std::env::temp_dir().join(format!("{}.db", unique_provider("ev-replicas")));
            format!("sqlite://{}", path.display())
        } else {
            db.url.clone()
        };
        let mock = start_mock(InstallationSpec::small()).await;
        let h = mock.handle();
        let provider = unique_provider("ev-replicas");
        let a = Arc::new(Engine::open(config(&mock.url(), &db, &provider)).await.unwrap());
        let b = Arc::new(Engine::open(config(&mock.url(), &db, &provider)).await.unwrap());
        let sink = Arc::new(CatalogSink::default());
        run_cycle(&a, &sink).await;
        a.start_events(sink.clone(), fast());
        b.start_events(sink.clone(), fast());
        let ns = h.namespaces()[0].clone();
        let components = h.list_names(Kind::Component, &ns).unwrap();
        for (i, c) in components.iter().enumerate().take(6) {
            set_annotation(&h, Kind::Component, &ns, c, "openchoreo.dev/display-name", &format!("v{i}"));
        }
        h.delete_item(Kind::Component, &ns, &components[7]).unwrap();
        h.delete_item(Kind::Workload, &ns, &format!("{}-workload", components[7])).unwrap();
        for c in components.iter().take(8) {
            for engine in [&a, &b] {
                let payload = json!({"kind": "component", "name": c, "namespace": ns, "action": "updated"}).to_string();
                engine.push_event(&payload);
            }
        }
        settle(&a).await;
        settle(&b).await;
        assert_eq!(sink.refs(), expected_refs(&h), "{db}");
        for (i, c) in components.iter().enumerate().take(6) {
            assert_eq!(sink.get(&format!("component:{ns}/{c}")).unwrap()["metadata"]["title"], format!("v{i}"));
        }
        let (sa, sb) = (a.event_stats(), b.event_stats());
        assert_eq!(sa.failed + sb.failed, 0);
        // A cycle on the other replica agrees with what both applied.
        run_cycle(&b, &sink).await;
        assert_eq!(sink.refs(), expected_refs(&h), "{db}");
        let last = b.status().await.unwrap().last_completed_cycle.unwrap();
        assert_eq!((last.added, last.removed), (0, 0), "{db}");
        a.close().await;
        b.close().await;
    }
}

//! Change events while the state database is unreachable (docs/reliability.md, "change
//! events: the state database down"). An event's claim, marks and record are writes to
//! the state database: while it is away they fail, the attempt counts as failed and is
//! retried with back-off; once it is back every event is applied, none is lost, and
//! nothing that exists is removed.
//!
//! PostgreSQL: the engine reaches its own database (`oc_reliability_*`) through
//! tests/common's TCP proxy, which cuts every connection and refuses new ones. SQLite: a
//! connection of the test's own holds the file's write lock.

mod common;

use std::collections::BTreeSet;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::db::{postgres_available, unique_provider};
use common::faultnet::TcpProxy;
use common::harness::*;
use common::pgtemp::{server_addr, via, TempDatabase};
use mock_openchoreo::{Kind, MockHandle};
use openchoreo_incremental::engine::events::queue::{EventsConfig, Pushed};
use openchoreo_incremental::engine::{Engine, Mutation, Sink};
use serde_json::json;
use sqlx::{Connection, SqliteConnection};

/// Back-off from 100 ms doubling to 1 s, and attempts enough to outlast the outages here.
/// The claim lives its default 60 s: longer than any test waits.
fn events_config() -> EventsConfig {
    EventsConfig {
        coalesce_window: Duration::from_millis(20),
        backoff: Duration::from_millis(100),
        max_backoff: Duration::from_secs(1),
        max_attempts: 100,
        ..Default::default()
    }
}

/// How the state database goes away and comes back.
enum Outage {
    /// PostgreSQL behind the proxy: cut every connection and refuse new ones.
    Network(TcpProxy),
    /// A SQLite file whose write lock another connection holds (`BEGIN IMMEDIATE`).
    Lock { url: String, holder: tokio::sync::Mutex<Option<SqliteConnection>> },
}

impl Outage {
    async fn down(&self) {
        match self {
            Outage::Network(proxy) => proxy.cut(),
            Outage::Lock { url, holder } => {
                let mut c = SqliteConnection::connect(url).await.unwrap();
                sqlx::query("BEGIN IMMEDIATE").execute(&mut c).await.unwrap();
                *holder.lock().await = Some(c);
            }
        }
    }

    async fn up(&self) {
        match self {
            Outage::Network(proxy) => proxy.restore(),
            Outage::Lock { holder, .. } => {
                let mut c = holder.lock().await.take().expect("the lock is held");
                sqlx::query("ROLLBACK").execute(&mut c).await.unwrap();
                c.close().await.unwrap();
            }
        }
    }
}

/// The catalog; it can take the state database away right after it accepted a mutation
/// naming a chosen ref: the event's marks are written, its record and the release of its
/// claim are not.
struct OutageSink {
    catalog: CatalogSink,
    outage: Arc<Outage>,
    down_after: Mutex<Option<String>>,
    tripped: tokio::sync::Notify,
}

impl Sink for OutageSink {
    async fn apply(&self, m: Mutation) -> Result<(), String> {
        let trip = {
            let mut want = self.down_after.lock().unwrap();
            let hit = want.as_ref().is_some_and(|r| m.added.iter().any(|e| e.entity_ref() == r));
            if hit {
                want.take()
            } else {
                None
            }
        };
        let result = self.catalog.apply(m).await;
        if trip.is_some() {
            self.outage.down().await;
            self.tripped.notify_one();
        }
        result
    }
}

fn set_title(h: &MockHandle, ns: &str, name: &str, title: &str) {
    let mut item = h.get_item(Kind::Component, ns, name).unwrap().unwrap();
    item["metadata"]["annotations"]["openchoreo.dev/display-name"] = json!(title);
    h.put_item(Kind::Component, ns, item).unwrap();
}

fn push(engine: &Engine, kind: &str, ns: &str, name: &str, action: &str) {
    let payload = json!({"kind": kind, "name": name, "namespace": ns, "action": action}).to_string();
    assert_eq!(engine.push_event(&payload), Pushed::Queued, "{payload}");
}

async fn wait_until(what: &str, limit: Duration, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !done() {
        assert!(Instant::now() < deadline, "{what}: not within {limit:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn settled(engine: &Engine, limit: Duration) {
    wait_until("the events settle", limit, || {
        let s = engine.event_stats();
        s.queued == 0 && s.in_flight == 0
    })
    .await;
}

fn title(sink: &CatalogSink, ns: &str, name: &str) -> Option<String> {
    sink.get(&format!("component:{ns}/{name}")).and_then(|e| e["metadata"]["title"].as_str().map(String::from))
}

/// The scenario on one state database. `mid_attempt`: also take the database away in the
/// middle of an attempt (PostgreSQL only: on SQLite each blocked write waits out the
/// 5 s busy timeout, twice, before the attempt fails).
async fn events_survive_an_outage(engine_db: &str, outage: Arc<Outage>, mid_attempt: bool) {
    let mock = start_mock(InstallationSpec::small()).await;
    let h = mock.handle();
    let engine = Arc::new(Engine::open(config(&mock.url(), engine_db, &unique_provider("ev-db-down"))).await.unwrap());
    let sink = Arc::new(OutageSink {
        catalog: CatalogSink::default(),
        outage: outage.clone(),
        down_after: Mutex::new(None),
        tripped: Default::default(),
    });
    run_cycle(&engine, &sink.catalog).await;
    let before = expected_refs(&h);
    assert_eq!(sink.catalog.refs(), before);
    engine.start_events(sink.clone(), events_config());
    let applied_before = sink.catalog.applied.load(Ordering::SeqCst);

    // 1. Down before the events arrive: four edits, a deletion, a new environment.
    outage.down().await;
    let ns = h.namespaces()[0].clone();
    let components = h.list_names(Kind::Component, &ns).unwrap();
    for (i, c) in components.iter().enumerate().take(4) {
        set_title(&h, &ns, c, &format!("edited while the database was down {i}"));
        push(&engine, "component", &ns, c, "updated");
    }
    let gone = components[5].clone();
    h.delete_item(Kind::Component, &ns, &gone).unwrap();
    h.delete_item(Kind::Workload, &ns, &format!("{gone}-workload")).unwrap();
    push(&engine, "component", &ns, &gone, "deleted");
    let env = h.list_names(Kind::Environment, &ns).unwrap()[0].clone();
    let mut new_env = h.get_item(Kind::Environment, &ns, &env).unwrap().unwrap();
    new_env["metadata"]["name"] = json!("made-while-down");
    h.put_item(Kind::Environment, &ns, new_env).unwrap();
    push(&engine, "environment", &ns, "made-while-down", "created");
    let events = 6;

    // Every event fails at least once (each attempt's claim is refused) and is retried.
    let down_at = Instant::now();
    wait_until("every event failed once", Duration::from_secs(30), || engine.event_stats().retries >= events).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let s = engine.event_stats();
    let down_for = down_at.elapsed();
    assert_eq!(s.applied, 0, "{s:?}");
    assert_eq!(s.failed, 0, "retried, not given up: {s:?}");
    let error = s.last_error.clone().unwrap_or_default();
    assert!(error.contains("DATABASE"), "the failure is the database's: {error}");
    assert_eq!(sink.catalog.applied.load(Ordering::SeqCst), applied_before, "nothing reached the catalog while the claims failed");
    // Back-off, not a busy loop: from 100 ms doubling to 1 s, an event makes at most
    // ~log2 + seconds attempts in the outage.
    let bound = events * (5 + down_for.as_secs() as i64);
    assert!(s.retries <= bound, "{} retries of {events} events in {down_for:?} (bound {bound})", s.retries);

    // Back: every event is applied, exactly what was deleted is removed.
    outage.up().await;
    settled(&engine, Duration::from_secs(20)).await;
    let after = expected_refs(&h);
    assert_eq!(sink.catalog.refs(), after, "every event applied once the database is back");
    for (i, c) in components.iter().enumerate().take(4) {
        assert_eq!(title(&sink.catalog, &ns, c).as_deref(), Some(format!("edited while the database was down {i}").as_str()));
    }
    let removed: BTreeSet<String> = sink.catalog.removals.lock().unwrap().iter().cloned().collect();
    let deleted: BTreeSet<String> = before.difference(&after).cloned().collect();
    assert!(!deleted.is_empty());
    assert_eq!(removed, deleted, "only the deleted component and its APIs are removed");
    let s = engine.event_stats();
    assert_eq!(s.failed, 0, "{s:?}");

    // 2. Down in the middle of an attempt: the catalog took the event's mutation, then
    //    its record and the release of its claim fail. The retry goes through once the
    //    database is back (its own claim left behind does not hold it up for the claim's
    //    60 s), and records the entity.
    if mid_attempt {
        let c = components[6].clone();
        let target = format!("component:{ns}/{c}");
        *sink.down_after.lock().unwrap() = Some(target.clone());
        let retries = engine.event_stats().retries;
        set_title(&h, &ns, &c, "edited just before the outage");
        push(&engine, "component", &ns, &c, "updated");
        tokio::time::timeout(Duration::from_secs(10), sink.tripped.notified()).await.expect("the mutation arrives");
        wait_until("the attempt fails", Duration::from_secs(30), || engine.event_stats().retries > retries).await;
        tokio::time::sleep(Duration::from_millis(500)).await;
        let applied = sink.catalog.applied.load(Ordering::SeqCst);
        outage.up().await;
        let back = Instant::now();
        wait_until("the retry is applied", Duration::from_secs(10), || sink.catalog.applied.load(Ordering::SeqCst) > applied).await;
        settled(&engine, Duration::from_secs(10)).await;
        eprintln!("mid-attempt outage: the retry was applied {:?} after the database came back", back.elapsed());
        assert_eq!(title(&sink.catalog, &ns, &c).as_deref(), Some("edited just before the outage"));
        assert_eq!(engine.event_stats().failed, 0);
    }

    // What the events applied is recorded: a cycle finds nothing to add or remove.
    let refs = sink.catalog.refs();
    run_cycle(&engine, &sink.catalog).await;
    assert_eq!(sink.catalog.refs(), refs);
    assert_eq!(sink.catalog.refs(), expected_refs(&h));
    let status = engine.status().await.unwrap();
    let last = status.last_completed_cycle.unwrap();
    assert_eq!((last.added, last.removed), (0, 0), "the events recorded every ref they added and removed");
    assert_eq!(status.owned_entities as usize, refs.len());
    engine.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_while_postgres_is_unreachable_are_retried_and_all_applied_once_it_is_back() {
    if !postgres_available().await {
        return;
    }
    let db = TempDatabase::create("evdown").await;
    let proxy = TcpProxy::start(server_addr(&db.url)).await;
    let url = via(&db.url, proxy.addr());
    events_survive_an_outage(&url, Arc::new(Outage::Network(proxy)), true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_while_the_sqlite_file_is_locked_are_retried_and_all_applied_once_it_is_free() {
    let path = std::env::temp_dir().join(format!("{}.db", unique_provider("ev-db-down")));
    let url = format!("sqlite://{}", path.display());
    let outage = Arc::new(Outage::Lock { url: url.clone(), holder: Default::default() });
    events_survive_an_outage(&url, outage, false).await;
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
}

//! Scenario "two replicas": two engines (separate `Engine` instances, one provider name,
//! one state database) tick concurrently in loops for several cycles, as two Backstage
//! replicas would. Their bursts must never overlap, every cycle must complete exactly
//! once, deletions must be removed exactly once, and the catalog must equal the source.

mod common;

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::db::{mysql_available, postgres_available, unique_provider};
use common::harness::*;
use common::pgtemp::TempDatabase;
use mock_openchoreo::Kind;
use openchoreo_incremental::engine::{Engine, Mutation, Sink};

/// Both replicas write to one catalog; each through its own recorder.
struct Shared {
    catalog: CatalogSink,
    /// Mutations being applied right now, across both engines.
    in_flight: AtomicUsize,
    max_in_flight: AtomicUsize,
    start: Instant,
}

struct ReplicaSink {
    id: usize,
    shared: Arc<Shared>,
    /// The span of this replica's current tick: first mutation start, last mutation end (µs).
    span: Mutex<Option<(u128, u128)>>,
}

impl Sink for ReplicaSink {
    async fn apply(&self, m: Mutation) -> Result<(), String> {
        let sh = &self.shared;
        let begin = sh.start.elapsed().as_micros();
        let now = sh.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        sh.max_in_flight.fetch_max(now, Ordering::SeqCst);
        // A catalog write takes a moment: long enough for the other replica to try.
        tokio::time::sleep(Duration::from_millis(2)).await;
        let result = sh.catalog.apply(m).await;
        sh.in_flight.fetch_sub(1, Ordering::SeqCst);
        let end = sh.start.elapsed().as_micros();
        let mut span = self.span.lock().unwrap();
        *span = Some(match *span {
            Some((s, _)) => (s, end),
            None => (begin, end),
        });
        let _ = self.id;
        result
    }
}

#[derive(Debug, Clone)]
struct BurstSpan {
    engine: usize,
    start: u128,
    end: u128,
}

async fn two_replicas(db: &str) {
    let mock = start_mock(InstallationSpec {
        namespaces: 3,
        projects_per_namespace: 3,
        components_per_project: 5,
        ..InstallationSpec::small()
    })
    .await;
    let h = mock.handle();
    let provider = unique_provider("replicas");
    let mut cfg = config(&mock.url(), db, &provider);
    cfg.burst_length = Duration::from_millis(40); // many hand-overs per cycle
    cfg.rest_length = Duration::from_millis(300); // a completed cycle stays the last one for a while
    let engines = [Arc::new(Engine::open(cfg.clone()).await.unwrap()), Arc::new(Engine::open(cfg).await.unwrap())];
    let shared = Arc::new(Shared {
        catalog: CatalogSink::default(),
        in_flight: AtomicUsize::new(0),
        max_in_flight: AtomicUsize::new(0),
        start: Instant::now(),
    });
    let spans = Arc::new(Mutex::new(Vec::<BurstSpan>::new()));
    let completions = Arc::new(Mutex::new(Vec::<(usize, i64)>::new()));
    let stop = Arc::new(AtomicBool::new(false));
    const CYCLES: i64 = 4;

    let mut tasks = Vec::new();
    for (id, engine) in engines.iter().enumerate() {
        let (engine, shared, spans, completions, stop) =
            (engine.clone(), shared.clone(), spans.clone(), completions.clone(), stop.clone());
        tasks.push(tokio::spawn(async move {
            let sink = ReplicaSink { id, shared, span: Mutex::new(None) };
            let mut actions = std::collections::BTreeMap::<String, usize>::new();
            while !stop.load(Ordering::SeqCst) {
                *sink.span.lock().unwrap() = None;
                let r = engine.tick(&sink).await.unwrap_or_else(|e| panic!("replica {id}: {e}"));
                *actions.entry(r.action.clone()).or_default() += 1;
                assert!(r.error.is_none(), "replica {id}: {r:?}");
                if let Some((start, end)) = *sink.span.lock().unwrap() {
                    assert_eq!(r.action, "burst", "replica {id} applied mutations outside a burst: {r:?}");
                    spans.lock().unwrap().push(BurstSpan { engine: id, start, end });
                }
                if r.cycle_completed {
                    let cycle = engine.status().await.unwrap().last_completed_cycle.unwrap().cycle;
                    completions.lock().unwrap().push((id, cycle));
                    if cycle >= CYCLES {
                        stop.store(true, Ordering::SeqCst);
                    }
                }
                tokio::time::sleep(Duration::from_millis(1 + id as u64)).await;
            }
            actions
        }));
    }

    // After the first cycle, delete things: exactly those are removed, exactly once.
    let t0 = Instant::now();
    while completions.lock().unwrap().is_empty() {
        assert!(t0.elapsed() < Duration::from_secs(60), "no cycle completed");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let before = expected_refs(&h);
    let ns = h.namespaces()[0].clone();
    let comp = h.list_names(Kind::Component, &ns).unwrap()[3].clone();
    h.delete_item(Kind::Component, &ns, &comp).unwrap();
    h.delete_item(Kind::Workload, &ns, &format!("{comp}-workload")).unwrap();
    h.delete_item(
        Kind::Project,
        &h.namespaces()[1].clone(),
        &h.list_names(Kind::Project, &h.namespaces()[1]).unwrap()[0],
    )
    .unwrap();
    let deleted: BTreeSet<String> = before.difference(&expected_refs(&h)).cloned().collect();

    let mut per_engine = Vec::new();
    for t in tasks {
        per_engine.push(tokio::time::timeout(Duration::from_secs(120), t).await.expect("the replicas finish").unwrap());
    }

    // No overlap: the bursts' mutation spans of different engines are disjoint.
    let spans = spans.lock().unwrap().clone();
    for a in &spans {
        for b in &spans {
            if a.engine < b.engine {
                assert!(a.end <= b.start || b.end <= a.start, "{db}: bursts overlap: {a:?} and {b:?}");
            }
        }
    }
    assert_eq!(shared.max_in_flight.load(Ordering::SeqCst), 1, "{db}: two mutations were in flight at once");
    let by_engine = |id| spans.iter().filter(|s| s.engine == id).count();
    assert!(by_engine(0) > 0 && by_engine(1) > 0, "{db}: both replicas burst ({} and {})", by_engine(0), by_engine(1));

    // Each cycle completed exactly once.
    let completions = completions.lock().unwrap().clone();
    let mut cycles: Vec<i64> = completions.iter().map(|(_, c)| *c).collect();
    cycles.sort();
    assert!(cycles.len() as i64 >= CYCLES);
    let unique: BTreeSet<i64> = cycles.iter().copied().collect();
    assert_eq!(unique.len(), cycles.len(), "{db}: a cycle completed twice: {completions:?}");
    assert_eq!(unique, (1..=cycles.len() as i64).collect(), "{db}: {completions:?}");

    // The catalog is the source; the deletions were removed once each.
    assert_eq!(shared.catalog.refs(), expected_refs(&h), "{db}");
    let mut removals = shared.catalog.removals.lock().unwrap().clone();
    removals.sort();
    assert_eq!(removals, deleted.iter().cloned().collect::<Vec<_>>(), "{db}: each deleted entity removed exactly once");
    eprintln!(
        "{db}: {} bursts ({} by replica 0, {} by replica 1), cycles completed {completions:?}, tick actions {per_engine:?}",
        spans.len(),
        by_engine(0),
        by_engine(1)
    );
    for e in &engines {
        e.close().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_replicas_on_postgres_never_overlap_and_complete_each_cycle_once() {
    if !postgres_available().await {
        return;
    }
    let db = TempDatabase::create("replicas").await;
    two_replicas(&db.url).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_replicas_on_mysql_never_overlap_and_complete_each_cycle_once() {
    if !mysql_available().await {
        return;
    }
    let db = TempDatabase::create_mysql("replicas").await;
    two_replicas(&db.url).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_replicas_on_a_sqlite_file_never_overlap_and_complete_each_cycle_once() {
    let dir = std::env::temp_dir().join(unique_provider("replicas-sqlite"));
    std::fs::create_dir_all(&dir).unwrap();
    two_replicas(&format!("sqlite://{}", dir.join("state.sqlite").display())).await;
    let _ = std::fs::remove_dir_all(&dir);
}

//! Scenario "database trouble": the state database (PostgreSQL, MySQL/MariaDB) goes away
//! under the engine — its connections are terminated mid-transaction, or the network to
//! it is cut — and the engine must back off or fail the tick without panicking, resume
//! from its last committed page, lose nothing, and not wedge the burst lease.
//!
//! Each test runs in a database of its own (`CREATE DATABASE oc_reliability_...`,
//! `oc_t_...`), and only terminates the engine's connections: on PostgreSQL those tagged
//! with its own `application_name`, on MySQL the other sessions on its own database.
//! Without a server they are skipped with a message (CI=true fails instead).

mod common;

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::db::{mysql_available, postgres_available, unique_provider};
use common::faultnet::TcpProxy;
use common::harness::*;
use common::pgtemp::{server_addr, via, with_param, TempDatabase};
use mock_openchoreo::Kind;
use openchoreo_incremental::engine::{Engine, Mutation, Sink, MAX_UNCOMMITTED_PAGES};
use openchoreo_incremental::ErrorCode;
use sqlx::{AnyConnection, Connection, Row};

/// A catalog that holds one chosen mutation (1-based) until released, so the test can
/// break the database while that page is between the catalog and its commit.
struct GateSink {
    catalog: Arc<CatalogSink>,
    calls: AtomicUsize,
    hold_at: AtomicUsize,
    entered: tokio::sync::Notify,
    release: tokio::sync::Notify,
    /// The refs of every mutation held so far, in order.
    held_refs: std::sync::Mutex<Vec<Vec<String>>>,
    /// The refs of every mutation it passed on, in order, and the indexes of the held ones.
    log: std::sync::Mutex<Vec<Vec<String>>>,
    held_at: std::sync::Mutex<Vec<usize>>,
}

impl GateSink {
    fn new(catalog: Arc<CatalogSink>, hold_at: usize) -> GateSink {
        GateSink {
            catalog,
            calls: AtomicUsize::new(0),
            hold_at: AtomicUsize::new(hold_at),
            entered: Default::default(),
            release: Default::default(),
            held_refs: Default::default(),
            log: Default::default(),
            held_at: Default::default(),
        }
    }
    /// Holds the `n`th mutation from now on.
    fn hold_next(&self, n: usize) {
        self.hold_at.store(self.calls.load(Ordering::SeqCst) + n, Ordering::SeqCst);
    }
}

impl Sink for GateSink {
    async fn apply(&self, m: Mutation) -> Result<(), String> {
        let n = self.calls.fetch_add(1, Ordering::SeqCst) + 1;
        let held = n == self.hold_at.load(Ordering::SeqCst);
        let mut refs: Vec<String> = m.added.iter().map(|e| e.entity_ref().to_string()).collect();
        refs.sort();
        if held {
            self.held_refs.lock().unwrap().push(refs.clone());
            self.held_at.lock().unwrap().push(n - 1);
        }
        self.log.lock().unwrap().push(refs);
        let result = self.catalog.apply(m).await;
        if held {
            // The catalog has the page; the engine has not committed it yet.
            self.entered.notify_one();
            self.release.notified().await;
        }
        result
    }
}

fn installation() -> InstallationSpec {
    InstallationSpec {
        namespaces: 2,
        projects_per_namespace: 3,
        components_per_project: 5,
        ..InstallationSpec::small()
    }
}

/// The engine's sessions on the test database's server, seen and killed through a
/// connection of the test's own: on PostgreSQL the backends tagged with the engine's
/// `application_name`, on MySQL every session on the test's database but the test's.
struct Sessions {
    admin: AnyConnection,
    mysql: bool,
    /// PostgreSQL: the engine's application_name; MySQL: the database's name.
    tag: String,
    /// MySQL: the test's own sessions (the admin's, a locker's).
    ours: Vec<i64>,
}

impl Sessions {
    /// For `db`; returns the URL the engine must use (tagged on PostgreSQL).
    async fn open(db: &TempDatabase, label: &str) -> (Sessions, String) {
        sqlx::any::install_default_drivers();
        let mysql = db.url.starts_with("mysql");
        let mut admin = AnyConnection::connect(&db.url).await.unwrap();
        let (tag, engine_url) = if mysql {
            (db.name.clone(), db.url.clone())
        } else {
            let app = format!("ocrel_{label}_{}", std::process::id());
            (app.clone(), with_param(&db.url, "application_name", &app))
        };
        let mut ours = Vec::new();
        if mysql {
            ours.push(connection_id(&mut admin).await);
        }
        (Sessions { admin, mysql, tag, ours }, engine_url)
    }

    /// A connection of the test's own to the database (not one of the engine's).
    async fn connect(&mut self, url: &str) -> AnyConnection {
        let mut c = AnyConnection::connect(url).await.unwrap();
        if self.mysql {
            self.ours.push(connection_id(&mut c).await);
        }
        c
    }

    /// The `n`th bind parameter of a statement of the test's.
    fn p(&self, n: usize) -> String {
        if self.mysql { "?".into() } else { format!("${n}") }
    }

    /// The engine's sessions: (id, whether it waits on a row lock; on MySQL: whether it
    /// is a page commit's fenced update, still running: the lease heartbeat's renewal
    /// waits on the same lock, and killing it fails no burst).
    async fn engine(&mut self) -> Vec<(i64, bool)> {
        self.try_engine().await.unwrap()
    }

    async fn try_engine(&mut self) -> Result<Vec<(i64, bool)>, sqlx::Error> {
        let sql = if self.mysql {
            format!(
                "SELECT CAST(ID AS SIGNED), CAST(COALESCE(STATE = 'Updating' AND INFO LIKE 'UPDATE oc_ingest_providers SET cycle%', 0) AS SIGNED) \
                 FROM information_schema.PROCESSLIST WHERE DB = ? AND ID NOT IN ({})",
                self.ours.iter().map(|id| id.to_string()).collect::<Vec<_>>().join(",")
            )
        } else {
            "SELECT pid::int8, CASE WHEN wait_event_type = 'Lock' THEN 1 ELSE 0 END::int8 FROM pg_stat_activity WHERE application_name = $1"
                .to_string()
        };
        Ok(sqlx::query(&sql)
            .bind(&self.tag)
            .fetch_all(&mut self.admin)
            .await?
            .iter()
            .map(|r| (r.get::<i64, _>(0), r.get::<i64, _>(1) == 1))
            .collect())
    }

    /// Kills one session; whether it was there.
    async fn kill(&mut self, id: i64) -> bool {
        if self.mysql {
            sqlx::query(&format!("KILL {id}")).execute(&mut self.admin).await.is_ok()
        } else {
            sqlx::query("SELECT pg_terminate_backend($1::int)").bind(id).fetch_one(&mut self.admin).await.unwrap().get(0)
        }
    }

    /// Kills every session of the engine; how many. `Err`: the test's own connection
    /// is gone (its database is being dropped).
    async fn kill_all(&mut self) -> Result<usize, sqlx::Error> {
        if !self.mysql {
            let row = sqlx::query("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = $1")
                .bind(&self.tag)
                .fetch_one(&mut self.admin)
                .await?;
            return Ok(row.get::<i64, _>(0) as usize);
        }
        let mut killed = 0;
        for (id, _) in self.try_engine().await? {
            killed += self.kill(id).await as usize;
        }
        Ok(killed)
    }
}

async fn connection_id(c: &mut AnyConnection) -> i64 {
    sqlx::query("SELECT CAST(CONNECTION_ID() AS SIGNED)").fetch_one(c).await.unwrap().get(0)
}

/// Refs added more than once, sorted.
fn applied_twice(catalog: &CatalogSink) -> Vec<String> {
    catalog.added_counts.lock().unwrap().iter().filter(|(_, n)| **n > 1).map(|(r, _)| r.clone()).collect()
}

/// What a failed burst leaves to repeat is its uncommitted window: the pages it applied
/// after its last successful commit, up to the last one it applied. So the refs applied
/// twice are exactly those of the last `n` mutations of `burst` (the mutations of the
/// failed burst, in order), for some `n` of at most `MAX_UNCOMMITTED_PAGES`, and the
/// window holds the held mutation (index `held` in `burst`), whose commit was broken.
fn assert_only_the_uncommitted_window_repeats(twice: &[String], burst: &[Vec<String>], held: usize) {
    let twice: BTreeSet<&String> = twice.iter().collect();
    let window = (1..=MAX_UNCOMMITTED_PAGES.min(burst.len())).find(|&n| {
        let refs: BTreeSet<&String> = burst[burst.len() - n..].iter().flatten().collect();
        refs == twice
    });
    match window {
        Some(n) => assert!(burst.len() - n <= held, "the repeated window ({n} pages) holds the held page {held}"),
        None => panic!("the refs applied twice are not the failed burst's last pages ({} applied): {twice:?}", burst.len()),
    }
}

/// Terminating the engine's connection while it commits a page (its UPDATE waits on a
/// row lock the test holds, so the kill lands inside the transaction) fails that burst
/// with a DATABASE error the status shows, backs off, and the next burst repeats the
/// page: nothing is skipped, so a later cycle removes nothing that still exists.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_terminated_mid_commit_backs_off_repeats_the_page_and_loses_nothing() {
    if !postgres_available().await {
        return;
    }
    terminated_mid_commit(TempDatabase::create("terminate").await).await;
}

/// The same on MySQL: the engine's session is `KILL`ed while it waits on the row lock.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mysql_connection_killed_mid_commit_backs_off_repeats_the_page_and_loses_nothing() {
    if !mysql_available().await {
        return;
    }
    terminated_mid_commit(TempDatabase::create_mysql("terminate").await).await;
}

async fn terminated_mid_commit(db: TempDatabase) {
    let (mut sessions, engine_url) = Sessions::open(&db, "term").await;
    let mock = start_mock(installation()).await;
    let h = mock.handle();
    let provider = unique_provider("db-terminate");
    let mut cfg = config(&mock.url(), &engine_url, &provider);
    cfg.backoff = vec![Duration::from_millis(400)];
    let engine = Arc::new(Engine::open(cfg).await.unwrap());
    let catalog = Arc::new(CatalogSink::default());

    // Cycle 1 runs clean; the trouble comes in cycle 2, where a skipped page would show
    // as removals of entities that still exist.
    run_cycle(&engine, &catalog).await;
    assert_eq!(catalog.refs(), expected_refs(&h));
    catalog.added_counts.lock().unwrap().clear();

    for (round, hold_at) in [(1, 4usize), (2, 9)] {
        // Page `hold_at` of cycle 2 is a components page (with APIs) or a later one.
        let gate = Arc::new(GateSink::new(catalog.clone(), 0));
        gate.hold_next(hold_at);
        let (e2, g2) = (engine.clone(), gate.clone());
        let burst = tokio::spawn(async move { e2.tick(g2.as_ref()).await });
        tokio::time::timeout(Duration::from_secs(30), gate.entered.notified()).await.expect("the held page arrives");

        // Lock the provider row, let the engine try to commit, and kill it while it waits.
        let mut locker = sessions.connect(&db.url).await;
        let lock = format!("SELECT name FROM oc_ingest_providers WHERE name = {} FOR UPDATE", sessions.p(1));
        let mut tx = locker.begin().await.unwrap();
        sqlx::query(&lock)
            .bind(&provider)
            .fetch_one(&mut *tx)
            .await
            .unwrap();
        gate.release.notify_one();
        let t0 = Instant::now();
        let waiting = loop {
            let backends = sessions.engine().await;
            if let Some((id, _)) = backends.iter().find(|(_, waiting)| *waiting) {
                break *id;
            }
            assert!(t0.elapsed() < Duration::from_secs(20), "the engine never waited on the row lock: {backends:?}");
            tokio::time::sleep(Duration::from_millis(10)).await;
        };
        // Only the connection inside the transaction: its other (idle) connections stay,
        // so recording the failure can succeed and the status can show it.
        assert!(sessions.kill(waiting).await);
        tx.rollback().await.unwrap();

        let report = burst.await.unwrap().expect("the tick reports the failure instead of erroring");
        assert_eq!(report.action, "failed", "round {round}: {report:?}");
        let error = report.error.clone().unwrap();
        assert!(error.starts_with("DATABASE"), "round {round}: {error}");
        let status = engine.status().await.unwrap();
        assert_eq!(status.current_action, "backing off");
        assert_eq!(status.attempts, 1);
        assert!(status.last_error.as_deref().unwrap().starts_with("DATABASE"), "{:?}", status.last_error);
        assert_eq!(engine.tick(catalog.as_ref()).await.unwrap().action, "waiting", "it backs off");
        tokio::time::sleep(Duration::from_millis(450)).await;
        // Resuming repeats the page whose commit was killed (and those applied after it
        // or committing with it: the uncommitted window).
        let held = gate.held_refs.lock().unwrap().last().unwrap().clone();
        let before = catalog.added_counts.lock().unwrap().clone();
        let r = engine.tick(catalog.as_ref()).await.unwrap();
        assert_eq!(r.action, "burst", "the same engine bursts again after recovery: {r:?}");
        let after = catalog.added_counts.lock().unwrap().clone();
        for rf in &held {
            assert!(after[rf] > before[rf], "round {round}: the uncommitted page's {rf} is applied again");
        }
        if !r.cycle_completed {
            run_cycle(&engine, &catalog).await;
        }
        assert_eq!(catalog.refs(), expected_refs(&h), "round {round}");
        assert!(catalog.removals.lock().unwrap().is_empty(), "round {round}: nothing that exists is removed");
        let status = engine.status().await.unwrap();
        assert_eq!(status.owned_entities as usize, expected_refs(&h).len(), "round {round}: every page was committed");
        assert_eq!(status.last_completed_cycle.as_ref().unwrap().entities as usize, expected_refs(&h).len());
        let burst_log = gate.log.lock().unwrap().clone();
        assert_only_the_uncommitted_window_repeats(&applied_twice(&catalog), &burst_log, hold_at - 1);
        catalog.added_counts.lock().unwrap().clear();
    }

    // Connections terminated while idle cost nothing: the pool reconnects.
    assert!(sessions.kill_all().await.unwrap() >= 1);
    tokio::time::sleep(Duration::from_millis(200)).await; // the backends are gone, not just signalled
    engine.refresh().await.unwrap();
    let r = engine.tick(catalog.as_ref()).await.unwrap();
    assert_eq!(r.action, "burst", "{r:?}");
    assert!(r.error.is_none(), "{r:?}");
    engine.close().await;
}

/// The network to PostgreSQL is cut mid-burst: the tick returns a DATABASE error (no
/// panic), every tick and status call fails fast while the database is away, the same
/// engine resumes (its own lease does not lock it out) when it is back, and when the
/// holder of the lease disappears for good another engine takes over after the TTL.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_database_fails_ticks_cleanly_and_the_lease_recovers() {
    if !postgres_available().await {
        return;
    }
    unreachable_database(TempDatabase::create("proxy").await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_mysql_database_fails_ticks_cleanly_and_the_lease_recovers() {
    if !mysql_available().await {
        return;
    }
    unreachable_database(TempDatabase::create_mysql("proxy").await).await;
}

async fn unreachable_database(db: TempDatabase) {
    let proxy = TcpProxy::start(server_addr(&db.url)).await;
    let mock = start_mock(installation()).await;
    let h = mock.handle();
    let provider = unique_provider("db-proxy");
    let lease_ttl = Duration::from_secs(3);
    let mut cfg_a = config(&mock.url(), &via(&db.url, proxy.addr()), &provider);
    cfg_a.lease_ttl = lease_ttl;
    let mut cfg_b = config(&mock.url(), &db.url, &provider);
    cfg_b.lease_ttl = lease_ttl;
    let a = Arc::new(Engine::open(cfg_a).await.unwrap());
    let b = Engine::open(cfg_b).await.unwrap();
    let catalog = Arc::new(CatalogSink::default());
    let gate = Arc::new(GateSink::new(catalog.clone(), 3));

    // 1. Cut while A's third page is between the catalog and its commit.
    let (a2, g2) = (a.clone(), gate.clone());
    let burst = tokio::spawn(async move { a2.tick(g2.as_ref()).await });
    gate.entered.notified().await;
    proxy.cut();
    gate.release.notify_one();
    let result = tokio::time::timeout(Duration::from_secs(30), burst).await.expect("the tick returns").unwrap();
    let failed_burst = gate.log.lock().unwrap().clone();
    let e = result.expect_err("nothing can be recorded: the tick fails");
    assert_eq!(e.code, ErrorCode::Database, "{e}");
    let t0 = Instant::now();
    for _ in 0..3 {
        let e = a.tick(catalog.as_ref()).await.expect_err("the database is away");
        assert_eq!(e.code, ErrorCode::Database, "{e}");
        assert_eq!(a.status().await.expect_err("the database is away").code, ErrorCode::Database);
    }
    assert!(t0.elapsed() < Duration::from_secs(10), "failing ticks return promptly ({:?})", t0.elapsed());
    // The lease A could not release still fences B.
    assert_eq!(b.tick(catalog.as_ref()).await.unwrap().action, "locked");

    // 2. Back: the same engine resumes at once from its last committed page, and the
    //    page whose commit the cut broke is the only one applied twice.
    proxy.restore();
    let r = a.tick(gate.as_ref()).await.unwrap();
    assert_eq!(r.action, "burst", "A is not locked out by its own lease: {r:?}");
    assert!(r.pages > 0 && r.error.is_none(), "{r:?}");
    if !r.cycle_completed {
        run_cycle(&a, &catalog).await;
    }
    assert_eq!(catalog.refs(), expected_refs(&h));
    assert_only_the_uncommitted_window_repeats(&applied_twice(&catalog), &failed_burst, gate.held_at.lock().unwrap()[0]);
    assert_eq!(a.status().await.unwrap().owned_entities as usize, expected_refs(&h).len());
    catalog.added_counts.lock().unwrap().clear();

    // 3. A dies holding the lease (cut mid-burst of cycle 2, never seen again): B takes
    //    over after the TTL and finishes the cycle where A's last commit left it.
    gate.hold_next(2);
    let start = gate.log.lock().unwrap().len();
    let (a2, g2) = (a.clone(), gate.clone());
    let burst = tokio::spawn(async move { a2.tick(g2.as_ref()).await });
    gate.entered.notified().await;
    proxy.cut();
    let cut_at = Instant::now();
    gate.release.notify_one();
    assert_eq!(burst.await.unwrap().expect_err("the cut fails the tick").code, ErrorCode::Database);
    let failed_burst = gate.log.lock().unwrap()[start..].to_vec();
    let mut locked = 0;
    loop {
        let r = b.tick(catalog.as_ref()).await.unwrap();
        if r.action != "locked" {
            assert_eq!(r.action, "burst", "{r:?}");
            break;
        }
        locked += 1;
        assert!(cut_at.elapsed() < lease_ttl + Duration::from_secs(5), "B never got the lease");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let waited = cut_at.elapsed();
    assert!(locked > 0, "B waited for A's lease");
    assert!(waited <= lease_ttl + Duration::from_secs(2), "B took over {waited:?} after the cut (TTL {lease_ttl:?})");
    let status = b.status().await.unwrap();
    if status.last_completed_cycle.as_ref().map(|c| c.cycle) != Some(2) {
        run_cycle(&b, &catalog).await;
    }
    let status = b.status().await.unwrap();
    assert_eq!(status.last_completed_cycle.as_ref().unwrap().cycle, 2);
    assert_eq!(catalog.refs(), expected_refs(&h));
    assert!(catalog.removals.lock().unwrap().is_empty());
    assert_eq!(status.owned_entities as usize, expected_refs(&h).len(), "every page was committed by someone");
    let held = gate.held_at.lock().unwrap()[1] - start;
    assert_only_the_uncommitted_window_repeats(&applied_twice(&catalog), &failed_burst, held);
    proxy.restore();
    a.close().await;
    b.close().await;
}

/// A storm: every connection of the engine is terminated every few milliseconds while it
/// runs two cycles (one with deletions). Ticks may fail (never panic); at the end the
/// catalog equals the source and exactly the deleted entities were removed. The gaps
/// widen while ticks fail in a row (by 2 ms per failed tick, at most 500 ms): on a loaded
/// machine a new connection can take longer than the narrowest gap, and no engine could
/// make progress.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_storm_of_terminated_connections_loses_nothing() {
    if !postgres_available().await {
        return;
    }
    storm(TempDatabase::create("storm").await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_storm_of_killed_mysql_connections_loses_nothing() {
    if !mysql_available().await {
        return;
    }
    storm(TempDatabase::create_mysql("storm").await).await;
}

async fn storm(db: TempDatabase) {
    let (sessions, engine_url) = Sessions::open(&db, "storm").await;
    let mock = start_mock(installation()).await;
    let h = mock.handle();
    let provider = unique_provider("db-storm");
    let mut cfg = config(&mock.url(), &engine_url, &provider);
    cfg.burst_length = Duration::from_millis(50);
    let engine = Engine::open(cfg).await.unwrap();
    let catalog = CatalogSink::default();

    let stop = Arc::new(AtomicBool::new(false));
    let killed = Arc::new(AtomicUsize::new(0));
    let failing_streak = Arc::new(AtomicUsize::new(0));
    let storm = {
        let (stop, killed, mut sessions) = (stop.clone(), killed.clone(), sessions);
        let failing_streak = failing_streak.clone();
        tokio::spawn(async move {
            let mut n = 0u64;
            while !stop.load(Ordering::SeqCst) {
                n += 1;
                let Ok(n_killed) = sessions.kill_all().await else {
                    break; // the test is over (its database is being dropped)
                };
                killed.fetch_add(n_killed, Ordering::SeqCst);
                // Irregular gaps so the kills land at many different statements.
                let widen = (failing_streak.load(Ordering::SeqCst) as u64 * 2).min(500);
                tokio::time::sleep(Duration::from_millis(3 + (n * 7) % 23 + widen)).await;
            }
        })
    };

    let mut errors = 0;
    let mut failed = 0;
    let mut completed = 0;
    let mut deleted = BTreeSet::new();
    for _ in 0..5000 {
        match engine.tick(&catalog).await {
            Err(e) => {
                assert_eq!(e.code, ErrorCode::Database, "{e}");
                errors += 1;
                failing_streak.fetch_add(1, Ordering::SeqCst);
            }
            Ok(r) => {
                if r.action == "failed" {
                    failed += 1;
                    failing_streak.fetch_add(1, Ordering::SeqCst);
                    assert!(r.error.as_deref().unwrap_or("").starts_with("DATABASE"), "{r:?}");
                } else {
                    failing_streak.store(0, Ordering::SeqCst);
                }
                if r.cycle_completed {
                    completed += 1;
                    if completed == 1 {
                        assert_eq!(catalog.refs(), expected_refs(&h));
                        // Delete a component (and its workload) and a whole namespace.
                        let before = expected_refs(&h);
                        let ns = h.namespaces()[0].clone();
                        let comp = h.list_names(Kind::Component, &ns).unwrap()[2].clone();
                        h.delete_item(Kind::Component, &ns, &comp).unwrap();
                        h.delete_item(Kind::Workload, &ns, &format!("{comp}-workload")).unwrap();
                        h.delete_namespace(&h.namespaces()[1].clone());
                        deleted = before.difference(&expected_refs(&h)).cloned().collect();
                    } else {
                        break;
                    }
                }
            }
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    stop.store(true, Ordering::SeqCst);
    storm.await.unwrap();
    eprintln!(
        "storm: {} backends terminated; {errors} ticks returned Err, {failed} bursts failed, {completed} cycles completed",
        killed.load(Ordering::SeqCst)
    );
    assert_eq!(completed, 2, "two cycles complete despite the storm");
    assert!(errors + failed > 0, "the storm hit the engine mid-work");
    assert_eq!(catalog.refs(), expected_refs(&h), "the catalog equals the source");
    let removed: BTreeSet<String> = catalog.removals.lock().unwrap().iter().cloned().collect();
    assert_eq!(removed, deleted, "exactly the deleted entities are removed");
    // The engine is not wedged: with the storm over, a fresh cycle runs through.
    engine.refresh().await.unwrap();
    let r = loop {
        match engine.tick(&catalog).await {
            Ok(r) if r.action == "burst" => break r,
            Ok(r) if r.action == "locked" || r.action == "waiting" => {
                tokio::time::sleep(Duration::from_millis(50)).await
            }
            other => panic!("after the storm: {other:?}"),
        }
    };
    assert!(r.error.is_none());
    engine.close().await;
}

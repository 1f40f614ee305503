//! The burst lease and the back-off, as an operator meets them (issue 17):
//! - a burst whose holder stops (a SIGKILLed process, a dropped tick) is taken over by the
//!   next tick of another engine within `burstInterval + leaseTtl`, not minutes later;
//! - a burst longer than the lease keeps it (the heartbeat);
//! - the status never says `bursting` for a burst that no longer runs: `stalled`, since
//!   the last renewal, with the lease's holder and expiry and what happens next;
//! - a start with other connection settings (base URL, token) clears the back-off and
//!   tries at once; a start with the same settings keeps it.

mod common;

use std::fs::OpenOptions;
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::db::{postgres_available, postgres_url, unique_provider};
use common::harness::*;
use mock_openchoreo::{MockOptions, MockServer};
use openchoreo_incremental::engine::{Engine, Mutation, ProviderStatus, Sink};
use openchoreo_incremental::store::now_ms;

/// The bound the issue asks for: a burst that lost its holder is taken over within this.
fn takeover_bound(burst_interval: Duration) -> Duration {
    burst_interval + Duration::from_secs(15)
}

/// A catalog that holds every mutation until released (a burst stays in flight).
struct HeldSink {
    inner: CatalogSink,
    entered: tokio::sync::Notify,
    release: tokio::sync::Semaphore,
}

impl Default for HeldSink {
    fn default() -> Self {
        HeldSink { inner: CatalogSink::default(), entered: Default::default(), release: tokio::sync::Semaphore::new(0) }
    }
}

impl Sink for HeldSink {
    async fn apply(&self, m: Mutation) -> Result<(), String> {
        self.entered.notify_one();
        self.release.acquire().await.unwrap().forget();
        self.inner.apply(m).await
    }
}

fn file_database(tag: &str) -> String {
    let dir = std::env::temp_dir().join(unique_provider(tag));
    std::fs::create_dir_all(&dir).unwrap();
    format!("sqlite://{}", dir.join("state.sqlite").display())
}

/// What the scheduler does on a replica: a tick every `interval` (less the tick's own
/// time), here with the status read every 100 ms in between. Returns when a tick bursts:
/// the samples (time since `since`, status) taken before, and that tick's time.
async fn tick_until_burst(engine: &Engine, sink: &CatalogSink, interval: Duration, since: Instant) -> (Vec<(Duration, ProviderStatus)>, Duration) {
    let mut samples = Vec::new();
    let mut next_tick = Instant::now();
    loop {
        assert!(since.elapsed() < Duration::from_secs(60), "no burst within 60 s; last status: {:?}", samples.last());
        if Instant::now() >= next_tick {
            let at = since.elapsed();
            let r = engine.tick(sink).await.unwrap();
            if r.action == "burst" {
                return (samples, at);
            }
            assert_eq!(r.action, "locked", "{r:?}");
            next_tick += interval;
        }
        samples.push((since.elapsed(), engine.status().await.unwrap()));
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Checks the status samples taken while a dead holder's lease ran out: `bursting` only
/// while renewals were on time, `stalled` (since the last renewal, at or before `died`)
/// once two heartbeats were missed, with the lease's holder and expiry and the takeover
/// as the next action.
fn assert_honest_while_stalled(samples: &[(Duration, ProviderStatus)], ttl: Duration, died_ms: i64, holder: &str) {
    let overdue_after = ttl * 2 / 3 + Duration::from_millis(300);
    let mut stalled = 0;
    for (at, s) in samples {
        if *at > overdue_after {
            assert_eq!(s.current_action, "stalled", "{at:?} after the holder stopped: {s:?}");
        }
        match s.current_action.as_str() {
            "bursting" => assert_eq!(s.lease.as_ref().unwrap().state, "held", "{s:?}"),
            "stalled" => {
                stalled += 1;
                let lease = s.lease.as_ref().expect("a stalled burst's lease is shown");
                assert_eq!(lease.holder, holder);
                assert!(!lease.held_here);
                assert!(matches!(lease.state.as_str(), "overdue" | "expired"), "{lease:?}");
                assert!(s.current_action_since <= died_ms, "stalled since the last renewal, before it died: {s:?}");
                assert!(s.current_action_since >= died_ms - ttl.as_millis() as i64 / 3 - 500, "{s:?}");
                assert_eq!(s.next_action, "take over the burst");
                assert_eq!(s.next_action_at, lease.until);
            }
            other => panic!("{at:?} after the holder stopped the status says {other}: {s:?}"),
        }
    }
    assert!(stalled > 0, "the status never said stalled: {samples:?}");
}

/// A process SIGKILLed mid-burst with the default lease timing: another engine on the same
/// state, ticking every `burstInterval`, bursts within `burstInterval + leaseTtl` (the
/// issue's bound: `burstInterval + 15 s`), and the status says `stalled` meanwhile.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_process_killed_mid_burst_is_taken_over_within_burst_interval_plus_lease_ttl() {
    let mock = start_mock(InstallationSpec::small()).await;
    let db = file_database("lease-kill");
    let provider = unique_provider("lease-kill");
    let dir = std::env::temp_dir().join(&provider);
    std::fs::create_dir_all(&dir).unwrap();
    let (journal, log) = (dir.join("journal.jsonl"), dir.join("runner.log"));
    let ttl = openchoreo_incremental::EngineConfig::default().lease_ttl;
    let burst_interval = Duration::from_secs(2);

    // A slow catalog and long bursts: the kill lands mid-burst.
    let out = OpenOptions::new().create(true).append(true).open(&log).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_oc-ingest"))
        .args(["--base-url", &mock.url(), "--database", &db, "--provider", &provider])
        .args(["--journal", journal.to_str().unwrap(), "--chunk-size", "5", "--burst-length-ms", "60000"])
        .args(["--sink-delay-ms", "150", "--tick-ms", "20"])
        .stdout(out.try_clone().unwrap())
        .stderr(out)
        .spawn()
        .unwrap();
    let t0 = Instant::now();
    while std::fs::read_to_string(&journal).unwrap_or_default().lines().count() < 3 {
        assert!(t0.elapsed() < Duration::from_secs(30), "no burst; log: {}", std::fs::read_to_string(&log).unwrap_or_default());
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    child.kill().unwrap(); // SIGKILL
    let killed = Instant::now();
    let killed_ms = now_ms();
    child.wait().unwrap();

    let b = Engine::open(config(&mock.url(), &db, &provider)).await.unwrap();
    let holder = b.status().await.unwrap().lease.expect("the dead process still holds the lease").holder;
    let sink = CatalogSink::default();
    let (samples, took_over) = tick_until_burst(&b, &sink, burst_interval, killed).await;
    eprintln!("SIGKILL -> next burst: {took_over:?} (leaseTtl {ttl:?}, burstInterval {burst_interval:?})");
    assert!(took_over >= ttl * 2 / 3 - Duration::from_millis(500), "the dead holder's lease fenced its burst: {took_over:?}");
    assert!(took_over <= burst_interval + ttl + Duration::from_secs(1), "{took_over:?}");
    assert!(took_over <= takeover_bound(burst_interval));
    assert_honest_while_stalled(&samples, ttl, killed_ms, &holder);
    run_cycle(&b, &sink).await;
    b.close().await;
}

/// The same in-process: a tick dropped mid-burst (its heartbeat with it, nothing
/// released), with a short lease. The other engine takes over once it expires.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_abandoned_burst_is_taken_over_after_its_lease_and_reported_stalled_meanwhile() {
    let mock = start_mock(InstallationSpec::small()).await;
    let db = file_database("lease-drop");
    let provider = unique_provider("lease-drop");
    let ttl = Duration::from_millis(1500);
    let burst_interval = Duration::from_millis(500);
    let mut cfg = config(&mock.url(), &db, &provider);
    cfg.lease_ttl = ttl;
    let a = Arc::new(Engine::open(cfg.clone()).await.unwrap());
    let b = Engine::open(cfg).await.unwrap();
    let held = Arc::new(HeldSink::default());
    let (a2, held2) = (a.clone(), held.clone());
    let burst = tokio::spawn(async move { a2.tick(held2.as_ref()).await });
    held.entered.notified().await;
    let holder = a.status().await.unwrap().lease.unwrap();
    assert!(holder.held_here && holder.state == "held", "{holder:?}");
    burst.abort();
    assert!(burst.await.unwrap_err().is_cancelled());
    let died = Instant::now();
    let died_ms = now_ms();
    drop(a);

    let sink = CatalogSink::default();
    let (samples, took_over) = tick_until_burst(&b, &sink, burst_interval, died).await;
    assert!(took_over <= burst_interval + ttl + Duration::from_millis(500), "{took_over:?}");
    assert_honest_while_stalled(&samples, ttl, died_ms, &holder.holder);
    run_cycle(&b, &sink).await;
    assert_eq!(sink.refs(), expected_refs(&mock.handle()));
}

/// A burst that runs three times as long as the lease keeps it: the heartbeat renews it,
/// the other engine stays locked out, and the status says `bursting` with a held lease
/// throughout. When it ends, the lease is free and the status says what comes next.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_heartbeat_keeps_a_long_burst_s_lease() {
    let mock = start_mock(InstallationSpec::small()).await;
    let db = file_database("lease-beat");
    let provider = unique_provider("lease-beat");
    let ttl = Duration::from_millis(900);
    let mut cfg = config(&mock.url(), &db, &provider);
    cfg.lease_ttl = ttl;
    let a = Arc::new(Engine::open(cfg.clone()).await.unwrap());
    let b = Engine::open(cfg).await.unwrap();
    let held = Arc::new(HeldSink::default());
    let (a2, held2) = (a.clone(), held.clone());
    let burst = tokio::spawn(async move { a2.tick(held2.as_ref()).await.unwrap() });
    held.entered.notified().await;
    let t0 = Instant::now();
    let other = CatalogSink::default();
    while t0.elapsed() < ttl * 3 {
        assert_eq!(b.tick(&other).await.unwrap().action, "locked", "at {:?}", t0.elapsed());
        let s = b.status().await.unwrap();
        assert_eq!(s.current_action, "bursting", "{s:?}");
        let lease = s.lease.unwrap();
        assert_eq!(lease.state, "held", "{lease:?}");
        assert!(!lease.held_here);
        assert!(lease.until > now_ms());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    held.release.add_permits(1 << 20);
    let r = burst.await.unwrap();
    assert_eq!(r.action, "burst", "{r:?}");
    let s = b.status().await.unwrap();
    assert!(s.lease.is_none(), "released: {s:?}");
    assert_ne!(s.current_action, "bursting", "{s:?}");
    assert!(other.refs().is_empty());
}

/// State databases that outlive an engine: a SQLite file, and PostgreSQL when reachable.
async fn persistent_databases(tag: &str) -> Vec<String> {
    let mut urls = vec![file_database(tag)];
    if postgres_available().await {
        urls.push(postgres_url());
    }
    urls
}

/// A wrong token backs off (600 s); a restart with the same settings keeps the back-off
/// (a crash loop must not hammer the API); a restart with the right token clears it and
/// bursts at once. The same for a wrong base URL. The state database never holds the token.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changed_connection_settings_clear_the_back_off_and_unchanged_ones_keep_it() {
    const RIGHT: &str = "the-right-token-7c1e";
    const WRONG: &str = "a-wrong-token-93ab";
    let mock = MockServer::start(MockOptions { port: 0, token: Some(RIGHT.into()), spec: InstallationSpec::small(), faults: Default::default() })
        .await
        .unwrap();
    for db in persistent_databases("fingerprint").await {
        let provider = unique_provider("fingerprint");
        let mut cfg = config(&mock.url(), &db, &provider);
        cfg.backoff = vec![Duration::from_secs(600)];
        let sink = CatalogSink::default();
        let open = |base_url: &str, token: &str| {
            let mut c = cfg.clone();
            c.base_url = base_url.to_string();
            c.token = Some(token.to_string());
            Engine::open(c)
        };

        for (what, bad_url, bad_token) in [("token", mock.url(), WRONG), ("baseUrl", "http://127.0.0.1:9".to_string(), RIGHT)] {
            // 1. The wrong setting fails and backs off for 600 s.
            let e = open(&bad_url, bad_token).await.unwrap();
            let r = e.tick(&sink).await.unwrap();
            assert_eq!(r.action, "failed", "{db} {what}: {r:?}");
            e.close().await;

            // 2. A restart with the same (still wrong) settings keeps the back-off.
            let e = open(&bad_url, bad_token).await.unwrap();
            let s = e.status().await.unwrap();
            assert_eq!((s.current_action.as_str(), s.attempts), ("backing off", 1), "{db} {what}: {s:?}");
            assert!(s.last_error.is_some());
            assert!(s.next_action_at > now_ms() + 500_000, "{db} {what}: {s:?}");
            assert_eq!(e.tick(&sink).await.unwrap().action, "waiting", "{db} {what}: no request before the back-off ends");
            e.close().await;

            // 3. A restart with the fixed setting forgets the back-off and tries at once.
            let e = open(&mock.url(), RIGHT).await.unwrap();
            let s = e.status().await.unwrap();
            assert_eq!(s.attempts, 0, "{db} {what}: {s:?}");
            assert!(s.last_error.is_none(), "{db} {what}: {s:?}");
            assert!(s.next_action_at <= now_ms(), "{db} {what}: {s:?}");
            assert_ne!(s.current_action, "backing off");
            let r = e.tick(&sink).await.unwrap();
            assert_eq!(r.action, "burst", "{db} {what}: {r:?}");
            run_cycle(&e, &sink).await;
            e.close().await;
        }
        assert_eq!(sink.refs(), expected_refs(&mock.handle()), "{db}");
        assert_no_token_stored(&db, &provider, &[RIGHT, WRONG]).await;
    }
}

/// Nothing in the provider's row (the fingerprint included) holds a token.
async fn assert_no_token_stored(db: &str, provider: &str, tokens: &[&str]) {
    use sqlx::{Connection, Row};
    sqlx::any::install_default_drivers();
    let mut conn = sqlx::AnyConnection::connect(db).await.unwrap();
    let row = sqlx::query(
        "SELECT COALESCE(settings_fingerprint, ''), COALESCE(last_error, ''), COALESCE(lease_owner, '') FROM oc_ingest_providers WHERE name = $1",
    )
    .bind(provider)
    .fetch_one(&mut conn)
    .await
    .unwrap();
    let fingerprint: String = row.get(0);
    assert_eq!(fingerprint.len(), 64, "a SHA-256: {fingerprint}");
    for i in 0..3 {
        let v: String = row.get(i);
        for t in tokens {
            assert!(!v.contains(t), "column {i} holds a token: {v}");
        }
    }
}

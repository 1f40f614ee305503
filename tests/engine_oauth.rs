//! OAuth2 client credentials against the stand-in's token endpoint: tokens that expire
//! mid-cycle (on schedule, and early on the server's side), a revoked client, a slow
//! and a failing token endpoint. A failing token endpoint backs off as `AUTH` naming
//! the token URL, loses no entity and removes nothing; neither the client secret nor
//! any issued token appears in a log line (captured at TRACE, every crate), error,
//! status or report.

mod common;

use std::time::Duration;

use common::db::unique_provider;
use common::harness::*;
use common::logs::capture;
use mock_openchoreo::{MockHandle, MockServer};
use openchoreo_incremental::config::ClientCredentials;
use openchoreo_incremental::engine::{Engine, TickReport};
use openchoreo_incremental::EngineConfig;

const CLIENT_ID: &str = "backstage-catalog";
const SECRET: &str = "cs-SECRET-oauth-1";
/// Every token the stand-in issues starts with this.
const TOKEN_PREFIX: &str = "mock-at-";

fn assert_no_secret(what: &str, text: &str) {
    for secret in [SECRET, TOKEN_PREFIX] {
        if let Some(at) = text.find(secret) {
            panic!("{what} shows {secret}: ...{}...", &text[at.saturating_sub(300)..(at + 100).min(text.len())]);
        }
    }
}

/// A stand-in that requires tokens of [`CLIENT_ID`] living `lifetime`.
async fn oauth_mock(lifetime: Duration) -> MockServer {
    let mock = start_mock(InstallationSpec::small()).await;
    mock.handle().require_client_credentials(CLIENT_ID, SECRET, lifetime);
    mock
}

fn token_url(mock: &MockServer) -> String {
    format!("{}/oauth2/token", mock.url())
}

fn oauth_config(mock: &MockServer, provider: &str) -> EngineConfig {
    let mut cfg = config(&mock.url(), "sqlite::memory:", &unique_provider(provider));
    cfg.client_credentials = Some(ClientCredentials {
        client_id: CLIENT_ID.into(),
        client_secret: SECRET.into(),
        token_url: token_url(mock),
        scope: Some(" openid  catalog:read ".into()),
    });
    cfg
}

/// Ticks until a cycle completes; every report and the status must be secret-free and no
/// tick may fail.
async fn cycle_without_failure(engine: &Engine, sink: &CatalogSink, pause: Duration, mut between: impl FnMut(usize)) {
    for n in 0..10_000 {
        between(n);
        let r = engine.tick(sink).await.unwrap();
        assert_no_secret("a tick report", &format!("{r:?}"));
        assert_ne!(r.action, "failed", "tick {n} failed: {r:?}");
        if r.cycle_completed {
            return;
        }
        tokio::time::sleep(pause).await;
    }
    panic!("no cycle completed");
}

/// Shows the status (secret-free) and returns it as JSON text.
async fn status_text(engine: &Engine) -> String {
    let status = serde_json::to_string(&engine.status().await.unwrap()).unwrap();
    assert_no_secret("the status", &status);
    status
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_expiring_mid_cycle_are_renewed_without_a_failed_request() {
    let logs = capture();
    // Tokens live 1 s: renewed 0.8 s after they were requested.
    let mock = oauth_mock(Duration::from_secs(1)).await;
    let h = mock.handle();
    let mut cfg = oauth_config(&mock, "oauth-expiry");
    // Short bursts with pauses between them: the cycle outlives several tokens.
    cfg.burst_length = Duration::from_millis(1);
    let engine = Engine::open(cfg).await.unwrap();
    let sink = CatalogSink::default();
    let started = std::time::Instant::now();
    cycle_without_failure(&engine, &sink, Duration::from_millis(150), |_| {}).await;
    let took = started.elapsed();
    let stats = h.oauth_stats();
    assert_eq!(sink.refs(), expected_refs(&h));
    assert!(took > Duration::from_millis(2500), "the cycle must outlive two tokens: {took:?}");
    assert!(stats.tokens_issued >= 3, "renewed on schedule: {stats:?} in {took:?}");
    assert_eq!(stats.api_refusals, 0, "renewed before expiry, never refused: {stats:?}");
    assert_eq!(stats.last_scope.as_deref(), Some("openid catalog:read"), "scopes joined by one space");
    // Not one token per request: the cache is used.
    assert!(stats.tokens_issued * 4 < h.stats().requests, "{stats:?} for {} requests", h.stats().requests);

    // Early expiry on the server's side (a revoked session, a clock ahead of ours): each
    // refused request is renewed once and repeated; the cycle never fails.
    engine.refresh().await.unwrap();
    h.reset_oauth_stats();
    h.reset_stats();
    h.update_oauth(|s| s.token_lifetime_ms = 300_000).unwrap();
    cycle_without_failure(&engine, &sink, Duration::ZERO, |n| {
        if n % 3 == 1 {
            h.expire_tokens();
        }
    })
    .await;
    let stats = h.oauth_stats();
    assert!(stats.api_expired >= 2, "the server expired tokens mid-cycle: {stats:?}");
    assert_eq!(stats.api_refusals, stats.api_expired, "{stats:?}");
    // One renewal per refusal (and one more if the first cycle's token had run out).
    assert!((stats.api_expired..=stats.api_expired + 1).contains(&stats.tokens_issued), "{stats:?}");
    assert_eq!(sink.refs(), expected_refs(&h));
    assert!(sink.removals.lock().unwrap().is_empty(), "{:?}", sink.removals.lock().unwrap());
    // The repeated requests are counted, as any retry is.
    let status = engine.status().await.unwrap();
    let cycle = status.last_completed_cycle.unwrap();
    assert_eq!(cycle.requests as u64, h.stats().requests, "{cycle:?}");
    status_text(&engine).await;
    engine.close().await;
    assert_no_secret("the captured log", &logs.text());
}

/// A cycle that completed, then a second one that a token endpoint problem interrupts:
/// each tick fails as `AUTH` naming the token URL and backs off, nothing is removed or
/// lost; once the problem is gone the cycle completes with every entity.
async fn interrupted_second_cycle(
    mock: &MockServer,
    mut cfg: EngineConfig,
    break_it: impl FnOnce(&MockHandle),
    expect_in_error: &[&str],
    mend: impl FnOnce(&MockHandle),
) -> Vec<String> {
    let h = mock.handle();
    let sink = CatalogSink::default();
    cfg.backoff = vec![Duration::from_secs(60), Duration::from_secs(300)];
    cfg.burst_length = Duration::from_millis(1);
    let engine = Engine::open(cfg).await.unwrap();
    run_cycle(&engine, &sink).await;
    let before = sink.refs();
    assert_eq!(before, expected_refs(&h));

    engine.refresh().await.unwrap();
    let first = engine.tick(&sink).await.unwrap();
    assert_eq!(first.action, "burst", "{first:?}");
    break_it(&h);
    let mut shown = Vec::new();
    for attempt in 1..=2 {
        let r: TickReport = engine.tick(&sink).await.unwrap();
        assert_eq!(r.action, "failed", "{r:?}");
        let status = engine.status().await.unwrap();
        let last_error = status.last_error.clone().unwrap();
        assert!(last_error.starts_with("AUTH: "), "{last_error}");
        assert!(last_error.contains(&format!("POST {}", token_url(mock))), "names the token URL: {last_error}");
        for part in expect_in_error {
            assert!(last_error.contains(part), "{part:?} is not in {last_error}");
        }
        assert_eq!(status.current_action, "backing off");
        assert_eq!(status.attempts, attempt);
        let wait = if attempt == 1 { 60_000 } else { 300_000 };
        assert_eq!(status.next_action_at - status.current_action_since, wait, "the API's back-off schedule");
        shown.push(format!("{r:?}"));
        shown.push(status_text(&engine).await);
        engine.refresh().await.unwrap();
    }
    assert!(sink.removals.lock().unwrap().is_empty(), "nothing removed: {:?}", sink.removals.lock().unwrap());
    assert_eq!(sink.refs(), before, "nothing lost");

    mend(&h);
    engine.refresh().await.unwrap();
    cycle_without_failure(&engine, &sink, Duration::ZERO, |_| {}).await;
    assert_eq!(sink.refs(), expected_refs(&h));
    assert!(sink.removals.lock().unwrap().is_empty(), "{:?}", sink.removals.lock().unwrap());
    let status = engine.status().await.unwrap();
    assert_eq!(status.attempts, 0, "{status:?}");
    assert_ne!(status.current_action, "backing off");
    shown.push(status_text(&engine).await);
    engine.close().await;
    shown
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoked_client_backs_off_as_auth_and_removes_nothing() {
    let logs = capture();
    let mock = oauth_mock(Duration::from_secs(300)).await;
    let cfg = oauth_config(&mock, "oauth-revoked");
    let shown = interrupted_second_cycle(
        &mock,
        cfg,
        // Its tokens are refused from now on, and it gets no new ones.
        |h| h.update_oauth(|s| s.revoked = [CLIENT_ID.to_string()].into()).unwrap(),
        &["HTTP 401 invalid_client", "openchoreo.auth.clientId", "openchoreo.auth.clientSecret"],
        |h| h.update_oauth(|s| s.revoked.clear()).unwrap(),
    )
    .await;
    let stats = mock.handle().oauth_stats();
    assert!(stats.api_refusals >= 1 && stats.token_refusals >= 2, "{stats:?}");
    for text in &shown {
        assert_no_secret("a report or status", text);
    }
    assert_no_secret("the captured log", &logs.text());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_endpoint_that_is_down_backs_off_as_auth() {
    let logs = capture();
    // Tokens short enough that the second cycle needs a new one.
    let mock = oauth_mock(Duration::from_millis(400)).await;
    let cfg = oauth_config(&mock, "oauth-down");
    interrupted_second_cycle(
        &mock,
        cfg,
        |h| {
            h.update_oauth(|s| s.fail_status = Some(503)).unwrap();
            std::thread::sleep(Duration::from_millis(500));
        },
        &["HTTP 503", "(after 2 token requests)"],
        |h| h.update_oauth(|s| s.fail_status = None).unwrap(),
    )
    .await;
    assert_no_secret("the captured log", &logs.text());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_token_endpoint_is_waited_for_once_then_times_out_as_auth() {
    let logs = capture();
    let mock = oauth_mock(Duration::from_secs(300)).await;
    let h = mock.handle();
    // Slow but within the request timeout: concurrent requests wait for one token.
    h.update_oauth(|s| s.latency_ms = 400).unwrap();
    let engine = Engine::open(oauth_config(&mock, "oauth-slow")).await.unwrap();
    let sink = CatalogSink::default();
    cycle_without_failure(&engine, &sink, Duration::ZERO, |_| {}).await;
    assert_eq!(sink.refs(), expected_refs(&h));
    assert_eq!(h.oauth_stats().token_requests, 1, "one token for the whole cycle");
    engine.close().await;

    // Slower than the request timeout: AUTH, the token URL, a timeout; then it recovers.
    let mut cfg = oauth_config(&mock, "oauth-slow");
    cfg.request_timeout = Duration::from_millis(700);
    interrupted_second_cycle(
        &mock,
        cfg,
        |h| {
            h.update_oauth(|s| {
                s.latency_ms = 2_000;
                s.token_lifetime_ms = 300_000;
            })
            .unwrap();
            // The engine holds a token: make it renew.
            h.expire_tokens();
        },
        &["timed out", "openchoreo.auth.tokenUrl"],
        |h| h.update_oauth(|s| s.latency_ms = 0).unwrap(),
    )
    .await;
    assert_no_secret("the captured log", &logs.text());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_tokens_and_scopes_name_what_to_check_and_never_the_secret() {
    let logs = capture();
    let mock = oauth_mock(Duration::from_secs(300)).await;
    let h = mock.handle();
    let sink = CatalogSink::default();

    // A wrong secret: the probe and the burst fail as AUTH naming the client keys.
    let mut cfg = oauth_config(&mock, "oauth-wrong");
    cfg.client_credentials.as_mut().unwrap().client_secret = "cs-SECRET-wrong-2".into();
    let engine = Engine::open(cfg).await.unwrap();
    let probe = engine.probe().await.unwrap_err();
    assert_eq!(probe.code.as_str(), "AUTH", "{probe}");
    assert!(probe.message.contains("invalid_client") && probe.message.contains("openchoreo.auth.clientSecret"), "{probe}");
    let report = engine.tick(&sink).await.unwrap();
    assert_eq!(report.action, "failed");
    let shown = [probe.to_string(), format!("{report:?}"), status_text(&engine).await, format!("{:?}", engine.config())];
    engine.close().await;

    // A scope the identity provider requires but the config does not ask for.
    h.update_oauth(|s| s.required_scope = Some("catalog:write".into())).unwrap();
    let engine = Engine::open(oauth_config(&mock, "oauth-scope")).await.unwrap();
    let probe = engine.probe().await.unwrap_err();
    assert!(probe.message.contains("invalid_scope") && probe.message.contains("openchoreo.auth.scope"), "{probe}");
    engine.close().await;
    h.update_oauth(|s| s.required_scope = None).unwrap();
    h.reset_oauth_stats();

    // A token the API refuses even fresh (a client without access): one renewal, then
    // AUTH saying the token was fresh.
    // (Tokens live 1 ms; the API answers after 20 ms.)
    h.update_oauth(|s| s.token_lifetime_ms = 1).unwrap();
    h.update_faults(|f| f.latency_ms = 20);
    let engine = Engine::open(oauth_config(&mock, "oauth-fresh")).await.unwrap();
    let probe = engine.probe().await.unwrap_err();
    assert!(probe.message.contains("HTTP 401") && probe.message.contains("refused the access token issued by"), "{probe}");
    assert_eq!(h.oauth_stats().api_refusals, 2, "refused, renewed once, refused again");
    engine.close().await;

    for text in shown.iter().chain([probe.to_string()].iter()) {
        assert_no_secret("an error, report or status", text);
        assert!(!text.contains("cs-SECRET-wrong-2"), "{text}");
    }
    let log = logs.text();
    assert_no_secret("the captured log", &log);
    assert!(!log.contains("cs-SECRET-wrong-2"), "the wrong secret is in the log");
    // The capture works: it saw the failures and the token requests.
    assert!(log.contains("invalid_client"), "the refusal is not in the log");
    assert!(log.contains("/oauth2/token"), "the token URL is not in the log");
}

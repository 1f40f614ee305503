//! Security: the OpenChoreo token and database passwords appear in no log line (captured
//! from `tracing` at TRACE, every crate), error message, `Debug` of the config, status
//! or tick report; a base URL with embedded credentials is shown redacted (`***@`).

mod common;

use common::db::{postgres_available, postgres_url, unique_provider};
use common::harness::*;
use common::logs::capture;
use mock_openchoreo::{MockOptions, MockServer};
use openchoreo_incremental::engine::Engine;
use openchoreo_incremental::EngineConfig;

const SECRETS: [&str; 5] = ["tok-SECRET-1", "pw-SECRET-2", "pw-SECRET-3", "tok-SECRET-4", "pw-SECRET-4b"];

fn assert_no_secret(what: &str, text: &str) {
    assert!(!text.contains("SECRET"), "{what} shows a secret ({SECRETS:?}):\n{text}");
}

fn rejecting_mock() -> MockOptions {
    MockOptions { port: 0, token: Some("other-token".into()), spec: InstallationSpec::small(), faults: Faults::default() }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_token_or_password_in_logs_errors_status_or_reports_and_url_credentials_are_redacted() {
    let logs = capture();
    let sink = CatalogSink::default();
    // Everything shown to a person besides the log: errors, Debug, status JSON, reports.
    let mut shown: Vec<(String, String)> = Vec::new();

    // (a) a wrong token: the stand-in expects another one.
    let mock = MockServer::start(rejecting_mock()).await.unwrap();
    let mut cfg = config(&mock.url(), "sqlite::memory:", &unique_provider("secret-a"));
    cfg.token = Some("tok-SECRET-1".into());
    shown.push(("(a) config Debug".into(), format!("{cfg:?}")));
    let engine = Engine::open(cfg).await.unwrap();
    shown.push(("(a) engine config Debug".into(), format!("{:?}", engine.config())));
    let probe = engine.probe().await.unwrap_err();
    assert_eq!(probe.code.as_str(), "AUTH", "{probe}");
    shown.push(("(a) probe error".into(), probe.to_string()));
    let report = engine.tick(&sink).await.unwrap();
    assert_eq!(report.action, "failed", "{report:?}");
    shown.push(("(a) tick report".into(), format!("{report:?} {}", serde_json::to_string(&report).unwrap())));
    let status = serde_json::to_string(&engine.status().await.unwrap()).unwrap();
    assert!(status.contains("openchoreo.token") && status.contains("401"), "{status}");
    shown.push(("(a) status".into(), status));
    engine.close().await;

    // (b) a base URL with credentials in it, against the same rejecting stand-in, so the
    // URL appears in errors as well as in the "engine opened" log line.
    let with_credentials = mock.url().replace("http://", "http://user:pw-SECRET-2@");
    // Without a token the URL's credentials are what is sent (as Basic auth), and they
    // are redacted wherever the URL is shown. (With a token, they are dropped.)
    let mut cfg = config(&with_credentials, "sqlite::memory:", &unique_provider("secret-b"));
    cfg.token = None;
    shown.push(("(b) config Debug".into(), format!("{cfg:?}")));
    assert!(format!("{cfg:?}").contains("http://***@127.0.0.1"), "{cfg:?}");
    let engine = Engine::open(cfg).await.unwrap();
    let probe = engine.probe().await.unwrap_err();
    assert!(probe.to_string().contains("http://***@127.0.0.1"), "{probe}");
    shown.push(("(b) probe error".into(), probe.to_string()));
    let report = engine.tick(&sink).await.unwrap();
    shown.push(("(b) tick report".into(), format!("{report:?}")));
    let status = serde_json::to_string(&engine.status().await.unwrap()).unwrap();
    shown.push(("(b) status".into(), status));
    engine.close().await;
    drop(mock);

    // (c) a database URL with a password that cannot be reached.
    let mut cfg = config("http://127.0.0.1:9", "postgres://app:pw-SECRET-3@127.0.0.1:1/x", &unique_provider("secret-c"));
    cfg.token = Some("tok-SECRET-1".into());
    shown.push(("(c) config Debug".into(), format!("{cfg:?}")));
    let err = Engine::open(cfg.clone()).await.err().expect("port 1 has no database");
    assert_eq!(err.code.as_str(), "DATABASE", "{err}");
    shown.push(("(c) open error".into(), err.to_string()));
    // A database URL that does not even parse.
    let mut bad = cfg.clone();
    bad.database_url = "postgres://app:pw-SECRET-3@127.0.0.1:notaport/x".into();
    let err = Engine::open(bad).await.err().expect("an unparsable URL fails");
    shown.push(("(c) open error, bad URL".into(), err.to_string()));

    // (d) a working cycle with a token the stand-in accepts; on PostgreSQL (trust auth
    // accepts any password) with a password in the URL when the server is there.
    let mock = MockServer::start(MockOptions { token: Some("tok-SECRET-4".into()), ..rejecting_mock() }).await.unwrap();
    let database = if postgres_available().await {
        postgres_url().replacen("postgres://postgres@", "postgres://postgres:pw-SECRET-4b@", 1)
    } else {
        "sqlite::memory:".to_string()
    };
    let mut cfg: EngineConfig = config(&mock.url(), &database, &unique_provider("secret-d"));
    cfg.token = Some("tok-SECRET-4".into());
    shown.push(("(d) config Debug".into(), format!("{cfg:?}")));
    let engine = Engine::open(cfg).await.unwrap();
    engine.probe().await.unwrap();
    let reports = run_cycle(&engine, &sink).await;
    assert_eq!(sink.refs(), expected_refs(&mock.handle()));
    shown.push(("(d) tick reports".into(), format!("{reports:?} {}", serde_json::to_string(&reports).unwrap())));
    shown.push(("(d) status".into(), serde_json::to_string(&engine.status().await.unwrap()).unwrap()));
    engine.close().await;

    for (what, text) in &shown {
        assert_no_secret(what, text);
    }

    let text = logs.text();
    assert_no_secret("the captured log", &text);
    // The capture works and saw what happened, so the test can fail.
    assert!(text.lines().count() >= 10, "too few log lines captured:\n{text}");
    assert!(text.contains("openchoreo.token") && text.contains("401"), "(a)'s auth failure is not in the log:\n{text}");
    assert!(text.contains("http://***@127.0.0.1"), "(b)'s redacted URL is not in the log:\n{text}");
    assert!(text.contains("OpenChoreo ingestion engine opened"), "{text}");
    assert!(text.contains("cycle"), "(d)'s cycle is not in the log:\n{text}");
    // Dependencies at TRACE are captured as well (reqwest/hyper/sqlx), not only this crate.
    assert!(text.lines().any(|l| !l.contains("openchoreo_incremental")), "{text}");
}

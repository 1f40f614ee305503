//! Fault injection over a real socket.

mod common;

use std::time::{Duration, Instant};

use common::{start, Client};
use mock_openchoreo::{Faults, InstallationSpec};

const N: usize = 400;

/// Statuses of N requests (0 for a failed transport).
async fn statuses(client: &Client, path: &str) -> Vec<u16> {
    let mut out = Vec::with_capacity(N);
    for _ in 0..N {
        out.push(client.try_get(path).await.map_or(0, |r| r.status));
    }
    out
}

fn share(statuses: &[u16], pred: impl Fn(u16) -> bool) -> f64 {
    statuses.iter().filter(|s| pred(**s)).count() as f64 / statuses.len() as f64
}

#[tokio::test]
async fn error_and_rate_limit_rates_match_configuration() {
    let server = start(InstallationSpec::small()).await;
    let h = server.handle();
    let client = Client::new(&server);
    h.set_faults(Faults {
        error_rate: 0.2,
        rate_limit_rate: 0.1,
        retry_after_secs: 7,
        seed: 3,
        ..Faults::default()
    });
    let s = statuses(&client, "/api/v1/namespaces").await;
    let errors = share(&s, |c| matches!(c, 500 | 502 | 503));
    let limited = share(&s, |c| c == 429);
    assert!((0.14..0.26).contains(&errors), "error share {errors}");
    assert!((0.05..0.15).contains(&limited), "429 share {limited}");
    assert!(s.contains(&500) && s.contains(&502) && s.contains(&503));

    let stats = h.stats();
    assert_eq!(stats.requests, N as u64, "faulty requests are counted");
    assert_eq!(
        stats.faults["error"] as usize,
        s.iter().filter(|c| matches!(c, 500 | 502 | 503)).count()
    );
    assert_eq!(
        stats.faults["rateLimit"] as usize,
        s.iter().filter(|c| **c == 429).count()
    );

    // The 429 carries Retry-After and an ErrorResponse body.
    h.set_faults(Faults {
        rate_limit_rate: 1.0,
        retry_after_secs: 7,
        ..Faults::default()
    });
    let r = client.get("/api/v1/namespaces").await;
    assert_eq!(r.status, 429);
    assert_eq!(r.headers["retry-after"], "7");
    assert!(r.json()["code"].is_string() && r.json()["error"].is_string());

    // The same seed replays the same sequence.
    let f = Faults {
        error_rate: 0.3,
        seed: 11,
        ..Faults::default()
    };
    h.set_faults(f);
    let a: Vec<u16> = statuses(&client, "/health").await; // not /api/v1: no dice rolled
    assert!(a.iter().all(|c| *c == 200));
    let first = statuses(&client, "/api/v1/namespaces").await;
    h.set_faults(f);
    assert_eq!(statuses(&client, "/api/v1/namespaces").await, first);
}

#[tokio::test]
async fn cut_malformed_and_html_answers() {
    let server = start(InstallationSpec::small()).await;
    let h = server.handle();
    let client = Client::new(&server);

    h.set_faults(Faults {
        cut_rate: 1.0,
        ..Faults::default()
    });
    for _ in 0..6 {
        assert!(
            client.try_get("/api/v1/namespaces").await.is_err(),
            "cut connections fail in transport"
        );
    }
    assert_eq!(h.stats().faults["cut"], 6);

    h.set_faults(Faults {
        cut_rate: 0.25,
        seed: 1,
        ..Faults::default()
    });
    let s = statuses(&client, "/api/v1/namespaces").await;
    let cut = share(&s, |c| c == 0);
    assert!((0.18..0.32).contains(&cut), "cut share {cut}");
    assert!(share(&s, |c| c == 200) + cut > 0.999);

    h.set_faults(Faults {
        malformed_rate: 1.0,
        ..Faults::default()
    });
    let r = client.get("/api/v1/namespaces/ns-000/components").await;
    assert_eq!(r.status, 200);
    assert!(r.text.starts_with("{\"items\":["));
    assert!(serde_json::from_str::<serde_json::Value>(&r.text).is_err());

    h.set_faults(Faults {
        html_rate: 1.0,
        ..Faults::default()
    });
    let r = client.get("/api/v1/namespaces").await;
    assert_eq!(r.status, 502);
    assert!(r.headers["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    assert!(r.text.contains("<html>"));

    // The admin API and health checks are never faulty.
    h.set_faults(Faults {
        error_rate: 1.0,
        ..Faults::default()
    });
    assert_eq!(client.get("/health").await.status, 200);
    assert_eq!(client.get("/admin/stats").await.status, 200);
}

#[tokio::test]
async fn list_shaping_faults() {
    let spec = InstallationSpec {
        namespaces: 1,
        projects_per_namespace: 20,
        components_per_project: 50,
        ..InstallationSpec::small()
    };
    let server = start(spec).await;
    let h = server.handle();
    let client = Client::new(&server);

    h.set_faults(Faults {
        empty_lists: true,
        ..Faults::default()
    });
    let (names, calls) = client
        .walk("/api/v1/namespaces/ns-000/components", 100)
        .await;
    assert_eq!((names.len(), calls), (0, 1));
    let (names, _) = client.walk("/api/v1/namespaces", 100).await;
    assert!(names.is_empty());

    // dropShare hides ~90% of items, consistently across pages and walks.
    h.set_faults(Faults {
        drop_share: 0.9,
        seed: 4,
        ..Faults::default()
    });
    let (first, _) = client.walk("/api/v1/namespaces/ns-000/components", 7).await;
    let (second, _) = client
        .walk("/api/v1/namespaces/ns-000/components", 100)
        .await;
    assert_eq!(first, second);
    assert!(
        (50..150).contains(&first.len()),
        "{} of 1000 left",
        first.len()
    );
    let mut sorted = first.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(sorted, first);

    // repeatCursor: the next cursor never changes.
    h.set_faults(Faults {
        repeat_cursor: true,
        ..Faults::default()
    });
    let p1 = client
        .get("/api/v1/namespaces/ns-000/components?limit=10")
        .await
        .json();
    let c1 = p1["pagination"]["nextCursor"].as_str().unwrap().to_owned();
    for _ in 0..3 {
        let p = client
            .get(&format!(
                "/api/v1/namespaces/ns-000/components?limit=10&cursor={c1}"
            ))
            .await
            .json();
        assert_eq!(p["pagination"]["nextCursor"], c1.as_str());
    }
    // Even a list that fits in one page keeps pointing onwards.
    let p = client.get("/api/v1/namespaces").await.json();
    assert!(p["pagination"]["nextCursor"].is_string());
}

#[tokio::test]
async fn latency_delays_api_answers() {
    let server = start(InstallationSpec::small()).await;
    let h = server.handle();
    let client = Client::new(&server);
    h.set_faults(Faults {
        latency_ms: 150,
        ..Faults::default()
    });
    let t = Instant::now();
    assert_eq!(client.get("/api/v1/namespaces").await.status, 200);
    assert!(t.elapsed() >= Duration::from_millis(150));
    h.update_faults(|f| f.latency_ms = 0);
    assert_eq!(h.faults().latency_ms, 0);
}

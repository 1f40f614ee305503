//! State databases for tests: SQLite always; PostgreSQL when reachable (required in CI).

/// `OC_TEST_POSTGRES_URL`, default: the machine's local server, database `test`.
pub fn postgres_url() -> String {
    std::env::var("OC_TEST_POSTGRES_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_string())
}

/// Whether PostgreSQL answers; in CI (`CI=true`) an unreachable server fails the test
/// instead of skipping it.
pub async fn postgres_available() -> bool {
    let url = postgres_url();
    let ok = tokio::time::timeout(std::time::Duration::from_secs(3), tokio::net::TcpStream::connect("127.0.0.1:5432"))
        .await
        .map(|r| r.is_ok())
        .unwrap_or(false);
    if !ok {
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!("CI=true but PostgreSQL is not reachable at {url}");
        }
        eprintln!("SKIPPED: PostgreSQL not reachable at 127.0.0.1:5432 (set OC_TEST_POSTGRES_URL); running SQLite only");
    }
    ok
}

/// The database URLs a backend-agnostic test runs against.
pub async fn database_urls() -> Vec<String> {
    let mut urls = vec!["sqlite::memory:".to_string()];
    if postgres_available().await {
        urls.push(postgres_url());
    }
    urls
}

/// A provider name no other test (or earlier run) uses, so tests can share a database.
pub fn unique_provider(prefix: &str) -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
    format!("{prefix}-{}-{nanos:x}-{}", std::process::id(), N.fetch_add(1, Ordering::SeqCst))
}

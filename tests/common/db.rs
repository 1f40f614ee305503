//! State databases for tests: SQLite always; PostgreSQL and MySQL (MariaDB) when
//! reachable (required in CI).

use super::pgtemp::{server_addr, TempDatabase};

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

/// `OC_TEST_MYSQL_URL`, default: the machine's local MariaDB, database `test` (the tests
/// create databases of their own next to it).
pub fn mysql_url() -> String {
    std::env::var("OC_TEST_MYSQL_URL").unwrap_or_else(|_| "mysql://root@127.0.0.1:3306/test".to_string())
}

/// Whether MySQL answers; in CI (`CI=true`) an unreachable server fails the test instead
/// of skipping it.
pub async fn mysql_available() -> bool {
    let url = mysql_url();
    let addr = server_addr(&url);
    let ok = tokio::time::timeout(std::time::Duration::from_secs(3), tokio::net::TcpStream::connect(addr))
        .await
        .map(|r| r.is_ok())
        .unwrap_or(false);
    if !ok {
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!("CI=true but MySQL is not reachable at {addr} (OC_TEST_MYSQL_URL)");
        }
        eprintln!("SKIPPED: MySQL not reachable at {addr} (set OC_TEST_MYSQL_URL); running without it");
    }
    ok
}

/// A state database a backend-agnostic test runs against: its URL, and on MySQL the
/// database of the test's own, dropped with it.
pub struct TestDatabase {
    pub url: String,
    _own: Option<TempDatabase>,
}

impl std::ops::Deref for TestDatabase {
    type Target = String;
    fn deref(&self) -> &String {
        &self.url
    }
}

impl std::fmt::Display for TestDatabase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.url)
    }
}

impl TestDatabase {
    pub fn shared(url: String) -> TestDatabase {
        TestDatabase { url, _own: None }
    }

    /// A MySQL database of its own.
    pub async fn mysql(tag: &str) -> TestDatabase {
        let db = TempDatabase::create_mysql(tag).await;
        TestDatabase { url: db.url.clone(), _own: Some(db) }
    }
}

/// The databases a backend-agnostic test runs against: SQLite in memory, the shared
/// PostgreSQL database, and a MySQL database of the test's own.
pub async fn database_urls() -> Vec<TestDatabase> {
    let mut dbs = vec![TestDatabase::shared("sqlite::memory:".to_string())];
    if postgres_available().await {
        dbs.push(TestDatabase::shared(postgres_url()));
    }
    if mysql_available().await {
        dbs.push(TestDatabase::mysql("t").await);
    }
    dbs
}

/// A provider name no other test (or earlier run) uses, so tests can share a database.
pub fn unique_provider(prefix: &str) -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
    format!("{prefix}-{}-{nanos:x}-{}", std::process::id(), N.fetch_add(1, Ordering::SeqCst))
}

//! A PostgreSQL or MySQL database of a test's own (`CREATE DATABASE oc_reliability_...`,
//! `oc_t_...`), dropped when the guard drops: a test can lock rows, terminate connections
//! and cut networks without touching other tests' data.

use std::net::{SocketAddr, ToSocketAddrs};

use sqlx::{Connection, MySqlConnection, PgConnection};

use super::db::{mysql_url, postgres_url};

pub struct TempDatabase {
    pub name: String,
    /// URL of the new database (credentials and host as in `postgres_url()` or `mysql_url()`).
    pub url: String,
    admin_url: String,
}

/// `url` with its database path replaced by `db` (the query string is kept).
pub fn with_database(url: &str, db: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let scheme_end = base.find("://").map(|i| i + 3).unwrap_or(0);
    let host_end = base[scheme_end..].find('/').map(|i| scheme_end + i).unwrap_or(base.len());
    let mut out = format!("{}/{db}", &base[..host_end]);
    if let Some(q) = query {
        out.push('?');
        out.push_str(q);
    }
    out
}

/// `url` with `key=value` added to its query string.
pub fn with_param(url: &str, key: &str, value: &str) -> String {
    let sep = if url.contains('?') { '&' } else { '?' };
    format!("{url}{sep}{key}={value}")
}

/// The server's socket address from a `postgres://user@host:port/db` URL.
pub fn server_addr(url: &str) -> SocketAddr {
    let rest = url.split_once("://").map(|(_, r)| r).unwrap_or(url);
    let authority = rest.split(['/', '?']).next().unwrap_or(rest);
    let hostport = authority.rsplit_once('@').map(|(_, h)| h).unwrap_or(authority);
    let port = if url.starts_with("mysql") || url.starts_with("mariadb") { 3306 } else { 5432 };
    let hostport = if hostport.contains(':') { hostport.to_string() } else { format!("{hostport}:{port}") };
    hostport.to_socket_addrs().unwrap().next().unwrap()
}

/// `url` pointed at another host:port (e.g. a proxy).
pub fn via(url: &str, addr: SocketAddr) -> String {
    let (scheme, rest) = url.split_once("://").unwrap();
    let auth_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let authority = &rest[..auth_end];
    let user = authority.rsplit_once('@').map(|(u, _)| format!("{u}@")).unwrap_or_default();
    format!("{scheme}://{user}{addr}{}", &rest[auth_end..])
}

impl TempDatabase {
    pub async fn create(tag: &str) -> TempDatabase {
        use std::sync::atomic::{AtomicU32, Ordering};
        static N: AtomicU32 = AtomicU32::new(0);
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos() as u64;
        let name =
            format!("oc_reliability_{tag}_{}_{:x}_{}", std::process::id(), nanos, N.fetch_add(1, Ordering::SeqCst))
                .to_lowercase();
        let admin_url = postgres_url();
        let mut c = PgConnection::connect(&admin_url).await.expect("connecting to the test PostgreSQL");
        // CREATE DATABASE copies template1 and fails while someone else is copying it.
        let mut tries = 0;
        loop {
            match sqlx::query(&format!("CREATE DATABASE {name}")).execute(&mut c).await {
                Ok(_) => break,
                Err(e) if tries < 20 && e.to_string().contains("being accessed by other users") => {
                    tries += 1;
                    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                }
                Err(e) => panic!("CREATE DATABASE {name}: {e}"),
            }
        }
        let _ = c.close().await;
        let url = with_database(&admin_url, &name);
        TempDatabase { name, url, admin_url }
    }

    /// A MySQL (MariaDB) database: `oc_t_<tag>_...`, in utf8mb4.
    pub async fn create_mysql(tag: &str) -> TempDatabase {
        let name = format!("oc_t_{tag}_{}", unique_suffix()).to_lowercase();
        let admin_url = mysql_url();
        let mut c = MySqlConnection::connect(&admin_url).await.expect("connecting to the test MySQL");
        sqlx::query(&format!("CREATE DATABASE {name} CHARACTER SET utf8mb4"))
            .execute(&mut c)
            .await
            .unwrap_or_else(|e| panic!("CREATE DATABASE {name}: {e}"));
        let _ = c.close().await;
        let url = with_database(&admin_url, &name);
        TempDatabase { name, url, admin_url }
    }

    /// A connection of the test's own to this database.
    pub async fn connect(&self) -> PgConnection {
        PgConnection::connect(&self.url).await.unwrap()
    }

    /// A MySQL connection of the test's own to this database.
    pub async fn connect_mysql(&self) -> MySqlConnection {
        MySqlConnection::connect(&self.url).await.unwrap()
    }

    fn is_mysql(&self) -> bool {
        self.url.starts_with("mysql") || self.url.starts_with("mariadb")
    }
}

fn unique_suffix() -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos() as u64;
    format!("{}_{:x}_{}", std::process::id(), nanos, N.fetch_add(1, Ordering::SeqCst))
}

impl Drop for TempDatabase {
    fn drop(&mut self) {
        let (admin, name) = (self.admin_url.clone(), self.name.clone());
        let mysql = self.is_mysql();
        // Drop may run inside a runtime: do the async work on a thread of its own.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            rt.block_on(async {
                if mysql {
                    if let Ok(mut c) = MySqlConnection::connect(&admin).await {
                        if let Err(e) = sqlx::query(&format!("DROP DATABASE IF EXISTS {name}")).execute(&mut c).await {
                            eprintln!("could not drop the test database {name}: {e}");
                        }
                    }
                    return;
                }
                if let Ok(mut c) = PgConnection::connect(&admin).await {
                    if let Err(e) =
                        sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).execute(&mut c).await
                    {
                        eprintln!("could not drop the test database {name}: {e}");
                    }
                }
            });
        })
        .join();
    }
}

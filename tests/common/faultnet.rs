//! Network trouble under the test's control.
//!
//! - [`TcpProxy`]: a TCP hop (e.g. in front of PostgreSQL) that can cut every live
//!   connection at once and drop new ones until restored.
//! - [`HttpInterposer`]: an HTTP/1.1 hop in front of the OpenChoreo stand-in that can
//!   stall a request past the client's time-out, answer instead of the server, or
//!   rewrite the JSON pages the server returns. Everything else passes through,
//!   including the stand-in's own faults (a cut upstream cuts the client too).

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

/// A TCP proxy on 127.0.0.1 that forwards to `upstream` until cut.
pub struct TcpProxy {
    addr: SocketAddr,
    up: Arc<AtomicBool>,
    cut_tx: watch::Sender<u64>,
    /// Connections accepted and forwarded so far.
    pub forwarded: Arc<AtomicU64>,
    /// Connections dropped on arrival while cut.
    pub refused: Arc<AtomicU64>,
    task: tokio::task::JoinHandle<()>,
}

impl TcpProxy {
    pub async fn start(upstream: SocketAddr) -> TcpProxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let up = Arc::new(AtomicBool::new(true));
        let (cut_tx, cut_rx) = watch::channel(0u64);
        let forwarded = Arc::new(AtomicU64::new(0));
        let refused = Arc::new(AtomicU64::new(0));
        let (up2, fwd, refd) = (up.clone(), forwarded.clone(), refused.clone());
        let task = tokio::spawn(async move {
            loop {
                let Ok((mut client, _)) = listener.accept().await else { continue };
                if !up2.load(Ordering::SeqCst) {
                    refd.fetch_add(1, Ordering::SeqCst);
                    drop(client); // accepted and closed: the peer sees EOF at once
                    continue;
                }
                fwd.fetch_add(1, Ordering::SeqCst);
                let mut cut = cut_rx.clone();
                cut.borrow_and_update(); // only cuts from now on end this connection
                tokio::spawn(async move {
                    let Ok(mut server) = TcpStream::connect(upstream).await else { return };
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
                        _ = cut.changed() => {}
                    }
                    // Both sockets drop here: the connection is gone mid-whatever.
                });
            }
        });
        TcpProxy { addr, up, cut_tx, forwarded, refused, task }
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Drops every live connection and every new one until `restore`.
    pub fn cut(&self) {
        self.up.store(false, Ordering::SeqCst);
        self.cut_tx.send_modify(|g| *g += 1);
    }

    pub fn restore(&self) {
        self.up.store(true, Ordering::SeqCst);
    }
}

impl Drop for TcpProxy {
    fn drop(&mut self) {
        self.task.abort();
        self.cut_tx.send_modify(|g| *g += 1);
    }
}

/// What the interposer does with one request.
pub enum Action {
    Forward,
    /// Hold the request this long, then drop the connection without an answer.
    Stall(Duration),
    /// Answer instead of the server.
    Respond {
        status: u16,
        content_type: &'static str,
        body: String,
    },
}

/// Decides per request: (request number from 0, path with query) -> action.
pub type OnRequest = Arc<dyn Fn(u64, &str) -> Action + Send + Sync>;
/// Rewrites a successful JSON answer: (path with query, body).
pub type Rewrite = Arc<dyn Fn(&str, &mut Value) + Send + Sync>;

#[derive(Clone, Default)]
struct Hooks {
    on_request: Option<OnRequest>,
    rewrite: Option<Rewrite>,
}

struct Shared {
    upstream: String,
    http: reqwest::Client,
    hooks: RwLock<Hooks>,
    requests: AtomicU64,
    stalled: AtomicU64,
    answered: AtomicU64,
}

pub struct HttpInterposer {
    addr: SocketAddr,
    shared: Arc<Shared>,
    task: tokio::task::JoinHandle<()>,
}

impl HttpInterposer {
    /// `upstream`: `http://127.0.0.1:PORT`.
    pub async fn start(upstream: &str) -> HttpInterposer {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        openchoreo_incremental::tls::install_crypto_provider();
        let shared = Arc::new(Shared {
            upstream: upstream.trim_end_matches('/').to_string(),
            http: reqwest::Client::builder().build().unwrap(),
            hooks: RwLock::new(Hooks::default()),
            requests: AtomicU64::new(0),
            stalled: AtomicU64::new(0),
            answered: AtomicU64::new(0),
        });
        let sh = shared.clone();
        let task = tokio::spawn(async move {
            loop {
                let Ok((sock, _)) = listener.accept().await else { continue };
                tokio::spawn(serve(sock, sh.clone()));
            }
        });
        HttpInterposer { addr, shared, task }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn on_request(&self, f: Option<OnRequest>) {
        self.shared.hooks.write().unwrap().on_request = f;
    }

    pub fn rewrite(&self, f: Option<Rewrite>) {
        self.shared.hooks.write().unwrap().rewrite = f;
    }

    /// Requests received (stalled and answered ones included).
    pub fn requests(&self) -> u64 {
        self.shared.requests.load(Ordering::SeqCst)
    }

    /// Requests held until the client gave up.
    pub fn stalled(&self) -> u64 {
        self.shared.stalled.load(Ordering::SeqCst)
    }

    /// Requests the interposer answered itself.
    pub fn answered(&self) -> u64 {
        self.shared.answered.load(Ordering::SeqCst)
    }
}

impl Drop for HttpInterposer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// A deterministic share of requests (by request number and seed) stalled for `stall`.
pub fn stall_share(seed: u64, share: f64, stall: Duration) -> OnRequest {
    Arc::new(move |n, _path| if unit(seed, n) < share { Action::Stall(stall) } else { Action::Forward })
}

/// SplitMix64 of (seed, n) as a number in [0, 1).
pub fn unit(seed: u64, n: u64) -> f64 {
    let mut z = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ n.wrapping_add(0x632B_E59B_D9B4_E019);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^= z >> 31;
    (z >> 11) as f64 / (1u64 << 53) as f64
}

async fn serve(mut sock: TcpStream, sh: Arc<Shared>) {
    let mut head = Vec::new();
    let mut buf = [0u8; 4096];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        match sock.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => head.extend_from_slice(&buf[..n]),
        }
        if head.len() > 64 * 1024 {
            return;
        }
    }
    let head = String::from_utf8_lossy(&head).to_string();
    let mut lines = head.split("\r\n");
    let Some(target) = lines.next().and_then(|l| l.split(' ').nth(1)).map(str::to_string) else { return };
    let auth = lines
        .filter_map(|l| l.split_once(':'))
        .find(|(k, _)| k.trim().eq_ignore_ascii_case("authorization"))
        .map(|(_, v)| v.trim().to_string());
    let n = sh.requests.fetch_add(1, Ordering::SeqCst);
    let hooks = sh.hooks.read().unwrap().clone();
    match hooks.on_request.as_ref().map(|f| f(n, &target)).unwrap_or(Action::Forward) {
        Action::Forward => {}
        Action::Stall(d) => {
            sh.stalled.fetch_add(1, Ordering::SeqCst);
            tokio::time::sleep(d).await;
            return;
        }
        Action::Respond { status, content_type, body } => {
            sh.answered.fetch_add(1, Ordering::SeqCst);
            let _ = write_response(&mut sock, status, content_type, None, body.as_bytes()).await;
            return;
        }
    }
    let mut req = sh.http.get(format!("{}{}", sh.upstream, target));
    if let Some(a) = auth {
        req = req.header("authorization", a);
    }
    // An upstream that cuts the connection (before or during the body) cuts ours too.
    let Ok(resp) = req.send().await else { return };
    let status = resp.status().as_u16();
    let header = |name: &str| resp.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_string);
    let content_type = header("content-type").unwrap_or_else(|| "application/octet-stream".into());
    let retry_after = header("retry-after");
    let Ok(body) = resp.bytes().await else { return };
    let mut body = body.to_vec();
    if status == 200 {
        if let Some(rewrite) = &hooks.rewrite {
            if let Ok(mut v) = serde_json::from_slice::<Value>(&body) {
                rewrite(&target, &mut v);
                body = serde_json::to_vec(&v).unwrap();
            }
        }
    }
    let _ = write_response(&mut sock, status, &content_type, retry_after.as_deref(), &body).await;
}

async fn write_response(
    sock: &mut TcpStream,
    status: u16,
    content_type: &str,
    retry_after: Option<&str>,
    body: &[u8],
) -> std::io::Result<()> {
    let reason = reqwest::StatusCode::from_u16(status).ok().and_then(|s| s.canonical_reason()).unwrap_or("Unknown");
    let mut head = format!(
        "HTTP/1.1 {status} {reason}\r\ncontent-type: {content_type}\r\ncontent-length: {}\r\nconnection: close\r\n",
        body.len()
    );
    if let Some(r) = retry_after {
        head.push_str(&format!("retry-after: {r}\r\n"));
    }
    head.push_str("\r\n");
    sock.write_all(head.as_bytes()).await?;
    sock.write_all(body).await?;
    sock.shutdown().await
}

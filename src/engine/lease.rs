//! The burst lease seen from the engine: who this process is as its holder, the
//! heartbeat that renews it while a burst runs, and how the status reads it.
//!
//! Timing (all from `EngineConfig`): a lease lives `leaseTtl` past its last renewal; a
//! running burst renews it every `leaseTtl / 3` for at most `burstLength` + 60 s, and
//! every page commit renews it too. So a holder that stops (SIGKILL, a lost host) frees
//! the provider at most `leaseTtl` after it stopped, and the next tick of any replica
//! (every `burstInterval`) goes on: within `burstInterval + leaseTtl`.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::store::{now_ms, LeaseRow, Store};

/// This engine's name as a lease holder: host, process id, the engine's start and a
/// count within the process, so an operator can tell which replica holds a lease and two
/// engines never share one.
pub(super) fn holder_name() -> String {
    static OPENED: AtomicU64 = AtomicU64::new(0);
    let n = OPENED.fetch_add(1, Ordering::Relaxed);
    format!("{}:{}:{:x}.{n}", host_name(), std::process::id(), now_ms())
}

/// The host's name (a Kubernetes pod's name), or `unknown-host`.
fn host_name() -> String {
    let from_env = ["HOSTNAME", "COMPUTERNAME"].iter().find_map(|k| std::env::var(k).ok());
    from_env
        .or_else(|| std::fs::read_to_string("/proc/sys/kernel/hostname").ok())
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "unknown-host".to_string())
}

/// Renews a burst's lease on its own task until dropped, or until the burst has held it
/// for `hold_limit`: past that, only the burst's own commits keep it (a burst stuck on a
/// catalog that never answers must not keep the provider forever).
pub(super) struct Heartbeat {
    task: tokio::task::JoinHandle<()>,
}

impl Heartbeat {
    pub fn start(store: Store, provider: String, owner: String, ttl: Duration, every: Duration, hold_limit: Duration) -> Heartbeat {
        let until = Instant::now() + hold_limit;
        let task = tokio::spawn(async move {
            loop {
                tokio::time::sleep(every).await;
                if Instant::now() >= until {
                    tracing::warn!(
                        provider = %provider,
                        hold_limit_secs = hold_limit.as_secs(),
                        "the burst is still running past burstLength + 60 s; its lease is now renewed only by its own page commits"
                    );
                    return;
                }
                match store.renew_lease(&provider, (&owner, ttl)).await {
                    Ok(()) => {}
                    // Someone else's now (reset, cancel, or it expired and was taken):
                    // the burst finds out at its next fenced write.
                    Err(e) if e.code == crate::ErrorCode::Locked => return,
                    // A database hiccup: the next beat tries again; the lease lasts
                    // three beats.
                    Err(e) => tracing::warn!(provider = %provider, error = %e, "could not renew the burst lease"),
                }
            }
        });
        Heartbeat { task }
    }
}

impl Drop for Heartbeat {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Whether a lease's holder is alive, as far as the database shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Liveness {
    /// Renewed on time.
    Held,
    /// Not renewed for more than two heartbeats: its holder has most likely stopped;
    /// it expires at `until`.
    Overdue,
    /// Past `until`: free for anyone to take.
    Expired,
}

impl Liveness {
    pub fn of(lease: &LeaseRow, now: i64) -> Liveness {
        if lease.until <= now {
            Liveness::Expired
        } else if lease.ttl_ms > 0 && now - lease.renewed_at() > lease.ttl_ms * 2 / 3 {
            Liveness::Overdue
        } else {
            Liveness::Held
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Liveness::Held => "held",
            Liveness::Overdue => "overdue",
            Liveness::Expired => "expired",
        }
    }
}

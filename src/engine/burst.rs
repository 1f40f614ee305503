//! One burst: pages until `burstLength` has passed or the walk is done, then the end of
//! a cycle (staleness diff, guards, removals) when the walk finished.
//!
//! The order inside a page is what makes the engine safe: fetch, hand the page to the
//! sink, and only then commit its cursor and entity refs (with the pages gathered
//! while the previous commit ran: see [`GROUP_PAGES`]). A crash in between repeats
//! those pages; it never skips one.

use std::sync::Arc;
use std::time::Instant;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::events::fence::Fence;
use super::{action, Engine, Mutation, Sink, TickReport};
use crate::engine::status::{CompletedCycle, CycleProgress, RejectedRemoval};
use crate::error::{Error, ErrorCode, Result};
use crate::store::{now_ms, PageCommit, ProviderRow, Store};
use crate::client::{Client, Page};
use crate::translate::TranslateContext;
use crate::cursor::{Phase, WalkCursor};
use crate::walk::{Fetched, PageHead, PageRequest, PreparedComponents, Translated, Walker};

/// Refs removed per mutation at the end of a cycle.
const REMOVAL_CHUNK: i64 = 500;

/// Pages read ahead of the page being processed, at most. Components pages are looked up
/// and translated while they wait, so more of them overlap the database's latency (100k
/// components: with 2, 6.0-6.2 s on SQLite, 7.5-8.0 s on PostgreSQL in oc-ingest; with
/// 4, 5.5-5.8 s and 6.7-7.4 s; 6 gained nothing more).
const READ_AHEAD_PAGES: usize = 4;

/// Pages committed together, at most. A group's commit starts at the first page boundary
/// after the one before it is done, so groups only grow while the database is the slower
/// side; then one transaction records up to this many pages, instead of one each.
pub(super) const GROUP_PAGES: usize = 8;

/// A group closes once it holds this many staged workloads (its last page may take it
/// past them): their API entities are the bulk of a group's memory. With 8 pages of
/// them, the commit's copies added about 13 MiB to the peak RSS at 100k components on
/// PostgreSQL; with 200, about 4 MiB, for most of the gain.
const GROUP_STAGED_WORKLOADS: usize = 200;

/// A page being read on another task; aborted when dropped unused. Once its head is in,
/// it starts reading the page after it (the same list's next page), so the list is read
/// at the pace of the API while earlier pages are processed, never more than
/// [`READ_AHEAD_PAGES`] ahead.
struct ReadAhead {
    request: PageRequest,
    /// Where the page is in the walk (with its namespace's name).
    position: WalkCursor,
    /// The page's head, sent as soon as the page is read (nothing when reading failed).
    head: Option<tokio::sync::oneshot::Receiver<PageHead>>,
    /// The read-ahead of the page after it, when one was started.
    next: Option<tokio::sync::oneshot::Receiver<ReadAhead>>,
    handle: tokio::task::JoinHandle<(Result<Page>, Option<Translated>)>,
    /// A read-ahead slot, held until the consumer takes the page.
    _slot: tokio::sync::OwnedSemaphorePermit,
}

/// What a read-ahead needs besides its request.
#[derive(Clone)]
struct Chain {
    client: Client,
    store: Store,
    provider: String,
    /// Workloads and components pages are translated on the read-ahead task, while the
    /// burst hands the page before to the catalog.
    ctx: Arc<TranslateContext>,
    /// Components pages are prepared (parsed and looked up) on the read-ahead task.
    prepare: Option<Prepare>,
    deadline: Instant,
    slots: Arc<Semaphore>,
    /// See [`Prepare::staged`].
    staged: tokio::sync::watch::Receiver<i64>,
}

impl Chain {
    /// The chain for reading the page at `position` (a components page is prepared too).
    fn for_position(&self, position: &WalkCursor) -> Chain {
        let prepare = (position.phase == Phase::COMPONENTS).then(|| Prepare {
            namespace: position.namespace.clone().unwrap_or_default(),
            ns_index: position.ns_index,
            staged: self.staged.clone(),
        });
        Chain { prepare, ..self.clone() }
    }

    /// The walk's position after the page at `position` (read from `path`), and its
    /// request: the same list's next page, the namespace's next list, or after its last
    /// components page the next namespace's first page, its name read from the cycle's
    /// order (committed in the namespaces phase). `None` where the burst itself decides.
    async fn position_after(&self, position: &WalkCursor, path: &str, head: &PageHead) -> Option<(PageRequest, WalkCursor)> {
        if let Some(next) = position.position_after(path, head) {
            return Some(next);
        }
        // Only a namespace's last list hands over to what follows it; the namespaces list
        // and the end of the walk are the burst's to decide.
        if head.next_cursor.is_some() || !position.phase.is_namespaced() || position.following_list().is_some() {
            return None;
        }
        let mut next = position.next_namespace();
        if next.phase == Phase::DONE {
            return None;
        }
        if next.needs_namespace() {
            // A failed look-up is the burst's to report, when it gets there.
            next.namespace = Some(self.store.cycle_namespace(&self.provider, next.ns_index).await.ok()??);
        }
        Some((next.request()?, next))
    }
}

/// What a read-ahead components page needs to be prepared as well.
#[derive(Clone)]
struct Prepare {
    namespace: String,
    ns_index: i64,
    /// The latest namespace (walk index) whose projects and workloads are committed: a
    /// components page is looked up only once its namespace's staging is complete.
    staged: tokio::sync::watch::Receiver<i64>,
}

impl ReadAhead {
    /// Starts reading the page at `position` (requested by `request`).
    fn start(chain: Chain, request: PageRequest, position: WalkCursor, slot: OwnedSemaphorePermit) -> ReadAhead {
        let (path, cursor) = (request.path.clone(), request.cursor.clone());
        let at = position.clone();
        let (head_tx, head_rx) = tokio::sync::oneshot::channel();
        let (next_tx, next_rx) = tokio::sync::oneshot::channel();
        let handle = tokio::spawn(async move {
            let page = chain.client.list(&path, cursor.as_deref()).await;
            if let Ok(page) = &page {
                let head = PageHead { next_cursor: page.next_cursor.clone(), items: page.items.len() };
                let _ = head_tx.send(head.clone());
                // The walk's next page, under the rule the burst applies: only when the
                // burst will go on to it anyway, so the requests stay the minimum.
                let go_on = Instant::now() < chain.deadline || !position.may_pause_after(head.items);
                let next = if go_on { chain.position_after(&position, &path, &head).await } else { None };
                if let Some((request, position)) = next {
                    let chain = chain.for_position(&position);
                    tokio::spawn(async move {
                        let Ok(slot) = chain.slots.clone().acquire_owned().await else { return };
                        // Nobody waits for it any more (the burst ended or moved on).
                        if !next_tx.is_closed() {
                            let _ = next_tx.send(ReadAhead::start(chain, request, position, slot));
                        }
                    });
                    // Let the next page's request go out before this page is translated: a
                    // task just spawned waits in this worker's LIFO slot, where the other
                    // worker cannot steal it, until this task yields.
                    tokio::task::yield_now().await;
                }
            }
            let walker = Walker { client: &chain.client, store: &chain.store, ctx: &chain.ctx, provider: &chain.provider };
            match (page, chain.prepare) {
                (Ok(mut page), Some(mut p)) => {
                    let items = std::mem::take(&mut page.items);
                    if p.staged.wait_for(|&i| i >= p.ns_index).await.is_err() {
                        // The burst is over; nobody will take this page.
                        return (Err(Error::new(ErrorCode::Transient, "the burst ended".to_string())), None);
                    }
                    match PreparedComponents::prepare(&chain.store, &chain.provider, &p.namespace, items).await {
                        Ok(prepared) => (Ok(page), Some(walker.translate_components(&p.namespace, prepared))),
                        Err(e) => (Err(e), None),
                    }
                }
                (Ok(mut page), None) if position.phase == Phase::WORKLOADS && position.namespace.is_some() => {
                    let items = std::mem::take(&mut page.items);
                    let ns = position.namespace.as_deref().unwrap_or_default();
                    (Ok(page), Some(walker.translate_workloads(ns, items)))
                }
                (page, _) => (page, None),
            }
        });
        ReadAhead { request, position: at, head: Some(head_rx), next: Some(next_rx), handle, _slot: slot }
    }

    /// Whether this is the page at `walk`. A new namespace's first page is known by its
    /// place in the cycle's order: `walk` does not have the name yet, the read-ahead does.
    fn is_at(&self, walk: &WalkCursor) -> bool {
        match walk.request() {
            Some(request) => request == self.request,
            None => {
                walk.needs_namespace()
                    && walk.cursor.is_none()
                    && self.position.phase == walk.phase
                    && self.position.cursor.is_none()
                    && self.position.ns_index == walk.ns_index
                    && self.position.namespace.is_some()
            }
        }
    }

    /// The page's head, once it is read; `None` when reading it failed.
    async fn head(&mut self) -> Option<PageHead> {
        self.head.take()?.await.ok()
    }

    async fn finish(mut self, cur: WalkCursor) -> Fetched {
        let (page, translated) = match (&mut self.handle).await {
            Ok(done) => done,
            Err(e) => {
                (Err(Error::new(ErrorCode::Transient, format!("GET {}: the read-ahead task failed: {e}", self.request.path))), None)
            }
        };
        Fetched::new(cur, self.request.clone(), page, translated)
    }
}

/// The read-ahead of the next page: started, or about to be (waiting for a slot).
// One per burst at a time: boxing the larger variant would buy nothing.
#[allow(clippy::large_enum_variant)]
enum Ahead {
    Started(ReadAhead),
    Coming(tokio::sync::oneshot::Receiver<ReadAhead>),
}

impl Ahead {
    /// The read-ahead, once started; `None` when it will not be.
    async fn started(self) -> Option<ReadAhead> {
        match self {
            Ahead::Started(read) => Some(read),
            Ahead::Coming(rx) => rx.await.ok(),
        }
    }
}

impl Drop for ReadAhead {
    fn drop(&mut self) {
        self.handle.abort();
    }
}

/// Pages applied to the catalog whose commit has not started: they commit as one group.
struct OpenGroup {
    commit: PageCommit,
    /// The walk position and progress before its first page.
    before: (Option<WalkCursor>, CycleProgress),
    pages: usize,
}

/// A group's commit on its own task.
struct PendingCommit {
    handle: tokio::task::JoinHandle<Result<()>>,
    /// The walk position and progress before the group's first page.
    before: (Option<WalkCursor>, CycleProgress),
    /// Whether it writes what components pages read (see [`PageCommit::stages`]).
    stages: bool,
}

impl PendingCommit {
    /// Commits `group` with `row`, the position after its last page.
    fn start(engine: &Engine, row: &ProviderRow, group: OpenGroup) -> Self {
        let store = engine.store.clone();
        let row = row.clone();
        let (owner, ttl) = (engine.lease_owner.clone(), engine.config.lease_ttl);
        let stages = group.commit.stages();
        let commit = group.commit;
        let handle = tokio::spawn(async move { store.commit_page(&row, &commit, (&owner, ttl)).await });
        PendingCommit { handle, before: group.before, stages }
    }
}

pub(super) struct Burst<'e> {
    engine: &'e Engine,
    row: ProviderRow,
    started: Instant,
    /// The cycle's bursting time before this burst began.
    millis_before: i64,
    report: TickReport,
    /// Applied pages not yet committing, and the commit running (at most one, so
    /// commits stay in page order): together at most [`super::MAX_UNCOMMITTED_PAGES`].
    open: Option<OpenGroup>,
    pending: Option<PendingCommit>,
}

impl<'e> Burst<'e> {
    pub fn new(engine: &'e Engine, row: ProviderRow) -> Self {
        let millis_before = row.progress.burst_millis;
        Burst {
            engine,
            row,
            started: Instant::now(),
            millis_before,
            report: TickReport { action: "burst".into(), ..Default::default() },
            open: None,
            pending: None,
        }
    }

    fn lease(&self) -> (&'e str, std::time::Duration) {
        (self.engine.lease_owner.as_str(), self.engine.config.lease_ttl)
    }

    pub async fn run<S: Sink>(mut self, sink: &S) -> Result<TickReport> {
        let config = &self.engine.config;
        let now = now_ms();
        if self.row.walk.is_none() {
            self.row.cycle += 1;
            self.row.walk = Some(WalkCursor { max_pages_per_list: Some(config.max_pages_per_list), ..Default::default() });
            self.row.progress = CycleProgress { phase: Phase::NAMESPACES.as_str().into(), started_at: now, ..Default::default() };
            self.millis_before = 0;
            self.row.status = action::BURSTING.into();
            self.row.status_since = now;
            self.engine.store.start_cycle(&self.row, self.lease()).await?;
            tracing::info!(provider = %self.row.name, cycle = self.row.cycle, "starting a new ingestion cycle");
        } else {
            if self.engine.store.staging_lost(&self.row) {
                tracing::warn!(
                    provider = %self.row.name,
                    namespace = self.row.walk.as_ref().and_then(|w| w.namespace.as_deref()).unwrap_or_default(),
                    "the namespace's staged workloads were held in memory by a process that stopped (or a burst that failed); walking its workloads again"
                );
                let lease = self.lease();
                self.engine.store.rewind_lost_staging(&mut self.row, lease).await?;
            }
            self.row.status = action::BURSTING.into();
            self.row.status_since = now;
            self.save().await?;
        }
        self.row.progress.bursts += 1;
        let deadline = self.started + config.burst_length;

        let engine = self.engine;
        let walker = Walker {
            client: &engine.client,
            store: &engine.store,
            ctx: &engine.ctx,
            provider: &engine.config.provider_name,
        };
        // The next pages are requested as soon as the page before tells where they are,
        // and read (workloads and components pages: also translated) on other tasks while
        // the current one is applied and committed.
        let (staged, staged_rx) = tokio::sync::watch::channel(-1i64);
        let chain = Chain {
            client: engine.client.clone(),
            store: engine.store.clone(),
            provider: engine.config.provider_name.clone(),
            ctx: Arc::new(engine.ctx.clone()),
            prepare: None,
            deadline,
            slots: Arc::new(Semaphore::new(READ_AHEAD_PAGES)),
            staged: staged_rx,
        };
        let mut ahead: Option<Ahead> = None;
        // Change events' results newer than this burst's pages stand over them.
        let mut fence = Fence::new(now);
        if let Err(e) = fence.poll(engine).await {
            return self.fail(e).await;
        }
        loop {
            if engine.canceled() {
                // reset and cancel already wrote the provider's state and revoked the
                // lease: these commits then fail on the lease and change nothing. On
                // close the lease is still ours: the pages the catalog took are recorded.
                let _ = self.commit_all().await;
                return self.stop().await;
            }
            let walk = self.row.walk.clone().expect("a cycle is in progress");
            if walk.phase == Phase::DONE {
                if let Err(e) = self.commit_all().await {
                    return self.fail(e).await;
                }
                return self.finish_cycle(sink).await;
            }
            // A components page reads what the projects and workloads pages staged.
            if walk.phase == Phase::COMPONENTS {
                if self.open.as_ref().is_some_and(|g| g.commit.stages()) {
                    if let Err(e) = self.flush().await {
                        return self.fail(e).await;
                    }
                }
                if self.pending.as_ref().is_some_and(|p| p.stages) {
                    if let Err(e) = self.settle().await {
                        return self.fail(e).await;
                    }
                }
                staged.send_replace(walk.ns_index);
            }
            let read = match ahead.take() {
                Some(a) => a.started().await,
                None => None,
            };
            let fetched = match read {
                Some(mut read) if read.is_at(&walk) => {
                    let chained = read.next.take();
                    // The walk's next page is chained by the read-ahead itself.
                    if read.head().await.is_some() {
                        ahead = chained.map(Ahead::Coming);
                    }
                    let mut walk = walk.clone();
                    walk.namespace = walk.namespace.or_else(|| read.position.namespace.clone());
                    read.finish(walk).await
                }
                other => {
                    // A read-ahead for another position gives its slots back first.
                    drop(other);
                    // This read may need the namespaces that uncommitted pages stage.
                    if let Err(e) = self.commit_all().await {
                        return self.fail(e).await;
                    }
                    let fetched = match walker.fetch(&walk).await {
                        Ok(f) => f,
                        Err(e) => return self.fail(e).await,
                    };
                    // `fetched.position()`, not `walk`: it knows a new namespace's name.
                    let position = fetched.position();
                    if let (Some(head), Some(request)) = (fetched.head(), position.request()) {
                        ahead = self.read_ahead(&chain, position, &request.path, &head).await.map(Ahead::Started);
                    }
                    fetched
                }
            };
            let step = match walker.process(fetched).await {
                Ok(step) => step,
                Err(e) => return self.commit_then_fail(e).await,
            };

            // The position before this page: a failed apply or commit resumes from here.
            let before = (self.row.walk.clone(), self.row.progress.clone());
            let count = step.entities.len() as i64;
            let p = &mut self.row.progress;
            p.pages += step.fetched as i64;
            p.entities += count;
            p.requests += step.requests as i64;
            p.item_errors += step.commit.item_errors.len() as i64;
            if step.next.list_restarts > walk.list_restarts {
                p.cursor_restarts += 1;
            }
            p.phase = step.next.phase.as_str().into();
            let next = step.next.clone();
            let may_pause = next.may_pause();

            let mut step = step;
            let page_refs = step.commit.seen_refs.clone();
            let used = match fence.substitute(engine, &mut step.entities, &mut step.commit.seen_refs).await {
                Ok(used) => used,
                Err(e) => {
                    (self.row.walk, self.row.progress) = before;
                    return self.commit_then_fail(e).await;
                }
            };
            if !step.entities.is_empty() {
                let added = std::mem::take(&mut step.entities);
                let mutation = Mutation { added, removed: vec![], location_key: engine.ctx.location_key.clone() };
                if let Err(msg) = sink.apply(mutation).await {
                    let e = Error::new(ErrorCode::Sink, format!("the catalog did not accept the page of GET {}: {msg}", step.path));
                    // Nothing of this page is recorded: the next burst repeats it. The
                    // pages before it did reach the catalog: they are committed first.
                    (self.row.walk, self.row.progress) = before;
                    return self.commit_then_fail(e).await;
                }
            }
            // Events that finished while the page was in flight are applied again over it.
            if let Err(e) = fence.repair(engine, sink, &page_refs, &used, &mut step.commit.seen_refs).await {
                (self.row.walk, self.row.progress) = before;
                return self.commit_then_fail(e).await;
            }
            self.row.walk = Some(next.clone());
            self.account_time();
            let ends_group = step.commit.drop_namespace_staging.is_some();
            match &mut self.open {
                Some(group) => {
                    group.commit.append(step.commit);
                    group.pages += 1;
                }
                None => self.open = Some(OpenGroup { commit: step.commit, before, pages: 1 }),
            }
            self.report.pages += step.fetched as i64;
            if step.fetched {
                self.report.page_fetch_millis.push(step.fetch_millis);
            }
            self.report.entities += count;
            if let Some(e) = step.then_fail {
                return self.commit_then_fail(e).await;
            }
            // The group commits once the previous commit is done (or it is full, or a
            // namespace ended), checked at each page's end: while commits take longer
            // than pages, pages gather into fewer, larger transactions.
            let group_full = self
                .open
                .as_ref()
                .is_some_and(|g| g.pages >= GROUP_PAGES || g.commit.workloads.len() >= GROUP_STAGED_WORKLOADS);
            if ends_group || group_full || self.pending.as_ref().is_none_or(|p| p.handle.is_finished()) {
                if let Err(e) = self.flush().await {
                    return self.fail(e).await;
                }
            }
            let done = next.phase == Phase::DONE;
            if !done && may_pause && Instant::now() >= deadline {
                // A page already requested is processed even past the deadline: dropping
                // it would cost a request. (One for another position, where the page did
                // not go where its cursor said, is dropped.)
                ahead = match ahead.take() {
                    Some(a) => a.started().await.filter(|read| next.request().as_ref() == Some(&read.request)).map(Ahead::Started),
                    None => None,
                };
            }
            if !done && may_pause && ahead.is_none() && Instant::now() >= deadline {
                if let Err(e) = self.commit_all().await {
                    return self.fail(e).await;
                }
                return self.pause().await;
            }
        }
    }

    /// Starts reading the page after the one at `walk` (read from `path`), when its
    /// head names it and the burst will go on to it anyway (so the requests stay the
    /// minimum). A components page is also parsed and looked up there, once its
    /// namespace's staging is committed.
    async fn read_ahead(&self, chain: &Chain, walk: &WalkCursor, path: &str, head: &PageHead) -> Option<ReadAhead> {
        if Instant::now() >= chain.deadline && walk.may_pause_after(head.items) {
            return None;
        }
        let (request, position) = chain.position_after(walk, path, head).await?;
        let slot = chain.slots.clone().acquire_owned().await.ok()?;
        Some(ReadAhead::start(chain.for_position(&position), request, position, slot))
    }

    /// Waits for the running commit; when it failed, the walk goes back to the position
    /// before its group and the open group is dropped, so the next burst repeats those
    /// pages instead of skipping them.
    async fn settle(&mut self) -> Result<()> {
        let Some(pending) = self.pending.take() else { return Ok(()) };
        let result = match pending.handle.await {
            Ok(result) => result,
            Err(e) => Err(Error::new(ErrorCode::Database, format!("the page commit task failed: {e}"))),
        };
        if result.is_err() {
            (self.row.walk, self.row.progress) = pending.before;
            self.open = None;
        }
        result
    }

    /// Starts committing the open group, once the running commit is done. The provider
    /// row written with it is the current one: the position after the group's last page.
    async fn flush(&mut self) -> Result<()> {
        self.settle().await?;
        if let Some(group) = self.open.take() {
            self.pending = Some(PendingCommit::start(self.engine, &self.row, group));
        }
        Ok(())
    }

    /// Commits every page applied so far and waits for it.
    async fn commit_all(&mut self) -> Result<()> {
        self.flush().await?;
        self.settle().await
    }

    /// Fails the burst with `e` once the applied pages are committed (or with the
    /// commit's own error, when that failed).
    async fn commit_then_fail(mut self, e: Error) -> Result<TickReport> {
        match self.commit_all().await {
            Ok(()) => self.fail(e).await,
            Err(commit_error) => self.fail(commit_error).await,
        }
    }

    /// Updates the cycle's bursting time and rate.
    fn account_time(&mut self) {
        let p = &mut self.row.progress;
        p.burst_millis = self.millis_before + self.started.elapsed().as_millis() as i64;
        p.entities_per_second = if p.burst_millis > 0 { p.entities as f64 * 1000.0 / p.burst_millis as f64 } else { 0.0 };
    }

    async fn save(&self) -> Result<()> {
        self.engine.store.save_provider(&self.row, Some(self.lease())).await
    }

    /// Stopped by close, reset or cancel. On close the cycle goes on at the next tick of
    /// any replica, and the status must not say `bursting` meanwhile; after reset and
    /// cancel (which revoked the lease) the write fails on the lease and changes nothing.
    async fn stop(mut self) -> Result<TickReport> {
        let now = now_ms();
        self.row.status = action::INTERSTITIAL.into();
        self.row.status_since = now;
        self.row.next_action_at = now;
        let _ = self.save().await;
        self.report.action = "canceled".into();
        Ok(self.report)
    }

    /// The burst's time is up: wait `burstInterval`, then continue the cycle.
    async fn pause(mut self) -> Result<TickReport> {
        let now = now_ms();
        self.row.status = action::INTERSTITIAL.into();
        self.row.status_since = now;
        self.row.attempts = 0;
        self.row.next_action_at = now + self.engine.config.burst_interval.as_millis() as i64;
        self.save().await?;
        self.report.next_action_at = self.row.next_action_at;
        tracing::info!(
            provider = %self.row.name,
            cycle = self.row.cycle,
            pages = self.report.pages,
            entities = self.report.entities,
            phase = %self.row.progress.phase,
            "burst done; pausing until the next burst"
        );
        Ok(self.report)
    }

    /// A failed burst: back off along the schedule (or as long as `Retry-After` asks),
    /// then resume from the last committed page.
    async fn fail(mut self, e: Error) -> Result<TickReport> {
        if e.code == ErrorCode::Locked {
            tracing::warn!(provider = %self.row.name, "{e}; stopping this burst");
            self.report.action = "locked".into();
            return Ok(self.report);
        }
        let now = now_ms();
        self.row.attempts += 1;
        let wait = match (e.code, e.retry_after) {
            (ErrorCode::RateLimited, Some(after)) => after,
            _ => self.engine.config.backoff_for(self.row.attempts as u32),
        };
        self.row.status = action::BACKING_OFF.into();
        self.row.status_since = now;
        self.row.next_action_at = now + wait.as_millis() as i64;
        self.row.last_error = Some(e.to_string());
        tracing::error!(
            provider = %self.row.name,
            attempts = self.row.attempts,
            retry_in_secs = wait.as_secs(),
            error = %e,
            "burst failed; backing off, then resuming from the last committed page"
        );
        if let Err(save_error) = self.save().await {
            return Err(Error::new(save_error.code, format!("{e}; and recording the failure failed too: {save_error}")));
        }
        self.report.action = "failed".into();
        self.report.error = Some(e.to_string());
        self.report.next_action_at = self.row.next_action_at;
        Ok(self.report)
    }

    /// The walk is complete: remove what the cycle did not see, unless a guard objects.
    async fn finish_cycle<S: Sink>(mut self, sink: &S) -> Result<TickReport> {
        let store = &self.engine.store;
        let config = &self.engine.config;
        let name = self.row.name.clone();
        let cycle = self.row.cycle;
        store.settle_cycle(&name, cycle, self.lease()).await?;
        // Kinds whose lists the server did not serve were not seen, not deleted.
        let unserved = self.row.walk.as_ref().map(|w| w.unserved.clone()).unwrap_or_default();
        let kept_kinds: Vec<String> = unserved
            .iter()
            .filter_map(|list| crate::kinds::by_name(list))
            .flat_map(|i| crate::kinds::LISTS[i].entity_kinds())
            .collect();
        store.keep_stale_kinds(&name, &kept_kinds).await?;
        self.row.progress.unserved_lists = unserved;
        let stale = store.count_stale(&name).await?;
        let owned = store.count_owned(&name).await?;
        // Every ref the cycle saw is owned now; the owned refs it did not see are stale.
        let seen = owned - stale;
        let added = store.count_added(&name, cycle).await?;

        let rejection = if stale == 0 {
            None
        } else if config.reject_empty_source_collections && seen == 0 {
            Some(format!(
                "refused to remove {stale} entities: the source returned no entities this cycle \
                 (rejectEmptySourceCollections is on)"
            ))
        } else {
            config.reject_removals_above_percentage.and_then(|limit| {
                let share = stale as f64 * 100.0 / owned.max(1) as f64;
                (share > limit).then(|| {
                    format!(
                        "refused to remove {stale} of {owned} entities ({share:.1}%): above \
                         rejectRemovalsAbovePercentage = {limit}; they stay and the removal is retried next cycle"
                    )
                })
            })
        };

        let mut removed = 0;
        if let Some(reason) = rejection {
            tracing::warn!(provider = %name, cycle, stale, owned, "{reason}");
            self.row.rejected_removal = Some(RejectedRemoval { cycle, stale, owned, reason: reason.clone(), at: now_ms() });
            self.row.last_error = Some(reason);
        } else {
            // A ref an event found present during this cycle is not removed.
            let mut fence = Fence::new(self.row.progress.started_at);
            loop {
                if self.engine.canceled() {
                    return self.stop().await;
                }
                let stale = store.stale_refs(&name, REMOVAL_CHUNK).await?;
                if stale.is_empty() {
                    break;
                }
                let mut refs = stale.clone();
                if let Err(e) = fence.keep_present(self.engine, &mut refs).await {
                    return self.fail(e).await;
                }
                if refs.is_empty() {
                    // Kept: off the stale list, still owned.
                    store.unlist_stale(&name, &stale).await?;
                    continue;
                }
                let n = refs.len() as i64;
                // Still ours? A reset, cancel or another replica must stop removals before
                // they reach the catalog, not after.
                if let Err(e) = store.renew_lease(&name, self.lease()).await {
                    return self.fail(e).await;
                }
                let mutation = Mutation { added: vec![], removed: refs.clone(), location_key: self.engine.ctx.location_key.clone() };
                if let Err(msg) = sink.apply(mutation).await {
                    return self.fail(Error::new(ErrorCode::Sink, format!("the catalog did not accept a removal: {msg}"))).await;
                }
                // An event that found one of them present meanwhile re-adds it: it stays owned.
                let kept = match fence.repair(self.engine, sink, &refs, &Default::default(), &mut Vec::new()).await {
                    Ok(kept) => kept,
                    Err(e) => return self.fail(e).await,
                };
                let forget: Vec<String> = refs.iter().filter(|r| !kept.contains(r)).cloned().collect();
                // Forget only after the catalog removed them: a crash repeats the removal.
                if let Err(e) = store.forget_refs(&name, &forget, self.lease()).await {
                    return self.fail(e).await;
                }
                store.unlist_stale(&name, &stale).await?;
                removed += n;
            }
            if removed > 0 {
                tracing::info!(provider = %name, cycle, removed, "removed entities that are gone from OpenChoreo");
            }
            if self.row.rejected_removal.take().is_some() {
                self.row.last_error = None;
            }
        }

        let now = now_ms();
        let p = &self.row.progress;
        self.row.last_completed = Some(CompletedCycle {
            cycle,
            started_at: p.started_at,
            finished_at: now,
            duration_millis: now - p.started_at,
            entities: seen,
            added,
            removed,
            requests: p.requests,
            pages: p.pages,
        });
        self.row.walk = None;
        self.row.status = action::RESTING.into();
        self.row.status_since = now;
        self.row.attempts = 0;
        self.row.next_action_at = now + config.rest_length.as_millis() as i64;
        self.save().await?;
        tracing::info!(
            provider = %name,
            cycle,
            entities = seen,
            added,
            removed,
            requests = self.row.progress.requests,
            "ingestion cycle complete; resting"
        );
        self.report.cycle_completed = true;
        self.report.removed = removed;
        self.report.next_action_at = self.row.next_action_at;
        Ok(self.report)
    }
}

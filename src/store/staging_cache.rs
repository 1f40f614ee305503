//! What the namespace being walked has staged, held in memory, so that its components
//! pages read it from here instead of the database, and its workloads are not written to
//! the database at all while they fit. At 100k components on PostgreSQL, writing the
//! staged workloads and reading them back were about half of the server's statement time.
//!
//! Projects' owners are written to the database as before (one row a project) and kept
//! here too. A namespace's workloads are held here only ("resident"): each commit
//! records this store as their holder in the provider row (`staging_holder`), so a burst
//! that starts anywhere else, or after this copy stopped matching, knows they are lost
//! and walks the namespace's workloads again (see `Store::rewind_lost_staging`): a crash
//! repeats pages, it never skips one. The copy answers only while it is known to match
//! the walk:
//! - it starts empty at the first page of a namespace's projects list (when nothing of the
//!   namespace is staged yet) and takes each page's staged rows once its commit succeeded;
//! - it is dropped on anything it cannot follow: a failed commit (its outcome may be
//!   unknown), a new cycle, the namespace's end, or a burst that resumes from a position
//!   other than its last commit's;
//! - past [`CACHE_BYTES`] its workloads are written to the database with the commit that
//!   would outgrow it, and the database answers for the rest of the namespace, so memory
//!   stays bounded whatever a namespace's size.

use std::collections::HashMap;
use std::sync::Mutex;

use super::{PageCommit, ProviderRow, StagedRow, StagedWorkload, STAGED_COLUMNS};
use crate::cursor::WalkCursor;

/// Staged bytes kept per provider, at most. A namespace of 5,000 components, each with one
/// API of a small schema, stages about 4 MB.
pub(super) const CACHE_BYTES: usize = 8 << 20;

/// Bytes counted for a row besides its text (map entry, allocator overhead).
const ROW_OVERHEAD: usize = 96;

pub(super) struct StagingCache {
    /// This store's name as the holder of staged rows: unique to the process and store.
    token: String,
    by_provider: Mutex<HashMap<String, Namespace>>,
}

impl Default for StagingCache {
    fn default() -> Self {
        use std::sync::atomic::{AtomicU64, Ordering};
        static STORES: AtomicU64 = AtomicU64::new(0);
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
        let token = format!("{}-{nanos:x}-{}", std::process::id(), STORES.fetch_add(1, Ordering::Relaxed));
        StagingCache { token, by_provider: Mutex::default() }
    }
}

/// What one namespace has staged so far, and the walk position of its last commit.
struct Namespace {
    name: String,
    cycle: i64,
    walk: Option<WalkCursor>,
    /// Project -> owner annotation (`None`: the project has none).
    owners: HashMap<String, Option<String>>,
    /// Component name -> its workload's row as a look-up returns it (`facts`, U+001F,
    /// `apis`): one allocation a row. Held nowhere else.
    workloads: HashMap<String, Box<str>>,
    bytes: usize,
    /// Past [`CACHE_BYTES`]: its rows went to the database, which answers from then on.
    overflowed: bool,
}

impl Namespace {
    fn new(name: &str, cycle: i64) -> Namespace {
        Namespace {
            name: name.to_string(),
            cycle,
            walk: None,
            owners: HashMap::new(),
            workloads: HashMap::new(),
            bytes: 0,
            overflowed: false,
        }
    }
}

impl Namespace {
    /// Its workloads as rows to write.
    fn rows(&self) -> impl Iterator<Item = StagedRow> + '_ {
        self.workloads.iter().map(|(wkey, text)| {
            let (facts, apis) = text.split_once(STAGED_COLUMNS).unwrap_or((text, ""));
            StagedRow { namespace: self.name.clone(), wkey: wkey.clone(), facts: facts.into(), apis: apis.into() }
        })
    }
}

fn row_bytes(w: &StagedRow) -> usize {
    ROW_OVERHEAD + w.wkey.len() + w.facts.len() + w.apis.len() + 1
}

/// What a commit does with its page's staged workloads.
pub(super) struct Plan {
    /// Written to the database with the commit.
    pub write: Vec<StagedRow>,
    /// Kept in memory only, once the commit succeeded.
    keep: Vec<StagedRow>,
    /// Whether the namespace's resident rows are among `write` (the copy outgrew its size).
    flushes: bool,
    /// The provider row's `staging_holder` after the commit.
    pub holder: Option<String>,
}

impl StagingCache {
    /// Decides where `page`'s staged workloads go: into the copy while the namespace is
    /// resident and fits, else (with the resident ones, when it outgrows the copy) into
    /// the database.
    pub(super) fn plan(&self, row: &ProviderRow, page: &PageCommit, staged: Vec<StagedRow>) -> Plan {
        let all = self.by_provider.lock().unwrap_or_else(|e| e.into_inner());
        let fresh;
        let cache = match &page.begins_namespace {
            Some(ns) => {
                fresh = Namespace::new(ns, row.cycle);
                Some(&fresh)
            }
            None => all.get(&row.name),
        };
        let resident = cache.filter(|c| !c.overflowed && page.drop_namespace_staging.as_ref() != Some(&c.name));
        let Some(cache) = resident else {
            return Plan { write: staged, keep: vec![], flushes: false, holder: None };
        };
        let (keep, write): (Vec<_>, Vec<_>) = staged.into_iter().partition(|w| w.namespace == cache.name);
        let added: usize = keep.iter().map(row_bytes).sum();
        if cache.bytes + added <= CACHE_BYTES {
            let holds = !cache.workloads.is_empty() || !keep.is_empty();
            return Plan { write, keep, flushes: false, holder: holds.then(|| self.token.clone()) };
        }
        // Outgrown: the namespace's rows so far go to the database with this commit (a
        // row the page stages again once: a statement may write a key only once).
        let mut write = write;
        let again: std::collections::HashSet<&str> = keep.iter().map(|w| w.wkey.as_str()).collect();
        write.extend(cache.rows().filter(|w| !again.contains(w.wkey.as_str())));
        write.extend(keep);
        Plan { write, keep: vec![], flushes: true, holder: None }
    }

    /// After `page` committed with `row` as `plan` said.
    pub(super) fn committed(&self, row: &ProviderRow, page: &PageCommit, plan: Plan) {
        let mut all = self.by_provider.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(ns) = &page.begins_namespace {
            all.insert(row.name.clone(), Namespace::new(ns, row.cycle));
        }
        let Some(cache) = all.get_mut(&row.name) else { return };
        if page.drop_namespace_staging.as_ref() == Some(&cache.name) {
            all.remove(&row.name);
            return;
        }
        cache.cycle = row.cycle;
        cache.walk = row.walk.clone();
        if plan.flushes {
            tracing::debug!(provider = %row.name, namespace = %cache.name, "staged rows past the copy's size: written to the database");
            cache.overflowed = true;
            cache.owners = HashMap::new();
            cache.workloads = HashMap::new();
        }
        if cache.overflowed {
            return;
        }
        for (ns, project, owner) in &page.project_owners {
            if *ns == cache.name {
                cache.bytes += ROW_OVERHEAD + project.len() + owner.as_ref().map_or(0, String::len);
                cache.owners.insert(project.clone(), owner.clone());
            }
        }
        for w in plan.keep {
            cache.bytes += row_bytes(&w);
            let mut text = String::with_capacity(w.facts.len() + 1 + w.apis.len());
            text.push_str(&w.facts);
            text.push(STAGED_COLUMNS);
            text.push_str(&w.apis);
            let text = text.into_boxed_str();
            // A component's first staged workload stays (see `PageRows::of`); a row staged
            // again (a list walked again after its cursor expired) counts once.
            let key_bytes = ROW_OVERHEAD + w.wkey.len();
            match cache.workloads.entry(w.wkey) {
                std::collections::hash_map::Entry::Occupied(_) => cache.bytes -= key_bytes + text.len(),
                std::collections::hash_map::Entry::Vacant(slot) => {
                    slot.insert(text);
                }
            }
        }
    }

    /// The workloads held in memory only, as rows to write, with this store's token.
    pub(super) fn resident(&self, provider: &str) -> Option<(String, Vec<StagedRow>)> {
        let all = self.by_provider.lock().unwrap_or_else(|e| e.into_inner());
        let cache = all.get(provider).filter(|c| !c.overflowed && !c.workloads.is_empty())?;
        Some((self.token.clone(), cache.rows().collect()))
    }

    /// Forgets what a provider staged (its staging changed in ways the copy did not see).
    pub(super) fn forget(&self, provider: &str) {
        self.by_provider.lock().unwrap_or_else(|e| e.into_inner()).remove(provider);
    }

    /// A burst starts at `row`: keeps the copy only if its last commit left the walk
    /// there, and tells whether workloads the row says are held in memory are lost (held
    /// by another store, or by a copy that no longer matches).
    pub(super) fn check(&self, row: &ProviderRow) -> bool {
        let mut all = self.by_provider.lock().unwrap_or_else(|e| e.into_inner());
        let matches = all.get(&row.name).is_some_and(|c| c.cycle == row.cycle && c.walk == row.walk);
        if !matches {
            all.remove(&row.name);
        }
        row.staging_holder.as_ref().is_some_and(|holder| !(matches && *holder == self.token))
    }

    /// Like [`super::Store::staged_workloads`], when the copy can answer for `namespace`.
    pub(super) fn workloads(
        &self,
        provider: &str,
        namespace: &str,
        components: &[String],
        with_apis: bool,
    ) -> Option<HashMap<String, StagedWorkload>> {
        let all = self.by_provider.lock().unwrap_or_else(|e| e.into_inner());
        let cache = all.get(provider).filter(|c| c.name == namespace && !c.overflowed)?;
        let found = components.iter().filter_map(|c| cache.workloads.get(c)).filter_map(|row| {
            let (facts, apis) = row.split_once(STAGED_COLUMNS)?;
            let w = StagedRow::read(namespace, facts, if with_apis { apis } else { "" })?;
            Some((w.facts.component.clone(), w))
        });
        Some(found.collect())
    }

    /// Like [`super::Store::staged_project_owners`], when the copy can answer for
    /// `namespace`.
    pub(super) fn owners(
        &self,
        provider: &str,
        namespace: &str,
        projects: &[String],
    ) -> Option<HashMap<String, Option<String>>> {
        let all = self.by_provider.lock().unwrap_or_else(|e| e.into_inner());
        let cache = all.get(provider).filter(|c| c.name == namespace && !c.overflowed)?;
        let found = projects.iter().filter_map(|p| Some((p.clone(), cache.owners.get(p)?.clone())));
        Some(found.collect())
    }
}

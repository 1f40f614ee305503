//! A write-through copy, in memory, of what the namespace being walked has staged (its
//! projects' owners and its workloads), so that its components pages read them from
//! memory instead of the database. At 100k components on PostgreSQL the staged look-ups
//! were a third of the server's statement time, and their rows (the API entities) the
//! bulk of what the engine read back.
//!
//! The database stays the truth: every staged row is still committed, and the copy only
//! answers when it is known to equal the database's rows for that namespace:
//! - it starts empty at the first page of a namespace's projects list (when the database
//!   holds nothing staged for the namespace yet) and takes each staged row once its
//!   commit succeeded;
//! - it is dropped on anything it cannot follow: a failed commit (its outcome may be
//!   unknown), a new cycle, the namespace's staging dropped, or a burst that resumes from
//!   a position other than its last commit's (another process, or a failure, moved the
//!   walk in between);
//! - past [`CACHE_BYTES`] it gives up on the namespace, so memory stays bounded whatever a
//!   namespace's size: its look-ups then go to the database, as after a restart.

use std::collections::HashMap;
use std::sync::Mutex;

use super::{PageCommit, ProviderRow, StagedRow, StagedWorkload, STAGED_COLUMNS};

const STAGED_COLUMNS_STR: &str = "\u{1f}";
use crate::walk::WalkCursor;

/// Staged bytes kept per provider, at most. A namespace of 5,000 components, each with one
/// API of a small schema, stages about 3.5 MB.
pub(super) const CACHE_BYTES: usize = 8 << 20;

/// Bytes counted for a row besides its text (map entry, allocator overhead).
const ROW_OVERHEAD: usize = 96;

#[derive(Default)]
pub(super) struct StagingCache {
    by_provider: Mutex<HashMap<String, Namespace>>,
}

/// What one namespace has staged so far, and the walk position of its last commit.
struct Namespace {
    name: String,
    cycle: i64,
    walk: Option<WalkCursor>,
    /// Project -> owner annotation (`None`: the project has none).
    owners: HashMap<String, Option<String>>,
    /// Component name -> its workload's row as a look-up returns it (`facts`, U+001F,
    /// `apis`): one allocation a row.
    workloads: HashMap<String, Box<str>>,
    bytes: usize,
    /// Past [`CACHE_BYTES`]: nothing is kept and the database answers.
    overflowed: bool,
}

impl StagingCache {
    /// After `page` committed with `row`: take its staged rows (`workloads`: as written).
    pub(super) fn committed(&self, row: &ProviderRow, page: &PageCommit, workloads: Vec<StagedRow>) {
        let mut all = self.by_provider.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(ns) = &page.begins_namespace {
            all.insert(
                row.name.clone(),
                Namespace {
                    name: ns.clone(),
                    cycle: row.cycle,
                    walk: None,
                    owners: HashMap::new(),
                    workloads: HashMap::new(),
                    bytes: 0,
                    overflowed: false,
                },
            );
        }
        let Some(cache) = all.get_mut(&row.name) else { return };
        if page.drop_namespace_staging.as_ref() == Some(&cache.name) {
            all.remove(&row.name);
            return;
        }
        cache.cycle = row.cycle;
        cache.walk = row.walk.clone();
        if cache.overflowed {
            return;
        }
        for (ns, project, owner) in &page.project_owners {
            if *ns == cache.name {
                cache.bytes += ROW_OVERHEAD + project.len() + owner.as_ref().map_or(0, String::len);
                cache.owners.insert(project.clone(), owner.clone());
            }
        }
        for w in workloads {
            if w.namespace == cache.name {
                let text = [&*w.facts, &*w.apis].join(STAGED_COLUMNS_STR).into_boxed_str();
                cache.bytes += ROW_OVERHEAD + w.wkey.len() + text.len();
                cache.workloads.insert(w.wkey, text);
            }
        }
        if cache.bytes > CACHE_BYTES {
            tracing::debug!(provider = %row.name, namespace = %cache.name, "staged rows past the cache's size; the database answers");
            cache.overflowed = true;
            cache.owners = HashMap::new();
            cache.workloads = HashMap::new();
        }
    }

    /// Forgets what a provider staged (its staging changed in ways the copy did not see).
    pub(super) fn forget(&self, provider: &str) {
        self.by_provider.lock().unwrap_or_else(|e| e.into_inner()).remove(provider);
    }

    /// Keeps the copy only if `row` (read at a burst's start) is where its last commit
    /// left the walk.
    pub(super) fn check(&self, row: &ProviderRow) {
        let mut all = self.by_provider.lock().unwrap_or_else(|e| e.into_inner());
        if all.get(&row.name).is_some_and(|c| c.cycle != row.cycle || c.walk != row.walk) {
            all.remove(&row.name);
        }
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
    pub(super) fn owners(&self, provider: &str, namespace: &str, projects: &[String]) -> Option<HashMap<String, String>> {
        let all = self.by_provider.lock().unwrap_or_else(|e| e.into_inner());
        let cache = all.get(provider).filter(|c| c.name == namespace && !c.overflowed)?;
        let found = projects.iter().filter_map(|p| Some((p.clone(), cache.owners.get(p)?.clone()?)));
        Some(found.collect())
    }
}

//! An engine wired to the OpenChoreo stand-in and to an in-memory catalog.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use openchoreo_incremental::kinds::{Role, Scope, TemplateRule, TemplateSource, CLUSTER_NAMESPACE, LISTS};
use mock_openchoreo::{Kind, MockHandle, MockOptions, MockServer};
use openchoreo_incremental::engine::{Engine, Mutation, Sink, TickReport};
use openchoreo_incremental::translate::entity_ref;
use openchoreo_incremental::EngineConfig;
use serde_json::Value;

pub use mock_openchoreo::{Faults, InstallationSpec};

/// A catalog stand-in: applies delta mutations to a map of entities, like Backstage's
/// `applyMutation` does for a provider's entities.
#[derive(Default)]
pub struct CatalogSink {
    pub entities: Mutex<BTreeMap<String, Value>>,
    pub applied: AtomicUsize,
    /// Apply the mutation, then fail the call: the engine sees a crash between the
    /// catalog write and its own commit.
    pub fail_after_apply_at: Mutex<Option<usize>>,
    /// Refuse mutations without applying them.
    pub refuse: std::sync::atomic::AtomicBool,
    /// Every ref ever added, with how many times.
    pub added_counts: Mutex<BTreeMap<String, usize>>,
    pub removals: Mutex<Vec<String>>,
    /// The refs added by the mutation that `fail_after_apply_at` failed.
    pub failed_mutation_refs: Mutex<Vec<String>>,
}

impl Sink for CatalogSink {
    async fn apply(&self, m: Mutation) -> Result<(), String> {
        if self.refuse.load(Ordering::SeqCst) {
            return Err("catalog unavailable".into());
        }
        // The real connection gets JSON; make sure it is the Backstage delta shape.
        let json: Value = serde_json::from_str(&m.to_backstage_json()).unwrap();
        assert_eq!(json["type"], "delta");
        let n = self.applied.fetch_add(1, Ordering::SeqCst) + 1;
        {
            let mut entities = self.entities.lock().unwrap();
            let mut counts = self.added_counts.lock().unwrap();
            for a in json["added"].as_array().unwrap() {
                assert_eq!(a["locationKey"], m.location_key);
                let r = entity_ref(&a["entity"]);
                *counts.entry(r.clone()).or_default() += 1;
                entities.insert(r, a["entity"].clone());
            }
            for r in json["removed"].as_array().unwrap() {
                let r = r["entityRef"].as_str().unwrap().to_string();
                entities.remove(&r);
                self.removals.lock().unwrap().push(r);
            }
        }
        if *self.fail_after_apply_at.lock().unwrap() == Some(n) {
            let mut refs: Vec<String> = json["added"].as_array().unwrap().iter().map(|a| entity_ref(&a["entity"])).collect();
            refs.sort();
            *self.failed_mutation_refs.lock().unwrap() = refs;
            return Err("simulated crash after the catalog applied the page".into());
        }
        Ok(())
    }
}

impl CatalogSink {
    pub fn refs(&self) -> BTreeSet<String> {
        self.entities.lock().unwrap().keys().cloned().collect()
    }
    pub fn get(&self, r: &str) -> Option<Value> {
        self.entities.lock().unwrap().get(r).cloned()
    }
}

pub async fn start_mock(spec: InstallationSpec) -> MockServer {
    MockServer::start(MockOptions { port: 0, token: None, spec, faults: Faults::default() }).await.unwrap()
}

/// Tight timings for tests: bursts end after one page unless told otherwise, no pauses.
pub fn config(mock_url: &str, database_url: &str, provider: &str) -> EngineConfig {
    EngineConfig {
        provider_name: provider.to_string(),
        base_url: mock_url.to_string(),
        database_url: database_url.to_string(),
        chunk_size: 5,
        burst_length: Duration::from_secs(60),
        burst_interval: Duration::ZERO,
        rest_length: Duration::ZERO,
        backoff: vec![Duration::ZERO],
        request_timeout: Duration::from_secs(5),
        ..Default::default()
    }
}

/// Ticks until a cycle completes (bounded), returning the reports.
pub async fn run_cycle(engine: &Engine, sink: &CatalogSink) -> Vec<TickReport> {
    let mut reports = Vec::new();
    for _ in 0..10_000 {
        let r = engine.tick(sink).await.unwrap();
        let done = r.cycle_completed;
        reports.push(r);
        if done {
            return reports;
        }
    }
    panic!("no cycle completed in 10000 ticks; last reports: {:?}", &reports[reports.len() - 3..]);
}

/// The entity refs an OpenChoreo installation must produce, computed from the
/// stand-in's own data, independently of the engine's walk.
pub fn expected_refs(mock: &MockHandle) -> BTreeSet<String> {
    let mut refs = BTreeSet::new();
    for ns in mock.namespaces() {
        refs.insert(format!("domain:default/{ns}"));
        for p in mock.list_names(Kind::Project, &ns).unwrap() {
            refs.insert(format!("system:{ns}/{p}"));
        }
        // Only components whose project is listed are emitted (and their APIs), as the
        // legacy module finds components through their projects.
        let projects = mock.list_names(Kind::Project, &ns).unwrap();
        for c in mock.list_names(Kind::Component, &ns).unwrap() {
            let item = mock.get_item(Kind::Component, &ns, &c).unwrap().unwrap();
            let project = item["spec"]["owner"]["projectName"].as_str().unwrap_or_default();
            if projects.iter().any(|known| known == project) {
                refs.insert(format!("component:{ns}/{c}"));
            }
        }
        for w in mock.list_names(Kind::Workload, &ns).unwrap() {
            let item = mock.get_item(Kind::Workload, &ns, &w).unwrap().unwrap();
            let owner = &item["spec"]["owner"];
            let (p, c) = (owner["projectName"].as_str().unwrap(), owner["componentName"].as_str().unwrap());
            if !projects.iter().any(|known| known == p) {
                continue;
            }
            for (name, ep) in item["spec"]["endpoints"].as_object().into_iter().flatten() {
                if ep["schema"]["content"].as_str().is_some_and(|s| !s.is_empty()) {
                    refs.insert(format!("api:{ns}/{p}-{c}-{name}"));
                }
            }
        }
    }
    // Every platform list: one entity per item, and a Template per type.
    for kind in LISTS {
        let Role::Platform { kind: backstage_kind, template, .. } = kind.role else { continue };
        let Some(mock_kind) = Kind::parse(kind.list) else { panic!("the stand-in does not know {}", kind.list) };
        let namespaces = match kind.scope {
            Scope::Namespaced => mock.namespaces().into_iter().map(|ns| (ns.clone(), ns)).collect(),
            Scope::Cluster => vec![(String::new(), CLUSTER_NAMESPACE.to_string())],
        };
        for (ns, backstage_ns) in namespaces {
            for name in mock.list_names(mock_kind, &ns).unwrap_or_default() {
                refs.insert(format!("{backstage_kind}:{backstage_ns}/{name}"));
                if let Some(t) = template {
                    refs.insert(format!("template:{backstage_ns}/{}{name}", t.name_prefix));
                }
            }
        }
    }
    refs.into_iter().map(|r| r.to_lowercase()).collect()
}

/// The fewest requests a cycle can make at page size `limit`: every served list paged
/// once (an empty list costs one), and one `/schema` per type whose Template needs it.
pub fn min_requests(mock: &MockHandle, limit: usize) -> u64 {
    let mut schemas = 0;
    for kind in LISTS {
        let Role::Platform { template: Some(TemplateRule { source: TemplateSource::Schema { custom, .. }, .. }), .. } = kind.role
        else {
            continue;
        };
        let mock_kind = Kind::parse(kind.list).unwrap();
        let namespaces = match kind.scope {
            Scope::Namespaced => mock.namespaces(),
            Scope::Cluster => vec![String::new()],
        };
        for ns in namespaces {
            for name in mock.list_names(mock_kind, &ns).unwrap_or_default() {
                let item = mock.get_item(mock_kind, &ns, &name).unwrap().unwrap();
                if !custom.is_some_and(|c| (c.applies)(&item)) {
                    schemas += 1;
                }
            }
        }
    }
    mock.summary().min_list_calls_all(limit) + schemas
}

//! Golden test of the whole pipeline: the OpenChoreo list pages in `tests/golden/input/`
//! are served by the OpenChoreo stand-in, one real ingestion cycle (client, walk, state
//! database, translation, delta mutations) runs against it into an in-memory catalog,
//! and the catalog's entities (sorted by entity ref) and the cycle's per-item errors
//! must equal `tests/golden/expected.json`.
//!
//! Nothing here re-implements the walk's linking: owners, `providesApis`/`consumesApis`
//! and the APIs' owners are whatever the product computes.
//!
//! `UPDATE_GOLDEN=1 cargo test --test translate_golden` rewrites the expected file; review
//! the diff against the entity mapping before keeping it.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde_json::{json, Value};

use common::harness::{config, run_cycle, CatalogSink, Faults, InstallationSpec};
use mock_openchoreo::{Kind, MockHandle, MockOptions, MockServer};
use openchoreo_incremental::config::DEFAULT_PROVIDER_NAME;
use openchoreo_incremental::engine::Engine;
use openchoreo_incremental::translate::entity_ref;

/// The legacy provider's name, which is also the engine's default: the golden entities'
/// `managed-by-location` annotations are those a default installation produces.
const PROVIDER: &str = DEFAULT_PROVIDER_NAME;

fn golden_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden")
}

/// The raw items of a golden list page.
fn input_items(file: &str) -> Vec<Value> {
    let path = golden_dir().join("input").join(file);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let page: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    page["items"].as_array().unwrap_or_else(|| panic!("{}: a list page has items", path.display())).clone()
}

/// Serves the golden input from the stand-in, item by item, exactly as written.
fn load_golden(h: &MockHandle) {
    for ns in input_items("namespaces.json") {
        h.put_namespace(ns.clone()).unwrap_or_else(|e| panic!("namespaces.json: {e}: {ns}"));
    }
    for (file, kind) in [("projects.json", Kind::Project), ("workloads.json", Kind::Workload), ("components.json", Kind::Component)] {
        for item in input_items(file) {
            let ns = item["metadata"]["namespace"]
                .as_str()
                .unwrap_or_else(|| panic!("{file}: every item names its metadata.namespace: {item}"))
                .to_string();
            h.put_item(kind, &ns, item.clone()).unwrap_or_else(|e| panic!("{file}: {e}: {item}"));
        }
    }
}

/// A stand-in serving the golden input (plus `edit`'s changes), and an engine that has
/// completed one cycle against it.
struct Pipeline {
    mock: MockServer,
    engine: Engine,
    sink: CatalogSink,
}

impl Pipeline {
    async fn run(edit: impl FnOnce(&MockHandle)) -> Pipeline {
        let opts = MockOptions { port: 0, token: None, spec: InstallationSpec::empty(), faults: Faults::default() };
        let mock = MockServer::start(opts).await.unwrap();
        load_golden(&mock.handle());
        edit(&mock.handle());
        let engine = Engine::open(config(&mock.url(), "sqlite::memory:", PROVIDER)).await.unwrap();
        let sink = CatalogSink::default();
        let pipeline = Pipeline { mock, engine, sink };
        pipeline.cycle().await;
        pipeline
    }

    async fn cycle(&self) {
        let reports = run_cycle(&self.engine, &self.sink).await;
        assert!(reports.iter().all(|r| r.error.is_none()), "a tick failed: {reports:?}");
    }

    /// `{"entities": [catalog, by entity ref], "errors": [{item, message}, sorted]}`.
    async fn output(&self) -> Value {
        let entities: Vec<Value> = self.sink.entities.lock().unwrap().values().cloned().collect();
        let status = self.engine.status().await.unwrap();
        assert_eq!(
            status.item_errors.len() as i64,
            status.item_error_count,
            "the status lists only some of the cycle's item errors"
        );
        let mut errors: Vec<(Option<String>, String)> =
            status.item_errors.into_iter().map(|e| (e.item, e.message)).collect();
        errors.sort();
        let errors: Vec<Value> = errors.into_iter().map(|(item, message)| json!({ "item": item, "message": message })).collect();
        json!({ "entities": entities, "errors": errors })
    }

    async fn close(self) {
        self.engine.close().await;
        self.mock.shutdown().await;
    }
}

async fn golden_output() -> Value {
    let p = Pipeline::run(|_| {}).await;
    let out = p.output().await;
    p.close().await;
    out
}

fn entities(v: &Value) -> &Vec<Value> {
    v["entities"].as_array().expect("entities is an array")
}

#[tokio::test]
async fn golden_entities() {
    let actual = golden_output().await;
    let path = golden_dir().join("expected.json");
    if std::env::var("UPDATE_GOLDEN").is_ok_and(|v| v == "1") {
        std::fs::write(&path, serde_json::to_string_pretty(&actual).unwrap() + "\n").unwrap();
        eprintln!("rewrote {}", path.display());
        return;
    }
    let expected: Value = serde_json::from_str(
        &std::fs::read_to_string(&path).expect("tests/golden/expected.json (UPDATE_GOLDEN=1 writes it)"),
    )
    .unwrap();
    if actual == expected {
        return;
    }
    // Point at the first entity that differs rather than dumping both documents.
    let refs = |v: &Value| -> Vec<String> { entities(v).iter().map(entity_ref).collect() };
    assert_eq!(refs(&actual), refs(&expected), "entity refs differ");
    for (a, e) in entities(&actual).iter().zip(entities(&expected)) {
        assert_eq!(
            a,
            e,
            "{} differs:\nactual:   {}\nexpected: {}",
            entity_ref(a),
            serde_json::to_string_pretty(a).unwrap(),
            serde_json::to_string_pretty(e).unwrap()
        );
    }
    assert_eq!(actual["errors"], expected["errors"], "errors differ");
    assert_eq!(actual, expected);
}

#[tokio::test]
async fn golden_is_stable_across_runs_and_cycles() {
    let p = Pipeline::run(|_| {}).await;
    let first = serde_json::to_string(&p.output().await).unwrap();
    // The same engine's next cycle over unchanged data changes nothing in the catalog.
    p.cycle().await;
    assert_eq!(serde_json::to_string(&p.output().await).unwrap(), first, "the second cycle differs");
    assert!(p.sink.removals.lock().unwrap().is_empty(), "unchanged data must remove nothing");
    p.close().await;
    // A fresh pipeline (new stand-in, new state database) produces the same output.
    let again = serde_json::to_string(&golden_output().await).unwrap();
    assert_eq!(again, first, "a second run differs");
}

#[tokio::test]
async fn every_entity_ref_is_unique_and_relations_resolve() {
    let p = Pipeline::run(|_| {}).await;
    let out = p.output().await;
    let entities = entities(&out);
    let by_ref: BTreeMap<String, &Value> = entities.iter().map(|e| (entity_ref(e), e)).collect();
    assert_eq!(by_ref.len(), entities.len(), "duplicate entity refs");
    // One cycle sends each entity once (APIs are staged, then sent with their component).
    for (r, n) in p.sink.added_counts.lock().unwrap().iter() {
        assert_eq!(*n, 1, "{r} was sent {n} times in one cycle");
    }
    for e in entities.iter().filter(|e| e["kind"] == "Component") {
        let ns = e["metadata"]["namespace"].as_str().unwrap();
        // providesApis / consumesApis point at API entities that exist in the same namespace.
        for key in ["providesApis", "consumesApis"] {
            for api in e["spec"][key].as_array().into_iter().flatten() {
                let r = format!("api:{ns}/{}", api.as_str().unwrap()).to_lowercase();
                assert!(by_ref.contains_key(&r), "{} {key} {r} does not exist", entity_ref(e));
            }
        }
        let system = format!("system:{ns}/{}", e["spec"]["system"].as_str().unwrap()).to_lowercase();
        assert!(by_ref.contains_key(&system), "{system} missing");
    }
    // Every API belongs to an ingested component, provided by it, with its owner.
    let mut apis = 0;
    for api in entities.iter().filter(|e| e["kind"] == "API") {
        apis += 1;
        let ns = api["metadata"]["namespace"].as_str().unwrap();
        let name = api["metadata"]["name"].as_str().unwrap();
        let component = api["metadata"]["annotations"]["openchoreo.io/component"].as_str().unwrap();
        let c = by_ref
            .get(&format!("component:{ns}/{component}").to_lowercase())
            .unwrap_or_else(|| panic!("{} names component {component}, which is not ingested", entity_ref(api)));
        assert!(
            c["spec"]["providesApis"].as_array().into_iter().flatten().any(|p| p == name),
            "{} does not provide {name}",
            entity_ref(c)
        );
        assert_eq!(api["spec"]["owner"], c["spec"]["owner"], "{} has not its component's owner", entity_ref(api));
        assert_eq!(api["spec"]["system"], c["spec"]["system"], "{} is not in its component's system", entity_ref(api));
    }
    assert!(apis > 0, "the golden input has APIs");
    p.close().await;
}

#[tokio::test]
async fn a_broken_item_fails_alone() {
    let golden = golden_output().await;
    let golden_errors: BTreeSet<String> =
        golden["errors"].as_array().unwrap().iter().map(|e| e.to_string()).collect();
    // Items the API could serve but that cannot be read; each is added on its own to the
    // golden input. (An item without `metadata.name` cannot be served by the stand-in.)
    let broken: [(Kind, Value, Option<&str>, &str); 3] = [
        (
            Kind::Component,
            json!({"metadata": {"name": "no-project", "namespace": "acme"}, "spec": {"owner": {}}}),
            Some("no-project"),
            "missing field `projectName`",
        ),
        (
            Kind::Component,
            json!({"metadata": {"name": "no-spec", "namespace": "acme"}}),
            Some("no-spec"),
            "missing field `spec`",
        ),
        (
            Kind::Workload,
            json!({"metadata": {"name": "orphan-workload", "namespace": "acme"}, "spec": {"owner": {"projectName": 7}}}),
            Some("orphan-workload"),
            "invalid workload: invalid type: integer `7`",
        ),
    ];
    for (kind, item, item_name, message) in broken {
        let p = Pipeline::run(|h| h.put_item(kind, "acme", item.clone()).unwrap()).await;
        let out = p.output().await;
        p.close().await;
        assert_eq!(out["entities"], golden["entities"], "{item}: the other entities changed");
        let errors: Vec<&Value> =
            out["errors"].as_array().unwrap().iter().filter(|e| !golden_errors.contains(&e.to_string())).collect();
        assert_eq!(errors.len(), 1, "{item}: expected exactly one new item error, got {errors:?}");
        assert_eq!(errors[0]["item"].as_str(), item_name, "{item}: {errors:?}");
        let got = errors[0]["message"].as_str().unwrap();
        assert!(got.contains(message), "{item}: error {got:?} does not mention {message:?}");
        assert_eq!(
            out["errors"].as_array().unwrap().len(),
            golden_errors.len() + 1,
            "{item}: the golden input's own errors changed"
        );
    }
}

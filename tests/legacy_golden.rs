//! Fidelity against the legacy module's own output: each case of `tests/golden/legacy/`
//! (made by `node tests/golden/legacy/generate.mjs`, which runs the legacy provider
//! against the stand-in) is loaded item by item into an empty stand-in, one real cycle
//! runs, and every entity must deep-equal the legacy one with the same ref.
//!
//! Deliberate differences are listed in `EXCEPTIONS` with the reason; anything else that
//! differs fails the test.

mod common;

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::Value;

use common::harness::{config, run_cycle, start_mock, CatalogSink, InstallationSpec};
use mock_openchoreo::Kind;
use openchoreo_incremental::engine::Engine;
use openchoreo_incremental::translate::entity_ref;

const CASES: &[&str] = &["seed-1", "seed-2", "seed-3", "edge"];

/// `(case, entity ref, why)`: where we deliberately differ. Every listed ref must still differ, so a fixed one is noticed.
const EXCEPTIONS: &[(&str, &str, &str)] = &[
    ("edge", "api:edge-ns/a-project-with-a-really-long-name-a-component-whose-api-names-are-long-websocket-endpoint",
     "a name over 63 characters: Backstage rejects it, we report it as an item error"),
    ("edge", "component:edge-ns/a-component-whose-api-names-are-long", "its providesApis omits the API Backstage would reject"),
    ("edge", "api:edge-ns/proj-b-web--api-main_port", "'web--api' (a doubled separator) is not a valid Backstage name"),
    ("edge", "component:edge-ns/web--api", "'web--api' (a doubled separator) is not a valid Backstage name"),
    ("edge", "component:edge-ns/comp-str-type", "tag 'statefulset-db/extra' (only the first '/' replaced) is rejected by Backstage"),
    ("edge", "observabilityalertsnotificationchannel:edge-ns/bare-channel", "no spec.type: the legacy tags it null, which Backstage rejects"),
    ("edge", "resource:edge-ns/res-bare", "no spec.type: an empty tag and spec.type, which Backstage rejects"),
    ("edge", "template:edge-ns/template-custom-missing",
     "a custom-template placeholder: the TypeScript layer drops it when the URL cannot be read, as the legacy module does"),
];

fn load(case: &str) -> (Vec<(String, Value)>, BTreeMap<String, Value>) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/legacy").join(case);
    let mut inputs = Vec::new();
    for entry in std::fs::read_dir(dir.join("input")).unwrap() {
        let path = entry.unwrap().path();
        let Some(list) = path.file_stem().and_then(|s| s.to_str()).map(String::from) else { continue };
        if path.extension().is_none_or(|e| e != "json") || list == "schemas" {
            continue;
        }
        let items: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        for item in items.as_array().unwrap() {
            inputs.push((list.clone(), item.clone()));
        }
    }
    let expected: Value = serde_json::from_str(&std::fs::read_to_string(dir.join("expected.json")).unwrap()).unwrap();
    let entities = expected["entities"].as_array().unwrap().iter().map(|e| (entity_ref(e), e.clone())).collect();
    (inputs, entities)
}

#[tokio::test]
async fn every_entity_equals_the_legacy_modules() {
    let mut report = Vec::new();
    for case in CASES {
        let (inputs, legacy) = load(case);
        let mock = start_mock(InstallationSpec { namespaces: 0, ..InstallationSpec::small() }).await;
        let h = mock.handle();
        for (list, item) in inputs.iter().filter(|(l, _)| l == "namespaces") {
            h.put_namespace(item.clone()).unwrap_or_else(|e| panic!("{case}/{list}: {e}"));
        }
        for (list, item) in inputs.iter().filter(|(l, _)| l != "namespaces") {
            let kind = Kind::parse(list).unwrap_or_else(|| panic!("{case}: unknown list {list}"));
            let ns = if kind.is_cluster() { "" } else { item["metadata"]["namespace"].as_str().unwrap() };
            h.put_item(kind, ns, item.clone()).unwrap_or_else(|e| panic!("{case}/{list}: {e}"));
        }
        let engine = Engine::open(config(&mock.url(), "sqlite::memory:", "OpenChoreoEntityProvider")).await.unwrap();
        let sink = CatalogSink::default();
        run_cycle(&engine, &sink).await;
        let ours = sink.refs();
        for (r, want) in &legacy {
            // Custom templates are completed by the TypeScript layer (jest covers it).
            if want["metadata"]["annotations"]["backstage.io/managed-by-location"].as_str().is_some_and(|l| l.starts_with("url:")) {
                continue;
            }
            match sink.get(r) {
                None => report.push(format!("{case}: {r}: emitted by the legacy module, not by us")),
                Some(got) if &got != want => report.push(format!("{case}: {r}: differs\n  legacy: {want}\n  ours:   {got}")),
                Some(_) => {}
            }
        }
        for r in &ours {
            if !legacy.contains_key(r) {
                report.push(format!("{case}: {r}: emitted by us, not by the legacy module"));
            }
        }
        engine.close().await;
    }
    let mut unexpected = Vec::new();
    for (case, r, _) in EXCEPTIONS {
        let prefix = format!("{case}: {r}:");
        let before = report.len();
        report.retain(|line| !line.starts_with(&prefix));
        if report.len() == before {
            unexpected.push(format!("{case}: {r}: listed as an exception but equal now: take it off the list"));
        }
    }
    unexpected.extend(report);
    assert!(unexpected.is_empty(), "{} differences:\n{}", unexpected.len(), unexpected.join("\n"));
}

//! Golden test of the translation: OpenChoreo list pages in `tests/golden/input/` become
//! the Backstage entities (and per-item errors) in `tests/golden/expected.json`.
//!
//! The harness links items the way the walk does: workload facts by (project, component),
//! `consumesApis` filtered to endpoints that are APIs, the project's owner annotation.
//!
//! `UPDATE_GOLDEN=1 cargo test --test translate_golden` rewrites the expected file; review
//! the diff against the entity mapping before keeping it.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;
use serde_json::{json, Value};

use openchoreo_incremental::model::{Component, Namespace, Project, Resource, Workload};
use openchoreo_incremental::translate::{
    api_name, component_to_entity, entity_ref, namespace_to_domain, project_to_system, workload_facts,
    workload_to_apis, ComponentLinks, TranslateContext, WorkloadFacts,
};

fn golden_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden")
}

fn ctx() -> TranslateContext {
    TranslateContext {
        location_key: "provider:OpenChoreoEntityProvider".into(),
        default_owner: "group:default/openchoreo-users".into(),
    }
}

/// The items of a list page, each deserialized on its own (a bad item is an error, not a
/// failed page).
fn items<T: DeserializeOwned>(file: &str) -> Vec<Result<T, String>> {
    let text = std::fs::read_to_string(golden_dir().join("input").join(file)).unwrap();
    let page: Value = serde_json::from_str(&text).unwrap();
    page["items"]
        .as_array()
        .expect("a list page has items")
        .iter()
        .map(|item| serde_json::from_value(item.clone()).map_err(|e| format!("{file}: {e}")))
        .collect()
}

fn translate_all() -> Value {
    let ctx = ctx();
    let mut entities = Vec::new();
    let mut errors = Vec::new();
    let mut keep = |r: Result<Value, String>, entities: &mut Vec<Value>| match r {
        Ok(e) => entities.push(e),
        Err(e) => errors.push(e),
    };

    let namespaces: Vec<Result<Namespace, String>> = items("namespaces.json");
    let projects: Vec<Project> = items("projects.json").into_iter().map(Result::unwrap).collect();
    let components: Vec<Component> = items("components.json").into_iter().map(Result::unwrap).collect();
    let workloads: Vec<Workload> = items("workloads.json").into_iter().map(Result::unwrap).collect();

    for ns in namespaces {
        keep(ns.and_then(|ns| namespace_to_domain(&ctx, &ns)), &mut entities);
    }
    for p in &projects {
        keep(project_to_system(&ctx, p), &mut entities);
    }

    // Workloads phase: APIs, and the facts staged for the components phase.
    let mut facts: BTreeMap<(String, String), WorkloadFacts> = BTreeMap::new();
    for w in &workloads {
        let ns = w.metadata.namespace.clone().unwrap();
        for api in workload_to_apis(&ctx, &ns, w) {
            keep(api, &mut entities);
        }
        let f = workload_facts(&ns, w);
        facts.insert((f.project.clone(), f.component.clone()), f);
    }
    let apis: BTreeSet<String> =
        facts.values().flat_map(|f| f.api_endpoints.iter().map(|ep| api_name(&f.project, &f.component, ep))).collect();

    // Components phase.
    for c in &components {
        let workload = facts.get(&(c.project_name().to_string(), c.name().to_string())).cloned();
        let consumes_apis = workload
            .iter()
            .flat_map(|w| &w.consumes)
            .map(|t| api_name(&t.project, &t.component, &t.endpoint))
            .filter(|name| apis.contains(name))
            .collect();
        let project_owner = projects
            .iter()
            .find(|p| p.name() == c.project_name())
            .and_then(|p| p.owner_annotation())
            .map(str::to_string);
        let links = ComponentLinks { workload, consumes_apis, project_owner };
        keep(component_to_entity(&ctx, c, &links), &mut entities);
    }

    json!({ "entities": entities, "errors": errors })
}

#[test]
fn golden_entities() {
    let actual = translate_all();
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
    let refs = |v: &Value| -> Vec<String> { v["entities"].as_array().unwrap().iter().map(entity_ref).collect() };
    assert_eq!(refs(&actual), refs(&expected), "entity refs differ");
    for (a, e) in actual["entities"].as_array().unwrap().iter().zip(expected["entities"].as_array().unwrap()) {
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
}

#[test]
fn golden_is_stable_across_runs() {
    let a = serde_json::to_string(&translate_all()).unwrap();
    let b = serde_json::to_string(&translate_all()).unwrap();
    assert_eq!(a, b);
}

#[test]
fn every_entity_ref_is_unique_and_relations_resolve() {
    let out = translate_all();
    let entities = out["entities"].as_array().unwrap();
    let refs: BTreeSet<String> = entities.iter().map(entity_ref).collect();
    assert_eq!(refs.len(), entities.len(), "duplicate entity refs");
    // providesApis / consumesApis point at API entities that exist in the same namespace.
    for e in entities.iter().filter(|e| e["kind"] == "Component") {
        let ns = e["metadata"]["namespace"].as_str().unwrap();
        for key in ["providesApis", "consumesApis"] {
            for api in e["spec"][key].as_array().into_iter().flatten() {
                let r = format!("api:{ns}/{}", api.as_str().unwrap());
                assert!(refs.contains(&r), "{} {key} {r} does not exist", entity_ref(e));
            }
        }
        let system = format!("system:{ns}/{}", e["spec"]["system"].as_str().unwrap());
        assert!(refs.contains(&system), "{system} missing");
    }
}

#[test]
fn a_broken_item_fails_alone() {
    let page = json!({"items": [
        {"metadata": {"name": "ok", "namespace": "acme"}, "spec": {"owner": {"projectName": "shop"}}},
        {"metadata": {"name": "no-project", "namespace": "acme"}, "spec": {"owner": {}}},
        {"metadata": {"namespace": "acme"}, "spec": {"owner": {"projectName": "shop"}}}
    ]});
    let parsed: Vec<Result<Component, String>> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| serde_json::from_value(i.clone()).map_err(|e| e.to_string()))
        .collect();
    assert!(parsed[0].is_ok());
    assert!(parsed[1].as_ref().unwrap_err().contains("missing field `projectName`"));
    assert!(parsed[2].as_ref().unwrap_err().contains("missing field `name`"));
}

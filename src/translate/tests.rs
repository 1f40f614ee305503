use serde_json::{json, Value};

use super::*;

// The translations as JSON values, so the tests read fields by path.
fn namespace_to_domain(ctx: &TranslateContext, ns: &Namespace) -> Result<Value, String> {
    super::namespace_to_domain(ctx, ns).map(|e| e.to_value())
}
fn project_to_system(ctx: &TranslateContext, p: &Project) -> Result<Value, String> {
    super::project_to_system(ctx, p).map(|e| e.to_value())
}
fn component_to_entity(ctx: &TranslateContext, c: &Component, links: &ComponentLinks) -> Result<Value, String> {
    super::component_to_entity(ctx, c, links).map(|e| e.to_value())
}
fn workload_to_apis_with_owner(ctx: &TranslateContext, ns: &str, w: &Workload, owner: Option<&str>) -> Vec<Result<Value, String>> {
    super::workload_to_apis_with_owner(ctx, ns, w, owner).into_iter().map(|r| r.map(|e| e.to_value())).collect()
}
fn workload_to_apis(ctx: &TranslateContext, ns: &str, w: &Workload) -> Vec<Result<Value, String>> {
    workload_to_apis_with_owner(ctx, ns, w, None)
}
fn workload_facts(ns: &str, w: &Workload) -> WorkloadFacts {
    super::workload_facts(ns, w, &super::workload_to_apis(&ctx(), ns, w))
}

fn ctx() -> TranslateContext {
    TranslateContext {
        location_key: "provider:OpenChoreoEntityProvider".into(),
        default_owner: "group:default/openchoreo-users".into(),
        domain_owner_from_annotation: false,
    }
}

fn namespace(v: Value) -> Namespace {
    serde_json::from_value(v).unwrap()
}
fn project(v: Value) -> Project {
    serde_json::from_value(v).unwrap()
}
fn component(v: Value) -> Component {
    serde_json::from_value(v).unwrap()
}
fn workload(v: Value) -> Workload {
    serde_json::from_value(v).unwrap()
}

fn ready_component(annotations: Value) -> Component {
    component(json!({
        "metadata": {"name": "checkout", "namespace": "acme", "annotations": annotations},
        "spec": {"owner": {"projectName": "shop"},
                 "componentType": {"kind": "ComponentType", "name": "deployment/go-service"}},
        "status": {"conditions": [{"type": "Ready", "status": "True", "reason": "Reconciled"}]}
    }))
}

fn sample_workload() -> Workload {
    workload(json!({
        "metadata": {"name": "checkout-workload", "namespace": "acme"},
        "spec": {
            "owner": {"projectName": "shop", "componentName": "checkout"},
            "endpoints": {
                "rest": {"type": "HTTP", "port": 8080, "visibility": ["external", "namespace"],
                         "schema": {"content": "openapi: 3.0.0"}},
                "grpc": {"type": "gRPC", "port": 9090, "schema": {"type": "gRPC", "content": "syntax = \"proto3\";"}},
                "blank": {"type": "HTTP", "port": 8081, "schema": {"type": "OpenAPI", "content": "  \n "}},
                "tcp": {"type": "TCP", "port": 5432}
            },
            "dependencies": {
                "endpoints": [
                    {"component": "inventory", "name": "graphql", "visibility": "project"},
                    {"project": "", "component": "inventory", "name": "metrics", "visibility": "project"},
                    {"project": "billing", "component": "ledger", "name": "api", "visibility": "namespace"},
                    {"project": "billing", "component": "ledger", "visibility": "namespace"},
                    {"project": "billing", "name": "api", "visibility": "namespace"}
                ],
                "resources": [{"ref": "orders-db"}, {}, {"ref": "cache"}]
            }
        }
    }))
}

#[test]
fn domain_shape_and_ref() {
    let ns = namespace(json!({
        "metadata": {"name": "acme", "creationTimestamp": "2026-01-02T03:04:05Z",
                     "annotations": {"openchoreo.dev/display-name": "ACME"}},
        "status": {"phase": "Active"}
    }));
    let e = namespace_to_domain(&ctx(), &ns).unwrap();
    assert_eq!(entity_ref(&e), "domain:default/acme");
    assert_eq!(e["metadata"].get("namespace"), None, "legacy leaves the Domain's namespace out");
    assert_eq!(e["metadata"]["title"], "ACME");
    assert_eq!(e["metadata"]["description"], "acme");
    assert_eq!(e["metadata"]["tags"], json!(["openchoreo", "namespace", "domain"]));
    assert_eq!(e["metadata"]["annotations"]["openchoreo.io/status"], "Active");
    assert_eq!(e["metadata"]["annotations"]["openchoreo.io/created-at"], "2026-01-02T03:04:05Z");
    assert_eq!(e["metadata"]["annotations"]["backstage.io/managed-by-location"], "provider:OpenChoreoEntityProvider");
    assert_eq!(e["metadata"]["labels"], json!({"openchoreo.io/managed": "true"}));
    assert_eq!(e["spec"], json!({"owner": "group:default/openchoreo-users"}));
}

#[test]
fn invalid_names_are_errors_naming_the_field() {
    let err = namespace_to_domain(&ctx(), &namespace(json!({"metadata": {"name": "bad_name!"}}))).unwrap_err();
    assert!(err.contains("metadata.name") && err.contains("\"bad_name!\""), "{err}");

    let err =
        project_to_system(&ctx(), &project(json!({"metadata": {"name": "shop", "namespace": "Bad_NS"}}))).unwrap_err();
    assert!(err.contains("metadata.namespace") && err.contains("\"Bad_NS\""), "{err}");

    let err = project_to_system(&ctx(), &project(json!({"metadata": {"name": "shop"}}))).unwrap_err();
    assert!(err.contains("metadata.namespace is missing"), "{err}");

    let mut c = ready_component(json!({}));
    c.metadata.name = "x".repeat(64);
    let err = component_to_entity(&ctx(), &c, &ComponentLinks::default()).unwrap_err();
    assert!(err.contains("metadata.name") && err.contains(&"x".repeat(64)), "{err}");

    // A component type that makes an invalid tag.
    let mut c = ready_component(json!({}));
    c.spec.component_type.as_mut().unwrap().name = "deployment/Go_Service".into();
    let err = component_to_entity(&ctx(), &c, &ComponentLinks::default()).unwrap_err();
    assert!(err.contains("metadata.tags[2]") && err.contains("deployment-Go_Service"), "{err}");
}

#[test]
fn too_long_api_name_fails_that_endpoint_only() {
    let mut w = sample_workload();
    let long = "e".repeat(60);
    let ep = w.spec.endpoints["rest"].clone();
    w.spec.endpoints.insert(long.clone(), ep);

    let results = workload_to_apis(&ctx(), "acme", &w);
    assert_eq!(results.len(), 3, "one result per endpoint with schema content");
    let errors: Vec<&String> = results.iter().filter_map(|r| r.as_ref().err()).collect();
    assert_eq!(errors.len(), 1);
    assert!(
        errors[0].contains("metadata.name") && errors[0].contains(&format!("shop-checkout-{long}")),
        "{}",
        errors[0]
    );
    let names: Vec<&str> =
        results.iter().filter_map(|r| r.as_ref().ok()).map(|e| e["metadata"]["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["shop-checkout-grpc", "shop-checkout-rest"]);

    // The facts agree: an endpoint that is no API is not offered to anyone.
    assert_eq!(workload_facts("acme", &w).api_endpoints, ["grpc", "rest"]);
}

#[test]
fn api_entity_fields() {
    let w = sample_workload();
    let apis: Vec<Value> = workload_to_apis(&ctx(), "acme", &w).into_iter().map(Result::unwrap).collect();
    assert_eq!(apis.len(), 2, "no API for TCP without schema or blank schema content");

    let grpc = &apis[0];
    assert_eq!(entity_ref(grpc), "api:acme/shop-checkout-grpc");
    assert_eq!(grpc["spec"]["type"], "grpc");
    assert_eq!(grpc["metadata"]["tags"], json!(["openchoreo", "api", "grpc"]));
    assert_eq!(grpc["metadata"]["annotations"]["openchoreo.io/endpoint-visibility"], "");

    let rest = &apis[1];
    // No schema type: spec.type defaults to openapi; the tag and description fall back
    // to the endpoint type, as the legacy provider does.
    assert_eq!(rest["spec"]["type"], "openapi");
    assert_eq!(rest["metadata"]["tags"], json!(["openchoreo", "api", "http"]));
    assert_eq!(rest["metadata"]["description"], "HTTP API for checkout on port 8080");
    assert_eq!(rest["metadata"]["title"], "checkout rest API");
    assert_eq!(rest["spec"]["definition"], "openapi: 3.0.0");
    assert_eq!(rest["spec"]["owner"], "group:default/openchoreo-users");
    assert_eq!(rest["spec"]["system"], "shop");
    assert_eq!(rest["spec"]["lifecycle"], "production");
    let a = &rest["metadata"]["annotations"];
    assert_eq!(a["openchoreo.io/endpoint-visibility"], "external,namespace");
    assert_eq!(a["openchoreo.io/endpoint-port"], "8080");
    assert_eq!(a["openchoreo.io/endpoint-type"], "HTTP");
    assert_eq!(a["openchoreo.io/workload"], "checkout-workload");

    let owned = workload_to_apis_with_owner(&ctx(), "acme", &w, Some(" group:default/shop-team "));
    assert_eq!(owned[0].as_ref().unwrap()["spec"]["owner"], "group:default/shop-team");

    assert_eq!(api_type(Some("AsyncAPI")), "asyncapi");
    assert_eq!(api_type(Some("")), "openapi");
}

#[test]
fn facts_from_workload() {
    let facts = workload_facts("acme", &sample_workload());
    assert_eq!(facts.project, "shop");
    assert_eq!(facts.component, "checkout");
    assert_eq!(facts.workload_name, "checkout-workload");
    assert_eq!(facts.api_endpoints, ["grpc", "rest"], "sorted, schema content only");
    let t = |p: &str, c: &str, e: &str| EndpointTarget { project: p.into(), component: c.into(), endpoint: e.into() };
    assert_eq!(
        facts.consumes,
        [t("shop", "inventory", "graphql"), t("", "inventory", "metrics"), t("billing", "ledger", "api")],
        "an absent project defaults to the workload's own, an empty one stays (`??`), entries without a target are left out"
    );
    assert_eq!(facts.depends_on, ["resource:acme/orders-db", "resource:acme/cache"]);
}

#[test]
fn owner_fallback_order() {
    let links = |project_owner: Option<&str>| ComponentLinks {
        project_owner: project_owner.map(str::to_string),
        ..Default::default()
    };
    let owner = |c: &Component, l: &ComponentLinks| component_to_entity(&ctx(), c, l).unwrap()["spec"]["owner"].clone();

    let own = ready_component(json!({"backstage.io/owner": "group:default/checkout-team"}));
    assert_eq!(owner(&own, &links(Some("group:default/shop-team"))), "group:default/checkout-team");

    let none = ready_component(json!({}));
    assert_eq!(owner(&none, &links(Some("group:default/shop-team"))), "group:default/shop-team");
    assert_eq!(owner(&none, &links(None)), "group:default/openchoreo-users");

    let blank = ready_component(json!({"backstage.io/owner": "   "}));
    assert_eq!(owner(&blank, &links(Some("  "))), "group:default/openchoreo-users");

    let p = project(json!({"metadata": {"name": "shop", "namespace": "acme",
                                        "annotations": {"backstage.io/owner": "user:default/jane"}}}));
    assert_eq!(project_to_system(&ctx(), &p).unwrap()["spec"]["owner"], "user:default/jane");
    let p = project(json!({"metadata": {"name": "shop", "namespace": "acme"}}));
    assert_eq!(project_to_system(&ctx(), &p).unwrap()["spec"]["owner"], "group:default/openchoreo-users");

    let ns = namespace(
        json!({"metadata": {"name": "acme", "annotations": {"backstage.io/owner": "group:default/platform"}}}),
    );
    // The legacy module never reads a namespace's owner annotation; an option opts in.
    assert_eq!(namespace_to_domain(&ctx(), &ns).unwrap()["spec"]["owner"], "group:default/openchoreo-users");
    let opted_in = TranslateContext { domain_owner_from_annotation: true, ..ctx() };
    assert_eq!(namespace_to_domain(&opted_in, &ns).unwrap()["spec"]["owner"], "group:default/platform");
}

#[test]
fn readiness_sets_lifecycle_and_status() {
    let ready = component_to_entity(&ctx(), &ready_component(json!({})), &ComponentLinks::default()).unwrap();
    assert_eq!(ready["spec"]["lifecycle"], "ready");
    assert_eq!(ready["metadata"]["annotations"]["openchoreo.io/status"], "Ready");

    let mut c = ready_component(json!({}));
    c.status.as_mut().unwrap().conditions[0].status = "False".into();
    let e = component_to_entity(&ctx(), &c, &ComponentLinks::default()).unwrap();
    assert_eq!(e["spec"]["lifecycle"], "not ready");
    assert_eq!(e["metadata"]["annotations"]["openchoreo.io/status"], "Not Ready");

    c.status = None;
    let e = component_to_entity(&ctx(), &c, &ComponentLinks::default()).unwrap();
    assert_eq!(e["spec"]["lifecycle"], "not ready");
}

#[test]
fn empty_relations_are_omitted() {
    let e = component_to_entity(&ctx(), &ready_component(json!({})), &ComponentLinks::default()).unwrap();
    for key in ["providesApis", "consumesApis", "dependsOn"] {
        assert!(e["spec"].get(key).is_none(), "{key} must be omitted");
    }
    assert!(e["metadata"]["annotations"].get("openchoreo.io/workload").is_none());
    assert!(e["metadata"].get("description").is_none(), "no description annotation, no description");

    // A workload with no APIs, consumes or resources: still no empty arrays.
    let links = ComponentLinks {
        workload: Some(WorkloadFacts {
            project: "shop".into(),
            component: "checkout".into(),
            workload_name: "checkout-workload".into(),
            ..Default::default()
        }),
        ..Default::default()
    };
    let e = component_to_entity(&ctx(), &ready_component(json!({})), &links).unwrap();
    for key in ["providesApis", "consumesApis", "dependsOn"] {
        assert!(e["spec"].get(key).is_none(), "{key} must be omitted");
    }
    assert_eq!(e["metadata"]["annotations"]["openchoreo.io/workload"], "checkout-workload");
}

#[test]
fn component_relations_and_annotations() {
    let links = ComponentLinks {
        workload: Some(workload_facts("acme", &sample_workload())),
        consumes_apis: vec!["shop-inventory-graphql".into()],
        project_owner: None,
    };
    let mut c = ready_component(json!({"openchoreo.dev/description": "Carts"}));
    c.spec.workflow = Some(
        serde_json::from_value(json!({
            "kind": "ClusterWorkflow", "name": "go-build",
            "parameters": {"repository": {"url": "https://github.com/acme/shop", "revision": {"branch": "release-1"}}}
        }))
        .unwrap(),
    );
    let e = component_to_entity(&ctx(), &c, &links).unwrap();
    assert_eq!(entity_ref(&e), "component:acme/checkout");
    assert_eq!(e["spec"]["providesApis"], json!(["shop-checkout-grpc", "shop-checkout-rest"]));
    assert_eq!(e["spec"]["consumesApis"], json!(["shop-inventory-graphql"]));
    assert_eq!(e["spec"]["dependsOn"], json!(["resource:acme/orders-db", "resource:acme/cache"]));
    assert_eq!(e["spec"]["type"], "deployment/go-service");
    assert_eq!(e["spec"]["system"], "shop");
    assert_eq!(e["metadata"]["tags"], json!(["openchoreo", "component", "deployment-go-service"]));
    assert_eq!(e["metadata"]["title"], "checkout");
    assert_eq!(e["metadata"]["description"], "Carts");
    let a = &e["metadata"]["annotations"];
    assert_eq!(a["backstage.io/source-location"], "url:https://github.com/acme/shop");
    assert_eq!(a["openchoreo.io/branch"], "release-1");
    assert_eq!(a["openchoreo.io/component-type-kind"], "ComponentType");
    assert_eq!(a["openchoreo.io/workload"], "checkout-workload");

    // Without a component type: `unknown`, and no type annotations.
    c.spec.component_type = None;
    c.spec.workflow = None;
    let e = component_to_entity(&ctx(), &c, &ComponentLinks::default()).unwrap();
    assert_eq!(e["spec"]["type"], "unknown");
    assert_eq!(e["metadata"]["tags"], json!(["openchoreo", "component", "unknown"]));
    for key in [
        "openchoreo.io/component-type",
        "openchoreo.io/component-type-kind",
        "backstage.io/source-location",
        "openchoreo.io/branch",
    ] {
        assert!(e["metadata"]["annotations"].get(key).is_none(), "{key}");
    }
}

#[test]
fn output_is_deterministic() {
    let links = ComponentLinks { workload: Some(workload_facts("acme", &sample_workload())), ..Default::default() };
    let a = serde_json::to_string(&component_to_entity(&ctx(), &ready_component(json!({})), &links).unwrap()).unwrap();
    let b = serde_json::to_string(&component_to_entity(&ctx(), &ready_component(json!({})), &links).unwrap()).unwrap();
    assert_eq!(a, b);
    let e: Value = serde_json::from_str(&a).unwrap();
    let keys: Vec<&String> = e["metadata"]["annotations"].as_object().unwrap().keys().collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(keys, sorted, "annotations are emitted in key order");
}

#[test]
fn component_type_tags_match_legacy() {
    assert_eq!(component_type_tags("deployment/service"), ["openchoreo", "component", "deployment-service"]);
    // Only the first '/' is replaced, like JavaScript's String.replace with a string.
    assert_eq!(component_type_tags("a/b/c"), ["openchoreo", "component", "a-b/c"]);
}

/// `json_str` writes every string exactly as serde_json does, with or without escapes,
/// wherever in a 16-byte step the byte to escape falls.
#[test]
fn json_str_matches_serde_json_byte_for_byte() {
    let mut cases: Vec<String> = vec![
        String::new(),
        "plain".into(),
        "group:default/openchoreo-users".into(),
        "ünïcödé and emoji 🚀, / and \u{7f}".into(),
        "{\"openapi\":\"3.0.3\",\"paths\":{}}".into(),
        "line\nbreak\ttab\u{0}nul\u{1f}".into(),
    ];
    for len in [15, 16, 17, 31, 32, 33, 100] {
        for at in [0, 1, 7, 15, 16, 17, len - 1] {
            for special in ['"', '\\', '\n', '\u{1}', '\u{1f}'] {
                if at < len {
                    let mut s: String = "a".repeat(len);
                    s.replace_range(at..at + 1, &special.to_string());
                    cases.push(s);
                }
            }
        }
    }
    for s in cases {
        let mut w = Vec::new();
        crate::translate::json_str(&mut w, &s);
        assert_eq!(String::from_utf8(w).unwrap(), serde_json::to_string(&s).unwrap(), "{s:?}");
    }
}

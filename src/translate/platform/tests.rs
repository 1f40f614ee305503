//! Expected entities written out: the legacy module's own unit tests
//! (`entityTranslation.test.ts`) ported, and edge cases whose expected JSON was produced
//! by running the legacy translators themselves on the same items.

use serde_json::{json, Value};

use super::*;
use crate::kinds::{Role, Translate as Translator, LISTS};

/// `(list, Backstage kind as emitted, translator)` of every platform list, from the kind
/// table, in walk order.
fn platform_lists() -> Vec<(&'static str, &'static str, Translator)> {
    LISTS
        .iter()
        .filter_map(|l| match l.role {
            Role::Platform { kind, translate, .. } => Some((l.list, kind, translate)),
            _ => None,
        })
        .collect()
}

fn ctx() -> TranslateContext {
    TranslateContext {
        location_key: "provider:OpenChoreoEntityProvider".into(),
        default_owner: "group:default/openchoreo-users".into(),
        domain_owner_from_annotation: false,
    }
}

const MANAGED: &str = "provider:OpenChoreoEntityProvider";

fn translate(t: Translator, ns: Option<&str>, item: Value) -> Value {
    match t(&ctx(), ns, &item) {
        Ok(entity) => entity.to_value(),
        Err(e) => panic!("{e}"),
    }
}

fn refused(t: Translator, ns: Option<&str>, item: Value) -> String {
    match t(&ctx(), ns, &item) {
        Ok(entity) => panic!("expected an error, got {}", entity.json()),
        Err(e) => e,
    }
}

/// Runs every case of `$PLATFORM_CASES` (JSON lines `{fn, ns, item}`) through its
/// translator and writes `{ok: entity}` or `{error}` lines to `$PLATFORM_OUT`: the Rust
/// half of a comparison with the legacy translators run on the same lines.
#[test]
#[ignore = "a tool: needs PLATFORM_CASES and PLATFORM_OUT"]
fn differential_cases() {
    let (Ok(cases), Ok(out)) = (std::env::var("PLATFORM_CASES"), std::env::var("PLATFORM_OUT")) else { return };
    let mut lines = Vec::new();
    for line in std::fs::read_to_string(cases).unwrap().lines().filter(|l| !l.is_empty()) {
        let case: Value = serde_json::from_str(line).unwrap();
        let name = case["fn"].as_str().unwrap();
        let t = all().into_iter().find(|(n, _)| *n == name).unwrap_or_else(|| panic!("no translator {name}")).1;
        let result = match t(&ctx(), case["ns"].as_str(), &case["item"]) {
            Ok(e) => json!({ "ok": e.to_value() }),
            Err(e) => json!({ "error": e }),
        };
        lines.push(result.to_string());
    }
    std::fs::write(out, lines.join("\n") + "\n").unwrap();
}

fn all() -> Vec<(&'static str, Translator)> {
    vec![
        ("environment", environment),
        ("notification_channel", notification_channel),
        ("dataplane", dataplane),
        ("workflow_plane", workflow_plane),
        ("observability_plane", observability_plane),
        ("deployment_pipeline", deployment_pipeline),
        ("component_type", component_type),
        ("trait_type", trait_type),
        ("resource_type", resource_type),
        ("project_type", project_type),
        ("resource", resource),
        ("workflow", workflow),
        ("cluster_component_type", cluster_component_type),
        ("cluster_resource_type", cluster_resource_type),
        ("cluster_project_type", cluster_project_type),
        ("cluster_trait_type", cluster_trait_type),
        ("cluster_workflow", cluster_workflow),
        ("cluster_dataplane", cluster_dataplane),
        ("cluster_observability_plane", cluster_observability_plane),
        ("cluster_workflow_plane", cluster_workflow_plane),
    ]
}

mod golden;

/// What each list's items need besides a name to be valid entities.
fn minimal(list: &str, name: &str) -> Value {
    match list {
        "observabilityalertsnotificationchannels" => json!({"metadata": {"name": name}, "spec": {"environment": "dev", "type": "email"}}),
        "resources" => json!({"metadata": {"name": name}, "spec": {"owner": {"projectName": "p"}, "type": {"name": "mysql"}}}),
        _ => json!({"metadata": {"name": name}}),
    }
}

#[test]
fn the_table_covers_the_twenty_lists_once_each_with_its_kind() {
    let table = platform_lists();
    assert_eq!(table.len(), 20);
    let lists: std::collections::BTreeSet<_> = table.iter().map(|(l, _, _)| *l).collect();
    let kinds: std::collections::BTreeSet<_> = table.iter().map(|(_, k, _)| *k).collect();
    assert_eq!((lists.len(), kinds.len()), (20, 20));
    for (list, kind, t) in &table {
        let cluster = list.starts_with("cluster");
        // The translator emits the kind the table declares for its list.
        let e = translate(*t, Some("acme"), minimal(list, "x"));
        assert_eq!(e["kind"], *kind, "{list}");
        assert_eq!(e["apiVersion"], "backstage.io/v1alpha1");
        let meta = &e["metadata"];
        assert_eq!(meta["namespace"], if cluster { "openchoreo-cluster" } else { "acme" }, "{list}");
        assert_eq!(meta["annotations"].get("openchoreo.io/namespace").is_some(), !cluster, "{list}");
        assert_eq!(meta["annotations"]["backstage.io/managed-by-location"], MANAGED);
        assert_eq!(meta["annotations"]["backstage.io/managed-by-origin-location"], MANAGED);
        assert_eq!(meta["labels"]["openchoreo.io/managed"], "true");
        assert_eq!(meta["tags"][0], "openchoreo");
        assert!(e["spec"].is_object(), "{list}");
    }
    let expected = [
        ("environments", "Environment"),
        ("observabilityalertsnotificationchannels", "ObservabilityAlertsNotificationChannel"),
        ("dataplanes", "Dataplane"),
        ("workflowplanes", "WorkflowPlane"),
        ("observabilityplanes", "ObservabilityPlane"),
        ("deploymentpipelines", "DeploymentPipeline"),
        ("componenttypes", "ComponentType"),
        ("traits", "TraitType"),
        ("resourcetypes", "ResourceType"),
        ("projecttypes", "ProjectType"),
        ("resources", "Resource"),
        ("workflows", "Workflow"),
        ("clustercomponenttypes", "ClusterComponentType"),
        ("clusterresourcetypes", "ClusterResourceType"),
        ("clusterprojecttypes", "ClusterProjectType"),
        ("clustertraits", "ClusterTraitType"),
        ("clusterworkflows", "ClusterWorkflow"),
        ("clusterdataplanes", "ClusterDataplane"),
        ("clusterobservabilityplanes", "ClusterObservabilityPlane"),
        ("clusterworkflowplanes", "ClusterWorkflowPlane"),
    ];
    let table: Vec<_> = table.iter().map(|(l, k, _)| (*l, *k)).collect();
    assert_eq!(table, expected);
}

#[test]
fn empty_display_names_and_descriptions_fall_back_per_kind() {
    let fallbacks = [
        ("environments", "x environment"),
        ("observabilityalertsnotificationchannels", "x notification channel"),
        ("dataplanes", "x dataplane"),
        ("workflowplanes", "x workflow plane"),
        ("observabilityplanes", "x observability plane"),
        ("deploymentpipelines", "Deployment pipeline x"),
        ("componenttypes", "x component type"),
        ("traits", "x trait"),
        ("resourcetypes", "x resource type"),
        ("projecttypes", "x project type"),
        ("resources", "x resource"),
        ("workflows", "x workflow"),
        ("clustercomponenttypes", "x cluster component type"),
        ("clusterresourcetypes", "x cluster resource type"),
        ("clusterprojecttypes", "x cluster project type"),
        ("clustertraits", "x cluster trait"),
        ("clusterworkflows", "x cluster workflow"),
        ("clusterdataplanes", "x cluster data plane"),
        ("clusterobservabilityplanes", "x cluster observability plane"),
        ("clusterworkflowplanes", "x cluster workflow plane"),
    ];
    for ((list, _, t), (fallback_list, description)) in platform_lists().into_iter().zip(fallbacks) {
        assert_eq!(list, fallback_list);
        let mut item = minimal(list, "x");
        item["metadata"]["annotations"] = json!({"openchoreo.dev/display-name": "", "openchoreo.dev/description": ""});
        let e = translate(t, Some("acme"), item);
        assert_eq!((e["metadata"]["title"].as_str(), e["metadata"]["description"].as_str()), (Some("x"), Some(description)), "{list}");
    }
}

#[test]
fn created_at_is_always_written_except_where_the_legacy_spreads_it() {
    for (list, _, t) in platform_lists() {
        let e = translate(t, Some("acme"), minimal(list, "x"));
        let created = e["metadata"]["annotations"].get("openchoreo.io/created-at").cloned();
        let when_set = ["environments", "observabilityalertsnotificationchannels", "deploymentpipelines"].contains(&list);
        assert_eq!(created, if when_set { None } else { Some(json!("")) }, "{list}");
    }
}

#[test]
fn status_reads_the_first_condition_of_its_kind() {
    let status = |t: Translator, conditions: Value| {
        translate(t, Some("acme"), json!({"metadata": {"name": "x"}, "status": {"conditions": conditions}}))["metadata"]["annotations"]
            ["openchoreo.io/status"]
            .clone()
    };
    let first_false = json!([{"type": "Other", "status": "True"}, {"type": "Ready", "status": "False"}, {"type": "Ready", "status": "True"}]);
    assert_eq!(status(environment, first_false), "Not Ready");
    assert_eq!(status(deployment_pipeline, json!([{"type": "Ready", "status": "True"}])), "Ready");
    // Planes read `Created`, not `Ready`.
    assert_eq!(status(dataplane, json!([{"type": "Ready", "status": "True"}])), "Not Ready");
    assert_eq!(status(cluster_workflow_plane, json!([{"type": "Created", "status": "True"}])), "Ready");
    // `find` stops at the match: a null after it is never read.
    assert_eq!(status(observability_plane, json!([{"type": "Created", "status": "True"}, null])), "Ready");
    assert_eq!(status(environment, json!(null)), "Not Ready");
    // Kinds without a status annotation.
    for t in [trait_type, resource as Translator, cluster_resource_type] {
        let e = translate(t, Some("acme"), json!({"metadata": {"name": "x"}, "spec": {"owner": {"projectName": "p"}, "type": {"name": "t"}}, "status": {"conditions": [{"type": "Ready", "status": "True"}]}}));
        assert!(e["metadata"]["annotations"].get("openchoreo.io/status").is_none());
    }
}

#[test]
fn malformed_conditions_are_errors_where_the_legacy_throws() {
    let err = refused(environment, Some("acme"), json!({"metadata": {"name": "dev"}, "status": {"conditions": [null]}}));
    assert!(err.contains("environment \"dev\" in namespace acme") && err.contains("status.conditions[0] is null"), "{err}");
    let err = refused(cluster_dataplane, None, json!({"metadata": {"name": "dp"}, "status": {"conditions": "x"}}));
    assert!(err.contains("cluster data plane \"dp\"") && err.contains("status.conditions \"x\" is not a list"), "{err}");
}

#[test]
fn agent_connection_annotations() {
    let agent = |connection: Value| {
        let e = translate(cluster_observability_plane, None, json!({"metadata": {"name": "o"}, "status": {"agentConnection": connection}}));
        let a = &e["metadata"]["annotations"];
        [a.get("openchoreo.io/agent-connected"), a.get("openchoreo.io/agent-connected-count"), a.get("openchoreo.io/agent-last-connected")]
            .map(|v| v.and_then(Value::as_str).map(str::to_string))
    };
    let s = |v: &str| Some(v.to_string());
    assert_eq!(agent(json!({"connected": true, "connectedAgents": 3, "lastConnectedTime": "t"})), [s("true"), s("3"), s("t")]);
    assert_eq!(agent(json!({"connected": false, "connectedAgents": 0, "lastConnectedTime": ""})), [s("false"), s("0"), None]);
    assert_eq!(agent(json!({"connected": null, "connectedAgents": null})), [s("false"), s("0"), None]);
    assert_eq!(agent(json!({"connected": "maybe", "connectedAgents": 1.5})), [s("maybe"), s("1.5"), None]);
    // Any truthy value is a connection status; a falsy one is none.
    assert_eq!(agent(json!("yes")), [s("false"), s("0"), None]);
    assert_eq!(agent(json!(null)), [None, None, None]);
}

#[test]
fn is_production_is_stringified_and_a_null_one_is_an_error() {
    let env = |p: Value| translate(environment, Some("acme"), json!({"metadata": {"name": "e"}, "spec": {"isProduction": p}}));
    let e = env(json!("yes"));
    assert_eq!(e["metadata"]["tags"][2], "production");
    assert_eq!(e["metadata"]["annotations"]["openchoreo.io/is-production"], "yes");
    assert_eq!(e["metadata"]["labels"]["openchoreo.io/environment-type"], "production");
    assert_eq!(e["spec"]["isProduction"], "yes");
    let e = env(json!(0));
    assert_eq!(e["spec"]["type"], "non-production");
    assert_eq!(e["metadata"]["annotations"]["openchoreo.io/is-production"], "0");
    let err = refused(environment, Some("acme"), json!({"metadata": {"name": "e"}, "spec": {"isProduction": null}}));
    assert!(err.contains("spec.isProduction is null"), "{err}");
}

#[test]
fn namespaced_planes_qualify_their_observability_ref() {
    let plane_ref = |t: Translator, r: Value| {
        t(&ctx(), Some("acme"), &json!({"metadata": {"name": "p"}, "spec": {"observabilityPlaneRef": r}})).map(|e| {
            let e = e.to_value();
            assert_eq!(e["metadata"]["annotations"]["openchoreo.io/observability-plane-ref"], e["spec"]["observabilityPlaneRef"]);
            e["spec"]["observabilityPlaneRef"].clone()
        })
    };
    for (r, expected) in [
        (json!({"name": "obs"}), "acme/obs"),
        (json!({"kind": "ClusterObservabilityPlane", "name": "default"}), "acme/default"),
        (json!({"name": "other/obs"}), "other/obs"),
        (json!("obs"), ""),
        (json!({"name": ""}), ""),
        (json!({"name": null}), ""),
        (json!(null), ""),
        (json!({"name": {"name": "inner"}}), "acme/inner"),
        (json!({"name": {"other": 1}}), ""),
        (json!({"name": 5}), ""),
        // An array has no `name`; an array inside the ref's name is stringified.
        (json!({"name": ["a", "b"]}), ""),
        (json!({"name": {"name": ["a", "b"]}}), "acme/a,b"),
    ] {
        assert_eq!(plane_ref(dataplane, r.clone()), Ok(json!(expected)), "{r}");
        assert_eq!(plane_ref(workflow_plane, r.clone()), Ok(json!(expected)), "{r}");
    }
    for (r, shown) in [(json!({"name": {"name": 5}}), "5"), (json!({"name": {"name": ["/"]}}), "[\"/\"]")] {
        let err = plane_ref(dataplane, r).unwrap_err();
        assert!(err.contains(&format!("spec.observabilityPlaneRef.name {shown} is not a string")), "{err}");
    }
}

#[test]
fn cluster_planes_keep_the_bare_ref_name() {
    let e = translate(cluster_workflow_plane, None, json!({"metadata": {"name": "p"}, "spec": {"observabilityPlaneRef": {"kind": "ClusterObservabilityPlane", "name": "default"}}}));
    assert_eq!(e["spec"]["observabilityPlaneRef"], "default");
    assert_eq!(e["metadata"]["annotations"]["openchoreo.io/observability-plane-ref"], "default");
    let e = translate(cluster_dataplane, None, json!({"metadata": {"name": "p"}}));
    assert!(e["spec"].get("observabilityPlaneRef").is_none() && e["spec"].get("gateway").is_none());
    assert!(e["metadata"]["annotations"].get("openchoreo.io/observability-plane-ref").is_none());
}

#[test]
fn gateway_is_built_from_any_truthy_ingress() {
    let gateway = |ingress: Value| {
        translate(dataplane, Some("acme"), json!({"metadata": {"name": "d"}, "spec": {"gateway": {"ingress": ingress}}}))["spec"].get("gateway").cloned()
    };
    assert_eq!(gateway(json!({})), Some(json!({"ingress": {}})));
    assert_eq!(gateway(json!("str")), Some(json!({"ingress": {}})));
    assert_eq!(gateway(json!(null)), None);
    assert_eq!(
        gateway(json!({"external": {"http": {}, "https": null, "extra": 1}, "internal": null})),
        Some(json!({"ingress": {"external": {"http": {}}}}))
    );
}

#[test]
fn promotion_paths_throw_where_the_legacy_does() {
    let paths = |p: Value| deployment_pipeline(&ctx(), Some("acme"), &json!({"metadata": {"name": "pl"}, "spec": {"promotionPaths": p}}));
    assert_eq!(paths(json!(null)).unwrap().to_value()["spec"]["promotionPaths"], json!([]));
    assert_eq!(
        paths(json!([{"sourceEnvironmentRef": 5, "targetEnvironmentRefs": ["x", {"name": null}]}])).unwrap().to_value()["spec"]["promotionPaths"],
        json!([{"sourceEnvironment": "", "targetEnvironments": [{}, {"name": null}]}])
    );
    for (p, field) in [
        (json!("x"), "spec.promotionPaths \"x\" is not a list"),
        (json!(false), "spec.promotionPaths false is not a list"),
        (json!([null]), "spec.promotionPaths[0] is null"),
        (json!([{}, {"targetEnvironmentRefs": [null]}]), "spec.promotionPaths[1].targetEnvironmentRefs[0] is null"),
        (json!([{"targetEnvironmentRefs": {}}]), "spec.promotionPaths[0].targetEnvironmentRefs {} is not a list"),
    ] {
        let err = paths(p).unwrap_err();
        assert!(err.contains("deployment pipeline \"pl\" in namespace acme") && err.contains(field), "{err}");
    }
}

#[test]
fn allowed_refs_absent_empty_and_malformed() {
    let spec = |t: Translator, traits: Value| t(&ctx(), Some("acme"), &json!({"metadata": {"name": "ct"}, "spec": {"allowedTraits": traits}})).map(|e| e.to_value()["spec"].clone());
    for t in [component_type as Translator, cluster_component_type] {
        assert!(spec(t, json!(0)).unwrap().get("allowedTraits").is_none());
        assert!(spec(t, json!("")).unwrap().get("allowedTraits").is_none());
        assert_eq!(spec(t, json!({"length": 0})).unwrap()["allowedTraits"], json!([]));
        let err = spec(t, json!("abc")).unwrap_err();
        assert!(err.contains("spec.allowedTraits \"abc\" is not a list"), "{err}");
        assert!(spec(t, json!({})).unwrap_err().contains("spec.allowedTraits {} is not a list"));
    }
    assert_eq!(
        spec(component_type, json!(["ClusterTrait:a:b", "Trait:", 5, [1]])).unwrap()["allowedTraits"],
        json!([{"kind": "ClusterTrait", "name": "a:b"}])
    );
}

#[test]
fn workflow_parameters_follow_javascript_key_order_and_the_last_match_wins() {
    let params = |properties: Value| {
        let e = translate(workflow, Some("acme"), json!({"metadata": {"name": "w"}, "spec": {"parameters": {"openAPIV3Schema": {"properties": properties}}}}));
        e["metadata"]["annotations"].get("openchoreo.dev/component-workflow-parameters").cloned()
    };
    let url = json!({"x-openchoreo-component-parameter-repository-url": true});
    let branch = json!({"x-openchoreo-component-parameter-repository-branch": true});
    // Integer-like keys come first, in numeric order; a key keeps its first place.
    assert_eq!(
        params(json!({"b": url, "a": url, "10": branch, "2": branch})),
        Some(json!("branch: parameters.10\nrepoUrl: parameters.b"))
    );
    // Only `true` flags count; arrays are walked by index, strings not at all.
    assert_eq!(params(json!({"x": {"x-openchoreo-component-parameter-repository-url": "true"}, "y": null, "z": "str"})), None);
    assert_eq!(params(json!({"o": {"properties": [url]}})), Some(json!("repoUrl: parameters.o.0")));
    assert_eq!(params(json!({})), None);
}

#[test]
fn resources_without_type_or_project_are_refused_and_parameters_need_content() {
    let res = |spec: Value| resource(&ctx(), Some("acme"), &json!({"metadata": {"name": "r"}, "spec": spec}));
    let err = res(json!({"owner": {"projectName": "p"}})).unwrap_err();
    assert!(err.contains("resource \"r\" in namespace acme") && err.contains("spec.type.name \"\""), "{err}");
    let err = res(json!({"type": {"name": "pg"}})).unwrap_err();
    assert!(err.contains("spec.owner.projectName \"\""), "{err}");
    let params = |p: Value| res(json!({"owner": {"projectName": "p"}, "type": {"name": "pg"}, "parameters": p})).unwrap().to_value()["spec"].get("parameters").cloned();
    assert_eq!(params(json!([1])), Some(json!([1])));
    assert_eq!(params(json!([])), None);
    assert_eq!(params(json!("x")), None);
    assert_eq!(params(json!({"a": null})), Some(json!({"a": null})));
    let e = res(json!({"owner": {"projectName": "p"}, "type": {"name": "pg"}})).unwrap().to_value();
    assert_eq!(e["spec"]["owner"], "group:default/openchoreo-users");
}

#[test]
fn a_channel_without_type_is_refused() {
    let err = refused(notification_channel, Some("acme"), json!({"metadata": {"name": "ch"}, "spec": {"environment": "dev"}}));
    assert!(err.contains("notification channel \"ch\" in namespace acme") && err.contains("spec.type"), "{err}");
}

#[test]
fn unnamed_or_invalid_items_are_refused() {
    let err = refused(environment, Some("acme"), json!({"spec": {}}));
    assert!(err.contains("environment without a name in namespace acme") && err.contains("metadata.name is missing"), "{err}");
    let err = refused(cluster_trait_type, None, json!({"metadata": {"name": 5}}));
    assert!(err.contains("cluster trait: metadata.name 5 is not a string"), "{err}");
    let err = refused(trait_type, Some("acme"), json!({"metadata": {"name": "Bad Name"}}));
    assert!(err.contains("trait \"Bad Name\" in namespace acme") && err.contains("metadata.name"), "{err}");
    let err = refused(component_type, Some("acme"), json!({"metadata": {"name": "ct"}, "spec": {"workloadType": "Deploy_ment"}}));
    assert!(err.contains("metadata.tags[2] \"Deploy_ment\""), "{err}");
    let err = refused(cluster_dataplane, None, json!({"metadata": {"name": "dp"}, "spec": {"observabilityPlaneRef": {"name": 5}}}));
    assert!(err.contains("openchoreo.io/observability-plane-ref must be a string"), "{err}");
}

#[test]
fn namespaced_kinds_need_the_walked_namespace_and_cluster_kinds_ignore_it() {
    let err = refused(environment, None, json!({"metadata": {"name": "dev"}}));
    assert!(err.contains("environment") && err.contains("no OpenChoreo namespace"), "{err}");
    // The walked namespace wins over the item's own.
    let e = translate(project_type, Some("acme"), json!({"metadata": {"name": "pt", "namespace": "elsewhere"}}));
    assert_eq!((e["metadata"]["namespace"].as_str(), e["spec"]["domain"].as_str()), (Some("acme"), Some("default/acme")));
    let e = translate(cluster_project_type, Some("acme"), json!({"metadata": {"name": "cpt"}}));
    assert_eq!(e["metadata"]["namespace"], "openchoreo-cluster");
    assert_eq!(e["spec"], json!({}));
}

#[test]
fn entity_refs() {
    let e = environment(&ctx(), Some("acme"), &json!({"metadata": {"name": "Dev"}})).unwrap();
    assert_eq!(e.entity_ref(), "environment:acme/dev");
    let e = cluster_trait_type(&ctx(), None, &json!({"metadata": {"name": "hpa"}})).unwrap();
    assert_eq!(e.entity_ref(), "clustertraittype:openchoreo-cluster/hpa");
}

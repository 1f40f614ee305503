//! Every kind: lists and pages, single items, /schema, edits, unserved kinds, label
//! selectors, references between kinds, variety and determinism.

mod common;

use std::collections::BTreeSet;

use common::{name_of, start, Client};
use mock_openchoreo::{InstallationSpec, Kind, MockHandle};
use reqwest::Method;
use serde_json::{json, Value};

/// The list path of a kind (`ns` ignored for cluster kinds).
fn list_path(kind: Kind, ns: &str) -> String {
    if kind.is_cluster() {
        format!("/api/v1/{}", kind.plural())
    } else {
        format!("/api/v1/namespaces/{ns}/{}", kind.plural())
    }
}

fn scope(kind: Kind, ns: &str) -> &str {
    if kind.is_cluster() {
        ""
    } else {
        ns
    }
}

/// Every item of a kind, through the handle, over every namespace (cluster kinds once).
fn all_items(h: &MockHandle, kind: Kind) -> Vec<Value> {
    let namespaces = if kind.is_cluster() {
        vec![String::new()]
    } else {
        h.namespaces()
    };
    namespaces
        .iter()
        .flat_map(|ns| {
            h.list_names(kind, ns)
                .unwrap()
                .into_iter()
                .map(move |n| h.get_item(kind, ns, &n).unwrap().unwrap())
                .collect::<Vec<_>>()
        })
        .collect()
}

#[tokio::test]
async fn every_kind_is_listed_and_paged_completely() {
    let server = start(InstallationSpec::default()).await;
    let h = server.handle();
    let client = Client::new(&server);
    let summary = h.summary();
    for kind in Kind::ALL {
        assert!(
            summary.count(kind) > 0,
            "{kind:?}: the default installation has some"
        );
    }
    for limit in [1, 2, 3, 100] {
        h.reset_stats();
        for kind in Kind::ALL {
            let namespaces = if kind.is_cluster() {
                vec!["".to_owned()]
            } else {
                h.namespaces()
            };
            for ns in &namespaces {
                let (names, calls) = client.walk(&list_path(kind, ns), limit).await;
                let expected = h.list_names(kind, scope(kind, ns)).unwrap();
                assert!(!expected.is_empty(), "{kind:?} in {ns:?}");
                assert_eq!(
                    names, expected,
                    "{kind:?} in {ns:?} at limit {limit}: no dup, no skip, in order"
                );
                assert_eq!(calls, expected.len().div_ceil(limit).max(1));
                let unique: BTreeSet<&String> = names.iter().collect();
                assert_eq!(unique.len(), names.len());
            }
        }
        let stats = h.stats();
        assert_eq!(
            stats.requests,
            summary.min_list_calls_all(limit) - summary.namespaces.div_ceil(limit) as u64
        );
        assert!(stats.list("clustertraits") >= 1 && stats.list("environments") >= 3);
    }
}

#[tokio::test]
async fn single_items_and_their_404s() {
    let server = start(InstallationSpec::small()).await;
    let h = server.handle();
    let client = Client::new(&server);
    for kind in Kind::ALL {
        let ns = scope(kind, "ns-001");
        let name = &h.list_names(kind, ns).unwrap()[0];
        let reply = client
            .get(&format!("{}/{name}", list_path(kind, "ns-001")))
            .await;
        assert_eq!(reply.status, 200, "{kind:?}");
        let item = reply.json();
        assert_eq!(item, h.get_item(kind, ns, name).unwrap().unwrap());
        assert_eq!(item["kind"], kind.api_kind());
        assert_eq!(item["apiVersion"], "openchoreo.dev/v1alpha1");
        assert_eq!(
            item["metadata"]["namespace"].as_str(),
            (!kind.is_cluster()).then_some("ns-001"),
            "{kind:?}"
        );
        let missing = client
            .get(&format!("{}/nope", list_path(kind, "ns-001")))
            .await;
        assert_eq!(missing.status, 404, "{kind:?}");
        assert_eq!(missing.json()["code"], "NOT_FOUND");
    }
}

#[tokio::test]
async fn schema_is_derived_from_the_stored_item_and_counted() {
    let server = start(InstallationSpec::small()).await;
    let h = server.handle();
    let client = Client::new(&server);
    let with_schema: Vec<Kind> = Kind::ALL.into_iter().filter(|k| k.has_schema()).collect();
    assert_eq!(
        with_schema,
        [
            Kind::ComponentType,
            Kind::ResourceType,
            Kind::ClusterComponentType,
            Kind::ClusterResourceType
        ]
    );
    for kind in with_schema {
        let ns = scope(kind, "ns-000");
        for name in h.list_names(kind, ns).unwrap() {
            let reply = client
                .get(&format!("{}/{name}/schema", list_path(kind, "ns-000")))
                .await;
            assert_eq!(reply.status, 200);
            let schema = reply.json();
            assert_eq!(Some(schema.clone()), h.get_schema(kind, ns, &name).unwrap());
            assert_eq!(schema["type"], "object");
            assert!(schema.get("$defs").is_none(), "definitions resolved away");
            assert!(!schema.to_string().contains("$ref"), "{schema}");
        }
        // An edit changes the schema; no schema at all answers an empty object schema.
        let name = h.list_names(kind, ns).unwrap()[0].clone();
        let mut item = h.get_item(kind, ns, &name).unwrap().unwrap();
        item["spec"]["parameters"]["openAPIV3Schema"] = json!({"type": "object", "properties": {"edited": {"type": "string", "x-openchoreo-flag": true}}});
        h.put_item(kind, ns, item.clone()).unwrap();
        let path = format!("{}/{name}/schema", list_path(kind, "ns-000"));
        assert_eq!(
            client.get(&path).await.json(),
            json!({"type": "object", "properties": {"edited": {"type": "string", "x-openchoreo-flag": true}}})
        );
        item["spec"].as_object_mut().unwrap().remove("parameters");
        h.put_item(kind, ns, item).unwrap();
        assert_eq!(
            client.get(&path).await.json(),
            json!({"type": "object", "properties": {}})
        );
        assert_eq!(
            client
                .get(&format!("{}/nope/schema", list_path(kind, "ns-000")))
                .await
                .status,
            404
        );
    }
    let stats = h.stats();
    for key in [
        "componenttypes/schema",
        "resourcetypes/schema",
        "clustercomponenttypes/schema",
        "clusterresourcetypes/schema",
    ] {
        assert!(stats.list(key) >= 3, "{key}: {}", stats.list(key));
    }
    // Kinds without /schema don't serve it.
    assert_eq!(
        client
            .get("/api/v1/namespaces/ns-000/environments/env-00/schema")
            .await
            .status,
        404
    );
}

#[tokio::test]
async fn admin_api_edits_every_kind() {
    let server = start(InstallationSpec::small()).await;
    let h = server.handle();
    let client = Client::new(&server);
    for kind in Kind::ALL {
        let base = if kind.is_cluster() {
            format!("/admin/cluster/{}", kind.plural())
        } else {
            format!("/admin/namespaces/ns-000/{}", kind.plural())
        };
        let ns = scope(kind, "ns-000");
        let before = h.list_names(kind, ns).unwrap();
        assert_eq!(client.get(&base).await.json(), json!(before));

        // Add one.
        let put = client
            .send(Method::PUT, &format!("{base}/aaa-added"), Some(json!({"spec": {"owner": {"projectName": "ns-000-proj-00"}}, "metadata": {"labels": {"team": "a"}}})))
            .await;
        assert_eq!(put.status, 200, "{kind:?}: {}", put.text);
        let stored = put.json();
        assert_eq!(stored["kind"], kind.api_kind());
        assert_eq!(
            stored["metadata"].get("namespace").is_some(),
            !kind.is_cluster(),
            "{kind:?}"
        );
        let (listed, _) = client.walk(&list_path(kind, "ns-000"), 2).await;
        assert_eq!(listed[0], "aaa-added", "{kind:?}");
        assert_eq!(listed.len(), before.len() + 1);

        // Delete a synthetic one and the added one.
        let victim = &before[0];
        assert_eq!(
            client
                .send(Method::DELETE, &format!("{base}/{victim}"), None)
                .await
                .status,
            204
        );
        assert_eq!(
            client
                .send(Method::DELETE, &format!("{base}/aaa-added"), None)
                .await
                .status,
            204
        );
        assert_eq!(
            client
                .send(Method::DELETE, &format!("{base}/aaa-added"), None)
                .await
                .status,
            404
        );
        let (listed, _) = client.walk(&list_path(kind, "ns-000"), 100).await;
        assert_eq!(listed, before[1..].to_vec(), "{kind:?}");
        assert_eq!(
            client
                .get(&format!("{}/{victim}", list_path(kind, "ns-000")))
                .await
                .status,
            404
        );
    }
    // The summary follows the edits.
    let summary = h.summary();
    assert_eq!(
        summary.count(Kind::ClusterTrait),
        InstallationSpec::small().kinds[&Kind::ClusterTrait] - 1
    );
    assert_eq!(
        summary.by_namespace["ns-000"].kinds[&Kind::Environment],
        InstallationSpec::small().kinds[&Kind::Environment] - 1
    );
    assert_eq!(client.get("/admin/cluster/gadgets").await.status, 404);
}

#[tokio::test]
async fn unserved_kinds_answer_404_everywhere() {
    let spec = InstallationSpec {
        unserved_kinds: [
            Kind::ObservabilityAlertsNotificationChannel,
            Kind::ClusterWorkflowPlane,
        ]
        .into(),
        ..InstallationSpec::small()
    };
    let server = start(spec).await;
    let h = server.handle();
    let client = Client::new(&server);
    let channels = "/api/v1/namespaces/ns-000/observabilityalertsnotificationchannels";
    for path in [
        channels.to_owned(),
        format!("{channels}/alerts-00"),
        "/api/v1/clusterworkflowplanes".into(),
        "/api/v1/clusterworkflowplanes/shared-workflowplane-00".into(),
    ] {
        let reply = client.get(&path).await;
        assert_eq!(reply.status, 404, "{path}");
        assert_eq!(
            reply.text, "404 page not found\n",
            "as Go's mux answers a route it doesn't have"
        );
    }
    assert!(!h.summary().kinds.contains_key(&Kind::ClusterWorkflowPlane));
    assert_eq!(
        h.unserved_kinds(),
        vec![
            Kind::ObservabilityAlertsNotificationChannel,
            Kind::ClusterWorkflowPlane
        ]
    );

    // Served again through the admin API: the items were kept.
    let reply = client
        .send(
            Method::PUT,
            "/admin/kinds/clusterworkflowplanes/served",
            Some(json!(true)),
        )
        .await;
    assert_eq!(reply.status, 200);
    assert_eq!(
        client
            .walk("/api/v1/clusterworkflowplanes", 10)
            .await
            .0
            .len(),
        3
    );
    // And hidden through the handle.
    h.set_served(Kind::Environment, false);
    assert_eq!(
        client
            .get("/api/v1/namespaces/ns-000/environments")
            .await
            .status,
        404
    );
    assert_eq!(
        client
            .get("/api/v1/namespaces/ns-000/environments/env-00")
            .await
            .status,
        404
    );
    h.set_served(Kind::ComponentType, false);
    assert_eq!(
        client
            .get("/api/v1/namespaces/ns-000/componenttypes/service-00/schema")
            .await
            .status,
        404
    );
    let kinds = client.get("/admin/kinds").await.json();
    let served: Vec<&str> = kinds
        .as_array()
        .unwrap()
        .iter()
        .filter(|k| k["served"] == false)
        .map(|k| k["plural"].as_str().unwrap())
        .collect();
    assert_eq!(
        served,
        vec![
            "environments",
            "observabilityalertsnotificationchannels",
            "componenttypes"
        ]
    );
}

#[tokio::test]
async fn empty_installation_has_no_items_of_any_kind() {
    let server = start(InstallationSpec {
        namespaces: 0,
        ..InstallationSpec::default()
    })
    .await;
    let h = server.handle();
    let client = Client::new(&server);
    for kind in Kind::cluster() {
        assert_eq!(
            client.walk(&list_path(kind, ""), 10).await.0.len(),
            0,
            "{kind:?}"
        );
    }
    h.add_namespace("team").unwrap();
    h.put_item(
        Kind::ClusterTrait,
        "",
        json!({"metadata": {"name": "ingress"}}),
    )
    .unwrap();
    h.put_item(
        Kind::Environment,
        "team",
        json!({"metadata": {"name": "dev"}, "spec": {"isProduction": false}}),
    )
    .unwrap();
    assert_eq!(
        client.walk("/api/v1/clustertraits", 10).await.0,
        vec!["ingress"]
    );
    assert_eq!(
        client
            .walk("/api/v1/namespaces/team/environments", 10)
            .await
            .0,
        vec!["dev"]
    );
    assert_eq!(h.summary().kinds.values().sum::<usize>(), 2);
}

#[tokio::test]
async fn label_selectors_filter_and_malformed_ones_are_400() {
    let server = start(InstallationSpec::default()).await;
    let h = server.handle();
    let client = Client::new(&server);
    let ns = "ns-001";
    let expected: Vec<String> = h
        .list_names(Kind::Workflow, ns)
        .unwrap()
        .into_iter()
        .filter(|n| {
            h.get_item(Kind::Workflow, ns, n).unwrap().unwrap()["metadata"]["labels"]
                ["openchoreo.dev/workflow-type"]
                == "component"
        })
        .collect();
    assert!(!expected.is_empty());
    let (names, _) = client
        .walk(&format!("/api/v1/namespaces/{ns}/workflows?labelSelector=openchoreo.dev/workflow-type%3Dcomponent"), 1)
        .await;
    assert_eq!(names, expected);
    let (names, _) = client
        .walk(
            &format!(
                "/api/v1/namespaces/{ns}/workflows?labelSelector=!openchoreo.dev/workflow-type"
            ),
            1,
        )
        .await;
    assert!(names.iter().all(|n| !expected.contains(n)));

    // Components of one project by label, paged: the same as ?project=.
    let project = "ns-001-proj-02";
    let (by_label, _) = client
        .walk(&format!("/api/v1/namespaces/{ns}/components?labelSelector=openchoreo.dev/project%3D{project}"), 7)
        .await;
    let (by_project, _) = client
        .walk(
            &format!("/api/v1/namespaces/{ns}/components?project={project}"),
            7,
        )
        .await;
    assert_eq!(by_label.len(), 20);
    assert_eq!(by_label, by_project);
    let (none, calls) = client
        .walk(
            &format!("/api/v1/namespaces/{ns}/projects?labelSelector=tier+in+(gold)"),
            5,
        )
        .await;
    assert_eq!((none.len(), calls), (0, 1));
    let (namespaces, _) = client
        .walk(
            "/api/v1/namespaces?labelSelector=openchoreo.dev/control-plane%3Dtrue",
            2,
        )
        .await;
    assert_eq!(namespaces.len(), 3);

    // Resources accept ?project= too, and check the project like components do.
    let (resources, _) = client
        .walk(
            &format!("/api/v1/namespaces/{ns}/resources?project=ns-001-proj-00"),
            2,
        )
        .await;
    assert!(!resources.is_empty());
    for r in &resources {
        assert_eq!(
            h.get_item(Kind::Resource, ns, r).unwrap().unwrap()["spec"]["owner"]["projectName"],
            "ns-001-proj-00"
        );
    }
    assert_eq!(
        client
            .get(&format!("/api/v1/namespaces/{ns}/resources?project=nope"))
            .await
            .status,
        404
    );

    for bad in ["a%3D(", "in+in+in", "x%3D%3D%3Dy", "!"] {
        let reply = client
            .get(&format!(
                "/api/v1/namespaces/{ns}/components?labelSelector={bad}"
            ))
            .await;
        assert_eq!(reply.status, 400, "{bad}");
        assert_eq!(reply.json()["code"], "BAD_REQUEST");
        assert!(reply.json()["error"]
            .as_str()
            .unwrap()
            .starts_with("invalid label selector"));
    }
}

#[tokio::test]
async fn references_point_at_items_that_exist() {
    let server = start(InstallationSpec::default()).await;
    let h = server.handle();
    let exists = |kind: Kind, ns: &str, name: &str| {
        h.get_item(kind, scope(kind, ns), name).unwrap().is_some()
    };
    for ns in h.namespaces() {
        for c in h
            .list_names(Kind::Component, &ns)
            .unwrap()
            .iter()
            .step_by(7)
        {
            let item = h.get_item(Kind::Component, &ns, c).unwrap().unwrap();
            let kind =
                Kind::parse(item["spec"]["componentType"]["kind"].as_str().unwrap()).unwrap();
            let (workload, ct) = item["spec"]["componentType"]["name"]
                .as_str()
                .unwrap()
                .split_once('/')
                .unwrap();
            assert!(exists(kind, &ns, ct), "{c}: {ct}");
            let declared = h.get_item(kind, scope(kind, &ns), ct).unwrap().unwrap();
            assert_eq!(
                declared["spec"]["workloadType"]
                    .as_str()
                    .unwrap_or("deployment"),
                workload
            );
        }
        for p in h.list_names(Kind::Project, &ns).unwrap() {
            let item = h.get_item(Kind::Project, &ns, &p).unwrap().unwrap();
            assert!(exists(
                Kind::DeploymentPipeline,
                &ns,
                item["spec"]["deploymentPipelineRef"]["name"]
                    .as_str()
                    .unwrap()
            ));
            let kind = Kind::parse(item["spec"]["type"]["kind"].as_str().unwrap()).unwrap();
            assert!(exists(
                kind,
                &ns,
                item["spec"]["type"]["name"].as_str().unwrap()
            ));
        }
        for r in all_items(&h, Kind::Resource)
            .iter()
            .filter(|r| r["metadata"]["namespace"] == ns.as_str())
        {
            assert!(exists(
                Kind::Project,
                &ns,
                r["spec"]["owner"]["projectName"].as_str().unwrap()
            ));
            let kind =
                Kind::parse(r["spec"]["type"]["kind"].as_str().unwrap_or("ResourceType")).unwrap();
            assert!(exists(
                kind,
                &ns,
                r["spec"]["type"]["name"].as_str().unwrap()
            ));
        }
    }
}

#[tokio::test]
async fn the_default_installation_has_the_variety_consumers_must_handle() {
    let server = start(InstallationSpec::default()).await;
    let h = server.handle();
    let shapes = |kind: Kind, f: &dyn Fn(&Value) -> String| -> BTreeSet<String> {
        all_items(&h, kind).iter().map(f).collect()
    };
    let set = |v: &[&str]| {
        v.iter()
            .map(|s| s.to_string())
            .collect::<BTreeSet<String>>()
    };
    let at = |item: &Value, ptr: &str| {
        item.pointer(ptr).map_or("absent".to_owned(), |v| {
            v.as_str().map_or(v.to_string(), str::to_owned)
        })
    };

    assert_eq!(
        shapes(Kind::Environment, &|e| at(e, "/spec/isProduction")),
        set(&["true", "false", "absent"])
    );
    assert_eq!(
        shapes(Kind::Environment, &|e| at(e, "/spec/dataPlaneRef/kind")),
        set(&["DataPlane", "ClusterDataPlane", "absent"])
    );
    let ingress = shapes(Kind::Environment, &|e| {
        [
            "external/http",
            "external/https",
            "internal/http",
            "internal/https",
        ]
        .iter()
        .filter(|p| {
            e.pointer(&format!("/spec/gateway/ingress/{p}/host"))
                .is_some()
        })
        .copied()
        .collect::<Vec<_>>()
        .join(",")
    });
    assert!(ingress.len() >= 4, "{ingress:?}");
    assert_eq!(
        shapes(Kind::ObservabilityAlertsNotificationChannel, &|c| at(
            c,
            "/spec/type"
        )),
        set(&["email", "webhook"])
    );
    for kind in [
        Kind::DataPlane,
        Kind::WorkflowPlane,
        Kind::ObservabilityPlane,
        Kind::ClusterDataPlane,
        Kind::ClusterObservabilityPlane,
        Kind::ClusterWorkflowPlane,
    ] {
        assert_eq!(
            shapes(kind, &|p| at(p, "/status/agentConnection/connected")),
            set(&["true", "false", "absent"]),
            "{kind:?}"
        );
        assert!(shapes(kind, &|p| at(p, "/status/conditions/0/type")).contains("Created"));
    }
    assert_eq!(
        shapes(Kind::DataPlane, &|p| at(
            p,
            "/spec/observabilityPlaneRef/kind"
        )),
        set(&["ObservabilityPlane", "ClusterObservabilityPlane", "absent"])
    );
    assert!(shapes(Kind::ObservabilityPlane, &|p| at(p, "/spec/observerURL")).len() > 2);
    let sources = shapes(Kind::DeploymentPipeline, &|p| {
        p["spec"]["promotionPaths"]
            .as_array()
            .map_or("none".into(), |paths| {
                paths
                    .iter()
                    .map(|x| {
                        if x["sourceEnvironmentRef"].is_string() {
                            "string"
                        } else {
                            "object"
                        }
                    })
                    .collect::<Vec<_>>()
                    .join(",")
            })
    });
    assert!(
        sources.iter().any(|s| s.contains("string"))
            && sources.iter().any(|s| s.contains("object"))
            && sources.contains("none"),
        "{sources:?}"
    );
    let cts: Vec<Value> = [
        all_items(&h, Kind::ComponentType),
        all_items(&h, Kind::ClusterComponentType),
    ]
    .concat();
    let workload_types: BTreeSet<String> =
        cts.iter().map(|c| at(c, "/spec/workloadType")).collect();
    assert!(
        workload_types.contains("absent")
            && workload_types.contains("deployment")
            && workload_types.len() >= 5,
        "{workload_types:?}"
    );
    assert!(cts.iter().any(|c| c
        .pointer("/metadata/annotations/scaffolder.openchoreo.dev~1backstage-template-url")
        .is_some()));
    assert!(cts.iter().any(|c| c["spec"]["allowedWorkflows"]
        .as_array()
        .is_some_and(|a| a.iter().any(|w| w.get("name").is_none()))));
    assert!(cts.iter().any(|c| c["spec"]["allowedTraits"]
        .as_array()
        .is_some_and(|a| a.iter().any(|w| w.get("kind").is_none()))));
    assert!(cts.iter().any(|c| c["spec"].get("allowedTraits").is_none()));
    assert!(cts.iter().any(|c| c["spec"]["allowedTraits"] == json!([])));
    assert_eq!(
        shapes(Kind::ResourceType, &|r| at(r, "/spec/retainPolicy")),
        set(&["Delete", "Retain", "absent"])
    );
    assert!(all_items(&h, Kind::ProjectType).iter().all(|p| p
        .pointer("/spec/parameters/openAPIV3Schema/properties")
        .is_some()));
    assert_eq!(
        shapes(Kind::Resource, &|r| at(r, "/spec/type/kind")),
        set(&["ResourceType", "ClusterResourceType", "absent"])
    );
    let workflows: Vec<Value> = [
        all_items(&h, Kind::Workflow),
        all_items(&h, Kind::ClusterWorkflow),
    ]
    .concat();
    let labels: BTreeSet<String> = workflows
        .iter()
        .map(|w| at(w, "/metadata/labels/openchoreo.dev~1workflow-type"))
        .collect();
    assert!(
        labels.contains("component") && labels.contains("absent"),
        "{labels:?}"
    );
    assert!(workflows.iter().any(|w| w
        .to_string()
        .contains("x-openchoreo-component-parameter-repository-url")));
    assert!(workflows
        .iter()
        .any(|w| w["spec"].get("ttlAfterCompletion").is_some()));
    assert_eq!(
        shapes(Kind::Workflow, &|w| at(w, "/spec/workflowPlaneRef/kind")),
        set(&["WorkflowPlane", "ClusterWorkflowPlane", "absent"])
    );
    let every: Vec<Value> = Kind::ALL
        .into_iter()
        .filter(|k| k.is_platform())
        .flat_map(|k| all_items(&h, k))
        .collect();
    assert!(every
        .iter()
        .any(|i| i["metadata"].get("creationTimestamp").is_none()));
    assert!(every.iter().any(|i| i["metadata"]["annotations"]
        .get("openchoreo.dev/display-name")
        .is_some()));
    assert!(every.iter().any(|i| i["metadata"]["annotations"]
        .get("openchoreo.dev/description")
        .is_none()));
}

#[tokio::test]
async fn same_seed_same_items_other_seed_other_ids() {
    let a = start(InstallationSpec::small()).await;
    let b = start(InstallationSpec::small()).await;
    let c = start(InstallationSpec {
        seed: 2,
        ..InstallationSpec::small()
    })
    .await;
    for kind in Kind::ALL {
        let items = all_items(&a.handle(), kind);
        assert_eq!(items, all_items(&b.handle(), kind), "{kind:?}");
        let other = all_items(&c.handle(), kind);
        assert_eq!(
            items.iter().map(name_of).collect::<Vec<_>>(),
            other.iter().map(name_of).collect::<Vec<_>>()
        );
        assert_ne!(items, other, "{kind:?}: the seed varies uids");
    }
}

#[tokio::test]
async fn serves_the_custom_templates_its_component_types_name_when_asked() {
    let server = start(InstallationSpec::small()).await;
    let h = server.handle();
    let url_of = |item: &Value| {
        item.pointer("/metadata/annotations/scaffolder.openchoreo.dev~1backstage-template-url")
            .and_then(Value::as_str)
            .map(str::to_owned)
    };
    let named = |h: &MockHandle| -> Vec<String> {
        [
            all_items(h, Kind::ComponentType),
            all_items(h, Kind::ClusterComponentType),
        ]
        .concat()
        .iter()
        .filter_map(url_of)
        .collect()
    };
    // By default: a repository that does not exist.
    assert!(named(&h)
        .iter()
        .all(|u| u.starts_with("https://github.com/example/")));

    h.serve_templates(&server.url());
    let urls = named(&h);
    assert!(!urls.is_empty());
    let client = Client::new(&server);
    for url in &urls {
        let path = url
            .strip_prefix(&server.url())
            .unwrap_or_else(|| panic!("{url} is not the mock's"));
        let reply = client.get(path).await;
        assert_eq!(reply.status, 200, "{url}");
        assert!(reply.text.contains("\nkind: Template\n"), "{}", reply.text);
    }
    // A new installation keeps serving them.
    h.set_installation(InstallationSpec::small()).unwrap();
    assert_eq!(named(&h), urls);
}

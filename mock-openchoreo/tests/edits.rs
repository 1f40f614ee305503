//! Changing the installation while it runs, through the library and the admin API.

mod common;

use common::{start, Client};
use mock_openchoreo::{InstallationSpec, Kind, MockError, Summary};
use reqwest::Method;
use serde_json::{json, Value};

#[tokio::test]
async fn library_edits_show_in_lists_and_counts() {
    let server = start(InstallationSpec::small()).await;
    let h = server.handle();
    let client = Client::new(&server);
    let before = h.summary();

    // Replace a synthetic component, add one, delete one.
    let mut comp = h
        .get_item(Kind::Component, "ns-000", "ns-000-proj-01-comp-002")
        .unwrap()
        .unwrap();
    comp["metadata"]["annotations"]["openchoreo.dev/display-name"] = json!("Renamed");
    h.put_item(Kind::Component, "ns-000", comp).unwrap();
    h.put_item(Kind::Component, "ns-000", json!({"metadata": {"name": "aaa-new"}, "spec": {"owner": {"projectName": "ns-000-proj-00"}}})).unwrap();
    assert!(h
        .delete_item(Kind::Component, "ns-000", "ns-000-proj-02-comp-000")
        .unwrap());
    assert!(!h
        .delete_item(Kind::Component, "ns-000", "never-existed")
        .unwrap());

    let (names, _) = client.walk("/api/v1/namespaces/ns-000/components", 5).await;
    assert_eq!(names.len(), 12);
    assert_eq!(names[0], "aaa-new");
    assert!(!names.contains(&"ns-000-proj-02-comp-000".to_string()));
    let page = client
        .get("/api/v1/namespaces/ns-000/components?project=ns-000-proj-01")
        .await
        .json();
    let renamed = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["metadata"]["name"] == "ns-000-proj-01-comp-002")
        .unwrap();
    assert_eq!(
        renamed["metadata"]["annotations"]["openchoreo.dev/display-name"],
        "Renamed"
    );
    let added = h
        .get_item(Kind::Component, "ns-000", "aaa-new")
        .unwrap()
        .unwrap();
    assert_eq!(
        (
            added["kind"].clone(),
            added["metadata"]["namespace"].clone()
        ),
        (json!("Component"), json!("ns-000"))
    );

    // A workload without schemas lowers the API count.
    h.put_item(Kind::Workload, "ns-000", json!({"metadata": {"name": "aaa-new-workload"}, "spec": {"owner": {"projectName": "ns-000-proj-00", "componentName": "aaa-new"}, "endpoints": {"api": {"type": "HTTP", "port": 80}}}})).unwrap();
    let after = h.summary();
    assert_eq!(after.components, before.components);
    assert_eq!(after.workloads, before.workloads + 1);
    assert_eq!(after.endpoints, before.endpoints + 1);
    assert_eq!(after.endpoints_with_schema, before.endpoints_with_schema);

    // Namespaces: delete one with everything in it, add an empty one.
    assert!(h.delete_namespace("ns-001"));
    // Like the real server, a list under a namespace that doesn't exist is empty.
    let gone = client.get("/api/v1/namespaces/ns-001/projects").await;
    assert_eq!((gone.status, gone.json()["items"].clone()), (200, json!([])));
    assert_eq!(client.get("/api/v1/namespaces/ns-001").await.status, 404);
    h.add_namespace("team-z").unwrap();
    let (namespaces, _) = client.walk("/api/v1/namespaces", 10).await;
    assert_eq!(namespaces, vec!["ns-000", "team-z"]);
    let (projects, calls) = client.walk("/api/v1/namespaces/team-z/projects", 10).await;
    assert_eq!((projects.len(), calls), (0, 1));
    h.put_item(Kind::Project, "team-z", json!({"metadata": {"name": "web"}, "spec": {"deploymentPipelineRef": {"kind": "DeploymentPipeline", "name": "default"}}})).unwrap();
    assert_eq!(h.list_names(Kind::Project, "team-z").unwrap(), vec!["web"]);
    assert_eq!(h.summary().namespaces, 2);

    assert_eq!(
        h.put_item(Kind::Project, "nope", json!({"metadata": {"name": "x"}})),
        Err(MockError::NamespaceNotFound("nope".into()))
    );
    assert!(matches!(
        h.put_item(Kind::Project, "team-z", json!({"spec": {}})),
        Err(MockError::InvalidItem(_))
    ));
}

#[tokio::test]
async fn admin_api_edits_faults_and_stats() {
    let server = start(InstallationSpec::small()).await;
    let client = Client::new(&server);

    let summary: Summary =
        serde_json::from_value(client.get("/admin/summary").await.json()).unwrap();
    assert_eq!(summary, InstallationSpec::small().expected_counts());
    assert_eq!(
        (
            summary.namespaces,
            summary.projects,
            summary.components,
            summary.workloads
        ),
        (2, 6, 24, 24)
    );
    assert_eq!(summary.endpoints, 48);
    assert_eq!(summary.endpoints_with_schema, 24);

    // Items.
    let put = client
        .send(
            Method::PUT,
            "/admin/namespaces/ns-000/components/zz-added",
            Some(json!({"spec": {"owner": {"projectName": "ns-000-proj-00"}}})),
        )
        .await;
    assert_eq!(put.status, 200, "{}", put.text);
    assert_eq!(put.json()["metadata"]["name"], "zz-added");
    assert_eq!(
        client
            .send(
                Method::DELETE,
                "/admin/namespaces/ns-000/components/ns-000-proj-00-comp-000",
                None
            )
            .await
            .status,
        204
    );
    assert_eq!(
        client
            .send(
                Method::DELETE,
                "/admin/namespaces/ns-000/components/ns-000-proj-00-comp-000",
                None
            )
            .await
            .status,
        404
    );
    let names: Vec<String> = serde_json::from_value(
        client
            .get("/admin/namespaces/ns-000/components")
            .await
            .json(),
    )
    .unwrap();
    assert_eq!(names.len(), 12);
    assert_eq!(names.last().unwrap(), "zz-added");
    let (walked, _) = client.walk("/api/v1/namespaces/ns-000/components", 4).await;
    assert_eq!(walked, names);
    assert_eq!(
        client
            .send(
                Method::PUT,
                "/admin/namespaces/ghost/projects/p",
                Some(json!({}))
            )
            .await
            .status,
        404
    );
    assert_eq!(
        client
            .send(
                Method::PUT,
                "/admin/namespaces/ns-000/gadgets/p",
                Some(json!({}))
            )
            .await
            .status,
        404
    );
    assert_eq!(
        client
            .send(
                Method::PUT,
                "/admin/namespaces/ns-000/projects/p",
                Some(json!([1]))
            )
            .await
            .status,
        400
    );

    // Namespaces: with and without a body.
    assert_eq!(
        client
            .send(Method::PUT, "/admin/namespaces/empty-ns", None)
            .await
            .status,
        200
    );
    let custom = json!({"metadata": {"labels": {"openchoreo.dev/control-plane": "true"}, "annotations": {"openchoreo.dev/display-name": "Custom"}}, "status": {"phase": "Active"}});
    assert_eq!(
        client
            .send(Method::PUT, "/admin/namespaces/custom-ns", Some(custom))
            .await
            .status,
        200
    );
    let listed = client.get("/api/v1/namespaces").await.json();
    let custom_item = listed["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["metadata"]["name"] == "custom-ns")
        .unwrap();
    assert_eq!(
        custom_item["metadata"]["annotations"]["openchoreo.dev/display-name"],
        "Custom"
    );
    assert_eq!(
        client
            .send(Method::DELETE, "/admin/namespaces/ns-001", None)
            .await
            .status,
        204
    );
    let namespaces: Vec<String> =
        serde_json::from_value(client.get("/admin/namespaces").await.json()).unwrap();
    assert_eq!(namespaces, vec!["custom-ns", "empty-ns", "ns-000"]);

    // Faults: PUT replaces, PATCH merges, bad input is refused.
    let f = client
        .send(
            Method::PUT,
            "/admin/faults",
            Some(json!({"latencyMs": 1, "seed": 5})),
        )
        .await
        .json();
    assert_eq!(
        (
            f["latencyMs"].clone(),
            f["errorRate"].clone(),
            f["cursorTtlMs"].clone()
        ),
        (json!(1), json!(0.0), json!(300000))
    );
    let f = client
        .send(
            Method::PATCH,
            "/admin/faults",
            Some(json!({"emptyLists": true})),
        )
        .await
        .json();
    assert_eq!(
        (f["latencyMs"].clone(), f["emptyLists"].clone()),
        (json!(1), json!(true))
    );
    assert_eq!(client.get("/admin/faults").await.json(), f);
    assert_eq!(
        client
            .send(Method::PUT, "/admin/faults", Some(json!({"errorRate": 2})))
            .await
            .status,
        400
    );
    assert_eq!(
        client
            .send(Method::PUT, "/admin/faults", Some(json!({"typo": 1})))
            .await
            .status,
        400
    );
    let empty = client
        .get("/api/v1/namespaces/ns-000/components")
        .await
        .json();
    assert_eq!(empty, json!({"items": [], "pagination": {}}));
    client
        .send(Method::PUT, "/admin/faults", Some(json!({})))
        .await;

    // Stats.
    assert_eq!(
        client
            .send(Method::POST, "/admin/stats/reset", None)
            .await
            .status,
        204
    );
    client.get("/api/v1/namespaces").await;
    client.get("/api/v1/namespaces/ns-000/projects").await;
    client
        .get("/api/v1/namespaces/ns-000/projects?limit=1")
        .await;
    client.get("/api/v1/namespaces/ns-000/workloads").await;
    let stats = client.get("/admin/stats").await.json();
    assert_eq!(stats["requests"], 4);
    assert_eq!(
        stats["byPath"],
        json!({"/api/v1/namespaces": 1, "/api/v1/namespaces/ns-000/projects": 2, "/api/v1/namespaces/ns-000/workloads": 1})
    );
    let by_list = stats["byList"].as_object().unwrap();
    for (list, n) in [("namespaces", 1), ("projects", 2), ("components", 0), ("workloads", 1)] {
        assert_eq!(by_list[list], n, "{list}");
    }
    // Every other list (and /schema route) is present and untouched.
    assert_eq!(by_list.len(), 1 + 23 + 4);
    assert_eq!(by_list.values().filter_map(|v| v.as_u64()).sum::<u64>(), 4);

    // Regenerating drops every edit.
    let spec = json!({"namespaces": 1, "projectsPerNamespace": 2, "componentsPerProject": 3, "endpointsPerWorkload": 1, "schemaShare": 1.0, "dependenciesPerComponent": 0, "seed": 9});
    let summary = client
        .send(Method::PUT, "/admin/installation", Some(spec.clone()))
        .await
        .json();
    assert_eq!(
        (
            summary["components"].clone(),
            summary["endpointsWithSchema"].clone()
        ),
        (json!(6), json!(6))
    );
    // Omitted fields take the default installation's values.
    let mut expected = spec.clone();
    expected["kinds"] = serde_json::to_value(mock_openchoreo::default_kind_counts()).unwrap();
    expected["unservedKinds"] = json!([]);
    assert_eq!(client.get("/admin/installation").await.json(), expected);
    assert_eq!(expected["kinds"]["environments"], 3);
    let (namespaces, _) = client.walk("/api/v1/namespaces", 10).await;
    assert_eq!(namespaces, vec!["ns-000"]);
    assert_eq!(
        client
            .send(
                Method::PUT,
                "/admin/installation",
                Some(json!({"schemaShare": 3}))
            )
            .await
            .status,
        400
    );
}

#[tokio::test]
async fn replacing_a_namespace_keeps_its_content() {
    let server = start(InstallationSpec::small()).await;
    let h = server.handle();
    let mut ns: Value = h.get_namespace("ns-000").unwrap();
    ns["metadata"]["annotations"]["openchoreo.dev/display-name"] = json!("Tenant Zero");
    h.put_namespace(ns).unwrap();
    assert_eq!(h.list_names(Kind::Component, "ns-000").unwrap().len(), 12);
    assert_eq!(
        h.get_namespace("ns-000").unwrap()["metadata"]["annotations"]
            ["openchoreo.dev/display-name"],
        "Tenant Zero"
    );
    // Deleted then re-created: empty.
    h.delete_namespace("ns-000");
    h.add_namespace("ns-000").unwrap();
    assert_eq!(h.list_names(Kind::Component, "ns-000").unwrap().len(), 0);
    assert_eq!(h.summary().by_namespace["ns-000"].components, 0);
}

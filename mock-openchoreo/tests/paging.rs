//! The `/api/v1` contract: envelope, pagination, limits, cursors, errors, auth.

mod common;

use std::time::Duration;

use common::{name_of, start, Client};
use mock_openchoreo::{cursor_after, InstallationSpec, Kind, MockOptions, MockServer};
use serde_json::json;

#[tokio::test]
async fn walks_cover_every_item_once_at_several_page_sizes() {
    let server = start(InstallationSpec::default()).await;
    let h = server.handle();
    let client = Client::new(&server);
    let summary = h.summary();
    assert_eq!(
        (
            summary.namespaces,
            summary.projects,
            summary.components,
            summary.workloads
        ),
        (3, 30, 600, 600)
    );

    for limit in [1, 7, 20, 100] {
        h.reset_stats();
        let (namespaces, calls) = client.walk("/api/v1/namespaces", limit).await;
        assert_eq!(namespaces, h.namespaces());
        assert_eq!(calls, 3usize.div_ceil(limit));
        for ns in &namespaces {
            for kind in Kind::BASIC {
                let (names, calls) = client
                    .walk(&format!("/api/v1/namespaces/{ns}/{}", kind.plural()), limit)
                    .await;
                let expected = h.list_names(kind, ns).unwrap();
                assert_eq!(names, expected, "{kind:?} in {ns} at limit {limit}");
                assert_eq!(calls, expected.len().div_ceil(limit).max(1));
            }
        }
        // The summary's lower bound is exactly what a complete walk costs.
        assert_eq!(h.stats().requests, summary.min_list_calls(limit));
    }
}

#[tokio::test]
async fn limit_defaults_to_20_and_is_clamped() {
    let spec = InstallationSpec {
        namespaces: 1,
        projects_per_namespace: 150,
        components_per_project: 1,
        ..InstallationSpec::small()
    };
    let server = start(spec).await;
    let client = Client::new(&server);
    let count = |limit: &str| {
        let client = &client;
        let path = format!("/api/v1/namespaces/ns-000/projects{limit}");
        async move {
            client.get(&path).await.json()["items"]
                .as_array()
                .unwrap()
                .len()
        }
    };
    assert_eq!(count("").await, 20);
    assert_eq!(count("?limit=").await, 20);
    assert_eq!(count("?limit=0").await, 1);
    assert_eq!(count("?limit=-5").await, 1);
    assert_eq!(count("?limit=1000").await, 100);
    assert_eq!(count("?limit=42").await, 42);

    let bad = client
        .get("/api/v1/namespaces/ns-000/projects?limit=ten")
        .await;
    // The server's generated parameter binding answers in plain text, not ErrorResponse.
    assert_eq!(bad.status, 400);
    assert!(bad.headers["content-type"].to_str().unwrap().starts_with("text/plain"));
    assert!(bad.text.starts_with("Invalid format for parameter limit"), "{}", bad.text);
    assert!(serde_json::from_str::<serde_json::Value>(&bad.text).is_err());
}

#[tokio::test]
async fn last_page_has_empty_pagination_object() {
    let server = start(InstallationSpec::small()).await;
    let client = Client::new(&server);
    let page = client
        .get("/api/v1/namespaces/ns-000/projects?limit=3")
        .await
        .json();
    assert_eq!(page["items"].as_array().unwrap().len(), 3);
    assert_eq!(page["pagination"], json!({}));
    let page = client
        .get("/api/v1/namespaces/ns-000/projects?limit=2")
        .await
        .json();
    assert!(page["pagination"]["nextCursor"].is_string());
}

#[tokio::test]
async fn expired_and_undecodable_cursors_answer_500() {
    let server = start(InstallationSpec::small()).await;
    let h = server.handle();
    let client = Client::new(&server);
    let internal = json!({"error": "Internal server error", "code": "INTERNAL_ERROR"});

    let first = client
        .get("/api/v1/namespaces/ns-000/components?limit=2")
        .await
        .json();
    let cursor = first["pagination"]["nextCursor"]
        .as_str()
        .unwrap()
        .to_owned();
    h.set_cursor_ttl(Duration::from_millis(50));
    tokio::time::sleep(Duration::from_millis(120)).await;
    let expired = client
        .get(&format!(
            "/api/v1/namespaces/ns-000/components?limit=2&cursor={cursor}"
        ))
        .await;
    assert_eq!(expired.status, 500);
    assert_eq!(expired.json(), internal);

    // Restarting the list works, and a fresh cursor is good within its TTL.
    h.set_cursor_ttl(Duration::from_secs(300));
    let ok = client
        .get(&format!(
            "/api/v1/namespaces/ns-000/components?limit=2&cursor={cursor}"
        ))
        .await;
    assert_eq!(ok.status, 200);

    for bad in ["garbage", "eyJmb28iOjF9", "%%%"] {
        let reply = client
            .get(&format!(
                "/api/v1/namespaces/ns-000/components?cursor={bad}"
            ))
            .await;
        assert_eq!(reply.status, 500, "{bad}");
        assert_eq!(reply.json(), internal);
    }
}

#[tokio::test]
async fn unknown_namespace_lists_nothing_and_unknown_paths_answer_404() {
    let server = start(InstallationSpec::small()).await;
    let client = Client::new(&server);
    // The real server lists Kubernetes objects in the namespace: none, not an error.
    for kind in Kind::namespaced() {
        let reply = client.get(&format!("/api/v1/namespaces/nope/{}", kind.plural())).await;
        assert_eq!(reply.status, 200, "{kind:?}");
        assert_eq!(reply.json(), json!({"items": [], "pagination": {}}));
    }
    let item = client.get("/api/v1/namespaces/nope/projects/x").await;
    assert_eq!(item.status, 404);
    assert_eq!(client.get("/api/v1/namespaces/nope").await.status, 404);
    assert_eq!(
        client.get("/api/v1/namespaces/ns-000/gadgets").await.status,
        404
    );
    assert_eq!(client.get("/api/v1/orgs").await.json()["code"], "NOT_FOUND");
    assert_eq!(client.get("/api/v1/a/b/c/d/e").await.json()["code"], "NOT_FOUND");
    // A cluster kind is not served under a namespace, nor a namespaced one at the top.
    assert_eq!(client.get("/api/v1/namespaces/ns-000/clustertraits").await.status, 404);
    assert_eq!(client.get("/api/v1/environments").await.status, 404);
}

#[tokio::test]
async fn project_and_component_filters() {
    let server = start(InstallationSpec::small()).await;
    let client = Client::new(&server);
    let (names, _) = client
        .walk(
            "/api/v1/namespaces/ns-001/components?project=ns-001-proj-02",
            3,
        )
        .await;
    assert_eq!(
        names,
        (0..4)
            .map(|k| format!("ns-001-proj-02-comp-{k:03}"))
            .collect::<Vec<_>>()
    );
    let (names, _) = client
        .walk(
            "/api/v1/namespaces/ns-001/workloads?component=ns-001-proj-01-comp-003",
            5,
        )
        .await;
    assert_eq!(names, vec!["ns-001-proj-01-comp-003-workload"]);
    // The real server checks the project first: an unknown one is a 404.
    let missing = client
        .get("/api/v1/namespaces/ns-001/components?project=missing&limit=5")
        .await;
    assert_eq!(missing.status, 404);
    assert_eq!(missing.json(), json!({"error": "Project not found", "code": "NOT_FOUND"}));
}

#[tokio::test]
async fn deleting_during_a_walk_skips_nothing() {
    let server = start(InstallationSpec::small()).await;
    let h = server.handle();
    let client = Client::new(&server);
    let all = h.list_names(Kind::Component, "ns-000").unwrap();

    let first = client
        .get("/api/v1/namespaces/ns-000/components?limit=5")
        .await
        .json();
    let page1: Vec<String> = first["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(name_of)
        .collect();
    assert_eq!(page1, all[..5]);
    // Delete two items already seen; an offset cursor would now skip two unseen ones.
    h.delete_item(Kind::Component, "ns-000", &all[0]).unwrap();
    h.delete_item(Kind::Component, "ns-000", &all[3]).unwrap();
    let mut cursor = first["pagination"]["nextCursor"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut rest = Vec::new();
    loop {
        let page = client
            .get(&format!(
                "/api/v1/namespaces/ns-000/components?limit=5&cursor={cursor}"
            ))
            .await
            .json();
        rest.extend(page["items"].as_array().unwrap().iter().map(name_of));
        match page["pagination"]["nextCursor"].as_str() {
            Some(c) => cursor = c.to_owned(),
            None => break,
        }
    }
    assert_eq!(rest, all[5..]);
}

#[tokio::test]
async fn cursor_after_jumps_into_a_list() {
    let server = start(InstallationSpec::small()).await;
    let client = Client::new(&server);
    let page = client
        .get(&format!(
            "/api/v1/namespaces/ns-000/projects?cursor={}",
            cursor_after("ns-000-proj-00")
        ))
        .await
        .json();
    let names: Vec<String> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(name_of)
        .collect();
    assert_eq!(names, vec!["ns-000-proj-01", "ns-000-proj-02"]);
}

#[tokio::test]
async fn bearer_token_is_required_on_api_only() {
    let opts = MockOptions {
        port: 0,
        token: Some("s3cret".into()),
        spec: InstallationSpec::small(),
        ..MockOptions::default()
    };
    let server = MockServer::start(opts).await.unwrap();
    let anonymous = Client::new(&server);
    let missing = anonymous.get("/api/v1/namespaces").await;
    assert_eq!(missing.status, 401);
    assert_eq!(
        missing.json(),
        json!({"error": "MISSING_TOKEN", "message": "missing or invalid authentication token"})
    );
    let wrong = Client::new(&server)
        .with_token("nope")
        .get("/api/v1/namespaces/ns-000/projects")
        .await;
    assert_eq!(wrong.status, 401);
    assert_eq!(
        wrong.json(),
        json!({"error": "INVALID_TOKEN", "message": "missing or invalid authentication token"})
    );
    assert_eq!(
        Client::new(&server)
            .with_token("s3cret")
            .get("/api/v1/namespaces")
            .await
            .status,
        200
    );

    let health = anonymous.get("/health").await;
    assert_eq!((health.status, health.text.as_str()), (200, "OK"));
    assert_eq!(anonymous.get("/ready").await.status, 200);
    assert_eq!(
        anonymous.get("/version").await.json()["name"],
        "openchoreo-api"
    );
    assert_eq!(anonymous.get("/admin/summary").await.status, 200);
    // Rejected requests are counted too.
    assert_eq!(server.handle().stats().requests, 3);
}

#[tokio::test]
async fn items_follow_the_spec_shapes() {
    let server = start(InstallationSpec::small()).await;
    let client = Client::new(&server);
    let ns = &client.get("/api/v1/namespaces").await.json()["items"][0];
    assert_eq!(ns["status"]["phase"], "Active");
    assert_eq!(
        ns["metadata"]["labels"]["openchoreo.dev/control-plane"],
        "true"
    );

    let project = &client
        .get("/api/v1/namespaces/ns-000/projects")
        .await
        .json()["items"][0];
    assert_eq!(project["kind"], "Project");
    assert_eq!(
        project["spec"]["deploymentPipelineRef"]["kind"],
        "DeploymentPipeline"
    );
    assert!(project["spec"]["type"]["name"].is_string());

    let components = client
        .get("/api/v1/namespaces/ns-000/components?limit=100")
        .await
        .json();
    for c in components["items"].as_array().unwrap() {
        assert_eq!(c["apiVersion"], "openchoreo.dev/v1alpha1");
        assert_eq!(c["metadata"]["namespace"], "ns-000");
        assert!(c["metadata"]["uid"].as_str().unwrap().len() == 36);
        assert!(c["spec"]["owner"]["projectName"]
            .as_str()
            .unwrap()
            .starts_with("ns-000-proj-"));
        assert!(c["spec"]["componentType"]["name"]
            .as_str()
            .unwrap()
            .contains('/'));
        assert_eq!(c["status"]["conditions"][0]["type"], "Ready");
    }

    let workloads = client
        .get("/api/v1/namespaces/ns-000/workloads?limit=100")
        .await
        .json();
    let mut with_schema = 0;
    for w in workloads["items"].as_array().unwrap() {
        let component = w["spec"]["owner"]["componentName"].as_str().unwrap();
        assert_eq!(name_of(w), format!("{component}-workload"));
        let endpoints = w["spec"]["endpoints"].as_object().unwrap();
        assert_eq!(endpoints.len(), 2);
        for ep in endpoints.values() {
            assert!(ep["port"].is_u64() && ep["type"].is_string() && ep["visibility"].is_array());
            with_schema += ep["schema"]["content"].is_string() as usize;
        }
        for dep in w["spec"]["dependencies"]["endpoints"].as_array().unwrap() {
            assert_ne!(dep["component"], component);
            assert!(dep["name"].is_string() && dep["envBindings"].is_object());
        }
    }
    assert_eq!(
        with_schema,
        server.handle().summary().by_namespace["ns-000"].endpoints_with_schema
    );
}

//! 200,000 components: generated on demand, paged in O(page).

mod common;

use common::{name_of, start, Client};
use mock_openchoreo::{cursor_after, InstallationSpec, Kind};

fn big() -> InstallationSpec {
    InstallationSpec {
        namespaces: 2,
        projects_per_namespace: 100,
        components_per_project: 1000,
        endpoints_per_workload: 2,
        schema_share: 0.5,
        dependencies_per_component: 2,
        seed: 7,
        ..InstallationSpec::default()
    }
}

#[tokio::test]
async fn counts_are_exact_at_200k() {
    let spec = big();
    let counts = spec.expected_counts();
    assert_eq!(counts.components, 200_000);
    assert_eq!(counts.workloads, 200_000);
    assert_eq!(counts.projects, 200);
    assert_eq!(counts.endpoints, 400_000);
    assert_eq!(counts.endpoints_with_schema, 200_000);
    // 1 namespaces call + per namespace: 1 projects + 1000 components + 1000 workloads.
    assert_eq!(counts.min_list_calls(100), 1 + 2 * (1 + 1000 + 1000));
}

#[tokio::test]
async fn pages_anywhere_in_a_huge_namespace_cost_o_page() {
    let server = start(big()).await;
    let h = server.handle();
    let client = Client::new(&server);

    // The last page: jump next to the end of 100,000 components.
    let before_last = "ns-001-proj-99-comp-997";
    h.reset_stats();
    let page = client
        .get(&format!(
            "/api/v1/namespaces/ns-001/components?limit=100&cursor={}",
            cursor_after(before_last)
        ))
        .await
        .json();
    let names: Vec<String> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(name_of)
        .collect();
    assert_eq!(
        names,
        vec!["ns-001-proj-99-comp-998", "ns-001-proj-99-comp-999"]
    );
    assert_eq!(page["pagination"], serde_json::json!({}));
    assert!(
        h.stats().items_scanned <= 3,
        "scanned {}",
        h.stats().items_scanned
    );

    // A page in the middle, then the next one via its cursor.
    h.reset_stats();
    let page = client
        .get(&format!(
            "/api/v1/namespaces/ns-000/workloads?limit=100&cursor={}",
            cursor_after("ns-000-proj-50-comp-499-workload")
        ))
        .await
        .json();
    let items = page["items"].as_array().unwrap();
    assert_eq!(items.len(), 100);
    assert_eq!(name_of(&items[0]), "ns-000-proj-50-comp-500-workload");
    let next = page["pagination"]["nextCursor"].as_str().unwrap();
    let page = client
        .get(&format!(
            "/api/v1/namespaces/ns-000/workloads?limit=100&cursor={next}"
        ))
        .await
        .json();
    assert_eq!(
        name_of(&page["items"][0]),
        "ns-000-proj-50-comp-600-workload"
    );
    assert!(
        h.stats().items_scanned <= 2 * 101,
        "scanned {}",
        h.stats().items_scanned
    );

    // Edits near the cursor are merged in without a scan.
    h.put_item(
        Kind::Component,
        "ns-001",
        serde_json::json!({"metadata": {"name": "ns-001-proj-99-comp-998a"}}),
    )
    .unwrap();
    h.delete_item(Kind::Component, "ns-001", "ns-001-proj-99-comp-999")
        .unwrap();
    let page = client
        .get(&format!(
            "/api/v1/namespaces/ns-001/components?cursor={}",
            cursor_after(before_last)
        ))
        .await
        .json();
    let names: Vec<String> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(name_of)
        .collect();
    assert_eq!(
        names,
        vec!["ns-001-proj-99-comp-998", "ns-001-proj-99-comp-998a"]
    );

    // Filters jump to the project's block too.
    h.reset_stats();
    let (names, calls) = client
        .walk(
            "/api/v1/namespaces/ns-000/components?project=ns-000-proj-73",
            100,
        )
        .await;
    assert_eq!((names.len(), calls), (1000, 10));
    assert!(
        h.stats().items_scanned <= 1000 + 10,
        "scanned {}",
        h.stats().items_scanned
    );
    let (names, _) = client
        .walk(
            "/api/v1/namespaces/ns-000/workloads?component=ns-000-proj-73-comp-123",
            100,
        )
        .await;
    assert_eq!(names, vec!["ns-000-proj-73-comp-123-workload"]);
    assert_eq!(h.summary().components, 200_000);
}

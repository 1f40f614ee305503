//! The legacy converters' own unit tests (`CtdToTemplateConverter.test.ts`,
//! `.cluster.test.ts`, `RtdToTemplateConverter*.test.ts`, `PtdToTemplateConverter*.test.ts`)
//! restated on the API's items, plus whole entities checked against the legacy code's
//! output (`testdata/legacy_cases.json`: each case's `expected` was produced by running
//! the legacy converters behind the provider's glue on the case's input; `null` = the
//! legacy provider drops the Template).

use serde_json::{json, Value};

use super::*;

fn ctx() -> TranslateContext {
    TranslateContext {
        location_key: "provider:OpenChoreoEntityProvider".into(),
        default_owner: "group:default/openchoreo-users".into(),
        domain_owner_from_annotation: false,
    }
}

fn port_schema() -> Value {
    json!({
        "type": "object",
        "properties": { "port": { "type": "integer", "title": "Port", "default": 8080 } },
        "required": ["port"],
    })
}

/// A type's list item: `name`, optional display name and description annotations, `spec`.
fn item(name: &str, display: Option<&str>, description: Option<&str>, spec: Value) -> Value {
    let mut annotations = serde_json::Map::new();
    if let Some(d) = display {
        annotations.insert("openchoreo.dev/display-name".into(), json!(d));
    }
    if let Some(d) = description {
        annotations.insert("openchoreo.dev/description".into(), json!(d));
    }
    json!({
        "metadata": { "name": name, "creationTimestamp": "2025-01-01T00:00:00Z", "annotations": annotations },
        "spec": spec,
    })
}

fn ct(ns: Option<&str>, item: &Value, schema: &Value) -> Value {
    component_type(&ctx(), ns, item, schema).unwrap().to_value()
}

fn rt(ns: Option<&str>, item: &Value) -> Value {
    resource_type(&ctx(), ns, item, &port_schema()).unwrap().to_value()
}

fn pt(ns: Option<&str>, item: &Value) -> Value {
    project_type(&ctx(), ns, item).unwrap().to_value()
}

#[test]
fn whole_templates_equal_the_legacy_converters_output() {
    let cases: Vec<Value> = serde_json::from_str(include_str!("testdata/legacy_cases.json")).unwrap();
    assert!(cases.len() >= 10);
    for case in &cases {
        let name = case["name"].as_str().unwrap();
        let ns = case["ns"].as_str();
        let item = &case["item"];
        let made = match case["fn"].as_str().unwrap() {
            "component_type" => component_type(&ctx(), ns, item, &case["schema"]),
            "resource_type" => resource_type(&ctx(), ns, item, &case["schema"]),
            "project_type" => project_type(&ctx(), ns, item),
            other => panic!("{name}: unknown fn {other}"),
        };
        match (&case["expected"], made) {
            (Value::Null, Err(_)) => {}
            (Value::Null, Ok(e)) => panic!("{name}: the legacy code drops it, we made {}", e.json()),
            (expected, Err(e)) => panic!("{name}: the legacy code makes {expected}, we failed: {e}"),
            (expected, Ok(e)) => assert_eq!(&e.to_value(), expected, "{name}"),
        }
    }
}

// ---- CtdToTemplateConverter.test.ts ----

#[test]
fn a_component_type_becomes_a_template() {
    let t = ct(
        Some("test-org"),
        &item("simple-service", Some("Simple Service"), Some("A simple service for testing"), json!({"workloadType": "deployment"})),
        &port_schema(),
    );
    assert_eq!(t["apiVersion"], "scaffolder.backstage.io/v1beta3");
    assert_eq!(t["kind"], "Template");
    assert_eq!(t["metadata"]["name"], "template-simple-service");
    assert_eq!(t["metadata"]["namespace"], "test-org");
    assert_eq!(t["metadata"]["title"], "Simple Service");
    assert_eq!(t["metadata"]["description"], "A simple service for testing");
    assert!(t["metadata"].get("tags").is_none() && t["metadata"].get("labels").is_none());
    assert_eq!(
        t["metadata"]["annotations"],
        json!({
            "openchoreo.io/ctd-name": "simple-service",
            "openchoreo.io/ctd-generated": "true",
            "openchoreo.io/workload-type": "deployment",
            "openchoreo.io/ctd-display-name": "Simple Service",
            "backstage.io/managed-by-location": "provider:OpenChoreoEntityProvider",
            "backstage.io/managed-by-origin-location": "provider:OpenChoreoEntityProvider",
        })
    );
    assert_eq!(t["spec"]["owner"], "group:default/openchoreo-users");
    assert_eq!(t["spec"]["type"], "Component");
    assert_eq!(t["spec"]["EXPERIMENTAL_formDecorators"], json!([{"id": "openchoreo:inject-user-token"}]));
    assert_eq!(
        t["spec"]["output"],
        json!({"links": [{
            "title": "View Component",
            "icon": "kind:component",
            "entityRef": "component:${{ steps['create-component'].output.namespaceName }}/${{ steps['create-component'].output.componentName }}",
        }]})
    );
}

#[test]
fn the_title_and_description_fall_back_to_the_formatted_name() {
    let t = ct(Some("test-org"), &item("web-service", None, None, json!({})), &json!({"type": "object"}));
    assert_eq!(t["metadata"]["title"], "Web Service");
    assert_eq!(t["metadata"]["description"], "Create a Web Service component");
    assert!(t["metadata"]["annotations"].get("openchoreo.io/ctd-display-name").is_none());
    // An empty annotation is falsy, as a missing one.
    let t = ct(Some("test-org"), &item("web-service", Some(""), Some(""), json!({})), &json!({"type": "object"}));
    assert_eq!(t["metadata"]["title"], "Web Service");
    assert_eq!(t["metadata"]["description"], "Create a Web Service component");
}

#[test]
fn three_parameter_sections_in_order() {
    let t = ct(Some("test-org"), &item("test-service", None, None, json!({})), &json!({"type": "object", "properties": {}}));
    let p = t["spec"]["parameters"].as_array().unwrap();
    assert_eq!(p.len(), 3);
    assert_eq!(p[0]["title"], "Component Metadata");
    assert_eq!(p[0]["required"], json!(["project_namespace", "component_name"]));
    assert_eq!(p[0]["properties"]["component_name"]["ui:field"], "ComponentNamePicker");
    assert_eq!(p[0]["properties"]["project_namespace"]["ui:field"], "ProjectNamespaceField");
    assert_eq!(p[0]["properties"]["project_namespace"]["ui:options"]["defaultNamespace"], "test-org");
    assert_eq!(p[1]["title"], "Build & Deploy");
    assert_eq!(p[2]["title"], "Test Service Details");
}

#[test]
fn workload_details_carry_the_schema_body_as_returned() {
    let schema = json!({"type": "object", "required": ["port"], "properties": {"port": {"type": "integer", "title": "Port", "default": 8080}}});
    let t = ct(Some("test-org"), &item("web-service", Some("Web Service"), None, json!({"workloadType": "deployment"})), &schema);
    let section = &t["spec"]["parameters"][2];
    assert_eq!(section["title"], "Web Service Details");
    let details = &section["properties"]["workloadDetails"];
    assert_eq!(details["ui:field"], "WorkloadDetailsField");
    assert_eq!(details["type"], "object");
    assert!(details.get("properties").is_none());
    assert_eq!(
        details["ui:options"],
        json!({"namespaceName": "test-org", "workloadType": "deployment", "ctdSchema": schema, "ctdDisplayName": "Web Service"}),
        "allowedTraits is left out when the type has none"
    );
}

#[test]
fn the_workload_type_defaults_to_deployment_and_reaches_options_and_step() {
    for (spec, expected) in [
        (json!({"workloadType": "deployment/service"}), "deployment/service"),
        (json!({"workloadType": "cronjob"}), "cronjob"),
        (json!({"workloadType": null}), "deployment"),
        (json!({}), "deployment"),
        (json!({"workloadType": ""}), ""), // `??` keeps an empty string
    ] {
        let t = ct(Some("o"), &item("w", None, None, spec), &port_schema());
        assert_eq!(t["spec"]["parameters"][2]["properties"]["workloadDetails"]["ui:options"]["workloadType"], expected);
        assert_eq!(t["spec"]["steps"][0]["input"]["component_type_workload_type"], expected);
        assert_eq!(t["metadata"]["annotations"]["openchoreo.io/workload-type"], expected);
    }
}

#[test]
fn allowed_workflows_take_the_namespaced_default_kind() {
    let spec = json!({"allowedWorkflows": ["nodejs-build", {"kind": "ClusterWorkflow", "name": "dockerfile-builder"}, {"name": "docker-build"}, {"kind": "ClusterWorkflow"}, "", null]});
    let t = ct(Some("test-org"), &item("web-service", Some("Web Service"), None, spec), &port_schema());
    let bd = &t["spec"]["parameters"][1]["properties"]["buildAndDeploy"];
    assert_eq!(bd["ui:field"], "BuildAndDeployField");
    assert_eq!(bd["required"], json!(["deploymentSource"]));
    assert_eq!(bd["properties"]["deploymentSource"]["enum"], json!(["build-from-source", "deploy-from-image", "external-ci"]));
    assert_eq!(bd["properties"]["git_source"]["ui:field"], "GitSourceField");
    assert_eq!(bd["properties"]["workflow_parameters"]["ui:field"], "BuildWorkflowParameters");
    assert_eq!(bd["properties"]["containerImage"]["ui:field"], "ContainerImageField");
    assert_eq!(bd["properties"]["ciPlatform"]["enum"], json!(["none", "jenkins", "github-actions", "gitlab-ci"]));
    assert_eq!(bd["properties"]["ciIdentifier"]["type"], "string");
    let wf = &bd["properties"]["workflow_name"];
    assert_eq!(wf["ui:field"], "BuildWorkflowPicker");
    assert_eq!(
        wf["ui:options"],
        json!({
            "namespaceName": "test-org",
            "ctdKind": "ComponentType",
            "allowedWorkflows": [
                {"kind": "Workflow", "name": "nodejs-build"},
                {"kind": "ClusterWorkflow", "name": "dockerfile-builder"},
                {"kind": "Workflow", "name": "docker-build"},
            ],
        })
    );
    let none = ct(Some("o"), &item("w", None, None, json!({})), &port_schema());
    assert_eq!(none["spec"]["parameters"][1]["properties"]["buildAndDeploy"]["properties"]["workflow_name"]["ui:options"]["allowedWorkflows"], json!([]));
}

#[test]
fn allowed_traits_pass_through_as_they_are() {
    let traits = json!([{"kind": "Trait", "name": "ingress"}, {"name": "hpa"}]);
    let t = ct(Some("o"), &item("w", None, None, json!({"allowedTraits": traits})), &port_schema());
    assert_eq!(t["spec"]["parameters"][2]["properties"]["workloadDetails"]["ui:options"]["allowedTraits"], traits);
    // An explicit null is written (JSON.stringify keeps null, drops undefined).
    let t = ct(Some("o"), &item("w", None, None, json!({"allowedTraits": null})), &port_schema());
    assert_eq!(t["spec"]["parameters"][2]["properties"]["workloadDetails"]["ui:options"]["allowedTraits"], Value::Null);
    assert!(t["spec"]["parameters"][2]["properties"]["workloadDetails"]["ui:options"].get("allowedTraits").is_some());
}

#[test]
fn the_step_creates_the_component() {
    let t = ct(Some("test-org"), &item("web-service", None, None, json!({})), &port_schema());
    let steps = t["spec"]["steps"].as_array().unwrap();
    assert_eq!(steps.len(), 1);
    assert_eq!(steps[0]["id"], "create-component");
    assert_eq!(steps[0]["name"], "Create OpenChoreo Component");
    assert_eq!(steps[0]["action"], "openchoreo:component:create");
    let input = &steps[0]["input"];
    assert_eq!(input["namespaceName"], "${{ parameters.project_namespace.namespace_name }}");
    assert_eq!(input["projectName"], "${{ parameters.project_namespace.project_name }}");
    assert_eq!(input["componentName"], "${{ parameters.component_name }}");
    assert_eq!(input["componentType"], "web-service");
    assert_eq!(input["component_type_kind"], "ComponentType");
    assert_eq!(input["workloadDetails"], "${{ parameters.workloadDetails }}");
    assert_eq!(input["gitSecretRef"], "${{ parameters.buildAndDeploy.git_source.git_secret_ref }}");
    assert_eq!(input["component_path"], "${{ parameters.buildAndDeploy.git_source.component_path }}");
    assert_eq!(input.as_object().unwrap().len(), 20);
}

#[test]
fn the_owner_falls_back_to_guests_only_when_none_is_configured() {
    let ctx = TranslateContext { location_key: "provider:P".into(), default_owner: String::new(), domain_owner_from_annotation: false };
    let t = component_type(&ctx, Some("o"), &item("test", None, None, json!({})), &port_schema()).unwrap().to_value();
    assert_eq!(t["spec"]["owner"], "guests");
    assert_eq!(t["metadata"]["annotations"]["backstage.io/managed-by-location"], "provider:P");
}

#[test]
fn what_the_provider_drops_is_an_error_naming_the_item() {
    let no_name = json!({"metadata": {}, "spec": {}});
    let err = component_type(&ctx(), Some("acme"), &no_name, &port_schema()).unwrap_err();
    assert!(err.contains("ComponentType") && err.contains("metadata.name"), "{err}");
    for falsy in [json!(null), json!(""), json!(0), json!(false)] {
        let err = component_type(&ctx(), Some("acme"), &item("web", None, None, json!({})), &falsy).unwrap_err();
        assert!(err.contains("ComponentType \"web\" in acme") && err.contains("/schema"), "{err}");
        let err = resource_type(&ctx(), None, &item("db", None, None, json!({})), &falsy).unwrap_err();
        assert!(err.contains("ClusterResourceType \"db\""), "{err}");
    }
    let err = component_type(&ctx(), Some("acme"), &item("web", None, None, json!({"allowedWorkflows": "a"})), &port_schema()).unwrap_err();
    assert!(err.contains("spec.allowedWorkflows"), "{err}");
    let err = component_type(&ctx(), None, &item("web", None, None, json!({"allowedTraits": [{"name": "a"}, null]})), &port_schema()).unwrap_err();
    assert!(err.contains("spec.allowedTraits[1]"), "{err}");
    // A name too long for a Backstage entity once prefixed.
    let long = "a".repeat(60);
    let err = project_type(&ctx(), Some("acme"), &item(&long, None, None, json!({}))).unwrap_err();
    assert!(err.contains("metadata.name"), "{err}");
}

// ---- CtdToTemplateConverter.cluster.test.ts ----

#[test]
fn a_cluster_component_type_lives_in_the_cluster_namespace() {
    let cct = item("web-service", Some("Web Service"), Some("A cluster-level web service"), json!({"workloadType": "deployment"}));
    let t = ct(None, &cct, &port_schema());
    assert_eq!(t["metadata"]["name"], "template-web-service");
    assert_eq!(t["metadata"]["namespace"], "openchoreo-cluster");
    let a = &t["metadata"]["annotations"];
    assert_eq!(a["openchoreo.io/ctd-kind"], "ClusterComponentType");
    assert_eq!(a["openchoreo.io/ctd-name"], "web-service");
    assert_eq!(a["openchoreo.io/ctd-generated"], "true");
    assert_eq!(a["openchoreo.io/workload-type"], "deployment");
    assert_eq!(a["openchoreo.io/ctd-display-name"], "Web Service");
    let p = &t["spec"]["parameters"];
    assert_eq!(p[0]["properties"]["project_namespace"]["ui:options"]["defaultNamespace"], "");
    assert_eq!(p[1]["properties"]["buildAndDeploy"]["properties"]["workflow_name"]["ui:options"]["namespaceName"], "");
    assert_eq!(p[1]["properties"]["buildAndDeploy"]["properties"]["workflow_name"]["ui:options"]["ctdKind"], "ClusterComponentType");
    assert_eq!(p[2]["properties"]["workloadDetails"]["ui:options"]["namespaceName"], "");
    assert_eq!(p[2]["title"], "Web Service Details");
    assert_eq!(t["spec"]["steps"][0]["input"]["component_type_kind"], "ClusterComponentType");

    let plain = ct(None, &item("my-custom-svc", None, None, json!({})), &port_schema());
    assert_eq!(plain["metadata"]["title"], "My Custom Svc");
    assert_eq!(plain["metadata"]["description"], "Create a My Custom Svc component");
    assert!(plain["metadata"]["annotations"].get("openchoreo.io/ctd-display-name").is_none());
}

#[test]
fn cluster_workflows_are_reduced_to_names_of_cluster_workflows_and_traits_to_cluster_traits() {
    // The provider maps `w => w.name` before the converter sees them: an explicit kind is lost.
    let spec = json!({
        "allowedWorkflows": [{"kind": "ClusterWorkflow", "name": "docker-build"}, {"kind": "Workflow", "name": "ns-build"}, {"kind": "ClusterWorkflow"}, "bare"],
        "allowedTraits": [{"kind": "Trait", "name": "ingress"}, {"name": "autoscaler"}, {}],
    });
    let t = ct(None, &item("w", None, None, spec), &port_schema());
    let p = &t["spec"]["parameters"];
    assert_eq!(
        p[1]["properties"]["buildAndDeploy"]["properties"]["workflow_name"]["ui:options"]["allowedWorkflows"],
        json!([{"kind": "ClusterWorkflow", "name": "docker-build"}, {"kind": "ClusterWorkflow", "name": "ns-build"}])
    );
    assert_eq!(
        p[2]["properties"]["workloadDetails"]["ui:options"]["allowedTraits"],
        json!([{"kind": "ClusterTrait", "name": "ingress"}, {"kind": "ClusterTrait", "name": "autoscaler"}, {"kind": "ClusterTrait"}])
    );
    // `null?.map(...)` is undefined: left out.
    let t = ct(None, &item("w", None, None, json!({"allowedTraits": null})), &port_schema());
    assert!(t["spec"]["parameters"][2]["properties"]["workloadDetails"]["ui:options"].get("allowedTraits").is_none());
}

// ---- RtdToTemplateConverter.test.ts / .cluster.test.ts ----

#[test]
fn a_resource_type_becomes_a_template() {
    let t = rt(
        Some("finance"),
        &item("postgres", Some("PostgreSQL"), Some("Managed PostgreSQL database"), json!({"retainPolicy": "Delete"})),
    );
    assert_eq!(t["metadata"]["name"], "template-resource-postgres");
    assert_eq!(t["metadata"]["namespace"], "finance");
    assert_eq!(t["metadata"]["title"], "PostgreSQL");
    assert_eq!(t["metadata"]["description"], "Managed PostgreSQL database");
    assert_eq!(
        t["metadata"]["annotations"],
        json!({
            "openchoreo.io/rtd-name": "postgres",
            "openchoreo.io/rtd-generated": "true",
            "openchoreo.io/rtd-kind": "ResourceType",
            "openchoreo.io/rtd-display-name": "PostgreSQL",
            "backstage.io/managed-by-location": "provider:OpenChoreoEntityProvider",
            "backstage.io/managed-by-origin-location": "provider:OpenChoreoEntityProvider",
        })
    );
    assert_eq!(t["spec"]["type"], "Resource");
    assert!(t["spec"].get("retainPolicy").is_none(), "the converter ignores retainPolicy");
    let p = t["spec"]["parameters"].as_array().unwrap();
    assert_eq!(p.len(), 2);
    assert_eq!(p[0]["title"], "Resource Metadata");
    assert_eq!(p[0]["required"], json!(["project_namespace", "resource_name"]));
    assert_eq!(p[0]["properties"]["project_namespace"]["ui:options"]["defaultNamespace"], "finance");
    assert_eq!(p[0]["properties"]["resource_name"]["ui:field"], "ResourceNamePicker");
    assert_eq!(p[1]["title"], "PostgreSQL Details");
    assert_eq!(p[1]["properties"]["parameters"]["ui:field"], "ResourceParametersField");
    assert_eq!(
        p[1]["properties"]["parameters"]["ui:options"],
        json!({"rtdName": "postgres", "rtdKind": "ResourceType", "rtdDisplayName": "PostgreSQL", "rtdSchema": port_schema()})
    );
    let step = &t["spec"]["steps"][0];
    assert_eq!(step["action"], "openchoreo:resource:create");
    assert_eq!(step["input"]["typeKind"], "ResourceType");
    assert_eq!(step["input"]["typeName"], "postgres");
    assert_eq!(t["spec"]["output"]["links"][0]["icon"], "kind:resource");
}

#[test]
fn a_cluster_resource_type_has_no_default_namespace() {
    let t = rt(None, &item("message-queue", None, None, json!({})));
    assert_eq!(t["metadata"]["namespace"], "openchoreo-cluster");
    assert_eq!(t["metadata"]["title"], "Message Queue");
    assert_eq!(t["metadata"]["description"], "Create a Message Queue resource");
    assert_eq!(t["metadata"]["annotations"]["openchoreo.io/rtd-kind"], "ClusterResourceType");
    assert!(t["metadata"]["annotations"].get("openchoreo.io/rtd-display-name").is_none());
    assert_eq!(t["spec"]["parameters"][0]["properties"]["project_namespace"]["ui:options"]["defaultNamespace"], "");
    assert_eq!(t["spec"]["steps"][0]["input"]["typeKind"], "ClusterResourceType");
}

// ---- PtdToTemplateConverter.test.ts / .cluster.test.ts ----

#[test]
fn a_project_type_becomes_a_template_with_its_inline_schema() {
    let schema = json!({"type": "object", "properties": {"tier": {"type": "string"}}});
    let t = pt(Some("acme"), &item("web-app", None, None, json!({"parameters": {"openAPIV3Schema": schema}})));
    assert_eq!(t["metadata"]["name"], "template-project-web-app");
    assert_eq!(t["metadata"]["title"], "Web App");
    assert_eq!(t["metadata"]["description"], "Create a Web App project");
    assert_eq!(t["metadata"]["annotations"]["openchoreo.io/ptd-kind"], "ProjectType");
    assert_eq!(t["spec"]["type"], "Project");
    let p = &t["spec"]["parameters"];
    assert_eq!(p[0]["required"], json!(["namespace_name", "project_name", "deployment_pipeline"]));
    assert_eq!(p[0]["properties"]["namespace_name"]["default"], "domain:default/acme");
    assert_eq!(p[0]["properties"]["auto_deploy"]["default"], true);
    assert_eq!(p[0]["properties"]["deployment_pipeline"]["ui:field"], "DeploymentPipelinePicker");
    assert_eq!(
        p[1]["properties"]["parameters"]["ui:options"],
        json!({"ptdName": "web-app", "ptdKind": "ProjectType", "ptdDisplayName": "Web App", "ptdSchema": schema})
    );
    let input = &t["spec"]["steps"][0]["input"];
    assert_eq!(t["spec"]["steps"][0]["action"], "openchoreo:project:create");
    assert_eq!(input["autoDeploy"], "${{ parameters.auto_deploy }}");
    assert_eq!(input["typeKind"], "ProjectType");
    assert_eq!(input["typeName"], "web-app");
    assert_eq!(t["spec"]["output"]["links"][0]["entityRef"], "system:${{ steps['create-project'].output.namespaceName }}/${{ steps['create-project'].output.projectName }}");
    assert_eq!(t["spec"]["output"]["text"][0]["if"], "${{ steps['create-project'].output.autoDeployFailed }}");
}

#[test]
fn a_project_type_without_a_schema_has_no_ptd_schema() {
    for spec in [json!({}), json!({"parameters": {}}), json!({"parameters": {"openAPIV3Schema": null}})] {
        let t = pt(Some("acme"), &item("plain", None, None, spec));
        assert!(t["spec"]["parameters"][1]["properties"]["parameters"]["ui:options"].get("ptdSchema").is_none());
    }
}

#[test]
fn a_cluster_project_type_does_not_prefill_the_namespace() {
    let t = pt(None, &item("shared", Some("Shared"), None, json!({})));
    assert_eq!(t["metadata"]["namespace"], "openchoreo-cluster");
    assert_eq!(t["metadata"]["annotations"]["openchoreo.io/ptd-kind"], "ClusterProjectType");
    assert_eq!(t["metadata"]["annotations"]["openchoreo.io/ptd-display-name"], "Shared");
    assert!(t["spec"]["parameters"][0]["properties"]["namespace_name"].get("default").is_none());
    assert_eq!(t["spec"]["steps"][0]["input"]["typeKind"], "ClusterProjectType");
}

// ---- the custom template's placeholder (RemoteTemplateFetcher.stamp) ----

fn with_url(mut item: Value, url: &str) -> Value {
    item["metadata"]["annotations"][TEMPLATE_URL_ANNOTATION] = json!(url);
    item
}

#[test]
fn only_a_non_empty_template_url_spares_the_schema() {
    assert!(component_type_needs_schema(&item("w", None, None, json!({}))));
    assert!(component_type_needs_schema(&with_url(item("w", None, None, json!({})), "")));
    assert!(!component_type_needs_schema(&with_url(item("w", None, None, json!({})), "https://x/t.yaml")));
}

#[test]
fn the_placeholder_carries_what_the_legacy_code_stamps_on_the_authored_template() {
    let url = "https://github.com/acme/templates/blob/main/web.yaml";
    let cct = with_url(item("web", Some("Web"), Some("ignored"), json!({"workloadType": "statefulset"})), url);
    let t = custom_component_type(&ctx(), None, &cct).unwrap().to_value();
    assert_eq!(
        t,
        json!({
            "apiVersion": "scaffolder.backstage.io/v1beta3",
            "kind": "Template",
            "metadata": {
                "name": "template-web",
                "namespace": "openchoreo-cluster",
                "annotations": {
                    "openchoreo.io/ctd-name": "web",
                    "openchoreo.io/ctd-generated": "false",
                    "scaffolder.openchoreo.dev/backstage-template-url": url,
                    "backstage.io/managed-by-location": format!("url:{url}"),
                    "backstage.io/managed-by-origin-location": format!("url:{url}"),
                    "openchoreo.io/workload-type": "statefulset",
                    "openchoreo.io/ctd-kind": "ClusterComponentType",
                    "openchoreo.io/ctd-display-name": "Web",
                    "openchoreo.io/template-pending": "true",
                },
            },
            "spec": {},
        })
    );

    // Namespaced, no display name, workload type defaulted; an empty one is falsy: left out.
    let ct = with_url(item("api", None, None, json!({})), url);
    let t = custom_component_type(&ctx(), Some("acme"), &ct).unwrap().to_value();
    let a = &t["metadata"]["annotations"];
    assert_eq!(t["metadata"]["namespace"], "acme");
    assert_eq!(a["openchoreo.io/workload-type"], "deployment");
    assert!(a.get("openchoreo.io/ctd-kind").is_none() && a.get("openchoreo.io/ctd-display-name").is_none());
    let ct = with_url(item("api", None, None, json!({"workloadType": ""})), url);
    let t = custom_component_type(&ctx(), Some("acme"), &ct).unwrap().to_value();
    assert!(t["metadata"]["annotations"].get("openchoreo.io/workload-type").is_none());

    let err = custom_component_type(&ctx(), Some("acme"), &item("api", None, None, json!({}))).unwrap_err();
    assert!(err.contains("ComponentType \"api\" in acme") && err.contains(TEMPLATE_URL_ANNOTATION), "{err}");
}

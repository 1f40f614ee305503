//! Workload endpoints with schema content -> `API`, and the facts a component needs
//! from its workload.

use serde_json::{json, Map};

use super::common::{ann, checked, entity, managed_labels, Annotations};
use super::{api_name, EndpointTarget, Entity, TranslateContext, WorkloadFacts};
use crate::model::{Resource, Workload, WorkloadEndpoint};

/// Backstage `spec.type` of an API: the schema type lower-cased, `openapi` when absent.
pub fn api_type(schema_type: Option<&str>) -> String {
    schema_type.filter(|t| !t.is_empty()).map(str::to_lowercase).unwrap_or_else(|| "openapi".to_string())
}

/// One API entity per endpoint with schema content, in endpoint-name order.
/// `owner`: the API's owner, when the caller knows it; else `ctx.default_owner`.
pub fn workload_to_apis_with_owner(
    ctx: &TranslateContext,
    namespace: &str,
    w: &Workload,
    owner: Option<&str>,
) -> Vec<Result<Entity, String>> {
    w.spec
        .endpoints
        .iter()
        .filter(|(_, ep)| ep.schema_content().is_some())
        .map(|(endpoint, ep)| api_entity(ctx, namespace, w, endpoint, ep, owner))
        .collect()
}

fn api_entity(
    ctx: &TranslateContext,
    namespace: &str,
    w: &Workload,
    endpoint: &str,
    ep: &WorkloadEndpoint,
    owner: Option<&str>,
) -> Result<Entity, String> {
    let project = w.project_name();
    let component = w.component_name();
    let name = api_name(project, component, endpoint);
    // What the legacy provider calls the API's type in its description and tag.
    let kind_label = ep.schema_type().unwrap_or(&ep.type_);

    let mut annotations = Annotations::managed(ctx);
    annotations
        .set(ann::COMPONENT, component)
        .set(ann::ENDPOINT_NAME, endpoint)
        .set(ann::ENDPOINT_TYPE, ep.type_.as_str())
        .set(ann::ENDPOINT_PORT, ep.port.to_string())
        .set(ann::ENDPOINT_VISIBILITY, ep.visibility.join(","))
        .set(ann::PROJECT, project)
        .set(ann::NAMESPACE, namespace)
        .set(ann::WORKLOAD, w.name());

    let mut metadata = Map::new();
    metadata.insert("name".into(), json!(name));
    metadata.insert("namespace".into(), json!(namespace));
    metadata.insert("title".into(), json!(format!("{component} {endpoint} API")));
    metadata.insert("description".into(), json!(format!("{kind_label} API for {component} on port {}", ep.port)));
    metadata.insert("tags".into(), json!(["openchoreo", "api", kind_label.to_lowercase()]));
    metadata.insert("annotations".into(), annotations.into_value());
    metadata.insert("labels".into(), managed_labels());

    let owner = owner.map(str::trim).filter(|o| !o.is_empty()).unwrap_or(&ctx.default_owner);
    let mut spec = Map::new();
    spec.insert("type".into(), json!(api_type(ep.schema_type())));
    spec.insert("lifecycle".into(), json!("production"));
    spec.insert("owner".into(), json!(owner));
    spec.insert("system".into(), json!(project));
    spec.insert("definition".into(), json!(ep.schema_content().unwrap_or_default()));

    checked(entity("API", metadata, spec), &format!("endpoint {endpoint:?} of workload {:?} to an API", w.name()))
}

pub fn workload_facts(namespace: &str, w: &Workload) -> WorkloadFacts {
    let project = w.project_name();
    // Whether an endpoint becomes an API does not depend on the provider's context, so
    // any context gives the same answer: an endpoint whose API entity would be refused
    // (name too long, ...) is no API, and nothing may refer to it.
    let probe = TranslateContext { location_key: "provider:probe".into(), default_owner: "group:default/probe".into() };
    let api_endpoints = w
        .spec
        .endpoints
        .iter()
        .filter(|(_, ep)| ep.schema_content().is_some())
        .filter(|(endpoint, ep)| api_entity(&probe, namespace, w, endpoint, ep, None).is_ok())
        .map(|(endpoint, _)| endpoint.clone())
        .collect();
    let consumes = w
        .connections()
        .iter()
        .map(|c| EndpointTarget {
            project: c.project.as_deref().filter(|p| !p.is_empty()).unwrap_or(project).to_string(),
            component: c.component.clone(),
            endpoint: c.name.clone(),
        })
        .collect();
    let depends_on = w.resource_dependencies().iter().map(|r| format!("resource:{namespace}/{}", r.ref_)).collect();
    WorkloadFacts {
        project: project.to_string(),
        component: w.component_name().to_string(),
        workload_name: w.name().to_string(),
        api_endpoints,
        consumes,
        depends_on,
    }
}

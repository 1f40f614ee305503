//! Workload endpoints with schema content -> `API`, and the facts a component needs
//! from its workload.

use std::borrow::Cow;

use super::common::{ann, checked, Annotations, Doc};
use super::{api_name, ApiTemplate, EndpointTarget, Entity, TranslateContext, WorkloadFacts};
use crate::model::{Resource, Workload, WorkloadEndpoint};

/// Backstage `spec.type` of an API: the schema type lower-cased, `openapi` when absent.
pub fn api_type(schema_type: Option<&str>) -> String {
    schema_type.filter(|t| !t.is_empty()).map(str::to_lowercase).unwrap_or_else(|| "openapi".to_string())
}

/// One API per endpoint with schema content, in endpoint-name order, with the endpoint.
pub fn workload_to_apis<'w>(
    ctx: &TranslateContext,
    namespace: &str,
    w: &'w Workload,
) -> Vec<(&'w str, Result<ApiTemplate, String>)> {
    w.spec
        .endpoints
        .iter()
        .filter(|(_, ep)| ep.schema_content().is_some())
        .map(|(endpoint, ep)| (endpoint.as_str(), api_template(ctx, namespace, w, endpoint, ep)))
        .collect()
}

/// The APIs with their owner set: `owner` when given (trimmed, non-blank), else
/// `ctx.default_owner`.
pub fn workload_to_apis_with_owner(
    ctx: &TranslateContext,
    namespace: &str,
    w: &Workload,
    owner: Option<&str>,
) -> Vec<Result<Entity, String>> {
    let owner = owner.map(str::trim).filter(|o| !o.is_empty()).unwrap_or(&ctx.default_owner);
    let facts = facts_from(namespace, w, vec![]);
    workload_to_apis(ctx, namespace, w).into_iter().map(|(_, api)| api.map(|t| t.render(ctx, namespace, &facts, owner))).collect()
}

fn api_template(
    ctx: &TranslateContext,
    namespace: &str,
    w: &Workload,
    endpoint: &str,
    ep: &WorkloadEndpoint,
) -> Result<ApiTemplate, String> {
    let source = ApiSource { namespace, project: w.project_name(), component: w.component_name(), workload: w.name(), endpoint };
    // Validated with the default owner; the real one is resolved and non-blank.
    let doc = api_doc(ctx, &source, ep, &ctx.default_owner);
    checked(&doc, &format!("endpoint {endpoint:?} of workload {:?} to an API", w.name()))?;
    // Only the endpoint is kept (staged, read back): the entity is about three times its
    // size, and is rendered again once its owner is known (see `ApiTemplate`).
    let ep = WorkloadEndpoint { base_path: None, ..ep.clone() };
    Ok(ApiTemplate::Endpoint { entity_ref: doc.entity_ref(), endpoint: endpoint.to_string(), ep })
}

/// Where an API's endpoint is: what its entity names besides the endpoint itself.
pub(super) struct ApiSource<'a> {
    pub namespace: &'a str,
    pub project: &'a str,
    pub component: &'a str,
    pub workload: &'a str,
    pub endpoint: &'a str,
}

/// The API entity of an endpoint, owned by `owner`.
pub(super) fn api_entity(ctx: &TranslateContext, source: &ApiSource, ep: &WorkloadEndpoint, owner: &str) -> Entity {
    Entity::from_doc(&api_doc(ctx, source, ep, owner))
}

fn api_doc<'a>(ctx: &'a TranslateContext, source: &ApiSource<'a>, ep: &'a WorkloadEndpoint, owner: &'a str) -> Doc<'a> {
    let ApiSource { namespace, project, component, workload, endpoint } = *source;
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
        .set(ann::WORKLOAD, workload);

    Doc {
        kind: "API",
        name: Cow::Owned(api_name(project, component, endpoint)),
        namespace: Some(namespace),
        title: Cow::Owned(format!("{component} {endpoint} API")),
        description: Some(Cow::Owned(format!("{kind_label} API for {component} on port {}", ep.port))),
        tags: vec!["openchoreo".into(), "api".into(), Cow::Owned(kind_label.to_lowercase())],
        annotations,
        spec: vec![
            ("type", api_type(ep.schema_type()).into()),
            ("lifecycle", "production".into()),
            ("owner", owner.into()),
            ("system", project.into()),
            ("definition", ep.schema_content().unwrap_or_default().into()),
        ],
    }
}

/// The facts, given the endpoints that became APIs.
pub fn facts_from(namespace: &str, w: &Workload, api_endpoints: Vec<String>) -> WorkloadFacts {
    let project = w.project_name();
    let consumes = w
        .connections()
        .iter()
        .filter(|c| !c.component.is_empty() && !c.name.is_empty())
        .map(|c| EndpointTarget {
            // `??`, as the legacy module defaults it: an empty project stays empty (and
            // then matches no endpoint).
            project: c.project.as_deref().unwrap_or(project).to_string(),
            component: c.component.clone(),
            endpoint: c.name.clone(),
        })
        .collect();
    let depends_on = w
        .resource_dependencies()
        .iter()
        .filter(|r| !r.ref_.is_empty())
        .map(|r| format!("resource:{namespace}/{}", r.ref_))
        .collect();
    WorkloadFacts {
        project: project.to_string(),
        component: w.component_name().to_string(),
        workload_name: w.name().to_string(),
        api_endpoints,
        consumes,
        depends_on,
    }
}

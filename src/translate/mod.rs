//! OpenChoreo resources -> Backstage entities, exactly as the legacy provider made them
//! (see README "Entity mapping"). Pure functions: no I/O, no state.
//!
//! CONTRACT (used by `walk`; keep these signatures):
//! - `namespace_to_domain`, `project_to_system`, `workload_to_apis`, `component_to_entity`
//!   return `Err(String)` with a human message when the item cannot become a valid
//!   Backstage entity (the walk records it as a per-item error and keeps going).
//! - `workload_facts` extracts what components need from their workload, given its
//!   translated APIs; the walk stages it in the database between the workloads and
//!   components phases of a namespace.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::model::{Component, Namespace, Project, Resource, Workload};

mod api;
mod common;
mod component;
mod domain;
mod entity;
mod js;
pub mod platform;
mod system;
pub mod templates;
pub mod validate;

pub use api::{api_type, workload_to_apis_with_owner};
pub use component::component_type_tags;
pub use entity::{ApiTemplate, Entity};
pub(crate) use common::json_str;

#[cfg(test)]
mod tests;

/// What every translation needs to know about the provider.
#[derive(Debug, Clone)]
pub struct TranslateContext {
    /// `provider:<providerName>`: managed-by-location annotations.
    pub location_key: String,
    /// Full owner ref, e.g. `group:default/openchoreo-users`.
    pub default_owner: String,
    /// Domains take their namespace's `backstage.io/owner` (the legacy module never
    /// does: off by default).
    pub domain_owner_from_annotation: bool,
}

/// An endpoint of another component, as named in `workload.spec.dependencies.endpoints`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EndpointTarget {
    pub project: String,
    pub component: String,
    pub endpoint: String,
}

/// What a component's entity needs from its workload (staged between phases).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct WorkloadFacts {
    pub project: String,
    pub component: String,
    pub workload_name: String,
    /// Endpoint names of this workload that carry schema content (each is an API).
    pub api_endpoints: Vec<String>,
    /// Endpoints of other components this workload consumes (project already defaulted).
    pub consumes: Vec<EndpointTarget>,
    /// Resource refs it depends on (`resource:<ns>/<ref>` entries of `dependsOn`).
    pub depends_on: Vec<String>,
}

/// Cross-references of a component resolved by the walk from staged data.
#[derive(Debug, Clone, Default)]
pub struct ComponentLinks {
    /// The component's workload, if one was seen in this namespace.
    pub workload: Option<WorkloadFacts>,
    /// `consumesApis` entries whose target endpoint exists and has schema content.
    pub consumes_apis: Vec<String>,
    /// The owning project's `backstage.io/owner` annotation, if any.
    pub project_owner: Option<String>,
}

/// Namespace -> `Domain` (`domain:default/<namespace>`).
pub fn namespace_to_domain(ctx: &TranslateContext, ns: &Namespace) -> Result<Entity, String> {
    domain::namespace_to_domain(ctx, ns)
}

/// Project -> `System` in the project's OpenChoreo namespace (`metadata.namespace`,
/// which must be set).
pub fn project_to_system(ctx: &TranslateContext, p: &Project) -> Result<Entity, String> {
    system::project_to_system(ctx, p)
}

/// One API per endpoint with schema content, in endpoint-name order, paired with the
/// endpoint's name; an Err per endpoint that can't be one. Each API waits for its owner
/// (its component's, known in the components phase): see [`ApiTemplate::with_owner`].
pub fn workload_to_apis<'w>(
    ctx: &TranslateContext,
    namespace: &str,
    w: &'w Workload,
) -> Vec<(&'w str, Result<ApiTemplate, String>)> {
    api::workload_to_apis(ctx, namespace, w)
}

/// What the workload's component needs: its API endpoints (exactly those for which
/// `workload_to_apis` yielded an `Ok` in `apis`), the endpoints it consumes and its
/// resource refs.
pub fn workload_facts(namespace: &str, w: &Workload, apis: &[(&str, Result<ApiTemplate, String>)]) -> WorkloadFacts {
    api::facts_from(namespace, w, apis.iter().filter(|(_, api)| api.is_ok()).map(|(endpoint, _)| endpoint.to_string()).collect())
}

/// The API entity name for an endpoint: `<project>-<component>-<endpoint>`.
pub fn api_name(project: &str, component: &str, endpoint: &str) -> String {
    format!("{project}-{component}-{endpoint}")
}

/// Component -> `Component` in the component's OpenChoreo namespace (`metadata.namespace`,
/// which must be set).
pub fn component_to_entity(ctx: &TranslateContext, c: &Component, links: &ComponentLinks) -> Result<Entity, String> {
    component::component_to_entity(ctx, c, links)
}

/// The component's owner (its `backstage.io/owner`, else its project's, else the
/// default), which its APIs take too.
pub fn component_owner<'a>(ctx: &'a TranslateContext, c: &'a Component, project_owner: Option<&'a str>) -> &'a str {
    common::resolve_owner([c.owner_annotation(), project_owner], ctx)
}

/// The owner of APIs whose component could not be read: its project's, else the default.
pub fn fallback_owner<'a>(ctx: &'a TranslateContext, project_owner: Option<&'a str>) -> &'a str {
    common::resolve_owner([project_owner], ctx)
}

/// `kind:namespace/name` of an entity's JSON, lower-cased as Backstage compares refs.
pub fn entity_ref(entity: &Value) -> String {
    let kind = entity["kind"].as_str().unwrap_or_default();
    let ns = entity["metadata"]["namespace"].as_str().unwrap_or("default");
    let name = entity["metadata"]["name"].as_str().unwrap_or_default();
    format!("{kind}:{ns}/{name}").to_lowercase()
}

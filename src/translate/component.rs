//! Component -> `Component`.

use serde_json::{json, Map};

use super::common::{ann, checked, entity, managed_labels, resolve_owner, strings, Annotations};
use super::{api_name, ComponentLinks, Entity, TranslateContext};
use crate::model::{Component, Resource};

/// Tags of a component type, as the legacy `ComponentTypeUtils.generateTags`:
/// `openchoreo`, `component` and the type with its first `/` turned into `-`
/// (`deployment/go-service` -> `deployment-go-service`).
pub fn component_type_tags(component_type: &str) -> Vec<String> {
    ["openchoreo".to_string(), "component".to_string(), component_type.replacen('/', "-", 1)]
        .into_iter()
        .filter(|t| !t.is_empty())
        .collect()
}

pub fn component_to_entity(ctx: &TranslateContext, c: &Component, links: &ComponentLinks) -> Result<Entity, String> {
    let name = c.name();
    let project = c.project_name();
    let what = || format!("component {name:?} to a Component");
    let namespace = c
        .metadata
        .namespace
        .as_deref()
        .filter(|s| !s.is_empty())
        .ok_or_else(|| format!("cannot translate {}: metadata.namespace is missing", what()))?;

    let component_type = c.type_name();
    let status = if c.is_ready() { "Ready" } else { "Not Ready" };
    let repo = c.repository();
    let workload = links.workload.as_ref();

    let mut annotations = Annotations::managed(ctx);
    annotations
        .set(ann::COMPONENT, name)
        .set_opt(ann::COMPONENT_UID, c.metadata.uid())
        .set_opt(ann::COMPONENT_TYPE, component_type)
        .set_opt(ann::COMPONENT_TYPE_KIND, c.spec.component_type.as_ref().and_then(|t| t.kind()))
        .set(ann::PROJECT, project)
        .set(ann::NAMESPACE, namespace)
        .set_opt(ann::CREATED_AT, c.metadata.created_at())
        .set(ann::STATUS, status)
        .set_opt(ann::DELETION_TIMESTAMP, c.metadata.deleted_at())
        .set_opt(ann::SOURCE_LOCATION, repo.url.map(|u| format!("url:{u}")).as_deref())
        .set_opt(ann::BRANCH, repo.branch.as_deref())
        .set_opt(ann::WORKLOAD, workload.map(|w| w.workload_name.as_str()).filter(|s| !s.is_empty()));

    let type_or_unknown = component_type.unwrap_or("unknown");

    let mut metadata = Map::new();
    metadata.insert("name".into(), json!(name));
    metadata.insert("title".into(), json!(c.display_name().unwrap_or(name)));
    metadata.insert("namespace".into(), json!(namespace));
    if let Some(description) = c.description() {
        metadata.insert("description".into(), json!(description));
    }
    metadata.insert("tags".into(), strings(&component_type_tags(type_or_unknown)));
    metadata.insert("annotations".into(), annotations.into_value());
    metadata.insert("labels".into(), managed_labels());

    let mut spec = Map::new();
    spec.insert("type".into(), json!(type_or_unknown));
    spec.insert("lifecycle".into(), json!(status.to_lowercase()));
    spec.insert("owner".into(), json!(resolve_owner([c.owner_annotation(), links.project_owner.as_deref()], ctx)));
    spec.insert("system".into(), json!(project));

    let provides: Vec<String> = workload
        .map(|w| w.api_endpoints.iter().map(|ep| api_name(&w.project, &w.component, ep)).collect())
        .unwrap_or_default();
    if !provides.is_empty() {
        spec.insert("providesApis".into(), strings(&provides));
    }
    if !links.consumes_apis.is_empty() {
        spec.insert("consumesApis".into(), strings(&links.consumes_apis));
    }
    if let Some(depends_on) = workload.map(|w| &w.depends_on).filter(|d| !d.is_empty()) {
        spec.insert("dependsOn".into(), strings(depends_on));
    }

    checked(entity("Component", metadata, spec), &what())
}

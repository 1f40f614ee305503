//! Component -> `Component`.

use std::borrow::Cow;

use super::common::{ann, checked, resolve_owner, strs, Annotations, Doc, Field};
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
        .set_opt(ann::BRANCH, repo.branch.as_deref())
        .set_opt(ann::WORKLOAD, workload.map(|w| w.workload_name.as_str()).filter(|s| !s.is_empty()));
    if let Some(url) = &repo.url {
        annotations.set(ann::SOURCE_LOCATION, format!("url:{url}"));
    }

    let type_or_unknown = component_type.unwrap_or("unknown");

    let mut spec = vec![
        ("type", type_or_unknown.into()),
        ("lifecycle", (if c.is_ready() { "ready" } else { "not ready" }).into()),
        ("owner", resolve_owner([c.owner_annotation(), links.project_owner.as_deref()], ctx).into()),
        ("system", project.into()),
    ];
    let provides: Vec<Cow<str>> = workload
        .map(|w| w.api_endpoints.iter().map(|ep| Cow::Owned(api_name(&w.project, &w.component, ep))).collect())
        .unwrap_or_default();
    if !provides.is_empty() {
        spec.push(("providesApis", Field::List(provides)));
    }
    if !links.consumes_apis.is_empty() {
        spec.push(("consumesApis", Field::List(strs(&links.consumes_apis))));
    }
    if let Some(depends_on) = workload.map(|w| &w.depends_on).filter(|d| !d.is_empty()) {
        spec.push(("dependsOn", Field::List(strs(depends_on))));
    }

    let doc = Doc {
        kind: "Component",
        name: Cow::Borrowed(name),
        namespace: Some(namespace),
        title: Cow::Borrowed(c.display_name().unwrap_or(name)),
        description: c.description().map(Cow::Borrowed),
        tags: component_type_tags(type_or_unknown).into_iter().map(Cow::Owned).collect(),
        annotations,
        spec,
    };
    checked(&doc, &what())?;
    Ok(Entity::from_doc(&doc))
}

//! Project -> `System`.

use serde_json::{json, Map};

use super::common::{ann, checked, entity, managed_labels, resolve_owner, Annotations};
use super::{Entity, TranslateContext};
use crate::model::{Project, Resource};

pub fn project_to_system(ctx: &TranslateContext, p: &Project) -> Result<Entity, String> {
    let name = p.name();
    let what = || format!("project {name:?} to a System");
    let namespace = p
        .metadata
        .namespace
        .as_deref()
        .filter(|s| !s.is_empty())
        .ok_or_else(|| format!("cannot translate {}: metadata.namespace is missing", what()))?;

    let mut annotations = Annotations::managed(ctx);
    annotations
        .set(ann::PROJECT_ID, name)
        .set_opt(ann::PROJECT_UID, p.metadata.uid())
        .set(ann::NAMESPACE, namespace)
        .set_opt(ann::DELETION_TIMESTAMP, p.metadata.deleted_at());
    if let Some(project_type) = p.spec.type_.as_ref().and_then(|t| t.name()) {
        // The kind defaults to the namespaced ProjectType, as the API does.
        let kind = p.spec.type_.as_ref().and_then(|t| t.kind()).unwrap_or("ProjectType");
        annotations.set(ann::PROJECT_TYPE, project_type).set(ann::PROJECT_TYPE_KIND, kind);
    }

    let mut metadata = Map::new();
    metadata.insert("name".into(), json!(name));
    metadata.insert("namespace".into(), json!(namespace));
    metadata.insert("title".into(), json!(p.display_name().unwrap_or(name)));
    metadata.insert("description".into(), json!(p.description().unwrap_or(name)));
    metadata.insert("tags".into(), json!(["openchoreo", "project"]));
    metadata.insert("annotations".into(), annotations.into_value());
    metadata.insert("labels".into(), managed_labels());

    let mut spec = Map::new();
    spec.insert("owner".into(), json!(resolve_owner([p.owner_annotation()], ctx)));
    spec.insert("domain".into(), json!(format!("default/{namespace}")));
    if let Some(pipeline) = p.spec.deployment_pipeline_ref.as_ref().and_then(|r| r.name()) {
        spec.insert("deploymentPipelineRef".into(), json!(pipeline));
    }

    checked(entity("System", metadata, spec), &what())
}

//! Project -> `System`.

use std::borrow::Cow;

use super::common::{ann, checked, resolve_owner, Annotations, Doc};
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

    let mut spec = vec![
        ("owner", resolve_owner([p.owner_annotation()], ctx).into()),
        ("domain", format!("default/{namespace}").into()),
    ];
    if let Some(pipeline) = p.spec.deployment_pipeline_ref.as_ref().and_then(|r| r.name()) {
        spec.push(("deploymentPipelineRef", pipeline.into()));
    }
    let doc = Doc {
        kind: "System",
        name: Cow::Borrowed(name),
        namespace: Some(namespace),
        title: Cow::Borrowed(p.display_name().unwrap_or(name)),
        description: Some(Cow::Borrowed(p.description().unwrap_or(name))),
        tags: vec!["openchoreo".into(), "project".into()],
        annotations,
        spec,
    };
    checked(&doc, &what())?;
    Ok(Entity::from_doc(&doc))
}

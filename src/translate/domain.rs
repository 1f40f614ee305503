//! Namespace -> `Domain`.

use serde_json::{json, Map};

use super::common::{ann, checked, entity, managed_labels, resolve_owner, Annotations};
use super::{Entity, TranslateContext};
use crate::model::{Namespace, Resource};

pub fn namespace_to_domain(ctx: &TranslateContext, ns: &Namespace) -> Result<Entity, String> {
    let name = ns.name();

    let mut annotations = Annotations::managed(ctx);
    annotations
        .set(ann::NAMESPACE, name)
        .set_opt(ann::CREATED_AT, ns.metadata.created_at())
        .set_opt(ann::STATUS, ns.phase());

    // No metadata.namespace: the legacy provider leaves it out, which Backstage reads as
    // `default` (the Domain is `domain:default/<namespace>`).
    let mut metadata = Map::new();
    metadata.insert("name".into(), json!(name));
    metadata.insert("title".into(), json!(ns.display_name().unwrap_or(name)));
    metadata.insert("description".into(), json!(ns.description().unwrap_or(name)));
    metadata.insert("tags".into(), json!(["openchoreo", "namespace", "domain"]));
    metadata.insert("annotations".into(), annotations.into_value());
    metadata.insert("labels".into(), managed_labels());

    let mut spec = Map::new();
    spec.insert("owner".into(), json!(resolve_owner([ns.owner_annotation()], ctx)));

    checked(entity("Domain", metadata, spec), &format!("namespace {name:?} to a Domain"))
}

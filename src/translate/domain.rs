//! Namespace -> `Domain`.

use std::borrow::Cow;

use super::common::{ann, checked, resolve_owner, Annotations, Doc};
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
    let doc = Doc {
        kind: "Domain",
        name: Cow::Borrowed(name),
        namespace: None,
        title: Cow::Borrowed(ns.display_name().unwrap_or(name)),
        description: Some(Cow::Borrowed(ns.description().unwrap_or(name))),
        tags: vec!["openchoreo".into(), "namespace".into(), "domain".into()],
        annotations,
        spec: vec![("owner", resolve_owner([ns.owner_annotation().filter(|_| ctx.domain_owner_from_annotation)], ctx).into())],
    };
    checked(&doc, &format!("namespace {name:?} to a Domain"))?;
    Ok(Entity::from_doc(&doc))
}

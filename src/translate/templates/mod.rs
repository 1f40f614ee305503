//! Scaffolder `Template` entities generated from (Cluster)ComponentTypes,
//! (Cluster)ResourceTypes and (Cluster)ProjectTypes, as the legacy module's converters
//! (`CtdToTemplateConverter`, `RtdToTemplateConverter`, `PtdToTemplateConverter`) make
//! them from what its provider passes them, stamped as the provider stamps them.
//!
//! Inputs are the API's list items and `/schema` bodies as JSON values, read with the
//! legacy code's JavaScript semantics (see [`crate::translate::js`]): `||` falls back on any falsy value,
//! `??` only on a missing or null one, and a field the legacy code sets to `undefined`
//! is left out.
//!
//! A ComponentType naming its own template (annotation
//! `scaffolder.openchoreo.dev/backstage-template-url`) gets a placeholder
//! ([`custom_component_type`]) that the TypeScript layer replaces by the template read
//! from that URL (`js/src/customTemplates.ts`).

use serde_json::{json, Map, Value};

use super::common::{MANAGED_BY_LOCATION, MANAGED_BY_ORIGIN_LOCATION};
use super::js;
use super::{Entity, TranslateContext};

mod component;
mod custom;
mod project;
mod resource;

#[cfg(test)]
mod tests;

pub use custom::{PENDING_ANNOTATION, TEMPLATE_URL_ANNOTATION};

/// The Backstage namespace of Templates made from cluster-scoped types.
const CLUSTER_NAMESPACE: &str = "openchoreo-cluster";
const API_VERSION: &str = "scaffolder.backstage.io/v1beta3";
const DISPLAY_NAME_ANNOTATION: &str = "openchoreo.dev/display-name";
const DESCRIPTION_ANNOTATION: &str = "openchoreo.dev/description";
/// The converters' owner when none is configured (ours always is).
const FALLBACK_OWNER: &str = "guests";

/// Does this (Cluster)ComponentType need its `/schema`? Not when it names a custom
/// template URL (a non-empty annotation), as the legacy provider skips the request then.
pub fn component_type_needs_schema(item: &Value) -> bool {
    custom::template_url(item).is_none()
}

/// (Cluster)ComponentType + its `/schema` body -> `template-<name>`; `ns` None =
/// cluster-scoped (namespace `openchoreo-cluster`).
pub fn component_type(ctx: &TranslateContext, ns: Option<&str>, item: &Value, schema: &Value) -> Result<Entity, String> {
    let family = &COMPONENT;
    let what = family.what(ns, item);
    let t = TypeItem::read(item).map_err(|e| format!("cannot translate {what}: {e}"))?;
    require_schema(schema).map_err(|e| format!("cannot translate {what}: {e}"))?;
    let entity = component::template(ctx, &t, ns, schema).map_err(|e| format!("cannot translate {what}: {e}"))?;
    Entity::from_value(&what, &entity)
}

/// (Cluster)ResourceType + its `/schema` body -> `template-resource-<name>`.
pub fn resource_type(ctx: &TranslateContext, ns: Option<&str>, item: &Value, schema: &Value) -> Result<Entity, String> {
    let family = &RESOURCE;
    let what = family.what(ns, item);
    let t = TypeItem::read(item).map_err(|e| format!("cannot translate {what}: {e}"))?;
    require_schema(schema).map_err(|e| format!("cannot translate {what}: {e}"))?;
    Entity::from_value(&what, &resource::template(ctx, &t, ns, schema))
}

/// (Cluster)ProjectType -> `template-project-<name>`, its schema read from the item
/// (`spec.parameters.openAPIV3Schema`).
pub fn project_type(ctx: &TranslateContext, ns: Option<&str>, item: &Value) -> Result<Entity, String> {
    let family = &PROJECT;
    let what = family.what(ns, item);
    let t = TypeItem::read(item).map_err(|e| format!("cannot translate {what}: {e}"))?;
    Entity::from_value(&what, &project::template(ctx, &t, ns))
}

/// The placeholder for a (Cluster)ComponentType that names a custom template: the
/// identity and annotations the legacy module stamps on the authored template, plus
/// [`PENDING_ANNOTATION`]; the TypeScript layer merges the authored template into it or
/// drops it.
/// `_ctx` is unused: the authored template's own location replaces the provider's.
pub fn custom_component_type(_ctx: &TranslateContext, ns: Option<&str>, item: &Value) -> Result<Entity, String> {
    let what = COMPONENT.what(ns, item);
    let t = TypeItem::read(item).map_err(|e| format!("cannot translate {what}: {e}"))?;
    let entity = custom::placeholder(&t, ns).map_err(|e| format!("cannot translate {what}: {e}"))?;
    Entity::from_value(&what, &entity)
}

/// What differs between the three kinds of generated Templates' envelopes.
struct Family {
    /// Kinds of the source item: namespaced, cluster-scoped.
    kinds: [&'static str; 2],
    /// `metadata.name` = prefix + type name.
    name_prefix: &'static str,
    /// `openchoreo.io/<tag>-name`, `-generated`, `-kind`, `-display-name`.
    annotation_tag: &'static str,
    /// `Create a <title> <noun>` when the type has no description.
    noun: &'static str,
}

const COMPONENT: Family =
    Family { kinds: ["ComponentType", "ClusterComponentType"], name_prefix: "template-", annotation_tag: "ctd", noun: "component" };
const RESOURCE: Family = Family {
    kinds: ["ResourceType", "ClusterResourceType"],
    name_prefix: "template-resource-",
    annotation_tag: "rtd",
    noun: "resource",
};
const PROJECT: Family = Family {
    kinds: ["ProjectType", "ClusterProjectType"],
    name_prefix: "template-project-",
    annotation_tag: "ptd",
    noun: "project",
};

impl Family {
    fn kind(&self, ns: Option<&str>) -> &'static str {
        self.kinds[usize::from(ns.is_none())]
    }

    fn annotation(&self, what: &str) -> String {
        format!("openchoreo.io/{}-{what}", self.annotation_tag)
    }

    /// The source item as error messages name it: `ComponentType "web" in ns-1`.
    fn what(&self, ns: Option<&str>, item: &Value) -> String {
        let name = item["metadata"]["name"].as_str().unwrap_or("?");
        match ns {
            Some(ns) => format!("{} {name:?} in {ns}", self.kind(Some(ns))),
            None => format!("{} {name:?}", self.kind(None)),
        }
    }

    /// The envelope every generated Template shares: identity, title, description, the
    /// `<tag>-name`/`-generated` annotations (plus `extra`), the display-name annotation
    /// when the type has one, the provider's managed-by annotations, and the spec fields
    /// before `parameters`.
    fn envelope(&self, ctx: &TranslateContext, t: &TypeItem, ns: Option<&str>, extra: Map<String, Value>, spec: Map<String, Value>) -> Value {
        let mut annotations = Map::new();
        annotations.insert(self.annotation("name"), json!(t.name));
        annotations.insert(self.annotation("generated"), json!("true"));
        annotations.extend(extra);
        if !t.display_name.is_empty() {
            annotations.insert(self.annotation("display-name"), json!(t.display_name));
        }
        // Stamped by the provider after conversion (P:250-261).
        annotations.insert(MANAGED_BY_LOCATION.into(), json!(ctx.location_key));
        annotations.insert(MANAGED_BY_ORIGIN_LOCATION.into(), json!(ctx.location_key));

        let owner = if ctx.default_owner.is_empty() { FALLBACK_OWNER } else { &ctx.default_owner };
        let mut full_spec = Map::new();
        full_spec.insert("owner".into(), json!(owner));
        full_spec.insert("EXPERIMENTAL_formDecorators".into(), json!([{ "id": "openchoreo:inject-user-token" }]));
        full_spec.extend(spec);

        json!({
            "apiVersion": API_VERSION,
            "kind": "Template",
            "metadata": {
                "name": format!("{}{}", self.name_prefix, t.name),
                "namespace": template_namespace(ns),
                "title": t.title,
                "description": t.description.clone().unwrap_or_else(|| format!("Create a {} {}", t.title, self.noun)),
                "annotations": annotations,
            },
            "spec": full_spec,
        })
    }
}

fn template_namespace(ns: Option<&str>) -> &str {
    ns.unwrap_or(CLUSTER_NAMESPACE)
}

/// What the provider reads from a type's list item for every converter.
struct TypeItem<'a> {
    item: &'a Value,
    name: &'a str,
    /// The display-name annotation, `''` when absent (`getDisplayName`).
    display_name: &'a str,
    /// The description annotation when truthy (the converters' `description || ...`).
    description: Option<String>,
    /// `displayName || formatTitle(name)`.
    title: String,
}

impl<'a> TypeItem<'a> {
    fn read(item: &'a Value) -> Result<Self, String> {
        let name = match item["metadata"]["name"].as_str() {
            Some(name) if !name.is_empty() => name,
            _ => return Err("metadata.name is missing".into()),
        };
        let annotation = |key: &str| item["metadata"]["annotations"][key].as_str();
        let display_name = annotation(DISPLAY_NAME_ANNOTATION).unwrap_or("");
        let description = annotation(DESCRIPTION_ANNOTATION).filter(|d| !d.is_empty()).map(str::to_string);
        let title = if display_name.is_empty() { js::format_title(name) } else { display_name.to_string() };
        Ok(TypeItem { item, name, display_name, description, title })
    }

    /// `item.spec?.<field>` (None when undefined; a JSON null is `Some(Null)`).
    fn spec(&self, field: &str) -> Option<&'a Value> {
        self.item.get("spec").and_then(|s| s.get(field))
    }
}

/// The provider drops a type whose `/schema` answer is falsy (`!data`).
fn require_schema(schema: &Value) -> Result<(), String> {
    if js::truthy(Some(schema)) {
        Ok(())
    } else {
        Err(format!("its /schema answer is empty ({schema})"))
    }
}

//! The placeholder of a (Cluster)ComponentType that names its own template
//! (`RemoteTemplateFetcher.stamp`, called as at P:987-993, P:1478-1485). Reading the URL
//! needs Backstage's `UrlReaderService`, so the TypeScript layer
//! (`js/src/customTemplates.ts`) completes it: the authored template (first YAML document
//! of `kind: Template`) with this placeholder's name, namespace and annotations laid over
//! its own, without [`PENDING_ANNOTATION`].

use serde_json::{json, Map, Value};

use super::component::{workload_type, WORKLOAD_TYPE_ANNOTATION};
use crate::translate::js::truthy;
use super::{template_namespace, TypeItem, API_VERSION, COMPONENT};
use crate::translate::common::{MANAGED_BY_LOCATION, MANAGED_BY_ORIGIN_LOCATION};

/// The ComponentType annotation naming a hand-authored template's URL.
pub const TEMPLATE_URL_ANNOTATION: &str = "scaffolder.openchoreo.dev/backstage-template-url";
/// Marks a placeholder; the TypeScript layer removes it with the completion.
pub const PENDING_ANNOTATION: &str = "openchoreo.io/template-pending";

/// The template URL when the item names one (truthy, as the provider tests it).
pub fn template_url(item: &Value) -> Option<&str> {
    item["metadata"]["annotations"][TEMPLATE_URL_ANNOTATION].as_str().filter(|u| !u.is_empty())
}

pub fn placeholder(t: &TypeItem, ns: Option<&str>) -> Result<Value, String> {
    let url = template_url(t.item).ok_or_else(|| format!("annotation {TEMPLATE_URL_ANNOTATION} is not set"))?;
    let location = format!("url:{url}");

    let mut annotations = Map::new();
    annotations.insert(COMPONENT.annotation("name"), json!(t.name));
    // Hand-authored, not a generated wizard.
    annotations.insert(COMPONENT.annotation("generated"), json!("false"));
    annotations.insert(TEMPLATE_URL_ANNOTATION.into(), json!(url));
    // Relative `fetch:*` steps resolve against the template's own URL.
    annotations.insert(MANAGED_BY_LOCATION.into(), json!(location));
    annotations.insert(MANAGED_BY_ORIGIN_LOCATION.into(), json!(location));
    let workload_type = workload_type(t);
    if truthy(Some(&workload_type)) {
        annotations.insert(WORKLOAD_TYPE_ANNOTATION.into(), workload_type);
    }
    if ns.is_none() {
        annotations.insert(COMPONENT.annotation("kind"), json!(COMPONENT.kind(None)));
    }
    if !t.display_name.is_empty() {
        annotations.insert(COMPONENT.annotation("display-name"), json!(t.display_name));
    }
    annotations.insert(PENDING_ANNOTATION.into(), json!("true"));

    Ok(json!({
        "apiVersion": API_VERSION,
        "kind": "Template",
        "metadata": {
            "name": format!("{}{}", COMPONENT.name_prefix, t.name),
            "namespace": template_namespace(ns),
            "annotations": annotations,
        },
        "spec": {},
    }))
}

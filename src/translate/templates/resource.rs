//! `template-resource-<rt>` from a (Cluster)ResourceType and its `/schema` body
//! (`RtdToTemplateConverter`, fed as the provider feeds it, P:1149-1163, P:1581-1590).
//! The provider also passes `spec.retainPolicy`, which the converter does not use.

use serde_json::{json, Map, Value};

use crate::translate::js::truthy;
use super::{TypeItem, RESOURCE};
use crate::translate::TranslateContext;

pub fn template(ctx: &TranslateContext, t: &TypeItem, ns: Option<&str>, schema: &Value) -> Value {
    let kind = RESOURCE.kind(ns);
    let form_ns = ns.unwrap_or("");

    let mut annotations = Map::new();
    annotations.insert(RESOURCE.annotation("kind"), json!(kind));

    let mut details_options = json!({ "rtdName": t.name, "rtdKind": kind, "rtdDisplayName": t.title });
    if truthy(Some(schema)) {
        details_options["rtdSchema"] = schema.clone();
    }

    let spec = json!({
        "type": "Resource",
        "parameters": [
            {
                "title": "Resource Metadata",
                "required": ["project_namespace", "resource_name"],
                "properties": {
                    "project_namespace": {
                        "title": "Project & Namespace",
                        "type": "object",
                        "ui:field": "ProjectNamespaceField",
                        "ui:options": { "defaultNamespace": form_ns },
                        "properties": {
                            "project_name": { "type": "string" },
                            "namespace_name": { "type": "string" },
                        },
                        "required": ["project_name", "namespace_name"],
                    },
                    "resource_name": {
                        "title": "Resource Name",
                        "type": "string",
                        "description": "Unique name for your Resource (must be a valid Kubernetes name)",
                        "ui:field": "ResourceNamePicker",
                        "ui:options": {
                            "catalogKind": "Resource",
                            "resourceLabel": "Resource",
                            "namespaceField": "project_namespace.namespace_name",
                        },
                    },
                    "displayName": {
                        "title": "Display Name",
                        "type": "string",
                        "description": "A human-readable display name for the Resource",
                    },
                    "description": {
                        "title": "Description",
                        "type": "string",
                        "description": "Describe what this Resource is for",
                    },
                },
            },
            {
                "title": format!("{} Details", t.title),
                "properties": {
                    "parameters": {
                        "title": "Parameters",
                        "type": "object",
                        "ui:field": "ResourceParametersField",
                        "ui:options": details_options,
                    },
                },
            },
        ],
        "steps": [{
            "id": "create-resource",
            "name": "Create OpenChoreo Resource",
            "action": "openchoreo:resource:create",
            "input": {
                "namespaceName": "${{ parameters.project_namespace.namespace_name }}",
                "projectName": "${{ parameters.project_namespace.project_name }}",
                "resourceName": "${{ parameters.resource_name }}",
                "displayName": "${{ parameters.displayName }}",
                "description": "${{ parameters.description }}",
                "typeKind": kind,
                "typeName": t.name,
                "parameters": "${{ parameters.parameters }}",
            },
        }],
        "output": {
            "links": [{
                "title": "View Resource",
                "icon": "kind:resource",
                "entityRef": "resource:${{ steps['create-resource'].output.namespaceName }}/${{ steps['create-resource'].output.resourceName }}",
            }],
        },
    });
    let Value::Object(spec) = spec else { unreachable!("a json! object") };
    RESOURCE.envelope(ctx, t, ns, annotations, spec)
}

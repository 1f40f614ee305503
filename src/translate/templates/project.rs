//! `template-project-<pt>` from a (Cluster)ProjectType list item, whose
//! `spec.parameters.openAPIV3Schema` is inline (`PtdToTemplateConverter`, fed through
//! the provider's `toProjectTypeCRD`, P:228-248).

use serde_json::{json, Map, Value};

use crate::translate::js::when_truthy;
use super::{TypeItem, PROJECT};
use crate::translate::TranslateContext;

pub fn template(ctx: &TranslateContext, t: &TypeItem, ns: Option<&str>) -> Value {
    let kind = PROJECT.kind(ns);

    let mut annotations = Map::new();
    annotations.insert(PROJECT.annotation("kind"), json!(kind));

    let mut namespace_field = json!({
        "title": "Namespace",
        "type": "string",
        "description": "Namespace where the project will be created",
        "ui:field": "NamespaceEntityPicker",
    });
    // A namespaced type only backs Projects of its own namespace: pre-filled.
    if let Some(ns) = ns {
        namespace_field["default"] = json!(format!("domain:default/{ns}"));
    }

    let mut details_options = json!({ "ptdName": t.name, "ptdKind": kind, "ptdDisplayName": t.title });
    let schema = t.spec("parameters").and_then(|p| p.get("openAPIV3Schema"));
    if let Some(schema) = when_truthy(schema) {
        details_options["ptdSchema"] = schema.clone();
    }

    let spec = json!({
        "type": "Project",
        "parameters": [
            {
                "title": "Project Metadata",
                "required": ["namespace_name", "project_name", "deployment_pipeline"],
                "properties": {
                    "namespace_name": namespace_field,
                    "project_name": {
                        "title": "Project Name",
                        "type": "string",
                        "description": "Unique name for your project (must be a valid Kubernetes name)",
                        "ui:field": "ResourceNamePicker",
                        "ui:options": {
                            "catalogKind": "System",
                            "resourceLabel": "Project",
                            "namespaceField": "namespace_name",
                        },
                    },
                    "displayName": {
                        "title": "Display Name",
                        "type": "string",
                        "description": "A human-readable display name for the Project",
                    },
                    "description": {
                        "title": "Description",
                        "type": "string",
                        "description": "Describe what this Project is for",
                    },
                    "deployment_pipeline": {
                        "title": "Deployment Pipeline",
                        "type": "string",
                        "description": "Deployment pipeline to associate with this project",
                        "ui:field": "DeploymentPipelinePicker",
                    },
                    "auto_deploy": {
                        "title": "Auto Deploy",
                        "type": "boolean",
                        "description": "Automatically deploys the project to all environments in the deployment pipeline once created",
                        "default": true,
                        "ui:field": "SwitchField",
                        "ui:options": {
                            "offWarning": "The project will not be deployed to any environment. You will need to deploy it manually from the project\u{2019}s Deploy tab before you can deploy components.",
                        },
                    },
                },
            },
            {
                "title": format!("{} Details", t.title),
                "properties": {
                    "parameters": {
                        "title": "Parameters",
                        "type": "object",
                        "ui:field": "ProjectParametersField",
                        "ui:options": details_options,
                    },
                },
            },
        ],
        "steps": [{
            "id": "create-project",
            "name": "Create OpenChoreo Project",
            "action": "openchoreo:project:create",
            "input": {
                "namespaceName": "${{ parameters.namespace_name }}",
                "projectName": "${{ parameters.project_name }}",
                "displayName": "${{ parameters.displayName }}",
                "description": "${{ parameters.description }}",
                "deploymentPipeline": "${{ parameters.deployment_pipeline }}",
                "autoDeploy": "${{ parameters.auto_deploy }}",
                "typeKind": kind,
                "typeName": t.name,
                "parameters": "${{ parameters.parameters }}",
            },
        }],
        "output": {
            "links": [{
                "title": "View Project",
                "icon": "kind:system",
                "entityRef": "system:${{ steps['create-project'].output.namespaceName }}/${{ steps['create-project'].output.projectName }}",
            }],
            "text": [{
                "if": "${{ steps['create-project'].output.autoDeployFailed }}",
                "icon": "warning",
                "content": "Auto Deploy could not create release binding(s) for **${{ steps['create-project'].output.failedEnvironments }}**. The project was created successfully, but it will not be deployed automatically \u{2014} deploy it manually from the project's **Deploy** tab.",
            }],
        },
    });
    let Value::Object(spec) = spec else { unreachable!("a json! object") };
    PROJECT.envelope(ctx, t, ns, annotations, spec)
}

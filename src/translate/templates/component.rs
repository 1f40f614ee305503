//! `template-<ct>` from a (Cluster)ComponentType and its `/schema` body
//! (`CtdToTemplateConverter`, fed as the provider feeds it, P:955-970, P:1439-1458).

use serde_json::{json, Map, Value};

use crate::translate::js::{non_nullish, when_truthy};
use super::{TypeItem, COMPONENT};
use crate::translate::TranslateContext;

pub const WORKLOAD_TYPE_ANNOTATION: &str = "openchoreo.io/workload-type";

/// `spec.workloadType ?? 'deployment'`.
pub fn workload_type(t: &TypeItem) -> Value {
    non_nullish(t.spec("workloadType")).cloned().unwrap_or_else(|| json!("deployment"))
}

pub fn template(ctx: &TranslateContext, t: &TypeItem, ns: Option<&str>, schema: &Value) -> Result<Value, String> {
    let cluster = ns.is_none();
    let kind = COMPONENT.kind(ns);
    // The form's namespace: the type's own, none for a cluster type (the user picks one).
    let form_ns = ns.unwrap_or("");
    let workload_type = workload_type(t);
    let (workflows, traits) = if cluster { cluster_allowed(t)? } else { namespaced_allowed(t)? };
    let default_workflow_kind = if cluster { "ClusterWorkflow" } else { "Workflow" };
    let allowed_workflows: Vec<Value> =
        workflows.iter().filter_map(|w| workflow_ref(w.as_ref(), default_workflow_kind)).collect();

    let mut annotations = Map::new();
    annotations.insert(WORKLOAD_TYPE_ANNOTATION.into(), workload_type.clone());
    if cluster {
        annotations.insert(COMPONENT.annotation("kind"), json!(kind));
    }

    let mut details_options = json!({
        "namespaceName": form_ns,
        "workloadType": workload_type,
        "ctdSchema": schema,
        "ctdDisplayName": t.title,
    });
    if let Some(traits) = traits {
        details_options["allowedTraits"] = traits;
    }

    let parameters = json!([
        metadata_section(form_ns),
        build_and_deploy_section(form_ns, kind, allowed_workflows),
        {
            "title": format!("{} Details", t.title),
            "properties": {
                "workloadDetails": {
                    "title": "Workload Details",
                    "type": "object",
                    "ui:field": "WorkloadDetailsField",
                    "ui:options": details_options,
                },
            },
        },
    ]);

    let spec = json!({
        "type": "Component",
        "parameters": parameters,
        "steps": [step(t.name, &workload_type, kind)],
        "output": {
            "links": [{
                "title": "View Component",
                "icon": "kind:component",
                "entityRef": "component:${{ steps['create-component'].output.namespaceName }}/${{ steps['create-component'].output.componentName }}",
            }],
        },
    });
    let Value::Object(spec) = spec else { unreachable!("a json! object") };
    Ok(COMPONENT.envelope(ctx, t, ns, annotations, spec))
}

/// A workflow list item, absent (`undefined`) where the cluster path's `w.name` was.
type Workflows = Vec<Option<Value>>;

/// Namespaced: `spec.allowedWorkflows` and `spec.allowedTraits` as they are.
fn namespaced_allowed(t: &TypeItem) -> Result<(Workflows, Option<Value>), String> {
    let workflows = match non_nullish(t.spec("allowedWorkflows")) {
        None => vec![],
        Some(Value::Array(items)) => items.iter().cloned().map(Some).collect(),
        Some(other) => return Err(format!("spec.allowedWorkflows is not a list: {other}")),
    };
    Ok((workflows, t.spec("allowedTraits").cloned()))
}

/// Cluster: workflows reduced to their names (`w.name`), traits forced to kind
/// `ClusterTrait` (`{kind, name: t.name}`); a null entry throws in the legacy code.
fn cluster_allowed(t: &TypeItem) -> Result<(Workflows, Option<Value>), String> {
    let list = |field: &str| -> Result<Option<&Vec<Value>>, String> {
        match non_nullish(t.spec(field)) {
            None => Ok(None),
            Some(Value::Array(items)) => {
                if let Some(i) = items.iter().position(Value::is_null) {
                    return Err(format!("spec.{field}[{i}] is null"));
                }
                Ok(Some(items))
            }
            Some(other) => Err(format!("spec.{field} is not a list: {other}")),
        }
    };
    let name_of = |v: &Value| v.as_object().and_then(|o| o.get("name")).cloned();
    let workflows = list("allowedWorkflows")?.map(|items| items.iter().map(name_of).collect()).unwrap_or_default();
    let traits = list("allowedTraits")?.map(|items| {
        Value::Array(
            items
                .iter()
                .map(|item| {
                    let mut r = json!({ "kind": "ClusterTrait" });
                    if let Some(name) = name_of(item) {
                        r["name"] = name;
                    }
                    r
                })
                .collect(),
        )
    });
    Ok((workflows, traits))
}

/// One `allowedWorkflows` entry as the converter normalises it: a name takes the
/// default kind, an object keeps its kind (`??`); entries without a truthy name vanish.
fn workflow_ref(w: Option<&Value>, default_kind: &str) -> Option<Value> {
    let w = when_truthy(w)?;
    match w {
        Value::String(name) => Some(json!({ "kind": default_kind, "name": name })),
        Value::Object(o) => {
            let name = when_truthy(o.get("name"))?;
            let kind = non_nullish(o.get("kind")).cloned().unwrap_or_else(|| json!(default_kind));
            Some(json!({ "kind": kind, "name": name }))
        }
        // Numbers, `true`, arrays: `workflow.name` is undefined.
        _ => None,
    }
}

fn metadata_section(form_ns: &str) -> Value {
    json!({
        "title": "Component Metadata",
        "required": ["project_namespace", "component_name"],
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
            "component_name": {
                "title": "Component Name",
                "type": "string",
                "description": "Unique name for your component",
                "ui:field": "ComponentNamePicker",
            },
            "displayName": {
                "title": "Display Name",
                "type": "string",
                "description": "Human-readable display name",
            },
            "description": {
                "title": "Description",
                "type": "string",
                "description": "Brief description of what this component does",
            },
        },
    })
}

fn build_and_deploy_section(form_ns: &str, kind: &str, allowed_workflows: Vec<Value>) -> Value {
    json!({
        "title": "Build & Deploy",
        "required": ["buildAndDeploy"],
        "properties": {
            "buildAndDeploy": {
                "type": "object",
                "ui:field": "BuildAndDeployField",
                "required": ["deploymentSource"],
                "properties": {
                    "deploymentSource": {
                        "title": "Deployment Source",
                        "type": "string",
                        "description": "Choose how to deploy your component",
                        "enum": ["build-from-source", "deploy-from-image", "external-ci"],
                        "ui:field": "DeploymentSourcePicker",
                    },
                    "workflow_name": {
                        "title": "Build Workflow",
                        "type": "object",
                        "description": "Select the build workflow to use for this component",
                        "properties": {
                            "kind": { "title": "Workflow Kind", "type": "string" },
                            "name": { "title": "Workflow Name", "type": "string" },
                        },
                        "required": ["kind", "name"],
                        "ui:field": "BuildWorkflowPicker",
                        "ui:options": {
                            "namespaceName": form_ns,
                            "ctdKind": kind,
                            "allowedWorkflows": allowed_workflows,
                        },
                    },
                    "git_source": {
                        "title": "Source Repository",
                        "type": "object",
                        "ui:field": "GitSourceField",
                        "ui:options": { "namespaceName": form_ns },
                        "properties": {
                            "repo_url": { "type": "string" },
                            "branch": { "type": "string" },
                            "component_path": { "type": "string" },
                            "git_secret_ref": { "type": "string" },
                        },
                    },
                    "workflow_parameters": {
                        "title": "Workflow Parameters",
                        "type": "object",
                        "ui:field": "BuildWorkflowParameters",
                        "ui:options": { "namespaceName": form_ns, "ctdKind": kind },
                    },
                    "containerImage": {
                        "title": "Container Image",
                        "type": "string",
                        "description": "Full image reference (e.g., ghcr.io/org/app:v1.0.0 or nginx:latest)",
                        "ui:field": "ContainerImageField",
                    },
                    "autoDeploy": {
                        "title": "Auto Deploy",
                        "description": "Automatically deploys the component to the first target environment once built",
                        "type": "boolean",
                        "default": false,
                        "ui:field": "SwitchField",
                    },
                    "ciPlatform": {
                        "title": "CI Platform (Optional)",
                        "type": "string",
                        "description": "Select your CI platform to enable build visibility in Backstage. You can configure this later via the annotation editor.",
                        "enum": ["none", "jenkins", "github-actions", "gitlab-ci"],
                        "enumNames": ["Skip - I'll configure this later", "Jenkins", "GitHub Actions", "GitLab CI"],
                        "default": "none",
                    },
                    "ciIdentifier": {
                        "title": "CI Job / Project Identifier",
                        "type": "string",
                        "description": "Identifier for the external CI job (e.g., Jenkins job full name such as `my-folder/my-job`, GitHub repo slug, or GitLab project ID).",
                    },
                },
            },
        },
    })
}

fn step(name: &str, workload_type: &Value, kind: &str) -> Value {
    json!({
        "id": "create-component",
        "name": "Create OpenChoreo Component",
        "action": "openchoreo:component:create",
        "input": {
            "namespaceName": "${{ parameters.project_namespace.namespace_name }}",
            "projectName": "${{ parameters.project_namespace.project_name }}",
            "componentName": "${{ parameters.component_name }}",
            "displayName": "${{ parameters.displayName }}",
            "description": "${{ parameters.description }}",
            "componentType": name,
            "component_type_workload_type": workload_type,
            "component_type_kind": kind,
            "workloadDetails": "${{ parameters.workloadDetails }}",
            "deploymentSource": "${{ parameters.buildAndDeploy.deploymentSource }}",
            "autoDeploy": "${{ parameters.buildAndDeploy.autoDeploy }}",
            "containerImage": "${{ parameters.buildAndDeploy.containerImage }}",
            "repo_url": "${{ parameters.buildAndDeploy.git_source.repo_url }}",
            "branch": "${{ parameters.buildAndDeploy.git_source.branch }}",
            "component_path": "${{ parameters.buildAndDeploy.git_source.component_path }}",
            "gitSecretRef": "${{ parameters.buildAndDeploy.git_source.git_secret_ref }}",
            "workflow": "${{ parameters.buildAndDeploy.workflow_name }}",
            "workflow_parameters": "${{ parameters.buildAndDeploy.workflow_parameters }}",
            "ciPlatform": "${{ parameters.buildAndDeploy.ciPlatform }}",
            "ciIdentifier": "${{ parameters.buildAndDeploy.ciIdentifier }}",
        },
    })
}

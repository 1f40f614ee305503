//! OpenChoreo API resources (serde). Tolerant: unknown fields are ignored, optional
//! fields default (an explicit JSON `null` counts as absent). Fields the API marks as
//! required and that the translation cannot do without stay required, so an item that
//! lacks them fails to deserialize with serde's `missing field ...` message:
//! `metadata.name`, `Component.spec.owner.projectName`,
//! `Workload.spec.owner.{projectName,componentName}`, an endpoint's `type` and `port`.
//! A dependency entry lacking its target is left out on its own (the legacy module
//! does the same), not the whole workload.
//!
//! Timestamps stay strings: they are passed through to annotations unchanged.

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;

/// Annotation holding a resource's human-readable name.
pub const DISPLAY_NAME_ANNOTATION: &str = "openchoreo.dev/display-name";
/// Annotation holding a resource's description.
pub const DESCRIPTION_ANNOTATION: &str = "openchoreo.dev/description";
/// Annotation naming the Backstage owner of a resource.
pub const OWNER_ANNOTATION: &str = "backstage.io/owner";

/// `Option<T>` semantics for `T: Default`: absent or `null` gives `T::default()`.
fn null_as_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// Kubernetes-style object metadata.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ObjectMeta {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uid: Option<String>,
    #[serde(default, deserialize_with = "null_as_default", skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
    #[serde(default, deserialize_with = "null_as_default", skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub creation_timestamp: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deletion_timestamp: Option<String>,
}

impl ObjectMeta {
    pub fn annotation(&self, key: &str) -> Option<&str> {
        self.annotations.get(key).map(String::as_str)
    }

    /// `openchoreo.dev/display-name`, when set and non-empty.
    pub fn display_name(&self) -> Option<&str> {
        self.annotation(DISPLAY_NAME_ANNOTATION).filter(|s| !s.is_empty())
    }

    /// `openchoreo.dev/description`, when set and non-empty.
    pub fn description(&self) -> Option<&str> {
        self.annotation(DESCRIPTION_ANNOTATION).filter(|s| !s.is_empty())
    }

    /// `backstage.io/owner`, trimmed, when set and not blank.
    pub fn owner(&self) -> Option<&str> {
        self.annotation(OWNER_ANNOTATION).map(str::trim).filter(|s| !s.is_empty())
    }

    /// `creationTimestamp`, when non-empty.
    pub fn created_at(&self) -> Option<&str> {
        self.creation_timestamp.as_deref().filter(|s| !s.is_empty())
    }

    /// `deletionTimestamp`, when non-empty.
    pub fn deleted_at(&self) -> Option<&str> {
        self.deletion_timestamp.as_deref().filter(|s| !s.is_empty())
    }

    /// `uid`, when non-empty.
    pub fn uid(&self) -> Option<&str> {
        self.uid.as_deref().filter(|s| !s.is_empty())
    }
}

/// Everything that carries [`ObjectMeta`]; the helpers forward to it.
pub trait Resource {
    fn metadata(&self) -> &ObjectMeta;

    fn name(&self) -> &str {
        &self.metadata().name
    }
    fn annotation(&self, key: &str) -> Option<&str> {
        self.metadata().annotation(key)
    }
    fn display_name(&self) -> Option<&str> {
        self.metadata().display_name()
    }
    fn description(&self) -> Option<&str> {
        self.metadata().description()
    }
    fn owner_annotation(&self) -> Option<&str> {
        self.metadata().owner()
    }
}

/// A Kubernetes-style status condition.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Condition {
    #[serde(rename = "type", default)]
    pub type_: String,
    /// `"True"`, `"False"` or `"Unknown"`.
    #[serde(default)]
    pub status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_transition_time: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
}

/// True when the first `Ready` condition has status `"True"` (as the legacy `isReady`).
pub fn conditions_ready(conditions: &[Condition]) -> bool {
    conditions.iter().find(|c| c.type_ == "Ready").is_some_and(|c| c.status == "True")
}

/// A `{kind, name}` reference (deployment pipeline, project type, component type).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TypedRef {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(default)]
    pub name: String,
}

impl TypedRef {
    pub fn name(&self) -> Option<&str> {
        Some(self.name.as_str()).filter(|s| !s.is_empty())
    }
    pub fn kind(&self) -> Option<&str> {
        self.kind.as_deref().filter(|s| !s.is_empty())
    }
}

// ---------------------------------------------------------------------------------------
// Namespace
// ---------------------------------------------------------------------------------------

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Namespace {
    pub metadata: ObjectMeta,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<NamespaceStatus>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct NamespaceStatus {
    /// `Active` | `Terminating`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phase: Option<String>,
}

impl Namespace {
    pub fn phase(&self) -> Option<&str> {
        self.status.as_ref()?.phase.as_deref().filter(|s| !s.is_empty())
    }
}

impl Resource for Namespace {
    fn metadata(&self) -> &ObjectMeta {
        &self.metadata
    }
}

// ---------------------------------------------------------------------------------------
// Project
// ---------------------------------------------------------------------------------------

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Project {
    pub metadata: ObjectMeta,
    #[serde(default, deserialize_with = "null_as_default")]
    pub spec: ProjectSpec,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<ProjectStatus>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProjectSpec {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deployment_pipeline_ref: Option<TypedRef>,
    /// `{kind: ProjectType | ClusterProjectType, name}`.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub type_: Option<TypedRef>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ProjectStatus {
    #[serde(default, deserialize_with = "null_as_default")]
    pub conditions: Vec<Condition>,
}

impl Project {
    pub fn is_ready(&self) -> bool {
        self.status.as_ref().is_some_and(|s| conditions_ready(&s.conditions))
    }
}

impl Resource for Project {
    fn metadata(&self) -> &ObjectMeta {
        &self.metadata
    }
}

// ---------------------------------------------------------------------------------------
// Component
// ---------------------------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Component {
    pub metadata: ObjectMeta,
    pub spec: ComponentSpec,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<ComponentStatus>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ComponentSpec {
    pub owner: ComponentOwner,
    /// `{kind: ComponentType | ClusterComponentType, name: "deployment/go-service"}`;
    /// a bare string is accepted too (as the legacy provider did).
    #[serde(default, deserialize_with = "component_type_ref", skip_serializing_if = "Option::is_none")]
    pub component_type: Option<TypedRef>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub auto_deploy: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workflow: Option<ComponentWorkflow>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ComponentOwner {
    pub project_name: String,
}

/// `spec.workflow`: the build workflow and the developer's parameters for it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ComponentWorkflow {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(default)]
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parameters: Option<Value>,
}

/// Repository facts of a component's workflow parameters.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RepositoryInfo {
    pub url: Option<String>,
    pub branch: Option<String>,
    pub path: Option<String>,
}

impl ComponentWorkflow {
    /// `parameters.repository.{url, revision.branch, appPath}`, the standard repository
    /// shape of OpenChoreo's component workflows (legacy `getRepositoryInfo`). Empty and
    /// non-string values count as absent.
    pub fn repository(&self) -> RepositoryInfo {
        let repo = match self.parameters.as_ref().and_then(|p| p.get("repository")) {
            Some(r) if r.is_object() => r,
            _ => return RepositoryInfo::default(),
        };
        let text = |v: Option<&Value>| v.and_then(Value::as_str).filter(|s| !s.is_empty()).map(str::to_string);
        RepositoryInfo {
            url: text(repo.get("url")),
            branch: text(repo.get("revision").and_then(|r| r.get("branch"))),
            path: text(repo.get("appPath")),
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ComponentStatus {
    #[serde(default, deserialize_with = "null_as_default")]
    pub conditions: Vec<Condition>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latest_release: Option<LatestRelease>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LatestRelease {
    #[serde(default)]
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub release_hash: Option<String>,
}

impl Component {
    pub fn project_name(&self) -> &str {
        &self.spec.owner.project_name
    }

    /// The component type name (`deployment/go-service`), when set.
    pub fn type_name(&self) -> Option<&str> {
        self.spec.component_type.as_ref()?.name()
    }

    /// `status.conditions` has `Ready` = `"True"`.
    pub fn is_ready(&self) -> bool {
        self.status.as_ref().is_some_and(|s| conditions_ready(&s.conditions))
    }

    pub fn repository(&self) -> RepositoryInfo {
        self.spec.workflow.as_ref().map(ComponentWorkflow::repository).unwrap_or_default()
    }
}

impl Resource for Component {
    fn metadata(&self) -> &ObjectMeta {
        &self.metadata
    }
}

fn component_type_ref<'de, D>(d: D) -> Result<Option<TypedRef>, D::Error>
where
    D: Deserializer<'de>,
{
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Repr {
        Name(String),
        Ref(TypedRef),
    }
    Ok(match Option::<Repr>::deserialize(d)? {
        None => None,
        Some(Repr::Name(name)) => Some(TypedRef { kind: None, name }),
        Some(Repr::Ref(r)) => Some(r),
    })
}

// ---------------------------------------------------------------------------------------
// Workload
// ---------------------------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Workload {
    pub metadata: ObjectMeta,
    pub spec: WorkloadSpec,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WorkloadSpec {
    pub owner: WorkloadOwner,
    /// Endpoint name -> endpoint (sorted by name).
    #[serde(default, deserialize_with = "null_as_default")]
    pub endpoints: BTreeMap<String, WorkloadEndpoint>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dependencies: Option<WorkloadDependencies>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WorkloadOwner {
    pub project_name: String,
    pub component_name: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WorkloadEndpoint {
    /// `HTTP | gRPC | GraphQL | Websocket | TCP | UDP`.
    #[serde(rename = "type")]
    pub type_: String,
    pub port: u32,
    #[serde(default, deserialize_with = "null_as_default")]
    pub visibility: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_path: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<EndpointSchema>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct EndpointSchema {
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub type_: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<String>,
}

impl WorkloadEndpoint {
    /// The schema content, when it has non-whitespace text (legacy `extractSchemaEndpoints`).
    pub fn schema_content(&self) -> Option<&str> {
        self.schema.as_ref()?.content.as_deref().filter(|c| !c.trim().is_empty())
    }

    /// The schema type, when set and non-empty.
    pub fn schema_type(&self) -> Option<&str> {
        self.schema.as_ref()?.type_.as_deref().filter(|t| !t.is_empty())
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct WorkloadDependencies {
    #[serde(default, deserialize_with = "null_as_default")]
    pub endpoints: Vec<WorkloadConnection>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub resources: Vec<WorkloadResourceDependency>,
}

/// A connection to another component's endpoint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WorkloadConnection {
    /// Target project; absent or empty means the consumer's own project.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project: Option<String>,
    /// Absent or empty: the entry names no endpoint and is left out (as the legacy
    /// module's schema look-up leaves it out), the rest of the workload stays.
    #[serde(default, deserialize_with = "null_as_default")]
    pub component: String,
    /// Target endpoint name (absent or empty: see `component`).
    #[serde(default, deserialize_with = "null_as_default")]
    pub name: String,
    /// `project` | `namespace`.
    #[serde(default)]
    pub visibility: String,
}

/// A dependency on a Resource, by name.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WorkloadResourceDependency {
    /// Absent or empty: the entry is left out (the legacy module would write
    /// `resource:<ns>/undefined`, a ref to nothing).
    #[serde(rename = "ref", default, deserialize_with = "null_as_default")]
    pub ref_: String,
}

impl Workload {
    pub fn project_name(&self) -> &str {
        &self.spec.owner.project_name
    }
    pub fn component_name(&self) -> &str {
        &self.spec.owner.component_name
    }
    pub fn connections(&self) -> &[WorkloadConnection] {
        self.spec.dependencies.as_ref().map(|d| d.endpoints.as_slice()).unwrap_or_default()
    }
    pub fn resource_dependencies(&self) -> &[WorkloadResourceDependency] {
        self.spec.dependencies.as_ref().map(|d| d.resources.as_slice()).unwrap_or_default()
    }
}

impl Resource for Workload {
    fn metadata(&self) -> &ObjectMeta {
        &self.metadata
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn missing_metadata_name_is_a_clear_error() {
        let err = serde_json::from_value::<Namespace>(json!({"metadata": {"uid": "x"}})).unwrap_err();
        assert!(err.to_string().contains("missing field `name`"), "{err}");
        let err = serde_json::from_value::<Project>(json!({"spec": {}})).unwrap_err();
        assert!(err.to_string().contains("missing field `metadata`"), "{err}");
    }

    #[test]
    fn missing_component_project_is_a_clear_error() {
        let err = serde_json::from_value::<Component>(json!({
            "metadata": {"name": "c"},
            "spec": {"owner": {}, "componentType": {"name": "deployment/x"}}
        }))
        .unwrap_err();
        assert!(err.to_string().contains("missing field `projectName`"), "{err}");
        let err = serde_json::from_value::<Component>(json!({"metadata": {"name": "c"}})).unwrap_err();
        assert!(err.to_string().contains("missing field `spec`"), "{err}");
    }

    #[test]
    fn missing_workload_owner_fields_are_errors() {
        let err = serde_json::from_value::<Workload>(json!({
            "metadata": {"name": "w"},
            "spec": {"owner": {"projectName": "p"}}
        }))
        .unwrap_err();
        assert!(err.to_string().contains("missing field `componentName`"), "{err}");
        let err = serde_json::from_value::<Workload>(json!({
            "metadata": {"name": "w"},
            "spec": {"owner": {"projectName": "p", "componentName": "c"},
                     "endpoints": {"http": {"type": "HTTP"}}}
        }))
        .unwrap_err();
        assert!(err.to_string().contains("missing field `port`"), "{err}");
    }

    #[test]
    fn tolerant_of_unknown_fields_and_nulls() {
        let w: Workload = serde_json::from_value(json!({
            "apiVersion": "openchoreo.dev/v1alpha1",
            "kind": "Workload",
            "metadata": {"name": "w", "labels": null, "annotations": null, "generation": 3},
            "spec": {
                "owner": {"projectName": "p", "componentName": "c"},
                "container": {"image": "x"},
                "endpoints": {"http": {"type": "HTTP", "port": 80, "visibility": null, "targetPort": 8080}},
                "dependencies": {"endpoints": null, "resources": [{"ref": "db", "envBindings": {"a": "B"}}]}
            },
            "status": {}
        }))
        .unwrap();
        assert!(w.metadata.labels.is_empty());
        assert!(w.spec.endpoints["http"].visibility.is_empty());
        assert!(w.connections().is_empty());
        assert_eq!(w.resource_dependencies()[0].ref_, "db");

        let p: Project = serde_json::from_value(json!({"metadata": {"name": "p"}, "spec": null})).unwrap();
        assert_eq!(p.spec, ProjectSpec::default());
    }

    #[test]
    fn component_type_as_string_or_ref() {
        let base = |ct: Value| {
            serde_json::from_value::<Component>(json!({
                "metadata": {"name": "c"},
                "spec": {"owner": {"projectName": "p"}, "componentType": ct}
            }))
            .unwrap()
        };
        assert_eq!(base(json!("deployment/web")).type_name(), Some("deployment/web"));
        let c = base(json!({"kind": "ClusterComponentType", "name": "deployment/svc"}));
        assert_eq!(c.type_name(), Some("deployment/svc"));
        assert_eq!(c.spec.component_type.unwrap().kind(), Some("ClusterComponentType"));
        assert_eq!(base(Value::Null).type_name(), None);
    }

    #[test]
    fn helpers() {
        let c: Component = serde_json::from_value(json!({
            "metadata": {"name": "c", "annotations": {
                "openchoreo.dev/display-name": "C!", "openchoreo.dev/description": "",
                "backstage.io/owner": "  group:default/team  "}},
            "spec": {"owner": {"projectName": "p"},
                     "workflow": {"name": "wf", "parameters": {"repository": {
                        "url": "https://git.example/r.git", "revision": {"branch": ""}, "appPath": "./svc"}}}},
            "status": {"conditions": [
                {"type": "Ready", "status": "False"}, {"type": "Ready", "status": "True"}]}
        }))
        .unwrap();
        assert_eq!(c.display_name(), Some("C!"));
        assert_eq!(c.description(), None);
        assert_eq!(c.owner_annotation(), Some("group:default/team"));
        assert_eq!(c.annotation("openchoreo.dev/display-name"), Some("C!"));
        // The first Ready condition decides, as the legacy `find` does.
        assert!(!c.is_ready());
        let repo = c.repository();
        assert_eq!(repo.url.as_deref(), Some("https://git.example/r.git"));
        assert_eq!(repo.branch, None);
        assert_eq!(repo.path.as_deref(), Some("./svc"));

        assert!(conditions_ready(&[Condition { type_: "Ready".into(), status: "True".into(), ..Default::default() }]));
        assert!(!conditions_ready(&[]));
    }
}

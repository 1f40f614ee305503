//! Every list the mock serves besides namespaces, as one table ([`KINDS`]).
//!
//! Namespaced kinds live under `/api/v1/namespaces/{ns}/{plural}`; cluster-scoped kinds
//! under `/api/v1/{plural}`. Handle methods that take a namespace take `""` for cluster
//! kinds.

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Where a kind's items live.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Scope {
    /// `/api/v1/namespaces/{ns}/{plural}`
    Namespaced,
    /// `/api/v1/{plural}`
    Cluster,
}

/// A list the mock serves (namespaces themselves have their own methods). Serialised
/// as its plural (`"environments"`); the singular is accepted when parsing.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    Project,
    Component,
    Workload,
    Environment,
    ObservabilityAlertsNotificationChannel,
    DataPlane,
    WorkflowPlane,
    ObservabilityPlane,
    DeploymentPipeline,
    ComponentType,
    Trait,
    ResourceType,
    ProjectType,
    Resource,
    Workflow,
    ClusterComponentType,
    ClusterResourceType,
    ClusterProjectType,
    ClusterTrait,
    ClusterWorkflow,
    ClusterDataPlane,
    ClusterObservabilityPlane,
    ClusterWorkflowPlane,
}

/// One row of the kind table.
#[derive(Clone, Copy, Debug)]
pub struct KindInfo {
    pub kind: Kind,
    /// Path segment and stats key.
    pub plural: &'static str,
    pub singular: &'static str,
    /// The item's `kind` field.
    pub api_kind: &'static str,
    pub scope: Scope,
    /// Whether `GET .../{plural}/{name}/schema` is served.
    pub schema: bool,
    /// Whether the list accepts `?project=` (and answers 404 for an unknown project).
    pub project_filter: bool,
    /// Synthetic names are `<stem>-<index>` (projects, components and workloads have
    /// their own, namespace-prefixed scheme).
    pub stem: &'static str,
    /// Synthetic items per namespace (namespaced) or in all (cluster) by default.
    pub default_count: usize,
}

const fn row(
    kind: Kind,
    plural: &'static str,
    singular: &'static str,
    api_kind: &'static str,
    scope: Scope,
    schema: bool,
    project_filter: bool,
    stem: &'static str,
    default_count: usize,
) -> KindInfo {
    KindInfo {
        kind,
        plural,
        singular,
        api_kind,
        scope,
        schema,
        project_filter,
        stem,
        default_count,
    }
}

use Scope::{Cluster, Namespaced};

/// The kinds, in `Kind` order (`KINDS[k as usize].kind == k`).
pub const KINDS: [KindInfo; 23] = [
    row(Kind::Project, "projects", "project", "Project", Namespaced, false, false, "proj", 0),
    row(Kind::Component, "components", "component", "Component", Namespaced, false, true, "comp", 0),
    row(Kind::Workload, "workloads", "workload", "Workload", Namespaced, false, false, "workload", 0),
    row(Kind::Environment, "environments", "environment", "Environment", Namespaced, false, false, "env", 3),
    row(Kind::ObservabilityAlertsNotificationChannel, "observabilityalertsnotificationchannels", "observabilityalertsnotificationchannel", "ObservabilityAlertsNotificationChannel", Namespaced, false, false, "alerts", 2),
    row(Kind::DataPlane, "dataplanes", "dataplane", "DataPlane", Namespaced, false, false, "dataplane", 2),
    row(Kind::WorkflowPlane, "workflowplanes", "workflowplane", "WorkflowPlane", Namespaced, false, false, "workflowplane", 2),
    row(Kind::ObservabilityPlane, "observabilityplanes", "observabilityplane", "ObservabilityPlane", Namespaced, false, false, "observability", 2),
    row(Kind::DeploymentPipeline, "deploymentpipelines", "deploymentpipeline", "DeploymentPipeline", Namespaced, false, false, "pipeline", 2),
    row(Kind::ComponentType, "componenttypes", "componenttype", "ComponentType", Namespaced, true, false, "service", 4),
    row(Kind::Trait, "traits", "trait", "Trait", Namespaced, false, false, "trait", 3),
    row(Kind::ResourceType, "resourcetypes", "resourcetype", "ResourceType", Namespaced, true, false, "store", 3),
    row(Kind::ProjectType, "projecttypes", "projecttype", "ProjectType", Namespaced, false, false, "project-type", 2),
    row(Kind::Resource, "resources", "resource", "Resource", Namespaced, false, true, "resource", 5),
    row(Kind::Workflow, "workflows", "workflow", "Workflow", Namespaced, false, false, "build", 3),
    row(Kind::ClusterComponentType, "clustercomponenttypes", "clustercomponenttype", "ClusterComponentType", Cluster, true, false, "shared-service", 3),
    row(Kind::ClusterResourceType, "clusterresourcetypes", "clusterresourcetype", "ClusterResourceType", Cluster, true, false, "shared-store", 2),
    row(Kind::ClusterProjectType, "clusterprojecttypes", "clusterprojecttype", "ClusterProjectType", Cluster, false, false, "shared-project-type", 2),
    row(Kind::ClusterTrait, "clustertraits", "clustertrait", "ClusterTrait", Cluster, false, false, "shared-trait", 2),
    row(Kind::ClusterWorkflow, "clusterworkflows", "clusterworkflow", "ClusterWorkflow", Cluster, false, false, "shared-build", 2),
    row(Kind::ClusterDataPlane, "clusterdataplanes", "clusterdataplane", "ClusterDataPlane", Cluster, false, false, "shared-dataplane", 2),
    row(Kind::ClusterObservabilityPlane, "clusterobservabilityplanes", "clusterobservabilityplane", "ClusterObservabilityPlane", Cluster, false, false, "shared-observability", 2),
    row(Kind::ClusterWorkflowPlane, "clusterworkflowplanes", "clusterworkflowplane", "ClusterWorkflowPlane", Cluster, false, false, "shared-workflowplane", 2),
];

impl Kind {
    /// Every kind, in table order.
    pub const ALL: [Kind; 23] = {
        let mut all = [Kind::Project; 23];
        let mut i = 0;
        while i < 23 {
            all[i] = KINDS[i].kind;
            i += 1;
        }
        all
    };

    /// The three kinds the mock has always served (the catalog's basic walk).
    pub const BASIC: [Kind; 3] = [Kind::Project, Kind::Component, Kind::Workload];

    pub const COUNT: usize = 23;

    pub fn info(self) -> &'static KindInfo {
        &KINDS[self as usize]
    }

    /// The path segment and stats key, e.g. `projects`, `clustertraits`.
    pub fn plural(self) -> &'static str {
        self.info().plural
    }

    /// Accepts the plural path segment or the singular name (case-insensitive).
    pub fn parse(s: &str) -> Option<Kind> {
        KINDS
            .iter()
            .find(|k| {
                k.plural.eq_ignore_ascii_case(s)
                    || k.singular.eq_ignore_ascii_case(s)
                    || k.api_kind.eq_ignore_ascii_case(s)
            })
            .map(|k| k.kind)
    }

    /// Only the exact plural (what a route accepts).
    pub fn from_plural(s: &str) -> Option<Kind> {
        KINDS.iter().find(|k| k.plural == s).map(|k| k.kind)
    }

    /// The Kubernetes `kind` of an item.
    pub fn api_kind(self) -> &'static str {
        self.info().api_kind
    }

    pub fn scope(self) -> Scope {
        self.info().scope
    }

    pub fn is_cluster(self) -> bool {
        self.scope() == Scope::Cluster
    }

    /// Whether `GET .../{name}/schema` is served for this kind.
    pub fn has_schema(self) -> bool {
        self.info().schema
    }

    /// Kinds whose count is set through `InstallationSpec::kinds` (all but the basic three).
    pub fn is_platform(self) -> bool {
        !Kind::BASIC.contains(&self)
    }

    pub fn namespaced() -> impl Iterator<Item = Kind> {
        Kind::ALL.into_iter().filter(|k| !k.is_cluster())
    }

    pub fn cluster() -> impl Iterator<Item = Kind> {
        Kind::ALL.into_iter().filter(|k| k.is_cluster())
    }
}

impl Serialize for Kind {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.plural())
    }
}

impl<'de> Deserialize<'de> for Kind {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Kind, D::Error> {
        let s = String::deserialize(d)?;
        Kind::parse(&s).ok_or_else(|| serde::de::Error::custom(format!("unknown kind '{s}'")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_in_enum_order_and_parses_back() {
        for (i, k) in KINDS.iter().enumerate() {
            assert_eq!(k.kind as usize, i);
            assert_eq!(Kind::parse(k.plural), Some(k.kind));
            assert_eq!(Kind::parse(k.singular), Some(k.kind));
            assert_eq!(Kind::from_plural(k.plural), Some(k.kind));
            assert_eq!(k.scope == Scope::Cluster, k.plural.starts_with("cluster"));
        }
        assert_eq!(Kind::namespaced().count() + Kind::cluster().count(), Kind::COUNT);
    }
}

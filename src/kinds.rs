//! Every OpenChoreo list the walk reads, declared once, in walk order: its path, its
//! scope, what its pages stage for later lists, and which translator makes its entities.
//! The walk, the cursor and the store know lists only through this table; adding a kind
//! is one entry here, one translator and its golden test.
//!
//! Order (the legacy module's, per namespace instead of per kind across namespaces):
//!
//! ```text
//! namespaces (all pages)
//! for each namespace: environments .. workflows, then projects -> workloads -> components
//! cluster lists: clustercomponenttypes .. clusterworkflowplanes
//! ```
//!
//! Projects, workloads and components stay last and together: components read what the
//! other two staged for their namespace.

use serde_json::Value;

use crate::translate::{platform, templates, Entity, TranslateContext};

/// Where a list lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// `/api/v1/<list>`: the namespaces list and the cluster-scoped kinds.
    Cluster,
    /// `/api/v1/namespaces/<ns>/<list>`, walked once per namespace.
    Namespaced,
}

/// The Backstage namespace of entities made from cluster-scoped resources.
pub const CLUSTER_NAMESPACE: &str = "openchoreo-cluster";

/// One item (a parsed list item) -> one entity; `ns` is `None` for cluster-scoped kinds.
pub type Translate = fn(&TranslateContext, Option<&str>, &Value) -> Result<Entity, String>;
/// A type's Template from the item and its `/schema` answer.
pub type TranslateWithSchema = fn(&TranslateContext, Option<&str>, &Value, &Value) -> Result<Entity, String>;

/// How a type's scaffolder Template is made.
#[derive(Debug, Clone, Copy)]
pub enum TemplateSource {
    /// From the list item alone (project types carry their schema inline).
    Inline(Translate),
    /// From the item and `GET <list>/<name>/schema`, one request per item, unless the
    /// item names a custom template (then no request).
    Schema { make: TranslateWithSchema, custom: Option<CustomTemplate> },
}

/// Items that name their own template (a URL the TypeScript layer reads through
/// Backstage's `UrlReaderService`) get a placeholder instead of a generated Template.
#[derive(Debug, Clone, Copy)]
pub struct CustomTemplate {
    pub applies: fn(&Value) -> bool,
    pub make: Translate,
}

/// A generated Template: its name is `<prefix><type name>` (what an item whose Template
/// could not be made keeps, so an earlier copy is not removed).
#[derive(Debug, Clone, Copy)]
pub struct TemplateRule {
    pub name_prefix: &'static str,
    pub source: TemplateSource,
}

/// What a list's pages do.
#[derive(Debug, Clone, Copy)]
pub enum Role {
    /// Domains; stages the cycle's namespace order.
    Namespaces,
    /// Systems; stages each project's owner annotation for its components.
    Projects,
    /// Nothing emitted yet; stages each workload's APIs and facts for its component.
    Workloads,
    /// Components and their APIs, from what projects and workloads staged.
    Components,
    /// One entity per item (`kind`, as emitted) and, for types, a Template.
    Platform { kind: &'static str, translate: Translate, template: Option<TemplateRule> },
}

#[derive(Debug, Clone, Copy)]
pub struct ListKind {
    /// The path segment, also the cursor's phase name and the stand-in's stats key.
    pub list: &'static str,
    /// The `kind` of the change events about this list's resources (lower case, as the
    /// portal publishes them on topic `openchoreo.<kind>`); one is re-read with
    /// `GET <list path>/<name>` ([`ListKind::item_path`]).
    pub event: &'static str,
    pub scope: Scope,
    pub role: Role,
}

impl ListKind {
    /// The Backstage kinds (lower-cased, as in refs) this list emits.
    pub fn entity_kinds(&self) -> Vec<String> {
        match self.role {
            Role::Namespaces => vec!["domain".into()],
            Role::Projects => vec!["system".into()],
            Role::Workloads => vec!["api".into()],
            Role::Components => vec!["component".into(), "api".into()],
            Role::Platform { kind, template, .. } => {
                let mut kinds = vec![kind.to_lowercase()];
                kinds.extend(template.map(|_| "template".to_string()));
                kinds
            }
        }
    }
}

const fn platform(list: &'static str, event: &'static str, scope: Scope, kind: &'static str, translate: Translate) -> ListKind {
    ListKind { list, event, scope, role: Role::Platform { kind, translate, template: None } }
}

const fn typed(
    list: &'static str,
    event: &'static str,
    scope: Scope,
    kind: &'static str,
    translate: Translate,
    template: TemplateRule,
) -> ListKind {
    ListKind { list, event, scope, role: Role::Platform { kind, translate, template: Some(template) } }
}

const COMPONENT_TEMPLATE: TemplateRule = TemplateRule {
    name_prefix: "template-",
    source: TemplateSource::Schema {
        make: templates::component_type,
        custom: Some(CustomTemplate { applies: names_custom_template, make: templates::custom_component_type }),
    },
};
const RESOURCE_TEMPLATE: TemplateRule = TemplateRule {
    name_prefix: "template-resource-",
    source: TemplateSource::Schema { make: templates::resource_type, custom: None },
};
const PROJECT_TEMPLATE: TemplateRule =
    TemplateRule { name_prefix: "template-project-", source: TemplateSource::Inline(templates::project_type) };

fn names_custom_template(item: &Value) -> bool {
    !templates::component_type_needs_schema(item)
}

use Scope::{Cluster, Namespaced};

/// Every list, in walk order (see the module's doc). The namespaced lists are one run,
/// ending with projects, workloads, components; the cluster lists follow it.
pub const LISTS: &[ListKind] = &[
    ListKind { list: "namespaces", event: "namespace", scope: Cluster, role: Role::Namespaces },
    platform("environments", "environment", Namespaced, "Environment", platform::environment),
    platform(
        "observabilityalertsnotificationchannels", "observabilityalertsnotificationchannel",
        Namespaced,
        "ObservabilityAlertsNotificationChannel",
        platform::notification_channel,
    ),
    platform("dataplanes", "dataplane", Namespaced, "Dataplane", platform::dataplane),
    platform("workflowplanes", "workflowplane", Namespaced, "WorkflowPlane", platform::workflow_plane),
    platform("observabilityplanes", "observabilityplane", Namespaced, "ObservabilityPlane", platform::observability_plane),
    platform("deploymentpipelines", "deploymentpipeline", Namespaced, "DeploymentPipeline", platform::deployment_pipeline),
    typed("componenttypes", "componenttype", Namespaced, "ComponentType", platform::component_type, COMPONENT_TEMPLATE),
    platform("traits", "trait", Namespaced, "TraitType", platform::trait_type),
    typed("resourcetypes", "resourcetype", Namespaced, "ResourceType", platform::resource_type, RESOURCE_TEMPLATE),
    typed("projecttypes", "projecttype", Namespaced, "ProjectType", platform::project_type, PROJECT_TEMPLATE),
    platform("resources", "resource", Namespaced, "Resource", platform::resource),
    platform("workflows", "workflow", Namespaced, "Workflow", platform::workflow),
    ListKind { list: "projects", event: "project", scope: Namespaced, role: Role::Projects },
    ListKind { list: "workloads", event: "workload", scope: Namespaced, role: Role::Workloads },
    ListKind { list: "components", event: "component", scope: Namespaced, role: Role::Components },
    typed("clustercomponenttypes", "clustercomponenttype", Cluster, "ClusterComponentType", platform::cluster_component_type, COMPONENT_TEMPLATE),
    typed("clusterresourcetypes", "clusterresourcetype", Cluster, "ClusterResourceType", platform::cluster_resource_type, RESOURCE_TEMPLATE),
    typed("clusterprojecttypes", "clusterprojecttype", Cluster, "ClusterProjectType", platform::cluster_project_type, PROJECT_TEMPLATE),
    platform("clustertraits", "clustertrait", Cluster, "ClusterTraitType", platform::cluster_trait_type),
    platform("clusterworkflows", "clusterworkflow", Cluster, "ClusterWorkflow", platform::cluster_workflow),
    platform("clusterdataplanes", "clusterdataplane", Cluster, "ClusterDataplane", platform::cluster_dataplane),
    platform("clusterobservabilityplanes", "clusterobservabilityplane", Cluster, "ClusterObservabilityPlane", platform::cluster_observability_plane),
    platform("clusterworkflowplanes", "clusterworkflowplane", Cluster, "ClusterWorkflowPlane", platform::cluster_workflow_plane),
];

impl ListKind {
    /// `GET` path (below `/api/v1`) of one resource of this list; `ns` is ignored for
    /// cluster-scoped lists (the namespaces list's items are `/namespaces/<name>`).
    pub fn item_path(&self, ns: &str, name: &str) -> String {
        use crate::cursor::segment;
        match self.scope {
            Scope::Cluster => format!("/{}/{}", self.list, segment(name)),
            Scope::Namespaced => format!("/namespaces/{}/{}/{}", segment(ns), self.list, segment(name)),
        }
    }

    /// The list path the item belongs to (what `/schema` paths extend).
    pub fn list_path(&self, ns: &str) -> String {
        use crate::cursor::segment;
        match self.scope {
            Scope::Cluster => format!("/{}", self.list),
            Scope::Namespaced => format!("/namespaces/{}/{}", segment(ns), self.list),
        }
    }
}

/// The list whose resources change events of `kind` name (case-insensitive), if any.
pub fn by_event(kind: &str) -> Option<usize> {
    LISTS.iter().position(|k| k.event.eq_ignore_ascii_case(kind.trim()))
}

/// The list named `list`, if any.
pub fn by_name(list: &str) -> Option<usize> {
    LISTS.iter().position(|k| k.list == list)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cursor::Phase;

    #[test]
    fn the_namespaced_lists_are_one_run_ending_with_projects_workloads_components() {
        let namespaced: Vec<usize> = (0..LISTS.len()).filter(|&i| LISTS[i].scope == Namespaced).collect();
        assert_eq!(namespaced, (namespaced[0]..=namespaced[namespaced.len() - 1]).collect::<Vec<_>>());
        let last3: Vec<&str> = namespaced[namespaced.len() - 3..].iter().map(|&i| LISTS[i].list).collect();
        assert_eq!(last3, ["projects", "workloads", "components"]);
        assert_eq!(LISTS[Phase::NAMESPACES.index()].list, "namespaces");
        assert_eq!(LISTS[Phase::PROJECTS.index()].list, "projects");
        assert_eq!(LISTS[Phase::WORKLOADS.index()].list, "workloads");
        assert_eq!(LISTS[Phase::COMPONENTS.index()].list, "components");
    }

    #[test]
    fn every_list_is_named_once() {
        for (i, k) in LISTS.iter().enumerate() {
            assert_eq!(by_name(k.list), Some(i), "{} is declared twice", k.list);
        }
        // namespaces, 15 namespaced lists, 8 cluster-scoped ones.
        assert_eq!(LISTS.len(), 24);
    }

    /// The 24 sub-topics the legacy provider subscribes to (legacy-provider.md 4.1), one
    /// list each.
    #[test]
    fn every_legacy_event_kind_names_one_list() {
        let legacy = [
            "namespace", "project", "component", "environment", "observabilityalertsnotificationchannel", "dataplane",
            "workflowplane", "observabilityplane", "deploymentpipeline", "componenttype", "resourcetype", "projecttype",
            "resource", "trait", "workflow", "workload", "clustercomponenttype", "clusterresourcetype",
            "clusterprojecttype", "clustertrait", "clusterworkflow", "clusterdataplane", "clusterobservabilityplane",
            "clusterworkflowplane",
        ];
        let mut events: Vec<&str> = LISTS.iter().map(|k| k.event).collect();
        events.sort();
        let mut legacy = legacy.to_vec();
        legacy.sort();
        assert_eq!(events, legacy);
        assert_eq!(by_event("Component"), by_name("components"));
        assert_eq!(LISTS[by_name("namespaces").unwrap()].item_path("", "a"), "/namespaces/a");
        assert_eq!(LISTS[by_name("components").unwrap()].item_path("ns", "c"), "/namespaces/ns/components/c");
        assert_eq!(LISTS[by_name("clustertraits").unwrap()].item_path("ns", "t"), "/clustertraits/t");
    }
}

//! The 20 platform kinds: each one's [`KindDef`] (what its envelope holds) and its `fill`
//! (what is its own), from the legacy `translateNew*ToEntity` functions of
//! `entityTranslation.ts` and the `translate*ToEntity` functions they call.

use super::envelope::{CreatedAt, Draft, KindDef, Scope};
use crate::translate::js::{self, get, nullish_or, or, truthy, when_truthy};
use super::keys;
use super::shapes::{self, TRAIT_KINDS, WORKFLOW_KINDS};

const NAMESPACED: Scope = Scope::Namespaced { domain: true };

/// The defaults most kinds share: namespaced with a domain, created-at always written,
/// no status, no agent, no extra label, nothing of its own.
const BASE: KindDef = KindDef {
    kind: "",
    scope: NAMESPACED,
    noun: "",
    fallback: "",
    tags: &[],
    created_at: CreatedAt::Always,
    status: None,
    agent: false,
    label: None,
    fill: nothing,
};

fn nothing(_: &mut Draft) -> Result<(), String> {
    Ok(())
}

// ---- namespaced ---------------------------------------------------------------------

/// T:401-498, T:1454-1523.
pub const ENVIRONMENT: KindDef = KindDef {
    kind: "Environment",
    noun: "environment",
    fallback: "{name} environment",
    tags: &["environment"],
    created_at: CreatedAt::WhenSet,
    status: Some("Ready"),
    fill: environment,
    ..BASE
};

fn environment(d: &mut Draft) -> Result<(), String> {
    let uid = d.meta("uid");
    let ingress = get(d.spec_field("gateway"), "ingress");
    let is_production = d.spec_field("isProduction");
    let plane = when_truthy(d.spec_field("dataPlaneRef"));
    let plane_name = get(plane, "name");
    let dns_prefix = get(get(get(ingress, "external"), "http"), "host");
    let tier = if truthy(is_production) { "production" } else { "non-production" };

    d.tags.push(tier.into());
    d.annotations.set(keys::ENVIRONMENT, d.name);
    d.annotations.put_truthy(keys::ENVIRONMENT_UID, uid);
    d.annotations.put_truthy(keys::DATA_PLANE_REF, plane_name);
    d.annotations.put_truthy(keys::DATA_PLANE_REF_KIND, get(plane, "kind"));
    d.annotations.put_truthy(keys::DNS_PREFIX, dns_prefix);
    // `isProduction !== undefined`: a null one reaches `null.toString()` and throws.
    if let Some(p) = is_production {
        if p.is_null() {
            return Err("spec.isProduction is null".into());
        }
        d.annotations.set(keys::IS_PRODUCTION, js::to_string(p));
        d.labels.set(keys::ENVIRONMENT_TYPE_LABEL, tier);
    }
    d.spec
        .set("type", tier)
        .put("isProduction", is_production)
        .put("dataPlaneRef", plane_name)
        .put("dnsPrefix", dns_prefix)
        .put("gateway", shapes::gateway(ingress).as_ref());
    Ok(())
}

/// T:505-554, T:1529-1550.
pub const NOTIFICATION_CHANNEL: KindDef = KindDef {
    kind: "ObservabilityAlertsNotificationChannel",
    scope: Scope::Namespaced { domain: false },
    noun: "notification channel",
    fallback: "{name} notification channel",
    tags: &["notification-channel"],
    created_at: CreatedAt::WhenSet,
    fill: notification_channel,
    ..BASE
};

fn notification_channel(d: &mut Draft) -> Result<(), String> {
    let spec = d.spec_in;
    let channel_type = get(spec, "type");
    // Its tag would be `undefined` (`null` in JSON), which the catalog refuses.
    let Some(tag) = channel_type else { return Err("spec.type is missing (the third tag)".into()) };
    d.tags.push(tag.clone());
    d.spec
        .set("environment", nullish_or(get(spec, "environment"), ""))
        .put("isEnvDefault", get(spec, "isEnvDefault"))
        .put("type", channel_type)
        .put_truthy("emailConfig", get(spec, "emailConfig"))
        .put_truthy("webhookConfig", get(spec, "webhookConfig"));
    Ok(())
}

/// T:1555-1640.
pub const DATAPLANE: KindDef = KindDef {
    kind: "Dataplane",
    noun: "dataplane",
    fallback: "{name} dataplane",
    tags: &["dataplane", "infrastructure"],
    status: Some("Created"),
    agent: true,
    label: Some("openchoreo.io/dataplane"),
    fill: dataplane,
    ..BASE
};

fn dataplane(d: &mut Draft) -> Result<(), String> {
    observed_by_namespaced(d)?;
    d.spec.put("gateway", shapes::gateway(get(d.spec_field("gateway"), "ingress")).as_ref());
    Ok(())
}

/// A namespaced plane's observability ref, `<ns>/<name>` or `''`, written always.
fn observed_by_namespaced(d: &mut Draft) -> Result<(), String> {
    let plane = shapes::namespaced_plane_ref(get(d.spec_field("observabilityPlaneRef"), "name"), d.namespace())?;
    d.annotations.set(keys::OBSERVABILITY_PLANE_REF, plane.as_str());
    d.spec.set("observabilityPlaneRef", plane);
    Ok(())
}

/// T:1645-1687.
pub const WORKFLOW_PLANE: KindDef = KindDef {
    kind: "WorkflowPlane",
    noun: "workflow plane",
    fallback: "{name} workflow plane",
    tags: &["workflowplane", "infrastructure"],
    status: Some("Created"),
    agent: true,
    label: Some("openchoreo.io/workflowplane"),
    fill: observed_by_namespaced,
    ..BASE
};

/// T:1693-1732.
pub const OBSERVABILITY_PLANE: KindDef = KindDef {
    kind: "ObservabilityPlane",
    noun: "observability plane",
    fallback: "{name} observability plane",
    tags: &["observabilityplane", "infrastructure"],
    status: Some("Created"),
    agent: true,
    label: Some("openchoreo.io/observabilityplane"),
    fill: observer,
    ..BASE
};

/// `observerURL`: an annotation when truthy, the spec field as it is.
fn observer(d: &mut Draft) -> Result<(), String> {
    let url = d.spec_field("observerURL");
    d.annotations.put_truthy(keys::OBSERVER_URL, url);
    d.spec.put("observerURL", url);
    Ok(())
}

/// T:1743-1796.
pub const DEPLOYMENT_PIPELINE: KindDef = KindDef {
    kind: "DeploymentPipeline",
    noun: "deployment pipeline",
    fallback: "Deployment pipeline {name}",
    tags: &["deployment-pipeline", "platform-engineering"],
    created_at: CreatedAt::WhenSet,
    status: Some("Ready"),
    label: Some("openchoreo.io/deployment-pipeline"),
    fill: deployment_pipeline,
    ..BASE
};

fn deployment_pipeline(d: &mut Draft) -> Result<(), String> {
    let paths = shapes::promotion_paths(d.spec_in)?;
    d.spec.set("namespaceName", d.namespace()).set("promotionPaths", paths);
    Ok(())
}

/// T:560-611, T:1801-1820.
pub const COMPONENT_TYPE: KindDef = KindDef {
    kind: "ComponentType",
    noun: "component type",
    fallback: "{name} component type",
    tags: &["component-type"],
    fill: component_type,
    ..BASE
};

fn component_type(d: &mut Draft) -> Result<(), String> {
    let workload_type = d.spec_field("workloadType");
    d.spec.put("workloadType", workload_type);
    component_type_common(d, "Workflow", "Trait")
}

/// The workload-type tag and the allowed workflows and traits, each kind defaulted.
fn component_type_common(d: &mut Draft, workflow_kind: &str, trait_kind: &str) -> Result<(), String> {
    if let Some(workload_type) = when_truthy(d.spec_field("workloadType")) {
        d.tags.push(workload_type.clone());
    }
    d.tags.push("platform-engineering".into());
    let workflows = shapes::allowed_refs("spec.allowedWorkflows", d.spec_field("allowedWorkflows"), workflow_kind, WORKFLOW_KINDS)?;
    let traits = shapes::allowed_refs("spec.allowedTraits", d.spec_field("allowedTraits"), trait_kind, TRAIT_KINDS)?;
    d.spec.put("allowedWorkflows", workflows.as_ref()).put("allowedTraits", traits.as_ref());
    Ok(())
}

/// T:682-719, T:1825-1841.
pub const TRAIT_TYPE: KindDef = KindDef {
    kind: "TraitType",
    noun: "trait",
    fallback: "{name} trait",
    tags: &["trait-type", "platform-engineering"],
    ..BASE
};

/// T:725-765, T:1921-1938.
pub const RESOURCE_TYPE: KindDef = KindDef {
    kind: "ResourceType",
    noun: "resource type",
    fallback: "{name} resource type",
    tags: &["resource-type", "platform-engineering"],
    fill: retain_policy,
    ..BASE
};

/// `retainPolicy ?? 'Delete'`.
fn retain_policy(d: &mut Draft) -> Result<(), String> {
    d.spec.set("retainPolicy", nullish_or(d.spec_field("retainPolicy"), "Delete"));
    Ok(())
}

/// T:1002-1039, T:1963-1979.
pub const PROJECT_TYPE: KindDef = KindDef {
    kind: "ProjectType",
    noun: "project type",
    fallback: "{name} project type",
    tags: &["project-type", "platform-engineering"],
    ..BASE
};

/// T:786-847, T:1985-2010.
pub const RESOURCE: KindDef = KindDef {
    kind: "Resource",
    scope: Scope::Namespaced { domain: false },
    noun: "resource",
    fallback: "{name} resource",
    tags: &["resource"],
    fill: resource,
    ..BASE
};

fn resource(d: &mut Draft) -> Result<(), String> {
    let resource_type = d.spec_field("type");
    let type_name = nullish_or(get(resource_type, "name"), "");
    let type_kind = nullish_or(get(resource_type, "kind"), "ResourceType");
    let project = nullish_or(get(d.spec_field("owner"), "projectName"), "");
    let parameters = d.spec_field("parameters");
    let uid = d.meta("uid");

    d.tags.push(type_name.clone());
    d.annotations
        .set(keys::PROJECT, project.clone())
        .set(keys::RESOURCE, d.name)
        .put_truthy(keys::RESOURCE_UID, uid)
        .set(keys::RESOURCE_TYPE, type_name.clone())
        .set(keys::RESOURCE_TYPE_KIND, type_kind);
    // Backstage's Resource schema wants non-empty strings here; an item without them
    // becomes an entity the catalog refuses, so it is refused here, naming the field.
    for (field, value) in [("spec.type.name", &type_name), ("spec.owner.projectName", &project)] {
        if value.as_str().is_none_or(str::is_empty) {
            return Err(format!("{field} {value} must be a non-empty string (Backstage Resource spec.type / spec.system)"));
        }
    }
    d.spec.set("type", type_name).set("owner", d.ctx.default_owner.as_str()).set("system", project);
    if shapes::non_empty_object(parameters) {
        d.spec.put("parameters", parameters);
    }
    Ok(())
}

/// T:617-676, T:1846-1872.
pub const WORKFLOW: KindDef = KindDef {
    kind: "Workflow",
    noun: "workflow",
    fallback: "{name} workflow",
    tags: &["workflow", "platform-engineering"],
    fill: workflow,
    ..BASE
};

fn workflow(d: &mut Draft) -> Result<(), String> {
    workflow_common(d, "WorkflowPlane")
}

/// Type (CI for component workflows), parameters annotation, plane ref (its kind
/// defaulted to `plane_kind` in the spec only) and TTL.
fn workflow_common(d: &mut Draft, plane_kind: &str) -> Result<(), String> {
    let is_ci = get(d.meta("labels"), keys::WORKFLOW_TYPE_LABEL).is_some_and(|t| t == "component");
    let plane = d.spec_field("workflowPlaneRef");
    let plane_name = when_truthy(get(plane, "name"));
    let plane_kind_set = get(plane, "kind");
    if let Some(parameters) = shapes::workflow_parameters(d.spec_in) {
        d.annotations.set(keys::WORKFLOW_PARAMETERS, parameters);
    }
    d.annotations.put(keys::WORKFLOW_PLANE_REF, plane_name).put_truthy(keys::WORKFLOW_PLANE_REF_KIND, plane_kind_set);
    d.spec.set("type", if is_ci { "CI" } else { "Generic" });
    if let Some(name) = plane_name {
        d.spec.put("workflowPlaneRef", Some(name)).set("workflowPlaneRefKind", or(plane_kind_set, plane_kind));
    }
    d.spec.put_truthy("ttlAfterCompletion", d.spec_field("ttlAfterCompletion"));
    Ok(())
}

// ---- cluster-scoped -----------------------------------------------------------------

const CLUSTER: KindDef = KindDef { scope: Scope::Cluster, ..BASE };

/// T:904-952, T:1878-1895.
pub const CLUSTER_COMPONENT_TYPE: KindDef = KindDef {
    kind: "ClusterComponentType",
    noun: "cluster component type",
    fallback: "{name} cluster component type",
    tags: &["cluster-component-type"],
    fill: cluster_component_type,
    ..CLUSTER
};

fn cluster_component_type(d: &mut Draft) -> Result<(), String> {
    d.spec.set("workloadType", or(d.spec_field("workloadType"), "deployment"));
    component_type_common(d, "ClusterWorkflow", "ClusterTrait")
}

/// T:958-995, T:1901-1916.
pub const CLUSTER_RESOURCE_TYPE: KindDef = KindDef {
    kind: "ClusterResourceType",
    noun: "cluster resource type",
    fallback: "{name} cluster resource type",
    tags: &["cluster-resource-type", "platform-engineering"],
    fill: retain_policy,
    ..CLUSTER
};

/// T:1046-1079, T:1944-1958.
pub const CLUSTER_PROJECT_TYPE: KindDef = KindDef {
    kind: "ClusterProjectType",
    noun: "cluster project type",
    fallback: "{name} cluster project type",
    tags: &["cluster-project-type", "platform-engineering"],
    ..CLUSTER
};

/// T:1085-1118, T:2015-2029.
pub const CLUSTER_TRAIT_TYPE: KindDef = KindDef {
    kind: "ClusterTraitType",
    noun: "cluster trait",
    fallback: "{name} cluster trait",
    tags: &["cluster-trait-type", "platform-engineering"],
    ..CLUSTER
};

/// T:1184-1241, T:2034-2058.
pub const CLUSTER_WORKFLOW: KindDef = KindDef {
    kind: "ClusterWorkflow",
    noun: "cluster workflow",
    fallback: "{name} cluster workflow",
    tags: &["cluster-workflow", "platform-engineering"],
    fill: cluster_workflow,
    ..CLUSTER
};

fn cluster_workflow(d: &mut Draft) -> Result<(), String> {
    workflow_common(d, "ClusterWorkflowPlane")
}

/// T:2063-2144.
pub const CLUSTER_DATAPLANE: KindDef = KindDef {
    kind: "ClusterDataplane",
    noun: "cluster data plane",
    fallback: "{name} cluster data plane",
    tags: &["cluster-dataplane", "infrastructure"],
    status: Some("Created"),
    agent: true,
    label: Some("openchoreo.io/cluster-dataplane"),
    fill: cluster_dataplane,
    ..CLUSTER
};

fn cluster_dataplane(d: &mut Draft) -> Result<(), String> {
    d.spec.put("gateway", shapes::gateway(get(d.spec_field("gateway"), "ingress")).as_ref());
    observed_by_cluster(d)
}

/// A cluster plane's observability ref: the bare name, an annotation when truthy, the
/// spec field as it is.
fn observed_by_cluster(d: &mut Draft) -> Result<(), String> {
    let name = get(d.spec_field("observabilityPlaneRef"), "name");
    d.annotations.put_truthy(keys::OBSERVABILITY_PLANE_REF, name);
    d.spec.put("observabilityPlaneRef", name);
    Ok(())
}

/// T:2150-2187.
pub const CLUSTER_OBSERVABILITY_PLANE: KindDef = KindDef {
    kind: "ClusterObservabilityPlane",
    noun: "cluster observability plane",
    fallback: "{name} cluster observability plane",
    tags: &["cluster-observabilityplane", "infrastructure"],
    status: Some("Created"),
    agent: true,
    label: Some("openchoreo.io/cluster-observabilityplane"),
    fill: observer,
    ..CLUSTER
};

/// T:2193-2231.
pub const CLUSTER_WORKFLOW_PLANE: KindDef = KindDef {
    kind: "ClusterWorkflowPlane",
    noun: "cluster workflow plane",
    fallback: "{name} cluster workflow plane",
    tags: &["cluster-workflowplane", "infrastructure"],
    status: Some("Created"),
    agent: true,
    label: Some("openchoreo.io/cluster-workflowplane"),
    fill: observed_by_cluster,
    ..CLUSTER
};

//! Synthetic items of the platform kinds (environments, planes, pipelines, types,
//! traits, resources, workflows and their cluster variants), computed from indices.
//!
//! Variety comes from `v = index + namespace index`: each shape option is chosen by
//! `v` modulo its number of options, so a few items per namespace over a few
//! namespaces cover every option, and the same seed and counts give the same items.

use serde_json::{json, Map, Value};

use crate::kind::Kind;
use crate::synthetic::{ready_condition, Synth, API_VERSION};

pub(crate) const TEMPLATE_URL_ANNOTATION: &str = "scaffolder.openchoreo.dev/backstage-template-url";
/// The custom templates' default home: a repository that does not exist (reading it fails
/// as a missing template does); `MockHandle::serve_templates` points them at the mock.
pub(crate) const EXAMPLE_TEMPLATE_URL_BASE: &str =
    "https://github.com/example/platform-templates/blob/main";
const WORKFLOW_TYPE_LABEL: &str = "openchoreo.dev/workflow-type";
const WORKLOAD_TYPES: [Option<&str>; 6] = [
    Some("deployment"),
    Some("statefulset"),
    Some("cronjob"),
    Some("job"),
    Some("proxy"),
    None, // required by the API, missing in the wild: consumers default it
];

impl Synth {
    /// `spec.workloadType` of a synthetic (cluster) component type.
    pub(crate) fn workload_type(&self, kind: Kind, ns: usize, idx: usize) -> Option<&'static str> {
        let v = idx + if kind.is_cluster() { 0 } else { ns };
        WORKLOAD_TYPES[v % WORKLOAD_TYPES.len()]
    }

    pub(crate) fn platform_item(&self, kind: Kind, ns: usize, idx: usize) -> Value {
        let ns = if kind.is_cluster() { 0 } else { ns };
        let v = idx + ns;
        let mut meta = self.platform_meta(kind, ns, idx);
        let name = self.name(kind, ns, idx);
        let (spec, status) = match kind {
            Kind::Environment => self.environment(ns, v, &name),
            Kind::ObservabilityAlertsNotificationChannel => self.channel(ns, v, &name),
            Kind::DataPlane | Kind::ClusterDataPlane => self.plane(kind, ns, v, &name, true),
            Kind::WorkflowPlane | Kind::ClusterWorkflowPlane => {
                self.plane(kind, ns, v, &name, false)
            }
            Kind::ObservabilityPlane | Kind::ClusterObservabilityPlane => {
                observability_plane(ns, v, &name)
            }
            Kind::DeploymentPipeline => self.pipeline(ns, v),
            Kind::ComponentType | Kind::ClusterComponentType => {
                if v % 4 == 2 {
                    meta["annotations"][TEMPLATE_URL_ANNOTATION] =
                        json!(format!("{}/{name}/template.yaml", self.template_url_base));
                }
                self.component_type(kind, ns, idx, v)
            }
            Kind::Trait | Kind::ClusterTrait => (
                json!({
                    "parameters": {"openAPIV3Schema": trait_schema(v)},
                    "creates": [{"template": {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "${metadata.name}-config"}}}]
                }),
                json!({}),
            ),
            Kind::ResourceType | Kind::ClusterResourceType => {
                let mut spec = json!({
                    "parameters": {"openAPIV3Schema": resource_schema(v)},
                    "resources": [{"id": "instance", "template": {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "${metadata.name}"}}}]
                });
                match v % 3 {
                    0 => spec["retainPolicy"] = json!("Retain"),
                    1 => spec["retainPolicy"] = json!("Delete"),
                    _ => {}
                }
                (spec, json!({}))
            }
            Kind::ProjectType | Kind::ClusterProjectType => (
                json!({
                    "parameters": {"openAPIV3Schema": project_schema(v)},
                    "resources": [{"id": "namespace", "template": {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "${metadata.name}"}}}]
                }),
                json!({}),
            ),
            Kind::Resource => {
                let (spec, project) = self.resource(ns, idx, v);
                meta["labels"]["openchoreo.dev/project"] = json!(project);
                (
                    spec,
                    json!({"observedGeneration": 1, "conditions": [ready_condition(v % 5 != 3, "Resource")]}),
                )
            }
            Kind::Workflow | Kind::ClusterWorkflow => {
                if v.is_multiple_of(2) {
                    meta["labels"][WORKFLOW_TYPE_LABEL] = json!("component");
                } else if v % 4 == 1 {
                    meta["labels"][WORKFLOW_TYPE_LABEL] = json!("generic");
                }
                self.workflow(kind, ns, v)
            }
            Kind::Project | Kind::Component | Kind::Workload => {
                unreachable!("basic kinds have their own generators")
            }
        };
        json!({
            "apiVersion": API_VERSION,
            "kind": kind.api_kind(),
            "metadata": meta,
            "spec": spec,
            "status": status
        })
    }

    fn platform_meta(&self, kind: Kind, ns: usize, idx: usize) -> Map<String, Value> {
        let name = self.name(kind, ns, idx);
        let namespace = (!kind.is_cluster()).then(|| self.namespace_name(ns));
        let salt = 1000 + 16 * kind as u64;
        let mut m = self.metadata(&name, namespace.as_deref(), ns, idx, salt);
        if (idx + ns) % 5 == 4 {
            m.remove("creationTimestamp"); // consumers write '' or omit it
        }
        let scope = namespace.unwrap_or_else(|| "the cluster".into());
        self.annotate(
            &mut m,
            ns,
            idx,
            salt,
            format!("{} {}", kind.api_kind(), title(&name)),
            format!("Synthetic {} {name} of {scope}", kind.info().singular),
        );
        m
    }

    fn environment(&self, ns: usize, v: usize, name: &str) -> (Value, Value) {
        let mut spec = Map::new();
        let data_plane = match v % 3 {
            0 => self.pick(Kind::DataPlane, ns, v).map(|n| ("DataPlane", n)),
            1 => self
                .pick(Kind::ClusterDataPlane, ns, v)
                .map(|n| ("ClusterDataPlane", n)),
            _ => None,
        };
        if let Some((kind, dp)) = data_plane {
            spec.insert("dataPlaneRef".into(), json!({"kind": kind, "name": dp}));
        }
        match (v + 1) % 3 {
            0 => {
                spec.insert("isProduction".into(), json!(false));
            }
            1 => {
                spec.insert("isProduction".into(), json!(true));
            }
            _ => {}
        }
        if let Some(gateway) = gateway(v, &format!("{name}.{}", self.namespace_name(ns))) {
            spec.insert("gateway".into(), gateway);
        }
        let status = json!({"observedGeneration": 1, "conditions": [ready_condition(v % 4 != 3, "Environment")]});
        (Value::Object(spec), status)
    }

    fn channel(&self, ns: usize, v: usize, name: &str) -> (Value, Value) {
        let mut spec = Map::new();
        if v % 5 != 3 {
            let env = self
                .pick(Kind::Environment, ns, v)
                .unwrap_or_else(|| "development".into());
            spec.insert("environment".into(), json!(env));
        }
        spec.insert("isEnvDefault".into(), json!(v.is_multiple_of(3)));
        if v.is_multiple_of(2) {
            spec.insert("type".into(), json!("email"));
            spec.insert(
                "emailConfig".into(),
                json!({
                    "from": "alerts@example.com",
                    "to": [format!("oncall-{ns}@example.com"), "platform@example.com"],
                    "smtp": {
                        "host": "smtp.example.com",
                        "port": 587,
                        "auth": {
                            "username": {"secretKeyRef": {"name": "smtp-credentials", "key": "username"}},
                            "password": {"secretKeyRef": {"name": "smtp-credentials", "key": "password"}}
                        },
                        "tls": {"insecureSkipVerify": false}
                    },
                    "template": {"subject": "[{{ .severity }}] {{ .alertName }}", "body": "Alert {{ .alertName }} fired for {{ .component }}"}
                }),
            );
        } else {
            spec.insert("type".into(), json!("webhook"));
            let mut hook = json!({"url": format!("https://hooks.example.com/{name}")});
            if v % 4 == 1 {
                hook["headers"] = json!({
                    "X-Team": {"value": "platform"},
                    "Authorization": {"valueFrom": {"secretKeyRef": {"name": "webhook-token", "key": "token"}}}
                });
                hook["payloadTemplate"] = json!("{\"text\": \"{{ .alertName }}\"}");
            }
            spec.insert("webhookConfig".into(), hook);
        }
        (Value::Object(spec), json!({}))
    }

    /// Data and workflow planes, namespaced or cluster.
    fn plane(
        &self,
        kind: Kind,
        ns: usize,
        v: usize,
        name: &str,
        with_gateway: bool,
    ) -> (Value, Value) {
        let mut spec = json!({
            "planeID": format!("{name}-id"),
            "clusterAgent": {"clientCA": {"secretKeyRef": {"name": format!("{name}-agent-ca"), "namespace": "openchoreo-system", "key": "ca.crt"}}},
            "secretStoreRef": {"name": "default"}
        });
        if with_gateway {
            if let Some(g) = gateway(v + 1, &format!("{name}.example.com")) {
                spec["gateway"] = g;
            }
        }
        let obs = if kind.is_cluster() {
            match v % 2 {
                0 => self
                    .pick(Kind::ClusterObservabilityPlane, ns, v)
                    .map(|n| ("ClusterObservabilityPlane", n)),
                _ => None,
            }
        } else {
            match v % 3 {
                0 => self
                    .pick(Kind::ObservabilityPlane, ns, v)
                    .map(|n| ("ObservabilityPlane", n)),
                1 => self
                    .pick(Kind::ClusterObservabilityPlane, ns, v)
                    .map(|n| ("ClusterObservabilityPlane", n)),
                _ => None,
            }
        };
        if let Some((k, n)) = obs {
            spec["observabilityPlaneRef"] = json!({"kind": k, "name": n});
        }
        (spec, plane_status(v, kind.api_kind()))
    }

    fn pipeline(&self, ns: usize, v: usize) -> (Value, Value) {
        let n = self.len(Kind::Environment);
        let envs: Vec<String> = if n > 0 {
            (0..n)
                .map(|i| self.name(Kind::Environment, ns, i))
                .collect()
        } else {
            ["development", "staging", "production"]
                .map(String::from)
                .to_vec()
        };
        let mut spec = json!({});
        if v % 4 != 3 {
            let paths: Vec<Value> = envs
                .windows(2)
                .enumerate()
                .map(|(i, w)| {
                    // The API has both shapes in the wild: an object ref and a bare name.
                    let source = if (i + v).is_multiple_of(2) {
                        json!({"kind": "Environment", "name": w[0]})
                    } else {
                        json!(w[0])
                    };
                    let mut targets = vec![json!({"kind": "Environment", "name": w[1]})];
                    if i + 2 < envs.len() && v % 2 == 1 {
                        targets.push(json!({"name": envs[i + 2]}));
                    }
                    json!({"sourceEnvironmentRef": source, "targetEnvironmentRefs": targets})
                })
                .collect();
            spec["promotionPaths"] = json!(paths);
        }
        (
            spec,
            json!({"observedGeneration": 1, "conditions": [ready_condition(v % 3 != 2, "DeploymentPipeline")]}),
        )
    }

    fn component_type(&self, kind: Kind, ns: usize, idx: usize, v: usize) -> (Value, Value) {
        let (workflow, cluster_workflow, trait_kind, cluster_trait) = (
            Kind::Workflow,
            Kind::ClusterWorkflow,
            Kind::Trait,
            Kind::ClusterTrait,
        );
        let mut spec = Map::new();
        if let Some(wt) = self.workload_type(kind, ns, idx) {
            spec.insert("workloadType".into(), json!(wt));
        }
        let refs = |local: Kind, cluster: Kind| -> Option<Value> {
            let l = self.pick(local, ns, v);
            let c = self.pick(cluster, ns, v);
            match v % 4 {
                0 => {
                    let mut list: Vec<Value> = Vec::new();
                    if let (Some(l), false) = (&l, kind.is_cluster()) {
                        list.push(json!({"kind": local.api_kind(), "name": l}));
                    }
                    if let Some(c) = &c {
                        list.push(json!({"kind": cluster.api_kind(), "name": c}));
                    }
                    list.push(json!({"kind": cluster.api_kind()})); // an entry without a name
                    Some(json!(list))
                }
                1 => Some(
                    json!([{"name": if kind.is_cluster() { c.unwrap_or_else(|| "docker".into()) } else { l.unwrap_or_else(|| "docker".into()) }}]),
                ), // kind defaulted
                2 => Some(json!([])),
                _ => None,
            }
        };
        if let Some(w) = refs(workflow, cluster_workflow) {
            spec.insert("allowedWorkflows".into(), w);
        }
        if let Some(t) = refs(trait_kind, cluster_trait) {
            spec.insert("allowedTraits".into(), t);
        }
        spec.insert(
            "parameters".into(),
            json!({"openAPIV3Schema": component_schema(v)}),
        );
        spec.insert(
            "resources".into(),
            json!([{"id": "workload", "template": {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "${metadata.name}"}}}]),
        );
        (Value::Object(spec), json!({}))
    }

    /// A resource and its owning project (resources go round-robin over projects).
    fn resource(&self, ns: usize, idx: usize, v: usize) -> (Value, String) {
        let p = self.spec.projects_per_namespace;
        let project = if p > 0 {
            self.project_name(ns, idx % p)
        } else {
            "default".into()
        };
        let type_ref = match v % 5 {
            0 | 2 => self
                .pick(Kind::ResourceType, ns, v)
                .map(|n| json!({"kind": "ResourceType", "name": n})),
            1 | 3 => self
                .pick(Kind::ClusterResourceType, ns, v)
                .map(|n| json!({"kind": "ClusterResourceType", "name": n})),
            _ => self
                .pick(Kind::ResourceType, ns, v)
                .map(|n| json!({"name": n})), // kind defaulted
        }
        .unwrap_or_else(|| json!({"kind": "ResourceType", "name": "postgres"}));
        let mut spec = json!({"owner": {"projectName": project}, "type": type_ref});
        match v % 3 {
            0 => {
                spec["parameters"] =
                    json!({"size": "small", "version": "16", "backup": {"enabled": true}})
            }
            1 => spec["parameters"] = json!({}),
            _ => {}
        }
        (spec, project)
    }

    fn workflow(&self, kind: Kind, ns: usize, v: usize) -> (Value, Value) {
        let mut spec = json!({
            "runTemplate": {"apiVersion": "argoproj.io/v1alpha1", "kind": "Workflow", "spec": {"entrypoint": "build"}},
            "parameters": {"openAPIV3Schema": workflow_schema(v)}
        });
        let plane = match (kind.is_cluster(), v % 3) {
            (false, 0) => self
                .pick(Kind::WorkflowPlane, ns, v)
                .map(|n| ("WorkflowPlane", n)),
            (_, 1) => self
                .pick(Kind::ClusterWorkflowPlane, ns, v)
                .map(|n| ("ClusterWorkflowPlane", n)),
            (true, 0) => self
                .pick(Kind::ClusterWorkflowPlane, ns, v)
                .map(|n| ("ClusterWorkflowPlane", n)),
            _ => None,
        };
        if let Some((k, n)) = plane {
            spec["workflowPlaneRef"] = json!({"kind": k, "name": n});
        }
        if v.is_multiple_of(2) {
            spec["ttlAfterCompletion"] = json!((["1h", "30m"][v / 2 % 2]));
        }
        (spec, json!({}))
    }
}

/// Ingress variants: external http+https with internal http, external http only,
/// internal https only, or no gateway at all.
fn gateway(v: usize, host: &str) -> Option<Value> {
    let endpoint = |name: &str, http: bool, https: bool| {
        let mut e = json!({"name": name, "namespace": "openchoreo-data-plane"});
        if http {
            e["http"] = json!({"listenerName": "http", "port": 80, "host": host});
        }
        if https {
            e["https"] = json!({"listenerName": "https", "port": 443, "host": host});
        }
        e
    };
    let ingress = match v % 4 {
        0 => {
            json!({"external": endpoint("gateway-external", true, true), "internal": endpoint("gateway-internal", true, false)})
        }
        1 => json!({"external": endpoint("gateway-external", true, false)}),
        2 => json!({"internal": endpoint("gateway-internal", false, true)}),
        _ => return None,
    };
    Some(json!({"ingress": ingress}))
}

fn plane_status(v: usize, what: &str) -> Value {
    let created = if v % 4 != 3 {
        json!({"type": "Created", "status": "True", "lastTransitionTime": "2025-01-06T10:00:05Z", "reason": "Created", "message": format!("{what} is created")})
    } else {
        json!({"type": "Created", "status": "False", "lastTransitionTime": "2025-01-06T10:00:05Z", "reason": "AgentUnavailable", "message": format!("{what} is not created")})
    };
    let mut status = json!({"observedGeneration": 1, "conditions": [created]});
    match v % 3 {
        0 => {
            status["agentConnection"] = json!({"connected": true, "connectedAgents": 1 + v % 2, "lastConnectedTime": "2025-03-01T08:00:00Z", "lastHeartbeatTime": "2025-03-01T08:05:00Z"})
        }
        1 => {
            status["agentConnection"] = json!({"connected": false, "connectedAgents": 0, "lastDisconnectedTime": "2025-03-02T09:00:00Z", "message": "agent disconnected"})
        }
        _ => {}
    }
    status
}

fn observability_plane(ns: usize, v: usize, name: &str) -> (Value, Value) {
    let mut spec = json!({"planeID": format!("{name}-id")});
    if v % 3 != 2 {
        spec["observerURL"] = json!(format!(
            "http://observer.{name}.ns{ns}.svc.cluster.local:8080"
        ));
    }
    (spec, plane_status(v, "ObservabilityPlane"))
}

/// `go-service-01` -> `Go Service 01`.
fn title(name: &str) -> String {
    name.split('-')
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map_or(String::new(), |f| f.to_uppercase().chain(c).collect())
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn component_schema(v: usize) -> Value {
    let mut s = json!({
        "type": "object",
        "properties": {
            "replicas": {"type": "integer", "default": 1, "minimum": 1},
            "port": {"type": "integer", "default": 8080},
            "exposed": {"type": "boolean", "default": v.is_multiple_of(2)}
        },
        "required": ["port"]
    });
    if v % 3 == 1 {
        // Uses $defs/$ref, which the server resolves for /schema.
        s["$defs"] = json!({"Resources": {"type": "object", "properties": {"cpu": {"type": "string", "default": "100m"}, "memory": {"type": "string", "default": "256Mi"}}}});
        s["properties"]["resources"] = json!({"$ref": "#/$defs/Resources"});
    }
    s
}

fn trait_schema(v: usize) -> Value {
    json!({"type": "object", "properties": {"enabled": {"type": "boolean", "default": true}, "level": {"type": "string", "enum": ["low", "high"], "default": (["low", "high"][v % 2])}}})
}

fn resource_schema(v: usize) -> Value {
    let mut s = json!({
        "type": "object",
        "properties": {
            "size": {"type": "string", "enum": ["small", "medium", "large"], "default": "small"},
            "version": {"type": "string", "default": "16"}
        }
    });
    if v % 2 == 1 {
        s["required"] = json!(["size"]);
    }
    s
}

fn project_schema(v: usize) -> Value {
    json!({
        "type": "object",
        "properties": {
            "costCenter": {"type": "string", "title": "Cost center"},
            "tier": {"type": "string", "enum": ["bronze", "silver", "gold"], "default": (["bronze", "silver", "gold"][v % 3])}
        }
    })
}

/// Build parameters; every other schema flags its repository fields for the portal.
fn workflow_schema(v: usize) -> Value {
    let flag = |name: &str| format!("x-openchoreo-component-parameter-repository-{name}");
    let mut repo = json!({
        "type": "object",
        "properties": {
            "url": {"type": "string"},
            "revision": {"type": "object", "properties": {"branch": {"type": "string", "default": "main"}, "commit": {"type": "string"}}},
            "appPath": {"type": "string", "default": "."},
            "secretRef": {"type": "string"}
        }
    });
    if v.is_multiple_of(2) {
        repo["properties"]["url"][flag("url")] = json!(true);
        repo["properties"]["revision"]["properties"]["branch"][flag("branch")] = json!(true);
        repo["properties"]["revision"]["properties"]["commit"][flag("commit")] = json!(true);
        repo["properties"]["appPath"][flag("app-path")] = json!(true);
        if v.is_multiple_of(4) {
            repo["properties"]["secretRef"][flag("secret-ref")] = json!(true);
        }
    }
    json!({
        "type": "object",
        "properties": {
            "repository": repo,
            "docker": {"type": "object", "properties": {"context": {"type": "string", "default": "."}, "filePath": {"type": "string", "default": "./Dockerfile"}}}
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::synthetic::InstallationSpec;

    #[test]
    fn titles() {
        assert_eq!(title("go-service-01"), "Go Service 01");
    }

    #[test]
    fn every_platform_kind_has_its_kind_and_names() {
        let s = Synth::new(InstallationSpec::default());
        for kind in Kind::ALL.into_iter().filter(|k| k.is_platform()) {
            for i in 0..s.len(kind) {
                let item = s.platform_item(kind, 1, i);
                assert_eq!(item["kind"], kind.api_kind());
                assert_eq!(item["metadata"]["name"], s.name(kind, 1, i));
                assert_eq!(
                    item["metadata"].get("namespace").is_some(),
                    !kind.is_cluster()
                );
            }
        }
    }
}

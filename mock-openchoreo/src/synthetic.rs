//! The synthetic installation: names and items computed from indices on demand, so
//! 200,000 components cost no memory until a page of them is asked for.
//!
//! Naming uses zero-padded, fixed-width indices, so the lexicographic (= API) order of
//! names is the index order; that is what lets a page start anywhere by binary search.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;

use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use crate::kind::Kind;
use crate::prng::hash;

pub const API_VERSION: &str = "openchoreo.dev/v1alpha1";

/// Shape of a generated installation. Over HTTP its fields are camelCase.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct InstallationSpec {
    pub namespaces: usize,
    pub projects_per_namespace: usize,
    pub components_per_project: usize,
    pub endpoints_per_workload: usize,
    /// Share (0..=1) of endpoints that carry `schema.content`, spread evenly.
    pub schema_share: f64,
    /// Endpoint dependencies per workload, on other components of the same namespace.
    pub dependencies_per_component: usize,
    pub seed: u64,
    /// Synthetic items of each platform kind (every kind but projects, components and
    /// workloads): per namespace for namespaced kinds, in all for cluster kinds. A kind
    /// missing from the map has none. Cluster items exist only when `namespaces > 0`,
    /// so `namespaces: 0` is an empty installation. JSON keys are plurals.
    pub kinds: BTreeMap<Kind, usize>,
    /// Kinds answered 404 (list, items, schema), as an older OpenChoreo without them.
    pub unserved_kinds: BTreeSet<Kind>,
}

/// The default count of every platform kind (`KindInfo::default_count`).
pub fn default_kind_counts() -> BTreeMap<Kind, usize> {
    Kind::ALL
        .into_iter()
        .filter(|k| k.is_platform())
        .map(|k| (k, k.info().default_count))
        .collect()
}

impl Default for InstallationSpec {
    /// A demo-sized installation: 3 namespaces x 10 projects x 20 components.
    fn default() -> Self {
        InstallationSpec {
            namespaces: 3,
            projects_per_namespace: 10,
            components_per_project: 20,
            endpoints_per_workload: 2,
            schema_share: 0.5,
            dependencies_per_component: 1,
            seed: 1,
            kinds: default_kind_counts(),
            unserved_kinds: BTreeSet::new(),
        }
    }
}

impl InstallationSpec {
    /// 2 namespaces x 3 projects x 4 components, 2 endpoints each, half with schemas.
    pub fn small() -> Self {
        InstallationSpec {
            namespaces: 2,
            projects_per_namespace: 3,
            components_per_project: 4,
            endpoints_per_workload: 2,
            schema_share: 0.5,
            dependencies_per_component: 1,
            seed: 1,
            kinds: default_kind_counts(),
            unserved_kinds: BTreeSet::new(),
        }
    }

    /// An installation with no namespaces at all (fill it through edits).
    pub fn empty() -> Self {
        InstallationSpec {
            namespaces: 0,
            ..Self::small()
        }
    }

    pub fn components_per_namespace(&self) -> usize {
        self.projects_per_namespace * self.components_per_project
    }

    pub fn total_components(&self) -> usize {
        self.namespaces * self.components_per_namespace()
    }

    pub fn validate(&self) -> Result<(), String> {
        if !(0.0..=1.0).contains(&self.schema_share) {
            return Err("schemaShare must be within 0..1".into());
        }
        if self.total_components() > 10_000_000 || self.namespaces > 100_000 {
            return Err(
                "installation too large (max 10,000,000 components, 100,000 namespaces)".into(),
            );
        }
        if self.endpoints_per_workload > 50 || self.dependencies_per_component > 50 {
            return Err("at most 50 endpoints and 50 dependencies per workload".into());
        }
        for (kind, &n) in &self.kinds {
            if !kind.is_platform() {
                return Err(format!(
                    "kinds.{}: set through projectsPerNamespace / componentsPerProject",
                    kind.plural()
                ));
            }
            if n > 100_000 {
                return Err(format!("kinds.{}: at most 100,000", kind.plural()));
            }
        }
        let synth = Synth::new(self.clone());
        if self.total_components() > 0 {
            let longest =
                synth.workload_name(self.namespaces - 1, self.components_per_namespace() - 1);
            if longest.len() > 63 {
                return Err(format!(
                    "generated names would exceed 63 characters: {longest}"
                ));
            }
        }
        Ok(())
    }
}

/// Number of decimal digits needed for indices below `n` (at least `min`).
fn width(n: usize, min: usize) -> usize {
    n.saturating_sub(1).to_string().len().max(min)
}

// Hash salts, one per decision, so decisions are independent of each other.
const S_UID: u64 = 1;
const S_TIME: u64 = 2;
const S_DISPLAY: u64 = 3;
const S_DESC: u64 = 4;
const S_TYPE: u64 = 5;
const S_READY: u64 = 6;
const S_AUTODEPLOY: u64 = 7;
const S_EP_TYPE: u64 = 8;
const S_EP_VIS: u64 = 9;
const S_SCHEMA_FMT: u64 = 10;
const S_DEP_BASE: u64 = 11;
const S_DEP_EP: u64 = 12;
const S_DEP_PROJECT: u64 = 13;
const S_RESOURCE: u64 = 14;
const S_OWNER: u64 = 15;
const S_PROJ_TYPE: u64 = 16;
const S_NS_ITEM: u64 = 17;

const COMPONENT_TYPES: [(&str, &str); 7] = [
    ("ComponentType", "deployment/go-service"),
    ("ComponentType", "deployment/nodejs-service"),
    ("ClusterComponentType", "deployment/web-app"),
    ("ComponentType", "deployment/python-service"),
    ("ClusterComponentType", "statefulset/redis-cache"),
    ("ComponentType", "cronjob/report-generator"),
    ("ComponentType", "proxy/api-proxy"),
];

#[derive(Clone, Copy, Debug, PartialEq)]
enum EpType {
    Http,
    Grpc,
    GraphQl,
    Websocket,
    Tcp,
}

impl EpType {
    fn pick(h: u64) -> EpType {
        // HTTP dominates, as in real installations.
        match h % 8 {
            0..=3 => EpType::Http,
            4 => EpType::Grpc,
            5 => EpType::GraphQl,
            6 => EpType::Websocket,
            _ => EpType::Tcp,
        }
    }
    fn api_name(self) -> &'static str {
        match self {
            EpType::Http => "HTTP",
            EpType::Grpc => "gRPC",
            EpType::GraphQl => "GraphQL",
            EpType::Websocket => "Websocket",
            EpType::Tcp => "TCP",
        }
    }
    fn slug(self) -> &'static str {
        match self {
            EpType::Http => "http",
            EpType::Grpc => "grpc",
            EpType::GraphQl => "graphql",
            EpType::Websocket => "ws",
            EpType::Tcp => "tcp",
        }
    }
    fn port(self) -> u64 {
        match self {
            EpType::Http => 8080,
            EpType::Grpc => 9090,
            EpType::GraphQl => 4000,
            EpType::Websocket => 8081,
            EpType::Tcp => 5000,
        }
    }
}

/// Generator for one [`InstallationSpec`]; cheap to build, holds no items.
#[derive(Clone, Debug)]
pub(crate) struct Synth {
    pub spec: InstallationSpec,
    /// Where the custom templates that some (cluster) component types name live.
    pub template_url_base: String,
    ns_w: usize,
    proj_w: usize,
    comp_w: usize,
}

impl Synth {
    pub fn new(spec: InstallationSpec) -> Synth {
        Synth {
            ns_w: width(spec.namespaces, 3),
            proj_w: width(spec.projects_per_namespace, 2),
            comp_w: width(spec.components_per_project, 3),
            spec,
            template_url_base: crate::platform::EXAMPLE_TEMPLATE_URL_BASE.to_owned(),
        }
    }

    pub(crate) fn h(&self, ns: usize, idx: usize, salt: u64) -> u64 {
        hash(&[self.spec.seed, ns as u64, idx as u64, salt])
    }

    // ---- names ----

    pub fn namespace_name(&self, ns: usize) -> String {
        format!("ns-{:0w$}", ns, w = self.ns_w)
    }

    pub fn project_name(&self, ns: usize, p: usize) -> String {
        format!(
            "{}-proj-{:0w$}",
            self.namespace_name(ns),
            p,
            w = self.proj_w
        )
    }

    /// `c` is the component's index within its namespace (project-major).
    pub fn component_name(&self, ns: usize, c: usize) -> String {
        let per = self.spec.components_per_project;
        format!(
            "{}-comp-{:0w$}",
            self.project_name(ns, c / per),
            c % per,
            w = self.comp_w
        )
    }

    pub fn workload_name(&self, ns: usize, c: usize) -> String {
        format!("{}-workload", self.component_name(ns, c))
    }

    /// Number of synthetic items of `kind` in a synthetic namespace.
    /// (For cluster kinds: in the installation, when it has namespaces.)
    pub fn len(&self, kind: Kind) -> usize {
        match kind {
            Kind::Project => self.spec.projects_per_namespace,
            Kind::Component | Kind::Workload => self.spec.components_per_namespace(),
            _ if kind.is_cluster() && self.spec.namespaces == 0 => 0,
            _ => self.spec.kinds.get(&kind).copied().unwrap_or(0),
        }
    }

    /// `ns` is ignored for cluster kinds.
    pub fn name(&self, kind: Kind, ns: usize, idx: usize) -> String {
        match kind {
            Kind::Project => self.project_name(ns, idx),
            Kind::Component => self.component_name(ns, idx),
            Kind::Workload => self.workload_name(ns, idx),
            _ => format!(
                "{}-{:0w$}",
                kind.info().stem,
                idx,
                w = width(self.len(kind), 2)
            ),
        }
    }

    /// First index in `range` whose name sorts after `after` (O(log n) name builds).
    pub fn first_after(&self, kind: Kind, ns: usize, after: &str, range: Range<usize>) -> usize {
        let (mut lo, mut hi) = (range.start, range.end);
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            if self.name(kind, ns, mid).as_str() <= after {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        lo
    }

    /// Index of a synthetic item by exact name.
    pub fn index_of(&self, kind: Kind, ns: usize, name: &str) -> Option<usize> {
        let len = self.len(kind);
        let i = self.first_after(kind, ns, name, 0..len);
        (i > 0 && self.name(kind, ns, i - 1) == name).then(|| i - 1)
    }

    // ---- endpoints (shared by workload items, dependencies and counts) ----

    fn endpoint_type(&self, ns: usize, c: usize, e: usize) -> EpType {
        EpType::pick(self.h(ns, c * 64 + e, S_EP_TYPE))
    }

    fn endpoint_name(&self, ns: usize, c: usize, e: usize) -> String {
        format!("{}-{}", self.endpoint_type(ns, c, e).slug(), e)
    }

    /// Endpoints of one namespace.
    fn endpoints_per_namespace(&self) -> u64 {
        (self.spec.components_per_namespace() * self.spec.endpoints_per_workload) as u64
    }

    /// Global ordinal of an endpoint: namespace blocks are contiguous (so per-namespace
    /// counts are O(1)); inside a block a keyed permutation scatters the endpoints so
    /// which ones carry schemas follows no pattern.
    fn endpoint_ordinal(&self, ns: usize, c: usize, e: usize) -> u64 {
        let m = self.endpoints_per_namespace();
        let local = (c * self.spec.endpoints_per_workload + e) as u64;
        ns as u64 * m + permute(local, m, self.spec.seed)
    }

    /// floor(g * share): endpoint g has a schema iff this steps at g, which spreads
    /// schemas evenly and makes counts over any ordinal range exact.
    fn schema_floor(&self, g: u64) -> u64 {
        (g as f64 * self.spec.schema_share).floor() as u64
    }

    fn has_schema(&self, ns: usize, c: usize, e: usize) -> bool {
        let g = self.endpoint_ordinal(ns, c, e);
        self.schema_floor(g + 1) > self.schema_floor(g)
    }

    /// Endpoints with `schema.content` in synthetic namespace `ns` (O(1)).
    pub fn namespace_schema_count(&self, ns: usize) -> usize {
        let m = self.endpoints_per_namespace();
        (self.schema_floor((ns as u64 + 1) * m) - self.schema_floor(ns as u64 * m)) as usize
    }

    /// Endpoints with `schema.content` in one synthetic workload.
    pub fn workload_schema_count(&self, ns: usize, c: usize) -> usize {
        (0..self.spec.endpoints_per_workload)
            .filter(|&e| self.has_schema(ns, c, e))
            .count()
    }

    // ---- items ----

    pub(crate) fn metadata(
        &self,
        name: &str,
        namespace: Option<&str>,
        ns: usize,
        idx: usize,
        salt: u64,
    ) -> Map<String, Value> {
        let mut m = Map::new();
        m.insert("name".into(), json!(name));
        if let Some(n) = namespace {
            m.insert("namespace".into(), json!(n));
        }
        m.insert("uid".into(), json!(uid(self.h(ns, idx, salt ^ S_UID << 8))));
        m.insert("labels".into(), json!({}));
        m.insert("annotations".into(), json!({}));
        // Spread creation times over 2025 so "created-at" annotations vary.
        let offset = self.h(ns, idx, salt ^ S_TIME << 8) % (300 * 86_400);
        m.insert(
            "creationTimestamp".into(),
            json!(rfc3339(1_735_689_600 + offset)),
        );
        m
    }

    pub(crate) fn annotate(
        &self,
        meta: &mut Map<String, Value>,
        ns: usize,
        idx: usize,
        salt: u64,
        display: String,
        desc: String,
    ) {
        let ann = meta["annotations"]
            .as_object_mut()
            .expect("annotations map");
        // Two thirds carry a display name, half a description: both absent is a case to handle.
        if !self.h(ns, idx, salt ^ S_DISPLAY << 8).is_multiple_of(3) {
            ann.insert("openchoreo.dev/display-name".into(), json!(display));
        }
        if self.h(ns, idx, salt ^ S_DESC << 8).is_multiple_of(2) {
            ann.insert("openchoreo.dev/description".into(), json!(desc));
        }
    }

    pub fn namespace_item(&self, ns: usize) -> Value {
        let name = self.namespace_name(ns);
        let meta = self.metadata(&name, None, ns, 0, 100);
        decorate_namespace(&name, meta, self.h(ns, 0, S_NS_ITEM))
    }

    pub fn item(&self, kind: Kind, ns: usize, idx: usize) -> Value {
        match kind {
            Kind::Project => self.project_item(ns, idx),
            Kind::Component => self.component_item(ns, idx),
            Kind::Workload => self.workload_item(ns, idx),
            _ => self.platform_item(kind, ns, idx),
        }
    }

    fn project_item(&self, ns: usize, p: usize) -> Value {
        let namespace = self.namespace_name(ns);
        let name = self.project_name(ns, p);
        let mut meta = self.metadata(&name, Some(&namespace), ns, p, 200);
        self.annotate(
            &mut meta,
            ns,
            p,
            200,
            format!("Project {p} ({namespace})"),
            format!("Synthetic project {p} of namespace {namespace}"),
        );
        if self.h(ns, p, S_OWNER) % 4 == 1 {
            meta["annotations"]["backstage.io/owner"] =
                json!(format!("team-{}", ["alpha", "beta", "gamma"][p % 3]));
        }
        let (type_kind, type_name) = self.project_type_ref(ns, p);
        let pipeline = self
            .pick(Kind::DeploymentPipeline, ns, p)
            .unwrap_or_else(|| "default".into());
        json!({
            "apiVersion": API_VERSION,
            "kind": "Project",
            "metadata": meta,
            "spec": {
                "deploymentPipelineRef": {"kind": "DeploymentPipeline", "name": pipeline},
                "type": {"kind": type_kind, "name": type_name}
            },
            "status": {
                "observedGeneration": 1,
                "conditions": [ready_condition(true, "Project")]
            }
        })
    }

    /// The name of the `j`-th (modulo) synthetic item of a kind, if it has any.
    pub(crate) fn pick(&self, kind: Kind, ns: usize, j: usize) -> Option<String> {
        let n = self.len(kind);
        (n > 0).then(|| self.name(kind, ns, j % n))
    }

    /// A project's type: alternately a namespaced and a cluster project type, when they exist.
    fn project_type_ref(&self, ns: usize, p: usize) -> (&'static str, String) {
        let h = self.h(ns, p, S_PROJ_TYPE);
        let local = self.pick(Kind::ProjectType, ns, p);
        let cluster = self.pick(Kind::ClusterProjectType, ns, p);
        match (h % 3, local, cluster) {
            (0, Some(l), _) | (_, Some(l), None) => ("ProjectType", l),
            (_, _, Some(c)) => ("ClusterProjectType", c),
            (0, None, None) => ("ProjectType", "web-app".into()),
            _ => ("ClusterProjectType", "default".into()),
        }
    }

    /// A component's type, `<workloadType>/<type name>`, among the installation's
    /// (cluster) component types, or a fixed list when there are none.
    fn component_type_ref(&self, ns: usize, h: u64) -> (&'static str, String) {
        let local = self.len(Kind::ComponentType);
        let cluster = self.len(Kind::ClusterComponentType);
        if local + cluster == 0 {
            let (k, n) = COMPONENT_TYPES[(h % COMPONENT_TYPES.len() as u64) as usize];
            return (k, n.to_owned());
        }
        let j = (h % (local + cluster) as u64) as usize;
        let (kind, idx) = if j < local {
            (Kind::ComponentType, j)
        } else {
            (Kind::ClusterComponentType, j - local)
        };
        let workload = self.workload_type(kind, ns, idx).unwrap_or("deployment");
        (
            kind.api_kind(),
            format!("{workload}/{}", self.name(kind, ns, idx)),
        )
    }

    fn component_item(&self, ns: usize, c: usize) -> Value {
        let namespace = self.namespace_name(ns);
        let project = self.project_name(ns, c / self.spec.components_per_project);
        let name = self.component_name(ns, c);
        let mut meta = self.metadata(&name, Some(&namespace), ns, c, 300);
        let k = c % self.spec.components_per_project;
        self.annotate(
            &mut meta,
            ns,
            c,
            300,
            format!("Component {k} of {project}"),
            format!(
                "Synthetic {} component",
                COMPONENT_TYPES[k % COMPONENT_TYPES.len()].1
            ),
        );
        meta["labels"]["openchoreo.dev/project"] = json!(project);
        let (type_kind, type_name) = self.component_type_ref(ns, self.h(ns, c, S_TYPE));
        let ready = self.h(ns, c, S_READY) % 100 < 85;
        let release_hash = format!("{:016x}", self.h(ns, c, 301));
        json!({
            "apiVersion": API_VERSION,
            "kind": "Component",
            "metadata": meta,
            "spec": {
                "owner": {"projectName": project},
                "componentType": {"kind": type_kind, "name": type_name},
                "autoDeploy": self.h(ns, c, S_AUTODEPLOY).is_multiple_of(2)
            },
            "status": {
                "observedGeneration": 1,
                "conditions": [ready_condition(ready, "Component")],
                "latestRelease": {"name": format!("{name}-{}", &release_hash[..8]), "releaseHash": format!("sha256:{release_hash}")}
            }
        })
    }

    fn workload_item(&self, ns: usize, c: usize) -> Value {
        let namespace = self.namespace_name(ns);
        let per = self.spec.components_per_project;
        let project = self.project_name(ns, c / per);
        let component = self.component_name(ns, c);
        let name = self.workload_name(ns, c);
        let mut meta = self.metadata(&name, Some(&namespace), ns, c, 400);
        meta["labels"]["openchoreo.dev/project"] = json!(project);
        meta["labels"]["openchoreo.dev/component"] = json!(component);

        let mut endpoints = Map::new();
        for e in 0..self.spec.endpoints_per_workload {
            endpoints.insert(
                self.endpoint_name(ns, c, e),
                self.endpoint(ns, c, e, &component),
            );
        }

        let mut resources = Vec::new();
        if self.h(ns, c, S_RESOURCE).is_multiple_of(4) {
            resources.push(json!({"ref": format!("{project}-db"), "envBindings": {"host": "DB_HOST", "port": "DB_PORT"}}));
        }

        json!({
            "apiVersion": API_VERSION,
            "kind": "Workload",
            "metadata": meta,
            "spec": {
                "owner": {"projectName": project, "componentName": component},
                "container": {"image": format!("registry.example.com/{namespace}/{component}:v1.{}.0", c % 10)},
                "endpoints": endpoints,
                "dependencies": {"endpoints": self.dependencies(ns, c), "resources": resources}
            },
            "status": {}
        })
    }

    fn endpoint(&self, ns: usize, c: usize, e: usize, component: &str) -> Value {
        let ty = self.endpoint_type(ns, c, e);
        let visibility: Vec<&str> = match self.h(ns, c * 64 + e, S_EP_VIS) % 5 {
            0 => vec![],
            1 => vec!["external"],
            2 => vec!["namespace"],
            3 => vec!["namespace", "external"],
            _ => vec!["internal"],
        };
        let mut ep =
            json!({"type": ty.api_name(), "port": ty.port() + e as u64, "visibility": visibility});
        match ty {
            EpType::Http => ep["basePath"] = json!(format!("/{}/v1", short(component))),
            EpType::GraphQl => ep["basePath"] = json!("/graphql"),
            EpType::Websocket => ep["basePath"] = json!("/events"),
            _ => {}
        }
        let fmt = self.h(ns, c * 64 + e, S_SCHEMA_FMT);
        let ep_name = self.endpoint_name(ns, c, e);
        if self.has_schema(ns, c, e) {
            ep["schema"] = schema(ty, fmt, component, &ep_name);
        } else if fmt.is_multiple_of(3) {
            // A schema type without content: must not become an API entity.
            ep["schema"] = json!({"type": "OpenAPI"});
        }
        ep
    }

    /// Connections to endpoints of other components in the same namespace.
    fn dependencies(&self, ns: usize, c: usize) -> Vec<Value> {
        let n = self.spec.components_per_namespace();
        let e_count = self.spec.endpoints_per_workload;
        if n < 2 || e_count == 0 {
            return Vec::new();
        }
        let per = self.spec.components_per_project;
        let d_count = self.spec.dependencies_per_component.min(n - 1);
        let base = self.h(ns, c, S_DEP_BASE) % (n as u64 - 1);
        (0..d_count)
            .map(|d| {
                // Distinct offsets in 1..n, so never the component itself and never twice.
                let t = (c + 1 + ((base + d as u64) % (n as u64 - 1)) as usize) % n;
                let e = (self.h(ns, c * 64 + d, S_DEP_EP) % e_count as u64) as usize;
                let same_project = t / per == c / per;
                let mut conn = json!({
                    "component": self.component_name(ns, t),
                    "name": self.endpoint_name(ns, t, e),
                    "visibility": if same_project { "project" } else { "namespace" },
                    "envBindings": {"address": format!("DEP_{d}_URL")}
                });
                // `project` may be omitted for the consumer's own project; sometimes it is explicit.
                if !same_project || self.h(ns, c * 64 + d, S_DEP_PROJECT).is_multiple_of(3) {
                    conn["project"] = json!(self.project_name(ns, t / per));
                }
                conn
            })
            .collect()
    }
}

fn decorate_namespace(name: &str, mut meta: Map<String, Value>, h: u64) -> Value {
    meta["labels"]["openchoreo.dev/control-plane"] = json!("true");
    meta["labels"]["kubernetes.io/metadata.name"] = json!(name);
    if !h.is_multiple_of(3) {
        meta["annotations"]["openchoreo.dev/display-name"] = json!(format!("Namespace {name}"));
    }
    if h.is_multiple_of(2) {
        meta["annotations"]["openchoreo.dev/description"] =
            json!(format!("Synthetic tenant namespace {name}"));
    }
    json!({"metadata": meta, "status": {"phase": "Active"}})
}

/// The item for a namespace added through an edit without a body: created "now".
pub(crate) fn default_namespace_item(name: &str) -> Value {
    let h = crate::prng::hash_str(name);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let meta = json!({"name": name, "uid": uid(h), "labels": {}, "annotations": {}, "creationTimestamp": rfc3339(now)});
    let Value::Object(meta) = meta else {
        unreachable!()
    };
    decorate_namespace(name, meta, h)
}

pub(crate) fn ready_condition(ready: bool, what: &str) -> Value {
    if ready {
        json!({"type": "Ready", "status": "True", "lastTransitionTime": "2025-01-06T10:00:05Z", "reason": "Reconciled", "message": format!("{what} is ready")})
    } else {
        json!({"type": "Ready", "status": "False", "lastTransitionTime": "2025-01-06T10:00:05Z", "reason": "ReconcileFailed", "message": format!("{what} is not ready")})
    }
}

/// Last two name segments, e.g. `comp-007`: a readable base path.
fn short(component: &str) -> String {
    let parts: Vec<&str> = component.rsplitn(3, '-').collect();
    format!("{}-{}", parts.get(1).unwrap_or(&""), parts[0])
}

fn schema(ty: EpType, fmt: u64, component: &str, endpoint: &str) -> Value {
    let title = format!("{component} {endpoint} API");
    match ty {
        EpType::Http => {
            let content = if fmt.is_multiple_of(2) {
                json!({
                    "openapi": "3.0.3",
                    "info": {"title": title, "version": "1.0.0"},
                    "paths": {"/items": {"get": {"summary": "List items", "responses": {"200": {"description": "OK"}}}},
                              "/items/{id}": {"get": {"summary": "Get an item", "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "string"}}], "responses": {"200": {"description": "OK"}, "404": {"description": "Not found"}}}}}
                })
                .to_string()
            } else {
                format!(
                    "openapi: 3.0.3\ninfo:\n  title: {title}\n  version: 1.0.0\npaths:\n  /items:\n    get:\n      summary: List items\n      responses:\n        '200':\n          description: OK\n"
                )
            };
            // A quarter omit the type: consumers must default it to OpenAPI.
            if fmt % 4 == 1 {
                json!({"content": content})
            } else {
                json!({"type": "OpenAPI", "content": content})
            }
        }
        EpType::Grpc => json!({"type": "gRPC", "content": format!(
            "syntax = \"proto3\";\npackage {};\nservice Items {{\n  rpc GetItem (GetItemRequest) returns (Item);\n}}\nmessage GetItemRequest {{ string id = 1; }}\nmessage Item {{ string id = 1; string name = 2; }}\n",
            component.replace('-', "_"))}),
        EpType::GraphQl => {
            json!({"type": "GraphQL", "content": "type Query {\n  items: [Item!]!\n  item(id: ID!): Item\n}\ntype Item {\n  id: ID!\n  name: String!\n}\n"})
        }
        EpType::Websocket | EpType::Tcp => json!({"type": "AsyncAPI", "content": format!(
            "asyncapi: 2.6.0\ninfo:\n  title: {title}\n  version: 1.0.0\nchannels:\n  items:\n    subscribe:\n      message:\n        payload:\n          type: object\n")}),
    }
}

/// A keyed bijection on `0..m`: a 4-round Feistel network over the smallest even
/// bit width covering `m`, cycle-walking until the value falls inside the range.
fn permute(x: u64, m: u64, key: u64) -> u64 {
    let bits = (64 - m.saturating_sub(1).leading_zeros()).max(2);
    let half = bits.div_ceil(2);
    let mask = (1u64 << half) - 1;
    let mut v = x;
    loop {
        let (mut l, mut r) = (v >> half, v & mask);
        for round in 0..4u64 {
            let f = crate::prng::mix(r ^ key.rotate_left(17) ^ round) & mask;
            (l, r) = (r, l ^ f);
        }
        v = (l << half) | r;
        if v < m {
            return v;
        }
    }
}

/// A UUID-shaped string from a hash.
pub(crate) fn uid(h: u64) -> String {
    let l = crate::prng::mix(h);
    format!(
        "{:08x}-{:04x}-4{:03x}-a{:03x}-{:012x}",
        h >> 32,
        (h >> 16) & 0xffff,
        h & 0xfff,
        l >> 52,
        l & 0xffff_ffff_ffff
    )
}

/// Seconds since the epoch as `YYYY-MM-DDTHH:MM:SSZ` (civil-from-days, no chrono).
pub(crate) fn rfc3339(secs: u64) -> String {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_sort_like_indices() {
        let s = Synth::new(InstallationSpec {
            projects_per_namespace: 12,
            components_per_project: 150,
            ..InstallationSpec::small()
        });
        let names: Vec<String> = (0..s.len(Kind::Workload))
            .map(|i| s.workload_name(1, i))
            .collect();
        assert!(names.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(s.index_of(Kind::Workload, 1, &names[777]), Some(777));
        assert_eq!(s.index_of(Kind::Component, 1, "ns-001-proj-03"), None);
        assert_eq!(s.component_name(0, 151), "ns-000-proj-01-comp-001");
    }

    #[test]
    fn schema_counts_are_exact_and_scattered() {
        for (share, seed) in [(0.37, 42), (0.5, 1), (1.0, 3), (0.0, 4)] {
            let s = Synth::new(InstallationSpec {
                schema_share: share,
                seed,
                ..InstallationSpec::default()
            });
            let n = s.spec.components_per_namespace();
            for ns in 0..s.spec.namespaces {
                let per_workload: Vec<usize> =
                    (0..n).map(|c| s.workload_schema_count(ns, c)).collect();
                assert_eq!(
                    per_workload.iter().sum::<usize>(),
                    s.namespace_schema_count(ns)
                );
                assert!(
                    s.namespace_schema_count(ns)
                        .abs_diff((n as f64 * 2.0 * share) as usize)
                        <= 1
                );
                if share == 0.5 {
                    // Some workloads have no API, some two.
                    assert!(per_workload.contains(&0) && per_workload.contains(&2));
                }
            }
        }
    }

    #[test]
    fn permute_is_a_bijection() {
        for m in [1u64, 2, 3, 10, 400, 1000, 4097] {
            let mut seen: Vec<u64> = (0..m).map(|x| permute(x, m, 9)).collect();
            seen.sort_unstable();
            assert_eq!(seen, (0..m).collect::<Vec<_>>());
        }
    }

    #[test]
    fn timestamps_format() {
        assert_eq!(rfc3339(1_735_689_600), "2025-01-01T00:00:00Z");
        assert_eq!(rfc3339(1_709_210_096), "2024-02-29T12:34:56Z");
    }
}
